/*
 * checkpoints.c — a checkpoint is input: damaged files (cut short, a bit
 * flipped, an out-of-range sampler position re-signed with the right
 * checksum, rank files swapped) are refused saying why, and the run
 * resumes from the round every rank still has when there is one; a resume
 * with another config names the keys that changed; a checkpoint write that
 * fails (injected: LSGD_FAULT_CHECKPOINT_WRITE) never costs the round all
 * ranks share, however often the resume fails again.
 *
 * The runs are tests/data/outputs/small_run.json: 2 workers, 10 rounds,
 * a checkpoint every 2 rounds.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "host_fakes.h"
#include "io/checkpoint.h"

static char cmd[8192];

/* `env lsgd run small_run.json --set output.dir=dir/out extra`. */
static test_output run_small(const char *dir, const char *env, const char *extra)
{
    snprintf(cmd, sizeof cmd, "cd %s && %s '%s' run tests/data/outputs/small_run.json"
             " --set output.dir=%s/out %s", test_root_dir(), env, lsgd_bin(), dir, extra);
    return test_run(cmd, 60);
}

static void expect_status(test_output o, int status, const char *needle)
{
    if (o.status != status || (needle && !strstr(o.err, needle)))
        fprintf(stderr, "\n  status %d (expected %d), stderr: %s", o.status, status, o.err);
    CU_ASSERT_EQUAL(o.status, status);
    if (needle)
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, needle));
    test_output_free(&o);
}

static const char *ckpt(const char *dir, int rank, int previous)
{
    static char path[4][4096];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/out/checkpoint/rank-%d%s.ckpt", dir, rank,
             previous ? ".prev" : "");
    return p;
}

/* `--resume extra` is refused, exit 2, with every needle (NULL-terminated)
 * on stderr. */
static void resume_refused(const char *dir, const char *extra, ...) __attribute__((sentinel));

static void resume_refused(const char *dir, const char *extra, ...)
{
    char args[1024];
    snprintf(args, sizeof args, "--resume %s", extra);
    test_output o = run_small(dir, "", args);
    va_list needles;
    va_start(needles, extra);
    for (const char *n; (n = va_arg(needles, const char *)) != NULL;) {
        if (!strstr(o.err, n))
            fprintf(stderr, "\n  '%s' not in: %s", n, o.err);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, n));
    }
    va_end(needles);
    expect_status(o, 2, "--resume");
}

/* A run stopped after round 5: checkpoints of rounds 4 (current) and 2. */
static const char *stopped_run(void)
{
    const char *dir = test_tmpdir();
    expect_status(run_small(dir, "LSGD_FAULT_STOP_AFTER_ROUND=5", ""), 1, "interrupted");
    return dir;
}

/* The run never stopped, for comparison. */
static const char *reference_run(void)
{
    static char dir[4096];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s", test_tmpdir());
        expect_status(run_small(dir, "", ""), 0, NULL);
    }
    return dir;
}

static void ends_like_the_reference(const char *dir)
{
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/out/model.npy", reference_run());
    snprintf(b, sizeof b, "%s/out/model.npy", dir);
    CU_ASSERT_TRUE(test_same_file(a, b));
}

/* ---- hand-made damage ---- */

static unsigned char *slurp(const char *path, size_t *size)
{
    return (unsigned char *)test_read_file(path, size);
}

static void spill(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(bytes, 1, size, f), size);
    fclose(f);
}

/* The offset of record `name`'s bytes (the documented layout of
 * io/checkpoint.h), or 0. */
static size_t record(const unsigned char *b, size_t size, const char *name)
{
    size_t pos = 12;
    while (pos + 4 <= size - 12) {
        uint32_t len;
        uint64_t n;
        memcpy(&len, b + pos, 4);
        if (len == 0)
            return 0;
        memcpy(&n, b + pos + 4 + len, 8);
        if (len == strlen(name) && memcmp(b + pos + 4, name, len) == 0)
            return pos + 4 + len + 8;
        pos += 4 + len + 8 + (size_t)n;
    }
    return 0;
}

/* Write the FNV-1a-64 checksum a writer would have written. */
static void resign(unsigned char *b, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size - 8; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    memcpy(b + size - 8, &h, 8);
}

/* The sampler position inside record "meta": after the config hash, five
 * counters, the wall clock, two metrics offsets and the overlap flag. */
#define META_SAMPLER_NEXT (8 + 5 * 8 + 8 + 2 * 8 + 8)

static void set_sampler_position(const char *path, uint64_t next)
{
    size_t size;
    unsigned char *b = slurp(path, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    size_t meta = record(b, size, "meta");
    CU_ASSERT_FATAL(meta > 0);
    memcpy(b + meta + META_SAMPLER_NEXT, &next, 8);
    resign(b, size);
    spill(path, b, size);
    free(b);
    lsgd_ckpt c;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_ckpt_load(&c, path, &err), 0); /* the file itself is whole */
    if (c.bytes)
        lsgd_ckpt_free(&c);
}

