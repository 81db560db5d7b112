"""paced.py — HTTP helpers shared by the integration tests.

nginx rate-limits each client (20 r/s, burst 40) exactly as in production,
so tests that make many requests through it pace themselves and retry a 429
a bounded number of times instead of switching the limit off.
"""
import time

MIN_INTERVAL = 0.05        # nginx: 20 r/s per client
MAX_429_RETRIES = 40
_last_request = [0.0]


def _paced(send, status_of):
    r = None
    for _ in range(MAX_429_RETRIES):
        wait = _last_request[0] + MIN_INTERVAL - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _last_request[0] = time.monotonic()
        r = send()
        if status_of(r) != 429:
            return r
        time.sleep(0.5)
    return r


def call(session, method, url, **kw):
    """One request, paced under nginx's rate limit; a 429 is retried
    (bounded). Never follows redirects."""
    kw.setdefault("timeout", 30)
    kw.setdefault("allow_redirects", False)
    return _paced(lambda: session.request(method, url, **kw), lambda r: r.status_code)


def get(session, url, **kw):
    return call(session, "GET", url, **kw)


def raw_get(raw, base, target):
    """GET `target` sent verbatim (requests would re-quote a malformed
    escape), paced like call()."""
    return _paced(lambda: raw(base, target), lambda r: r.status)


def describe(r, limit=600):
    return "%s %s -> %s %s: %s" % (r.request.method, r.request.url, r.status_code,
                                   r.headers.get("Content-Type"), r.text[:limit])


def opaque(etag):
    """The opaque part of an ETag: nginx's gzip turns "x" into W/"x".
    None (no ETag) stays None, so callers can compare two answers."""
    return etag[2:] if etag and etag.startswith("W/") else etag
