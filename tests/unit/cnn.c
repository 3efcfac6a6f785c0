/*
 * cnn.c — the cnn model: its gradient and Hessian-vector product equal
 * PyTorch's autograd (double backward for the HVP) on the reference dumps
 * of tools/cnn-reference.py (tests/data/cnn/: a LeNet-5 on MNIST-shaped
 * random samples, a residual block with average pooling, strides, padding
 * and a pointwise conv), central finite differences agree with both,
 * batches larger than a chunk add up, the config's errors name their
 * layer, IDX data gives the input shape, the default init is PyTorch's,
 * the workspace keeps no R-columns for the data, and LeNet-5 learns MNIST
 * under Local SGD on 2 workers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "engine_helpers.h"
#include "harness.h"
#include "models/cnn.h"
#include "models/model.h"
#include "reference_dump.h"

/* A reference case: its config and data as a set, the point x, direction v,
 * and PyTorch's loss, gradient and HVP there. */
typedef struct reference {
    json_t *meta;
    lsgd_dataset *set;
    lsgd_model *model;
    float *blob, *x, *v, *grad, *hvp;
    size_t n, dim;
    uint32_t *rows;
    lsgd_batch batch;
} reference;

static void reference_load(reference *r, const char *name)
{
    char path[256];
    r->meta = reference_meta("cnn", name);
    size_t n = (size_t)json_integer_value(json_object_get(r->meta, "n"));
    size_t d = (size_t)json_integer_value(json_object_get(r->meta, "d"));
    size_t dim = (size_t)json_integer_value(json_object_get(r->meta, "dim"));
    snprintf(path, sizeof path, "tests/data/cnn/%s.f32", name);
    r->blob = reference_floats(path, n * d + n + 4 * dim);
    r->set = reference_set(r->blob, r->blob + n * d, n, d,
                           (int)json_integer_value(json_object_get(r->meta, "classes")), name);
    r->x = r->blob + n * d + n;
    r->v = r->x + dim, r->grad = r->v + dim, r->hvp = r->grad + dim;
    lsgd_error err = {0};
    int rc = lsgd_model_create(&r->model, json_object_get(r->meta, "model"), r->set, &err);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  %s: %s\n", name, err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(r->model->dim, dim);
    r->n = n, r->dim = dim;
    r->rows = malloc(n * sizeof *r->rows);
    for (size_t i = 0; i < n; i++)
        r->rows[i] = (uint32_t)i;
    r->batch = (lsgd_batch){r->set, r->rows, n, NULL};
}

static void reference_free(reference *r)
{
    lsgd_model_destroy(r->model);
    lsgd_dataset_free(r->set);
    json_decref(r->meta);
    free(r->blob);
    free(r->rows);
}

/* lsgd's loss, gradient and HVP at the case's point equal PyTorch's within float tolerance. */
static void check_against_torch(const char *name)
{
    reference r;
    reference_load(&r, name);
    lsgd_model *m = r.model;
    float *g = malloc(r.dim * sizeof *g), *hv = malloc(r.dim * sizeof *hv);
    double loss;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, r.x, &r.batch, &loss, g, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(m->ops->hvp(m, r.x, &r.batch, r.v, hv, &err), LSGD_OK);
    double torch_loss = json_number_value(json_object_get(r.meta, "loss"));
    double g_err = reference_relative_error(g, r.grad, r.dim), h_err = reference_relative_error(hv, r.hvp, r.dim);
    if (fabs(loss - torch_loss) > 1e-5 * fabs(torch_loss) || g_err > 1e-4 || h_err > 1e-4)
        fprintf(stderr, "\n  %s: loss %.8g vs torch %.8g, gradient %.2e, hvp %.2e\n", name, loss,
                torch_loss, g_err, h_err);
    CU_ASSERT(fabs(loss - torch_loss) <= 1e-5 * fabs(torch_loss));
    CU_ASSERT(g_err <= 1e-4);
    CU_ASSERT(h_err <= 1e-4);
    free(g);
    free(hv);
    reference_free(&r);
}

LSGD_TEST(cnn, lenet5_gradient_and_hvp_equal_pytorch_autograd)
{
    check_against_torch("lenet5");
}

LSGD_TEST(cnn, residual_block_with_average_pooling_equals_pytorch_autograd)
{
    check_against_torch("resblock");
}

LSGD_TEST(cnn, strided_padded_and_pointwise_convolutions_and_strided_pooling_equal_pytorch)
{
    check_against_torch("strided");
}

/* Central differences along the unit coordinate direction e_i over the
 * exact float perturbation: (L(x + h e_i) − L(x − h e_i)) / (x⁺_i − x⁻_i),
 * and for the HVP, (g(x + h v) − g(x − h v)) over the float step. */
