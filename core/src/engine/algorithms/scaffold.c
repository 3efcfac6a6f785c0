/*
 * scaffold.c — SCAFFOLD (Karimireddy, Kale, Mohri, Reddi, Stich and Suresh,
 * ICML 2020), option II control variates (docs/algorithms.md §5.5).
 *
 * Each worker keeps a control variate c_m, and all share c = (1/M) Σ c_m
 * (both 0 at the start).  In round r, from x̄:
 *     each local step:  g ← ∇f_m(x; B rows) − c_m + c ;  x ← x − γ_t · direction(g)/D̂
 *     at t_r:           c_m ← c_m − c + (x̄ − x_m)/(Σ_k γ_k)     (option II; K·γ for constant γ)
 *                       c ← (1/M) Σ_m c_m                        (an average of its own)
 *                       x ← (1/M) Σ_m x_m, then the outer step (η_g, §5.2) and the scaling policy
 * State: c_m, c [dim] (checkpointed), x̄ [dim] (set at each round's start).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "engine/steps.h"

typedef struct scaffold {
    float *c_local; /* c_m */
    float *c;       /* (1/M) Σ c_m */
    float *x_bar;   /* the model the round started from */
    double lr_sum;  /* Σ γ_k over the round's local steps */
} scaffold;

static int scaffold_open(lsgd_run *run, lsgd_error *err)
{
    scaffold *s = calloc(1, sizeof *s);
    run->algorithm_state = s;
    size_t n = run->dim ? run->dim : 1;
    if (!s || !(s->c_local = calloc(n, sizeof *s->c_local)) || !(s->c = calloc(n, sizeof *s->c)) ||
        !(s->x_bar = calloc(n, sizeof *s->x_bar)))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "out of memory for scaffold's control variates (%zu parameters)",
                              run->dim);
    return LSGD_OK;
}

/* g ← g − c_m + c: the drift correction. */
static void correct(lsgd_run *run, float *g)
{
    const scaffold *s = run->algorithm_state;
    for (size_t i = 0; i < run->dim; i++)
        g[i] += s->c[i] - s->c_local[i];
}

static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    return lsgd_run_local_step(run, last_of_round, correct, err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    scaffold *s = run->algorithm_state;
    memcpy(s->x_bar, run->x, run->dim * sizeof *run->x);
    s->lr_sum = 0;
    for (uint64_t t = run->step; t < end; t++)
        s->lr_sum += lsgd_lr_at(&run->lr, t);
    return lsgd_run_each_step(run, end, step, err);
}

/* c_m ← c_m − c + (x̄ − x_m)/Σγ, c ← the mean of the c_m, then the models. */
static int communicate(lsgd_run *run, lsgd_error *err)
{
    scaffold *s = run->algorithm_state;
    double inv = s->lr_sum > 0 ? 1.0 / s->lr_sum : 0;
    for (size_t i = 0; i < run->dim; i++) {
        s->c_local[i] = (float)(s->c_local[i] - s->c[i] + (s->x_bar[i] - run->x[i]) * inv);
        s->c[i] = s->c_local[i];
    }
    if (lsgd_run_average(run, s->c, run->dim, err))
        return err->code;
    return lsgd_run_communicate_models(run, err);
}

static size_t records(const lsgd_run *run, lsgd_record *out)
{
    scaffold *s = run->algorithm_state;
    size_t bytes = run->dim * sizeof(float);
    out[0] = (lsgd_record){"scaffold.c_m", s->c_local, bytes};
    out[1] = (lsgd_record){"scaffold.c", s->c, bytes};
    return 2;
}

static void scaffold_close(lsgd_run *run)
{
    scaffold *s = run->algorithm_state;
    if (!s)
        return;
    free(s->c_local);
    free(s->c);
    free(s->x_bar);
    free(s);
}

const lsgd_algorithm lsgd_algorithm_scaffold = {
    .name = "scaffold",
    .open = scaffold_open,
    .steps = steps,
    .communicate = communicate,
    .records = records,
    .close = scaffold_close,
};
