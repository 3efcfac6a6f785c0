/*
 * shm.c — the shared-memory transport, with real processes and real
 * /dev/shm segments: correct rank-ordered means, a dead peer reported by
 * rank within the timeout, no segment left behind (not even by a rank 0
 * killed while it waited for its peers), clear refusals.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "lsgd/transport.h"
#include "transport_peer.h"

/* Three ranks run the collectives check (transport_peer.c) with these
 * params: none fails, and no segment is left behind. */
static void three_ranks_pass_the_collectives(const char *tag, const char *params)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", tag);
    peer_run run;
    peer_spawn(&run, "shm", 3, 3, id, params, "collectives", dir, 60);
    CU_ASSERT_EQUAL(peer_failed_ranks(&run, "shm"), 0);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    peer_run_free(&run);
}

LSGD_TEST(shm, three_ranks_average_broadcast_and_barrier_exactly_in_rank_order)
{
    /* 16 KiB slots: the 300007 floats go through 19 chunks */
    three_ranks_pass_the_collectives("collectives", "{\"chunk_bytes\": 65536, \"timeout_s\": 20}");
}

LSGD_TEST(shm, hundreds_of_chunks_through_the_ring_of_four_average_exactly_in_rank_order)
{
    /* 4 KiB slots: 300007 floats are 293 chunks per call, each ring entry
     * reused ~73 times while three ranks on two cores drift apart */
    three_ranks_pass_the_collectives("ring", "{\"chunk_bytes\": 4096, \"timeout_s\": 20}");
}

LSGD_TEST(shm, a_peer_killed_during_allreduce_fails_the_others_naming_its_rank)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", "killed");
    peer_run run;
    peer_spawn(&run, "shm", 3, 3, id, "{\"timeout_s\": 10}", "die", dir, 30);
    CU_ASSERT_EQUAL(run.status[2], 128 + 9);
    for (int r = 0; r < 2; r++) {
        CU_ASSERT_EQUAL(run.status[r], 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(run.err[r], "rank 2"));
        CU_ASSERT_PTR_NOT_NULL(strstr(run.err[r], "allreduce_mean"));
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(run.err[0], "died") ? run.err[0] : strstr(run.err[1], "died"));
    CU_ASSERT(run.seconds < 5); /* found by the pid check, not by the 10 s timeout */
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    peer_run_free(&run);
}

LSGD_TEST(shm, a_peer_that_arrives_last_and_exits_at_once_is_not_taken_for_a_dead_one)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", "exits");
    peer_run run;
    /* fault injection: rank 0 sees rank 1 missing at the barrier, then
     * looks at its pid a second later, when rank 1 has come, passed the
     * barrier and exited */
    setenv("LSGD_FAULT_SHM_LOOK_GAP_S", "1", 1);
    peer_spawn(&run, "shm", 2, 2, id, "{\"timeout_s\": 20}", "last_rank_late", dir, 30);
    unsetenv("LSGD_FAULT_SHM_LOOK_GAP_S");
    CU_ASSERT_EQUAL(run.status[0], 0);
    CU_ASSERT_EQUAL(run.status[1], 0);
    CU_ASSERT_PTR_NULL(strstr(run.err[0], "died"));
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    peer_run_free(&run);
}

LSGD_TEST(shm, a_peer_that_never_arrives_is_a_timeout_at_open_naming_it)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", "absent");
    peer_run run;
    peer_spawn(&run, "shm", 3, 2, id, "{\"timeout_s\": 1}", "open_only", dir, 20);
    for (int r = 0; r < 2; r++) {
        CU_ASSERT_EQUAL(run.status[r], 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(run.err[r], "rank 2 never arrived"));
        CU_ASSERT_PTR_NOT_NULL(strstr(run.err[r], "timed out after 1 s"));
    }
    CU_ASSERT(run.seconds < 10);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    peer_run_free(&run);
}

LSGD_TEST(shm, a_rank_started_with_another_world_size_is_refused_at_open)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", "worlds");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' --transport-peer shm 0 2 %s '{\"timeout_s\": 2}' open_only %s/o0 & "
             "sleep 0.3; '%s' --transport-peer shm 1 3 %s '{\"timeout_s\": 2}' open_only %s/o1; "
             "echo \"rank1=$?\"; wait $!; echo \"rank0=$?\"",
             peer_self_exe(), id, dir, peer_self_exe(), id, dir);
    test_output o = test_run(cmd, 20);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "rank1=2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "started with world 2 by rank 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "this rank was given world 3"));
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    test_output_free(&o);
}

