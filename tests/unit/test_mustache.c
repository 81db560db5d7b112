/* test_mustache.c — the official Mustache spec suites plus ShoEase's own
 * cases for src/template/mustache.c.
 *
 * The spec JSON (MIT, with its LICENSE) is vendored in tests/unit/mustache-spec/;
 * a missing file is a test failure, never a skip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "template/mustache.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must be defined (the repository root)"
#endif
#define SPEC_DIR SOURCE_ROOT "/tests/unit/mustache-spec/"

/* ------------------------------------------------------------- spec runner */

/* Make bytes readable in a failure report: "a\n" -> "a\\n". */
static const char *show(buf *b, const char *s, size_t n)
{
    buf_reset(b);
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        default:
            if (c < 0x20)
                buf_printf(b, "\\x%02x", c);
            else
                buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
    return buf_cstr(b);
}

static void run_spec_file(const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, SPEC_DIR "%s", file);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fail_msg("cannot load Mustache spec file %s: %s (the spec folder must exist; this test never skips)", path,
                 jerr.text);
        return;
    }
    json_t *tests = json_object_get(root, "tests");
    if (!json_is_array(tests) || json_array_size(tests) == 0) {
        json_decref(root);
        fail_msg("%s: no \"tests\" array", path);
        return;
    }

    size_t ncases = json_array_size(tests), failures = 0;
    buf s1 = BUF_INIT, s2 = BUF_INIT, s3 = BUF_INIT;
    for (size_t i = 0; i < ncases; i++) {
        json_t *tc = json_array_get(tests, i);
        const char *name = json_string_value(json_object_get(tc, "name"));
        json_t *jtpl = json_object_get(tc, "template");
        json_t *jexp = json_object_get(tc, "expected");
        json_t *data = json_object_get(tc, "data");
        json_t *partials = json_object_get(tc, "partials");
        char err[256] = "";
        buf out = BUF_INIT;
        bool ok = false;

        mst_env *env = mst_env_new();
        assert_non_null(env);
        const char *pname;
        json_t *psrc;
        bool partials_ok = true;
        json_object_foreach(partials, pname, psrc) {
            if (mst_env_add(env, pname, json_string_value(psrc), json_string_length(psrc), err, sizeof err) != 0) {
                partials_ok = false;
                break;
            }
        }
        mst_template *t = NULL;
        if (partials_ok) t = mst_compile(json_string_value(jtpl), json_string_length(jtpl), err, sizeof err);
        if (t && mst_render_template(env, t, data, &out, err, sizeof err) == 0) {
            ok = out.len == json_string_length(jexp) && memcmp(buf_cstr(&out), json_string_value(jexp), out.len) == 0;
            if (!ok) snprintf(err, sizeof err, "output differs");
        }
        if (!ok) {
            failures++;
            print_message("FAIL %s / %s: %s\n  template: %s\n  expected: %s\n  actual:   %s\n", file, name, err,
                          show(&s1, json_string_value(jtpl), json_string_length(jtpl)),
                          show(&s2, json_string_value(jexp), json_string_length(jexp)),
                          show(&s3, buf_cstr(&out), out.len));
        }
        buf_free(&out);
        mst_free(t);
        mst_env_free(env);
    }
    buf_free(&s1);
    buf_free(&s2);
    buf_free(&s3);
    print_message("%s: %zu/%zu passed\n", file, ncases - failures, ncases);
    json_decref(root);
    if (failures) fail_msg("%s: %zu of %zu spec cases failed", file, failures, ncases);
}

static void spec_interpolation(void **state) { (void)state; run_spec_file("interpolation.json"); }
static void spec_sections(void **state) { (void)state; run_spec_file("sections.json"); }
static void spec_inverted(void **state) { (void)state; run_spec_file("inverted.json"); }
static void spec_comments(void **state) { (void)state; run_spec_file("comments.json"); }
static void spec_partials(void **state) { (void)state; run_spec_file("partials.json"); }
static void spec_delimiters(void **state) { (void)state; run_spec_file("delimiters.json"); }
static void spec_inheritance(void **state) { (void)state; run_spec_file("~inheritance.json"); }
static void spec_dynamic_names(void **state) { (void)state; run_spec_file("~dynamic-names.json"); }

