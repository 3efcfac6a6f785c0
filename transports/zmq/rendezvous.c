/*
 * rendezvous.c — how the ranks of a run find each other.
 *
 * Every rank binds one PULL socket per peer (its data endpoints), rank 0
 * binds the `coordinator` ROUTER, the others connect a DEALER and say HELLO
 * (run id, world, rank, their endpoints).  Rank 0 refuses a peer of another
 * run or world size, and once all have joined sends everyone the table of
 * endpoints (WELCOME) with the run's frame size (the smallest of all ranks':
 * no rank accepts a message part larger than its own); each rank then
 * connects one PUSH socket to each peer.  One socket pair per ordered pair of ranks keeps each
 * peer's frames in order.  What the messages say is read in handshake.c;
 * this file owns the sockets and the deadlines (and ends either wait on
 * the host's stop request).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zmq_transport.h"

/* Receive every part of one message (at most `cap`); returns the count, or
 * cap + 1 when there were more (all drained). */
static int recv_parts(void *sock, zmq_msg_t *part, int cap)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < cap)
            part[n] = m;
        else
            zmq_msg_close(&m);
        n++;
    }
    return n;
}

static void close_parts(zmq_msg_t *part, int n, int cap)
{
    for (int i = 0; i < n && i < cap; i++)
        zmq_msg_close(&part[i]);
}

/* The bytes of the first min(n, cap) parts, for handshake.c. */
static void view_parts(wire_part *view, zmq_msg_t *part, int n, int cap)
{
    for (int i = 0; i < n && i < cap; i++)
        view[i] = (wire_part){zmq_msg_data(&part[i]), zmq_msg_size(&part[i])};
}

static int bind_data_endpoints(zt *z, lsgd_error *err)
{
    int ipc = strncmp(z->coordinator, "ipc://", 6) == 0;
    for (int p = 0; p < z->world; p++) {
        if (p == z->rank)
            continue;
        char want[ENDPOINT_MAX + 32];
        if (ipc)
            snprintf(want, sizeof want, "%s.%d-%d", z->coordinator, z->rank, p);
        else
            snprintf(want, sizeof want, "tcp://%s:*", z->bind_address);
        z->in[p] = new_socket(z, ZMQ_PULL);
        if (!z->in[p])
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq rank %d: open: no socket: %s",
                                  z->rank, zmq_strerror(zmq_errno()));
        /* zmq reads at most a frame ahead of the transport: a few buffers
         * recycled by malloc instead of a whole slice of fresh pages per
         * call (the sender's queue is unbounded: it never blocks).  With
         * CURVE, libzmq 4.3 delivers nothing through a queue of 1: 2. */
        set_int(z->in[p], ZMQ_RCVHWM, z->curve ? 2 : 1);
        /* no frame part is larger than this rank's frame_size (the run's
         * frame is the smallest of all ranks'), an ABORT's text is smaller */
        set_max_message(z->in[p], (int64_t)(z->frame * sizeof(float)));
        curve_server(z, z->in[p]);
        if (zmq_bind(z->in[p], want) != 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "zmq rank %d: open: cannot bind a data socket at %s "
                                  "(transport.params.%s): %s",
                                  z->rank, want, ipc ? "coordinator" : "bind_address",
                                  zmq_strerror(zmq_errno()));
        size_t len = ENDPOINT_MAX;
        zmq_getsockopt(z->in[p], ZMQ_LAST_ENDPOINT, z->endpoint[p], &len);
    }
    return LSGD_OK;
}

/* ---- rank 0: the coordinator ---- */

typedef struct joiner {
    int joined;
    char identity[256];
    size_t identity_len;
} joiner;

/* The answer to a refused HELLO: its own run id hash back, nothing of this run's. */
static void refuse(zt *z, void *router, zmq_msg_t *identity, const hello *hi, const char *reason)
{
    frame_header h = header(z, FRAME_REFUSE, 0, 0, 0);
    h.run_hash = hi->h.run_hash;
    zmq_send(router, zmq_msg_data(identity), zmq_msg_size(identity), ZMQ_SNDMORE);
    zmq_send(router, &h, sizeof h, ZMQ_SNDMORE);
    zmq_send(router, reason, strlen(reason), 0);
}

