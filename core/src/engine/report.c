/*
 * report.c — what each round measured, brought to rank 0 without an extra
 * collective.
 *
 * When a round ends each worker fills its report (mean minibatch loss,
 * ‖g‖, drift, D̂ range, bytes, compute and communication seconds, and on
 * evaluation rounds its slice of the test set and of the objective).  The
 * report waits in the outbox and rides on the next average: the buffer
 * being averaged is followed by world × REPORT_FIELDS floats, worker m
 * writes its values in block m and zeros elsewhere, so after the mean
 * block m holds worker m's values divided by M.  When that average is
 * complete rank 0 writes the round's row to metrics.jsonl / metrics.csv
 * and updates the progress display.  The last round's report travels in
 * a final small average (lsgd_report_flush).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/max_margin.h"
#include "engine/run.h"

void lsgd_report_pack(lsgd_run *run, float *slots)
{
    memset(slots, 0, run->slots * sizeof *slots);
    run->in_flight = run->outbox;
    if (run->outbox.round)
        memcpy(slots + (size_t)run->rank * REPORT_FIELDS, run->outbox.values,
               sizeof run->outbox.values);
    if (run->rank == 0)
        slots[REPORT_CHECKPOINT_DUE] = lsgd_snapshot_clock_says(run);
    run->outbox.round = 0;
}

static double total(const float *slots, int world, int field)
{
    double s = 0;
    for (int m = 0; m < world; m++)
        s += (double)slots[(size_t)m * REPORT_FIELDS + field] * world;
    return s;
}

/* The mean over the workers that measured the field (a finite value);
 * NAN when none did (a worker that took no step this round, fedavg's
 * non-participants, reports NAN). */
static double mean_measured(const float *slots, int world, int field)
{
    double s = 0;
    int count = 0;
    for (int m = 0; m < world; m++) {
        double v = (double)slots[(size_t)m * REPORT_FIELDS + field] * world;
        if (isfinite(v)) {
            s += v;
            count++;
        }
    }
    return count ? s / count : NAN;
}

static double extreme(const float *slots, int world, int field, int want_max)
{
    double best = NAN;
    for (int m = 0; m < world; m++) {
        double v = (double)slots[(size_t)m * REPORT_FIELDS + field] * world;
        if (isnan(best) || (want_max ? v > best : v < best))
            best = v;
    }
    return best;
}

static void fill_row(lsgd_run *run, lsgd_metrics_row *row, const float *slots)
{
    const lsgd_report *r = &run->in_flight;
    int M = run->world;
    lsgd_metrics_row_clear(row);
    row->round = r->round;
    row->step = r->step;
    row->wall_s = r->wall_s;
    row->lr = r->lr;
    row->train_loss = mean_measured(slots, M, REPORT_TRAIN_LOSS);
    row->grad_norm = mean_measured(slots, M, REPORT_GRAD_NORM);
    row->drift = mean_measured(slots, M, REPORT_DRIFT);
    row->d_min = extreme(slots, M, REPORT_D_MIN, 0);
    row->d_max = extreme(slots, M, REPORT_D_MAX, 1);
    row->bytes_sent = round(total(slots, M, REPORT_BYTES));
    row->compute_s = total(slots, M, REPORT_COMPUTE_S) / M;
    row->comm_s = total(slots, M, REPORT_COMM_S) / M;
    double n = round(total(slots, M, REPORT_TEST_COUNT));
    if (n > 0) {
        row->test_loss = total(slots, M, REPORT_TEST_LOSS_SUM) / n;
        row->test_accuracy = total(slots, M, REPORT_TEST_CORRECT) / n;
    }
    double no = round(total(slots, M, REPORT_OBJECTIVE_COUNT));
    if (no > 0)
        row->objective = total(slots, M, REPORT_OBJECTIVE_SUM) / no;
    if (run->set.want_max_margin) {
        row->max_margin_cos = r->max_margin_cos;
        for (int m = 0; m < M; m++)
            run->local_margins[m] = (double)slots[(size_t)m * REPORT_FIELDS +
                                                  REPORT_LOCAL_MARGIN] * M;
        row->local_margin_cos = total(slots, M, REPORT_LOCAL_MARGIN) / M;
        row->local_margin_by_worker = run->local_margins;
        row->workers = M;
    }
}

