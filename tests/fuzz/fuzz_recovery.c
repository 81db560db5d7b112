/* fuzz_recovery.c — what shoppers type at a second-factor prompt: a
 * recovery code (recovery_code_normalise) and a TOTP code (totp_check).
 * Never crash; a normalised recovery code is exactly 10 characters of
 * a-z2-7 and came from an input of those (any case), spaces and dashes; a
 * TOTP code is accepted only for a step within one of now, never for a
 * used step, and only when the input is 6 digits and spaces. */
#include "shop/twofactor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char secret[TOTP_SECRET_BYTES] = "12345678901234567890";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);   /* what a C string of it is */

    char out[11];
    memset(out, 'X', sizeof out);
    if (recovery_code_normalise(s, out) == 0) {
        if (strlen(out) != 10) abort();
        for (int i = 0; i < 10; i++)
            if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '2' && out[i] <= '7'))) abort();
        size_t kept = 0;
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            if (c == ' ' || c == '-') continue;
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (kept >= 10 || c != out[kept]) abort();
            kept++;
        }
        if (kept != 10) abort();
    } else if (out[0] != '\0') {
        abort();
    }

    /* 1111111111 s: step 37037037; the code there is 050471 */
    const time_t now = 1111111111;
    const long long step = now / 30;
    long long last = (long long)(size % 4) - 2 + step;   /* step-2 .. step+1 */
    long long got = totp_check(secret, s, now, last);
    if (got != -1) {
        if (got < step - 1 || got > step + 1 || got <= last) abort();
        int digits = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] >= '0' && s[i] <= '9') digits++;
            else if (s[i] != ' ') abort();
        }
        if (digits != 6) abort();
        char want[7];
        if (totp_code_at(secret, (time_t)(got * 30), want) != 0) abort();
        for (size_t i = 0, k = 0; i < len; i++)
            if (s[i] != ' ' && s[i] != want[k++]) abort();
    }
    free(s);
    return 0;
}
