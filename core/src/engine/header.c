/*
 * header.c — what a run is, said once when it starts (rank 0):
 *
 *   stdout      a short header: config file, output directory and run id,
 *               model and parameter count, workers × transport, OpenBLAS
 *               kernel; algorithm, schedule, scaling, outer optimizer; data
 *               sizes and how the partition dealt them.  On a terminal each
 *               line is cut at its "; " to fit the width.
 *   run.json    the same for tools: lsgd version, kernel, run id, start
 *               time, and the config as the engine reads it (every default
 *               filled), so a run can be repeated
 *   shards.json each worker's sample count and label histogram, computed
 *               from the seed exactly as every worker deals its own shard
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/run.h"
#include "host/config.h"
#include "io/atomic_file.h"
#include "lsgd/plugin.h"
#include "models/blas.h"

/* "30000" or "29990-30010" */
static void range_text(char *out, size_t cap, size_t lo, size_t hi)
{
    if (lo == hi)
        snprintf(out, cap, "%zu", lo);
    else
        snprintf(out, cap, "%zu-%zu", lo, hi);
}

/* shards.json's document, and its one-line summary in line[cap]. */
static int describe_shards(json_t **doc, char *line, size_t cap, const lsgd_run *run,
                           lsgd_error *err)
{
    const lsgd_dataset *set = run->train;
    size_t world = (size_t)run->world, classes = set->classes > 0 ? (size_t)set->classes : 0;
    size_t *samples = malloc(world * sizeof *samples);
    size_t *counts = malloc((classes ? world * classes : 1) * sizeof *counts);
    const json_t *partition = lsgd_config_get(run->cfg, "data.partition");
    int rc = samples && counts ? lsgd_partition_histograms(samples, counts, set, partition,
                                                           run->world, run->set.seed, err)
                               : lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    if (rc) {
        free(samples);
        free(counts);
        return rc;
    }
    json_t *workers = json_array();
    size_t n_lo = SIZE_MAX, n_hi = 0, labels_lo = SIZE_MAX, labels_hi = 0;
    for (size_t m = 0; m < world; m++) {
        json_t *w = json_pack("{s:I, s:I}", "rank", (json_int_t)m, "samples",
                              (json_int_t)samples[m]);
        n_lo = samples[m] < n_lo ? samples[m] : n_lo;
        n_hi = samples[m] > n_hi ? samples[m] : n_hi;
        if (classes) {
            json_t *histogram = json_array();
            size_t labels = 0;
            for (size_t c = 0; c < classes; c++) {
                json_array_append_new(histogram, json_integer((json_int_t)counts[m * classes + c]));
                labels += counts[m * classes + c] > 0;
            }
            json_object_set_new(w, "labels", json_integer((json_int_t)labels));
            json_object_set_new(w, "histogram", histogram);
            labels_lo = labels < labels_lo ? labels : labels_lo;
            labels_hi = labels > labels_hi ? labels : labels_hi;
        }
        json_array_append_new(workers, w);
    }
    json_t *label_values = json_array();
    for (size_t c = 0; c < classes; c++)
        json_array_append_new(label_values, json_real(set->label_values[c]));
    *doc = json_pack("{s:O?, s:s, s:I, s:I, s:o, s:o}", "partition", partition, "train",
                     set->source ? set->source : "", "train_samples", (json_int_t)set->n,
                     "classes", (json_int_t)classes, "label_values", label_values, "workers",
                     workers);
    char n_text[64], labels_text[64] = "";
    range_text(n_text, sizeof n_text, n_lo, n_hi);
    if (classes)
        range_text(labels_text, sizeof labels_text, labels_lo, labels_hi);
    snprintf(line, cap, "%s partition: %s samples%s%s%s per worker",
             lsgd_setting_string(run->cfg, "data.partition.type"), n_text,
             classes ? " and " : "", labels_text,
             !classes ? "" : labels_hi == 1 ? " label" : " labels");
    free(samples);
    free(counts);
    return *doc ? LSGD_OK : lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
}

/* "period 8: 587 rounds", "rounds 20: 20 rounds", "slope 2.5: 30 rounds", "1 round" */
static void schedule_text(char *out, size_t cap, const lsgd_run *run)
{
    const json_t *cfg = run->cfg;
    size_t rounds = run->schedule.rounds;
    char knob[64] = "";
    if (lsgd_config_get(cfg, "schedule.period"))
        snprintf(knob, sizeof knob, "period %g, ", lsgd_config_number(cfg, "schedule.period", 0));
    else if (lsgd_config_get(cfg, "schedule.rounds"))
        snprintf(knob, sizeof knob, "rounds %g, ", lsgd_config_number(cfg, "schedule.rounds", 0));
    else if (lsgd_config_get(cfg, "schedule.slope"))
        snprintf(knob, sizeof knob, "slope %g, ", lsgd_config_number(cfg, "schedule.slope", 0));
    snprintf(out, cap, "schedule %s (%s%zu round%s)",
             lsgd_setting_string(cfg, "schedule.type"), knob, rounds,
             rounds == 1 ? "" : "s");
}

