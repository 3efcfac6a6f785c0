/*
 * example.c — every example config (examples/NAME.json) runs with `lsgd run` (the launcher,
 * real processes), each checked on a small setting for what it is meant
 * to show.  The MNIST examples fetch MNIST first (tools/fetch-data).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_helpers.h"
#include "harness.h"

/* `lsgd run examples/<name>.json --set output.dir=<dir>/out …` from the root. */
static test_output run_example(const char *name, const char *dir, const char *sets, int timeout)
{
    char config[256];
    snprintf(config, sizeof config, "examples/%s.json", name);
    return run_config_at_root(config, dir, sets, timeout);
}

/* examples/<name>.json on MNIST (fetched first) for 240 steps: its last
 * test accuracy. */
static double mnist_accuracy_in_240_steps(const char *name)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *dir = test_tmpdir();
    test_output o = run_example(name, dir, "--set algorithm.steps=240", 120);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
    return last_value(dir, "test_accuracy");
}

LSGD_TEST(example, quickstart_trains_the_mnist_mlp_to_at_least_97_percent)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *dir = test_tmpdir();
    test_output o = run_example("quickstart", dir, "", 300);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "test accuracy"));
    test_output_free(&o);
    CU_ASSERT(last_value(dir, "test_accuracy") >= 0.97);
}

/* The first round whose objective is at most target (0 when never). */
static int rounds_to(const char *dir, double target)
{
    metrics_table t;
    if (read_metrics(&t, dir))
        return 0;
    int found = 0, c = column(&t, "objective");
    for (size_t r = 0; r < t.rows && !found; r++)
        if (value(&t, r, c) <= target)
            found = (int)r + 1;
    metrics_free(&t);
    return found;
}

/* §1 check 5 on the ill-conditioned quadratic: Adam and OASIS reach the
 * noise floor's neighbourhood in fewer rounds than SGD at its best stable
 * step size, at equal period H = 8.  OASIS truncates at the problem's
 * least curvature, 1e-3 (its signed D crosses zero where a minibatch's
 * Hutchinson estimate is mostly noise; docs/algorithms.md §1.2.5). */
LSGD_TEST(example, savic_quadratic_scaled_methods_need_fewer_rounds_than_sgd)
{
    const char *runs[3][2] = {
        {"adam", "--set algorithm.lr=0.03"},
        {"oasis", "--set algorithm.lr=0.03 --set scaling.params.alpha=0.001"},
        {"sgd", "--set algorithm.lr=1.5"},
    };
    int rounds[3];
    for (int k = 0; k < 3; k++) {
        const char *dir = test_tmpdir();
        char sets[256];
        snprintf(sets, sizeof sets, "--set scaling.plugin=%s %s", runs[k][0], runs[k][1]);
        test_output o = run_example("savic_quadratic", dir, sets, 60);
        CU_ASSERT_EQUAL(o.status, 0);
        test_output_free(&o);
        rounds[k] = rounds_to(dir, 1e-4);
    }
    CU_ASSERT(rounds[0] > 0 && rounds[1] > 0 && rounds[2] > 0);
    CU_ASSERT(rounds[0] < rounds[2]);
    CU_ASSERT(rounds[1] < rounds[2]);
}

LSGD_TEST(example, savic_mnist_local_adam_learns_in_a_few_hundred_steps)
{
    CU_ASSERT(mnist_accuracy_in_240_steps("savic_mnist") > 0.85);
}

/* §5.2 FedYogi: Local SGD on a Dirichlet split with yogi as the server
 * optimizer learns MNIST in a few hundred steps. */
LSGD_TEST(example, fedyogi_mnist_learns_on_a_dirichlet_split_in_a_few_hundred_steps)
{
    CU_ASSERT(mnist_accuracy_in_240_steps("fedyogi_mnist") > 0.85);
}

/* §2: the 3-D quadratic with N = 20, T = 1000, R = 20: communication at
 * t_r = ⌊T·r(r+1)/(R(R+1))⌋ and an error far below F(x₀) = 3. */
