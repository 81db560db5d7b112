"""The admin portal's ground rules, over HTTPS through nginx: a secret path
that is the ordinary 404 for everyone but staff, staff only with two-step
sign-in, the password again before dangerous actions, `shoease
createadmin` / `admin-url`, and the append-only audit log.

The screens (catalogue, orders, customers, jobs, dashboard) have their own
test files (test_admin_*.py)."""
import re
import time
import uuid

import pytest

from shoppers import CSRF_RX, Shopper, Staff, admin_path, unique_email

REQUEST_ID_RX = re.compile(r"[0-9a-f]{32}")
# what differs between any two answers: the request id, the date
VOLATILE = {"x-request-id", "date"}


def comparable(r):
    headers = {k.lower(): v for k, v in r.headers.items() if k.lower() not in VOLATILE}
    return r.status_code, headers, REQUEST_ID_RX.sub("<id>", r.text)


@pytest.fixture
def admin(stack):
    return admin_path(stack)


@pytest.fixture
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff")


def test_admin_path_is_an_ordinary_404_for_everyone_else(https_url, tls_cert, mailbox, admin, session):
    guessed = "/staff-" + uuid.uuid4().hex[:20]
    anonymous = Shopper(https_url, tls_cert)
    shopper = Shopper(https_url, tls_cert).register(mailbox, name="Curious Shopper")
    probes = [("GET", "/"), ("GET", ""), ("GET", "/audit"), ("GET", "/audit?q=x&page=2"), ("POST", "/audit"),
              ("GET", "/login"), ("GET", "/orders/123"), ("POST", "/__test/danger"), ("DELETE", "/")]
    for who in (anonymous, shopper):
        for method, suffix in probes:
            real = who.s.request(method, https_url + admin + suffix, allow_redirects=False, timeout=20,
                                 headers={"Origin": who.origin})
            fake = who.s.request(method, https_url + guessed + suffix, allow_redirects=False, timeout=20,
                                 headers={"Origin": who.origin})
            assert real.status_code == 404, (method, suffix, real.status_code)
            assert comparable(real) == comparable(fake), (method, suffix)
            assert "set-cookie" not in {k.lower() for k in real.headers}
    # a shopper's session cookie is not touched either, and stays valid
    assert shopper.signed_in()


def test_staff_need_two_step_sign_in_for_the_portal(https_url, tls_cert, shoease_cli, stack, admin):
    plain = Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", two_factor=False)
    r = plain.admin_get("/")
    assert r.status_code == 403 and "two-step sign-in" in r.text
    assert "private, no-store" in r.headers["Cache-Control"]


def test_staff_with_two_step_sign_in_see_the_portal(staff, admin):
    r = staff.admin_get("/")
    assert r.status_code == 200
    assert "private, no-store" in r.headers["Cache-Control"]
    assert 'href="%s/audit"' % admin in r.text
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert "noindex" in r.text
    r = staff.admin_get("")
    assert r.status_code == 200
    # an unknown screen under the real path is the ordinary 404 too
    assert staff.admin_get("/nothing-here").status_code == 404


