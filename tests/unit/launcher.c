/*
 * launcher.c — starting the workers of a run: rank and world from the
 * environment of mpirun/srun, one run id for all workers, the failure of
 * one worker stopping the others and named by rank, SIGTERM forwarded, the
 * shm segment of a failed run removed.
 *
 * The workers of the first tests are a test-only fake (fake-worker.sh), so
 * that each fault can be injected on purpose: it records how it was
 * started and then does what FAKE_PLAN says for its rank ("1:exit3
 * 2:kill" …), telling the launcher through its report pipe what a real
 * worker tells it (the plugin it is loading, that its run finished).  The last tests drive the real `lsgd run` and its real
 * workers on shm: the launcher SIGKILLed (its workers must not train on)
 * and Ctrl-C (one line, a checkpoint that --resume finishes bitwise).
 * A transport whose manifest names the launchers of its workers
 * ("started_by", as mpi's does) is not started here: run says which.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "host/launcher.h"
#include "host_fakes.h"
#include "transport_peer.h"

static const char fake_worker[] =
    "#!/bin/sh\n"
    "# fake-worker.sh: test-only stand-in for `lsgd worker CONFIG --rank R --world N`\n"
    "rank=$4\n"
    "echo \"$@\" > \"$FAKE_DIR/args.$rank\"\n"
    "echo \"$LSGD_RUN_ID\" > \"$FAKE_DIR/run_id.$rank\"\n"
    "trap 'echo term > \"$FAKE_DIR/term.$rank\"; kill $! 2>/dev/null; exit 143' TERM\n"
    "report() { echo \"$1\" > /proc/self/fd/$LSGD_REPORT_FD; }\n"
    "case \" $FAKE_PLAN \" in\n"
    "  *\" $rank:ok \"*) report finished; exit 0 ;;\n"
    "  *\" $rank:exit0 \"*) sleep 0.2; exit 0 ;;\n"
    "  *\" $rank:loadkill \"*) report \"loading scaling plugin 'x' (/p/x.so)\"; sleep 0.2; kill -9 $$ ;;\n"
    "  *\" $rank:loaded \"*) report \"loading scaling plugin 'x' (/p/x.so)\"; report loaded;"
    " sleep 0.2; exit 3 ;;\n"
    "  *\" $rank:exit3 \"*) sleep 0.2; exit 3 ;;\n"
    "  *\" $rank:exit2 \"*) exit 2 ;;\n"
    "  *\" $rank:refuse \"*) echo \"lsgd: rank $rank refuses its input\" > /proc/self/fd/$LSGD_REPORT_FD;"
    " exit 2 ;;\n"
    "  *\" $rank:kill \"*) sleep 0.2; kill -9 $$ ;;\n"
    "  *\" $rank:shm \"*) : > /dev/shm/lsgd-$LSGD_RUN_ID; sleep 0.2; exit 1 ;;\n"
    "esac\n"
    "sleep 30 & wait $!\n";

static const char *setup_fake(const char *plan)
{
    const char *dir = test_tmpdir();
    const char *script = test_write_file(dir, "fake-worker.sh", fake_worker);
    chmod(script, 0755);
    setenv("FAKE_DIR", dir, 1);
    setenv("FAKE_PLAN", plan, 1);
    return dir;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int launch(const char *dir, int workers, const char *run_id, lsgd_error *err)
{
    char script[4096];
    snprintf(script, sizeof script, "%s/fake-worker.sh", dir);
    const char *sets[] = {"algorithm.steps=5"};
    lsgd_launch l = {.config_path = "cfg.json", .sets = sets, .n_sets = 1, .resume = 1,
                     .self_exe = script};
    json_t *cfg = json_pack("{s:i, s:{s:s}}", "workers", workers, "transport", "plugin", "shm");
    if (run_id)
        json_object_set_new(cfg, "run_id", json_string(run_id));
    lsgd_error_clear(err);
    int rc = lsgd_launch_run(&l, cfg, err);
    json_decref(cfg);
    return rc;
}

static char *file_text(const char *dir, const char *name, int rank)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%d", dir, name, rank);
    char *t = test_read_file(path, NULL);
    return t ? t : strdup("");
}

LSGD_TEST(launcher, rank_and_world_come_from_mpirun_slurm_or_lsgd_variables)
{
    const char *vars[] = {"LSGD_RANK", "LSGD_WORLD", "OMPI_COMM_WORLD_RANK",
                          "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_PROCID", "SLURM_NTASKS",
                          "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    int rank = -1, world = -1;
    CU_ASSERT_EQUAL(lsgd_launch_rank_from_env(&rank, &world), 0);
    setenv("SLURM_PROCID", "3", 1);
    setenv("SLURM_NTASKS", "8", 1);
    CU_ASSERT_EQUAL(lsgd_launch_rank_from_env(&rank, &world), 1);
    CU_ASSERT_EQUAL(rank, 3);
    CU_ASSERT_EQUAL(world, 8);
    setenv("OMPI_COMM_WORLD_RANK", "1", 1);
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    CU_ASSERT_EQUAL(lsgd_launch_rank_from_env(&rank, &world), 1);
    CU_ASSERT_EQUAL(rank, 1);
    CU_ASSERT_EQUAL(world, 2);
    setenv("LSGD_RANK", "0", 1);
    setenv("LSGD_WORLD", "5", 1);
    CU_ASSERT_EQUAL(lsgd_launch_rank_from_env(&rank, &world), 1);
    CU_ASSERT_EQUAL(world, 5);
    setenv("LSGD_RANK", "7", 1); /* rank ≥ world: not a rank */
    unsetenv("OMPI_COMM_WORLD_RANK");
    unsetenv("SLURM_PROCID");
    CU_ASSERT_EQUAL(lsgd_launch_rank_from_env(&rank, &world), 0);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

