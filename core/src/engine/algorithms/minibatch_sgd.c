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
    return lsgd_outer_refuse(cfg, "minibatch_sgd",
                             "averages gradients every step, so there is no pseudo-gradient "
                             "for an outer optimizer", err);
}

/* The scaling step on the averaged gradient: fused with the average when
 * the statistic is the gradient itself, after an averaged refresh when it
 * is an HVP. */
static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    lsgd_scaling *s = &run->scaling;
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double loss;
    lsgd_run_next_batch(run);
    if (lsgd_run_gradient(run, run->x, run->g, &loss, err))
        return err->code;
    lsgd_run_note_loss(run, loss);
    if (lsgd_run_average_with_report(run, run->g, err))
        return err->code;
    if (last_of_round)
        lsgd_run_note_gradient_norm(run);
    int rc;
    if (run->set.refresh_sync || s->ops->statistic_kind == LSGD_STATISTIC_NONE) {
        rc = lsgd_scaling_step(s, run->x, run->g, lr, 0, err);
    } else if (s->ops->statistic_kind == LSGD_STATISTIC_GRADIENT) {
        rc = lsgd_scaling_step(s, run->x, run->g, lr, 1, err);
    } else {
        rc = lsgd_scaling_statistic(s, lsgd_run_context(run, run->x, run->g), err);
        if (!rc && lsgd_run_average(run, s->statistic, run->dim, err))
            return err->code;
        if (!rc)
            rc = lsgd_scaling_refresh(s, s->statistic, err);
        if (!rc)
            rc = lsgd_scaling_step(s, run->x, run->g, lr, 0, err);
    }
    return rc ? lsgd_run_step_failed(run, run->g, err) : LSGD_OK;
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    return lsgd_run_each_step(run, end, step, err);
}

/* The models never drift apart. */
static int communicate(lsgd_run *run, lsgd_error *err)
{
    run->round_drift = 0;
    return lsgd_run_scaling_policy(run, err);
}

const lsgd_algorithm lsgd_algorithm_minibatch_sgd = {
    .name = "minibatch_sgd",
    .check = check,
    .steps = steps,
    .communicate = communicate,
};
