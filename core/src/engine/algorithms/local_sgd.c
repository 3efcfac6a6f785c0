/*
 * local_sgd.c — Local SGD with scaling (docs/algorithms.md §1): each worker
 * takes scaled minibatch steps on its own model, and a round ends in the
 * blocking average of the models (then the outer optimizer, if any, and
 * the scaling policy).  No state of its own.
 */
#include "engine/algorithm.h"
#include "engine/steps.h"

static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    return lsgd_run_local_step(run, last_of_round, NULL, err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    return lsgd_run_each_step(run, end, step, err);
}

const lsgd_algorithm lsgd_algorithm_local_sgd = {
    .name = "local_sgd",
    .steps = steps,
    .communicate = lsgd_run_communicate_models,
};
