/*
 * lsgd/compressor.h — compressor plugins: what travels between workers at
 * an average, and how it is read back.
 *
 * At a communication round each worker m holds a vector v_m[dim] (its
 * change since the last average, with the error-feedback residual added in
 * when that is on).  It encodes v_m into bytes; every worker receives every
 * worker's bytes and adds their decoded contributions together in rank
 * order, then divides by M:
 *
 *     x̄ − x_prev = (1/M) · (D(E(v_0)) + D(E(v_1)) + … + D(E(v_{M−1})))
 *
 * so that, as for the uncompressed average (lsgd/transport.h), one config
 * and seed give bitwise the same model on every transport.  The host keeps
 * the error-feedback residual e_m = v_m − D(E(v_m)) itself: a plugin only
 * encodes and decodes.
 *
 * The contract of a compressor plugin.  MUST and MAY bind the plugin; "the
 * host" promises the rest.
 *
 * The table: struct_size = sizeof(lsgd_compressor_ops) and the required
 * ops set (create, destroy, max_encoded_bytes, encode, decode).  The host
 * refuses any other table before its first call, naming the missing op,
 * and uses an optional op (state_floats) only when LSGD_HAS_OP
 * (lsgd/plugin.h) says it is there.
 *
 * Life of one instance (one per worker):
 *
 *     create → max_encoded_bytes → state_floats? → { encode | decode }* → destroy
 *
 *   - If create succeeds, the host calls destroy exactly once at the end
 *     (when *self is not NULL).  If create fails, it calls nothing else.
 *   - max_encoded_bytes and state_floats are called once, after create;
 *     the host sizes every buffer from them.
 *   - Each round the host calls encode once on this worker's vector, then
 *     decode once per worker's bytes, rank 0 first — its own bytes
 *     included, and once more on its own bytes when it keeps a residual.
 *   - decode MUST depend only on self (what create derived from its
 *     parameters and info) and on the bytes: every worker decodes the same
 *     bytes to the same bits.  It MUST NOT change self or the state.
 *   - encode MAY depend on the state and the round, and MAY change the
 *     state (PowerSGD keeps its warm start there).  Everything that
 *     changes during training MUST live in the state, which the host
 *     allocates (state_floats floats, zeroed), checkpoints and restores;
 *     self holds only what create derived.  Randomness (stochastic
 *     rounding) MUST come from info->seed, info->rank and round, so a run
 *     repeats and a resumed run continues as the uninterrupted one.
 *   - Bytes from another worker are input from outside: decode MUST check
 *     them (size, indices, counts) and fail with LSGD_ERR_INPUT rather than
 *     read or write out of bounds.
 *   - The host never calls two ops of one instance at the same time, but
 *     makes no promise about which thread calls.  Different instances MUST
 *     be able to run at the same time: nothing in globals.
 *   - Inside any op a plugin MUST NOT print (say it in err), exit, abort,
 *     raise signals, block or sleep; encode and decode SHOULD NOT
 *     allocate.  They MAY write scratch memory create allocated (reached
 *     through self), as long as nothing left in it matters to a later
 *     call.
 *   - Every op returning int returns 0 on success and anything else on
 *     failure (lsgd/plugin.h).  After a failure the host stops the run.
 *
 * The bytes are the wire format: the count encode returns is exactly what
 * the transport sends (the run's bytes_sent), so a plugin SHOULD write no
 * padding, and MUST write its numbers little-endian (the host is).
 */
#ifndef LSGD_COMPRESSOR_H
#define LSGD_COMPRESSOR_H

#include "lsgd/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One tensor of the model: values [offset, offset + rows·cols) of the flat
 * vector, row-major rows × cols (a bias or a vector is rows × 1). */
typedef struct lsgd_tensor_shape {
    size_t offset, rows, cols;
} lsgd_tensor_shape;

/* What the host tells create; valid during create only: copy what you keep. */
typedef struct lsgd_compressor_info {
    size_t struct_size;
    size_t dim;        /* ≥ 1: the length of every vector encoded */
    uint64_t seed;     /* the run's seed */
    int rank, world;   /* this worker, and how many there are */
    /* The model's tensors in order, covering [0, dim) without gaps (as
     * model.json describes them); one dim × 1 tensor when the model says
     * nothing finer.  n_tensors ≥ 1. */
    const lsgd_tensor_shape *tensors;
    size_t n_tensors;
} lsgd_compressor_info;

typedef struct lsgd_compressor_ops {
    size_t struct_size; /* sizeof(lsgd_compressor_ops) */

    /* Required.  Called first, once per instance.  params holds the
     * manifest's parameters, validated with defaults filled (lsgd/plugin.h).
     * MUST set *self (MAY be NULL).  On failure MUST free what it allocated
     * and return non-zero: LSGD_ERR_INPUT for a parameter the model cannot
     * take (a rank larger than a matrix allows, …). */
    int (*create)(void **self, const lsgd_params *params, const lsgd_compressor_info *info,
                  lsgd_error *err);

    /* Required.  Called once, last.  MUST free what create allocated. */
    void (*destroy)(void *self);

    /* Required.  The most bytes encode can ever write for this instance,
     * ≥ 1; the host gives encode (and every peer's bytes) at most this. */
    size_t (*max_encoded_bytes)(const void *self);

    /* Required.  bytes[0 .. *written) ← the encoding of in[dim], with
     * *written ≤ cap (cap is max_encoded_bytes).  round counts encodes from
     * 1 (checkpointed by the host).  state is [state_floats] (NULL when
     * there is none).  MUST NOT change in.  A non-finite input MAY be
     * refused with LSGD_ERR_RUNTIME. */
    int (*encode)(const void *self, float *state, const float *in, uint64_t round, void *bytes,
                  size_t cap, size_t *written, lsgd_error *err);

    /* Required.  out[dim] += the vector bytes[0 .. size) encodes: added in,
     * never stored, so that the host sums every worker's contribution in
     * rank order in one buffer.  Bytes that are not a valid encoding (size,
     * indices) are LSGD_ERR_INPUT, with out untouched. */
    int (*decode)(const void *self, const void *bytes, size_t size, float *out,
                  lsgd_error *err);

    /* Optional: how many floats of state encode keeps between rounds (0
     * when absent).  The same parameters and info MUST give the same count:
     * a checkpoint is loaded only into the count it was saved from. */
    size_t (*state_floats)(const void *self);
} lsgd_compressor_ops;

/* Little-endian helpers for the wire format (the host is little-endian,
 * so these are copies; they keep unaligned access defined). */
static inline void lsgd_put_u32(unsigned char *p, uint32_t v)
{
    __builtin_memcpy(p, &v, sizeof v);
}

static inline uint32_t lsgd_get_u32(const unsigned char *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void lsgd_put_f32(unsigned char *p, float v)
{
    __builtin_memcpy(p, &v, sizeof v);
}

static inline float lsgd_get_f32(const unsigned char *p)
{
    float v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/* A 64-bit mix (splitmix64's finaliser): encode's random stream is
 * lsgd_mix64(seed ^ lsgd_mix64(rank ^ lsgd_mix64(round))) stepped by a
 * golden-ratio increment, or any other function of those three. */
static inline uint64_t lsgd_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#ifdef __cplusplus
}
#endif
#endif
