/*
 * worker.c — lsgd_worker_run: one worker of a run from start to end.
 *
 *   settings and schedule → checks (exit 2 before anything starts) →
 *   data (train, test, this worker's shard) → the output directory
 *   (claimed by rank 0 unless `lsgd run` did) → model and x₀ → plugins
 *   (scaling, outer) → transport → checkpoint restore or scaling warm
 *   start → rounds (rounds.c) → last reports → rank 0 writes model.npy,
 *   model.json and a summary line.
 *
 * SIGINT/SIGTERM set a flag that the loop checks every step: the worker
 * stops, the last checkpoint stays as it was, and the status is 1.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/algorithm.h"
#include "engine/outer.h"
#include "engine/run.h"
#include "engine/worker.h"
#include "io/atomic_file.h"
#include "host/config.h"
#include "host/params.h"
#include "host/probe.h"
#include "io/npy.h"

volatile sig_atomic_t lsgd_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    lsgd_interrupted = 1;
}

/* ---- data ---- */

/* The smallest shard the partition deals from the seed: its worker and
 * its sample count. */
static int smallest_shard(size_t *worker, size_t *n, const lsgd_run *run, lsgd_error *err)
{
    const lsgd_dataset *set = run->train;
    size_t world = (size_t)run->world, classes = set->classes > 0 ? (size_t)set->classes : 0;
    size_t *samples = malloc(world * sizeof *samples);
    size_t *counts = malloc((classes ? world * classes : 1) * sizeof *counts);
    int rc = samples && counts
                 ? lsgd_partition_histograms(samples, counts, set,
                                             lsgd_config_get(run->cfg, "data.partition"),
                                             run->world, run->set.seed, err)
                 : lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    *worker = 0;
    for (size_t m = 1; !rc && m < world; m++)
        *worker = samples[m] < samples[*worker] ? m : *worker;
    *n = rc ? 0 : samples[*worker];
    free(samples);
    free(counts);
    return rc;
}

/* Every worker's shard: not empty, and holding a whole minibatch when
 * batches are drawn without replacement (local_gd takes the whole shard). */
static int check_shards(const lsgd_run *run, lsgd_error *err)
{
    size_t worker, n;
    if (smallest_shard(&worker, &n, run, err))
        return err->code;
    const char *type = lsgd_setting_string(run->cfg, "data.partition.type");
    if (n == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "data.partition: the %s partition gives worker %zu of %d no "
                              "samples of data.train (%zu); expected at least one each: use "
                              "fewer workers or another partition",
                              type, worker, run->world, run->train->n);
    int minibatches = !run->set.algorithm->full_batch && !run->set.with_replacement;
    if (minibatches && run->set.batch_size > n)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.batch_size: %zu is more than the %zu samples of worker "
                              "%zu's shard (%s partition of %zu samples over %d workers); "
                              "expected at most %zu, or algorithm.sampling 'with_replacement'",
                              run->set.batch_size, n, worker, type, run->train->n, run->world, n);
    return LSGD_OK;
}

static int load_data(lsgd_run *run, lsgd_error *err)
{
    const json_t *data = json_object_get(run->cfg, "data");
    if (!data)
        return LSGD_OK; /* data-free objectives */
    if (lsgd_data_load_shared(&run->train, &run->test, data, run->set.seed, err))
        return err->code;
    if ((size_t)run->world > run->train->n)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "workers: %d workers but data.train (%s) has only %zu samples; "
                              "expected at most one worker per sample", run->world,
                              run->train->source, run->train->n);
    if (check_shards(run, err))
        return err->code;
    if (lsgd_partition(&run->shard, run->train, json_object_get(data, "partition"), run->rank,
                       run->world, run->set.seed, err))
        return err->code;
    if (lsgd_sampler_init(&run->sampler, run->shard.rows, run->shard.n, run->set.batch_size,
                          run->set.with_replacement, run->set.seed,
                          LSGD_STREAM_BATCH + (uint64_t)run->rank, err))
        return lsgd_error_prefix(err, "worker %d, data.partition: ", run->rank);
    run->has_sampler = 1;
    if (run->test) {
        size_t lo = run->test->n * (size_t)run->rank / (size_t)run->world;
        size_t hi = run->test->n * (size_t)(run->rank + 1) / (size_t)run->world;
        run->test_n = hi - lo;
        run->test_rows = malloc((run->test_n ? run->test_n : 1) * sizeof *run->test_rows);
        if (!run->test_rows)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
        for (size_t i = 0; i < run->test_n; i++)
            run->test_rows[i] = (uint32_t)(lo + i);
    }
    return LSGD_OK;
}

