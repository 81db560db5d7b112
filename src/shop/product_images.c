/* product_images.c — see product_images.h. */
#include "shop/product_images.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "db/tx.h"
#include "media/image.h"
#include "media/media_files.h"
#include "shop/catalog.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Outcomes of a unit of work besides DB_TX_OK / DB_TX_FAILED. */
enum { NO_PRODUCT = 1, NO_IMAGE, TOO_MANY };

#define UPLOAD_PREFIX "/media/images/"

static shop_status outcome(int rc, shop_error *e)
{
    switch (rc) {
    case DB_TX_OK: return SHOP_OK;
    case NO_PRODUCT: return shop_fail(e, SHOP_NOT_FOUND, NULL, "There is no such product.");
    case NO_IMAGE: return shop_fail(e, SHOP_NOT_FOUND, NULL, "This product has no such image (it may have been deleted).");
    case TOO_MANY:
        return shop_fail(e, SHOP_INVALID, "image", "A product has at most %d images; delete one first.",
                         PRODUCT_IMAGES_MAX);
    default: return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The catalogue is unavailable for a moment; nothing was changed.");
    }
}

/* The alt text as it will be stored (trimmed, in out), or why not. */
static bool alt_ok(const char *alt, char out[PRODUCT_IMAGE_ALT_MAX + 1], shop_error *e)
{
    const char *s = alt ? alt : "";
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') n--;
    if (n > PRODUCT_IMAGE_ALT_MAX) {
        shop_fail(e, SHOP_INVALID, "alt", "Keep the description under %d characters.", PRODUCT_IMAGE_ALT_MAX);
        return false;
    }
    if (!text_valid_utf8(s, n)) {
        shop_fail(e, SHOP_INVALID, "alt", "The description is not valid text.");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            shop_fail(e, SHOP_INVALID, "alt", "Write the description on one line, without control characters.");
            return false;
        }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static json_t *image_json(const image_row *r, int index)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:i}", "product_id", (json_int_t)r->product_id, "url", r->url, "card_url",
                     r->card_url, "alt", r->alt, "position", index + 1);
}

static json_t *order_json(const image_row *rows, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(rows[i].id));
    return a;
}

static void id_text(int64_t id, char out[TEXT_INT64_DIGITS])
{
    text_format_int64(id, out);
}

/* ---------- reading ---------- */

shop_status product_images_read(int64_t product_id, product_images *out, shop_error *e)
{
    memset(out, 0, sizeof *out);
    db_conn *c = db_conn_get();
    int r = c ? image_repo_product(c, product_id, false, &out->product) : -1;
    if (r == 0) return outcome(NO_PRODUCT, e);
    if (r < 0 || (out->n = image_repo_list(c, product_id, false, out->images, PRODUCT_IMAGES_MAX)) < 0)
        return outcome(DB_TX_FAILED, e);
    return SHOP_OK;
}

/* ---------- uploading ---------- */

struct add_work {
    const audit_actor *who;
    int64_t product_id;
    image_row row;
    const image_upload *up;
    const image_result *img;
    int64_t id;
};

static int add_tx(db_tx *tx, void *arg)
{
    struct add_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    image_product p;
    int r = image_repo_product(c, w->product_id, true, &p);
    if (r <= 0) return r == 0 ? NO_PRODUCT : DB_TX_FAILED;
    image_row rows[PRODUCT_IMAGES_MAX + 1];
    int n = image_repo_list(c, w->product_id, true, rows, PRODUCT_IMAGES_MAX + 1);
    if (n < 0) return DB_TX_FAILED;
    if (n >= PRODUCT_IMAGES_MAX) return TOO_MANY;
    /* appended: the store owner makes it the first one if they want */
    w->row.position = n ? rows[n - 1].position + 1 : 0;
    if (image_repo_insert(c, &w->row, &w->id) < 0) return DB_TX_FAILED;
    char id[TEXT_INT64_DIGITS];
    id_text(w->id, id);
    json_t *after = image_json(&w->row, n);
    json_t *orig = json_pack("{s:s,s:i,s:i,s:I}", "type", image_type_name(w->img->type), "width", w->img->width,
                             "height", w->img->height, "bytes", (json_int_t)w->up->len);
    /* the name it was sent with, for a reviewer (valid UTF-8: http layer) */
    if (w->up->filename && *w->up->filename && strlen(w->up->filename) <= 200)
        json_object_set_new(orig, "filename", json_string(w->up->filename));
    json_object_set_new(after, "uploaded", orig);
    int rc = audit_record(tx, w->who, "image.upload", "product_image", id, NULL, after);
    json_decref(after);
    if (rc < 0) return DB_TX_FAILED;
    /* the first image is the card's: listings change only then */
    if (catalog_product_changed(tx, w->product_id, n == 0) < 0) return DB_TX_FAILED;
    return DB_TX_OK;
}

