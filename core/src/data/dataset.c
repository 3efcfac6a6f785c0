/*
 * dataset.c — loading a configured data set (dispatch to the format
 * readers), the `data` object as a whole (train, test file or split,
 * normalization), label inference and alignment, subsets and splits.
 */
#include "data/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "data/shared_rows.h"
#include "util/limits.h"
#include "util/rng.h"

/* Stream tag of the test split's shuffle ("split"). */
#define SPLIT_STREAM 0x73706c6974ull

/* v as a long long: an integer, or a real with an integral value within
 * range (no cast of a real that does not fit, which C leaves undefined). */
static int integral_value(long long *out, const json_t *v)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    double x = json_is_real(v) ? json_real_value(v) : NAN;
    if (!(x == floor(x) && x >= -0x1p63 && x < 0x1p63))
        return 0;
    *out = (long long)x;
    return 1;
}

long long json_int_or(const json_t *obj, const char *name, long long def)
{
    long long value;
    return integral_value(&value, obj ? json_object_get(obj, name) : NULL) ? value : def;
}

int json_count_or(long long *out, const json_t *obj, const char *name, long long def,
                  long long min, unsigned long long max, const char *key, lsgd_error *err)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;
    *out = def;
    if (!v)
        return LSGD_OK;
    if (!integral_value(out, v))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: expected an integer in [%lld, %llu]",
                              key, name, min, max);
    if (*out < min)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: %lld is below the minimum %lld", key,
                              name, *out, min);
    if ((unsigned long long)*out > max)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: %lld is above lsgd's limit %llu",
                              key, name, *out, max);
    return LSGD_OK;
}

double json_number_or(const json_t *obj, const char *name, double def)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;
    return json_is_number(v) ? json_number_value(v) : def;
}

const char *json_string_or(const json_t *obj, const char *name, const char *def)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : def;
}

int json_bool_or(const json_t *obj, const char *name, int def)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : def;
}

lsgd_dataset *dataset_new(const char *source)
{
    lsgd_dataset *set = calloc(1, sizeof *set);
    if (set)
        set->source = strdup(source ? source : "");
    return set;
}

void lsgd_dataset_free(lsgd_dataset *set)
{
    if (!set)
        return;
    if (set->shared) { /* the arrays are views of the host's mapping */
        lsgd_shared_rows_release(set->shared);
        free(set->source);
        free(set);
        return;
    }
    free(set->label_values);
    free(set->y);
    free(set->X);
    free(set->row_ptr);
    free(set->col);
    free(set->val);
    free(set->truth);
    free(set->source);
    free(set);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The sorted distinct values of labels[n] into values (at most max). */
static size_t distinct_labels(double *values, size_t max, const double *labels, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < count && values[k] != labels[i])
            k++;
        if (k == count) {
            if (count == max)
                return max + 1;
            values[count++] = labels[i];
        }
    }
    qsort(values, count, sizeof *values, compare_double);
    return count;
}

static int all_integers(const double *labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (labels[i] != floor(labels[i]) || fabs(labels[i]) > 1e9)
            return 0;
    return 1;
}

int dataset_set_labels(lsgd_dataset *set, const double *labels, size_t n)
{
    double values[DATASET_MAX_CLASSES + 1];
    size_t count = all_integers(labels, n) ? distinct_labels(values, DATASET_MAX_CLASSES, labels, n)
                                           : DATASET_MAX_CLASSES + 1;
    set->y = malloc((n ? n : 1) * sizeof *set->y);
    if (!set->y)
        return LSGD_ERR_RUNTIME;
    if (count > DATASET_MAX_CLASSES) { /* regression */
        set->classes = 0;
        for (size_t i = 0; i < n; i++)
            set->y[i] = (float)labels[i];
        return LSGD_OK;
    }
    /* Binary sets keep both classes even when a file holds only one. */
    if (count == 1 && (values[0] == -1 || values[0] == 1))
        values[0] = -1, values[1] = 1, count = 2;
    else if (count == 1)
        values[1] = values[0] + 1, count = 2;
    set->classes = (int)count;
    set->label_values = malloc(count * sizeof *set->label_values);
    if (!set->label_values)
        return LSGD_ERR_RUNTIME;
    for (size_t k = 0; k < count; k++)
        set->label_values[k] = (float)values[k];
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (values[k] != labels[i])
            k++;
        set->y[i] = (float)k;
    }
    return LSGD_OK;
}

