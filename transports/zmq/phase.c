/*
 * phase.c — frames over the sockets, and one phase of a collective: what is
 * expected from each peer, the bounded wait for it, the end of the call.
 *
 * Payloads go out without a copy: zmq reads the caller's vector, and a
 * collective ends (finish_op) only once zmq has released every one.  The
 * receiver reads one message at a time from each peer it still waits for,
 * checks its header against the frame it expects next from that peer
 * (frame.c) and rejects anything else with a message on stderr (the run goes
 * on).  Waiting is bounded by timeout_s; a peer whose connection drops and
 * stays down longer than GRACE_S is reported by rank; the host's stop
 * request ends a wait within a poll slice (100 ms).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "zmq_transport.h"

/* ---- sending ---- */

frame_header header(const zt *z, unsigned type, uint32_t slice, uint64_t offset,
                    uint64_t length)
{
    return (frame_header){FRAME_MAGIC, PROTOCOL_VERSION, (uint16_t)type, z->run_hash,
                          (uint32_t)z->world, (uint32_t)z->rank, z->round, slice, offset, length};
}

static void release_payload(void *data, void *hint)
{
    (void)data;
    atomic_fetch_sub((_Atomic long *)hint, 1);
}

/* Payloads go out without a copy: zmq reads the caller's vector, and the
 * collective waits (wait_sent) until zmq has released every one. */
static int send_payload(zt *z, int p, const void *payload, size_t bytes)
{
    void *sock = z->out[p];
    if (bytes < 65536)
        return zmq_send(sock, payload, bytes, 0) == (int)bytes ? 0 : -1;
    zmq_msg_t msg;
    atomic_fetch_add(&z->in_flight[p], 1);
    zmq_msg_init_data(&msg, (void *)payload, bytes, release_payload, &z->in_flight[p]);
    if (zmq_msg_send(&msg, sock, 0) == (int)bytes)
        return 0;
    zmq_msg_close(&msg); /* releases it */
    return -1;
}

int send_frame(zt *z, int p, const frame_header *h, const void *payload, size_t bytes,
               const char *op, lsgd_error *err)
{
    if (zmq_send(z->out[p], h, sizeof *h, ZMQ_SNDMORE) != (int)sizeof *h ||
        send_payload(z, p, payload, bytes) != 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq rank %d: %s: cannot send to rank %d: %s",
                              z->rank, op, p, zmq_strerror(zmq_errno()));
    z->bytes_sent += bytes;
    return LSGD_OK;
}

int send_range(zt *z, int p, unsigned type, uint32_t slice, const float *data, uint64_t first,
               uint64_t count, const char *op, lsgd_error *err)
{
    uint64_t off = first, end = first + count;
    do {
        uint64_t len = end - off < z->frame ? end - off : z->frame;
        frame_header h = header(z, type, slice, off, len);
        int rc = send_frame(z, p, &h, data + (off - first), len * sizeof(float), op, err);
        if (rc)
            return rc;
        off += len;
    } while (off < end);
    return LSGD_OK;
}

/* Best effort: tell every peer why this rank stops. */
static void send_abort(zt *z, const lsgd_error *err)
{
    for (int p = 0; p < z->world; p++) {
        if (p == z->rank || !z->out[p])
            continue;
        frame_header h = header(z, FRAME_ABORT, 0, 0, 0);
        size_t len = err ? strlen(err->message) : 0;
        if (zmq_send(z->out[p], &h, sizeof h, ZMQ_SNDMORE | ZMQ_DONTWAIT) == (int)sizeof h)
            zmq_send(z->out[p], err ? err->message : "", len, ZMQ_DONTWAIT);
    }
}

/* ---- what a phase expects ---- */

void phase_init(phase *ph, const char *op)
{
    memset(ph, 0, sizeof *ph);
    ph->op = op;
}

void phase_expect(phase *ph, int p, unsigned type, uint32_t slice, float *dest,
                  zmq_msg_t *held, uint64_t first, uint64_t count)
{
    frames_in *f = &ph->in[p][ph->runs[p]++];
    *f = (frames_in){type, slice, dest, held, first, count, 0, 0};
}

static int phase_done(const phase *ph, int p)
{
    return ph->at[p] == ph->runs[p];
}

/* The frame expected next from p in run f. */
static frame_expect expected(const zt *z, const frames_in *f, int p)
{
    uint64_t left = f->count - f->got;
    return (frame_expect){.run_hash = z->run_hash, .world = (uint32_t)z->world,
                          .src = (uint32_t)p, .type = f->type, .round = z->round,
                          .slice = f->slice, .offset = f->first + f->got,
                          .length = left < z->frame ? left : z->frame};
}

/* ---- receiving ---- */

/* Drain the parts of a message we are rejecting. */
static void drain(void *sock, zmq_msg_t *msg)
{
    while (zmq_msg_more(msg)) {
        zmq_msg_close(msg);
        zmq_msg_init(msg);
        if (zmq_msg_recv(msg, sock, ZMQ_DONTWAIT) < 0)
            break;
    }
}

