/* admin_taxonomy.c — the admin portal's categories (a tree), brands and
 * colours: lists, create/edit forms with messages beside the fields, and
 * deleting (the password again: policy reauth). The rules are the shop's
 * (shop/taxonomy_admin.h); every save is one unit of work with its audit
 * row and refreshes every storefront page after the commit. Routes:
 * app.c's admin table.
 *
 *   GET  /categories            the tree, with product counts
 *   GET  /categories/new        the form;  POST: create
 *   GET  /categories/{id}       the form;  POST: save
 *   POST /categories/{id}/delete           only when empty
 *   … the same under /brands and /colours (lists with search, sorting, CSV). */
#include "views/views.h"

#include "core/text.h"
#include "shop/taxonomy_admin.h"
#include "views/admin_ui.h"
#include "views/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *suffix, *title, *plural, *nav, *shop_prefix;
} words[] = {
    [TAX_CATEGORY] = {"/categories", "Category", "Categories", "categories", "/category/"},
    [TAX_BRAND] = {"/brands", "Brand", "Brands", "brands", "/shoes?brand="},
    [TAX_COLOUR] = {"/colours", "Colour", "Colours", "colours", "/shoes?colour="},
};

static int64_t path_id(http_request *req)
{
    long long id = 0;
    const char *p = req_param(req, "id");
    return p && text_parse_int64(p, 1, 1LL << 32, &id) ? id : 0;
}

static const char *edit_url(http_request *req, tax_kind kind, int64_t id)
{
    return admin_url(req, arena_printf(req->pool, "%s/%lld", words[kind].suffix, (long long)id));
}

static const char *shop_url(http_request *req, tax_kind kind, const char *slug)
{
    return arena_printf(req->pool, "%s%s", words[kind].shop_prefix, slug);
}

/* "12 products" / "1 product" */
static const char *count_of(http_request *req, int64_t n, const char *one, const char *many)
{
    return arena_printf(req->pool, "%lld %s", (long long)n, n == 1 ? one : many);
}

/* ---------- the form ---------- */

/* The parent choices: every category but this one and those under it,
 * depth first, indented by level. */
static json_t *parent_field(http_request *req, const tax_node *nodes, int n, int64_t self, int64_t chosen)
{
    json_t *opts = json_array();
    json_array_append_new(opts, admin_option("", "— none: a top-level category —", chosen == 0));
    for (int i = 0; i < n; i++) {
        if (self > 0 && taxonomy_within(nodes, n, nodes[i].row.id, self)) continue;
        char indent[3 * TAX_MAX_DEPTH + 1] = "";
        for (int d = 0; d < nodes[i].depth && d < TAX_MAX_DEPTH; d++) strcat(indent, "\u2003");
        json_array_append_new(opts, admin_option(arena_printf(req->pool, "%lld", (long long)nodes[i].row.id),
                                                 arena_printf(req->pool, "%s%s", indent, nodes[i].row.name),
                                                 nodes[i].row.id == chosen));
    }
    return admin_select("parent", "Parent category", opts, false,
                        "Where it sits in the shop's navigation. A category cannot go under itself or its own "
                        "subcategories.");
}

/* What uses a row, in words, and whether anything does: a category's
 * products (directly and in its branch) and subcategories from the tree. */
static const char *uses_text(http_request *req, tax_kind kind, const tax_row *row, const tax_node *nodes, int n,
                             bool *in_use)
{
    *in_use = row->uses > 0;
    if (kind != TAX_CATEGORY) return count_of(req, row->uses, "product", "products");
    for (int i = 0; i < n; i++)
        if (nodes[i].row.id == row->id) {
            *in_use = nodes[i].row.uses > 0 || nodes[i].children > 0;
            return arena_printf(req->pool, "%s directly in it, %s in its branch, %s",
                                count_of(req, nodes[i].row.uses, "product", "products"),
                                count_of(req, nodes[i].subtree_products, "product", "products"),
                                count_of(req, nodes[i].children, "subcategory", "subcategories"));
        }
    return count_of(req, row->uses, "product", "products");
}

/* The create/edit page. row: the saved row (editing), or NULL; typed: what
 * was sent (shown again after a refusal), or NULL; e: the refusal. */