/* Why a HELLO from src, that hello_read accepted, is refused ("" if not):
 * a second rank src, or a bad endpoint table (its row filled here). */
static void check_joiner(zt *z, const joiner *who, endpoint_line *table, const hello *hi,
                         const wire_part *part, const char *peer, char *why, size_t cap)
{
    int M = z->world, src = hi->src;
    why[0] = '\0';
    if (who[src].joined && (who[src].identity_len != part[0].size ||
                            memcmp(who[src].identity, part[0].data, who[src].identity_len) != 0))
        snprintf(why, cap, "rank %d of run '%s' has already joined", src, z->run_id);
    else if (hello_endpoints(table + (size_t)src * M, M, src, &part[3], why, cap) == 0)
        for (int p = 0; p < M; p++)
            if (p != src)
                advertise(table[(size_t)src * M + p], peer);
}

/* Rank 0: one message on the coordinator.  A HELLO fills its row of the
 * table; anything else is rejected with a message, a peer of another run
 * or world size is refused (and told why). */
static void coordinator_message(zt *z, void *router, joiner *who, endpoint_line *table,
                                char *refused, size_t refused_cap)
{
    zmq_msg_t part[4];
    wire_part view[4];
    int n = recv_parts(router, part, 4);
    view_parts(view, part, n, 4);
    char why[512];
    hello hi;
    enum hello_verdict verdict = hello_read(&hi, view, n, z->run_id, z->world, why, sizeof why);
    if (verdict == HELLO_REJECT) {
        fprintf(stderr, "zmq rank 0: rendezvous: rejected a message on the coordinator %s: %s\n",
                z->coordinator, why);
        close_parts(part, n, 4);
        return;
    }
    const char *peer = zmq_msg_gets(&part[1], "Peer-Address");
    if (verdict == HELLO_JOIN)
        check_joiner(z, who, table, &hi, view, peer, why, sizeof why);
    if (why[0]) {
        /* this rank's own lines may name its run id; the answer does not */
        char mine[RUN_ID_MAX + 32] = "";
        if (hi.other_run)
            snprintf(mine, sizeof mine, " (rank 0's run is '%s')", z->run_id);
        fprintf(stderr, "zmq rank 0: rendezvous: refused %s: %s%s\n", peer ? peer : "a peer", why,
                mine);
        snprintf(refused, refused_cap, "%s%s", why, mine);
        refuse(z, router, &part[0], &hi, why);
    } else if (zmq_msg_size(&part[0]) <= sizeof who[hi.src].identity) {
        if (hi.frame < z->frame) /* every rank can take the run's frames */
            z->frame = hi.frame;
        who[hi.src].joined = 1;
        who[hi.src].identity_len = zmq_msg_size(&part[0]);
        memcpy(who[hi.src].identity, zmq_msg_data(&part[0]), who[hi.src].identity_len);
    }
    close_parts(part, n, 4);
}

static int welcome_all(zt *z, void *router, const joiner *who, endpoint_line *table)
{
    int M = z->world;
    size_t cap = (size_t)M * M * ENDPOINT_MAX;
    char *text = malloc(cap);
    if (!text)
        return -1;
    size_t len = join_lines(text, cap, table, M * M);
    frame_header h = header(z, FRAME_WELCOME, 0, 0, z->frame); /* the smallest of all ranks' */
    for (int p = 1; p < M; p++) {
        zmq_send(router, who[p].identity, who[p].identity_len, ZMQ_SNDMORE);
        zmq_send(router, &h, sizeof h, ZMQ_SNDMORE);
        zmq_send(router, text, len, 0);
    }
    free(text);
    return 0;
}

/* Tell the ranks that came why nothing happens. */
static void abort_joined(zt *z, void *router, const joiner *who, const lsgd_error *err)
{
    frame_header h = header(z, FRAME_ABORT, 0, 0, 0);
    for (int p = 1; p < z->world; p++)
        if (who[p].joined) {
            zmq_send(router, who[p].identity, who[p].identity_len, ZMQ_SNDMORE);
            zmq_send(router, &h, sizeof h, ZMQ_SNDMORE);
            zmq_send(router, err ? err->message : "", err ? strlen(err->message) : 0, 0);
        }
}

