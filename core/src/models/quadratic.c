/*
 * quadratic.c — data-free objectives over x[n]:
 *
 *   diagonal  F(x) = ½ xᵀ diag(λ) x,   λ_i log-spaced from 1 to `condition`
 *   dense     F(x) = ½ xᵀ A x,         A = Q diag(λ) Qᵀ, Q a fixed random rotation
 *             (the minimizer is x* = 0, F* = 0; default x₀ = (1, …, 1))
 *   noisy3d   docs/algorithms.md §2.3: f(x, ζ) = Σ_i (i/2) x_i² (1 + z₁ᵢ) + xᵀz₂,
 *             z₁ ~ N(0, I₃), z₂ ~ N(0, 0.5² I₃); F(x) = ½ xᵀ diag(1,2,3) x; x₀ = (1,1,1)
 *   kinked1d  docs/algorithms.md §2.3: f(x) = x² (x ≥ 0), x²/2 (x < 0), gradient noise
 *             ζ ~ N(0, 8²) (f(x, ζ) = f(x) + ζx); x₀ = 2
 *
 * A batch of the noisy problems is batch->n independent draws of ζ from
 * batch->rng, averaged (batch->rng NULL: no noise).  hvp reuses the draw of
 * the last loss_grad.  evaluate gives the exact F(x).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_impl.h"
#include "util/limits.h"

enum quadratic_problem { DIAGONAL, DENSE, NOISY3D, KINKED1D };
enum { DENSE_MAX_DIM = 8192 };
#define ROTATION_STREAM 0x726f7461ull /* "rota": the dense problem's Q */

typedef struct quadratic_impl {
    model_base base;
    enum quadratic_problem problem;
    size_t n;
    double *lambda;    /* [n] eigenvalues of the Hessian (noisy3d: 1, 2, 3) */
    float *A;          /* [n, n] dense problem only */
    double *factor;    /* [n] noisy3d: mean of (1 + z₁ᵢ) in the last draw */
    double *shift;     /* [n] noisy3d: mean of z₂ᵢ; kinked1d: mean of ζ */
    int drawn;
} quadratic_impl;

/* Ax[n] = A x (dense) or diag(λ) x, in double. */
static void hessian_apply(double *out, const quadratic_impl *q, const float *x)
{
    for (size_t i = 0; i < q->n; i++) {
        if (!q->A) {
            out[i] = q->lambda[i] * x[i];
            continue;
        }
        double sum = 0;
        for (size_t j = 0; j < q->n; j++)
            sum += (double)q->A[i * q->n + j] * x[j];
        out[i] = sum;
    }
}

/* The noise of one batch: factor, shift ← means over `draws` draws. */
static void draw_noise(quadratic_impl *q, lsgd_rng *rng, size_t draws)
{
    for (size_t i = 0; i < q->n; i++)
        q->factor[i] = 1.0, q->shift[i] = 0.0;
    q->drawn = 1;
    if (!rng)
        return;
    if (draws == 0)
        draws = 1;
    double *z = calloc(2 * q->n, sizeof *z); /* running sums of z₁, z₂ */
    if (!z)
        return;
    for (size_t s = 0; s < draws; s++) {
        if (q->problem == NOISY3D) {
            for (size_t i = 0; i < q->n; i++)
                z[i] += lsgd_rng_normal(rng);
            for (size_t i = 0; i < q->n; i++)
                z[q->n + i] += 0.5 * lsgd_rng_normal(rng);
        } else {
            z[q->n] += 8.0 * lsgd_rng_normal(rng);
        }
    }
    for (size_t i = 0; i < q->n; i++) {
        q->factor[i] = 1.0 + z[i] / (double)draws;
        q->shift[i] = z[q->n + i] / (double)draws;
    }
    free(z);
}

static double kinked_value(double x)
{
    return x >= 0 ? x * x : 0.5 * x * x;
}

