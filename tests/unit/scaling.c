/*
 * scaling.c — the built-in scaling plugins, loaded through the real host,
 * compute exactly what docs/algorithms.md §1.2 says, keep all their state in the
 * host's named arrays, and refuse bad input with one clear line.
 * (Agreement with PyTorch is in scaling_torch.c.)
 */
#include <math.h>
#include <string.h>

#include "scaling_test.h"

static const char *const with_hvp[] = {"hvp", NULL};

/* Every plugin with every state array switched on. */
static const struct {
    const char *name, *params;
} all_arrays[] = {
    {"sgd", "{\"momentum\": 0.9, \"nesterov\": true}"},
    {"adam", "{\"amsgrad\": true, \"weight_decay\": 0.01}"},
    {"rmsprop", "{\"centered\": true, \"momentum\": 0.5}"},
    {"oasis", "{\"momentum\": 0.9, \"warmup_samples\": 3, \"alpha\": 0.01, \"adaptive_lr\": true}"},
    {"adagrad", "{\"initial_accumulator\": 0.1}"},
    {"yogi", "{\"initial_accumulator\": 0.01}"},
};
enum { N_PLUGINS = sizeof all_arrays / sizeof all_arrays[0] };

static void open_ok(lsgd_scaling *s, const char *name, const char *params, size_t dim)
{
    lsgd_error err;
    int rc = scaling_test_open(s, name, params, dim, with_hvp, &err);
    if (rc)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
}

/* Warm start at x, then `steps` local steps on q from x. */
static void run_steps(lsgd_scaling *s, quadratic *q, float *x, int steps, float lr)
{
    lsgd_error err;
    float *g = malloc(q->dim * sizeof *g);
    for (int t = 0; t < steps; t++) {
        quadratic_gradient(g, q, x);
        lsgd_scaling_ctx ctx = quadratic_ctx(q, x, g);
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_local_step(s, x, &ctx, lr, &err), LSGD_OK);
    }
    free(g);
}

static void start(lsgd_scaling *s, quadratic *q, float *x, uint64_t seed)
{
    lsgd_rng r;
    lsgd_rng_seed(&r, seed, 7);
    for (size_t i = 0; i < q->dim; i++)
        x[i] = (float)lsgd_rng_normal(&r);
    float *g = malloc(q->dim * sizeof *g);
    quadratic_gradient(g, q, x);
    lsgd_scaling_ctx ctx = quadratic_ctx(q, x, g);
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_reset(s, &ctx, &err), LSGD_OK);
    free(g);
}

/* ---- exactness --------------------------------------------------------- */

LSGD_TEST(scaling, sgd_step_is_bitwise_x_minus_lr_g)
{
    enum { D = 1003 };
    lsgd_scaling s;
    open_ok(&s, "sgd", NULL, D);
    CU_ASSERT_EQUAL(s.count, 0); /* plain SGD has no state */
    float x[D], g[D], expect[D];
    lsgd_rng r;
    lsgd_rng_seed(&r, 11, 0);
    const float lr = 0.37f;
    lsgd_error err;
    for (int t = 0; t < 5; t++) {
        for (int i = 0; i < D; i++) {
            x[i] = (float)lsgd_rng_normal(&r);
            g[i] = (float)(lsgd_rng_normal(&r) * 100.0);
            expect[i] = x[i] - lr * g[i];
        }
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_step(&s, x, g, lr, 1, &err), LSGD_OK);
        CU_ASSERT_EQUAL(memcmp(x, expect, sizeof x), 0);
    }
    CU_ASSERT_EQUAL(s.clock.step, 5);
    lsgd_scaling_close(&s);
}

LSGD_TEST(scaling, hutchinson_estimate_is_exact_for_a_diagonal_hessian)
{
    enum { D = 300 };
    quadratic q;
    quadratic_init(&q, D, 5);
    lsgd_scaling s;
    open_ok(&s, "oasis", "{\"warmup_samples\": 0}", D);
    float x[D], g[D];
    start(&s, &q, x, 1);
    quadratic_gradient(g, &q, x);
    lsgd_scaling_ctx ctx = quadratic_ctx(&q, x, g);
    lsgd_error err;
    for (int k = 0; k < 3; k++) { /* each fresh z gives the same exact diagonal */
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_statistic(&s, &ctx, &err), LSGD_OK);
        CU_ASSERT_EQUAL(memcmp(s.statistic, q.a, sizeof(float) * D), 0);
    }
    CU_ASSERT_EQUAL(q.hvp_calls, 3);
    lsgd_scaling_close(&s);
    quadratic_free(&q);
}

/* OASIS on f(x) = ½ xᵀAx − bᵀx with a dense symmetric A, so Hutchinson's
 * estimate is genuinely random: the float plugin against the paper's
 * recursion (docs/algorithms.md §1.2.5) in double, with the same Rademacher
 * vectors. */
