/* data.c — every format a user brings loads with the right shape and labels:
 * the real LIBSVM heart_scale, the real MNIST IDX files (plain and gzip), CSV
 * with a header, synthetic generators; normalization and the test split;
 * Fashion-MNIST as fetched, CIFAR-10 batches, sample shapes, and the host's
 * one shared copy of the loaded sets. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.h"
#include "engine_helpers.h"
#include "harness.h"

#define HEART_SCALE "/usr/share/doc/liblinear-tools/examples/heart_scale"
#define HEART_SCALE_JSON "{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}"

static lsgd_dataset *load(const char *json, const char *key, size_t features)
{
    json_error_t jerr;
    json_t *cfg = json_loads(json, 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    int rc = lsgd_dataset_load(&set, cfg, key, features, 1, &err);
    json_decref(cfg);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  load failed: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    return set;
}

static const char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/%s", test_root_dir(), name);
    return path;
}

static char *mnist_config(char *buf, size_t size, const char *which)
{
    snprintf(buf, size,
             "{\"format\":\"idx\",\"images\":\"%s/data/mnist/%s-images-idx3-ubyte\","
             "\"labels\":\"%s/data/mnist/%s-labels-idx1-ubyte\"}",
             test_root_dir(), which, test_root_dir(), which);
    return buf;
}

LSGD_TEST(data, heart_scale_loads_270_samples_13_features_two_classes)
{
    lsgd_dataset *set = load(HEART_SCALE_JSON, "data.train", 0);
    CU_ASSERT_EQUAL(set->n, 270);
    CU_ASSERT_EQUAL(set->d, 13);
    CU_ASSERT_EQUAL(set->classes, 2);
    CU_ASSERT_PTR_NULL(set->X);
    CU_ASSERT_EQUAL(set->label_values[0], -1.0f);
    CU_ASSERT_EQUAL(set->label_values[1], 1.0f);
    size_t positives = 0;
    for (size_t i = 0; i < set->n; i++)
        positives += set->y[i] == 1.0f;
    CU_ASSERT_EQUAL(positives, 120); /* awk '{print $1}' heart_scale | sort | uniq -c */
    /* First line: +1 1:0.708333 2:1 3:1 4:-0.320755 ... 12:1 13:-1 (11 is absent) */
    CU_ASSERT_EQUAL(set->y[0], 1.0f);
    CU_ASSERT_EQUAL(set->row_ptr[1] - set->row_ptr[0], 12);
    CU_ASSERT_EQUAL(set->col[0], 0);
    CU_ASSERT_DOUBLE_EQUAL(set->val[0], 0.708333, 1e-6);
    CU_ASSERT_EQUAL(set->col[10], 11);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, libsvm_reads_multiclass_labels_comments_blank_lines_and_qid)
{
    char json[4200];
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}",
             fixture("tiny_multiclass.svm"));
    lsgd_dataset *set = load(json, "data.train", 0);
    CU_ASSERT_EQUAL(set->n, 6);
    CU_ASSERT_EQUAL(set->d, 4);
    CU_ASSERT_EQUAL(set->classes, 3);
    float expect_y[] = {2, 0, 1, 2, 0, 1}; /* labels 3 1 2 3 1 2 → classes of 1,2,3 */
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(set->y[i], expect_y[i]);
    CU_ASSERT_EQUAL(set->label_values[2], 3.0f);
    CU_ASSERT_EQUAL(set->row_ptr[6], 2 + 2 + 4 + 1 + 2 + 2);
    CU_ASSERT_EQUAL(set->col[set->row_ptr[5]], 1); /* qid:7 skipped, 2:-0.25 kept */
    CU_ASSERT_EQUAL(set->val[set->row_ptr[5]], -0.25f);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, libsvm_features_key_sets_the_dimension)
{
    lsgd_dataset *set =
        load("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\",\"features\":20}", "data.train", 0);
    CU_ASSERT_EQUAL(set->d, 20);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, mnist_loads_60000_and_10000_with_the_known_label_histograms)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    char train_cfg[4096], test_cfg[4096], json[8400];
    snprintf(json, sizeof json, "{\"train\":%s,\"test\":%s,\"normalize\":\"unit\"}",
             mnist_config(train_cfg, sizeof train_cfg, "train"),
             mnist_config(test_cfg, sizeof test_cfg, "t10k"));
    json_t *data = json_loads(json, 0, NULL);
    lsgd_dataset *train, *test;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 1, &err), LSGD_OK);
    json_decref(data);
    CU_ASSERT_EQUAL(train->n, 60000);
    CU_ASSERT_EQUAL(test->n, 10000);
    CU_ASSERT_EQUAL(train->d, 784);
    CU_ASSERT_EQUAL(train->classes, 10);
    CU_ASSERT_EQUAL(test->classes, 10);
    const size_t train_counts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    const size_t test_counts[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    lsgd_shard all_train = {NULL, train->n}, all_test = {NULL, test->n};
    all_train.rows = malloc(train->n * sizeof(uint32_t));
    all_test.rows = malloc(test->n * sizeof(uint32_t));
    for (uint32_t i = 0; i < train->n; i++)
        all_train.rows[i] = i;
    for (uint32_t i = 0; i < test->n; i++)
        all_test.rows[i] = i;
    size_t counts[10];
    lsgd_shard_histogram(train, &all_train, counts);
    for (int c = 0; c < 10; c++)
        CU_ASSERT_EQUAL(counts[c], train_counts[c]);
    lsgd_shard_histogram(test, &all_test, counts);
    for (int c = 0; c < 10; c++)
        CU_ASSERT_EQUAL(counts[c], test_counts[c]);
    /* unit: pixels ÷ 255, so values in [0, 1] and some exactly 1 */
    float lo = 1, hi = 0;
    for (size_t i = 0; i < train->n * train->d; i++) {
        lo = train->X[i] < lo ? train->X[i] : lo;
        hi = train->X[i] > hi ? train->X[i] : hi;
    }
    CU_ASSERT_EQUAL(lo, 0.0f);
    CU_ASSERT_EQUAL(hi, 1.0f);
    CU_ASSERT_EQUAL(train->y[0], 5.0f); /* the first training digit is a 5 */
    lsgd_shard_free(&all_train);
    lsgd_shard_free(&all_test);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
}

