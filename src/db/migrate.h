/* migrate.h — versioned SQL migrations.
 *
 * Files migrations/NNNN_name.sql are applied in order, each once, and
 * recorded in schema_migrations with a checksum. A named lock keeps two
 * `shoease migrate` runs from racing. MariaDB commits DDL implicitly, so a
 * migration is written to be re-runnable (CREATE ... IF NOT EXISTS) and is
 * recorded only after all of it succeeded: a failed migration is reported
 * by file and statement, and running again completes it. */
#ifndef SHOEASE_MIGRATE_H
#define SHOEASE_MIGRATE_H

#include <stdbool.h>

/* Apply what is pending. Returns 0, or -1 after printing what failed. With
 * dry_run, only lists pending migrations. */
int migrate_run(bool dry_run, bool verbose);
/* Number of migration files not yet applied (-1 on error). */
int migrate_pending(void);

#endif
