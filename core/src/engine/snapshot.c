/*
 * snapshot.c — checkpoints of a worker: everything a resumed run needs to
 * continue bitwise as if never stopped.
 *
 * Each rank keeps <dir>/checkpoint/rank-<r>.ckpt and the one before it,
 * rank-<r>.prev.ckpt; a new checkpoint first moves the current one aside,
 * then is written atomically (io/checkpoint.c).  Every rank checkpoints the
 * same rounds, and a rank reaches the checkpoint of round n only after an
 * average that every rank entered after writing the one before: so the
 * current file's round may be this rank's alone (the others failed or
 * were stopped first), but the previous one is every rank's.
 *
 * On --resume each rank examines its two files as input (readable,
 * intact, its own rank, this config — else why not, naming the keys that
 * changed — and every offset and position in range), the ranks agree
 * (one small average) on the newest round that every rank has, and each
 * loads that one.  When that is its previous file, it becomes the current
 * one again: the round all ranks share is never the one moved aside and
 * dropped by the next checkpoint.
 *
 * Records: meta (config hash, round, step, sizes, wall clock, metrics file
 * offsets), config (the config text, to say what changed), x, the scaling
 * state and clock (and the outer optimizer's), the records of the
 * algorithm's state (its ops table's `records`: overlap's anchor, …) and
 * the outer optimizer's x_prev ("x_sync"), the compressed average's base,
 * residual, round and plugin state, the RNG states, the sampler's
 * permutation and position, and the report of the last round, which is
 * still to be delivered.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/outer.h"
#include "engine/run.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"

typedef struct snapshot_meta {
    uint64_t config_hash;
    uint64_t round, step, dim, world, rank;
    double wall_s;
    int64_t metrics_jsonl, metrics_csv;
    uint64_t state_records; /* records of the algorithm's and the outer optimizer's state */
    uint64_t sampler_next, sampler_epoch, sampler_n;
} snapshot_meta;

void lsgd_snapshot_path(char *out, size_t n, const lsgd_run *run, int previous)
{
    snprintf(out, n, "%s/checkpoint/rank-%d%s.ckpt", run->set.out_dir, run->rank,
             previous ? ".prev" : "");
}

enum { STATE_RECORDS = LSGD_ALGORITHM_RECORDS + 1 + LSGD_COMPRESSION_RECORDS };

/* The records of the algorithm's state, the outer optimizer's and the
 * compressed average's:
 * out[STATE_RECORDS]; returns how many. */
static size_t state_records(const lsgd_run *run, lsgd_record *out)
{
    const lsgd_algorithm *alg = run->set.algorithm;
    size_t n = alg->records ? alg->records(run, out) : 0;
    n += lsgd_outer_records(run, out + n);
    return n + lsgd_compression_records(run->compression, out + n);
}

int lsgd_snapshot_due(const lsgd_run *run)
{
    uint64_t every = run->set.checkpoint_every;
    return run->round < run->schedule.rounds &&
           ((every && run->round % every == 0) || run->checkpoint_due);
}

float lsgd_snapshot_clock_says(const lsgd_run *run)
{
    double seconds = run->set.checkpoint_seconds;
    return seconds > 0 && lsgd_now() - run->checkpoint_clock >= seconds ? 1.0f : 0.0f;
}

/* Fault injection for tests (named so): LSGD_FAULT_CHECKPOINT_WRITE=R:K
 * makes rank R's checkpoint of round K fail as on a full disk, after the
 * current one was moved aside. */
static int fault_write_fails(const lsgd_run *run)
{
    const char *v = getenv("LSGD_FAULT_CHECKPOINT_WRITE");
    unsigned long long rank, round;
    return v && sscanf(v, "%llu:%llu", &rank, &round) == 2 && rank == (uint64_t)run->rank &&
           round == run->round;
}

