/*
 * probe.h — load a plugin in a child process, so that a plugin whose
 * constructors or lsgd_plugin_entry crash, exit or hang is reported rather
 * than taking the caller with it (`lsgd plugins check`, and `lsgd run`
 * before it starts any worker).
 *
 * The child (fork) runs lsgd_plugin_check (dlopen, descriptor against the
 * manifest, ops, requires), unloads the plugin and sends each problem, then
 * "done", through a pipe.  A child that ends without sending "done" is one
 * more problem: the signal that killed it or the status it exited with
 * (exit(0) included), naming the plugin and its .so; one that takes longer
 * than LSGD_PROBE_TIMEOUT_S is killed and reported so.
 */
#ifndef LSGD_PROBE_H
#define LSGD_PROBE_H

#include "host/loader.h"

#define LSGD_PROBE_TIMEOUT_S 30

/* What the child saw of a plugin that loaded without a problem. */
typedef struct lsgd_probe_result {
    unsigned abi_major, abi_minor; /* the descriptor's */
} lsgd_probe_result;

/* lsgd_plugin_check in a child: report (not NULL) gets every problem;
 * returns their number.  out is filled when it returns 0. */
size_t lsgd_plugin_probe(lsgd_probe_result *out, const lsgd_manifest *manifest,
                         const char *const *provides, lsgd_problem_fn report, void *ctx);

/* The same for a run: LSGD_OK, or LSGD_ERR_INPUT with the first problem
 * in err.  A library that loaded without a problem is not probed again by
 * this process while its file is unchanged (a sweep checks many runs of
 * the same plugins); a failure is probed again each time. */
int lsgd_plugin_probe_load(const lsgd_manifest *manifest, const char *const *provides,
                           lsgd_error *err);

#endif