static int quadratic_loss_grad(lsgd_model *model, const float *x, const lsgd_batch *batch,
                               double *loss, float *grad, lsgd_error *err)
{
    quadratic_impl *q = model->impl;
    if (q->problem == KINKED1D) {
        draw_noise(q, batch ? batch->rng : NULL, batch ? batch->n : 1);
        *loss = kinked_value(x[0]) + q->shift[0] * x[0];
        if (grad)
            grad[0] = (float)((x[0] >= 0 ? 2.0 : 1.0) * x[0] + q->shift[0]);
        return LSGD_OK;
    }
    if (q->problem == NOISY3D)
        draw_noise(q, batch ? batch->rng : NULL, batch ? batch->n : 1);
    double sum = 0, g;
    double *Hx = malloc(q->n * sizeof *Hx);
    if (!Hx)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model quadratic: out of memory");
    hessian_apply(Hx, q, x);
    for (size_t i = 0; i < q->n; i++) {
        if (q->problem == NOISY3D) { /* ∂/∂x_i [(i/2) x_i² f_i + x_i s_i] */
            g = Hx[i] * q->factor[i] + q->shift[i];
            sum += 0.5 * Hx[i] * x[i] * q->factor[i] + q->shift[i] * x[i];
        } else {
            g = Hx[i];
            sum += 0.5 * Hx[i] * x[i];
        }
        if (grad)
            grad[i] = (float)g;
    }
    free(Hx);
    *loss = sum;
    return LSGD_OK;
}

static int quadratic_hvp(lsgd_model *model, const float *x, const lsgd_batch *batch,
                         const float *v, float *out, lsgd_error *err)
{
    quadratic_impl *q = model->impl;
    if (q->problem == KINKED1D) {
        out[0] = (float)((x[0] >= 0 ? 2.0 : 1.0) * v[0]);
        return LSGD_OK;
    }
    if (q->problem == NOISY3D && !q->drawn)
        draw_noise(q, batch ? batch->rng : NULL, batch ? batch->n : 1);
    double *Hv = malloc(q->n * sizeof *Hv);
    if (!Hv)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model quadratic: out of memory");
    hessian_apply(Hv, q, v);
    for (size_t i = 0; i < q->n; i++)
        out[i] = (float)(q->problem == NOISY3D ? Hv[i] * q->factor[i] : Hv[i]);
    free(Hv);
    return LSGD_OK;
}

static int quadratic_evaluate(lsgd_model *model, const float *x, const lsgd_batch *batch,
                              double *loss, double *accuracy, lsgd_error *err)
{
    quadratic_impl *q = model->impl;
    *accuracy = NAN;
    if (q->problem == KINKED1D) {
        *loss = kinked_value(x[0]);
        return LSGD_OK;
    }
    double *Hx = malloc(q->n * sizeof *Hx), sum = 0;
    if (!Hx)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model quadratic: out of memory");
    hessian_apply(Hx, q, x);
    for (size_t i = 0; i < q->n; i++)
        sum += 0.5 * Hx[i] * x[i];
    free(Hx);
    *loss = sum;
    return LSGD_OK;
}

static void quadratic_destroy(lsgd_model *model)
{
    quadratic_impl *q = model->impl;
    model_base_free(&q->base);
    free(q->lambda);
    free(q->A);
    free(q->factor);
    free(q->shift);
    free(q);
    model->impl = NULL;
}

static const lsgd_model_ops quadratic_ops = {
    .type = "quadratic",
    .loss_grad = quadratic_loss_grad,
    .hvp = quadratic_hvp,
    .evaluate = quadratic_evaluate,
    .init = model_init_params,
    .describe = model_describe,
    .destroy = quadratic_destroy,
};

/* A = Q diag(λ) Qᵀ with Q from Gram–Schmidt on a seeded Gaussian matrix. */
static int build_dense(quadratic_impl *q)
{
    size_t n = q->n;
    double *Q = malloc(n * n * sizeof *Q); /* columns Q[:, k] stored as rows Q[k*n ..] */
    q->A = malloc(n * n * sizeof *q->A);
    if (!Q || !q->A) {
        free(Q);
        return LSGD_ERR_RUNTIME;
    }
    lsgd_rng rng;
    lsgd_rng_seed(&rng, n, ROTATION_STREAM);
    for (size_t k = 0; k < n; k++) {
        double *u = Q + k * n, norm = 0;
        for (size_t i = 0; i < n; i++)
            u[i] = lsgd_rng_normal(&rng);
        for (size_t p = 0; p < k; p++) { /* modified Gram–Schmidt */
            double dot = 0;
            for (size_t i = 0; i < n; i++)
                dot += u[i] * Q[p * n + i];
            for (size_t i = 0; i < n; i++)
                u[i] -= dot * Q[p * n + i];
        }
        for (size_t i = 0; i < n; i++)
            norm += u[i] * u[i];
        for (size_t i = 0; i < n; i++)
            u[i] /= sqrt(norm);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double sum = 0;
            for (size_t k = 0; k < n; k++)
                sum += Q[k * n + i] * q->lambda[k] * Q[k * n + j];
            q->A[i * n + j] = (float)sum;
        }
    free(Q);
    return LSGD_OK;
}

