/* mail.h — e-mail over SMTP (libcurl): the one way ShoEase sends mail.
 *
 * Mail is only ever sent from a job (`shoease worker`), never from a
 * request: a slow or down mail server must not hold a shopper's page.
 *
 *   mail_message m;
 *   json_t *ctx = json_pack("{s:s}", "name", "Ada");
 *   if (mail_render("test", ctx, &m, err, sizeof err) == 0) {       // templates/email/test.*
 *       m.to = "ada@example.com";
 *       m.message_id = mail_message_id("mail-test:42", idbuf, sizeof idbuf);
 *       int rc = mail_send(&m, err, sizeof err);   // MAIL_SENT / MAIL_RETRY / MAIL_REJECTED
 *       mail_message_free(&m);
 *   }
 *
 * Rules it keeps:
 *   - every message is multipart/alternative (text/plain + text/html) built
 *     with libcurl's MIME API, never by string pasting;
 *   - header values (To, Subject) are checked: CR/LF or NUL → MAIL_REJECTED
 *     (no header injection), and non-ASCII subjects are RFC 2047-encoded;
 *   - the Message-ID is derived from the job's idempotency key, so a mail
 *     sent twice after a crash carries the same id (receivers may dedupe);
 *   - SMTP_URL smtp:// (plain; SMTP_STARTTLS=1 requires STARTTLS) or
 *     smtps:// (implicit TLS); SMTP_USERNAME/SMTP_PASSWORD for AUTH;
 *     certificates verified (SMTP_CA_FILE for a private CA). */
#ifndef SHOEASE_NOTIFY_MAIL_H
#define SHOEASE_NOTIFY_MAIL_H

#include <jansson.h>
#include <stddef.h>

enum mail_result {
    MAIL_SENT = 0,       /* the server accepted the message */
    MAIL_RETRY = -1,     /* temporary: connection refused, timeout, 4xx — try again later */
    MAIL_REJECTED = -2,  /* permanent: invalid address or header, 5xx — retrying will not help */
};

typedef struct mail_message {
    char *subject;           /* owned (mail_render) */
    char *text;              /* owned: the text/plain part */
    char *html;              /* owned: the text/html part (may be NULL: then text only) */
    const char *to;          /* borrowed: one address */
    const char *message_id;  /* borrowed: "<...@...>" (mail_message_id); NULL: a random one */
} mail_message;

/* Render templates/email/<name>.subject.mustache, <name>.txt.mustache and
 * <name>.html.mustache (the last one optional) with ctx (not consumed; the
 * keys site_name and public_url are added). 0, or -1 with err filled.
 * The subject (trimmed; must be one line) and the text part are plain text:
 * their templates write values as {{{x}}}, since {{x}} HTML-escapes. */
int mail_render(const char *name, json_t *ctx, mail_message *out, char *err, size_t errlen);
void mail_message_free(mail_message *m);

/* "<hex of BLAKE2b(key)>@<host of PUBLIC_URL>" in out. Returns out. */
const char *mail_message_id(const char *idempotency_key, char *out, size_t outlen);

/* Is this a plausible single address (local@domain, no spaces, CR, LF,
 * angle brackets or commas, at most 254 bytes)? */
int mail_address_valid(const char *addr);

/* Send one message to m->to from MAIL_FROM. err gets the server's or
 * libcurl's reason on failure. */
enum mail_result mail_send(const mail_message *m, char *err, size_t errlen);

/* Append the Subject header's value for subject to out: plain ASCII as is
 * (folded at spaces when long), anything else (and ASCII that cannot fold
 * at single spaces within 78 chars) as RFC 2047 encoded words
 * (=?UTF-8?B?...?=, each at most 75 chars, never splitting a character),
 * folded with CRLF SP so that no line of "Subject: ..." exceeds 78 chars.
 * Returns 0, or -1 (out untouched) when subject contains CR, LF or NUL, is
 * not valid UTF-8 or is longer than MAIL_SUBJECT_MAX bytes. */
#define MAIL_SUBJECT_MAX 998
struct buf;
int mail_encode_subject(const char *subject, struct buf *out);

#endif