/* Three lines, each fitted to the terminal's width when stdout is one
 * (cut at "; " into shorter lines). */
static void print_header(const lsgd_run *run, const char *config_path, const char *shards)
{
    const json_t *cfg = run->cfg;
    const char *kernel = lsgd_blas_core_in_use();
    int columns = lsgd_terminal_columns(stdout);
    char line[8192];
    snprintf(line, sizeof line, "%s -> %s; run id %s; model %s, %zu parameters; %d worker%s x %s; "
             "OpenBLAS %s",
             config_path ? config_path : "(config)", run->set.out_dir, run->run_id,
             run->model->ops->type, run->dim, run->world, run->world == 1 ? "" : "s",
             lsgd_setting_string(cfg, "transport.plugin"), kernel ? kernel : "unknown");
    lsgd_print_fitted(stdout, line, columns);
    char schedule[160], outer[160] = "", lr[96];
    schedule_text(schedule, sizeof schedule, run);
    const char *lr_type = lsgd_setting_string(cfg, "algorithm.lr_schedule.type");
    snprintf(lr, sizeof lr, "lr %g%s%s%s", lsgd_setting_number(cfg, "algorithm.lr"),
             strcmp(lr_type, "constant") ? " (" : "", strcmp(lr_type, "constant") ? lr_type : "",
             strcmp(lr_type, "constant") ? ")" : "");
    if (run->set.has_outer)
        snprintf(outer, sizeof outer, "; outer %s lr %g", run->outer.name, run->set.outer_lr);
    snprintf(line, sizeof line, "%s, %llu steps, batch %zu, %s; %s; scaling %s (refresh %s, "
             "state %s)%s",
             run->set.algorithm->name,
             (unsigned long long)run->set.steps, run->set.batch_size, lr, schedule,
             run->scaling.name, lsgd_setting_string(cfg, "scaling.refresh"),
             lsgd_setting_string(cfg, "scaling.state"), outer);
    lsgd_print_fitted(stdout, line, columns);
    if (run->train) {
        char test[64] = "";
        if (run->test)
            snprintf(test, sizeof test, ", %zu test", run->test->n);
        snprintf(line, sizeof line, "data %zu x %zu train (%s)%s; %s", run->train->n,
                 run->train->d, run->train->source ? run->train->source : "?", test, shards);
        lsgd_print_fitted(stdout, line, columns);
    }
    fflush(stdout);
}

static json_t *run_doc(const lsgd_run *run, const char *config_path, int resume)
{
    char started[32], host[256] = "";
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &utc);
    gethostname(host, sizeof host - 1);
    const char *kernel = lsgd_blas_core_in_use();
    char abi[32];
    snprintf(abi, sizeof abi, "%d.%d", LSGD_ABI_MAJOR, LSGD_ABI_MINOR);
    json_t *doc = json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s, s:s, s:b, s:i, s:I}",
                            "lsgd_version", LSGD_VERSION, "plugin_abi", abi, "openblas_kernel",
                            kernel, "run_id", run->run_id, "config_file", config_path, "started",
                            started, "host", host, "resume", resume, "workers", run->world,
                            "parameters", (json_int_t)run->dim);
    if (doc && run->train)
        json_object_set_new(doc, "train_samples", json_integer((json_int_t)run->train->n));
    if (doc && run->test)
        json_object_set_new(doc, "test_samples", json_integer((json_int_t)run->test->n));
    if (doc)
        json_object_set(doc, "config", (json_t *)run->cfg);
    return doc;
}

static int write_doc(const lsgd_run *run, const char *name, json_t *doc, lsgd_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", run->set.out_dir, name);
    int rc = doc ? lsgd_atomic_write_json(path, doc, err)
                 : lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", name);
    json_decref(doc);
    return rc;
}

int lsgd_run_header(lsgd_run *run, const char *config_path, int resume, lsgd_error *err)
{
    char shards[256] = "";
    json_t *shards_doc = NULL;
    if (run->train && describe_shards(&shards_doc, shards, sizeof shards, run, err))
        return err->code;
    if (shards_doc && write_doc(run, "shards.json", shards_doc, err))
        return err->code;
    if (write_doc(run, "run.json", run_doc(run, config_path, resume), err))
        return err->code;
    print_header(run, config_path, shards);
    return LSGD_OK;
}
