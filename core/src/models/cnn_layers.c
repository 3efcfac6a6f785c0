/*
 * cnn_layers.c — each layer kind of the cnn model as its four passes over a
 * chunk (forward, backward, and their R-ops for the Hessian-vector
 * product), calling the layer functions of layers/.
 *
 * conv and dense are bilinear in (input, weight):
 *   R{out}  = f(inp; V) + f(R{inp}; W)
 *   R{dinp} = f'ᵀ(R{dout}; W) + f'ᵀ(dout; V),   R{dW} = R{dout} ⊗ inp + dout ⊗ R{inp}
 * relu and pooling are piecewise linear: the R-forward applies their
 * Jacobian, the R-backward is their backward of R{dout} (second
 * derivatives vanish almost everywhere).  act[0] is the data: its R{} is 0
 * and its gradient is not wanted.  backward with grad NULL computes dact[in]
 * only (the HVP needs dout, not the gradient).
 */
#include <string.h>

#include "models/cnn.h"
#include "models/layers/layers.h"

static size_t in_size(const cnn_node *n)
{
    return n->C * n->H * n->W;
}

static size_t out_size(const cnn_node *n)
{
    return n->OC * n->OH * n->OW;
}

/* ---- conv: the columns of act[in] (and of Ract[in]) kept from the forward passes ---- */

/* The columns of act[in] as conv_forward left them (the input itself when pointwise). */
static const float *columns(const cnn_node *n, const float *col, const float *inp)
{
    return conv2d_pointwise(n->K, n->S, n->P) ? inp : col;
}

static void conv_forward(const cnn_node *n, const cnn_pass *p)
{
    conv2d_forward(p->act[n->out], n->col, p->act[n->in], p->x + n->w_off,
                   n->bias ? p->x + n->b_off : NULL, p->B, n->C, n->H, n->W, n->OC, n->K, n->S,
                   n->P, 0);
}

static void conv_backward(const cnn_node *n, const cnn_pass *p, float *grad)
{
    if (!grad && !n->in)
        return;
    conv2d_term term = {p->dact[n->out], columns(n, n->col, p->act[n->in]), p->x + n->w_off};
    conv2d_backward(n->in ? p->dact[n->in] : NULL, grad ? grad + n->w_off : NULL,
                    grad && n->bias ? grad + n->b_off : NULL, &term, 1, p->scratch, p->B, n->C,
                    n->H, n->W, n->OC, n->K, n->S, n->P);
}

static void conv_forward_r(const cnn_node *n, const cnn_pass *p)
{
    /* the columns conv_forward built (a pointwise conv's: the input itself) */
    const float *inp = conv2d_pointwise(n->K, n->S, n->P) ? p->act[n->in] : NULL;
    conv2d_forward(p->Ract[n->out], n->col, inp, p->v + n->w_off,
                   n->bias ? p->v + n->b_off : NULL, p->B, n->C, n->H, n->W, n->OC, n->K, n->S,
                   n->P, 0);
    if (n->in)
        conv2d_forward(p->Ract[n->out], n->Rcol, p->Ract[n->in], p->x + n->w_off, NULL, p->B,
                       n->C, n->H, n->W, n->OC, n->K, n->S, n->P, 1);
}

/* R{dW} = R{dout} ⊗ inp + dout ⊗ R{inp},  R{dinp} = f'ᵀ(R{dout}; W) + f'ᵀ(dout; V) */
static void conv_backward_r(const cnn_node *n, const cnn_pass *p, float *hv)
{
    conv2d_term terms[2] = {
        {p->Rdact[n->out], columns(n, n->col, p->act[n->in]), p->x + n->w_off},
        {p->dact[n->out], n->in ? columns(n, n->Rcol, p->Ract[n->in]) : NULL, p->v + n->w_off},
    };
    conv2d_backward(n->in ? p->Rdact[n->in] : NULL, hv + n->w_off,
                    n->bias ? hv + n->b_off : NULL, terms, n->in ? 2 : 1, p->scratch, p->B, n->C,
                    n->H, n->W, n->OC, n->K, n->S, n->P);
}

/* ---- dense ---- */

static void dense_fwd(const cnn_node *n, const cnn_pass *p)
{
    dense_forward(p->act[n->out], p->act[n->in], p->x + n->w_off,
                  n->bias ? p->x + n->b_off : NULL, p->B, n->C, n->OC, 0);
}

static void dense_bwd(const cnn_node *n, const cnn_pass *p, float *grad)
{
    if (grad)
            dense_backward_weight(grad + n->w_off, n->bias ? grad + n->b_off : NULL,
                              p->dact[n->out], p->act[n->in], p->B, n->C, n->OC, 1);
    if (n->in)
        dense_backward_input(p->dact[n->in], p->dact[n->out], p->x + n->w_off, p->B, n->C, n->OC,
                             !n->overwrite);
}

static void dense_fwd_r(const cnn_node *n, const cnn_pass *p)
{
    dense_forward(p->Ract[n->out], p->act[n->in], p->v + n->w_off,
                  n->bias ? p->v + n->b_off : NULL, p->B, n->C, n->OC, 0);
    if (n->in)
        dense_forward(p->Ract[n->out], p->Ract[n->in], p->x + n->w_off, NULL, p->B, n->C, n->OC,
                      1);
}

