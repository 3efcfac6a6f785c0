/*
 * transport.c — what holds for every transport: the same inputs give a
 * bitwise identical mean on shm, zmq (tcp and ipc) and mpi, and so does a
 * whole training run; a transport parameter out of range stops `lsgd run`
 * with exit 2 before any worker starts; the host layer emulates a slow
 * link, averages (and all-gathers) on a helper thread and counts calls,
 * bytes and seconds; SIGTERM stops a worker that waits for a stopped peer
 * at once (shm, zmq; also inside compressed overlap's background
 * exchange), and the resume is bitwise.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "host/registry.h"
#include "host/transport_host.h"
#include "transport_peer.h"

/* Root may run mpirun here; 3 ranks on 2 cores need oversubscription.
 * Open MPI does not free its own allocations at MPI_Finalize, so leak
 * checking (SAN=1 builds) is off for processes under mpirun. */
static const char *mpirun_env =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
    "ASAN_OPTIONS=detect_leaks=0";

/* `collectives` on `world` ranks of mpi under mpirun (LSGD_PEER_N passed
 * on), means into out_dir/out.<rank>; returns mpirun's status, printing
 * its stderr after `label` when it failed. */
static int mpirun_collectives(int world, const char *run_id, const char *out_dir,
                              const char *label)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "%s mpirun %s -n %d '%s' --transport-peer mpi env %d %s "
             "'{\"timeout_s\": 30}' collectives %s",
             mpirun_env, getenv("LSGD_PEER_N") ? "-x LSGD_PEER_N" : "", world, peer_self_exe(),
             world, run_id, out_dir);
    test_output o = test_run(cmd, 60);
    int status = o.status;
    if (status)
        fprintf(stderr, "%s mpirun: %s\n", label, o.err);
    test_output_free(&o);
    return status;
}

static char *mean_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *b = test_read_file(path, len);
    if (!b)
        fprintf(stderr, "missing %s\n", path);
    return b;
}

LSGD_TEST(transport, the_inputs_of_the_determinism_test_depend_on_summation_order)
{
    enum { N = 100000 };
    float *x[3], fwd[N], rev[N];
    for (int r = 0; r < 3; r++) {
        x[r] = malloc(N * sizeof(float));
        peer_input(x[r], N, r);
    }
    int differ = 0;
    for (int i = 0; i < N; i++) {
        fwd[i] = ((x[0][i] + x[1][i]) + x[2][i]) / 3.0f;
        rev[i] = ((x[2][i] + x[1][i]) + x[0][i]) / 3.0f;
        differ += fwd[i] != rev[i];
    }
    CU_ASSERT(differ > N / 100); /* so a transport summing in another order would fail */
    for (int r = 0; r < 3; r++)
        free(x[r]);
}

LSGD_TEST(transport, the_same_inputs_give_bitwise_identical_means_on_shm_zmq_and_mpi)
{
    const char *dir = test_tmpdir();
    char ipc[1024], tcp[256];
    snprintf(ipc, sizeof ipc, "{\"coordinator\": \"ipc://%s/c\", \"frame_size\": 1048576}", dir);
    snprintf(tcp, sizeof tcp, "{\"coordinator\": \"tcp://127.0.0.1:%d\"}", peer_free_port());
    const struct { const char *plugin, *params, *sub; } runs[] = {
        {"shm", "{\"chunk_bytes\": 262144}", "shm"},
        {"zmq", tcp, "tcp"},
        {"zmq", ipc, "ipc"},
    };
    for (size_t i = 0; i < 3; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, runs[i].sub);
        mkdir(sub, 0700);
        char id[64];
        snprintf(id, sizeof id, "det-%d-%s", (int)getpid(), runs[i].sub);
        peer_run run;
        peer_spawn(&run, runs[i].plugin, 3, 3, id, runs[i].params, "collectives", sub, 60);
        CU_ASSERT_EQUAL(peer_failed_ranks(&run, runs[i].sub), 0);
        peer_run_free(&run);
    }
    char mpi_dir[4096];
    snprintf(mpi_dir, sizeof mpi_dir, "%s/mpi", dir);
    CU_ASSERT_EQUAL(mpirun_collectives(3, "det-mpi", mpi_dir, "determinism"), 0);

    size_t len0, len;
    char *ref = mean_file(dir, "shm/out.0", &len0);
    CU_ASSERT_FATAL(ref != NULL && len0 == 300007 * sizeof(float));
    const char *others[] = {"shm/out.1", "shm/out.2", "tcp/out.0", "tcp/out.2", "ipc/out.1",
                            "mpi.0", "mpi.2"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *b = mean_file(dir, others[i], &len);
        CU_ASSERT(b && len == len0 && memcmp(b, ref, len0) == 0);
        free(b);
    }
    free(ref);
}

