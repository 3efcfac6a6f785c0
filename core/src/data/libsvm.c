/*
 * libsvm.c — the LIBSVM / SVMlight text format, read into a CSR set.
 *
 *   <label> <index>:<value> <index>:<value> ...   # comment
 *
 * Indices are 1-based and strictly increasing; SVMlight's "qid:<n>" tokens
 * are skipped; blank lines and '#' comments are ignored.  Labels become
 * class indices (dataset_set_labels).  A malformed line is an
 * LSGD_ERR_INPUT "file:line:column: what; expected what".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "util/input_file.h"
#include "util/limits.h"

typedef struct libsvm_parse {
    const char *path;
    size_t line;
    const char *text; /* the line, for columns */
    size_t features;  /* > 0: indices must not exceed it */
    /* growing CSR arrays */
    double *labels;
    size_t n, labels_cap;
    size_t *row_ptr;
    uint32_t *col;
    float *val;
    size_t nnz, nnz_cap;
    size_t max_index;
} libsvm_parse;

static int fail(libsvm_parse *p, const char *at, lsgd_error *err, const char *what)
{
    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s:%zu:%zu: %s", p->path, p->line,
                          (size_t)(at - p->text) + 1, what);
}

static const char *token_end(const char *s)
{
    while (*s && !isspace((unsigned char)*s) && *s != '#')
        s++;
    return s;
}

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

/* "label 'abc' is not a number" / "value '1e39' is out of float range",
 * the token quoted with its bytes escaped. */
static int bad_number(libsvm_parse *p, const char *s, const char *end, const char *what,
                      int verdict, lsgd_error *err)
{
    char quoted[200], text[300];
    lsgd_excerpt(quoted, sizeof quoted, s, (size_t)(end - s), 40);
    snprintf(text, sizeof text, "%s '%s' %s", what, quoted,
             verdict == TEXT_OUT_OF_RANGE ? "is out of float range (beyond ±3.4e38)"
                                          : "is not a number");
    return fail(p, s, err, text);
}

static int grow(libsvm_parse *p)
{
    if (p->n + 1 >= p->labels_cap) {
        size_t cap = p->labels_cap ? 2 * p->labels_cap : 1024;
        double *labels = realloc(p->labels, cap * sizeof *labels);
        size_t *row_ptr = realloc(p->row_ptr, (cap + 1) * sizeof *row_ptr);
        if (labels)
            p->labels = labels;
        if (row_ptr)
            p->row_ptr = row_ptr;
        if (!labels || !row_ptr)
            return 0;
        p->labels_cap = cap;
    }
    if (p->nnz + 1 >= p->nnz_cap) {
        size_t cap = p->nnz_cap ? 2 * p->nnz_cap : 8192;
        uint32_t *col = realloc(p->col, cap * sizeof *col);
        float *val = realloc(p->val, cap * sizeof *val);
        if (col)
            p->col = col;
        if (val)
            p->val = val;
        if (!col || !val)
            return 0;
        p->nnz_cap = cap;
    }
    return 1;
}

/* One "index:value" token [s, end) after feature `prev` (0 at line start). */
static int parse_pair(libsvm_parse *p, const char *s, const char *end, size_t *prev,
                      lsgd_error *err)
{
    char what[300], quoted[200];
    const char *colon = memchr(s, ':', (size_t)(end - s));
    if (!colon) {
        lsgd_excerpt(quoted, sizeof quoted, s, (size_t)(end - s), 40);
        snprintf(what, sizeof what, "'%s' has no colon; expected index:value", quoted);
        return fail(p, s, err, what);
    }
    if (colon - s == 3 && strncmp(s, "qid", 3) == 0)
        return LSGD_OK;
    size_t index = 0;
    const char *c = s;
    for (; c < colon && isdigit((unsigned char)*c); c++) /* saturates past the limit */
        index = index > LSGD_MAX_FEATURES ? index : index * 10 + (size_t)(*c - '0');
    if (c == colon && index > LSGD_MAX_FEATURES) {
        lsgd_excerpt(quoted, sizeof quoted, s, (size_t)(colon - s), 40);
        snprintf(what, sizeof what, "index %s beyond lsgd's limit of %llu features", quoted,
                 (unsigned long long)LSGD_MAX_FEATURES);
        return fail(p, s, err, what);
    }
    if (c != colon || c == s) {
        lsgd_excerpt(quoted, sizeof quoted, s, (size_t)(colon - s), 40);
        snprintf(what, sizeof what, "index '%s' is not a positive integer; expected index:value",
                 quoted);
        return fail(p, s, err, what);
    }
    if (index == 0)
        return fail(p, s, err, "index 0; LIBSVM feature indices start at 1");
    if (index <= *prev) {
        snprintf(what, sizeof what, "index %zu after index %zu; expected increasing indices",
                 index, *prev);
        return fail(p, s, err, what);
    }
    if (p->features && index > p->features) {
        snprintf(what, sizeof what, "index %zu beyond the %zu features expected", index,
                 p->features);
        return fail(p, s, err, what);
    }
    double value;
    int verdict = text_number(&value, colon + 1, end);
    if (verdict != TEXT_NUMBER)
        return bad_number(p, colon + 1, end, "value", verdict, err);
    if (!grow(p))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", p->path);
    p->col[p->nnz] = (uint32_t)(index - 1);
    p->val[p->nnz] = (float)value;
    p->nnz++;
    *prev = index;
    if (index > p->max_index)
        p->max_index = index;
    return LSGD_OK;
}

