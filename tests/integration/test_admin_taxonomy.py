"""The admin portal's categories (a tree), brands and colours, over HTTPS
through nginx against the real stack: lists, create/edit with messages
beside the fields (duplicate slug, bad slug, bad swatch, a category moved
under its own subcategory), delete only when unused and only with the
password again, an audit row with before/after for every write, CSRF, the
ordinary 404 for everyone but staff, and the storefront showing a change at
once (the page-cache tag "global" is bumped after the commit).

Every test makes its own rows with unique slugs and removes them (or puts a
seeded row back) before it ends, so tests can run in any order and again."""
import hashlib
import html
import json
import re
import time
import uuid

import pytest

from conftest import new_session
from paced import describe, get
from shoppers import CSRF_RX, Shopper, Staff, admin_path
from test_admin import comparable

FIELD_ERROR_RX = re.compile(r'id="f-([a-z_]+)-error">([^<]*)<')
FORM_ERROR_RX = re.compile(r'class="form-error" role="alert"><p>([^<]*)<')


@pytest.fixture(scope="module")
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", name="Tax Onomy")


@pytest.fixture
def shop(tls_cert, https_url):
    """A plain visitor of the storefront (no session)."""
    s = new_session(tls_cert)
    s.headers["User-Agent"] = "shoease-tests storefront"

    class Shop:
        def get(self, path, **kw):
            return get(s, https_url + path, **kw)

    yield Shop()
    s.close()


def tag():
    return uuid.uuid4().hex[:8]


def token(staff):
    r = staff.admin_get("/categories")
    assert r.status_code == 200, describe(r)
    return CSRF_RX.search(r.text).group(1)


def post(staff, suffix, data, tok=None):
    return staff.post(staff.admin + suffix, data, token=tok or token(staff))


def field_errors(r):
    return {k: html.unescape(v) for k, v in FIELD_ERROR_RX.findall(r.text)}


def form_error(r):
    m = FORM_ERROR_RX.search(r.text)
    return html.unescape(m.group(1)) if m else None


def row_id(stack, table, slug):
    v = stack.mariadb("SELECT id FROM %s WHERE slug = '%s'" % (table, slug))
    return int(v) if v else None


def audit(stack, entity, entity_id, action=None):
    """[(action, before, after)] of an entity, oldest first."""
    sql = ("SELECT action, COALESCE(before_json, 'null'), COALESCE(after_json, 'null'), actor FROM audit_log "
           "WHERE entity = '%s' AND entity_id = '%s'" % (entity, entity_id))
    if action:
        sql += " AND action = '%s'" % action
    rows = stack.mariadb_rows(sql + " ORDER BY id")
    return [(a, json.loads(b), json.loads(c), who) for a, b, c, who in rows]


def created(staff, stack, kind, data, tok=None):
    """POST a new row, expect success, return its id."""
    table = {"categories": "categories", "brands": "brands", "colours": "colours"}[kind]
    r = post(staff, "/%s/new" % kind, data, tok)
    assert r.status_code == 303, describe(r)
    assert r.headers["Location"] == staff.admin + "/" + kind
    rid = row_id(stack, table, data["slug"])
    assert rid, "nothing saved"
    return rid


def delete(staff, kind, rid, tok=None, password=True):
    """Deleting asks for the password again once the session's proof is old
    (test_deleting_asks_for_the_password_again); sent along, it is used only then."""
    return post(staff, "/%s/%d/delete" % (kind, rid), {"confirm_password": staff.password} if password else {}, tok)


def cleanup(staff, stack, kind, slugs):
    tok = token(staff)
    table = kind
    for slug in slugs:
        rid = row_id(stack, table, slug)
        if rid:
            delete(staff, kind, rid, tok)


def make_auth_old(staff, stack):
    """The session's password proof made old: the next dangerous action asks for it."""
    key = hashlib.blake2b(staff.sid.encode(), digest_size=32).hexdigest()
    stack.qredis("HSET", "sess:" + key, "auth", str(int(time.time()) - 3600))


# ------------------------------------------------------------------ categories

