/* mustache.c — see mustache.h.
 *
 * Compilation runs in four passes over the source:
 *   1. tokenize: text runs, newlines and tags (set-delimiter tags are applied
 *      as they are met, so later tags are scanned with the new delimiters);
 *   2. lines: decide which lines are "standalone" (only whitespace plus
 *      non-printing tags) and drop their whitespace, and mark the start of
 *      every other line so indentation can be inserted there at render time;
 *   3. pair: match every section/inverted/block/parent opener to its closer;
 *   4. dedent: strip the intrinsic indentation of standalone blocks (spec:
 *      "block indentation is removed at the site of definition and added at
 *      the site of expansion"), outermost block first;
 * and then build an immutable node tree whose strings all point into the
 * template's private copy of the source.
 *
 * Rendering walks that tree. The context stack, the chain of parent-call
 * frames (for block overrides) and the current indentation all live on the C
 * stack or in one per-render buffer, so rendering makes no allocation per
 * node; only `out` grows. */
#include "template/mustache.h"

#include "core/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every render() call nests the C stack; sections inside partials inside
 * sections... can multiply MST_MAX_NESTING by MST_MAX_DEPTH. This bound keeps
 * the worst case a few hundred KB of stack, well inside a thread's stack. */
#define RENDER_MAX_NEST 1000
/* Negative cache entries ("file does not exist") are capped so that names
 * coming from data ({{>*name}}) cannot grow the env without bound. */
#define ENV_MAX_MISSING 4096
#define FILE_MAX_SIZE (16u << 20)
#define PRELOAD_MAX_DEPTH 32

/* ---------------------------------------------------------------- helpers */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void oom(void)
{
    fputs("shoease: out of memory\n", stderr);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom();
    return p;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) oom();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) oom();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool all_ws(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_ws(s[i])) return false;
    return true;
}

static bool has_ws(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_ws(s[i])) return true;
    return false;
}

static size_t count_nl(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    return c;
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_ws(**s)) (*s)++, (*n)--;
    while (*n && is_ws((*s)[*n - 1])) (*n)--;
}

/* Template names become file paths, and dynamic names ({{>*x}}) come from
 * data, so anything that could escape the template directory is refused. */
static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > MST_MAX_NAME || s[0] == '/') return false;
    if (memchr(s, '\0', n)) return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.') return false;
    return true;
}

/* ------------------------------------------------------------------ nodes */

typedef struct slice {
    const char *s;
    size_t n;
} slice;

enum node_kind {
    N_TEXT,     /* literal bytes */
    N_INDENT,   /* a template line starts here: emit the current indentation */
    N_VAR,      /* {{x}} (escaped) */
    N_RAW,      /* {{{x}}} / {{&x}} */
    N_SECTION,  /* {{#x}}...{{/x}} */
    N_INVERTED, /* {{^x}}...{{/x}} */
    N_PARTIAL,  /* {{>x}} */
    N_PARENT,   /* {{<x}}...{{/x}}: kids are the N_BLOCK overrides only */
    N_BLOCK,    /* {{$x}}...{{/x}}: kids are the default content */
};

typedef struct node node;
struct node {
    uint8_t kind;
    bool standalone;     /* partial/parent/block: the tag had its line to itself */
    bool dynamic;        /* partial/parent: {{>*x}}, the name is looked up in the context */
    const char *s;       /* N_TEXT: bytes; otherwise the tag name */
    size_t n;
    const char *ind;     /* standalone partial/parent/block: indentation to add */
    size_t indn;
    slice *parts;        /* var/section/inverted/dynamic name split on '.'; NULL for "." */
    size_t nparts;
    node *kids;
    size_t nkids;
};

struct mst_template {
    char *src;           /* private copy of the source; every slice points here */
    size_t len;
    node *root;
    size_t nroot;
};

static void free_nodes(node *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].parts);
        free_nodes(v[i].kids, v[i].nkids);
    }
    free(v);
}

void mst_free(mst_template *t)
{
    if (!t) return;
    free_nodes(t->root, t->nroot);
    free(t->src);
    free(t);
}

/* ----------------------------------------------------------------- tokens */

enum tok_kind { TK_TEXT, TK_NL, TK_TAG };

typedef struct tok {
    uint8_t kind;
    char type;         /* TK_TAG: 'v' '&' '#' '^' '/' '!' '>' '<' '$' '=' */
    bool dynamic;      /* '>' '<' written with '*' */
    bool removed;      /* whitespace or newline of a standalone line */
    bool standalone;   /* TK_TAG on a standalone line */
    bool bol;          /* first token of a printed line: indentation goes before it */
    const char *s;     /* TEXT/NL: the bytes; TAG: the name (trimmed, sigil and '*' removed) */
    size_t n;
    const char *raw;   /* TAG: trimmed content incl. '*', used to match closers */
    size_t rawn;
    size_t line;       /* 1-based line where the token starts */
    long lead;         /* standalone TAG: index of the line's leading whitespace token, or -1 */
    long match;        /* opener: index of its closer */
    const char *bind;  /* standalone '$': indentation of the block */
    size_t bindn;
} tok;

typedef struct tokvec {
    tok *v;
    size_t n, cap;
} tokvec;

