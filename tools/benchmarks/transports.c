/*
 * transports.c — one rank of the transport benchmark (run by
 * transports.sh): the median time of allreduce_mean of N float32 and of a
 * 1-float allreduce (latency), through the host's transport layer and the
 * installed plugin, exactly as a worker averages.
 *
 *   transports PLUGIN RANK|env WORLD RUN_ID PARAMS_JSON N REPS
 *   transports copy N REPS          memcpy bandwidth of the same buffer
 *   transports zmq-raw tcp|ipc N REPS FRAME_BYTES
 *                                   the zmq ceiling: two processes move
 *                                   what a 2-rank allreduce_mean moves (n/2
 *                                   floats each way, twice) through bare
 *                                   PUSH/PULL sockets, no headers, no sums
 *
 * Rank 0 prints one line: "<plugin> n=<N> median_ms=<t> GBps=<payload/t>
 * latency_us=<t1>", payload = 4·N bytes (the vector averaged).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "host/launcher.h"
#include "host/registry.h"
#include "host/transport_host.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, by_value);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static int bench_copy(size_t n, int reps)
{
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    double *t = malloc((size_t)reps * sizeof *t);
    for (size_t i = 0; i < n; i++)
        a[i] = (float)i, b[i] = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        memcpy(b, a, n * sizeof *a);
        t[r] = now_s() - t0;
        a[r % n] += b[(r * 7) % n]; /* keep the copies observable */
    }
    double m = median(t, reps);
    printf("copy n=%zu median_ms=%.3f GBps=%.2f\n", n, m * 1e3, n * sizeof(float) / m / 1e9);
    free(a);
    free(b);
    free(t);
    return 0;
}

/* ---- the zmq ceiling: bare PUSH/PULL, libzmq loaded at run time (the
 * benchmarks link only liblsgd's libraries) ---- */

