#!/usr/bin/python3
"""stack.py — runs ShoEase's local stack: MariaDB, Redis (the page cache), a
durable Redis (qredis: job queues, sessions, rate limits), FerretDB (MongoDB
protocol), an SMTP catcher, an SMS gateway recorder, stripe-mock (Stripe's
API), the shoease app, its job worker and nginx, all on loopback with their
data under var/<profile>/.

    stack.py run     --profile dev  --app build/shoease     foreground, Ctrl-C stops
    stack.py up      --profile test --app build-test/shoease background
    stack.py status  --profile test
    stack.py down    --profile test
    stack.py service stop|start|restart NAME --profile test
    stack.py exec    --profile test --app build-test/shoease -- CMD ARGS...
    stack.py env     --profile dev                          print the app's env

Profiles: `dev` (make run; settings from .env, ports overridable there) and
`test` (make test; fixed ports and a generated var/test/shoease.env, never the
developer's .env). Both can run at once.

Secrets: the test profile generates SECRET_KEY, MARIADB_PASSWORD,
QREDIS_PASSWORD (the durable Redis), SMSGW_TOKEN (the SMS recorder) and
STRIPE_SECRET_KEY / STRIPE_PUBLISHABLE_KEY / STRIPE_WEBHOOK_SECRET
(sk_test_…, pk_test_…, whsec_…: stripe-mock takes any sk_test_ key) into
var/test/shoease.env. The dev profile reads them from .env, created from
.env.example with fresh values on first use; a QREDIS_PASSWORD or STRIPE_* key
missing from (or empty in) an older .env is generated and added to it.

Stripe: the `stripe` service is stripe-mock (var/tools/bin/stripe-mock, built
by tools/install-deps.sh) on STRIPE_PORT; the app gets
STRIPE_API_BASE=http://127.0.0.1:<STRIPE_PORT> (dev: unless .env sets
STRIPE_API_BASE, e.g. to Stripe's real test API with your own test keys).
stripe-mock keeps no state: every call answers from its fixtures. Webhooks
are not sent by it; tests sign and post them themselves (conftest.py's
stripe_webhook).

Private files: PRIVATE_DIR=var/<profile>/private (mode 0750; invoices in
invoices/) is served only through nginx's internal /internal/invoices/
location, i.e. after the app answers with X-Accel-Redirect; /media/ is a
separate tree.

MariaDB runs with innodb_flush_log_at_trx_commit=1: a committed (acknowledged)
order survives a crash of mariadbd or the machine.

What the tests see besides the app's environment (stack.json `env`): in the
test profile QUEUE_REDIS_TLS_URL (rediss://, the durable Redis's TLS port)
and QUEUE_REDIS_CA (var/tls/localhost.crt); STRIPE_API_BASE in both (the
STRIPE_* keys are in the env file, paths.env_file); `paths` names mail_dir, sms_dir (messages.jsonl, requests.jsonl, fail-next, slow: see
tools/smsgw.py), outbox_dir (SMS_LOG_PATH = outbox_dir/sms.log), private_dir
(PRIVATE_DIR) and mariadb_socket.

The process list is the PROCESSES table below: one row per process, started
top to bottom and stopped bottom to top. Every process gets
SHOEASE_STACK_OWNER=<var dir> in its environment so leftovers of a crashed
run are found (and only ours) through /proc.

SHOEASE_STACK_INSTANCE=NAME (data in var/<profile>-NAME) with
SHOEASE_STACK_PORT_OFFSET=N runs a second stack of a profile beside the first.
SHOEASE_STACK_PORT_OFFSET=N shifts all ports of a profile (for running a
second checkout's stacks beside this one's).

Only the Python standard library is used; run it with /usr/bin/python3.
"""
import argparse
import contextlib
import dataclasses
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parent.parent

PORT_KEYS = ("HTTPS_PORT", "HTTP_PORT", "APP_PORT", "MARIADB_PORT",
             "REDIS_PORT", "QREDIS_PORT", "QREDIS_TLS_PORT", "MONGO_PORT", "SMTP_PORT",
             "SMSGW_PORT", "STRIPE_PORT")
PROFILES = {
    "dev": dict(HTTPS_PORT=8443, HTTP_PORT=8080, APP_PORT=18000, MARIADB_PORT=13306,
                REDIS_PORT=16379, QREDIS_PORT=16380, QREDIS_TLS_PORT=16381,
                MONGO_PORT=17017, SMTP_PORT=12525, SMSGW_PORT=12580, STRIPE_PORT=12111),
    "test": dict(HTTPS_PORT=28443, HTTP_PORT=28080, APP_PORT=28000, MARIADB_PORT=23306,
                 REDIS_PORT=26379, QREDIS_PORT=26380, QREDIS_TLS_PORT=26381,
                 MONGO_PORT=27117, SMTP_PORT=22525, SMSGW_PORT=22580, STRIPE_PORT=22111),
}

# The SMS gateway recorder's account (tools/smsgw.py). Local only: the test
# profile generates its auth token (SMSGW_TOKEN in var/test/shoease.env); the
# dev profile takes SMSGW_TOKEN from .env or uses DEV_SMSGW_TOKEN.
SMSGW_SID = "ACshoeasetest"
DEV_SMSGW_TOKEN = "shoease-dev-sms-token"

# Every key src/core/config.h reads. The test profile scrubs these from the
# inherited environment so a developer's shell can't change test behaviour.
CONFIG_KEYS = (
    "SHOEASE_ENV", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "TRUSTED_PROXIES", "BIND",
    "WORKERS", "WORKER_THREADS", "WORKER_TIMEOUT", "GRACEFUL_TIMEOUT", "READ_TIMEOUT",
    "MAX_BODY_BYTES", "MAX_HEADER_BYTES", "UPLOAD_MAX_BYTES", "SECURE_COOKIES", "HSTS_SECONDS", "ADMIN_PATH", "ADMIN_REQUIRE_2FA",
    "ADMIN_REAUTH_SECONDS", "SANDBOX", "TEST_HOOKS", "RUN_AS_USER",
    "TEMPLATE_DIR", "STATIC_DIR", "MIGRATIONS_DIR", "MEDIA_DIR", "ACCESS_LOG",
    "MARIADB_HOST", "MARIADB_PORT", "MARIADB_SOCKET", "MARIADB_USER", "MARIADB_PASSWORD",
    "MARIADB_DATABASE", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB",
    "MONGO_URI", "MONGO_DATABASE", "SMTP_URL", "MAIL_FROM", "CURRENCY", "SITE_NAME",
    "PUBLIC_URL", "SHOEASE_ENV_FILE",
    "QUEUE_REDIS_URL", "QUEUE_REDIS_CA",
    "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS", "SMTP_CA_FILE",
    "SMS_PROVIDER", "SMS_LOG_PATH", "SMS_GATEWAY_URL", "SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN", "SMS_FROM",
    "JOB_PROCESSES", "JOB_CONCURRENCY", "JOB_RATE_LIMITS", "JOB_LEASE_MS", "OUTBOX_RESEND_SECONDS",
    "ACTIVITY_LOG", "ACTIVITY_TTL_DAYS", "EVENT_BACKLOG_MAX",
    "SESSION_IDLE_SECONDS", "SESSION_ABSOLUTE_SECONDS", "STAFF_SESSION_SECONDS", "PASSWORD_HASH_OPS",
    "PASSWORD_HASH_MEM_MB", "COMMON_PASSWORDS_FILE",
    # checkout, payments, invoices
    "STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
    "TAX_RATES", "SHIPPING_STANDARD", "SHIPPING_EXPRESS", "FREE_SHIPPING_OVER", "CARD_ORDER_MINUTES",
    "MAX_LINE_QUANTITY", "STAFF_ALERT_EMAIL", "PRIVATE_DIR", "SELLER_ADDRESS", "SELLER_VAT_NUMBER",
    # not read by the app: what the test profile exports for the tests
    "QUEUE_REDIS_TLS_URL",
)

# SMS settings the stack gives the app; in the dev profile a key set in .env
# is left to .env.
SMS_KEYS = ("SMS_PROVIDER", "SMS_LOG_PATH", "SMS_GATEWAY_URL", "SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN", "SMS_FROM")

# Stripe's keys, generated for the stack (stripe-mock accepts any
# sk_test_<x> key with no further underscore in <x>: hex it is). The test
# profile writes them into var/test/shoease.env, the dev profile into .env.
STRIPE_SECRET_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")


def new_stripe_secrets():
    return dict(STRIPE_SECRET_KEY="sk_test_" + secrets.token_hex(16),
                STRIPE_PUBLISHABLE_KEY="pk_test_" + secrets.token_hex(16),
                STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_hex(24))

