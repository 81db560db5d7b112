"""Foundation: the HTTP edge, health checks, process model, logs, `check`.

Black-box tests over the real stack (nginx -> shoease -> MariaDB, Redis,
FerretDB), see conftest.py. They only talk to 127.0.0.1/localhost, and every
load loop is bounded in both time and request count.
"""
import itertools
import json
import os
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import REPO, boottime, new_session, pid_alive, proc_start_time, wait_until

SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                    "Content-Security-Policy", "Permissions-Policy", "X-Request-Id")
# Things an error page must never show.
INTERNALS = ("Traceback", "AddressSanitizer", "src/", ".c:", "errno", "SQLSTATE", "mysql_",
             "mariadb", "MONGO_URI", "SECRET_KEY", "stack trace", str(REPO))


def ok_value(v):
    """Interpret a store's status in /readyz JSON: "ok"/true/{"status": "ok"}."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.lower() in ("ok", "up", "pass", "healthy", "ready")
    if isinstance(v, dict):
        for k in ("status", "ok", "state"):
            if k in v:
                return ok_value(v[k])
    return False


def find_key(obj, key):
    """First value of `key` anywhere in a JSON document (None if absent)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = find_key(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


def readyz(session, https_url):
    try:
        return session.get(https_url + "/readyz", timeout=10)
    except requests.RequestException as e:
        pytest.fail("GET /readyz failed: %r" % e)


# ------------------------------------------------------------------ health

def test_healthz_via_nginx(session, https_url):
    r = session.get(https_url + "/healthz", timeout=10)
    assert r.status_code == 200


def test_readyz_all_stores_ok(session, https_url):
    r = readyz(session, https_url)
    assert r.status_code == 200, r.text[:500]
    assert "json" in r.headers.get("Content-Type", ""), r.headers.get("Content-Type")
    doc = r.json()
    for store in ("mariadb", "redis", "mongodb"):
        v = find_key(doc, store)
        assert v is not None, "/readyz does not name %s: %s" % (store, r.text[:500])
        assert ok_value(v), "%s not ok in /readyz: %s" % (store, r.text[:500])


@pytest.mark.parametrize("store", ["redis", "mongodb", "mariadb"])
def test_readyz_reports_a_store_down_and_recovers(store, stack, session, https_url):
    stack.stop(store)
    try:
        seen = []

        def is_503():
            seen[:] = [readyz(session, https_url)]
            return seen[0].status_code == 503
        assert wait_until(is_503, 10, 0.25), \
            "/readyz did not turn 503 within 10s of stopping %s (last: %s)" % (store, seen[0].status_code)
        r = seen[0]
        assert store in r.text, "/readyz 503 does not name %s: %s" % (store, r.text[:500])
        try:
            doc = r.json()
        except ValueError:
            doc = None
        v = find_key(doc, store)
        if v is not None:
            assert not ok_value(v), "%s reported ok while stopped: %s" % (store, r.text[:500])
        h = session.get(https_url + "/healthz", timeout=10)
        assert h.status_code == 200, "/healthz must not depend on %s" % store
    finally:
        stack.start(store)
    t0 = time.monotonic()
    back = wait_until(lambda: readyz(session, https_url).status_code == 200, 10, 0.2)
    assert back, "/readyz not 200 again within 10s of restarting %s" % store
    assert time.monotonic() - t0 < 10


# ------------------------------------------------------------------ edge

def test_http_redirects_to_https(state, http_url):
    r = new_session().get(http_url + "/some/page?x=1", allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == "https://localhost:%d/some/page?x=1" % state["ports"]["HTTPS_PORT"]


def test_unknown_host_rejected_via_nginx(session, https_url):
    r = session.get(https_url + "/", headers={"Host": "evil.example"}, timeout=10, allow_redirects=False)
    assert r.status_code == 400


def test_unknown_host_rejected_direct(direct, direct_url):
    r = direct.get(direct_url + "/", headers={"Host": "evil.example"}, timeout=10, allow_redirects=False)
    assert r.status_code == 400


def test_allowed_host_with_port_accepted(session, https_url):
    # nginx passes Host with its port (localhost:28443); ALLOWED_HOSTS has no ports
    r = session.get(https_url + "/healthz", timeout=10)
    assert r.status_code == 200


def check_security_headers(r, https):
    missing = [h for h in SECURITY_HEADERS if not r.headers.get(h)]
    if https:
        if not r.headers.get("Strict-Transport-Security"):
            missing.append("Strict-Transport-Security")
    assert not missing, "%s %s lacks %s" % (r.status_code, r.url, ", ".join(missing))
    assert r.headers["X-Content-Type-Options"].lower() == "nosniff"
    assert r.headers["X-Frame-Options"].upper() == "DENY"
    assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path,host,status", [
    ("/healthz", None, 200),
    ("/no-such-page-%s" % uuid.uuid4().hex[:8], None, 404),
    ("/", "evil.example", 400),
])
def test_security_headers_via_nginx(session, https_url, path, host, status):
    r = session.get(https_url + path, headers={"Host": host} if host else {}, timeout=10,
                    allow_redirects=False)
    assert r.status_code == status
    check_security_headers(r, https=True)


