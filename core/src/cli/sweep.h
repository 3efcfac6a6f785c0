/*
 * sweep.h — what `lsgd sweep` and `lsgd compare` share: a sweep expanded
 * into runs (sweep_expand.c), run as child `lsgd run` processes
 * (sweep_jobs.c), read back into final metrics and the first round, step,
 * bytes and wall time each target was met (sweep_targets.c), and written
 * as sweep.csv and sweep.jsonl (sweep_report.c).
 *
 * A run is `lsgd run BASE --set KEY=VALUE…`: the method's overrides, then
 * one value of each axis (zip groups take theirs together), the seed, and
 * output.dir = <sweep output>/<run name>.  The name is made of its values
 * ("adam,lr=0.01,seed=2"), so a re-run finds each run where it left it.
 */
#ifndef LSGD_CLI_SWEEP_H
#define LSGD_CLI_SWEEP_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "lsgd/errors.h"

enum { SWEEP_MAX_TARGETS = 16 };

/* ---- targets (sweep_targets.c) ---------------------------------------------- */

typedef struct sweep_target {
    char text[96];   /* as given: "train_loss<=0.15" */
    char metric[32]; /* a metrics.csv column */
    char op[3];      /* "<=", ">=", "<", ">" */
    double value;
} sweep_target;

/* Parse "METRIC OP NUMBER"; a metric that metrics.csv has no column for,
 * a missing operator or a bad number is LSGD_ERR_INPUT naming the text. */
int sweep_target_parse(sweep_target *t, const char *text, lsgd_error *err);

/* When a target was first met: its round, step, bytes sent by all workers
 * up to and including that round, and wall time. */
typedef struct sweep_hit {
    int met;
    double round, step, bytes, wall_s;
} sweep_hit;

/* What a finished run measured: the last round's round, step and wall
 * time, the bytes of all rounds, the last value of each loss and accuracy
 * (NAN when never measured), and the hit of each target. */
typedef struct sweep_result {
    double rounds, steps, bytes, wall_s;
    double train_loss, test_loss, test_accuracy, objective;
    sweep_hit hits[SWEEP_MAX_TARGETS];
} sweep_result;

/* The final values named as in sweep.csv ("train_loss", …), in order. */
extern const char *const sweep_final_names[8];
double sweep_result_final(const sweep_result *r, size_t i);

struct lsgd_metrics_table;
/* The result of a metrics table against targets[n]. */
void sweep_result_of(sweep_result *r, const struct lsgd_metrics_table *table,
                     const sweep_target *targets, size_t n);
/* The same from dir/metrics.csv; LSGD_ERR_INPUT naming it when unreadable. */
int sweep_result_read(sweep_result *r, const char *dir, const sweep_target *targets, size_t n,
                      lsgd_error *err);

/* ---- the plan (sweep_expand.c) ---------------------------------------------- */

enum sweep_state {
    SWEEP_PENDING,
    SWEEP_RUNNING,
    SWEEP_DONE,     /* ran to the end in this sweep */
    SWEEP_SKIPPED,  /* had finished before: nothing to do */
    SWEEP_FAILED,   /* exited with a failure; its directory and log are kept */
    SWEEP_STOPPED   /* stopped by Ctrl-C; a re-run resumes it */
};

typedef struct sweep_run {
    char name[256];   /* "adam,lr=0.01,seed=1" */
    char dir[4096];   /* <output>/<name> */
    char method[64];  /* "" when the sweep names no methods */
    json_t *values;   /* dotted key -> value, the run's axes then "seed" */
    json_t *origins;  /* "KEY=VALUE" -> where it comes from ("axis algorithm.lr value 0.1") */
    char **sets;      /* [n_sets] "KEY=VALUE" for --set, the last output.dir */
    size_t n_sets;
    int workers;      /* the config's workers, once checked */
    /* while running (sweep_jobs.c) */
    int state, status;
    pid_t pid;
    double started, seconds;
} sweep_run;

typedef struct sweep_plan {
    char file[4096];   /* the sweep file */
    char base[4096];   /* the base config file (output/base.json when inline) */
    char output[4096]; /* the sweep's directory */
    json_t *doc;       /* the sweep file, checked against schemas/sweep.schema.json */
    json_t *inline_base; /* the base when given inline, else NULL */
    json_t *keys;      /* array: every key that varies, in order of first appearance */
    sweep_run *runs;
    size_t n_runs;
    sweep_target targets[SWEEP_MAX_TARGETS];
    size_t n_targets;
    int jobs;          /* the file's "jobs", 0 when absent */
} sweep_plan;

/* Read, check and expand the sweep file; LSGD_ERR_INPUT naming the file
 * and the axis for any bad input.  output overrides the file's "output"
 * when not NULL. */
int sweep_plan_load(sweep_plan *p, const char *file, const char *output, lsgd_error *err);
/* Add a target given on the command line. */
int sweep_plan_add_target(sweep_plan *p, const char *text, lsgd_error *err);
/* Every run's config loaded with its overrides and checked as `lsgd
 * validate --no-data` would, and the data checked once per distinct data,
 * model and workers; fills each run's workers.  Errors name the file, the
 * axis (or method) and the value. */
int sweep_plan_check(sweep_plan *p, lsgd_error *err);
/* Write the inline base to output/base.json (when there is one). */
int sweep_plan_write_base(sweep_plan *p, lsgd_error *err);
void sweep_plan_free(sweep_plan *p);

/* "0.01", "adam", "true", "[64,32]": a value as a run name shows it. */
void sweep_value_text(char *out, size_t cap, const json_t *value);

/* ---- running (sweep_jobs.c) ------------------------------------------------- */

/* Run every run not finished yet, jobs at a time, each `lsgd run` in its
 * own process group with its output in <dir>/sweep.log, one progress line
 * on stderr.  SIGINT/SIGTERM stop them all (forwarded to each group, each
 * waited for) and start no more.  Returns 1 when interrupted, else 0. */
int sweep_jobs_run(sweep_plan *p, int jobs);

/* ---- report (sweep_report.c) ------------------------------------------------ */

/* sweep.csv and sweep.jsonl in the output directory, one row per run. */
int sweep_report_write(const sweep_plan *p, lsgd_error *err);

#endif
