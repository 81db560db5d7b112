/* fuzz_mustache.c — any template text either compiles or is refused with a
 * message; a compiled one renders against a fixed context without crashing. */
#include "template/mustache.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *ctx;
    if (!ctx) ctx = json_pack("{s:s,s:[i,i],s:{s:s},s:b}", "name", "<b>", "list", 1, 2, "obj", "x", "y", "flag", 1);
    char err[256];
    mst_env *env = mst_env_new();
    if (mst_env_add(env, "t", (const char *)data, size, err, sizeof err) == 0) {
        /* a partial named like itself exercises the recursion limit */
        mst_env_add(env, "p", (const char *)data, size, err, sizeof err);
        buf out = BUF_INIT;
        mst_render(env, "t", ctx, &out, err, sizeof err);
        buf_free(&out);
    }
    mst_env_free(env);
    return 0;
}
