/*
 * checkpoint.c — fuzzes a checkpoint file as --resume reads it:
 * lsgd_ckpt_load_bounded (regular file within a bound, magic, version,
 * checksum, records tiling the file), then every record the engine
 * examines and restores (engine/snapshot.c) looked up and copied whole.
 *
 * The harness re-signs the input (its last 8 bytes become the FNV-1a
 * checksum of the rest) so the fuzzer reaches the records behind the
 * checksum, as a hand-edited, re-signed file would; unsigned damage is the
 * checksum test's business.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/checkpoint.h"

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *signed_bytes = malloc(size + 1);
    memcpy(signed_bytes, data, size);
    if (size >= 8) {
        uint64_t h = fnv1a(signed_bytes, size - 8);
        memcpy(signed_bytes + size - 8, &h, 8);
    }
    const char *path = fuzz_file("rank-0.ckpt", signed_bytes, size);
    free(signed_bytes);

    lsgd_ckpt c;
    lsgd_error err;
    lsgd_error_clear(&err);
    int rc = lsgd_ckpt_load_bounded(&c, path, 1 << 20, &err);
    fuzz_check(rc, &err, "lsgd_ckpt_load_bounded");
    if (rc != LSGD_OK)
        return 0;
    static const char *const records[] = {
        "meta", "x", "scaling", "outer", "x_sync", "anchor", "momentum", "post",
        "rng.noise", "rng.scaling", "sampler.order", "sampler.rng", "report", "config"};
    for (size_t i = 0; i < sizeof records / sizeof *records; i++) {
        size_t n = 0;
        const void *p = lsgd_ckpt_find(&c, records[i], &n);
        void *out = malloc(p ? n + 1 : 1); /* copying all of it: ASan checks the range */
        rc = lsgd_ckpt_get(&c, records[i], out, p ? n : 0, &err);
        fuzz_check(rc, &err, "lsgd_ckpt_get");
        free(out);
    }
    lsgd_ckpt_free(&c);
    return 0;
}
