/*
 * run.c — `lsgd run CONFIG [--set k=v]… [--resume]`: load and check the
 * config, make sure every plugin it names loads, then either be one worker
 * (under mpirun/srun or with LSGD_RANK/LSGD_WORLD) or, after loading the
 * data and building the model once here, start them all.  Checking here
 * first makes a broken plugin or a bad data file one message, not one per
 * worker, and leaves no output directory behind.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/worker.h"
#include "host/config.h"
#include "host/launcher.h"
#include "host/probe.h"

static const char usage[] = "lsgd run CONFIG [--set KEY=VALUE]... [--resume]";

/* dlopen each plugin of the config once, in a child process (a plugin that
 * crashes or exits while loading is reported, not fatal), and check it
 * against its manifest.  Whether the model offers "hvp" is the worker's to
 * check. */
static int preflight_plugin(const lsgd_registry *reg, const json_t *cfg, const char *section,
                            int kind, lsgd_error *err)
{
    const char *name = lsgd_config_string(cfg, section, NULL);
    if (!name)
        return LSGD_OK;
    static const char *const provides[] = {"hvp", "rng", NULL};
    const lsgd_manifest *m;
    int rc = lsgd_registry_resolve(&m, reg, kind, name, section, err);
    return rc ? rc : lsgd_plugin_probe_load(m, provides, err);
}

static int preflight(const json_t *cfg, lsgd_error *err)
{
    lsgd_registry reg;
    int rc = lsgd_registry_discover(&reg, cfg, err);
    if (rc)
        return rc;
    rc = preflight_plugin(&reg, cfg, "scaling.plugin", LSGD_KIND_SCALING, err);
    if (!rc)
        rc = preflight_plugin(&reg, cfg, "outer.plugin", LSGD_KIND_SCALING, err);
    if (!rc)
        rc = preflight_plugin(&reg, cfg, "transport.plugin", LSGD_KIND_TRANSPORT, err);
    lsgd_registry_free(&reg);
    return rc;
}

int lsgd_cli_run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, argc, argv, CLI_SET | CLI_RESUME, 1, usage);
    json_t *cfg = NULL;
    if (!rc)
        rc = cli_load_config(&cfg, &a);
    lsgd_error err;
    lsgd_error_clear(&err);
    if (!rc && preflight(cfg, &err))
        rc = cli_report(&err);
    int rank, world;
    if (!rc && lsgd_launch_rank_from_env(&rank, &world)) {
        rc = cli_run_worker(cfg, a.positional[0], rank, world, a.resume);
    } else if (!rc && lsgd_worker_preflight(cfg, (int)lsgd_config_number(cfg, "workers", 1), 1,
                                            &err)) {
        rc = cli_report(&err);
    } else if (!rc) {
        char self[PATH_MAX];
        if (!realpath("/proc/self/exe", self))
            snprintf(self, sizeof self, "/proc/self/exe");
        lsgd_launch launch = {.config_path = a.positional[0],
                              .sets = a.sets,
                              .n_sets = a.n_sets,
                              .resume = a.resume,
                              .self_exe = self};
        rc = lsgd_launch_run(&launch, cfg, &err);
        if (rc) {
            if (err.code == LSGD_OK)
                err.code = rc;
            rc = err.message[0] ? cli_report(&err) : rc;
        }
    }
    json_decref(cfg);
    cli_args_free(&a);
    return rc;
}
