/*
 * lsgd/transport.h — transport plugins: how workers average their models.
 *
 * Every call is collective over the `world` ranks of one run.  The mean of
 * each element is summed in rank order (x₀ + x₁ + … + x_{M−1}) and then
 * divided by M, whatever the transport, so one config and seed give a
 * bitwise identical model on shm, zmq and mpi.
 *
 * The contract of a transport plugin.  MUST and MAY bind the plugin; "the
 * host" promises the rest.
 *
 * The table: struct_size = sizeof(lsgd_transport_ops), the required ops
 * set (open, close, allreduce_mean, broadcast, barrier), and
 * iallreduce_mean, test and wait all three or none.  The host refuses any
 * other table before its first call, naming the missing op, and uses an
 * optional op only when LSGD_HAS_OP (lsgd/plugin.h) says it is there.
 *
 * Life of one instance, on each of the `world` ranks of a run:
 *
 *     open → { allreduce_mean | broadcast | barrier | allgather
 *              | iallreduce_mean → test* → wait? | bytes_sent }* → close
 *
 *   - Every rank opens once, with its own rank and the same world and
 *     run_id.  If open succeeds the host calls close exactly once, last,
 *     also after a failed call.  If open fails the host calls nothing else.
 *   - Collectives are collective: every rank makes the same calls in the
 *     same order with the same n and root, and a transport MAY rely on it.
 *     A peer that does not arrive (dead, or another run) is a failure
 *     after the transport's timeout, never a hang.
 *   - The host never calls two ops of one instance at the same time, but
 *     calls them from more than one thread: without a native
 *     iallreduce_mean it runs allreduce_mean on a helper thread of its own
 *     while the worker computes, and for a compressed non-blocking average
 *     (Overlap-Local-SGD with compression) it runs allgather (or one
 *     broadcast per rank) then allreduce_mean there, and calls nothing
 *     else meanwhile; the handover is a mutex, so what one thread wrote
 *     the next sees.  So a transport MUST NOT rely on thread-local state
 *     or on the thread that opened it (MPI: MPI_THREAD_SERIALIZED at
 *     least).
 *   - Inside any op a plugin MUST NOT print (say it in err), exit, abort or
 *     raise signals, and MUST NOT keep a pointer to params, info or data
 *     past the call that received it (except info->stop, below, and data
 *     while a request is outstanding).
 *   - Every op returning int returns 0 on success and anything else on
 *     failure (lsgd/plugin.h: set a message with lsgd_error_set).  Every
 *     blocking call is bounded by a timeout (a transport parameter) and on
 *     failure says which peer and which operation, with LSGD_ERR_RUNTIME;
 *     a bad parameter or a peer from another run (run id, world size) is
 *     LSGD_ERR_INPUT.  A message that starts with the plugin's name ("shm
 *     rank 1: …") is shown as is; others get "transport plugin '<name>'
 *     rank r <op>: " in front.  After a failure the host stops the run:
 *     its next call is close (or wait, then close, with a request
 *     outstanding).
 *   - Stopping.  The host MAY pass info->stop (lsgd_transport_stop_flag
 *     reads it, NULL when the host is older or gives none): a flag that
 *     becomes non-zero, at any moment and from a signal handler, once the
 *     worker must stop (SIGINT, SIGTERM), and stays so.  It is valid until
 *     close, so a plugin MAY keep the pointer; it MUST NOT write it.  While
 *     any op (open included) waits for a peer, a plugin MUST look at *stop
 *     at least every 100 ms and, once it is set, fail within that time
 *     (LSGD_ERR_RUNTIME, saying it was asked to stop and whom it was
 *     waiting for), telling its peers as on any failure, instead of
 *     waiting out its timeout.  An op that does not wait MAY ignore it.
 *
 * Non-blocking averaging (iallreduce_mean/test/wait) is optional: when a
 * plugin leaves it out the host runs allreduce_mean on its helper thread.
 * At most one request is outstanding at a time; while it is, the host
 * calls only test, wait and bytes_sent on the instance, and does not touch
 * data until the request has completed.
 */
#ifndef LSGD_TRANSPORT_H
#define LSGD_TRANSPORT_H

#include <signal.h>

#include "lsgd/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsgd_transport_info {
    size_t struct_size;
    int rank;           /* 0 .. world-1 */
    int world;          /* number of workers */
    const char *run_id; /* identical on every rank of one run; names segments, checks peers */
    /* Grown at the end: read it through lsgd_transport_stop_flag.  The
     * host's stop request, or NULL (see "Stopping" above). */
    const volatile sig_atomic_t *stop;
} lsgd_transport_info;

/* info->stop when info's struct_size reaches it, else NULL (a host built
 * before it existed, whose waits end at the timeout). */
static inline const volatile sig_atomic_t *lsgd_transport_stop_flag(const lsgd_transport_info *info)
{
    return LSGD_HAS_OP(info, lsgd_transport_info, stop) ? info->stop : NULL;
}

typedef struct lsgd_request lsgd_request; /* defined by each plugin */