LSGD_TEST(shm, the_cleanup_extension_removes_a_dead_runs_segment)
{
    const char *id = peer_run_id("shm", "leftover");
    char name[128];
    snprintf(name, sizeof name, "/lsgd-%s", id);
    int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 1);

    void *h = dlopen(test_build_path("plugins/shm.so"), RTLD_NOW | RTLD_LOCAL);
    CU_ASSERT_FATAL(h != NULL);
    const lsgd_plugin *p = ((lsgd_plugin_entry_fn)dlsym(h, LSGD_ENTRY_SYMBOL))();
    lsgd_transport_cleanup_fn cleanup =
        (lsgd_transport_cleanup_fn)p->get_extension(LSGD_EXT_TRANSPORT_CLEANUP);
    CU_ASSERT_FATAL(cleanup != NULL);
    cleanup(id);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    CU_ASSERT_PTR_NULL(p->get_extension("lsgd.no.such.extension"));
    dlclose(h);
}

/* Compressed payloads travel by allgather: shm has it natively (one pass
 * through the ring, which the collectives tests above check bit for bit),
 * not through the host's world broadcasts in turn. */
LSGD_TEST(shm, shm_offers_a_native_allgather_op)
{
    void *h = dlopen(test_build_path("plugins/shm.so"), RTLD_NOW | RTLD_LOCAL);
    CU_ASSERT_FATAL(h != NULL);
    const lsgd_plugin *p = ((lsgd_plugin_entry_fn)dlsym(h, LSGD_ENTRY_SYMBOL))();
    const lsgd_transport_ops *ops = p->ops;
    CU_ASSERT(LSGD_HAS_OP(ops, lsgd_transport_ops, allgather));
    dlclose(h);
}

/* The segment of a world of `world` as rank 0 made it, in bytes (0 when
 * it never appeared): rank 0 alone, stopped while it waits for the rest. */
static long segment_size(int world, const char *id)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' --transport-peer shm 0 %d %s '{\"timeout_s\": 20}' open_only /dev/null "
             "2>/dev/null & p=$!; size=0;"
             " for i in $(seq 400); do [ -e /dev/shm/lsgd-%s ] && size=$(stat -c %%s /dev/shm/lsgd-%s)"
             " && break; sleep 0.025; done; kill -9 $p; wait $p 2>/dev/null; echo $size",
             peer_self_exe(), world, id, id, id);
    test_output o = test_run(cmd, 30);
    long size = atol(o.out);
    test_output_free(&o);
    char name[128];
    snprintf(name, sizeof name, "/lsgd-%s", id);
    shm_unlink(name);
    return size;
}

LSGD_TEST(shm, the_ring_of_many_ranks_stays_within_16_mib_and_of_few_keeps_its_chunk_bytes)
{
    long header_max = 1 << 20; /* pids, barrier words, progress lines */
    long many = segment_size(64, peer_run_id("shm", "ring64"));
    long few = segment_size(2, peer_run_id("shm", "ring2"));
    CU_ASSERT(many > 16 << 20 && many <= (16 << 20) + header_max); /* not 4 × 65 × 512 KiB */
    CU_ASSERT(few > 4 * 3 * 524288 && few <= 4 * 3 * 524288 + header_max);
    if (!(many > 16 << 20 && many <= (16 << 20) + header_max) ||
        !(few > 4 * 3 * 524288 && few <= 4 * 3 * 524288 + header_max))
        fprintf(stderr, "\n  segments: world 64 %ld bytes, world 2 %ld bytes\n", many, few);
}

LSGD_TEST(shm, a_stale_segment_of_a_crashed_run_with_the_same_id_is_replaced)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", "stale");
    char name[128];
    snprintf(name, sizeof name, "/lsgd-%s", id);
    int fd = shm_open(name, O_CREAT | O_RDWR, 0600); /* junk, no live owner */
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(ftruncate(fd, 1 << 20), 0);
    close(fd);
    peer_run run;
    peer_spawn(&run, "shm", 2, 2, id, "{\"timeout_s\": 5}", "open_only", dir, 20);
    CU_ASSERT_EQUAL(run.status[0], 0);
    CU_ASSERT_EQUAL(run.status[1], 0);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    peer_run_free(&run);
}

