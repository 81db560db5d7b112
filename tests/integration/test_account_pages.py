"""The signed-in shopper's account pages, over HTTPS through nginx: profile,
addresses, saved sizes and brands, security (devices, password, phone,
two-step sign-in with an authenticator app and recovery codes), orders,
deleting the account.

Every shopper here is registered through the real verification mail and
connects from its own loopback address (127.x.y.z), so the per-address
limits of one test never meet another's. Each state change is also tried
without its CSRF token (403, nothing changed)."""
import html
import random
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
from requests.adapters import HTTPAdapter

from conftest import new_session
from shoppers import totp

PASSWORD = "pages test password for shoes"
NEW_PASSWORD = "another long pass phrase here"
CSRF_RX = re.compile(r'name="csrf_token" value="([^"]+)"')
VERIFY_RX = re.compile(r"https?://[^/\s]+(/account/verify\?token=[A-Za-z0-9_-]+)")
ADDRESS_ID_RX = re.compile(r'href="/account/addresses/(\d+)/edit"')
SESSION_KEY_RX = re.compile(r'action="/account/sessions/([0-9a-f]{64})/end"')
SECRET_RX = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
CODE_RX = re.compile(r'<code class="recovery-code">([a-z2-7]{5}-[a-z2-7]{5})</code>')
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"


# ------------------------------------------------------------------ helpers

class _FromAddress(HTTPAdapter):
    """Connect from a given loopback address (nginx sees a client of its own)."""

    def __init__(self, address, **kw):
        self.address = address
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kw)


def unique_email(tag):
    return "%s-%s@example.com" % (tag, uuid.uuid4().hex[:12])


def unique_phone():
    return "+4477009%05d" % random.randint(0, 99999)


def field_error(page, name):
    """The message shown beside input `name` (account/field.mustache), or None."""
    m = re.search(r'<p class="field__error" id="f-%s-error">([^<]*)</p>' % re.escape(name), page)
    return html.unescape(m.group(1)) if m else None


class Shopper:
    """A browser: its own cookies and loopback address."""

    def __init__(self, base, tls_cert, user_agent="shoease-tests pages"):
        self.base = base
        u = urlsplit(base)
        self.origin = "%s://%s" % (u.scheme, u.netloc)
        self.s = new_session(tls_cert)
        self.s.headers["User-Agent"] = user_agent
        self.ip = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))
        self.s.mount(u.scheme + "://", _FromAddress(self.ip))
        self.email = None
        self.password = PASSWORD

    def get(self, path, **kw):
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        return self.s.get(self.base + path, **kw)

    def token(self, path):
        r = self.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        m = CSRF_RX.search(r.text)
        assert m, "no CSRF token on %s" % path
        return m.group(1)

    def post(self, path, data=None, form=None, token=True):
        """POST a form the way a browser does: the token from the page the
        form is on (`form`, default `path`), and an Origin header."""
        data = dict(data or {})
        if token is True:
            data["csrf_token"] = self.token(form or path)
        elif token:
            data["csrf_token"] = token
        return self.s.post(self.base + path, data=data, headers={"Origin": self.origin}, timeout=30,
                           allow_redirects=False)

    @property
    def sid(self):
        return self.s.cookies.get("__Host-sid")

    def signed_in(self):
        return self.get("/account").status_code == 200

    def register(self, mailbox, name="Page Tester", email=None, verify=True, sign_in=True):
        self.email = email or unique_email("pages")
        before = {p.name for p in mailbox.paths()}
        r = self.post("/account/register", {"name": name, "email": self.email, "password": self.password})
        assert r.status_code == 303 and r.headers["Location"] == "/account/register/sent", (r.status_code, r.text[:300])
        if verify:
            msg = mailbox.wait_for(lambda m: m.path.name not in before and m["To"] == self.email
                                   and "Confirm" in m["Subject"], timeout=20)
            m = VERIFY_RX.search(msg.text)
            assert m, "no verification link in:\n" + msg.text
            r = self.get(m.group(1))   # the link's host is PUBLIC_URL: ask our stack
            assert r.status_code == 200, (r.status_code, r.text[:300])
        if sign_in:
            r = self.sign_in()
            assert r.status_code == 303 and r.headers["Location"] == "/account", (r.status_code, r.text[:300])
        return self

    def sign_in(self, password=None, email=None):
        return self.post("/account/login", {"email": email or self.email, "password": password or self.password})

    def sign_out(self):
        return self.post("/account/logout", form="/account")


