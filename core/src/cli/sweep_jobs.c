/*
 * sweep_jobs.c — the runs of a sweep as child processes, a few at a time.
 *
 * Each run is `lsgd run BASE --set …` (this very binary, /proc/self/exe)
 * in a process group of its own, its stdout and stderr appended to
 * <dir>/sweep.log.  What a run's directory holds decides how it starts: a
 * finished run (model.json) is skipped, a run with checkpoints is resumed
 * (--resume), a run stopped before its first checkpoint starts again
 * (--force), an empty directory starts fresh.  SIGINT and SIGTERM are
 * taken here, not by the children's groups: each running group gets
 * SIGINT (its `lsgd run` stops its workers, keeping their checkpoints)
 * and is waited for, and no more runs start.  One progress line on stderr
 * (redrawn in place on a terminal, else a line per change).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/sweep.h"
#include "io/run_dir.h"

/* How long stopped runs get to checkpoint and exit before they are killed. */
enum { STOP_GRACE_S = 30 };

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* --resume when the run has checkpoints, --force when it has other files
 * of a run (stopped before its first checkpoint), nothing when empty. */
static const char *start_mode(const char *dir)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/checkpoint/rank-0.ckpt", dir);
    if (stat(path, &st) == 0)
        return "--resume";
    const char *files[] = {"run.json", "metrics.csv", "metrics.jsonl", "checkpoint"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (stat(path, &st) == 0)
            return "--force";
    }
    return NULL;
}

/* In the child: own group, die with the sweep, output to the log, exec. */
static void exec_run(const sweep_plan *p, const sweep_run *r, const sigset_t *old_mask)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    char log[4200];
    snprintf(log, sizeof log, "%s/sweep.log", r->dir);
    mkdir(r->dir, 0777);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    int null = open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(null, 0) < 0)
        _exit(1);
    unsetenv("LSGD_STARTED"); /* the run's start-up counts from its own start */
    const char *mode = start_mode(r->dir);
    const char **argv = calloc(2 * r->n_sets + 5, sizeof *argv);
    if (!argv)
        _exit(1);
    size_t n = 0;
    argv[n++] = "lsgd";
    argv[n++] = "run";
    argv[n++] = p->base;
    for (size_t i = 0; i < r->n_sets; i++) {
        argv[n++] = "--set";
        argv[n++] = r->sets[i];
    }
    if (mode)
        argv[n++] = mode;
    dprintf(1, "lsgd sweep: starting %s%s%s\n", r->name, mode ? " " : "", mode ? mode : "");
    execv("/proc/self/exe", (char *const *)argv);
    dprintf(2, "lsgd sweep: cannot run /proc/self/exe: %s\n", strerror(errno));
    _exit(1);
}

static int start(const sweep_plan *p, sweep_run *r, const sigset_t *old_mask)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        exec_run(p, r, old_mask);
    setpgid(pid, pid); /* also here, so that a signal can reach the group at once */
    r->pid = pid;
    r->state = SWEEP_RUNNING;
    r->started = now_s();
    return 0;
}

/* The last line of <dir>/sweep.log starting "lsgd: " (the run's error). */
static void last_error(char *out, size_t cap, const char *dir)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/sweep.log", dir);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "lsgd: ", 6) == 0 && strncmp(line, "lsgd: note", 10) != 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, cap, "%s", line + 6);
        }
    if (f)
        fclose(f);
}

typedef struct progress {
    int tty, shown;
    size_t done, skipped, failed, running, total;
    double mean_s;
    char last[256];
} progress;

static void count(progress *g, const sweep_plan *p)
{
    g->done = g->skipped = g->failed = g->running = 0;
    double seconds = 0;
    size_t timed = 0;
    for (size_t i = 0; i < p->n_runs; i++) {
        const sweep_run *r = &p->runs[i];
        g->done += r->state == SWEEP_DONE || r->state == SWEEP_SKIPPED;
        g->skipped += r->state == SWEEP_SKIPPED;
        g->failed += r->state == SWEEP_FAILED;
        g->running += r->state == SWEEP_RUNNING;
        if (r->state == SWEEP_DONE) {
            seconds += r->seconds;
            timed++;
        }
    }
    g->total = p->n_runs;
    g->mean_s = timed ? seconds / (double)timed : 0;
}

