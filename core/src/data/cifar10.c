/*
 * cifar10.c — CIFAR-10's binary batches (data_batch_1.bin … test_batch.bin):
 * records of 1 label byte (0..9) then 3072 pixel bytes, the 32×32 red plane,
 * then green, then blue; 10,000 records per file in the real data, any whole
 * number of records here.
 *
 * Rows are the pixels as floats 0..255 in the file's order, so each row is a
 * [3, 32, 32] image (sample_shape); normalize "unit" divides by 255 as for
 * IDX.  Every set has the ten classes 0..9, whichever labels its files hold.
 * Sizes are checked before anything is allocated: a file must hold a whole
 * number of records, and all files together stay within util/limits.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/readers.h"
#include "util/input_file.h"
#include "util/limits.h"

enum {
    CIFAR_CLASSES = 10,
    CIFAR_CHANNELS = 3,
    CIFAR_SIDE = 32,
    CIFAR_PIXELS = CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE, /* 3072 */
    CIFAR_RECORD = 1 + CIFAR_PIXELS,                          /* 3073 */
    CIFAR_MAX_FILES = 1024,
    CIFAR_CHUNK_RECORDS = 256,
};

/* The records of one file: its size must be a whole number of them. */
static int count_records(size_t *records, const char *path, size_t size, lsgd_error *err)
{
    size_t whole = size / CIFAR_RECORD;
    if (size % CIFAR_RECORD)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: byte %zu: a partial record of %zu bytes after %zu whole ones; "
                              "expected a multiple of %d bytes (1 label byte + %d pixel bytes "
                              "per image)",
                              path, whole * CIFAR_RECORD, size % CIFAR_RECORD, whole,
                              CIFAR_RECORD, CIFAR_PIXELS);
    *records = whole;
    return LSGD_OK;
}

/* read() until len bytes or an error; a short file (it shrank since fstat)
 * is bad input. */
static int read_fully(int fd, unsigned char *buf, size_t len, const char *path, size_t at,
                      lsgd_error *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: byte %zu: cannot read: %s", path,
                                  at + got, strerror(errno));
        if (r == 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s: truncated while reading: ends at byte %zu", path, at + got);
        got += (size_t)r;
    }
    return LSGD_OK;
}

/* Records [0, records) of fd into X (rows from `row`) and labels. */
static int read_records(lsgd_dataset *set, unsigned char *labels, size_t row, int fd, size_t records,
                        const char *path, lsgd_error *err)
{
    unsigned char *chunk = malloc((size_t)CIFAR_CHUNK_RECORDS * CIFAR_RECORD);
    if (!chunk)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", path);
    int rc = LSGD_OK;
    for (size_t r = 0; r < records && rc == LSGD_OK; r += CIFAR_CHUNK_RECORDS) {
        size_t count = records - r < CIFAR_CHUNK_RECORDS ? records - r : CIFAR_CHUNK_RECORDS;
        rc = read_fully(fd, chunk, count * CIFAR_RECORD, path, r * CIFAR_RECORD, err);
        for (size_t k = 0; k < count && rc == LSGD_OK; k++) {
            const unsigned char *record = chunk + k * CIFAR_RECORD;
            if (record[0] >= CIFAR_CLASSES) {
                rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                                    "%s: record %zu (byte %zu): label %u; expected 0..9 "
                                    "(CIFAR-10's ten classes)",
                                    path, r + k + 1, (r + k) * CIFAR_RECORD, record[0]);
                break;
            }
            labels[row + r + k] = record[0];
            float *x = set->X + (row + r + k) * CIFAR_PIXELS;
            for (size_t j = 0; j < CIFAR_PIXELS; j++)
                x[j] = (float)record[1 + j];
        }
    }
    free(chunk);
    return rc;
}

typedef struct batch_file {
    char *path;
    int fd;
    size_t records;
} batch_file;

static int open_batches(batch_file *files, size_t count, size_t *total, lsgd_error *err)
{
    *total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t size;
        int rc = lsgd_input_open_fd(&files[i].fd, files[i].path, "CIFAR-10 batch", NULL, &size,
                                    err);
        if (rc == LSGD_OK)
            rc = count_records(&files[i].records, files[i].path, size, err);
        if (rc != LSGD_OK)
            return rc;
        if (files[i].records == 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: empty; expected records of %d bytes",
                                  files[i].path, CIFAR_RECORD);
        *total += files[i].records; /* each ≤ SIZE_MAX / 3073: no wrap over ≤ 1024 files */
        size_t values;
        if (*total > LSGD_MAX_SAMPLES ||
            !lsgd_product_within(&values, *total, CIFAR_PIXELS, LSGD_MAX_DENSE_VALUES))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s: the batches hold %zu images so far; expected at most "
                                  "%llu values in all (lsgd's limit)",
                                  files[i].path, *total, (unsigned long long)LSGD_MAX_DENSE_VALUES);
    }
    return LSGD_OK;
}