int lsgd_report_unpack(lsgd_run *run, const float *slots, lsgd_error *err)
{
    if (slots[REPORT_CHECKPOINT_DUE] != 0)
        run->checkpoint_due = 1;
    if (!run->in_flight.round)
        return LSGD_OK;
    if (run->rank == 0) {
        lsgd_metrics_row row;
        fill_row(run, &row, slots);
        if (run->has_metrics && lsgd_metrics_write(&run->metrics, &row, err))
            return err->code;
        if (isfinite(row.test_loss))
            run->last_test_loss = row.test_loss;
        if (isfinite(row.test_accuracy))
            run->last_test_accuracy = row.test_accuracy;
        if (isfinite(row.objective))
            run->last_objective = row.objective;
        lsgd_progress_update(&run->progress, row.round, row.step, row.wall_s, row.train_loss,
                             row.test_loss, row.test_accuracy);
    }
    run->in_flight.round = 0;
    return LSGD_OK;
}

/* ---- evaluation of the consensus model ---- */

static int evaluate_rows(lsgd_run *run, const float *model, const lsgd_dataset *set,
                         const uint32_t *rows, size_t n, double *loss, double *accuracy,
                         lsgd_error *err)
{
    lsgd_rng scratch = run->noise_rng; /* evaluation must not move the training stream */
    lsgd_batch b = {.set = set, .rows = rows, .n = n, .rng = &scratch};
    return run->model->ops->evaluate(run->model, model, &b, loss, accuracy, err);
}

static int evaluate(lsgd_run *run, const float *model, float *v, lsgd_error *err)
{
    double loss, acc;
    if (run->test && run->test_n) {
        if (evaluate_rows(run, model, run->test, run->test_rows, run->test_n, &loss, &acc, err))
            return err->code;
        v[REPORT_TEST_LOSS_SUM] = (float)(loss * (double)run->test_n);
        v[REPORT_TEST_CORRECT] = isfinite(acc) ? (float)(acc * (double)run->test_n) : NAN;
        v[REPORT_TEST_COUNT] = (float)run->test_n;
    }
    if (!run->train && run->rank == 0) {
        /* data-free objectives: the exact value */
        if (evaluate_rows(run, model, NULL, NULL, run->set.batch_size, &loss, &acc, err))
            return err->code;
        v[REPORT_OBJECTIVE_SUM] = (float)loss;
        v[REPORT_OBJECTIVE_COUNT] = 1;
    } else if (run->train && run->set.want_objective) {
        if (evaluate_rows(run, model, run->train, run->shard.rows, run->shard.n, &loss, &acc,
                          err))
            return err->code;
        v[REPORT_OBJECTIVE_SUM] = (float)(loss * (double)run->shard.n);
        v[REPORT_OBJECTIVE_COUNT] = (float)run->shard.n;
    }
    return LSGD_OK;
}

/* The report of the round just completed (run->round) into the outbox.
 * model: the consensus (x̄, or the anchor for overlap). */
