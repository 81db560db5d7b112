"""Cart, checkout, orders and payments — over HTTPS through nginx, against
the real MariaDB, durable Redis, worker, FerretDB, SMTP sink and stripe-mock.

Each test takes its own variants (Stock.take: a product nobody else here
uses, its stock set through `shoease product set-stock`, which is what a
store owner runs) and checks the stock invariant at the end: what is on the
shelf plus what live orders hold equals what was put there.

stripe-mock keeps no state (every PaymentIntent it returns says
requires_payment_method), so "paid" always arrives the way Stripe says it:
as a signed webhook event built by the test (conftest.StripeWebhook)."""
import concurrent.futures
import json
import re
import signal
import threading
import time
import uuid

import pytest

from conftest import wait_until
from shoppers import (ADDRESS, CSRF_RX, Shopper, add_to_bag, checkout_form, order_number, place_order,
                      unique_email)

LIVE = ("pending_payment", "paid", "cod_confirmed", "shipped", "delivered")


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


class Stock:
    """Variants for one test each: distinct products, taken from the end of
    the catalogue (the catalogue tests look at its start)."""

    def __init__(self, stack, cli):
        self.stack, self.cli = stack, cli
        rows = stack.mariadb_rows(
            "SELECT v.id, v.sku, v.product_id, p.slug, p.price, v.size_label FROM variants v "
            "JOIN products p ON p.id = v.product_id WHERE p.active = 1 "
            "AND v.id = (SELECT MAX(v2.id) FROM variants v2 WHERE v2.product_id = p.id) ORDER BY p.id DESC")
        self.free = [dict(id=int(r[0]), sku=r[1], product_id=int(r[2]), slug=r[3], price=int(r[4]), size=r[5])
                     for r in rows]
        self.lock = threading.Lock()

    def take(self, stock):
        with self.lock:
            assert self.free, "the demo catalogue has run out of products for the order tests"
            v = self.free.pop(0)
        self.set(v, stock)
        v["initial"] = stock
        v["held_before"] = self.held(v)   # orders of an earlier run on the same stack
        return v

    def set(self, v, stock):
        r = self.cli("product", "set-stock", v["sku"], str(stock))
        assert r.returncode == 0, r.stdout + r.stderr

    def shelf(self, v):
        return int(self.stack.mariadb("SELECT stock FROM variants WHERE id = %d" % v["id"]))

    def held(self, v):
        """Pairs of v in live (not cancelled or refunded) orders."""
        out = self.stack.mariadb(
            "SELECT COALESCE(SUM(ol.quantity), 0) FROM order_lines ol JOIN orders o ON o.id = ol.order_id "
            "WHERE ol.variant_id = %d AND o.status IN (%s)" % (v["id"], ",".join("'%s'" % s for s in LIVE)))
        return int(out)

    def check(self, v):
        shelf, held = self.shelf(v), self.held(v) - v["held_before"]
        assert shelf >= 0
        assert shelf + held == v["initial"], "stock %d + in orders %d != %d put on the shelf" % (
            shelf, held, v["initial"])
        return shelf


@pytest.fixture(scope="module")
def stock(catalog_seeded, stack, shoease_cli):
    return Stock(stack, shoease_cli)


@pytest.fixture
def shopper(https_url, tls_cert):
    return lambda: Shopper(https_url, tls_cert)


def order_row(stack, number):
    rows = stack.mariadb_rows("SELECT status, payment_method, total, user_id, email FROM orders WHERE number = '%s'"
                              % number)
    assert rows, "no order %s in MariaDB" % number
    r = rows[0]
    return dict(status=r[0], payment=r[1], total=int(r[2]), user_id=r[3], email=r[4])


def order_whole(stack, number):
    """Every order is whole: lines, a payment record, a history."""
    lines, pays, events = (int(x) for x in stack.mariadb(
        "SELECT (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id), "
        "(SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id), "
        "(SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id) FROM orders o WHERE o.number = '%s'"
        % number).split("\t"))
    assert lines >= 1 and pays == 1 and events >= 1, (number, lines, pays, events)


def history(stack, number):
    return stack.mariadb_rows(
        "SELECT COALESCE(e.from_status, '-'), e.to_status, e.actor FROM order_events e JOIN orders o "
        "ON o.id = e.order_id WHERE o.number = '%s' ORDER BY e.id" % number)


def bag_count(shopper):
    """The number the header's bag shows (its personal fragment)."""
    m = re.search(r"data-bag-count>(\d+)<", shopper.get("/fragments/header").text)
    return int(m.group(1)) if m else 0


def token_of(location):
    m = re.search(r"[?&]t=([A-Za-z0-9_-]+)", location or "")
    return m.group(1) if m else None


def form_token(shopper, path):
    r = shopper.get(path)
    m = CSRF_RX.search(r.text)
    assert m, "no form on %s (%d)" % (path, r.status_code)
    return m.group(1)


# ------------------------------------------------------------------ the bag

