#!/usr/bin/env node
/* admin.test.js — the admin portal on a desktop screen (1366×900), in a real
 * browser, as a store owner uses it on a working day:
 *
 *   a superuser made with `shoease createadmin` (the stack's own binary and
 *   environment) → signs in on the shop → the portal asks for two-step
 *   sign-in first → turns on an authenticator app (TOTP computed here from
 *   the key the page shows) → signs in again with password and code → the
 *   portal's dashboard → adds a product → gives it a size run → uploads an
 *   image (tests/browser/fixtures/shoe.jpg) → sees it in the shop → a
 *   shopper, in another browser, buys it (cash on delivery) → the order in
 *   the portal, moved to shipped → the dashboard counts the sale.
 *
 * Screenshots of every step go to SCREENSHOT_DIR (admin-NN-*.png). A screen
 * that is not in the portal (its route answers the ordinary 404) fails its
 * step saying which screen is missing. Run it through `tools/stack.py exec
 * --profile test` (tests/run-all.sh does): it needs SHOEASE_STACK_STATE for
 * the app binary and its environment. Prints one line "N passed, M failed";
 * exits 1 on any failure. The steps depend on each other: when one fails,
 * the rest are reported as failed (never skipped). */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");
const {
  BASE_URL, SHOTS, log, assert, step, newFlow, shot, goto, clickAndLoad, watch, newDesktop, fillAddress, choose,
  assertNoSidewaysScroll, stackState, finish,
} = require("./harness");
const { freshCode } = require("./totp");

const PASSWORD = "the owner's long passphrase";
const NAME = "Ada Owner";
const FIXTURE = path.join(__dirname, "fixtures", "shoe.jpg");

/* `shoease ARGS...` with the stack's environment, as its operator runs it. */
function shoease(args, input = "") {
  const st = stackState();
  const r = spawnSync(st.app, args, { env: { ...process.env, ...st.env }, cwd: st.repo, input, encoding: "utf8",
    timeout: 60000 });
  if (r.error) throw new Error(`shoease ${args[0]}: ${r.error.message}`);
  return r;
}

/* The figures the dashboard shows in data-figure/data-value (money in minor units). */
async function figures(page) {
  const out = {};
  for (const el of await page.locator("[data-figure][data-value]").all())
    out[await el.getAttribute("data-figure")] = Number(await el.getAttribute("data-value"));
  return out;
}

/* Open a screen of the portal; its route answering 404 means the screen
 * has not been built (or not routed) yet: say which. */
async function screen(page, url, what) {
  const res = await page.goto(url, { waitUntil: "load" });
  assert(res, `no response for ${url}`);
  assert(res.status() !== 404, `the portal has no ${what} yet: ${new URL(url).pathname} is the ordinary 404`);
  assert(res.status() === 200, `${what} (${new URL(url).pathname}) answered ${res.status()}`);
  return res;
}

/* Submit a form by its submit button and wait for the page it leads to;
 * a 4xx answer (the form again with messages) fails with the messages. */
async function submit(page, button, urlPattern, what) {
  const [res] = await Promise.all([
    page.waitForEvent("response", (r) => r.request().isNavigationRequest() && r.request().method() === "POST"),
    button.click(),
  ]);
  await page.waitForLoadState("load");
  if (res.status() >= 400) {
    const errors = await page.locator(".field__error, .form-error").allInnerTexts();
    throw new Error(`${what}: the portal answered ${res.status()}: ${errors.join(" | ").replace(/\s+/g, " ") || "(no message)"}`);
  }
  await page.waitForURL(urlPattern, { waitUntil: "load" });
}

async function h1(page) { return (await page.locator("h1").first().innerText()).trim(); }

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  log(`admin browser tests against ${BASE_URL} (screenshots: ${SHOTS})`);
  await ownerFlow();
}

