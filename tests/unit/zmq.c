/*
 * zmq.c — the ZeroMQ transport with real processes and real sockets:
 * rank-ordered means over tcp:// and ipc://, a dead peer named, a clear
 * timeout at rendezvous, refusals of other runs (without telling them the
 * run id) and world sizes, garbage on the coordinator and data ports
 * rejected while the run goes on (one line per peer and a count), messages
 * larger than any legitimate one dropped with their connection before they
 * are read, CURVE keeping out a peer without the run's key.
 *
 * The fault injectors are test-only fakes: raw bytes on a TCP socket, and
 * a hand-written ZMTP 3.0 peer (fake_zmtp_*) that speaks just enough of the
 * protocol to deliver well-formed messages with bad contents.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "transport_peer.h"

static const char *zmq_params(int port, const char *extra)
{
    static char p[4][10000];
    static int next;
    char *s = p[next++ % 4];
    snprintf(s, sizeof p[0], "{\"coordinator\": \"tcp://127.0.0.1:%d\", \"frame_size\": 65536%s%s}",
             port, extra && *extra ? ", " : "", extra ? extra : "");
    return s;
}

static void expect_all_ok(const peer_run *run)
{
    CU_ASSERT_EQUAL(peer_failed_ranks(run, "zmq"), 0);
}

/* Three ranks in dir run the collectives check (transport_peer.c) with
 * these params: none fails. */
static void three_ranks_pass_the_collectives(const char *dir, const char *tag, const char *params)
{
    peer_run run;
    peer_spawn(&run, "zmq", 3, 3, peer_run_id("zmq", tag), params, "collectives", dir, 60);
    expect_all_ok(&run);
    peer_run_free(&run);
}

LSGD_TEST(zmq, three_ranks_over_tcp_average_exactly_in_rank_order_in_frames)
{
    three_ranks_pass_the_collectives(test_tmpdir(), "tcp",
                                     zmq_params(peer_free_port(), "\"timeout_s\": 20"));
}

LSGD_TEST(zmq, a_hundred_frames_per_slice_are_summed_in_rank_order_as_each_frame_completes)
{
    char params[256];
    snprintf(params, sizeof params,
             "{\"coordinator\": \"tcp://127.0.0.1:%d\", \"frame_size\": 4096}",
             peer_free_port());
    /* 4 KiB frames: each rank's slice of 300007 floats is 98 frames, summed
     * as soon as both peers' copies of a frame are in */
    three_ranks_pass_the_collectives(test_tmpdir(), "frames", params);
}

LSGD_TEST(zmq, three_ranks_over_ipc_average_exactly_in_rank_order)
{
    const char *dir = test_tmpdir();
    char params[1024];
    snprintf(params, sizeof params,
             "{\"coordinator\": \"ipc://%s/coord\", \"frame_size\": 1048576, \"timeout_s\": 20}",
             dir);
    three_ranks_pass_the_collectives(dir, "ipc", params);
}

LSGD_TEST(zmq, a_peer_killed_during_allreduce_fails_the_others_naming_its_rank)
{
    const char *dir = test_tmpdir();
    peer_run run;
    peer_spawn(&run, "zmq", 3, 3, peer_run_id("zmq", "killed"),
               zmq_params(peer_free_port(), "\"timeout_s\": 10"), "die", dir, 30);
    CU_ASSERT_EQUAL(run.status[2], 128 + 9);
    for (int r = 0; r < 2; r++) {
        int named = run.status[r] == 1 && strstr(run.err[r], "allreduce_mean") &&
                    strstr(run.err[r], "rank 2");
        CU_ASSERT(named);
        if (!named)
            fprintf(stderr, "rank %d: status %d: %s\n", r, run.status[r], run.err[r]);
    }
    CU_ASSERT(run.seconds < 8); /* the dropped connection, not the 10 s timeout */
    if (run.seconds >= 8)
        fprintf(stderr, "the survivors took %.1f s\n", run.seconds);
    peer_run_free(&run);
}

