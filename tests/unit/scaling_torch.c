/*
 * scaling_torch.c — adam, rmsprop, sgd and adagrad, loaded through the real
 * host, follow torch.optim's trajectories step for step
 * (docs/algorithms.md §1.2, §1.5).
 *
 * tests/data/torch/ was written by tools/torch-reference.py: a noisy
 * diagonal quadratic g_t = a ⊙ (x_t − c) + noise_t (the gradient depends
 * on the trajectory, so a wrong step shows up in every later one), and for
 * each case the x after every one of 100 steps of the PyTorch optimizer.
 * Here each case runs with one worker and `refresh: local`, and every
 * step must agree to 1e-6 relative, normwise:
 *
 *     max_i |x_i − x_torch,i|  ≤  1e-6 · max_i |x_torch,i|
 *
 * Normwise because PyTorch's CPU kernels fuse some multiply-adds (FMA) that
 * lsgd's portable build rounds twice: the two trajectories differ by an ulp
 * or two of the coordinates' scale (≈1e-7 relative), which a coordinate
 * passing through zero would turn into any per-coordinate ratio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "scaling_test.h"

static float *read_floats(const char *name, size_t n)
{
    const char *path = test_root_path(name);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    float *v = malloc(n * sizeof *v);
    size_t got = fread(v, sizeof *v, n + 1, f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(got, n); /* exactly n floats: the file is what we expect */
    return v;
}

/* Runs case `name` of cases.json; returns the worst relative error seen. */
static double worst_error(const char *name)
{
    json_error_t jerr;
    json_t *meta = json_load_file(test_root_path("tests/data/torch/cases.json"), 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(meta);
    const size_t d = json_integer_value(json_object_get(meta, "d"));
    const size_t steps = json_integer_value(json_object_get(meta, "steps"));
    const json_t *tc = json_object_get(json_object_get(meta, "cases"), name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
    CU_ASSERT_FATAL(steps >= 100 && d >= 64);

    float *problem = read_floats("tests/data/torch/problem.f32", (3 + steps) * d);
    const float *a = problem, *c = problem + d, *x0 = problem + 2 * d, *noise = problem + 3 * d;
    char ref_name[256];
    snprintf(ref_name, sizeof ref_name, "tests/data/torch/%s.f32", name);
    float *ref = read_floats(ref_name, steps * d); /* [steps][d] */

    char *params = json_dumps(json_object_get(tc, "params"), 0);
    const float lr = (float)json_number_value(json_object_get(tc, "lr"));
    lsgd_scaling s;
    lsgd_error err;
    int rc = scaling_test_open(&s, json_string_value(json_object_get(tc, "plugin")), params, d,
                               NULL, &err);
    if (rc)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);

    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    for (size_t i = 0; i < d; i++)
        x[i] = x0[i];
    double worst = 0.0, moved = 0.0;
    lsgd_scaling_ctx ctx = {.struct_size = sizeof ctx, .dim = d, .x = x, .g = g};
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_reset(&s, &ctx, &err), LSGD_OK);
    for (size_t t = 0; t < steps; t++) {
        for (size_t i = 0; i < d; i++)
            g[i] = (x[i] - c[i]) * a[i] + noise[t * d + i];
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_local_step(&s, x, &ctx, lr, &err), LSGD_OK);
        double diff = 0.0, scale = 0.0;
        for (size_t i = 0; i < d; i++) {
            double r = ref[t * d + i];
            diff = fmax(diff, fabs(x[i] - r));
            scale = fmax(scale, fabs(r));
            moved = fmax(moved, fabs(r - x0[i]));
        }
        worst = fmax(worst, diff / scale);
    }
    CU_ASSERT(moved > 0.05); /* the reference went somewhere: not a trivial pass */
    lsgd_scaling_close(&s);
    free(x);
    free(g);
    free(ref);
    free(problem);
    free(params);
    json_decref(meta);
    return worst;
}

#define TORCH_CASE(test_name, case_name)                                        \
    LSGD_TEST(scaling_torch, test_name)                                         \
    {                                                                           \
        double worst = worst_error(case_name);                                  \
        if (worst > 1e-6 || getenv("LSGD_TEST_VERBOSE"))                       \
            fprintf(stderr, "\n%s: worst relative error %.3g\n", case_name, worst); \
        CU_ASSERT(worst <= 1e-6);                                               \
    }

TORCH_CASE(adam_equals_torch_adam_over_100_steps, "adam")
TORCH_CASE(adam_with_l2_decay_equals_torch_adam_weight_decay, "adam_l2")
TORCH_CASE(adam_decoupled_equals_torch_adamw, "adamw")
TORCH_CASE(adam_amsgrad_equals_torch_adam_amsgrad, "adam_amsgrad")
TORCH_CASE(rmsprop_equals_torch_rmsprop, "rmsprop")
TORCH_CASE(rmsprop_momentum_and_decay_equals_torch_rmsprop, "rmsprop_momentum")
TORCH_CASE(rmsprop_centered_equals_torch_rmsprop_centered, "rmsprop_centered")
TORCH_CASE(sgd_momentum_equals_torch_sgd_momentum, "sgd_momentum")
TORCH_CASE(sgd_nesterov_with_decay_equals_torch_sgd_nesterov, "sgd_nesterov")
TORCH_CASE(adagrad_equals_torch_adagrad, "adagrad")
