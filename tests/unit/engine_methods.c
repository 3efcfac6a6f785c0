/*
 * engine_methods.c — the local methods added behind the algorithm table
 * (docs/algorithms.md §5.4–), each run end to end with real workers and
 * compared with a reference loop written here in double on the same
 * shards: full-batch and deterministic, so the two agree to rounding.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "engine_helpers.h"
#include "harness.h"

/* A least-squares problem (no bias) dealt over `world` workers as a run
 * of this config deals it: each worker's rows, the features and targets
 * (the regression values, or ±1 for two classes, as models/least_squares.c). */
typedef struct shards {
    lsgd_dataset *train;
    lsgd_shard *shard; /* [world] */
    int world;
    size_t d;
} shards;

static void shards_of(shards *s, const char *config_path, int world)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", test_root_dir(), config_path);
    json_t *cfg = json_load_file(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const json_t *data = json_object_get(cfg, "data");
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(cfg, "seed"));
    lsgd_dataset *test = NULL;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&s->train, &test, data, seed, &err), 0);
    CU_ASSERT_FATAL(s->train->classes == 0 || s->train->classes == 2);
    s->world = world;
    s->d = s->train->d;
    s->shard = calloc((size_t)world, sizeof *s->shard);
    for (int m = 0; m < world; m++)
        CU_ASSERT_EQUAL_FATAL(lsgd_partition(&s->shard[m], s->train,
                                             json_object_get(data, "partition"), m, world, seed,
                                             &err), 0);
    json_decref(cfg);
}

static void shards_free(shards *s)
{
    for (int m = 0; m < s->world; m++)
        lsgd_shard_free(&s->shard[m]);
    free(s->shard);
    lsgd_dataset_free(s->train);
}

/* g[d] = ∇f_m(w) = (1/n) Σ_i (wᵀa_i − t_i) a_i over worker m's rows. */
static void gradient(double *g, const shards *s, int m, const double *w)
{
    const lsgd_shard *sh = &s->shard[m];
    memset(g, 0, s->d * sizeof *g);
    for (size_t k = 0; k < sh->n; k++) {
        const float *a = s->train->X + (size_t)sh->rows[k] * s->d;
        double t = s->train->y[sh->rows[k]];
        double r = s->train->classes == 2 ? (t == 1.0 ? -1.0 : 1.0) : -t; /* −target */
        for (size_t j = 0; j < s->d; j++)
            r += w[j] * a[j];
        for (size_t j = 0; j < s->d; j++)
            g[j] += r * a[j] / (double)sh->n;
    }
}

static double max_rel_diff(const float *got, const double *want, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i])));
    return worst;
}

/* The config run on `world` real workers into dir with `sets` (more
 * arguments, may be ""): its model, d floats (malloc'd). */