def test_bag_without_javascript_rules_and_bad_input(stock, shopper, stack):
    v, w = stock.take(3), stock.take(5)
    s = shopper()
    # the product page's form without JavaScript: GET /cart/add asks to confirm
    r = s.get("/cart/add?variant_id=%d&quantity=1" % v["id"])
    assert r.status_code == 200 and 'action="/cart/add"' in r.text
    r = s.get("/cart/add")
    assert r.status_code == 422 and "Choose a size" in r.text

    assert add_to_bag(s, v["id"], 2).status_code == 303
    r = s.get("/cart")
    assert r.status_code == 200 and "Your bag" in r.text and v["size"] in r.text
    assert bag_count(s) == 2

    # quantities: 0, negative, huge, not a number; more than the shelf; over the cap
    for bad in ("0", "-1", "99999999999", "two", ""):
        r = add_to_bag(s, v["id"], bad)
        assert r.status_code == 422, (bad, r.status_code)
        assert "pairs" in text_of(r.text), text_of(r.text)[:300]
    r = add_to_bag(s, v["id"], 2)   # 2 + 2 > 3 on the shelf
    assert r.status_code == 409 and "Only 3 left" in text_of(r.text)
    for bad in ("abc", "0", "-5", "2147483648", "99999999999999999999"):
        r = s.post("/cart/add", {"variant_id": bad, "quantity": "1"}, form_path="/fragments/header")
        assert r.status_code in (400, 404, 422), (bad, r.status_code)
    r = add_to_bag(s, 2147483000, 1)
    assert r.status_code == 404 and "no longer sold" in text_of(r.text)
    r = add_to_bag(s, w["id"], 11)
    assert r.status_code == 422 and "at most" in text_of(r.text) or "between 1 and" in text_of(r.text)

    # change, save for later, back, remove; a line that is not there
    assert add_to_bag(s, w["id"], 1).status_code == 303
    q = "/cart/lines/%d/quantity" % w["id"]
    assert s.post(q, {"quantity": "4"}, form_path="/cart").status_code == 303
    assert s.post(q, {"quantity": "6"}, form_path="/cart").status_code == 409   # 5 on the shelf
    assert s.post(q, {"quantity": "nope"}, form_path="/cart").status_code == 422
    assert s.post("/cart/lines/notanumber/quantity", {"quantity": "1"}, form_path="/cart").status_code in (400, 404)
    assert s.post("/cart/lines/%d/save" % w["id"], form_path="/cart").status_code == 303
    r = s.get("/cart")
    assert "Saved for later" in r.text
    rows = stack.mariadb_rows("SELECT quantity, saved_for_later FROM cart_lines WHERE variant_id = %d "
                              "ORDER BY updated_at DESC LIMIT 1" % w["id"])
    assert rows == [["4", "1"]]
    assert s.post("/cart/lines/%d/unsave" % w["id"], form_path="/cart").status_code == 303
    assert s.post("/cart/lines/%d/remove" % w["id"], form_path="/cart").status_code == 303
    assert s.post("/cart/lines/%d/remove" % w["id"], form_path="/cart").status_code == 404

    # every change needs the form's token
    r = s.post("/cart/add", {"variant_id": str(v["id"]), "quantity": "1"}, token="forged-token-value-000000000000")
    assert r.status_code == 403
    r = s.post("/cart/add", {"variant_id": str(v["id"]), "quantity": "1"}, token=False)
    assert r.status_code == 403

    # a price that changed since it went into the bag: "was £X, now £Y"
    new_price = v["price"] + 1000
    try:
        assert stock.cli("product", "set-price", v["slug"], str(new_price)).returncode == 0
        t = text_of(s.get("/cart").text)
        assert "was" in t and "£%d.%02d" % divmod(v["price"], 100) in t and "£%d.%02d" % divmod(new_price, 100) in t
    finally:
        assert stock.cli("product", "set-price", v["slug"], str(v["price"])).returncode == 0
    stock.check(v)
    stock.check(w)


