/* admin_products.c — the portal's products: the list (search, filters,
 * sorting, pages, CSV, bulk activation), the create/edit form (inline
 * messages, the version that catches a concurrent edit), the size grid
 * (stock per cell, a whole size run at once) and each size's stock
 * adjustments with their history. Every write goes through
 * shop/product_admin.h; who may call these is the route table's (app.c:
 * staff, hidden, CSRF). */
#include "views/views.h"

#include "core/config.h"
#include "core/text.h"
#include "http/router.h"
#include "shop/catalog.h"
#include "shop/product_admin.h"
#include "shop/taxonomy_admin.h"
#include "views/admin_ui.h"
#include "views/forms.h"
#include "web/session.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t path_id(http_request *req)
{
    long long id = 0;
    const char *s = req_param(req, "id");
    return s && text_parse_int64(s, 1, 4294967295LL, &id) ? id : 0;
}

static const char *num(http_request *req, int64_t v) { return arena_printf(req->pool, "%lld", (long long)v); }

/* "1 size" / "3 sizes" */
static const char *count_of(http_request *req, int64_t n, const char *one, const char *many)
{
    return arena_printf(req->pool, "%lld %s", (long long)n, n == 1 ? one : many);
}

/* Minor units → what staff type: 8999 → "89.99". */
static const char *major(http_request *req, int64_t minor)
{
    if (minor < 0) return "";
    return arena_printf(req->pool, "%lld.%02lld", (long long)(minor / 100), (long long)(minor % 100));
}

static const char *money_display(http_request *req, int64_t minor, const char *currency)
{
    char out[MONEY_FORMAT_MAX];
    money_format(money_make(minor, currency && *currency ? currency : cfg.currency), out, sizeof out);
    return arena_strdup(req->pool, out);
}

static const char *product_url(http_request *req, int64_t id, const char *tail)
{
    return admin_url(req, arena_printf(req->pool, "/products/%lld%s", (long long)id, tail ? tail : ""));
}

/* Errors beside their fields: each on its field in fields, or (a field
 * the page draws itself) in ctx as "<field>_error", or the form's "error". */
static void put_errors(http_request *req, json_t *ctx, json_t *fields, const product_errors *errs)
{
    for (int i = errs->n - 1; i >= 0; i--) {   /* the first message wins where two meet */
        const shop_error *e = &errs->e[i];
        bool on_field = false;
        size_t k;
        json_t *f;
        json_array_foreach(fields, k, f) {
            if (e->field && !strcmp(json_string_value(json_object_get(f, "name")), e->field)) on_field = true;
        }
        if (on_field || !e->field) view_form_error(ctx, fields, e);
        else json_object_set_new(ctx, arena_printf(req->pool, "%s_error", e->field), json_string(e->message));
    }
}

static const char *const gender_codes[] = {"men", "women", "kids", "unisex", NULL};
static const char *const gender_labels[] = {"Men", "Women", "Kids", "Everyone (unisex)", NULL};
static const char *const tax_codes[] = {"standard", "reduced", "zero", NULL};

static json_t *options_of(const char *const *codes, const char *const *labels, const char *chosen, const char *none)
{
    json_t *o = json_array();
    if (none) json_array_append_new(o, admin_option("", none, !chosen || !*chosen));
    for (int i = 0; codes[i]; i++)
        json_array_append_new(o, admin_option(codes[i], labels[i], chosen && !strcmp(chosen, codes[i])));
    return o;
}

/* Categories as the tree, indented by level (value: the id). */
static json_t *category_options(http_request *req, const char *chosen, const char *none)
{
    json_t *o = json_array();
    json_array_append_new(o, admin_option("", none, !chosen || !*chosen));
    arena *a = arena_new();
    tax_node *nodes;
    int n;
    shop_error e;
    if (taxonomy_tree(a, &nodes, &n, &e) == SHOP_OK) {
        for (int i = 0; i < n; i++) {
            char indent[64] = "";
            for (int d = 0; d < nodes[i].depth && d < 8; d++) strcat(indent, "\u2003");
            const char *code = num(req, nodes[i].row.id);
            json_array_append_new(o, admin_option(code, arena_printf(req->pool, "%s%s", indent, nodes[i].row.name),
                                                  chosen && !strcmp(chosen, code)));
        }
    }
    arena_free(a);
    return o;
}

static json_t *choice_options(http_request *req, const pa_choice *c, int n, const char *chosen, const char *none)
{
    json_t *o = json_array();
    json_array_append_new(o, admin_option("", none, !chosen || !*chosen));
    for (int i = 0; i < n; i++) {
        const char *code = num(req, c[i].id);
        json_array_append_new(o, admin_option(code, c[i].name, chosen && !strcmp(chosen, code)));
    }
    return o;
}

/* ------------------------------------------------------------------ */
/* The list                                                             */

static const struct {
    const char *code, *label;
} stock_filters[PA_STOCK_STATES] = {
    [PA_STOCK_ANY] = {"", "Any"},
    [PA_STOCK_IN] = {"in", "In stock"},
    [PA_STOCK_LOW] = {"low", "A size running low (1–3)"},
    [PA_STOCK_PARTLY] = {"partly", "Some sizes sold out"},
    [PA_STOCK_OUT] = {"out", "Sold out"},
    [PA_STOCK_NO_SIZES] = {"none", "No sizes yet"},
};

