#!/usr/bin/python3
"""smtpd.py — the local stack's mail catcher.

An aiosmtpd server that accepts every message and stores it as
MAILDIR/<timestamp>-<n>.eml (written to a temporary name, then renamed, so a
reader never sees half a message). One log line per message on stdout.

    tools/smtpd.py --port 12525 --maildir var/dev/mail

Tests read the .eml files (e.g. to follow a password-reset link). Nothing is
ever relayed anywhere.
"""
import argparse
import asyncio
import itertools
import os
import signal
import sys
import time

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "%06d" % (time.time_ns() // 1000 % 1000000)
        name = "%s-%d.eml" % (stamp, n)
        tmp = os.path.join(self.maildir, ".%s.tmp" % name)
        final = os.path.join(self.maildir, name)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        header = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ", ".join(envelope.rcpt_tos))
        with open(tmp, "wb") as f:
            f.write(header.encode("utf-8", "replace"))
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, final)
        subject = ""
        for line in content.split(b"\n"):
            if not line.strip():
                break
            if line.lower().startswith(b"subject:"):
                subject = line[8:].strip().decode("utf-8", "replace")
        print("%s mail %s from=%s to=%s bytes=%d subject=%r" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), name,
            envelope.mail_from, ",".join(envelope.rcpt_tos), len(content), subject),
            flush=True)
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--maildir", required=True)
    args = ap.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    # Leftover temp files from a crash are incomplete messages.
    for f in os.listdir(args.maildir):
        if f.startswith(".") and f.endswith(".tmp"):
            os.unlink(os.path.join(args.maildir, f))

    handler = MaildirHandler(args.maildir)
    controller = Controller(handler, hostname=args.host, port=args.port,
                            server_hostname="localhost", ready_timeout=10,
                            data_size_limit=10 * 1024 * 1024,
                            decode_data=False)
    controller.start()
    print("smtpd listening on %s:%d, mail to %s" % (args.host, args.port, args.maildir), flush=True)

    stop = []
    def on_signal(signum, frame):
        stop.append(signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not stop:
            signal.pause() if hasattr(signal, "pause") else time.sleep(1)
    finally:
        controller.stop()
        print("smtpd stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
