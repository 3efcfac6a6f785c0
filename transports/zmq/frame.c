/*
 * frame.c — data frames on the wire: reading a frame header and checking it
 * against the frame a rank expects next from a peer.
 *
 * Pure functions (no socket, no libzmq): the receiver (phase.c) hands over
 * the bytes of a header part and the size of the payload part, and gets
 * back a header or the reason the frame is rejected.  A fuzzer links this
 * file alone (see wire.h).
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

uint64_t run_id_hash(const char *run_id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *s = run_id; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

const char *frame_type_name(unsigned type)
{
    static const char *const names[] = {"?", "hello", "welcome", "refuse", "scatter",
                                        "gather", "bcast", "ack", "barrier", "abort"};
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

int frame_decode(frame_header *h, const void *bytes, size_t len)
{
    if (len != sizeof *h)
        return -1;
    memcpy(h, bytes, sizeof *h);
    return 0;
}

const char *frame_check(const frame_header *h, const frame_expect *want, size_t payload,
                        char *why, size_t cap)
{
    if (h->magic != FRAME_MAGIC)
        snprintf(why, cap, "bad magic 0x%08x (not an lsgd frame)", h->magic);
    else if (h->version != PROTOCOL_VERSION)
        snprintf(why, cap, "protocol version %u, this rank speaks %u", h->version,
                 PROTOCOL_VERSION);
    else if (h->run_hash != want->run_hash || h->world != want->world)
        snprintf(why, cap, "from another run (run id hash %016llx, world %u)",
                 (unsigned long long)h->run_hash, h->world);
    else if (h->src != want->src)
        snprintf(why, cap, "claims to come from rank %u", h->src);
    else if (h->type == FRAME_ABORT)
        return NULL;
    else if (h->type != want->type || h->round != want->round || h->slice != want->slice)
        snprintf(why, cap, "%s of round %u slice %u, expected %s of round %u slice %u",
                 frame_type_name(h->type), h->round, h->slice, frame_type_name(want->type),
                 want->round, want->slice);
    else if (h->offset != want->offset || h->length != want->length ||
             payload != want->length * sizeof(float))
        snprintf(why, cap,
                 "floats [%llu, +%llu) with %zu payload bytes, expected [%llu, +%llu)",
                 (unsigned long long)h->offset, (unsigned long long)h->length, payload,
                 (unsigned long long)want->offset, (unsigned long long)want->length);
    else
        return NULL;
    return why;
}
