/*
 * args.c — option parsing and error reporting shared by the subcommands,
 * and running this process as one worker (used by `lsgd worker` and by
 * `lsgd run` under mpirun/srun).
 */
#include "cli/args.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/worker.h"
#include "host/config.h"
#include "host/launcher.h"
#include "host/suggest.h"

/* Where a worker started by `lsgd run` says why it failed: the launcher's
 * pipe (LSGD_REPORT_FD), so that the run prints one line, not one per
 * worker; else stderr. */
static void say(const char *line)
{
    const char *fd_text = getenv("LSGD_REPORT_FD");
    char *end;
    long fd = fd_text && *fd_text ? strtol(fd_text, &end, 10) : -1;
    if (fd > 2 && *end == '\0' && dprintf((int)fd, "lsgd: %s\n", line) > 0)
        return;
    fprintf(stderr, "lsgd: %s\n", line);
}

int cli_fail(int code, const char *fmt, ...)
{
    char message[LSGD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    say(message);
    return code;
}

int cli_report(const lsgd_error *err)
{
    int code = err->code == LSGD_ERR_INPUT ? LSGD_ERR_INPUT : LSGD_ERR_RUNTIME;
    /* one line, whatever a plugin or library wrote into the message */
    char line[LSGD_ERROR_MAX];
    lsgd_printable(line, sizeof line, err->message[0] ? err->message : "failed (no message)",
                   sizeof line - 8);
    say(line);
    return code;
}

static int parse_count(int *out, const char *option, const char *text)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < 0 || v > INT_MAX)
        return cli_fail(LSGD_ERR_INPUT, "%s: expected a non-negative integer, got '%s'", option,
                        text);
    *out = (int)v;
    return 0;
}

/* The value of "--opt VALUE" or "--opt=VALUE"; NULL (after printing) when missing. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (arg[n] == '=')
        return arg + n + 1;
    if (*i + 1 >= argc) {
        cli_fail(LSGD_ERR_INPUT, "%s needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

static int is_option(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int parse_one(cli_args *a, int argc, char **argv, int *i, unsigned allowed)
{
    const char *arg = argv[*i];
    const char *v;
    if ((allowed & CLI_SET) && is_option(arg, "--set")) {
        if (!(v = option_value(argc, argv, i, "--set")))
            return LSGD_ERR_INPUT;
        a->sets[a->n_sets++] = v;
        return 0;
    }
    if ((allowed & CLI_RANK) && (is_option(arg, "--rank") || is_option(arg, "--world"))) {
        int rank = is_option(arg, "--rank");
        const char *name = rank ? "--rank" : "--world";
        if (!(v = option_value(argc, argv, i, name)))
            return LSGD_ERR_INPUT;
        return parse_count(rank ? &a->rank : &a->world, name, v);
    }
    if ((allowed & CLI_CONFIG) && is_option(arg, "--config")) {
        if (!(a->config = option_value(argc, argv, i, "--config")))
            return LSGD_ERR_INPUT;
        return 0;
    }
    if ((allowed & CLI_RESUME) && strcmp(arg, "--resume") == 0)
        return a->resume = 1, 0;
    if ((allowed & CLI_FORCE) && strcmp(arg, "--force") == 0)
        return a->force = 1, 0;
    if ((allowed & CLI_PRINT) && strcmp(arg, "--print") == 0)
        return a->print = 1, 0;
    if ((allowed & CLI_JSON) && strcmp(arg, "--json") == 0)
        return a->json = 1, 0;
    if ((allowed & CLI_NO_DATA) && strcmp(arg, "--no-data") == 0)
        return a->no_data = 1, 0;
    return -1;
}

int cli_parse(cli_args *a, int argc, char **argv, unsigned allowed, size_t positionals,
              const char *usage)
{
    memset(a, 0, sizeof *a);
    a->rank = a->world = -1;
    a->sets = calloc((size_t)argc + 1, sizeof *a->sets);
    if (!a->sets)
        return cli_fail(LSGD_ERR_RUNTIME, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_one(a, argc, argv, &i, allowed);
            if (rc > 0)
                return rc;
            if (rc < 0) {
                char safe[128];
                lsgd_printable(safe, sizeof safe, arg, 60);
                return cli_fail(LSGD_ERR_INPUT, "unknown option '%s'; usage: %s", safe, usage);
            }
        } else if (a->n_positional < positionals &&
                   a->n_positional < sizeof a->positional / sizeof a->positional[0]) {
            a->positional[a->n_positional++] = arg;
        } else {
            char safe[128];
            lsgd_printable(safe, sizeof safe, arg, 60);
            return cli_fail(LSGD_ERR_INPUT, "unexpected argument '%s'; usage: %s", safe, usage);
        }
    }
    if (a->n_positional < positionals)
        return cli_fail(LSGD_ERR_INPUT, "missing argument; usage: %s", usage);
    if (a->resume && a->force)
        return cli_fail(LSGD_ERR_INPUT,
                        "--resume continues the run in output.dir and --force replaces it; "
                        "give one of them");
    return 0;
}

void cli_args_free(cli_args *a)
{
    free(a->sets);
    a->sets = NULL;
}

/* A note is said once per run: not by the workers `lsgd run` starts (it
 * said it), nor by ranks above 0 under mpirun/srun (one terminal). */
