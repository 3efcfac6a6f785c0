/*
 * adam.c — Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019) as
 * an lsgd scaling plugin: the preconditioner D̂ = √(v/(1−β₂ʳ)) + ε of
 * docs/algorithms.md §1.2.2, applied to the bias-corrected momentum m/(1−β₁ᵗ).
 *
 *   H = g⊙g                  statistic (g + λx in place of g with L2 decay)
 *   v ← β₂ v + (1−β₂) H      refresh   (AMSGrad: v_max ← max(v_max, v))
 *   m ← β₁ m + (1−β₁) g      step: x ← x·(1−γλ) − γ/(1−β₁ᵗ) · m / D̂
 *
 * t = clock->step, r = clock->refresh (equal when D is refreshed every
 * step), so with one worker and `refresh: local` this is torch.optim.Adam /
 * AdamW step for step, in the same float32 operation order.  Without
 * bias_correction both factors are 1 and v starts at initial_accumulator:
 * FedAdam's server step (Reddi et al. 2021), x ← x − γ m / (√v + τ), ε = τ.
 *
 * Copy this file to write your own preconditioner: the state is the named
 * arrays of adam_state_names (owned by the host), `self` only the
 * parameters and the length.
 */
#include <math.h>
#include <stdlib.h>

#include "lsgd/scaling.h"

typedef struct adam {
    size_t dim;
    double beta1, beta2, eps, weight_decay, initial_accumulator;
    int decoupled, amsgrad, bias_correction;
} adam;

enum { M, V, V_MAX }; /* the state arrays, each [dim] */

static int adam_create(void **self, const lsgd_params *p, size_t dim, lsgd_error *err)
{
    adam *a = malloc(sizeof *a);
    if (!a)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "adam: out of memory");
    *a = (adam){
        .dim = dim,
        .beta1 = lsgd_param_number(p, "beta1"),
        .beta2 = lsgd_param_number(p, "beta2"),
        .eps = lsgd_param_number(p, "eps"),
        .weight_decay = lsgd_param_number(p, "weight_decay"),
        .decoupled = lsgd_param_bool(p, "decoupled"),
        .amsgrad = lsgd_param_bool(p, "amsgrad"),
        .bias_correction = lsgd_param_bool(p, "bias_correction"),
        .initial_accumulator = lsgd_param_number(p, "initial_accumulator"),
    };
    *self = a;
    return LSGD_OK;
}

static size_t adam_state_names(const void *self, const char *const **names)
{
    static const char *const n[] = {"m", "v", "v_max"};
    *names = n;
    return ((const adam *)self)->amsgrad ? 3 : 2;
}

/* λ of L2 weight decay (g ← g + λx); 0 for decoupled decay (AdamW). */
static float adam_l2(const adam *a)
{
    return a->decoupled ? 0.0f : (float)a->weight_decay;
}

/* √(1−β₂ʳ); 1 before the first refresh so that D̂ stays finite, and
 * without bias correction. */
static float adam_bc2_sqrt(const adam *a, const lsgd_scaling_clock *clock)
{
    return clock->refresh && a->bias_correction
               ? (float)sqrt(1.0 - pow(a->beta2, (double)clock->refresh)) : 1.0f;
}

/* γ/(1−β₁ᵗ), or γ without bias correction. */
static float adam_step_size(const adam *a, float lr, const lsgd_scaling_clock *clock)
{
    return a->bias_correction ? (float)(lr / (1.0 - pow(a->beta1, (double)clock->step))) : lr;
}

/* What the first refresh (r = 1, v still zero) adds to v: v₀ =
 * initial_accumulator (0, as torch, unless asked).  Not an init op: the
 * engine draws a minibatch for a warm start, which would move the batch
 * stream of every Adam run. */
static float adam_v0(const adam *a, const lsgd_scaling_clock *clock)
{
    return clock->refresh == 1 ? (float)a->initial_accumulator : 0.0f;
}

