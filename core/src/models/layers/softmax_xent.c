/*
 * softmax_xent.c — the classifier's loss: softmax over the logits and the
 * cross-entropy of the true class, with its gradient and the R-op of that
 * gradient (for exact Hessian-vector products).  mlp and cnn share it.
 */
#include <math.h>

#include "models/layers/layers.h"

double softmax_xent_forward(float *probs, const float *labels, size_t B, size_t C)
{
    double loss = 0;
    for (size_t b = 0; b < B; b++) {
        float *p = probs + b * C, max = p[0];
        for (size_t c = 1; c < C; c++)
            max = p[c] > max ? p[c] : max;
        double sum = 0;
        size_t y = (size_t)labels[b];
        float zy = p[y] - max;
        for (size_t c = 0; c < C; c++)
            sum += p[c] = expf(p[c] - max);
        for (size_t c = 0; c < C; c++)
            p[c] = (float)(p[c] / sum);
        loss += log(sum) - zy;
    }
    return loss;
}

void softmax_xent_backward(float *dlogits, const float *probs, const float *labels, size_t B,
                           size_t C, float scale)
{
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++)
            dlogits[b * C + c] = (probs[b * C + c] - (c == (size_t)labels[b])) * scale;
}

void softmax_xent_backward_r(float *Rdlogits, const float *probs, const float *Rlogits,
                             size_t B, size_t C, float scale)
{
    for (size_t b = 0; b < B; b++) {
        const float *p = probs + b * C, *r = Rlogits + b * C;
        float pr = 0;
        for (size_t c = 0; c < C; c++)
            pr += p[c] * r[c];
        for (size_t c = 0; c < C; c++)
            Rdlogits[b * C + c] = p[c] * (r[c] - pr) * scale;
    }
}

size_t softmax_correct(const float *probs, const float *labels, size_t B, size_t C)
{
    size_t correct = 0;
    for (size_t b = 0; b < B; b++) {
        const float *p = probs + b * C;
        size_t best = 0;
        for (size_t c = 1; c < C; c++)
            best = p[c] > p[best] ? c : best;
        correct += best == (size_t)labels[b];
    }
    return correct;
}