static int says_notes(void)
{
    int rank, world;
    if (getenv("LSGD_REPORT_FD"))
        return 0;
    return !lsgd_launch_rank_from_env(&rank, &world) || rank == 0;
}

int cli_load_config(json_t **cfg, const cli_args *a)
{
    lsgd_error err;
    lsgd_error_clear(&err);
    char notes[2048];
    if (lsgd_config_load_noting(cfg, a->positional[0], a->sets, a->n_sets, notes, sizeof notes,
                                &err))
        return cli_report(&err);
    for (char *line = strtok(notes, "\n"); line && says_notes(); line = strtok(NULL, "\n"))
        fprintf(stderr, "lsgd: note: %s\n", line);
    return 0;
}

int cli_load_checked(json_t **cfg, const cli_args *a, int with_data)
{
    int rc = cli_load_config(cfg, a);
    if (rc)
        return rc;
    lsgd_error err;
    lsgd_error_clear(&err);
    if (!lsgd_worker_preflight(*cfg, (int)lsgd_setting_count(*cfg, "workers"), with_data, &err))
        return 0;
    lsgd_config_blame_sets(&err, a->sets, a->n_sets);
    return cli_report(&err);
}

/* ---- one worker ------------------------------------------------------------ */

/* A job id shared by every rank of one mpirun/srun, so two jobs of one
 * config get different run ids. */
static const char *job_salt(char *buf, size_t cap)
{
    const char *pmix = getenv("PMIX_NAMESPACE");
    const char *slurm = getenv("SLURM_JOB_ID");
    if (pmix && *pmix)
        return pmix;
    if (slurm && *slurm) {
        const char *step = getenv("SLURM_STEP_ID");
        snprintf(buf, cap, "%s.%s", slurm, step ? step : "");
        return buf;
    }
    return NULL;
}

static int valid_run_id(const char *id)
{
    regex_t re;
    if (regcomp(&re, "^[A-Za-z0-9_.-]{1,64}$", REG_EXTENDED | REG_NOSUB))
        return 0;
    int ok = regexec(&re, id, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

void cli_mark_start(void)
{
    struct timespec now;
    char text[64];
    clock_gettime(CLOCK_MONOTONIC, &now);
    snprintf(text, sizeof text, "%.6f", (double)now.tv_sec + (double)now.tv_nsec * 1e-9);
    setenv("LSGD_STARTED", text, 0); /* the first process of the run keeps its time */
}

/* cli_mark_start's time, 0 when missing or not a time of this boot. */
static double started_at(void)
{
    const char *text = getenv("LSGD_STARTED");
    char *end;
    double t = text ? strtod(text, &end) : 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!text || *end || !(t > 0) || t > (double)now.tv_sec + 1)
        return 0;
    return t;
}

int cli_run_worker(json_t *cfg, const char *config_path, int rank, int world, int resume,
                   int force, int announce)
{
    if (world < 1 || rank < 0 || rank >= world)
        return cli_fail(LSGD_ERR_INPUT, "worker: rank %d is outside world %d (need 0 <= rank < world)",
                        rank, world);
    int workers = (int)lsgd_config_number(cfg, "workers", 1);
    if (workers != world) {
        if (workers != 1)
            return cli_fail(LSGD_ERR_INPUT,
                            "workers: the config asks for %d workers but %d process%s started "
                            "(rank %d of %d); make them agree",
                            workers, world, world == 1 ? " was" : "es were", rank, world);
        json_object_set_new(cfg, "workers", json_integer(world)); /* the default: take the world's */
    }
    char run_id[80], salt[256];
    const char *env_id = getenv("LSGD_RUN_ID");
    const char *cfg_id = lsgd_config_string(cfg, "run_id", NULL);
    if (env_id && *env_id) {
        if (!valid_run_id(env_id))
            return cli_fail(LSGD_ERR_INPUT,
                            "LSGD_RUN_ID: expected 1 to 64 of A-Z a-z 0-9 _ . -, got '%.80s'", env_id);
        snprintf(run_id, sizeof run_id, "%s", env_id);
    } else if (cfg_id) {
        snprintf(run_id, sizeof run_id, "%s", cfg_id);
    } else {
        lsgd_config_run_id(run_id, sizeof run_id, cfg, job_salt(salt, sizeof salt));
    }
    lsgd_worker_args args = {.rank = rank, .world = world, .run_id = run_id, .resume = resume,
                             .force = force, .config_path = config_path,
                             .started = started_at(), .announce = announce};
    lsgd_error err;
    lsgd_error_clear(&err);
    int rc = lsgd_worker_run(cfg, &args, &err);
    if (rc) {
        if (err.code == LSGD_OK)
            err.code = rc;
        return cli_report(&err);
    }
    return 0;
}
