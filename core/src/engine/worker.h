/*
 * worker.h — one worker of a run: load its shard, build the model, load the
 * plugins, open the transport, train through the schedule's rounds, write
 * metrics, checkpoints and (rank 0) the final model.
 */
#ifndef LSGD_WORKER_H
#define LSGD_WORKER_H

#include <jansson.h>

#include "lsgd/errors.h"

typedef struct lsgd_worker_args {
    int rank;
    int world;
    const char *run_id;
    int resume;
    int force;               /* replace the run in output.dir (io/run_dir.h) */
    const char *config_path; /* for the run header and run.json; may be NULL */
    double started;          /* lsgd_now() when the process started; 0: unknown */
    int announce;            /* rank > 0 says on stdout when it joins and finishes */
} lsgd_worker_args;

/* cfg already loaded and checked by lsgd_config_load.  Returns 0, or the
 * status to exit with (1 runtime, 2 input) with err filled. */
int lsgd_worker_run(const json_t *cfg, const lsgd_worker_args *args, lsgd_error *err);

/* Every check a run of `world` workers makes before it trains, done once
 * in this process by the code the workers use (`lsgd run` and `lsgd
 * validate` both call it): the settings and their combinations; each
 * plugin loaded and checked against its manifest, an outer plugin that
 * needs Hessian-vector products refused; and with with_data the training
 * and test sets (loaded), at most one worker per sample, every worker's
 * shard non-empty and holding a minibatch, the model built on the data,
 * the scaling and outer plugins opened on it (an HVP the model lacks,
 * refresh 'sync' without statistic/refresh), files named by plugin
 * parameters (CURVE keys) readable, the metrics the data allow.  Creates
 * nothing on disk.  Returns 0, or 2 (1 when out of memory) with err
 * filled. */
int lsgd_worker_preflight(const json_t *cfg, int world, int with_data, lsgd_error *err);

#endif
