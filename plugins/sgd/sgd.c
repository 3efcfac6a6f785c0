/*
 * sgd.c — the identity preconditioner (D̂ = 1) as an lsgd scaling plugin:
 * plain SGD, with optional heavy-ball or Nesterov momentum and L2 weight
 * decay, exactly as torch.optim.SGD (dampening 0).  Also the DiLoCo outer
 * optimizer (docs/algorithms.md §5.2: lr 0.7, momentum 0.9, nesterov).
 *
 *   g ← g + λx;   b ← μ b + g;   d = g + μ b (Nesterov) or b;   x ← x − γ d
 *
 * Without momentum there is no state and the step is x ← x − γg, bitwise.
 * b starts at 0, so the first step has b = g, as PyTorch's clone(grad).
 */
#include <stdlib.h>

#include "lsgd/scaling.h"

typedef struct sgd {
    size_t dim;
    double momentum, weight_decay;
    int nesterov;
} sgd;

static int sgd_create(void **self, const lsgd_params *p, size_t dim, lsgd_error *err)
{
    sgd *s = malloc(sizeof *s);
    if (!s)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "sgd: out of memory");
    *s = (sgd){
        .dim = dim,
        .momentum = lsgd_param_number(p, "momentum"),
        .weight_decay = lsgd_param_number(p, "weight_decay"),
        .nesterov = lsgd_param_bool(p, "nesterov"),
    };
    if (s->nesterov && s->momentum == 0.0) {
        free(s);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "sgd: nesterov = true needs momentum > 0 (momentum is 0)");
    }
    *self = s;
    return LSGD_OK;
}

static size_t sgd_state_names(const void *self, const char *const **names)
{
    static const char *const n[] = {"momentum"};
    *names = n;
    return ((const sgd *)self)->momentum > 0.0 ? 1 : 0;
}

/* One pass over x, g (12 bytes per parameter; 20 with momentum); `heavy`
 * is a constant at each call so each call is a branch-free loop. */
static inline __attribute__((always_inline)) void
sgd_pass(const sgd *s, float *restrict x, float *restrict b, const float *restrict g,
         float lr, const int heavy)
{
    const float mu = (float)s->momentum, wd = (float)s->weight_decay;
    const int nesterov = s->nesterov;
    for (size_t i = 0; i < s->dim; i++) {
        float d = wd != 0.0f ? g[i] + wd * x[i] : g[i];
        if (heavy) {
            b[i] = mu * b[i] + d;
            d = nesterov ? d + mu * b[i] : b[i];
        }
        x[i] = x[i] - lr * d;
    }
}

static int sgd_step(const void *self, float *x, float *const *state, const float *g,
                    float lr, const lsgd_scaling_clock *clock, int refresh_from_g,
                    lsgd_error *err)
{
    const sgd *s = self;
    if (s->momentum > 0.0)
        sgd_pass(s, x, state[0], g, lr, 1);
    else
        sgd_pass(s, x, NULL, g, lr, 0);
    return LSGD_OK;
}

static void sgd_range(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                      float *dmin, float *dmax)
{
    *dmin = *dmax = 1.0f;
}

static const lsgd_scaling_ops sgd_ops = {
    .struct_size = sizeof(lsgd_scaling_ops),
    .statistic_kind = LSGD_STATISTIC_NONE,
    .create = sgd_create,
    .destroy = free,
    .state_names = sgd_state_names,
    .step = sgd_step,
    .range = sgd_range,
};

LSGD_PLUGIN(LSGD_KIND_SCALING, "sgd", "1.0.0", &sgd_ops);