static float *run_model(const char *config, int world, const char *dir, const char *sets,
                        size_t d)
{
    test_output o = run_workers_args(config, world, dir, "", sets, 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    size_t n = 0;
    float *x = read_model(dir, &n);
    CU_ASSERT_FATAL(x && n == d);
    return x;
}

/* The config run on `world` real workers into dir: its model (d floats,
 * malloc'd) and, in s, the shards it dealt. */
static float *run_with_shards(shards *s, const char *config, int world, const char *dir)
{
    shards_of(s, config, world);
    return run_model(config, world, dir, "", s->d);
}

/* lsgd's model got[n] is the reference want to rounding, and want is
 * measurably not `without` (the reference lacking what the method adds). */
static void is_reference_not_without(const char *method, const float *got, const double *want,
                                     const double *without, size_t n)
{
    double error = max_rel_diff(got, want, n), effect = 0;
    for (size_t j = 0; j < n; j++)
        effect = fmax(effect, fabs(want[j] - without[j]));
    if (error > 1e-5)
        fprintf(stderr, "\n  %s: worst relative difference %.3g\n", method, error);
    CU_ASSERT(error <= 1e-5);
    CU_ASSERT(effect > 1e-3);
}

/* ---- FedProx (§5.4) ---- */

#define FEDPROX_CONFIG "tests/data/algorithms/fedprox_least_squares.json"

/* FedProx from x₀ = 0: `rounds` rounds of `period` gradient steps of size
 * lr on f_m(x) + (μ/2)‖x − x̄‖² from x̄ on each worker, then x̄ ← the mean. */
static void fedprox_by_hand(double *xbar, const shards *s, int rounds, int period, double lr,
                            double mu)
{
    size_t d = s->d;
    double *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    double *sum = malloc(d * sizeof *sum);
    memset(xbar, 0, d * sizeof *xbar);
    for (int r = 0; r < rounds; r++) {
        memset(sum, 0, d * sizeof *sum);
        for (int m = 0; m < s->world; m++) {
            memcpy(x, xbar, d * sizeof *x);
            for (int k = 0; k < period; k++) {
                gradient(g, s, m, x);
                for (size_t j = 0; j < d; j++)
                    x[j] -= lr * (g[j] + mu * (x[j] - xbar[j]));
            }
            for (size_t j = 0; j < d; j++)
                sum[j] += x[j];
        }
        for (size_t j = 0; j < d; j++)
            xbar[j] = sum[j] / s->world;
    }
    free(x);
    free(g);
    free(sum);
}

/* Two workers on least squares, each batch its whole shard (100 rows):
 * lsgd's model after 4 rounds of 5 steps is the reference loop's with the
 * proximal term, and measurably not the one without it. */
LSGD_TEST(engine_methods, fedprox_takes_proximal_gradient_steps_around_the_last_average)
{
    shards s;
    float *got = run_with_shards(&s, FEDPROX_CONFIG, 2, test_tmpdir());
    double with_mu[5], without[5];
    fedprox_by_hand(with_mu, &s, 4, 5, 0.2, 2.0);
    fedprox_by_hand(without, &s, 4, 5, 0.2, 0.0);
    is_reference_not_without("fedprox", got, with_mu, without, 5);
    free(got);
    shards_free(&s);
}

/* ---- SCAFFOLD (§5.5) ---- */

#define SCAFFOLD_CONFIG "tests/data/algorithms/scaffold_least_squares.json"

/* SCAFFOLD option II from x₀ = 0, c_m = c = 0, plain gradient steps of
 * size lr (control = 0: FedAvg, the corrections left out). */
static void scaffold_by_hand(double *xbar, const shards *s, int rounds, int period, double lr,
                             int control)
{
    size_t d = s->d;
    int world = s->world;
    double *x = malloc(world * d * sizeof *x), *cm = calloc(world * d, sizeof *cm);
    double *c = calloc(d, sizeof *c), *g = malloc(d * sizeof *g);
    memset(xbar, 0, d * sizeof *xbar);
    for (int r = 0; r < rounds; r++) {
        for (int m = 0; m < world; m++) {
            double *y = x + (size_t)m * d, *cmm = cm + (size_t)m * d;
            memcpy(y, xbar, d * sizeof *y);
            for (int k = 0; k < period; k++) {
                gradient(g, s, m, y);
                for (size_t j = 0; j < d; j++)
                    y[j] -= lr * (g[j] + (control ? c[j] - cmm[j] : 0));
            }
            for (size_t j = 0; j < d; j++)
                cmm[j] = cmm[j] - c[j] + (xbar[j] - y[j]) / (period * lr);
        }
        for (size_t j = 0; j < d; j++) {
            double xs = 0, cs = 0;
            for (int m = 0; m < world; m++) {
                xs += x[(size_t)m * d + j];
                cs += cm[(size_t)m * d + j];
            }
            xbar[j] = xs / world;
            c[j] = cs / world;
        }
    }
    free(x);
    free(cm);
    free(c);
    free(g);
}

/* bytes_sent of round r (from 0) of dir's run. */
static double bytes_of_round(const char *dir, size_t r)
{
    metrics_table t;
    if (read_metrics(&t, dir))
        return NAN;
    double v = r < t.rows ? value(&t, r, column(&t, "bytes_sent")) : NAN;
    metrics_free(&t);
    return v;
}

/* Two workers on least squares, full-batch: lsgd's model after 3 rounds of
 * 5 steps is the option II reference loop's, not FedAvg's; each round
 * sends more bytes than local_sgd's (the average of the c_m). */
LSGD_TEST(engine_methods, scaffold_corrects_local_steps_with_option_ii_control_variates)
{
    const char *dir = test_tmpdir(), *plain = test_tmpdir();
    shards s;
    float *got = run_with_shards(&s, SCAFFOLD_CONFIG, 2, dir);
    float *avg = run_model(SCAFFOLD_CONFIG, 2, plain, "--set algorithm.type=local_sgd", 5);
    double want[5], fedavg[5];
    fedprox_by_hand(fedavg, &s, 3, 5, 0.2, 0.0); /* FedAvg is FedProx with μ = 0 */
    scaffold_by_hand(want, &s, 3, 5, 0.2, 1);
    is_reference_not_without("scaffold", got, want, fedavg, 5);
    CU_ASSERT(max_rel_diff(avg, fedavg, 5) <= 1e-5); /* and the FedAvg loop is local_sgd */
    for (size_t r = 0; r < 3; r++)
        CU_ASSERT(bytes_of_round(dir, r) > bytes_of_round(plain, r));
    free(got);
    free(avg);
    shards_free(&s);
}

/* ---- Post-local SGD (§5.6) ---- */

#define POST_LOCAL_CONFIG "tests/data/algorithms/post_local_least_squares.json"

/* From x₀ = 0 for `steps` gradient steps of size lr: before `warmup`, every
 * worker steps on the mean of the workers' gradients; after, each on its
 * own, and the models are averaged at every multiple of `period` (and at
 * the end) that closes a round with a local step. */
static void post_local_by_hand(double *xbar, const shards *s, int steps, int period,
                               int warmup, double lr)
{
    size_t d = s->d;
    int world = s->world;
    double *x = calloc(world * d, sizeof *x), *g = malloc(d * sizeof *g);
    double *mean = malloc(d * sizeof *mean);
    for (int t = 0; t < steps; t++) {
        if (t < warmup) {
            memset(mean, 0, d * sizeof *mean);
            for (int m = 0; m < world; m++) {
                gradient(g, s, m, x + (size_t)m * d);
                for (size_t j = 0; j < d; j++)
                    mean[j] += g[j] / world;
            }
        }
        for (int m = 0; m < world; m++) {
            double *xm = x + (size_t)m * d;
            if (t >= warmup)
                gradient(g, s, m, xm);
            for (size_t j = 0; j < d; j++)
                xm[j] -= lr * (t < warmup ? mean[j] : g[j]);
        }
        int communication = (t + 1) % period == 0 || t + 1 == steps;
        if (communication && t >= warmup)
            for (size_t j = 0; j < d; j++) {
                double sum = 0;
                for (int m = 0; m < world; m++)
                    sum += x[(size_t)m * d + j];
                for (int m = 0; m < world; m++)
                    x[(size_t)m * d + j] = sum / world;
            }
    }
    memcpy(xbar, x, d * sizeof *xbar);
    free(x);
    free(g);
    free(mean);
}

/* Two workers on label-split least squares, 22 full-batch steps, period 5,
 * warm-up 7: lsgd's model is the reference loop's; the warm-up matters (a
 * run without it is local_sgd's) and the rounds inside it have no drift. */
LSGD_TEST(engine_methods, post_local_sgd_averages_gradients_until_warmup_then_steps_locally)
{
    const char *dir = test_tmpdir();
    shards s;
    float *got = run_with_shards(&s, POST_LOCAL_CONFIG, 2, dir);
    double want[5], local[5];
    post_local_by_hand(want, &s, 22, 5, 7, 0.2);
    post_local_by_hand(local, &s, 22, 5, 0, 0.2);
    is_reference_not_without("post_local_sgd", got, want, local, 5);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    CU_ASSERT_EQUAL_FATAL(t.rows, 5);
    CU_ASSERT_EQUAL(value(&t, 0, column(&t, "drift")), 0); /* round 1: all warm-up */
    CU_ASSERT(value(&t, 1, column(&t, "drift")) > 0);      /* round 2: 3 local steps */
    metrics_free(&t);
    free(got);
    shards_free(&s);
}

/* ---- FedAvg with partial participation (§5.7) ---- */

#define FEDAVG_CONFIG "tests/data/algorithms/fedavg_least_squares.json"

/* One FedAvg round from xbar: the workers of `who` (a bit mask) take
 * `period` gradient steps of size lr each, and xbar becomes their mean. */
static void fedavg_round(double *xbar, const shards *s, unsigned who, int period, double lr)
{
    size_t d = s->d;
    double *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g), *sum = calloc(d, sizeof *sum);
    int k = 0;
    for (int m = 0; m < s->world; m++) {
        if (!(who >> m & 1))
            continue;
        memcpy(x, xbar, d * sizeof *x);
        for (int t = 0; t < period; t++) {
            gradient(g, s, m, x);
            for (size_t j = 0; j < d; j++)
                x[j] -= lr * g[j];
        }
        for (size_t j = 0; j < d; j++)
            sum[j] += x[j];
        k++;
    }
    for (size_t j = 0; j < d; j++)
        xbar[j] = sum[j] / k;
    free(x);
    free(g);
    free(sum);
}

