/*
 * model_plugin.c — model plugins (lsgd/model.h) end to end, through the
 * real binary: the model written by `tools/new-plugin model` (linear least
 * squares), built out of tree and dlopened from LSGD_PLUGIN_PATH, trains
 * with Local SGD over shm to bitwise the model of the built-in
 * least_squares, on dense and on sparse (CSR) rows; OASIS is refused with
 * a model plugin that provides no HVP, by `lsgd validate`, naming both
 * keys; bad manifests, parameters, ops tables and describe tables are
 * refused with one line; an op that fails without a message is reported
 * naming the plugin and the op.
 *
 * Faults are injected into copies of the scaffold with sed (each test says
 * which), so every variant is the real scaffold but for one line.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "host_fakes.h"

static char cmd[8192];

/* tools/new-plugin model NAME into a fresh directory, then `sed_c` on
 * NAME.c and `sed_json` on NAME.json (NULL: none), then make (warnings
 * not fatal when a fault leaves a function unused); returns the dir. */
static const char *scaffold(char *dir, size_t cap, const char *name, const char *sed_c,
                            const char *sed_json)
{
    snprintf(dir, cap, "%s/%s", test_tmpdir(), name);
    int n = snprintf(cmd, sizeof cmd, "'%s' model %s '%s' >/dev/null", test_root_path("tools/new-plugin"),
                     name, dir);
    if (sed_c)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " && sed -i -e '%s' '%s/%s.c'", sed_c,
                      dir, name);
    if (sed_json)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " && sed -i -e '%s' '%s/%s.json'",
                      sed_json, dir, name);
    snprintf(cmd + n, sizeof cmd - (size_t)n,
             " && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C '%s' CFLAGS='-O3 "
             "-fno-math-errno -march=x86-64-v2 %s'", dir, sed_c ? "-w" : "");
    test_output o = test_run(cmd, 60);
    if (o.status != 0)
        fprintf(stderr, "\n$ %s\n%s%s\n", cmd, o.out, o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    return dir;
}

/* "cd WORK && LSGD_PLUGIN_PATH=PLUGINS lsgd ARGS" (PLUGINS may be "") */
static const char *lsgd(const char *work, const char *plugins, const char *args)
{
    snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH='%s' '%s' %s", work, plugins,
             lsgd_bin(), args);
    return cmd;
}

static const char *config(const char *name)
{
    static char path[2][1024];
    static int next;
    char *p = path[next++ % 2];
    snprintf(p, 1024, "%s", test_root_path(name));
    return p;
}

static void expect_success(const char *command)
{
    test_output o = test_run(command, 120);
    if (o.status != 0)
        fprintf(stderr, "\n$ %s\n%s%s\n", command, o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
}

/* Trains builtin.json and plugin.json (with `set`, e.g. other data) in
 * one work directory and compares the two model.npy byte for byte. */
static void expect_same_model(const char *set)
{
    char plugin[1024], args[4096];
    scaffold(plugin, sizeof plugin, "lsq", NULL, NULL);
    TEST_TMPDIR(work);
    snprintf(args, sizeof args, "run '%s' %s", config("tests/data/model_plugin/builtin.json"), set);
    expect_success(lsgd(work, plugin, args));
    snprintf(args, sizeof args, "run '%s' %s", config("tests/data/model_plugin/plugin.json"), set);
    expect_success(lsgd(work, plugin, args));
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/runs/model-plugin-builtin/model.npy", work);
    snprintf(b, sizeof b, "%s/runs/model-plugin-plugin/model.npy", work);
    CU_ASSERT_TRUE(test_same_file(a, b));
}

LSGD_TEST(model_plugin, the_scaffolded_model_trains_over_shm_to_bitwise_the_builtin_least_squares)
{
    expect_same_model("");
}

LSGD_TEST(model_plugin, the_scaffolded_model_reads_sparse_rows_and_matches_the_builtin_bitwise)
{
    char set[2048];
    snprintf(set, sizeof set,
             "--set 'data.train={\"format\": \"libsvm\", \"path\": \"%s\", \"features\": 30}'",
             config("tests/data/model_plugin/sparse.svm"));
    expect_same_model(set);
}

LSGD_TEST(model_plugin, model_json_lists_the_plugins_tensors_as_views_into_the_vector)
{
    char plugin[1024];
    scaffold(plugin, sizeof plugin, "lsq", NULL, NULL);
    TEST_TMPDIR(work);
    char args[2048];
    snprintf(args, sizeof args, "run '%s'", config("tests/data/model_plugin/plugin.json"));
    expect_success(lsgd(work, plugin, args));
    char path[1200];
    snprintf(path, sizeof path, "%s/runs/model-plugin-plugin/model.json", work);
    char *text = test_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "plugin")), "lsq");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "dim")), 14);
    json_t *bias = json_array_get(json_object_get(doc, "tensors"), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(bias, "name")), "bias");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(bias, "offset")), 13);
    json_decref(doc);
}

LSGD_TEST(model_plugin, oasis_with_a_model_plugin_without_hvp_is_refused_by_validate_naming_both_keys)
{
    /* the scaffold with its hvp op and "provides": ["hvp"] removed */
    char plugin[1024];
    scaffold(plugin, sizeof plugin, "nohvp", "/\\.hvp = /d", "s/\"provides\": \\[\"hvp\"\\]/\"provides\": []/");
    TEST_TMPDIR(work);
    char args[2048];
    snprintf(args, sizeof args,
             "validate '%s' --set model.plugin=nohvp --set scaling.plugin=oasis --no-data",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "scaling.plugin", "'oasis'", "model.plugin",
                       "'nohvp'", "Hessian-vector", NULL);
    /* the same plugin trains with Adam: only the combination is refused */
    snprintf(args, sizeof args, "run '%s' --set model.plugin=nohvp",
             config("tests/data/model_plugin/plugin.json"));
    expect_success(lsgd(work, plugin, args));
}

