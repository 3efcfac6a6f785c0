/*
 * synthetic.c — generated data sets with a known structure, dense.
 *
 *   blobs             classes Gaussian clusters: x = μ_c + noise·N(0, I), μ_c ~ N(0, I)
 *   separable         binary, x ~ N(0, I), label sign(w*ᵀx) with |w*ᵀx| ≥ margin
 *                     (points inside the margin are pushed out along w*);
 *                     truth = w* (unit norm, no bias): the max-margin studies'
 *                     reference direction
 *   overparameterized regression with d > n: y = Xw* + noise·z, x ~ N(0, I),
 *                     w* ~ N(0, I/d); truth = w* (an interpolating solution exists)
 *   quadratic         noisy least squares whose Hessian E[xxᵀ] = diag(s_j²) has
 *                     eigenvalues log-spaced from 1 down to 10⁻³; y = Xw* + noise·z,
 *                     truth = w*
 *
 * The problem (centers, w*) comes from the seed alone, the samples from the
 * seed and the set's role, so data.test drawn from the same generator and
 * seed shares its training set's problem but not its samples.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "util/limits.h"
#include "util/rng.h"

enum { PROBLEM_STREAM = 0x70726f62, TRAIN_STREAM = 0x7472616e, TEST_STREAM = 0x74657374 };

typedef struct synth_spec {
    const char *generator;
    size_t n, d;
    int classes;
    double noise, margin;
    lsgd_rng problem, samples;
} synth_spec;

static void normal_fill(float *out, size_t n, double scale, lsgd_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(scale * lsgd_rng_normal(rng));
}

static double dot(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += (double)a[j] * b[j];
    return s;
}

static int make_blobs(lsgd_dataset *set, double *labels, synth_spec *s)
{
    float *centers = malloc((size_t)s->classes * s->d * sizeof *centers);
    if (!centers)
        return LSGD_ERR_RUNTIME;
    normal_fill(centers, (size_t)s->classes * s->d, 1.0, &s->problem);
    for (size_t i = 0; i < s->n; i++) {
        size_t c = i % (size_t)s->classes;
        float *x = set->X + i * s->d;
        for (size_t j = 0; j < s->d; j++)
            x[j] = (float)(centers[c * s->d + j] + s->noise * lsgd_rng_normal(&s->samples));
        labels[i] = (double)c;
    }
    free(centers);
    return LSGD_OK;
}

static int make_separable(lsgd_dataset *set, double *labels, synth_spec *s)
{
    float *w = set->truth;
    normal_fill(w, s->d, 1.0, &s->problem);
    double norm = sqrt(dot(w, w, s->d));
    for (size_t j = 0; j < s->d; j++)
        w[j] = (float)(w[j] / norm);
    for (size_t i = 0; i < s->n; i++) {
        float *x = set->X + i * s->d;
        normal_fill(x, s->d, 1.0, &s->samples);
        double m = dot(w, x, s->d), sign = m >= 0 ? 1.0 : -1.0;
        if (fabs(m) < s->margin)
            for (size_t j = 0; j < s->d; j++)
                x[j] += (float)((sign * s->margin - m) * w[j]);
        labels[i] = sign;
    }
    return LSGD_OK;
}

/* y = Xw* + noise·z with column scales scale[d] (NULL: 1). */
static int make_regression(lsgd_dataset *set, double *labels, synth_spec *s, const double *scale)
{
    float *w = set->truth;
    normal_fill(w, s->d, scale ? 1.0 : 1.0 / sqrt((double)s->d), &s->problem);
    for (size_t i = 0; i < s->n; i++) {
        float *x = set->X + i * s->d;
        for (size_t j = 0; j < s->d; j++)
            x[j] = (float)(lsgd_rng_normal(&s->samples) * (scale ? scale[j] : 1.0));
        labels[i] = dot(w, x, s->d) + s->noise * lsgd_rng_normal(&s->samples);
    }
    return LSGD_OK;
}

static int make_quadratic(lsgd_dataset *set, double *labels, synth_spec *s)
{
    double *scale = malloc(s->d * sizeof *scale);
    if (!scale)
        return LSGD_ERR_RUNTIME;
    for (size_t j = 0; j < s->d; j++)
        scale[j] = s->d > 1 ? pow(10.0, -1.5 * (double)j / (double)(s->d - 1)) : 1.0;
    int rc = make_regression(set, labels, s, scale);
    free(scale);
    return rc;
}

/* n, d and classes, each within util/limits.h, and the products that
 * size the allocations (n·d samples, classes·d centers) within it too. */
