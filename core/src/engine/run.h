/*
 * run.h — the state of one worker's run, shared by the engine's files:
 *
 *   worker.c    lsgd_worker_run: open everything, train, write outputs, close
 *   settings.c  the config read once into plain fields
 *   rounds.c    the loop over communication rounds: the algorithm's steps
 *               and communication (engine/algorithm.h, one file each in
 *               algorithms/), the report, checkpoints
 *   steps.c     what the algorithms are made of: gradients, the scaling
 *               step, averages, the scaling policy (engine/steps.h)
 *   outer.c     the outer optimizer at communication
 *   report.c    per-round measurements, carried to rank 0 inside the next
 *               average (no extra collective), evaluation, metrics rows
 *   snapshot.c  checkpoints: save and restore everything a bitwise resume needs
 *   header.c    what the run is, said once at the start (run.json, shards.json)
 *
 * Random streams (seed = the config's seed): model init STREAM_INIT (same
 * on every rank, so x₀ agrees), minibatches STREAM_BATCH + rank, the noise
 * of stochastic objectives STREAM_NOISE + rank, the scaling plugin's
 * random() STREAM_SCALING + rank, fedavg's sample of participants
 * STREAM_PARTICIPANTS (same on every rank).
 */
#ifndef LSGD_RUN_H
#define LSGD_RUN_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "data/dataset.h"
#include "engine/compression.h"
#include "engine/algorithm.h"
#include "engine/sampler.h"
#include "engine/schedule.h"
#include "host/registry.h"
#include "host/scaling_host.h"
#include "host/transport_host.h"
#include "io/metrics.h"
#include "io/progress.h"
#include "io/run_dir.h"
#include "lsgd/errors.h"
#include "models/model.h"
#include "util/rng.h"

enum {
    LSGD_STREAM_INIT = 0x1000,
    LSGD_STREAM_BATCH = 0x2000,
    LSGD_STREAM_NOISE = 0x3000,
    LSGD_STREAM_SCALING = 0x4000,
    LSGD_STREAM_MARGIN = 0x5000,
    LSGD_STREAM_PARTICIPANTS = 0x6000
};

enum lsgd_state_policy { LSGD_STATE_LOCAL, LSGD_STATE_AVERAGE, LSGD_STATE_RESET };

/* The config, read once. */
typedef struct lsgd_settings {
    uint64_t seed;
    const lsgd_algorithm *algorithm; /* algorithm.type */
    uint64_t steps;           /* T */
    size_t batch_size;
    int with_replacement;
    int refresh_sync;         /* scaling.refresh == "sync" */
    int state_policy;         /* scaling.state */
    int has_outer;
    double outer_lr;
    uint64_t eval_every, checkpoint_every;
    double checkpoint_seconds; /* 0: by rounds only */
    int want_drift, want_max_margin, want_objective;
    const char *progress;
    char out_dir[4096];
    uint64_t config_hash;     /* of everything but output.* and run_id */
} lsgd_settings;

/* Per-worker measurements of one round, sent to rank 0 in the slots that
 * follow the next averaged buffer (slot value / M after the mean, so rank 0
 * multiplies back by M). */
enum lsgd_report_field {
    REPORT_TRAIN_LOSS, REPORT_GRAD_NORM, REPORT_DRIFT, REPORT_D_MIN, REPORT_D_MAX,
    REPORT_BYTES, REPORT_COMPUTE_S, REPORT_COMM_S,
    REPORT_TEST_LOSS_SUM, REPORT_TEST_CORRECT, REPORT_TEST_COUNT,
    REPORT_OBJECTIVE_SUM, REPORT_OBJECTIVE_COUNT,
    REPORT_LOCAL_MARGIN,
    REPORT_CHECKPOINT_DUE, /* rank 0's clock says: checkpoint at the end of this round */
    REPORT_FIELDS
};

/* A round's report waiting to travel (the outbox) or travelling. */
typedef struct lsgd_report {
    uint64_t round;    /* 0: nothing */
    uint64_t step;
    double wall_s, lr;
    double max_margin_cos; /* rank 0's cos(x̄, ŵ) */
    float values[REPORT_FIELDS];
} lsgd_report;

/* What the HVP oracle of the scaling context needs. */
typedef struct lsgd_oracle {
    lsgd_model *model;
    const float *x;
    const lsgd_batch *batch;
    lsgd_rng *rng;
} lsgd_oracle;

