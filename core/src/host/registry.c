/*
 * registry.c — plugin discovery: read every manifest on the search path,
 * without dlopen, and resolve a kind+name to one of them.
 *
 * Search order: the config's plugin_path, then LSGD_PLUGIN_PATH, then the
 * built-in directory beside liblsgd.so.  The first manifest of a kind+name
 * wins and later ones are kept as shadowed; two manifests of one kind+name
 * in the same directory are ambiguous and refused.  A manifest is checked
 * against schemas/manifest.schema.json when read, so every manifest in the
 * registry has the fields lsgd_manifest promises.
 */
#include "host/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/config.h"
#include "host/schema.h"
#include "host/suggest.h"

const char *lsgd_kind_name(int kind)
{
    switch (kind) {
    case LSGD_KIND_SCALING: return "scaling";
    case LSGD_KIND_TRANSPORT: return "transport";
    case LSGD_KIND_MODEL: return "model";
    case LSGD_KIND_COMPRESSOR: return "compressor";
    default: return "unknown-kind";
    }
}

static int kind_from_name(const char *name)
{
    if (strcmp(name, "scaling") == 0)
        return LSGD_KIND_SCALING;
    if (strcmp(name, "transport") == 0)
        return LSGD_KIND_TRANSPORT;
    if (strcmp(name, "model") == 0)
        return LSGD_KIND_MODEL;
    if (strcmp(name, "compressor") == 0)
        return LSGD_KIND_COMPRESSOR;
    return 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* <libdir>/lsgd/plugins when installed, <build>/plugins in the build tree. */
const char *lsgd_builtin_plugin_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    Dl_info info;
    char lib[PATH_MAX];
    if (!dladdr((void *)lsgd_builtin_plugin_dir, &info) || !info.dli_fname ||
        !realpath(info.dli_fname, lib))
        return NULL;
    char *libdir = dirname(lib);
    char candidate[PATH_MAX];
    snprintf(candidate, sizeof candidate, "%s/lsgd/plugins", libdir);
    if (!is_directory(candidate))
        snprintf(candidate, sizeof candidate, "%s/../plugins", libdir);
    if (!realpath(candidate, dir))
        snprintf(dir, sizeof dir, "%s", candidate);
    return dir;
}

/* ---- one manifest ------------------------------------------------------- */

static char *dup_string(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static char *library_path(const char *manifest_path, const char *library)
{
    char buf[PATH_MAX * 2];
    if (library[0] == '/') {
        snprintf(buf, sizeof buf, "%s", library);
    } else {
        char copy[PATH_MAX];
        snprintf(copy, sizeof copy, "%s", manifest_path);
        snprintf(buf, sizeof buf, "%s/%s", dirname(copy), library);
    }
    return strdup(buf);
}

/* Each parameter's default must satisfy the parameter's own schema. */
static int check_param_defaults(const json_t *doc, lsgd_error *err)
{
    const char *key;
    json_t *schema;
    json_object_foreach(json_object_get(doc, "params"), key, schema) {
        json_t *d = json_object_get(schema, "default");
        char path[300];
        snprintf(path, sizeof path, "params.%s.default", key);
        if (d && lsgd_schema_check(doc, schema, d, path, err))
            return LSGD_ERR_INPUT;
    }
    return LSGD_OK;
}

/* An ABI version number of the manifest as an int; -1 (never a host's
 * version, so the plugin is refused as built for another ABI) when it is
 * beyond int's range. */
static int abi_number(const json_t *v)
{
    double x = json_number_value(v);
    return x >= 0 && x <= INT_MAX ? (int)x : -1;
}

int lsgd_manifest_read(lsgd_manifest *out, const char *path, lsgd_error *err)
{
    memset(out, 0, sizeof *out);
    char full[PATH_MAX];
    if (!realpath(path, full))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "cannot read plugin manifest '%s': %s", path,
                              strerror(errno));
    json_t *doc = lsgd_json_file_load(full, "plugin manifest", err);
    if (!doc)
        return lsgd_error_prefix(err, "plugin manifest ");
    const json_t *schema = lsgd_schema_get("manifest", err);
    if (!schema) {
        json_decref(doc);
        return LSGD_ERR_RUNTIME;
    }
    if (lsgd_schema_check(schema, schema, doc, "", err)) {
        json_decref(doc);
        return lsgd_error_prefix(err, "plugin manifest %s: ", full);
    }
    if (check_param_defaults(doc, err)) {
        json_decref(doc);
        return lsgd_error_prefix(err, "plugin manifest %s: ", full);
    }
    const json_t *abi = json_object_get(doc, "abi");
    out->path = strdup(full);
    out->name = dup_string(json_object_get(doc, "name"));
    out->kind = kind_from_name(json_string_value(json_object_get(doc, "kind")));
    out->version = dup_string(json_object_get(doc, "version"));
    out->library = library_path(full, json_string_value(json_object_get(doc, "library")));
    out->description = dup_string(json_object_get(doc, "description"));
    out->abi_major = abi_number(json_object_get(abi, "major"));
    out->abi_minor = abi_number(json_object_get(abi, "minor"));
    out->params = json_object_get(doc, "params");     /* defaults filled: {} */
    out->requires = json_object_get(doc, "requires"); /* defaults filled: [] */
    out->provides = json_object_get(doc, "provides"); /* defaults filled: [] */
    out->started_by = json_object_get(doc, "started_by"); /* defaults filled: [] */
    out->document = doc;
    out->origin = "file";
    if (!out->path || !out->name || !out->version || !out->library || !out->description) {
        lsgd_manifest_free(out);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory reading %s", full);
    }
    return LSGD_OK;
}

