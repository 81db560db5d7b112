/* mustache.h — Mustache templates for ShoEase (spec v1.4: interpolation,
 * sections, inverted, comments, partials, set-delimiters, inheritance
 * (blocks and parents) and dynamic names; no lambdas).
 *
 * Usage:
 *     mst_env *env = mst_env_new_dir("templates");
 *     if (mst_env_preload(env, err, sizeof err) != 0) die(err);  // before threads
 *     ...
 *     buf page = BUF_INIT;
 *     if (mst_render(env, "product", ctx, &page, err, sizeof err) != 0) ...
 *
 * Templates are compiled once into a node tree; rendering never re-parses and
 * allocates nothing per node (only the output buffer grows, plus one small
 * indentation buffer when standalone partials are indented).
 *
 * Data model (the context is a jansson json_t*):
 *   - Falsey for sections: missing, null, false, [] and "" (the empty string
 *     is falsey as in mustache.js, so {{#discount}} hides an empty field).
 *     0 is truthy. Objects (even {}) are truthy.
 *   - {{x}} renders strings as is, integers in decimal, reals in the shortest
 *     form that reads back to the same double (1.5 -> "1.5", 1.0 -> "1"),
 *     true/false as "true"/"false", and null, objects and arrays as "".
 *   - {{x}} is HTML-escaped (& < > " '), {{{x}}} and {{& x}} are not.
 *
 * Layouts: a page written as
 *     {{<layout}}
 *     {{$content}}
 *     <h1>{{title}}</h1>
 *     {{/content}}
 *     {{/layout}}
 * fills the {{$content}}...{{/content}} block of layout.mustache. Put a
 * layout's block tags on their own lines ("  {{$content}}\n  {{/content}}")
 * so the block is re-indented to the tag's column and leaves no blank line;
 * an empty pair on one line ("{{$content}}{{/content}}") keeps its newline,
 * as the spec requires.
 *
 * Thread safety: a compiled mst_template is immutable and may be rendered by
 * many threads at once. An mst_env may be shared by threads: lookups take a
 * read lock, lazy loads and additions take the write lock. */
#ifndef SHOEASE_MUSTACHE_H
#define SHOEASE_MUSTACHE_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

typedef struct mst_template mst_template;   /* compiled, immutable, thread-safe to render concurrently */
typedef struct mst_env mst_env;             /* a set of named templates (partials/parents resolve here) */

/* Limits. Exceeding them is an error, never a crash. */
#define MST_MAX_DEPTH 64          /* nested partial / parent / block expansions while rendering */
#define MST_MAX_NESTING 100       /* nested sections/blocks/parents inside one template */
#define MST_MAX_NAME 255          /* template name length */

/* Compile source; on syntax error returns NULL and writes "line N: message" into err
 * (err may be NULL when errlen is 0). The source is copied: the caller keeps ownership. */
mst_template *mst_compile(const char *src, size_t len, char *err, size_t errlen);
void mst_free(mst_template *t);

/* An environment that loads templates by name from a directory: "product" ->
 * <dir>/product.mustache, "partials/card" -> <dir>/partials/card.mustache.
 * Names that are empty, longer than MST_MAX_NAME, start with '/' or contain ".."
 * are refused. Templates are compiled on first use and cached (thread-safe);
 * a missing file is remembered as missing. Returns NULL only if out of memory. */
mst_env *mst_env_new_dir(const char *dir);
/* Compile every *.mustache file under the env's directory (recursively) now, so
 * that syntax errors surface at startup. Returns 0, or -1 with err filled
 * ("<name>: line N: message", or an I/O error). Safe to call at any time. */
int mst_env_preload(mst_env *env, char *err, size_t errlen);
/* An environment from an in-memory name->source map. */
mst_env *mst_env_new(void);
/* Compile src and register it under name. Returns 0, or -1 with err filled
 * (syntax error, invalid name, or name already defined: templates are never
 * replaced, because other threads may be rendering them). */
int mst_env_add(mst_env *env, const char *name, const char *src, size_t len, char *err, size_t errlen);
void mst_env_free(mst_env *env);

/* Render template `name` from env with ctx, appending to out. Returns 0, or -1 with err
 * filled (unknown template, syntax error in a loaded file, invalid name, recursion too
 * deep); on error out is restored to its length before the call. Missing partials and
 * parents render as the empty string (spec). */
int mst_render(mst_env *env, const char *name, json_t *ctx, buf *out, char *err, size_t errlen);
/* Render a compiled template directly (partials looked up in env, which may be NULL:
 * then every partial is missing and renders as ""). Same return convention. */
int mst_render_template(mst_env *env, const mst_template *t, json_t *ctx, buf *out, char *err, size_t errlen);

#endif
