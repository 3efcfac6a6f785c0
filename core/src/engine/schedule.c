/*
 * schedule.c — communication times (constant, increasing, one-shot, every
 * step) and step sizes (constant, inverse, step, cosine, warm-up), as
 * docs/algorithms.md §2 defines them.  Times are exact integers, computed
 * when asked in O(1) (no table of R entries): the increasing schedule uses
 * ⌊T·r(r+1)/(R(R+1))⌋ so t_R is exactly T.
 */
#include "engine/schedule.h"

#include <math.h>
#include <string.h>

static void schedule_init(lsgd_schedule *s, int type, uint64_t steps, size_t rounds)
{
    memset(s, 0, sizeof *s);
    s->type = type;
    s->steps = steps;
    s->rounds = rounds;
}

int lsgd_schedule_constant(lsgd_schedule *s, uint64_t steps, uint64_t period, lsgd_error *err)
{
    if (steps == 0 || period == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "schedule.period: %llu; expected a period of at least 1 step",
                              (unsigned long long)period);
    schedule_init(s, LSGD_SCHEDULE_CONSTANT, steps, (size_t)((steps + period - 1) / period));
    s->period = period;
    return LSGD_OK;
}

int lsgd_schedule_increasing_rounds(lsgd_schedule *s, uint64_t steps, uint64_t rounds,
                                    lsgd_error *err)
{
    if (rounds == 0 || rounds > steps)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "schedule.rounds: %llu rounds for algorithm.steps = %llu; "
                              "expected 1 ≤ rounds ≤ steps (each round needs a step)",
                              (unsigned long long)rounds, (unsigned long long)steps);
    schedule_init(s, LSGD_SCHEDULE_INCREASING, steps, (size_t)rounds);
    return LSGD_OK;
}

int lsgd_schedule_increasing_slope(lsgd_schedule *s, uint64_t steps, double slope,
                                   lsgd_error *err)
{
    if (!(slope > 0) || !isfinite(slope))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "schedule.slope: %g; expected a number > 0",
                              slope);
    double T = (double)steps;
    double guess = ceil((-1.0 + sqrt(1.0 + 8.0 * T / slope)) / 2.0);
    uint64_t rounds = guess < 1 ? 1 : (uint64_t)guess;
    /* The smallest R with a·R(R+1)/2 ≥ T, robust to rounding in sqrt. */
    while (rounds > 1 && slope * (double)(rounds - 1) * (double)rounds / 2.0 >= T)
        rounds--;
    while (slope * (double)rounds * (double)(rounds + 1) / 2.0 < T)
        rounds++;
    if (rounds > steps)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "schedule.slope: %g gives %llu rounds for algorithm.steps = "
                              "%llu; expected at most one round per step (a larger slope)",
                              slope, (unsigned long long)rounds, (unsigned long long)steps);
    schedule_init(s, LSGD_SCHEDULE_INCREASING, steps, (size_t)rounds);
    s->slope = slope;
    return LSGD_OK;
}

int lsgd_schedule_one_shot(lsgd_schedule *s, uint64_t steps, lsgd_error *err)
{
    schedule_init(s, LSGD_SCHEDULE_ONE_SHOT, steps, 1);
    return LSGD_OK;
}

int lsgd_schedule_every_step(lsgd_schedule *s, uint64_t steps, lsgd_error *err)
{
    schedule_init(s, LSGD_SCHEDULE_EVERY_STEP, steps, (size_t)steps);
    return LSGD_OK;
}

/* The increasing schedule's ⌊a·r(r+1)/2⌋ before each round is given a
 * step; 0 < r < R, so it is below T. */
static uint64_t increasing_raw(const lsgd_schedule *s, size_t r)
{
    if (s->slope > 0)
        return (uint64_t)floor(s->slope * (double)r * (double)(r + 1) / 2.0);
    /* ⌊T·r(r+1) / (R(R+1))⌋ in 128-bit integers: exact. */
    unsigned __int128 denom = (unsigned __int128)s->rounds * (s->rounds + 1);
    return (uint64_t)((unsigned __int128)s->steps * r * (r + 1) / denom);
}

uint64_t lsgd_schedule_time(const lsgd_schedule *s, size_t r)
{
    if (r == 0)
        return 0;
    if (r >= s->rounds)
        return s->steps;
    switch (s->type) {
    case LSGD_SCHEDULE_CONSTANT:
        return r * s->period;
    case LSGD_SCHEDULE_INCREASING: {
        /* Every round gets a step: t_r = max(raw_r, t_{r−1} + 1), which is
         * max(raw_r, r), since wherever raw_{r−1} ≥ r the raw times
         * already grow by more than 2 a round (a·r ≥ 2 + a). */
        uint64_t raw = increasing_raw(s, r);
        return raw > r ? raw : r;
    }
    default: /* every step (one-shot has no 0 < r < R) */
        return r;
    }
}

