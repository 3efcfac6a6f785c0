/*
 * engine_algorithms.c — the algorithms of docs/algorithms.md §1–§6 end to end:
 * the sampler's two ways of drawing minibatches, `scaling.state: average`
 * giving every worker one Adam state, Local-GD with one step per round is
 * GD, its direction approaches the max-margin direction, Modified Local-GD
 * averages each worker's regularized local solution, minibatch SGD keeps
 * all workers on one model, the outer optimizer is plain averaging with sgd
 * and lr 1 and the DiLoCo / FedAdam step otherwise, Overlap-Local-SGD
 * trains and hides an emulated link delay behind computation.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "engine/run.h"
#include "engine_helpers.h"
#include "harness.h"
#include "io/checkpoint.h"
#include "io/npy.h"
#include "models/model.h"

static float *model_of(const char *dir, size_t *n)
{
    return read_model(dir, n);
}

static double distance(const float *a, const float *b, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(sum);
}

static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i])));
    return worst;
}

/* Record `name` of dir/out/checkpoint/rank-<rank>.ckpt, copied (malloc'd);
 * *bytes its size; NULL when missing. */
static void *checkpoint_record(const char *dir, int rank, const char *name, size_t *bytes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out/checkpoint/rank-%d.ckpt", dir, rank);
    lsgd_ckpt c;
    lsgd_error err;
    if (lsgd_ckpt_load(&c, path, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return NULL;
    }
    const void *rec = lsgd_ckpt_find(&c, name, bytes);
    void *copy = rec ? malloc(*bytes) : NULL;
    if (copy)
        memcpy(copy, rec, *bytes);
    lsgd_ckpt_free(&c);
    return copy;
}

/* ---- minibatch sampling (algorithm.sampling) ---- */

/* A shard of n rows with ids 1000 + 7i, so a row outside it shows. */
static uint32_t *shard_rows(size_t n)
{
    uint32_t *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = (uint32_t)(1000 + 7 * i);
    return rows;
}

/* seen[i] counts row 1000 + 7i; 0 when a row is not of the shard. */
static int count_rows(unsigned *seen, const uint32_t *batch, size_t b, size_t n)
{
    for (size_t k = 0; k < b; k++) {
        if (batch[k] < 1000 || (batch[k] - 1000) % 7 || (batch[k] - 1000) / 7 >= n)
            return 0;
        seen[(batch[k] - 1000) / 7]++;
    }
    return 1;
}

/* reshuffle: batches of 3 straddle the 10-row epochs; every window of 10
 * consecutive draws that starts at an epoch boundary holds each row once,
 * and the epochs come in different orders. */
LSGD_TEST(engine_algorithms, reshuffle_visits_every_row_of_the_shard_once_per_epoch)
{
    enum { N = 10, B = 3, EPOCHS = 6 };
    uint32_t *rows = shard_rows(N), drawn[EPOCHS * N];
    lsgd_sampler s;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_sampler_init(&s, rows, N, B, 0, 7, 0x2000, &err), LSGD_OK);
    for (size_t k = 0; k < EPOCHS * N; k += B) {
        const uint32_t *b = lsgd_sampler_next(&s);
        for (size_t i = 0; i < B && k + i < EPOCHS * N; i++)
            drawn[k + i] = b[i];
    }
    for (int e = 0; e < EPOCHS; e++) {
        unsigned seen[N] = {0};
        CU_ASSERT_FATAL(count_rows(seen, drawn + e * N, N, N));
        for (int i = 0; i < N; i++)
            CU_ASSERT_EQUAL(seen[i], 1);
    }
    CU_ASSERT_EQUAL(s.epoch, EPOCHS - 1); /* it counts at the next epoch's first draw */
    int reordered = 0;
    for (int e = 1; e < EPOCHS; e++)
        reordered += memcmp(drawn, drawn + e * N, N * sizeof *drawn) != 0;
    CU_ASSERT_EQUAL(reordered, EPOCHS - 1);
    lsgd_sampler_free(&s);
    free(rows);
}

/* with_replacement: rows of the shard only, but an epoch's worth of draws
 * repeats some and misses others, and over many draws each row comes up
 * about equally often. */
