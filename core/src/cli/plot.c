/*
 * plot.c — `lsgd plot RUN_DIR… [-o DIR]`: loss and accuracy against rounds
 * and against wall time, one line per run and quantity, drawn by gnuplot
 * in the style of plot_style.h (title naming the runs, legend inside the
 * axes, distinct colours, accuracy in percent, plain ticks, log y when the
 * losses span decades), each figure as PNG and SVG.
 *
 * Reads each run's metrics.csv by column name (io/metrics.h), writes one small data file
 * per run and quantity holding only the rounds where it was measured (so
 * evaluation every k rounds still draws connected lines), and pipes a
 * script to gnuplot.  Files written in DIR (default: the first RUN_DIR):
 *   loss_rounds  loss_time  [accuracy_rounds  accuracy_time]  (.png, .svg)
 * Training loss is solid; test loss (or the exact objective of data-free
 * problems) is dashed, in a colour of its own.  Runs are named by their
 * directories, with as many trailing components as keep two names apart.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/plot_style.h"
#include "io/metrics.h"

enum { Q_ROUND, Q_WALL, Q_TRAIN, Q_TEST, Q_ACC, Q_OBJECTIVE, Q_COUNT };
static const char *const columns[Q_COUNT] = {"round", "wall_s", "train_loss", "test_loss",
                                             "test_accuracy", "objective"};
static const char *const shown[Q_COUNT] = {"round", "wall time", "train loss", "test loss",
                                           "test accuracy", "objective"};

typedef struct run_data {
    char label[256];
    lsgd_metrics_table table;
    int column[Q_COUNT]; /* index in table of each quantity, -1 when absent */
} run_data;

/* Quantity q of row k (accuracy in percent); NAN where not measured. */
static double at(const run_data *r, int q, size_t k)
{
    double v = lsgd_metrics_value(&r->table, k, r->column[q]);
    return q == Q_ACC ? 100 * v : v;
}

static int read_run(run_data *r, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    lsgd_error err;
    if (lsgd_metrics_read(&r->table, path, &err)) {
        fprintf(stderr, "lsgd plot: %s (expected a run directory)\n", err.message);
        return 2;
    }
    for (int q = 0; q < Q_COUNT; q++)
        r->column[q] = lsgd_metrics_column(&r->table, columns[q]);
    if (r->column[Q_ROUND] < 0 || r->column[Q_WALL] < 0 || r->column[Q_TRAIN] < 0) {
        fprintf(stderr, "lsgd plot: %s line 1: expected columns round, wall_s, train_loss\n",
                path);
        return 2;
    }
    return 0;
}

/* Writes dir/run<i>_<x>_<y>.dat with the rows where both are finite;
 * returns how many points, widening [*lo, *hi] by the y values. */
static size_t write_series(const char *dir, int i, const run_data *r, int x, int y, double *lo,
                           double *hi)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run%d_%d_%d.dat", dir, i, x, y);
    FILE *f = fopen(path, "w");
    size_t points = 0;
    for (size_t k = 0; f && k < r->table.rows; k++) {
        double a = at(r, x, k), b = at(r, y, k);
        if (isfinite(a) && isfinite(b)) {
            fprintf(f, "%.10g %.10g\n", a, b);
            points++;
            *lo = b < *lo ? b : *lo;
            *hi = b > *hi ? b : *hi;
        }
    }
    if (f)
        fclose(f);
    return points;
}

/* One figure: for each run, the solid series y1 and (when measured) the
 * dashed y2, each in a colour of its own. */
static void plot_one(FILE *gp, const char *tmp, const char *out_dir, const char *name,
                     const char *title, const run_data *runs, int count, int x, int y1, int y2,
                     const char *ylabel)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t have[64][2] = {{0}};
    int any = 0;
    for (int i = 0; i < count && i < 64; i++) {
        have[i][0] = write_series(tmp, i, &runs[i], x, y1, &lo, &hi);
        have[i][1] = y2 >= 0 ? write_series(tmp, i, &runs[i], x, y2, &lo, &hi) : 0;
        any |= have[i][0] || have[i][1];
    }
    if (!any)
        return;
    size_t cap = 64 * 2 * 5000, used = (size_t)snprintf(NULL, 0, "plot ");
    char *plot = malloc(cap);
    if (!plot)
        return;
    snprintf(plot, cap, "plot ");
    size_t line = 0;
    for (int i = 0; i < count && i < 64; i++) {
        for (int k = 0; k < 2; k++) {
            if (!have[i][k])
                continue;
            char label[400];
            snprintf(label, sizeof label, "%s %s", runs[i].label, shown[k ? y2 : y1]);
            for (char *p = label; *p; p++)
                if (*p == '\'' || *p == '\\')
                    *p = '_';
            used += (size_t)snprintf(plot + used, cap - used,
                                     "%s'%s/run%d_%d_%d.dat' using 1:2 with lines lw 2 "
                                     "lc rgb '%s' dt %d title '%s'",
                                     line ? ", " : "", tmp, i, x, k ? y2 : y1,
                                     plot_colour(line), k ? 2 : 1, label);
            line++;
        }
    }
    char full_title[600];
    snprintf(full_title, sizeof full_title, "%s: %s", title, ylabel);
    plot_axes(gp, full_title, x == Q_ROUND ? "communication round" : "wall time (s)", ylabel,
              y1 == Q_ACC ? 0 : lo, hi, y1 == Q_ACC);
    plot_emit(gp, out_dir, name, plot);
    free(plot);
}

