/* health.h — /healthz (the process answers) and /readyz (every store
 * answers), for load balancers, the stack supervisor and operators. */
#ifndef SHOEASE_WEB_HEALTH_H
#define SHOEASE_WEB_HEALTH_H

#include "http/http.h"

void health_live(http_request *req, http_response *res);
void health_ready(http_request *req, http_response *res);

#endif
