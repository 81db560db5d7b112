"""The admin portal's review moderation, over HTTPS through nginx against
the real stack: the queue (waiting reviews first; filters by status,
rating, product, verified purchase, search), approve / hide one or many,
the shop's reply under a review — each visible (or gone) on the storefront's
cached product page at once — an audit row with before/after for every
write in the same unit of work, the command line sharing the path, CSRF,
and the ordinary 404 for everyone but staff.

Reviews are added with `shoease review add … --status pending` with unique
titles and are left hidden at the end, so the seeded pages stay as they
were and tests can run again."""
import html
import json
import re
import uuid

import pytest

from paced import describe
from shoppers import CSRF_RX, Staff
from test_admin_taxonomy import assert_ordinary_404, shop  # noqa: F401  (shop: the storefront visitor fixture)

REPLY_ERROR_RX = re.compile(r'id="f-reply-error">([^<]*)<')


@pytest.fixture(scope="module")
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", name="Rev Iewer")


@pytest.fixture(scope="module")
def product(stack, catalog_seeded):
    """An active product with variants (its page is a normal product page)."""
    return stack.mariadb("SELECT p.slug FROM products p WHERE p.active = 1 AND EXISTS (SELECT 1 FROM variants v "
                         "WHERE v.product_id = p.id) ORDER BY p.id DESC LIMIT 1")


def add_review(shoease_cli, slug, title, rating=4, status="pending"):
    r = shoease_cli("review", "add", slug, rating, title, "Body of " + title + "\nsecond line", "Tess Ter",
                    "--status", status)
    assert r.returncode == 0, r.stderr
    return int(re.search(r"review (\d+) added", r.stdout).group(1))


def token(staff):
    r = staff.admin_get("/reviews")
    assert r.status_code == 200, describe(r)
    return CSRF_RX.search(r.text).group(1)


def post(staff, suffix, data, tok):
    return staff.post(staff.admin + suffix, data, token=tok)


def audit(stack, rid, action):
    rows = stack.mariadb_rows("SELECT COALESCE(before_json, 'null'), COALESCE(after_json, 'null'), actor FROM "
                              "audit_log WHERE entity = 'review' AND entity_id = '%d' AND action = '%s' ORDER BY id"
                              % (rid, action))
    return [(json.loads(b), json.loads(a), who) for b, a, who in rows]


def status_of(stack, rid):
    return stack.mariadb("SELECT status FROM reviews WHERE id = %d" % rid)


def review_on_page(page, title):
    """The review's <li> on a product page, or None."""
    i = page.find(">%s</h3>" % html.escape(title))
    if i < 0:
        return None
    start = page.rfind('<li class="review">', 0, i)
    return page[start:page.index("</li>", i)]


def warm(shop, path):
    answers = [shop.get(path) for _ in range(3)]
    assert answers[-1].status_code == 200 and answers[-1].headers.get("X-Cache") == "hit", describe(answers[-1])
    return answers[-1]