/* Run `collectives` on 3 ranks of every transport with vectors of n floats
 * (LSGD_PEER_N); each rank checks its means bitwise against x₀ + x₁ + x₂
 * then ÷ 3; returns how many runs failed. */
static int collectives_everywhere(const char *dir, const char *n, const char *tag)
{
    char ipc[1024], tcp[256];
    snprintf(ipc, sizeof ipc, "{\"coordinator\": \"ipc://%s/c-%s\", \"frame_size\": 4096}", dir,
             tag);
    snprintf(tcp, sizeof tcp, "{\"coordinator\": \"tcp://127.0.0.1:%d\", \"frame_size\": 4096}",
             peer_free_port());
    const struct { const char *plugin, *params; } runs[] = {
        {"shm", "{\"chunk_bytes\": 4096}"}, {"zmq", tcp}, {"zmq", ipc}};
    setenv("LSGD_PEER_N", n, 1);
    int failed = 0;
    for (size_t i = 0; i < 3; i++) {
        char id[64];
        snprintf(id, sizeof id, "len-%d-%s-%zu", (int)getpid(), tag, i);
        peer_run run;
        peer_spawn(&run, runs[i].plugin, 3, 3, id, runs[i].params, "collectives", dir, 60);
        char label[1200];
        snprintf(label, sizeof label, "n=%s %s", n, runs[i].params);
        failed += peer_failed_ranks(&run, label);
        peer_run_free(&run);
    }
    char mpi_dir[4096], label[64];
    snprintf(mpi_dir, sizeof mpi_dir, "%s/mpi-%s", dir, tag);
    snprintf(label, sizeof label, "n=%s", n);
    failed += mpirun_collectives(3, "len-mpi", mpi_dir, label) != 0;
    unsetenv("LSGD_PEER_N");
    return failed;
}

LSGD_TEST(transport, vectors_shorter_than_the_world_or_cut_unevenly_average_exactly_everywhere)
{
    const char *dir = test_tmpdir();
    /* 2 floats on 3 ranks: rank 0 owns nothing; 2051 floats: slices of
     * 683/684 floats over 1024-float chunks and frames, ending mid-frame */
    CU_ASSERT_EQUAL(collectives_everywhere(dir, "2", "two"), 0);
    CU_ASSERT_EQUAL(collectives_everywhere(dir, "2051", "odd"), 0);
}

LSGD_TEST(transport, worlds_of_two_and_four_divide_exactly_as_by_m_on_shm_zmq_and_mpi)
{
    /* a power-of-two world multiplies by 1/M, which must round exactly
     * like the division x / M of the reference */
    const char *dir = test_tmpdir();
    for (int world = 2; world <= 4; world += 2) {
        char tcp[256], id[64];
        snprintf(tcp, sizeof tcp, "{\"coordinator\": \"tcp://127.0.0.1:%d\"}", peer_free_port());
        const char *plugins[] = {"shm", "zmq"}, *params[] = {"{}", tcp};
        for (int i = 0; i < 2; i++) {
            snprintf(id, sizeof id, "pow2-%d-%s-%d", (int)getpid(), plugins[i], world);
            peer_run run;
            peer_spawn(&run, plugins[i], world, world, id, params[i], "collectives", dir, 60);
            char label[64];
            snprintf(label, sizeof label, "%s world %d", plugins[i], world);
            CU_ASSERT_EQUAL(peer_failed_ranks(&run, label), 0);
            peer_run_free(&run);
        }
    }
    char mpi_dir[4096];
    snprintf(mpi_dir, sizeof mpi_dir, "%s/mpi", dir);
    CU_ASSERT_EQUAL(mpirun_collectives(2, "pow2-mpi", mpi_dir, "world 2"), 0);
}

