/* replay.c — runs a fuzz target without libFuzzer, as a regression test:
 * every file in the target's corpus, then a fixed number of deterministic
 * mutations of them. `make fuzz` builds the same targets with clang's
 * libFuzzer for open-ended fuzzing. Usage: replay CORPUS_DIR [ITERATIONS] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS 512
#define MAX_SIZE 65536

static uint64_t rng = 0x5eed5eedULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]); return 2; }
    long iterations = argc > 2 ? atol(argv[2]) : 20000;
    static uint8_t *inputs[MAX_INPUTS];
    static size_t sizes[MAX_INPUTS];
    int n = 0;
    DIR *d = opendir(argv[1]);
    if (!d) { perror(argv[1]); return 1; }
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_INPUTS) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        inputs[n] = malloc(MAX_SIZE);
        sizes[n] = fread(inputs[n], 1, MAX_SIZE, f);
        fclose(f);
        LLVMFuzzerTestOneInput(inputs[n], sizes[n]);
        n++;
    }
    closedir(d);
    if (n == 0) { fprintf(stderr, "%s: empty corpus\n", argv[1]); return 1; }
    uint8_t *buf = malloc(MAX_SIZE);
    static const char tokens[] = "{}#^/&%=+<>!$.\xff\xc3\x80";
    for (long it = 0; it < iterations; it++) {
        int k = (int)(next_rand() % (uint64_t)n);
        size_t len = sizes[k];
        memcpy(buf, inputs[k], len);
        int edits = 1 + (int)(next_rand() % 8);
        for (int m = 0; m < edits; m++) {
            uint64_t r = next_rand();
            size_t pos = len ? (size_t)(r >> 8) % len : 0;
            switch (r % 4) {
            case 0: if (len) buf[pos] = (uint8_t)next_rand(); break;                       /* flip a byte */
            case 1: if (len < MAX_SIZE - 1) { memmove(buf + pos + 1, buf + pos, len - pos); /* insert a token char */
                        buf[pos] = (uint8_t)tokens[next_rand() % (sizeof tokens - 1)]; len++; } break;
            case 2: if (len) { memmove(buf + pos, buf + pos + 1, len - pos - 1); len--; } break; /* delete */
            case 3: if (len && len * 2 < MAX_SIZE) { memcpy(buf + len, buf, len); len *= 2; } break; /* repeat */
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%s: %d corpus inputs and %ld mutations ran clean\n", argv[1], n, iterations);
    for (int i = 0; i < n; i++) free(inputs[i]);
    free(buf);
    return 0;
}
