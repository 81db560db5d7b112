#!/usr/bin/env node
/* accounts.test.js — a new shopper on a phone, in a real browser: register →
 * "check your inbox" → the verification mail (read from the stack's SMTP
 * sink) → confirm → sign in → turn on an authenticator app (TOTP computed
 * here from the key the page shows) → sign out → sign in again with the
 * second step → profile, addresses (add one), sizes & brands.
 *
 * Run it through `tools/stack.py exec --profile test` (tests/run-all.sh does):
 * it needs SHOEASE_STACK_STATE for the mail directory. Settings: BASE_URL,
 * SCREENSHOT_DIR, CHROMIUM (see harness.js). Prints one line "N passed, M
 * failed" at the end; exits 1 on any failure. The steps depend on each
 * other: when one fails, the rest are reported as failed (never skipped). */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const {
  BASE_URL, SHOTS, log, assert, step, newFlow, shot, assertNoSidewaysScroll, goto, clickAndLoad, watch, newPhone,
  headerAccount, assertHeaderFits, assertSignedIn, finish,
} = require("./harness");
const { Mailbox } = require("./mailbox");
const { freshCode } = require("./totp");

const NAME = "Grace Hopper";
const PASSWORD = "a long walk on the beach";

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  log(`account browser tests against ${BASE_URL} (screenshots: ${SHOTS})`);
  const mailbox = Mailbox.fromStack();
  await accountFlow(mailbox);
}