LSGD_TEST(zmq, a_peer_that_never_arrives_is_a_clear_timeout_at_rendezvous)
{
    const char *dir = test_tmpdir();
    peer_run run;
    peer_spawn(&run, "zmq", 3, 2, peer_run_id("zmq", "absent"),
               zmq_params(peer_free_port(), "\"timeout_s\": 1"), "open_only", dir, 20);
    for (int r = 0; r < 2; r++) {
        CU_ASSERT_EQUAL(run.status[r], 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(run.err[r], "timed out after 1 s: rank 2 never joined"));
    }
    peer_run_free(&run);
}

/* rank 0 in world 2 of run A; rank 1 with (world, run) given: refused. */
static void expect_refusal(int world1, const char *run1, const char *why)
{
    const char *dir = test_tmpdir(), *run0 = peer_run_id("zmq", "refusal");
    const char *params = zmq_params(peer_free_port(), "\"timeout_s\": 2");
    int p0 = peer_start("zmq", 0, 2, run0, params, "open_only", dir);
    int p1 = peer_start("zmq", 1, world1, run1 ? run1 : run0, params, "open_only", dir);
    char *e0, *e1;
    int s1 = peer_wait(p1, dir, 1, 20, &e1), s0 = peer_wait(p0, dir, 0, 20, &e0);
    CU_ASSERT_EQUAL(s1, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(e1, "refused by rank 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e1, why));
    CU_ASSERT_EQUAL(s0, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rank 1 never joined"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, why));
    free(e0);
    free(e1);
}

LSGD_TEST(zmq, a_rank_with_another_world_size_is_refused_at_rendezvous)
{
    expect_refusal(3, NULL, "started with world 3 but run");
}

LSGD_TEST(zmq, a_rank_of_another_run_is_refused_at_rendezvous_without_learning_the_run_id)
{
    const char *dir = test_tmpdir(), *run0 = peer_run_id("zmq", "secret-run");
    const char *params = zmq_params(peer_free_port(), "\"timeout_s\": 2");
    int p0 = peer_start("zmq", 0, 2, run0, params, "open_only", dir);
    int p1 = peer_start("zmq", 1, 2, "someone-elses-run", params, "open_only", dir);
    char *e0, *e1;
    int s1 = peer_wait(p1, dir, 1, 20, &e1), s0 = peer_wait(p0, dir, 0, 20, &e0);
    CU_ASSERT_EQUAL(s1, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(e1, "refused by rank 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e1, "run 'someone-elses-run' is not part of rank 0's run"));
    CU_ASSERT_PTR_NULL(strstr(e1, run0)); /* the stranger is not told the run id */
    CU_ASSERT_EQUAL(s0, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rank 1 never joined"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "someone-elses-run")); /* rank 0's own lines say both */
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, run0));
    free(e0);
    free(e1);
}

/* ---- fake peers that inject faults ---- */

static int connect_tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 100; i++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        usleep(20000);
    }
    close(fd);
    return -1;
}

static int connect_ipc(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t len = strnlen(path, sizeof a.sun_path - 1);
    memcpy(a.sun_path, path, len);
    for (int i = 0; i < 100; i++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        usleep(20000);
    }
    close(fd);
    return -1;
}

static void read_some(int fd, size_t n)
{
    char buf[256];
    while (n > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0)
            return;
        ssize_t got = read(fd, buf, n < sizeof buf ? n : sizeof buf);
        if (got <= 0)
            return;
        n -= (size_t)got;
    }
}

/* ZMTP 3.0 greeting (NULL mechanism) and READY with the given socket type. */
static int fake_zmtp_handshake(int fd, const char *socket_type)
{
    unsigned char g[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
    if (write(fd, g, sizeof g) != (ssize_t)sizeof g)
        return -1;
    read_some(fd, 64);
    unsigned char cmd[64];
    size_t tlen = strlen(socket_type), n = 0;
    cmd[n++] = 0x04; /* short command */
    cmd[n++] = (unsigned char)(6 + 1 + 11 + 4 + tlen);
    memcpy(cmd + n, "\x05READY", 6), n += 6;
    memcpy(cmd + n, "\x0bSocket-Type", 12), n += 12;
    cmd[n++] = 0, cmd[n++] = 0, cmd[n++] = 0, cmd[n++] = (unsigned char)tlen;
    memcpy(cmd + n, socket_type, tlen), n += tlen;
    if (write(fd, cmd, n) != (ssize_t)n)
        return -1;
    read_some(fd, 2 + 6 + 12 + 4 + 4); /* the other side's READY (PULL/ROUTER: 4-6 chars) */
    return 0;
}

/* One message frame (short form, < 256 bytes). */
static void fake_zmtp_frame(int fd, const void *data, size_t len, int more)
{
    unsigned char head[2] = {(unsigned char)(more ? 1 : 0), (unsigned char)len};
    if (write(fd, head, 2) == 2 && len)
        CU_ASSERT_EQUAL(write(fd, data, len), (ssize_t)len);
}

LSGD_TEST(zmq, garbage_on_the_coordinator_port_is_rejected_and_the_run_goes_on)
{
    const char *dir = test_tmpdir(), *run = peer_run_id("zmq", "garbage");
    int port = peer_free_port();
    const char *params = zmq_params(port, "\"timeout_s\": 20");
    int p0 = peer_start("zmq", 0, 2, run, params, "collectives", dir);

    int raw = connect_tcp(port); /* not even ZMTP */
    CU_ASSERT_FATAL(raw >= 0);
    CU_ASSERT_EQUAL(write(raw, "GET / HTTP/1.0\r\n\r\n\x01\x02\x03", 21), 21);
    int fake = connect_tcp(port); /* ZMTP, but not a HELLO */
    CU_ASSERT_FATAL(fake >= 0);
    CU_ASSERT_EQUAL(fake_zmtp_handshake(fake, "DEALER"), 0);
    char junk[48];
    memset(junk, 0x5a, sizeof junk);
    fake_zmtp_frame(fake, junk, sizeof junk, 1); /* header-sized, bad magic */
    fake_zmtp_frame(fake, "x", 1, 1);
    fake_zmtp_frame(fake, "y", 1, 0);
    fake_zmtp_frame(fake, "only one part", 13, 0);
    usleep(300000);
    close(raw);
    close(fake);

    int p1 = peer_start("zmq", 1, 2, run, params, "collectives", dir);
    char *e0, *e1;
    int s1 = peer_wait(p1, dir, 1, 30, &e1), s0 = peer_wait(p0, dir, 0, 30, &e0);
    CU_ASSERT_EQUAL(s0, 0);
    CU_ASSERT_EQUAL(s1, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rejected a message on the coordinator"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "bad magic"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "not a HELLO"));
    free(e0);
    free(e1);
}

/* Ranks 0 and 1 of a world of 2 over ipc://, each running its scenario,
 * and a fake PUSH peer connected (ZMTP handshake done) to rank 0's data
 * socket for rank 1: what it sends there, rank 0 reads as rank 1's. */
typedef struct intruded {
    const char *dir;
    int pid[2];
    int fake;
} intruded;

static intruded start_intruded_pair(const char *tag, const char *scenario0, const char *scenario1)
{
    intruded w = {.dir = test_tmpdir()};
    const char *run = peer_run_id("zmq", tag);
    char params[1024], data_ep[1024];
    snprintf(params, sizeof params, "{\"coordinator\": \"ipc://%s/c\", \"timeout_s\": 20}",
             w.dir);
    snprintf(data_ep, sizeof data_ep, "%s/c.0-1", w.dir);
    w.pid[0] = peer_start("zmq", 0, 2, run, params, scenario0, w.dir);
    w.pid[1] = peer_start("zmq", 1, 2, run, params, scenario1, w.dir);
    w.fake = connect_ipc(data_ep);
    if (w.fake >= 0 && fake_zmtp_handshake(w.fake, "PUSH") != 0) {
        close(w.fake);
        w.fake = -1;
    }
    return w;
}

/* Wait for both ranks, which must exit 0 (every mean equal to the
 * rank-ordered reference: the run went on); rank 0's stderr (malloc'd). */
static char *finish_intruded_pair(intruded *w)
{
    char *err[2];
    for (int r = 0; r < 2; r++) {
        int status = peer_wait(w->pid[r], w->dir, r, 30, &err[r]);
        CU_ASSERT_EQUAL(status, 0);
        if (status)
            fprintf(stderr, "\n  rank %d: status %d: %s\n", r, status, err[r]);
    }
    free(err[1]);
    return err[0];
}

/* `times` × (a frame whose header has the right magic and version but an
 * unknown run, and a 5-byte message): 2·times frames to reject, then wait
 * a moment and hang up. */
static void send_garbage(int fd, int times)
{
    unsigned char h[48] = {0};
    uint32_t magic = 0x4447534cu;
    uint16_t version = 1, type = 4;
    memcpy(h, &magic, 4), memcpy(h + 4, &version, 2), memcpy(h + 6, &type, 2);
    memset(h + 8, 0xab, 8);
    for (int i = 0; i < times; i++) {
        fake_zmtp_frame(fd, h, sizeof h, 1);
        fake_zmtp_frame(fd, "\0\0\0\0\0\0\0\0", 8, 0);
        fake_zmtp_frame(fd, "short", 5, 0);
    }
    usleep(300000);
    close(fd);
}

LSGD_TEST(zmq, a_bad_frame_on_a_data_socket_is_rejected_and_the_average_stays_exact)
{
    intruded w = start_intruded_pair("badframe", "paused", "paused");
    CU_ASSERT_FATAL(w.fake >= 0);
    send_garbage(w.fake, 1);
    char *e0 = finish_intruded_pair(&w);
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rejected a frame on the socket of rank 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "from another run"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rejected 2 frames in all on the socket of rank 1"));
    free(e0);
}

/* ---- CURVE ---- */

/* A key pair from the real libzmq, written as two files. */
static int make_keys(const char *dir, const char *tag, char *pub_path, char *sec_path)
{
    void *lib = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return -1;
    int (*keypair)(char *, char *) = (int (*)(char *, char *))dlsym(lib, "zmq_curve_keypair");
    char pub[41], sec[41];
    if (!keypair || keypair(pub, sec) != 0)
        return -1;
    char name[64];
    snprintf(name, sizeof name, "%s.public", tag);
    strcpy(pub_path, test_write_file(dir, name, pub));
    snprintf(name, sizeof name, "%s.secret", tag);
    strcpy(sec_path, test_write_file(dir, name, sec));
    return 0;
}

LSGD_TEST(zmq, with_curve_keys_the_run_works_and_a_peer_without_the_key_cannot_join)
{
    const char *dir = test_tmpdir();
    char pub[4096], sec[4096], opub[4096], osec[4096], extra[9000], other[9000];
    CU_ASSERT_FATAL(make_keys(dir, "run", pub, sec) == 0);
    CU_ASSERT_FATAL(make_keys(dir, "intruder", opub, osec) == 0);
    snprintf(extra, sizeof extra,
             "\"timeout_s\": 2, \"curve_server_key\": \"%s\", \"curve_secret_key\": \"%s\"", pub,
             sec);
    peer_run run;
    peer_spawn(&run, "zmq", 2, 2, peer_run_id("zmq", "curve"), zmq_params(peer_free_port(), extra),
               "collectives", dir, 30);
    expect_all_ok(&run);
    peer_run_free(&run);

    /* the intruder holds another key pair: the handshake fails, it never joins */
    snprintf(other, sizeof other,
             "\"timeout_s\": 2, \"curve_server_key\": \"%s\", \"curve_secret_key\": \"%s\"", opub,
             osec);
    int port = peer_free_port();
    const char *d2 = test_tmpdir(), *id = peer_run_id("zmq", "curve2");
    int p0 = peer_start("zmq", 0, 2, id, zmq_params(port, extra), "open_only", d2);
    int p1 = peer_start("zmq", 1, 2, id, zmq_params(port, other), "open_only", d2);
    char *e0, *e1;
    int s1 = peer_wait(p1, d2, 1, 20, &e1), s0 = peer_wait(p0, d2, 0, 20, &e0);
    CU_ASSERT_EQUAL(s0, 1);
    CU_ASSERT_EQUAL(s1, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rank 1 never joined"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e1, "no answer from the coordinator"));
    free(e0);
    free(e1);
}

LSGD_TEST(zmq, a_curve_public_key_that_does_not_match_the_secret_is_bad_input)
{
    const char *dir = test_tmpdir();
    char pub[4096], sec[4096], opub[4096], osec[4096], extra[9000];
    CU_ASSERT_FATAL(make_keys(dir, "a", pub, sec) == 0);
    CU_ASSERT_FATAL(make_keys(dir, "b", opub, osec) == 0);
    snprintf(extra, sizeof extra, "\"curve_server_key\": \"%s\", \"curve_secret_key\": \"%s\"",
             pub, osec);
    peer_run run;
    peer_spawn(&run, "zmq", 2, 1, peer_run_id("zmq", "mismatch"), zmq_params(peer_free_port(), extra),
               "open_only", dir, 20);
    CU_ASSERT_EQUAL(run.status[0], 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(run.err[0], "is not the public key of curve_secret_key"));
    peer_run_free(&run);
}

/* ---- the network as an adversary ---- */

/* A ZMTP long frame header: a part of `size` bytes follows. */
static void fake_zmtp_long_header(int fd, uint64_t size, int more)
{
    unsigned char head[9] = {(unsigned char)(0x02 | (more ? 1 : 0))};
    for (int i = 0; i < 8; i++)
        head[1 + i] = (unsigned char)(size >> (56 - 8 * i));
    CU_ASSERT_EQUAL(send(fd, head, sizeof head, MSG_NOSIGNAL), (ssize_t)sizeof head);
}

/* Send up to `bytes` zeros for at most `seconds`; returns how many the
 * other side took before it closed the connection. */
static size_t stream_zeros(int fd, size_t bytes, double seconds)
{
    static char chunk[1 << 20];
    size_t sent = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (sent < bytes) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) * 1e-9 > seconds)
            break;
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        size_t n = bytes - sent < sizeof chunk ? bytes - sent : sizeof chunk;
        ssize_t w = send(fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0)
            break; /* EPIPE, ECONNRESET: dropped */
        sent += (size_t)w;
    }
    return sent;
}

/* Whether the other side closes fd within `seconds` (what it still sends,
 * e.g. the rest of its handshake, is read and dropped). */
static int closed_by_peer(int fd, double seconds)
{
    for (int waited_ms = 0; waited_ms < seconds * 1000; waited_ms += 50) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        char buf[4096];
        ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
    }
    return 0;
}