/* ---------------------------------------------------------------- helpers */

/* Compile src, render with JSON data, compare. */
static void check(const char *src, const char *json, const char *expected)
{
    char err[256] = "";
    json_error_t jerr;
    json_t *data = json_loads(json, 0, &jerr);
    if (!data) fail_msg("bad test JSON %s: %s", json, jerr.text);
    mst_template *t = mst_compile(src, strlen(src), err, sizeof err);
    if (!t) fail_msg("compile %s: %s", src, err);
    buf out = BUF_INIT;
    assert_int_equal(mst_render_template(NULL, t, data, &out, err, sizeof err), 0);
    assert_string_equal(buf_cstr(&out), expected);
    buf_free(&out);
    mst_free(t);
    json_decref(data);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    rmdir(path);
}

/* A temp template dir with a layout, a page using it and a partial. */
typedef struct tmpl_dir {
    char path[64];
} tmpl_dir;

static void make_site(tmpl_dir *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/test_mustache_XXXXXX");
    assert_non_null(mkdtemp(d->path));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/partials", d->path);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(d->path, "layout.mustache",
               "<html>\n"
               "<head><title>{{$title}}ShoeEase{{/title}}</title></head>\n"
               "<body>\n"
               "  {{$content}}\n"
               "  <p>nothing here</p>\n"
               "  {{/content}}\n"
               "</body>\n"
               "</html>\n");
    write_file(d->path, "page.mustache",
               "{{<layout}}\n"
               "{{$title}}{{name}} | ShoeEase{{/title}}\n"
               "{{$content}}\n"
               "<h1>{{name}}</h1>\n"
               "{{#sizes}}\n"
               "{{>partials/card}}\n"
               "{{/sizes}}\n"
               "{{/content}}\n"
               "{{/layout}}\n");
    write_file(d->path, "partials/card.mustache", "<div class=\"card\">\n  EU {{.}}\n</div>\n");
}

static void remove_site(tmpl_dir *d)
{
    remove_file(d->path, "partials/card.mustache");
    remove_file(d->path, "partials");
    remove_file(d->path, "layout.mustache");
    remove_file(d->path, "page.mustache");
    remove_file(d->path, "broken.mustache");
    rmdir(d->path);
}

static const char *const page_json = "{\"name\": \"Runner <X>\", \"sizes\": [42, 43.5]}";
static const char *const page_html = "<html>\n"
                                      "<head><title>Runner &lt;X&gt; | ShoeEase</title></head>\n"
                                      "<body>\n"
                                      "  <h1>Runner &lt;X&gt;</h1>\n"
                                      "  <div class=\"card\">\n"
                                      "    EU 42\n"
                                      "  </div>\n"
                                      "  <div class=\"card\">\n"
                                      "    EU 43.5\n"
                                      "  </div>\n"
                                      "</body>\n"
                                      "</html>\n";

/* ------------------------------------------------------------- own tests */

static void html_escaping(void **state)
{
    (void)state;
    check("<p>{{x}}</p>", "{\"x\": \"<script>alert('hi') && \\\"x\\\"</script>\"}",
          "<p>&lt;script&gt;alert(&#39;hi&#39;) &amp;&amp; &quot;x&quot;&lt;/script&gt;</p>");
    check("{{{x}}}|{{& x}}", "{\"x\": \"<b>\"}", "<b>|<b>");
    check("{{#list}}{{.}}{{/list}}", "{\"list\": [\"<i>\"]}", "&lt;i&gt;");
}

static void values_and_truthiness(void **state)
{
    (void)state;
    check("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} [{{g}}]",
          "{\"a\": 1.0, \"b\": 1.5, \"c\": 85, \"d\": -0.1, \"e\": true, \"f\": 1e300, \"g\": {\"k\": 1}}",
          "1 1.5 85 -0.1 true 1e+300 []");
    check("{{#s}}yes{{/s}}{{^s}}no{{/s}}", "{\"s\": \"\"}", "no");
    check("{{#n}}yes{{/n}}{{^n}}no{{/n}}", "{\"n\": 0}", "yes");
    check("{{#o}}yes{{/o}}", "{\"o\": {}}", "yes");
    check("{{#l}}yes{{/l}}{{^l}}no{{/l}}", "{\"l\": []}", "no");
}

