/*
 * config.c — from a JSON file (plus --set overrides) to a checked run
 * configuration with every default filled in.
 *
 * Steps of lsgd_config_load, each failure one line naming the JSON path
 * and where the bad value came from (the file, or the --set that caused
 * it):
 *   1. parse with jansson (line and column of malformed JSON);
 *   2. move outer's loose keys ({"plugin":"sgd","momentum":0.9}) into
 *      outer.params;
 *   3. a section whose plugin a --set switches loses the file's params
 *      (they were the previous plugin's), with a note;
 *   4. apply the --set overrides in order, and gather outer's loose keys
 *      again;
 *   5. check against schemas/config.schema.json, filling defaults;
 *   6. cross-field checks the schema cannot say (those of the algorithm
 *      by its ops table, engine/algorithms/);
 *   7. resolve scaling, outer and transport plugins by name (manifests
 *      only, no dlopen) and replace their params by the validated ones.
 */
#include "host/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "host/params.h"
#include "host/registry.h"
#include "host/schema.h"
#include "host/suggest.h"
#include "util/input_file.h"
#include "util/limits.h"

/* ---- lookups ------------------------------------------------------------ */

enum { KEY_MAX = 256 }; /* the longest key of a dotted path, with its NUL */

/* The key at *p of a dotted path into key[KEY_MAX], *p moved past it and
 * its dot; 0 when the key is too long to be one. */
static int next_key(char *key, const char **p)
{
    size_t n = strcspn(*p, ".");
    if (n >= KEY_MAX)
        return 0;
    memcpy(key, *p, n);
    key[n] = '\0';
    *p += n + ((*p)[n] == '.');
    return 1;
}

json_t *lsgd_config_get(const json_t *cfg, const char *dotted)
{
    const json_t *node = cfg;
    char key[KEY_MAX];
    for (const char *p = dotted; node && *p;) {
        if (!json_is_object(node) || !next_key(key, &p))
            return NULL;
        node = json_object_get(node, key);
    }
    return (json_t *)node;
}

double lsgd_config_number(const json_t *cfg, const char *dotted, double fallback)
{
    const json_t *v = lsgd_config_get(cfg, dotted);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

const char *lsgd_config_string(const json_t *cfg, const char *dotted, const char *fallback)
{
    const json_t *v = lsgd_config_get(cfg, dotted);
    return json_is_string(v) ? json_string_value(v) : fallback;
}

int lsgd_config_bool(const json_t *cfg, const char *dotted, int fallback)
{
    const json_t *v = lsgd_config_get(cfg, dotted);
    return json_is_boolean(v) ? json_is_true(v) : fallback;
}

/* ---- settings: the value, or the schema's default ------------------------ */

/* A schema node with its $ref followed (the referring node's own keys,
 * such as its default, are looked at first by the caller). */
static const json_t *followed(const json_t *root, const json_t *node)
{
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    const json_t *target = ref ? lsgd_schema_resolve(root, ref) : NULL;
    return target ? target : node;
}

/* The schema's default for "a.b.c"; NULL when it gives none. */
static const json_t *schema_default(const char *dotted)
{
    lsgd_error err;
    const json_t *root = lsgd_schema_get("config", &err);
    const json_t *node = root;
    char key[KEY_MAX];
    for (const char *p = dotted; node && *p;) {
        if (!next_key(key, &p))
            return NULL;
        node = json_object_get(json_object_get(followed(root, node), "properties"), key);
    }
    if (!node)
        return NULL;
    const json_t *given = json_object_get(node, "default");
    return given ? given : json_object_get(followed(root, node), "default");
}

const json_t *lsgd_setting_value(const json_t *cfg, const char *dotted)
{
    const json_t *v = lsgd_config_get(cfg, dotted);
    return v ? v : schema_default(dotted);
}

double lsgd_setting_number(const json_t *cfg, const char *dotted)
{
    const json_t *v = lsgd_setting_value(cfg, dotted);
    return json_is_number(v) ? json_number_value(v) : 0;
}

uint64_t lsgd_setting_count(const json_t *cfg, const char *dotted)
{
    const json_t *v = lsgd_setting_value(cfg, dotted);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

const char *lsgd_setting_string(const json_t *cfg, const char *dotted)
{
    const char *s = json_string_value(lsgd_setting_value(cfg, dotted));
    return s ? s : "";
}

int lsgd_setting_bool(const json_t *cfg, const char *dotted)
{
    return json_is_true(lsgd_setting_value(cfg, dotted));
}

/* ---- --set -------------------------------------------------------------- */

/* The value is JSON when it parses as JSON (0.1, true, [64,64], {"a":1}),
 * otherwise the text itself (adam, runs/x); NULL when not UTF-8. */
static json_t *override_value(const char *text)
{
    json_t *value = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    return value ? value : json_string(text);
}

int lsgd_config_set(json_t *cfg, const char *assignment, lsgd_error *err)
{
    char shown[200];
    lsgd_printable(shown, sizeof shown, assignment, 120);
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "--set '%s': expected KEY=VALUE with a dotted key, e.g. "
                              "--set algorithm.lr=0.1",
                              shown);
    size_t key_len = (size_t)(eq - assignment);
    char key[512];
    if (key_len >= sizeof key)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "--set '%s': key too long", shown);
    memcpy(key, assignment, key_len);
    key[key_len] = '\0';
    if (key[0] == '.' || key[key_len - 1] == '.' || strstr(key, ".."))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "--set '%s': empty part in key '%s'", shown, key);

    json_t *value = override_value(eq + 1);
    if (!value)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "--set '%s': the value is not valid UTF-8", shown);

    json_t *node = cfg;
    char *save = NULL;
    char *part = strtok_r(key, ".", &save);
    char walked[512] = "";
    for (char *next = strtok_r(NULL, ".", &save); next; part = next, next = strtok_r(NULL, ".", &save)) {
        size_t used = strlen(walked);
        snprintf(walked + used, sizeof walked - used, "%s%s", used ? "." : "", part);
        json_t *child = json_object_get(node, part);
        if (!child) {
            child = json_object();
            json_object_set_new(node, part, child);
        } else if (!json_is_object(child)) {
            char got[160];
            lsgd_json_describe(got, sizeof got, child);
            json_decref(value);
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "--set '%s': '%s' is %s in the config, not an object", shown,
                                  walked, got);
        }
        node = child;
    }
    json_object_set_new(node, part, value);
    return LSGD_OK;
}