def test_createadmin_and_admin_url(shoease_cli, stack, admin, https_url, tls_cert):
    r = shoease_cli("admin-url")
    assert r.returncode == 0 and r.stdout.strip().endswith(admin + "/")
    email = unique_email("owner")
    # refused: a short or common password, a bad address, a bad role, no password at all
    for args, pw in ((["createadmin", email], "short\n"), (["createadmin", email], "password123\n"),
                     (["createadmin", "not-an-address"], "a long enough password here\n"),
                     (["createadmin", email, "--role", "shopper"], "a long enough password here\n"),
                     (["createadmin", email], "")):
        r = shoease_cli(*args, input=pw)
        assert r.returncode != 0, (args, r.stdout)
        assert r.stderr.strip(), "a refusal says why"
    assert stack.mariadb("SELECT COUNT(*) FROM users WHERE email = '%s'" % email) == "0"
    r = shoease_cli("createadmin", email, "--name", "Owner", input="a long enough password here\n")
    assert r.returncode == 0, r.stderr
    row = stack.mariadb_rows("SELECT role, email_verified_at IS NOT NULL FROM users WHERE email = '%s'" % email)
    assert row == [["superuser", "1"]]
    # an existing shopper made staff: the password stays theirs
    s = Shopper(https_url, tls_cert)
    s.email = unique_email("promoted")
    r = shoease_cli("createadmin", s.email, "--role", "staff", input="a long enough password here\n")
    assert r.returncode == 0
    r = shoease_cli("createadmin", s.email, "--role", "superuser", input="some other long password\n")
    assert r.returncode == 0 and "unchanged" in r.stdout
    assert s.sign_in(password="a long enough password here").status_code == 303
    actions = stack.mariadb_rows("SELECT action, actor, after_json FROM audit_log WHERE entity = 'user' AND "
                                 "entity_id = (SELECT id FROM users WHERE email = '%s') ORDER BY id" % s.email)
    assert [a[0] for a in actions] == ["user.create", "user.role"]
    assert all(a[1].startswith("cli:") for a in actions)
    assert '"superuser"' in actions[1][2]
    # no password hash or secret in the log
    assert "argon2" not in stack.mariadb("SELECT GROUP_CONCAT(after_json) FROM audit_log")


def test_audit_log_is_listed_searchable_and_append_only(staff, stack, admin, shoease_cli):
    email = unique_email("audited")
    assert shoease_cli("createadmin", email, "--role", "staff", input="a long enough password here\n").returncode == 0
    uid = stack.mariadb("SELECT id FROM users WHERE email = '%s'" % email)
    r = staff.admin_get("/audit?q=%s" % uid)
    assert r.status_code == 200 and "user.create" in r.text and email in r.text
    r = staff.admin_get("/audit?entity=user&action=user.create&page=1")
    assert r.status_code == 200 and "user.create" in r.text
    r = staff.admin_get("/audit?q=%s&csv=1" % uid)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.text.splitlines()[0].startswith("id,at (UTC),actor")
    assert "user.create" in r.text
    # nothing can rewrite it, not even the app's own database user
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(RuntimeError) as err:
            stack.mariadb(sql, readonly=False)
        assert "append-only" in str(err.value)


def test_dangerous_actions_ask_for_the_password_again(staff, stack):
    # just signed in: the password is fresh, the action goes through
    r = staff.admin_post("/__test/danger", {"what": "first"})
    assert r.status_code == 200 and "done: first" in r.text
    # some time later (the session's proof made old): asked for it, with the same form
    key = stack.qredis("KEYS", "sess:*").split()
    sid_key = __import__("hashlib").blake2b(staff.sid.encode(), digest_size=32).hexdigest()
    assert "sess:" + sid_key in key
    stack.qredis("HSET", "sess:" + sid_key, "auth", str(int(time.time()) - 3600))
    r = staff.admin_post("/__test/danger", {"what": "second"})
    assert r.status_code == 403 and "Confirm it is you" in r.text
    assert 'name="what" value="second"' in r.text and 'name="confirm_password"' in r.text
    token = CSRF_RX.search(r.text).group(1)
    r = staff.post(staff.admin + "/__test/danger", {"what": "second", "confirm_password": "wrong password here"},
                   token=token)
    assert r.status_code == 403 and "not your password" in r.text
    r = staff.post(staff.admin + "/__test/danger", {"what": "second", "confirm_password": staff.password},
                   token=token)
    assert r.status_code == 200 and "done: second" in r.text
    # and it covers the next few minutes
    r = staff.admin_post("/__test/danger", {"what": "third"})
    assert r.status_code == 200 and "done: third" in r.text
    # still CSRF-checked first
    r = staff.post(staff.admin + "/__test/danger", {"what": "x"}, token="f" * 43)
    assert r.status_code == 403 and "expired" in r.text
