/*
 * compare_load.c — the runs `lsgd compare` is given, read and grouped.
 *
 * A sweep directory (it holds sweep.jsonl) gives each finished run with
 * its method and axis values; a run directory (it holds metrics.csv) is a
 * method of its own, named by its directory (as many trailing components
 * as keep two names apart).  The seed comes from the sweep's values, else
 * from run.json's config.  Runs of one method with the same values are one
 * group: the seeds the statistics go over.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/compare.h"
#include "cli/plot_style.h"
#include "host/config.h"
#include "util/input_file.h"

enum { MAX_RUNS = 100000, MAX_LINE = 1 << 20, MAX_SWEEP_BYTES = 256 << 20 };

static int exists(const char *dir, const char *name)
{
    char path[4400];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* config.seed from dir/run.json; -1 when not found. */
static long run_seed(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/run.json", dir);
    lsgd_error ignored;
    json_t *doc = lsgd_json_file_load(path, "run.json", &ignored);
    json_t *seed = json_object_get(json_object_get(doc, "config"), "seed");
    long value = json_is_integer(seed) ? (long)json_integer_value(seed) : -1;
    json_decref(doc);
    return value;
}

static int add_run(compare_set *s, const char *dir, const char *method, const json_t *values,
                   long seed, lsgd_error *err)
{
    if (s->n_runs >= MAX_RUNS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "more than %d runs to compare", MAX_RUNS);
    compare_run *grown = realloc(s->runs, (s->n_runs + 1) * sizeof *grown);
    if (!grown)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    s->runs = grown;
    compare_run *r = &s->runs[s->n_runs];
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(r->method, sizeof r->method, "%s", method);
    r->values = json_deep_copy(values);
    json_object_del(r->values, "seed");
    r->seed = seed;
    char path[4400];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (lsgd_metrics_read(&r->table, path, err)) {
        json_decref(r->values);
        return err->code;
    }
    s->n_runs++;
    const char *key;
    json_t *v;
    json_object_foreach(r->values, key, v) {
        size_t i;
        json_t *k;
        int known = 0;
        json_array_foreach(s->keys, i, k)
            known |= strcmp(json_string_value(k), key) == 0;
        if (!known)
            json_array_append_new(s->keys, json_string(key));
    }
    return LSGD_OK;
}

/* The targets of the first row of a sweep.jsonl, when none were given. */
static int sweep_targets(compare_set *s, const json_t *row, lsgd_error *err)
{
    const char *text;
    json_t *v;
    json_object_foreach(json_object_get(row, "targets"), text, v) {
        if (s->n_targets >= SWEEP_MAX_TARGETS)
            break;
        if (sweep_target_parse(&s->targets[s->n_targets], text, err))
            return err->code;
        s->n_targets++;
    }
    return LSGD_OK;
}

static int load_sweep(compare_set *s, const char *dir, const char *label, int want_targets,
                      lsgd_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/sweep.jsonl", dir);
    FILE *f;
    size_t size;
    if (lsgd_input_open(&f, path, "sweep results", NULL, &size, err))
        return err->code;
    if (size > MAX_SWEEP_BYTES) {
        fclose(f);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %zu bytes; lsgd reads at most %d MiB of "
                              "sweep results", path, size, MAX_SWEEP_BYTES >> 20);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = LSGD_OK;
    for (size_t number = 1; !rc && (n = getline(&line, &cap, f)) > 0; number++) {
        json_error_t jerr;
        json_t *row = n < MAX_LINE ? json_loads(line, 0, &jerr) : NULL;
        const char *run = json_string_value(json_object_get(row, "dir"));
        const char *status = json_string_value(json_object_get(row, "status"));
        const char *method = json_string_value(json_object_get(row, "method"));
        json_t *values = json_object_get(row, "values");
        if (!run || !status || !method || !json_is_object(values) || strchr(run, '/') ||
            strspn(run, ".") == strlen(run)) { /* a directory of the sweep's own */
            rc = lsgd_error_set(err, LSGD_ERR_INPUT, "%s line %zu: expected a row written by "
                                "lsgd sweep (run, dir, method, status, values)", path, number);
        } else if (strcmp(status, "done") != 0) {
            s->unfinished++;
        } else {
            char run_dir[4096];
            snprintf(run_dir, sizeof run_dir, "%.2000s/%.2000s", dir, run);
            json_t *seed = json_object_get(values, "seed");
            if (want_targets && s->n_targets == 0)
                rc = sweep_targets(s, row, err);
            if (!rc)
                rc = add_run(s, run_dir, *method ? method : label, values,
                             json_is_integer(seed) ? (long)json_integer_value(seed)
                                                   : run_seed(run_dir), err);
        }
        json_decref(row);
    }
    free(line);
    fclose(f);
    return rc;
}

