/*
 * mpi.c — the transport for clusters: Open MPI under mpirun or srun.
 *
 * Rank and world come from MPI_COMM_WORLD and must agree with what the
 * host was told.  MPI_Allreduce's own sum is NOT used (its order is
 * unspecified): allreduce_mean is a reduce-scatter + all-gather of
 * point-to-point messages in which rank q sums its slice
 * [n·q/M, n·(q+1)/M) in rank order (x₀ + x₁ + … + x_{M−1}) and divides by
 * M — bitwise the result of shm and zmq.  Slices travel in 1 MiB pieces
 * and rank q sums and sends on each piece of its slice as soon as every
 * copy of it is in, while the later pieces still arrive.  Every wait polls
 * non-blocking requests against a deadline (timeout_s) and the host's stop
 * request (info->stop), and names the rank it waits for.  What open waits
 * in (MPI_Init_thread, MPI_Comm_dup) cannot be interrupted: a stop there
 * takes effect at the first collective.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsgd/transport.h"

#define PIECE (1u << 18) /* floats per message (1 MiB): the unit of the allreduce pipeline */

typedef struct mt {
    int rank, world;
    double timeout_s;
    const volatile sig_atomic_t *stop; /* the host's stop request, or NULL */
    MPI_Comm comm;
    int initialized_here; /* we called MPI_Init: we finalize */
    int failed;           /* a call timed out: requests may be pending */
    int tag;              /* per call, so calls never mix */
    uint64_t bytes_sent;
    float *stage;         /* [world][slice] */
    const float **inputs; /* [world]: the copies of one piece, in rank order */
    size_t stage_floats;
    MPI_Request *req;     /* [2 · world · pieces] */
    int *req_peer;
    size_t req_cap;
} mt;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Keep libmpi and this plugin loaded for good: Open MPI cannot be
 * unloaded and re-initialised, and its components need libmpi's symbols
 * global. */
static void pin_libraries(void)
{
    dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
    Dl_info self;
    if (dladdr((void *)pin_libraries, &self) && self.dli_fname)
        dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* ---- requests with a deadline ---- */

static int reserve(mt *m, size_t n)
{
    if (n <= m->req_cap)
        return 0;
    MPI_Request *r = realloc(m->req, n * sizeof *r);
    if (r)
        m->req = r;
    int *p = realloc(m->req_peer, n * sizeof *p);
    if (p)
        m->req_peer = p;
    if (!r || !p)
        return -1;
    m->req_cap = n;
    return 0;
}

/* Messages `count` floats travel in. */
static size_t pieces(size_t count)
{
    return (count + PIECE - 1) / PIECE;
}

/* Post floats [0, count) to/from peer p in pieces with `tag`; appends requests. */
static void post(mt *m, size_t *nreq, int send, float *buf, size_t count, int p, int tag)
{
    for (size_t off = 0; off < count; off += PIECE) {
        size_t len = count - off < PIECE ? count - off : PIECE;
        MPI_Request *r = &m->req[*nreq];
        if (send)
            MPI_Isend(buf + off, (int)len, MPI_FLOAT, p, tag, m->comm, r);
        else
            MPI_Irecv(buf + off, (int)len, MPI_FLOAT, p, tag, m->comm, r);
        m->req_peer[*nreq] = p;
        (*nreq)++;
        if (send)
            m->bytes_sent += len * sizeof(float);
    }
}

/* The rank of the first request in [first, first + count) not complete. */
static int first_pending(mt *m, size_t first, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int flag = 0;
        MPI_Request_get_status(m->req[first + i], &flag, MPI_STATUS_IGNORE);
        if (!flag)
            return m->req_peer[first + i];
    }
    return -1;
}

/* Until requests [first, first + count) have completed (MPI_REQUEST_NULL
 * counts as done), the deadline or the host's stop request, naming the rank
 * still awaited.  The requests stay posted on failure: close leaves MPI as
 * it is. */
static int wait_range(mt *m, size_t first, size_t count, const char *op, lsgd_error *err)
{
    double deadline = now_s() + m->timeout_s;
    MPI_Request *req = m->req + first;
    for (;;) {
        int done = 0;
        int rc = MPI_Testall((int)count, req, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) {
            m->failed = 1;
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi rank %d: %s: MPI error %d",
                                  m->rank, op, rc);
        }
        if (done)
            return LSGD_OK;
        if (m->stop && *m->stop) {
            m->failed = 1;
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "mpi rank %d: %s: asked to stop (SIGINT/SIGTERM) while waiting "
                                  "for rank %d", m->rank, op, first_pending(m, first, count));
        }
        if (now_s() > deadline) {
            m->failed = 1;
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "mpi rank %d: %s: timed out after %g s waiting for rank %d",
                                  m->rank, op, m->timeout_s, first_pending(m, first, count));
        }
        sched_yield();
    }
}

