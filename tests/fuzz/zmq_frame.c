/*
 * zmq_frame.c — fuzzes the zmq transport's data frame decoder as a
 * receiving rank runs it on every message from a peer (phase.c): the
 * header part decoded (frame_decode) and checked against the frame that
 * rank expects next (frame_check), with the payload part's size.
 *
 * Input: the header part's bytes (48 for a well-formed one), the separator
 * "@@PAYLOAD@@", then the payload part (its size is what counts).  The
 * receiver is rank 2 of a world of 4 in run "cfg-0123456789abcdef",
 * expecting round 7's scatter frame of slice 2 from rank 1, floats
 * [1024, +256).
 */
#include <string.h>

#include "fuzz.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *payload;
    size_t payload_size;
    size_t head_size = fuzz_split(data, size, "@@PAYLOAD@@", &payload, &payload_size);
    frame_expect want = {
        .run_hash = run_id_hash("cfg-0123456789abcdef"), .world = 4, .src = 1,
        .type = FRAME_SCATTER, .round = 7, .slice = 2, .offset = 1024, .length = 256};
    frame_header h;
    if (frame_decode(&h, data, head_size) != 0)
        return 0;
    char why[256];
    const char *bad = frame_check(&h, &want, payload_size, why, sizeof why);
    if (bad && (bad != why || !memchr(why, '\0', sizeof why) || !why[0]))
        __builtin_trap(); /* a rejection always says why, in why */
    if (!bad && h.type != FRAME_ABORT &&
        (h.offset != want.offset || payload_size != want.length * sizeof(float)))
        __builtin_trap(); /* an accepted frame is exactly the expected range */
    (void)frame_type_name(h.type);
    return 0;
}