static void check_finite_differences(const char *name, size_t first)
{
    reference r;
    reference_load(&r, name);
    lsgd_model *m = r.model;
    size_t dim = r.dim;
    float *g = malloc(dim * sizeof *g), *xp = malloc(dim * sizeof *xp),
          *xm = malloc(dim * sizeof *xm), *gp = malloc(dim * sizeof *gp),
          *gm = malloc(dim * sizeof *gm), *hv = malloc(dim * sizeof *hv);
    double loss, lp, lm, h = 1e-3;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, r.x, &r.batch, &loss, g, &err), LSGD_OK);
    /* a few coordinates spread over the vector from `first` to the last layer */
    size_t coords[] = {first, first + 7, dim / 3, dim / 2, dim - 11, dim - 1};
    for (size_t k = 0; k < sizeof coords / sizeof *coords; k++) {
        size_t i = coords[k];
        memcpy(xp, r.x, dim * sizeof *xp);
        memcpy(xm, r.x, dim * sizeof *xm);
        xp[i] = (float)(r.x[i] + h);
        xm[i] = (float)(r.x[i] - h);
        CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, xp, &r.batch, &lp, NULL, &err), LSGD_OK);
        CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, xm, &r.batch, &lm, NULL, &err), LSGD_OK);
        double fd = (lp - lm) / ((double)xp[i] - (double)xm[i]);
        if (fabs(fd - g[i]) > 5e-3 * fmax(fabs(g[i]), 1e-2))
            fprintf(stderr, "\n  %s: ∂L/∂x[%zu] %.6g, central difference %.6g\n", name, i,
                    g[i], fd);
        CU_ASSERT(fabs(fd - g[i]) <= 5e-3 * fmax(fabs(g[i]), 1e-2));
    }
    double norm = 0;
    for (size_t i = 0; i < dim; i++)
        norm += (double)r.v[i] * r.v[i];
    double step = 1e-3 / sqrt(norm);
    for (size_t i = 0; i < dim; i++) {
        xp[i] = (float)(r.x[i] + step * r.v[i]);
        xm[i] = (float)(r.x[i] - step * r.v[i]);
    }
    CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, xp, &r.batch, &lp, gp, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, xm, &r.batch, &lm, gm, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(m->ops->hvp(m, r.x, &r.batch, r.v, hv, &err), LSGD_OK);
    double diff = 0, size = 0;
    for (size_t i = 0; i < dim; i++) {
        double fd = ((double)gp[i] - (double)gm[i]) / (2 * step);
        diff += (fd - hv[i]) * (fd - hv[i]);
        size += (double)hv[i] * hv[i];
    }
    double h_err = sqrt(diff / size);
    if (h_err > 1e-2)
        fprintf(stderr, "\n  %s: ‖Δg/Δ − Hv‖/‖Hv‖ = %.2e\n", name, h_err);
    CU_ASSERT(h_err <= 1e-2);
    free(g);
    free(xp);
    free(xm);
    free(gp);
    free(gm);
    free(hv);
    reference_free(&r);
}

/* LeNet-5's first conv weights move 4 × 4704 relu and max-pool kinks: any step
 * float resolves crosses some, so its coordinates start past conv1 (156
 * parameters; PyTorch's gradient covers conv1). */
LSGD_TEST(cnn, central_differences_agree_with_the_gradient_and_the_hvp)
{
    check_finite_differences("lenet5", 156);
    check_finite_differences("resblock", 0);
    check_finite_differences("strided", 0);
}

/* 16 features, 3 classes: a 1×4×4 "image" per sample. */
static lsgd_dataset *blobs(size_t n)
{
    char text[256];
    snprintf(text, sizeof text, "{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":%zu,"
             "\"d\":16,\"classes\":3,\"noise\":1.0}", n);
    json_t *cfg = json_loads(text, 0, NULL);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_load(&set, cfg, "data.train", 0, 5, &err), LSGD_OK);
    json_decref(cfg);
    return set;
}