static int wait_all(mt *m, size_t nreq, const char *op, lsgd_error *err)
{
    return wait_range(m, 0, nreq, op, err);
}

static int next_tag(mt *m)
{
    m->tag = (m->tag + 1) % 30000;
    return m->tag;
}

/* ---- the collectives ---- */

static void slice_of(size_t *lo, size_t *hi, size_t n, int q, int world)
{
    *lo = n * (size_t)q / (size_t)world;
    *hi = n * ((size_t)q + 1) / (size_t)world;
}

/* Grow the stage ([world][slice]) and the request table. */
static int make_room(mt *m, size_t stage_floats, size_t requests)
{
    if (!m->inputs)
        m->inputs = malloc((size_t)m->world * sizeof *m->inputs);
    if (stage_floats > m->stage_floats) {
        free(m->stage);
        m->stage = malloc(stage_floats * sizeof(float));
        m->stage_floats = m->stage ? stage_floats : 0;
    }
    return m->inputs && m->stage && reserve(m, requests) == 0 ? 0 : -1;
}

/* Reduce-scatter + all-gather in pieces: piece k of my slice is summed
 * (from the receive buffers straight into place) and sent to every rank as
 * soon as every rank's copy of it is in, while later pieces still arrive.
 * Requests: [pieces][world] scatter receives (piece k's are contiguous),
 * then the sends. */
