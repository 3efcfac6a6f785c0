/*
 * engine_faults.c — stopping and starting again: --resume ends bitwise
 * equal to an uninterrupted run, Ctrl-C leaves a valid checkpoint, a
 * diverging gradient or loss stops with where and what to resume from
 * (exit 1), and nonsense configs are refused before anything starts (exit 2).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "harness.h"
#include "io/checkpoint.h"

static const char *ADAM_LOGREG =
    "{\"seed\": 5, \"workers\": 2,"
    " \"model\": {\"type\": \"logreg\"},"
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
    "                        \"n\": 300, \"d\": 8, \"noise\": 2.0},"
    "            \"test\": {\"split\": 0.2}},"
    " \"algorithm\": {\"type\": \"%s\", \"steps\": 60, \"batch_size\": 8, \"lr\": 0.05%s},"
    " \"schedule\": {\"type\": \"constant\", \"period\": 6},"
    " \"scaling\": {\"plugin\": \"adam\"%s},"
    " %s"
    " \"transport\": {\"plugin\": \"shm\"},"
    " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 2, \"eval_every\": 3}}";

/* Every column but the clocks agrees row by row. */
static void same_metrics_but_time(const char *dir_a, const char *dir_b)
{
    metrics_table a, b;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&a, dir_a), 0);
    CU_ASSERT_EQUAL_FATAL(read_metrics(&b, dir_b), 0);
    CU_ASSERT_EQUAL_FATAL(a.rows, b.rows);
    const char *exact[] = {"round", "step", "lr", "train_loss", "test_loss", "test_accuracy",
                           "grad_norm", "drift", "d_min", "d_max"};
    for (size_t r = 0; r < a.rows; r++)
        for (size_t c = 0; c < sizeof exact / sizeof *exact; c++) {
            double va = value(&a, r, column(&a, exact[c]));
            double vb = value(&b, r, column(&b, exact[c]));
            CU_ASSERT(va == vb || (isnan(va) && isnan(vb)));
        }
    metrics_free(&a);
    metrics_free(&b);
}

/* An uninterrupted run, and one stopped after round `stop` (as if by
 * Ctrl-C) and resumed: the final models must be the same bytes. */
static void resume_is_bitwise(const char *algorithm, const char *alg_extra,
                              const char *scaling_extra, const char *outer)
{
    char text[4096];
    snprintf(text, sizeof text, ADAM_LOGREG, algorithm, alg_extra, scaling_extra, outer);
    const char *full = test_tmpdir(), *cut = test_tmpdir();
    run_workers_ok(text, 2, full);

    const char *cfg = write_config(cut, text);
    test_output o = run_workers(cfg, 2, cut, "LSGD_FAULT_STOP_AFTER_ROUND=5", 60);
    CU_ASSERT_EQUAL(o.status, 1);
    /* the message names the checkpoint to continue from (round 4) */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "interrupted"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "rank-0.ckpt (round 4)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--resume"));
    test_output_free(&o);
    o = run_workers_args(cfg, 2, cut, "", "--resume", 60);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "%s%s", o.out, o.err);
    test_output_free(&o);

    char a[512], b[512];
    snprintf(a, sizeof a, "%s/out/model.npy", full);
    snprintf(b, sizeof b, "%s/out/model.npy", cut);
    CU_ASSERT_TRUE(test_same_file(a, b));
    same_metrics_but_time(full, cut);
}

LSGD_TEST(engine_faults, resume_of_local_adam_ends_bitwise_equal_to_an_uninterrupted_run)
{
    resume_is_bitwise("local_sgd", "", "", "");
}

LSGD_TEST(engine_faults, resume_of_overlap_with_anchor_momentum_and_state_reset_is_bitwise)
{
    resume_is_bitwise("overlap_local_sgd", ", \"overlap\": {\"alpha\": 0.5, \"beta\": 0.7}",
                      ", \"state\": \"reset\"", "");
}

LSGD_TEST(engine_faults, resume_with_an_outer_nesterov_optimizer_and_sync_refresh_is_bitwise)
{
    resume_is_bitwise("local_sgd", "", ", \"refresh\": \"sync\"",
                      "\"outer\": {\"plugin\": \"sgd\", \"lr\": 0.7, \"momentum\": 0.9,"
                      " \"nesterov\": true},");
}

/* SCAFFOLD's control variates c_m and c are in its checkpoint records,
 * and its global step (outer sgd, lr η_g) in the outer's. */
/* FedAvg's stream of participant samples is in its checkpoint records. */
LSGD_TEST(engine_faults, resume_of_fedavg_with_partial_participation_is_bitwise)
{
    resume_is_bitwise("fedavg", ", \"fedavg\": {\"participants\": 1}", "", "");
}

