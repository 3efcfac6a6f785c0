/*
 * transport_host.c — a transport plugin as the engine uses it: the
 * emulated slow link of `transport.delay`, non-blocking averaging on a
 * helper thread for plugins without their own, and the accounting of bytes,
 * seconds and calls.  Plugin resolution, parameter validation and dlopen
 * are the registry's, params' and loader's; this file only wires them.
 */
#include "host/transport_host.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ops_table.h"
#include "host/params.h"
#include "host/plugin_call.h"
#include "host/registry.h"

struct lsgd_transport {
    const lsgd_transport_ops *ops;
    void *self;                   /* the plugin's handle */
    const char *name;             /* the plugin's name */
    char who[128];                /* how messages name it: "transport plugin 'shm' rank 1" */
    lsgd_transport_delay delay;
    int world;

    /* Owned when opened by name (lsgd_transport_open). */
    lsgd_loaded loaded;
    int has_loaded;
    json_t *params_json;
    lsgd_params *params;

    lsgd_transport_stats stats;
    uint64_t plugin_bytes;        /* bytes_sent when last asked */

    /* Non-blocking average: the plugin's own, or allreduce_mean on `helper`. */
    lsgd_request *native;         /* outstanding native request */
    int posted;                   /* a request is outstanding */
    pthread_t helper;
    int helper_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* helper: work posted or stop */
    pthread_cond_t finished;      /* caller: the helper's average ended */
    int work, done, stop;
    float *work_gather;           /* [world × work_gather_n], or NULL: no all-gather */
    size_t work_gather_n;
    float *work_data;             /* [work_n] averaged after the all-gather */
    size_t work_n;
    int work_status;
    lsgd_error work_err;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The emulated link: latency plus the time `bytes` take at the bandwidth. */
static void emulate_link(const lsgd_transport *t, size_t bytes)
{
    double s = t->delay.latency_ms * 1e-3;
    if (t->delay.bandwidth_mbps > 0)
        s += (double)bytes * 8.0 / (t->delay.bandwidth_mbps * 1e6);
    sleep_s(s);
}

int lsgd_transport_delay_parse(lsgd_transport_delay *out, const json_t *delay, lsgd_error *err)
{
    out->latency_ms = 0;
    out->bandwidth_mbps = 0;
    if (!delay || json_is_null(delay))
        return LSGD_OK;
    if (!json_is_object(delay))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "transport.delay: expected an object {latency_ms, bandwidth_mbps}");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)delay, key, value) {
        int latency = strcmp(key, "latency_ms") == 0;
        if (!latency && strcmp(key, "bandwidth_mbps") != 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "transport.delay: unknown key '%s'; known: latency_ms, "
                                  "bandwidth_mbps", key);
        if (!json_is_number(value))
            return lsgd_error_set(err, LSGD_ERR_INPUT, "transport.delay.%s: expected a number",
                                  key);
        double v = json_number_value(value);
        if (latency && !(v >= 0 && isfinite(v)))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "transport.delay.latency_ms: %g is below the minimum 0", v);
        if (!latency && !(v > 0 && isfinite(v)))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "transport.delay.bandwidth_mbps: %g must be above 0", v);
        if (latency)
            out->latency_ms = v;
        else
            out->bandwidth_mbps = v;
    }
    return LSGD_OK;
}

/* Every op of the plugin goes through here: any non-zero return is a
 * failure, named "transport plugin 'x' rank r" and the op when the
 * plugin's message does not already say (plugin_call.h). */
#define TRANSPORT_CALL(t, err, op, call) LSGD_PLUGIN_CALL(err, (t)->who, (t)->name, op, call)

int lsgd_transport_open_plugin(lsgd_transport **out, const lsgd_plugin *plugin,
                               const lsgd_params *params, const lsgd_transport_delay *delay,
                               const lsgd_transport_info *info, lsgd_error *err)
{
    *out = NULL;
    const lsgd_transport_ops *ops = plugin->ops;
    if (plugin->kind != LSGD_KIND_TRANSPORT || !ops)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "transport plugin '%s': not a transport "
                              "(kind %u, ops %s)", plugin->name, plugin->kind, ops ? "set" : "NULL");
    if (lsgd_ops_valid(plugin, err))
        return lsgd_error_prefix(err, "transport plugin '%s': ", plugin->name);
    lsgd_transport *t = calloc(1, sizeof *t);
    if (!t)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "transport: out of memory");
    t->ops = ops;
    t->name = plugin->name;
    snprintf(t->who, sizeof t->who, "transport plugin '%.64s' rank %d", plugin->name, info->rank);
    t->world = info->world;
    if (delay)
        t->delay = *delay;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->finished, NULL);
    int rc = TRANSPORT_CALL(t, err, "open", ops->open(&t->self, params, info, err));
    if (rc) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        pthread_cond_destroy(&t->finished);
        free(t);
        return rc;
    }
    *out = t;
    return LSGD_OK;
}

