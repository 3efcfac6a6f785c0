/*
 * config.c — fuzzes the config path of `lsgd validate --no-data`: the file
 * parsed (lsgd_config_load: JSON, --set overrides, outer's loose keys, the
 * schema with its defaults, cross-field checks, the plugins' params against
 * their manifests), then the engine's settings (lsgd_worker_preflight
 * without data).
 *
 * Input: the config file's bytes, then NUL-separated --set assignments
 * ("{...}\0algorithm.lr=0.1\0workers=3").
 */
#include <stdlib.h>
#include <string.h>

#include "engine/worker.h"
#include "fuzz.h"
#include "host/config.h"

enum { MAX_SETS = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    const char *path = fuzz_file("config.json", data, n);

    char *sets_text = NULL;
    const char *sets[MAX_SETS];
    size_t n_sets = 0;
    if (n < size) {
        size_t m = size - n - 1;
        sets_text = malloc(m + 1);
        memcpy(sets_text, data + n + 1, m);
        sets_text[m] = '\0';
        for (char *p = sets_text; p <= sets_text + m && n_sets < MAX_SETS; p += strlen(p) + 1)
            sets[n_sets++] = p;
    }

    json_t *cfg = NULL;
    lsgd_error err;
    lsgd_error_clear(&err);
    int rc = lsgd_config_load(&cfg, path, sets, n_sets, &err);
    fuzz_check(rc, &err, "lsgd_config_load");
    if (rc == LSGD_OK) {
        rc = lsgd_worker_preflight(cfg, (int)lsgd_config_number(cfg, "workers", 1), 0, &err);
        fuzz_check(rc, &err, "lsgd_worker_preflight");
    }
    json_decref(cfg);
    free(sets_text);
    return 0;
}
