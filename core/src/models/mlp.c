/*
 * mlp.c — a multilayer perceptron with softmax cross-entropy:
 *
 *   H_0 = X                                   X [B, s_0]   (s_0 = features)
 *   A_l = H_{l-1} W_lᵀ + b_l                  W_l [s_l, s_{l-1}], b_l [s_l], A_l [B, s_l]
 *   H_l = act(A_l)           l < L            act = relu | tanh
 *   P   = softmax(A_L)                        P [B, C]     (s_L = C classes)
 *   L   = (1/n) Σ −log P[b, y_b] + (l2/2) Σ‖W_l‖²
 *
 * Parameters: fc1.weight, fc1.bias, fc2.weight, … in one flat vector.
 * Matrix products go through OpenBLAS (cblas_sgemm).  The exact
 * Hessian-vector product is Pearlmutter's R-op: a forward pass of the
 * directional derivatives R{·} along v, then the backward pass
 * differentiated along v (relu'' = 0 almost everywhere).  Batches are
 * processed in chunks of MLP_CHUNK rows so full-shard gradients and
 * evaluations need bounded memory.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers/layers.h"
#include "models/model_impl.h"
#include "util/limits.h"

enum { MLP_MAX_LAYERS = 15, MLP_CHUNK = 512 };

typedef struct mlp_impl {
    model_base base;
    int L;                          /* layers with weights */
    size_t size[MLP_MAX_LAYERS + 1]; /* s_0 .. s_L */
    size_t w_off[MLP_MAX_LAYERS + 1], b_off[MLP_MAX_LAYERS + 1]; /* index 1..L */
    int bias, tanh_act;
    /* workspace for one chunk of B ≤ MLP_CHUNK rows, allocated on first use */
    float *work;
    float *X;                        /* [B, s_0] */
    float *A[MLP_MAX_LAYERS + 1];    /* [B, s_l] pre-activations, l = 1..L */
    float *H[MLP_MAX_LAYERS + 1];    /* [B, s_l] activations (H[0] = X, H[L] = P) */
    float *RA[MLP_MAX_LAYERS + 1];   /* [B, s_l] R{A_l} */
    float *RH[MLP_MAX_LAYERS + 1];   /* [B, s_l] R{H_l} */
    float *dA, *dH, *RdA, *RdH;      /* [B, max s] backward buffers */
    float *dA2, *RdA2;               /* [B, max s] the layer below's */
} mlp_impl;

/* ---- layers (llm.c style: outputs, inputs, sizes) ---- */

/* out[N] = act(inp[N]) */
static void activation_forward(float *out, const float *inp, size_t N, int tanh_act)
{
    if (tanh_act)
        for (size_t i = 0; i < N; i++)
            out[i] = tanhf(inp[i]);
    else
        for (size_t i = 0; i < N; i++)
            out[i] = inp[i] > 0 ? inp[i] : 0.0f;
}

/* dinp[N] = act'(a) ⊙ dout[N], with act' from the activation out[N] (tanh: 1 − h²)
 * or the pre-activation a[N] (relu: a > 0). */
static void activation_backward(float *dinp, const float *dout, const float *a, const float *out,
                                size_t N, int tanh_act)
{
    if (tanh_act)
        for (size_t i = 0; i < N; i++)
            dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
    else
        for (size_t i = 0; i < N; i++) {
            float d = dout[i]; /* read unconditionally: the select vectorizes */
            dinp[i] = a[i] > 0 ? d : 0.0f;
        }
}

/* R-op of activation_backward: Rdinp = act'(a) ⊙ Rdout + act''(a) ⊙ Ra ⊙ dout,
 * act'' = −2h(1 − h²) for tanh, 0 for relu. */
static void activation_backward_r(float *Rdinp, const float *Rdout, const float *dout,
                                  const float *Ra, const float *a, const float *out, size_t N,
                                  int tanh_act)
{
    if (!tanh_act) {
        activation_backward(Rdinp, Rdout, a, out, N, 0);
        return;
    }
    for (size_t i = 0; i < N; i++) {
        float h = out[i], d1 = 1.0f - h * h;
        Rdinp[i] = d1 * Rdout[i] - 2.0f * h * d1 * Ra[i] * dout[i];
    }
}

/* ---- chunks ---- */

