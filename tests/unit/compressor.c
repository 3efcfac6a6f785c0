/*
 * compressor.c — the compressor plugins against references computed here,
 * through the real host (registry → params → dlopen of the built .so):
 * each codec's decoded values, its exact wire size, its refusal of bad
 * bytes, and the host's rank-order mean, error feedback, state and model
 * tensors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compression.h"
#include "engine_helpers.h"
#include "harness.h"
#include "host/compressor_host.h"
#include "host/gather.h"
#include "host/params.h"
#include "host/ops_table.h"
#include "lsgd/transport.h"
#include "models/model.h"
#include "scaling_test.h"
#include "util/rng.h"

/* lsgd_compressor_open of {"plugin": name, "params": params_json} for a
 * model of the given tensors (NULL: one dim × 1 tensor), rank 0 of 1 unless
 * info says otherwise. */
static int open_as(lsgd_compressor *c, const char *name, const char *params_json, size_t dim,
                   const lsgd_tensor_shape *tensors, size_t n, int rank, lsgd_error *err)
{
    lsgd_tensor_shape whole = {.offset = 0, .rows = dim, .cols = 1};
    lsgd_compressor_info info = {.struct_size = sizeof info, .dim = dim, .seed = 42,
                                 .rank = rank, .world = rank + 1,
                                 .tensors = tensors ? tensors : &whole, .n_tensors = tensors ? n : 1};
    json_t *cfg = json_pack("{s:s}", "plugin", name);
    json_object_set_new(cfg, "params", json_loads(params_json ? params_json : "{}", 0, NULL));
    int rc = lsgd_compressor_open(c, scaling_test_registry(), cfg, "compression", &info, err);
    json_decref(cfg);
    return rc;
}

static void open_ok(lsgd_compressor *c, const char *name, const char *params_json, size_t dim)
{
    lsgd_error err;
    int rc = open_as(c, name, params_json, dim, NULL, 0, 0, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
}

/* decoded[dim] ← D(E(in)), *size the bytes. */
static void round_trip(lsgd_compressor *c, const float *in, float *decoded, size_t *size)
{
    lsgd_error err;
    unsigned char *bytes = malloc(c->max_bytes);
    CU_ASSERT_EQUAL_FATAL(lsgd_compressor_encode(c, in, bytes, size, &err), LSGD_OK);
    memset(decoded, 0, c->dim * sizeof *decoded);
    CU_ASSERT_EQUAL(lsgd_compressor_decode(c, bytes, *size, decoded, &err), LSGD_OK);
    free(bytes);
}

static float *normal_vector(size_t dim, uint64_t seed, double scale)
{
    lsgd_rng r;
    lsgd_rng_seed(&r, seed, 0);
    float *v = malloc(dim * sizeof *v);
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(scale * lsgd_rng_normal(&r));
    return v;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---- none, fp16, bf16 ------------------------------------------------------ */

LSGD_TEST(compressor, none_decodes_to_the_input_bit_for_bit_in_4_bytes_per_value)
{
    enum { DIM = 1001 };
    lsgd_compressor c;
    open_ok(&c, "none", NULL, DIM);
    float *v = normal_vector(DIM, 1, 1.0), decoded[DIM];
    size_t size;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, 4 * DIM);
    CU_ASSERT_EQUAL(memcmp(v, decoded, sizeof decoded), 0);
    free(v);
    lsgd_compressor_close(&c);
}

/* Special values beside random ones: ties, subnormals, the largest half. */
static const float fp16_cases[] = {0.0f, -0.0f, 1.0f, 65504.0f, -65504.0f, 65519.0f,
                                   0x1p-24f, 0x1p-25f, 0x1.8p-25f, 0x1p-14f, 0x1.ffcp-15f,
                                   1.0f + 0x1p-11f, 1.0f + 0x3p-11f, 3.14159265f, 1e-10f};

LSGD_TEST(compressor, fp16_rounds_each_value_as_the_compilers_float16_does_in_2_bytes)
{
    enum { SPECIAL = sizeof fp16_cases / sizeof fp16_cases[0], DIM = SPECIAL + 4000 };
    lsgd_compressor c;
    open_ok(&c, "fp16", NULL, DIM);
    float *v = normal_vector(DIM, 2, 1.0), decoded[DIM];
    memcpy(v, fp16_cases, sizeof fp16_cases);
    for (size_t i = SPECIAL + 2000; i < DIM; i++)
        v[i] *= 1e-5f; /* many subnormal halves */
    size_t size;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, 2 * DIM);
    size_t wrong = 0;
    for (size_t i = 0; i < DIM; i++)
        wrong += bits_of(decoded[i]) != bits_of((float)(_Float16)v[i]) &&
                 !(decoded[i] == 0.0f && (float)(_Float16)v[i] == 0.0f);
    CU_ASSERT_EQUAL(wrong, 0);
    free(v);
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, fp16_refuses_a_value_beyond_65504_naming_the_coordinate)
{
    lsgd_compressor c;
    open_ok(&c, "fp16", NULL, 3);
    float v[3] = {1.0f, 70000.0f, 2.0f};
    unsigned char bytes[6];
    size_t size;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_compressor_encode(&c, v, bytes, &size, &err), LSGD_ERR_RUNTIME);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "coordinate 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "fp16"));
    lsgd_compressor_close(&c);
}

/* The nearer of the two bfloat16s around v (ties to the even one). */
static float bf16_reference(float v)
{
    uint32_t below = bits_of(v) & 0xffff0000u;
    float lo = float_of(below), hi = float_of(below + 0x10000u);
    double dlo = fabs((double)v - lo), dhi = fabs((double)v - hi);
    if (dlo != dhi)
        return dlo < dhi ? lo : hi;
    return (below >> 16) & 1 ? hi : lo;
}

