/*
 * fedavg.c — FedAvg with partial participation (McMahan, Moore, Ramage,
 * Hampson and Agüera y Arcas, AISTATS 2017; docs/algorithms.md §5.7): each
 * round a seeded sample of K of the M workers takes the local steps
 * (local_sgd's), the average is over those K, and the others wait and
 * receive x̄.
 *
 *   K = algorithm.fedavg.participants, or max(1, ⌊fraction·M⌋), or M
 *   the sample: the first K of a Fisher–Yates shuffle of 0 … M−1 drawn
 *               from one stream (STREAM_PARTICIPANTS), the same on every rank
 *   at t_r:     every rank joins the average with x·[m takes part]; then
 *               x̄ = mean · M/K, the outer step (η_g) and the scaling policy
 * Non-participants take no step and report no loss, gradient norm or
 * drift (report.c averages those over the workers that measured them).
 * State: K, the stream (checkpointed), this round's part.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "engine/outer.h"
#include "engine/steps.h"
#include "host/config.h"

typedef struct fedavg {
    size_t participants; /* K */
    lsgd_rng sample;     /* draws each round's participants */
    int takes_part;      /* this worker, this round */
} fedavg;

static int check(const json_t *cfg, lsgd_error *err)
{
    if (lsgd_config_get(cfg, "algorithm.fedavg.participants") &&
        lsgd_config_get(cfg, "algorithm.fedavg.fraction"))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.fedavg: both participants and fraction; expected one "
                              "of them (K workers, or a fraction of the workers)");
    return lsgd_compression_refuse(cfg, "fedavg",
                                   "averages a sample of the workers through zeros from the "
                                   "rest, which a compressed change cannot stand for; expected "
                                   "local_sgd", err);
}

/* K of `world` workers. */
static double participants(const json_t *cfg, int world)
{
    const json_t *count = lsgd_config_get(cfg, "algorithm.fedavg.participants");
    const json_t *share = lsgd_config_get(cfg, "algorithm.fedavg.fraction");
    double k = count ? (double)json_integer_value(count)
                     : share ? floor(json_number_value(share) * world + 1e-9) : world;
    return k < 1 ? 1 : k;
}

static int check_world(const json_t *cfg, int world, lsgd_error *err)
{
    double k = participants(cfg, world);
    if (k > world)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.fedavg.participants: %.0f of %d workers; expected at "
                              "most the number of workers", k, world);
    return LSGD_OK;
}

static int fedavg_open(lsgd_run *run, lsgd_error *err)
{
    fedavg *f = calloc(1, sizeof *f);
    run->algorithm_state = f;
    if (!f)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    f->participants = (size_t)participants(run->cfg, run->world);
    lsgd_rng_seed(&f->sample, run->set.seed, LSGD_STREAM_PARTICIPANTS);
    return LSGD_OK;
}

/* Whether this rank is among the first K of a fresh shuffle of the ranks. */
static int draw_participation(fedavg *f, int world, int rank)
{
    int *order = malloc((size_t)world * sizeof *order), mine = 0;
    if (!order)
        return -1;
    for (int m = 0; m < world; m++)
        order[m] = m;
    for (size_t i = 0; i < f->participants; i++) {
        size_t j = i + (size_t)lsgd_rng_below(&f->sample, (uint64_t)world - i);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
        mine |= order[i] == rank;
    }
    free(order);
    return mine;
}

static int step(lsgd_run *run, int last_of_round, lsgd_error *err)
{
    return lsgd_run_local_step(run, last_of_round, NULL, err);
}

static int steps(lsgd_run *run, uint64_t end, lsgd_error *err)
{
    fedavg *f = run->algorithm_state;
    f->takes_part = draw_participation(f, run->world, run->rank);
    if (f->takes_part < 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    if (f->takes_part)
        return lsgd_run_each_step(run, end, step, err);
    run->last_grad_norm = NAN; /* waits for x̄ */
    run->step = end;
    return LSGD_OK;
}

/* x̄ = (1/K) Σ over participants, through the average of every rank. */
static int communicate(lsgd_run *run, lsgd_error *err)
{
    const fedavg *f = run->algorithm_state;
    lsgd_run_keep_before(run);
    if (!f->takes_part)
        memset(run->x, 0, run->dim * sizeof *run->x);
    if (lsgd_run_average_with_report(run, run->x, err))
        return err->code;
    float scale = (float)run->world / (float)f->participants;
    for (size_t i = 0; i < run->dim; i++)
        run->x[i] *= scale;
    if (f->takes_part)
        lsgd_run_measure_drift(run, run->x);
    else
        run->round_drift = NAN;
    if (run->set.has_outer && lsgd_outer_step(run, err))
        return err->code;
    return lsgd_run_scaling_policy(run, err);
}

static size_t records(const lsgd_run *run, lsgd_record *out)
{
    fedavg *f = run->algorithm_state;
    out[0] = (lsgd_record){"fedavg.sample", &f->sample, sizeof f->sample};
    return 1;
}

static void fedavg_close(lsgd_run *run)
{
    free(run->algorithm_state);
}

const lsgd_algorithm lsgd_algorithm_fedavg = {
    .name = "fedavg",
    .check = check,
    .check_world = check_world,
    .open = fedavg_open,
    .steps = steps,
    .communicate = communicate,
    .records = records,
    .close = fedavg_close,
};