/* The widest layer, input included. */
static size_t widest_layer(const mlp_impl *m)
{
    size_t widest = 0;
    for (int l = 0; l <= m->L; l++)
        widest = m->size[l] > widest ? m->size[l] : widest;
    return widest;
}

/* Floats of one chunk's workspace: B·(s_0 + 4·Σ s_l + 6·max s).  Every
 * s_l ≤ LSGD_MAX_FEATURES and L ≤ 15, so this stays below 2^42. */
static size_t workspace_floats(const mlp_impl *m)
{
    size_t B = MLP_CHUNK, total = B * m->size[0];
    for (int l = 1; l <= m->L; l++)
        total += 4 * B * m->size[l];
    return total + 6 * B * widest_layer(m);
}

static int workspace(mlp_impl *m)
{
    if (m->work)
        return LSGD_OK;
    size_t B = MLP_CHUNK, widest = widest_layer(m);
    float *p = m->work = malloc(workspace_floats(m) * sizeof *p);
    if (!p)
        return LSGD_ERR_RUNTIME;
    m->X = m->H[0] = p, p += B * m->size[0];
    m->RH[0] = NULL;
    for (int l = 1; l <= m->L; l++) {
        m->A[l] = p, p += B * m->size[l];
        m->H[l] = p, p += B * m->size[l];
        m->RA[l] = p, p += B * m->size[l];
        m->RH[l] = p, p += B * m->size[l];
    }
    m->dA = p, p += B * widest;
    m->dH = p, p += B * widest;
    m->RdA = p, p += B * widest;
    m->RdH = p, p += B * widest;
    m->dA2 = p, p += B * widest;
    m->RdA2 = p;
    return LSGD_OK;
}

/* The chunk of the batch from row `start` into m->X and labels; returns
 * its row count B ≤ MLP_CHUNK. */
static size_t load_chunk(mlp_impl *m, float *labels, const lsgd_batch *batch, size_t start)
{
    size_t B = batch->n - start < MLP_CHUNK ? batch->n - start : MLP_CHUNK;
    model_gather_rows(m->X, labels, batch->set, batch->rows + start, B);
    return B;
}

/* Forward through the chunk: A_l, H_l, and H_L = P; returns Σ −log p_y. */
static double mlp_forward(mlp_impl *m, const float *x, const float *labels, size_t B)
{
    for (int l = 1; l <= m->L; l++) {
        const float *bias = m->bias ? x + m->b_off[l] : NULL;
        dense_forward(m->A[l], m->H[l - 1], x + m->w_off[l], bias, B, m->size[l - 1],
                       m->size[l], 0);
        if (l < m->L)
            activation_forward(m->H[l], m->A[l], B * m->size[l], m->tanh_act);
    }
    size_t C = m->size[m->L];
    memcpy(m->H[m->L], m->A[m->L], B * C * sizeof(float));
    return softmax_xent_forward(m->H[m->L], labels, B, C);
}

/* grad (+)= this chunk's gradient, the loss scaled by `scale` (1/n). */
static void mlp_backward(mlp_impl *m, float *grad, const float *x, const float *labels,
                         size_t B, float scale, int accumulate)
{
    float *dA = m->dA, *dAbelow = m->dA2;
    softmax_xent_backward(dA, m->H[m->L], labels, B, m->size[m->L], scale);
    for (int l = m->L; l >= 1; l--) {
        size_t C = m->size[l - 1], OC = m->size[l];
        dense_backward_weight(grad + m->w_off[l], m->bias ? grad + m->b_off[l] : NULL, dA,
                               m->H[l - 1], B, C, OC, accumulate);
        if (l == 1)
            break;
        dense_backward_input(m->dH, dA, x + m->w_off[l], B, C, OC, 0);
        activation_backward(dAbelow, m->dH, m->A[l - 1], m->H[l - 1], B * C, m->tanh_act);
        float *t = dA;
        dA = dAbelow, dAbelow = t;
    }
}

/* R-forward along v: RA_l = H_{l-1} V_lᵀ + v_b + RH_{l-1} W_lᵀ, RH_l = act'(A_l) ⊙ RA_l. */
static void mlp_forward_r(mlp_impl *m, const float *x, const float *v, size_t B)
{
    for (int l = 1; l <= m->L; l++) {
        size_t C = m->size[l - 1], OC = m->size[l];
        dense_forward(m->RA[l], m->H[l - 1], v + m->w_off[l], m->bias ? v + m->b_off[l] : NULL,
                       B, C, OC, 0);
        if (l > 1)
            dense_forward(m->RA[l], m->RH[l - 1], x + m->w_off[l], NULL, B, C, OC, 1);
        if (l < m->L)
            activation_backward(m->RH[l], m->RA[l], m->A[l], m->H[l], B * OC, m->tanh_act);
    }
}