/* One line: blank, comment, or a sample. */
static int parse_line(libsvm_parse *p, const char *line, lsgd_error *err)
{
    p->text = line;
    const char *s = skip_space(line);
    if (*s == '\0' || *s == '#')
        return LSGD_OK;
    const char *end = token_end(s);
    double label;
    int verdict = text_number(&label, s, end);
    if (verdict != TEXT_NUMBER)
        return bad_number(p, s, end, "label", verdict, err);
    if (p->n == LSGD_MAX_SAMPLES)
        return fail(p, s, err, "more samples than lsgd's limit of 2147483648");
    if (!grow(p))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", p->path);
    size_t prev = 0;
    for (s = skip_space(end); *s && *s != '#'; s = skip_space(end)) {
        end = token_end(s);
        int rc = parse_pair(p, s, end, &prev, err);
        if (rc != LSGD_OK)
            return rc;
    }
    p->labels[p->n++] = label;
    p->row_ptr[p->n] = p->nnz;
    return LSGD_OK;
}

static int read_lines(libsvm_parse *p, FILE *f, lsgd_error *err)
{
    text_lines lines;
    int rc = text_lines_open(&lines, f, p->path, err);
    size_t len;
    while (rc == LSGD_OK && (rc = text_lines_next(&lines, &len, err)) == TEXT_LINE) {
        p->line = lines.line;
        rc = parse_line(p, lines.buf, err);
    }
    p->line = lines.line;
    text_lines_close(&lines);
    return rc == TEXT_END ? LSGD_OK : rc;
}

static int build_set(lsgd_dataset **out, libsvm_parse *p, lsgd_error *err)
{
    if (p->n == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: no samples (%zu lines read)", p->path,
                              p->line);
    lsgd_dataset *set = dataset_new(p->path);
    if (!set || dataset_set_labels(set, p->labels, p->n) != LSGD_OK) {
        lsgd_dataset_free(set);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", p->path);
    }
    set->n = p->n;
    set->d = p->features ? p->features : p->max_index;
    if (set->d == 0)
        set->d = 1;
    set->row_ptr = p->row_ptr;
    set->col = p->col;
    set->val = p->val;
    p->row_ptr = NULL;
    p->col = NULL;
    p->val = NULL;
    *out = set;
    return LSGD_OK;
}

int lsgd_libsvm_read(lsgd_dataset **out, const char *path, size_t features, lsgd_error *err)
{
    FILE *f;
    int rc = lsgd_input_open(&f, path, "LIBSVM file", NULL, NULL, err);
    if (rc != LSGD_OK)
        return rc;
    libsvm_parse p = {.path = path, .features = features};
    rc = grow(&p) ? LSGD_OK : lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", path);
    if (rc == LSGD_OK) {
        p.row_ptr[0] = 0;
        rc = read_lines(&p, f, err);
    }
    fclose(f);
    if (rc == LSGD_OK)
        rc = build_set(out, &p, err);
    free(p.labels);
    free(p.row_ptr);
    free(p.col);
    free(p.val);
    return rc;
}
