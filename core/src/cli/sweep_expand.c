/*
 * sweep_expand.c — a sweep file (schemas/sweep.schema.json) into its runs.
 *
 * For each method (or one unnamed method), the dimensions are: each axis
 * (a method's axis replaces the sweep's of the same key), each zip group
 * (its lists walked together, so they must be equally long), then the
 * seeds.  Every combination is one run: the method's "set", then one value
 * per dimension, as --set overrides of the base config, and output.dir
 * <output>/<name>, the name made of the method and the values
 * ("adam,lr=0.01,seed=2"; a key is shown by its shortest dotted suffix
 * that no other key of the sweep shares).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sweep.h"
#include "host/config.h"
#include "host/schema.h"

/* One dimension of the product: keys[k] takes lists[k][i] at position i. */
typedef struct dimension {
    const char *keys[64];
    const json_t *lists[64];
    size_t n_keys, length;
    int is_seed;
} dimension;

typedef struct expansion {
    dimension dims[64];
    size_t n_dims;
} expansion;

void sweep_value_text(char *out, size_t cap, const json_t *value)
{
    if (json_is_number(value)) {
        lsgd_number_format(out, cap, json_number_value(value));
    } else if (json_is_string(value)) {
        snprintf(out, cap, "%s", json_string_value(value));
    } else {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, cap, "%s", text ? text : "?");
        free(text);
    }
}

/* ---- reading the file --------------------------------------------------------- */

static int check_schema(json_t *doc, const char *file, lsgd_error *err)
{
    json_error_t jerr;
    json_t *schema = json_loads(lsgd_schema_text("sweep"), 0, &jerr);
    if (!schema)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "the embedded sweep schema is not valid "
                              "JSON (line %d: %s); rebuild liblsgd", jerr.line, jerr.text);
    int rc = lsgd_schema_check(schema, schema, doc, "", err);
    json_decref(schema);
    if (rc) {
        char message[sizeof err->message];
        snprintf(message, sizeof message, "%s", err->message);
        lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s", file, message);
    }
    return rc;
}

/* runs/<file name without directory, .json and .sweep> */
static void default_output(char *out, size_t cap, const char *file)
{
    const char *slash = strrchr(file, '/');
    char name[1024];
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : file);
    for (const char *suffix = ".json"; suffix; suffix = strcmp(suffix, ".json") ? NULL : ".sweep") {
        size_t n = strlen(name), s = strlen(suffix);
        if (n > s && strcmp(name + n - s, suffix) == 0)
            name[n - s] = '\0';
    }
    snprintf(out, cap, "runs/%s", name);
}

/* ---- dimensions --------------------------------------------------------------- */

static int add_axis(expansion *e, const char *key, const json_t *list, const char *file,
                    lsgd_error *err)
{
    if (e->n_dims >= 64)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than 64 axes", file);
    dimension *d = &e->dims[e->n_dims++];
    *d = (dimension){.keys = {key}, .lists = {list}, .n_keys = 1, .length = json_array_size(list)};
    return LSGD_OK;
}

static int add_zip(expansion *e, const json_t *group, const char *where, const char *file,
                   lsgd_error *err)
{
    if (json_object_size(group) == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s: a zip group needs at least one key",
                              file, where);
    if (e->n_dims >= 64 || json_object_size(group) > 64)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s: more than 64 axes", file, where);
    dimension *d = &e->dims[e->n_dims++];
    *d = (dimension){0};
    const char *key;
    const json_t *list;
    json_object_foreach((json_t *)group, key, list) {
        if (d->n_keys && json_array_size(list) != d->length)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s: %s: zip lists must be equally long: %s has %zu values, "
                                  "%s has %zu", file, where, d->keys[0], d->length, key,
                                  json_array_size(list));
        d->keys[d->n_keys] = key;
        d->lists[d->n_keys++] = list;
        d->length = json_array_size(list);
    }
    return LSGD_OK;
}

static int key_in(const expansion *e, const char *key)
{
    for (size_t i = 0; i < e->n_dims; i++)
        for (size_t k = 0; k < e->dims[i].n_keys; k++)
            if (strcmp(e->dims[i].keys[k], key) == 0)
                return 1;
    return 0;
}

/* The sweep's axes (the method's replacing them), then the method's own,
 * the zip groups of both, and the seeds. */
