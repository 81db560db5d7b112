/* fuzz_account_input.c — what shoppers type into account forms and links:
 * e-mail addresses (normalised for lookup), "next" paths after signing in
 * (never an open redirect), and the route parameter checks. Never crash;
 * a normalised address is lower-case ASCII and valid; a safe next path is
 * ours ("/x", never "//host", a scheme or a backslash). */
#include "core/text.h"
#include "shop/accounts.h"
#include "views/forms.h"
#include "web/pipeline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    char email[255];
    if (accounts_normalise_email(in, email, sizeof email) == 0) {
        for (const char *p = email; *p; p++)
            if ((*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80 || *p == ' ') abort();
    }
    const char *next = view_safe_next(in, "/account");
    if (next != in && strcmp(next, "/account")) abort();
    if (next == in) {
        if (in[0] != '/' || in[1] == '/' || strchr(in, '\\') || strstr(in, "\r") || strstr(in, "\n")) abort();
    }
    static const param_spec specs[] = {
        {"t", PARAM_TEXT}, {"i", PARAM_INT, .min = 1, .max = 1000000}, {"s", PARAM_SLUG},
        {"e", PARAM_EMAIL}, {"k", PARAM_TOKEN}, {"d", PARAM_DIGITS, .max_len = 6},
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        const char *why = pipeline_param_problem(&specs[i], in);
        if (!why && specs[i].kind == PARAM_TEXT && !text_valid_utf8(in, strlen(in))) abort();
        if (!why && specs[i].kind == PARAM_DIGITS && strspn(in, "0123456789") != strlen(in)) abort();
    }
    free(in);
    return 0;
}
