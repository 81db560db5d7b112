/* errors.c — the themed error page (error.mustache) for every route:
 * 400/404/405/413 and 5xx, with the message res_error was given (for 5xx
 * that is already the generic text with the request id) and the request
 * id as a reference. Installed per worker by views_init. */
#include "views/views.h"

static const char *heading_for(int status)
{
    switch (status) {
    case 400: return "Please check that address";
    case 404: return "Page not found";
    case 405: return "That didn't work";
    case 413: return "That was too much to send";
    default: return status >= 500 ? "Sorry, something went wrong" : NULL;
    }
}

int view_render_error(http_request *req, int status, const char *title, const char *message, buf *out)
{
    const char *heading = heading_for(status);
    json_t *ctx = json_pack("{s:i,s:s,s:s,s:s,s:s}", "status", status, "heading", heading ? heading : title,
                            "message", message ? message : "", "request_id", req->id, "page_title", title);
    if (!ctx) return -1;
    /* The nav needs the database: not for a 5xx, which may be the database. */
    json_t *nav = status < 500 ? catalog_category_tree() : NULL;
    int rc = view_render_nav(req, "error", ctx, nav, out);
    json_decref(ctx);
    return rc;
}