LSGD_TEST(data, gzip_compressed_idx_files_load_like_the_plain_ones)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *dir = test_tmpdir();
    char cmd[8192], json[8192];
    snprintf(cmd, sizeof cmd,
             "gzip -c '%s/data/mnist/t10k-images-idx3-ubyte' > '%s/img.gz' && "
             "gzip -c '%s/data/mnist/t10k-labels-idx1-ubyte' > '%s/lab.gz'",
             test_root_dir(), dir, test_root_dir(), dir);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    snprintf(json, sizeof json, "{\"format\":\"idx\",\"images\":\"%s/img.gz\",\"labels\":\"%s/lab.gz\"}",
             dir, dir);
    lsgd_dataset *gz = load(json, "data.test", 0);
    char plain_cfg[4096];
    lsgd_dataset *plain = load(mnist_config(plain_cfg, sizeof plain_cfg, "t10k"), "data.test", 0);
    CU_ASSERT_EQUAL(gz->n, 10000);
    CU_ASSERT_EQUAL(gz->d, 784);
    CU_ASSERT(memcmp(gz->X, plain->X, 10000 * 784 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(gz->y, plain->y, 10000 * sizeof(float)) == 0);
    lsgd_dataset_free(gz);
    lsgd_dataset_free(plain);
}

