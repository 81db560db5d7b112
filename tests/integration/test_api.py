"""The catalogue JSON API against its contract, docs/openapi.json.

Black-box over HTTPS through nginx (see conftest.py), on the seeded demo
catalogue. Every real response is validated with python3-jsonschema against
the schema the document gives for that path and status: the document's
OpenAPI 3.0 schemas (with `nullable` and `$ref`s into components/schemas)
are converted into one JSON Schema with a `definitions` section, so no
resolver beyond jsonschema's own is needed.

nginx limits a client to 20 requests/s (burst 40): requests are paced and a
429 from nginx is retried, so a test never fails on the rate limit.
"""
import copy
import json
import time
import uuid

import pytest
import requests

from paced import call, describe, get, opaque, raw_get  # noqa: F401  (shared helpers)

from conftest import REPO, wait_until

try:
    import jsonschema
except ImportError:   # every test here fails (never skips) without it
    jsonschema = None


@pytest.fixture(autouse=True)
def _jsonschema_installed():
    if jsonschema is None:
        pytest.fail("the Python module jsonschema is missing: install python3-jsonschema "
                    "(tools/install-deps.sh does); the API contract tests cannot run without it")

OPENAPI_PATH = REPO / "docs" / "openapi.json"
API_PATHS = {"/api/v1/categories", "/api/v1/products", "/api/v1/products/{slug}", "/api/v1/openapi.json"}
QUERY_PARAMS = {"category", "q", "brand", "colour", "size", "gender", "price_min", "price_max", "sort", "page",
                "per_page"}
SORTS = ["relevance", "newest", "price_asc", "price_desc", "rating", "popular"]


# ------------------------------------------------------------------ HTTP helpers




def get_json(session, url, status=200, **kw):
    r = get(session, url, **kw)
    assert r.status_code == status, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
    try:
        return r, r.json()
    except ValueError:
        pytest.fail("not JSON: " + describe(r))


# ------------------------------------------------------------------ OpenAPI -> JSON Schema

def load_doc():
    with open(OPENAPI_PATH, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def to_json_schema(node):
    """An OpenAPI 3.0 Schema Object as JSON Schema (draft 7): `nullable`
    becomes "or null", refs point into #/definitions, examples go."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("example", "nullable", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly",
                 "discriminator"):
            continue
        if k == "$ref":
            prefix = "#/components/schemas/"
            assert v.startswith(prefix), "unexpected $ref %s" % v
            out[k] = "#/definitions/" + v[len(prefix):]
        elif k == "properties":
            out[k] = {name: to_json_schema(s) for name, s in v.items()}
        elif k in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[k] = to_json_schema(v)
        else:
            out[k] = copy.deepcopy(v)
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Contract:
    def __init__(self, doc):
        self.doc = doc
        self.definitions = {name: to_json_schema(s) for name, s in doc["components"]["schemas"].items()}

    def validator(self, schema):
        root = {"definitions": self.definitions, "allOf": [to_json_schema(schema)]}
        return jsonschema.Draft7Validator(root)

    def deref(self, obj):
        """Follow a local $ref (#/components/...) in the document."""
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            seen += 1
            assert seen < 10, "$ref loop"
            ref = obj["$ref"]
            assert ref.startswith("#/"), "only local refs: %s" % ref
            obj = self.doc
            for part in ref[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj

    def operation(self, path, method="get"):
        assert path in self.doc["paths"], "%s is not documented" % path
        op = self.doc["paths"][path].get(method)
        assert op, "%s %s is not documented" % (method.upper(), path)
        return op

    def response(self, path, status, method="get"):
        responses = self.operation(path, method)["responses"]
        assert str(status) in responses, "%s %s: status %s is not documented (documented: %s)" % (
            method.upper(), path, status, sorted(responses))
        return self.deref(responses[str(status)])

    def body_schema(self, path, status, method="get"):
        resp = self.response(path, status, method)
        content = resp.get("content", {})
        assert "application/json" in content, "%s %s has no JSON body documented" % (path, status)
        return content["application/json"]["schema"]

    def errors(self, path, status, body, method="get"):
        v = self.validator(self.body_schema(path, status, method))
        return sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))

    def check(self, path, r, method="get"):
        """Validate a real response against the documented one."""
        body = r.json()
        errs = self.errors(path, r.status_code, body, method)
        if errs:
            lines = ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message[:300])
                     for e in errs[:15]]
            pytest.fail("%s %s (%d) does not match docs/openapi.json:\n  %s" % (
                r.request.method, r.request.url, r.status_code, "\n  ".join(lines)))
        return body

    def schema(self, name):
        return self.doc["components"]["schemas"][name]

    def query_parameters(self, path):
        out = {}
        for p in self.operation(path).get("parameters", []):
            p = self.deref(p)
            if p["in"] == "query":
                out[p["name"]] = p
        return out