void lsgd_manifest_free(lsgd_manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->name);
    free(m->version);
    free(m->library);
    free(m->description);
    json_decref(m->document);
    memset(m, 0, sizeof *m);
}

/* ---- discovery ---------------------------------------------------------- */

static int push(lsgd_manifest **list, size_t *count, lsgd_manifest *m)
{
    lsgd_manifest *grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (!grown)
        return LSGD_ERR_RUNTIME;
    grown[(*count)++] = *m;
    *list = grown;
    return LSGD_OK;
}

/* The manifest of kind+name among list[from, to); list may be NULL when
 * empty (no pointer arithmetic on it then: NULL + 0 is undefined in C). */
static const lsgd_manifest *find(const lsgd_manifest *list, size_t from, size_t to, int kind,
                                 const char *name)
{
    for (size_t i = from; i < to; i++)
        if (list[i].kind == kind && strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

static int is_manifest_name(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

/* A .json file in a plugin directory is a manifest when a .so of the same
 * base name lies beside it or when it is an object with a "kind" key;
 * other JSON files (a config kept beside an author's plugin) are not
 * plugins and are passed over. */
static int looks_like_manifest(const char *dir, const char *file)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%.*s.so", dir, (int)(strlen(file) - 5), file);
    if (access(path, F_OK) == 0)
        return 1;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_t *doc = lsgd_json_file_load(path, "plugin manifest", NULL);
    int manifest = json_is_object(doc) && json_object_get(doc, "kind") != NULL;
    json_decref(doc);
    return manifest;
}

/* Add the manifests of one directory (in name order).  Winners found in
 * this directory start at `first`, which is how duplicates within one
 * directory are told from shadowing across directories. */
static int scan_directory(lsgd_registry *reg, const char *dir, const char *origin,
                          lsgd_error *err)
{
    struct dirent **entries;
    int n = scandir(dir, &entries, is_manifest_name, alphasort);
    if (n < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: cannot open plugin directory '%s': %s",
                              origin, dir, strerror(errno));
    size_t first = reg->count;
    int rc = LSGD_OK;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        lsgd_manifest m;
        if (rc == LSGD_OK && looks_like_manifest(dir, entries[i]->d_name) &&
            (rc = lsgd_manifest_read(&m, path, err)) == LSGD_OK) {
            m.origin = origin;
            const lsgd_manifest *same_dir = find(reg->plugins, first, reg->count, m.kind, m.name);
            int is_shadowed = find(reg->plugins, 0, first, m.kind, m.name) != NULL;
            if (same_dir) {
                rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                                    "duplicate plugin name: %s plugin '%s' is declared by both %s "
                                    "and %s; rename one (a name selects exactly one plugin)",
                                    lsgd_kind_name(m.kind), m.name, same_dir->path, m.path);
                lsgd_manifest_free(&m);
            } else if (is_shadowed ? push(&reg->shadowed, &reg->shadowed_count, &m)
                                   : push(&reg->plugins, &reg->count, &m)) {
                lsgd_manifest_free(&m);
                rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory listing plugins");
            }
        }
        free(entries[i]);
    }
    free(entries);
    return rc;
}

