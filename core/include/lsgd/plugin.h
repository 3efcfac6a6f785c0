/*
 * lsgd/plugin.h — the plugin ABI shared by every kind of lsgd plugin.
 *
 * A plugin is one shared object with one exported symbol,
 * lsgd_plugin_entry, returning a descriptor that begins with its own size
 * and the ABI version it was built against.  The host loads a plugin only
 * when abi_major equals the host's and abi_minor is not newer, and never
 * reads past struct_size, so fields are only ever added at the end.
 *
 * Beside the .so lies a JSON manifest (<name>.json) that says the same
 * name/kind/version plus the parameters and required capabilities; the host
 * reads manifests without dlopen and checks that they agree with the
 * descriptor once loaded.
 *
 * Build a plugin with -fvisibility=hidden: LSGD_PLUGIN_EXPORT marks the
 * entry, nothing else leaves the .so.
 *
 * Return codes, for every op of every kind that returns an int: 0 is
 * success and ANY other value is failure — the host never looks at err to
 * decide.  On failure, fill err with lsgd_error_set: LSGD_ERR_INPUT for a
 * bad parameter or input (the run exits 2), LSGD_ERR_RUNTIME for anything
 * else (exit 1; a code the host does not know counts as runtime too).  A
 * plugin that fails without a message still stops the run, with "<kind>
 * plugin '<name>': <op> failed with code N and no message".  The host puts
 * the plugin's name and the op in front of a message that does not start
 * with the plugin's name.
 *
 * Loading runs the library's constructors and lsgd_plugin_entry: they must
 * not crash, block or exit.  The host MAY load one library several times
 * in one process (once per instance: scaling and outer) and in several
 * processes (the check, each worker), and unloads it with dlclose after
 * its last instance; lsgd_plugin_entry MUST return the same descriptor
 * every time, in static storage, with no other effect.  What an instance
 * needs is made by its kind's create/open, not by constructors.  The call
 * order and the MUST/MAY rules of every op are in lsgd/scaling.h,
 * lsgd/transport.h, lsgd/model.h and lsgd/compressor.h.  `lsgd plugins
 * check` and `lsgd run` (before it starts workers) load each plugin in a
 * child process, so one that does
 * is reported with the signal or exit status, its name and its .so, rather
 * than taking lsgd down or passing for success; a worker that dies loading
 * a plugin is reported naming the plugin.
 */
#ifndef LSGD_PLUGIN_H
#define LSGD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "lsgd/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LSGD_ABI_MAJOR 1
#define LSGD_ABI_MINOR 0
#define LSGD_ENTRY_SYMBOL "lsgd_plugin_entry"

#define LSGD_PLUGIN_EXPORT __attribute__((visibility("default")))

enum lsgd_plugin_kind {
    LSGD_KIND_SCALING = 1,   /* a preconditioner D̂: lsgd/scaling.h */
    LSGD_KIND_TRANSPORT = 2, /* how workers average: lsgd/transport.h */
    LSGD_KIND_MODEL = 3,     /* what is trained: lsgd/model.h */
    LSGD_KIND_COMPRESSOR = 4 /* what travels at an average: lsgd/compressor.h */
};

/*
 * Validated parameters.  The host has already filled defaults, rejected
 * unknown keys and enforced the manifest's types and ranges, so a plugin
 * just reads what its manifest declares.  Reading a key the manifest does
 * not declare returns 0 / NULL.  The table and the strings it returns are
 * valid during the op that received it (create, open) only: copy what you
 * keep.
 */
typedef struct lsgd_params {
    size_t struct_size;
    const void *host;
    double (*number)(const struct lsgd_params *p, const char *key);  /* number, integer */
    int (*boolean)(const struct lsgd_params *p, const char *key);    /* boolean: 0 or 1 */
    const char *(*string)(const struct lsgd_params *p, const char *key); /* string, enum */
} lsgd_params;

static inline double lsgd_param_number(const lsgd_params *p, const char *key)
{
    return p->number(p, key);
}

static inline int lsgd_param_bool(const lsgd_params *p, const char *key)
{
    return p->boolean(p, key);
}