def test_guest_bag_merges_at_sign_in_then_cod_order_cancel_gives_stock_back(stock, shopper, mailbox, stack):
    a, b, c = stock.take(6), stock.take(6), stock.take(6)
    # a shopper who left a bag behind last time: 1 × a and 1 × c
    s = shopper().register(mailbox, name="Merge Test")
    assert add_to_bag(s, a["id"], 1).status_code == 303
    assert add_to_bag(s, c["id"], 1).status_code == 303
    assert s.sign_out().status_code in (200, 303)

    # now as a guest: 3 × a (this visit's choice wins, not 4) and 2 × b
    assert add_to_bag(s, a["id"], 3).status_code == 303
    assert add_to_bag(s, b["id"], 2).status_code == 303
    r = s.sign_in()
    assert r.status_code == 303
    t = text_of(s.get(r.headers["Location"]).text)
    assert "last visit" in t, t[:500]
    bag = text_of(s.get("/cart").text)
    assert "From your last visit" in bag
    rows = dict((int(k), int(q)) for k, q in stack.mariadb_rows(
        "SELECT cl.variant_id, cl.quantity FROM cart_lines cl JOIN carts ct ON ct.id = cl.cart_id "
        "JOIN users u ON u.id = ct.user_id WHERE u.email = '%s' AND ct.status = 'open'" % s.email))
    assert rows == {a["id"]: 3, b["id"]: 2, c["id"]: 1}, rows
    assert bag_count(s) == 6

    # checkout: cash on delivery, standard delivery, a new address
    form = checkout_form(s)
    r = place_order(s, payment="cod", form=form)
    assert r.status_code == 303, text_of(r.text)[:500]
    number = order_number(r.headers["Location"])
    assert token_of(r.headers["Location"]) is None    # a shopper's order needs no link token
    o = order_row(stack, number)
    assert o["status"] == "cod_confirmed" and o["payment"] == "cod" and o["email"] == s.email
    order_whole(stack, number)
    assert stock.shelf(a) == 3 and stock.shelf(b) == 4 and stock.shelf(c) == 5
    page = text_of(s.get("/orders/%s" % number).text)
    assert number in page and "pay on delivery" in page.lower() and "Ada Lovelace" in page
    assert number in text_of(s.get("/account/orders").text)
    assert bag_count(s) == 0
    # the same form again (a double click, a refresh): the same order
    r = place_order(s, payment="cod", form=form)
    assert r.status_code == 303 and order_number(r.headers["Location"]) == number
    assert int(stack.mariadb("SELECT COUNT(*) FROM orders WHERE email = '%s'" % s.email)) == 1

    msg = mailbox.wait_for(lambda m: m["To"] == s.email and number in m["Subject"], timeout=30)
    assert "/orders/%s" % number in msg.text and "/orders/%s/invoice" % number in msg.text
    assert msg.get_body(preferencelist=("html",)) is not None

    # cancel: stock back, recorded, told by mail
    r = s.post("/orders/%s/cancel" % number, form_path="/orders/%s" % number)
    assert r.status_code == 303
    assert order_row(stack, number)["status"] == "cancelled"
    assert stock.shelf(a) == 6 and stock.shelf(b) == 6 and stock.shelf(c) == 6
    assert history(stack, number) == [["-", "cod_confirmed", "shopper"], ["cod_confirmed", "cancelled", "shopper"]]
    mailbox.wait_for(lambda m: m["To"] == s.email and "cancelled" in (m["Subject"] + m.text).lower()
                     and number in m["Subject"], timeout=30)
    # a cancelled order cannot be cancelled again
    r = s.post("/orders/%s/cancel" % number, form_path="/orders/%s" % number)
    assert r.status_code == 409
    for v in (a, b, c):
        stock.check(v)


def test_checkout_refuses_bad_and_tampered_forms(stock, shopper, stack):
    v = stock.take(4)
    s = shopper()
    assert add_to_bag(s, v["id"], 2).status_code == 303
    form = checkout_form(s)
    before = int(stack.mariadb("SELECT COUNT(*) FROM orders"))

    def refused(status, words, **kw):
        kw.setdefault("email", "tamper@example.com")
        r = place_order(s, form=form, **kw)
        assert r.status_code == status, (kw, r.status_code, text_of(r.text)[:300])
        assert words in text_of(r.text), (kw, text_of(r.text)[:600])

    refused(409, "Prices changed", expected_standard=str(int(form["expected_standard"]) - 100))
    refused(422, "incomplete", expected_standard=None)
    refused(422, "incomplete", checkout_key=None)
    refused(422, "incomplete", checkout_key="short")
    refused(422, "e-mail", email="")
    refused(422, "e-mail", email="not-an-address")
    refused(422, "delivery", shipping="teleport")
    refused(422, "how to pay", payment="cheque")
    refused(422, "postcode", address=dict(ADDRESS, postcode="NOT A CODE"))
    refused(422, "", address=dict(ADDRESS, full_name=""))
    refused(422, "", address=dict(ADDRESS, country="ZZ"))
    # prices, totals and variants in the form are not read: the bag and the catalogue are
    r = place_order(s, form=form, email="tamper@example.com", unit_price="1", total="1", variant_id="1",
                    subtotal="0")
    assert r.status_code == 303
    number = order_number(r.headers["Location"])
    o = order_row(stack, number)
    assert o["total"] == int(form["expected_standard"])
    assert int(stack.mariadb("SELECT COUNT(*) FROM orders")) == before + 1
    # the key belongs to this session: another shopper's use of it is refused
    other = shopper()
    assert add_to_bag(other, v["id"], 1).status_code == 303
    other_form = checkout_form(other)
    other_form["checkout_key"] = form["checkout_key"]
    r = place_order(other, form=other_form, email="other@example.com")
    # a guest's key and another guest: refused as used, or this guest's own new order — never the first one
    if r.status_code == 303:
        assert order_number(r.headers["Location"]) != number
    else:
        assert r.status_code == 409 and "used already" in text_of(r.text)
    # an empty bag cannot be checked out
    empty = shopper()
    assert empty.get("/checkout", allow_redirects=False).status_code == 303
    stock.check(v)