static int group_of(compare_set *s, const compare_run *r, lsgd_error *err)
{
    for (size_t g = 0; g < s->n_groups; g++)
        if (strcmp(s->groups[g].method, r->method) == 0 &&
            json_equal(s->groups[g].values, r->values)) {
            if (s->groups[g].n_runs >= 1024)
                return lsgd_error_set(err, LSGD_ERR_INPUT, "more than 1024 seeds of one setting");
            s->groups[g].runs[s->groups[g].n_runs++] = (size_t)(r - s->runs);
            return LSGD_OK;
        }
    compare_group *grown = realloc(s->groups, (s->n_groups + 1) * sizeof *grown);
    if (!grown)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    s->groups = grown;
    compare_group *g = &s->groups[s->n_groups++];
    memset(g, 0, sizeof *g);
    snprintf(g->method, sizeof g->method, "%s", r->method);
    g->values = json_incref(r->values);
    g->runs[g->n_runs++] = (size_t)(r - s->runs);
    g->chosen = 1;
    return LSGD_OK;
}

static void add_title(compare_set *s, const char *label)
{
    size_t n = strlen(s->title);
    snprintf(s->title + n, sizeof s->title - n, "%s%s", n ? ", " : "", label);
}

int compare_load(compare_set *s, const char *const *dirs, size_t n_dirs,
                 const char *const *targets, size_t n_targets, lsgd_error *err)
{
    memset(s, 0, sizeof *s);
    s->keys = json_array();
    for (size_t i = 0; i < n_targets && i < SWEEP_MAX_TARGETS; i++, s->n_targets++)
        if (sweep_target_parse(&s->targets[i], targets[i], err))
            return lsgd_error_prefix(err, "--target: ");
    char (*labels)[256] = calloc(n_dirs ? n_dirs : 1, sizeof *labels);
    json_t *none = json_object();
    if (!labels || !none) {
        free(labels);
        json_decref(none);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    }
    plot_labels(labels, dirs, n_dirs);
    int rc = LSGD_OK;
    for (size_t i = 0; i < n_dirs && !rc; i++) {
        add_title(s, labels[i]);
        if (exists(dirs[i], "sweep.jsonl"))
            rc = load_sweep(s, dirs[i], labels[i], n_targets == 0, err);
        else if (exists(dirs[i], "metrics.csv"))
            rc = add_run(s, dirs[i], labels[i], none, run_seed(dirs[i]), err);
        else
            rc = lsgd_error_set(err, LSGD_ERR_INPUT, "%s: neither a sweep (no sweep.jsonl) nor a "
                                "run (no metrics.csv)", dirs[i]);
    }
    free(labels);
    json_decref(none);
    for (size_t i = 0; i < s->n_runs && !rc; i++)
        sweep_result_of(&s->runs[i].result, &s->runs[i].table, s->targets, s->n_targets);
    for (size_t i = 0; i < s->n_runs && !rc; i++)
        rc = group_of(s, &s->runs[i], err);
    if (!rc && s->n_runs == 0)
        rc = lsgd_error_set(err, LSGD_ERR_INPUT, "no finished run to compare in %s%s", dirs[0],
                            n_dirs > 1 ? " …" : "");
    return rc;
}

void compare_free(compare_set *s)
{
    for (size_t i = 0; i < s->n_runs; i++) {
        json_decref(s->runs[i].values);
        lsgd_metrics_table_free(&s->runs[i].table);
    }
    for (size_t g = 0; g < s->n_groups; g++)
        json_decref(s->groups[g].values);
    free(s->runs);
    free(s->groups);
    json_decref(s->keys);
    json_decref(s->varying);
    memset(s, 0, sizeof *s);
}

void compare_find_varying(compare_set *s)
{
    json_decref(s->varying);
    s->varying = json_array();
    size_t i;
    json_t *k;
    json_array_foreach(s->keys, i, k) {
        const json_t *first = NULL;
        int differs = 0, seen = 0;
        for (size_t g = 0; g < s->n_groups; g++) {
            if (!s->groups[g].chosen)
                continue;
            const json_t *v = json_object_get(s->groups[g].values, json_string_value(k));
            differs |= seen && !(v && first ? json_equal(v, first) : v == first);
            first = seen ? first : v;
            seen = 1;
        }
        if (differs)
            json_array_append(s->varying, k);
    }
}

/* ---- quantities ------------------------------------------------------------- */

static const char *const to_target[4] = {"rounds_to_target", "steps_to_target",
                                         "bytes_to_target", "wall_to_target"};

int compare_quantity_known(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, to_target[i]) == 0)
            return 1;
    if (strncmp(name, "final.", 6) != 0)
        return 0;
    for (size_t i = 0; i < 8; i++)
        if (strcmp(name + 6, sweep_final_names[i]) == 0)
            return 1;
    return 0;
}

double compare_quantity(const compare_run *r, const char *name)
{
    const sweep_hit *h = &r->result.hits[0];
    const double hit[4] = {h->round, h->step, h->bytes, h->wall_s};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, to_target[i]) == 0)
            return h->met ? hit[i] : NAN;
    for (size_t i = 0; i < 8 && strncmp(name, "final.", 6) == 0; i++)
        if (strcmp(name + 6, sweep_final_names[i]) == 0)
            return sweep_result_final(&r->result, i);
    return NAN;
}

int compare_quantity_maximized(const char *name)
{
    return strstr(name, "accuracy") != NULL;
}

size_t compare_group_values(const compare_set *s, const compare_group *g, const char *name,
                            double *values, long *seeds)
{
    for (size_t i = 0; i < g->n_runs; i++) {
        values[i] = compare_quantity(&s->runs[g->runs[i]], name);
        seeds[i] = s->runs[g->runs[i]].seed;
    }
    return g->n_runs;
}