static int mpi_allreduce_mean(void *self, float *data, size_t n, lsgd_error *err)
{
    mt *m = self;
    const char *op = "allreduce_mean";
    int M = m->world, r = m->rank;
    if (M == 1)
        return LSGD_OK;
    size_t lo, hi;
    slice_of(&lo, &hi, n, r, M);
    size_t mine = hi - lo, max_slice = n / (size_t)M + 1, K = pieces(mine);
    size_t recvs = K * (size_t)M;
    if (make_room(m, (size_t)M * max_slice, recvs + 3 * (size_t)M * pieces(max_slice)) != 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi rank %d: %s: out of memory", r, op);
    int scatter = next_tag(m), gather = next_tag(m);
    for (size_t k = 0; k < K; k++) /* piece k of slice r from every rank, into the stage */
        for (int p = 0; p < M; p++) {
            size_t i = k * (size_t)M + (size_t)p, off = k * PIECE;
            m->req[i] = MPI_REQUEST_NULL;
            m->req_peer[i] = p;
            if (p != r)
                MPI_Irecv(m->stage + (size_t)p * max_slice + off,
                          (int)(mine - off < PIECE ? mine - off : PIECE), MPI_FLOAT, p, scatter,
                          m->comm, &m->req[i]);
        }
    size_t nreq = recvs;
    for (int q = 0; q < M; q++) { /* slice q of my vector to q */
        size_t qlo, qhi;
        slice_of(&qlo, &qhi, n, q, M);
        if (q != r)
            post(m, &nreq, 1, data + qlo, qhi - qlo, q, scatter);
    }
    size_t scatter_sends = nreq - recvs;
    for (size_t k = 0; k < K; k++) {
        int rc = wait_range(m, k * (size_t)M, (size_t)M, op, err);
        if (rc)
            return rc;
        size_t off = k * PIECE, len = mine - off < PIECE ? mine - off : PIECE;
        const float **x = m->inputs;
        for (int p = 0; p < M; p++)
            x[p] = p == r ? data + lo + off : m->stage + (size_t)p * max_slice + off;
        lsgd_mean_in_rank_order(data + lo + off, NULL, x, M, len);
        for (int q = 0; q < M; q++)
            if (q != r)
                post(m, &nreq, 1, data + lo + off, len, q, gather);
    }
    /* my sends of slice q complete before q's mean is received over it */
    int rc = wait_range(m, recvs, scatter_sends, op, err);
    if (rc)
        return rc;
    for (int q = 0; q < M; q++) {
        size_t qlo, qhi;
        slice_of(&qlo, &qhi, n, q, M);
        if (q != r)
            post(m, &nreq, 0, data + qlo, qhi - qlo, q, gather);
    }
    return wait_range(m, recvs + scatter_sends, nreq - recvs - scatter_sends, op, err);
}

static int mpi_broadcast(void *self, float *data, size_t n, int root, lsgd_error *err)
{
    mt *m = self;
    if (root < 0 || root >= m->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "mpi rank %d: broadcast: root %d is not a rank of world %d",
                              m->rank, root, m->world);
    if (m->world == 1)
        return LSGD_OK;
    if (reserve(m, (size_t)m->world * pieces(n) + 1) != 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi rank %d: broadcast: out of memory",
                              m->rank);
    int tag = next_tag(m);
    size_t nreq = 0;
    if (m->rank == root) {
        for (int p = 0; p < m->world; p++)
            if (p != root)
                post(m, &nreq, 1, data, n, p, tag);
    } else {
        post(m, &nreq, 0, data, n, root, tag);
    }
    return wait_all(m, nreq, "broadcast", err);
}

/* My part data[rank·n, +n) to every peer, theirs from each, at once. */
static int mpi_allgather(void *self, float *data, size_t n, lsgd_error *err)
{
    mt *m = self;
    if (m->world == 1)
        return LSGD_OK;
    if (reserve(m, 2 * (size_t)m->world * pieces(n) + 1) != 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi rank %d: allgather: out of memory",
                              m->rank);
    int tag = next_tag(m);
    size_t nreq = 0;
    for (int p = 0; p < m->world; p++)
        if (p != m->rank) {
            post(m, &nreq, 1, data + (size_t)m->rank * n, n, p, tag);
            post(m, &nreq, 0, data + (size_t)p * n, n, p, tag);
        }
    return wait_all(m, nreq, "allgather", err);
}

static int mpi_barrier(void *self, lsgd_error *err)
{
    mt *m = self;
    if (m->world == 1)
        return LSGD_OK;
    if (reserve(m, 1) != 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi rank %d: barrier: out of memory",
                              m->rank);
    MPI_Ibarrier(m->comm, &m->req[0]);
    m->req_peer[0] = -1; /* a barrier does not say who is late */
    return wait_all(m, 1, "barrier", err);
}

static uint64_t mpi_bytes_sent(const void *self)
{
    return ((const mt *)self)->bytes_sent;
}

/* ---- open / close ---- */

static void mpi_close_transport(void *self)
{
    mt *m = self;
    if (!m)
        return;
    /* After a timeout requests may still be pending: leave MPI as it is
     * and let the process exit (mpirun then stops the others). */
    if (!m->failed) {
        if (m->comm != MPI_COMM_NULL)
            MPI_Comm_free(&m->comm);
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (m->initialized_here && !finalized)
            MPI_Finalize();
    }
    free(m->stage);
    free(m->inputs);
    free(m->req);
    free(m->req_peer);
    free(m);
}

static int mpi_open_transport(void **self, const lsgd_params *params,
                              const lsgd_transport_info *info, lsgd_error *err)
{
    *self = NULL;
    pin_libraries();
    mt *m = calloc(1, sizeof *m);
    if (!m)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi: open: out of memory");
    m->comm = MPI_COMM_NULL;
    m->stop = lsgd_transport_stop_flag(info);
    m->timeout_s = lsgd_param_number(params, "timeout_s");
    if (m->timeout_s <= 0)
        m->timeout_s = 60;
    int initialized = 0, provided = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
            free(m);
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "mpi: open: MPI_Init_thread failed");
        }
        m->initialized_here = 1;
    } else {
        MPI_Query_thread(&provided);
    }
    /* the host may average on a helper thread: one thread at a time */
    if (provided < MPI_THREAD_SERIALIZED) {
        mpi_close_transport(m);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "mpi: open: this MPI gives thread level %d; lsgd needs "
                              "MPI_THREAD_SERIALIZED", provided);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->world);
    if (m->rank != info->rank || m->world != info->world) {
        int rank = m->rank, world = m->world;
        mpi_close_transport(m);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "mpi: open: this process was told rank %d of world %d but "
                              "MPI_COMM_WORLD says rank %d of %d (start workers with "
                              "mpirun -n %d or srun, and set workers to match)",
                              info->rank, info->world, rank, world, info->world);
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &m->comm);
    MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    *self = m;
    return LSGD_OK;
}

/* ---- the descriptor ---- */

static const lsgd_transport_ops ops = {
    .struct_size = sizeof(lsgd_transport_ops),
    .open = mpi_open_transport,
    .close = mpi_close_transport,
    .allreduce_mean = mpi_allreduce_mean,
    .broadcast = mpi_broadcast,
    .barrier = mpi_barrier,
    .bytes_sent = mpi_bytes_sent,
    .allgather = mpi_allgather,
};

LSGD_PLUGIN(LSGD_KIND_TRANSPORT, "mpi", "1.0.0", &ops);
