/*
 * run_dir.c — claim an output directory for one run: make it, lock it,
 * and check what it holds against new / --resume / --force (run_dir.h).
 */
#include "io/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"

/* The files a run writes at the top of its directory (checkpoint/ aside). */
static const char *const RUN_FILES[] = {"run.json",    "shards.json", "metrics.csv",
                                        "metrics.jsonl", "model.npy", "model.json"};
#define N_RUN_FILES (sizeof RUN_FILES / sizeof *RUN_FILES)

static int is_regular(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int lsgd_run_dir_make(const char *dir, lsgd_error *err)
{
    if (lsgd_mkdirs(dir, err)) {
        err->code = LSGD_ERR_INPUT;
        return lsgd_error_prefix(err, "output.dir: ");
    }
    if (access(dir, W_OK | X_OK) != 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "output.dir: cannot write into %s: %s; expected a directory "
                              "this user can write", dir, strerror(errno));
    return LSGD_OK;
}

/* A checkpoint file of a run (rank-*.ckpt) or a temp file left by one. */
static int is_checkpoint_file(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "rank-", 5) == 0 &&
           ((n > 5 && strcmp(name + n - 5, ".ckpt") == 0) || strstr(name, ".ckpt.tmp.") != NULL);
}

/* Call fn(dir/checkpoint/name) for each checkpoint file; returns how many. */
static int each_checkpoint(const char *dir, void (*fn)(const char *path))
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/checkpoint", dir);
    DIR *d = opendir(sub);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_checkpoint_file(e->d_name))
            continue;
        count++;
        if (fn) {
            char path[4500];
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            fn(path);
        }
    }
    closedir(d);
    return count;
}

/* What of a run dir holds, as "run.json, metrics.csv, checkpoint/"; 0 when none. */
static int run_files_in(const char *dir, char *list, size_t cap)
{
    int count = 0;
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i <= N_RUN_FILES; i++) {
        char path[4200];
        const char *name = i < N_RUN_FILES ? RUN_FILES[i] : "checkpoint/";
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int there = i < N_RUN_FILES ? access(path, F_OK) == 0 : each_checkpoint(dir, NULL) > 0;
        if (!there)
            continue;
        if (count == 3) /* three name the run well enough */
            name = "…";
        int n = count > 3 ? 0 : snprintf(list + used, cap - used, "%s%s", count ? ", " : "", name);
        if (n > 0 && (size_t)n < cap - used)
            used += (size_t)n;
        count++;
    }
    return count;
}

static void remove_file(const char *path)
{
    unlink(path);
}

/* --force: the previous run's own files go; anything else stays. */
static int remove_run(const char *dir, lsgd_error *err)
{
    for (size_t i = 0; i < N_RUN_FILES; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, RUN_FILES[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "output.dir: --force cannot remove %s: %s", path,
                                  strerror(errno));
    }
    each_checkpoint(dir, remove_file);
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/checkpoint", dir);
    rmdir(sub); /* kept when it holds anything else */
    if (each_checkpoint(dir, NULL) > 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "output.dir: --force cannot remove the checkpoints in %s", sub);
    return LSGD_OK;
}

/* The pid written in an open lock file, or -1. */
static long holder_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    char *end;
    long pid = strtol(text, &end, 10);
    return end != text && pid > 0 ? pid : -1;
}

static void lock_path(char *out, size_t cap, const char *dir)
{
    snprintf(out, cap, "%s/.lock", dir);
}

static int lock(lsgd_run_dir *d, int inherit, lsgd_error *err)
{
    char path[4200];
    lock_path(path, sizeof path, d->path);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | (inherit ? 0 : O_CLOEXEC), 0666);
    if (fd < 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "output.dir: cannot write %s: %s", path,
                              strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        long pid = holder_pid(fd);
        close(fd);
        char who[48] = "pid unknown";
        if (pid > 0)
            snprintf(who, sizeof who, "pid %ld", pid);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "output.dir: %s is in use by another lsgd run (%s); wait for it "
                              "to end or choose another output.dir", d->path, who);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "output.dir: cannot write %s: %s", path,
                              strerror(e));
    }
    d->lock_fd = fd;
    return LSGD_OK;
}

int lsgd_run_dir_finished(const char *dir)
{
    char model[4200];
    snprintf(model, sizeof model, "%s/model.json", dir);
    return is_regular(model);
}

int lsgd_run_dir_claim(lsgd_run_dir *d, const char *dir, int mode, int inherit,
                       lsgd_error *err)
{
    d->lock_fd = -1;
    d->finished = 0;
    snprintf(d->path, sizeof d->path, "%s", dir);
    if (lsgd_run_dir_make(dir, err) || lock(d, inherit, err))
        return err->code;
    char held[256];
    int rc = LSGD_OK;
    if (mode == LSGD_RUN_DIR_RESUME) {
        d->finished = lsgd_run_dir_finished(dir);
    } else if (run_files_in(dir, held, sizeof held) == 0) {
        rc = LSGD_OK;
    } else if (mode == LSGD_RUN_DIR_FORCE) {
        rc = remove_run(dir, err);
    } else {
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "output.dir: %s holds another run (%s); continue it with --resume, "
                            "choose another directory (--set output.dir=…), or replace it "
                            "with --force", dir, held);
    }
    if (rc)
        lsgd_run_dir_release(d);
    return rc;
}

int lsgd_run_dir_locked_by(const char *dir, long pid)
{
    char path[4200];
    lock_path(path, sizeof path, dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int locked = flock(fd, LOCK_SH | LOCK_NB) != 0;
    int ours = locked && holder_pid(fd) == pid;
    close(fd); /* also drops the shared lock when we got it */
    return ours;
}

void lsgd_run_dir_release(lsgd_run_dir *d)
{
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    d->lock_fd = -1;
}