/* out (+)= this chunk's H·v: the backward pass differentiated along v. */
static void mlp_backward_r(mlp_impl *m, float *out, const float *x, const float *v,
                           const float *labels, size_t B, float scale, int accumulate)
{
    size_t C_out = m->size[m->L];
    float *dA = m->dA, *RdA = m->RdA, *dAbelow = m->dA2, *RdAbelow = m->RdA2;
    softmax_xent_backward(dA, m->H[m->L], labels, B, C_out, scale);
    softmax_xent_backward_r(RdA, m->H[m->L], m->RA[m->L], B, C_out, scale);
    for (int l = m->L; l >= 1; l--) {
        size_t C = m->size[l - 1], OC = m->size[l];
        float *oW = out + m->w_off[l], *ob = m->bias ? out + m->b_off[l] : NULL;
        /* R{dW_l} = R{dA_l}ᵀ H_{l-1} + dA_lᵀ R{H_{l-1}} */
        dense_backward_weight(oW, ob, RdA, m->H[l - 1], B, C, OC, accumulate);
        if (l == 1)
            break;
        dense_backward_weight(oW, NULL, dA, m->RH[l - 1], B, C, OC, 1);
        /* dH = dA W;  R{dH} = R{dA} W + dA V */
        dense_backward_input(m->dH, dA, x + m->w_off[l], B, C, OC, 0);
        dense_backward_input(m->RdH, RdA, x + m->w_off[l], B, C, OC, 0);
        dense_backward_input(m->RdH, dA, v + m->w_off[l], B, C, OC, 1);
        activation_backward(dAbelow, m->dH, m->A[l - 1], m->H[l - 1], B * C, m->tanh_act);
        activation_backward_r(RdAbelow, m->RdH, m->dH, m->RA[l - 1], m->A[l - 1], m->H[l - 1],
                              B * C, m->tanh_act);
        float *t = dA;
        dA = dAbelow, dAbelow = t;
        t = RdA;
        RdA = RdAbelow, RdAbelow = t;
    }
}

static int prepare(lsgd_model *model, const lsgd_batch *batch, lsgd_error *err)
{
    int rc = model_check_batch(model, batch, err);
    if (rc == LSGD_OK && workspace(model->impl) != LSGD_OK)
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "model mlp: out of memory for the workspace");
    return rc;
}

