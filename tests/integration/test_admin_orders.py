"""The admin portal's orders, over HTTPS through nginx against the real
stack: orders placed by shoppers (cash on delivery, and card through
stripe-mock with a signed webhook), then found, opened, shipped, delivered,
cancelled, refunded and mailed again by staff — every change through
shop/orders.c with an audit row in the same unit of work.

Variants come from test_orders.Stock, from the middle of the catalogue (the
order tests take its end, the catalogue tests its start)."""
import hashlib
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import wait_until
from shoppers import CSRF_RX, Shopper, Staff, add_to_bag, admin_path, order_number, place_order, unique_email
from test_orders import Stock, card_order, history, order_row, payment_of, text_of


@pytest.fixture(scope="module")
def stock(catalog_seeded, stack, shoease_cli):
    s = Stock(stack, shoease_cli)
    s.free = s.free[60:]
    return s


@pytest.fixture(scope="module")
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", name="Order Desk")


def staff_id(stack, who):
    return int(stack.mariadb("SELECT id FROM users WHERE email = '%s'" % who.email))


def audit_rows(stack, entity_id, action=None):
    """[(action, actor, before, after)] of an entity, oldest first."""
    sql = ("SELECT action, actor, COALESCE(before_json, 'null'), COALESCE(after_json, 'null') FROM audit_log "
           "WHERE entity_id = '%s'" % entity_id)
    if action:
        sql += " AND action = '%s'" % action
    return [(r[0], r[1], json.loads(r[2]), json.loads(r[3])) for r in stack.mariadb_rows(sql + " ORDER BY id")]


def age_password_proof(stack, who):
    """Make the staff session's password proof an hour old (as if signed in
    long ago): the next dangerous action asks for the password again."""
    key = "sess:" + hashlib.blake2b(who.sid.encode(), digest_size=32).hexdigest()
    stack.qredis("HSET", key, "auth", str(int(time.time()) - 3600))


def cod_order(stock, shopper, qty=1, stock_left=5, **kw):
    v = stock.take(stock_left)
    assert add_to_bag(shopper, v["id"], qty).status_code == 303
    r = place_order(shopper, payment="cod", **kw)
    assert r.status_code == 303, (r.status_code, text_of(r.text)[:300])
    return order_number(r.headers["Location"]), v


def today():
    return datetime.now(timezone.utc).date()


# ------------------------------------------------------------------ the list

def test_orders_are_found_by_number_email_state_and_date_sorted_and_exported(stock, staff, https_url, tls_cert,
                                                                             mailbox, stack):
    buyer = Shopper(https_url, tls_cert).register(mailbox, name="List Buyer")
    small, _ = cod_order(stock, buyer, qty=1)
    big, _ = cod_order(stock, buyer, qty=3)
    guest = Shopper(https_url, tls_cert)
    guest_email = unique_email("guest-list")
    other, _ = cod_order(stock, guest, qty=1, email=guest_email)

    prefix = buyer.email.split("@")[0]
    r = staff.admin_get("/orders?q=%s" % prefix)
    assert r.status_code == 200, r.text[:300]
    assert small in r.text and big in r.text and other not in r.text
    assert "1–2 of 2" in r.text
    # by number, typed in lower case
    r = staff.admin_get("/orders?q=%s" % other.lower())
    assert other in r.text and small not in r.text and guest_email in r.text
    # by state
    assert small in staff.admin_get("/orders?q=%s&status=cod_confirmed" % prefix).text
    assert small not in staff.admin_get("/orders?q=%s&status=shipped" % prefix).text
    # by the day it was placed (UTC)
    d = today()
    r = staff.admin_get("/orders?q=%s&from=%s&to=%s" % (prefix, d, d))
    assert small in r.text and big in r.text
    r = staff.admin_get("/orders?q=%s&to=%s" % (prefix, d - timedelta(days=1)))
    assert small not in r.text
    # bad filters: a message beside the filter, not a silent "no orders"
    r = staff.admin_get("/orders?from=2026-02-31&status=flying")
    assert r.status_code == 422
    assert "A date like" in text_of(r.text) and "Choose one of the states" in text_of(r.text)
    r = staff.admin_get("/orders?from=%s&to=%s" % (d, d - timedelta(days=3)))
    assert r.status_code == 422 and "on or after" in text_of(r.text)
    # sorted by total, both ways
    r = staff.admin_get("/orders?q=%s&sort=total" % prefix)
    assert r.text.index(small) < r.text.index(big)
    r = staff.admin_get("/orders?q=%s&sort=-total" % prefix)
    assert r.text.index(big) < r.text.index(small)
    assert 'aria-sort="descending"' in r.text
    # CSV of what the filters find
    r = staff.admin_get("/orders?q=%s&sort=total&csv=1" % prefix)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("number,placed (UTC),e-mail,name,status,payment,pairs,total,currency")
    assert [l.split(",")[0] for l in lines[1:]] == [small, big]
    assert lines[2].split(",")[4] == "cod_confirmed" and lines[2].split(",")[6] == "3"
    total = order_row(stack, big)["total"]
    assert lines[2].split(",")[7] == "%d.%02d" % divmod(total, 100)


