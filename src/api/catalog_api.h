/* catalog_api.h — the public JSON API of the catalogue (v1), and its
 * OpenAPI 3 document. */
#ifndef SHOEASE_API_CATALOG_API_H
#define SHOEASE_API_CATALOG_API_H

#include "http/http.h"

void api_categories(http_request *req, http_response *res);
void api_products(http_request *req, http_response *res);
void api_product(http_request *req, http_response *res);
void api_openapi(http_request *req, http_response *res);

#endif
