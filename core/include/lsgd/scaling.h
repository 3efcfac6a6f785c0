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

/* What the host offers when a statistic (or warm start) is taken; valid
 * during that call only. */
typedef struct lsgd_scaling_ctx {
    size_t struct_size;
    size_t dim;
    const float *x; /* [dim] the point where the statistic is taken */
    const float *g; /* [dim] minibatch gradient at x */
    void *host;
    /* out[dim] = ∇²f(x; the same minibatch) · v[dim]; 0 or a failure to
     * return as is.  NULL when the model has no Hessian-vector product (then
     * plugins requiring "hvp" never load).  MAY be called any number of
     * times, from within statistic and init only. */
    int (*hvp)(void *host, const float *v, float *out, lsgd_error *err);
    /* The next 64 bits of this worker's seeded random stream (same seed,
     * same bits), from within statistic and init only.  For runs to
     * repeat, how many calls a plugin makes MUST depend only on its
     * inputs. */
    uint64_t (*random)(void *host);
} lsgd_scaling_ctx;

/* Host-owned counters, checkpointed with the state arrays. */
typedef struct lsgd_scaling_clock {
    uint64_t step;    /* 1-based: the step being taken now (Adam's t for m) */
    uint64_t refresh; /* 1-based: refreshes of D so far, this one included (t for v) */
} lsgd_scaling_clock;

/*
 * The contract of a scaling plugin.  MUST and MAY bind the plugin; "the
 * host" promises the rest.
 *
 * The table: struct_size = sizeof(lsgd_scaling_ops), the required ops set
 * (create, destroy, state_names, step; statistic and refresh unless
 * statistic_kind is NONE).  The host refuses any other table before its
 * first call, naming the missing op, and uses an optional op only when
 * LSGD_HAS_OP (lsgd/plugin.h) says it is there.
 *
 * Life of one instance (one worker holds up to two at once, `scaling` and
 * `outer`, possibly of the same plugin, so nothing may live in globals):
 *
 *     create → state_names → init? → { step | statistic → refresh | range }* → destroy
 *
 *   - If create succeeds, the host calls state_names once, and destroy
 *     exactly once at the end (when *self is not NULL; a plugin with
 *     nothing to free may leave it NULL).  If create fails, the host calls
 *     no other op of that instance, destroy included.
 *   - The host allocates the state arrays (count × dim floats, zeroed) and
 *     zeroes its clock; then, once before the first step of a run (not
 *     when it resumes from a checkpoint) and again after each reset
 *     (`scaling.state: reset`), it zeroes both and calls init, when present.
 *   - step runs once per local step (and once per round for `outer`);
 *     statistic then refresh run at communication times (`refresh: sync`)
 *     or every local step for STATISTIC_HVP (`refresh: local`); range
 *     runs once per round for the metrics.  After init they come in
 *     whatever order the algorithm needs; a plugin MUST NOT assume one.
 *   - Between two calls the host may rewrite the state arrays: average
 *     them across workers, load them from a checkpoint, zero them.  So a
 *     plugin MUST keep everything that changes during training in its
 *     state arrays (with the host's clock), and in self only what create
 *     derived from its parameters.  It MUST NOT keep a pointer to a state
 *     array, x, g, H or ctx past the call that received it.
 *   - The host never calls two ops of one instance at the same time, but
 *     makes no promise about which thread calls: no thread-local state.
 *     Different instances MUST be able to run at the same time.
 *   - Inside any op a plugin MUST NOT print (say it in err), exit, abort,
 *     raise signals, block on I/O or sleep; it MAY allocate, but step runs
 *     every local step and SHOULD NOT.
 *   - x, g, H and the state arrays never overlap one another.
 *   - Every op returning int returns 0 on success and anything else on
 *     failure (lsgd/plugin.h: set a message with lsgd_error_set).  After a
 *     failure the host stops the run and never reads x, H or the state the
 *     failed op may have half written; it leaves its clock as it was.
 */
typedef struct lsgd_scaling_ops {
    size_t struct_size;      /* sizeof(lsgd_scaling_ops) */
    uint32_t statistic_kind; /* enum lsgd_statistic_kind; NONE needs no statistic or refresh */

    /* Required.  Called first, once per instance.  params holds the
     * manifest's parameters, validated with defaults filled (lsgd/plugin.h),
     * and is valid during this call only: copy what you keep.  dim ≥ 1 is
     * the model's length.  MUST set *self (MAY be NULL).  On failure MUST
     * free what it allocated and return non-zero: LSGD_ERR_INPUT for a
     * parameter combination the manifest cannot express. */
    int (*create)(void **self, const lsgd_params *params, size_t dim, lsgd_error *err);

    /* Required.  Called once, last, with the self create set (not NULL).
     * MUST free what create allocated; never fails. */
    void (*destroy)(void *self);

    /* Required.  Called once after create.  Returns how many state arrays
     * (0 or more) and points *names at their names: non-empty, distinct,
     * valid until destroy.  The same parameters MUST give the same names:
     * a checkpoint is loaded only into the names it was saved from.  The
     * host passes the arrays back, in this order, as `state`. */
    size_t (*state_names)(const void *self, const char *const **names);

    /* Optional: warm start at x₀, state and clock freshly zeroed (see the
     * life above).  ctx is NULL when there is no model (the outer
     * optimizer); a plugin that needs one MUST then fail with
     * LSGD_ERR_INPUT.  MAY call ctx->hvp and ctx->random.  OASIS averages
     * Hutchinson estimates here. */
    int (*init)(const void *self, float *const *state, const lsgd_scaling_ctx *ctx,
                lsgd_error *err);

    /* Required unless STATISTIC_NONE: MUST write H[0..dim) at ctx->x (not
     * NULL, ctx->g its minibatch gradient, finite for STATISTIC_GRADIENT).
     * MAY read the state; MUST NOT change it (the host may average H over
     * workers before refresh).  A failed ctx->hvp MUST be
     * returned as the op's failure, its message already in err.  The host
     * refuses an H holding NaN or Inf before refresh sees it. */
    int (*statistic)(const void *self, float *H, float *const *state,
                     const lsgd_scaling_ctx *ctx, lsgd_error *err);

    /* Required unless STATISTIC_NONE: D ← update(D, H[dim]) in the state.
     * clock->refresh counts this refresh (1-based); clock->step is the
     * last step taken.  MUST NOT change H. */
    int (*refresh)(const void *self, float *const *state, const float *H,
                   const lsgd_scaling_clock *clock, lsgd_error *err);

    /* Required: x[dim] ← x − lr · D̂⁻¹ · direction(g[dim]), in the state
     * whatever direction needs (momentum).  g is finite (the host refused
     * it otherwise, x and state untouched).  clock->step counts this step
     * (1-based).  refresh_from_g is 1 only for STATISTIC_GRADIENT: then
     * first refresh D from g itself, fused in the same pass, as refresh
     * would from H = statistic(g); clock->refresh already counts it.
     * MUST NOT change g. */
    int (*step)(const void *self, float *x, float *const *state, const float *g,
                float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                lsgd_error *err);

    /* Optional: *dmin, *dmax ← min and max over coordinates of D̂ as the
     * next step would use it.  MUST write both and change nothing else;
     * cannot fail.  Without it the host reports 1 and 1. */
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