/* ---- plugins ---- */

static int oracle_hvp(void *host, const float *v, float *out, lsgd_error *err)
{
    lsgd_oracle *o = host;
    return o->model->ops->hvp(o->model, o->x, o->batch, v, out, err);
}

static uint64_t oracle_random(void *host)
{
    return lsgd_rng_next(((lsgd_oracle *)host)->rng);
}

/* {"plugin", "params"} with every other key of the outer object taken as a
 * parameter ({"plugin": "sgd", "lr": 0.7, "momentum": 0.9}). */
static json_t *plugin_config(const json_t *section, int loose_params)
{
    json_t *given = json_object_get(section, "params");
    json_t *params = given ? json_deep_copy(given) : json_object();
    const char *key;
    json_t *value;
    if (loose_params)
        json_object_foreach((json_t *)section, key, value)
            if (strcmp(key, "plugin") && strcmp(key, "lr") && strcmp(key, "params"))
                json_object_set(params, key, value);
    json_t *plugin = json_object_get(section, "plugin");
    return json_pack("{s:O, s:o}", "plugin", plugin ? plugin : json_string("sgd"), "params",
                     params);
}

/* What each plugin of the config needs, read from its manifest: Hessian-
 * vector products only where there are some (the scaling's from the model
 * when it is built, never the outer optimizer's), the files its parameters
 * name (with_files); with probe, its library loaded in a child process
 * (host/probe: a plugin that crashes or exits while loading is reported,
 * not fatal; descriptor against manifest). */
static int check_plugin_needs(const lsgd_run *run, int with_files, int probe, lsgd_error *err)
{
    static const struct { const char *section; int kind; } sections[] = {
        {"scaling", LSGD_KIND_SCALING}, {"outer", LSGD_KIND_SCALING},
        {"transport", LSGD_KIND_TRANSPORT}, {"model", LSGD_KIND_MODEL},
        {"compression", LSGD_KIND_COMPRESSOR}};
    static const char *const provides[] = {"hvp", "rng", NULL};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s.plugin", sections[i].section);
        const char *name = lsgd_config_string(run->cfg, key, NULL);
        const lsgd_manifest *m;
        if (!name)
            continue;
        if (lsgd_registry_resolve(&m, &run->registry, sections[i].kind, name, key, err))
            return err->code;
        int hvp = lsgd_manifest_lists(m, "requires", "hvp"), outer = strcmp(sections[i].section, "outer") == 0;
        if (hvp && outer)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "outer.plugin: '%s' needs Hessian-vector products (its manifest "
                                  "requires \"hvp\"), but the outer optimizer steps on the "
                                  "pseudo-gradient and has no model to take them from", name);
        char model[128];
        if (hvp && !outer &&
            !lsgd_model_provides(json_object_get(run->cfg, "model"), &run->registry, "hvp",
                                 model, sizeof model))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "scaling.plugin: '%s' needs Hessian-vector products (its "
                                  "manifest requires \"hvp\"), which %s does not provide", name,
                                  model);
        snprintf(key, sizeof key, "%s.params", sections[i].section);
        if (with_files &&
            lsgd_params_check_files(m, lsgd_config_get(run->cfg, key), key, err))
            return err->code;
        if (probe && lsgd_plugin_probe_load(m, provides, err))
            return err->code;
    }
    return LSGD_OK;
}

static int open_registry(lsgd_run *run, lsgd_error *err)
{
    if (lsgd_registry_discover(&run->registry, run->cfg, err))
        return err->code;
    run->has_registry = 1;
    return LSGD_OK;
}

