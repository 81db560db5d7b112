"""common.py — what the benchmarks in bench/ share (standard library only).

  - the test stack (tools/stack.py, profile test): use it if it is up and runs
    the binary asked for, else start it; refuse while tests use it; notice
    when it is replaced under a measurement (`Disturbed`);
  - the quiet-machine check (`wait_quiet`): wait until other work leaves the
    CPUs alone before a measured run;
  - wrk runs and their parsing;
  - a tiny Redis client (RESP2) for the durable Redis, and CPU accounting of
    processes through /proc.

Used by store_bench.py (pages), jobs_bench.py (the job queue) and
activity_bench.py (the cost of request activity logging).
"""
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = "/usr/bin/python3"
STACK = [PYTHON, str(REPO / "tools" / "stack.py")]
# SHOEASE_STACK_INSTANCE=NAME (with SHOEASE_STACK_PORT_OFFSET=N) gives a
# benchmark a test-profile stack of its own in var/test-NAME (tools/stack.py
# passes both on): `make test` in this checkout then cannot replace it.
INSTANCE = os.environ.get("SHOEASE_STACK_INSTANCE") or ""
STATE = REPO / "var" / ("test-" + INSTANCE if INSTANCE else "test") / "stack.json"


def say(msg=""):
    print(msg, flush=True)


def env_default(name, default):
    return os.environ.get(name) or default


# ------------------------------------------------------------------ http

def fetch(port, path, tls=False, headers=None, timeout=15):
    """GET http(s)://127.0.0.1:port/path → (status, {lower-case header: value}, body)."""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE   # the stack's self-signed localhost cert
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def try_fetch(port, path, **kw):
    try:
        return fetch(port, path, **kw)
    except (OSError, http.client.HTTPException) as e:
        return None, {}, str(e).encode()


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


# ------------------------------------------------------------------ the stack

