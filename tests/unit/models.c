/* models.c — every model's gradient and Hessian-vector product is exact:
 * checked against central finite differences (quotients in double over the
 * exact float perturbation, since the models compute in float), HVP
 * symmetry uᵀHv = vᵀHu, known Hessians, the §2 noisy problems (exact
 * derivatives of each draw, mean gradient = exact gradient, the stated
 * variances, HVP on the last draw), and logreg's 0/1 labels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "harness.h"
#include "models/model.h"
#include "util/rng.h"

#define HEART_SCALE "/usr/share/doc/liblinear-tools/examples/heart_scale"

static lsgd_dataset *make_set(const char *json)
{
    json_t *cfg = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    int rc = lsgd_dataset_load(&set, cfg, "data.train", 0, 5, &err);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    json_decref(cfg);
    return set;
}

static lsgd_model *make_model(const char *json, const lsgd_dataset *train)
{
    json_t *cfg = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_model *model = NULL;
    lsgd_error err = {0};
    int rc = lsgd_model_create(&model, cfg, train, &err);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    json_decref(cfg);
    return model;
}

/* A batch of the first n rows (n ≤ set->n), or a data-free batch of n draws. */
typedef struct test_batch {
    lsgd_batch batch;
    uint32_t *rows;
    lsgd_rng rng, rng_start;
} test_batch;

static void batch_init(test_batch *b, const lsgd_dataset *set, size_t n)
{
    b->rows = malloc(n * sizeof *b->rows);
    for (size_t i = 0; i < n; i++)
        b->rows[i] = (uint32_t)i;
    lsgd_rng_seed(&b->rng, 99, 0);
    b->rng_start = b->rng;
    b->batch = (lsgd_batch){set, b->rows, n, &b->rng};
}

static double loss_at(lsgd_model *m, const float *x, test_batch *b, float *grad)
{
    b->rng = b->rng_start; /* the same noise draw at every point */
    double loss;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, x, &b->batch, &loss, grad, &err), LSGD_OK);
    return loss;
}

static void random_unit(float *u, size_t n, lsgd_rng *rng)
{
    double norm = 0;
    for (size_t i = 0; i < n; i++) {
        u[i] = (float)lsgd_rng_normal(rng);
        norm += (double)u[i] * u[i];
    }
    for (size_t i = 0; i < n; i++)
        u[i] = (float)(u[i] / sqrt(norm));
}

/* Worst relative error of the directional derivative gᵀd against
 * L(x + εu) − L(x − εu), d = the float perturbation actually applied. */
static double gradient_error(lsgd_model *m, const float *x, test_batch *b, double eps, int dirs)
{
    size_t n = m->dim;
    float *g = malloc(n * sizeof *g), *u = malloc(n * sizeof *u), *xp = malloc(n * sizeof *xp),
          *xm = malloc(n * sizeof *xm);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 1234, 0);
    loss_at(m, x, b, g);
    double worst = 0;
    for (int k = 0; k < dirs; k++) {
        random_unit(u, n, &rng);
        double analytic = 0;
        for (size_t i = 0; i < n; i++) {
            xp[i] = (float)(x[i] + eps * u[i]);
            xm[i] = (float)(x[i] - eps * u[i]);
            analytic += (double)g[i] * ((double)xp[i] - (double)xm[i]);
        }
        double fd = loss_at(m, xp, b, NULL) - loss_at(m, xm, b, NULL);
        double err = fabs(fd - analytic) / fmax(fabs(analytic), 1e-6);
        worst = err > worst ? err : worst;
    }
    free(g);
    free(u);
    free(xp);
    free(xm);
    return worst;
}

/* Relative error ‖(g(x+εv) − g(x−εv)) − H·d‖ / ‖H·d‖, d the float perturbation. */
static double hvp_error(lsgd_model *m, const float *x, test_batch *b, double eps, int dirs)
{
    size_t n = m->dim;
    float *gp = malloc(n * sizeof *gp), *gm = malloc(n * sizeof *gm), *v = malloc(n * sizeof *v),
          *d = malloc(n * sizeof *d), *xp = malloc(n * sizeof *xp), *xm = malloc(n * sizeof *xm),
          *hd = malloc(n * sizeof *hd);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 4321, 0);
    double worst = 0;
    for (int k = 0; k < dirs; k++) {
        random_unit(v, n, &rng);
        for (size_t i = 0; i < n; i++) {
            xp[i] = (float)(x[i] + eps * v[i]);
            xm[i] = (float)(x[i] - eps * v[i]);
            d[i] = xp[i] - xm[i];
        }
        loss_at(m, xp, b, gp);
        loss_at(m, xm, b, gm);
        loss_at(m, x, b, NULL); /* hvp uses the draw of the last loss_grad */
        lsgd_error err = {0};
        CU_ASSERT_EQUAL_FATAL(m->ops->hvp(m, x, &b->batch, d, hd, &err), LSGD_OK);
        double diff = 0, norm = 0;
        for (size_t i = 0; i < n; i++) {
            double fd = (double)gp[i] - (double)gm[i];
            diff += (fd - hd[i]) * (fd - hd[i]);
            norm += (double)hd[i] * hd[i];
        }
        double e = sqrt(diff) / fmax(sqrt(norm), 1e-9);
        worst = e > worst ? e : worst;
    }
    free(gp);
    free(gm);
    free(v);
    free(d);
    free(xp);
    free(xm);
    free(hd);
    return worst;
}