static int open_plugins(lsgd_run *run, lsgd_error *err)
{
    if (!run->has_registry && open_registry(run, err))
        return err->code;
    if (check_plugin_needs(run, 1, 0, err)) /* loaded for real below */
        return err->code;
    const char *with_hvp[] = {"hvp", "rng", NULL}, *without_hvp[] = {"rng", NULL};
    const char *const *provides = run->model->ops->hvp ? with_hvp : without_hvp;
    json_t *scaling = json_object_get(run->cfg, "scaling");
    json_t *sc = scaling ? plugin_config(scaling, 0) : json_pack("{s:s}", "plugin", "sgd");
    int rc = lsgd_scaling_open(&run->scaling, &run->registry, sc, "scaling", run->dim,
                               provides, err);
    json_decref(sc);
    if (rc)
        return rc;
    run->has_scaling = 1;
    if (run->set.refresh_sync &&
        run->scaling.ops->statistic_kind != LSGD_STATISTIC_NONE &&
        (!run->scaling.ops->statistic || !run->scaling.ops->refresh))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.refresh: 'sync' needs the plugin's statistic and refresh "
                              "operations, which scaling plugin '%s' does not have",
                              run->scaling.name);
    if (run->set.has_outer) {
        json_t *oc = plugin_config(json_object_get(run->cfg, "outer"), 1);
        rc = lsgd_scaling_open(&run->outer, &run->registry, oc, "outer", run->dim,
                               without_hvp, err);
        json_decref(oc);
        if (rc)
            return rc;
        if (run->outer.ops->statistic_kind == LSGD_STATISTIC_HVP)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "outer.plugin: '%s' needs Hessian-vector products; the "
                                  "outer optimizer has no model to take them from",
                                  run->outer.name);
    }
    if (lsgd_compression_open(&run->compression, run->cfg, &run->registry, run->model,
                              run->set.seed, run->rank, run->world, err))
        return err->code;
    run->oracle = (lsgd_oracle){.model = run->model, .rng = &run->scaling_rng};
    run->ctx = (lsgd_scaling_ctx){
        .struct_size = sizeof run->ctx, .dim = run->dim, .host = &run->oracle,
        .hvp = run->model->ops->hvp ? oracle_hvp : NULL, .random = oracle_random,
    };
    return LSGD_OK;
}

/* ---- vectors ---- */

static float *vector(size_t n, int *failed)
{
    float *v = calloc(n ? n : 1, sizeof *v);
    *failed |= v == NULL;
    return v;
}

static int alloc_vectors(lsgd_run *run, lsgd_error *err)
{
    size_t dim = run->dim, wide = dim + run->slots;
    const lsgd_settings *s = &run->set;
    int failed = 0;
    run->x = vector(wide, &failed);
    run->g = vector(wide, &failed);
    if (s->want_drift || s->want_max_margin)
        run->x_before = vector(dim, &failed);
    if (failed)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "out of memory for the model vectors (%zu parameters)", dim);
    return LSGD_OK;
}

static void initial_model(lsgd_run *run)
{
    lsgd_rng init;
    lsgd_rng_seed(&init, run->set.seed, LSGD_STREAM_INIT);
    run->model->ops->init(run->model, run->x, &init);
}

/* The algorithm's state, the outer optimizer's and the compressed
 * average's base, from x₀. */
static int open_algorithm(lsgd_run *run, lsgd_error *err)
{
    const lsgd_algorithm *alg = run->set.algorithm;
    if (alg->open && alg->open(run, err))
        return err->code;
    if (run->compression)
        lsgd_compression_rebase(run->compression, run->x);
    return lsgd_outer_open(run, err);
}

/* ---- outputs ---- */

static int open_outputs(lsgd_run *run, int resume, lsgd_error *err)
{
    if (run->rank != 0)
        return LSGD_OK;
    if (lsgd_metrics_open(&run->metrics, run->set.out_dir, resume, run->metrics_resume_jsonl,
                          run->metrics_resume_csv, err))
        return err->code;
    run->has_metrics = 1;
    double wall = lsgd_now() - run->wall_origin;
    lsgd_progress_init(&run->progress, run->set.progress, run->schedule.rounds, run->round,
                       wall);
    return LSGD_OK;
}

static int write_model(lsgd_run *run, lsgd_error *err)
{
    char path[4200];
    size_t shape[1] = {run->dim};
    snprintf(path, sizeof path, "%s/model.npy", run->set.out_dir);
    if (lsgd_npy_write(path, run->x, shape, 1, err))
        return err->code;
    json_t *doc = run->model->ops->describe ? run->model->ops->describe(run->model) : NULL;
    if (!doc)
        doc = json_pack("{s:s, s:I}", "type", run->model->ops->type, "dim", (json_int_t)run->dim);
    json_object_set_new(doc, "file", json_string("model.npy"));
    json_object_set_new(doc, "dtype", json_string("float32"));
    json_object_set_new(doc, "rounds", json_integer((json_int_t)run->round));
    json_object_set_new(doc, "steps", json_integer((json_int_t)run->step));
    json_object_set_new(doc, "workers", json_integer(run->world));
    snprintf(path, sizeof path, "%s/model.json", run->set.out_dir);
    int rc = lsgd_atomic_write_json(path, doc, err);
    json_decref(doc);
    return rc;
}

/* "587 rounds, 4.5 s (start-up 0.6 s)": the rounds' wall time (all of it
 * on resume), and the time from the process's start to its first round. */
