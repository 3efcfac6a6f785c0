/*
 * lsgd/transport.h — transport plugins: how workers average their models.
 *
 * Every call is collective over the `world` ranks of one run.  The mean of
 * each element is summed in rank order (x₀ + x₁ + … + x_{M−1}) and then
 * divided by M, whatever the transport, so one config and seed give a
 * bitwise identical model on shm, zmq and mpi.
 *
 * Every op returning int returns 0 on success; any other value is failure
 * (lsgd/plugin.h: set a message with lsgd_error_set).  Every blocking call
 * is bounded by a timeout (a transport parameter) and on failure says which
 * peer and which operation, with LSGD_ERR_RUNTIME; a bad parameter or a
 * peer from another run (run id, world size) is LSGD_ERR_INPUT.  A message
 * that starts with the plugin's name ("shm rank 1: …") is shown as is;
 * others get "transport plugin '<name>' rank r <op>: " in front.
 *
 * Non-blocking averaging (iallreduce_mean/test/wait) is optional: when a
 * plugin leaves it NULL the host runs allreduce_mean on a helper thread.
 * At most one request is outstanding at a time and the caller does not
 * touch the buffer until wait returns.
 */
#ifndef LSGD_TRANSPORT_H
#define LSGD_TRANSPORT_H

#include "lsgd/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsgd_transport_info {
    size_t struct_size;
    int rank;           /* 0 .. world-1 */
    int world;          /* number of workers */
    const char *run_id; /* identical on every rank of one run; names segments, checks peers */
} lsgd_transport_info;

typedef struct lsgd_request lsgd_request; /* defined by each plugin */

typedef struct lsgd_transport_ops {
    size_t struct_size;

    int (*open)(void **self, const lsgd_params *params, const lsgd_transport_info *info,
                lsgd_error *err);
    /* Releases everything (segments, sockets); safe after a failed call. */
    void (*close)(void *self);

    /* data[n] ← mean over ranks, in place, summed in rank order. */
    int (*allreduce_mean)(void *self, float *data, size_t n, lsgd_error *err);
    /* data[n] ← root's data[n]. */
    int (*broadcast)(void *self, float *data, size_t n, int root, lsgd_error *err);
    int (*barrier)(void *self, lsgd_error *err);

    /* Optional (all three or none). */
    int (*iallreduce_mean)(void *self, float *data, size_t n, lsgd_request **req,
                           lsgd_error *err);
    int (*test)(void *self, lsgd_request *req, int *done, lsgd_error *err);
    int (*wait)(void *self, lsgd_request *req, lsgd_error *err);

    /* Optional: payload bytes this rank has sent so far. */
    uint64_t (*bytes_sent)(const void *self);
} lsgd_transport_ops;

/*
 * Extension "lsgd.transport.cleanup" (get_extension): a function of type
 * lsgd_transport_cleanup_fn that removes whatever a run with this id may
 * have left behind (shared memory segments) after its workers died.  The
 * launcher calls it on abnormal exit.
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