static int read_batches(lsgd_dataset **out, batch_file *files, size_t count, lsgd_error *err)
{
    size_t n;
    int rc = open_batches(files, count, &n, err);
    if (rc != LSGD_OK)
        return rc;
    lsgd_dataset *set = dataset_new(files[0].path);
    unsigned char *labels = malloc(n * sizeof *labels);
    if (set)
        set->X = malloc(n * CIFAR_PIXELS * sizeof *set->X);
    if (!set || !labels || !set->X) {
        lsgd_dataset_free(set);
        free(labels);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", files[0].path);
    }
    set->n = n;
    set->d = CIFAR_PIXELS;
    set->unit_max = 255.0f;
    set->sample_shape[0] = CIFAR_CHANNELS;
    set->sample_shape[1] = set->sample_shape[2] = CIFAR_SIDE;
    for (size_t i = 0, row = 0; i < count && rc == LSGD_OK; row += files[i].records, i++)
        rc = read_records(set, labels, row, files[i].fd, files[i].records, files[i].path, err);
    if (rc == LSGD_OK) { /* the ten classes 0..9, whichever the files hold */
        set->classes = CIFAR_CLASSES;
        set->label_values = malloc(CIFAR_CLASSES * sizeof *set->label_values);
        set->y = malloc(n * sizeof *set->y);
        if (!set->label_values || !set->y)
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", files[0].path);
    }
    for (int k = 0; rc == LSGD_OK && k < CIFAR_CLASSES; k++)
        set->label_values[k] = (float)k;
    for (size_t i = 0; rc == LSGD_OK && i < n; i++)
        set->y[i] = (float)labels[i];
    free(labels);
    if (rc != LSGD_OK) {
        lsgd_dataset_free(set);
        return rc;
    }
    *out = set;
    return LSGD_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir's data_batch_*.bin, in name order, into files (their paths). */
static int list_training_batches(batch_file *files, size_t *count, const char *dir,
                                 lsgd_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: cannot list the CIFAR-10 directory: %s",
                              dir, strerror(errno));
    struct dirent *e;
    int rc = LSGD_OK;
    while (rc == LSGD_OK && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "data_batch_", 11) || len < 15 ||
            strcmp(e->d_name + len - 4, ".bin"))
            continue;
        if (*count == CIFAR_MAX_FILES)
            rc = lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than %d batch files", dir,
                                CIFAR_MAX_FILES);
        else if (asprintf(&files[*count].path, "%s/%s", dir, e->d_name) < 0)
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
        else
            files[(*count)++].fd = -1;
    }
    closedir(d);
    if (rc == LSGD_OK && *count == 0)
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "%s: no data_batch_*.bin files; expected CIFAR-10's binary batches "
                            "(or list them in \"files\")",
                            dir);
    char **names = malloc((*count ? *count : 1) * sizeof *names);
    if (rc == LSGD_OK && !names)
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    if (rc == LSGD_OK) { /* sort the paths, then put them back */
        for (size_t i = 0; i < *count; i++)
            names[i] = files[i].path;
        qsort(names, *count, sizeof *names, by_name);
        for (size_t i = 0; i < *count; i++)
            files[i].path = names[i];
    }
    free(names);
    return rc;
}

/* cfg.files (relative to cfg.dir when given), else dir's training batches. */
static int configured_batches(batch_file *files, size_t *count, const json_t *cfg,
                              const char *key, lsgd_error *err)
{
    const char *dir = json_string_or(cfg, "dir", NULL);
    json_t *list = json_object_get(cfg, "files");
    *count = 0;
    if (!list && !dir)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.files: missing; the cifar10 format needs \"files\" (a list of "
                              "batch files) or \"dir\"",
                              key);
    if (!list)
        return list_training_batches(files, count, dir, err);
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > CIFAR_MAX_FILES)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.files: expected a list of 1 to %d file paths", key,
                              CIFAR_MAX_FILES);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *name = json_string_value(json_array_get(list, i));
        if (!name || !*name)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s.files[%zu]: expected a file path (a string)", key, i);
        int made = dir && name[0] != '/' ? asprintf(&files[i].path, "%s/%s", dir, name)
                                         : (files[i].path = strdup(name)) ? 0 : -1;
        if (made < 0)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
        files[i].fd = -1;
        *count = i + 1;
    }
    return LSGD_OK;
}

int lsgd_cifar10_read(lsgd_dataset **out, const json_t *cfg, const char *key, size_t features,
                      lsgd_error *err)
{
    if (features && features != CIFAR_PIXELS)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "CIFAR-10 images have %d pixels; expected %zu features",
                              CIFAR_PIXELS, features);
    batch_file *files = calloc(CIFAR_MAX_FILES, sizeof *files);
    if (!files)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    size_t count = 0;
    int rc = configured_batches(files, &count, cfg, key, err);
    if (rc == LSGD_OK)
        rc = read_batches(out, files, count, err);
    for (size_t i = 0; i < count; i++) {
        if (files[i].fd >= 0)
            close(files[i].fd);
        free(files[i].path);
    }
    free(files);
    return rc;
}
