/*
 * residual.c — the skip connection of a residual block: the block's output
 * plus its input, whose gradient goes to both.
 */
#include "models/layers/layers.h"

void residual_forward(float *out, const float *inp, const float *skip, size_t N)
{
    for (size_t i = 0; i < N; i++)
        out[i] = inp[i] + skip[i];
}

void residual_backward(float *dinp, float *dskip, const float *dout, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        dinp[i] += dout[i];
        dskip[i] += dout[i];
    }
}
