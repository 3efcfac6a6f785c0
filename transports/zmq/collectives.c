/*
 * collectives.c — allreduce_mean, broadcast, allgather and barrier over
 * the sockets the rendezvous connected, each one or two phases (phase.c).
 *
 * allreduce_mean is reduce-scatter + all-gather, pipelined frame by frame:
 * rank q owns the slice [n·q/M, n·(q+1)/M); every rank queues slice q to q
 * at once (frames point into the caller's vector, no copy); q sums frame k
 * of its slice in rank order (x₀ + x₁ + … + x_{M−1}), divides by M, straight
 * from zmq's receive buffers into place, as soon as every copy of frame k
 * has arrived, and sends that mean frame to everyone while the later frames
 * are still on the wire — so the result is bitwise the one of shm and mpi.
 */
#include <stdlib.h>
#include <string.h>

#include "zmq_transport.h"

/* The allreduce's reduce step: my slice [lo, hi) of data, cut in frames,
 * the peers' copies of frame k held as they arrived. */
typedef struct reduce {
    float *data;
    uint64_t lo, hi;
    uint64_t frames, next;   /* frames of my slice; the next one to sum */
    zmq_msg_t *held;         /* [world][frames] */
} reduce;

/* Room for the allreduce's held frames ([world][frames]) and, for
 * payloads zmq left unaligned, copies ([world][frame] floats). */
static int reserve(zt *z, uint64_t frames)
{
    size_t held = (size_t)z->world * frames, stage = (size_t)z->world * z->frame;
    if (held > z->held_cap) {
        free(z->held);
        z->held = malloc(held * sizeof *z->held);
        z->held_cap = z->held ? held : 0;
    }
    if (stage > z->stage_floats) {
        free(z->stage);
        z->stage = malloc(stage * sizeof *z->stage);
        z->stage_floats = z->stage ? stage : 0;
    }
    return z->held && z->stage ? 0 : -1;
}

/* Peer p's copy of a frame, as floats: zmq's own buffer when it is aligned
 * (large payloads are), else a copy in the stage. */
static const float *held_floats(zt *z, zmq_msg_t *msg, int p)
{
    const void *data = zmq_msg_data(msg);
    if ((uintptr_t)data % sizeof(float) == 0)
        return data;
    float *copy = z->stage + (size_t)p * z->frame;
    memcpy(copy, data, zmq_msg_size(msg));
    return copy;
}

/* Sum every frame of my slice that all peers have sent (in frame order),
 * in place, and send each mean frame to every peer at once: the
 * all-gather of frame k overlaps the reduce-scatter of frame k + 1. */
static int reduce_ready(zt *z, phase *ph, void *arg, lsgd_error *err)
{
    reduce *rd = arg;
    int M = z->world, r = z->rank;
    while (rd->next < rd->frames) {
        uint64_t k = rd->next;
        for (int p = 0; p < M; p++)
            if (p != r && ph->in[p][0].frames <= k)
                return LSGD_OK; /* frame k is not all here yet */
        uint64_t off = rd->lo + k * z->frame;
        uint64_t len = rd->hi - off < z->frame ? rd->hi - off : z->frame;
        const float *x[MAX_WORLD];
        for (int p = 0; p < M; p++)
            x[p] = p == r ? rd->data + off : held_floats(z, &rd->held[p * rd->frames + k], p);
        lsgd_mean_in_rank_order(rd->data + off, NULL, x, M, len);
        for (int p = 0; p < M; p++)
            if (p != r)
                zmq_msg_close(&rd->held[p * rd->frames + k]);
        rd->next++;
        for (int q = 0; q < M; q++) {
            if (q == r)
                continue;
            frame_header h = header(z, FRAME_GATHER, (uint32_t)r, off, len);
            int rc = send_frame(z, q, &h, rd->data + off, len * sizeof(float), ph->op, err);
            if (rc)
                return rc;
        }
    }
    return LSGD_OK;
}

/* Frames a range of `count` floats is cut into (at least one). */
static uint64_t frames_of(const zt *z, uint64_t count)
{
    return count ? (count + z->frame - 1) / z->frame : 1;
}

static void slice_of(uint64_t *lo, uint64_t *hi, size_t n, int q, int world)
{
    *lo = (uint64_t)n * (uint64_t)q / (uint64_t)world;
    *hi = (uint64_t)n * ((uint64_t)q + 1) / (uint64_t)world;
}

/* Reduce-scatter + all-gather, frame by frame: rank q owns slice q; every
 * rank sends slice q to q (straight from the caller's vector); q sums each
 * frame of it in rank order as soon as every copy of that frame is in
 * (reading zmq's buffers, no staging copy), writes the mean in place and
 * sends it on; the mean frames of the other slices are copied into place
 * as they arrive. */
