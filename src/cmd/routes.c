/* routes.c — `shoease routes`: the route table with each route's policy, as
 * JSON (operators, and the test that walks it: every state change is
 * CSRF-checked, every non-public route refuses an anonymous caller). */
#include "cmd/cmd.h"

#include "app.h"
#include "http/router.h"
#include "web/ratelimit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const access_names[] = {"anyone", "shopper", "verified", "staff", "superuser", "loopback"};

int cmd_routes(int argc, char **argv)
{
    (void)argc; (void)argv;
    app_register_routes();
    json_t *out = json_array();
    for (int i = 0; i < router_count(); i++) {
        const route_policy *p = router_policy(i);
        bool changes = policy_method_changes_state(router_method(i));
        const rate_rule *rr = ratelimit_rule(p->rate);
        json_t *params = json_array();
        for (const param_spec *ps = p->params; ps && ps->name; ps++)
            json_array_append_new(params, json_pack("{s:s,s:b}", "name", ps->name, "required", ps->required));
        json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s?,s:b,s:b,s:b,s:b,s:o}", "method", router_method(i),
                                             "pattern", router_pattern(i), "access", access_names[p->access], "cache",
                                             p->cache == CACHE_PERSONAL ? "personal" : "shared", "csrf",
                                             changes && !p->csrf_exempt, "csrf_exempt", p->csrf_exempt, "rate",
                                             rr ? rr->name : NULL, "mfa_step", p->mfa_step, "upload", p->upload,
                                             "hidden", p->hidden, "reauth", p->reauth, "params", params));
    }
    char *s = json_dumps(out, JSON_INDENT(1));
    puts(s);
    free(s);
    json_decref(out);
    return 0;
}