int lsgd_report_close_round(lsgd_run *run, const float *model, lsgd_error *err)
{
    lsgd_report *r = &run->outbox;
    memset(r, 0, sizeof *r);
    r->round = run->round;
    r->step = run->step;
    r->wall_s = lsgd_now() - run->wall_origin;
    r->lr = lsgd_lr_at(&run->lr, run->step ? run->step - 1 : 0);
    r->max_margin_cos = NAN;
    float *v = r->values;
    for (int f = 0; f < REPORT_FIELDS; f++)
        v[f] = 0;
    v[REPORT_TRAIN_LOSS] = run->round_loss_count
                               ? (float)(run->round_loss_sum / (double)run->round_loss_count)
                               : NAN;
    v[REPORT_GRAD_NORM] = (float)run->last_grad_norm;
    v[REPORT_DRIFT] = (float)run->round_drift;
    float dmin, dmax;
    lsgd_scaling_range(&run->scaling, &dmin, &dmax);
    v[REPORT_D_MIN] = dmin;
    v[REPORT_D_MAX] = dmax;
    lsgd_transport_stats stats;
    lsgd_transport_stats_get(run->transport, &stats);
    v[REPORT_BYTES] = (float)(stats.bytes_sent - run->bytes_at_round_start);
    run->bytes_at_round_start = stats.bytes_sent;
    v[REPORT_COMPUTE_S] = (float)run->round_compute_s;
    v[REPORT_COMM_S] = (float)run->round_comm_s;
    int eval = run->round % run->set.eval_every == 0 || run->round == run->schedule.rounds;
    if (eval && evaluate(run, model, v, err))
        return err->code;
    if (run->set.want_max_margin) {
        const float *local = run->x_before ? run->x_before : run->x;
        v[REPORT_LOCAL_MARGIN] = (float)lsgd_cosine(local, run->margin_local, run->margin_len);
        if (run->rank == 0)
            r->max_margin_cos = lsgd_cosine(model, run->margin_w, run->margin_len);
    }
    run->round_loss_sum = 0;
    run->round_loss_count = 0;
    run->round_compute_s = run->round_comm_s = 0;
    run->round_drift = NAN;
    return LSGD_OK;
}

/* The outbox's report in an average of its own (after the last round). */
int lsgd_report_flush(lsgd_run *run, lsgd_error *err)
{
    if (!run->outbox.round)
        return LSGD_OK;
    float *slots = calloc(run->slots, sizeof *slots);
    if (!slots)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory for the last report");
    lsgd_report_pack(run, slots);
    int rc = lsgd_transport_allreduce_mean(run->transport, slots, run->slots, err);
    if (!rc)
        rc = lsgd_report_unpack(run, slots, err);
    free(slots);
    return rc;
}

int lsgd_report_check_margins(const lsgd_run *run, lsgd_error *err)
{
    if (!run->set.want_max_margin)
        return LSGD_OK;
    if (!run->train || run->train->classes != 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "metrics.max_margin: needs a binary classification training "
                              "set and a linear model (model.type logreg)");
    const char *type = run->model->ops->type;
    if (strcmp(type, "logreg") != 0 || run->dim < run->train->d)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "metrics.max_margin: model.type is '%s'; expected 'logreg' "
                              "(the max-margin direction is a linear separator)", type);
    return LSGD_OK;
}

/* ŵ on the pooled training set (rank 0) and ŵ_m on this worker's shard. */
int lsgd_report_prepare_margins(lsgd_run *run, lsgd_error *err)
{
    if (!run->set.want_max_margin)
        return LSGD_OK;
    if (lsgd_report_check_margins(run, err))
        return err->code;
    size_t d = run->train->d;
    run->margin_len = d;
    run->margin_w = calloc(d, sizeof *run->margin_w);
    run->margin_local = calloc(d, sizeof *run->margin_local);
    run->local_margins = calloc((size_t)run->world, sizeof *run->local_margins);
    if (!run->margin_w || !run->margin_local || !run->local_margins)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory for max-margin directions");
    lsgd_max_margin_info info;
    if (run->rank == 0 &&
        lsgd_max_margin(run->margin_w, run->train, NULL, 0, run->set.seed, &info, err))
        return err->code;
    if (lsgd_max_margin(run->margin_local, run->train, run->shard.rows, run->shard.n,
                        run->set.seed + (uint64_t)run->rank, &info, err))
        return lsgd_error_prefix(err, "worker %d's shard: ", run->rank);
    return LSGD_OK;
}
