/*
 * cnn.c — a convolutional network with softmax cross-entropy (model.type
 * "cnn"): conv2d, relu, max and average pooling, flatten, dense and
 * residual blocks from model.layers (cnn_build.c), each layer's passes in
 * cnn_layers.c over the functions of layers/.
 *
 *   L = (1/n) Σ_b −log softmax(f(X_b; x))[y_b] + (l2/2) Σ‖W‖²
 *
 * The gradient is backpropagation; the Hessian-vector product Pearlmutter's
 * R-op: a forward pass of the directional derivatives R{·} along v, then
 * the backward pass differentiated along v.  Batches are processed in
 * chunks of CNN_CHUNK samples so full-shard gradients and evaluations need
 * bounded memory.  With no model.init, parameters start as PyTorch's
 * Conv2d/Linear do: weights and biases U(−1/√fan_in, 1/√fan_in).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/cnn.h"
#include "models/layers/layers.h"

/* act, dact, Ract, Rdact of every activation, maxpool's argmax, the conv columns
 * (and those of R{act[in]}, except for a conv reading the data) and their scratch. */
size_t cnn_workspace_floats(const cnn_impl *m)
{
    size_t total = m->scratch_floats;
    for (int a = 0; a <= m->n_nodes; a++)
        total += 4 * CNN_CHUNK * m->size[a];
    for (int k = 0; k < m->n_nodes; k++) {
        if (m->nodes[k].kind == &cnn_maxpool)
            total += CNN_CHUNK * m->size[m->nodes[k].out];
        total += (m->nodes[k].in ? 2 : 1) * CNN_CHUNK * m->nodes[k].col_floats;
    }
    return total;
}

static int workspace(cnn_impl *m)
{
    if (m->work)
        return LSGD_OK;
    float *p = m->work = malloc(cnn_workspace_floats(m) * sizeof *p);
    if (!p)
        return LSGD_ERR_RUNTIME;
    for (int a = 0; a <= m->n_nodes; a++) {
        size_t n = CNN_CHUNK * m->size[a];
        m->act[a] = p, p += n;
        m->dact[a] = p, p += n;
        m->Ract[a] = p, p += n;
        m->Rdact[a] = p, p += n;
    }
    for (int k = 0; k < m->n_nodes; k++) {
        cnn_node *n = &m->nodes[k];
        if (n->kind == &cnn_maxpool) {
            n->argmax = (int32_t *)p; /* int32 and float are both 4 bytes */
            p += CNN_CHUNK * m->size[n->out];
        }
        n->col = p, p += CNN_CHUNK * n->col_floats;
        if (n->in) /* the data has no direction: no R-columns */
            n->Rcol = p, p += CNN_CHUNK * n->col_floats;
    }
    m->scratch = p;
    return LSGD_OK;
}

static cnn_pass pass_of(cnn_impl *m, const float *x, const float *v, size_t B)
{
    return (cnn_pass){x, v, m->act, m->dact, m->Ract, m->Rdact, m->scratch, B};
}

/* Forward through every node; the logits become probabilities; returns Σ −log p_y. */
static double forward(cnn_impl *m, const cnn_pass *p, const float *labels)
{
    for (int k = 0; k < m->n_nodes; k++)
        m->nodes[k].kind->forward(&m->nodes[k], p);
    return softmax_xent_forward(m->act[m->n_nodes], labels, p->B, m->size[m->n_nodes]);
}

/* The gradient buffers backward passes add into, zeroed (the logits' is written, and
 * so is the input gradient of a node that overwrites it: cnn_build.c). */
static void zero_gradients(cnn_impl *m, float **d, size_t B)
{
    for (int a = 1; a < m->n_nodes; a++)
        if (!m->written[a])
            memset(d[a], 0, B * m->size[a] * sizeof(float));
}

/* grad += this chunk's gradient of the loss scaled by `scale` (1/n). */
static void backward(cnn_impl *m, const cnn_pass *p, float *grad, const float *labels,
                     float scale)
{
    zero_gradients(m, m->dact, p->B);
    softmax_xent_backward(m->dact[m->n_nodes], m->act[m->n_nodes], labels, p->B,
                          m->size[m->n_nodes], scale);
    for (int k = m->n_nodes - 1; k >= 0; k--)
        m->nodes[k].kind->backward(&m->nodes[k], p, grad);
}

/* hv += this chunk's H·v: R-forward along v, then the backward pass and its R-op. */
static void backward_r(cnn_impl *m, const cnn_pass *p, float *hv, const float *labels,
                       float scale)
{
    memset(m->Ract[0], 0, p->B * m->size[0] * sizeof(float)); /* the data has no direction */
    for (int k = 0; k < m->n_nodes; k++)
        m->nodes[k].kind->forward_r(&m->nodes[k], p);
    size_t C = m->size[m->n_nodes];
    zero_gradients(m, m->dact, p->B);
    zero_gradients(m, m->Rdact, p->B);
    softmax_xent_backward(m->dact[m->n_nodes], m->act[m->n_nodes], labels, p->B, C, scale);
    softmax_xent_backward_r(m->Rdact[m->n_nodes], m->act[m->n_nodes], m->Ract[m->n_nodes], p->B,
                            C, scale);
    for (int k = m->n_nodes - 1; k >= 0; k--) {
        const cnn_node *n = &m->nodes[k];
        n->kind->backward(n, p, NULL); /* dact[in], which the layer below's R-op reads */
        n->kind->backward_r(n, p, hv);
    }
}

