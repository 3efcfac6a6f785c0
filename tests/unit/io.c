/* io.c — output files: .npy readable by NumPy, checkpoints whole or refused,
 * metrics with the documented columns; the progress display on a terminal
 * (a real pseudo-terminal) and off one; `lsgd plot` over several runs. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "io/checkpoint.h"
#include "io/metrics.h"
#include "io/npy.h"
#include "util/limits.h"

LSGD_TEST(io, npy_file_loads_in_numpy_with_its_shape_and_values)
{
    const char *dir = test_tmpdir();
    char path[512], cmd[1024];
    snprintf(path, sizeof path, "%s/m.npy", dir);
    float data[6] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, -7.0f};
    size_t shape[2] = {2, 3};
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_npy_write(path, data, shape, 2, &err), 0);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np; a = np.load('%s'); "
             "assert a.dtype == np.float32, a.dtype; assert a.shape == (2, 3), a.shape; "
             "print(repr(a.ravel().tolist()))\"", path);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "%s\n%s\n", o.out, o.err);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "[1.5, -2.0, 3.25, 0.0, 9.99999993922529e-09, -7.0]"));
    test_output_free(&o);
    float *back;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(lsgd_npy_read(path, &back, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 6);
    CU_ASSERT_EQUAL(memcmp(back, data, sizeof data), 0);
    free(back);
    /* the header is padded to a multiple of 64 bytes, as NumPy writes it */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    CU_ASSERT_EQUAL((ftell(f) - (long)sizeof data) % 64, 0);
    fclose(f);
}

LSGD_TEST(io, checkpoint_records_round_trip_and_a_damaged_file_is_refused)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    lsgd_ckpt_writer w;
    lsgd_error err;
    float x[4] = {1, 2, 3, 4};
    uint64_t round = 17;
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_begin(&w, path, &err), 0);
    lsgd_ckpt_put(&w, "x", x, sizeof x);
    lsgd_ckpt_put(&w, "round", &round, sizeof round);
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_commit(&w, &err), 0);
    lsgd_ckpt c;
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_load(&c, path, &err), 0);
    float xb[4];
    uint64_t rb;
    CU_ASSERT_EQUAL(lsgd_ckpt_get(&c, "x", xb, sizeof xb, &err), 0);
    CU_ASSERT_EQUAL(memcmp(x, xb, sizeof x), 0);
    CU_ASSERT_EQUAL(lsgd_ckpt_get(&c, "round", &rb, sizeof rb, &err), 0);
    CU_ASSERT_EQUAL(rb, 17);
    CU_ASSERT_EQUAL(lsgd_ckpt_get(&c, "x", xb, 8, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "record 'x'"));
    CU_ASSERT_EQUAL(lsgd_ckpt_get(&c, "anchor", xb, 8, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "missing"));
    lsgd_ckpt_free(&c);

    /* flip one byte of the payload: the checksum catches it */
    FILE *f = fopen(path, "r+b");
    fseek(f, 30, SEEK_SET);
    int byte = fgetc(f);
    fseek(f, 30, SEEK_SET);
    fputc(byte ^ 0x10, f);
    fclose(f);
    CU_ASSERT_EQUAL(lsgd_ckpt_load(&c, path, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "checksum"));
}

LSGD_TEST(io, an_abandoned_checkpoint_leaves_the_previous_one_intact)
{
    const char *dir = test_tmpdir();
    char path[512], tmp[4200];
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    lsgd_ckpt_writer w;
    lsgd_error err;
    uint64_t one = 1, two = 2;
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_begin(&w, path, &err), 0);
    lsgd_ckpt_put(&w, "round", &one, sizeof one);
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_commit(&w, &err), 0);
    /* a second checkpoint interrupted half-way (as by Ctrl-C) */
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_begin(&w, path, &err), 0);
    lsgd_ckpt_put(&w, "round", &two, sizeof two);
    snprintf(tmp, sizeof tmp, "%s", w.file.tmp);
    CU_ASSERT_EQUAL(access(tmp, F_OK), 0);
    lsgd_ckpt_abort(&w);
    CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
    lsgd_ckpt c;
    uint64_t r = 0;
    CU_ASSERT_EQUAL_FATAL(lsgd_ckpt_load(&c, path, &err), 0);
    CU_ASSERT_EQUAL(lsgd_ckpt_get(&c, "round", &r, sizeof r, &err), 0);
    CU_ASSERT_EQUAL(r, 1);
    lsgd_ckpt_free(&c);
}

