/*
 * conv2d.c — 2-D convolution (PyTorch's Conv2d: cross-correlation, weight
 * [OC, C, K, K], zero padding P, stride S) by im2col into OpenBLAS's sgemm.
 *
 * im2col lays each sample's receptive fields out as columns,
 *   col[b][(c·K + i)·K + j, oh·OW + ow] = inp[b, c, oh·S − P + i, ow·S − P + j]
 * (0 outside the image), so the convolution is one product per sample
 *   out[b][OC, OH·OW] = weight[OC, C·K·K] · col[b]   (+ bias per output channel),
 * and the backward pass two: dweight += dout[b] · col[b]ᵀ and
 * dcol = weightᵀ · dout[b], which col2im adds back onto the input positions.
 * The columns are built once per forward pass and kept for the backward
 * pass (and the R-op); a 1×1 kernel with stride 1 and no padding reads the
 * input as its own columns.
 */
#include <cblas.h>
#include <string.h>

#include "models/layers/layers.h"

size_t conv2d_out_side(size_t n, size_t K, size_t S, size_t P)
{
    return K > n + 2 * P ? 0 : (n + 2 * P - K) / S + 1;
}

int conv2d_pointwise(size_t K, size_t S, size_t P)
{
    return K == 1 && S == 1 && P == 0;
}

/* The outputs ow whose input column ow·S + j − P lies inside [0, W): [*lo, *hi). */
static void valid_span(size_t *lo, size_t *hi, size_t j, size_t W, size_t S, size_t P,
                       size_t OW)
{
    *lo = j >= P ? 0 : (P - j + S - 1) / S;
    *hi = W + P > j ? (W + P - j + S - 1) / S : 0;
    *hi = *hi < OW ? *hi : OW;
    *lo = *lo < *hi ? *lo : *hi;
}

/* dst[0, n) = src[0, n) for the short runs of im2col (n ≈ 10–30): 4-float blocks, the
 * last one overlapping the one before instead of a scalar tail. */
static inline void copy_run(float *dst, const float *src, size_t n)
{
    if (n < 4) {
        for (size_t k = 0; k < n; k++)
            dst[k] = src[k];
        return;
    }
    for (size_t k = 0; k + 4 <= n; k += 4)
        memcpy(dst + k, src + k, 4 * sizeof *dst); /* one 16-byte move */
    if (n % 4)
        memcpy(dst + n - 4, src + n - 4, 4 * sizeof *dst);
}

/* col[C·K·K, OH·OW] = the receptive fields of one sample img[C, H, W].  Rows are short
 * (OW ≈ 10–30): plain loops, not memcpy/memset calls per row. */
static void sample_columns(float *col, const float *img, size_t C, size_t H, size_t W,
                           size_t K, size_t S, size_t P, size_t OH, size_t OW)
{
    float *out = col;
    for (size_t c = 0; c < C; c++) {
        const float *plane = img + c * H * W;
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++) {
                size_t lo, hi;
                valid_span(&lo, &hi, j, W, S, P, OW);
                for (size_t oh = 0; oh < OH; oh++, out += OW) {
                    size_t ih = oh * S + i; /* row in the padded image */
                    if (ih < P || ih - P >= H) {
                        for (size_t ow = 0; ow < OW; ow++)
                            out[ow] = 0.0f;
                        continue;
                    }
                    for (size_t ow = 0; ow < lo; ow++) /* the padding: a few columns */
                        out[ow] = 0.0f;
                    for (size_t ow = hi; ow < OW; ow++)
                        out[ow] = 0.0f;
                    /* src[k·S] = inp at output lo + k: input column lo·S + j − P ≥ 0 */
                    const float *src = plane + (ih - P) * W + (lo * S + j - P);
                    if (S == 1)
                        copy_run(out + lo, src, hi - lo);
                    else
                        for (size_t k = 0; k < hi - lo; k++)
                            out[lo + k] = src[k * S];
                }
            }
    }
}

/* img[C, H, W] += the columns col[C·K·K, OH·OW] put back at their positions. */
static void col2im(float *img, const float *col, size_t C, size_t H, size_t W, size_t K,
                   size_t S, size_t P, size_t OH, size_t OW)
{
    for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++) {
                size_t lo, hi;
                valid_span(&lo, &hi, j, W, S, P, OW);
                for (size_t oh = 0; oh < OH; oh++, col += OW) {
                    size_t ih = oh * S + i;
                    if (ih < P || ih - P >= H)
                        continue;
                    if (hi == lo)
                        continue;
                    float *dst = img + (c * H + ih - P) * W + (lo * S + j - P);
                    if (S == 1) /* contiguous: vectorizes */
                        for (size_t k = 0; k < hi - lo; k++)
                            dst[k] += col[lo + k];
                    else
                        for (size_t k = 0; k < hi - lo; k++)
                            dst[k * S] += col[lo + k];
                }
            }
}