enum { OD = 24, OSTEPS = 60, OWARM = 4 };
typedef struct dense {
    double A[OD][OD], b[OD];
    lsgd_rng rng;
} dense;

/* A's diagonal uniform in [lo, lo + 4], off-diagonal N(0, 0.1²); lo < 0
 * makes A indefinite. */
static void dense_init(dense *p, lsgd_rng *r, double lo)
{
    for (int i = 0; i < OD; i++) {
        p->b[i] = lsgd_rng_normal(r);
        for (int j = 0; j <= i; j++)
            p->A[i][j] = p->A[j][i] = i == j ? lo + 4.0 * lsgd_rng_uniform(r)
                                             : 0.1 * lsgd_rng_normal(r);
    }
    lsgd_rng_seed(&p->rng, 2024, 3);
}

static int dense_hvp(void *host, const float *v, float *out, lsgd_error *err)
{
    const dense *p = host;
    for (int i = 0; i < OD; i++) {
        double s = 0;
        for (int j = 0; j < OD; j++)
            s += p->A[i][j] * v[j];
        out[i] = (float)s;
    }
    return LSGD_OK;
}

static uint64_t dense_random(void *host)
{
    return lsgd_rng_next(&((dense *)host)->rng);
}

static lsgd_scaling_ctx dense_ctx(dense *p, const float *x, const float *g)
{
    return (lsgd_scaling_ctx){.struct_size = sizeof(lsgd_scaling_ctx), .dim = OD, .x = x,
                              .g = g, .host = p, .hvp = dense_hvp, .random = dense_random};
}

/* g = Ax − b: in float from x (for the plugin), in double from xr. */
static void dense_gradient(float *g, double *gr, const dense *p, const float *x,
                           const double *xr)
{
    for (int i = 0; i < OD; i++) {
        double sf = 0, sr = 0;
        for (int j = 0; j < OD; j++) {
            sf += p->A[i][j] * x[j];
            sr += p->A[i][j] * xr[j];
        }
        g[i] = (float)(sf - p->b[i]);
        gr[i] = sr - p->b[i];
    }
}

static void dense_rademacher(double *z, lsgd_rng *r)
{
    uint64_t bits = 0;
    for (int i = 0; i < OD; i++) {
        if (i % 64 == 0)
            bits = lsgd_rng_next(r);
        z[i] = (bits >> (i % 64)) & 1 ? 1.0 : -1.0;
    }
}

static void dense_hutchinson(double *H, const dense *p, lsgd_rng *r)
{
    double z[OD];
    dense_rademacher(z, r);
    for (int i = 0; i < OD; i++) {
        double s = 0;
        for (int j = 0; j < OD; j++)
            s += p->A[i][j] * z[j];
        H[i] = z[i] * s;
    }
}

/* D₀ = the mean of OWARM estimates, signed. */
static void dense_warm_start(double *D, const dense *p, lsgd_rng *r)
{
    double H[OD];
    for (int i = 0; i < OD; i++)
        D[i] = 0;
    for (int k = 0; k < OWARM; k++) {
        dense_hutchinson(H, p, r);
        for (int i = 0; i < OD; i++)
            D[i] += H[i] / OWARM;
    }
}

/* x = xr ~ N(0, I) from r, the plugin's warm start at x, and the
 * reference D₀ from the same z (*ref continues the plugin's stream). */
static lsgd_scaling_ctx dense_start(lsgd_scaling *s, dense *p, lsgd_rng *r, lsgd_rng *ref,
                                    float *x, const float *g, double *xr, double *D)
{
    *ref = p->rng;
    for (int i = 0; i < OD; i++)
        xr[i] = x[i] = (float)lsgd_rng_normal(r);
    lsgd_scaling_ctx ctx = dense_ctx(p, x, g);
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_reset(s, &ctx, &err), LSGD_OK);
    dense_warm_start(D, p, ref);
    return ctx;
}

static double max_abs_diff(const float *a, const double *b, int n, double *scale)
{
    double worst = 0;
    *scale = 0;
    for (int i = 0; i < n; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        *scale = fmax(*scale, fabs(b[i]));
    }
    return worst;
}