static int rendezvous_coordinator(zt *z, endpoint_line *table, lsgd_error *err)
{
    int M = z->world, rc = LSGD_OK;
    void *router = new_socket(z, ZMQ_ROUTER);
    set_max_message(router, HELLO_PART_MAX);
    curve_server(z, router);
    set_int(router, ZMQ_ROUTER_MANDATORY, 0);
    if (zmq_bind(router, z->coordinator) != 0) {
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                            "zmq rank 0: rendezvous: cannot bind the coordinator %s: %s "
                            "(another run on that port? set transport.params.coordinator)",
                            z->coordinator, zmq_strerror(zmq_errno()));
        zmq_close(router);
        return rc;
    }
    char host[128];
    endpoint_host(host, sizeof host, z->coordinator);
    for (int p = 1; p < M; p++) {
        snprintf(table[p], ENDPOINT_MAX, "%s", z->endpoint[p]);
        advertise(table[p], host);
    }
    joiner *who = calloc((size_t)M, sizeof *who);
    char refused[800] = "";
    double deadline = now_s() + z->timeout_s;
    for (;;) {
        int joined = 1;
        for (int p = 1; p < M; p++)
            joined += who[p].joined;
        if (joined == M)
            break;
        if (now_s() > deadline) {
            int missing = 1;
            while (who[missing].joined)
                missing++;
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                "zmq rank 0: rendezvous at %s: timed out after %g s: rank %d "
                                "never joined (%d of %d ranks joined)%s%s",
                                z->coordinator, z->timeout_s, missing, joined, M,
                                refused[0] ? "; refused: " : "", refused);
            abort_joined(z, router, who, err);
            break;
        }
        if (stop_requested(z)) {
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                "zmq rank 0: rendezvous at %s: " STOP_REQUESTED " while %d of %d "
                                "ranks had joined", z->coordinator, joined, M);
            abort_joined(z, router, who, err);
            break;
        }
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) > 0)
            coordinator_message(z, router, who, table, refused, sizeof refused);
    }
    if (!rc && welcome_all(z, router, who, table) != 0)
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq rank 0: rendezvous: out of memory");
    free(who);
    zmq_close(router); /* lingers until the welcomes are out */
    return rc;
}

/* ---- the other ranks: HELLO, then wait for the verdict ---- */

/* One reply of the coordinator: LSGD_OK (welcomed), an error, or -1 (keep waiting). */
static int read_reply(zt *z, void *dealer, endpoint_line *table, lsgd_error *err)
{
    zmq_msg_t part[2];
    wire_part view[2];
    int n = recv_parts(dealer, part, 2), rc = -1;
    view_parts(view, part, n, 2);
    reply r;
    switch (reply_read(&r, table, z->world, z->run_hash, view, n)) {
    case REPLY_NONE:
        break;
    case REPLY_FOREIGN:
        fprintf(stderr, "zmq rank %d: rendezvous: rejected a reply that is not from "
                        "this run's coordinator\n", z->rank);
        break;
    case REPLY_REFUSE:
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "zmq rank %d: rendezvous: refused by rank 0 at %s: %.*s", z->rank,
                            z->coordinator, (int)(r.body_len < 600 ? r.body_len : 600), r.body);
        break;
    case REPLY_ABORT:
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq rank %d: rendezvous failed: %.*s",
                            z->rank, (int)(r.body_len < 600 ? r.body_len : 600), r.body);
        break;
    case REPLY_WELCOME:
        if (r.frame > z->frame) { /* its data sockets would drop such frames */
            rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                                "zmq rank %d: rendezvous: rank 0 at %s cuts frames of %zu bytes, "
                                "more than this rank's transport.params.frame_size %zu (another "
                                "lsgd version?)", z->rank, z->coordinator,
                                r.frame * sizeof(float), z->frame * sizeof(float));
            break;
        }
        z->frame = r.frame; /* frames are cut alike on every rank */
        rc = LSGD_OK;
        break;
    case REPLY_MALFORMED:
        fprintf(stderr, "zmq rank %d: rendezvous: rejected a malformed %s from the "
                        "coordinator\n", z->rank, frame_type_name(r.h.type));
        break;
    }
    close_parts(part, n, 2);
    return rc;
}