def test_queue_waiting_first_with_filters(staff, stack, shoease_cli, product):
    t = uuid.uuid4().hex[:8]
    approved = add_review(shoease_cli, product, "Q%s shown" % t, rating=5, status="approved")
    waiting = add_review(shoease_cli, product, "Q%s waiting" % t, rating=2)
    try:
        r = staff.admin_get("/reviews?q=Q%s" % t)
        assert r.status_code == 200 and "private, no-store" in r.headers["Cache-Control"]
        page = html.unescape(r.text)
        assert page.index("Q%s waiting" % t) < page.index("Q%s shown" % t), "waiting reviews come first"
        assert "Waiting" in page and "Shown" in page
        # filters
        r = staff.admin_get("/reviews?q=Q%s&status=pending" % t)
        assert "Q%s waiting" % t in r.text and "Q%s shown" % t not in r.text
        r = staff.admin_get("/reviews?q=Q%s&rating=5" % t)
        assert "Q%s shown" % t in r.text and "Q%s waiting" % t not in r.text
        r = staff.admin_get("/reviews?q=Q%s&product=%s" % (t, product))
        assert "Q%s shown" % t in r.text and "Q%s waiting" % t in r.text
        r = staff.admin_get("/reviews?q=Q%s&product=no-such-shoe-%s" % (t, t))
        assert "No reviews match" in r.text
        r = staff.admin_get("/reviews?q=Q%s&verified=yes" % t)
        assert "No reviews match" in r.text
        r = staff.admin_get("/reviews?q=Q%s&verified=no&sort=-rating" % t)
        page = html.unescape(r.text)
        assert page.index("Q%s waiting" % t) < page.index("Q%s shown" % t)   # waiting first, whatever the sort
        r = staff.admin_get("/reviews?q=Q%s&csv=1" % t)
        assert r.headers["Content-Type"].startswith("text/csv") and "Q%s waiting" % t in r.text
        # junk in the filters is ignored, not an error
        assert staff.admin_get("/reviews?status=nope&rating=9&verified=maybe").status_code == 200
        # one review's page
        r = staff.admin_get("/reviews/%d" % waiting)
        assert r.status_code == 200 and "Q%s waiting" % t in r.text and 'name="reply"' in r.text
        assert staff.admin_get("/reviews/%d" % (waiting + 1000000)).status_code == 404
    finally:
        tok = token(staff)
        post(staff, "/reviews/bulk", {"ids": [approved, waiting], "status": "rejected"}, tok)


def test_approve_reply_and_hide_show_on_the_product_page_at_once(staff, stack, shoease_cli, shop, product):
    t = uuid.uuid4().hex[:8]
    title = "M%s comfy" % t
    rid = add_review(shoease_cli, product, title)
    path = "/products/" + product
    tok = token(staff)
    try:
        assert review_on_page(warm(shop, path).text, title) is None, "a waiting review is not shown"
        # approve: shown at once
        r = post(staff, "/reviews/%d/moderate" % rid, {"status": "approved", "back": "/reviews?status=pending"}, tok)
        assert r.status_code == 303 and r.headers["Location"] == staff.admin + "/reviews?status=pending"
        assert status_of(stack, rid) == "approved"
        assert review_on_page(shop.get(path).text, title), "the approved review is not on the cached page"
        assert audit(stack, rid, "review.moderate") == [
            ({"status": "pending", "product": product}, {"status": "approved", "product": product}, staff.email)]
        # the flash says what happened
        r = staff.admin_get("/reviews?status=pending")
        assert "Review %d approved" % rid in r.text
        # approving again changes (and records) nothing
        r = post(staff, "/reviews/%d/moderate" % rid, {"status": "approved"}, tok)
        assert r.status_code == 303 and r.headers["Location"] == staff.admin + "/reviews"
        assert len(audit(stack, rid, "review.moderate")) == 1

        # reply: under the review, on the page and in the API
        warm(shop, path)
        reply = "Thank you, Tess!\nGlad they fit <well> & last."
        r = post(staff, "/reviews/%d/reply" % rid, {"reply": reply, "back": "/reviews/%d" % rid}, tok)
        assert r.status_code == 303 and r.headers["Location"] == staff.admin + "/reviews/%d" % rid
        li = review_on_page(shop.get(path).text, title)
        assert li and 'class="review__reply"' in li
        assert html.escape(reply, quote=False) in li, "the reply is not shown, or not escaped"
        assert "<well>" not in li
        row = stack.mariadb_rows("SELECT REPLACE(reply_text, '\\n', '|'), reply_author, reply_author_id IS NOT NULL,"
                                 " replied_at IS NOT NULL FROM reviews WHERE id = %d" % rid)[0]
        assert row == [reply.replace("\n", "|"), "Rev Iewer", "1", "1"]
        rows = audit(stack, rid, "review.reply")
        # (the mariadb client prints a newline inside a value as \n)
        rows[0][1]["reply"] = rows[0][1]["reply"].replace("\\n", "\n")
        assert rows == [({"reply": None}, {"reply": reply, "reply_author": "Rev Iewer"}, staff.email)]
        r = staff.admin_get("/reviews/%d" % rid)
        assert html.escape(reply, quote=False) in r.text   # in the form, to edit
        # hide: gone from the page at once, with its reply
        warm(shop, path)
        r = post(staff, "/reviews/%d/moderate" % rid, {"status": "rejected"}, tok)
        assert r.status_code == 303
        assert review_on_page(shop.get(path).text, title) is None
        rows = audit(stack, rid, "review.moderate")
        assert rows[-1][:2] == ({"status": "approved", "product": product}, {"status": "rejected", "product": product})
        # an empty reply removes it
        r = post(staff, "/reviews/%d/reply" % rid, {"reply": "  \n "}, tok)
        assert r.status_code == 303
        assert stack.mariadb("SELECT reply_text IS NULL FROM reviews WHERE id = %d" % rid) == "1"
        assert audit(stack, rid, "review.reply")[-1][1] == {"reply": None}
    finally:
        post(staff, "/reviews/%d/moderate" % rid, {"status": "rejected"}, tok)