/* |uᵀHv − vᵀHu| / (|uᵀHv| + tiny) */
static double hvp_asymmetry(lsgd_model *m, const float *x, test_batch *b)
{
    size_t n = m->dim;
    float *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v), *hu = malloc(n * sizeof *hu),
          *hv = malloc(n * sizeof *hv);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 77, 0);
    random_unit(u, n, &rng);
    random_unit(v, n, &rng);
    loss_at(m, x, b, NULL);
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(m->ops->hvp(m, x, &b->batch, v, hv, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(m->ops->hvp(m, x, &b->batch, u, hu, &err), LSGD_OK);
    double uhv = 0, vhu = 0;
    for (size_t i = 0; i < n; i++) {
        uhv += (double)u[i] * hv[i];
        vhu += (double)v[i] * hu[i];
    }
    free(u);
    free(v);
    free(hu);
    free(hv);
    return fabs(uhv - vhu) / (fabs(uhv) + 1e-12);
}

/* x ~ scale·N(0, 1) */
static float *random_point(size_t n, double scale, uint64_t seed)
{
    float *x = malloc(n * sizeof *x);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, seed, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * lsgd_rng_normal(&rng));
    return x;
}

/* The three exactness checks on one model, batch and point; eps is the step
 * along unit directions (small for relu, so few units cross their kink). */
static void check_exact_at(lsgd_model *m, test_batch *b, const float *x, const char *what,
                           double eps, double tol)
{
    double g_err = gradient_error(m, x, b, eps, 4), h_err = hvp_error(m, x, b, eps, 3),
           asym = hvp_asymmetry(m, x, b);
    if (g_err > tol || h_err > tol || asym > 1e-4)
        fprintf(stderr, "\n  %s: gradient %.2e, hvp %.2e, asymmetry %.2e\n", what, g_err,
                h_err, asym);
    CU_ASSERT(g_err < tol);
    CU_ASSERT(h_err < tol);
    CU_ASSERT(asym < 1e-4);
}

/* check_exact_at at a random point x ~ scale·N(0, I) on the first rows. */
static void check_exact(const char *model_json, const lsgd_dataset *set, size_t rows,
                        double scale, double eps, double tol)
{
    lsgd_model *m = make_model(model_json, set);
    test_batch b;
    batch_init(&b, set, rows);
    float *x = random_point(m->dim, scale, 3);
    check_exact_at(m, &b, x, model_json, eps, tol);
    free(x);
    free(b.rows);
    lsgd_model_destroy(m);
}

static const char *BLOBS = "{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":700,\"d\":7,"
                           "\"classes\":3,\"noise\":1.0}";

LSGD_TEST(model, quadratic_diagonal_and_dense_gradients_and_hvps_are_exact)
{
    check_exact("{\"type\":\"quadratic\",\"dim\":6,\"condition\":100}", NULL, 1, 1.0, 1e-2, 1e-3);
    check_exact("{\"type\":\"quadratic\",\"problem\":\"dense\",\"dim\":5,\"condition\":50}", NULL,
                1, 1.0, 1e-2, 1e-3);
}

