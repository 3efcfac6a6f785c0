/*
 * rounds.c — the loop over communication rounds (docs/algorithms.md §1–§5).
 *
 * Round r runs the local steps t_{r−1} … t_r − 1 and ends with the
 * algorithm's communication:
 *   local_sgd, local_gd   blocking average of the models (+ outer step)
 *   minibatch_sgd         gradients averaged every step; nothing at the end
 *   overlap_local_sgd     take the finished average as anchor, pull back,
 *                         post the next non-blocking average, go on
 * then the scaling policy (refresh: sync; state: average | reset), the
 * round's report, a checkpoint when due.  Every average carries the
 * previous round's report in slots after the data (report.c), so metrics
 * cost no extra collective.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/overlap.h"
#include "engine/run.h"
#include "util/vec.h"

double lsgd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- failures, with where they happened ---- */

static void checkpoint_hint(const lsgd_run *run, char *out, size_t n)
{
    char path[4200];
    lsgd_snapshot_path(path, sizeof path, run, 0);
    if (run->checkpoint_round)
        snprintf(out, n, "last good checkpoint: %s (round %llu)", path,
                 (unsigned long long)run->checkpoint_round);
    else if (run->set.checkpoint_every == 0 && run->set.checkpoint_seconds == 0)
        snprintf(out, n, "no checkpoint (output.checkpoint_every and "
                 "output.checkpoint_seconds are 0)");
    else
        snprintf(out, n, "no checkpoint written yet (output.checkpoint_every %llu, "
                 "output.checkpoint_seconds %g)", (unsigned long long)run->set.checkpoint_every,
                 run->set.checkpoint_seconds);
}

static int interrupted(lsgd_run *run, lsgd_error *err)
{
    char hint[4400];
    checkpoint_hint(run, hint, sizeof hint);
    return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                          "worker %d interrupted by a signal at round %llu, step %llu; %s%s",
                          run->rank, (unsigned long long)run->round + 1,
                          (unsigned long long)run->step, hint,
                          run->checkpoint_round ? "; continue with --resume" : "");
}

static int failed(lsgd_run *run, lsgd_error *err);

/* what: "loss" or "gradient coordinate 19"; step counted from 1. */
static int diverged(lsgd_run *run, const char *what, double value, lsgd_error *err)
{
    char hint[4400];
    checkpoint_hint(run, hint, sizeof hint);
    return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                          "%s became %s at round %llu, step %llu on worker %d "
                          "(lower algorithm.lr?); %s", what,
                          isnan(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf",
                          (unsigned long long)run->round + 1,
                          (unsigned long long)run->step + 1, run->rank, hint);
}

/* A step refused by the scaling host: a diverged gradient, or another failure. */
static int step_failed(lsgd_run *run, const float *g, lsgd_error *err)
{
    size_t bad = lsgd_first_nonfinite(g, run->dim);
    if (bad == run->dim)
        return failed(run, err);
    char what[64];
    snprintf(what, sizeof what, "gradient coordinate %zu", bad);
    return diverged(run, what, g[bad], err);
}

/* A failed step or collective: say where; a signal explains a peer's loss. */
static int failed(lsgd_run *run, lsgd_error *err)
{
    if (lsgd_interrupted)
        return interrupted(run, err);
    if (err->code == LSGD_ERR_RUNTIME) {
        char hint[4400];
        checkpoint_hint(run, hint, sizeof hint);
        size_t len = strlen(err->message);
        snprintf(err->message + len, sizeof err->message - len, " (worker %d, round %llu; %s)",
                 run->rank, (unsigned long long)run->round + 1, hint);
    }
    return err->code;
}

/* ---- communication, timed ---- */

static int average(lsgd_run *run, float *data, size_t n, lsgd_error *err)
{
    double t0 = lsgd_now();
    int rc = lsgd_transport_allreduce_mean(run->transport, data, n, err);
    run->round_comm_s += lsgd_now() - t0;
    return rc ? failed(run, err) : LSGD_OK;
}

/* data[dim] averaged, with the outbox report riding in the slots after it. */
static int average_with_report(lsgd_run *run, float *data, lsgd_error *err)
{
    lsgd_report_pack(run, data + run->dim);
    if (average(run, data, run->dim + run->slots, err))
        return err->code;
    return lsgd_report_unpack(run, data + run->dim, err);
}

/* ---- minibatches and gradients ---- */

static void next_batch(lsgd_run *run, int full_shard)
{
    lsgd_batch *b = &run->batch;
    b->rng = &run->noise_rng;
    if (!run->train) {
        b->set = NULL;
        b->rows = NULL;
        b->n = run->set.batch_size;
    } else if (full_shard) {
        b->set = run->train;
        b->rows = run->shard.rows;
        b->n = run->shard.n;
    } else {
        b->set = run->train;
        b->rows = lsgd_sampler_next(&run->sampler);
        b->n = run->sampler.batch;
    }
}