static int build_dimensions(expansion *e, const json_t *doc, const json_t *method,
                            const char *file, lsgd_error *err)
{
    e->n_dims = 0;
    const json_t *axes = json_object_get(doc, "axes"), *own = json_object_get(method, "axes");
    const char *key;
    const json_t *list;
    json_object_foreach((json_t *)axes, key, list) {
        const json_t *mine = json_object_get(own, key);
        if (add_axis(e, key, mine ? mine : list, file, err))
            return err->code;
    }
    json_object_foreach((json_t *)own, key, list) {
        if (!json_object_get(axes, key) && add_axis(e, key, list, file, err))
            return err->code;
    }
    const json_t *zips[2] = {json_object_get(doc, "zip"), json_object_get(method, "zip")};
    for (int z = 0; z < 2; z++) {
        size_t i;
        const json_t *group;
        json_array_foreach(zips[z], i, group) {
            char where[64];
            snprintf(where, sizeof where, "zip[%zu]", i);
            json_object_foreach((json_t *)group, key, list) {
                if (key_in(e, key))
                    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s: %s is an axis already; "
                                          "give each key once", file, where, key);
            }
            if (add_zip(e, group, where, file, err))
                return err->code;
        }
    }
    const json_t *seeds = json_object_get(doc, "seeds");
    if (seeds) {
        if (key_in(e, "seed"))
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: seed is both an axis and \"seeds\"; "
                                  "give it once", file);
        if (add_axis(e, "seed", seeds, file, err))
            return err->code;
        e->dims[e->n_dims - 1].is_seed = 1;
    }
    return LSGD_OK;
}

/* ---- runs --------------------------------------------------------------------- */

static void add_key(json_t *keys, const char *key)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
        if (strcmp(json_string_value(k), key) == 0)
            return;
    json_array_append_new(keys, json_string(key));
}

/* The shortest dotted suffix of key that no other key of the sweep ends with. */
static const char *short_key(const json_t *keys, const char *key)
{
    for (const char *s = key + strlen(key); s > key; s--) {
        if (s[-1] != '.')
            continue;
        size_t n = strlen(s), clashes = 0, i;
        json_t *k;
        json_array_foreach(keys, i, k) {
            const char *other = json_string_value(k);
            size_t m = strlen(other);
            if (strcmp(other, key) != 0 && m >= n && strcmp(other + m - n, s) == 0 &&
                (m == n || other[m - n - 1] == '.'))
                clashes++;
        }
        if (!clashes)
            return s;
    }
    return key;
}

static void append_part(char *name, size_t cap, const char *text)
{
    size_t n = strlen(name);
    if (n && n + 1 < cap)
        name[n++] = ',';
    for (; *text && n + 1 < cap; text++) {
        char c = *text;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '+' || c == '-' || c == '=';
        name[n++] = keep ? c : '_';
    }
    name[n] = '\0';
}

/* "KEY=VALUE" with VALUE as JSON, a real in its shortest exact text
 * ("0.1", not 0.10000000000000001). */
static char *assignment(const char *key, const json_t *value)
{
    char number[64];
    if (json_is_real(value))
        lsgd_number_format(number, sizeof number, json_real_value(value));
    char *text = json_is_real(value) ? strdup(number)
                                     : json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = strlen(key) + (text ? strlen(text) : 4) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s=%s", key, text ? text : "null");
    free(text);
    return out;
}

static int add_set(sweep_run *r, const char *key, const json_t *value, const char *origin)
{
    char *set = assignment(key, value);
    if (!set)
        return LSGD_ERR_RUNTIME;
    r->sets[r->n_sets++] = set;
    if (origin)
        json_object_set_new(r->origins, set, json_string(origin));
    return LSGD_OK;
}

