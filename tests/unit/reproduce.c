/*
 * reproduce.c — tools/reproduce.py's page (docs/results.md): a section
 * whose runs are absent keeps what the previous page said, claims
 * included, saying so; it is never kept from a page where it was not run.
 * Each experiment's time reads with the load the machine was under.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* `tools/reproduce.py page` with no runs into out (which holds the
 * previous results.md, if any); the page written, or NULL. */
static char *page_without_runs(const char *out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s' page --runs '%s/no-runs' --out '%s' --plots '%s/plots' "
             "--lsgd '%s'",
             test_root_path("tools/reproduce.py"), out, out, out, test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 60);
    if (o.status)
        fprintf(stderr, "\n  %s%s", o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
    char path[4200];
    snprintf(path, sizeof path, "%s/results.md", out);
    return test_read_file(path, NULL);
}

static int occurrences(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

LSGD_TEST(reproduce, a_section_without_runs_keeps_the_previous_pages_text_and_claims_saying_so)
{
    const char *out = test_tmpdir();
    char *previous = test_read_file(test_root_path("tests/data/reproduce/previous-results.md"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(previous);
    test_write_file(out, "results.md", previous);
    free(previous);
    char *page = page_without_runs(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "The kept section's own text, with its table:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "| 20 | 14.56 |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "| §2 Spiridonoff 3-D: the kept claim | the kept figure | **met** |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "| §2 Spiridonoff 1-D: the kept claim not met | the other kept figure | **not met** |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "## Summary: 1 of 2 claims met"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "as the page written on 2026-01-02 03:04 gave them"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "`tools/reproduce spiridonoff` runs them again"));
    /* §3 was not run on the previous page: nothing to keep, its claim row goes */
    CU_ASSERT_PTR_NULL(strstr(page, "a claim of a section not run there"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "Not run when this page was written: `tools/reproduce localgd`"));
    free(page);

    /* written again over itself, the section keeps its first date, said once */
    page = page_without_runs(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_EQUAL(occurrences(page, "gave them: its runs were not present"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "as the page written on 2026-01-02 03:04 gave them"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "## Summary: 1 of 2 claims met"));
    free(page);
}

LSGD_TEST(reproduce, without_runs_or_a_previous_page_every_section_reads_not_run)
{
    const char *out = test_tmpdir();
    char *page = page_without_runs(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "## Summary: 0 of 0 claims met"));
    CU_ASSERT_EQUAL(occurrences(page, "Not run when this page was written"), 4);
    CU_ASSERT_EQUAL(occurrences(page, "gave them: its runs were not present"), 0);
    free(page);
}

/* The time of an experiment's runs reads with the machine's load average
 * at their start and end, as tools/reproduce noted them. */
LSGD_TEST(reproduce, an_experiments_time_reads_with_the_load_average_at_its_start_and_end)
{
    const char *out = test_tmpdir();
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/no-runs", out);
    CU_ASSERT_EQUAL_FATAL(mkdir(runs, 0700), 0);
    test_write_file(runs, "savic_cnn.duration_s", "120\n");
    test_write_file(runs, "savic_cnn.load", "13.89 16.75\n");
    test_write_file(runs, "overlap_cnn.duration_s", "90\n");
    char *page = page_without_runs(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "Time of each experiment's runs: savic_cnn 2.0 min "
                                        "(load average 13.89 → 16.75), overlap_cnn 1.5 min."));
    free(page);
}