LSGD_TEST(model, quadratic_hessian_has_the_log_spaced_spectrum)
{
    lsgd_model *diag = make_model("{\"type\":\"quadratic\",\"dim\":4,\"condition\":1000}", NULL);
    lsgd_model *dense =
        make_model("{\"type\":\"quadratic\",\"problem\":\"dense\",\"dim\":4,\"condition\":1000}",
                   NULL);
    float x[4] = {0}, e[4], h[4];
    lsgd_error err = {0};
    double trace = 0, expect[4] = {1, 10, 100, 1000};
    for (int i = 0; i < 4; i++) {
        memset(e, 0, sizeof e);
        e[i] = 1;
        CU_ASSERT_EQUAL(diag->ops->hvp(diag, x, NULL, e, h, &err), LSGD_OK);
        CU_ASSERT_DOUBLE_EQUAL(h[i], expect[i], 1e-3 * expect[i]);
        CU_ASSERT_EQUAL(dense->ops->hvp(dense, x, NULL, e, h, &err), LSGD_OK);
        trace += h[i];
    }
    CU_ASSERT_DOUBLE_EQUAL(trace, 1111.0, 0.01);
    /* dense A is not diagonal: the rotation mixes coordinates */
    CU_ASSERT(fabs(h[0]) > 1e-3);
    lsgd_model_destroy(diag);
    lsgd_model_destroy(dense);
}

LSGD_TEST(model, least_squares_gradients_and_hvps_are_exact_dense_and_sparse)
{
    lsgd_dataset *reg = make_set("{\"format\":\"synthetic\",\"generator\":\"quadratic\",\"n\":60,"
                                 "\"d\":6}");
    check_exact("{\"type\":\"least_squares\"}", reg, 60, 0.5, 1e-2, 1e-3);
    check_exact("{\"type\":\"least_squares\",\"l2\":0.1,\"bias\":false}", reg, 60, 0.5, 1e-2,
                1e-3);
    lsgd_dataset *heart = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}");
    check_exact("{\"type\":\"least_squares\"}", heart, 270, 0.5, 1e-2, 1e-3);
    lsgd_dataset_free(reg);
    lsgd_dataset_free(heart);
}

LSGD_TEST(model, least_squares_hvp_equals_the_normal_matrix_times_v)
{
    lsgd_dataset *reg = make_set("{\"format\":\"synthetic\",\"generator\":\"quadratic\",\"n\":30,"
                                 "\"d\":4}");
    lsgd_model *m = make_model("{\"type\":\"least_squares\",\"bias\":false}", reg);
    test_batch b;
    batch_init(&b, reg, 30);
    float x[4] = {0}, v[4] = {1, -2, 0.5f, 3}, hv[4];
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(m->ops->hvp(m, x, &b.batch, v, hv, &err), LSGD_OK);
    for (int j = 0; j < 4; j++) { /* (1/n) Σ_i a_ij (a_iᵀv) */
        double expect = 0;
        for (int i = 0; i < 30; i++) {
            double av = 0;
            for (int k = 0; k < 4; k++)
                av += reg->X[i * 4 + k] * v[k];
            expect += reg->X[i * 4 + j] * av / 30;
        }
        CU_ASSERT_DOUBLE_EQUAL(hv[j], expect, 1e-4 * (fabs(expect) + 1));
    }
    free(b.rows);
    lsgd_model_destroy(m);
    lsgd_dataset_free(reg);
}

LSGD_TEST(model, logreg_logistic_and_exponential_are_exact_on_sparse_heart_scale)
{
    lsgd_dataset *heart = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}");
    check_exact("{\"type\":\"logreg\"}", heart, 270, 0.5, 1e-2, 1e-3);
    check_exact("{\"type\":\"logreg\",\"l2\":0.01}", heart, 100, 0.5, 1e-2, 1e-3);
    check_exact("{\"type\":\"logreg\",\"loss\":\"exponential\",\"bias\":false}", heart, 270, 0.3,
                1e-2, 1e-3);
    lsgd_dataset_free(heart);
}

/* heart_scale with its −1/+1 labels written as 0/1, into a temporary file. */
static const char *heart_scale_with_0_1_labels(void)
{
    size_t n;
    char *text = test_read_file(HEART_SCALE, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *out = malloc(n + 1), *o = out;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        if (strncmp(line, "-1", 2) == 0)
            *o++ = '0', line += 2, len -= 2;
        else if (strncmp(line, "+1", 2) == 0)
            *o++ = '1', line += 2, len -= 2;
        memcpy(o, line, len);
        o += len;
        line += len;
    }
    *o = '\0';
    const char *path = test_write_file(test_tmpdir(), "heart_scale_01", out);
    free(text);
    free(out);
    return path;
}

/* Labels 0/1 mean what −1/+1 mean (1 is the positive class): the same loss
 * and gradient bit for bit, exact derivatives, and on two rows the loss by
 * hand. */