LSGD_TEST(engine_algorithms, with_replacement_draws_shard_rows_with_repeats_and_misses)
{
    enum { N = 20, B = 4, DRAWS = 20000 };
    uint32_t *rows = shard_rows(N);
    lsgd_sampler s;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_sampler_init(&s, rows, N, B, 1, 7, 0x2000, &err), LSGD_OK);
    unsigned first[N] = {0}, all[N] = {0};
    for (int k = 0; k < N / B; k++)
        CU_ASSERT_FATAL(count_rows(first, lsgd_sampler_next(&s), B, N));
    int repeats = 0, misses = 0;
    for (int i = 0; i < N; i++) {
        repeats += first[i] > 1;
        misses += first[i] == 0;
    }
    CU_ASSERT(repeats > 0 && misses > 0);
    for (int k = 0; k < DRAWS / B; k++)
        CU_ASSERT_FATAL(count_rows(all, lsgd_sampler_next(&s), B, N));
    for (int i = 0; i < N; i++) /* mean 1000, sd ≈ 31 */
        CU_ASSERT(all[i] > 850 && all[i] < 1150);
    CU_ASSERT_EQUAL(s.epoch, 0);
    lsgd_sampler_free(&s);
    free(rows);
}

/* ---- scaling.state: average (§1) ---- */

/* Worker `rank`'s Adam state after round 2 of a 3-round run: the floats of
 * its checkpoint's scaling record (magic, dim, count, step, refresh,
 * names_size, the names, then m and v); *floats their count. */
static float *adam_state(const char *dir, int rank, size_t dim, size_t *floats)
{
    size_t bytes = 0;
    unsigned char *rec = checkpoint_record(dir, rank, "scaling", &bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    uint64_t head[5];
    memcpy(head, rec + 8, sizeof head);
    CU_ASSERT_EQUAL(head[0], dim);
    CU_ASSERT_EQUAL(head[1], 2);                          /* m and v */
    CU_ASSERT_EQUAL(memcmp(rec + 48, "m\0v\0", 4), 0);
    CU_ASSERT_EQUAL_FATAL(bytes, 48 + head[4] + 2 * dim * sizeof(float));
    *floats = 2 * dim;
    float *state = malloc(*floats * sizeof *state);
    memcpy(state, rec + 48 + head[4], *floats * sizeof *state);
    free(rec);
    return state;
}

/* Whether the two workers' Adam states (m and v) are bitwise equal after
 * round 2 under the policy; also that the states moved off zero. */
static int adam_states_equal(const char *policy)
{
    const char *dir = test_tmpdir();
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": 3, \"workers\": 2, \"model\": {\"type\": \"logreg\"},"
             " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
             " \"n\": 200, \"d\": 5, \"noise\": 2}},"
             " \"algorithm\": {\"steps\": 12, \"batch_size\": 4, \"lr\": 0.05},"
             " \"schedule\": {\"type\": \"constant\", \"period\": 4},"
             " \"scaling\": {\"plugin\": \"adam\", \"state\": \"%s\"},"
             " \"transport\": {\"plugin\": \"shm\"},"
             " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 1}}", policy);
    run_workers_ok(text, 2, dir);
    size_t n0, n1, nx;
    float *x = checkpoint_record(dir, 0, "x", &nx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    size_t dim = nx / sizeof *x;
    float *s0 = adam_state(dir, 0, dim, &n0), *s1 = adam_state(dir, 1, dim, &n1);
    double v = 0;
    for (size_t i = dim; i < 2 * dim; i++)
        v += s0[i];
    CU_ASSERT(v > 0); /* v holds squared gradients */
    int equal = memcmp(s0, s1, n0 * sizeof *s0) == 0;
    free(x);
    free(s0);
    free(s1);
    return equal;
}

LSGD_TEST(engine_algorithms, state_average_gives_every_worker_the_same_adam_m_and_v)
{
    CU_ASSERT_TRUE(adam_states_equal("average"));
    CU_ASSERT_FALSE(adam_states_equal("local")); /* each worker's own minibatches */
}

static const char *SEPARABLE =
    "{\"seed\": 4, \"workers\": 2, \"model\": {\"type\": \"logreg\", \"bias\": false},"
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"separable\","
    " \"n\": 400, \"d\": 10}, \"partition\": {\"type\": \"iid\"}},"
    " \"algorithm\": {\"type\": \"local_gd\", \"steps\": 30, \"lr\": 0.5},"
    " \"schedule\": {\"type\": \"constant\", \"period\": 1},"
    " \"transport\": {\"plugin\": \"shm\"}, \"output\": {\"progress\": \"none\"}}";

/* §3: with L = 1 (average after every full local gradient step) Local-GD is
 * gradient descent on f = mean of the equal-sized shards' losses. */
LSGD_TEST(engine_algorithms, local_gd_with_one_step_per_round_is_gradient_descent)
{
    const char *dir = test_tmpdir();
    run_workers_ok(SEPARABLE, 2, dir);

    json_error_t jerr;
    json_t *cfg = json_loads(SEPARABLE, 0, &jerr);
    lsgd_dataset *train = NULL, *test = NULL;
    lsgd_model *model = NULL;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, json_object_get(cfg, "data"), 4, &err), 0);
    CU_ASSERT_EQUAL_FATAL(lsgd_model_create(&model, json_object_get(cfg, "model"), train, &err), 0);
    size_t dim = model->dim;
    float *x = malloc(dim * sizeof *x), *g = malloc(dim * sizeof *g);
    uint32_t *all = malloc(train->n * sizeof *all);
    for (size_t i = 0; i < train->n; i++)
        all[i] = (uint32_t)i;
    lsgd_rng init;
    lsgd_rng_seed(&init, 4, LSGD_STREAM_INIT);
    model->ops->init(model, x, &init);
    lsgd_batch b = {.set = train, .rows = all, .n = train->n};
    for (int t = 0; t < 30; t++) {
        double loss;
        model->ops->loss_grad(model, x, &b, &loss, g, &err);
        for (size_t i = 0; i < dim; i++)
            x[i] -= 0.5f * g[i];
    }
    size_t n = 0;
    float *got = model_of(dir, &n);
    CU_ASSERT_EQUAL_FATAL(n, dim);
    CU_ASSERT(max_rel_diff(got, x, dim) < 1e-5);
    CU_ASSERT(fabs(x[0]) > 1e-3); /* GD moved */
    free(got);
    free(x);
    free(g);
    free(all);
    lsgd_model_destroy(model);
    lsgd_dataset_free(train);
    json_decref(cfg);
}

