/*
 * launcher.c — start the workers of one run and see them to the end.
 *
 * Under mpirun/srun (or with LSGD_RANK/LSGD_WORLD) the process already is
 * a worker: lsgd_launch_rank_from_env says so.  Otherwise `lsgd run`
 * fork/execs `workers` copies of itself as `lsgd worker CONFIG --rank r
 * --world n`, all with one LSGD_RUN_ID, forwards SIGINT/SIGTERM to them,
 * and when one dies stops the others, cleans what the transport left
 * (LSGD_EXT_TRANSPORT_CLEANUP) and exits 1 naming the rank.
 *
 * A worker must not outlive its launcher: each is started with
 * PR_SET_PDEATHSIG = SIGTERM, so if `lsgd run` itself is killed (SIGKILL,
 * OOM killer) the workers get the SIGTERM it can no longer forward, stop
 * at their next step as on Ctrl-C (checkpoint left as it was, status 1)
 * and close their transport on the way out.  The shm segment needs no
 * launcher for that: rank 0 unlinks its name as soon as every rank has
 * mapped it, and again in close when the run never got that far.
 *
 * Each worker writes its one error line to a pipe (LSGD_REPORT_FD) rather
 * than to stderr, so that a run that fails says one line, whatever the
 * number of workers: the line of the worker that failed first (several
 * workers refusing the same input, or each stopped by the launcher, would
 * otherwise all say theirs).
 */
#include "host/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/loader.h"
#include "host/registry.h"
#include "lsgd/transport.h"

#define STOP_GRACE_S 3.0 /* SIGTERM, then SIGKILL after this */

/* A non-negative integer from the environment, or -1. */
static int env_int(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 && v < (1L << 30) ? (int)v : -1;
}