async function ownerFlow() {
  newFlow();
  const tag = crypto.randomBytes(4).toString("hex");
  const state = { email: `owner-${tag}@example.com`, product: `Trailblazer ${tag.toUpperCase()}` };
  const context = await newDesktop();
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  const expected = [];          // the portal's 403 before two-step sign-in, once known
  watch(page, problems, expected);
  let shopper = null;

  await step("a superuser made with `shoease createadmin`", async () => {
    const r = shoease(["createadmin", state.email, "--name", NAME, "--role", "superuser"], PASSWORD + "\n");
    assert(r.status === 0, `createadmin exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    const url = shoease(["admin-url"]);
    assert(url.status === 0, `admin-url exited ${url.status}: ${url.stderr.trim()}`);
    state.admin = new URL(url.stdout.trim()).pathname.replace(/\/+$/, "");
    assert(/^\/[A-Za-z0-9_-]+$/.test(state.admin), `admin-url printed "${url.stdout.trim()}"`);
    expected.push(new RegExp(`^${(BASE_URL + state.admin).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/$`));
  });

  await step("signs in on the shop; the portal asks for two-step sign-in first", async () => {
    await goto(page, BASE_URL + "/account/login");
    await page.locator('input[name="email"]').fill(state.email);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await clickAndLoad(page, page.locator('form[action="/account/login"] button[type="submit"]'), /\/account$/);
    const res = await page.goto(BASE_URL + state.admin + "/", { waitUntil: "load" });
    assert(res.status() === 403, `the portal answered ${res.status()} to staff without two-step sign-in`);
    assert(/two-step sign-in/i.test(await page.locator("main, body").first().innerText()),
      "the portal's refusal does not say two-step sign-in is needed");
    await shot(page, "admin-01-two-step-required");
  });

  await step("turns on an authenticator app", async () => {
    await goto(page, BASE_URL + "/account/security/totp");
    state.secret = (await page.locator("#totp-secret").innerText()).trim();
    assert(/^[A-Z2-7 ]+$/.test(state.secret), `the key shown ("${state.secret}") is not a base32 key`);
    const { code, counter } = await freshCode(state.secret);
    state.enrolledAt = counter;
    await page.locator('input[name="code"]').fill(code);
    await clickAndLoad(page, page.locator('form[action="/account/security/totp"] button[type="submit"]'),
      /\/account\/security\/totp$/);
    assert(await h1(page) === "Two-step sign-in is on", `turning the app on answered "${await h1(page)}"`);
    await shot(page, "admin-02-authenticator-on");
  });

  await step("signs in again with password and code; the portal opens on the dashboard", async () => {
    await page.locator('form[action="/account/logout"] button').first().click();
    await page.waitForURL((u) => u.pathname === "/", { waitUntil: "load" });
    await goto(page, BASE_URL + "/account/login");
    await page.locator('input[name="email"]').fill(state.email);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await clickAndLoad(page, page.locator('form[action="/account/login"] button[type="submit"]'),
      /\/account\/login\/verify/);
    const { code } = await freshCode(state.secret, state.enrolledAt);
    await page.locator('input[name="code"]').fill(code);
    await clickAndLoad(page, page.locator('form[action="/account/login/verify"] button[type="submit"]'), /\/account/);
    await screen(page, BASE_URL + state.admin + "/", "dashboard");
    assert(await h1(page) === "Dashboard", `the portal's front page is "${await h1(page)}"`);
    assert((await page.locator(".admin-header__who").innerText()).includes(NAME), "the header does not name the owner");
    state.before = await figures(page);
    assert("month-revenue" in state.before && "month-orders" in state.before, "the dashboard shows no sales figures");
    assert(await page.locator("svg.chart title", { hasText: "Revenue per day" }).count() === 1,
      "no revenue chart on the dashboard");
    await assertNoSidewaysScroll(page);
    await shot(page, "admin-03-dashboard");
  });

  await step("adds a product", async () => {
    await screen(page, BASE_URL + state.admin + "/products", "products screen (admin_products)");
    await shot(page, "admin-04-products");
    await screen(page, BASE_URL + state.admin + "/products/new", "new-product form (admin_products)");
    await page.locator('[name="name"]').fill(state.product);
    const slug = page.locator('input[name="slug"]');
    if (await slug.count()) await slug.fill(`trailblazer-${tag}`);
    for (const name of ["brand_id", "category_id"]) {
      const sel = page.locator(`select[name="${name}"]`);
      assert(await sel.count() === 1, `the product form has no ${name} choice`);
      const values = (await sel.locator("option").evaluateAll((os) => os.map((o) => o.value))).filter((v) => v);
      assert(values.length > 0, `the product form offers no ${name}`);
      await sel.selectOption(values[0]);
    }
    const gender = page.locator('select[name="gender"]');
    if (await gender.count()) await gender.selectOption("unisex");
    await page.locator('[name="price"]').fill("84.50");
    await page.locator('[name="description"]').fill("A light trail shoe with a grippy sole, added by the browser test.");
    const active = page.locator('input[name="active"]');
    if (await active.count() && !(await active.isChecked())) await active.check();
    await shot(page, "admin-05-product-form");
    await submit(page, page.locator('form.admin-form button[type="submit"]').first(), /\/products\/\d+/,
      "saving the new product");
    state.productId = /\/products\/(\d+)/.exec(new URL(page.url()).pathname)[1];
    state.slug = await slug.count() ? `trailblazer-${tag}` : null;
    await shot(page, "admin-06-product-saved");
  });

  await step("adds a size run (UK 7 to 10) with stock", async () => {
    const base = BASE_URL + state.admin + `/products/${state.productId}/variants`;
    await screen(page, base + "/new-run", "size-run form (admin_products)");
    const colour = page.locator('select[name="colour_id"]');
    const values = (await colour.locator("option").evaluateAll((os) => os.map((o) => o.value))).filter((v) => v);
    assert(values.length > 0, "the size-run form offers no colour");
    await colour.selectOption(values[0]);
    const system = page.locator('select[name="system"]');
    if (await system.count()) await system.selectOption("UK");
    await page.locator('[name="from"]').fill("7");
    await page.locator('[name="to"]').fill("10");
    const stepField = page.locator('[name="step"]');
    if (await stepField.count()) {
      if ((await stepField.evaluate((e) => e.tagName)) === "SELECT") await stepField.selectOption("1");
      else await stepField.fill("1");
    }
    await page.locator('[name="stock"]').fill("6");
    const standard = page.locator('input[name="widths"][value="Standard"]');
    if (await standard.count() && !(await standard.isChecked())) await standard.check();
    await shot(page, "admin-07-size-run");
    await submit(page, page.locator('form.admin-form button[type="submit"]').first(), /\/variants/, "adding the size run");
    const text = await page.locator("main").innerText();
    for (const size of ["UK 7", "UK 8", "UK 9", "UK 10"])
      assert(text.includes(size), `the sizes screen does not list ${size} after the size run`);
    await shot(page, "admin-08-sizes-and-stock");
  });

  await step("uploads an image", async () => {
    await screen(page, BASE_URL + state.admin + `/products/${state.productId}/images`, "images screen (admin images)");
    const before = await page.locator("main img").count();
    await page.locator('input[type="file"][name="image"]').setInputFiles(FIXTURE);
    const alt = page.locator('input[name="alt"]').last();
    if (await alt.count()) await alt.fill(`${state.product}, side view`);
    await shot(page, "admin-09-image-chosen");
    await submit(page, page.locator('form[enctype="multipart/form-data"] button[type="submit"]'), /\/images/,
      "uploading the image");
    const imgs = page.locator("main img");
    assert(await imgs.count() === before + 1, `${await imgs.count()} images listed after the upload, expected ${before + 1}`);
    const src = await imgs.last().getAttribute("src");
    assert(/^\/media\//.test(src || ""), `the uploaded image is served from "${src}", not /media/`);
    assert(!/\.jpe?g$/i.test(src), `the image is served as uploaded (${src}), not re-encoded`);
    state.imageSrc = src;
    await shot(page, "admin-10-image-uploaded");
  });

  await step("sees it in the shop", async () => {
    if (!state.slug) {
      const link = page.locator('a[href^="/products/"][target="_blank"]').first();
      assert(await link.count(), "the portal links to no shop page of the product");
      state.slug = (await link.getAttribute("href")).split("/")[2];
    }
    shopper = await newDesktop();
    const shop = shopper.pages()[0] || await shopper.newPage();
    watch(shop, problems);
    state.shop = shop;
    await goto(shop, BASE_URL + `/products/${state.slug}`);
    assert(await h1(shop) === state.product, `the shop's product page says "${await h1(shop)}"`);
    // the uploaded image, by the description given to it, as libvips wrote it (WebP), loaded
    const img = shop.locator(`img[alt="${state.product}, side view"]`).first();
    assert(await img.count(), "the product page does not show the uploaded image");
    const src = await img.getAttribute("src");
    assert(/^\/media\/.+\.webp$/.test(src || ""), `the shop shows the image from "${src}", not a re-encoded WebP`);
    assert(await img.evaluate((i) => i.complete && i.naturalWidth > 0), "the product image does not load");
    const sizes = shop.locator("fieldset.sizes:visible label.size:not(.size--sold-out)");
    assert(await sizes.count() >= 4, `${await sizes.count()} sizes in stock on the product page, expected 4`);
    await shot(shop, "admin-11-in-the-shop");
  });

  await step("a shopper in another browser buys it (cash on delivery)", async () => {
    const shop = state.shop;
    const label = shop.locator("fieldset.sizes:visible label.size:not(.size--sold-out)").nth(1);
    await label.click();
    await clickAndLoad(shop, shop.locator('#buy button[type="submit"]'), /\/cart$/);
    await clickAndLoad(shop, shop.locator('a.button[href="/checkout"]'), /\/checkout$/);
    await fillAddress(shop, { email: `buyer-${tag}@example.com`, name: "Mary Anning" });
    await choose(shop, "shipping_method", "standard");
    await choose(shop, "payment_method", "cod");
    await clickAndLoad(shop, shop.locator('form.checkout button[type="submit"]'), /\/orders\/[A-Z0-9]+/);
    state.number = new URL(shop.url()).pathname.split("/")[2];
    state.total = (await shop.locator(".bag__summary .totals__total dd").innerText()).trim();
    log(`     (order ${state.number}, ${state.total})`);
    await shot(shop, "admin-12-shopper-order");
  });

  await step("the order in the portal, moved to shipped", async () => {
    await screen(page, BASE_URL + state.admin + `/orders?q=${state.number}`, "orders screen (admin_orders)");
    const link = page.locator(`a[href$="/orders/${state.number}"]`).first();
    assert(await link.count(), `the orders list does not find ${state.number}`);
    await shot(page, "admin-13-orders");
    await clickAndLoad(page, link, new RegExp(`/orders/${state.number}$`));
    assert((await page.locator("main").innerText()).includes(state.product), "the order page does not list the product");
    const move = page.locator('form[action$="/move"]');
    assert(await move.count() === 1, "the order page has no form to move the order");
    await move.locator('select[name="to"]').selectOption("shipped");
    const tracking = move.locator('input[name="tracking"]');
    if (await tracking.count()) await tracking.fill("RN123456789GB");
    await shot(page, "admin-14-order-move");
    await submit(page, move.locator('button[type="submit"]'), new RegExp(`/orders/${state.number}`), "moving the order");
    const title = (await page.locator("h1").first().innerText()).replace(/\s+/g, " ").trim();
    assert(title === `Order ${state.number} Shipped`, `after the move the order page's heading says "${title}"`);
    await shot(page, "admin-15-order-shipped");
  });

  await step("the dashboard counts the sale", async () => {
    await screen(page, BASE_URL + state.admin + "/", "dashboard");
    const after = await figures(page);
    assert(after["month-orders"] === state.before["month-orders"] + 1,
      `the dashboard counts ${after["month-orders"]} orders, expected ${state.before["month-orders"] + 1}`);
    assert(after["month-revenue"] > state.before["month-revenue"], "the dashboard's revenue did not grow");
    const top = await page.locator('[data-figure="top-products"]').innerText();
    assert(top.includes(state.product), `the best sellers do not list ${state.product}: ${top.replace(/\s+/g, " ")}`);
    await assertNoSidewaysScroll(page);
    await shot(page, "admin-16-dashboard-after");
  });

  await step("no console errors, CSP violations or broken assets on the way", async () => {
    assert(problems.length === 0, problems.slice(0, 5).join(" | "));
  }, { flow: false });
  if (shopper) await shopper.close();
  await context.close();
}

finish(main());