@pytest.fixture(scope="module")
def contract():
    return Contract(load_doc())


@pytest.fixture(scope="module")
def api(https_url, catalog_seeded):
    return https_url + "/api/v1"


@pytest.fixture(scope="module")
def sample_slugs(tls_cert, https_url, catalog_seeded):
    """Products worth validating: some on sale, some with reviews, some with
    sold-out sizes, the newest and the cheapest."""
    from conftest import new_session
    s = new_session(tls_cert)
    try:
        slugs = []
        for sort in ("relevance", "newest", "price_asc", "rating", "popular"):
            r = get(s, https_url + "/api/v1/products", params={"sort": sort, "per_page": 4})
            assert r.status_code == 200, describe(r)
            slugs += [p["slug"] for p in r.json()["products"]]
        r = get(s, https_url + "/api/v1/products", params={"per_page": 60})
        on_sale = [p["slug"] for p in r.json()["products"] if p["on_sale"]][:2]
        sold_out = [p["slug"] for p in r.json()["products"] if not p["in_stock"]][:1]
        return list(dict.fromkeys(slugs + on_sale + sold_out))
    finally:
        s.close()


# ------------------------------------------------------------------ the document itself

def test_document_is_openapi_3_0_3(contract):
    doc = contract.doc
    assert doc.get("openapi") == "3.0.3"
    assert doc["info"].get("title") and doc["info"].get("version")
    assert set(doc["paths"]) == API_PATHS, "documented paths differ from the app's API routes"
    for path, item in doc["paths"].items():
        assert set(item) == {"get"}, "%s: the API only answers GET (and HEAD)" % path
        op = item["get"]
        assert op.get("operationId") and op.get("responses"), path
        assert "200" in op["responses"], path
        for p in op.get("parameters", []):
            p = contract.deref(p)
            assert p["in"] in ("query", "path", "header") and "schema" in p, (path, p)
            if p["in"] == "path":
                assert p.get("required") is True and "{%s}" % p["name"] in path


def test_every_ref_resolves_and_every_schema_is_valid(contract):
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(contract.doc)
    assert refs, "no components used"
    for ref in refs:
        contract.deref({"$ref": ref})          # raises KeyError when dangling
    for name, schema in contract.doc["components"]["schemas"].items():
        jsonschema.Draft7Validator.check_schema(to_json_schema(schema))
        assert schema.get("type") == "object" and schema.get("required"), name
        for key in schema["required"]:
            assert key in schema["properties"], "%s requires undeclared %s" % (name, key)


def test_documented_parameters_are_exactly_what_the_api_reads(contract, session, api):
    params = contract.query_parameters("/api/v1/products")
    assert set(params) == QUERY_PARAMS
    _, listing = get_json(session, api + "/products", params={"per_page": 1})
    # listing.filters echoes every parameter the parser reads (+ "query")
    assert set(listing["filters"]) - {"query"} == QUERY_PARAMS
    assert params["sort"]["schema"]["enum"] == [s["value"] for s in listing["sorts"]] == SORTS
    assert params["sort"]["schema"].get("default") == "relevance"
    assert params["page"]["schema"]["type"] == "integer" and params["page"]["schema"]["minimum"] == 1
    assert params["per_page"]["schema"].get("default") == 24 and "maximum" not in params["per_page"]["schema"], \
        "per_page above 60 is capped, not rejected: the schema must not forbid it"
    for name in ("brand", "colour", "size"):
        assert params[name]["schema"]["type"] == "array"
        assert params[name].get("style", "form") == "form" and params[name].get("explode") is False, \
            "%s takes comma-separated values" % name
    listing_schema = contract.schema("ProductList")
    assert set(listing_schema["required"]) >= {"products", "total", "page", "pages", "per_page", "facets", "filters"}
    assert set(contract.schema("ListingFilters")["properties"]) == QUERY_PARAMS | {"query"}