static int gradient(lsgd_run *run, const float *x, float *g, double *loss, lsgd_error *err)
{
    if (run->model->ops->loss_grad(run->model, x, &run->batch, loss, g, err))
        return failed(run, err);
    if (!isfinite(*loss))
        return diverged(run, "loss", *loss, err);
    return LSGD_OK;
}

/* The scaling context at x with gradient g on the current batch. */
static const lsgd_scaling_ctx *context(lsgd_run *run, const float *x, const float *g)
{
    run->ctx.x = x;
    run->ctx.g = g;
    run->oracle.x = x;
    run->oracle.batch = &run->batch;
    return &run->ctx;
}

/* ---- the scaling policy at communication (§1) ---- */

/* refresh: sync — each worker's statistic at x̄ on a fresh minibatch,
 * averaged, and the same refresh applied everywhere. */
static int sync_refresh(lsgd_run *run, lsgd_error *err)
{
    lsgd_scaling *s = &run->scaling;
    if (s->ops->statistic_kind == LSGD_STATISTIC_NONE)
        return LSGD_OK;
    double loss;
    next_batch(run, run->set.algorithm == LSGD_ALG_LOCAL_GD);
    if (gradient(run, run->x, run->g, &loss, err))
        return err->code;
    if (lsgd_scaling_statistic(s, context(run, run->x, run->g), err))
        return failed(run, err);
    if (average(run, s->statistic, run->dim, err))
        return err->code;
    return lsgd_scaling_refresh(s, s->statistic, err) ? failed(run, err) : LSGD_OK;
}

/* Zero the state and warm-start again at x̄ (a fresh minibatch for init). */
static int reset_scaling(lsgd_run *run, lsgd_error *err)
{
    const lsgd_scaling_ctx *ctx = NULL;
    if (run->scaling.ops->init) {
        double loss;
        next_batch(run, run->set.algorithm == LSGD_ALG_LOCAL_GD);
        if (gradient(run, run->x, run->g, &loss, err))
            return err->code;
        ctx = context(run, run->x, run->g);
    }
    return lsgd_scaling_reset(&run->scaling, ctx, err) ? failed(run, err) : LSGD_OK;
}

static int scaling_policy(lsgd_run *run, lsgd_error *err)
{
    if (run->set.refresh_sync)
        return sync_refresh(run, err);
    if (run->set.state_policy == LSGD_STATE_AVERAGE && run->scaling.count)
        return average(run, run->scaling.memory, run->scaling.count * run->dim, err);
    if (run->set.state_policy == LSGD_STATE_RESET)
        return reset_scaling(run, err);
    return LSGD_OK;
}

int lsgd_run_prepare_scaling(lsgd_run *run, lsgd_error *err)
{
    if (reset_scaling(run, err))
        return err->code;
    if (run->set.refresh_sync) {
        /* The warm start drew each worker's own random vectors: agree first. */
        if (run->scaling.count &&
            average(run, run->scaling.memory, run->scaling.count * run->dim, err))
            return err->code;
        if (sync_refresh(run, err))
            return err->code;
    }
    if (run->set.has_outer && lsgd_scaling_reset(&run->outer, NULL, err))
        return failed(run, err);
    run->round_comm_s = 0;
    return LSGD_OK;
}

/* ---- local steps ---- */

static void note_loss(lsgd_run *run, double loss)
{
    run->round_loss_sum += loss;
    run->round_loss_count++;
}

/* ‖g‖ of the round's last step (one pass over g, once per round). */
static void note_gradient_norm(lsgd_run *run)
{
    run->last_grad_norm = sqrt(lsgd_sum_squares(run->g, run->dim));
}

/* local_sgd and plain local_gd: x ← x − γ·D̂⁻¹·direction(g) on this worker. */
static int local_step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double loss;
    next_batch(run, run->set.algorithm == LSGD_ALG_LOCAL_GD);
    if (gradient(run, run->x, run->g, &loss, err))
        return err->code;
    note_loss(run, loss);
    if (last_of_round)
        note_gradient_norm(run);
    int rc = run->set.refresh_sync
                 ? lsgd_scaling_step(&run->scaling, run->x, run->g, lr, 0, err)
                 : lsgd_scaling_local_step(&run->scaling, run->x, context(run, run->x, run->g),
                                           lr, err);
    return rc ? step_failed(run, run->g, err) : LSGD_OK;
}

/* minibatch_sgd: the gradient averaged over workers before the step, so
 * all models stay equal; an HVP statistic is averaged too. */
