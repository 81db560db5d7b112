"""Fixtures for the integration tests: black-box HTTP against a real stack.

The stack is started by `tools/stack.py exec --profile test ... -- pytest ...`
(make test), which exports SHOEASE_STACK_STATE, the path of
var/test/stack.json: ports, URLs, paths, the app's environment, service pids.
Every request goes to 127.0.0.1 / localhost only.

Fixtures:
  state        the parsed stack.json (re-read with stack.refresh())
  https_url    https://localhost:<HTTPS_PORT>   (nginx, TLS)
  http_url     http://localhost:<HTTP_PORT>     (nginx, redirect only)
  direct_url   http://127.0.0.1:<APP_PORT>      (the app without nginx)
  session      requests.Session trusting var/tls/localhost.crt
  direct       requests.Session for direct_url
  stack        stop/start services, find the serve master and worker pids
  shoease_cli  run the app binary (test build) with the stack's environment
  catalog_seeded  the demo catalogue loaded (`shoease seed`, once a session)
  raw          raw_request(): HTTP over a socket, for requests `requests`
               can't make (oversize headers/bodies, invalid URLs)
  mailbox      Mailbox: the .eml files the SMTP sink wrote (var/test/mail/)
  sms_gateway  SmsGateway: what the SMS gateway recorder (tools/smsgw.py)
               received, and its failure injection (cleared around each test)
  stripe_webhook  StripeWebhook: sign, build and post Stripe webhook events
               (POST /webhooks/stripe) with the stack's STRIPE_WEBHOOK_SECRET
  private_dir  Path of PRIVATE_DIR (var/<profile>/private; invoices/ inside)

Stack helpers: stack.redis(*args) (the page cache), stack.qredis(*args,
tls=False) (the durable Redis, with its password; tls=True goes through its
TLS port with var/tls/localhost.crt), stack.mariadb(sql) /
stack.mariadb_rows(sql) (SQL as the app's MariaDB user over the stack's
socket; read-only unless readonly=False).

Stripe itself is stripe-mock (state["env"]["STRIPE_API_BASE"]): stateless,
it answers every API call from fixtures and never sends webhooks.
"""
import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import os
import secrets
import select
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


def _load_state():
    path = os.environ.get("SHOEASE_STACK_STATE")
    if not path:
        # A test that cannot run fails: a skip would count as "not failed".
        pytest.fail("no stack: run via `make test` or "
                    "`tools/stack.py exec --profile test --app build-test/shoease -- "
                    "/usr/bin/python3 -m pytest tests/integration`")
    with open(path) as f:
        return json.load(f)


# ------------------------------------------------------------------ stack helper

def children_of(pid):
    """Direct children of pid, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return sorted(out)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(")") + 2:].split()[0] not in ("Z", "X")


def proc_start_time(pid):
    """When pid started, in CLOCK_BOOTTIME seconds (10 ms resolution)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rfind(")") + 2:].split()[19]) / os.sysconf("SC_CLK_TCK")


