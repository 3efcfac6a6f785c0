/*
 * zmq_rendezvous.c — fuzzes the zmq transport's rendezvous decoders as
 * rendezvous.c runs them: rank 0 reading a HELLO (hello_read, then the
 * joining rank's endpoints: hello_endpoints, advertise; a refusal never
 * quotes rank 0's run id, a joining rank is in range) and a joining rank
 * reading the coordinator's reply (reply_read: WELCOME's endpoint table,
 * REFUSE, ABORT), then the table written back (join_lines).
 *
 * Input: one byte for the world (1 + b % 16), then the message's parts
 * separated by "@@PART@@" (at most 6).  The run is "cfg-0123456789abcdef";
 * the same parts are read by both sides.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire.h"

enum { MAX_PARTS = 6 };
static const char RUN_ID[] = "cfg-0123456789abcdef";

static void coordinator(const wire_part *part, int parts, int world)
{
    hello who;
    char why[512];
    enum hello_verdict verdict = hello_read(&who, part, parts, RUN_ID, world, why, sizeof why);
    if (verdict == HELLO_REFUSE && strstr(why, RUN_ID) &&
        !memmem(who.run_id, who.run_id_len, RUN_ID, strlen(RUN_ID)))
        __builtin_trap(); /* a refusal goes to the peer: it never holds rank 0's run id */
    if (verdict != HELLO_JOIN)
        return;
    if (who.src < 1 || who.src >= world || who.frame < FRAME_FLOATS_MIN ||
        who.frame > FRAME_FLOATS_MAX)
        __builtin_trap(); /* a joining rank is a rank of this world with a frame in range */
    endpoint_line *row = calloc((size_t)world, sizeof *row);
    if (hello_endpoints(row, world, who.src, &part[3], why, sizeof why) == 0)
        for (int p = 0; p < world; p++)
            if (p != who.src)
                advertise(row[p], "10.1.2.3");
    char host[128];
    endpoint_host(host, sizeof host, row[0]);
    free(row);
}

static void joiner(const wire_part *part, int parts, int world)
{
    endpoint_line *table = calloc((size_t)world * world, sizeof *table);
    reply r;
    if (reply_read(&r, table, world, run_id_hash(RUN_ID), part, parts) == REPLY_WELCOME) {
        if (r.frame < FRAME_FLOATS_MIN || r.frame > FRAME_FLOATS_MAX)
            __builtin_trap(); /* a WELCOME's frame size is in zmq.json's range */
        size_t cap = (size_t)world * world * ENDPOINT_MAX;
        char *text = malloc(cap);
        join_lines(text, cap, table, world * world);
        free(text);
    }
    free(table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int world = 1 + data[0] % 16;
    wire_part part[MAX_PARTS];
    int parts = 0;
    const uint8_t *at = data + 1;
    size_t left = size - 1;
    while (at && parts < MAX_PARTS) {
        const uint8_t *rest;
        size_t rest_size;
        size_t n = fuzz_split(at, left, "@@PART@@", &rest, &rest_size);
        /* each part in a buffer of its own size: ASan sees a read past it */
        void *copy = malloc(n ? n : 1);
        memcpy(copy, at, n);
        part[parts++] = (wire_part){copy, n};
        at = rest;
        left = rest_size;
    }
    coordinator(part, parts, world);
    joiner(part, parts, world);
    for (int i = 0; i < parts; i++)
        free((void *)part[i].data);
    return 0;
}
