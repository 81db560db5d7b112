/* migrate.c — `shoease migrate [--check]`. */
#include "cmd/cmd.h"

#include "db/migrate.h"

#include <stdio.h>
#include <string.h>

int cmd_migrate(int argc, char **argv)
{
    bool check = argc > 1 && strcmp(argv[1], "--check") == 0;
    if (argc > 1 && !check) {
        fprintf(stderr, "usage: shoease migrate [--check]\n");
        return 2;
    }
    if (check) {
        int pending = migrate_pending();
        if (pending < 0) return 1;
        printf("%d pending migration(s)\n", pending);
        return pending ? 1 : 0;
    }
    return migrate_run(false, true) == 0 ? 0 : 1;
}