typedef struct lsgd_transport_ops {
    size_t struct_size; /* sizeof(lsgd_transport_ops) */

    /* Required.  Called first, once per instance and rank: connect to the
     * other ranks of info->run_id (rendezvous, segments, sockets) within the
     * timeout.  params (validated, lsgd/plugin.h) and info are valid during
     * this call only: copy what you keep (run_id too).  MUST set *self.  On
     * failure MUST release what it acquired; the host then calls nothing. */
    int (*open)(void **self, const lsgd_params *params, const lsgd_transport_info *info,
                lsgd_error *err);

    /* Required.  Called once, last, also after a failed call (the host
     * first waits for an outstanding request): release everything
     * (segments, sockets).  MUST NOT block past the timeout; never fails. */
    void (*close)(void *self);

    /* Required.  data[n] ← the mean over ranks, in place, every element
     * summed in rank order then divided by world (lsgd_mean_in_rank_order)
     * so that every rank gets the same bits, whatever the transport.  With
     * world 1 it MAY return at once. */
    int (*allreduce_mean)(void *self, float *data, size_t n, lsgd_error *err);

    /* Required.  data[n] ← root's data[n] on every rank; 0 ≤ root < world. */
    int (*broadcast)(void *self, float *data, size_t n, int root, lsgd_error *err);

    /* Required.  Returns once every rank has called it. */
    int (*barrier)(void *self, lsgd_error *err);

    /* Optional, all three or none.  iallreduce_mean starts what
     * allreduce_mean does and returns at once with *req set; the plugin
     * owns data until the request completes.  test sets *done to 1 once it
     * has (data then holds the mean) and MUST NOT block; wait blocks until
     * then, bounded by the timeout.  A request that completed, or failed,
     * is over: the host does not pass it again, and the plugin frees it. */
    int (*iallreduce_mean)(void *self, float *data, size_t n, lsgd_request **req,
                           lsgd_error *err);
    int (*test)(void *self, lsgd_request *req, int *done, lsgd_error *err);
    int (*wait)(void *self, lsgd_request *req, lsgd_error *err);

    /* Optional: payload bytes this rank has sent so far, never decreasing.
     * Called between other ops (once per round, for the metrics) and MAY
     * be while a native request is outstanding; MUST NOT block.  Without
     * it the host counts what a reduce-scatter + all-gather sends. */
    uint64_t (*bytes_sent)(const void *self);

    /* Optional: data[world × n] ← every rank's part, rank r's at data + r·n
     * (each rank has filled in its own): every rank ends with the same bits.
     * The floats are opaque 4-byte words (compressed payloads,
     * lsgd/compressor.h): copied, never computed on.  Without it the host
     * broadcasts each rank's part in turn; with it each rank's part can
     * travel to all the others at once. */
    int (*allgather)(void *self, float *data, size_t n, lsgd_error *err);
} lsgd_transport_ops;

/*
 * Extension "lsgd.transport.cleanup" (get_extension): a function of type
 * lsgd_transport_cleanup_fn that removes whatever a run with this id may
 * have left behind (shared memory segments) after its workers died.  The
 * launcher calls it on abnormal exit, in its own process where no instance
 * is open; it MUST NOT block and MUST be harmless when nothing is left.
 */
#define LSGD_EXT_TRANSPORT_CLEANUP "lsgd.transport.cleanup"
typedef void (*lsgd_transport_cleanup_fn)(const char *run_id);

/*
 * The mean every transport computes, so that all give the same bits:
 * out[i] = (x[0][i] + x[1][i] + … + x[M−1][i]) / M, summed in rank order,
 * M ≥ 2; `also`, when not NULL, receives a copy.  out may be one of the
 * inputs.  When M is a power of two, s · (1/M) is exactly s / M (one
 * rounding of the same real number), and much cheaper.  Blocks of
 * LSGD_MEAN_BLOCK floats keep the partial sums in L1.
 */
enum { LSGD_MEAN_BLOCK = 1024 };

static inline void lsgd_mean_in_rank_order(float *out, float *also, const float *const *x, int M,
                                           size_t n)
{
    float acc[LSGD_MEAN_BLOCK];
    const float count = (float)M, inverse = 1.0f / count;
    const int exact_inverse = (M & (M - 1)) == 0;
    for (size_t at = 0; at < n; at += LSGD_MEAN_BLOCK) {
        size_t len = n - at < LSGD_MEAN_BLOCK ? n - at : LSGD_MEAN_BLOCK;
        for (size_t i = 0; i < len; i++)
            acc[i] = x[0][at + i] + x[1][at + i];
        for (int p = 2; p < M; p++)
            for (size_t i = 0; i < len; i++)
                acc[i] += x[p][at + i];
        if (exact_inverse)
            for (size_t i = 0; i < len; i++)
                out[at + i] = acc[i] * inverse;
        else
            for (size_t i = 0; i < len; i++)
                out[at + i] = acc[i] / count;
        if (also)
            __builtin_memcpy(also + at, out + at, len * sizeof *out);
    }
}

#ifdef __cplusplus
}
#endif
#endif
