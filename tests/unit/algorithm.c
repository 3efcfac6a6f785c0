/* algorithm.c — the algorithms' table and arithmetic, checked on their own:
 * the table of engine/algorithms/ against the schema's algorithm.type,
 * settings read with the schema's defaults, Overlap-Local-SGD's anchor
 * recursion (§4) and the max-margin reference direction of Local-GD's
 * implicit bias (§3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "engine/algorithm.h"
#include "engine/max_margin.h"
#include "engine/overlap.h"
#include "harness.h"
#include "host/config.h"
#include "host/schema.h"

/* The schema's algorithm.type enum and the table name the same methods,
 * and a name outside the table is refused listing the table's. */
LSGD_TEST(algorithm, the_schemas_algorithm_types_are_exactly_the_tables)
{
    lsgd_error err;
    const json_t *schema = lsgd_schema_get("config", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(schema);
    const json_t *names = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(schema, "$defs"),
                                                        "algorithm"), "properties"), "type"),
        "enum");
    CU_ASSERT_FATAL(json_is_array(names) && json_array_size(names) > 0);
    size_t i, in_table = 0;
    json_t *name;
    json_array_foreach(names, i, name) {
        const lsgd_algorithm *alg = lsgd_algorithm_find(json_string_value(name));
        CU_ASSERT_PTR_NOT_NULL(alg);
        if (!alg)
            fprintf(stderr, "\n  '%s' of the schema is not in the table\n", json_string_value(name));
        else
            CU_ASSERT(alg->steps && alg->communicate);
    }
    for (const lsgd_algorithm *const *a = lsgd_algorithm_all(); *a; a++)
        in_table++;
    CU_ASSERT_EQUAL(in_table, json_array_size(names));
    json_t *cfg = json_pack("{s:{s:s}}", "algorithm", "type", "local_sdg");
    const lsgd_algorithm *alg = NULL;
    CU_ASSERT_EQUAL(lsgd_algorithm_of(&alg, cfg, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'local_sdg'; expected one of local_sgd, "));
    json_decref(cfg);
}

/* lsgd_algorithm_check on a config given as JSON text: its status and message. */
static int check_text(const char *text, lsgd_error *err)
{
    json_t *cfg = json_loads(text, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_error_clear(err);
    int rc = lsgd_algorithm_check(cfg, err);
    json_decref(cfg);
    return rc;
}

static void refused_with(const char *text, const char *reason)
{
    lsgd_error err;
    CU_ASSERT_EQUAL(check_text(text, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, reason));
    if (!strstr(err.message, reason))
        fprintf(stderr, "\n  expected '%s' in: %s\n", reason, err.message);
}

/* The rules in the algorithms' ops tables (§7), each on the smallest
 * config that breaks it, and the same configs pass with local_sgd. */
LSGD_TEST(algorithm, each_algorithm_refuses_what_it_cannot_run_when_the_config_loads)
{
    refused_with("{\"algorithm\": {\"type\": \"overlap_local_sgd\"},"
                 " \"scaling\": {\"refresh\": \"sync\"}}", "never waits for");
    refused_with("{\"algorithm\": {\"type\": \"overlap_local_sgd\"},"
                 " \"outer\": {\"plugin\": \"sgd\"}}", "outer: overlap_local_sgd has its own");
    refused_with("{\"algorithm\": {\"type\": \"overlap_local_sgd\","
                 " \"overlap\": {\"alpha\": 1}}}", "freezes the anchor");
    refused_with("{\"algorithm\": {\"type\": \"overlap_local_sgd\"},"
                 " \"schedule\": {\"type\": \"one_shot\"}}", "has no period");
    refused_with("{\"algorithm\": {\"type\": \"minibatch_sgd\"},"
                 " \"outer\": {\"plugin\": \"adam\"}}", "no pseudo-gradient");
    refused_with("{\"algorithm\": {\"type\": \"post_local_sgd\"},"
                 " \"outer\": {\"plugin\": \"sgd\"}}", "outer: post_local_sgd averages gradients");
    refused_with("{\"algorithm\": {\"type\": \"fedavg\", \"fedavg\": {\"participants\": 2,"
                 " \"fraction\": 0.5}}}", "both participants and fraction");
    lsgd_error err;
    CU_ASSERT_EQUAL(check_text("{\"algorithm\": {\"type\": \"local_sgd\"},"
                               " \"outer\": {\"plugin\": \"adam\"}}", &err), LSGD_OK);
    CU_ASSERT_EQUAL(check_text("{\"algorithm\": {\"type\": \"overlap_local_sgd\","
                               " \"overlap\": {\"alpha\": 1, \"beta\": 0.5}}}", &err), LSGD_OK);
}

/* A key the config leaves out reads as the schema's default, also where
 * the schema gives it behind a $ref (outer.lr) or inside a section that
 * is absent (algorithm.overlap.alpha); a given value wins. */
LSGD_TEST(algorithm, settings_absent_from_the_config_read_the_schemas_defaults)
{
    json_t *cfg = json_pack("{s:{s:s, s:{s:f}}}", "algorithm", "type", "overlap_local_sgd",
                            "overlap", "beta", 0.25);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_setting_number(cfg, "algorithm.overlap.alpha"), 0.6, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_setting_number(cfg, "algorithm.overlap.beta"), 0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_setting_number(cfg, "outer.lr"), 1.0, 0);
    CU_ASSERT_EQUAL(lsgd_setting_count(cfg, "algorithm.steps"), 1000);
    CU_ASSERT_EQUAL(lsgd_setting_count(cfg, "algorithm.local_gd.max_inner"), 1000);
    CU_ASSERT_STRING_EQUAL(lsgd_setting_string(cfg, "scaling.state"), "local");
    CU_ASSERT_STRING_EQUAL(lsgd_setting_string(cfg, "algorithm.type"), "overlap_local_sgd");
    CU_ASSERT_EQUAL(lsgd_setting_bool(cfg, "metrics.drift"), 1);
    CU_ASSERT_PTR_NULL(lsgd_setting_value(cfg, "algorithm.no_such_key"));
    json_decref(cfg);
}

/* Two workers, 3 coordinates, each pulled to its own target c_m by local
 * gradient steps on ½‖x − c_m‖²; the average is computed as the transports
 * do, (p0 + p1)/2 in float.  With β = 0 the anchor must follow
 * z_{k+1} = α z_k + (1 − α) x̄_k, x̄_k the average before the pull-back. */
LSGD_TEST(algorithm, overlap_anchor_follows_the_exact_recursion_on_a_two_worker_toy)
{
    enum { N = 3, TAU = 2, ROUNDS = 12 };
    const float alpha = 0.6f, lr = 0.25f;
    float c[2][N] = {{1, -2, 4}, {-3, 0.5f, 2}};
    float x[2][N] = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    float post[2][N], z[N] = {0.5f, 0.5f, 0.5f};
    double zd[N] = {0.5, 0.5, 0.5}; /* the recursion in double */
    float pending[N];
    int outstanding = 0;
    double worst = 0;
    for (int k = 0; k < ROUNDS; k++) {
        for (int m = 0; m < 2; m++)
            for (int t = 0; t < TAU; t++)
                for (int i = 0; i < N; i++)
                    x[m][i] -= lr * (x[m][i] - c[m][i]);
        if (outstanding) /* the anchor is the previous round's average */
            memcpy(z, pending, sizeof z);
        for (int i = 0; i < N; i++) {
            float xbar = (x[0][i] + x[1][i]) / 2.0f;
            worst = fmax(worst, fabs(z[i] - zd[i]) / fmax(1.0, fabs(zd[i])));
            zd[i] = alpha * zd[i] + (1 - alpha) * xbar; /* the next anchor */
        }
        for (int m = 0; m < 2; m++)
            lsgd_overlap_pull(x[m], NULL, post[m], z, alpha, 0.0f, lr, N);
        for (int i = 0; i < N; i++)
            pending[i] = (post[0][i] + post[1][i]) / 2.0f;
        outstanding = 1;
    }
    CU_ASSERT(worst < 1e-6);
    /* and the anchors really moved away from x₀ */
    CU_ASSERT(fabs(z[0] - 0.5f) > 0.1);
}

LSGD_TEST(algorithm, overlap_pull_back_and_anchor_momentum_follow_the_formulas)
{
    float x[2] = {2.0f, -1.0f}, v[2] = {0.5f, 1.0f}, post[2], z[2] = {1.0f, 1.0f};
    const float alpha = 0.5f, beta = 0.7f, lr = 0.1f;
    lsgd_overlap_pull(x, v, post, z, alpha, beta, lr, 2);
    /* x ← (1−α)x + αz */
    CU_ASSERT_DOUBLE_EQUAL(x[0], 1.5, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[1], 0.0, 1e-6);
    /* v ← βv + (z − x)/γ ; post = z − γv */
    CU_ASSERT_DOUBLE_EQUAL(v[0], 0.35 + (1.0 - 1.5) / 0.1, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(v[1], 0.7 + (1.0 - 0.0) / 0.1, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(post[0], 1.0 - 0.1 * v[0], 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(post[1], 1.0 - 0.1 * v[1], 1e-6);
    /* β = 0 posts the pulled-back model itself, bitwise */
    float x2[2] = {3.0f, 5.0f}, p2[2];
    lsgd_overlap_pull(x2, NULL, p2, z, 0.6f, 0.0f, lr, 2);
    CU_ASSERT_EQUAL(memcmp(x2, p2, sizeof x2), 0);
}

static lsgd_dataset *toy_set(const float *X, const float *y, size_t n, size_t d)
{
    lsgd_dataset *s = calloc(1, sizeof *s);
    s->n = n;
    s->d = d;
    s->classes = 2;
    s->X = malloc(n * d * sizeof *s->X);
    s->y = malloc(n * sizeof *s->y);
    memcpy(s->X, X, n * d * sizeof *X);
    memcpy(s->y, y, n * sizeof *y);
    s->source = "toy";
    return s;
}

static void toy_free(lsgd_dataset *s)
{
    free(s->X);
    free(s->y);
    free(s);
}

LSGD_TEST(algorithm, max_margin_direction_is_the_hard_margin_svm_without_bias)
{
    /* support vectors (1,0)+ and (0,1)−: ŵ = (1,−1); the others are inside the margin */
    const float X[] = {1, 0, 0, 1, 2, 0.5f, 0.5f, 3, 3, -1};
    const float y[] = {1, 0, 1, 0, 1};
    lsgd_dataset *set = toy_set(X, y, 5, 2);
    float w[2];
    lsgd_max_margin_info info;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_max_margin(w, set, NULL, 0, 1, &info, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(w[0], 1.0, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(w[1], -1.0, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(info.margin, 1.0 / sqrt(2.0), 1e-4);
    float ref[2] = {2, -2};
    CU_ASSERT_DOUBLE_EQUAL(lsgd_cosine(w, ref, 2), 1.0, 1e-8);
    /* a shard with only the positives has its own direction */
    uint32_t rows[] = {0, 2, 4};
    CU_ASSERT_EQUAL_FATAL(lsgd_max_margin(w, set, rows, 3, 1, &info, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(w[0], 1.0, 1e-4); /* min ‖w‖ with w·(1,0) ≥ 1 etc.: (1, 0) */
    CU_ASSERT_DOUBLE_EQUAL(w[1], 0.0, 1e-4);
    toy_free(set);
}

LSGD_TEST(algorithm, max_margin_refuses_data_not_separable_through_the_origin)
{
    const float X[] = {1, 1, -1, -1, 2, 2};
    const float y[] = {1, 1, 0};
    lsgd_dataset *set = toy_set(X, y, 3, 2);
    float w[2];
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_max_margin(w, set, NULL, 0, 1, NULL, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not linearly separable"));
    toy_free(set);
}
