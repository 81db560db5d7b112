/* review_repo.h — what a shopper's review needs to know (statements only;
 * the caller's unit of work begins and commits). The insert itself is
 * catalog_repo.h's repo_add_review, which also keeps the rating aggregate.
 *
 *   int bought = review_repo_bought(c, user_id, product_id);   // 1, 0, or -1 on a store error
 *
 * Rule: a review is a "verified purchase" when its writer has an order of
 * the product that was not cancelled or refunded (placed and paid, or cash
 * on delivery confirmed, shipped, delivered). */
#ifndef SHOEASE_DB_REVIEW_REPO_H
#define SHOEASE_DB_REVIEW_REPO_H

#include "core/arena.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

/* 1 when user_id has an order of product_id that counts as bought, else 0; -1 on error. */
int review_repo_bought(db_conn *c, int64_t user_id, int64_t product_id);
/* 1 when user_id has reviewed product_id already (any status), else 0; -1 on error. */
int review_repo_exists(db_conn *c, int64_t user_id, int64_t product_id);
/* The product's id by slug (an active product): 1, 0 when none, -1 on error. */
int review_repo_product(db_conn *c, const char *slug, int64_t *product_id);

/* ---- Moderation (the admin portal, shop/catalog_admin.c) ---- */

/* A review as the moderation queue shows it. Strings in the caller's arena. */
typedef struct review_row {
    int64_t id, product_id, rating;
    const char *product_slug, *product_name;
    const char *title, *body, *author;
    const char *status;             /* pending | approved | rejected */
    bool verified;
    const char *created_at;         /* "2026-03-05 14:02" (UTC) */
    const char *reply_text;         /* NULL: no reply */
    const char *reply_author;       /* "" without a reply */
    const char *replied_at;         /* "2026-03-05 14:02", "" without a reply */
} review_row;

typedef struct review_filter {
    int64_t id;                     /* one review, or 0: any */
    const char *status;             /* one of the three, or NULL: any */
    int rating;                     /* 1..5, 0: any */
    const char *product;            /* the product's slug, or part of its name; NULL: any */
    int verified;                   /* 1 verified purchases, 0 the others, -1 any */
    const char *q;                  /* title, text or author contain it; NULL: any */
    bool by_rating;                 /* sort by rating (else by date), after pending first */
    bool desc;
} review_filter;

/* Pending first, then the chosen order; at most max from offset, *total
 * matching. Count read, or -1. */
int review_repo_search(db_conn *c, arena *a, const review_filter *f, int offset, int max, review_row *out,
                       int64_t *total);
/* Lock a review for a change: its product row first (FOR UPDATE, the
 * order every review write takes, so rating aggregates are computed one
 * after the other), then the review. 1 (out filled), 0 no such review, -1. */
int review_repo_lock(db_conn *c, arena *a, int64_t id, review_row *out);
/* The shop's reply (text NULL: removed), signed with the staff member's
 * name and id, dated now. 0 or -1. */
int review_repo_set_reply(db_conn *c, int64_t id, const char *text, const char *author, int64_t author_id);

#endif