/* Numbers print as the shortest text that reads back as the same value
 * (the %.15g..%.17g rule), whichever path the renderer takes: compare with
 * that rule over many values, integers and reals, the fast cases (tenths,
 * whole numbers) and the rest. */
static void shortest(double d, char *out, size_t len)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, len, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
}

static void numbers_print_as_their_shortest_text(void **state)
{
    (void)state;
    mst_template *t = mst_compile("{{v}}", 5, NULL, 0);
    assert_non_null(t);
    const double fixed[] = {0.0, -0.0, 0.1, -0.1, 4.3, 4.35, 1.0 / 3, 1e14, 1e14 - 0.1, 99999999999999.9, 1e15, 1e21,
                            -7.0, 0.05, 123456.7, 2.675, 1e-5, 5e-324};
    unsigned seed = 12345;
    char want[64], err[128];
    buf out = BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        double d;
        if (i < (int)(sizeof fixed / sizeof *fixed)) d = fixed[i];
        else {
            seed = seed * 1103515245u + 12345u;
            int k = (int)(seed >> 8) % 200001 - 100000;
            d = i % 3 == 0 ? k / 10.0 : i % 3 == 1 ? (double)k : k / 1000.0;   /* tenths, integers, others */
        }
        json_t *data = json_pack("{s:f}", "v", d);
        buf_reset(&out);
        assert_int_equal(mst_render_template(NULL, t, data, &out, err, sizeof err), 0);
        shortest(d, want, sizeof want);
        for (char *c = want; *c; c++) if (*c == ',') *c = '.';
        if (strcmp(buf_cstr(&out), want) != 0) fail_msg("%.17g printed as %s, expected %s", d, buf_cstr(&out), want);
        json_decref(data);
    }
    /* integers, the extremes included */
    check("{{a}} {{b}} {{c}}", "{\"a\": 9223372036854775807, \"b\": -9223372036854775808, \"c\": 0}",
          "9223372036854775807 -9223372036854775808 0");
    buf_free(&out);
    mst_free(t);
}

static void layout_from_dir(void **state)
{
    (void)state;
    tmpl_dir d;
    make_site(&d);
    char err[256] = "";
    json_t *data = json_loads(page_json, 0, NULL);
    assert_non_null(data);

    /* Lazy loading. */
    mst_env *env = mst_env_new_dir(d.path);
    assert_non_null(env);
    buf out = BUF_INIT;
    if (mst_render(env, "page", data, &out, err, sizeof err) != 0) fail_msg("render page: %s", err);
    assert_string_equal(buf_cstr(&out), page_html);

    /* The layout alone shows its defaults. */
    buf_reset(&out);
    assert_int_equal(mst_render(env, "layout", data, &out, err, sizeof err), 0);
    assert_non_null(strstr(buf_cstr(&out), "<title>ShoeEase</title>"));
    assert_non_null(strstr(buf_cstr(&out), "\n  <p>nothing here</p>\n"));
    mst_env_free(env);

    /* Preloading gives the same page. */
    env = mst_env_new_dir(d.path);
    if (mst_env_preload(env, err, sizeof err) != 0) fail_msg("preload: %s", err);
    buf_reset(&out);
    assert_int_equal(mst_render(env, "page", data, &out, err, sizeof err), 0);
    assert_string_equal(buf_cstr(&out), page_html);

    /* Unknown top-level template: an error; the output keeps what it had. */
    buf_reset(&out);
    buf_puts(&out, "keep");
    assert_int_equal(mst_render(env, "nope", data, &out, err, sizeof err), -1);
    assert_string_equal(err, "unknown template \"nope\"");
    assert_string_equal(buf_cstr(&out), "keep");
    mst_env_free(env);

    /* A syntax error in a file is reported by preload and by render. */
    write_file(d.path, "broken.mustache", "ok\n{{#items}}\n{{name}}\n");
    env = mst_env_new_dir(d.path);
    assert_int_equal(mst_env_preload(env, err, sizeof err), -1);
    assert_string_equal(err, "template \"broken\": line 2: {{#items}} is never closed");
    assert_int_equal(mst_render(env, "broken", data, &out, err, sizeof err), -1);
    assert_string_equal(err, "template \"broken\": line 2: {{#items}} is never closed");
    mst_env_free(env);

    buf_free(&out);
    json_decref(data);
    remove_site(&d);
}

