/*
 * shm.c — the default transport: the workers of one host average through
 * POSIX shared memory.
 *
 * One segment per run, /dev/shm/lsgd-<run id>, created by rank 0 and
 * unlinked as soon as every rank has mapped it (and again on close, and by
 * the launcher through the cleanup extension), so a crash leaves nothing
 * behind.  A rank 0 killed before its peers came (a hand-started worker)
 * leaves its segment: the next rank 0 of that run id replaces it, and every
 * rank 0 removes, when it opens, any lsgd segment whose rank 0 is dead.
 * Layout:
 *
 *   header   world, run id, pids, the barrier words, each rank's progress
 *            counters (one cache line per rank), the failure note
 *   ring     [SHM_RING] entries, each [world + 1][chunk] floats: every
 *            rank's input of one chunk of the vector, then the mean of it
 *
 * allreduce_mean goes through the vector chunk by chunk (small enough that
 * a chunk stays in cache while it is copied in, summed and copied out), and
 * chunk g uses ring entry g mod SHM_RING.  Per chunk, rank r:
 *   1. copies the parts of its input that the other ranks own into its slot
 *      and posts input = g + 1;
 *   2. once every rank's input of g is posted, sums its own contiguous slice
 *      over the ranks in rank order (x₀ + x₁ + … + x_{M−1}), divides by M and
 *      writes the mean both into its vector and into the ring's mean row;
 *      posts mean = g + 1;
 *   3. once every rank's mean of g is posted, copies the other slices of the
 *      mean into its vector and posts done = g + 1.
 * allgather goes through the same ring: per chunk each rank writes its part
 * into its slot, posts input, and once every input is posted copies the
 * others' slots out and posts done (one phase, where broadcasting each
 * rank's part in turn would take world).
 * A ring entry is written again only when every rank is done with the chunk
 * that used it SHM_RING chunks before, so a fast rank runs ahead instead of
 * waiting at a barrier per step.  Waiting spins briefly, then yields, then
 * sleeps on a process-shared futex in slices during which the laggards'
 * pids are checked (a dead peer is reported at once, naming its rank) and
 * the deadline (timeout_s) and the host's stop request (info->stop) are
 * enforced.  The first rank to fail writes a note that every other rank
 * reports instead of waiting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lsgd/transport.h"

#define SHM_MAGIC 0x6c7367642d73686eull /* "lsgd-shn": the ring layout */
#define SHM_MAX_WORLD 1024
#define SHM_RUN_ID_MAX 256
#define SHM_NAME_MAX 128
#define SHM_RING 4        /* chunks in flight: how far a fast rank may run ahead */
#define SHM_RING_MAX_BYTES (16u << 20) /* the ring's cap: chunks shrink for many ranks */
#define SHM_CHUNK_MIN 1024 /* floats */
#define SHM_SPIN_S 50e-6  /* busy-wait this long for a peer, */
#define SHM_YIELD_S 2e-3  /* then yield the core until this, then sleep */
#define SHM_STOPPED "asked to stop (SIGINT/SIGTERM)" /* why a wait ended on info->stop */

enum { STEP_INPUT, STEP_MEAN, STEP_DONE, STEPS };

/* Where one rank is in the chunk pipeline: per step, 1 + the last chunk it
 * finished that step of.  One cache line per rank: no false sharing. */
typedef struct shm_progress {
    _Atomic uint64_t step[STEPS];
    char pad[64 - STEPS * sizeof(uint64_t)];
} shm_progress;

typedef struct shm_header {
    _Atomic uint64_t magic;  /* written last by rank 0: the segment is ready */
    int32_t world;
    int32_t pad;
    uint64_t chunk;          /* floats per slot */
    uint64_t bytes;          /* whole segment */
    char run_id[SHM_RUN_ID_MAX];
    _Atomic uint32_t count;  /* arrivals at the current barrier */
    _Atomic uint32_t gen;    /* futex word: sequence number of the last completed barrier */
    _Atomic uint32_t tick;   /* futex word: bumped by a progress post when a rank sleeps */
    _Atomic uint32_t sleepers; /* ranks asleep on tick (posts wake them only then) */
    _Atomic int32_t claimed; /* 0, or 1 + the rank that failed first (it writes the note) */
    _Atomic int32_t failed;  /* set to claimed once the note is written */
    char failure[LSGD_ERROR_MAX];
    _Atomic int32_t pid[SHM_MAX_WORLD];
    _Atomic uint32_t arrived[SHM_MAX_WORLD]; /* last barrier each rank reached */
    _Alignas(64) shm_progress progress[SHM_MAX_WORLD];
} shm_header;