LSGD_TEST(model, logreg_with_0_1_labels_is_logreg_with_minus_1_plus_1_labels)
{
    char json[4300];
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}",
             heart_scale_with_0_1_labels());
    lsgd_dataset *pm = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}");
    lsgd_dataset *zo = make_set(json);
    CU_ASSERT_EQUAL_FATAL(zo->n, pm->n);
    CU_ASSERT_EQUAL(zo->classes, 2);
    CU_ASSERT(zo->label_values[0] == 0.0f && zo->label_values[1] == 1.0f);
    const char *losses[] = {"{\"type\":\"logreg\"}", "{\"type\":\"logreg\",\"loss\":\"exponential\"}"};
    for (int k = 0; k < 2; k++) {
        lsgd_model *a = make_model(losses[k], pm), *b = make_model(losses[k], zo);
        test_batch ba, bb;
        batch_init(&ba, pm, pm->n);
        batch_init(&bb, zo, zo->n);
        float *x = random_point(a->dim, 0.3, 11), *ga = malloc(a->dim * sizeof *ga),
              *gb = malloc(b->dim * sizeof *gb);
        CU_ASSERT_EQUAL(loss_at(a, x, &ba, ga), loss_at(b, x, &bb, gb));
        CU_ASSERT_EQUAL(memcmp(ga, gb, a->dim * sizeof *ga), 0);
        check_exact_at(b, &bb, x, losses[k], 1e-2, 1e-3);
        free(x);
        free(ga);
        free(gb);
        free(ba.rows);
        free(bb.rows);
        lsgd_model_destroy(a);
        lsgd_model_destroy(b);
    }
    lsgd_dataset_free(pm);
    lsgd_dataset_free(zo);

    /* label 1 at a = 2 and label 0 at a = −1, w = 0.5: margins +1 and +0.5 */
    const char *two = test_write_file(test_tmpdir(), "two.svm", "1 1:2\n0 1:-1\n");
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}", two);
    lsgd_dataset *set = make_set(json);
    lsgd_model *m = make_model("{\"type\":\"logreg\",\"bias\":false}", set);
    test_batch b2;
    batch_init(&b2, set, 2);
    float w = 0.5f, g;
    double loss = loss_at(m, &w, &b2, &g);
    double expect = 0.5 * (log1p(exp(-1.0)) + log1p(exp(-0.5)));
    /* dℓ/dw = −s·a·σ(−m): −2σ(−1) for the first row, −(−1)(−1)σ(−0.5) for the second */
    double expect_g = 0.5 * (-2.0 / (1 + exp(1.0)) - 1.0 / (1 + exp(0.5)));
    CU_ASSERT_DOUBLE_EQUAL(loss, expect, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(g, expect_g, 1e-6);
    free(b2.rows);
    lsgd_model_destroy(m);
    lsgd_dataset_free(set);
}

LSGD_TEST(model, logreg_is_exact_on_dense_separable_data_and_its_truth_classifies_all)
{
    lsgd_dataset *sep = make_set("{\"format\":\"synthetic\",\"generator\":\"separable\",\"n\":200,"
                                 "\"d\":5}");
    check_exact("{\"type\":\"logreg\",\"loss\":\"exponential\"}", sep, 200, 0.5, 1e-2, 1e-3);
    lsgd_model *m = make_model("{\"type\":\"logreg\",\"bias\":false}", sep);
    test_batch b;
    batch_init(&b, sep, 200);
    float w[5];
    double loss_1, loss_10, accuracy;
    lsgd_error err = {0};
    for (int j = 0; j < 5; j++)
        w[j] = sep->truth[j];
    CU_ASSERT_EQUAL(m->ops->evaluate(m, w, &b.batch, &loss_1, &accuracy, &err), LSGD_OK);
    CU_ASSERT_EQUAL(accuracy, 1.0);
    for (int j = 0; j < 5; j++)
        w[j] = 10 * sep->truth[j];
    CU_ASSERT_EQUAL(m->ops->evaluate(m, w, &b.batch, &loss_10, &accuracy, &err), LSGD_OK);
    CU_ASSERT(loss_10 < loss_1); /* separable: the loss falls along the separator */
    free(b.rows);
    lsgd_model_destroy(m);
    lsgd_dataset_free(sep);
}

LSGD_TEST(model, softmax_gradients_and_hvps_are_exact_dense_and_sparse)
{
    lsgd_dataset *blobs = make_set(BLOBS);
    check_exact("{\"type\":\"softmax\"}", blobs, 50, 0.5, 1e-2, 1e-3);
    check_exact("{\"type\":\"softmax\",\"l2\":0.05,\"bias\":false}", blobs, 50, 0.5, 1e-2, 1e-3);
    char json[4200];
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s/tests/data/tiny_multiclass.svm\"}",
             test_root_dir());
    lsgd_dataset *sparse = make_set(json);
    check_exact("{\"type\":\"softmax\"}", sparse, 6, 0.5, 1e-2, 1e-3);
    lsgd_dataset_free(blobs);
    lsgd_dataset_free(sparse);
}