static void refuses_bad_names(void **state)
{
    (void)state;
    tmpl_dir d;
    make_site(&d);
    char err[256] = "";
    buf out = BUF_INIT;
    mst_env *env = mst_env_new_dir(d.path);

    assert_int_equal(mst_render(env, "../etc/passwd", NULL, &out, err, sizeof err), -1);
    assert_string_equal(err, "invalid template name \"../etc/passwd\"");
    assert_int_equal(mst_render(env, "partials/../layout", NULL, &out, err, sizeof err), -1);
    assert_string_equal(err, "invalid template name \"partials/../layout\"");
    assert_int_equal(mst_render(env, "/etc/passwd", NULL, &out, err, sizeof err), -1);
    assert_string_equal(err, "invalid template name \"/etc/passwd\"");
    assert_int_equal(mst_render(env, "", NULL, &out, err, sizeof err), -1);

    /* In a template: rejected when compiling. */
    assert_null(mst_compile("{{>../secret}}", 14, err, sizeof err));
    assert_string_equal(err, "line 1: invalid template name \"../secret\"");

    /* Through a dynamic name taken from data: rejected when rendering. */
    mst_template *t = mst_compile("a{{>*p}}b", 9, err, sizeof err);
    assert_non_null(t);
    json_t *data = json_pack("{s:s}", "p", "../../etc/passwd");
    assert_int_equal(mst_render_template(env, t, data, &out, err, sizeof err), -1);
    assert_string_equal(err, "invalid template name \"../../etc/passwd\"");
    assert_int_equal(out.len, 0);
    json_decref(data);
    mst_free(t);

    /* mst_env_add refuses them too, and refuses redefinition. */
    mst_env *mem = mst_env_new();
    assert_int_equal(mst_env_add(mem, "../x", "x", 1, err, sizeof err), -1);
    assert_int_equal(mst_env_add(mem, "x", "x", 1, err, sizeof err), 0);
    assert_int_equal(mst_env_add(mem, "x", "y", 1, err, sizeof err), -1);
    assert_string_equal(err, "template \"x\" is already defined");
    mst_env_free(mem);

    buf_free(&out);
    mst_env_free(env);
    remove_site(&d);
}

static void compile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *src, *msg;
    } cases[] = {
        {"Hello\n{{#items}}\n{{name}}\n", "line 2: {{#items}} is never closed"},
        {"{{#a}}\n{{/b}}", "line 2: closing tag {{/b}} does not match {{#a}} opened on line 1"},
        {"x\n\n{{/a}}", "line 3: closing tag {{/a}} without an opening tag"},
        {"one\n{{name", "line 2: unclosed tag (no matching \"}}\")"},
        {"{{{name}}", "line 1: unclosed tag (no matching \"}}}\")"},
        {"{{ }}", "line 1: invalid tag name \"\""},
        {"{{first name}}", "line 1: invalid tag name \"first name\""},
        {"{{a..b}}", "line 1: invalid tag name \"a..b\""},
        {"{{=<% %>=}}\n<%#x%>", "line 2: {{#x}} is never closed"},
        {"{{=<%=}}", "line 1: invalid set-delimiter tag (want {{=<open> <close>=}})"},
        {"{{<layout}}{{$a}}{{/layout}}", "line 1: closing tag {{/layout}} does not match {{$a}} opened on line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        mst_template *t = mst_compile(cases[i].src, strlen(cases[i].src), err, sizeof err);
        if (t) {
            mst_free(t);
            fail_msg("compiled but should not: %s", cases[i].src);
        }
        assert_string_equal(err, cases[i].msg);
    }
    /* Deep nesting is refused rather than recursed into. */
    buf deep = BUF_INIT;
    for (int i = 0; i <= MST_MAX_NESTING; i++) buf_puts(&deep, "{{#a}}");
    char err[256];
    assert_null(mst_compile(deep.data, deep.len, err, sizeof err));
    assert_string_equal(err, "line 1: sections nested deeper than 100");
    buf_free(&deep);
}