LSGD_TEST(io, metrics_files_have_the_documented_columns_and_nulls_for_unmeasured)
{
    const char *dir = test_tmpdir();
    lsgd_metrics m;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_metrics_open(&m, dir, 0, 0, 0, &err), 0);
    lsgd_metrics_row row;
    lsgd_metrics_row_clear(&row);
    row.round = 1;
    row.step = 8;
    row.wall_s = 0.5;
    row.train_loss = 2.25;
    CU_ASSERT_EQUAL(lsgd_metrics_write(&m, &row, &err), 0);
    row.round = 2;
    row.step = 16;
    row.test_accuracy = 0.875;
    CU_ASSERT_EQUAL(lsgd_metrics_write(&m, &row, &err), 0);
    lsgd_metrics_close(&m);

    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    char *csv = test_read_file(path, NULL);
    const char *header = "round,step,wall_s,lr,train_loss,test_loss,test_accuracy,objective,"
                         "grad_norm,drift,d_min,d_max,bytes_sent,compute_s,comm_s,"
                         "max_margin_cos,local_margin_cos\n";
    CU_ASSERT_EQUAL(strncmp(csv, header, strlen(header)), 0);
    CU_ASSERT_EQUAL(test_count_lines(csv), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\n1,8,0.5,,2.25,,,,,,,,,,,,\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\n2,16,0.5,,2.25,,0.875,,"));
    free(csv);

    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *jsonl = test_read_file(path, NULL);
    char *second = strchr(jsonl, '\n') + 1;
    json_error_t jerr;
    json_t *r2 = json_loads(second, JSON_DISABLE_EOF_CHECK, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r2, "round")), 2);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(r2, "test_accuracy")), 0.875, 0);
    CU_ASSERT(json_is_null(json_object_get(r2, "test_loss")));
    const char *cols[] = {"wall_s", "lr", "train_loss", "objective", "grad_norm", "drift",
                          "d_min", "d_max", "bytes_sent", "compute_s", "comm_s"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        CU_ASSERT_PTR_NOT_NULL(json_object_get(r2, cols[i]));
    json_decref(r2);
    free(jsonl);
}

LSGD_TEST(io, metrics_resume_cuts_the_files_back_to_the_checkpointed_rows)
{
    const char *dir = test_tmpdir();
    lsgd_metrics m;
    lsgd_error err;
    lsgd_metrics_row row;
    lsgd_metrics_row_clear(&row);
    long j = 0, c = 0;
    CU_ASSERT_EQUAL_FATAL(lsgd_metrics_open(&m, dir, 0, 0, 0, &err), 0);
    for (uint64_t r = 1; r <= 5; r++) {
        row.round = r;
        lsgd_metrics_write(&m, &row, &err);
        if (r == 3)
            lsgd_metrics_offsets(&m, &j, &c);
    }
    lsgd_metrics_close(&m);
    CU_ASSERT_EQUAL_FATAL(lsgd_metrics_open(&m, dir, 1, j, c, &err), 0);
    row.round = 4;
    lsgd_metrics_write(&m, &row, &err);
    lsgd_metrics_close(&m);
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    char *csv = test_read_file(path, NULL);
    CU_ASSERT_EQUAL(test_count_lines(csv), 5); /* header + rounds 1..4 */
    CU_ASSERT_PTR_NULL(strstr(csv, "\n5,"));
    free(csv);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *jsonl = test_read_file(path, NULL);
    CU_ASSERT_EQUAL(test_count_lines(jsonl), 4);
    free(jsonl);
}

