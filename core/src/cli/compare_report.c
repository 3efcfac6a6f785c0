/*
 * compare_report.c — the table of `lsgd compare`: one row per setting
 * shown (each method's best value of --best-of, or every setting), its
 * seeds, mean ± standard error over them of the final training loss, test
 * accuracy (in percent) or objective, and the rounds, bytes and wall time
 * to the first target (with how many seeds met it), and the seed-paired
 * difference of --by against the baseline method's comparable setting.
 *
 * compare.md (markdown; also on stdout) is for reading, compare.csv for
 * scripts: per quantity its mean, standard error and count, "" for none.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/compare.h"
#include "cli/report_files.h"

static const char *const csv_quantities[] = {
    "final.train_loss", "final.test_loss",  "final.test_accuracy", "final.objective",
    "final.wall_s",     "rounds_to_target", "steps_to_target",     "bytes_to_target",
    "wall_to_target"};
enum { N_CSV_QUANTITIES = sizeof csv_quantities / sizeof csv_quantities[0] };

typedef struct stat_cell {
    double mean, se;
    size_t count, total;
} stat_cell;

static stat_cell cell_of(const compare_set *s, const compare_group *g, const char *quantity)
{
    double values[1024];
    long seeds[1024];
    stat_cell c;
    c.total = compare_group_values(s, g, quantity, values, seeds);
    compare_mean_se(values, c.total, &c.mean, &c.se, &c.count);
    return c;
}

/* Whether a and b agree on every key both have, skip aside. */
static int comparable(const compare_group *a, const compare_group *b, const char *skip)
{
    const char *key;
    json_t *v;
    json_object_foreach(a->values, key, v) {
        json_t *w = json_object_get(b->values, key);
        if (w && (!skip || strcmp(key, skip) != 0) && !json_equal(v, w))
            return 0;
    }
    return 1;
}

/* The paired difference of o->by, g against the baseline's comparable setting. */
static stat_cell paired_cell(const compare_set *s, const compare_group *g,
                             const compare_options *o)
{
    stat_cell c = {NAN, NAN, 0, 0};
    if (strcmp(g->method, o->baseline) == 0)
        return c;
    for (size_t b = 0; b < s->n_groups; b++) {
        const compare_group *base = &s->groups[b];
        if (!base->chosen || strcmp(base->method, o->baseline) != 0 ||
            !comparable(g, base, o->best_of))
            continue;
        double x[1024], y[1024];
        long sx[1024], sy[1024];
        size_t nx = compare_group_values(s, base, o->by, x, sx);
        size_t ny = compare_group_values(s, g, o->by, y, sy);
        compare_paired(x, sx, nx, y, sy, ny, &c.mean, &c.se, &c.count);
        c.total = ny;
        return c;
    }
    return c;
}

/* digits significant digits, but a number of more digits (bytes: 102400)
 * in full rather than 1.024e+05. */
static void plain(char *out, size_t cap, double x, int digits)
{
    if (fabs(x) >= pow(10, digits) && fabs(x) < 1e15)
        snprintf(out, cap, "%.0f", x);
    else
        snprintf(out, cap, "%.*g", digits, x);
}

static void format_cell(char *out, size_t cap, stat_cell c, double scale, const char *unit,
                        int show_met)
{
    if (c.count == 0) {
        snprintf(out, cap, show_met ? "not met (0/%zu)" : "—", c.total);
        return;
    }
    if (fabs(c.se) <= 1e-9 * fabs(c.mean))
        c.se = 0; /* rounding noise of equal values */
    char mean[64], se[64];
    plain(mean, sizeof mean, c.mean * scale, 4);
    plain(se, sizeof se, c.se * scale, 2);
    int n = c.count >= 2 ? snprintf(out, cap, "%s ± %s%s", mean, se, unit)
                         : snprintf(out, cap, "%s%s", mean, unit);
    if (show_met && c.count < c.total && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " (%zu/%zu met)", c.count, c.total);
}

static int any_measured(const compare_set *s, const char *quantity)
{
    for (size_t i = 0; i < s->n_runs; i++)
        if (isfinite(compare_quantity(&s->runs[i], quantity)))
            return 1;
    return 0;
}

typedef struct column {
    const char *quantity, *title, *unit;
    double scale;
    int show_met;
} column;

static size_t table_columns(const compare_set *s, column *cols)
{
    static const column all[] = {
        {"final.train_loss", "final train loss", "", 1, 0},
        {"final.test_loss", "final test loss", "", 1, 0},
        {"final.test_accuracy", "final test accuracy", "%", 100, 0},
        {"final.objective", "final objective", "", 1, 0},
        {"rounds_to_target", "rounds to target", "", 1, 1},
        {"bytes_to_target", "bytes to target", "", 1, 1},
        {"wall_to_target", "wall s to target", "", 1, 1}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int target = strncmp(all[i].quantity, "final.", 6) != 0;
        if (target ? s->n_targets > 0 : any_measured(s, all[i].quantity))
            cols[n++] = all[i];
    }
    return n;
}

static void value_text(char *out, size_t cap, const json_t *v)
{
    if (v)
        sweep_value_text(out, cap, v);
    else
        snprintf(out, cap, "—");
}