def shopper(https_url, tls_cert, mailbox, **kw):
    agent = kw.pop("user_agent", "shoease-tests pages")
    return Shopper(https_url, tls_cert, user_agent=agent).register(mailbox, **kw)


GB_HOME = {"full_name": "Ada Lovelace", "line1": "10 Downing Street", "line2": "", "city": "London",
           "region": "", "postcode": "sw1a2aa", "country": "GB", "phone": "+44 7700 900123"}
FR_FLAT = {"full_name": "Ada L.", "line1": "5 rue de Rivoli", "line2": "Bâtiment B", "city": "Paris",
           "region": "Île-de-France", "postcode": "75001", "country": "FR", "phone": ""}


def address_ids(page):
    return [int(x) for x in ADDRESS_ID_RX.findall(page)]


def add_address(s, data, expect=303):
    r = s.post("/account/addresses/new", data)
    assert r.status_code == expect, (r.status_code, r.text[:500])
    return r


def refused_without_token(s, path, data=None):
    """A state change without its token: 403, whatever else is right."""
    r = s.post(path, data or {}, token=None)
    assert r.status_code == 403, (path, r.status_code)
    assert "expired or was sent from somewhere else" in r.text
    return r


# ------------------------------------------------------------------ profile

def test_profile_name_change_greets_the_new_name(https_url, tls_cert, mailbox):
    s = shopper(https_url, tls_cert, mailbox, name="Ada")
    page = s.get("/account/profile")
    assert page.status_code == 200
    assert "private" in page.headers["Cache-Control"] and "no-store" in page.headers["Cache-Control"]
    assert s.email in page.text and "Confirmed" in page.text
    assert 'href="/account/profile" aria-current="page"' in page.text
    assert 'value="Ada"' in page.text
    assert "Ada" in s.get("/fragments/header").text

    refused_without_token(s, "/account/profile", {"name": "Mallory"})
    assert "Mallory" not in s.get("/fragments/header").text

    r = s.post("/account/profile", {"name": "Ada Byron"})
    assert r.status_code == 303 and r.headers["Location"] == "/account/profile"
    page = s.get("/account/profile").text
    assert "Your profile is saved." in page and 'value="Ada Byron"' in page
    assert "Ada Byron" in s.get("/fragments/header").text

    r = s.post("/account/profile", {"name": "x" * 101})
    assert r.status_code == 422
    assert "at most 100 characters" in field_error(r.text, "name")
    assert "Ada Byron" in s.get("/fragments/header").text


def test_profile_shows_an_unconfirmed_address(https_url, tls_cert, mailbox):
    s = Shopper(https_url, tls_cert).register(mailbox, verify=False)
    page = s.get("/account/profile")
    assert page.status_code == 200 and "Not confirmed yet" in page.text and s.email in page.text


# ------------------------------------------------------------------ addresses