LSGD_TEST(compressor, bf16_sends_the_nearer_bfloat16_ties_to_even_in_2_bytes)
{
    enum { DIM = 5003 };
    lsgd_compressor c;
    open_ok(&c, "bf16", NULL, DIM);
    float *v = normal_vector(DIM, 3, 100.0), decoded[DIM];
    v[0] = float_of(0x3f808000u); /* a tie, even neighbour below: stays */
    v[1] = float_of(0x3f818000u); /* a tie, odd neighbour below: rounds up */
    v[2] = 1e-40f;                /* subnormal */
    size_t size;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, 2 * DIM);
    size_t wrong = 0;
    for (size_t i = 0; i < DIM; i++)
        wrong += bits_of(decoded[i]) != bits_of(bf16_reference(v[i]));
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(bits_of(decoded[0]), 0x3f800000u);
    CU_ASSERT_EQUAL(bits_of(decoded[1]), 0x3f820000u);
    free(v);
    lsgd_compressor_close(&c);
}

/* ---- int8 ---------------------------------------------------------------------- */

LSGD_TEST(compressor, int8_round_to_nearest_gives_integers_times_each_blocks_max_over_127)
{
    enum { DIM = 1000, BLOCK = 64 };
    lsgd_compressor c;
    open_ok(&c, "int8", "{\"block\": 64, \"stochastic\": false}", DIM);
    float *v = normal_vector(DIM, 4, 3.0), decoded[DIM];
    for (size_t i = 128; i < 192; i++)
        v[i] = 0.0f; /* a block of zeros has scale 0 */
    size_t size;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, DIM + 4 * ((DIM + BLOCK - 1) / BLOCK));
    size_t wrong = 0;
    for (size_t at = 0; at < DIM; at += BLOCK) {
        size_t n = DIM - at < BLOCK ? DIM - at : BLOCK;
        double most = 0.0;
        for (size_t i = 0; i < n; i++)
            most = fmax(most, fabs(v[at + i]));
        double s = (float)(most / 127.0);
        for (size_t i = 0; i < n; i++) {
            double want = s > 0 ? nearbyint(v[at + i] / s) * s : 0.0; /* computed in double */
            wrong += fabs(decoded[at + i] - want) > 1e-6 * (s + 1e-30) * 127;
        }
    }
    CU_ASSERT_EQUAL(wrong, 0);
    free(v);
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, int8_stochastic_rounding_is_unbiased_and_repeats_for_seed_rank_and_round)
{
    enum { DIM = 256, ROUNDS = 4000 };
    lsgd_compressor a, b, other;
    lsgd_error err;
    open_ok(&a, "int8", NULL, DIM);
    open_ok(&b, "int8", NULL, DIM);
    CU_ASSERT_EQUAL_FATAL(open_as(&other, "int8", NULL, DIM, NULL, 0, 1, &err), LSGD_OK);
    float *v = normal_vector(DIM, 5, 1.0), decoded[DIM];
    double *sum = calloc(DIM, sizeof *sum);
    unsigned char x[DIM + 4], y[DIM + 4], z[DIM + 4];
    size_t sx, sy, sz, differ = 0, floor_or_ceil = 1;
    double most = 0.0;
    for (size_t i = 0; i < DIM; i++)
        most = fmax(most, fabs(v[i]));
    const double s = (float)(most / 127.0);
    for (int r = 0; r < ROUNDS; r++) {
        lsgd_compressor_encode(&a, v, x, &sx, &err);
        lsgd_compressor_encode(&b, v, y, &sy, &err);
        lsgd_compressor_encode(&other, v, z, &sz, &err);
        CU_ASSERT_EQUAL(memcmp(x, y, sizeof x), 0); /* same seed, rank, round */
        differ += memcmp(x, z, sizeof x) != 0;       /* another rank draws otherwise */
        memset(decoded, 0, sizeof decoded);
        lsgd_compressor_decode(&a, x, sx, decoded, &err);
        for (size_t i = 0; i < DIM; i++) {
            double q = decoded[i] / s;
            floor_or_ceil &= fabs(q - floor(v[i] / s)) < 1e-3 || fabs(q - ceil(v[i] / s)) < 1e-3;
            sum[i] += decoded[i];
        }
    }
    CU_ASSERT_EQUAL(differ, ROUNDS);
    CU_ASSERT_TRUE(floor_or_ceil);
    size_t biased = 0; /* the mean of a Bernoulli·s: sd ≤ s/(2√N); allow 5 sd */
    for (size_t i = 0; i < DIM; i++)
        biased += fabs(sum[i] / ROUNDS - v[i]) > 5 * s / (2 * sqrt(ROUNDS));
    CU_ASSERT_EQUAL(biased, 0);
    free(sum);
    free(v);
    lsgd_compressor_close(&a);
    lsgd_compressor_close(&b);
    lsgd_compressor_close(&other);
}

LSGD_TEST(compressor, int8_refuses_a_payload_with_a_negative_or_nan_scale)
{
    lsgd_compressor c;
    open_ok(&c, "int8", NULL, 10);
    unsigned char bytes[14] = {0};
    float out[10] = {0};
    lsgd_error err;
    memcpy(bytes, &(float){-1.0f}, 4);
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, sizeof bytes, out, &err), LSGD_ERR_INPUT);
    memcpy(bytes, &(float){NAN}, 4);
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, sizeof bytes, out, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "scale"));
    lsgd_compressor_close(&c);
}

/* ---- topk ------------------------------------------------------------------------- */

static const float *sort_values;