LSGD_TEST(io, metrics_csv_reads_back_by_column_name_with_nan_where_not_measured)
{
    const char *dir = test_tmpdir();
    lsgd_metrics m;
    lsgd_error err;
    lsgd_metrics_row row;
    lsgd_metrics_row_clear(&row);
    CU_ASSERT_EQUAL_FATAL(lsgd_metrics_open(&m, dir, 0, 0, 0, &err), 0);
    for (uint64_t r = 1; r <= 3; r++) {
        row.round = r;
        row.train_loss = 1.0 / (double)r;
        row.test_accuracy = r == 3 ? 0.75 : NAN;
        CU_ASSERT_EQUAL(lsgd_metrics_write(&m, &row, &err), 0);
    }
    lsgd_metrics_close(&m);
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    lsgd_metrics_table t;
    CU_ASSERT_EQUAL_FATAL(lsgd_metrics_read(&t, path, &err), 0);
    CU_ASSERT_EQUAL(t.rows, 3);
    CU_ASSERT_EQUAL(t.columns, 17);
    int loss = lsgd_metrics_column(&t, "train_loss"), acc = lsgd_metrics_column(&t, "test_accuracy");
    CU_ASSERT_EQUAL(lsgd_metrics_column(&t, "round"), 0);
    CU_ASSERT_EQUAL(lsgd_metrics_column(&t, "no_such_column"), -1);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_metrics_value(&t, 1, loss), 0.5, 1e-12);
    CU_ASSERT(isnan(lsgd_metrics_value(&t, 0, acc)));
    CU_ASSERT_DOUBLE_EQUAL(lsgd_metrics_value(&t, 2, acc), 0.75, 1e-12);
    CU_ASSERT(isnan(lsgd_metrics_value(&t, 3, loss)));  /* past the last row */
    CU_ASSERT(isnan(lsgd_metrics_value(&t, 0, -1)));    /* an absent column */
    lsgd_metrics_table_free(&t);
    snprintf(path, sizeof path, "%s/none.csv", dir);
    CU_ASSERT_EQUAL(lsgd_metrics_read(&t, path, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "none.csv"));
}

/* `lsgd plot` draws a run's metrics into PNG files; a directory without
 * metrics.csv is one line and status 2. */
LSGD_TEST(io, lsgd_plot_draws_pngs_from_a_run_and_refuses_a_directory_without_metrics)
{
    const char *dir = test_tmpdir();
    char cmd[4096];
    const char *cfg = test_write_file(dir, "q.json",
                                      "{\"model\": {\"type\": \"quadratic\"}, \"workers\": 2,"
                                      " \"algorithm\": {\"steps\": 40, \"lr\": 0.0005},"
                                      " \"output\": {\"dir\": \"run\", \"progress\": \"none\"}}");
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run '%s' && '%s' plot run -o plots", dir,
             test_build_path("bin/lsgd"), cfg, test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 60);
    if (o.status)
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    const char *pngs[] = {"loss_rounds.png", "loss_time.png"};
    for (size_t i = 0; i < 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/plots/%s", dir, pngs[i]);
        size_t size = 0;
        char *png = test_read_file(path, &size);
        CU_ASSERT(png != NULL && size > 1000 && memcmp(png, "\x89PNG", 4) == 0);
        free(png);
    }
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' plot plots", dir, test_build_path("bin/lsgd"));
    o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "plots/metrics.csv"));
    test_output_free(&o);
}

/* Bad arguments to `lsgd plot` are one "lsgd: plot: …" line and status
 * 2, like every other command's; a 65th run directory is refused, not
 * dropped without a word. */
