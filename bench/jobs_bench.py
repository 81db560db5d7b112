#!/usr/bin/python3
"""jobs_bench.py — the job queue's throughput and pick-up latency on this
machine, with Celery on the same Redis as the reference (`make bench-jobs`).

One run measures, on the test stack's durable Redis (tools/stack.py, profile
test; started if it is not up, like store_bench.py):

  drain    `shoease jobs fill N` (N bench.noop jobs, 1,000 per round trip:
           the enqueue rate), then `shoease worker` with JOB_PROCESSES=2 and
           JOB_CONCURRENCY=bench=K for each K in --concurrency (threads per
           process): the time until every job is acked (XLEN q:bench:s = 0,
           i.e. waiting = in-flight = 0, and q:bench:stats done grew by N).
  latency  the workers idle on an empty queue, then `shoease jobs fill M
           --rate R` (R jobs/s for --latency-seconds): p50/p99 of pickup_ms
           (read by the worker minus enqueued, wall-clock ms) from the
           worker's JSON log lines.
  celery   the reference: the same N no-op tasks sent with .delay(), then
           `celery worker --pool=prefork --concurrency=2` with
           task_acks_late=True, on the same Redis in database --celery-db
           (bench/celery_ref/; a venv in var/bench/celery-venv, created with
           pip install celery[redis] the first time).

"Drained" means acked after the handler ran, for both: ShoEase counts a job
when its ack script ran (XACK + XDEL + done mark), Celery when its message left
the queue list and the `unacked` hash (kombu removes it there when the task
has returned, acks_late). The drain rate is measured from the first job
acked to the last (worker start-up excluded for both; the time including it
is printed too).

Rounds are interleaved (round 1 runs every scenario, then round 2, ...);
before each measurement the CPUs are sampled for 1 s and other work must be
under --quiet-pct. The stack's own `worker` service is stopped for the run
(so only the benchmark's workers consume) and started again at the end.

Target (from the issue): >= 20,000 jobs/s drained with 2 worker processes:
PASS/MISS, never an error. Exit 2: could not measure. Standard library only
(Celery lives in its venv).
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    HERE, INSTANCE, REPO, CannotMeasure, CpuMeter, Disturbed, Redis, add_stack_options, check_stack, env_default,
    loadavg, read_state, release_test_stack, same_stack, say, stack_busy, stack_env, stack_identity, stack_service,
    use_test_stack, wait_quiet)

TARGET_DRAIN = 20000
IDENT = ("app", "nginx", "mariadb", "redis", "qredis")   # the worker is ours to stop
CELERY_DIR = HERE / "celery_ref"
VENV = REPO / "var" / "bench" / "celery-venv"
# the consumer threads per process for the queues the benchmark does not use
OTHER_QUEUES_OFF = "default=0,mail=0,sms=0"


def pct(sorted_vals, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def fmt_int(v):
    return "{:,.0f}".format(v) if v == v else "-"


class Bench:
    def __init__(self, args, state, env):
        self.args = args
        self.state = state
        self.env = env
        self.ident = stack_identity(state, IDENT)
        self.r = Redis(env["QUEUE_REDIS_URL"])
        self.qredis_pid = state["services"]["qredis"]["pid"]
        self.tmp = Path(tempfile.mkdtemp(prefix="shoease-jobs-bench."))
        # a copy: a `make build` meanwhile must not change the binary between runs
        self.app = str(self.tmp / "shoease")
        shutil.copy2(state["app"], self.app)
        self.procs = []            # Popen of workers we started (process groups)
        self.celery = None         # Redis on the Celery database, when used
        self.marks_deleted = 0
        self.celery_url = None

    # ------------------------------------------------------------ guards

    def guard(self):
        """The stack is the same one, no tests started, and its worker is
        still stopped (else it would consume our jobs)."""
        st = check_stack(self.ident, IDENT, self.args.busy_wait)
        sv = st.get("services", {}).get("worker", {})
        if sv.get("pid") and not sv.get("stopped"):
            raise Disturbed("the stack's worker service was started again meanwhile (pid %s)" % sv.get("pid"))

    def bench_counts(self):
        xlen, done = self.r.pipeline([("XLEN", "q:bench:s"), ("HGET", "q:bench:stats", "done")])
        return int(xlen), int(done or 0)

    def wait_aof(self, limit=60):
        """Let a background AOF rewrite (started by the fill) finish first:
        it would land on whichever system is measured next."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            info = self.r.call("INFO", "persistence")
            if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
                return
            time.sleep(0.2)

    def aof_rewrites(self):
        m = re.search(r"aof_rewrites:(\d+)", self.r.call("INFO", "persistence"))
        return int(m.group(1)) if m else 0

    def commandstats(self):
        out = {}
        for line in self.r.call("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", line)
            if m:
                out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        return out

    def quiet(self):
        """The quiet-machine check; when tests started while it waited, the
        guard (which waits for them, or aborts) and the check again."""
        for _ in range(5):
            busy = wait_quiet(self.args.quiet_pct, self.args.quiet_wait)
            if not stack_busy():
                return busy
            self.guard()
        return busy

    def measured(self, fn, *a):
        """fn(*a), done again when tests started while it ran (on a private
        instance; on the shared stack that aborts). After three tries the
        last result is kept, flagged."""
        for attempt in range(3):
            res = fn(*a)
            busy = stack_busy()
            if not busy:
                return res
            if not INSTANCE:
                raise Disturbed("tests started during a measurement (pid %s)" % ", ".join(map(str, busy)))
            if attempt < 2:
                say("      (tests started during this measurement: discarded, measured again after them)")
        say("      (tests started during this measurement three times in a row: kept, flagged)")
        res["disturbed"] = True
        return res

    # ------------------------------------------------------------ processes

    def spawn(self, argv, log, env, cwd=REPO):
        p = subprocess.Popen(argv, cwd=str(cwd), env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=30):
        """SIGTERM (graceful: ShoEase hands back unstarted jobs, Celery does a
        warm shutdown), then SIGKILL the process group."""
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                say("      (pid %d did not stop in %d s: SIGKILL)" % (p.pid, timeout))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=5)
        if p in self.procs:
            self.procs.remove(p)

    def worker_env(self, conc):
        env = dict(self.env)
        env["JOB_PROCESSES"] = "2"
        env["JOB_CONCURRENCY"] = "%s,bench=%d" % (OTHER_QUEUES_OFF, conc)
        return env

    def clean_marks(self):
        """Done marks (q:done:bench:*, TTL 10 min) and any uniq lock left:
        hundreds of thousands per run, so they go after every run."""
        n = self.r.scan_delete("q:done:bench:*") + self.r.scan_delete("q:uniq:bench:*")
        self.marks_deleted += n
        return n

    # ------------------------------------------------------------ ShoEase

    def fill(self, n, rate=None):
        argv = [self.app, "jobs", "fill", str(n)] + (["--rate", str(rate)] if rate else [])
        limit = 120 + (n / rate if rate else n / 2000.0)
        t0 = time.monotonic()
        r = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=limit)
        secs = time.monotonic() - t0
        if r.returncode != 0 or not r.stdout.startswith("enqueued %d " % n):
            self.guard()    # a stack replaced meanwhile is the likelier story
            raise CannotMeasure("`%s` failed (exit %d): %s" % (" ".join(argv[1:]), r.returncode,
                                                               (r.stdout + r.stderr).strip()))
        return secs, r.stdout.strip()

    def drain_leftovers(self):
        """Jobs left in the bench queue by an earlier, interrupted run."""
        xlen, _ = self.bench_counts()
        if not xlen:
            return
        say("   the bench queue holds %d entries from before: draining them first" % xlen)
        p = self.spawn([self.app, "worker"], self.tmp / "leftover.log", self.worker_env(2))
        deadline = time.monotonic() + 300
        while self.bench_counts()[0] and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.1)
        self.stop(p)
        if self.bench_counts()[0]:
            raise CannotMeasure("the bench queue (q:bench:s) does not empty; look at `shoease jobs`")
        self.clean_marks()

    def shoease_drain(self, conc, n, quiet=True):
        """Fill n, then drain with 2 processes x conc threads."""
        self.guard()
        xlen, _ = self.bench_counts()
        if xlen:
            raise CannotMeasure("the bench queue is not empty (%d) before a run" % xlen)
        res = dict(busy=0.0)
        if quiet:
            res["busy"] = self.quiet()
        enq_secs, _ = self.fill(n)
        res["enqueue"] = n / enq_secs
        xlen, done0 = self.bench_counts()
        if xlen != n:
            raise CannotMeasure("after filling %d jobs the bench stream holds %d" % (n, xlen))
        self.wait_aof()
        self.guard()
        if quiet:
            res["busy"] = max(res["busy"], self.quiet())
        rewrites0 = self.aof_rewrites()
        stats0 = self.commandstats()
        log = self.tmp / ("worker-c%d.log" % conc)
        res.update(self._drain(lambda: self.spawn([self.app, "worker"], log, self.worker_env(conc)),
                               lambda: self._shoease_progress(done0, n), n))
        res["aof_rewrites"] = self.aof_rewrites() - rewrites0
        stats1 = self.commandstats()
        res["redis_usec"] = {k: (v[0] - stats0.get(k, (0, 0))[0], v[1] - stats0.get(k, (0, 0))[1])
                             for k, v in stats1.items() if v != stats0.get(k)}
        text = log.read_text(errors="replace")
        res["not_done"] = text.count('"outcome":"') - text.count('"outcome":"done"')
        log.unlink()
        self.clean_marks()
        return res

    def _shoease_progress(self, done0, n):
        xlen, done = self.bench_counts()
        return done - done0, xlen == 0 and done - done0 >= n

    def _drain(self, start, progress, n):
        """Start the consumers, poll progress every 10 ms: (acked count, all
        acked?). The rate is taken from the first ack seen to the last."""
        t_spawn = time.monotonic()
        p = start()
        meter = CpuMeter({"workers": p.pid, "redis": self.qredis_pid})
        t_first = acked_first = None
        deadline = t_spawn + self.args.drain_timeout
        try:
            while True:
                now = time.monotonic()
                acked, finished = progress()
                if t_first is None and acked > 0:
                    t_first, acked_first = now, acked
                    meter.start()
                if finished:
                    # Celery: a message BRPOP'd but not yet in `unacked` looks
                    # like nothing; seen empty twice 100 ms apart = drained
                    if getattr(progress, "confirm", None) and not progress.confirm():
                        continue
                    t_end = now
                    meter.stop()
                    break
                if p.poll() is not None:
                    self.guard()
                    raise CannotMeasure("the workers exited during the drain (exit %s)" % p.returncode)
                if now > deadline:
                    raise CannotMeasure("not drained after %d s (%d of %d acked)" % (
                        self.args.drain_timeout, acked, n))
                time.sleep(0.01)
        finally:
            self.stop(p)
        if t_first is None or t_end <= t_first:
            t_first, acked_first = t_spawn, 0
            meter.t0 = meter.t0 or t_spawn
        cpu = meter.result() if meter.total0 else {}
        return dict(drain=(n - acked_first) / max(t_end - t_first, 1e-6), drain_secs=t_end - t_first,
                    wall=t_end - t_spawn, cpu=cpu)

    def shoease_latency(self, conc, rate, seconds):
        self.guard()
        xlen, done0 = self.bench_counts()
        if xlen:
            raise CannotMeasure("the bench queue is not empty (%d) before a run" % xlen)
        log = self.tmp / "worker-latency.log"
        p = self.spawn([self.app, "worker"], log, self.worker_env(conc))
        n = rate * seconds
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and p.poll() is None:
                if log.read_text(errors="replace").count("running ") >= 2:   # "jobs: worker … running N threads"
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            busy = self.quiet()
            meter = CpuMeter({"workers": p.pid, "redis": self.qredis_pid})
            meter.start()
            secs, out = self.fill(n, rate)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                xlen, done = self.bench_counts()
                if xlen == 0 and done - done0 >= n:
                    break
                time.sleep(0.05)
            else:
                raise CannotMeasure("the paced jobs were not all done within 60 s of the last enqueue")
            meter.stop()
        finally:
            self.stop(p)
        picks = []
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"bench.noop"' in line:
                with contextlib.suppress(ValueError):
                    picks.append(int(json.loads(line)["pickup_ms"]))
        log.unlink()
        self.clean_marks()
        picks.sort()
        return dict(busy=busy, rate=n / secs, n=len(picks), p50=pct(picks, 50), p99=pct(picks, 99),
                    max=picks[-1] if picks else float("nan"),
                    mean=statistics.fmean(picks) if picks else float("nan"), cpu=meter.result())

    # ------------------------------------------------------------ Celery

    def celery_setup(self):
        """The venv (created once) and an empty broker database."""
        py = VENV / "bin" / "python"
        if not (VENV / "bin" / "celery").exists():
            say("== creating %s (python3 -m venv; pip install 'celery[redis]')" % VENV.relative_to(REPO))
            VENV.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["/usr/bin/python3", "-m", "venv", str(VENV)], check=True, timeout=300)
            r = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "celery[redis]"], timeout=900)
            if r.returncode != 0:
                raise CannotMeasure("pip install celery[redis] failed")
        ver = subprocess.run([str(py), "-c", "import celery, kombu, redis; print(celery.__version__,"
                              " kombu.__version__, redis.__version__)"], capture_output=True, text=True, timeout=60)
        if ver.returncode != 0:
            raise CannotMeasure("the Celery venv is broken:\n" + ver.stderr)
        self.celery_url = self.r.url_of(self.args.celery_db)
        self.celery = Redis(self.celery_url)
        keys = self.celery.call("DBSIZE")
        if keys:
            foreign = [k for k in self.celery.call("SCAN", "0", "COUNT", "1000")[1]
                       if not re.match(r"^(celery|unacked|unacked_index|unacked_mutex|_kombu\..*)$", k)]
            if foreign:
                raise CannotMeasure("database %d of the durable Redis holds keys that are not Celery's (%s);"
                                    " pass another --celery-db" % (self.args.celery_db, ", ".join(foreign[:5])))
            self.celery.call("FLUSHDB")
        return "celery %s, kombu %s, redis-py %s" % tuple(ver.stdout.split())

    def celery_env(self):
        env = {k: v for k, v in self.env.items() if k in ("PATH", "HOME", "LANG", "TZ")}
        env["CELERY_BROKER_URL"] = self.celery_url
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def celery_counts(self):
        llen, hlen = self.celery.pipeline([("LLEN", "celery"), ("HLEN", "unacked")])
        return int(llen), int(hlen)

    def celery_drain(self, n, quiet=True):
        self.guard()
        if self.celery_counts() != (0, 0):
            raise CannotMeasure("the Celery queue is not empty before a run: %s" % (self.celery_counts(),))
        res = dict(busy=0.0)
        if quiet:
            res["busy"] = self.quiet()
        r = subprocess.run([str(VENV / "bin" / "python"), "enqueue.py", str(n)], cwd=CELERY_DIR,
                           env=self.celery_env(), capture_output=True, text=True, timeout=120 + n / 200.0)
        if r.returncode != 0:
            self.guard()
            raise CannotMeasure("celery enqueue failed:\n" + r.stderr[-2000:])
        out = json.loads(r.stdout.strip().splitlines()[-1])
        res["enqueue"] = out["timed"] / out["seconds"]
        if self.celery_counts()[0] != n:
            raise CannotMeasure("after sending %d tasks the Celery queue holds %d" % (n, self.celery_counts()[0]))
        self.wait_aof()
        self.guard()
        if quiet:
            res["busy"] = max(res["busy"], self.quiet())
        rewrites0 = self.aof_rewrites()
        log = self.tmp / "celery.log"
        argv = [str(VENV / "bin" / "celery"), "-A", "tasks", "worker", "--pool=prefork", "--concurrency=2",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "celery",
                "--hostname", "bench@%h"]

        def progress():
            llen, hlen = self.celery_counts()
            return n - llen - hlen, llen == 0 and hlen == 0

        def confirm():
            time.sleep(0.1)
            return self.celery_counts() == (0, 0)
        progress.confirm = confirm
        res.update(self._drain(lambda: self.spawn(argv, log, self.celery_env(), cwd=CELERY_DIR), progress, n))
        res["aof_rewrites"] = self.aof_rewrites() - rewrites0
        text = log.read_text(errors="replace")
        res["not_done"] = len(re.findall(r"(?m)^.*(ERROR|CRITICAL).*$", text))
        if res["not_done"]:
            say("      celery log: " + "\n      ".join(text.strip().splitlines()[-5:]))
        log.unlink()
        return res

    # ------------------------------------------------------------ clean-up

    def cleanup(self):
        for p in list(self.procs):
            self.stop(p)
        with contextlib.suppress(Exception):
            self.clean_marks()
            # the bench queue's counters and any dead letters; the stream and
            # its consumer group stay (the workers need them)
            keys = [k for k in self.r.call("KEYS", "q:bench:*") if k != "q:bench:s"]
            if keys:
                self.r.call("DEL", *keys)
            # the per-type figures /metrics shows
            fields = [f for f in (self.r.call("HKEYS", "metrics:jobs") or []) if f.startswith("bench.noop|")]
            if fields:
                self.r.call("HDEL", "metrics:jobs", *fields)
            # consumers of the bench group left by our (stopped) workers
            for c in self.r.call("XINFO", "CONSUMERS", "q:bench:s", "workers") or []:
                info = dict(zip(c[::2], c[1::2]))
                if int(info.get("pending", 0)) == 0:
                    self.r.call("XGROUP", "DELCONSUMER", "q:bench:s", "workers", info["name"])
            say("   deleted the bench keys (%s done marks over the run, %s)" % (
                fmt_int(self.marks_deleted), ", ".join(keys) or "no counters"))
        if self.celery:
            with contextlib.suppress(Exception):
                self.celery.call("FLUSHDB")
                say("   flushed the Celery database (%d)" % self.args.celery_db)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=env_default("APP", "build/shoease"))
    ap.add_argument("-n", "--jobs", type=int, default=int(env_default("JOBS", "400000")),
                    help="jobs per drain run (enough for >= 5 s of draining)")
    ap.add_argument("--celery-jobs", type=int, default=int(env_default("CELERY_JOBS", "0")),
                    help="tasks per Celery run (default: the same as --jobs)")
    ap.add_argument("--runs", type=int, default=int(env_default("RUNS", "3")), help="rounds")
    ap.add_argument("--concurrency", default=env_default("CONCURRENCY", "1,2,3,4"),
                    help="bench-queue threads per worker process to try (JOB_CONCURRENCY=bench=K)")
    ap.add_argument("--latency-concurrency", type=int, default=int(env_default("LATENCY_CONCURRENCY", "2")))
    ap.add_argument("--rate", type=int, default=int(env_default("RATE", "2000")),
                    help="jobs/s enqueued in the pick-up latency run")
    ap.add_argument("--latency-seconds", type=int, default=int(env_default("LATENCY_SECONDS", "10")))
    ap.add_argument("--celery-db", type=int, default=int(env_default("CELERY_DB", "5")),
                    help="database number of the durable Redis for Celery's broker")
    ap.add_argument("--no-celery", action="store_true", help="skip the Celery reference")
    ap.add_argument("--drain-timeout", type=float, default=float(env_default("DRAIN_TIMEOUT", "900")))
    ap.add_argument("--quiet-pct", type=float, default=float(env_default("QUIET_PCT", "15")),
                    help="before each measurement wait until other work uses at most this %% of the CPUs")
    ap.add_argument("--quiet-wait", type=float, default=float(env_default("QUIET_WAIT", "60")),
                    help="... but at most this many seconds")
    add_stack_options(ap)
    args = ap.parse_args()
    concs = [int(x) for x in args.concurrency.split(",") if x.strip()]
    celery_n = args.celery_jobs or args.jobs

    started = False
    ident = None
    bench = None
    worker_stopped = False

    def stop_all(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop_all)

    try:
        try:
            state, started = use_test_stack(args.app, args.no_start, args.force, args.busy_wait)
        except CannotMeasure as e:
            say("bench: %s" % e)
            return 2
        ident = stack_identity(state, IDENT)
        env = stack_env(state["app"])
        bench = Bench(args, state, env)
        backlog = bench.r.call("GET", "ev:backlog")
        say("== durable Redis %s:%d (pid %s); event backlog %s" % (
            bench.r.host, bench.r.port, bench.qredis_pid, backlog or 0))
        if not args.no_celery:
            say("== Celery reference: %s, broker database %d" % (bench.celery_setup(), args.celery_db))

        say("== stopping the stack's worker service for the run (started again at the end)")
        worker_stopped = True
        if not stack_service("stop", "worker"):
            raise CannotMeasure("could not stop the stack's worker service")
        bench.drain_leftovers()

        say("== load before measuring: %s (1/5/15 min), %d cores" % (" ".join(loadavg()), os.cpu_count()))
        say("== warm-up: 20,000 jobs through ShoEase%s (not measured)" % ("" if args.no_celery else " and Celery"))
        bench.shoease_drain(concs[0], 20000, quiet=False)
        if not args.no_celery:
            bench.celery_drain(2000, quiet=False)

        scenarios = [("shoease", c) for c in concs] + ([] if args.no_celery else [("celery", 2)])
        results = {sc: [] for sc in scenarios}
        latency = []
        last_stats = {}
        for rnd in range(1, args.runs + 1):
            say("== round %d/%d (load avg %s)" % (rnd, args.runs, loadavg()[0]))
            for sc in scenarios:
                kind, c = sc
                if kind == "shoease":
                    res = bench.measured(bench.shoease_drain, c, args.jobs)
                    name = "ShoEase 2 procs x %d thr" % c
                    last_stats[c] = res["redis_usec"]
                else:
                    res = bench.measured(bench.celery_drain, celery_n)
                    name = "Celery prefork 2"
                results[sc].append(res)
                say("   %-26s enqueue %8s/s  drained %8s/s in %5.1f s (%5.1f s incl. start-up)  CPU: workers %3.0f%%,"
                    " redis %3.0f%% of a core  (other work before: %.0f%%, during: %.0f%%)%s%s%s" % (
                        name, fmt_int(res["enqueue"]), fmt_int(res["drain"]), res["drain_secs"], res["wall"],
                        res["cpu"].get("workers", 0), res["cpu"].get("redis", 0), res["busy"],
                        res["cpu"].get("other", 0),
                        "  [%d AOF rewrite(s)]" % res["aof_rewrites"] if res["aof_rewrites"] else "",
                        "  [%d not done]" % res["not_done"] if res["not_done"] else "",
                        "  [DISTURBED: tests ran meanwhile]" if res.get("disturbed") else ""))
            res = bench.measured(bench.shoease_latency, args.latency_concurrency, args.rate, args.latency_seconds)
            latency.append(res)
            say("   %-26s %s jobs at %s/s: pickup p50 %d ms, p99 %d ms, max %d ms  (other work before: %.0f%%,"
                " during: %.0f%%)" % ("latency, %d thr" % args.latency_concurrency, fmt_int(res["n"]),
                                      fmt_int(res["rate"]), res["p50"], res["p99"], res["max"], res["busy"],
                                      res["cpu"].get("other", 0)))

        # ---------------------------------------------------------- report
        def med(sc, key):
            vals = [r[key] for r in results[sc]]
            return statistics.median(vals), min(vals), max(vals)

        def cpu_med(sc, who):
            return statistics.median([r["cpu"].get(who, 0) for r in results[sc]])

        busy_all = [r["busy"] for rs in results.values() for r in rs] + [r["busy"] for r in latency]
        during_all = [r["cpu"].get("other", 0) for rs in results.values() for r in rs]
        celery_sc = ("celery", 2)
        have_celery = celery_sc in results
        c_drain = med(celery_sc, "drain")[0] if have_celery else 0
        c_enq = med(celery_sc, "enqueue")[0] if have_celery else 0
        say()
        say("== results (%s; %d round(s); %s jobs per ShoEase run, %s per Celery run; CPU busy with other work in"
            " the 1 s before each measurement: median %.0f%%, max %.0f%%; during the drains: median %.0f%%,"
            " max %.0f%%)" % (time.strftime("%Y-%m-%d %H:%M"), args.runs, fmt_int(args.jobs), fmt_int(celery_n),
                             statistics.median(busy_all), max(busy_all), statistics.median(during_all),
                             max(during_all)))
        say("   app %s; durable Redis: AOF everysec; median (min-max) over the rounds; CPU in %% of one core"
            " during the drain" % state["app"])
        say()
        say("| %-34s | %22s | %22s | %9s | %9s | %8s | %8s |" % (
            "scenario", "enqueue jobs/s", "drained jobs/s", "x Celery", "drain s", "workers", "redis"))
        say("|%s|%s|%s|%s|%s|%s|%s|" % ("-" * 36, "-" * 23 + ":", "-" * 23 + ":", "-" * 10 + ":", "-" * 10 + ":",
                                         "-" * 9 + ":", "-" * 9 + ":"))
        for sc in scenarios:
            kind, c = sc
            name = ("ShoEase, JOB_CONCURRENCY=bench=%d" % c) if kind == "shoease" else "Celery, prefork --concurrency=2"
            e, d = med(sc, "enqueue"), med(sc, "drain")
            say("| %-34s | %22s | %22s | %9s | %9.1f | %7.0f%% | %7.0f%% |" % (
                name, "%s (%s-%s)" % (fmt_int(e[0]), fmt_int(e[1]), fmt_int(e[2])),
                "%s (%s-%s)" % (fmt_int(d[0]), fmt_int(d[1]), fmt_int(d[2])),
                "%.1f" % (d[0] / c_drain) if c_drain else "-", med(sc, "drain_secs")[0],
                cpu_med(sc, "workers"), cpu_med(sc, "redis")))
        lat = lambda k: statistics.median([r[k] for r in latency])   # noqa: E731
        say()
        say("| pick-up latency, %d procs x %d thr, %s jobs/s for %d s | p50 %d ms (%d-%d) | p99 %d ms (%d-%d) |"
            " max %d ms |" % (2, args.latency_concurrency, fmt_int(lat("rate")), args.latency_seconds,
                             lat("p50"), min(r["p50"] for r in latency), max(r["p50"] for r in latency),
                             lat("p99"), min(r["p99"] for r in latency), max(r["p99"] for r in latency),
                             max(r["max"] for r in latency)))
        say("   (CPU while paced: workers %.0f%%, redis %.0f%% of a core)" % (
            statistics.median([r["cpu"]["workers"] for r in latency]),
            statistics.median([r["cpu"]["redis"] for r in latency])))

        shoe = [sc for sc in scenarios if sc[0] == "shoease"]
        best = max(shoe, key=lambda sc: med(sc, "drain")[0])
        best_drain = med(best, "drain")[0]
        all_enq = statistics.median([r["enqueue"] for sc in shoe for r in results[sc]])
        say()
        if have_celery:
            say("== ratios (same run, same Redis): drained ShoEase (bench=%d) / Celery = %s / %s = %.1fx;"
                " enqueue %s / %s = %.1fx" % (best[1], fmt_int(best_drain), fmt_int(c_drain), best_drain / c_drain,
                                              fmt_int(all_enq), fmt_int(c_enq), all_enq / c_enq))
        # Redis's own CPU time in that drain; scripts include their inner
        # commands (which are also counted under their own names)
        stats = last_stats.get(best[1], {})
        last = results[best][-1]
        redis_ms = last["cpu"].get("redis", 0) / 100.0 * last["drain_secs"] * 1000.0
        top = sorted(stats.items(), key=lambda kv: -kv[1][1])[:8]
        say("== where Redis spent its time in the last bench=%d drain: %.0f ms of CPU in %.1f s (INFO commandstats;"
            " a script's time includes the commands it runs, which are also listed on their own):" % (
                best[1], redis_ms, last["drain_secs"]))
        for k, (calls, usec) in top:
            say("   %-14s %9s calls %8.0f ms  %5.1f us/call  %3.0f%% of Redis's CPU time" % (
                k, fmt_int(calls), usec / 1000.0, usec / max(calls, 1), 100.0 * usec / 1000.0 / max(redis_ms, 1)))
        for sc in scenarios:
            rs = results[sc]
            say("   %-34s workers' root process (master / Celery's consumer) %3.0f%%, all worker processes %3.0f%%,"
                " Redis %3.0f%% of a core; whole machine %3.0f%% busy" % (
                    "ShoEase bench=%d:" % sc[1] if sc[0] == "shoease" else "Celery:",
                    statistics.median([r["cpu"].get("workers.root", 0) for r in rs]),
                    statistics.median([r["cpu"].get("workers", 0) for r in rs]),
                    statistics.median([r["cpu"].get("redis", 0) for r in rs]),
                    statistics.median([r["cpu"].get("machine", 0) for r in rs])))
        say()
        say("== target (the issue's): >= %s jobs/s drained with 2 worker processes" % fmt_int(TARGET_DRAIN))
        for sc in shoe:
            d = med(sc, "drain")[0]
            say("   %-4s JOB_CONCURRENCY=bench=%d: %s jobs/s%s" % (
                "PASS" if d >= TARGET_DRAIN else "MISS", sc[1], fmt_int(d), "  (best)" if sc == best else ""))
        say()
        return 0
    except Disturbed as e:
        say()
        say("bench: ABORTED, results discarded: %s." % e)
        say("       The test profile is shared (fixed ports); run the benchmark when no tests are running.")
        return 2
    except CannotMeasure as e:
        say("bench: could not measure: %s" % e)
        return 2
    except KeyboardInterrupt:
        say("bench: interrupted")
        return 130
    finally:
        if bench:
            bench.cleanup()
        unchanged = ident is not None and same_stack(ident, IDENT)
        if worker_stopped:
            st = read_state().get("services", {}).get("worker", {})
            if not unchanged:
                say("== not starting the stack's worker again: the stack is no longer the one this used")
            elif st.get("pid") and not st.get("stopped"):
                say("== the stack's worker is running (someone started it meanwhile)")
            else:
                say("== starting the stack's worker service again")
                stack_service("start", "worker")
        release_test_stack(started, ident, args.keep_up, IDENT)


if __name__ == "__main__":
    sys.exit(main())
