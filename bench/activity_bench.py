#!/usr/bin/python3
"""activity_bench.py — what request activity logging costs (`make bench-activity`).

Every request's access-log line is also an activity event: a flusher thread in
each `shoease serve` worker sends them in batches to the durable Redis, and the
job worker's event writer moves them on to MongoDB (activity_logs).
ACTIVITY_LOG=0 turns that off. This measures, in one run:

  the cached category page (the URL store_bench.py uses for its cache-hit row,
  /category/men when it exists) straight from the app (APP_PORT, plain HTTP:
  store_bench's "app direct"), wrk -t2 -c64, with ACTIVITY_LOG=1 and with
  ACTIVITY_LOG=0

in interleaved rounds (on, off, on, off, ...), and prints req/s for both and
the ratio off→on. Target (from the issue): logging costs at most 10 %
(on / off >= 0.90): PASS/MISS, never an error. Exit 2: could not measure.

How the setting reaches the app: the test profile scrubs ACTIVITY_LOG from the
environment it gives the app (tools/stack.py CONFIG_KEYS), so this writes
ACTIVITY_LOG=<0|1> into var/test/shoease.env (the app's SHOEASE_ENV_FILE) and
restarts the stack's `app` service (stack.py service restart app). At the end
the file gets its old content back (unless someone rewrote it meanwhile, e.g.
a new `stack.py up`) and the app is restarted once more with it.

The stack's worker (with the event writer) keeps running, as it does in the
stack: what the writer spends moving the "on" run's events to MongoDB while
wrk runs is part of the cost on this 2-core machine. Before every measured
run the harness waits until the event backlog in Redis is empty (the previous
"on" run's events written), so each run starts from the same state. Printed
with each run: the highest backlog seen (0 with logging off: proof that the
setting took), events dropped over EVENT_BACKLOG_MAX, and the CPU the stack's
app, worker, durable Redis and MongoDB (FerretDB) used while wrk ran. The test
stack's MongoDB keeps the events (the test profile's data is wiped on the
next `stack.py up`).

A third scenario is a diagnostic, not the target: logging on with the
stack's worker stopped for the run ("writer elsewhere"). The events then only
pile up in the durable Redis, as they do on a web host whose MongoDB (Atlas)
and job workers run on other machines: the ratio says what logging costs the
request path itself, without the local FerretDB and writer sharing the two
cores. The worker is started again right after it, and the next run waits for
the backlog it left to be written.

Standard library only; shares its harness with store_bench.py (bench/common.py).
"""
import argparse
import os
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

from common import (
    INSTANCE, REPO, CannotMeasure, CpuMeter, Disturbed, Redis, add_stack_options, check_stack, env_default,
    fmt_ratio, loadavg, read_state, release_test_stack, same_stack, say, seed_stack, stack_busy, stack_env,
    stack_identity, stack_service, try_fetch, use_test_stack, wait_quiet, wrk)
from store_bench import discover

TARGET = 0.90
IDENT = ("app", "nginx", "mariadb", "redis", "qredis", "worker")