/* Larger magnitude first, then the lower index. */
static int by_magnitude(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    float x = fabsf(sort_values[i]), y = fabsf(sort_values[j]);
    return x != y ? (x < y) - (x > y) : (i > j) - (i < j);
}

LSGD_TEST(compressor, topk_sends_the_k_largest_magnitudes_ties_to_the_lower_index)
{
    enum { DIM = 3000 };
    const size_t k = 30; /* ⌈0.01 · 3000⌉ */
    lsgd_compressor c;
    open_ok(&c, "topk", "{\"fraction\": 0.01}", DIM);
    float *v = normal_vector(DIM, 6, 1.0), decoded[DIM], want[DIM] = {0};
    for (size_t i = 0; i < 40; i++)
        v[100 + 50 * i] = (i % 2 ? -1.0f : 1.0f) * 2.5f; /* 40 ties around the k-th */
    size_t order[DIM];
    for (size_t i = 0; i < DIM; i++)
        order[i] = i;
    sort_values = v;
    qsort(order, DIM, sizeof *order, by_magnitude);
    for (size_t j = 0; j < k; j++)
        want[order[j]] = v[order[j]];
    size_t size;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, 8 * k);
    CU_ASSERT_EQUAL(memcmp(decoded, want, sizeof want), 0);
    free(v);
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, topk_refuses_indices_out_of_order_or_beyond_the_model)
{
    lsgd_compressor c;
    open_ok(&c, "topk", "{\"fraction\": 0.5}", 4);
    unsigned char bytes[16] = {0};
    float out[4] = {0};
    lsgd_error err;
    uint32_t beyond[2] = {1, 4}, repeated[2] = {2, 2};
    memcpy(bytes, beyond, 8);
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, 16, out, &err), LSGD_ERR_INPUT);
    memcpy(bytes, repeated, 8);
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, 16, out, &err), LSGD_ERR_INPUT);
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, 8, out, &err), LSGD_ERR_INPUT);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(out[i], 0.0f);
    lsgd_compressor_close(&c);
}

/* ---- powersgd ------------------------------------------------------------------------- */

/* An m × n matrix U diag(sigma) Vᵀ in double, U and V orthonormal columns
 * (Gram–Schmidt of normal draws), of rank `rank`. */
static void spectral_matrix(double *M, size_t m, size_t n, const double *sigma, size_t rank,
                            double *U, double *V)
{
    lsgd_rng r;
    lsgd_rng_seed(&r, 7, 0);
    double *both[2] = {U, V};
    size_t len[2] = {m, n};
    for (int w = 0; w < 2; w++)
        for (size_t k = 0; k < rank; k++) {
            double *c = both[w] + k * len[w];
            for (size_t i = 0; i < len[w]; i++)
                c[i] = lsgd_rng_normal(&r);
            for (size_t l = 0; l < k; l++) {
                double dot = 0;
                for (size_t i = 0; i < len[w]; i++)
                    dot += c[i] * both[w][l * len[w] + i];
                for (size_t i = 0; i < len[w]; i++)
                    c[i] -= dot * both[w][l * len[w] + i];
            }
            double norm = 0;
            for (size_t i = 0; i < len[w]; i++)
                norm += c[i] * c[i];
            for (size_t i = 0; i < len[w]; i++)
                c[i] /= sqrt(norm);
        }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t k = 0; k < rank; k++)
                s += U[k * m + i] * sigma[k] * V[k * n + j];
            M[i * n + j] = s;
        }
}

enum { ROWS = 40, COLS = 30, BIAS = 7, PDIM = ROWS * COLS + BIAS };
static const lsgd_tensor_shape powersgd_model[] = {{0, ROWS, COLS}, {ROWS * COLS, BIAS, 1}};

static void open_powersgd(lsgd_compressor *c, int rank)
{
    char params[64];
    snprintf(params, sizeof params, "{\"rank\": %d}", rank);
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(open_as(c, "powersgd", params, PDIM, powersgd_model, 2, 0, &err),
                          LSGD_OK);
}

