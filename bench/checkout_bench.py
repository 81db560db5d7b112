#!/usr/bin/python3
"""checkout_bench.py — issue 9's checkout benchmark (`make bench-checkout`):
many buyers, many variants, the last pairs of some of them fought over.

Every round (rounds interleaved; each measurement after the quiet-machine
check, "other work before: N%"):

  static    nginx serving the category page's bytes as a file over HTTPS (a
            private nginx: the stack's config without limit_req): the reference
  browse    the category page through that nginx over HTTPS (page-cache hits)
  checkout  prepared guest buyers post their checkout form, each once, through
            the stack's own nginx (HTTPS, its limit_req in place), every wrk
            connection from a loopback address of its own: orders placed per
            second, p50/p99; then the stock invariants in MariaDB, and the job
            worker's backlog and how long it took to drain it
  mixed     browse and checkout at the same time: the category page's req/s and
            page-cache hit ratio beside the browse-only run, and orders/s

Once, after the rounds (a diagnostic, no target): checkout with the stack's
job worker stopped during the load (its jobs wait and are drained after), to
show what placing orders costs without the background work beside it.

Buyers are prepared before each measured run, not measured: a session, a bag
(1 or 2 lines, 1 or 2 pairs each, variants of the category page's products),
the checkout form with its key and token, through the app's own port (see
loadgen.py). Stock: --variants variants; --scarce of them get 1-4 pairs per
run (they sell out during it: the last pairs are fought over, those buyers get
409 "sold out"), the others plenty. After each run MariaDB must show, for
every variant, stock + pairs in this run's live orders = the stock set before
it; no negative stock; every order whole (lines, one payment, its history)
and equal to its buyer's bag; no buyer with two orders.

Targets (issue 9), PASS/MISS, never an error: >= 500 orders/s placed (the
checkout runs, median) and 0 oversold units (every run). Exit 2: could not
measure. The stack: tools/stack.py's test profile (SHOEASE_STACK_INSTANCE for
a private one), used if up, else started and stopped at the end. The stock of
the variants used is put back at the end; the orders stay (they are the shop's
record). Standard library only.
"""
import argparse
import contextlib
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import (
    INSTANCE, REPO, CannotMeasure, CpuMeter, Disturbed, add_stack_options, check_stack, env_default, fetch,
    fmt_ratio, loadavg, missing_tool, same_stack, say, seed_stack, stack_env, stack_identity, stack_service,
    use_test_stack, wait_quiet, wrk)
from loadgen import (
    LIVE, AppClient, Nets, PrivateNginx, Sql, backlog, build_shim, in_list, jobs_state, line_of, metrics, note,
    page_cache, release_stack, route_mean_ms, shopper_ip, wait_drained, wrk_once)
from store_bench import discover

TARGET_ORDERS = 500
IDENT = ("app", "nginx", "mariadb", "redis", "qredis")   # the worker is stopped once, on purpose
ADDRESS = {"full_name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postcode": "SW1Y 4JH", "country": "GB", "shipping_method": "standard", "payment_method": "cod"}
HIDDEN_RX = re.compile(r'<input type="hidden" name="(expected_standard|expected_express|checkout_key|csrf_token)"'
                       r' value="([^"]*)"')
PLENTY = 100000
STATUS_VARS = ("Questions", "Com_commit", "Innodb_log_writes", "Innodb_data_fsyncs", "Innodb_row_lock_waits",
               "Innodb_row_lock_time", "Innodb_deadlocks")
CATEGORY_ROUTE = "GET /category/{slug}"
CPU_NAMES = ("app", "mariadb", "worker", "smtp", "mongodb", "qredis", "redis", "nginx")


def median(v):
    return statistics.median(v) if v else float("nan")


def fmt_n(v):
    return "{:,.0f}".format(v) if v == v else "-"


