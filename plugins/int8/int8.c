/*
 * int8.c — 8-bit integers with one float32 scale per block of `block`
 * values: dim + 4·⌈dim/block⌉ bytes.  In each block
 *
 *   s = max|v_i| / 127,   q_i = ⌊v_i/s + u_i⌋ ∈ [−127, 127],   v̂_i = q_i · s
 *
 * with u_i uniform in [0, 1) (stochastic rounding: E[v̂_i] = v_i, so the
 * rounding error averages out over workers and rounds) or u_i = ½ (round
 * to nearest, `stochastic: false`).  u_i is drawn from the run's seed, this
 * worker's rank, the round and i alone, so a run repeats bit for bit.
 *
 * Wire: per block, its scale (f32, little-endian), then its q_i (int8).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lsgd/compressor.h"

typedef struct int8c {
    size_t dim, block;
    uint64_t seed;
    int rank, stochastic;
} int8c;

static int int8_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                       lsgd_error *err)
{
    int8c *c = malloc(sizeof *c);
    if (!c)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "int8: out of memory");
    *c = (int8c){.dim = info->dim, .block = (size_t)lsgd_param_number(p, "block"),
                 .seed = info->seed, .rank = info->rank,
                 .stochastic = lsgd_param_bool(p, "stochastic")};
    *self = c;
    return LSGD_OK;
}

static size_t int8_blocks(const int8c *c)
{
    return (c->dim + c->block - 1) / c->block;
}

static size_t int8_max_encoded_bytes(const void *self)
{
    const int8c *c = self;
    return c->dim + 4 * int8_blocks(c);
}

/* u_i of this round: the top 24 bits of a hash of (seed, rank, round, i). */
static float uniform(uint64_t key, size_t i)
{
    return (float)(lsgd_mix64(key + i) >> 40) * 0x1p-24f;
}

/* One block v[0..n) into its scale and q[0..n); i0 is its first index. */
static void quantize(const int8c *c, unsigned char *out, const float *v, size_t n, size_t i0,
                     uint64_t key)
{
    float most = 0.0f;
    for (size_t i = 0; i < n; i++)
        most = fmaxf(most, fabsf(v[i]));
    float s = most / 127.0f;
    lsgd_put_f32(out, s);
    for (size_t i = 0; i < n; i++) {
        float u = c->stochastic ? uniform(key, i0 + i) : 0.5f;
        float q = s > 0.0f ? floorf(v[i] / s + u) : 0.0f;
        q = fminf(fmaxf(q, -127.0f), 127.0f); /* t + u may round up to 128 */
        out[4 + i] = (unsigned char)(int8_t)q;
    }
}

static int int8_encode(const void *self, float *state, const float *in, uint64_t round,
                       void *bytes, size_t cap, size_t *written, lsgd_error *err)
{
    const int8c *c = self;
    for (size_t i = 0; i < c->dim; i++)
        if (!isfinite(in[i]))
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "int8: coordinate %zu is %g", i,
                                  (double)in[i]);
    uint64_t key = lsgd_mix64(c->seed ^ lsgd_mix64((uint64_t)c->rank ^ lsgd_mix64(round)));
    unsigned char *b = bytes;
    for (size_t at = 0; at < c->dim; at += c->block) {
        size_t n = c->dim - at < c->block ? c->dim - at : c->block;
        quantize(c, b, in + at, n, at, key);
        b += 4 + n;
    }
    *written = int8_max_encoded_bytes(c);
    return LSGD_OK;
}

static int int8_decode(const void *self, const void *bytes, size_t size, float *out,
                       lsgd_error *err)
{
    const int8c *c = self;
    if (size != int8_max_encoded_bytes(c))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "int8: a payload of %zu bytes, expected %zu",
                              size, int8_max_encoded_bytes(c));
    const unsigned char *b = bytes;
    for (size_t at = 0; at < c->dim; at += c->block, b += 4 + c->block)
        if (!isfinite(lsgd_get_f32(b)) || lsgd_get_f32(b) < 0.0f)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "int8: block %zu has scale %g",
                                  at / c->block, (double)lsgd_get_f32(b));
    b = bytes;
    for (size_t at = 0; at < c->dim; at += c->block) {
        size_t n = c->dim - at < c->block ? c->dim - at : c->block;
        float s = lsgd_get_f32(b);
        for (size_t i = 0; i < n; i++)
            out[at + i] += (float)(int8_t)b[4 + i] * s;
        b += 4 + n;
    }
    return LSGD_OK;
}

static const lsgd_compressor_ops int8_ops = {
    .struct_size = sizeof(lsgd_compressor_ops),
    .create = int8_create,
    .destroy = free,
    .max_encoded_bytes = int8_max_encoded_bytes,
    .encode = int8_encode,
    .decode = int8_decode,
};

LSGD_PLUGIN(LSGD_KIND_COMPRESSOR, "int8", "1.0.0", &int8_ops);
