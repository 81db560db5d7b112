/* prefs_repo.h — what a shopper can choose to save as sizes and brands:
 * the UK sizes the catalogue's variants use and the catalogue's brands.
 * (The saved choices themselves are user_repo.h's prefs_repo_* functions.)
 *
 * Plain rows; the caller passes the connection and never gets a
 * transaction begun or committed here. Count of rows, or -1 (store error,
 * logged). */
#ifndef SHOEASE_DB_PREFS_REPO_H
#define SHOEASE_DB_PREFS_REPO_H

#include "db/db.h"

/* The distinct UK size keys of the variants ("uk-9.5") with their labels
 * ("UK 9.5"), sorted numerically (3, 3.5, 4 … 10, 10.5, 11). */
int prefs_repo_size_options(db_conn *c, char (*out)[13], char (*labels)[17], int max);
/* Every brand: slug and name, by name. */
int prefs_repo_brand_options(db_conn *c, char (*slugs)[81], char (*names)[81], int max);

#endif
