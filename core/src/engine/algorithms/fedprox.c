/*
 * fedprox.c — FedProx (Li et al. 2020, "Federated Optimization in
 * Heterogeneous Networks"; docs/algorithms.md §5.4): each worker's local
 * steps are on the proximal objective
 *
 *     h_m(x) = f_m(x) + (μ/2)‖x − x̄‖²,   x̄ the average the round started from,
 *
 * so the scaling step sees g = ∇f_m(x) + μ(x − x̄); a round ends, as
 * local_sgd's, in the blocking average of the models (and the outer
 * optimizer when there is one).  μ = 0 is local_sgd.
 * State: μ = algorithm.fedprox.mu and x̄ [dim] (set from x at each round's
 * start, so a checkpoint need not keep it).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "engine/steps.h"
#include "host/config.h"

typedef struct fedprox {
    float mu;
    float *x_bar; /* [dim] */
} fedprox;

static int fedprox_open(lsgd_run *run, lsgd_error *err)
{
    fedprox *p = calloc(1, sizeof *p);
    run->algorithm_state = p;
    if (!p || !(p->x_bar = malloc((run->dim ? run->dim : 1) * sizeof *p->x_bar)))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "out of memory for fedprox's x̄ (%zu parameters)", run->dim);
    p->mu = (float)lsgd_setting_number(run->cfg, "algorithm.fedprox.mu");
    return LSGD_OK;
}

/* g ← g + μ(x − x̄): the gradient of the proximal term. */
static void add_proximal_gradient(lsgd_run *run, float *g)
{
    const fedprox *p = run->algorithm_state;
    for (size_t i = 0; i < run->dim; i++)
        g[i] += p->mu * (run->x[i] - p->x_bar[i]);
}

static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    return lsgd_run_local_step(run, last_of_round, add_proximal_gradient, err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    fedprox *p = run->algorithm_state;
    memcpy(p->x_bar, run->x, run->dim * sizeof *run->x);
    return lsgd_run_each_step(run, end, step, err);
}

static void fedprox_close(lsgd_run *run)
{
    fedprox *p = run->algorithm_state;
    if (p)
        free(p->x_bar);
    free(p);
}

const lsgd_algorithm lsgd_algorithm_fedprox = {
    .name = "fedprox",
    .open = fedprox_open,
    .steps = steps,
    .communicate = lsgd_run_communicate_models,
    .close = fedprox_close,
};