int lsgd_dataset_align_labels(lsgd_dataset *test, const lsgd_dataset *train, const char *key,
                              lsgd_error *err)
{
    if (train->classes == 0) { /* regression: targets are the label values */
        if (test->classes > 0)
            for (size_t i = 0; i < test->n; i++)
                test->y[i] = test->label_values[(size_t)test->y[i]];
        free(test->label_values);
        test->label_values = NULL;
        test->classes = 0;
        return LSGD_OK;
    }
    if (test->classes == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: %s has non-integer labels but %s is a classification set "
                              "with %d classes",
                              key, test->source, train->source, train->classes);
    for (size_t i = 0; i < test->n; i++) {
        float value = test->label_values[(size_t)test->y[i]];
        int k = 0;
        while (k < train->classes && train->label_values[k] != value)
            k++;
        if (k == train->classes)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s: sample %zu of %s has label %g, which the training set %s "
                                  "does not have (it has %d classes)",
                                  key, i + 1, test->source, value, train->source, train->classes);
        test->y[i] = (float)k;
    }
    float *values = malloc((size_t)train->classes * sizeof *values);
    if (!values)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", key);
    memcpy(values, train->label_values, (size_t)train->classes * sizeof *values);
    free(test->label_values);
    test->label_values = values;
    test->classes = train->classes;
    return LSGD_OK;
}

static int copy_labels(lsgd_dataset *dst, const lsgd_dataset *src)
{
    dst->classes = src->classes;
    dst->unit_max = src->unit_max;
    memcpy(dst->sample_shape, src->sample_shape, sizeof dst->sample_shape);
    if (src->classes > 0) {
        dst->label_values = malloc((size_t)src->classes * sizeof(float));
        if (!dst->label_values)
            return LSGD_ERR_RUNTIME;
        memcpy(dst->label_values, src->label_values, (size_t)src->classes * sizeof(float));
    }
    if (src->truth) {
        dst->truth = malloc(src->d * sizeof(float));
        if (!dst->truth)
            return LSGD_ERR_RUNTIME;
        memcpy(dst->truth, src->truth, src->d * sizeof(float));
    }
    return LSGD_OK;
}

static int copy_rows_sparse(lsgd_dataset *dst, const lsgd_dataset *set, const uint32_t *rows,
                            size_t n)
{
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++)
        nnz += set->row_ptr[rows[i] + 1] - set->row_ptr[rows[i]];
    dst->row_ptr = malloc((n + 1) * sizeof *dst->row_ptr);
    dst->col = malloc((nnz ? nnz : 1) * sizeof *dst->col);
    dst->val = malloc((nnz ? nnz : 1) * sizeof *dst->val);
    if (!dst->row_ptr || !dst->col || !dst->val)
        return LSGD_ERR_RUNTIME;
    dst->row_ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t begin = set->row_ptr[rows[i]], len = set->row_ptr[rows[i] + 1] - begin;
        memcpy(dst->col + dst->row_ptr[i], set->col + begin, len * sizeof *dst->col);
        memcpy(dst->val + dst->row_ptr[i], set->val + begin, len * sizeof *dst->val);
        dst->row_ptr[i + 1] = dst->row_ptr[i] + len;
    }
    return LSGD_OK;
}

lsgd_dataset *lsgd_dataset_subset(const lsgd_dataset *set, const uint32_t *rows, size_t n)
{
    lsgd_dataset *dst = dataset_new(set->source);
    if (!dst)
        return NULL;
    dst->n = n;
    dst->d = set->d;
    int rc = copy_labels(dst, set);
    dst->y = malloc((n ? n : 1) * sizeof *dst->y);
    if (rc != LSGD_OK || !dst->y)
        goto fail;
    for (size_t i = 0; i < n; i++)
        dst->y[i] = set->y[rows[i]];
    if (set->X) {
        dst->X = malloc((n * set->d > 0 ? n * set->d : 1) * sizeof *dst->X);
        if (!dst->X)
            goto fail;
        for (size_t i = 0; i < n; i++)
            memcpy(dst->X + i * set->d, set->X + (size_t)rows[i] * set->d, set->d * sizeof(float));
    } else if (copy_rows_sparse(dst, set, rows, n) != LSGD_OK) {
        goto fail;
    }
    return dst;
fail:
    lsgd_dataset_free(dst);
    return NULL;
}

int lsgd_dataset_split(lsgd_dataset **train, lsgd_dataset **test, double fraction,
                       uint64_t seed, lsgd_error *err)
{
    lsgd_dataset *all = *train;
    size_t n_test = (size_t)llround(fraction * (double)all->n);
    if (!(fraction > 0 && fraction < 1) || n_test == 0 || n_test >= all->n)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "data.test.split: %g of %zu samples leaves an empty train or test "
                              "set; expected a fraction in (0,1) giving at least one of each",
                              fraction, all->n);
    uint32_t *perm = malloc(all->n * sizeof *perm);
    if (!perm)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "data.test.split: out of memory");
    lsgd_rng rng;
    lsgd_rng_seed(&rng, seed, SPLIT_STREAM);
    for (size_t i = 0; i < all->n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = all->n - 1; i > 0; i--) {
        size_t j = lsgd_rng_below(&rng, i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    size_t n_train = all->n - n_test;
    lsgd_dataset *kept = lsgd_dataset_subset(all, perm, n_train);
    lsgd_dataset *held = lsgd_dataset_subset(all, perm + n_train, n_test);
    free(perm);
    if (!kept || !held) {
        lsgd_dataset_free(kept);
        lsgd_dataset_free(held);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "data.test.split: out of memory");
    }
    lsgd_dataset_free(all);
    *train = kept;
    *test = held;
    return LSGD_OK;
}

