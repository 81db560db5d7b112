/* admin.c — `shoease createadmin` and `shoease admin-url`.
 *
 *   shoease createadmin EMAIL [--name NAME] [--role superuser|staff]
 *       the password is asked for twice without echo on a terminal, or read
 *       as the first line of stdin for scripts:
 *       printf '%s\n' "$PW" | shoease createadmin owner@shop.example
 *   shoease admin-url        the portal's address (PUBLIC_URL + ADMIN_PATH)
 *
 * An existing account at that address is given the role (its password
 * stays). Every change leaves an audit row with the person at the terminal
 * ("cli:<login>"). */
#include "cmd/cmd.h"

#include "core/config.h"
#include "core/text.h"
#include "shop/staff.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_LINE 256

/* One line from stdin into out; false at EOF or when too long. */
static bool read_line(char *out, size_t outlen)
{
    if (!fgets(out, (int)outlen, stdin)) return false;
    size_t n = strlen(out);
    if (n && out[n - 1] == '\n') out[--n] = '\0';
    else if (!feof(stdin)) return false; /* longer than the buffer */
    if (n && out[n - 1] == '\r') out[--n] = '\0';
    return true;
}

static bool ask_hidden(const char *prompt, char *out, size_t outlen)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0) return false;
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = read_line(out, outlen);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

static int createadmin(int argc, char **argv)
{
    const char *email = NULL, *name = "", *role = "superuser";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--role") && i + 1 < argc) role = argv[++i];
        else if (!email && argv[i][0] != '-') email = argv[i];
        else email = NULL, i = argc;
    }
    if (!email) {
        fprintf(stderr, "usage: shoease createadmin EMAIL [--name NAME] [--role superuser|staff]\n"
                        "       (the password: asked for on a terminal, else the first line of stdin)\n");
        return 2;
    }
    if (strcmp(role, "superuser") && strcmp(role, "staff")) {
        fprintf(stderr, "shoease createadmin: --role is superuser or staff\n");
        return 2;
    }
    char pw[PASSWORD_LINE], again[PASSWORD_LINE];
    if (isatty(STDIN_FILENO)) {
        if (!ask_hidden("Password: ", pw, sizeof pw) || !ask_hidden("Password (again): ", again, sizeof again)) {
            fprintf(stderr, "shoease createadmin: no password given\n");
            return 1;
        }
        if (strcmp(pw, again) != 0) {
            sodium_memzero(pw, sizeof pw);
            sodium_memzero(again, sizeof again);
            fprintf(stderr, "shoease createadmin: the two passwords differ; nothing was changed\n");
            return 1;
        }
        sodium_memzero(again, sizeof again);
    } else if (!read_line(pw, sizeof pw)) {
        fprintf(stderr, "shoease createadmin: no password on stdin (one line)\n");
        return 1;
    }
    audit_actor me = audit_cli_actor();
    int64_t id = 0;
    bool created = false;
    shop_error e;
    shop_status st = staff_create(email, name, pw, role, &me, &id, &created, &e);
    sodium_memzero(pw, sizeof pw);
    if (st != SHOP_OK) {
        fprintf(stderr, "shoease createadmin: %s\n", e.message);
        return st == SHOP_INVALID ? 2 : 1;
    }
    if (created) printf("created %s (user %lld) as %s\n", email, (long long)id, role);
    else printf("%s (user %lld) already had an account: it is %s now (its password is unchanged)\n", email, (long long)id, role);
    printf("sign in at %s/account/login, then open %s%s/\n", cfg.public_url ? cfg.public_url : "", cfg.public_url ? cfg.public_url : "",
           cfg.admin_path);
    if (cfg.admin_require_2fa)
        printf("two-step sign-in is required for the portal: turn on an authenticator app on the account's security "
               "page first\n");
    return 0;
}

int cmd_createadmin(int argc, char **argv) { return createadmin(argc, argv); }

int cmd_admin_url(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: shoease admin-url\n");
        return 2;
    }
    printf("%s%s/\n", cfg.public_url ? cfg.public_url : "", cfg.admin_path);
    return 0;
}