def test_sold_out_between_bag_and_checkout_names_the_line(stock, shopper, stack):
    v, w = stock.take(2), stock.take(5)
    s = shopper()
    assert add_to_bag(s, v["id"], 2).status_code == 303
    assert add_to_bag(s, w["id"], 1).status_code == 303
    form = checkout_form(s)
    stock.set(v, 1)
    v["initial"] = 1
    r = place_order(s, form=form, email="late@example.com")
    assert r.status_code == 409
    t = text_of(r.text)
    assert "Only 1 left" in t and v["size"] in t, t[:600]
    assert stock.shelf(w) == 5    # nothing taken from the other line
    bag = text_of(s.get("/cart").text)
    assert "Only 1 left" in bag
    # the shopper fixes the line and checks out
    assert s.post("/cart/lines/%d/quantity" % v["id"], {"quantity": "1"}, form_path="/cart").status_code == 303
    r = place_order(s, email="late@example.com")
    assert r.status_code == 303, text_of(r.text)[:400]
    assert stock.check(v) == 0 and stock.check(w) == 4


def test_a_big_order_of_last_pairs_alerts_staff_for_each(stock, shopper, stack, mailbox):
    """Twenty lines, each leaving a size nearly sold out: one order, and
    one low-stock mail per size to the staff address."""
    vs = [stock.take(2) for _ in range(20)]
    seen = set(mailbox.paths())
    s = shopper()
    for v in vs:
        assert add_to_bag(s, v["id"], 1).status_code == 303
    r = place_order(s, email=unique_email("big"))
    assert r.status_code == 303, text_of(r.text)[:400]
    number = order_number(r.headers["Location"])
    order_whole(stack, number)
    assert int(stack.mariadb("SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                             "WHERE o.number = '%s'" % number)) == 20
    for v in vs:
        assert stock.check(v) == 1
    skus = {v["sku"] for v in vs}
    msgs = mailbox.wait_for(lambda m: m.path not in seen and m["To"] == "stock@shoease.test"
                            and any(k in m.text for k in skus), timeout=30, count=20)
    assert {k for m in msgs for k in skus if k in m.text} == skus


# ------------------------------------------------------------------ card payments

def card_order(s, v, qty=1, email=None, open_page=True):
    assert add_to_bag(s, v["id"], qty).status_code == 303
    r = place_order(s, payment="card", email=email or unique_email("card"))
    assert r.status_code == 303 and "/checkout/pay/" in r.headers["Location"], (r.status_code, text_of(r.text)[:400])
    loc = r.headers["Location"]
    if open_page:   # the browser follows the redirect: the PaymentIntent is made for the card page
        page = s.get(loc)
        assert page.status_code == 200, (page.status_code, text_of(page.text)[:300])
    return order_number(loc), token_of(loc), loc


def payment_of(stack, number):
    rows = stack.mariadb_rows("SELECT p.provider_ref, p.amount, p.status FROM payments p JOIN orders o "
                              "ON o.id = p.order_id WHERE o.number = '%s'" % number)
    return dict(ref=rows[0][0], amount=int(rows[0][1]), status=rows[0][2])


def test_card_checkout_with_stripe_mock_and_a_signed_webhook(stock, shopper, stack, stripe_webhook, https_url,
                                                             session, mailbox, private_dir):
    v = stock.take(3)
    s = shopper()
    email = unique_email("card")
    number, token, loc = card_order(s, v, 2, email, open_page=False)
    assert order_row(stack, number)["status"] == "pending_payment"
    assert stock.shelf(v) == 1     # held while the shopper pays
    # nothing is confirmed before the money
    time.sleep(0.5)
    assert mailbox.count(lambda m: m["To"] == email) == 0

    r = s.get(loc)
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "https://js.stripe.com" in csp and "frame-ancestors 'none'" in csp
    assert "js.stripe.com" not in s.get("/cart").headers["Content-Security-Policy"]  # only the card page
    pay = payment_of(stack, number)
    assert pay["ref"].startswith("pi_") and pay["amount"] == order_row(stack, number)["total"]
    assert 'data-client-secret="%s_secret' % pay["ref"] in r.text or "_secret_" in r.text
    assert s.get(loc).status_code == 200
    assert payment_of(stack, number)["ref"] == pay["ref"]    # asking again: the same PaymentIntent

    # back from Stripe before the webhook: "confirming", still pending
    r = s.get("/checkout/return/%s?t=%s" % (number, token))
    assert r.status_code == 202 and "Confirming" in r.text

    ev = stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"], order_number=number)
    r = stripe_webhook.post(session, https_url, ev)
    assert r.status_code == 200, r.text
    assert order_row(stack, number)["status"] == "paid"
    assert payment_of(stack, number)["status"] == "succeeded"
    # the same event again (Stripe redelivers): acknowledged, done once
    assert stripe_webhook.post(session, https_url, ev).status_code == 200
    assert [h[1] for h in history(stack, number)] == ["pending_payment", "paid"]
    assert history(stack, number)[1][2] == "webhook"

    r = s.get("/checkout/return/%s?t=%s" % (number, token), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/orders/%s" % number)
    msg = mailbox.wait_for(lambda m: m["To"] == email and number in m["Subject"], timeout=30)
    assert "/orders/%s?t=" % number in msg.text     # a guest's mail carries the link
    link = re.search(r"(/orders/%s\?t=[A-Za-z0-9_-]+)" % number, msg.text).group(1)
    assert shopper().get(link).status_code == 200   # the link works on any device
    assert wait_until(lambda: (private_dir / "invoices" / ("%s.pdf" % number)).exists(), 30)
    stock.check(v)
    # refunded in Stripe's dashboard: the order follows, the stock comes back (not shipped yet)
    refund = stripe_webhook.event("charge.refunded", pay["ref"], pay["amount"], order_number=number)
    assert stripe_webhook.post(session, https_url, refund).status_code == 200
    assert order_row(stack, number)["status"] == "refunded"
    assert history(stack, number)[-1] == ["paid", "refunded", "webhook"]
    assert stock.shelf(v) == 3
    stock.check(v)


def test_webhook_refuses_what_stripe_did_not_send(stock, shopper, stack, stripe_webhook, https_url, session):
    v = stock.take(2)
    number, token, _ = card_order(shopper(), v)
    pay = payment_of(stack, number)
    ok = stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"], order_number=number)
    body = json.dumps(ok)
    # unsigned, wrong key, stale, signature of another body, a v1 that is not hex, garbage
    assert stripe_webhook.post(session, https_url, ok, signature=None).status_code == 400
    assert stripe_webhook.post(session, https_url, ok, secret="whsec_not_the_shops_secret").status_code == 400
    assert stripe_webhook.post(session, https_url, ok, timestamp=time.time() - 3600).status_code == 400
    assert stripe_webhook.post(session, https_url, ok, timestamp=time.time() + 3600).status_code == 400
    assert stripe_webhook.post(session, https_url, ok,
                               signature=stripe_webhook.sign(body + " ")).status_code == 400
    assert stripe_webhook.post(session, https_url, ok, signature="t=1,v1=zz").status_code == 400
    assert stripe_webhook.post(session, https_url, b"{not json", body=b"{not json").status_code == 400
    # any v1 may match (Stripe sends several while a secret is rolled)
    good = stripe_webhook.sign(body)
    t, v1 = good.split(",")
    several = "%s,v1=%s,%s" % (t, "0" * 64, v1)
    # ... but first a genuine event whose amount is not the order's: not paid
    short = stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"] - 1, order_number=number)
    assert stripe_webhook.post(session, https_url, short).status_code == 200
    assert order_row(stack, number)["status"] == "pending_payment"
    # a genuine event naming another order than its payment's: not paid
    liar = stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"], order_number="SE0000000000")
    assert stripe_webhook.post(session, https_url, liar).status_code == 200
    assert order_row(stack, number)["status"] == "pending_payment"
    # an unknown PaymentIntent: acknowledged, nothing happens
    ghost = stripe_webhook.event("payment_intent.succeeded", "pi_" + "x" * 20, 100)
    assert stripe_webhook.post(session, https_url, ghost).status_code == 200
    # the genuine one, signed among several signatures
    r = session.post(https_url + "/webhooks/stripe", data=body.encode(), timeout=30,
                     headers={"Stripe-Signature": several, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert order_row(stack, number)["status"] == "paid"
    assert int(stack.mariadb("SELECT COUNT(*) FROM order_events e JOIN orders o ON o.id = e.order_id "
                             "WHERE o.number = '%s' AND e.to_status = 'paid'" % number)) == 1
    stock.check(v)


def test_webhook_and_return_racing_pay_once(stock, shopper, stack, stripe_webhook, https_url, tls_cert):
    """The shopper's return and Stripe's webhooks (the event and its
    redeliveries, and a second event for the same payment) arriving at the
    same moment: one move to paid, one confirmation, never two."""
    v = stock.take(5)
    s = shopper()
    number, token, _ = card_order(s, v)
    pay = payment_of(stack, number)
    events = [stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"], order_number=number)
              for _ in range(4)]
    from conftest import new_session
    sessions = [new_session(tls_cert) for _ in range(16)]
    start = threading.Barrier(16)

    def hit(i):
        start.wait()
        if i % 2 == 0:
            return stripe_webhook.post(sessions[i], https_url, events[(i // 2) % 4]).status_code
        return sessions[i].get(https_url + "/checkout/return/%s?t=%s" % (number, token), timeout=30,
                               allow_redirects=False).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(hit, range(16)))
    assert all(c == 200 for c in codes[0::2]), codes
    assert all(c in (202, 303) for c in codes[1::2]), codes
    assert order_row(stack, number)["status"] == "paid"
    assert [h[1] for h in history(stack, number)] == ["pending_payment", "paid"]
    # one confirmation queued (the outbox key is unique per order), one mail
    assert int(stack.mariadb("SELECT COUNT(*) FROM outbox WHERE idem_key LIKE 'order-confirmation:%s%%'"
                             % number)) == 1
    r = s.get("/checkout/return/%s?t=%s" % (number, token), allow_redirects=False)
    assert r.status_code == 303
    stock.check(v)


def test_unpaid_card_order_expires_and_gives_stock_back(stock, shopper, stack, shoease_cli, stripe_webhook,
                                                        https_url, session):
    v = stock.take(2)
    s = shopper()
    number, token, _ = card_order(s, v, 2)
    assert stock.shelf(v) == 0
    # not yet expired: the job leaves it alone
    r = shoease_cli("jobs", "enqueue", "orders.expire", "test-expire-early-%s" % number, "{}")
    assert r.returncode == 0, r.stdout + r.stderr
    time.sleep(2)
    assert order_row(stack, number)["status"] == "pending_payment"
    stack.mariadb("UPDATE orders SET expires_at = NOW() - INTERVAL 1 MINUTE WHERE number = '%s'" % number,
                  readonly=False)
    r = shoease_cli("jobs", "enqueue", "orders.expire", "test-expire-%s" % number, "{}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_until(lambda: order_row(stack, number)["status"] == "cancelled", 30)
    assert stock.shelf(v) == 2
    assert history(stack, number)[-1] == ["pending_payment", "cancelled", "system"]
    assert payment_of(stack, number)["status"] == "cancelled"
    # the page says so, and paying is over
    assert "cancelled" in text_of(s.get("/orders/%s?t=%s" % (number, token)).text).lower()
    r = s.get("/checkout/pay/%s?t=%s" % (number, token), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/orders/%s" % number)
    # money that arrives after all is not turned into a paid order
    pay = payment_of(stack, number)
    ev = stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"], order_number=number)
    assert stripe_webhook.post(session, https_url, ev).status_code == 200
    assert order_row(stack, number)["status"] == "cancelled"
    stock.check(v)


def test_card_provider_down_gives_a_clear_answer(stock, shopper, stack):
    v = stock.take(2)
    s = shopper()
    stack.stop("stripe")
    try:
        number, token, loc = card_order(s, v, open_page=False)
        r = s.get(loc)
        assert r.status_code == 503
        assert "Nothing was charged" in text_of(r.text)
        assert order_row(stack, number)["status"] == "pending_payment"
    finally:
        stack.start("stripe")
    r = s.get(loc)
    assert r.status_code == 200 and payment_of(stack, number)["ref"].startswith("pi_")
    # the shopper can still cancel and get the stock back
    r = s.post("/orders/%s/cancel?t=%s" % (number, token), form_path=loc.replace("/checkout/pay/", "/orders/"))
    assert r.status_code == 303
    assert order_row(stack, number)["status"] == "cancelled"
    stock.check(v)


# ------------------------------------------------------------------ concurrency and faults

def test_last_pair_two_hundred_buyers_one_order(stock, https_url, tls_cert, stack):
    v = stock.take(1)
    n = 200
    tag = uuid.uuid4().hex[:8]
    buyers = [Shopper(https_url, tls_cert) for _ in range(n)]

    def prepare(b):
        assert add_to_bag(b, v["id"], 1).status_code == 303
        return checkout_form(b)

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        forms = list(ex.map(prepare, buyers))
    start = threading.Barrier(n)

    def buy(i):
        start.wait()
        return place_order(buyers[i], form=forms[i], email="last-pair-%s-%d@example.com" % (tag, i))

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        answers = list(ex.map(buy, range(n)))
    won = [r for r in answers if r.status_code == 303]
    lost = [r for r in answers if r.status_code == 409]
    assert len(won) == 1, [r.status_code for r in answers]
    assert len(lost) == n - 1, sorted(set(r.status_code for r in answers))
    for r in lost:
        assert "sold out" in text_of(r.text), text_of(r.text)[:300]
    assert stock.check(v) == 0
    assert int(stack.mariadb("SELECT COUNT(*) FROM orders WHERE email LIKE 'last-pair-%s-%%'" % tag)) == 1
    order_whole(stack, order_number(won[0].headers["Location"]))


def test_kill_9_during_checkout_leaves_whole_orders_and_the_same_answer_on_retry(stock, https_url, tls_cert,
                                                                                stack, kill):
    """Workers killed while checkouts are in flight: every order is whole or
    absent, and posting the same form again gives that answer — one order
    per key, never two."""
    vs = [stock.take(30) for _ in range(3)]
    n = 24
    tag = uuid.uuid4().hex[:8]
    buyers = [Shopper(https_url, tls_cert) for _ in range(n)]

    def prepare(i):
        assert add_to_bag(buyers[i], vs[i % 3]["id"], 1).status_code == 303
        assert add_to_bag(buyers[i], vs[(i + 1) % 3]["id"], 2).status_code == 303
        return checkout_form(buyers[i])

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        forms = list(ex.map(prepare, range(n)))
    before = set(stack.worker_pids())
    start = threading.Barrier(n + 1)

    def buy(i):
        start.wait()
        try:
            return place_order(buyers[i], form=forms[i], email="kill-%s-%d@example.com" % (tag, i)).status_code
        except Exception as e:   # the connection died with the worker: retried below
            return repr(e)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        futures = [ex.submit(buy, i) for i in range(n)]
        start.wait()
        time.sleep(0.05)
        for pid in before:
            kill(pid, signal.SIGKILL)
        first = [f.result() for f in futures]
    assert stack.wait_workers(len(before), timeout=30), "the master did not restart the workers"
    numbers = set()
    for i in range(n):
        r = place_order(buyers[i], form=forms[i], email="kill-%s-%d@example.com" % (tag, i))
        assert r.status_code == 303, (i, first[i], r.status_code, text_of(r.text)[:300])
        numbers.add(order_number(r.headers["Location"]))
        # and again: still the same
        r2 = place_order(buyers[i], form=forms[i], email="kill-%s-%d@example.com" % (tag, i))
        assert order_number(r2.headers["Location"]) == order_number(r.headers["Location"])
    assert len(numbers) == n
    assert int(stack.mariadb("SELECT COUNT(*) FROM orders WHERE email LIKE 'kill-%s-%%'" % tag)) == n
    for number in numbers:
        order_whole(stack, number)
    for v in vs:
        stock.check(v)


# ------------------------------------------------------------------ the seed's secure order flow

def test_secure_order_flow_end_to_end(stock, shopper, stack, mailbox, shoease_cli, private_dir, https_url):
    """HTTPS via nginx → order in MariaDB → job in Redis → worker → activity
    in MongoDB → mail in the SMTP sink with the invoice link → the PDF
    downloads for its owner and is refused for another shopper."""
    v = stock.take(4)
    s = shopper().register(mailbox, name="Flow Test")
    assert add_to_bag(s, v["id"], 1).status_code == 303
    r = place_order(s, payment="cod", shipping="express")
    assert r.status_code == 303
    assert r.url.startswith("https://")
    number = order_number(r.headers["Location"])
    # MariaDB: the order, whole
    o = order_row(stack, number)
    assert o["status"] == "cod_confirmed" and o["user_id"] is not None
    order_whole(stack, number)
    # the outbox rows born with the order (mail, invoice, event) went to the
    # queue in Redis and the worker ran each job: 'done' is written back when
    # a job has run
    rows = stack.mariadb_rows("SELECT job_type FROM outbox WHERE idem_key LIKE '%%%s%%'" % number)
    assert {r[0] for r in rows} >= {"mail.send", "orders.invoice", "orders.event"}, rows
    assert wait_until(lambda: stack.mariadb(
        "SELECT COUNT(*) FROM outbox WHERE idem_key LIKE '%%%s%%' AND (outcome IS NULL OR outcome <> 'done')"
        % number) == "0", 30), stack.mariadb_rows(
        "SELECT job_type, sent_at, outcome FROM outbox WHERE idem_key LIKE '%%%s%%'" % number)
    # MongoDB: the order's step, written by the worker's event writer
    def in_mongo():
        r = shoease_cli("events", "order", number)
        return r.returncode == 0 and '"kind" : "order"' in r.stdout
    assert wait_until(in_mongo, 30), shoease_cli("events", "order", number).stderr
    # the mail, with the invoice link
    msg = mailbox.wait_for(lambda m: m["To"] == s.email and number in m["Subject"], timeout=30)
    link = re.search(r"https://\S+(/orders/%s/invoice)" % number, msg.text)
    assert link, msg.text
    # the PDF: written by the worker, served by nginx after the app said yes
    assert wait_until(lambda: (private_dir / "invoices" / ("%s.pdf" % number)).exists(), 30)
    r = s.get(link.group(1))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-") and number.encode() in r.content or len(r.content) > 1000
    assert "private" in r.headers.get("Cache-Control", "") or "no-store" in r.headers.get("Cache-Control", "")
    other = shopper().register(mailbox, name="Someone Else")
    assert other.get(link.group(1)).status_code == 404
    assert shopper().get(link.group(1)).status_code == 404
    # the private files are not reachable by URL
    assert s.get("/internal/invoices/%s.pdf" % number).status_code == 404
    assert s.get("/media/invoices/%s.pdf" % number).status_code == 404
    stock.check(v)


# ------------------------------------------------------------------ staff: shoease orders

def test_orders_cli_moves_orders_through_their_states(stock, shopper, stack, shoease_cli, mailbox):
    v = stock.take(5)
    s = shopper().register(mailbox, name="Cli Test")
    assert add_to_bag(s, v["id"], 2).status_code == 303
    r = place_order(s, payment="cod")
    number = order_number(r.headers["Location"])
    r = shoease_cli("orders", "list", "--status", "cod_confirmed")
    assert r.returncode == 0 and number in r.stdout
    r = shoease_cli("orders", "show", number)
    assert r.returncode == 0 and number in r.stdout and v["sku"] in r.stdout
    # not allowed: delivered before shipped; unknown order; unknown state
    r = shoease_cli("orders", "deliver", number)
    assert r.returncode != 0 and "cannot" in r.stderr
    assert shoease_cli("orders", "ship", "SE0000000000").returncode != 0
    assert shoease_cli("orders", "fly", number).returncode != 0
    assert shoease_cli("orders", "ship", number, "DPD 1234").returncode == 0
    mailbox.wait_for(lambda m: m["To"] == s.email and number in m["Subject"] and "way" in (m["Subject"] + m.text),
                     timeout=30)
    # shipped: the shopper can no longer cancel
    r = s.post("/orders/%s/cancel" % number, form_path="/orders/%s" % number)
    assert r.status_code in (403, 409)
    assert shoease_cli("orders", "deliver", number).returncode == 0
    assert shoease_cli("orders", "refund", number, "returned").returncode == 0
    assert [h[1] for h in history(stack, number)] == ["cod_confirmed", "shipped", "delivered", "refunded"]
    assert all(h[2] == "cli" for h in history(stack, number)[1:])
    # shipped goods come back through the store, not by the refund: the shelf is unchanged
    assert stock.shelf(v) == 3
    # popularity follows sales: the hourly job counts the pairs in orders that
    # stand (this one was refunded: it counts nothing) and refreshes the
    # listings of what sold
    stack.mariadb("UPDATE products SET sold_count = sold_count + 5 WHERE id = %d" % v["product_id"], readonly=False)
    before = stack.redis("GET", "v:l:*all")
    r = shoease_cli("jobs", "enqueue", "orders.popularity", "test-popularity-%s" % number, "{}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_until(lambda: stack.redis("GET", "v:l:*all") not in ("", before), 30)
    live = int(stack.mariadb(
        "SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE l.product_id = %d AND o.status NOT IN ('cancelled', 'refunded')" % v["product_id"]))
    assert int(stack.mariadb("SELECT sold_count FROM products WHERE id = %d" % v["product_id"])) == live


# ------------------------------------------------------------------ reviews from real orders

def test_reviews_are_verified_purchases_only_from_real_orders(stock, shopper, stack, shoease_cli, mailbox,
                                                             https_url, session):
    v = stock.take(3)
    buyer = shopper().register(mailbox, name="Reviewer Buyer")
    assert add_to_bag(buyer, v["id"], 1).status_code == 303
    number = order_number(place_order(buyer, payment="cod").headers["Location"])
    assert shoease_cli("orders", "ship", number).returncode == 0
    assert shoease_cli("orders", "deliver", number).returncode == 0
    path = "/products/%s/review" % v["slug"]

    # anonymous: sent to sign in first
    anon = shopper()
    r = anon.get(path, allow_redirects=False)
    assert r.status_code in (302, 303) and "/account/login" in r.headers["Location"]
    # bad input: message beside the field, nothing saved
    for data, words in (({"rating": "0", "title": "Fine", "body": "Good shoes all round."}, "1 to 5 stars"),
                        ({"rating": "6", "title": "Fine", "body": "Good shoes all round."}, "1 to 5 stars"),
                        ({"rating": "4", "title": "", "body": "Good shoes all round."}, "title"),
                        ({"rating": "4", "title": "Fine", "body": "short"}, "characters"),
                        ({"rating": "4", "title": "Line\nbreak", "body": "Good shoes all round."}, "one line")):
        r = buyer.post(path, data)
        assert r.status_code == 422, (data, r.status_code)
        assert words in text_of(r.text), (data, text_of(r.text)[:400])
    assert buyer.post(path, {"rating": "5", "title": "Fine"}, token="x" * 43).status_code == 403
    assert stack.mariadb("SELECT COUNT(*) FROM reviews r JOIN users u ON u.id = r.user_id WHERE u.email = '%s'"
                         % buyer.email) == "0"

    title = "Light and comfy %s" % uuid.uuid4().hex[:6]
    r = buyer.post(path, {"rating": "5", "title": title, "body": "Wore them all day at work, no blisters."})
    assert r.status_code == 303 and r.headers["Location"] == "/products/%s" % v["slug"]
    rid, verified, status, author = stack.mariadb_rows(
        "SELECT r.id, r.verified_purchase, r.status, r.author_name FROM reviews r JOIN users u ON u.id = r.user_id "
        "WHERE u.email = '%s'" % buyer.email)[0]
    assert (verified, status, author) == ("1", "pending", "Reviewer Buyer")
    # one review per shopper and shoe
    r = buyer.post(path, {"rating": "4", "title": "Again", "body": "A second review of the same shoe."})
    assert r.status_code == 409
    # a shopper who did not buy it: a review, but not a verified purchase
    other = shopper().register(mailbox, name="Never Bought")
    assert other.post(path, {"rating": "3", "title": "Looks nice",
                             "body": "Tried them on in a friend's house."}).status_code == 303
    assert stack.mariadb("SELECT r.verified_purchase FROM reviews r JOIN users u ON u.id = r.user_id "
                         "WHERE u.email = '%s'" % other.email) == "0"
    # the page shows it once the owner approves it, marked verified
    assert title not in session.get(https_url + "/products/" + v["slug"], timeout=15).text
    assert shoease_cli("review", "moderate", rid, "approved").returncode == 0
    page = session.get(https_url + "/products/" + v["slug"], timeout=15).text
    assert title in page
    block = page[page.index(title):]
    assert "Verified purchase" in block[:1500]
