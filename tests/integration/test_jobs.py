"""Background jobs: the durable Redis, the queue, `shoease worker`, the
outbox, the scheduler, mail and SMS — and the faults they must survive.

Black-box against the real stack (make test): `shoease jobs/mail/sms`
commands, the worker's JSON log, the SMTP sink and the SMS gateway recorder.
The test stack runs JOB_LEASE_MS=3000, OUTBOX_RESEND_SECONDS=5,
JOB_PROCESSES=2 and TEST_HOOKS=1 (which adds the test.* job types: touch,
fail, crash, reject; src/jobs/system_jobs.h).
"""
import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from conftest import children_of, pid_alive, wait_until


# ------------------------------------------------------------------ helpers

def jobs_json(cli):
    r = cli("jobs", "--json")
    assert r.returncode == 0, "shoease jobs --json failed: %s%s" % (r.stdout, r.stderr)
    return json.loads(r.stdout)


def queue(cli, name):
    return jobs_json(cli)["queues"][name]


def enqueue(cli, jtype, key, payload=None, delay_ms=None):
    args = ["jobs", "enqueue", jtype, key]
    if payload is not None:
        args.append(json.dumps(payload))
    if delay_ms is not None:
        args += ["--delay", str(delay_ms)]
    r = cli(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip()


def dead_jobs(cli, queue_name=None):
    args = ["jobs", "dead"] + ([queue_name] if queue_name else []) + ["--json"]
    r = cli(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def dead_with_key(cli, key):
    return [d for d in dead_jobs(cli) if d.get("key") == key]


def worker_lines(stack):
    """The worker's JSON job lines (one per finished run)."""
    out = []
    try:
        text = stack.log_path("worker").read_text(errors="replace")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def runs_of(stack, key):
    return [l for l in worker_lines(stack) if l.get("key") == key]


def worker_children(stack):
    master = stack.refresh()["services"]["worker"]["pid"]
    assert master and pid_alive(master), "the worker service is not running"
    return children_of(master)


def wait_workers(stack, n=2, timeout=20):
    assert wait_until(lambda: len(worker_children(stack)) >= n, timeout), \
        "expected %d job worker processes, have %s" % (n, worker_children(stack))


def tmp_effects(state, name):
    d = Path(state["paths"]["outbox_dir"]) / "test-effects"
    d.mkdir(parents=True, exist_ok=True)
    p = d / ("%s-%s" % (name, uuid.uuid4().hex[:8]))
    return p


def lines(path):
    try:
        return [l for l in Path(path).read_text().splitlines() if l.strip()]
    except FileNotFoundError:
        return []


@pytest.fixture
def worker_up(stack):
    """The worker service runs (a test that stopped it restores it)."""
    sv = stack.refresh()["services"].get("worker", {})
    if not sv.get("pid") or not pid_alive(sv["pid"]):
        stack.start("worker")
    wait_workers(stack)
    yield
    sv = stack.refresh()["services"].get("worker", {})
    if not sv.get("pid") or not pid_alive(sv["pid"]):
        stack.start("worker")


# ------------------------------------------------------------------ the durable Redis

def test_durable_redis_is_durable_and_separate(stack):
    assert stack.qredis("CONFIG", "GET", "appendonly").split()[-1] == "yes"
    assert stack.qredis("CONFIG", "GET", "appendfsync").split()[-1] == "everysec"
    assert stack.qredis("CONFIG", "GET", "maxmemory-policy").split()[-1] == "noeviction"
    # the cache stays a cache
    assert stack.redis("CONFIG", "GET", "appendonly").split()[-1] == "no"
    # and the durable one wants its password
    import subprocess
    r = subprocess.run(["redis-cli", "-p", str(stack.state["ports"]["QREDIS_PORT"]), "PING"],
                       capture_output=True, text=True, timeout=10)
    assert "NOAUTH" in (r.stdout + r.stderr), r.stdout + r.stderr


def test_readyz_names_the_durable_redis(stack, session, https_url):
    doc = session.get(https_url + "/readyz", timeout=10).json()
    assert doc["stores"]["durable_redis"]["ok"] is True
    stack.stop("qredis")
    try:
        r = session.get(https_url + "/readyz", timeout=15)
        assert r.status_code == 503
        assert "durable_redis" in r.json()["failing"]
        # pages do not need it
        assert session.get(https_url + "/", timeout=15).status_code == 200
    finally:
        stack.start("qredis")
    assert wait_until(lambda: session.get(https_url + "/readyz", timeout=10).status_code == 200, 20)


def test_tls_connection_to_a_managed_style_redis(state, shoease_cli):
    """rediss:// with the CA verified: the path a managed Redis takes."""
    env = state["env"]
    assert env.get("QUEUE_REDIS_TLS_URL"), "the test stack exports QUEUE_REDIS_TLS_URL"
    r = shoease_cli("check", "--stores", env={"QUEUE_REDIS_URL": env["QUEUE_REDIS_TLS_URL"],
                                              "QUEUE_REDIS_CA": env["QUEUE_REDIS_CA"]})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "durable redis (rediss://" in r.stdout and ": ok" in r.stdout.split("durable redis")[1].splitlines()[0]
    # an unknown CA is refused, not trusted
    r = shoease_cli("check", "--stores", env={"QUEUE_REDIS_URL": env["QUEUE_REDIS_TLS_URL"], "QUEUE_REDIS_CA": "/etc/ssl/certs/ca-certificates.crt"})
    assert r.returncode != 0
    assert "TLS handshake failed" in r.stdout, r.stdout
    # a wrong password is an error that names no secret
    url = env["QUEUE_REDIS_URL"]
    bad = url.replace(url.split("@")[0].split(":")[-1], "wrong-password")
    r = shoease_cli("check", "--stores", env={"QUEUE_REDIS_URL": bad})
    assert r.returncode != 0
    assert "authentication failed" in r.stdout and "wrong-password" not in r.stdout + r.stderr


# ------------------------------------------------------------------ mail and SMS through the queue

def test_mail_test_command_delivers_through_the_queue(shoease_cli, mailbox, stack, worker_up):
    addr = "ops-%s@example.com" % uuid.uuid4().hex[:8]
    r = shoease_cli("mail", "test", addr, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "sent" in r.stdout
    key = r.stdout.split("key ")[1].split(")")[0]
    msg = mailbox.wait_for(lambda m: m["To"] == addr, timeout=10)
    assert "test" in msg["Subject"].lower()
    assert msg.is_multipart()
    types = {p.get_content_type() for p in msg.walk()}
    assert {"text/plain", "text/html"} <= types
    assert msg["Message-ID"] and "@" in msg["Message-ID"]
    # one run, logged as one JSON line
    runs = runs_of(stack, key)
    assert len(runs) == 1 and runs[0]["outcome"] == "done" and runs[0]["type"] == "mail.send"
    for field in ("time", "job", "queue", "attempt", "duration_ms", "pickup_ms", "pid"):
        assert field in runs[0]


def test_mail_bad_address_is_refused_by_the_command(shoease_cli):
    r = shoease_cli("mail", "test", "not-an-address")
    assert r.returncode == 2 and "not an e-mail address" in r.stderr


def test_sms_through_the_http_gateway(shoease_cli, sms_gateway, worker_up):
    number = "+4477009%05d" % (uuid.uuid4().int % 100000)
    r = shoease_cli("sms", "test", number, "hello from the tests", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    m = sms_gateway.wait_for(lambda m: m["to"] == number, timeout=10)
    assert m["body"] == "hello from the tests"
    assert m["idempotency_key"] and m["idempotency_key"].startswith("sms-test:")
    r = shoease_cli("sms", "test", "07700 900123")
    assert r.returncode == 2 and "E.164" in r.stderr


def test_sms_gateway_failure_is_retried_once_delivered(shoease_cli, sms_gateway, worker_up, stack):
    number = "+4477008%05d" % (uuid.uuid4().int % 100000)
    sms_gateway.fail_next(2)
    r = shoease_cli("sms", "test", number, "--no-wait")
    assert r.returncode == 0
    key = r.stdout.split("key ")[1].split(")")[0]
    sms_gateway.wait_for(lambda m: m["to"] == number, timeout=40)
    time.sleep(1)
    assert len(sms_gateway.messages(lambda m: m["to"] == number)) == 1
    outcomes = [l["outcome"] for l in runs_of(stack, key)]
    assert outcomes.count("retry") == 2 and outcomes[-1] == "done", outcomes


def test_sms_queue_rate_limit_spaces_messages(shoease_cli, sms_gateway, worker_up):
    """The sms queue allows 5 messages a second across every worker: ten
    messages are spread out, at least ~200 ms apart (a lower bound on the
    spacing, which a slow machine can only widen)."""
    tag = uuid.uuid4().hex[:6]
    numbers = ["+4477007%05d" % (int(tag, 16) % 90000 + i) for i in range(10)]
    for i, n in enumerate(numbers):
        enqueue(shoease_cli, "sms.send", "rate-%s-%d" % (tag, i), {"to": n, "body": "rate %d" % i})
    msgs = sms_gateway.wait_for(lambda m: m["to"] in numbers, timeout=30, count=10)
    times = sorted(time.mktime(time.strptime(m["time"][:19], "%Y-%m-%dT%H:%M:%S")) + float("0." + m["time"][20:23])
                   for m in msgs)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.15, "messages closer than the 5/s limit allows: %s" % gaps
    assert times[-1] - times[0] >= 1.5


# ------------------------------------------------------------------ queue semantics

def test_unique_key_while_pending_is_a_no_op(shoease_cli):
    key = "uniq-%s" % uuid.uuid4().hex
    assert enqueue(shoease_cli, "test.reject", key, delay_ms=600000) == "enqueued"
    assert "already pending" in enqueue(shoease_cli, "test.reject", key)
    r = shoease_cli("jobs", "enqueue", "test.reject", "has space")
    assert r.returncode == 1 and "idempotency key" in r.stderr
    r = shoease_cli("jobs", "enqueue", "no.such.type", "k1")
    assert r.returncode == 1 and "unknown job type" in r.stderr
    r = shoease_cli("jobs", "enqueue", "test.reject", "k2", "[1,2]")
    assert r.returncode == 2 and "JSON object" in r.stderr


def test_retries_with_backoff_then_dead_letter_redrive_delete(shoease_cli, stack, worker_up):
    key = "fail-%s" % uuid.uuid4().hex
    enqueue(shoease_cli, "test.fail", key, {"why": "always"})
    assert wait_until(lambda: dead_with_key(shoease_cli, key), 30), "test.fail never reached the dead letters"
    d = dead_with_key(shoease_cli, key)[0]
    assert d["attempts"] == 3
    assert "always fails" in d["error"] and "gave up after 3" in d["error"]
    assert d["payload"] == {"why": "always"} and d["type"] == "test.fail" and d["queue"] == "default"
    outcomes = [l["outcome"] for l in runs_of(stack, key)]
    assert outcomes == ["retry", "retry", "dead"], outcomes
    # the backoff is real: each retry waited (jitter: at least half the base)
    times = [l["time"] for l in runs_of(stack, key)]
    assert times == sorted(times)
    r = shoease_cli("jobs", "show", d["id"])
    assert r.returncode == 0 and json.loads(r.stdout)["key"] == key
    # re-drive: attempts start again, and it dies again
    r = shoease_cli("jobs", "redrive", d["id"])
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: len(runs_of(stack, key)) >= 6 and dead_with_key(shoease_cli, key), 30)
    assert [l["attempt"] for l in runs_of(stack, key)][3:] == [1, 2, 3]
    r = shoease_cli("jobs", "delete", d["id"])
    assert r.returncode == 0
    assert not dead_with_key(shoease_cli, key)
    assert shoease_cli("jobs", "show", d["id"]).returncode == 1
    assert shoease_cli("jobs", "redrive", "0123456789abcdef0123456789abcdef").returncode == 1


def test_poison_jobs_are_dead_lettered_and_workers_keep_going(shoease_cli, stack, worker_up):
    tag = uuid.uuid4().hex[:8]
    stream = "q:default:s"
    # written by something that is not ShoEase: not JSON, an unknown type, oversize
    stack.qredis("XADD", stream, "*", "id", "raw1" + tag, "k", "p1" + tag, "j", "{not json")
    env = json.dumps({"id": "raw2" + tag, "type": "no.such", "key": "p2" + tag, "p": {}, "a": 0, "t": 0})
    stack.qredis("XADD", stream, "*", "id", "raw2" + tag, "k", "p2" + tag, "j", env)
    big = json.dumps({"id": "raw3" + tag, "type": "test.touch", "key": "p3" + tag, "p": {"x": "y" * 300000}, "a": 0, "t": 0})
    import subprocess
    pw = stack.qredis_password()
    subprocess.run(["redis-cli", "--no-auth-warning", "-a", pw, "-p", str(stack.state["ports"]["QREDIS_PORT"]), "-x",
                    "XADD", stream, "*", "id", "raw3" + tag, "k", "p3" + tag, "j"],
                   input=big, text=True, capture_output=True, timeout=10, check=True)
    enqueue(shoease_cli, "test.reject", "p4" + tag)
    enqueue(shoease_cli, "test.touch", "p5" + tag, {"path": "relative/path"})   # a payload the handler refuses

    def reasons():
        return {d["id"]: d["error"] for d in dead_jobs(shoease_cli, "default")}
    assert wait_until(lambda: {"raw1" + tag, "raw2" + tag, "raw3" + tag} <= set(reasons()), 20), reasons()
    rs = reasons()
    assert "malformed" in rs["raw1" + tag]
    assert "unknown job type" in rs["raw2" + tag]
    assert "oversize" in rs["raw3" + tag]
    assert wait_until(lambda: dead_with_key(shoease_cli, "p4" + tag) and dead_with_key(shoease_cli, "p5" + tag), 20)
    assert "refused permanently" in dead_with_key(shoease_cli, "p4" + tag)[0]["error"]
    assert "absolute" in dead_with_key(shoease_cli, "p5" + tag)[0]["error"]
    raw = dead_jobs(shoease_cli)
    assert any(d["id"] == "raw1" + tag and "{not json" in d.get("raw", "") for d in raw)
    # still working
    effect = tmp_effects(stack.state, "after-poison")
    enqueue(shoease_cli, "test.touch", "p6" + tag, {"path": str(effect)})
    assert wait_until(lambda: len(lines(effect)) == 1, 15)


def test_a_job_that_kills_its_worker_ends_in_the_dead_letters(shoease_cli, stack, worker_up):
    """A handler that crashes the process: the master replaces the process,
    the job is taken back after its lease, and after 3 deaths it is dead."""
    key = "crash-%s" % uuid.uuid4().hex
    before = set(worker_children(stack))
    enqueue(shoease_cli, "test.crash", key)
    assert wait_until(lambda: dead_with_key(shoease_cli, key), 60), "the crashing job never reached the dead letters"
    d = dead_with_key(shoease_cli, key)[0]
    assert "died 3 times" in d["error"]
    wait_workers(stack, 2)
    assert set(worker_children(stack)) != before   # replaced processes
    effect = tmp_effects(stack.state, "after-crash")
    enqueue(shoease_cli, "test.touch", "after-crash-" + key, {"path": str(effect)})
    assert wait_until(lambda: len(lines(effect)) == 1, 20)


def test_kill9_mid_job_completes_once_on_another_worker(shoease_cli, stack, worker_up, kill):
    key = "kill9-%s" % uuid.uuid4().hex
    effect = tmp_effects(stack.state, "kill9")
    started = Path(str(effect) + ".started")
    enqueue(shoease_cli, "test.touch", key, {"path": str(effect), "sleep_ms": 3000, "started_path": str(started)})
    assert wait_until(lambda: lines(started), 15), "the job never started"
    victim = int(lines(started)[0])
    assert victim in worker_children(stack)
    kill(victim, signal.SIGKILL)
    # the lease (3 s) lapses, another process takes the job and finishes it
    assert wait_until(lambda: len(lines(effect)) >= 1, 30), "the job was lost with its worker"
    time.sleep(4)   # long enough for any second (wrong) run to show
    done = lines(effect)
    assert len(done) == 1, "the effect happened %d times: %s" % (len(done), done)
    assert done[0].split()[0] == key and int(done[0].split()[1]) != victim
    assert len(lines(started)) == 2
    wait_workers(stack, 2)


def test_graceful_stop_finishes_the_job_at_hand(shoease_cli, stack, worker_up):
    key = "graceful-%s" % uuid.uuid4().hex
    effect = tmp_effects(stack.state, "graceful")
    started = Path(str(effect) + ".started")
    enqueue(shoease_cli, "test.touch", key, {"path": str(effect), "sleep_ms": 2000, "started_path": str(started)})
    assert wait_until(lambda: lines(started), 15)
    stack.stop("worker")      # SIGTERM to the master, which drains its processes
    assert len(lines(effect)) == 1, "SIGTERM interrupted a running job"
    q = queue(shoease_cli, "default")
    assert q["in_flight"] == 0
    stack.start("worker")


def test_dead_worker_process_is_replaced(stack, worker_up, kill):
    kids = worker_children(stack)
    kill(kids[0], signal.SIGKILL)
    assert wait_until(lambda: len(worker_children(stack)) == 2 and kids[0] not in worker_children(stack), 15)


# ------------------------------------------------------------------ nothing lost

def test_durable_redis_restart_loses_no_job(shoease_cli, stack, kill, worker_up):
    tag = uuid.uuid4().hex[:8]
    effect = tmp_effects(stack.state, "restart")
    dead_key = "restart-dead-" + tag
    enqueue(shoease_cli, "test.reject", dead_key)
    assert wait_until(lambda: dead_with_key(shoease_cli, dead_key), 15)
    stack.stop("worker")
    for i in range(5):
        enqueue(shoease_cli, "test.touch", "restart-%s-%d" % (tag, i), {"path": str(effect)})
    enqueue(shoease_cli, "test.touch", "restart-%s-later" % tag, {"path": str(effect)}, delay_ms=600000)
    before = queue(shoease_cli, "default")
    assert before["waiting"] >= 5 and before["delayed"] >= 1 and before["dead"] >= 1
    # a clean restart, then a crash (kill -9) after the 1 s fsync window
    stack.restart("qredis")
    assert queue(shoease_cli, "default") == before
    time.sleep(1.5)
    kill(stack.refresh()["services"]["qredis"]["pid"], signal.SIGKILL)
    time.sleep(0.5)
    stack.start("qredis")
    after = queue(shoease_cli, "default")
    for k in ("waiting", "delayed", "dead", "enqueued"):
        assert after[k] == before[k], (k, before, after)
    assert dead_with_key(shoease_cli, dead_key)
    stack.start("worker")
    assert wait_until(lambda: len(lines(effect)) == 5, 30), lines(effect)


def test_smtp_outage_mail_goes_out_when_it_returns_once(shoease_cli, stack, mailbox, worker_up):
    addr = "outage-%s@example.com" % uuid.uuid4().hex[:8]
    stack.stop("smtp")
    try:
        r = shoease_cli("mail", "test", addr, "--no-wait")
        assert r.returncode == 0
        key = r.stdout.split("key ")[1].split(")")[0]
        assert wait_until(lambda: any(l["outcome"] == "retry" for l in runs_of(stack, key)), 20)
        retry = [l for l in runs_of(stack, key) if l["outcome"] == "retry"][0]
        assert "connect" in retry["error"].lower() or "refused" in retry["error"].lower(), retry
    finally:
        stack.start("smtp")
    msg = mailbox.wait_for(lambda m: m["To"] == addr, timeout=60)
    time.sleep(3)
    assert len(mailbox.messages(lambda m: m["To"] == addr)) == 1
    assert msg["Message-ID"]
    assert runs_of(stack, key)[-1]["outcome"] == "done"


def test_crash_between_commit_and_enqueue_relay_delivers(shoease_cli, mailbox, worker_up):
    addr = "crash-%s@example.com" % uuid.uuid4().hex[:8]
    r = shoease_cli("mail", "test", addr, "--no-wait", env={"TEST_CRASH_AFTER_COMMIT": "1"})
    assert r.returncode == 86, "the test hook should end the process right after COMMIT (%d): %s" % (r.returncode, r.stderr)
    assert "queued" not in r.stdout
    msg = mailbox.wait_for(lambda m: m["To"] == addr, timeout=30)
    assert msg is not None
    time.sleep(2)
    assert len(mailbox.messages(lambda m: m["To"] == addr)) == 1
    out = jobs_json(shoease_cli)["outbox"]
    assert out["unsent"] == 0


def test_lost_enqueue_is_sent_again_by_the_relay(shoease_cli, stack, mailbox, worker_up):
    """Redis lost its last second: the job the outbox sent is gone. The
    relay sends unfinished rows again after OUTBOX_RESEND_SECONDS (5 s)."""
    addr = "lost-%s@example.com" % uuid.uuid4().hex[:8]
    stack.stop("worker")
    try:
        r = shoease_cli("mail", "test", addr, "--no-wait")
        assert r.returncode == 0
        key = r.stdout.split("key ")[1].split(")")[0]
        assert queue(shoease_cli, "mail")["waiting"] >= 1
        # lose it: the stream entry and its unique-key lock
        stack.qredis("DEL", "q:mail:s", "q:uniq:" + key)
        assert queue(shoease_cli, "mail")["waiting"] == 0
    finally:
        stack.start("worker")
    mailbox.wait_for(lambda m: m["To"] == addr, timeout=40)
    time.sleep(2)
    assert len(mailbox.messages(lambda m: m["To"] == addr)) == 1


# ------------------------------------------------------------------ the scheduler

def test_exactly_one_scheduler_and_a_missed_tick_runs_once(stack, shoease_cli, worker_up, kill):
    holder = stack.qredis("GET", "sched:lease")
    assert holder, "no process holds the scheduler lease"
    pid = int(holder.split(":")[1])
    assert pid in worker_children(stack)
    # pretend the hourly outbox.prune last ran 5 hours ago (downtime)
    seen = len(worker_lines(stack))
    now_ms = int(time.time() * 1000)
    tick = now_ms - now_ms % 3600000
    stack.qredis("SET", "sched:last:outbox.prune", str(tick - 5 * 3600000))
    # (an hour may begin meanwhile: then that is the current tick)
    assert wait_until(lambda: stack.qredis("GET", "sched:last:outbox.prune") in (str(tick), str(tick + 3600000)), 10)
    tick = int(stack.qredis("GET", "sched:last:outbox.prune"))
    time.sleep(2)
    # the current tick ran (again: its key is already done, so it was a
    # no-op), and none of the four missed ones
    new = worker_lines(stack)[seen:]
    assert any(l["key"] == "outbox.prune:%d" % tick for l in new if l.get("type") == "outbox.prune"), new
    stale = [l for l in new if l.get("type") == "outbox.prune" and int(l["key"].split(":")[1]) < tick]
    assert not stale, stale
    # the scheduler dies: another process takes the lease over
    kill(pid, signal.SIGKILL)
    assert wait_until(lambda: (stack.qredis("GET", "sched:lease") or "x:0").split(":")[1] not in ("0", str(pid)), 15)


# ------------------------------------------------------------------ operations

def test_jobs_command_lists_queues(shoease_cli):
    r = shoease_cli("jobs")
    assert r.returncode == 0
    for q in ("default", "mail", "sms"):
        assert q in r.stdout
    assert "outbox:" in r.stdout
    assert shoease_cli("jobs", "nonsense").returncode == 2


def test_worker_drops_privileges(state, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test must run as root (CI does): it checks that job processes become RUN_AS_USER")
    import subprocess
    env = dict(os.environ)
    env.update(state["env"])
    env.update({"RUN_AS_USER": "nobody", "JOB_PROCESSES": "1", "JOB_CONCURRENCY": "default=0,mail=0,sms=0,bench=0"})
    p = subprocess.Popen([state["app"], "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: children_of(p.pid), 10)
        kid = children_of(p.pid)[0]
        import pwd
        nobody = pwd.getpwnam("nobody").pw_uid
        assert wait_until(lambda: "\t%d\t" % nobody in Path("/proc/%d/status" % kid).read_text(), 5)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)


def test_metrics_on_the_loopback_listener_only(direct, direct_url, session, https_url, shoease_cli):
    session.get(https_url + "/", timeout=10)
    r = direct.get(direct_url + "/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    for needle in ('shoease_http_requests_total{route="GET /"', "shoease_http_request_duration_seconds_bucket",
                   'shoease_page_cache_total{result="hit"}', 'shoease_queue_jobs{queue="mail",state="waiting"}',
                   "shoease_event_backlog", "shoease_durable_redis_up 1"):
        assert needle in text, needle
    # through nginx, or with any proxy header, it is the ordinary 404
    r404 = session.get(https_url + "/metrics", timeout=10)
    other = session.get(https_url + "/no-such-page-%s" % uuid.uuid4().hex, timeout=10)
    assert r404.status_code == 404 and other.status_code == 404
    assert r404.headers["Content-Type"] == other.headers["Content-Type"]
    assert direct.get(direct_url + "/metrics", headers={"X-Forwarded-For": "10.1.2.3"}, timeout=10).status_code == 404