static void cut_short(const char *path, size_t keep)
{
    CU_ASSERT_EQUAL(truncate(path, (off_t)keep), 0);
}

/* One bit in the middle of the file. */
static void flip_bit(const char *path)
{
    size_t size;
    unsigned char *b = slurp(path, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    b[size / 2] ^= 0x04;
    spill(path, b, size);
    free(b);
}

LSGD_TEST(checkpoints, a_resigned_out_of_range_sampler_position_is_refused_and_the_shared_round_resumed)
{
    const char *dir = stopped_run();
    set_sampler_position(ckpt(dir, 0, 0), 1ull << 40);
    /* rank 0's round 4 is refused: both ranks resume round 2, bitwise */
    expect_status(run_small(dir, "", "--resume"), 0, NULL);
    ends_like_the_reference(dir);
}

LSGD_TEST(checkpoints, out_of_range_positions_in_every_file_of_a_rank_say_so_exit_2)
{
    const char *dir = stopped_run();
    set_sampler_position(ckpt(dir, 1, 0), 1ull << 40);
    set_sampler_position(ckpt(dir, 1, 1), 151);
    resume_refused(dir, "", "no usable checkpoint for worker 1", "damaged", NULL);
}

LSGD_TEST(checkpoints, truncated_and_bit_flipped_files_are_named_as_damaged_exit_2)
{
    const char *dir = stopped_run();
    cut_short(ckpt(dir, 1, 0), 100);
    flip_bit(ckpt(dir, 1, 1));
    snprintf(cmd, sizeof cmd, "cd %s && '%s' worker tests/data/outputs/small_run.json"
             " --rank 1 --world 2 --set output.dir=%s/out --resume & '%s' worker"
             " tests/data/outputs/small_run.json --rank 0 --world 2 --set output.dir=%s/out"
             " --resume; wait", test_root_dir(), lsgd_bin(), dir, lsgd_bin(), dir);
    test_output o = test_run(cmd, 60);
    /* worker 1 says what is wrong with each of its files; worker 0 names worker 1 */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "rank-1.ckpt: checkpoint checksum mismatch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "rank-1.prev.ckpt: checkpoint checksum mismatch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "no usable checkpoint for worker 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "damaged"));
    test_output_free(&o);
    /* the launcher says one of those lines, exit 2 */
    expect_status(run_small(dir, "", "--resume"), 2, "damaged");
}

LSGD_TEST(checkpoints, a_missing_rank_file_is_named_as_missing_exit_2)
{
    const char *dir = stopped_run();
    unlink(ckpt(dir, 1, 0));
    unlink(ckpt(dir, 1, 1));
    resume_refused(dir, "", "no usable checkpoint", "worker 1", "missing", NULL);
}

LSGD_TEST(checkpoints, swapped_rank_files_are_refused_naming_whose_they_are)
{
    const char *dir = stopped_run();
    for (int prev = 0; prev < 2; prev++) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.swap", ckpt(dir, 0, prev));
        CU_ASSERT_EQUAL(rename(ckpt(dir, 0, prev), tmp), 0);
        CU_ASSERT_EQUAL(rename(ckpt(dir, 1, prev), ckpt(dir, 0, prev)), 0);
        CU_ASSERT_EQUAL(rename(tmp, ckpt(dir, 1, prev)), 0);
    }
    resume_refused(dir, "", "no usable checkpoint", "not worker", "swapped", NULL);
}

LSGD_TEST(checkpoints, resume_with_a_changed_config_names_the_keys_that_changed)
{
    const char *dir = stopped_run();
    resume_refused(dir, "--set algorithm.lr=0.01 --set scaling.params.beta1=0.8",
                   "config differs from the checkpoint's", "algorithm.lr 0.05 → 0.01",
                   "scaling.params.beta1 0.9 → 0.8", NULL);
    /* output.* alone may change */
    expect_status(run_small(dir, "", "--resume --set output.eval_every=3"), 0, NULL);
}

/* ---- a write that fails ---- */

static uint64_t round_of(const char *path)
{
    lsgd_ckpt c;
    lsgd_error err;
    uint64_t meta[6] = {0};
    if (lsgd_ckpt_load(&c, path, &err) != 0)
        return 0;
    size_t n = 0;
    const void *p = lsgd_ckpt_find(&c, "meta", &n);
    if (p && n >= sizeof meta)
        memcpy(meta, p, sizeof meta);
    lsgd_ckpt_free(&c);
    return meta[1];
}

/* Whether some round is in a file of every rank. */
static int ranks_share_a_round(const char *dir)
{
    for (int side = 0; side < 2; side++) {
        uint64_t r = round_of(ckpt(dir, 0, side));
        if (r && (round_of(ckpt(dir, 1, 0)) == r || round_of(ckpt(dir, 1, 1)) == r))
            return 1;
    }
    return 0;
}