static tok *tok_push(tokvec *tv, uint8_t kind, const char *s, size_t n, size_t line)
{
    if (tv->n == tv->cap) {
        tv->cap = tv->cap ? tv->cap * 2 : 64;
        tv->v = xrealloc(tv->v, tv->cap * sizeof *tv->v);
    }
    tok *t = &tv->v[tv->n++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->s = s;
    t->n = n;
    t->line = line;
    t->lead = -1;
    t->match = -1;
    return t;
}

/* Split literal text into TK_TEXT runs (never containing '\n') and TK_NL
 * tokens ("\n" or "\r\n"), so that lines are easy to walk later. */
static void push_text(tokvec *tv, const char *src, size_t a, size_t b, size_t *line)
{
    size_t i = a;
    while (i < b) {
        const char *nl = memchr(src + i, '\n', b - i);
        size_t e = nl ? (size_t)(nl - src) : b;
        size_t te = e;
        if (nl && te > i && src[te - 1] == '\r') te--;
        if (te > i) tok_push(tv, TK_TEXT, src + i, te - i, *line);
        if (!nl) break;
        tok_push(tv, TK_NL, src + te, e + 1 - te, *line);
        (*line)++;
        i = e + 1;
    }
}

/* Find `close` (optionally preceded by the character `pre`) at or after pos.
 * Returns the index of `pre` (or of `close` when pre is 0), or len if absent. */
static size_t find_close(const char *src, size_t len, size_t start, char pre, const char *close, size_t closen)
{
    for (size_t pos = start; pos < len;) {
        const char *c = memmem(src + pos, len - pos, close, closen);
        if (!c) return len;
        size_t at = (size_t)(c - src);
        if (!pre) return at;
        if (at > start && src[at - 1] == pre) return at - 1;
        pos = at + 1;
    }
    return len;
}

static bool valid_dotted(const char *s, size_t n)
{
    if (n == 0 || has_ws(s, n)) return false;
    if (n == 1 && s[0] == '.') return true;
    if (s[0] == '.' || s[n - 1] == '.') return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.') return false;
    return true;
}

static int tokenize(const char *src, size_t len, tokvec *tv, char *err, size_t errlen)
{
    const char *otag = "{{", *ctag = "}}";
    size_t olen = 2, clen = 2;
    size_t pos = 0, line = 1;

    while (pos < len) {
        const char *o = memmem(src + pos, len - pos, otag, olen);
        size_t tstart = o ? (size_t)(o - src) : len;
        push_text(tv, src, pos, tstart, &line);
        if (!o) break;

        size_t tag_line = line;
        size_t p = tstart + olen;
        char type = 'v';
        if (p < len && src[p] == '{') {
            type = '{';
            p++;
        } else {
            /* Tolerate "{{ #x }}": whitespace before the sigil. */
            size_t q = p;
            while (q < len && is_ws(src[q])) q++;
            if (q < len && src[q] && strchr("#^/!><$&=", src[q])) {
                type = src[q];
                p = q + 1;
            }
        }

        size_t cend; /* end of content */
        size_t tend; /* end of the whole tag */
        if (type == '{' || type == '=') {
            cend = find_close(src, len, p, type == '{' ? '}' : '=', ctag, clen);
            tend = cend + 1 + clen;
        } else {
            cend = find_close(src, len, p, 0, ctag, clen);
            tend = cend + clen;
        }
        if (cend >= len) {
            seterr(err, errlen, "line %zu: unclosed tag (no matching \"%s%.*s\")", tag_line,
                   type == '{' ? "}" : type == '=' ? "=" : "", (int)clen, ctag);
            return -1;
        }
        line += count_nl(src + tstart, tend - tstart);
        pos = tend;

        const char *c = src + p;
        size_t cn = cend - p;
        trim(&c, &cn);

        if (type == '=') {
            /* {{=<% %>=}}: exactly two delimiters, no whitespace or '=' in them. */
            size_t i = 0;
            while (i < cn && !is_ws(c[i])) i++;
            const char *d1 = c, *d2 = c + i;
            size_t d1n = i, d2n = cn - i;
            trim(&d2, &d2n);
            if (d1n == 0 || d2n == 0 || has_ws(d2, d2n) || memchr(d1, '=', d1n) || memchr(d2, '=', d2n)) {
                seterr(err, errlen, "line %zu: invalid set-delimiter tag (want {{=<open> <close>=}})", tag_line);
                return -1;
            }
            otag = d1, olen = d1n, ctag = d2, clen = d2n;
            tok *t = tok_push(tv, TK_TAG, c, cn, tag_line);
            t->type = '=';
            continue;
        }
        if (type == '{') type = '&';

        tok *t = tok_push(tv, TK_TAG, c, cn, tag_line);
        t->type = type;
        t->raw = c;
        t->rawn = cn;
        if (type == '!') continue;

        if ((type == '>' || type == '<') && cn && c[0] == '*') {
            t->dynamic = true;
            t->s = c + 1;
            t->n = cn - 1;
            trim(&t->s, &t->n);
        }
        bool dotted = type == 'v' || type == '&' || type == '#' || type == '^' || t->dynamic;
        if (dotted ? !valid_dotted(t->s, t->n) : (t->n == 0 || has_ws(t->s, t->n))) {
            seterr(err, errlen, "line %zu: invalid tag name \"%.*s\"", tag_line, (int)cn, c);
            return -1;
        }
        if ((type == '>' || type == '<') && !t->dynamic && !valid_name(t->s, t->n)) {
            seterr(err, errlen, "line %zu: invalid template name \"%.*s\"", tag_line, (int)t->n, t->s);
            return -1;
        }
    }
    return 0;
}

/* Pass 2. A line is standalone when it holds at least one tag, no printing
 * tag ({{x}}, {{{x}}}, {{&x}}) and otherwise only whitespace; its whitespace
 * and newline vanish (the spec's rule, extended like mustache.js to lines with
 * several such tags, which the inheritance spec needs for
 * "{{<parent}}{{$block}}"). Exception from the spec ("Standalone block"): an
 * empty block pair "{{$b}}{{/b}}" alone on a line keeps its newline. */
static void mark_lines(tokvec *tv)
{
    size_t i = 0;
    while (i < tv->n) {
        size_t start = i, end = i;
        while (end < tv->n && tv->v[end].kind != TK_NL) end++;
        bool has_nl = end < tv->n;
        size_t next = has_nl ? end + 1 : end;

        bool has_tag = false, quiet = true;
        for (size_t k = start; k < end && quiet; k++) {
            const tok *t = &tv->v[k];
            if (t->kind == TK_TAG) {
                has_tag = true;
                if (t->type == 'v' || t->type == '&') quiet = false;
            } else if (!all_ws(t->s, t->n)) {
                quiet = false;
            }
        }
        if (has_tag && quiet) {
            long lead = tv->v[start].kind == TK_TEXT ? (long)start : -1;
            bool keep_nl = false;
            for (size_t k = start; k < end; k++) {
                tok *t = &tv->v[k];
                if (t->kind == TK_TEXT) {
                    t->removed = true;
                    continue;
                }
                t->standalone = true;
                t->lead = lead;
                if (t->type == '$' && k + 1 < end && tv->v[k + 1].kind == TK_TAG && tv->v[k + 1].type == '/' &&
                    tv->v[k + 1].rawn == t->rawn && memcmp(tv->v[k + 1].raw, t->raw, t->rawn) == 0)
                    keep_nl = true;
            }
            if (has_nl && !keep_nl) tv->v[end].removed = true;
        } else if (start < end) {
            /* Blank lines get no indentation: no trailing whitespace in output. */
            tv->v[start].bol = true;
        }
        i = next;
    }
}

static const char *tag_sigil(char type)
{
    switch (type) {
    case '#': return "#";
    case '^': return "^";
    case '<': return "<";
    case '$': return "$";
    default: return "";
    }
}

/* Pass 3: match openers and closers. */
static int pair_tags(tokvec *tv, char *err, size_t errlen)
{
    size_t stack[MST_MAX_NESTING];
    size_t sp = 0;
    for (size_t i = 0; i < tv->n; i++) {
        tok *t = &tv->v[i];
        if (t->kind != TK_TAG) continue;
        if (t->type == '#' || t->type == '^' || t->type == '<' || t->type == '$') {
            if (sp == MST_MAX_NESTING) {
                seterr(err, errlen, "line %zu: sections nested deeper than %d", t->line, MST_MAX_NESTING);
                return -1;
            }
            stack[sp++] = i;
        } else if (t->type == '/') {
            if (sp == 0) {
                seterr(err, errlen, "line %zu: closing tag {{/%.*s}} without an opening tag", t->line, (int)t->rawn,
                       t->raw);
                return -1;
            }
            tok *o = &tv->v[stack[--sp]];
            if (o->rawn != t->rawn || memcmp(o->raw, t->raw, t->rawn) != 0) {
                seterr(err, errlen, "line %zu: closing tag {{/%.*s}} does not match {{%s%.*s}} opened on line %zu",
                       t->line, (int)t->rawn, t->raw, tag_sigil(o->type), (int)o->rawn, o->raw, o->line);
                return -1;
            }
            o->match = (long)i;
        }
    }
    if (sp) {
        const tok *o = &tv->v[stack[sp - 1]];
        seterr(err, errlen, "line %zu: {{%s%.*s}} is never closed", o->line, tag_sigil(o->type), (int)o->rawn,
               o->raw);
        return -1;
    }
    return 0;
}

static size_t lead_ws(const tok *t)
{
    if (t->kind != TK_TEXT) return 0;
    size_t i = 0;
    while (i < t->n && is_ws(t->s[i])) i++;
    return i;
}

/* Pass 4. For a block whose opening tag is standalone, its content lines share
 * an intrinsic indentation (the common whitespace prefix of its non-blank
 * lines, like Python's textwrap.dedent); strip it here and remember it as the
 * block's indentation, to be re-added where the block is expanded. When the
 * content has none, the opening tag's own indentation is used. */
static void dedent_blocks(tokvec *tv)
{
    for (size_t i = 0; i < tv->n; i++) {
        tok *b = &tv->v[i];
        if (b->kind != TK_TAG || b->type != '$' || !b->standalone) continue;
        size_t close = (size_t)b->match;

        size_t first = i + 1; /* first line of content starts after the opening line */
        while (first < close && tv->v[first].kind != TK_NL) first++;
        first++;

        const char *margin = NULL;
        size_t m = 0;
        for (int pass = 0; pass < 2; pass++) {
            size_t ls = first;
            while (ls < close) {
                size_t e = ls;
                while (e < close && tv->v[e].kind != TK_NL) e++;
                tok *ft = &tv->v[ls];
                size_t w = lead_ws(ft);
                bool blank = true;
                for (size_t k = ls; k < e && blank; k++)
                    blank = tv->v[k].kind == TK_TEXT && all_ws(tv->v[k].s, tv->v[k].n);
                if (pass == 0 && !blank) {
                    if (!margin) {
                        margin = ft->s, m = w;
                    } else {
                        size_t j = 0;
                        while (j < m && j < w && ft->s[j] == margin[j]) j++;
                        m = j;
                    }
                } else if (pass == 1 && ft->kind == TK_TEXT) {
                    size_t cut = w < m ? w : m;
                    ft->s += cut;
                    ft->n -= cut;
                }
                ls = e + 1;
            }
            if (!margin) m = 0;
            if (m == 0) break;
        }
        if (m) {
            b->bind = margin, b->bindn = m;
        } else if (b->lead >= 0) {
            b->bind = tv->v[b->lead].s, b->bindn = tv->v[b->lead].n;
        }
    }
}

/* ---------------------------------------------------------------- builder */

typedef struct nodevec {
    node *v;
    size_t n, cap;
} nodevec;

static node *node_push(nodevec *nv, uint8_t kind)
{
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 8;
        nv->v = xrealloc(nv->v, nv->cap * sizeof *nv->v);
    }
    node *nd = &nv->v[nv->n++];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    return nd;
}

