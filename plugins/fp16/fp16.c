/*
 * fp16.c — IEEE half precision on the wire: each value rounded to the
 * nearest binary16 (ties to even), 2·dim bytes.  Halves are 1 sign, 5
 * exponent and 10 fraction bits: about 3 decimal digits, magnitudes from
 * 6e-8 (subnormal) to 65504.  A value that would round past 65504 (or is
 * not finite) is refused rather than sent as infinity.
 */
#include <stdlib.h>
#include <string.h>

#include "lsgd/compressor.h"

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Round to nearest even (F. Giesen's float_to_half_fast3_rtne).  |f| < 2⁻¹⁴:
 * adding 0.5 lets the float adder round the subnormal half's fraction;
 * otherwise re-bias the exponent and round the 13 dropped bits by hand. */
static uint16_t half_of(float value)
{
    const uint32_t denorm_magic = ((127 - 15) + (23 - 10) + 1) << 23;
    uint32_t f = bits_of(value), sign = f & 0x80000000u;
    f ^= sign;
    uint32_t h;
    if (f < (113u << 23)) {
        h = bits_of(float_of(f) + float_of(denorm_magic)) - denorm_magic;
    } else {
        uint32_t odd = (f >> 13) & 1;
        f += ((uint32_t)(15 - 127) << 23) + 0xfff + odd;
        h = f >> 13;
    }
    return (uint16_t)(h | sign >> 16);
}

/* Exact: every half is a float. */
static float float_of_half(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) /* zero or subnormal: m · 2⁻²⁴ */
        return float_of(sign | bits_of((float)m * 0x1p-24f));
    return float_of(sign | (e == 31 ? 0x7f800000u : (e + 112) << 23) | m << 13);
}

static int fp16_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                       lsgd_error *err)
{
    size_t *dim = malloc(sizeof *dim);
    if (!dim)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "fp16: out of memory");
    *dim = info->dim;
    *self = dim;
    return LSGD_OK;
}

static size_t fp16_max_encoded_bytes(const void *self)
{
    return *(const size_t *)self * 2;
}

static int fp16_encode(const void *self, float *state, const float *in, uint64_t round,
                       void *bytes, size_t cap, size_t *written, lsgd_error *err)
{
    size_t dim = *(const size_t *)self;
    unsigned char *b = bytes;
    for (size_t i = 0; i < dim; i++) {
        uint16_t h = half_of(in[i]);
        if ((h & 0x7c00) == 0x7c00)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "fp16: coordinate %zu is %g, beyond half precision's ±65504",
                                  i, (double)in[i]);
        memcpy(b + 2 * i, &h, 2);
    }
    *written = 2 * dim;
    return LSGD_OK;
}

static int fp16_decode(const void *self, const void *bytes, size_t size, float *out,
                       lsgd_error *err)
{
    size_t dim = *(const size_t *)self;
    if (size != 2 * dim)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "fp16: a payload of %zu bytes, expected %zu",
                              size, 2 * dim);
    const unsigned char *b = bytes;
    for (size_t i = 0; i < dim; i++) {
        uint16_t h;
        memcpy(&h, b + 2 * i, 2);
        out[i] += float_of_half(h);
    }
    return LSGD_OK;
}

static const lsgd_compressor_ops fp16_ops = {
    .struct_size = sizeof(lsgd_compressor_ops),
    .create = fp16_create,
    .destroy = free,
    .max_encoded_bytes = fp16_max_encoded_bytes,
    .encode = fp16_encode,
    .decode = fp16_decode,
};

LSGD_PLUGIN(LSGD_KIND_COMPRESSOR, "fp16", "1.0.0", &fp16_ops);