int lsgd_schedule_from_config(lsgd_schedule *s, const json_t *schedule, uint64_t steps,
                              lsgd_error *err)
{
    memset(s, 0, sizeof *s);
    const char *type = json_string_value(json_object_get(schedule, "type"));
    if (!type)
        type = "constant";
    if (steps == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "algorithm.steps: 0; expected at least 1");
    if (strcmp(type, "constant") == 0) {
        json_t *period = json_object_get(schedule, "period");
        json_int_t p = period ? json_integer_value(period) : 8;
        if (p < 1)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "schedule.period: %lld; expected at least 1 step",
                                  (long long)p);
        return lsgd_schedule_constant(s, steps, (uint64_t)p, err);
    }
    if (strcmp(type, "increasing") == 0) {
        json_t *rounds = json_object_get(schedule, "rounds");
        json_t *slope = json_object_get(schedule, "slope");
        if ((rounds != NULL) == (slope != NULL))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "schedule: type 'increasing' needs exactly one of "
                                  "'rounds' or 'slope'");
        if (rounds) {
            json_int_t r = json_integer_value(rounds);
            if (r < 1)
                return lsgd_error_set(err, LSGD_ERR_INPUT,
                                      "schedule.rounds: %lld; expected at least 1",
                                      (long long)r);
            return lsgd_schedule_increasing_rounds(s, steps, (uint64_t)r, err);
        }
        return lsgd_schedule_increasing_slope(s, steps, json_number_value(slope), err);
    }
    if (strcmp(type, "one_shot") == 0)
        return lsgd_schedule_one_shot(s, steps, err);
    if (strcmp(type, "every_step") == 0)
        return lsgd_schedule_every_step(s, steps, err);
    return lsgd_error_set(err, LSGD_ERR_INPUT,
                          "schedule.type: '%s'; expected constant, increasing, one_shot or "
                          "every_step", type);
}

const char *lsgd_schedule_name(int type)
{
    switch (type) {
    case LSGD_SCHEDULE_CONSTANT: return "constant";
    case LSGD_SCHEDULE_INCREASING: return "increasing";
    case LSGD_SCHEDULE_ONE_SHOT: return "one_shot";
    case LSGD_SCHEDULE_EVERY_STEP: return "every_step";
    }
    return "?";
}

/* ---- step sizes ---- */

static double number_or(const json_t *obj, const char *key, double fallback)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

int lsgd_lr_from_config(lsgd_lr_schedule *s, const json_t *algorithm, lsgd_error *err)
{
    memset(s, 0, sizeof *s);
    s->lr = number_or(algorithm, "lr", 0.01);
    s->steps = (uint64_t)number_or(algorithm, "steps", 1000);
    if (!(s->lr > 0))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "algorithm.lr: %g; expected a number > 0",
                              s->lr);
    const json_t *cfg = json_object_get(algorithm, "lr_schedule");
    const char *type = json_string_value(json_object_get(cfg, "type"));
    static const char *const names[] = {"constant", "inverse", "step", "cosine", "warmup"};
    s->type = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(type ? type : "constant", names[i]) == 0)
            s->type = i;
    if (s->type < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.lr_schedule.type: '%s'; expected constant, inverse, "
                              "step, cosine or warmup", type);
    s->c = number_or(cfg, "c", s->lr);
    s->mu = number_or(cfg, "mu", 1.0);
    s->b = number_or(cfg, "b", 1.0);
    s->cap = number_or(cfg, "cap", 0.0);
    s->gamma = number_or(cfg, "gamma", 0.1);
    s->every = (uint64_t)number_or(cfg, "every", (double)((s->steps + 2) / 3));
    s->warmup = (uint64_t)number_or(cfg, "warmup_steps",
                                    s->type == LSGD_LR_WARMUP ? (double)((s->steps + 9) / 10) : 0);
    s->min_lr = number_or(cfg, "min_lr", 0.0);
    if (!(s->mu > 0) || !(s->c > 0) || s->b < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.lr_schedule: c = %g, mu = %g, b = %g; expected c > 0, "
                              "mu > 0, b ≥ 0", s->c, s->mu, s->b);
    if (s->type == LSGD_LR_INVERSE && s->b == 0 && s->cap == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.lr_schedule: inverse with b = 0 and no cap divides by "
                              "zero at t = 0; expected b > 0 or a cap");
    if (s->every == 0)
        s->every = 1;
    return LSGD_OK;
}

double lsgd_lr_at(const lsgd_lr_schedule *s, uint64_t t)
{
    if (t < s->warmup)
        return s->lr * (double)(t + 1) / (double)s->warmup;
    switch (s->type) {
    case LSGD_LR_INVERSE: {
        double g = s->c / (s->mu * ((double)t + s->b));
        return s->cap > 0 && g > s->cap ? s->cap : g;
    }
    case LSGD_LR_STEP:
        return s->lr * pow(s->gamma, (double)(t / s->every));
    case LSGD_LR_COSINE: {
        double span = s->steps > s->warmup ? (double)(s->steps - s->warmup) : 1.0;
        double phase = (double)(t - s->warmup) / span;
        return s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * phase));
    }
    default:
        return s->lr;
    }
}