static void push_literal(nodevec *nv, const char *s, size_t n)
{
    if (n == 0) return;
    node *prev = nv->n ? &nv->v[nv->n - 1] : NULL;
    if (prev && prev->kind == N_TEXT && prev->s + prev->n == s) {
        prev->n += n; /* adjacent in the source: one node */
        return;
    }
    node *nd = node_push(nv, N_TEXT);
    nd->s = s;
    nd->n = n;
}

static void split_parts(node *nd, const char *s, size_t n)
{
    if (n == 1 && s[0] == '.') return; /* implicit iterator: no parts */
    size_t count = 1;
    for (size_t i = 0; i < n; i++) count += s[i] == '.';
    nd->parts = xmalloc(count * sizeof *nd->parts);
    nd->nparts = count;
    size_t k = 0, a = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            nd->parts[k].s = s + a;
            nd->parts[k].n = i - a;
            k++;
            a = i + 1;
        }
    }
}

static void finish(nodevec *nv, node **kids, size_t *nkids)
{
    *kids = nv->n ? xrealloc(nv->v, nv->n * sizeof *nv->v) : (free(nv->v), NULL);
    *nkids = nv->n;
}

/* Build nodes for tokens [from, to) into nv. Recursion depth is bounded by
 * MST_MAX_NESTING (checked in pair_tags). */