/* Σ x[n], in 8 interleaved partial sums so the loop vectorizes. */
static float plane_sum(const float *x, size_t n)
{
    float part[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            part[k] += x[i + k];
    float sum = 0;
    for (; i < n; i++)
        sum += x[i];
    for (int k = 0; k < 8; k++)
        sum += part[k];
    return sum;
}

void conv2d_forward(float *out, float *col, const float *inp, const float *weight,
                    const float *bias, size_t B, size_t C, size_t H, size_t W, size_t OC,
                    size_t K, size_t S, size_t P, int accumulate)
{
    size_t OH = conv2d_out_side(H, K, S, P), OW = conv2d_out_side(W, K, S, P);
    size_t CKK = C * K * K, OHW = OH * OW;
    int pointwise = conv2d_pointwise(K, S, P);
    for (size_t b = 0; b < B; b++) {
        /* this sample's columns, built just before its product (still in cache) */
        const float *cols = pointwise ? (inp ? inp : col) + b * C * H * W : col + b * CKK * OHW;
        if (inp && !pointwise)
            sample_columns(col + b * CKK * OHW, inp + b * C * H * W, C, H, W, K, S, P, OH, OW);
        float *o = out + b * OC * OHW; /* [OC, OH·OW] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)OC, (int)OHW, (int)CKK,
                    1.0f, weight, (int)CKK, cols, (int)OHW, accumulate ? 1.0f : 0.0f, o,
                    (int)OHW);
        if (bias)
            for (size_t oc = 0; oc < OC; oc++)
                for (size_t p = 0; p < OHW; p++)
                    o[oc * OHW + p] += bias[oc];
    }
}

/* Whether dweight += dout · colᵀ (OC × C·K·K, inner OH·OW) runs on OpenBLAS's
 * small-matrix kernel as it is: 0.3.21 takes that shape there only while the
 * weight has at most 1200 entries and OH·OW ≥ 32 (LeNet's conv1, not its
 * conv2, whose product then packs both operands and runs twice slower). */
static int direct_weight_product(size_t OC, size_t CKK, size_t OHW)
{
    return OC * CKK <= 1200 && OHW >= 32;
}

/* dweight[OC, C·K·K] (+)= dout[OC, OH·OW] · col[C·K·K, OH·OW]ᵀ for one sample, or, when
 * that shape is slow, dweightᵀ[C·K·K, OC] (+)= col · doutᵀ with doutᵀ copied out (a
 * product of untransposed operands stays on the small-matrix kernel). */
static void weight_product(float *dweight, float *dweightT, float *doutT, const float *dout,
                           const float *col, size_t OC, size_t CKK, size_t OHW, int accumulate)
{
    if (direct_weight_product(OC, CKK, OHW)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)OC, (int)CKK, (int)OHW, 1.0f,
                    dout, (int)OHW, col, (int)OHW, 1.0f, dweight, (int)CKK);
        return;
    }
    for (size_t p = 0; p < OHW; p++) /* OC streams read in step, one written */
        for (size_t oc = 0; oc < OC; oc++)
            doutT[p * OC + oc] = dout[oc * OHW + p];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)CKK, (int)OC, (int)OHW, 1.0f,
                col, (int)OHW, doutT, (int)OC, accumulate ? 1.0f : 0.0f, dweightT, (int)OC);
}

void conv2d_backward(float *dinp, float *dweight, float *dbias, const conv2d_term *terms,
                     int n_terms, float *scratch, size_t B, size_t C, size_t H, size_t W,
                     size_t OC, size_t K, size_t S, size_t P)
{
    size_t OH = conv2d_out_side(H, K, S, P), OW = conv2d_out_side(W, K, S, P);
    size_t CKK = C * K * K, OHW = OH * OW;
    int pointwise = conv2d_pointwise(K, S, P);
    /* dcol [C·K·K, OH·OW], dweightᵀ [C·K·K, OC], doutᵀ [OH·OW, OC] */
    float *dcol = scratch, *dweightT = dcol + CKK * OHW, *doutT = dweightT + CKK * OC;
    for (size_t b = 0; b < B; b++) {
        for (int t = 0; t < n_terms && dweight; t++)
            weight_product(dweight, dweightT, doutT, terms[t].dout + b * OC * OHW,
                           terms[t].col + b * CKK * OHW, OC, CKK, OHW, b || t);
        if (dbias)
            for (size_t oc = 0; oc < OC; oc++)
                dbias[oc] += plane_sum(terms[0].dout + (b * OC + oc) * OHW, OHW);
        if (!dinp)
            continue;
        /* dcol[C·K·K, OH·OW] = Σ weightᵀ · dout, added back onto the image once
         * (a pointwise conv's columns are the image: add there directly) */
        float *dimg = dinp + b * C * H * W;
        for (int t = 0; t < n_terms; t++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CKK, (int)OHW, (int)OC,
                        1.0f, terms[t].weight, (int)CKK, terms[t].dout + b * OC * OHW,
                        (int)OHW, pointwise || t ? 1.0f : 0.0f, pointwise ? dimg : dcol,
                        (int)OHW);
        if (!pointwise)
            col2im(dimg, dcol, C, H, W, K, S, P, OH, OW);
    }
    if (dweight && !direct_weight_product(OC, CKK, OHW))
        for (size_t oc = 0; oc < OC; oc++)
            for (size_t k = 0; k < CKK; k++)
                dweight[oc * CKK + k] += dweightT[k * OC + oc];
}
