/*
 * linear.c — the scalar-output linear model shared by least_squares and
 * logreg, over dense or CSR rows:
 *
 *   forward   z_i = wᵀa_i + b                       a_i = x_row(i) [d], z_i scalar
 *   loss      L = (1/n) Σ ℓ(z_i) + (l2/2)‖w‖²
 *   backward  ∇_w L = (1/n) Σ ℓ'(z_i) a_i + l2·w,    ∇_b L = (1/n) Σ ℓ'(z_i)
 *   HVP       H·v = (1/n) Σ ℓ''(z_i) (vᵀa_i + v_b) [a_i; 1] + l2·v_w
 */
#include "models/linear.h"

#include <math.h>
#include <stdlib.h>

int linear_create(lsgd_model *model, const lsgd_model_ops *ops, linear_link link,
                  const json_t *cfg, const lsgd_dataset *train, lsgd_error *err)
{
    linear_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model %s: out of memory", ops->type);
    impl->bias = model_bias_option(cfg);
    impl->link = link;
    impl->base.l2 = model_l2_option(cfg);
    impl->base.input = train->d;
    impl->base.classes = train->classes;
    snprintf(impl->base.init.type, sizeof impl->base.init.type, "zeros");
    impl->base.sized_by = "data.train";
    size_t dim = model_add_tensor(&impl->base, "weight", train->d, 0, 0, 0);
    if (impl->bias)
        dim = model_add_tensor(&impl->base, "bias", 1, 0, 1, dim);
    model->ops = ops;
    model->impl = impl;
    model->dim = dim;
    return LSGD_OK;
}

void linear_destroy(lsgd_model *model)
{
    linear_impl *impl = model->impl;
    model_base_free(&impl->base);
    free(impl);
    model->impl = NULL;
}

static float linear_forward(const linear_impl *impl, const float *x, const lsgd_dataset *set,
                            size_t row)
{
    return row_dot(set, row, x) + (impl->bias ? x[set->d] : 0.0f);
}

int linear_loss_grad(lsgd_model *model, const float *x, const lsgd_batch *batch, double *loss,
                     float *grad, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    const linear_impl *impl = model->impl;
    const lsgd_dataset *set = batch->set;
    double sum = 0, inv_n = 1.0 / (double)batch->n, dz;
    if (grad)
        for (size_t j = 0; j < model->dim; j++)
            grad[j] = 0;
    for (size_t i = 0; i < batch->n; i++) {
        size_t row = batch->rows[i];
        double z = linear_forward(impl, x, set, row);
        sum += impl->link(impl, z, set, row, grad ? &dz : NULL, NULL);
        if (grad) {
            row_axpy(grad, (float)(dz * inv_n), set, row);
            if (impl->bias)
                grad[set->d] += (float)(dz * inv_n);
        }
    }
    *loss = sum * inv_n;
    model_l2_loss_grad(&impl->base, x, loss, grad);
    return LSGD_OK;
}

int linear_hvp(lsgd_model *model, const float *x, const lsgd_batch *batch, const float *v,
               float *out, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    const linear_impl *impl = model->impl;
    const lsgd_dataset *set = batch->set;
    double inv_n = 1.0 / (double)batch->n, d2z;
    for (size_t j = 0; j < model->dim; j++)
        out[j] = 0;
    for (size_t i = 0; i < batch->n; i++) {
        size_t row = batch->rows[i];
        double z = linear_forward(impl, x, set, row);
        impl->link(impl, z, set, row, NULL, &d2z);
        double rz = linear_forward(impl, v, set, row); /* R{z} = vᵀa + v_b */
        float coef = (float)(d2z * rz * inv_n);
        row_axpy(out, coef, set, row);
        if (impl->bias)
            out[set->d] += coef;
    }
    model_l2_hvp(&impl->base, v, out);
    return LSGD_OK;
}

int linear_evaluate(lsgd_model *model, const float *x, const lsgd_batch *batch, double *loss,
                    double *accuracy, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    const linear_impl *impl = model->impl;
    const lsgd_dataset *set = batch->set;
    double sum = 0;
    size_t correct = 0;
    for (size_t i = 0; i < batch->n; i++) {
        size_t row = batch->rows[i];
        double z = linear_forward(impl, x, set, row);
        sum += impl->link(impl, z, set, row, NULL, NULL);
        correct += (z >= 0) == (set->y[row] == 1.0f);
    }
    *loss = sum / (double)batch->n;
    model_l2_loss_grad(&impl->base, x, loss, NULL);
    *accuracy = set->classes == 2 ? (double)correct / (double)batch->n : NAN;
    return LSGD_OK;
}
