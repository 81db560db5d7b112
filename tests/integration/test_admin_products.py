"""The admin portal's products, size grid and stock adjustments, over HTTPS
through nginx against the real stack: the list (search, filters, sorting,
pages, CSV, bulk activation), the product form (messages beside the
fields, nothing half-saved, a stale version refused), size runs, the grid,
stock adjustments with their history, a renamed product's old address
(301, never cached as the page), the storefront showing every change at
once (cached pages refreshed), an audit row with before/after for every
write, CSRF, and the staff role being enough.

Tests make their own products (unique names and slugs) instead of changing
the demo catalogue's, so they leave other test files' data alone."""
import json
import re
import uuid

import pytest

from paced import describe, get
from shoppers import CSRF_RX, Shopper, Staff, admin_path

VERSION_RX = re.compile(r'name="version" value="(\d+)"')


def field_error(html, name):
    """The message shown beside field `name` (None when there is none)."""
    m = re.search(r'<p class="field__error" id="f-%s-error">([^<]*)</p>' % re.escape(name), html)
    return m and m.group(1)


def unique(tag="shoe"):
    return "%s-%s" % (tag, uuid.uuid4().hex[:10])


CREATED = []   # every product this module makes, taken off sale when it ends


@pytest.fixture(scope="module")
def staff(https_url, tls_cert, shoease_cli, stack, catalog_seeded):
    s = Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff")
    yield s
    # leave the shop as the other test files expect it: our products hidden
    ids = [str(i) for i in CREATED]
    for k in range(0, len(ids), 200):
        r = s.admin_post("/products/bulk", {"action": "deactivate", "id": ids[k:k + 200]}, form_path="/products")
        assert r.status_code == 303, describe(r)


@pytest.fixture(scope="module")
def refs(stack, catalog_seeded):
    """A brand, a leaf category (its slug: its listing) and two colours of the demo catalogue."""
    brand = stack.mariadb("SELECT id FROM brands ORDER BY id LIMIT 1")
    cat_id, cat_slug = stack.mariadb_rows(
        "SELECT id, slug FROM categories c WHERE NOT EXISTS (SELECT 1 FROM categories x WHERE x.parent_id = c.id) "
        "ORDER BY id LIMIT 1")[0]
    colours = stack.mariadb_rows("SELECT id, slug FROM colours ORDER BY position, id LIMIT 2")
    return {"brand": brand, "category": cat_id, "category_slug": cat_slug, "colour": colours[0][0],
            "colour_slug": colours[0][1], "colour2": colours[1][0]}


@pytest.fixture
def shopper(session, https_url):
    """An anonymous visitor of the storefront."""
    class Visitor:
        def get(self, path, **kw):
            return get(session, https_url + path, **kw)
    return Visitor()