int lsgd_launch_rank_from_env(int *rank, int *world)
{
    static const char *const pairs[][2] = {
        {"LSGD_RANK", "LSGD_WORLD"},
        {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
        {"PMIX_RANK", "PMIX_SIZE"},   /* PMIx exports no size itself: see below */
        {"SLURM_PROCID", "SLURM_NTASKS"},
        {"PMI_RANK", "PMI_SIZE"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int r = env_int(pairs[i][0]);
        int w = env_int(pairs[i][1]);
        if (r >= 0 && w < 0 && strcmp(pairs[i][0], "PMIX_RANK") == 0)
            w = env_int("OMPI_COMM_WORLD_SIZE") >= 0 ? env_int("OMPI_COMM_WORLD_SIZE")
                                                     : env_int("SLURM_NTASKS");
        if (r >= 0 && w > r) {
            *rank = r;
            *world = w;
            return 1;
        }
    }
    return 0;
}

/* ---- one run of `workers` processes ---- */

typedef struct worker_proc {
    pid_t pid;    /* 0 once reaped */
    int status;   /* raw waitpid status */
    int report;   /* read end of the worker's report pipe, -1 when none */
    int reports;  /* it had a report pipe: it must say "finished" to succeed */
    int finished; /* it said "finished": its run completed */
    char line[LSGD_ERROR_MAX];    /* its error line, "lsgd: " and newline removed */
    char loading[LSGD_ERROR_MAX]; /* the plugin it was loading and did not finish loading */
} worker_proc;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the report pipe: what a worker tells its launcher ----
 *
 * One line each, in the order they happen:
 *   "loading <kind> plugin '<name>' (<library>)"  before the plugin's code runs
 *   "loaded"                                       once that load has ended
 *   "lsgd: <error>"                                why it failed
 *   "finished"                                     its run completed
 * The launcher reads them when the worker has exited: a worker that died
 * between "loading" and "loaded" died loading that plugin, and one that
 * exited 0 without "finished" (a plugin calling exit(0)) did not succeed.
 */

/* The worker's end of the pipe, or -1 when not started by `lsgd run`. */
static int report_fd(void)
{
    int fd = env_int("LSGD_REPORT_FD");
    return fd > 2 ? fd : -1;
}

static void tell_loading(const lsgd_manifest *m, int loading)
{
    if (loading)
        dprintf(report_fd(), "loading %s plugin '%s' (%s)\n", lsgd_kind_name(m->kind), m->name,
                m->library);
    else
        dprintf(report_fd(), "loaded\n");
}

void lsgd_launch_worker_started(void)
{
    if (report_fd() >= 0)
        lsgd_plugin_watch_loads(tell_loading);
}

void lsgd_launch_worker_finished(void)
{
    if (report_fd() >= 0)
        dprintf(report_fd(), "finished\n");
}

static void take_report_line(worker_proc *w, const char *line)
{
    if (strncmp(line, "loading ", 8) == 0)
        snprintf(w->loading, sizeof w->loading, "%s", line + 8);
    else if (strcmp(line, "loaded") == 0)
        w->loading[0] = '\0';
    else if (strcmp(line, "finished") == 0)
        w->finished = 1;
    else if (!w->line[0] && line[0]) /* the first error line says why */
        snprintf(w->line, sizeof w->line, "%s",
                 strncmp(line, "lsgd: ", 6) == 0 ? line + 6 : line);
}

/* Read what a worker that has exited wrote to its pipe, and close it. */
static void read_report(worker_proc *w)
{
    if (w->report < 0)
        return;
    enum { REPORT_MAX = 64 * 1024 }; /* a pipe's capacity: all it can hold */
    char *text = malloc(REPORT_MAX + 1);
    size_t n = 0;
    ssize_t got;
    while (text && n < REPORT_MAX && (got = read(w->report, text + n, REPORT_MAX - n)) > 0)
        n += (size_t)got;
    close(w->report);
    w->report = -1;
    if (!text)
        return;
    text[n] = '\0';
    for (char *line = text, *end; line < text + n; line = end + 1) {
        end = line + strcspn(line, "\n");
        *end = '\0';
        take_report_line(w, line);
    }
    free(text);
}

/* A worker that ended well: exit 0 and, when it could say so, "finished". */
static int succeeded(const worker_proc *w)
{
    return WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0 && (!w->reports || w->finished);
}

/* cfg's run_id, or a fresh one: time and pid, unique on this host. */
static void make_run_id(char *out, size_t cap, const json_t *cfg)
{
    const char *given = json_string_value(json_object_get(cfg, "run_id"));
    if (given && *given) {
        snprintf(out, cap, "%s", given);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, cap, "run-%lx%05lx-%d", (unsigned long)ts.tv_sec,
             (unsigned long)(ts.tv_nsec / 10000) & 0xfffff, (int)getpid());
}

/* Child: from now on, the launcher's death sends this process SIGTERM (the
 * setting survives exec).  A launcher that died before the prctl took
 * effect has already left us to another parent: give up at once. */
static void die_with_launcher(pid_t launcher)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != launcher)
        _exit(1);
}

/* Child: exec `self worker CONFIG --rank r --world n [--set s]… [--resume]`
 * with its error line going to report_fd (when >= 0). */
static void exec_worker(const lsgd_launch *l, int rank, int world, const char *run_id,
                        int report_fd, const sigset_t *old_mask, pid_t launcher)
{
    die_with_launcher(launcher);
    char rank_s[16], world_s[16];
    snprintf(rank_s, sizeof rank_s, "%d", rank);
    snprintf(world_s, sizeof world_s, "%d", world);
    size_t n = 0, cap = 9 + 2 * l->n_sets;
    const char **argv = calloc(cap, sizeof *argv);
    if (!argv)
        _exit(127);
    argv[n++] = l->self_exe;
    argv[n++] = "worker";
    argv[n++] = l->config_path;
    argv[n++] = "--rank";
    argv[n++] = rank_s;
    argv[n++] = "--world";
    argv[n++] = world_s;
    for (size_t i = 0; i < l->n_sets; i++) {
        argv[n++] = "--set";
        argv[n++] = l->sets[i];
    }
    if (l->resume)
        argv[n++] = "--resume";
    argv[n] = NULL;
    setenv("LSGD_RUN_ID", run_id, 1);
    char fd_s[16];
    snprintf(fd_s, sizeof fd_s, "%d", report_fd);
    if (report_fd >= 0 && fcntl(report_fd, F_SETFD, 0) == 0)
        setenv("LSGD_REPORT_FD", fd_s, 1);
    else
        unsetenv("LSGD_REPORT_FD");
    unsetenv("LSGD_RANK");
    unsetenv("LSGD_WORLD");
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    execv(l->self_exe, (char *const *)argv);
    fprintf(stderr, "lsgd: cannot start worker %d (%s): %s\n", rank, l->self_exe,
            strerror(errno));
    _exit(127);
}

