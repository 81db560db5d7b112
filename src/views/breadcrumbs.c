/* breadcrumbs.c — the trail above a listing or a product. */
#include "views/views.h"

#include <string.h>

/* Home › … › this page: the catalogue's trail with Home first and the
 * current page last (added when the trail does not already end there). */
json_t *view_breadcrumbs(json_t *given, const char *name, const char *path)
{
    json_t *out = json_array();
    json_array_append_new(out, json_pack("{s:s,s:s}", "name", "Home", "url", "/"));
    size_t i;
    json_t *c;
    json_array_foreach(given, i, c) {
        const char *url = json_string_value(json_object_get(c, "url"));
        if (url && strcmp(url, "/") == 0) continue;
        json_array_append(out, c);
    }
    json_t *last = json_array_get(out, json_array_size(out) - 1);
    const char *last_url = json_string_value(json_object_get(last, "url"));
    if (!last_url || !path || strcmp(last_url, path) != 0)
        json_array_append_new(out, json_pack("{s:s,s:s}", "name", name ? name : "", "url", path ? path : ""));
    json_array_foreach(out, i, c) {
        json_t *copy = json_deep_copy(c);
        json_object_set_new(copy, "last", json_boolean(i + 1 == json_array_size(out)));
        json_array_set_new(out, i, copy);
    }
    return out;
}

