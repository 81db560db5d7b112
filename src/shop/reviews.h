/* reviews.h — a shopper writes a review of a shoe.
 *
 *   review_form f = {.rating = 5, .title = "Comfy", .body = "Wore them all day …"};
 *   bool verified;
 *   if (reviews_submit(user_id, "kestrel-tempo-runner", &f, &verified, &e) != SHOP_OK) → e.message beside e.field
 *
 * Rules: one review per shopper and shoe; rating 1 to 5; a title of 1 to
 * CATALOG_REVIEW_TITLE_MAX characters and a text of 10 to
 * CATALOG_REVIEW_BODY_MAX, valid UTF-8 without control characters (the
 * text may have line breaks); signed with the shopper's name. It is
 * "verified purchase" when the shopper has an order of the shoe that was
 * not cancelled or refunded (review_repo.h) — set here from real orders,
 * never from the form — and waits for the store owner's moderation
 * (`shoease review moderate ID approved`) before the product page shows
 * it. */
#ifndef SHOEASE_SHOP_REVIEWS_H
#define SHOEASE_SHOP_REVIEWS_H

#include "core/arena.h"
#include "db/review_repo.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define REVIEW_BODY_MIN 10

typedef struct review_form {
    int rating;                 /* 1..5 (0: not chosen) */
    const char *title, *body;
} review_form;

shop_status reviews_submit(int64_t user_id, const char *slug, const review_form *f, bool *verified, shop_error *e);

/* The moderation queue of the admin portal: reviews matching f (see
 * db/review_repo.h), pending first; at most max from offset into out
 * (strings in a), *n read, *total matching. Moderating and replying are
 * catalog.h's (catalog_moderate_reviews, catalog_reply_review). */
shop_status reviews_queue(arena *a, const review_filter *f, int offset, int max, review_row *out, int *n,
                          int64_t *total, shop_error *e);

#endif