def boottime():
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until truthy or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class Stack:
    def __init__(self, state):
        self.state = state

    def refresh(self):
        with open(os.environ["SHOEASE_STACK_STATE"]) as f:
            self.state = json.load(f)
        return self.state

    @property
    def profile(self):
        return self.state["profile"]

    def stack_env(self):
        """The environment that makes tools/stack.py act on THIS stack: a
        private instance (var/<profile>-NAME, shifted ports) is named by
        SHOEASE_STACK_INSTANCE / SHOEASE_STACK_PORT_OFFSET, which a caller
        that only set SHOEASE_STACK_STATE may not have exported — without them
        a stop/start would reach the default stack of the profile."""
        env = dict(os.environ)
        var = os.path.basename(self.state["var"].rstrip("/"))
        prefix = self.profile + "-"
        env["SHOEASE_STACK_INSTANCE"] = var[len(prefix):] if var.startswith(prefix) else ""
        base = {"test": 28443, "dev": 8443}.get(self.profile)
        if base is not None:
            env["SHOEASE_STACK_PORT_OFFSET"] = str(self.state["ports"]["HTTPS_PORT"] - base)
        return env

    def service(self, action, name, timeout=180):
        r = subprocess.run([PYTHON, self.state["stack_py"], "service", action, name,
                            "--profile", self.profile],
                           capture_output=True, text=True, timeout=timeout, env=self.stack_env())
        self.refresh()
        if r.returncode != 0:
            raise RuntimeError("stack.py service %s %s failed:\n%s%s" % (action, name, r.stdout, r.stderr))
        return r

    def stop(self, name):
        return self.service("stop", name)

    def start(self, name):
        return self.service("start", name)

    def restart(self, name):
        return self.service("restart", name)

    def redis(self, *args):
        """Run one command on the stack's Redis (redis-cli); its output."""
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.state["ports"]["REDIS_PORT"]), *args],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("redis-cli %s failed: %s" % (" ".join(args), r.stderr))
        return r.stdout.strip()

    def qredis_password(self):
        """The durable Redis's password: from QUEUE_REDIS_URL in the app's
        environment, else QREDIS_PASSWORD in the stack's env file."""
        url = self.state.get("env", {}).get("QUEUE_REDIS_URL")
        if url:
            pw = urlsplit(url).password
            if pw is not None:
                return unquote(pw)
        return self.env_file_values()["QREDIS_PASSWORD"]

    def qredis(self, *args, tls=False):
        """Run one command on the stack's durable Redis (redis-cli with its
        password); its output. tls=True: over its TLS port, verifying the
        stack's certificate (var/tls/localhost.crt)."""
        ports = self.state["ports"]
        argv = ["redis-cli", "--no-auth-warning", "-a", self.qredis_password()]
        if tls:
            argv += ["--tls", "--cacert", self.state["paths"]["tls_cert"],
                     "-h", "localhost", "-p", str(ports["QREDIS_TLS_PORT"])]
        else:
            argv += ["-h", "127.0.0.1", "-p", str(ports["QREDIS_PORT"])]
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("redis-cli (qredis) %s failed: %s" % (" ".join(args), r.stderr))
        return r.stdout.strip()

    def mariadb(self, sql, readonly=True, timeout=30):
        """Run SQL as the app's MariaDB user (MARIADB_USER/MARIADB_PASSWORD
        of the stack) on its database, through the `mariadb` client over the
        stack's unix socket. Returns the output (--batch, no column names:
        one line per row, tab-separated, NULL as "NULL"), stripped:

            stock = int(stack.mariadb("SELECT stock FROM variants WHERE sku = 'X'"))

        readonly=True (the default) runs the session READ ONLY: any write is
        an error, so a check can never change the shop's data by accident.
        Several statements separated by ';' are fine."""
        env_vals = self.state.get("env", {})
        user = env_vals.get("MARIADB_USER") or self.env_file_values()["MARIADB_USER"]
        password = env_vals.get("MARIADB_PASSWORD") or self.env_file_values()["MARIADB_PASSWORD"]
        database = env_vals.get("MARIADB_DATABASE") or self.env_file_values()["MARIADB_DATABASE"]
        argv = ["mariadb", "--no-defaults", "--socket=%s" % self.state["paths"]["mariadb_socket"],
                "--user=%s" % user, "--database=%s" % database, "--batch", "--skip-column-names",
                "--connect-timeout=5", "--default-character-set=utf8mb4"]
        script = sql.strip()
        if not script.endswith(";"):
            script += ";"
        if readonly:
            script = "SET SESSION TRANSACTION READ ONLY;\n" + script
        # The password through the environment, not argv (ps shows argv).
        env = dict(os.environ, MYSQL_PWD=password)
        r = subprocess.run(argv, input=script + "\n", capture_output=True, text=True, timeout=timeout, env=env)
        if r.returncode != 0:
            raise RuntimeError("mariadb: %s\nfailed: %s" % (sql.strip(), r.stderr.strip()))
        return r.stdout.strip()

    def mariadb_rows(self, sql, readonly=True, timeout=30):
        """stack.mariadb(sql) as a list of rows, each a list of column
        values (str, or None for NULL)."""
        out = self.mariadb(sql, readonly=readonly, timeout=timeout)
        if not out:
            return []
        return [[None if c == "NULL" else c for c in line.split("\t")] for line in out.split("\n")]

    def master_pid(self):
        """pid of `shoease serve` (the master)."""
        return self.refresh()["services"]["app"]["pid"]

    def worker_pids(self):
        return children_of(self.master_pid())

    def wait_workers(self, n, timeout=10):
        return wait_until(lambda: len(self.worker_pids()) >= n, timeout)

    def log_path(self, name):
        """var/<profile>/log/<name>.log; the app's (stdout/stderr of
        `shoease serve`) is shoease.log."""
        if name in ("app", "shoease"):
            return Path(self.state["paths"]["app_log"])
        return Path(self.state["paths"]["log_dir"]) / ("%s.log" % name)

    def env_file_values(self):
        out = {}
        for line in Path(self.state["paths"]["env_file"]).read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
        return out