LSGD_TEST(io, lsgd_plot_refuses_bad_arguments_and_more_than_64_runs_in_one_line)
{
    static const char *const cases[][2] = {
        {"", "lsgd: plot: missing RUN_DIR; usage: lsgd plot RUN_DIR... [-o DIR]"},
        {"run -x", "lsgd: plot: unknown option '-x'; usage: lsgd plot"},
        {"run -o", "lsgd: plot: -o needs a value"},
    };
    char cmd[8192];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "'%s' plot %s", test_build_path("bin/lsgd"), cases[i][0]);
        test_output o = test_run(cmd, 30);
        CU_ASSERT_EQUAL(o.status, 2);
        CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
        if (!strstr(o.err, cases[i][1]))
            fprintf(stderr, "\n  plot %s: %s", cases[i][0], o.err);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, cases[i][1]));
        test_output_free(&o);
    }
    int n = snprintf(cmd, sizeof cmd, "cd '%s' && '%s' plot", test_tmpdir(),
                     test_build_path("bin/lsgd"));
    for (int i = 0; i < 65; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " run%d", i);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "lsgd: plot: more than 64 run directories"));
    test_output_free(&o);
}

/* A FIFO as metrics.csv once blocked `lsgd plot` for ever. */
LSGD_TEST(io, lsgd_plot_of_a_run_whose_metrics_csv_is_a_fifo_exits_2_at_once_naming_it)
{
    const char *dir = test_tmpdir();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && mkdir fifo_run && mkfifo fifo_run/metrics.csv && "
             "'%s' plot fifo_run -o plots", dir, test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "fifo_run/metrics.csv: cannot read metrics: it is a "
                                         "FIFO (named pipe); expected a regular file"));
    if (o.status != 2)
        fprintf(stderr, "\n  status %d: %s", o.status, o.err);
    test_output_free(&o);
}

LSGD_TEST(io, a_metrics_csv_of_more_rows_than_the_limit_is_refused_naming_the_limit)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("round,wall_s,train_loss\n", f);
    for (unsigned long long r = 0; r <= LSGD_MAX_METRICS_ROWS; r++)
        fputs("1\n", f);
    fclose(f);
    lsgd_metrics_table t;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_metrics_read(&t, path, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "metrics.csv: more than 8388608 rows"));
}

/* A .npy whose header asks for more values than follow it (4·10^12 floats,
 * 16 bytes), or a directory in its place, is refused before anything is
 * allocated or read. */
LSGD_TEST(io, a_npy_file_whose_shape_outgrows_its_bytes_or_a_directory_is_refused)
{
    float *back = NULL;
    size_t n;
    lsgd_error err;
    const char *path = test_root_path("tests/data/npy/shape_beyond_bytes.npy");
    CU_ASSERT_EQUAL(lsgd_npy_read(path, &back, &n, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(back);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "the header's shape asks for more float32 values "
                                               "than the 16 bytes after it hold"));
    CU_ASSERT_EQUAL(lsgd_npy_read(test_tmpdir(), &back, &n, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "cannot read .npy file: it is a directory"));
}

/* ---- the progress display: a bar on a terminal, plain lines off one ---- */

/* Logistic regression on blobs with a test split, one worker over shm:
 * 30 rounds of 10 steps, evaluated every round, well under a second.
 * Filled in with the scaling plugin, the run directory and output.progress. */
#define LOGREG_RUN                                                                              \
    "{\"seed\": 5, \"workers\": 1, \"model\": {\"type\": \"logreg\"},"                          \
    " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","              \
    "                        \"n\": 300, \"d\": 8, \"noise\": 2.0},"                             \
    "            \"test\": {\"split\": 0.2}},"                                                 \
    " \"algorithm\": {\"type\": \"local_sgd\", \"steps\": 300, \"batch_size\": 8, \"lr\": 0.05}," \
    " \"schedule\": {\"type\": \"constant\", \"period\": 10},"                                \
    " \"scaling\": {\"plugin\": \"%s\"}, \"transport\": {\"plugin\": \"shm\"},"                 \
    " \"output\": {\"dir\": \"%s\", \"progress\": \"%s\", \"eval_every\": 1}}"

static const char *write_logreg_run(const char *dir, const char *scaling, const char *run_dir,
                                    const char *progress)
{
    char text[2048], name[300];
    snprintf(text, sizeof text, LOGREG_RUN, scaling, run_dir, progress);
    snprintf(name, sizeof name, "%s.json", run_dir);
    return test_write_file(dir, name, text);
}