/* §3 check: label-split separable data over 5 workers; for every L the
 * averaged direction approaches the max-margin direction, and each worker
 * alone sits near its own shard's direction. */
LSGD_TEST(engine_algorithms, local_gd_direction_approaches_the_max_margin_direction_for_every_L)
{
    const int Ls[] = {1, 10, 100};
    for (int k = 0; k < 3; k++) {
        const char *dir = test_tmpdir();
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"seed\": 1, \"workers\": 5, \"model\": {\"type\": \"logreg\", \"bias\": false},"
                 " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"separable\","
                 " \"n\": 400, \"d\": 10}, \"partition\": {\"type\": \"shards\","
                 " \"shards_per_worker\": 1}},"
                 " \"algorithm\": {\"type\": \"local_gd\", \"steps\": 2000, \"lr\": 1.0},"
                 " \"schedule\": {\"type\": \"constant\", \"period\": %d},"
                 " \"metrics\": {\"max_margin\": true}, \"transport\": {\"plugin\": \"shm\"},"
                 " \"output\": {\"progress\": \"none\"}}", Ls[k]);
        run_workers_ok(text, 5, dir);
        metrics_table t;
        CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
        int c = column(&t, "max_margin_cos"), l = column(&t, "local_margin_cos");
        double first = 1 - value(&t, 0, c), mid = 1 - value(&t, t.rows / 2, c);
        double last = 1 - value(&t, t.rows - 1, c);
        CU_ASSERT(last < mid && mid < first);
        CU_ASSERT(last < 0.5 * first);
        CU_ASSERT(last < 2e-3);
        CU_ASSERT(value(&t, t.rows - 1, l) > 0.95);
        metrics_free(&t);
    }
}

/* ---- Modified Local-GD (§3): the regularized local solve ---- */

