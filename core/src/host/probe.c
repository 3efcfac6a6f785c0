/*
 * probe.c — load a plugin in a child process and report what happened
 * (probe.h).  Loading runs code the host does not control: the library's
 * constructors, then lsgd_plugin_entry; the host then reads the descriptor
 * and ops table that code returned.  Any of them may crash, call exit() or
 * never return, so the parent only trusts what the child managed to say:
 * a problem record per problem, then a "done" record.  No "done" means
 * the load itself failed, and the child's wait status says how.
 */
#include "host/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { RECORD_PROBLEM = 1, RECORD_DONE = 2 };

/* One message through the pipe; smaller than PIPE_BUF, so written whole. */
typedef struct probe_record {
    int type;
    unsigned abi_major, abi_minor; /* RECORD_DONE */
    lsgd_error problem;            /* RECORD_PROBLEM */
} probe_record;

_Static_assert(sizeof(probe_record) <= 4096, "a record is written atomically (PIPE_BUF)");

static void send_record(int fd, const probe_record *r)
{
    const char *p = (const char *)r;
    size_t left = sizeof *r;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(127); /* the parent is gone: nobody to tell */
        p += n;
        left -= (size_t)n;
    }
}

static void send_problem(void *ctx, const lsgd_error *problem)
{
    probe_record r = {.type = RECORD_PROBLEM, .problem = *problem};
    send_record(*(const int *)ctx, &r);
}

/* The child: check, unload (destructors run too), say done, and leave
 * without running the parent's atexit handlers or flushing its stdio. */
static void probe_child(int fd, const lsgd_manifest *m, const char *const *provides)
{
    /* a crash must end the child with its signal, whatever handler a
     * sanitizer or the parent installed, so that the parent can name it */
    static const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
        signal(crashes[i], SIG_DFL);
    lsgd_loaded loaded;
    probe_record done = {.type = RECORD_DONE};
    if (lsgd_plugin_check(&loaded, m, provides, send_problem, &fd) == 0) {
        done.abi_major = loaded.plugin->abi_major;
        done.abi_minor = loaded.plugin->abi_minor;
        lsgd_plugin_unload(&loaded);
    }
    send_record(fd, &done);
    _exit(0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct probe_reader {
    probe_record record;
    size_t have;       /* bytes of record read so far */
    size_t problems;
    int done;
    lsgd_probe_result result;
} probe_reader;

/* Read what is there; returns 0 at end of file. */
static int read_records(int fd, probe_reader *in, lsgd_problem_fn report, void *ctx)
{
    ssize_t n = read(fd, (char *)&in->record + in->have, sizeof in->record - in->have);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return 0;
    in->have += (size_t)n;
    if (in->have < sizeof in->record)
        return 1;
    in->have = 0;
    if (in->record.type == RECORD_PROBLEM) {
        in->record.problem.message[LSGD_ERROR_MAX - 1] = '\0';
        in->problems++;
        report(ctx, &in->record.problem);
    } else if (in->record.type == RECORD_DONE) {
        in->done = 1;
        in->result.abi_major = in->record.abi_major;
        in->result.abi_minor = in->record.abi_minor;
    }
    return 1;
}

/* Read records until the child closes the pipe or the time is up;
 * returns 0, or -1 on timeout. */
static int read_until_closed(int fd, probe_reader *in, lsgd_problem_fn report, void *ctx)
{
    double deadline = now_s() + LSGD_PROBE_TIMEOUT_S;
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno != EINTR)
            return 0;
        if (ready > 0 && !read_records(fd, in, report, ctx))
            return 0;
    }
}