def test_category_tree_create_move_and_delete(staff, stack, catalog_seeded):
    t = tag()
    slugs = ["tax-%s-top" % t, "tax-%s-kid" % t, "tax-%s-grandkid" % t]
    tok = token(staff)
    try:
        top = created(staff, stack, "categories", {"name": "Tax %s Top" % t, "slug": slugs[0], "parent": "",
                                                   "position": "900"}, tok)
        kid = created(staff, stack, "categories", {"name": "Tax %s Kid" % t, "slug": slugs[1], "parent": str(top),
                                                   "position": "1"}, tok)
        # no slug typed: made from the name
        r = post(staff, "/categories/new", {"name": "Tax %s Grandkid" % t, "slug": "", "parent": str(kid),
                                            "position": ""}, tok)
        assert r.status_code == 303, describe(r)
        grandkid = row_id(stack, "categories", slugs[2])
        assert grandkid, "the slug was not made from the name"

        # the tree: parents before children, indented, with counts
        r = staff.admin_get("/categories")
        assert r.status_code == 200 and "private, no-store" in r.headers["Cache-Control"]
        i, j, k = (r.text.index('href="%s/categories/%d">' % (staff.admin, n)) for n in (top, kid, grandkid))
        assert i < j < k
        assert 'admin-tree__name--d1"><a href="%s/categories/%d"' % (staff.admin, kid) in r.text
        assert 'admin-tree__name--d2"><a href="%s/categories/%d"' % (staff.admin, grandkid) in r.text
        # the seeded tree is there with its product counts
        men = row_id(stack, "categories", "men")
        assert men and 'href="%s/categories/%d"' % (staff.admin, men) in r.text

        # the edit form: the parent list leaves out the category and everything under it
        r = staff.admin_get("/categories/%d" % kid)
        assert r.status_code == 200
        options = re.findall(r'<option value="(\d*)"', r.text)
        assert str(top) in options and str(kid) not in options and str(grandkid) not in options

        # refused, with the message beside the field, and nothing saved
        before = stack.mariadb_rows("SELECT id, parent_id, slug, name, position FROM categories WHERE id IN (%d,%d,%d)"
                                    " ORDER BY id" % (top, kid, grandkid))
        r = post(staff, "/categories/%d" % top, {"name": "Tax %s Top" % t, "slug": slugs[0], "parent": str(grandkid),
                                                 "position": "900"}, tok)
        assert r.status_code == 422, describe(r)
        assert "cannot go under itself or one of its own subcategories" in field_errors(r)["parent"]
        r = post(staff, "/categories/%d" % kid, {"name": "Tax %s Kid" % t, "slug": slugs[1], "parent": str(kid),
                                                 "position": "1"}, tok)
        assert r.status_code == 422 and "cannot go under itself" in field_errors(r)["parent"]
        r = post(staff, "/categories/%d" % kid, {"name": "Tax %s Kid" % t, "slug": "men", "parent": str(top),
                                                 "position": "1"}, tok)
        assert r.status_code == 422 and "slug men already" in field_errors(r)["slug"]
        assert 'value="Tax %s Kid"' % t in r.text, "the form keeps what was typed"
        for bad in ("Trail Running", "trail--running", "-trail", "trail_", "é"):
            r = post(staff, "/categories/%d" % kid, {"name": "Tax %s Kid" % t, "slug": bad, "parent": str(top),
                                                     "position": "1"}, tok)
            assert r.status_code == 422 and "lower-case letters" in field_errors(r)["slug"], bad
        r = post(staff, "/categories/%d" % kid, {"name": "  ", "slug": slugs[1], "parent": str(top), "position": "1"},
                 tok)
        assert r.status_code == 422 and "name" in field_errors(r)
        r = post(staff, "/categories/%d" % kid, {"name": "x" * 81, "slug": slugs[1], "parent": str(top),
                                                 "position": "1"}, tok)
        assert r.status_code == 422 and "at most 80" in field_errors(r)["name"]
        r = post(staff, "/categories/%d" % kid, {"name": "Kid", "slug": slugs[1], "parent": str(top),
                                                 "position": "first"}, tok)
        assert r.status_code == 422 and "whole number" in field_errors(r)["position"]
        r = post(staff, "/categories/%d" % kid, {"name": "Kid", "slug": slugs[1], "parent": "999999999",
                                                 "position": "1"}, tok)
        assert r.status_code == 422 and "does not exist" in field_errors(r)["parent"]
        assert stack.mariadb_rows("SELECT id, parent_id, slug, name, position FROM categories WHERE id IN "
                                  "(%d,%d,%d) ORDER BY id" % (top, kid, grandkid)) == before

        # a move: the grandchild goes to the top level; the audit row says from where
        r = post(staff, "/categories/%d" % grandkid, {"name": "Tax %s Grandkid" % t, "slug": slugs[2], "parent": "",
                                                      "position": "7"}, tok)
        assert r.status_code == 303, describe(r)
        assert stack.mariadb("SELECT COALESCE(parent_id, 0), position FROM categories WHERE id = %d" % grandkid) \
            == "0\t7"
        rows = audit(stack, "category", grandkid)
        assert [a for a, _, _, _ in rows] == ["category.create", "category.update"]
        assert rows[0][1] is None and rows[0][2]["parent_id"] == kid
        assert rows[1][1]["parent_id"] == kid and rows[1][2]["parent_id"] is None
        assert rows[1][1]["position"] == 0 and rows[1][2]["position"] == 7
        assert rows[1][3] == staff.email
        # saving the same again changes (and records) nothing
        r = post(staff, "/categories/%d" % grandkid, {"name": "Tax %s Grandkid" % t, "slug": slugs[2], "parent": "",
                                                      "position": "7"}, tok)
        assert r.status_code == 303
        assert len(audit(stack, "category", grandkid)) == 2

        # delete: refused while it has a subcategory, then allowed once empty
        r = delete(staff, "categories", top, tok)
        assert r.status_code == 409, describe(r)
        assert "still has 0 products and 1 subcategory" in form_error(r)
        assert row_id(stack, "categories", slugs[0]) == top
        r = delete(staff, "categories", kid, tok)
        assert r.status_code == 303 and r.headers["Location"] == staff.admin + "/categories"
        assert row_id(stack, "categories", slugs[1]) is None
        rows = audit(stack, "category", kid, "category.delete")
        assert len(rows) == 1 and rows[0][1]["slug"] == slugs[1] and rows[0][2] is None
        # and a category with products is never deleted
        seeded = int(stack.mariadb("SELECT category_id FROM products GROUP BY category_id ORDER BY COUNT(*) DESC "
                                   "LIMIT 1"))
        n = int(stack.mariadb("SELECT COUNT(*) FROM products WHERE category_id = %d" % seeded))
        r = delete(staff, "categories", seeded, tok)
        assert r.status_code == 409 and "still has %d products" % n in form_error(r)
        assert stack.mariadb("SELECT COUNT(*) FROM categories WHERE id = %d" % seeded) == "1"
    finally:
        cleanup(staff, stack, "categories", [slugs[2], slugs[1], slugs[0]])


