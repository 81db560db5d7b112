/* pipeline.h — the stages that enforce a route's policy (http/policy.h)
 * around its handler. server.c calls pipeline_before once the route is
 * known and runs the handler only when it returns false; pipeline_after
 * runs on every routed answer. */
#ifndef SHOEASE_WEB_PIPELINE_H
#define SHOEASE_WEB_PIPELINE_H

#include "http/http.h"
#include "http/policy.h"

#include <stdbool.h>

/* true: res holds the answer (400, 403, 401/303 to sign in, 404, 429, 503). */
bool pipeline_before(http_request *req, http_response *res);
/* May this request send a body up to UPLOAD_MAX_BYTES (asked when its
 * headers are in, before the body)? Only for a route whose policy says
 * upload and, when it is hidden, only for a caller its gate lets through:
 * anyone else's body is read and dropped past MAX_BODY_BYTES exactly as for
 * a path that does not exist (same work, same answer: the 404). */
bool pipeline_takes_upload(http_request *req, const route_policy *pol);
/* Personal answers: Cache-Control: private, no-store; Vary: Cookie. */
void pipeline_after(http_request *req, http_response *res);

/* The page that asks for the password again before a dangerous action
 * (policy reauth): it shows error (NULL the first time) and sends the
 * same form again with confirm_password. Installed by the views at start. */
typedef void (*pipeline_reauth_fn)(http_request *req, http_response *res, const char *error);
void pipeline_set_reauth_page(pipeline_reauth_fn fn);

/* Does v (outside text) fit the spec? NULL, or why not (for the 400's
 * message). Exposed for the fuzz target. */
const char *pipeline_param_problem(const param_spec *p, const char *v);

#endif
