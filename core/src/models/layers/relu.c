/*
 * relu.c — the rectifier max(x, 0).  Its derivative is 1[x > 0] (0 at 0, as
 * PyTorch's) and its second derivative 0 almost everywhere, so the R-op
 * applies the same mask.
 */
#include "models/layers/layers.h"

void relu_forward(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++)
        out[i] = inp[i] > 0 ? inp[i] : 0.0f;
}

void relu_jacobian(float *out, const float *din, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        float d = din[i]; /* read unconditionally: the select vectorizes */
        out[i] = inp[i] > 0 ? d : 0.0f;
    }
}

void relu_backward(float *dinp, const float *dout, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        float d = dout[i];
        dinp[i] += inp[i] > 0 ? d : 0.0f;
    }
}