LSGD_TEST(launcher, every_worker_gets_its_rank_the_overrides_and_one_run_id)
{
    const char *dir = setup_fake("0:ok 1:ok 2:ok");
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 3, NULL, &err), 0);
    char *id0 = file_text(dir, "run_id", 0);
    CU_ASSERT(strlen(id0) > 2);
    for (int r = 0; r < 3; r++) {
        char *args = file_text(dir, "args", r), *id = file_text(dir, "run_id", r), want[128];
        snprintf(want, sizeof want, "worker cfg.json --rank %d --world 3 --set algorithm.steps=5 --resume\n", r);
        CU_ASSERT_STRING_EQUAL(args, want);
        CU_ASSERT_STRING_EQUAL(id, id0);
        free(args);
        free(id);
    }
    free(id0);
}

LSGD_TEST(launcher, a_worker_that_fails_stops_the_others_and_is_named_with_its_status)
{
    const char *dir = setup_fake("1:exit3");
    lsgd_error err;
    double t0 = now_s();
    CU_ASSERT_EQUAL(launch(dir, 3, "launcher-exit3", &err), 1);
    CU_ASSERT(now_s() - t0 < 10); /* the others (sleeping 30 s) were stopped */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "worker rank 1 of 3 exited with status 3"));
    char *t0s = file_text(dir, "term", 0), *t2s = file_text(dir, "term", 2);
    CU_ASSERT_STRING_EQUAL(t0s, "term\n");
    CU_ASSERT_STRING_EQUAL(t2s, "term\n");
    free(t0s);
    free(t2s);
}

LSGD_TEST(launcher, a_worker_exiting_0_without_saying_its_run_finished_fails_the_run)
{
    const char *dir = setup_fake("0:ok 1:exit0");
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 2, "launcher-exit0", &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "worker rank 1 of 2 exited with status 0 before "
                                               "finishing its run"));
}

LSGD_TEST(launcher, a_worker_that_dies_loading_a_plugin_is_named_with_the_plugin)
{
    const char *dir = setup_fake("1:loadkill");
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 2, "launcher-loadkill", &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "worker rank 1 of 2 was killed by signal 9 (Killed) "
                                               "while loading scaling plugin 'x' (/p/x.so)"));
    dir = setup_fake("1:loaded");
    CU_ASSERT_EQUAL(launch(dir, 2, "launcher-loaded", &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "worker rank 1 of 2 exited with status 3;"));
    CU_ASSERT_PTR_NULL(strstr(err.message, "while loading"));
}

LSGD_TEST(launcher, a_worker_killed_by_a_signal_is_named_with_the_signal)
{
    const char *dir = setup_fake("2:kill");
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 3, "launcher-kill", &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "worker rank 2 of 3 was killed by signal 9"));
}

LSGD_TEST(launcher, a_worker_rejecting_its_input_makes_the_run_exit_2)
{
    const char *dir = setup_fake("0:exit2");
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 2, "launcher-input", &err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "worker rank 0 of 2 exited with status 2"));
}