int lsgd_snapshot_save(lsgd_run *run, lsgd_error *err)
{
    char dir[4200], cur[4300], prev[4300];
    snprintf(dir, sizeof dir, "%s/checkpoint", run->set.out_dir);
    if (lsgd_mkdirs(dir, err))
        return err->code;
    lsgd_snapshot_path(cur, sizeof cur, run, 0);
    lsgd_snapshot_path(prev, sizeof prev, run, 1);
    if (rename(cur, prev) != 0 && errno != ENOENT)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot move %s aside: %s", cur,
                              strerror(errno));

    snapshot_meta meta = {
        .config_hash = run->set.config_hash, .round = run->round, .step = run->step,
        .dim = run->dim, .world = (uint64_t)run->world, .rank = (uint64_t)run->rank,
        .wall_s = lsgd_now() - run->wall_origin,
    };
    lsgd_record records[STATE_RECORDS];
    meta.state_records = state_records(run, records);
    if (run->has_metrics) {
        long j, c;
        lsgd_metrics_offsets(&run->metrics, &j, &c);
        meta.metrics_jsonl = j;
        meta.metrics_csv = c;
    }
    if (run->has_sampler) {
        meta.sampler_next = run->sampler.next;
        meta.sampler_epoch = run->sampler.epoch;
        meta.sampler_n = run->sampler.n;
    }
    size_t scaling_bytes = lsgd_scaling_state_size(&run->scaling);
    size_t outer_bytes = run->set.has_outer ? lsgd_scaling_state_size(&run->outer) : 0;
    unsigned char *scratch = malloc(scaling_bytes + outer_bytes + 1);
    if (!scratch)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory for a checkpoint");
    if (lsgd_scaling_state_save(&run->scaling, scratch, scaling_bytes, err) ||
        (outer_bytes &&
         lsgd_scaling_state_save(&run->outer, scratch + scaling_bytes, outer_bytes, err))) {
        free(scratch);
        return err->code;
    }

    char *config = lsgd_settings_config_text(run->cfg);
    lsgd_ckpt_writer w;
    if (!config || lsgd_ckpt_begin(&w, cur, err)) {
        free(scratch);
        free(config);
        return config ? err->code
                      : lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory for a checkpoint");
    }
    lsgd_ckpt_put(&w, "meta", &meta, sizeof meta);
    lsgd_ckpt_put(&w, "config", config, strlen(config));
    free(config);
    lsgd_ckpt_put(&w, "x", run->x, run->dim * sizeof *run->x);
    lsgd_ckpt_put(&w, "scaling", scratch, scaling_bytes);
    if (outer_bytes)
        lsgd_ckpt_put(&w, "outer", scratch + scaling_bytes, outer_bytes);
    for (size_t i = 0; i < meta.state_records; i++)
        lsgd_ckpt_put(&w, records[i].name, records[i].data, records[i].bytes);
    lsgd_ckpt_put(&w, "rng.noise", &run->noise_rng, sizeof run->noise_rng);
    lsgd_ckpt_put(&w, "rng.scaling", &run->scaling_rng, sizeof run->scaling_rng);
    if (run->has_sampler) {
        lsgd_ckpt_put(&w, "sampler.order", run->sampler.order,
                      run->sampler.n * sizeof *run->sampler.order);
        lsgd_ckpt_put(&w, "sampler.rng", &run->sampler.rng, sizeof run->sampler.rng);
    }
    lsgd_ckpt_put(&w, "report", &run->outbox, sizeof run->outbox);
    free(scratch);
    if (fault_write_fails(run)) {
        lsgd_ckpt_abort(&w);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot write %s: %s (injected by "
                              "LSGD_FAULT_CHECKPOINT_WRITE)", cur, strerror(ENOSPC));
    }
    if (lsgd_ckpt_commit(&w, err))
        return err->code;
    run->checkpoint_round = run->round;
    run->checkpoint_due = 0;
    run->checkpoint_clock = lsgd_now();
    return LSGD_OK;
}


/* ---- what changed in the config ---- */

/* A value as short JSON text, "(absent)" for NULL. */
static void short_value(char *out, size_t cap, const json_t *v)
{
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    if (!v)
        snprintf(out, cap, "(absent)");
    else if (text && strlen(text) > 40)
        snprintf(out, cap, "%.37s...", text);
    else
        snprintf(out, cap, "%s", text ? text : "?");
    free(text);
}

typedef struct diff_list {
    char *out;
    size_t cap, used;
    int count;
} diff_list;

static void diff_add(diff_list *d, const char *key, const json_t *was, const json_t *now)
{
    if (d->count++ == 8) {
        snprintf(d->out + d->used, d->cap - d->used, ", ...");
        d->used += strlen(d->out + d->used);
    }
    if (d->count > 8)
        return;
    char a[64], b[64];
    short_value(a, sizeof a, was);
    short_value(b, sizeof b, now);
    int n = snprintf(d->out + d->used, d->cap - d->used, "%s%s %s → %s",
                     d->count > 1 ? ", " : "", key, a, b);
    if (n > 0)
        d->used = d->used + (size_t)n < d->cap ? d->used + (size_t)n : d->cap - 1;
}

