/*
 * npy.c — NumPy .npy v1.0 float32 (npy.h).  The header is the magic
 * "\x93NUMPY", version 1.0, a little-endian uint16 length and a Python dict
 * literal padded with spaces to a multiple of 64 bytes, ending in '\n'.
 */
#include "io/npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "util/input_file.h"
#include "util/limits.h"

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

int lsgd_npy_write(const char *path, const float *data, const size_t *shape, int ndim,
                   lsgd_error *err)
{
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%zu,%s", shape[i],
                        i + 1 < ndim ? " " : "");
        count *= shape[i];
    }
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    size_t total = 10 + (size_t)len + 1; /* magic+version+length, dict, '\n' */
    size_t padded = (total + 63) / 64 * 64;
    char header[640];
    memcpy(header, MAGIC, 6);
    header[6] = 1;
    header[7] = 0;
    uint16_t hlen = (uint16_t)(padded - 10);
    header[8] = (char)(hlen & 0xff);
    header[9] = (char)(hlen >> 8);
    memcpy(header + 10, dict, (size_t)len);
    memset(header + 10 + len, ' ', padded - 10 - (size_t)len - 1);
    header[padded - 1] = '\n';

    lsgd_atomic_file a;
    if (lsgd_atomic_open(&a, path, err))
        return err->code;
    fwrite(header, 1, padded, a.f);
    if (count)
        fwrite(data, sizeof *data, count, a.f); /* x86-64 is little-endian: '<f4' */
    return lsgd_atomic_commit(&a, err);
}

/* The element count of the header's shape tuple, each product checked;
 * 0 when it wraps. */
static int shape_count(size_t *n, const char *shape)
{
    *n = 1;
    for (const char *p = shape; *p && *p != ')';) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (!lsgd_product_within(n, *n, (size_t)v, SIZE_MAX / sizeof(float)))
            return 0;
        p = end;
    }
    return 1;
}

int lsgd_npy_read(const char *path, float **data, size_t *count, lsgd_error *err)
{
    *data = NULL;
    *count = 0;
    FILE *f;
    size_t size;
    if (lsgd_input_open(&f, path, ".npy file", NULL, &size, err) != LSGD_OK)
        return err->code;
    unsigned char pre[10];
    char dict[65536];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, MAGIC, 6) != 0 || pre[6] != 1) {
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: not a NumPy .npy v1 file", path);
    }
    size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (fread(dict, 1, hlen, f) != hlen) {
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: truncated .npy header", path);
    }
    dict[hlen] = '\0';
    const char *shape = strstr(dict, "'shape': (");
    if (!strstr(dict, "'<f4'") || strstr(dict, "'fortran_order': True") || !shape) {
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: expected a float32 ('<f4') C-order array", path);
    }
    /* the values are the bytes after the header: a shape that asks
     * for more is refused before anything is allocated */
    size_t n, after = size > 10 + hlen ? size - 10 - hlen : 0;
    if (!shape_count(&n, shape + 10) || n > after / sizeof(float)) {
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: the header's shape asks for more float32 values than the "
                              "%zu bytes after it hold", path, after);
    }
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf || fread(buf, sizeof *buf, n, f) != n) {
        free(buf);
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: expected %zu float32 values", path, n);
    }
    fclose(f);
    *data = buf;
    *count = n;
    return LSGD_OK;
}