def product_form(refs, **over):
    name = over.pop("name", None) or "Test Runner " + uuid.uuid4().hex[:8]
    data = {"name": name, "slug": "", "brand_id": refs["brand"], "category_id": refs["category"], "gender": "unisex",
            "price": "89.99", "compare_at": "", "tax_class": "standard", "material": "Mesh upper",
            "tags": "Running, road", "description": "A shoe made by the admin tests.", "active": "1"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def create_product(staff, refs, **over):
    data = product_form(refs, **over)
    r = staff.admin_post("/products/new", data, form_path="/products/new")
    assert r.status_code == 303, describe(r)
    m = re.search(r"/products/(\d+)/variants/new-run$", r.headers["Location"])
    assert m, r.headers["Location"]
    CREATED.append(int(m.group(1)))
    return int(m.group(1))


def add_run(staff, pid, colour, sizes=("6", "11"), step="0.5", widths=("Standard",), stock="5", prefix=None):
    data = {"colour_id": colour, "system": "UK", "from": sizes[0], "to": sizes[1], "step": step, "stock": stock,
            "sku_prefix": prefix or "", "widths": list(widths)}
    return staff.admin_post("/products/%d/variants/new-run" % pid, data, form_path="/products/%d/variants/new-run" % pid)


def edit_page(staff, pid):
    r = staff.admin_get("/products/%d" % pid)
    assert r.status_code == 200, describe(r)
    return r


def save_product(staff, pid, refs, version=None, **over):
    """POST the edit form with the saved values changed by `over`."""
    page = edit_page(staff, pid)
    data = current_values(page.text)
    data.update(over)
    data["version"] = str(version) if version is not None else VERSION_RX.search(page.text).group(1)
    data = {k: v for k, v in data.items() if v is not None}
    return staff.post(staff.admin + "/products/%d" % pid, data, token=CSRF_RX.search(page.text).group(1))


def current_values(html):
    """The edit form's values as the browser would send them."""
    data = {}
    for name in ("name", "slug", "price", "compare_at", "material", "tags"):
        m = re.search(r'name="%s" type="text" value="([^"]*)"' % name, html)
        data[name] = unescape(m.group(1)) if m else ""
    for name in ("brand_id", "category_id", "gender", "tax_class"):
        sel = re.search(r'<select[^>]*name="%s".*?</select>' % name, html, re.S).group(0)
        m = re.search(r'<option value="([^"]*)" selected', sel)
        data[name] = m.group(1) if m else ""
    m = re.search(r'name="description"[^>]*>([^<]*)</textarea>', html)
    data["description"] = unescape(m.group(1)) if m else ""
    for name in ("active", "featured"):
        if re.search(r'name="%s" value="1" checked' % name, html):
            data[name] = "1"
    return data


def unescape(s):
    import html
    return html.unescape(s)


def audit_rows(stack, entity, entity_id, action=None):
    sql = "SELECT action, before_json, after_json, actor FROM audit_log WHERE entity = '%s' AND entity_id = '%s'" % (
        entity, entity_id)
    if action:
        sql += " AND action = '%s'" % action
    return [(a, json.loads(b) if b else None, json.loads(c) if c else None, who)
            for a, b, c, who in stack.mariadb_rows(sql + " ORDER BY id")]


def variants_of(stack, pid):
    return stack.mariadb_rows("SELECT id, sku, size_label, width, stock FROM variants WHERE product_id = %d "
                              "ORDER BY size_value, width" % pid)


def size_stock_label(html, variant_id):
    """What the product page says beside one size: 'Sold out', 'Only 2 left', or '' (in stock)."""
    i = html.find('value="%s"' % variant_id)
    assert i >= 0, "size %s not on the product page" % variant_id
    block = html[i:html.find("</label>", i)]
    m = re.search(r'<span class="size__stock">([^<]*)</span>', block)
    return m.group(1) if m else ""


def card_price(html, slug):
    """The price shown on a listing's card of this product (None: not on the page)."""
    i = html.find('href="/products/%s"' % slug)
    if i < 0:
        return None
    m = re.search(r'class="price__now[^"]*">([^<]*)<', html[i:html.find("</li>", i)])
    return m and m.group(1)


def cached_three_times(shopper, path):
    """Ask three times (the page cache stores a URL on its second render):
    the third answer comes from the cache."""
    for _ in range(2):
        assert shopper.get(path).status_code == 200
    r = shopper.get(path)
    assert r.status_code == 200 and r.headers.get("X-Cache") == "hit", (path, r.headers.get("X-Cache"))
    return r


# ------------------------------------------------------------------ the list

def test_list_search_filters_sort_pages_and_csv(staff, refs):
    tag = uuid.uuid4().hex[:8]
    cheap = create_product(staff, refs, name="Listtest %s Alpha" % tag, price="40.00", active=None)
    dear = create_product(staff, refs, name="Listtest %s Beta" % tag, price="140.00")
    r = staff.admin_get("/products?q=%s" % tag)
    assert r.status_code == 200 and "private, no-store" in r.headers["Cache-Control"]
    assert "Listtest %s Alpha" % tag in r.text and "Listtest %s Beta" % tag in r.text
    assert "1–2 of 2" in r.text
    # sorted by price, both ways
    r = staff.admin_get("/products?q=%s&sort=price" % tag)
    assert r.text.index("Alpha") < r.text.index("Beta")
    r = staff.admin_get("/products?q=%s&sort=-price" % tag)
    assert r.text.index("Beta") < r.text.index("Alpha")
    # filters: on sale or not, stock state (no sizes yet), category, brand
    r = staff.admin_get("/products?q=%s&active=0" % tag)
    assert "Alpha" in r.text and "Beta" not in r.text
    r = staff.admin_get("/products?q=%s&stock=none&category=%s&brand=%s" % (tag, refs["category"], refs["brand"]))
    assert "Alpha" in r.text and "Beta" in r.text
    assert add_run(staff, dear, refs["colour"], sizes=("7", "8"), stock="2").status_code == 303
    r = staff.admin_get("/products?q=%s&stock=low" % tag)
    assert "Beta" in r.text and "Alpha" not in r.text
    r = staff.admin_get("/products?q=%s&stock=in" % tag)
    assert "Beta" in r.text and "Alpha" not in r.text
    # a SKU finds its product
    r = staff.admin_get("/products/%d/variants" % dear)
    sku = re.search(r'class="admin-grid__sku"[^>]*>([^<]+)<', r.text).group(1)
    r = staff.admin_get("/products?q=%s" % sku)
    assert "Beta" in r.text and "Alpha" not in r.text
    # pages: the whole catalogue is more than one page
    r = staff.admin_get("/products")
    assert 'rel="next"' in r.text
    r2 = staff.admin_get("/products?page=2")
    assert r2.status_code == 200 and 'rel="prev"' in r2.text
    # CSV of what the list shows
    r = staff.admin_get("/products?q=%s&sort=price&csv=1" % tag)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("id,name,slug,brand,category")
    assert len(lines) == 3 and "Alpha" in lines[1] and "Beta" in lines[2]
    assert ",40.00," in lines[1] and ",140.00," in lines[2]
    assert str(cheap) == lines[1].split(",")[0]


def test_bulk_deactivate_and_activate(staff, refs, stack, shopper):
    tag = uuid.uuid4().hex[:8]
    ids = [create_product(staff, refs, name="Bulk %s %d" % (tag, i)) for i in range(2)]
    for pid in ids:
        assert add_run(staff, pid, refs["colour"], sizes=("8", "9"), stock="3").status_code == 303
    slugs = [stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid) for pid in ids]
    for slug in slugs:
        cached_three_times(shopper, "/products/" + slug)
    back = "?q=%s" % tag
    r = staff.admin_post("/products/bulk", {"action": "deactivate", "id": [str(i) for i in ids], "return": back},
                         form_path="/products?q=%s" % tag)
    assert r.status_code == 303 and r.headers["Location"].endswith("/products?q=%s" % tag)
    assert stack.mariadb("SELECT GROUP_CONCAT(active) FROM products WHERE id IN (%d,%d)" % tuple(ids)) == "0,0"
    # hidden from the shop at once (the cached pages were refreshed)
    for slug in slugs:
        assert shopper.get("/products/" + slug).status_code == 404
    r = staff.admin_get("/products?q=%s" % tag)
    assert "2 products deactivated" in r.text
    for pid in ids:
        rows = audit_rows(stack, "product", pid, "product.deactivate")
        assert len(rows) == 1 and rows[0][1]["active"] is True and rows[0][2]["active"] is False
    # again: nothing to change, no audit row
    r = staff.admin_post("/products/bulk", {"action": "activate", "id": [str(i) for i in ids] + [str(ids[0])]},
                         form_path="/products")
    assert r.status_code == 303
    r = staff.admin_post("/products/bulk", {"action": "activate", "id": [str(ids[0])]}, form_path="/products")
    assert r.status_code == 303
    assert "0 products activated" in staff.admin_get("/products").text
    for pid, slug in zip(ids, slugs):
        assert len(audit_rows(stack, "product", pid, "product.activate")) == 1
        assert shopper.get("/products/" + slug).status_code == 200
    # nothing ticked: told, nothing done
    r = staff.admin_post("/products/bulk", {"action": "activate"}, form_path="/products")
    assert r.status_code == 303 and "Tick the products" in staff.admin_get("/products").text


