"""loadgen.py — what checkout_bench.py and signin_bench.py share (standard
library only; the rest comes from common.py and store_bench.py):

  - shoppers prepared through the app's own port (APP_PORT, which trusts
    X-Forwarded-For/-Proto from 127.0.0.1, TRUSTED_PROXIES): sessions, bags,
    forms with their CSRF tokens — fast, and each prepared shopper gets an
    address of its own (198.18.0.0/15, the range set aside for benchmarks),
    so the app's per-address limits never see the preparation as one client;
  - the measured requests sent once each through the stack's real nginx over
    HTTPS (its limit_req in place) by wrk with bench/wrk/once.lua, every wrk
    connection from a loopback address of its own (bench/wrk/srcaddr.c, an
    LD_PRELOAD shim), so per-address limits see many clients, as they would
    on the internet, and are not what is measured;
  - a private nginx (store_bench.private_nginx_conf: the stack's config
    without limit_req) for the loads that are one client by nature (the
    static-file reference, the cached page at tens of thousands of req/s);
  - SQL as the app's MariaDB user, /metrics, `shoease jobs list --json`.
"""
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

from common import HERE, INSTANCE, STACK, REPO, CannotMeasure, release_test_stack, same_stack, say

ONCE_LUA = HERE / "wrk" / "once.lua"
SHIM_SRC = HERE / "wrk" / "srcaddr.c"
LIVE = ("pending_payment", "paid", "cod_confirmed", "shipped", "delivered")
CSRF_RX = re.compile(r'(?:name="csrf_token" value="|data-csrf=")([^"]+)"')
SID_RX = re.compile(r"__Host-sid=([^;]+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_shim(tmp):
    """Compile bench/wrk/srcaddr.c into tmp; its path."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise CannotMeasure("no C compiler (cc) to build bench/wrk/srcaddr.c")
    out = Path(tmp) / "srcaddr.so"
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(out), str(SHIM_SRC), "-ldl"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise CannotMeasure("building %s failed:\n%s" % (SHIM_SRC, r.stderr))
    return str(out)


class Nets:
    """Second octets for the shim (127.NET.x.y): a fresh one for every wrk
    run, so what nginx and the app counted per address in one run (the app
    counts per minute or longer) never carries into the next."""

    def __init__(self):
        self.n = random.randint(20, 120)

    def next(self):
        self.n = self.n + 1 if self.n < 250 else 20
        return self.n


def wrk_once(lines_file, port, conns, threads, duration, shim, net, timeout="5s", close=False, rotate=0):
    """Send each prepared request of lines_file once through nginx
    (https://127.0.0.1:port), every connection from its own 127.net.x.y
    (close: every request on a new connection, so from a new address;
    rotate=N: about every N-th, see once.lua).
    Returns once.lua's figures (see there) plus 'raw'."""
    host = "localhost:%d" % port
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%s" % duration, "--timeout", timeout, "--latency",
            "-s", str(ONCE_LUA), "https://127.0.0.1:%d/" % port, "--",
            str(lines_file), host, "https://" + host, str(threads)] + \
        (["close"] if close else ["rotate=%d" % rotate] if rotate else [])
    env = dict(os.environ, LD_PRELOAD=shim, SRCADDR_NET=str(net))
    secs = float(re.sub(r"[a-z]+$", "", duration)) * {"s": 1, "m": 60}.get(duration[-1], 1)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 60, env=env)
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        out = "wrk did not finish in time"
    m = re.search(r"^ONCE (\{.*\})$", out, re.M)
    res = json.loads(m.group(1)) if m else {"answered": 0, "secs": 0, "status": {}, "location": {}}
    res.setdefault("status", {})
    res.setdefault("location", {})
    if isinstance(res["status"], list):   # an empty Lua table prints as {}
        res["status"] = {}
    res["raw"] = out
    return res


# ------------------------------------------------------------------ SQL