static void build(const tokvec *tv, size_t from, size_t to, nodevec *nv)
{
    for (size_t k = from; k < to; k++) {
        const tok *t = &tv->v[k];
        if (t->bol) node_push(nv, N_INDENT);
        if (t->removed) continue;
        if (t->kind != TK_TAG) {
            push_literal(nv, t->s, t->n);
            continue;
        }
        node *nd;
        switch (t->type) {
        case 'v':
        case '&':
            nd = node_push(nv, t->type == 'v' ? N_VAR : N_RAW);
            nd->s = t->s, nd->n = t->n;
            split_parts(nd, t->s, t->n);
            break;
        case '>':
            nd = node_push(nv, N_PARTIAL);
            nd->s = t->s, nd->n = t->n;
            nd->dynamic = t->dynamic;
            if (t->dynamic) split_parts(nd, t->s, t->n);
            nd->standalone = t->standalone;
            if (t->standalone && t->lead >= 0) nd->ind = tv->v[t->lead].s, nd->indn = tv->v[t->lead].n;
            break;
        case '#':
        case '^':
        case '$':
        case '<': {
            size_t close = (size_t)t->match;
            nodevec sub = {0};
            build(tv, k + 1, close, &sub);
            /* A line that starts with the closing tag still starts a line of
             * this body: its indentation is emitted on every iteration. */
            if (tv->v[close].bol) node_push(&sub, N_INDENT);
            if (t->type == '<') {
                /* Only blocks matter inside a parent call; text and other
                 * tags there are ignored (spec: "Text inside parent"). */
                size_t keep = 0;
                for (size_t j = 0; j < sub.n; j++) {
                    if (sub.v[j].kind == N_BLOCK) {
                        sub.v[keep++] = sub.v[j];
                    } else {
                        free(sub.v[j].parts);
                        free_nodes(sub.v[j].kids, sub.v[j].nkids);
                    }
                }
                sub.n = keep;
            }
            static const uint8_t kinds[128] = {['#'] = N_SECTION, ['^'] = N_INVERTED, ['$'] = N_BLOCK,
                                               ['<'] = N_PARENT};
            nd = node_push(nv, kinds[(unsigned char)t->type]);
            nd->s = t->s, nd->n = t->n;
            nd->dynamic = t->dynamic;
            if (t->type == '#' || t->type == '^' || t->dynamic) split_parts(nd, t->s, t->n);
            nd->standalone = t->standalone;
            if (t->type == '$' && t->standalone) nd->ind = t->bind, nd->indn = t->bindn;
            if (t->type == '<' && t->standalone && t->lead >= 0)
                nd->ind = tv->v[t->lead].s, nd->indn = tv->v[t->lead].n;
            finish(&sub, &nd->kids, &nd->nkids);
            k = close;
            break;
        }
        default: /* '!' and '=' print nothing; '/' is consumed with its opener */
            break;
        }
    }
}

