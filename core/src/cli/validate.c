/*
 * validate.c — `lsgd validate CONFIG [--set k=v]… [--print] [--no-data]`:
 * everything `lsgd run` checks before training, by the same function
 * (lsgd_worker_preflight, by cli_load_checked): schema, cross-field rules, plugin names,
 * parameters, libraries and needs, and (unless --no-data) the data files,
 * loaded as a run loads them, the shards, the model built on them and the
 * plugins opened on it, files named by plugin parameters.  --print shows
 * the config as the engine will read it, every default filled in.
 */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "host/config.h"

static const char usage[] = "lsgd validate CONFIG [--set KEY=VALUE]... [--print] [--no-data]";

static void summarize(const json_t *cfg, const char *path)
{
    printf("ok: %s: model %s, %d worker%s, %s for %.0f steps, schedule %s, scaling %s, "
           "transport %s%s%s, output %s\n",
           path, lsgd_config_string(cfg, "model.type", lsgd_config_string(cfg, "model.plugin", "?")),
           (int)lsgd_setting_count(cfg, "workers"),
           lsgd_setting_count(cfg, "workers") == 1 ? "" : "s",
           lsgd_setting_string(cfg, "algorithm.type"),
           (double)lsgd_setting_count(cfg, "algorithm.steps"),
           lsgd_setting_string(cfg, "schedule.type"),
           lsgd_setting_string(cfg, "scaling.plugin"),
           lsgd_setting_string(cfg, "transport.plugin"),
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
        rc = cli_load_checked(&cfg, &a, !a.no_data);
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
