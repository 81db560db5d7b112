"""The catalogue as shoppers meet it: filters, sold-out sizes, cache
freshness after store-owner changes, escaping, bad input, search, home.

Black-box over HTTPS through nginx (see conftest.py) on the seeded demo
catalogue; store-owner changes go through the real commands (`shoease
product set-stock / set-price`, `shoease review add / moderate`). A test
that changes stock, a price or a review restores it before it ends (in a
finally), and tests pick their products from a snapshot taken at module
start, so they are independent and can run in any order.

nginx limits a client to 20 requests/s (burst 40): requests are paced and a
429 from nginx is retried, so a test never fails on the rate limit. Every
loop is bounded.
"""
import re
import time
import uuid
from html.parser import HTMLParser

import pytest

from paced import call, describe, get, opaque, raw_get  # noqa: F401  (shared helpers)

PER_PAGE_MAX = 60
MAX_PAGES = 12            # 12 x 60 = 720 cards: well above the demo's 245


# ------------------------------------------------------------------ HTTP helpers




class Shop:
    """The shop over HTTPS: JSON API and HTML pages."""

    def __init__(self, session, base):
        self.s, self.base = session, base

    def get(self, path, **kw):
        return get(self.s, self.base + path, **kw)

    def head(self, path, **kw):
        return call(self.s, "HEAD", self.base + path, **kw)

    def api(self, path, params=None, status=200):
        r = self.get("/api/v1" + path, params=params)
        assert r.status_code == status, describe(r)
        assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
        return r.json()

    def listing(self, **params):
        return self.api("/products", params=params)

    def all_cards(self, **params):
        """Every card of a filtered listing, all pages."""
        params = dict(params, per_page=PER_PAGE_MAX)
        cards, total = [], None
        for page in range(1, MAX_PAGES + 1):
            body = self.listing(page=page, **params)
            total = body["total"]
            cards += body["products"]
            if page >= body["pages"]:
                break
        else:
            pytest.fail("more than %d pages for %s" % (MAX_PAGES, params))
        assert len(cards) == total, "listing total %d but %d cards over all pages (%s)" % (total, len(cards), params)
        assert len({c["slug"] for c in cards}) == len(cards), "a product on two pages: %s" % params
        return cards

    def product(self, slug):
        return self.api("/products/" + slug)

    def page(self, path, params=None, status=200):
        r = self.get(path, params=params)
        assert r.status_code == status, describe(r)
        assert r.headers.get("Content-Type", "").startswith("text/html"), describe(r)
        return r, parse_html(r.text)


def slugs(cards):
    return [c["slug"] for c in cards]


# ------------------------------------------------------------------ HTML

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.classes:
                continue
            if any(n.attrs.get(k.rstrip("_")) != v for k, v in attrs.items()):
                continue
            out.append(n)
        return out

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def __repr__(self):
        return "<%s %s>" % (self.tag, self.attrs)


class DomBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_html(text):
    b = DomBuilder()
    b.feed(text)
    b.close()
    return b.root


def squash(s):
    return " ".join(s.split())


def result_cards(dom):
    """Product slugs of a listing's result grid, in order."""
    grid = dom.find("ul", id="results")
    if grid is None:
        return []
    return [a.attrs["href"][len("/products/"):] for a in grid.find_all("a", cls="card__link")]


def card_for(dom, slug):
    for li in dom.find_all("li", cls="card"):
        if li.find("a", cls="card__link", href="/products/" + slug):
            return li
    return None


def result_label(dom):
    p = dom.find("p", cls="results__count")
    return squash(p.text()) if p else None


def size_checkboxes(dom):
    return [i.attrs.get("value") for i in dom.find_all("input", type="checkbox", name="size")]


def size_radios(dom):
    """variant_id -> {disabled, text, classes} of the product page's size picker."""
    out = {}
    for label in dom.find_all("label", cls="size"):
        inp = label.find("input", name="variant_id")
        assert inp is not None, "size label without a radio"
        assert inp.attrs.get("type") == "radio"
        out[int(inp.attrs["value"])] = {"disabled": "disabled" in inp.attrs, "text": squash(label.text()),
                                        "classes": label.classes}
    return out


EVENT_ATTR = re.compile(r"^on[a-z]+$")


def assert_no_live_markup(dom, marker="alert("):
    """No script that runs `marker`, no event-handler attribute, no
    javascript: URL anywhere in the page."""
    for n in dom.iter():
        for name, value in n.attrs.items():
            assert not EVENT_ATTR.match(name), "live event handler %s=%r on <%s>" % (name, value, n.tag)
            if name in ("href", "src", "action") and value:
                assert not value.strip().lower().startswith("javascript:"), (n.tag, name, value)
        if n.tag == "script":
            assert marker not in n.text(), "live <script>: %r" % n.text()[:200]
            assert n.attrs.get("src", "").startswith("/static/"), "unexpected script %r" % n.attrs
        assert n.tag not in ("svg",) or "onload" not in n.attrs


def assert_site_style(dom):
    """A page in the shop's layout: header with search, category nav, footer."""
    assert dom.find("header", cls="site-header") is not None, "no site header"
    assert dom.find("form", cls="search-box") is not None, "no search box"
    nav = dom.find("nav", cls="category-nav")
    assert nav is not None and nav.find("a", href="/shoes") is not None, "no category nav"
    assert dom.find("footer", cls="site-footer") is not None, "no footer"
    assert any((l.attrs.get("href") or "").startswith("/static/css/site.css")
               for l in dom.find_all("link", rel="stylesheet")), "not styled"


# ------------------------------------------------------------------ store-owner commands

def cli_ok(shoease_cli, *args):
    r = shoease_cli(*args)
    assert r.returncode == 0, "shoease %s failed (%d): %s%s" % (" ".join(map(str, args)), r.returncode,
                                                                r.stdout, r.stderr)
    return r.stdout


def set_price(shoease_cli, slug, amount, compare_at=None):
    args = ["product", "set-price", slug, str(amount)]
    if compare_at is not None:
        args.append(str(compare_at))
    return cli_ok(shoease_cli, *args)


def major(amount):
    """Minor units as a shopper types a price: 7499 -> "74.99"."""
    return "%d.%02d" % divmod(amount, 100)


# ------------------------------------------------------------------ fixtures

@pytest.fixture
def shop(session, https_url, catalog_seeded):
    return Shop(session, https_url)


@pytest.fixture(scope="module")
def snapshot(tls_cert, https_url, catalog_seeded):
    """Every product card and the category tree, read once before the tests
    (which restore what they change), to choose products from."""
    from conftest import new_session
    s = new_session(tls_cert)
    try:
        shop = Shop(s, https_url)
        cards = shop.all_cards(sort="popular")
        tree = shop.api("/categories")["categories"]
        facets = shop.listing(per_page=1)["facets"]
    finally:
        s.close()
    assert len(cards) >= 50, "the demo catalogue is not loaded"
    return {"cards": cards, "by_slug": {c["slug"]: c for c in cards}, "tree": tree, "facets": facets}