LSGD_TEST(scaling, oasis_keeps_d_signed_as_the_papers_recursion_on_an_indefinite_quadratic)
{
    const double beta = 0.9, alpha = 0.05, mu = 0.5, lr = 0.05;
    dense p;
    lsgd_rng r;
    lsgd_rng_seed(&r, 99, 0);
    dense_init(&p, &r, -2.0);
    lsgd_scaling s;
    open_ok(&s, "oasis", "{\"beta\": 0.9, \"alpha\": 0.05, \"momentum\": 0.5, \"warmup_samples\": 4}", OD);
    float x[OD], g[OD];
    double xr[OD], D[OD], m[OD] = {0}, H[OD], gr[OD];
    lsgd_rng ref_rng;
    lsgd_scaling_ctx ctx = dense_start(&s, &p, &r, &ref_rng, x, g, xr, D);
    lsgd_error err;

    double worst_x = 0, worst_d = 0, truncated = 0, negative = 0;
    for (int t = 0; t < OSTEPS; t++) {
        dense_gradient(g, gr, &p, x, xr);
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_local_step(&s, x, &ctx, (float)lr, &err), LSGD_OK);
        dense_hutchinson(H, &p, &ref_rng); /* drawn at every step, used from the second */
        for (int i = 0; i < OD; i++) {
            if (t > 0)
                D[i] = beta * D[i] + (1 - beta) * H[i];
            double dhat = fmax(fabs(D[i]), alpha);
            m[i] = mu * m[i] + (1 - mu) * gr[i];
            xr[i] -= lr * m[i] / dhat;
            truncated += fabs(D[i]) < alpha;
            negative += D[i] < -alpha; /* where |D| would have stepped another way */
        }
        double sx, sd;
        worst_x = fmax(worst_x, max_abs_diff(x, xr, OD, &sx) / sx); /* normwise */
        worst_d = fmax(worst_d, max_abs_diff(s.state[0], D, OD, &sd) / sd);
        float dmin, dmax;
        lsgd_scaling_range(&s, &dmin, &dmax);
        CU_ASSERT(dmin >= (float)alpha); /* D̂ never falls below alpha */
    }
    if (worst_x > 1e-6 || worst_d > 1e-6 || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\noasis vs double: worst relative error x %.3g, D %.3g\n", worst_x,
                worst_d);
    CU_ASSERT(worst_x <= 1e-6);
    CU_ASSERT(worst_d <= 1e-6);
    CU_ASSERT(truncated > 0); /* the truncation at alpha was exercised */
    CU_ASSERT(negative > 0);  /* and D went negative, kept signed */
    lsgd_scaling_close(&s);
}

LSGD_TEST(scaling, oasis_first_step_divides_by_the_warm_start_without_a_refresh_at_x0)
{
    dense p;
    lsgd_rng r;
    lsgd_rng_seed(&r, 5, 0);
    dense_init(&p, &r, -2.0);
    lsgd_scaling s;
    open_ok(&s, "oasis", "{\"alpha\": 0.05, \"warmup_samples\": 3}", OD);
    float x[OD], g[OD], d0[OD], expect[OD];
    double xr[OD], gr[OD];
    for (int i = 0; i < OD; i++)
        xr[i] = x[i] = (float)lsgd_rng_normal(&r);
    lsgd_scaling_ctx ctx = dense_ctx(&p, x, g);
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_reset(&s, &ctx, &err), LSGD_OK);
    memcpy(d0, s.state[0], sizeof d0);
    dense_gradient(g, gr, &p, x, xr);
    for (int i = 0; i < OD; i++)
        expect[i] = x[i] - 0.1f * (g[i] / fmaxf(fabsf(d0[i]), 0.05f));
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_local_step(&s, x, &ctx, 0.1f, &err), LSGD_OK);
    CU_ASSERT_EQUAL(memcmp(s.state[0], d0, sizeof d0), 0); /* D is still D₀ */
    CU_ASSERT_EQUAL(memcmp(x, expect, sizeof x), 0);
    dense_gradient(g, gr, &p, x, xr);
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_local_step(&s, x, &ctx, 0.1f, &err), LSGD_OK);
    CU_ASSERT(memcmp(s.state[0], d0, sizeof d0) != 0); /* the second step refreshes at x₁ */
    lsgd_scaling_close(&s);
}

/* The paper's η_k in double (docs/algorithms.md §1.2.5), one step: from
 * x_k, g_k, the previous x, g, η, θ and D̂_k; k = 0 takes η₀. */
typedef struct eta_rule {
    double x_prev[OD], g_prev[OD], eta, theta;
} eta_rule;

static double paper_eta(eta_rule *e, int k, const double *x, const double *g,
                        const double *dhat, double eta0, int *by_growth)
{
    double eta = eta0;
    *by_growth = 0;
    if (k > 0) {
        double dx2 = 0, dg2 = 0;
        for (int i = 0; i < OD; i++) {
            dx2 += dhat[i] * (x[i] - e->x_prev[i]) * (x[i] - e->x_prev[i]);
            dg2 += (g[i] - e->g_prev[i]) * (g[i] - e->g_prev[i]) / dhat[i];
        }
        double secant = sqrt(dx2) / (2 * sqrt(dg2));
        double grown = k == 1 ? INFINITY : sqrt(1 + e->theta) * e->eta; /* θ₀ = +∞ */
        *by_growth = grown < secant;
        eta = fmin(grown, secant);
        e->theta = eta / e->eta;
    }
    e->eta = eta;
    memcpy(e->x_prev, x, sizeof e->x_prev);
    memcpy(e->g_prev, g, sizeof e->g_prev);
    return eta;
}

