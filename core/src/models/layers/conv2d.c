/*
 * conv2d.c — 2-D convolution (PyTorch's Conv2d: cross-correlation, weight
 * [OC, C, K, K], zero padding P, stride S) by im2col into OpenBLAS's sgemm.
 *
 * Per sample, im2col lays the receptive fields out as columns,
 *   col[C·K·K, OH·OW],  col[(c·K + i)·K + j, oh·OW + ow] = inp[c, oh·S − P + i, ow·S − P + j]
 * (0 outside the image), so the convolution is one product
 *   out[OC, OH·OW] = weight[OC, C·K·K] · col   (+ bias per output channel),
 * and the backward pass is two: dweight += dout · colᵀ and dcol = weightᵀ · dout,
 * which col2im adds back onto the input positions.  The columns are rebuilt
 * in the backward pass rather than kept, so the scratch is one sample's.
 */
#include <cblas.h>
#include <string.h>

#include "models/layers/layers.h"

size_t conv2d_out_side(size_t n, size_t K, size_t S, size_t P)
{
    return K > n + 2 * P ? 0 : (n + 2 * P - K) / S + 1;
}

size_t conv2d_scratch_floats(size_t C, size_t K, size_t OH, size_t OW)
{
    return 2 * C * K * K * OH * OW;
}

/* A 1×1 kernel with stride 1 and no padding reads the image as its own columns. */
static int is_pointwise(size_t K, size_t S, size_t P)
{
    return K == 1 && S == 1 && P == 0;
}

/* col[C·K·K, OH·OW] = the receptive fields of one sample img[C, H, W]. */
static void im2col(float *col, const float *img, size_t C, size_t H, size_t W, size_t K,
                   size_t S, size_t P, size_t OH, size_t OW)
{
    for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++)
                for (size_t oh = 0; oh < OH; oh++, col += OW) {
                    size_t ih = oh * S + i; /* row in the padded image */
                    if (ih < P || ih - P >= H) {
                        memset(col, 0, OW * sizeof *col);
                        continue;
                    }
                    const float *row = img + (c * H + ih - P) * W;
                    for (size_t ow = 0; ow < OW; ow++) {
                        size_t iw = ow * S + j; /* column in the padded image */
                        col[ow] = iw < P || iw - P >= W ? 0.0f : row[iw - P];
                    }
                }
}

/* img[C, H, W] += the columns col[C·K·K, OH·OW] put back at their positions. */
static void col2im(float *img, const float *col, size_t C, size_t H, size_t W, size_t K,
                   size_t S, size_t P, size_t OH, size_t OW)
{
    for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++)
                for (size_t oh = 0; oh < OH; oh++, col += OW) {
                    size_t ih = oh * S + i;
                    if (ih < P || ih - P >= H)
                        continue;
                    float *row = img + (c * H + ih - P) * W;
                    for (size_t ow = 0; ow < OW; ow++) {
                        size_t iw = ow * S + j;
                        if (iw >= P && iw - P < W)
                            row[iw - P] += col[ow];
                    }
                }
}

void conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                    float *scratch, size_t B, size_t C, size_t H, size_t W, size_t OC,
                    size_t K, size_t S, size_t P, int accumulate)
{
    size_t OH = conv2d_out_side(H, K, S, P), OW = conv2d_out_side(W, K, S, P);
    size_t CKK = C * K * K, OHW = OH * OW;
    for (size_t b = 0; b < B; b++) {
        const float *img = inp + b * C * H * W;
        float *o = out + b * OC * OHW; /* [OC, OH·OW] */
        const float *col = img;
        if (!is_pointwise(K, S, P)) {
            im2col(scratch, img, C, H, W, K, S, P, OH, OW);
            col = scratch;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)OC, (int)OHW, (int)CKK,
                    1.0f, weight, (int)CKK, col, (int)OHW, accumulate ? 1.0f : 0.0f, o,
                    (int)OHW);
        if (bias)
            for (size_t oc = 0; oc < OC; oc++)
                for (size_t p = 0; p < OHW; p++)
                    o[oc * OHW + p] += bias[oc];
    }
}

void conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                     const float *inp, const float *weight, float *scratch, size_t B, size_t C,
                     size_t H, size_t W, size_t OC, size_t K, size_t S, size_t P)
{
    size_t OH = conv2d_out_side(H, K, S, P), OW = conv2d_out_side(W, K, S, P);
    size_t CKK = C * K * K, OHW = OH * OW;
    int pointwise = is_pointwise(K, S, P);
    float *dcol = scratch + CKK * OHW; /* [C·K·K, OH·OW] */
    for (size_t b = 0; b < B; b++) {
        const float *img = inp + b * C * H * W, *d = dout + b * OC * OHW;
        const float *col = img;
        if (!pointwise && dweight) {
            im2col(scratch, img, C, H, W, K, S, P, OH, OW);
            col = scratch;
        }
        /* dweight[OC, C·K·K] += dout[OC, OH·OW] · colᵀ */
        if (dweight)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)OC, (int)CKK, (int)OHW,
                        1.0f, d, (int)OHW, col, (int)OHW, 1.0f, dweight, (int)CKK);
        if (dbias)
            for (size_t oc = 0; oc < OC; oc++)
                for (size_t p = 0; p < OHW; p++)
                    dbias[oc] += d[oc * OHW + p];
        if (!dinp)
            continue;
        /* dcol[C·K·K, OH·OW] = weightᵀ · dout, added back onto the image */
        float *dimg = dinp + b * C * H * W;
        if (pointwise) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CKK, (int)OHW, (int)OC,
                        1.0f, weight, (int)CKK, d, (int)OHW, 1.0f, dimg, (int)OHW);
            continue;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CKK, (int)OHW, (int)OC, 1.0f,
                    weight, (int)CKK, d, (int)OHW, 0.0f, dcol, (int)OHW);
        col2im(dimg, dcol, C, H, W, K, S, P, OH, OW);
    }
}
