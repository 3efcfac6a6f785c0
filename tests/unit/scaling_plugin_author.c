/*
 * scaling_plugin_author.c — what a researcher does to add a preconditioner,
 * end to end (README "Writing a plugin"): install lsgd to a prefix,
 * tools/new-plugin scaling in a temporary directory, build it out of tree
 * against the SDK headers, point LSGD_PLUGIN_PATH at it, see it in
 * `lsgd plugins list`, pass `lsgd plugins check`, and train with it from a
 * config until the loss falls, logging the range of its D̂.  The transport
 * template builds and checks too, and the installed PREFIX/bin/
 * lsgd-new-plugin scaffolds against the prefix's headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Runs a shell command (make's jobserver of the outer `make test` is not
 * ours to share); on failure prints what it said. */
static test_output sh(const char *cmd, int timeout_s)
{
    char full[8192];
    snprintf(full, sizeof full, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL %s", cmd);
    test_output o = test_run(full, timeout_s);
    if (o.status != 0)
        fprintf(stderr, "\n$ %s\n-> %d\n%s%s\n", cmd, o.status, o.out, o.err);
    return o;
}

static const char *prefix_dir(void)
{
    static char prefix[1024];
    if (!prefix[0]) {
        snprintf(prefix, sizeof prefix, "%s/prefix", test_tmpdir());
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "make -s -C '%s' install PREFIX='%s' BUILD='%s' >/dev/null",
                 test_root_dir(), prefix, test_build_dir());
        test_output o = sh(cmd, 100);
        CU_ASSERT_EQUAL_FATAL(o.status, 0);
        test_output_free(&o);
    }
    return prefix;
}

/* SCRIPT KIND NAME DIR (SCRIPT: tools/new-plugin or an installed copy),
 * then make -C DIR with the Makefile it wrote; returns DIR. */
static const char *scaffold_and_build(const char *script, const char *kind, const char *name)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s %s '%s' && env -u PKG_CONFIG_PATH make -s -C '%s'", script,
             kind, name, dir, dir);
    test_output o = sh(cmd, 60);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    return dir;
}

/* `lsgd plugins check PATH` of the installed lsgd passes, saying OK_TEXT. */
static void expect_check_ok(const char *path, const char *ok_text)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/bin/lsgd' plugins check '%s'", prefix_dir(), path);
    test_output o = sh(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, ok_text));
    test_output_free(&o);
}

/* The first and last values of COLUMN in a metrics.csv; returns the rows
 * read (-1 when the file or the column is missing). */
static int metrics_column(const char *csv, const char *column, double *first, double *last)
{
    FILE *f = fopen(csv, "r");
    if (!f)
        return -1;
    char line[4096];
    int index = -1, rows = 0;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *save = NULL;
        int i = 0;
        for (char *name = strtok_r(line, ",", &save); name; name = strtok_r(NULL, ",", &save), i++)
            if (strcmp(name, column) == 0)
                index = i;
    }
    while (index >= 0 && fgets(line, sizeof line, f)) {
        const char *field = line;
        for (int i = 0; i < index && field; i++)
            field = strchr(field, ',') ? strchr(field, ',') + 1 : NULL;
        if (!field)
            continue;
        double v = strtod(field, NULL);
        if (rows++ == 0)
            *first = v;
        *last = v;
    }
    fclose(f);
    return index < 0 ? -1 : rows;
}

static char mybelief_dir[1024];

/* Scaffolds and builds "mybelief" into mybelief_dir and trains it once (1
 * worker, a least-squares problem, 200 steps, 20 rounds); returns its
 * metrics.csv, NULL on failure. */
static const char *mybelief_metrics(void)
{
    static char metrics[1200];
    static int trained = -1;
    if (trained >= 0)
        return trained ? metrics : NULL;
    trained = 0;
    const char *dir = scaffold_and_build(test_root_path("tools/new-plugin"), "scaling", "mybelief");
    snprintf(mybelief_dir, sizeof mybelief_dir, "%s", dir);
    char run_dir[1024], config[4096], cmd[4096];
    snprintf(run_dir, sizeof run_dir, "%s/run", test_tmpdir());
    snprintf(config, sizeof config,
             "{\"seed\": 3, \"workers\": 1, \"model\": {\"type\": \"least_squares\"},\n"
             " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"quadratic\",\n"
             "                      \"n\": 512, \"d\": 16}},\n"
             " \"algorithm\": {\"type\": \"local_sgd\", \"steps\": 200, \"batch_size\": 32, \"lr\": 0.01},\n"
             " \"schedule\": {\"type\": \"constant\", \"period\": 10},\n"
             " \"scaling\": {\"plugin\": \"mybelief\", \"params\": {\"beta2\": 0.99}},\n"
             " \"transport\": {\"plugin\": \"shm\"},\n"
             " \"output\": {\"dir\": \"%s\", \"eval_every\": 1}}\n", run_dir);
    const char *cfg = test_write_file(test_tmpdir(), "mybelief.json", config);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s/bin/lsgd' run '%s'", dir, prefix_dir(), cfg);
    test_output o = sh(cmd, 60);
    trained = o.status == 0;
    test_output_free(&o);
    snprintf(metrics, sizeof metrics, "%s/metrics.csv", run_dir);
    return trained ? metrics : NULL;
}

