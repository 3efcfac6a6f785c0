/*
 * model_impl.h — what the model files share: the tensor table every model
 * describes its flat parameter vector with, the init rule, L2 on weights,
 * batch checks, and each model's constructor.
 *
 * Every model's impl struct starts with a model_base, so the shared code
 * (init, describe, l2, checks) reads it through model->impl.
 */
#ifndef LSGD_MODEL_IMPL_H
#define LSGD_MODEL_IMPL_H

#include "models/model.h"

enum { MODEL_MAX_TENSORS = 64 };

typedef struct model_tensor {
    char name[32];
    size_t rows, cols; /* cols == 0: a vector of `rows` */
    size_t offset;     /* into the flat parameter vector */
    size_t fan_in, fan_out;
    int is_bias; /* biases: zero at init (except init "value"), no L2 */
} model_tensor;

typedef struct model_init {
    char type[16]; /* zeros normal uniform he xavier value */
    double scale;
    float *value; /* [n_value]: 1 (broadcast) or dim numbers */
    size_t n_value;
} model_init;

typedef struct model_base {
    model_tensor tensors[MODEL_MAX_TENSORS];
    int n_tensors;
    model_init init;
    size_t input; /* features the model reads; 0 for data-free problems */
    int classes;  /* classes it predicts (2 for binary); 0 for regression/none */
    double l2;    /* (l2/2)·‖weights‖² is added to the loss */
    const char *sized_by; /* the config key its size comes from, for messages */
} model_base;

/* Constructors: fill model->ops, dim, impl (a struct starting with
 * model_base, with its tensors and default init type set). */
int lsgd_quadratic_create(lsgd_model *model, const json_t *cfg, lsgd_error *err);
int lsgd_least_squares_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                              lsgd_error *err);
int lsgd_logreg_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                       lsgd_error *err);
int lsgd_softmax_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                        lsgd_error *err);
int lsgd_mlp_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                    lsgd_error *err);
int lsgd_cnn_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                    lsgd_error *err);

/* A model plugin (lsgd/model.h) behind this interface: cfg is
 * {"plugin": NAME, "params": {…}}, resolved in reg (model_plugin.c). */
struct lsgd_registry;
int lsgd_model_plugin_open(lsgd_model **out, const json_t *cfg, const lsgd_dataset *train,
                           const struct lsgd_registry *reg, lsgd_error *err);

/* Append a tensor of rows×cols (cols 0: vector) at the end of the vector;
 * returns the new dimension, SIZE_MAX when it would wrap (a model that
 * large is refused by lsgd_model_create before anything is allocated). */
size_t model_add_tensor(model_base *base, const char *name, size_t rows, size_t cols,
                        int is_bias, size_t offset);

/* ops->init and ops->describe shared by every model. */
void model_init_params(const lsgd_model *model, float *x, lsgd_rng *rng);
json_t *model_describe(const lsgd_model *model);
void model_base_free(model_base *base);

/* The batch is one this model can read: a set with `input` features and,
 * for classifiers, labels below `classes`. */
int model_check_batch(const lsgd_model *model, const lsgd_batch *batch, lsgd_error *err);

/* X[B, d] = rows[B] of set, dense (sparse rows expanded); labels[B] their y. */
void model_gather_rows(float *X, float *labels, const lsgd_dataset *set, const uint32_t *rows,
                       size_t B);

/* L2 on the non-bias tensors: *loss += (l2/2)‖w‖², grad += l2·w (grad may be
 * NULL); and its Hessian term out += l2·v. */
void model_l2_loss_grad(const model_base *base, const float *x, double *loss, float *grad);
void model_l2_hvp(const model_base *base, const float *v, float *out);

/* cfg's "bias" (default true) and "l2" (default 0). */
int model_bias_option(const json_t *cfg);
double model_l2_option(const json_t *cfg);

#endif
