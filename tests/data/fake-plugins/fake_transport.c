/*
 * fake_transport.c — FAKE plugin for the host's tests: a transport for a
 * world of one rank (the mean of one model is itself) whose collectives
 * can be made to fail at compile time:
 *   -DFAKE_NAME='"x"'         the name it claims ("faketransport")
 *   -DFAKE_OPEN_FAILS=3       open returns 3 and sets no message
 *   -DFAKE_ALLREDUCE_FAILS=3  allreduce_mean returns 3 and sets no message
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

static int open_(void **self, const lsgd_params *params, const lsgd_transport_info *info,
                 lsgd_error *err)
{
    *self = NULL;
    if (info->world != 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT, FAKE_NAME ": serves a world of 1 only");
    return FAKE_OPEN_FAILS;
}

static void close_(void *self) {}

static int allreduce_mean(void *self, float *data, size_t n, lsgd_error *err)
{
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

static const lsgd_transport_ops ops = {
    .struct_size = sizeof(lsgd_transport_ops),
    .open = open_,
    .close = close_,
    .allreduce_mean = allreduce_mean,
    .broadcast = broadcast,
    .barrier = barrier,
};

LSGD_PLUGIN(LSGD_KIND_TRANSPORT, FAKE_NAME, "1.0.0", &ops);
