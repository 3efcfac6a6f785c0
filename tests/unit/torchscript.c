/*
 * torchscript.c — the torchscript model plugin (plugins/torchscript, C++
 * against libtorch), loaded from the built-in plugin directory through the
 * host's model adapter: on the reference dumps of tools/export-model
 * (tests/data/torchscript/: LeNet-5 on MNIST-shaped random samples, a
 * small MLP for flat rows, ResNet-8 on CIFAR-10-shaped samples and a
 * transformer classifier) x₀ is the module's saved parameters bit for
 * bit, and the loss, the gradient (autograd) and the HVP (double backward)
 * equal PyTorch eager's; the exported ResNet-8 and lsgd's cnn model of the
 * same layers compute the same loss and gradient at the same x; describe
 * names the module's parameters; a file that is not a module is refused
 * naming it; the MLP trains under Local SGD over shm with OASIS through
 * its HVP, and ResNet-8 (on CIFAR-10-format files) and the two examples
 * (ResNet-8 and the transformer on Fashion-MNIST) train with their loss
 * going down.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "engine_helpers.h"
#include "harness.h"
#include "host/registry.h"
#include "host_fakes.h"
#include "models/model.h"
#include "reference_dump.h"
#include "util/rng.h"

/* A reference case as a data set with PyTorch eager's x, v, loss, grad, hvp. */
typedef struct reference {
    json_t *meta;
    lsgd_dataset *set;
    lsgd_registry reg;
    lsgd_model *model;
    float *blob, *x, *v, *grad, *hvp;
    size_t n, dim;
    uint32_t *rows;
    lsgd_batch batch;
} reference;

static size_t meta_size(const json_t *meta, const char *key)
{
    return (size_t)json_integer_value(json_object_get(meta, key));
}

/* The dump's samples as a set, with their image shape. */
static lsgd_dataset *sample_set(const reference *r, const char *name)
{
    size_t d = meta_size(r->meta, "features");
    lsgd_dataset *set = reference_set(r->blob, r->blob + r->n * d, r->n, d,
                                      (int)meta_size(r->meta, "classes"), name);
    json_t *shape = json_object_get(r->meta, "sample_shape");
    if (json_array_size(shape) == 3)
        for (size_t k = 0; k < 3; k++)
            set->sample_shape[k] = (size_t)json_integer_value(json_array_get(shape, k));
    return set;
}

static void reference_load(reference *r, const char *name)
{
    char path[256];
    r->meta = reference_meta("torchscript", name);
    r->n = meta_size(r->meta, "n"), r->dim = meta_size(r->meta, "dim");
    size_t d = meta_size(r->meta, "features");
    snprintf(path, sizeof path, "tests/data/torchscript/%s.f32", name);
    r->blob = reference_floats(path, r->n * d + r->n + 4 * r->dim);
    r->set = sample_set(r, name);
    r->x = r->blob + r->n * d + r->n;
    r->v = r->x + r->dim, r->grad = r->v + r->dim, r->hvp = r->grad + r->dim;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_registry_discover(&r->reg, NULL, &err), LSGD_OK);
    snprintf(path, sizeof path, "tests/data/torchscript/%s.pt", name);
    json_t *cfg = json_pack("{s:s, s:{s:s}}", "plugin", "torchscript", "params", "file",
                            test_root_path(path));
    int rc = lsgd_model_open(&r->model, cfg, r->set, &r->reg, &err);
    json_decref(cfg);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  %s: %s\n", name, err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(r->model->dim, r->dim);
    r->rows = malloc(r->n * sizeof *r->rows);
    for (size_t i = 0; i < r->n; i++)
        r->rows[i] = (uint32_t)i;
    r->batch = (lsgd_batch){r->set, r->rows, r->n, NULL};
}

static void reference_free(reference *r)
{
    lsgd_model_destroy(r->model);
    lsgd_registry_free(&r->reg);
    lsgd_dataset_free(r->set);
    json_decref(r->meta);
    free(r->blob);
    free(r->rows);
}

static void expect_pytorch_eager(const char *name)
{
    reference r = {0};
    reference_load(&r, name);
    float *x = malloc(r.dim * sizeof *x), *g = malloc(r.dim * sizeof *g);
    float *hv = malloc(r.dim * sizeof *hv);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 1, 0);
    r.model->ops->init(r.model, x, &rng);
    CU_ASSERT_EQUAL(memcmp(x, r.x, r.dim * sizeof *x), 0); /* x₀: the saved parameters */
    lsgd_error err = {0};
    double loss = NAN;
    CU_ASSERT_EQUAL_FATAL(r.model->ops->loss_grad(r.model, x, &r.batch, &loss, g, &err), LSGD_OK);
    double want = json_number_value(json_object_get(r.meta, "loss"));
    CU_ASSERT_DOUBLE_EQUAL(loss, want, 1e-6 * (1 + fabs(want)));
    double grad_gap = reference_relative_error(g, r.grad, r.dim);
    CU_ASSERT(grad_gap < 1e-5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.model->ops->hvp);
    CU_ASSERT_EQUAL_FATAL(r.model->ops->hvp(r.model, x, &r.batch, r.v, hv, &err), LSGD_OK);
    double hvp_gap = reference_relative_error(hv, r.hvp, r.dim);
    CU_ASSERT(hvp_gap < 1e-4);
    if (grad_gap >= 1e-5 || hvp_gap >= 1e-4 || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\n  %s: gradient gap %.3g, HVP gap %.3g\n", name, grad_gap, hvp_gap);
    free(x), free(g), free(hv);
    reference_free(&r);
}

