/*
 * engine.c — the engine end to end: real worker processes, real plugins
 * (.so), the real shm transport, real files.  Each test checks one claim of
 * docs/algorithms.md or of the outputs contract on a small setting.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "engine/run.h"
#include "harness.h"
#include "io/checkpoint.h"
#include "io/npy.h"
#include "models/model.h"
#include "util/rng.h"

#include "engine_helpers.h"

/* A small logistic regression on separable synthetic data. */
static const char *LOGREG =
    "{\"seed\": 3, \"workers\": 2,"
    " \"model\": {\"type\": \"logreg\", \"bias\": false},"
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"separable\","
    "                        \"n\": 400, \"d\": 10},"
    "            \"partition\": {\"type\": \"iid\"}},"
    " \"algorithm\": {\"type\": \"local_sgd\", \"steps\": 60, \"batch_size\": 8, \"lr\": 0.1,"
    "               \"sampling\": \"with_replacement\"},"
    " \"schedule\": {\"type\": \"constant\", \"period\": 5},"
    " \"scaling\": {\"plugin\": \"sgd\"},"
    " \"transport\": {\"plugin\": \"shm\"},"
    " \"output\": {\"progress\": \"none\"}}";

/* ---- §1 check 1: the sgd plugin is plain Local SGD, bitwise ---- */

/* Local SGD written out here, independently of the engine's loop: the same
 * data, shards, x₀ and minibatch draws (the engine's documented streams),
 * x ← x − γg, and the mean (x₀ + x₁)/2 in float as every transport does. */
static void plain_local_sgd(float *out, size_t *dim_out)
{
    json_error_t jerr;
    json_t *cfg = json_loads(LOGREG, 0, &jerr);
    lsgd_error err;
    lsgd_dataset *train = NULL, *test = NULL;
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, json_object_get(cfg, "data"), 3, &err), 0);
    lsgd_model *model;
    CU_ASSERT_EQUAL_FATAL(lsgd_model_create(&model, json_object_get(cfg, "model"), train, &err), 0);
    size_t dim = model->dim;
    lsgd_shard shard[2];
    lsgd_rng draw[2], noise[2];
    float *x[2], *g = malloc(dim * sizeof *g);
    for (int m = 0; m < 2; m++) {
        CU_ASSERT_EQUAL_FATAL(lsgd_partition(&shard[m], train,
                                             json_object_get(json_object_get(cfg, "data"), "partition"),
                                             m, 2, 3, &err), 0);
        lsgd_rng_seed(&draw[m], 3, LSGD_STREAM_BATCH + (uint64_t)m);
        lsgd_rng_seed(&noise[m], 3, LSGD_STREAM_NOISE + (uint64_t)m);
        x[m] = malloc(dim * sizeof *x[m]);
        lsgd_rng init;
        lsgd_rng_seed(&init, 3, LSGD_STREAM_INIT);
        model->ops->init(model, x[m], &init);
    }
    uint32_t rows[8];
    const float lr = 0.1f;
    for (int t = 1; t <= 60; t++) {
        for (int m = 0; m < 2; m++) {
            for (int i = 0; i < 8; i++)
                rows[i] = shard[m].rows[lsgd_rng_below(&draw[m], shard[m].n)];
            lsgd_batch b = {.set = train, .rows = rows, .n = 8, .rng = &noise[m]};
            double loss;
            CU_ASSERT_EQUAL_FATAL(model->ops->loss_grad(model, x[m], &b, &loss, g, &err), 0);
            for (size_t i = 0; i < dim; i++)
                x[m][i] = x[m][i] - lr * g[i];
        }
        if (t % 5 == 0)
            for (size_t i = 0; i < dim; i++) {
                float mean = x[0][i];
                mean += x[1][i];
                mean /= 2.0f;
                x[0][i] = x[1][i] = mean;
            }
    }
    memcpy(out, x[0], dim * sizeof *out);
    *dim_out = dim;
    for (int m = 0; m < 2; m++) {
        free(x[m]);
        lsgd_shard_free(&shard[m]);
    }
    free(g);
    lsgd_model_destroy(model);
    lsgd_dataset_free(train);
    json_decref(cfg);
}

