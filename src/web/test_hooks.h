/* test_hooks.h — routes that exist only when TEST_HOOKS=1 (the test stack),
 * so black-box tests can provoke what real traffic rarely does: a request
 * that hangs (the worker timeout). Production refuses TEST_HOOKS=1. */
#ifndef SHOEASE_WEB_TEST_HOOKS_H
#define SHOEASE_WEB_TEST_HOOKS_H

#include "http/http.h"

/* GET /__test/sleep?ms=N: holds the worker thread for N ms (≤ 60000). */
void test_hook_sleep(http_request *req, http_response *res);
/* POST <ADMIN_PATH>/__test/danger: a dangerous admin action that does
 * nothing (the password prompt of policy reauth, tested on its own). */
void test_hook_admin_danger(http_request *req, http_response *res);

#endif