typedef struct lsgd_run {
    const json_t *cfg;
    int rank, world;
    const char *run_id;
    lsgd_settings set;
    lsgd_schedule schedule;
    lsgd_lr_schedule lr;

    /* data and model */
    lsgd_dataset *train, *test;
    lsgd_shard shard;
    lsgd_sampler sampler;
    int has_sampler;
    uint32_t *test_rows;   /* [test_n] this worker's slice of the test set */
    size_t test_n;
    lsgd_model *model;
    size_t dim;
    size_t slots;          /* world × REPORT_FIELDS floats after each averaged buffer */

    /* the algorithm (set.algorithm) and its state, its own (algorithm.h) */
    void *algorithm_state;

    /* plugins */
    lsgd_registry registry;
    int has_registry;
    lsgd_scaling scaling;
    int has_scaling;
    lsgd_scaling outer;
    lsgd_transport *transport;
    lsgd_compression *compression; /* NULL: models averaged uncompressed */

    /* vectors [dim] ([dim + slots] where averaged with a report) */
    float *x;         /* this worker's model, then report slots */
    float *g;         /* minibatch gradient, then report slots (minibatch_sgd) */
    float *x_before;  /* x just before the average (drift, local margin) */
    float *x_prev;    /* outer: the last synchronised model */
    float *margin_w;  /* max_margin: ŵ [weights] */
    float *margin_local; /* max_margin: ŵ_m */
    size_t margin_len;   /* coordinates of x compared with ŵ */

    /* randomness */
    lsgd_rng noise_rng, scaling_rng;
    lsgd_batch batch;
    lsgd_oracle oracle;
    lsgd_scaling_ctx ctx;

    /* progress */
    uint64_t round;   /* rounds completed */
    uint64_t step;    /* local steps completed */
    double wall_origin; /* monotonic seconds at wall_s = 0 */
    double round_loss_sum;
    uint64_t round_loss_count;
    double round_compute_s, round_comm_s;
    double last_grad_norm;
    double round_drift;   /* (1/M)Σ‖x_m − x̄‖² part of this worker, NAN when not measured */
    uint64_t bytes_at_round_start;
    lsgd_report outbox;    /* report of a finished round, not yet sent */
    lsgd_report in_flight; /* report riding on the average in progress */
    double *local_margins; /* [world] rank 0's last per-worker cosines */

    /* outputs (rank 0) */
    lsgd_run_dir dir;      /* output.dir, claimed by rank 0 unless its launcher did */
    int has_dir;
    int finished_before;   /* --resume of a run that had finished: nothing to do */
    lsgd_metrics metrics;
    int has_metrics;
    lsgd_progress progress;
    double last_test_loss, last_test_accuracy, last_objective;
    uint64_t checkpoint_round; /* last checkpoint written or resumed from (0: none) */
    double checkpoint_clock;   /* lsgd_now() at the start or the last checkpoint */
    int checkpoint_due;        /* rank 0's clock said so in an average of this round */
    long metrics_resume_jsonl, metrics_resume_csv; /* rank 0: metrics bytes to keep */
} lsgd_run;

/* Set by SIGINT/SIGTERM while a worker runs. */
extern volatile sig_atomic_t lsgd_interrupted;

/* settings.c */
/* cfg without output.* and run_id as canonical JSON text (sorted keys,
 * compact; malloc'd): what a checkpoint keeps of the config that wrote it. */
char *lsgd_settings_config_text(const json_t *cfg);
int lsgd_settings_read(lsgd_settings *s, const json_t *cfg, lsgd_error *err);

/* rounds.c */
int lsgd_run_prepare_scaling(lsgd_run *run, lsgd_error *err);
int lsgd_run_train(lsgd_run *run, lsgd_error *err);
int lsgd_run_finish(lsgd_run *run, lsgd_error *err);

/* steps.c */
double lsgd_now(void);

/* report.c */
void lsgd_report_pack(lsgd_run *run, float *slots);
int lsgd_report_unpack(lsgd_run *run, const float *slots, lsgd_error *err);
int lsgd_report_close_round(lsgd_run *run, const float *model, lsgd_error *err);
int lsgd_report_flush(lsgd_run *run, lsgd_error *err);
/* metrics.max_margin asked of data and a model that have one. */
int lsgd_report_check_margins(const lsgd_run *run, lsgd_error *err);
int lsgd_report_prepare_margins(lsgd_run *run, lsgd_error *err);

/* header.c: rank 0 prints the run header and writes run.json and
 * shards.json into the output directory. */
int lsgd_run_header(lsgd_run *run, const char *config_path, int resume, lsgd_error *err);

/* snapshot.c */
/* Whether a checkpoint is due at the end of the round just completed:
 * every output.checkpoint_every rounds, or when rank 0's clock said so
 * (the same answer on every rank). */
int lsgd_snapshot_due(const lsgd_run *run);
/* Rank 0: 1 when output.checkpoint_seconds have passed since the last
 * checkpoint (it rides to every rank in the next average), else 0. */
float lsgd_snapshot_clock_says(const lsgd_run *run);
int lsgd_snapshot_save(lsgd_run *run, lsgd_error *err);
int lsgd_snapshot_restore(lsgd_run *run, lsgd_error *err);
/* "<dir>/checkpoint/rank-<r>.ckpt" */
void lsgd_snapshot_path(char *out, size_t n, const lsgd_run *run, int previous);

#endif