int lsgd_transport_open(lsgd_transport **out, const lsgd_registry *reg, const json_t *cfg,
                        const lsgd_transport_info *info, lsgd_error *err)
{
    *out = NULL;
    json_t *name_json = json_object_get(cfg, "plugin");
    const char *name = json_is_string(name_json) ? json_string_value(name_json) : "shm";
    const lsgd_manifest *manifest;
    lsgd_transport_delay delay;
    int rc = lsgd_transport_delay_parse(&delay, json_object_get(cfg, "delay"), err);
    if (!rc)
        rc = lsgd_registry_resolve(&manifest, reg, LSGD_KIND_TRANSPORT, name, "transport.plugin",
                                   err);
    json_t *validated = NULL;
    if (!rc)
        rc = lsgd_params_validate(&validated, manifest, json_object_get(cfg, "params"),
                                  "transport.params", err);
    lsgd_loaded loaded = {0};
    static const char *const provides[] = {NULL};
    if (!rc)
        rc = lsgd_plugin_load(&loaded, manifest, provides, err);
    if (rc) {
        json_decref(validated);
        return rc;
    }
    lsgd_params *view = malloc(sizeof *view); /* the plugin may keep it until close */
    if (!view) {
        json_decref(validated);
        lsgd_plugin_unload(&loaded);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "transport: out of memory");
    }
    lsgd_params_view(view, validated);
    lsgd_transport *t;
    rc = lsgd_transport_open_plugin(&t, loaded.plugin, view, &delay, info, err);
    if (rc) {
        free(view);
        json_decref(validated);
        lsgd_plugin_unload(&loaded);
        return rc;
    }
    t->loaded = loaded;
    t->has_loaded = 1;
    t->params_json = validated;
    t->params = view;
    *out = t;
    return LSGD_OK;
}

/* ---- optional ops: LSGD_HAS_OP (absent when struct_size stops before) ---- */

/* The validated table has iallreduce_mean, test and wait all three or none;
 * an emulated link needs the helper thread, which sleeps before averaging. */
static int has_native_iallreduce(const lsgd_transport *t)
{
    return LSGD_HAS_OP(t->ops, lsgd_transport_ops, iallreduce_mean) &&
           t->delay.latency_ms == 0 && t->delay.bandwidth_mbps == 0;
}

static int has_bytes_sent(const lsgd_transport *t)
{
    return LSGD_HAS_OP(t->ops, lsgd_transport_ops, bytes_sent);
}

/* Payload bytes of an allreduce when the plugin does not count: what a
 * reduce-scatter + all-gather sends, 2 (M−1)/M · n floats. */
static uint64_t allreduce_payload(size_t n, int world)
{
    return world > 1 ? 2 * (uint64_t)n * sizeof(float) * (uint64_t)(world - 1) / (uint64_t)world
                     : 0;
}

/* ---- blocking calls ---- */

static void account(lsgd_transport *t, double started, uint64_t bytes)
{
    t->stats.seconds += now_s() - started;
    t->stats.calls++;
    t->stats.bytes_sent += bytes;
}

int lsgd_transport_allreduce_mean(lsgd_transport *t, float *data, size_t n, lsgd_error *err)
{
    double started = now_s();
    emulate_link(t, n * sizeof(float));
    int rc = TRANSPORT_CALL(t, err, "allreduce_mean",
                            t->ops->allreduce_mean(t->self, data, n, err));
    account(t, started, has_bytes_sent(t) ? 0 : allreduce_payload(n, t->world));
    return rc;
}

int lsgd_transport_broadcast(lsgd_transport *t, float *data, size_t n, int root,
                             lsgd_error *err)
{
    double started = now_s();
    emulate_link(t, n * sizeof(float));
    int rc = TRANSPORT_CALL(t, err, "broadcast",
                            t->ops->broadcast(t->self, data, n, root, err));
    account(t, started, 0);
    return rc;
}

