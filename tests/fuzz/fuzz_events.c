/* fuzz_events.c — the event writer's batch parser: a backlog element holds
 * request lines whose paths, query strings and visitor ids came from
 * outside. Never crash; every search stored is valid UTF-8 and short, every
 * visitor key is "v:<32 hex>" or "u:<id>", every preference field is safe
 * as a MongoDB field name. */
#include "core/text.h"
#include "events/writer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_visitor(const char *v)
{
    if (!strncmp(v, "v:", 2)) {
        if (!text_is_lower_hex(v + 2, 32)) abort();
    } else if (strncmp(v, "u:", 2)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *s = events_batch_summary((const char *)data, size);
    if (!s) abort();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s, "searches"), i, v) {
        const char *q = json_string_value(json_object_get(v, "q"));
        if (!q || !*q || strlen(q) > 96 || !text_valid_utf8(q, strlen(q))) abort();
        check_visitor(json_string_value(json_object_get(v, "visitor")));
    }
    const char *k;
    json_t *p;
    json_object_foreach(json_object_get(s, "preferences"), k, p) {
        check_visitor(k);
        const char *f;
        json_t *n;
        json_object_foreach(p, f, n) {
            const char *dot = strchr(f, '.');
            if (!dot || strchr(dot + 1, '.') || strchr(f, '$')) abort();
        }
    }
    json_object_foreach(json_object_get(s, "views"), k, p) check_visitor(k);
    json_decref(s);
    return 0;
}