/* ---- --set switching a plugin ---------------------------------------------- */

/* Whether sets[i] is "<section>.plugin=…" and the last override of that
 * key (skipping sets[skip]); its section in section[cap]. */
static int switches_plugin(char *section, size_t cap, const char *const *sets, size_t n_sets,
                           size_t i, size_t skip)
{
    const char *eq = strchr(sets[i], '=');
    size_t key_len = eq ? (size_t)(eq - sets[i]) : 0;
    static const char suffix[] = ".plugin";
    size_t n = sizeof suffix - 1;
    if (i == skip || key_len <= n || key_len - n >= cap ||
        strncmp(sets[i] + key_len - n, suffix, n) != 0)
        return 0;
    for (size_t later = i + 1; later < n_sets; later++)
        if (later != skip && strncmp(sets[later], sets[i], key_len + 1) == 0)
            return 0;
    memcpy(section, sets[i], key_len - n);
    section[key_len - n] = '\0';
    return 1;
}

/* "beta1, beta2, eps" */
static void param_names(char *out, size_t cap, const json_t *params)
{
    const char *key;
    json_t *value;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)params, key, value) {
        int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", key);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

/* A --set that picks another plugin for a section than the file's drops
 * the file's params of that section (they were the previous plugin's);
 * params given by --set are applied afterwards and kept.  One note line
 * per section dropped. */
static void drop_switched_plugin_params(json_t *cfg, const char *path, const char *const *sets,
                                        size_t n_sets, size_t skip, char *notes,
                                        size_t notes_cap)
{
    for (size_t i = 0; i < n_sets; i++) {
        char section[256];
        if (!switches_plugin(section, sizeof section, sets, n_sets, i, skip))
            continue;
        json_t *node = lsgd_config_get(cfg, section);
        json_t *params = json_object_get(node, "params");
        if (!json_is_object(params) || json_object_size(params) == 0)
            continue;
        const char *was = json_string_value(json_object_get(node, "plugin"));
        json_t *now = override_value(strchr(sets[i], '=') + 1);
        int same = was && json_is_string(now) && strcmp(was, json_string_value(now)) == 0;
        json_decref(now);
        if (same)
            continue;
        char names[256], shown[200], was_text[80];
        param_names(names, sizeof names, params);
        lsgd_printable(shown, sizeof shown, sets[i], 120);
        if (was)
            snprintf(was_text, sizeof was_text, "'%s'", was);
        else
            snprintf(was_text, sizeof was_text, "the default plugin");
        size_t used = notes ? strnlen(notes, notes_cap) : 0;
        if (notes && used + 1 < notes_cap)
            snprintf(notes + used, notes_cap - used,
                     "%s--set %s: dropped %s.params %s from %s (given for %s)",
                     used ? "\n" : "", shown, section, names, path, was_text);
        json_object_del(node, "params");
    }
}

/* ---- outer: loose keys are plugin parameters ------------------------------ */

static int gather_outer_params(json_t *cfg, lsgd_error *err)
{
    json_t *outer = json_object_get(cfg, "outer");
    if (!json_is_object(outer))
        return LSGD_OK;
    json_t *params = json_object_get(outer, "params");
    if (params && !json_is_object(params))
        return LSGD_OK; /* the schema check names it */
    if (!params) {
        params = json_object();
        json_object_set_new(outer, "params", params);
    }
    const char *key;
    json_t *value;
    void *tmp;
    json_object_foreach_safe(outer, tmp, key, value) {
        if (strcmp(key, "plugin") == 0 || strcmp(key, "lr") == 0 || strcmp(key, "params") == 0)
            continue;
        if (json_object_get(params, key))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "outer: parameter '%s' is given twice, as outer.%s and "
                                  "outer.params.%s",
                                  key, key, key);
        json_object_set(params, key, value);
        json_object_del(outer, key);
    }
    return LSGD_OK;
}

