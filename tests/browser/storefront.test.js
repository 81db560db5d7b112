#!/usr/bin/env node
/* storefront.test.js — what a shopper on a phone does first, in a real
 * browser: home → category → filter by a size → product → pick a size.
 *
 * Drives Debian's Chromium (/usr/bin/chromium) with playwright-core (no
 * browser download). Settings from the environment:
 *   BASE_URL         the site, default https://localhost:28443 (the test stack)
 *   SCREENSHOT_DIR   where screenshots go, default <repo>/var/test/screenshots
 *   CHROMIUM         the browser, default /usr/bin/chromium
 * Prints one line "N passed, M failed" at the end; exits 1 on any failure.
 *
 * The steps of the flow depend on each other: when one fails, the rest of
 * the flow is reported as failed too (never silently skipped). */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const BASE_URL = (process.env.BASE_URL || "https://localhost:28443").replace(/\/+$/, "");
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve(__dirname, "..", "..", "var", "test", "screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PHONE = { width: 390, height: 844 };
const STEP_TIMEOUT = 15000;

const results = [];
let flowBroken = null;

function log(msg) { process.stdout.write(msg + "\n"); }

function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function step(name, fn, { flow = true } = {}) {
  if (flow && flowBroken) {
    results.push({ name, ok: false });
    log(`FAIL ${name}: not run, an earlier step failed (${flowBroken})`);
    return;
  }
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    log(`FAIL ${name}: ${e && e.message ? e.message.split("\n")[0] : e}`);
    if (flow) flowBroken = name;
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });
}

/* The page must fit the phone's width: no sideways scrolling. */
async function assertNoSidewaysScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert(scroll <= client + 1, `the page is wider than the phone (${scroll}px > ${client}px)`);
}

async function goto(page, url, expectStatus = 200) {
  const res = await page.goto(url, { waitUntil: "load" });
  assert(res, `no response for ${url}`);
  assert(res.status() === expectStatus, `${url} answered ${res.status()}, expected ${expectStatus}`);
  return res;
}

/* Pages problems the browser reports: CSP violations, script errors,
 * failed sub-resources (CSS, JS, images). */
