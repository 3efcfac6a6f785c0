/*
 * args.h — what the subcommands share: their options, parsed one way, and
 * the one-line error report ("lsgd: <what and where>") with its exit
 * status (1 runtime, 2 bad input).
 */
#ifndef LSGD_CLI_ARGS_H
#define LSGD_CLI_ARGS_H

#include <jansson.h>
#include <stddef.h>

#include "lsgd/errors.h"

enum cli_option {
    CLI_SET = 1 << 0,    /* --set KEY=VALUE (repeatable) */
    CLI_RESUME = 1 << 1, /* --resume */
    CLI_RANK = 1 << 2,   /* --rank R, --world N */
    CLI_PRINT = 1 << 3,  /* --print */
    CLI_JSON = 1 << 4,   /* --json */
    CLI_CONFIG = 1 << 5, /* --config CONFIG */
    CLI_NO_DATA = 1 << 6, /* --no-data */
    CLI_FORCE = 1 << 7    /* --force */
};

typedef struct cli_args {
    const char *positional[4]; /* in order: CONFIG, NAME, PATH … */
    size_t n_positional;
    const char **sets;         /* [n_sets] "KEY=VALUE" */
    size_t n_sets;
    int resume, force, print, json, no_data;
    int rank, world;           /* -1 when not given */
    const char *config;        /* --config */
} cli_args;

/* Parse argv (the words after the command).  `allowed` is a mask of
 * cli_option, `positionals` how many plain words the command takes.
 * Returns 0, or 2 after printing the error and the usage line. */
int cli_parse(cli_args *a, int argc, char **argv, unsigned allowed, size_t positionals,
              const char *usage);
void cli_args_free(cli_args *a);

/* Print "lsgd: <message>" and return the exit status (1 or 2). */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_report(const lsgd_error *err);

/* Load CONFIG with --set overrides; on failure print and return 1 or 2. */
int cli_load_config(json_t **cfg, const cli_args *a);

/* Load CONFIG with --set overrides, then check it as every worker does
 * before it starts (lsgd_worker_preflight, the data loaded when
 * with_data), an error caused by a --set naming it; on failure print and
 * return 1 or 2 (*cfg, when set, is still the caller's to free). */
int cli_load_checked(json_t **cfg, const cli_args *a, int with_data);

/* Run this process as worker rank of world: agree with cfg.workers, pick
 * the run id, call the engine (config_path is for the run header; resume
 * and force as given on the command line; with announce a rank above 0
 * says when it joins and finishes).  Returns the exit status. */
int cli_run_worker(json_t *cfg, const char *config_path, int rank, int world, int resume,
                   int force, int announce);

/* Note the time this process started in LSGD_STARTED, unless a process
 * of the same run (the `lsgd run` that started this worker) already did:
 * the run's start-up is counted from it. */
void cli_mark_start(void);

#endif
