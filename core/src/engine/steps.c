/*
 * steps.c — the pieces every algorithm's rounds are made of (steps.h):
 * failures located, timed averages, minibatches and gradients, the Local
 * SGD step, the scaling policy at communication and the blocking average
 * of the models.
 */
#include "engine/steps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/algorithm.h"
#include "engine/outer.h"
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

int lsgd_run_interrupted(lsgd_run *run, lsgd_error *err)
{
    char hint[4400];
    checkpoint_hint(run, hint, sizeof hint);
    return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                          "worker %d interrupted by a signal at round %llu, step %llu; %s%s",
                          run->rank, (unsigned long long)run->round + 1,
                          (unsigned long long)run->step, hint,
                          run->checkpoint_round ? "; continue with --resume" : "");
}

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

int lsgd_run_step_failed(lsgd_run *run, const float *g, lsgd_error *err)
{
    size_t bad = lsgd_first_nonfinite(g, run->dim);
    if (bad == run->dim)
        return lsgd_run_failed(run, err);
    char what[64];
    snprintf(what, sizeof what, "gradient coordinate %zu", bad);
    return diverged(run, what, g[bad], err);
}

int lsgd_run_failed(lsgd_run *run, lsgd_error *err)
{
    if (lsgd_interrupted)
        return lsgd_run_interrupted(run, err);
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

int lsgd_run_average(lsgd_run *run, float *data, size_t n, lsgd_error *err)
{
    double t0 = lsgd_now();
    int rc = lsgd_transport_allreduce_mean(run->transport, data, n, err);
    run->round_comm_s += lsgd_now() - t0;
    return rc ? lsgd_run_failed(run, err) : LSGD_OK;
}

int lsgd_run_average_with_report(lsgd_run *run, float *data, lsgd_error *err)
{
    lsgd_report_pack(run, data + run->dim);
    if (lsgd_run_average(run, data, run->dim + run->slots, err))
        return err->code;
    return lsgd_report_unpack(run, data + run->dim, err);
}

/* ---- minibatches and gradients ---- */

void lsgd_run_next_batch(lsgd_run *run)
{
    lsgd_batch *b = &run->batch;
    b->rng = &run->noise_rng;
    if (!run->train) {
        b->set = NULL;
        b->rows = NULL;
        b->n = run->set.batch_size;
    } else if (run->set.algorithm->full_batch) {
        b->set = run->train;
        b->rows = run->shard.rows;
        b->n = run->shard.n;
    } else {
        b->set = run->train;
        b->rows = lsgd_sampler_next(&run->sampler);
        b->n = run->sampler.batch;
    }
}

int lsgd_run_gradient(lsgd_run *run, const float *x, float *g, double *loss, lsgd_error *err)
{
    if (run->model->ops->loss_grad(run->model, x, &run->batch, loss, g, err))
        return lsgd_run_failed(run, err);
    if (!isfinite(*loss))
        return diverged(run, "loss", *loss, err);
    return LSGD_OK;
}

const lsgd_scaling_ctx *lsgd_run_context(lsgd_run *run, const float *x, const float *g)
{
    run->ctx.x = x;
    run->ctx.g = g;
    run->oracle.x = x;
    run->oracle.batch = &run->batch;
    return &run->ctx;
}

void lsgd_run_note_loss(lsgd_run *run, double loss)
{
    run->round_loss_sum += loss;
    run->round_loss_count++;
}

void lsgd_run_note_gradient_norm(lsgd_run *run)
{
    run->last_grad_norm = sqrt(lsgd_sum_squares(run->g, run->dim));
}

/* ---- local steps ---- */

int lsgd_run_local_step(lsgd_run *run, int last_of_round, lsgd_gradient_fix fix,
                        lsgd_error *err)
{
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double loss;
    lsgd_run_next_batch(run);
    if (lsgd_run_gradient(run, run->x, run->g, &loss, err))
        return err->code;
    if (fix)
        fix(run, run->g);
    lsgd_run_note_loss(run, loss);
    if (last_of_round)
        lsgd_run_note_gradient_norm(run);
    int rc = run->set.refresh_sync
                 ? lsgd_scaling_step(&run->scaling, run->x, run->g, lr, 0, err)
                 : lsgd_scaling_local_step(&run->scaling, run->x,
                                           lsgd_run_context(run, run->x, run->g), lr, err);
    return rc ? lsgd_run_step_failed(run, run->g, err) : LSGD_OK;
}

/* The scaling step on the averaged gradient: fused with the average when
 * the statistic is the gradient itself, after an averaged refresh when it
 * is an HVP. */
int lsgd_run_synchronous_step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    lsgd_scaling *s = &run->scaling;
    float lr = (float)lsgd_lr_at(&run->lr, run->step);
    double loss;
    lsgd_run_next_batch(run);
    if (lsgd_run_gradient(run, run->x, run->g, &loss, err))
        return err->code;
    lsgd_run_note_loss(run, loss);
    if (lsgd_run_average_with_report(run, run->g, err))
        return err->code;
    if (last_of_round)
        lsgd_run_note_gradient_norm(run);
    int rc;
    if (run->set.refresh_sync || s->ops->statistic_kind == LSGD_STATISTIC_NONE) {
        rc = lsgd_scaling_step(s, run->x, run->g, lr, 0, err);
    } else if (s->ops->statistic_kind == LSGD_STATISTIC_GRADIENT) {
        rc = lsgd_scaling_step(s, run->x, run->g, lr, 1, err);
    } else {
        rc = lsgd_scaling_statistic(s, lsgd_run_context(run, run->x, run->g), err);
        if (!rc && lsgd_run_average(run, s->statistic, run->dim, err))
            return err->code;
        if (!rc)
            rc = lsgd_scaling_refresh(s, s->statistic, err);
        if (!rc)
            rc = lsgd_scaling_step(s, run->x, run->g, lr, 0, err);
    }
    return rc ? lsgd_run_step_failed(run, run->g, err) : LSGD_OK;
}