static int rounds_and_time(char *out, size_t cap, const lsgd_run *run, double startup)
{
    int n = snprintf(out, cap, "%llu rounds", (unsigned long long)run->round);
    if (run->rank == 0)
        n += snprintf(out + n, cap - (size_t)n, ", %llu steps per worker, %d worker%s",
                      (unsigned long long)run->step, run->world, run->world == 1 ? "" : "s");
    n += snprintf(out + n, cap - (size_t)n, ", %.1f s", lsgd_now() - run->wall_origin);
    if (startup >= 0)
        n += snprintf(out + n, cap - (size_t)n, " (start-up %.1f s)", startup);
    return n;
}

/* One line (cut at "; " to fit a terminal). */
static void print_summary(const lsgd_run *run, double startup)
{
    char line[8192];
    size_t n = (size_t)rounds_and_time(line, 256, run, startup);
    if (isfinite(run->last_test_accuracy) && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, "; test accuracy %.2f%%",
                              100.0 * run->last_test_accuracy);
    if (isfinite(run->last_test_loss) && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, "%stest loss %.4g",
                              isfinite(run->last_test_accuracy) ? ", " : "; ", run->last_test_loss);
    if (isfinite(run->last_objective) && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, "; objective %.6g", run->last_objective);
    if (n < sizeof line)
        snprintf(line + n, sizeof line - n, "; model: %s/model.npy", run->set.out_dir);
    lsgd_print_fitted(stdout, line, lsgd_terminal_columns(stdout));
    fflush(stdout);
}

/* ---- the whole run ---- */

/* The config read into settings, schedule and step sizes, and the
 * combinations that make no sense refused. */
static int read_settings(lsgd_run *run, lsgd_error *err)
{
    if (lsgd_settings_read(&run->set, run->cfg, err) ||
        lsgd_schedule_from_config(&run->schedule, run->cfg, run->set.steps, err) ||
        lsgd_lr_from_config(&run->lr, run->cfg, err))
        return err->code;
    const lsgd_algorithm *alg = run->set.algorithm;
    return alg->check_world ? alg->check_world(run->cfg, run->world, err) : LSGD_OK;
}

/* The data, this worker's shard and the model built on the data. */
static int load_inputs(lsgd_run *run, lsgd_error *err)
{
    if (load_data(run, err) || (!run->has_registry && open_registry(run, err)) ||
        lsgd_model_open(&run->model, json_object_get(run->cfg, "model"), run->train,
                        &run->registry, err))
        return err->code;
    run->dim = run->model->dim;
    return LSGD_OK;
}

/* output.dir made (every rank writes its checkpoints there) and, by rank 0
 * unless the `lsgd run` that started it has done so, claimed for this run
 * (io/run_dir.h).  A resume of a finished run sets run->finished_before. */
static int claim_output(lsgd_run *run, const lsgd_worker_args *args, lsgd_error *err)
{
    const char *dir = run->set.out_dir;
    if (run->rank != 0 || lsgd_run_dir_locked_by(dir, (long)getppid())) {
        if (lsgd_run_dir_make(dir, err))
            return err->code;
        run->finished_before = args->resume && lsgd_run_dir_finished(dir);
        return LSGD_OK;
    }
    int mode = args->resume ? LSGD_RUN_DIR_RESUME
                            : args->force ? LSGD_RUN_DIR_FORCE : LSGD_RUN_DIR_NEW;
    if (lsgd_run_dir_claim(&run->dir, dir, mode, 0, err))
        return err->code;
    run->has_dir = 1;
    run->finished_before = run->dir.finished;
    if (run->finished_before)
        printf("lsgd: the run in %s has finished (%s/model.npy); nothing to resume\n", dir,
               dir);
    return LSGD_OK;
}