static void dense_bwd_r(const cnn_node *n, const cnn_pass *p, float *hv)
{
    dense_backward_weight(hv + n->w_off, n->bias ? hv + n->b_off : NULL, p->Rdact[n->out],
                          p->act[n->in], p->B, n->C, n->OC, 1);
    if (!n->in)
        return;
    dense_backward_weight(hv + n->w_off, NULL, p->dact[n->out], p->Ract[n->in], p->B, n->C,
                          n->OC, 1);
    dense_backward_input(p->Rdact[n->in], p->Rdact[n->out], p->x + n->w_off, p->B, n->C, n->OC,
                         !n->overwrite);
    dense_backward_input(p->Rdact[n->in], p->dact[n->out], p->v + n->w_off, p->B, n->C, n->OC,
                         1);
}

/* ---- relu ---- */

static void relu_fwd(const cnn_node *n, const cnn_pass *p)
{
    relu_forward(p->act[n->out], p->act[n->in], p->B * in_size(n));
}

/* dact[in] (+)= 1[act[in] > 0] ⊙ d: written when this node is its only reader */
static void relu_into(const cnn_node *n, const cnn_pass *p, float *dinp, const float *d)
{
    if (n->overwrite)
        relu_jacobian(dinp, d, p->act[n->in], p->B * in_size(n));
    else if (n->in)
        relu_backward(dinp, d, p->act[n->in], p->B * in_size(n));
}

static void relu_bwd(const cnn_node *n, const cnn_pass *p, float *grad)
{
    relu_into(n, p, p->dact[n->in], p->dact[n->out]);
}

static void relu_fwd_r(const cnn_node *n, const cnn_pass *p)
{
    relu_jacobian(p->Ract[n->out], p->Ract[n->in], p->act[n->in], p->B * in_size(n));
}

static void relu_bwd_r(const cnn_node *n, const cnn_pass *p, float *hv)
{
    relu_into(n, p, p->Rdact[n->in], p->Rdact[n->out]);
}

/* ---- max pooling ---- */

static void maxpool_fwd(const cnn_node *n, const cnn_pass *p)
{
    maxpool_forward(p->act[n->out], n->argmax, p->act[n->in], p->B, n->C, n->H, n->W, n->K,
                    n->S);
}

static void maxpool_bwd(const cnn_node *n, const cnn_pass *p, float *grad)
{
    if (n->in)
        maxpool_backward(p->dact[n->in], p->dact[n->out], n->argmax, p->B, n->C, n->H, n->W,
                         n->K, n->S);
}

static void maxpool_fwd_r(const cnn_node *n, const cnn_pass *p)
{
    maxpool_gather(p->Ract[n->out], n->argmax, p->Ract[n->in], p->B, n->C, n->H, n->W, n->K,
                   n->S);
}

static void maxpool_bwd_r(const cnn_node *n, const cnn_pass *p, float *hv)
{
    if (n->in)
        maxpool_backward(p->Rdact[n->in], p->Rdact[n->out], n->argmax, p->B, n->C, n->H, n->W,
                         n->K, n->S);
}

/* ---- average pooling (linear: R-forward is the forward of R{inp}) ---- */

static void avgpool_fwd(const cnn_node *n, const cnn_pass *p)
{
    avgpool_forward(p->act[n->out], p->act[n->in], p->B, n->C, n->H, n->W, n->K, n->S);
}

static void avgpool_bwd(const cnn_node *n, const cnn_pass *p, float *grad)
{
    if (n->in)
        avgpool_backward(p->dact[n->in], p->dact[n->out], p->B, n->C, n->H, n->W, n->K, n->S);
}

static void avgpool_fwd_r(const cnn_node *n, const cnn_pass *p)
{
    avgpool_forward(p->Ract[n->out], p->Ract[n->in], p->B, n->C, n->H, n->W, n->K, n->S);
}

static void avgpool_bwd_r(const cnn_node *n, const cnn_pass *p, float *hv)
{
    if (n->in)
        avgpool_backward(p->Rdact[n->in], p->Rdact[n->out], p->B, n->C, n->H, n->W, n->K, n->S);
}

/* ---- residual: act[out] = act[in] + act[skip] (linear) ---- */

static void residual_fwd(const cnn_node *n, const cnn_pass *p)
{
    residual_forward(p->act[n->out], p->act[n->in], p->act[n->skip], p->B * out_size(n));
}

static void residual_bwd(const cnn_node *n, const cnn_pass *p, float *grad)
{
    residual_backward(p->dact[n->in], p->dact[n->skip], p->dact[n->out], p->B * out_size(n));
}

static void residual_fwd_r(const cnn_node *n, const cnn_pass *p)
{
    residual_forward(p->Ract[n->out], p->Ract[n->in], p->Ract[n->skip], p->B * out_size(n));
}

static void residual_bwd_r(const cnn_node *n, const cnn_pass *p, float *hv)
{
    residual_backward(p->Rdact[n->in], p->Rdact[n->skip], p->Rdact[n->out],
                      p->B * out_size(n));
}

const cnn_kind cnn_conv = {"conv", conv_forward, conv_backward, conv_forward_r, conv_backward_r};
const cnn_kind cnn_dense = {"dense", dense_fwd, dense_bwd, dense_fwd_r, dense_bwd_r};
const cnn_kind cnn_relu = {"relu", relu_fwd, relu_bwd, relu_fwd_r, relu_bwd_r};
const cnn_kind cnn_maxpool = {"maxpool", maxpool_fwd, maxpool_bwd, maxpool_fwd_r,
                              maxpool_bwd_r};
const cnn_kind cnn_avgpool = {"avgpool", avgpool_fwd, avgpool_bwd, avgpool_fwd_r,
                              avgpool_bwd_r};
const cnn_kind cnn_residual = {"residual", residual_fwd, residual_bwd, residual_fwd_r,
                               residual_bwd_r};