int lsgd_run_each_step(lsgd_run *run, uint64_t end, lsgd_step_fn step_fn, lsgd_error *err)
{
    while (run->step < end) {
        if (lsgd_interrupted)
            return lsgd_run_interrupted(run, err);
        if (step_fn(run, run->step + 1 == end, err))
            return err->code;
        run->step++;
    }
    return LSGD_OK;
}

/* ---- the scaling policy at communication (§1.3, §1.4) ---- */

/* refresh: sync — each worker's statistic at x̄ on a fresh minibatch,
 * averaged, and the same refresh applied everywhere. */
int lsgd_run_sync_refresh(lsgd_run *run, lsgd_error *err)
{
    lsgd_scaling *s = &run->scaling;
    if (s->ops->statistic_kind == LSGD_STATISTIC_NONE)
        return LSGD_OK;
    double loss;
    lsgd_run_next_batch(run);
    if (lsgd_run_gradient(run, run->x, run->g, &loss, err))
        return err->code;
    if (lsgd_scaling_statistic(s, lsgd_run_context(run, run->x, run->g), err))
        return lsgd_run_failed(run, err);
    if (lsgd_run_average(run, s->statistic, run->dim, err))
        return err->code;
    return lsgd_scaling_refresh(s, s->statistic, err) ? lsgd_run_failed(run, err) : LSGD_OK;
}

/* Zero the state and warm-start again at x̄ (a fresh minibatch for init). */
int lsgd_run_reset_scaling(lsgd_run *run, lsgd_error *err)
{
    const lsgd_scaling_ctx *ctx = NULL;
    if (run->scaling.ops->init) {
        double loss;
        lsgd_run_next_batch(run);
        if (lsgd_run_gradient(run, run->x, run->g, &loss, err))
            return err->code;
        ctx = lsgd_run_context(run, run->x, run->g);
    }
    return lsgd_scaling_reset(&run->scaling, ctx, err) ? lsgd_run_failed(run, err) : LSGD_OK;
}

int lsgd_run_scaling_policy(lsgd_run *run, lsgd_error *err)
{
    if (run->set.refresh_sync)
        return lsgd_run_sync_refresh(run, err);
    if (run->set.state_policy == LSGD_STATE_AVERAGE && run->scaling.count)
        return lsgd_run_average(run, run->scaling.memory, run->scaling.count * run->dim, err);
    if (run->set.state_policy == LSGD_STATE_RESET)
        return lsgd_run_reset_scaling(run, err);
    return LSGD_OK;
}

/* ---- the blocking end of a round ---- */

void lsgd_run_measure_drift(lsgd_run *run, const float *centre)
{
    if (!run->set.want_drift || !run->x_before)
        return;
    run->round_drift = lsgd_distance2(run->x_before, centre, run->dim);
}

void lsgd_run_keep_before(lsgd_run *run)
{
    if (run->x_before)
        memcpy(run->x_before, run->x, run->dim * sizeof *run->x);
}

int lsgd_run_communicate_nothing(lsgd_run *run, lsgd_error *err)
{
    run->round_drift = 0;
    return lsgd_run_scaling_policy(run, err);
}

int lsgd_run_average_models(lsgd_run *run, lsgd_error *err)
{
    if (!run->compression)
        return lsgd_run_average_with_report(run, run->x, err);
    double t0 = lsgd_now();
    int rc = lsgd_compression_average(run->compression, run->transport, run->x, err);
    run->round_comm_s += lsgd_now() - t0;
    if (rc)
        return lsgd_run_failed(run, err);
    lsgd_report_pack(run, run->x + run->dim);
    if (lsgd_run_average(run, run->x + run->dim, run->slots, err))
        return err->code;
    return lsgd_report_unpack(run, run->x + run->dim, err);
}

int lsgd_run_communicate_models(lsgd_run *run, lsgd_error *err)
{
    lsgd_run_keep_before(run);
    if (lsgd_run_average_models(run, err))
        return err->code;
    lsgd_run_measure_drift(run, run->x);
    if (run->set.has_outer && lsgd_outer_step(run, err))
        return err->code;
    if (run->compression) /* the next change is measured from here */
        lsgd_compression_rebase(run->compression, run->x);
    return lsgd_run_scaling_policy(run, err);
}
