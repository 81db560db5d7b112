#!/usr/bin/python3
"""store_bench.py — ShoEase's repeatable page benchmark (bench/run.sh, `make bench`).

One run measures, with wrk, on this machine:

  static   nginx serving a file whose bytes equal the category page's HTML
           (over plain HTTP and over HTTPS: the baselines)
  pages    the category page and a product page, each
             hit  — the same URL again and again (page cache hit)
             miss — a unique query parameter on every request (bench/wrk/miss.lua),
                    so every request renders the page (cache miss)
             miss x2 — each unique URL asked for twice: both render, the second
                    also stores the page (admission on the second request);
                    app direct only, no target
           once straight to the app (APP_PORT, plain HTTP) and once through
           nginx over HTTPS (TLS + proxy to the app's unix socket)

and prints a table (req/s, spread, p99, ratio to the static file) and the
issue's targets with PASS/MISS:
  cache hit,  app direct  >= 0.80 x static
  cache miss, app direct  >= 0.05 x static
Missing a target is reported, never an error: exit 0 whenever it measured.
Exit 2: could not measure (stack would not start, test stack busy, ...).

The test stack (tools/stack.py, profile test) is used if it is up; otherwise
this starts it (`stack.py up --profile test --app build/shoease`), seeds it and
stops it again at the end (--keep-up to leave it running).

nginx: the stack's nginx limits every client IP to 20 requests/s, so wrk
against it would measure 429 answers. This runs a private nginx instead, on
its own ports, with the stack's own generated config (var/test/nginx/nginx.conf)
minus the limit_req lines, plus a plain-HTTP listen, and with /static/ pointed
at a temp dir holding the copy of the page. It proxies to the same app socket.

Only 127.0.0.1 is used; every wrk run is bounded by -d. Standard library only.
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

from common import (  # noqa: F401  (shared with jobs_bench.py and activity_bench.py)
    HERE, REPO, STACK, CannotMeasure, Disturbed, check_stack, env_default, fetch, fmt_ratio, loadavg,
    port_free, read_state, release_test_stack, say, stack_env, stack_identity, try_fetch, use_test_stack,
    wait_port, wait_quiet, wrk)

MISS_LUA = HERE / "wrk" / "miss.lua"
TARGET_HIT, TARGET_MISS = 0.80, 0.05

# ------------------------------------------------------------------ pages

def discover(app_port):
    """(category path, product path, notes). Falls back to / and /healthz."""
    notes = []
    category = product = None
    st, _, body = try_fetch(app_port, "/api/v1/categories")
    if st == 200:
        try:
            cats = json.loads(body).get("categories") or []
            flat = []
            stack = list(cats)
            while stack:
                c = stack.pop(0)
                flat.append(c)
                stack.extend(c.get("children") or [])
            pick = next((c for c in flat if c.get("slug") == "men"), flat[0] if flat else None)
            if pick:
                category = pick.get("url") or "/category/%s" % pick["slug"]
        except (ValueError, KeyError, AttributeError, TypeError) as e:
            notes.append("could not read /api/v1/categories: %s" % e)
    else:
        notes.append("/api/v1/categories answered %s" % st)
    st, _, body = try_fetch(app_port, "/api/v1/products?per_page=1")
    if st == 200:
        try:
            items = json.loads(body).get("products") or []
            if items:
                product = items[0].get("url") or "/products/%s" % items[0]["slug"]
        except (ValueError, KeyError, AttributeError, TypeError) as e:
            notes.append("could not read /api/v1/products: %s" % e)
    else:
        notes.append("/api/v1/products?per_page=1 answered %s" % st)

    def html_ok(path):
        s, h, _ = try_fetch(app_port, path)
        return s == 200 and h.get("content-type", "").startswith("text/html")

    placeholder = {}
    for kind, path in (("category", category), ("product", product)):
        if path and html_ok(path):
            continue
        if path:
            notes.append("%s page %s does not answer 200 text/html" % (kind, path))
        fallback = "/" if kind == "category" and html_ok("/") else "/healthz"
        notes.append("%s page missing: measuring %s instead (placeholder)" % (kind, fallback))
        placeholder[kind] = True
        if kind == "category":
            category = fallback
        else:
            product = fallback
    return category, product, placeholder, notes


def miss_param(app_port, path, nonce):
    """A query parameter the app ignores (same status and about the same body),
    or None. Also returns what X-Cache says for hit and miss probes."""
    base_st, base_h, base_body = try_fetch(app_port, path)
    try_fetch(app_port, path)
    _, hit_h, _ = try_fetch(app_port, path)
    sep = "&" if "?" in path else "?"
    for name in ("_bench", "v"):
        st, h, body = try_fetch(app_port, "%s%s%s=%sprobe" % (path, sep, name, nonce))
        same_size = abs(len(body) - len(base_body)) <= max(256, len(base_body) // 20)
        if st == base_st and same_size:
            return name, hit_h.get("x-cache"), h.get("x-cache")
    return None, hit_h.get("x-cache"), None


# ------------------------------------------------------------------ private nginx

def private_nginx_conf(state, tmp, https_port, http_port, redirect_port):
    src = Path(state["var"]) / "nginx" / "nginx.conf"
    text = src.read_text()
    var, log_dir = state["var"], state["paths"]["log_dir"]
    ports = state["ports"]
    text = text.replace(var + "/nginx", str(tmp / "nginx"))
    text = text.replace(log_dir, str(tmp / "log"))
    # the copy of the page is the only file under /static/ this nginx serves
    text = re.sub(r"(location /static/ \{\s*alias )[^;]+;", r"\g<1>%s/;" % (tmp / "static"), text)
    text = re.sub(r"^\s*limit_req\s+zone=.*$\n", "", text, flags=re.M)
    text = text.replace("listen 127.0.0.1:%d;" % ports["HTTP_PORT"], "listen 127.0.0.1:%d;" % redirect_port)
    new, n = re.subn(r"listen 127\.0\.0\.1:%d ssl( http2)?;" % ports["HTTPS_PORT"],
                     lambda m: "listen 127.0.0.1:%d ssl%s;\n        listen 127.0.0.1:%d;" % (
                         https_port, m.group(1) or "", http_port), text)
    if n != 1:
        raise SystemExit("bench: cannot find the HTTPS listen line in %s" % src)
    text = "# bench/store_bench.py: private copy of %s without rate limits\n" % src + new
    for sub in ("nginx/tmp/body", "nginx/tmp/proxy", "nginx/tmp/fastcgi", "nginx/tmp/uwsgi",
                "nginx/tmp/scgi", "log", "static/bench"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx" / "nginx.conf"
    conf.write_text(text)
    return conf


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=env_default("APP", "build/shoease"))
    ap.add_argument("--duration", default=env_default("DURATION", "5s"), help="each measured wrk run")
    ap.add_argument("--warmup", default=env_default("WARMUP", "2s"))
    ap.add_argument("--runs", type=int, default=int(env_default("RUNS", "3")), help="measured runs per scenario")
    ap.add_argument("--conns", type=int, default=int(env_default("CONNS", "64")))
    ap.add_argument("--threads", type=int, default=int(env_default("WRK_THREADS", "2")))
    ap.add_argument("--https-port", type=int, default=int(env_default("BENCH_HTTPS_PORT", "39443")))
    ap.add_argument("--http-port", type=int, default=int(env_default("BENCH_HTTP_PORT", "39480")))
    ap.add_argument("--quiet-pct", type=float, default=float(env_default("QUIET_PCT", "15")),
                    help="before each measured run wait until other work uses at most this %% of the CPUs")
    ap.add_argument("--quiet-wait", type=float, default=float(env_default("QUIET_WAIT", "60")),
                    help="... but at most this many seconds")
    ap.add_argument("--keep-up", action="store_true", help="leave a stack this started running")
    ap.add_argument("--no-start", action="store_true", help="never start the stack; measure only if it is up")
    ap.add_argument("--force", action="store_true", help="measure even while `stack.py exec/run` uses the test stack")
    ap.add_argument("--keep-tmp", action="store_true")
    args = ap.parse_args()
    for tool in ("wrk", "/usr/sbin/nginx"):
        if not shutil.which(tool):
            say("bench: %s is missing (apt-get install %s)" % (tool, Path(tool).name))
            return 2

    started = False
    ident = None
    tmp = Path(tempfile.mkdtemp(prefix="shoease-bench."))
    os.chmod(tmp, 0o755)
    nginx = None
    nonce_prefix = "%x" % (time.time_ns() // 1000)
    redis_port = None

    def stop_all(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop_all)

    try:
        # ---------------------------------------------------------- the stack
        try:
            state, started = use_test_stack(args.app, args.no_start, args.force)
        except CannotMeasure as e:
            say("bench: %s" % e)
            return 2
        app_bin = state.get("app", "?")
        ident = stack_identity(state)
        app_port = state["ports"]["APP_PORT"]
        redis_port = state["ports"].get("REDIS_PORT")

        say("== shoease seed (test env)")
        r = subprocess.run([app_bin, "seed"], cwd=REPO, env=stack_env(app_bin), capture_output=True, text=True)
        for line in (r.stdout + r.stderr).strip().splitlines()[-5:]:
            say("   " + line)
        if r.returncode != 0:
            say("   WARNING: seed exited %d; measuring whatever the database has" % r.returncode)

        # ---------------------------------------------------------- pages
        category, product, placeholder, notes = discover(app_port)
        for n in notes:
            say("   note: " + n)
        st, hdrs, page = fetch(app_port, category)
        (tmp / "static" / "bench").mkdir(parents=True, exist_ok=True)
        (tmp / "static" / "bench" / "page.html").write_bytes(page)
        static_path = "/static/bench/page.html"
        say("== pages: category %s (%d bytes%s), product %s%s" % (
            category, len(page), ", placeholder" if placeholder.get("category") else "", product,
            " (placeholder)" if placeholder.get("product") else ""))

        scenarios = []   # (name, group, port, tls, path, miss param)
        pages = [("category", category)]
        if product != category:
            pages.append(("product", product))
        else:
            say("   product page = category page: measured once")
        params = {}
        for kind, path in pages:
            name, hit_xc, miss_xc = miss_param(app_port, path, nonce_prefix)
            params[kind] = name
            say("   %s %s: X-Cache on a repeat = %s; unique parameter %s%s" % (
                kind, path, hit_xc or "(no header)",
                ("'%s' is harmless" % name) if name else "NOT harmless: miss scenario skipped",
                (", X-Cache = %s" % miss_xc) if name else ""))
            if hit_xc is None:
                say("   note: %s sends no X-Cache header: it is not served through the page cache yet,"
                    " so 'hit' and 'miss' measure the same thing" % path)

        # ---------------------------------------------------------- private nginx
        redirect_port = args.https_port + 1
        for p in (args.https_port, args.http_port, redirect_port):
            if not port_free(p):
                say("bench: port %d is in use on 127.0.0.1 (set BENCH_HTTPS_PORT/BENCH_HTTP_PORT)" % p)
                return 2
        conf = private_nginx_conf(state, tmp, args.https_port, args.http_port, redirect_port)
        nginx_argv = ["/usr/sbin/nginx", "-p", str(tmp / "nginx"), "-c", str(conf), "-e", str(tmp / "log" / "error.log")]
        r = subprocess.run(nginx_argv + ["-t", "-q"], capture_output=True, text=True)
        if r.returncode != 0:
            say("bench: private nginx config does not pass nginx -t:\n" + r.stderr)
            return 2
        nginx = subprocess.Popen(nginx_argv, stdout=subprocess.DEVNULL, stderr=open(tmp / "log" / "stderr.log", "w"),
                                 start_new_session=True)
        if not (wait_port(args.https_port) and wait_port(args.http_port)):
            say("bench: private nginx did not start:\n" + (tmp / "log" / "stderr.log").read_text())
            return 2
        for tls, port in ((False, args.http_port), (True, args.https_port)):
            s, _, b = fetch(port, static_path, tls=tls)
            if s != 200 or b != page:
                say("bench: nginx static copy is wrong (status %s, %d bytes)" % (s, len(b)))
                return 2
        s, _, _ = fetch(args.https_port, category, tls=True)
        if s != 200:
            say("bench: %s through the private nginx answered %s" % (category, s))
            return 2

        scenarios.append(("static file, nginx http", "static-http", args.http_port, False, static_path, None, "static"))
        scenarios.append(("static file, nginx https", "static-https", args.https_port, True, static_path, None, "static"))
        for kind, path in pages:
            for via, port, tls in (("app direct", app_port, False), ("nginx https", args.https_port, True)):
                scenarios.append(("%s hit, %s" % (kind, via), "static-https" if tls else "static-http",
                                  port, tls, path, None, kind))
                if params[kind]:
                    scenarios.append(("%s miss, %s" % (kind, via), "static-https" if tls else "static-http",
                                      port, tls, path, params[kind], kind))
                if params[kind] and not tls:
                    # each unique URL twice: the second render is also stored
                    # (the cache admits a URL on its second request); no target
                    scenarios.append(("%s miss x2, %s" % (kind, via), "static-http",
                                      port, tls, path, (params[kind], "2"), kind))

        # ---------------------------------------------------------- measure
        def url(port, tls, path):
            return "%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path)

        def run(sc, duration, tag):
            name, _, port, tls, path, param, _ = sc
            check_stack(ident)
            if param:
                name_times = param if isinstance(param, tuple) else (param,)
                res = wrk(args, url(port, tls, path), duration, MISS_LUA, ("%s%s" % (nonce_prefix, tag),) + name_times)
            else:
                res = wrk(args, url(port, tls, path), duration)
            check_stack(ident)
            return res

        say("== load before measuring: %s (1/5/15 min), %d cores" % (
            " ".join(loadavg()), os.cpu_count()))
        say("== warm-up (%s each)" % args.warmup)
        for i, sc in enumerate(scenarios):
            run(sc, args.warmup, "w%d" % i)
        results = {sc[0]: [] for sc in scenarios}
        busy_before = []
        for rnd in range(1, args.runs + 1):
            say("== round %d/%d (load avg %s)" % (rnd, args.runs, loadavg()[0]))
            for i, sc in enumerate(scenarios):
                b = wait_quiet(args.quiet_pct, args.quiet_wait)
                busy_before.append(b)
                res = run(sc, args.duration, "r%d-%d" % (rnd, i))
                res["busy"] = b
                results[sc[0]].append(res)
                say("   %-30s %9.0f req/s  p99 %8.2f ms  (other work before: %.0f%%)%s" % (
                    sc[0], res["rps"], res["p99"], b,
                    "  (%d errors/non-2xx of %d)" % (res["errors"], res["requests"]) if res["errors"] else ""))
                if res["rps"] == 0:
                    say("      wrk: " + res["raw"].strip().replace("\n", "\n      "))

        # ---------------------------------------------------------- report
        def summary(name):
            rs = results[name]
            rps = [r["rps"] for r in rs]
            p99 = [r["p99"] for r in rs]
            errs = sum(r["errors"] for r in rs)
            reqs = sum(r["requests"] for r in rs)
            return statistics.median(rps), min(rps), max(rps), statistics.median(p99), errs, reqs

        base = {"static-http": summary("static file, nginx http")[0],
                "static-https": summary("static file, nginx https")[0]}
        say()
        say("== results (%s; %d run(s) x %s per scenario; wrk -t%d -c%d; CPU busy with other work in the 1 s"
            " before each run: median %.0f%%, max %.0f%%)" % (
                time.strftime("%Y-%m-%d %H:%M"), args.runs, args.duration, args.threads, args.conns,
                statistics.median(busy_before), max(busy_before)))
        say("   app %s; ratio = req/s / static file over the same transport (http rows: %.0f, https rows: %.0f req/s)" % (
            app_bin, base["static-http"], base["static-https"]))
        say()
        def shown(path, param):
            if isinstance(param, tuple):     # (name, times): each unique URL asked for `times` times
                return path + "%s%s=<unique, x%s>" % ("&" if "?" in path else "?", param[0], param[1])
            return path + ("%s%s=<unique>" % ("&" if "?" in path else "?", param) if param else "")
        uw = max(len(shown(sc[4], sc[5])) for sc in scenarios)
        say("| %-28s | %-*s | %9s | %15s | %8s | %8s |" % ("scenario", uw, "URL", "req/s", "min-max", "p99 ms", "x static"))
        say("|%s|%s|%s|%s|%s|%s|" % ("-" * 30, "-" * (uw + 2), "-" * 10 + ":", "-" * 16 + ":", "-" * 9 + ":", "-" * 9 + ":"))
        ratio = {}
        for name, group, port, tls, path, param, kind in scenarios:
            med, lo, hi, p99, errs, reqs = summary(name)
            ratio[name] = med / base[group] if base[group] else 0.0
            say("| %-28s | %-*s | %9.0f | %15s | %8.2f | %8s |" % (
                name, uw, shown(path, param), med, "%.0f-%.0f" % (lo, hi), p99, fmt_ratio(ratio[name])))
            if errs:
                say("    ^ %d of %d responses were errors or non-2xx: this row does not measure the page"
                    % (errs, reqs))
        say()
        say("== targets (the issue's): cache hit, app direct >= %.2f x static; cache miss, app direct >= %.2f x static"
            % (TARGET_HIT, TARGET_MISS))
        for kind, _ in pages:
            for what, target in (("hit", TARGET_HIT), ("miss", TARGET_MISS)):
                name = "%s %s, app direct" % (kind, what)
                if name not in results:
                    say("   %-28s  n/a (no harmless query parameter: not measured)" % name)
                    continue
                errs = summary(name)[4]
                ok = ratio[name] >= target and not errs
                note = ""
                if placeholder.get(kind):
                    note = "  [placeholder %s: the real page is not built yet]" % dict(pages)[kind]
                if errs:
                    note += "  [errors in the run]"
                say("   %-4s %-28s %s x static = %.0f req/s (target >= %.2f x = %.0f req/s)%s" % (
                    "PASS" if ok else "MISS", name, fmt_ratio(ratio[name]), summary(name)[0], target,
                    target * base["static-http"], note))
        say()
        return 0
    except Disturbed as e:
        say()
        say("bench: ABORTED, results discarded: %s." % e)
        say("       The test profile has fixed ports and one data dir per checkout, so `make test` and")
        say("       `make bench` cannot share it; run the benchmark when no tests are running.")
        return 2
    except KeyboardInterrupt:
        say("bench: interrupted")
        return 130
    finally:
        if nginx:
            with contextlib.suppress(ProcessLookupError):
                nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(nginx.pid, signal.SIGKILL)
                nginx.wait()
        unchanged = False
        if ident is not None:
            with contextlib.suppress(Disturbed):
                check_stack(ident)
                unchanged = True
        if redis_port and unchanged and shutil.which("redis-cli"):
            # the miss runs left one page-cache entry per request (TTL 1 h)
            cli = ["redis-cli", "-h", "127.0.0.1", "-p", str(redis_port)]
            with contextlib.suppress(Exception):
                keys = subprocess.run(cli + ["--scan", "--pattern", "page:*=%s*" % nonce_prefix],
                                      capture_output=True, text=True, timeout=60).stdout.split()
                for i in range(0, len(keys), 5000):
                    subprocess.run(cli + ["unlink"] + keys[i:i + 5000], capture_output=True, timeout=60)
                if keys:
                    say("   deleted %d page-cache entries made by the miss runs" % len(keys))
        release_test_stack(started, ident, args.keep_up)
        if args.keep_tmp:
            say("kept " + str(tmp))
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
