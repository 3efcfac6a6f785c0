/*
 * loader.c — dlopen a plugin named by a manifest and check that the
 * library is what the manifest says, before any of its code but the entry
 * function runs.
 *
 * The checks, in order (each problem names the plugin, its .so and the
 * exact mismatch): the library exists; it is an ELF file and dlopen takes
 * it (dlerror text kept); the entry symbol exists and returns a
 * descriptor; the descriptor's ABI major equals the host's; struct_size
 * covers the ABI 1.0 fields; its minor is not newer; name, kind, version
 * and ABI agree with the manifest (all differences in one line); the ops
 * table has what its kind requires (ops_table.h, the check the hosts make
 * too); every `requires` capability is provided.
 *
 * One inspection serves two callers.  A run (lsgd_plugin_load) stops at
 * the first problem.  `lsgd plugins check` (lsgd_plugin_check) goes on
 * and reports every problem it can see: a problem stops only the checks
 * that cannot be made without what it found missing (no library: no
 * symbol, descriptor or ops checks, but `requires` is still checked; a
 * different ABI major or a short descriptor: fields past the common
 * prefix are not read).
 */
#include "host/loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/ops_table.h"
#include "lsgd/model.h"
#include "lsgd/scaling.h"
#include "util/input_file.h"

/* Bytes of an ABI 1.0 descriptor the host reads: everything up to ops. */
#define DESCRIPTOR_MIN_SIZE (offsetof(lsgd_plugin, ops) + sizeof(const void *))

typedef struct inspection {
    const lsgd_manifest *m;
    lsgd_error *first;       /* the first problem (may be NULL) */
    lsgd_problem_fn report;  /* every problem; NULL: stop at the first */
    void *ctx;
    size_t problems;
} inspection;