LSGD_TEST(example, spiridonoff_quadratic3d_averages_at_the_increasing_times)
{
    const char *dir = test_tmpdir();
    test_output o = run_example("spiridonoff_quadratic3d", dir, "", 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    CU_ASSERT_EQUAL_FATAL(t.rows, 20);
    for (size_t r = 0; r < t.rows; r++)
        CU_ASSERT_EQUAL(value(&t, r, column(&t, "step")),
                        (double)(1000 * (r + 1) * (r + 2) / 420));
    CU_ASSERT(value(&t, 19, column(&t, "objective")) < 1e-2);
    /* γ_0 = 3/(0+1): the inverse schedule */
    CU_ASSERT_DOUBLE_EQUAL(value(&t, 19, column(&t, "lr")), 3.0 / 1000.0, 1e-9);
    metrics_free(&t);
}

/* §2: the kinked 1-D problem on 4 workers with R = N rounds: the step size
 * is min(2/(t+1), 1/2) and the error ends well below F(x₀) = 4. */
LSGD_TEST(example, spiridonoff_speedup1d_runs_with_r_equal_to_n)
{
    const char *dir = test_tmpdir();
    test_output o = run_example("spiridonoff_speedup1d", dir,
                                "--set workers=4 --set schedule.rounds=4", 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    CU_ASSERT_EQUAL(t.rows, 4);
    CU_ASSERT(value(&t, 3, column(&t, "objective")) < 0.5);
    CU_ASSERT_DOUBLE_EQUAL(value(&t, 3, column(&t, "lr")), 2.0 / 1000.0, 1e-9);
    metrics_free(&t);
}

LSGD_TEST(example, localgd_implicit_bias_direction_approaches_max_margin)
{
    const char *dir = test_tmpdir();
    test_output o = run_example("localgd_implicit_bias", dir, "--set algorithm.steps=1000", 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    int c = column(&t, "max_margin_cos"), f = column(&t, "objective");
    CU_ASSERT(1 - value(&t, t.rows - 1, c) < 0.5 * (1 - value(&t, 0, c)));
    /* the loss of x̄ keeps falling (toward the O(1/(Lk)) rate) */
    CU_ASSERT(value(&t, t.rows - 1, f) < 0.5 * value(&t, 9, f));
    metrics_free(&t);
}

/* §4 on MNIST: with the emulated link, overlap takes less wall time per
 * round than blocking Local SGD, at a similar loss. */
LSGD_TEST(example, overlap_delay_is_faster_per_round_than_blocking_local_sgd)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    double wall[2], loss[2];
    const char *algs[2] = {"overlap_local_sgd", "local_sgd"};
    for (int k = 0; k < 2; k++) {
        const char *dir = test_tmpdir();
        char sets[256];
        snprintf(sets, sizeof sets,
                 "--set algorithm.type=%s --set algorithm.steps=400 "
                 "--set transport.delay.latency_ms=10 --set output.eval_every=1000", algs[k]);
        test_output o = run_example("overlap_delay", dir, sets, 120);
        CU_ASSERT_EQUAL_FATAL(o.status, 0);
        test_output_free(&o);
        wall[k] = last_value(dir, "wall_s");
        loss[k] = last_value(dir, "train_loss");
    }
    /* Blocking pays 50 rounds × 10 ms on top of its computation (≈ 7 ms a
     * round here); overlap runs the two side by side and hides about half
     * of it (0.2-0.25 s on an idle machine).  A tenth of a second keeps
     * the claim while leaving room for a loaded machine; the figure itself
     * is make bench's. */
    CU_ASSERT(wall[1] - wall[0] > 0.1);
    CU_ASSERT(loss[0] < 2 * loss[1] + 0.1);
}

/* The sum of a metrics column over the rounds; *rows how many. */
static double sum_of(const char *dir, const char *col, size_t *rows)
{
    metrics_table t;
    *rows = 0;
    if (read_metrics(&t, dir))
        return NAN;
    double sum = 0;
    int c = column(&t, col);
    for (size_t r = 0; r < t.rows; r++)
        sum += value(&t, r, c);
    *rows = t.rows;
    metrics_free(&t);
    return sum;
}

static double mean_of(const char *dir, const char *col)
{
    size_t rows;
    double sum = sum_of(dir, col, &rows);
    return rows ? sum / (double)rows : NAN;
}

/* examples/<name>.json run twice: as it is into dir, and with `sets`
 * into other (both must succeed). */
static void run_example_and_variant(const char *name, const char *dir, const char *other,
                                    const char *sets)
{
    test_output o = run_example(name, dir, "", 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    o = run_example(name, other, sets, 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
}

/* §5.4 on label-sharded blobs: the proximal term keeps the workers' models
 * near x̄, so FedProx's drift is well below Local SGD's at the same steps,
 * and it still trains. */
LSGD_TEST(example, fedprox_heterogeneous_drifts_less_than_local_sgd)
{
    const char *prox = test_tmpdir(), *plain = test_tmpdir();
    run_example_and_variant("fedprox_heterogeneous", prox, plain,
                            "--set algorithm.type=local_sgd");
    double with_mu = mean_of(prox, "drift"), without = mean_of(plain, "drift");
    if (!(with_mu < 0.5 * without))
        fprintf(stderr, "\n  mean drift: fedprox %.4g, local_sgd %.4g\n", with_mu, without);
    CU_ASSERT(with_mu < 0.5 * without);
    CU_ASSERT(last_value(prox, "objective") < 0.5 * log(8.0)); /* well below chance (ln 8) */
}

/* §5.5 on the same label-sharded blobs: the control variates cancel the
 * client drift, so SCAFFOLD ends below Local SGD's objective with a
 * fraction of its drift, for the extra bytes of the average of the c_m. */
LSGD_TEST(example, scaffold_heterogeneous_ends_below_local_sgd_with_less_drift)
{
    const char *scaffold = test_tmpdir(), *plain = test_tmpdir();
    run_example_and_variant("scaffold_heterogeneous", scaffold, plain,
                            "--set algorithm.type=local_sgd");
    double f = last_value(scaffold, "objective"), f_plain = last_value(plain, "objective");
    if (!(f < 0.95 * f_plain))
        fprintf(stderr, "\n  objective: scaffold %.4g, local_sgd %.4g\n", f, f_plain);
    CU_ASSERT(f < 0.95 * f_plain);
    CU_ASSERT(mean_of(scaffold, "drift") < 0.5 * mean_of(plain, "drift"));
    CU_ASSERT(mean_of(scaffold, "bytes_sent") > mean_of(plain, "bytes_sent"));
}

/* §5.6: synchronous for 160 steps (10 rounds without drift), then local:
 * the objective of minibatch SGD at the same steps, for under half its
 * bytes. */
LSGD_TEST(example, post_local_sgd_matches_minibatch_sgd_for_a_fraction_of_the_bytes)
{
    const char *post = test_tmpdir(), *sync = test_tmpdir();
    run_example_and_variant("post_local_sgd", post, sync,
                            "--set algorithm.type=minibatch_sgd");
    double f = last_value(post, "objective"), f_sync = last_value(sync, "objective");
    if (!(f <= 1.05 * f_sync))
        fprintf(stderr, "\n  objective: post_local_sgd %.4g, minibatch_sgd %.4g\n", f, f_sync);
    CU_ASSERT(f <= 1.05 * f_sync);
    size_t rows;
    CU_ASSERT(sum_of(post, "bytes_sent", &rows) < 0.5 * sum_of(sync, "bytes_sent", &rows));
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, post), 0);
    for (size_t r = 0; r < 10; r++)
        CU_ASSERT_EQUAL(value(&t, r, column(&t, "drift")), 0);
    CU_ASSERT(value(&t, 10, column(&t, "drift")) > 0);
    metrics_free(&t);
}

/* §5.7: with a quarter of 8 workers taking part in each round on
 * Dirichlet-split blobs, FedAvg trains nearly as far as with all of them. */
LSGD_TEST(example, fedavg_partial_trains_nearly_as_far_as_full_participation)
{
    const char *part = test_tmpdir(), *all = test_tmpdir();
    run_example_and_variant("fedavg_partial", part, all,
                            "--set algorithm.fedavg.fraction=1");
    double f = last_value(part, "objective"), f_all = last_value(all, "objective");
    if (!(f <= 1.15 * f_all))
        fprintf(stderr, "\n  objective: a quarter %.4g, all %.4g\n", f, f_all);
    CU_ASSERT(f <= 1.15 * f_all && f != f_all);
    CU_ASSERT(f < 0.5 * log(8.0));
}