static int prepare(lsgd_model *model, const lsgd_batch *batch, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc == LSGD_OK && workspace(model->impl) != LSGD_OK)
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "model cnn: out of memory for the workspace");
    return rc;
}

/* Σ_b −log p_y over the batch, chunk by chunk, and on the way: with v, out += H·v
 * (out = the HVP); else with out, out += the gradient; with correct, the count
 * of rows classified right.  The loss is scaled by 1/n for the derivatives. */
static double over_chunks(cnn_impl *m, const float *x, const float *v, const lsgd_batch *batch,
                          float *out, size_t *correct)
{
    float labels[CNN_CHUNK];
    float scale = (float)(1.0 / (double)batch->n);
    double sum = 0;
    for (size_t start = 0; start < batch->n; start += CNN_CHUNK) {
        size_t B = batch->n - start < CNN_CHUNK ? batch->n - start : CNN_CHUNK;
        model_gather_rows(m->act[0], labels, batch->set, batch->rows + start, B);
        cnn_pass p = pass_of(m, x, v, B);
        sum += forward(m, &p, labels);
        if (v)
            backward_r(m, &p, out, labels, scale);
        else if (out)
            backward(m, &p, out, labels, scale);
        if (correct)
            *correct += softmax_correct(m->act[m->n_nodes], labels, B, m->size[m->n_nodes]);
    }
    return sum;
}

static int cnn_loss_grad(lsgd_model *model, const float *x, const lsgd_batch *batch,
                         double *loss, float *grad, lsgd_error *err)
{
    int rc = prepare(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    cnn_impl *m = model->impl;
    if (grad)
        memset(grad, 0, model->dim * sizeof *grad);
    *loss = over_chunks(m, x, NULL, batch, grad, NULL) / (double)batch->n;
    model_l2_loss_grad(&m->base, x, loss, grad);
    return LSGD_OK;
}

static int cnn_hvp(lsgd_model *model, const float *x, const lsgd_batch *batch, const float *v,
                   float *out, lsgd_error *err)
{
    int rc = prepare(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    cnn_impl *m = model->impl;
    memset(out, 0, model->dim * sizeof *out);
    over_chunks(m, x, v, batch, out, NULL);
    model_l2_hvp(&m->base, v, out);
    return LSGD_OK;
}

static int cnn_evaluate(lsgd_model *model, const float *x, const lsgd_batch *batch,
                        double *loss, double *accuracy, lsgd_error *err)
{
    int rc = prepare(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    cnn_impl *m = model->impl;
    size_t correct = 0;
    *loss = over_chunks(m, x, NULL, batch, NULL, &correct) / (double)batch->n;
    model_l2_loss_grad(&m->base, x, loss, NULL);
    *accuracy = (double)correct / (double)batch->n;
    return LSGD_OK;
}

/* PyTorch's default for Conv2d and Linear: weight and bias U(−1/√fan_in, 1/√fan_in)
 * (kaiming_uniform_ with a = √5); any model.init overrides it. */
static void cnn_init(const lsgd_model *model, float *x, lsgd_rng *rng)
{
    const cnn_impl *m = model->impl;
    if (!m->torch_init) {
        model_init_params(model, x, rng);
        return;
    }
    for (int k = 0; k < m->base.n_tensors; k++) {
        const model_tensor *t = &m->base.tensors[k];
        /* a bias's fan_in is its weight's, the tensor before it */
        size_t fan_in = t->is_bias ? m->base.tensors[k - 1].fan_in : t->fan_in;
        double bound = 1.0 / sqrt((double)fan_in);
        size_t n = t->rows * (t->cols ? t->cols : 1);
        for (size_t i = 0; i < n; i++)
            x[t->offset + i] = (float)(bound * (2.0 * lsgd_rng_uniform(rng) - 1.0));
    }
}

static void cnn_destroy(lsgd_model *model)
{
    cnn_impl *m = model->impl;
    model_base_free(&m->base);
    free(m->work);
    free(m);
    model->impl = NULL;
}

static const lsgd_model_ops cnn_ops = {
    .type = "cnn",
    .loss_grad = cnn_loss_grad,
    .hvp = cnn_hvp,
    .evaluate = cnn_evaluate,
    .init = cnn_init,
    .describe = model_describe,
    .destroy = cnn_destroy,
};

int lsgd_cnn_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                    lsgd_error *err)
{
    if (train->classes < 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.type: cnn is a classifier but %s has regression targets",
                              train->source);
    cnn_impl *m = calloc(1, sizeof *m);
    if (!m)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model cnn: out of memory");
    model->ops = &cnn_ops;
    model->impl = m;
    m->base.l2 = model_l2_option(cfg);
    m->base.input = train->d;
    m->base.sized_by = "model.layers";
    m->torch_init = json_object_get(cfg, "init") == NULL;
    snprintf(m->base.init.type, sizeof m->base.init.type, "he");
    return cnn_build(m, cfg, train, &model->dim, err);
}