/* The renditions' paths under MEDIA_DIR: images/<2 hex>/<32 hex>-<size>.webp. */
static void upload_names(char rel[IMAGE_RENDITIONS][80])
{
    unsigned char rnd[16];
    char hex[33];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    for (int i = 0; i < IMAGE_RENDITIONS; i++)
        snprintf(rel[i], 80, "images/%.2s/%s-%s.webp", hex, hex, image_sizes[i].name);
}

shop_status product_image_add(const audit_actor *who, int64_t product_id, const image_upload *up, int64_t *image_id,
                              shop_error *e)
{
    struct add_work w = {.who = who, .product_id = product_id, .up = up};
    if (!alt_ok(up->alt, w.row.alt, e)) return SHOP_INVALID;
    w.row.product_id = product_id;

    /* the work libvips does happens outside any transaction */
    image_limits lim = IMAGE_LIMITS_UPLOAD;
    lim.max_bytes = cfg.upload_max_bytes;
    image_result img;
    char why[240];
    int pr = image_process(up->data, up->len, &lim, &img, why, sizeof why);
    if (pr != 0) return shop_fail(e, pr == -2 ? SHOP_UNAVAILABLE : SHOP_INVALID, "image", "%s", why);
    w.img = &img;

    char rel[IMAGE_RENDITIONS][80];
    upload_names(rel);
    int written = 0;
    while (written < IMAGE_RENDITIONS && media_write(rel[written], img.out[written].data, img.out[written].len) == 0)
        written++;
    int rc = DB_TX_FAILED;
    if (written == IMAGE_RENDITIONS) {
        snprintf(w.row.url, sizeof w.row.url, "/media/%s", rel[IMAGE_LARGE]);
        snprintf(w.row.card_url, sizeof w.row.card_url, "/media/%s", rel[IMAGE_CARD]);
        rc = db_tx_run(add_tx, &w);
    }
    image_result_free(&img);
    if (rc != DB_TX_OK) {
        /* nothing names them: they go */
        for (int i = 0; i < written; i++) media_remove(rel[i]);
        if (written < IMAGE_RENDITIONS)
            return shop_fail(e, SHOP_UNAVAILABLE, "image", "The image could not be saved; nothing was changed. Please "
                                                           "try again shortly.");
        return outcome(rc, e);
    }
    log_info("images: product %lld: image %lld uploaded (%s %d×%d, %zu bytes)", (long long)product_id,
             (long long)w.id, image_type_name(img.type), img.width, img.height, up->len);
    if (image_id) *image_id = w.id;
    return SHOP_OK;
}

/* ---------- changes to one image ---------- */

/* The product locked, its images in order, the one asked for: its index
 * (≥ 0) or an outcome (< 0 as -code). */
static int locate(db_conn *c, int64_t product_id, int64_t image_id, image_row *rows, int *n)
{
    image_product p;
    int r = image_repo_product(c, product_id, true, &p);
    if (r <= 0) return r == 0 ? -NO_PRODUCT : -1;
    *n = image_repo_list(c, product_id, true, rows, PRODUCT_IMAGES_MAX + 8);
    if (*n < 0) return -1;
    for (int i = 0; i < *n; i++)
        if (rows[i].id == image_id) return i;
    return -NO_IMAGE;
}

static int as_outcome(int idx) { return idx == -1 ? DB_TX_FAILED : -idx; }

struct edit_work {
    const audit_actor *who;
    int64_t product_id, image_id;
    char alt[PRODUCT_IMAGE_ALT_MAX + 1];
};

static int edit_tx(db_tx *tx, void *arg)
{
    struct edit_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    image_row rows[PRODUCT_IMAGES_MAX + 8];
    int n, i = locate(c, w->product_id, w->image_id, rows, &n);
    if (i < 0) return as_outcome(i);
    if (!strcmp(rows[i].alt, w->alt)) return DB_TX_OK; /* nothing changed: nothing to record */
    image_row after_row = rows[i];
    text_copy(after_row.alt, sizeof after_row.alt, w->alt);
    if (image_repo_set_alt(c, w->image_id, w->alt) < 0) return DB_TX_FAILED;
    char id[TEXT_INT64_DIGITS];
    id_text(w->image_id, id);
    json_t *before = image_json(&rows[i], i), *after = image_json(&after_row, i);
    int rc = audit_record(tx, w->who, "image.edit", "product_image", id, before, after);
    json_decref(before);
    json_decref(after);
    if (rc < 0) return DB_TX_FAILED;
    /* the card shows the first image's alt text */
    return catalog_product_changed(tx, w->product_id, i == 0) < 0 ? DB_TX_FAILED : DB_TX_OK;
}

shop_status product_image_edit(const audit_actor *who, int64_t product_id, int64_t image_id, const char *alt,
                               shop_error *e)
{
    struct edit_work w = {.who = who, .product_id = product_id, .image_id = image_id};
    if (!alt_ok(alt, w.alt, e)) return SHOP_INVALID;
    return outcome(db_tx_run(edit_tx, &w), e);
}

bool product_image_move_parse(const char *s, image_move *out)
{
    static const char *const names[] = {"up", "down", "first"};
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (image_move)i;
            return true;
        }
    return false;
}

