/*
 * host_plugin_faults.c — FAKE plugins that misbehave, through the real
 * binary:
 *   - an op that returns a failure code without setting a message is still
 *     a failure (exit 1, one line naming the plugin and the op): the
 *     scaling plugin's create and step, the transport's open and
 *     allreduce_mean;
 *   - a plugin whose constructor or entry point crashes or calls exit(0)
 *     is reported by `plugins check` and refused by `run` before any worker
 *     starts (exit 2, naming the signal or status, the plugin and its .so);
 *   - when that happens only in a worker, the run exits 1 naming the
 *     plugin the worker was loading, and exit(0) does not count as success.
 * The commands run with the sanitizers' own SIGSEGV handler and exit-time
 * leak check off, so that a sanitized build shows the crash and the exit
 * status the plugin caused, as a plain build does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "host_fakes.h"

#define PLAIN_CRASHES "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:detect_leaks=0\" "

static char cmd[8192];

static const char *run_cmd(const char *config)
{
    snprintf(cmd, sizeof cmd, PLAIN_CRASHES "LSGD_PLUGIN_PATH= '%s' run '%s'", lsgd_bin(),
             config);
    return cmd;
}

static const char *check_cmd(const char *path)
{
    snprintf(cmd, sizeof cmd, PLAIN_CRASHES "LSGD_PLUGIN_PATH= '%s' plugins check '%s'", lsgd_bin(),
             path);
    return cmd;
}

/* dir/<name>.so from fake_scaling.c with the fault `flags`, its manifest
 * beside it, and a run of two workers using it; returns the config path. */
static const char *faulty_plugin(const char *dir, const char *name, const char *flags)
{
    char so[128], json[128], cflags[512];
    snprintf(so, sizeof so, "%s.so", name);
    snprintf(json, sizeof json, "%s.json", name);
    snprintf(cflags, sizeof cflags, "-DFAKE_NAME='\"%s\"' %s", name, flags);
    CU_ASSERT_EQUAL(fake_build(dir, "fake_scaling.c", so, cflags), 0);
    fake_manifest(dir, json, name, "1.0.0", so, NULL, NULL);
    return fake_run_config(dir, "run.json", 2, name, NULL);
}

/* ---- checking many runs of one plugin ---- */

LSGD_TEST(host_plugin_faults, a_sweep_dry_run_of_six_runs_probes_an_unchanged_plugin_in_a_child_once_not_per_run)
{
    TEST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "counted", "-DFAKE_COUNT_LOADS");
    char text[4096], log[1200], command[8192];
    snprintf(text, sizeof text,
             "{\"base\": \"%s\", \"output\": \"%s/sweep\", \"seeds\": [1, 2, 3],\n"
             " \"axes\": {\"algorithm.lr\": [0.1, 0.2]}}\n", config, dir);
    const char *sweep = test_write_file(dir, "counted.sweep.json", text);
    snprintf(log, sizeof log, "%s/loads.log", dir);
    snprintf(command, sizeof command, "LSGD_FAKE_LOAD_LOG=%s %s/bin/lsgd sweep %s --dry-run", log,
             test_build_dir(), sweep);
    test_output o = test_run(command, 60);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_EQUAL(test_count_lines(o.out), 1 + 6); /* the header, then one line per run */
    char *loads = test_read_file(log, NULL);
    int count = loads ? test_count_lines(loads) : -1;
    if (count != 2)
        fprintf(stderr, "\n  %s: the plugin was loaded %d times\n", command, count);
    /* once in the probe's child, once opened for real by the check of the
     * first distinct data and model (without the memo: 6 + 1) */
    CU_ASSERT_EQUAL(count, 2);
    free(loads);
    test_output_free(&o);
}

/* ---- ops that fail without a message ---- */

/* A run with the fake built from `source` with `flags` as its scaling or
 * transport plugin fails with exit 1 and one line with each needle. */
static void expect_op_failure(const char *source, const char *flags, const char *needle,
                              const char *op_failed)
{
    TEST_TMPDIR(dir);
    int transport = strcmp(source, "fake_transport.c") == 0;
    const char *name = transport ? "faketransport" : "mute";
    char so[128], json[128], cflags[256];
    snprintf(so, sizeof so, "%s.so", name);
    snprintf(json, sizeof json, "%s.json", name);
    snprintf(cflags, sizeof cflags, "-DFAKE_NAME='\"%s\"' %s", name, flags);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, source, so, cflags), 0);
    if (transport)
        fake_transport_manifest(dir, json, name, so);
    else
        fake_manifest(dir, json, name, "1.0.0", so, NULL, NULL);
    const char *config = fake_run_config(dir, "run.json", 1, transport ? NULL : name,
                                         transport ? name : NULL);
    expect_runtime_error(run_cmd(config), needle, op_failed, NULL);
}