# ------------------------------------------------------------------ mail and SMS sinks

def _read_jsonl(path):
    """The complete lines of a JSON-lines file (a line still being written,
    without its newline, is left for the next read)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for line in data.split(b"\n")[:-1]:
        if line.strip():
            out.append(json.loads(line.decode("utf-8")))
    return out


class Mailbox:
    """The mail the stack's SMTP sink (tools/smtpd.py) kept, one .eml file
    per message in var/<profile>/mail/, oldest first. Messages are
    email.message.EmailMessage objects (email.policy.default) with two extra
    attributes: .path (the file) and .text (the text/plain body, or the
    HTML one when there is no plain part, '' if neither).

        msg = mailbox.wait_for(lambda m: m["To"] == "ada@example.com")
        assert "Your order" in msg["Subject"]
    """

    def __init__(self, path):
        self.path = Path(path)

    def paths(self):
        """Complete messages (the sink writes .<name>.tmp, then renames)."""
        try:
            names = [n for n in os.listdir(self.path) if n.endswith(".eml") and not n.startswith(".")]
        except FileNotFoundError:
            return []
        return [self.path / n for n in sorted(names)]

    @staticmethod
    def parse(path):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        msg.path = Path(path)
        body = msg.get_body(preferencelist=("plain", "html"))
        try:
            msg.text = body.get_content() if body is not None else ""
        except (LookupError, ValueError):
            msg.text = ""
        return msg

    def messages(self, predicate=None):
        out = []
        for p in self.paths():
            try:
                m = self.parse(p)
            except FileNotFoundError:
                continue   # removed meanwhile (clear())
            if predicate is None or predicate(m):
                out.append(m)
        return out

    def count(self, predicate=None):
        return len(self.messages(predicate))

    def wait_for(self, predicate=None, timeout=10.0, count=1):
        """The first message for which predicate(msg) is true, once it has
        arrived (count=N: wait for N such messages, return the list). Fails
        the test after timeout seconds, listing what the mailbox holds."""
        wait_until(lambda: len(self.messages(predicate)) >= count, timeout, interval=0.1)
        msgs = self.messages(predicate)
        if len(msgs) < count:
            have = ["%s: To=%s Subject=%s" % (m.path.name, m["To"], m["Subject"]) for m in self.messages()[-10:]]
            pytest.fail("mailbox %s: %d of %d expected message(s) after %.1fs; the last messages:\n  %s" % (
                self.path, len(msgs), count, timeout, "\n  ".join(have) or "(none)"))
        return msgs[0] if count == 1 else msgs[:count]

    def clear(self):
        """Delete every message (only for tests that own the whole mailbox)."""
        for p in self.paths():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


class SmsGateway:
    """What the stack's SMS gateway recorder (tools/smsgw.py) received.

      messages()       accepted messages (messages.jsonl): dicts with time,
                       to, from, body, idempotency_key, sid
      requests()       every request (requests.jsonl), duplicates and
                       failures included: time, method, path, status, to,
                       idempotency_key, key_count, sid, error, ...
      count(key=None)  requests received (for one idempotency key)
      fail_next(n)     the next n message requests answer 503
      set_slow(s)      every request sleeps s seconds first (0: off)
      clear()          no injected failures or slowness
      wait_for(pred, timeout=10, count=1, source="messages")
    """

    def __init__(self, path, url=None, sid=None, token=None):
        self.path = Path(path)
        self.url, self.sid, self.token = url, sid, token

    def messages(self, predicate=None):
        return [m for m in _read_jsonl(self.path / "messages.jsonl") if predicate is None or predicate(m)]

    def requests(self, predicate=None):
        return [r for r in _read_jsonl(self.path / "requests.jsonl") if predicate is None or predicate(r)]

    def count(self, idempotency_key=None):
        reqs = self.requests()
        if idempotency_key is None:
            return len(reqs)
        return sum(1 for r in reqs if r.get("idempotency_key") == idempotency_key)

    def _write(self, name, text):
        tmp = self.path / (".%s.tmp" % name)
        tmp.write_text(text)
        os.replace(tmp, self.path / name)

    def fail_next(self, n):
        if n <= 0:
            with contextlib.suppress(FileNotFoundError):
                (self.path / "fail-next").unlink()
        else:
            self._write("fail-next", "%d\n" % n)

    def failures_left(self):
        try:
            return int((self.path / "fail-next").read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def set_slow(self, seconds):
        if not seconds:
            with contextlib.suppress(FileNotFoundError):
                (self.path / "slow").unlink()
        else:
            self._write("slow", "%g\n" % seconds)

    def clear(self):
        self.fail_next(0)
        self.set_slow(0)

    def wait_for(self, predicate=None, timeout=10.0, count=1, source="messages"):
        """The first accepted message (source="requests": request) for which
        predicate(dict) is true, once there (count=N: the first N, as a list).
        Fails the test after timeout seconds, listing what arrived."""
        get = self.messages if source == "messages" else self.requests
        wait_until(lambda: len(get(predicate)) >= count, timeout, interval=0.1)
        got = get(predicate)
        if len(got) < count:
            have = [json.dumps(x, sort_keys=True) for x in get()[-10:]]
            pytest.fail("sms gateway %s: %d of %d expected %s after %.1fs; the last ones:\n  %s" % (
                self.path, len(got), count, source, timeout, "\n  ".join(have) or "(none)"))
        return got[0] if count == 1 else got[:count]


# ------------------------------------------------------------------ Stripe webhooks

class StripeWebhook:
    """Stripe webhook events for POST /webhooks/stripe, signed the way Stripe
    signs them: header Stripe-Signature "t=<unix time>,v1=<hex HMAC-SHA256
    of '<t>.<raw body>' keyed with the endpoint's whsec_ secret>".

        ev = stripe_webhook.event("payment_intent.succeeded", pi_id, 5998, order_number=number)
        r = stripe_webhook.post(session, https_url, ev)
        assert r.status_code == 200

      secret                  the stack's STRIPE_WEBHOOK_SECRET (read from its env
                              file each time, so a test that changes it there and
                              restarts the app signs with the new one)
      sign(body, timestamp=None, secret=None) -> header value
      event(type, payment_intent_id, amount, currency="gbp",
            order_number=None, event_id=None) -> dict (a Stripe event)
      post(session, https_url, event, **overrides) -> requests.Response
    """

    PATH = "/webhooks/stripe"

    def __init__(self, secret):
        self._secret = secret   # a str, or a callable returning it

    @property
    def secret(self):
        return self._secret() if callable(self._secret) else self._secret

    def sign(self, payload, timestamp=None, secret=None):
        """The Stripe-Signature header for payload (bytes, or str as UTF-8)
        at timestamp (unix seconds, default now) with secret (default the
        stack's)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        ts = int(time.time()) if timestamp is None else int(timestamp)
        key = (self.secret if secret is None else secret).encode("utf-8")
        mac = hmac.new(key, b"%d." % ts + payload, hashlib.sha256).hexdigest()
        return "t=%d,v1=%s" % (ts, mac)

    @staticmethod
    def new_id(prefix):
        return "%s_%s" % (prefix, secrets.token_hex(12))

    def event(self, type, payment_intent_id, amount, currency="gbp", order_number=None, event_id=None):
        """A Stripe event object as Stripe posts it. payment_intent.* events
        carry the PaymentIntent (id payment_intent_id, status matching the
        event: succeeded, requires_payment_method after payment_failed,
        canceled, processing otherwise); charge.* events (charge.refunded)
        carry a Charge whose payment_intent is payment_intent_id, fully
        refunded for charge.refunded. metadata.order is order_number when
        given (the app puts its order number there when it creates the
        PaymentIntent)."""
        now = int(time.time())
        metadata = {} if order_number is None else {"order": order_number}
        currency = currency.lower()
        if type.startswith("charge."):
            refunded = type == "charge.refunded"
            obj = {
                "id": self.new_id("ch"), "object": "charge", "amount": amount, "amount_captured": amount,
                "amount_refunded": amount if refunded else 0, "captured": True, "created": now - 60,
                "currency": currency, "livemode": False, "metadata": metadata, "paid": True,
                "payment_intent": payment_intent_id, "refunded": refunded, "status": "succeeded",
            }
        else:
            status = {"payment_intent.succeeded": "succeeded",
                      "payment_intent.payment_failed": "requires_payment_method",
                      "payment_intent.canceled": "canceled",
                      "payment_intent.amount_capturable_updated": "requires_capture"}.get(type, "processing")
            obj = {
                "id": payment_intent_id, "object": "payment_intent", "amount": amount,
                "amount_received": amount if status == "succeeded" else 0,
                "capture_method": "automatic", "client_secret": "%s_secret_%s" % (payment_intent_id, secrets.token_hex(8)),
                "created": now - 60, "currency": currency, "livemode": False, "metadata": metadata,
                "payment_method_types": ["card"], "status": status,
                "canceled_at": now if status == "canceled" else None,
                "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline",
                                       "message": "Your card was declined.", "type": "card_error"}
                if type == "payment_intent.payment_failed" else None,
            }
        return {
            "id": event_id or self.new_id("evt"), "object": "event", "api_version": "2024-06-20",
            "created": now, "type": type, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }

    def post(self, session, https_url, event, **overrides):
        """POST the event (a dict, or bytes/str sent as they are) to
        https_url + /webhooks/stripe, signed. overrides:
          timestamp=, secret=   sign with these instead (stale, wrong key)
          signature=            send this Stripe-Signature instead (None: none)
          body=                 send these bytes, still signed unless signature= is given
          headers=              extra or replacing headers
          path=                 another path
          any other keyword     passed to session.post (timeout=, ...)"""
        body = overrides.pop("body", None)
        if body is None:
            body = event if isinstance(event, (bytes, str)) else json.dumps(event, indent=2)
        if isinstance(body, str):
            body = body.encode("utf-8")
        timestamp = overrides.pop("timestamp", None)
        secret = overrides.pop("secret", None)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if "signature" in overrides:
            sig = overrides.pop("signature")
            if sig is not None:
                headers["Stripe-Signature"] = sig
        else:
            headers["Stripe-Signature"] = self.sign(body, timestamp=timestamp, secret=secret)
        headers.update(overrides.pop("headers", None) or {})
        path = overrides.pop("path", self.PATH)
        overrides.setdefault("timeout", 30)
        overrides.setdefault("allow_redirects", False)
        return session.post(https_url.rstrip("/") + path, data=body, headers=headers, **overrides)


