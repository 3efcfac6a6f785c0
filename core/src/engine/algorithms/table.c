/*
 * table.c — every local method lsgd runs, by its algorithm.type (the one
 * place that lists them; engine/algorithm.h says what each provides).
 * Adding one: its file beside this one, a line here, its name in the
 * schema's algorithm.type enum (a test checks the two agree).
 */
#include <stdio.h>
#include <string.h>

#include "engine/algorithm.h"
#include "host/config.h"

extern const lsgd_algorithm lsgd_algorithm_local_sgd, lsgd_algorithm_minibatch_sgd,
    lsgd_algorithm_overlap_local_sgd, lsgd_algorithm_local_gd, lsgd_algorithm_fedprox,
    lsgd_algorithm_scaffold, lsgd_algorithm_post_local_sgd, lsgd_algorithm_fedavg;

static const lsgd_algorithm *const ALGORITHMS[] = {
    &lsgd_algorithm_local_sgd,
    &lsgd_algorithm_minibatch_sgd,
    &lsgd_algorithm_overlap_local_sgd,
    &lsgd_algorithm_local_gd,
    &lsgd_algorithm_fedprox,
    &lsgd_algorithm_scaffold,
    &lsgd_algorithm_post_local_sgd,
    &lsgd_algorithm_fedavg,
    NULL,
};

const lsgd_algorithm *const *lsgd_algorithm_all(void)
{
    return ALGORITHMS;
}

const lsgd_algorithm *lsgd_algorithm_find(const char *name)
{
    for (size_t i = 0; name && ALGORITHMS[i]; i++)
        if (strcmp(ALGORITHMS[i]->name, name) == 0)
            return ALGORITHMS[i];
    return NULL;
}

int lsgd_algorithm_of(const lsgd_algorithm **out, const json_t *cfg, lsgd_error *err)
{
    const char *name = lsgd_setting_string(cfg, "algorithm.type");
    *out = lsgd_algorithm_find(name);
    if (*out)
        return LSGD_OK;
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; ALGORITHMS[i] && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 ALGORITHMS[i]->name);
    return lsgd_error_set(err, LSGD_ERR_INPUT, "algorithm.type: '%s'; expected one of %s", name,
                          names);
}

int lsgd_algorithm_check(const json_t *cfg, lsgd_error *err)
{
    const lsgd_algorithm *alg;
    if (lsgd_algorithm_of(&alg, cfg, err))
        return err->code;
    return alg->check ? alg->check(cfg, err) : LSGD_OK;
}
