/*
 * loader.h — dlopen a plugin and check it against its manifest.
 *
 * Checks, each problem one line naming the plugin, its path and the exact
 * mismatch: the library exists and is an ELF shared object (dlerror text
 * kept), the entry symbol exists, abi_major equal and abi_minor not newer
 * than the host, struct_size large enough, name/kind/version equal to the
 * manifest, the ops its kind requires are there, and every `requires`
 * capability is in `provides`.
 */
#ifndef LSGD_LOADER_H
#define LSGD_LOADER_H

#include "host/registry.h"

typedef struct lsgd_loaded {
    void *handle;               /* from dlopen */
    const lsgd_plugin *plugin;  /* the descriptor */
    const lsgd_manifest *manifest;
} lsgd_loaded;

/* provides: NULL-terminated capability names the host offers here
 * (e.g. {"hvp", NULL} when the model has an HVP). */
int lsgd_plugin_load(lsgd_loaded *out, const lsgd_manifest *manifest,
                     const char *const *provides, lsgd_error *err);
void lsgd_plugin_unload(lsgd_loaded *loaded);

/* The same checks, for `lsgd plugins check` (through lsgd_plugin_probe,
 * which runs them in a child process: probe.h): instead of stopping at the
 * first problem, report (not NULL) is called with each problem found, and
 * a problem skips only the checks that need what it found missing (a
 * missing library still has its manifest's `requires` checked).  Returns
 * the number of problems; when 0, *out is loaded (lsgd_plugin_unload it). */
typedef void (*lsgd_problem_fn)(void *ctx, const lsgd_error *problem);
size_t lsgd_plugin_check(lsgd_loaded *out, const lsgd_manifest *manifest,
                         const char *const *provides, lsgd_problem_fn report, void *ctx);

/* A process-wide watcher told just before a plugin's code first runs
 * (loading 1: dlopen, its constructors, its entry) and when that load has
 * ended (loading 0), whether it succeeded or not; NULL for none.  A worker
 * started by `lsgd run` tells its launcher, so that a worker that dies
 * meanwhile is reported naming the plugin (launcher.c). */
typedef void (*lsgd_load_watcher)(const lsgd_manifest *manifest, int loading);
void lsgd_plugin_watch_loads(lsgd_load_watcher watcher);

#endif