static const char quadratic_cfg[] =
    "{\"seed\": 3, \"workers\": 3,\n"
    " \"model\": {\"type\": \"quadratic\", \"problem\": \"dense\", \"dim\": 64},\n"
    " \"algorithm\": {\"type\": \"local_sgd\", \"steps\": 120, \"lr\": 0.0005},\n"
    " \"schedule\": {\"type\": \"constant\", \"period\": 4},\n"
    " \"transport\": {\"plugin\": \"shm\"},\n"
    " \"output\": {\"progress\": \"none\"}}\n";

LSGD_TEST(transport, a_training_run_gives_the_same_model_bitwise_on_shm_zmq_and_mpi)
{
    const char *dir = test_tmpdir();
    const char *cfg = test_write_file(dir, "quad.json", quadratic_cfg);
    const char *lsgd = test_build_path("bin/lsgd");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' run %s --set output.dir=%s/shm && "
             "'%s' run %s --set output.dir=%s/zmq --set transport.plugin=zmq "
             "--set transport.params.coordinator=tcp://127.0.0.1:%d && "
             "%s mpirun -n 3 '%s' run %s --set output.dir=%s/mpi --set transport.plugin=mpi",
             lsgd, cfg, dir, lsgd, cfg, dir, peer_free_port(), mpirun_env, lsgd, cfg, dir);
    test_output o = test_run(cmd, 90);
    int status = o.status;
    if (status)
        fprintf(stderr, "%s\n", o.err);
    test_output_free(&o);
    CU_ASSERT_EQUAL_FATAL(status, 0);
    size_t a, b, c;
    char *shm = mean_file(dir, "shm/model.npy", &a), *zmq = mean_file(dir, "zmq/model.npy", &b);
    char *mpi = mean_file(dir, "mpi/model.npy", &c);
    CU_ASSERT_FATAL(shm && zmq && mpi);
    CU_ASSERT(a == b && a == c && a > 64 * sizeof(float));
    CU_ASSERT(memcmp(shm, zmq, a) == 0);
    CU_ASSERT(memcmp(shm, mpi, a) == 0);
    free(shm);
    free(zmq);
    free(mpi);
}

LSGD_TEST(transport, a_transport_param_out_of_range_exits_2_before_any_worker_starts)
{
    const char *dir = test_tmpdir();
    const char *cfg = test_write_file(dir, "quad.json", quadratic_cfg);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' run %s --set output.dir=%s/out --set transport.plugin=zmq "
             "--set transport.params.frame_size=12",
             test_build_path("bin/lsgd"), cfg, dir);
    test_output o = test_run(cmd, 20);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "transport.params.frame_size"));
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    struct stat st;
    char out[4096];
    snprintf(out, sizeof out, "%s/out", dir);
    CU_ASSERT_NOT_EQUAL(stat(out, &st), 0); /* no worker ran: no output directory */
    test_output_free(&o);

    snprintf(cmd, sizeof cmd, "'%s' validate %s --set transport.params.timeout_s=0",
             test_build_path("bin/lsgd"), cfg);
    o = test_run(cmd, 20);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "transport.params.timeout_s"));
    test_output_free(&o);
}

