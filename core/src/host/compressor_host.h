/*
 * compressor_host.h — a loaded compressor plugin with its host-owned state
 * and round counter, and the compressed average built on it.
 *
 * The plugin's side (call order, what each op may assume and must do) is
 * the contract in lsgd/compressor.h; these wrappers keep the host's side:
 * buffers sized from max_encoded_bytes, an encode that claims more bytes
 * than it was given refused, peers' bytes longer than any encoding refused
 * before the plugin reads them, the round counted, the state allocated
 * (state[state_count] and round are what a checkpoint keeps: the engine's
 * compression records).  A round on one worker:
 *
 *   lsgd_compressor_encode(&c, v, bytes, &size, &err);     // this worker's v
 *   (transport: every worker gets every worker's bytes)
 *   lsgd_compressor_mean(&c, delta, payloads, sizes, M, &err);
 *   lsgd_compressor_feedback(&c, residual, v, bytes, size, &err);  // EF: e = v − D(E(v))
 */
#ifndef LSGD_COMPRESSOR_HOST_H
#define LSGD_COMPRESSOR_HOST_H

#include <jansson.h>

#include "host/loader.h"
#include "lsgd/compressor.h"

typedef struct lsgd_compressor {
    lsgd_loaded loaded;
    const lsgd_compressor_ops *ops;
    void *self;
    json_t *params;      /* validated */
    lsgd_params view;
    const char *name;    /* the plugin's name, for messages */
    char who[384];       /* "compressor plugin 'int8'" */
    size_t dim;
    size_t max_bytes;    /* max_encoded_bytes */
    size_t state_count;  /* floats of state */
    float *state;        /* [state_count], NULL when 0 */
    float *scratch;      /* [dim] for feedback */
    uint64_t round;      /* encodes so far */
} lsgd_compressor;

/* cfg is {"plugin": name, "params": {...}} at config_key ("compression"). */
int lsgd_compressor_open(lsgd_compressor *c, const lsgd_registry *reg, const json_t *cfg,
                         const char *config_key, const lsgd_compressor_info *info,
                         lsgd_error *err);
void lsgd_compressor_close(lsgd_compressor *c);

/* The second half of open, for a descriptor already loaded (tests): check
 * the ops table, create, size the buffers, allocate the state zeroed.  c
 * must be zero-initialised; undo with lsgd_compressor_detach. */
int lsgd_compressor_attach(lsgd_compressor *c, const lsgd_plugin *plugin,
                           const lsgd_params *params, const lsgd_compressor_info *info,
                           lsgd_error *err);
void lsgd_compressor_detach(lsgd_compressor *c);

/* bytes[0 .. *size) ← E(in[dim]); bytes holds max_bytes.  Counts a round. */
int lsgd_compressor_encode(lsgd_compressor *c, const float *in, void *bytes, size_t *size,
                           lsgd_error *err);

/* out[dim] += D(bytes[0 .. size)). */
int lsgd_compressor_decode(lsgd_compressor *c, const void *bytes, size_t size, float *out,
                           lsgd_error *err);

/* out[dim] ← (D(p_0) + D(p_1) + … + D(p_{M−1})) / M, summed in rank order,
 * divided as lsgd_mean_in_rank_order divides; M ≥ 1. */
int lsgd_compressor_mean(lsgd_compressor *c, float *out, const void *const *payloads,
                         const size_t *sizes, int M, lsgd_error *err);

/* Error feedback: residual[dim] ← in − D(bytes), what encoding lost. */
int lsgd_compressor_feedback(lsgd_compressor *c, float *residual, const float *in,
                             const void *bytes, size_t size, lsgd_error *err);

/* The tensors of model.json's description ({"dim", "tensors": [{"shape",
 * "offset"}…]}) as compressors see them: rows = shape[0], cols = the
 * product of the rest (1 for a vector).  They must cover [0, dim) in order;
 * a description without tensors is one dim × 1 tensor.  *out is malloc'd. */
int lsgd_compressor_tensors(lsgd_tensor_shape **out, size_t *count, const json_t *model,
                            size_t dim, lsgd_error *err);

#endif