mst_template *mst_compile(const char *src, size_t len, char *err, size_t errlen)
{
    mst_template *t = xcalloc(1, sizeof *t);
    t->src = xmalloc(len + 1);
    if (len) memcpy(t->src, src, len);
    t->src[len] = '\0';
    t->len = len;

    tokvec tv = {0};
    if (tokenize(t->src, len, &tv, err, errlen) != 0 || pair_tags(&tv, err, errlen) != 0) {
        free(tv.v);
        mst_free(t);
        return NULL;
    }
    mark_lines(&tv);
    dedent_blocks(&tv);
    nodevec nv = {0};
    build(&tv, 0, tv.n, &nv);
    finish(&nv, &t->root, &t->nroot);
    free(tv.v);
    return t;
}

/* ------------------------------------------------------------ environment */

typedef struct entry {
    struct entry *next;
    char *name;
    size_t namelen;
    uint64_t hash;
    mst_template *tpl; /* NULL: known to be missing (or err set) */
    char *err;         /* compile error of the file, reported on every use */
} entry;

struct mst_env {
    /* Read-mostly: renders take the read lock for each lookup; loading a
     * template or adding one takes the write lock. Entries are never removed
     * or replaced while the env lives, so a looked-up template stays valid. */
    pthread_rwlock_t lock;
    char *dir; /* NULL for an in-memory env */
    entry **tab;
    size_t cap, count, nmissing;
};

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static entry *env_find(const mst_env *env, const char *name, size_t n, uint64_t h)
{
    for (entry *e = env->tab[h & (env->cap - 1)]; e; e = e->next)
        if (e->hash == h && e->namelen == n && memcmp(e->name, name, n) == 0) return e;
    return NULL;
}

static void env_insert(mst_env *env, entry *e)
{
    if ((env->count + 1) * 4 > env->cap * 3) {
        size_t ncap = env->cap * 2;
        entry **nt = xcalloc(ncap, sizeof *nt);
        for (size_t i = 0; i < env->cap; i++) {
            for (entry *x = env->tab[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = nt[x->hash & (ncap - 1)];
                nt[x->hash & (ncap - 1)] = x;
            }
        }
        free(env->tab);
        env->tab = nt;
        env->cap = ncap;
    }
    e->next = env->tab[e->hash & (env->cap - 1)];
    env->tab[e->hash & (env->cap - 1)] = e;
    env->count++;
}

static void free_entry(entry *e)
{
    mst_free(e->tpl);
    free(e->err);
    free(e->name);
    free(e);
}

static mst_env *env_alloc(const char *dir)
{
    mst_env *env = xcalloc(1, sizeof *env);
    if (pthread_rwlock_init(&env->lock, NULL) != 0) {
        free(env);
        return NULL;
    }
    env->cap = 64;
    env->tab = xcalloc(env->cap, sizeof *env->tab);
    if (dir) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        env->dir = xstrndup(dir, n);
    }
    return env;
}

mst_env *mst_env_new(void) { return env_alloc(NULL); }

mst_env *mst_env_new_dir(const char *dir) { return env_alloc(dir ? dir : "."); }

void mst_env_free(mst_env *env)
{
    if (!env) return;
    for (size_t i = 0; i < env->cap; i++) {
        for (entry *e = env->tab[i], *nx; e; e = nx) {
            nx = e->next;
            free_entry(e);
        }
    }
    free(env->tab);
    free(env->dir);
    pthread_rwlock_destroy(&env->lock);
    free(env);
}

/* Read a whole file. Returns 0, 1 if it does not exist, -1 on other errors. */
static int read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 1;
        seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX_SIZE) {
        seterr(err, errlen, "cannot read %s: not a regular file of at most %u bytes", path, FILE_MAX_SIZE);
        close(fd);
        return -1;
    }
    size_t cap = (size_t)st.st_size, n = 0;
    char *p = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= FILE_MAX_SIZE) break;
            cap = cap ? cap * 2 : 4096;
            p = xrealloc(p, cap + 1);
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            seterr(err, errlen, "cannot read %s: %s", path, strerror(errno));
            free(p);
            close(fd);
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}

