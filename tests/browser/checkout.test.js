#!/usr/bin/env node
/* checkout.test.js — a guest buying on a phone, in a real browser.
 *
 * Cash on delivery: category → product → a size (one in stock) → "Add to
 * bag" (site.js posts it with the CSRF token; the header's bag count
 * follows) → the bag (quantity changed with its select, which submits by
 * itself) → checkout (address, standard delivery, cash on delivery) → place
 * the order → the order page thanks the shopper and shows the number → the
 * confirmation mail (read from the stack's SMTP sink) carries the order's
 * link, which opens the order without the browser's session.
 *
 * Card: add to bag → checkout paying by card → the card page
 * (/checkout/pay/<number>) shows the order, the amount and — as Stripe.js
 * cannot load here (the test blocks js.stripe.com: no internet in the test
 * environment, and a test never calls out) — the "could not be loaded"
 * message; no card is typed → cancel the order from its page → "Cancelled".
 *
 * Each flow runs in a fresh browser (new visitor, empty bag). Run it through
 * `tools/stack.py exec --profile test` (tests/run-all.sh does): it needs
 * SHOEASE_STACK_STATE for the mail directory. Prints one line "N passed, M
 * failed"; exits 1 on any failure. */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const { request } = require("playwright-core");
const {
  BASE_URL, SHOTS, log, assert, step, newFlow, shot, assertNoSidewaysScroll, goto, clickAndLoad, watch, newPhone,
  headerAccount, assertHeaderFits, fillAddress, choose, finish,
} = require("./harness");
const { Mailbox } = require("./mailbox");

const STRIPE_JS = /^https:\/\/js\.stripe\.com\//;

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  log(`checkout browser tests against ${BASE_URL} (screenshots: ${SHOTS})`);
  const mailbox = Mailbox.fromStack();
  await cashOnDelivery(mailbox);
  await card();
}

/* ---------------------------------------------------------------- helpers */

/* The header's bag count once site.js has filled in the personal header
 * (shared pages) — it is in the HTML on personal pages. */
async function bagCount(page) {
  await page.locator(".site-header__account [data-bag-count]").first().waitFor({ state: "attached" });
  const text = (await headerAccount(page)).bag;
  assert(/^\d+$/.test(text), `the header's bag count is "${text}"`);
  return Number(text);
}

/* From a category page, open products until one has a size in stock (not
 * marked sold out or low: a second pair must be there too) and choose it by
 * tapping its button. Returns what was chosen. */
