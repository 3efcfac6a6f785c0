/*
 * dense.c — the fully connected layer, out = inp · weightᵀ + bias, through
 * OpenBLAS's sgemm (mlp and cnn share it).
 */
#include <cblas.h>
#include <string.h>

#include "models/layers/layers.h"

void dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                   size_t B, size_t C, size_t OC, int accumulate)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)OC, (int)C, 1.0f, inp,
                (int)C, weight, (int)C, accumulate ? 1.0f : 0.0f, out, (int)OC);
    if (bias)
        for (size_t b = 0; b < B; b++)
            for (size_t o = 0; o < OC; o++)
                out[b * OC + o] += bias[o];
}

void dense_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                           size_t B, size_t C, size_t OC, int accumulate)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C, (int)B, 1.0f, dout,
                (int)OC, inp, (int)C, accumulate ? 1.0f : 0.0f, dweight, (int)C);
    if (!dbias)
        return;
    if (!accumulate)
        memset(dbias, 0, OC * sizeof *dbias);
    for (size_t b = 0; b < B; b++)
        for (size_t o = 0; o < OC; o++)
            dbias[o] += dout[b * OC + o];
}

void dense_backward_input(float *dinp, const float *dout, const float *weight, size_t B,
                          size_t C, size_t OC, int accumulate)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)C, (int)OC, 1.0f, dout,
                (int)OC, weight, (int)C, accumulate ? 1.0f : 0.0f, dinp, (int)C);
}
