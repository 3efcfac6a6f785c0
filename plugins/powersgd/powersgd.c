/*
 * powersgd.c — PowerSGD (Vogels, Karimireddy, Jaggi 2019): each of the
 * model's matrices M (rows × cols, as model.json describes the tensors)
 * travels as a rank-r factorisation P̂ Qᵀ from one step of subspace
 * iteration, warm-started from the last round's Q:
 *
 *   P = M Q;   P̂ = orthonormalise(P) (Gram–Schmidt);   Q ← Mᵀ P̂;   M̂ = P̂ Qᵀ
 *
 * (rows + cols)·r floats per matrix instead of rows·cols.  Vectors (biases)
 * and matrices too small to gain (r·(rows+cols) ≥ rows·cols) travel as
 * float32.  Q starts (and a column of it that became 0 restarts) from
 * uniform draws seeded by the run's seed, the tensor and the round, the
 * same on every worker.  Departure from the paper: its workers all-reduce
 * P before orthonormalising and share one Q; here each worker sends its
 * own P̂ and Q (the all-gather of lsgd/compressor.h), keeps its own Q as
 * the warm start (the state), and the average is (1/M) Σ_m P̂_m Q_mᵀ.
 * Run it with error feedback, as the paper does.
 *
 * Wire: for each tensor in order, P̂ (rows × r, row-major) then Q (cols × r)
 * as f32, or its rows·cols values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lsgd/compressor.h"

typedef struct matrix {
    size_t offset, rows, cols;
    size_t rank;  /* 0: sent as float32 */
    size_t state; /* where its Q (cols × rank) lies in the state */
} matrix;

typedef struct powersgd {
    size_t dim, n, bytes, state_floats;
    uint64_t seed;
    matrix *m;        /* [n] */
    float *p, *q;     /* scratch: the largest P (rows × r) and Q (cols × r) */
} powersgd;

static void powersgd_destroy(void *self)
{
    powersgd *s = self;
    free(s->m);
    free(s->p);
    free(s->q);
    free(s);
}

static int powersgd_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                           lsgd_error *err)
{
    size_t r = (size_t)lsgd_param_number(p, "rank"), most_p = 1, most_q = 1;
    powersgd *s = calloc(1, sizeof *s);
    if (!s || !(s->m = calloc(info->n_tensors, sizeof *s->m))) {
        free(s);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "powersgd: out of memory");
    }
    *s = (powersgd){.dim = info->dim, .n = info->n_tensors, .seed = info->seed, .m = s->m};
    for (size_t t = 0; t < s->n; t++) {
        const lsgd_tensor_shape *shape = &info->tensors[t];
        matrix *m = &s->m[t];
        *m = (matrix){.offset = shape->offset, .rows = shape->rows, .cols = shape->cols};
        size_t side = m->rows < m->cols ? m->rows : m->cols, k = r < side ? r : side;
        if (m->rows > 1 && m->cols > 1 && k * (m->rows + m->cols) < m->rows * m->cols) {
            m->rank = k;
            m->state = s->state_floats;
            s->state_floats += m->cols * k;
            s->bytes += 4 * k * (m->rows + m->cols);
            most_p = m->rows * k > most_p ? m->rows * k : most_p;
            most_q = m->cols * k > most_q ? m->cols * k : most_q;
        } else {
            s->bytes += 4 * m->rows * m->cols;
        }
    }
    s->p = malloc(most_p * sizeof(float));
    s->q = malloc(most_q * sizeof(float));
    if (!s->p || !s->q) {
        powersgd_destroy(s);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "powersgd: out of memory");
    }
    *self = s;
    return LSGD_OK;
}

static size_t powersgd_max_encoded_bytes(const void *self)
{
    return ((const powersgd *)self)->bytes;
}

static size_t powersgd_state_floats(const void *self)
{
    return ((const powersgd *)self)->state_floats;
}

/* A column of Q that is all 0 (the first round, or M was 0) restarts from
 * uniform draws in [−1, 1) of (seed, tensor, round). */
static void restart_columns(const powersgd *s, float *q, const matrix *m, size_t t,
                            uint64_t round)
{
    uint64_t key = lsgd_mix64(s->seed ^ lsgd_mix64(t ^ lsgd_mix64(round)));
    for (size_t k = 0; k < m->rank; k++) {
        int zero = 1;
        for (size_t j = 0; j < m->cols && zero; j++)
            zero = q[j * m->rank + k] == 0.0f;
        for (size_t j = 0; zero && j < m->cols; j++)
            q[j * m->rank + k] =
                (float)(lsgd_mix64(key + j * m->rank + k) >> 40) * 0x1p-23f - 1.0f;
    }
}