def test_addresses_add_normalise_edit_default_and_delete(https_url, tls_cert, mailbox):
    s = shopper(https_url, tls_cert, mailbox)
    page = s.get("/account/addresses")
    assert page.status_code == 200 and "no saved addresses" in page.text
    assert 'href="/account/addresses" aria-current="page"' in page.text
    form = s.get("/account/addresses/new").text
    assert '<option value="GB" selected>United Kingdom</option>' in form and '<option value="NZ">New Zealand</option>' in form

    refused_without_token(s, "/account/addresses/new", GB_HOME)
    assert "no saved addresses" in s.get("/account/addresses").text
    r = add_address(s, GB_HOME)
    assert r.headers["Location"] == "/account/addresses"
    page = s.get("/account/addresses").text
    assert "The address is saved." in page
    assert "SW1A 2AA" in page and "sw1a2aa" not in page, "the postcode is stored in its canonical form"
    assert "+447700900123" in page and "United Kingdom" in page
    assert "Default address" in page, "the first address is the default"
    [home] = address_ids(page)

    add_address(s, FR_FLAT)
    add_address(s, dict(GB_HOME, line1="221B Baker Street", postcode="NW1 6XE", phone=""))
    page = s.get("/account/addresses").text
    ids = address_ids(page)
    assert len(ids) == 3 and ids[0] == home, "the default is listed first"
    flat, baker = sorted(set(ids) - {home})
    assert "Bâtiment B" in page and "75001" in page and "France" in page

    # edit: the form shows what is saved; the change is kept
    form = s.get("/account/addresses/%d/edit" % flat).text
    assert 'value="5 rue de Rivoli"' in form and '<option value="FR" selected>France</option>' in form
    refused_without_token(s, "/account/addresses/%d/edit" % flat, dict(FR_FLAT, line1="forged"))
    r = s.post("/account/addresses/%d/edit" % flat, dict(FR_FLAT, line1="7 rue de Rivoli", postcode="75004"))
    assert r.status_code == 303 and r.headers["Location"] == "/account/addresses"
    page = s.get("/account/addresses").text
    assert "7 rue de Rivoli" in page and "5 rue de Rivoli" not in page and "forged" not in page

    # default switching
    refused_without_token(s, "/account/addresses/%d/default" % baker)
    r = s.post("/account/addresses/%d/default" % baker, form="/account/addresses")
    assert r.status_code == 303
    page = s.get("/account/addresses").text
    assert address_ids(page)[0] == baker and "That is now your default address." in page
    assert page.count("Default address") == 1

    # deleting the default makes the newest remaining address the default
    refused_without_token(s, "/account/addresses/%d/delete" % baker)
    assert address_ids(s.get("/account/addresses").text)[0] == baker
    r = s.post("/account/addresses/%d/delete" % baker, form="/account/addresses")
    assert r.status_code == 303
    page = s.get("/account/addresses").text
    assert "The address is deleted." in page
    assert address_ids(page) == [flat, home], "the newest remaining one is the default now"
    assert page.count("Default address") == 1

    # deleting one that is not the default leaves the default alone
    assert s.post("/account/addresses/%d/delete" % home, form="/account/addresses").status_code == 303
    assert address_ids(s.get("/account/addresses").text) == [flat]
    assert s.post("/account/addresses/%d/delete" % flat, form="/account/addresses").status_code == 303
    assert "no saved addresses" in s.get("/account/addresses").text
    # gone is gone
    assert s.get("/account/addresses/%d/edit" % flat).status_code == 404


@pytest.mark.parametrize("change, field, message", [
    ({"postcode": "12345"}, "postcode", "Enter a UK postcode"),
    ({"postcode": "SW1A 1A"}, "postcode", "Enter a UK postcode"),
    ({"postcode": "QW1A 1AA"}, "postcode", "Enter a UK postcode"),
    ({"postcode": ""}, "postcode", "Enter the postcode."),
    ({"postcode": "1234<5>", "country": "FR"}, "postcode", "letters, digits, spaces and hyphens"),
    ({"line1": ""}, "line1", "Enter the first line of the address."),
    ({"line1": "   "}, "line1", "Enter the first line of the address."),
    ({"full_name": ""}, "full_name", "Enter the name of the person"),
    ({"city": "Lon\x01don"}, "city", "Remove the special characters"),
    ({"line2": "Flat 1\nLondon"}, "line2", "Remove the special characters"),
    ({"country": "XX"}, "country", "Choose one of the countries we deliver to."),
    ({"country": "GBR"}, "country", "Choose one of the countries we deliver to."),
    ({"country": ""}, "country", "Choose the country."),
    ({"phone": "07700 900123"}, "phone", "with its country code"),
    ({"full_name": "x" * 101}, "full_name", "at most 100 characters"),
    ({"line1": "x" * 121}, "line1", "at most 120 characters"),
])
def test_address_validation_refuses_and_saves_nothing(https_url, tls_cert, mailbox, change, field, message):
    s = shopper(https_url, tls_cert, mailbox)
    data = dict(GB_HOME, **change)
    r = add_address(s, data, expect=422)
    got = field_error(r.text, field)
    assert got and message in got, (field, got, r.text[-3000:])
    assert r.text.count('class="field__error"') == 1, "one message, beside its field"
    # the form comes back with what was typed (except what was refused as unprintable)
    if field != "full_name":
        assert 'value="Ada Lovelace"' in r.text
    assert address_ids(s.get("/account/addresses").text) == [], "nothing is saved"


def test_address_book_holds_twenty(https_url, tls_cert, mailbox):
    s = shopper(https_url, tls_cert, mailbox)
    token = s.token("/account/addresses/new")
    for i in range(20):
        r = s.post("/account/addresses/new", dict(GB_HOME, line1="%d Acacia Avenue" % (i + 1)), token=token)
        assert r.status_code == 303, (i, r.status_code)
    r = s.post("/account/addresses/new", dict(GB_HOME, line1="21 Acacia Avenue"), token=token)
    assert r.status_code == 422 and "up to 20 addresses" in r.text
    page = s.get("/account/addresses").text
    assert len(address_ids(page)) == 20 and "21 Acacia Avenue" not in page
    assert "Add an address</a>" not in page and "as many as an account can keep" in page


