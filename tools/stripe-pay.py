#!/usr/bin/env python3
"""stripe-pay.py — play Stripe's side of a card payment on a local stack.

The local stack's Stripe is stripe-mock: it answers the API but keeps no
state and sends no webhooks, and Stripe.js (the card form) cannot reach
Stripe from a machine without internet. So, to see a card order become paid
on `make run`, place it with "Card", then:

    tools/stripe-pay.py SE7K3M9QXD2F              # payment_intent.succeeded, signed like Stripe signs it
    tools/stripe-pay.py SE7K3M9QXD2F --failed     # payment_intent.payment_failed
    tools/stripe-pay.py SE7K3M9QXD2F --profile test

It reads the stack's state (var/<profile>/stack.json: ports, the env file
with STRIPE_WEBHOOK_SECRET, the MariaDB socket), looks up the order's
PaymentIntent (made when the card page was first opened) and posts the
signed event to https://localhost:<HTTPS_PORT>/webhooks/stripe through nginx.
Development only: it needs the stack's own secret.
"""
import argparse
import hashlib
import hmac
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def env_file_values(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("number", help="the order number (SE…)")
    ap.add_argument("--profile", default="dev", choices=("dev", "test"))
    ap.add_argument("--failed", action="store_true", help="send payment_intent.payment_failed instead")
    a = ap.parse_args()

    instance = os.environ.get("SHOEASE_STACK_INSTANCE")   # a private stack (tools/stack.py)
    state_path = REPO / "var" / (a.profile + ("-" + instance if instance else "")) / "stack.json"
    if not state_path.exists():
        sys.exit("stripe-pay: no %s stack is up (%s is missing): start it with `make run`" % (a.profile, state_path))
    state = json.loads(state_path.read_text())
    env = dict(env_file_values(state["paths"]["env_file"]))
    env.update(state.get("env", {}))
    secret = env.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        sys.exit("stripe-pay: the stack has no STRIPE_WEBHOOK_SECRET")
    if not all(c.isalnum() for c in a.number) or len(a.number) != 12:
        sys.exit("stripe-pay: %r is not an order number (12 letters and digits, SE…)" % a.number)

    sql = ("SELECT p.provider_ref, p.amount, o.currency, o.status FROM payments p JOIN orders o ON o.id = p.order_id "
           "WHERE o.number = '%s'" % a.number)
    r = subprocess.run(["mariadb", "--no-defaults", "--socket=%s" % state["paths"]["mariadb_socket"],
                        "--user=%s" % env["MARIADB_USER"], "--database=%s" % env["MARIADB_DATABASE"], "--batch",
                        "--skip-column-names", "-e", sql],
                       capture_output=True, text=True, env=dict(os.environ, MYSQL_PWD=env["MARIADB_PASSWORD"]))
    if r.returncode != 0:
        sys.exit("stripe-pay: MariaDB: %s" % r.stderr.strip())
    if not r.stdout.strip():
        sys.exit("stripe-pay: no order %s" % a.number)
    ref, amount, currency, status = r.stdout.strip().split("\t")
    if ref == "NULL":
        sys.exit("stripe-pay: order %s has no PaymentIntent yet: open its card page first (/checkout/pay/%s)"
                 % (a.number, a.number))
    if status != "pending_payment":
        print("note: order %s is %s; sending the event anyway" % (a.number, status))

    kind = "payment_intent.payment_failed" if a.failed else "payment_intent.succeeded"
    now = int(time.time())
    event = {
        "id": "evt_%s" % secrets.token_hex(12), "object": "event", "type": kind, "created": now, "livemode": False,
        "data": {"object": {
            "id": ref, "object": "payment_intent", "amount": int(amount), "currency": currency.lower(),
            "amount_received": 0 if a.failed else int(amount),
            "status": "requires_payment_method" if a.failed else "succeeded",
            "metadata": {"order": a.number}}},
    }
    body = json.dumps(event).encode()
    mac = hmac.new(secret.encode(), b"%d." % now + body, hashlib.sha256).hexdigest()
    url = "https://localhost:%d/webhooks/stripe" % state["ports"]["HTTPS_PORT"]
    ctx = ssl.create_default_context(cafile=state["paths"].get("tls_cert") or str(REPO / "var/tls/localhost.crt"))
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": "t=%d,v1=%s" % (now, mac)})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            print("%s for %s (%s): HTTP %d %s" % (kind, a.number, ref, resp.status, resp.read().decode()[:200]))
    except urllib.error.HTTPError as e:
        sys.exit("stripe-pay: the shop answered %d: %s" % (e.code, e.read().decode()[:300]))


if __name__ == "__main__":
    main()
