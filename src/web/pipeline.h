/* pipeline.h — the stages that enforce a route's policy (http/policy.h)
 * around its handler. server.c calls pipeline_before once the route is
 * known and runs the handler only when it returns false; pipeline_after
 * runs on every routed answer. */
#ifndef SHOEASE_WEB_PIPELINE_H
#define SHOEASE_WEB_PIPELINE_H

#include "http/http.h"

#include <stdbool.h>

/* true: res holds the answer (400, 403, 401/303 to sign in, 404, 429, 503). */
bool pipeline_before(http_request *req, http_response *res);
/* Personal answers: Cache-Control: private, no-store; Vary: Cookie. */
void pipeline_after(http_request *req, http_response *res);

/* Does v (outside text) fit the spec? NULL, or why not (for the 400's
 * message). Exposed for the fuzz target. */
#include "http/policy.h"
const char *pipeline_param_problem(const param_spec *p, const char *v);

#endif