/* Peak resident memory of a process, in KiB (VmHWM), or -1. */
static long peak_rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

LSGD_TEST(zmq, a_message_larger_than_a_frame_on_a_data_port_is_dropped_with_its_connection_before_the_worker_grows)
{
    intruded w = start_intruded_pair("huge", "paused", "paused");
    CU_ASSERT_FATAL(w.fake >= 0);
    /* a 1 GiB part announced (frames are 1 MiB), then 256 MiB of it sent */
    fake_zmtp_long_header(w.fake, 1ull << 30, 0);
    size_t sent = stream_zeros(w.fake, 256u << 20, 5.0);
    int closed = closed_by_peer(w.fake, 3.0);
    long peak = peak_rss_kib(w.pid[0]);
    close(w.fake);
    free(finish_intruded_pair(&w)); /* and the run goes on, exact */
    CU_ASSERT(closed);
    CU_ASSERT(sent < 256u << 20);
    CU_ASSERT(peak > 0 && peak < 160 * 1024); /* 256 MiB read would be more */
    if (!closed || peak <= 0 || peak >= 160 * 1024)
        fprintf(stderr, "\n  sent %zu bytes, closed %d, rank 0 peak RSS %ld KiB\n", sent, closed,
                peak);
}

LSGD_TEST(zmq, a_message_larger_than_any_hello_on_the_coordinator_port_is_dropped_with_its_connection)
{
    const char *dir = test_tmpdir(), *run = peer_run_id("zmq", "hugehello");
    int port = peer_free_port();
    const char *params = zmq_params(port, "\"timeout_s\": 20");
    int p0 = peer_start("zmq", 0, 2, run, params, "open_only", dir);
    int fake = connect_tcp(port);
    CU_ASSERT_FATAL(fake >= 0);
    CU_ASSERT_EQUAL(fake_zmtp_handshake(fake, "DEALER"), 0);
    fake_zmtp_long_header(fake, 1u << 20, 0); /* 1 MiB; a HELLO's largest part is 64 KiB */
    stream_zeros(fake, 1u << 20, 5.0);
    CU_ASSERT(closed_by_peer(fake, 3.0));
    close(fake);
    int p1 = peer_start("zmq", 1, 2, run, params, "open_only", dir);
    char *e0, *e1;
    int s1 = peer_wait(p1, dir, 1, 30, &e1), s0 = peer_wait(p0, dir, 0, 30, &e0);
    CU_ASSERT_EQUAL(s0, 0);
    CU_ASSERT_EQUAL(s1, 0);
    free(e0);
    free(e1);
}

