"""The admin dashboard (the portal's front page), over HTTPS through nginx
against the real MariaDB and MongoDB (FerretDB): shoppers look at a shoe,
add it to the bag, check out and order, and the dashboard's figures move by
exactly what they did — revenue, orders, average order value, the best
seller and its sizes, the funnel once the event writer has stored the
events, a size set low with `shoease product set-stock`, a size asked for
and sold out — and the page still answers with MongoDB stopped, saying the
analytics are unavailable.

Figures are read from the page's data-figure / data-value attributes (minor
units for money). Each test compares with what the page said before it
acted, so earlier tests on the same stack do not matter."""
import html
import re
import time

import pytest

from conftest import wait_until
from shoppers import Shopper, Staff, add_to_bag, order_number, place_order, unique_email

FIGURE_RX = re.compile(r'data-figure="([a-z0-9_-]+)" data-value="(-?\d+)"')
ROW_RX = re.compile(r'<tr data-rank="(\d+)" data-(slug|size)="([^"]*)" data-units="(\d+)">')
DEMAND_RX = re.compile(r'<tr data-size="([^"]+)" data-asks="(\d+)" data-sold-out="(\d+)">')
MAX_LINE = 10   # MAX_LINE_QUANTITY of the test stack


class Dashboard:
    def __init__(self, staff, suffix="/"):
        r = staff.admin_get(suffix)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        assert "private, no-store" in r.headers["Cache-Control"]
        self.text = r.text
        self.fig = {k: int(v) for k, v in FIGURE_RX.findall(r.text)}
        self.top = {"slug": [], "size": []}
        for rank, kind, key, units in ROW_RX.findall(r.text):
            self.top[kind].append((int(rank), html.unescape(key), int(units)))
        self.demand = {k: (int(a), int(s)) for k, a, s in DEMAND_RX.findall(r.text)}
        self.today = re.search(r'data-today="([0-9-]+)"', r.text).group(1)
        self.analytics = 'data-figure="analytics-unavailable"' not in r.text

    def __getitem__(self, name):
        return self.fig.get(name, 0)

    def units(self, kind, key):
        return next((u for _, k, u in self.top[kind] if k == key), 0)

    def section(self, element_id):
        """The HTML of <div id=element_id> … up to the next section's div."""
        start = self.text.index('id="%s"' % element_id)
        end = self.text.find("</table>", start)
        return self.text[start:end if end > 0 else None]


@pytest.fixture(scope="module")
def staff(catalog_seeded, https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff")


def pick_product(stack):
    """A shoe nobody has bought, from the middle of the catalogue (the
    catalogue tests look at its start, the order tests take from its end),
    with sizes enough for the purchases below: its variants grouped by size."""
    rows = stack.mariadb_rows(
        "SELECT p.id, p.slug FROM products p WHERE p.active = 1 AND NOT EXISTS "
        "(SELECT 1 FROM order_lines ol WHERE ol.product_id = p.id) AND "
        "(SELECT COUNT(DISTINCT v.size_key) FROM variants v WHERE v.product_id = p.id) >= 5 ORDER BY p.id")
    assert rows, "no unsold shoe with five sizes left in the demo catalogue"
    pid, slug = rows[len(rows) // 2]
    variants = stack.mariadb_rows("SELECT id, sku, size_key, size_label FROM variants WHERE product_id = %s "
                                  "ORDER BY size_value, id" % pid)
    sizes = {}
    for vid, sku, key, label in variants:
        sizes.setdefault(key, []).append(dict(id=int(vid), sku=sku, key=key, label=label))
    return int(pid), slug, list(sizes.values())


def set_stock(cli, sku, n):
    r = cli("product", "set-stock", sku, str(n))
    assert r.returncode == 0, r.stdout + r.stderr


def order_total(stack, number):
    return int(stack.mariadb("SELECT total FROM orders WHERE number = '%s'" % number))


def buy(shopper, lines):
    """Fill the bag with [(variant, pairs)] and place a cash-on-delivery
    order; returns its number."""
    for v, qty in lines:
        r = add_to_bag(shopper, v["id"], qty)
        assert r.status_code == 303 and r.headers["Location"] == "/cart", (r.status_code, r.text[:300])
    r = place_order(shopper, payment="cod", email=unique_email("dashboard"))
    assert r.status_code == 303, (r.status_code, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.text))[-600:])
    return order_number(r.headers["Location"])


