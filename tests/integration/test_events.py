"""The MongoDB event store: request activity, recently viewed, search
history and suggestions, preferences, analytics — collected without
slowing a page, kept in the durable Redis while MongoDB is away, and never
mixing one visitor's data into another's page.

Counts come from `shoease events --json` (no mongosh needed)."""
import json
import time
import uuid

import pytest

from conftest import new_session, wait_until


def events(cli):
    r = cli("events", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def collection(cli, name):
    return events(cli)["collections"][name]


def product_slugs(session, https_url, n=3):
    r = session.get(https_url + "/api/v1/products", timeout=15)
    assert r.status_code == 200
    return [p["slug"] for p in r.json()["products"][:n]]


def visitor(tls_cert):
    s = new_session(tls_cert)
    s.headers["User-Agent"] = "shoease-tests"
    return s


def view(s, https_url, slug):
    """What a browser does on a product page: the (shared) page, then its
    personal fragment, which records the view for this visitor."""
    assert s.get(https_url + "/products/" + slug, timeout=15).status_code == 200
    r = s.get(https_url + "/fragments/recently-viewed?viewing=" + slug, timeout=15)
    assert r.status_code == 200
    return r


def backlog(stack):
    return int(stack.qredis("GET", "ev:backlog") or 0)


def test_requests_become_activity_documents(catalog_seeded, session, https_url, shoease_cli, stack):
    before = collection(shoease_cli, "activity_logs")
    for _ in range(5):
        assert session.get(https_url + "/shoes", timeout=15).status_code == 200
    assert wait_until(lambda: collection(shoease_cli, "activity_logs") >= before + 5, 20)
    assert wait_until(lambda: backlog(stack) == 0, 20)


def test_recently_viewed_and_suggestions_for_one_visitor(catalog_seeded, tls_cert, https_url, shoease_cli):
    a = visitor(tls_cert)
    slugs = product_slugs(a, https_url)
    first = view(a, https_url, slugs[0])
    assert "private" in first.headers["Cache-Control"] and "no-store" in first.headers["Cache-Control"]
    cookie = first.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-vid=") and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    view(a, https_url, slugs[1])
    term = "trail %s" % uuid.uuid4().hex[:6]
    assert a.get(https_url + "/search", params={"q": term.upper()}, timeout=15).status_code == 200

    def recent():
        return a.get(https_url + "/fragments/recently-viewed", timeout=15).text
    assert wait_until(lambda: slugs[0] in recent() and slugs[1] in recent(), 20), recent()
    html = recent()
    assert html.index(slugs[1]) < html.index(slugs[0]), "newest first"
    assert "Recently viewed" in html
    # the page being viewed is left out of its own list
    assert slugs[1] not in a.get(https_url + "/fragments/recently-viewed?viewing=" + slugs[1], timeout=15).text

    def suggestions(q):
        r = a.get(https_url + "/api/v1/search/suggest", params={"q": q}, timeout=15)
        assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
        return r.json()["suggestions"]
    assert wait_until(lambda: {"text": term, "source": "history"} in suggestions("trail "), 20), suggestions("trail ")
    vid = a.cookies.get("__Host-vid")
    r = shoease_cli("events", "visitor", "v:" + vid)
    assert r.returncode == 0 and slugs[0] in r.stdout and term in r.stdout


def test_one_visitors_data_never_appears_for_another(catalog_seeded, tls_cert, https_url):
    a, b = visitor(tls_cert), visitor(tls_cert)
    slugs = product_slugs(a, https_url, 4)
    term = "secret-%s" % uuid.uuid4().hex[:8]
    view(a, https_url, slugs[2])
    a.get(https_url + "/search", params={"q": term}, timeout=15)
    view(b, https_url, slugs[3])
    assert wait_until(lambda: slugs[2] in a.get(https_url + "/fragments/recently-viewed", timeout=15).text, 20)
    assert wait_until(lambda: slugs[3] in b.get(https_url + "/fragments/recently-viewed", timeout=15).text, 20)
    b_recent = b.get(https_url + "/fragments/recently-viewed", timeout=15).text
    assert slugs[2] not in b_recent
    b_sugg = b.get(https_url + "/api/v1/search/suggest", params={"q": "secret"}, timeout=15).json()
    assert all(s["source"] != "history" for s in b_sugg["suggestions"])
    # the shared pages are the same bytes for both, and hold nobody's id
    pa = a.get(https_url + "/products/" + slugs[2], timeout=15)
    pb = b.get(https_url + "/products/" + slugs[2], timeout=15)
    assert pa.text == pb.text and pa.headers.get("ETag") == pb.headers.get("ETag")
    assert "Set-Cookie" not in pa.headers and a.cookies.get("__Host-vid") not in pa.text
    assert "public" in pa.headers["Cache-Control"]


def test_bad_fragment_and_suggest_input(session, https_url):
    r = session.get(https_url + "/fragments/recently-viewed?viewing=../../etc", timeout=15)
    assert r.status_code == 400
    r = session.get(https_url + "/api/v1/search/suggest", params={"q": "x" * 200}, timeout=15)
    assert r.status_code == 400 and "80 characters" in r.json()["error"]["message"]


def test_analytics_and_preferences(catalog_seeded, tls_cert, https_url, shoease_cli):
    a = visitor(tls_cert)
    slug = product_slugs(a, https_url, 1)[0]
    view(a, https_url, slug)
    a.get(https_url + "/category/men", params={"size": "uk-9"}, timeout=15)
    vid = a.cookies.get("__Host-vid")

    def prefs():
        return shoease_cli("events", "visitor", "v:" + vid).stdout
    assert wait_until(lambda: "uk-9" in prefs() and '"men"' in prefs(), 20), prefs()
    assert collection(shoease_cli, "analytics") > 0


def test_mongodb_down_pages_still_answer_and_events_arrive_later(catalog_seeded, session, https_url, shoease_cli, stack):
    before = collection(shoease_cli, "activity_logs")
    stack.stop("mongodb")
    try:
        statuses = []
        for path in ("/", "/shoes", "/category/men", "/search?q=boot", "/fragments/recently-viewed"):
            for _ in range(4):
                statuses.append(session.get(https_url + path, timeout=15).status_code)
        assert set(statuses) == {200}, statuses
        r = session.get(https_url + "/api/v1/search/suggest?q=bo", timeout=15)
        assert r.status_code == 200
        assert wait_until(lambda: backlog(stack) >= 20, 10), backlog(stack)
        assert session.get(https_url + "/readyz", timeout=15).status_code == 503
    finally:
        stack.start("mongodb")
    assert wait_until(lambda: backlog(stack) == 0, 60), "the backlog was not written after MongoDB returned"
    assert collection(shoease_cli, "activity_logs") >= before + 20


def test_backlog_is_bounded_and_drops_are_counted(stack, shoease_cli, direct, direct_url):
    """With MongoDB away and EVENT_BACKLOG_MAX=1000, 1,500 requests leave at
    most 1,000 events waiting; the rest are dropped (oldest first) and
    counted, with a log line."""
    env = stack.state["paths"]["env_file"]
    text = open(env).read()
    dropped0 = int(stack.qredis("GET", "ev:dropped") or 0)
    stack.stop("mongodb")
    try:
        with open(env, "a") as f:
            f.write("EVENT_BACKLOG_MAX=1000\n")
        stack.restart("app")
        for i in range(1500):
            assert direct.get(direct_url + "/api/v1/categories", timeout=15).status_code == 200
        assert wait_until(lambda: int(stack.qredis("GET", "ev:dropped") or 0) >= dropped0 + 400, 15)
        assert backlog(stack) <= 1000
        log = stack.log_path("app").read_text(errors="replace")
        assert "EVENT_BACKLOG_MAX" in log
        r = direct.get(direct_url + "/metrics", timeout=10)
        assert 'shoease_events_dropped_total{where="redis"}' in r.text
    finally:
        with open(env, "w") as f:
            f.write(text)
        stack.start("mongodb")
        stack.restart("app")
    assert wait_until(lambda: backlog(stack) == 0, 60)


def test_old_activity_logs_are_pruned(stack, shoease_cli):
    """ACTIVITY_TTL_DAYS (30): FerretDB has no TTL indexes, so the hourly
    events.prune job deletes what is older (Atlas also gets a TTL index)."""
    rid = "old-%s" % uuid.uuid4().hex
    line = json.dumps({"time": "2020-01-01T00:00:00.000Z", "request_id": rid, "method": "GET", "path": "/",
                       "status": 200, "bytes": 1, "duration_ms": 1.0, "client": "127.0.0.1", "pid": 1})
    # counted before it is pushed, as the app's push script does at once: the
    # other way round, the writer may take it before it is counted, and the
    # count would stay one too high
    stack.qredis("INCRBY", "ev:backlog", "1")
    stack.qredis("RPUSH", "ev:q", "%s 1\n%s" % (uuid.uuid4().hex[:16], line))
    assert wait_until(lambda: backlog(stack) == 0, 20)
    # counted as past its time (the count of all logs moves with every
    # request other tests make meanwhile; this one does not)
    assert wait_until(lambda: events(shoease_cli)["activity_expired"] >= 1, 20)
    r = shoease_cli("jobs", "enqueue", "events.prune", "prune-test-" + uuid.uuid4().hex)
    assert r.returncode == 0
    assert wait_until(lambda: events(shoease_cli)["activity_expired"] == 0, 20)