def test_a_renamed_category_shows_in_the_storefront_nav_at_once(staff, stack, shop, catalog_seeded):
    t = tag()
    slug = "tax-%s-nav" % t
    old, new = "Nav %s Before" % t, "Nav %s After" % t
    tok = token(staff)
    try:
        cid = created(staff, stack, "categories", {"name": old, "slug": slug, "parent": "", "position": "950"}, tok)
        # pages that were cached before the rename …
        for path in ("/", "/shoes"):
            answers = [shop.get(path) for _ in range(3)]
            assert answers[-1].headers.get("X-Cache") == "hit", describe(answers[-1])
            assert old in answers[-1].text and 'href="/category/%s"' % slug in answers[-1].text
        r = post(staff, "/categories/%d" % cid, {"name": new, "slug": slug, "parent": "", "position": "950"}, tok)
        assert r.status_code == 303, describe(r)
        # … show the new name right after the save
        for path in ("/", "/shoes", "/category/" + slug):
            r = shop.get(path)
            assert r.status_code == 200, describe(r)
            nav = r.text[r.text.index('class="category-nav"'):r.text.index("</nav>")]
            assert new in nav and old not in nav, path
        rows = audit(stack, "category", cid, "category.update")
        assert rows[-1][1]["name"] == old and rows[-1][2]["name"] == new
    finally:
        cleanup(staff, stack, "categories", [slug])
    # and gone from the nav once deleted
    assert 'href="/category/%s"' % slug not in shop.get("/").text