/* 5 workers on label-split separable data; %d rounds of one solve each,
 * λ %g, tolerance 1e-4 on ‖∇f_m + λ(w − x̄)‖, at most %d inner steps;
 * a checkpoint every %d rounds. */
static const char *REGULARIZED =
    "{\"seed\": 3, \"workers\": 5,"
    " \"model\": {\"type\": \"logreg\", \"bias\": false, \"init\": {\"type\": \"zeros\"}},"
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"separable\","
    " \"n\": 400, \"d\": 10}, \"partition\": {\"type\": \"shards\", \"shards_per_worker\": 1}},"
    " \"algorithm\": {\"type\": \"local_gd\", \"steps\": %d, \"lr\": 0.5,"
    " \"local_gd\": {\"variant\": \"regularized\", \"lambda\": %g, \"tolerance\": 1e-4,"
    " \"max_inner\": %d}},"
    " \"schedule\": {\"type\": \"constant\", \"period\": 1},"
    " \"metrics\": {\"max_margin\": true}, \"transport\": {\"plugin\": \"shm\"},"
    " \"output\": {\"progress\": \"none\", \"checkpoint_every\": %d}}";
#define REGULARIZED_TOLERANCE 1e-4

/* w[d] = argmin_w f_m(w) + (λ/2)‖w − centre‖², f_m the mean logistic loss
 * of the margins s·wᵀa over the shard (s = +1 for class 1, −1 for class 0),
 * by gradient descent in double with step 1/(λ + ¼ max‖a‖²) until ‖∇‖ < 1e-11:
 * the exact solution, computed apart from the engine and its models. */
static void regularized_minimizer(double *w, const lsgd_dataset *set, const lsgd_shard *shard,
                                  const float *centre, double lambda)
{
    size_t d = set->d;
    double curvature = 0, *g = malloc(d * sizeof *g);
    for (size_t k = 0; k < shard->n; k++) {
        const float *a = set->X + (size_t)shard->rows[k] * d;
        double sq = 0;
        for (size_t j = 0; j < d; j++)
            sq += (double)a[j] * a[j];
        curvature = fmax(curvature, 0.25 * sq);
    }
    double step = 1.0 / (lambda + curvature);
    for (size_t j = 0; j < d; j++)
        w[j] = centre[j];
    for (int it = 0; it < 200000; it++) {
        for (size_t j = 0; j < d; j++)
            g[j] = lambda * (w[j] - centre[j]);
        for (size_t k = 0; k < shard->n; k++) {
            const float *a = set->X + (size_t)shard->rows[k] * d;
            double s = set->y[shard->rows[k]] == 1.0f ? 1.0 : -1.0, z = 0;
            for (size_t j = 0; j < d; j++)
                z += w[j] * a[j];
            double coef = -s / (1.0 + exp(s * z)) / (double)shard->n; /* dℓ/dz / n */
            for (size_t j = 0; j < d; j++)
                g[j] += coef * a[j];
        }
        double norm2 = 0;
        for (size_t j = 0; j < d; j++)
            norm2 += g[j] * g[j];
        if (norm2 < 1e-22)
            break;
        for (size_t j = 0; j < d; j++)
            w[j] -= step * g[j];
    }
    free(g);
}

/* ‖x̄ − (1/M) Σ_m w_m*‖, w_m* worker m's exact regularized minimizer around
 * centre, the shards dealt as the run dealt them. */
static double distance_to_mean_of_minimizers(const float *xbar, const float *centre,
                                             const char *text, int world, double lambda)
{
    json_t *cfg = json_loads(text, 0, NULL);
    const json_t *data = json_object_get(cfg, "data");
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(cfg, "seed"));
    lsgd_dataset *train = NULL, *test = NULL;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, seed, &err), 0);
    size_t d = train->d;
    double *w = malloc(d * sizeof *w), *mean = calloc(d, sizeof *mean);
    for (int m = 0; m < world; m++) {
        lsgd_shard shard;
        CU_ASSERT_EQUAL_FATAL(lsgd_partition(&shard, train, json_object_get(data, "partition"),
                                             m, world, seed, &err), 0);
        regularized_minimizer(w, train, &shard, centre, lambda);
        for (size_t j = 0; j < d; j++)
            mean[j] += w[j] / world;
        lsgd_shard_free(&shard);
    }
    double dist2 = 0;
    for (size_t j = 0; j < d; j++)
        dist2 += (xbar[j] - mean[j]) * (xbar[j] - mean[j]);
    free(w);
    free(mean);
    lsgd_dataset_free(train);
    json_decref(cfg);
    return sqrt(dist2);
}