/* ---- the host layer, on one rank ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static lsgd_transport *open_one(lsgd_registry *reg, const char *cfg_json, lsgd_error *err,
                                int *rc)
{
    static char id[64];
    snprintf(id, sizeof id, "host-%d-%ld", (int)getpid(), (long)(now_s() * 1e6));
    lsgd_transport_info info = {.struct_size = sizeof info, .rank = 0, .world = 1, .run_id = id};
    json_t *cfg = json_loads(cfg_json, 0, NULL);
    lsgd_transport *t = NULL;
    *rc = lsgd_registry_discover(reg, NULL, err);
    if (!*rc)
        *rc = lsgd_transport_open(&t, reg, cfg, &info, err);
    json_decref(cfg);
    return t;
}

LSGD_TEST(transport, the_delay_emulates_latency_plus_bandwidth_around_each_average)
{
    lsgd_registry reg;
    lsgd_error err;
    int rc;
    /* 20000 floats = 640000 bits at 16 Mbit/s = 40 ms, plus 30 ms latency */
    lsgd_transport *t = open_one(
        &reg, "{\"plugin\": \"shm\", \"delay\": {\"latency_ms\": 30, \"bandwidth_mbps\": 16}}",
        &err, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    float *x = calloc(20000, sizeof *x);
    double t0 = now_s();
    CU_ASSERT_EQUAL(lsgd_transport_allreduce_mean(t, x, 20000, &err), 0);
    double took = now_s() - t0;
    CU_ASSERT(took >= 0.070 && took < 0.5);
    t0 = now_s();
    CU_ASSERT_EQUAL(lsgd_transport_barrier(t, &err), 0);
    took = now_s() - t0;
    CU_ASSERT(took >= 0.030 && took < 0.3);
    lsgd_transport_stats st;
    lsgd_transport_stats_get(t, &st);
    CU_ASSERT_EQUAL(st.calls, 2);
    CU_ASSERT(st.seconds >= 0.1);
    lsgd_transport_close(t);
    lsgd_registry_free(&reg);
    free(x);
}

static float average_data[4], gather_parts[3], gather_report[2];

static int post_average(lsgd_transport *t, lsgd_error *err)
{
    return lsgd_transport_iallreduce_mean(t, average_data, 4, err);
}

static int post_gather(lsgd_transport *t, lsgd_error *err)
{
    return lsgd_transport_iallgather_mean(t, gather_parts, 3, gather_report, 2, err);
}

/* On shm of one rank behind a 100 ms link, post returns at once, the
 * request stays pending and refuses another (either kind) until the wait,
 * which takes the link's time. */
static void expect_posted_in_the_background(int (*post)(lsgd_transport *, lsgd_error *))
{
    lsgd_registry reg;
    lsgd_error err;
    int rc;
    lsgd_transport *t =
        open_one(&reg, "{\"plugin\": \"shm\", \"delay\": {\"latency_ms\": 100}}", &err, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    double t0 = now_s();
    CU_ASSERT_EQUAL(post(t, &err), 0);
    CU_ASSERT(now_s() - t0 < 0.05); /* posted, not waited for */
    int done = 1;
    CU_ASSERT_EQUAL(lsgd_transport_test(t, &done, &err), 0);
    CU_ASSERT_EQUAL(done, 0);
    CU_ASSERT_EQUAL(post_average(t, &err), LSGD_ERR_RUNTIME);
    CU_ASSERT_EQUAL(post_gather(t, &err), LSGD_ERR_RUNTIME);
    CU_ASSERT_EQUAL(lsgd_transport_wait(t, &err), 0);
    CU_ASSERT(now_s() - t0 >= 0.1);
    CU_ASSERT_EQUAL(lsgd_transport_test(t, &done, &err), 0);
    CU_ASSERT_EQUAL(done, 1);
    lsgd_transport_close(t);
    lsgd_registry_free(&reg);
}

LSGD_TEST(transport, a_nonblocking_average_runs_on_a_helper_thread_while_the_caller_computes)
{
    memcpy(average_data, (float[4]){1, 2, 3, 4}, sizeof average_data);
    expect_posted_in_the_background(post_average);
    /* the mean of one rank is itself */
    CU_ASSERT(average_data[0] == 1 && average_data[3] == 4);
}

LSGD_TEST(transport, a_background_allgather_and_average_runs_on_the_helper_thread_while_the_caller_computes)
{
    memcpy(gather_parts, (float[3]){7, 8, 9}, sizeof gather_parts);
    memcpy(gather_report, (float[2]){1, 2}, sizeof gather_report);
    expect_posted_in_the_background(post_gather);
    CU_ASSERT(gather_parts[0] == 7 && gather_parts[2] == 9);
    CU_ASSERT(gather_report[0] == 1 && gather_report[1] == 2);
}

LSGD_TEST(transport, an_unknown_plugin_or_delay_key_is_bad_input_naming_the_config_key)
{
    lsgd_registry reg;
    lsgd_error err;
    int rc;
    lsgd_transport *t = open_one(&reg, "{\"plugin\": \"shmm\"}", &err, &rc);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(rc, LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "transport.plugin"));
    lsgd_registry_free(&reg);
    t = open_one(&reg, "{\"plugin\": \"shm\", \"delay\": {\"latency\": 3}}", &err, &rc);
    CU_ASSERT_EQUAL(rc, LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "transport.delay"));
    lsgd_registry_free(&reg);
    t = open_one(&reg, "{\"plugin\": \"shm\", \"params\": {\"chunk_bytes\": 1}}", &err, &rc);
    CU_ASSERT_EQUAL(rc, LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "transport.params.chunk_bytes"));
    lsgd_registry_free(&reg);
}