static int parse_problem(quadratic_impl *q, const json_t *cfg, lsgd_error *err)
{
    json_t *problem = json_object_get(cfg, "problem");
    const char *name = json_is_string(problem) ? json_string_value(problem) : "diagonal";
    const char *names[] = {"diagonal", "dense", "noisy3d", "kinked1d"};
    int k = 0;
    while (k < 4 && strcmp(name, names[k]) != 0)
        k++;
    if (k == 4)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.problem: '%s'; expected diagonal, dense, noisy3d or kinked1d",
                              name);
    q->problem = (enum quadratic_problem)k;
    json_t *dim = json_object_get(cfg, "dim");
    long long n = json_is_integer(dim) ? json_integer_value(dim) : 10;
    if (q->problem == NOISY3D || q->problem == KINKED1D) {
        if (dim && n != (q->problem == NOISY3D ? 3 : 1))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "model.dim: %lld, but the %s problem has dimension %d", n, name,
                                  q->problem == NOISY3D ? 3 : 1);
        n = q->problem == NOISY3D ? 3 : 1;
    }
    unsigned long long most = q->problem == DENSE ? DENSE_MAX_DIM : LSGD_MAX_FEATURES;
    if (n < 1 || (unsigned long long)n > most)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.dim: %lld; expected 1..%llu", n, most);
    q->n = (size_t)n;
    return LSGD_OK;
}

static int fill_spectrum(quadratic_impl *q, const json_t *cfg, lsgd_error *err)
{
    json_t *cond = json_object_get(cfg, "condition");
    double condition = json_is_number(cond) ? json_number_value(cond) : 1000.0;
    if (!(condition >= 1))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.condition: %g; expected >= 1",
                              condition);
    for (size_t i = 0; i < q->n; i++) {
        if (q->problem == NOISY3D)
            q->lambda[i] = (double)(i + 1);
        else if (q->problem == KINKED1D)
            q->lambda[i] = 2.0;
        else
            q->lambda[i] = q->n > 1 ? pow(condition, (double)i / (double)(q->n - 1)) : 1.0;
    }
    if (q->problem == DENSE && build_dense(q) != LSGD_OK)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model quadratic: out of memory");
    return LSGD_OK;
}

int lsgd_quadratic_create(lsgd_model *model, const json_t *cfg, lsgd_error *err)
{
    quadratic_impl *q = calloc(1, sizeof *q);
    if (!q)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model quadratic: out of memory");
    model->ops = &quadratic_ops;
    model->impl = q;
    int rc = parse_problem(q, cfg, err);
    if (rc != LSGD_OK)
        return rc;
    q->lambda = malloc(q->n * sizeof *q->lambda);
    q->factor = malloc(q->n * sizeof *q->factor);
    q->shift = malloc(q->n * sizeof *q->shift);
    q->base.init.value = malloc(sizeof *q->base.init.value);
    if (!q->lambda || !q->factor || !q->shift || !q->base.init.value)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model quadratic: out of memory");
    rc = fill_spectrum(q, cfg, err);
    if (rc != LSGD_OK)
        return rc;
    snprintf(q->base.init.type, sizeof q->base.init.type, "value");
    q->base.sized_by = "model.dim";
    q->base.init.value[0] = q->problem == KINKED1D ? 2.0f : 1.0f;
    q->base.init.n_value = 1;
    model->dim = model_add_tensor(&q->base, "x", q->n, 0, 0, 0);
    return LSGD_OK;
}