def test_order_screens_are_hidden_from_everyone_but_staff(stock, staff, https_url, tls_cert, mailbox, stack):
    buyer = Shopper(https_url, tls_cert).register(mailbox, name="Nosy Buyer")
    number, _ = cod_order(stock, buyer)
    admin = admin_path(stack)
    for who in (Shopper(https_url, tls_cert), buyer):
        for method, suffix in (("GET", "/orders"), ("GET", "/orders/%s" % number),
                               ("GET", "/orders/%s/invoice" % number), ("POST", "/orders/%s/move" % number),
                               ("POST", "/orders/%s/refund" % number), ("POST", "/orders/%s/resend" % number),
                               ("GET", "/jobs"), ("GET", "/customers")):
            r = who.s.request(method, https_url + admin + suffix, data={"to": "shipped"}, allow_redirects=False,
                              timeout=20, headers={"Origin": who.origin})
            assert r.status_code == 404, (method, suffix, r.status_code)
    assert order_row(stack, number)["status"] == "cod_confirmed"
    # staff: a form without its token, or with a forged one, is refused
    r = staff.post(staff.admin + "/orders/%s/move" % number, {"to": "shipped"}, token=False)
    assert r.status_code == 403
    r = staff.post(staff.admin + "/orders/%s/move" % number, {"to": "shipped"}, token="f" * 43)
    assert r.status_code == 403 and "expired" in r.text
    assert order_row(stack, number)["status"] == "cod_confirmed"
    assert audit_rows(stack, number) == []
    # a number that does not exist
    assert staff.admin_get("/orders/SE0000000000").status_code == 404


# ------------------------------------------------------------------ one order: ship, deliver, mails, invoice

