/*
 * compression.h — compressed averaging of the models (config
 * "compression": {"plugin", "params", "error_feedback"}): what travels at
 * a blocking average is each worker's pseudo-gradient, its change since
 * the last average, encoded by a compressor plugin (lsgd/compressor.h).
 *
 * At each average, on worker m with base x̄ (the model every worker
 * agreed on last) and Δ_m = x_m − x̄ its change:
 *
 *   v_m = Δ_m + e_m              e_m the residual (0 without feedback)
 *   bytes_m = E(v_m);   e_m ← v_m − D(bytes_m)        (error feedback, EF)
 *   every worker gets every bytes_r (an all-gather, host/gather.h)
 *   x = x̄ + (D(bytes_0) + … + D(bytes_{M−1})) / M,  summed in rank order
 *
 * or, with "error_feedback": "ef21" (Richtárik et al. 2021), each worker
 * keeps an estimate g_m of its change and every worker the mean G of the
 * estimates:
 *
 *   bytes_m = E(Δ_m − g_m);   g_m ← g_m + D(bytes_m)
 *   G ← G + (D(bytes_0) + … + D(bytes_{M−1})) / M;   x = x̄ + G
 *
 * so every worker ends with the same bits on every transport.  The base,
 * the residual, the plugin's state and its round are checkpointed.
 *
 * Like the outer optimizer (engine/outer.h) it is a hook of the blocking
 * average of the models (lsgd_run_communicate_models), so it composes with
 * every method whose round ends there.  Overlap-Local-SGD, which never
 * blocks, uses its two halves around a background all-gather
 * (lsgd_transport_iallgather_mean): post encodes the change of its post
 * from the anchor z every worker shares, collect decodes once every
 * payload has arrived, so z ← z + mean of the decoded changes.  A method
 * that ends its rounds otherwise refuses `compression` in its check.
 */
#ifndef LSGD_ENGINE_COMPRESSION_H
#define LSGD_ENGINE_COMPRESSION_H

#include <jansson.h>

#include "engine/algorithm.h"
#include "host/registry.h"
#include "host/transport_host.h"
#include "models/model.h"

typedef struct lsgd_compression lsgd_compression;

/* "compression: <algorithm> <why>" when cfg has compression, else
 * LSGD_OK: for the check of a method that cannot take it. */
int lsgd_compression_refuse(const json_t *cfg, const char *algorithm, const char *why,
                            lsgd_error *err);

/* *out NULL when cfg has no "compression"; otherwise the plugin opened on
 * the model's tensors (model.json's description). */
int lsgd_compression_open(lsgd_compression **out, const json_t *cfg, const lsgd_registry *reg,
                          const lsgd_model *model, uint64_t seed, int rank, int world,
                          lsgd_error *err);
void lsgd_compression_close(lsgd_compression *c);

/* The model every worker agrees on now (x₀, or the model after an outer
 * step): the next pseudo-gradient is measured from it. */
void lsgd_compression_rebase(lsgd_compression *c, const float *x);

/* x[dim] ← the base plus the mean of the workers' decoded pseudo-gradients
 * (above).  The caller rebases once the round's model is final. */
int lsgd_compression_average(lsgd_compression *c, lsgd_transport *t, float *x, lsgd_error *err);

/* The non-blocking form (Overlap-Local-SGD): the base becomes anchor[dim],
 * and this worker's payload for post[dim] (v as above, the residual or
 * g_m moved as above) is packed into *parts, a buffer of world ×
 * *part_floats floats for lsgd_transport_iallgather_mean to fill with every
 * worker's.  Untouched until lsgd_compression_collect. */
int lsgd_compression_post(lsgd_compression *c, const float *anchor, const float *post,
                          float **parts, size_t *part_floats, lsgd_error *err);

/* Once that all-gather completed: x[dim] ← the anchor plus the mean of the
 * decoded payloads, in rank order (EF21: the anchor plus G). */
int lsgd_compression_collect(lsgd_compression *c, float *x, lsgd_error *err);

/* Its checkpoint records (base, residual or g_m, EF21's G, the plugin's
 * round and state)
 * into out[LSGD_COMPRESSION_RECORDS]; 0 when c is NULL. */
enum { LSGD_COMPRESSION_RECORDS = 5 };
size_t lsgd_compression_records(const lsgd_compression *c, lsgd_record *out);

#endif