def test_a_category_slug_change_keeps_the_old_address_working(staff, stack, shop, catalog_seeded):
    t = tag()
    first, second, third = "tax-%s-old" % t, "tax-%s-new" % t, "tax-%s-newer" % t
    name = "Moved %s" % t
    tok = token(staff)
    other = None
    try:
        cid = created(staff, stack, "categories", {"name": name, "slug": first, "parent": "", "position": "960"}, tok)
        # the page under its first address, cached (as a shared link would find it)
        answers = [shop.get("/category/" + first) for _ in range(3)]
        assert answers[-1].status_code == 200 and answers[-1].headers.get("X-Cache") == "hit", describe(answers[-1])
        r = post(staff, "/categories/%d" % cid, {"name": name, "slug": second, "parent": "", "position": "960"}, tok)
        assert r.status_code == 303, describe(r)
        # the old address: 301 to the new one, the filters kept; the new one answers
        r = shop.get("/category/%s?sort=price_asc&page=1" % first, allow_redirects=False)
        assert r.status_code == 301, describe(r)
        assert r.headers["Location"].endswith("/category/%s?sort=price_asc&page=1" % second), r.headers
        r = shop.get("/category/" + second)
        assert r.status_code == 200 and name in r.text, describe(r)
        # renamed again: both earlier addresses lead straight to the current one (no chain)
        r = post(staff, "/categories/%d" % cid, {"name": name, "slug": third, "parent": "", "position": "960"}, tok)
        assert r.status_code == 303, describe(r)
        for old in (first, second):
            r = shop.get("/category/" + old, allow_redirects=False)
            assert r.status_code == 301 and r.headers["Location"].endswith("/category/" + third), (old, describe(r))
        assert stack.mariadb_rows("SELECT old_slug FROM category_slug_redirects WHERE category_id = %d "
                                  "ORDER BY old_slug" % cid) == sorted([[first], [second]])
        # a category that takes an old address gets it: a live category wins
        other = created(staff, stack, "categories", {"name": "Taker %s" % t, "slug": first, "parent": "",
                                                     "position": "961"}, tok)
        r = shop.get("/category/" + first, allow_redirects=False)
        assert r.status_code == 200 and "Taker %s" % t in r.text, describe(r)
        assert stack.mariadb("SELECT COUNT(*) FROM category_slug_redirects WHERE old_slug = '%s'" % first) == "0"
        # an unknown address is still the ordinary 404
        assert shop.get("/category/tax-%s-never" % t, allow_redirects=False).status_code == 404
    finally:
        cleanup(staff, stack, "categories", [first, third])
    # deleting the category takes its old addresses with it
    assert stack.mariadb("SELECT COUNT(*) FROM category_slug_redirects WHERE old_slug = '%s'" % second) == "0"
    assert shop.get("/category/" + second, allow_redirects=False).status_code == 404


# ------------------------------------------------------------------ brands

def test_brands_list_search_create_edit_delete(staff, stack, shop, catalog_seeded):
    t = tag()
    slug = "brand-%s" % t
    tok = token(staff)
    try:
        bid = created(staff, stack, "brands", {"name": "Brand %s" % t, "slug": slug}, tok)
        rows = audit(stack, "brand", bid)
        assert rows == [("brand.create", None, {"name": "Brand %s" % t, "slug": slug}, staff.email)]
        # the list: search by name or slug, sorting, CSV
        r = staff.admin_get("/brands?q=%s" % t)
        assert r.status_code == 200 and "Brand %s" % t in r.text and "1–1 of 1" in html.unescape(r.text)
        r = staff.admin_get("/brands?q=%s&sort=-uses" % slug)
        assert r.status_code == 200 and slug in r.text
        r = staff.admin_get("/brands?q=%s&csv=1" % t)
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.text.splitlines()[0] == "id,name,slug,products" and slug in r.text
        r = staff.admin_get("/brands")
        assert r.status_code == 200
        seeded = stack.mariadb_rows("SELECT b.id, b.slug, COUNT(p.id) FROM brands b JOIN products p ON "
                                    "p.brand_id = b.id GROUP BY b.id ORDER BY b.id LIMIT 1")[0]
        # refused beside the field: a slug that is taken, a bad one, no name
        r = post(staff, "/brands/%d" % bid, {"name": "Brand %s" % t, "slug": seeded[1]}, tok)
        assert r.status_code == 422 and "slug %s already" % seeded[1] in field_errors(r)["slug"]
        r = post(staff, "/brands/new", {"name": "Other %s" % t, "slug": slug}, tok)
        assert r.status_code == 422 and "Another brand has the slug" in field_errors(r)["slug"]
        r = post(staff, "/brands/new", {"name": "", "slug": "brand-x-%s" % t}, tok)
        assert r.status_code == 422 and "Give the brand a name" in field_errors(r)["name"]
        r = post(staff, "/brands/new", {"name": "Bad", "slug": "Brand %s" % t}, tok)
        assert r.status_code == 422 and "lower-case" in field_errors(r)["slug"]
        assert stack.mariadb("SELECT COUNT(*) FROM brands WHERE slug LIKE 'brand-x-%%' OR name = 'Bad'") == "0"
        # edit
        r = post(staff, "/brands/%d" % bid, {"name": "Brand %s Renamed" % t, "slug": slug + "-2"}, tok)
        assert r.status_code == 303, describe(r)
        rows = audit(stack, "brand", bid, "brand.update")
        assert rows[0][1] == {"name": "Brand %s" % t, "slug": slug} and \
            rows[0][2] == {"name": "Brand %s Renamed" % t, "slug": slug + "-2"}
        slug += "-2"
        # delete: a brand with products never; an unused one (the password is fresh)
        r = delete(staff, "brands", int(seeded[0]), tok)
        assert r.status_code == 409 and "is the brand of %s product" % seeded[2] in form_error(r)
        r = delete(staff, "brands", bid, tok)
        assert r.status_code == 303 and row_id(stack, "brands", slug) is None
        assert audit(stack, "brand", bid, "brand.delete")[0][2] is None
        # an unknown one: the ordinary 404 of the portal
        assert staff.admin_get("/brands/%d" % (bid + 100000)).status_code == 404
        assert staff.admin_get("/brands/abc").status_code in (400, 404)
    finally:
        cleanup(staff, stack, "brands", [slug])