# ------------------------------------------------------------------ raw HTTP

class RawResponse:
    def __init__(self, status, reason, headers, body, error=None):
        self.status, self.reason, self.headers, self.body, self.error = status, reason, headers, body, error

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "RawResponse(%s %s, error=%r)" % (self.status, self.reason, self.error)


def raw_request(url, target, method="GET", headers=None, body=b"", timeout=15, cafile=None):
    """One HTTP/1.1 request over a fresh connection (Connection: close).

    `target` is sent verbatim (so invalid encodings reach the server). The
    body is sent in chunks while watching for an early response: a server
    that answers 413/431 and closes before reading everything must still be
    heard. Returns RawResponse (status None if no response was received)."""
    u = urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=cafile)
        sock = ctx.wrap_socket(sock, server_hostname=u.hostname)
    hdrs = {"Host": "%s:%d" % (u.hostname, u.port), "Connection": "close", "User-Agent": "shoease-tests"}
    if body:
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, target)
    head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
    data = head.encode("latin-1") + body
    received = b""
    error = None
    sock.setblocking(False)
    deadline = time.monotonic() + timeout
    try:
        sent = 0
        while sent < len(data) and time.monotonic() < deadline:
            r, w, _ = select.select([sock], [sock], [], 0.5)
            if r:
                # Readable: an early answer (stop sending and read it), or
                # just TLS housekeeping such as session tickets.
                try:
                    chunk = sock.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    chunk = None
                if chunk is not None:
                    received += chunk
                    break
            if w:
                try:
                    sent += sock.send(data[sent:sent + 65536])
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    pass
        while time.monotonic() < deadline:
            r, _, _ = select.select([sock], [], [], 0.5)
            if not r and not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                continue
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            if not chunk:
                break
            received += chunk
    except (OSError, ssl.SSLError) as e:
        error = e
    finally:
        sock.close()
    if not received:
        return RawResponse(None, None, {}, b"", error or "no response")
    head, _, rest = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return RawResponse(status, parts[2] if len(parts) > 2 else "", headers, rest, error)


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def state():
    return _load_state()