def write_private(path, text):
    tmp = path.with_name(".%s.bench%d" % (path.name, os.getpid()))
    tmp.write_text(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def with_setting(text, key, value):
    """text (an env file) with KEY=value as its only KEY line (appended)."""
    lines = [l for l in text.splitlines() if not l.strip().startswith(key + "=")]
    if value is not None:
        lines += ["# bench/activity_bench.py, for the duration of the benchmark:", "%s=%s" % (key, value)]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=env_default("APP", "build/shoease"))
    ap.add_argument("--duration", default=env_default("DURATION", "5s"), help="each measured wrk run")
    ap.add_argument("--warmup", default=env_default("WARMUP", "2s"), help="wrk after each app restart")
    ap.add_argument("--runs", type=int, default=int(env_default("RUNS", "3")), help="rounds")
    ap.add_argument("--conns", type=int, default=int(env_default("CONNS", "64")))
    ap.add_argument("--threads", type=int, default=int(env_default("WRK_THREADS", "2")))
    ap.add_argument("--quiet-pct", type=float, default=float(env_default("QUIET_PCT", "15")),
                    help="before each measured run wait until other work uses at most this %% of the CPUs")
    ap.add_argument("--quiet-wait", type=float, default=float(env_default("QUIET_WAIT", "60")),
                    help="... but at most this many seconds")
    ap.add_argument("--backlog-wait", type=float, default=float(env_default("BACKLOG_WAIT", "300")),
                    help="wait at most this many seconds for the event backlog to empty before a run")
    ap.add_argument("--no-elsewhere", action="store_true",
                    help="skip the diagnostic run with the job worker (the event writer) stopped")
    add_stack_options(ap)
    args = ap.parse_args()
    if not any(os.access(os.path.join(d, "wrk"), os.X_OK) for d in os.environ.get("PATH", "").split(":")):
        say("bench: wrk is missing (apt-get install wrk)")
        return 2

    started = False
    ident = None
    worker_stopped = False
    env_file = original = written = None
    red = None

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
        app_bin = state["app"]
        app_port = state["ports"]["APP_PORT"]
        env = stack_env(app_bin)
        red = Redis(env["QUEUE_REDIS_URL"])
        env_file = Path(state["paths"]["env_file"])

        seed_stack(app_bin, env)
        category, _, placeholder, notes = discover(app_port)
        for n in notes:
            say("   note: " + n)
        if placeholder.get("category"):
            say("   the category page is a placeholder (%s): the numbers say little about the shop" % category)
        url = "http://127.0.0.1:%d%s" % (app_port, category)
        say("== page: %s (app direct)" % url)

        original = env_file.read_text()
        if "ACTIVITY_LOG=" in original:
            say("   note: %s sets ACTIVITY_LOG already; it gets that line back at the end" % env_file)

        def backlog_empty():
            """Wait for the worker's event writer to empty the backlog."""
            t0 = time.monotonic()
            while time.monotonic() - t0 < args.backlog_wait:
                if int(red.call("GET", "ev:backlog") or 0) == 0:
                    return time.monotonic() - t0
                time.sleep(0.5)
            return None

        def set_activity(value):
            """Write the setting and restart the app with it."""
            nonlocal ident, written
            check_stack(ident, IDENT, args.busy_wait)
            if env_file.read_text() != (written if written is not None else original):
                raise Disturbed("%s was rewritten by someone else meanwhile" % env_file)
            written = with_setting(original, "ACTIVITY_LOG", value)
            write_private(env_file, written)
            if not stack_service("restart", "app"):
                raise CannotMeasure("stack.py service restart app failed")
            ident = stack_identity(read_state(), IDENT)
            deadline = time.monotonic() + 30
            while try_fetch(app_port, "/healthz")[0] != 200:
                if time.monotonic() > deadline:
                    raise CannotMeasure("the app did not come back after the restart")
                time.sleep(0.2)

        def measure(url):
            """wrk, while watching the event backlog and the CPU of the stack's
            processes: (wrk result, highest backlog seen, {group: % of a core})."""
            svc = read_state().get("services", {})
            meter = CpuMeter({k: svc.get(k, {}).get("pid") for k in ("app", "worker", "qredis", "mongodb")})
            out = {}
            th = threading.Thread(target=lambda: out.update(wrk(args, url, args.duration)))
            meter.start()
            th.start()
            peak = 0
            while th.is_alive():
                peak = max(peak, int(red.call("GET", "ev:backlog") or 0))
                th.join(0.25)
            meter.stop()
            return out, peak, meter.result()

        ELSEWHERE = "log on, no writer"
        scenarios = [("activity log on", "1"), ("activity log off", "0")]
        if not args.no_elsewhere:
            scenarios.append((ELSEWHERE, "1"))
        results = {name: [] for name, _ in scenarios}
        say("== load before measuring: %s (1/5/15 min), %d cores" % (" ".join(loadavg()), os.cpu_count()))
        for rnd in range(1, args.runs + 1):
            say("== round %d/%d (load avg %s)" % (rnd, args.runs, loadavg()[0]))
            for name, value in scenarios:
                set_activity(value)
                wrk(args, url, args.warmup)       # the page cache (hit from the 3rd request) and connections
                for attempt in range(3):
                    waited = backlog_empty()
                    if name == ELSEWHERE:
                        if not stack_service("stop", "worker"):
                            raise CannotMeasure("stack.py service stop worker failed")
                        worker_stopped = True
                        ident = stack_identity(read_state(), IDENT)
                    dropped0 = int(red.call("GET", "ev:dropped") or 0)
                    check_stack(ident, IDENT, args.busy_wait)
                    busy = wait_quiet(args.quiet_pct, args.quiet_wait)
                    res, peak, cpu = measure(url)
                    if worker_stopped:
                        if not stack_service("start", "worker"):
                            raise CannotMeasure("stack.py service start worker failed")
                        worker_stopped = False
                        ident = stack_identity(read_state(), IDENT)
                    if not stack_busy():
                        break
                    if not INSTANCE:
                        raise Disturbed("tests started during a measurement")
                    if attempt < 2:
                        say("      (tests started during this measurement: discarded, measured again after them)")
                else:
                    say("      (tests started during this measurement three times in a row: kept, flagged)")
                    res["disturbed"] = True
                check_stack(ident, IDENT, args.busy_wait)
                res["busy"] = busy
                res["cpu"] = cpu
                res["peak_backlog"] = peak
                res["dropped"] = int(red.call("GET", "ev:dropped") or 0) - dropped0
                results[name].append(res)
                say("   %-17s %9.0f req/s  p99 %7.2f ms  event backlog peak %7d%s  CPU %% of a core: app %3.0f,"
                    " worker %3.0f, redis %3.0f, mongodb %3.0f, wrk %3.0f  (other work before: %.0f%%, during:"
                    " %.0f%%%s)%s" % (
                        name, res["rps"], res["p99"], peak, ", %d dropped" % res["dropped"] if res["dropped"] else "",
                        cpu["app"], cpu["worker"], cpu["qredis"], cpu["mongodb"], cpu["self"], busy, cpu["other"],
                        "" if waited is None or waited < 1 else "; waited %.0f s for the backlog" % waited,
                        ("  (%d errors/non-2xx of %d)" % (res["errors"], res["requests"]) if res["errors"] else "")
                        + ("  [DISTURBED: tests ran meanwhile]" if res.get("disturbed") else "")))
                if value == "1" and peak == 0 and not res["dropped"]:
                    say("      note: no event reached the durable Redis: is ACTIVITY_LOG read by this build?")
                if value == "0" and peak:
                    say("      note: events arrived with ACTIVITY_LOG=0 (from other traffic, or the setting is ignored)")
                if res["rps"] == 0:
                    say("      wrk: " + res["raw"].strip().replace("\n", "\n      "))

        def summary(name):
            rps = [r["rps"] for r in results[name]]
            return statistics.median(rps), min(rps), max(rps), statistics.median([r["p99"] for r in results[name]])

        on, off = summary("activity log on"), summary("activity log off")
        ratio = on[0] / off[0] if off[0] else 0.0
        busy = [r["busy"] for rs in results.values() for r in rs]
        during = [r["cpu"]["other"] for rs in results.values() for r in rs]
        say()
        say("== results (%s; %d round(s) x %s per scenario; wrk -t%d -c%d; CPU busy with other work in the 1 s"
            " before each run: median %.0f%%, max %.0f%%; during: median %.0f%%, max %.0f%%)" % (
                time.strftime("%Y-%m-%d %H:%M"), args.runs, args.duration, args.threads, args.conns,
                statistics.median(busy), max(busy), statistics.median(during), max(during)))
        say()
        say("   %s, app direct (APP_PORT, plain HTTP), the page cache hit; CPU in %% of one core while wrk ran"
            " (median)" % url)
        say()
        say("| %-24s | %9s | %15s | %8s | %8s | %6s | %6s | %6s | %7s |" % (
            "scenario", "req/s", "min-max", "p99 ms", "x off", "app", "worker", "redis", "mongodb"))
        say("|%s|%s|%s|%s|%s|%s|%s|%s|%s|" % ("-" * 26, "-" * 10 + ":", "-" * 16 + ":", "-" * 9 + ":",
                                             "-" * 9 + ":", "-" * 7 + ":", "-" * 7 + ":", "-" * 7 + ":",
                                             "-" * 8 + ":"))
        rows = [("ACTIVITY_LOG=1 (on)", on, "activity log on"), ("ACTIVITY_LOG=0 (off)", off, "activity log off")]
        if not args.no_elsewhere:
            rows.append(("on, writer stopped (diag.)", summary(ELSEWHERE), ELSEWHERE))
        for name, s, key in rows:
            cpu = lambda g: statistics.median([r["cpu"].get(g, 0) for r in results[key]])   # noqa: E731
            say("| %-24s | %9.0f | %15s | %8.2f | %8s | %5.0f%% | %5.0f%% | %5.0f%% | %6.0f%% |" % (
                name, s[0], "%.0f-%.0f" % (s[1], s[2]), s[3], fmt_ratio(s[0] / off[0]) if off[0] else "-",
                cpu("app"), cpu("worker"), cpu("qredis"), cpu("mongodb")))
        errs = sum(r["errors"] for rs in results.values() for r in rs)
        if errs:
            say("    ^ %d responses were errors or non-2xx: these rows do not measure the page" % errs)
        say()
        say("== target (the issue's): activity logging costs at most %.0f %% (on / off >= %.2f)" % (
            100 * (1 - TARGET), TARGET))
        say("   %-4s on / off = %.0f / %.0f = %.3f (logging costs %.1f %%)%s" % (
            "PASS" if ratio >= TARGET and not errs else "MISS", on[0], off[0], ratio, 100 * (1 - ratio),
            "  [placeholder page]" if placeholder.get("category") else ""))
        if not args.no_elsewhere:
            diag = summary(ELSEWHERE)[0]
            say("   diagnostic, no target: the request path alone (worker stopped, events kept in the durable Redis,"
                " as with MongoDB and the workers on other machines): %.0f / %.0f = %.3f (costs %.1f %%)" % (
                    diag, off[0], diag / off[0] if off[0] else 0.0, 100 * (1 - diag / off[0]) if off[0] else 0.0))
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
        # the worker back if this stopped it; the env file back and the app
        # restarted with it, if the stack and the file are still the ones
        # this changed
        if worker_stopped and ident is not None and same_stack(ident, IDENT):
            say("== starting the stack's worker service again")
            stack_service("start", "worker")
            ident = stack_identity(read_state(), IDENT)
        if written is not None:
            current = env_file.read_text() if env_file.exists() else None
            if current != written:
                say("== %s was rewritten meanwhile: leaving it (and the app) alone" % env_file)
            elif ident is not None and not same_stack(ident, IDENT):
                say("== the stack was replaced meanwhile: not touching it")
            else:
                write_private(env_file, original)
                say("== %s restored; restarting the app with it" % env_file.relative_to(REPO))
                stack_service("restart", "app")
                ident = stack_identity(read_state(), IDENT)
        if red:
            red.close()
        release_test_stack(started, ident, args.keep_up, IDENT)


if __name__ == "__main__":
    sys.exit(main())