/* A flood of garbage is one line per peer socket, then a count at close. */
static void reject(zt *z, int p, const char *op, const char *why)
{
    if (z->rejected[p]++ == 0)
        fprintf(stderr, "zmq rank %d: %s: rejected a frame on the socket of rank %d: %s (further "
                        "frames rejected there are counted, not shown)\n", z->rank, op, p, why);
}

void report_rejected(const zt *z)
{
    for (int p = 0; p < z->world; p++)
        if (z->rejected[p] > 1)
            fprintf(stderr, "zmq rank %d: rejected %llu frames in all on the socket of rank %d "
                            "(the first is shown above)\n",
                    z->rank, (unsigned long long)z->rejected[p], p);
}

/* The expected frame from p has arrived: copy its payload into place, or
 * keep the message itself (no copy) for the ready hook. */
static void accept_frame(frames_in *f, const frame_header *h, zmq_msg_t *body)
{
    size_t bytes = zmq_msg_size(body);
    if (f->held) {
        zmq_msg_init(&f->held[f->frames]);
        zmq_msg_move(&f->held[f->frames], body);
    } else if (bytes) {
        memcpy(f->dest + (h->offset - f->first), zmq_msg_data(body), bytes);
    }
    f->got += h->length;
    f->frames++;
}

/* Read one message from peer p and, when it is the expected frame, take
 * its payload.  Returns an error only for an ABORT. */
static int receive_one(zt *z, phase *ph, int p, lsgd_error *err)
{
    void *sock = z->in[p];
    zmq_msg_t head, body;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&head);
        return LSGD_OK;
    }
    char why[256];
    frame_header h;
    if (!zmq_msg_more(&head) || frame_decode(&h, zmq_msg_data(&head), zmq_msg_size(&head)) != 0) {
        snprintf(why, sizeof why, "a %zu-byte message is not a header + payload frame",
                 zmq_msg_size(&head));
        reject(z, p, ph->op, why);
        drain(sock, &head);
        zmq_msg_close(&head);
        return LSGD_OK;
    }
    zmq_msg_close(&head);
    zmq_msg_init(&body);
    int got = zmq_msg_recv(&body, sock, ZMQ_DONTWAIT);
    if (got < 0 || zmq_msg_more(&body)) {
        reject(z, p, ph->op, got < 0 ? "header without payload" : "more than two parts");
        drain(sock, &body);
        zmq_msg_close(&body);
        return LSGD_OK;
    }
    size_t bytes = zmq_msg_size(&body);
    frames_in *f = &ph->in[p][ph->at[p]];
    frame_expect want = expected(z, f, p);
    const char *bad = frame_check(&h, &want, bytes, why, sizeof why);
    int rc = LSGD_OK;
    if (bad) {
        reject(z, p, ph->op, bad);
    } else if (h.type == FRAME_ABORT) {
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq rank %d: %s: rank %d failed: %.*s",
                            z->rank, ph->op, p, (int)(bytes < 900 ? bytes : 900),
                            (const char *)zmq_msg_data(&body));
    } else {
        accept_frame(f, &h, &body);
        if (f->got == f->count) /* a header-only frame completes count 0 */
            ph->at[p]++;
    }
    zmq_msg_close(&body);
    return rc;
}

/* Connection events of out[p]: a drop marks p down until it reconnects. */
static void read_monitor(zt *z, int p)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    while (zmq_msg_recv(&ev, z->monitor[p], ZMQ_DONTWAIT) >= 0) {
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        if (zmq_msg_more(&ev)) {
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, z->monitor[p], 0);
            zmq_msg_close(&addr);
        }
        if (event == ZMQ_EVENT_DISCONNECTED && !z->down[p]) {
            z->down[p] = 1;
            z->down_since[p] = now_s();
        } else if (event == ZMQ_EVENT_CONNECTED || event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            z->down[p] = 0;
        }
    }
    zmq_msg_close(&ev);
}

/* ---- the bounded wait ---- */

/* Floats received from p and expected from p in this phase. */
static void progress(const phase *ph, int p, unsigned long long *got,
                     unsigned long long *count)
{
    *got = *count = 0;
    for (int i = 0; i < ph->runs[p]; i++) {
        *got += ph->in[p][i].got;
        *count += ph->in[p][i].count;
    }
}

/* The wait ends for `why` ("timed out after 60 s"): name the first peer
 * still awaited and how much of its part came. */
static int stop_waiting(zt *z, const phase *ph, const char *why, lsgd_error *err)
{
    for (int p = 0; p < z->world; p++) {
        if (phase_done(ph, p))
            continue;
        unsigned long long got, count;
        progress(ph, p, &got, &count);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "zmq rank %d: %s (round %u): %s waiting for rank %d (%llu of %llu "
                              "floats received)", z->rank, ph->op, z->round, why, p, got, count);
    }
    return LSGD_OK;
}

static int timed_out(zt *z, const phase *ph, lsgd_error *err)
{
    char why[64];
    snprintf(why, sizeof why, "timed out after %g s", z->timeout_s);
    return stop_waiting(z, ph, why, err);
}

