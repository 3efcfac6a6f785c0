/*
 * transport_host.h — a loaded transport plugin, as the engine uses it.
 *
 * Adds what every transport needs and none should write twice: the
 * emulated slow link (`transport.delay`: latency and bandwidth, by sleeping
 * around each average), non-blocking averaging (and all-gathers) on a
 * helper thread for plugins without their own, and the accounting of bytes
 * and seconds.
 * Every op is called through LSGD_PLUGIN_CALL (plugin_call.h): a non-zero
 * return is a failure even without a message, and a wrapper that returns
 * non-zero has filled err->code and a message naming plugin, rank and op.
 */
#ifndef LSGD_TRANSPORT_HOST_H
#define LSGD_TRANSPORT_HOST_H

#include <jansson.h>
#include <pthread.h>

#include "host/loader.h"
#include "lsgd/transport.h"

typedef struct lsgd_transport lsgd_transport;

/* cfg is the config's "transport" object ({"plugin", "params", "delay"}):
 * resolves the plugin by name, validates its params against the manifest,
 * loads it and opens it. */
int lsgd_transport_open(lsgd_transport **out, const lsgd_registry *reg, const json_t *cfg,
                        const lsgd_transport_info *info, lsgd_error *err);

/* The emulated link of `transport.delay`: every average sleeps
 * latency_ms + bytes / bandwidth first.  bandwidth_mbps 0 = unlimited. */
typedef struct lsgd_transport_delay {
    double latency_ms;
    double bandwidth_mbps; /* megabits per second */
} lsgd_transport_delay;

/* Read {"latency_ms", "bandwidth_mbps"} (NULL: no delay); LSGD_ERR_INPUT
 * naming transport.delay.<key> on a bad value. */
int lsgd_transport_delay_parse(lsgd_transport_delay *out, const json_t *delay, lsgd_error *err);

/* Open an already loaded plugin with already validated params (both must
 * stay valid until lsgd_transport_close; delay may be NULL). */
int lsgd_transport_open_plugin(lsgd_transport **out, const lsgd_plugin *plugin,
                               const lsgd_params *params, const lsgd_transport_delay *delay,
                               const lsgd_transport_info *info, lsgd_error *err);
void lsgd_transport_close(lsgd_transport *t);

int lsgd_transport_allreduce_mean(lsgd_transport *t, float *data, size_t n, lsgd_error *err);
int lsgd_transport_broadcast(lsgd_transport *t, float *data, size_t n, int root,
                             lsgd_error *err);
int lsgd_transport_barrier(lsgd_transport *t, lsgd_error *err);
/* data[world × n] ← every rank's n floats (rank r's at data + r·n), by the
 * plugin's allgather, or by one broadcast per rank when it has none. */
int lsgd_transport_allgather(lsgd_transport *t, float *data, size_t n, lsgd_error *err);

/* Non-blocking average: at most one outstanding; data untouched until wait. */
int lsgd_transport_iallreduce_mean(lsgd_transport *t, float *data, size_t n, lsgd_error *err);
/* Non-blocking all-gather then average, for compressed averages that must
 * not stop the local steps (Overlap-Local-SGD): gather[world × gather_n] ←
 * every rank's part as lsgd_transport_allgather, then data[n] ← its mean as
 * allreduce_mean (n 0: none), both on the helper thread, through the
 * plugin's blocking ops (lsgd/transport.h allows it), while the caller
 * computes.  Completed by test/wait like an iallreduce_mean, under the same
 * rules: at most one request outstanding, neither buffer touched until it
 * completes, a failure or a stop ending the wait within the transport's
 * timeout. */
int lsgd_transport_iallgather_mean(lsgd_transport *t, float *gather, size_t gather_n,
                                   float *data, size_t n, lsgd_error *err);
int lsgd_transport_test(lsgd_transport *t, int *done, lsgd_error *err);
int lsgd_transport_wait(lsgd_transport *t, lsgd_error *err);

typedef struct lsgd_transport_stats {
    uint64_t bytes_sent;   /* payload bytes this rank sent */
    double seconds;        /* wall time spent inside blocking calls and waits */
    uint64_t calls;
} lsgd_transport_stats;

/* bytes_sent is the plugin's count when it keeps one; asked while no
 * average runs on the helper thread, so during an outstanding average it
 * is the count as of the last call that ended. */
void lsgd_transport_stats_get(lsgd_transport *t, lsgd_transport_stats *out);

#endif