/* Every dotted key whose value differs between was and now, objects walked
 * key by key (was's keys first, then those only now has). */
static void diff_config(diff_list *d, const char *prefix, const json_t *was, const json_t *now)
{
    if (!json_is_object(was) || !json_is_object(now)) {
        if (!json_equal(was, now))
            diff_add(d, prefix, was, now);
        return;
    }
    const char *key;
    json_t *value;
    char dotted[512];
    json_object_foreach((json_t *)was, key, value) {
        snprintf(dotted, sizeof dotted, "%s%s%s", prefix, *prefix ? "." : "", key);
        diff_config(d, dotted, value, json_object_get(now, key));
    }
    json_object_foreach((json_t *)now, key, value) {
        if (json_object_get(was, key))
            continue;
        snprintf(dotted, sizeof dotted, "%s%s%s", prefix, *prefix ? "." : "", key);
        diff_add(d, dotted, NULL, value);
    }
}

/* "algorithm.lr 0.001 → 0.01, schedule.period 8 → 4" from the checkpoint's
 * config record to this run's config. */
static void config_changes(char *out, size_t cap, const lsgd_ckpt *c, const json_t *cfg)
{
    size_t n = 0;
    const char *text = lsgd_ckpt_find(c, "config", &n);
    char *now_text = lsgd_settings_config_text(cfg);
    json_t *was = text ? json_loadb(text, n, 0, NULL) : NULL;
    json_t *now = now_text ? json_loads(now_text, 0, NULL) : NULL;
    diff_list d = {.out = out, .cap = cap};
    out[0] = '\0';
    if (was && now)
        diff_config(&d, "", was, now);
    if (!d.count)
        snprintf(out, cap, "the checkpoint does not say which keys");
    json_decref(was);
    json_decref(now);
    free(now_text);
}

/* ---- resume: examine each file as input ---- */

enum unusable { USABLE, MISSING, DAMAGED, OTHER_RANK, OTHER_CONFIG };
static const char *const UNUSABLE[] = {"usable", "its files are missing",
                                       "its files are damaged", "its files are another worker's",
                                       "its files were written by another config"};

typedef struct candidate {
    char path[4300];
    lsgd_ckpt file;       /* bytes NULL unless usable */
    snapshot_meta meta;
    int why;              /* enum unusable */
    char reason[LSGD_ERROR_MAX];
} candidate;