/* A HELLO of a stranger (another run id), as a fake DEALER sends it. */
static void fake_hello(int fd, const char *run_id)
{
    unsigned char h[48] = {0};
    uint32_t magic = 0x4447534cu, world = 2, src = 1;
    uint16_t version = 1, type = 1; /* HELLO */
    uint64_t hash = 42, frame = 1 << 18;
    memcpy(h, &magic, 4), memcpy(h + 4, &version, 2), memcpy(h + 6, &type, 2);
    memcpy(h + 8, &hash, 8), memcpy(h + 16, &world, 4), memcpy(h + 20, &src, 4);
    memcpy(h + 40, &frame, 8);
    fake_zmtp_frame(fd, h, sizeof h, 1);
    fake_zmtp_frame(fd, run_id, strlen(run_id), 1);
    fake_zmtp_frame(fd, "tcp://127.0.0.1:9\n-", 19, 0);
}

/* Everything fd receives within `seconds`. */
static size_t read_all(int fd, char *buf, size_t cap, double seconds)
{
    size_t n = 0;
    for (int waited_ms = 0; waited_ms < seconds * 1000 && n < cap; waited_ms += 50) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t got = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    return n;
}

LSGD_TEST(zmq, a_refusal_sent_to_a_stranger_holds_neither_the_run_id_nor_its_hash)
{
    const char *dir = test_tmpdir(), *run = peer_run_id("zmq", "private");
    int port = peer_free_port();
    int p0 = peer_start("zmq", 0, 2, run, zmq_params(port, "\"timeout_s\": 2"), "open_only", dir);
    int fake = connect_tcp(port);
    CU_ASSERT_FATAL(fake >= 0);
    CU_ASSERT_EQUAL(fake_zmtp_handshake(fake, "DEALER"), 0);
    fake_hello(fake, "a-stranger");
    static char got[1 << 16];
    size_t n = read_all(fake, got, sizeof got, 1.5);
    close(fake);
    uint64_t hash = 1469598103934665603ull; /* FNV-1a of the run id, as frames carry it */
    for (const char *c = run; *c; c++)
        hash = (hash ^ (unsigned char)*c) * 1099511628211ull;
    CU_ASSERT_PTR_NOT_NULL(memmem(got, n, "is not part of rank 0's run", 27)); /* the answer */
    CU_ASSERT_PTR_NULL(memmem(got, n, run, strlen(run)));
    CU_ASSERT_PTR_NULL(memmem(got, n, &hash, sizeof hash));
    char *e0;
    CU_ASSERT_EQUAL(peer_wait(p0, dir, 0, 20, &e0), 1);
    free(e0);
}