static inline const char *lsgd_param_string(const lsgd_params *p, const char *key)
{
    return p->string(p, key);
}

/* What lsgd_plugin_entry returns.  Static storage owned by the plugin. */
typedef struct lsgd_plugin {
    size_t struct_size;   /* sizeof(lsgd_plugin) as the plugin was built */
    uint32_t abi_major;   /* LSGD_ABI_MAJOR */
    uint32_t abi_minor;   /* LSGD_ABI_MINOR */
    uint32_t kind;        /* enum lsgd_plugin_kind */
    const char *name;     /* must equal the manifest's "name" */
    const char *version;  /* must equal the manifest's "version" */
    const void *ops;      /* const lsgd_scaling_ops *, lsgd_transport_ops *,
                             lsgd_model_plugin_ops * or lsgd_compressor_ops * */
    /* Optional capabilities by name; NULL (or a NULL function) when absent.
     * MAY be called at any time while the library is loaded, from any
     * thread; MUST return NULL for a name it does not know.  What it
     * returns stays valid until the library is unloaded. */
    const void *(*get_extension)(const char *name);
} lsgd_plugin;

typedef const lsgd_plugin *(*lsgd_plugin_entry_fn)(void);

/*
 * Growing a table at the end.  Every table lsgd passes across the ABI
 * (the descriptor, lsgd_scaling_ops, lsgd_transport_ops, lsgd_params,
 * lsgd_scaling_ctx, lsgd_transport_info, lsgd_model_plugin_ops,
 * lsgd_model_data, lsgd_model_batch) begins with struct_size, the
 * sizeof the table had where it was built.  A field lies in the table when
 * struct_size reaches its end, LSGD_FIELD_END(type, field); an op is
 * present when, in addition, its pointer is not NULL:
 *
 *     if (LSGD_HAS_OP(ops, lsgd_scaling_ops, range))
 *         ops->range(self, state, clock, &lo, &hi);
 *
 * The host tests every optional op this way and nothing else, so a table
 * built against an older header, whose struct_size stops before a field
 * added since, is a table without that op; the pointer past struct_size
 * is never read.  Plugins may use it on the host's tables the same way.
 */
#define LSGD_FIELD_END(type, field) (offsetof(type, field) + sizeof(((const type *)0)->field))

#define LSGD_HAS_OP(ops, type, field) \
    ((ops)->struct_size >= LSGD_FIELD_END(type, field) && (ops)->field != NULL)

/*
 * The descriptor and the entry point of a plugin, written once at the end
 * of its .c file:
 *
 *     LSGD_PLUGIN(LSGD_KIND_SCALING, "adam", "1.0.0", &adam_ops);
 *
 * name and version must equal the manifest's.  LSGD_PLUGIN_WITH_EXTENSIONS
 * also names the plugin's get_extension function.
 */
#define LSGD_PLUGIN_WITH_EXTENSIONS(kind_, name_, version_, ops_, get_extension_)      \
    static const lsgd_plugin lsgd_plugin_descriptor = {                              \
        .struct_size = sizeof(lsgd_plugin),                                          \
        .abi_major = LSGD_ABI_MAJOR,                                                 \
        .abi_minor = LSGD_ABI_MINOR,                                                 \
        .kind = (kind_),                                                             \
        .name = (name_),                                                             \
        .version = (version_),                                                       \
        .ops = (ops_),                                                               \
        .get_extension = (get_extension_),                                           \
    };                                                                               \
    LSGD_PLUGIN_EXPORT const lsgd_plugin *lsgd_plugin_entry(void);                   \
    const lsgd_plugin *lsgd_plugin_entry(void)                                       \
    {                                                                                \
        return &lsgd_plugin_descriptor;                                              \
    }                                                                                \
    typedef int lsgd_plugin_defined_ /* so that the macro takes a semicolon */

#define LSGD_PLUGIN(kind_, name_, version_, ops_)                                     \
    LSGD_PLUGIN_WITH_EXTENSIONS(kind_, name_, version_, ops_, NULL)

#ifdef __cplusplus
}
#endif
#endif
