/* reviews.c — see reviews.h. */
#include "shop/reviews.h"

#include "core/text.h"
#include "db/catalog_repo.h"
#include "db/review_repo.h"
#include "db/tx.h"
#include "shop/accounts.h"
#include "shop/catalog.h"

#include <string.h>

#define REFUSED 2           /* a business refusal: e says why */

static const char STORE_DOWN[] = "Reviews are unavailable for a moment. Nothing was saved; please try again.";

/* Valid UTF-8, min..max characters once blanks are set aside, no control
 * characters (line breaks and tabs allowed where multiline). */
static bool text_fits(const char *s, size_t min, size_t max, bool multiline)
{
    if (!s || !text_valid_utf8(s, strlen(s))) return false;
    size_t visible = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            if (!multiline) return false;
        } else if (*p < 0x20 || *p == 0x7f) {
            return false;
        } else if (*p != ' ' && (*p & 0xC0) != 0x80) {
            visible++;
        }
    }
    size_t n = text_utf8_chars(s);
    return visible >= min && n <= max;
}

struct submit {
    int64_t user_id;
    const char *slug, *author;
    const review_form *f;
    bool verified;
    shop_error *e;
};

static int submit_tx(db_tx *tx, void *arg)
{
    struct submit *a = arg;
    db_conn *c = db_tx_conn(tx);
    int64_t product_id = 0;
    int r = review_repo_product(c, a->slug, &product_id);
    if (r < 0) return DB_TX_FAILED;
    if (r == 0) {
        shop_fail(a->e, SHOP_NOT_FOUND, NULL, "We could not find that shoe.");
        return REFUSED;
    }
    r = review_repo_exists(c, a->user_id, product_id);
    if (r < 0) return DB_TX_FAILED;
    if (r == 1) {
        shop_fail(a->e, SHOP_CONFLICT, NULL, "You have reviewed this shoe already. Thank you!");
        return REFUSED;
    }
    r = review_repo_bought(c, a->user_id, product_id);
    if (r < 0) return DB_TX_FAILED;
    a->verified = r == 1;
    /* pending: no page shows it until it is approved, so no cache to refresh */
    int64_t pid, id;
    if (repo_add_review(c, a->slug, a->f->rating, a->f->title, a->f->body, a->author, "pending", a->verified,
                        a->user_id, &pid, &id) != CATALOG_OK)
        return DB_TX_FAILED;
    return DB_TX_OK;
}

shop_status reviews_submit(int64_t user_id, const char *slug, const review_form *f, bool *verified, shop_error *e)
{
    *verified = false;
    if (f->rating < 1 || f->rating > 5) return shop_fail(e, SHOP_INVALID, "rating", "Choose from 1 to 5 stars.");
    if (!text_fits(f->title, 1, CATALOG_REVIEW_TITLE_MAX, false))
        return shop_fail(e, SHOP_INVALID, "title", "Give your review a title of up to %d characters, on one line.",
                         CATALOG_REVIEW_TITLE_MAX);
    if (!text_fits(f->body, REVIEW_BODY_MIN, CATALOG_REVIEW_BODY_MAX, true))
        return shop_fail(e, SHOP_INVALID, "body", "Write between %d and %d characters about the shoe.", REVIEW_BODY_MIN,
                         CATALOG_REVIEW_BODY_MAX);
    account me;
    if (accounts_get(user_id, &me, e) != SHOP_OK) return e->status;
    struct submit a = {user_id, slug, me.name[0] ? me.name : "A ShoEase shopper", f, false, e};
    int rc = db_tx_run(submit_tx, &a);
    if (rc == REFUSED) return e->status;
    if (rc != DB_TX_OK) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *verified = a.verified;
    return SHOP_OK;
}

shop_status reviews_queue(arena *a, const review_filter *f, int offset, int max, review_row *out, int *n,
                          int64_t *total, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? review_repo_search(c, a, f, offset, max, out, total) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "Reviews are unavailable for a moment.");
    *n = r;
    return SHOP_OK;
}