/* Lines of text that contain word. */
static int lines_with(const char *text, const char *word)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n'), *hit = strstr(line, word);
        n += hit && (!end || hit < end);
        line = end ? end + 1 : NULL;
    }
    return n;
}

LSGD_TEST(zmq, eight_hundred_garbage_frames_on_a_data_port_are_one_line_and_a_count)
{
    /* rank 0 waits in its first allreduce while rank 1 pauses: it reads the flood */
    intruded w = start_intruded_pair("flood", "collectives", "paused");
    CU_ASSERT_FATAL(w.fake >= 0);
    send_garbage(w.fake, 400);
    char *e0 = finish_intruded_pair(&w);
    int lines = lines_with(e0, "rejected");
    CU_ASSERT_EQUAL(lines, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "from another run"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e0, "rejected 800 frames in all on the socket of rank 1"));
    if (lines != 2 || !strstr(e0, "rejected 800 frames"))
        fprintf(stderr, "\n  rank 0 said (%d lines with 'rejected'):\n%.2000s\n", lines, e0);
    free(e0);
}

LSGD_TEST(zmq, ranks_with_different_frame_sizes_cut_frames_of_the_smallest_and_average_exactly)
{
    const char *dir = test_tmpdir(), *run = peer_run_id("zmq", "frames2");
    int port = peer_free_port();
    char big[256], small[256];
    snprintf(big, sizeof big, "{\"coordinator\": \"tcp://127.0.0.1:%d\", \"frame_size\": 1048576}",
             port);
    snprintf(small, sizeof small, "{\"coordinator\": \"tcp://127.0.0.1:%d\", \"frame_size\": 8192}",
             port);
    /* rank 1 takes no part above 8 KiB: rank 0 must cut its 1 MiB frames smaller */
    int p0 = peer_start("zmq", 0, 2, run, big, "collectives", dir);
    int p1 = peer_start("zmq", 1, 2, run, small, "collectives", dir);
    char *e0, *e1;
    int s1 = peer_wait(p1, dir, 1, 30, &e1), s0 = peer_wait(p0, dir, 0, 30, &e0);
    CU_ASSERT_EQUAL(s0, 0);
    CU_ASSERT_EQUAL(s1, 0);
    if (s0 || s1)
        fprintf(stderr, "\n  rank 0: %s\n  rank 1: %s\n", e0, e1);
    free(e0);
    free(e1);
}

/* Two `lsgd worker`s of one world whose configs differ (rank 1 has another
 * lr): their run ids, hashes of the configs, differ. */
LSGD_TEST(zmq, a_rank_started_with_another_config_is_refused_saying_the_configs_differ_and_how_to_pin_run_id)
{
    const char *dir = test_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && unset LSGD_RUN_ID; L='%s'; C='%s'; P=tcp://127.0.0.1:%d;"
             " $L worker $C --rank 0 --world 2 --set output.dir=%s/o0"
             " --set transport.params.coordinator=$P & p0=$!;"
             " $L worker $C --rank 1 --world 2 --set output.dir=%s/o1"
             " --set transport.params.coordinator=$P --set algorithm.lr=0.02; s1=$?;"
             " wait $p0; echo \"status $? $s1\"",
             dir, test_build_path("bin/lsgd"), test_root_path("tests/data/transports/quadratic-zmq.json"),
             peer_free_port(), dir, dir);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "status 1 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "refused by rank 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "the configs differ"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "config key run_id, or LSGD_RUN_ID"));
    if (!strstr(o.err, "the configs differ"))
        fprintf(stderr, "\n  out: %s\n  err: %s\n", o.out, o.err);
    test_output_free(&o);
}