LSGD_TEST(model, mlp_relu_and_tanh_gradients_and_hvps_are_exact)
{
    lsgd_dataset *blobs = make_set(BLOBS);
    check_exact("{\"type\":\"mlp\",\"hidden\":[8,6]}", blobs, 24, 0.5, 1e-3, 5e-3);
    check_exact("{\"type\":\"mlp\",\"hidden\":[5],\"activation\":\"tanh\",\"l2\":0.01}", blobs,
                24, 0.5, 1e-2, 5e-3);
    check_exact("{\"type\":\"mlp\",\"hidden\":[4,3,5],\"activation\":\"tanh\",\"bias\":false}",
                blobs, 24, 0.5, 1e-2, 5e-3);
    lsgd_dataset_free(blobs);
}

LSGD_TEST(model, mlp_is_exact_on_batches_larger_than_one_chunk_and_on_sparse_input)
{
    lsgd_dataset *blobs = make_set(BLOBS);
    check_exact("{\"type\":\"mlp\",\"hidden\":[6],\"activation\":\"tanh\"}", blobs, 700, 0.5,
                1e-2, 5e-3);
    char json[4200];
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s/tests/data/tiny_multiclass.svm\"}",
             test_root_dir());
    lsgd_dataset *sparse = make_set(json);
    check_exact("{\"type\":\"mlp\",\"hidden\":[5],\"activation\":\"tanh\"}", sparse, 6, 0.5,
                1e-2, 5e-3);
    lsgd_dataset_free(blobs);
    lsgd_dataset_free(sparse);
}

LSGD_TEST(model, mlp_gradient_of_a_large_batch_is_the_mean_of_its_halves)
{
    lsgd_dataset *blobs = make_set(BLOBS);
    lsgd_model *m = make_model("{\"type\":\"mlp\",\"hidden\":[16]}", blobs);
    float *x = random_point(m->dim, 0.3, 8);
    float *g = malloc(m->dim * sizeof *g), *g1 = malloc(m->dim * sizeof *g1),
          *g2 = malloc(m->dim * sizeof *g2);
    test_batch all, first, second;
    batch_init(&all, blobs, 700);
    batch_init(&first, blobs, 700);
    first.batch.n = 350;
    batch_init(&second, blobs, 700);
    second.batch.rows += 350;
    second.batch.n = 350;
    double l = loss_at(m, x, &all, g), l1 = loss_at(m, x, &first, g1),
           l2 = loss_at(m, x, &second, g2);
    CU_ASSERT_DOUBLE_EQUAL(l, 0.5 * (l1 + l2), 1e-6);
    double worst = 0;
    for (size_t i = 0; i < m->dim; i++)
        worst = fmax(worst, fabs(g[i] - 0.5 * (g1[i] + g2[i])));
    CU_ASSERT(worst < 1e-6);
    free(x);
    free(g);
    free(g1);
    free(g2);
    free(all.rows);
    free(first.rows);
    free(second.rows);
    lsgd_model_destroy(m);
    lsgd_dataset_free(blobs);
}

/* Mean and variance of each gradient coordinate over `draws` batches. */
static void gradient_moments(lsgd_model *m, const float *x, size_t batch_n, int draws,
                             double *mean, double *var)
{
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 2024, 0);
    lsgd_batch b = {NULL, NULL, batch_n, &rng};
    float g[3];
    double loss;
    lsgd_error err = {0};
    memset(mean, 0, m->dim * sizeof *mean);
    memset(var, 0, m->dim * sizeof *var);
    for (int k = 0; k < draws; k++) {
        CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, x, &b, &loss, g, &err), LSGD_OK);
        for (size_t i = 0; i < m->dim; i++) {
            mean[i] += g[i];
            var[i] += (double)g[i] * g[i];
        }
    }
    for (size_t i = 0; i < m->dim; i++) {
        mean[i] /= draws;
        var[i] = var[i] / draws - mean[i] * mean[i];
    }
}

LSGD_TEST(model, noisy3d_mean_gradient_is_exact_with_the_stated_noise)
{
    lsgd_model *m = make_model("{\"type\":\"quadratic\",\"problem\":\"noisy3d\"}", NULL);
    CU_ASSERT_EQUAL(m->dim, 3);
    const int N = 40000;
    float x[3] = {1.0f, -0.5f, 2.0f};
    double mean[3], var[3];
    gradient_moments(m, x, 1, N, mean, var);
    for (int i = 0; i < 3; i++) {
        /* g_i = i·x_i·(1 + z₁ᵢ) + z₂ᵢ: mean i·x_i, variance (i·x_i)² + 0.5² */
        double exact = (i + 1) * x[i], expect_var = exact * exact + 0.25;
        CU_ASSERT(fabs(mean[i] - exact) < 5 * sqrt(expect_var / N));
        CU_ASSERT(fabs(var[i] / expect_var - 1) < 0.05);
    }
    gradient_moments(m, x, 16, N / 16, mean, var); /* a batch averages 16 draws */
    CU_ASSERT(fabs(var[2] / ((36 + 0.25) / 16) - 1) < 0.1);
    lsgd_model_destroy(m);
}

