/*
 * gather.h — an all-gather of byte payloads of different sizes over any
 * transport, for compressed averages (lsgd/compressor.h): every rank ends
 * with every rank's bytes, in rank order.
 *
 * Each rank's slot holds its payload's size (8 bytes) then the payload,
 * padded to the slot; the slots travel by the transport's allgather (zmq,
 * mpi: each to all the others at once) or, for a transport without one
 * (shm), by one broadcast per rank in turn.  Either way every rank gets the
 * same bytes, and the transports count what they send.
 */
#ifndef LSGD_GATHER_H
#define LSGD_GATHER_H

#include <stddef.h>

#include "host/transport_host.h"

/* Floats of one slot for payloads of at most max_bytes. */
size_t lsgd_gather_slot_floats(size_t max_bytes);

/* all[world × slot floats] ← every rank's slot; mine[size] is this rank's
 * payload (size ≤ max_bytes).  Afterwards payloads[r] points at rank r's
 * bytes inside all and sizes[r] says how many; a size beyond max_bytes
 * (a peer of another configuration) is LSGD_ERR_INPUT naming the rank. */
int lsgd_gather_bytes(lsgd_transport *t, int rank, int world, const void *mine, size_t size,
                      size_t max_bytes, float *all, const void **payloads, size_t *sizes,
                      lsgd_error *err);

/* The two halves of lsgd_gather_bytes around the all-gather, for one
 * that runs in the background (lsgd_transport_iallgather_mean): rank's
 * slot of all ← mine[size]; then, once every slot has arrived, payloads
 * and sizes as above. */
void lsgd_gather_pack(float *all, int rank, const void *mine, size_t size, size_t max_bytes);
int lsgd_gather_unpack(const float *all, int world, size_t max_bytes, const void **payloads,
                       size_t *sizes, lsgd_error *err);

#endif