@pytest.fixture(scope="session")
def https_url(state):
    return "https://localhost:%d" % state["ports"]["HTTPS_PORT"]


@pytest.fixture(scope="session")
def http_url(state):
    return "http://localhost:%d" % state["ports"]["HTTP_PORT"]


@pytest.fixture(scope="session")
def direct_url(state):
    return "http://127.0.0.1:%d" % state["ports"]["APP_PORT"]


@pytest.fixture(scope="session")
def tls_cert(state):
    return state["paths"]["tls_cert"]


def new_session(verify=True):
    """A requests.Session that ignores the environment: REQUESTS_CA_BUNDLE
    would override `verify`, and *_proxy variables must not route loopback
    traffic anywhere."""
    s = requests.Session()
    s.trust_env = False
    s.verify = verify
    return s


@pytest.fixture
def session(tls_cert):
    s = new_session(tls_cert)
    s.headers["User-Agent"] = "shoease-tests"
    yield s
    s.close()


@pytest.fixture
def direct():
    s = new_session()
    s.headers["User-Agent"] = "shoease-tests"
    yield s
    s.close()


@pytest.fixture(scope="session")
def stack(state):
    return Stack(state)


@pytest.fixture
def raw(tls_cert):
    def call(url, target, **kw):
        kw.setdefault("cafile", tls_cert)
        return raw_request(url, target, **kw)
    return call


