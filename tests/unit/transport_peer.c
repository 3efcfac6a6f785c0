/*
 * transport_peer.c — one rank of a multi-process transport test, run by
 * `unit_tests --transport-peer …` (see transport_peer.h), and the helpers
 * the transport tests use to start a world of such ranks.
 *
 * The peer opens the real plugin from the build through the host's
 * transport layer (core/src/host/transport_host.c) and checks every mean
 * bitwise against the rank-ordered reference it computes itself: each rank
 * can draw every rank's input, since inputs come from the seeded RNG.
 */
#include "transport_peer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "host/launcher.h"
#include "host/registry.h"
#include "host/transport_host.h"
#include "util/rng.h"

/* ---- inputs whose mean depends on the summation order ---- */

/* x[n] of rank r: magnitudes from 2^-20 to 2^20 with both signs, so that
 * (x₀ + x₁) + x₂ ≠ x₀ + (x₁ + x₂) for many elements. */
void peer_input(float *x, size_t n, int rank)
{
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 20240601, (uint64_t)rank);
    for (size_t i = 0; i < n; i++) {
        double mant = 1.0 + lsgd_rng_uniform(&rng);
        int e = (int)lsgd_rng_below(&rng, 41) - 20;
        x[i] = (float)((lsgd_rng_below(&rng, 2) ? -1 : 1) * ldexp(mant, e));
    }
}

/* mean[n] = (x₀ + x₁ + … + x_{M−1}) / M, summed in rank order in float. */
static void peer_reference(float *mean, size_t n, int world)
{
    float *x = malloc(n * sizeof *x);
    peer_input(mean, n, 0);
    for (int r = 1; r < world; r++) {
        peer_input(x, n, r);
        for (size_t i = 0; i < n; i++)
            mean[i] += x[i];
    }
    for (size_t i = 0; i < n; i++)
        mean[i] /= (float)world;
    free(x);
}

/* ---- opening the plugin the way a worker does ---- */

typedef struct peer_ctx {
    lsgd_transport *t;
    lsgd_registry reg;
} peer_ctx;

/* Discover the built plugins (beside liblsgd.so), resolve, validate the
 * params against the manifest, dlopen and open: lsgd_transport_open. */
static int peer_open(peer_ctx *c, const char *plugin, const char *params_json,
                     const lsgd_transport_info *info, lsgd_error *err)
{
    int rc = lsgd_registry_discover(&c->reg, NULL, err);
    if (rc)
        return rc;
    json_t *cfg = json_pack("{s:s}", "plugin", plugin);
    json_t *params = json_loads(params_json, 0, NULL);
    if (params)
        json_object_set_new(cfg, "params", params);
    rc = lsgd_transport_open(&c->t, &c->reg, cfg, info, err);
    json_decref(cfg);
    return rc;
}

static void peer_close(peer_ctx *c)
{
    lsgd_transport_close(c->t);
    lsgd_registry_free(&c->reg);
}

/* ---- scenarios ---- */

static size_t peer_n(void)
{
    const char *s = getenv("LSGD_PEER_N");
    return s ? (size_t)strtoull(s, NULL, 10) : 300007;
}

static int differs(const float *a, const float *b, size_t n, const char *what, int rank)
{
    if (memcmp(a, b, n * sizeof *a) == 0)
        return 0;
    size_t i = 0;
    while (memcmp(a + i, b + i, sizeof *a) == 0)
        i++;
    fprintf(stderr, "peer rank %d: %s differs from the rank-ordered reference at [%zu]: %.9g vs %.9g\n",
            rank, what, i, (double)a[i], (double)b[i]);
    return 1;
}

/* Rank r's part of an allgather: opaque words, a signalling NaN, −0 and a
 * subnormal among them (a transport that computed on them would change them). */
static void gather_part(float *part, size_t n, int rank)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)((i + 1) * 2654435761u) ^ ((uint32_t)rank << 24);
        bits = i % 3 == 0 ? 0x7f800001u + (uint32_t)rank : i % 3 == 1 ? 0x80000000u : bits;
        bits = i == 2 ? 0x00000001u : bits;
        memcpy(&part[i], &bits, sizeof bits);
    }
}