static struct {
    void *(*ctx_new)(void);
    int (*ctx_term)(void *);
    void *(*socket)(void *, int);
    int (*close)(void *);
    int (*setsockopt)(void *, int, const void *, size_t);
    int (*bind)(void *, const char *);
    int (*connect)(void *, const char *);
    int (*send)(void *, const void *, size_t, int);
    int (*recv)(void *, void *, size_t, int);
    int (*msg_init)(zmq_msg_t *);
    int (*msg_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
    int (*msg_send)(zmq_msg_t *, void *, int);
    int (*msg_recv)(zmq_msg_t *, void *, int);
    void *(*msg_data)(zmq_msg_t *);
    size_t (*msg_size)(const zmq_msg_t *);
    int (*msg_close)(zmq_msg_t *);
} Z;

static int load_zmq(void)
{
    void *lib = dlopen("libzmq.so.5", RTLD_NOW);
    if (!lib)
        return -1;
#define SYM(f) (*(void **)&Z.f = dlsym(lib, "zmq_" #f)) == NULL
    return SYM(ctx_new) || SYM(ctx_term) || SYM(socket) || SYM(close) || SYM(setsockopt) ||
                   SYM(bind) || SYM(connect) || SYM(send) || SYM(recv) || SYM(msg_init) ||
                   SYM(msg_init_data) || SYM(msg_send) || SYM(msg_recv) || SYM(msg_data) ||
                   SYM(msg_size) || SYM(msg_close)
               ? -1
               : 0;
#undef SYM
}

static void keep_buffer(void *data, void *hint)
{
    (void)data, (void)hint;
}

/* One rank: send bytes of src twice in frames (zero copy), receive as
 * much into dst (one copy out of zmq's buffer, as a receiver must);
 * seconds, or -1 when the peer went silent. */
static double raw_exchange(void *out, void *in, char *src, char *dst, size_t bytes,
                           size_t frame)
{
    char token;
    Z.send(out, "s", 1, 0); /* both ranks start together */
    if (Z.recv(in, &token, 1, 0) != 1)
        return -1;
    double t0 = now_s();
    for (int round = 0; round < 2; round++)
        for (size_t off = 0; off < bytes; off += frame) {
            zmq_msg_t m;
            Z.msg_init_data(&m, src + off, bytes - off < frame ? bytes - off : frame,
                            keep_buffer, NULL);
            Z.msg_send(&m, out, 0);
        }
    for (size_t got = 0; got < 2 * bytes;) {
        zmq_msg_t m;
        Z.msg_init(&m);
        if (Z.msg_recv(&m, in, 0) < 0)
            return -1;
        memcpy(dst + got % bytes, Z.msg_data(&m), Z.msg_size(&m));
        got += Z.msg_size(&m);
        Z.msg_close(&m);
    }
    return now_s() - t0;
}

/* A TCP port of 127.0.0.1 that is free now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static int bench_zmq_raw(const char *kind, size_t n, int reps, size_t frame)
{
    if (load_zmq() != 0) {
        fprintf(stderr, "transports: zmq-raw: cannot load libzmq.so.5\n");
        return 1;
    }
    char endpoint[2][128]; /* where rank 0 and rank 1 receive, chosen before the fork */
    for (int r = 0; r < 2; r++)
        if (strcmp(kind, "ipc") == 0)
            snprintf(endpoint[r], sizeof endpoint[r], "ipc:///tmp/lsgd-raw-%d-%d", (int)getpid(), r);
        else
            snprintf(endpoint[r], sizeof endpoint[r], "tcp://127.0.0.1:%d", free_port());
    pid_t child = fork();
    int rank = child == 0;
    void *ctx = Z.ctx_new(), *in = Z.socket(ctx, ZMQ_PULL), *out = Z.socket(ctx, ZMQ_PUSH);
    /* the zmq plugin's socket settings: unbounded send queue, one frame of
     * read-ahead; a lost peer ends the benchmark, not a hang */
    int unlimited = 0, one_frame = 1, patience_ms = 60000;
    Z.setsockopt(in, ZMQ_RCVHWM, &one_frame, sizeof one_frame);
    Z.setsockopt(out, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    Z.setsockopt(in, ZMQ_RCVTIMEO, &patience_ms, sizeof patience_ms);
    int rc = Z.bind(in, endpoint[rank]) | Z.connect(out, endpoint[1 - rank]);
    size_t bytes = n / 2 * sizeof(float);
    char *src = malloc(bytes), *dst = malloc(bytes);
    double *t = malloc((size_t)reps * sizeof *t);
    memset(src, 1, bytes);
    memset(dst, 0, bytes);
    for (int r = -1; r < reps && !rc; r++) { /* r = -1: warm-up */
        double took = raw_exchange(out, in, src, dst, bytes, frame);
        rc = took < 0;
        if (r >= 0)
            t[r] = took;
    }
    char token;
    Z.send(out, "e", 1, 0);
    Z.recv(in, &token, 1, 0);
    int linger = 0;
    Z.setsockopt(out, ZMQ_LINGER, &linger, sizeof linger);
    Z.close(in);
    Z.close(out);
    Z.ctx_term(ctx);
    if (rank == 0 && !rc) {
        double m = median(t, reps);
        printf("zmq-raw-%s n=%zu median_ms=%.3f GBps=%.2f\n", kind, n, m * 1e3,
               n * sizeof(float) / m / 1e9);
    }
    free(src);
    free(dst);
    free(t);
    if (rank == 1)
        _exit(rc ? 1 : 0);
    int status = 0;
    waitpid(child, &status, 0);
    for (int r = 0; r < 2; r++)
        if (strncmp(endpoint[r], "ipc://", 6) == 0)
            unlink(endpoint[r] + 6);
    return rc || status ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "copy") == 0)
        return bench_copy(strtoull(argv[2], NULL, 10), atoi(argv[3]));
    if (argc == 6 && strcmp(argv[1], "zmq-raw") == 0)
        return bench_zmq_raw(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]),
                             strtoull(argv[5], NULL, 10));
    if (argc != 8) {
        fprintf(stderr, "usage: transports PLUGIN RANK|env WORLD RUN_ID PARAMS N REPS | copy N REPS | "
                        "zmq-raw tcp|ipc N REPS FRAME_BYTES\n");
        return 2;
    }
    int rank = atoi(argv[2]), world = atoi(argv[3]);
    if (strcmp(argv[2], "env") == 0 && !lsgd_launch_rank_from_env(&rank, &world)) {
        fprintf(stderr, "transports: no rank in the environment\n");
        return 2;
    }
    size_t n = strtoull(argv[6], NULL, 10);
    int reps = atoi(argv[7]), lat_reps = 200;
    lsgd_error err;
    lsgd_registry reg;
    if (lsgd_registry_discover(&reg, NULL, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return err.code;
    }
    json_t *cfg = json_pack("{s:s, s:o}", "plugin", argv[1], "params",
                            json_loads(argv[5], 0, NULL));
    lsgd_transport_info info = {.struct_size = sizeof info, .rank = rank, .world = world,
                                .run_id = argv[4]};
    lsgd_transport *t;
    if (lsgd_transport_open(&t, &reg, cfg, &info, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return err.code;
    }
    float *x = malloc(n * sizeof *x); /* [n] */
    double *times = malloc((size_t)(reps > lat_reps ? reps : lat_reps) * sizeof *times);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(i % 1000) * 0.001f + (float)rank;
    int rc = lsgd_transport_allreduce_mean(t, x, n, &err); /* warm-up: pages, buffers */
    for (int r = 0; r < reps && !rc; r++) {
        rc = lsgd_transport_barrier(t, &err);
        double t0 = now_s();
        if (!rc)
            rc = lsgd_transport_allreduce_mean(t, x, n, &err);
        times[r] = now_s() - t0;
    }
    double big = rc ? 0 : median(times, reps);
    float one = (float)rank;
    for (int r = 0; r < lat_reps && !rc; r++) {
        double t0 = now_s();
        rc = lsgd_transport_allreduce_mean(t, &one, 1, &err);
        times[r] = now_s() - t0;
    }
    double small = rc ? 0 : median(times, lat_reps);
    if (rc)
        fprintf(stderr, "%s\n", err.message);
    else if (rank == 0)
        printf("%s n=%zu median_ms=%.3f GBps=%.2f latency_us=%.1f\n", argv[1], n, big * 1e3,
               n * sizeof(float) / big / 1e9, small * 1e6);
    lsgd_transport_close(t);
    lsgd_registry_free(&reg);
    json_decref(cfg);
    free(x);
    free(times);
    return rc;
}