# ------------------------------------------------------------------ creating, size runs

def test_create_a_product_with_a_size_run(staff, refs, stack, shopper):
    name = "Run Creator " + uuid.uuid4().hex[:8]
    r = staff.admin_get("/products/new")
    assert r.status_code == 200 and 'name="name"' in r.text and 'name="compare_at"' in r.text
    pid = create_product(staff, refs, name=name, compare_at="119.00", featured="1")
    slug = stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid)
    assert slug == re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")   # made from the name
    r = staff.admin_get("/products/%d/variants/new-run" % pid)
    assert r.status_code == 200 and "Add a size run" in r.text
    # UK 6 to 11 in half sizes, two widths, 5 pairs each
    r = add_run(staff, pid, refs["colour"], sizes=("6", "11"), step="0.5", widths=("Standard", "Wide"), stock="5")
    assert r.status_code == 303 and r.headers["Location"].endswith("/products/%d/variants" % pid)
    v = variants_of(stack, pid)
    assert len(v) == 22
    assert [x[2] for x in v[::2]] == ["UK 6", "UK 6.5", "UK 7", "UK 7.5", "UK 8", "UK 8.5", "UK 9", "UK 9.5",
                                      "UK 10", "UK 10.5", "UK 11"]
    assert {x[3] for x in v} == {"Standard", "Wide"} and all(x[4] == "5" for x in v)
    code = refs["colour_slug"].replace("-", "").upper()[:10]
    assert v[0][1] == "SE%05d-%s-UK060-S" % (pid, code)
    page = staff.admin_get("/products/%d/variants" % pid)
    assert "22 sizes added" in page.text and "UK 10.5" in page.text and v[0][1] in page.text
    # each size's first stock is in its history, as received
    hist = stack.mariadb_rows("SELECT reason, delta, stock_before, stock_after FROM stock_adjustments "
                              "WHERE variant_id = %s" % v[0][0])
    assert hist == [["received", "5", "0", "5"]]
    # the same run again adds nothing; a colour more adds its sizes
    r = add_run(staff, pid, refs["colour"], sizes=("6", "11"), widths=("Standard", "Wide"))
    assert r.status_code == 303
    assert "0 sizes added; 22 were there already" in staff.admin_get("/products/%d/variants" % pid).text
    assert add_run(staff, pid, refs["colour2"], sizes=("9", "10"), step="1", stock="0").status_code == 303
    assert len(variants_of(stack, pid)) == 24
    # audit: the product, then each run that added sizes
    actions = [a for a, _, _, _ in audit_rows(stack, "product", pid)]
    assert actions == ["product.create", "variant.run", "variant.run"]
    created = audit_rows(stack, "product", pid, "product.create")[0]
    assert created[1] is None and created[2]["name"] == name and created[2]["price"] == "£89.99"
    assert created[2]["compare_at"] == "£119.00" and created[2]["tags"] == "running,road"
    run = audit_rows(stack, "product", pid, "variant.run")[0][2]
    assert run["from"] == "UK 6" and run["to"] == "UK 11" and len(run["skus"]) == 22 and run["stock_each"] == 5
    # in the shop: its page with every size, its price and was-price
    r = shopper.get("/products/" + slug)
    assert r.status_code == 200, describe(r)
    assert name in r.text and "£89.99" in r.text and "£119.00" in r.text and "UK 10.5" in r.text