LSGD_TEST(engine, sgd_plugin_run_is_bitwise_plain_local_sgd)
{
    const char *dir = test_tmpdir();
    run_workers_ok(LOGREG, 2, dir);
    float expect[64], *got;
    size_t dim = 0, n = 0;
    plain_local_sgd(expect, &dim);
    char path[512];
    snprintf(path, sizeof path, "%s/out/model.npy", dir);
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_npy_read(path, &got, &n, &err), 0);
    CU_ASSERT_EQUAL_FATAL(n, dim);
    CU_ASSERT_EQUAL(memcmp(got, expect, dim * sizeof *got), 0);
    /* and it learnt something: not still at x₀ = 0 */
    CU_ASSERT(fabs(got[0]) + fabs(got[1]) > 0);
    free(got);
}

/* ---- §1 check 4: refresh sync keeps D̂ identical on all workers ---- */

/* The scaling record of rank r's checkpoint: its last count·dim floats are
 * the state arrays (adam: m, v), in manifest order. */
static float *state_arrays(const char *dir, int rank, size_t *floats)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out/checkpoint/rank-%d.ckpt", dir, rank);
    lsgd_ckpt c;
    lsgd_error err;
    if (lsgd_ckpt_load(&c, path, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return NULL;
    }
    size_t n = 0;
    const unsigned char *rec = lsgd_ckpt_find(&c, "scaling", &n);
    float *copy = malloc(n);
    memcpy(copy, rec, n);
    *floats = n / sizeof(float);
    lsgd_ckpt_free(&c);
    return copy;
}

/* Adam's v (the preconditioner's statistic) and m of both ranks after
 * round 3, as used for the whole local phase of round 4. */
static void adam_states_after_round_3(const char *refresh, int *v_equal, int *m_equal)
{
    const char *dir = test_tmpdir();
    char text[4096];
    snprintf(text, sizeof text,
             "%.*s, \"scaling\": {\"plugin\": \"adam\", \"refresh\": \"%s\"},"
             " \"output\": {\"progress\": \"none\", \"checkpoint_every\": 1}}",
             (int)(strstr(LOGREG, ", \"scaling\"") - LOGREG), LOGREG, refresh);
    const char *cfg = write_config(dir, text);
    test_output o = run_workers(cfg, 2, dir, "LSGD_FAULT_STOP_AFTER_ROUND=4", 60);
    CU_ASSERT_EQUAL(o.status, 1); /* stopped as if interrupted */
    test_output_free(&o);
    size_t n0 = 0, n1 = 0, dim = 10;
    float *s0 = state_arrays(dir, 0, &n0), *s1 = state_arrays(dir, 1, &n1);
    CU_ASSERT_FATAL(s0 && s1 && n0 == n1 && n0 >= 2 * dim);
    const float *m0 = s0 + n0 - 2 * dim, *m1 = s1 + n1 - 2 * dim;
    *m_equal = memcmp(m0, m1, dim * sizeof *m0) == 0;
    *v_equal = memcmp(m0 + dim, m1 + dim, dim * sizeof *m0) == 0;
    free(s0);
    free(s1);
}

LSGD_TEST(engine, refresh_sync_gives_bitwise_identical_preconditioner_on_all_workers)
{
    int v_equal, m_equal;
    adam_states_after_round_3("sync", &v_equal, &m_equal);
    CU_ASSERT_TRUE(v_equal);
    CU_ASSERT_FALSE(m_equal); /* the workers did see different minibatches */
    adam_states_after_round_3("local", &v_equal, &m_equal);
    CU_ASSERT_FALSE(v_equal); /* refresh local: each worker's own D */
}

/* ---- §1 check 3: α ≤ D̂ ≤ Γ, logged per round ---- */

LSGD_TEST(engine, oasis_preconditioner_stays_above_alpha_and_its_range_is_logged)
{
    const char *dir = test_tmpdir();
    run_workers_ok(
        "{\"seed\": 1, \"workers\": 2,"
        " \"model\": {\"type\": \"quadratic\", \"problem\": \"noisy3d\"},"
        " \"algorithm\": {\"steps\": 40, \"batch_size\": 1, \"lr\": 0.05},"
        " \"schedule\": {\"type\": \"constant\", \"period\": 4},"
        " \"scaling\": {\"plugin\": \"oasis\", \"params\": {\"alpha\": 0.5}},"
        " \"transport\": {\"plugin\": \"shm\"}, \"output\": {\"progress\": \"none\"}}",
        2, dir);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    CU_ASSERT_EQUAL(t.rows, 10);
    int dmin = column(&t, "d_min"), dmax = column(&t, "d_max");
    for (size_t r = 0; r < t.rows; r++) {
        CU_ASSERT(value(&t, r, dmin) >= 0.5);
        CU_ASSERT(value(&t, r, dmax) >= value(&t, r, dmin));
        CU_ASSERT(isfinite(value(&t, r, dmax)));
    }
    /* Hessian diag(1,2,3): D̂ ends up spread over [≈1, ≈3] */
    CU_ASSERT(value(&t, t.rows - 1, dmax) > 1.5);
    metrics_free(&t);
}

