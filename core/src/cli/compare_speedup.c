/*
 * compare_speedup.c — speed-up curves of a worker sweep.  When the runs
 * vary `workers`, each method's time at each number of workers is the mean
 * over seeds of its wall time to the first target (the seeds that met it),
 * or of its final wall time when there is no target; its speed-up is
 * T(w₀) / T(w), w₀ the smallest number of workers of its line, against the
 * ideal w / w₀.  A table at the end of compare.md, speedup.csv beside it,
 * and the figure speedup_workers (.png, .svg) with the ideal line dashed.
 *
 * A line is a method (its settings shown, after --best-of); a method that
 * shows several settings at one number of workers (another axis varies)
 * gets a line per setting of the other keys.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/compare.h"
#include "cli/plot_style.h"
#include "cli/report_files.h"
#include "io/atomic_file.h"

static const char workers_key[] = "workers";

const char *compare_speedup_quantity(const compare_set *s)
{
    return s->n_targets ? "wall_to_target" : "final.wall_s";
}

static double workers_of(const compare_group *g)
{
    const json_t *w = json_object_get(g->values, workers_key);
    return json_is_number(w) ? json_number_value(w) : NAN;
}

/* Whether another group shown of g's method has g's number of workers. */
static int shares_workers(const compare_set *s, size_t g)
{
    for (size_t h = 0; h < s->n_groups; h++)
        if (h != g && s->groups[h].chosen &&
            strcmp(s->groups[h].method, s->groups[g].method) == 0 &&
            workers_of(&s->groups[h]) == workers_of(&s->groups[g]))
            return 1;
    return 0;
}

/* "adam", or "adam period=8" when the method needs a line per setting. */
static void line_label(char *out, size_t cap, const compare_set *s, size_t g)
{
    const compare_group *group = &s->groups[g];
    size_t n = (size_t)snprintf(out, cap, "%s", group->method), i;
    json_t *k;
    if (!shares_workers(s, g))
        return;
    json_array_foreach(s->varying, i, k) {
        const char *key = json_string_value(k), *dot = strrchr(key, '.');
        const json_t *v = json_object_get(group->values, key);
        if (!v || strcmp(key, workers_key) == 0)
            continue;
        char text[96];
        sweep_value_text(text, sizeof text, v);
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, " %s=%s", dot ? dot + 1 : key, text);
    }
}

static compare_speedup_line *line_named(compare_speedup_line *lines, size_t *n_lines, size_t cap,
                                        const char *label)
{
    for (size_t i = 0; i < *n_lines; i++)
        if (strcmp(lines[i].label, label) == 0)
            return &lines[i];
    if (*n_lines >= cap)
        return NULL;
    compare_speedup_line *l = &lines[(*n_lines)++];
    memset(l, 0, sizeof *l);
    snprintf(l->label, sizeof l->label, "%s", label);
    return l;
}

static int by_workers(const void *a, const void *b)
{
    double x = ((const compare_speedup_point *)a)->workers;
    double y = ((const compare_speedup_point *)b)->workers;
    return (x > y) - (x < y);
}

/* Sort by workers; speed-up and ideal against the first point with a time. */
static void finish_line(compare_speedup_line *l)
{
    qsort(l->points, l->n_points, sizeof l->points[0], by_workers);
    double w0 = NAN, t0 = NAN;
    for (size_t i = 0; i < l->n_points && isnan(w0); i++)
        if (isfinite(l->points[i].time) && l->points[i].time > 0) {
            w0 = l->points[i].workers;
            t0 = l->points[i].time;
        }
    for (size_t i = 0; i < l->n_points; i++) {
        compare_speedup_point *p = &l->points[i];
        p->speedup = isfinite(t0) && p->time > 0 ? t0 / p->time : NAN;
        p->ideal = isfinite(w0) ? p->workers / w0 : NAN;
    }
    l->base_workers = w0;
}

size_t compare_speedup_lines(const compare_set *s, compare_speedup_line *lines, size_t cap)
{
    size_t n_lines = 0;
    const char *quantity = compare_speedup_quantity(s);
    for (size_t g = 0; g < s->n_groups; g++) {
        const compare_group *group = &s->groups[g];
        if (!group->chosen || isnan(workers_of(group)))
            continue;
        char label[512];
        line_label(label, sizeof label, s, g);
        compare_speedup_line *l = line_named(lines, &n_lines, cap, label);
        if (!l || l->n_points >= COMPARE_SPEEDUP_MAX_POINTS)
            continue;
        double values[1024], se;
        long seeds[1024];
        compare_speedup_point *p = &l->points[l->n_points++];
        size_t n = compare_group_values(s, group, quantity, values, seeds);
        compare_mean_se(values, n, &p->time, &se, &p->seeds);
        p->workers = workers_of(group);
    }
    for (size_t i = 0; i < n_lines; i++)
        finish_line(&lines[i]);
    return n_lines;
}

/* The lines on the heap (NULL when none: the runs do not vary workers). */
static compare_speedup_line *lines_of(const compare_set *s, size_t *n_lines)
{
    compare_speedup_line *lines = calloc(COMPARE_SPEEDUP_MAX_LINES, sizeof *lines);
    *n_lines = lines ? compare_speedup_lines(s, lines, COMPARE_SPEEDUP_MAX_LINES) : 0;
    if (!*n_lines) {
        free(lines);
        return NULL;
    }
    return lines;
}

/* ---- the table in compare.md, and speedup.csv ---------------------------------- */

