/*
 * rounds.c — the loop over communication rounds (docs/algorithms.md §1–§6).
 *
 * Round r runs the algorithm's local steps t_{r−1} … t_r − 1 and its
 * communication (engine/algorithm.h; local_sgd and local_gd average the
 * models, minibatch_sgd averaged every step, overlap_local_sgd posts a
 * non-blocking average, …), then the round's report and a checkpoint when
 * due.  Every average carries the previous round's report in slots after
 * the data (report.c), so metrics cost no extra collective.
 */
#include <stdlib.h>

#include "engine/algorithm.h"
#include "engine/run.h"
#include "engine/steps.h"

int lsgd_run_prepare_scaling(lsgd_run *run, lsgd_error *err)
{
    if (lsgd_run_reset_scaling(run, err))
        return err->code;
    if (run->set.refresh_sync) {
        /* The warm start drew each worker's own random vectors: agree first. */
        if (run->scaling.count &&
            lsgd_run_average(run, run->scaling.memory, run->scaling.count * run->dim, err))
            return err->code;
        if (lsgd_run_sync_refresh(run, err))
            return err->code;
    }
    if (run->set.has_outer && lsgd_scaling_reset(&run->outer, NULL, err))
        return lsgd_run_failed(run, err);
    run->round_comm_s = 0;
    return LSGD_OK;
}

static int run_round(lsgd_run *run, lsgd_error *err)
{
    const lsgd_algorithm *alg = run->set.algorithm;
    uint64_t end = lsgd_schedule_time(&run->schedule, run->round + 1);
    double t0 = lsgd_now(), comm0 = run->round_comm_s;
    if (alg->steps(run, end, err))
        return err->code;
    /* averages inside the steps (minibatch_sgd's) count as communication */
    run->round_compute_s += lsgd_now() - t0 - (run->round_comm_s - comm0);
    if (alg->communicate(run, err))
        return err->code;
    run->round++;
    const float *consensus = alg->consensus ? alg->consensus(run) : run->x;
    if (lsgd_report_close_round(run, consensus, err))
        return err->code;
    if (lsgd_snapshot_due(run)) {
        if (alg->settle && alg->settle(run, err))
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
    const lsgd_algorithm *alg = run->set.algorithm;
    return alg->finish ? alg->finish(run, err) : lsgd_report_flush(run, err);
}