def new_admin_path():
    """A secret prefix for the admin portal (`shoease admin-url` prints it)."""
    return "/staff-" + secrets.token_hex(10)


# Fixed settings of the test profile (written to var/test/shoease.env).
TEST_SETTINGS = dict(
    SHOEASE_ENV="development", DEBUG="0",
    ALLOWED_HOSTS="localhost,127.0.0.1,.ngrok-free.app",
    TRUSTED_PROXIES="unix,127.0.0.1",
    WORKERS="2", WORKER_TIMEOUT="5", GRACEFUL_TIMEOUT="10", TEST_HOOKS="1",
    # the admin portal as in production: staff sign in with a second factor
    ADMIN_REQUIRE_2FA="1",
    ACCESS_LOG="-",
    MARIADB_USER="shoease_test", MARIADB_DATABASE="shoease_test",
    MONGO_DATABASE="shoease_test",
    # background jobs: short enough for tests to watch a lease expire and an
    # outbox row be sent again
    OUTBOX_RESEND_SECONDS="5", JOB_LEASE_MS="3000", JOB_PROCESSES="2",
    # checkout: the default (a test may rewrite the env file and restart the
    # app to shorten it); low-stock alerts go to a mailbox tests can watch;
    # the seller printed on invoices
    CARD_ORDER_MINUTES="30",
    STAFF_ALERT_EMAIL="stock@shoease.test",
    SELLER_ADDRESS="ShoEase Ltd, 1 Shoe Lane, London EC1A 1AA",
    SELLER_VAT_NUMBER="GB123456789",
)

# ASan/UBSan for the test build: servers are killed, so leak reports at exit
# are noise; unit tests (meson test) keep leak detection.
SANITIZER_ENV = dict(ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                     UBSAN_OPTIONS="print_stacktrace=1")

OWNER_VAR = "SHOEASE_STACK_OWNER"
SERVICE_VAR = "SHOEASE_STACK_SERVICE"
IS_ROOT = os.geteuid() == 0


class StackError(Exception):
    pass


class Interrupted(BaseException):
    pass


def say(msg, *, err=False):
    print("[stack] " + msg, file=sys.stderr if err else sys.stdout, flush=True)


def find_exe(name):
    p = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not p:
        raise StackError("%s not found: run `make deps` (tools/install-deps.sh)" % name)
    return p


# ------------------------------------------------------------------ env files

def parse_env_file(path):
    """KEY=VALUE lines; '#' comments; optional `export `; matching quotes stripped."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return {}
    return parse_env_text(text)


def parse_env_text(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        k, v = k.strip(), v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
        out[k] = v
    return out


def write_file_atomic(path, text, mode=0o644):
    path = Path(path)
    tmp = path.with_name(".%s.tmp%d" % (path.name, os.getpid()))
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# .env.example's placeholder for the durable Redis's password (in
# QREDIS_PASSWORD and QUEUE_REDIS_URL), replaced when .env is created.
QREDIS_PLACEHOLDER = "change-me-three"


def qredis_url(password, host, port, scheme="redis"):
    """redis://:PASSWORD@host:port/0 (the password percent-encoded)."""
    return "%s://:%s@%s:%d/0" % (scheme, urllib.parse.quote(password, safe=""), host, port)


def ensure_dev_env_file():
    """Create .env from .env.example with fresh secrets on the first run."""
    env = REPO / ".env"
    if env.exists():
        return
    example = REPO / ".env.example"
    if not example.exists():
        raise StackError(".env.example is missing")
    lines = []
    qredis_pw = secrets.token_hex(16)
    stripe = new_stripe_secrets()
    for line in example.read_text().splitlines():
        if re.match(r"^SECRET_KEY=", line):
            line = "SECRET_KEY=" + secrets.token_urlsafe(48)
        elif re.match(r"^ADMIN_PATH=", line):
            line = "ADMIN_PATH=" + new_admin_path()
        elif re.match(r"^MARIADB_PASSWORD=", line):
            line = "MARIADB_PASSWORD=" + secrets.token_hex(16)
        elif re.match(r"^QREDIS_PASSWORD=", line):
            line = "QREDIS_PASSWORD=" + qredis_pw
        elif re.match(r"^QUEUE_REDIS_URL=", line):
            line = line.replace(QREDIS_PLACEHOLDER, qredis_pw)
        else:
            m = re.match(r"^(STRIPE_SECRET_KEY|STRIPE_PUBLISHABLE_KEY|STRIPE_WEBHOOK_SECRET)=\s*$", line)
            if m:
                line = "%s=%s" % (m.group(1), stripe.pop(m.group(1)))
        lines.append(line)
    if stripe:   # keys .env.example does not have (as empty lines)
        lines.append("")
        lines += ["%s=%s" % kv for kv in stripe.items()]
    write_file_atomic(env, "\n".join(lines) + "\n", 0o600)
    say("created .env from .env.example with a freshly generated SECRET_KEY, MARIADB_PASSWORD, "
        "QREDIS_PASSWORD, ADMIN_PATH and Stripe test keys (for stripe-mock)")