/* The run at position pos[] of the dimensions of method. */
static int make_run(sweep_plan *p, sweep_run *r, const char *method, const json_t *overrides,
                    const expansion *e, const size_t *pos)
{
    memset(r, 0, sizeof *r);
    snprintf(r->method, sizeof r->method, "%s", method);
    r->values = json_object();
    r->origins = json_object();
    size_t n = json_object_size(overrides) + 1;
    for (size_t i = 0; i < e->n_dims; i++)
        n += e->dims[i].n_keys;
    r->sets = calloc(n, sizeof *r->sets);
    if (!r->values || !r->origins || !r->sets)
        return LSGD_ERR_RUNTIME;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)overrides, key, value) {
        char origin[256], text[96];
        sweep_value_text(text, sizeof text, value);
        snprintf(origin, sizeof origin, "method %s: set %s=%s", method, key, text);
        if (add_set(r, key, value, origin))
            return LSGD_ERR_RUNTIME;
    }
    if (*method)
        append_part(r->name, sizeof r->name, method);
    for (size_t i = 0; i < e->n_dims; i++) {
        for (size_t k = 0; k < e->dims[i].n_keys; k++) {
            const char *axis = e->dims[i].keys[k];
            value = json_array_get(e->dims[i].lists[k], pos[i]);
            char text[96], origin[256], part[256];
            sweep_value_text(text, sizeof text, value);
            snprintf(origin, sizeof origin, "%s %s value %s",
                     e->dims[i].is_seed ? "seeds:" : "axis", axis, text);
            if (add_set(r, axis, value, origin))
                return LSGD_ERR_RUNTIME;
            json_object_set(r->values, axis, (json_t *)value);
            snprintf(part, sizeof part, "%s=%s", short_key(p->keys, axis), text);
            append_part(r->name, sizeof r->name, part);
        }
    }
    if (!r->name[0])
        snprintf(r->name, sizeof r->name, "run");
    return LSGD_OK;
}

/* Every combination of method's dimensions, appended to p->runs. */
static int expand_method(sweep_plan *p, const char *method, const json_t *spec,
                         const char *file, lsgd_error *err)
{
    expansion e;
    if (build_dimensions(&e, p->doc, spec, file, err))
        return err->code;
    size_t count = 1;
    for (size_t i = 0; i < e.n_dims; i++) {
        if (e.dims[i].length && count > 100000 / e.dims[i].length)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than 100000 runs", file);
        count *= e.dims[i].length;
    }
    if (p->n_runs + count > 100000)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than 100000 runs", file);
    sweep_run *grown = realloc(p->runs, (p->n_runs + count) * sizeof *grown);
    if (!grown && p->n_runs + count)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    p->runs = grown;
    size_t pos[64] = {0};
    for (size_t made = 0; made < count; made++) {
        if (make_run(p, &p->runs[p->n_runs++], method, json_object_get(spec, "set"), &e, pos))
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
        for (size_t i = e.n_dims; i-- > 0;) { /* the last dimension (seeds) fastest */
            if (++pos[i] < e.dims[i].length)
                break;
            pos[i] = 0;
        }
    }
    return LSGD_OK;
}

/* Every key that varies, in order, for naming and for the report's columns. */
static void collect_keys(sweep_plan *p)
{
    const char *key;
    json_t *value, *method;
    json_object_foreach(json_object_get(p->doc, "axes"), key, value)
        add_key(p->keys, key);
    json_object_foreach(json_object_get(p->doc, "methods"), key, method) {
        const char *k;
        json_object_foreach(json_object_get(method, "axes"), k, value)
            add_key(p->keys, k);
    }
    size_t i;
    json_t *group;
    json_array_foreach(json_object_get(p->doc, "zip"), i, group) {
        const char *k;
        json_object_foreach(group, k, value)
            add_key(p->keys, k);
    }
    json_object_foreach(json_object_get(p->doc, "methods"), key, method) {
        json_array_foreach(json_object_get(method, "zip"), i, group) {
            const char *k;
            json_object_foreach(group, k, value)
                add_key(p->keys, k);
        }
    }
    if (json_object_get(p->doc, "seeds"))
        add_key(p->keys, "seed");
}

/* Two runs whose values read the same once made a name ("a/b", "a_b") get
 * ",run=N" appended (N: the run's position in the sweep), so each has its
 * own directory; a name of dots alone ("..") starts with "_" instead. */
static void distinct_names(sweep_plan *p)
{
    for (size_t i = 0; i < p->n_runs; i++) {
        char *name = p->runs[i].name;
        if (strspn(name, ".") == strlen(name)) /* never "." or ".." */
            name[0] = '_';
        for (size_t j = i + 1; j < p->n_runs; j++)
            if (strcmp(name, p->runs[j].name) == 0) {
                char suffix[32];
                snprintf(suffix, sizeof suffix, "run=%zu", j + 1);
                p->runs[j].name[sizeof p->runs[j].name - 24] = '\0'; /* room for it */
                append_part(p->runs[j].name, sizeof p->runs[j].name, suffix);
            }
    }
}

/* Each run's directory is the sweep's to choose: an override of
 * output.dir (or of the whole output section) would be silently replaced. */
