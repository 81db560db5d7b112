/* account_pages.c — what a signed-in shopper keeps in the account. Access
 * (signed in, a verified address for saved data), CSRF and rate limits are
 * the route table's (app.c); handlers ask shop/accounts.h and answer. */
#include "views/views.h"

#include "shop/accounts.h"
#include "views/forms.h"
#include "web/session.h"

#include <string.h>
#include <time.h>

void account_overview(http_request *req, http_response *res)
{
    account a;
    shop_error e;
    if (accounts_get(req->session->user_id, &a, &e) != SHOP_OK) {
        res_error(req, res, view_error_status(&e), e.message);
        return;
    }
    char since[32];
    time_t t = (time_t)a.created_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(since, sizeof since, "%B %Y", &tm);
    json_t *ctx = json_pack("{s:s,s:{s:s,s:s,s:b,s:s,s:b,s:s,s:s}}", "page_title", "Your account", "account", "name",
                            a.name, "email", a.email, "verified", a.email_verified, "phone", a.phone,
                            "two_step", strcmp(a.second_factor, "none") != 0, "second_factor", a.second_factor,
                            "since", since);
    view_page(req, res, 200, "account/overview", ctx);
}