LSGD_TEST(data, csv_skips_the_header_and_takes_the_label_column)
{
    char json[4200];
    snprintf(json, sizeof json,
             "{\"format\":\"csv\",\"path\":\"%s\",\"header\":true,\"label_column\":2}",
             fixture("tiny_header.csv"));
    lsgd_dataset *set = load(json, "data.train", 0);
    CU_ASSERT_EQUAL(set->n, 4);
    CU_ASSERT_EQUAL(set->d, 3);
    CU_ASSERT_EQUAL(set->classes, 2);
    const float X[] = {0.5f, 1, -2, 1.5f, -1, 4, 2.5f, 0, 0, -0.5f, 3, 2};
    CU_ASSERT(memcmp(set->X, X, sizeof X) == 0);
    CU_ASSERT_EQUAL(set->y[0], 1.0f);
    CU_ASSERT_EQUAL(set->y[1], 0.0f);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, csv_without_header_reads_every_line_as_a_sample_label_first_by_default)
{
    const char *path = test_write_file(test_tmpdir(), "plain.csv",
                                       "1,0.5,2\n0,-1,3.5\n\n1,4,0\n2,0.25,-8\n");
    char json[4200];
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\"}", path);
    lsgd_dataset *set = load(json, "data.train", 0);
    CU_ASSERT_EQUAL(set->n, 4); /* the first line is a sample, the blank one is skipped */
    CU_ASSERT_EQUAL(set->d, 2);
    CU_ASSERT_EQUAL_FATAL(set->classes, 3);
    const float X[] = {0.5f, 2, -1, 3.5f, 4, 0, 0.25f, -8};
    CU_ASSERT(memcmp(set->X, X, sizeof X) == 0);
    const float y[] = {1, 0, 1, 2}, values[] = {0, 1, 2};
    CU_ASSERT(memcmp(set->y, y, sizeof y) == 0);
    CU_ASSERT(memcmp(set->label_values, values, sizeof values) == 0);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, csv_without_header_takes_the_configured_label_column)
{
    const char *path = test_write_file(test_tmpdir(), "last.csv",
                                       "0.5,2,-1\n-1,3.5,1\n4,0,1\n");
    char json[4200];
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\",\"label_column\":2}", path);
    lsgd_dataset *set = load(json, "data.train", 0);
    CU_ASSERT_EQUAL(set->n, 3);
    CU_ASSERT_EQUAL(set->d, 2);
    CU_ASSERT_EQUAL_FATAL(set->classes, 2);
    const float X[] = {0.5f, 2, -1, 3.5f, 4, 0};
    CU_ASSERT(memcmp(set->X, X, sizeof X) == 0);
    const float y[] = {0, 1, 1}, values[] = {-1, 1};
    CU_ASSERT(memcmp(set->y, y, sizeof y) == 0);
    CU_ASSERT(memcmp(set->label_values, values, sizeof values) == 0);
    lsgd_dataset_free(set);
    /* a middle column, and non-integer labels make a regression set */
    path = test_write_file(test_tmpdir(), "middle.csv", "1,0.25,2\n3,-1.5,4\n");
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\",\"label_column\":1}", path);
    set = load(json, "data.train", 0);
    CU_ASSERT_EQUAL(set->n, 2);
    CU_ASSERT_EQUAL(set->classes, 0);
    const float X2[] = {1, 2, 3, 4}, y2[] = {0.25f, -1.5f};
    CU_ASSERT(memcmp(set->X, X2, sizeof X2) == 0);
    CU_ASSERT(memcmp(set->y, y2, sizeof y2) == 0);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, separable_generator_labels_every_point_by_its_separator_with_margin)
{
    lsgd_dataset *set = load("{\"format\":\"synthetic\",\"generator\":\"separable\",\"n\":400,"
                             "\"d\":5,\"margin\":0.3}",
                             "data.train", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set->truth);
    double norm = 0, min_margin = INFINITY;
    for (size_t j = 0; j < 5; j++)
        norm += set->truth[j] * set->truth[j];
    CU_ASSERT_DOUBLE_EQUAL(norm, 1.0, 1e-5);
    for (size_t i = 0; i < set->n; i++) {
        double m = 0;
        for (size_t j = 0; j < 5; j++)
            m += set->truth[j] * set->X[i * 5 + j];
        double s = set->label_values[(int)set->y[i]];
        min_margin = s * m < min_margin ? s * m : min_margin;
    }
    CU_ASSERT(min_margin >= 0.3 - 1e-5);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, synthetic_test_set_shares_the_problem_but_not_the_samples)
{
    const char *json = "{\"format\":\"synthetic\",\"generator\":\"quadratic\",\"n\":50,\"d\":4}";
    lsgd_dataset *train = load(json, "data.train", 0), *test = load(json, "data.test", 4);
    CU_ASSERT(memcmp(train->truth, test->truth, 4 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(train->X, test->X, 50 * 4 * sizeof(float)) != 0);
    CU_ASSERT_EQUAL(train->classes, 0);
    lsgd_dataset *again = load(json, "data.train", 0);
    CU_ASSERT(memcmp(train->X, again->X, 50 * 4 * sizeof(float)) == 0);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
    lsgd_dataset_free(again);
}

LSGD_TEST(data, quadratic_generator_spreads_feature_variances_over_three_decades)
{
    lsgd_dataset *set = load("{\"format\":\"synthetic\",\"generator\":\"quadratic\",\"n\":4000,"
                             "\"d\":4,\"noise\":0}",
                             "data.train", 0);
    double var[4] = {0};
    for (size_t i = 0; i < set->n; i++)
        for (int j = 0; j < 4; j++)
            var[j] += set->X[i * 4 + j] * set->X[i * 4 + j] / (double)set->n;
    CU_ASSERT(fabs(var[0] - 1.0) < 0.1);
    CU_ASSERT(fabs(var[3] / 1e-3 - 1.0) < 0.1);
    double residual = 0; /* noise 0: y = Xw* exactly */
    for (size_t i = 0; i < set->n; i++) {
        double z = 0;
        for (int j = 0; j < 4; j++)
            z += set->truth[j] * set->X[i * 4 + j];
        residual += fabs(z - set->y[i]);
    }
    CU_ASSERT(residual / (double)set->n < 1e-5);
    lsgd_dataset_free(set);
}

LSGD_TEST(data, blobs_and_overparameterized_generators_have_the_asked_shapes)
{
    lsgd_dataset *blobs = load("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":90,"
                               "\"d\":3,\"classes\":3}",
                               "data.train", 0);
    CU_ASSERT_EQUAL(blobs->classes, 3);
    CU_ASSERT_EQUAL(blobs->n, 90);
    CU_ASSERT_PTR_NULL(blobs->truth);
    lsgd_dataset *over = load("{\"format\":\"synthetic\",\"generator\":\"overparameterized\","
                              "\"n\":20,\"d\":100}",
                              "data.train", 0);
    CU_ASSERT_EQUAL(over->d, 100);
    CU_ASSERT_EQUAL(over->classes, 0);
    CU_ASSERT_PTR_NOT_NULL(over->truth);
    lsgd_dataset_free(blobs);
    lsgd_dataset_free(over);
}

static void column_moments(const lsgd_dataset *set, size_t j, double *mean, double *sd)
{
    double s = 0, sq = 0;
    for (size_t i = 0; i < set->n; i++) {
        double v = set->X[i * set->d + j];
        s += v;
        sq += v * v;
    }
    *mean = s / (double)set->n;
    *sd = sqrt(sq / (double)set->n - *mean * *mean);
}

LSGD_TEST(data, standardize_uses_the_training_statistics_for_both_sets)
{
    const char *json = "{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":500,\"d\":3,"
                       "\"noise\":2}";
    lsgd_dataset *train = load(json, "data.train", 0), *test = load(json, "data.test", 3);
    double train_mean, train_sd, test_mean_raw, test_sd_raw;
    column_moments(train, 1, &train_mean, &train_sd);
    column_moments(test, 1, &test_mean_raw, &test_sd_raw);
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(train, test, "standardize", &err), LSGD_OK);
    double mean, sd;
    column_moments(train, 1, &mean, &sd);
    CU_ASSERT(fabs(mean) < 1e-5);
    CU_ASSERT(fabs(sd - 1) < 1e-4);
    column_moments(test, 1, &mean, &sd);
    CU_ASSERT_DOUBLE_EQUAL(mean, (test_mean_raw - train_mean) / train_sd, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(sd, test_sd_raw / train_sd, 1e-4);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
}

LSGD_TEST(data, unit_scaling_maps_each_dense_csv_feature_min_max_to_0_1)
{
    char json[4200];
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\",\"header\":true,"
             "\"label_column\":2}", fixture("tiny_header.csv"));
    lsgd_dataset *csv = load(json, "data.train", 0);
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(csv, NULL, "unit", &err), LSGD_OK);
    const float X[] = {1 / 3.0f, 0.5f, 0, 2 / 3.0f, 0, 1, 1, 0.25f, 1 / 3.0f, 0, 1, 2 / 3.0f};
    for (int i = 0; i < 12; i++)
        CU_ASSERT_DOUBLE_EQUAL(csv->X[i], X[i], 1e-6);
    lsgd_dataset_free(csv);
}

/* Both sets have the same CSR pattern: same rows, same columns. */
static int same_sparsity(const lsgd_dataset *a, const lsgd_dataset *b)
{
    size_t nnz = a->row_ptr[a->n];
    return a->n == b->n && a->d == b->d && b->row_ptr[b->n] == nnz &&
           memcmp(a->row_ptr, b->row_ptr, (a->n + 1) * sizeof *a->row_ptr) == 0 &&
           memcmp(a->col, b->col, nnz * sizeof *a->col) == 0;
}