LSGD_TEST(model, kinked1d_mean_gradient_is_exact_on_both_sides_with_noise_8)
{
    lsgd_model *m = make_model("{\"type\":\"quadratic\",\"problem\":\"kinked1d\"}", NULL);
    const int N = 40000;
    double mean, var;
    float right = 2.0f, left = -2.0f;
    gradient_moments(m, &right, 1, N, &mean, &var);
    CU_ASSERT(fabs(mean - 4.0) < 5 * 8.0 / sqrt(N)); /* f'(x) = 2x for x ≥ 0 */
    CU_ASSERT(fabs(var / 64.0 - 1) < 0.05);
    gradient_moments(m, &left, 1, N, &mean, &var);
    CU_ASSERT(fabs(mean + 2.0) < 5 * 8.0 / sqrt(N)); /* f'(x) = x for x < 0 */
    float v = 1, hv;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(m->ops->hvp(m, &right, NULL, &v, &hv, &err), LSGD_OK);
    CU_ASSERT_EQUAL(hv, 2.0f);
    CU_ASSERT_EQUAL(m->ops->hvp(m, &left, NULL, &v, &hv, &err), LSGD_OK);
    CU_ASSERT_EQUAL(hv, 1.0f);
    double loss, acc;
    CU_ASSERT_EQUAL(m->ops->evaluate(m, &left, NULL, &loss, &acc, &err), LSGD_OK);
    CU_ASSERT_DOUBLE_EQUAL(loss, 2.0, 1e-12); /* exact f(−2) = 4/2, no noise */
    lsgd_model_destroy(m);
}

/* For one fixed noise draw (loss_at replays it at every point) each noisy
 * problem is a smooth function of x: its gradient and HVP are that draw's
 * exact derivatives.  A batch of 4 averages 4 draws. */
LSGD_TEST(model, noisy3d_gradient_and_hvp_of_one_draw_are_exact_and_symmetric)
{
    lsgd_model *m = make_model("{\"type\":\"quadratic\",\"problem\":\"noisy3d\"}", NULL);
    test_batch b;
    batch_init(&b, NULL, 4);
    const float points[2][3] = {{1.0f, -0.5f, 2.0f}, {-3.0f, 0.25f, 0.7f}};
    for (int k = 0; k < 2; k++)
        check_exact_at(m, &b, points[k], "noisy3d", 1e-2, 1e-3);
    free(b.rows);
    lsgd_model_destroy(m);
}

/* Away from the kink at 0 (the steps of ±1e-2 do not cross it) on both
 * sides, where f'' is 2 and 1. */
LSGD_TEST(model, kinked1d_gradient_and_hvp_of_one_draw_are_exact_on_both_sides)
{
    lsgd_model *m = make_model("{\"type\":\"quadratic\",\"problem\":\"kinked1d\"}", NULL);
    test_batch b;
    batch_init(&b, NULL, 4);
    const float points[4] = {2.0f, 0.3f, -0.3f, -2.0f};
    for (int k = 0; k < 4; k++)
        check_exact_at(m, &b, &points[k], "kinked1d", 1e-2, 1e-3);
    free(b.rows);
    lsgd_model_destroy(m);
}

LSGD_TEST(model, noisy3d_hvp_reuses_the_draw_of_the_last_gradient)
{
    lsgd_model *m = make_model("{\"type\":\"quadratic\",\"problem\":\"noisy3d\"}", NULL);
    lsgd_rng rng, start;
    lsgd_rng_seed(&rng, 5, 0);
    start = rng;
    lsgd_batch b = {NULL, NULL, 1, &rng};
    float x[3] = {1, 1, 1}, y[3] = {2, 0, -1}, gx[3], gy[3], v[3], hv[3];
    double loss;
    lsgd_error err = {0};
    m->ops->loss_grad(m, y, &b, &loss, gy, &err);
    rng = start; /* the same draw at x */
    m->ops->loss_grad(m, x, &b, &loss, gx, &err);
    for (int i = 0; i < 3; i++)
        v[i] = y[i] - x[i];
    CU_ASSERT_EQUAL(m->ops->hvp(m, x, &b, v, hv, &err), LSGD_OK);
    for (int i = 0; i < 3; i++) /* the draw's Hessian is diag(i(1 + z₁ᵢ)): g(y) − g(x) = H(y − x) */
        CU_ASSERT_DOUBLE_EQUAL(hv[i], gy[i] - gx[i], 1e-5);
    CU_ASSERT(fabs(hv[0] - v[0]) > 1e-3); /* and it is a noisy draw, not diag(1,2,3) */
    lsgd_model_destroy(m);
}

