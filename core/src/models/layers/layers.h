/*
 * layers.h — the layers networks are made of, one function per layer and
 * direction (llm.c style): outputs first, inputs next, sizes last.
 *
 * Tensors are row-major float arrays: a batch of feature maps is
 * [B, C, H, W] (PyTorch's NCHW), a batch of vectors [B, C].  Forward
 * functions overwrite their output (or add to it when `accumulate` is set,
 * which the R-op's second term uses); backward functions ADD into dinp,
 * dweight and dbias, so the caller zeroes them once and a tensor read by
 * two layers (a residual's input) collects both gradients.  dinp == NULL:
 * the input's gradient is not wanted (the network's input).
 *
 * The R-op (Pearlmutter) needs no functions of its own for the bilinear
 * layers: R{out} = f(inp; V) + f(R{inp}; W) is two forward calls, and the
 * R-backward is two backward calls with (R{dout}, inp, W) and
 * (dout, R{inp}, V).  Piecewise-linear layers (relu, pooling) have a
 * forward_r that applies their Jacobian, and their backward serves R{dout}.
 */
#ifndef LSGD_LAYERS_H
#define LSGD_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* ---- conv2d.c: 2-D convolution, square kernel K, stride S, zero padding P ---- */

/* Output side of a K-kernel over n inputs: (n + 2P − K)/S + 1 (0 when K > n + 2P). */
size_t conv2d_out_side(size_t n, size_t K, size_t S, size_t P);

/* A 1×1 kernel with stride 1 and no padding: the input is its own columns. */
int conv2d_pointwise(size_t K, size_t S, size_t P);

/* out[B, OC, OH, OW] (+)= weight[OC, C, K, K] ⊛ the input + bias[OC] (bias may be
 * NULL).  The input's columns (im2col: col[B, C·K·K, OH·OW], col[b][(c·K + i)·K + j,
 * oh·OW + ow] = inp[b, c, oh·S − P + i, ow·S − P + j], 0 outside) are read from col,
 * or, when inp is given, built there from inp[B, C, H, W] sample by sample, each
 * just before its product, and kept for the backward pass.  A pointwise conv
 * (conv2d_pointwise) reads the input itself: pass it as inp or as col. */
void conv2d_forward(float *out, float *col, const float *inp, const float *weight,
                    const float *bias, size_t B, size_t C, size_t H, size_t W, size_t OC,
                    size_t K, size_t S, size_t P, int accumulate);

/* One product a conv's backward pass differentiates: the gradient dout[B, OC, OH, OW]
 * of an output computed from the columns col (conv2d_forward's) and weight. */
typedef struct conv2d_term {
    const float *dout, *col, *weight;
} conv2d_term;

/* dinp[B, C, H, W] += ∂/∂inp, dweight[OC, C, K, K] += ∂/∂weight summed over the
 * terms (the R-op's backward has two, added back onto the image at once), and
 * dbias[OC] += Σ terms[0].dout (any may be NULL: not wanted); scratch holds
 * (C·K·K + OC)·OH·OW + C·K·K·OC floats. */
void conv2d_backward(float *dinp, float *dweight, float *dbias, const conv2d_term *terms,
                     int n_terms, float *scratch, size_t B, size_t C, size_t H, size_t W,
                     size_t OC, size_t K, size_t S, size_t P);

/* ---- dense.c: fully connected, out = inp · weightᵀ + bias ---- */

/* out[B, OC] (+)= inp[B, C] · weight[OC, C]ᵀ + bias[OC] (bias may be NULL). */
void dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                   size_t B, size_t C, size_t OC, int accumulate);

/* dweight[OC, C] (+)= dout[B, OC]ᵀ · inp[B, C]; dbias[OC] (+)= Σ_b dout (dbias may be NULL);
 * accumulate 0 overwrites them. */
void dense_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                           size_t B, size_t C, size_t OC, int accumulate);

/* dinp[B, C] (+)= dout[B, OC] · weight[OC, C]. */
void dense_backward_input(float *dinp, const float *dout, const float *weight, size_t B,
                          size_t C, size_t OC, int accumulate);

/* ---- relu.c ---- */

/* out[N] = max(inp, 0) */
void relu_forward(float *out, const float *inp, size_t N);
/* out[N] = 1[inp > 0] ⊙ din[N], overwriting (the Jacobian applied: relu's R-forward). */
void relu_jacobian(float *out, const float *din, const float *inp, size_t N);
/* dinp[N] += 1[inp > 0] ⊙ dout[N] */
void relu_backward(float *dinp, const float *dout, const float *inp, size_t N);

/* ---- pool.c: max and average pooling, K×K windows, stride S, no padding ---- */

/* out[B, C, OH, OW] = max over each window of inp[B, C, H, W]; argmax[B·C·OH·OW]
 * = the index within the sample's [C, H, W] of the first maximum. */
void maxpool_forward(float *out, int32_t *argmax, const float *inp, size_t B, size_t C,
                     size_t H, size_t W, size_t K, size_t S);
/* out[B, C, OH, OW] = inp at argmax (maxpool's Jacobian applied: its R-forward). */
void maxpool_gather(float *out, const int32_t *argmax, const float *inp, size_t B, size_t C,
                    size_t H, size_t W, size_t K, size_t S);
/* dinp[B, C, H, W] += dout at argmax */
void maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, size_t B, size_t C,
                      size_t H, size_t W, size_t K, size_t S);
/* out[B, C, OH, OW] = mean over each window of inp[B, C, H, W] (linear: its own R-forward). */
void avgpool_forward(float *out, const float *inp, size_t B, size_t C, size_t H, size_t W,
                     size_t K, size_t S);
/* dinp[B, C, H, W] += dout / K² spread over each window */
void avgpool_backward(float *dinp, const float *dout, size_t B, size_t C, size_t H, size_t W,
                      size_t K, size_t S);

/* ---- residual.c: a block's output plus its input ---- */

/* out[N] = inp[N] + skip[N] */
void residual_forward(float *out, const float *inp, const float *skip, size_t N);
/* dinp[N] += dout, dskip[N] += dout */
void residual_backward(float *dinp, float *dskip, const float *dout, size_t N);

/* ---- softmax_xent.c: softmax cross-entropy on logits [B, C] ---- */

/* probs[B, C] = softmax(probs) in place; returns Σ_b −log p[b, y_b]. */
double softmax_xent_forward(float *probs, const float *labels, size_t B, size_t C);
/* dlogits[B, C] = (probs − onehot(y)) · scale */
void softmax_xent_backward(float *dlogits, const float *probs, const float *labels, size_t B,
                           size_t C, float scale);
/* Rdlogits[B, C] = R{P}·scale = P ⊙ (R{A} − Σ_c P R{A}) · scale */
void softmax_xent_backward_r(float *Rdlogits, const float *probs, const float *Rlogits,
                             size_t B, size_t C, float scale);
/* The number of rows b whose largest prob is at y_b. */
size_t softmax_correct(const float *probs, const float *labels, size_t B, size_t C);

#endif
