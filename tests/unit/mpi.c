/*
 * mpi.c — the MPI transport under a real `mpirun`: rank-ordered means,
 * rank and world checked against MPI_COMM_WORLD, a killed rank ending the
 * job with an error instead of a hang, SIGTERM ending a rank's wait for a
 * stopped peer at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "transport_peer.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* `mpirun OPTIONS -n N` of the transport peer program.  rank_world: "env
 * 3" (rank from mpirun) or a fixed "R W".  With record_status each rank
 * runs under `sh -c`, which writes the rank's exit status to
 * dir/status.<rank> when the rank ends by itself (not when mpirun kills
 * the job). */
static test_output mpirun_peers(const char *options, int n, const char *rank_world,
                                const char *scenario, const char *params, const char *dir,
                                int record_status)
{
    char cmd[8192], wrapper[4400] = "";
    if (record_status)
        snprintf(wrapper, sizeof wrapper,
                 "sh -c '\"$0\" \"$@\"; echo $? > %s/status.$OMPI_COMM_WORLD_RANK' ", dir);
    /* leak checking off under mpirun: Open MPI keeps its allocations */
    snprintf(cmd, sizeof cmd,
             "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 "
             "mpirun --oversubscribe %s -n %d %s'%s' --transport-peer mpi %s mpi-run "
             "'%s' %s %s/out",
             options, n, wrapper, peer_self_exe(), rank_world, params, scenario, dir);
    return test_run(cmd, 60);
}

static test_output mpirun(int n, const char *rank_world, const char *scenario, const char *dir)
{
    return mpirun_peers("", n, rank_world, scenario, "{\"timeout_s\": 10}", dir, 0);
}

LSGD_TEST(mpi, three_mpi_processes_average_broadcast_and_barrier_exactly_in_rank_order)
{
    test_output o = mpirun(3, "env 3", "collectives", test_tmpdir());
    if (o.status)
        fprintf(stderr, "%s\n", o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
}

LSGD_TEST(mpi, a_world_size_that_disagrees_with_mpirun_is_bad_input)
{
    test_output o = mpirun(2, "0 3", "open_only", test_tmpdir());
    CU_ASSERT_NOT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "MPI_COMM_WORLD says rank"));
    test_output_free(&o);
}

/* Plain mpirun (Open MPI 4.1, as a user runs it): when rank 2 is SIGKILLed
 * in the middle of allreduces, mpirun itself aborts the job, killing ranks
 * 0 and 1 before they can say anything of their own (the transport's
 * timeout never comes into play).  What is asserted: the job fails, well
 * before the 10 s transport timeout, and mpirun's report names rank 2 and
 * signal 9.  The next test keeps the survivors alive to see what the
 * transport itself says. */
LSGD_TEST(mpi, a_killed_rank_makes_mpirun_end_the_job_at_once_naming_it)
{
    double t0 = now_s();
    test_output o = mpirun(3, "env 3", "die", test_tmpdir());
    double seconds = now_s() - t0;
    CU_ASSERT_NOT_EQUAL(o.status, 0);
    CU_ASSERT(seconds < 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "rank 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "signal 9") ? o.err : strstr(o.err, "Killed"));
    if (o.status == 0 || seconds >= 10 || !strstr(o.err, "rank 2"))
        fprintf(stderr, "after %.1f s, status %d: %s\n", seconds, o.status, o.err);
    test_output_free(&o);
}

/* With `mpirun --enable-recovery` the job is not aborted, so the survivors
 * must end by themselves: MPI over TCP reports no error for a dead peer,
 * so each survivor's allreduce_mean times out (timeout_s 2), names the
 * rank it was still waiting for and exits 1.  A survivor waits for the
 * first rank whose data is missing: rank 2, or (seen) a live rank stuck
 * behind rank 2, so at least one line, not every line, names rank 2.
 * mpirun's own status is 0 under recovery: the ranks' statuses are read
 * from the files the sh wrapper writes. */
LSGD_TEST(mpi, survivors_of_a_killed_rank_exit_1_within_the_timeout_naming_whom_they_awaited)
{
    const char *dir = test_tmpdir();
    double t0 = now_s();
    test_output o = mpirun_peers("--enable-recovery", 3, "env 3", "die", "{\"timeout_s\": 2}",
                                 dir, 1);
    double seconds = now_s() - t0;
    int status[3] = {-1, -1, -1};
    for (int r = 0; r < 3; r++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/status.%d", dir, r);
        char *text = test_read_file(path, NULL);
        if (text)
            sscanf(text, "%d", &status[r]);
        free(text);
    }
    CU_ASSERT_EQUAL(status[2], 128 + 9);
    for (int r = 0; r < 2; r++) {
        char line[128];
        snprintf(line, sizeof line, "mpi rank %d: allreduce_mean: timed out after 2 s waiting for rank ", r);
        CU_ASSERT_EQUAL(status[r], 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, line));
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "waiting for rank 2"));
    CU_ASSERT(seconds < 2 + 8); /* the timeout, mpirun's start and end */
    if (status[0] != 1 || status[1] != 1 || !strstr(o.err, "waiting for rank 2"))
        fprintf(stderr, "statuses %d %d %d after %.1f s: %s\n", status[0], status[1], status[2],
                seconds, o.err);
    test_output_free(&o);
}

/* Rank 1 is stopped (SIGSTOP) and rank 0 waits for it inside an allreduce
 * with timeout_s 60; SIGTERM to rank 0 (the host's stop request) ends that
 * wait within 2 s: rank 0 exits 1 saying it was asked to stop and whom it
 * was waiting for, and mpirun ends the job. */
LSGD_TEST(mpi, sigterm_ends_a_wait_for_a_stopped_rank_within_2_s_instead_of_the_timeout)
{
    const char *dir = test_tmpdir();
    test_output o = mpirun_peers("", 2, "env 2", "stopped_peer", "{\"timeout_s\": 60}", dir, 1);
    char path[4200];
    snprintf(path, sizeof path, "%s/status.0", dir);
    char *status0 = test_read_file(path, NULL);
    const char *ended = strstr(o.err, "allreduce_mean ended ");
    double seconds = 99;
    if (ended)
        sscanf(ended, "allreduce_mean ended %lf", &seconds);
    CU_ASSERT_PTR_NOT_NULL(status0 ? strstr(status0, "1") : NULL);
    CU_ASSERT(seconds < 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "mpi rank 0: allreduce_mean: asked to stop "
                                         "(SIGINT/SIGTERM) while waiting for rank 1"));
    if (seconds >= 2 || !strstr(o.err, "asked to stop"))
        fprintf(stderr, "status %d, rank 0's status %s: %s\n", o.status,
                status0 ? status0 : "none", o.err);
    free(status0);
    test_output_free(&o);
}