def test_another_shopper_cannot_see_or_change_an_address(https_url, tls_cert, mailbox):
    owner = shopper(https_url, tls_cert, mailbox)
    add_address(owner, GB_HOME)
    add_address(owner, FR_FLAT)
    first, second = sorted(address_ids(owner.get("/account/addresses").text))
    other = shopper(https_url, tls_cert, mailbox)
    add_address(other, dict(GB_HOME, full_name="Zebedee Quux"))
    assert other.get("/account/addresses/%d/edit" % first).status_code == 404
    for path, data in (("/account/addresses/%d/edit" % first, dict(GB_HOME, line1="Hijacked")),
                       ("/account/addresses/%d/delete" % first, {}),
                       ("/account/addresses/%d/default" % second, {})):
        r = other.post(path, data, form="/account/addresses")
        assert r.status_code == 404, (path, r.status_code)
    # unknown ids are the same 404; a malformed one is a 400
    assert owner.get("/account/addresses/999999999/edit").status_code == 404
    assert owner.post("/account/addresses/999999999/delete", form="/account/addresses").status_code == 404
    assert owner.get("/account/addresses/abc/edit").status_code == 400
    page = owner.get("/account/addresses").text
    assert sorted(address_ids(page)) == [first, second] and "Hijacked" not in page
    assert address_ids(page)[0] == first, "the default did not move"
    assert "Zebedee Quux" not in page


def test_unverified_shopper_is_asked_to_verify_before_saved_data(https_url, tls_cert, mailbox):
    s = Shopper(https_url, tls_cert).register(mailbox, verify=False)
    for path in ("/account/addresses", "/account/addresses/new", "/account/addresses/1/edit", "/account/preferences",
                 "/account/orders"):
        r = s.get(path)
        assert r.status_code == 303 and r.headers["Location"] == "/account/verify/needed", (path, r.status_code)
    token = s.token("/account")
    r = s.post("/account/addresses/new", GB_HOME, token=token)
    assert r.status_code == 303 and r.headers["Location"] == "/account/verify/needed"
    # what does not need a verified address still works
    assert s.get("/account/security").status_code == 200
    assert s.get("/account/profile").status_code == 200


# ------------------------------------------------------------------ sizes and brands

def choices(page, name):
    """[(value, checked)] of the checkboxes named `name`, in page order."""
    out = []
    for m in re.finditer(r'<input type="checkbox" id="[^"]*" name="%s" value="([^"]+)"( checked)?>' % name, page):
        out.append((html.unescape(m.group(1)), bool(m.group(2))))
    return out


def test_sizes_and_brands_are_saved_and_shown(https_url, tls_cert, mailbox, catalog_seeded):
    s = shopper(https_url, tls_cert, mailbox)
    page = s.get("/account/preferences")
    assert page.status_code == 200 and 'href="/account/preferences" aria-current="page"' in page.text
    sizes = [v for v, _ in choices(page.text, "size")]
    brands = [v for v, _ in choices(page.text, "brand")]
    assert len(sizes) >= 4 and len(brands) >= 2, (sizes, brands)
    assert all(v.startswith("uk-") for v in sizes), sizes
    numbers = [float(v[3:]) for v in sizes]
    assert numbers == sorted(numbers), "sizes are sorted numerically: %s" % sizes
    assert not any(c for _, c in choices(page.text, "size") + choices(page.text, "brand"))

    want_sizes, want_brand = [sizes[1], sizes[-1]], brands[0]
    refused_without_token(s, "/account/preferences", {"size": want_sizes})
    r = s.post("/account/preferences", {"size": want_sizes + [sizes[1]], "brand": [want_brand]})
    assert r.status_code == 303 and r.headers["Location"] == "/account/preferences"
    page = s.get("/account/preferences").text
    assert "Your sizes and brands are saved." in page
    assert [v for v, c in choices(page, "size") if c] == want_sizes
    assert [v for v, c in choices(page, "brand") if c] == [want_brand]

    # an unknown value is refused with a message, and nothing changes
    r = s.post("/account/preferences", {"size": [sizes[0], "uk-99"], "brand": [want_brand]})
    assert r.status_code == 422 and 'id="size-error"' in r.text and "uk-99" in r.text
    assert [v for v, c in choices(r.text, "size") if c] == [sizes[0]], "the form shows what was ticked"
    r = s.post("/account/preferences", {"size": [sizes[0]], "brand": ["no-such-brand"]})
    assert r.status_code == 422 and 'id="brand-error"' in r.text and "no-such-brand" in r.text
    page = s.get("/account/preferences").text
    assert [v for v, c in choices(page, "size") if c] == want_sizes
    assert [v for v, c in choices(page, "brand") if c] == [want_brand]

    # saving nothing clears both
    assert s.post("/account/preferences", {}).status_code == 303
    page = s.get("/account/preferences").text
    assert not any(c for _, c in choices(page, "size") + choices(page, "brand"))