LSGD_TEST(scaling, oasis_adaptive_step_size_follows_the_papers_eta_rule_on_a_quadratic)
{
    const double beta = 0.3, alpha = 0.01, eta0 = 0.02;
    dense p;
    lsgd_rng r;
    lsgd_rng_seed(&r, 17, 0);
    dense_init(&p, &r, 0.5); /* positive definite: the method converges */
    lsgd_scaling s;
    open_ok(&s, "oasis", "{\"beta\": 0.3, \"alpha\": 0.01, \"warmup_samples\": 4,"
                         " \"adaptive_lr\": true}", OD);
    CU_ASSERT_EQUAL(s.count, 5); /* d, x_prev, g_prev, eta, theta */
    float x[OD], g[OD];
    double xr[OD], gr[OD], D[OD], H[OD], dhat[OD];
    lsgd_rng ref_rng;
    lsgd_scaling_ctx ctx = dense_start(&s, &p, &r, &ref_rng, x, g, xr, D);
    lsgd_error err;
    eta_rule e;
    /* 16 steps: later x is at the minimizer to float precision, and the
     * secant of two float iterates is rounding noise */
    double worst_x = 0, worst_eta = 0;
    int growth = 0, secant = 0;
    for (int t = 0; t < 16; t++) {
        dense_gradient(g, gr, &p, x, xr);
        /* the host's γ changes every step; only the first is η₀ */
        float lr = t == 0 ? (float)eta0 : 1000.0f;
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_local_step(&s, x, &ctx, lr, &err), LSGD_OK);
        dense_hutchinson(H, &p, &ref_rng);
        for (int i = 0; i < OD; i++) {
            if (t > 0)
                D[i] = beta * D[i] + (1 - beta) * H[i];
            dhat[i] = fmax(fabs(D[i]), alpha);
        }
        int by_growth;
        double eta = paper_eta(&e, t, xr, gr, dhat, eta0, &by_growth);
        growth += by_growth;
        secant += t > 0 && !by_growth;
        for (int i = 0; i < OD; i++)
            xr[i] -= eta * gr[i] / dhat[i];
        double sx;
        worst_x = fmax(worst_x, max_abs_diff(x, xr, OD, &sx) / sx);
        worst_eta = fmax(worst_eta, fabs(s.state[3][0] - eta) / eta);
    }
    if (worst_x > 1e-5 || worst_eta > 1e-4 || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\noasis adaptive vs double: worst relative error x %.3g, eta %.3g "
                        "(growth bound %d times, secant %d)\n", worst_x, worst_eta, growth, secant);
    CU_ASSERT(worst_x <= 1e-5);
    CU_ASSERT(worst_eta <= 1e-4); /* η is a ratio of float differences */
    CU_ASSERT(growth > 0 && secant > 0); /* both terms of the min were taken */
    lsgd_scaling_close(&s);
}

LSGD_TEST(scaling, oasis_scaling_never_falls_below_alpha)
{
    enum { D = 500 };
    quadratic q;
    quadratic_init(&q, D, 8);
    for (int i = 0; i < D; i += 2)
        q.a[i] = 1e-4f; /* far below alpha: D is truncated there */
    lsgd_scaling s;
    open_ok(&s, "oasis", "{\"alpha\": 0.5, \"beta\": 0.5, \"warmup_samples\": 2}", D);
    float x[D];
    start(&s, &q, x, 3);
    for (int t = 0; t < 20; t++) {
        run_steps(&s, &q, x, 1, 0.01f);
        float dmin, dmax;
        lsgd_scaling_range(&s, &dmin, &dmax);
        CU_ASSERT_EQUAL(dmin, 0.5f);
        CU_ASSERT(dmax >= 1.0f);
    }
    lsgd_scaling_close(&s);
    quadratic_free(&q);
}

/* Yogi with its bias correction (docs/algorithms.md §1.2.6) against the
 * formulas in double, 30 local steps on a diagonal quadratic. */
