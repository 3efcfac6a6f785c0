/*
 * outer_paper.c — the outer optimizer with `adam` (bias_correction false,
 * eps = τ) and `yogi` is the server optimizer of Reddi et al., "Adaptive
 * Federated Optimization" (ICLR 2021), Algorithm 2 (docs/algorithms.md §5.2):
 *
 *   Δ_t = x̄ − x_t                         the average of the clients' updates
 *   m_t = β₁ m_{t−1} + (1−β₁) Δ_t           m_{−1} = 0
 *   FedAdam:  v_t = β₂ v_{t−1} + (1−β₂) Δ_t²
 *   FedYogi:  v_t = v_{t−1} − (1−β₂) Δ_t² sign(v_{t−1} − Δ_t²)
 *   (v_{−1} = τ² for both, the least the paper allows)
 *   x_{t+1} = x_t + η m_t / (√v_t + τ)
 *
 * computed here in double over 3 rounds and compared with real runs.  The
 * runs are tests/data/outer_paper/diagonal.json: F(x) = ½ Σ λ_i x_i², λ_i
 * log-spaced from 1 to 30, no noise, x₀ = 1, 2 workers taking H = 4 plain
 * SGD steps of γ = 0.02 per round.  Both workers hold the same model, so
 * x̄_i = (1 − γλ_i)^H x_{t,i} exactly (up to float rounding), and the
 * coordinates shrink at different rates, so that yogi's sign takes both
 * values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine_helpers.h"
#include "io/npy.h"

enum { DIM = 6, H = 4, ROUNDS = 3 };
static const double GAMMA = 0.02, CONDITION = 30;

typedef struct server {
    double eta, beta1, beta2, tau;
    int yogi;
} server;

/* The paper's recursion from x₀ = 1; returns how often sign(v − Δ²) was +1. */
static int paper_rounds(double *x, const server *s)
{
    double m[DIM] = {0}, v[DIM];
    int above = 0;
    for (int i = 0; i < DIM; i++) {
        x[i] = 1.0;
        v[i] = s->tau * s->tau;
    }
    for (int t = 0; t < ROUNDS; t++)
        for (int i = 0; i < DIM; i++) {
            double lambda = pow(CONDITION, (double)i / (DIM - 1)), xbar = x[i];
            for (int k = 0; k < H; k++)
                xbar -= GAMMA * lambda * xbar;
            double delta = xbar - x[i], d2 = delta * delta;
            m[i] = s->beta1 * m[i] + (1 - s->beta1) * delta;
            if (s->yogi) {
                double sign = (v[i] > d2) - (v[i] < d2);
                above += sign > 0;
                v[i] = v[i] - (1 - s->beta2) * d2 * sign;
            } else {
                v[i] = s->beta2 * v[i] + (1 - s->beta2) * d2;
            }
            x[i] += s->eta * m[i] / (sqrt(v[i]) + s->tau);
        }
    return above;
}

/* The model after 3 rounds with this outer optimizer; NULL on failure. */
static float *run_with_outer(const char *outer)
{
    const char *dir = test_tmpdir();
    char extra[512], path[512];
    snprintf(extra, sizeof extra, "--set 'outer=%s'", outer);
    test_output o = run_workers_args(test_root_path("tests/data/outer_paper/diagonal.json"), 2,
                                     dir, "", extra, 60);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "\n%s\n", o.err);
    test_output_free(&o);
    snprintf(path, sizeof path, "%s/out/model.npy", dir);
    float *x = NULL;
    size_t n = 0;
    lsgd_error err;
    if (lsgd_npy_read(path, &x, &n, &err) || n != DIM) {
        fprintf(stderr, "\n%s\n", err.message);
        free(x);
        return NULL;
    }
    return x;
}

static void check_against_paper(const char *outer, const server *s, int want_both_signs)
{
    double expect[DIM];
    int above = paper_rounds(expect, s);
    float *got = run_with_outer(outer);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    double worst = 0, scale = 0, moved = 0;
    for (int i = 0; i < DIM; i++) {
        worst = fmax(worst, fabs(got[i] - expect[i]));
        scale = fmax(scale, fabs(expect[i]));
        moved = fmax(moved, fabs(expect[i] - 1.0));
    }
    worst /= scale; /* normwise */
    if (worst > 1e-5 || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\n  %s: worst relative difference from the paper's recursion %.3g "
                        "(sign(v - delta^2) = +1 %d times)\n", outer, worst, above);
    CU_ASSERT(worst <= 1e-5);
    CU_ASSERT(moved > 0.1); /* the rounds did move x */
    if (want_both_signs)
        CU_ASSERT(above > 0 && above < DIM * ROUNDS);
    free(got);
}

LSGD_TEST(outer_paper, outer_adam_without_bias_correction_is_fedadams_server_step)
{
    server s = {.eta = 0.1, .beta1 = 0.9, .beta2 = 0.99, .tau = 1e-3};
    check_against_paper("{\"plugin\": \"adam\", \"lr\": 0.1, \"beta1\": 0.9, \"beta2\": 0.99,"
                        " \"eps\": 1e-3, \"bias_correction\": false,"
                        " \"initial_accumulator\": 1e-6}", &s, 0);
}

LSGD_TEST(outer_paper, outer_yogi_without_bias_correction_is_fedyogis_server_step)
{
    server s = {.eta = 1.0, .beta1 = 0.9, .beta2 = 0.3, .tau = 1e-3, .yogi = 1};
    check_against_paper("{\"plugin\": \"yogi\", \"lr\": 1.0, \"beta1\": 0.9, \"beta2\": 0.3,"
                        " \"eps\": 1e-3, \"bias_correction\": false}", &s, 1);
}