LSGD_TEST(transport, three_hosts_in_network_namespaces_train_like_one_host_bitwise)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", test_root_path("tests/netns/run-3host.sh"),
             peer_self_exe(), test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 90);
    if (o.status == 77) { /* not root, or no namespaces here: say so, prove nothing */
        fprintf(stderr, "\n  3-host namespace test %s", o.out);
    } else {
        if (o.status)
            fprintf(stderr, "%s%s\n", o.out, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "3 namespaces over tcp = one host over shm"));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "model.npy bitwise"));
    }
    test_output_free(&o);
}

/* ---- a signal while a peer is stopped ---- */

/* blobs-2-workers-slow-rounds.json: 100 rounds of about 20 ms each
 * (transport.delay), a checkpoint every round.  The --set arguments that
 * run it on `plugin` with timeout_s 60 into dir/<out>. */
static const char *stop_test_sets(const char *plugin, const char *dir, const char *out, int port,
                                  const char *extra)
{
    static char sets[2][4400];
    static int next;
    char *s = sets[next++ % 2], coordinator[128] = "";
    if (port > 0)
        snprintf(coordinator, sizeof coordinator,
                 " --set transport.params.coordinator=tcp://127.0.0.1:%d", port);
    snprintf(s, sizeof sets[0], "--set transport.plugin=%s --set transport.params.timeout_s=60 "
             "--set run_id=%s --set output.dir=%s/%s%s %s",
             plugin, peer_run_id("stop", plugin), dir, out, coordinator, extra);
    return s;
}

/* `lsgd worker CFG --rank r --world 2 SETS`, its stderr in dir/worker-<r>.err. */
static pid_t start_worker(int rank, const char *sets, const char *dir)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "exec '%s' worker '%s' --rank %d --world 2 %s >%s/worker-%d.out "
             "2>%s/worker-%d.err", test_build_path("bin/lsgd"),
             test_root_path("tests/data/transports/blobs-2-workers-slow-rounds.json"), rank, sets,
             dir, rank, dir, rank);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* waitpid for at most timeout_s, then SIGKILL: the exit status (128 +
 * signal when killed) and the seconds it took. */
static int wait_worker(pid_t pid, double timeout_s, double *seconds)
{
    double t0 = now_s();
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_s() - t0 > timeout_s) {
            kill(pid, SIGKILL);
            kill(pid, SIGCONT);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(5000);
    }
    *seconds = now_s() - t0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int file_exists_within(const char *path, double timeout_s)
{
    for (double t0 = now_s(); now_s() - t0 < timeout_s; usleep(20000))
        if (access(path, F_OK) == 0)
            return 1;
    return 0;
}