/* ---- cross-field checks --------------------------------------------------- */

/* The rules that join keys of different sections; each algorithm's own
 * are in its ops table (engine/algorithms/, lsgd_algorithm_check). */
static int check_cross_fields(const json_t *cfg, lsgd_error *err)
{
    if (strcmp(lsgd_setting_string(cfg, "schedule.type"), "increasing") == 0) {
        const json_t *rounds = lsgd_config_get(cfg, "schedule.rounds");
        double steps = lsgd_setting_number(cfg, "algorithm.steps");
        if (rounds && json_number_value(rounds) > steps)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "schedule.rounds: %.0f rounds is more than algorithm.steps %.0f; "
                                  "each round needs at least one local step",
                                  json_number_value(rounds), steps);
    }
    const char *state = lsgd_setting_string(cfg, "scaling.state");
    if (strcmp(lsgd_setting_string(cfg, "scaling.refresh"), "sync") == 0 &&
        strcmp(state, "local") != 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.state: '%s' with refresh 'sync'; the synchronised "
                              "preconditioner is already identical on all workers, expected "
                              "'local'", state);
    return lsgd_algorithm_check(cfg, err);
}

/* ---- plugins ------------------------------------------------------------ */

static int resolve_plugin(json_t *section, const char *section_key, int kind,
                          const lsgd_registry *reg, lsgd_error *err)
{
    if (!json_is_object(section))
        return LSGD_OK;
    const char *name = json_string_value(json_object_get(section, "plugin"));
    char key[64];
    snprintf(key, sizeof key, "%s.plugin", section_key);
    const lsgd_manifest *m;
    int rc = lsgd_registry_resolve(&m, reg, kind, name, key, err);
    if (rc)
        return rc;
    if (m->abi_major != LSGD_ABI_MAJOR || m->abi_minor > LSGD_ABI_MINOR)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: %s plugin '%s' (%s) declares plugin ABI %d.%d, but this host "
                              "speaks %d.%d; rebuild it against this lsgd",
                              key, lsgd_kind_name(kind), name, m->path, m->abi_major, m->abi_minor,
                              LSGD_ABI_MAJOR, LSGD_ABI_MINOR);
    snprintf(key, sizeof key, "%s.params", section_key);
    json_t *validated;
    rc = lsgd_params_validate(&validated, m, json_object_get(section, "params"), key, err);
    if (rc)
        return rc;
    json_object_set_new(section, "params", validated);
    return LSGD_OK;
}