static json_t *stock_badge(const pa_product *p)
{
    if (p->variants == 0) return json_pack("{s:s,s:s}", "label", "no sizes", "kind", "warn");
    if (p->stock_total == 0) return json_pack("{s:s,s:s}", "label", "sold out", "kind", "bad");
    if (p->cells_in_stock < p->variants) return json_pack("{s:s,s:s}", "label", "some sizes out", "kind", "warn");
    if (p->cells_low > 0) return json_pack("{s:s,s:s}", "label", "running low", "kind", "warn");
    return json_pack("{s:s,s:s}", "label", "in stock", "kind", "ok");
}

void admin_products(http_request *req, http_response *res)
{
    static const char *const sortable[] = {"name", "price", "stock", "updated", NULL};
    admin_list lp;
    admin_list_read(req, sortable, "updated", true, &lp);
    pa_list_query q = {.q = lp.q, .active = -1, .desc = lp.desc, .offset = lp.offset, .limit = lp.per_page};
    for (int i = 0; sortable[i]; i++)
        if (!strcmp(lp.sort, sortable[i])) q.sort = (enum pa_sort)i;
    long long v;
    const char *category = req_query(req, "category"), *brand = req_query(req, "brand");
    const char *active = req_query(req, "active"), *stock = req_query(req, "stock");
    if (category && text_parse_int64(category, 1, 4294967295LL, &v)) q.category_id = v;
    if (brand && text_parse_int64(brand, 1, 4294967295LL, &v)) q.brand_id = v;
    if (active && (!strcmp(active, "1") || !strcmp(active, "0"))) q.active = active[0] - '0';
    for (int i = 1; stock && i < PA_STOCK_STATES; i++)
        if (!strcmp(stock, stock_filters[i].code)) q.stock = (enum pa_stock_state)i;

    arena *a = arena_new();
    pa_product *rows;
    int n;
    int64_t total;
    shop_error e;
    pa_choices ch;
    if (product_admin_list(&q, a, &rows, &n, &total, &e) != SHOP_OK || product_admin_choices(a, &ch, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    if (lp.csv) {
        static const char *const header[] = {"id", "name", "slug", "brand", "category", "gender", "price",
                                             "compare at", "currency", "VAT", "active", "featured", "sizes",
                                             "pairs in stock", "version", "updated (UTC)"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++) {
            const pa_product *p = &rows[i];
            json_array_append_new(out, json_pack("[I,s,s,s,s,s,s,s,s,s,b,b,I,I,I,s]", (json_int_t)p->id, p->name, p->slug,
                                                 p->brand_name, p->category_name, p->gender, major(req, p->price),
                                                 major(req, p->compare_at), p->currency, p->tax_class, p->active,
                                                 p->featured, (json_int_t)p->variants, (json_int_t)p->stock_total,
                                                 (json_int_t)p->version, p->updated_at));
        }
        arena_free(a);
        admin_csv(req, res, "products.csv", header, 16, out);
        json_decref(out);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const pa_product *p = &rows[i];
        json_t *row = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:o,s:s,s:s,s:s}", "id", (json_int_t)p->id,
                                "name", p->name, "slug", p->slug, "brand", p->brand_name, "category", p->category_name,
                                "edit", product_url(req, p->id, NULL), "variants_url", product_url(req, p->id, "/variants"),
                                "active", p->active, "featured", p->featured, "sizes", count_of(req, p->variants, "size", "sizes"),
                                "pairs", count_of(req, p->stock_total, "pair", "pairs"), "badge", stock_badge(p), "price",
                                money_display(req, p->price, p->currency), "shop",
                                arena_printf(req->pool, "/products/%s", p->slug), "updated", p->updated_at);
        if (p->compare_at >= 0)
            json_object_set_new(row, "compare_at", json_string(money_display(req, p->compare_at, p->currency)));
        json_array_append_new(list, row);
    }
    json_t *active_opts = json_array();
    json_array_append_new(active_opts, admin_option("", "Any", q.active < 0));
    json_array_append_new(active_opts, admin_option("1", "Active (on sale)", q.active == 1));
    json_array_append_new(active_opts, admin_option("0", "Inactive (hidden)", q.active == 0));
    json_t *stock_opts = json_array();
    for (int i = 0; i < PA_STOCK_STATES; i++)
        json_array_append_new(stock_opts, admin_option(stock_filters[i].code, stock_filters[i].label, (int)q.stock == i));
    const char *raw_q = strchr(req->raw_uri, '?');
    json_t *ctx = json_pack(
        "{s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:b,s:{s:o,s:o,s:o,s:o}}", "page_title", "Products", "rows", list,
        "pages", admin_pages(req, &lp, total), "q", lp.q ? lp.q : "", "categories",
        category_options(req, category, "Any"), "brands", choice_options(req, ch.brands, ch.nbrands, brand, "Any"),
        "active_opts", active_opts, "stock_opts", stock_opts, "new", admin_url(req, "/products/new"), "bulk",
        admin_url(req, "/products/bulk"), "return", raw_q ? raw_q : "", "empty", n == 0, "sort", "name",
        admin_sort_link(req, &lp, "name"), "price", admin_sort_link(req, &lp, "price"), "stock",
        admin_sort_link(req, &lp, "stock"), "updated", admin_sort_link(req, &lp, "updated"));
    arena_free(a);
    admin_page(req, res, 200, "admin/products", "products", ctx);
}

