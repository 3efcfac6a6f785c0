/*
 * overlap_local_sgd.c — Overlap-Local-SGD (docs/algorithms.md §4): local
 * steps as local_sgd, and at the end of a round
 *   anchor z ← the average posted a round ago (waiting only if it is late),
 *   x ← (1 − α)x + αz, post x (or, β > 0, z − γv with anchor momentum v)
 *   as the next non-blocking average, and go on computing.
 * The arithmetic is lsgd_overlap_pull (engine/overlap.c).  The report
 * rides on the posted average; the consensus is the anchor.
 * With compression (engine/compression.h) what is posted is the change of
 * the post from z, encoded, as a background all-gather with the report
 * averaged behind it; the finished average is z plus the mean of the
 * decoded changes.
 * State: α, β, z [dim], v [dim] (β > 0), the post [dim + report slots],
 * whether an average is in flight and whether a finished one waits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "engine/outer.h"
#include "engine/overlap.h"
#include "engine/steps.h"
#include "host/config.h"

typedef struct overlap {
    float alpha, beta;
    float *anchor;       /* z */
    float *momentum;     /* v (β > 0) */
    float *post;         /* the posted buffer, then report slots */
    int outstanding;     /* a non-blocking average is in flight */
    uint64_t has_result; /* post holds a finished average not yet taken as anchor */
} overlap;

static int check(const json_t *cfg, lsgd_error *err)
{
    if (strcmp(lsgd_setting_string(cfg, "schedule.type"), "one_shot") == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "schedule.type: overlap_local_sgd averages every period steps, "
                              "but schedule 'one_shot' has no period; use 'constant' "
                              "(period = tau) or 'increasing'");
    if (lsgd_setting_number(cfg, "algorithm.overlap.alpha") == 1 &&
        lsgd_setting_number(cfg, "algorithm.overlap.beta") == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.overlap: alpha 1 with beta 0 freezes the anchor at "
                              "x0 and the run never mixes; use alpha < 1 or beta > 0");
    if (strcmp(lsgd_setting_string(cfg, "scaling.refresh"), "sync") == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.refresh: 'sync' needs the averaged model at each "
                              "communication, which overlap_local_sgd never waits for; "
                              "expected 'local'");
    if (strcmp(lsgd_setting_string(cfg, "scaling.state"), "average") == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.state: 'average' would block overlap_local_sgd's "
                              "non-blocking average; expected 'local' or 'reset'");
    return lsgd_outer_refuse(cfg, "overlap_local_sgd",
                             "has its own anchor update; an outer optimizer does not combine "
                             "with it", err);
}

static float *vector(size_t n, int *failed)
{
    float *v = calloc(n ? n : 1, sizeof *v);
    *failed |= v == NULL;
    return v;
}

static int overlap_open(lsgd_run *run, lsgd_error *err)
{
    overlap *o = calloc(1, sizeof *o);
    run->algorithm_state = o;
    if (!o)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    o->alpha = (float)lsgd_setting_number(run->cfg, "algorithm.overlap.alpha");
    o->beta = (float)lsgd_setting_number(run->cfg, "algorithm.overlap.beta");
    int failed = 0;
    o->anchor = vector(run->dim, &failed);
    o->post = vector(run->dim + run->slots, &failed);
    if (o->beta != 0.0f)
        o->momentum = vector(run->dim, &failed);
    if (failed)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "out of memory for overlap_local_sgd's anchor (%zu parameters)",
                              run->dim);
    memcpy(o->anchor, run->x, run->dim * sizeof *run->x);
    return LSGD_OK;
}

static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    return lsgd_run_local_step(run, last_of_round, NULL, err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    return lsgd_run_each_step(run, end, step, err);
}

/* The average in flight finished (waiting if needed) into post, its
 * report taken; compressed, post ← z + the mean of the decoded changes. */
static int settle(lsgd_run *run, lsgd_error *err)
{
    overlap *o = run->algorithm_state;
    if (!o->outstanding)
        return LSGD_OK;
    double t0 = lsgd_now();
    int rc = lsgd_transport_wait(run->transport, err);
    if (!rc && run->compression)
        rc = lsgd_compression_collect(run->compression, o->post, err);
    run->round_comm_s += lsgd_now() - t0;
    if (rc)
        return lsgd_run_failed(run, err);
    o->outstanding = 0;
    o->has_result = 1;
    return lsgd_report_unpack(run, o->post + run->dim, err);
}