static void form_page(http_request *req, http_response *res, int status, tax_kind kind, const tax_row *row,
                      const tax_form *typed, const shop_error *e)
{
    char pos[24] = "", parent_buf[24] = "";
    if (row) {
        snprintf(pos, sizeof pos, "%lld", (long long)row->position);
        if (row->parent_id > 0) snprintf(parent_buf, sizeof parent_buf, "%lld", (long long)row->parent_id);
    }
    const char *name = typed ? typed->name : row ? row->name : "";
    const char *slug = typed ? typed->slug : row ? row->slug : "";
    const char *position = typed ? typed->position : pos;
    const char *hex = typed ? typed->hex : row ? row->hex : "";
    long long parent = 0;
    const char *parent_text = typed ? typed->parent : parent_buf;
    if (parent_text && *parent_text) text_parse_int64(parent_text, 1, 1LL << 32, &parent);
    if (!typed && !row && req_query(req, "parent"))   /* the "add a subcategory" link */
        text_parse_int64(req_query(req, "parent"), 1, 1LL << 32, &parent);

    bool colour = kind == TAX_COLOUR;
    arena *a = arena_new();   /* the category tree: parent choices, what uses the category */
    tax_node *nodes = NULL;
    int nnodes = 0;
    shop_error te;
    if (kind == TAX_CATEGORY && taxonomy_tree(a, &nodes, &nnodes, &te) != SHOP_OK) nnodes = 0;
    json_t *fields = json_array();
    json_array_append_new(fields, admin_field("name", "Name", "text", name, true, NULL, colour ? 40 : 80));
    json_array_append_new(fields, admin_field("slug", "Slug", "text", slug, false,
                                        kind == TAX_CATEGORY
                                            ? "Its address in the shop: lower-case letters and digits with single "
                                              "hyphens (like trail-running). Left empty, it is made from the name. "
                                              "Changed, the old address keeps leading here."
                                            : "Its address in the shop: lower-case letters and digits with single "
                                              "hyphens (like trail-running). Left empty, it is made from the name.",
                                        colour ? 40 : 80));
    if (kind == TAX_CATEGORY) json_array_append_new(fields, parent_field(req, nodes, nnodes, row ? row->id : 0, parent));
    if (colour)
        json_array_append_new(fields, admin_field("hex", "Swatch", "text", hex, true,
                                            "# and six hex digits, like #1f2a44: the dot shoppers see.", 7));
    if (kind != TAX_BRAND)
        json_array_append_new(fields, admin_field("position", "Position", "text", position, false,
                                            kind == TAX_CATEGORY ? "Order among its siblings: smaller comes first."
                                                                 : "Order in swatches and filters: smaller comes first.",
                                            8));
    json_t *pf = json_array_get(fields, json_array_size(fields) - 1);
    if (kind != TAX_BRAND) json_object_set_new(pf, "inputmode", json_string("numeric"));

    const char *noun = taxonomy_noun(kind);
    json_t *ctx = json_object();
    json_object_set_new(ctx, "page_title", json_string(row ? arena_printf(req->pool, "%s: %s", words[kind].title, row->name)
                                                           : arena_printf(req->pool, "New %s", noun)));
    json_object_set_new(ctx, "heading", json_string(row ? arena_printf(req->pool, "%s “%s”", words[kind].title, row->name)
                                                        : arena_printf(req->pool, "New %s", noun)));
    json_object_set_new(ctx, "action", json_string(row ? edit_url(req, kind, row->id)
                                                       : admin_url(req, arena_printf(req->pool, "%s/new",
                                                                                     words[kind].suffix))));
    json_object_set_new(ctx, "back", json_string(admin_url(req, words[kind].suffix)));
    json_object_set_new(ctx, "noun", json_string(noun));
    json_object_set_new(ctx, "plural", json_string(words[kind].plural));
    if (colour && taxonomy_hex_valid(hex)) json_object_set_new(ctx, "swatch", json_string(hex));
    if (row) {
        json_t *ed = json_pack("{s:s,s:s,s:s}", "delete", arena_printf(req->pool, "%s/delete", edit_url(req, kind, row->id)),
                               "shop", shop_url(req, kind, row->slug), "audit",
                               admin_url(req, arena_printf(req->pool, "/audit?entity=%s&q=%lld", noun, (long long)row->id)));
        bool in_use;
        json_object_set_new(ed, "uses", json_string(uses_text(req, kind, row, nodes, nnodes, &in_use)));
        json_object_set_new(ed, "in_use", json_boolean(in_use));
        if (kind == TAX_CATEGORY)
            json_object_set_new(ed, "add_child", json_string(admin_url(
                                                     req, arena_printf(req->pool, "/categories/new?parent=%lld",
                                                                       (long long)row->id))));
        json_object_set_new(ctx, "editing", ed);
    }
    arena_free(a);
    if (e) view_form_error(ctx, fields, e);
    json_object_set_new(ctx, "fields", fields);
    admin_page(req, res, status, "admin/taxonomy_form", words[kind].nav, ctx);
}

