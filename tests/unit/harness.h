/*
 * harness.h — how lsgd's CUnit suite is put together.
 *
 * Each tests/unit/<area>.c declares its tests with LSGD_TEST(suite, name);
 * they register themselves at load time and main.c runs them grouped by
 * suite.  `unit_tests adam,config` runs only those suites.  A test's name
 * states the behaviour it proves.
 *
 * Helpers for tests that drive the real binary and plugins live here too.
 */
#ifndef LSGD_TEST_HARNESS_H
#define LSGD_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdio.h>

void lsgd_test_register(const char *suite, const char *name, void (*fn)(void));

#define LSGD_TEST(suite, name)                                                    \
    static void test_##suite##_##name(void);                                      \
    __attribute__((constructor)) static void register_##suite##_##name(void)      \
    {                                                                             \
        lsgd_test_register(#suite, #name, test_##suite##_##name);                 \
    }                                                                             \
    static void test_##suite##_##name(void)

/* The build directory (LSGD_BUILD, absolute) and the source root (LSGD_ROOT). */
const char *test_build_dir(void);
const char *test_root_dir(void);
/* "<build>/bin/lsgd" etc.: path joined into a static ring of buffers. */
const char *test_build_path(const char *relative);
const char *test_root_path(const char *relative);

/* A fresh temporary directory (removed at exit); returns its path. */
const char *test_tmpdir(void);
/* The same in a local buffer `name`, copied out of the ring of path
 * buffers so that later path helpers cannot overwrite it. */
#define TEST_TMPDIR(name) \
    char name[1024];      \
    snprintf(name, sizeof name, "%s", test_tmpdir())
/* Write text to dir/name; returns the full path (static ring buffer). */
const char *test_write_file(const char *dir, const char *name, const char *text);

typedef struct test_output {
    int status;   /* exit status, or 128+signal when killed */
    char *out;    /* captured stdout (NUL-terminated, malloc'd) */
    char *err;    /* captured stderr */
} test_output;

/* Run `sh -c command` with a time limit in seconds; captures output. */
test_output test_run(const char *command, int timeout_s);
void test_output_free(test_output *o);

/* Run command (sh -c, 30 s limit); assert exit status 2 and exactly one
 * line on stderr containing every needle (NULL-terminated list). */
void expect_input_error(const char *command, ...) __attribute__((sentinel));

/* The same with exactly `lines` lines on stderr (one error each), every
 * needle on one of them. */
void expect_input_errors(const char *command, int lines, ...) __attribute__((sentinel));

/* Run command; assert exit status 1 (a runtime failure) and exactly one
 * line on stderr containing every needle. */
void expect_runtime_error(const char *command, ...) __attribute__((sentinel));

/* tools/fetch-data mnist (nothing to do when data/mnist is there):
 * 0 on success, else its status after printing why. */
int test_fetch_mnist(void);
/* tools/fetch-data SET (mnist, fashion-mnist): 0 once the files are there,
 * else its status, its stderr printed. */
int test_fetch_data(const char *set);

/* The bytes of a file, NUL-terminated (malloc'd), and their count in *size
 * (size may be NULL); NULL when unreadable. */
char *test_read_file(const char *path, size_t *size);

/* Whether two files hold the same bytes (both readable). */
int test_same_file(const char *a, const char *b);

/* Count lines of text (a trailing newline does not start a new line). */
int test_count_lines(const char *text);

#endif
