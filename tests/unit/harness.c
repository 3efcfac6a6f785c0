/*
 * harness.c — helpers for tests that drive the real binary, plugins and
 * files: paths into the build, temporary directories, running a command
 * with a time limit and capturing its output.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *ring_next(void)
{
    static char ring[16][PATH_MAX];
    static unsigned next;
    return ring[next++ % 16];
}

const char *test_build_dir(void)
{
    const char *b = getenv("LSGD_BUILD");
    return b && *b ? b : "build";
}

const char *test_root_dir(void)
{
    const char *r = getenv("LSGD_ROOT");
    return r && *r ? r : ".";
}

const char *test_build_path(const char *relative)
{
    char *p = ring_next();
    snprintf(p, PATH_MAX, "%s/%s", test_build_dir(), relative);
    return p;
}

const char *test_root_path(const char *relative)
{
    char *p = ring_next();
    snprintf(p, PATH_MAX, "%s/%s", test_root_dir(), relative);
    return p;
}

static char tmp_root[256];

static void remove_tmp_root(void)
{
    if (tmp_root[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
        if (system(cmd) != 0)
            fprintf(stderr, "unit_tests: could not remove %s\n", tmp_root);
    }
}

const char *test_tmpdir(void)
{
    static unsigned counter;
    if (!tmp_root[0]) {
        snprintf(tmp_root, sizeof tmp_root, "/tmp/lsgd-test-XXXXXX");
        if (!mkdtemp(tmp_root)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_tmp_root);
    }
    char *p = ring_next();
    snprintf(p, PATH_MAX, "%s/t%u", tmp_root, counter++);
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        perror("mkdir");
        abort();
    }
    return p;
}

const char *test_write_file(const char *dir, const char *name, const char *text)
{
    char *p = ring_next();
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return p;
}

typedef struct sink {
    int fd;
    char *buf;
    size_t len, cap;
} sink;

static void sink_read(sink *s)
{
    char chunk[65536];
    ssize_t n = read(s->fd, chunk, sizeof chunk);
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    if (s->len + (size_t)n + 1 > s->cap) {
        s->cap = (s->len + (size_t)n + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, chunk, (size_t)n);
    s->len += (size_t)n;
    s->buf[s->len] = '\0';
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

test_output test_run(const char *command, int timeout_s)
{
    test_output o = {.status = -1};
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) || pipe(err_pipe)) {
        perror("pipe");
        abort();
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close(out_pipe[0]);
        close(err_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[1]);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(out_pipe[1]);
    close(err_pipe[1]);
    sink s[2] = {{.fd = out_pipe[0]}, {.fd = err_pipe[0]}};
    double deadline = now_s() + timeout_s;
    int killed = 0;
    while (s[0].fd >= 0 || s[1].fd >= 0) {
        struct pollfd p[2] = {{.fd = s[0].fd, .events = POLLIN}, {.fd = s[1].fd, .events = POLLIN}};
        double left = deadline - now_s();
        if (left <= 0) {
            kill(-pid, SIGKILL);
            killed = 1;
            break;
        }
        int r = poll(p, 2, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                sink_read(&s[i]);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    for (int i = 0; i < 2; i++)
        if (s[i].fd >= 0)
            close(s[i].fd);
    if (killed)
        fprintf(stderr, "\ntest_run: '%s' killed after %d s\n", command, timeout_s);
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = s[0].buf ? s[0].buf : strdup("");
    o.err = s[1].buf ? s[1].buf : strdup("");
    return o;
}

void test_output_free(test_output *o)
{
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

int test_fetch_data(const char *set)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s/tools/fetch-data' %s", test_root_dir(), set);
    test_output o = test_run(cmd, 600);
    int status = o.status;
    if (status)
        fprintf(stderr, "\n  tools/fetch-data %s failed (%d): %s\n", set, status, o.err);
    test_output_free(&o);
    return status;
}

int test_fetch_mnist(void)
{
    return test_fetch_data("mnist");
}

char *test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (buf)
        buf[got] = '\0';
    if (size)
        *size = got;
    return buf;
}

int test_same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

int test_count_lines(const char *text)
{
    int lines = 0;
    for (const char *p = text; *p; p++)
        if (*p == '\n')
            lines++;
    if (*text && text[strlen(text) - 1] != '\n')
        lines++;
    return lines;
}

/* ---- a command that must fail ---- */

static void expect_failure(const char *command, int status, int lines, va_list needles)
{
    test_output o = test_run(command, 30);
    int ok = o.status == status && test_count_lines(o.err) == lines;
    for (const char *needle; (needle = va_arg(needles, const char *));) {
        if (!strstr(o.err, needle)) {
            fprintf(stderr, "\n  missing '%s'", needle);
            ok = 0;
        }
    }
    if (!ok)
        fprintf(stderr, "\n  command: %s\n  status %d, %d lines (expected %d, %d), stderr:\n%s"
                        "  stdout:\n%s",
                command, o.status, test_count_lines(o.err), status, lines, o.err, o.out);
    CU_ASSERT_EQUAL(o.status, status);
    CU_ASSERT_EQUAL(test_count_lines(o.err), lines);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "lsgd: "));
    test_output_free(&o);
}

void expect_input_error(const char *command, ...)
{
    va_list needles;
    va_start(needles, command);
    expect_failure(command, 2, 1, needles);
    va_end(needles);
}

void expect_input_errors(const char *command, int lines, ...)
{
    va_list needles;
    va_start(needles, lines);
    expect_failure(command, 2, lines, needles);
    va_end(needles);
}

void expect_runtime_error(const char *command, ...)
{
    va_list needles;
    va_start(needles, command);
    expect_failure(command, 1, 1, needles);
    va_end(needles);
}
