/*
 * local_gd.c — Local-GD and Modified Local-GD (docs/algorithms.md §3):
 * full-batch steps on each worker's whole shard.
 *
 *   plain        Local SGD's step on the full shard gradient (§3.1)
 *   regularized  each round, x_m ← argmin f_m(w) + (λ/2)‖w − x̄‖², solved
 *                by gradient descent from x̄ with step γ until ‖∇‖ ≤
 *                tolerance or max_inner steps (§3.2)
 * and a round ends in the blocking average of the models, as local_sgd.
 * State: algorithm.local_gd and, regularized, x̄ [dim].
 */
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "engine/steps.h"
#include "host/config.h"

typedef struct local_gd {
    int regularized;
    float lambda;
    double tolerance;
    uint64_t max_inner;
    float *x_bar; /* regularized: the average the round started from */
} local_gd;

static int check(const json_t *cfg, lsgd_error *err)
{
    if (strcmp(lsgd_setting_string(cfg, "algorithm.local_gd.variant"), "regularized") != 0)
        return LSGD_OK;
    return lsgd_compression_refuse(cfg, "regularized local_gd",
                                   "centres each worker's problem on the exact average x̄ (its "
                                   "implicit bias, docs/algorithms.md §3); expected variant "
                                   "'plain'", err);
}

static int local_gd_open(lsgd_run *run, lsgd_error *err)
{
    local_gd *gd = calloc(1, sizeof *gd);
    run->algorithm_state = gd;
    if (!gd)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    gd->regularized =
        strcmp(lsgd_setting_string(run->cfg, "algorithm.local_gd.variant"), "regularized") == 0;
    gd->lambda = (float)lsgd_setting_number(run->cfg, "algorithm.local_gd.lambda");
    gd->tolerance = lsgd_setting_number(run->cfg, "algorithm.local_gd.tolerance");
    gd->max_inner = lsgd_setting_count(run->cfg, "algorithm.local_gd.max_inner");
    if (gd->regularized && !(gd->x_bar = malloc((run->dim ? run->dim : 1) * sizeof *gd->x_bar)))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "out of memory for local_gd's x̄ (%zu parameters)", run->dim);
    return LSGD_OK;
}

static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    return lsgd_run_local_step(run, last_of_round, NULL, err);
}

/* Gradient descent on f_m(w) + (λ/2)‖w − x̄‖² from x̄ = run->x. */
static int regularized_solve(lsgd_run *run, local_gd *gd, lsgd_error *err)
{
    const float *ref = gd->x_bar;
    float lambda = gd->lambda;
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double tol2 = gd->tolerance * gd->tolerance, loss = 0;
    memcpy(gd->x_bar, run->x, run->dim * sizeof *run->x);
    lsgd_run_next_batch(run);
    for (uint64_t k = 0; k < gd->max_inner; k++) {
        if (lsgd_interrupted)
            return lsgd_run_interrupted(run, err);
        if (lsgd_run_gradient(run, run->x, run->g, &loss, err))
            return err->code;
        double norm2 = 0;
        for (size_t i = 0; i < run->dim; i++) {
            run->g[i] += lambda * (run->x[i] - ref[i]);
            norm2 += (double)run->g[i] * run->g[i];
        }
        if (norm2 <= tol2)
            break;
        for (size_t i = 0; i < run->dim; i++)
            run->x[i] -= lr * run->g[i];
    }
    lsgd_run_note_loss(run, loss);
    lsgd_run_note_gradient_norm(run);
    return LSGD_OK;
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    local_gd *gd = run->algorithm_state;
    if (!gd->regularized)
        return lsgd_run_each_step(run, end, step, err);
    if (regularized_solve(run, gd, err))
        return err->code;
    run->step = end;
    return LSGD_OK;
}

static void local_gd_close(lsgd_run *run)
{
    local_gd *gd = run->algorithm_state;
    if (gd)
        free(gd->x_bar);
    free(gd);
}

const lsgd_algorithm lsgd_algorithm_local_gd = {
    .name = "local_gd",
    .full_batch = 1,
    .check = check,
    .open = local_gd_open,
    .steps = steps,
    .communicate = lsgd_run_communicate_models,
    .close = local_gd_close,
};