typedef struct shm {
    int rank, world;
    double timeout_s;
    const volatile sig_atomic_t *stop; /* the host's stop request, or NULL */
    char name[SHM_NAME_MAX];
    char run_id[SHM_RUN_ID_MAX];
    int fd;
    int created;           /* rank 0 made the segment: it unlinks it */
    size_t bytes;
    shm_header *header;
    float *ring;           /* [SHM_RING][world + 1][chunk] */
    size_t chunk;
    uint32_t seq;          /* barriers passed */
    uint64_t chunks_done;  /* chunks of every collective so far: the next one's number */
    uint64_t bytes_sent;
    double look_gap_s;     /* fault injection only (see liveness_look_gap) */
} shm;

/* ---- segment naming (shared with the cleanup extension) ---- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* "/lsgd-<run id>" when the id is short and filename-safe, else a hash. */
static void segment_name(char *out, size_t cap, const char *run_id)
{
    int safe = *run_id && strlen(run_id) < 96;
    for (const char *c = run_id; safe && *c; c++)
        safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
               (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
    if (safe)
        snprintf(out, cap, "/lsgd-%s", run_id);
    else
        snprintf(out, cap, "/lsgd-h%016llx", (unsigned long long)fnv1a(run_id));
}

static void shm_cleanup(const char *run_id)
{
    char name[SHM_NAME_MAX];
    segment_name(name, sizeof name, run_id);
    shm_unlink(name);
}

/* ---- time, liveness, futex ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* A pid that no longer runs: gone, or a zombie not yet reaped. */
static int pid_dead(pid_t pid)
{
    if (pid <= 0)
        return 0;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Fault injection for tests (named so): LSGD_FAULT_SHM_LOOK_GAP_S=S
 * sleeps S seconds between seeing that a peer has not arrived and looking
 * whether it is alive, widening the window in which a peer that finished
 * and exited must not be taken for a dead one. */
static double fault_look_gap_s(void)
{
    const char *v = getenv("LSGD_FAULT_SHM_LOOK_GAP_S");
    double s = v ? strtod(v, NULL) : 0;
    return s > 0 && s < 10 ? s : 0;
}

static void liveness_look_gap(const shm *s)
{
    if (s->look_gap_s > 0)
        sleep_s(s->look_gap_s);
}

static int stop_requested(const shm *s)
{
    return s->stop && *s->stop;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t expected, double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, &ts, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* ---- failure note: the first rank to fail tells the others ---- */

static int fail(shm *s, lsgd_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(shm *s, lsgd_error *err, int code, const char *fmt, ...)
{
    char msg[LSGD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    shm_header *h = s->header;
    int32_t none = 0;
    if (h && atomic_compare_exchange_strong(&h->claimed, &none, s->rank + 1)) {
        snprintf(h->failure, sizeof h->failure, "%s", msg);
        atomic_store(&h->failed, s->rank + 1);
        futex_wake_all(&h->gen);
    }
    return lsgd_error_set(err, code, "%s", msg);
}

static int report_other_failure(shm *s, const char *op, lsgd_error *err)
{
    shm_header *h = s->header;
    int who = atomic_load(&h->failed) - 1;
    return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm rank %d: %s stopped: rank %d failed: %s",
                          s->rank, op, who, h->failure);
}

/* ---- the barrier ---- */

/* Rank p has reached barrier seq (or a later one). */
static int has_arrived(const shm *s, int p, uint32_t seq)
{
    return (int32_t)(atomic_load(&s->header->arrived[p]) - seq) >= 0;
}

/* The first rank that has not reached barrier seq, or -1. */
static int first_laggard(const shm *s, uint32_t seq)
{
    for (int p = 0; p < s->world; p++)
        if (!has_arrived(s, p, seq))
            return p;
    return -1;
}

static int check_laggards(shm *s, uint32_t seq, const char *op, double started,
                          lsgd_error *err)
{
    shm_header *h = s->header;
    for (int p = 0; p < s->world; p++) {
        if (has_arrived(s, p, seq))
            continue;
        liveness_look_gap(s);
        pid_t pid = atomic_load(&h->pid[p]);
        /* a rank may arrive, finish and exit between the two looks */
        if (pid_dead(pid) && !has_arrived(s, p, seq))
            return fail(s, err, LSGD_ERR_RUNTIME,
                        "shm rank %d: %s: rank %d (pid %d) died (run '%s')", s->rank, op, p,
                        (int)pid, s->run_id);
    }
    if (stop_requested(s)) {
        int p = first_laggard(s, seq);
        return fail(s, err, LSGD_ERR_RUNTIME,
                    "shm rank %d: %s: " SHM_STOPPED " while waiting for rank %d (pid %d) "
                    "(run '%s')", s->rank, op, p, p >= 0 ? (int)atomic_load(&h->pid[p]) : 0,
                    s->run_id);
    }
    if (now_s() - started > s->timeout_s) {
        int p = first_laggard(s, seq);
        pid_t pid = p >= 0 ? atomic_load(&h->pid[p]) : 0;
        if (pid == 0)
            return fail(s, err, LSGD_ERR_RUNTIME,
                        "shm rank %d: %s: timed out after %g s: rank %d never arrived "
                        "(run '%s', world %d)",
                        s->rank, op, s->timeout_s, p, s->run_id, s->world);
        return fail(s, err, LSGD_ERR_RUNTIME,
                    "shm rank %d: %s: timed out after %g s waiting for rank %d (pid %d) "
                    "(run '%s')",
                    s->rank, op, s->timeout_s, p, (int)pid, s->run_id);
    }
    return LSGD_OK;
}

/* The first phase of every wait: spin briefly (peers are usually
 * microseconds away), then yield the core (it may be shared), until
 * ready(s, what) holds (1) or SHM_YIELD_S has passed since `started` (0:
 * time to sleep on the futex, where liveness, failures and the deadline
 * are checked). */
static int spin_then_yield(const shm *s, int (*ready)(const shm *, const void *),
                           const void *what, double started)
{
    for (int i = 1;; i++) {
        if (ready(s, what))
            return 1;
        if (i % 64 == 0) {
            double waited = now_s() - started;
            if (waited > SHM_YIELD_S || atomic_load(&s->header->failed))
                return 0;
            if (waited > SHM_SPIN_S)
                sched_yield();
        }
        cpu_relax();
    }
}

static int barrier_passed(const shm *s, const void *seq)
{
    return atomic_load_explicit(&s->header->gen, memory_order_acquire) == *(const uint32_t *)seq;
}

static int barrier_wait(shm *s, const char *op, lsgd_error *err)
{
    shm_header *h = s->header;
    uint32_t seq = ++s->seq;
    if (atomic_load(&h->failed))
        return report_other_failure(s, op, err);
    atomic_store(&h->arrived[s->rank], seq);
    if (atomic_fetch_add(&h->count, 1) == (uint32_t)s->world - 1) {
        atomic_store(&h->count, 0);
        atomic_store(&h->gen, seq);
        futex_wake_all(&h->gen);
        return LSGD_OK;
    }
    double started = now_s();
    if (spin_then_yield(s, barrier_passed, &seq, started))
        return LSGD_OK;
    for (;;) {
        uint32_t gen = atomic_load(&h->gen);
        if (gen == seq)
            return LSGD_OK;
        if (atomic_load(&h->failed))
            return report_other_failure(s, op, err);
        futex_wait(&h->gen, gen, 0.02);
        if (atomic_load(&h->gen) == seq)
            return LSGD_OK;
        int rc = check_laggards(s, seq, op, started, err);
        if (rc)
            return rc;
    }
}

/* ---- the chunk pipeline's progress counters ---- */

static uint64_t progress_of(const shm *s, int p, int step)
{
    return atomic_load_explicit(&s->header->progress[p].step[step], memory_order_acquire);
}

/* This rank has finished `step` of chunk g: tell the others, and only if
 * one sleeps bump the futex word and wake it (a sleeper counts itself
 * before its last look at the counters, so no post is missed). */
static void post_progress(shm *s, int step, uint64_t g)
{
    shm_header *h = s->header;
    atomic_store(&h->progress[s->rank].step[step], g + 1);
    if (atomic_load(&h->sleepers)) {
        atomic_fetch_add(&h->tick, 1);
        futex_wake_all(&h->tick);
    }
}

/* The first rank in [first, last] that has not finished `step` of chunk g, or -1. */
static int first_behind(const shm *s, int step, uint64_t g, int first, int last)
{
    for (int p = first; p <= last; p++)
        if (progress_of(s, p, step) < g + 1)
            return p;
    return -1;
}

static const char *const step_name[STEPS] = {"input", "mean", "copy-out"};

/* A laggard has died, or the deadline has passed: say so, naming the rank. */
static int check_behind(shm *s, int step, uint64_t g, int first, int last, const char *op,
                        double started, lsgd_error *err)
{
    shm_header *h = s->header;
    for (int p = first; p <= last; p++) {
        if (progress_of(s, p, step) >= g + 1)
            continue;
        liveness_look_gap(s);
        pid_t pid = atomic_load(&h->pid[p]);
        /* a rank may post its last step and exit between the two looks */
        if (pid_dead(pid) && progress_of(s, p, step) < g + 1)
            return fail(s, err, LSGD_ERR_RUNTIME,
                        "shm rank %d: %s: rank %d (pid %d) died (run '%s')", s->rank, op, p,
                        (int)pid, s->run_id);
    }
    int stopped = stop_requested(s);
    if (stopped || now_s() - started > s->timeout_s) {
        int p = first_behind(s, step, g, first, last);
        char why[64] = SHM_STOPPED " while";
        if (!stopped)
            snprintf(why, sizeof why, "timed out after %g s", s->timeout_s);
        return fail(s, err, LSGD_ERR_RUNTIME,
                    "shm rank %d: %s: %s waiting for rank %d (pid %d) to post the %s of chunk "
                    "%llu (run '%s')", s->rank, op, why, p,
                    p >= 0 ? (int)atomic_load(&h->pid[p]) : 0, step_name[step],
                    (unsigned long long)g, s->run_id);
    }
    return LSGD_OK;
}

/* Ranks [first, last] have all finished `step` of chunk g. */
typedef struct progress_wait {
    int step;
    uint64_t g;
    int first, last;
} progress_wait;

static int progress_reached(const shm *s, const void *what)
{
    const progress_wait *w = what;
    return first_behind(s, w->step, w->g, w->first, w->last) < 0;
}

/* Until ranks [first, last] have all finished `step` of chunk g: spin
 * briefly (peers are usually microseconds away), then yield the core (it
 * may be shared), then sleep on the futex, checking liveness and time. */
static int wait_progress(shm *s, int step, uint64_t g, int first, int last, const char *op,
                         lsgd_error *err)
{
    shm_header *h = s->header;
    const progress_wait w = {step, g, first, last};
    if (progress_reached(s, &w))
        return LSGD_OK;
    double started = now_s();
    if (spin_then_yield(s, progress_reached, &w, started))
        return LSGD_OK;
    for (;;) {
        atomic_fetch_add(&h->sleepers, 1);
        uint32_t tick = atomic_load(&h->tick);
        if (!progress_reached(s, &w) && !atomic_load(&h->failed))
            futex_wait(&h->tick, tick, 0.02);
        atomic_fetch_sub(&h->sleepers, 1);
        if (progress_reached(s, &w))
            return LSGD_OK;
        if (atomic_load(&h->failed))
            return report_other_failure(s, op, err);
        int rc = check_behind(s, step, g, first, last, op, started, err);
        if (rc)
            return rc;
    }
}

static int wait_all(shm *s, int step, uint64_t g, const char *op, lsgd_error *err)
{
    return wait_progress(s, step, g, 0, s->world - 1, op, err);
}

/* ---- open / close ---- */

static size_t segment_bytes(int world, size_t chunk)
{
    size_t head = (sizeof(shm_header) + 4095) & ~(size_t)4095;
    return head + (size_t)SHM_RING * ((size_t)world + 1) * chunk * sizeof(float);
}

static void map_regions(shm *s)
{
    size_t head = (sizeof(shm_header) + 4095) & ~(size_t)4095;
    s->ring = (float *)((char *)s->header + head);
}

/* The pid of the rank 0 that made segment `name` (0 when it is not a
 * finished lsgd segment of this layout, or cannot be read). */
static pid_t segment_owner(const char *name)
{
    int fd = shm_open(name, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0)
        return 0;
    pid_t owner = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size >= sizeof(shm_header)) {
        shm_header *h = mmap(NULL, sizeof *h, PROT_READ, MAP_SHARED, fd, 0);
        if (h != MAP_FAILED) {
            if (atomic_load(&h->magic) == SHM_MAGIC)
                owner = atomic_load(&h->pid[0]);
            munmap(h, sizeof *h);
        }
    }
    close(fd);
    return owner;
}

/* Segments of other runs whose rank 0 died before unlinking them (killed
 * while it waited for its peers): removed, one line each. */
static void remove_stale_segments(const shm *s)
{
    DIR *d = opendir("/dev/shm");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char name[SHM_NAME_MAX];
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "lsgd-", 5) != 0 || len + 2 > sizeof name)
            continue;
        name[0] = '/';
        memcpy(name + 1, e->d_name, len + 1);
        if (strcmp(name, s->name) == 0) /* this run's own: create_segment decides */
            continue;
        pid_t owner = segment_owner(name);
        if (owner > 0 && pid_dead(owner) && shm_unlink(name) == 0)
            fprintf(stderr, "shm rank 0: open: removed /dev/shm%s, left behind by a run whose "
                            "rank 0 (pid %d) died\n", name, (int)owner);
    }
    if (d)
        closedir(d);
}

