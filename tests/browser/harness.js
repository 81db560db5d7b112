/* harness.js — what the account and checkout browser tests share (the same
 * shape as storefront.test.js, which keeps its own copy):
 *
 *   step(name, fn, {flow})   one check; a failed step of a flow marks the rest
 *                            of that flow failed ("not run"), never skipped
 *   shot(page, name)         a full-page screenshot into SCREENSHOT_DIR
 *   assertNoSidewaysScroll   the page fits the phone's width
 *   newPhone()               a 390×844 phone browser on a fresh profile
 *   newDesktop()             a 1366×900 desktop browser on a fresh profile
 *   fillAddress, choose      the checkout's address fields, its choice boxes
 *   watch(page, problems)    collects console errors, CSP reports, failed assets
 *   stackState()             the stack's state JSON (SHOEASE_STACK_STATE)
 *   finish(promise)          prints "N passed, M failed", sets the exit status
 *
 * Settings from the environment: BASE_URL (default https://localhost:28443,
 * the test stack), SCREENSHOT_DIR (default <repo>/var/test/screenshots),
 * CHROMIUM (default /usr/bin/chromium), SHOEASE_STACK_STATE (set by
 * `tools/stack.py exec`). */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const BASE_URL = (process.env.BASE_URL || "https://localhost:28443").replace(/\/+$/, "");
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve(__dirname, "..", "..", "var", "test", "screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1366, height: 900 };
const STEP_TIMEOUT = 15000;

const results = [];
const flowState = { broken: null };

function log(msg) { process.stdout.write(msg + "\n"); }

function assert(cond, msg) { if (!cond) throw new Error(msg); }

/* A new flow: its steps depend on each other, not on the previous flow's. */
function newFlow() { flowState.broken = null; }

async function step(name, fn, { flow = true } = {}) {
  if (flow && flowState.broken) {
    results.push({ name, ok: false });
    log(`FAIL ${name}: not run, an earlier step failed (${flowState.broken})`);
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
    if (flow) flowState.broken = name;
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
  assert(scroll <= client + 1, `${new URL(page.url()).pathname} is wider than the phone (${scroll}px > ${client}px)`);
}

async function goto(page, url, expectStatus = 200) {
  const res = await page.goto(url, { waitUntil: "load" });
  assert(res, `no response for ${url}`);
  assert(res.status() === expectStatus, `${url} answered ${res.status()}, expected ${expectStatus}`);
  return res;
}

/* Click something that navigates; returns once the new document (which
 * may have the same URL: a form posting back to its page) has loaded at a
 * URL matching urlPattern. */
async function clickAndLoad(page, locator, urlPattern) {
  await Promise.all([page.waitForEvent("framenavigated", (f) => f === page.mainFrame()), locator.click()]);
  await page.waitForURL(urlPattern, { waitUntil: "load" });
}

/* Problems the browser reports: CSP violations, script errors, failed
 * sub-resources (CSS, JS, images). `allow` lists URL/message patterns that
 * are expected (the card page's Stripe.js, which cannot load offline). */
function watch(page, problems, allow = []) {
  const allowed = (text) => allow.some((rx) => rx.test(text));
  page.on("console", (m) => {
    if (m.type() === "error" && !allowed(m.text()) && !allowed((m.location() || {}).url || ""))
      problems.push("console: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("script error: " + e.message));
  page.on("response", (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== "document" && !allowed(r.url()))
      problems.push(`${r.status()} for ${r.url()}`);
  });
}

/* A phone-sized browser of its own, on a fresh profile (--user-data-dir,
 * which Playwright passes for a persistent context): fresh cookies, so
 * every flow starts as a new visitor. Closing it removes the profile. */
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

/* The same on a desktop screen (a mouse, no touch). */
function newDesktop(opts = {}) {
  return newPhone({ viewport: DESKTOP, deviceScaleFactor: 1, isMobile: false, hasTouch: false, ...opts });
}

/* The checkout's address fields, as a guest fills them (who: {email, name}). */
async function fillAddress(page, who) {
  await page.locator('input[name="email"]').fill(who.email);
  await page.locator('input[name="full_name"]').fill(who.name);
  await page.locator('input[name="line1"]').fill("221B Baker Street");
  await page.locator('input[name="city"]').fill("London");
  await page.locator('input[name="postcode"]').fill("nw1 6xe");
  await page.locator('select[name="country"]').selectOption("GB");
  await page.locator('input[name="phone"]').fill("+44 7700 900789");
}

/* Tap a choice box of the checkout (delivery, payment) by its radio's value. */
async function choose(page, name, value) {
  const radio = page.locator(`input[name="${name}"][value="${value}"]`);
  assert(await radio.count() === 1, `the checkout offers no ${name} "${value}"`);
  await page.locator("label.choice", { has: radio }).click();
  assert(await radio.isChecked(), `tapping ${name} "${value}" did not choose it`);
}

/* The header's account corner: on personal pages it is in the HTML, on
 * shared (cached) pages site.js fetches it into the slot. */
async function headerAccount(page) {
  const corner = page.locator(".site-header__account");
  await corner.locator(".account-link").first().waitFor();
  return {
    name: (await corner.locator(".account-link__name").first().innerText()).trim(),
    signOut: await corner.locator('form.account-signout[action="/account/logout"]').count(),
    bag: (await corner.locator("[data-bag-count]").first().innerText()).trim(),
  };
}

/* The header's parts (logo, search field and button, account link, bag) are
 * all on the phone's screen, none covers another, and the search field has
 * room to type in. */
async function assertHeaderFits(page) {
  const boxes = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    return [".site-header .logo", "#site-search", ".site-header .search-box__button",
      ".site-header__account .account-link", ".site-header__account .bag-link"].map((sel) => {
      const el = document.querySelector(sel);
      const r = el ? el.getBoundingClientRect() : null;
      return { sel, width, r: r && { l: r.left, r: r.right, t: r.top, b: r.bottom } };
    });
  });
  for (const { sel, width, r } of boxes) {
    assert(r, `the header has no ${sel}`);
    assert(r.l >= 0 && r.r <= width + 0.5, `the header's ${sel} sticks out of the screen (${r.l}..${r.r} of ${width}px)`);
  }
  const search = boxes[1].r;
  assert(search.r - search.l >= 160, `the search field is ${Math.round(search.r - search.l)}px wide: no room to type`);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (i === 1 && j === 2) continue;   // the search button sits inside the field
      const a = boxes[i].r, b = boxes[j].r;
      const overlap = Math.min(a.r, b.r) - Math.max(a.l, b.l) > 1 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 1;
      assert(!overlap, `in the header, ${boxes[i].sel} and ${boxes[j].sel} overlap`);
    }
  }
}

