/*
 * scaling_host.h — a loaded scaling plugin with its host-owned state.
 *
 * The host owns the state arrays (one contiguous allocation of
 * count × dim floats, `state[i]` a view for `names[i]`) and the clock, so it
 * checkpoints, averages or resets them for any plugin: averaging the state
 * across workers is one allreduce of `memory[count * dim]`.
 *
 * The plugin's side (call order, what each op may assume and must do) is
 * the contract in lsgd/scaling.h; these wrappers keep the host's side of
 * it.  Life of a scaling instance in the engine:
 *
 *   lsgd_scaling_open(&s, reg, cfg.scaling, "scaling", dim, provides, &err);
 *   lsgd_scaling_reset(&s, &ctx_at_x0, &err);        // warm start (OASIS, AdaGrad)
 *   each local step, refresh: local
 *       lsgd_scaling_local_step(&s, x, &ctx, lr, &err);
 *   each local step, refresh: sync
 *       lsgd_scaling_step(&s, x, g, lr, 0, &err);
 *   at a communication time, refresh: sync
 *       lsgd_scaling_statistic(&s, &ctx_at_xbar, &err);  // into s.statistic
 *       transport allreduce_mean(s.statistic, s.dim);
 *       lsgd_scaling_refresh(&s, s.statistic, &err);
 *   lsgd_scaling_close(&s);
 *
 * The wrappers advance the clock (step, refresh) and refuse a gradient with
 * a NaN or Inf, naming the coordinate and the step, before the plugin can
 * poison the model.  Every plugin op is called through LSGD_PLUGIN_CALL
 * (plugin_call.h): a non-zero return is a failure whether or not the
 * plugin set a message, and err->code and the message (naming the plugin
 * and the op) are always filled when a wrapper returns non-zero.
 */
#ifndef LSGD_SCALING_HOST_H
#define LSGD_SCALING_HOST_H

#include <jansson.h>

#include "host/loader.h"
#include "lsgd/scaling.h"

typedef struct lsgd_scaling {
    lsgd_loaded loaded;
    const lsgd_scaling_ops *ops;
    void *self;
    json_t *params;            /* validated */
    lsgd_params view;          /* what the plugin read its parameters from */
    const char *name;          /* the plugin's name, for messages */
    char who[384];             /* how messages name it: "scaling plugin 'adam'" */
    size_t dim;
    size_t count;              /* state arrays */
    const char *const *names;  /* [count] */
    float *memory;             /* [count * dim] */
    float **state;             /* [count] views into memory */
    float *statistic;          /* [dim] H of lsgd_scaling_statistic; NULL for STATISTIC_NONE */
    lsgd_scaling_clock clock;
} lsgd_scaling;

/* cfg is {"plugin": name, "params": {...}} at config_key ("scaling", "outer"). */
int lsgd_scaling_open(lsgd_scaling *s, const lsgd_registry *reg, const json_t *cfg,
                      const char *config_key, size_t dim, const char *const *provides,
                      lsgd_error *err);
void lsgd_scaling_close(lsgd_scaling *s);

/* The second half of open, for a descriptor already loaded (tests,
 * benchmarks): check the ops table, create the instance, allocate the state
 * zeroed.  s must be zero-initialised; undo with lsgd_scaling_detach. */
int lsgd_scaling_attach(lsgd_scaling *s, const lsgd_plugin *plugin, const lsgd_params *params,
                        size_t dim, lsgd_error *err);
void lsgd_scaling_detach(lsgd_scaling *s);

/* Zero the state and the clock, then run the plugin's init (warm start).
 * Run it once at x₀ before the first step, and for `scaling.state: reset`.
 * ctx may be NULL when there is no model at hand; plugins whose warm start
 * needs one (OASIS) then refuse with a message. */
int lsgd_scaling_reset(lsgd_scaling *s, const lsgd_scaling_ctx *ctx, lsgd_error *err);

/* s->statistic[dim] ← H at ctx->x (clock unchanged). */
int lsgd_scaling_statistic(lsgd_scaling *s, const lsgd_scaling_ctx *ctx, lsgd_error *err);

/* D ← update(D, H[dim]); counts one refresh. */
int lsgd_scaling_refresh(lsgd_scaling *s, const float *H, lsgd_error *err);

/* x[dim] ← x − lr·D̂⁻¹·direction(g[dim]); counts one step, and one refresh
 * when refresh_from_g (gradient statistics only; ignored otherwise).  A NaN
 * or Inf in g is LSGD_ERR_RUNTIME naming the coordinate and the step, with
 * x, the state and the clock untouched. */
int lsgd_scaling_step(lsgd_scaling *s, float *x, const float *g, float lr, int refresh_from_g,
                      lsgd_error *err);

/* One step of `refresh: local`: D refreshed from this step's own statistic
 * (fused into the step for gradient statistics; statistic + refresh through
 * the HVP for OASIS), then the step with ctx->g. */
int lsgd_scaling_local_step(lsgd_scaling *s, float *x, const lsgd_scaling_ctx *ctx, float lr,
                            lsgd_error *err);

/* min and max over coordinates of D̂ as the next step would use it (1, 1
 * for a plugin without `range`). */
void lsgd_scaling_range(const lsgd_scaling *s, float *dmin, float *dmax);

/* A zeroed array of n floats for long vectors (state, parameters,
 * gradients): from 2 MiB on it is 2 MiB-aligned with transparent huge
 * pages advised, because a step streams 3–5 arrays at once and with 4 KiB
 * pages it is bound by TLB misses, not by memory bandwidth (twice slower
 * for Adam at 2^24 in a VM).  NULL when out of memory. */
float *lsgd_floats_alloc(size_t n);
void lsgd_floats_free(float *p);

/* The first coordinate of g[dim] that is NaN or ±Inf, or dim when none. */
size_t lsgd_first_nonfinite(const float *g, size_t dim);

/* The state as bytes (checkpoints): magic, dim, clock, array names, then
 * memory[count * dim].  load refuses bytes from another plugin
 * configuration (names or dim differ) with LSGD_ERR_INPUT. */
size_t lsgd_scaling_state_size(const lsgd_scaling *s);
int lsgd_scaling_state_save(const lsgd_scaling *s, void *bytes, size_t size, lsgd_error *err);
int lsgd_scaling_state_load(lsgd_scaling *s, const void *bytes, size_t size, lsgd_error *err);

#endif