LSGD_TEST(scaling, yogi_moves_v_by_a_fixed_fraction_of_g_squared_toward_it)
{
    enum { D = 64 };
    const double b1 = 0.9, b2 = 0.9, eps = 1e-3, lr = 0.01;
    quadratic q;
    quadratic_init(&q, D, 14);
    lsgd_scaling s;
    open_ok(&s, "yogi", "{\"beta2\": 0.9}", D);
    float x[D];
    start(&s, &q, x, 9);
    double xr[D], m[D] = {0}, v[D], worst = 0;
    int above = 0, below = 0;
    for (int i = 0; i < D; i++) {
        xr[i] = x[i];
        v[i] = 1e-6; /* initial_accumulator */
    }
    for (int t = 1; t <= 30; t++) {
        run_steps(&s, &q, x, 1, (float)lr);
        for (int i = 0; i < D; i++) {
            double gi = q.a[i] * (xr[i] - q.c[i]), h = gi * gi;
            double sign = (v[i] > h) - (v[i] < h);
            above += sign > 0;
            below += sign < 0;
            v[i] -= (1 - b2) * h * sign;
            m[i] = b1 * m[i] + (1 - b1) * gi;
            xr[i] -= lr / (1 - pow(b1, t)) * m[i] / (sqrt(v[i] / (1 - pow(b2, t))) + eps);
            worst = fmax(worst, fabs(x[i] - xr[i]) / fmax(fabs(xr[i]), 1.0));
        }
    }
    if (worst > 1e-5 || getenv("LSGD_TEST_VERBOSE"))
        fprintf(stderr, "\nyogi vs double: worst relative error %.3g (sign +1 %d, -1 %d)\n",
                worst, above, below);
    CU_ASSERT(worst <= 1e-5);
    CU_ASSERT(above > 0 && below > 0); /* v approached g⊙g from both sides */
    lsgd_scaling_close(&s);
    quadratic_free(&q);
}

/* D̂ coordinate by coordinate, as each plugin's step uses it (defaults). */
static float preconditioner_at(const char *name, const lsgd_scaling *s, size_t i)
{
    if (strcmp(name, "adam") == 0 || strcmp(name, "adam_amsgrad") == 0) {
        const float *v = s->state[strcmp(name, "adam") == 0 ? 1 : 2];
        float bc2_sqrt = (float)sqrt(1.0 - pow(0.999, (double)s->clock.refresh));
        return sqrtf(v[i]) / bc2_sqrt + 1e-8f;
    }
    if (strcmp(name, "rmsprop") == 0)
        return sqrtf(s->state[0][i]) + 1e-8f;
    if (strcmp(name, "rmsprop_centered") == 0)
        return sqrtf(s->state[0][i] - s->state[1][i] * s->state[1][i]) + 1e-8f;
    if (strcmp(name, "oasis") == 0)
        return fmaxf(fabsf(s->state[0][i]), 1e-5f);
    if (strcmp(name, "yogi") == 0) {
        float bc2_sqrt = (float)sqrt(1.0 - pow(0.99, (double)s->clock.refresh));
        return sqrtf(s->state[1][i]) / bc2_sqrt + 1e-3f;
    }
    if (strcmp(name, "adam_uncorrected") == 0)
        return sqrtf(s->state[1][i]) + 1e-8f;
    return sqrtf(s->state[0][i]) + 1e-10f; /* adagrad */
}

LSGD_TEST(scaling, each_plugins_range_is_the_least_and_greatest_preconditioner_coordinate)
{
    static const struct {
        const char *name, *plugin, *params;
    } cases[] = {
        {"adam", "adam", NULL},
        {"adam_amsgrad", "adam", "{\"amsgrad\": true}"},
        {"rmsprop", "rmsprop", NULL},
        {"rmsprop_centered", "rmsprop", "{\"centered\": true}"},
        {"adagrad", "adagrad", NULL},
        {"oasis", "oasis", NULL},
        {"yogi", "yogi", NULL},
        {"adam_uncorrected", "adam", "{\"bias_correction\": false}"},
    };
    enum { D = 777 };
    quadratic q;
    quadratic_init(&q, D, 12);
    for (size_t i = 0; i < D; i += 3)
        q.a[i] = -q.a[i]; /* negative curvature: OASIS's D is negative there */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lsgd_scaling s;
        open_ok(&s, cases[c].plugin, cases[c].params, D);
        float x[D];
        start(&s, &q, x, 4);
        run_steps(&s, &q, x, 6, 0.01f);
        float lo = INFINITY, hi = -INFINITY, dmin, dmax;
        for (size_t i = 0; i < D; i++) {
            float d = preconditioner_at(cases[c].name, &s, i);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        lsgd_scaling_range(&s, &dmin, &dmax);
        if (dmin != lo || dmax != hi)
            fprintf(stderr, "\n%s: range [%.9g, %.9g], coordinates [%.9g, %.9g]\n",
                    cases[c].name, dmin, dmax, lo, hi);
        CU_ASSERT(lo < hi); /* the coordinates differ: a real range */
        CU_ASSERT_EQUAL(dmin, lo);
        CU_ASSERT_EQUAL(dmax, hi);
        lsgd_scaling_close(&s);
    }
    quadratic_free(&q);
}