def ensure_dev_env_keys():
    """Keys newer than a developer's existing .env, added with fresh values
    so an upgrade needs no manual step: QREDIS_PASSWORD (the durable Redis)
    and, with it, the QUEUE_REDIS_URL the app reads outside the stack; the
    Stripe test keys (STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY,
    STRIPE_WEBHOOK_SECRET) for stripe-mock. A key present with an empty value
    (an older .env.example's empty line) gets its value in place; a missing
    one is appended."""
    env = REPO / ".env"
    with open(env, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.seek(0)
            text = f.read()
            have = parse_env_text(text)
            stripe = {k: v for k, v in new_stripe_secrets().items() if not have.get(k)}
            filled = []
            if stripe:
                out = []
                for line in text.splitlines(keepends=True):
                    m = re.match(r"^\s*(?:export\s+)?(STRIPE_SECRET_KEY|STRIPE_PUBLISHABLE_KEY|STRIPE_WEBHOOK_SECRET)\s*=\s*(['\"]?)\2\s*$",
                                 line)
                    if m and m.group(1) in stripe:
                        k = m.group(1)
                        line = "%s=%s\n" % (k, stripe.pop(k))
                        filled.append(k)
                    out.append(line)
                if filled:
                    text = "".join(out)
                    f.seek(0)
                    f.truncate()
                    f.write(text)
                    f.flush()
            add = []
            if not have.get("QREDIS_PASSWORD"):
                pw = secrets.token_hex(16)
                add.append(("QREDIS_PASSWORD", pw))
                if "QUEUE_REDIS_URL" not in have:
                    try:
                        port = int(have.get("QREDIS_PORT") or PROFILES["dev"]["QREDIS_PORT"])
                    except ValueError:
                        port = PROFILES["dev"]["QREDIS_PORT"]
                    add.append(("QUEUE_REDIS_URL", qredis_url(pw, "127.0.0.1", port)))
            why = []
            if add:
                why.append("the durable Redis's password")
            if stripe:
                add += list(stripe.items())
                why.append("Stripe test keys for stripe-mock")
            if add:
                block = "" if not text or text.endswith("\n") else "\n"
                block += "\n# Added by tools/stack.py (%s): %s.\n" % (time.strftime("%Y-%m-%d"), " and ".join(why))
                block += "".join("%s=%s\n" % kv for kv in add)
                f.seek(0, os.SEEK_END)
                f.write(block)
                f.flush()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    if add or filled:
        say("added %s to .env (freshly generated)" % ", ".join([k for k, _ in add] + filled))


# ------------------------------------------------------------------ /proc helpers

def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    return data[data.rfind(")") + 2:].split(" ", 1)[0]


def proc_environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def proc_starttime(pid):
    """Start time of pid (clock ticks since boot): with the pid it names a
    process uniquely, so a reused pid is never mistaken for ours."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return int(data[data.rfind(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid):
    if not pid:
        return False
    st = proc_state(pid)
    return st is not None and st not in ("Z", "X", "x")


# Processes this stack.py started itself: pid -> Popen. Reaped through
# Popen.poll() so their exit codes stay known.
CHILDREN = {}


def reap(pid):
    p = CHILDREN.get(pid)
    if p is not None:
        with contextlib.suppress(Exception):
            p.poll()
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except OSError:
        pass


# Programs the stack runs. Some (nginx, redis) overwrite their environment
# with their process title, so the marker is gone; those run with their cwd
# inside var/<profile>/ and are recognised by cwd + program.
STACK_EXES = ("mariadbd", "redis-server", "redis-check-rdb", "redis-check-aof", "nginx", "ferretdb")


def proc_link(pid, what):
    try:
        return os.readlink("/proc/%d/%s" % (pid, what)).replace(" (deleted)", "")
    except OSError:
        return ""


def owned_processes(owner, service=None):
    """pids of live processes of this stack: by the environment marker, or
    (service=None only) by cwd inside the owner dir and a known program."""
    me = os.getpid()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        if pid == me or not alive(pid):
            continue
        env = proc_environ(pid)
        if env.get(OWNER_VAR) == owner:
            if service is None or env.get(SERVICE_VAR) == service:
                out.append(pid)
            continue
        if service is None:
            cwd = proc_link(pid, "cwd")
            exe = os.path.basename(proc_link(pid, "exe"))
            if (cwd == owner or cwd.startswith(owner + "/")) and \
                    (exe in STACK_EXES or exe.startswith("python3")):
                out.append(pid)
    return out


def port_busy(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.3)
    try:
        return s.connect_ex((host, port)) == 0
    finally:
        s.close()


def port_bindable(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def tcp_accepts(port):
    return port_busy(port)


def unix_accepts(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def tcp_exchange(port, send, expect_prefix, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            if send:
                s.sendall(send)
            data = b""
            deadline = time.monotonic() + timeout
            while len(data) < len(expect_prefix) and time.monotonic() < deadline:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return data.startswith(expect_prefix)
    except OSError:
        return False


def log_tail(path, n=25):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + l for l in lines[-n:])


# ------------------------------------------------------------------ process table

@dataclasses.dataclass
class Proc:
    name: str
    argv: Callable                      # (stack) -> list[str]
    kind: str = "daemon"                # "daemon" (stays up) or "oneshot" (runs to completion)
    ports: tuple = ()                   # port keys it listens on (checked free before start)
    prepare: Optional[Callable] = None  # (stack) -> None, before start: dirs, stale files, config
    ready: Optional[Callable] = None    # (stack) -> bool, polled until true
    after_ready: Optional[Callable] = None  # (stack) -> None, once ready (bootstrap)
    restart: bool = False               # `run` restarts it when it dies unexpectedly
    profiles: tuple = ("dev", "test")   # profiles that start it
    app_env: bool = False               # gets the shoease environment
    ready_timeout: float = 30
    stop_timeout: object = 10           # seconds, or (stack) -> seconds
    stop_signal: int = signal.SIGTERM
    log: Optional[str] = None           # log file name (var/<p>/log/<log>.log), default: name


# -- mariadb

def mariadb_prepare(st):
    data = st.var / "mariadb" / "data"
    tmp = st.var / "mariadb" / "tmp"
    for p in (st.run_dir / "mariadb.sock", st.run_dir / "mariadb.sock.lock", st.run_dir / "mariadbd.pid"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    tmp.mkdir(parents=True, exist_ok=True)
    if not (data / "mysql").is_dir():
        if data.exists():
            shutil.rmtree(data)  # a half-finished first start
        data.mkdir(parents=True)
        say("mariadb: initialising %s" % st.rel(data))
        argv = [find_exe("mariadb-install-db"), "--no-defaults", "--datadir=%s" % data,
                "--user=%s" % st.os_user, "--auth-root-authentication-method=socket",
                "--skip-test-db", "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=32M"]
        ilog = st.log_dir / "mariadb-install.txt"
        with open(ilog, "wb") as log:
            r = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=str(st.var), env=st.child_env("mariadb-install"))
        if r.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            raise StackError("mariadb-install-db failed (exit %d); see %s:\n%s" % (
                r.returncode, st.rel(ilog), log_tail(ilog)))


def mariadb_argv(st):
    argv = [find_exe("mariadbd"), "--no-defaults"]
    if IS_ROOT:
        argv.append("--user=root")
    return argv + [
        "--datadir=%s" % (st.var / "mariadb" / "data"),
        "--tmpdir=%s" % (st.var / "mariadb" / "tmp"),
        "--socket=%s" % (st.run_dir / "mariadb.sock"),
        "--port=%d" % st.ports["MARIADB_PORT"],
        "--bind-address=127.0.0.1",
        "--pid-file=%s" % (st.run_dir / "mariadbd.pid"),
        "--log-error=%s" % st.log_path("mariadb"),
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--skip-log-bin",
        "--performance-schema=OFF",
        "--innodb-buffer-pool-size=64M",
        "--innodb-log-file-size=16M",
        "--innodb-log-buffer-size=8M",
        # 1: the redo log is written and fsynced at every commit, so an
        # order the app acknowledged survives a crash of mariadbd or of the
        # machine (2 would lose up to a second of commits on a power cut).
        # sync_binlog does not matter: the binary log is off.
        "--innodb-flush-log-at-trx-commit=1",
        "--key-buffer-size=8M",
        "--max-connections=200",
        "--thread-cache-size=16",
        "--table-open-cache=400",
    ]


def mariadb_client(st, sql, timeout=10):
    argv = [find_exe("mariadb"), "--no-defaults", "--socket=%s" % (st.run_dir / "mariadb.sock"),
            "--user=%s" % st.os_user, "--batch", "--skip-column-names",
            "--connect-timeout=2", "--default-character-set=utf8mb4"]
    return subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=timeout,
                          stdin=None, env=st.child_env("mariadb-client"))


def mariadb_ready(st):
    # (a TCP probe would log "Aborted connection" warnings; the socket
    # opens after the TCP listener, so SELECT 1 over it proves both)
    if not (st.run_dir / "mariadb.sock").exists():
        return False
    try:
        r = mariadb_client(st, "SELECT 1;\n", timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0 and r.stdout.strip() == "1"


def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def mariadb_bootstrap(st):
    """Database and app user; idempotent, run on every start so a changed
    MARIADB_PASSWORD in .env takes effect."""
    db, user, pw = st.settings["MARIADB_DATABASE"], st.settings["MARIADB_USER"], st.settings["MARIADB_PASSWORD"]
    for what, v in (("MARIADB_DATABASE", db), ("MARIADB_USER", user)):
        if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", v):
            raise StackError("%s=%r: use letters, digits and _ only" % (what, v))
    if not pw:
        raise StackError("MARIADB_PASSWORD is empty")
    sql = ["CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" % db]
    for host in ("127.0.0.1", "localhost"):
        sql += ["CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY %s;" % (user, host, sql_str(pw)),
                "ALTER USER '%s'@'%s' IDENTIFIED BY %s;" % (user, host, sql_str(pw)),
                "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s';" % (db, user, host)]
    sql.append("FLUSH PRIVILEGES;")
    r = mariadb_client(st, "\n".join(sql) + "\n")
    if r.returncode != 0:
        raise StackError("mariadb bootstrap failed: %s" % r.stderr.strip())


# -- redis

# Redis holds only the page cache today (src/cache/), so it runs as a cache:
# no persistence (a cached page is worth less than the disk writes: with AOF
# on, every stored 50 KB page was appended to the log, and under load the
# fsyncs stalled Redis), a memory bound, and eviction of the least recently
# used keys that have a TTL (pages, admission marks), never the catalogue
# version. Losing everything is safe: versions never repeat (page_cache.c).
# Sessions and job queues, when they come, need a durable instance of their
# own (AOF, noeviction) rather than this one.
REDIS_MAXMEMORY = "256mb"


def redis_argv(st):
    d = st.var / "redis"
    d.mkdir(parents=True, exist_ok=True)
    return [find_exe("redis-server"),
            "--port", str(st.ports["REDIS_PORT"]), "--bind", "127.0.0.1",
            "--dir", str(d), "--appendonly", "no", "--save", "",
            "--maxmemory", REDIS_MAXMEMORY, "--maxmemory-policy", "volatile-lru",
            "--daemonize", "no", "--supervised", "no", "--logfile", "",
            "--pidfile", str(st.run_dir / "redis-server.pid"),
            "--maxclients", "1000", "--databases", "16"]


def redis_ready(st):
    return tcp_exchange(st.ports["REDIS_PORT"], b"PING\r\n", b"+PONG")


# -- qredis: the durable Redis

# Job queues, the event backlog and (later) sessions and rate limits: data
# that must survive a restart and must never be evicted. AOF with an fsync
# every second (at most a second of writes lost on a power cut), no RDB
# snapshots (the AOF is the persistence), noeviction: when the memory bound
# is reached writes fail loudly instead of jobs silently disappearing. A
# password, and a TLS listener with the stack's self-signed certificate so
# tests exercise a real rediss:// connection like a managed Redis's. The
# settings go into a 0600 config file so the password is not in argv or the
# service log.
QREDIS_MAXMEMORY = "1gb"


def qredis_conf_path(st):
    return st.run_dir / "qredis.conf"


def redis_conf_quote(v):
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def qredis_prepare(st):
    d = st.var / "qredis"
    d.mkdir(parents=True, exist_ok=True)
    cert, key = ensure_tls_cert()
    pw = st.settings["QREDIS_PASSWORD"]
    if not pw:
        raise StackError("QREDIS_PASSWORD is empty")
    conf = [
        ("port", st.ports["QREDIS_PORT"]),
        ("bind", None),   # 127.0.0.1 and, if the host has it, ::1
        ("dir", d),
        ("appendonly", "yes"), ("appendfsync", "everysec"), ("save", ""),
        ("maxmemory", QREDIS_MAXMEMORY), ("maxmemory-policy", "noeviction"),
        ("requirepass", pw),
        ("tls-port", st.ports["QREDIS_TLS_PORT"]),
        ("tls-cert-file", cert), ("tls-key-file", key), ("tls-ca-cert-file", cert),
        ("tls-auth-clients", "no"),
        ("daemonize", "no"), ("supervised", "no"), ("logfile", ""),
        ("pidfile", st.run_dir / "qredis-server.pid"),
        ("maxclients", "1000"), ("databases", "16"),
    ]
    lines = ["# GENERATED by tools/stack.py for the %s stack's durable Redis - do not edit." % st.profile]
    for k, v in conf:
        if k == "bind":
            lines.append("bind 127.0.0.1 -::1")
        else:
            lines.append("%s %s" % (k, redis_conf_quote(v)))
    write_file_atomic(qredis_conf_path(st), "\n".join(lines) + "\n", 0o600)


def qredis_argv(st):
    return [find_exe("redis-server"), str(qredis_conf_path(st))]


def resp_command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def qredis_ready(st):
    """AUTH with the password, then PING: PONG (not -LOADING while the AOF
    is replayed, not -NOAUTH)."""
    return tcp_exchange(st.ports["QREDIS_PORT"],
                        resp_command("AUTH", st.settings["QREDIS_PASSWORD"]) + resp_command("PING"),
                        b"+OK\r\n+PONG")


# -- mongodb (FerretDB on SQLite)

def ferretdb_exe():
    exe = REPO / "var" / "tools" / "bin" / "ferretdb"
    if not os.access(exe, os.X_OK):
        raise StackError("var/tools/bin/ferretdb is missing: run `make deps` (tools/install-deps.sh)")
    return str(exe)


def ferretdb_argv(st):
    d = st.var / "ferretdb"
    d.mkdir(parents=True, exist_ok=True)
    return [ferretdb_exe(), "--handler=sqlite", "--sqlite-url=file:%s/" % d,
            "--listen-addr=127.0.0.1:%d" % st.ports["MONGO_PORT"],
            "--state-dir=%s" % d, "--debug-addr=-", "--telemetry=disable",
            "--log-level=warn"]


def mongo_ready(st):
    return tcp_accepts(st.ports["MONGO_PORT"])


# -- smtp

def smtp_argv(st):
    return ["/usr/bin/python3", str(REPO / "tools" / "smtpd.py"),
            "--port", str(st.ports["SMTP_PORT"]), "--maildir", str(st.var / "mail")]


def smtp_ready(st):
    return tcp_exchange(st.ports["SMTP_PORT"], None, b"220")


# -- sms gateway recorder

def smsgw_argv(st):
    return ["/usr/bin/python3", str(REPO / "tools" / "smsgw.py"),
            "--port", str(st.ports["SMSGW_PORT"]), "--dir", str(st.var / "sms"),
            "--sid", SMSGW_SID, "--token", st.settings["SMSGW_TOKEN"]]


def smsgw_ready(st):
    return tcp_accepts(st.ports["SMSGW_PORT"])


# -- stripe (stripe-mock: Stripe's API, from fixtures)

def stripe_mock_exe():
    exe = REPO / "var" / "tools" / "bin" / "stripe-mock"
    if not os.access(exe, os.X_OK):
        raise StackError("var/tools/bin/stripe-mock is missing: run `make deps` (tools/install-deps.sh)")
    return str(exe)


def stripe_https_socket(st):
    return st.run_dir / "stripe-mock-https.sock"


def stripe_prepare(st):
    with contextlib.suppress(FileNotFoundError):
        stripe_https_socket(st).unlink()


def stripe_argv(st):
    # HTTP on loopback only. stripe-mock opens an HTTPS listener as well
    # unless given -http-port/-http-unix (and -http-port binds every
    # address); -http-addr keeps HTTP on 127.0.0.1 and -https-unix puts the
    # HTTPS listener nobody uses on a unix socket instead of port 12112.
    return [stripe_mock_exe(), "-http-addr", "127.0.0.1:%d" % st.ports["STRIPE_PORT"],
            "-https-unix", str(stripe_https_socket(st))]


def stripe_ready(st):
    """GET /v1/charges with a test key answers 200 (fixtures loaded)."""
    import base64
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", st.ports["STRIPE_PORT"], timeout=2)
    try:
        c.request("GET", "/v1/charges", headers={
            "Authorization": "Basic " + base64.b64encode(b"sk_test_123:").decode()})
        r = c.getresponse()
        r.read()
        return r.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        c.close()


# -- the app

def app_cmd(*args):
    def argv(st):
        return [st.app_exe()] + list(args)
    return argv


def app_prepare(st):
    for p in (st.app_socket, st.app_write_socket):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    (st.var / "media").mkdir(parents=True, exist_ok=True)
    st.private_dirs()


def app_ready(st):
    return unix_accepts(st.app_socket) and unix_accepts(st.app_write_socket) and tcp_accepts(st.ports["APP_PORT"])


# -- the job worker

def worker_ready(st):
    """`shoease worker` opens no port: ready when it is still running a
    second after it started (start() checks it is alive before asking)."""
    sv = st.read_state().get("services", {}).get("worker", {})
    return time.time() - sv.get("started", time.time()) >= 1.0


# -- nginx

def ensure_tls_cert():
    d = REPO / "var" / "tls"
    cert, key = d / "localhost.crt", d / "localhost.key"
    if cert.exists() and key.exists():
        return cert, key
    d.mkdir(parents=True, exist_ok=True)
    say("generating a self-signed TLS certificate for localhost in var/tls/")
    tmpc, tmpk = d / ".cert.tmp", d / ".key.tmp"
    r = subprocess.run([find_exe("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-days", "825", "-subj", "/CN=localhost/O=ShoEase development",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
                        "-addext", "extendedKeyUsage=serverAuth",
                        "-keyout", str(tmpk), "-out", str(tmpc)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise StackError("openssl failed: " + r.stderr)
    os.chmod(tmpk, 0o600)
    os.replace(tmpk, key)
    os.replace(tmpc, cert)
    return cert, key


def nginx_conf_path(st):
    return st.var / "nginx" / "nginx.conf"


def nginx_prepare(st):
    nd = st.var / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nd / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (nd / "nginx.pid").unlink()
    cert, key = ensure_tls_cert()
    (st.var / "media").mkdir(parents=True, exist_ok=True)
    st.private_dirs()
    values = dict(
        USER_DIRECTIVE="user root;" if IS_ROOT else "# (not root: workers run as %s)" % st.os_user,
        NGINX_DIR=str(nd), LOG_DIR=str(st.log_dir),
        HTTPS_PORT=str(st.ports["HTTPS_PORT"]), HTTP_PORT=str(st.ports["HTTP_PORT"]),
        APP_SOCKET=str(st.app_socket), APP_WRITE_SOCKET=str(st.app_write_socket), TLS_CERT=str(cert), TLS_KEY=str(key),
        STATIC_DIR=str(REPO / "static"), MEDIA_DIR=str(st.var / "media"),
        PRIVATE_DIR=str(st.private_dir),
        HSTS_SECONDS=hsts_seconds(st),
        RATE_GENERAL="20r/s", BURST_GENERAL="40", RATE_STRICT="10r/m", BURST_STRICT="20",
    )
    text = (REPO / "deploy" / "nginx" / "shoease.conf.in").read_text()

    def sub(m):
        k = m.group(1)
        if k not in values:
            raise StackError("shoease.conf.in: unknown placeholder @%s@" % k)
        return values[k]
    text = re.sub(r"@([A-Z_]+)@", sub, text)
    text = "# GENERATED by tools/stack.py from deploy/nginx/shoease.conf.in — do not edit.\n" + text
    write_file_atomic(nginx_conf_path(st), text)
    r = subprocess.run(nginx_argv(st) + ["-t", "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        raise StackError("nginx config test failed:\n" + r.stderr)


def hsts_seconds(st):
    v = parse_env_file(st.env_file).get("HSTS_SECONDS", "")
    return v if v.isdigit() else "31536000"


def nginx_argv(st):
    return [find_exe("nginx"), "-p", str(st.var / "nginx"), "-c", str(nginx_conf_path(st)),
            "-e", str(st.log_path("nginx"))]


def nginx_ready(st):
    return tcp_accepts(st.ports["HTTPS_PORT"]) and tcp_accepts(st.ports["HTTP_PORT"])


# The stack, in start order (stopped in reverse). Later: add
#   Proc("scheduler", app_cmd("scheduler"), app_env=True, restart=True),
PROCESSES = [
    Proc("mariadb", mariadb_argv, ports=("MARIADB_PORT",), prepare=mariadb_prepare,
         ready=mariadb_ready, after_ready=mariadb_bootstrap, ready_timeout=60, stop_timeout=30),
    Proc("redis", redis_argv, ports=("REDIS_PORT",), ready=redis_ready),
    Proc("qredis", qredis_argv, ports=("QREDIS_PORT", "QREDIS_TLS_PORT"), prepare=qredis_prepare,
         ready=qredis_ready, ready_timeout=60, stop_timeout=30),
    Proc("mongodb", ferretdb_argv, ports=("MONGO_PORT",), ready=mongo_ready),
    Proc("smtp", smtp_argv, ports=("SMTP_PORT",), ready=smtp_ready),
    Proc("smsgw", smsgw_argv, ports=("SMSGW_PORT",), ready=smsgw_ready),
    Proc("stripe", stripe_argv, ports=("STRIPE_PORT",), prepare=stripe_prepare, ready=stripe_ready),
    Proc("migrate", app_cmd("migrate"), kind="oneshot", app_env=True, ready_timeout=300),
    Proc("seed", app_cmd("seed"), kind="oneshot", app_env=True, profiles=("dev", "test"), ready_timeout=600),
    Proc("app", app_cmd("serve"), ports=("APP_PORT",), prepare=app_prepare, ready=app_ready, log="shoease",
         app_env=True, restart=True, ready_timeout=60, stop_timeout=lambda st: st.graceful_timeout() + 5),
    Proc("worker", app_cmd("worker"), ready=worker_ready, app_env=True, restart=True, ready_timeout=30,
         stop_timeout=lambda st: st.graceful_timeout() + 5),
    Proc("nginx", nginx_argv, ports=("HTTPS_PORT", "HTTP_PORT"), prepare=nginx_prepare,
         ready=nginx_ready, restart=True),
]
BY_NAME = {p.name: p for p in PROCESSES}


# ------------------------------------------------------------------ the stack

# Secrets write_test_env_file generates; an older var/test/shoease.env
# (--keep-data) missing one is written again.
TEST_GENERATED_KEYS = ("SECRET_KEY", "MARIADB_PASSWORD", "QREDIS_PASSWORD", "SMSGW_TOKEN",
                       "ADMIN_PATH") + STRIPE_SECRET_KEYS


class Stack:
    def __init__(self, profile, app=None):
        if profile not in PROFILES:
            raise StackError("unknown profile %r (dev or test)" % profile)
        self.profile = profile
        # SHOEASE_STACK_INSTANCE=NAME gives a second stack of the same profile
        # its own data dir (var/<profile>-NAME); pair it with
        # SHOEASE_STACK_PORT_OFFSET so benchmarks and tests never share one.
        inst = os.environ.get("SHOEASE_STACK_INSTANCE") or ""
        if inst and not re.fullmatch(r"[a-z0-9]{1,16}", inst):
            raise StackError("SHOEASE_STACK_INSTANCE must be 1-16 lower-case letters or digits")
        self.var = REPO / "var" / (profile + ("-" + inst if inst else ""))
        self.run_dir = self.var / "run"
        self.log_dir = self.var / "log"
        self.state_path = self.var / "stack.json"
        self.owner = str(self.var)
        import pwd
        self.os_user = pwd.getpwuid(os.geteuid()).pw_name
        self._app = app
        self.children = CHILDREN
        self._settings = None
        self.procs = [p for p in PROCESSES if profile in p.profiles]

    # paths
    def graceful_timeout(self):
        try:
            return int(parse_env_file(self.env_file).get("GRACEFUL_TIMEOUT") or 30)
        except ValueError:
            return 30

    def rel(self, p):
        try:
            return str(Path(p).relative_to(REPO))
        except ValueError:
            return str(p)

    def log_path(self, name):
        proc = BY_NAME.get(name)
        return self.log_dir / ("%s.log" % (proc.log if proc and proc.log else name))

    @property
    def app_socket(self):
        return self.run_dir / "shoease.sock"

    @property
    def app_write_socket(self):
        """nginx sends every request but GET and HEAD here: its own thread
        pool in each app worker, so reads never queue behind slow writes."""
        return self.run_dir / "shoease-w.sock"

    def app_exe(self):
        app = self._app or self.read_state().get("app")
        if not app:
            raise StackError("which shoease binary? pass --app (e.g. build/shoease)")
        p = Path(app)
        if not p.is_absolute():
            p = REPO / p
        if not os.access(p, os.X_OK):
            raise StackError("%s is not built (make build / make build-test)" % self.rel(p))
        return str(p)

    @property
    def private_dir(self):
        return self.var / "private"

    def private_dirs(self):
        """PRIVATE_DIR (0750: the stack's user, and nginx running as it) and
        its invoices/; a tree of its own, never under media/."""
        for d in (self.private_dir, self.private_dir / "invoices"):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o750)

    def dirs(self):
        for d in (self.var, self.run_dir, self.log_dir, self.var / "mail", self.var / "media",
                  self.var / "sms", self.var / "outbox"):
            d.mkdir(parents=True, exist_ok=True)
        self.private_dirs()
        if len(str(self.app_write_socket)) > 100 or len(str(self.run_dir / "mariadb.sock")) > 100:
            raise StackError("the repository path is too long for unix sockets (%s)" % self.app_write_socket)

    # settings
    @property
    def env_file(self):
        return REPO / ".env" if self.profile == "dev" else self.var / "shoease.env"

    @property
    def settings(self):
        if self._settings is None:
            self._settings = self.load_settings()
        return self._settings

    def load_settings(self):
        if self.profile == "dev":
            ensure_dev_env_file()
            ensure_dev_env_keys()
            envf = parse_env_file(self.env_file)
            s = dict(PROFILES["dev"])
            for k in PORT_KEYS:
                if envf.get(k):
                    try:
                        s[k] = int(envf[k])
                    except ValueError:
                        raise StackError(".env: %s=%r is not a port" % (k, envf[k]))
            s["MARIADB_USER"] = envf.get("MARIADB_USER") or "shoease"
            s["MARIADB_PASSWORD"] = envf.get("MARIADB_PASSWORD") or ""
            s["MARIADB_DATABASE"] = envf.get("MARIADB_DATABASE") or "shoease"
            s["MONGO_DATABASE"] = envf.get("MONGO_DATABASE") or "shoease"
            if not s["MARIADB_PASSWORD"]:
                raise StackError(".env has no MARIADB_PASSWORD (delete .env to regenerate it)")
            s["QREDIS_PASSWORD"] = envf.get("QREDIS_PASSWORD") or ""
            if not s["QREDIS_PASSWORD"]:
                raise StackError(".env has no QREDIS_PASSWORD")
            s["SMSGW_TOKEN"] = envf.get("SMSGW_TOKEN") or DEV_SMSGW_TOKEN
            # SMS_* keys the developer set in .env: the stack leaves them to .env
            s["ENV_FILE_SMS_KEYS"] = tuple(k for k in SMS_KEYS if envf.get(k))
            for k in STRIPE_SECRET_KEYS:
                s[k] = envf.get(k) or ""
            # STRIPE_API_BASE set in .env (e.g. Stripe's real test API): left to .env
            s["ENV_FILE_STRIPE_API_BASE"] = bool(envf.get("STRIPE_API_BASE"))
            return s
        envf = parse_env_file(self.env_file)
        if any(not envf.get(k) for k in TEST_GENERATED_KEYS):
            envf = self.write_test_env_file()
        s = dict(PROFILES["test"])
        for k in ("MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE", "MONGO_DATABASE",
                  "QREDIS_PASSWORD", "SMSGW_TOKEN") + STRIPE_SECRET_KEYS:
            s[k] = envf[k]
        s["ENV_FILE_SMS_KEYS"] = ()
        s["ENV_FILE_STRIPE_API_BASE"] = False
        return s

    def write_test_env_file(self):
        vals = dict(TEST_SETTINGS)
        vals["SECRET_KEY"] = secrets.token_urlsafe(48)
        vals["MARIADB_PASSWORD"] = secrets.token_hex(16)
        vals["QREDIS_PASSWORD"] = secrets.token_hex(16)
        vals["SMSGW_TOKEN"] = secrets.token_hex(16)
        vals["ADMIN_PATH"] = new_admin_path()
        vals.update(new_stripe_secrets())
        self.var.mkdir(parents=True, exist_ok=True)
        text = "# GENERATED by tools/stack.py for the test profile (new secrets on every `up`).\n"
        text += "".join("%s=%s\n" % kv for kv in vals.items())
        write_file_atomic(self.env_file, text, 0o600)
        self._settings = None
        return vals

    @property
    def ports(self):
        # SHOEASE_STACK_PORT_OFFSET shifts every port of the profile, so a
        # second checkout (or CI on a developer's machine) can run its stacks
        # beside this one's.
        try:
            off = int(os.environ.get("SHOEASE_STACK_PORT_OFFSET") or 0)
        except ValueError:
            raise StackError("SHOEASE_STACK_PORT_OFFSET must be a number")
        return {k: self.settings[k] + off for k in PORT_KEYS}

    def app_env_vars(self):
        """What every shoease invocation gets on top of the inherited env."""
        s, p = self.settings, self.ports
        env = dict(
            SHOEASE_ENV_FILE=str(self.env_file),
            MARIADB_HOST="127.0.0.1", MARIADB_PORT=str(p["MARIADB_PORT"]),
            MARIADB_USER=s["MARIADB_USER"], MARIADB_PASSWORD=s["MARIADB_PASSWORD"],
            MARIADB_DATABASE=s["MARIADB_DATABASE"],
            REDIS_HOST="127.0.0.1", REDIS_PORT=str(p["REDIS_PORT"]),
            QUEUE_REDIS_URL=qredis_url(s["QREDIS_PASSWORD"], "127.0.0.1", p["QREDIS_PORT"]),
            MONGO_URI="mongodb://127.0.0.1:%d/" % p["MONGO_PORT"],
            MONGO_DATABASE=s["MONGO_DATABASE"],
            SMTP_URL="smtp://127.0.0.1:%d" % p["SMTP_PORT"],
            BIND="unix:%s,unix:%s,127.0.0.1:%d" % (self.app_socket, self.app_write_socket, p["APP_PORT"]),
            MEDIA_DIR=str(self.var / "media"),
            PRIVATE_DIR=str(self.private_dir),
            PUBLIC_URL="https://localhost:%d" % p["HTTPS_PORT"],
        )
        # Stripe: stripe-mock. The keys stay in the env file (.env or
        # var/test/shoease.env), where the app reads them and a test may
        # change them, like SECRET_KEY.
        if not s.get("ENV_FILE_STRIPE_API_BASE"):
            env["STRIPE_API_BASE"] = "http://127.0.0.1:%d" % p["STRIPE_PORT"]
        if self.profile == "test":
            # For the tests only (the app ignores the TLS URL): the durable
            # Redis's TLS listener, verified against the stack's certificate.
            env["QUEUE_REDIS_TLS_URL"] = qredis_url(s["QREDIS_PASSWORD"], "localhost", p["QREDIS_TLS_PORT"],
                                                    scheme="rediss")
            env["QUEUE_REDIS_CA"] = str(REPO / "var" / "tls" / "localhost.crt")
        # SMS: the test profile sends through the gateway recorder (smsgw);
        # dev writes codes to a file unless .env chooses otherwise.
        sms = dict(
            SMS_PROVIDER="http" if self.profile == "test" else "log",
            SMS_LOG_PATH=str(self.var / "outbox" / "sms.log"),
            SMS_GATEWAY_URL="http://127.0.0.1:%d/2010-04-01/Accounts/%s/Messages.json" % (
                p["SMSGW_PORT"], SMSGW_SID),
            SMS_ACCOUNT_SID=SMSGW_SID, SMS_AUTH_TOKEN=s["SMSGW_TOKEN"], SMS_FROM="ShoEase",
        )
        for k in s.get("ENV_FILE_SMS_KEYS", ()):
            sms.pop(k, None)
        env.update(sms)
        env.update(SANITIZER_ENV)
        return env

    def base_env(self):
        env = dict(os.environ)
        if self.profile == "test":
            for k in CONFIG_KEYS:
                env.pop(k, None)
        for k in (OWNER_VAR, SERVICE_VAR, "SHOEASE_STACK_STATE"):
            env.pop(k, None)
        return env

    def child_env(self, name, app=False):
        env = self.base_env()
        if app:
            env.update(self.app_env_vars())
        env[OWNER_VAR] = self.owner
        env[SERVICE_VAR] = name
        return env

    def exported_env(self):
        """For `exec` commands and tests: the app env plus ports and paths."""
        env = self.base_env()
        env.update(self.app_env_vars())
        env.update({k: str(v) for k, v in self.ports.items()})
        env["SHOEASE_STACK_STATE"] = str(self.state_path)
        env["SHOEASE_STACK_PROFILE"] = self.profile
        with contextlib.suppress(StackError):
            env["SHOEASE_APP"] = self.app_exe()
        return env

    # state file
    @contextlib.contextmanager
    def lock(self, name="state"):
        self.var.mkdir(parents=True, exist_ok=True)
        with open(self.var / (".%s.lock" % name), "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def read_state(self):
        try:
            return json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def update_state(self, fn):
        with self.lock("state"):
            st = self.read_state()
            fn(st)
            # 0600: it holds the stack's passwords (the app env)
            write_file_atomic(self.state_path, json.dumps(st, indent=2, sort_keys=True) + "\n", 0o600)
            return st

    def base_state(self, status):
        cert, key = ensure_tls_cert()
        p = self.ports
        return dict(
            profile=self.profile, status=status, repo=str(REPO), var=str(self.var),
            app=self.app_exe(), ports=p,
            urls=dict(https="https://localhost:%d" % p["HTTPS_PORT"],
                      http="http://localhost:%d" % p["HTTP_PORT"],
                      direct="http://127.0.0.1:%d" % p["APP_PORT"]),
            paths=dict(tls_cert=str(cert), tls_key=str(key), log_dir=str(self.log_dir),
                       mail_dir=str(self.var / "mail"), media_dir=str(self.var / "media"),
                       sms_dir=str(self.var / "sms"), outbox_dir=str(self.var / "outbox"),
                       qredis_dir=str(self.var / "qredis"),
                       private_dir=str(self.private_dir),
                       worker_log=str(self.log_path("worker")),
                       app_socket=str(self.app_socket), env_file=str(self.env_file),
                       mariadb_socket=str(self.run_dir / "mariadb.sock"),
                       app_log=str(self.log_path("app"))),
            env=self.app_env_vars(),
            services={}, supervisor=None,
            stack_py=str(Path(__file__).resolve()),
        )

    def pid_file(self, name):
        return self.run_dir / ("%s.pid" % name)

    # one process
    def start(self, proc, quiet=False):
        if proc.kind == "daemon":
            for key in proc.ports:
                port = self.ports[key]
                if not port_bindable(port):
                    raise StackError("%s: port %d (%s) is already in use on 127.0.0.1 — "
                                     "another stack or a system service? (`ss -ltnp`)" % (proc.name, port, key))
        if proc.prepare:
            proc.prepare(self)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file(proc.name).unlink()
        argv = proc.argv(self)
        log = self.log_path(proc.name)
        with open(log, "ab") as f:
            f.write(("--- %s stack.py: starting %s: %s\n" % (
                time.strftime("%Y-%m-%d %H:%M:%S"), proc.name, " ".join(argv))).encode())
            f.flush()
            if not quiet:
                say("running `shoease %s`" % argv[-1] if proc.kind == "oneshot" and proc.app_env
                    else "starting %s" % proc.name)
            # The app runs in the repository (relative TEMPLATE_DIR etc.);
            # the rest in var/<profile>/ (see owned_processes).
            cwd = REPO if proc.app_env else self.var
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=str(cwd), env=self.child_env(proc.name, proc.app_env),
                                 start_new_session=True)
        self.children[p.pid] = p
        if proc.kind == "oneshot":
            try:
                rc = p.wait(timeout=proc.ready_timeout)
            except subprocess.TimeoutExpired:
                self.kill_tree(proc.name, p.pid, 5)
                raise StackError("%s timed out after %ds; see %s:\n%s" % (
                    proc.name, proc.ready_timeout, self.rel(log), log_tail(log)))
            finally:
                self.children.pop(p.pid, None)
            if rc != 0:
                raise StackError("`%s` failed (exit %d); see %s:\n%s" % (
                    " ".join(argv[-1:]) if proc.app_env else proc.name, rc, self.rel(log), log_tail(log)))
            return None
        start = proc_starttime(p.pid)
        self.pid_file(proc.name).write_text("%d %s\n" % (p.pid, start))

        def record(s):
            s.setdefault("services", {})[proc.name] = dict(
                pid=p.pid, starttime=start, started=time.time(), stopped=False, log=str(log))
        self.update_state(record)
        deadline = time.monotonic() + proc.ready_timeout
        while True:
            if not alive(p.pid):
                reap(p.pid)
                rc = p.poll()
                raise StackError("%s exited during start-up (exit %s); see %s:\n%s" % (
                    proc.name, rc, self.rel(log), log_tail(log)))
            if proc.ready is None or proc.ready(self):
                break
            if time.monotonic() > deadline:
                self.kill_tree(proc.name, p.pid, 5)
                raise StackError("%s not ready after %ds; see %s:\n%s" % (
                    proc.name, proc.ready_timeout, self.rel(log), log_tail(log)))
            time.sleep(0.1)
        if proc.after_ready:
            proc.after_ready(self)
        return p.pid

    def ours(self, pid, starttime=None):
        """Is pid a live process of this stack? By recorded start time (some
        programs, e.g. redis, overwrite their environment) or by marker."""
        if not alive(pid):
            return False
        if starttime is not None and proc_starttime(pid) == starttime:
            return True
        return proc_environ(pid).get(OWNER_VAR) == self.owner

    def kill_tree(self, name, pid, timeout, sig=signal.SIGTERM):
        """sig to pid, wait, then SIGKILL its process group and any other
        process of this service still around (e.g. orphaned workers)."""
        if pid and alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                reap(pid)
                time.sleep(0.05)
            reap(pid)
            if alive(pid):
                say("%s did not stop within %ds: SIGKILL" % (name, timeout), err=True)
        if pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        # children of the service that left its process group, or that
        # outlived their group leader
        deadline = time.monotonic() + 5
        while True:
            rest = owned_processes(self.owner, name)
            if not rest or time.monotonic() > deadline:
                break
            for q in rest:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(q, signal.SIGKILL)
            time.sleep(0.05)
        if pid:
            reap(pid)
            p = self.children.pop(pid, None)
            if p:
                with contextlib.suppress(Exception):
                    p.wait(timeout=1)

    def stop(self, proc, quiet=False):
        st = self.read_state()
        sv = st.get("services", {}).get(proc.name, {})
        pid, start = sv.get("pid"), sv.get("starttime")
        if not pid:
            with contextlib.suppress(OSError, ValueError):
                pid, start = map(int, self.pid_file(proc.name).read_text().split()[:2])
        if pid and not self.ours(pid, start):
            reap(pid)
            pid = None  # not ours (reused pid, or already gone)
        if pid and not quiet:
            say("stopping %s (pid %d)" % (proc.name, pid))
        timeout = proc.stop_timeout(self) if callable(proc.stop_timeout) else proc.stop_timeout
        self.kill_tree(proc.name, pid, timeout, proc.stop_signal)

        def record(s):
            svc = s.setdefault("services", {}).setdefault(proc.name, {})
            svc["stopped"] = True
            svc["pid"] = None
        if self.state_path.exists():
            self.update_state(record)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file(proc.name).unlink()
        if proc.name == "app":
            for f in (self.app_socket, self.app_write_socket):
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()

    # the whole stack
    def stop_supervisor(self):
        """A `stack.py run` of this profile in another terminal stops its
        stack itself when sent SIGTERM. Call without holding the ops lock."""
        st = self.read_state()
        sup = st.get("supervisor")
        if sup and sup != os.getpid() and alive(sup) and \
                proc_starttime(sup) == st.get("supervisor_starttime"):
            say("asking the running `stack.py run` (pid %d) to stop" % sup)
            with contextlib.suppress(ProcessLookupError):
                os.kill(sup, signal.SIGTERM)
            deadline = time.monotonic() + 120
            while alive(sup) and time.monotonic() < deadline:
                time.sleep(0.1)

    def cleanup_leftovers(self, quiet=False):
        """Stop everything a previous (maybe crashed) run left behind."""
        for proc in reversed(self.procs):
            self.stop(proc, quiet=quiet)
        rest = owned_processes(self.owner)
        if rest:
            say("stopping leftover processes: %s" % " ".join(map(str, rest)))
            for q in rest:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(q, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and owned_processes(self.owner):
                time.sleep(0.1)
            for q in owned_processes(self.owner):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(q, signal.SIGKILL)
        for f in self.run_dir.glob("*.pid") if self.run_dir.exists() else ():
            f.unlink()
        for f in (self.app_socket, self.app_write_socket, self.run_dir / "mariadb.sock",
                  self.run_dir / "mariadb.sock.lock"):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()

    def wipe_data(self):
        for sub in ("mariadb", "redis", "qredis", "ferretdb", "mail", "sms", "outbox", "media", "private"):
            shutil.rmtree(self.var / sub, ignore_errors=True)

    def up(self, supervisor=False, fresh=False):
        self.stop_supervisor()
        with self.lock("ops"):
            self.cleanup_leftovers(quiet=True)
            if fresh:
                self.wipe_data()
                if self.profile == "test":
                    self.write_test_env_file()
            self._settings = None
            self.dirs()
            state = self.base_state("starting")
            if supervisor:
                state["supervisor"] = os.getpid()
                state["supervisor_starttime"] = proc_starttime(os.getpid())
            with self.lock("state"):
                write_file_atomic(self.state_path, json.dumps(state, indent=2, sort_keys=True) + "\n", 0o600)
            t0 = time.monotonic()
            try:
                for proc in self.procs:
                    self.start(proc)
            except BaseException:
                say("start-up failed; stopping what was started", err=True)
                self.cleanup_leftovers(quiet=True)
                self.update_state(lambda s: s.update(status="down", supervisor=None))
                raise
            self.update_state(lambda s: s.update(status="up"))
            say("all services ready in %.1fs" % (time.monotonic() - t0))

    def down(self):
        self.stop_supervisor()
        with self.lock("ops"):
            had = self.state_path.exists() or owned_processes(self.owner)
            self.cleanup_leftovers()
            if self.state_path.exists():
                self.update_state(lambda s: s.update(status="down", supervisor=None))
            busy = [k for k, v in self.ports.items() if not port_bindable(v)] if self.state_path.exists() else []
            if busy:
                say("warning: still listening: %s" % ", ".join("%s=%d" % (k, self.ports[k]) for k in busy), err=True)
            say("%s stack stopped" % self.profile if had else "%s stack was not running" % self.profile)
            return 0 if not busy else 1

    def service(self, action, name):
        if name not in BY_NAME or BY_NAME[name] not in self.procs:
            raise StackError("unknown service %r (one of: %s)" % (
                name, ", ".join(p.name for p in self.procs)))
        proc = BY_NAME[name]
        with self.lock("ops"):
            if action in ("stop", "restart"):
                self.stop(proc)
            if action in ("start", "restart"):
                if proc.kind == "daemon":
                    sv = self.read_state().get("services", {}).get(name, {})
                    if sv.get("pid") and alive(sv["pid"]) and not sv.get("stopped"):
                        say("%s is already running (pid %d)" % (name, sv["pid"]))
                        return 0
                self.start(proc)
                say("%s is up" % name)
        return 0

    def status(self):
        st = self.read_state()
        if not st:
            say("%s stack: not running" % self.profile)
            return 3
        ok = True
        print("%s stack (%s): %s" % (self.profile, self.rel(self.state_path), st.get("status")))
        for proc in self.procs:
            if proc.kind != "daemon":
                continue
            sv = st.get("services", {}).get(proc.name, {})
            pid = sv.get("pid")
            up = bool(pid) and alive(pid)
            ok &= up
            ports = " ".join("%s=%d" % (k, self.ports[k]) for k in proc.ports)
            if proc.name == "qredis":
                ports += " (durable: AOF, noeviction, password, TLS)"
            print("  %-8s %-8s pid %-7s %s" % (proc.name, "up" if up else ("stopped" if sv.get("stopped") else "DOWN"),
                                              pid or "-", ports))
        print("  %s/" % st.get("urls", {}).get("https", ""))
        return 0 if ok else 3


# ------------------------------------------------------------------ foreground run

COLORS = ["36", "33", "35", "32", "34", "31", "96", "93", "95"]


class LogStreamer(threading.Thread):
    """Follows var/<p>/log/*.log and prints new lines prefixed by service."""

    def __init__(self, log_dir, skip=("nginx.access",)):
        super().__init__(daemon=True)
        self.log_dir = Path(log_dir)
        self.skip = set(skip)
        self.offsets = {}
        self.stop_evt = threading.Event()
        self.tty = sys.stdout.isatty()
        for f in self.log_dir.glob("*.log"):
            self.offsets[f] = f.stat().st_size
        self.partial = {}

    def prefix(self, name):
        width = 8
        if not self.tty:
            return "%-*s| " % (width, name)
        color = COLORS[sum(map(ord, name)) % len(COLORS)]
        return "\033[%sm%-*s|\033[0m " % (color, width, name)

    def poll(self):
        for f in sorted(self.log_dir.glob("*.log")):
            name = f.name[:-4]
            if name in self.skip:
                continue
            off = self.offsets.get(f, 0)
            try:
                size = f.stat().st_size
                if size < off:
                    off = 0
                if size == off:
                    continue
                with open(f, "rb") as fh:
                    fh.seek(off)
                    data = fh.read(size - off)
            except OSError:
                continue
            self.offsets[f] = off + len(data)
            data = self.partial.pop(f, b"") + data
            lines = data.split(b"\n")
            if lines[-1]:
                self.partial[f] = lines[-1]
            for line in lines[:-1]:
                sys.stdout.write(self.prefix(name) + line.decode("utf-8", "replace") + "\n")
            sys.stdout.flush()

    def run(self):
        while not self.stop_evt.is_set():
            self.poll()
            self.stop_evt.wait(0.2)
        self.poll()


def banner(url):
    line = "ShoEase is up: %s" % url
    bar = "=" * (len(line) + 4)
    if sys.stdout.isatty():
        return "\n\033[1;32m%s\n  %s\n%s\033[0m\n" % (bar, line, bar)
    return "\n%s\n  %s\n%s\n" % (bar, line, bar)


def cmd_run(stack):
    stopping = []

    def on_signal(signum, frame):
        if stopping:
            return
        stopping.append(signum)
        raise Interrupted()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    stack.dirs()
    streamer = LogStreamer(stack.log_dir)
    streamer.start()
    rc = 0
    try:
        stack.up(supervisor=True)
        streamer.poll()
        print(banner("https://localhost:%d/" % stack.ports["HTTPS_PORT"]), flush=True)
        say("logs are in %s/; Ctrl-C stops everything" % stack.rel(stack.log_dir))
        supervise(stack)
    except Interrupted:
        pass
    except StackError as e:
        say(str(e), err=True)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping the %s stack" % stack.profile)
        try:
            with stack.lock("ops"):
                for proc in reversed(stack.procs):
                    stack.stop(proc)
                stack.cleanup_leftovers(quiet=True)
                stack.update_state(lambda s: s.update(status="down", supervisor=None))
        finally:
            streamer.stop_evt.set()
            streamer.join(timeout=2)
        say("stopped")
    return rc


def supervise(stack):
    """Watch the daemons; report deaths; restart those with restart=True."""
    failures = {}    # name -> [times of recent restarts]
    while True:
        time.sleep(0.5)
        for pid in list(stack.children):
            reap(pid)
        st = stack.read_state()
        for proc in stack.procs:
            if proc.kind != "daemon":
                continue
            sv = st.get("services", {}).get(proc.name, {})
            if sv.get("stopped") or not sv.get("pid") or alive(sv["pid"]):
                continue
            # Dead. Re-check under the ops lock: `service stop` may be at work.
            with stack.lock("ops"):
                sv = stack.read_state().get("services", {}).get(proc.name, {})
                if sv.get("stopped") or not sv.get("pid") or alive(sv["pid"]):
                    continue
                pid = sv["pid"]
                p = stack.children.get(pid)
                rc = p.poll() if p else None
                say("%s (pid %d) died unexpectedly (exit %s); see %s" % (
                    proc.name, pid, rc, stack.rel(stack.log_path(proc.name))), err=True)
                stack.kill_tree(proc.name, pid, 1)
                if not proc.restart:
                    stack.update_state(lambda s, n=proc.name: s["services"][n].update(pid=None))
                    say("%s is not restarted automatically: `tools/stack.py service start %s --profile %s`"
                        % (proc.name, proc.name, stack.profile), err=True)
                    continue
                now = time.monotonic()
                recent = [t for t in failures.get(proc.name, []) if now - t < 60]
                failures[proc.name] = recent + [now]
                if len(recent) >= 5:
                    say("%s keeps dying (%d times in a minute); not restarting it" % (
                        proc.name, len(recent) + 1), err=True)
                    stack.update_state(lambda s, n=proc.name: s["services"][n].update(pid=None, stopped=True))
                    continue
                time.sleep(min(2 ** len(recent) * 0.5, 10))
                try:
                    stack.start(proc)
                    say("%s restarted" % proc.name)
                except StackError as e:
                    say("restarting %s failed: %s" % (proc.name, e), err=True)


# ------------------------------------------------------------------ exec

def cmd_exec(stack, argv, fresh):
    if not argv:
        raise StackError("exec: give a command after --")
    child = []
    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        if child and child[0].poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child[0].send_signal(signal.SIGTERM)
        else:
            raise Interrupted()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # Reap the services we start (they are our children) when a test stops
    # one with `stack.py service stop`, so they don't linger as zombies.
    stop_reaper = threading.Event()

    def reaper():
        while not stop_reaper.wait(0.5):
            for pid in list(stack.children):
                reap(pid)
    threading.Thread(target=reaper, daemon=True).start()

    rc = 1
    try:
        try:
            stack.up(fresh=fresh)
        except StackError as e:
            say(str(e), err=True)
            return 1
        logs = [stack.log_path(n) for n in ("app", "worker") if n in BY_NAME and BY_NAME[n] in stack.procs]
        starts = [f.stat().st_size if f.exists() else 0 for f in logs]
        say("running: %s" % " ".join(argv))
        p = subprocess.Popen(argv, env=stack.exported_env(), cwd=str(REPO))
        child.append(p)
        rc = p.wait()
        for f, start in zip(logs, starts):
            report_sanitizers(stack, f, start)
    except Interrupted:
        rc = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_reaper.set()
        stack.down()
    if interrupted and rc == 0:
        rc = 130
    return rc


def report_sanitizers(stack, log, start):
    try:
        with open(log, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return
    hits = [l for l in text.splitlines()
            if "ERROR: AddressSanitizer" in l or "runtime error:" in l or "ERROR: LeakSanitizer" in l]
    if hits:
        say("WARNING: %d sanitizer report(s) in %s during the run, e.g.:" % (len(hits), stack.rel(log)), err=True)
        for l in hits[:5]:
            say("    " + l.strip(), err=True)


# ------------------------------------------------------------------ main

def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", choices=sorted(PROFILES), default="dev")
    common.add_argument("--app", help="the shoease binary (build/shoease, build-test/shoease)")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", parents=[common], help="start in the foreground, stream logs")
    p = sub.add_parser("up", parents=[common], help="start in the background")
    p.add_argument("--fresh", action="store_true", help="wipe the profile's data first")
    p.add_argument("--keep-data", action="store_true", help="test profile: keep data from the last run")
    sub.add_parser("down", parents=[common], help="stop everything")
    sub.add_parser("status", parents=[common], help="show what runs")
    sub.add_parser("env", parents=[common], help="print the app environment as shell exports")
    p = sub.add_parser("service", parents=[common], help="stop/start/restart one service")
    p.add_argument("action", choices=("stop", "start", "restart"))
    p.add_argument("name", choices=[x.name for x in PROCESSES])
    p = sub.add_parser("exec", parents=[common], help="up, run a command, down")
    p.add_argument("--keep-data", action="store_true", help="test profile: keep data from the last run")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)

    stack = Stack(args.profile, args.app)
    try:
        if args.cmd == "run":
            return cmd_run(stack)
        if args.cmd == "up":
            fresh = args.fresh or (args.profile == "test" and not args.keep_data)
            stack.up(fresh=fresh)
            say("%s stack is up: https://localhost:%d/ (state: %s)" % (
                args.profile, stack.ports["HTTPS_PORT"], stack.rel(stack.state_path)))
            return 0
        if args.cmd == "down":
            return stack.down()
        if args.cmd == "status":
            return stack.status()
        if args.cmd == "env":
            for k, v in sorted(stack.app_env_vars().items()):
                print("export %s=%s" % (k, shell_quote(v)))
            return 0
        if args.cmd == "service":
            return stack.service(args.action, args.name)
        if args.cmd == "exec":
            cmd = args.command
            if cmd and cmd[0] == "--":
                cmd = cmd[1:]
            fresh = args.profile == "test" and not args.keep_data
            return cmd_exec(stack, cmd, fresh)
    except StackError as e:
        say("error: %s" % e, err=True)
        return 1
    except Interrupted:
        say("interrupted", err=True)
        return 130
    return 2


def shell_quote(s):
    import shlex
    return shlex.quote(s)


if __name__ == "__main__":
    sys.exit(main())
