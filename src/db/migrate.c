/* migrate.c — see migrate.h. */
#include "db/migrate.h"

#include "core/buf.h"
#include "core/config.h"
#include "db/db.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct migration {
    int version;
    char name[256];
    char path[1024];
};

static int cmp_migration(const void *a, const void *b)
{
    return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

/* Lists NNNN_name.sql files, sorted; refuses duplicate versions. */
static int list_migrations(struct migration **out)
{
    DIR *d = opendir(cfg.migrations_dir);
    if (!d) {
        fprintf(stderr, "migrate: cannot open MIGRATIONS_DIR %s\n", cfg.migrations_dir);
        return -1;
    }
    struct migration *list = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 4, ".sql") != 0) continue;
        int version;
        if (sscanf(e->d_name, "%4d_", &version) != 1) continue;
        list = realloc(list, (size_t)(n + 1) * sizeof *list);
        if (!list) abort();
        list[n].version = version;
        snprintf(list[n].name, sizeof list[n].name, "%.*s", (int)(len - 4), e->d_name);
        snprintf(list[n].path, sizeof list[n].path, "%s/%s", cfg.migrations_dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(list, (size_t)n, sizeof *list, cmp_migration);
    for (int i = 1; i < n; i++) {
        if (list[i].version == list[i - 1].version) {
            fprintf(stderr, "migrate: two migrations have version %04d\n", list[i].version);
            free(list);
            return -1;
        }
    }
    *out = list;
    return n;
}

static int read_file(const char *path, buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(out, chunk, n);
    fclose(f);
    return 0;
}

static void checksum_hex(const buf *b, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)buf_cstr(b), b->len, NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

static const char SQL_CREATE_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* Returns the checksum recorded for `version`, "" when not applied, NULL on error. */
static int applied_checksum(db_conn *c, int version, char out[65])
{
    db_stmt *st = db_prepare(c, "SELECT checksum FROM schema_migrations WHERE version = ?");
    if (!st) return -1;
    db_bind_int64(st, 0, version);
    if (db_exec(st) < 0) return -1;
    out[0] = '\0';
    if (db_fetch(st) == 1) snprintf(out, 65, "%s", db_col_text(st, 0, NULL));
    db_reset(st);
    return 0;
}

static int with_lock(db_conn *c, bool take)
{
    db_stmt *st = db_prepare(c, take ? "SELECT GET_LOCK('shoease_migrate', 60)" : "SELECT RELEASE_LOCK('shoease_migrate')");
    if (!st || db_exec(st) < 0) return -1;
    int ok = db_fetch(st) == 1 && db_col_int64(st, 0) == 1;
    db_reset(st);
    return ok || !take ? 0 : -1;
}

static int run(bool dry_run, bool verbose, int *pending_out)
{
    db_conn *c = db_conn_get();
    if (!c) {
        fprintf(stderr, "migrate: cannot connect to MariaDB: %s\n", db_last_error());
        return -1;
    }
    if (db_exec_simple(c, SQL_CREATE_TABLE) < 0) return -1;
    struct migration *list = NULL;
    int n = list_migrations(&list);
    if (n < 0) return -1;
    if (!dry_run && with_lock(c, true) < 0) {
        fprintf(stderr, "migrate: another migration is running (lock not obtained in 60 s)\n");
        free(list);
        return -1;
    }
    int rc = 0, pending = 0, applied = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        buf sql = BUF_INIT;
        char sum[65], have[65];
        if (read_file(list[i].path, &sql) < 0) {
            fprintf(stderr, "migrate: cannot read %s\n", list[i].path);
            rc = -1;
        } else if (checksum_hex(&sql, sum), applied_checksum(c, list[i].version, have) < 0) {
            fprintf(stderr, "migrate: cannot read schema_migrations: %s\n", db_last_error());
            rc = -1;
        } else if (have[0]) {
            if (strcmp(have, sum) != 0)
                fprintf(stderr, "migrate: warning: %s changed after it was applied (checksum differs); "
                                "write a new migration instead of editing an applied one\n", list[i].name);
        } else if (dry_run) {
            pending++;
            if (verbose) printf("pending: %s\n", list[i].name);
        } else {
            if (verbose) printf("applying %s ... ", list[i].name), fflush(stdout);
            db_stmt *rec;
            if (db_exec_script(c, buf_cstr(&sql), sql.len) < 0) {
                if (verbose) printf("failed\n");
                fprintf(stderr, "migrate: %s failed: %s\n", list[i].name, db_last_error());
                rc = -1;
            } else if (!(rec = db_prepare(c, "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)"))) {
                rc = -1;
            } else {
                db_bind_int64(rec, 0, list[i].version);
                db_bind_text(rec, 1, list[i].name, -1);
                db_bind_text(rec, 2, sum, -1);
                rc = db_exec(rec);
                db_reset(rec);
                applied++;
                if (verbose) printf("ok\n");
            }
        }
        buf_free(&sql);
    }
    if (!dry_run) with_lock(c, false);
    free(list);
    if (pending_out) *pending_out = pending;
    if (rc == 0 && verbose && !dry_run)
        printf(applied ? "migrate: %d migration(s) applied\n" : "migrate: database is up to date%.0d\n", applied);
    return rc;
}

int migrate_run(bool dry_run, bool verbose) { return run(dry_run, verbose, NULL); }

int migrate_pending(void)
{
    int pending = 0;
    return run(true, false, &pending) < 0 ? -1 : pending;
}
