/*
 * config.c — loading a run configuration: defaults filled from the schema
 * (also conditionally, by model and schedule type), --set overrides,
 * outer's loose plugin parameters, cross-field rules, plugin parameters
 * checked against the real manifests; and every bad input through
 * `lsgd validate`, exit 2 with one line naming file and JSON path.
 */
#include <string.h>

#include "harness.h"
#include "host/config.h"
#include "host_fakes.h"

static char cmd[8192];

static json_t *load_text(const char *text, const char *const *sets, size_t n_sets, lsgd_error *err)
{
    const char *path = test_write_file(test_tmpdir(), "cfg.json", text);
    json_t *cfg = NULL;
    lsgd_error_clear(err);
    if (lsgd_config_load(&cfg, path, sets, n_sets, err))
        return NULL;
    return cfg;
}

static const char *validate_cmd(const char *text, const char *extra)
{
    const char *path = test_write_file(test_tmpdir(), "bad.json", text);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' validate '%s' %s", lsgd_bin(), path,
             extra ? extra : "");
    return cmd;
}

LSGD_TEST(config, minimal_config_gets_every_default)
{
    lsgd_error err;
    json_t *cfg = load_text("{\"model\": {\"type\": \"mlp\"}}", NULL, 0, &err);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "seed", -1), 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "workers", -1), 1, 0);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "algorithm.type", ""), "local_sgd");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "algorithm.steps", -1), 1000, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "algorithm.batch_size", -1), 64, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "algorithm.lr", -1), 0.01, 0);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "algorithm.lr_schedule.type", ""), "constant");
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "schedule.type", ""), "constant");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "schedule.period", -1), 8, 0);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "scaling.plugin", ""), "sgd");
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "scaling.refresh", ""), "local");
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "scaling.state", ""), "local");
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "transport.plugin", ""), "shm");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "transport.delay.latency_ms", -1), 0, 0);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "output.dir", ""), "runs/cfg");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "output.eval_every", -1), 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "output.checkpoint_every", -1), 0, 0);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "output.progress", ""), "auto");
    CU_ASSERT_EQUAL(lsgd_config_bool(cfg, "metrics.drift", 0), 1);
    CU_ASSERT_EQUAL(lsgd_config_bool(cfg, "metrics.max_margin", 1), 0);
    /* mlp-only defaults */
    CU_ASSERT_EQUAL(json_array_size(lsgd_config_get(cfg, "model.hidden")), 1);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "model.activation", ""), "relu");
    CU_ASSERT_EQUAL(lsgd_config_bool(cfg, "model.bias", 0), 1);
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "model.problem"));
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "algorithm.overlap"));
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "outer"));
    /* the plugins' params come back validated, defaults filled from their manifests */
    CU_ASSERT_PTR_NOT_NULL(lsgd_config_get(cfg, "scaling.params.momentum"));
    CU_ASSERT_PTR_NOT_NULL(lsgd_config_get(cfg, "transport.params.timeout_s"));
    json_decref(cfg);
}

LSGD_TEST(config, defaults_follow_the_model_and_algorithm_types)
{
    lsgd_error err;
    json_t *cfg = load_text("{\"model\": {\"type\": \"quadratic\"},"
                            " \"algorithm\": {\"type\": \"overlap_local_sgd\"},"
                            " \"data\": {\"train\": {\"format\": \"synthetic\", \"generator\": \"blobs\","
                            "            \"n\": 100, \"d\": 5}, \"partition\": {\"type\": \"dirichlet\"}}}",
                            NULL, 0, &err);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "model.problem", ""), "diagonal");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "model.dim", -1), 10, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "model.condition", -1), 1000, 0);
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "model.hidden"));
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "algorithm.overlap.alpha", -1), 0.6, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "algorithm.overlap.beta", -1), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "data.partition.alpha", -1), 0.5, 0);
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "data.partition.shards_per_worker"));
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "data.train.classes", -1), 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "data.train.noise", -1), 0.1, 0);
    json_decref(cfg);
    /* noisy3d has its own dimension: no dim default */
    cfg = load_text("{\"model\": {\"type\": \"quadratic\", \"problem\": \"noisy3d\"}}", NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "model.dim"));
    json_decref(cfg);
}