static int create_segment(shm *s, lsgd_error *err)
{
    remove_stale_segments(s);
    for (int attempt = 0; attempt < 2; attempt++) {
        s->fd = shm_open(s->name, O_CREAT | O_EXCL | O_RDWR, 0600);
        if (s->fd >= 0)
            break;
        if (errno != EEXIST)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm rank 0: open: cannot create %s: %s",
                                  s->name, strerror(errno));
        /* A leftover of a run with this id: reuse the name only if its rank 0 is gone. */
        pid_t owner = segment_owner(s->name);
        if (owner > 0 && !pid_dead(owner))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "shm rank 0: open: run id '%s' is already in use by a live run "
                                  "(%s, rank 0 pid %d); give each run its own run_id",
                                  s->run_id, s->name, (int)owner);
        shm_unlink(s->name);
    }
    if (s->fd < 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm rank 0: open: cannot create %s",
                              s->name);
    s->created = 1;
    s->bytes = segment_bytes(s->world, s->chunk);
    if (ftruncate(s->fd, (off_t)s->bytes) != 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm rank 0: open: cannot size %s to %zu bytes: %s",
                              s->name, s->bytes, strerror(errno));
    void *map = mmap(NULL, s->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (map == MAP_FAILED)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm rank 0: open: cannot map %s (%zu bytes): %s",
                              s->name, s->bytes, strerror(errno));
    s->header = map;
    shm_header *h = s->header;
    h->world = s->world;
    h->chunk = s->chunk;
    h->bytes = s->bytes;
    snprintf(h->run_id, sizeof h->run_id, "%s", s->run_id);
    atomic_store(&h->pid[0], (int32_t)getpid());
    atomic_store(&h->magic, SHM_MAGIC);
    return LSGD_OK;
}

