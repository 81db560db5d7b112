"""The admin portal's customers, users and roles, over HTTPS through nginx
against the real stack: shoppers who registered and bought are found with
their order counts and what they spent; staff disable an account (its
sessions end, signing in is refused), enable it again, sign a customer out
everywhere; superusers — and only they — change roles, and the person whose
role changed is signed out so the new role applies at once. Every change
leaves an audit row with before and after."""
import re
import time
import uuid

import pytest

from shoppers import CSRF_RX, Shopper, Staff, add_to_bag, admin_path, place_order, order_number
from test_admin_orders import age_password_proof, audit_rows
from test_orders import Stock, order_row, text_of


@pytest.fixture(scope="module")
def stock(catalog_seeded, stack, shoease_cli):
    s = Stock(stack, shoease_cli)
    s.free = s.free[90:]
    return s


@pytest.fixture(scope="module")
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", name="Customer Care")


@pytest.fixture(scope="module")
def boss(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="superuser", name="The Owner")


def user_id(stack, email):
    return int(stack.mariadb("SELECT id FROM users WHERE email = '%s'" % email))


def next_code_step(who):
    """An authenticator code is taken once: Staff.create signed in with the
    code of the next 30 s step, so wait until a later step's code is
    accepted (the shop takes one step either side of now)."""
    used = int((who.created_at + 30) // 30)
    wait = used * 30 - time.time() + 0.5
    if wait > 0:
        time.sleep(wait)


HOME = {"full_name": "Grace Hopper", "line1": "1 Navy Yard", "line2": "", "city": "Bristol", "region": "",
        "postcode": "BS1 4DJ", "country": "GB", "phone": ""}


def test_customers_are_found_with_their_orders_addresses_and_figures(stock, staff, https_url, tls_cert, mailbox,
                                                                    stack):
    tag = uuid.uuid4().hex[:8]
    buyer = Shopper(https_url, tls_cert).register(mailbox, name="Grace Hopper " + tag)
    assert buyer.post("/account/addresses/new", HOME, form_path="/account/addresses/new").status_code == 303
    v = stock.take(5)
    assert add_to_bag(buyer, v["id"], 2).status_code == 303
    number = order_number(place_order(buyer, payment="cod").headers["Location"])
    total = order_row(stack, number)["total"]
    idle = Shopper(https_url, tls_cert).register(mailbox, name="Window Shopper " + tag)

    prefix = buyer.email.split("@")[0]
    r = staff.admin_get("/customers?q=%s" % prefix)
    assert r.status_code == 200
    t = text_of(r.text)
    assert buyer.email in t and idle.email not in t and "1–1 of 1" in t
    assert "£%d.%02d" % divmod(total, 100) in t
    # by name; staff accounts are not customers
    assert buyer.email in staff.admin_get("/customers?q=Grace+Hop").text
    assert staff.email not in staff.admin_get("/customers?q=%s" % staff.email.split("@")[0]).text
    # sorted by what they spent: the buyer before the one who bought nothing
    r = staff.admin_get("/customers?q=%s&sort=-spent" % tag)
    assert r.text.index(buyer.email) < r.text.index(idle.email)
    r = staff.admin_get("/customers?q=%s&sort=spent" % tag)
    assert r.text.index(idle.email) < r.text.index(buyer.email)
    r = staff.admin_get("/customers?q=%s&csv=1" % prefix)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    head, row = r.text.strip().splitlines()
    assert head == "id,e-mail,name,status,verified,joined (UTC),orders,spent,currency"
    assert row.split(",")[1:5] == [buyer.email, "Grace Hopper " + tag, "active", "yes"]
    assert row.split(",")[6:] == ["1", "%d.%02d" % divmod(total, 100), "GBP"]

    uid = user_id(stack, buyer.email)
    r = staff.admin_get("/customers/%d" % uid)
    assert r.status_code == 200
    t = text_of(r.text)
    assert buyer.email in t and number in t and "1 Navy Yard" in t and "BS1 4DJ" in t
    assert "shoease-tests shopper" in t, "the devices they are signed in on"
    assert staff.admin_get("/customers/999999999").status_code == 404
    assert staff.admin_get("/customers/abc").status_code in (400, 404)


def test_disable_ends_sessions_and_refuses_sign_in_until_enabled(staff, https_url, tls_cert, mailbox, stack):
    s = Shopper(https_url, tls_cert).register(mailbox, name="To Be Disabled")
    phone = Shopper(https_url, tls_cert)
    phone.email = s.email
    assert phone.sign_in().status_code == 303 and phone.signed_in() and s.signed_in()
    uid = user_id(stack, s.email)
    page = "/customers/%d" % uid

    # CSRF: no token, a forged one
    assert staff.post(staff.admin + page + "/disable", {}, token=False).status_code == 403
    assert staff.post(staff.admin + page + "/disable", {}, token="f" * 43).status_code == 403
    assert stack.mariadb("SELECT status FROM users WHERE id = %d" % uid) == "active"

    r = staff.admin_post(page + "/disable", {}, form_path=page)
    assert r.status_code == 303 and r.headers["Location"] == staff.admin + page
    t = text_of(staff.admin_get(page).text)
    assert re.search(r"The account is disabled: it cannot sign in, and \d+ sessions ended", t), t[:600]
    assert stack.mariadb("SELECT status FROM users WHERE id = %d" % uid) == "disabled"
    # both devices are signed out at once, and signing in is refused
    assert not s.signed_in() and not phone.signed_in()
    r = s.sign_in()
    assert r.status_code != 303 and "disabled" in text_of(r.text)
    (action, actor, before, after), = audit_rows(stack, str(uid), "customer.disable")
    assert actor == staff.email
    assert before == {"email": s.email, "status": "active"}
    assert after == {"email": s.email, "status": "disabled", "sessions": "ended"}
    # disabling again changes nothing and writes nothing
    assert staff.admin_post(page + "/disable", {}, form_path=page).status_code == 303
    assert len(audit_rows(stack, str(uid), "customer.disable")) == 1

    r = staff.admin_post(page + "/enable", {}, form_path=page)
    assert r.status_code == 303
    assert s.sign_in().status_code == 303 and s.signed_in()
    (action, actor, before, after), = audit_rows(stack, str(uid), "customer.enable")
    assert before["status"] == "disabled" and after["status"] == "active" and "sessions" not in after

    # signed out everywhere, the account stays active
    r = staff.admin_post(page + "/end-sessions", {}, form_path=page)
    assert r.status_code == 303
    assert not s.signed_in()
    assert stack.mariadb("SELECT status FROM users WHERE id = %d" % uid) == "active"
    (action, actor, before, after), = audit_rows(stack, str(uid), "customer.end_sessions")
    assert after["sessions"] == "ended" and before["status"] == after["status"] == "active"
    assert s.sign_in().status_code == 303


def test_staff_accounts_are_not_changed_from_the_customers_screen(staff, boss, stack):
    for who in (boss, staff):
        uid = user_id(stack, who.email)
        page = "/customers/%d" % uid
        for action in ("/disable", "/end-sessions"):
            r = staff.admin_post(page + action, {}, form_path=page)
            assert r.status_code == 409 and "staff account" in text_of(r.text), (action, r.status_code)
        assert stack.mariadb("SELECT status FROM users WHERE id = %d" % uid) == "active"
    assert boss.admin_get("/").status_code == 200


def test_only_a_superuser_changes_roles_and_the_changed_user_is_signed_out(staff, boss, https_url, tls_cert,
                                                                          shoease_cli, stack):
    clerk = Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", name="Temp Clerk")
    clerk.created_at = time.time()
    cid = user_id(stack, clerk.email)
    assert clerk.admin_get("/orders").status_code == 200

    # a staff member: 403 on the screen and on the change (staff know the portal exists)
    r = staff.admin_get("/users")
    assert r.status_code == 403 and "superuser" in text_of(r.text)
    r = staff.admin_post("/users/%d/role" % cid, {"role": "superuser"}, form_path="/orders")
    assert r.status_code == 403
    assert stack.mariadb("SELECT role FROM users WHERE id = %d" % cid) == "staff"
    assert audit_rows(stack, str(cid), "user.role") == []
    assert 'href="%s/users"' % boss.admin not in staff.admin_get("/").text

    # the superuser's screen lists staff (the newest first here); a search finds any account
    r = boss.admin_get("/users?sort=-joined")
    assert r.status_code == 200 and clerk.email in r.text and boss.email in r.text
    assert 'href="%s/users"' % boss.admin in r.text
    # a bad role is refused with its message
    r = boss.admin_post("/users/%d/role" % cid, {"role": "king"}, form_path="/users")
    assert r.status_code == 422 and "shopper, staff or superuser" in text_of(r.text)

    # demoted: the password again first (an old proof), then their session ends at once
    age_password_proof(stack, boss)
    r = boss.admin_post("/users/%d/role" % cid, {"role": "shopper"}, form_path="/users")
    assert r.status_code == 403 and "Confirm it is you" in r.text
    assert stack.mariadb("SELECT role FROM users WHERE id = %d" % cid) == "staff"
    token = CSRF_RX.search(r.text).group(1)
    r = boss.post(boss.admin + "/users/%d/role" % cid, {"role": "shopper", "confirm_password": boss.password},
                  token=token)
    assert r.status_code == 303, text_of(r.text)[:300]
    assert stack.mariadb("SELECT role FROM users WHERE id = %d" % cid) == "shopper"
    assert clerk.admin_get("/orders").status_code == 404, "the old role must not outlive the change"
    assert not clerk.signed_in()
    (action, actor, before, after), = audit_rows(stack, str(cid), "user.role")
    assert actor == boss.email and before["role"] == "staff" and after["role"] == "shopper"

    # promoted again (found by a search, as any account): signing in gives the new role
    r = boss.admin_get("/users?q=%s" % clerk.email.split("@")[0])
    assert clerk.email in r.text
    r = boss.admin_post("/users/%d/role" % cid, {"role": "staff"}, form_path="/users")
    assert r.status_code == 303
    next_code_step(clerk)
    assert clerk.sign_in_with_code().status_code == 303
    assert clerk.admin_get("/orders").status_code == 200
    assert [a[3]["role"] for a in audit_rows(stack, str(cid), "user.role")] == ["shopper", "staff"]
    # CSRF
    r = boss.post(boss.admin + "/users/%d/role" % cid, {"role": "shopper"}, token="f" * 43)
    assert r.status_code == 403
    assert stack.mariadb("SELECT role FROM users WHERE id = %d" % cid) == "staff"


def test_customer_screens_are_hidden_from_shoppers(https_url, tls_cert, mailbox, stack):
    s = Shopper(https_url, tls_cert).register(mailbox, name="Curious")
    admin = admin_path(stack)
    uid = user_id(stack, s.email)
    for who in (s, Shopper(https_url, tls_cert)):
        for method, suffix in (("GET", "/customers"), ("GET", "/customers/%d" % uid), ("GET", "/users"),
                               ("POST", "/customers/%d/disable" % uid), ("POST", "/users/%d/role" % uid)):
            r = who.s.request(method, https_url + admin + suffix, data={"role": "superuser"}, allow_redirects=False,
                              timeout=20, headers={"Origin": who.origin})
            assert r.status_code == 404, (method, suffix, r.status_code)
    assert stack.mariadb("SELECT CONCAT(role, ' ', status) FROM users WHERE id = %d" % uid) == "shopper active"
