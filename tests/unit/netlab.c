/*
 * netlab.c — tools/netlab, a network of hosts on one machine: lsgd workers
 * in network namespaces over shaped links train the model one host trains,
 * bitwise, and a round takes at least the links' delay; the lab is gone
 * once netlab ends, also when it is terminated mid-run, and what a killed
 * netlab left is removed by the next.  Needs root (the
 * tests say why they prove nothing otherwise); bad arguments are refused
 * anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *quadratic(void) { return test_root_path("tests/data/transports/quadratic-3-workers.json"); }

/* Runs tools/netlab with `arguments`; a lab that cannot be built here
 * (status 77: not root, no namespaces) is reported and *skipped set. */
static test_output netlab(const char *arguments, int timeout_s, int *skipped)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' --lsgd '%s' %s", test_root_path("tools/netlab"),
             test_build_path("bin/lsgd"), arguments);
    test_output o = test_run(cmd, timeout_s);
    *skipped = o.status == 77;
    if (*skipped)
        fprintf(stderr, "\n  netlab test skipped: %s", o.out);
    return o;
}

/* "… 12.34 ms per round …" of netlab's summary; -1 when absent. */
static double ms_per_round(const char *out)
{
    const char *at = strstr(out, " ms per round");
    if (!at)
        return -1;
    while (at > out && (at[-1] == '.' || (at[-1] >= '0' && at[-1] <= '9')))
        at--;
    return atof(at);
}

LSGD_TEST(netlab, three_hosts_over_5_ms_lossy_links_train_the_one_host_model_bitwise_taking_5_ms_a_round)
{
    const char *dir = test_tmpdir();
    char arguments[4400], one[4400];
    snprintf(arguments, sizeof arguments,
             "--hosts 3 --delay 5 --jitter 1 --loss 0.5 --rate 100 --out '%s/lab' '%s'", dir,
             quadratic());
    int skipped;
    test_output o = netlab(arguments, 120, &skipped);
    if (!skipped) {
        if (o.status)
            fprintf(stderr, "%s%s\n", o.out, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        snprintf(one, sizeof one, "'%s' run '%s' --set output.dir='%s/one' > /dev/null",
                 test_build_path("bin/lsgd"), quadratic(), dir);
        test_output shm = test_run(one, 60);
        CU_ASSERT_EQUAL(shm.status, 0);
        test_output_free(&shm);
        char lab_model[4200], one_model[4200];
        snprintf(lab_model, sizeof lab_model, "%s/lab/run/model.npy", dir);
        snprintf(one_model, sizeof one_model, "%s/one/model.npy", dir);
        CU_ASSERT_TRUE(test_same_file(lab_model, one_model));
        double ms = ms_per_round(o.out);
        CU_ASSERT(ms >= 5);
        if (ms < 5)
            fprintf(stderr, "%.2f ms per round over 5 ms links: %s\n", ms, o.out);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "3 hosts on 10.231.0.0/24"));
    }
    test_output_free(&o);
}

LSGD_TEST(netlab, terminated_mid_run_netlab_stops_its_workers_and_removes_its_namespaces)
{
    const char *dir = test_tmpdir();
    char cmd[8192];
    /* a run of 10^6 steps over 20 ms links outlasts the test: stop it once
     * rank 1 has joined, then look for what the lab left */
    snprintf(cmd, sizeof cmd,
             "'%s' --lsgd '%s' --hosts 2 --delay 20 --out '%s/lab' '%s' --set algorithm.steps=1000000 "
             "> '%s/out' 2>&1 & lab=$!; "
             "for i in $(seq 200); do grep -qs joined '%s/lab/rank-1.log' && break; "
             "  grep -qs 'cannot run here' '%s/out' && { cat '%s/out'; exit 77; }; sleep 0.1; done; "
             "grep -qs joined '%s/lab/rank-1.log' || { echo 'rank 1 never joined'; cat '%s/out'; exit 1; }; "
             "kill -TERM $lab; wait $lab; echo \"netlab exited $?\"; "
             "echo \"namespaces left: $(ip netns list | grep -c \"^lsgdlab-$lab-\")\"; "
             "echo \"workers left: $(ps -eo args | grep -c '[o]utput.dir=%s/lab/run')\"",
             test_root_path("tools/netlab"), test_build_path("bin/lsgd"), dir, quadratic(), dir,
             dir, dir, dir, dir, dir, dir);
    test_output o = test_run(cmd, 60);
    if (o.status == 77) {
        fprintf(stderr, "\n  netlab test skipped: %s", o.out);
    } else {
        if (!strstr(o.out, "namespaces left: 0") || !strstr(o.out, "workers left: 0"))
            fprintf(stderr, "%s%s\n", o.out, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "netlab exited 143"));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "namespaces left: 0"));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "workers left: 0"));
    }
    test_output_free(&o);
}

LSGD_TEST(netlab, namespaces_left_by_a_killed_netlab_are_removed_by_the_next_one)
{
    const char *dir = test_tmpdir();
    /* no process has pid 99999999 (pid_max is at most 2^22) */
    test_output made = test_run("ip netns add lsgdlab-99999999-0", 10);
    char arguments[4400];
    int skipped;
    snprintf(arguments, sizeof arguments, "--hosts 1 --out '%s/lab' '%s'", dir, quadratic());
    test_output o = netlab(arguments, 60, &skipped);
    if (!skipped) {
        CU_ASSERT_EQUAL(made.status, 0);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "netlab: removed lsgdlab-99999999-0, left by netlab 99999999"));
        test_output left = test_run("ip netns list | grep -c '^lsgdlab-99999999-'", 10);
        CU_ASSERT_EQUAL(atoi(left.out), 0);
        test_output_free(&left);
    }
    test_output_free(&made);
    test_output_free(&o);
}

LSGD_TEST(netlab, a_loss_above_100_percent_or_a_jitter_above_the_delay_is_bad_input_naming_the_option)
{
    char arguments[4400];
    int skipped;
    snprintf(arguments, sizeof arguments, "--loss 150 '%s'", quadratic());
    test_output o = netlab(arguments, 10, &skipped);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--loss: '150' is more than 100 %"));
    test_output_free(&o);
    snprintf(arguments, sizeof arguments, "--delay 2 --jitter 3 '%s'", quadratic());
    o = netlab(arguments, 10, &skipped);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--jitter 3 is more than --delay 2"));
    test_output_free(&o);
}

LSGD_TEST(netlab, the_link_delay_program_refuses_a_queue_number_that_is_not_a_number)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "'%s' --queue two --delay 5", test_build_path("bin/lsgd-netlab-delay"));
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--queue: 'two' is not a number from 0 to 65535"));
    test_output_free(&o);
}
