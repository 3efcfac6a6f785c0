/*
 * engine_overhead.c — the kernels of one MNIST epoch, timed alone, for
 * "the engine adds nothing measurable around the kernels" (its target).
 *
 * With the data, model and scaling plugin of CONFIG (one worker: the whole
 * training set, the engine's reshuffling sampler and seed), takes one
 * epoch's worth of steps (⌈n / batch⌉) and times, step by step, only
 *   model->ops->loss_grad   (the gradient of the minibatch)
 *   lsgd_scaling_local_step (the scaling plugin's step, as the engine calls it)
 * and prints their sums.  engine.sh compares them with the wall time of
 * `lsgd run CONFIG` on one worker for the same number of steps, measured in
 * the same benchmark run.
 *
 * Usage: engine_overhead CONFIG      (run from the source root: data paths)
 * Prints: steps <n>  grad_s <s>  scaling_s <s>  kernels_s <s>  loop_s <s>
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "data/dataset.h"
#include "engine/run.h"
#include "engine/sampler.h"
#include "host/registry.h"
#include "host/scaling_host.h"
#include "models/model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, const lsgd_error *err)
{
    fprintf(stderr, "engine_overhead: %s: %s\n", what, err->message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: engine_overhead CONFIG\n");
        return 2;
    }
    json_error_t jerr;
    json_t *cfg = json_load_file(argv[1], 0, &jerr);
    if (!cfg) {
        fprintf(stderr, "engine_overhead: %s:%d: %s\n", argv[1], jerr.line, jerr.text);
        return 2;
    }
    json_t *alg = json_object_get(cfg, "algorithm");
    size_t batch = (size_t)json_integer_value(json_object_get(alg, "batch_size"));
    float lr = (float)json_number_value(json_object_get(alg, "lr"));
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(cfg, "seed"));

    lsgd_error err;
    lsgd_dataset *train = NULL, *test = NULL;
    lsgd_model *model = NULL;
    if (lsgd_data_load(&train, &test, json_object_get(cfg, "data"), seed, &err))
        return fail("data", &err);
    if (lsgd_model_create(&model, json_object_get(cfg, "model"), train, &err))
        return fail("model", &err);
    size_t dim = model->dim, steps = (train->n + batch - 1) / batch;

    lsgd_registry reg;
    if (lsgd_registry_discover(&reg, cfg, &err))
        return fail("plugins", &err);
    static const char *const provides[] = {"hvp", NULL};
    lsgd_scaling s = {0};
    if (lsgd_scaling_open(&s, &reg, json_object_get(cfg, "scaling"), "scaling", dim, provides,
                          &err) ||
        lsgd_scaling_reset(&s, NULL, &err))
        return fail("scaling", &err);

    float *x = lsgd_floats_alloc(dim), *g = lsgd_floats_alloc(dim);
    uint32_t *rows = malloc(train->n * sizeof *rows);
    for (size_t i = 0; i < train->n; i++)
        rows[i] = (uint32_t)i;
    lsgd_rng init, noise;
    lsgd_rng_seed(&init, seed, LSGD_STREAM_INIT);
    lsgd_rng_seed(&noise, seed, LSGD_STREAM_NOISE);
    model->ops->init(model, x, &init);
    lsgd_sampler sampler;
    if (lsgd_sampler_init(&sampler, rows, train->n, batch, 0, seed, LSGD_STREAM_BATCH, &err))
        return fail("sampler", &err);
    lsgd_scaling_ctx ctx = {.struct_size = sizeof ctx, .dim = dim};

    double grad_s = 0, scaling_s = 0, loop0 = now();
    for (size_t t = 0; t < steps; t++) {
        lsgd_batch b = {.set = train, .rows = lsgd_sampler_next(&sampler), .n = batch,
                        .rng = &noise};
        double loss, t0 = now();
        if (model->ops->loss_grad(model, x, &b, &loss, g, &err))
            return fail("gradient", &err);
        double t1 = now();
        ctx.x = x;
        ctx.g = g;
        if (lsgd_scaling_local_step(&s, x, &ctx, lr, &err))
            return fail("step", &err);
        double t2 = now();
        grad_s += t1 - t0;
        scaling_s += t2 - t1;
    }
    double loop_s = now() - loop0;
    printf("steps %zu\ngrad_s %.4f\nscaling_s %.4f\nkernels_s %.4f\nloop_s %.4f\n", steps,
           grad_s, scaling_s, grad_s + scaling_s, loop_s);

    lsgd_sampler_free(&sampler);
    free(rows);
    lsgd_floats_free(x);
    lsgd_floats_free(g);
    lsgd_scaling_close(&s);
    lsgd_registry_free(&reg);
    lsgd_model_destroy(model);
    lsgd_dataset_free(train);
    lsgd_dataset_free(test);
    json_decref(cfg);
    return 0;
}