/* Map the header of rank 0's segment once it is ready and not stale. */
static int attach_header(shm *s, double deadline, lsgd_error *err)
{
    for (;;) {
        if (now_s() > deadline)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "shm rank %d: open: timed out after %g s waiting for rank 0 to "
                                  "create /dev/shm%s (run '%s')",
                                  s->rank, s->timeout_s, s->name, s->run_id);
        if (stop_requested(s))
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "shm rank %d: open: " SHM_STOPPED " while waiting for rank 0 "
                                  "to create /dev/shm%s (run '%s')", s->rank, s->name, s->run_id);
        int fd = shm_open(s->name, O_RDWR, 0600);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(shm_header)) {
            shm_header *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (h != MAP_FAILED) {
                if (atomic_load(&h->magic) == SHM_MAGIC && !pid_dead(atomic_load(&h->pid[0]))) {
                    s->fd = fd;
                    s->header = h;
                    s->bytes = sizeof *h;
                    return LSGD_OK;
                }
                munmap(h, sizeof *h);
            }
        }
        if (fd >= 0)
            close(fd);
        sleep_s(0.002);
    }
}

static int join_segment(shm *s, double deadline, lsgd_error *err)
{
    int rc = attach_header(s, deadline, err);
    if (rc)
        return rc;
    shm_header *h = s->header;
    if (strncmp(h->run_id, s->run_id, sizeof h->run_id) != 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "shm rank %d: open: segment %s belongs to run '%s', not '%s'", s->rank,
                              s->name, h->run_id, s->run_id);
    if (h->world != s->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "shm rank %d: open: run '%s' was started with world %d by rank 0 "
                              "(pid %d) but this rank was given world %d",
                              s->rank, s->run_id, h->world, (int)atomic_load(&h->pid[0]), s->world);
    size_t bytes = h->bytes;
    s->chunk = h->chunk; /* rank 0's chunk_bytes decides */
    munmap(h, sizeof *h);
    s->header = NULL;
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (map == MAP_FAILED)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm rank %d: open: cannot map %s (%zu bytes): %s",
                              s->rank, s->name, bytes, strerror(errno));
    s->header = map;
    s->bytes = bytes;
    int32_t free_slot = 0;
    if (!atomic_compare_exchange_strong(&s->header->pid[s->rank], &free_slot, (int32_t)getpid()) &&
        !pid_dead(free_slot))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "shm rank %d: open: rank %d of run '%s' is already taken by pid %d",
                              s->rank, s->rank, s->run_id, (int)free_slot);
    atomic_store(&s->header->pid[s->rank], (int32_t)getpid());
    return LSGD_OK;
}

