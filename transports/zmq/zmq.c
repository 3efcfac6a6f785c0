/*
 * zmq.c — the transport for several hosts: ZeroMQ over tcp:// (or ipc://
 * on one host), with optional CURVE security.  This file is the plugin's
 * entry: the ops table, open and close, the parameters, and the socket
 * helpers the other files use (zmq_transport.h lists them all).
 *
 * open: the rendezvous (rendezvous.c) connects every ordered pair of ranks
 * by one PUSH/PULL pair, then a barrier.  The collectives (collectives.c)
 * exchange frames (phase.c, frame.c): a header (magic, protocol version,
 * type, run id hash, world, source rank, round, slice, offset, length) and
 * the payload, at most frame_size bytes, sent without a copy.  Every wait
 * is bounded by timeout_s; a peer whose connection drops and stays down is
 * reported by rank within a second; the host's stop request (info->stop)
 * ends any wait within 100 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmq_transport.h"

/* ---- helpers for every file ---- */

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int stop_requested(const zt *z)
{
    return z->stop && *z->stop;
}

void set_int(void *sock, int option, int value)
{
    zmq_setsockopt(sock, option, &value, sizeof value);
}

/* The kernel sizes the TCP buffers (autotuning beats a fixed size here). */
void *new_socket(zt *z, int type)
{
    void *s = zmq_socket(z->ctx, type);
    if (s) {
        set_int(s, ZMQ_LINGER, 2000);
        set_int(s, ZMQ_SNDHWM, 0);
        set_int(s, ZMQ_RCVHWM, 0);
    }
    return s;
}

void set_max_message(void *sock, int64_t bytes)
{
    int64_t wire = bytes + 64; /* CURVE: "\x07MESSAGE", nonce, MAC and flags are 33 bytes */
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &wire, sizeof wire);
}

void close_socket(void **sock)
{
    if (*sock) {
        zmq_close(*sock);
        *sock = NULL;
    }
}

/* ---- open / close ---- */

static void zmq_close_transport(void *self)
{
    zt *z = self;
    if (!z)
        return;
    report_rejected(z);
    for (int p = 0; p < z->world; p++) {
        if (z->out[p] && z->failed) /* the aborts get a moment, a dead peer no more */
            set_int(z->out[p], ZMQ_LINGER, 200);
        if (z->out[p])
            zmq_socket_monitor(z->out[p], NULL, 0);
        close_socket(&z->monitor[p]);
        close_socket(&z->out[p]);
        close_socket(&z->in[p]);
    }
    curve_stop_authenticator(z);
    if (z->ctx)
        zmq_ctx_term(z->ctx);
    free(z->held);
    free(z->stage);
    free(z);
}

static int read_params(zt *z, const lsgd_params *params, lsgd_error *err)
{
    z->timeout_s = lsgd_param_number(params, "timeout_s");
    if (z->timeout_s <= 0)
        z->timeout_s = 60;
    double frame = lsgd_param_number(params, "frame_size");
    z->frame = frame >= 4096 ? (size_t)frame / sizeof(float) : (1u << 20) / sizeof(float);
    const char *coordinator = lsgd_param_string(params, "coordinator");
    const char *bind = lsgd_param_string(params, "bind_address");
    snprintf(z->coordinator, sizeof z->coordinator, "%s",
             coordinator && *coordinator ? coordinator : "tcp://127.0.0.1:47800");
    snprintf(z->bind_address, sizeof z->bind_address, "%s", bind && *bind ? bind : "127.0.0.1");
    if (!endpoint_ok(z->coordinator) || strlen(z->coordinator) > 100)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "zmq: transport.params.coordinator '%s': expected tcp://host:port "
                              "or ipc:///path (at most 100 characters)", z->coordinator);
    return curve_load(z, lsgd_param_string(params, "curve_server_key"),
                      lsgd_param_string(params, "curve_secret_key"), err);
}

static int zmq_open_transport(void **self, const lsgd_params *params,
                              const lsgd_transport_info *info, lsgd_error *err)
{
    *self = NULL;
    if (info->world < 1 || info->world > MAX_WORLD || info->rank < 0 || info->rank >= info->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "zmq: open: rank %d of world %d is impossible (world 1..%d)",
                              info->rank, info->world, MAX_WORLD);
    if (!info->run_id || !*info->run_id || strlen(info->run_id) >= RUN_ID_MAX)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "zmq: open: the run id must be 1..255 characters");
    zt *z = calloc(1, sizeof *z);
    if (!z)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq: open: out of memory");
    z->rank = info->rank;
    z->world = info->world;
    z->stop = lsgd_transport_stop_flag(info);
    snprintf(z->run_id, sizeof z->run_id, "%s", info->run_id);
    z->run_hash = run_id_hash(z->run_id);
    int rc = read_params(z, params, err);
    if (rc || z->world == 1) {
        if (rc)
            zmq_close_transport(z);
        else
            *self = z;
        return rc;
    }
    z->ctx = zmq_ctx_new();
    zmq_ctx_set(z->ctx, ZMQ_IO_THREADS, (int)lsgd_param_number(params, "io_threads") > 0
                                            ? (int)lsgd_param_number(params, "io_threads")
                                            : 1);
    curve_start_authenticator(z);
    rc = rendezvous(z, err);
    if (!rc)
        rc = barrier_named(z, "open", err);
    if (rc) {
        z->failed = 1;
        zmq_close_transport(z);
        return rc;
    }
    *self = z;
    return LSGD_OK;
}

/* ---- the descriptor ---- */

static const lsgd_transport_ops ops = {
    .struct_size = sizeof(lsgd_transport_ops),
    .open = zmq_open_transport,
    .close = zmq_close_transport,
    .allreduce_mean = transport_allreduce_mean,
    .broadcast = transport_broadcast,
    .barrier = transport_barrier,
    .bytes_sent = transport_bytes_sent,
    .allgather = transport_allgather,
};

LSGD_PLUGIN(LSGD_KIND_TRANSPORT, "zmq", "1.0.0", &ops);