/* `sh -c command` in dir with stdin, stdout and stderr on the slave side of
 * a new pseudo-terminal in raw mode (so every \r read back was written by
 * the program, none added by the line discipline), `columns` wide (0: the
 * terminal's default, which says no width).  Returns what the
 * terminal received (malloc'd) and the exit status in *status (128+signal
 * when killed at the time limit). */
static char *run_on_terminal(const char *dir, const char *command, int columns, int timeout_s,
                             int *status)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CU_ASSERT_FATAL(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    /* opened here, before fork, so a slave is open from the start: reading
     * the master only ends (EIO) once the program and its workers close it */
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    CU_ASSERT_FATAL(slave >= 0);
    struct termios raw;
    CU_ASSERT_FATAL(tcgetattr(slave, &raw) == 0);
    cfmakeraw(&raw);
    CU_ASSERT_FATAL(tcsetattr(slave, TCSANOW, &raw) == 0);
    struct winsize size = {.ws_row = 24, .ws_col = (unsigned short)columns};
    CU_ASSERT_FATAL(columns == 0 || ioctl(slave, TIOCSWINSZ, &size) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        close(slave);
        close(master);
        if (chdir(dir) == 0)
            execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    close(slave);
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int timed_out = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = timeout_s * 1000L - (now.tv_sec - start.tv_sec) * 1000L -
                       (now.tv_nsec - start.tv_nsec) / 1000000L;
        struct pollfd pfd = {.fd = master, .events = POLLIN};
        if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) == 0) {
            timed_out = 1;
            break;
        }
        if (len + 4096 + 1 > cap)
            text = realloc(text, cap *= 2);
        ssize_t got = read(master, text + len, 4096);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break; /* EIO: every holder of the slave has closed it */
        len += (size_t)got;
    }
    text[len] = '\0';
    if (timed_out)
        kill(-pid, SIGKILL);
    int ws = 0;
    waitpid(pid, &ws, 0);
    close(master);
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    if (timed_out)
        *status = 128 + SIGKILL;
    return text;
}

/* The last round's training loss and test accuracy as the progress display
 * prints them ("%.4g", "%.2f%%"), read from the run's metrics.csv. */
static void last_round_as_shown(const char *run_dir, char *loss, char *acc, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    lsgd_metrics_table t;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_metrics_read(&t, path, &err), 0);
    CU_ASSERT_EQUAL_FATAL(t.rows, 30);
    snprintf(loss, n, "loss %.4g", lsgd_metrics_value(&t, 29, lsgd_metrics_column(&t, "train_loss")));
    snprintf(acc, n, "acc %.2f%%",
             100.0 * lsgd_metrics_value(&t, 29, lsgd_metrics_column(&t, "test_accuracy")));
    lsgd_metrics_table_free(&t);
}

LSGD_TEST(io, progress_auto_on_a_terminal_redraws_one_bar_with_round_loss_accuracy_and_eta)
{
    const char *dir = test_tmpdir();
    const char *cfg = write_logreg_run(dir, "sgd", "run", "auto");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec '%s' run '%s'", test_build_path("bin/lsgd"), cfg);
    int status;
    char *tty = run_on_terminal(dir, cmd, 0, 30, &status);
    if (status)
        fprintf(stderr, "\n%s\n", tty);
    CU_ASSERT_EQUAL_FATAL(status, 0);
    /* the first round draws an empty 24-cell bar at the start of the line */
    const char *first = strstr(tty, "\r[........................] round 1/30  loss ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    /* every draw returns the carriage, and there are at least two of them
     * (round 1 and round 30) with nothing between them but the bar */
    int redraws = 0;
    for (const char *c = first; (c = strstr(c, "\r[")) != NULL; c++)
        redraws++;
    CU_ASSERT(redraws >= 2);
    const char *last = strrchr(tty, '\r');
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    for (const char *c = first; c < last; c++)
        CU_ASSERT_NOT_EQUAL_FATAL(*c, '\n');
    /* the last draw: a full bar, round 30/30 with the loss and accuracy of
     * metrics.csv's last row, ETA 00:00, cleared to the end of line, then
     * one newline and the run summary (a terminal that gives no width is
     * taken as 80 columns: no room for the test loss) */
    char loss[64], acc[64], want[256];
    char run_dir[4200];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    last_round_as_shown(run_dir, loss, acc, sizeof loss);
    snprintf(want, sizeof want, "\r[########################] round 30/30  %s  %s  eta 00:00\033[K"
             "\nlsgd: 30 rounds", loss, acc);
    CU_ASSERT_EQUAL(strncmp(last, want, strlen(want)), 0);
    if (strncmp(last, want, strlen(want)) != 0)
        fprintf(stderr, "\nterminal got: %s\n", tty);
    /* each intermediate draw has an ETA in minutes:seconds */
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "  eta "));
    CU_ASSERT(strstr(first, "  eta ") < last);
    /* no plain progress lines on a terminal */
    CU_ASSERT_PTR_NULL(strstr(tty, "round 1/30  step"));
    free(tty);
}