LSGD_TEST(checkpoints, a_failed_checkpoint_write_never_costs_the_round_all_ranks_share)
{
    const char *dir = test_tmpdir();
    const char *full_disk = "LSGD_FAULT_CHECKPOINT_WRITE=1:6";
    /* rank 1 cannot write round 6: the run stops, rank 0 has written it */
    expect_status(run_small(dir, full_disk, ""), 1, "No space left on device");
    CU_ASSERT_EQUAL(round_of(ckpt(dir, 0, 0)), 6);
    CU_ASSERT_TRUE(ranks_share_a_round(dir));
    /* resumed while the disk is still full: it fails the same way, twice */
    for (int attempt = 0; attempt < 2; attempt++) {
        expect_status(run_small(dir, full_disk, "--resume"), 1, "No space left on device");
        CU_ASSERT_TRUE(ranks_share_a_round(dir));
    }
    /* space again: the resume goes through, bitwise as never stopped */
    expect_status(run_small(dir, "", "--resume"), 0, NULL);
    ends_like_the_reference(dir);
}

/* ---- the reader ---- */

/* dir/c.ckpt holding one record; returns its path. */
static const char *one_record_file(const char *dir, const char *name, const void *data,
                                   size_t bytes)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    lsgd_ckpt_writer w;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_begin(&w, path, &err), 0);
    lsgd_ckpt_put(&w, name, data, bytes);
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_commit(&w, &err), 0);
    return path;
}

LSGD_TEST(checkpoints, the_reader_refuses_a_directory_a_fifo_and_a_file_over_its_bound)
{
    const char *dir = test_tmpdir();
    lsgd_ckpt c;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_ckpt_load(&c, dir, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected a regular file"));
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL(lsgd_ckpt_load(&c, fifo, &err), LSGD_ERR_INPUT); /* without blocking */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected a regular file"));
    float x[64] = {0};
    const char *path = one_record_file(dir, "x", x, sizeof x);
    CU_ASSERT_EQUAL(lsgd_ckpt_load_bounded(&c, path, 100, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "more than the 100"));
    CU_ASSERT_EQUAL(lsgd_ckpt_load_bounded(&c, path, 1000, &err), 0);
    lsgd_ckpt_free(&c);
}

LSGD_TEST(checkpoints, a_resigned_record_length_past_the_end_is_refused_as_damaged)
{
    const char *dir = test_tmpdir();
    lsgd_error err;
    uint64_t round = 3;
    const char *path = one_record_file(dir, "round", &round, sizeof round);
    size_t size;
    unsigned char *b = slurp(path, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    uint64_t huge = 1ull << 40; /* the record's length, after "round" */
    memcpy(b + 12 + 4 + 5, &huge, 8);
    resign(b, size);
    spill(path, b, size);
    free(b);
    lsgd_ckpt c;
    CU_ASSERT_EQUAL(lsgd_ckpt_load(&c, path, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "damaged"));
}

/* ---- on by default, by the clock ---- */

LSGD_TEST(checkpoints, checkpoints_are_on_by_default_every_60_seconds_of_wall_time)
{
    snprintf(cmd, sizeof cmd, "cd %s && '%s' validate tests/data/outputs/small_run.json --print"
             " --no-data", test_root_dir(), lsgd_bin());
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    json_t *cfg = json_loads(o.out, 0, NULL);
    json_t *seconds = json_object_get(json_object_get(cfg, "output"), "checkpoint_seconds");
    CU_ASSERT_TRUE(json_is_number(seconds) && json_number_value(seconds) == 60);
    json_decref(cfg);
    test_output_free(&o);
}

LSGD_TEST(checkpoints, clock_checkpoints_fall_on_the_same_round_on_every_rank_and_resume_bitwise)
{
    const char *dir = test_tmpdir();
    /* no checkpoint_every: the clock alone, every microsecond here, so each
     * round (a round takes about 50 µs on an idle machine: a 1 ms clock
     * could reach round 7 with no checkpoint at all) */
    const char *clock = "--set output.checkpoint_every=0 --set output.checkpoint_seconds=0.000001";
    char extra[512];
    snprintf(extra, sizeof extra, "%s", clock);
    expect_status(run_small(dir, "LSGD_FAULT_STOP_AFTER_ROUND=7", extra), 1, "interrupted");
    uint64_t r0 = round_of(ckpt(dir, 0, 0)), r1 = round_of(ckpt(dir, 1, 0));
    CU_ASSERT(r0 > 0 && r0 == r1);
    CU_ASSERT_EQUAL(round_of(ckpt(dir, 0, 1)), round_of(ckpt(dir, 1, 1)));
    snprintf(extra, sizeof extra, "--resume %s", clock);
    expect_status(run_small(dir, "", extra), 0, NULL);
    ends_like_the_reference(dir);
}