/* Every rank's part, bit for bit, in every rank's place (*bad when not). */
static int check_allgather(peer_ctx *c, const lsgd_transport_info *info, int *bad,
                           lsgd_error *err)
{
    size_t n = 1000 + peer_n() % 7, M = (size_t)info->world;
    float *all = calloc(M * n, sizeof *all), *want = malloc(n * sizeof *want);
    gather_part(all + (size_t)info->rank * n, n, info->rank);
    int rc = lsgd_transport_allgather(c->t, all, n, err);
    for (size_t r = 0; !rc && r < M; r++) {
        gather_part(want, n, (int)r);
        *bad |= differs(all + r * n, want, n, "allgather", info->rank);
    }
    free(all);
    free(want);
    return rc;
}

/* The background all-gather then average (the compressed overlap's
 * exchange): every part in every place and the rank-order mean of x. */
static int check_background_gather(peer_ctx *c, const lsgd_transport_info *info, float *x,
                                   const float *ref, size_t n, int *bad, lsgd_error *err)
{
    size_t parts = 1000 + peer_n() % 7, M = (size_t)info->world;
    float *all = calloc(M * parts, sizeof *all), *want = malloc(parts * sizeof *want);
    gather_part(all + (size_t)info->rank * parts, parts, info->rank);
    peer_input(x, n, info->rank);
    int rc = lsgd_transport_iallgather_mean(c->t, all, parts, x, n, err);
    if (!rc)
        rc = lsgd_transport_wait(c->t, err);
    for (size_t r = 0; !rc && r < M; r++) {
        gather_part(want, parts, (int)r);
        *bad |= differs(all + r * parts, want, parts, "iallgather_mean's gather", info->rank);
    }
    if (!rc)
        *bad |= differs(x, ref, n, "iallgather_mean's mean", info->rank);
    free(all);
    free(want);
    return rc;
}

static int scenario_collectives(peer_ctx *c, const lsgd_transport_info *info, const char *out,
                                lsgd_error *err)
{
    size_t n = peer_n();
    float *x = malloc(n * sizeof *x), *ref = malloc(n * sizeof *ref);
    float *b = malloc(n * sizeof *b);
    peer_reference(ref, n, info->world);
    int bad = 0, rc;

    peer_input(x, n, info->rank);
    if ((rc = lsgd_transport_allreduce_mean(c->t, x, n, err)))
        goto done;
    bad |= differs(x, ref, n, "allreduce_mean", info->rank);
    FILE *f = fopen(out, "wb");
    if (f) {
        fwrite(x, sizeof *x, n, f);
        fclose(f);
    }

    int root = info->world - 1;
    peer_input(b, n, info->rank);
    if ((rc = lsgd_transport_broadcast(c->t, b, n, root, err)))
        goto done;
    peer_input(x, n, root);
    bad |= differs(b, x, n, "broadcast", info->rank);

    if ((rc = lsgd_transport_barrier(c->t, err)))
        goto done;

    if ((rc = check_allgather(c, info, &bad, err)))
        goto done;

    peer_input(x, n, info->rank);
    if ((rc = lsgd_transport_iallreduce_mean(c->t, x, n, err)))
        goto done;
    int done_flag = 0;
    if ((rc = lsgd_transport_test(c->t, &done_flag, err)))
        goto done;
    if ((rc = lsgd_transport_wait(c->t, err)))
        goto done;
    bad |= differs(x, ref, n, "iallreduce_mean + wait", info->rank);

    if ((rc = check_background_gather(c, info, x, ref, n, &bad, err)))
        goto done;

    float one = (float)info->rank; /* a 1-float average: (0 + 1 + … + M−1) / M */
    if ((rc = lsgd_transport_allreduce_mean(c->t, &one, 1, err)))
        goto done;
    if (one != (float)(info->world - 1) / 2.0f) {
        fprintf(stderr, "peer rank %d: 1-float mean %g, expected %g\n", info->rank, (double)one,
                (double)(info->world - 1) / 2);
        bad = 1;
    }
done:
    free(x);
    free(ref);
    free(b);
    return rc ? rc : bad ? 3 : 0;
}

static void *suicide_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(getpid(), SIGKILL);
    return NULL;
}

