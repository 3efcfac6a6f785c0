/*
 * outputs.c — the output directory belongs to one run: a second run into
 * it is refused (it holds a run: exit 2 with --resume / another dir /
 * --force; it is in use: exit 2 naming the pid), --force replaces only
 * lsgd's own files, resuming a finished run does nothing, and a directory
 * that cannot be written is bad input naming output.dir.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "host_fakes.h"

static char cmd[8192];

/* `lsgd run` of tests/data/outputs/small_run.json into dir/out. */
static test_output run_small(const char *dir, const char *extra)
{
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out %s", test_root_dir(), lsgd_bin(), dir, extra);
    return test_run(cmd, 60);
}

static void expect_status(test_output o, int status)
{
    if (o.status != status)
        fprintf(stderr, "\n  status %d, expected %d: %s%s", o.status, status, o.out, o.err);
    CU_ASSERT_EQUAL(o.status, status);
    test_output_free(&o);
}

static const char *out_file(const char *dir, const char *name)
{
    static char path[4][4096];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/out/%s", dir, name);
    return p;
}

LSGD_TEST(outputs, a_run_into_a_directory_holding_another_run_is_refused_with_the_ways_out)
{
    const char *dir = test_tmpdir();
    expect_status(run_small(dir, ""), 0);
    char *before = test_read_file(out_file(dir, "metrics.csv"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out --set algorithm.lr=0.5", test_root_dir(), lsgd_bin(), dir);
    expect_input_error(cmd, "output.dir", "holds another run", "run.json", "--resume",
                       "--force", NULL);
    /* nothing of the first run was touched */
    char *after = test_read_file(out_file(dir, "metrics.csv"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_STRING_EQUAL(before, after);
    free(before);
    free(after);
}

LSGD_TEST(outputs, a_hand_started_rank_0_refuses_a_directory_holding_another_run)
{
    const char *dir = test_tmpdir();
    expect_status(run_small(dir, ""), 0);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' worker tests/data/outputs/small_run.json"
             " --rank 0 --world 1 --set workers=1 --set output.dir=%s/out", test_root_dir(),
             lsgd_bin(), dir);
    expect_input_error(cmd, "output.dir", "holds another run", "--force", NULL);
}

LSGD_TEST(outputs, force_replaces_the_previous_run_and_keeps_files_lsgd_did_not_write)
{
    const char *dir = test_tmpdir();
    expect_status(run_small(dir, "--set algorithm.steps=120"), 0);
    test_write_file(out_file(dir, ""), "notes.txt", "mine\n");
    expect_status(run_small(dir, "--force"), 0);
    /* the second run's 10 rounds, not the first's 20 followed by them */
    char *csv = test_read_file(out_file(dir, "metrics.csv"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(test_count_lines(csv), 1 + 10);
    free(csv);
    CU_ASSERT_EQUAL(access(out_file(dir, "notes.txt"), F_OK), 0);
    /* its checkpoints are the second run's: resuming it finds it finished */
    test_output o = run_small(dir, "--resume");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "has finished"));
    expect_status(o, 0);
}

LSGD_TEST(outputs, resume_of_a_finished_run_says_so_and_changes_nothing)
{
    const char *dir = test_tmpdir();
    expect_status(run_small(dir, ""), 0);
    char *model = test_read_file(out_file(dir, "model.npy"), NULL);
    char *csv = test_read_file(out_file(dir, "metrics.csv"), NULL);
    struct stat before;
    CU_ASSERT_EQUAL_FATAL(stat(out_file(dir, "metrics.csv"), &before), 0);
    usleep(20 * 1000);
    test_output o = run_small(dir, "--resume");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "has finished"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "nothing to resume"));
    CU_ASSERT_PTR_NULL(strstr(o.out, "rounds,")); /* no training summary */
    expect_status(o, 0);
    struct stat after;
    CU_ASSERT_EQUAL_FATAL(stat(out_file(dir, "metrics.csv"), &after), 0);
    CU_ASSERT_EQUAL(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    CU_ASSERT_TRUE(test_same_file(out_file(dir, "model.npy"), out_file(dir, "model.npy")));
    char *model2 = test_read_file(out_file(dir, "model.npy"), NULL);
    char *csv2 = test_read_file(out_file(dir, "metrics.csv"), NULL);
    CU_ASSERT(model && model2 && csv && csv2 && strcmp(csv, csv2) == 0);
    free(model);
    free(model2);
    free(csv);
    free(csv2);
}

LSGD_TEST(outputs, resume_and_force_together_are_refused_as_contradictory)
{
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json --resume"
             " --force", test_root_dir(), lsgd_bin());
    expect_input_error(cmd, "--resume", "--force", "one of them", NULL);
}

/* A long run started in the background; its pid in *pid.  Waits until it
 * has written run.json (it holds the directory by then). */
static int start_long_run(const char *dir, long *pid)
{
    snprintf(cmd, sizeof cmd, "cd %s && ('%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out --set algorithm.steps=60000000 --set schedule.period=60"
             " >/dev/null 2>&1 & echo $! > %s/pid); for i in $(seq 300); do"
             " [ -f %s/out/run.json ] && exit 0; sleep 0.05; done; exit 1", test_root_dir(),
             lsgd_bin(), dir, dir, dir);
    test_output o = test_run(cmd, 30);
    int rc = o.status;
    test_output_free(&o);
    char pid_file[4200];
    snprintf(pid_file, sizeof pid_file, "%s/pid", dir);
    char *text = test_read_file(pid_file, NULL);
    *pid = text ? atol(text) : -1;
    free(text);
    return rc;
}

static void stop_run(long pid)
{
    if (pid <= 0)
        return;
    kill((pid_t)pid, SIGINT);
    snprintf(cmd, sizeof cmd, "for i in $(seq 200); do kill -0 %ld 2>/dev/null || exit 0;"
             " sleep 0.05; done; kill -9 %ld; exit 1", pid, pid);
    test_output o = test_run(cmd, 30);
    test_output_free(&o);
}

LSGD_TEST(outputs, a_second_run_into_a_directory_in_use_is_refused_naming_the_holders_pid)
{
    const char *dir = test_tmpdir();
    long pid;
    CU_ASSERT_EQUAL_FATAL(start_long_run(dir, &pid), 0);
    char holder[64];
    snprintf(holder, sizeof holder, "pid %ld", pid);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out --resume", test_root_dir(), lsgd_bin(), dir);
    expect_input_error(cmd, "output.dir", "in use by another lsgd run", holder, NULL);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out --force", test_root_dir(), lsgd_bin(), dir);
    expect_input_error(cmd, "in use by another lsgd run", holder, NULL);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' worker tests/data/outputs/small_run.json"
             " --rank 0 --world 1 --set workers=1 --set output.dir=%s/out --force",
             test_root_dir(), lsgd_bin(), dir);
    expect_input_error(cmd, "in use by another lsgd run", holder, NULL);
    /* the run in progress was not disturbed: its files are still there */
    CU_ASSERT_EQUAL(access(out_file(dir, "run.json"), F_OK), 0);
    stop_run(pid);
}

