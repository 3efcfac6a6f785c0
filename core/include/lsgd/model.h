/*
 * lsgd/model.h — model plugins: what is trained, as a loss over one flat
 * parameter vector x[dim] with its gradient and, optionally, its exact
 * Hessian-vector product.
 *
 *     loss(x; batch) = mean over the batch's samples of ℓ(x; sample)
 *
 * All parameters live in one contiguous float array owned by the host; a
 * model's tensors are views into it (describe), so averaging across
 * workers, checkpoints, scaling plugins and model.npy see one vector and
 * never the model's layout.  The host draws the batches, keeps x and the
 * gradient, and hands the model a batch of rows it can read without
 * knowing lsgd's data sets: dense or sparse (CSR) rows, labels and the
 * sample shape ([channels, height, width] for images).
 *
 * A config selects a model plugin with
 *     "model": {"plugin": "NAME", "params": {…}}
 * beside the built-in models ("model": {"type": "least_squares", …}).
 *
 * A model with a Hessian-vector product says so twice: its ops table
 * sets hvp, and its manifest says "provides": ["hvp"].  The host checks
 * that both agree, and refuses a scaling plugin whose manifest requires
 * "hvp" (OASIS) with a model whose manifest does not provide it — from the
 * manifests alone, before any library is loaded (`lsgd validate`).
 */
#ifndef LSGD_MODEL_PLUGIN_H
#define LSGD_MODEL_PLUGIN_H

#include "lsgd/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the host tells create about the training set, so the model can
 * size itself (a linear model's weight has `features` entries). */
typedef struct lsgd_model_data {
    size_t struct_size;
    size_t samples;         /* rows of the training set, ≥ 1 */
    size_t features;        /* d: the length of one row, ≥ 1 */
    size_t sample_shape[3]; /* [C, H, W] with C·H·W = d for images; all 0 for flat rows */
    int classes;            /* 0: regression targets; ≥ 2: class indices 0..classes−1 */
} lsgd_model_data;

/* A minibatch of n rows, valid during the op that receives it.  Rows are
 * dense (dense != NULL) or CSR (dense == NULL): row i's non-zeros are
 * col[k], val[k] for k in [row_ptr[i], row_ptr[i+1]), columns < features. */
typedef struct lsgd_model_batch {
    size_t struct_size;
    size_t n;               /* rows, ≥ 1 */
    size_t features;        /* d, as at create */
    size_t sample_shape[3]; /* as at create */
    int classes;            /* as at create */
    const float *dense;     /* [n × d] row-major, or NULL */
    const size_t *row_ptr;  /* [n + 1] when sparse */
    const uint32_t *col;    /* [row_ptr[n]] */
    const float *val;       /* [row_ptr[n]] */
    const float *labels;    /* [n] class index (as a float) or regression target */
} lsgd_model_batch;

/* One tensor of the model: x[offset .. offset + Π shape) read row-major.
 * rank 0 is a scalar (one float). */
typedef struct lsgd_model_tensor {
    const char *name;
    size_t offset;
    size_t rank; /* ≤ 4 */
    size_t shape[4];
} lsgd_model_tensor;

/*
 * The contract of a model plugin.  MUST and MAY bind the plugin; "the
 * host" promises the rest.
 *
 * The table: struct_size = sizeof(lsgd_model_plugin_ops); create,
 * destroy, describe, init, loss_grad and evaluate set.  hvp is optional:
 * set exactly when the manifest says "provides": ["hvp"].  The host refuses
 * any other table before its first call, naming the missing op, and uses
 * hvp only when LSGD_HAS_OP (lsgd/plugin.h) says it is there.
 *
 * Life of one instance (one per worker process):
 *
 *     create → describe → init → { loss_grad | hvp | evaluate }* → destroy
 *
 *   - If create succeeds, the host calls describe once, init once before
 *     the first step of a run (not when it resumes from a checkpoint: then
 *     x comes from the checkpoint), and destroy exactly once at the end
 *     (when *self is not NULL).  If create fails, the host calls no other
 *     op of that instance.
 *   - x always has dim floats, the dim create returned, and is owned by the
 *     host: it changes between calls (steps, averaging, checkpoints).  A
 *     plugin MUST NOT keep a pointer to x, grad, v, out or a batch past the
 *     call that received it.  It MAY keep workspace in self.
 *   - hvp on a batch comes after a loss_grad on the same batch at the same
 *     x (OASIS's statistic); a plugin MAY reuse what that loss_grad
 *     computed, and MUST give the same result when it does not.
 *   - The host never calls two ops of one instance at the same time, but
 *     makes no promise about which thread calls: no thread-local state.
 *   - Inside any op a plugin MUST NOT print (say it in err), exit, abort,
 *     raise signals or block on I/O (create MAY read files its parameters
 *     name).  loss_grad runs every local step and SHOULD NOT allocate.
 *   - Every op returning int returns 0 on success and anything else on
 *     failure (lsgd/plugin.h: set a message with lsgd_error_set).  After a
 *     failure the host stops the run; it never reads what the failed op
 *     may have half written.
 *   - Results MUST depend only on x, the batch and the parameters, so that
 *     two workers holding the same x agree bitwise and a run repeats.
 */
typedef struct lsgd_model_plugin_ops {
    size_t struct_size; /* sizeof(lsgd_model_plugin_ops) */

    /* Required.  Called first.  params holds the manifest's parameters,
     * validated with defaults filled, valid during this call only.  data
     * describes the training set.  MUST set *self (MAY be NULL) and
     * *dim ≥ 1, the length of the parameter vector.  On failure MUST free
     * what it allocated: LSGD_ERR_INPUT for parameters or data the model
     * cannot take (a file it cannot read, a shape it cannot fit). */
    int (*create)(void **self, const lsgd_params *params, const lsgd_model_data *data,
                  size_t *dim, lsgd_error *err);

    /* Required.  Called once, last.  MUST free what create allocated. */
    void (*destroy)(void *self);

    /* Required.  Returns how many tensors (≥ 1) and points *tensors at
     * them, valid until destroy: names non-empty, each tensor inside
     * [0, dim), no two overlapping.  The host writes them into model.json. */
    size_t (*describe)(const void *self, const lsgd_model_tensor **tensors);

    /* Required.  x[dim] ← the initial parameters, a function of seed alone
     * (the host derives it from the run's seed: same seed, same x₀ on every
     * worker).  MUST write every coordinate; cannot fail. */
    void (*init)(const void *self, float *x, uint64_t seed);

    /* Required.  *loss = mean loss over the batch at x; grad[dim] = its
     * gradient, every coordinate written.  grad MAY be NULL: then the loss
     * only.  x and grad never overlap. */
    int (*loss_grad)(void *self, const float *x, const lsgd_model_batch *batch, double *loss,
                     float *grad, lsgd_error *err);

    /* Required.  Mean loss and accuracy (a fraction in [0, 1], or NAN when
     * the model is not a classifier) over the batch at x. */
    int (*evaluate)(void *self, const float *x, const lsgd_model_batch *batch, double *loss,
                    double *accuracy, lsgd_error *err);

    /* Optional (manifest "provides": ["hvp"]).  out[dim] = ∇²loss(x; batch)·v,
     * every coordinate written; x, v and out never overlap. */
    int (*hvp)(void *self, const float *x, const lsgd_model_batch *batch, const float *v,
               float *out, lsgd_error *err);
} lsgd_model_plugin_ops;

#ifdef __cplusplus
}
#endif
#endif