static int bits(unsigned v)
{
    int n = 0;
    for (; v; v >>= 1)
        n += v & 1;
    return n;
}

/* The smallest relative distance of got[d] to the result of `rounds`
 * rounds from start, over every choice of `k` participants per round;
 * *path the choices (a mask per round, 4 bits each). */
static double closest_samples(const float *got, const shards *s, const double *start,
                              int rounds, int k, int period, double lr, unsigned *path)
{
    double best = INFINITY;
    unsigned full = (1u << s->world) - 1;
    for (unsigned who = 1; who <= full; who++) {
        if (bits(who) != k)
            continue;
        double x[16];
        memcpy(x, start, s->d * sizeof *x);
        fedavg_round(x, s, who, period, lr);
        unsigned rest = 0;
        double e = rounds == 1 ? max_rel_diff(got, x, s->d)
                               : closest_samples(got, s, x, rounds - 1, k, period, lr, &rest);
        if (e < best) {
            best = e;
            *path = who | rest << 4;
        }
    }
    return best;
}

/* Four workers, one label-sorted shard each, 2 of 4 taking part in each
 * of 3 full-batch rounds: lsgd's model is the reference loop's for one
 * choice of pairs (any sample is tried), not full participation's; the
 * sample changes from round to round; `fraction: 0.5` is the same K. */
