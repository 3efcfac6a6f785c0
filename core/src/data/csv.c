/*
 * csv.c — comma-separated numeric tables: one sample per line, the label in
 * column `label_column` (0-based), the other cells its features; an
 * optional header line is skipped.  Every row must have as many cells as
 * the first; every cell must be a number (surrounding spaces or double
 * quotes allowed).  Lines end in LF, CRLF or CR alone (text.c).  Errors
 * name file:line:column.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "util/input_file.h"
#include "util/limits.h"

typedef struct csv_parse {
    const char *path;
    size_t line, first_line;
    size_t label_column;
    size_t cells; /* per row, from the first row */
    double *labels;
    float *X;
    size_t n, cap;
    double *row; /* [cells] scratch */
} csv_parse;

/* The number in cell [s, end) after trimming spaces and quotes: a
 * TEXT_NUMBER, TEXT_NOT_A_NUMBER or TEXT_OUT_OF_RANGE verdict. */
static int cell_number(double *out, const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (end - s >= 2 && *s == '"' && end[-1] == '"')
        s++, end--;
    return text_number(out, s, end);
}

static size_t count_cells(const char *line)
{
    size_t cells = 1;
    for (const char *s = line; *s; s++)
        cells += *s == ',';
    return cells;
}

static int store_row(csv_parse *p, lsgd_error *err)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 1024, values;
        if (p->n == LSGD_MAX_SAMPLES ||
            !lsgd_product_within(&values, p->n + 1, p->cells - 1, LSGD_MAX_DENSE_VALUES))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s:%zu:1: more samples than lsgd's limits allow (%llu "
                                  "samples, %llu values in all)",
                                  p->path, p->line, (unsigned long long)LSGD_MAX_SAMPLES,
                                  (unsigned long long)LSGD_MAX_DENSE_VALUES);
        if (!lsgd_product_within(&values, cap, p->cells - 1, LSGD_MAX_DENSE_VALUES))
            cap = LSGD_MAX_DENSE_VALUES / (p->cells - 1);
        if (cap > LSGD_MAX_SAMPLES)
            cap = LSGD_MAX_SAMPLES;
        double *labels = realloc(p->labels, cap * sizeof *labels);
        if (labels)
            p->labels = labels;
        float *X = realloc(p->X, cap * (p->cells - 1) * sizeof *X);
        if (X)
            p->X = X;
        if (!labels || !X)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", p->path);
        p->cap = cap;
    }
    float *x = p->X + p->n * (p->cells - 1);
    for (size_t c = 0, j = 0; c < p->cells; c++) {
        if (c == p->label_column)
            p->labels[p->n] = p->row[c];
        else
            x[j++] = (float)p->row[c];
    }
    p->n++;
    return LSGD_OK;
}

static int first_row(csv_parse *p, const char *line, lsgd_error *err)
{
    p->cells = count_cells(line);
    p->first_line = p->line;
    if (p->label_column >= p->cells)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s:%zu:1: label_column %zu but the row has %zu cells (columns 0..%zu)",
                              p->path, p->line, p->label_column, p->cells, p->cells - 1);
    if (p->cells < 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s:%zu:1: one cell per row; expected a label and at least one "
                              "feature",
                              p->path, p->line);
    p->row = malloc(p->cells * sizeof *p->row);
    return p->row ? LSGD_OK : lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", p->path);
}

static int parse_row(csv_parse *p, const char *line, lsgd_error *err)
{
    size_t cells = count_cells(line);
    if (!p->row) {
        int rc = first_row(p, line, err);
        if (rc != LSGD_OK)
            return rc;
    } else if (cells != p->cells) {
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s:%zu:1: %zu cells; expected %zu as on line %zu (ragged rows)",
                              p->path, p->line, cells, p->cells, p->first_line);
    }
    const char *s = line;
    for (size_t c = 0; c < p->cells; c++) {
        const char *end = s;
        while (*end && *end != ',')
            end++;
        int verdict = cell_number(&p->row[c], s, end);
        if (verdict != TEXT_NUMBER) {
            char quoted[200];
            lsgd_excerpt(quoted, sizeof quoted, s, (size_t)(end - s), 40);
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s:%zu:%zu: cell %zu '%s' %s", p->path,
                                  p->line, (size_t)(s - line) + 1, c, quoted,
                                  verdict == TEXT_OUT_OF_RANGE
                                      ? "is out of float range (beyond ±3.4e38)"
                                      : "is not a number");
        }
        s = end + 1;
    }
    return store_row(p, err);
}

static int is_blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

static int read_rows(csv_parse *p, FILE *f, int header, lsgd_error *err)
{
    text_lines lines;
    int rc = text_lines_open(&lines, f, p->path, err);
    size_t len;
    while (rc == LSGD_OK && (rc = text_lines_next(&lines, &len, err)) == TEXT_LINE) {
        p->line = lines.line;
        if (!(header && p->line == 1) && !is_blank(lines.buf))
            rc = parse_row(p, lines.buf, err);
    }
    p->line = lines.line;
    text_lines_close(&lines);
    return rc == TEXT_END ? LSGD_OK : rc;
}

int lsgd_csv_read(lsgd_dataset **out, const char *path, size_t label_column, int header,
                  size_t features, lsgd_error *err)
{
    FILE *f;
    int rc = lsgd_input_open(&f, path, "CSV file", NULL, NULL, err);
    if (rc != LSGD_OK)
        return rc;
    csv_parse p = {.path = path, .label_column = label_column};
    rc = read_rows(&p, f, header, err);
    fclose(f);
    if (rc == LSGD_OK && p.n == 0)
        rc = lsgd_error_set(err, LSGD_ERR_INPUT, "%s: no samples (%zu lines read)", path, p.line);
    if (rc == LSGD_OK && features && p.cells - 1 != features)
        rc = lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %zu features per row; expected %zu", path,
                            p.cells - 1, features);
    lsgd_dataset *set = NULL;
    if (rc == LSGD_OK) {
        set = dataset_new(path);
        if (!set || dataset_set_labels(set, p.labels, p.n) != LSGD_OK)
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", path);
    }
    if (rc == LSGD_OK) {
        set->n = p.n;
        set->d = p.cells - 1;
        set->X = p.X;
        p.X = NULL;
        *out = set;
    } else {
        lsgd_dataset_free(set);
    }
    free(p.labels);
    free(p.X);
    free(p.row);
    return rc;
}