/* heart_scale with column j multiplied by (j + 2) / 2, as LIBSVM text. */
static const char *write_scaled_heart_scale(const char *dir, const lsgd_dataset *heart)
{
    size_t size = heart->row_ptr[heart->n] * 24 + heart->n * 8 + 1, used = 0;
    char *text = malloc(size);
    for (size_t i = 0; i < heart->n; i++) {
        used += (size_t)snprintf(text + used, size - used, "%+g",
                                 heart->label_values[(int)heart->y[i]]);
        for (size_t k = heart->row_ptr[i]; k < heart->row_ptr[i + 1]; k++)
            used += (size_t)snprintf(text + used, size - used, " %u:%.9g", heart->col[k] + 1,
                                     heart->val[k] * (heart->col[k] + 2) / 2.0);
        used += (size_t)snprintf(text + used, size - used, "\n");
    }
    const char *path = test_write_file(dir, "heart_scale_scaled", text);
    free(text);
    return path;
}

LSGD_TEST(data, unit_scaling_divides_sparse_heart_scale_columns_by_max_abs_and_keeps_zeros)
{
    lsgd_dataset *heart = load(HEART_SCALE_JSON, "data.train", 0);
    lsgd_dataset *raw = load(HEART_SCALE_JSON, "data.train", 0);
    size_t nnz = heart->row_ptr[heart->n];
    /* heart_scale itself is signed, every column reaching |x| = 1: unit keeps it. */
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(heart, NULL, "unit", &err), LSGD_OK);
    CU_ASSERT(same_sparsity(heart, raw));
    CU_ASSERT(memcmp(heart->val, raw->val, nnz * sizeof(float)) == 0);
    /* Column j scaled by (j+2)/2: unit divides by that column's max |x_j|,
     * the train's maxima also divide the test set. */
    char json[4400];
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}",
             write_scaled_heart_scale(test_tmpdir(), raw));
    lsgd_dataset *scaled = load(json, "data.train", 0), *scaled_raw = load(json, "data.train", 0);
    double max_abs[13] = {0};
    for (size_t k = 0; k < nnz; k++)
        max_abs[scaled->col[k]] = fmax(max_abs[scaled->col[k]], fabs(scaled->val[k]));
    for (int j = 0; j < 13; j++)
        CU_ASSERT_DOUBLE_EQUAL(max_abs[j], (j + 2) / 2.0, 1e-6);
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(scaled, heart, "unit", &err), LSGD_OK);
    CU_ASSERT(same_sparsity(scaled, raw));
    float lo = 0, hi = 0;
    for (size_t k = 0; k < nnz; k++) {
        uint32_t j = scaled->col[k];
        CU_ASSERT_DOUBLE_EQUAL(scaled->val[k], scaled_raw->val[k] / max_abs[j], 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(scaled->val[k], raw->val[k], 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(heart->val[k], raw->val[k] / max_abs[j], 1e-6);
        lo = fminf(lo, scaled->val[k]);
        hi = fmaxf(hi, scaled->val[k]);
    }
    CU_ASSERT_DOUBLE_EQUAL(lo, -1.0, 1e-6); /* signed data: [-1, 1], not [0, 1] */
    CU_ASSERT_DOUBLE_EQUAL(hi, 1.0, 1e-6);
    lsgd_dataset_free(heart);
    lsgd_dataset_free(raw);
    lsgd_dataset_free(scaled);
    lsgd_dataset_free(scaled_raw);
}

LSGD_TEST(data, normalize_none_leaves_sparse_and_dense_values_unchanged)
{
    lsgd_dataset *heart = load(HEART_SCALE_JSON, "data.train", 0);
    lsgd_dataset *raw = load(HEART_SCALE_JSON, "data.train", 0);
    lsgd_dataset *blobs = load("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":50,"
                               "\"d\":3,\"noise\":2}", "data.train", 0);
    lsgd_dataset *blobs_raw = load("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":50,"
                                   "\"d\":3,\"noise\":2}", "data.train", 0);
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(heart, NULL, "none", &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(blobs, NULL, "none", &err), LSGD_OK);
    CU_ASSERT(same_sparsity(heart, raw));
    CU_ASSERT(memcmp(heart->val, raw->val, raw->row_ptr[raw->n] * sizeof(float)) == 0);
    CU_ASSERT(memcmp(blobs->X, blobs_raw->X, 50 * 3 * sizeof(float)) == 0);
    /* the same through the data object, "none" and absent alike */
    const char *datas[2] = {"{\"train\":{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"},"
                            "\"normalize\":\"none\"}",
                            "{\"train\":{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}}"};
    for (int k = 0; k < 2; k++) {
        json_t *data = json_loads(datas[k], 0, NULL);
        lsgd_dataset *train, *test;
        CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 1, &err), LSGD_OK);
        CU_ASSERT(same_sparsity(train, raw));
        CU_ASSERT(memcmp(train->val, raw->val, raw->row_ptr[raw->n] * sizeof(float)) == 0);
        lsgd_dataset_free(train);
        json_decref(data);
    }
    lsgd_dataset_free(heart);
    lsgd_dataset_free(raw);
    lsgd_dataset_free(blobs);
    lsgd_dataset_free(blobs_raw);
}

LSGD_TEST(data, standardize_divides_sparse_columns_by_their_deviation_without_centering)
{
    lsgd_dataset *heart = load(HEART_SCALE_JSON, "data.train", 0);
    lsgd_dataset *raw = load(HEART_SCALE_JSON, "data.train", 0);
    size_t nnz = raw->row_ptr[raw->n];
    double sum[13] = {0}, sq[13] = {0}; /* over all 270 rows, absent entries being 0 */
    for (size_t k = 0; k < nnz; k++) {
        sum[raw->col[k]] += raw->val[k];
        sq[raw->col[k]] += (double)raw->val[k] * raw->val[k];
    }
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_normalize(heart, NULL, "standardize", &err), LSGD_OK);
    CU_ASSERT(same_sparsity(heart, raw));
    for (size_t k = 0; k < nnz; k++) {
        uint32_t j = raw->col[k];
        double mean = sum[j] / 270, sd = sqrt(sq[j] / 270 - mean * mean);
        CU_ASSERT_DOUBLE_EQUAL(heart->val[k], raw->val[k] / sd, 1e-5);
    }
    lsgd_dataset_free(heart);
    lsgd_dataset_free(raw);
}