static int mlp_loss_grad(lsgd_model *model, const float *x, const lsgd_batch *batch,
                         double *loss, float *grad, lsgd_error *err)
{
    int rc = prepare(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    mlp_impl *m = model->impl;
    float labels[MLP_CHUNK];
    double sum = 0;
    for (size_t start = 0; start < batch->n; start += MLP_CHUNK) {
        size_t B = load_chunk(m, labels, batch, start);
        sum += mlp_forward(m, x, labels, B);
        if (grad)
            mlp_backward(m, grad, x, labels, B, (float)(1.0 / (double)batch->n), start > 0);
    }
    *loss = sum / (double)batch->n;
    model_l2_loss_grad(&m->base, x, loss, grad);
    return LSGD_OK;
}

static int mlp_hvp(lsgd_model *model, const float *x, const lsgd_batch *batch, const float *v,
                   float *out, lsgd_error *err)
{
    int rc = prepare(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    mlp_impl *m = model->impl;
    float labels[MLP_CHUNK];
    for (size_t start = 0; start < batch->n; start += MLP_CHUNK) {
        size_t B = load_chunk(m, labels, batch, start);
        mlp_forward(m, x, labels, B);
        mlp_forward_r(m, x, v, B);
        mlp_backward_r(m, out, x, v, labels, B, (float)(1.0 / (double)batch->n), start > 0);
    }
    model_l2_hvp(&m->base, v, out);
    return LSGD_OK;
}

static int mlp_evaluate(lsgd_model *model, const float *x, const lsgd_batch *batch,
                        double *loss, double *accuracy, lsgd_error *err)
{
    int rc = prepare(model, batch, err);
    if (rc != LSGD_OK)
        return rc;
    mlp_impl *m = model->impl;
    float labels[MLP_CHUNK];
    double sum = 0;
    size_t correct = 0, C = m->size[m->L];
    for (size_t start = 0; start < batch->n; start += MLP_CHUNK) {
        size_t B = load_chunk(m, labels, batch, start);
        sum += mlp_forward(m, x, labels, B);
        correct += softmax_correct(m->H[m->L], labels, B, C);
    }
    *loss = sum / (double)batch->n;
    model_l2_loss_grad(&m->base, x, loss, NULL);
    *accuracy = (double)correct / (double)batch->n;
    return LSGD_OK;
}

static void mlp_destroy(lsgd_model *model)
{
    mlp_impl *m = model->impl;
    model_base_free(&m->base);
    free(m->work);
    free(m);
    model->impl = NULL;
}

static const lsgd_model_ops mlp_ops = {
    .type = "mlp",
    .loss_grad = mlp_loss_grad,
    .hvp = mlp_hvp,
    .evaluate = mlp_evaluate,
    .init = model_init_params,
    .describe = model_describe,
    .destroy = mlp_destroy,
};

/* model.hidden, model.activation into m->size[1..L-1], tanh_act. */
static int parse_layers(mlp_impl *m, const json_t *cfg, lsgd_error *err)
{
    json_t *hidden = json_object_get(cfg, "hidden");
    size_t n_hidden = hidden ? json_array_size(hidden) : 1;
    if (hidden && !json_is_array(hidden))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.hidden: expected an array of sizes");
    if (n_hidden + 1 > MLP_MAX_LAYERS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.hidden: %zu layers; at most %d",
                              n_hidden, MLP_MAX_LAYERS - 1);
    for (size_t k = 0; k < n_hidden; k++) {
        json_t *s = hidden ? json_array_get(hidden, k) : NULL;
        long long width = s ? (json_is_integer(s) ? json_integer_value(s) : 0) : 256;
        if (width < 1 || (unsigned long long)width > LSGD_MAX_FEATURES)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "model.hidden[%zu]: %lld; expected an integer from 1 to %llu",
                                  k, width, LSGD_MAX_FEATURES);
        m->size[k + 1] = (size_t)width;
    }
    m->L = (int)n_hidden + 1;
    json_t *act = json_object_get(cfg, "activation");
    const char *name = json_is_string(act) ? json_string_value(act) : "relu";
    if (strcmp(name, "relu") != 0 && strcmp(name, "tanh") != 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.activation: '%s'; expected relu or tanh",
                              name);
    m->tanh_act = strcmp(name, "tanh") == 0;
    return LSGD_OK;
}

int lsgd_mlp_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                    lsgd_error *err)
{
    if (train->classes < 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.type: mlp is a classifier but %s has regression targets",
                              train->source);
    mlp_impl *m = calloc(1, sizeof *m);
    if (!m)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model mlp: out of memory");
    model->ops = &mlp_ops;
    model->impl = m;
    int rc = parse_layers(m, cfg, err);
    if (rc != LSGD_OK)
        return rc;
    m->size[0] = train->d;
    m->size[m->L] = (size_t)train->classes;
    m->bias = model_bias_option(cfg);
    m->base.l2 = model_l2_option(cfg);
    m->base.input = train->d;
    m->base.classes = train->classes;
    snprintf(m->base.init.type, sizeof m->base.init.type, "%s", m->tanh_act ? "xavier" : "he");
    m->base.sized_by = "model.hidden";
    size_t dim = 0;
    for (int l = 1; l <= m->L; l++) {
        char name[32];
        snprintf(name, sizeof name, "fc%d.weight", l);
        m->w_off[l] = dim;
        dim = model_add_tensor(&m->base, name, m->size[l], m->size[l - 1], 0, dim);
        if (m->bias) {
            snprintf(name, sizeof name, "fc%d.bias", l);
            m->b_off[l] = dim;
            dim = model_add_tensor(&m->base, name, m->size[l], 0, 1, dim);
        }
    }
    model->dim = dim;
    if (workspace_floats(m) > LSGD_MAX_MLP_ACTIVATIONS)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.hidden: an mlp over %zu features with these widths needs "
                              "%zu floats of activations for a chunk of %d rows; lsgd's limit "
                              "is 2^28 = %llu", m->size[0], workspace_floats(m), MLP_CHUNK,
                              LSGD_MAX_MLP_ACTIVATIONS);
    return LSGD_OK;
}