/* POST /products/bulk: action=activate|deactivate, id=… (repeated). */
void admin_products_bulk(http_request *req, http_response *res)
{
    const char *action = req_form(req, "action"), *back = req_form(req, "return");
    /* back to the list as it was: only a query string of our own list */
    const char *suffix = back && back[0] == '?' && strlen(back) < 1000 && !strpbrk(back, "\r\n\\")
                             ? arena_printf(req->pool, "/products%s", back)
                             : "/products";
    bool activate = action && !strcmp(action, "activate");
    if (!action || (!activate && strcmp(action, "deactivate"))) {
        res_error_shown(req, res, 422, "Choose Activate or Deactivate.");
        return;
    }
    int64_t ids[PRODUCT_BULK_MAX + 1];
    int n = 0;
    for (int i = 0; i < req->nform && n <= PRODUCT_BULK_MAX; i++) {
        long long id;
        if (strcmp(req->form[i].name, "id") || !text_parse_int64(req->form[i].value, 1, 4294967295LL, &id)) continue;
        bool dup = false;   /* once each, so the message counts products */
        for (int k = 0; k < n && !dup; k++) dup = ids[k] == id;
        if (!dup) ids[n++] = id;
    }
    audit_actor who = admin_actor(req);
    shop_error e;
    int changed;
    if (product_admin_set_active(&who, ids, n, activate, &changed, &e) != SHOP_OK) {
        if (e.status == SHOP_INVALID) {   /* nothing ticked: back to the list, told why */
            session_flash(req, "error", e.message);
            res_redirect(res, 303, admin_url(req, suffix));
            return;
        }
        view_shop_error(req, res, &e);
        return;
    }
    const char *what = activate ? "activated: on sale now" : "deactivated: hidden from the shop now";
    const char *msg = changed == n ? arena_printf(req->pool, "%d product%s %s.", changed, changed == 1 ? "" : "s", what)
                                   : arena_printf(req->pool, "%d product%s %s (%d %s so already).", changed,
                                                  changed == 1 ? "" : "s", what, n - changed,
                                                  n - changed == 1 ? "was" : "were");
    admin_done(req, res, suffix, msg);
}

/* ------------------------------------------------------------------ */
/* The product form                                                     */

static product_form form_of(http_request *req)
{
    return (product_form){.name = req_form(req, "name"), .slug = req_form(req, "slug"),
                          .brand_id = req_form(req, "brand_id"), .category_id = req_form(req, "category_id"),
                          .gender = req_form(req, "gender"), .description = req_form(req, "description"),
                          .material = req_form(req, "material"), .tags = req_form(req, "tags"),
                          .price = req_form(req, "price"), .compare_at = req_form(req, "compare_at"),
                          .tax_class = req_form(req, "tax_class"), .version = req_form(req, "version"),
                          .active = req_form(req, "active") != NULL, .featured = req_form(req, "featured") != NULL};
}

/* "running,road" → "running, road" */
static const char *spaced(http_request *req, const char *tags)
{
    char *out = arena_alloc(req->pool, strlen(tags) * 2 + 1), *o = out;
    for (const char *t = tags; *t; t++) {
        *o++ = *t;
        if (*t == ',') *o++ = ' ';
    }
    *o = '\0';
    return out;
}

/* A saved product as the form shows it. */
static product_form values_of(http_request *req, const pa_product *p)
{
    return (product_form){.name = p->name, .slug = p->slug, .brand_id = num(req, p->brand_id),
                          .category_id = num(req, p->category_id), .gender = p->gender, .description = p->description,
                          .material = p->material, .tags = spaced(req, p->tags),
                          .price = major(req, p->price), .compare_at = major(req, p->compare_at),
                          .tax_class = p->tax_class, .version = num(req, p->version), .active = p->active,
                          .featured = p->featured};
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* What the stale form said that differs from what is saved now. */
static json_t *your_changes(http_request *req, const product_form *typed, const product_form *saved)
{
    static const struct {
        const char *label;
        size_t off;
    } cmp[] = {
        {"Name", offsetof(product_form, name)},         {"Address (slug)", offsetof(product_form, slug)},
        {"Brand", offsetof(product_form, brand_id)},    {"Category", offsetof(product_form, category_id)},
        {"For", offsetof(product_form, gender)},        {"Price", offsetof(product_form, price)},
        {"Compare-at price", offsetof(product_form, compare_at)}, {"VAT", offsetof(product_form, tax_class)},
        {"Material", offsetof(product_form, material)}, {"Tags", offsetof(product_form, tags)},
        {"Description", offsetof(product_form, description)},
    };
    json_t *out = json_array();
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++) {
        const char *t = or_empty(*(const char *const *)((const char *)typed + cmp[i].off));
        const char *s = or_empty(*(const char *const *)((const char *)saved + cmp[i].off));
        if (strcmp(t, s)) json_array_append_new(out, json_pack("{s:s,s:s}", "label", cmp[i].label, "yours", t));
    }
    if (typed->active != saved->active)
        json_array_append_new(out, json_pack("{s:s,s:s}", "label", "Active", "yours", typed->active ? "yes" : "no"));
    if (typed->featured != saved->featured)
        json_array_append_new(out, json_pack("{s:s,s:s}", "label", "Featured", "yours", typed->featured ? "yes" : "no"));
    (void)req;
    return out;
}

