/*
 * outer.c — the outer optimizer's step at communication (outer.h).
 */
#include "engine/outer.h"

#include <stdlib.h>
#include <string.h>

#include "engine/steps.h"
#include "host/config.h"

int lsgd_outer_open(lsgd_run *run, lsgd_error *err)
{
    if (!run->set.has_outer)
        return LSGD_OK;
    run->x_prev = malloc((run->dim ? run->dim : 1) * sizeof *run->x_prev);
    if (!run->x_prev)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "out of memory for the outer optimizer (%zu parameters)", run->dim);
    memcpy(run->x_prev, run->x, run->dim * sizeof *run->x);
    return LSGD_OK;
}

/* Δ = x_prev − x̄ fed to the plugin from x_prev with the outer step size. */
int lsgd_outer_step(lsgd_run *run, lsgd_error *err)
{
    for (size_t i = 0; i < run->dim; i++)
        run->g[i] = run->x_prev[i] - run->x[i];
    memcpy(run->x, run->x_prev, run->dim * sizeof *run->x);
    int fused = run->outer.ops->statistic_kind == LSGD_STATISTIC_GRADIENT;
    if (lsgd_scaling_step(&run->outer, run->x, run->g, (float)run->set.outer_lr, fused, err))
        return lsgd_run_failed(run, err);
    memcpy(run->x_prev, run->x, run->dim * sizeof *run->x);
    return LSGD_OK;
}

size_t lsgd_outer_records(const lsgd_run *run, lsgd_record *out)
{
    if (!run->x_prev)
        return 0;
    out[0] = (lsgd_record){"x_sync", run->x_prev, run->dim * sizeof *run->x_prev};
    return 1;
}

void lsgd_outer_close(lsgd_run *run)
{
    free(run->x_prev);
    run->x_prev = NULL;
}

int lsgd_outer_refuse(const json_t *cfg, const char *algorithm, const char *why,
                      lsgd_error *err)
{
    if (!json_is_object(lsgd_config_get(cfg, "outer")))
        return LSGD_OK;
    return lsgd_error_set(err, LSGD_ERR_INPUT, "outer: %s %s", algorithm, why);
}
