/*
 * lsgd/scaling.h — scaling plugins: the diagonal preconditioner D̂ of
 * Local SGD with scaling (docs/algorithms.md §1).
 *
 *     x ← x − γ · D̂⁻¹ ⊙ direction(g)
 *
 * A scaling plugin is stateless apart from its parameters: everything that
 * changes during training lives in named state arrays ("m", "v", "d", …)
 * of the model's length, allocated and zero-filled by the host, plus the
 * host's step/refresh counters.  So the host can checkpoint, average across
 * workers or reset the state without knowing the method (the Optax lesson).
 *
 * The work is split so the engine can choose *when* each part runs
 * (config scaling.refresh = local | sync):
 *   statistic  H from the gradient, or from Hessian-vector products through
 *              the host's HVP oracle and seeded random stream;
 *   refresh    D ← update(D, H), H possibly averaged over workers;
 *   step       x ← x − γ·D̂⁻¹·direction(g) (momentum lives here).
 * For gradient statistics (H = g⊙g and the like) `step` can also refresh
 * from g in the same pass (refresh_from_g), which is what `refresh: local`
 * does every local step: one pass over memory, no H array.
 *
 * The same plugin serves as the outer optimizer (DiLoCo, FedAdam): the
 * engine calls step with x = the last synchronised model and g = the
 * pseudo-gradient x_prev − x̄.
 */
#ifndef LSGD_SCALING_H
#define LSGD_SCALING_H

#include "lsgd/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the statistic H comes from; decides whether `step` may fuse it. */
enum lsgd_statistic_kind {
    LSGD_STATISTIC_NONE = 0,     /* no D to refresh (sgd) */
    LSGD_STATISTIC_GRADIENT = 1, /* H is a function of g alone: step can refresh_from_g */
    LSGD_STATISTIC_HVP = 2       /* H needs the HVP oracle: manifest says requires ["hvp"] */
};

/* What the host offers when a statistic (or warm start) is taken. */
typedef struct lsgd_scaling_ctx {
    size_t struct_size;
    size_t dim;
    const float *x; /* [dim] the point where the statistic is taken */
    const float *g; /* [dim] minibatch gradient at x */
    void *host;
    /* out[dim] = ∇²f(x; the same minibatch) · v[dim].  NULL when the model
     * has no Hessian-vector product (then plugins requiring "hvp" never load). */
    int (*hvp)(void *host, const float *v, float *out, lsgd_error *err);
    /* The next 64 bits of this worker's seeded random stream. */
    uint64_t (*random)(void *host);
} lsgd_scaling_ctx;

/* Host-owned counters, checkpointed with the state arrays. */
typedef struct lsgd_scaling_clock {
    uint64_t step;    /* 1-based: the step being taken now (Adam's t for m) */
    uint64_t refresh; /* 1-based: refreshes of D so far, this one included (t for v) */
} lsgd_scaling_clock;

/*
 * Every op returning int returns 0 on success; any other value is failure
 * (lsgd/plugin.h: set a message with lsgd_error_set).  After a failed
 * step or refresh the host leaves its clock as it was and stops the run.
 */
typedef struct lsgd_scaling_ops {
    size_t struct_size;
    uint32_t statistic_kind; /* enum lsgd_statistic_kind */

    /* Read validated params, remember them in *self.  dim ≥ 1.  On
     * failure free what was allocated: the host does not call destroy. */
    int (*create)(void **self, const lsgd_params *params, size_t dim, lsgd_error *err);
    void (*destroy)(void *self);

    /* The names of this instance's state arrays (each dim floats); returns
     * how many.  The host passes them back, in this order, as `state`. */
    size_t (*state_names)(const void *self, const char *const **names);

    /* Optional (NULL): warm start at x₀, state freshly zeroed.  Also run
     * after a `reset`.  OASIS averages Hutchinson estimates here. */
    int (*init)(const void *self, float *const *state, const lsgd_scaling_ctx *ctx,
                lsgd_error *err);

    /* Optional (NULL for STATISTIC_NONE): H[dim] at ctx->x. */
    int (*statistic)(const void *self, float *H, float *const *state,
                     const lsgd_scaling_ctx *ctx, lsgd_error *err);

    /* Optional (NULL for STATISTIC_NONE): D ← update(D, H). */
    int (*refresh)(const void *self, float *const *state, const float *H,
                   const lsgd_scaling_clock *clock, lsgd_error *err);

    /* x[dim] ← x − lr · D̂⁻¹ · direction(g[dim]).  With refresh_from_g
     * (only for STATISTIC_GRADIENT) first refresh D from g itself, fused. */
    int (*step)(const void *self, float *x, float *const *state, const float *g,
                float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                lsgd_error *err);

    /* Optional: min and max of D̂ over coordinates as the step would use it. */
    void (*range)(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                  float *dmin, float *dmax);
} lsgd_scaling_ops;

/* For `range`: the least and greatest of v[0..n), n ≥ 1, when D̂ is a
 * non-decreasing function of one state array (√v + ε, max(d, α), …): the
 * range of D̂ is then that function at these two values, one cheap pass
 * instead of n square roots.  Floats compare as integers once the bits of
 * negatives are flipped, and integer min/max vectorizes where a float
 * min/max with NaN rules does not (NaN sorts beyond ±Inf, so it shows). */
static inline int32_t lsgd_float_order(float f)
{
    int32_t bits;
    __builtin_memcpy(&bits, &f, sizeof bits);
    return bits ^ (int32_t)((uint32_t)(bits >> 31) >> 1);
}

static inline float lsgd_float_unorder(int32_t key)
{
    int32_t bits = key ^ (int32_t)((uint32_t)(key >> 31) >> 1);
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

static inline void lsgd_min_max(const float *v, size_t n, float *lo, float *hi)
{
    int32_t least = INT32_MAX, greatest = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        int32_t key = lsgd_float_order(v[i]);
        least = key < least ? key : least;
        greatest = key > greatest ? key : greatest;
    }
    *lo = lsgd_float_unorder(least);
    *hi = lsgd_float_unorder(greatest);
}

#ifdef __cplusplus
}
#endif
#endif