LSGD_TEST(compressor, powersgd_sends_a_rank_r_matrix_whole_in_r_times_rows_plus_cols_floats)
{
    const double sigma[2] = {3.0, 1.5};
    double M[ROWS * COLS], U[2 * ROWS], V[2 * COLS];
    spectral_matrix(M, ROWS, COLS, sigma, 2, U, V);
    float v[PDIM], decoded[PDIM];
    for (size_t i = 0; i < ROWS * COLS; i++)
        v[i] = (float)M[i];
    for (size_t i = 0; i < BIAS; i++)
        v[ROWS * COLS + i] = 0.25f * (float)i - 1.0f;
    lsgd_compressor c;
    open_powersgd(&c, 2);
    size_t size;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, 4 * (2 * (ROWS + COLS) + BIAS));
    CU_ASSERT_EQUAL(c.state_count, 2 * COLS); /* the warm start Q */
    double worst = 0;
    for (size_t i = 0; i < ROWS * COLS; i++)
        worst = fmax(worst, fabs(decoded[i] - M[i]));
    CU_ASSERT(worst < 1e-5);
    CU_ASSERT_EQUAL(memcmp(decoded + ROWS * COLS, v + ROWS * COLS, BIAS * sizeof(float)), 0);
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, powersgd_warm_start_converges_to_the_best_rank_r_approximation)
{
    const double sigma[5] = {10.0, 6.0, 2.0, 1.0, 0.5};
    double M[ROWS * COLS], U[5 * ROWS], V[5 * COLS], best[ROWS * COLS];
    spectral_matrix(M, ROWS, COLS, sigma, 5, U, V);
    for (size_t i = 0; i < ROWS; i++) /* Eckart–Young: the top 2 singular triplets */
        for (size_t j = 0; j < COLS; j++)
            best[i * COLS + j] = U[i] * sigma[0] * V[j] + U[ROWS + i] * sigma[1] * V[COLS + j];
    float v[PDIM] = {0}, decoded[PDIM];
    for (size_t i = 0; i < ROWS * COLS; i++)
        v[i] = (float)M[i];
    lsgd_compressor c;
    open_powersgd(&c, 2);
    size_t size;
    double first = 0, last = 0;
    for (int round = 1; round <= 40; round++) {
        round_trip(&c, v, decoded, &size);
        double worst = 0;
        for (size_t i = 0; i < ROWS * COLS; i++)
            worst = fmax(worst, fabs(decoded[i] - best[i]));
        first = round == 1 ? worst : first;
        last = worst;
    }
    CU_ASSERT(first > 1e-2); /* one step from a random Q is not there yet */
    CU_ASSERT(last < 1e-4);
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, powersgd_given_its_state_and_round_encodes_as_the_uninterrupted_one)
{
    float *v = normal_vector(PDIM, 8, 1.0);
    lsgd_compressor a, b;
    open_powersgd(&a, 3);
    open_powersgd(&b, 3);
    unsigned char x[4 * PDIM], y[4 * PDIM];
    size_t sx, sy;
    lsgd_error err;
    for (int r = 0; r < 3; r++)
        lsgd_compressor_encode(&a, v, x, &sx, &err);
    /* what a checkpoint keeps (the engine's compression records) */
    CU_ASSERT_EQUAL_FATAL(b.state_count, a.state_count);
    memcpy(b.state, a.state, a.state_count * sizeof(float));
    b.round = a.round;
    v[5] += 1.0f;
    lsgd_compressor_encode(&a, v, x, &sx, &err);
    lsgd_compressor_encode(&b, v, y, &sy, &err);
    CU_ASSERT_EQUAL_FATAL(sx, sy);
    CU_ASSERT_EQUAL(memcmp(x, y, sx), 0);
    /* and the warm start matters: a fresh instance encodes otherwise */
    lsgd_compressor c;
    open_powersgd(&c, 3);
    lsgd_compressor_encode(&c, v, y, &sy, &err);
    CU_ASSERT_NOT_EQUAL(memcmp(x, y, sx), 0);
    free(v);
    lsgd_compressor_close(&a);
    lsgd_compressor_close(&b);
    lsgd_compressor_close(&c);
}

/* ---- the host ---------------------------------------------------------------------- */

LSGD_TEST(compressor, the_mean_through_none_equals_the_transports_rank_order_mean_bit_for_bit)
{
    enum { DIM = 2500 };
    for (int M = 2; M <= 5; M++) {
        lsgd_compressor c;
        open_ok(&c, "none", NULL, DIM);
        float *x[5], want[DIM], got[DIM];
        const void *payloads[5];
        size_t sizes[5];
        unsigned char *bytes[5];
        lsgd_error err;
        for (int r = 0; r < M; r++) {
            x[r] = normal_vector(DIM, 10 + (uint64_t)r, 1.0 + r);
            bytes[r] = malloc(c.max_bytes);
            lsgd_compressor_encode(&c, x[r], bytes[r], &sizes[r], &err);
            payloads[r] = bytes[r];
        }
        lsgd_mean_in_rank_order(want, NULL, (const float *const *)x, M, DIM);
        CU_ASSERT_EQUAL(lsgd_compressor_mean(&c, got, payloads, sizes, M, &err), LSGD_OK);
        CU_ASSERT_EQUAL(memcmp(want, got, sizeof got), 0);
        for (int r = 0; r < M; r++) {
            free(x[r]);
            free(bytes[r]);
        }
        lsgd_compressor_close(&c);
    }
}

LSGD_TEST(compressor, the_error_feedback_residual_is_exactly_what_encoding_lost)
{
    enum { DIM = 500 };
    lsgd_compressor c;
    open_ok(&c, "topk", "{\"fraction\": 0.1}", DIM);
    float *v = normal_vector(DIM, 11, 1.0), residual[DIM], decoded[DIM] = {0};
    unsigned char bytes[8 * 50];
    size_t size;
    lsgd_error err;
    lsgd_compressor_encode(&c, v, bytes, &size, &err);
    lsgd_compressor_decode(&c, bytes, size, decoded, &err);
    CU_ASSERT_EQUAL(lsgd_compressor_feedback(&c, residual, v, bytes, size, &err), LSGD_OK);
    size_t wrong = 0, kept = 0;
    for (size_t i = 0; i < DIM; i++) {
        wrong += residual[i] != v[i] - decoded[i];
        kept += residual[i] == 0.0f;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(kept, 50);
    free(v);
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, a_payload_longer_than_any_encoding_is_refused_before_the_plugin_reads_it)
{
    lsgd_compressor c;
    open_ok(&c, "none", NULL, 4);
    unsigned char bytes[17] = {0};
    float out[4];
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, 17, out, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "max_encoded_bytes 16"));
    CU_ASSERT_EQUAL(lsgd_compressor_decode(&c, bytes, 12, out, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected 16"));
    lsgd_compressor_close(&c);
}

LSGD_TEST(compressor, an_unknown_compressor_is_refused_naming_the_key_and_the_nearest_name)
{
    lsgd_compressor c;
    lsgd_error err;
    CU_ASSERT_EQUAL(open_as(&c, "int7", NULL, 10, NULL, 0, 0, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "compression.plugin"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "int8"));
    CU_ASSERT_EQUAL(open_as(&c, "topk", "{\"fraction\": 0}", 10, NULL, 0, 0, &err),
                    LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "compression.params.fraction"));
}