LSGD_TEST(engine_methods, fedavg_averages_over_a_seeded_sample_of_participants_each_round)
{
    const char *dir = test_tmpdir(), *half = test_tmpdir();
    shards s;
    float *got = run_with_shards(&s, FEDAVG_CONFIG, 4, dir);
    float *by_fraction = run_model(FEDAVG_CONFIG, 4, half,
                                   "--set algorithm.fedavg='{\"fraction\": 0.5}'", 5);
    double zero[5] = {0}, all[5] = {0};
    unsigned path = 0;
    double error = closest_samples(got, &s, zero, 3, 2, 5, 0.2, &path);
    if (error > 1e-5)
        fprintf(stderr, "\n  fedavg: no choice of participants within %.3g\n", error);
    CU_ASSERT(error <= 1e-5);
    for (int r = 0; r < 3; r++)
        fedavg_round(all, &s, 0xf, 5, 0.2);
    CU_ASSERT(max_rel_diff(got, all, 5) > 1e-3); /* not everyone took part */
    unsigned first = path & 0xf;
    CU_ASSERT((path >> 4 & 0xf) != first || (path >> 8 & 0xf) != first);
    CU_ASSERT_EQUAL(memcmp(got, by_fraction, 5 * sizeof *got), 0);
    metrics_table t; /* loss and drift are the participants' */
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    for (size_t r = 0; r < t.rows; r++)
        CU_ASSERT(isfinite(value(&t, r, column(&t, "train_loss"))) &&
                  isfinite(value(&t, r, column(&t, "drift"))));
    metrics_free(&t);
    free(got);
    free(by_fraction);
    shards_free(&s);
}

/* K is checked against the number of workers where validate and run look
 * before any worker starts (check_world), so validate refuses it. */
LSGD_TEST(engine_methods, fedavg_with_more_participants_than_workers_is_refused_by_validate)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && %s validate %s --set algorithm.fedavg.participants=5",
             test_root_dir(), test_build_path("bin/lsgd"), FEDAVG_CONFIG);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "participants: 5 of 4 workers"));
    test_output_free(&o);
}
