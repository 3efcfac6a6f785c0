/*
 * sweep_targets.c — a run's metrics.csv read into what a sweep reports:
 * the final values, and for each target ("train_loss<=0.15") the first
 * round that met it with its step, the bytes sent up to it and its wall
 * time — the figures papers compare methods by.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sweep.h"
#include "host/suggest.h"
#include "io/metrics.h"

const char *const sweep_final_names[8] = {"rounds",    "steps",     "bytes",         "wall_s",
                                          "train_loss", "test_loss", "test_accuracy", "objective"};

double sweep_result_final(const sweep_result *r, size_t i)
{
    const double v[8] = {r->rounds,     r->steps,     r->bytes,         r->wall_s,
                         r->train_loss, r->test_loss, r->test_accuracy, r->objective};
    return i < 8 ? v[i] : NAN;
}

static int is_metric(const char *name)
{
    size_t n = strlen(name);
    for (const char *p = LSGD_METRICS_COLUMNS; (p = strstr(p, name)) != NULL; p += n)
        if ((p == LSGD_METRICS_COLUMNS || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

int sweep_target_parse(sweep_target *t, const char *text, lsgd_error *err)
{
    char safe[128];
    lsgd_printable(safe, sizeof safe, text, 80);
    memset(t, 0, sizeof *t);
    size_t name_len = strcspn(text, "<>");
    if (text[name_len] == '\0')
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "target '%s': expected METRIC<=VALUE, METRIC>=VALUE, METRIC<VALUE "
                              "or METRIC>VALUE (e.g. train_loss<=0.15)", safe);
    size_t op_len = text[name_len + 1] == '=' ? 2 : 1;
    if (name_len == 0 || name_len >= sizeof t->metric || strlen(text) >= sizeof t->text)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "target '%s': expected a metric name before "
                              "the comparison", safe);
    memcpy(t->metric, text, name_len);
    memcpy(t->op, text + name_len, op_len);
    snprintf(t->text, sizeof t->text, "%s", text);
    if (!is_metric(t->metric))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "target '%s': unknown metric '%s'; known: %s",
                              safe, t->metric, LSGD_METRICS_COLUMNS);
    char *end;
    const char *number = text + name_len + op_len;
    t->value = strtod(number, &end);
    if (end == number || *end || !isfinite(t->value))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "target '%s': expected a finite number after "
                              "'%s'", safe, t->op);
    return LSGD_OK;
}

static int met(const sweep_target *t, double v)
{
    if (!isfinite(v))
        return 0;
    if (strcmp(t->op, "<=") == 0)
        return v <= t->value;
    if (strcmp(t->op, ">=") == 0)
        return v >= t->value;
    return t->op[0] == '<' ? v < t->value : v > t->value;
}

/* The last finite value of a column, NAN when there is none. */
static double last_measured(const lsgd_metrics_table *table, const char *name)
{
    int c = lsgd_metrics_column(table, name);
    for (size_t k = table->rows; k-- > 0;) {
        double v = lsgd_metrics_value(table, k, c);
        if (isfinite(v))
            return v;
    }
    return NAN;
}

void sweep_result_of(sweep_result *r, const lsgd_metrics_table *table,
                     const sweep_target *targets, size_t n)
{
    memset(r, 0, sizeof *r);
    int c_round = lsgd_metrics_column(table, "round"), c_step = lsgd_metrics_column(table, "step");
    int c_wall = lsgd_metrics_column(table, "wall_s");
    int c_bytes = lsgd_metrics_column(table, "bytes_sent");
    int c_target[SWEEP_MAX_TARGETS];
    for (size_t i = 0; i < n && i < SWEEP_MAX_TARGETS; i++)
        c_target[i] = lsgd_metrics_column(table, targets[i].metric);
    double bytes = 0;
    for (size_t k = 0; k < table->rows; k++) {
        double b = lsgd_metrics_value(table, k, c_bytes);
        bytes += isfinite(b) ? b : 0;
        for (size_t i = 0; i < n && i < SWEEP_MAX_TARGETS; i++) {
            sweep_hit *h = &r->hits[i];
            if (h->met || !met(&targets[i], lsgd_metrics_value(table, k, c_target[i])))
                continue;
            *h = (sweep_hit){.met = 1,
                             .round = lsgd_metrics_value(table, k, c_round),
                             .step = lsgd_metrics_value(table, k, c_step),
                             .bytes = bytes,
                             .wall_s = lsgd_metrics_value(table, k, c_wall)};
        }
    }
    size_t last = table->rows ? table->rows - 1 : 0;
    r->rounds = table->rows ? lsgd_metrics_value(table, last, c_round) : 0;
    r->steps = table->rows ? lsgd_metrics_value(table, last, c_step) : 0;
    r->wall_s = table->rows ? lsgd_metrics_value(table, last, c_wall) : 0;
    r->bytes = bytes;
    r->train_loss = last_measured(table, "train_loss");
    r->test_loss = last_measured(table, "test_loss");
    r->test_accuracy = last_measured(table, "test_accuracy");
    r->objective = last_measured(table, "objective");
}

int sweep_result_read(sweep_result *r, const char *dir, const sweep_target *targets, size_t n,
                      lsgd_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    lsgd_metrics_table table;
    if (lsgd_metrics_read(&table, path, err))
        return err->code;
    sweep_result_of(r, &table, targets, n);
    lsgd_metrics_table_free(&table);
    return LSGD_OK;
}
