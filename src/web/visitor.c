/* visitor.c — see visitor.h. */
#include "web/visitor.h"

#include "core/config.h"

#include <sodium.h>

void visitor_personal(http_response *res)
{
    res_header(res, "Cache-Control", "private, no-store");
    res_header(res, "Vary", "Cookie");
}

const char *visitor_key(http_request *req, http_response *res, bool create)
{
    if (req->log_user_id > 0) return arena_printf(req->pool, "u:%lld", (long long)req->log_user_id);
    const char *vid = req_cookie(req, VISITOR_COOKIE);
    if (vid && visitor_id_valid(vid)) return arena_printf(req->pool, "v:%s", vid);
    if (!create) return NULL;
    unsigned char rnd[16];
    char hex[33];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    res_add_header(res, "Set-Cookie",
                   arena_printf(req->pool, "%s=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax%s", VISITOR_COOKIE,
                                hex, cfg.secure_cookies ? "; Secure" : ""));
    return arena_printf(req->pool, "v:%s", hex);
}