LSGD_TEST(model, noisy_problems_start_where_algorithms_md_says)
{
    lsgd_model *q3 = make_model("{\"type\":\"quadratic\",\"problem\":\"noisy3d\"}", NULL);
    lsgd_model *k1 = make_model("{\"type\":\"quadratic\",\"problem\":\"kinked1d\"}", NULL);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 1, 0);
    float x[3], k;
    q3->ops->init(q3, x, &rng);
    k1->ops->init(k1, &k, &rng);
    CU_ASSERT(x[0] == 1 && x[1] == 1 && x[2] == 1);
    CU_ASSERT_EQUAL(k, 2.0f);
    double loss, acc;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(q3->ops->evaluate(q3, x, NULL, &loss, &acc, &err), LSGD_OK);
    CU_ASSERT_DOUBLE_EQUAL(loss, 3.0, 1e-12); /* ½(1 + 2 + 3) */
    CU_ASSERT(isnan(acc));
    lsgd_model_destroy(q3);
    lsgd_model_destroy(k1);
}

LSGD_TEST(model, init_is_deterministic_and_he_has_the_right_spread)
{
    lsgd_dataset *wide = make_set("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":10,"
                                  "\"d\":400,\"classes\":2}");
    lsgd_model *m = make_model("{\"type\":\"mlp\",\"hidden\":[300]}", wide);
    CU_ASSERT_EQUAL(m->dim, 400 * 300 + 300 + 300 * 2 + 2);
    float *a = malloc(m->dim * sizeof *a), *b = malloc(m->dim * sizeof *b);
    lsgd_rng r1, r2;
    lsgd_rng_seed(&r1, 9, 0);
    lsgd_rng_seed(&r2, 9, 0);
    m->ops->init(m, a, &r1);
    m->ops->init(m, b, &r2);
    CU_ASSERT(memcmp(a, b, m->dim * sizeof *a) == 0);
    double sq = 0;
    for (size_t i = 0; i < 400 * 300; i++)
        sq += (double)a[i] * a[i];
    CU_ASSERT(fabs(sqrt(sq / (400 * 300)) / sqrt(2.0 / 400) - 1) < 0.01);
    for (size_t i = 400 * 300; i < 400 * 300 + 300; i++) /* fc1.bias */
        CU_ASSERT_EQUAL_FATAL(a[i], 0.0f);
    json_t *desc = m->ops->describe(m);
    json_t *t = json_array_get(json_object_get(desc, "tensors"), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "name")), "fc2.weight");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "offset")), 400 * 300 + 300);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(json_object_get(t, "shape"), 1)), 300);
    json_decref(desc);
    free(a);
    free(b);
    lsgd_model_destroy(m);
    lsgd_dataset_free(wide);
}

LSGD_TEST(model, init_value_broadcasts_one_number_or_takes_dim_numbers)
{
    lsgd_dataset *heart = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}");
    lsgd_model *m = make_model("{\"type\":\"logreg\",\"init\":{\"type\":\"value\",\"value\":[0.25]}}",
                               heart);
    float x[14];
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 1, 0);
    m->ops->init(m, x, &rng);
    for (int i = 0; i < 14; i++)
        CU_ASSERT_EQUAL(x[i], 0.25f);
    lsgd_model_destroy(m);
    lsgd_dataset_free(heart);
}

