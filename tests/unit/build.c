/*
 * build.c — the Makefile as a newcomer meets it: on a fresh machine the
 * missing Debian packages are installed before anything asks mpicc or
 * pkg-config for flags (so the first `make run` builds), `make clean`
 * installs nothing, and `make test` ends with the real wall time of the
 * suite.  A fresh machine is played by tests/data/fake-tools (a dpkg-query
 * that knows no package, an apt-get that records instead of installing)
 * first in PATH; mpicc and pkg-config there are the real ones, recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* `make ARGS` in the source tree as a fresh process (not a sub-make of the
 * outer `make test`), with the fake tools first in PATH when fresh_machine;
 * every call to a recorded tool is appended to *log_path. */
static test_output make_in_tree(const char *args, int fresh_machine, const char **log_path)
{
    static char log[1024];
    snprintf(log, sizeof log, "%s/fake-tools.log", test_tmpdir());
    remove(log);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u LSGD_STAGE %s%s%s "
             "FAKE_TOOLS_LOG='%s' make %s",
             test_root_dir(), fresh_machine ? "PATH='" : "",
             fresh_machine ? test_root_path("tests/data/fake-tools") : "",
             fresh_machine ? "':\"$PATH\"" : "", log, args);
    test_output o = test_run(cmd, 300);
    if (log_path)
        *log_path = log;
    return o;
}

/* The 1-based line of log recording the first call to one of tools
 * (NULL-terminated); 0 when none was called. */
static int first_call_of(const char *log, const char *const *tools)
{
    int line = 1;
    for (const char *p = log; *p; line++) {
        for (const char *const *t = tools; *t; t++)
            if (strncmp(p, *t, strlen(*t)) == 0 && p[strlen(*t)] == ' ')
                return line;
        const char *end = strchr(p, '\n');
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

LSGD_TEST(build, a_fresh_machine_gets_its_packages_before_make_asks_mpicc_for_flags)
{
    char build[1024], goal[2200];
    snprintf(build, sizeof build, "%s/fresh-build", test_tmpdir());
    snprintf(goal, sizeof goal, "-s BUILD='%s' '%s/plugins/mpi.so'", build, build);
    const char *log_path;
    test_output o = make_in_tree(goal, 1, &log_path);
    if (o.status != 0)
        fprintf(stderr, "\nmake %s -> %d\n%s%s\n", goal, o.status, o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);

    char *log = test_read_file(log_path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    static const char *const apt[] = {"apt-get", NULL}, *const probes[] = {"mpicc", "pkg-config", NULL};
    int install = first_call_of(log, apt), probe = first_call_of(log, probes);
    CU_ASSERT(strstr(log, "apt-get install") != NULL);
    CU_ASSERT(probe > 0); /* the mpi plugin's flags come from Open MPI */
    CU_ASSERT(install > 0 && install < probe);
    if (!(install > 0 && install < probe))
        fprintf(stderr, "\ncalls, in order:\n%s", log);
    free(log);

    char so[1200];
    snprintf(so, sizeof so, "%s/plugins/mpi.so", build);
    FILE *f = fopen(so, "rb");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        fclose(f);
}

LSGD_TEST(build, make_clean_installs_nothing_and_asks_nothing_of_mpicc)
{
    char args[1200];
    snprintf(args, sizeof args, "-s BUILD='%s/clean-build' clean", test_tmpdir());
    const char *log_path;
    test_output o = make_in_tree(args, 1, &log_path);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
    char *log = test_read_file(log_path, NULL);
    static const char *const any[] = {"apt-get", "dpkg-query", "mpicc", "pkg-config", NULL};
    CU_ASSERT(log == NULL || first_call_of(log, any) == 0);
    free(log);
}

LSGD_TEST(build, make_test_ends_with_the_wall_time_of_the_whole_suite_after_cunits_summary)
{
    char args[1200];
    snprintf(args, sizeof args, "-s BUILD='%s' test TESTS=rng", test_build_dir());
    test_output o = make_in_tree(args, 0, NULL);
    CU_ASSERT_EQUAL(o.status, 0);
    const char *summary = strstr(o.out, "Run Summary");
    CU_ASSERT_PTR_NOT_NULL(summary);
    size_t len = strlen(o.out);
    while (len > 0 && o.out[len - 1] == '\n')
        len--;
    const char *last = o.out + len;
    while (last > o.out && last[-1] != '\n')
        last--;
    double seconds = -1;
    char unit[8] = "";
    CU_ASSERT_EQUAL(sscanf(last, "make test: wall time %lf %7s", &seconds, unit), 2);
    CU_ASSERT_STRING_EQUAL(unit, "s");
    CU_ASSERT(seconds >= 0 && seconds < 300);
    CU_ASSERT(summary != NULL && summary < last);
    if (summary == NULL || summary >= last)
        fprintf(stderr, "\nmake %s ->\n%s%s\n", args, o.out, o.err);
    test_output_free(&o);
}