/* data[world × n] ← every rank's part: the plugin's allgather, or one
 * broadcast per rank; helper says it runs on the helper thread. */
static int gather_parts(lsgd_transport *t, float *data, size_t n, int helper, lsgd_error *err)
{
    if (!LSGD_HAS_OP(t->ops, lsgd_transport_ops, allgather)) {
        for (int r = 0; r < t->world; r++) {
            emulate_link(t, n * sizeof(float));
            if (TRANSPORT_CALL(t, err, helper ? "broadcast (non-blocking, on the helper thread)"
                                              : "broadcast",
                               t->ops->broadcast(t->self, data + (size_t)r * n, n, r, err)))
                return err->code;
        }
        return LSGD_OK;
    }
    emulate_link(t, n * sizeof(float));
    return TRANSPORT_CALL(t, err, helper ? "allgather (non-blocking, on the helper thread)"
                                         : "allgather",
                          t->ops->allgather(t->self, data, n, err));
}

/* Payload bytes of an all-gather when the plugin does not count: its part
 * to each other rank (through broadcasts, uncounted as they always were). */
static uint64_t allgather_payload(const lsgd_transport *t, size_t n)
{
    if (has_bytes_sent(t) || t->world == 1 || !LSGD_HAS_OP(t->ops, lsgd_transport_ops, allgather))
        return 0;
    return (uint64_t)n * sizeof(float) * (uint64_t)(t->world - 1);
}

int lsgd_transport_allgather(lsgd_transport *t, float *data, size_t n, lsgd_error *err)
{
    if (t->world == 1)
        return LSGD_OK;
    double started = now_s();
    int rc = gather_parts(t, data, n, 0, err);
    account(t, started, allgather_payload(t, n));
    return rc;
}

int lsgd_transport_barrier(lsgd_transport *t, lsgd_error *err)
{
    double started = now_s();
    emulate_link(t, 0);
    int rc = TRANSPORT_CALL(t, err, "barrier", t->ops->barrier(t->self, err));
    account(t, started, 0);
    return rc;
}

/* ---- non-blocking average on the helper thread ---- */

/* The helper's job: the all-gather (when posted), then the average. */
static int helper_job(lsgd_transport *t, lsgd_error *err)
{
    if (t->work_gather && t->world > 1 && gather_parts(t, t->work_gather, t->work_gather_n, 1, err))
        return err->code;
    if (!t->work_n)
        return LSGD_OK;
    emulate_link(t, t->work_n * sizeof(float));
    return TRANSPORT_CALL(t, err, "allreduce_mean (non-blocking, on the helper thread)",
                          t->ops->allreduce_mean(t->self, t->work_data, t->work_n, err));
}

static void *helper_main(void *arg)
{
    lsgd_transport *t = arg;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        while (!t->work && !t->stop)
            pthread_cond_wait(&t->wake, &t->lock);
        if (t->stop)
            break;
        t->work = 0;
        pthread_mutex_unlock(&t->lock);
        lsgd_error e;
        lsgd_error_clear(&e);
        int rc = helper_job(t, &e);
        pthread_mutex_lock(&t->lock);
        t->work_status = rc;
        t->work_err = e;
        t->done = 1;
        pthread_cond_signal(&t->finished);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Hand gather[world × gather_n] (NULL: none) and data[n] to the helper. */
static int post_to_helper(lsgd_transport *t, float *gather, size_t gather_n, float *data,
                          size_t n, lsgd_error *err)
{
    if (!t->helper_started) {
        if (pthread_create(&t->helper, NULL, helper_main, t) != 0)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "transport: cannot start the averaging thread");
        t->helper_started = 1;
    }
    pthread_mutex_lock(&t->lock);
    t->work_gather = gather;
    t->work_gather_n = gather_n;
    t->work_data = data;
    t->work_n = n;
    t->done = 0;
    t->work = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    t->posted = 1;
    return LSGD_OK;
}

static int refuse_second_request(const lsgd_transport *t, const char *op, lsgd_error *err)
{
    if (!t->posted)
        return LSGD_OK;
    return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                          "transport: %s while another average is outstanding "
                          "(wait for it first)", op);
}

