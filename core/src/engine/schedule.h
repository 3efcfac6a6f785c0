/*
 * schedule.h — when workers communicate and how large each step is
 * (docs/algorithms.md §2).
 *
 * A communication schedule is the list of times 0 = t_0 < t_1 < … < t_R = T
 * (in local steps); round r runs the steps t_{r−1} … t_r − 1 and ends with
 * an average.  A step-size schedule gives γ_t for the 0-based step t.
 */
#ifndef LSGD_SCHEDULE_H
#define LSGD_SCHEDULE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lsgd/errors.h"

enum lsgd_schedule_type {
    LSGD_SCHEDULE_CONSTANT,
    LSGD_SCHEDULE_INCREASING,
    LSGD_SCHEDULE_ONE_SHOT,
    LSGD_SCHEDULE_EVERY_STEP
};

/* The times are computed when asked (lsgd_schedule_time), never tabled:
 * an every-step schedule of 10^9 steps holds no more than a constant one. */
typedef struct lsgd_schedule {
    int type;        /* enum lsgd_schedule_type */
    uint64_t steps;  /* T */
    size_t rounds;   /* R */
    uint64_t period; /* constant: the period */
    double slope;    /* increasing by slope: a; 0 when R is given */
} lsgd_schedule;

/* constant: t_r = min(r·period, T). */
int lsgd_schedule_constant(lsgd_schedule *s, uint64_t steps, uint64_t period, lsgd_error *err);
/* increasing with R rounds: t_r = ⌊T·r(r+1)/(R(R+1))⌋ = ⌊a·r(r+1)/2⌋ with
 * a = 2T/(R(R+1)), at least one step per round; R ≤ T. */
int lsgd_schedule_increasing_rounds(lsgd_schedule *s, uint64_t steps, uint64_t rounds,
                                    lsgd_error *err);
/* increasing with slope a: R = ⌈(−1+√(1+8T/a))/2⌉, t_r = min(⌊a·r(r+1)/2⌋, T). */
int lsgd_schedule_increasing_slope(lsgd_schedule *s, uint64_t steps, double slope,
                                   lsgd_error *err);
int lsgd_schedule_one_shot(lsgd_schedule *s, uint64_t steps, lsgd_error *err);
int lsgd_schedule_every_step(lsgd_schedule *s, uint64_t steps, lsgd_error *err);

/* From the config's "schedule" object and T; errors name schedule.* keys. */
int lsgd_schedule_from_config(lsgd_schedule *s, const json_t *schedule, uint64_t steps,
                              lsgd_error *err);

/* t_r for 0 ≤ r ≤ R: t_0 = 0 < t_1 < … < t_R = T (r > R: T). */
uint64_t lsgd_schedule_time(const lsgd_schedule *s, size_t r);

const char *lsgd_schedule_name(int type);

/* ---- step sizes ---- */

enum lsgd_lr_type {
    LSGD_LR_CONSTANT,
    LSGD_LR_INVERSE,
    LSGD_LR_STEP,
    LSGD_LR_COSINE,
    LSGD_LR_WARMUP
};

typedef struct lsgd_lr_schedule {
    int type;        /* enum lsgd_lr_type */
    double lr;       /* algorithm.lr: the base step size */
    uint64_t steps;  /* T (cosine) */
    double c, mu, b; /* inverse: γ_t = c/(μ(t+b)); defaults c = lr, μ = 1, b = 1 */
    double cap;      /* inverse: γ_t ≤ cap (0: none) */
    double gamma;    /* step: factor [0.1] */
    uint64_t every;  /* step: every this many steps [⌈T/3⌉] */
    uint64_t warmup; /* linear warm-up steps before any schedule [0; warmup: T/10] */
    double min_lr;   /* cosine: floor [0] */
} lsgd_lr_schedule;

/* algorithm = the config's "algorithm" object (lr, steps, lr_schedule). */
int lsgd_lr_from_config(lsgd_lr_schedule *s, const json_t *algorithm, lsgd_error *err);
/* γ_t for the 0-based local step t. */
double lsgd_lr_at(const lsgd_lr_schedule *s, uint64_t t);

#endif