def test_ship_deliver_resend_and_invoice_with_audit_rows(stock, staff, https_url, tls_cert, mailbox, stack,
                                                         private_dir, shoease_cli):
    buyer = Shopper(https_url, tls_cert).register(mailbox, name="Ship Buyer")
    number, v = cod_order(stock, buyer, qty=2)
    page = "/orders/%s" % number
    r = staff.admin_get(page)
    assert r.status_code == 200
    t = text_of(r.text)
    assert v["sku"] in t and "Ada Lovelace" in t and "SW1Y 4JH" in t and buyer.email in t
    assert "Cash on delivery" in t and "Confirmed (cash on delivery)" in t
    assert "£%d.%02d" % divmod(order_row(stack, number)["total"], 100) in t
    # the confirmation mail is listed once the worker sent it
    mailbox.wait_for(lambda m: m["To"] == buyer.email and number in m["Subject"], timeout=30)
    assert wait_until(lambda: 'badge--ok">sent<' in staff.admin_get(page).text, 30)
    assert "order-confirmation" in staff.admin_get(page).text

    # an illegal move is refused with its message, and changes nothing
    r = staff.admin_post(page + "/move", {"to": "delivered"}, form_path=page)
    assert r.status_code == 409 and "cannot be delivered now" in text_of(r.text)
    r = staff.admin_post(page + "/move", {"to": "teleported"}, form_path=page)
    assert r.status_code == 422 and "Choose what happens" in text_of(r.text)
    r = staff.admin_post(page + "/move", {"to": "shipped", "note": "x" * 201}, form_path=page)
    assert r.status_code == 422 and "at most 200" in text_of(r.text)
    r = staff.admin_post(page + "/move", {"to": "cancelled", "tracking": "DPD 1"}, form_path=page)
    assert r.status_code == 422 and "goes with shipping" in text_of(r.text)
    assert order_row(stack, number)["status"] == "cod_confirmed" and audit_rows(stack, number) == []

    # ship, with a tracking number and a note for the customer
    r = staff.admin_post(page + "/move", {"to": "shipped", "tracking": "DPD 12345", "note": "Leave it with No. 14"},
                         form_path=page)
    assert r.status_code == 303 and r.headers["Location"].endswith(page)
    assert "is shipped" in text_of(staff.admin_get(page).text)
    assert order_row(stack, number)["status"] == "shipped"
    me = staff_id(stack, staff)
    assert history(stack, number)[-1] == ["cod_confirmed", "shipped", "staff:%d" % me]
    ((action, actor, before, after),) = audit_rows(stack, number)
    assert action == "order.ship" and actor == staff.email
    assert before["status"] == "cod_confirmed" and after["status"] == "shipped"
    assert after["note"] == "Tracking: DPD 12345 · Leave it with No. 14"
    # the shopper: a mail with the tracking number, and the order page shows it
    msg = mailbox.wait_for(lambda m: m["To"] == buyer.email and number in m["Subject"] and "way" in m["Subject"],
                           timeout=30)
    assert "DPD 12345" in msg.text
    t = text_of(buyer.get(page).text)
    assert "On its way" in t and "Tracking: DPD 12345" in t
    # shipped: the customer cannot cancel; staff cannot cancel either
    r = staff.admin_post(page + "/move", {"to": "cancelled"}, form_path=page)
    assert r.status_code == 409 and "cannot be cancelled" in text_of(r.text)

    r = staff.admin_post(page + "/move", {"to": "delivered"}, form_path=page)
    assert r.status_code == 303
    assert [a[0] for a in audit_rows(stack, number)] == ["order.ship", "order.deliver"]
    mailbox.wait_for(lambda m: m["To"] == buyer.email and number in m["Subject"] and "delivered" in m["Subject"],
                     timeout=30)

    # the last status mail again, then the confirmation: each arrives again
    r = staff.admin_post(page + "/resend", {"mail": "status"}, form_path=page)
    assert r.status_code == 303
    mailbox.wait_for(lambda m: m["To"] == buyer.email and number in m["Subject"] and "delivered" in m["Subject"],
                     timeout=30, count=2)
    r = staff.admin_post(page + "/resend", {"mail": "confirmation"}, form_path=page)
    assert r.status_code == 303
    confirmations = lambda m: m["To"] == buyer.email and m["Subject"].strip().endswith(number)
    mailbox.wait_for(confirmations, timeout=30, count=2)
    resent = audit_rows(stack, number, "order.resend_mail")
    assert [a[3]["mail"] for a in resent] == ["order-delivered", "order-confirmation"]
    assert all(a[1] == staff.email and a[3]["to"] == buyer.email for a in resent)
    r = staff.admin_post(page + "/resend", {"mail": "everything"}, form_path=page)
    assert r.status_code == 422
    # both resends are listed with the order's mails
    resends = re.compile(r"<code>order-[a-z]+-resend-[0-9a-f]+</code>")
    assert wait_until(lambda: len(resends.findall(staff.admin_get(page).text)) == 2, 30)

    # the invoice: through the same access-checked path as the shopper's (nginx sends the file)
    assert wait_until(lambda: (private_dir / "invoices" / ("%s.pdf" % number)).exists(), 30)
    r = staff.admin_get(page + "/invoice")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert "no-store" in r.headers.get("Cache-Control", "")

    # the command line leaves its audit row too (cli:<login>)
    r = shoease_cli("orders", "refund", number, "returned")
    assert r.returncode == 0, r.stderr
    action, actor, before, after = audit_rows(stack, number)[-1]
    assert action == "order.refund" and actor.startswith("cli:")
    assert before["status"] == "delivered" and after["status"] == "refunded" and after["note"] == "returned"
    # nothing left to do: no move, no refund; the mails can still be sent again
    t = text_of(staff.admin_get(page).text)
    assert "Refund £" not in t and "Move the order" not in t and "Send a mail again" in t
    # shipped pairs come back through the store, not by the refund
    assert stock.shelf(v) == 3


