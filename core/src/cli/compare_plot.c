/*
 * compare_plot.c — the figures of `lsgd compare`: training loss, test
 * accuracy (percent) and objective, each against communication rounds,
 * bytes sent and wall time, one line per setting shown (the mean over its
 * seeds, round by round) in a shaded band of ± one standard error, PNG and
 * SVG (plot_style.h).  Files in the output directory:
 *   loss_rounds, loss_bytes, loss_time, accuracy_*, objective_* (.png, .svg)
 * and, for a worker sweep, speedup_workers (compare_speedup.c).
 * Bytes are shown in MB (10^6 bytes).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/compare.h"
#include "cli/plot_style.h"

enum { X_ROUND, X_BYTES, X_WALL, N_X };
static const char *const x_names[N_X] = {"rounds", "bytes", "time"};
static const char *const x_labels[N_X] = {"communication round", "MB sent (all workers)",
                                          "wall time (s)"};

typedef struct y_quantity {
    const char *column, *name, *label;
    double scale; /* 100: a fraction shown in percent (it rises) */
} y_quantity;

static const y_quantity ys[] = {{"train_loss", "loss", "training loss", 1},
                                {"test_accuracy", "accuracy", "test accuracy (%)", 100},
                                {"objective", "objective", "objective", 1}};

/* x of row k of run r: its round, bytes sent up to it (*bytes: the sum
 * over the rows before, updated), or wall time. */
static double x_at(const compare_run *r, int x, size_t k, double *bytes)
{
    const lsgd_metrics_table *t = &r->table;
    double b = lsgd_metrics_value(t, k, lsgd_metrics_column(t, "bytes_sent"));
    *bytes += isfinite(b) ? b : 0;
    if (x == X_ROUND)
        return lsgd_metrics_value(t, k, lsgd_metrics_column(t, "round"));
    if (x == X_WALL)
        return lsgd_metrics_value(t, k, lsgd_metrics_column(t, "wall_s"));
    return *bytes / 1e6;
}

/* path: per row measured by any seed, "x mean low high"; returns points,
 * widening [*lo, *hi] by the means. */
static size_t write_curve(const char *path, const compare_set *s, const compare_group *g, int x,
                          const y_quantity *y, double *lo, double *hi)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    size_t rows = SIZE_MAX, points = 0;
    for (size_t i = 0; i < g->n_runs; i++)
        rows = s->runs[g->runs[i]].table.rows < rows ? s->runs[g->runs[i]].table.rows : rows;
    double bytes[1024] = {0};
    for (size_t k = 0; k < rows; k++) {
        double vy[1024], vx[1024], my, sy, mx, sx;
        size_t ny, nx;
        for (size_t i = 0; i < g->n_runs; i++) {
            const compare_run *r = &s->runs[g->runs[i]];
            vy[i] = lsgd_metrics_value(&r->table, k, lsgd_metrics_column(&r->table, y->column)) *
                    y->scale;
            double at = x_at(r, x, k, &bytes[i]);
            vx[i] = isfinite(vy[i]) ? at : NAN;
        }
        compare_mean_se(vy, g->n_runs, &my, &sy, &ny);
        compare_mean_se(vx, g->n_runs, &mx, &sx, &nx);
        if (!ny || !nx)
            continue;
        double band = isfinite(sy) ? sy : 0;
        double low = my - band > 0 || my <= 0 ? my - band : my * 1e-3; /* stays positive for log y */
        fprintf(f, "%.10g %.10g %.10g %.10g\n", mx, my, low, my + band);
        *lo = my < *lo ? my : *lo;
        *hi = my > *hi ? my : *hi;
        points++;
    }
    fclose(f);
    return points;
}

/* The method and the values of the keys that vary between settings shown. */
static void group_label(char *out, size_t cap, const compare_set *s, const compare_group *g)
{
    size_t n = (size_t)snprintf(out, cap, "%s", g->method), i;
    json_t *k;
    json_array_foreach(s->varying, i, k) {
        const char *key = json_string_value(k), *dot = strrchr(key, '.');
        const json_t *v = json_object_get(g->values, key);
        if (!v)
            continue;
        char text[96];
        sweep_value_text(text, sizeof text, v);
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, " %s=%s", dot ? dot + 1 : key, text);
    }
}

/* One figure: y against x for every setting shown. */
static void figure(FILE *gp, const char *tmp, const compare_set *s, const compare_options *o,
                   int x, const y_quantity *y)
{
    size_t cap = 256 + s->n_groups * 9000, used = 0;
    char *plot = malloc(cap);
    if (!plot)
        return;
    used += (size_t)snprintf(plot, cap, "plot ");
    double lo = INFINITY, hi = -INFINITY;
    size_t lines = 0;
    for (size_t g = 0; g < s->n_groups; g++) {
        if (!s->groups[g].chosen)
            continue;
        char path[4200], label[512];
        snprintf(path, sizeof path, "%s/g%zu_%s_%s.dat", tmp, g, y->name, x_names[x]);
        if (!write_curve(path, s, &s->groups[g], x, y, &lo, &hi))
            continue;
        group_label(label, sizeof label, s, &s->groups[g]);
        for (char *p = label; *p; p++)
            if (*p == '\'' || *p == '\\')
                *p = '_';
        const char *colour = plot_colour(lines);
        used += (size_t)snprintf(plot + used, cap - used,
                                 "%s'%s' using 1:3:4 with filledcurves fc rgb '%s' notitle, "
                                 "'%s' using 1:2 with lines lw 2 lc rgb '%s' title '%s'",
                                 lines ? ", " : "", path, colour, path, colour, label);
        lines++;
    }
    if (lines) {
        char title[700], name[64];
        snprintf(title, sizeof title, "%s: %s", s->title, y->label);
        snprintf(name, sizeof name, "%s_%s", y->name, x_names[x]);
        plot_axes(gp, title, x_labels[x], y->label, lo, hi, y->scale == 100);
        plot_emit(gp, o->out_dir, name, plot);
    }
    free(plot);
}

static void remove_dir(const char *tmp)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "lsgd compare: could not remove %s\n", tmp);
}

int compare_plot(const compare_set *s, const compare_options *o)
{
    char tmp[] = "/tmp/lsgd-compare-XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "lsgd compare: cannot create a temporary directory: %s\n",
                strerror(errno));
        return 1;
    }
    FILE *gp = plot_open("compare");
    int rc = 1;
    if (gp) {
        for (size_t q = 0; q < sizeof ys / sizeof ys[0]; q++)
            for (int x = 0; x < N_X; x++)
                figure(gp, tmp, s, o, x, &ys[q]);
        compare_speedup_figure(gp, tmp, s, o);
        rc = plot_close(gp, "compare");
    }
    remove_dir(tmp);
    return rc;
}
