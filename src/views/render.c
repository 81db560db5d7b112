/* render.c — the worker's template set and the one way pages are
 * rendered: page template + layout context (site, category nav, header
 * search text). */
#include "views/views.h"

#include "core/config.h"
#include "core/log.h"
#include "template/mustache.h"
#include "version.h"
#include "web/cached.h"

#include <dirent.h>
#include <stdlib.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static mst_env *env;
static char asset_version[17] = "0";   /* hash of the files the layout links */

/* nginx serves /static/ as immutable for a year, so each link carries a
 * hash of the file contents (?v=...): a changed file is a new URL. */
static void hash_assets(void)
{
    static const char *const files[] = {"css/site.css",    "css/admin.css",     "js/site.js",        "js/pay.js",         "img/logo.svg",
                                        "img/favicon.svg", "img/hero-shoe.svg", NULL};
    const char *dir = cfg.static_dir ? cfg.static_dir : "static";
    crypto_generichash_state st;
    unsigned char digest[8];
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    for (const char *const *f = files; *f; f++) {
        char path[4096], chunk[8192];
        snprintf(path, sizeof path, "%s/%s", dir, *f);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            log_warn("static: %s is missing", path);
            continue;
        }
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) crypto_generichash_update(&st, (unsigned char *)chunk, n);
        fclose(fp);
    }
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(asset_version, sizeof asset_version, digest, sizeof digest);
}

/* Feed every regular file under dir (sorted, recursively) into st. */
static void hash_tree(crypto_generichash_state *st, const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &sb) == 0) {
            crypto_generichash_update(st, (const unsigned char *)path, strlen(path));
            if (S_ISDIR(sb.st_mode)) {
                hash_tree(st, path);
            } else if (S_ISREG(sb.st_mode)) {
                FILE *fp = fopen(path, "rb");
                char chunk[8192];
                size_t got;
                while (fp && (got = fread(chunk, 1, sizeof chunk, fp)) > 0)
                    crypto_generichash_update(st, (unsigned char *)chunk, got);
                if (fp) fclose(fp);
            }
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
}

/* Cached pages must not outlive the templates and assets they were
 * rendered with: the page cache keys carry a hash of both (and of the
 * program version), so a deploy starts from fresh entries. */
static void set_render_epoch(const char *template_dir)
{
    crypto_generichash_state st;
    unsigned char digest[8];
    char hex[17];
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    crypto_generichash_update(&st, (const unsigned char *)SHOEASE_VERSION, strlen(SHOEASE_VERSION));
    crypto_generichash_update(&st, (const unsigned char *)asset_version, strlen(asset_version));
    hash_tree(&st, template_dir);
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    cached_set_epoch(hex);
}

/* Pages the handlers render: each must exist, or the worker does not start. */
static const char *const required[] = {"layout", "home", "category", "product", "search", "error", NULL};

int views_init(void)
{
    const char *dir = cfg.template_dir ? cfg.template_dir : "templates";
    for (const char *const *name = required; *name; name++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s.mustache", dir, *name);
        if (stat(path, &st) != 0) {
            log_error("templates: %s is missing (TEMPLATE_DIR=%s)", path, dir);
            return -1;
        }
    }
    env = mst_env_new_dir(dir);
    if (!env) {
        log_error("templates: out of memory");
        return -1;
    }
    char err[512];
    if (mst_env_preload(env, err, sizeof err) != 0) {
        log_error("templates in %s: %s (the worker does not start)", dir, err);
        mst_env_free(env);
        env = NULL;
        return -1;
    }
    hash_assets();
    set_render_epoch(dir);
    http_set_error_renderer(view_render_error);
    return 0;
}

void views_exit(void)
{
    http_set_error_renderer(NULL);
    mst_env_free(env);
    env = NULL;
}

/* Does `slug` name this category or one below it? */
static bool tree_contains(json_t *cat, const char *slug)
{
    const char *s = json_string_value(json_object_get(cat, "slug"));
    if (s && strcmp(s, slug) == 0) return true;
    size_t i;
    json_t *child;
    json_array_foreach(json_object_get(cat, "children"), i, child)
        if (tree_contains(child, slug)) return true;
    return false;
}

/* The header's category links, the current one marked. */
static void mark_current(json_t *nav, const char *current)
{
    size_t i;
    json_t *cat;
    json_array_foreach(nav, i, cat)
        json_object_set_new(cat, "current", json_boolean(current && tree_contains(cat, current)));
}

static void add_site(json_t *ctx)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    json_object_set_new(ctx, "site", json_pack("{s:s,s:s,s:i,s:s}", "name", cfg.site_name ? cfg.site_name : "ShoEase",
                                               "currency", cfg.currency ? cfg.currency : "GBP", "year",
                                               tm.tm_year + 1900, "assets", asset_version));
}

#define RENDER_RESERVE_BYTES (64u << 10)

static int render(http_request *req, const char *name, json_t *ctx, buf *out)
{
    if (!env) {
        log_error("request %s: templates are not loaded (views_init not run)", req->id);
        return -1;
    }
    /* Room for a whole page up front (a listing is ~48 KB): growing from
     * nothing would realloc and copy it ten times. */
    buf_reserve(out, RENDER_RESERVE_BYTES);
    char err[512];
    if (mst_render(env, name, ctx, out, err, sizeof err) != 0) {
        log_error("request %s: template %s: %s", req->id, name, err);
        return -1;
    }
    return 0;
}

int view_render(http_request *req, const char *name, json_t *ctx, buf *out)
{
    return view_render_at(req, name, ctx, -1, out);
}

int view_render_at(http_request *req, const char *name, json_t *ctx, int64_t version, buf *out)
{
    json_t *tree = catalog_category_tree_shared(version);
    if (!tree) {
        /* no half-built page: it would be cached */
        log_error("request %s: the category tree is unavailable", req->id);
        return -1;
    }
    /* The tree is shared by this thread's pages: the nav gets copies of
     * the top-level nodes (mark_current sets "current" on them), their
     * children stay shared and are only read. */
    json_t *nav = json_array();
    size_t i;
    json_t *node;
    json_array_foreach(tree, i, node) json_array_append_new(nav, json_copy(node));
    json_decref(tree);
    return view_render_nav(req, name, ctx, nav, out);
}

int view_render_nav(http_request *req, const char *name, json_t *ctx, json_t *nav, buf *out)
{
    add_site(ctx);
    if (!nav) nav = json_array();
    mark_current(nav, json_string_value(json_object_get(ctx, "nav_current")));
    json_object_set_new(ctx, "nav", nav);
    return render(req, name, ctx, out);
}

void view_finish_cached(http_request *req, http_response *res, const char *key, cached_page *page, const char *name,
                        json_t *ctx, const char *what)
{
    int rc = view_render_at(req, name, ctx, page->refs_version, &page->body);
    json_decref(ctx);
    if (rc != 0) {
        cached_page_free(page);
        res_error(req, res, 500, what);
        return;
    }
    cached_finish(req, res, key, page, "text/html; charset=utf-8", 200);
}