/* Workers write their error line to the launcher's pipe (LSGD_REPORT_FD,
 * as `lsgd worker` does under `lsgd run`): the run's one line is the line
 * of the worker that failed first, not one line per worker. */
LSGD_TEST(launcher, the_run_says_the_first_failing_workers_own_line_once)
{
    const char *dir = setup_fake("1:refuse");
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 3, "launcher-refuse", &err), 2);
    CU_ASSERT_STRING_EQUAL(err.message, "rank 1 refuses its input");
    dir = setup_fake("0:refuse 1:refuse");
    CU_ASSERT_EQUAL(launch(dir, 2, "launcher-refuse2", &err), 2);
    CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
    CU_ASSERT(strcmp(err.message, "rank 0 refuses its input") == 0 ||
              strcmp(err.message, "rank 1 refuses its input") == 0);
}

LSGD_TEST(launcher, a_failed_run_leaves_no_shared_memory_segment)
{
    const char *dir = setup_fake("0:shm");
    char id[64];
    snprintf(id, sizeof id, "launcher-shm-%d", (int)getpid());
    lsgd_error err;
    CU_ASSERT_EQUAL(launch(dir, 2, id, &err), 1);
    char *seen = file_text(dir, "run_id", 0);
    CU_ASSERT_NSTRING_EQUAL(seen, id, strlen(id));
    free(seen);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0); /* the worker made it, the cleanup removed it */
}

LSGD_TEST(launcher, sigterm_to_the_launcher_reaches_every_worker)
{
    const char *dir = setup_fake("");
    pid_t child = fork();
    if (child == 0) {
        lsgd_error err;
        _exit(launch(dir, 2, "launcher-term", &err));
    }
    usleep(500000);
    kill(child, SIGTERM);
    int status = 0;
    waitpid(child, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    for (int r = 0; r < 2; r++) {
        char *t = file_text(dir, "term", r);
        CU_ASSERT_STRING_EQUAL(t, "term\n");
        free(t);
    }
}

LSGD_TEST(launcher, an_mpi_config_is_sent_to_mpirun_instead)
{
    lsgd_launch l = {.config_path = "cfg.json", .self_exe = "/bin/false"};
    json_t *cfg = json_pack("{s:i, s:{s:s}}", "workers", 4, "transport", "plugin", "mpi");
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_launch_run(&l, cfg, &err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'mpi' workers are started by mpirun or srun"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "mpi.json"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "mpirun -n 4 lsgd run cfg.json"));
    json_decref(cfg);
}

LSGD_TEST(launcher, a_transport_whose_manifest_names_its_launchers_is_not_started_by_lsgd_run)
{
    TEST_TMPDIR(dir);
    char *manifest = test_read_file(test_root_path("tests/data/fake-plugins/started_by_fakerun.json"),
                                    NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(manifest);
    char manifest_path[2048];
    snprintf(manifest_path, sizeof manifest_path, "%s", test_write_file(dir, "fakeext.json", manifest));
    free(manifest);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_transport.c", "fakeext.so",
                                     "-DFAKE_NAME='\"fakeext\"'"), 0);
    /* the launcher, from the manifest alone */
    lsgd_launch l = {.config_path = "cfg.json", .self_exe = "/bin/false"};
    json_t *cfg = json_pack("{s:i, s:[s], s:{s:s}}", "workers", 3, "plugin_path", dir,
                            "transport", "plugin", "fakeext");
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_launch_run(&l, cfg, &err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "transport.plugin: 'fakeext' workers are started "
                                               "by fakerun"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, manifest_path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "`fakerun -n 3 lsgd run cfg.json`"));
    json_decref(cfg);
    /* and `lsgd run` says so in one line, exit 2, no worker started */
    const char *config = fake_run_config(dir, "run.json", 2, NULL, "fakeext");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' run '%s'", lsgd_bin(), config);
    expect_input_error(cmd, "'fakeext' workers are started by fakerun", "\"started_by\" in",
                       "fakerun -n 2 lsgd run", NULL);
}

/* ---- the real `lsgd run` with real workers ---- */

/* Logistic regression on 2 shm workers, a checkpoint every round, each
 * average delayed 20 ms (transport.delay) so that a run of ROUNDS rounds
 * lasts about ROUNDS/50 s while using little CPU. */
