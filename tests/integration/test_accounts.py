"""Accounts, sessions, CSRF and abuse limits, over HTTPS through nginx
(and the app's own port where a test needs its own client address: the
stack trusts X-Forwarded-For from 127.0.0.1).

The route-table test walks `shoease routes`: every state-changing route is
CSRF-checked, every non-public route refuses an anonymous caller."""
import json
import hashlib
import re
import time
import uuid

import pytest

from conftest import wait_until
from paced import call
from shoppers import CSRF_RX, PASSWORD, Shopper, mail_link, unique_email


@pytest.fixture
def shopper(https_url, tls_cert):
    return Shopper(https_url, tls_cert)


def new_shopper(https_url, tls_cert, ip=None):
    return Shopper(https_url, tls_cert, ip=ip)


def fill(pattern):
    return re.sub(r"\{[a-z_]+\}", lambda m: "1" if m.group(0) == "{id}" else "x" * 64 if m.group(0) == "{key}" else "nothing-here", pattern)


# ------------------------------------------------------------------ the route table

def test_every_route_declares_its_policy_and_it_holds(shoease_cli, session, https_url, direct, direct_url):
    r = shoease_cli("routes")
    assert r.returncode == 0, r.stderr
    routes = json.loads(r.stdout)
    assert len(routes) > 20
    # requests paced under nginx's limit (20 r/s, burst 40): the table has outgrown one burst
    for route in routes:
        if route["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            assert route["csrf"] or route["csrf_exempt"], "%s %s changes state without a CSRF check" % (
                route["method"], route["pattern"])
            assert route["cache"] == "personal", "%s %s changes state but is marked shared" % (route["method"], route["pattern"])
        if route["access"] == "loopback":
            r = call(session, "GET", https_url + fill(route["pattern"]), timeout=15)
            assert r.status_code == 404, route
            continue
        if route["access"] == "anyone" and not route["mfa_step"]:
            continue
        path = fill(route["pattern"])
        if route.get("hidden"):
            # the admin portal: to anyone but staff, the ordinary 404 (test_admin.py compares it byte for byte)
            assert route["access"] in ("staff", "superuser"), route
            r = call(session, route["method"], https_url + path, data={"x": "1"}, headers={"Origin": https_url},
                     timeout=15)
            assert r.status_code == 404, (route, r.status_code)
            continue
        if route["method"] == "GET":
            r = call(session, "GET", https_url + path, timeout=15)
            if path.startswith("/api/"):
                assert r.status_code == 401, (route, r.status_code)
            else:
                assert r.status_code == 303, (route, r.status_code)
                assert r.headers["Location"].startswith("/account/login"), (route, r.headers["Location"])
        else:
            # no session, no token: refused before anything else
            r = call(session, "POST", https_url + path, data={"x": "1"}, headers={"Origin": https_url}, timeout=15)
            assert r.status_code in (401, 403), (route, r.status_code)
        assert "private" in r.headers.get("Cache-Control", "") or r.status_code in (303, 401, 403)


# ------------------------------------------------------------------ register, verify, sign in, sign out