/* The create/edit page. p: the saved product (editing) or NULL; v: the
 * values to show; errs: the refusal (or NULL); mine: a stale save's form. */
static void form_page(http_request *req, http_response *res, int status, const pa_product *p, const product_form *v,
                      const product_errors *errs, const product_form *mine)
{
    arena *a = arena_new();
    pa_choices ch;
    shop_error e;
    if (product_admin_choices(a, &ch, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    json_t *fields = json_array();
    json_array_append_new(fields, admin_field("name", "Name", "text", v->name, true, NULL, PRODUCT_NAME_MAX));
    json_array_append_new(fields, admin_field("slug", "Address (slug)", "text", v->slug, false,
                                              "The shoe's address: /products/<slug>. Lower-case letters, digits and "
                                              "single hyphens; left empty, it is made from the name. After a change "
                                              "the old address keeps working: it redirects here.",
                                              PRODUCT_SLUG_MAX));
    json_array_append_new(fields, admin_select("brand_id", "Brand", choice_options(req, ch.brands, ch.nbrands, v->brand_id,
                                                                                 "— choose —"), true, NULL));
    json_array_append_new(fields, admin_select("category_id", "Category", category_options(req, v->category_id, "— choose —"),
                                               true, NULL));
    json_array_append_new(fields, admin_select("gender", "For", options_of(gender_codes, gender_labels, v->gender,
                                                                           "— choose —"), true, NULL));
    json_t *price = admin_field("price", arena_printf(req->pool, "Price (%s, VAT included)", cfg.currency), "text",
                                v->price, true, "e.g. 89.99", 20);
    json_object_set_new(price, "inputmode", json_string("decimal"));
    json_array_append_new(fields, price);
    json_t *cmp = admin_field("compare_at", "Compare-at price", "text", v->compare_at, false,
                              "The \"was\" price shoppers see crossed out; higher than the price. Empty: not on sale.",
                              20);
    json_object_set_new(cmp, "inputmode", json_string("decimal"));
    json_array_append_new(fields, cmp);
    static const char *const tax_labels[] = {"Standard rate", "Reduced rate", "Zero rate (e.g. children's shoes)", NULL};
    json_array_append_new(fields, admin_select("tax_class", "VAT", options_of(tax_codes, tax_labels, v->tax_class, NULL),
                                               true, NULL));
    json_array_append_new(fields, admin_field("material", "Material", "text", v->material, false, NULL,
                                              PRODUCT_MATERIAL_MAX));
    json_array_append_new(fields, admin_field("tags", "Tags", "text", v->tags, false,
                                              "Comma separated, e.g. running, road, cushioned: search finds them.", 0));

    json_t *ctx = json_object();
    const char *title = p ? arena_printf(req->pool, "Product: %s", p->name) : "New product";
    json_object_set_new(ctx, "page_title", json_string(title));
    json_object_set_new(ctx, "heading", json_string(p ? p->name : "New product"));
    json_object_set_new(ctx, "action", json_string(p ? product_url(req, p->id, NULL) : admin_url(req, "/products/new")));
    json_object_set_new(ctx, "back", json_string(admin_url(req, "/products")));
    json_object_set_new(ctx, "description", json_string(or_empty(v->description)));
    json_object_set_new(ctx, "description_max", json_integer(PRODUCT_DESCRIPTION_MAX));
    json_object_set_new(ctx, "active", json_boolean(v->active));
    json_object_set_new(ctx, "featured", json_boolean(v->featured));
    if (p) {
        json_t *ed = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "version", or_empty(v->version), "variants",
                               product_url(req, p->id, "/variants"), "shop",
                               arena_printf(req->pool, "/products/%s", p->slug), "audit",
                               admin_url(req, arena_printf(req->pool, "/audit?entity=product&q=%lld", (long long)p->id)),
                               "sizes", count_of(req, p->variants, "size", "sizes"), "pairs",
                               count_of(req, p->stock_total, "pair", "pairs"), "updated", p->updated_at);
        /* images are their own screen (uploads): linked once it exists */
        const char *images = product_url(req, p->id, "/images");
        if (router_has_get(admin_url(req, "/products/{id}/images"))) json_object_set_new(ed, "images", json_string(images));
        json_object_set_new(ctx, "editing", ed);
    }
    if (mine) {
        json_t *changes = your_changes(req, mine, v);
        json_object_set_new(ctx, "stale", json_pack("{s:b,s:o}", "any", json_array_size(changes) > 0, "changes", changes));
    }
    if (errs) put_errors(req, ctx, fields, errs);
    if (errs && errs->n && !json_object_get(ctx, "error"))
        json_object_set_new(ctx, "error", json_string("Nothing was saved: see the messages beside the fields."));
    json_object_set_new(ctx, "fields", fields);
    arena_free(a);
    admin_page(req, res, status, "admin/product_form", "products", ctx);
}

void admin_product_new(http_request *req, http_response *res)
{
    product_form v = {.tax_class = "standard", .active = false};
    form_page(req, res, 200, NULL, &v, NULL, NULL);
}

void admin_product_create(http_request *req, http_response *res)
{
    product_form f = form_of(req);
    audit_actor who = admin_actor(req);
    product_errors *errs = arena_alloc(req->pool, sizeof *errs);
    int64_t id;
    shop_status st = product_admin_create(&who, &f, &id, errs);
    if (st != SHOP_OK) {
        form_page(req, res, view_error_status(&errs->e[0]), NULL, &f, errs, NULL);
        return;
    }
    admin_done(req, res, arena_printf(req->pool, "/products/%lld/variants/new-run", (long long)id),
               "Product saved. Now add its sizes: a whole size run at once.");
}

/* The saved product, or the answer (404, 503) sent. */
static bool load(http_request *req, http_response *res, arena *a, pa_product *p)
{
    shop_error e;
    if (product_admin_get(path_id(req), a, p, &e) != SHOP_OK) {
        view_shop_error(req, res, &e);
        return false;
    }
    return true;
}

void admin_product_edit(http_request *req, http_response *res)
{
    arena *a = arena_new();
    pa_product p;
    if (load(req, res, a, &p)) {
        product_form v = values_of(req, &p);
        form_page(req, res, 200, &p, &v, NULL, NULL);
    }
    arena_free(a);
}

void admin_product_update(http_request *req, http_response *res)
{
    arena *a = arena_new();
    pa_product p, current;
    product_form f = form_of(req);
    if (!load(req, res, a, &p)) {
        arena_free(a);
        return;
    }
    audit_actor who = admin_actor(req);
    product_errors *errs = arena_alloc(req->pool, sizeof *errs);
    bool changed;
    shop_status st = product_admin_update(&who, p.id, &f, a, &current, &changed, errs);
    if (st == SHOP_CONFLICT) {
        /* what is saved now, the staff member's own changes listed beside */
        product_form v = values_of(req, &current);
        form_page(req, res, 409, &current, &v, errs, &f);
    } else if (st != SHOP_OK) {
        form_page(req, res, view_error_status(&errs->e[0]), &p, &f, errs, NULL);
    } else {
        admin_done(req, res, arena_printf(req->pool, "/products/%lld", (long long)p.id),
                   changed ? "Saved: the shop shows it now." : "Nothing had changed: nothing was saved.");
    }
    arena_free(a);
}

/* ------------------------------------------------------------------ */
/* The size grid                                                        */

static const char *const width_order[] = {"Standard", "Narrow", "Wide"};

/* One table per colour: a row per size, a column per width it has; each
 * cell the count (an input) and the count shown (seen_<id>). typed: the
 * form's values to show again (NULL: the saved ones). */
static json_t *grid(http_request *req, const pa_variant *v, int n, const product_errors *errs, bool typed)
{
    json_t *colours = json_array();
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && v[j].colour_id == v[i].colour_id) j++;
        bool has[3] = {false, false, false};
        int64_t pairs = 0;
        for (int k = i; k < j; k++) {
            for (int w = 0; w < 3; w++) has[w] = has[w] || !strcmp(v[k].width, width_order[w]);
            pairs += v[k].stock;
        }
        json_t *heads = json_array();
        for (int w = 0; w < 3; w++)
            if (has[w]) json_array_append_new(heads, json_string(width_order[w]));
        json_t *rows = json_array();
        for (int k = i; k < j;) {
            int m = k;
            while (m < j && !strcmp(v[m].size_system, v[k].size_system) && v[m].size_tenths == v[k].size_tenths) m++;
            json_t *cells = json_array();
            for (int w = 0; w < 3; w++) {
                if (!has[w]) continue;
                const pa_variant *cell = NULL;
                for (int x = k; x < m; x++)
                    if (!strcmp(v[x].width, width_order[w])) cell = &v[x];
                if (!cell) {
                    json_array_append_new(cells, json_pack("{s:b}", "none", true));
                    continue;
                }
                const char *name = arena_printf(req->pool, "stock_%lld", (long long)cell->id);
                const char *value = num(req, cell->stock);
                if (typed) {
                    const char *t = req_form(req, name);
                    if (t) value = t;
                }
                json_t *c = json_pack("{s:b,s:s,s:s,s:s,s:I,s:s,s:s,s:b,s:b}", "none", false, "name", name, "seen_name",
                                      arena_printf(req->pool, "seen_%lld", (long long)cell->id), "value", value, "seen",
                                      (json_int_t)cell->stock, "sku", cell->sku, "history",
                                      admin_url(req, arena_printf(req->pool, "/variants/%lld/stock", (long long)cell->id)),
                                      "out", cell->stock == 0, "low", cell->stock > 0 && cell->stock <= 3);
                json_object_set_new(c, "label", json_string(arena_printf(req->pool, "%s, %s, %s", v[i].colour_name,
                                                                         cell->size_label, cell->width)));
                for (int e = 0; errs && e < errs->n; e++)
                    if (errs->e[e].field && !strcmp(errs->e[e].field, name))
                        json_object_set_new(c, "error", json_string(errs->e[e].message));
                json_array_append_new(cells, c);
            }
            json_array_append_new(rows, json_pack("{s:s,s:o}", "size", v[k].size_label, "cells", cells));
            k = m;
        }
        json_array_append_new(colours, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "name", v[i].colour_name, "hex",
                                                 v[i].colour_hex, "sizes", count_of(req, j - i, "size", "sizes"),
                                                 "pairs", count_of(req, pairs, "pair", "pairs"), "widths", heads, "rows",
                                                 rows));
        i = j;
    }
    return colours;
}