LSGD_TEST(config, set_overrides_parse_json_values_else_strings)
{
    const char *sets[] = {"algorithm.lr=0.5", "scaling.plugin=adam", "scaling.params.beta2=0.99",
                          "model.hidden=[64,32]", "metrics.max_margin=true", "output.dir=runs/x y",
                          "schedule.period=3"};
    lsgd_error err;
    json_t *cfg = load_text("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": {\"lr\": 0.1}}", sets,
                            sizeof sets / sizeof sets[0], &err);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "algorithm.lr", -1), 0.5, 0);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "scaling.plugin", ""), "adam");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "scaling.params.beta2", -1), 0.99, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "scaling.params.beta1", -1), 0.9, 0);
    CU_ASSERT_EQUAL(json_array_size(lsgd_config_get(cfg, "model.hidden")), 2);
    CU_ASSERT_EQUAL(lsgd_config_bool(cfg, "metrics.max_margin", 0), 1);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "output.dir", ""), "runs/x y");
    CU_ASSERT_TRUE(json_is_integer(lsgd_config_get(cfg, "schedule.period")));
    json_decref(cfg);
}

LSGD_TEST(config, set_refuses_malformed_assignments_and_non_object_parents)
{
    json_t *cfg = json_pack("{s:{s:i}}", "algorithm", "steps", 10);
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_config_set(cfg, "noequals", &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected KEY=VALUE"));
    CU_ASSERT_EQUAL(lsgd_config_set(cfg, "=3", &err), LSGD_ERR_INPUT);
    CU_ASSERT_EQUAL(lsgd_config_set(cfg, "a..b=3", &err), LSGD_ERR_INPUT);
    CU_ASSERT_EQUAL(lsgd_config_set(cfg, "algorithm.steps.x=3", &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'algorithm.steps' is 10 in the config, not an object"));
    CU_ASSERT_EQUAL(lsgd_config_set(cfg, "new.deep.key=\"q\"", &err), LSGD_OK);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "new.deep.key", ""), "q");
    json_decref(cfg);
}

LSGD_TEST(config, outer_loose_keys_become_plugin_params)
{
    lsgd_error err;
    json_t *cfg = load_text("{\"model\": {\"type\": \"mlp\"},"
                            " \"outer\": {\"plugin\": \"sgd\", \"lr\": 0.7, \"momentum\": 0.9, \"nesterov\": true}}",
                            NULL, 0, &err);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "outer.lr", -1), 0.7, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "outer.params.momentum", -1), 0.9, 0);
    CU_ASSERT_EQUAL(lsgd_config_bool(cfg, "outer.params.nesterov", 0), 1);
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "outer.momentum"));
    json_decref(cfg);
    cfg = load_text("{\"model\": {\"type\": \"mlp\"}, \"outer\": {\"plugin\": \"sgd\", \"momentum\": 0.5,"
                    " \"params\": {\"momentum\": 0.9}}}", NULL, 0, &err);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "parameter 'momentum' is given twice"));
    cfg = load_text("{\"model\": {\"type\": \"mlp\"}, \"outer\": {\"plugin\": \"sgd\", \"momentun\": 0.5}}",
                    NULL, 0, &err);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "unknown parameter 'momentun' at outer.params"));
}