static int unusable(candidate *c, int why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int unusable(candidate *c, int why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    c->why = why;
    if (c->file.bytes)
        lsgd_ckpt_free(&c->file);
    return why;
}

/* More bytes than any checkpoint of this run can hold: the model, the
 * algorithm's and the plugins' states, the sampler, and room for the rest. */
static size_t largest_plausible(const lsgd_run *run)
{
    size_t states = lsgd_scaling_state_size(&run->scaling) +
                    (run->set.has_outer ? lsgd_scaling_state_size(&run->outer) : 0);
    lsgd_record records[STATE_RECORDS];
    size_t n_records = state_records(run, records);
    for (size_t i = 0; i < n_records; i++)
        states += records[i].bytes;
    size_t sampler = run->has_sampler ? run->sampler.n * sizeof *run->sampler.order : 0;
    return run->dim * sizeof(float) + states + sampler + ((size_t)4 << 20);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Whether order[n] is a permutation of the shard's rows. */
static int is_shard_permutation(const lsgd_run *run, const uint32_t *order, size_t n)
{
    uint32_t *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    int same = a && b;
    if (same) {
        memcpy(a, order, n * sizeof *a);
        memcpy(b, run->sampler.rows, n * sizeof *b);
        qsort(a, n, sizeof *a, compare_u32);
        qsort(b, n, sizeof *b, compare_u32);
        same = memcmp(a, b, n * sizeof *a) == 0;
    }
    free(a);
    free(b);
    return same;
}

/* Each record of x and of the states this run restores holds exactly its
 * length: the name of one that does not (*bytes its expected size). */
static const char *wrong_record(const lsgd_run *run, const lsgd_ckpt *c, size_t *bytes)
{
    lsgd_record records[STATE_RECORDS + 1] = {{"x", run->x, run->dim * sizeof *run->x}};
    size_t count = 1 + state_records(run, records + 1);
    for (size_t i = 0; i < count; i++) {
        size_t n = 0;
        *bytes = records[i].bytes;
        if (!lsgd_ckpt_find(c, records[i].name, &n) || n != records[i].bytes)
            return records[i].name;
    }
    return NULL;
}

/* The sampler's records agree with this worker's shard: same size, a
 * position inside it, and a permutation of its rows. */
static int check_sampler(const lsgd_run *run, candidate *c)
{
    const snapshot_meta *m = &c->meta;
    if (m->sampler_n != run->sampler.n)
        return unusable(c, OTHER_CONFIG, "%s: holds a shard of %llu rows; this worker's has %zu "
                        "(the data changed?)", c->path, (unsigned long long)m->sampler_n,
                        run->sampler.n);
    size_t n = 0;
    const uint32_t *order = lsgd_ckpt_find(&c->file, "sampler.order", &n);
    if (m->sampler_next > run->sampler.n)
        return unusable(c, DAMAGED, "%s: sampler position %llu is outside the shard's %zu rows "
                        "(damaged)", c->path, (unsigned long long)m->sampler_next,
                        run->sampler.n);
    if (!order || n != run->sampler.n * sizeof *order ||
        !lsgd_ckpt_find(&c->file, "sampler.rng", &n) || n != sizeof run->sampler.rng)
        return unusable(c, DAMAGED, "%s: sampler records missing or of another size (damaged)",
                        c->path);
    if (!is_shard_permutation(run, order, run->sampler.n))
        return unusable(c, DAMAGED, "%s: the sampler's order is not a permutation of this "
                        "worker's shard (damaged)", c->path);
    return USABLE;
}

/* meta's values in range for this run: round and step on the schedule,
 * the records of this run's states, file offsets not negative, the
 * pending report not ahead. */
static int check_ranges(const lsgd_run *run, candidate *c)
{
    const snapshot_meta *m = &c->meta;
    if (m->round < 1 || m->round > run->schedule.rounds ||
        m->step != lsgd_schedule_time(&run->schedule, m->round))
        return unusable(c, DAMAGED, "%s: round %llu at step %llu is not on this run's schedule "
                        "(%zu rounds) (damaged)", c->path, (unsigned long long)m->round,
                        (unsigned long long)m->step, run->schedule.rounds);
    lsgd_record records[STATE_RECORDS];
    if (m->state_records != state_records(run, records) || m->metrics_jsonl < 0 || m->metrics_csv < 0 || !(m->wall_s >= 0))
        return unusable(c, DAMAGED, "%s: run state out of range (damaged)", c->path);
    lsgd_report report;
    size_t n = 0;
    const void *p = lsgd_ckpt_find(&c->file, "report", &n);
    if (!p || n != sizeof report)
        return unusable(c, DAMAGED, "%s: record 'report' missing or of another size (damaged)",
                        c->path);
    memcpy(&report, p, sizeof report);
    if (report.round > m->round)
        return unusable(c, DAMAGED, "%s: pending report of round %llu is ahead of round %llu "
                        "(damaged)", c->path, (unsigned long long)report.round,
                        (unsigned long long)m->round);
    size_t bytes = 0;
    const char *record = wrong_record(run, &c->file, &bytes);
    if (record)
        return unusable(c, DAMAGED, "%s: record '%s' missing or not %zu bytes (damaged)",
                        c->path, record, bytes);
    return run->has_sampler ? check_sampler(run, c) : USABLE;
}

/* Load the file of cand->path and decide whether this run can resume
 * from it; cand->why and cand->reason say why not. */
static int examine(const lsgd_run *run, candidate *c)
{
    lsgd_error err;
    memset(&c->file, 0, sizeof c->file);
    if (access(c->path, F_OK) != 0)
        return unusable(c, MISSING, "%s: missing", c->path);
    if (lsgd_ckpt_load_bounded(&c->file, c->path, largest_plausible(run), &err))
        return unusable(c, DAMAGED, "%s", err.message);
    size_t n = 0;
    const void *p = lsgd_ckpt_find(&c->file, "meta", &n);
    if (!p || n != sizeof c->meta)
        return unusable(c, DAMAGED, "%s: record 'meta' missing or of another size (damaged)",
                        c->path);
    memcpy(&c->meta, p, sizeof c->meta);
    const snapshot_meta *m = &c->meta;
    if (m->rank != (uint64_t)run->rank)
        return unusable(c, OTHER_RANK, "%s holds worker %llu's checkpoint, not worker %d's "
                        "(files swapped or copied?)", c->path, (unsigned long long)m->rank,
                        run->rank);
    if (m->config_hash != run->set.config_hash) {
        char changes[700];
        config_changes(changes, sizeof changes, &c->file, run->cfg);
        return unusable(c, OTHER_CONFIG, "config differs from the checkpoint's (%s): %s",
                        c->path, changes);
    }
    if (m->world != (uint64_t)run->world || m->dim != run->dim)
        return unusable(c, OTHER_CONFIG, "%s: written by %llu workers for a model of %llu "
                        "parameters; this run has %d workers and %zu parameters (the data "
                        "changed?)", c->path, (unsigned long long)m->world,
                        (unsigned long long)m->dim, run->world, run->dim);
    c->why = USABLE;
    return check_ranges(run, c);
}

/* ---- resume: the round all ranks have ---- */

/* Per rank in the vote: its worst reason when it has nothing usable, then
 * the rounds of its two files (0: unusable), each in three 16-bit floats
 * so that the average keeps them exact. */
enum { VOTE_WHY, VOTE_CUR, VOTE_PREV = VOTE_CUR + 3, VOTE_SIZE = VOTE_PREV + 3 };

static void put_round(float *v, uint64_t round)
{
    for (int i = 0; i < 3; i++)
        v[i] = (float)((round >> (16 * (2 - i))) & 0xffff);
}

static uint64_t get_round(const float *v, int world)
{
    uint64_t round = 0;
    for (int i = 0; i < 3; i++)
        round = round << 16 | (uint64_t)llround((double)v[i] * world);
    return round;
}

typedef struct vote {
    uint64_t common;  /* newest round every rank has; 0: none */
    int lacking;      /* a rank with no usable file, or -1 */
    int lacking_why;
} vote;

static int agree_round(lsgd_run *run, const candidate cands[2], vote *out, lsgd_error *err)
{
    size_t n = (size_t)run->world * VOTE_SIZE;
    float *slots = calloc(n, sizeof *slots);
    if (!slots)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory");
    float *mine = slots + (size_t)run->rank * VOTE_SIZE;
    mine[VOTE_WHY] = (float)(cands[0].why > cands[1].why ? cands[0].why : cands[1].why);
    put_round(mine + VOTE_CUR, cands[0].why == USABLE ? cands[0].meta.round : 0);
    put_round(mine + VOTE_PREV, cands[1].why == USABLE ? cands[1].meta.round : 0);
    int rc = lsgd_transport_allreduce_mean(run->transport, slots, n, err);
    *out = (vote){.common = 0, .lacking = -1};
    for (int side = 0; !rc && side < 2; side++) {
        uint64_t r = get_round(slots + (side ? VOTE_PREV : VOTE_CUR), run->world);
        int everyone = r > 0;
        for (int m = 0; everyone && m < run->world; m++) {
            const float *v = slots + (size_t)m * VOTE_SIZE;
            everyone = get_round(v + VOTE_CUR, run->world) == r ||
                       get_round(v + VOTE_PREV, run->world) == r;
        }
        if (everyone && r > out->common)
            out->common = r;
    }
    for (int m = 0; !rc && m < run->world && out->lacking < 0; m++) {
        const float *v = slots + (size_t)m * VOTE_SIZE;
        if (!get_round(v + VOTE_CUR, run->world) && !get_round(v + VOTE_PREV, run->world)) {
            out->lacking = m;
            out->lacking_why = (int)llround((double)v[VOTE_WHY] * run->world);
        }
    }
    free(slots);
    return rc;
}

/* Why this rank cannot resume, in one line. */
static int no_checkpoint(const lsgd_run *run, const candidate cands[2], const vote *v,
                         lsgd_error *err)
{
    const char *dir = run->set.out_dir;
    for (int i = 0; i < 2; i++)
        if (cands[i].why == OTHER_CONFIG && cands[i].reason[0] == 'c')
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "--resume: %s; resume with the config that wrote it (only "
                                  "output.* may differ), or start anew (--force or another "
                                  "output.dir)", cands[i].reason);
    if (cands[0].why != USABLE && cands[1].why != USABLE)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "--resume: no usable checkpoint for worker %d in %s/checkpoint: "
                              "%s; %s", run->rank, dir, cands[0].reason, cands[1].reason);
    if (v->lacking >= 0) {
        int why = v->lacking_why >= 0 && v->lacking_why <= OTHER_CONFIG ? v->lacking_why
                                                                         : DAMAGED;
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "--resume: no usable checkpoint for worker %d in %s/checkpoint "
                              "(%s; worker %d's message says more)", v->lacking, dir, UNUSABLE[why],
                              v->lacking);
    }
    return lsgd_error_set(err, LSGD_ERR_INPUT,
                          "--resume: no round that every worker has a checkpoint of in "
                          "%s/checkpoint (worker %d has round %llu)", dir, run->rank,
                          (unsigned long long)(cands[0].why == USABLE ? cands[0].meta.round
                                                                      : cands[1].meta.round));
}