LSGD_TEST(scaling, min_max_orders_negatives_zeros_and_infinities_as_floats_do)
{
    const float v[] = {3.0f, -0.0f, -7.5f, 1e-30f, 0.0f, -1e-30f, 2.5e38f, -2.5e38f};
    float lo, hi;
    lsgd_min_max(v, 8, &lo, &hi);
    CU_ASSERT_EQUAL(lo, -2.5e38f);
    CU_ASSERT_EQUAL(hi, 2.5e38f);
    lsgd_min_max(v, 3, &lo, &hi);
    CU_ASSERT_EQUAL(lo, -7.5f);
    CU_ASSERT_EQUAL(hi, 3.0f);
    lsgd_min_max(v + 1, 1, &lo, &hi); /* one element: both ends, sign kept */
    CU_ASSERT(lo == 0.0f && signbit(lo) && hi == 0.0f && signbit(hi));
    const float w[] = {-1e-30f, -INFINITY, 5.0f, INFINITY, -3.0f};
    lsgd_min_max(w, 5, &lo, &hi);
    CU_ASSERT(isinf(lo) && lo < 0);
    CU_ASSERT(isinf(hi) && hi > 0);
    lsgd_min_max(w + 4, 1, &lo, &hi);
    CU_ASSERT_EQUAL(lo, -3.0f);
    CU_ASSERT_EQUAL(hi, -3.0f);
}

LSGD_TEST(scaling, sync_refresh_from_a_statistic_matches_the_fused_local_step)
{
    /* refresh: sync with one worker and a refresh every step is the same
     * update as refresh: local, up to the rounding of g⊙g. */
    enum { D = 200 };
    const char *names[] = {"adam", "rmsprop", "adagrad"};
    for (int k = 0; k < 3; k++) {
        quadratic q;
        quadratic_init(&q, D, 21);
        lsgd_scaling fused, split;
        open_ok(&fused, names[k], NULL, D);
        open_ok(&split, names[k], NULL, D);
        float x1[D], x2[D], g[D];
        start(&fused, &q, x1, 4);
        start(&split, &q, x2, 4);
        lsgd_error err;
        for (int t = 0; t < 30; t++) {
            run_steps(&fused, &q, x1, 1, 0.01f);
            quadratic_gradient(g, &q, x2);
            lsgd_scaling_ctx ctx = quadratic_ctx(&q, x2, g);
            CU_ASSERT_EQUAL_FATAL(lsgd_scaling_statistic(&split, &ctx, &err), LSGD_OK);
            CU_ASSERT_EQUAL_FATAL(lsgd_scaling_refresh(&split, split.statistic, &err), LSGD_OK);
            CU_ASSERT_EQUAL_FATAL(lsgd_scaling_step(&split, x2, g, 0.01f, 0, &err), LSGD_OK);
        }
        CU_ASSERT_EQUAL(split.clock.step, 30);
        CU_ASSERT_EQUAL(split.clock.refresh, 30);
        double worst = 0;
        for (int i = 0; i < D; i++)
            worst = fmax(worst, fabs(x1[i] - x2[i]) / fmax(fabs(x1[i]), 1e-2));
        CU_ASSERT(worst < 1e-5);
        lsgd_scaling_close(&fused);
        lsgd_scaling_close(&split);
        quadratic_free(&q);
    }
}

/* ---- state: save/load and averaging ------------------------------------ */

LSGD_TEST(scaling, every_plugin_state_round_trips_through_save_and_load_bitwise)
{
    enum { D = 257 };
    for (int k = 0; k < N_PLUGINS; k++) {
        quadratic q1, q2;
        quadratic_init(&q1, D, 30);
        quadratic_init(&q2, D, 30);
        lsgd_scaling a, b;
        open_ok(&a, all_arrays[k].name, all_arrays[k].params, D);
        open_ok(&b, all_arrays[k].name, all_arrays[k].params, D);
        CU_ASSERT(a.count >= 1);
        float xa[D], xb[D];
        start(&a, &q1, xa, 6);
        run_steps(&a, &q1, xa, 10, 0.001f);
        size_t n = lsgd_scaling_state_size(&a);
        unsigned char *bytes = malloc(n), *again = malloc(n);
        lsgd_error err;
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_state_save(&a, bytes, n, &err), LSGD_OK);
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_state_load(&b, bytes, n, &err), LSGD_OK);
        CU_ASSERT_EQUAL(memcmp(a.memory, b.memory, a.count * D * sizeof(float)), 0);
        CU_ASSERT_EQUAL(b.clock.step, a.clock.step);
        CU_ASSERT_EQUAL(b.clock.refresh, a.clock.refresh);
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_state_save(&b, again, n, &err), LSGD_OK);
        CU_ASSERT_EQUAL(memcmp(bytes, again, n), 0);
        /* and the loaded instance continues exactly as the original */
        memcpy(xb, xa, sizeof xa);
        q2.rng = q1.rng;
        run_steps(&a, &q1, xa, 5, 0.001f);
        run_steps(&b, &q2, xb, 5, 0.001f);
        CU_ASSERT_EQUAL(memcmp(xa, xb, sizeof xa), 0);
        CU_ASSERT_EQUAL(memcmp(a.memory, b.memory, a.count * D * sizeof(float)), 0);
        free(bytes);
        free(again);
        lsgd_scaling_close(&a);
        lsgd_scaling_close(&b);
        quadratic_free(&q1);
        quadratic_free(&q2);
    }
}