struct move_work {
    const audit_actor *who;
    int64_t product_id, image_id;
    image_move how;
};

static int move_tx(db_tx *tx, void *arg)
{
    struct move_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    image_row rows[PRODUCT_IMAGES_MAX + 8];
    int n, i = locate(c, w->product_id, w->image_id, rows, &n);
    if (i < 0) return as_outcome(i);
    int to = w->how == IMAGE_MOVE_FIRST ? 0 : w->how == IMAGE_MOVE_UP ? i - 1 : i + 1;
    if (to < 0 || to >= n || to == i) return DB_TX_OK; /* already there: nothing to record */
    json_t *before = json_pack("{s:I,s:i,s:o}", "product_id", (json_int_t)w->product_id, "position", i + 1, "order",
                               order_json(rows, n));
    image_row moved = rows[i];
    if (to < i) memmove(&rows[to + 1], &rows[to], (size_t)(i - to) * sizeof *rows);
    else memmove(&rows[i], &rows[i + 1], (size_t)(to - i) * sizeof *rows);
    rows[to] = moved;
    /* positions become 0, 1, 2 … in the new order (only rows that move) */
    int rc = DB_TX_OK;
    for (int k = 0; k < n && rc == DB_TX_OK; k++)
        if (rows[k].position != k && image_repo_set_position(c, rows[k].id, k) < 0) rc = DB_TX_FAILED;
    char id[TEXT_INT64_DIGITS];
    id_text(w->image_id, id);
    json_t *after = json_pack("{s:I,s:i,s:o}", "product_id", (json_int_t)w->product_id, "position", to + 1, "order",
                              order_json(rows, n));
    if (rc == DB_TX_OK &&
        audit_record(tx, w->who, w->how == IMAGE_MOVE_FIRST ? "image.primary" : "image.move", "product_image", id,
                     before, after) < 0)
        rc = DB_TX_FAILED;
    json_decref(before);
    json_decref(after);
    if (rc != DB_TX_OK) return rc;
    /* listings only when the first image (the card's) is another one now */
    return catalog_product_changed(tx, w->product_id, i == 0 || to == 0) < 0 ? DB_TX_FAILED : DB_TX_OK;
}

shop_status product_image_move(const audit_actor *who, int64_t product_id, int64_t image_id, image_move how,
                               shop_error *e)
{
    struct move_work w = {.who = who, .product_id = product_id, .image_id = image_id, .how = how};
    return outcome(db_tx_run(move_tx, &w), e);
}

/* ---------- deleting ---------- */

struct gone_files {
    char rel[2][256];
    int n;
};

static void remove_files(void *arg)
{
    struct gone_files *g = arg;
    for (int i = 0; i < g->n; i++) media_remove(g->rel[i]);
}

/* Files of ours only (uploads); seeded images stay on disk. */
static void add_gone(struct gone_files *g, const char *url)
{
    size_t pl = strlen(UPLOAD_PREFIX);
    if (g->n < 2 && !strncmp(url, UPLOAD_PREFIX, pl) && media_path_ok(url + strlen("/media/")))
        text_copy(g->rel[g->n++], sizeof g->rel[0], url + strlen("/media/"));
}

struct delete_work {
    const audit_actor *who;
    int64_t product_id, image_id;
};

static int delete_tx(db_tx *tx, void *arg)
{
    struct delete_work *w = arg;
    db_conn *c = db_tx_conn(tx);
    image_row rows[PRODUCT_IMAGES_MAX + 8];
    int n, i = locate(c, w->product_id, w->image_id, rows, &n);
    if (i < 0) return as_outcome(i);
    if (image_repo_delete(c, w->image_id) < 0) return DB_TX_FAILED;
    for (int k = i + 1; k < n; k++)
        if (rows[k].position != k - 1 && image_repo_set_position(c, rows[k].id, k - 1) < 0) return DB_TX_FAILED;
    char id[TEXT_INT64_DIGITS];
    id_text(w->image_id, id);
    json_t *before = image_json(&rows[i], i);
    int rc = audit_record(tx, w->who, "image.delete", "product_image", id, before, NULL);
    json_decref(before);
    if (rc < 0) return DB_TX_FAILED;
    if (catalog_product_changed(tx, w->product_id, i == 0) < 0) return DB_TX_FAILED;
    struct gone_files *g = calloc(1, sizeof *g);
    if (!g) return DB_TX_FAILED;
    add_gone(g, rows[i].url);
    add_gone(g, rows[i].card_url);
    /* (on failure the hook's argument is freed by db_tx_after_commit) */
    return db_tx_after_commit(tx, remove_files, g, free) < 0 ? DB_TX_FAILED : DB_TX_OK;
}

shop_status product_image_delete(const audit_actor *who, int64_t product_id, int64_t image_id, shop_error *e)
{
    struct delete_work w = {.who = who, .product_id = product_id, .image_id = image_id};
    return outcome(db_tx_run(delete_tx, &w), e);
}
