/*
 * params.c — a plugin's parameters, checked against its manifest before
 * the plugin sees them, and the read-only view the plugin reads them by.
 *
 * The manifest's `params` maps each name to a JSON Schema subset; each
 * given value is checked with the same validator as the config (type,
 * enum, ranges), unknown names are refused with the known ones listed,
 * a parameter without a default must be given, and every default is
 * filled in, so the plugin reads each declared key without checking.
 */
#include "host/params.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/schema.h"
#include "host/suggest.h"

enum { NAMES_MAX = 64 };

static int unknown_parameter(const lsgd_manifest *m, const char *key, const char *config_key,
                             lsgd_error *err)
{
    const char *names[NAMES_MAX];
    size_t n = 0;
    const char *k;
    json_t *schema;
    json_object_foreach(m->params, k, schema) {
        if (n < NAMES_MAX)
            names[n++] = k;
    }
    char safe[128], near[200], hint[256] = "", known[700];
    lsgd_printable(safe, sizeof safe, key, 60);
    if (lsgd_suggest(near, sizeof near, key, names, n))
        snprintf(hint, sizeof hint, " (did you mean %s?)", near);
    lsgd_join_names(known, sizeof known, names, n);
    if (n == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "unknown parameter '%s' at %s: %s plugin '%s' takes no parameters",
                              safe, config_key, lsgd_kind_name(m->kind), m->name);
    return lsgd_error_set(err, LSGD_ERR_INPUT, "unknown parameter '%s' at %s for %s plugin '%s'%s; known: %s",
                          safe, config_key, lsgd_kind_name(m->kind), m->name, hint, known);
}

int lsgd_params_validate(json_t **validated, const lsgd_manifest *manifest,
                         const json_t *given, const char *config_key, lsgd_error *err)
{
    *validated = NULL;
    if (given && !json_is_object(given)) {
        char got[160];
        lsgd_json_describe(got, sizeof got, given);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: expected an object of %s plugin '%s' parameters, got %s",
                              config_key, lsgd_kind_name(manifest->kind), manifest->name, got);
    }
    json_t *out = given ? json_deep_copy(given) : json_object();
    if (!out)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory checking %s", config_key);
    const char *key;
    json_t *value;
    json_object_foreach(out, key, value) {
        const json_t *schema = json_object_get(manifest->params, key);
        if (!schema) {
            int rc = unknown_parameter(manifest, key, config_key, err); /* key lives in out */
            json_decref(out);
            return rc;
        }
        char path[512];
        snprintf(path, sizeof path, "%s.%s", config_key, key);
        if (lsgd_schema_check_member(manifest->document, schema, out, key, path, err)) {
            json_decref(out);
            return lsgd_error_prefix(err, "%s plugin '%s': ", lsgd_kind_name(manifest->kind),
                                     manifest->name);
        }
    }
    json_t *schema;
    json_object_foreach(manifest->params, key, schema) {
        if (json_object_get(out, key))
            continue;
        const json_t *d = json_object_get(schema, "default");
        if (!d) {
            json_decref(out);
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "missing required parameter '%s' at %s for %s plugin '%s' (%s)",
                                  key, config_key, lsgd_kind_name(manifest->kind), manifest->name,
                                  json_is_string(json_object_get(schema, "description"))
                                      ? json_string_value(json_object_get(schema, "description"))
                                      : "no description");
        }
        json_object_set_new(out, key, json_deep_copy(d));
    }
    *validated = out;
    return LSGD_OK;
}

/* ---- parameters that name files ------------------------------------------ */

int lsgd_params_check_files(const lsgd_manifest *manifest, const json_t *validated,
                            const char *config_key, lsgd_error *err)
{
    const char *key;
    json_t *schema;
    json_object_foreach(manifest->params, key, schema) {
        const char *format = json_string_value(json_object_get(schema, "format"));
        const char *path = json_string_value(json_object_get(validated, key));
        if (!format || strcmp(format, "file") != 0 || !path || !*path)
            continue;
        char shown[300];
        lsgd_printable(shown, sizeof shown, path, 200);
        struct stat st;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        int saved = errno;
        if (fd >= 0)
            close(fd);
        if (fd < 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s.%s: cannot read '%s' (%s; a relative path is taken from "
                                  "the working directory)",
                                  config_key, key, shown, strerror(saved));
        if (!regular)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: '%s' is not a regular file",
                                  config_key, key, shown);
    }
    return LSGD_OK;
}

/* ---- the view a plugin reads ---------------------------------------------- */

static const json_t *lookup(const lsgd_params *p, const char *key)
{
    return p && p->host && key ? json_object_get((const json_t *)p->host, key) : NULL;
}

static double view_number(const lsgd_params *p, const char *key)
{
    const json_t *v = lookup(p, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static int view_boolean(const lsgd_params *p, const char *key)
{
    return json_is_true(lookup(p, key));
}

static const char *view_string(const lsgd_params *p, const char *key)
{
    return json_string_value(lookup(p, key));
}

void lsgd_params_view(lsgd_params *view, const json_t *validated)
{
    view->struct_size = sizeof *view;
    view->host = validated;
    view->number = view_number;
    view->boolean = view_boolean;
    view->string = view_string;
}