def test_size_run_refusals(staff, refs, stack):
    pid = create_product(staff, refs)
    r = add_run(staff, pid, refs["colour"], sizes=("11", "6"))
    assert r.status_code == 422 and field_error(r.text, "to") == "The last size must not be smaller than the first."
    r = add_run(staff, pid, refs["colour"], sizes=("6.3", "x"), widths=())
    assert r.status_code == 422
    assert "whole or half size" in field_error(r.text, "from") and "whole or half size" in field_error(r.text, "to")
    assert "Tick at least one width" in r.text
    r = add_run(staff, pid, refs["colour"], stock="-1")
    assert r.status_code == 422 and "whole number" in field_error(r.text, "stock")
    # a SKU another shoe has: the whole run is refused, nothing added
    other = create_product(staff, refs)
    assert add_run(staff, other, refs["colour"], sizes=("8", "8"), prefix="CLASH-%s" % other).status_code == 303
    r = add_run(staff, pid, refs["colour"], sizes=("7", "9"), step="0.5", prefix="CLASH-%s" % other)
    assert r.status_code == 422 and "is taken by another shoe" in field_error(r.text, "sku_prefix")
    assert variants_of(stack, pid) == []
    assert audit_rows(stack, "product", pid, "variant.run") == []


# ------------------------------------------------------------------ editing