static void shm_close(void *self)
{
    shm *s = self;
    if (!s)
        return;
    if (s->header)
        munmap(s->header, s->bytes);
    if (s->fd >= 0)
        close(s->fd);
    if (s->created)
        shm_unlink(s->name);
    free(s);
}

static int shm_open_transport(void **self, const lsgd_params *params,
                              const lsgd_transport_info *info, lsgd_error *err)
{
    *self = NULL;
    if (info->world < 1 || info->world > SHM_MAX_WORLD || info->rank < 0 ||
        info->rank >= info->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "shm: open: rank %d of world %d is impossible (world 1..%d)",
                              info->rank, info->world, SHM_MAX_WORLD);
    if (!info->run_id || !*info->run_id || strlen(info->run_id) >= SHM_RUN_ID_MAX)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "shm: open: the run id must be 1..%d characters", SHM_RUN_ID_MAX - 1);
    shm *s = calloc(1, sizeof *s);
    if (!s)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "shm: open: out of memory");
    s->fd = -1;
    s->rank = info->rank;
    s->world = info->world;
    s->stop = lsgd_transport_stop_flag(info);
    s->timeout_s = lsgd_param_number(params, "timeout_s");
    s->look_gap_s = fault_look_gap_s();
    s->chunk = (size_t)lsgd_param_number(params, "chunk_bytes") / sizeof(float);
    if (s->timeout_s <= 0)
        s->timeout_s = 60;
    size_t cap = SHM_RING_MAX_BYTES / (SHM_RING * ((size_t)s->world + 1) * sizeof(float));
    if (s->chunk > cap)
        s->chunk = cap;
    if (s->chunk < SHM_CHUNK_MIN)
        s->chunk = SHM_CHUNK_MIN;
    snprintf(s->run_id, sizeof s->run_id, "%s", info->run_id);
    segment_name(s->name, sizeof s->name, s->run_id);

    double deadline = now_s() + s->timeout_s;
    int rc = s->rank == 0 ? create_segment(s, err) : join_segment(s, deadline, err);
    if (rc == LSGD_OK) {
        map_regions(s);
        rc = barrier_wait(s, "open", err);
    }
    if (rc) {
        shm_close(s);
        return rc;
    }
    if (s->rank == 0) /* everyone has it mapped: the name is no longer needed */
        shm_unlink(s->name);
    *self = s;
    return LSGD_OK;
}