static void signal_all(worker_proc *w, int world, int sig)
{
    for (int r = 0; r < world; r++)
        if (w[r].pid > 0)
            kill(w[r].pid, sig);
}

/* Reap what has ended; returns the rank of the first failure seen here
 * (a killed worker before one that exited non-zero), or -1. */
static int reap(worker_proc *w, int world, int *alive)
{
    int failed = -1, failed_by_signal = 0;
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int r = 0; r < world; r++) {
            if (w[r].pid != pid)
                continue;
            w[r].pid = 0;
            w[r].status = status;
            (*alive)--;
            read_report(&w[r]);
            int bad = !succeeded(&w[r]);
            if (bad && (failed < 0 || (WIFSIGNALED(status) && !failed_by_signal))) {
                failed = r;
                failed_by_signal = WIFSIGNALED(status);
            }
        }
    }
    return failed;
}

/* The manifest of the config's transport, from a registry the caller frees. */
static int transport_manifest(const lsgd_manifest **out, lsgd_registry *reg, const json_t *cfg,
                              lsgd_error *err)
{
    const char *name = json_string_value(json_object_get(json_object_get(cfg, "transport"),
                                                         "plugin"));
    int rc = lsgd_registry_discover(reg, cfg, err);
    if (rc)
        return rc;
    rc = lsgd_registry_resolve(out, reg, LSGD_KIND_TRANSPORT, name ? name : "shm",
                               "transport.plugin", err);
    if (rc)
        lsgd_registry_free(reg);
    return rc;
}

/* Run the transport's cleanup extension for run_id (best effort). */
static void clean_transport(const json_t *cfg, const char *run_id)
{
    lsgd_registry reg;
    lsgd_error err;
    const lsgd_manifest *manifest;
    if (transport_manifest(&manifest, &reg, cfg, &err) != LSGD_OK)
        return;
    lsgd_loaded loaded;
    static const char *const provides[] = {NULL};
    if (lsgd_plugin_load(&loaded, manifest, provides, &err) == LSGD_OK) {
        const lsgd_plugin *p = loaded.plugin;
        if (LSGD_HAS_OP(p, lsgd_plugin, get_extension)) {
            lsgd_transport_cleanup_fn cleanup =
                (lsgd_transport_cleanup_fn)p->get_extension(LSGD_EXT_TRANSPORT_CLEANUP);
            if (cleanup)
                cleanup(run_id);
        }
        lsgd_plugin_unload(&loaded);
    }
    lsgd_registry_free(&reg);
}

/* A transport whose manifest names the launchers of its workers
 * ("started_by": ["mpirun", "srun"]) is not started from here: refuse
 * naming them, the manifest, and the command to run instead. */
static int refuse_started_elsewhere(const lsgd_launch *launch, const json_t *cfg, int world,
                                    lsgd_error *err)
{
    lsgd_registry reg;
    const lsgd_manifest *m;
    int rc = transport_manifest(&m, &reg, cfg, err);
    if (rc)
        return rc;
    size_t n = json_array_size(m->started_by);
    if (n > 0) {
        char by[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof by; i++)
            used += (size_t)snprintf(by + used, sizeof by - used, "%s%s",
                                     i == 0 ? "" : i + 1 == n ? " or " : ", ",
                                     json_string_value(json_array_get(m->started_by, i)));
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "transport.plugin: '%s' workers are started by %s (\"started_by\" "
                            "in %s), not by lsgd run: run `%s -n %d lsgd run %s`",
                            m->name, by, m->path,
                            json_string_value(json_array_get(m->started_by, 0)), world,
                            launch->config_path);
    }
    lsgd_registry_free(&reg);
    return rc;
}

