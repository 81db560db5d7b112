#!/usr/bin/env node
/* run-all.js — every browser test file, one after another (one browser at a
 * time), against the same stack; then one combined line "N passed, M
 * failed" (the last line: tools/test-summary.py --plain reads the last such
 * line of the log). Each file prints its own lines and summary first.
 *
 *   node tests/browser/run-all.js [FILE.test.js ...]   default: the FILES below
 *
 * A file that exits non-zero without a failed step (a crash, a missing
 * module) counts as one failure; so does a file that cannot be found. Exit
 * status 1 if anything failed. */
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const FILES = ["storefront.test.js", "accounts.test.js", "checkout.test.js", "admin.test.js"];
const SUMMARY = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/;

function run(file) {
  return new Promise((resolve) => {
    let last = null, buffer = "";
    const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    const lines = (chunk) => {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        const m = SUMMARY.exec(line);
        if (m) last = { passed: +m[1], failed: +m[2] };
        // the file's own summary is kept apart from the combined one
        process.stdout.write((m ? `${path.basename(file)}: ` : "") + line + "\n");
      }
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", lines);
    child.stderr.on("data", (d) => process.stderr.write(d));
    child.on("error", (e) => resolve({ last, code: 1, error: e.message }));
    child.on("close", (code, signal) => {
      if (buffer) lines("\n");
      resolve({ last, code: code === null ? `signal ${signal}` : code });
    });
  });
}

async function main() {
  const files = (process.argv.length > 2 ? process.argv.slice(2) : FILES).map((f) => path.resolve(__dirname, f));
  let passed = 0, failed = 0;
  for (const file of files) {
    const name = path.basename(file);
    process.stdout.write(`== ${name}\n`);
    if (!fs.existsSync(file)) {
      process.stdout.write(`FAIL ${name}: the file does not exist\n`);
      failed++;
      continue;
    }
    const r = await run(file);
    const c = r.last || { passed: 0, failed: 0 };
    if (r.code !== 0 && c.failed === 0) {
      process.stdout.write(`FAIL ${name}: exited ${r.code}${r.error ? ` (${r.error})` : ""} without a failed step\n`);
      c.failed = 1;
    }
    if (!r.last && r.code === 0) {
      process.stdout.write(`FAIL ${name}: printed no "N passed, M failed" line\n`);
      c.failed = 1;
    }
    passed += c.passed;
    failed += c.failed;
  }
  process.stdout.write(`browser tests: ${files.length} file(s)\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed || passed === 0 ? 1 : 0;
}

main();
