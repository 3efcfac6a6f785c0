/*
 * cnn.c — speed of the cnn model: LeNet-5 (examples/mnist_lenet5.json's
 * model) on MNIST, batch 64, one "name value" line per figure
 * (tools/benchmarks/cnn.sh prints them next to PyTorch eager's):
 *
 *   cnn_lenet5_step_ms      a training step's loss and gradient
 *   cnn_lenet5_hvp_ms       a Hessian-vector product on the same batch
 *   cnn_lenet5_hvp_over_grad
 *
 * Gradient and HVP are timed interleaved (the machine is shared): each of
 * ROUNDS rounds times REPS calls of one then of the other; each keeps its
 * best round.  Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID, as
 * cnn.py's time.thread_time): on a quiet machine the wall time, on a loaded
 * one without the slices other processes took.
 *
 * usage: cnn MNIST_DIR LENET5_CONFIG
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "data/dataset.h"
#include "models/blas.h"
#include "models/model.h"
#include "util/rng.h"

enum { BATCH = 64, BATCHES = 32, REPS = 5, ROUNDS = 30 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const lsgd_error *err)
{
    fprintf(stderr, "bench cnn: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

static lsgd_dataset *mnist(const char *dir)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"format\":\"idx\",\"images\":\"%s/train-images-idx3-ubyte\","
             "\"labels\":\"%s/train-labels-idx1-ubyte\"}", dir, dir);
    json_t *cfg = json_loads(text, 0, NULL);
    lsgd_dataset *set = NULL;
    lsgd_error err;
    if (lsgd_dataset_load(&set, cfg, "data.train", 0, 1, &err) != LSGD_OK ||
        lsgd_dataset_normalize(set, NULL, "unit", &err) != LSGD_OK)
        die("MNIST", &err);
    json_decref(cfg);
    return set;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cnn MNIST_DIR LENET5_CONFIG\n");
        return 2;
    }
    lsgd_dataset *set = mnist(argv[1]);
    json_error_t jerr;
    json_t *config = json_load_file(argv[2], 0, &jerr);
    if (!config)
        die(argv[2], NULL);
    lsgd_model *model = NULL;
    lsgd_error err;
    if (lsgd_model_create(&model, json_object_get(config, "model"), set, &err) != LSGD_OK)
        die("model", &err);
    size_t dim = model->dim;
    float *x = malloc(dim * sizeof *x), *g = malloc(dim * sizeof *g),
          *v = malloc(dim * sizeof *v), *hv = malloc(dim * sizeof *hv);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 1, 0);
    model->ops->init(model, x, &rng);
    for (size_t i = 0; i < dim; i++)
        v[i] = lsgd_rng_uniform(&rng) < 0.5 ? -1.0f : 1.0f; /* Rademacher, as OASIS */
    uint32_t *rows = malloc(BATCH * BATCHES * sizeof *rows);
    for (size_t i = 0; i < BATCH * BATCHES; i++)
        rows[i] = (uint32_t)lsgd_rng_below(&rng, set->n);
    double best_grad = INFINITY, best_hvp = INFINITY, loss;
    for (int r = 0; r <= ROUNDS; r++) { /* round 0 warms up */
        double t = now();
        for (int i = 0; i < REPS; i++) {
            lsgd_batch batch = {set, rows + (size_t)(i % BATCHES) * BATCH, BATCH, &rng};
            if (model->ops->loss_grad(model, x, &batch, &loss, g, &err) != LSGD_OK)
                die("loss_grad", &err);
        }
        double grad_s = (now() - t) / REPS;
        t = now();
        for (int i = 0; i < REPS; i++) {
            lsgd_batch batch = {set, rows + (size_t)(i % BATCHES) * BATCH, BATCH, &rng};
            if (model->ops->hvp(model, x, &batch, v, hv, &err) != LSGD_OK)
                die("hvp", &err);
        }
        double hvp_s = (now() - t) / REPS;
        if (r > 0) {
            best_grad = fmin(best_grad, grad_s);
            best_hvp = fmin(best_hvp, hvp_s);
        }
    }
    printf("openblas_core %s\n", lsgd_blas_core_in_use());
    printf("cnn_lenet5_params %zu\n", dim);
    printf("cnn_lenet5_step_ms %.3f\n", best_grad * 1e3);
    printf("cnn_lenet5_hvp_ms %.3f\n", best_hvp * 1e3);
    printf("cnn_lenet5_hvp_over_grad %.2f\n", best_hvp / best_grad);
    lsgd_model_destroy(model);
    lsgd_dataset_free(set);
    json_decref(config);
    free(x), free(g), free(v), free(hv), free(rows);
    return 0;
}
