/*
 * oasis.c — OASIS (Jahani et al., ICLR 2022) as an lsgd scaling plugin: D
 * is a running mean of Hutchinson's estimate of the Hessian diagonal,
 * truncated below at α (docs/algorithms.md §1.2.5):
 *
 *   H = z ⊙ (∇²f · z)            statistic, z Rademacher (±1), through the
 *                                host's HVP oracle and seeded random stream
 *   D ← |β D + (1−β) H|          refresh
 *   D₀ = |mean of warmup_samples estimates at x₀|        init (warm start)
 *   D̂ = max(D, α);  m ← μ m + (1−μ) g;  x ← x − γ m / D̂  step (m = g when μ = 0)
 *
 * z_i = +1 when bit (i mod 64) of the ⌊i/64⌋-th random word is set, else −1:
 * one 64-bit draw per 64 coordinates.
 */
#include <math.h>
#include <stdlib.h>

#include "lsgd/scaling.h"

typedef struct oasis {
    size_t dim;
    double beta, alpha, momentum;
    long warmup_samples;
} oasis;

enum { D, M }; /* state arrays, each [dim]; m only with momentum */

static int oasis_create(void **self, const lsgd_params *p, size_t dim, lsgd_error *err)
{
    oasis *o = malloc(sizeof *o);
    if (!o)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "oasis: out of memory");
    *o = (oasis){
        .dim = dim,
        .beta = lsgd_param_number(p, "beta"),
        .alpha = lsgd_param_number(p, "alpha"),
        .momentum = lsgd_param_number(p, "momentum"),
        .warmup_samples = (long)lsgd_param_number(p, "warmup_samples"),
    };
    *self = o;
    return LSGD_OK;
}

static size_t oasis_state_names(const void *self, const char *const **names)
{
    static const char *const n[] = {"d", "m"};
    *names = n;
    return ((const oasis *)self)->momentum > 0.0 ? 2 : 1;
}

/* H[dim] = z ⊙ (∇²f(x) z) for a fresh Rademacher z. */
static int oasis_statistic(const void *self, float *H, float *const *state,
                           const lsgd_scaling_ctx *ctx, lsgd_error *err)
{
    if (!ctx || !ctx->hvp)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "oasis: needs the model's Hessian-vector product at x%s",
                              ctx ? "" : " (no model given)");
    float *z = malloc(ctx->dim * sizeof *z); /* [dim] */
    if (!z)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "oasis: out of memory (%zu floats)",
                              ctx->dim);
    uint64_t bits = 0;
    for (size_t i = 0; i < ctx->dim; i++) {
        if (i % 64 == 0)
            bits = ctx->random(ctx->host);
        z[i] = (bits >> (i % 64)) & 1 ? 1.0f : -1.0f;
    }
    int rc = ctx->hvp(ctx->host, z, H, err);
    for (size_t i = 0; rc == LSGD_OK && i < ctx->dim; i++)
        H[i] = z[i] * H[i];
    free(z);
    return rc;
}

/* Warm start: D = |mean of warmup_samples Hutchinson estimates at x₀|. */
static int oasis_init(const void *self, float *const *state, const lsgd_scaling_ctx *ctx,
                      lsgd_error *err)
{
    const oasis *o = self;
    if (o->warmup_samples == 0)
        return LSGD_OK;
    float *H = malloc(o->dim * sizeof *H); /* [dim] */
    if (!H)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "oasis: out of memory");
    float *d = state[D];
    int rc = LSGD_OK;
    for (long k = 0; k < o->warmup_samples && rc == LSGD_OK; k++) {
        rc = oasis_statistic(self, H, state, ctx, err);
        for (size_t i = 0; rc == LSGD_OK && i < o->dim; i++)
            d[i] += H[i];
    }
    for (size_t i = 0; i < o->dim; i++)
        d[i] = fabsf(d[i] / (float)o->warmup_samples);
    free(H);
    return rc;
}

static int oasis_refresh(const void *self, float *const *state, const float *H,
                         const lsgd_scaling_clock *clock, lsgd_error *err)
{
    const oasis *o = self;
    float *restrict d = state[D];
    const float beta = (float)o->beta, c = (float)(1.0 - o->beta);
    for (size_t i = 0; i < o->dim; i++)
        d[i] = fabsf(beta * d[i] + c * H[i]);
    return LSGD_OK;
}

/* One pass over x, g, D (20 bytes per parameter; 28 with momentum).  D is
 * refreshed by statistic + refresh, never from g: refresh_from_g is unused. */
static inline __attribute__((always_inline)) void
oasis_pass(const oasis *o, float *restrict x, const float *restrict d, float *restrict m,
           const float *restrict g, float lr, const int heavy)
{
    const float alpha = (float)o->alpha, mu = (float)o->momentum, c = (float)(1.0 - o->momentum);
    for (size_t i = 0; i < o->dim; i++) {
        float dir = g[i];
        if (heavy)
            dir = m[i] = mu * m[i] + c * g[i];
        x[i] = x[i] - lr * (dir / (d[i] > alpha ? d[i] : alpha));
    }
}

static int oasis_step(const void *self, float *x, float *const *state, const float *g,
                      float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                      lsgd_error *err)
{
    const oasis *o = self;
    if (o->momentum > 0.0)
        oasis_pass(o, x, state[D], state[M], g, lr, 1);
    else
        oasis_pass(o, x, state[D], NULL, g, lr, 0);
    return LSGD_OK;
}

static void oasis_range(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                        float *dmin, float *dmax)
{
    const oasis *o = self;
    const float alpha = (float)o->alpha;
    float lo, hi; /* D̂ = max(D, α) grows with D */
    lsgd_min_max(state[D], o->dim, &lo, &hi);
    *dmin = lo > alpha ? lo : alpha;
    *dmax = hi > alpha ? hi : alpha;
}

static const lsgd_scaling_ops oasis_ops = {
    .struct_size = sizeof(lsgd_scaling_ops),
    .statistic_kind = LSGD_STATISTIC_HVP,
    .create = oasis_create,
    .destroy = free,
    .state_names = oasis_state_names,
    .init = oasis_init,
    .statistic = oasis_statistic,
    .refresh = oasis_refresh,
    .step = oasis_step,
    .range = oasis_range,
};

LSGD_PLUGIN(LSGD_KIND_SCALING, "oasis", "1.0.0", &oasis_ops);
