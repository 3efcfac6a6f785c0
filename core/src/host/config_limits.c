/*
 * config_limits.c — the config keys that size something (processes, steps,
 * rounds, layers), each held to its limit in util/limits.h once the schema
 * has checked its type.  A value beyond its limit would be truncated to a C
 * type (4294967298 workers became 2) or allocate without bound (steps 1e18
 * asked for 10^17 rounds), so it is bad input naming the key and the limit.
 * The data set's own sizes (n, d, features, classes) are held to the same
 * limits where the data is loaded (data/dataset.c, synthetic.c).
 */
#include <stdio.h>
#include <string.h>

#include "host/config.h"
#include "util/limits.h"

typedef struct size_key {
    const char *key; /* dotted; "[]" at the end: every item of the array */
    unsigned long long limit;
} size_key;

static const size_key size_keys[] = {
    {"workers", LSGD_MAX_WORKERS},
    {"algorithm.steps", LSGD_MAX_STEPS},
    {"algorithm.batch_size", LSGD_MAX_SAMPLES},
    {"algorithm.local_gd.max_inner", LSGD_MAX_STEPS},
    {"algorithm.lr_schedule.every", LSGD_MAX_STEPS},
    {"algorithm.lr_schedule.warmup_steps", LSGD_MAX_STEPS},
    {"schedule.period", LSGD_MAX_STEPS},
    {"schedule.rounds", LSGD_MAX_STEPS},
    {"output.eval_every", LSGD_MAX_STEPS},
    {"output.checkpoint_every", LSGD_MAX_STEPS},
    {"model.dim", LSGD_MAX_FEATURES},
    {"model.hidden[]", LSGD_MAX_FEATURES},
    {"data.partition.shards_per_worker", LSGD_MAX_SAMPLES},
};

static int check_one(const json_t *value, const char *key, unsigned long long limit,
                     lsgd_error *err)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0 ||
        (unsigned long long)json_integer_value(value) <= limit)
        return LSGD_OK; /* absent, or the schema has said what is wrong */
    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %lld is above lsgd's limit %llu", key,
                          (long long)json_integer_value(value), limit);
}

int lsgd_config_check_limits(const json_t *cfg, lsgd_error *err)
{
    for (size_t k = 0; k < sizeof size_keys / sizeof *size_keys; k++) {
        char key[128];
        snprintf(key, sizeof key, "%s", size_keys[k].key);
        size_t n = strlen(key);
        int each = n > 2 && strcmp(key + n - 2, "[]") == 0;
        if (each)
            key[n - 2] = '\0';
        const json_t *value = lsgd_config_get(cfg, key);
        size_t i;
        const json_t *item;
        int rc = LSGD_OK;
        if (!each)
            rc = check_one(value, key, size_keys[k].limit, err);
        json_array_foreach(each ? value : NULL, i, item) {
            char at[160];
            snprintf(at, sizeof at, "%s[%zu]", key, i);
            if (rc == LSGD_OK)
                rc = check_one(item, at, size_keys[k].limit, err);
        }
        if (rc != LSGD_OK)
            return rc;
    }
    return LSGD_OK;
}
