/*
 * reference_dump.h — what the tests against PyTorch share: reading a
 * float32 dump written by a tools/ script (tools/cnn-reference.py,
 * tools/export-model), making its samples a data set, and comparing
 * vectors with a relative tolerance.
 */
#ifndef LSGD_TEST_REFERENCE_DUMP_H
#define LSGD_TEST_REFERENCE_DUMP_H

#include <jansson.h>
#include <stddef.h>

#include "data/dataset.h"

/* The JSON description tests/data/<dir>/<name>.json of a dump (a fatal
 * assertion when unreadable); decref it. */
json_t *reference_meta(const char *dir, const char *name);

/* The `floats` little-endian float32 numbers of the file at path (under
 * the source root), malloc'd; a fatal assertion when the size differs. */
float *reference_floats(const char *path, size_t floats);

/* A dense classification set of n rows X[n × d] and labels y[n] (class
 * indices), copied; `name` is its source. */
lsgd_dataset *reference_set(const float *X, const float *y, size_t n, size_t d, int classes,
                            const char *name);

/* max_i |a_i − b_i| / max_i |b_i| */
double reference_relative_error(const float *a, const float *b, size_t n);

#endif