/* post (and the report behind it) on its way: averaged, or compressed as
 * its change from the anchor and gathered, the report averaged after. */
static int start_average(lsgd_run *run, lsgd_error *err)
{
    overlap *o = run->algorithm_state;
    if (!run->compression)
        return lsgd_transport_iallreduce_mean(run->transport, o->post, run->dim + run->slots,
                                              err);
    float *parts;
    size_t part_floats;
    if (lsgd_compression_post(run->compression, o->anchor, o->post, &parts, &part_floats, err))
        return err->code;
    return lsgd_transport_iallgather_mean(run->transport, parts, part_floats,
                                          o->post + run->dim, run->slots, err);
}

/* A finished average (waiting if needed) becomes the anchor. */
static int take_anchor(lsgd_run *run, lsgd_error *err)
{
    overlap *o = run->algorithm_state;
    if (settle(run, err))
        return err->code;
    if (o->has_result) {
        memcpy(o->anchor, o->post, run->dim * sizeof *o->anchor);
        o->has_result = 0;
    }
    return LSGD_OK;
}

/* anchor ← last average, pull back, post the next average, go on. */
static int communicate(lsgd_run *run, lsgd_error *err)
{
    overlap *o = run->algorithm_state;
    if (take_anchor(run, err))
        return err->code;
    lsgd_run_keep_before(run);
    lsgd_run_measure_drift(run, o->anchor);
    float lr = (float)lsgd_lr_at(&run->lr, run->step ? run->step - 1 : 0);
    lsgd_overlap_pull(run->x, o->momentum, o->post, o->anchor, o->alpha, o->beta, lr, run->dim);
    lsgd_report_pack(run, o->post + run->dim);
    double t0 = lsgd_now();
    int rc = start_average(run, err);
    run->round_comm_s += lsgd_now() - t0;
    if (rc)
        return lsgd_run_failed(run, err);
    o->outstanding = 1;
    if (run->set.state_policy == LSGD_STATE_RESET)
        return lsgd_run_reset_scaling(run, err);
    return LSGD_OK;
}

static const float *consensus(const lsgd_run *run)
{
    return ((const overlap *)run->algorithm_state)->anchor;
}

/* The last anchor, then one blocking average of the models with the last
 * report (compressed: of their changes from the anchor). */
static int finish(lsgd_run *run, lsgd_error *err)
{
    overlap *o = run->algorithm_state;
    if (take_anchor(run, err))
        return err->code;
    if (run->compression)
        lsgd_compression_rebase(run->compression, o->anchor);
    return lsgd_run_average_models(run, err);
}

static size_t records(const lsgd_run *run, lsgd_record *out)
{
    overlap *o = run->algorithm_state;
    size_t n = 0, bytes = run->dim * sizeof(float);
    out[n++] = (lsgd_record){"anchor", o->anchor, bytes};
    if (o->momentum)
        out[n++] = (lsgd_record){"momentum", o->momentum, bytes};
    out[n++] = (lsgd_record){"post", o->post, bytes};
    out[n++] = (lsgd_record){"overlap.has_result", &o->has_result, sizeof o->has_result};
    return n;
}

static int restored(lsgd_run *run, lsgd_error *err)
{
    overlap *o = run->algorithm_state;
    o->outstanding = 0;
    if (o->has_result > 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "--resume: worker %d's checkpoint says overlap.has_result %llu; "
                              "expected 0 or 1 (damaged)", run->rank,
                              (unsigned long long)o->has_result);
    return LSGD_OK;
}

static void overlap_close(lsgd_run *run)
{
    overlap *o = run->algorithm_state;
    if (!o)
        return;
    free(o->anchor);
    free(o->momentum);
    free(o->post);
    free(o);
}

const lsgd_algorithm lsgd_algorithm_overlap_local_sgd = {
    .name = "overlap_local_sgd",
    .section = "overlap",
    .check = check,
    .open = overlap_open,
    .steps = steps,
    .communicate = communicate,
    .consensus = consensus,
    .settle = settle,
    .finish = finish,
    .records = records,
    .restored = restored,
    .close = overlap_close,
};
