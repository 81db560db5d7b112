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

#include "db/db.h"

#include <stdint.h>

/* 1 when user_id has an order of product_id that counts as bought, else 0; -1 on error. */
int review_repo_bought(db_conn *c, int64_t user_id, int64_t product_id);
/* 1 when user_id has reviewed product_id already (any status), else 0; -1 on error. */
int review_repo_exists(db_conn *c, int64_t user_id, int64_t product_id);
/* The product's id by slug (an active product): 1, 0 when none, -1 on error. */
int review_repo_product(db_conn *c, const char *slug, int64_t *product_id);

#endif