def test_openapi_json_served_equals_the_file(session, api):
    r = get(session, api + "/openapi.json")
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.content == OPENAPI_PATH.read_bytes(), "/api/v1/openapi.json differs from docs/openapi.json"
    assert r.json() == load_doc()


# ------------------------------------------------------------------ real responses match

def test_categories_match_schema(contract, session, api):
    r, body = get_json(session, api + "/categories")
    contract.check("/api/v1/categories", r)
    assert body["categories"], "no categories (is the catalogue seeded?)"
    seen = set()

    def walk(nodes, depth):
        assert depth < 17
        for n in nodes:
            assert n["url"] == "/category/" + n["slug"]
            assert n["slug"] not in seen, "category %s twice in the tree" % n["slug"]
            seen.add(n["slug"])
            walk(n["children"], depth + 1)
    walk(body["categories"], 0)
    assert any(n["children"] for n in body["categories"]), "the demo tree has subcategories"


LISTING_QUERIES = [
    {},
    {"per_page": "5", "sort": "newest"},
    {"category": "men", "sort": "price_asc"},
    {"q": "leather", "sort": "relevance"},
    {"brand": "kestrel,velocita", "colour": "black", "sort": "price_desc"},
    {"size": "uk-9,UK-10.0", "gender": "women", "sort": "rating"},
    {"price_min": "40", "price_max": "99.99", "sort": "popular"},
    {"price_min": "120", "price_max": "50"},
    {"page": "1000000000"},
    {"per_page": "100000"},
    {"size": "uk-99"},
    {"gender": "aliens"},
    {"q": "+-~*\"()<>@"},
    {"category": "no-such-category"},
    {"category": "", "q": "", "sort": "", "page": "", "per_page": ""},
]