/* The header says who is signed in (their name, and a sign-out button —
 * shown on wide screens; on a phone the account menu has it) and fits. */
async function assertSignedIn(page, name) {
  await page.locator(".site-header__account form.account-signout").first().waitFor({ state: "attached" })
    .catch(() => {});
  const h = await headerAccount(page);
  assert(h.signOut === 1, `the header does not offer "Sign out" on ${new URL(page.url()).pathname}`);
  assert(h.name === name, `the header names "${h.name}", expected the shopper "${name}"`);
  await assertHeaderFits(page);
}

/* The state JSON of the stack the test runs against (ports, paths). */
function stackState() {
  const p = process.env.SHOEASE_STACK_STATE;
  if (!p) {
    throw new Error("SHOEASE_STACK_STATE is not set: run this test through " +
      "`tools/stack.py exec --profile test ...` (it names the stack's state JSON, where the mail directory is)");
  }
  try {
    return JSON.parse(fs.readFileSync(p, "utf8"));
  } catch (e) {
    throw new Error(`cannot read the stack state ${p}: ${e.message}`);
  }
}

function finish(promise) {
  return promise
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
}

module.exports = {
  BASE_URL, SHOTS, PHONE, DESKTOP, log, assert, step, newFlow, shot, assertNoSidewaysScroll, goto, clickAndLoad,
  watch, newPhone, newDesktop, fillAddress, choose, headerAccount, assertHeaderFits, assertSignedIn, stackState, finish,
  results,
};
