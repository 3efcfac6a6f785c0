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

LSGD_TEST(host_plugin_faults, a_scaling_create_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "mute.so",
                                     "-DFAKE_NAME='\"mute\"' -DFAKE_CREATE_FAILS=3"), 0);
    fake_manifest(dir, "mute.json", "mute", "1.0.0", "mute.so", NULL, NULL);
    const char *config = fake_run_config(dir, "run.json", 1, "mute", NULL);
    expect_runtime_error(run_cmd(config), "scaling plugin 'mute'", "mute.so",
                         "create failed with code 3 and no message", NULL);
}

LSGD_TEST(host_plugin_faults, a_scaling_step_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "mute.so",
                                     "-DFAKE_NAME='\"mute\"' -DFAKE_STEP_FAILS=3"), 0);
    fake_manifest(dir, "mute.json", "mute", "1.0.0", "mute.so", NULL, NULL);
    const char *config = fake_run_config(dir, "run.json", 1, "mute", NULL);
    expect_runtime_error(run_cmd(config), "scaling plugin 'mute'",
                         "step 1 failed with code 3 and no message", NULL);
}

LSGD_TEST(host_plugin_faults, a_transport_allreduce_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_transport.c", "faketransport.so",
                                     "-DFAKE_ALLREDUCE_FAILS=3"), 0);
    fake_transport_manifest(dir, "faketransport.json", "faketransport", "faketransport.so");
    const char *config = fake_run_config(dir, "run.json", 1, NULL, "faketransport");
    expect_runtime_error(run_cmd(config), "transport plugin 'faketransport' rank 0",
                         "allreduce_mean failed with code 3 and no message", NULL);
}

LSGD_TEST(host_plugin_faults, a_transport_open_failing_without_a_message_stops_the_run_naming_plugin_and_op)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_transport.c", "faketransport.so",
                                     "-DFAKE_OPEN_FAILS=-1"), 0);
    fake_transport_manifest(dir, "faketransport.json", "faketransport", "faketransport.so");
    const char *config = fake_run_config(dir, "run.json", 1, NULL, "faketransport");
    expect_runtime_error(run_cmd(config), "transport plugin 'faketransport' rank 0",
                         "open failed with code -1 and no message", NULL);
}

/* ---- plugins that crash or exit while loading ---- */

LSGD_TEST(host_plugin_faults, plugins_check_reports_a_plugin_whose_constructor_crashes_naming_the_signal)
{
    HOST_TMPDIR(dir);
    faulty_plugin(dir, "ctor", "-DFAKE_CRASH_IN_CONSTRUCTOR");
    char so[1100];
    snprintf(so, sizeof so, "%s/ctor.so", dir);
    expect_input_error(check_cmd(so), "scaling plugin 'ctor'", "ctor.so",
                       "crashed while being loaded: killed by signal 11", NULL);
}

LSGD_TEST(host_plugin_faults, plugins_check_reports_a_plugin_whose_entry_point_crashes_naming_the_signal)
{
    HOST_TMPDIR(dir);
    faulty_plugin(dir, "entry", "-DFAKE_CRASH_IN_ENTRY");
    char so[1100];
    snprintf(so, sizeof so, "%s/entry.so", dir);
    expect_input_error(check_cmd(so), "scaling plugin 'entry'", "entry.so",
                       "crashed while being loaded: killed by signal 11", NULL);
}

LSGD_TEST(host_plugin_faults, plugins_check_reports_a_plugin_whose_entry_point_calls_exit_0_as_a_failure)
{
    HOST_TMPDIR(dir);
    faulty_plugin(dir, "quitter", "-DFAKE_EXIT_IN_ENTRY");
    char so[1100];
    snprintf(so, sizeof so, "%s/quitter.so", dir);
    expect_input_error(check_cmd(so), "scaling plugin 'quitter'", "quitter.so",
                       "exited with status 0 while being loaded", NULL);
}

LSGD_TEST(host_plugin_faults, run_refuses_a_plugin_whose_constructor_crashes_before_starting_workers)
{
    HOST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "ctor", "-DFAKE_CRASH_IN_CONSTRUCTOR");
    expect_input_error(run_cmd(config), "scaling plugin 'ctor'", "ctor.so", "signal 11", NULL);
}

LSGD_TEST(host_plugin_faults, run_refuses_a_plugin_whose_entry_point_crashes_before_starting_workers)
{
    HOST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "entry", "-DFAKE_CRASH_IN_ENTRY");
    expect_input_error(run_cmd(config), "scaling plugin 'entry'", "entry.so", "signal 11", NULL);
}

LSGD_TEST(host_plugin_faults, run_refuses_a_plugin_whose_entry_point_calls_exit_0_before_starting_workers)
{
    HOST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "quitter", "-DFAKE_EXIT_IN_ENTRY");
    expect_input_error(run_cmd(config), "scaling plugin 'quitter'", "quitter.so",
                       "exited with status 0 while being loaded", NULL);
}

LSGD_TEST(host_plugin_faults, a_worker_killed_while_loading_a_plugin_is_reported_naming_the_plugin)
{
    HOST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "ctor", "-DFAKE_CRASH_IN_CONSTRUCTOR -DFAKE_ONLY_IN_WORKER");
    expect_runtime_error(run_cmd(config), "was killed by signal 11",
                         "while loading scaling plugin 'ctor'", "ctor.so", NULL);
}

LSGD_TEST(host_plugin_faults, a_worker_whose_entry_point_crashes_is_reported_naming_the_plugin)
{
    HOST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "entry", "-DFAKE_CRASH_IN_ENTRY -DFAKE_ONLY_IN_WORKER");
    expect_runtime_error(run_cmd(config), "was killed by signal 11",
                         "while loading scaling plugin 'entry'", "entry.so", NULL);
}

LSGD_TEST(host_plugin_faults, a_worker_exiting_0_while_loading_a_plugin_fails_the_run_naming_the_plugin)
{
    HOST_TMPDIR(dir);
    const char *config = faulty_plugin(dir, "quitter", "-DFAKE_EXIT_IN_ENTRY -DFAKE_ONLY_IN_WORKER");
    expect_runtime_error(run_cmd(config), "exited with status 0 before finishing its run",
                         "while loading scaling plugin 'quitter'", "quitter.so", NULL);
}
