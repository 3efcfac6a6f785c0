/*
 * plugins.c — `lsgd plugins list [--json] [--config CONFIG]`,
 * `lsgd plugins show NAME`, `lsgd plugins check PATH`.
 *
 * list and show read manifests only; check is the one that dlopens: it
 * loads a plugin the way a run would and reports everything that is wrong
 * with it, one line per problem (a run stops at the first), for a plugin
 * author before anyone selects it by config.  It loads it in a child
 * process (host/probe.h), so a plugin that crashes or exits while loading
 * is one more problem, not the end of lsgd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "host/config.h"
#include "host/probe.h"
#include "host/registry.h"
#include "host/schema.h"
#include "host/suggest.h"

static const char usage[] =
    "lsgd plugins list [--json] [--config CONFIG] | show NAME | check PATH";

/* The config's plugin_path counts when --config is given. */
static int discover(lsgd_registry *reg, const cli_args *a)
{
    json_t *cfg = NULL;
    if (a->config) {
        cli_args load = *a;
        load.positional[0] = a->config;
        int rc = cli_load_config(&cfg, &load);
        if (rc)
            return rc;
    }
    lsgd_error err;
    lsgd_error_clear(&err);
    int rc = lsgd_registry_discover(reg, cfg, &err);
    json_decref(cfg);
    return rc ? cli_report(&err) : 0;
}

/* The manifest's array `list` ("requires", "provides") as "a, b", or "-". */
static const char *capabilities_text(char *out, size_t cap, const lsgd_manifest *m,
                                     const char *list)
{
    const char *names[16];
    size_t n = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(m->document, list), i, c) {
        if (n < 16)
            names[n++] = json_string_value(c);
    }
    if (n == 0)
        snprintf(out, cap, "-");
    else
        lsgd_join_names(out, cap, names, n);
    return out;
}

static const char *requires_text(char *out, size_t cap, const lsgd_manifest *m)
{
    return capabilities_text(out, cap, m, "requires");
}

/* ---- list ------------------------------------------------------------------ */

static json_t *manifest_json(const lsgd_manifest *m)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:O}", "name", m->name,
                     "kind", lsgd_kind_name(m->kind), "version", m->version, "abi",
                     m->abi_major == LSGD_ABI_MAJOR ? "compatible" : "incompatible", "origin",
                     m->origin, "manifest", m->path, "library", m->library, "requires",
                     m->requires, "provides", m->provides, "params", m->params);
}

static int list_json(const lsgd_registry *reg)
{
    json_t *plugins = json_array(), *shadowed = json_array();
    for (size_t i = 0; i < reg->count; i++) {
        json_t *p = manifest_json(&reg->plugins[i]);
        json_object_set_new(p, "abi", json_sprintf("%d.%d", reg->plugins[i].abi_major,
                                                   reg->plugins[i].abi_minor));
        json_object_set_new(p, "description", json_string(reg->plugins[i].description));
        json_array_append_new(plugins, p);
    }
    for (size_t i = 0; i < reg->shadowed_count; i++) {
        const lsgd_manifest *m = &reg->shadowed[i];
        json_t *p = manifest_json(m);
        json_object_set_new(p, "abi", json_sprintf("%d.%d", m->abi_major, m->abi_minor));
        json_object_set_new(p, "description", json_string(m->description));
        for (size_t w = 0; w < reg->count; w++)
            if (reg->plugins[w].kind == m->kind && strcmp(reg->plugins[w].name, m->name) == 0)
                json_object_set_new(p, "shadowed_by", json_string(reg->plugins[w].path));
        json_array_append_new(shadowed, p);
    }
    json_t *doc = json_pack("{s:o, s:o}", "plugins", plugins, "shadowed", shadowed);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(doc);
    return 0;
}

static void list_row(const lsgd_manifest *m)
{
    char req[128], abi[16];
    snprintf(abi, sizeof abi, "%d.%d", m->abi_major, m->abi_minor);
    printf("%-10s %-12s %-9s %-4s %-9s %-17s %s\n", lsgd_kind_name(m->kind), m->name, m->version,
           abi, requires_text(req, sizeof req, m), m->origin, m->description);
}

static int by_kind_and_name(const void *a, const void *b)
{
    const lsgd_manifest *x = *(const lsgd_manifest *const *)a;
    const lsgd_manifest *y = *(const lsgd_manifest *const *)b;
    return x->kind != y->kind ? x->kind - y->kind : strcmp(x->name, y->name);
}