/* One problem naming the plugin, its library, and how its load ended. */
static void report_end(const lsgd_manifest *m, int status, int timed_out, lsgd_problem_fn report,
                       void *ctx)
{
    char how[256];
    if (timed_out)
        snprintf(how, sizeof how, "did not finish loading within %d s (stopped); its "
                 "constructors or lsgd_plugin_entry must not block", LSGD_PROBE_TIMEOUT_S);
    else if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "crashed while being loaded: killed by signal %d (%s) in its "
                 "constructors, lsgd_plugin_entry or the descriptor it returned",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(how, sizeof how, "exited with status %d while being loaded (in its "
                 "constructors or lsgd_plugin_entry); a plugin must never exit the process",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    lsgd_error problem;
    lsgd_error_set(&problem, LSGD_ERR_INPUT, "%s plugin '%s' (%s): %s", lsgd_kind_name(m->kind),
                   m->name, m->library, how);
    report(ctx, &problem);
}

/* The probe itself could not be made (no pipe, no fork): one problem. */
static size_t report_cannot(const lsgd_manifest *m, const char *what, lsgd_problem_fn report,
                            void *ctx)
{
    lsgd_error problem;
    lsgd_error_set(&problem, LSGD_ERR_RUNTIME, "%s plugin '%s': cannot %s to load it apart: %s",
                   lsgd_kind_name(m->kind), m->name, what, strerror(errno));
    report(ctx, &problem);
    return 1;
}

size_t lsgd_plugin_probe(lsgd_probe_result *out, const lsgd_manifest *manifest,
                         const char *const *provides, lsgd_problem_fn report, void *ctx)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return report_cannot(manifest, "make a pipe", report, ctx);
    fflush(NULL); /* the child must not write the parent's buffered output again */
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return report_cannot(manifest, "fork", report, ctx);
    }
    if (child == 0) {
        close(fds[0]);
        probe_child(fds[1], manifest, provides);
    }
    close(fds[1]);
    probe_reader in = {0};
    int status = 0;
    int timed_out = read_until_closed(fds[0], &in, report, ctx) < 0;
    if (timed_out)
        kill(child, SIGKILL);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    close(fds[0]);
    if (in.done && !timed_out) {
        *out = in.result;
        return in.problems;
    }
    report_end(manifest, status, timed_out, report, ctx);
    return in.problems + 1;
}

static void keep_first(void *ctx, const lsgd_error *problem)
{
    lsgd_error *first = ctx;
    if (first && first->code == LSGD_OK)
        *first = *problem;
}

/* Libraries this process has already probed without a problem (a sweep
 * checks thousands of runs naming the same few plugins): manifest, library
 * and the library file's identity, so a rebuilt .so is probed again. */
enum { PROBED_MAX = 32 };
typedef struct probed {
    char manifest[512], library[512];
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
} probed;
static probed probed_ok[PROBED_MAX];
static size_t probed_count;

static int identify(probed *out, const lsgd_manifest *m)
{
    struct stat st;
    if (!m->path || !m->library || stat(m->library, &st) != 0 ||
        strlen(m->path) >= sizeof out->manifest || strlen(m->library) >= sizeof out->library)
        return 0;
    memset(out, 0, sizeof *out);
    snprintf(out->manifest, sizeof out->manifest, "%s", m->path);
    snprintf(out->library, sizeof out->library, "%s", m->library);
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    out->mtime = st.st_mtim;
    return 1;
}

static int same(const probed *a, const probed *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && strcmp(a->manifest, b->manifest) == 0 &&
           strcmp(a->library, b->library) == 0;
}

int lsgd_plugin_probe_load(const lsgd_manifest *manifest, const char *const *provides,
                           lsgd_error *err)
{
    probed me;
    int known = identify(&me, manifest);
    for (size_t i = 0; known && i < probed_count; i++)
        if (same(&probed_ok[i], &me))
            return LSGD_OK;
    lsgd_error first;
    lsgd_error_clear(&first);
    lsgd_probe_result result;
    if (lsgd_plugin_probe(&result, manifest, provides, keep_first, &first) == 0) {
        if (known && probed_count < PROBED_MAX)
            probed_ok[probed_count++] = me;
        return LSGD_OK;
    }
    if (err)
        *err = first;
    return first.code ? first.code : LSGD_ERR_INPUT;
}
