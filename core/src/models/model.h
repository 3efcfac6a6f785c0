/*
 * model.h — what is trained: a loss over a flat parameter vector x[dim],
 * with its exact gradient and exact Hessian-vector product.
 *
 * All parameters live in one contiguous float array (llm.c style); a
 * model's tensors are views into it, listed by describe() for model.json.
 * Losses are means over the batch.  Models: quadratic (and the noisy test
 * problems of docs/algorithms.md §2.3), least_squares, logreg, softmax, mlp, cnn.
 */
#ifndef LSGD_MODEL_H
#define LSGD_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "lsgd/errors.h"
#include "util/rng.h"

typedef struct lsgd_batch {
    const lsgd_dataset *set; /* NULL for data-free objectives (noisy quadratics) */
    const uint32_t *rows;    /* [n] indices into set */
    size_t n;
    /* Noise of stochastic objectives (the §2 problems draw z₁, z₂ here);
     * hvp on the same batch reuses the draw of the last loss_grad. */
    lsgd_rng *rng;
} lsgd_batch;

typedef struct lsgd_model lsgd_model;

typedef struct lsgd_model_ops {
    const char *type;
    /* *loss = mean loss over the batch; grad[dim] = its gradient (grad may be NULL). */
    int (*loss_grad)(lsgd_model *model, const float *x, const lsgd_batch *batch,
                     double *loss, float *grad, lsgd_error *err);
    /* out[dim] = ∇²loss(x; batch) · v.  NULL when the model has none. */
    int (*hvp)(lsgd_model *model, const float *x, const lsgd_batch *batch, const float *v,
               float *out, lsgd_error *err);
    /* Mean loss and accuracy (NAN when not classification) over the batch. */
    int (*evaluate)(lsgd_model *model, const float *x, const lsgd_batch *batch,
                    double *loss, double *accuracy, lsgd_error *err);
    /* Initial parameters x₀[dim] (deterministic from rng). */
    void (*init)(const lsgd_model *model, float *x, lsgd_rng *rng);
    /* {"type":…, "dim":…, "tensors":[{"name","shape":[…],"offset"}…]} */
    json_t *(*describe)(const lsgd_model *model);
    void (*destroy)(lsgd_model *model);
} lsgd_model_ops;

struct lsgd_model {
    const lsgd_model_ops *ops;
    size_t dim;
    void *impl; /* the model's own fields and workspace */
};

struct lsgd_registry;

/* Build the model of cfg ("model" key) for a training set (NULL for
 * data-free objectives): a built-in model ("type") or a model plugin
 * ("plugin", resolved in reg; models/model_plugin.c adapts its public ops,
 * lsgd/model.h, to this interface, so the engine calls every model the
 * same way).  Checks dimensions against the set. */
int lsgd_model_open(lsgd_model **out, const json_t *cfg, const lsgd_dataset *train,
                    const struct lsgd_registry *reg, lsgd_error *err);

/* The same for the built-in models alone (no registry needed). */
int lsgd_model_create(lsgd_model **out, const json_t *cfg, const lsgd_dataset *train,
                      lsgd_error *err);

/* Whether the model cfg selects offers capability ("hvp"), known without
 * building it: a built-in type from the table of built-in models, a plugin
 * from its manifest's "provides".  *what ← how messages name the model
 * ("model.type 'cnn'", "model.plugin 'lsq'").  A type or plugin that does
 * not exist counts as providing it (it is refused by name elsewhere). */
int lsgd_model_provides(const json_t *cfg, const struct lsgd_registry *reg,
                        const char *capability, char *what, size_t cap);
void lsgd_model_destroy(lsgd_model *model);

#endif