/* `lsgd worker` as rank 0 of a world of 2 with run id `id`, SIGKILLed once
 * its segment exists (it waits for rank 1, who never comes): 1 when the
 * segment was left behind. */
static int kill_a_waiting_rank_0(const char *id, const char *dir)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && LSGD_RUN_ID=%s '%s' worker '%s' --rank 0 --world 2"
             " --set output.dir=%s/killed & p=$!;"
             " for i in $(seq 200); do [ -e /dev/shm/lsgd-%s ] && break; sleep 0.05; done;"
             " kill -9 $p; wait $p; [ -e /dev/shm/lsgd-%s ] && echo left",
             dir, id, test_build_path("bin/lsgd"),
             test_root_path("tests/data/transports/quadratic-shm.json"), dir, id, id);
    test_output o = test_run(cmd, 30);
    int left = strstr(o.out, "left") != NULL;
    test_output_free(&o);
    return left;
}

LSGD_TEST(shm, a_hand_started_rank_killed_while_it_waits_leaves_a_segment_the_next_run_of_its_id_replaces)
{
    const char *dir = test_tmpdir(), *id = peer_run_id("shm", "handkilled");
    CU_ASSERT_FATAL(kill_a_waiting_rank_0(id, dir));
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run '%s' --set run_id=%s --set output.dir=%s/again",
             dir, test_build_path("bin/lsgd"),
             test_root_path("tests/data/transports/quadratic-shm.json"), id, dir);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "\n  %s\n", o.err);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    test_output_free(&o);
}

/* A run of its own id (2 ranks: open, barrier) in dir: rank 0's stderr
 * (malloc'd), or NULL when a rank failed. */
static char *another_run_opens(const char *dir, const char *tag)
{
    peer_run run;
    peer_spawn(&run, "shm", 2, 2, peer_run_id("shm", tag), "{\"timeout_s\": 10}", "open_only",
               dir, 20);
    char *err0 = peer_failed_ranks(&run, "shm") == 0 ? strdup(run.err[0]) : NULL;
    peer_run_free(&run);
    return err0;
}

LSGD_TEST(shm, a_segment_whose_rank_0_died_is_removed_when_a_run_of_another_id_opens)
{
    const char *dir = test_tmpdir(), *stale = peer_run_id("shm", "stale-other");
    CU_ASSERT_FATAL(kill_a_waiting_rank_0(stale, dir));
    CU_ASSERT_EQUAL_FATAL(peer_shm_leftover(stale), 1);
    char *err0 = another_run_opens(dir, "sweeper");
    CU_ASSERT_PTR_NOT_NULL_FATAL(err0);
    CU_ASSERT_EQUAL(peer_shm_leftover(stale), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err0, "left behind by a run whose rank 0"));
    free(err0);
}

LSGD_TEST(shm, a_segment_whose_rank_0_lives_is_left_alone_by_other_runs)
{
    const char *dir = test_tmpdir(), *live = peer_run_id("shm", "live"), *d2 = test_tmpdir();
    /* rank 0 of a world of 2 waits (its segment named, its pid alive) */
    int waiting = peer_start("shm", 0, 2, live, "{\"timeout_s\": 5}", "open_only", dir);
    for (int i = 0; i < 200 && !peer_shm_leftover(live); i++)
        usleep(20000);
    CU_ASSERT_EQUAL_FATAL(peer_shm_leftover(live), 1);
    char *err0 = another_run_opens(d2, "neighbour");
    CU_ASSERT_PTR_NOT_NULL(err0);
    CU_ASSERT_EQUAL(peer_shm_leftover(live), 1);
    free(err0);
    int late = peer_start("shm", 1, 2, live, "{\"timeout_s\": 5}", "open_only", dir);
    char *e0, *e1;
    CU_ASSERT_EQUAL(peer_wait(late, dir, 1, 20, &e1), 0);
    CU_ASSERT_EQUAL(peer_wait(waiting, dir, 0, 20, &e0), 0);
    CU_ASSERT_EQUAL(peer_shm_leftover(live), 0);
    free(e0);
    free(e1);
}
