/*
 * zmq_transport.h — what the files of the zmq transport share: the state
 * of one rank (zt) and the functions each file offers the others.
 *
 * The transport, file by file (as a libfabric provider is split):
 *   zmq.c          the ops table, open and close, parameters, socket helpers
 *   curve.c        CURVE: key files, server/client roles, the ZAP thread
 *   rendezvous.c   data sockets bound, rank 0's coordinator, the HELLO of
 *                  the others, the PUSH sockets connected to every peer
 *   handshake.c    the rendezvous messages read and written (pure)
 *   frame.c        the data frame header read and checked (pure)
 *   phase.c        a phase of a collective: frames sent, the frames expected
 *                  from each peer received and checked, bounded waits
 *   collectives.c  allreduce_mean, broadcast, barrier
 */
#ifndef LSGD_ZMQ_TRANSPORT_H
#define LSGD_ZMQ_TRANSPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <zmq.h>

#include "lsgd/transport.h"
#include "wire.h"

#define GRACE_S 1.0 /* a dropped connection may come back within this */
#define STOP_REQUESTED "asked to stop (SIGINT/SIGTERM)" /* why a wait ended on info->stop */

typedef struct zt {
    int rank, world;
    double timeout_s;
    const volatile sig_atomic_t *stop; /* the host's stop request (lsgd/transport.h), or NULL */
    size_t frame;              /* floats per frame */
    char run_id[RUN_ID_MAX];
    uint64_t run_hash;
    char coordinator[ENDPOINT_MAX];
    char bind_address[128];
    int curve;
    char curve_public[41], curve_secret[41];
    uint8_t curve_public_bin[32];

    void *ctx;
    void *in[MAX_WORLD];       /* PULL, bound: frames from peer p */
    void *out[MAX_WORLD];      /* PUSH, connected: frames to peer p */
    void *monitor[MAX_WORLD];  /* PAIR: connection events of out[p] */
    int down[MAX_WORLD];       /* out[p] is disconnected */
    double down_since[MAX_WORLD];
    char endpoint[MAX_WORLD][ENDPOINT_MAX]; /* where in[p] is bound */

    pthread_t zap;
    int zap_started;
    volatile int zap_stop;

    uint64_t rejected[MAX_WORLD]; /* frames rejected on in[p]: the first is shown, all counted */

    uint32_t round;
    _Atomic long in_flight[MAX_WORLD]; /* zero-copy payloads to p zmq has not released yet */
    int failed;                /* a call failed: close without lingering */
    uint64_t bytes_sent;
    zmq_msg_t *held;           /* [world][frames] scatter frames awaiting their sum, reused */
    size_t held_cap;
    float *stage;              /* [world][frame] copies of unaligned payloads, reused */
    size_t stage_floats;
} zt;

/* ---- zmq.c: helpers every file uses ---- */

double now_s(void);
/* The host has asked this rank to stop: every wait ends (within 100 ms). */
int stop_requested(const zt *z);
void set_int(void *sock, int option, int value);
/* A socket with bounded linger and unlimited queues (sends never block). */
void *new_socket(zt *z, int type);
void close_socket(void **sock);
/* A peer that sends a message part larger than `bytes` (plus what a CURVE
 * envelope adds on the wire) is disconnected by libzmq as soon as the
 * part's size arrives, before anything is allocated.  Set before
 * bind/connect: a listener copies the options it was bound with. */
void set_max_message(void *sock, int64_t bytes);

/* ---- curve.c ---- */

/* Both key files or neither (CURVE off); sets z->curve. */
int curve_load(zt *z, const char *public_path, const char *secret_path, lsgd_error *err);
void curve_server(zt *z, void *sock);
void curve_client(zt *z, void *sock);
/* The ZAP thread that admits only clients holding the run's key pair. */
void curve_start_authenticator(zt *z);
void curve_stop_authenticator(zt *z);

/* ---- rendezvous.c ---- */

/* Bind the data sockets, meet at the coordinator, connect to every peer. */
int rendezvous(zt *z, lsgd_error *err);

/* ---- phase.c ---- */

/* What a phase of a collective expects from each peer, in the order the
 * peer sends it: up to two runs of frames, each the float range
 * [first, first + count) of the vector (count 0: one header-only frame).
 * A payload is copied to dest, or, when dest is NULL, kept as it arrived
 * in held[k] (k = its frame number in the run) for the phase's `ready` hook. */
typedef struct frames_in {
    unsigned type;
    uint32_t slice;
    float *dest;
    zmq_msg_t *held;
    uint64_t first, count, got; /* floats */
    uint64_t frames;            /* frames received */
} frames_in;

typedef struct phase {
    const char *op;
    frames_in in[MAX_WORLD][2];
    int runs[MAX_WORLD], at[MAX_WORLD]; /* runs expected from p; the one now arriving */
    /* called after every frame received; may send (the allreduce's reduce step) */
    int (*ready)(zt *z, struct phase *ph, void *arg, lsgd_error *err);
    void *ready_arg;
} phase;

frame_header header(const zt *z, unsigned type, uint32_t slice, uint64_t offset,
                    uint64_t length);
/* Queue one frame (sends never block: the queues are unbounded). */
int send_frame(zt *z, int p, const frame_header *h, const void *payload, size_t bytes,
               const char *op, lsgd_error *err);
/* floats [first, first+count) of data to peer p, in frames. */
int send_range(zt *z, int p, unsigned type, uint32_t slice, const float *data, uint64_t first,
               uint64_t count, const char *op, lsgd_error *err);
void phase_init(phase *ph, const char *op);
void phase_expect(phase *ph, int p, unsigned type, uint32_t slice, float *dest,
                  zmq_msg_t *held, uint64_t first, uint64_t count);
/* Receive until every expected peer is done, the deadline passes, or a peer
 * we still wait for has been disconnected longer than the grace. */
int run_phase(zt *z, phase *ph, lsgd_error *err);
/* The end of every collective: on failure tell the peers (ABORT); wait
 * until zmq has released every payload; next round. */
int finish_op(zt *z, const char *op, int rc, lsgd_error *err);
/* One line per peer socket that rejected more than one frame: how many. */
void report_rejected(const zt *z);

/* ---- collectives.c ---- */

/* The ops of the table in zmq.c (self is a zt). */
int transport_allreduce_mean(void *self, float *data, size_t n, lsgd_error *err);
int transport_broadcast(void *self, float *data, size_t n, int root, lsgd_error *err);
int transport_allgather(void *self, float *data, size_t n, lsgd_error *err);
int transport_barrier(void *self, lsgd_error *err);
uint64_t transport_bytes_sent(const void *self);
/* A barrier whose failures name `op` (open's is "open"). */
int barrier_named(zt *z, const char *op, lsgd_error *err);

#endif