class Bench:
    def __init__(self, args, state, tmp):
        self.args = args
        self.state = state
        self.tmp = Path(tmp)
        self.app_bin = state["app"]
        self.env = stack_env(self.app_bin)
        self.app_port = state["ports"]["APP_PORT"]
        self.https_port = state["ports"]["HTTPS_PORT"]
        self.sql = Sql(state)
        self.client = AppClient(self.app_port, self.https_port)
        self.nets = Nets()
        self.nonce = "%x" % (int(time.time()) % 0xFFFFFF)
        self.ident = stack_identity(state, IDENT)
        self.shim = build_shim(self.tmp)
        self.original_stock = {}     # variant id -> stock before the benchmark
        self.variants = []           # [{id, sku, product_id}]
        self.scarce = set()
        self.rate_est = 0.0
        self.busy = []

    # ------------------------------------------------------------ guards

    def guard(self):
        """The stack is still the same processes. On the shared test stack
        tests starting mean abort (check_stack). On a private instance
        (SHOEASE_STACK_INSTANCE) tests elsewhere only compete for the CPUs:
        the quiet-machine check before each measurement waits for that and
        prints what it saw, so only a replaced stack aborts."""
        if INSTANCE:
            if not same_stack(self.ident, IDENT):
                raise Disturbed("the benchmark's stack was stopped or replaced meanwhile")
            return
        check_stack(self.ident, IDENT, self.args.busy_wait)

    def quiet(self):
        b = wait_quiet(self.args.quiet_pct, self.args.quiet_wait)
        self.busy.append(b)
        return b

    # ------------------------------------------------------------ catalogue

    def pick_variants(self, category_slug):
        """--variants variants of the category's products (and its
        sub-categories'), spread over as many products as possible."""
        rows = self.sql.rows(
            "SELECT v.id, v.sku, v.product_id, v.stock FROM variants v JOIN products p ON p.id = v.product_id "
            "JOIN categories c ON c.id = p.category_id LEFT JOIN categories pc ON pc.id = c.parent_id "
            "WHERE p.active = 1 AND (c.slug = '%s' OR pc.slug = '%s') ORDER BY p.id, v.id"
            % (category_slug, category_slug))
        if not rows:
            raise CannotMeasure("no active products in the category %s" % category_slug)
        by_product = {}
        for r in rows:
            by_product.setdefault(int(r[2]), []).append(dict(id=int(r[0]), sku=r[1], product_id=int(r[2]),
                                                              stock=int(r[3])))
        rnd = random.Random(7)
        for vs in by_product.values():
            rnd.shuffle(vs)
        chosen = []
        while len(chosen) < self.args.variants and any(by_product.values()):
            for vs in by_product.values():
                if vs and len(chosen) < self.args.variants:
                    chosen.append(vs.pop())
        self.variants = chosen
        self.original_stock = {v["id"]: v["stock"] for v in chosen}
        k = max(1, int(round(len(chosen) * self.args.scarce)))
        self.scarce = {v["id"] for v in rnd.sample(chosen, k)}
        return len(by_product), len({v["product_id"] for v in chosen})

    def set_stock(self, plan):
        """shoease product set-stock SKU N for each (what a store owner runs;
        it also tells the page cache)."""
        sku = {v["id"]: v["sku"] for v in self.variants}

        def one(item):
            vid, n = item
            r = subprocess.run([self.app_bin, "product", "set-stock", sku[vid], str(n)], cwd=REPO, env=self.env,
                               capture_output=True, text=True, timeout=60)
            return r.returncode == 0 or (r.stdout + r.stderr).strip()
        with ThreadPoolExecutor(4) as ex:
            bad = [r for r in ex.map(one, plan.items()) if r is not True]
        if bad:
            raise CannotMeasure("product set-stock failed: %s" % bad[0])

    def stock_now(self):
        return {int(r[0]): int(r[1]) for r in self.sql.rows(
            "SELECT id, stock FROM variants WHERE id IN (%s)" % in_list(v["id"] for v in self.variants))}

    def restock(self, tag):
        """Scarce variants get 1-4 pairs, the others plenty (set only when
        they are not already). Returns the stock each variant has now."""
        rnd = random.Random(tag)
        now = self.stock_now()
        plan = {}
        for v in self.variants:
            if v["id"] in self.scarce:
                plan[v["id"]] = rnd.randint(1, 4)
            elif now.get(v["id"], 0) < PLENTY // 2:
                plan[v["id"]] = PLENTY
        self.set_stock(plan)
        return self.stock_now()

    # ------------------------------------------------------------ buyers

    def prepare(self, n, tag, stock):
        """n guest buyers with a bag and a checkout form: (file of prepared
        POSTs, {email: {variant: pairs}}, seconds). A bag never asks for more
        pairs than the variant has now (the bag would refuse them); buyers do
        not hold stock, so many bags hold the same last pairs."""
        rnd = random.Random("%s-%s" % (self.nonce, tag))
        ids = [v["id"] for v in self.variants]
        plans = []
        for i in range(n):
            lines = rnd.sample(ids, 2 if rnd.random() < 0.25 else 1)
            plans.append({vid: min(stock.get(vid, 1), 2 if rnd.random() < 0.2 else 1) for vid in lines})
        salt = random.randint(0, 100000)

        def one(i):
            ip = shopper_ip(i, salt)
            email = "ckb-%s-%s-%d@example.com" % (self.nonce, tag, i)
            cookie, token = self.client.session("/cart", ip)
            for vid, qty in plans[i].items():
                st, h, body = self.client.request("POST", "/cart/add", ip, cookie,
                                                  {"variant_id": vid, "quantity": qty, "csrf_token": token})
                if st != 303:
                    return None, "POST /cart/add answered %d: %s" % (st, re.sub(r"\s+", " ", body)[:200])
            st, _, body = self.client.request("GET", "/checkout", ip, cookie)
            form = dict(HIDDEN_RX.findall(body))
            if st != 200 or "checkout_key" not in form:
                return None, "GET /checkout answered %d without a checkout form" % st
            form.update(ADDRESS)
            form["email"] = email
            return (email, line_of("POST", "/checkout", cookie, form)), None

        t0 = time.monotonic()
        with ThreadPoolExecutor(self.args.prep_threads) as ex:
            done = list(ex.map(one, range(n)))
        secs = time.monotonic() - t0
        problems = [p for r, p in done if p]
        if problems:
            raise CannotMeasure("%d of %d buyers could not be prepared; first: %s" % (len(problems), n, problems[0]))
        path = self.tmp / ("buyers-%s.txt" % tag)
        order = list(range(n))
        rnd.shuffle(order)   # wrk threads take every k-th line: no pattern in who posts when
        with open(path, "w") as f:
            for i in order:
                f.write(done[i][0][1] + "\n")
        bags = {done[i][0][0]: plans[i] for i in range(n)}
        return path, bags, secs

    def buyers_for(self, duration_s):
        """Enough buyers for the run at the rate seen so far (and a margin)."""
        want = int(math.ceil(max(self.rate_est, 300.0) * duration_s * 1.4))
        return max(self.args.min_buyers, min(self.args.max_buyers, want))

    # ------------------------------------------------------------ one checkout run

    def tag_like(self, tag):
        return "ckb-%s-%s-%%@example.com" % (self.nonce, tag)

    def orders_count(self, tag):
        return int(self.sql.rows("SELECT COUNT(*) FROM orders WHERE email LIKE '%s'" % self.tag_like(tag))[0][0])

    def settle(self, tag, limit=30):
        """Requests still inside the app when wrk stopped finish on their own:
        wait until this run's order count stops moving (1 s)."""
        last, since, t0 = -1, time.monotonic(), time.monotonic()
        while time.monotonic() - t0 < limit:
            n = self.orders_count(tag)
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= 1.0:
                break
            time.sleep(0.25)
        return last

    def verify(self, tag, initial, bags):
        """The stock invariants and whole orders for this run's buyers."""
        like = self.tag_like(tag)
        ids = in_list(initial)
        rows = self.sql.rows(
            "SELECT v.id, v.stock, COALESCE(x.live, 0), COALESCE(x.total, 0) FROM variants v LEFT JOIN ("
            " SELECT ol.variant_id, SUM(IF(o.status IN (%s), ol.quantity, 0)) AS live, SUM(ol.quantity) AS total"
            " FROM orders o JOIN order_lines ol ON ol.order_id = o.id WHERE o.email LIKE '%s'"
            " GROUP BY ol.variant_id) x ON x.variant_id = v.id WHERE v.id IN (%s)"
            % (",".join("'%s'" % s for s in LIVE), like, ids))
        out = dict(variants=len(rows), broken=0, oversold=0, negative=0, sold_out=0, units=0, scarce_sold_out=0)
        for vid, stock, live, total in ((int(a), int(b), int(c), int(d)) for a, b, c, d in rows):
            out["units"] += live
            if stock < 0:
                out["negative"] += 1
            if stock + live != initial[vid]:
                out["broken"] += 1
            out["oversold"] += max(0, live - initial[vid])
            if stock == 0:
                out["sold_out"] += 1
                if vid in self.scarce:
                    out["scarce_sold_out"] += 1
        orders = self.sql.rows(
            "SELECT o.email, (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id),"
            " (SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id),"
            " (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id) FROM orders o WHERE o.email LIKE '%s'"
            % like)
        out["orders"] = len(orders)
        out["not_whole"] = sum(1 for _, l, p, e in orders if not (int(l) >= 1 and int(p) == 1 and int(e) >= 1))
        per_buyer = {}
        for email, *_ in orders:
            per_buyer[email] = per_buyer.get(email, 0) + 1
        out["twice"] = sum(1 for n in per_buyer.values() if n > 1)
        got = {}
        for email, vid, qty in self.sql.rows(
                "SELECT o.email, ol.variant_id, ol.quantity FROM orders o JOIN order_lines ol ON ol.order_id = o.id"
                " WHERE o.email LIKE '%s'" % like):
            got.setdefault(email, {})[int(vid)] = got.get(email, {}).get(int(vid), 0) + int(qty)
        out["unlike_bag"] = sum(1 for email, lines in got.items() if bags.get(email) != lines)
        return out

    def checkout_run(self, tag, duration, n_buyers=None, browse=None, measure=True):
        """Restock, prepare, fire (with a browse load beside it if given),
        settle, verify, drain. A dict of everything seen."""
        self.guard()
        initial = self.restock(tag)
        n = n_buyers or self.buyers_for(float(duration.rstrip("s")))
        path, bags, prep_secs = self.prepare(n, tag, initial)
        # the worker finishes the preparation's jobs (none) and any backlog first
        wait_drained(self.app_bin, self.env, self.args.drain_timeout)
        self.guard()
        res = dict(tag=tag, buyers=n, prep_secs=prep_secs, busy=self.quiet() if measure else 0.0)
        st0, m0 = self.sql.status(STATUS_VARS), metrics(self.app_port)
        js0 = jobs_state(self.app_bin, self.env)
        meter = CpuMeter({k: self.state["services"].get(k, {}).get("pid") for k in CPU_NAMES})
        meter.start()
        browse_box = None
        if browse:
            bt, browse_box = browse()
        w = wrk_once(path, self.https_port, self.args.conns, self.args.threads, duration, self.shim,
                     self.nets.next(), rotate=self.args.rotate)
        if browse:
            bt.join(timeout=float(duration.rstrip("s")) + 60)
        t_end = time.monotonic()
        meter.stop()
        js_end = jobs_state(self.app_bin, self.env)
        m1, st1 = metrics(self.app_port), self.sql.status(STATUS_VARS)
        res["wrk"] = w
        res["browse"] = browse_box
        res["cpu"] = meter.result()
        res["status_delta"] = {k: st1.get(k, 0) - st0.get(k, 0) for k in STATUS_VARS}
        res["cache"] = page_cache(m0, m1)
        res["app_ms"] = route_mean_ms(m0, m1, "POST /checkout")
        res["category_app_ms"] = route_mean_ms(m0, m1, CATEGORY_ROUTE)
        res["backlog_end"] = backlog(js_end)
        res["jobs_enqueued"] = sum(q.get("enqueued", 0) for q in (js_end or {}).get("queues", {}).values()) - \
            sum(q.get("enqueued", 0) for q in (js0 or {}).get("queues", {}).values())
        self.guard()
        res["db_orders"] = self.settle(tag)
        res["verify"] = self.verify(tag, initial, bags)
        st = w.get("status", {})
        res["placed"] = st.get("303", 0)
        res["rate"] = res["placed"] / w["secs"] if w.get("secs") else 0.0
        res["exhausted"] = w.get("unsent", 1) == 0
        secs, first, last, drained = wait_drained(self.app_bin, self.env, self.args.drain_timeout)
        res["drain_secs"] = time.monotonic() - t_end if drained else float("nan")
        res["backlog_last"] = last
        res["dead_delta"] = ((last or {}).get("dead", 0) - (backlog(js0) or {}).get("dead", 0)) if last else 0
        if measure and res["rate"] > 0:
            self.rate_est = max(self.rate_est, res["rate"])
        return res

    def say_checkout(self, name, r):
        w = r["wrk"]
        st = w.get("status", {})
        other = {k: v for k, v in st.items() if k not in ("303", "409")}
        say("   %-30s %8s orders/s (%s placed in %.1f s; %s x 409: %s sold out, %s only-N-left), p50 %s ms, p99 %s ms"
            "  (other work before: %.0f%%%s)" % (
                name, fmt_n(r["rate"]), fmt_n(r["placed"]), w.get("secs", 0), fmt_n(st.get("409", 0)),
                fmt_n(w.get("sold_out", 0)), fmt_n(w.get("only_left", 0)), fmt_n(w.get("p50_us", float("nan")) / 1000),
                fmt_n(w.get("p99_us", float("nan")) / 1000), r["busy"],
                ", during: %.0f%%" % r["cpu"]["other"] if "other" in r["cpu"] else ""))
        notes = []
        if other:
            notes.append("other answers %s" % other)
        errs = {k: v for k, v in (w.get("errors") or {}).items() if v and k != "status"}
        if errs:
            notes.append("wrk socket errors %s" % errs)
        if r["exhausted"]:
            notes.append("all %s prepared buyers were used before %s: the run ended early" % (
                fmt_n(r["buyers"]), self.args.duration))
        if not w.get("secs"):
            notes.append("wrk: " + w.get("raw", "").strip().replace("\n", "\n      ")[-800:])
        for n_ in notes:
            say("      " + n_)


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=env_default("APP", "build/shoease"))
    ap.add_argument("--duration", default=env_default("DURATION", "10s"), help="each checkout / mixed / browse run")
    ap.add_argument("--ref-duration", default=env_default("REF_DURATION", "5s"), help="the static-file reference")
    ap.add_argument("--runs", type=int, default=int(env_default("RUNS", "3")), help="rounds")
    ap.add_argument("--conns", type=int, default=int(env_default("CONNS", "128")),
                    help="concurrent buyers (wrk connections, each from its own loopback address)")
    ap.add_argument("--threads", type=int, default=int(env_default("WRK_THREADS", "2")))
    ap.add_argument("--rotate", type=int, default=int(env_default("ROTATE", "10")),
                    help="a buyer's connection closes after about this many posts and comes back from a new address"
                         " (0: keep-alive for good)")
    ap.add_argument("--browse-conns", type=int, default=int(env_default("BROWSE_CONNS", "32")))
    ap.add_argument("--variants", type=int, default=int(env_default("VARIANTS", "200")))
    ap.add_argument("--scarce", type=float, default=float(env_default("SCARCE", "0.1")),
                    help="share of the variants that get only 1-4 pairs per run")
    ap.add_argument("--min-buyers", type=int, default=int(env_default("MIN_BUYERS", "2000")))
    ap.add_argument("--max-buyers", type=int, default=int(env_default("MAX_BUYERS", "30000")))
    ap.add_argument("--prep-threads", type=int, default=int(env_default("PREP_THREADS", "8")))
    ap.add_argument("--no-mixed", action="store_true", help="skip the browse + checkout run")
    ap.add_argument("--no-paused", action="store_true", help="skip the diagnostic run with the job worker stopped")
    ap.add_argument("--drain-timeout", type=float, default=float(env_default("DRAIN_TIMEOUT", "600")))
    ap.add_argument("--quiet-pct", type=float, default=float(env_default("QUIET_PCT", "15")))
    ap.add_argument("--quiet-wait", type=float, default=float(env_default("QUIET_WAIT", "60")))
    add_stack_options(ap)
    args = ap.parse_args()
    missing = missing_tool(("wrk", "/usr/sbin/nginx", "mariadb"))
    if missing:
        say("bench: %s is missing" % missing)
        return 2

    started = False
    ident = None
    bench = None
    nginx = None
    worker_stopped = False
    tmp = Path(tempfile.mkdtemp(prefix="shoease-checkout-bench."))
    os.chmod(tmp, 0o755)

    def stop_all(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop_all)

    try:
        try:
            # a private instance is not used by tests elsewhere: they only
            # share the CPUs, which the quiet-machine check covers
            state, started = use_test_stack(args.app, args.no_start, args.force or bool(INSTANCE), args.busy_wait)
        except CannotMeasure as e:
            say("bench: %s" % e)
            return 2
        ident = stack_identity(state, IDENT)
        bench = Bench(args, state, tmp)
        app_port = bench.app_port
        seed_stack(bench.app_bin, bench.env)

        category, _, placeholder, notes = discover(app_port)
        for n_ in notes:
            note(n_)
        if placeholder.get("category") or not category.startswith("/category/"):
            raise CannotMeasure("no category page to browse (got %s)" % category)
        slug = category.rstrip("/").rsplit("/", 1)[1]
        n_products, n_used = bench.pick_variants(slug)
        st, _, page = fetch(app_port, category)
        nginx = PrivateNginx(state, tmp, page)
        for _ in range(3):   # the second request stores the page (admission), then hits
            fetch(nginx.https_port, category, tls=True)
        say("== category %s (%s bytes): %d products; buying %d variants of %d of them, %d scarce (1-4 pairs per run),"
            " the others %s pairs" % (category, fmt_n(len(page)), n_products, len(bench.variants), n_used,
                                       len(bench.scarce), fmt_n(PLENTY)))
        say("== checkout through the stack's nginx https://localhost:%d (limit_req on), wrk -t%d -c%d, every"
            " connection from its own 127.x.y.z; browse and the static reference through a private nginx"
            " (no limit_req) on %d" % (bench.https_port, args.threads, args.conns, nginx.https_port))
        say("== load before measuring: %s (1/5/15 min), %d cores" % (" ".join(loadavg()), os.cpu_count()))

        def browse_args(conns, threads):
            return Namespace(conns=conns, threads=threads)

        def static_run():
            bench.guard()
            b = bench.quiet()
            res = wrk(browse_args(64, 2), "https://127.0.0.1:%d/static/bench/page.html" % nginx.https_port,
                      args.ref_duration)
            res["busy"] = b
            return res

        def browse_run(duration, measure=True):
            bench.guard()
            b = bench.quiet() if measure else 0.0
            m0 = metrics(app_port)
            res = wrk(browse_args(args.browse_conns, 1), "https://127.0.0.1:%d%s" % (nginx.https_port, category),
                      duration)
            m1 = metrics(app_port)
            res["cache"] = page_cache(m0, m1)
            res["app_ms"] = route_mean_ms(m0, m1, CATEGORY_ROUTE)
            res["busy"] = b
            return res

        def browse_async():
            box = {}

            def run():
                box.update(wrk(browse_args(args.browse_conns, 1),
                               "https://127.0.0.1:%d%s" % (nginx.https_port, category), args.duration))
            t = threading.Thread(target=run, daemon=True)
            t.start()
            return t, box

        # ---------------------------------------------------------- warm-up
        say("== warm-up (not measured): 2 s of browsing, one checkout run of %s buyers" % fmt_n(1000))
        browse_run("2s", measure=False)
        w = bench.checkout_run("w", "30s", n_buyers=1000, measure=False)
        bench.rate_est = w["rate"]
        say("   warm-up checkout: %s orders/s; prepared %s buyers in %.1f s (%s/s, not measured)" % (
            fmt_n(w["rate"]), fmt_n(w["buyers"]), w["prep_secs"], fmt_n(w["buyers"] / max(w["prep_secs"], 1e-6))))

        results = {"static": [], "browse": [], "checkout": [], "mixed": []}
        for rnd in range(1, args.runs + 1):
            say("== round %d/%d (load avg %s)" % (rnd, args.runs, loadavg()[0]))
            s = static_run()
            results["static"].append(s)
            say("   %-30s %8s req/s, p99 %.2f ms  (other work before: %.0f%%)%s" % (
                "static file, nginx https", fmt_n(s["rps"]), s["p99"], s["busy"],
                "  [%d errors]" % s["errors"] if s["errors"] else ""))
            b = browse_run(args.duration)
            results["browse"].append(b)
            h, m = b["cache"]
            say("   %-30s %8s req/s, p99 %.2f ms (%.2f ms inside the app), page cache %s hits / %s misses"
                "  (other work before: %.0f%%)%s" % (
                "category page, browse only", fmt_n(b["rps"]), b["p99"], b["app_ms"], fmt_n(h), fmt_n(m), b["busy"],
                "  [%d errors]" % b["errors"] if b["errors"] else ""))
            c = bench.checkout_run("r%dc" % rnd, args.duration)
            results["checkout"].append(c)
            bench.say_checkout("checkout", c)
            if not args.no_mixed:
                x = bench.checkout_run("r%dm" % rnd, args.duration, browse=browse_async)
                results["mixed"].append(x)
                bb = x["browse"] or {}
                h, m = x["cache"]
                bench.say_checkout("mixed: checkout", x)
                say("   %-30s %8s req/s, p99 %.2f ms (%.2f ms inside the app), page cache %s hits / %s misses%s" % (
                    "mixed: category page", fmt_n(bb.get("rps", 0)), bb.get("p99", float("nan")), x["category_app_ms"],
                    fmt_n(h), fmt_n(m),
                    "  [%d errors]" % bb["errors"] if bb.get("errors") else ""))

        paused = None
        if not args.no_paused:
            say("== diagnostic: checkout with the stack's job worker stopped during the load (drained after)")
            worker_stopped = True
            if not stack_service("stop", "worker"):
                raise CannotMeasure("could not stop the stack's worker service")
            try:
                # the run itself waits for the drain: with the worker stopped
                # that would never come, so drain after starting it again
                limit = args.drain_timeout
                args.drain_timeout = 0
                paused = bench.checkout_run("pw", args.duration,
                                            n_buyers=2 * bench.buyers_for(float(args.duration.rstrip("s"))))
            finally:
                args.drain_timeout = limit
                stack_service("start", "worker")
                worker_stopped = False
            if paused:
                secs, first, last, drained = wait_drained(bench.app_bin, bench.env, args.drain_timeout)
                paused["drain_secs"] = secs if drained else float("nan")
                paused["backlog_last"] = last
                bench.say_checkout("checkout, worker stopped", paused)
                say("      its jobs (%s waiting when the load stopped) were drained in %s s once the worker ran" % (
                    fmt_n((paused["backlog_end"] or {}).get("jobs", 0)),
                    "%.1f" % paused["drain_secs"] if paused["drain_secs"] == paused["drain_secs"] else "(not drained)"))

        report(args, bench, results, paused, len(page), w)
        return 0
    except Disturbed as e:
        say()
        say("bench: ABORTED, results discarded: %s." % e)
        return 2
    except CannotMeasure as e:
        say("bench: could not measure: %s" % e)
        return 2
    except KeyboardInterrupt:
        say("bench: interrupted")
        return 130
    finally:
        if nginx:
            nginx.stop()
        unchanged = ident is not None and same_stack(ident, IDENT)
        if worker_stopped and unchanged:
            say("== starting the stack's worker service again")
            stack_service("start", "worker")
        if bench and bench.original_stock and unchanged:
            with contextlib.suppress(Exception):
                bench.set_stock(bench.original_stock)
                say("   the stock of the %d variants used is as it was before the benchmark"
                    % len(bench.original_stock))
        release_stack(started, ident, args.keep_up, IDENT)
        shutil.rmtree(tmp, ignore_errors=True)