/* Two rounds; x̄₁ from rank 0's checkpoint after round 1, x̄₂ the model.
 * *moved = ‖x̄₂ − x̄₁‖; returns the larger distance of x̄₁ and x̄₂ to the
 * means of the exact minimizers around x₀ = 0 and around x̄₁. */
static double regularized_round_error(int max_inner, double lambda, double *moved)
{
    char text[2048];
    snprintf(text, sizeof text, REGULARIZED, 2, lambda, max_inner, 1);
    const char *dir = test_tmpdir();
    run_workers_ok(text, 5, dir);
    size_t bytes = 0, n = 0;
    float *x1 = checkpoint_record(dir, 0, "x", &bytes), *x2 = model_of(dir, &n);
    CU_ASSERT_FATAL(x1 && x2 && n == 10 && bytes == 10 * sizeof *x1);
    float zero[10] = {0};
    double e1 = distance_to_mean_of_minimizers(x1, zero, text, 5, lambda);
    double e2 = distance_to_mean_of_minimizers(x2, x1, text, 5, lambda);
    *moved = distance(x1, x2, 10);
    free(x1);
    free(x2);
    return fmax(e1, e2);
}

/* §3 Modified Local-GD: each worker solves min f_m(w) + (λ/2)‖w − x̄‖² to
 * the tolerance, so after each round x̄ is the mean of the exact minimizers
 * around the previous x̄ to within tolerance/λ (the problem is λ-strongly
 * convex: ‖w − w*‖ ≤ ‖∇‖/λ).  A solve cut to 2 inner steps is far off. */
LSGD_TEST(engine_algorithms, regularized_local_gd_averages_each_workers_solution_to_tolerance)
{
    const double lambda = 1.0, bound = 1.05 * REGULARIZED_TOLERANCE / lambda + 1e-6;
    double moved, solved = regularized_round_error(5000, lambda, &moved);
    if (!(solved <= bound))
        fprintf(stderr, "\n  distance to the mean of the minimizers %.3g > %.3g\n", solved,
                bound);
    CU_ASSERT(solved <= bound);
    CU_ASSERT(moved > 100 * REGULARIZED_TOLERANCE); /* round 2 had a centre of its own */
    double cut = regularized_round_error(2, lambda, &moved);
    CU_ASSERT(cut > 10 * bound);
}

/* §3: Modified Local-GD's x̄ turns toward the max-margin direction round
 * after round (λ fixed, the step not shrunk), and every round's solves end
 * at the tolerance. */
LSGD_TEST(engine_algorithms, regularized_local_gd_direction_approaches_the_max_margin_direction)
{
    char text[2048];
    snprintf(text, sizeof text, REGULARIZED, 200, 0.1, 5000, 0);
    const char *dir = test_tmpdir();
    run_workers_ok(text, 5, dir);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    CU_ASSERT_EQUAL_FATAL(t.rows, 200);
    int c = column(&t, "max_margin_cos"), gn = column(&t, "grad_norm");
    double first = 1 - value(&t, 0, c), mid = 1 - value(&t, t.rows / 2, c);
    double last = 1 - value(&t, t.rows - 1, c);
    if (!(last < mid && mid < first && last < 0.2 * first))
        fprintf(stderr, "\n  1 - cos: first %.3g, middle %.3g, last %.3g\n", first, mid, last);
    CU_ASSERT(last < mid && mid < first);
    CU_ASSERT(last < 0.2 * first);
    for (size_t r = 0; r < t.rows; r++) /* the mean over workers of the final ‖∇‖ */
        CU_ASSERT(value(&t, r, gn) <= REGULARIZED_TOLERANCE);
    metrics_free(&t);
}

/* §5: minibatch SGD averages gradients every step, so every worker holds
 * the same model, bitwise, at every checkpoint. */