static json_t *reason_options(enum stock_reason chosen)
{
    json_t *o = json_array();
    for (int r = 0; r < STOCK_REASONS; r++)
        json_array_append_new(o, admin_option(stock_reason_name((enum stock_reason)r),
                                              stock_reason_label((enum stock_reason)r), (int)chosen == r));
    return o;
}

static void grid_page(http_request *req, http_response *res, int status, const pa_product *p,
                      const product_errors *errs, bool typed)
{
    arena *a = arena_new();
    pa_variant *v;
    int n;
    shop_error e;
    if (product_admin_variants(p->id, a, &v, &n, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    enum stock_reason reason = STOCK_RECOUNT;
    if (typed) stock_reason_parse(req_form(req, "reason"), &reason);
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:o,s:s}", "page_title",
                            arena_printf(req->pool, "Sizes: %s", p->name), "heading", p->name, "edit",
                            product_url(req, p->id, NULL), "action", product_url(req, p->id, "/variants"), "new_run",
                            product_url(req, p->id, "/variants/new-run"), "shop",
                            arena_printf(req->pool, "/products/%s", p->slug), "colours", grid(req, v, n, errs, typed),
                            "empty", n == 0, "reasons", reason_options(reason), "note",
                            typed ? or_empty(req_form(req, "note")) : "");
    json_object_set_new(ctx, "inactive", json_boolean(!p->active));
    for (int i = 0; errs && i < errs->n; i++) {
        if (!errs->e[i].field) json_object_set_new(ctx, "error", json_string(errs->e[i].message));
        else if (!strcmp(errs->e[i].field, "note")) json_object_set_new(ctx, "note_error", json_string(errs->e[i].message));
    }
    if (errs && errs->n && !json_object_get(ctx, "error"))
        json_object_set_new(ctx, "error", json_string("Nothing was saved: see the messages beside the sizes."));
    arena_free(a);
    admin_page(req, res, status, "admin/variants", "products", ctx);
}

