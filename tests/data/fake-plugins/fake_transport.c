/*
 * fake_transport.c — FAKE plugin for the host's tests: a transport for a
 * world of one rank (the mean of one model is itself) whose collectives
 * can be made to fail at compile time:
 *   -DFAKE_NAME='"x"'         the name it claims ("faketransport")
 *   -DFAKE_OPEN_FAILS=3       open returns 3 and sets no message
 *   -DFAKE_ALLREDUCE_FAILS=3  allreduce_mean returns 3 and sets no message
 *   -DFAKE_OPS_SIZE='LSGD_FIELD_END(lsgd_transport_ops, barrier)'
 *                             the ops table size it claims (ops past it are absent)
 *   -DFAKE_NONBLOCKING_FAILS=3  has iallreduce_mean, test and wait, each
 *                             returning 3 with no message
 *   -DFAKE_BYTES_SENT=12345   has bytes_sent, always saying 12345
 *   -DFAKE_SLOW_ALLREDUCE     allreduce_mean takes 200 ms, and bytes_sent
 *                             says 666 when called meanwhile (a host that
 *                             calls two ops of one instance at once)
 * Built by the tests into a temporary directory with a manifest beside it.
 */
#include <stddef.h>

#include "lsgd/transport.h"

#ifndef FAKE_NAME
#define FAKE_NAME "faketransport"
#endif
#ifndef FAKE_OPEN_FAILS
#define FAKE_OPEN_FAILS LSGD_OK
#endif
#ifndef FAKE_ALLREDUCE_FAILS
#define FAKE_ALLREDUCE_FAILS LSGD_OK
#endif
#ifndef FAKE_OPS_SIZE
#define FAKE_OPS_SIZE sizeof(lsgd_transport_ops)
#endif

static int open_(void **self, const lsgd_params *params, const lsgd_transport_info *info,
                 lsgd_error *err)
{
    *self = NULL;
    if (info->world != 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT, FAKE_NAME ": serves a world of 1 only");
    return FAKE_OPEN_FAILS;
}

static void close_(void *self) {}

#ifdef FAKE_SLOW_ALLREDUCE
#include <time.h>
static int busy;
#endif

static int allreduce_mean(void *self, float *data, size_t n, lsgd_error *err)
{
#ifdef FAKE_SLOW_ALLREDUCE
    __atomic_store_n(&busy, 1, __ATOMIC_SEQ_CST);
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    __atomic_store_n(&busy, 0, __ATOMIC_SEQ_CST);
#endif
    return FAKE_ALLREDUCE_FAILS;
}

static int broadcast(void *self, float *data, size_t n, int root, lsgd_error *err)
{
    return LSGD_OK;
}

static int barrier(void *self, lsgd_error *err)
{
    return LSGD_OK;
}

#ifdef FAKE_NONBLOCKING_FAILS
static int fake_iallreduce_mean(void *self, float *data, size_t n, lsgd_request **req, lsgd_error *err)
{
    return FAKE_NONBLOCKING_FAILS;
}

static int fake_test(void *self, lsgd_request *req, int *done, lsgd_error *err)
{
    return FAKE_NONBLOCKING_FAILS;
}

static int fake_wait(void *self, lsgd_request *req, lsgd_error *err)
{
    return FAKE_NONBLOCKING_FAILS;
}
#endif

#ifdef FAKE_BYTES_SENT
static uint64_t bytes_sent(const void *self)
{
#ifdef FAKE_SLOW_ALLREDUCE
    if (__atomic_load_n(&busy, __ATOMIC_SEQ_CST))
        return 666;
#endif
    return FAKE_BYTES_SENT;
}
#endif

static const lsgd_transport_ops ops = {
    .struct_size = FAKE_OPS_SIZE,
    .open = open_,
    .close = close_,
    .allreduce_mean = allreduce_mean,
    .broadcast = broadcast,
    .barrier = barrier,
#ifdef FAKE_NONBLOCKING_FAILS
    .iallreduce_mean = fake_iallreduce_mean,
    .test = fake_test,
    .wait = fake_wait,
#endif
#ifdef FAKE_BYTES_SENT
    .bytes_sent = bytes_sent,
#endif
};

LSGD_PLUGIN(LSGD_KIND_TRANSPORT, FAKE_NAME, "1.0.0", &ops);