/* Report a cached entry: its template (NULL when missing) or its error. */
static int entry_result(const char *name, size_t n, const mst_template *tpl, const char *eerr,
                        const mst_template **out, char *err, size_t errlen)
{
    if (eerr) {
        seterr(err, errlen, "template \"%.*s\": %s", (int)n, name, eerr);
        return -1;
    }
    *out = tpl;
    return 0;
}

/* Look up (and for a directory env, lazily load) template `name`.
 * *out = NULL when it does not exist. -1 on invalid name or load error. */
static int env_get(mst_env *env, const char *name, size_t n, const mst_template **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!env) return 0;
    if (!valid_name(name, n)) {
        seterr(err, errlen, "invalid template name \"%.*s\"", (int)(n > 64 ? 64 : n), name);
        return -1;
    }
    uint64_t h = hash_name(name, n);

    pthread_rwlock_rdlock(&env->lock);
    entry *e = env_find(env, name, n, h);
    const mst_template *tpl = e ? e->tpl : NULL;
    const char *eerr = e ? e->err : NULL;
    pthread_rwlock_unlock(&env->lock);
    if (e || !env->dir) return entry_result(name, n, tpl, eerr, out, err, errlen);

    /* Load and compile outside the lock; another thread may race us, in which
     * case its entry wins and ours is dropped. */
    buf path = BUF_INIT;
    buf_printf(&path, "%s/%.*s.mustache", env->dir, (int)n, name);
    char *src = NULL;
    size_t len = 0;
    int rc = read_file(path.data, &src, &len, err, errlen);
    buf_free(&path);
    if (rc < 0) return -1; /* I/O trouble is not cached: it may be transient */

    entry *ne = xcalloc(1, sizeof *ne);
    ne->name = xstrndup(name, n);
    ne->namelen = n;
    ne->hash = h;
    if (rc == 0) {
        char cerr[256];
        ne->tpl = mst_compile(src, len, cerr, sizeof cerr);
        if (!ne->tpl) ne->err = xstrndup(cerr, strlen(cerr));
        free(src);
    }

    pthread_rwlock_wrlock(&env->lock);
    e = env_find(env, name, n, h);
    if (!e && (ne->tpl || ne->err || env->nmissing < ENV_MAX_MISSING)) {
        if (!ne->tpl && !ne->err) env->nmissing++;
        env_insert(env, ne);
        e = ne;
        ne = NULL;
    }
    tpl = e ? e->tpl : NULL;
    eerr = e ? e->err : NULL;
    pthread_rwlock_unlock(&env->lock);
    if (ne) free_entry(ne);
    return entry_result(name, n, tpl, eerr, out, err, errlen);
}

int mst_env_add(mst_env *env, const char *name, const char *src, size_t len, char *err, size_t errlen)
{
    if (!env || !name) {
        seterr(err, errlen, "mst_env_add: no env or name");
        return -1;
    }
    size_t n = strlen(name);
    if (!valid_name(name, n)) {
        seterr(err, errlen, "invalid template name \"%.*s\"", (int)(n > 64 ? 64 : n), name);
        return -1;
    }
    char cerr[256];
    mst_template *t = mst_compile(src, len, cerr, sizeof cerr);
    if (!t) {
        seterr(err, errlen, "template \"%s\": %s", name, cerr);
        return -1;
    }
    uint64_t h = hash_name(name, n);
    pthread_rwlock_wrlock(&env->lock);
    entry *e = env_find(env, name, n, h);
    if (e && (e->tpl || e->err)) {
        pthread_rwlock_unlock(&env->lock);
        mst_free(t);
        seterr(err, errlen, "template \"%s\" is already defined", name);
        return -1;
    }
    if (e) { /* was cached as missing: fill it in */
        e->tpl = t;
        env->nmissing--;
    } else {
        e = xcalloc(1, sizeof *e);
        e->name = xstrndup(name, n);
        e->namelen = n;
        e->hash = h;
        e->tpl = t;
        env_insert(env, e);
    }
    pthread_rwlock_unlock(&env->lock);
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && memcmp(s + a - b, suffix, b) == 0;
}

/* rel: path relative to env->dir ("" for the top). */
static int preload_dir(mst_env *env, buf *rel, int depth, char *err, size_t errlen)
{
    if (depth > PRELOAD_MAX_DEPTH) {
        seterr(err, errlen, "%s/%s: directories nested too deeply", env->dir, buf_cstr(rel));
        return -1;
    }
    buf path = BUF_INIT;
    buf_printf(&path, "%s%s%s", env->dir, rel->len ? "/" : "", buf_cstr(rel));
    DIR *d = opendir(path.data);
    if (!d) {
        seterr(err, errlen, "cannot open directory %s: %s", path.data, strerror(errno));
        buf_free(&path);
        return -1;
    }
    int rc = 0;
    size_t rel_len = rel->len;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue; /* ".", "..", hidden files */
        if (rel_len) buf_putc(rel, '/');
        buf_puts(rel, de->d_name);
        buf full = BUF_INIT;
        buf_printf(&full, "%s/%s", env->dir, rel->data);
        struct stat st;
        if (stat(full.data, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                rc = preload_dir(env, rel, depth + 1, err, errlen);
            } else if (S_ISREG(st.st_mode) && ends_with(de->d_name, ".mustache")) {
                const mst_template *t;
                rc = env_get(env, rel->data, rel->len - strlen(".mustache"), &t, err, errlen);
            }
        }
        buf_free(&full);
        rel->len = rel_len;
        if (rel->data) rel->data[rel_len] = '\0';
    }
    closedir(d);
    buf_free(&path);
    return rc;
}