LSGD_TEST(engine_algorithms, minibatch_sgd_keeps_every_worker_on_one_model)
{
    const char *dir = test_tmpdir();
    const char *cfg = write_config(dir,
        "{\"seed\": 2, \"workers\": 3, \"model\": {\"type\": \"softmax\"},"
        " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
        " \"n\": 300, \"d\": 6, \"classes\": 3, \"noise\": 1.5}},"
        " \"algorithm\": {\"type\": \"minibatch_sgd\", \"steps\": 40, \"batch_size\": 4, \"lr\": 0.1},"
        " \"schedule\": {\"type\": \"constant\", \"period\": 5},"
        " \"scaling\": {\"plugin\": \"adam\"}, \"transport\": {\"plugin\": \"shm\"},"
        " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 1}}");
    test_output o = run_workers(cfg, 3, dir, "LSGD_FAULT_STOP_AFTER_ROUND=3", 60);
    CU_ASSERT_EQUAL(o.status, 1);
    test_output_free(&o);
    float *x[3] = {NULL, NULL, NULL};
    size_t n[3] = {0, 0, 0};
    for (int r = 0; r < 3; r++) {
        char path[512];
        snprintf(path, sizeof path, "%s/out/checkpoint/rank-%d.ckpt", dir, r);
        lsgd_ckpt c;
        lsgd_error err;
        CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_load(&c, path, &err), 0);
        const void *rec = lsgd_ckpt_find(&c, "x", &n[r]);
        x[r] = malloc(n[r]);
        memcpy(x[r], rec, n[r]);
        lsgd_ckpt_free(&c);
    }
    CU_ASSERT_EQUAL(memcmp(x[0], x[1], n[0]), 0);
    CU_ASSERT_EQUAL(memcmp(x[0], x[2], n[0]), 0);
    for (int r = 0; r < 3; r++)
        free(x[r]);
}

static float *run_and_read(const char *text, int world, size_t *n)
{
    const char *dir = test_tmpdir();
    test_output o = run_workers(write_config(dir, text), world, dir, "", 60);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "%s", o.err);
    test_output_free(&o);
    return model_of(dir, n);
}

#define BLOBS_RUN(alg, sched, extra)                                                        \
    "{\"seed\": 6, \"workers\": 2, \"model\": {\"type\": \"logreg\"},"                       \
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","           \
    " \"n\": 200, \"d\": 5, \"noise\": 2}}, \"algorithm\": {\"type\": \"" alg "\","          \
    " \"steps\": 40, \"batch_size\": 4, \"lr\": 0.1}, \"schedule\": " sched ","              \
    " \"transport\": {\"plugin\": \"shm\"}, " extra " \"output\": {\"progress\": \"none\"}}"

/* §5: plain averaging is the outer optimizer sgd with lr 1. */
LSGD_TEST(engine_algorithms, outer_sgd_with_lr_1_is_plain_averaging)
{
    size_t n1, n2;
    float *plain = run_and_read(BLOBS_RUN("local_sgd", "{\"period\": 4}", ""), 2, &n1);
    float *outer = run_and_read(BLOBS_RUN("local_sgd", "{\"period\": 4}",
                                          "\"outer\": {\"plugin\": \"sgd\", \"lr\": 1},"), 2, &n2);
    CU_ASSERT_FATAL(plain && outer && n1 == n2);
    CU_ASSERT(max_rel_diff(outer, plain, n1) < 1e-5);
    free(outer);
    /* and a DiLoCo outer step (lr 0.7, Nesterov momentum) is something else */
    outer = run_and_read(BLOBS_RUN("local_sgd", "{\"period\": 4}",
                                   "\"outer\": {\"plugin\": \"sgd\", \"lr\": 0.7, \"momentum\": 0.9,"
                                   " \"nesterov\": true},"), 2, &n2);
    CU_ASSERT(max_rel_diff(outer, plain, n1) > 1e-3);
    free(outer);
    free(plain);
}

/* One round (one_shot) of Local SGD on 2 workers from a given x₀, with an
 * outer optimizer (%s: "\"outer\": {…}," or nothing for plain averaging). */