# ------------------------------------------------------------------ devices

def test_sessions_listed_and_other_devices_signed_out(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox)
    phone = Shopper(https_url, tls_cert, user_agent=FIREFOX)
    phone.email = me.email
    assert phone.sign_in().status_code == 303 and phone.signed_in()

    page = me.get("/account/security")
    assert page.status_code == 200 and 'href="/account/security" aria-current="page"' in page.text
    assert "This device" in page.text and "Firefox on Windows" in page.text and "shoease-tests pages" in page.text
    assert phone.ip in page.text and "Last active just now" in page.text
    keys = SESSION_KEY_RX.findall(page.text)
    assert len(keys) == 1, "one other device, with a sign-out button; none for this one"

    refused_without_token(me, "/account/sessions/%s/end" % keys[0])
    assert phone.signed_in()
    # a key that is not one of mine
    r = me.post("/account/sessions/%s/end" % ("ab" * 32), form="/account/security")
    assert r.status_code == 404
    r = me.post("/account/sessions/%s/end" % keys[0], form="/account/security")
    assert r.status_code == 303 and r.headers["Location"] == "/account/security"
    page = me.get("/account/security").text
    assert "That device is signed out." in page and not SESSION_KEY_RX.findall(page)
    r = phone.get("/account")
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/login")

    # sign out everywhere else
    assert phone.sign_in().status_code == 303 and phone.signed_in()
    tablet = Shopper(https_url, tls_cert)
    tablet.email = me.email
    assert tablet.sign_in().status_code == 303
    assert len(SESSION_KEY_RX.findall(me.get("/account/security").text)) == 2
    refused_without_token(me, "/account/sessions/end-others")
    assert phone.signed_in() and tablet.signed_in()
    r = me.post("/account/sessions/end-others", form="/account/security")
    assert r.status_code == 303
    assert "Signed out on 2 other devices." in me.get("/account/security").text
    assert not phone.signed_in() and not tablet.signed_in() and me.signed_in()