static int resolve_plugins(json_t *cfg, lsgd_error *err)
{
    lsgd_registry reg;
    int rc = lsgd_registry_discover(&reg, cfg, err);
    if (rc)
        return rc;
    rc = resolve_plugin(json_object_get(cfg, "scaling"), "scaling", LSGD_KIND_SCALING, &reg, err);
    if (!rc)
        rc = resolve_plugin(json_object_get(cfg, "outer"), "outer", LSGD_KIND_SCALING, &reg, err);
    if (!rc)
        rc = resolve_plugin(json_object_get(cfg, "transport"), "transport", LSGD_KIND_TRANSPORT,
                            &reg, err);
    if (!rc)
        rc = resolve_plugin(json_object_get(cfg, "compression"), "compression",
                            LSGD_KIND_COMPRESSOR, &reg, err);
    lsgd_registry_free(&reg);
    return rc;
}

/* ---- load ----------------------------------------------------------------- */

void lsgd_config_default_output_dir(char *out, size_t cap, const char *config_path)
{
    const char *base = strrchr(config_path, '/');
    base = base ? base + 1 : config_path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    snprintf(out, cap, "runs/%.*s", (int)n, base);
}

/* A JSON file lsgd reads (a config, a plugin manifest): a regular file of
 * at most LSGD_MAX_CONFIG_BYTES; jansson's message, which may quote the
 * file's bytes, is escaped. */
json_t *lsgd_json_file_load(const char *path, const char *what, lsgd_error *err)
{
    FILE *f;
    size_t size;
    if (lsgd_input_open(&f, path, what, NULL, &size, err) != LSGD_OK)
        return NULL;
    if (size > LSGD_MAX_CONFIG_BYTES) {
        fclose(f);
        lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %zu bytes; expected a %s of at most %llu bytes",
                       path, size, what, (unsigned long long)LSGD_MAX_CONFIG_BYTES);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!doc) {
        char text[400];
        lsgd_excerpt(text, sizeof text, jerr.text, strlen(jerr.text), 160);
        lsgd_error_set(err, LSGD_ERR_INPUT, "%s: line %d, column %d: malformed JSON: %s", path,
                       jerr.line, jerr.column, text);
    }
    return doc;
}

static json_t *parse_file(const char *path, lsgd_error *err)
{
    return lsgd_json_file_load(path, "config", err);
}

static int check_and_complete(json_t *cfg, const char *path, lsgd_error *err)
{
    const json_t *schema = lsgd_schema_get("config", err);
    if (!schema)
        return LSGD_ERR_RUNTIME;
    if (gather_outer_params(cfg, err) || lsgd_schema_check(schema, schema, cfg, "", err) ||
        lsgd_config_check_limits(cfg, err) || check_cross_fields(cfg, err))
        return err->code;
    json_t *output = json_object_get(cfg, "output");
    if (!json_object_get(output, "dir")) {
        char dir[1024];
        lsgd_config_default_output_dir(dir, sizeof dir, path);
        json_object_set_new(output, "dir", json_string(dir));
    }
    return resolve_plugins(cfg, err);
}

/* The file's config with the overrides applied, all but sets[skip] (skip
 * >= n_sets: all), checked and completed; err unprefixed. */
static json_t *load_overridden(const json_t *file, const char *path, const char *const *sets,
                               size_t n_sets, size_t skip, char *notes, size_t notes_cap,
                               lsgd_error *err)
{
    json_t *cfg = json_deep_copy(file);
    if (!cfg) {
        lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
        return NULL;
    }
    int rc = gather_outer_params(cfg, err);
    if (!rc)
        drop_switched_plugin_params(cfg, path, sets, n_sets, skip, notes, notes_cap);
    for (size_t i = 0; !rc && i < n_sets; i++)
        if (i != skip)
            rc = lsgd_config_set(cfg, sets[i], err);
    if (!rc)
        rc = check_and_complete(cfg, path, err);
    if (rc) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

/* "--set A" appended to out[cap] (used so far: *used), after " with "
 * when it already names one. */
static void append_blamed(char *out, size_t cap, size_t *used, const char *set)
{
    char shown[200];
    lsgd_printable(shown, sizeof shown, set, 120);
    int n = snprintf(out + *used, cap - *used, "%s--set %s", *used ? " with " : "", shown);
    if (n > 0 && (size_t)n < cap - *used)
        *used += (size_t)n;
}

/* The --set overrides that caused a failure of the config they make
 * together, as "--set A with --set B" in out[cap]: each one whose
 * absence makes the config pass or fail otherwise.  "" when the file
 * fails with or without each. */
static void blamed_overrides(char *out, size_t cap, const json_t *file, const char *path,
                             const char *const *sets, size_t n_sets, const lsgd_error *failure)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n_sets; i++) {
        lsgd_error without;
        lsgd_error_clear(&without);
        json_t *cfg = load_overridden(file, path, sets, n_sets, i, NULL, 0, &without);
        int differs = cfg || strcmp(without.message, failure->message) != 0;
        json_decref(cfg);
        if (differs)
            append_blamed(out, cap, &used, sets[i]);
    }
}