LSGD_TEST(config, cross_field_rules_refuse_degenerate_combinations)
{
    lsgd_error err;
    CU_ASSERT_PTR_NULL(load_text("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": {\"type\": "
                                 "\"overlap_local_sgd\", \"overlap\": {\"alpha\": 1, \"beta\": 0}}}",
                                 NULL, 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "algorithm.overlap: alpha 1 with beta 0"));
    CU_ASSERT_PTR_NULL(load_text("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": {\"type\": "
                                 "\"overlap_local_sgd\"}, \"schedule\": {\"type\": \"one_shot\"}}",
                                 NULL, 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "schedule.type: overlap_local_sgd"));
    CU_ASSERT_PTR_NULL(load_text("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": {\"steps\": 10},"
                                 " \"schedule\": {\"type\": \"increasing\", \"rounds\": 11}}",
                                 NULL, 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "schedule.rounds: 11 rounds is more than algorithm.steps 10"));
    CU_ASSERT_PTR_NULL(load_text("{\"model\": {\"type\": \"mlp\"}, \"schedule\": {\"type\": "
                                 "\"increasing\", \"rounds\": 5, \"slope\": 2}}", NULL, 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "schedule: schedule type 'increasing' needs exactly one of"));
    json_t *ok = load_text("{\"model\": {\"type\": \"mlp\"}, \"schedule\": {\"type\": \"increasing\","
                           " \"slope\": 2}}", NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL(ok);
    CU_ASSERT_PTR_NULL(lsgd_config_get(ok, "schedule.period"));
    json_decref(ok);
}

LSGD_TEST(config, run_id_hash_is_stable_and_depends_on_config_and_salt)
{
    json_t *a = json_pack("{s:i, s:{s:s}}", "seed", 1, "model", "type", "mlp");
    json_t *b = json_pack("{s:{s:s}, s:i}", "model", "type", "mlp", "seed", 1); /* same, other order */
    json_t *c = json_pack("{s:i, s:{s:s}}", "seed", 2, "model", "type", "mlp");
    char ia[64], ib[64], ic[64], salted[64];
    lsgd_config_run_id(ia, sizeof ia, a, NULL);
    lsgd_config_run_id(ib, sizeof ib, b, NULL);
    lsgd_config_run_id(ic, sizeof ic, c, NULL);
    lsgd_config_run_id(salted, sizeof salted, a, "job42");
    CU_ASSERT_STRING_EQUAL(ia, ib);
    CU_ASSERT_STRING_NOT_EQUAL(ia, ic);
    CU_ASSERT_STRING_NOT_EQUAL(ia, salted);
    CU_ASSERT_EQUAL(strncmp(ia, "cfg-", 4), 0);
    CU_ASSERT_EQUAL(strlen(ia), 20);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* ---- bad input through `lsgd validate` ------------------------------------ */

LSGD_TEST(config, malformed_json_names_file_line_and_column)
{
    expect_input_error(validate_cmd("{\n  \"model\": {\"type\": \"mlp\"},\n  \"seed\": 1,,\n}\n", NULL),
                       "bad.json: line 3, column 13: malformed JSON", NULL);
}

LSGD_TEST(config, missing_config_file_is_bad_input)
{
    snprintf(cmd, sizeof cmd, "'%s' validate /nonexistent/cfg.json", lsgd_bin());
    expect_input_error(cmd, "/nonexistent/cfg.json: cannot read config: No such file", NULL);
}

LSGD_TEST(config, a_fifo_directory_or_device_config_path_is_refused_as_not_a_regular_file)
{
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s/cfg.json", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkfifo '%s'", fifo);
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    /* a FIFO once blocked `lsgd validate` for ever; /dev/zero was read without end */
    snprintf(cmd, sizeof cmd, "'%s' validate '%s'", lsgd_bin(), fifo);
    expect_input_error(cmd, "cfg.json: cannot read config: it is a FIFO (named pipe); expected a "
                            "regular file", NULL);
    snprintf(cmd, sizeof cmd, "'%s' validate /dev/zero", lsgd_bin());
    expect_input_error(cmd, "/dev/zero: cannot read config: it is a character device", NULL);
    snprintf(cmd, sizeof cmd, "'%s' validate '%s'", lsgd_bin(), test_tmpdir());
    expect_input_error(cmd, "cannot read config: it is a directory", NULL);
}

LSGD_TEST(config, malformed_json_quoting_binary_bytes_shows_them_escaped)
{
    const char *path = test_write_file(test_tmpdir(), "binary.json",
                                       "{\"seed\": \x1b[2Jwipe}");
    snprintf(cmd, sizeof cmd, "'%s' validate '%s'", lsgd_bin(), path);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NULL(strchr(o.err, '\x1b'));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "\\x1b"));
    if (!strstr(o.err, "\\x1b"))
        fprintf(stderr, "\n  stderr: %s\n", o.err);
    test_output_free(&o);
}

LSGD_TEST(config, an_integral_real_for_an_integer_key_is_that_integer_for_every_reader)
{
    lsgd_error err;
    /* "dim": 20.0 once gave 10 parameters (the model read integers only) */
    json_t *cfg = load_text("{\"model\": {\"type\": \"quadratic\", \"dim\": 20.0}, "
                            "\"workers\": 2.0, \"schedule\": {\"period\": 8.0}, "
                            "\"algorithm\": {\"steps\": 1e3}}",
                            NULL, 0, &err);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const char *keys[] = {"model.dim", "workers", "schedule.period", "algorithm.steps"};
    const long long want[] = {20, 2, 8, 1000};
    for (int k = 0; k < 4; k++) {
        const json_t *v = lsgd_config_get(cfg, keys[k]);
        CU_ASSERT(json_is_integer(v) && json_integer_value(v) == want[k]);
    }
    json_decref(cfg);
}

LSGD_TEST(config, sizes_beyond_their_limits_are_refused_naming_the_key_and_the_limit)
{
    /* 4294967298 workers started 2 processes; steps 1e18 asked for 10^17 rounds */
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"workers\": 4294967298}",
                                    NULL),
                       "bad.json: workers: 4294967298 is above lsgd's limit 1024", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": "
                                    "{\"steps\": 1e18}}", NULL),
                       "algorithm.steps: 1000000000000000000 is above lsgd's limit 1000000000",
                       NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\", \"hidden\": [64, "
                                    "1099511627776]}}", NULL),
                       "model.hidden[1]: 1099511627776 is above lsgd's limit 67108864", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"quadratic\", \"dim\": 1e12}}",
                                    NULL),
                       "model.dim: 1000000000000 is above lsgd's limit 67108864", NULL);
}