/* A fake table without decode: what a plugin author forgot. */
static int fake_create(void **self, const lsgd_params *p, const lsgd_compressor_info *info,
                       lsgd_error *err)
{
    *self = NULL;
    return LSGD_OK;
}

static size_t fake_max(const void *self)
{
    return 1;
}

LSGD_TEST(compressor, a_compressor_table_without_decode_is_refused_naming_it)
{
    static const lsgd_compressor_ops ops = {.struct_size = sizeof ops, .create = fake_create,
                                            .destroy = free, .max_encoded_bytes = fake_max};
    lsgd_plugin plugin = {.struct_size = sizeof plugin, .kind = LSGD_KIND_COMPRESSOR,
                          .name = "fake", .version = "0", .ops = &ops};
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_ops_valid(&plugin, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "compressor ops lack encode, decode"));
}

LSGD_TEST(compressor, model_tensors_become_matrices_and_a_gap_between_them_is_refused)
{
    json_t *model = json_loads("{\"tensors\": [{\"shape\": [4, 3, 2, 2], \"offset\": 0},"
                               " {\"shape\": [4], \"offset\": 48}]}", 0, NULL);
    lsgd_tensor_shape *t;
    size_t n;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_compressor_tensors(&t, &n, model, 52, &err), LSGD_OK);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT(t[0].rows == 4 && t[0].cols == 12 && t[0].offset == 0);
    CU_ASSERT(t[1].rows == 4 && t[1].cols == 1 && t[1].offset == 48);
    free(t);
    CU_ASSERT_EQUAL(lsgd_compressor_tensors(&t, &n, model, 60, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "cover 52 of the 60"));
    json_object_set_new(json_array_get(json_object_get(model, "tensors"), 1), "offset",
                        json_integer(50));
    CU_ASSERT_EQUAL(lsgd_compressor_tensors(&t, &n, model, 52, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "tensors[1]"));
    json_decref(model);
}

LSGD_TEST(compressor, plugins_show_lists_a_compressors_parameters_under_compression_params)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "env -u LSGD_PLUGIN_PATH %s plugins show topk",
             test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "compressor plugin"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "compression.params"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "fraction"));
    test_output_free(&o);
}

/* ---- writing a compressor ------------------------------------------------------------- */

LSGD_TEST(compressor, the_new_plugin_compressor_template_builds_out_of_tree_and_sends_scaled_signs)
{
    char dir[1024], cmd[4200];
    snprintf(dir, sizeof dir, "%s/signs", test_tmpdir());
    snprintf(cmd, sizeof cmd, "'%s' compressor signs '%s' >/dev/null && make -s -C '%s' && "
             "'%s' plugins check '%s/signs.json'", test_root_path("tools/new-plugin"), dir, dir,
             test_build_path("bin/lsgd"), dir);
    test_output o = test_run(cmd, 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "ok: compressor plugin 'signs'"));
    test_output_free(&o);

    enum { DIM = 100, BLOCK = 16 };
    json_t *cfg = json_pack("{s:[s]}", "plugin_path", dir);
    lsgd_registry reg;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_registry_discover(&reg, cfg, &err), LSGD_OK);
    json_t *sel = json_pack("{s:s, s:{s:i}}", "plugin", "signs", "params", "block", BLOCK);
    lsgd_tensor_shape whole = {0, DIM, 1};
    lsgd_compressor_info info = {.struct_size = sizeof info, .dim = DIM, .world = 1,
                                 .tensors = &whole, .n_tensors = 1};
    lsgd_compressor c;
    CU_ASSERT_EQUAL_FATAL(lsgd_compressor_open(&c, &reg, sel, "compression", &info, &err), LSGD_OK);
    float *v = normal_vector(DIM, 12, 1.0), decoded[DIM];
    size_t size, wrong = 0;
    round_trip(&c, v, decoded, &size);
    CU_ASSERT_EQUAL(size, 6 * (4 + 2) + (4 + 1)); /* six blocks of 16, one of 4 */
    for (size_t at = 0; at < DIM; at += BLOCK) {
        size_t n = DIM - at < BLOCK ? DIM - at : BLOCK;
        double mean = 0;
        for (size_t i = 0; i < n; i++)
            mean += fabs(v[at + i]) / n;
        for (size_t i = 0; i < n; i++)
            wrong += fabs(decoded[at + i] - (v[at + i] < 0 ? -mean : mean)) > 1e-6;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    free(v);
    lsgd_compressor_close(&c);
    json_decref(sel);
    json_decref(cfg);
    lsgd_registry_free(&reg);
}

/* ---- compressed runs (suite compression): the engine through the CLI ----- */

static char work[4096]; /* this test's directory: runs and their outputs */

static void new_work_dir(void)
{
    snprintf(work, sizeof work, "%s", test_tmpdir());
}

static const char *compressed_config(void)
{
    return test_root_path("tests/data/compression/mlp-3-workers.json");
}

/* `lsgd run` of the compressed config into dir (--force, unless sets has
 * --resume) with extra options; prefix goes in front (environment,
 * mpirun); returns the exit status. */
static int run_compressed(const char *prefix, const char *dir, const char *sets)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' run '%s' %s --set output.dir='%s' %s", work,
             prefix, test_build_path("bin/lsgd"), compressed_config(),
             strstr(sets, "--resume") ? "" : "--force", dir, sets);
    test_output o = test_run(cmd, 120);
    if (o.status != 0)
        fprintf(stderr, "%s\n%s", cmd, o.err);
    int status = o.status;
    test_output_free(&o);
    return status;
}