def test_a_renamed_brand_shows_on_cached_product_pages_at_once(staff, stack, shop, catalog_seeded):
    bid, name, slug = stack.mariadb_rows("SELECT b.id, b.name, b.slug FROM brands b JOIN products p ON "
                                         "p.brand_id = b.id AND p.active = 1 ORDER BY b.id LIMIT 1")[0]
    product = stack.mariadb("SELECT slug FROM products WHERE brand_id = %s AND active = 1 ORDER BY id LIMIT 1" % bid)
    new = "%s %s" % (name, tag())
    tok = token(staff)
    answers = [shop.get("/products/" + product) for _ in range(3)]
    assert answers[-1].headers.get("X-Cache") == "hit" and name in answers[-1].text
    try:
        r = post(staff, "/brands/%s" % bid, {"name": new, "slug": slug}, tok)
        assert r.status_code == 303, describe(r)
        r = shop.get("/products/" + product)
        assert 'product__brand">%s<' % html.escape(new, quote=False) in r.text, "the product page shows the old name"
    finally:
        r = post(staff, "/brands/%s" % bid, {"name": name, "slug": slug}, tok)
        assert r.status_code == 303
    assert 'product__brand">%s<' % html.escape(name, quote=False) in shop.get("/products/" + product).text


# ------------------------------------------------------------------ colours

def test_colours_swatch_checked_and_delete_only_when_unused(staff, stack, shop, catalog_seeded):
    t = tag()
    slug = "col-%s" % t
    tok = token(staff)
    try:
        for bad in ("1f2a44", "#1f2a4", "#1f2a4g", "red", "#1f2a44 ", "#1f2a444"):
            r = post(staff, "/colours/new", {"name": "Col %s" % t, "slug": slug, "hex": bad, "position": "5"}, tok)
            if bad == "#1f2a44 ":   # spaces at the ends are dropped
                assert r.status_code == 303, describe(r)
                cid = row_id(stack, "colours", slug)
                assert delete(staff, "colours", cid, tok).status_code == 303
                continue
            assert r.status_code == 422, (bad, describe(r))
            assert "six hex digits" in field_errors(r)["hex"], bad
        assert row_id(stack, "colours", slug) is None
        r = post(staff, "/colours/new", {"name": "Col %s" % t, "slug": slug, "hex": "#1F2A44", "position": "5"}, tok)
        assert r.status_code == 303, describe(r)
        cid = row_id(stack, "colours", slug)
        assert stack.mariadb("SELECT hex FROM colours WHERE id = %d" % cid) == "#1f2a44"
        rows = audit(stack, "colour", cid)
        assert rows[0][2] == {"name": "Col %s" % t, "slug": slug, "hex": "#1f2a44", "position": 5}
        r = staff.admin_get("/colours?q=%s" % t)
        assert r.status_code == 200 and 'fill="#1f2a44"' in r.text
        r = staff.admin_get("/colours/%d" % cid)
        assert 'fill="#1f2a44"' in r.text and 'value="#1f2a44"' in r.text
        r = post(staff, "/colours/%d" % cid, {"name": "Col %s" % t, "slug": slug, "hex": "#00ff00", "position": "6"},
                 tok)
        assert r.status_code == 303
        rows = audit(stack, "colour", cid, "colour.update")
        assert rows[0][1]["hex"] == "#1f2a44" and rows[0][2]["hex"] == "#00ff00" and rows[0][2]["position"] == 6
        # a colour some variant has is never deleted
        used, n = stack.mariadb_rows("SELECT colour_id, COUNT(*) FROM variants GROUP BY colour_id ORDER BY colour_id "
                                     "LIMIT 1")[0]
        r = delete(staff, "colours", int(used), tok)
        assert r.status_code == 409 and "is the colour of %s variant" % n in form_error(r)
        assert delete(staff, "colours", cid, tok).status_code == 303
        assert row_id(stack, "colours", slug) is None
    finally:
        cleanup(staff, stack, "colours", [slug])