static const char *ONE_ROUND =
    "{\"seed\": 6, \"workers\": 2, \"model\": {\"type\": \"logreg\", \"init\": {\"type\":"
    " \"value\", \"value\": [0.5, -0.25, 0.75, -1, 0.125, 0.3]}},"
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
    " \"n\": 200, \"d\": 5, \"noise\": 2}},"
    " \"algorithm\": {\"type\": \"local_sgd\", \"steps\": 40, \"batch_size\": 4, \"lr\": 0.1},"
    " \"schedule\": {\"type\": \"one_shot\"}, \"transport\": {\"plugin\": \"shm\"}, %s"
    " \"output\": {\"progress\": \"none\"}}";
static const float ONE_ROUND_X0[6] = {0.5f, -0.25f, 0.75f, -1.0f, 0.125f, 0.3f};

enum outer_rule { OUTER_HEAVY_BALL, OUTER_NESTEROV, OUTER_ADAM };

/* The outer step of §5 from x_prev = x₀ on its first round, by hand in
 * double: Δ = x_prev − x̄, then
 *   sgd, momentum μ:  b = Δ (b₀ = 0);  d = b, or Δ + μb with Nesterov
 *   adam:             m = (1−β₁)Δ, v = (1−β₂)Δ²;  d = (m/(1−β₁)) / (√(v/(1−β₂)) + ε)
 * and x = x_prev − lr·d. */
static double outer_step_by_hand(enum outer_rule rule, const float *xbar, size_t i, double lr,
                                 double a, double b, double eps)
{
    double delta = (double)ONE_ROUND_X0[i] - xbar[i], d;
    if (rule == OUTER_ADAM) {
        double m = (1 - a) * delta, v = (1 - b) * delta * delta;
        d = (m / (1 - a)) / (sqrt(v / (1 - b)) + eps);
    } else {
        double mom = delta;
        d = rule == OUTER_NESTEROV ? delta + a * mom : mom;
    }
    return ONE_ROUND_X0[i] - lr * d;
}

/* The model after one round with `outer` against the formula applied to
 * the plain run's x̄ (the same local steps, so the same x̄). */
static void check_outer_step(const char *outer, enum outer_rule rule, double lr, double a,
                             double b, double eps)
{
    char text[2048];
    size_t n1, n2;
    snprintf(text, sizeof text, ONE_ROUND, "");
    float *xbar = run_and_read(text, 2, &n1);
    snprintf(text, sizeof text, ONE_ROUND, outer);
    float *got = run_and_read(text, 2, &n2);
    CU_ASSERT_FATAL(xbar && got && n1 == 6 && n2 == 6);
    double worst = 0, step = 0;
    for (size_t i = 0; i < 6; i++) {
        double expect = outer_step_by_hand(rule, xbar, i, lr, a, b, eps);
        worst = fmax(worst, fabs(got[i] - expect) / fmax(1.0, fabs(expect)));
        step = fmax(step, fabs((double)got[i] - xbar[i]));
    }
    if (worst > 2e-6)
        fprintf(stderr, "\n  %s: worst relative difference %.3g\n", outer, worst);
    CU_ASSERT(worst <= 2e-6);
    CU_ASSERT(step > 1e-2); /* the outer step is not plain averaging */
    free(xbar);
    free(got);
}

/* §5 DiLoCo: outer sgd with Nesterov momentum, lr 0.7, μ 0.9 — and heavy ball. */
LSGD_TEST(engine_algorithms, outer_sgd_with_momentum_takes_the_diloco_step_from_the_pseudo_gradient)
{
    check_outer_step("\"outer\": {\"plugin\": \"sgd\", \"lr\": 0.7, \"momentum\": 0.9,"
                     " \"nesterov\": true},", OUTER_NESTEROV, 0.7, 0.9, 0, 0);
    check_outer_step("\"outer\": {\"plugin\": \"sgd\", \"lr\": 0.7, \"momentum\": 0.9},",
                     OUTER_HEAVY_BALL, 0.7, 0.9, 0, 0);
}

/* §5 FedAdam: outer adam on the pseudo-gradient, with its bias correction. */
LSGD_TEST(engine_algorithms, outer_adam_takes_the_fedadam_step_from_the_pseudo_gradient)
{
    check_outer_step("\"outer\": {\"plugin\": \"adam\", \"lr\": 0.05, \"beta1\": 0.9,"
                     " \"beta2\": 0.99, \"eps\": 0.01},", OUTER_ADAM, 0.05, 0.9, 0.99, 0.01);
}