LSGD_TEST(torchscript, lenet5_gradient_and_hvp_equal_pytorch_eager_on_the_reference_batch)
{
    expect_pytorch_eager("lenet5");
}

LSGD_TEST(torchscript, a_flat_row_mlp_gradient_and_hvp_equal_pytorch_eager)
{
    expect_pytorch_eager("mlp13");
}

LSGD_TEST(torchscript, resnet8_gradient_and_hvp_equal_pytorch_eager_on_a_cifar10_shaped_batch)
{
    expect_pytorch_eager("resnet8");
}

LSGD_TEST(torchscript, a_transformer_classifier_gradient_and_hvp_equal_pytorch_eager)
{
    expect_pytorch_eager("transformer");
}

LSGD_TEST(torchscript, the_exported_resnet8_and_the_cnn_model_of_its_layers_agree_at_the_same_x)
{
    reference r = {0};
    reference_load(&r, "resnet8");
    json_error_t jerr;
    json_t *cfg = json_load_file(test_root_path("tests/data/torchscript/resnet8_cnn.json"), 0,
                                 &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_model *cnn = NULL;
    lsgd_error err = {0};
    int rc = lsgd_model_open(&cnn, cfg, r.set, &r.reg, &err);
    json_decref(cfg);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  resnet8_cnn.json: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(cnn->dim, r.dim); /* the same parameters, in the same order */
    float *g = malloc(r.dim * sizeof *g), *gc = malloc(r.dim * sizeof *gc);
    double loss = NAN, loss_cnn = NAN;
    CU_ASSERT_EQUAL_FATAL(r.model->ops->loss_grad(r.model, r.x, &r.batch, &loss, g, &err), LSGD_OK);
    CU_ASSERT_EQUAL_FATAL(cnn->ops->loss_grad(cnn, r.x, &r.batch, &loss_cnn, gc, &err), LSGD_OK);
    CU_ASSERT_DOUBLE_EQUAL(loss_cnn, loss, 1e-5 * (1 + fabs(loss)));
    double gap = reference_relative_error(gc, g, r.dim);
    CU_ASSERT(gap < 1e-4);
    if (gap >= 1e-4 || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\n  cnn vs torchscript ResNet-8: loss %.9g vs %.9g, gradient gap %.3g\n",
                loss_cnn, loss, gap);
    free(g), free(gc);
    lsgd_model_destroy(cnn);
    reference_free(&r);
}

/* Evaluation runs without autograd; the parameters it binds to a new x
 * must still serve autograd at that x afterwards (libtorch's InferenceMode
 * breaks both: its views cannot be saved for backward, and the module's
 * graph executor replays its autograd plan inside it). */
LSGD_TEST(torchscript, a_gradient_after_evaluating_at_the_same_new_x_still_equals_pytorch_eager)
{
    reference r = {0};
    reference_load(&r, "lenet5");
    float *x = malloc(r.dim * sizeof *x), *g = malloc(r.dim * sizeof *g);
    memcpy(x, r.x, r.dim * sizeof *x); /* an x the module was never bound to */
    lsgd_error err = {0};
    double loss = NAN, accuracy = NAN, want = json_number_value(json_object_get(r.meta, "loss"));
    CU_ASSERT_EQUAL_FATAL(r.model->ops->evaluate(r.model, x, &r.batch, &loss, &accuracy, &err),
                          LSGD_OK);
    CU_ASSERT_DOUBLE_EQUAL(loss, want, 1e-6 * (1 + fabs(want)));
    int rc = r.model->ops->loss_grad(r.model, x, &r.batch, &loss, g, &err);
    if (rc != LSGD_OK)
        fprintf(stderr, "\n  %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    CU_ASSERT(reference_relative_error(g, r.grad, r.dim) < 1e-5);
    free(x), free(g);
    reference_free(&r);
}

LSGD_TEST(torchscript, describe_lists_the_modules_parameters_in_order_as_views_into_x)
{
    reference r = {0};
    reference_load(&r, "lenet5");
    json_t *doc = r.model->ops->describe(r.model);
    json_t *tensors = json_object_get(doc, "tensors");
    json_t *want = json_object_get(r.meta, "tensors");
    CU_ASSERT_EQUAL(json_array_size(tensors), json_array_size(want));
    size_t offset = 0, i;
    json_t *t;
    json_array_foreach(tensors, i, t) {
        json_t *w = json_array_get(want, i);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "name")),
                               json_string_value(json_object_get(w, "name")));
        CU_ASSERT_TRUE(json_equal(json_object_get(t, "shape"), json_object_get(w, "shape")));
        CU_ASSERT_EQUAL((size_t)json_integer_value(json_object_get(t, "offset")), offset);
        size_t size = 1, k;
        json_t *s;
        json_array_foreach(json_object_get(w, "shape"), k, s) size *= (size_t)json_integer_value(s);
        offset += size;
    }
    CU_ASSERT_EQUAL(offset, r.dim);
    json_decref(doc);
    reference_free(&r);
}