/* The longest line a terminal shows of text: characters between \r or \n,
 * escape sequences (ESC [ … letter) not counted. */
static int widest_line(const char *text)
{
    int widest = 0, width = 0;
    for (const char *c = text; *c; c++) {
        if (*c == '\r' || *c == '\n') {
            width = 0;
        } else if (*c == '\033' && c[1] == '[') {
            for (c += 2; *c && !(*c >= '@' && *c <= '~'); c++)
                ;
            if (!*c)
                break;
        } else if (((unsigned char)*c & 0xC0) != 0x80 && ++width > widest) { /* UTF-8 starts */
            widest = width;
        }
    }
    return widest;
}

/* Draws of the bar ("\r[" … up to the next \r or \n) for rounds of 30
 * that are not evaluated (eval_every 5) after the first evaluation: how
 * many, and how many of them show the accuracy. */
static void draws_between_evaluations(const char *tty, int *draws, int *with_accuracy)
{
    *draws = *with_accuracy = 0;
    for (const char *c = strstr(tty, "\r"); c; c = strstr(c + 1, "\r")) {
        const char *round = strstr(c, "round ");
        size_t len = strcspn(c + 1, "\r\n");
        unsigned r;
        if (!round || round > c + 1 + len || sscanf(round, "round %u/30", &r) != 1 || r < 6 ||
            r % 5 == 0)
            continue;
        (*draws)++;
        const char *acc = strstr(c, "acc ");
        *with_accuracy += acc && acc < c + 1 + len;
    }
}

LSGD_TEST(io, bar_and_header_fit_80_and_60_column_terminals_and_keep_the_last_accuracy)
{
    const int widths[] = {80, 60};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        const char *dir = test_tmpdir();
        char *cfg = test_read_file(test_root_path("tests/data/io/slow-rounds.json"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        test_write_file(dir, "cfg.json", cfg);
        free(cfg);
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "exec '%s' run cfg.json", test_build_path("bin/lsgd"));
        int status;
        char *tty = run_on_terminal(dir, cmd, widths[w], 60, &status);
        if (status)
            fprintf(stderr, "\n%s\n", tty);
        CU_ASSERT_EQUAL_FATAL(status, 0);
        int widest = widest_line(tty), draws, with_accuracy;
        if (widest > widths[w])
            fprintf(stderr, "\n  %d columns: a line of %d:\n%s\n", widths[w], widest, tty);
        CU_ASSERT(widest <= widths[w]);
        CU_ASSERT_PTR_NOT_NULL(strstr(tty, "lsgd: cfg.json -> run"));
        CU_ASSERT_PTR_NOT_NULL(strstr(tty, "\r["));
        draws_between_evaluations(tty, &draws, &with_accuracy);
        CU_ASSERT(draws >= 5); /* each round takes 0.12 s; the bar redraws every 0.1 s */
        CU_ASSERT_EQUAL(with_accuracy, draws);
        free(tty);
    }
}