LSGD_TEST(data, unknown_normalize_mode_is_refused_naming_data_normalize)
{
    lsgd_dataset *heart = load(HEART_SCALE_JSON, "data.train", 0);
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(lsgd_dataset_normalize(heart, NULL, "minmax", &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "data.normalize: 'minmax'; expected none, unit or "
                                               "standardize"));
    lsgd_dataset_free(heart);
}

LSGD_TEST(data, test_split_moves_a_seeded_fraction_and_keeps_every_sample)
{
    json_t *data = json_loads("{\"train\":{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"},"
                              "\"test\":{\"split\":0.2}}",
                              0, NULL);
    lsgd_dataset *train, *test, *train2, *test2;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 7, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train2, &test2, data, 7, &err), LSGD_OK);
    CU_ASSERT_EQUAL(test->n, 54);
    CU_ASSERT_EQUAL(train->n, 216);
    CU_ASSERT(memcmp(test->y, test2->y, 54 * sizeof(float)) == 0);
    double sum = 0;
    for (size_t k = 0; k < train->row_ptr[train->n]; k++)
        sum += train->val[k];
    for (size_t k = 0; k < test->row_ptr[test->n]; k++)
        sum += test->val[k];
    lsgd_dataset *all = load(HEART_SCALE_JSON, "data.train", 0);
    double expect = 0;
    for (size_t k = 0; k < all->row_ptr[all->n]; k++)
        expect += all->val[k];
    CU_ASSERT_DOUBLE_EQUAL(sum, expect, 1e-3);
    json_decref(data);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
    lsgd_dataset_free(train2);
    lsgd_dataset_free(test2);
    lsgd_dataset_free(all);
}

LSGD_TEST(data, test_file_labels_take_the_training_sets_class_indices)
{
    const char *dir = test_tmpdir();
    const char *train_path = test_write_file(dir, "train.svm", "1 1:1\n2 1:2\n3 1:3\n");
    const char *test_path = test_write_file(dir, "test.svm", "3 1:1\n2 1:2\n");
    char json[8400];
    snprintf(json, sizeof json,
             "{\"train\":{\"format\":\"libsvm\",\"path\":\"%s\"},\"test\":{\"format\":\"libsvm\","
             "\"path\":\"%s\"}}",
             train_path, test_path);
    json_t *data = json_loads(json, 0, NULL);
    lsgd_dataset *train, *test;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 1, &err), LSGD_OK);
    CU_ASSERT_EQUAL(test->classes, 3);
    CU_ASSERT_EQUAL(test->y[0], 2.0f); /* label 3 is train's class 2, not test's class 1 */
    CU_ASSERT_EQUAL(test->y[1], 1.0f);
    json_decref(data);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
}

/* ---- Fashion-MNIST (tools/fetch-data fashion-mnist) ---- */

static char *fashion_config(char *buf, size_t size, const char *which)
{
    snprintf(buf, size,
             "{\"format\":\"idx\",\"images\":\"%s/data/fashion-mnist/%s-images-idx3-ubyte\","
             "\"labels\":\"%s/data/fashion-mnist/%s-labels-idx1-ubyte\"}",
             test_root_dir(), which, test_root_dir(), which);
    return buf;
}

/* Each class's count, and the pixel range, of a raw (unnormalized) set. */
static void class_counts_and_range(const lsgd_dataset *set, size_t counts[10], float *lo,
                                   float *hi)
{
    memset(counts, 0, 10 * sizeof *counts);
    for (size_t i = 0; i < set->n; i++)
        counts[(size_t)set->label_values[(size_t)set->y[i]]]++;
    *lo = 255, *hi = 0;
    for (size_t i = 0; i < set->n * set->d; i++) {
        *lo = set->X[i] < *lo ? set->X[i] : *lo;
        *hi = set->X[i] > *hi ? set->X[i] : *hi;
    }
}

/* tools/fetch-data fashion-mnist (nothing to do once fetched): 1 when the
 * files are there; 0, saying why the test is skipped, when npm cannot get
 * them here. */
static int fetch_fashion_mnist(void)
{
    int status = test_fetch_data("fashion-mnist");
    if (status)
        fprintf(stderr, "  skipped: Fashion-MNIST could not be fetched here\n");
    return status == 0;
}

LSGD_TEST(data, fashion_mnist_fetched_as_idx_has_6000_train_and_1000_test_images_of_each_class)
{
    if (!fetch_fashion_mnist())
        return;
    char cfg[4096];
    lsgd_dataset *train = load(fashion_config(cfg, sizeof cfg, "train"), "data.train", 0);
    lsgd_dataset *test = load(fashion_config(cfg, sizeof cfg, "t10k"), "data.test", 784);
    CU_ASSERT_EQUAL(train->n, 60000);
    CU_ASSERT_EQUAL(test->n, 10000);
    CU_ASSERT_EQUAL(train->d, 784);
    CU_ASSERT_EQUAL(train->classes, 10);
    CU_ASSERT_EQUAL(train->sample_shape[0], 1);
    CU_ASSERT_EQUAL(train->sample_shape[1], 28);
    CU_ASSERT_EQUAL(train->sample_shape[2], 28);
    size_t counts[10];
    float lo, hi;
    class_counts_and_range(train, counts, &lo, &hi);
    for (int c = 0; c < 10; c++)
        CU_ASSERT_EQUAL(counts[c], 6000);
    CU_ASSERT_EQUAL(lo, 0.0f);
    CU_ASSERT_EQUAL(hi, 255.0f);
    class_counts_and_range(test, counts, &lo, &hi);
    for (int c = 0; c < 10; c++)
        CU_ASSERT_EQUAL(counts[c], 1000);
    /* the split interleaves the classes: not sorted by label */
    size_t changes = 0;
    for (size_t i = 1; i < train->n; i++)
        changes += train->y[i] != train->y[i - 1];
    CU_ASSERT(changes > 50000);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
}

