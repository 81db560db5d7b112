/* seed.c — `shoease seed`: the demo catalogue. The catalogue itself comes
 * with the catalogue issue; until then seeding only verifies the schema. */
#include "cmd/cmd.h"

#include "db/migrate.h"

#include <stdio.h>

int cmd_seed(int argc, char **argv)
{
    (void)argc; (void)argv;
    int pending = migrate_pending();
    if (pending != 0) {
        fprintf(stderr, "seed: %s\n", pending < 0 ? "cannot read the schema" : "run `shoease migrate` first");
        return 1;
    }
    printf("seed: nothing to seed yet\n");
    return 0;
}