LSGD_TEST(engine_faults, resume_of_scaffold_with_a_global_step_size_is_bitwise)
{
    resume_is_bitwise("scaffold", "", "",
                      "\"outer\": {\"plugin\": \"sgd\", \"lr\": 1.5},");
}

LSGD_TEST(engine_faults, resume_without_a_checkpoint_is_refused_with_exit_2)
{
    char text[4096];
    snprintf(text, sizeof text, ADAM_LOGREG, "local_sgd", "", "", "");
    const char *dir = test_tmpdir();
    test_output o = run_workers_args(write_config(dir, text), 2, dir, "", "--resume", 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "no usable checkpoint"));
    test_output_free(&o);
}

LSGD_TEST(engine_faults, ctrl_c_stops_every_worker_and_the_last_checkpoint_stays_valid)
{
    const char *dir = test_tmpdir();
    /* long enough to be interrupted: a small MLP, checkpoints every round */
    const char *cfg = write_config(dir,
        "{\"seed\": 2, \"workers\": 2, \"model\": {\"type\": \"mlp\", \"hidden\": [64]},"
        " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
        " \"n\": 2000, \"d\": 50, \"classes\": 4}},"
        " \"algorithm\": {\"steps\": 2000000, \"batch_size\": 32, \"lr\": 0.01},"
        " \"schedule\": {\"type\": \"constant\", \"period\": 20},"
        " \"scaling\": {\"plugin\": \"adam\"}, \"transport\": {\"plugin\": \"shm\"},"
        " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 1}}");
    char script[4096];
    snprintf(script, sizeof script,
             "cd %s && export LSGD_RUN_ID=ctrlc%d; L=%s;"
             " $L worker %s --rank 1 --world 2 --set output.dir=%s/out & p1=$!;"
             " $L worker %s --rank 0 --world 2 --set output.dir=%s/out & p0=$!;"
             " for i in $(seq 200); do [ -f %s/out/checkpoint/rank-1.prev.ckpt ] && break;"
             " sleep 0.1; done; kill -INT $p0 $p1; wait $p0; s0=$?; wait $p1; s1=$?;"
             " echo status $s0 $s1",
             test_root_dir(), (int)getpid(), test_build_path("bin/lsgd"), cfg, dir, cfg, dir,
             dir);
    test_output o = test_run(script, 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "status 1 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "interrupted by a signal"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "continue with --resume"));
    test_output_free(&o);
    for (int r = 0; r < 2; r++) {
        char path[512];
        snprintf(path, sizeof path, "%s/out/checkpoint/rank-%d.ckpt", dir, r);
        lsgd_ckpt c;
        lsgd_error err;
        CU_ASSERT_EQUAL(lsgd_ckpt_load(&c, path, &err), 0);
        if (c.bytes)
            lsgd_ckpt_free(&c);
    }
}

/* The quadratic's loss is summed in double and its gradient rounded to
 * float: with γ = 1 and λ = 10⁴, x₁₉ = (1 − 10⁴)ᵏ, and at step 10 the
 * gradient 10⁴·x₁₉ ≈ −10⁴⁰ overflows float while the loss (≈ 10⁷⁶) is still
 * finite — the scaling host's check names the coordinate. */
LSGD_TEST(engine_faults, inf_gradient_with_a_finite_loss_stops_naming_coordinate_round_step_exit_1)
{
    const char *dir = test_tmpdir();
    const char *cfg = write_config(dir,
        "{\"seed\": 1, \"workers\": 2,"
        " \"model\": {\"type\": \"quadratic\", \"dim\": 20, \"condition\": 10000},"
        " \"algorithm\": {\"steps\": 100, \"lr\": 1.0},"
        " \"schedule\": {\"type\": \"constant\", \"period\": 2},"
        " \"transport\": {\"plugin\": \"shm\"},"
        " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 1}}");
    test_output o = run_workers(cfg, 2, dir, "", 60);
    CU_ASSERT_EQUAL(o.status, 1);
    for (int w = 0; w < 2; w++) {
        char want[160];
        snprintf(want, sizeof want,
                 "gradient coordinate 19 became -Inf at round 5, step 10 on worker %d", w);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, want));
        if (!strstr(o.err, want))
            fprintf(stderr, "\n  expected '%s' in:\n%s", want, o.err);
    }
    CU_ASSERT_PTR_NULL(strstr(o.err, "loss became")); /* the loss was finite */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "last good checkpoint:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "/out/checkpoint/rank-0.ckpt (round 4)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "/out/checkpoint/rank-1.ckpt (round 4)"));
    test_output_free(&o);
}

