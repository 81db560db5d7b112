/* seed.c — `shoease seed [--force]`: load the demo catalogue.
 *
 * Safe to run twice: app_meta records the demo catalogue version, and a
 * second run only regenerates image files that are missing. --force wipes
 * the catalogue tables (categories, brands, colours, products, variants,
 * images, reviews — nothing else) and loads the demo again. Everything is
 * inserted in one unit of work (db_tx_run), so a failed seed leaves nothing
 * behind. */
#include "cmd/cmd.h"

#include "cache/page_cache.h"
#include "core/config.h"
#include "db/catalog_repo.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/tx.h"
#include "shop/demo_catalog.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool tty;

static void progress(int done, int total)
{
    if (tty) {
        printf("\rseed: products %d/%d", done, total);
        if (done == total) putchar('\n');
        fflush(stdout);
    } else if (done == total || done % (total / 10 > 0 ? total / 10 : 1) == 0) {
        printf("seed: products %d/%d\n", done, total);
        fflush(stdout);
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int images(bool only_missing)
{
    int written = 0;
    if (demo_images_write(cfg.media_dir, only_missing, &written) < 0) {
        fprintf(stderr, "seed: could not write the product images under %s/products\n", cfg.media_dir);
        return -1;
    }
    if (written || !only_missing)
        printf("seed: wrote %d product image(s) to %s/products\n", written, cfg.media_dir);
    return 0;
}

/* The whole load is one unit of work: a failed seed leaves nothing behind,
 * and a deadlock retry inserts the same rows again (the demo catalogue is
 * generated from a fixed seed). After the commit, every cached page goes
 * (catalog_cache_invalidate: categories, brands, everything changed). */
struct load {
    bool force;
    demo_counts n;
};

static void invalidate_all(void *arg)
{
    (void)arg;
    catalog_cache_invalidate();
}

static int load_tx(db_tx *tx, void *arg)
{
    struct load *l = arg;
    db_conn *c = db_tx_conn(tx);
    if ((l->force && repo_wipe_catalogue(c) < 0) || demo_catalog_insert(c, &l->n, progress) < 0 ||
        repo_meta_set(c, DEMO_CATALOG_META_KEY, DEMO_CATALOG_VERSION) < 0)
        return DB_TX_FAILED;
    db_tx_after_commit(tx, invalidate_all, NULL, NULL);
    return DB_TX_OK;
}

static int run(bool force)
{
    int pending = migrate_pending();
    if (pending != 0) {
        fprintf(stderr, "seed: %s\n", pending < 0 ? "cannot read the schema" : "run `shoease migrate` first");
        return 1;
    }
    db_conn *c = db_conn_get();
    if (!c) {
        fprintf(stderr, "seed: cannot connect to MariaDB: %s\n", db_last_error());
        return 1;
    }
    char version[64] = "";
    int64_t products = 0, variants = 0;
    if (repo_meta_get(c, DEMO_CATALOG_META_KEY, version, sizeof version) < 0 ||
        repo_count_rows(c, "products", &products) < 0 || repo_count_rows(c, "variants", &variants) < 0) {
        fprintf(stderr, "seed: cannot read the catalogue: %s\n", db_last_error());
        return 1;
    }
    if (!force && version[0]) {
        if (strcmp(version, DEMO_CATALOG_VERSION) == 0)
            printf("seed: demo catalogue v%s is already loaded (%lld products, %lld variants); "
                   "use --force to reload it\n", version, (long long)products, (long long)variants);
        else
            printf("seed: demo catalogue v%s is loaded; this build has v%s: run `shoease seed --force` to replace it\n",
                   version, DEMO_CATALOG_VERSION);
        return images(true) < 0 ? 1 : 0;
    }
    if (!force && products > 0) {
        fprintf(stderr, "seed: the catalogue already has %lld products that the demo seed did not load; "
                        "`shoease seed --force` replaces the whole catalogue\n", (long long)products);
        return 1;
    }

    double t0 = now_seconds();
    if (force) printf("seed: --force: removing the catalogue (%lld products)\n", (long long)products);
    struct load l = {.force = force};
    if (db_tx_run(load_tx, &l) != DB_TX_OK) {
        if (tty) putchar('\n');
        fprintf(stderr, "seed: failed, nothing was changed: %s\n", db_last_error());
        return 1;
    }
    double t1 = now_seconds();
    int rc = images(false);
    printf("seed: demo catalogue v%s loaded: %d categories, %d brands, %d colours, %d products, %d variants, "
           "%d images, %d reviews (database %.1f s, total %.1f s)\n",
           DEMO_CATALOG_VERSION, l.n.categories, l.n.brands, l.n.colours, l.n.products, l.n.variants, l.n.images,
           l.n.reviews, t1 - t0, now_seconds() - t0);
    return rc < 0 ? 1 : 0;
}

int cmd_seed(int argc, char **argv)
{
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = true;
        else {
            fprintf(stderr, "usage: shoease seed [--force]\n"
                            "  loads the demo catalogue; --force wipes the catalogue tables and loads it again\n");
            return 2;
        }
    }
    tty = isatty(STDOUT_FILENO);
    int rc = run(force);
    db_conn_close();
    return rc;
}