LSGD_TEST(host_plugin_faults, a_scaling_create_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    expect_op_failure("fake_scaling.c", "-DFAKE_CREATE_FAILS=3", "scaling plugin 'mute' (",
                      "mute.so): create failed with code 3 and no message");
}

LSGD_TEST(host_plugin_faults, a_scaling_step_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    expect_op_failure("fake_scaling.c", "-DFAKE_STEP_FAILS=3", "scaling plugin 'mute'",
                      "step 1 failed with code 3 and no message");
}

LSGD_TEST(host_plugin_faults, a_transport_allreduce_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    expect_op_failure("fake_transport.c", "-DFAKE_ALLREDUCE_FAILS=3",
                      "transport plugin 'faketransport' rank 0",
                      "allreduce_mean failed with code 3 and no message");
}

LSGD_TEST(host_plugin_faults, a_transport_open_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    expect_op_failure("fake_transport.c", "-DFAKE_OPEN_FAILS=-1",
                      "transport plugin 'faketransport' rank 0",
                      "open failed with code -1 and no message");
}

/* ---- plugins that crash or exit while loading ---- */

/* The fake `name` built with the fault `flags`: `plugins check` on its .so
 * (check), `lsgd run` that refuses it before starting workers (preflight),
 * or whose worker fails loading it (worker): one line naming the plugin,
 * its .so and `how`. */
enum fault_seen_by { CHECK, PREFLIGHT, WORKER };

static void expect_load_failure(enum fault_seen_by by, const char *name, const char *flags,
                                const char *how)
{
    TEST_TMPDIR(dir);
    char so[1200], who[128], all_flags[256];
    snprintf(all_flags, sizeof all_flags, "%s%s", flags,
             by == WORKER ? " -DFAKE_ONLY_IN_WORKER" : "");
    const char *config = faulty_plugin(dir, name, all_flags);
    snprintf(so, sizeof so, "%s/%s.so", dir, name);
    snprintf(who, sizeof who, "%sscaling plugin '%s'", by == WORKER ? "while loading " : "", name);
    if (by == CHECK)
        expect_input_error(check_cmd(so), who, so, how, NULL);
    else if (by == PREFLIGHT)
        expect_input_error(run_cmd(config), who, so, how, NULL);
    else
        expect_runtime_error(run_cmd(config), who, so, how, NULL);
}

#define CRASHED "crashed while being loaded: killed by signal 11"
#define EXITED "exited with status 0 while being loaded"

LSGD_TEST(host_plugin_faults, plugins_check_reports_a_plugin_whose_constructor_crashes_naming_the_signal)
{
    expect_load_failure(CHECK, "ctor", "-DFAKE_CRASH_IN_CONSTRUCTOR", CRASHED);
}

LSGD_TEST(host_plugin_faults, plugins_check_reports_a_plugin_whose_entry_point_crashes_naming_the_signal)
{
    expect_load_failure(CHECK, "entry", "-DFAKE_CRASH_IN_ENTRY", CRASHED);
}

LSGD_TEST(host_plugin_faults, plugins_check_reports_a_plugin_whose_entry_point_calls_exit_0_as_a_failure)
{
    expect_load_failure(CHECK, "quitter", "-DFAKE_EXIT_IN_ENTRY", EXITED);
}

LSGD_TEST(host_plugin_faults, run_refuses_a_plugin_whose_constructor_crashes_before_starting_workers)
{
    expect_load_failure(PREFLIGHT, "ctor", "-DFAKE_CRASH_IN_CONSTRUCTOR", CRASHED);
}

LSGD_TEST(host_plugin_faults, run_refuses_a_plugin_whose_entry_point_crashes_before_starting_workers)
{
    expect_load_failure(PREFLIGHT, "entry", "-DFAKE_CRASH_IN_ENTRY", CRASHED);
}

LSGD_TEST(host_plugin_faults, run_refuses_a_plugin_whose_entry_point_calls_exit_0_before_starting_workers)
{
    expect_load_failure(PREFLIGHT, "quitter", "-DFAKE_EXIT_IN_ENTRY", EXITED);
}

LSGD_TEST(host_plugin_faults, a_worker_killed_while_loading_a_plugin_is_reported_naming_the_plugin)
{
    expect_load_failure(WORKER, "ctor", "-DFAKE_CRASH_IN_CONSTRUCTOR", "was killed by signal 11");
}

LSGD_TEST(host_plugin_faults, a_worker_whose_entry_point_crashes_is_reported_naming_the_plugin)
{
    expect_load_failure(WORKER, "entry", "-DFAKE_CRASH_IN_ENTRY", "was killed by signal 11");
}

LSGD_TEST(host_plugin_faults, a_worker_exiting_0_while_loading_a_plugin_fails_the_run_naming_the_plugin)
{
    expect_load_failure(WORKER, "quitter", "-DFAKE_EXIT_IN_ENTRY",
                        "exited with status 0 before finishing its run");
}
