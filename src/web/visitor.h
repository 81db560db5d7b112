/* visitor.h — who a personal answer is for, when nobody has signed in.
 *
 * An anonymous visitor gets a random 128-bit id in the cookie
 * __Host-vid (HttpOnly, Secure, SameSite=Lax, a year), set only on
 * personal (private, no-store) answers — never on a shared, cached page.
 * Recently viewed products and search history hang off it.
 *
 *   const char *who = visitor_key(req, res, true);   // "v:<hex>" (or "u:<id>" once signed in)
 */
#ifndef SHOEASE_WEB_VISITOR_H
#define SHOEASE_WEB_VISITOR_H

#include "http/http.h"

#include <stdbool.h>

/* The visitor's key for the event store, or NULL when unknown and !create.
 * With create, a new visitor gets a cookie on res. In the request arena. */
const char *visitor_key(http_request *req, http_response *res, bool create);
/* Mark res as personal: never stored by a shared cache. */
void visitor_personal(http_response *res);

#endif