def test_edit_refusals_are_shown_beside_the_fields_and_nothing_is_saved(staff, refs, stack):
    pid = create_product(staff, refs, price="50.00")
    other = create_product(staff, refs)
    other_slug = stack.mariadb("SELECT slug FROM products WHERE id = %d" % other)
    before = stack.mariadb_rows("SELECT name, slug, price, compare_at_price, version FROM products WHERE id = %d" % pid)
    r = save_product(staff, pid, refs, price="12.345")
    assert r.status_code == 422, describe(r)
    assert "at most two after the point" in field_error(r.text, "price")
    assert 'value="12.345"' in r.text   # what was typed is shown again
    r = save_product(staff, pid, refs, price="60.00", compare_at="55.00")
    assert r.status_code == 422 and "must be higher than the price (£60.00)" in field_error(r.text, "compare_at")
    r = save_product(staff, pid, refs, slug=other_slug)
    assert r.status_code == 422 and "Another product already has the address" in field_error(r.text, "slug")
    r = save_product(staff, pid, refs, name="   ")
    assert r.status_code == 422 and field_error(r.text, "name") == "The name is required."
    # several at once, each beside its own field
    r = save_product(staff, pid, refs, name="", price="abc", slug="Not A Slug", gender="aliens", brand_id="")
    assert r.status_code == 422
    for f in ("name", "price", "slug", "gender", "brand_id"):
        assert field_error(r.text, f), "no message beside %s" % f
    r = save_product(staff, pid, refs, brand_id="999999")
    assert r.status_code == 422 and "does not exist" in field_error(r.text, "brand_id")
    after = stack.mariadb_rows("SELECT name, slug, price, compare_at_price, version FROM products WHERE id = %d" % pid)
    assert after == before
    assert audit_rows(stack, "product", pid, "product.update") == []
    # and a good save: audit has exactly what changed, before and after
    r = save_product(staff, pid, refs, price="55.50", compare_at="70.00", tags="Trail, trail, MUD")
    assert r.status_code == 303, describe(r)
    assert "Saved" in staff.admin_get("/products/%d" % pid).text
    row = audit_rows(stack, "product", pid, "product.update")[0]
    assert row[1] == {"price": "£50.00", "compare_at": None, "tags": "running,road", "version": 1}
    assert row[2] == {"price": "£55.50", "compare_at": "£70.00", "tags": "trail,mud", "version": 2}
    # saving the same again writes nothing
    r = save_product(staff, pid, refs)
    assert r.status_code == 303 and "Nothing had changed" in staff.admin_get("/products/%d" % pid).text
    assert len(audit_rows(stack, "product", pid, "product.update")) == 1


def test_a_stale_version_is_refused_with_the_current_values(staff, refs, stack):
    pid = create_product(staff, refs, name="Stale Test " + uuid.uuid4().hex[:6])
    page = edit_page(staff, pid)
    old_version = int(VERSION_RX.search(page.text).group(1))
    # someone else saves first
    r = save_product(staff, pid, refs, name="Saved First")
    assert r.status_code == 303
    # the first editor's form still carries the old version
    r = save_product(staff, pid, refs, version=old_version, name="Saved Second", price="10.00")
    assert r.status_code == 409, describe(r)
    assert "were NOT saved" in r.text and "Your changes were not saved" in r.text
    assert re.search(r'name="name" type="text" value="Saved First"', r.text)   # the current values
    assert VERSION_RX.search(r.text).group(1) == str(old_version + 1)
    assert "<dd>Saved Second</dd>" in r.text and "<dd>10.00</dd>" in r.text   # theirs, listed beside
    assert stack.mariadb("SELECT CONCAT(name, '|', price, '|', version) FROM products WHERE id = %d" % pid) == \
        "Saved First|8999|%d" % (old_version + 1)
    assert len(audit_rows(stack, "product", pid, "product.update")) == 1
    # a save from the refreshed form goes through
    r = save_product(staff, pid, refs, name="Saved Second")
    assert r.status_code == 303