def pick(snapshot, n, pred=lambda c: True):
    """The n-th card (by popularity) satisfying pred: each test that changes
    data uses its own n, so no two tests touch the same product."""
    found = [c for c in snapshot["cards"] if pred(c)]
    assert len(found) > n, "not enough products for pick(%d)" % n
    return found[n]


def leaves(tree):
    out = []

    def walk(nodes):
        for n in nodes:
            if n["children"]:
                walk(n["children"])
            else:
                out.append(n)
    walk(tree)
    return out


def subtree_slugs(node):
    out = {node["slug"]}
    for c in node["children"]:
        out |= subtree_slugs(c)
    return out


def has_size_in_stock(product, value):
    return any(s["value"] == value and s["stock"] > 0 for o in product["options"] for s in o["sizes"])


def spread(items, n):
    """At most n items spread over the list (first and last included)."""
    if len(items) <= n:
        return list(items)
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


# ================================================================== filters

def test_size_filter_returns_only_products_with_that_size_in_stock(shop, snapshot):
    sizes = [f for f in snapshot["facets"]["sizes"] if 3 <= f["count"] <= 40]
    assert sizes, "no size facet with 3..40 products: %s" % snapshot["facets"]["sizes"]
    size = min(sizes, key=lambda f: (f["count"], f["value"]))
    cards = shop.all_cards(size=size["value"])
    assert len(cards) == size["count"], "the facet promised %d products in %s, the filter gives %d" % (
        size["count"], size["value"], len(cards))
    for c in cards:
        p = shop.product(c["slug"])
        assert has_size_in_stock(p, size["value"]), \
            "%s is listed under size=%s but has no variant in that size with stock" % (c["slug"], size["value"])
    # and products left out really lack it (a bounded sample)
    chosen = set(slugs(cards))
    others = [c["slug"] for c in snapshot["cards"] if c["slug"] not in chosen]
    for slug in spread(others, 15):
        assert not has_size_in_stock(shop.product(slug), size["value"]), \
            "%s has %s in stock but size=%s left it out" % (slug, size["value"], size["value"])


def test_size_filter_value_is_normalised_and_lists_are_any_of(shop, snapshot):
    counted = sorted((f for f in snapshot["facets"]["sizes"] if f["count"] >= 2), key=lambda f: f["count"])
    a, b = counted[0]["value"], counted[1]["value"]
    set_a, set_b = set(slugs(shop.all_cards(size=a))), set(slugs(shop.all_cards(size=b)))
    both = shop.all_cards(size="%s,%s" % (a, b))
    assert set(slugs(both)) == set_a | set_b, "size=a,b must list products with a OR b in stock"
    # "UK-9.0" / " Uk-09 " are the same size as "uk-9"
    whole = next((f["value"] for f in snapshot["facets"]["sizes"] if re.fullmatch(r"uk-\d+", f["value"])), None)
    assert whole, "no whole UK size in the facet"
    n = whole.split("-")[1]
    plain = shop.listing(size=whole, per_page=1)["total"]
    for variant in ("UK-%s.0" % n, " Uk-0%s " % n, "uk %s" % n):
        body = shop.listing(size=variant, per_page=1)
        assert body["total"] == plain, "size=%r gives %d, %s gives %d" % (variant, body["total"], whole, plain)
        assert body["filters"]["size"] == whole


def test_size_filter_html_lists_the_same_products(shop, snapshot):
    counted = sorted((f for f in snapshot["facets"]["sizes"] if 2 <= f["count"] <= 25), key=lambda f: f["count"])
    a, b = counted[0]["value"], counted[1]["value"]
    api = shop.listing(size="%s,%s" % (a, b), per_page=PER_PAGE_MAX)
    # as the filter form sends it: one size=... per ticked box
    r, dom = shop.page("/shoes", params=[("size", a), ("size", b), ("per_page", str(PER_PAGE_MAX))])
    assert result_cards(dom) == slugs(api["products"])
    assert result_label(dom).startswith("%d shoe" % api["total"])
    ticked = [i.attrs["value"] for i in dom.find_all("input", name="size") if "checked" in i.attrs]
    assert sorted(ticked) == sorted([a, b])


def test_brand_filter(shop, snapshot):
    brands = sorted(snapshot["facets"]["brands"], key=lambda f: (f["count"], f["value"]))[:2]
    a, b = brands[0]["value"], brands[1]["value"]
    cards = shop.all_cards(brand="%s,%s" % (a, b))
    assert {c["brand"]["slug"] for c in cards} <= {a, b}
    expected = {c["slug"] for c in snapshot["cards"] if c["brand"]["slug"] in (a, b)}
    assert set(slugs(cards)) == expected
    assert len(cards) == brands[0]["count"] + brands[1]["count"]
    body = shop.listing(brand=a, per_page=1)
    facet = {f["value"]: f for f in body["facets"]["brands"]}
    assert facet[a]["selected"] and facet[a]["count"] == brands[0]["count"]
    assert facet[b]["count"] == brands[1]["count"] and not facet[b]["selected"], \
        "a brand facet is counted without its own filter: the other brands keep their counts"
    r, dom = shop.page("/shoes", params=[("brand", a), ("brand", b), ("per_page", "60")])
    assert set(result_cards(dom)) == expected
    shown = {squash(x.text()) for x in dom.find_all("a", cls="chip--remove")}
    assert any(brands[0]["label"] in t for t in shown), "no active-filter chip for %s: %s" % (a, shown)


def test_api_repeated_list_parameters_are_joined_like_the_pages(shop, snapshot):
    """catalog.h: brand, colour, size are comma-separated lists "or repeated,
    joined by the caller". The pages join repeated keys; the API must too
    (or reject them), not silently use only the first value."""
    brands = sorted(snapshot["facets"]["brands"], key=lambda f: (f["count"], f["value"]))[:2]
    a, b = brands[0]["value"], brands[1]["value"]
    comma = shop.listing(brand="%s,%s" % (a, b), per_page=1)
    repeated = shop.api("/products", params=[("brand", a), ("brand", b), ("per_page", "1")])
    assert repeated["total"] == comma["total"], (
        "GET /api/v1/products?brand=%s&brand=%s lists %d products (filters.brand=%r) but brand=%s,%s lists %d: "
        "the API uses only the first of repeated keys" % (a, b, repeated["total"], repeated["filters"]["brand"],
                                                          a, b, comma["total"]))


def test_colour_filter(shop, snapshot):
    colour = min((f for f in snapshot["facets"]["colours"] if f["count"] >= 2), key=lambda f: (f["count"], f["value"]))
    cards = shop.all_cards(colour=colour["value"])
    for c in cards:
        assert colour["value"] in {x["slug"] for x in c["colours"]}, \
            "%s listed under colour=%s but comes in %s" % (c["slug"], colour["value"], c["colours"])
    expected = {c["slug"] for c in snapshot["cards"] if colour["value"] in {x["slug"] for x in c["colours"]}}
    assert set(slugs(cards)) == expected
    assert len(cards) == colour["count"]
    for c in spread(cards, 5):
        p = shop.product(c["slug"])
        assert colour["value"] in {o["colour"]["slug"] for o in p["options"]}