/* Modified Gram–Schmidt on the rank columns of p (rows × rank); a column
 * with nothing left is set to 0. */
static void orthonormalise(float *p, size_t rows, size_t rank)
{
    for (size_t k = 0; k < rank; k++) {
        for (size_t l = 0; l < k; l++) {
            double dot = 0.0;
            for (size_t i = 0; i < rows; i++)
                dot += (double)p[i * rank + l] * p[i * rank + k];
            for (size_t i = 0; i < rows; i++)
                p[i * rank + k] -= (float)dot * p[i * rank + l];
        }
        double norm = 0.0;
        for (size_t i = 0; i < rows; i++)
            norm += (double)p[i * rank + k] * p[i * rank + k];
        float scale = norm > 0.0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
        for (size_t i = 0; i < rows; i++)
            p[i * rank + k] *= scale;
    }
}

/* P = M Q, P̂ = orthonormalise(P), Q ← Mᵀ P̂ (in the state); both to out. */
static unsigned char *factorise(const powersgd *s, unsigned char *out, const float *M,
                                float *q, const matrix *m)
{
    size_t r = m->rank;
    float *p = s->p;
    memset(p, 0, m->rows * r * sizeof *p);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++)
            for (size_t k = 0; k < r; k++)
                p[i * r + k] += M[i * m->cols + j] * q[j * r + k];
    orthonormalise(p, m->rows, r);
    memset(q, 0, m->cols * r * sizeof *q);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++)
            for (size_t k = 0; k < r; k++)
                q[j * r + k] += M[i * m->cols + j] * p[i * r + k];
    memcpy(out, p, m->rows * r * sizeof *p);
    memcpy(out + 4 * m->rows * r, q, m->cols * r * sizeof *q);
    return out + 4 * r * (m->rows + m->cols);
}

static int powersgd_encode(const void *self, float *state, const float *in, uint64_t round,
                           void *bytes, size_t cap, size_t *written, lsgd_error *err)
{
    const powersgd *s = self;
    for (size_t i = 0; i < s->dim; i++)
        if (!isfinite(in[i]))
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "powersgd: coordinate %zu is %g", i,
                                  (double)in[i]);
    unsigned char *out = bytes;
    for (size_t t = 0; t < s->n; t++) {
        const matrix *m = &s->m[t];
        if (m->rank == 0) {
            memcpy(out, in + m->offset, 4 * m->rows * m->cols);
            out += 4 * m->rows * m->cols;
            continue;
        }
        restart_columns(s, state + m->state, m, t, round);
        out = factorise(s, out, in + m->offset, state + m->state, m);
    }
    *written = s->bytes;
    return LSGD_OK;
}

/* out[rows × cols] += P̂ Qᵀ from the bytes at b. */
static void add_product(const powersgd *s, float *out, const unsigned char *b, const matrix *m)
{
    size_t r = m->rank;
    memcpy(s->p, b, 4 * m->rows * r);
    memcpy(s->q, b + 4 * m->rows * r, 4 * m->cols * r);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++) {
            float sum = 0.0f;
            for (size_t k = 0; k < r; k++)
                sum += s->p[i * r + k] * s->q[j * r + k];
            out[i * m->cols + j] += sum;
        }
}

static int powersgd_decode(const void *self, const void *bytes, size_t size, float *out,
                           lsgd_error *err)
{
    const powersgd *s = self;
    if (size != s->bytes)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "powersgd: a payload of %zu bytes, expected %zu", size, s->bytes);
    const unsigned char *b = bytes;
    for (size_t t = 0; t < s->n; t++) {
        const matrix *m = &s->m[t];
        if (m->rank == 0) {
            for (size_t i = 0; i < m->rows * m->cols; i++)
                out[m->offset + i] += lsgd_get_f32(b + 4 * i);
            b += 4 * m->rows * m->cols;
        } else {
            add_product(s, out + m->offset, b, m);
            b += 4 * m->rank * (m->rows + m->cols);
        }
    }
    return LSGD_OK;
}

static const lsgd_compressor_ops powersgd_ops = {
    .struct_size = sizeof(lsgd_compressor_ops),
    .create = powersgd_create,
    .destroy = powersgd_destroy,
    .max_encoded_bytes = powersgd_max_encoded_bytes,
    .encode = powersgd_encode,
    .decode = powersgd_decode,
    .state_floats = powersgd_state_floats,
};

LSGD_PLUGIN(LSGD_KIND_COMPRESSOR, "powersgd", "1.0.0", &powersgd_ops);
