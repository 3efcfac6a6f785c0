/*
 * sweep_check.c — every run of a sweep checked before any starts: its
 * config loaded from the base with its overrides (the schema, plugin names
 * and parameters, cross-key rules: `lsgd validate --no-data` through the
 * same library calls), and the data, model and shards once per distinct
 * data, model and workers.  A failure names the sweep file and where the
 * offending override comes from — "axis algorithm.lr value -1", "method
 * adam: set scaling.plugin=adamm" — then the config's own message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/sweep.h"
#include "engine/worker.h"
#include "host/config.h"
#include "io/atomic_file.h"

/* The origin of the --set that msg starts with ("--set K=V: …" or "--set
 * A with --set B: …"), the rest of msg in *rest; NULL when it names none. */
static int blame(char *out, size_t cap, const sweep_run *r, const char *msg, const char **rest)
{
    size_t used = 0;
    const char *p = msg;
    out[0] = '\0';
    while (strncmp(p, "--set ", 6) == 0) {
        p += 6;
        const char *origin = NULL;
        size_t len = 0;
        for (size_t i = 0; i < r->n_sets; i++) {
            size_t n = strlen(r->sets[i]);
            if (n > len && strncmp(p, r->sets[i], n) == 0 &&
                (p[n] == ':' || strncmp(p + n, " with ", 6) == 0)) {
                origin = json_string_value(json_object_get(r->origins, r->sets[i]));
                len = n;
            }
        }
        if (!len)
            return 0;
        int n = snprintf(out + used, cap - used, "%s%s", used ? " with " : "",
                         origin ? origin : "output.dir");
        if (n > 0 && (size_t)n < cap - used)
            used += (size_t)n;
        p += len;
        if (strncmp(p, " with ", 6) == 0)
            p += 6;
    }
    if (*p != ':' || !used)
        return 0;
    *rest = p + 1 + (p[1] == ' ');
    return 1;
}

static int report(const sweep_plan *p, const sweep_run *r, lsgd_error *err)
{
    char message[sizeof err->message], origin[600];
    snprintf(message, sizeof message, "%s", err->message);
    const char *rest;
    if (blame(origin, sizeof origin, r, message, &rest))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s (run %s): %s", p->file, origin,
                              r->name, rest);
    /* the base alone is at fault: name it as the sweep file does (an inline
     * base's temporary file is gone by the time the user reads this) */
    size_t n = strlen(p->base);
    if (strncmp(message, p->base, n) == 0 && message[n] == ':') {
        const char *own = message + n + 1 + (message[n + 1] == ' ');
        if (p->inline_base)
            return lsgd_error_set(err, err->code ? err->code : LSGD_ERR_INPUT, "%s: base: %s",
                                  p->file, own);
        return lsgd_error_set(err, err->code ? err->code : LSGD_ERR_INPUT, "%s: base %s: %s",
                              p->file, p->base, own);
    }
    return lsgd_error_set(err, err->code ? err->code : LSGD_ERR_INPUT, "%s: run %s: %s",
                          p->file, r->name, message);
}

/* "data, model, workers" of cfg, to check the data once per distinct one. */
static char *data_key(const json_t *cfg)
{
    json_t *key = json_pack("{sO?sO?sO?}", "data", json_object_get(cfg, "data"), "model",
                            json_object_get(cfg, "model"), "workers",
                            json_object_get(cfg, "workers"));
    char *text = key ? json_dumps(key, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(key);
    return text;
}

static int check_run(const sweep_plan *p, sweep_run *r, json_t *seen, lsgd_error *err)
{
    json_t *cfg = NULL;
    if (lsgd_config_load(&cfg, p->base, (const char *const *)r->sets, r->n_sets, err))
        return report(p, r, err);
    r->workers = (int)lsgd_config_number(cfg, "workers", 1);
    char *key = data_key(cfg);
    int with_data = key && !json_object_get(seen, key);
    int rc = lsgd_worker_preflight(cfg, r->workers, with_data, err);
    if (!rc && key)
        json_object_set_new(seen, key, json_true());
    free(key);
    json_decref(cfg);
    return rc ? report(p, r, err) : LSGD_OK;
}

/* The inline base in a file of its own while the runs are checked. */
static int write_temporary_base(sweep_plan *p, char *saved, size_t cap, lsgd_error *err)
{
    snprintf(saved, cap, "%s", p->base);
    char path[] = "/tmp/lsgd-sweep-base-XXXXXX.json";
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot create a temporary file in /tmp");
    int rc = json_dumpfd(p->inline_base, fd, JSON_INDENT(2));
    close(fd);
    snprintf(p->base, sizeof p->base, "%s", path);
    if (rc) {
        unlink(path);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot write %s", path);
    }
    return LSGD_OK;
}

int sweep_plan_check(sweep_plan *p, lsgd_error *err)
{
    char saved[sizeof p->base];
    if (p->inline_base && write_temporary_base(p, saved, sizeof saved, err))
        return err->code;
    json_t *seen = json_object();
    int rc = LSGD_OK;
    for (size_t i = 0; i < p->n_runs && !rc; i++)
        rc = check_run(p, &p->runs[i], seen, err);
    json_decref(seen);
    if (p->inline_base) {
        unlink(p->base);
        snprintf(p->base, sizeof p->base, "%s", saved);
    }
    return rc;
}

int sweep_plan_write_base(sweep_plan *p, lsgd_error *err)
{
    if (!p->inline_base)
        return LSGD_OK;
    if (lsgd_mkdirs(p->output, err))
        return err->code;
    return lsgd_atomic_write_json(p->base, p->inline_base, err);
}