/* The last rank dies (SIGKILL) while the others are inside allreduces. */
static int scenario_die(peer_ctx *c, const lsgd_transport_info *info, lsgd_error *err)
{
    size_t n = peer_n();
    float *x = calloc(n, sizeof *x);
    if (info->rank == info->world - 1) {
        pthread_t th;
        pthread_create(&th, NULL, suicide_later, NULL);
    }
    int rc = LSGD_OK;
    for (int round = 0; round < 1000000 && rc == LSGD_OK; round++)
        rc = lsgd_transport_allreduce_mean(c->t, x, n, err);
    free(x);
    return rc;
}

/* The host's stop request, as a worker makes it: SIGTERM sets it. */
static volatile sig_atomic_t peer_stop;

static void on_sigterm(int sig)
{
    (void)sig;
    peer_stop = 1;
}

static double peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double sigterm_sent_at;

static void *sigterm_later(void *arg)
{
    (void)arg;
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    sigterm_sent_at = peer_now();
    kill(getpid(), SIGTERM);
    return NULL;
}

/* The last rank stops (SIGSTOP) before an allreduce; rank 0, waiting for
 * it there, gets SIGTERM a second later and says when its allreduce ended. */
static int scenario_stopped_peer(peer_ctx *c, const lsgd_transport_info *info, lsgd_error *err)
{
    float x = 1;
    pthread_t th = {0};
    if (info->rank == info->world - 1)
        raise(SIGSTOP);
    else if (info->rank == 0)
        pthread_create(&th, NULL, sigterm_later, NULL);
    int rc = lsgd_transport_allreduce_mean(c->t, &x, 1, err);
    if (info->rank == 0) {
        double ended = peer_now();
        pthread_join(th, NULL);
        fprintf(stderr, "peer rank 0: allreduce_mean ended %.3f s after SIGTERM\n",
                ended - sigterm_sent_at);
    }
    return rc;
}

static int peer_main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: unit_tests --transport-peer PLUGIN RANK WORLD RUN_ID PARAMS "
                        "SCENARIO OUT\n");
        return 2;
    }
    const char *plugin = argv[2], *scenario = argv[7], *out = argv[8];
    int rank = atoi(argv[3]), world = atoi(argv[4]);
    char out_rank[4096];
    if (strcmp(argv[3], "env") == 0) { /* under mpirun: OUT.<rank> */
        if (!lsgd_launch_rank_from_env(&rank, &world)) {
            fprintf(stderr, "peer: RANK 'env' but no rank in the environment\n");
            return 2;
        }
        snprintf(out_rank, sizeof out_rank, "%s.%d", out, rank);
        out = out_rank;
    }
    struct sigaction act = {.sa_handler = on_sigterm};
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    lsgd_transport_info info = {.struct_size = sizeof info, .rank = rank, .world = world,
                                .run_id = argv[5], .stop = &peer_stop};
    lsgd_error err;
    lsgd_error_clear(&err);
    peer_ctx c = {0};
    int rc = peer_open(&c, plugin, argv[6], &info, &err);
    if (rc == LSGD_OK) {
        if (strcmp(scenario, "collectives") == 0)
            rc = scenario_collectives(&c, &info, out, &err);
        else if (strcmp(scenario, "die") == 0)
            rc = scenario_die(&c, &info, &err);
        else if (strcmp(scenario, "stopped_peer") == 0)
            rc = scenario_stopped_peer(&c, &info, &err);
        else if (strcmp(scenario, "open_only") == 0)
            rc = lsgd_transport_barrier(c.t, &err);
        else if (strcmp(scenario, "last_rank_late") == 0) {
            struct timespec ts = {0, 300 * 1000 * 1000};
            if (rank == world - 1)
                nanosleep(&ts, NULL);
            rc = lsgd_transport_barrier(c.t, &err);
        }
        else if (strcmp(scenario, "paused") == 0) {
            struct timespec ts = {1, 500 * 1000 * 1000};
            nanosleep(&ts, NULL);
            rc = scenario_collectives(&c, &info, out, &err);
        }
    }
    peer_close(&c);
    if (rc == LSGD_ERR_INPUT || rc == LSGD_ERR_RUNTIME)
        fprintf(stderr, "%s\n", err.message);
    return rc;
}