@pytest.fixture(scope="session")
def shoease_cli(state):
    """shoease_cli("check", env={"SHOEASE_ENV": "production"}) -> CompletedProcess
    (text, stdout and stderr captured). The stack's environment is the base;
    `env` entries override it, and a value of None removes the key. stdin
    is `input` (text; empty by default, never the terminal)."""
    def run(*args, env=None, timeout=120, cwd=None, input=None):
        e = dict(os.environ)
        e.update(state["env"])
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return subprocess.run([state["app"]] + [str(a) for a in args], env=e, cwd=str(cwd or REPO),
                              capture_output=True, text=True, timeout=timeout,
                              input=input if input is not None else "")
    return run


@pytest.fixture
def kill(stack):
    """kill(pid, sig) that ignores an already-gone process."""
    def k(pid, sig=signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return k


@pytest.fixture
def mailbox(state):
    """Mailbox over var/<profile>/mail/ (see Mailbox)."""
    return Mailbox(state["paths"]["mail_dir"])


@pytest.fixture
def sms_gateway(state):
    """SmsGateway over var/<profile>/sms/ (see SmsGateway); injected
    failures and slowness are cleared before and after each test."""
    env = state.get("env", {})
    gw = SmsGateway(state["paths"]["sms_dir"], env.get("SMS_GATEWAY_URL"),
                    env.get("SMS_ACCOUNT_SID"), env.get("SMS_AUTH_TOKEN"))
    gw.clear()
    yield gw
    gw.clear()


@pytest.fixture(scope="session")
def stripe_webhook(state):
    """StripeWebhook signing with the stack's STRIPE_WEBHOOK_SECRET: the
    app's environment if the stack puts it there, else the stack's env file
    (var/<profile>/shoease.env, where tools/stack.py generates it)."""
    def secret():
        v = state.get("env", {}).get("STRIPE_WEBHOOK_SECRET") or \
            Stack(state).env_file_values().get("STRIPE_WEBHOOK_SECRET")
        if not v:
            pytest.fail("the stack has no STRIPE_WEBHOOK_SECRET (tools/stack.py generates one)")
        return v
    secret()
    return StripeWebhook(secret)


@pytest.fixture(scope="session")
def private_dir(state):
    """PRIVATE_DIR of the stack (var/<profile>/private): invoices/<number>.pdf."""
    return Path(state["paths"]["private_dir"])


@pytest.fixture(scope="session")
def catalog_seeded(shoease_cli):
    """The demo catalogue is loaded. The test profile's stack does not seed
    (only dev does), so this runs `shoease seed` once per session; a second
    run on a seeded database changes nothing."""
    r = shoease_cli("seed", timeout=600)
    if r.returncode != 0:
        pytest.fail("`shoease seed` failed (exit %d):\n%s%s" % (r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r.stdout
