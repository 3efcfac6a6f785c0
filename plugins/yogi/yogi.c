/*
 * yogi.c — Yogi (Zaheer, Reddi, Sachan, Kale & Kumar 2018) as an lsgd
 * scaling plugin, and with it FedYogi's server optimizer (Reddi et al.,
 * "Adaptive Federated Optimization", 2021) as `outer` (docs/algorithms.md
 * §1.2.6, §5.2).  Adam's D̂ = √v̂ + ε, but v moves toward g⊙g by a fixed
 * fraction of g⊙g, whichever side it is on:
 *
 *   H = g⊙g                              statistic
 *   v ← v − (1−β₂) H ⊙ sign(v − H)       refresh, v₀ = initial_accumulator
 *   m ← β₁ m + (1−β₁) g                  step: x ← x − γ/(1−β₁ᵗ) · m / (√v/√(1−β₂ʳ) + ε)
 *
 * Without bias_correction both factors are 1: x ← x − γ m / (√v + ε), the
 * papers' step, with ε = τ and v₀ = τ² (their v_{−1} ≥ τ²) by default.
 */
#include <math.h>
#include <stdlib.h>

#include "lsgd/scaling.h"

typedef struct yogi {
    size_t dim;
    double beta1, beta2, eps, initial_accumulator;
    int bias_correction;
} yogi;

enum { M, V }; /* the state arrays, each [dim] */

static int yogi_create(void **self, const lsgd_params *p, size_t dim, lsgd_error *err)
{
    yogi *y = malloc(sizeof *y);
    if (!y)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "yogi: out of memory");
    *y = (yogi){
        .dim = dim,
        .beta1 = lsgd_param_number(p, "beta1"),
        .beta2 = lsgd_param_number(p, "beta2"),
        .eps = lsgd_param_number(p, "eps"),
        .initial_accumulator = lsgd_param_number(p, "initial_accumulator"),
        .bias_correction = lsgd_param_bool(p, "bias_correction"),
    };
    *self = y;
    return LSGD_OK;
}

static size_t yogi_state_names(const void *self, const char *const **names)
{
    static const char *const n[] = {"m", "v"};
    *names = n;
    return 2;
}

/* v₀ = initial_accumulator, at x₀ and after every reset; m₀ = 0. */
static int yogi_init(const void *self, float *const *state, const lsgd_scaling_ctx *ctx,
                     lsgd_error *err)
{
    const yogi *y = self;
    for (size_t i = 0; i < y->dim; i++)
        state[V][i] = (float)y->initial_accumulator;
    return LSGD_OK;
}

/* √(1−β₂ʳ), 1 before the first refresh and without bias correction. */
static float yogi_bc2_sqrt(const yogi *y, const lsgd_scaling_clock *clock)
{
    return clock->refresh && y->bias_correction
               ? (float)sqrt(1.0 - pow(y->beta2, (double)clock->refresh)) : 1.0f;
}

/* v − (1−β₂) h sign(v − h), sign(0) = 0. */
static inline float yogi_v(float v, float h, float c2)
{
    float sign = (float)((v > h) - (v < h));
    return v - c2 * h * sign;
}

/* H[dim] = g⊙g. */
static int yogi_statistic(const void *self, float *H, float *const *state,
                          const lsgd_scaling_ctx *ctx, lsgd_error *err)
{
    for (size_t i = 0; i < ctx->dim; i++)
        H[i] = ctx->g[i] * ctx->g[i];
    return LSGD_OK;
}

static int yogi_refresh(const void *self, float *const *state, const float *H,
                        const lsgd_scaling_clock *clock, lsgd_error *err)
{
    const yogi *y = self;
    float *restrict v = state[V];
    const float c2 = (float)(1.0 - y->beta2);
    for (size_t i = 0; i < y->dim; i++)
        v[i] = yogi_v(v[i], H[i], c2);
    return LSGD_OK;
}

/* One pass over x, g, m, v (28 bytes per parameter). */
static int yogi_step(const void *self, float *x, float *const *state, const float *g,
                     float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                     lsgd_error *err)
{
    const yogi *y = self;
    float *restrict m = state[M], *restrict v = state[V];
    const float b1 = (float)y->beta1, c1 = (float)(1.0 - y->beta1), c2 = (float)(1.0 - y->beta2);
    const float step_size = y->bias_correction
                                ? (float)(lr / (1.0 - pow(y->beta1, (double)clock->step))) : lr;
    const float bc2_sqrt = yogi_bc2_sqrt(y, clock), eps = (float)y->eps;
    for (size_t i = 0; i < y->dim; i++) {
        if (refresh_from_g)
            v[i] = yogi_v(v[i], g[i] * g[i], c2);
        m[i] = b1 * m[i] + c1 * g[i];
        x[i] = x[i] - step_size * (m[i] / (sqrtf(v[i]) / bc2_sqrt + eps));
    }
    return LSGD_OK;
}

static void yogi_range(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                       float *dmin, float *dmax)
{
    const yogi *y = self;
    const float bc2_sqrt = yogi_bc2_sqrt(y, clock), eps = (float)y->eps;
    float lo, hi; /* D̂ grows with v */
    lsgd_min_max(state[V], y->dim, &lo, &hi);
    *dmin = sqrtf(lo) / bc2_sqrt + eps;
    *dmax = sqrtf(hi) / bc2_sqrt + eps;
}

static const lsgd_scaling_ops yogi_ops = {
    .struct_size = sizeof(lsgd_scaling_ops),
    .statistic_kind = LSGD_STATISTIC_GRADIENT,
    .create = yogi_create,
    .destroy = free,
    .state_names = yogi_state_names,
    .init = yogi_init,
    .statistic = yogi_statistic,
    .refresh = yogi_refresh,
    .step = yogi_step,
    .range = yogi_range,
};

LSGD_PLUGIN(LSGD_KIND_SCALING, "yogi", "1.0.0", &yogi_ops);