def test_dashboard_numbers_follow_what_shoppers_do(staff, stack, shoease_cli, https_url, tls_cert):
    pid, slug, sizes = pick_product(stack)
    main, second, low, gone = sizes[0], sizes[1], sizes[2], sizes[3]
    before = Dashboard(staff)
    assert before["month-orders"] >= before["today-orders"] >= 0
    # the page says what it measures, in UTC, and draws its charts without script
    assert "UTC" in before.text and "<script" not in before.text
    assert '<svg class="chart"' in before.text and "<title id=\"revenue-title\">" in before.text

    # to be the best seller of the 30 days: one pair more than the current one
    leader = before.top["slug"][0][2] if before.top["slug"] else 0
    want = leader + 1
    capacity = MAX_LINE * sum(len(s) for s in (main, second))
    assert want <= capacity, "the current best seller (%d pairs) is out of reach of one shoe's sizes" % leader
    for v in main + second:
        set_stock(shoease_cli, v["sku"], MAX_LINE + 5)
    lines, left = [], want - 1          # one pair is the second shopper's
    for v in main + second:
        if left <= 0:
            break
        q = min(MAX_LINE, left)
        lines.append((v, q))
        left -= q
    if not lines:                       # nothing sold yet anywhere: two pairs, one each
        lines = [(main[0], 1)]
        want = 2
    bought_main = sum(q for v, q in lines if v["key"] == main[0]["key"])

    # shoppers: views, adds, checkouts, orders
    a = Shopper(https_url, tls_cert)
    for _ in range(3):
        assert a.get("/products/" + slug).status_code == 200
    first = buy(a, lines)
    b = Shopper(https_url, tls_cert)
    assert b.get("/products/" + slug).status_code == 200
    second_order = buy(b, [(main[0], 1)])
    # a third order, cancelled: it counts nothing (but is counted as lost)
    c = Shopper(https_url, tls_cert)
    cancelled = buy(c, [(second[0], 1)])
    r = shoease_cli("orders", "cancel", cancelled, "test: changed their mind")
    assert r.returncode == 0, r.stdout + r.stderr
    # shipping an order keeps it a sale
    r = shoease_cli("orders", "ship", first, "test")
    assert r.returncode == 0, r.stdout + r.stderr
    # a size set low by the store owner; another size sold out in every colour and width
    set_stock(shoease_cli, low[0]["sku"], 2)
    for v in gone:
        set_stock(shoease_cli, v["sku"], 0)
    # shoppers asking for that size in the listings
    asker = Shopper(https_url, tls_cert)
    for _ in range(4):
        assert asker.get("/shoes?size=" + gone[0]["key"]).status_code == 200

    revenue = order_total(stack, first) + order_total(stack, second_order)
    after = Dashboard(staff)
    assert after["month-orders"] == before["month-orders"] + 2
    assert after["month-revenue"] == before["month-revenue"] + revenue
    assert after["month-average"] == (after["month-revenue"] * 2 + after["month-orders"]) // (2 * after["month-orders"])
    assert after.today == time.strftime("%Y-%m-%d", time.gmtime()) or after.today != before.today
    if after.today == before.today:
        # (unless the UTC day turned meanwhile) today's figures moved the same way
        assert after["today-orders"] == before["today-orders"] + 2
        assert after["today-revenue"] == before["today-revenue"] + revenue
    # the best seller: our shoe, with every pair of the two orders
    assert after.top["slug"][0][1] == slug, after.top["slug"]
    assert after.top["slug"][0][2] == want
    # its size sold most: the pairs of that size from both orders
    assert after.units("size", main[0]["label"]) == before.units("size", main[0]["label"]) + bought_main + 1
    # today's top list is there too
    today = Dashboard(staff, "/?top=today")
    assert today.top["slug"] and today.top["slug"][0][1] == slug
    # low stock: the size set to 2, with its SKU; the sold-out size too
    assert low[0]["sku"] in after.section("low-stock")
    assert gone[0]["sku"] in after.section("sold-out")
    assert after["low-total"] >= 1 and after["sold-out-total"] >= len(gone)

    if not before.analytics:
        pytest.fail("MongoDB was unavailable before the test acted: the funnel cannot be checked")
    # the funnel, once the event writer has stored the events: 4 views, 2+ adds, 3+3 checkouts shown, 3 orders
    adds = len(lines) + 2
    want_funnel = {"product_view": 4, "add_to_cart": adds, "checkout": 3, "order": 3}

    def funnel_moved():
        d = Dashboard(staff)
        return d if all(d["funnel-30-" + k] >= before["funnel-30-" + k] + n for k, n in want_funnel.items()) else None

    moved = wait_until(funnel_moved, 30, 0.5)
    assert moved, "the funnel did not move by %r within 30 s: %r" % (
        want_funnel, {k: v for k, v in Dashboard(staff).fig.items() if k.startswith("funnel")})
    if moved.today == before.today:
        assert all(moved["funnel-today-" + k] >= before["funnel-today-" + k] + n for k, n in want_funnel.items())

    # the size asked for and sold out: listed with how often it was asked for
    def asked():
        d = Dashboard(staff)
        return d.demand.get(gone[0]["key"]) if d.demand.get(gone[0]["key"], (0, 0))[0] >= 4 else None

    row = wait_until(asked, 30, 0.5)
    assert row, "size %s not under 'sizes asked for that are out of stock'" % gone[0]["key"]
    assert row[1] >= 1


def test_dashboard_renders_without_mongodb(staff, stack):
    stack.stop("mongodb")
    try:
        d = Dashboard(staff)
        assert not d.analytics and "Analytics unavailable" in d.text
        # everything from MariaDB is still there
        assert "month-revenue" in d.fig and "low-total" in d.fig
        assert 'data-figure="funnel-30-' not in d.text
    finally:
        stack.start("mongodb")
    # back: the funnel returns (after the reads' 5 s pause)
    assert wait_until(lambda: "funnel-30-order" in Dashboard(staff).fig, 30, 0.5), "analytics did not come back"


def test_dashboard_is_staff_only(https_url, tls_cert, stack):
    anonymous = Shopper(https_url, tls_cert)
    r = anonymous.get(stack.env_file_values()["ADMIN_PATH"] + "/?top=today", allow_redirects=False)
    assert r.status_code == 404