int mst_env_preload(mst_env *env, char *err, size_t errlen)
{
    if (!env || !env->dir) return 0; /* in-memory envs are compiled on add */
    buf rel = BUF_INIT;
    int rc = preload_dir(env, &rel, 0, err, errlen);
    buf_free(&rel);
    return rc;
}

/* -------------------------------------------------------------- rendering */

typedef struct cstack { /* context stack, innermost first, on the C stack */
    json_t *v;
    const struct cstack *up;
} cstack;

typedef struct frame { /* active parent calls, innermost first */
    const node *parent;
    const struct frame *up;
} frame;

typedef struct rstate {
    mst_env *env;
    buf *out;
    buf ind;          /* indentation stack: the current one is ind[ind_start, ind.len) */
    size_t ind_start;
    int depth;        /* partial / parent / block-override expansions */
    int nest;         /* render() recursion */
    char *err;
    size_t errlen;
} rstate;

static json_t *lookup(const cstack *cs, const node *nd)
{
    if (nd->nparts == 0) return cs ? cs->v : NULL; /* {{.}} */
    json_t *v = NULL;
    /* The first part is searched down the stack; the rest must resolve from
     * there (spec: a broken chain is a miss, it does not fall back). */
    for (; cs; cs = cs->up)
        if (json_is_object(cs->v) && (v = json_object_getn(cs->v, nd->parts[0].s, nd->parts[0].n)) != NULL) break;
    for (size_t i = 1; v && i < nd->nparts; i++)
        v = json_is_object(v) ? json_object_getn(v, nd->parts[i].s, nd->parts[i].n) : NULL;
    return v;
}

static bool truthy(const json_t *v)
{
    if (!v) return false;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE: return false;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_STRING: return json_string_length(v) > 0;
    default: return true;
    }
}

/* Shortest "%g" form that reads back as the same double: 1.21 -> "1.21"
 * rather than "1.2099999999999999", 1.0 -> "1". */
