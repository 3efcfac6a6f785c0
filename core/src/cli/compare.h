/*
 * compare.h — `lsgd compare DIR…`: runs gathered from sweep directories
 * (their sweep.jsonl) and run directories (compare_load.c), grouped by
 * method and axis values across seeds, each method's best value of an
 * axis chosen (compare.c), statistics over seeds (compare_stats.c), the
 * table (compare_report.c) and the figures (compare_plot.c).
 */
#ifndef LSGD_CLI_COMPARE_H
#define LSGD_CLI_COMPARE_H

#include <jansson.h>
#include <stddef.h>

#include "cli/sweep.h"
#include "io/metrics.h"

/* ---- statistics (compare_stats.c) ------------------------------------------- */

/* Mean and standard error (sample standard deviation, n − 1, over √n) of
 * the finite values of x[n]; *count of them.  Mean NAN when none, standard
 * error NAN when fewer than two. */
void compare_mean_se(const double *x, size_t n, double *mean, double *se, size_t *count);

/* Seed-paired differences b − a: for each seed in both seeds_a[na] and
 * seeds_b[nb] with both values finite, their mean and standard error. */
void compare_paired(const double *a, const long *seeds_a, size_t na, const double *b,
                    const long *seeds_b, size_t nb, double *mean, double *se, size_t *count);

/* ---- runs and groups -------------------------------------------------------- */

typedef struct compare_run {
    char dir[4096];
    char method[64];
    json_t *values; /* axis key -> value, the seed excluded */
    long seed;
    lsgd_metrics_table table;
    sweep_result result;
} compare_run;

typedef struct compare_group {
    char method[64];
    json_t *values;
    size_t runs[1024]; /* indexes into the runs */
    size_t n_runs;
    int chosen;        /* shown: the best of its axis (or every group without --best-of) */
} compare_group;

typedef struct compare_set {
    compare_run *runs;
    size_t n_runs;
    compare_group *groups;
    size_t n_groups;
    json_t *keys;      /* every axis key, in order */
    json_t *varying;   /* the keys whose value differs between settings shown (table
                        * columns, figure labels); the others are stated once */
    sweep_target targets[SWEEP_MAX_TARGETS];
    size_t n_targets;
    size_t unfinished; /* rows of the sweeps whose run did not finish (not shown) */
    char title[512];   /* the sweeps' or runs' names */
} compare_set;

/* Read every DIR (a sweep: its sweep.jsonl's finished runs; a run: its
 * metrics.csv and run.json's seed), the targets given or else the sweeps',
 * and group them.  LSGD_ERR_INPUT naming the directory when it is neither. */
int compare_load(compare_set *s, const char *const *dirs, size_t n_dirs,
                 const char *const *targets, size_t n_targets, lsgd_error *err);
void compare_free(compare_set *s);

/* Fill s->varying from the settings shown (after --best-of). */
void compare_find_varying(compare_set *s);

/* The quantities a run is judged by: "final.<sweep_final_names>",
 * "rounds_to_target", "steps_to_target", "bytes_to_target",
 * "wall_to_target" (the first target; NAN when not met). */
int compare_quantity_known(const char *name);
double compare_quantity(const compare_run *r, const char *name);
/* Whether larger is better (accuracy). */
int compare_quantity_maximized(const char *name);
/* quantity over the seeds of group g: values[] in run order and seeds[]. */
size_t compare_group_values(const compare_set *s, const compare_group *g, const char *name,
                            double *values, long *seeds);

/* ---- speed-up against workers (compare_speedup.c) ------------------------- */

enum { COMPARE_SPEEDUP_MAX_LINES = 64, COMPARE_SPEEDUP_MAX_POINTS = 64 };

typedef struct compare_speedup_point {
    double workers;
    double time;     /* mean over seeds of compare_speedup_quantity */
    size_t seeds;    /* the seeds that measured it (met the target) */
    double speedup;  /* time at the line's smallest workers / time */
    double ideal;    /* workers / the line's smallest workers */
} compare_speedup_point;

typedef struct compare_speedup_line {
    char label[512]; /* the method, with the other values when it needs more lines */
    compare_speedup_point points[COMPARE_SPEEDUP_MAX_POINTS]; /* by workers */
    size_t n_points;
    double base_workers; /* w0: the smallest workers with a time; NAN when none */
} compare_speedup_line;

/* The time speed-ups are of: "wall_to_target" with a target, else "final.wall_s". */
const char *compare_speedup_quantity(const compare_set *s);
/* The lines of the settings shown whose values hold "workers" (none when
 * the runs do not vary it), at most cap. */
size_t compare_speedup_lines(const compare_set *s, compare_speedup_line *lines, size_t cap);

/* ---- output ----------------------------------------------------------------- */

typedef struct compare_options {
    const char *best_of;  /* axis key, or NULL */
    const char *by;       /* quantity */
    const char *baseline; /* method */
    const char *out_dir;
} compare_options;

/* compare.md (also on stdout) and compare.csv in out_dir. */
int compare_report_write(const compare_set *s, const compare_options *o, lsgd_error *err);
/* When the runs vary workers: their table (compare.md's last section) on
 * md, and speedup.csv in out_dir. */
void compare_speedup_markdown(FILE *md, const compare_set *s);
int compare_speedup_write(const compare_set *s, const compare_options *o, lsgd_error *err);
/* The figure speedup_workers on gp (data files in tmp), when they do. */
void compare_speedup_figure(FILE *gp, const char *tmp, const compare_set *s,
                            const compare_options *o);
/* The figures; returns 0 or 1 (gnuplot failed). */
int compare_plot(const compare_set *s, const compare_options *o);

#endif