def test_password_change_signs_out_other_devices_and_keeps_this_one(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox)
    other = Shopper(https_url, tls_cert)
    other.email = me.email
    assert other.sign_in().status_code == 303

    refused_without_token(me, "/account/security/password",
                          {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    r = me.post("/account/security/password", {"current_password": "not my password at all", "new_password": NEW_PASSWORD},
                form="/account/security")
    assert r.status_code == 403 and "not your current password" in field_error(r.text, "pw-current_password")
    r = me.post("/account/security/password", {"current_password": PASSWORD, "new_password": "short"},
                form="/account/security")
    assert r.status_code == 422 and field_error(r.text, "pw-new_password")
    assert other.signed_in(), "a refused change signs nobody out"

    before = me.sid
    r = me.post("/account/security/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                form="/account/security")
    assert r.status_code == 303 and r.headers["Location"] == "/account/security"
    assert me.sid and me.sid != before, "this device gets a new session id"
    page = me.get("/account/security")
    assert page.status_code == 200 and "Password changed; other devices are signed out" in page.text
    assert not other.signed_in()
    # the old password is gone, the new one works
    fresh = Shopper(https_url, tls_cert)
    fresh.email = me.email
    assert fresh.sign_in(PASSWORD).status_code != 303
    assert fresh.sign_in(NEW_PASSWORD).status_code == 303


# ------------------------------------------------------------------ phone

def sms_code(sms_gateway, number, seen=()):
    msg = sms_gateway.wait_for(lambda m: m["to"] == number and m.get("sid") not in seen, timeout=20)
    m = re.search(r"\b(\d{6})\b", msg["body"])
    assert m, msg
    return m.group(1), msg.get("sid")


def test_phone_verified_with_the_texted_code_then_used_for_two_step(https_url, tls_cert, mailbox, sms_gateway):
    me = shopper(https_url, tls_cert, mailbox)
    number = unique_phone()
    spaced = "%s %s %s" % (number[:3], number[3:7], number[7:])
    refused_without_token(me, "/account/security/phone", {"phone": spaced})
    r = me.post("/account/security/phone", {"phone": "0770090"}, form="/account/security")
    assert r.status_code == 422 and "country code" in field_error(r.text, "ph-phone")
    r = me.post("/account/security/phone", {"phone": spaced}, form="/account/security")
    assert r.status_code == 303 and r.headers["Location"] == "/account/security/phone/confirm"
    code, _ = sms_code(sms_gateway, number)
    page = me.get("/account/security/phone/confirm")
    assert page.status_code == 200 and "sent a code by text message" in page.text

    refused_without_token(me, "/account/security/phone/confirm", {"code": code})
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = me.post("/account/security/phone/confirm", {"code": wrong})
    assert r.status_code == 403 and "not right" in field_error(r.text, "code")
    r = me.post("/account/security/phone/confirm", {"code": code})
    assert r.status_code == 303 and r.headers["Location"] == "/account/security"
    page = me.get("/account/security").text
    assert "Your phone number is confirmed." in page and number in page and "Confirmed" in page

    # two-step sign-in by text message: the password again, then a new session id
    refused_without_token(me, "/account/security/two-step", {"kind": "sms", "password": PASSWORD})
    r = me.post("/account/security/two-step", {"kind": "sms", "password": "wrong password, sorry"},
                form="/account/security")
    assert r.status_code == 403 and field_error(r.text, "ts-password")
    before = me.sid
    r = me.post("/account/security/two-step", {"kind": "sms", "password": PASSWORD}, form="/account/security")
    assert r.status_code == 303 and me.sid != before
    page = me.get("/account/security").text
    assert "we text to your number ending %s" % number[-3:] in page

    # signing in now needs the texted code
    seen = {m.get("sid") for m in sms_gateway.messages(lambda m: m["to"] == number)}
    laptop = Shopper(https_url, tls_cert)
    laptop.email = me.email
    r = laptop.sign_in()
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/login/verify")
    code, _ = sms_code(sms_gateway, number, seen)
    r = laptop.post("/account/login/verify", {"method": "sms", "code": code})
    assert r.status_code == 303 and laptop.signed_in()

    # and off again
    r = me.post("/account/security/two-step", {"kind": "none", "password": PASSWORD}, form="/account/security")
    assert r.status_code == 303
    assert "Two-step sign-in is off." in me.get("/account/security").text
    assert Shopper(https_url, tls_cert).sign_in(email=me.email).headers["Location"] == "/account"


def test_sms_two_step_needs_a_confirmed_phone(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox)
    r = me.post("/account/security/two-step", {"kind": "sms", "password": PASSWORD}, form="/account/security")
    assert r.status_code == 422 and "Verify a phone number first." in r.text


# ------------------------------------------------------------------ authenticator app, recovery codes

def second_step(s, method, code):
    r = s.sign_in()
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/login/verify"), r.headers.get("Location")
    return s.post("/account/login/verify", {"method": method, "code": code})


def test_authenticator_app_enrolment_sign_in_and_recovery_codes(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox)
    page = me.get("/account/security/totp")
    assert page.status_code == 200 and '<div class="qr"><svg' in page.text
    assert "&lt;svg" not in page.text, "the QR code is our own SVG, rendered as markup"
    secret = SECRET_RX.search(page.text).group(1)
    assert len(secret.replace(" ", "")) == 32

    # (the token from this page: fetching the page again would start over with a new key)
    token = CSRF_RX.search(page.text).group(1)
    refused_without_token(me, "/account/security/totp", {"code": totp(secret)})
    code = totp(secret)
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    r = me.post("/account/security/totp", {"code": wrong}, token=token)
    assert r.status_code == 403 and field_error(r.text, "code") and 'class="qr"' not in r.text
    assert 'href="/account/security/totp">scan a new one</a>' in r.text
    before = me.sid
    r = me.post("/account/security/totp", {"code": code}, token=token)
    assert r.status_code == 200 and "Location" not in r.headers, "the codes are shown on this answer, once"
    assert "no-store" in r.headers["Cache-Control"]
    codes = CODE_RX.findall(r.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/account/security">I have saved them</a>' in r.text
    assert me.sid != before, "turning on two-step sign-in renews the session id"
    page = me.get("/account/security").text
    assert "code from your authenticator app" in page and "10 unused recovery codes" in page
    assert not CODE_RX.findall(page), "codes are never shown again"

    # sign out; signing in asks for the app's code (the next step's: the enrolment one is used)
    assert me.sign_out().status_code == 303 and not me.signed_in()
    r = second_step(me, "totp", totp(secret, time.time() + 30))
    assert r.status_code == 303 and me.signed_in()

    # a recovery code works once
    me.sign_out()
    r = second_step(me, "recovery", codes[3].upper())
    assert r.status_code == 303 and me.signed_in()
    me.sign_out()
    r = second_step(me, "recovery", codes[3])
    assert r.status_code == 403 and not me.signed_in()
    r = me.post("/account/login/verify", {"method": "recovery", "code": codes[4]})
    assert r.status_code == 303 and me.signed_in()
    assert "8 unused recovery codes" in me.get("/account/security").text

    # new codes: the password again; the old ones stop working
    refused_without_token(me, "/account/security/recovery", {"password": PASSWORD})
    r = me.post("/account/security/recovery", {"password": "not the password"}, form="/account/security")
    assert r.status_code == 403 and field_error(r.text, "rc-password")
    r = me.post("/account/security/recovery", {"password": PASSWORD}, form="/account/security")
    assert r.status_code == 200 and "Location" not in r.headers
    fresh = CODE_RX.findall(r.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    me.sign_out()
    assert second_step(me, "recovery", codes[5]).status_code == 403
    r = me.post("/account/login/verify", {"method": "recovery", "code": fresh[0]})
    assert r.status_code == 303 and me.signed_in()

    # turning it off asks for the password, and then signing in is one step
    r = me.post("/account/security/two-step", {"kind": "none", "password": PASSWORD}, form="/account/security")
    assert r.status_code == 303
    me.sign_out()
    r = me.sign_in()
    assert r.status_code == 303 and r.headers["Location"] == "/account"


# ------------------------------------------------------------------ orders

def test_orders_page_says_nothing_yet(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox)
    page = me.get("/account/orders")
    assert page.status_code == 200 and "You have not ordered anything yet" in page.text
    assert 'href="/shoes"' in page.text and 'href="/account/orders" aria-current="page"' in page.text


def test_overview_links_the_pages_and_marks_itself(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox, name="Grace")
    add_address(me, GB_HOME)
    page = me.get("/account").text
    assert 'href="/account" aria-current="page"' in page and page.count('aria-current="page"') == 1
    for path in ("/account/orders", "/account/profile", "/account/addresses", "/account/preferences",
                 "/account/security"):
        assert 'href="%s"' % path in page
    assert "SW1A 2AA" in page, "the default address is summarised"


# ------------------------------------------------------------------ delete my account

def test_delete_account(https_url, tls_cert, mailbox):
    me = shopper(https_url, tls_cert, mailbox, name="Leaving Soon")
    add_address(me, GB_HOME)
    other = Shopper(https_url, tls_cert)
    other.email = me.email
    assert other.sign_in().status_code == 303

    page = me.get("/account/delete")
    assert page.status_code == 200
    for words in ("What we erase", "saved addresses", "browsing history", "What we keep", "tax law"):
        assert words in page.text
    refused_without_token(me, "/account/delete", {"password": PASSWORD})
    r = me.post("/account/delete", {"password": "certainly not it"})
    assert r.status_code == 403 and field_error(r.text, "password")
    assert me.signed_in() and other.signed_in()

    r = me.post("/account/delete", {"password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert me.get("/").status_code == 200
    # the message waits in the new visitor session for the next personal page
    assert "Your account is deleted" in me.get("/account/login").text
    r = me.get("/account")
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/login")
    assert not other.signed_in(), "every device is signed out"
    assert Shopper(https_url, tls_cert).sign_in(email=me.email).status_code != 303

    # the address can make a new account (a new confirmation mail, not "already registered")
    again = Shopper(https_url, tls_cert).register(mailbox, email=me.email, name="Back Again")
    page = again.get("/account").text
    assert "Back Again" in page and "Leaving Soon" not in page
    assert "no saved addresses" in again.get("/account/addresses").text