class Sql:
    """SQL as the app's MariaDB user over the stack's socket (the password
    through the environment, not argv), like tests/integration's
    Stack.mariadb. readonly=True runs the session READ ONLY."""

    def __init__(self, state):
        e = state.get("env", {})
        self.argv = ["mariadb", "--no-defaults", "--socket=%s" % state["paths"]["mariadb_socket"],
                     "--user=%s" % e["MARIADB_USER"], "--database=%s" % e["MARIADB_DATABASE"], "--batch",
                     "--skip-column-names", "--connect-timeout=5", "--default-character-set=utf8mb4"]
        self.env = dict(os.environ, MYSQL_PWD=e["MARIADB_PASSWORD"])

    def rows(self, sql, readonly=True, timeout=120):
        script = sql.strip().rstrip(";") + ";"
        if readonly:
            script = "SET SESSION TRANSACTION READ ONLY;\n" + script
        r = subprocess.run(self.argv, input=script + "\n", capture_output=True, text=True, timeout=timeout,
                           env=self.env)
        if r.returncode != 0:
            raise CannotMeasure("mariadb: %s\nfailed: %s" % (sql.strip()[:300], r.stderr.strip()))
        out = r.stdout.rstrip("\n")
        return [[None if c == "NULL" else c for c in line.split("\t")] for line in out.split("\n")] if out else []

    def status(self, names):
        """SHOW GLOBAL STATUS for these variables: {name: int}."""
        rows = self.rows("SHOW GLOBAL STATUS WHERE Variable_name IN (%s)" % ",".join("'%s'" % n for n in names))
        return {r[0]: int(r[1]) for r in rows if r[1] and r[1].lstrip("-").isdigit()}


def in_list(ids):
    return ",".join(str(int(i)) for i in ids)


# ------------------------------------------------------------------ the app's own port