static const char *model_of(const char *dir)
{
    static char path[4][4200];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s/model.npy", work, dir);
    return p;
}

LSGD_TEST(compression, an_int8_run_with_error_feedback_ends_bitwise_equal_on_shm_zmq_and_mpi)
{
    new_work_dir();
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "c-shm", "--set transport.plugin=shm"), 0);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "c-zmq", "--set transport.plugin=zmq"), 0);
    CU_ASSERT_TRUE(test_same_file(model_of("c-shm"), model_of("c-zmq")));
    CU_ASSERT_EQUAL_FATAL(run_compressed("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                                         "ASAN_OPTIONS=detect_leaks=0 mpirun --oversubscribe -n 3",
                                         "c-mpi", "--set transport.plugin=mpi"), 0);
    CU_ASSERT_TRUE(test_same_file(model_of("c-shm"), model_of("c-mpi")));
}

/* train_loss of the run in dir/out, first and last round. */
static void first_and_last_loss(const char *dir, double *first, double *last)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", work, dir);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, path), 0);
    int col = column(&t, "train_loss");
    CU_ASSERT_FATAL(col >= 0 && t.rows > 1);
    *first = value(&t, 0, col);
    *last = value(&t, t.rows - 1, col);
    metrics_free(&t);
}

/* The run with sets on shm (into tag-shm/out) and on zmq (tag-zmq/out)
 * ends with the same model, bit for bit. */
static void expect_bitwise_on_shm_and_zmq(const char *sets, const char *tag)
{
    char with[1024], shm[64], zmq[64];
    snprintf(shm, sizeof shm, "%s-shm/out", tag);
    snprintf(zmq, sizeof zmq, "%s-zmq/out", tag);
    snprintf(with, sizeof with, "%s --set transport.plugin=shm", sets);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", shm, with), 0);
    snprintf(with, sizeof with, "%s --set transport.plugin=zmq", sets);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", zmq, with), 0);
    CU_ASSERT_TRUE(test_same_file(model_of(shm), model_of(zmq)));
}

LSGD_TEST(compression, overlap_local_sgd_with_int8_and_error_feedback_trains_and_ends_bitwise_equal_on_shm_zmq_and_mpi)
{
    new_work_dir();
    const char *overlap = "--set algorithm.type=overlap_local_sgd";
    expect_bitwise_on_shm_and_zmq(overlap, "o");
    char with[512];
    snprintf(with, sizeof with, "%s --set transport.plugin=mpi", overlap);
    CU_ASSERT_EQUAL_FATAL(run_compressed("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                                         "ASAN_OPTIONS=detect_leaks=0 mpirun --oversubscribe -n 3",
                                         "o-mpi/out", with), 0);
    CU_ASSERT_TRUE(test_same_file(model_of("o-shm/out"), model_of("o-mpi/out")));
    double first, last;
    first_and_last_loss("o-shm", &first, &last);
    CU_ASSERT(last < 0.5 * first);
    /* the compression is really on: the plain overlap run differs */
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "o-plain/out", "--set algorithm.type=overlap_local_sgd "
                                         "--set compression.plugin=none "
                                         "--set compression.params={}"), 0);
    CU_ASSERT_FALSE(test_same_file(model_of("o-shm/out"), model_of("o-plain/out")));
}

LSGD_TEST(compression, overlap_compressed_through_none_equals_the_uncompressed_overlap_within_float_rounding)
{
    new_work_dir();
    const char *none = "--set algorithm.type=overlap_local_sgd --set compression.plugin=none "
                       "--set compression.params={}";
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "n-none/out", none), 0);
    /* the same run without the compression section, from a copy of the config */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && sed '/\"compression\"/d' '%s' > plain.json && '%s' run "
             "plain.json --force --set output.dir=n-plain/out --set "
             "algorithm.type=overlap_local_sgd", work, compressed_config(),
             test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 120);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    char dir[4300];
    size_t n_none, n_plain;
    snprintf(dir, sizeof dir, "%s/n-none", work);
    float *with = read_model(dir, &n_none);
    snprintf(dir, sizeof dir, "%s/n-plain", work);
    float *without = read_model(dir, &n_plain);
    CU_ASSERT_FATAL(with && without && n_none == n_plain && n_none == 244);
    /* z + mean(post − z) against mean(post): a few roundings of ~1 apart */
    for (size_t i = 0; i < n_none; i++)
        CU_ASSERT_DOUBLE_EQUAL(with[i], without[i], 1e-5 * (1 + fabs(without[i])));
    free(with);
    free(without);
}

LSGD_TEST(compression, compression_composes_with_scaffold_and_an_outer_optimizer_bitwise_on_shm_and_zmq)
{
    new_work_dir();
    const char *sets = "--set algorithm.type=scaffold --set outer.plugin=sgd "
                       "--set outer.lr=0.7 --set outer.params.momentum=0.9 "
                       "--set compression.plugin=powersgd --set compression.params={\\\"rank\\\":2}";
    expect_bitwise_on_shm_and_zmq(sets, "s");
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "s-plain", "--set algorithm.type=scaffold"), 0);
    CU_ASSERT_FALSE(test_same_file(model_of("s-shm/out"), model_of("s-plain")));
}

/* A run stopped after round 5 and resumed ends bitwise as the whole run,
 * with the options in sets. */