void admin_product_variants(http_request *req, http_response *res)
{
    arena *a = arena_new();
    pa_product p;
    if (load(req, res, a, &p)) grid_page(req, res, 200, &p, NULL, false);
    arena_free(a);
}

void admin_product_stock_grid(http_request *req, http_response *res)
{
    arena *a = arena_new();
    pa_product p;
    if (!load(req, res, a, &p)) {
        arena_free(a);
        return;
    }
    enum stock_reason reason;
    product_errors *errs = arena_alloc(req->pool, sizeof *errs);
    if (!stock_reason_parse(req_form(req, "reason"), &reason)) {
        errs->n = 1;
        errs->e[0] = (shop_error){.status = SHOP_INVALID, .message = "Choose a reason for the change."};
        grid_page(req, res, 422, &p, errs, true);
        arena_free(a);
        return;
    }
    /* every stock_<id> field with its seen_<id> */
    stock_cell *cells = arena_alloc(req->pool, (size_t)(req->nform + 1) * sizeof *cells);
    int n = 0;
    for (int i = 0; i < req->nform; i++) {
        long long id;
        const char *name = req->form[i].name;
        if (strncmp(name, "stock_", 6) || !text_parse_int64(name + 6, 1, 4294967295LL, &id)) continue;
        cells[n++] = (stock_cell){id, req->form[i].value,
                                  req_form(req, arena_printf(req->pool, "seen_%lld", (long long)id))};
    }
    audit_actor who = admin_actor(req);
    int changed;
    shop_status st = stock_grid_save(&who, p.id, cells, n, reason, req_form(req, "note"), &changed, errs);
    if (st == SHOP_CONFLICT) grid_page(req, res, 409, &p, errs, false);   /* the counts now */
    else if (st != SHOP_OK) grid_page(req, res, view_error_status(&errs->e[0]), &p, errs, true);
    else
        admin_done(req, res, arena_printf(req->pool, "/products/%lld/variants", (long long)p.id),
                   changed ? arena_printf(req->pool, "Stock saved for %d size%s: the shop shows it now.", changed,
                                          changed == 1 ? "" : "s")
                           : "No count had changed: nothing was saved.");
    arena_free(a);
}