/* ---- the collectives ---- */

/* Ring entry of chunk g: row p < world is rank p's input, row world the mean. */
static float *ring_row(const shm *s, uint64_t g, int row)
{
    return s->ring + ((g % SHM_RING) * ((size_t)s->world + 1) + (size_t)row) * s->chunk;
}

/* Chunk g may reuse its ring entry once every rank is done with the chunk
 * that used it before. */
static int claim_ring_entry(shm *s, uint64_t g, const char *op, lsgd_error *err)
{
    return g < SHM_RING ? LSGD_OK : wait_all(s, STEP_DONE, g - SHM_RING, op, err);
}

/* Floats [lo, hi) of a chunk of `len` belong to rank r. */
static void owned_slice(size_t *lo, size_t *hi, size_t len, int r, int world)
{
    *lo = len * (size_t)r / (size_t)world;
    *hi = len * ((size_t)r + 1) / (size_t)world;
}

/* data[len], chunk g: the three steps of the pipeline (see the top of the file). */
static int allreduce_chunk(shm *s, float *data, size_t len, uint64_t g, lsgd_error *err)
{
    const char *op = "allreduce_mean";
    int M = s->world, r = s->rank;
    size_t lo, hi;
    owned_slice(&lo, &hi, len, r, M);
    int rc = claim_ring_entry(s, g, op, err);
    if (rc)
        return rc;
    float *slot = ring_row(s, g, r), *mean = ring_row(s, g, M);
    memcpy(slot, data, lo * sizeof(float)); /* what the others own */
    memcpy(slot + hi, data + hi, (len - hi) * sizeof(float));
    post_progress(s, STEP_INPUT, g);

    if ((rc = wait_all(s, STEP_INPUT, g, op, err)))
        return rc;
    const float *x[SHM_MAX_WORLD];
    for (int p = 0; p < M; p++)
        x[p] = p == r ? data + lo : ring_row(s, g, p) + lo;
    lsgd_mean_in_rank_order(data + lo, mean + lo, x, M, hi - lo);
    post_progress(s, STEP_MEAN, g);

    if ((rc = wait_all(s, STEP_MEAN, g, op, err)))
        return rc;
    memcpy(data, mean, lo * sizeof(float));
    memcpy(data + hi, mean + hi, (len - hi) * sizeof(float));
    post_progress(s, STEP_DONE, g);
    s->bytes_sent += len * sizeof(float); /* the others' parts of the input, then my mean */
    return LSGD_OK;
}