static int describe_failure(const worker_proc *w, int rank, int world, lsgd_error *err)
{
    int status = w[rank].status;
    char during[LSGD_ERROR_MAX + 16] = "";
    if (w[rank].loading[0])
        snprintf(during, sizeof during, " while loading %.*s", LSGD_ERROR_MAX - 1,
                 w[rank].loading);
    if (WIFSIGNALED(status))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "worker rank %d of %d was killed by signal %d (%s)%s; the other "
                              "workers were stopped",
                              rank, world, WTERMSIG(status), strsignal(WTERMSIG(status)), during);
    int code = WEXITSTATUS(status);
    if (w[rank].line[0]) /* the worker said why */
        return lsgd_error_set(err, code == LSGD_ERR_INPUT ? LSGD_ERR_INPUT : LSGD_ERR_RUNTIME,
                              "%s", w[rank].line);
    if (code == 0)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "worker rank %d of %d exited with status 0 before finishing its "
                              "run%s (a plugin must never exit the process); the other workers "
                              "were stopped",
                              rank, world, during);
    return lsgd_error_set(err, code == LSGD_ERR_INPUT ? LSGD_ERR_INPUT : LSGD_ERR_RUNTIME,
                          "worker rank %d of %d exited with status %d%s; the other workers "
                          "were stopped",
                          rank, world, code, during);
}

/* Wait for every worker: forward SIGINT/SIGTERM, and at the first failure
 * stop the rest (SIGTERM, then SIGKILL after a grace).  Returns the
 * failing rank, or -1; *interrupted is the signal forwarded, if any. */
static int supervise(worker_proc *w, int world, int *interrupted)
{
    sigset_t wait_set;
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGCHLD);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGTERM);
    int alive = world, failed = -1;
    double stop_at = 0;
    while (alive > 0) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        siginfo_t info;
        int sig = sigtimedwait(&wait_set, &info, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            *interrupted = sig;
            signal_all(w, world, sig);
            if (stop_at == 0)
                stop_at = now_s();
        }
        int f = reap(w, world, &alive);
        if (f >= 0 && failed < 0) {
            failed = f;
            signal_all(w, world, SIGTERM);
            stop_at = now_s();
        }
        if (stop_at > 0 && now_s() - stop_at > STOP_GRACE_S)
            signal_all(w, world, SIGKILL);
    }
    return failed;
}

int lsgd_launch_run(const lsgd_launch *launch, const json_t *cfg, lsgd_error *err)
{
    json_t *workers_json = json_object_get(cfg, "workers");
    int world = json_is_integer(workers_json) ? (int)json_integer_value(workers_json) : 1;
    if (world < 1 || world > 4096)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "workers: %d is not in 1..4096", world);
    int refused = refuse_started_elsewhere(launch, cfg, world, err);
    if (refused)
        return refused;
    char run_id[80];
    make_run_id(run_id, sizeof run_id, cfg);

    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    worker_proc *w = calloc((size_t)world, sizeof *w);
    if (!w) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "launcher: out of memory");
    }
    for (int r = 0; r < world; r++)
        w[r].report = -1;
    pid_t launcher = getpid();
    int started = 0;
    for (; started < world; started++) {
        int pipe_fds[2];
        if (pipe2(pipe_fds, O_CLOEXEC) != 0)
            pipe_fds[0] = pipe_fds[1] = -1;
        else /* a descendant holding the write end must not block the read */
            fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
        w[started].report = pipe_fds[0];
        w[started].reports = pipe_fds[0] >= 0;
        w[started].pid = fork();
        if (w[started].pid == 0)
            exec_worker(launch, started, world, run_id, pipe_fds[1], &old_mask, launcher);
        if (pipe_fds[1] >= 0)
            close(pipe_fds[1]);
        if (w[started].pid < 0)
            break;
    }
    int interrupted = 0, failed;
    if (started < world) {
        int e = errno;
        signal_all(w, started, SIGTERM);
        supervise(w, started, &interrupted);
        failed = -2;
        lsgd_error_set(err, LSGD_ERR_RUNTIME, "launcher: cannot start worker %d of %d: %s",
                       started, world, strerror(e));
    } else {
        failed = supervise(w, world, &interrupted);
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);

    int rc = LSGD_OK;
    if (failed >= 0 && !interrupted)
        rc = describe_failure(w, failed, world, err);
    else if (interrupted && w[0].line[0]) /* rank 0 names the round and the checkpoint */
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s", w[0].line);
    else if (interrupted)
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME,
                            "interrupted by signal %d (%s); the workers were stopped",
                            interrupted, strsignal(interrupted));
    else if (failed == -2)
        rc = LSGD_ERR_RUNTIME;
    if (rc)
        clean_transport(cfg, run_id);
    free(w);
    return rc;
}