LSGD_TEST(config, missing_required_key_is_named_with_its_place)
{
    expect_input_error(validate_cmd("{\"algorithm\": {\"steps\": 10}}", NULL),
                       "bad.json: missing required key 'model' at the top level", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"logreg\"}, \"data\": {\"train\": "
                                    "{\"format\": \"libsvm\"}}}", NULL),
                       "missing required key 'path' at data.train", NULL);
}

LSGD_TEST(config, wrong_type_is_named_with_its_json_path)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": {\"steps\": \"ten\"}}", NULL),
                       "bad.json: algorithm.steps: expected an integer, got \"ten\"", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\", \"hidden\": [128, \"x\"]}}", NULL),
                       "model.hidden[1]: expected an integer", NULL);
}

LSGD_TEST(config, unknown_key_lists_the_known_ones)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"algorithm\": {\"foo\": 1}}", NULL),
                       "unknown key 'foo' at algorithm; known: type, steps, batch_size, lr", NULL);
}

LSGD_TEST(config, unknown_enum_value_suggests_the_nearest)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mpl\"}}", NULL),
                       "model.type: \"mpl\" is not one of", "did you mean 'mlp'", NULL);
}

LSGD_TEST(config, unknown_plugin_name_suggests_the_nearest_known_names)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"scaling\": {\"plugin\": \"adamm\"}}", NULL),
                       "scaling.plugin: unknown scaling plugin 'adamm'; did you mean 'adam'", NULL);
}

LSGD_TEST(config, plugin_parameter_out_of_range_names_the_path_and_bound)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"scaling\": {\"plugin\": \"adam\","
                                    " \"params\": {\"beta2\": 1.5}}}", NULL),
                       "scaling.params.beta2: 1.5 is above the maximum 1 (exclusive)", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}, \"scaling\": {\"plugin\": \"adam\","
                                    " \"params\": {\"beta3\": 0.5}}}", NULL),
                       "unknown parameter 'beta3' at scaling.params for scaling plugin 'adam'",
                       "known: beta1, beta2, eps", NULL);
}

LSGD_TEST(config, bad_set_override_is_bad_input)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}}", "--set algorithm.lr"),
                       "--set 'algorithm.lr': expected KEY=VALUE", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"mlp\"}}", "--set algorithm.lr=-1"),
                       "algorithm.lr: -1 is below the minimum 0 (exclusive)", NULL);
}

LSGD_TEST(config, validate_prints_the_completed_config_with_overrides)
{
    const char *c = validate_cmd("{\"model\": {\"type\": \"mlp\"}}",
                                 "--set algorithm.lr=0.25 --set=scaling.plugin=adam --print --no-data");
    test_output o = test_run(c, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    json_t *printed = json_loads(o.out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(printed);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(printed, "algorithm.lr", -1), 0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(printed, "scaling.params.beta1", -1), 0.9, 0);
    json_decref(printed);
    test_output_free(&o);
}

/* validate refuses what `lsgd run` would refuse before starting, even with
 * --no-data: combinations of settings that make no sense. */
LSGD_TEST(config, validate_refuses_setting_combinations_that_run_refuses)
{
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"quadratic\"}, \"scaling\": "
                                    "{\"plugin\": \"rmsprop\", \"refresh\": \"sync\", \"state\": "
                                    "\"average\"}}", "--no-data"),
                       "scaling.state: 'average' with refresh 'sync'", NULL);
    expect_input_error(validate_cmd("{\"model\": {\"type\": \"quadratic\"}, \"algorithm\": "
                                    "{\"type\": \"minibatch_sgd\", \"steps\": 10}, "
                                    "\"outer\": {\"plugin\": \"sgd\"}}", NULL),
                       "outer: minibatch_sgd averages gradients every step", NULL);
}