void compare_speedup_markdown(FILE *md, const compare_set *s)
{
    size_t n_lines;
    compare_speedup_line *lines = lines_of(s, &n_lines);
    if (!lines)
        return;
    const char *quantity = compare_speedup_quantity(s);
    fprintf(md, "\n## Speed-up against workers\n\n%s at each line's smallest number of "
            "workers over %s at N workers (means over seeds).\n\n"
            "| line | workers | seeds | %s | speed-up | ideal |\n|---|---|---|---|---|---|\n",
            quantity, quantity, quantity);
    for (size_t i = 0; i < n_lines; i++)
        for (size_t k = 0; k < lines[i].n_points; k++) {
            const compare_speedup_point *p = &lines[i].points[k];
            fprintf(md, "| %s | %g | %zu | %.4g | %.3g | %g |\n", lines[i].label, p->workers,
                    p->seeds, p->time, p->speedup, p->ideal);
        }
    free(lines);
}

int compare_speedup_write(const compare_set *s, const compare_options *o, lsgd_error *err)
{
    size_t n_lines;
    compare_speedup_line *lines = lines_of(s, &n_lines);
    if (!lines)
        return LSGD_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s/speedup.csv", o->out_dir);
    lsgd_atomic_file a;
    if (lsgd_atomic_open(&a, path, err)) {
        free(lines);
        return err->code;
    }
    fputs("line,workers,seeds,time,speedup,ideal\n", a.f);
    for (size_t i = 0; i < n_lines; i++)
        for (size_t k = 0; k < lines[i].n_points; k++) {
            const compare_speedup_point *p = &lines[i].points[k];
            csv_field(a.f, lines[i].label, 1);
            csv_number(a.f, p->workers);
            csv_number(a.f, (double)p->seeds);
            csv_number(a.f, p->time);
            csv_number(a.f, p->speedup);
            csv_number(a.f, p->ideal);
            fputc('\n', a.f);
        }
    free(lines);
    return lsgd_atomic_commit(&a, err);
}

/* ---- the figure -------------------------------------------------------------- */

/* A data file of a line's speed-ups; widens [*w_min, *w_max] and *hi. */
static int write_line(const char *path, const compare_speedup_line *l, double *w_min,
                      double *w_max, double *hi)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    for (size_t k = 0; k < l->n_points; k++) {
        const compare_speedup_point *p = &l->points[k];
        if (!isfinite(p->speedup))
            continue;
        fprintf(f, "%.10g %.10g\n", p->workers, p->speedup);
        *w_min = p->workers < *w_min ? p->workers : *w_min;
        *w_max = p->workers > *w_max ? p->workers : *w_max;
        *hi = p->ideal > *hi ? p->ideal : *hi;
    }
    fclose(f);
    return 1;
}

/* The ideal w / w0 of every distinct w0 (a line's smallest workers), dashed. */
static size_t ideal_lines(char *plot, size_t cap, const char *tmp,
                          const compare_speedup_line *lines, size_t n_lines, double w_max)
{
    size_t used = 0;
    for (size_t i = 0; i < n_lines; i++) {
        double w0 = lines[i].base_workers;
        int seen = !isfinite(w0);
        for (size_t j = 0; j < i && !seen; j++)
            seen = lines[j].base_workers == w0;
        char path[4200];
        snprintf(path, sizeof path, "%s/speedup_ideal%zu.dat", tmp, i);
        FILE *f = seen ? NULL : fopen(path, "w");
        if (!f)
            continue;
        fprintf(f, "%.10g 1\n%.10g %.10g\n", w0, w_max, w_max / w0);
        fclose(f);
        if (used < cap)
            used += (size_t)snprintf(plot + used, cap - used, ", '%s' using 1:2 with lines dt 2 "
                                     "lc rgb 'gray' %s", path, used ? "notitle" : "title 'ideal'");
    }
    return used;
}

void compare_speedup_figure(FILE *gp, const char *tmp, const compare_set *s,
                            const compare_options *o)
{
    size_t n_lines;
    compare_speedup_line *lines = lines_of(s, &n_lines);
    size_t cap = 512 + n_lines * 9000, used = 0, drawn = 0;
    char *plot = lines ? malloc(cap) : NULL;
    if (!plot) {
        free(lines);
        return;
    }
    double w_min = INFINITY, w_max = -INFINITY, hi = 1;
    used += (size_t)snprintf(plot, cap, "plot ");
    for (size_t i = 0; i < n_lines; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/speedup%zu.dat", tmp, i);
        if (!write_line(path, &lines[i], &w_min, &w_max, &hi))
            continue;
        for (char *c = lines[i].label; *c; c++)
            if (*c == '\'' || *c == '\\')
                *c = '_';
        const char *colour = plot_colour(drawn++);
        used += (size_t)snprintf(plot + used, cap - used,
                                 "%s'%s' using 1:2 with linespoints lw 2 pt 7 lc rgb '%s' "
                                 "title '%s'", drawn > 1 ? ", " : "", path, colour,
                                 lines[i].label);
    }
    if (isfinite(w_min) && used < cap) {
        ideal_lines(plot + used, cap - used, tmp, lines, n_lines, w_max);
        char title[700];
        snprintf(title, sizeof title, "%s: speed-up (%s)", s->title,
                 compare_speedup_quantity(s));
        plot_axes(gp, title, "workers", "speed-up", 1, hi, 1);
        plot_emit(gp, o->out_dir, "speedup_workers", plot);
    }
    free(plot);
    free(lines);
}