/* A directory searched twice (plugin_path naming the built-in one) counts once. */
static int seen_directory(char (*seen)[PATH_MAX], size_t n_seen, const char *real)
{
    for (size_t i = 0; i < n_seen; i++)
        if (strcmp(seen[i], real) == 0)
            return 1;
    return 0;
}

enum { MAX_SEARCH_DIRS = 64 };

typedef struct search {
    char seen[MAX_SEARCH_DIRS][PATH_MAX];
    size_t n_seen;
} search;

static int search_dir(lsgd_registry *reg, search *s, const char *dir, const char *origin,
                      const char *where, int must_exist, lsgd_error *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real) || !is_directory(real)) {
        if (!must_exist)
            return LSGD_OK;
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: plugin directory '%s' %s", where, dir,
                              errno == ENOENT ? "does not exist" : "is not a readable directory");
    }
    if (seen_directory(s->seen, s->n_seen, real))
        return LSGD_OK;
    if (s->n_seen == MAX_SEARCH_DIRS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than %d plugin directories", where,
                              MAX_SEARCH_DIRS);
    snprintf(s->seen[s->n_seen++], PATH_MAX, "%s", real);
    return scan_directory(reg, real, origin, err);
}

int lsgd_registry_discover(lsgd_registry *reg, const json_t *config, lsgd_error *err)
{
    memset(reg, 0, sizeof *reg);
    search *s = calloc(1, sizeof *s);
    if (!s)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory listing plugins");
    int rc = LSGD_OK;
    const json_t *path = config ? json_object_get(config, "plugin_path") : NULL;
    size_t i;
    json_t *dir;
    json_array_foreach(path, i, dir) {
        char where[64];
        snprintf(where, sizeof where, "plugin_path[%zu]", i);
        if (rc == LSGD_OK && json_is_string(dir))
            rc = search_dir(reg, s, json_string_value(dir), "plugin_path", where, 1, err);
    }
    const char *env = getenv("LSGD_PLUGIN_PATH");
    char *copy = env ? strdup(env) : NULL;
    for (char *save = NULL, *d = copy ? strtok_r(copy, ":", &save) : NULL; d && rc == LSGD_OK;
         d = strtok_r(NULL, ":", &save))
        rc = search_dir(reg, s, d, "LSGD_PLUGIN_PATH", "LSGD_PLUGIN_PATH", 1, err);
    free(copy);
    const char *builtin = lsgd_builtin_plugin_dir();
    if (rc == LSGD_OK && builtin)
        rc = search_dir(reg, s, builtin, "built-in", "built-in plugins", 0, err);
    free(s);
    if (rc)
        lsgd_registry_free(reg);
    return rc;
}

void lsgd_registry_free(lsgd_registry *reg)
{
    for (size_t i = 0; i < reg->count; i++)
        lsgd_manifest_free(&reg->plugins[i]);
    for (size_t i = 0; i < reg->shadowed_count; i++)
        lsgd_manifest_free(&reg->shadowed[i]);
    free(reg->plugins);
    free(reg->shadowed);
    memset(reg, 0, sizeof *reg);
}

int lsgd_manifest_lists(const lsgd_manifest *m, const char *list, const char *capability)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m->document, list), i, c) {
        if (json_is_string(c) && strcmp(json_string_value(c), capability) == 0)
            return 1;
    }
    return 0;
}

int lsgd_registry_resolve(const lsgd_manifest **out, const lsgd_registry *reg, int kind,
                          const char *name, const char *config_key, lsgd_error *err)
{
    *out = find(reg->plugins, 0, reg->count, kind, name);
    if (*out)
        return LSGD_OK;
    const char **names = malloc((reg->count + 1) * sizeof *names);
    if (!names)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory resolving plugins");
    size_t n = 0;
    for (size_t i = 0; i < reg->count; i++)
        if (reg->plugins[i].kind == kind)
            names[n++] = reg->plugins[i].name;
    char near[256], known[600], safe[128];
    lsgd_printable(safe, sizeof safe, name, 60);
    int close = lsgd_suggest(near, sizeof near, name, names, n);
    lsgd_join_names(known, sizeof known, names, n);
    free(names);
    char hint[300] = "";
    if (close)
        snprintf(hint, sizeof hint, "; did you mean %s?", near);
    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: unknown %s plugin '%s'%s (known: %s)",
                          config_key, lsgd_kind_name(kind), safe, hint,
                          n ? known : "none found; see `lsgd plugins list`");
}
