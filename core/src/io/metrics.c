/*
 * metrics.c — metrics.jsonl + metrics.csv writers, and the metrics.csv
 * reader (metrics.h).
 */
#include "io/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/input_file.h"
#include "util/limits.h"

const char *const LSGD_METRICS_COLUMNS =
    "round,step,wall_s,lr,train_loss,test_loss,test_accuracy,objective,grad_norm,drift,"
    "d_min,d_max,bytes_sent,compute_s,comm_s,max_margin_cos,local_margin_cos";

void lsgd_metrics_row_clear(lsgd_metrics_row *row)
{
    memset(row, 0, sizeof *row);
    row->wall_s = row->lr = NAN;
    row->train_loss = row->test_loss = row->test_accuracy = row->objective = NAN;
    row->grad_norm = row->drift = row->d_min = row->d_max = NAN;
    row->bytes_sent = row->compute_s = row->comm_s = NAN;
    row->max_margin_cos = row->local_margin_cos = NAN;
}

/* Whether f holds at least keep bytes (a resume only ever cuts back). */
static int holds(FILE *f, long keep)
{
    struct stat st;
    return keep >= 0 && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= keep;
}

static FILE *open_cut(const char *path, int resume, long keep, lsgd_error *err)
{
    FILE *f = NULL;
    if (resume) {
        f = fopen(path, "r+b");
        if (f && !holds(f, keep)) {
            fclose(f);
            lsgd_error_set(err, LSGD_ERR_INPUT,
                           "cannot resume %s: it holds fewer than the %ld bytes the checkpoint "
                           "recorded (replaced or cut since?)", path, keep);
            return NULL;
        }
        if (f && ftruncate(fileno(f), keep) == 0 && fseek(f, keep, SEEK_SET) == 0)
            return f;
        if (f)
            fclose(f);
        if (keep > 0) {
            lsgd_error_set(err, LSGD_ERR_INPUT,
                           "cannot resume %s: %s (expected the %ld bytes the checkpoint "
                           "recorded)", path, strerror(errno), keep);
            return NULL;
        }
    }
    f = fopen(path, "wb");
    if (!f)
        lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot write %s: %s", path, strerror(errno));
    return f;
}

int lsgd_metrics_open(lsgd_metrics *m, const char *dir, int resume, long jsonl_bytes,
                      long csv_bytes, lsgd_error *err)
{
    char path[4096];
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    if (!(m->jsonl = open_cut(path, resume, jsonl_bytes, err)))
        return err->code;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (!(m->csv = open_cut(path, resume, csv_bytes, err))) {
        lsgd_metrics_close(m);
        return err->code;
    }
    if (ftell(m->csv) == 0) {
        fprintf(m->csv, "%s\n", LSGD_METRICS_COLUMNS);
        fflush(m->csv);
    }
    return LSGD_OK;
}

static void json_value(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.9g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

static void csv_value(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.9g", v);
    else
        fputc(',', f);
}

int lsgd_metrics_write(lsgd_metrics *m, const lsgd_metrics_row *row, lsgd_error *err)
{
    const double values[] = {
        row->wall_s, row->lr, row->train_loss, row->test_loss, row->test_accuracy,
        row->objective, row->grad_norm, row->drift, row->d_min, row->d_max,
        row->bytes_sent, row->compute_s, row->comm_s, row->max_margin_cos,
        row->local_margin_cos,
    };
    static const char *const keys[] = {
        "wall_s", "lr", "train_loss", "test_loss", "test_accuracy", "objective",
        "grad_norm", "drift", "d_min", "d_max", "bytes_sent", "compute_s", "comm_s",
        "max_margin_cos", "local_margin_cos",
    };
    fprintf(m->jsonl, "{\"round\":%llu,\"step\":%llu", (unsigned long long)row->round,
            (unsigned long long)row->step);
    fprintf(m->csv, "%llu,%llu", (unsigned long long)row->round,
            (unsigned long long)row->step);
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        json_value(m->jsonl, keys[i], values[i]);
        csv_value(m->csv, values[i]);
    }
    if (row->local_margin_by_worker) {
        fputs(",\"local_margin_cos_by_worker\":[", m->jsonl);
        for (int w = 0; w < row->workers; w++)
            fprintf(m->jsonl, "%s%.9g", w ? "," : "", row->local_margin_by_worker[w]);
        fputc(']', m->jsonl);
    }
    fputs("}\n", m->jsonl);
    fputc('\n', m->csv);
    if (fflush(m->jsonl) != 0 || fflush(m->csv) != 0 || ferror(m->jsonl) || ferror(m->csv))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot write the metrics files: %s",
                              strerror(errno));
    return LSGD_OK;
}