int transport_allreduce_mean(void *self, float *data, size_t n, lsgd_error *err)
{
    zt *z = self;
    const char *op = "allreduce_mean";
    int M = z->world, r = z->rank;
    if (M == 1)
        return LSGD_OK;
    reduce rd = {.data = data};
    slice_of(&rd.lo, &rd.hi, n, r, M);
    rd.frames = frames_of(z, rd.hi - rd.lo);
    if (reserve(z, rd.frames) != 0)
        return finish_op(z, op, lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                               "zmq rank %d: %s: out of memory", r, op), err);
    rd.held = z->held;
    phase ph;
    phase_init(&ph, op);
    ph.ready = reduce_ready;
    ph.ready_arg = &rd;
    int rc = LSGD_OK;
    for (int q = 0; q < M && !rc; q++) {
        if (q == r)
            continue;
        uint64_t qlo, qhi;
        slice_of(&qlo, &qhi, n, q, M);
        rc = send_range(z, q, FRAME_SCATTER, (uint32_t)q, data + qlo, qlo, qhi - qlo, op, err);
        phase_expect(&ph, q, FRAME_SCATTER, (uint32_t)r, NULL, rd.held + q * rd.frames, rd.lo,
                     rd.hi - rd.lo);
        phase_expect(&ph, q, FRAME_GATHER, (uint32_t)q, data + qlo, NULL, qlo, qhi - qlo);
    }
    if (!rc)
        rc = run_phase(z, &ph, err);
    for (int p = 0; p < M; p++) /* after a failure: frames received but not summed */
        for (uint64_t k = rd.next; p != r && k < ph.in[p][0].frames; k++)
            zmq_msg_close(&rd.held[p * rd.frames + k]);
    return finish_op(z, op, rc, err);
}

int transport_broadcast(void *self, float *data, size_t n, int root, lsgd_error *err)
{
    zt *z = self;
    const char *op = "broadcast";
    if (root < 0 || root >= z->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "zmq rank %d: broadcast: root %d is not a rank of world %d",
                              z->rank, root, z->world);
    if (z->world == 1)
        return LSGD_OK;
    phase ph;
    int rc = LSGD_OK;
    if (z->rank == root) {
        for (int p = 0; p < z->world && !rc; p++)
            if (p != root)
                rc = send_range(z, p, FRAME_BCAST, (uint32_t)root, data, 0, n, op, err);
        phase_init(&ph, op);
        for (int p = 0; p < z->world; p++)
            if (p != root)
                phase_expect(&ph, p, FRAME_ACK, (uint32_t)root, NULL, NULL, 0, 0);
    } else {
        phase_init(&ph, op);
        phase_expect(&ph, root, FRAME_BCAST, (uint32_t)root, data, NULL, 0, n);
    }
    if (!rc)
        rc = run_phase(z, &ph, err);
    if (!rc && z->rank != root) {
        frame_header h = header(z, FRAME_ACK, (uint32_t)root, 0, 0);
        rc = send_frame(z, root, &h, "", 0, op, err);
    }
    return finish_op(z, op, rc, err);
}

/* My part data[rank·n, +n) queued to every peer at once, theirs received
 * into their places: one phase. */
int transport_allgather(void *self, float *data, size_t n, lsgd_error *err)
{
    zt *z = self;
    const char *op = "allgather";
    if (z->world == 1)
        return LSGD_OK;
    const uint64_t mine = (uint64_t)z->rank * n;
    phase ph;
    phase_init(&ph, op);
    int rc = LSGD_OK;
    for (int p = 0; p < z->world && !rc; p++) {
        if (p == z->rank)
            continue;
        rc = send_range(z, p, FRAME_BCAST, (uint32_t)z->rank, data + mine, mine, n, op, err);
        phase_expect(&ph, p, FRAME_BCAST, (uint32_t)p, data + (uint64_t)p * n, NULL,
                     (uint64_t)p * n, n);
    }
    if (!rc)
        rc = run_phase(z, &ph, err);
    return finish_op(z, op, rc, err);
}

int barrier_named(zt *z, const char *op, lsgd_error *err)
{
    if (z->world == 1)
        return LSGD_OK;
    phase ph;
    phase_init(&ph, op);
    int rc = LSGD_OK;
    for (int p = 0; p < z->world && !rc; p++) {
        if (p == z->rank)
            continue;
        frame_header h = header(z, FRAME_BARRIER, 0, 0, 0);
        rc = send_frame(z, p, &h, "", 0, op, err);
        phase_expect(&ph, p, FRAME_BARRIER, 0, NULL, NULL, 0, 0);
    }
    if (!rc)
        rc = run_phase(z, &ph, err);
    return finish_op(z, op, rc, err);
}

int transport_barrier(void *self, lsgd_error *err)
{
    return barrier_named(self, "barrier", err);
}

uint64_t transport_bytes_sent(const void *self)
{
    return ((const zt *)self)->bytes_sent;
}
