/*
 * compare.c — `lsgd compare DIR… [--best-of KEY] [--by QUANTITY]
 * [--baseline METHOD] [--target T]... [-o DIR] [--no-plot]`: the runs of
 * sweeps and run directories grouped by method and values over seeds
 * (compare_load.c); with --best-of, each method keeps only its best value
 * of that axis (for each setting of the other axes) by the mean of
 * --by over seeds — more seeds meeting the target first, then the better
 * mean — as papers tune each method at its own best step size.  Then the
 * table (compare.md, also on stdout; compare.csv), for a worker sweep the
 * speed-ups (compare_speedup.c), and the figures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/compare.h"

static const char usage[] = "lsgd compare DIR... [--best-of KEY] [--by QUANTITY] "
                            "[--baseline METHOD] [--target METRIC<=VALUE]... [-o DIR] [--no-plot]";

typedef struct compare_args {
    const char **dirs;
    size_t n_dirs;
    const char *targets[SWEEP_MAX_TARGETS];
    size_t n_targets;
    int no_plot;
    compare_options o;
} compare_args;

static int parse(compare_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->dirs = calloc((size_t)argc + 1, sizeof *a->dirs);
    if (!a->dirs)
        return cli_fail(1, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char **value = strcmp(arg, "--best-of") == 0    ? &a->o.best_of
                             : strcmp(arg, "--by") == 0       ? &a->o.by
                             : strcmp(arg, "--baseline") == 0 ? &a->o.baseline
                             : strcmp(arg, "-o") == 0         ? &a->o.out_dir
                                                              : NULL;
        if ((value || strcmp(arg, "--target") == 0) && i + 1 >= argc)
            return cli_fail(2, "%s needs a value; usage: %s", arg, usage);
        if (value) {
            *value = argv[++i];
        } else if (strcmp(arg, "--target") == 0) {
            if (a->n_targets >= SWEEP_MAX_TARGETS)
                return cli_fail(2, "--target: at most %d targets", SWEEP_MAX_TARGETS);
            a->targets[a->n_targets++] = argv[++i];
        } else if (strcmp(arg, "--no-plot") == 0) {
            a->no_plot = 1;
        } else if (arg[0] == '-') {
            return cli_fail(2, "unknown option '%.60s'; usage: %s", arg, usage);
        } else {
            a->dirs[a->n_dirs++] = arg;
        }
    }
    return a->n_dirs ? 0 : cli_fail(2, "missing DIR; usage: %s", usage);
}

/* --best-of names an axis, --by a quantity (a target one needs a target),
 * --baseline a method; defaults: --by rounds_to_target with a target, else
 * final.train_loss; --baseline the first method. */
static int check_options(compare_options *o, const compare_set *s)
{
    if (!o->by)
        o->by = s->n_targets ? "rounds_to_target" : "final.train_loss";
    if (!compare_quantity_known(o->by))
        return cli_fail(2, "--by %.60s: unknown quantity; known: rounds_to_target, "
                        "steps_to_target, bytes_to_target, wall_to_target, final.train_loss, "
                        "final.test_loss, final.test_accuracy, final.objective, final.rounds, "
                        "final.steps, final.bytes, final.wall_s", o->by);
    if (strncmp(o->by, "final.", 6) != 0 && s->n_targets == 0)
        return cli_fail(2, "--by %s needs a target: give --target (e.g. train_loss<=0.15) or "
                        "sweeps run with targets", o->by);
    int found = !o->best_of;
    size_t i;
    json_t *k;
    json_array_foreach(s->keys, i, k)
        found |= o->best_of && strcmp(json_string_value(k), o->best_of) == 0;
    if (!found) {
        char *known = json_dumps(s->keys, JSON_COMPACT);
        int rc = cli_fail(2, "--best-of %.60s: no such axis in these runs; axes: %s", o->best_of,
                          known ? known : "?");
        free(known);
        return rc;
    }
    found = !o->baseline;
    for (size_t g = 0; g < s->n_groups; g++)
        found |= o->baseline && strcmp(s->groups[g].method, o->baseline) == 0;
    if (!found) {
        char methods[512] = "";
        size_t used = 0;
        for (size_t g = 0; g < s->n_groups && used < sizeof methods; g++) {
            size_t first = 0;
            while (strcmp(s->groups[first].method, s->groups[g].method) != 0)
                first++;
            if (first == g)
                used += (size_t)snprintf(methods + used, sizeof methods - used, "%s%s",
                                         used ? ", " : "", s->groups[g].method);
        }
        return cli_fail(2, "--baseline %.60s: no such method in these runs; methods: %s",
                        o->baseline, methods);
    }
    if (!o->baseline)
        o->baseline = s->groups[0].method;
    return 0;
}

typedef struct score {
    size_t count;
    double mean, train_loss; /* the final training loss breaks ties of count */
} score;

static score score_of(const compare_set *s, const compare_group *g, const char *by)
{
    double values[1024], se;
    long seeds[1024];
    score sc;
    size_t n = compare_group_values(s, g, by, values, seeds), count;
    compare_mean_se(values, n, &sc.mean, &se, &sc.count);
    n = compare_group_values(s, g, "final.train_loss", values, seeds);
    compare_mean_se(values, n, &sc.train_loss, &se, &count);
    return sc;
}

/* More seeds measured (meeting the target), then the better mean, then
 * the lower final training loss (when no seed met the target). */
static int better(score a, score b, int maximize)
{
    if (a.count != b.count)
        return a.count > b.count;
    if (a.count && a.mean != b.mean)
        return maximize ? a.mean > b.mean : a.mean < b.mean;
    return a.train_loss < b.train_loss;
}

/* Whether groups a and b differ at most in key. */
static int same_but(const compare_group *a, const compare_group *b, const char *key)
{
    if (strcmp(a->method, b->method) != 0)
        return 0;
    json_t *x = json_deep_copy(a->values), *y = json_deep_copy(b->values);
    json_object_del(x, key);
    json_object_del(y, key);
    int same = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

static void choose_best(compare_set *s, const compare_options *o)
{
    int maximize = compare_quantity_maximized(o->by);
    for (size_t g = 0; g < s->n_groups; g++) {
        score mine = score_of(s, &s->groups[g], o->by);
        for (size_t h = 0; h < s->n_groups && s->groups[g].chosen; h++) {
            if (h == g || !same_but(&s->groups[g], &s->groups[h], o->best_of))
                continue;
            score other = score_of(s, &s->groups[h], o->by);
            /* ties go to the group that comes first */
            if (better(other, mine, maximize) || (!better(mine, other, maximize) && h < g))
                s->groups[g].chosen = 0;
        }
    }
}

int lsgd_cli_compare(int argc, char **argv)
{
    compare_args a;
    int rc = parse(&a, argc, argv);
    compare_set s;
    memset(&s, 0, sizeof s);
    lsgd_error err;
    lsgd_error_clear(&err);
    if (!rc && compare_load(&s, a.dirs, a.n_dirs, a.targets, a.n_targets, &err))
        rc = cli_report(&err);
    if (!rc)
        rc = check_options(&a.o, &s);
    if (!rc) {
        if (!a.o.out_dir)
            a.o.out_dir = a.dirs[0];
        if (a.o.best_of)
            choose_best(&s, &a.o);
        compare_find_varying(&s);
        if (compare_report_write(&s, &a.o, &err) || compare_speedup_write(&s, &a.o, &err))
            rc = cli_report(&err);
        else if (!a.no_plot)
            rc = compare_plot(&s, &a.o);
    }
    compare_free(&s);
    free(a.dirs);
    return rc;
}
