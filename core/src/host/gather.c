/*
 * gather.c — the all-gather of byte payloads (gather.h): every rank's slot
 * (the payload's size, then its bytes) through the transport's allgather,
 * or one broadcast per rank where the transport has none.
 */
#include "host/gather.h"

#include <stdint.h>
#include <string.h>

enum { SIZE_FLOATS = 2 }; /* a u64 size in front of each payload */

size_t lsgd_gather_slot_floats(size_t max_bytes)
{
    return SIZE_FLOATS + (max_bytes + sizeof(float) - 1) / sizeof(float);
}

void lsgd_gather_pack(float *all, int rank, const void *mine, size_t size, size_t max_bytes)
{
    const size_t slot = lsgd_gather_slot_floats(max_bytes);
    float *own = all + (size_t)rank * slot;
    uint64_t n = size;
    memset(own, 0, slot * sizeof *own);
    memcpy(own, &n, sizeof n);
    memcpy(own + SIZE_FLOATS, mine, size);
}

int lsgd_gather_unpack(const float *all, int world, size_t max_bytes, const void **payloads,
                       size_t *sizes, lsgd_error *err)
{
    const size_t slot = lsgd_gather_slot_floats(max_bytes);
    for (int r = 0; r < world; r++) {
        const float *s = all + (size_t)r * slot;
        uint64_t n;
        memcpy(&n, s, sizeof n);
        if (n > max_bytes)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "rank %d sent a compressed payload of %llu bytes, more than the "
                                  "%zu this configuration allows (another config?)",
                                  r, (unsigned long long)n, max_bytes);
        payloads[r] = s + SIZE_FLOATS;
        sizes[r] = (size_t)n;
    }
    return LSGD_OK;
}

int lsgd_gather_bytes(lsgd_transport *t, int rank, int world, const void *mine, size_t size,
                      size_t max_bytes, float *all, const void **payloads, size_t *sizes,
                      lsgd_error *err)
{
    lsgd_gather_pack(all, rank, mine, size, max_bytes);
    if (world > 1 && lsgd_transport_allgather(t, all, lsgd_gather_slot_floats(max_bytes), err))
        return err->code;
    return lsgd_gather_unpack(all, world, max_bytes, payloads, sizes, err);
}