/* Two workers started by hand; once both have checkpointed, rank 1 is
 * SIGSTOPped, so rank 0 soon waits for it inside an average (timeout_s
 * 60); then rank 0 gets SIGTERM.  It must stop within 2 s, exit 1 with the
 * one line of a worker interrupted by a signal, and tell rank 1, which,
 * continued with a SIGTERM of its own, exits 1 too.  `lsgd run --resume`
 * then ends with the model of the uninterrupted run, bit for bit. */
static void sigterm_while_the_peer_is_stopped(const char *plugin, int zmq_port, const char *extra)
{
    const char *dir = test_tmpdir(), *lsgd = test_build_path("bin/lsgd");
    const char *cfg = test_root_path("tests/data/transports/blobs-2-workers-slow-rounds.json");
    char cmd[16384], path[4400], model[4400];
    snprintf(cmd, sizeof cmd, "'%s' run '%s' %s", lsgd, cfg,
             stop_test_sets(plugin, dir, "full", zmq_port, extra));
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);

    const char *sets = stop_test_sets(plugin, dir, "out", zmq_port, extra);
    pid_t rank0 = start_worker(0, sets, dir), rank1 = start_worker(1, sets, dir);
    snprintf(path, sizeof path, "%s/out/checkpoint/rank-1.prev.ckpt", dir);
    CU_ASSERT_TRUE(file_exists_within(path, 60));
    kill(rank1, SIGSTOP);
    usleep(300 * 1000); /* rank 0 reaches the next average (20 ms away) and waits */
    kill(rank0, SIGTERM);
    double seconds0, seconds1;
    int status0 = wait_worker(rank0, 10, &seconds0);
    kill(rank1, SIGTERM);
    kill(rank1, SIGCONT);
    int status1 = wait_worker(rank1, 10, &seconds1);

    snprintf(path, sizeof path, "%s/worker-0.err", dir);
    char *err0 = test_read_file(path, NULL);
    CU_ASSERT_EQUAL(status0, 1);
    CU_ASSERT(seconds0 < 2);
    CU_ASSERT_PTR_NOT_NULL(err0 ? strstr(err0, "worker 0 interrupted by a signal") : NULL);
    CU_ASSERT_EQUAL(err0 ? test_count_lines(err0) : 0, 1);
    CU_ASSERT_EQUAL(status1, 1);
    if (status0 != 1 || seconds0 >= 2 || status1 != 1)
        fprintf(stderr, "%s: rank 0 exited %d %.2f s after SIGTERM (%s), rank 1 %d\n", plugin,
                status0, seconds0, err0 ? err0 : "", status1);
    free(err0);

    snprintf(cmd, sizeof cmd, "'%s' run '%s' %s --resume", lsgd, cfg, sets);
    o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "--resume: %s%s", o.out, o.err);
    test_output_free(&o);
    snprintf(model, sizeof model, "%s/out/model.npy", dir);
    snprintf(path, sizeof path, "%s/full/model.npy", dir);
    CU_ASSERT_TRUE(test_same_file(model, path));
}

LSGD_TEST(transport, sigterm_stops_a_zmq_worker_waiting_for_a_stopped_peer_within_2_s_and_resume_is_bitwise)
{
    sigterm_while_the_peer_is_stopped("zmq", peer_free_port(), "");
}

LSGD_TEST(transport, sigterm_stops_a_shm_worker_waiting_for_a_stopped_peer_within_2_s_and_resume_is_bitwise)
{
    sigterm_while_the_peer_is_stopped("shm", 0, "");
}

/* Overlap with compression waits for its peer inside the background
 * all-gather on the helper thread. */
static const char *const compressed_overlap =
    "--set algorithm.type=overlap_local_sgd "
    "--set compression={\\\"plugin\\\":\\\"int8\\\",\\\"error_feedback\\\":true}";

LSGD_TEST(transport, sigterm_stops_a_compressed_overlap_worker_waiting_in_its_background_exchange_within_2_s_and_resume_is_bitwise)
{
    sigterm_while_the_peer_is_stopped("zmq", peer_free_port(), compressed_overlap);
    sigterm_while_the_peer_is_stopped("shm", 0, compressed_overlap);
}