static void run_page(http_request *req, http_response *res, int status, const pa_product *p,
                     const product_errors *errs)
{
    arena *a = arena_new();
    pa_choices ch;
    shop_error e;
    if (product_admin_choices(a, &ch, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    bool posted = errs != NULL;
    const char *colour = posted ? req_form(req, "colour_id") : NULL, *system = posted ? req_form(req, "system") : "UK";
    const char *step = posted ? req_form(req, "step") : "0.5";
    static const char *const systems[] = {"UK", "EU", "US", NULL};
    static const char *const steps[] = {"0.5", "1", NULL};
    static const char *const step_labels[] = {"Whole and half sizes (6, 6.5, 7 …)", "Whole sizes only (6, 7, 8 …)", NULL};
    json_t *fields = json_array();
    json_array_append_new(fields, admin_select("colour_id", "Colour", choice_options(req, ch.colours, ch.ncolours, colour,
                                                                                   "— choose —"), true, NULL));
    json_array_append_new(fields, admin_select("system", "Size system", options_of(systems, systems, system, NULL), true,
                                               NULL));
    json_t *from = admin_field("from", "First size", "text", posted ? req_form(req, "from") : "", true, "e.g. 6", 5);
    json_t *to = admin_field("to", "Last size", "text", posted ? req_form(req, "to") : "", true, "e.g. 11", 5);
    json_object_set_new(from, "inputmode", json_string("decimal"));
    json_object_set_new(to, "inputmode", json_string("decimal"));
    json_array_append_new(fields, from);
    json_array_append_new(fields, to);
    json_array_append_new(fields, admin_select("step", "Sizes", options_of(steps, step_labels, step, NULL), true, NULL));
    json_t *stock = admin_field("stock", "Pairs of each size", "text", posted ? req_form(req, "stock") : "0", false,
                                "What each new size starts with (recorded as received). 0: add stock later.", 7);
    json_object_set_new(stock, "inputmode", json_string("numeric"));
    json_array_append_new(fields, stock);
    json_array_append_new(fields, admin_field("sku_prefix", "SKU prefix", "text", posted ? req_form(req, "sku_prefix") : "",
                                              false,
                                              arena_printf(req->pool,
                                                           "SKUs are <prefix>-<COLOUR>-<SIZE>-<width>, e.g. "
                                                           "SE%05lld-BLACK-UK095-S. Empty: SE%05lld.",
                                                           (long long)p->id, (long long)p->id),
                                              24));
    json_t *widths = json_array();
    for (int w = 0; w < 3; w++) {
        bool on = !posted && w == 0;
        for (int i = 0; posted && i < req->nform; i++)
            if (!strcmp(req->form[i].name, "widths") && !strcmp(req->form[i].value, width_order[w])) on = true;
        json_array_append_new(widths, json_pack("{s:s,s:b}", "value", width_order[w], "checked", on));
    }
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:o,s:I}", "page_title", arena_printf(req->pool, "Add sizes: %s", p->name),
                            "heading", p->name, "action", product_url(req, p->id, "/variants/new-run"), "back",
                            product_url(req, p->id, "/variants"), "widths", widths, "max", (json_int_t)SIZE_RUN_MAX_CELLS);
    if (errs) put_errors(req, ctx, fields, errs);
    if (errs && errs->n && !json_object_get(ctx, "error"))
        json_object_set_new(ctx, "error", json_string("No size was added: see the messages beside the fields."));
    json_object_set_new(ctx, "fields", fields);
    arena_free(a);
    admin_page(req, res, status, "admin/size_run", "products", ctx);
}

void admin_size_run_new(http_request *req, http_response *res)
{
    arena *a = arena_new();
    pa_product p;
    if (load(req, res, a, &p)) run_page(req, res, 200, &p, NULL);
    arena_free(a);
}

void admin_size_run_create(http_request *req, http_response *res)
{
    arena *a = arena_new();
    pa_product p;
    if (!load(req, res, a, &p)) {
        arena_free(a);
        return;
    }
    size_run_form f = {.colour_id = req_form(req, "colour_id"), .system = req_form(req, "system"),
                       .from = req_form(req, "from"), .to = req_form(req, "to"), .step = req_form(req, "step"),
                       .stock = req_form(req, "stock"), .sku_prefix = req_form(req, "sku_prefix")};
    for (int i = 0; i < req->nform && f.nwidths < 3; i++)
        if (!strcmp(req->form[i].name, "widths")) f.widths[f.nwidths++] = req->form[i].value;
    audit_actor who = admin_actor(req);
    product_errors *errs = arena_alloc(req->pool, sizeof *errs);
    int added, existing;
    if (size_run_add(&who, p.id, &f, &added, &existing, errs) != SHOP_OK) {
        run_page(req, res, view_error_status(&errs->e[0]), &p, errs);
    } else {
        const char *msg = existing == 0
                              ? arena_printf(req->pool, "%d size%s added.", added, added == 1 ? "" : "s")
                              : arena_printf(req->pool, "%d size%s added; %d %s there already and kept %s stock.", added,
                                             added == 1 ? "" : "s", existing, existing == 1 ? "was" : "were",
                                             existing == 1 ? "its" : "their");
        admin_done(req, res, arena_printf(req->pool, "/products/%lld/variants", (long long)p.id), msg);
    }
    arena_free(a);
}

/* ------------------------------------------------------------------ */
/* A size's stock: adjust, and its history                              */