static void recursion_limit(void **state)
{
    (void)state;
    char err[256] = "";
    mst_env *env = mst_env_new();
    assert_int_equal(mst_env_add(env, "loop", "x{{>loop}}", 10, err, sizeof err), 0);
    assert_int_equal(mst_env_add(env, "blk", "{{<blk}}{{$a}}{{$a}}{{/a}}{{/a}}{{/blk}}", 40, err, sizeof err), 0);
    buf out = BUF_INIT;
    assert_int_equal(mst_render(env, "loop", NULL, &out, err, sizeof err), -1);
    assert_string_equal(err, "partial \"loop\": expansions nested deeper than 64 (recursive partial?)");
    assert_int_equal(out.len, 0);
    assert_int_equal(mst_render(env, "blk", NULL, &out, err, sizeof err), -1);
    buf_free(&out);
    mst_env_free(env);
}

static void layout_indentation(void **state)
{
    (void)state;
    char err[256] = "";
    mst_env *env = mst_env_new();
    const char *layout = "<ul>\n  {{$items}}\n  {{/items}}\n</ul>\n";
    const char *page = "{{<layout}}\n"
                       "  {{$items}}\n"
                       "    {{#list}}\n"
                       "    <li>{{.}}</li>\n"
                       "    {{/list}}\n"
                       "  {{/items}}\n"
                       "{{/layout}}\n";
    assert_int_equal(mst_env_add(env, "layout", layout, strlen(layout), err, sizeof err), 0);
    assert_int_equal(mst_env_add(env, "page", page, strlen(page), err, sizeof err), 0);
    json_t *data = json_pack("{s:[s,s]}", "list", "a", "b");
    buf out = BUF_INIT;
    assert_int_equal(mst_render(env, "page", data, &out, err, sizeof err), 0);
    assert_string_equal(buf_cstr(&out), "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n");
    buf_free(&out);
    json_decref(data);
    mst_env_free(env);
}

/* Several threads render through one lazily loading env at once. */
typedef struct worker {
    mst_env *env;
    json_t *data;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char err[256];
    buf out = BUF_INIT;
    for (int i = 0; i < 50; i++) {
        buf_reset(&out);
        if (mst_render(w->env, "page", w->data, &out, err, sizeof err) != 0 || strcmp(buf_cstr(&out), page_html) != 0)
            w->failures++;
    }
    buf_free(&out);
    return NULL;
}

static void concurrent_render(void **state)
{
    (void)state;
    tmpl_dir d;
    make_site(&d);
    json_t *data = json_loads(page_json, 0, NULL);
    mst_env *env = mst_env_new_dir(d.path);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){env, data, 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    mst_env_free(env);
    json_decref(data);
    remove_site(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_interpolation),
        cmocka_unit_test(spec_sections),
        cmocka_unit_test(spec_inverted),
        cmocka_unit_test(spec_comments),
        cmocka_unit_test(spec_partials),
        cmocka_unit_test(spec_delimiters),
        cmocka_unit_test(spec_inheritance),
        cmocka_unit_test(spec_dynamic_names),
        cmocka_unit_test(html_escaping),
        cmocka_unit_test(values_and_truthiness),
        cmocka_unit_test(numbers_print_as_their_shortest_text),
        cmocka_unit_test(layout_from_dir),
        cmocka_unit_test(layout_indentation),
        cmocka_unit_test(refuses_bad_names),
        cmocka_unit_test(compile_errors),
        cmocka_unit_test(recursion_limit),
        cmocka_unit_test(concurrent_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
