/*
 * handshake.c — the rendezvous messages: what rank 0 makes of a HELLO, what
 * a joining rank makes of the coordinator's reply (WELCOME, REFUSE, ABORT),
 * and the endpoint tables they carry as text, one endpoint per line.
 *
 * Pure functions (no socket, no libzmq): rendezvous.c receives the parts
 * and acts on the verdict.  A fuzzer links this file alone (see wire.h).
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

enum hello_verdict hello_read(hello *out, const wire_part *part, int parts, const char *run_id,
                              int world, char *why, size_t cap)
{
    /* [identity][header][run id][endpoints], as the ROUTER receives it */
    if (parts != 4 || frame_decode(&out->h, part[1].data, part[1].size) != 0) {
        snprintf(why, cap, "%d parts, not a HELLO", parts);
        return HELLO_REJECT;
    }
    const frame_header *h = &out->h;
    if (h->magic != FRAME_MAGIC || h->version != PROTOCOL_VERSION || h->type != FRAME_HELLO) {
        snprintf(why, cap, "bad magic, version or type");
        return HELLO_REJECT;
    }
    out->src = (int)h->src;
    out->run_id = part[2].data;
    out->run_id_len = part[2].size;
    out->frame = (size_t)h->length;
    out->other_run = out->run_id_len != strlen(run_id) ||
                     memcmp(out->run_id, run_id, out->run_id_len) != 0;
    if (out->other_run)
        snprintf(why, cap,
                 "rank %u of run '%.*s' is not part of rank 0's run: the configs differ (a rank "
                 "started by hand takes a hash of its config as run id) or it belongs to another "
                 "run; start every rank with the same config, or give them all one run id "
                 "(config key run_id, or LSGD_RUN_ID)",
                 h->src, (int)(out->run_id_len < 200 ? out->run_id_len : 200), out->run_id);
    else if (h->world != (uint32_t)world)
        snprintf(why, cap, "rank %u was started with world %u but run '%s' has world %d (rank 0)",
                 h->src, h->world, run_id, world);
    else if (out->src < 1 || out->src >= world)
        snprintf(why, cap, "rank %u is not a rank of world %d", h->src, world);
    else if (h->length < FRAME_FLOATS_MIN || h->length > FRAME_FLOATS_MAX)
        snprintf(why, cap, "rank %u sent a frame size of %llu floats, expected %u..%u (another "
                 "lsgd version?)", h->src, (unsigned long long)h->length, FRAME_FLOATS_MIN,
                 FRAME_FLOATS_MAX);
    else
        return HELLO_JOIN;
    return HELLO_REFUSE;
}

int hello_endpoints(endpoint_line *row, int world, int src, const wire_part *text, char *why,
                    size_t cap)
{
    if (split_lines(row, world, text->data, text->size) != 0) {
        snprintf(why, cap, "rank %d sent a malformed endpoint list", src);
        return -1;
    }
    for (int p = 0; p < world; p++)
        if (p != src && !endpoint_ok(row[p])) {
            snprintf(why, cap, "rank %d sent a bad endpoint for rank %d", src, p);
            return -1;
        }
    return 0;
}

enum reply_kind reply_read(reply *out, endpoint_line *table, int world, uint64_t run_hash,
                           const wire_part *part, int parts)
{
    if (parts != 2 || frame_decode(&out->h, part[0].data, part[0].size) != 0)
        return REPLY_NONE;
    const frame_header *r = &out->h;
    out->body = part[1].data;
    out->body_len = part[1].size;
    if (r->magic != FRAME_MAGIC || r->version != PROTOCOL_VERSION ||
        (r->run_hash != run_hash && r->type != FRAME_REFUSE))
        return REPLY_FOREIGN;
    if (r->type == FRAME_REFUSE)
        return REPLY_REFUSE;
    if (r->type == FRAME_ABORT)
        return REPLY_ABORT;
    if (r->type == FRAME_WELCOME && r->length >= FRAME_FLOATS_MIN &&
        r->length <= FRAME_FLOATS_MAX &&
        split_lines(table, world * world, out->body, out->body_len) == 0) {
        out->frame = (size_t)r->length;
        return REPLY_WELCOME;
    }
    return REPLY_MALFORMED;
}

/* ---- endpoint tables ---- */

int split_lines(endpoint_line *line, int count, const char *text, size_t len)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        size_t l = i - start;
        if (k >= count || l >= ENDPOINT_MAX)
            return -1;
        memcpy(line[k], text + start, l);
        line[k][l] = '\0';
        k++;
        start = i + 1;
    }
    return k == count ? 0 : -1;
}

size_t join_lines(char *out, size_t cap, const endpoint_line *line, int count)
{
    size_t at = 0;
    for (int i = 0; i < count && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? "\n" : "",
                               line[i][0] ? line[i] : "-");
    return at < cap ? at : cap;
}

int endpoint_ok(const char *e)
{
    return strncmp(e, "tcp://", 6) == 0 || strncmp(e, "ipc://", 6) == 0;
}

void advertise(char *endpoint, const char *host)
{
    const char *rest = NULL;
    if (strncmp(endpoint, "tcp://0.0.0.0:", 14) == 0)
        rest = endpoint + 13;
    else if (strncmp(endpoint, "tcp://*:", 8) == 0)
        rest = endpoint + 7;
    if (!rest || !host || !*host)
        return;
    char joined[ENDPOINT_MAX];
    snprintf(joined, sizeof joined, "tcp://%s%s", host, rest);
    memcpy(endpoint, joined, ENDPOINT_MAX);
}

void endpoint_host(char *out, size_t cap, const char *endpoint)
{
    out[0] = '\0';
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return;
    const char *h = endpoint + 6, *colon = strrchr(h, ':');
    size_t len = colon ? (size_t)(colon - h) : strlen(h);
    snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), h);
}
