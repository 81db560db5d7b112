/* security.c — see security.h. The header values are the seed's Django
 * settings (SECURE_*, X_FRAME_OPTIONS) turned into fixed strings. */
#include "web/security.h"

#include "core/config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* No inline script or style anywhere: pages use /static/ files only. */
static const char CSP[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'";
static const char PERMISSIONS[] =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";
/* The card page alone loads Stripe's card form (its script and frames). */
static const char CARD_CSP[] =
    "default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self'; "
    "script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; "
    "font-src 'self'; connect-src 'self' https://api.stripe.com; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'";
static const char CARD_PERMISSIONS[] =
    "camera=(), microphone=(), geolocation=(), payment=(self \"https://js.stripe.com\"), usb=(), "
    "interest-cohort=()";

void security_allow_card_form(http_request *req, http_response *res)
{
    (void)req;
    res->card_form = true;
}

bool security_peer_trusted(const char *peer)
{
    for (int i = 0; i < cfg.n_trusted_proxies; i++)
        if (strcmp(cfg.trusted_proxies[i], peer) == 0) return true;
    return false;
}

/* Split "Host" into a lower-case host name without the port. Accepts
 * name[:port] and [v6]:port. Returns false for anything else. */
static bool parse_host(arena *pool, const char *value, const char **host_out)
{
    size_t len = strlen(value);
    if (len == 0 || len > 255) return false;
    const char *end;
    const char *start = value;
    if (value[0] == '[') {
        end = strchr(value, ']');
        if (!end) return false;
        end++;
    } else {
        end = strchr(value, ':');
        if (!end) end = value + len;
    }
    if (*end == ':') {
        const char *port = end + 1;
        if (!*port || strlen(port) > 5) return false;
        for (const char *p = port; *p; p++)
            if (!isdigit((unsigned char)*p)) return false;
    } else if (*end) {
        return false;
    }
    char *host = arena_strndup(pool, start, (size_t)(end - start));
    for (char *p = host; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':')) return false;
        *p = (char)tolower(c);
    }
    if (!*host) return false;
    *host_out = host;
    return true;
}

bool security_precheck(http_request *req, http_response *res)
{
    const char *host_header = req_header(req, "Host");
    const char *host = NULL;
    if (!host_header || !parse_host(req->pool, host_header, &host)) {
        res_error(req, res, 400, "The Host header is missing or malformed.");
        return true;
    }
    if (!config_host_allowed(host, strlen(host))) {
        res_error(req, res, 400, "This host name is not served here (it is not in ALLOWED_HOSTS).");
        return true;
    }
    req->host = host;

    /* The scheme header is believed only from our own proxy: anyone else
     * could claim "https" and defeat the redirect. */
    if (req->from_trusted_proxy) {
        const char *proto = req_header(req, "X-Forwarded-Proto");
        if (proto && strcasecmp(proto, "https") == 0) {
            req->https = true;
        } else if (proto && strcasecmp(proto, "http") == 0) {
            /* keep the port the shopper used, if any */
            const char *location = arena_printf(req->pool, "https://%s%s", host_header, req->raw_uri);
            res_redirect(res, 301, location);
            return true;
        }
    }
    return false;
}

void security_add_headers(http_request *req, http_response *res)
{
    if (cfg.hsts_seconds > 0) {
        char hsts[64];
        snprintf(hsts, sizeof hsts, "max-age=%d; includeSubDomains", cfg.hsts_seconds);
        res_header(res, "Strict-Transport-Security", arena_strdup(req->pool, hsts));
    }
    res_header(res, "X-Content-Type-Options", "nosniff");
    res_header(res, "X-Frame-Options", "DENY");
    res_header(res, "Referrer-Policy", "strict-origin-when-cross-origin");
    res_header(res, "Content-Security-Policy", res->card_form ? CARD_CSP : CSP);
    res_header(res, "Permissions-Policy", res->card_form ? CARD_PERMISSIONS : PERMISSIONS);
    res_header(res, "Cross-Origin-Opener-Policy", "same-origin");
    res_header(res, "X-Request-Id", req->id);
}
