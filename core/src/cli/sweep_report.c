/*
 * sweep_report.c — sweep.csv and sweep.jsonl in the sweep's directory, one
 * row per run, the same facts in both:
 *
 *   run, method, status (done | failed | stopped | pending), the value of
 *   every key the sweep varies (empty where a method does not vary it),
 *   the final rounds, steps, bytes, wall_s, train_loss, test_loss,
 *   test_accuracy, objective, and for each target "T:round", "T:step",
 *   "T:bytes", "T:wall_s" at which it was first met (empty when never).
 *
 * In JSON: {"run", "dir" (relative to the sweep's directory), "method",
 * "status", "values": {key: value}, "final": {…}, "targets": {T: {"round",
 * "step", "bytes", "wall_s"} or null}}.  Both are written atomically.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_files.h"
#include "cli/sweep.h"

static const char *status_name(int state)
{
    switch (state) {
    case SWEEP_DONE:
    case SWEEP_SKIPPED:
        return "done";
    case SWEEP_FAILED:
        return "failed";
    case SWEEP_STOPPED:
        return "stopped";
    default:
        return "pending";
    }
}

static void csv_header(FILE *f, const sweep_plan *p)
{
    fputs("run,method,status", f);
    size_t i;
    json_t *key;
    json_array_foreach(p->keys, i, key)
        csv_field(f, json_string_value(key), 0);
    for (i = 0; i < 8; i++)
        csv_field(f, sweep_final_names[i], 0);
    const char *parts[4] = {"round", "step", "bytes", "wall_s"};
    for (i = 0; i < p->n_targets; i++)
        for (int k = 0; k < 4; k++) {
            char name[128];
            snprintf(name, sizeof name, "%s:%s", p->targets[i].text, parts[k]);
            csv_field(f, name, 0);
        }
    fputc('\n', f);
}

static void csv_row(FILE *f, const sweep_plan *p, const sweep_run *r, const sweep_result *res,
                    int have)
{
    csv_field(f, r->name, 1);
    csv_field(f, r->method, 0);
    csv_field(f, status_name(r->state), 0);
    csv_values(f, p->keys, r->values);
    for (size_t i = 0; i < 8; i++)
        csv_number(f, have ? sweep_result_final(res, i) : NAN);
    for (size_t i = 0; i < p->n_targets; i++) {
        const sweep_hit *h = &res->hits[i];
        int met = have && h->met;
        csv_number(f, met ? h->round : NAN);
        csv_number(f, met ? h->step : NAN);
        csv_number(f, met ? h->bytes : NAN);
        csv_number(f, met ? h->wall_s : NAN);
    }
    fputc('\n', f);
}

static json_t *number_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *json_row(const sweep_plan *p, const sweep_run *r, const sweep_result *res, int have)
{
    json_t *final = json_object(), *targets = json_object();
    for (size_t i = 0; i < 8; i++)
        json_object_set_new(final, sweep_final_names[i],
                            number_or_null(have ? sweep_result_final(res, i) : NAN));
    for (size_t i = 0; i < p->n_targets; i++) {
        const sweep_hit *h = &res->hits[i];
        json_object_set_new(targets, p->targets[i].text,
                            have && h->met ? json_pack("{sfsfsfsf}", "round", h->round, "step",
                                                       h->step, "bytes", h->bytes, "wall_s",
                                                       h->wall_s)
                                           : json_null());
    }
    return json_pack("{sssssssssOsoso}", "run", r->name, "dir", r->name, "method", r->method,
                     "status", status_name(r->state), "values", r->values, "final", final,
                     "targets", targets);
}

static int write_rows(FILE *csv, FILE *jsonl, const sweep_plan *p)
{
    csv_header(csv, p);
    for (size_t i = 0; i < p->n_runs; i++) {
        const sweep_run *r = &p->runs[i];
        sweep_result res;
        memset(&res, 0, sizeof res);
        lsgd_error ignored;
        int have = (r->state == SWEEP_DONE || r->state == SWEEP_SKIPPED) &&
                   sweep_result_read(&res, r->dir, p->targets, p->n_targets, &ignored) == 0;
        csv_row(csv, p, r, &res, have);
        json_t *row = json_row(p, r, &res, have);
        if (!row || json_dumpf(row, jsonl, JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0)
            return -1;
        fputc('\n', jsonl);
        json_decref(row);
    }
    return 0;
}

static int write_tables(FILE *csv, FILE *jsonl, const void *plan)
{
    return write_rows(csv, jsonl, plan);
}

int sweep_report_write(const sweep_plan *p, lsgd_error *err)
{
    return report_write_pair(p->output, "sweep.csv", "sweep.jsonl", write_tables, p, err);
}
