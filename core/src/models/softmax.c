/*
 * softmax.c — multinomial logistic regression over C classes:
 *
 *   forward   z = W a + b                 W [C, d], b [C], a = x_row [d], z [C]
 *             p = softmax(z)              p [C]
 *   loss      L = (1/n) Σ −log p_y + (l2/2)‖W‖²
 *   backward  dz = (p − e_y)/n;  ∇W += dz aᵀ;  ∇b += dz
 *   HVP (R-op along v = (V, v_b)):
 *             R{z} = V a + v_b;  R{p} = p ⊙ (R{z} − pᵀR{z})
 *             H·v: (R{p}/n) aᵀ for W, R{p}/n for b, + l2·V
 */
#include <math.h>
#include <stdlib.h>

#include "models/linear.h"

typedef struct softmax_impl {
    model_base base;
    int bias;
    size_t d, C;
    double *z, *p, *r; /* [C] each: logits, probabilities, R{z} */
} softmax_impl;

/* z[C] = W a + b for one row (W, b from the parameter vector x). */
static void logits_forward(double *z, const softmax_impl *impl, const float *x,
                           const lsgd_dataset *set, size_t row)
{
    const float *b = x + impl->C * impl->d;
    for (size_t c = 0; c < impl->C; c++)
        z[c] = row_dot(set, row, x + c * impl->d) + (impl->bias ? b[c] : 0.0f);
}

/* p[C] = softmax(z); returns −log p_y. */
static double softmax_xent_forward(double *p, const double *z, size_t C, size_t y)
{
    double max = z[0], sum = 0;
    for (size_t c = 1; c < C; c++)
        max = z[c] > max ? z[c] : max;
    for (size_t c = 0; c < C; c++)
        sum += p[c] = exp(z[c] - max);
    for (size_t c = 0; c < C; c++)
        p[c] /= sum;
    return log(sum) - (z[y] - max);
}

/* out_W[c] += coef[c] · a, out_b[c] += coef[c]. */
static void outer_accumulate(float *out, const double *coef, const softmax_impl *impl,
                             const lsgd_dataset *set, size_t row)
{
    for (size_t c = 0; c < impl->C; c++) {
        row_axpy(out + c * impl->d, (float)coef[c], set, row);
        if (impl->bias)
            out[impl->C * impl->d + c] += (float)coef[c];
    }
}

static void zero(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = 0;
}

static int softmax_loss_grad(lsgd_model *model, const float *x, const lsgd_batch *batch,
                             double *loss, float *grad, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    softmax_impl *impl = model->impl;
    const lsgd_dataset *set = batch->set;
    double sum = 0, inv_n = 1.0 / (double)batch->n;
    if (grad)
        zero(grad, model->dim);
    for (size_t i = 0; i < batch->n; i++) {
        size_t row = batch->rows[i], y = (size_t)set->y[row];
        logits_forward(impl->z, impl, x, set, row);
        sum += softmax_xent_forward(impl->p, impl->z, impl->C, y);
        if (!grad)
            continue;
        for (size_t c = 0; c < impl->C; c++) /* dz = (p − e_y)/n */
            impl->r[c] = (impl->p[c] - (c == y)) * inv_n;
        outer_accumulate(grad, impl->r, impl, set, row);
    }
    *loss = sum * inv_n;
    model_l2_loss_grad(&impl->base, x, loss, grad);
    return LSGD_OK;
}

static int softmax_hvp(lsgd_model *model, const float *x, const lsgd_batch *batch,
                       const float *v, float *out, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    softmax_impl *impl = model->impl;
    const lsgd_dataset *set = batch->set;
    double inv_n = 1.0 / (double)batch->n;
    zero(out, model->dim);
    for (size_t i = 0; i < batch->n; i++) {
        size_t row = batch->rows[i];
        logits_forward(impl->z, impl, x, set, row);
        softmax_xent_forward(impl->p, impl->z, impl->C, (size_t)set->y[row]);
        logits_forward(impl->r, impl, v, set, row); /* R{z} */
        double pr = 0;
        for (size_t c = 0; c < impl->C; c++)
            pr += impl->p[c] * impl->r[c];
        for (size_t c = 0; c < impl->C; c++) /* R{p}/n */
            impl->r[c] = impl->p[c] * (impl->r[c] - pr) * inv_n;
        outer_accumulate(out, impl->r, impl, set, row);
    }
    model_l2_hvp(&impl->base, v, out);
    return LSGD_OK;
}

static int softmax_evaluate(lsgd_model *model, const float *x, const lsgd_batch *batch,
                            double *loss, double *accuracy, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    softmax_impl *impl = model->impl;
    const lsgd_dataset *set = batch->set;
    double sum = 0;
    size_t correct = 0;
    for (size_t i = 0; i < batch->n; i++) {
        size_t row = batch->rows[i], y = (size_t)set->y[row], best = 0;
        logits_forward(impl->z, impl, x, set, row);
        sum += softmax_xent_forward(impl->p, impl->z, impl->C, y);
        for (size_t c = 1; c < impl->C; c++)
            best = impl->z[c] > impl->z[best] ? c : best;
        correct += best == y;
    }
    *loss = sum / (double)batch->n;
    model_l2_loss_grad(&impl->base, x, loss, NULL);
    *accuracy = (double)correct / (double)batch->n;
    return LSGD_OK;
}

static void softmax_destroy(lsgd_model *model)
{
    softmax_impl *impl = model->impl;
    model_base_free(&impl->base);
    free(impl->z);
    free(impl);
    model->impl = NULL;
}

static const lsgd_model_ops softmax_ops = {
    .type = "softmax",
    .loss_grad = softmax_loss_grad,
    .hvp = softmax_hvp,
    .evaluate = softmax_evaluate,
    .init = model_init_params,
    .describe = model_describe,
    .destroy = softmax_destroy,
};

int lsgd_softmax_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                        lsgd_error *err)
{
    if (train->classes < 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.type: softmax needs class labels but %s has regression "
                              "targets; expected least_squares for it",
                              train->source);
    softmax_impl *impl = calloc(1, sizeof *impl);
    size_t C = (size_t)train->classes;
    double *scratch = malloc(3 * C * sizeof *scratch);
    if (!impl || !scratch) {
        free(impl);
        free(scratch);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model softmax: out of memory");
    }
    impl->z = scratch, impl->p = scratch + C, impl->r = scratch + 2 * C;
    impl->d = train->d;
    impl->C = C;
    impl->bias = model_bias_option(cfg);
    impl->base.l2 = model_l2_option(cfg);
    impl->base.input = train->d;
    impl->base.classes = train->classes;
    snprintf(impl->base.init.type, sizeof impl->base.init.type, "zeros");
    impl->base.sized_by = "data.train";
    size_t dim = model_add_tensor(&impl->base, "weight", C, train->d, 0, 0);
    if (impl->bias)
        dim = model_add_tensor(&impl->base, "bias", C, 0, 1, dim);
    model->ops = &softmax_ops;
    model->impl = impl;
    model->dim = dim;
    return LSGD_OK;
}
