/*
 * wire.h — the zmq transport's wire format: the data frame header, the
 * rendezvous messages, the endpoint tables, and the pure functions that
 * build and read them (frame.c, handshake.c).
 *
 * Nothing declared here touches a socket or libzmq: bytes in, a struct or a
 * reason out.  A fuzzer links frame.c and handshake.c alone.
 *
 * Every message on the wire starts with a frame_header (48 bytes, host byte
 * order, no padding), then its payload as a second part:
 *   data frames     header + floats [offset, offset + length) of the vector
 *   HELLO           rank → rank 0: [header (length: its frame_size, in floats)][run id]
 *                   [endpoints, one line per rank]
 *   WELCOME         rank 0 → rank: [header (length: the run's frame, the smallest of
 *                   all ranks')][table, M·M lines]
 *   REFUSE, ABORT   [header][why, text]; a REFUSE carries the refused rank's own run
 *                   id hash, so that nothing of the run leaks to a stranger
 * (the coordinator's ROUTER adds the peer's identity in front).
 */
#ifndef LSGD_ZMQ_WIRE_H
#define LSGD_ZMQ_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC 0x4447534cu /* "LSGD" */
#define PROTOCOL_VERSION 1
#define MAX_WORLD 256
#define ENDPOINT_MAX 256
#define RUN_ID_MAX 256            /* with its NUL */
#define FRAME_FLOATS_MIN 1024     /* the frame_size range of zmq.json, in floats */
#define FRAME_FLOATS_MAX (64u << 20)
/* The largest part of a legitimate rendezvous message a coordinator reads:
 * a HELLO's endpoint list, one line per rank of the largest world. */
#define HELLO_PART_MAX ((int64_t)MAX_WORLD * ENDPOINT_MAX)

enum frame_type {
    FRAME_HELLO = 1,   /* rank → coordinator: run id, endpoints */
    FRAME_WELCOME,     /* coordinator → rank: the endpoint table */
    FRAME_REFUSE,      /* coordinator → rank: why not */
    FRAME_SCATTER,     /* reduce-scatter: a piece of the receiver's slice */
    FRAME_GATHER,      /* all-gather: a piece of the sender's mean slice */
    FRAME_BCAST,       /* broadcast from the root */
    FRAME_ACK,         /* broadcast received (bounds how far a root runs ahead) */
    FRAME_BARRIER,
    FRAME_ABORT        /* the sender failed; payload: why */
};

typedef struct frame_header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint64_t run_hash;
    uint32_t world;
    uint32_t src;      /* sending rank */
    uint32_t round;    /* collective call number, the same on every rank */
    uint32_t slice;    /* owner of the slice (scatter/gather) or root (bcast) */
    uint64_t offset;   /* first float of this frame in the vector */
    uint64_t length;   /* floats in this frame */
} frame_header;

/* One part of a received message. */
typedef struct wire_part {
    const void *data;
    size_t size;
} wire_part;

/* ---- frame.c: data frames ---- */

/* The next frame a rank expects from peer src. */
typedef struct frame_expect {
    uint64_t run_hash;
    uint32_t world, src;
    unsigned type;
    uint32_t round, slice;
    uint64_t offset, length; /* floats */
} frame_expect;

uint64_t run_id_hash(const char *run_id);
const char *frame_type_name(unsigned type);
/* 0 and *h filled when bytes[len] is a header (len == 48), else -1. */
int frame_decode(frame_header *h, const void *bytes, size_t len);
/* NULL when h (with `payload` bytes after it) is the frame `want` describes
 * or an ABORT from that peer; else why not, written to why[cap]. */
const char *frame_check(const frame_header *h, const frame_expect *want, size_t payload,
                        char *why, size_t cap);

/* ---- handshake.c: rendezvous messages and endpoint tables ---- */

typedef char endpoint_line[ENDPOINT_MAX]; /* one endpoint, NUL-terminated */

/* What rank 0 makes of a HELLO: parts [header][run id][endpoints]. */
enum hello_verdict {
    HELLO_JOIN,   /* a rank of this run: src is set */
    HELLO_REJECT, /* not a HELLO at all: reported here, not answered */
    HELLO_REFUSE  /* a HELLO rank 0 must refuse: `why` is the answer */
};

typedef struct hello {
    frame_header h;
    int src;
    const char *run_id; /* not NUL-terminated */
    size_t run_id_len;
    size_t frame;       /* its frame_size, in floats */
    int other_run;      /* REFUSE: its run id is not rank 0's */
} hello;

/* Read a HELLO against rank 0's run (run_id, world): header, run id, world,
 * rank and frame size.  why[cap] says what is wrong for REJECT and REFUSE;
 * a REFUSE's why is sent to the peer and never holds rank 0's run id. */
enum hello_verdict hello_read(hello *out, const wire_part *part, int parts, const char *run_id,
                              int world, char *why, size_t cap);
/* The endpoints of a joining rank src into row[world]: 0, or -1 with why. */
int hello_endpoints(endpoint_line *row, int world, int src, const wire_part *text, char *why,
                    size_t cap);

/* What a joining rank makes of the coordinator's reply: parts [header][body]. */
enum reply_kind {
    REPLY_NONE,      /* not two parts of the right size: ignored */
    REPLY_FOREIGN,   /* not from this run's coordinator */
    REPLY_REFUSE,    /* body: why */
    REPLY_ABORT,     /* body: why */
    REPLY_WELCOME,   /* table filled, frame set */
    REPLY_MALFORMED  /* a WELCOME (or other type) that does not parse */
};

typedef struct reply {
    frame_header h;
    const char *body; /* not NUL-terminated */
    size_t body_len;
    size_t frame;     /* WELCOME: floats per frame */
} reply;

enum reply_kind reply_read(reply *out, endpoint_line *table, int world, uint64_t run_hash,
                           const wire_part *part, int parts);

/* Split text[len] into exactly `count` lines of < ENDPOINT_MAX: 0 or -1. */
int split_lines(endpoint_line *line, int count, const char *text, size_t len);
/* Lines line[0..count) joined by '\n' ("-" for an empty one) into out[cap];
 * returns the length (cut at cap). */
size_t join_lines(char *out, size_t cap, const endpoint_line *line, int count);
int endpoint_ok(const char *e);
/* tcp://0.0.0.0:port → tcp://<host>:port (the address the peer is seen at). */
void advertise(char *endpoint, const char *host);
/* The host part of a tcp:// endpoint. */
void endpoint_host(char *out, size_t cap, const char *endpoint);

#endif