static int is_key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* Whether message names the key key[len] as a whole word, or (under) a key
 * below it when `or_below`. */
static int names_key(const char *message, const char *key, size_t len, int or_below)
{
    for (const char *at = message; (at = strstr(at, key)) != NULL; at++) {
        if (strncmp(at, key, len) != 0 || (at > message && is_key_char(at[-1])))
            continue;
        char after = at[len];
        if (!is_key_char(after) || (or_below && after == '.'))
            return 1;
    }
    return 0;
}

/* Whether message names the key of the --set `set` ("a.b.c=v"), a key
 * below it, or a section above it of two parts or more ("a.b"). */
static int names_set_key(const char *message, const char *set)
{
    char key[256];
    size_t len = strcspn(set, "=");
    if (len == 0 || len >= sizeof key)
        return 0;
    memcpy(key, set, len);
    key[len] = '\0';
    if (names_key(message, key, len, 1))
        return 1;
    for (char *dot = strrchr(key, '.'); dot && strchr(key, '.') != dot; dot = strrchr(key, '.')) {
        *dot = '\0';
        if (names_key(message, key, strlen(key), 0))
            return 1;
    }
    return 0;
}

void lsgd_config_blame_sets(lsgd_error *err, const char *const *sets, size_t n_sets)
{
    if (strncmp(err->message, "--set ", 6) == 0)
        return;
    char blamed[600] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_sets; i++)
        if (names_set_key(err->message, sets[i]))
            append_blamed(blamed, sizeof blamed, &used, sets[i]);
    if (used)
        lsgd_error_prefix(err, "%s: ", blamed);
}

int lsgd_config_load_noting(json_t **out, const char *path, const char *const *sets,
                            size_t n_sets, char *notes, size_t notes_cap, lsgd_error *err)
{
    *out = NULL;
    if (notes && notes_cap)
        notes[0] = '\0';
    json_t *file = parse_file(path, err);
    if (!file)
        return LSGD_ERR_INPUT;
    if (!json_is_object(file)) {
        json_decref(file);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: expected a JSON object at the top level",
                              path);
    }
    *out = load_overridden(file, path, sets, n_sets, n_sets, notes, notes_cap, err);
    if (*out && notes && notes_cap)
        lsgd_algorithm_note_ignored(*out, notes, notes_cap);
    if (!*out && strncmp(err->message, "--set '", 7) != 0) { /* else it names its --set */
        char blamed[600] = "";
        if (err->code == LSGD_ERR_INPUT)
            blamed_overrides(blamed, sizeof blamed, file, path, sets, n_sets, err);
        lsgd_error_prefix(err, "%s: ", blamed[0] ? blamed : path);
    }
    json_decref(file);
    return *out ? LSGD_OK : err->code;
}

int lsgd_config_load(json_t **out, const char *path, const char *const *sets, size_t n_sets,
                     lsgd_error *err)
{
    return lsgd_config_load_noting(out, path, sets, n_sets, NULL, 0, err);
}

/* ---- run id --------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void lsgd_config_run_id(char *out, size_t cap, const json_t *cfg, const char *salt)
{
    char *canonical = json_dumps(cfg, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    uint64_t h = fnv1a(14695981039346656037ULL, canonical ? canonical : "");
    if (salt)
        h = fnv1a(fnv1a(h, "|"), salt);
    free(canonical);
    snprintf(out, cap, "cfg-%016llx", (unsigned long long)h);
}