static size_t fmt_real(char *tmp, size_t sz, double d)
{
    /* Fast path for what pages print most (ratings like 4.3, whole
     * numbers): d is exactly the double nearest k/10, so "k/10" written out
     * is its shortest form, the same text the %g loop below gives, without
     * two conversions. */
    if (fabs(d) < 1e14 && sz >= TEXT_INT64_DIGITS + 3) {
        double tenfold = d * 10.0;
        long long k = llround(tenfold);
        if ((double)k / 10.0 == d && (k != 0 || !signbit(d))) {
            size_t n = 0;
            if (k < 0) tmp[n++] = '-';
            unsigned long long a = k < 0 ? (unsigned long long)(-(k + 1)) + 1u : (unsigned long long)k;
            n += text_format_uint64(a / 10, tmp + n);
            if (a % 10) {
                tmp[n++] = '.';
                tmp[n++] = (char)('0' + a % 10);
                tmp[n] = '\0';
            }
            return n;
        }
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sz, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    for (int i = 0; i < n; i++)
        if (tmp[i] == ',') tmp[i] = '.'; /* a non-C LC_NUMERIC must not leak into pages */
    return n > 0 ? (size_t)n : 0;
}

static void put_value(buf *out, const json_t *v, bool escape)
{
    char tmp[48];
    const char *s;
    size_t n;
    if (!v) return;
    switch (json_typeof(v)) {
    case JSON_STRING:
        s = json_string_value(v);
        n = json_string_length(v);
        break;
    case JSON_INTEGER:
        n = text_format_int64((int64_t)json_integer_value(v), tmp);
        s = tmp;
        break;
    case JSON_REAL:
        n = fmt_real(tmp, sizeof tmp, json_real_value(v));
        s = tmp;
        break;
    case JSON_TRUE: s = "true", n = 4; break;
    case JSON_FALSE: s = "false", n = 5; break;
    default: return; /* null, objects and arrays print nothing */
    }
    if (escape)
        buf_append_html(out, s, n);
    else
        buf_append(out, s, n);
}

static int render(rstate *st, const node *v, size_t n, const cstack *cs, const frame *fr);

/* Render `kids` with extra indentation `ind` (fresh = drop the inherited one). */
static int render_indented(rstate *st, const node *kids, size_t nkids, const cstack *cs, const frame *fr,
                           bool fresh, const char *ind, size_t indn)
{
    size_t save_len = st->ind.len, save_start = st->ind_start;
    if (fresh) st->ind_start = st->ind.len;
    if (indn) buf_append(&st->ind, ind, indn);
    int rc = render(st, kids, nkids, cs, fr);
    st->ind.len = save_len;
    st->ind_start = save_start;
    return rc;
}

static int enter(rstate *st, const char *what, const char *name, size_t n)
{
    if (st->depth >= MST_MAX_DEPTH) {
        seterr(st->err, st->errlen, "%s \"%.*s\": expansions nested deeper than %d (recursive partial?)", what,
               (int)n, name, MST_MAX_DEPTH);
        return -1;
    }
    st->depth++;
    return 0;
}

/* {{>name}} and {{<name}}...{{/name}}. A partial is a parent without overrides. */
static int expand(rstate *st, const node *nd, const cstack *cs, const frame *fr)
{
    const char *name = nd->s;
    size_t n = nd->n;
    if (nd->dynamic) {
        json_t *v = lookup(cs, nd);
        if (!json_is_string(v) || json_string_length(v) == 0) return 0; /* miss renders "" */
        name = json_string_value(v);
        n = json_string_length(v);
    }
    const mst_template *t;
    if (env_get(st->env, name, n, &t, st->err, st->errlen) != 0) return -1;
    if (!t) return 0; /* spec: a missing partial renders as "" */
    if (enter(st, nd->kind == N_PARENT ? "parent" : "partial", name, n) != 0) return -1;
    frame f = {nd, fr};
    /* A standalone partial indents every line of its template by the tag's
     * indentation (on top of ours); an inline one starts from no indentation,
     * as the spec indents the partial's own lines only. */
    int rc = render_indented(st, t->root, t->nroot, cs, nd->kind == N_PARENT ? &f : fr, !nd->standalone, nd->ind,
                             nd->indn);
    st->depth--;
    return rc;
}

/* {{$name}}...{{/name}}: the outermost parent call that overrides `name`
 * wins (spec: "top-level substitutions take precedence"); else the default. */
static int expand_block(rstate *st, const node *nd, const cstack *cs, const frame *fr)
{
    const node *body = nd;
    for (const frame *f = fr; f; f = f->up) {
        const node *p = f->parent;
        for (size_t j = 0; j < p->nkids; j++) {
            if (p->kids[j].n == nd->n && memcmp(p->kids[j].s, nd->s, nd->n) == 0) {
                body = &p->kids[j];
                break;
            }
        }
    }
    /* An override may itself contain {{$name}}, which resolves to the same
     * override again: count it as an expansion so that loops end in an error. */
    if (body != nd && enter(st, "block", nd->s, nd->n) != 0) return -1;
    int rc = render_indented(st, body->kids, body->nkids, cs, fr, false, nd->ind, nd->standalone ? nd->indn : 0);
    if (body != nd) st->depth--;
    return rc;
}

static int render(rstate *st, const node *v, size_t n, const cstack *cs, const frame *fr)
{
    if (++st->nest > RENDER_MAX_NEST) {
        seterr(st->err, st->errlen, "template nesting deeper than %d while rendering", RENDER_MAX_NEST);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const node *nd = &v[i];
        switch (nd->kind) {
        case N_TEXT: buf_append(st->out, nd->s, nd->n); break;
        case N_INDENT:
            if (st->ind.len > st->ind_start)
                buf_append(st->out, st->ind.data + st->ind_start, st->ind.len - st->ind_start);
            break;
        case N_VAR:
        case N_RAW: put_value(st->out, lookup(cs, nd), nd->kind == N_VAR); break;
        case N_SECTION: {
            json_t *val = lookup(cs, nd);
            if (!truthy(val)) break;
            if (json_is_array(val)) {
                for (size_t j = 0; j < json_array_size(val) && rc == 0; j++) {
                    cstack c = {json_array_get(val, j), cs};
                    rc = render(st, nd->kids, nd->nkids, &c, fr);
                }
            } else {
                cstack c = {val, cs};
                rc = render(st, nd->kids, nd->nkids, &c, fr);
            }
            break;
        }
        case N_INVERTED:
            if (!truthy(lookup(cs, nd))) rc = render(st, nd->kids, nd->nkids, cs, fr);
            break;
        case N_PARTIAL:
        case N_PARENT: rc = expand(st, nd, cs, fr); break;
        case N_BLOCK: rc = expand_block(st, nd, cs, fr); break;
        }
    }
    st->nest--;
    return rc;
}

int mst_render_template(mst_env *env, const mst_template *t, json_t *ctx, buf *out, char *err, size_t errlen)
{
    if (!t || !out) {
        seterr(err, errlen, "mst_render_template: no template or output buffer");
        return -1;
    }
    size_t mark = out->len;
    rstate st = {.env = env, .out = out, .ind = BUF_INIT, .err = err, .errlen = errlen};
    cstack root = {ctx, NULL};
    int rc = render(&st, t->root, t->nroot, ctx ? &root : NULL, NULL);
    buf_free(&st.ind);
    if (rc != 0) { /* never hand back half a page */
        out->len = mark;
        if (out->data) out->data[mark] = '\0';
    }
    return rc;
}

int mst_render(mst_env *env, const char *name, json_t *ctx, buf *out, char *err, size_t errlen)
{
    if (!env || !name) {
        seterr(err, errlen, "mst_render: no env or name");
        return -1;
    }
    const mst_template *t;
    if (env_get(env, name, strlen(name), &t, err, errlen) != 0) return -1;
    if (!t) {
        seterr(err, errlen, "unknown template \"%s\"", name);
        return -1;
    }
    return mst_render_template(env, t, ctx, out, err, errlen);
}