LSGD_TEST(scaling, averaging_two_states_then_stepping_equals_stepping_from_the_averaged_state)
{
    /* Two workers, then `scaling.state: average`: the instance whose arrays
     * were averaged in place continues exactly like a fresh instance given
     * the averaged state, so nothing lives outside the named arrays. */
    enum { D = 129 };
    for (int k = 0; k < N_PLUGINS; k++) {
        quadratic q;
        quadratic_init(&q, D, 40);
        lsgd_scaling w0, w1, fresh;
        open_ok(&w0, all_arrays[k].name, all_arrays[k].params, D);
        open_ok(&w1, all_arrays[k].name, all_arrays[k].params, D);
        open_ok(&fresh, all_arrays[k].name, all_arrays[k].params, D);
        float x0[D], x1[D], xf[D];
        start(&w0, &q, x0, 10);
        start(&w1, &q, x1, 11);
        run_steps(&w0, &q, x0, 7, 0.001f);
        run_steps(&w1, &q, x1, 7, 0.001f);
        for (size_t i = 0; i < w0.count * D; i++)
            w0.memory[i] = (w0.memory[i] + w1.memory[i]) / 2;
        for (int i = 0; i < D; i++)
            x0[i] = (x0[i] + x1[i]) / 2;
        size_t n = lsgd_scaling_state_size(&w0);
        unsigned char *bytes = malloc(n);
        lsgd_error err;
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_state_save(&w0, bytes, n, &err), LSGD_OK);
        CU_ASSERT_EQUAL_FATAL(lsgd_scaling_state_load(&fresh, bytes, n, &err), LSGD_OK);
        memcpy(xf, x0, sizeof x0);
        lsgd_rng same = q.rng;
        run_steps(&w0, &q, x0, 4, 0.001f);
        q.rng = same;
        run_steps(&fresh, &q, xf, 4, 0.001f);
        CU_ASSERT_EQUAL(memcmp(x0, xf, sizeof x0), 0);
        CU_ASSERT_EQUAL(memcmp(w0.memory, fresh.memory, w0.count * D * sizeof(float)), 0);
        free(bytes);
        lsgd_scaling_close(&w0);
        lsgd_scaling_close(&w1);
        lsgd_scaling_close(&fresh);
        quadratic_free(&q);
    }
}

LSGD_TEST(scaling, state_from_another_configuration_is_refused_on_load)
{
    lsgd_scaling a, b;
    open_ok(&a, "adam", "{\"amsgrad\": true}", 10);
    open_ok(&b, "adam", NULL, 10);
    size_t n = lsgd_scaling_state_size(&a);
    unsigned char *bytes = malloc(n);
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_scaling_state_save(&a, bytes, n, &err), LSGD_OK);
    CU_ASSERT_EQUAL(lsgd_scaling_state_load(&b, bytes, n, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "[m,v,v_max]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "[m,v]"));
    free(bytes);
    lsgd_scaling_close(&a);
    lsgd_scaling_close(&b);
}

/* ---- bad input ----------------------------------------------------------- */

static void expect_refused(const char *name, const char *params, size_t dim, int code,
                           const char *needle1, const char *needle2)
{
    lsgd_scaling s;
    lsgd_error err = {0};
    int rc = scaling_test_open(&s, name, params, dim, with_hvp, &err);
    CU_ASSERT_EQUAL(rc, code);
    if (!strstr(err.message, needle1) || (needle2 && !strstr(err.message, needle2)))
        fprintf(stderr, "\nmessage lacks '%s'/'%s': %s\n", needle1, needle2 ? needle2 : "",
                err.message);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle1));
    if (needle2)
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle2));
    CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
    if (rc == LSGD_OK)
        lsgd_scaling_close(&s);
}

LSGD_TEST(scaling, beta1_equal_to_one_is_refused_with_the_manifest_range)
{
    expect_refused("adam", "{\"beta1\": 1}", 10, LSGD_ERR_INPUT, "scaling.params.beta1", "1");
}

LSGD_TEST(scaling, eps_zero_or_negative_is_refused_with_the_manifest_range)
{
    expect_refused("adam", "{\"eps\": 0}", 10, LSGD_ERR_INPUT, "scaling.params.eps", "0");
    expect_refused("rmsprop", "{\"eps\": -1e-8}", 10, LSGD_ERR_INPUT, "scaling.params.eps", NULL);
    expect_refused("adagrad", "{\"eps\": 0}", 10, LSGD_ERR_INPUT, "scaling.params.eps", NULL);
}

