#!/usr/bin/python3
"""smsgw.py — the local stack's SMS gateway recorder (what smtpd.py is for mail).

It plays a Twilio-style SMS API for the tests and never sends anything:

    POST /2010-04-01/Accounts/<sid>/Messages.json
        application/x-www-form-urlencoded: To, From, Body
        HTTP basic auth: <sid>:<token>
        idempotency key: I-Twilio-Idempotency-Token or Idempotency-Key header

    201 {"sid": "SM<32 hex>", "status": "queued", "to", "from", "body", ...}
        and one JSON line {time, to, from, body, idempotency_key, sid} in
        DIR/messages.jsonl
    200 the same sid again when the idempotency key was already accepted
        (nothing appended: a real gateway dedupes)
    400 {"code": 21604, ...} To or Body missing (or not a form body)
    401 wrong or missing credentials; 404 another account or path

Every request, whatever its answer, is one JSON line in DIR/requests.jsonl
({time, method, path, status, to, idempotency_key, key_count, sid, ...}), so
a test can tell how often the app called. `GET /__stats` answers the
request counts (total and per idempotency key) as JSON.

Failure injection (files the tests write):
    DIR/fail-next   an integer N: the next N message requests answer 503
                    (the number is decremented; the file goes at 0)
    DIR/slow        seconds: every request sleeps that long first

    tools/smsgw.py --port 12580 --dir var/dev/sms --sid ACshoeasetest --token SECRET

One log line per request on stdout. Standard library only.
"""
import argparse
import base64
import binascii
import hmac
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024
PATH_RX = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def append_line(path, obj):
    """One whole line per write on an O_APPEND descriptor: concurrent
    writers never interleave, a reader never sees two lines mixed."""
    data = (json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        n = os.write(fd, data)
        if n != len(data):
            raise OSError("short write to %s (%d of %d bytes)" % (path, n, len(data)))
    finally:
        os.close(fd)


class Recorder:
    def __init__(self, directory, sid, token):
        self.dir = directory
        self.sid = sid
        self.token = token
        self.lock = threading.Lock()
        self.accepted = {}      # idempotency key -> message sid
        self.key_counts = {}    # idempotency key -> requests seen
        self.total = 0
        self.messages_path = os.path.join(directory, "messages.jsonl")
        self.requests_path = os.path.join(directory, "requests.jsonl")
        self.fail_path = os.path.join(directory, "fail-next")
        self.slow_path = os.path.join(directory, "slow")
        self._load()

    def _load(self):
        """Keys accepted before a restart stay deduplicated."""
        try:
            with open(self.messages_path, encoding="utf-8") as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    try:
                        m = json.loads(line)
                    except ValueError:
                        continue
                    if m.get("idempotency_key") and m.get("sid"):
                        self.accepted.setdefault(m["idempotency_key"], m["sid"])
        except FileNotFoundError:
            pass

    def slow_seconds(self):
        try:
            with open(self.slow_path) as f:
                return max(0.0, min(float(f.read().strip() or 0), 600.0))
        except (OSError, ValueError):
            return 0.0

    def take_failure(self):
        """True if this request is to fail (fail-next > 0); decrements it."""
        with self.lock:
            try:
                with open(self.fail_path) as f:
                    n = int(f.read().strip() or 0)
            except FileNotFoundError:
                return False
            except (OSError, ValueError):
                n = 0
            if n <= 0:
                with_suppress_unlink(self.fail_path)
                return False
            n -= 1
            if n == 0:
                with_suppress_unlink(self.fail_path)
            else:
                tmp = self.fail_path + ".tmp%d" % threading.get_ident()
                with open(tmp, "w") as f:
                    f.write("%d\n" % n)
                os.replace(tmp, self.fail_path)
            return True

    def count(self, key):
        with self.lock:
            self.total += 1
            if key is None:
                return None
            self.key_counts[key] = self.key_counts.get(key, 0) + 1
            return self.key_counts[key]

    def accept(self, key, to, from_, body):
        """(status, sid, duplicate): 201 with a new sid, or 200 with the sid
        the key was first accepted with."""
        with self.lock:
            if key is not None and key in self.accepted:
                return 200, self.accepted[key], True
            sid = "SM" + secrets.token_hex(16)
            append_line(self.messages_path, {"time": now_iso(), "to": to, "from": from_, "body": body,
                                             "idempotency_key": key, "sid": sid})
            if key is not None:
                self.accepted[key] = sid
            return 201, sid, False

    def stats(self):
        with self.lock:
            return {"requests": self.total, "by_key": dict(self.key_counts),
                    "accepted": len(self.accepted)}


def with_suppress_unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Handler(BaseHTTPRequestHandler):
    server_version = "smsgw/1"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    @property
    def rec(self):
        return self.server.recorder

    def log_message(self, fmt, *args):   # the default logs to stderr; we log ourselves
        pass

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            pass   # the client gave up (e.g. its timeout under `slow`)

    def error(self, status, code, message, extra=None):
        self.send_json(status, {"code": code, "message": message, "status": status,
                                "more_info": "https://www.twilio.com/docs/errors/%d" % code}, extra)

    def record(self, status, info):
        entry = {"time": now_iso(), "method": self.command, "path": self.path, "status": status}
        entry.update(info)
        try:
            append_line(self.rec.requests_path, entry)
        except OSError as e:
            print("smsgw: cannot write %s: %s" % (self.rec.requests_path, e), file=sys.stderr, flush=True)
        print("%s %s %s %d to=%s key=%s count=%s sid=%s%s" % (
            entry["time"], self.command, self.path, status, info.get("to"), info.get("idempotency_key"),
            info.get("key_count"), info.get("sid"),
            (" body=%r" % info["body"][:80]) if info.get("body") is not None else
            (" error=%s" % info["error"]) if info.get("error") else ""), flush=True)

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            return None
        return self.rfile.read(n) if n else b""

    def authorized(self):
        h = self.headers.get("Authorization") or ""
        if not h.lower().startswith("basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:].strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        return hmac.compare_digest(user.encode(), self.rec.sid.encode()) and \
            hmac.compare_digest(pw.encode(), self.rec.token.encode())

    def do_GET(self):
        slow = self.rec.slow_seconds()
        if slow:
            time.sleep(slow)
        if self.path.split("?")[0] == "/__stats":
            self.rec.count(None)
            self.record(200, {})
            self.send_json(200, self.rec.stats())
            return
        self.rec.count(None)
        self.record(404 if not PATH_RX.match(self.path.split("?")[0]) else 405, {"error": "no such resource"})
        if PATH_RX.match(self.path.split("?")[0]):
            self.error(405, 20004, "Method not allowed", {"Allow": "POST"})
        else:
            self.error(404, 20404, "The requested resource %s was not found" % self.path)

    do_HEAD = do_GET

    def do_PUT(self):
        self.do_other()

    def do_DELETE(self):
        self.do_other()

    def do_PATCH(self):
        self.do_other()

    def do_other(self):
        self.read_body()
        self.rec.count(None)
        self.record(405, {"error": "method"})
        self.error(405, 20004, "Method not allowed", {"Allow": "POST"})

    def do_POST(self):
        slow = self.rec.slow_seconds()
        if slow:
            time.sleep(slow)
        key = self.headers.get("I-Twilio-Idempotency-Token") or self.headers.get("Idempotency-Key") or None
        key_count = self.rec.count(key)
        info = {"idempotency_key": key, "key_count": key_count}
        raw = self.read_body()
        m = PATH_RX.match(self.path.split("?")[0])
        if raw is None:
            self.close_connection = True
            self.record(413, dict(info, error="body too large or bad Content-Length"))
            self.error(413, 20001, "Request body too large or bad Content-Length")
            return
        if not m:
            self.record(404, dict(info, error="no such resource"))
            self.error(404, 20404, "The requested resource %s was not found" % self.path)
            return
        form = {}
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = {k: v[-1] for k, v in urllib.parse.parse_qs(
                    raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False).items()}
            except UnicodeDecodeError:
                form = {}
        to, from_, body = form.get("To"), form.get("From"), form.get("Body")
        info.update(to=to, **{"from": from_})
        if self.rec.take_failure():
            self.record(503, dict(info, error="injected failure (fail-next)"))
            self.error(503, 20503, "Service unavailable (injected by fail-next)", {"Retry-After": "1"})
            return
        if not self.authorized():
            self.record(401, dict(info, error="authentication"))
            self.error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="smsgw"'})
            return
        if m.group(1) != self.rec.sid:
            self.record(404, dict(info, error="another account"))
            self.error(404, 20404, "The requested resource %s was not found" % self.path)
            return
        if ctype != "application/x-www-form-urlencoded":
            self.record(400, dict(info, error="Content-Type %r" % ctype))
            self.error(400, 21604, "Send the parameters as application/x-www-form-urlencoded")
            return
        if not to:
            self.record(400, dict(info, error="To missing"))
            self.error(400, 21604, "A 'To' phone number is required.")
            return
        if not body:
            self.record(400, dict(info, error="Body missing"))
            self.error(400, 21604, "A message Body is required.")
            return
        status, sid, dup = self.rec.accept(key, to, from_, body)
        self.record(status, dict(info, sid=sid, body=body, duplicate=dup))
        self.send_json(status, {
            "sid": sid, "status": "queued", "to": to, "from": from_, "body": body,
            "account_sid": self.rec.sid, "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "num_segments": "1", "direction": "outbound-api",
            "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (self.rec.sid, sid),
        })


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True, help="where messages.jsonl, requests.jsonl, fail-next, slow live")
    ap.add_argument("--sid", required=True, help="the account sid (basic auth user, in the URL)")
    ap.add_argument("--token", required=True, help="the auth token (basic auth password)")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    server = Server((args.host, args.port), Handler)
    server.recorder = Recorder(args.dir, args.sid, args.token)

    stopping = []

    def on_signal(signum, frame):
        if stopping:
            return
        stopping.append(signum)
        # shutdown() waits for serve_forever() to return: not from this
        # (the serving) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print("smsgw listening on %s:%d, account %s, messages to %s" % (
        args.host, args.port, args.sid, server.recorder.messages_path), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        print("smsgw stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