def test_register_verify_sign_in_sign_out(shopper, mailbox, session, https_url, stack):
    email = unique_email("journey")
    r = shopper.post("/account/register", {"name": "Ada Lovelace", "email": email.upper(), "password": PASSWORD},
                     form_path="/account/register")
    assert r.status_code == 303 and r.headers["Location"] == "/account/register/sent"
    assert "Check your inbox" in shopper.get("/account/register/sent").text
    msg = mailbox.wait_for(lambda m: m["To"] == email, timeout=20)   # stored lower-case
    assert "Confirm" in msg["Subject"]
    link = mail_link(msg)
    # not verified yet: signing in works, saved data waits
    shopper.email = email
    before = shopper.sid
    r = shopper.sign_in()
    assert r.status_code == 303 and r.headers["Location"] == "/account"
    assert shopper.sid and shopper.sid != before, "the session id must change at sign-in"
    page = shopper.get("/account")
    assert page.status_code == 200 and "Ada Lovelace" in page.text and "confirm your e-mail" in page.text.lower()
    cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("__Host-sid=")][0]
    for attr in ("Path=/", "HttpOnly", "Secure", "SameSite=Lax"):
        assert attr in cookie, cookie
    assert "Domain=" not in cookie
    # verify through the link (single use)
    r = shopper.get(link, allow_redirects=False)
    assert r.status_code == 303
    assert "confirm your e-mail" not in shopper.get("/account").text.lower()
    r = shopper.get(link)
    assert r.status_code == 410 and "used already" in r.text
    # sign out: the old cookie is dead server-side
    old = shopper.sid
    r = shopper.sign_out()
    assert r.status_code == 303
    assert not shopper.signed_in()
    ghost = Shopper(https_url, session.verify)
    ghost.s.cookies.set("__Host-sid", old, domain="localhost")
    assert not ghost.signed_in(), "a signed-out session id must not work again"


def test_forged_or_garbage_session_cookie_is_anonymous(https_url, tls_cert):
    s = new_shopper(https_url, tls_cert)
    for value in ("A" * 43, "not-a-session", "x" * 200, "../../etc"):
        s.s.cookies.set("__Host-sid", value, domain="localhost")
        r = s.get("/account", allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].startswith("/account/login")
        s.s.cookies.clear()


def test_duplicate_registration_says_the_same_and_tells_the_owner(https_url, tls_cert, mailbox):
    owner = new_shopper(https_url, tls_cert).register(mailbox, name="Owner")
    other = new_shopper(https_url, tls_cert)
    r = other.post("/account/register", {"name": "Mallory", "email": owner.email, "password": "another long password"},
                   form_path="/account/register")
    assert r.status_code == 303 and r.headers["Location"] == "/account/register/sent"
    note = mailbox.wait_for(lambda m: m["To"] == owner.email and "already" in m.get_body(("plain",)).get_content(),
                            timeout=20)
    assert note
    # the stranger's password does not open the account
    assert other.sign_in(owner.email, "another long password").status_code == 403


@pytest.mark.parametrize("email,password,field,message", [
    ("not-an-email", PASSWORD, "email", "e-mail address like"),
    ("ok-%s@example.com", "short", "password", "at least 10"),
    ("ok-%s@example.com", "password123", "password", "most common"),
    ("ok-%s@example.com", "x" * 129, "password", "at most 128"),
])
def test_bad_registration_input(https_url, tls_cert, mailbox, email, password, field, message):
    s = new_shopper(https_url, tls_cert)
    address = email % uuid.uuid4().hex[:8] if "%s" in email else email
    r = s.post("/account/register", {"name": "X", "email": address, "password": password}, form_path="/account/register")
    assert r.status_code == 422
    assert message in r.text
    assert 'id="f-%s-error"' % field in r.text
    time.sleep(0.5)
    assert not mailbox.messages(lambda m: m["To"] == address), "nothing may be created for bad input"


# ------------------------------------------------------------------ CSRF

