/* fuzz_mail.c — outside text that reaches mail and SMS headers: addresses
 * (sign-up forms), numbers, subjects (they carry customers' names). Never
 * crash; an accepted address or number holds nothing that could break a
 * header or a command line; an encoded subject has no bare CR/LF, no line
 * over 78 characters, and decodes back to the input. */
#include "core/buf.h"
#include "core/text.h"
#include "notify/mail.h"
#include "notify/sms.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_subject(const char *s, const buf *enc)
{
    const char *v = buf_cstr(enc);
    /* lines: "Subject: " + first <= 78, continuations start with a space */
    size_t line = strlen("Subject: ");
    for (const char *p = v; *p; p++) {
        if (*p == '\r') {
            if (p[1] != '\n' || p[2] != ' ') abort();
            if (line > 78) abort();
            line = 0;
            p++;
            continue;
        }
        if (*p == '\n') abort();
        line++;
    }
    if (line > 78) abort();
    if (strncmp(v, "=?UTF-8?B?", 10) != 0) {
        /* as is, folded at spaces: unfolding gives the input back */
        buf u = BUF_INIT;
        for (const char *p = v; *p; p++)
            if (*p != '\r' && *p != '\n') buf_putc(&u, *p);
        if (strcmp(buf_cstr(&u), s) != 0) abort();
        buf_free(&u);
        return;
    }
    buf dec = BUF_INIT;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\r' || *p == '\n') p++;
        if (!*p) break;
        if (strncmp(p, "=?UTF-8?B?", 10) != 0) abort();
        const char *q = strstr(p + 10, "?=");
        if (!q || q + 2 - p > 75) abort();
        unsigned char bin[64];
        size_t n;
        if (sodium_base642bin(bin, sizeof bin, p + 10, (size_t)(q - p - 10), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            abort();
        if (!text_valid_utf8((const char *)bin, n)) abort(); /* whole characters per word */
        buf_append(&dec, bin, n);
        p = q + 2;
    }
    if (strcmp(buf_cstr(&dec), s) != 0) abort();
    buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    if (mail_address_valid(s)) {
        if (strlen(s) > 254 || strpbrk(s, " \t\r\n<>,;:\"()[]\\") || !strchr(s, '@')) abort();
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) abort();
    }
    if (sms_number_valid(s)) {
        if (s[0] != '+' || strspn(s + 1, "0123456789") != strlen(s) - 1) abort();
    }
    buf enc = BUF_INIT;
    int rc = mail_encode_subject(s, &enc);
    size_t n = strlen(s); /* the input as C code sees it: up to a NUL */
    int acceptable = n <= MAIL_SUBJECT_MAX && text_valid_utf8(s, n) && !strpbrk(s, "\r\n");
    if ((rc == 0) != acceptable) abort();
    if (rc == 0) check_subject(s, &enc);
    else if (enc.len != 0) abort();
    buf_free(&enc);
    free(s);
    return 0;
}
