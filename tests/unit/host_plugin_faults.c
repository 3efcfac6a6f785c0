/*
 * host_plugin_faults.c — FAKE plugins that misbehave at run time, through
 * the real binary: an op that returns a failure code without setting a
 * message is still a failure (exit 1, one line naming the plugin and the
 * op), for the scaling plugin's create and step and the transport's
 * allreduce_mean.
 */
#include <string.h>

#include "harness.h"
#include "host_fakes.h"

static char cmd[8192];

static const char *run_cmd(const char *config)
{
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' run '%s'", lsgd_bin(), config);
    return cmd;
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