LSGD_TEST(data, the_fashion_mnist_mlp_example_passes_80_percent_test_accuracy_in_400_steps)
{
    if (!fetch_fashion_mnist())
        return;
    test_output o = run_config_at_root("examples/fashion_mnist_mlp.json", test_tmpdir(),
                                       "--set algorithm.steps=400", 300);
    CU_ASSERT_EQUAL(o.status, 0);
    const char *at = strstr(o.out, "test accuracy ");
    double accuracy = at ? atof(at + strlen("test accuracy ")) : 0;
    if (accuracy < 80)
        fprintf(stderr, "\n  %s%s", o.out, o.err);
    CU_ASSERT(accuracy >= 80);
    test_output_free(&o);
}

/* ---- CIFAR-10 binary batches ---- */

/* dir/name: `records` CIFAR-10 records; record r has label labels[r] and
 * pixel j the byte (r·7 + j) mod 256. */
static const char *write_cifar(const char *dir, const char *name, const unsigned char *labels,
                               size_t records)
{
    static char path[4][4200];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 4200, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t r = 0; r < records; r++) {
        fputc(labels[r], f);
        for (size_t j = 0; j < 3072; j++)
            fputc((int)((r * 7 + j) % 256), f);
    }
    fclose(f);
    return p;
}

LSGD_TEST(data, cifar10_batches_load_as_3x32x32_images_in_file_order_scaled_like_idx)
{
    const char *dir = test_tmpdir();
    const unsigned char first[3] = {3, 0, 9}, second[2] = {7, 3};
    char json[9000];
    snprintf(json, sizeof json,
             "{\"train\":{\"format\":\"cifar10\",\"files\":[\"%s\",\"%s\"]},\"normalize\":\"unit\"}",
             write_cifar(dir, "data_batch_1.bin", first, 3),
             write_cifar(dir, "data_batch_2.bin", second, 2));
    json_t *data = json_loads(json, 0, NULL);
    lsgd_dataset *train, *test;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 1, &err), LSGD_OK);
    json_decref(data);
    CU_ASSERT_EQUAL(train->n, 5);
    CU_ASSERT_EQUAL(train->d, 3072);
    CU_ASSERT_EQUAL(train->sample_shape[0], 3);
    CU_ASSERT_EQUAL(train->sample_shape[1], 32);
    CU_ASSERT_EQUAL(train->sample_shape[2], 32);
    CU_ASSERT_EQUAL(train->classes, 10); /* all ten, though only 0, 3, 7, 9 occur */
    const float labels[5] = {3, 0, 9, 7, 3};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(train->label_values[(size_t)train->y[i]], labels[i]);
        size_t r = i < 3 ? i : i - 3; /* record within its file */
        /* the green plane's first pixel of the record, ÷ 255 */
        CU_ASSERT_EQUAL(train->X[i * 3072 + 1024], (float)((r * 7 + 1024) % 256) / 255.0f);
    }
    lsgd_dataset_free(train);
    /* "dir" alone: its data_batch_*.bin in name order, the same rows */
    snprintf(json, sizeof json, "{\"format\":\"cifar10\",\"dir\":\"%s\"}", dir);
    lsgd_dataset *from_dir = load(json, "data.train", 0);
    CU_ASSERT_EQUAL(from_dir->n, 5);
    CU_ASSERT_EQUAL(from_dir->label_values[(size_t)from_dir->y[3]], 7.0f);
    CU_ASSERT_EQUAL(from_dir->X[3 * 3072 + 5], 5.0f);
    lsgd_dataset_free(from_dir);
    /* "dir" with "files": the files relative to it (the test batch) */
    write_cifar(dir, "test_batch.bin", second, 2);
    snprintf(json, sizeof json, "{\"format\":\"cifar10\",\"dir\":\"%s\",\"files\":[\"test_batch.bin\"]}",
             dir);
    lsgd_dataset *held = load(json, "data.test", 3072);
    CU_ASSERT_EQUAL(held->n, 2);
    lsgd_dataset_free(held);
}

LSGD_TEST(data, idx_images_carry_the_sample_shape_one_channel_by_rows_by_cols)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    char cfg[4096];
    lsgd_dataset *set = load(mnist_config(cfg, sizeof cfg, "t10k"), "data.test", 0);
    CU_ASSERT_EQUAL(set->sample_shape[0], 1);
    CU_ASSERT_EQUAL(set->sample_shape[1], 28);
    CU_ASSERT_EQUAL(set->sample_shape[2], 28);
    lsgd_dataset_free(set);
    /* both sides of a split keep it; flat vectors have none */
    char json[8400];
    snprintf(json, sizeof json, "{\"train\":%s,\"test\":{\"split\":0.1}}", cfg);
    json_t *data = json_loads(json, 0, NULL);
    lsgd_dataset *train, *test;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 1, &err), LSGD_OK);
    CU_ASSERT_EQUAL(train->sample_shape[1], 28);
    CU_ASSERT_EQUAL(test->sample_shape[0], 1);
    CU_ASSERT_EQUAL(test->sample_shape[2], 28);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
    json_decref(data);
    lsgd_dataset *flat = load(HEART_SCALE_JSON, "data.train", 0);
    CU_ASSERT_EQUAL(flat->sample_shape[0], 0);
    lsgd_dataset_free(flat);
}