async function chooseSizeInStock(page) {
  const listing = page.url();
  const cards = page.locator("#results .card .card__link");
  const n = Math.min(await cards.count(), 8);
  assert(n > 0, "the category lists no products");
  for (let i = 0; i < n; i++) {
    if (i > 0) await goto(page, listing);
    const card = page.locator("#results .card .card__link").nth(i);
    const name = (await card.innerText()).trim();
    await clickAndLoad(page, card, /\/products\//);
    const colours = page.locator('input[name="colour"]');
    const nc = Math.max(await colours.count(), 1);
    for (let c = 0; c < nc; c++) {
      if (await colours.count() > 0) await colours.nth(c).check();
      const group = page.locator("fieldset.sizes:visible").first();
      if (await group.count() === 0) continue;
      const label = group.locator("label.size:not(.size--sold-out):not(.size--low)").first();
      if (await label.count() === 0) continue;
      const radio = label.locator('input[name="variant_id"]');
      assert(!(await radio.isDisabled()), "a size in stock has a disabled button");
      await label.click();
      assert(await radio.isChecked(), "tapping the size did not choose it");
      return {
        name, url: page.url(), variant: await radio.getAttribute("value"),
        size: await radio.getAttribute("data-size-label"),
      };
    }
    log(`     (${name}: no size with stock to spare, trying the next shoe)`);
  }
  throw new Error(`none of the first ${n} products of ${listing} has a size in stock`);
}

async function openFirstCategory(page) {
  await goto(page, BASE_URL + "/");
  const link = page.locator('.category-nav a[href^="/category/"]').first();
  await clickAndLoad(page, link, /\/category\//);
  assert(await page.locator("#results .card").count() > 0, "the category has no products");
}

/* "Add to bag": site.js posts the form with the visitor's token and goes to
 * the bag. */
async function addToBag(page) {
  await clickAndLoad(page, page.locator('#buy button[type="submit"]'), /\/cart$/);
  assert((await page.locator("h1").innerText()).trim() === "Your bag", "\"Add to bag\" did not lead to the bag");
}

function guest() {
  const tag = crypto.randomBytes(6).toString("hex");
  return { email: `guest-${tag}@example.com`, name: "Sherlock Holmes" };
}

/* ---------------------------------------------------------------- cash on delivery */
async function cashOnDelivery(mailbox) {
  newFlow();
  const context = await newPhone();
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  watch(page, problems);
  const who = guest();
  const state = {};

  await step("cash on delivery: product page, a size in stock chosen", async () => {
    await openFirstCategory(page);
    state.item = await chooseSizeInStock(page);
    const said = await page.locator("[data-size-choice]").innerText();
    assert(said.includes(state.item.size), `the page does not say which size is chosen (says "${said}")`);
    const button = page.locator('#buy button[type="submit"]');
    assert(await button.isEnabled() && /Add to bag/.test(await button.innerText()), "no usable \"Add to bag\" button");
    state.before = await bagCount(page);
    assert(state.before === 0, `a new visitor's bag count is ${state.before}`);
    await assertHeaderFits(page);
    await assertNoSidewaysScroll(page);
    log(`     (${state.item.name}, ${state.item.size})`);
    await shot(page, "checkout-01-product-size-chosen");
  });

  await step("add to bag: the bag lists it, the header's count goes up", async () => {
    await addToBag(page);
    const lines = page.locator(".bag-line");
    assert(await lines.count() === 1, `${await lines.count()} lines in the bag, expected 1`);
    const text = await lines.first().innerText();
    assert(text.includes(state.item.name) && text.includes(state.item.size),
      `the bag line does not show ${state.item.name} in ${state.item.size}: ${text.replace(/\s+/g, " ")}`);
    assert(await bagCount(page) === state.before + 1, `the header's bag count is ${await bagCount(page)}, expected 1`);
    assert(/Added to your bag/.test(await page.locator(".flash").first().innerText()), "no \"Added to your bag\" message");
    // a new visitor's bag has nothing "from your last visit"
    assert(await page.locator(".notice", { hasText: "last visit" }).count() === 0,
      "a new visitor's bag says items from the last visit are back");
    await assertNoSidewaysScroll(page);
  });

  await step("bag: choosing a quantity applies at once", async () => {
    const select = page.locator(".bag-line__qty select");
    const total = async () => (await page.locator(".totals__total dd").innerText()).trim();
    state.totalOne = await total();
    // site.js submits the form as soon as the select changes (its Update button is hidden)
    assert(!(await page.locator(".bag-line__qty button").isVisible()), "the Update button shows although JavaScript runs");
    await Promise.all([page.waitForEvent("framenavigated", (f) => f === page.mainFrame()), select.selectOption("2")]);
    await page.waitForURL(/\/cart$/, { waitUntil: "load" });
    assert(await page.locator(".bag-line__qty select").inputValue() === "2", "the quantity is not 2 after choosing it");
    assert(/Your bag is updated/.test(await page.locator(".flash").first().innerText()), "no \"bag is updated\" message");
    assert(await bagCount(page) === 2, `the header's bag count is ${await bagCount(page)}, expected 2`);
    assert(await total() !== state.totalOne, `the total stayed ${state.totalOne} after doubling the quantity`);
    await assertNoSidewaysScroll(page);
    await shot(page, "checkout-02-bag");
  });

  await step("checkout: address, standard delivery, cash on delivery", async () => {
    await clickAndLoad(page, page.locator('a.button[href="/checkout"]'), /\/checkout$/);
    assert((await page.locator("h1").innerText()).trim() === "Checkout", "not the checkout page");
    await fillAddress(page, who);
    await choose(page, "shipping_method", "standard");
    await choose(page, "payment_method", "cod");
    const review = await page.locator(".review-lines").innerText();
    assert(review.includes(`2 × ${state.item.name}`), `the review does not list 2 × ${state.item.name}: ${review}`);
    state.total = (await page.locator(".bag__summary .totals__total dd").innerText()).trim();
    await assertNoSidewaysScroll(page);
    await shot(page, "checkout-03-checkout");
  });

  await step("place the order: the confirmation thanks and shows the number", async () => {
    await clickAndLoad(page, page.locator('form.checkout button[type="submit"]'), /\/orders\/[A-Z0-9]+/);
    const url = new URL(page.url());
    state.number = url.pathname.split("/")[2];
    const h1 = (await page.locator("h1").innerText()).trim();
    assert(h1 === `Order ${state.number}`, `the order page's heading is "${h1}"`);
    const flash = await page.locator(".flash").first().innerText();
    assert(/Thank you/.test(flash), `the order page does not thank the shopper ("${flash}")`);
    const status = (await page.locator(".order-status").innerText()).trim();
    assert(/pay on delivery/i.test(status), `the order's status is "${status}", not confirmed for cash on delivery`);
    const total = (await page.locator(".bag__summary .totals__total dd").innerText()).trim();
    assert(total === state.total, `the order's total ${total} is not the ${state.total} reviewed at checkout`);
    assert(await bagCount(page) === 0, "the header's bag count did not go back to 0");
    // the order's lines (no image) use the card's whole width, not an image column's
    const [line, body] = await Promise.all([page.locator(".bag-line").first().boundingBox(),
      page.locator(".bag-line .bag-line__body").first().boundingBox()]);
    assert(body.width >= line.width / 2, `the order line's text is squeezed into ${Math.round(body.width)}px`);
    await assertNoSidewaysScroll(page);
    log(`     (order ${state.number}, ${total})`);
    await shot(page, "checkout-04-confirmation");
  });

  await step("the confirmation mail arrives with the order's link", async () => {
    const msg = await mailbox.waitFor((m) => m.to === who.email && m.subject.includes(state.number),
      { what: `the confirmation mail for order ${state.number}` });
    assert(/Thank you for your order/.test(msg.text), "the mail does not thank the buyer");
    assert(msg.text.includes(state.total), `the mail does not show the total ${state.total}`);
    const m = new RegExp(`https?://[^/\\s]+(/orders/${state.number}\\?t=[A-Za-z0-9_-]+)`).exec(msg.text);
    assert(m, `no link to /orders/${state.number}?t=... in ${msg.name}`);
    // the link works without the browser's session (as from another device)
    const client = await request.newContext({ ignoreHTTPSErrors: true });
    try {
      const r = await client.get(BASE_URL + m[1], { maxRedirects: 0 });
      assert(r.status() === 200, `the mail's link answered ${r.status()}`);
      assert((await r.text()).includes(`Order ${state.number}`), "the mail's link does not open the order");
    } finally {
      await client.dispose();
    }
  });

  await step("cash on delivery: no console errors, CSP violations or broken assets", async () => {
    assert(problems.length === 0, problems.slice(0, 5).join(" | "));
  }, { flow: false });
  await context.close();
}

/* ---------------------------------------------------------------- card */
async function card() {
  newFlow();
  const context = await newPhone();
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  watch(page, problems, [STRIPE_JS, /js\.stripe\.com/]);
  // Stripe.js never loads here: no internet in the test environment, and a
  // test must not call out anyway. Refuse it the way an offline phone does.
  await context.route(STRIPE_JS, (route) => route.abort("internetdisconnected"));
  const who = guest();
  const state = {};

  await step("card: add a size in stock to the bag", async () => {
    await openFirstCategory(page);
    state.item = await chooseSizeInStock(page);
    await addToBag(page);
    assert(await bagCount(page) === 1, `the header's bag count is ${await bagCount(page)}, expected 1`);
  });

  await step("card: checkout paying by card", async () => {
    await clickAndLoad(page, page.locator('a.button[href="/checkout"]'), /\/checkout$/);
    await fillAddress(page, who);
    await choose(page, "shipping_method", "standard");
    await choose(page, "payment_method", "card");
    state.total = (await page.locator(".bag__summary .totals__total dd").innerText()).trim();
    const [resp] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname.startsWith("/checkout/pay/")),
      clickAndLoad(page, page.locator('form.checkout button[type="submit"]'), /\/checkout\/pay\/[A-Z0-9]+/),
    ]);
    state.csp = (await resp.allHeaders())["content-security-policy"] || "";
    const url = new URL(page.url());
    state.number = url.pathname.split("/")[3];
    state.query = url.search;
  });

  await step("card page: the order, the amount, and why the card form is missing", async () => {
    assert(/script-src[^;]*https:\/\/js\.stripe\.com/.test(state.csp),
      `the card page's CSP does not allow js.stripe.com scripts: ${state.csp}`);
    const h1 = (await page.locator("h1").innerText()).trim();
    assert(h1 === `Pay ${state.total}`, `the card page's heading is "${h1}", expected "Pay ${state.total}"`);
    assert((await page.locator(".auth-card__lead").innerText()).includes(`Order ${state.number}`),
      "the card page does not name the order");
    const pay = page.locator('#card-form button[type="submit"]');
    assert((await pay.innerText()).trim() === `Pay ${state.total}`, `the button says "${await pay.innerText()}"`);
    const error = page.locator("#card-error");
    await error.waitFor({ state: "visible" });
    const said = await error.innerText();
    assert(/could not be loaded/.test(said), `the card page does not say the card form could not load ("${said}")`);
    assert(await page.locator('form[action^="/orders/"] button', { hasText: "Cancel this order" }).count() === 1,
      "the card page offers no way to cancel");
    await assertHeaderFits(page);
    await assertNoSidewaysScroll(page);
    await shot(page, "checkout-05-card-page");
  });

  await step("card: cancel the unpaid order from its page", async () => {
    await goto(page, `${BASE_URL}/orders/${state.number}${state.query}`);
    assert((await page.locator(".order-status").innerText()).trim().length > 0, "the order page shows no status");
    assert(await page.locator(`a.button[href^="/checkout/pay/${state.number}"]`).count() === 1,
      "the unpaid order offers no \"Pay by card now\"");
    await clickAndLoad(page, page.locator(`form[action="/orders/${state.number}/cancel"] button`),
      new RegExp(`/orders/${state.number}`));
    const status = page.locator(".order-status");
    assert(/cancelled/i.test(await status.innerText()), `the status is "${await status.innerText()}", not cancelled`);
    assert(/order-status--cancelled/.test(await status.getAttribute("class")), "the status is not styled as cancelled");
    assert(await page.locator(`form[action="/orders/${state.number}/cancel"]`).count() === 0,
      "a cancelled order still offers to cancel");
    assert(await page.locator(`a[href^="/checkout/pay/"]`).count() === 0, "a cancelled order still offers to pay");
    await assertNoSidewaysScroll(page);
    await shot(page, "checkout-06-cancelled");
  });

  await step("card: no console errors, CSP violations or broken assets (Stripe.js aside)", async () => {
    assert(problems.length === 0, problems.slice(0, 5).join(" | "));
  }, { flow: false });
  await context.close();
}

finish(main());