def test_the_reply_in_the_api(staff, stack, shoease_cli, shop, product):
    t = uuid.uuid4().hex[:8]
    rid = add_review(shoease_cli, product, "A%s api" % t, status="approved")
    tok = token(staff)
    try:
        r = post(staff, "/reviews/%d/reply" % rid, {"reply": "Thanks %s" % t}, tok)
        assert r.status_code == 303
        body = shop.get("/api/v1/products/" + product).json()
        mine = [x for x in body["reviews"] if x["id"] == rid]
        assert mine and mine[0]["reply"]["text"] == "Thanks %s" % t
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", mine[0]["reply"]["created_at"])
        assert mine[0]["reply"]["date"]
        others = [x for x in body["reviews"] if x["id"] != rid]
        assert all("reply" not in x or x["reply"]["text"] for x in others)
    finally:
        post(staff, "/reviews/%d/moderate" % rid, {"status": "rejected"}, tok)


def test_reply_refused_beside_the_field(staff, stack, shoease_cli, product):
    rid = add_review(shoease_cli, product, "R%s long" % uuid.uuid4().hex[:8])
    tok = token(staff)
    try:
        for text, words in (("x" * 2001, "1 to 2000 characters"), ("bell \x07 here", "control characters")):
            r = post(staff, "/reviews/%d/reply" % rid, {"reply": text}, tok)
            assert r.status_code == 422, describe(r)
            m = REPLY_ERROR_RX.search(r.text)
            assert m and words in html.unescape(m.group(1)), r.text[:500]
            assert 'aria-invalid="true"' in r.text
        assert stack.mariadb("SELECT reply_text IS NULL FROM reviews WHERE id = %d" % rid) == "1"
        assert audit(stack, rid, "review.reply") == []
        # a review that does not exist
        r = post(staff, "/reviews/%d/reply" % (rid + 1000000), {"reply": "hello"}, tok)
        assert r.status_code == 404
        r = post(staff, "/reviews/%d/moderate" % (rid + 1000000), {"status": "approved"}, tok)
        assert r.status_code == 404
        # a status that is not one
        r = post(staff, "/reviews/%d/moderate" % rid, {"status": "deleted"}, tok)
        assert r.status_code == 303 and status_of(stack, rid) == "pending"
        assert "approve or to hide" in html.unescape(staff.admin_get("/reviews").text)
    finally:
        post(staff, "/reviews/%d/moderate" % rid, {"status": "rejected"}, tok)