static int rendezvous_join(zt *z, endpoint_line *table, lsgd_error *err)
{
    void *dealer = new_socket(z, ZMQ_DEALER);
    /* the largest answer is the WELCOME's table of M·M endpoints */
    set_max_message(dealer, (int64_t)z->world * z->world * ENDPOINT_MAX + LSGD_ERROR_MAX);
    curve_client(z, dealer);
    int rc = LSGD_OK;
    if (zmq_connect(dealer, z->coordinator) != 0) {
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "zmq rank %d: rendezvous: bad transport.params.coordinator '%s': %s",
                            z->rank, z->coordinator, zmq_strerror(zmq_errno()));
        zmq_close(dealer);
        return rc;
    }
    char text[MAX_WORLD * ENDPOINT_MAX];
    size_t len = join_lines(text, sizeof text, (const endpoint_line *)z->endpoint, z->world);
    frame_header h = header(z, FRAME_HELLO, 0, 0, z->frame); /* the largest frame it takes */
    zmq_send(dealer, &h, sizeof h, ZMQ_SNDMORE);
    zmq_send(dealer, z->run_id, strlen(z->run_id), ZMQ_SNDMORE);
    zmq_send(dealer, text, len, 0);
    /* a moment longer than rank 0, so that its verdict arrives first */
    double deadline = now_s() + z->timeout_s + (z->timeout_s < 2 ? z->timeout_s / 2 : 1);
    for (rc = -1; rc == -1;) {
        if (now_s() > deadline) {
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                "zmq rank %d: rendezvous: timed out after %g s: no answer from "
                                "the coordinator %s (is rank 0 running with this coordinator%s?)",
                                z->rank, z->timeout_s, z->coordinator,
                                z->curve ? " and the same CURVE keys" : "");
            break;
        }
        if (stop_requested(z)) {
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                "zmq rank %d: rendezvous: " STOP_REQUESTED " while waiting for "
                                "the coordinator %s", z->rank, z->coordinator);
            break;
        }
        zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) > 0)
            rc = read_reply(z, dealer, table, err);
    }
    zmq_close(dealer);
    return rc;
}

static int connect_peers(zt *z, endpoint_line *table, lsgd_error *err)
{
    for (int p = 0; p < z->world; p++) {
        if (p == z->rank)
            continue;
        const char *e = table[(size_t)p * z->world + z->rank];
        if (!endpoint_ok(e))
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "zmq rank %d: open: no endpoint for rank %d", z->rank, p);
        z->out[p] = new_socket(z, ZMQ_PUSH);
        curve_client(z, z->out[p]);
        char mon[96];
        snprintf(mon, sizeof mon, "inproc://lsgd-monitor-%p-%d", (void *)z, p);
        zmq_socket_monitor(z->out[p], mon,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        z->monitor[p] = zmq_socket(z->ctx, ZMQ_PAIR);
        set_int(z->monitor[p], ZMQ_LINGER, 0);
        zmq_connect(z->monitor[p], mon);
        if (zmq_connect(z->out[p], e) != 0)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "zmq rank %d: open: cannot connect to rank %d at %s: %s",
                                  z->rank, p, e, zmq_strerror(zmq_errno()));
    }
    return LSGD_OK;
}

int rendezvous(zt *z, lsgd_error *err)
{
    endpoint_line *table = calloc((size_t)z->world * z->world, ENDPOINT_MAX);
    int rc = table ? bind_data_endpoints(z, err)
                   : lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq: open: out of memory");
    if (!rc)
        rc = z->rank == 0 ? rendezvous_coordinator(z, table, err) : rendezvous_join(z, table, err);
    if (!rc)
        rc = connect_peers(z, table, err);
    free(table);
    return rc;
}
