/*
 * compression.h — compressed averaging of the models (config
 * "compression": {"plugin", "params", "error_feedback"}): what travels at
 * a blocking average is each worker's pseudo-gradient, its change since
 * the last average, encoded by a compressor plugin (lsgd/compressor.h).
 *
 * At each average, on worker m with base x̄ (the model every worker
 * agreed on last):
 *
 *   v_m = (x_m − x̄) + e_m          e_m the residual (0 without feedback)
 *   bytes_m = E(v_m);   e_m ← v_m − D(bytes_m)        (error feedback)
 *   every worker gets every bytes_r (an all-gather, host/gather.h)
 *   x = x̄ + (D(bytes_0) + … + D(bytes_{M−1})) / M,  summed in rank order
 *
 * so every worker ends with the same bits on every transport.  The base,
 * the residual, the plugin's state and its round are checkpointed.
 */
#ifndef LSGD_ENGINE_COMPRESSION_H
#define LSGD_ENGINE_COMPRESSION_H

#include <jansson.h>

#include "host/registry.h"
#include "host/transport_host.h"
#include "models/model.h"

typedef struct lsgd_compression lsgd_compression;

/* The combinations compression cannot serve, refused with the reason
 * (LSGD_ERR_INPUT): algorithm is settings' algorithm.type. */
int lsgd_compression_check(const json_t *cfg, const char *algorithm, int gd_regularized,
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
 * (above); the base becomes x. */
int lsgd_compression_average(lsgd_compression *c, lsgd_transport *t, float *x, lsgd_error *err);

/* Checkpoint record: base, residual, the plugin's round and state. */
size_t lsgd_compression_state_size(const lsgd_compression *c);
int lsgd_compression_state_save(const lsgd_compression *c, void *bytes, size_t size,
                                lsgd_error *err);
int lsgd_compression_state_load(lsgd_compression *c, const void *bytes, size_t size,
                                lsgd_error *err);

#endif