/* An MLP trained with γ = 10⁶: the float activations overflow and the
 * softmax's Inf − Inf makes the loss NaN; the engine stops on the loss. */
LSGD_TEST(engine_faults, nan_loss_stops_naming_round_step_worker_and_last_checkpoint_exit_1)
{
    const char *dir = test_tmpdir();
    const char *cfg = write_config(dir,
        "{\"seed\": 1, \"workers\": 2, \"model\": {\"type\": \"mlp\", \"hidden\": [16]},"
        " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
        " \"n\": 200, \"d\": 5, \"classes\": 2, \"noise\": 3}},"
        " \"algorithm\": {\"steps\": 200, \"lr\": 1e6, \"batch_size\": 8},"
        " \"schedule\": {\"type\": \"constant\", \"period\": 2},"
        " \"transport\": {\"plugin\": \"shm\"},"
        " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 1}}");
    test_output o = run_workers(cfg, 2, dir, "", 60);
    CU_ASSERT_EQUAL(o.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "loss became NaN at round "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, ", step "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, " on worker "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "last good checkpoint:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "/out/checkpoint/rank-"));
    if (!strstr(o.err, "loss became NaN at round "))
        fprintf(stderr, "\n  stderr:\n%s", o.err);
    test_output_free(&o);
}

/* A config that must be refused before training, with a reason. */
static void refused(const char *config, int world, const char *reason)
{
    const char *dir = test_tmpdir();
    test_output o = run_workers(write_config(dir, config), world, dir, "", 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, reason));
    if (!strstr(o.err, reason))
        fprintf(stderr, "expected '%s' in: %s\n", reason, o.err);
    /* nothing was trained */
    char path[512];
    snprintf(path, sizeof path, "%s/out/model.npy", dir);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    test_output_free(&o);
}

#define QUAD "\"model\": {\"type\": \"quadratic\", \"dim\": 4}, \"transport\": {\"plugin\": \"shm\"}"

LSGD_TEST(engine_faults, nonsense_combinations_exit_2_before_starting_with_the_reason)
{
    refused("{\"workers\": 2, " QUAD ", \"algorithm\": {\"type\": \"overlap_local_sgd\","
            " \"overlap\": {\"alpha\": 1, \"beta\": 0}}}", 2, "freezes the anchor");
    refused("{\"workers\": 2, " QUAD ", \"algorithm\": {\"steps\": 10},"
            " \"schedule\": {\"type\": \"increasing\", \"rounds\": 11}}", 2, "rounds");
    refused("{\"workers\": 4, \"model\": {\"type\": \"logreg\"},"
            " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
            " \"n\": 3, \"d\": 2}}, \"transport\": {\"plugin\": \"shm\"}}", 4,
            "4 workers but data.train");
    refused("{\"workers\": 2, " QUAD ", \"algorithm\": {\"type\": \"minibatch_sgd\"},"
            " \"outer\": {\"plugin\": \"sgd\"}}", 2, "no pseudo-gradient");
    refused("{\"workers\": 2, " QUAD ", \"scaling\": {\"plugin\": \"adam\", \"refresh\": \"sync\","
            " \"state\": \"average\"}}", 2, "refresh 'sync'");
    refused("{\"workers\": 2, " QUAD ", \"algorithm\": {\"type\": \"overlap_local_sgd\"},"
            " \"scaling\": {\"plugin\": \"adam\", \"state\": \"average\"}}", 2, "would block");
    refused("{\"workers\": 2, " QUAD ", \"algorithm\": {\"type\": \"overlap_local_sgd\"},"
            " \"schedule\": {\"type\": \"constant\", \"period\": 0}}", 2,
            "schedule.period: 0 is below the minimum 1");
    refused("{\"workers\": 2, " QUAD ", \"algorithm\": {\"type\": \"fedavg\","
            " \"fedavg\": {\"participants\": 3}}}", 2, "3 of 2 workers");
}

/* Through `lsgd run` (the launcher), an error every worker finds — here
 * --resume without checkpoints — is one line on stderr, not one per worker. */
LSGD_TEST(engine_faults, lsgd_run_says_a_worker_found_error_once_for_all_workers)
{
    const char *dir = test_tmpdir();
    write_config(dir, "{\"workers\": 3, \"model\": {\"type\": \"quadratic\", \"dim\": 4},"
                      " \"algorithm\": {\"steps\": 10, \"lr\": 0.01},"
                      " \"output\": {\"dir\": \"out\", \"progress\": \"none\"}}");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run cfg.json --resume", dir,
             test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "lsgd: --resume: no usable checkpoint"));
    if (test_count_lines(o.err) != 1)
        fprintf(stderr, "\n  stderr:\n%s", o.err);
    test_output_free(&o);
}