# ------------------------------------------------------------------ the ground rules

def test_deleting_asks_for_the_password_again(staff, stack, catalog_seeded):
    t = tag()
    slug = "brand-%s" % t
    tok = token(staff)
    try:
        bid = created(staff, stack, "brands", {"name": "Gone %s" % t, "slug": slug}, tok)
        make_auth_old(staff, stack)
        r = delete(staff, "brands", bid, tok, password=False)
        assert r.status_code == 403 and "Confirm it is you" in r.text
        assert 'name="confirm_password"' in r.text
        assert row_id(stack, "brands", slug) == bid
        r = staff.post(staff.admin + "/brands/%d/delete" % bid, {"confirm_password": "not my password at all"},
                       token=tok)
        assert r.status_code == 403 and "not your password" in r.text
        assert row_id(stack, "brands", slug) == bid
        r = staff.post(staff.admin + "/brands/%d/delete" % bid, {"confirm_password": staff.password}, token=tok)
        assert r.status_code == 303, describe(r)
        assert row_id(stack, "brands", slug) is None
        # saving is not dangerous: no password asked
        make_auth_old(staff, stack)
        r = post(staff, "/brands/new", {"name": "Kept %s" % t, "slug": slug}, tok)
        assert r.status_code == 303
    finally:
        cleanup(staff, stack, "brands", [slug])


def test_forms_are_csrf_checked(staff, stack):
    t = tag()
    for suffix, data in (("/categories/new", {"name": "X", "slug": "csrf-%s" % t}),
                         ("/brands/new", {"name": "X", "slug": "csrf-%s" % t}),
                         ("/colours/new", {"name": "X", "slug": "csrf-%s" % t, "hex": "#000000"})):
        r = staff.post(staff.admin + suffix, data, token="f" * 43)
        assert r.status_code == 403 and "expired" in r.text, suffix
        r = staff.post(staff.admin + suffix, data, token=token(staff), origin=False,
                       headers={"Origin": "https://evil.example"})
        assert r.status_code == 403, suffix
    for table in ("categories", "brands", "colours"):
        assert row_id(stack, table, "csrf-%s" % t) is None


def assert_ordinary_404(https_url, tls_cert, mailbox, stack, probes, data=None):
    """For an anonymous visitor and a signed-in shopper, each (method, suffix)
    under ADMIN_PATH answers exactly as under a guessed path (test_admin's
    comparable: all but the request id and date), sets no cookie."""
    admin = admin_path(stack)
    guessed = "/staff-" + uuid.uuid4().hex[:20]
    shopper = Shopper(https_url, tls_cert).register(mailbox, name="Nosy Shopper")
    for who in (Shopper(https_url, tls_cert), shopper):
        for method, suffix in probes:
            real, fake = (who.s.request(method, https_url + base + suffix, allow_redirects=False, timeout=20,
                                        headers={"Origin": who.origin}, data=data) for base in (admin, guessed))
            assert real.status_code == 404, (method, suffix, real.status_code)
            assert comparable(real) == comparable(fake), (method, suffix)
            assert "set-cookie" not in {k.lower() for k in real.headers}


def test_everyone_but_staff_gets_the_ordinary_404(https_url, tls_cert, mailbox, stack):
    assert_ordinary_404(https_url, tls_cert, mailbox, stack, [
        ("GET", "/categories"), ("GET", "/categories/new"), ("GET", "/categories/1"), ("POST", "/categories/1"),
        ("POST", "/categories/1/delete"), ("GET", "/brands"), ("GET", "/brands/1"), ("POST", "/brands/new"),
        ("GET", "/colours"), ("POST", "/colours/1/delete"), ("GET", "/categories/x")])
