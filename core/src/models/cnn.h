/*
 * cnn.h — what the cnn model's files share: the network as a list of nodes
 * over numbered activations, each node a layer kind with its four passes.
 *
 *   act[0]            the batch's samples [B, C, H, W]
 *   act[n.out]        = layer(act[n.in])        for each node n in order
 *   act[last]         the logits [B, classes], softmax cross-entropy on them
 *
 * A residual block's layers are ordinary nodes followed by a residual node
 * whose `skip` is the block's input.  Flatten is no node: it only reshapes.
 * Every activation has its gradient dact, and for the Hessian-vector
 * product its directional derivative Ract and that of the gradient Rdact
 * (Pearlmutter's R-op), all [CNN_CHUNK, size] for one chunk of the batch.
 */
#ifndef LSGD_CNN_H
#define LSGD_CNN_H

#include "models/model_impl.h"

enum { CNN_MAX_NODES = 64, CNN_CHUNK = 64, CNN_KEY = 96 };

typedef struct cnn_node cnn_node;

/* One pass over a chunk of B samples. */
typedef struct cnn_pass {
    const float *x, *v; /* parameters; the HVP's direction (NULL outside it) */
    float **act, **dact, **Ract, **Rdact;
    float *scratch; /* one sample's column gradient and a weight gradient, for the convs */
    size_t B;
} cnn_pass;

typedef struct cnn_kind {
    const char *name;
    /* act[out] = layer(act[in]) */
    void (*forward)(const cnn_node *n, const cnn_pass *p);
    /* dact[in] += ∂/∂act[in], grad += ∂/∂params, from dact[out] */
    void (*backward)(const cnn_node *n, const cnn_pass *p, float *grad);
    /* Ract[out] = R{act[out]} from Ract[in] (and v) */
    void (*forward_r)(const cnn_node *n, const cnn_pass *p);
    /* Rdact[in] += R{dact[in]}, hv += R{∂/∂params} */
    void (*backward_r)(const cnn_node *n, const cnn_pass *p, float *hv);
} cnn_kind;

struct cnn_node {
    const cnn_kind *kind;
    char key[CNN_KEY];       /* "model.layers[2]", for messages */
    size_t C, H, W;          /* input shape */
    size_t OC, OH, OW;       /* output shape */
    size_t K, S, P;          /* kernel, stride, padding (conv, pools) */
    int in, out, skip;       /* activation indices; skip: a residual block's input */
    size_t w_off, b_off;     /* weight and bias in the flat vector (conv, dense) */
    int bias;
    int overwrite;           /* backward writes dact[in] instead of adding (its only reader) */
    size_t col_floats;       /* conv: C·K·K·OH·OW per sample (0 when pointwise) */
    /* in the workspace: */
    int32_t *argmax;         /* maxpool: [CNN_CHUNK, OC·OH·OW] */
    float *col, *Rcol;       /* conv: im2col of act[in] and of Ract[in] (none when act[in] is
                                the data), [CNN_CHUNK, col_floats] */
};

/* The layer kinds (cnn_layers.c). */
extern const cnn_kind cnn_conv, cnn_dense, cnn_relu, cnn_maxpool, cnn_avgpool, cnn_residual;

typedef struct cnn_impl {
    model_base base;
    cnn_node nodes[CNN_MAX_NODES];
    int n_nodes;
    size_t size[CNN_MAX_NODES + 1]; /* floats per sample of act[0 .. n_nodes] */
    size_t shape[3];                /* the input's [C, H, W] */
    unsigned char written[CNN_MAX_NODES + 1]; /* dact[a] written by an overwrite node: no zeroing */
    size_t scratch_floats; /* the largest conv's dcol, dweightᵀ and doutᵀ (conv2d.c) */
    int torch_init; /* no model.init: PyTorch's default U(±1/√fan_in) */
    /* workspace for one chunk, allocated on first use */
    float *work;
    float *act[CNN_MAX_NODES + 1], *dact[CNN_MAX_NODES + 1];
    float *Ract[CNN_MAX_NODES + 1], *Rdact[CNN_MAX_NODES + 1];
    float *scratch;
} cnn_impl;

/* Floats of one chunk's workspace (argmax's int32s counted as floats). */
size_t cnn_workspace_floats(const cnn_impl *m);

/* cnn_build.c: model.layers and model.input_shape into m's nodes and tensors. */
int cnn_build(cnn_impl *m, const json_t *cfg, const lsgd_dataset *train, size_t *dim,
              lsgd_error *err);

#endif