static tax_form read_form(http_request *req)
{
    return (tax_form){.name = req_form(req, "name"), .slug = req_form(req, "slug"), .parent = req_form(req, "parent"),
                      .position = req_form(req, "position"), .hex = req_form(req, "hex")};
}

static void new_form(http_request *req, http_response *res, tax_kind kind)
{
    form_page(req, res, 200, kind, NULL, NULL, NULL);
}

static void create(http_request *req, http_response *res, tax_kind kind)
{
    tax_form f = read_form(req);
    audit_actor who = admin_actor(req);
    shop_error e;
    int64_t id;
    if (taxonomy_save(&who, kind, 0, &f, &id, NULL, &e) != SHOP_OK) {
        form_page(req, res, view_error_status(&e), kind, NULL, &f, &e);
        return;
    }
    admin_done(req, res, words[kind].suffix,
               arena_printf(req->pool, "%s “%s” created: the shop shows it now.", words[kind].title, f.name));
}

/* The saved row for an edit page, or the answer (404, 503) sent. */
static bool load(http_request *req, http_response *res, arena *a, tax_kind kind, tax_row *row)
{
    shop_error e;
    int64_t id = path_id(req);
    if (id <= 0) {
        res_error(req, res, 404, "We could not find that page.");
        return false;
    }
    if (taxonomy_get(a, kind, id, row, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return false;
    }
    return true;
}

static void edit_form(http_request *req, http_response *res, tax_kind kind)
{
    arena *a = arena_new();
    tax_row row;
    if (load(req, res, a, kind, &row)) form_page(req, res, 200, kind, &row, NULL, NULL);
    arena_free(a);
}

static void update(http_request *req, http_response *res, tax_kind kind)
{
    arena *a = arena_new();
    tax_row row;
    if (!load(req, res, a, kind, &row)) {
        arena_free(a);
        return;
    }
    tax_form f = read_form(req);
    audit_actor who = admin_actor(req);
    shop_error e;
    bool changed = false;
    if (taxonomy_save(&who, kind, row.id, &f, NULL, &changed, &e) != SHOP_OK) {
        if (e.status == SHOP_NOT_FOUND || e.status == SHOP_UNAVAILABLE) view_shop_error(req, res, &e);
        else form_page(req, res, view_error_status(&e), kind, &row, &f, &e);
    } else {
        admin_done(req, res, words[kind].suffix,
                   changed ? arena_printf(req->pool, "%s “%s” saved: the shop shows it now.", words[kind].title, f.name)
                           : arena_printf(req->pool, "Nothing changed in %s “%s”.", taxonomy_noun(kind), row.name));
    }
    arena_free(a);
}

static void delete(http_request *req, http_response *res, tax_kind kind)
{
    arena *a = arena_new();
    tax_row row;
    if (!load(req, res, a, kind, &row)) {
        arena_free(a);
        return;
    }
    audit_actor who = admin_actor(req);
    shop_error e;
    if (taxonomy_delete(&who, kind, row.id, &e) != SHOP_OK) {
        /* in use: the form again, saying what uses it */
        if (e.status == SHOP_CONFLICT) form_page(req, res, 409, kind, &row, NULL, &e);
        else view_shop_error(req, res, &e);
    } else {
        admin_done(req, res, words[kind].suffix, arena_printf(req->pool, "%s “%s” deleted.", words[kind].title, row.name));
    }
    arena_free(a);
}

/* ---------- the category tree ---------- */

void admin_categories(http_request *req, http_response *res)
{
    arena *a = arena_new();
    tax_node *nodes;
    int n;
    shop_error e;
    if (taxonomy_tree(a, &nodes, &n, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        const tax_row *r = &nodes[i].row;
        json_array_append_new(
            rows, json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:i,s:b}", "id", (json_int_t)r->id, "name", r->name,
                            "slug", r->slug, "edit", edit_url(req, TAX_CATEGORY, r->id), "shop",
                            shop_url(req, TAX_CATEGORY, r->slug), "depth", nodes[i].depth > 8 ? 8 : nodes[i].depth,
                            "position", (json_int_t)r->position, "products", (json_int_t)r->uses, "subtree",
                            (json_int_t)nodes[i].subtree_products, "children", nodes[i].children, "top",
                            nodes[i].depth == 0));
    }
    arena_free(a);
    json_t *ctx = json_pack("{s:s,s:o,s:b,s:s}", "page_title", "Categories", "rows", rows, "empty", n == 0, "new",
                            admin_url(req, "/categories/new"));
    admin_page(req, res, 200, "admin/categories", "categories", ctx);
}

