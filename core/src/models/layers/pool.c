/*
 * pool.c — max and average pooling over K×K windows with stride S, no
 * padding, output side ⌊(n − K)/S⌋ + 1 (PyTorch's MaxPool2d/AvgPool2d
 * defaults).  Max pooling keeps, per output, the index of the window's
 * first maximum in row-major order (PyTorch's choice on ties), which its
 * backward and R-forward route through.
 */
#include "models/layers/layers.h"

/* One plane's windows; inlined with K = S = 2 (LeNet's, VGG's) so the window
 * loops unroll. */
static inline void maxpool_plane(float *out, int32_t *argmax, const float *plane, size_t c0,
                                 size_t H, size_t W, size_t K, size_t S)
{
    size_t OH = (H - K) / S + 1, OW = (W - K) / S + 1;
    for (size_t oh = 0; oh < OH; oh++)
        for (size_t ow = 0; ow < OW; ow++) {
            size_t best = oh * S * W + ow * S;
            for (size_t i = 0; i < K; i++)
                for (size_t j = 0; j < K; j++) {
                    size_t at = (oh * S + i) * W + ow * S + j;
                    best = plane[at] > plane[best] ? at : best;
                }
            *out++ = plane[best];
            *argmax++ = (int32_t)(c0 + best);
        }
}

void maxpool_forward(float *out, int32_t *argmax, const float *inp, size_t B, size_t C,
                     size_t H, size_t W, size_t K, size_t S)
{
    size_t per_out = ((H - K) / S + 1) * ((W - K) / S + 1);
    for (size_t bc = 0; bc < B * C; bc++) {
        size_t c0 = (bc % C) * H * W; /* the plane's offset within its sample */
        if (K == 2 && S == 2)
            maxpool_plane(out, argmax, inp + bc * H * W, c0, H, W, 2, 2);
        else
            maxpool_plane(out, argmax, inp + bc * H * W, c0, H, W, K, S);
        out += per_out, argmax += per_out;
    }
}

void maxpool_gather(float *out, const int32_t *argmax, const float *inp, size_t B, size_t C,
                    size_t H, size_t W, size_t K, size_t S)
{
    size_t per_out = C * ((H - K) / S + 1) * ((W - K) / S + 1), per_in = C * H * W;
    for (size_t b = 0; b < B; b++)
        for (size_t o = 0; o < per_out; o++)
            out[b * per_out + o] = inp[b * per_in + (size_t)argmax[b * per_out + o]];
}

void maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, size_t B, size_t C,
                      size_t H, size_t W, size_t K, size_t S)
{
    size_t per_out = C * ((H - K) / S + 1) * ((W - K) / S + 1), per_in = C * H * W;
    for (size_t b = 0; b < B; b++)
        for (size_t o = 0; o < per_out; o++)
            dinp[b * per_in + (size_t)argmax[b * per_out + o]] += dout[b * per_out + o];
}

void avgpool_forward(float *out, const float *inp, size_t B, size_t C, size_t H, size_t W,
                     size_t K, size_t S)
{
    size_t OH = (H - K) / S + 1, OW = (W - K) / S + 1;
    float scale = 1.0f / (float)(K * K);
    for (size_t bc = 0; bc < B * C; bc++) {
        const float *plane = inp + bc * H * W;
        for (size_t oh = 0; oh < OH; oh++)
            for (size_t ow = 0; ow < OW; ow++) {
                float sum = 0;
                for (size_t i = 0; i < K; i++)
                    for (size_t j = 0; j < K; j++)
                        sum += plane[(oh * S + i) * W + ow * S + j];
                *out++ = sum * scale;
            }
    }
}

void avgpool_backward(float *dinp, const float *dout, size_t B, size_t C, size_t H, size_t W,
                      size_t K, size_t S)
{
    size_t OH = (H - K) / S + 1, OW = (W - K) / S + 1;
    float scale = 1.0f / (float)(K * K);
    for (size_t bc = 0; bc < B * C; bc++) {
        float *plane = dinp + bc * H * W;
        for (size_t oh = 0; oh < OH; oh++)
            for (size_t ow = 0; ow < OW; ow++) {
                float d = *dout++ * scale;
                for (size_t i = 0; i < K; i++)
                    for (size_t j = 0; j < K; j++)
                        plane[(oh * S + i) * W + ow * S + j] += d;
            }
    }
}