/* ---- outputs ---- */

LSGD_TEST(engine, metrics_have_one_row_per_round_with_the_documented_columns)
{
    const char *dir = test_tmpdir();
    char text[4096];
    snprintf(text, sizeof text,
             "%.*s, \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"separable\","
             " \"n\": 400, \"d\": 10}, \"test\": {\"split\": 0.25}},"
             " \"algorithm\": {\"steps\": 48, \"batch_size\": 8, \"lr\": 0.1},"
             " \"schedule\": {\"type\": \"increasing\", \"rounds\": 6},"
             " \"scaling\": {\"plugin\": \"adam\"}, \"transport\": {\"plugin\": \"shm\"},"
             " \"output\": {\"progress\": \"lines\", \"eval_every\": 2}}",
             (int)(strstr(LOGREG, ", \"data\"") - LOGREG), LOGREG);
    const char *cfg = write_config(dir, text);
    test_output o = run_workers(cfg, 2, dir, "", 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "test accuracy"));
    test_output_free(&o);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, dir), 0);
    CU_ASSERT_EQUAL_FATAL(t.rows, 6);
    const char *always[] = {"round", "step", "wall_s", "lr", "train_loss", "grad_norm", "drift",
                            "d_min", "d_max", "bytes_sent", "compute_s", "comm_s"};
    for (size_t r = 0; r < t.rows; r++) {
        for (size_t c = 0; c < sizeof always / sizeof *always; c++)
            CU_ASSERT(isfinite(value(&t, r, column(&t, always[c]))));
        CU_ASSERT_EQUAL(value(&t, r, column(&t, "round")), r + 1);
        /* test metrics on evaluation rounds (every 2nd, and the last) only */
        int eval = (r + 1) % 2 == 0 || r + 1 == t.rows;
        CU_ASSERT_EQUAL(isfinite(value(&t, r, column(&t, "test_accuracy"))), eval);
        CU_ASSERT(value(&t, r, column(&t, "bytes_sent")) > 0);
        CU_ASSERT(value(&t, r, column(&t, "drift")) >= 0);
    }
    /* increasing schedule: t_r = ⌊48·r(r+1)/42⌋ */
    CU_ASSERT_EQUAL(value(&t, 0, column(&t, "step")), 2);
    CU_ASSERT_EQUAL(value(&t, 4, column(&t, "step")), 34);
    CU_ASSERT_EQUAL(value(&t, 5, column(&t, "step")), 48);
    CU_ASSERT(value(&t, 5, column(&t, "test_accuracy")) > 0.8);
    CU_ASSERT(value(&t, 5, column(&t, "train_loss")) < value(&t, 0, column(&t, "train_loss")));
    metrics_free(&t);
    /* the JSON lines carry the same rows */
    char path[512];
    snprintf(path, sizeof path, "%s/out/metrics.jsonl", dir);
    json_error_t jerr;
    json_t *rows = json_load_file(path, JSON_DISABLE_EOF_CHECK, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(rows, "round")), 1);
    json_decref(rows);
}

LSGD_TEST(engine, model_npy_loads_in_numpy_with_the_model_size_and_model_json_names_tensors)
{
    const char *dir = test_tmpdir();
    char text[4096];
    snprintf(text, sizeof text,
             "%.*s, \"model\": {\"type\": \"mlp\", \"hidden\": [7]},"
             " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
             " \"n\": 200, \"d\": 5, \"classes\": 3}}, \"algorithm\": {\"steps\": 10},"
             " \"transport\": {\"plugin\": \"shm\"}, \"output\": {\"progress\": \"none\"}}",
             (int)(strstr(LOGREG, ", \"model\"") - LOGREG), LOGREG);
    run_workers_ok(text, 2, dir);
    /* 5·7 + 7 + 7·3 + 3 parameters */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s/out && /usr/bin/python3 -c \"import numpy as np, json; a = np.load('model.npy'); "
             "d = json.load(open('model.json')); assert a.shape == (66,), a.shape; "
             "assert a.dtype == np.float32; assert d['dim'] == 66; "
             "assert sum(int(np.prod(t['shape'])) for t in d['tensors']) == 66; print('ok')\"",
             dir);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "ok"));
    if (o.status)
        fprintf(stderr, "%s%s", o.out, o.err);
    test_output_free(&o);
}
