/*
 * algorithm.h — the boundary between the engine and a local method
 * (docs/algorithms.md): what a worker does between communications and how
 * a round ends.
 *
 * Each method is one file, core/src/engine/algorithms/<name>.c, exporting
 * one lsgd_algorithm; algorithms/table.c lists them, and nothing else in
 * lsgd asks which one runs.  The engine calls, for a run:
 *
 *   check        at config load (lsgd run, validate, worker): the rules of
 *                its config section that the schema cannot say
 *   check_world  with the number of workers M (lsgd run and validate
 *                before any worker starts, and each worker): the rules
 *                that need M
 *   open         once x₀ is in run->x: its state behind run->algorithm_state
 *   then, every round r (local steps t_{r−1} … t_r − 1):
 *     steps      the round's local steps, up to step `end` (run->step = end)
 *     communicate  the end of the round (an average, the scaling policy)
 *     consensus  the model the round's report evaluates
 *     settle     before a checkpoint: no communication left in flight
 *   finish       after the last round: x̄ in run->x, every report delivered
 *   records      what a checkpoint keeps of its state (saved, size-checked
 *                and restored by snapshot.c), then restored() after a resume
 *   close        free the state (also after a failed open)
 * An op left NULL means: nothing of this kind (check, check_world, open, settle,
 * records, restored, close), run->x (consensus), deliver the last report
 * (finish).  steps and communicate are required.
 *
 * The pieces every method is made of (minibatches, gradients, the scaling
 * step, timed averages, the scaling policy, failures that say where) are
 * in engine/steps.h; the outer optimizer (engine/outer.h) composes with
 * every method whose round ends in communicate_models.
 */
#ifndef LSGD_ALGORITHM_H
#define LSGD_ALGORITHM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lsgd/errors.h"

struct lsgd_run;

/* A checkpoint record of an algorithm's state: `bytes` bytes at data. */
typedef struct lsgd_record {
    const char *name;
    void *data;
    size_t bytes;
} lsgd_record;

enum { LSGD_ALGORITHM_RECORDS = 8 };

typedef struct lsgd_algorithm {
    const char *name; /* algorithm.type */
    int full_batch;   /* steps and refreshes on the whole shard: no minibatches */
    int (*check)(const json_t *cfg, lsgd_error *err);
    int (*check_world)(const json_t *cfg, int world, lsgd_error *err);
    int (*open)(struct lsgd_run *run, lsgd_error *err);
    int (*steps)(struct lsgd_run *run, uint64_t end, lsgd_error *err);
    int (*communicate)(struct lsgd_run *run, lsgd_error *err);
    const float *(*consensus)(const struct lsgd_run *run);
    int (*settle)(struct lsgd_run *run, lsgd_error *err);
    int (*finish)(struct lsgd_run *run, lsgd_error *err);
    /* out[LSGD_ALGORITHM_RECORDS]; returns how many */
    size_t (*records)(const struct lsgd_run *run, lsgd_record *out);
    int (*restored)(struct lsgd_run *run, lsgd_error *err);
    void (*close)(struct lsgd_run *run);
} lsgd_algorithm;

/* table.c */
/* The algorithm named `name`; NULL when there is none. */
const lsgd_algorithm *lsgd_algorithm_find(const char *name);
/* The algorithm of cfg's algorithm.type (the schema's default when absent),
 * or an input error listing the names there are. */
int lsgd_algorithm_of(const lsgd_algorithm **out, const json_t *cfg, lsgd_error *err);
/* Its cross-key rules, for config.c's checks. */
int lsgd_algorithm_check(const json_t *cfg, lsgd_error *err);
/* Every algorithm, in the table's order, NULL-terminated. */
const lsgd_algorithm *const *lsgd_algorithm_all(void);

#endif
