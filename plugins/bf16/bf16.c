/*
 * bf16.c — bfloat16 on the wire: the top 16 bits of each float32 (1 sign,
 * 8 exponent, 7 fraction bits), rounded to nearest even, 2·dim bytes.
 * float32's range, about 2 decimal digits; decoding puts the 16 bits back
 * on top of zeros, exactly.  A non-finite value is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "lsgd/compressor.h"

/* Round the low 16 bits away, ties to the even high half. */
static uint16_t bf16_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static int bf16_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                       lsgd_error *err)
{
    size_t *dim = malloc(sizeof *dim);
    if (!dim)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "bf16: out of memory");
    *dim = info->dim;
    *self = dim;
    return LSGD_OK;
}

static size_t bf16_max_encoded_bytes(const void *self)
{
    return *(const size_t *)self * 2;
}

static int bf16_encode(const void *self, float *state, const float *in, uint64_t round,
                       void *bytes, size_t cap, size_t *written, lsgd_error *err)
{
    size_t dim = *(const size_t *)self;
    unsigned char *b = bytes;
    for (size_t i = 0; i < dim; i++) {
        uint16_t h = bf16_of(in[i]);
        if ((h & 0x7f80) == 0x7f80)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "bf16: coordinate %zu is %g, beyond bfloat16's range", i,
                                  (double)in[i]);
        memcpy(b + 2 * i, &h, 2);
    }
    *written = 2 * dim;
    return LSGD_OK;
}

static int bf16_decode(const void *self, const void *bytes, size_t size, float *out,
                       lsgd_error *err)
{
    size_t dim = *(const size_t *)self;
    if (size != 2 * dim)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "bf16: a payload of %zu bytes, expected %zu",
                              size, 2 * dim);
    const unsigned char *b = bytes;
    for (size_t i = 0; i < dim; i++) {
        uint16_t h;
        memcpy(&h, b + 2 * i, 2);
        uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, sizeof f);
        out[i] += f;
    }
    return LSGD_OK;
}

static const lsgd_compressor_ops bf16_ops = {
    .struct_size = sizeof(lsgd_compressor_ops),
    .create = bf16_create,
    .destroy = free,
    .max_encoded_bytes = bf16_max_encoded_bytes,
    .encode = bf16_encode,
    .decode = bf16_decode,
};

LSGD_PLUGIN(LSGD_KIND_COMPRESSOR, "bf16", "1.0.0", &bf16_ops);
