/* suggest_api.h — GET /api/v1/search/suggest?q=PREFIX: search suggestions
 * from the visitor's own recent searches and the shop's popular ones
 * (events/reads.h). Personal: private, no-store. */
#ifndef SHOEASE_API_SUGGEST_API_H
#define SHOEASE_API_SUGGEST_API_H

#include "http/http.h"

void api_search_suggest(http_request *req, http_response *res);

#endif
