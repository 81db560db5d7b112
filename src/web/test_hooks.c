/* test_hooks.c — see test_hooks.h. */
#include "web/test_hooks.h"

#include "core/text.h"

#include <time.h>

void test_hook_sleep(http_request *req, http_response *res)
{
    long long ms;
    if (!text_parse_int64(req_query(req, "ms"), 0, 60000, &ms)) {
        res_error(req, res, 400, "ms must be a whole number of milliseconds from 0 to 60000");
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    res_json(res, 200, json_pack("{s:I}", "slept_ms", (json_int_t)ms));
}

void test_hook_admin_danger(http_request *req, http_response *res)
{
    const char *what = req_form(req, "what");
    res_text(res, 200, arena_printf(req->pool, "done: %s\n", what ? what : ""));
}