static void expect_resume_bitwise(const char *sets)
{
    new_work_dir();
    char with[1024], resumed[1100], without[1100];
    snprintf(with, sizeof with, "--set output.checkpoint_every=1 %s", sets);
    snprintf(resumed, sizeof resumed, "%s --resume", with);
    snprintf(without, sizeof without, "%s --set compression.error_feedback=false", with);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "c-whole", with), 0);
    CU_ASSERT_NOT_EQUAL(run_compressed("LSGD_FAULT_STOP_AFTER_ROUND=5", "c-resumed", with), 0);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "c-resumed", resumed), 0);
    CU_ASSERT_TRUE(test_same_file(model_of("c-whole"), model_of("c-resumed")));
    /* what feedback keeps matters: without it the run differs */
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "c-no-ef", without), 0);
    CU_ASSERT_FALSE(test_same_file(model_of("c-whole"), model_of("c-no-ef")));
}

LSGD_TEST(compression, a_resumed_compressed_run_ends_bitwise_as_the_uninterrupted_one)
{
    expect_resume_bitwise("");
}

LSGD_TEST(compression, a_resumed_compressed_overlap_run_ends_bitwise_as_the_uninterrupted_one)
{
    expect_resume_bitwise("--set algorithm.type=overlap_local_sgd");
}

LSGD_TEST(compression, a_resumed_ef21_powersgd_run_ends_bitwise_as_the_uninterrupted_one)
{
    expect_resume_bitwise("--set compression.error_feedback='\"ef21\"' "
                          "--set compression.plugin=powersgd --set compression.params={}");
}

/* bytes_sent of every round of the run in dir/out, summed. */
static double bytes_sent(const char *dir)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", work, dir);
    metrics_table t;
    CU_ASSERT_EQUAL_FATAL(read_metrics(&t, path), 0);
    int col = column(&t, "bytes_sent");
    double total = 0;
    for (size_t row = 0; row < t.rows; row++)
        total += value(&t, row, col);
    metrics_free(&t);
    return total;
}

LSGD_TEST(compression, bytes_sent_differ_between_codecs_by_exactly_their_encoded_sizes)
{
    new_work_dir();
    /* the mlp 10-16-4: dim 244; 10 rounds of 3 workers, each sending its
     * payload once through shm's broadcast */
    const double dim = 244, rounds = 10, workers = 3;
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "b-int8/out", ""), 0);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "b-none/out", "--set compression.plugin=none "
                                         "--set compression.params={}"), 0);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "b-topk/out", "--set compression.plugin=topk "
                                         "--set compression.params.fraction=0.1"), 0);
    double none = 4 * dim, int8 = dim + 4 * 4, topk = 8 * 25; /* k = ⌈24.4⌉ */
    CU_ASSERT_DOUBLE_EQUAL(bytes_sent("b-none") - bytes_sent("b-int8"),
                           rounds * workers * (none - int8), 0.5);
    CU_ASSERT_DOUBLE_EQUAL(bytes_sent("b-none") - bytes_sent("b-topk"),
                           rounds * workers * (none - topk), 0.5);
}

LSGD_TEST(compression, overlap_bytes_sent_differ_between_codecs_by_exactly_their_encoded_sizes)
{
    new_work_dir();
    /* a round reports the exchange that completed in it: rounds 2 … 10
     * report the exchanges posted in rounds 1 … 9, each an all-gather of
     * every worker's payload through shm */
    const double dim = 244, reported = 9, workers = 3;
    const char *overlap = "--set algorithm.type=overlap_local_sgd";
    char with[512];
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "ob-int8/out", overlap), 0);
    snprintf(with, sizeof with, "%s --set compression.plugin=none --set compression.params={}",
             overlap);
    CU_ASSERT_EQUAL_FATAL(run_compressed("", "ob-none/out", with), 0);
    double none = 4 * dim, int8 = dim + 4 * 4;
    CU_ASSERT(bytes_sent("ob-int8") > 0);
    CU_ASSERT_DOUBLE_EQUAL(bytes_sent("ob-none") - bytes_sent("ob-int8"),
                           reported * workers * (none - int8), 0.5);
}

LSGD_TEST(compression, validate_refuses_compression_where_no_pseudo_gradient_is_averaged)
{
    static const char *const refused[][2] = {
        {"--set algorithm.type=minibatch_sgd", "minibatch_sgd averages gradients"},
        {"--set algorithm.type=local_gd --set algorithm.local_gd.variant=regularized",
         "regularized local_gd"},
        {"--set algorithm.type=post_local_sgd", "compression: post_local_sgd"},
        {"--set algorithm.type=fedavg", "compression: fedavg"},
        {"--set compression.error_feedback=2", "compression.error_feedback"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "'%s' validate '%s' %s", test_build_path("bin/lsgd"),
                 compressed_config(), refused[i][0]);
        test_output o = test_run(cmd, 30);
        CU_ASSERT_EQUAL(o.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, refused[i][1]));
        CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
        test_output_free(&o);
    }
}

/* ---- the compressed average's recurrences, one worker, against the codec --- */

/* A compressed average of one worker (no transport needed) on a quadratic
 * of dim 50 with topk 20%, and feedback as given. */
static lsgd_compression *one_worker(lsgd_model **model, const char *feedback)
{
    lsgd_error err;
    json_t *m = json_pack("{s:s, s:s, s:i}", "type", "quadratic", "problem", "diagonal", "dim", 50);
    CU_ASSERT_EQUAL_FATAL(lsgd_model_create(model, m, NULL, &err), LSGD_OK);
    json_decref(m);
    char text[256];
    snprintf(text, sizeof text, "{\"compression\": {\"plugin\": \"topk\", \"params\": "
             "{\"fraction\": 0.2}, \"error_feedback\": %s}}", feedback);
    json_t *cfg = json_loads(text, 0, NULL);
    lsgd_compression *c;
    CU_ASSERT_EQUAL_FATAL(lsgd_compression_open(&c, cfg, scaling_test_registry(), *model, 1, 0, 1,
                                                &err), LSGD_OK);
    json_decref(cfg);
    return c;
}

