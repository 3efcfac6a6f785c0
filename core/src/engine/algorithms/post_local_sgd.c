/*
 * post_local_sgd.c — Post-local SGD (Lin, Stich, Patel and Jaggi, "Don't
 * Use Large Mini-Batches, Use Local SGD", ICLR 2020; docs/algorithms.md
 * §5.6), as PyTorch's PostLocalSGDOptimizer runs it: for the first
 * `warmup_steps` steps every step is synchronous (the gradient averaged
 * over the workers, as minibatch_sgd), then local steps as local_sgd with
 * the blocking average of the models at the schedule's times.  A round
 * wholly inside the warm-up ends without an average (the models agree).
 * State: warmup_steps, and whether the round took a local step.
 */
#include <stdlib.h>

#include "engine/algorithm.h"
#include "engine/outer.h"
#include "engine/steps.h"
#include "host/config.h"

typedef struct post_local {
    uint64_t warmup_steps;
    int local_round; /* the round now ending took a local step */
} post_local;

static int check(const json_t *cfg, lsgd_error *err)
{
    if (lsgd_compression_refuse(cfg, "post_local_sgd",
                                "averages gradients uncompressed during its warm-up; expected "
                                "local_sgd", err))
        return err->code;
    return lsgd_outer_refuse(cfg, "post_local_sgd",
                             "averages gradients during its warm-up, where an outer optimizer "
                             "has no pseudo-gradient", err);
}

static int post_local_open(lsgd_run *run, lsgd_error *err)
{
    post_local *p = calloc(1, sizeof *p);
    run->algorithm_state = p;
    if (!p)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    p->warmup_steps = lsgd_setting_count(run->cfg, "algorithm.post_local.warmup_steps");
    return LSGD_OK;
}

/* Synchronous before warmup_steps, local from then on. */
static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    const post_local *p = run->algorithm_state;
    if (run->step < p->warmup_steps)
        return lsgd_run_synchronous_step(run, last_of_round, err);
    return lsgd_run_local_step(run, last_of_round, NULL, err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    post_local *p = run->algorithm_state;
    p->local_round = end > p->warmup_steps;
    return lsgd_run_each_step(run, end, step, err);
}

static int communicate(lsgd_run *run, lsgd_error *err)
{
    const post_local *p = run->algorithm_state;
    return p->local_round ? lsgd_run_communicate_models(run, err)
                          : lsgd_run_communicate_nothing(run, err);
}

static void post_local_close(lsgd_run *run)
{
    free(run->algorithm_state);
}

const lsgd_algorithm lsgd_algorithm_post_local_sgd = {
    .name = "post_local_sgd",
    .check = check,
    .open = post_local_open,
    .steps = steps,
    .communicate = communicate,
    .close = post_local_close,
};