/* The records of the algorithm's and the outer optimizer's states, then
 * the algorithm's word on what it restored. */
static int restore_states(lsgd_run *run, const lsgd_ckpt *c, lsgd_error *err)
{
    lsgd_record records[STATE_RECORDS];
    size_t n_records = state_records(run, records);
    for (size_t i = 0; i < n_records; i++)
        if (lsgd_ckpt_get(c, records[i].name, records[i].data, records[i].bytes, err))
            return err->code;
    const lsgd_algorithm *alg = run->set.algorithm;
    return alg->restored ? alg->restored(run, err) : LSGD_OK;
}

static int load_state(lsgd_scaling *s, const lsgd_ckpt *c, const char *name, lsgd_error *err)
{
    size_t n = 0;
    const void *bytes = lsgd_ckpt_find(c, name, &n);
    if (!bytes)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: record '%s' missing (damaged)", c->path,
                              name);
    return lsgd_scaling_state_load(s, bytes, n, err);
}

/* Everything from an examined (usable) checkpoint into the run. */
static int restore_from(lsgd_run *run, const candidate *cand, lsgd_error *err)
{
    const lsgd_ckpt *c = &cand->file;
    const snapshot_meta *meta = &cand->meta;
    if (load_state(&run->scaling, c, "scaling", err) ||
        (run->set.has_outer && load_state(&run->outer, c, "outer", err)) ||
        lsgd_ckpt_get(c, "x", run->x, run->dim * sizeof *run->x, err) ||
        restore_states(run, c, err) ||
        lsgd_ckpt_get(c, "rng.noise", &run->noise_rng, sizeof run->noise_rng, err) ||
        lsgd_ckpt_get(c, "rng.scaling", &run->scaling_rng, sizeof run->scaling_rng, err) ||
        lsgd_ckpt_get(c, "report", &run->outbox, sizeof run->outbox, err))
        return err->code;
    if (run->has_sampler) {
        if (lsgd_ckpt_get(c, "sampler.order", run->sampler.order,
                          run->sampler.n * sizeof *run->sampler.order, err) ||
            lsgd_ckpt_get(c, "sampler.rng", &run->sampler.rng, sizeof run->sampler.rng, err))
            return err->code;
        run->sampler.next = (size_t)meta->sampler_next;
        run->sampler.epoch = meta->sampler_epoch;
    }
    run->round = meta->round;
    run->step = meta->step;
    run->wall_origin = lsgd_now() - meta->wall_s;
    run->checkpoint_round = meta->round;
    run->metrics_resume_jsonl = meta->metrics_jsonl;
    run->metrics_resume_csv = meta->metrics_csv;
    return LSGD_OK;
}

int lsgd_snapshot_restore(lsgd_run *run, lsgd_error *err)
{
    candidate cands[2];
    for (int i = 0; i < 2; i++) {
        lsgd_snapshot_path(cands[i].path, sizeof cands[i].path, run, i);
        examine(run, &cands[i]);
    }
    vote v = {.common = 0, .lacking = -1};
    int rc = agree_round(run, cands, &v, err);
    int pick = -1;
    for (int i = 0; i < 2; i++)
        if (pick < 0 && v.common && cands[i].why == USABLE && cands[i].meta.round == v.common)
            pick = i;
    if (!rc && pick < 0)
        rc = no_checkpoint(run, cands, &v, err);
    if (!rc)
        rc = restore_from(run, &cands[pick], err);
    /* the round every rank has is the current one again: the next
     * checkpoint moves it aside, and never drops it */
    if (!rc && pick == 1 && rename(cands[1].path, cands[0].path) != 0)
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot make %s current again: %s",
                            cands[1].path, strerror(errno));
    for (int i = 0; i < 2; i++)
        if (cands[i].file.bytes)
            lsgd_ckpt_free(&cands[i].file);
    return rc;
}