/* glibc passes argc/argv to constructors: `--transport-peer` turns this
 * binary into one rank of a transport test before CUnit's main runs. */
__attribute__((constructor)) static void transport_peer_entry(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--transport-peer") == 0) {
        fflush(NULL);
        int status = peer_main(argc, argv);
        fflush(NULL);
        exit(status);
    }
}

/* ---- helpers for the tests ---- */

const char *peer_self_exe(void)
{
    static char path[4096];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
    }
    return path;
}

int peer_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int peer_shm_leftover(const char *run_id)
{
    char name[300];
    snprintf(name, sizeof name, "lsgd-%s", run_id);
    DIR *d = opendir("/dev/shm");
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        found += strcmp(e->d_name, name) == 0;
    if (d)
        closedir(d);
    return found;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int peer_start(const char *plugin, int rank, int world, const char *run_id,
               const char *params_json, const char *scenario, const char *out_dir)
{
    char ranks[16], worlds[16], out[4096], err_path[4096];
    snprintf(ranks, sizeof ranks, "%d", rank);
    snprintf(worlds, sizeof worlds, "%d", world);
    snprintf(out, sizeof out, "%s/out.%d", out_dir, rank);
    snprintf(err_path, sizeof err_path, "%s/err.%d", out_dir, rank);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl(peer_self_exe(), peer_self_exe(), "--transport-peer", plugin, ranks, worlds,
              run_id, params_json, scenario, out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int peer_wait(int pid, const char *out_dir, int rank, int timeout_s, char **err)
{
    double t0 = now_s();
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_s() - t0 > timeout_s) {
            fprintf(stderr, "peer_wait: rank %d still running after %d s, killed\n", rank,
                    timeout_s);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/err.%d", out_dir, rank);
    *err = test_read_file(path, NULL);
    if (!*err)
        *err = strdup("");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void peer_spawn(peer_run *run, const char *plugin, int world, int started, const char *run_id,
                const char *params_json, const char *scenario, const char *out_dir,
                int timeout_s)
{
    memset(run, 0, sizeof *run);
    run->world = world;
    pid_t pids[PEER_MAX];
    char err_path[PEER_MAX][4096];
    double t0 = now_s();
    for (int r = 0; r < world; r++) {
        run->status[r] = -1;
        pids[r] = 0;
        snprintf(err_path[r], sizeof err_path[r], "%s/err.%d", out_dir, r);
        if (r >= started)
            continue;
        pids[r] = peer_start(plugin, r, world, run_id, params_json, scenario, out_dir);
    }
    int left = started < world ? started : world;
    while (left > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (int r = 0; r < world; r++)
                if (pids[r] == pid) {
                    run->status[r] = WIFEXITED(status) ? WEXITSTATUS(status)
                                                       : 128 + WTERMSIG(status);
                    pids[r] = 0;
                    left--;
                }
            continue;
        }
        if (now_s() - t0 > timeout_s) {
            for (int r = 0; r < world; r++)
                if (pids[r] > 0) {
                    fprintf(stderr, "peer_spawn: rank %d still running after %d s, killed\n", r,
                            timeout_s);
                    kill(pids[r], SIGKILL);
                }
            timeout_s = 1 << 30;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    run->seconds = now_s() - t0;
    for (int r = 0; r < world; r++) {
        run->err[r] = test_read_file(err_path[r], NULL);
        if (!run->err[r])
            run->err[r] = strdup("");
    }
}

void peer_run_free(peer_run *run)
{
    for (int r = 0; r < run->world; r++)
        free(run->err[r]);
}

const char *peer_run_id(const char *prefix, const char *tag)
{
    static char id[8][64];
    static int next;
    char *p = id[next++ % 8];
    snprintf(p, sizeof id[0], "%s-%d-%s", prefix, (int)getpid(), tag);
    return p;
}

int peer_failed_ranks(const peer_run *run, const char *label)
{
    int failed = 0;
    for (int r = 0; r < run->world; r++)
        if (run->status[r] != 0) {
            fprintf(stderr, "%s rank %d: status %d: %s\n", label, r, run->status[r],
                    run->err[r] ? run->err[r] : "");
            failed++;
        }
    return failed;
}