LSGD_TEST(model_plugin, oasis_through_the_scaffolds_hvp_trains_bitwise_as_through_the_builtins)
{
    expect_same_model("--set scaling.plugin=oasis --set 'scaling.params={\"alpha\": 0.1}'");
}

LSGD_TEST(model_plugin, a_manifest_providing_hvp_without_the_op_is_refused_by_plugins_check)
{
    char plugin[1024], args[1200];
    scaffold(plugin, sizeof plugin, "claims", "/\\.hvp = /d", NULL);
    snprintf(args, sizeof args, "plugins check '%s/claims.json'", plugin);
    expect_input_error(lsgd(plugin, "", args), "model plugin 'claims'", "provides",
                       "no hvp", NULL);
}

LSGD_TEST(model_plugin, a_manifest_providing_an_unknown_capability_is_refused_naming_the_file)
{
    char plugin[1024], args[1200];
    scaffold(plugin, sizeof plugin, "odd", NULL, "s/\"provides\": \\[\"hvp\"\\]/\"provides\": [\"hessian\"]/");
    snprintf(args, sizeof args, "plugins check '%s/odd.json'", plugin);
    expect_input_error(lsgd(plugin, "", args), "odd.json", "provides", NULL);
}

LSGD_TEST(model_plugin, a_bad_model_parameter_is_refused_naming_model_params_and_the_key)
{
    char plugin[1024], args[2048];
    scaffold(plugin, sizeof plugin, "lsq", NULL, NULL);
    TEST_TMPDIR(work);
    snprintf(args, sizeof args, "validate '%s' --set model.params.init_scale=1000",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "model.params.init_scale", "1000", NULL);
    snprintf(args, sizeof args, "validate '%s' --set model.params.bais=true",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "model.params", "bais", "bias", NULL);
}

LSGD_TEST(model_plugin, an_unknown_plugin_both_type_and_plugin_or_keys_of_the_other_kind_are_refused)
{
    char plugin[1024], args[2048];
    scaffold(plugin, sizeof plugin, "lsq", NULL, NULL);
    TEST_TMPDIR(work);
    snprintf(args, sizeof args, "validate '%s' --set model.plugin=lsqq",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "model.plugin", "'lsqq'", "did you mean", NULL);
    snprintf(args, sizeof args, "run '%s' --set model.type=least_squares",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "model", NULL);
    snprintf(args, sizeof args, "validate '%s' --set model.hidden=[8]",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "model.hidden", "model.params", NULL);
    snprintf(args, sizeof args, "validate '%s' --set model.params.bias=false",
             config("tests/data/model_plugin/builtin.json"));
    expect_input_error(lsgd(work, plugin, args), "model.params", "least_squares", NULL);
}

LSGD_TEST(model_plugin, an_ops_table_too_short_for_loss_grad_is_refused_naming_the_op)
{
    /* fault: struct_size stops before loss_grad */
    char plugin[1024], args[1200];
    scaffold(plugin, sizeof plugin, "truncated",
             "s/\\.struct_size = sizeof(lsgd_model_plugin_ops)/.struct_size = "
             "offsetof(lsgd_model_plugin_ops, loss_grad)/", "s/\"provides\": \\[\"hvp\"\\]/\"provides\": []/");
    snprintf(args, sizeof args, "plugins check '%s/truncated.json'", plugin);
    expect_input_error(lsgd(plugin, "", args), "model plugin 'truncated'", "struct_size",
                       "loss_grad", NULL);
}

LSGD_TEST(model_plugin, overlapping_tensors_in_describe_are_refused_naming_them)
{
    /* fault: the bias tensor put over the first weight */
    char plugin[1024], args[2048];
    scaffold(plugin, sizeof plugin, "overlap", "s/.name = \"bias\", .offset = m->d/.name = "
             "\"bias\", .offset = 0/", NULL);
    TEST_TMPDIR(work);
    snprintf(args, sizeof args, "run '%s' --set model.plugin=overlap",
             config("tests/data/model_plugin/plugin.json"));
    expect_input_error(lsgd(work, plugin, args), "model plugin 'overlap'", "weight", "bias",
                       "overlap", NULL);
}

LSGD_TEST(model_plugin, a_model_op_failing_without_a_message_is_reported_naming_plugin_and_op)
{
    /* fault: loss_grad returns 7 and sets no message */
    char plugin[1024], args[2048];
    scaffold(plugin, sizeof plugin, "silent", "s/    \\*loss = sum \\* inv_n;/    return 7;/", NULL);
    TEST_TMPDIR(work);
    snprintf(args, sizeof args, "run '%s' --set model.plugin=silent",
             config("tests/data/model_plugin/plugin.json"));
    expect_runtime_error(lsgd(work, plugin, args), "model plugin 'silent'", "loss_grad",
                         "code 7", "no message", NULL);
}

LSGD_TEST(model_plugin, plugins_list_and_show_present_a_model_plugin_with_what_it_provides)
{
    char plugin[1024];
    scaffold(plugin, sizeof plugin, "lsq", NULL, NULL);
    test_output o = test_run(lsgd(plugin, plugin, "plugins list"), 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "model      lsq"));
    test_output_free(&o);
    o = test_run(lsgd(plugin, plugin, "plugins show lsq"), 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "lsq: model plugin"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "provides: hvp"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "parameters (model.params)"));
    test_output_free(&o);
}