static int shm_allreduce_mean(void *self, float *data, size_t n, lsgd_error *err)
{
    shm *s = self;
    if (s->world == 1) /* x₀ / 1 = x₀ */
        return LSGD_OK;
    if (atomic_load(&s->header->failed))
        return report_other_failure(s, "allreduce_mean", err);
    for (size_t off = 0; off < n; off += s->chunk) {
        size_t len = n - off < s->chunk ? n - off : s->chunk;
        int rc = allreduce_chunk(s, data + off, len, s->chunks_done++, err);
        if (rc)
            return rc;
    }
    return LSGD_OK;
}

/* data[len], chunk g of a broadcast: the root writes the ring's mean row
 * (and posts it as its mean), the others copy it out. */
static int broadcast_chunk(shm *s, float *data, size_t len, int root, uint64_t g,
                           lsgd_error *err)
{
    const char *op = "broadcast";
    float *row = ring_row(s, g, s->world);
    int rc = LSGD_OK;
    if (s->rank == root) {
        if ((rc = claim_ring_entry(s, g, op, err)))
            return rc;
        memcpy(row, data, len * sizeof(float));
        s->bytes_sent += len * sizeof(float);
        post_progress(s, STEP_INPUT, g);
        post_progress(s, STEP_MEAN, g);
    } else {
        if ((rc = wait_progress(s, STEP_MEAN, g, root, root, op, err)))
            return rc;
        memcpy(data, row, len * sizeof(float));
    }
    post_progress(s, STEP_DONE, g);
    return LSGD_OK;
}