static int list_table(const lsgd_registry *reg)
{
    const lsgd_manifest **sorted = malloc((reg->count + 1) * sizeof *sorted);
    if (!sorted)
        return cli_fail(LSGD_ERR_RUNTIME, "out of memory");
    for (size_t i = 0; i < reg->count; i++)
        sorted[i] = &reg->plugins[i];
    qsort(sorted, reg->count, sizeof *sorted, by_kind_and_name);
    printf("%-10s %-12s %-9s %-4s %-9s %-17s %s\n", "KIND", "NAME", "VERSION", "ABI", "REQUIRES",
           "FROM", "DESCRIPTION");
    for (size_t i = 0; i < reg->count; i++)
        list_row(sorted[i]);
    free(sorted);
    if (reg->count == 0)
        printf("(no plugins found: set LSGD_PLUGIN_PATH or config plugin_path)\n");
    if (reg->shadowed_count)
        printf("\nshadowed (the same kind and name was found earlier on the search path):\n");
    for (size_t i = 0; i < reg->shadowed_count; i++) {
        const lsgd_manifest *m = &reg->shadowed[i];
        const char *winner = "?";
        for (size_t w = 0; w < reg->count; w++)
            if (reg->plugins[w].kind == m->kind && strcmp(reg->plugins[w].name, m->name) == 0)
                winner = reg->plugins[w].path;
        printf("%-10s %-12s %-9s %s (%s), shadowed by %s\n", lsgd_kind_name(m->kind), m->name,
               m->version, m->path, m->origin, winner);
    }
    return 0;
}

/* ---- show ------------------------------------------------------------------ */

static void range_text(char *out, size_t cap, const json_t *p)
{
    const json_t *lo = json_object_get(p, "minimum"), *hi = json_object_get(p, "maximum");
    const json_t *xlo = json_object_get(p, "exclusiveMinimum");
    const json_t *xhi = json_object_get(p, "exclusiveMaximum");
    const json_t *low = lo ? lo : xlo, *high = hi ? hi : xhi;
    const json_t *options = json_object_get(p, "enum");
    char a[64], b[64];
    if (json_is_array(options)) {
        size_t used = (size_t)snprintf(out, cap, "one of");
        size_t i;
        json_t *o;
        json_array_foreach(options, i, o) {
            lsgd_json_describe(a, sizeof a, o);
            if (used < cap)
                used += (size_t)snprintf(out + used, cap - used, "%s %s", i ? "," : "", a);
        }
        return;
    }
    if (low)
        lsgd_number_format(a, sizeof a, json_number_value(low));
    if (high)
        lsgd_number_format(b, sizeof b, json_number_value(high));
    if (low && high)
        snprintf(out, cap, "%s%s, %s%s", lo ? "[" : "(", a, b, hi ? "]" : ")");
    else if (low)
        snprintf(out, cap, "%s %s", lo ? ">=" : ">", a);
    else if (high)
        snprintf(out, cap, "%s %s", hi ? "<=" : "<", b);
    else
        snprintf(out, cap, "any");
}

static void show_one(const lsgd_manifest *m, const lsgd_registry *reg)
{
    char req[128];
    printf("%s: %s plugin, version %s, ABI %d.%d\n", m->name, lsgd_kind_name(m->kind), m->version,
           m->abi_major, m->abi_minor);
    printf("  %s\n", m->description);
    printf("  manifest: %s (%s)\n  library:  %s\n  requires: %s\n", m->path, m->origin, m->library,
           requires_text(req, sizeof req, m));
    if (m->kind == LSGD_KIND_MODEL)
        printf("  provides: %s\n", capabilities_text(req, sizeof req, m, "provides"));
    for (size_t i = 0; i < reg->shadowed_count; i++)
        if (reg->shadowed[i].kind == m->kind && strcmp(reg->shadowed[i].name, m->name) == 0)
            printf("  shadows:  %s (%s)\n", reg->shadowed[i].path, reg->shadowed[i].origin);
    if (json_object_size(m->params) == 0) {
        printf("  parameters: none\n");
        return;
    }
    /* the config key a plugin of this kind is selected under */
    const char *selected_by =
        m->kind == LSGD_KIND_COMPRESSOR ? "compression" : lsgd_kind_name(m->kind);
    printf("  parameters (%s.params):\n", selected_by);
    printf("    %-16s %-8s %-12s %-20s %s\n", "NAME", "TYPE", "DEFAULT", "RANGE", "DESCRIPTION");
    const char *key;
    json_t *p;
    json_object_foreach(m->params, key, p) {
        char def[64] = "(required)", range[160];
        const json_t *d = json_object_get(p, "default");
        if (d)
            lsgd_json_describe(def, sizeof def, d);
        range_text(range, sizeof range, p);
        printf("    %-16s %-8s %-12s %-20s %s\n", key, json_string_value(json_object_get(p, "type")),
               def, range, json_string_value(json_object_get(p, "description")));
    }
}