def read_state():
    try:
        return json.loads(STATE.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _argv(pid):
    try:
        raw = Path("/proc/%s/cmdline" % pid).read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def stack_busy():
    """pids of what uses the test stack besides us: `stack.py exec|run
    --profile test` (e.g. someone's make test, from any checkout: the test
    profile's ports are fixed) and pytest runs of tests/integration started
    by hand against a stack that is up (they restart services, fill queues).
    Benchmarking then would disturb their tests and they would skew ours."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        argv = _argv(d.name)
        if any(a.endswith("tools/stack.py") for a in argv) and ("exec" in argv or "run" in argv) \
                and "test" in argv:
            out.append(int(d.name))
        elif any(a == "pytest" or a.endswith("/pytest") for a in argv[:3]) \
                and any("tests/integration" in a for a in argv):
            out.append(int(d.name))
    return out


DEFAULT_IDENTITY = ("app", "nginx", "mariadb", "redis")


def stack_identity(state, names=DEFAULT_IDENTITY):
    """Which processes make up the stack now: if this changes during a run,
    someone else (another `stack.py up/exec --profile test`, e.g. make test in
    any checkout) has replaced the stack under the benchmark."""
    return tuple(sorted((name, sv.get("pid"), sv.get("started"))
                        for name, sv in state.get("services", {}).items()
                        if name in names))


class Disturbed(Exception):
    pass


def wait_not_busy(limit, every=10):
    """Wait at most limit s for running tests to end; [] or the pids still busy."""
    deadline = time.monotonic() + limit
    busy = stack_busy()
    while busy and time.monotonic() < deadline:
        time.sleep(min(every, max(0.0, deadline - time.monotonic())))
        busy = stack_busy()
    return busy


def check_stack(ident, names=DEFAULT_IDENTITY, busy_wait=0):
    """The stack is still the same processes and no tests run. On the shared
    test stack tests starting mean abort (they replace or use the stack); on
    a private instance (SHOEASE_STACK_INSTANCE) they only compete for the
    CPUs, so with busy_wait this waits for them to end first."""
    state = read_state()
    busy = stack_busy()
    if busy and INSTANCE and busy_wait > 0:
        say("   tests are running (pid %s): waiting for them to end (at most %d s)" % (
            ", ".join(map(str, busy)), busy_wait))
        busy = wait_not_busy(busy_wait)
        state = read_state()
    if busy:
        raise Disturbed("the test stack is used by tests (stack.py exec/run or pytest tests/integration)"
                        " started meanwhile (pid %s)" % ", ".join(map(str, busy)))
    if state.get("status") != "up" or stack_identity(state, names) != ident:
        raise Disturbed("the test stack was stopped or replaced meanwhile (status %s, app %s)" % (
            state.get("status"), state.get("app")))
    return state


def same_stack(ident, names=DEFAULT_IDENTITY):
    """Is the stack still up and made of the same processes? (Tests running
    elsewhere do not matter here: for putting back what a benchmark changed.)"""
    state = read_state()
    return state.get("status") == "up" and stack_identity(state, names) == ident


def stack_up_and_healthy(state):
    if state.get("status") != "up":
        return False
    port = state.get("ports", {}).get("APP_PORT")
    return bool(port) and try_fetch(port, "/healthz")[0] == 200


def stack_env(app):
    r = subprocess.run(STACK + ["env", "--profile", "test", "--app", app], cwd=REPO,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("bench: `stack.py env` failed:\n" + r.stderr)
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ") if k in os.environ}
    for line in r.stdout.splitlines():
        parts = shlex.split(line)
        if len(parts) == 2 and parts[0] == "export" and "=" in parts[1]:
            k, v = parts[1].split("=", 1)
            env[k] = v
    return env


class CannotMeasure(Exception):
    """Exit 2: the benchmark could not measure (message says why)."""


def use_test_stack(app, no_start=False, force=False, busy_wait=0):
    """The test stack, running `app`: (state, started). Starts it when it is
    not up (unless no_start); refuses (CannotMeasure) while tests use it
    (after waiting up to busy_wait s, looking once a minute for them to end)
    or when it serves another binary."""
    busy = stack_busy()
    if busy and not force and busy_wait > 0:
        say("== tests are using the test stack (pid %s): waiting for them to end (at most %d s)" % (
            ", ".join(map(str, busy)), busy_wait))
        busy = wait_not_busy(busy_wait, every=60)
    if busy and not force:
        raise CannotMeasure(
            "the test stack is in use by `stack.py exec/run` or a pytest run of tests/integration"
            " (pid %s, e.g. someone's make test); not benchmarking against it. Try again when it is"
            " done (or --force)." % ", ".join(map(str, busy)))
    state = read_state()
    started = False
    if stack_up_and_healthy(state):
        pass
    elif no_start:
        raise CannotMeasure("the test stack is not up (--no-start)")
    else:
        say("== starting the test stack: stack.py up --profile test --app %s%s" % (
            app, " (instance %s: %s)" % (INSTANCE, STATE.parent.relative_to(REPO)) if INSTANCE else ""))
        r = subprocess.run(STACK + ["up", "--profile", "test", "--app", app], cwd=REPO)
        if r.returncode != 0:
            subprocess.run(STACK + ["down", "--profile", "test"], cwd=REPO)
            raise CannotMeasure("the test stack did not start")
        started = True
        state = read_state()
    app_bin = state.get("app", "?")
    want = (REPO / app).resolve()
    if Path(app_bin).resolve() != want:
        if started:
            subprocess.run(STACK + ["down", "--profile", "test"], cwd=REPO)
        raise CannotMeasure(
            "the running test stack serves %s, not %s; not measuring a different binary."
            " Stop it (stack.py down --profile test) or pass --app %s." % (app_bin, want, app_bin))
    if not started:
        say("== using the running test stack (app %s); it stays up" % app_bin)
    return state, started


def release_test_stack(started, ident, keep_up, names=DEFAULT_IDENTITY):
    """Stop the stack if this run started it and it is still the same one."""
    if not started:
        return
    still_ours = ident is not None and same_stack(ident, names)
    if not still_ours:
        say("== not stopping the test stack: it is no longer the one this started")
    elif stack_busy() and not INSTANCE:
        say("== not stopping the test stack: tests are using it now (stack.py down --profile test when they are done)")
    elif not keep_up:
        say("== stopping the test stack this started")
        subprocess.run(STACK + ["down", "--profile", "test"], cwd=REPO)
    else:
        say("== the test stack stays up (--keep-up): stack.py down --profile test")


def stack_service(action, name, timeout=120):
    """tools/stack.py service ACTION NAME --profile test; True when it worked."""
    try:
        r = subprocess.run(STACK + ["service", action, name, "--profile", "test"], cwd=REPO,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        say("   stack.py service %s %s did not finish in %d s" % (action, name, timeout))
        return False
    if r.returncode != 0:
        say("   stack.py service %s %s failed:\n%s" % (action, name, (r.stdout + r.stderr).strip()))
    return r.returncode == 0


# ------------------------------------------------------------------ wrk

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v or "")
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else float("nan")


def wrk(args, url, duration, lua=None, lua_args=()):
    """One wrk run (args.threads, args.conns) → {rps, p99, requests, errors, raw}."""
    argv = ["wrk", "-t%d" % args.threads, "-c%d" % args.conns, "-d%s" % duration, "--timeout", "5s",
            "--latency"]
    if lua:
        argv += ["-s", str(lua)]
    argv.append(url)
    if lua_args:
        argv += ["--"] + list(lua_args)
    secs = float(re.sub(r"[a-z]+$", "", duration)) * {"s": 1, "m": 60}.get(duration[-1], 1)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 30)
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        out = "wrk did not finish in time"
    res = dict(rps=0.0, p99=float("nan"), requests=0, errors=0, raw=out)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if m:
        res["p99"] = to_ms(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] += sum(int(x) for x in m.groups())
    return res


def fmt_ratio(r):
    return "%.2f" % r if r >= 0.1 else "%.3f" % r


# ------------------------------------------------------------------ a quiet machine

def busy_pct():
    """How busy the CPUs are over 1 s while this sends nothing (= other work)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v[:8]) - idle, idle
    b0, i0 = snap()
    time.sleep(1)
    b1, i1 = snap()
    d = (b1 - b0) + (i1 - i0)
    return 100.0 * (b1 - b0) / d if d else 0.0


