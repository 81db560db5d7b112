"""Helpers for tests that act as shoppers: forms with their CSRF token,
registration through the real verification mail, signing in.

    shopper = Shopper(https_url, tls_cert)
    shopper.register(mailbox, name="Ada")       # registered, verified, signed in
    r = shopper.post("/account/profile", {"name": "Ada L."})
"""
import re
import time
import uuid
from urllib.parse import urlsplit

import random

import requests
from requests.adapters import HTTPAdapter

from conftest import new_session


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a given local address: every shopper through nginx gets
    its own 127.x.y.z, so per-address limits see different clients, as they
    would on the internet."""

    def __init__(self, address, **kw):
        self.address = address
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kw)


def loopback_address():
    return "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))

PASSWORD = "correct horse battery staple"
PACE = 0.06          # seconds between one shopper's requests (< 20 r/s)
# a form's hidden field, or the personal header fragment's data-csrf (what
# site.js uses for the forms of shared, cached pages such as "Add to bag")
CSRF_RX = re.compile(r'(?:name="csrf_token" value="|data-csrf=")([^"]+)"')
LINK_RX = re.compile(r"(https?://\S+?(/account/(?:verify|reset/choose)\?token=[A-Za-z0-9_-]+))")


def unique_email(tag="shopper"):
    return "%s-%s@example.com" % (tag, uuid.uuid4().hex[:10])


def mail_link(msg):
    """The account link in a mail's text part, as a path (the mail's host is
    PUBLIC_URL; tests ask the stack they run against)."""
    text = msg.get_body(preferencelist=("plain",)).get_content()
    m = LINK_RX.search(text)
    assert m, "no account link in the mail:\n" + text
    return m.group(2)


class Shopper:
    def __init__(self, base, tls_cert, ip=None):
        self.base = base
        self.s = new_session(tls_cert)
        self.s.headers["User-Agent"] = "shoease-tests shopper"
        u = urlsplit(base)
        self.origin = "%s://%s" % (u.scheme, u.netloc)
        if ip:
            # the app's own port trusts X-Forwarded-For from 127.0.0.1
            self.s.headers["X-Forwarded-For"] = ip
            self.ip = ip
        else:
            self.ip = loopback_address()
            self.s.mount(u.scheme + "://", SourceAddressAdapter(self.ip))
        self.email = None
        self.password = PASSWORD
        self._last = 0.0

    # -- plumbing
    def _pace(self):
        """nginx allows each client 20 requests/s (burst 40), as in
        production; a shopper here keeps under it like a person would, so a
        429 in a test is a limit the test meant to reach."""
        wait = self._last + PACE - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

    def get(self, path, **kw):
        kw.setdefault("timeout", 20)
        self._pace()
        return self.s.get(self.base + path, **kw)

    def token(self, path="/account/login"):
        r = self.get(path)
        m = CSRF_RX.search(r.text)
        assert m, "no CSRF token on %s (%d)" % (path, r.status_code)
        return m.group(1)

    def post(self, path, data=None, token=True, origin=True, form_path=None, **kw):
        data = dict(data or {})
        if token is True:
            data["csrf_token"] = self.token(form_path or path)
        elif token:
            data["csrf_token"] = token
        headers = kw.pop("headers", {})
        if origin:
            headers.setdefault("Origin", self.origin)
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        self._pace()
        return self.s.post(self.base + path, data=data, headers=headers, **kw)

    @property
    def sid(self):
        return self.s.cookies.get("__Host-sid")

    def signed_in(self):
        r = self.get("/account", allow_redirects=False)
        return r.status_code == 200

    # -- journeys
    def register(self, mailbox, name="Test Shopper", email=None, verify=True, sign_in=True):
        self.email = email or unique_email()
        r = self.post("/account/register", {"name": name, "email": self.email, "password": self.password},
                      form_path="/account/register")
        assert r.status_code == 303 and r.headers["Location"] == "/account/register/sent", (r.status_code, r.text[:300])
        if verify:
            msg = mailbox.wait_for(lambda m: m["To"] == self.email and "Confirm" in m["Subject"], timeout=20)
            r = self.get(mail_link(msg))
            assert r.status_code == 200, r.text[:300]
        if sign_in:
            r = self.sign_in()
            assert r.status_code == 303, (r.status_code, r.text[:500])
        return self

    def sign_in(self, email=None, password=None, next_path=None):
        data = {"email": email or self.email, "password": password or self.password}
        if next_path:
            data["next"] = next_path
        return self.post("/account/login", data, form_path="/account/login")

    def sign_out(self):
        r = self.get("/account")
        m = CSRF_RX.search(r.text)
        return self.post("/account/logout", token=m.group(1) if m else True, form_path="/account/login")


def wait(pred, timeout=15, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


# ------------------------------------------------------------------ buying

KEY_RX = re.compile(r'name="checkout_key" value="([^"]+)"')
HIDDEN_RX = re.compile(r'<input type="hidden" name="(expected_standard|expected_express|checkout_key|csrf_token)" value="([^"]*)"')
ADDRESS = {"full_name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "", "city": "London",
           "region": "", "postcode": "SW1Y 4JH", "country": "GB", "phone": ""}


def add_to_bag(shopper, variant_id, quantity=1):
    """POST /cart/add as the product page's form does; returns the response."""
    return shopper.post("/cart/add", {"variant_id": str(variant_id), "quantity": str(quantity)},
                        form_path="/fragments/header")


