/*
 * run_header.c — what `lsgd run` says about a run when it starts: the
 * header on stdout (before the first round), run.json (version, kernel,
 * run id, start time, the config with every default) and shards.json
 * (each worker's samples and label histogram, exactly as the partition
 * deals the shards the workers train on).
 */
#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "harness.h"

/* 400 samples of 4 Gaussian blobs in 5-D, softmax, `workers` workers. */
static const char *blobs_config(const char *dir, int workers, const char *partition)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"workers\": %d, \"model\": {\"type\": \"softmax\"},"
             " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
             " \"n\": 400, \"d\": 5, \"classes\": 4}, \"partition\": %s},"
             " \"algorithm\": {\"steps\": 16, \"batch_size\": 8, \"lr\": 0.1},"
             " \"transport\": {\"plugin\": \"shm\"},"
             " \"output\": {\"dir\": \"out\", \"progress\": \"lines\"}}",
             workers, partition);
    return test_write_file(dir, "cfg.json", text);
}

static test_output lsgd_in(const char *dir, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH= '%s' %s", dir,
             test_build_path("bin/lsgd"), args);
    return test_run(cmd, 60);
}

static json_t *load_json(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/out/%s", dir, name);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc)
        fprintf(stderr, "\n  %s: %s\n", path, jerr.text);
    return doc;
}

/* The kernel `lsgd --version` names: "... OpenBLAS kernel X)". */
static void version_kernel(char *out, size_t cap)
{
    test_output o = lsgd_in(".", "--version");
    const char *at = strstr(o.out, "OpenBLAS kernel ");
    out[0] = '\0';
    if (at)
        snprintf(out, cap, "%.*s", (int)strcspn(at + 16, ")\n"), at + 16);
    test_output_free(&o);
}

LSGD_TEST(run_header, names_config_model_workers_kernel_and_output_before_the_first_round)
{
    const char *dir = test_tmpdir();
    blobs_config(dir, 2, "{\"type\": \"iid\"}");
    test_output o = lsgd_in(dir, "run cfg.json");
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    char kernel[64], want[256];
    version_kernel(kernel, sizeof kernel);
    CU_ASSERT(kernel[0] != '\0');
    const char *first_round = strstr(o.out, "round 1/");
    CU_ASSERT_PTR_NOT_NULL_FATAL(first_round);
    /* softmax on 5 features and 4 classes: 5·4 weights + 4 biases */
    const char *expected[] = {"lsgd: cfg.json -> out; run id ", "model softmax, 24 parameters",
                              "2 workers x shm", "local_sgd, 16 steps, batch 8, lr 0.1",
                              "schedule constant (period 8, 2 rounds)",
                              "scaling sgd (refresh local, state local)",
                              "data 400 x 5 train (synthetic blobs)",
                              "iid partition: 200 samples and 4 labels per worker", want};
    snprintf(want, sizeof want, "OpenBLAS %s", kernel);
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        const char *at = strstr(o.out, expected[i]);
        if (!at || at > first_round)
            fprintf(stderr, "\n  '%s' not in the header:\n%s", expected[i], o.out);
        CU_ASSERT(at != NULL && at < first_round);
    }
    /* three lines (a note on fewer cores than workers may come before) */
    const char *header = strstr(o.out, "lsgd: cfg.json -> ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(header);
    CU_ASSERT_EQUAL(test_count_lines(header) - test_count_lines(first_round), 3);
    test_output_free(&o);
}

LSGD_TEST(run_header, run_json_holds_version_kernel_run_id_start_and_the_completed_config)
{
    const char *dir = test_tmpdir();
    blobs_config(dir, 2, "{\"type\": \"iid\"}");
    test_output o = lsgd_in(dir, "run cfg.json --set algorithm.lr=0.05");
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    json_t *run = load_json(dir, "run.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(run);
    char kernel[64];
    version_kernel(kernel, sizeof kernel);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(run, "lsgd_version")), LSGD_VERSION);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(run, "openblas_kernel")), kernel);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(run, "config_file")), "cfg.json");
    const char *id = json_string_value(json_object_get(run, "run_id"));
    CU_ASSERT(id && strlen(id) > 4);
    regex_t iso;
    CU_ASSERT_FATAL(regcomp(&iso, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                            REG_EXTENDED | REG_NOSUB) == 0);
    const char *started = json_string_value(json_object_get(run, "started"));
    CU_ASSERT(started && regexec(&iso, started, 0, NULL, 0) == 0);
    regfree(&iso);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(run, "workers")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(run, "parameters")), 24);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(run, "train_samples")), 400);
    /* the config as the engine read it: the override, and defaults filled in */
    json_t *cfg = json_object_get(run, "config");
    json_t *algorithm = json_object_get(cfg, "algorithm");
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(algorithm, "lr")), 0.05, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(algorithm, "sampling")), "reshuffle");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(cfg, "schedule"),
                                                             "type")), "constant");
    json_decref(run);
}

/* shards.json for `partition` over `workers` workers equals each rank's
 * lsgd_partition shard and lsgd_shard_histogram, computed here. */
static void expect_shards_match_the_partition(const char *partition, int workers,
                                              const char *summary)
{
    const char *dir = test_tmpdir();
    const char *cfg_path = blobs_config(dir, workers, partition);
    test_output o = lsgd_in(dir, "run cfg.json");
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    if (!strstr(o.out, summary))
        fprintf(stderr, "\n  '%s' not in:\n%s", summary, o.out);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, summary));
    test_output_free(&o);
    json_t *doc = load_json(dir, "shards.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *cfg = json_load_file(cfg_path, 0, NULL), *data = json_object_get(cfg, "data");
    lsgd_dataset *train = NULL, *test = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_data_load(&train, &test, data, 1, &err), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "classes")), train->classes);
    json_t *ranks = json_object_get(doc, "workers");
    CU_ASSERT_EQUAL_FATAL(json_array_size(ranks), (size_t)workers);
    size_t total = 0;
    for (int m = 0; m < workers; m++) {
        lsgd_shard shard;
        CU_ASSERT_EQUAL_FATAL(lsgd_partition(&shard, train, json_object_get(data, "partition"), m,
                                             workers, 1, &err), 0);
        size_t counts[4];
        lsgd_shard_histogram(train, &shard, counts);
        json_t *w = json_array_get(ranks, (size_t)m);
        json_t *histogram = json_object_get(w, "histogram");
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "rank")), m);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "samples")), (json_int_t)shard.n);
        CU_ASSERT_EQUAL_FATAL(json_array_size(histogram), 4);
        for (size_t c = 0; c < 4; c++)
            CU_ASSERT_EQUAL(json_integer_value(json_array_get(histogram, c)),
                            (json_int_t)counts[c]);
        total += shard.n;
        lsgd_shard_free(&shard);
    }
    CU_ASSERT_EQUAL(total, 400);
    lsgd_dataset_free(train);
    json_decref(cfg);
    json_decref(doc);
}

LSGD_TEST(run_header, shards_json_gives_each_workers_iid_shard_and_label_histogram)
{
    expect_shards_match_the_partition("{\"type\": \"iid\"}", 3,
                                      "iid partition: 133-134 samples and 4 labels per worker");
}

LSGD_TEST(run_header, shards_json_gives_each_workers_label_sorted_shard_and_histogram)
{
    /* 4 classes of 100, 4 workers × 1 shard of 100: one label each */
    expect_shards_match_the_partition("{\"type\": \"shards\", \"shards_per_worker\": 1}", 4,
                                      "shards partition: 100 samples and 1 label per worker");
}