static void stock_page(http_request *req, http_response *res, int status, const shop_error *err)
{
    arena *a = arena_new();
    admin_list lp;
    admin_list_read(req, NULL, "at", true, &lp);
    pa_variant v;
    pa_adjustment *rows;
    int n;
    int64_t total;
    shop_error e;
    if (stock_history(path_id(req), lp.offset, lp.per_page, a, &v, &rows, &n, &total, &e) != SHOP_OK) {
        arena_free(a);
        view_shop_error(req, res, &e);
        return;
    }
    if (lp.csv && !err) {
        static const char *const header[] = {"at (UTC)", "who", "reason", "change", "before", "after", "note"};
        json_t *out = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out, json_pack("[s,s,s,I,I,I,s]", rows[i].at, rows[i].actor, rows[i].reason,
                                                 (json_int_t)rows[i].delta, (json_int_t)rows[i].stock_before,
                                                 (json_int_t)rows[i].stock_after, rows[i].note));
        admin_csv(req, res, arena_printf(req->pool, "stock-%lld.csv", (long long)v.id), header, 7, out);
        json_decref(out);
        arena_free(a);
        return;
    }
    json_t *history = json_array();
    for (int i = 0; i < n; i++) {
        enum stock_reason r = STOCK_CORRECTION;
        stock_reason_parse(rows[i].reason, &r);
        json_array_append_new(history, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "at", rows[i].at, "actor",
                                                 rows[i].actor, "reason", stock_reason_label(r), "change",
                                                 arena_printf(req->pool, "%+lld", (long long)rows[i].delta), "before",
                                                 (json_int_t)rows[i].stock_before, "after",
                                                 (json_int_t)rows[i].stock_after, "note", rows[i].note));
    }
    bool posted = err != NULL;
    enum stock_reason reason = STOCK_RECEIVED;
    if (posted) stock_reason_parse(req_form(req, "reason"), &reason);
    json_t *fields = json_array();
    json_array_append_new(fields, admin_select("reason", "Reason", reason_options(reason), true, NULL));
    json_t *change = admin_field("change", "Change by", "text", posted ? req_form(req, "change") : "", false,
                                 "Pairs in or out: +12 for a delivery, -2 for damaged ones.", 9);
    json_t *set_to = admin_field("set_to", "Or set the count to", "text", posted ? req_form(req, "set_to") : "", false,
                                 "What you counted on the shelf (a recount).", 8);
    json_object_set_new(set_to, "inputmode", json_string("numeric"));
    json_array_append_new(fields, change);
    json_array_append_new(fields, set_to);
    json_array_append_new(fields, admin_field("note", "Note", "text", posted ? req_form(req, "note") : "", false,
                                              "e.g. the delivery note's number", STOCK_NOTE_MAX));
    json_t *ctx = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:I}", "page_title",
        arena_printf(req->pool, "Stock: %s", v.sku), "sku", v.sku, "product", v.product_name, "size", v.size_label,
        "colour", v.colour_name, "width", v.width, "stock", (json_int_t)v.stock, "edit",
        product_url(req, v.product_id, NULL), "grid", product_url(req, v.product_id, "/variants"), "shop",
        arena_printf(req->pool, "/products/%s", v.product_slug), "action",
        admin_url(req, arena_printf(req->pool, "/variants/%lld/stock", (long long)v.id)), "history", history, "pages",
        admin_pages(req, &lp, total), "empty", n == 0, "seen", (json_int_t)v.stock);
    if (err) view_form_error(ctx, fields, err);
    json_object_set_new(ctx, "fields", fields);
    arena_free(a);
    admin_page(req, res, status, "admin/variant_stock", "products", ctx);
}

void admin_variant_stock(http_request *req, http_response *res) { stock_page(req, res, 200, NULL); }

void admin_variant_stock_adjust(http_request *req, http_response *res)
{
    const char *change = req_form(req, "change"), *set_to = req_form(req, "set_to"), *seen = req_form(req, "seen");
    bool has_change = change && strspn(change, " ") != strlen(change);
    bool has_count = set_to && strspn(set_to, " ") != strlen(set_to);
    stock_change c = {.variant_id = path_id(req), .seen = -1, .note = req_form(req, "note")};
    if (c.note && !*c.note) c.note = NULL;
    shop_error e;
    long long v;
    if (!stock_reason_parse(req_form(req, "reason"), &c.reason)) {
        shop_fail(&e, SHOP_INVALID, "reason", "Choose a reason.");
    } else if (has_change == has_count) {
        shop_fail(&e, SHOP_INVALID, has_count ? "set_to" : "change",
                  "Fill in one of the two: the change (+12, -2) or the count you made.");
    } else if (has_change && !stock_parse_change(change, &c.amount)) {
        shop_fail(&e, SHOP_INVALID, "change", "Enter a whole number of pairs with + or -, like +12 or -2.");
    } else if (has_count && !text_parse_int64(set_to, 0, CATALOG_STOCK_MAX, &v)) {
        shop_fail(&e, SHOP_INVALID, "set_to", "Enter the pairs counted: a whole number from 0 to %d.", CATALOG_STOCK_MAX);
    } else {
        if (has_count) {
            c.absolute = true;
            c.amount = v;
            if (seen && text_parse_int64(seen, 0, CATALOG_STOCK_MAX, &v)) c.seen = v;
        }
        audit_actor who = admin_actor(req);
        int64_t after;
        if (stock_adjust(&who, &c, &after, &e) == SHOP_OK) {
            admin_done(req, res, arena_printf(req->pool, "/variants/%lld/stock", (long long)c.variant_id),
                       arena_printf(req->pool, "Stock is now %lld: the shop shows it now.", (long long)after));
            return;
        }
        if (e.status == SHOP_NOT_FOUND || e.status == SHOP_UNAVAILABLE) {
            view_shop_error(req, res, &e);
            return;
        }
    }
    stock_page(req, res, view_error_status(&e), &e);
}