static int load_format(lsgd_dataset **out, const json_t *cfg, const char *format,
                       size_t features, uint64_t seed, const char *key, lsgd_error *err)
{
    if (strcmp(format, "synthetic") == 0)
        return lsgd_synthetic_generate(out, cfg, key, features, seed, err);
    if (strcmp(format, "idx") == 0) {
        const char *images = json_string_or(cfg, "images", NULL);
        const char *labels = json_string_or(cfg, "labels", NULL);
        if (!images || !labels)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s.%s: missing; the idx format needs \"images\" and \"labels\"",
                                  key, images ? "labels" : "images");
        return lsgd_idx_read(out, images, labels, features, err);
    }
    if (strcmp(format, "cifar10") == 0)
        return lsgd_cifar10_read(out, cfg, key, features, err);
    const char *path = json_string_or(cfg, "path", NULL);
    if (!path)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.path: missing; the %s format needs a file path", key, format);
    if (strcmp(format, "libsvm") == 0)
        return lsgd_libsvm_read(out, path, features, err);
    if (strcmp(format, "csv") == 0) {
        long long column;
        int rc = json_count_or(&column, cfg, "label_column", 0, 0, LSGD_MAX_FEATURES, key, err);
        if (rc != LSGD_OK)
            return rc;
        return lsgd_csv_read(out, path, (size_t)column, json_bool_or(cfg, "header", 0), features,
                             err);
    }
    return lsgd_error_set(err, LSGD_ERR_INPUT,
                          "%s.format: '%s'; expected libsvm, idx, cifar10, csv or synthetic", key, format);
}

int lsgd_dataset_load(lsgd_dataset **out, const json_t *cfg, const char *key, size_t features,
                      uint64_t seed, lsgd_error *err)
{
    *out = NULL;
    if (!json_is_object(cfg))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: expected an object with \"format\"", key);
    const char *format = json_string_or(cfg, "format", NULL);
    if (!format)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.format: missing; expected libsvm, idx, cifar10, csv or synthetic", key);
    long long want;
    int rc = json_count_or(&want, cfg, "features", 0, 1, LSGD_MAX_FEATURES, key, err);
    if (rc != LSGD_OK)
        return rc;
    /* The config's feature count, unless the caller's (train's) overrides it. */
    if (want > 0 && features > 0 && (size_t)want != features)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.features: %lld, but the training set has %zu features", key,
                              want, features);
    if (features == 0)
        features = (size_t)want;
    rc = load_format(out, cfg, format, features, seed, key, err);
    if (rc != LSGD_OK && strcmp(format, "synthetic") != 0) /* generators name their keys */
        return lsgd_error_prefix(err, "%s: ", key);
    if (rc != LSGD_OK)
        return rc;
    return LSGD_OK;
}

int lsgd_data_load(lsgd_dataset **train, lsgd_dataset **test, const json_t *data,
                   uint64_t seed, lsgd_error *err)
{
    *train = *test = NULL;
    int rc = lsgd_dataset_load(train, json_object_get(data, "train"), "data.train", 0, seed, err);
    if (rc != LSGD_OK)
        return rc;
    json_t *test_cfg = json_object_get(data, "test");
    if (test_cfg && json_object_get(test_cfg, "split")) {
        double fraction = json_number_or(test_cfg, "split", 0);
        rc = lsgd_dataset_split(train, test, fraction, seed, err);
    } else if (test_cfg) {
        rc = lsgd_dataset_load(test, test_cfg, "data.test", (*train)->d, seed, err);
        if (rc == LSGD_OK && (*test)->d != (*train)->d)
            rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                                "data.test: %s has %zu features but data.train %s has %zu",
                                (*test)->source, (*test)->d, (*train)->source, (*train)->d);
        if (rc == LSGD_OK)
            rc = lsgd_dataset_align_labels(*test, *train, "data.test", err);
    }
    if (rc == LSGD_OK)
        rc = lsgd_dataset_normalize(*train, *test, json_string_or(data, "normalize", "none"), err);
    if (rc != LSGD_OK) {
        lsgd_dataset_free(*train);
        lsgd_dataset_free(*test);
        *train = *test = NULL;
    }
    return rc;
}