async function accountFlow(mailbox) {
  newFlow();
  const context = await newPhone();
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  watch(page, problems);
  const email = `browser-${crypto.randomBytes(6).toString("hex")}@example.com`;
  const state = {};

  await step("register: name, e-mail, password", async () => {
    await goto(page, BASE_URL + "/account/register");
    assert((await page.locator("h1").innerText()).trim() === "Create an account", "not the registration page");
    const header = await headerAccount(page);
    assert(header.name === "Sign in" && header.signOut === 0, `a new visitor's header says "${header.name}"`);
    await assertHeaderFits(page);
    await page.locator('input[name="name"]').fill(NAME);
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-01-register");
    await clickAndLoad(page, page.locator('form[action="/account/register"] button[type="submit"]'),
      /\/account\/register\/sent$/);
  });

  await step("\"check your inbox\" page", async () => {
    assert((await page.locator("h1").innerText()).trim() === "Check your inbox", "no \"Check your inbox\" heading");
    assert((await page.locator(".auth-card__lead").innerText()).trim().length > 0, "the page does not say what to do");
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-02-check-inbox");
  });

  await step("the verification mail arrives with its link", async () => {
    const msg = await mailbox.waitFor((m) => m.to === email && /Confirm/.test(m.subject),
      { what: `the verification mail to ${email}` });
    const m = /https?:\/\/[^/\s]+(\/account\/verify\?token=[A-Za-z0-9_-]+)/.exec(msg.text);
    assert(m, `no /account/verify?token=... link in ${msg.name}: ${msg.text.slice(0, 200)}`);
    assert(msg.html.includes(m[1]), "the HTML part does not carry the same link");
    state.verifyPath = m[1];   // the link's host is PUBLIC_URL: follow it on our stack
  });

  await step("the link confirms the address", async () => {
    await goto(page, BASE_URL + state.verifyPath);
    const h1 = (await page.locator("h1").innerText()).trim();
    assert(h1 === "Your e-mail address is confirmed", `the verification link answered "${h1}"`);
    await assertNoSidewaysScroll(page);
    await clickAndLoad(page, page.locator('a.button[href="/account/login"]'), /\/account\/login$/);
  });

  await step("sign in with e-mail and password", async () => {
    assert((await page.locator("h1").innerText()).trim() === "Sign in", "not the sign-in page");
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-03-sign-in");
    await clickAndLoad(page, page.locator('form[action="/account/login"] button[type="submit"]'), /\/account$/);
    const h1 = (await page.locator("h1").innerText()).trim();
    assert(h1 === `Hello, ${NAME}`, `the account overview says "${h1}"`);
    await assertSignedIn(page, NAME);
  });

  await step("account overview", async () => {
    const summary = await page.locator("dl.summary").innerText();
    assert(summary.includes(email), "the overview does not show the e-mail address");
    assert(/Confirmed/.test(summary), "the overview does not say the address is confirmed");
    assert(/Two-step sign-in\s*Off/.test(summary), `two-step sign-in is not "Off" for a new account: ${summary}`);
    assert(await page.locator(".account-links a").count() >= 5, "no links to the account's pages");
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-04-overview");
  });

  await step("security page: turn on an authenticator app", async () => {
    await clickAndLoad(page, page.locator('.account__nav a[href="/account/security"]'), /\/account\/security$/);
    assert((await page.locator("h1").innerText()).trim() === "Security", "not the security page");
    assert(await page.locator(".session--current").count() === 1, "this device is not listed as signed in");
    await assertNoSidewaysScroll(page);
    await assertSignedIn(page, NAME);
    await clickAndLoad(page, page.locator('a[href="/account/security/totp"]'), /\/account\/security\/totp$/);
    assert(await page.locator(".qr svg").count() === 1, "no QR code to scan");
    state.secret = (await page.locator("#totp-secret").innerText()).trim();
    assert(/^[A-Z2-7 ]+$/.test(state.secret) && state.secret.replace(/ /g, "").length >= 16,
      `the key shown ("${state.secret}") is not a base32 key`);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-05-authenticator-setup");
    const { code, counter } = await freshCode(state.secret);
    state.enrolledAt = counter;
    await page.locator('input[name="code"]').fill(code);
    // the answer to the post shows the recovery codes, once (no redirect)
    await clickAndLoad(page, page.locator('form[action="/account/security/totp"] button[type="submit"]'),
      /\/account\/security\/totp$/);
    assert((await page.locator("h1").innerText()).trim() === "Two-step sign-in is on",
      `turning the app on answered "${(await page.locator("h1").innerText()).trim()}"`);
    const codes = await page.locator("code.recovery-code").allInnerTexts();
    assert(codes.length === 10, `${codes.length} recovery codes shown, expected 10`);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-06-recovery-codes");
    await clickAndLoad(page, page.locator('a.button[href="/account/security"]'), /\/account\/security$/);
    const twoStep = await page.locator("#twostep-title + p").innerText();
    assert(/authenticator app/.test(twoStep), `the security page does not say the app is on: "${twoStep}"`);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-07-security");
  });

  await step("sign out", async () => {
    // on a phone the header keeps only the account link; the account menu has "Sign out"
    await clickAndLoad(page, page.locator('.account__nav form[action="/account/logout"] button'),
      (u) => u.pathname === "/");
    await page.locator(".site-header__account .account-link").first().waitFor();
    const header = await headerAccount(page);
    assert(header.name === "Sign in" && header.signOut === 0, `after signing out the header says "${header.name}"`);
    const r = await page.goto(BASE_URL + "/account", { waitUntil: "load" });
    assert(new URL(page.url()).pathname === "/account/login", `/account did not ask to sign in (${r.status()} ${page.url()})`);
  });

  await step("sign in again: password, then the authenticator's code", async () => {
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await clickAndLoad(page, page.locator('form[action="/account/login"] button[type="submit"]'),
      /\/account\/login\/verify/);
    const h1 = (await page.locator("h1").innerText()).trim();
    assert(h1 === "Confirm it is you", `the second step says "${h1}"`);
    assert(/authenticator app/.test(await page.locator(".auth-card__lead").innerText()),
      "the second step does not ask for the authenticator's code");
    const header = await headerAccount(page);
    assert(header.signOut === 0, "the header shows a signed-in shopper before the second step");
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-08-second-step");
    // the code used to turn the app on cannot be used again: wait for the next one
    const { code } = await freshCode(state.secret, state.enrolledAt);
    await page.locator('input[name="code"]').fill(code);
    await clickAndLoad(page, page.locator('form[action="/account/login/verify"] button[type="submit"]'), /\/account$/);
    assert((await page.locator("h1").innerText()).trim() === `Hello, ${NAME}`, "not the account overview");
    assert(/Two-step sign-in\s*On/.test(await page.locator("dl.summary").innerText()), "two-step sign-in is not On");
    await assertSignedIn(page, NAME);
  });

  await step("profile page", async () => {
    await clickAndLoad(page, page.locator('.account__nav a[href="/account/profile"]'), /\/account\/profile$/);
    assert((await page.locator("h1").innerText()).trim() === "Your profile", "not the profile page");
    assert((await page.locator("dl.summary").innerText()).includes(email), "the profile does not show the e-mail");
    assert(await page.locator('input[name="name"]').inputValue() === NAME, "the name field does not hold the name");
    await assertSignedIn(page, NAME);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-09-profile");
  });

  await step("addresses: add one", async () => {
    await clickAndLoad(page, page.locator('.account__nav a[href="/account/addresses"]'), /\/account\/addresses$/);
    assert(await page.locator(".empty-note").count() === 1, "a new account already has addresses");
    await assertNoSidewaysScroll(page);
    await clickAndLoad(page, page.locator('a.button[href="/account/addresses/new"]'), /\/account\/addresses\/new$/);
    await page.locator('input[name="full_name"]').fill(NAME);
    await page.locator('input[name="line1"]').fill("1 Navy Yard Lane");
    await page.locator('input[name="city"]').fill("Portsmouth");
    await page.locator('input[name="postcode"]').fill("po1 3ls");
    await page.locator('select[name="country"]').selectOption("GB");
    await page.locator('input[name="phone"]').fill("+44 7700 900456");
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-10-address-form");
    await clickAndLoad(page, page.locator("form.form--account button[type=submit]"), /\/account\/addresses$/);
    const cards = page.locator(".address-card");
    assert(await cards.count() === 1, `${await cards.count()} addresses listed after adding one`);
    const text = await cards.first().innerText();
    assert(text.includes("1 Navy Yard Lane") && text.includes("PO1 3LS"),
      `the address card does not show the address (postcode normalised): ${text.replace(/\s+/g, " ")}`);
    assert(await cards.first().locator(".badge", { hasText: "Default address" }).count() === 1,
      "the first address is not the default");
    await assertSignedIn(page, NAME);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-11-addresses");
  });

  await step("sizes & brands: save some", async () => {
    await clickAndLoad(page, page.locator('.account__nav a[href="/account/preferences"]'), /\/account\/preferences$/);
    const sizes = page.locator('input[name="size"]');
    const brands = page.locator('input[name="brand"]');
    assert(await sizes.count() > 0, "no sizes to choose from");
    assert(await brands.count() > 0, "no brands to choose from");
    const size = sizes.nth(Math.min(3, (await sizes.count()) - 1));
    const brand = brands.first();
    state.size = await size.getAttribute("value");
    state.brand = await brand.getAttribute("value");
    // the boxes are styled labels: tap the label, as a shopper would
    await page.locator(`label[for="${await size.getAttribute("id")}"]`).click();
    await page.locator(`label[for="${await brand.getAttribute("id")}"]`).click();
    assert(await size.isChecked() && await brand.isChecked(), "tapping a size or brand does not tick it");
    await assertNoSidewaysScroll(page);
    await clickAndLoad(page, page.locator('form[action="/account/preferences"] button[type=submit]'),
      /\/account\/preferences$/);
    await page.reload({ waitUntil: "load" });
    assert(await page.locator(`input[name="size"][value="${state.size}"]`).isChecked(), "the saved size is not ticked");
    assert(await page.locator(`input[name="brand"][value="${state.brand}"]`).isChecked(), "the saved brand is not ticked");
    assert(await page.locator('input[name="size"]:checked').count() === 1, "other sizes were saved too");
    await assertSignedIn(page, NAME);
    await assertNoSidewaysScroll(page);
    await shot(page, "accounts-12-sizes-brands");
  });

  await step("no console errors, CSP violations or broken assets on the way", async () => {
    assert(problems.length === 0, problems.slice(0, 5).join(" | "));
  }, { flow: false });
  await context.close();
}

finish(main());