LSGD_TEST(outputs, the_lock_goes_with_the_process_that_held_it)
{
    const char *dir = test_tmpdir();
    long pid;
    CU_ASSERT_EQUAL_FATAL(start_long_run(dir, &pid), 0);
    /* killed outright, workers included: the kernel drops the lock */
    kill((pid_t)pid, SIGKILL);
    snprintf(cmd, sizeof cmd, "for i in $(seq 200); do flock -n %s/out/.lock true && exit 0;"
             " sleep 0.05; done; exit 1", dir);
    test_output o = test_run(cmd, 30);
    test_output_free(&o);
    test_output again = run_small(dir, "--force");
    CU_ASSERT_PTR_NULL(strstr(again.err, "in use"));
    expect_status(again, 0);
}

LSGD_TEST(outputs, an_output_dir_naming_a_regular_file_is_bad_input_naming_output_dir)
{
    const char *dir = test_tmpdir();
    const char *file = test_write_file(dir, "taken", "a file\n");
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s", test_root_dir(), lsgd_bin(), file);
    expect_input_error(cmd, "output.dir", file, "not a directory", NULL);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' worker tests/data/outputs/small_run.json"
             " --rank 0 --world 1 --set workers=1 --set output.dir=%s/sub", test_root_dir(),
             lsgd_bin(), file);
    expect_input_error(cmd, "output.dir", file, NULL);
}

/* A read-only directory: as root (who writes through mode bits) a
 * read-only tmpfs mount, else mode 0555. */
static int make_read_only(const char *dir)
{
    if (geteuid() != 0)
        return chmod(dir, 0555);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o ro,size=64k lsgd-test %s", dir);
    test_output o = test_run(cmd, 10);
    int rc = o.status;
    test_output_free(&o);
    return rc;
}

static void undo_read_only(const char *dir)
{
    if (geteuid() != 0) {
        chmod(dir, 0700);
        return;
    }
    snprintf(cmd, sizeof cmd, "umount %s", dir);
    test_output o = test_run(cmd, 10);
    test_output_free(&o);
}

LSGD_TEST(outputs, an_output_dir_under_a_read_only_directory_is_bad_input_naming_output_dir)
{
    const char *dir = test_tmpdir();
    CU_ASSERT_EQUAL_FATAL(make_read_only(dir), 0);
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out", test_root_dir(), lsgd_bin(), dir);
    expect_input_error(cmd, "output.dir", dir, NULL);
    /* an existing directory that cannot be written: the same */
    snprintf(cmd, sizeof cmd, "cd %s && '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s", test_root_dir(), lsgd_bin(), dir);
    expect_input_error(cmd, "output.dir", dir, NULL);
    undo_read_only(dir);
}
