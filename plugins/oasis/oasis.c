/*
 * oasis.c — OASIS (Jahani et al., "Doubly adaptive scaled algorithm for
 * machine learning using second-order information", ICLR 2022) as an lsgd
 * scaling plugin, Algorithm 1 of the paper (docs/algorithms.md §1.2.5):
 *
 *   H = z ⊙ (∇²f · z)              statistic, z Rademacher (±1), through the
 *                                  host's HVP oracle and seeded random stream
 *   D₀ = mean of warmup_samples H at x₀                  init (warm start)
 *   D ← β D + (1−β) H              refresh; D keeps its sign, as in the paper
 *   D̂ = max(|D|, α)                the step's preconditioner: |·| and the
 *                                  truncation α only here
 *   m ← μ m + (1−μ) g;  x ← x − η m / D̂                step (m = g when μ = 0)
 *
 * The first step uses D₀ itself: a refresh before any step (clock->step 0)
 * is at the very point where D₀ was estimated, so it leaves D as it is.
 *
 * η is the host's γ_t, or with adaptive_lr the paper's step size (step t of
 * the clock is the paper's k = t − 1; θ₀ = +∞):
 *   η₀ = γ;  η_k = min{ √(1+θ_{k−1}) η_{k−1},
 *                       ‖x_k − x_{k−1}‖_D̂ / (2 ‖g_k − g_{k−1}‖*_D̂) },  θ_k = η_k/η_{k−1}
 * with ‖u‖²_D̂ = Σ D̂ u², ‖u‖*²_D̂ = Σ u²/D̂, D̂ = D̂_k, and g_{k−1} the
 * gradient the previous step was given (state x_prev, g_prev; η_{k−1} and
 * θ_{k−1} at coordinate 0 of the arrays eta and theta).
 *
 * z_i = +1 when bit (i mod 64) of the ⌊i/64⌋-th random word is set, else −1:
 * one 64-bit draw per 64 coordinates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lsgd/scaling.h"

enum { D, M, X_PREV, G_PREV, ETA, THETA, N_ARRAYS }; /* the state arrays, each [dim] */

typedef struct oasis {
    size_t dim;
    double beta, alpha, momentum;
    long warmup_samples;
    int adaptive_lr;
    size_t count;                   /* state arrays in use */
    size_t at[N_ARRAYS];            /* where each array sits in `state` */
    const char *names[N_ARRAYS];
} oasis;

/* Arrays in use: d, then m with momentum, then the adaptive step's. */
static void oasis_layout(oasis *o)
{
    static const char *const name[N_ARRAYS] = {"d", "m", "x_prev", "g_prev", "eta", "theta"};
    for (int a = 0; a < N_ARRAYS; a++) {
        int used = a == D || (a == M && o->momentum > 0.0) || (a > M && o->adaptive_lr);
        if (used) {
            o->at[a] = o->count;
            o->names[o->count++] = name[a];
        }
    }
}

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
        .adaptive_lr = lsgd_param_bool(p, "adaptive_lr"),
    };
    oasis_layout(o);
    *self = o;
    return LSGD_OK;
}

static size_t oasis_state_names(const void *self, const char *const **names)
{
    const oasis *o = self;
    *names = o->names;
    return o->count;
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

/* Warm start: D₀ = mean of warmup_samples Hutchinson estimates at x₀, signed. */
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
        d[i] = d[i] / (float)o->warmup_samples;
    free(H);
    return rc;
}

static int oasis_refresh(const void *self, float *const *state, const float *H,
                         const lsgd_scaling_clock *clock, lsgd_error *err)
{
    const oasis *o = self;
    if (clock->step == 0)
        return LSGD_OK; /* still at x₀: the first step uses D₀ (Algorithm 1) */
    float *restrict d = state[D];
    const float beta = (float)o->beta, c = (float)(1.0 - o->beta);
    for (size_t i = 0; i < o->dim; i++)
        d[i] = beta * d[i] + c * H[i];
    return LSGD_OK;
}

/* D̂_i = max(|D_i|, α). */
static inline float oasis_dhat(float d, float alpha)
{
    d = fabsf(d);
    return d > alpha ? d : alpha;
}

/* The adaptive η of step `t` (see the top), remembering x, g, η and θ for
 * the next; lr is η₀ at t = 1.  Sums in double. */
static float oasis_adaptive_lr(const oasis *o, float *const *state, const float *x,
                               const float *g, float lr, uint64_t t)
{
    float *x_prev = state[o->at[X_PREV]], *g_prev = state[o->at[G_PREV]];
    float *eta = state[o->at[ETA]], *theta = state[o->at[THETA]];
    double eta_k = lr;
    if (t > 1) {
        const float *d = state[D], alpha = (float)o->alpha;
        double dx2 = 0, dg2 = 0; /* ‖x_k − x_{k−1}‖²_D̂, (‖g_k − g_{k−1}‖*_D̂)² */
        for (size_t i = 0; i < o->dim; i++) {
            double dh = oasis_dhat(d[i], alpha), dx = (double)x[i] - x_prev[i],
                   dg = (double)g[i] - g_prev[i];
            dx2 += dh * dx * dx;
            dg2 += dg * dg / dh;
        }
        /* A secant of zero length says nothing about curvature: +∞. */
        double secant = dx2 > 0 && dg2 > 0 ? sqrt(dx2) / (2.0 * sqrt(dg2)) : INFINITY;
        double grown = t == 2 ? INFINITY : sqrt(1.0 + theta[0]) * eta[0]; /* θ₀ = +∞ */
        eta_k = fmin(grown, secant);
        if (isinf(eta_k))
            eta_k = eta[0]; /* neither bounds it (k = 1, no secant): keep η */
        theta[0] = (float)(eta_k / eta[0]);
    }
    eta[0] = (float)eta_k;
    memcpy(x_prev, x, o->dim * sizeof *x);
    memcpy(g_prev, g, o->dim * sizeof *g);
    return (float)eta_k;
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
        x[i] = x[i] - lr * (dir / oasis_dhat(d[i], alpha));
    }
}

static int oasis_step(const void *self, float *x, float *const *state, const float *g,
                      float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                      lsgd_error *err)
{
    const oasis *o = self;
    if (o->adaptive_lr)
        lr = oasis_adaptive_lr(o, state, x, g, lr, clock->step);
    if (o->momentum > 0.0)
        oasis_pass(o, x, state[D], state[o->at[M]], g, lr, 1);
    else
        oasis_pass(o, x, state[D], NULL, g, lr, 0);
    return LSGD_OK;
}

/* D̂ = max(|D|, α) grows with |D|: the least and greatest |D| by their bits
 * (a float without its sign bit orders as an unsigned integer; NaN above ∞). */
static void oasis_range(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                        float *dmin, float *dmax)
{
    const oasis *o = self;
    const float alpha = (float)o->alpha, *d = state[D];
    uint32_t least = UINT32_MAX, greatest = 0;
    for (size_t i = 0; i < o->dim; i++) {
        uint32_t bits;
        memcpy(&bits, &d[i], sizeof bits);
        bits &= 0x7fffffffu;
        least = bits < least ? bits : least;
        greatest = bits > greatest ? bits : greatest;
    }
    float lo, hi;
    memcpy(&lo, &least, sizeof lo);
    memcpy(&hi, &greatest, sizeof hi);
    *dmin = !(lo <= alpha) ? lo : alpha; /* a NaN shows */
    *dmax = !(hi <= alpha) ? hi : alpha;
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
