/* account_book.h — what a shopper keeps in the account besides who they
 * are: delivery addresses, and the sizes and brands they saved. Rules and
 * units of work only: no HTTP, no SQL, no HTML (the checkout validates its
 * addresses with the same address_validate).
 *
 *   address_row a = {0};
 *   shop_error e;
 *   if (address_from_fields(&a, req_form_fn, req, &e) != SHOP_OK ||
 *       address_save(user_id, &a, &e) != SHOP_OK)
 *       → the form again, e.message beside the input named e.field
 *
 * Rules it keeps:
 *   - every text is trimmed, valid UTF-8 and free of control characters;
 *     limits are in bytes of the stored text (what the columns hold);
 *   - a GB postcode has the shape of a real one and is stored in its
 *     canonical form ("sw1a1aa" → "SW1A 1AA");
 *   - at most ADDRESS_MAX addresses per account; the first one is the
 *     default; deleting the default makes the newest remaining one the
 *     default — each change one unit of work;
 *   - an id that is not one of the shopper's addresses is SHOP_NOT_FOUND,
 *     whether it exists for somebody else or not at all;
 *   - saved sizes and brands are replaced as a whole, in one unit of work,
 *     and only from what the catalogue offers: an unknown value is refused
 *     (SHOP_INVALID), never dropped quietly. */
#ifndef SHOEASE_SHOP_ACCOUNT_BOOK_H
#define SHOEASE_SHOP_ACCOUNT_BOOK_H

#include "db/user_repo.h"
#include "shop/result.h"

#include <stdbool.h>
#include <stdint.h>

#define ADDRESS_MAX 20
#define PREFS_SIZES_MAX 64
#define PREFS_BRANDS_MAX 120

/* ---------- addresses ---------- */

/* The countries we deliver to (ISO 3166-1 alpha-2), United Kingdom first,
 * then by name: for a <select>. */
typedef struct address_country {
    const char *code, *name;
} address_country;
extern const address_country address_countries[];
extern const int address_country_count;
/* The display name of a country we deliver to, or NULL. */
const char *address_country_name(const char *code);

/* Check and normalise an address in place (every field is trimmed; the
 * postcode, the country code and the phone number take their canonical
 * form). e->field names the form input: full_name, line1, line2, city,
 * region, postcode, country, phone. a->id and a->is_default are not
 * looked at. */
shop_status address_validate(address_row *a, shop_error *e);

/* Fill a's text fields from outside input by their form names through
 * get(ctx, name) (NULL: empty) — refusing, rather than cutting, a value
 * too long for its field — then address_validate it. */
typedef const char *(*address_field_fn)(void *ctx, const char *name);
shop_status address_from_fields(address_row *a, address_field_fn get, void *ctx, shop_error *e);

/* The shopper's addresses, the default first, then the newest: up to max
 * (ADDRESS_MAX holds them all) in out, *count set. */
shop_status address_list(int64_t user_id, address_row *out, int max, int *count, shop_error *e);
shop_status address_get(int64_t user_id, int64_t id, address_row *out, shop_error *e);
/* Validate, then add (a->id 0: a->id is set to the new id; the account's
 * first address becomes its default) or change one of theirs. */
shop_status address_save(int64_t user_id, address_row *a, shop_error *e);
shop_status address_delete(int64_t user_id, int64_t id, shop_error *e);
shop_status address_set_default(int64_t user_id, int64_t id, shop_error *e);

/* ---------- saved sizes and brands ---------- */

typedef struct pref_option {
    char value[81];    /* a size key ("uk-9.5") or a brand slug */
    char label[81];    /* "UK 9.5", the brand's name */
    bool saved;
} pref_option;

typedef struct saved_prefs {
    pref_option sizes[PREFS_SIZES_MAX];      /* the catalogue's UK sizes, numerically */
    int nsizes;
    pref_option brands[PREFS_BRANDS_MAX];    /* the catalogue's brands, by name */
    int nbrands;
} saved_prefs;

/* What can be chosen, with the shopper's choices marked saved. (~20 KB:
 * not for a small stack.) */
shop_status prefs_get(int64_t user_id, saved_prefs *out, shop_error *e);
/* Replace both sets. Repeats are harmless; a value the catalogue does not
 * offer is SHOP_INVALID with field "size" or "brand" and nothing saved. */
shop_status prefs_save(int64_t user_id, const char *const *sizes, int nsizes, const char *const *brands, int nbrands,
                       shop_error *e);

#endif
