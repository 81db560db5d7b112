/* result.h — the one way shop functions report failure: a status, and
 * for the shopper a message and the form field it is about. HTTP status
 * codes and pages are chosen at the edge (views/, api/), never here.
 *
 *   shop_error e;
 *   if (accounts_register(&form, &e) != SHOP_OK) → render the form with e.message beside e.field
 */
#ifndef SHOEASE_SHOP_RESULT_H
#define SHOEASE_SHOP_RESULT_H

typedef enum shop_status {
    SHOP_OK = 0,
    SHOP_INVALID,       /* bad input: field + message for the form (422 / the form again) */
    SHOP_NOT_FOUND,     /* no such thing (404) */
    SHOP_CONFLICT,      /* it changed meanwhile, or already exists (409) */
    SHOP_DENIED,        /* wrong password or code, not allowed (403 / the form again) */
    SHOP_LOCKED,        /* too many failures: wait retry_after seconds (429) */
    SHOP_EXPIRED,       /* a link or code that is used up or too old (410 / the form again) */
    SHOP_UNAVAILABLE,   /* a store failed: nothing was changed (503) */
} shop_status;

typedef struct shop_error {
    shop_status status;
    const char *field;          /* the form field it is about, or NULL */
    char message[240];          /* for the shopper; names no internals */
    int retry_after;            /* SHOP_LOCKED: seconds */
} shop_error;

/* Fill e (may be NULL) and return st. */
shop_status shop_fail(shop_error *e, shop_status st, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
