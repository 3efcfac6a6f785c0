/*
 * none.c — the identity compressor: the vector travels as its dim float32
 * values, 4·dim bytes, and decodes to itself bit for bit.  With it the
 * compressed average equals the uncompressed one.
 */
#include <stdlib.h>
#include <string.h>

#include "lsgd/compressor.h"

static int none_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                       lsgd_error *err)
{
    size_t *dim = malloc(sizeof *dim);
    if (!dim)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "none: out of memory");
    *dim = info->dim;
    *self = dim;
    return LSGD_OK;
}

static size_t none_max_encoded_bytes(const void *self)
{
    return *(const size_t *)self * sizeof(float);
}

static int none_encode(const void *self, float *state, const float *in, uint64_t round,
                       void *bytes, size_t cap, size_t *written, lsgd_error *err)
{
    *written = none_max_encoded_bytes(self);
    memcpy(bytes, in, *written);
    return LSGD_OK;
}

static int none_decode(const void *self, const void *bytes, size_t size, float *out,
                       lsgd_error *err)
{
    size_t dim = *(const size_t *)self;
    if (size != dim * sizeof(float))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "none: a payload of %zu bytes, expected %zu",
                              size, dim * sizeof(float));
    const unsigned char *b = bytes;
    for (size_t i = 0; i < dim; i++)
        out[i] += lsgd_get_f32(b + 4 * i);
    return LSGD_OK;
}

static const lsgd_compressor_ops none_ops = {
    .struct_size = sizeof(lsgd_compressor_ops),
    .create = none_create,
    .destroy = free,
    .max_encoded_bytes = none_max_encoded_bytes,
    .encode = none_encode,
    .decode = none_decode,
};

LSGD_PLUGIN(LSGD_KIND_COMPRESSOR, "none", "1.0.0", &none_ops);