static int read_sizes(synth_spec *s, const json_t *cfg, const char *key, size_t features,
                      lsgd_error *err)
{
    long long n, d, classes;
    int rc = json_count_or(&n, cfg, "n", 0, 1, LSGD_MAX_SAMPLES, key, err);
    if (rc == LSGD_OK)
        rc = json_count_or(&d, cfg, "d", (long long)features, 1, LSGD_MAX_FEATURES, key, err);
    if (rc == LSGD_OK)
        rc = json_count_or(&classes, cfg, "classes", 2, 2, DATASET_MAX_CLASSES, key, err);
    if (rc != LSGD_OK)
        return rc;
    if (n < 1 || d < 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: missing; expected an integer >= 1",
                              key, n < 1 ? "n" : "d");
    size_t values;
    if (!lsgd_product_within(&values, (size_t)n, (size_t)d, LSGD_MAX_DENSE_VALUES) ||
        !lsgd_product_within(&values, (size_t)classes, (size_t)d, LSGD_MAX_DENSE_VALUES))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: n %lld (or classes %lld) × d %lld values exceed lsgd's limit "
                              "of %llu values in a dense set",
                              key, n, classes, d, (unsigned long long)LSGD_MAX_DENSE_VALUES);
    s->n = (size_t)n;
    s->d = (size_t)d;
    s->classes = (int)classes;
    return LSGD_OK;
}

static int read_spec(synth_spec *s, const json_t *cfg, const char *key, size_t features,
                     lsgd_error *err)
{
    s->generator = json_string_or(cfg, "generator", NULL);
    s->noise = json_number_or(cfg, "noise", 0.1);
    s->margin = json_number_or(cfg, "margin", 0.1);
    if (!s->generator)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.generator: missing; expected blobs, separable, "
                              "overparameterized or quadratic",
                              key);
    int rc = read_sizes(s, cfg, key, features, err);
    if (rc != LSGD_OK)
        return rc;
    if (features && s->d != features)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.d: %zu; expected %zu features", key, s->d,
                              features);
    if (!(s->noise >= 0) || !(s->margin >= 0))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: out of range", key,
                              !(s->noise >= 0) ? "noise" : "margin");
    if (strcmp(s->generator, "separable") == 0 && s->classes != 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.classes: %d; separable data is binary (2)",
                              key, s->classes);
    int is_test = key && strcmp(key, "data.test") == 0;
    if (strcmp(s->generator, "overparameterized") == 0 && !is_test && s->d <= s->n)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.d: %zu with n %zu; overparameterized data needs d > n", key,
                              s->d, s->n);
    return LSGD_OK;
}

static int generate(lsgd_dataset *set, synth_spec *s, lsgd_error *err)
{
    set->n = s->n;
    set->d = s->d;
    set->X = malloc(s->n * s->d * sizeof *set->X);
    double *labels = malloc(s->n * sizeof *labels);
    int with_truth = strcmp(s->generator, "blobs") != 0;
    if (with_truth)
        set->truth = malloc(s->d * sizeof *set->truth);
    int rc = set->X && labels && (!with_truth || set->truth) ? LSGD_OK : LSGD_ERR_RUNTIME;
    if (rc == LSGD_OK) {
        if (strcmp(s->generator, "blobs") == 0)
            rc = make_blobs(set, labels, s);
        else if (strcmp(s->generator, "separable") == 0)
            rc = make_separable(set, labels, s);
        else if (strcmp(s->generator, "overparameterized") == 0)
            rc = make_regression(set, labels, s, NULL);
        else
            rc = make_quadratic(set, labels, s);
    }
    if (rc == LSGD_OK)
        rc = dataset_set_labels(set, labels, s->n);
    /* Regression generators keep integer-looking targets as targets. */
    if (rc == LSGD_OK && with_truth && strcmp(s->generator, "separable") != 0 &&
        set->classes > 0) {
        set->classes = 0;
        free(set->label_values);
        set->label_values = NULL;
        for (size_t i = 0; i < s->n; i++)
            set->y[i] = (float)labels[i];
    }
    free(labels);
    return rc == LSGD_OK ? LSGD_OK : lsgd_error_set(err, rc, "synthetic data: out of memory");
}

int lsgd_synthetic_generate(lsgd_dataset **out, const json_t *cfg, const char *key,
                            size_t features, uint64_t seed, lsgd_error *err)
{
    synth_spec s;
    int rc = read_spec(&s, cfg, key, features, err);
    if (rc != LSGD_OK)
        return rc;
    const char *known[] = {"blobs", "separable", "overparameterized", "quadratic"};
    int found = 0;
    for (int k = 0; k < 4; k++)
        found |= strcmp(s.generator, known[k]) == 0;
    if (!found)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.generator: '%s'; expected blobs, separable, "
                              "overparameterized or quadratic",
                              key, s.generator);
    uint64_t own_seed = (uint64_t)json_int_or(cfg, "seed", (long long)seed);
    int is_test = key && strcmp(key, "data.test") == 0;
    lsgd_rng_seed(&s.problem, own_seed, PROBLEM_STREAM);
    lsgd_rng_seed(&s.samples, own_seed, is_test ? TEST_STREAM : TRAIN_STREAM);
    char source[64];
    snprintf(source, sizeof source, "synthetic %s", s.generator);
    lsgd_dataset *set = dataset_new(source);
    rc = set ? generate(set, &s, err) : lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    if (rc != LSGD_OK) {
        lsgd_dataset_free(set);
        return rc;
    }
    *out = set;
    return LSGD_OK;
}