static const char *write_run_config(const char *dir, const char *run_id, int rounds)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": 3, \"workers\": 2, \"run_id\": \"%s\","
             " \"model\": {\"type\": \"logreg\"},"
             " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
             "                        \"n\": 400, \"d\": 8, \"noise\": 2.0}},"
             " \"algorithm\": {\"steps\": %d, \"batch_size\": 8, \"lr\": 0.05},"
             " \"schedule\": {\"type\": \"constant\", \"period\": 4},"
             " \"scaling\": {\"plugin\": \"adam\"},"
             " \"transport\": {\"plugin\": \"shm\", \"delay\": {\"latency_ms\": 20}},"
             " \"output\": {\"dir\": \"%s/out\", \"progress\": \"none\","
             "              \"checkpoint_every\": 1}}",
             run_id, 4 * rounds, dir);
    return test_write_file(dir, "cfg.json", text);
}

static const char *unique_run_id(const char *what)
{
    static char id[4][64];
    static int next;
    char *out = id[next++ % 4];
    snprintf(out, sizeof id[0], "launch-%s-%d", what, (int)getpid());
    return out;
}

/* `lsgd run CFG [extra]` in its own process group (as a shell starts a
 * job), its stdout and stderr (and so its workers') in dir/run.out, run.err. */
static pid_t start_run(const char *cfg, const char *dir, const char *extra)
{
    const char *lsgd = test_build_path("bin/lsgd");
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL); /* a shell may have started the tests ignoring it */
        char path[4200];
        snprintf(path, sizeof path, "%s/run.out", dir);
        if (!freopen(path, "w", stdout))
            _exit(126);
        snprintf(path, sizeof path, "%s/run.err", dir);
        if (!freopen(path, "w", stderr))
            _exit(126);
        execl(lsgd, "lsgd", "run", cfg, extra, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

static int wait_for_file(const char *dir, const char *name, double timeout_s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (double t0 = now_s(); now_s() - t0 < timeout_s; usleep(20000))
        if (access(path, F_OK) == 0)
            return 1;
    return 0;
}

/* waitpid with a deadline; on expiry the whole process group is killed
 * and -1 returned. */
static int wait_exit(pid_t pid, double timeout_s)
{
    int status = 0;
    for (double t0 = now_s(); now_s() - t0 < timeout_s; usleep(20000))
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* The pids of parent's children (forked by its main thread). */
static int children_of(pid_t parent, pid_t *out, int cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
    FILE *f = fopen(path, "r");
    int n = 0, pid;
    while (f && n < cap && fscanf(f, "%d", &pid) == 1)
        out[n++] = pid;
    if (f)
        fclose(f);
    return n;
}

static char *run_text(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = test_read_file(path, NULL);
    return t ? t : strdup("");
}

/* In a child made a subreaper (so the orphaned workers become its
 * children and their exit statuses can be read): start a long run, wait
 * until rank 1 has checkpointed (training is under way), SIGKILL the
 * launcher, then reap the workers for at most 10 s (SIGKILL for any left).
 * Writes "<exit status or -1> <seconds after the kill>" per worker to
 * dir/orphans; returns nothing the caller needs beyond that file. */
static void kill_launcher_and_reap_workers(const char *cfg, const char *dir)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t launcher = start_run(cfg, dir, NULL);
    pid_t workers[8];
    int n = 0;
    if (wait_for_file(dir, "out/checkpoint/rank-1.ckpt", 60))
        n = children_of(launcher, workers, 8);
    kill(launcher, SIGKILL);
    waitpid(launcher, NULL, 0);
    double killed_at = now_s();
    int status[8], left = n;
    double seconds[8];
    for (int i = 0; i < n; i++)
        status[i] = -1, seconds[i] = -1;
    while (left > 0 && now_s() - killed_at < 10) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        for (int i = 0; i < n; i++)
            if (pid == workers[i]) {
                status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                seconds[i] = now_s() - killed_at;
                left--;
            }
        if (pid <= 0)
            usleep(20000);
    }
    FILE *f = fopen(test_write_file(dir, "orphans", ""), "w");
    for (int i = 0; i < n; i++) {
        if (status[i] < 0) { /* still training: stop it for good */
            kill(workers[i], SIGKILL);
            waitpid(workers[i], NULL, 0);
        }
        fprintf(f, "%d %.2f\n", status[i], seconds[i]);
    }
    fclose(f);
}