LSGD_TEST(cnn, each_malformed_network_is_refused_with_a_line_naming_its_layer)
{
    json_error_t jerr;
    json_t *cases = json_load_file(test_root_path("tests/data/cnn/bad_layers.json"), 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cases);
    lsgd_dataset *set = blobs(20);
    size_t k;
    json_t *c;
    json_array_foreach(cases, k, c) {
        lsgd_model *m = NULL;
        lsgd_error err = {0};
        int rc = lsgd_model_create(&m, json_object_get(c, "model"), set, &err);
        const char *want = json_string_value(json_object_get(c, "error"));
        if (rc != LSGD_ERR_INPUT || !strstr(err.message, want))
            fprintf(stderr, "\n  case %zu: status %d, \"%s\"; expected \"%s\"\n", k, rc,
                    err.message, want);
        CU_ASSERT_EQUAL(rc, LSGD_ERR_INPUT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
        CU_ASSERT_PTR_NULL(m);
    }
    lsgd_dataset_free(set);
    json_decref(cases);
}

/* The model of a JSON file's text on a set (asserting it builds). */
static lsgd_model *make_model(const char *json, const lsgd_dataset *set)
{
    json_t *cfg = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_model *m = NULL;
    lsgd_error err = {0};
    int rc = lsgd_model_create(&m, cfg, set, &err);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    json_decref(cfg);
    return m;
}

static const char *SMALL_RESNET =
    "{\"type\":\"cnn\",\"input_shape\":[1,4,4],\"layers\":[{\"conv\":3,\"kernel\":3,\"pad\":1},"
    "{\"relu\":{}},{\"residual\":[{\"conv\":3,\"kernel\":3,\"pad\":1},{\"relu\":{}}]},"
    "{\"maxpool\":2},{\"flatten\":{}},{\"dense\":3}]}";

/* Gradient and HVP over rows [from, to) of the set, scaled by their count. */
static void sums_over(lsgd_model *m, const lsgd_dataset *set, const float *x, const float *v,
                      size_t from, size_t to, double *g, double *hv)
{
    size_t n = to - from;
    uint32_t *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = (uint32_t)(from + i);
    lsgd_batch batch = {set, rows, n, NULL};
    float *gf = malloc(m->dim * sizeof *gf), *hf = malloc(m->dim * sizeof *hf);
    double loss;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(m->ops->loss_grad(m, x, &batch, &loss, gf, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(m->ops->hvp(m, x, &batch, v, hf, &err), LSGD_OK);
    for (size_t i = 0; i < m->dim; i++) {
        g[i] += (double)n * gf[i];
        hv[i] += (double)n * hf[i];
    }
    free(gf);
    free(hf);
    free(rows);
}

LSGD_TEST(cnn, a_batch_of_several_chunks_gives_the_mean_of_its_parts)
{
    lsgd_dataset *set = blobs(150); /* chunks of 64, 64, 22 */
    lsgd_model *m = make_model(SMALL_RESNET, set);
    size_t dim = m->dim;
    float *x = malloc(dim * sizeof *x), *v = malloc(dim * sizeof *v);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 7, 0);
    m->ops->init(m, x, &rng);
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)lsgd_rng_normal(&rng);
    double *whole_g = calloc(dim, sizeof(double)), *whole_h = calloc(dim, sizeof(double)),
           *parts_g = calloc(dim, sizeof(double)), *parts_h = calloc(dim, sizeof(double));
    sums_over(m, set, x, v, 0, 150, whole_g, whole_h);
    size_t cuts[] = {0, 50, 64, 100, 150};
    for (int k = 0; k < 4; k++)
        sums_over(m, set, x, v, cuts[k], cuts[k + 1], parts_g, parts_h);
    double g_err = 0, h_err = 0, g_max = 0, h_max = 0;
    for (size_t i = 0; i < dim; i++) {
        g_err = fmax(g_err, fabs(whole_g[i] - parts_g[i]));
        h_err = fmax(h_err, fabs(whole_h[i] - parts_h[i]));
        g_max = fmax(g_max, fabs(whole_g[i]));
        h_max = fmax(h_max, fabs(whole_h[i]));
    }
    CU_ASSERT(g_max > 0 && h_max > 0);
    CU_ASSERT(g_err <= 1e-4 * g_max);
    CU_ASSERT(h_err <= 1e-4 * h_max);
    free(whole_g);
    free(whole_h);
    free(parts_g);
    free(parts_h);
    free(x);
    free(v);
    lsgd_model_destroy(m);
    lsgd_dataset_free(set);
}

/* The workspace holds the columns of R{act[in]} only for convs whose input has a
 * direction: the data's is 0, so a first conv keeps none (LeNet-5: 5 MB less). */
LSGD_TEST(cnn, a_conv_reading_the_data_keeps_no_columns_of_its_direction_in_the_workspace)
{
    lsgd_dataset *set = blobs(20);
    lsgd_model *m = make_model(SMALL_RESNET, set);
    const cnn_impl *c = m->impl;
    size_t with_both = c->scratch_floats, data_cols = 0, convs = 0;
    for (int a = 0; a <= c->n_nodes; a++)
        with_both += 4 * CNN_CHUNK * c->size[a];
    for (int k = 0; k < c->n_nodes; k++) {
        const cnn_node *n = &c->nodes[k];
        if (n->kind == &cnn_maxpool)
            with_both += CNN_CHUNK * c->size[n->out];
        with_both += 2 * CNN_CHUNK * n->col_floats;
        convs += n->kind == &cnn_conv;
        if (n->kind == &cnn_conv && n->in == 0)
            data_cols += CNN_CHUNK * n->col_floats;
    }
    CU_ASSERT_EQUAL(convs, 2); /* one on the data, one inside the residual block */
    CU_ASSERT(data_cols > 0);
    CU_ASSERT_EQUAL(cnn_workspace_floats(c), with_both - data_cols);
    lsgd_model_destroy(m);
    lsgd_dataset_free(set);
}

LSGD_TEST(cnn, default_init_draws_weights_and_biases_uniform_within_one_over_root_fan_in)
{
    lsgd_dataset *set = blobs(20);
    lsgd_model *m = make_model(SMALL_RESNET, set);
    float *x = malloc(m->dim * sizeof *x);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 1, 0);
    m->ops->init(m, x, &rng);
    json_t *desc = m->ops->describe(m), *t;
    size_t k, fan_in = 0;
    json_array_foreach(json_object_get(desc, "tensors"), k, t) {
        json_t *shape = json_object_get(t, "shape");
        size_t rows = (size_t)json_integer_value(json_array_get(shape, 0));
        size_t cols = json_array_size(shape) == 2
                          ? (size_t)json_integer_value(json_array_get(shape, 1))
                          : 1;
        if (json_array_size(shape) == 2)
            fan_in = cols; /* a bias's bound is its weight's */
        const float *w = x + json_integer_value(json_object_get(t, "offset"));
        double bound = 1.0 / sqrt((double)fan_in), widest = 0;
        for (size_t i = 0; i < rows * cols; i++)
            widest = fmax(widest, fabs(w[i]));
        CU_ASSERT(widest <= bound);
        CU_ASSERT(widest >= (rows * cols >= 9 ? 0.5 : 0.05) * bound);
    }
    json_decref(desc);
    free(x);
    lsgd_model_destroy(m);
    lsgd_dataset_free(set);
}