/* lsgd_model_create must refuse cfg with LSGD_ERR_INPUT and a message holding want. */
static void expect_model_refused(const char *json, const lsgd_dataset *train, const char *want)
{
    json_t *cfg = json_loads(json, 0, NULL);
    lsgd_model *m = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(lsgd_model_create(&m, cfg, train, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
    if (!strstr(err.message, want))
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.message, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
    json_decref(cfg);
}

LSGD_TEST(model, mismatches_between_model_and_data_name_the_config_key)
{
    lsgd_dataset *blobs = make_set(BLOBS);
    lsgd_dataset *reg = make_set("{\"format\":\"synthetic\",\"generator\":\"quadratic\",\"n\":9,"
                                 "\"d\":2}");
    lsgd_dataset *heart = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}");
    expect_model_refused("{\"type\":\"logreg\"}", blobs, "model.type: logreg is binary");
    expect_model_refused("{\"type\":\"softmax\"}", reg, "model.type: softmax needs class labels");
    expect_model_refused("{\"type\":\"mlp\"}", reg, "model.type: mlp is a classifier");
    expect_model_refused("{\"type\":\"least_squares\"}", blobs, "has 3 classes");
    expect_model_refused("{\"type\":\"mlp\"}", NULL, "model.type: mlp learns from data");
    expect_model_refused("{\"type\":\"logreg\",\"init\":{\"type\":\"value\",\"value\":[1,2,3]}}",
                         heart, "model.init.value: 3 numbers; expected 1 (for every parameter) or 14");
    expect_model_refused("{\"type\":\"quadratic\",\"problem\":\"noisy3d\",\"dim\":5}", NULL,
                         "model.dim: 5, but the noisy3d problem has dimension 3");
    expect_model_refused("{\"type\":\"rnn\"}", NULL, "model.type: 'rnn'");
    expect_model_refused("{\"type\":\"mlp\",\"activation\":\"gelu\"}", blobs,
                         "model.activation: 'gelu'");
    lsgd_dataset_free(blobs);
    lsgd_dataset_free(reg);
    lsgd_dataset_free(heart);
}

/* A model's size is a product of sizes from the config and the data: each
 * is held to its limit in util/limits.h, named by its key, before a byte
 * of parameters or activations is allocated. */
LSGD_TEST(model, a_model_beyond_the_parameter_or_activation_limit_is_refused_naming_its_key)
{
    lsgd_dataset *blobs = make_set(BLOBS);
    char wide_json[4200];
    snprintf(wide_json, sizeof wide_json, "{\"format\":\"libsvm\",\"path\":\"%s\"}",
             test_root_path("tests/data/wide_nine_classes.svm"));
    lsgd_dataset *wide = make_set(wide_json);
    expect_model_refused("{\"type\":\"mlp\",\"hidden\":[30000,30000]}", blobs,
                         "model.hidden: model mlp would have more parameters than lsgd's limit "
                         "of 2^28 = 268435456 (fc2.weight alone is 30000 × 30000)");
    expect_model_refused("{\"type\":\"mlp\",\"hidden\":[200000]}", blobs,
                         "model.hidden: an mlp over 7 features with these widths needs "
                         "1024009728 floats of activations for a chunk of 512 rows; lsgd's "
                         "limit is 2^28 = 268435456");
    expect_model_refused("{\"type\":\"mlp\",\"hidden\":[67108865]}", blobs,
                         "model.hidden[0]: 67108865; expected an integer from 1 to 67108864");
    /* 9 classes × 2^25 features */
    expect_model_refused("{\"type\":\"softmax\"}", wide,
                         "data.train: model softmax would have more parameters than lsgd's "
                         "limit of 2^28 = 268435456 (weight alone is 9 × 33554432)");
    lsgd_model *fits = make_model("{\"type\":\"mlp\",\"hidden\":[4096,4096]}", blobs);
    CU_ASSERT_EQUAL(fits->dim, 4096 * 7 + 4096 + 4096 * 4096 + 4096 + 3 * 4096 + 3);
    lsgd_model_destroy(fits);
    lsgd_dataset_free(blobs);
    lsgd_dataset_free(wide);
}

LSGD_TEST(model, a_batch_with_other_features_than_the_model_is_refused)
{
    lsgd_dataset *heart = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\"}");
    lsgd_dataset *wider = make_set("{\"format\":\"libsvm\",\"path\":\"" HEART_SCALE "\","
                                   "\"features\":20}");
    const char *models[] = {"{\"type\":\"logreg\"}", "{\"type\":\"softmax\"}",
                            "{\"type\":\"mlp\",\"hidden\":[4]}"};
    for (int k = 0; k < 3; k++) {
        lsgd_model *m = make_model(models[k], heart);
        test_batch b;
        batch_init(&b, wider, 10);
        float *x = calloc(m->dim, sizeof *x), *g = calloc(m->dim, sizeof *g);
        double loss;
        lsgd_error err = {0};
        CU_ASSERT_EQUAL(m->ops->loss_grad(m, x, &b.batch, &loss, g, &err), LSGD_ERR_INPUT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "has 20 features but the model was built for 13"));
        free(x);
        free(g);
        free(b.rows);
        lsgd_model_destroy(m);
    }
    lsgd_dataset_free(heart);
    lsgd_dataset_free(wider);
}