/* " Same in every row: workers 2, algorithm.steps 200." */
static void fixed_keys(FILE *f, const compare_set *s)
{
    size_t i, shown = 0;
    json_t *k;
    const compare_group *any = NULL;
    for (size_t g = 0; g < s->n_groups && !any; g++)
        any = s->groups[g].chosen ? &s->groups[g] : NULL;
    json_array_foreach(s->keys, i, k) {
        const char *key = json_string_value(k);
        size_t j;
        json_t *v;
        int varies = 0;
        json_array_foreach(s->varying, j, v)
            varies |= strcmp(json_string_value(v), key) == 0;
        const json_t *value = any ? json_object_get(any->values, key) : NULL;
        if (varies || !value)
            continue;
        char text[256];
        sweep_value_text(text, sizeof text, value);
        fprintf(f, "%s`%s` %s", shown++ ? ", " : " Same in every row: ", key, text);
    }
    if (shown)
        fputc('.', f);
}

static void markdown(FILE *f, const compare_set *s, const compare_options *o)
{
    column cols[8];
    size_t n_cols = table_columns(s, cols);
    fprintf(f, "# %s\n\n", s->title);
    if (s->n_targets)
        fprintf(f, "Target: `%s`. ", s->targets[0].text);
    if (o->best_of)
        fprintf(f, "Each method at its best `%s` by %s (mean over seeds). ", o->best_of, o->by);
    fprintf(f, "Mean ± standard error over seeds; Δ: seed-paired difference of %s against %s.",
            o->by, o->baseline);
    fixed_keys(f, s);
    if (s->unfinished)
        fprintf(f, " Not shown: %zu run%s of the sweeps that did not finish (failed or stopped; "
                "see sweep.csv).", s->unfinished, s->unfinished == 1 ? "" : "s");
    fprintf(f, "\n\n| method |");
    size_t i;
    json_t *k;
    json_array_foreach(s->varying, i, k)
        fprintf(f, " %s |", json_string_value(k));
    fprintf(f, " seeds |");
    for (size_t c = 0; c < n_cols; c++)
        fprintf(f, " %s |", cols[c].title);
    fprintf(f, " Δ %s vs %s |\n|---|", o->by, o->baseline);
    for (i = 0; i < json_array_size(s->varying) + 2 + n_cols; i++)
        fprintf(f, "---|");
    fputc('\n', f);
    for (size_t g = 0; g < s->n_groups; g++) {
        const compare_group *grp = &s->groups[g];
        if (!grp->chosen)
            continue;
        fprintf(f, "| %s |", grp->method);
        json_array_foreach(s->varying, i, k) {
            char text[256];
            value_text(text, sizeof text, json_object_get(grp->values, json_string_value(k)));
            fprintf(f, " %s |", text);
        }
        fprintf(f, " %zu |", grp->n_runs);
        for (size_t c = 0; c < n_cols; c++) {
            char text[128];
            format_cell(text, sizeof text, cell_of(s, grp, cols[c].quantity), cols[c].scale,
                        cols[c].unit, cols[c].show_met);
            fprintf(f, " %s |", text);
        }
        char delta[128];
        stat_cell d = paired_cell(s, grp, o);
        if (d.count)
            format_cell(delta, sizeof delta, d, 1, "", 0);
        else
            snprintf(delta, sizeof delta, "%s", strcmp(grp->method, o->baseline) ? "—" : "baseline");
        fprintf(f, " %s |\n", delta);
    }
    compare_speedup_markdown(f, s);
}

static void csv_cell(FILE *f, stat_cell c)
{
    csv_number(f, c.mean);
    csv_number(f, c.se);
    fprintf(f, ",%zu", c.count);
}

static void csv(FILE *f, const compare_set *s, const compare_options *o)
{
    fprintf(f, "method");
    size_t i;
    json_t *k;
    json_array_foreach(s->keys, i, k)
        csv_field(f, json_string_value(k), 0);
    fprintf(f, ",seeds");
    for (size_t q = 0; q < N_CSV_QUANTITIES; q++)
        fprintf(f, ",%s:mean,%s:se,%s:n", csv_quantities[q], csv_quantities[q], csv_quantities[q]);
    fprintf(f, ",delta:%s:mean,delta:%s:se,delta:%s:n\n", o->by, o->by, o->by);
    for (size_t g = 0; g < s->n_groups; g++) {
        const compare_group *grp = &s->groups[g];
        if (!grp->chosen)
            continue;
        csv_field(f, grp->method, 1);
        csv_values(f, s->keys, grp->values);
        fprintf(f, ",%zu", grp->n_runs);
        for (size_t q = 0; q < N_CSV_QUANTITIES; q++)
            csv_cell(f, cell_of(s, grp, csv_quantities[q]));
        csv_cell(f, paired_cell(s, grp, o));
        fputc('\n', f);
    }
}

typedef struct report_context {
    const compare_set *s;
    const compare_options *o;
} report_context;

static int write_tables(FILE *md, FILE *table, const void *ctx)
{
    const report_context *c = ctx;
    markdown(md, c->s, c->o);
    csv(table, c->s, c->o);
    return ferror(md) || ferror(table);
}

int compare_report_write(const compare_set *s, const compare_options *o, lsgd_error *err)
{
    report_context c = {s, o};
    if (report_write_pair(o->out_dir, "compare.md", "compare.csv", write_tables, &c, err))
        return err->code;
    markdown(stdout, s, o);
    printf("\n%s/compare.md\n%s/compare.csv\n", o->out_dir, o->out_dir);
    return LSGD_OK;
}