@pytest.mark.parametrize("gender", ["men", "women", "kids"])
def test_gender_filter(gender, shop, snapshot):
    facet = {f["value"]: f["count"] for f in snapshot["facets"]["genders"]}
    assert gender in facet, snapshot["facets"]["genders"]
    cards = shop.all_cards(gender=gender)
    assert len(cards) == facet[gender]
    for c in spread(cards, 12):
        assert shop.product(c["slug"])["gender"] == gender, "%s listed under gender=%s" % (c["slug"], gender)
    r, dom = shop.page("/shoes", params={"gender": gender})
    assert result_label(dom).startswith("%d shoe" % len(cards))


def test_gender_facets_add_up_and_unknown_gender_matches_nothing(shop, snapshot):
    assert sum(f["count"] for f in snapshot["facets"]["genders"]) == len(snapshot["cards"])
    body = shop.listing(gender="aliens")
    assert body["total"] == 0 and body["products"] == []
    r, dom = shop.page("/shoes", params={"gender": "aliens"})
    assert result_cards(dom) == []


def test_price_range_filter(shop, snapshot):
    lo, hi = 5000, 8000
    cards = shop.all_cards(price_min="50", price_max="80")
    for c in cards:
        assert lo <= c["price"]["amount"] <= hi, "%s costs %s" % (c["slug"], c["price"]["display"])
    expected = {c["slug"] for c in snapshot["cards"] if lo <= c["price"]["amount"] <= hi}
    assert set(slugs(cards)) == expected and expected
    # min above max: swapped
    assert set(slugs(shop.all_cards(price_min="80", price_max="50"))) == expected
    # pence, inclusive bounds
    some = snapshot["cards"][len(snapshot["cards"]) // 2]
    amount = some["price"]["amount"]
    exact = shop.all_cards(price_min=major(amount), price_max=major(amount))
    assert some["slug"] in slugs(exact)
    assert {c["price"]["amount"] for c in exact} == {amount}
    assert all(c["price"]["amount"] <= 3000 for c in shop.all_cards(price_max="30"))
    # the page shows the range as a filter chip and the same products
    r, dom = shop.page("/shoes", params={"price_min": "50", "price_max": "80", "per_page": "60"})
    assert result_cards(dom) == slugs(shop.listing(price_min="50", price_max="80", per_page=60)["products"])
    chips = [squash(a.text()) for a in dom.find_all("a", cls="chip--remove")]
    assert any("£50.00" in c and "£80.00" in c for c in chips), chips


def test_category_includes_its_subcategories(shop, snapshot):
    parents = [n for n in snapshot["tree"] if n["children"]]
    assert parents, "no category with subcategories"
    for parent in parents:
        in_parent = set(slugs(shop.all_cards(category=parent["slug"])))
        union = set()
        for child in parent["children"]:
            in_child = set(slugs(shop.all_cards(category=child["slug"])))
            assert in_child <= in_parent, "%s lists products its parent %s does not" % (child["slug"], parent["slug"])
            for slug in spread(sorted(in_child), 2):
                p = shop.product(slug)
                assert p["category"]["slug"] in subtree_slugs(child), (slug, p["category"])
            union |= in_child
        for slug in sorted(in_parent - union)[:10]:
            p = shop.product(slug)
            assert p["category"]["slug"] == parent["slug"], \
                "%s is listed under %s but belongs to %s" % (slug, parent["slug"], p["category"])
        assert union, "the subcategories of %s are empty" % parent["slug"]
        r, dom = shop.page("/category/" + parent["slug"])
        assert result_label(dom).startswith("%d shoe" % len(in_parent))
        subcats = {a.attrs["href"] for a in dom.find("ul", cls="subcats").find_all("a")}
        assert {"/category/" + c["slug"] for c in parent["children"]} <= subcats


def test_facet_counts_agree_with_the_filters(shop, snapshot):
    """Each facet value's count is what choosing it gives (facets are counted
    under every other filter); sizes count only stock."""
    leaf = max(leaves(snapshot["tree"]), key=lambda n: (shop.listing(category=n["slug"], per_page=1)["total"], n["slug"]))
    body = shop.listing(category=leaf["slug"], per_page=1)
    for f in spread(body["facets"]["sizes"], 8):
        assert f["count"] > 0, "a size with no stock is offered: %s" % f
        got = shop.listing(category=leaf["slug"], size=f["value"], per_page=1)["total"]
        assert got == f["count"], "size facet %s says %d, the filter gives %d" % (f["value"], f["count"], got)
    for f in spread(body["facets"]["brands"], 4):
        got = shop.listing(category=leaf["slug"], brand=f["value"], per_page=1)["total"]
        assert got == f["count"], "brand facet %s says %d, the filter gives %d" % (f["value"], f["count"], got)


# ================================================================== sold-out sizes

def test_product_page_disables_and_labels_sold_out_sizes(shop, snapshot):
    product = None
    for c in snapshot["cards"][:40]:
        p = shop.product(c["slug"])
        sizes = [s for o in p["options"] for s in o["sizes"]]
        if any(s["sold_out"] for s in sizes) and any(not s["sold_out"] for s in sizes):
            product = p
            break
    assert product, "no product with both sold-out and available sizes among the first 40"
    r, dom = shop.page("/products/" + product["slug"])
    radios = size_radios(dom)
    sizes = {s["variant_id"]: s for o in product["options"] for s in o["sizes"]}
    assert set(radios) == set(sizes), "the page's size radios differ from the product's variants"
    for vid, s in sizes.items():
        ui = radios[vid]
        assert ui["disabled"] == s["sold_out"], "variant %s (%s, stock %d): disabled=%s" % (
            vid, s["label"], s["stock"], ui["disabled"])
        assert ("Sold out" in ui["text"]) == s["sold_out"], (vid, ui["text"])
        assert ("size--sold-out" in ui["classes"]) == s["sold_out"]
        assert s["label"] in ui["text"]
        if s["low_stock"]:
            assert "Only %d left" % s["stock"] in ui["text"], ui["text"]


def find_single_product_size(shop, snapshot, budget=60):
    """(category, brand, size, slug): a listing where exactly one product has
    that size in stock. Bounded by `budget` requests."""
    spent = 0
    for leaf in leaves(snapshot["tree"]):
        body = shop.listing(category=leaf["slug"], per_page=1)
        spent += 1
        for brand in body["facets"]["brands"]:
            if spent >= budget:
                return None
            narrow = shop.listing(category=leaf["slug"], brand=brand["value"], per_page=1)
            spent += 1
            ones = [f["value"] for f in narrow["facets"]["sizes"] if f["count"] == 1]
            if ones and narrow["total"] >= 2:
                size = ones[0]
                only = shop.listing(category=leaf["slug"], brand=brand["value"], size=size)
                spent += 1
                assert only["total"] == 1
                return leaf["slug"], brand["value"], size, only["products"][0]["slug"]
    return None


def test_sold_out_size_is_not_offered(shop, snapshot, shoease_cli):
    found = find_single_product_size(shop, snapshot)
    assert found, "no listing where a size is in stock for exactly one product"
    category, brand, size, slug = found
    product = shop.product(slug)
    variants = [s for o in product["options"] for s in o["sizes"] if s["value"] == size]
    in_stock = [s for s in variants if s["stock"] > 0]
    assert in_stock
    listing_path = "/category/%s" % category
    # warm the caches
    shop.listing(category=category, brand=brand, per_page=1)
    shop.page(listing_path, params={"brand": brand})
    try:
        for s in in_stock:
            cli_ok(shoease_cli, "product", "set-stock", s["sku"], 0)
        body = shop.listing(category=category, brand=brand, per_page=1)
        assert size not in [f["value"] for f in body["facets"]["sizes"]], \
            "size %s is sold out everywhere in this listing but still offered: %s" % (size, body["facets"]["sizes"])
        assert all(f["count"] > 0 for f in body["facets"]["sizes"])
        chosen = shop.listing(category=category, brand=brand, size=size)
        assert chosen["total"] == 0, "a sold-out size still matches %s" % slugs(chosen["products"])
        sel = [f for f in chosen["facets"]["sizes"] if f["value"] == size]
        assert sel and sel[0]["selected"] and sel[0]["count"] == 0, "a selected size stays listed (count 0)"
        r, dom = shop.page(listing_path, params={"brand": brand})
        assert size not in size_checkboxes(dom), "the filter form offers sold-out %s" % size
        assert size_checkboxes(dom), "no size filter at all"
        radios = size_radios(shop.page("/products/" + slug)[1])
        for s in in_stock:
            assert radios[s["variant_id"]]["disabled"] and "Sold out" in radios[s["variant_id"]]["text"]
        p = shop.product(slug)
        for s in (s for o in p["options"] for s in o["sizes"] if s["value"] == size):
            assert s["stock"] == 0 and s["sold_out"] and s["stock_label"] == "Sold out"
    finally:
        for s in in_stock:
            cli_ok(shoease_cli, "product", "set-stock", s["sku"], s["stock"])
    body = shop.listing(category=category, brand=brand, per_page=1)
    back = [f for f in body["facets"]["sizes"] if f["value"] == size]
    assert back and back[0]["count"] == 1, "restocked size %s not offered again" % size
    r, dom = shop.page(listing_path, params={"brand": brand})
    assert size in size_checkboxes(dom)


# ================================================================== cache freshness

def warm(shop, path, params=None):
    """GET three times: the third answer must come from the page cache. (A
    URL is stored the second time it is asked for; the first only marks it:
    page admission, src/cache/page_cache.c.)"""
    answers = [shop.get(path, params=params) for _ in range(3)]
    assert all(r.status_code == 200 for r in answers), describe(answers[-1])
    third = answers[-1]
    assert third.headers.get("X-Cache") == "hit", "third GET of %s not cached: %s" % (
        path, third.headers.get("X-Cache"))
    assert third.headers.get("ETag")
    return third


def assert_fresh(shop, path, old, params=None):
    """The very next GET after a change: rebuilt, new ETag; the old ETag no
    longer gives 304; the new one does."""
    r = shop.get(path, params=params)
    assert r.status_code == 200, describe(r)
    assert r.headers.get("X-Cache") == "miss", "%s served from the cache right after a change" % path
    assert opaque(r.headers["ETag"]) != opaque(old.headers["ETag"]), "%s: same ETag after a change" % path
    cond = shop.get(path, params=params, headers={"If-None-Match": old.headers["ETag"]})
    assert cond.status_code == 200 and cond.content == r.content, \
        "%s: If-None-Match with the old ETag answered %d" % (path, cond.status_code)
    again = shop.get(path, params=params, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.content == b"", describe(again)
    return r


def warm_settled(shop, path, params=None, seconds=5):
    """warm() right after another test restarted Redis: a worker thread
    whose Redis connection died with it fails one command and then leaves
    Redis alone for a second (src/cache/redis.c), answering uncached
    meanwhile. So GET until a hit, for a few seconds."""
    deadline = time.monotonic() + seconds
    while True:
        r = shop.get(path, params=params)
        assert r.status_code == 200, describe(r)
        if r.headers.get("X-Cache") == "hit":
            return r
        if time.monotonic() > deadline:
            pytest.fail("%s never came from the page cache in %d s" % (path, seconds))
        time.sleep(0.1)


def assert_still_cached(shop, path, warmed, params=None):
    """The next GET is still answered from the page cache, with the same
    bytes: a change elsewhere did not throw this page away."""
    r = shop.get(path, params=params)
    assert r.status_code == 200, describe(r)
    assert r.headers.get("X-Cache") == "hit", "%s was thrown away by a change that does not show on it" % r.url
    assert opaque(r.headers["ETag"]) == opaque(warmed.headers["ETag"]) and r.content == warmed.content, r.url
    return r


def top_category(snapshot, slug):
    """The top-level category whose subtree holds the category slug."""
    return next(t["slug"] for t in snapshot["tree"] if slug in subtree_slugs(t))


def test_stock_change_shows_on_the_very_next_request(shop, snapshot, shoease_cli):
    card = pick(snapshot, 3, lambda c: c["in_stock"])
    product = shop.product(card["slug"])
    variant = next((s for o in product["options"] for s in o["sizes"] if s["stock"] >= 5), None)
    assert variant, "%s has no size with 5 or more in stock" % card["slug"]
    html_path, api_path = "/products/" + card["slug"], "/api/v1/products/" + card["slug"]
    old_html, old_api = warm(shop, html_path), warm(shop, api_path)
    vid = variant["variant_id"]
    assert not size_radios(parse_html(old_html.text))[vid]["disabled"]
    try:
        cli_ok(shoease_cli, "product", "set-stock", variant["sku"], 0)
        r = assert_fresh(shop, html_path, old_html)
        ui = size_radios(parse_html(r.text))[vid]
        assert ui["disabled"] and "Sold out" in ui["text"], "stale stock on the product page: %s" % ui
        r = assert_fresh(shop, api_path, old_api)
        s = {x["variant_id"]: x for o in r.json()["options"] for x in o["sizes"]}[vid]
        assert s["stock"] == 0 and s["sold_out"], "stale stock in the API: %s" % s
        # and again, to a low stock level
        zero_html, zero_api = warm(shop, html_path), warm(shop, api_path)
        cli_ok(shoease_cli, "product", "set-stock", variant["sku"], 2)
        r = assert_fresh(shop, html_path, zero_html)
        ui = size_radios(parse_html(r.text))[vid]
        assert not ui["disabled"] and "Only 2 left" in ui["text"], ui
        r = assert_fresh(shop, api_path, zero_api)
        s = {x["variant_id"]: x for o in r.json()["options"] for x in o["sizes"]}[vid]
        assert s["stock"] == 2 and s["low_stock"] and s["stock_label"] == "Only 2 left"
    finally:
        cli_ok(shoease_cli, "product", "set-stock", variant["sku"], variant["stock"])
    restored = shop.product(card["slug"])
    assert {x["variant_id"]: x["stock"] for o in restored["options"] for x in o["sizes"]}[vid] == variant["stock"]


def test_price_change_shows_on_the_very_next_request(shop, snapshot, shoease_cli):
    card = pick(snapshot, 5, lambda c: not c["on_sale"])
    product = shop.product(card["slug"])
    slug, brand, category = card["slug"], card["brand"]["slug"], product["category"]["slug"]
    old_amount = product["price"]["amount"]
    old_compare = product["compare_at"]["amount"] if product["compare_at"] else None
    old_display = product["price"]["display"]
    new_amount = old_amount + 1111
    listing_params = {"brand": brand, "per_page": "60"}
    top = top_category(snapshot, category)
    elsewhere = next(t["slug"] for t in snapshot["tree"] if t["slug"] != top)
    pages = [("/products/" + slug, None), ("/api/v1/products/" + slug, None),
             ("/api/v1/products", listing_params), ("/category/" + category, listing_params),
             ("/category/" + top, listing_params), ("/shoes", listing_params),
             ("/api/v1/products", dict(listing_params, category=top))]
    warmed = [warm(shop, path, params) for path, params in pages]
    assert slug in slugs(warmed[2].json()["products"])
    for page in warmed[3:6]:
        assert card_for(parse_html(page.text), slug) is not None
    assert slug in slugs(warmed[6].json()["products"])
    other = warm(shop, "/category/" + elsewhere)
    try:
        set_price(shoease_cli, slug, new_amount)
        fresh = [assert_fresh(shop, path, old, params) for (path, params), old in zip(pages, warmed)]
        # a listing the product is not in is not thrown away
        assert_still_cached(shop, "/category/" + elsewhere, other)
        new_display = fresh[1].json()["price"]["display"]
        assert fresh[1].json()["price"]["amount"] == new_amount and fresh[1].json()["compare_at"] is None
        listed = {c["slug"]: c for c in fresh[2].json()["products"]}[slug]
        assert listed["price"]["amount"] == new_amount, "stale price in the API listing"
        page = parse_html(fresh[0].text)
        price = squash(page.find("div", cls="product__price").text())
        assert new_display in price and old_display not in price, "stale price on the product page: %s" % price
        for page in fresh[3:6]:
            cardtext = squash(card_for(parse_html(page.text), slug).text())
            assert new_display in cardtext and old_display not in cardtext, \
                "stale price on the listing %s: %s" % (page.url, cardtext)
        listed = {c["slug"]: c for c in fresh[6].json()["products"]}[slug]
        assert listed["price"]["amount"] == new_amount, "stale price in the API listing of %s" % top
        # the price filter sees it at once too
        assert slug in slugs(shop.all_cards(brand=brand, price_min=major(new_amount), price_max=major(new_amount)))
        # on sale: the "was" price appears
        warmed = [warm(shop, path, params) for path, params in pages[:2]]
        set_price(shoease_cli, slug, new_amount, new_amount + 2000)
        fresh = [assert_fresh(shop, path, old, params) for (path, params), old in zip(pages[:2], warmed)]
        p = fresh[1].json()
        assert p["on_sale"] and p["compare_at"]["amount"] == new_amount + 2000
        was = parse_html(fresh[0].text).find("s", cls="price__was")
        assert was is not None and p["compare_at"]["display"] in was.text()
    finally:
        set_price(shoease_cli, slug, old_amount, old_compare)
    restored = shop.product(slug)
    assert restored["price"]["amount"] == old_amount
    assert (restored["compare_at"] or {}).get("amount") == old_compare


def test_a_sale_refreshes_only_that_product(shop, snapshot, shoease_cli):
    """Page-cache invalidation is precise: a stock change that leaves every
    size of the product in stock changes its own page and API answer (the
    new stock label at once) and nothing else. Another product's page and
    every listing showing the product stay cached (X-Cache: hit, the same
    bytes) — under a stream of orders the shop keeps its cache."""
    card = pick(snapshot, 20, lambda c: c["in_stock"])
    slug, brand = card["slug"], card["brand"]["slug"]
    product = shop.product(slug)
    variant = next((s for o in product["options"] for s in o["sizes"] if s["stock"] >= 5), None)
    assert variant, "%s has no size with 5 or more in stock" % slug
    leaf = product["category"]["slug"]
    neighbour = next(c["slug"] for c in shop.all_cards(category=leaf) if c["slug"] != slug)
    listing_params = {"brand": brand, "per_page": "60"}
    own = [("/products/" + slug, None), ("/api/v1/products/" + slug, None)]
    kept = [("/products/" + neighbour, None), ("/api/v1/products/" + neighbour, None),
            ("/category/" + leaf, listing_params), ("/api/v1/products", dict(listing_params, category=leaf)),
            ("/category/" + top_category(snapshot, leaf), listing_params), ("/shoes", listing_params),
            ("/search", {"q": card["name"]}), ("/", None)]
    warmed_own = [warm(shop, path, params) for path, params in own]
    warmed_kept = [warm(shop, path, params) for path, params in kept]
    assert card_for(parse_html(warmed_kept[2].text), slug) is not None, "the listing does not show the product"
    assert slug in slugs(warmed_kept[3].json()["products"])
    vid = variant["variant_id"]
    try:
        cli_ok(shoease_cli, "product", "set-stock", variant["sku"], 2)
        r = assert_fresh(shop, own[0][0], warmed_own[0])
        ui = size_radios(parse_html(r.text))[vid]
        assert not ui["disabled"] and "Only 2 left" in ui["text"], "stale stock on the product page: %s" % ui
        r = assert_fresh(shop, own[1][0], warmed_own[1])
        s = {x["variant_id"]: x for o in r.json()["options"] for x in o["sizes"]}[vid]
        assert s["stock"] == 2 and s["stock_label"] == "Only 2 left"
        for (path, params), old in zip(kept, warmed_kept):
            assert_still_cached(shop, path, old, params)
    finally:
        cli_ok(shoease_cli, "product", "set-stock", variant["sku"], variant["stock"])


def test_selling_out_a_size_refreshes_the_listings_that_show_it(shop, snapshot, shoease_cli):
    """Listings show which sizes a product has in stock (the size filter and
    its counts). Selling out one colour of a size while another colour of
    the product still has it changes no listing: they stay cached. Selling
    out its last pair refreshes them at once: the size filter no longer
    finds the product, and its page says "Sold out"."""
    found = None
    for card in [c for c in snapshot["cards"] if c["in_stock"]][22:60]:
        product = shop.product(card["slug"])
        by_size = {}
        for o in product["options"]:
            for s in o["sizes"]:
                if s["stock"] > 0:
                    by_size.setdefault(s["value"], []).append(s)
        size = next((k for k, v in sorted(by_size.items()) if len(v) >= 2), None)
        if size:
            found = card, product, size, by_size[size]
            break
    assert found, "no product with a size in stock in two colours or widths"
    card, product, size, variants = found
    slug, leaf = card["slug"], product["category"]["slug"]
    params = {"brand": card["brand"]["slug"], "size": size, "per_page": "60"}
    listings = [("/category/" + leaf, params), ("/api/v1/products", dict(params, category=leaf)),
                ("/shoes", params)]
    html_path = "/products/" + slug

    def shows(r):
        if r.headers["Content-Type"].startswith("application/json"):
            return slug in slugs(r.json()["products"])
        return slug in result_cards(parse_html(r.text))

    warmed = [warm(shop, path, p) for path, p in listings]
    assert all(shows(r) for r in warmed), "the %s listings do not show %s" % (size, slug)
    page = warm(shop, html_path)
    try:
        # one colour sold out: the size is still in stock, the listings unchanged
        cli_ok(shoease_cli, "product", "set-stock", variants[0]["sku"], 0)
        page = assert_fresh(shop, html_path, page)
        ui = size_radios(parse_html(page.text))[variants[0]["variant_id"]]
        assert ui["disabled"] and "Sold out" in ui["text"], ui
        for (path, p), old in zip(listings, warmed):
            assert_still_cached(shop, path, old, p)
        page = warm(shop, html_path)
        # the last pairs of the size: every listing showing it is refreshed
        for v in variants[1:]:
            cli_ok(shoease_cli, "product", "set-stock", v["sku"], 0)
        for (path, p), old in zip(listings, warmed):
            r = assert_fresh(shop, path, old, p)
            assert not shows(r), "%s still listed for size %s after its last pair sold: %s" % (slug, size, r.url)
        assert_fresh(shop, html_path, page)
    finally:
        for v in variants:
            cli_ok(shoease_cli, "product", "set-stock", v["sku"], v["stock"])
    # restocked from zero: listed again at once
    r = shop.get(listings[1][0], params=listings[1][1])
    assert shows(r), "restocked %s not listed for %s again" % (slug, size)


def test_long_urls_never_share_a_cache_entry(shop):
    """Two addresses that differ only after their first ~1 KB are different
    pages: one must never be answered with the other's cached copy. One long
    address (brand=no-such-brand: no products) is fetched, then every
    shorter address that is a prefix of it, over a window of lengths around
    1 KB: each must show its own single product."""
    tag = uuid.uuid4().hex
    for path in ("/shoes", "/api/v1/products"):
        prefix = "%s?per_page=1&sort=newest&pad=%s" % (path, tag)
        longer = prefix + "x" * (1100 - len(prefix)) + "&brand=no-such-brand"
        r = shop.get(longer)
        assert r.status_code == 200, describe(r)
        for length in range(960, 1031):
            short = prefix + "x" * (length - len(prefix))
            r = shop.get(short)
            assert r.status_code == 200, describe(r)
            if path == "/shoes":
                n = len(result_cards(parse_html(r.text)))
            else:
                n = len(r.json()["products"])
            assert n == 1, ("GET %s (%d bytes, per_page=1, no filter) answered with %d products, X-Cache: %s: "
                            "the cached page of the longer address ...&brand=no-such-brand was served" % (
                                path, length, n, r.headers.get("X-Cache")))


# ================================================================== escaping

XSS_TITLE = "<script>alert(1)</script>"
XSS_BODY = ('<img src=x onerror=alert(2)> "quoted" & \'single\' <b>bold</b> {{site.name}} '
            '</p></article><script>alert(3)</script>\nsecond line onerror="alert(4)"')
XSS_AUTHOR = '"><svg onload=alert(5)>'


def test_review_markup_is_shown_escaped_never_live(shop, snapshot, shoease_cli):
    card = pick(snapshot, 7)
    slug, path = card["slug"], "/products/" + card["slug"]
    before = shop.product(slug)
    warm(shop, path)
    out = cli_ok(shoease_cli, "review", "add", slug, 4, XSS_TITLE, XSS_BODY, XSS_AUTHOR)
    m = re.search(r"review (\d+) added", out)
    assert m, out
    review_id = m.group(1)
    try:
        r = shop.get(path)
        assert r.status_code == 200, describe(r)
        dom = parse_html(r.text)
        reviews = [li for li in dom.find_all("li", cls="review")
                   if li.find("h3", cls="review__title") is not None
                   and li.find("h3", cls="review__title").text() == XSS_TITLE]
        assert reviews, "the new review is not on the page (stale cache?) or its title was altered"
        review = reviews[0]
        assert review.find("p", cls="review__body").text() == XSS_BODY, "the body is not shown as plain text"
        assert review.find("span", cls="review__author").text() == XSS_AUTHOR
        assert_no_live_markup(dom)
        for raw_markup in ("<script>alert(", "<img src=x", "<svg onload", "<b>bold</b>"):
            assert raw_markup not in r.text, "unescaped %r in the page" % raw_markup
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        # the API returns the text as data, unchanged
        api = shop.product(slug)
        mine = [x for x in api["reviews"] if str(x["id"]) == review_id]
        assert mine and (mine[0]["title"], mine[0]["body"], mine[0]["author"]) == (XSS_TITLE, XSS_BODY, XSS_AUTHOR)
        assert api["rating"]["count"] == before["rating"]["count"] + 1
    finally:
        cli_ok(shoease_cli, "review", "moderate", review_id, "rejected")
    after = shop.product(slug)
    assert after["rating"] == before["rating"], "the rating did not come back after rejecting the review"
    assert review_id not in {str(x["id"]) for x in after["reviews"]}


# ================================================================== bad input

@pytest.mark.parametrize("path,message", [
    ("/products/no-such-shoe", "We could not find that shoe"),
    ("/products/" + "x" * 300, "We could not find that shoe"),
    ("/category/no-such-category", "We could not find that category"),
    ("/no/such/page", "We could not find that page"),
])
def test_unknown_address_is_a_404_page_in_site_style(path, message, shop):
    r, dom = shop.page(path, status=404)
    assert_site_style(dom)
    section = dom.find("section", cls="error-page")
    assert section is not None, "not the themed error page"
    assert squash(section.find("h1").text()) == "Page not found"
    assert message in section.find("p", cls="error-page__message").text()
    assert section.find("code").text() == r.headers.get("X-Request-Id")
    assert section.find("a", href="/shoes") is not None and section.find("form", action="/search") is not None
    assert "Not Found" in dom.find("title").text()
    assert r.headers.get("ETag") is None and r.headers.get("X-Cache") != "hit"
    h = shop.head(path)
    assert h.status_code == 404 and h.content == b""


BAD = [
    ("price_min", "-5", "price_min must not be negative"),
    ("price_max", "-10.50", "price_max must not be negative"),
    ("sort", "cheapest", "sort must be one of relevance, newest, price_asc, price_desc, rating, popular"),
    ("page", "abc", "page must be a whole number"),
]


@pytest.mark.parametrize("name,value,message", BAD, ids=["%s=%s" % b[:2] for b in BAD])
@pytest.mark.parametrize("path", ["/shoes", "/category/men", "/search", "/api/v1/products"])
def test_bad_parameters_are_400_with_the_message(path, name, value, message, shop):
    params = {name: value}
    if path == "/search":
        params["q"] = "boots"
    r = shop.get(path, params=params)
    assert r.status_code == 400, describe(r)
    if path.startswith("/api/"):
        err = r.json()["error"]
        assert err["status"] == 400 and message in err["message"], err
        return
    assert r.headers.get("Content-Type", "").startswith("text/html")
    dom = parse_html(r.text)
    assert_site_style(dom)
    section = dom.find("section", cls="error-page")
    assert squash(section.find("h1").text()) == "Please check that address"
    assert message in section.find("p", cls="error-page__message").text()


@pytest.mark.parametrize("size", ["uk-99", "eu-1000", "banana", "uk-9;DROP TABLE variants", "x" * 100])
def test_unknown_size_is_no_error_and_zero_results(size, shop):
    body = shop.listing(size=size)
    assert body["total"] == 0 and body["products"] == [] and body["pages"] == 1
    r, dom = shop.page("/shoes", params={"size": size})
    assert result_cards(dom) == []
    assert result_label(dom).startswith("0 shoes")
    assert dom.find("h2", cls="empty__title") is not None, "no empty-state message"


def test_page_beyond_the_last_gives_the_last_page(shop, snapshot):
    total = len(snapshot["cards"])
    body = shop.listing(page="1000000000")
    pages = -(-total // 24)
    assert (body["page"], body["pages"], body["total"]) == (pages, pages, total)
    assert len(body["products"]) == total - (pages - 1) * 24
    assert not body["has_next"] and body["next_page"] is None
    assert body["filters"]["page"] == str(pages)
    r, dom = shop.page("/shoes", params={"page": "1000000000"})
    assert result_label(dom) == "%d shoes · page %d of %d" % (total, pages, pages)
    assert result_cards(dom) == slugs(body["products"])
    current = dom.find("a", **{"aria-current": "page"}, href="/shoes?page=%d" % pages)
    assert current is not None, "the pagination does not mark page %d" % pages


def test_per_page_is_capped(shop, snapshot):
    body = shop.listing(per_page="100000")
    assert body["per_page"] == PER_PAGE_MAX and len(body["products"]) == PER_PAGE_MAX
    assert body["pages"] == -(-len(snapshot["cards"]) // PER_PAGE_MAX)
    r, dom = shop.page("/shoes", params={"per_page": "100000"})
    assert len(result_cards(dom)) == PER_PAGE_MAX


# ================================================================== search

LONG_WORDS = ("running shoes leather boots " * 400)[:10240]
SEARCHES = [
    ("10kb-words", LONG_WORDS),
    ("10kb-one-word", "a" * 10240),
    ("sql", "' OR 1=1 --"),
    ("sql-union", "boots' UNION SELECT password FROM users; --"),
    ("operators", "+-~*\"()<>@"),
    ("operators-words", "+boots -leather ~\"running\" (trail*) <@>"),
    ("emoji", "🥾👟 boots 🥿"),
    ("markup", "<script>alert(1)</script>\"><img src=x onerror=alert(1)>"),
    ("mustache", "{{site.name}}{{{nav}}}"),
]


@pytest.mark.parametrize("name,q", SEARCHES, ids=[s[0] for s in SEARCHES])
@pytest.mark.parametrize("path", ["/search", "/shoes", "/api/v1/products"])
def test_search_strings_never_5xx(path, name, q, shop, snapshot):
    r = shop.get(path, params={"q": q})
    assert r.status_code in (200, 400), describe(r)
    if path.startswith("/api/"):
        body = r.json()
        if r.status_code == 200:
            assert body["total"] < len(snapshot["cards"]) or name.startswith("10kb"), \
                "q=%r matched the whole catalogue" % q
        return
    dom = parse_html(r.text)
    assert_site_style(dom)
    assert_no_live_markup(dom)
    if r.status_code == 200 and path == "/search":
        box = dom.find("input", id="site-search")
        value = box.attrs.get("value") or ""
        assert value and q.startswith(value), "the search box shows %r for q=%r" % (value[:80], q[:80])


@pytest.mark.parametrize("target", ["q=%00", "q=boots%00", "q=%FF%FE", "q=%C3%28", "q=%C0%AF", "q=%ED%A0%80",
                                    "q=%F4%90%80%80", "q=%E2%82", "q=%", "q=%G1"])
@pytest.mark.parametrize("path", ["/search", "/shoes", "/api/v1/products"])
def test_nul_and_invalid_utf8_searches_are_400_never_5xx(path, target, raw, https_url, catalog_seeded):
    r = raw_get(raw, https_url, path + "?" + target)
    assert r.status in (200, 400), (path, target, r, r.body[:300])
    assert r.status is not None and r.status < 500


def test_empty_search_shows_friendly_no_results(shop, snapshot):
    q = "qwxzvbnmk"
    assert shop.listing(q=q)["total"] == 0
    r, dom = shop.page("/search", params={"q": q})
    assert_site_style(dom)
    assert squash(dom.find("h1").text()) == "Results for “%s”" % q
    empty = dom.find("div", cls="empty--search")
    assert empty is not None, "no friendly no-results block"
    assert squash(empty.find("h2", cls="empty__title").text()) == "We found no shoes for “%s”" % q
    assert len(empty.find("ul", cls="empty__tips").find_all("li")) >= 2
    again = empty.find("input", name="q")
    assert again is not None and again.attrs.get("value") == q
    popular = dom.find("section", cls="popular")
    assert popular is not None
    tiles = {a.attrs["href"] for a in popular.find_all("a", cls="tile")}
    assert {"/category/" + n["slug"] for n in snapshot["tree"]} | {"/shoes"} <= tiles
    assert result_cards(dom) == []
    # operator soup: no results, the same friendly page (not every shoe, not an error)
    r, dom = shop.page("/search", params={"q": "+-~*\"()<>@"})
    assert dom.find("div", cls="empty--search") is not None
    # no query at all: the search form
    r, dom = shop.page("/search")
    assert dom.find("form", cls="search-big") is not None


def test_search_finds_products(shop, snapshot):
    word = snapshot["cards"][0]["name"].split()[0]
    body = shop.listing(q=word)
    assert body["total"] >= 1 and snapshot["cards"][0]["slug"] in slugs(shop.all_cards(q=word))
    r, dom = shop.page("/search", params={"q": word})
    assert result_cards(dom)[:5] == slugs(body["products"])[:5]


# ================================================================== home, HEAD

def test_home_page_lists_featured_products_and_categories(shop, snapshot):
    r, dom = shop.page("/")
    assert_site_style(dom)
    featured = dom.find("h2", id="featured-title")
    assert featured is not None, "no featured section"
    section = featured.parent.parent
    shown = [a.attrs["href"][len("/products/"):] for a in section.find_all("a", cls="card__link")]
    assert 1 <= len(shown) <= 8
    # featured first: the default listing starts with the featured products
    assert shown == slugs(shop.listing(per_page=len(shown))["products"])
    for slug in shown:
        card = card_for(section, slug)
        assert snapshot["by_slug"][slug]["price"]["display"] in card.text()
    new = dom.find("h2", id="new-title")
    if new is not None:
        fresh = [a.attrs["href"][len("/products/"):] for a in new.parent.parent.find_all("a", cls="card__link")]
        assert fresh == slugs(shop.listing(sort="newest", per_page=len(fresh))["products"])
    tiles = {a.attrs["href"]: a for a in dom.find_all("a", cls="tile")}
    for cat in snapshot["tree"]:
        tile = tiles.get(cat["url"])
        assert tile is not None, "category %s missing on the home page" % cat["slug"]
        assert cat["name"] in tile.text()
        for child in cat["children"]:
            assert child["name"] in tile.text()
    nav = {a.attrs.get("href") for a in dom.find("nav", cls="category-nav").find_all("a")}
    assert {c["url"] for c in snapshot["tree"]} <= nav


@pytest.mark.parametrize("path", ["/", "/shoes", "/category/men", "/search?q=boots", "/shoes?sort=bogus",
                                  "/products/no-such-shoe", "PRODUCT"])
def test_head_requests(path, shop, snapshot):
    if path == "PRODUCT":
        path = "/products/" + snapshot["cards"][1]["slug"]
    g = shop.get(path)
    h = shop.head(path)
    assert h.status_code == g.status_code, (path, g.status_code, h.status_code)
    assert g.status_code < 500
    assert h.content == b"", "HEAD %s has a body" % path
    assert h.headers.get("Content-Type") == g.headers.get("Content-Type")
    assert opaque(h.headers.get("ETag")) == opaque(g.headers.get("ETag"))
    if g.status_code == 200:
        cond = shop.head(path, headers={"If-None-Match": g.headers["ETag"]})
        assert cond.status_code == 304


def price_probe(snapshot, shop, direct_url, n):
    """The n-th product not on sale: its slug, price and compare-at price
    now, and amounts(k): the price k fresh connections are answered with
    (a new connection each time, so every worker and thread answers)."""
    import requests
    slug = pick(snapshot, n, lambda c: not c["on_sale"])["slug"]
    before = shop.product(slug)
    url = direct_url + "/api/v1/products/" + slug

    def amounts(k):
        return [requests.get(url, headers={"Connection": "close"}, timeout=10).json()["price"]["amount"]
                for _ in range(k)]

    return (slug, before["price"]["amount"], before["compare_at"]["amount"] if before["compare_at"] else None,
            amounts)


def test_no_worker_serves_a_stale_price_even_across_a_redis_restart(snapshot, shop, stack, direct_url, shoease_cli):
    """Each worker learns catalogue changes from Redis pushes (the version
    watch) and keeps pages in its own memory. Whichever worker answers, the
    request right after a committed change must show it — also while the
    watch reconnects after Redis restarts (then it falls back to asking)."""
    import requests
    slug, old_amount, old_compare, amounts = price_probe(snapshot, shop, direct_url, 11)
    url = direct_url + "/api/v1/products/" + slug
    s = requests.Session()

    def round_trip(rounds, start):
        for i in range(rounds):
            amount = start + i
            set_price(shoease_cli, slug, amount)
            seen = amounts(6)
            assert seen == [amount] * 6, "round %d: set %d, workers answered %s" % (i, amount, seen)

    try:
        for _ in range(10):          # warm every worker's memory
            s.get(url, timeout=10)
        round_trip(12, old_amount + 100)
        stack.restart("redis")
        round_trip(6, old_amount + 200)                 # right after the restart
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:              # and once the watch is back
            if s.get(direct_url + "/readyz", timeout=10).status_code == 200:
                break
            time.sleep(0.2)
        time.sleep(1.5)
        round_trip(6, old_amount + 300)
    finally:
        s.close()
        set_price(shoease_cli, slug, old_amount, old_compare)
    assert shop.product(slug)["price"]["amount"] == old_amount


def test_catalogue_versions_never_repeat_when_redis_loses_the_key(snapshot, shop, stack, direct_url, shoease_cli):
    """Workers keep pages in memory tagged with the version they were made
    at: a hash of the versions of the page's tags (v:global, v:p:<slug>,
    v:l:<category> ... in Redis). If Redis loses a version key (a restart
    without persistence, eviction, expiry, FLUSHALL, DEL) and counting
    started again from 0, it would reach an old number again and those pages
    would come back with old prices. A lost version restarts above every
    earlier one instead, and the page it governs is made afresh."""
    slug, old_amount, old_compare, amounts = price_probe(snapshot, shop, direct_url, 12)
    key = "v:p:" + slug
    path = "/products/" + slug
    try:
        set_price(shoease_cli, slug, old_amount + 400)
        assert amounts(6) == [old_amount + 400] * 6
        old_version = int(stack.redis("GET", key))
        assert int(stack.redis("TTL", key)) > 0, "a version key must expire (and may be evicted) like a page"
        warmed = warm_settled(shop, path)
        assert stack.redis("DEL", key) == "1"
        r = shop.get(path)
        assert r.headers.get("X-Cache") == "miss", "a page made before the key was lost came back"
        assert opaque(r.headers["ETag"]) == opaque(warmed.headers["ETag"]), "the same product, the same bytes"
        assert amounts(6) == [old_amount + 400] * 6, "a page made before the loss must still be right"
        restarted = int(stack.redis("GET", key))
        assert restarted > old_version, "version went from %d to %d after the key was lost" % (old_version, restarted)
        for i in range(3):              # each change still shows at once
            set_price(shoease_cli, slug, old_amount + 500 + i)
            assert amounts(6) == [old_amount + 500 + i] * 6
            assert int(stack.redis("GET", key)) == restarted + i + 1
        # the reference data's version too: every page is made again, none comes back
        global_version = int(stack.redis("GET", "v:global"))
        warmed = warm_settled(shop, path)
        assert stack.redis("DEL", "v:global") == "1"
        assert amounts(6) == [old_amount + 502] * 6
        assert shop.get(path).headers.get("X-Cache") == "miss"
        assert int(stack.redis("GET", "v:global")) > global_version
    finally:
        set_price(shoease_cli, slug, old_amount, old_compare)
    assert shop.product(slug)["price"]["amount"] == old_amount