static int refuse_output_dir(const sweep_plan *p, const sweep_run *r, lsgd_error *err)
{
    for (size_t k = 0; k < r->n_sets; k++) {
        const char *set = r->sets[k];
        if (strncmp(set, "output.dir=", 11) != 0 &&
            (strncmp(set, "output=", 7) != 0 || !strstr(set, "\"dir\"")))
            continue;
        const char *origin = json_string_value(json_object_get(r->origins, set));
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s: the sweep sets output.dir of each "
                              "run (<output>/<run name>); set the sweep's \"output\" or -o DIR "
                              "instead", p->file, origin ? origin : set);
    }
    return LSGD_OK;
}

static int finish_runs(sweep_plan *p, lsgd_error *err)
{
    distinct_names(p);
    for (size_t i = 0; i < p->n_runs; i++) {
        sweep_run *r = &p->runs[i];
        if (refuse_output_dir(p, r, err))
            return err->code;
        if ((size_t)snprintf(r->dir, sizeof r->dir, "%s/%s", p->output, r->name) >= sizeof r->dir)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: output: %s/%s is too long a path",
                                  p->file, p->output, r->name);
        json_t *dir = json_string(r->dir);
        if (!dir || add_set(r, "output.dir", dir, NULL)) {
            json_decref(dir);
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
        }
        json_decref(dir);
    }
    return LSGD_OK;
}

static int load_targets(sweep_plan *p, lsgd_error *err)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(p->doc, "targets"), i, t) {
        if (sweep_plan_add_target(p, json_string_value(t), err)) {
            char message[sizeof err->message];
            snprintf(message, sizeof message, "%s", err->message);
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: targets[%zu]: %s", p->file, i, message);
        }
    }
    return LSGD_OK;
}

int sweep_plan_add_target(sweep_plan *p, const char *text, lsgd_error *err)
{
    if (p->n_targets >= SWEEP_MAX_TARGETS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "at most %d targets", SWEEP_MAX_TARGETS);
    if (sweep_target_parse(&p->targets[p->n_targets], text, err))
        return err->code;
    p->n_targets++;
    return LSGD_OK;
}

int sweep_plan_load(sweep_plan *p, const char *file, const char *output, lsgd_error *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->file, sizeof p->file, "%s", file);
    if (!(p->doc = lsgd_json_file_load(file, "sweep file", err)) ||
        check_schema(p->doc, file, err))
        return err->code;
    const json_t *out = json_object_get(p->doc, "output");
    if (output)
        snprintf(p->output, sizeof p->output, "%s", output);
    else if (out)
        snprintf(p->output, sizeof p->output, "%s", json_string_value(out));
    else
        default_output(p->output, sizeof p->output, file);
    const json_t *base = json_object_get(p->doc, "base");
    if (json_is_string(base)) {
        snprintf(p->base, sizeof p->base, "%s", json_string_value(base));
    } else {
        p->inline_base = json_incref((json_t *)base);
        if ((size_t)snprintf(p->base, sizeof p->base, "%.4000s/base.json", p->output) >=
            sizeof p->base)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: output: too long a path", file);
    }
    p->jobs = (int)json_integer_value(json_object_get(p->doc, "jobs"));
    p->keys = json_array();
    collect_keys(p);
    if (load_targets(p, err))
        return err->code;
    const json_t *methods = json_object_get(p->doc, "methods");
    if (json_object_size(methods) == 0)
        return expand_method(p, "", NULL, file, err) || finish_runs(p, err) ? err->code : LSGD_OK;
    const char *name;
    const json_t *spec;
    json_object_foreach((json_t *)methods, name, spec) {
        if (strlen(name) == 0 || strlen(name) >= sizeof p->runs->method)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: methods: a method name needs 1 to "
                                  "63 characters", file);
        if (expand_method(p, name, spec, file, err))
            return err->code;
    }
    return finish_runs(p, err);
}

void sweep_plan_free(sweep_plan *p)
{
    for (size_t i = 0; i < p->n_runs; i++) {
        for (size_t k = 0; k < p->runs[i].n_sets; k++)
            free(p->runs[i].sets[k]);
        free(p->runs[i].sets);
        json_decref(p->runs[i].values);
        json_decref(p->runs[i].origins);
    }
    free(p->runs);
    json_decref(p->doc);
    json_decref(p->inline_base);
    json_decref(p->keys);
    memset(p, 0, sizeof *p);
}
