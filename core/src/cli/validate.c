/*
 * validate.c — `lsgd validate CONFIG [--set k=v]… [--print] [--no-data]`:
 * everything `lsgd run` checks before training, by the same function
 * (lsgd_worker_preflight): schema, cross-field rules, plugin names,
 * parameters, libraries and needs, and (unless --no-data) the data files,
 * loaded as a run loads them, the shards, the model built on them and the
 * plugins opened on it, files named by plugin parameters.  --print shows
 * the config as the engine will read it, every default filled in.
 */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/worker.h"
#include "host/config.h"

static const char usage[] = "lsgd validate CONFIG [--set KEY=VALUE]... [--print] [--no-data]";

static void summarize(const json_t *cfg, const char *path)
{
    printf("ok: %s: model %s, %d worker%s, %s for %.0f steps, schedule %s, scaling %s, "
           "transport %s%s%s, output %s\n",
           path, lsgd_config_string(cfg, "model.type", lsgd_config_string(cfg, "model.plugin", "?")),
           (int)lsgd_config_number(cfg, "workers", 1),
           lsgd_config_number(cfg, "workers", 1) == 1 ? "" : "s",
           lsgd_config_string(cfg, "algorithm.type", "?"),
           lsgd_config_number(cfg, "algorithm.steps", 0),
           lsgd_config_string(cfg, "schedule.type", "?"),
           lsgd_config_string(cfg, "scaling.plugin", "?"),
           lsgd_config_string(cfg, "transport.plugin", "?"),
           lsgd_config_get(cfg, "outer") ? ", outer " : "",
           lsgd_config_string(cfg, "outer.plugin", ""),
           lsgd_config_string(cfg, "output.dir", "?"));
}

int lsgd_cli_validate(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, argc, argv, CLI_SET | CLI_PRINT | CLI_NO_DATA, 1, usage);
    json_t *cfg = NULL;
    if (!rc)
        rc = cli_load_config(&cfg, &a);
    lsgd_error err;
    lsgd_error_clear(&err);
    if (!rc && lsgd_worker_preflight(cfg, (int)lsgd_config_number(cfg, "workers", 1),
                                     !a.no_data, &err))
        rc = cli_report(&err);
    if (!rc && a.print) {
        json_dumpf(cfg, stdout, JSON_INDENT(2));
        putchar('\n');
    } else if (!rc) {
        summarize(cfg, a.positional[0]);
    }
    json_decref(cfg);
    cli_args_free(&a);
    return rc;
}
