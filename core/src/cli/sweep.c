/*
 * sweep.c — `lsgd sweep SWEEP.json [--jobs N] [--target T]... [-o DIR]
 * [--dry-run]`: expand the sweep (cli/sweep.h), check every run's config
 * before any starts (bad input: exit 2 naming the axis and value), run
 * what is not finished yet `--jobs` at a time, and write sweep.csv and
 * sweep.jsonl.  Exit 0 when every run finished, 1 when one failed or the
 * sweep was interrupted (a re-run resumes), 2 for bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/sweep.h"

static const char usage[] = "lsgd sweep SWEEP.json [--jobs N] [--target METRIC<=VALUE]... "
                            "[-o DIR] [--dry-run]";

typedef struct sweep_args {
    const char *file, *output;
    const char *targets[SWEEP_MAX_TARGETS];
    size_t n_targets;
    int jobs, dry_run;
} sweep_args;

static int parse(sweep_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "--jobs") == 0 && has_value) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1024)
                return cli_fail(2, "--jobs: expected an integer from 1 to 1024, got '%.40s'",
                                argv[i]);
            a->jobs = (int)v;
        } else if (strcmp(arg, "--target") == 0 && has_value) {
            if (a->n_targets >= SWEEP_MAX_TARGETS)
                return cli_fail(2, "--target: at most %d targets", SWEEP_MAX_TARGETS);
            a->targets[a->n_targets++] = argv[++i];
        } else if (strcmp(arg, "-o") == 0 && has_value) {
            a->output = argv[++i];
        } else if (strcmp(arg, "--dry-run") == 0) {
            a->dry_run = 1;
        } else if (arg[0] == '-' || a->file) {
            return cli_fail(2, "unexpected argument '%.60s'; usage: %s", arg, usage);
        } else {
            a->file = arg;
        }
    }
    return a->file ? 0 : cli_fail(2, "missing SWEEP.json; usage: %s", usage);
}

/* Runs at a time: --jobs, else the file's "jobs", else the online cores
 * divided by the most workers a run uses, at least 1. */
static int jobs_for(const sweep_args *a, const sweep_plan *p)
{
    if (a->jobs)
        return a->jobs;
    if (p->jobs)
        return p->jobs;
    int workers = 1;
    for (size_t i = 0; i < p->n_runs; i++)
        workers = p->runs[i].workers > workers ? p->runs[i].workers : workers;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long jobs = cores > 0 ? cores / workers : 1;
    return jobs < 1 ? 1 : (int)jobs;
}

static void print_plan(const sweep_plan *p, int jobs)
{
    printf("lsgd sweep: %zu runs of %s into %s, %d at a time\n", p->n_runs, p->base, p->output,
           jobs);
    for (size_t i = 0; i < p->n_runs; i++) {
        printf("%s:", p->runs[i].name);
        for (size_t k = 0; k < p->runs[i].n_sets; k++)
            printf(" --set %s", p->runs[i].sets[k]);
        printf("\n");
    }
}

static int summarize(const sweep_plan *p, int interrupted)
{
    size_t done = 0, skipped = 0, failed = 0, stopped = 0;
    for (size_t i = 0; i < p->n_runs; i++) {
        int s = p->runs[i].state;
        done += s == SWEEP_DONE || s == SWEEP_SKIPPED;
        skipped += s == SWEEP_SKIPPED;
        failed += s == SWEEP_FAILED;
        stopped += s == SWEEP_STOPPED;
    }
    printf("lsgd sweep: %zu runs: %zu done (%zu had finished before), %zu failed, %zu stopped; "
           "%s/sweep.csv\n", p->n_runs, done, skipped, failed, stopped, p->output);
    if (failed)
        fprintf(stderr, "lsgd: sweep: %zu of %zu runs failed (each kept with its sweep.log; a "
                "re-run tries them again)\n", failed, p->n_runs);
    return interrupted || failed ? 1 : 0;
}

int lsgd_cli_sweep(int argc, char **argv)
{
    sweep_args a;
    int rc = parse(&a, argc, argv);
    if (rc)
        return rc;
    sweep_plan p;
    lsgd_error err;
    lsgd_error_clear(&err);
    if (sweep_plan_load(&p, a.file, a.output, &err)) {
        sweep_plan_free(&p);
        return cli_report(&err);
    }
    for (size_t i = 0; i < a.n_targets && !rc; i++)
        if (sweep_plan_add_target(&p, a.targets[i], &err))
            rc = cli_fail(2, "--target: %s", err.message);
    if (!rc && sweep_plan_check(&p, &err))
        rc = cli_report(&err);
    int jobs = rc ? 1 : jobs_for(&a, &p);
    if (!rc && a.dry_run) {
        print_plan(&p, jobs);
    } else if (!rc) {
        printf("lsgd sweep: %zu runs of %s into %s, %d at a time\n", p.n_runs, p.base, p.output,
               jobs);
        fflush(stdout);
        if (sweep_plan_write_base(&p, &err) || sweep_report_write(&p, &err)) {
            rc = cli_report(&err);
        } else {
            int interrupted = sweep_jobs_run(&p, jobs);
            rc = sweep_report_write(&p, &err) ? cli_report(&err) : summarize(&p, interrupted);
        }
    }
    sweep_plan_free(&p);
    return rc;
}
