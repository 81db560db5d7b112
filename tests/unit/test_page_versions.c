/* test_page_versions.c — the page cache's versions without Redis: a page's
 * version from its tags' versions (page_version_of), tag names
 * (page_tag_*), and the worker's map of tag versions with the protocol
 * that keeps it from answering with an old version (cache/tag_versions.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cache/page_cache.h"
#include "cache/tag_versions.h"

static void test_version_of(void **state)
{
    (void)state;
    const char *tags[] = {"global", "p:trail-runner"};
    int64_t v[] = {1700000000000000LL, 1700000000000005LL};
    int64_t a = page_version_of(tags, v, 2);
    assert_true(a >= 0);
    assert_int_equal(a, page_version_of(tags, v, 2));          /* the same inputs, the same version */
    v[1]++;                                                      /* any tag's change makes another one */
    int64_t b = page_version_of(tags, v, 2);
    assert_true(b >= 0 && b != a);
    v[1]--;
    v[0]++;
    assert_true(page_version_of(tags, v, 2) != a);
    v[0]--;
    /* the names count: the same numbers under other tags are another page state */
    const char *other[] = {"global", "p:trail-runnerx"};
    assert_true(page_version_of(other, v, 2) != a);
    /* and so does their boundary ("ab"+"c" is not "a"+"bc") */
    const char *t1[] = {"ab", "c"}, *t2[] = {"a", "bc"};
    int64_t same[] = {7, 7};
    assert_true(page_version_of(t1, same, 2) != page_version_of(t2, same, 2));
    /* a key lost and started again (at the time in µs) never gives an old version */
    int64_t seen[64];
    for (int i = 0; i < 64; i++) {
        int64_t vv[] = {v[0], 1000 + i};
        seen[i] = page_version_of(tags, vv, 2);
        for (int k = 0; k < i; k++) assert_true(seen[k] != seen[i]);
    }
}

static void test_tag_names(void **state)
{
    (void)state;
    char t[PAGE_TAG_MAX];
    assert_true(page_tag_product(t, sizeof t, "trail-runner-42"));
    assert_string_equal(t, "p:trail-runner-42");
    assert_true(page_tag_listing(t, sizeof t, "men-running"));
    assert_string_equal(t, "l:men-running");
    char longest[121];
    memset(longest, 'a', 120);
    longest[120] = '\0';
    assert_true(page_tag_product(t, sizeof t, longest));
    assert_int_equal(strlen(t), 122);
    char too_long[122];
    memset(too_long, 'a', 121);
    too_long[121] = '\0';
    assert_false(page_tag_product(t, sizeof t, too_long));
    assert_string_equal(t, "");
    assert_false(page_tag_listing(t, sizeof t, ""));
    assert_false(page_tag_listing(t, sizeof t, NULL));
    assert_false(page_tag_listing(t, sizeof t, "*all"));       /* never the all-products tag */
    assert_string_equal(PAGE_TAG_ALL_LISTINGS, "l:*all");
}

/* The socket check of the version watch, played by the test. */
static bool quiet_flag;
static bool quiet(void *ctx)
{
    (void)ctx;
    return quiet_flag;
}

static void test_map_learn_and_drop(void **state)
{
    (void)state;
    tag_versions *t = tv_new(100);
    const char *tags[] = {"global", "p:a"};
    int64_t v[2] = {0, 0}, want[2] = {10, 20};
    uint64_t token;
    quiet_flag = true;
    assert_false(tv_get(t, tags, 2, v, &token, quiet, NULL));      /* nothing known yet */
    tv_learn(t, tags, 2, want, token, quiet, NULL);
    assert_int_equal(tv_size(t), 2);
    assert_true(tv_get(t, tags, 2, v, &token, quiet, NULL));
    assert_int_equal(v[0], 10);
    assert_int_equal(v[1], 20);

    /* a message waiting unread: never from memory */
    quiet_flag = false;
    assert_false(tv_get(t, tags, 2, v, &token, quiet, NULL));
    quiet_flag = true;

    /* an invalidation of p:a drops it, and only it */
    const char *names[] = {"p:a"};
    size_t lens[] = {3};
    tv_changing(t);
    tv_changed(t, names, lens, 1, false);
    assert_false(tv_get(t, tags, 2, v, &token, quiet, NULL));
    assert_true(tv_get(t, tags, 1, v, &token, quiet, NULL));       /* global is still known */
    assert_int_equal(v[0], 10);
    const char *pb[] = {"global", "p:b"};
    int64_t vb[] = {10, 30};
    assert_false(tv_get(t, pb, 2, v, &token, quiet, NULL));
    tv_learn(t, pb, 2, vb, token, quiet, NULL);
    assert_true(tv_get(t, pb, 2, v, &token, quiet, NULL));
    assert_int_equal(v[1], 30);

    /* names from a message are counted strings; unknown ones are ignored */
    const char *msg[] = {"p:bXXX", "p:none"};
    size_t mlens[] = {3, 6};
    tv_changing(t);
    tv_changed(t, msg, mlens, 2, false);
    assert_false(tv_get(t, pb, 2, v, &token, quiet, NULL));
    assert_int_equal(tv_size(t), 1);

    /* a flush (or a reconnect) forgets everything */
    tv_changing(t);
    tv_changed(t, NULL, NULL, 0, true);
    assert_int_equal(tv_size(t), 0);
    tv_free(t);
}

