/*
 * reference_dump.c — reading PyTorch reference dumps for the tests
 * (reference_dump.h).
 */
#include "reference_dump.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

json_t *reference_meta(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "tests/data/%s/%s.json", dir, name);
    json_error_t jerr;
    json_t *meta = json_load_file(test_root_path(path), 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(meta);
    return meta;
}

float *reference_floats(const char *path, size_t floats)
{
    size_t size = 0;
    char *bytes = test_read_file(test_root_path(path), &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    CU_ASSERT_EQUAL_FATAL(size, floats * sizeof(float));
    float *blob = malloc(floats * sizeof(float));
    memcpy(blob, bytes, floats * sizeof(float));
    free(bytes);
    return blob;
}

lsgd_dataset *reference_set(const float *X, const float *y, size_t n, size_t d, int classes,
                            const char *name)
{
    lsgd_dataset *set = calloc(1, sizeof *set);
    set->n = n, set->d = d;
    set->classes = classes;
    set->X = malloc(n * d * sizeof(float));
    set->y = malloc(n * sizeof(float));
    set->label_values = malloc((size_t)classes * sizeof(float));
    set->source = strdup(name);
    memcpy(set->X, X, n * d * sizeof(float));
    memcpy(set->y, y, n * sizeof(float));
    for (int c = 0; c < classes; c++)
        set->label_values[c] = (float)c;
    return set;
}

double reference_relative_error(const float *a, const float *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return diff / fmax(scale, 1e-30);
}
