/*
 * minibatch_sgd.c — the synchronous baseline (docs/algorithms.md §5.1):
 * the minibatch gradient is averaged over the workers before every step
 * (the round's report riding on it), so all models stay equal; an HVP
 * statistic is averaged too.  A round ends with the scaling policy only.
 */
#include "engine/algorithm.h"
#include "engine/outer.h"
#include "engine/steps.h"

static int check(const json_t *cfg, lsgd_error *err)
{
    if (lsgd_compression_refuse(cfg, "minibatch_sgd",
                                "averages gradients every step: there is no change of the "
                                "models to compress; expected local_sgd", err))
        return err->code;
    return lsgd_outer_refuse(cfg, "minibatch_sgd",
                             "averages gradients every step, so there is no pseudo-gradient "
                             "for an outer optimizer", err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    return lsgd_run_each_step(run, end, lsgd_run_synchronous_step, err);
}

const lsgd_algorithm lsgd_algorithm_minibatch_sgd = {
    .name = "minibatch_sgd",
    .check = check,
    .steps = steps,
    .communicate = lsgd_run_communicate_nothing,
};