@pytest.mark.parametrize("path,host,status", [
    ("/healthz", None, 200),
    ("/no-such-page-%s" % uuid.uuid4().hex[:8], None, 404),
    ("/", "evil.example", 400),
])
def test_security_headers_direct(direct, direct_url, path, host, status):
    r = direct.get(direct_url + path, headers={"Host": host} if host else {}, timeout=10,
                   allow_redirects=False)
    assert r.status_code == status
    check_security_headers(r, https=False)


def test_request_ids_are_unique(session, https_url):
    ids = {session.get(https_url + "/healthz", timeout=10).headers.get("X-Request-Id") for _ in range(5)}
    assert None not in ids and len(ids) == 5


def test_unknown_path_is_404_html_without_internals(session, https_url):
    r = session.get(https_url + "/definitely/not/here", timeout=10)
    assert r.status_code == 404
    assert r.headers.get("Content-Type", "").startswith("text/html")
    for s in INTERNALS:
        assert s not in r.text, "404 page shows %r" % s


@pytest.mark.parametrize("via", ["nginx", "direct"])
def test_oversize_header_rejected(via, raw, https_url, direct_url, session, direct):
    base = https_url if via == "nginx" else direct_url
    r = raw(base, "/healthz", headers={"Cookie": "big=" + "x" * 65536})
    assert r.status is not None, "no response to a 64 KiB header (%s)" % r.error
    assert 400 <= r.status < 500, "64 KiB header got %s" % r.status
    # and the server is still alive
    s = session if via == "nginx" else direct
    assert s.get(base + "/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("via", ["nginx", "direct"])
def test_oversize_body_413(via, raw, https_url, direct_url):
    base = https_url if via == "nginx" else direct_url
    r = raw(base, "/", method="POST", body=b"a" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 413, "2 MiB POST got %s (%s)" % (r.status, r.error)


@pytest.mark.parametrize("via", ["nginx", "direct"])
@pytest.mark.parametrize("target", ["/search?q=%zz", "/search?q=%ff%fe"])
def test_invalid_url_encoding_400(via, target, raw, https_url, direct_url):
    base = https_url if via == "nginx" else direct_url
    r = raw(base, target)
    assert r.status == 400, "%s got %s" % (target, r.status)
    body = r.body.decode("utf-8", "replace").lower()
    assert any(w in body for w in ("encod", "utf-8", "utf8", "percent", "invalid", "malformed")), \
        "400 for %s should say what is wrong: %r" % (target, body[:300])
    for s in INTERNALS:
        assert s not in r.body.decode("utf-8", "replace")


def test_trusted_proxy_http_is_redirected_to_https(direct, direct_url):
    # 127.0.0.1 is in TRUSTED_PROXIES in the test config, so the app believes
    # X-Forwarded-Proto: the original request was plain HTTP -> go to HTTPS.
    r = direct.get(direct_url + "/healthz?x=1", headers={"X-Forwarded-Proto": "http"},
                   allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers.get("Location", "").startswith("https://")


def test_trusted_proxy_https_is_served(direct, direct_url):
    r = direct.get(direct_url + "/healthz", headers={"X-Forwarded-Proto": "https"},
                   allow_redirects=False, timeout=10)
    assert r.status_code == 200


# ------------------------------------------------------------------ static files (nginx)

def test_media_served_by_nginx_with_cache_and_security_headers(state, session, https_url):
    media = Path(state["paths"]["media_dir"])
    name = "probe-%s.css" % uuid.uuid4().hex[:8]
    (media / name).write_text("body { color: #123456; }\n" * 100)
    try:
        r = session.get(https_url + "/media/" + name, headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert r.status_code == 200
        assert "immutable" in r.headers.get("Cache-Control", "")
        assert r.headers.get("Content-Encoding") == "gzip"
        assert r.headers.get("X-Content-Type-Options") == "nosniff"
        assert r.headers.get("X-Frame-Options") == "DENY"
        assert r.headers.get("Strict-Transport-Security")
        assert "#123456" in r.text
    finally:
        (media / name).unlink()


# ------------------------------------------------------------------ process model

def run_load(url, threads=8, seconds=5.0, max_requests=20000, during=None):
    """GET url from `threads` threads (a new connection per request) for
    `seconds`, at most max_requests in all. `during` runs in this thread
    meanwhile; the load stops when both are done. Returns (ok, failures)."""
    stop = threading.Event()
    counter = itertools.count()
    lock = threading.Lock()
    ok, failures = [0], []

    def worker():
        while not stop.is_set() and next(counter) < max_requests:
            # A fresh session (so a fresh connection) per request: a pooled
            # connection the server has just closed would fail for reasons
            # unrelated to what is measured.
            s = new_session()
            try:
                r = s.get(url, timeout=5, headers={"Connection": "close"})
                good = r.status_code == 200
                err = r.status_code
            except requests.RequestException as e:
                good, err = False, repr(e)[:200]
            finally:
                s.close()
            with lock:
                if good:
                    ok[0] += 1
                else:
                    failures.append(err)

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    try:
        if during:
            during()
        remaining = seconds - (time.monotonic() - t0)
        if remaining > 0:
            time.sleep(remaining)
    finally:
        stop.set()
        for t in ts:
            t.join(timeout=10)
    return ok[0], failures


def test_kill_9_worker_under_load(stack, direct_url, kill):
    assert stack.wait_workers(2), "expected >= 2 workers (WORKERS=2), have %s" % stack.worker_pids()
    before = set(stack.worker_pids())
    result = {}

    def during():
        time.sleep(1.5)
        victim = min(before)
        t0 = boottime()
        kill(victim, signal.SIGKILL)
        new = wait_until(lambda: set(stack.worker_pids()) - before, 5, 0.02)
        # Measured by the new worker's start time in /proc, not by when this
        # (busy) test process noticed it.
        starts = [proc_start_time(p) for p in new or ()]
        starts = [t for t in starts if t is not None]
        result["respawn_s"] = (min(starts) - t0) if starts else None
        result["victim"] = victim

    ok, failures = run_load(direct_url + "/healthz", threads=8, seconds=5, during=during)
    assert ok > 0, "no request succeeded: %s" % failures[:5]
    assert result["respawn_s"] is not None, "no new worker within 5s of kill -9 %d" % result["victim"]
    assert result["respawn_s"] <= 1.0, "new worker started %.2fs after kill -9" % result["respawn_s"]
    assert len(failures) <= 8, "%d failed requests (> in-flight): %s" % (len(failures), failures[:5])
    assert not pid_alive(result["victim"])
    assert len(stack.worker_pids()) >= len(before)


def test_sighup_reload_under_load_drops_nothing(stack, direct_url):
    assert stack.wait_workers(2), "expected >= 2 workers, have %s" % stack.worker_pids()
    graceful = int(stack.env_file_values().get("GRACEFUL_TIMEOUT", "10"))
    master = stack.master_pid()
    before = set(stack.worker_pids())
    result = {}

    def during():
        time.sleep(1.0)
        os.kill(master, signal.SIGHUP)
        t0 = time.monotonic()
        changed = wait_until(lambda: (lambda now: now and not (now & before) and len(now) >= len(before))(
            set(stack.worker_pids())), graceful + 2, 0.05)
        result["changed_s"] = time.monotonic() - t0 if changed else None
        time.sleep(1.0)  # keep the load on the new workers a little longer

    ok, failures = run_load(direct_url + "/healthz", threads=8, seconds=4, during=during)
    assert stack.master_pid() == master, "the master must survive SIGHUP"
    assert result["changed_s"] is not None, \
        "workers not all replaced within GRACEFUL_TIMEOUT=%ds: before %s, now %s" % (
            graceful, sorted(before), stack.worker_pids())
    assert result["changed_s"] <= graceful
    assert ok > 0
    assert not failures, "%d requests failed during SIGHUP reload: %s" % (len(failures), failures[:5])


def test_stuck_request_gets_its_worker_replaced(stack, direct_url):
    """A request running longer than WORKER_TIMEOUT (5 s in the test stack)
    gets its worker killed and replaced; the master and the other worker
    keep serving meanwhile. /__test/sleep exists only with TEST_HOOKS=1."""
    assert stack.wait_workers(2), "expected >= 2 workers, have %s" % stack.worker_pids()
    timeout_s = int(stack.env_file_values().get("WORKER_TIMEOUT", "5"))
    master = stack.master_pid()
    before = set(stack.worker_pids())
    log = stack.log_path("app")
    log_start = log.stat().st_size
    t0 = time.monotonic()
    with pytest.raises(requests.RequestException):
        # the worker dies under this request: no answer comes
        requests.get(direct_url + "/__test/sleep?ms=%d" % ((timeout_s + 20) * 1000), timeout=timeout_s + 15)
    waited = time.monotonic() - t0
    assert timeout_s - 0.5 <= waited <= timeout_s + 5, "killed after %.1fs (WORKER_TIMEOUT=%ds)" % (waited, timeout_s)
    assert wait_until(lambda: len(set(stack.worker_pids()) - before) >= 1 and len(stack.worker_pids()) >= 2, 3), \
        "no replacement worker: before %s, now %s" % (sorted(before), stack.worker_pids())
    assert stack.master_pid() == master
    assert requests.get(direct_url + "/healthz", timeout=5).status_code == 200
    with open(log, errors="replace") as fh:
        fh.seek(log_start)
        text = fh.read()
    assert "WORKER_TIMEOUT" in text, "the master should log why it killed the worker"
    # a short sleep is fine
    r = requests.get(direct_url + "/__test/sleep?ms=50", timeout=5)
    assert r.status_code == 200 and r.json() == {"slept_ms": 50}


def test_test_hooks_refused_in_production(shoease_cli, tmp_path):
    env = tmp_path / "prod.env"
    env.write_text("SHOEASE_ENV=production\nSECRET_KEY=%s\nALLOWED_HOSTS=shop.example\nADMIN_PATH=/p-9f8e7d\n"
                   "MARIADB_PASSWORD=x\nTEST_HOOKS=1\n" % ("k" * 48))
    r = shoease_cli("check", env={"SHOEASE_ENV_FILE": str(env), "SHOEASE_ENV": "production"})
    assert r.returncode != 0
    assert "TEST_HOOKS" in (r.stdout + r.stderr)


# ------------------------------------------------------------------ logs

def access_log_path(stack):
    v = stack.env_file_values().get("ACCESS_LOG", "-")
    if v and v != "-":
        p = Path(v)
        return p if p.is_absolute() else REPO / p
    return stack.log_path("app")


def test_access_log_has_json_lines(stack, direct, direct_url, session, https_url):
    probe = "/access-log-probe-%s" % uuid.uuid4().hex
    r1 = direct.get(direct_url + probe, timeout=10)
    r2 = session.get(https_url + probe + "-tls", timeout=10)
    path = access_log_path(stack)

    def find():
        found = {}
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith("{") or "access-log-probe" not in line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            p = str(doc.get("path", ""))
            if p == probe:
                found["direct"] = doc
            elif p == probe + "-tls":
                found["tls"] = doc
        return found if len(found) == 2 else None

    found = wait_until(find, 5, 0.2)
    assert found, "no JSON access-log lines for %s in %s" % (probe, path)
    for how, doc in found.items():
        for k in ("request_id", "method", "path", "status", "bytes", "duration_ms"):
            assert k in doc, "access log line (%s) lacks %s: %s" % (how, k, doc)
        assert doc["method"] == "GET"
        assert int(doc["status"]) == 404
    assert found["direct"]["request_id"] == r1.headers.get("X-Request-Id")
    assert found["tls"]["request_id"] == r2.headers.get("X-Request-Id")


# ------------------------------------------------------------------ CLI

def test_check_refuses_example_settings_in_production(shoease_cli):
    r = shoease_cli("check", env={"SHOEASE_ENV": "production",
                                  "SHOEASE_ENV_FILE": str(REPO / ".env.example")})
    out = r.stdout + r.stderr
    assert r.returncode != 0, "check passed production with .env.example:\n" + out
    assert "SECRET_KEY" in out


def test_check_names_each_problem(shoease_cli):
    with tempfile.NamedTemporaryFile("w", suffix=".env", delete=False) as f:
        f.write("SHOEASE_ENV=production\nSECRET_KEY=change-me\nDEBUG=1\nALLOWED_HOSTS=\n")
        path = f.name
    try:
        r = shoease_cli("check", env={"SHOEASE_ENV_FILE": path, "SHOEASE_ENV": None,
                                      "SECRET_KEY": None, "DEBUG": None, "ALLOWED_HOSTS": None})
    finally:
        os.unlink(path)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    for key in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"):
        assert key in out, "`shoease check` does not name %s:\n%s" % (key, out)


def test_check_passes_in_development(shoease_cli):
    r = shoease_cli("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_version(shoease_cli):
    r = shoease_cli("version")
    assert r.returncode == 0, r.stderr
    assert (r.stdout + r.stderr).strip()