@pytest.mark.parametrize("query", LISTING_QUERIES, ids=lambda q: "&".join("%s=%s" % kv for kv in q.items()) or "none")
def test_product_listing_matches_schema(query, contract, session, api):
    r, body = get_json(session, api + "/products", params=query)
    contract.check("/api/v1/products", r)
    assert body["pages"] == max(1, -(-body["total"] // body["per_page"]))
    assert 1 <= body["page"] <= body["pages"]
    expected = min(body["per_page"], max(0, body["total"] - (body["page"] - 1) * body["per_page"]))
    assert len(body["products"]) == expected
    assert body["has_prev"] == (body["page"] > 1) and body["has_next"] == (body["page"] < body["pages"])
    assert body["prev_page"] == (body["page"] - 1 if body["page"] > 1 else None)
    assert body["next_page"] == (body["page"] + 1 if body["page"] < body["pages"] else None)
    assert body["filters"]["page"] == str(body["page"]) and body["filters"]["per_page"] == str(body["per_page"])
    assert [s["value"] for s in body["sorts"] if s["selected"]] == [query.get("sort") or "relevance"]
    for card in body["products"]:
        assert card["url"] == "/products/" + card["slug"]
        assert card["on_sale"] == (card["compare_at"] is not None)
        if card["compare_at"]:
            assert card["compare_at"]["amount"] > card["price"]["amount"]


def test_product_detail_matches_schema(contract, session, api, sample_slugs):
    assert len(sample_slugs) >= 8
    kinds = {"sold_out": 0, "low": 0, "reviews": 0, "on_sale": 0}
    for slug in sample_slugs:
        r, p = get_json(session, api + "/products/" + slug)
        contract.check("/api/v1/products/{slug}", r)
        assert p["slug"] == slug and p["url"] == "/products/" + slug
        sizes = [s for o in p["options"] for s in o["sizes"]]
        assert sizes, "%s has no sizes" % slug
        for s in sizes:
            assert s["sold_out"] == (s["stock"] == 0)
            assert s["low_stock"] == (1 <= s["stock"] <= 3)
            assert s["stock_label"] == ("Sold out" if s["stock"] == 0 else
                                        "Only %d left" % s["stock"] if s["stock"] <= 3 else "In stock")
            kinds["sold_out"] += s["sold_out"]
            kinds["low"] += s["low_stock"]
        assert p["in_stock"] == any(not s["sold_out"] for s in sizes)
        assert {o["colour"]["slug"] for o in p["options"]} == {c["slug"] for c in p["colours"]}
        assert p["rating"]["count"] >= len(p["reviews"])
        kinds["reviews"] += bool(p["reviews"])
        kinds["on_sale"] += p["on_sale"]
        assert p["breadcrumbs"][0] == {"name": "Home", "url": "/"}
        if p["category"]:
            assert p["breadcrumbs"][-1]["url"] == p["category"]["url"]
    # the sample exercised the interesting shapes
    assert kinds["sold_out"] and kinds["reviews"] and kinds["on_sale"], kinds


# ------------------------------------------------------------------ errors

def check_error(contract, path, r, status):
    assert r.status_code == status, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
    body = contract.check(path, r)
    err = body["error"]
    assert err["status"] == status
    assert err["request_id"] == r.headers.get("X-Request-Id"), "request_id differs from the X-Request-Id header"
    assert err["message"].strip()
    for leak in ("SQL", "mysql", "mariadb", ".c:", "Traceback", "AddressSanitizer"):
        assert leak.lower() not in err["message"].lower(), "internals in the message: %s" % err["message"]
    return err


@pytest.mark.parametrize("slug", ["no-such-shoe", "x" * 300, "%C3%A9t%C3%A9", "..%2F..%2Fetc%2Fpasswd", "1"])
def test_unknown_product_is_404_error_envelope(slug, contract, session, api):
    r = get(session, api + "/products/" + slug)
    err = check_error(contract, "/api/v1/products/{slug}", r, 404)
    assert err["title"] == "Not Found"
    assert r.headers.get("ETag") is None, "an error must not carry a validator"


def test_unknown_api_address_is_404_error_envelope(contract, session, api):
    r = get(session, api + "/no-such-thing")
    assert r.status_code == 404, describe(r)
    body = r.json()
    # not a documented path: validate against the shared Error schema directly
    errs = list(contract.validator(contract.schema("Error").copy()).iter_errors(body))
    assert not errs, [e.message for e in errs]
    assert body["error"]["request_id"] == r.headers.get("X-Request-Id")


def test_other_methods_are_405_error_envelope(contract, session, api):
    r = call(session, "POST", api + "/products", data=b"")
    assert r.status_code == 405, describe(r)
    body = r.json()
    assert not list(contract.validator(contract.schema("Error")).iter_errors(body))
    assert body["error"]["status"] == 405


BAD_PARAMS = [
    ("price_min", "-5", "price_min must not be negative"),
    ("price_max", "-0.01", "price_max must not be negative"),
    ("price_min", "abc", "price_min must be an amount like 50 or 49.99"),
    ("price_max", "12.345", "price_max must be an amount like 50 or 49.99"),
    ("price_max", "1e3", "price_max must be an amount like 50 or 49.99"),
    ("sort", "cheapest", "sort must be one of relevance, newest, price_asc, price_desc, rating, popular"),
    ("sort", "PRICE_ASC", "sort must be one of"),
    ("page", "abc", "page must be a whole number"),
    ("page", "1.5", "page must be a whole number"),
    ("page", "0", "page must be 1 or more"),
    ("page", "-3", "page must be 1 or more"),
    ("per_page", "ten", "per_page must be a whole number"),
    ("per_page", "0", "per_page must be 1 or more"),
]


@pytest.mark.parametrize("name,value,message", BAD_PARAMS, ids=["%s=%s" % p[:2] for p in BAD_PARAMS])
def test_bad_parameter_is_400_with_a_useful_message(name, value, message, contract, session, api):
    r = get(session, api + "/products", params={name: value, "category": "men"})
    err = check_error(contract, "/api/v1/products", r, 400)
    assert err["title"] == "Bad Request"
    assert message in err["message"], "message %r does not say %r" % (err["message"], message)
    assert name in err["message"], "the message must name the parameter"
    assert r.headers.get("ETag") is None, "an error must not carry a validator"


@pytest.mark.parametrize("query", ["q=%FF", "q=%C3%28", "brand=%ED%A0%80", "q=%00", "q=%zz", "q=caf%C3", "size=%"])
def test_malformed_query_is_400_error_envelope(query, contract, raw, https_url, catalog_seeded):
    r = raw_get(raw, https_url, "/api/v1/products?" + query)
    assert r.status == 400, (query, r, r.body[:300])
    assert (r.header("Content-Type") or "").startswith("application/json"), r.headers
    body = json.loads(r.body.decode("utf-8"))
    errs = contract.errors("/api/v1/products", 400, body)
    assert not errs, [e.message for e in errs]
    assert body["error"]["status"] == 400 and body["error"]["request_id"] == r.header("X-Request-Id")
    assert "UTF-8" in body["error"]["message"] or "%" in body["error"]["message"], body["error"]["message"]


def test_catalogue_down_is_503_error_envelope(contract, stack, session, api, sample_slugs):
    """With MariaDB stopped, uncached API requests answer 503 in the envelope
    (responses already cached may still be served)."""
    tag = uuid.uuid4().hex
    stack.stop("mariadb")
    try:
        cases = [("/api/v1/products", api + "/products?q=boots&nocache=" + tag),
                 ("/api/v1/products/{slug}", api + "/products/%s?nocache=%s" % (sample_slugs[0], tag)),
                 ("/api/v1/categories", api + "/categories?nocache=" + tag)]
        for path, url in cases:
            r = get(session, url)
            err = check_error(contract, path, r, 503)
            assert err["title"] == "Service Unavailable"
            assert err["request_id"] in err["message"], "a 5xx message quotes the reference"
    finally:
        stack.start("mariadb")
    assert wait_until(lambda: get(session, api + "/products?nocache=back" + tag).status_code == 200, 30, 0.5), \
        "the API did not recover within 30 s of MariaDB restarting"


# ------------------------------------------------------------------ ETag / 304 / HEAD

def endpoints(api, slug):
    return [("/api/v1/categories", api + "/categories"),
            ("/api/v1/products", api + "/products?category=women&sort=price_asc&per_page=7"),
            ("/api/v1/products/{slug}", api + "/products/" + slug)]


@pytest.mark.parametrize("which", [0, 1, 2], ids=["categories", "products", "product"])
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_etag_then_if_none_match_is_304(which, encoding, contract, session, api, sample_slugs):
    path, url = endpoints(api, sample_slugs[1])[which]
    hdrs = {"Accept-Encoding": encoding}
    r1 = get(session, url, headers=hdrs)
    assert r1.status_code == 200, describe(r1)
    contract.check(path, r1)
    etag = r1.headers.get("ETag")
    assert etag, "no ETag on %s" % url
    assert "must-revalidate" in r1.headers.get("Cache-Control", "")
    r2 = get(session, url, headers=dict(hdrs, **{"If-None-Match": etag}))
    assert r2.status_code == 304, "If-None-Match %s: %s" % (etag, describe(r2))
    assert r2.content == b""
    assert opaque(r2.headers.get("ETag")) == opaque(etag)
    assert "304" in contract.operation(path)["responses"]
    # a list containing the tag, and the strong form of a weak one, match too
    r3 = get(session, url, headers=dict(hdrs, **{"If-None-Match": '"nope", ' + opaque(etag)}))
    assert r3.status_code == 304, describe(r3)
    # a different tag: the full answer again, same content
    r4 = get(session, url, headers=dict(hdrs, **{"If-None-Match": '"0123456789abcdef0123456789abcdef"'}))
    assert r4.status_code == 200 and r4.json() == r1.json(), describe(r4)
    assert r4.headers.get("X-Cache") == "hit", "the second full GET must come from the page cache"


@pytest.mark.parametrize("which", [0, 1, 2], ids=["categories", "products", "product"])
def test_last_modified_then_if_modified_since_is_304(which, session, api, sample_slugs):
    path, url = endpoints(api, sample_slugs[1])[which]
    r1 = get(session, url)
    assert r1.status_code == 200, describe(r1)
    last = r1.headers.get("Last-Modified")
    assert last and last.endswith(" GMT"), "no Last-Modified on %s" % url
    r2 = get(session, url, headers={"If-Modified-Since": last})
    assert r2.status_code == 304 and r2.content == b"", describe(r2)
    older = get(session, url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200, describe(older)
    junk = get(session, url, headers={"If-Modified-Since": "yesterday-ish"})
    assert junk.status_code == 200, describe(junk)   # an unparseable date is ignored
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = get(session, url, headers={"If-Modified-Since": last, "If-None-Match": '"not-this-one"'})
    assert both.status_code == 200, describe(both)


@pytest.mark.parametrize("which", [0, 1, 2], ids=["categories", "products", "product"])
def test_head_is_get_without_body(which, session, api, sample_slugs):
    path, url = endpoints(api, sample_slugs[2])[which]
    g = get(session, url)
    h = call(session, "HEAD", url)
    assert g.status_code == h.status_code == 200, describe(h)
    assert h.content == b""
    assert h.headers.get("Content-Type") == g.headers.get("Content-Type")
    assert opaque(h.headers.get("ETag")) == opaque(g.headers.get("ETag"))
    h404 = call(session, "HEAD", api + "/products/no-such-shoe")
    assert h404.status_code == 404 and h404.content == b""


def test_x_cache_reports_hit_and_miss_and_a_url_is_stored_when_asked_for_again(session, api):
    """Admission: the first GET of a URL only marks it as asked for (a
    one-off URL is not worth a cache entry); the second is stored; the
    third is a hit. Every answer is the same page with the same ETag."""
    url = api + "/products?nocache=%s" % uuid.uuid4().hex
    first, second, third = get(session, url), get(session, url), get(session, url)
    assert [r.headers.get("X-Cache") for r in (first, second, third)] == ["miss", "miss", "hit"]
    assert first.json() == second.json() == third.json()
    assert opaque(first.headers["ETag"]) == opaque(second.headers["ETag"]) == opaque(third.headers["ETag"])
    assert first.headers.get("Last-Modified")


def test_an_etag_from_a_first_unstored_answer_still_gives_304(session, api):
    """The ETag of a page that was not stored is the hash of its bytes, so
    the next request (which stores it) recognises it."""
    url = api + "/products?nocache=%s" % uuid.uuid4().hex
    first = get(session, url)
    assert first.headers.get("X-Cache") == "miss" and first.headers.get("ETag")
    again = get(session, url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304, describe(again)
    assert get(session, url).headers.get("X-Cache") == "hit"


def test_gzip_form_is_made_on_first_demand_and_matches_the_plain_one(direct_url):
    """A page first rendered for a client without gzip is compressed the
    first time a gzip client asks; both forms carry the same content under
    their own ETags, and both are served from the cache afterwards."""
    url = direct_url + "/api/v1/products?per_page=30&sort=newest&probe=%s" % uuid.uuid4().hex
    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert plain.status_code == 200 and plain.headers.get("X-Cache") == "miss"
    assert "Content-Encoding" not in plain.headers
    stored = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)   # admitted: stored plain
    assert stored.headers.get("X-Cache") == "miss" and stored.content == plain.content
    zipped = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert zipped.status_code == 200 and zipped.headers.get("X-Cache") == "hit"
    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert int(zipped.headers["Content-Length"]) < len(plain.content) / 2
    assert zipped.json() == plain.json()            # requests inflates it
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert zipped.headers["ETag"].endswith('-gz"')
    assert zipped.headers.get("Vary") == "Accept-Encoding"
    again = requests.get(url, headers={"Accept-Encoding": "gzip, br"}, timeout=10)
    assert again.headers.get("Content-Encoding") == "gzip" and again.headers["ETag"] == zipped.headers["ETag"]
    refused = requests.get(url, headers={"Accept-Encoding": "gzip;q=0"}, timeout=10)
    assert "Content-Encoding" not in refused.headers and refused.content == plain.content
    r304 = requests.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}, timeout=10)
    assert r304.status_code == 304