/* §5: averaging the gradients every step and averaging the models every
 * step are the same method for plain SGD (up to rounding). */
LSGD_TEST(engine_algorithms, minibatch_sgd_equals_local_sgd_averaging_every_step)
{
    size_t n1, n2;
    float *mb = run_and_read(BLOBS_RUN("minibatch_sgd", "{\"period\": 4}", ""), 2, &n1);
    float *ls = run_and_read(BLOBS_RUN("local_sgd", "{\"type\": \"every_step\"}", ""), 2, &n2);
    CU_ASSERT_FATAL(mb && ls && n1 == n2);
    CU_ASSERT(max_rel_diff(mb, ls, n1) < 1e-5);
    free(mb);
    free(ls);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* §4: with an emulated link whose time per round (link_s) is well below a
 * round's computation (360 steps: about 65 ms on a quiet machine, against
 * a link of 30 ms; at 120 steps a quiet machine's 22 ms round could not
 * hide the compressed variant's 30 ms), Overlap-Local-SGD waits for almost none of it,
 * while blocking Local SGD waits for all of it every round; both train.
 * extra: more of the config (compression). */
static void expect_overlap_to_hide_the_link(const char *extra, double latency_ms, double link_s)
{
    double comm[2], loss[2];
    const char *algs[2] = {"local_sgd", "overlap_local_sgd"};
    for (int k = 0; k < 2; k++) {
        const char *dir = test_tmpdir();
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"seed\": 1, \"workers\": 2, \"model\": {\"type\": \"mlp\", \"hidden\": [256]},"
                 " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
                 " \"n\": 4000, \"d\": 200, \"classes\": 10, \"noise\": 3}},"
                 " \"algorithm\": {\"type\": \"%s\", \"steps\": 3600, \"batch_size\": 64, \"lr\": 0.05},"
                 " \"schedule\": {\"type\": \"constant\", \"period\": 360},"
                 " \"transport\": {\"plugin\": \"shm\", \"delay\": {\"latency_ms\": %g}},%s"
                 " \"output\": {\"progress\": \"none\"}}", algs[k], latency_ms, extra);
        run_workers_ok(text, 2, dir);
        metrics_table t;
        CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
        CU_ASSERT_EQUAL_FATAL(t.rows, 10);
        /* the median round: the first and last have no overlap, and on a
         * shared machine one round may wait for a descheduled worker */
        double c[8];
        for (size_t r = 1; r + 1 < t.rows; r++)
            c[r - 1] = value(&t, r, column(&t, "comm_s"));
        qsort(c, 8, sizeof *c, by_value);
        comm[k] = 0.5 * (c[3] + c[4]);
        loss[k] = value(&t, t.rows - 1, column(&t, "train_loss"));
        metrics_free(&t);
    }
    if (!(comm[0] - comm[1] >= 0.7 * link_s && comm[1] <= 0.6 * link_s))
        fprintf(stderr, "\n  median comm_s per round: local_sgd %.4f, overlap %.4f\n", comm[0],
                comm[1]);
    /* Both wait for the slower worker; blocking also waits out the link. */
    CU_ASSERT(comm[0] >= link_s);
    CU_ASSERT(comm[0] - comm[1] >= 0.7 * link_s);
    CU_ASSERT(comm[1] <= 0.6 * link_s);
    CU_ASSERT(loss[0] < 0.2 && loss[1] < 0.2);
}

LSGD_TEST(engine_algorithms, overlap_hides_an_emulated_link_delay_that_local_sgd_pays)
{
    expect_overlap_to_hide_the_link("", 30, 0.030);
}

/* Compressed, a round's link is the payloads' all-gather and the report's
 * average: two latencies. */
LSGD_TEST(engine_algorithms, compressed_overlap_hides_the_emulated_link_that_compressed_local_sgd_pays)
{
    expect_overlap_to_hide_the_link(" \"compression\": {\"plugin\": \"int8\", "
                                    "\"error_feedback\": true},", 15, 0.030);
}