def test_csrf_missing_wrong_or_cross_site_is_refused(https_url, tls_cert, mailbox):
    s = new_shopper(https_url, tls_cert).register(mailbox)
    page = s.get("/account/profile") if s.get("/account/profile").status_code == 200 else s.get("/account")
    token = CSRF_RX.search(page.text).group(1)
    cases = [
        dict(token=None, origin=True),                    # missing
        dict(token="A" * len(token), origin=True),          # wrong, same length
        dict(token=token + "x", origin=True),               # wrong length
    ]
    for c in cases:
        r = s.post("/account/logout", token=c["token"] or False, origin=c["origin"])
        assert r.status_code == 403, c
        assert "reload" in r.text.lower()
    # the right token from another site's page
    r = s.post("/account/logout", token=token, origin=False, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = s.post("/account/logout", token=token, origin=False, headers={"Referer": "https://evil.example/x"})
    assert r.status_code == 403
    assert s.signed_in(), "refused requests changed nothing"
    # a token is bound to its session: another session's token does not work
    other = new_shopper(https_url, tls_cert)
    r = other.post("/account/logout", token=token)
    assert r.status_code == 403


# ------------------------------------------------------------------ password reset

def test_reset_does_not_enumerate_and_works_once(https_url, tls_cert, mailbox, stack):
    s = new_shopper(https_url, tls_cert).register(mailbox, name="Resetter")
    second_device = new_shopper(https_url, tls_cert)
    second_device.email = s.email
    assert second_device.sign_in().status_code == 303
    stranger = unique_email("nobody")
    a = new_shopper(https_url, tls_cert).post("/account/reset", {"email": s.email}, form_path="/account/reset")
    b = new_shopper(https_url, tls_cert).post("/account/reset", {"email": stranger}, form_path="/account/reset")
    assert a.status_code == b.status_code == 200
    # the same page but for the address typed and each visitor's own form token
    same = lambda r, email: CSRF_RX.sub("csrf", r.text.replace(email, ""))
    assert same(a, s.email) == same(b, stranger)
    msg = mailbox.wait_for(lambda m: m["To"] == s.email and "password" in m["Subject"].lower(), timeout=30)
    time.sleep(1)
    assert not mailbox.messages(lambda m: m["To"] == stranger)
    link = mail_link(msg)
    fresh = new_shopper(https_url, tls_cert)
    page = fresh.get(link)
    assert page.status_code == 200 and "new password" in page.text.lower()
    token = link.split("token=")[1]
    r = fresh.post("/account/reset/choose", {"token": token, "password": "password123"}, form_path=link)
    assert r.status_code == 422 and "most common" in r.text
    r = fresh.post("/account/reset/choose", {"token": token, "password": "a brand new long password"}, form_path=link)
    assert r.status_code == 303 and r.headers["Location"] == "/account/login"
    # used up; old password gone; every session ended
    assert fresh.get(link).status_code == 410
    assert s.sign_in(password=PASSWORD).status_code == 403
    assert not second_device.signed_in()
    assert s.sign_in(password="a brand new long password").status_code == 303
    # a forged token
    r = fresh.get("/account/reset/choose?token=" + "A" * 43)
    assert r.status_code == 410
    assert fresh.get("/account/reset/choose?token=short").status_code == 400


# ------------------------------------------------------------------ brute force

def test_wrong_passwords_lock_the_address_then_the_account(tls_cert, mailbox, https_url):
    """Each Shopper connects from its own 127.x.y.z address (nginx passes it
    on), so these are different clients to the app."""
    victim = new_shopper(https_url, tls_cert).register(mailbox, name="Victim")
    # one attacker address: locked out of this account after 5 tries
    attacker = new_shopper(https_url, tls_cert)
    for i in range(5):
        r = attacker.sign_in(victim.email, "wrong password number %d" % i)
        assert r.status_code in (403, 429), r.status_code
    r = attacker.sign_in(victim.email, PASSWORD)
    assert r.status_code == 429, "the right password must not work through a lock"
    assert int(r.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in r.text
    # the owner, from elsewhere, is not locked out by it
    owner = new_shopper(https_url, tls_cert)
    owner.email = victim.email
    assert owner.sign_in().status_code == 303
    # many addresses: the account locks for a while and its owner is told
    for n in range(6):
        a = new_shopper(https_url, tls_cert)
        for i in range(2):
            a.sign_in(victim.email, "still wrong %d %d" % (n, i))
    msg = mailbox.wait_for(lambda m: m["To"] == victim.email and "locked" in m["Subject"].lower(), timeout=30)
    assert msg
    late = new_shopper(https_url, tls_cert)
    late.email = victim.email
    assert late.sign_in().status_code == 429
    # a password reset ends every lock
    reset = new_shopper(https_url, tls_cert)
    reset.post("/account/reset", {"email": victim.email}, form_path="/account/reset")
    link = mail_link(mailbox.wait_for(lambda m: m["To"] == victim.email and "new password" in m["Subject"].lower(), timeout=30))
    token = link.split("token=")[1]
    assert reset.post("/account/reset/choose", {"token": token, "password": "lock is over now friend"},
                      form_path=link).status_code == 303
    assert late.sign_in(password="lock is over now friend").status_code == 303


def test_registration_rate_limit_per_address(https_url, tls_cert):
    s = new_shopper(https_url, tls_cert)
    codes = []
    for i in range(12):
        r = s.post("/account/register", {"name": "", "email": "bad-address-%d" % i, "password": "x"},
                   form_path="/account/register")
        codes.append(r.status_code)
    assert codes[:10] == [422] * 10, codes
    assert codes[10] == 429 and int(r.headers["Retry-After"]) > 0, codes


# ------------------------------------------------------------------ nothing personal in shared pages

def test_shared_pages_never_carry_a_shoppers_data(https_url, tls_cert, mailbox, catalog_seeded):
    a = new_shopper(https_url, tls_cert).register(mailbox, name="Alice Zebedee")
    b = new_shopper(https_url, tls_cert).register(mailbox, name="Bartholomew Quince")
    for path in ("/", "/shoes", "/category/men", "/search?q=boot"):
        ra, rb = a.get(path), b.get(path)
        assert ra.status_code == rb.status_code == 200
        assert "Alice Zebedee" not in ra.text + rb.text and "Bartholomew Quince" not in ra.text + rb.text
        assert ra.text == rb.text, path
        assert "Set-Cookie" not in ra.headers, path
        assert "public" in ra.headers["Cache-Control"]
    ha, hb = a.get("/fragments/header"), b.get("/fragments/header")
    assert "Alice Zebedee" in ha.text and "Bartholomew Quince" not in ha.text
    assert "Bartholomew Quince" in hb.text and "Alice Zebedee" not in hb.text
    assert "no-store" in ha.headers["Cache-Control"]
    anon = new_shopper(https_url, tls_cert).get("/fragments/header")
    assert "Sign in" in anon.text


def test_access_log_names_the_user_id_never_the_email(https_url, tls_cert, mailbox, stack):
    s = new_shopper(https_url, tls_cert).register(mailbox, name="Logged")
    marker = "/account?probe=%s" % uuid.uuid4().hex
    assert s.get(marker).status_code == 200
    deadline = time.time() + 10
    line = None
    while time.time() < deadline and not line:
        for l in stack.log_path("app").read_text(errors="replace").splitlines():
            if marker.split("?")[1] in l and l.startswith("{"):
                line = json.loads(l)
        time.sleep(0.2)
    assert line and line.get("uid", 0) > 0, line
    log = stack.log_path("app").read_text(errors="replace")
    assert s.email not in log and PASSWORD not in log


# ------------------------------------------------------------------ SMS sign-in and codes

def verified_phone_shopper(https_url, tls_cert, mailbox, sms_gateway):
    s = new_shopper(https_url, tls_cert).register(mailbox, name="Phoney")
    number = "+4477009%05d" % (uuid.uuid4().int % 100000)
    r = s.post("/account/security/phone", {"phone": number}, form_path="/account/security")
    assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    m = sms_gateway.wait_for(lambda m: m["to"] == number, timeout=20)
    code = re.search(r"\b(\d{6})\b", m["body"]).group(1)
    r = s.post("/account/security/phone/confirm", {"code": code}, form_path="/account/security")
    assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    return s, number


def test_sms_sign_in_code_expiry_tries_and_cooldown(https_url, tls_cert, mailbox, sms_gateway, stack):
    owner, number = verified_phone_shopper(https_url, tls_cert, mailbox, sms_gateway)
    s = new_shopper(https_url, tls_cert)
    r = s.post("/account/login/sms", {"phone": number}, form_path="/account/login/sms")
    assert r.status_code == 200 and "code is on its way" in r.text
    m = sms_gateway.wait_for(lambda m: m["to"] == number and "sign-in" in m["body"], timeout=20)
    code = re.search(r"\b(\d{6})\b", m["body"]).group(1)
    # asking again at once: the cool-down
    r = s.post("/account/login/sms", {"phone": number}, form_path="/account/login/sms")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # wrong codes, then the right one (5 tries in all)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for _ in range(4):
        r = s.post("/account/login/sms/code", {"phone": number, "code": wrong}, form_path="/account/login/sms")
        assert r.status_code == 403
    r = s.post("/account/login/sms/code", {"phone": number, "code": code}, form_path="/account/login/sms")
    assert r.status_code == 303 and s.signed_in()
    # used once
    t = new_shopper(https_url, tls_cert)
    r = t.post("/account/login/sms/code", {"phone": number, "code": code}, form_path="/account/login/sms")
    assert r.status_code == 410
    # an unknown number gets the same answer and no message
    stranger = "+4477001%05d" % (uuid.uuid4().int % 100000)
    r = t.post("/account/login/sms", {"phone": stranger}, form_path="/account/login/sms")
    assert r.status_code == 200 and "code is on its way" in r.text
    time.sleep(1)
    assert not sms_gateway.messages(lambda m: m["to"] == stranger)
    # expiry: age the live code past its 5 minutes
    stack.qredis("DEL", "otp:cool:sms-login:" + number)
    u = new_shopper(https_url, tls_cert)
    u.post("/account/login/sms", {"phone": number}, form_path="/account/login/sms")
    m = sms_gateway.wait_for(lambda m: m["to"] == number, timeout=20, count=2)[-1]
    code = re.search(r"\b(\d{6})\b", m["body"]).group(1)
    stack.qredis("PEXPIRE", "otp:sms-login:" + number, "1")
    time.sleep(0.1)
    r = u.post("/account/login/sms/code", {"phone": number, "code": code}, form_path="/account/login/sms")
    assert r.status_code == 410 and "expired" in r.text
    # too many wrong tries ends the code (in a fresh quarter-hour of the
    # number's check limit, which the tries above have used up)
    stack.qredis("DEL", "otp:cool:sms-login:" + number)
    stack.qredis("DEL", "rl:otp-check:acct:" + hashlib.blake2b(number.encode(), digest_size=16).hexdigest())
    v = new_shopper(https_url, tls_cert)
    v.post("/account/login/sms", {"phone": number}, form_path="/account/login/sms")
    m = sms_gateway.wait_for(lambda m: m["to"] == number, timeout=20, count=3)[-1]
    code = re.search(r"\b(\d{6})\b", m["body"]).group(1)
    wrong = "%06d" % ((int(code) + 7) % 1000000)
    statuses = [v.post("/account/login/sms/code", {"phone": number, "code": wrong}, form_path="/account/login/sms").status_code
                for _ in range(5)]
    assert statuses[-1] == 410, statuses
    r = v.post("/account/login/sms/code", {"phone": number, "code": code}, form_path="/account/login/sms")
    assert r.status_code == 410, "the right code must not work after the tries are used up"


def test_sessions_survive_a_durable_redis_restart(https_url, tls_cert, mailbox, stack):
    """Sessions live in the durable Redis (AOF): a restart keeps them, and
    the app's idle connections to the old server are made again before use,
    so no request fails because of the restart."""
    s = new_shopper(https_url, tls_cert).register(mailbox, name="Restart Test")
    assert s.signed_in()
    stack.restart("qredis")
    answers = [s.get("/account", allow_redirects=False).status_code for _ in range(12)]
    assert answers == [200] * 12, answers