/* A peer we still wait for, disconnected longer than the grace: say so. */
static int check_down(zt *z, const phase *ph, lsgd_error *err)
{
    double grace = GRACE_S < z->timeout_s ? GRACE_S : z->timeout_s;
    for (int p = 0; p < z->world; p++) {
        if (phase_done(ph, p) || !z->down[p] || now_s() - z->down_since[p] <= grace)
            continue;
        unsigned long long got, count;
        progress(ph, p, &got, &count);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "zmq rank %d: %s (round %u): rank %d disconnected (its process "
                              "died or the network failed; %llu of %llu floats received)",
                              z->rank, ph->op, z->round, p, got, count);
    }
    return LSGD_OK;
}

/* Whatever is queued is read before polling again. */
int run_phase(zt *z, phase *ph, lsgd_error *err)
{
    double deadline = now_s() + z->timeout_s;
    for (;;) {
        zmq_pollitem_t items[2 * MAX_WORLD];
        int who[2 * MAX_WORLD], n = 0, waiting = 0;
        for (int p = 0; p < z->world; p++) {
            if (phase_done(ph, p))
                continue;
            waiting++;
            who[n] = p;
            items[n++] = (zmq_pollitem_t){z->in[p], 0, ZMQ_POLLIN, 0};
            if (z->monitor[p]) {
                who[n] = -1 - p;
                items[n++] = (zmq_pollitem_t){z->monitor[p], 0, ZMQ_POLLIN, 0};
            }
        }
        if (!waiting)
            return LSGD_OK;
        if (stop_requested(z))
            return stop_waiting(z, ph, STOP_REQUESTED " while", err);
        double left = deadline - now_s();
        if (left <= 0)
            return timed_out(z, ph, err);
        int rc = zmq_poll(items, n, (long)(left < 0.1 ? left * 1000 + 1 : 100));
        if (rc < 0 && zmq_errno() != EINTR)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "zmq rank %d: %s: poll failed: %s",
                                  z->rank, ph->op, zmq_strerror(zmq_errno()));
        for (int i = 0; i < n && rc > 0; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            if (who[i] < 0) {
                read_monitor(z, -1 - who[i]);
                continue;
            }
            int e = receive_one(z, ph, who[i], err);
            if (!e && ph->ready)
                e = ph->ready(z, ph, ph->ready_arg, err);
            if (e)
                return e;
        }
        int e = check_down(z, ph, err);
        if (e)
            return e;
    }
}

/* ---- the end of a collective ---- */

static long payloads_in_flight(zt *z)
{
    long n = 0;
    for (int p = 0; p < z->world; p++)
        n += atomic_load(&z->in_flight[p]);
    return n;
}

/* Close every connection without lingering: zmq drops what is queued and
 * releases the payloads at once. */
static void drop_queues(zt *z)
{
    for (int p = 0; p < z->world; p++)
        if (z->out[p]) {
            set_int(z->out[p], ZMQ_LINGER, 0);
            zmq_socket_monitor(z->out[p], NULL, 0);
            close_socket(&z->out[p]);
        }
    while (payloads_in_flight(z) > 0) {
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A peer that still holds payloads of ours and has been disconnected
 * longer than the grace (it died after we received all we needed from it,
 * before it read what we sent). */
static int lost_receiver(zt *z, const char *op, lsgd_error *err)
{
    double grace = GRACE_S < z->timeout_s ? GRACE_S : z->timeout_s;
    for (int p = 0; p < z->world; p++) {
        if (!z->monitor[p] || atomic_load(&z->in_flight[p]) == 0)
            continue;
        read_monitor(z, p);
        if (z->down[p] && now_s() - z->down_since[p] > grace)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "zmq rank %d: %s (round %u): rank %d disconnected before it "
                                  "received this rank's frames (its process died or the network "
                                  "failed)", z->rank, op, z->round, p);
    }
    return LSGD_OK;
}

/* Until zmq has released every payload it was given (they point into the
 * caller's vector, which is the caller's again once the call returns).  On
 * failure the peers' queues are dropped so that this ends at once. */
static int wait_sent(zt *z, const char *op, lsgd_error *err)
{
    double deadline = now_s() + z->timeout_s;
    while (payloads_in_flight(z) > 0) {
        int rc = z->failed ? LSGD_ERR_RUNTIME : lost_receiver(z, op, err);
        if (!rc && stop_requested(z))
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                "zmq rank %d: %s (round %u): " STOP_REQUESTED " while sending",
                                z->rank, op, z->round);
        if (!rc && now_s() > deadline)
            rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                "zmq rank %d: %s (round %u): timed out after %g s sending",
                                z->rank, op, z->round, z->timeout_s);
        if (rc) {
            drop_queues(z);
            return rc;
        }
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
    return LSGD_OK;
}

int finish_op(zt *z, const char *op, int rc, lsgd_error *err)
{
    if (rc) {
        send_abort(z, err);
        z->failed = 1;
    }
    int sent = wait_sent(z, op, err);
    if (!rc && sent) {
        rc = sent;
        z->failed = 1;
    }
    z->round++;
    return rc;
}