static lsgd_dataset *mnist_test_set(void)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"format\":\"idx\",\"images\":\"%s/data/mnist/t10k-images-idx3-ubyte\","
             "\"labels\":\"%s/data/mnist/t10k-labels-idx1-ubyte\"}",
             test_root_dir(), test_root_dir());
    json_t *cfg = json_loads(text, 0, NULL);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_dataset_load(&set, cfg, "data.test", 0, 1, &err), LSGD_OK);
    json_decref(cfg);
    return set;
}

LSGD_TEST(cnn, mnist_idx_gives_the_input_shape_and_model_input_shape_overrides_it)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    lsgd_dataset *set = mnist_test_set();
    CU_ASSERT_EQUAL(set->sample_shape[0], 1);
    CU_ASSERT_EQUAL(set->sample_shape[1], 28);
    CU_ASSERT_EQUAL(set->sample_shape[2], 28);
    /* conv1.weight [6, C·5·5]: C = 1 from the data, 4 from model.input_shape */
    lsgd_model *from_data = make_model(
        "{\"type\":\"cnn\",\"layers\":[{\"conv\":6,\"kernel\":5},{\"flatten\":{}},{\"dense\":10}]}",
        set);
    lsgd_model *given = make_model(
        "{\"type\":\"cnn\",\"input_shape\":[4,14,14],\"layers\":[{\"conv\":6,\"kernel\":5},"
        "{\"flatten\":{}},{\"dense\":10}]}",
        set);
    CU_ASSERT_EQUAL(from_data->dim, 6 * 25 + 6 + 10 * 6 * 24 * 24 + 10);
    CU_ASSERT_EQUAL(given->dim, 6 * 100 + 6 + 10 * 6 * 10 * 10 + 10);
    lsgd_model_destroy(from_data);
    lsgd_model_destroy(given);
    lsgd_dataset_free(set);
}

/* examples/mnist_lenet5.json run for `steps` (evaluated once, at the end) with
 * extra --set options; returns its final test accuracy (NAN when it failed). */
static double lenet5_accuracy(int steps, const char *sets)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *dir = test_tmpdir();
    char all[2048];
    snprintf(all, sizeof all, "--set algorithm.steps=%d --set output.eval_every=%d %s", steps,
             steps, sets);
    test_output o = run_config_at_root("examples/mnist_lenet5.json", dir, all, 120);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
    double acc = last_value(dir, "test_accuracy");
    fprintf(stderr, "(test accuracy %.4f) ", acc);
    return acc;
}

LSGD_TEST(cnn, lenet5_learns_mnist_above_90_percent_with_local_sgd_on_2_workers)
{
    CU_ASSERT(lenet5_accuracy(240, "") > 0.90);
}

/* OASIS requires the model's HVP: it runs on cnn and leaves chance (10%) far behind. */
LSGD_TEST(cnn, oasis_trains_lenet5_through_the_cnn_hessian_vector_product)
{
    CU_ASSERT(lenet5_accuracy(80, "--set scaling.plugin=oasis --set 'scaling.params={\"alpha\":0.1}' "
                                  "--set algorithm.lr=0.02") > 0.4);
}