static int shm_broadcast(void *self, float *data, size_t n, int root, lsgd_error *err)
{
    shm *s = self;
    if (root < 0 || root >= s->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "shm rank %d: broadcast: root %d is not a rank of world %d",
                              s->rank, root, s->world);
    if (s->world == 1)
        return LSGD_OK;
    if (atomic_load(&s->header->failed))
        return report_other_failure(s, "broadcast", err);
    for (size_t off = 0; off < n; off += s->chunk) {
        size_t len = n - off < s->chunk ? n - off : s->chunk;
        int rc = broadcast_chunk(s, data + off, len, root, s->chunks_done++, err);
        if (rc)
            return rc;
    }
    return LSGD_OK;
}

/* data[world × n], chunk g of an allgather (len floats of each rank's
 * part, from off): rank r writes its part into its row, and once every
 * rank's row is posted, copies the others' rows into their places. */
static int allgather_chunk(shm *s, float *data, size_t n, size_t off, size_t len, uint64_t g,
                           lsgd_error *err)
{
    const char *op = "allgather";
    int rc = claim_ring_entry(s, g, op, err);
    if (rc)
        return rc;
    memcpy(ring_row(s, g, s->rank), data + (size_t)s->rank * n + off, len * sizeof(float));
    post_progress(s, STEP_INPUT, g);
    if ((rc = wait_all(s, STEP_INPUT, g, op, err)))
        return rc;
    for (int p = 0; p < s->world; p++)
        if (p != s->rank)
            memcpy(data + (size_t)p * n + off, ring_row(s, g, p), len * sizeof(float));
    post_progress(s, STEP_DONE, g);
    s->bytes_sent += len * sizeof(float);
    return LSGD_OK;
}

static int shm_allgather(void *self, float *data, size_t n, lsgd_error *err)
{
    shm *s = self;
    if (s->world == 1)
        return LSGD_OK;
    if (atomic_load(&s->header->failed))
        return report_other_failure(s, "allgather", err);
    for (size_t off = 0; off < n; off += s->chunk) {
        size_t len = n - off < s->chunk ? n - off : s->chunk;
        int rc = allgather_chunk(s, data, n, off, len, s->chunks_done++, err);
        if (rc)
            return rc;
    }
    return LSGD_OK;
}

static int shm_barrier(void *self, lsgd_error *err)
{
    shm *s = self;
    return s->world == 1 ? LSGD_OK : barrier_wait(s, "barrier", err);
}

static uint64_t shm_bytes_sent(const void *self)
{
    return ((const shm *)self)->bytes_sent;
}

/* ---- the descriptor ---- */

static const lsgd_transport_ops ops = {
    .struct_size = sizeof(lsgd_transport_ops),
    .open = shm_open_transport,
    .close = shm_close,
    .allreduce_mean = shm_allreduce_mean,
    .broadcast = shm_broadcast,
    .barrier = shm_barrier,
    .bytes_sent = shm_bytes_sent,
    .allgather = shm_allgather,
};

static const void *get_extension(const char *name)
{
    if (strcmp(name, LSGD_EXT_TRANSPORT_CLEANUP) == 0)
        return (const void *)(lsgd_transport_cleanup_fn)shm_cleanup;
    return NULL;
}

LSGD_PLUGIN_WITH_EXTENSIONS(LSGD_KIND_TRANSPORT, "shm", "1.0.0", &ops, get_extension);