def test_a_slug_change_keeps_the_old_address_with_a_301(staff, refs, stack, shopper):
    pid = create_product(staff, refs)
    assert add_run(staff, pid, refs["colour"], sizes=("8", "9")).status_code == 303
    old = stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid)
    cached_three_times(shopper, "/products/" + old)
    cached_three_times(shopper, "/api/v1/products/" + old)
    new = unique("renamed")
    r = save_product(staff, pid, refs, slug=new)
    assert r.status_code == 303, describe(r)
    for _ in range(3):   # never the cached page, never stored as one
        r = shopper.get("/products/" + old)
        assert r.status_code == 301 and r.headers["Location"] == "/products/" + new, describe(r)
        assert r.headers.get("X-Cache") != "hit"
        assert "must-revalidate" in r.headers["Cache-Control"]
    r = shopper.get("/products/%s?utm_source=mail&size=uk-8" % old)
    assert r.status_code == 301 and r.headers["Location"] == "/products/%s?utm_source=mail&size=uk-8" % new
    r = shopper.get("/api/v1/products/" + old)
    assert r.status_code == 301 and r.headers["Location"] == "/api/v1/products/" + new
    assert shopper.get("/products/" + new).status_code == 200
    assert shopper.get("/api/v1/products/" + new).json()["slug"] == new
    row = audit_rows(stack, "product", pid, "product.update")[-1]
    assert row[1]["slug"] == old and row[2]["slug"] == new
    # renamed again: the first address goes straight to the newest
    newer = unique("renamed-again")
    assert save_product(staff, pid, refs, slug=newer).status_code == 303
    for path in (old, new):
        r = shopper.get("/products/" + path)
        assert r.status_code == 301 and r.headers["Location"] == "/products/" + newer
    # a product that takes an old address gets it: a live product wins
    taker = create_product(staff, refs, slug=old)
    assert add_run(staff, taker, refs["colour"], sizes=("8", "8")).status_code == 303
    r = shopper.get("/products/" + old)
    assert r.status_code == 200 and stack.mariadb("SELECT name FROM products WHERE id = %d" % taker) in r.text
    # an inactive product's old address is an ordinary 404
    assert save_product(staff, pid, refs, active=None).status_code == 303
    assert shopper.get("/products/" + new).status_code == 404


# ------------------------------------------------------------------ stock

def test_stock_adjustments_have_a_history_and_show_in_the_shop_at_once(staff, refs, stack, shopper):
    pid = create_product(staff, refs)
    assert add_run(staff, pid, refs["colour"], sizes=("8", "9"), step="1", stock="10").status_code == 303
    slug = stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid)
    vid, sku = variants_of(stack, pid)[0][:2]
    r = cached_three_times(shopper, "/products/" + slug)
    assert size_stock_label(r.text, vid) == ""
    page = staff.admin_get("/variants/%s/stock" % vid)
    assert page.status_code == 200 and sku in page.text and "History" in page.text
    token = CSRF_RX.search(page.text).group(1)
    url = staff.admin + "/variants/%s/stock" % vid

    def adjust(**data):
        data = dict({"reason": "received", "change": "", "set_to": "", "note": "", "seen": "10"}, **data)
        return staff.post(url, data, token=token)

    # refusals beside their field, nothing saved
    r = adjust(reason="received", change="-3")
    assert r.status_code == 422 and "positive change" in field_error(r.text, "change")
    r = adjust(reason="damaged", change="-11")
    assert r.status_code == 422 and "Only 10 in stock" in field_error(r.text, "change")
    r = adjust(reason="recount", change="+1", set_to="4")
    assert r.status_code == 422 and "Fill in one" in r.text
    r = adjust(reason="received", change="twelve")
    assert r.status_code == 422 and field_error(r.text, "change")
    assert stack.mariadb("SELECT stock FROM variants WHERE id = %s" % vid) == "10"
    # a recount to 2: the shop's page says so at once
    r = adjust(reason="recount", set_to="2", note="shelf count 12/3")
    assert r.status_code == 303, describe(r)
    assert size_stock_label(shopper.get("/products/" + slug).text, vid) == "Only 2 left"
    # damaged: the last two pairs: sold out on the page
    assert adjust(reason="damaged", change="-2", seen="2").status_code == 303
    assert size_stock_label(shopper.get("/products/" + slug).text, vid) == "Sold out"
    # a delivery
    assert adjust(reason="received", change="+12", note="delivery 4711").status_code == 303
    assert size_stock_label(shopper.get("/products/" + slug).text, vid) == ""
    # a recount from a page shown before a change: refused, the count is told
    r = adjust(reason="recount", set_to="7", seen="2")
    assert r.status_code == 409 and "changed from 2 to 12" in field_error(r.text, "set_to")
    assert stack.mariadb("SELECT stock FROM variants WHERE id = %s" % vid) == "12"
    # the history, newest first, with reasons and notes
    page = staff.admin_get("/variants/%s/stock" % vid)
    text = re.sub(r"\s+", " ", page.text)
    assert text.index("delivery 4711") < text.index("shelf count 12/3")
    assert "Recount (counted on the shelf)" in text and "Damaged or lost" in text and "+12" in text and "-8" in text
    hist = stack.mariadb_rows("SELECT reason, delta, stock_before, stock_after, note FROM stock_adjustments "
                              "WHERE variant_id = %s ORDER BY id" % vid)
    assert hist == [["received", "10", "0", "10", "first stock of a new size run"],
                    ["recount", "-8", "10", "2", "shelf count 12/3"], ["damaged", "-2", "2", "0", ""],
                    ["received", "12", "0", "12", "delivery 4711"]]
    rows = audit_rows(stack, "variant", vid, "stock.adjust")
    assert [(b["stock"], a["stock"], a["reason"]) for _, b, a, _ in rows] == \
        [(10, 2, "recount"), (2, 0, "damaged"), (0, 12, "received")]
    assert all(who == staff.email for *_, who in rows)
    csv = staff.admin_get("/variants/%s/stock?csv=1" % vid)
    assert csv.status_code == 200 and "delivery 4711" in csv.text