LSGD_TEST(torchscript, a_file_that_is_not_a_scripted_module_is_refused_naming_it)
{
    TEST_TMPDIR(work);
    const char *bogus = test_write_file(work, "bogus.pt", "not a zip archive\n");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run '%s' --set model.params.file='%s' --set workers=1", work,
             lsgd_bin(), test_root_path("tests/data/torchscript/run.json"), bogus);
    expect_input_error(cmd, "torchscript", "bogus.pt", NULL);
}

LSGD_TEST(torchscript, an_mlp_module_trains_under_local_sgd_over_shm_with_oasis)
{
    TEST_TMPDIR(work);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run '%s' --set model.params.file='%s'", work,
             lsgd_bin(), test_root_path("tests/data/torchscript/run.json"),
             test_root_path("tests/data/torchscript/mlp13.pt"));
    test_output o = test_run(cmd, 120);
    if (o.status != 0)
        fprintf(stderr, "\n$ %s\n%s%s\n", cmd, o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    const char *acc = strstr(o.out, "test accuracy ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(acc);
    CU_ASSERT(atof(acc + strlen("test accuracy ")) >= 90.0);
    test_output_free(&o);
}

/* CIFAR-10's binary layout (label byte + 3072 pixel bytes), n images per
 * class told apart by their colour: channel k's mean is 60 + 60 × (the
 * class's k-th base-3 digit), plus uniform noise of ±50. */
static void write_cifar10_colours(const char *path, size_t per_class)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 7, 0);
    unsigned char record[3073];
    for (size_t i = 0; i < 10 * per_class; i++) {
        int c = (int)(i % 10), digit[3] = {c % 3, c / 3 % 3, c / 9};
        record[0] = (unsigned char)c;
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 1024; p++)
                record[1 + k * 1024 + p] =
                    (unsigned char)(60 + 60 * digit[k] + (int)lsgd_rng_below(&rng, 101) - 50);
        CU_ASSERT_EQUAL(fwrite(record, 1, sizeof record, f), sizeof record);
    }
    fclose(f);
}

/* `lsgd run CONFIG SETS` from cwd, its output in work/out: the training
 * loss of its last round below `ratio` × its first's. */
static void expect_training_loss_to_fall(const char *cwd, const char *work, const char *config,
                                         const char *sets, double ratio)
{
    char cmd[16384], cfg[4096];
    snprintf(cfg, sizeof cfg, "%s", test_root_path(config));
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run '%s' --set output.dir='%s/out' --set output.progress=none %s",
             cwd, lsgd_bin(), cfg, work, sets);
    test_output o = test_run(cmd, 300);
    if (o.status != 0)
        fprintf(stderr, "\n$ %s\n%s%s\n", cmd, o.out, o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, work), 0);
    int c = column(&t, "train_loss");
    CU_ASSERT_FATAL(c >= 0 && t.rows >= 2);
    double first = value(&t, 0, c), last = value(&t, t.rows - 1, c);
    metrics_free(&t);
    CU_ASSERT(last < ratio * first);
    if (!(last < ratio * first) || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\n  %s: training loss %.4g in the first round, %.4g in the last\n",
                config, first, last);
}

LSGD_TEST(torchscript, resnet8_trains_on_cifar10_format_files_with_its_loss_falling)
{
    TEST_TMPDIR(work);
    char dir[4096], path[4200], sets[8192];
    snprintf(dir, sizeof dir, "%s/cifar", work);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/data_batch_1.bin", dir);
    write_cifar10_colours(path, 40);
    snprintf(sets, sizeof sets, "--set model.params.file='%s'",
             test_root_path("tests/data/torchscript/resnet8.pt"));
    expect_training_loss_to_fall(work, work, "tests/data/torchscript/resnet8_run.json", sets, 0.5);
}

/* An example (a module of examples/models on Fashion-MNIST), a few rounds. */
static void expect_example_to_learn(const char *name, const char *sets)
{
    if (test_fetch_data("fashion-mnist") != 0) {
        fprintf(stderr, "  skipped: Fashion-MNIST could not be fetched here\n");
        return;
    }
    TEST_TMPDIR(work);
    char config[256];
    snprintf(config, sizeof config, "examples/%s.json", name);
    expect_training_loss_to_fall(test_root_dir(), work, config, sets, 0.7);
}

LSGD_TEST(torchscript, the_resnet8_example_learns_fashion_mnist_in_a_few_dozen_steps)
{
    expect_example_to_learn("fashion_mnist_resnet8_torchscript", "--set algorithm.steps=40");
}

LSGD_TEST(torchscript, the_transformer_example_learns_fashion_mnist_in_a_few_dozen_steps)
{
    expect_example_to_learn("fashion_mnist_transformer_torchscript",
                            "--set algorithm.steps=48 --set algorithm.batch_size=16");
}