LSGD_TEST(io, progress_auto_off_a_terminal_prints_plain_lines_without_carriage_returns)
{
    const char *dir = test_tmpdir();
    const char *cfg = write_logreg_run(dir, "sgd", "run", "auto");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run '%s'", dir, test_build_path("bin/lsgd"), cfg);
    test_output o = test_run(cmd, 30);
    if (o.status)
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    CU_ASSERT_PTR_NULL(strchr(o.out, '\r'));
    CU_ASSERT_PTR_NULL(strchr(o.err, '\r'));
    CU_ASSERT_PTR_NULL(strstr(o.out, "\033["));
    CU_ASSERT_PTR_NULL(strstr(o.err, "\033["));
    CU_ASSERT_PTR_NULL(strstr(o.err, "round "));
    /* the lines go to stdout, one per shown round, each a whole line */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nround 1/30  step 10  loss "));
    char loss[64], acc[64], want[256];
    char run_dir[4200];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    last_round_as_shown(run_dir, loss, acc, sizeof loss);
    snprintf(want, sizeof want, "\nround 30/30  step 300  %s  test ", loss);
    const char *last = strstr(o.out, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    const char *eol = strchr(last + 1, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(eol);
    const char *shown_acc = strstr(last, acc);
    CU_ASSERT(shown_acc != NULL && shown_acc < eol);
    CU_ASSERT_EQUAL(strncmp(eol - 10, " eta 00:00", 10), 0);
    CU_ASSERT_EQUAL(strncmp(eol + 1, "lsgd: 30 rounds", 15), 0);
    test_output_free(&o);
}

/* ---- lsgd plot over several runs ---- */

/* A PNG file: the signature, an IHDR of 960×600 as plot.c asks gnuplot for,
 * and more than a blank image's worth of bytes. */
static void expect_png(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t size = 0;
    unsigned char *png = (unsigned char *)test_read_file(path, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(png);
    CU_ASSERT(size > 5000);
    CU_ASSERT(size >= 24 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0 &&
              memcmp(png + 12, "IHDR", 4) == 0);
    if (size >= 24) {
        unsigned w = (unsigned)png[16] << 24 | (unsigned)png[17] << 16 | png[18] << 8 | png[19];
        unsigned h = (unsigned)png[20] << 24 | (unsigned)png[21] << 16 | png[22] << 8 | png[23];
        CU_ASSERT_EQUAL(w, 960);
        CU_ASSERT_EQUAL(h, 600);
    }
    free(png);
}

LSGD_TEST(io, lsgd_plot_of_two_runs_with_accuracy_draws_four_pngs_and_names_a_run_without_metrics)
{
    const char *dir = test_tmpdir();
    /* the same problem under two scalings, each into its own run directory */
    const char *a = write_logreg_run(dir, "sgd", "sgd", "none");
    const char *b = write_logreg_run(dir, "adam", "adam", "none");
    char cmd[8192];
    const char *lsgd = test_build_path("bin/lsgd");
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run '%s' && '%s' run '%s' && mkdir empty"
             " && '%s' plot sgd adam -o plots", dir, lsgd, a, lsgd, b, lsgd);
    test_output o = test_run(cmd, 60);
    if (o.status)
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    char plots[4200];
    snprintf(plots, sizeof plots, "%s/plots", dir);
    const char *pngs[] = {"loss_rounds.png", "loss_time.png", "accuracy_rounds.png",
                          "accuracy_time.png"};
    for (size_t i = 0; i < 4; i++) {
        expect_png(plots, pngs[i]);
        char line[64]; /* `lsgd plot` names each file it drew on a line of its own */
        snprintf(line, sizeof line, "\nplots/%s\n", pngs[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, line));
    }
    test_output_free(&o);

    /* a directory without metrics.csv among the runs: status 2, one line
     * naming it, and nothing drawn */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' plot sgd empty -o refused", dir, lsgd);
    o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "empty/metrics.csv"));
    CU_ASSERT_PTR_NULL(strstr(o.out, ".png"));
    test_output_free(&o);
    char path[4300];
    snprintf(path, sizeof path, "%s/refused/loss_rounds.png", dir);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}
