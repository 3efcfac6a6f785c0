/*
 * engine_helpers.h — what the engine and example tests share: starting a
 * run's workers as real processes and reading its metrics.csv by column.
 */
#ifndef LSGD_TEST_ENGINE_HELPERS_H
#define LSGD_TEST_ENGINE_HELPERS_H

#include <stddef.h>

#include "harness.h"
#include "io/metrics.h"

/* dir/cfg.json ← text; returns its path. */
const char *write_config(const char *dir, const char *text);

/* Run the config with `world` workers (output.dir = dir/out, progress as
 * configured), each worker a real `lsgd worker` process started by hand as
 * under a cluster scheduler; env: "VAR=value …" prepended (may be "");
 * extra: more arguments for every worker (--set …, --resume).  Status: the
 * worst of the workers'. */
test_output run_workers_args(const char *cfg, int world, const char *dir, const char *env,
                             const char *extra, int timeout_s);
test_output run_workers(const char *cfg, int world, const char *dir, const char *env,
                        int timeout_s);
/* The config text written into dir (write_config) and run on `world`
 * workers within 60 s, which must succeed (a fatal assertion). */
void run_workers_ok(const char *text, int world, const char *dir);

/* `lsgd run <config> --set output.dir=<dir>/out --set output.progress=none
 * <sets>` from the source root (config relative to it) within timeout_s;
 * its stdout and stderr shown when it fails. */
test_output run_config_at_root(const char *config, const char *dir, const char *sets,
                               int timeout_s);

/* dir/out/model.npy (malloc'd), *n its length; NULL (the reason on stderr) when unreadable. */
float *read_model(const char *dir, size_t *n);

/* metrics.csv read back (io/metrics.h): names[columns], values[rows * columns],
 * NAN where empty. */
typedef lsgd_metrics_table metrics_table;

/* dir/out/metrics.csv; 0 on success. */
int read_metrics(metrics_table *t, const char *dir);
int column(const metrics_table *t, const char *name); /* -1 when absent */
double value(const metrics_table *t, size_t row, int col);
/* The last row's value of column col in dir/out/metrics.csv; NAN when unreadable. */
double last_value(const char *dir, const char *col);
void metrics_free(metrics_table *t);

#endif
