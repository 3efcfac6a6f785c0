/*
 * settings.c — the config read once into plain fields (run.h's
 * lsgd_settings), and the checks that refuse combinations that make no
 * sense before anything starts (exit 2 with the reason):
 *   overlap_local_sgd with period 0 or with α = 1 and β = 0 (the anchor
 *   never moves), increasing schedules with more rounds than steps, a
 *   regularized local_gd with an outer optimizer, and policies that the
 *   chosen algorithm cannot honour.  (More workers than samples is checked
 *   once the data is loaded; a plugin needing an HVP the model lacks is
 *   refused by the loader.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run.h"

/* cfg["a"]["b"]… for "a.b…"; NULL when absent. */
static const json_t *get(const json_t *cfg, const char *dotted)
{
    char key[256];
    const json_t *node = cfg;
    while (node && *dotted) {
        const char *dot = strchr(dotted, '.');
        size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, dotted, n);
        key[n] = '\0';
        node = json_object_get(node, key);
        dotted += n + (dot != NULL);
    }
    return node;
}

static double number(const json_t *cfg, const char *dotted, double fallback)
{
    const json_t *v = get(cfg, dotted);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

/* A count or seed: the config's integer (the schema turned 20.0 into 20 and
 * config_limits.c bounded it), read without a trip through double, which
 * would round seeds above 2^53; fallback when absent. */
static uint64_t count(const json_t *cfg, const char *dotted, uint64_t fallback)
{
    const json_t *v = get(cfg, dotted);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
                                                           : fallback;
}

static const char *string(const json_t *cfg, const char *dotted, const char *fallback)
{
    const char *s = json_string_value(get(cfg, dotted));
    return s ? s : fallback;
}

static int boolean(const json_t *cfg, const char *dotted, int fallback)
{
    const json_t *v = get(cfg, dotted);
    return json_is_boolean(v) ? json_is_true(v) : fallback;
}

static int pick(const char *value, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    return -1;
}

char *lsgd_settings_config_text(const json_t *cfg)
{
    json_t *copy = json_deep_copy(cfg);
    json_object_del(copy, "output");
    json_object_del(copy, "run_id");
    char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(copy);
    return text;
}

/* FNV-1a of lsgd_settings_config_text: a checkpoint only resumes the
 * config that wrote it. */
static uint64_t config_hash(const json_t *cfg)
{
    char *text = lsgd_settings_config_text(cfg);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = text; p && *p; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ull;
    }
    free(text);
    return h;
}

int lsgd_settings_read(lsgd_settings *s, const json_t *cfg, lsgd_error *err)
{
    static const char *const algorithms[] = {"local_sgd", "minibatch_sgd",
                                             "overlap_local_sgd", "local_gd"};
    static const char *const policies[] = {"local", "average", "reset"};
    memset(s, 0, sizeof *s);
    s->seed = count(cfg, "seed", 1);
    const char *alg = string(cfg, "algorithm.type", "local_sgd");
    s->algorithm = pick(alg, algorithms, 4);
    if (s->algorithm < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.type: '%s'; expected local_sgd, minibatch_sgd, "
                              "overlap_local_sgd or local_gd", alg);
    s->steps = count(cfg, "algorithm.steps", 1000);
    s->batch_size = (size_t)count(cfg, "algorithm.batch_size", 64);
    if (s->steps < 1 || s->batch_size < 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.steps = %llu, algorithm.batch_size = %zu; expected both "
                              "at least 1", (unsigned long long)s->steps, s->batch_size);
    s->with_replacement = strcmp(string(cfg, "algorithm.sampling", "reshuffle"),
                                 "with_replacement") == 0;
    s->refresh_sync = strcmp(string(cfg, "scaling.refresh", "local"), "sync") == 0;
    const char *state = string(cfg, "scaling.state", "local");
    s->state_policy = pick(state, policies, 3);
    if (s->state_policy < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.state: '%s'; expected local, average or reset", state);
    s->alpha = (float)number(cfg, "algorithm.overlap.alpha", 0.6);
    s->beta = (float)number(cfg, "algorithm.overlap.beta", 0.0);
    s->gd_regularized = strcmp(string(cfg, "algorithm.local_gd.variant", "plain"),
                               "regularized") == 0;
    s->gd_lambda = number(cfg, "algorithm.local_gd.lambda", 1.0);
    s->gd_tolerance = number(cfg, "algorithm.local_gd.tolerance", 1e-6);
    s->gd_max_inner = count(cfg, "algorithm.local_gd.max_inner", 1000);
    s->has_outer = get(cfg, "outer") != NULL && json_is_object(get(cfg, "outer"));
    s->outer_lr = number(cfg, "outer.lr", 1.0);
    s->eval_every = count(cfg, "output.eval_every", 1);
    s->checkpoint_every = count(cfg, "output.checkpoint_every", 0);
    s->checkpoint_seconds = number(cfg, "output.checkpoint_seconds", 60);
    if (s->eval_every == 0)
        s->eval_every = 1;
    s->want_drift = boolean(cfg, "metrics.drift", 1);
    s->want_max_margin = boolean(cfg, "metrics.max_margin", 0);
    s->want_objective = boolean(cfg, "metrics.objective", 0);
    s->progress = string(cfg, "output.progress", "auto");
    snprintf(s->out_dir, sizeof s->out_dir, "%s", string(cfg, "output.dir", "runs/run"));
    s->config_hash = config_hash(cfg);
    return LSGD_OK;
}

int lsgd_settings_check(const lsgd_settings *s, const lsgd_schedule *schedule,
                        const json_t *cfg, lsgd_error *err)
{
    if (s->algorithm == LSGD_ALG_OVERLAP) {
        if (s->alpha == 1.0f && s->beta == 0.0f)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "algorithm.overlap: alpha 1 with beta 0 freezes the anchor "
                                  "at x0 and the run never mixes; expected alpha < 1 or "
                                  "beta > 0");
        if (s->refresh_sync)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "scaling.refresh: 'sync' needs the averaged model at each "
                                  "communication, which overlap_local_sgd never waits for; "
                                  "expected 'local'");
        if (s->state_policy == LSGD_STATE_AVERAGE)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "scaling.state: 'average' would block overlap_local_sgd's "
                                  "non-blocking average; expected 'local' or 'reset'");
        if (s->has_outer)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "outer: overlap_local_sgd has its own anchor update; an "
                                  "outer optimizer does not combine with it");
    }
    if (s->algorithm == LSGD_ALG_MINIBATCH_SGD && s->has_outer)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "outer: minibatch_sgd averages gradients every step, so there is "
                              "no pseudo-gradient for an outer optimizer");
    if (s->refresh_sync && s->state_policy != LSGD_STATE_LOCAL)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.state: '%s' with refresh 'sync'; the synchronised "
                              "preconditioner is already identical on all workers, expected "
                              "'local'", s->state_policy == LSGD_STATE_AVERAGE ? "average"
                                                                             : "reset");
    if (lsgd_compression_check(cfg, string(cfg, "algorithm.type", "local_sgd"),
                               s->gd_regularized, err))
        return err->code;
    if (schedule->rounds > schedule->steps)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "schedule: %zu rounds for %llu steps; expected at most one round "
                              "per step", schedule->rounds, (unsigned long long)schedule->steps);
    (void)cfg;
    return LSGD_OK;
}