def test_cancel_gives_stock_back_and_is_audited(stock, staff, https_url, tls_cert, mailbox, stack):
    buyer = Shopper(https_url, tls_cert).register(mailbox, name="Cancel Buyer")
    number, v = cod_order(stock, buyer, qty=2, stock_left=4)
    assert stock.shelf(v) == 2
    page = "/orders/%s" % number
    r = staff.admin_post(page + "/move", {"to": "cancelled", "note": "Out of the country"}, form_path=page)
    assert r.status_code == 303
    assert order_row(stack, number)["status"] == "cancelled"
    assert stock.shelf(v) == 4
    ((action, actor, before, after),) = audit_rows(stack, number)
    assert action == "order.cancel" and before["payment"] == "pending" and after["payment"] == "cancelled"
    mailbox.wait_for(lambda m: m["To"] == buyer.email and number in m["Subject"] and "cancelled" in m["Subject"],
                     timeout=30)
    stock.check(v)


# ------------------------------------------------------------------ refunds: the password again, the provider

def test_refund_of_a_card_order_asks_for_the_password_then_refunds_through_stripe(
        stock, staff, https_url, tls_cert, stack, stripe_webhook, session, mailbox):
    v = stock.take(3)
    s = Shopper(https_url, tls_cert)
    email = unique_email("card-refund")
    number, _, _ = card_order(s, v, 2, email)
    pay = payment_of(stack, number)
    ev = stripe_webhook.event("payment_intent.succeeded", pay["ref"], pay["amount"], order_number=number)
    assert stripe_webhook.post(session, https_url, ev).status_code == 200
    assert order_row(stack, number)["status"] == "paid" and stock.shelf(v) == 1
    page = "/orders/%s" % number
    t = text_of(staff.admin_get(page).text)
    assert pay["ref"] in t and "Stripe (card)" in t and "succeeded" in t and "back to the card" in t
    # a paid order is refunded, not cancelled
    r = staff.admin_post(page + "/move", {"to": "cancelled"}, form_path=page)
    assert r.status_code == 409 and "refund it instead" in text_of(r.text)

    age_password_proof(stack, staff)
    r = staff.admin_post(page + "/refund", {"note": "Wrong size"}, form_path=page)
    assert r.status_code == 403 and "Confirm it is you" in r.text
    assert 'name="note" value="Wrong size"' in r.text
    assert order_row(stack, number)["status"] == "paid" and audit_rows(stack, number) == []
    token = CSRF_RX.search(r.text).group(1)
    r = staff.post(staff.admin + page + "/refund", {"note": "Wrong size", "confirm_password": "not my password at all"},
                   token=token)
    assert r.status_code == 403 and "not your password" in r.text
    assert order_row(stack, number)["status"] == "paid"
    r = staff.post(staff.admin + page + "/refund", {"note": "Wrong size", "confirm_password": staff.password},
                   token=token)
    assert r.status_code == 303, text_of(r.text)[:300]

    # stripe-mock answered the refund; the order and the payment follow; the unshipped pairs are back
    assert order_row(stack, number)["status"] == "refunded"
    refunded = stack.mariadb_rows("SELECT p.status, p.refunded_amount FROM payments p JOIN orders o ON o.id = "
                                  "p.order_id WHERE o.number = '%s'" % number)
    assert refunded == [["refunded", str(pay["amount"])]]
    assert stock.shelf(v) == 3
    ((action, actor, before, after),) = audit_rows(stack, number)
    assert action == "order.refund" and actor == staff.email
    assert before == {"status": "paid", "payment": "succeeded", "refunded": 0}
    assert after == {"status": "refunded", "payment": "refunded", "refunded": pay["amount"], "note": "Wrong size"}
    assert history(stack, number)[-1] == ["paid", "refunded", "staff:%d" % staff_id(stack, staff)]
    mailbox.wait_for(lambda m: m["To"] == email and number in m["Subject"] and "refunded" in m["Subject"], timeout=30)
    # the same refund again: nothing left to refund
    r = staff.admin_post(page + "/refund", {}, form_path=page)
    assert r.status_code in (303, 409)
    assert len(audit_rows(stack, number)) == 1
    stock.check(v)