LSGD_TEST(scaling, oasis_alpha_zero_is_refused_with_the_manifest_range)
{
    expect_refused("oasis", "{\"alpha\": 0}", 10, LSGD_ERR_INPUT, "scaling.params.alpha", "0");
    expect_refused("oasis", "{\"alpha\": -1}", 10, LSGD_ERR_INPUT, "scaling.params.alpha", NULL);
}

LSGD_TEST(scaling, unknown_or_mistyped_parameters_are_refused)
{
    expect_refused("adam", "{\"beta3\": 0.5}", 10, LSGD_ERR_INPUT, "beta3", "beta1");
    expect_refused("sgd", "{\"nesterov\": 1}", 10, LSGD_ERR_INPUT, "scaling.params.nesterov", NULL);
    expect_refused("oasis", "{\"warmup_samples\": 2.5}", 10, LSGD_ERR_INPUT,
                   "scaling.params.warmup_samples", NULL);
}

LSGD_TEST(scaling, nesterov_without_momentum_is_refused)
{
    expect_refused("sgd", "{\"nesterov\": true}", 10, LSGD_ERR_INPUT, "nesterov", "momentum");
}

LSGD_TEST(scaling, zero_length_model_is_refused_without_crashing)
{
    for (int k = 0; k < N_PLUGINS; k++)
        expect_refused(all_arrays[k].name, all_arrays[k].params, 0, LSGD_ERR_INPUT,
                       "0 parameters", all_arrays[k].name);
}

LSGD_TEST(scaling, oasis_is_refused_for_a_model_without_hessian_vector_products)
{
    lsgd_scaling s;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(scaling_test_open(&s, "oasis", NULL, 10, NULL, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "hvp"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "oasis"));
}

LSGD_TEST(scaling, unknown_plugin_name_is_refused_with_a_suggestion)
{
    expect_refused("adamm", NULL, 10, LSGD_ERR_INPUT, "adamm", "adam");
}

LSGD_TEST(scaling, nan_or_inf_in_a_gradient_is_reported_with_coordinate_and_step)
{
    enum { D = 5000 };
    for (int k = 0; k < N_PLUGINS; k++) {
        quadratic q;
        quadratic_init(&q, D, 50);
        lsgd_scaling s;
        open_ok(&s, all_arrays[k].name, all_arrays[k].params, D);
        float x[D], before[D], g[D];
        start(&s, &q, x, 12);
        run_steps(&s, &q, x, 2, 0.001f);
        float *state_before = malloc(s.count * D * sizeof(float));
        memcpy(state_before, s.memory, s.count * D * sizeof(float));
        memcpy(before, x, sizeof x);
        const float bad[] = {NAN, INFINITY, -INFINITY};
        for (int b = 0; b < 3; b++) {
            quadratic_gradient(g, &q, x);
            g[4321] = bad[b];
            lsgd_scaling_ctx ctx = quadratic_ctx(&q, x, g);
            lsgd_error err = {0};
            CU_ASSERT_EQUAL(lsgd_scaling_local_step(&s, x, &ctx, 0.001f, &err), LSGD_ERR_RUNTIME);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "coordinate 4321"));
            CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "step 3"));
            CU_ASSERT_PTR_NOT_NULL(strstr(err.message, all_arrays[k].name));
            /* nothing was poisoned: model, state and clock as before */
            CU_ASSERT_EQUAL(memcmp(x, before, sizeof x), 0);
            CU_ASSERT_EQUAL(memcmp(s.memory, state_before, s.count * D * sizeof(float)), 0);
            CU_ASSERT_EQUAL(s.clock.step, 2);
        }
        free(state_before);
        lsgd_scaling_close(&s);
        quadratic_free(&q);
    }
}

LSGD_TEST(scaling, centered_rmsprop_refuses_refresh_from_an_averaged_statistic)
{
    lsgd_scaling s;
    open_ok(&s, "rmsprop", "{\"centered\": true}", 4);
    float H[4] = {1, 1, 1, 1};
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_scaling_refresh(&s, H, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "refresh"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "local"));
    CU_ASSERT_EQUAL(s.clock.refresh, 0);
    lsgd_scaling_close(&s);
}

LSGD_TEST(scaling, first_nonfinite_finds_the_first_bad_coordinate_or_none)
{
    enum { D = 10000 };
    float *g = calloc(D, sizeof *g);
    CU_ASSERT_EQUAL(lsgd_first_nonfinite(g, D), D);
    g[9999] = INFINITY;
    g[7000] = NAN;
    CU_ASSERT_EQUAL(lsgd_first_nonfinite(g, D), 7000);
    g[3] = -INFINITY;
    CU_ASSERT_EQUAL(lsgd_first_nonfinite(g, D), 3);
    g[3] = 3.4e38f; /* large but finite */
    CU_ASSERT_EQUAL(lsgd_first_nonfinite(g, D), 7000);
    free(g);
}
