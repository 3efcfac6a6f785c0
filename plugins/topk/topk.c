/*
 * topk.c — top-k sparsification: only the k = ⌈fraction·dim⌉ values of
 * largest magnitude travel, with their indices: 8·k bytes (k u32 indices
 * in increasing order, then the k f32 values).  Ties at the k-th magnitude
 * go to the lower indices, so the choice is a function of the input alone.
 * Everything else decodes as 0: run it with error feedback, which carries
 * what was left behind into the next round.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lsgd/compressor.h"

typedef struct topk {
    size_t dim, k;
} topk;

static int topk_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                       lsgd_error *err)
{
    if (info->dim > UINT32_MAX)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "topk: indices are 32-bit, the model has %zu parameters", info->dim);
    topk *t = malloc(sizeof *t);
    if (!t)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "topk: out of memory");
    double k = ceil(lsgd_param_number(p, "fraction") * (double)info->dim);
    t->dim = info->dim;
    t->k = k < 1.0 ? 1 : k > (double)info->dim ? info->dim : (size_t)k;
    *self = t;
    return LSGD_OK;
}

static size_t topk_max_encoded_bytes(const void *self)
{
    return 8 * ((const topk *)self)->k;
}

/* |v| as an integer of the same order (a non-negative float's bits). */
static uint32_t magnitude(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u & 0x7fffffffu;
}

/* The k-th largest magnitude T, one byte at a time from the top (a radix
 * select: four passes, no copy); *ties ← how many values equal to T are
 * among the k largest. */
static uint32_t kth_largest(const float *v, size_t n, size_t k, size_t *ties)
{
    uint32_t prefix = 0, mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++) {
            uint32_t m = magnitude(v[i]);
            if ((m & mask) == prefix)
                count[(m >> shift) & 0xff]++;
        }
        int b = 255;
        while (count[b] < k)
            k -= count[b--];
        prefix |= (uint32_t)b << shift;
        mask |= 0xffu << shift;
    }
    *ties = k;
    return prefix;
}

static int topk_encode(const void *self, float *state, const float *in, uint64_t round,
                       void *bytes, size_t cap, size_t *written, lsgd_error *err)
{
    const topk *t = self;
    for (size_t i = 0; i < t->dim; i++)
        if (!isfinite(in[i]))
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "topk: coordinate %zu is %g", i,
                                  (double)in[i]);
    size_t ties;
    uint32_t T = kth_largest(in, t->dim, t->k, &ties);
    unsigned char *index = bytes, *value = index + 4 * t->k;
    size_t taken = 0;
    for (size_t i = 0; i < t->dim && taken < t->k; i++) {
        uint32_t m = magnitude(in[i]);
        if (m > T || (m == T && ties > 0)) {
            ties -= m == T;
            lsgd_put_u32(index + 4 * taken, (uint32_t)i);
            lsgd_put_f32(value + 4 * taken, in[i]);
            taken++;
        }
    }
    *written = 8 * t->k;
    return LSGD_OK;
}

static int topk_decode(const void *self, const void *bytes, size_t size, float *out,
                       lsgd_error *err)
{
    const topk *t = self;
    if (size != 8 * t->k)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "topk: a payload of %zu bytes, expected %zu",
                              size, 8 * t->k);
    const unsigned char *index = bytes, *value = index + 4 * t->k;
    for (size_t j = 0; j < t->k; j++) {
        uint32_t i = lsgd_get_u32(index + 4 * j);
        if (i >= t->dim || (j > 0 && i <= lsgd_get_u32(index + 4 * (j - 1))))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "topk: index %u at %zu is out of order or beyond %zu", i, j,
                                  t->dim);
    }
    for (size_t j = 0; j < t->k; j++)
        out[lsgd_get_u32(index + 4 * j)] += lsgd_get_f32(value + 4 * j);
    return LSGD_OK;
}

static const lsgd_compressor_ops topk_ops = {
    .struct_size = sizeof(lsgd_compressor_ops),
    .create = topk_create,
    .destroy = free,
    .max_encoded_bytes = topk_max_encoded_bytes,
    .encode = topk_encode,
    .decode = topk_decode,
};

LSGD_PLUGIN(LSGD_KIND_COMPRESSOR, "topk", "1.0.0", &topk_ops);