def test_the_size_grid_saves_counts_together(staff, refs, stack, shopper):
    pid = create_product(staff, refs)
    assert add_run(staff, pid, refs["colour"], sizes=("8", "9"), step="0.5", stock="4").status_code == 303
    slug = stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid)
    v = variants_of(stack, pid)
    cached_three_times(shopper, "/products/" + slug)
    page = staff.admin_get("/products/%d/variants" % pid)
    form = dict(re.findall(r'name="((?:stock|seen)_\d+)" value="(\d+)"', page.text))
    assert len(form) == 6
    token = CSRF_RX.search(page.text).group(1)
    url = staff.admin + "/products/%d/variants" % pid
    # a count that is not a number: beside its cell, nothing saved
    bad = dict(form, reason="recount", **{"stock_%s" % v[0][0]: "lots", "stock_%s" % v[1][0]: "1"})
    r = staff.post(url, bad, token=token)
    assert r.status_code == 422 and "whole number" in r.text and 'value="lots"' in r.text
    assert [x[4] for x in variants_of(stack, pid)] == ["4", "4", "4"]
    good = dict(form, reason="recount", note="grid count", **{"stock_%s" % v[0][0]: "0", "stock_%s" % v[2][0]: "9"})
    r = staff.post(url, good, token=token)
    assert r.status_code == 303, describe(r)
    assert [x[4] for x in variants_of(stack, pid)] == ["0", "4", "9"]
    assert "Stock saved for 2 sizes" in staff.admin_get("/products/%d/variants" % pid).text
    assert size_stock_label(shopper.get("/products/" + slug).text, v[0][0]) == "Sold out"
    assert len(audit_rows(stack, "variant", v[0][0], "stock.adjust")) == 1
    # the same page sent again: its counts are stale now, nothing is saved
    again = dict(form, reason="recount", **{"stock_%s" % v[1][0]: "3", "stock_%s" % v[2][0]: "5"})
    r = staff.post(url, again, token=token)
    assert r.status_code == 409 and "changed since this page was shown" in r.text
    assert "Now 9: it was 4 when the page was shown, you entered 5." in r.text
    assert [x[4] for x in variants_of(stack, pid)] == ["0", "4", "9"]
    # a reason that does not fit the change
    page = staff.admin_get("/products/%d/variants" % pid)
    form = dict(re.findall(r'name="((?:stock|seen)_\d+)" value="(\d+)"', page.text))
    r = staff.post(url, dict(form, reason="received", **{"stock_%s" % v[1][0]: "1"}),
                   token=CSRF_RX.search(page.text).group(1))
    assert r.status_code == 422 and "the count must be higher" in r.text


def test_a_price_change_shows_on_the_category_listing_at_once(staff, refs, stack, shopper):
    pid = create_product(staff, refs, price="77.00")
    assert add_run(staff, pid, refs["colour"], sizes=("8", "9")).status_code == 303
    slug = stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid)
    listing = "/category/%s?sort=newest" % refs["category_slug"]
    r = cached_three_times(shopper, listing)
    assert card_price(r.text, slug) == "£77.00"
    cached_three_times(shopper, "/products/" + slug)
    assert save_product(staff, pid, refs, price="66.50").status_code == 303
    assert card_price(shopper.get(listing).text, slug) == "£66.50"
    assert "£66.50" in shopper.get("/products/" + slug).text
    assert shopper.get("/api/v1/products/" + slug).json()["price"]["amount"] == 6650