static int minibatch_step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    lsgd_scaling *s = &run->scaling;
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double loss;
    next_batch(run, 0);
    if (gradient(run, run->x, run->g, &loss, err))
        return err->code;
    note_loss(run, loss);
    if (average_with_report(run, run->g, err))
        return err->code;
    if (last_of_round)
        note_gradient_norm(run);
    int rc;
    if (run->set.refresh_sync || s->ops->statistic_kind == LSGD_STATISTIC_NONE) {
        rc = lsgd_scaling_step(s, run->x, run->g, lr, 0, err);
    } else if (s->ops->statistic_kind == LSGD_STATISTIC_GRADIENT) {
        rc = lsgd_scaling_step(s, run->x, run->g, lr, 1, err);
    } else {
        rc = lsgd_scaling_statistic(s, context(run, run->x, run->g), err);
        if (!rc && average(run, s->statistic, run->dim, err))
            return err->code;
        if (!rc)
            rc = lsgd_scaling_refresh(s, s->statistic, err);
        if (!rc)
            rc = lsgd_scaling_step(s, run->x, run->g, lr, 0, err);
    }
    return rc ? step_failed(run, run->g, err) : LSGD_OK;
}

/* Modified Local-GD (§3): x ← argmin f_m(w) + (λ/2)‖w − x̄‖² by gradient
 * descent from x̄ with step γ, until ‖∇‖ ≤ tolerance or max_inner steps. */
static int regularized_solve(lsgd_run *run, lsgd_error *err)
{
    const float *ref = run->x_sync; /* x̄ */
    float lambda = (float)run->set.gd_lambda;
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double tol2 = run->set.gd_tolerance * run->set.gd_tolerance, loss = 0;
    memcpy(run->x_sync, run->x, run->dim * sizeof *run->x);
    next_batch(run, 1);
    for (uint64_t k = 0; k < run->set.gd_max_inner; k++) {
        if (lsgd_interrupted)
            return interrupted(run, err);
        if (gradient(run, run->x, run->g, &loss, err))
            return err->code;
        double norm2 = 0;
        for (size_t i = 0; i < run->dim; i++) {
            run->g[i] += lambda * (run->x[i] - ref[i]);
            norm2 += (double)run->g[i] * run->g[i];
        }
        if (norm2 <= tol2)
            break;
        for (size_t i = 0; i < run->dim; i++)
            run->x[i] -= lr * run->g[i];
    }
    note_loss(run, loss);
    note_gradient_norm(run);
    return LSGD_OK;
}

/* ---- communication at the end of a round ---- */

/* This worker's share of the drift: ‖x_before − centre‖². */
static void measure_drift(lsgd_run *run, const float *centre)
{
    if (!run->set.want_drift || !run->x_before)
        return;
    run->round_drift = lsgd_distance2(run->x_before, centre, run->dim);
}

/* The outer optimizer (§5): Δ = x_prev − x̄ fed to a scaling plugin from
 * x_prev with the outer step size. */
static int outer_step(lsgd_run *run, lsgd_error *err)
{
    for (size_t i = 0; i < run->dim; i++)
        run->g[i] = run->x_sync[i] - run->x[i];
    memcpy(run->x, run->x_sync, run->dim * sizeof *run->x);
    int fused = run->outer.ops->statistic_kind == LSGD_STATISTIC_GRADIENT;
    if (lsgd_scaling_step(&run->outer, run->x, run->g, (float)run->set.outer_lr, fused, err))
        return failed(run, err);
    memcpy(run->x_sync, run->x, run->dim * sizeof *run->x);
    return LSGD_OK;
}

/* The models' average, compressed when configured (engine/compression.h):
 * then the report travels in an average of its own. */
static int average_models(lsgd_run *run, lsgd_error *err)
{
    if (!run->compression)
        return average_with_report(run, run->x, err);
    double t0 = lsgd_now();
    int rc = lsgd_compression_average(run->compression, run->transport, run->x, err);
    run->round_comm_s += lsgd_now() - t0;
    if (rc)
        return failed(run, err);
    lsgd_report_pack(run, run->x + run->dim);
    if (average(run, run->x + run->dim, run->slots, err))
        return err->code;
    return lsgd_report_unpack(run, run->x + run->dim, err);
}

static int communicate_blocking(lsgd_run *run, lsgd_error *err)
{
    if (run->x_before)
        memcpy(run->x_before, run->x, run->dim * sizeof *run->x);
    if (average_models(run, err))
        return err->code;
    measure_drift(run, run->x);
    if (run->set.has_outer && outer_step(run, err))
        return err->code;
    if (run->set.has_outer && run->compression)
        lsgd_compression_rebase(run->compression, run->x);
    return scaling_policy(run, err);
}