def report(args, bench, results, paused, page_bytes, warm):
    say()
    busy = bench.busy or [0.0]
    say("== results (%s; %d round(s) x %s; checkout: wrk -t%d -c%d through the stack's nginx, each buyer posts once;"
        " CPU busy with other work in the 1 s before each measurement: median %.0f%%, max %.0f%%)" % (
            time.strftime("%Y-%m-%d %H:%M"), args.runs, args.duration, args.threads, args.conns,
            statistics.median(busy), max(busy)))
    say("   app %s; ratio = rate / the static file's req/s through nginx over HTTPS in the same rounds" % bench.app_bin)
    say()
    static = median([r["rps"] for r in results["static"]])
    rows = []

    def row(name, vals, p50, p99, extra=""):
        if not vals:
            return
        rows.append((name, median(vals), min(vals), max(vals), p50, p99, median(vals) / static if static else 0, extra))

    row("static file, nginx https (%s B)" % fmt_n(page_bytes), [r["rps"] for r in results["static"]], float("nan"),
        median([r["p99"] for r in results["static"]]))

    def hit_ratio(pairs):
        h = sum(p[0] for p in pairs)
        m = sum(p[1] for p in pairs)
        return "page cache hit %.2f %%" % (100.0 * h / (h + m)) if h + m else "no page-cache lookups"
    row("category page, browse only", [r["rps"] for r in results["browse"]], float("nan"),
        median([r["p99"] for r in results["browse"]]), hit_ratio([r["cache"] for r in results["browse"]]))
    for key, name in (("checkout", "checkout: orders placed/s"), ("mixed", "mixed: orders placed/s")):
        rs = results[key]
        row(name, [r["rate"] for r in rs], median([r["wrk"].get("p50_us", float("nan")) / 1000 for r in rs]),
            median([r["wrk"].get("p99_us", float("nan")) / 1000 for r in rs]),
            "%s buyers/run, %s%% answered 409" % (
                fmt_n(median([r["buyers"] for r in rs])),
                "%.1f" % (100.0 * sum(r["wrk"]["status"].get("409", 0) for r in rs) /
                          max(1, sum(r["wrk"].get("answered", 0) for r in rs)))) if rs else "")
    if results["mixed"]:
        row("mixed: category page", [(r["browse"] or {}).get("rps", 0) for r in results["mixed"]], float("nan"),
            median([(r["browse"] or {}).get("p99", float("nan")) for r in results["mixed"]]),
            hit_ratio([r["cache"] for r in results["mixed"]]))
    if paused:
        row("checkout, job worker stopped", [paused["rate"]], paused["wrk"].get("p50_us", float("nan")) / 1000,
            paused["wrk"].get("p99_us", float("nan")) / 1000, "diagnostic, 1 run, no target")
    say("| %-32s | %9s | %15s | %7s | %8s | %8s | %s" % ("scenario", "rate/s", "min-max", "p50 ms", "p99 ms",
                                                      "x static", "notes"))
    say("|%s|%s|%s|%s|%s|%s|---" % ("-" * 34, "-" * 10 + ":", "-" * 16 + ":", "-" * 8 + ":", "-" * 9 + ":",
                                     "-" * 9 + ":"))
    for name, med, lo, hi, p50, p99, ratio, extra in rows:
        say("| %-32s | %9s | %15s | %7s | %8s | %8s | %s" % (
            name, fmt_n(med), "%s-%s" % (fmt_n(lo), fmt_n(hi)), "%.1f" % p50 if p50 == p50 else "", "%.1f" % p99,
            fmt_ratio(ratio), extra))

    runs = [("warm-up", warm)] + [("round %d checkout" % (i + 1), r) for i, r in enumerate(results["checkout"])] + \
        [("round %d mixed" % (i + 1), r) for i, r in enumerate(results["mixed"])] + \
        ([("worker stopped", paused)] if paused else [])
    say()
    say("== stock and orders in MariaDB after each run (guest COD orders of this run's buyers)")
    oversold_total = broken_total = bad_orders = 0
    for name, r in runs:
        v, w = r["verify"], r["wrk"]
        st = w.get("status", {})
        oversold_total += v["oversold"] + v["negative"]
        broken_total += v["broken"]
        bad_orders += v["not_whole"] + v["unlike_bag"] + v["twice"]
        other409 = st.get("409", 0) - w.get("sold_out", 0) - w.get("only_left", 0)
        say("   %-18s %s orders (%s answered 303 in the window, %s finished after it); %s x 409 (%s sold out, %s"
            " only N left%s); %d/%d scarce variants sold out; stock + pairs in live orders = stock set before:"
            " %d/%d variants; oversold %d, negative %d; not whole %d, unlike the bag %d, buyers with two orders %d" % (
                name, fmt_n(v["orders"]), fmt_n(st.get("303", 0)), fmt_n(v["orders"] - st.get("303", 0)),
                fmt_n(st.get("409", 0)), fmt_n(w.get("sold_out", 0)), fmt_n(w.get("only_left", 0)),
                ", other %d" % other409 if other409 else "", v["scarce_sold_out"], len(bench.scarce),
                v["variants"] - v["broken"], v["variants"], v["oversold"], v["negative"], v["not_whole"],
                v["unlike_bag"], v["twice"]))

    say()
    say("== the job worker (shoease worker: mail, PDF invoice, order event per order, run while orders are placed)")
    for name, r in runs[1:]:
        b = r["backlog_end"] or {}
        say("   %-18s %s jobs enqueued during the run; when the load stopped %s jobs were waiting or running (%s),"
            " %s outbox rows unfinished; drained %s after the load stopped; dead jobs +%d" % (
                name, fmt_n(r["jobs_enqueued"]), fmt_n(b.get("jobs", 0)),
                ", ".join("%s %s" % (k, fmt_n(v)) for k, v in sorted(b.get("per_queue", {}).items())) or "-",
                fmt_n(b.get("outbox", 0)),
                "%.1f s" % r["drain_secs"] if r["drain_secs"] == r["drain_secs"] else "NOT within %d s" %
                args.drain_timeout, r.get("dead_delta", 0)))

    say()
    cr = results["checkout"]
    if cr:
        say("== where the time went in the checkout runs (median over the rounds)")
        cpu = {k: median([r["cpu"].get(k, 0) for r in cr]) for k in CPU_NAMES}
        mach = median([r["cpu"].get("machine", 0) for r in cr])
        ours = sum(cpu.values())
        other = median([r["cpu"]["other"] for r in cr]) if all("other" in r["cpu"] for r in cr) else None
        say("   CPU, %% of one core: %s; these together %.0f%%; the machine's %d cores were %.0f%% busy%s" % (
            ", ".join("%s %.0f" % (k, v) for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])), ours,
            os.cpu_count(), mach, "" if other is None else " (%.0f%% of them with other people's work)" % other))
        per = {k: median([r["status_delta"][k] / max(1, r["verify"]["orders"]) for r in cr]) for k in STATUS_VARS}
        waits = median([r["status_delta"]["Innodb_row_lock_waits"] for r in cr])
        wait_ms = median([r["status_delta"]["Innodb_row_lock_time"] for r in cr])
        say("   MariaDB per order (all its clients, the job worker's too): %.1f statements, %.2f explicit COMMITs,"
            " %.2f redo-log writes, %.2f fsyncs, %.2f row-lock waits (%.1f ms each on average), %.3f deadlocks" % (
                per["Questions"], per["Com_commit"], per["Innodb_log_writes"], per["Innodb_data_fsyncs"],
                per["Innodb_row_lock_waits"], wait_ms / waits if waits else 0.0, per["Innodb_deadlocks"]))
        say("   the app: POST /checkout took %.1f ms on average inside the app (median over rounds); it runs %s"
            " requests at once (WORKERS x WORKER_THREADS)" % (
                median([r["app_ms"] for r in cr]), workers_note(bench.env)))
        if paused:
            pc, pd = paused["cpu"], paused["status_delta"]
            po = max(1, paused["verify"]["orders"])
            say("   job worker stopped: %s orders/s; CPU %s; machine %.0f%% busy; MariaDB per order %.1f statements,"
                " %.2f fsyncs, %.2f row-lock waits; POST /checkout %.1f ms inside the app" % (
                    fmt_n(paused["rate"]),
                    ", ".join("%s %.0f" % (k, pc.get(k, 0)) for k in CPU_NAMES if pc.get(k, 0) >= 1),
                    pc.get("machine", 0), pd["Questions"] / po, pd["Innodb_data_fsyncs"] / po,
                    pd["Innodb_row_lock_waits"] / po, paused["app_ms"]))

    say()
    say("== targets (issue 9): >= %d orders/s placed; 0 oversold units" % TARGET_ORDERS)
    if cr:
        med = median([r["rate"] for r in cr])
        say("   %-4s checkout: %s orders/s placed (median of %d runs; target >= %d)" % (
            "PASS" if med >= TARGET_ORDERS else "MISS", fmt_n(med), len(cr), TARGET_ORDERS))
    say("   %-4s 0 oversold units: %d oversold or negative, %d variants whose stock + live orders != the stock set,"
        " %d orders not whole / unlike their bag / twice, over %d runs" % (
            "PASS" if not oversold_total and not broken_total and not bad_orders else "MISS", oversold_total,
            broken_total, bad_orders, len(runs)))
    say()


def workers_note(env):
    """WORKERS x WORKER_THREADS of the app (its environment, else its env
    file, else the defaults of src/core/config.c: the cores, and 8)."""
    vals = {}
    with contextlib.suppress(OSError, KeyError):
        for line in Path(env["SHOEASE_ENV_FILE"]).read_text().splitlines():
            k, _, v = line.partition("=")
            vals[k.strip()] = v.strip().strip('"')
    w = env.get("WORKERS") or vals.get("WORKERS", str(os.cpu_count() or 2))
    t = env.get("WORKER_THREADS") or vals.get("WORKER_THREADS", "8")
    return "%s x %s = %d" % (w, t, int(w) * int(t)) if w.isdigit() and t.isdigit() else "%s x %s" % (w, t)


if __name__ == "__main__":
    sys.exit(main())