def checkout_form(shopper):
    """GET /checkout: its hidden fields (csrf_token, checkout_key, expected_*)."""
    r = shopper.get("/checkout", allow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return dict(HIDDEN_RX.findall(r.text))


def place_order(shopper, payment="cod", shipping="standard", address=None, email=None, form=None, **extra):
    """Fill the checkout as a shopper would and place the order; returns the
    POST's response (303 to the order or the card page on success)."""
    form = dict(form or checkout_form(shopper))
    data = dict(ADDRESS if address is None else address)
    data.update(form)
    data.update({"shipping_method": shipping, "payment_method": payment})
    if email:
        data["email"] = email
    data.update(extra)
    data = {k: v for k, v in data.items() if v is not None}
    return shopper.post("/checkout", data, token=data.pop("csrf_token", True), form_path="/checkout")


ORDER_RX = re.compile(r"/(?:orders|checkout/pay)/(SE[0-9A-Z]{10})")


def order_number(location):
    m = ORDER_RX.search(location or "")
    assert m, "no order number in %r" % location
    return m.group(1)


# ------------------------------------------------------------------ staff (the admin portal)

import base64
import hashlib
import hmac
import struct

TOTP_SECRET_RX = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def totp(secret, at=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s) from the base32 key the page shows."""
    s = secret.replace(" ", "").upper()
    key = base64.b32decode(s + "=" * (-len(s) % 8))
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1000000)


def admin_path(stack):
    """The stack's ADMIN_PATH (generated per test stack)."""
    return stack.env_file_values()["ADMIN_PATH"]


class Staff(Shopper):
    """A member of staff: made with `shoease createadmin`, with an
    authenticator app turned on (the test stack requires two-step sign-in
    for the portal, as production does) and signed in with it.

        boss = Staff.create(https_url, tls_cert, shoease_cli, stack, role="superuser")
        r = boss.admin_get("/orders")
        r = boss.admin_post("/products/12", {...})       # the form's token from that page
    """

    @classmethod
    def create(cls, base, tls_cert, cli, stack, role="staff", name=None, two_factor=True):
        s = cls(base, tls_cert)
        s.email = unique_email(role)
        s.admin = admin_path(stack)
        r = cli("createadmin", s.email, "--name", name or ("Test " + role.title()), "--role", role,
                input=s.password + "\n")
        assert r.returncode == 0, "createadmin failed: %s%s" % (r.stdout, r.stderr)
        assert s.sign_in().status_code == 303
        s.secret = None
        if two_factor:
            page = s.get("/account/security/totp")
            m = TOTP_SECRET_RX.search(page.text)
            assert m, "no authenticator key on /account/security/totp (%d)" % page.status_code
            s.secret = m.group(1)
            token = CSRF_RX.search(page.text).group(1)
            r = s.post("/account/security/totp", {"code": totp(s.secret)}, token=token)
            assert r.status_code == 200, (r.status_code, r.text[:300])
            s.sign_out()
            assert s.sign_in_with_code().status_code == 303
        return s

    def sign_in_with_code(self):
        """Password, then the authenticator's code (the next 30 s step's, so
        it is never one used already)."""
        r = self.sign_in()
        assert r.status_code == 303 and r.headers["Location"].startswith("/account/login/verify"), \
            (r.status_code, r.headers.get("Location"))
        return self.post("/account/login/verify", {"method": "totp", "code": totp(self.secret, time.time() + 30)},
                         form_path="/account/login/verify")

    def admin_get(self, suffix, **kw):
        kw.setdefault("allow_redirects", False)
        return self.get(self.admin + suffix, **kw)

    def admin_post(self, suffix, data=None, form_path=None, **kw):
        return self.post(self.admin + suffix, data, form_path=self.admin + (form_path or "/"), **kw)