/* Take a finished non-blocking average (waiting if needed) as the anchor. */
static int overlap_settle(lsgd_run *run, lsgd_error *err)
{
    if (!run->overlap_outstanding)
        return LSGD_OK;
    double t0 = lsgd_now();
    int rc = lsgd_transport_wait(run->transport, err);
    run->round_comm_s += lsgd_now() - t0;
    if (rc)
        return failed(run, err);
    run->overlap_outstanding = 0;
    run->overlap_has_result = 1;
    return lsgd_report_unpack(run, run->post + run->dim, err);
}

static int overlap_take_anchor(lsgd_run *run, lsgd_error *err)
{
    if (overlap_settle(run, err))
        return err->code;
    if (run->overlap_has_result) {
        memcpy(run->anchor, run->post, run->dim * sizeof *run->anchor);
        run->overlap_has_result = 0;
    }
    return LSGD_OK;
}

/* §4: anchor ← last average, pull back, post the next average, go on. */
static int communicate_overlap(lsgd_run *run, lsgd_error *err)
{
    if (overlap_take_anchor(run, err))
        return err->code;
    if (run->x_before)
        memcpy(run->x_before, run->x, run->dim * sizeof *run->x);
    measure_drift(run, run->anchor);
    float lr = (float)lsgd_lr_at(&run->lr, run->step ? run->step - 1 : 0);
    lsgd_overlap_pull(run->x, run->momentum, run->post, run->anchor, run->set.alpha,
                      run->set.beta, lr, run->dim);
    lsgd_report_pack(run, run->post + run->dim);
    double t0 = lsgd_now();
    int rc = lsgd_transport_iallreduce_mean(run->transport, run->post, run->dim + run->slots,
                                            err);
    run->round_comm_s += lsgd_now() - t0;
    if (rc)
        return failed(run, err);
    run->overlap_outstanding = 1;
    if (run->set.state_policy == LSGD_STATE_RESET)
        return reset_scaling(run, err);
    return LSGD_OK;
}

/* ---- the loop ---- */

static int run_round(lsgd_run *run, lsgd_error *err)
{
    uint64_t end = lsgd_schedule_time(&run->schedule, run->round + 1);
    double t0 = lsgd_now(), comm0 = run->round_comm_s;
    if (run->set.algorithm == LSGD_ALG_LOCAL_GD && run->set.gd_regularized) {
        if (regularized_solve(run, err))
            return err->code;
        run->step = end;
    }
    while (run->step < end) {
        if (lsgd_interrupted)
            return interrupted(run, err);
        int last = run->step + 1 == end;
        int rc = run->set.algorithm == LSGD_ALG_MINIBATCH_SGD ? minibatch_step(run, last, err)
                                                               : local_step(run, last, err);
        if (rc)
            return rc;
        run->step++;
    }
    /* minibatch_sgd's averages inside the steps count as communication */
    run->round_compute_s += lsgd_now() - t0 - (run->round_comm_s - comm0);
    int rc = LSGD_OK;
    switch (run->set.algorithm) {
    case LSGD_ALG_MINIBATCH_SGD: rc = scaling_policy(run, err); break;
    case LSGD_ALG_OVERLAP: rc = communicate_overlap(run, err); break;
    default: rc = communicate_blocking(run, err); break;
    }
    if (rc)
        return rc;
    run->round++;
    const float *consensus = run->set.algorithm == LSGD_ALG_OVERLAP ? run->anchor : run->x;
    if (lsgd_report_close_round(run, consensus, err))
        return err->code;
    if (lsgd_snapshot_due(run)) {
        if (run->set.algorithm == LSGD_ALG_OVERLAP && overlap_settle(run, err))
            return err->code;
        if (lsgd_snapshot_save(run, err))
            return err->code;
    }
    return LSGD_OK;
}

/* Fault injection for tests (named so): LSGD_FAULT_STOP_AFTER_ROUND=k
 * makes every worker act as if interrupted once round k is complete. */
static uint64_t fault_stop_round(void)
{
    const char *v = getenv("LSGD_FAULT_STOP_AFTER_ROUND");
    return v ? strtoull(v, NULL, 10) : 0;
}

int lsgd_run_train(lsgd_run *run, lsgd_error *err)
{
    uint64_t stop = fault_stop_round();
    while (run->round < run->schedule.rounds) {
        if (run_round(run, err))
            return err->code;
        if (stop && run->round == stop)
            lsgd_interrupted = 1;
    }
    return LSGD_OK;
}

/* After the last round: the final averaged model in run->x, every report
 * delivered to rank 0. */
int lsgd_run_finish(lsgd_run *run, lsgd_error *err)
{
    if (run->set.algorithm == LSGD_ALG_OVERLAP) {
        if (overlap_take_anchor(run, err))
            return err->code;
        return average_with_report(run, run->x, err);
    }
    return lsgd_report_flush(run, err);
}
