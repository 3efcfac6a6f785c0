/*
 * fake_scaling.c — FAKE plugin for the host's tests: a minimal, correct
 * scaling plugin (plain SGD) whose descriptor can be bent at compile time
 * to inject one fault each:
 *   -DFAKE_NAME='"x"'       the name the descriptor claims (name mismatch)
 *   -DFAKE_VERSION='"v"'    the version it claims
 *   -DFAKE_ABI_MAJOR=2      the ABI major it claims (ABI mismatch)
 *   -DFAKE_ABI_MINOR=7      the ABI minor it claims (built for a newer host)
 *   -DFAKE_STRUCT_SIZE=16   the descriptor size it claims (shorter than the ABI's)
 *   -DFAKE_OPS_SIZE='LSGD_FIELD_END(lsgd_scaling_ops, step)'
 *                           the ops table size it claims (ops past it are absent)
 *   -DFAKE_RANGE            has a range op saying D̂ lies in [7, 7]
 *   -DFAKE_STATISTIC_HVP    claims Hessian-vector statistics
 *   -DFAKE_CREATE_FAILS=3   create returns 3 and sets no message
 *   -DFAKE_STEP_FAILS=3     step returns 3 and sets no message
 *   -DFAKE_CRASH_IN_CONSTRUCTOR  a constructor of the .so dereferences NULL (dlopen crashes)
 *   -DFAKE_CRASH_IN_ENTRY   lsgd_plugin_entry dereferences NULL
 *   -DFAKE_EXIT_IN_ENTRY    lsgd_plugin_entry calls exit(0)
 *   -DFAKE_COUNT_LOADS      each load appends a line to $LSGD_FAKE_LOAD_LOG
 *   -DFAKE_ONLY_IN_WORKER   the crash or exit above happens only in a worker
 *                           started by `lsgd run` (LSGD_RUN_ID set), so that
 *                           the run's own check before starting workers passes
 * Several at once make a plugin with several problems, for the check that
 * reports them all.  Built by the tests into a temporary directory with a
 * manifest written beside it.
 */
#include <stddef.h>
#include <stdlib.h>

#include "lsgd/scaling.h"

#ifndef FAKE_NAME
#define FAKE_NAME "fake"
#endif
#ifndef FAKE_VERSION
#define FAKE_VERSION "1.0.0"
#endif
#ifndef FAKE_ABI_MAJOR
#define FAKE_ABI_MAJOR LSGD_ABI_MAJOR
#endif
#ifndef FAKE_ABI_MINOR
#define FAKE_ABI_MINOR LSGD_ABI_MINOR
#endif
#ifndef FAKE_STRUCT_SIZE
#define FAKE_STRUCT_SIZE sizeof(lsgd_plugin)
#endif
#ifndef FAKE_OPS_SIZE
#define FAKE_OPS_SIZE sizeof(lsgd_scaling_ops)
#endif

#ifdef FAKE_ONLY_IN_WORKER
#define FAKE_FAULT_HERE() (getenv("LSGD_RUN_ID") != NULL)
#else
#define FAKE_FAULT_HERE() 1
#endif

/* A crash as a plugin bug makes it: a store through a null pointer. */
static void crash(void)
{
    if (FAKE_FAULT_HERE())
        *(volatile int *)NULL = 1;
}

#ifdef FAKE_COUNT_LOADS
#include <stdio.h>
__attribute__((constructor)) static void count_load(void)
{
    const char *log = getenv("LSGD_FAKE_LOAD_LOG");
    FILE *f = log ? fopen(log, "a") : NULL;
    if (f) {
        fputs("loaded\n", f);
        fclose(f);
    }
}
#endif

#ifdef FAKE_CRASH_IN_CONSTRUCTOR
__attribute__((constructor)) static void constructor(void)
{
    crash();
}
#endif

static int create(void **self, const lsgd_params *params, size_t dim, lsgd_error *err)
{
    *self = NULL;
#ifdef FAKE_CREATE_FAILS
    return FAKE_CREATE_FAILS;
#else
    return LSGD_OK;
#endif
}

static void destroy(void *self) {}

static size_t state_names(const void *self, const char *const **names)
{
    *names = NULL;
    return 0;
}

static int statistic(const void *self, float *H, float *const *state, const lsgd_scaling_ctx *ctx,
                     lsgd_error *err)
{
    return LSGD_OK;
}

static int refresh(const void *self, float *const *state, const float *H,
                   const lsgd_scaling_clock *clock, lsgd_error *err)
{
    return LSGD_OK;
}

static int step(const void *self, float *x, float *const *state, const float *g, float lr,
                const lsgd_scaling_clock *clock, int refresh_from_g, lsgd_error *err)
{
    (void)x, (void)g, (void)lr;
#ifdef FAKE_STEP_FAILS
    return FAKE_STEP_FAILS;
#else
    return LSGD_OK;
#endif
}

#ifdef FAKE_RANGE
static void range(const void *self, float *const *state, const lsgd_scaling_clock *clock,
                  float *dmin, float *dmax)
{
    *dmin = *dmax = 7.0f;
}
#endif

static const lsgd_scaling_ops ops = {
    .struct_size = FAKE_OPS_SIZE,
#ifdef FAKE_STATISTIC_HVP
    .statistic_kind = LSGD_STATISTIC_HVP,
    .statistic = statistic,
    .refresh = refresh,
#else
    .statistic_kind = LSGD_STATISTIC_NONE,
#endif
    .create = create,
    .destroy = destroy,
    .state_names = state_names,
    .step = step,
#ifdef FAKE_RANGE
    .range = range,
#endif
};

static const lsgd_plugin plugin = {
    .struct_size = FAKE_STRUCT_SIZE,
    .abi_major = FAKE_ABI_MAJOR,
    .abi_minor = FAKE_ABI_MINOR,
    .kind = LSGD_KIND_SCALING,
    .name = FAKE_NAME,
    .version = FAKE_VERSION,
    .ops = &ops,
};

LSGD_PLUGIN_EXPORT const lsgd_plugin *lsgd_plugin_entry(void)
{
    (void)statistic, (void)refresh, (void)crash;
#ifdef FAKE_CRASH_IN_ENTRY
    crash();
#endif
#ifdef FAKE_EXIT_IN_ENTRY
    if (FAKE_FAULT_HERE())
        exit(0);
#endif
    return &plugin;
}
