/*
 * settings.c — the config read once into plain fields (run.h's
 * lsgd_settings) through config.c's getters, so every default is the
 * schema's.  The rules that refuse combinations are checked where the
 * config is loaded (config.c's cross-field checks, each algorithm's check
 * in its ops table); what needs the data or the plugins is checked as
 * they are opened (worker.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/algorithm.h"
#include "engine/run.h"
#include "host/config.h"

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
    static const char *const policies[] = {"local", "average", "reset"};
    memset(s, 0, sizeof *s);
    if (lsgd_algorithm_of(&s->algorithm, cfg, err))
        return err->code;
    s->seed = lsgd_setting_count(cfg, "seed");
    s->steps = lsgd_setting_count(cfg, "algorithm.steps");
    s->batch_size = (size_t)lsgd_setting_count(cfg, "algorithm.batch_size");
    if (s->steps < 1 || s->batch_size < 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "algorithm.steps = %llu, algorithm.batch_size = %zu; expected both "
                              "at least 1", (unsigned long long)s->steps, s->batch_size);
    s->with_replacement =
        strcmp(lsgd_setting_string(cfg, "algorithm.sampling"), "with_replacement") == 0;
    s->refresh_sync = strcmp(lsgd_setting_string(cfg, "scaling.refresh"), "sync") == 0;
    const char *state = lsgd_setting_string(cfg, "scaling.state");
    s->state_policy = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(state, policies[i]) == 0)
            s->state_policy = i;
    if (s->state_policy < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling.state: '%s'; expected local, average or reset", state);
    s->has_outer = json_is_object(lsgd_config_get(cfg, "outer"));
    s->outer_lr = lsgd_setting_number(cfg, "outer.lr");
    s->eval_every = lsgd_setting_count(cfg, "output.eval_every");
    if (s->eval_every == 0)
        s->eval_every = 1;
    s->checkpoint_every = lsgd_setting_count(cfg, "output.checkpoint_every");
    s->checkpoint_seconds = lsgd_setting_number(cfg, "output.checkpoint_seconds");
    s->want_drift = lsgd_setting_bool(cfg, "metrics.drift");
    s->want_max_margin = lsgd_setting_bool(cfg, "metrics.max_margin");
    s->want_objective = lsgd_setting_bool(cfg, "metrics.objective");
    s->progress = lsgd_setting_string(cfg, "output.progress");
    snprintf(s->out_dir, sizeof s->out_dir, "%s", lsgd_config_string(cfg, "output.dir", "runs/run"));
    s->config_hash = config_hash(cfg);
    return LSGD_OK;
}