class AppClient:
    """HTTP to the app's own port as if through nginx: Host is the stack's
    HTTPS host, X-Forwarded-Proto https, X-Forwarded-For the shopper's
    address (trusted from 127.0.0.1: TRUSTED_PROXIES). One keep-alive
    connection per thread."""

    def __init__(self, app_port, https_port):
        self.app_port = app_port
        self.host = "localhost:%d" % https_port
        self.origin = "https://" + self.host
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.app_port, timeout=60)
        return c

    def request(self, method, path, ip, cookie=None, form=None):
        headers = {"Host": self.host, "X-Forwarded-For": ip, "X-Forwarded-Proto": "https"}
        body = None
        if cookie:
            headers["Cookie"] = cookie
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        for attempt in (1, 2):
            c = self._conn()
            try:
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read().decode("utf-8", "replace")
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (OSError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt == 2:
                    raise

    def session(self, path, ip):
        """GET a page with a form: (cookie header value, CSRF token)."""
        st, h, body = self.request("GET", path, ip)
        m, t = SID_RX.search(h.get("set-cookie", "")), CSRF_RX.search(body)
        if st != 200 or not m or not t:
            raise CannotMeasure("GET %s gave no session and CSRF token (status %s)" % (path, st))
        return "__Host-sid=" + m.group(1), t.group(1)


def shopper_ip(i, salt):
    """A distinct benchmark-range address (198.18.0.0/15) per prepared shopper."""
    n = (salt * 7919 + i) % (2 * 256 * 254)
    return "198.%d.%d.%d" % (18 + n // (256 * 254), (n // 254) % 256, n % 254 + 1)


def line_of(method, path, cookie, form):
    """One line of a once.lua file."""
    body = urllib.parse.urlencode(form) if form is not None else ""
    for v in (method, path, cookie, body):
        if "\t" in v or "\n" in v:
            raise ValueError("a prepared request may not hold tabs or newlines")
    return "%s\t%s\t%s\t%s" % (method, path, cookie, body)


# ------------------------------------------------------------------ the app's figures

def metrics(app_port):
    """/metrics (loopback, app port) → {series with labels: value}."""
    c = http.client.HTTPConnection("127.0.0.1", app_port, timeout=15)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        text = r.read().decode()
    finally:
        c.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def page_cache(m0, m1):
    """(hits, misses) between two metrics() snapshots."""
    h = m1.get('shoease_page_cache_total{result="hit"}', 0) - m0.get('shoease_page_cache_total{result="hit"}', 0)
    s = m1.get('shoease_page_cache_total{result="miss"}', 0) - m0.get('shoease_page_cache_total{result="miss"}', 0)
    return int(h), int(s)


def route_mean_ms(m0, m1, route):
    """Mean time the app spent on a route between two snapshots (ms)."""
    s = 'shoease_http_request_duration_seconds_sum{route="%s"}' % route
    n = 'shoease_http_request_duration_seconds_count{route="%s"}' % route
    cnt = m1.get(n, 0) - m0.get(n, 0)
    return 1000.0 * (m1.get(s, 0) - m0.get(s, 0)) / cnt if cnt else float("nan")


def jobs_state(app, env):
    """`shoease jobs list --json`, or None."""
    try:
        r = subprocess.run([app, "jobs", "list", "--json"], env=env, capture_output=True, text=True, timeout=30)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None


def backlog(js):
    """Jobs not finished yet (waiting + in flight + delayed, all queues) and
    outbox rows not finished; dead jobs."""
    if not js:
        return None
    q = js.get("queues", {})
    jobs = sum(v.get("waiting", 0) + v.get("in_flight", 0) + v.get("delayed", 0) for v in q.values())
    ob = js.get("outbox", {})
    return dict(jobs=jobs, outbox=ob.get("unsent", 0) + ob.get("sent_unfinished", 0),
                dead=sum(v.get("dead", 0) for v in q.values()),
                per_queue={k: v.get("waiting", 0) + v.get("in_flight", 0) + v.get("delayed", 0)
                           for k, v in q.items() if v.get("waiting", 0) + v.get("in_flight", 0) + v.get("delayed", 0)})


def wait_drained(app, env, limit):
    """Poll until the worker has finished everything: (seconds, first
    backlog seen, last backlog seen, drained?)."""
    t0 = time.monotonic()
    first = last = backlog(jobs_state(app, env))
    while last is not None and (last["jobs"] or last["outbox"]) and time.monotonic() - t0 < limit:
        time.sleep(0.5)
        last = backlog(jobs_state(app, env))
    done = last is not None and not last["jobs"] and not last["outbox"]
    return time.monotonic() - t0, first, last, done


# ------------------------------------------------------------------ the private nginx

class PrivateNginx:
    """store_bench.py's private nginx (the stack's generated config without
    limit_req, own ports, /static/ from a temp dir) with `page` as
    /static/bench/page.html."""

    def __init__(self, state, tmp, page):
        from store_bench import private_nginx_conf   # noqa: E402 (a sibling script)
        self.tmp = Path(tmp)
        self.https_port, self.http_port, redirect = free_port(), free_port(), free_port()
        conf = private_nginx_conf(state, self.tmp, self.https_port, self.http_port, redirect)
        (self.tmp / "static" / "bench").mkdir(parents=True, exist_ok=True)
        (self.tmp / "static" / "bench" / "page.html").write_bytes(page)
        self.argv = ["/usr/sbin/nginx", "-p", str(self.tmp / "nginx"), "-c", str(conf),
                     "-e", str(self.tmp / "log" / "error.log")]
        r = subprocess.run(self.argv + ["-t", "-q"], capture_output=True, text=True)
        if r.returncode != 0:
            raise CannotMeasure("private nginx config does not pass nginx -t:\n" + r.stderr)
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=open(self.tmp / "log" / "stderr.log", "w"), start_new_session=True)
        from common import wait_port
        if not (wait_port(self.https_port) and wait_port(self.http_port)):
            self.stop()
            raise CannotMeasure("private nginx did not start:\n" + (self.tmp / "log" / "stderr.log").read_text())

    def stop(self):
        if not self.proc:
            return
        try:
            self.proc.send_signal(signal.SIGQUIT)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None


def release_stack(started, ident, keep_up, names):
    """common.release_test_stack, except that on a private instance
    (SHOEASE_STACK_INSTANCE) tests running elsewhere do not keep this from
    stopping the stack it started: only a replaced stack does."""
    if not (INSTANCE and started and ident is not None):
        return release_test_stack(started, ident, keep_up, names)
    if not same_stack(ident, names):
        say("== not stopping the test stack: it is no longer the one this started")
    elif keep_up:
        say("== the test stack stays up (--keep-up): stack.py down --profile test")
    else:
        say("== stopping the test stack this started")
        subprocess.run(STACK + ["down", "--profile", "test"], cwd=REPO)


def note(msg):
    say("   note: " + msg)