static const char usage[] = "lsgd plot RUN_DIR... [-o DIR]";

/* "run-a, run-b" (cut at 200 characters). */
static void title_of(char *out, size_t cap, const run_data *runs, int count)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < count && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", runs[i].label);
}

static void draw(FILE *gp, const char *tmp, const char *out_dir, const run_data *runs, int count)
{
    char title[256];
    title_of(title, sizeof title, runs, count);
    int have_test_loss = 0;
    for (int i = 0; i < count; i++)
        for (size_t k = 0; k < runs[i].table.rows; k++)
            have_test_loss |= isfinite(at(&runs[i], Q_TEST, k));
    int second = have_test_loss ? Q_TEST : Q_OBJECTIVE;
    plot_one(gp, tmp, out_dir, "loss_rounds", title, runs, count, Q_ROUND, Q_TRAIN, second,
             "loss");
    plot_one(gp, tmp, out_dir, "loss_time", title, runs, count, Q_WALL, Q_TRAIN, second, "loss");
    plot_one(gp, tmp, out_dir, "accuracy_rounds", title, runs, count, Q_ROUND, Q_ACC, -1,
             "test accuracy (%)");
    plot_one(gp, tmp, out_dir, "accuracy_time", title, runs, count, Q_WALL, Q_ACC, -1,
             "test accuracy (%)");
}

int lsgd_cli_plot(int argc, char **argv)
{
    const char *out_dir = NULL;
    const char *dirs[64];
    int count = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (strcmp(argv[i], "-o") == 0) {
            return cli_fail(2, "plot: -o needs a value; usage: %s", usage);
        } else if (argv[i][0] == '-') {
            return cli_fail(2, "plot: unknown option '%.60s'; usage: %s", argv[i], usage);
        } else if (count < 64) {
            dirs[count++] = argv[i];
        } else {
            return cli_fail(2, "plot: more than 64 run directories; plot at most 64 at once");
        }
    }
    if (count == 0)
        return cli_fail(2, "plot: missing RUN_DIR; usage: %s", usage);
    if (!out_dir)
        out_dir = dirs[0];
    run_data *runs = calloc((size_t)count, sizeof *runs);
    char (*labels)[256] = calloc((size_t)count, sizeof *labels);
    int rc = runs && labels ? 0 : 1;
    for (int i = 0; i < count && !rc; i++)
        rc = read_run(&runs[i], dirs[i]);
    if (!rc) {
        plot_labels(labels, dirs, (size_t)count);
        for (int i = 0; i < count; i++)
            snprintf(runs[i].label, sizeof runs[i].label, "%s", labels[i]);
    }
    if (!rc && mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "lsgd plot: cannot create %s: %s\n", out_dir, strerror(errno));
        rc = 1;
    }
    char tmp[] = "/tmp/lsgd-plot-XXXXXX";
    int made_tmp = !rc && mkdtemp(tmp) != NULL;
    if (!rc && !made_tmp) {
        fprintf(stderr, "lsgd plot: cannot create a temporary directory: %s\n", strerror(errno));
        rc = 1;
    }
    FILE *gp = rc ? NULL : plot_open("plot");
    if (!rc && !gp)
        rc = 1;
    if (gp) {
        draw(gp, tmp, out_dir, runs, count);
        rc = plot_close(gp, "plot");
    }
    if (made_tmp) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "lsgd plot: could not remove %s\n", tmp);
    }
    for (int i = 0; i < count && runs; i++)
        lsgd_metrics_table_free(&runs[i].table);
    free(runs);
    free(labels);
    return rc;
}