void lsgd_metrics_offsets(const lsgd_metrics *m, long *jsonl_bytes, long *csv_bytes)
{
    *jsonl_bytes = m->jsonl ? ftell(m->jsonl) : 0;
    *csv_bytes = m->csv ? ftell(m->csv) : 0;
}

void lsgd_metrics_close(lsgd_metrics *m)
{
    if (m->jsonl)
        fclose(m->jsonl);
    if (m->csv)
        fclose(m->csv);
    m->jsonl = m->csv = NULL;
}

/* ---- reading metrics.csv back ---- */

enum { MAX_COLUMNS = 64, MAX_LINE = 8192 };

/* Split a CSV line in place into at most max fields; returns how many. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

/* One data row appended: a number per column, NAN where empty or absent. */
static int append_row(lsgd_metrics_table *t, size_t *cap, char **fields, int n)
{
    if (t->rows == *cap) {
        size_t grown = *cap ? 2 * *cap : 256;
        double *v = realloc(t->values, grown * (size_t)t->columns * sizeof *v);
        if (!v)
            return LSGD_ERR_RUNTIME;
        t->values = v;
        *cap = grown;
    }
    for (int c = 0; c < t->columns; c++) {
        const char *s = c < n ? fields[c] : "";
        char *end;
        double v = strtod(s, &end);
        t->values[t->rows * (size_t)t->columns + (size_t)c] = *s && end != s ? v : NAN;
    }
    t->rows++;
    return LSGD_OK;
}

int lsgd_metrics_read(lsgd_metrics_table *t, const char *path, lsgd_error *err)
{
    memset(t, 0, sizeof *t);
    FILE *f;
    if (lsgd_input_open(&f, path, "metrics", NULL, NULL, err) != LSGD_OK)
        return err->code;
    char line[MAX_LINE], *fields[MAX_COLUMNS];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s is empty; expected the metrics header",
                              path);
    }
    int n = split_fields(line, fields, MAX_COLUMNS);
    t->names = calloc((size_t)n, sizeof *t->names);
    int rc = t->names ? LSGD_OK : LSGD_ERR_RUNTIME;
    for (int c = 0; c < n && !rc; c++, t->columns++)
        if (!(t->names[c] = strdup(fields[c])))
            rc = LSGD_ERR_RUNTIME;
    size_t cap = 0;
    while (!rc && t->rows < LSGD_MAX_METRICS_ROWS && fgets(line, sizeof line, f))
        rc = append_row(t, &cap, fields, split_fields(line, fields, MAX_COLUMNS));
    int more = !rc && fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (more) {
        lsgd_metrics_table_free(t);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than %llu rows; lsgd reads at most "
                              "that many", path, LSGD_MAX_METRICS_ROWS);
    }
    if (rc) {
        lsgd_metrics_table_free(t);
        return lsgd_error_set(err, rc, "%s: out of memory", path);
    }
    return LSGD_OK;
}

int lsgd_metrics_column(const lsgd_metrics_table *t, const char *name)
{
    for (int c = 0; c < t->columns; c++)
        if (strcmp(t->names[c], name) == 0)
            return c;
    return -1;
}

double lsgd_metrics_value(const lsgd_metrics_table *t, size_t row, int column)
{
    if (column < 0 || column >= t->columns || row >= t->rows)
        return NAN;
    return t->values[row * (size_t)t->columns + (size_t)column];
}

void lsgd_metrics_table_free(lsgd_metrics_table *t)
{
    for (int c = 0; c < t->columns; c++)
        free(t->names[c]);
    free(t->names);
    free(t->values);
    memset(t, 0, sizeof *t);
}
