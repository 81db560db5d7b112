/* mailbox.js — the mail the stack's SMTP sink (tools/smtpd.py) kept: one
 * .eml file per message in var/<profile>/mail/ (written to .<name>.tmp, then
 * renamed). The JavaScript twin of tests/integration/conftest.py's Mailbox,
 * with a parser for what the app sends: headers (folded lines, RFC 2047
 * encoded words), multipart bodies, quoted-printable and base64.
 *
 *   const box = Mailbox.fromStack();            // paths.mail_dir of the stack state
 *   const msg = await box.waitFor((m) => m.to === email && /Confirm/.test(m.subject));
 *   msg.text                                    // the text/plain body, decoded
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { stackState } = require("./harness");

/* ---------------------------------------------------------------- parsing */

function splitHeadBody(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  return m ? [raw.slice(0, m.index), raw.slice(m.index + m[0].length)] : [raw, ""];
}

function decodeWords(value) {
  // =?charset?B|Q?text?=, adjacent words separated only by space join up
  return value.replace(/\?=\s+=\?/g, "?==?").replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, cs, enc, text) => {
    const bytes = enc.toUpperCase() === "B" ? Buffer.from(text, "base64")
      : qpBytes(text.replace(/_/g, " "));
    return bytes.toString(/utf-?8/i.test(cs) ? "utf8" : "latin1");
  });
}

function parseHeaders(head) {
  const headers = {};
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = decodeWords(line.slice(i + 1).trim());
    if (!(name in headers)) headers[name] = value;
  }
  return headers;
}

function qpBytes(text) {
  const out = [];
  const s = text.replace(/=\r?\n/g, "");
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(s[i], "latin1"));
    }
  }
  return Buffer.from(out);
}

function param(value, name) {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(value || "");
  return m ? (m[1] !== undefined ? m[1] : m[2]) : null;
}

/* A MIME entity → its leaf parts: [{type, text}]. */
function leaves(headers, body) {
  const ctype = headers["content-type"] || "text/plain";
  const type = ctype.split(";")[0].trim().toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = param(ctype, "boundary");
    if (!boundary) return [];
    const parts = body.split(new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?$`, "m"));
    // parts[0] is the preamble, the last one the epilogue
    return parts.slice(1, -1).flatMap((p) => {
      const [h, b] = splitHeadBody(p.replace(/^\r?\n/, ""));
      return leaves(parseHeaders(h), b);
    });
  }
  const cte = (headers["content-transfer-encoding"] || "7bit").toLowerCase();
  const raw = Buffer.from(body, "latin1");   // the file was read as latin1: bytes as they are
  const bytes = cte === "base64" ? Buffer.from(body.replace(/\s+/g, ""), "base64")
    : cte === "quoted-printable" ? qpBytes(body) : raw;
  const charset = param(ctype, "charset") || "us-ascii";
  return [{ type, text: bytes.toString(/utf-?8/i.test(charset) ? "utf8" : "latin1") }];
}

function parseEml(file) {
  const raw = fs.readFileSync(file, "latin1");
  const [head, body] = splitHeadBody(raw);
  const headers = parseHeaders(head);
  const parts = leaves(headers, body);
  const plain = parts.find((p) => p.type === "text/plain");
  const html = parts.find((p) => p.type === "text/html");
  return {
    file,
    name: path.basename(file),
    headers,
    to: headers.to || "",
    subject: headers.subject || "",
    text: plain ? plain.text : "",
    html: html ? html.text : "",
  };
}

/* ---------------------------------------------------------------- the mailbox */

class Mailbox {
  constructor(dir) { this.dir = dir; }

  static fromStack() {
    const state = stackState();
    const dir = state.paths && state.paths.mail_dir;
    if (!dir) throw new Error(`the stack state ${process.env.SHOEASE_STACK_STATE} names no paths.mail_dir`);
    if (!fs.existsSync(dir)) throw new Error(`the SMTP sink's directory ${dir} does not exist`);
    return new Mailbox(dir);
  }

  /* Complete messages, oldest first (the sink names them by time). */
  files() {
    let names;
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith(".eml") && !n.startsWith("."));
    } catch (e) {
      if (e.code === "ENOENT") return [];
      throw e;
    }
    return names.sort().map((n) => path.join(this.dir, n));
  }

  messages(predicate = () => true) {
    const out = [];
    for (const f of this.files()) {
      let m;
      try {
        m = parseEml(f);
      } catch (e) {
        if (e.code === "ENOENT") continue;
        throw e;
      }
      if (predicate(m)) out.push(m);
    }
    return out;
  }

  /* The first message for which predicate(msg) is true, once it arrived
   * (the mail goes through the outbox and the job queue: it takes a moment).
   * Fails after `timeout` ms, listing what the mailbox holds. */
  async waitFor(predicate, { timeout = 20000, what = "the message" } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const found = this.messages(predicate);
      if (found.length) return found[0];
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const last = this.messages().slice(-5).map((m) => `${m.name}: To=${m.to} Subject=${m.subject}`);
    throw new Error(`${what} did not arrive in ${this.dir} within ${timeout / 1000}s; ` +
      `the last messages: ${last.join(" | ") || "(none)"}`);
  }
}

module.exports = { Mailbox, parseEml };