/* x[dim] ← the compressed average of x from base: blocking, or as
 * overlap does it, posted from the anchor base and collected. */
static int compressed_average(lsgd_compression *c, const float *base, float *x, int nonblocking,
                              lsgd_error *err)
{
    if (!nonblocking)
        return lsgd_compression_average(c, NULL, x, err);
    float *parts;
    size_t part_floats;
    if (lsgd_compression_post(c, base, x, &parts, &part_floats, err))
        return err->code;
    return lsgd_compression_collect(c, x, err);
}

/* Three rounds of x_r (random, a fresh base each round) through c, and
 * through the recurrence written out here with the same codec. */
static void expect_recurrence(const char *feedback, int ef21, int nonblocking)
{
    enum { DIM = 50 };
    lsgd_model *model;
    lsgd_compression *c = one_worker(&model, feedback);
    lsgd_compressor codec;
    open_ok(&codec, "topk", "{\"fraction\": 0.2}", DIM);
    float base[DIM] = {0}, e[DIM] = {0}, G[DIM] = {0}, v[DIM], d[DIM], want[DIM], x[DIM];
    unsigned char bytes[8 * 10];
    size_t size, wrong = 0;
    lsgd_error err;
    lsgd_compression_rebase(c, base);
    for (int round = 0; round < 3; round++) {
        float *r = normal_vector(DIM, 20 + (uint64_t)round, 1.0);
        for (size_t i = 0; i < DIM; i++) {
            x[i] = base[i] + r[i];
            v[i] = ef21 ? r[i] - e[i] : r[i] + e[i];
        }
        lsgd_compressor_encode(&codec, v, bytes, &size, &err);
        memset(d, 0, sizeof d);
        lsgd_compressor_decode(&codec, bytes, size, d, &err);
        for (size_t i = 0; i < DIM; i++) {
            e[i] = ef21 ? e[i] + d[i] : v[i] - d[i];
            G[i] += d[i];
            want[i] = base[i] + (ef21 ? G[i] : d[i]);
        }
        CU_ASSERT_EQUAL(compressed_average(c, base, x, nonblocking, &err), LSGD_OK);
        for (size_t i = 0; i < DIM; i++)
            wrong += x[i] != want[i];
        memcpy(base, x, sizeof x); /* as communicate_models rebases */
        lsgd_compression_rebase(c, x);
        free(r);
    }
    CU_ASSERT_EQUAL(wrong, 0);
    lsgd_compressor_close(&codec);
    lsgd_compression_close(c);
    lsgd_model_destroy(model);
}

LSGD_TEST(compression, error_feedback_carries_what_topk_left_behind_into_the_next_round)
{
    expect_recurrence("true", 0, 0);
}

LSGD_TEST(compression, ef21_applies_the_mean_of_the_estimates_each_moved_by_its_compressed_gap)
{
    expect_recurrence("\"ef21\"", 1, 0);
}

LSGD_TEST(compression, overlap_posts_its_change_from_the_anchor_and_takes_the_anchor_plus_the_decoded_mean_with_ef_and_ef21)
{
    expect_recurrence("true", 0, 1);
    expect_recurrence("\"ef21\"", 1, 1);
}

/* ---- a peer's slot is input from outside ------------------------------------- */

/* FAKE transport for fault injection: rank 0 of 2, whose allgather
 * delivers rank 1's slot claiming a payload of 2^40 bytes. */
static int fake_open(void **self, const lsgd_params *p, const lsgd_transport_info *info,
                     lsgd_error *err)
{
    *self = NULL;
    return LSGD_OK;
}

static void fake_close(void *self)
{
}

static int fake_mean(void *self, float *data, size_t n, lsgd_error *err)
{
    return LSGD_OK;
}

static int fake_broadcast(void *self, float *data, size_t n, int root, lsgd_error *err)
{
    return LSGD_OK;
}

static int fake_barrier(void *self, lsgd_error *err)
{
    return LSGD_OK;
}

static int fake_hostile_allgather(void *self, float *data, size_t n, lsgd_error *err)
{
    uint64_t huge = (uint64_t)1 << 40;
    memcpy(data + n, &huge, sizeof huge); /* rank 1's size */
    return LSGD_OK;
}

LSGD_TEST(compression, a_peer_claiming_a_payload_beyond_any_encoding_is_refused_naming_its_rank)
{
    static const lsgd_transport_ops ops = {
        .struct_size = sizeof ops, .open = fake_open, .close = fake_close,
        .allreduce_mean = fake_mean, .broadcast = fake_broadcast, .barrier = fake_barrier,
        .allgather = fake_hostile_allgather};
    const lsgd_plugin plugin = {.struct_size = sizeof plugin, .abi_major = LSGD_ABI_MAJOR,
                                .kind = LSGD_KIND_TRANSPORT, .name = "fake-hostile",
                                .version = "0", .ops = &ops};
    json_t *none = json_object();
    lsgd_params params;
    lsgd_params_view(&params, none);
    lsgd_transport_info info = {.struct_size = sizeof info, .rank = 0, .world = 2,
                                .run_id = "fake"};
    lsgd_transport *t;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_transport_open_plugin(&t, &plugin, &params, NULL, &info, &err),
                          LSGD_OK);
    unsigned char mine[16] = {1, 2, 3};
    float all[2 * 6];
    const void *payloads[2];
    size_t sizes[2];
    CU_ASSERT_EQUAL(lsgd_gather_bytes(t, 0, 2, mine, 16, 16, all, payloads, sizes, &err),
                    LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "rank 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "1099511627776 bytes"));
    lsgd_transport_close(t);
    json_decref(none);
}