def test_bulk_approve_and_hide(staff, stack, shoease_cli, shop, product):
    t = uuid.uuid4().hex[:8]
    ids = [add_review(shoease_cli, product, "B%s %d" % (t, i)) for i in range(3)]
    path = "/products/" + product
    tok = token(staff)
    try:
        warm(shop, path)
        r = post(staff, "/reviews/bulk", {"ids": [str(i) for i in ids], "status": "approved",
                                          "back": "/reviews?q=B%s" % t}, tok)
        assert r.status_code == 303 and r.headers["Location"] == staff.admin + "/reviews?q=B%s" % t
        assert [status_of(stack, i) for i in ids] == ["approved"] * 3
        page = shop.get(path).text
        assert all(review_on_page(page, "B%s %d" % (t, i)) for i in range(3))
        assert all(len(audit(stack, i, "review.moderate")) == 1 for i in ids)
        assert "3 reviews approved" in staff.admin_get("/reviews?q=B%s" % t).text
        # hide two; one of them twice in the form, and one unknown id: all or nothing
        r = post(staff, "/reviews/bulk", {"ids": [str(ids[0]), str(ids[1]), "999999999"], "status": "rejected"}, tok)
        assert r.status_code == 404
        assert [status_of(stack, i) for i in ids] == ["approved"] * 3, "half-done"
        r = post(staff, "/reviews/bulk", {"ids": [str(ids[0]), str(ids[1]), str(ids[1])], "status": "rejected"}, tok)
        assert r.status_code == 303
        assert [status_of(stack, i) for i in ids] == ["rejected", "rejected", "approved"]
        page = shop.get(path).text
        assert review_on_page(page, "B%s 0" % t) is None and review_on_page(page, "B%s 2" % t)
        # nothing ticked, or "pending" for many: refused with a message, nothing changed
        r = post(staff, "/reviews/bulk", {"status": "approved"}, tok)
        assert r.status_code == 303 and "Choose at least one review" in html.unescape(staff.admin_get("/reviews").text)
        r = post(staff, "/reviews/bulk", {"ids": str(ids[0]), "status": "pending"}, tok)
        assert r.status_code == 303 and status_of(stack, ids[0]) == "rejected"
    finally:
        post(staff, "/reviews/bulk", {"ids": [str(i) for i in ids], "status": "rejected"}, tok)


def test_the_command_line_takes_the_same_path(stack, shoease_cli, shop, product):
    rid = add_review(shoease_cli, product, "C%s cli" % uuid.uuid4().hex[:8])
    r = shoease_cli("review", "moderate", rid, "approved")
    assert r.returncode == 0, r.stderr
    rows = audit(stack, rid, "review.moderate")
    assert len(rows) == 1 and rows[0][0]["status"] == "pending" and rows[0][1]["status"] == "approved"
    assert rows[0][2].startswith("cli:")
    r = shoease_cli("review", "moderate", rid + 1000000, "approved")
    assert r.returncode == 1 and "no review" in r.stderr
    assert shoease_cli("review", "moderate", rid, "rejected").returncode == 0


def test_csrf_and_the_ordinary_404(staff, stack, shoease_cli, https_url, tls_cert, mailbox, product):
    rid = add_review(shoease_cli, product, "X%s csrf" % uuid.uuid4().hex[:8])
    for suffix, data in (("/reviews/%d/moderate" % rid, {"status": "approved"}),
                         ("/reviews/%d/reply" % rid, {"reply": "hi"}),
                         ("/reviews/bulk", {"ids": str(rid), "status": "approved"})):
        r = staff.post(staff.admin + suffix, data, token="f" * 43)
        assert r.status_code == 403 and "expired" in r.text, suffix
    assert status_of(stack, rid) == "pending"
    assert stack.mariadb("SELECT reply_text IS NULL FROM reviews WHERE id = %d" % rid) == "1"
    assert_ordinary_404(https_url, tls_cert, mailbox, stack, [
        ("GET", "/reviews"), ("GET", "/reviews/%d" % rid), ("POST", "/reviews/%d/moderate" % rid),
        ("POST", "/reviews/%d/reply" % rid), ("POST", "/reviews/bulk")], data={"status": "approved"})
    assert status_of(stack, rid) == "pending"
    assert shoease_cli("review", "moderate", rid, "rejected").returncode == 0