function watch(page, problems) {
  page.on("console", (m) => {
    if (m.type() === "error") problems.push("console: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("script error: " + e.message));
  page.on("response", (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== "document") problems.push(`${r.status()} for ${r.url()}`);
  });
}

/* A phone-sized browser of its own, on a fresh profile (--user-data-dir,
 * which Playwright passes for a persistent context). Closing it removes
 * the profile. */
async function newPhone(opts = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "shoease-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    ignoreHTTPSErrors: true,
    locale: "en-GB",
    ...opts,
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  log(`storefront browser tests against ${BASE_URL} (screenshots: ${SHOTS})`);
  await flow();
  await withoutJavaScript();
  await errorPages();
}

/* ---------------------------------------------------------------- the flow */
async function flow() {
  const context = await newPhone();
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  watch(page, problems);
  const state = {};

  await step("home page shows the shop", async () => {
    await goto(page, BASE_URL + "/");
    assert(await page.locator("html[lang]").count() === 1, "<html> has no lang");
    assert(await page.locator('meta[name="viewport"]').count() === 1, "no viewport meta");
    await page.locator("h1").first().waitFor();
    assert(await page.locator('form[role="search"] input[name="q"]').count() >= 1, "no search box");
    assert(await page.locator(".card").count() > 0, "no product cards on the home page");
    const navLinks = page.locator('.category-nav a[href^="/category/"]');
    assert(await navLinks.count() > 0, "no category links in the header");
    await assertNoSidewaysScroll(page);
    await shot(page, "01-home");
  });

  await step("category page lists shoes", async () => {
    const link = page.locator('.category-nav a[href^="/category/"]').first();
    state.categoryName = (await link.innerText()).trim();
    await Promise.all([page.waitForURL(/\/category\//), link.click()]);
    const h1 = (await page.locator("h1").first().innerText()).trim();
    assert(h1 === state.categoryName, `category heading "${h1}", expected "${state.categoryName}"`);
    assert(await page.locator("#results .card").count() > 0, "the category has no products");
    const count = await page.locator(".results__count").innerText();
    assert(/\d+ shoes?/.test(count), `no result count (got "${count}")`);
    await assertNoSidewaysScroll(page);
    await shot(page, "02-category");
  });

  await step("filter by a size", async () => {
    await page.locator(".filters__toggle").click();
    const size = page.locator('.facet input[name="size"]').first();
    await size.waitFor({ state: "visible" });
    state.sizeValue = await size.getAttribute("value");
    state.sizeLabel = (await size.locator("xpath=..").innerText()).trim();
    // site.js submits the form as soon as a box is ticked
    await Promise.all([page.waitForURL((u) => u.searchParams.getAll("size").includes(state.sizeValue)), size.check()]);
    const chips = await page.locator(".active-filters .chip--remove").allInnerTexts();
    assert(chips.some((c) => c.includes(state.sizeLabel)), `no "${state.sizeLabel}" chip among ${JSON.stringify(chips)}`);
    assert(await page.locator(`.facet input[name="size"][value="${state.sizeValue}"]`).isChecked(),
      "the chosen size is not ticked after the reload");
    assert(await page.locator("#results .card").count() > 0, `no shoes in ${state.sizeLabel}, though the size was offered`);
    assert(await page.locator(".active-filters a", { hasText: "Clear filters" }).count() === 1, "no clear-filters link");
    await assertNoSidewaysScroll(page);
    log(`     (filtered by ${state.sizeLabel}: ${await page.locator(".results__count").innerText()})`);
    await shot(page, "03-category-filtered");
  });

  await step("product page shows the shoe", async () => {
    // a shoe in several colours if there is one, so that switching colour is tested too
    let card = page.locator("#results .card:has(.swatches li + li) .card__link").first();
    if (await card.count() === 0) card = page.locator("#results .card .card__link").first();
    state.productName = (await card.innerText()).trim();
    await Promise.all([page.waitForURL(/\/products\//), card.click()]);
    const h1 = (await page.locator("h1").innerText()).trim();
    assert(h1 === state.productName, `product heading "${h1}", expected "${state.productName}"`);
    assert(/\d/.test(await page.locator(".product__price .price__now").innerText()), "no price");
    assert(await page.locator(".gallery img").count() > 0, "no product image");
    const bag = page.locator('form[action="/cart/add"] button[type="submit"]');
    assert(await bag.isEnabled(), "the add-to-bag button is disabled");
    assert(/Add to bag/.test(await bag.innerText()), "the add-to-bag button is not labelled 'Add to bag'");
    await assertNoSidewaysScroll(page);
    await shot(page, "04-product");
  });

  await step("pick a size: the choice registers, sold-out sizes are disabled", async () => {
    const group = page.locator("fieldset.sizes:visible").first();
    await group.waitFor();
    // every size marked sold out is a disabled radio, and only those are
    const labels = group.locator("label.size");
    const n = await labels.count();
    assert(n > 0, "no sizes to choose from");
    let soldOut = 0;
    for (let i = 0; i < n; i++) {
      const label = labels.nth(i);
      const text = await label.innerText();
      const disabled = await label.locator('input[type="radio"]').isDisabled();
      const marked = /sold out/i.test(text);
      assert(disabled === marked, `size "${text.replace(/\s+/g, " ")}": disabled=${disabled} but sold-out label=${marked}`);
      if (marked) soldOut++;
    }
    // choose the filtered size if it is there, else the first one in stock
    let radio = group.locator(`input[type="radio"][data-size-label="${state.sizeLabel}"]:not([disabled])`);
    if (await radio.count() === 0) radio = group.locator('input[type="radio"]:not([disabled])').first();
    const label = await radio.getAttribute("data-size-label");
    await radio.check();
    assert(await radio.isChecked(), `size ${label} is not checked after choosing it`);
    assert(await page.locator('input[name="variant_id"]:checked').count() === 1, "more than one size is checked");
    const said = await page.locator("[data-size-choice]").innerText();
    assert(said.includes(label), `the page does not say which size is chosen (says "${said}")`);
    if (soldOut > 0) {
      // tapping a sold-out size must not choose it
      const gone = group.locator("label.size--sold-out").first();
      await gone.click({ force: true });
      assert(!(await gone.locator("input").isChecked()), "a sold-out size could be chosen");
      assert(await radio.isChecked(), "tapping a sold-out size dropped the chosen one");
    }
    log(`     (${n} sizes in this colour, ${soldOut} sold out; chose ${label})`);
    await shot(page, "05-product-size-chosen");
  });

  await step("sizes follow the colour", async () => {
    const colours = page.locator('input[name="colour"]');
    const count = await colours.count();
    if (count < 2) { log("     (one colour only: nothing to switch)"); return; }
    const second = colours.nth(1);
    const slug = await second.getAttribute("value");
    await second.check();
    const shown = page.locator("fieldset.sizes:visible");
    assert(await shown.count() === 1, `${await shown.count()} size groups shown after switching colour`);
    assert(await shown.getAttribute("data-colour") === slug, "the sizes shown are not the chosen colour's");
    assert(await page.locator('input[name="variant_id"]:checked').count() === 0,
      "a size chosen in the other colour is still selected");
  });

  await step("no console errors, CSP violations or broken assets on the way", async () => {
    assert(problems.length === 0, problems.slice(0, 5).join(" | "));
  }, { flow: false });
  await context.close();
}

/* ---------------------------------------------------------------- no JavaScript */
async function withoutJavaScript() {
  const context = await newPhone({ javaScriptEnabled: false });
  const page = context.pages()[0] || await context.newPage();
  await step("filters work without JavaScript (plain GET form)", async () => {
    await goto(page, BASE_URL + "/shoes");
    await page.locator(".filters__toggle").click();
    const size = page.locator('.facet input[name="size"]').first();
    const value = await size.getAttribute("value");
    await size.check();
    await Promise.all([page.waitForURL((u) => u.searchParams.getAll("size").includes(value)),
      page.locator(".filters__actions button[type=submit]").click()]);
    assert(await page.locator("#results .card").count() > 0, "no results after filtering");
    await shot(page, "06-no-js-filtered");
  }, { flow: false });
  await context.close();
}

/* ---------------------------------------------------------------- error pages */
async function errorPages() {
  const context = await newPhone();
  const page = context.pages()[0] || await context.newPage();
  await step("unknown product: themed 404 with a reference", async () => {
    await goto(page, BASE_URL + "/products/no-such-shoe-ever", 404);
    assert(await page.locator(".error-page").count() === 1, "not the site's error page");
    assert(/Reference/.test(await page.locator(".error-page__ref").innerText()), "no request reference");
    assert(await page.locator(".site-header").count() === 1, "the error page lacks the site header");
    await shot(page, "07-not-found");
  }, { flow: false });
  await step("bad filter: 400 page with the reason", async () => {
    await goto(page, BASE_URL + "/shoes?price_min=cheap", 400);
    const msg = await page.locator(".error-page__message").innerText();
    assert(/price_min/.test(msg), `the 400 page does not say what is wrong ("${msg}")`);
  }, { flow: false });
  await step("search with no results helps the shopper on", async () => {
    await goto(page, BASE_URL + "/search?q=" + encodeURIComponent("zzqxv nothing"));
    assert(await page.locator(".empty").count() === 1, "no empty-results message");
    assert(await page.locator('.popular a[href="/shoes"]').count() === 1, "no link to all shoes");
    assert(await page.locator('.popular a[href^="/category/"]').count() > 0, "no popular categories");
    await assertNoSidewaysScroll(page);
    await shot(page, "08-search-no-results");
  }, { flow: false });
  await context.close();
}

main()
  .catch((e) => {
    results.push({ name: "browser set-up", ok: false });
    log(`FAIL browser set-up: ${e && e.message ? e.message : e}`);
  })
  .finally(() => {
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed || results.length === 0 ? 1 : 0;
  });