/* ---------- brands and colours ---------- */

static void list(http_request *req, http_response *res, tax_kind kind)
{
    static const char *const sortable[] = {"name", "slug", "uses", "position", NULL};
    bool colour = kind == TAX_COLOUR;
    admin_list lp;
    admin_list_read(req, sortable, colour ? "position" : "name", false, &lp);
    arena *a = arena_new();
    int max = lp.per_page, n = 0;
    tax_row *rows = arena_alloc(a, (size_t)max * sizeof *rows);
    int64_t total = 0;
    shop_error e;
    if (taxonomy_search(a, kind, lp.q, lp.sort, lp.desc, lp.offset, max, rows, &n, &total, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    if (lp.csv) {
        static const char *const header[] = {"id", "name", "slug", "products", "swatch", "position"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out, json_pack("[I,s,s,I,s,I]", (json_int_t)rows[i].id, rows[i].name, rows[i].slug,
                                                 (json_int_t)rows[i].uses, rows[i].hex, (json_int_t)rows[i].position));
        arena_free(a);
        admin_csv(req, res, colour ? "colours.csv" : "brands.csv", header, colour ? 6 : 4, out);
        json_decref(out);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:I}", "name", rows[i].name, "slug",
                                               rows[i].slug, "edit", edit_url(req, kind, rows[i].id), "shop",
                                               shop_url(req, kind, rows[i].slug), "uses", (json_int_t)rows[i].uses,
                                               "hex", rows[i].hex, "position", (json_int_t)rows[i].position));
    arena_free(a);
    json_t *sort = json_pack("{s:o,s:o,s:o,s:o}", "name", admin_sort_link(req, &lp, "name"), "slug",
                             admin_sort_link(req, &lp, "slug"), "uses", admin_sort_link(req, &lp, "uses"), "position",
                             admin_sort_link(req, &lp, "position"));
    json_t *ctx = json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:b,s:b,s:s,s:s}", "page_title", words[kind].plural,
                            "noun", taxonomy_noun(kind), "rows", items, "sort", sort, "pages",
                            admin_pages(req, &lp, total), "q", lp.q ? lp.q : "", "empty", n == 0, "colours", colour,
                            "new", admin_url(req, arena_printf(req->pool, "%s/new", words[kind].suffix)), "action",
                            admin_url(req, words[kind].suffix));
    admin_page(req, res, 200, "admin/taxonomy_list", words[kind].nav, ctx);
}

/* ---------- the routes' handlers ---------- */

#define KIND_HANDLERS(prefix, plural, kind)                                                                         \
    void admin_##plural(http_request *req, http_response *res) { list(req, res, kind); }                          \
    void admin_##prefix##_new(http_request *req, http_response *res) { new_form(req, res, kind); }                \
    void admin_##prefix##_create(http_request *req, http_response *res) { create(req, res, kind); }               \
    void admin_##prefix##_edit(http_request *req, http_response *res) { edit_form(req, res, kind); }              \
    void admin_##prefix##_update(http_request *req, http_response *res) { update(req, res, kind); }               \
    void admin_##prefix##_delete(http_request *req, http_response *res) { delete(req, res, kind); }

KIND_HANDLERS(brand, brands, TAX_BRAND)
KIND_HANDLERS(colour, colours, TAX_COLOUR)

void admin_category_new(http_request *req, http_response *res) { new_form(req, res, TAX_CATEGORY); }
void admin_category_create(http_request *req, http_response *res) { create(req, res, TAX_CATEGORY); }
void admin_category_edit(http_request *req, http_response *res) { edit_form(req, res, TAX_CATEGORY); }
void admin_category_update(http_request *req, http_response *res) { update(req, res, TAX_CATEGORY); }
void admin_category_delete(http_request *req, http_response *res) { delete(req, res, TAX_CATEGORY); }