LSGD_TEST(plugin_author, new_scaling_plugin_builds_out_of_tree_lists_checks_and_trains)
{
    const char *metrics = mybelief_metrics();
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    const char *dir = mybelief_dir;
    char cmd[4096];

    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s/bin/lsgd' plugins list", dir, prefix_dir());
    test_output o = sh(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "mybelief"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "LSGD_PLUGIN_PATH"));
    test_output_free(&o);

    char manifest[1200];
    snprintf(manifest, sizeof manifest, "%s/mybelief.json", dir);
    expect_check_ok(manifest, "ok: scaling plugin 'mybelief'");

    double first = -1, last = -1;
    CU_ASSERT_EQUAL(metrics_column(metrics, "train_loss", &first, &last), 20);
    CU_ASSERT(first > 0 && last >= 0 && last < first / 10); /* the loss fell */
}

/* Before the template had a range op the host logged D̂ as 1 everywhere. */
LSGD_TEST(plugin_author, the_scaffolded_scaling_plugin_logs_the_range_of_its_preconditioner)
{
    const char *metrics = mybelief_metrics();
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    double dmin_first = -1, dmin = -1, dmax_first = -1, dmax = -1;
    CU_ASSERT_EQUAL(metrics_column(metrics, "d_min", &dmin_first, &dmin), 20);
    CU_ASSERT_EQUAL(metrics_column(metrics, "d_max", &dmax_first, &dmax), 20);
    /* D̂ = √ŝ + ε: at least ε = 1e-8, spread over the 16 coordinates, and
     * far from 1 on a problem whose gradients are small by the end */
    CU_ASSERT(dmin >= 1e-8 && dmin < dmax);
    CU_ASSERT(dmax < 0.5);
}

LSGD_TEST(plugin_author, installed_lsgd_new_plugin_scaffolds_against_the_prefix_headers)
{
    char script[1200], makefile[1200], include[1200];
    snprintf(script, sizeof script, "%s/bin/lsgd-new-plugin", prefix_dir());
    const char *dir = scaffold_and_build(script, "scaling", "fromprefix");
    snprintf(makefile, sizeof makefile, "%s/Makefile", dir);
    snprintf(include, sizeof include, "-I%s/include", prefix_dir());
    char *text = test_read_file(makefile, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, include));
    free(text);

    char manifest[1200];
    snprintf(manifest, sizeof manifest, "%s/fromprefix.json", dir);
    expect_check_ok(manifest, "ok: scaling plugin 'fromprefix'");
}

LSGD_TEST(plugin_author, installed_lsgd_new_plugin_writes_a_model_that_builds_and_checks_out_of_tree)
{
    char script[1200], manifest[1200];
    snprintf(script, sizeof script, "%s/bin/lsgd-new-plugin", prefix_dir());
    const char *dir = scaffold_and_build(script, "model", "prefixmodel");
    snprintf(manifest, sizeof manifest, "%s/prefixmodel.json", dir);
    expect_check_ok(manifest, "ok: model plugin 'prefixmodel'");
    expect_check_ok(manifest, "provides hvp");
}

LSGD_TEST(plugin_author, new_plugin_help_prints_its_usage_and_exits_0)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/bin/lsgd-new-plugin' --help", prefix_dir());
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "usage: lsgd-new-plugin scaling|transport|model|compressor NAME [DIR]"));
    CU_ASSERT_STRING_EQUAL(o.err, "");
    test_output_free(&o);
    snprintf(cmd, sizeof cmd, "'%s' -h", test_root_path("tools/new-plugin"));
    o = test_run(cmd, 10);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "usage: new-plugin"));
    test_output_free(&o);
}

LSGD_TEST(plugin_author, new_transport_template_builds_and_passes_the_check)
{
    const char *dir = scaffold_and_build(test_root_path("tools/new-plugin"), "transport", "mysolo");
    char library[1200];
    snprintf(library, sizeof library, "%s/mysolo.so", dir);
    expect_check_ok(library, "ok: transport plugin 'mysolo'");
}

LSGD_TEST(plugin_author, new_plugin_refuses_a_bad_name_or_kind_with_status_2)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' scaling 9lives '%s/x'", test_root_path("tools/new-plugin"),
             test_tmpdir());
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "C identifier"));
    test_output_free(&o);
    snprintf(cmd, sizeof cmd, "'%s' optimizer adam2 '%s/y'", test_root_path("tools/new-plugin"),
             test_tmpdir());
    o = test_run(cmd, 10);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "not scaling, transport, model or compressor"));
    test_output_free(&o);
}