/* Record one problem; returns LSGD_ERR_INPUT. */
static int refuse(inspection *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(inspection *in, const char *fmt, ...)
{
    char what[LSGD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    lsgd_error problem;
    lsgd_error_set(&problem, LSGD_ERR_INPUT, "%s plugin '%s' (%s): %s",
                   lsgd_kind_name(in->m->kind), in->m->name, in->m->library, what);
    if (in->problems++ == 0 && in->first)
        *in->first = problem;
    if (in->report)
        in->report(in->ctx, &problem);
    return LSGD_ERR_INPUT;
}

/* A run stops at the first problem; a check goes on. */
static int stop(const inspection *in)
{
    return !in->report && in->problems > 0;
}

static int is_elf(int fd)
{
    unsigned char magic[4] = {0};
    return pread(fd, magic, sizeof magic, 0) == 4 && magic[0] == 0x7f && magic[1] == 'E' &&
           magic[2] == 'L' && magic[3] == 'F';
}

static int open_library(void **handle, inspection *in)
{
    const lsgd_manifest *m = in->m;
    struct stat st;
    if (stat(m->library, &st) != 0)
        return refuse(in, "the library named by %s does not exist (%s)", m->path, strerror(errno));
    /* opened as an input file: a FIFO or directory is refused, never waited on */
    int fd;
    char what[4200];
    lsgd_error not_input;
    snprintf(what, sizeof what, "the library named by %s", m->path);
    if (lsgd_input_open_fd(&fd, m->library, what, NULL, NULL, &not_input) != LSGD_OK)
        return refuse(in, "%s", not_input.message);
    int elf = is_elf(fd);
    close(fd);
    dlerror();
    *handle = dlopen(m->library, RTLD_NOW | RTLD_LOCAL);
    if (*handle)
        return LSGD_OK;
    const char *why = dlerror();
    if (!elf)
        return refuse(in, "not an ELF shared object (dlopen: %s)", why ? why : "failed");
    return refuse(in, "dlopen failed: %s", why ? why : "unknown error");
}

static int find_descriptor(const lsgd_plugin **out, void *handle, inspection *in)
{
    dlerror();
    void *symbol = dlsym(handle, LSGD_ENTRY_SYMBOL);
    if (!symbol) {
        const char *why = dlerror();
        return refuse(in, "no entry symbol %s (export it with LSGD_PLUGIN_EXPORT; dlsym: %s)",
                      LSGD_ENTRY_SYMBOL, why ? why : "not found");
    }
    lsgd_plugin_entry_fn entry;
    memcpy(&entry, &symbol, sizeof entry);
    *out = entry();
    if (!*out)
        return refuse(in, "%s returned NULL", LSGD_ENTRY_SYMBOL);
    return LSGD_OK;
}

/* Every field where descriptor and manifest differ, in one problem. */
static void check_agreement(const lsgd_plugin *p, inspection *in)
{
    const lsgd_manifest *m = in->m;
    char diff[LSGD_ERROR_MAX] = "";
    size_t used = 0;
#define DIFFER(...) \
    used += (size_t)snprintf(diff + used, used < sizeof diff ? sizeof diff - used : 0, __VA_ARGS__)
    if (!p->name || strcmp(p->name, m->name) != 0)
        DIFFER("%sname '%s' in the library, '%s' in the manifest", used ? "; " : "",
               p->name ? p->name : "(null)", m->name);
    if ((int)p->kind != m->kind)
        DIFFER("%skind %s in the library, %s in the manifest", used ? "; " : "",
               lsgd_kind_name((int)p->kind), lsgd_kind_name(m->kind));
    if (!p->version || strcmp(p->version, m->version) != 0)
        DIFFER("%sversion '%s' in the library, '%s' in the manifest", used ? "; " : "",
               p->version ? p->version : "(null)", m->version);
    if ((int)p->abi_major != m->abi_major || (int)p->abi_minor != m->abi_minor)
        DIFFER("%sABI %u.%u in the library, %d.%d in the manifest", used ? "; " : "",
               p->abi_major, p->abi_minor, m->abi_major, m->abi_minor);
#undef DIFFER
    if (used)
        refuse(in, "descriptor disagrees with manifest %s: %s", m->path, diff);
}

/* Returns LSGD_OK when the ops table can be inspected. */
static int check_descriptor(const lsgd_plugin *p, inspection *in)
{
    if (p->abi_major != LSGD_ABI_MAJOR) /* another major's layout: read no further */
        return refuse(in, "built for plugin ABI %u.%u, but this host speaks ABI %d.%d (major "
                      "versions must be equal; rebuild the plugin against this lsgd)",
                      p->abi_major, p->abi_minor, LSGD_ABI_MAJOR, LSGD_ABI_MINOR);
    if (p->struct_size < DESCRIPTOR_MIN_SIZE)
        return refuse(in, "descriptor struct_size %zu is smaller than the %zu bytes of ABI %d.0",
                      p->struct_size, (size_t)DESCRIPTOR_MIN_SIZE, LSGD_ABI_MAJOR);
    if (p->abi_minor > LSGD_ABI_MINOR)
        refuse(in, "built for plugin ABI %u.%u, newer than this host's %d.%d "
               "(upgrade lsgd or rebuild the plugin)",
               p->abi_major, p->abi_minor, LSGD_ABI_MAJOR, LSGD_ABI_MINOR);
    if (stop(in))
        return LSGD_ERR_INPUT;
    check_agreement(p, in);
    if (stop(in))
        return LSGD_ERR_INPUT;
    if (!p->ops)
        return refuse(in, "descriptor has no ops table");
    return LSGD_OK;
}

/* A problem the ops table check found, said as the loader says any. */
static void ops_problem(void *ctx, const char *problem)
{
    refuse(ctx, "%s", problem);
}

/* A model's hvp op and its manifest's provides ["hvp"] come together:
 * the manifest is what `lsgd validate` checks OASIS against. */
static void check_model_hvp(const lsgd_plugin *p, inspection *in)
{
    const lsgd_model_plugin_ops *ops = p->ops;
    int has = LSGD_HAS_OP(ops, lsgd_model_plugin_ops, hvp);
    int says = lsgd_manifest_lists(in->m, "provides", "hvp");
    if (has && !says)
        refuse(in, "has an hvp op but manifest %s does not list \"hvp\" in provides",
               in->m->path);
    else if (!has && says)
        refuse(in, "manifest %s lists \"hvp\" in provides but the ops table has no hvp",
               in->m->path);
}

/* The table (ops_table.h), then what only the manifest can tell: a
 * plugin taking Hessian-vector products says so in `requires`, a model
 * giving them in `provides`. */
static void check_ops(const lsgd_plugin *p, inspection *in)
{
    if (lsgd_ops_check(p, ops_problem, in) && stop(in))
        return;
    if (p->kind == LSGD_KIND_MODEL) {
        check_model_hvp(p, in);
        return;
    }
    const lsgd_scaling_ops *ops = p->ops;
    if (p->kind == LSGD_KIND_SCALING &&
        ops->struct_size >= LSGD_FIELD_END(lsgd_scaling_ops, statistic_kind) &&
        ops->statistic_kind == LSGD_STATISTIC_HVP && !lsgd_manifest_lists(in->m, "requires", "hvp"))
        refuse(in, "takes Hessian-vector products (statistic_kind HVP) but manifest %s does not "
               "list \"hvp\" in requires", in->m->path);
}

static int is_provided(const char *need, const char *const *provides)
{
    if (strcmp(need, "rng") == 0) /* the seeded stream is always there */
        return 1;
    for (const char *const *p = provides; p && *p; p++)
        if (strcmp(*p, need) == 0)
            return 1;
    return 0;
}

static void check_requires(const char *const *provides, inspection *in)
{
    char offered[256] = "rng";
    size_t used = 3;
    for (const char *const *p = provides; p && *p; p++)
        if (strcmp(*p, "rng") != 0 && used < sizeof offered)
            used += (size_t)snprintf(offered + used, sizeof offered - used, ", %s", *p);
    size_t i;
    json_t *c;
    json_array_foreach(in->m->requires, i, c) {
        const char *need = json_string_value(c);
        if (!need || is_provided(need, provides))
            continue;
        if (strcmp(need, "hvp") == 0)
            refuse(in, "requires \"hvp\" (Hessian-vector products), which this model does not "
                   "provide (provided here: %s)", offered);
        else
            refuse(in, "requires capability \"%s\", which this host does not provide (provided "
                   "here: %s)", need, offered);
        if (stop(in))
            return;
    }
}

/* The library's checks: each stage needs what the one before found. */
static void inspect_library(void **handle, const lsgd_plugin **plugin, inspection *in)
{
    if (open_library(handle, in))
        return;
    if (find_descriptor(plugin, *handle, in) || check_descriptor(*plugin, in))
        return;
    check_ops(*plugin, in);
}

static lsgd_load_watcher load_watcher;

void lsgd_plugin_watch_loads(lsgd_load_watcher watcher)
{
    load_watcher = watcher;
}

static size_t inspect(lsgd_loaded *out, const lsgd_manifest *manifest,
                      const char *const *provides, inspection *in)
{
    memset(out, 0, sizeof *out);
    void *handle = NULL;
    const lsgd_plugin *plugin = NULL;
    if (load_watcher)
        load_watcher(manifest, 1);
    inspect_library(&handle, &plugin, in);
    if (load_watcher)
        load_watcher(manifest, 0);
    if (!stop(in))
        check_requires(provides, in);
    if (in->problems) {
        if (handle)
            dlclose(handle);
        return in->problems;
    }
    out->handle = handle;
    out->plugin = plugin;
    out->manifest = manifest;
    return 0;
}

int lsgd_plugin_load(lsgd_loaded *out, const lsgd_manifest *manifest,
                     const char *const *provides, lsgd_error *err)
{
    inspection in = {.m = manifest, .first = err};
    return inspect(out, manifest, provides, &in) ? LSGD_ERR_INPUT : LSGD_OK;
}

size_t lsgd_plugin_check(lsgd_loaded *out, const lsgd_manifest *manifest,
                         const char *const *provides, lsgd_problem_fn report, void *ctx)
{
    inspection in = {.m = manifest, .report = report, .ctx = ctx};
    return inspect(out, manifest, provides, &in);
}

void lsgd_plugin_unload(lsgd_loaded *loaded)
{
    if (loaded && loaded->handle)
        dlclose(loaded->handle);
    if (loaded)
        memset(loaded, 0, sizeof *loaded);
}