static void show(progress *g, const sweep_plan *p, int jobs, int force)
{
    count(g, p);
    char eta[64] = "", line[256];
    size_t left = g->total - g->done - g->failed;
    if (g->mean_s > 0 && left && g->running) {
        double s = g->mean_s * (double)left / (jobs > 0 ? jobs : 1);
        snprintf(eta, sizeof eta, ", ETA %dm%02ds", (int)(s / 60), (int)s % 60);
    }
    int n = snprintf(line, sizeof line, "lsgd sweep: %zu/%zu runs done (%zu skipped), %zu "
                     "failed, %zu running", g->done, g->total, g->skipped, g->failed, g->running);
    int changed = strcmp(line, g->last) != 0; /* a new ETA alone is no news off a terminal */
    snprintf(g->last, sizeof g->last, "%s", line);
    snprintf(line + n, sizeof line - (size_t)n, "%s", eta);
    if (g->tty) {
        fprintf(stderr, "\r\033[K%s", line);
        g->shown = 1;
    } else if (force || changed) {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

/* A line of its own, above the progress line on a terminal. */
static void say(progress *g, const char *fmt, const char *a, const char *b, const char *c)
{
    if (g->tty && g->shown)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, fmt, a, b, c);
}

static void reaped(sweep_plan *p, progress *g, pid_t pid, int status, int interrupted)
{
    for (size_t i = 0; i < p->n_runs; i++) {
        sweep_run *r = &p->runs[i];
        if (r->state != SWEEP_RUNNING || r->pid != pid)
            continue;
        r->seconds = now_s() - r->started;
        r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r->status == 0 && lsgd_run_dir_finished(r->dir)) {
            r->state = SWEEP_DONE;
        } else if (interrupted) {
            r->state = SWEEP_STOPPED;
        } else {
            r->state = SWEEP_FAILED;
            char why[1024], status_text[32];
            last_error(why, sizeof why, r->dir);
            snprintf(status_text, sizeof status_text, "%d", r->status);
            say(g, "lsgd sweep: run %s failed (exit %s): ", r->name, status_text, "");
            fprintf(stderr, "%s; log: %s/sweep.log\n", why[0] ? why : "no message", r->dir);
        }
        return;
    }
}

static void stop_all(const sweep_plan *p, int sig)
{
    for (size_t i = 0; i < p->n_runs; i++)
        if (p->runs[i].state == SWEEP_RUNNING)
            kill(-p->runs[i].pid, sig);
}

int sweep_jobs_run(sweep_plan *p, int jobs)
{
    sigset_t mask, old_mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &old_mask);
    /* taken here by sigtimedwait; the runs get them as they would from a
     * terminal, even when this sweep was started with them ignored (a
     * background job of a script) */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    progress g = {.tty = isatty(2)};
    for (size_t i = 0; i < p->n_runs; i++)
        p->runs[i].state = lsgd_run_dir_finished(p->runs[i].dir) ? SWEEP_SKIPPED : SWEEP_PENDING;
    int interrupted = 0, killed = 0;
    double interrupted_at = 0;
    size_t next = 0;
    show(&g, p, jobs, 1);
    for (;;) {
        count(&g, p);
        while (!interrupted && g.running < (size_t)jobs && next < p->n_runs) {
            sweep_run *r = &p->runs[next++];
            if (r->state != SWEEP_PENDING)
                continue;
            if (start(p, r, &old_mask) == 0) {
                g.running++;
            } else {
                r->state = SWEEP_FAILED;
                say(&g, "lsgd sweep: cannot start run %s: %s%s\n", r->name, strerror(errno), "");
            }
        }
        show(&g, p, jobs, 0);
        count(&g, p);
        if (g.running == 0 && (interrupted || next >= p->n_runs))
            break;
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(&mask, NULL, &tick);
        if ((sig == SIGINT || sig == SIGTERM) && !interrupted) {
            say(&g, "lsgd sweep: %s: stopping %s%s running runs; run the sweep again to resume\n",
                sig == SIGINT ? "interrupted" : "terminated", "the", "");
            interrupted = 1;
            interrupted_at = now_s();
            stop_all(p, SIGINT);
        } else if (!killed && interrupted &&
                   (sig == SIGINT || sig == SIGTERM || now_s() - interrupted_at > STOP_GRACE_S)) {
            /* a second Ctrl-C, or runs that do not stop: their last
             * checkpoints are kept all the same */
            say(&g, "lsgd sweep: killing the runs still running%s%s%s\n", "", "", "");
            killed = 1;
            stop_all(p, SIGKILL);
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            reaped(p, &g, pid, status, interrupted);
    }
    for (size_t i = 0; i < p->n_runs; i++)
        if (interrupted && p->runs[i].state == SWEEP_PENDING)
            p->runs[i].state = SWEEP_STOPPED;
    show(&g, p, jobs, 0);
    if (g.tty)
        fputc('\n', stderr);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return interrupted;
}
