/*
 * registry.h — plugin discovery from manifests, without dlopen.
 *
 * Directories are searched in order: the config's `plugin_path` entries,
 * then LSGD_PLUGIN_PATH (colon-separated), then the built-in directory
 * (lsgd_builtin_plugin_dir).  The first manifest of a given kind+name wins;
 * later ones are kept in `shadowed` so `lsgd plugins list` can show them.
 * Two manifests of one kind+name in the same directory are refused as
 * ambiguous.  A .json file is taken for a manifest when a .so of the same
 * base name lies beside it or it has a "kind" key; other JSON files in a
 * plugin directory (a config beside an author's plugin) are passed over.
 */
#ifndef LSGD_REGISTRY_H
#define LSGD_REGISTRY_H

#include <jansson.h>

#include "lsgd/plugin.h"

typedef struct lsgd_manifest {
    char *path;        /* the manifest file */
    char *name;
    int kind;          /* enum lsgd_plugin_kind */
    char *version;
    char *library;     /* absolute path of the .so */
    char *description;
    int abi_major, abi_minor;
    json_t *params;    /* object: parameter name → schema (type, default, ranges, …) */
    json_t *requires;  /* array of capability names, e.g. ["hvp"] */
    json_t *provides;  /* models: capabilities they offer, e.g. ["hvp"]; [] otherwise */
    json_t *started_by; /* array of launchers that start the workers, e.g. ["mpirun", "srun"];
                           [] when `lsgd run` starts them */
    json_t *document;  /* the whole manifest */
    const char *origin; /* where it was found: "plugin_path", "LSGD_PLUGIN_PATH", "built-in", "file" */
} lsgd_manifest;

typedef struct lsgd_registry {
    lsgd_manifest *plugins;  /* winners, in discovery order */
    size_t count;
    lsgd_manifest *shadowed; /* same kind+name found later */
    size_t shadowed_count;
} lsgd_registry;

const char *lsgd_kind_name(int kind); /* "scaling", "transport", "model" */

/* Directory holding the built-in plugins, found beside liblsgd.so
 * (build/lib → build/plugins; PREFIX/lib → PREFIX/lib/lsgd/plugins). */
const char *lsgd_builtin_plugin_dir(void);

/* Read one manifest file; every problem is LSGD_ERR_INPUT naming the file. */
int lsgd_manifest_read(lsgd_manifest *out, const char *path, lsgd_error *err);
void lsgd_manifest_free(lsgd_manifest *m);

/* config may be NULL (no plugin_path). */
int lsgd_registry_discover(lsgd_registry *reg, const json_t *config, lsgd_error *err);
void lsgd_registry_free(lsgd_registry *reg);

/* The manifest of kind+name, or an LSGD_ERR_INPUT naming config_key and the
 * nearest known names ("did you mean 'adam'?"). */
/* 1 when the manifest's array `list` ("requires", "provides") names capability. */
int lsgd_manifest_lists(const lsgd_manifest *m, const char *list, const char *capability);

int lsgd_registry_resolve(const lsgd_manifest **out, const lsgd_registry *reg, int kind,
                          const char *name, const char *config_key, lsgd_error *err);

#endif
