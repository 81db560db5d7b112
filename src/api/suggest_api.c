/* suggest_api.c — see suggest_api.h. */
#include "api/suggest_api.h"

#include "core/text.h"
#include "events/reads.h"
#include "web/visitor.h"

#include <string.h>

#define SUGGESTIONS 8

void api_search_suggest(http_request *req, http_response *res)
{
    visitor_personal(res);
    const char *q = req_query(req, "q");
    if (!q) q = "";
    size_t n = strlen(q);
    if (n > 80 || !text_valid_utf8(q, n)) {
        res_error(req, res, 400, "q must be at most 80 characters of text.");
        return;
    }
    /* the same normal form the event writer stores searches in */
    char prefix[96];
    size_t k = 0;
    bool space = false;
    for (const char *p = q; *p && k + 2 < sizeof prefix; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '\t') { space = k > 0; continue; }
        if (space) prefix[k++] = ' ';
        space = false;
        prefix[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (space && k + 1 < sizeof prefix) prefix[k++] = ' ';
    prefix[k] = '\0';
    const char *who = visitor_key(req, res, false);
    json_t *list = events_suggest(who, prefix, SUGGESTIONS);
    res_json(res, 200, json_pack("{s:s,s:o}", "query", q, "suggestions", list));
}