static int show(const lsgd_registry *reg, const char *name)
{
    int shown = 0;
    for (size_t i = 0; i < reg->count; i++) {
        if (strcmp(reg->plugins[i].name, name) == 0) {
            if (shown++)
                putchar('\n');
            show_one(&reg->plugins[i], reg);
        }
    }
    if (shown)
        return 0;
    const char **names = malloc((reg->count + 1) * sizeof *names);
    if (!names)
        return cli_fail(LSGD_ERR_RUNTIME, "out of memory");
    for (size_t i = 0; i < reg->count; i++)
        names[i] = reg->plugins[i].name;
    char near[256], known[600], hint[300] = "", safe[128];
    if (lsgd_suggest(near, sizeof near, name, names, reg->count))
        snprintf(hint, sizeof hint, "; did you mean %s?", near);
    lsgd_join_names(known, sizeof known, names, reg->count);
    free(names);
    lsgd_printable(safe, sizeof safe, name, 60);
    return cli_fail(LSGD_ERR_INPUT, "plugins show: no plugin named '%s'%s (known: %s)", safe, hint,
                    reg->count ? known : "none");
}

/* ---- check ----------------------------------------------------------------- */

/* PATH is a manifest, or a .so whose manifest lies beside it. */
static int manifest_of(char *out, size_t cap, const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".so") == 0) {
        snprintf(out, cap, "%.*s.json", (int)(n - 3), path);
        struct stat st;
        if (stat(out, &st) != 0)
            return cli_fail(LSGD_ERR_INPUT,
                            "plugins check: no manifest beside %s (expected %s: every plugin "
                            "ships a <name>.json)",
                            path, out);
        return 0;
    }
    snprintf(out, cap, "%s", path);
    return 0;
}

/* Each problem is its own line on stderr, as every lsgd error is. */
static void print_problem(void *ctx, const lsgd_error *problem)
{
    (void)ctx;
    cli_report(problem);
}

static int check(const char *path)
{
    char manifest_path[4096];
    int rc = manifest_of(manifest_path, sizeof manifest_path, path);
    if (rc)
        return rc;
    lsgd_error err;
    lsgd_error_clear(&err);
    lsgd_manifest m;
    if (lsgd_manifest_read(&m, manifest_path, &err))
        return cli_report(&err);
    /* every capability some run can provide: "hvp" depends on the model */
    static const char *const provides[] = {"hvp", "rng", NULL};
    /* in a child: a plugin that crashes or exits while loading is reported */
    lsgd_probe_result loaded;
    if (lsgd_plugin_probe(&loaded, &m, provides, print_problem, NULL)) {
        lsgd_manifest_free(&m);
        return LSGD_ERR_INPUT;
    }
    char req[128], gives[128] = "";
    if (m.kind == LSGD_KIND_MODEL)
        snprintf(gives, sizeof gives, "; provides %s",
                 capabilities_text(req, sizeof req, &m, "provides"));
    printf("ok: %s plugin '%s' %s (ABI %u.%u): %s agrees with %s; %zu parameter%s, defaults "
           "valid; requires %s%s\n",
           lsgd_kind_name(m.kind), m.name, m.version, loaded.abi_major, loaded.abi_minor,
           m.library, m.path, json_object_size(m.params),
           json_object_size(m.params) == 1 ? "" : "s", requires_text(req, sizeof req, &m), gives);
    lsgd_manifest_free(&m);
    return 0;
}

int lsgd_cli_plugins(int argc, char **argv)
{
    if (argc < 1)
        return cli_fail(LSGD_ERR_INPUT, "plugins: missing subcommand; usage: %s", usage);
    const char *sub = argv[0];
    cli_args a;
    int rc;
    if (strcmp(sub, "list") == 0) {
        rc = cli_parse(&a, argc - 1, argv + 1, CLI_JSON | CLI_CONFIG, 0, usage);
        lsgd_registry reg;
        if (!rc && !(rc = discover(&reg, &a))) {
            rc = a.json ? list_json(&reg) : list_table(&reg);
            lsgd_registry_free(&reg);
        }
    } else if (strcmp(sub, "show") == 0) {
        rc = cli_parse(&a, argc - 1, argv + 1, CLI_CONFIG, 1, usage);
        lsgd_registry reg;
        if (!rc && !(rc = discover(&reg, &a))) {
            rc = show(&reg, a.positional[0]);
            lsgd_registry_free(&reg);
        }
    } else if (strcmp(sub, "check") == 0) {
        rc = cli_parse(&a, argc - 1, argv + 1, 0, 1, usage);
        if (!rc)
            rc = check(a.positional[0]);
    } else {
        char safe[64];
        lsgd_printable(safe, sizeof safe, sub, 40);
        return cli_fail(LSGD_ERR_INPUT, "plugins: unknown subcommand '%s'; usage: %s", safe, usage);
    }
    cli_args_free(&a);
    return rc;
}
