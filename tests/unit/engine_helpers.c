/*
 * engine_helpers.c — starting workers and reading metrics for the engine
 * and example tests (engine_helpers.h).
 */
#include "engine_helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/npy.h"

const char *write_config(const char *dir, const char *text)
{
    return test_write_file(dir, "cfg.json", text);
}

test_output run_workers_args(const char *cfg, int world, const char *dir, const char *env,
                             const char *extra, int timeout_s)
{
    static unsigned counter;
    char worker[1024], script[8192];
    snprintf(worker, sizeof worker, "%s %s worker %s --set output.dir=%s/out %s",
             env, test_build_path("bin/lsgd"), cfg, dir, extra);
    int n = snprintf(script, sizeof script,
                     "cd %s && export LSGD_RUN_ID=test%d-%u; pids=''; ", test_root_dir(),
                     (int)getpid(), counter++);
    for (int r = 1; r < world; r++)
        n += snprintf(script + n, sizeof script - (size_t)n,
                      "%s --rank %d --world %d & pids=\"$pids $!\"; ", worker, r, world);
    snprintf(script + n, sizeof script - (size_t)n,
             "%s --rank 0 --world %d; rc=$?; for p in $pids; do wait $p; s=$?; "
             "[ $s -gt $rc ] && rc=$s; done; exit $rc", worker, world);
    return test_run(script, timeout_s);
}

test_output run_workers(const char *cfg, int world, const char *dir, const char *env,
                        int timeout_s)
{
    return run_workers_args(cfg, world, dir, env, "", timeout_s);
}

test_output run_config_at_root(const char *config, const char *dir, const char *sets,
                               int timeout_s)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run %s --set output.dir='%s/out' --set output.progress=none %s",
             test_root_dir(), test_build_path("bin/lsgd"), config, dir, sets);
    test_output o = test_run(cmd, timeout_s);
    if (o.status)
        fprintf(stderr, "\n  %s %s: %s%s", config, sets, o.out, o.err);
    return o;
}

void run_workers_ok(const char *text, int world, const char *dir)
{
    test_output o = run_workers(write_config(dir, text), world, dir, "", 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
}

float *read_model(const char *dir, size_t *n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/out/model.npy", dir);
    float *x = NULL;
    lsgd_error err;
    if (lsgd_npy_read(path, &x, n, &err))
        fprintf(stderr, "%s\n", err.message);
    return x;
}

int read_metrics(metrics_table *t, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/out/metrics.csv", dir);
    lsgd_error err;
    return lsgd_metrics_read(t, path, &err) ? -1 : 0;
}

int column(const metrics_table *t, const char *name)
{
    return lsgd_metrics_column(t, name);
}

double value(const metrics_table *t, size_t row, int col)
{
    return lsgd_metrics_value(t, row, col);
}

double last_value(const char *dir, const char *col)
{
    metrics_table t;
    if (read_metrics(&t, dir))
        return NAN;
    double v = t.rows ? value(&t, t.rows - 1, column(&t, col)) : NAN;
    metrics_free(&t);
    return v;
}

void metrics_free(metrics_table *t)
{
    lsgd_metrics_table_free(t);
}