/* ---- one shared copy per host (data/shared_rows.h) ---- */

/* A fresh cache directory as LSGD_DATA_CACHE for this test. */
static const char *fresh_cache(void)
{
    static char dir[4200];
    snprintf(dir, sizeof dir, "%s/cache", test_tmpdir());
    mkdir(dir, 0700);
    setenv("LSGD_DATA_CACHE", dir, 1);
    return dir;
}

/* How many files of the cache directory end in `suffix`. */
static int cache_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    int count = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name), slen = strlen(suffix);
        count += len > slen && strcmp(e->d_name + len - slen, suffix) == 0;
    }
    if (d)
        closedir(d);
    return count;
}

static void load_both(lsgd_dataset **train, lsgd_dataset **test, const char *json, int shared)
{
    json_t *data = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    lsgd_error err = {0};
    int rc = shared ? lsgd_data_load_shared(train, test, data, 7, &err)
                    : lsgd_data_load(train, test, data, 7, &err);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  load failed: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    json_decref(data);
}

/* The same set, value for value (bitwise for floats). */
static int same_set(const lsgd_dataset *a, const lsgd_dataset *b)
{
    if (a->n != b->n || a->d != b->d || a->classes != b->classes || !!a->X != !!b->X ||
        strcmp(a->source, b->source) || memcmp(a->sample_shape, b->sample_shape,
                                               sizeof a->sample_shape))
        return 0;
    if (memcmp(a->y, b->y, a->n * sizeof *a->y) ||
        (a->classes && memcmp(a->label_values, b->label_values, (size_t)a->classes * 4)))
        return 0;
    if (a->X)
        return memcmp(a->X, b->X, a->n * a->d * sizeof *a->X) == 0;
    return memcmp(a->row_ptr, b->row_ptr, (a->n + 1) * sizeof *a->row_ptr) == 0 &&
           memcmp(a->col, b->col, a->row_ptr[a->n] * sizeof *a->col) == 0 &&
           memcmp(a->val, b->val, a->row_ptr[a->n] * sizeof *a->val) == 0;
}

static char *mnist_split_json(char *buf, size_t size)
{
    char cfg[4096];
    snprintf(buf, size, "{\"train\":%s,\"test\":{\"split\":0.2},\"normalize\":\"unit\"}",
             mnist_config(cfg, sizeof cfg, "t10k"));
    return buf;
}

LSGD_TEST(data, workers_of_a_host_map_one_shared_copy_equal_to_a_private_load)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *cache = fresh_cache();
    const char *sparse = "{\"train\":" HEART_SCALE_JSON ",\"test\":{\"split\":0.3},"
                         "\"normalize\":\"standardize\"}";
    char dense[8400];
    const char *configs[] = {mnist_split_json(dense, sizeof dense), sparse};
    for (int k = 0; k < 2; k++) {
        lsgd_dataset *train, *test, *train2, *test2, *own_train, *own_test;
        load_both(&train, &test, configs[k], 1);  /* decodes and writes the copy */
        load_both(&train2, &test2, configs[k], 1); /* maps it */
        load_both(&own_train, &own_test, configs[k], 0);
        CU_ASSERT_PTR_NOT_NULL(train->shared);
        CU_ASSERT_PTR_NOT_NULL(test2->shared);
        CU_ASSERT_PTR_NULL(own_train->shared);
        CU_ASSERT(same_set(train, own_train) && same_set(train2, own_train));
        CU_ASSERT(same_set(test, own_test) && same_set(test2, own_test));
        CU_ASSERT_EQUAL(cache_files(cache, ".rows"), 1); /* k = 1: the unused k = 0 one went */
        lsgd_dataset *sets[] = {train, test, train2, test2, own_train, own_test};
        for (int s = 0; s < 6; s++)
            lsgd_dataset_free(sets[s]);
    }
    CU_ASSERT_EQUAL(cache_files(cache, ".tmp"), 0);
    unsetenv("LSGD_DATA_CACHE");
}

/* The one .rows file of the cache directory. */
static const char *the_copy(const char *cache)
{
    static char path[8400];
    DIR *d = opendir(cache);
    struct dirent *e;
    path[0] = '\0';
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".rows"))
            snprintf(path, sizeof path, "%s/%s", cache, e->d_name);
    if (d)
        closedir(d);
    return path;
}

LSGD_TEST(data, a_shared_copy_damaged_in_the_cache_is_rebuilt_rather_than_trained_on)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *cache = fresh_cache();
    char json[8400];
    mnist_split_json(json, sizeof json);
    lsgd_dataset *train, *test, *own_train, *own_test;
    load_both(&train, &test, json, 1);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
    /* one pixel of the middle of the file changed, nobody mapping it */
    const char *copy = the_copy(cache);
    struct stat before;
    CU_ASSERT_EQUAL_FATAL(stat(copy, &before), 0);
    FILE *f = fopen(copy, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, before.st_size / 2, SEEK_SET);
    int byte = fgetc(f);
    fseek(f, before.st_size / 2, SEEK_SET);
    fputc(byte ^ 0x40, f);
    fclose(f);
    load_both(&train, &test, json, 1);
    load_both(&own_train, &own_test, json, 0);
    CU_ASSERT_PTR_NOT_NULL(train->shared);
    CU_ASSERT(same_set(train, own_train));
    CU_ASSERT(same_set(test, own_test));
    f = fopen(the_copy(cache), "rb"); /* written anew: the byte is back */
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, before.st_size / 2, SEEK_SET);
    CU_ASSERT_EQUAL(fgetc(f), byte);
    fclose(f);
    lsgd_dataset *sets[] = {train, test, own_train, own_test};
    for (int s = 0; s < 4; s++)
        lsgd_dataset_free(sets[s]);
    unsetenv("LSGD_DATA_CACHE");
}