/* The races of tag_versions.h, step by step. */
static void test_map_races(void **state)
{
    (void)state;
    tag_versions *t = tv_new(100);
    const char *tags[] = {"p:a"};
    int64_t v[1], old[1] = {5}, fresh[1] = {6};
    uint64_t token, token2;
    quiet_flag = true;

    /* 1. A reader misses and reads Redis (old value); meanwhile a writer
     * bumps p:a and the watch applies the push. The old value must not be
     * learnt. */
    assert_false(tv_get(t, tags, 1, v, &token, quiet, NULL));
    const char *names[] = {"p:a"};
    size_t lens[] = {3};
    tv_changing(t);
    tv_changed(t, names, lens, 1, false);
    tv_learn(t, tags, 1, old, token, quiet, NULL);
    assert_int_equal(tv_size(t), 0);

    /* 2. ... or the watch is applying it right now (between changing and
     * changed): not learnt either, and no reader answers from memory */
    assert_false(tv_get(t, tags, 1, v, &token, quiet, NULL));
    tv_learn(t, tags, 1, fresh, token, quiet, NULL);              /* learnt: nothing happened since */
    assert_true(tv_get(t, tags, 1, v, &token, quiet, NULL));
    tv_changing(t);
    assert_false(tv_get(t, tags, 1, v, &token2, quiet, NULL));    /* odd generation */
    tv_learn(t, tags, 1, old, token2, quiet, NULL);
    tv_learn(t, tags, 1, old, token, quiet, NULL);
    tv_changed(t, names, lens, 1, false);
    assert_false(tv_get(t, tags, 1, v, &token, quiet, NULL));

    /* 3. ... or the push is already on the socket but unread: not learnt */
    quiet_flag = false;
    tv_learn(t, tags, 1, old, token, quiet, NULL);
    quiet_flag = true;
    assert_false(tv_get(t, tags, 1, v, &token, quiet, NULL));

    /* 4. A value in the map that a change went by while a reader looked:
     * the generation moved, the answer does not count. */
    tv_learn(t, tags, 1, fresh, token, quiet, NULL);
    assert_true(tv_get(t, tags, 1, v, &token, quiet, NULL));
    uint64_t before = token;
    tv_changing(t);
    tv_changed(t, NULL, NULL, 0, false);                          /* e.g. a push for some other prefix */
    assert_true(tv_get(t, tags, 1, v, &token, quiet, NULL));      /* still known ... */
    assert_true(token != before);                                  /* ... under a new generation */
    tv_learn(t, tags, 1, old, before, quiet, NULL);               /* a token from before is refused */
    assert_true(tv_get(t, tags, 1, v, &token, quiet, NULL));
    assert_int_equal(v[0], 6);

    /* 5. A full map starts over rather than growing */
    tag_versions *small = tv_new(2);
    const char *three[] = {"a", "b", "c"};
    int64_t vs[] = {1, 2, 3};
    tv_get(small, three, 3, v, &token, quiet, NULL);
    tv_learn(small, three, 3, vs, token, quiet, NULL);
    assert_true(tv_size(small) <= 2);
    tv_free(small);
    tv_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_of),
        cmocka_unit_test(test_tag_names),
        cmocka_unit_test(test_map_learn_and_drop),
        cmocka_unit_test(test_map_races),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
