/*
 * readers.h — the data formats behind lsgd_dataset_load, and the small
 * pieces they share (allocation, label inference, JSON key reading).
 *
 * Every reader returns LSGD_OK and a complete set, or an LSGD_ERR_INPUT
 * whose one-line message names the file, line and column (text formats) or
 * byte offset (IDX), what was found and what was expected.  `features` > 0
 * is the feature count the set must have (a test set agreeing with its
 * training set, or the config's `features`).
 */
#ifndef LSGD_DATA_READERS_H
#define LSGD_DATA_READERS_H

#include <stdio.h>

#include "data/dataset.h"

int lsgd_libsvm_read(lsgd_dataset **out, const char *path, size_t features, lsgd_error *err);
int lsgd_idx_read(lsgd_dataset **out, const char *images, const char *labels, size_t features,
                  lsgd_error *err);
/* cfg is the DATASET object {"format":"cifar10","files":[…],"dir":…}; key names it. */
int lsgd_cifar10_read(lsgd_dataset **out, const json_t *cfg, const char *key, size_t features,
                      lsgd_error *err);
int lsgd_csv_read(lsgd_dataset **out, const char *path, size_t label_column, int header,
                  size_t features, lsgd_error *err);
/* cfg is the DATASET object {"format":"synthetic","generator":…}; key names it. */
int lsgd_synthetic_generate(lsgd_dataset **out, const json_t *cfg, const char *key,
                            size_t features, uint64_t seed, lsgd_error *err);

/* ---- text formats (text.c) ---- */

enum { TEXT_MAX_LINE = 1 << 20 }; /* 1 MiB */
enum { TEXT_END = -1, TEXT_LINE = 0 }; /* and error codes > 0 */

/* Lines of a text file: line is the number of the last line read. */
typedef struct text_lines {
    FILE *f;
    const char *path;
    size_t line;
    char *buf; /* [TEXT_MAX_LINE + 1]: the last line, NUL-terminated */
} text_lines;

int text_lines_open(text_lines *t, FILE *f, const char *path, lsgd_error *err);
/* The next line into t->buf (without its end) and *len: TEXT_LINE, TEXT_END,
 * or an LSGD_ERR_INPUT "file:line:column: …" (a NUL byte, a line over
 * 1 MiB, a read error). */
int text_lines_next(text_lines *t, size_t *len, lsgd_error *err);
void text_lines_close(text_lines *t);

/* The number spanning exactly [s, end): TEXT_NUMBER, TEXT_NOT_A_NUMBER
 * (also NaN and Inf) or TEXT_OUT_OF_RANGE (beyond float range). */
enum { TEXT_NUMBER, TEXT_NOT_A_NUMBER, TEXT_OUT_OF_RANGE };
int text_number(double *out, const char *s, const char *end);

/* An empty set whose source is a copy of `source`. */
lsgd_dataset *dataset_new(const char *source);

/* From the raw labels[n] a file held: classification when every label is an
 * integer (±1 and 0/1 give two classes; else the sorted distinct values,
 * up to DATASET_MAX_CLASSES), regression otherwise.  Fills classes,
 * label_values and y (allocated here). */
enum { DATASET_MAX_CLASSES = 256 };
int dataset_set_labels(lsgd_dataset *set, const double *labels, size_t n);

/* Config helpers: an integer / number / string / bool member of obj, or def
 * when absent (or, for json_int_or, not an integer). */
long long json_int_or(const json_t *obj, const char *name, long long def);
/* obj[name], a size or count, into *out (def when absent): an integer (a
 * real with an integral value counts) in [min, max], else an LSGD_ERR_INPUT
 * naming key.name and the bound; max is one of util/limits.h. */
int json_count_or(long long *out, const json_t *obj, const char *name, long long def,
                  long long min, unsigned long long max, const char *key, lsgd_error *err);
double json_number_or(const json_t *obj, const char *name, double def);
const char *json_string_or(const json_t *obj, const char *name, const char *def);
int json_bool_or(const json_t *obj, const char *name, int def);

#endif