LSGD_TEST(data, changed_data_gets_a_new_shared_copy_and_old_copies_go_once_unused)
{
    const char *cache = fresh_cache();
    const char *dir = test_tmpdir();
    const char *csv = test_write_file(dir, "small.csv", "1,0.5,2\n0,1.5,3\n1,2.5,1\n");
    char json[4400];
    snprintf(json, sizeof json, "{\"train\":{\"format\":\"csv\",\"path\":\"%s\"}}", csv);
    lsgd_dataset *first, *second, *third, *none;
    load_both(&first, &none, json, 1);
    CU_ASSERT_EQUAL(first->n, 3);
    test_write_file(dir, "small.csv", "1,0.5,2\n0,1.5,3\n1,2.5,1\n0,3.5,0\n");
    load_both(&second, &none, json, 1); /* the file changed: not the old copy */
    CU_ASSERT_EQUAL(second->n, 4);
    CU_ASSERT_PTR_NOT_NULL(second->shared);
    CU_ASSERT_EQUAL(cache_files(cache, ".rows"), 2); /* first's is still mapped */
    lsgd_dataset_free(first);
    lsgd_dataset_free(second);
    test_write_file(dir, "small.csv", "1,0.5,2\n");
    load_both(&third, &none, json, 1);
    CU_ASSERT_EQUAL(third->n, 1);
    CU_ASSERT_EQUAL(cache_files(cache, ".rows"), 1); /* unused ones removed on the build */
    lsgd_dataset_free(third);
    unsetenv("LSGD_DATA_CACHE");
}

LSGD_TEST(data, data_shared_false_or_an_unusable_cache_directory_loads_privately)
{
    const char *cache = fresh_cache();
    lsgd_dataset *train, *test;
    load_both(&train, &test, "{\"train\":" HEART_SCALE_JSON ",\"shared\":false}", 1);
    CU_ASSERT_PTR_NULL(train->shared);
    CU_ASSERT_EQUAL(cache_files(cache, ".rows"), 0);
    lsgd_dataset_free(train);
    setenv("LSGD_DATA_CACHE", "/nonexistent/lsgd-cache", 1);
    load_both(&train, &test, "{\"train\":" HEART_SCALE_JSON "}", 1);
    CU_ASSERT_PTR_NULL(train->shared);
    CU_ASSERT_EQUAL(train->n, 270);
    lsgd_dataset_free(train);
    unsetenv("LSGD_DATA_CACHE");
}

/* The inode of the shared copy this process maps (from /proc/self/maps). */
static unsigned long mapped_copy_inode(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[8400];
    unsigned long inode = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, ".rows"))
            sscanf(line, "%*s %*s %*s %*s %lu", &inode);
    if (f)
        fclose(f);
    return inode;
}

LSGD_TEST(data, workers_starting_together_decode_once_and_all_map_the_same_copy)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *cache = fresh_cache();
    char json[8400];
    mnist_split_json(json, sizeof json);
    enum { WORKERS = 6 };
    int fds[2];
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    for (int w = 0; w < WORKERS; w++) {
        if (fork() == 0) {
            json_t *data = json_loads(json, 0, NULL);
            lsgd_dataset *train, *test;
            lsgd_error err = {0};
            unsigned long inode = 0;
            if (lsgd_data_load_shared(&train, &test, data, 7, &err) == LSGD_OK && train->shared)
                inode = mapped_copy_inode();
            if (write(fds[1], &inode, sizeof inode) != sizeof inode)
                _exit(1);
            _exit(0);
        }
    }
    close(fds[1]);
    unsigned long inodes[WORKERS] = {0};
    for (int w = 0; w < WORKERS; w++)
        CU_ASSERT_EQUAL(read(fds[0], &inodes[w], sizeof inodes[w]), sizeof inodes[w]);
    close(fds[0]);
    while (wait(NULL) > 0)
        ;
    CU_ASSERT_NOT_EQUAL(inodes[0], 0);
    for (int w = 1; w < WORKERS; w++)
        CU_ASSERT_EQUAL(inodes[w], inodes[0]);
    CU_ASSERT_EQUAL(cache_files(cache, ".rows"), 1);
    CU_ASSERT_EQUAL(cache_files(cache, ".tmp"), 0);
    unsetenv("LSGD_DATA_CACHE");
}

LSGD_TEST(data, training_on_the_shared_copy_gives_bitwise_the_model_of_private_loads)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *dir = test_tmpdir();
    char data[8400], json[12000], cmd[16384], out[2][4200];
    snprintf(json, sizeof json,
             "{\"seed\":3,\"workers\":2,\"model\":{\"type\":\"mlp\",\"hidden\":[32]},"
             "\"data\":%s,\"algorithm\":{\"steps\":40,\"batch_size\":32,\"lr\":0.01},"
             "\"scaling\":{\"plugin\":\"adam\"},\"output\":{\"progress\":\"none\"}}",
             mnist_split_json(data, sizeof data));
    const char *cfg = test_write_file(dir, "cfg.json", json);
    for (int shared = 0; shared < 2; shared++) {
        snprintf(out[shared], sizeof out[shared], "%s/out%d", dir, shared);
        snprintf(cmd, sizeof cmd,
                 "LSGD_DATA_CACHE='%s' '%s' run '%s' --set output.dir='%s' --set data.shared=%s",
                 dir, test_build_path("bin/lsgd"), cfg, out[shared], shared ? "true" : "false");
        test_output o = test_run(cmd, 120);
        CU_ASSERT_EQUAL(o.status, 0);
        if (o.status)
            fprintf(stderr, "\n  %s%s", o.out, o.err);
        test_output_free(&o);
        strcat(out[shared], "/model.npy");
    }
    CU_ASSERT_EQUAL(cache_files(dir, ".rows"), 1); /* the shared run made and used it */
    CU_ASSERT(test_same_file(out[0], out[1]));
}