/* If `lsgd run` itself is killed (SIGKILL: nothing it can forward), its
 * workers get SIGTERM from the kernel (PR_SET_PDEATHSIG) and stop as on
 * Ctrl-C: each exits 1 within seconds, saying it was interrupted (on
 * stderr, the launcher's pipe having no reader), and /dev/shm keeps
 * nothing of the run (rank 0 unlinked the name once all had mapped it). */
LSGD_TEST(launcher, workers_stop_with_status_1_when_the_launcher_is_sigkilled)
{
    const char *dir = test_tmpdir(), *id = unique_run_id("sigkill");
    const char *cfg = write_run_config(dir, id, 1000000);
    pid_t helper = fork();
    if (helper == 0) {
        kill_launcher_and_reap_workers(cfg, dir);
        _exit(0);
    }
    CU_ASSERT_EQUAL(wait_exit(helper, 90), 0);
    char *orphans = run_text(dir, "orphans"), *err = run_text(dir, "run.err");
    int status[2] = {-2, -2}, lines = 0;
    double seconds[2] = {-1, -1};
    for (char *p = orphans; lines < 2 && sscanf(p, "%d %lf", &status[lines], &seconds[lines]) == 2;
         lines++)
        p = strchr(p, '\n') + 1;
    CU_ASSERT_EQUAL(lines, 2);
    CU_ASSERT_EQUAL(test_count_lines(orphans), 2); /* the launcher had exactly two workers */
    for (int r = 0; r < 2; r++) {
        CU_ASSERT_EQUAL(status[r], 1);
        CU_ASSERT(seconds[r] >= 0 && seconds[r] < 5);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "worker 0 interrupted by a signal"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "worker 1 interrupted by a signal"));
    if (lines != 2 || status[0] != 1 || status[1] != 1)
        fprintf(stderr, "workers after the launcher's SIGKILL: %s; their stderr: %s", orphans, err);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);
    free(orphans);
    free(err);
}

/* Ctrl-C while `lsgd run` trains: SIGINT to the job's process group (what
 * a terminal does) or to the launcher alone (which forwards it).  The run
 * exits 1 with one line naming rank 0's last checkpoint, leaves no shm
 * segment, and `lsgd run --resume` from there ends with the model of the
 * uninterrupted run, bit for bit. */
static void ctrl_c_then_resume(const char *full_model, int to_group)
{
    const char *dir = test_tmpdir(), *id = unique_run_id(to_group ? "int-group" : "int-one");
    const char *cfg = write_run_config(dir, id, 100);
    pid_t launcher = start_run(cfg, dir, NULL);
    CU_ASSERT_TRUE(wait_for_file(dir, "out/checkpoint/rank-1.prev.ckpt", 60));
    kill(to_group ? -launcher : launcher, SIGINT);
    int status = wait_exit(launcher, 30);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);

    char *err = run_text(dir, "run.err"), want[4400];
    snprintf(want, sizeof want, "last good checkpoint: %s/out/checkpoint/rank-0.ckpt (round ", dir);
    CU_ASSERT_EQUAL(test_count_lines(err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "interrupted by a signal"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "continue with --resume"));
    if (test_count_lines(err) != 1 || !strstr(err, want))
        fprintf(stderr, "Ctrl-C (%s) said: %s", to_group ? "group" : "launcher", err);
    free(err);
    CU_ASSERT_EQUAL(peer_shm_leftover(id), 0);

    char cmd[8192], model[4300];
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --resume", test_build_path("bin/lsgd"), cfg);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "--resume after Ctrl-C: %s%s", o.out, o.err);
    test_output_free(&o);
    snprintf(model, sizeof model, "%s/out/model.npy", dir);
    CU_ASSERT_TRUE(test_same_file(model, full_model));
}

LSGD_TEST(launcher, ctrl_c_on_lsgd_run_exits_1_naming_a_checkpoint_that_resumes_bitwise)
{
    const char *full = test_tmpdir();
    char cmd[8192], model[4300];
    snprintf(cmd, sizeof cmd, "'%s' run '%s'", test_build_path("bin/lsgd"),
             write_run_config(full, unique_run_id("full"), 100));
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    snprintf(model, sizeof model, "%s/out/model.npy", full);
    ctrl_c_then_resume(model, 1);
    ctrl_c_then_resume(model, 0);
}