def wait_quiet(pct, max_wait):
    """Wait (at most max_wait s) until other work uses at most pct % of the
    CPUs; return the last value seen (reported with the result)."""
    deadline = time.monotonic() + max_wait
    while True:
        b = busy_pct()
        if b <= pct or time.monotonic() >= deadline:
            return b
        time.sleep(2)


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


# ------------------------------------------------------------------ /proc CPU accounting

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, CPU ticks) or None. The ticks are utime + stime of every thread
    plus cutime + cstime: children that ended and were waited for (Redis's
    AOF-rewrite forks) count for their parent."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])


def process_tree(root):
    """root and its descendants (pids)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                children.setdefault(st[0], []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class CpuMeter:
    """CPU time used by groups of processes between start() and stop(), in
    % of one core. A group is a root pid: the process and its descendants,
    looked up again at every sample, so short-lived children are counted
    from when they are first seen. Also: 'machine' (% of all CPUs busy),
    'self' (this harness and the children it waited for meanwhile, e.g. wrk)
    and 'other' (% of all CPUs busy with anything else: other people's work
    during the measurement)."""

    def __init__(self, groups):
        self.groups = groups            # name -> root pid
        self.seen = {}                  # (name, pid) -> first ticks
        self.last = {}                  # (name, pid) -> last ticks
        self.t0 = self.t1 = None
        self.total0 = self.total1 = None

    @staticmethod
    def _total():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]), v[3] + v[4]

    def sample(self):
        for name, root in self.groups.items():
            if not root:
                continue
            for pid in process_tree(root):
                st = proc_stat(pid)
                if st:
                    self.seen.setdefault((name, pid), st[1])
                    self.last[(name, pid)] = st[1]

    @staticmethod
    def _self_secs():
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def start(self):
        self.t0 = time.monotonic()
        self.total0 = self._total()
        self.self0 = self._self_secs()
        self.sample()

    def stop(self):
        self.sample()
        self.t1 = time.monotonic()
        self.total1 = self._total()
        self.self1 = self._self_secs()

    def result(self):
        """{name: % of one core}, plus 'machine': % of all CPUs busy."""
        secs = max(self.t1 - self.t0, 1e-6)
        out = {}
        for name, root in self.groups.items():
            ticks = sum(self.last[k] - self.seen[k] for k in self.last if k[0] == name)
            out[name] = 100.0 * ticks / CLK_TCK / secs
            # the root process alone (a prefork master, Celery's consumer)
            k = (name, root)
            out[name + ".root"] = 100.0 * (self.last[k] - self.seen[k]) / CLK_TCK / secs if k in self.last else 0.0
        (a0, i0), (a1, i1) = self.total0, self.total1
        d = a1 - a0
        busy = (a1 - a0) - (i1 - i0)
        out["machine"] = 100.0 * busy / d if d else 0.0
        out["self"] = 100.0 * (self.self1 - self.self0) / secs
        ours = sum(self.last[k] - self.seen[k] for k in self.last) + (self.self1 - self.self0) * CLK_TCK
        out["other"] = max(0.0, 100.0 * (busy - ours) / d) if d else 0.0
        return out


# ------------------------------------------------------------------ a tiny Redis client

class RedisError(Exception):
    pass


class Redis:
    """Just enough RESP2 for the benchmarks: AUTH, SELECT, commands, pipelines."""

    def __init__(self, url, timeout=30):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "redis":
            raise ValueError("only redis:// URLs (got %s)" % u.scheme)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 6379
        self.password = urllib.parse.unquote(u.password) if u.password else None
        self.db = int(u.path.strip("/") or 0)
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")
        if self.password:
            self.call("AUTH", self.password)
        if self.db:
            self.call("SELECT", str(self.db))

    def url_of(self, db=None):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "redis://%s%s:%d/%d" % (auth, self.host, self.port, self.db if db is None else db)

    @staticmethod
    def _encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _read(self):
        line = self.f.readline()
        if not line:
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2].decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line[:40])

    def pipeline(self, cmds):
        self.sock.sendall(b"".join(self._encode(c) for c in cmds))
        return [self._read() for _ in cmds]

    def call(self, *args):
        r = self.pipeline([args])[0]
        if isinstance(r, RedisError):
            raise r
        return r

    def scan_delete(self, pattern, batch=5000):
        """UNLINK every key matching pattern; the count."""
        n, cursor = 0, "0"
        while True:
            cursor, keys = self.call("SCAN", cursor, "MATCH", pattern, "COUNT", batch)
            for i in range(0, len(keys), batch):
                n += self.call("UNLINK", *keys[i:i + batch])
            if cursor == "0":
                return n

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def add_stack_options(ap):
    """The test-stack options every harness takes (see use_test_stack)."""
    ap.add_argument("--keep-up", action="store_true", help="leave a stack this started running")
    ap.add_argument("--no-start", action="store_true", help="never start the stack; measure only if it is up")
    ap.add_argument("--force", action="store_true", help="measure even while tests use the test stack")
    ap.add_argument("--busy-wait", type=float, default=float(env_default("BUSY_WAIT", "1200")),
                    help="while tests use the test stack, wait at most this long for them to end before refusing"
                         " (on a private SHOEASE_STACK_INSTANCE also during the run)")


def missing_tool(tools):
    """The first of tools not on PATH (or not there as an absolute path), or None."""
    return next((t for t in tools if not shutil.which(t)), None)


def seed_stack(app_bin, env):
    """`shoease seed` on the stack; a failure is a warning (the benchmark
    then measures whatever the database has)."""
    say("== shoease seed (test env)")
    r = subprocess.run([app_bin, "seed"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        say("   WARNING: seed exited %d; measuring whatever the database has: %s" % (
            r.returncode, (r.stdout + r.stderr).strip()[-300:]))