static int run_open(lsgd_run *run, const lsgd_worker_args *args, lsgd_error *err)
{
    /* the output directory is made only once the inputs are known good */
    if (read_settings(run, err) || load_inputs(run, err) || claim_output(run, args, err))
        return err->code;
    if (run->finished_before)
        return LSGD_OK;
    run->slots = (size_t)run->world * REPORT_FIELDS;
    lsgd_rng_seed(&run->noise_rng, run->set.seed, LSGD_STREAM_NOISE + (uint64_t)run->rank);
    lsgd_rng_seed(&run->scaling_rng, run->set.seed, LSGD_STREAM_SCALING + (uint64_t)run->rank);
    if (open_plugins(run, err) || alloc_vectors(run, err) ||
        lsgd_report_prepare_margins(run, err))
        return err->code;
    initial_model(run);
    if (open_algorithm(run, err))
        return err->code;
    if (run->rank == 0 && lsgd_run_header(run, args->config_path, args->resume, err))
        return err->code;
    lsgd_transport_info info = {.struct_size = sizeof info, .rank = run->rank,
                                .world = run->world, .run_id = args->run_id,
                                .stop = &lsgd_interrupted};
    if (lsgd_transport_open(&run->transport, &run->registry,
                            json_object_get(run->cfg, "transport"), &info, err))
        return lsgd_error_prefix(err, "worker %d: ", run->rank);
    if (args->announce && run->rank > 0) {
        printf("lsgd: rank %d of %d joined run %s over %s\n", run->rank, run->world, run->run_id,
               lsgd_setting_string(run->cfg, "transport.plugin"));
        fflush(stdout);
    }
    run->wall_origin = run->checkpoint_clock = lsgd_now();
    if (args->resume) {
        if (lsgd_snapshot_restore(run, err))
            return err->code;
    } else if (lsgd_run_prepare_scaling(run, err)) {
        return err->code;
    }
    lsgd_transport_stats stats;
    lsgd_transport_stats_get(run->transport, &stats);
    run->bytes_at_round_start = stats.bytes_sent;
    return open_outputs(run, args->resume, err);
}

static void run_close(lsgd_run *run)
{
    if (run->has_dir)
        lsgd_run_dir_release(&run->dir);
    if (run->has_metrics)
        lsgd_metrics_close(&run->metrics);
    if (run->transport)
        lsgd_transport_close(run->transport);
    lsgd_compression_close(run->compression);
    if (run->set.has_outer && run->outer.ops)
        lsgd_scaling_close(&run->outer);
    if (run->has_scaling)
        lsgd_scaling_close(&run->scaling);
    if (run->has_registry)
        lsgd_registry_free(&run->registry);
    if (run->model)
        lsgd_model_destroy(run->model);
    if (run->has_sampler)
        lsgd_sampler_free(&run->sampler);
    if (run->shard.rows)
        lsgd_shard_free(&run->shard);
    if (run->train)
        lsgd_dataset_free(run->train);
    if (run->test)
        lsgd_dataset_free(run->test);
    if (run->set.algorithm && run->set.algorithm->close)
        run->set.algorithm->close(run);
    lsgd_outer_close(run);
    float *vectors[] = {run->x, run->g, run->x_before, run->margin_w, run->margin_local};
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++)
        free(vectors[i]);
    free(run->local_margins);
    free(run->test_rows);
}

int lsgd_worker_preflight(const json_t *cfg, int world, int with_data, lsgd_error *err)
{
    lsgd_run *run = calloc(1, sizeof *run);
    if (!run)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    run->cfg = cfg;
    run->world = world;
    int rc = read_settings(run, err);
    if (!rc)
        rc = open_registry(run, err);
    if (!rc) /* each library in a child before any is loaded here */
        rc = check_plugin_needs(run, 0, 1, err);
    if (!rc && with_data)
        rc = load_inputs(run, err);
    if (!rc && with_data)
        rc = open_plugins(run, err) || lsgd_report_check_margins(run, err) ? err->code : LSGD_OK;
    run_close(run);
    free(run);
    return rc;
}

int lsgd_worker_run(const json_t *cfg, const lsgd_worker_args *args, lsgd_error *err)
{
    lsgd_run *run = calloc(1, sizeof *run);
    if (!run)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    run->cfg = cfg;
    run->rank = args->rank;
    run->world = args->world;
    run->run_id = args->run_id;
    run->round_drift = NAN;
    run->last_test_loss = run->last_test_accuracy = run->last_objective = NAN;

    struct sigaction act = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&act.sa_mask);
    lsgd_interrupted = 0;
    sigaction(SIGINT, &act, &old_int);
    sigaction(SIGTERM, &act, &old_term);

    int rc = run_open(run, args, err);
    double startup = args->started > 0 ? lsgd_now() - args->started : -1;
    if (!rc && run->finished_before) {
        run_close(run);
        free(run);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return LSGD_OK;
    }
    if (!rc)
        rc = lsgd_run_train(run, err);
    if (!rc)
        rc = lsgd_run_finish(run, err);
    if (!rc && run->rank == 0) {
        lsgd_progress_done(&run->progress);
        rc = write_model(run, err);
        if (!rc)
            print_summary(run, startup);
    }
    if (!rc && run->rank > 0 && args->announce) {
        char line[256];
        rounds_and_time(line, sizeof line, run, startup);
        printf("lsgd: rank %d of %d done: %s\n", run->rank, run->world, line);
        fflush(stdout);
    }
    if (rc && run->rank == 0 && run->progress.mode == LSGD_PROGRESS_BAR)
        lsgd_progress_done(&run->progress);
    run_close(run);
    free(run);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