# ------------------------------------------------------------------ the command line shares the path

def test_the_stock_and_price_commands_go_the_same_way(staff, refs, stack, shoease_cli, shopper):
    pid = create_product(staff, refs, price="20.00")
    assert add_run(staff, pid, refs["colour"], sizes=("8", "8"), stock="1").status_code == 303
    slug = stack.mariadb("SELECT slug FROM products WHERE id = %d" % pid)
    vid, sku = variants_of(stack, pid)[0][:2]
    r = shoease_cli("product", "set-stock", sku, "6", "--reason", "received", "--note", "by hand")
    assert r.returncode == 0, r.stderr
    assert stack.mariadb_rows("SELECT reason, delta, note, actor LIKE 'cli:%%' FROM stock_adjustments "
                              "WHERE variant_id = %s ORDER BY id DESC LIMIT 1" % vid) == [["received", "5", "by hand", "1"]]
    assert audit_rows(stack, "variant", vid, "stock.adjust")[-1][3].startswith("cli:")
    r = shoease_cli("product", "set-stock", sku, "3", "--reason", "received")
    assert r.returncode == 1 and "add to the stock" in r.stderr
    r = shoease_cli("product", "set-price", slug, "2500", "3000")
    assert r.returncode == 0, r.stderr
    row = audit_rows(stack, "product", pid, "product.price")[-1]
    assert row[1] == {"price": "£20.00", "compare_at": None, "version": 1}
    assert row[2] == {"price": "£25.00", "compare_at": "£30.00", "version": 2}
    assert "£25.00" in shopper.get("/products/" + slug).text
    # a form opened before the command is stale now
    r = save_product(staff, pid, refs, version=1, price="21.00")
    assert r.status_code == 409
    r = shoease_cli("product", "set-price", slug, "2500", "2000")
    assert r.returncode == 1 and "higher than the price" in r.stderr


# ------------------------------------------------------------------ who may

def test_csrf_is_refused(staff, refs, stack):
    pid = create_product(staff, refs)
    before = stack.mariadb("SELECT CONCAT(name, version) FROM products WHERE id = %d" % pid)
    data = dict(current_values(edit_page(staff, pid).text), name="Forged", version="1")
    for token in (False, "x" * 43):
        r = staff.post(staff.admin + "/products/%d" % pid, data, token=token)
        assert r.status_code == 403, describe(r)
        r = staff.post(staff.admin + "/products/bulk", {"action": "deactivate", "id": str(pid)}, token=token)
        assert r.status_code == 403
        r = staff.post(staff.admin + "/products/new", product_form(refs), token=token)
        assert r.status_code == 403
    # a form sent from another site is refused even with the token
    page = edit_page(staff, pid)
    r = staff.post(staff.admin + "/products/%d" % pid, data, token=CSRF_RX.search(page.text).group(1),
                   headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert stack.mariadb("SELECT CONCAT(name, version) FROM products WHERE id = %d" % pid) == before
    assert audit_rows(stack, "product", pid, "product.update") == []


def test_staff_see_every_screen_and_nobody_else_does(staff, refs, stack, https_url, tls_cert):
    pid = create_product(staff, refs)
    assert add_run(staff, pid, refs["colour"], sizes=("8", "8")).status_code == 303
    vid = variants_of(stack, pid)[0][0]
    screens = ["/products", "/products/new", "/products/%d" % pid, "/products/%d/variants" % pid,
               "/products/%d/variants/new-run" % pid, "/variants/%s/stock" % vid]
    for s in screens:
        r = staff.admin_get(s)
        assert r.status_code == 200, (s, r.status_code)
        assert "private, no-store" in r.headers["Cache-Control"]
    r = staff.admin_get("/")
    assert 'href="%s/products"' % staff.admin in r.text   # in the portal's navigation
    # unknown rows are 404s; a bad id is the parameter's 400 (staff only learn that)
    assert staff.admin_get("/products/999999999").status_code == 404
    assert staff.admin_get("/variants/999999999/stock").status_code == 404
    assert staff.admin_get("/products/abc").status_code == 400
    anonymous = Shopper(https_url, tls_cert)
    for s in screens:
        assert anonymous.get(admin_path(stack) + s, allow_redirects=False).status_code == 404
