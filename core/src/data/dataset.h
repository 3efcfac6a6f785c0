/*
 * dataset.h — what workers train on: a table of samples with labels,
 * dense or sparse (CSR), loaded from LIBSVM, MNIST IDX, CIFAR-10, CSV or
 * generated.
 *
 * Classification labels are class indices 0..classes-1 in y; label_values
 * maps them back to what the file said (LIBSVM's −1/+1 become 0/1, so a
 * binary model reads class 1 as +1).  Regression sets have classes == 0
 * and y holds the targets.
 */
#ifndef LSGD_DATASET_H
#define LSGD_DATASET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lsgd/errors.h"

typedef struct lsgd_dataset {
    size_t n;            /* samples */
    size_t d;            /* features */
    int classes;         /* 0: regression; ≥ 2: classification */
    float *label_values; /* [classes] the label each class index stood for */
    float *y;            /* [n] class index, or regression target */
    /* Dense sets: X[n*d] row-major.  Sparse sets: X == NULL and CSR below. */
    float *X;
    size_t *row_ptr; /* [n+1] */
    uint32_t *col;   /* [nnz] 0-based feature index */
    float *val;      /* [nnz] */
    /* Synthetic sets with a known answer (e.g. the separator of
     * linearly-separable data): [d] or NULL. */
    float *truth;
    char *source; /* file path or generator, for messages */
    /* normalize "unit" divides by this when > 0 (255 for IDX pixels);
     * 0: min-max per feature (dense) or ÷ max|x_j| (sparse). */
    float unit_max;
    /* Image sets: each row is a [channels, height, width] image, row-major
     * (IDX images [1, rows, cols], CIFAR-10 [3, 32, 32]); the product is d.
     * All 0 when rows are flat feature vectors. */
    size_t sample_shape[3];
    /* Non-NULL when the arrays above (not source) are views into a mapping
     * shared by the workers of a host (shared_rows.h); free releases it. */
    struct lsgd_shared_rows *shared;
} lsgd_dataset;

/* A worker's share of the training set: indices into it. */
typedef struct lsgd_shard {
    uint32_t *rows;
    size_t n;
} lsgd_shard;

/*
 * Load the set described by cfg (config key `key`, e.g. "data.train"):
 * {"format": "libsvm"|"idx"|"csv"|"synthetic", ...}.  Paths are relative
 * to the working directory.  Errors name the file, line and column.
 * `features` is the feature count to expect (0: take what the file says),
 * so a test set agrees with its training set.
 */
int lsgd_dataset_load(lsgd_dataset **out, const json_t *cfg, const char *key,
                      size_t features, uint64_t seed, lsgd_error *err);
void lsgd_dataset_free(lsgd_dataset *set);

/* data.normalize: "none" | "unit" (÷255 for IDX, min-max otherwise) |
 * "standardize" (train's mean and deviation applied to both). test may be NULL. */
int lsgd_dataset_normalize(lsgd_dataset *train, lsgd_dataset *test, const char *mode,
                           lsgd_error *err);

/* data.test = {"split": f}: move a seeded fraction f of train into *test. */
int lsgd_dataset_split(lsgd_dataset **train, lsgd_dataset **test, double fraction,
                       uint64_t seed, lsgd_error *err);

/* data.partition = {"type": "iid"|"shards"|"dirichlet", ...}: the rows of
 * worker `rank`, deterministic from seed, every row in exactly one shard
 * (iid, shards) or in one shard (dirichlet, sizes may differ). */
int lsgd_partition(lsgd_shard *out, const lsgd_dataset *set, const json_t *cfg, int rank,
                   int world, uint64_t seed, lsgd_error *err);
void lsgd_shard_free(lsgd_shard *shard);

/* counts[classes] of the labels in a shard. */
void lsgd_shard_histogram(const lsgd_dataset *set, const lsgd_shard *shard, size_t *counts);

/* Every worker's share at once, as lsgd_partition deals it:
 * samples[world] rows per worker and, for classification sets,
 * counts[world × classes] (row m: worker m's label histogram; untouched
 * for regression sets). */
int lsgd_partition_histograms(size_t *samples, size_t *counts, const lsgd_dataset *set,
                              const json_t *cfg, int world, uint64_t seed, lsgd_error *err);

/* Give test the class indices of train: the same label value gets the same
 * index (test's classes and label_values become train's).  A label train
 * never saw is an LSGD_ERR_INPUT naming key (e.g. "data.test"). */
int lsgd_dataset_align_labels(lsgd_dataset *test, const lsgd_dataset *train, const char *key,
                              lsgd_error *err);

/* The whole `data` object in one call: data.train, then data.test (a file
 * with train's feature count and labels, or {"split": f}), then
 * data.normalize.  *test is NULL when data.test is absent. */
int lsgd_data_load(lsgd_dataset **train, lsgd_dataset **test, const json_t *data,
                   uint64_t seed, lsgd_error *err);

/* lsgd_data_load through the host's one shared, read-only copy of the sets
 * (data/shared_rows.h): the first process decodes, the others map its file;
 * data.shared false loads privately.  The sets' arrays must not be written. */
int lsgd_data_load_shared(lsgd_dataset **train, lsgd_dataset **test, const json_t *data,
                          uint64_t seed, lsgd_error *err);

/* A new set holding rows[n] of set (dense or sparse). */
lsgd_dataset *lsgd_dataset_subset(const lsgd_dataset *set, const uint32_t *rows, size_t n);

#endif
