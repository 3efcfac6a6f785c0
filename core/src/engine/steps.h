/*
 * steps.h — what every algorithm's rounds are made of (docs/algorithms.md
 * §1, §6): minibatches and gradients, the scaling step of Local SGD, timed
 * averages that carry the report, the scaling policy at communication,
 * the blocking average of the models that ends most rounds, and failures
 * that say where (round, step, worker, last checkpoint).
 *
 * Each returns LSGD_OK or the error's code with err filled and located.
 */
#ifndef LSGD_STEPS_H
#define LSGD_STEPS_H

#include "engine/run.h"

/* ---- failures ---- */
/* A failed step or collective, located; a signal explains a peer's loss. */
int lsgd_run_failed(lsgd_run *run, lsgd_error *err);
int lsgd_run_interrupted(lsgd_run *run, lsgd_error *err);
/* A step the scaling host refused: a diverged gradient g[dim], or another failure. */
int lsgd_run_step_failed(lsgd_run *run, const float *g, lsgd_error *err);

/* ---- communication, timed into the round's comm_s ---- */
int lsgd_run_average(lsgd_run *run, float *data, size_t n, lsgd_error *err);
/* data[dim] averaged with the outbox report riding in data[dim … dim + slots). */
int lsgd_run_average_with_report(lsgd_run *run, float *data, lsgd_error *err);
/* x ← x̄: the models' average with the report, or, with compression
 * (engine/compression.h), the compressed average of the changes from the
 * compression's base and the report in an average of its own. */
int lsgd_run_average_models(lsgd_run *run, lsgd_error *err);

/* ---- minibatches and gradients ---- */
/* run->batch: the next minibatch, or the whole shard for full-batch methods. */
void lsgd_run_next_batch(lsgd_run *run);
/* g = ∇f(x) on run->batch; *loss its loss (a non-finite loss is divergence). */
int lsgd_run_gradient(lsgd_run *run, const float *x, float *g, double *loss, lsgd_error *err);
/* The scaling context at x with gradient g on the current batch. */
const lsgd_scaling_ctx *lsgd_run_context(lsgd_run *run, const float *x, const float *g);
void lsgd_run_note_loss(lsgd_run *run, double loss);
/* ‖g‖ of the round's last step, for its report. */
void lsgd_run_note_gradient_norm(lsgd_run *run);

/* ---- local steps ---- */
/* A change of the gradient g[dim] at run->x before the scaling step (a
 * proximal term, a control variate); NULL: the plain gradient. */
typedef void (*lsgd_gradient_fix)(lsgd_run *run, float *g);
/* One step of Local SGD (§1.1): x ← x − γ·D̂⁻¹·direction(g) on this worker,
 * g the minibatch gradient changed by fix. */
int lsgd_run_local_step(lsgd_run *run, int last_of_round, lsgd_gradient_fix fix,
                        lsgd_error *err);
/* One step of minibatch SGD (§5.1): the minibatch gradient averaged over
 * the workers (the outbox report riding on it), then the scaling step, so
 * every worker's model stays the same; an HVP statistic is averaged too. */
int lsgd_run_synchronous_step(lsgd_run *run, int last_of_round, lsgd_error *err);
/* Steps until run->step == end (interrupts checked before each); step_fn is
 * told whether it takes the round's last step. */
typedef int (*lsgd_step_fn)(lsgd_run *run, int last_of_round, lsgd_error *err);
int lsgd_run_each_step(lsgd_run *run, uint64_t end, lsgd_step_fn step_fn, lsgd_error *err);

/* ---- at communication ---- */
/* This worker's share of the drift, ‖x_before − centre‖² (when measured). */
void lsgd_run_measure_drift(lsgd_run *run, const float *centre);
/* x_before ← x (when kept for drift or margins). */
void lsgd_run_keep_before(lsgd_run *run);
/* scaling.refresh: sync and scaling.state (§1.3, §1.4). */
int lsgd_run_scaling_policy(lsgd_run *run, lsgd_error *err);
int lsgd_run_sync_refresh(lsgd_run *run, lsgd_error *err);
int lsgd_run_reset_scaling(lsgd_run *run, lsgd_error *err);
/* The end of a round whose models never drifted apart (every step was
 * synchronous): drift 0, the scaling policy. */
int lsgd_run_communicate_nothing(lsgd_run *run, lsgd_error *err);
/* The blocking end of a round: x ← x̄ (with the report), drift, the outer
 * optimizer's step when there is one, the scaling policy. */
int lsgd_run_communicate_models(lsgd_run *run, lsgd_error *err);

#endif