int lsgd_transport_iallreduce_mean(lsgd_transport *t, float *data, size_t n, lsgd_error *err)
{
    if (refuse_second_request(t, "iallreduce_mean", err))
        return err->code;
    double started = now_s();
    t->stats.bytes_sent += has_bytes_sent(t) ? 0 : allreduce_payload(n, t->world);
    int rc;
    if (has_native_iallreduce(t)) {
        rc = TRANSPORT_CALL(t, err, "iallreduce_mean",
                            t->ops->iallreduce_mean(t->self, data, n, &t->native, err));
        t->posted = rc == LSGD_OK;
    } else {
        rc = post_to_helper(t, NULL, 0, data, n, err);
    }
    t->stats.seconds += now_s() - started;
    return rc;
}

int lsgd_transport_iallgather_mean(lsgd_transport *t, float *gather, size_t gather_n,
                                   float *data, size_t n, lsgd_error *err)
{
    if (refuse_second_request(t, "iallgather_mean", err))
        return err->code;
    double started = now_s();
    t->stats.bytes_sent += allgather_payload(t, gather_n) +
                           (has_bytes_sent(t) ? 0 : allreduce_payload(n, t->world));
    int rc = post_to_helper(t, gather, gather_n, data, n, err);
    t->stats.seconds += now_s() - started;
    return rc;
}

/* Collect the helper's outcome (lock held, done set), and the plugin's
 * byte count now that it is idle: a round that posts right before it
 * reports (overlap) then counts what its last average sent. */
static int helper_outcome(lsgd_transport *t, lsgd_error *err)
{
    t->posted = 0;
    t->stats.calls++;
    if (has_bytes_sent(t))
        t->plugin_bytes = t->ops->bytes_sent(t->self);
    if (t->work_status && err)
        *err = t->work_err;
    return t->work_status;
}

int lsgd_transport_test(lsgd_transport *t, int *done, lsgd_error *err)
{
    *done = 1;
    if (!t->posted)
        return LSGD_OK;
    double started = now_s();
    int rc = LSGD_OK;
    if (t->native) {
        rc = TRANSPORT_CALL(t, err, "test", t->ops->test(t->self, t->native, done, err));
        if (rc || *done) {
            t->native = NULL;
            t->posted = 0;
            t->stats.calls++;
        }
    } else {
        pthread_mutex_lock(&t->lock);
        *done = t->done;
        if (t->done)
            rc = helper_outcome(t, err);
        pthread_mutex_unlock(&t->lock);
    }
    t->stats.seconds += now_s() - started;
    return rc;
}

int lsgd_transport_wait(lsgd_transport *t, lsgd_error *err)
{
    if (!t->posted)
        return LSGD_OK;
    double started = now_s();
    int rc;
    if (t->native) {
        rc = TRANSPORT_CALL(t, err, "wait", t->ops->wait(t->self, t->native, err));
        t->native = NULL;
        t->posted = 0;
        t->stats.calls++;
    } else {
        pthread_mutex_lock(&t->lock);
        while (!t->done)
            pthread_cond_wait(&t->finished, &t->lock);
        rc = helper_outcome(t, err);
        pthread_mutex_unlock(&t->lock);
    }
    t->stats.seconds += now_s() - started;
    return rc;
}

/* While the helper thread is inside its job the plugin is busy:
 * no op of it is called then (lsgd/transport.h), bytes_sent included. */
static int helper_busy(const lsgd_transport *t)
{
    return t->posted && !t->native;
}

void lsgd_transport_stats_get(lsgd_transport *t, lsgd_transport_stats *out)
{
    *out = t->stats;
    if (!has_bytes_sent(t))
        return;
    if (!helper_busy(t))
        t->plugin_bytes = t->ops->bytes_sent(t->self);
    out->bytes_sent = t->plugin_bytes; /* as of the last op that ended */
}

void lsgd_transport_close(lsgd_transport *t)
{
    if (!t)
        return;
    if (t->posted) { /* the plugin's timeout bounds this */
        lsgd_error ignored;
        lsgd_transport_wait(t, &ignored);
    }
    if (t->helper_started) {
        pthread_mutex_lock(&t->lock);
        t->stop = 1;
        pthread_cond_signal(&t->wake);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->helper, NULL);
    }
    t->ops->close(t->self);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->finished);
    if (t->has_loaded)
        lsgd_plugin_unload(&t->loaded);
    json_decref(t->params_json);
    free(t->params);
    free(t);
}