/* H[dim] = g⊙g at ctx->x. */
static int adam_statistic(const void *self, float *H, float *const *state,
                          const lsgd_scaling_ctx *ctx, lsgd_error *err)
{
    const float l2 = adam_l2(self);
    for (size_t i = 0; i < ctx->dim; i++) {
        float gi = ctx->g[i] + l2 * ctx->x[i];
        H[i] = gi * gi;
    }
    return LSGD_OK;
}

static int adam_refresh(const void *self, float *const *state, const float *H,
                        const lsgd_scaling_clock *clock, lsgd_error *err)
{
    const adam *a = self;
    float *restrict v = state[V], *restrict v_max = a->amsgrad ? state[V_MAX] : NULL;
    const float b2 = (float)a->beta2, c2 = (float)(1.0 - a->beta2), v0 = adam_v0(a, clock);
    for (size_t i = 0; i < a->dim; i++) {
        v[i] = b2 * (v[i] + v0) + c2 * H[i];
        if (v_max)
            v_max[i] = v_max[i] > v[i] ? v_max[i] : v[i];
    }
    return LSGD_OK;
}

/* One pass over x, g, m, v (28 bytes per parameter); `amsgrad` is a
 * constant at each call so each call is a branch-free, vectorized loop. */
static inline __attribute__((always_inline)) void
adam_pass(const adam *a, float *restrict x, float *restrict m, float *restrict v,
          float *restrict v_max, const float *restrict g, float lr,
          const lsgd_scaling_clock *clock, const int refresh, const int amsgrad)
{
    const float b1 = (float)a->beta1, c1 = (float)(1.0 - a->beta1);
    const float b2 = (float)a->beta2, c2 = (float)(1.0 - a->beta2);
    const float step_size = adam_step_size(a, lr, clock);
    const float bc2_sqrt = adam_bc2_sqrt(a, clock), eps = (float)a->eps, l2 = adam_l2(a);
    const float v0 = adam_v0(a, clock);
    const float decay = a->decoupled ? (float)(1.0 - (double)lr * a->weight_decay) : 1.0f;
    for (size_t i = 0; i < a->dim; i++) {
        float gi = g[i] + l2 * x[i];
        float vi = refresh ? b2 * (v[i] + v0) + c2 * gi * gi : v[i];
        v[i] = vi;
        if (amsgrad) /* v_max ≥ v already holds when v did not change */
            vi = v_max[i] = v_max[i] > vi ? v_max[i] : vi;
        m[i] = b1 * m[i] + c1 * gi;
        x[i] = x[i] * decay - step_size * (m[i] / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

/* 8 lanes where the CPU has AVX2 (no FMA: same rounding), 4 elsewhere. */
__attribute__((target_clones("avx2", "default")))
static int adam_step(const void *self, float *x, float *const *state, const float *g,
                     float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                     lsgd_error *err)
{
    const adam *a = self;
    if (a->amsgrad)
        adam_pass(a, x, state[M], state[V], state[V_MAX], g, lr, clock, refresh_from_g, 1);
    else
        adam_pass(a, x, state[M], state[V], NULL, g, lr, clock, refresh_from_g, 0);
    return LSGD_OK;
}

static void adam_range(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                       float *dmin, float *dmax)
{
    const adam *a = self;
    const float bc2_sqrt = adam_bc2_sqrt(a, clock), eps = (float)a->eps;
    float lo, hi; /* D̂ grows with v */
    lsgd_min_max(state[a->amsgrad ? V_MAX : V], a->dim, &lo, &hi);
    *dmin = sqrtf(lo) / bc2_sqrt + eps;
    *dmax = sqrtf(hi) / bc2_sqrt + eps;
}

static const lsgd_scaling_ops adam_ops = {
    .struct_size = sizeof(lsgd_scaling_ops),
    .statistic_kind = LSGD_STATISTIC_GRADIENT,
    .create = adam_create,
    .destroy = free,
    .state_names = adam_state_names,
    .statistic = adam_statistic,
    .refresh = adam_refresh,
    .step = adam_step,
    .range = adam_range,
};

LSGD_PLUGIN(LSGD_KIND_SCALING, "adam", "1.0.0", &adam_ops);
