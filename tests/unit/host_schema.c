/*
 * host_schema.c — the in-house JSON Schema subset validator: messages name
 * the JSON path and what was expected, defaults are filled in, and
 * alternatives/conditionals behave as JSON Schema 2020-12 says.
 */
#include <string.h>

#include "harness.h"
#include "host/schema.h"

/* Check `value_text` against `schema_text`; returns status, message in err. */
static int check_text(const char *schema_text, const char *value_text, json_t **value_out,
                      lsgd_error *err)
{
    json_t *schema = json_loads(schema_text, 0, NULL);
    json_t *value = json_loads(value_text, JSON_DECODE_ANY, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(schema);
    CU_ASSERT_PTR_NOT_NULL_FATAL(value);
    lsgd_error_clear(err);
    int rc = lsgd_schema_check(schema, schema, value, "", err);
    if (value_out)
        *value_out = value;
    else
        json_decref(value);
    json_decref(schema);
    return rc;
}

static void expect_message(const char *schema, const char *value, const char *message)
{
    lsgd_error err;
    int rc = check_text(schema, value, NULL, &err);
    CU_ASSERT_EQUAL(rc, LSGD_ERR_INPUT);
    if (strcmp(err.message, message) != 0)
        fprintf(stderr, "\n  expected: %s\n  got:      %s\n", message, err.message);
    CU_ASSERT_STRING_EQUAL(err.message, message);
}

static const char *const nested =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    " \"scaling\":{\"type\":\"object\",\"properties\":{"
    "   \"params\":{\"type\":\"object\",\"properties\":{"
    "     \"beta2\":{\"type\":\"number\",\"minimum\":0,\"exclusiveMaximum\":1}}}}},"
    " \"algorithm\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "   \"type\":{\"enum\":[\"local_sgd\",\"minibatch_sgd\"]},"
    "   \"steps\":{\"type\":\"integer\",\"minimum\":1},"
    "   \"batch_size\":{\"type\":\"integer\"}}},"
    " \"hidden\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1},\"minItems\":1}},"
    "\"required\":[\"algorithm\"]}";

LSGD_TEST(host_schema, range_error_names_the_json_path_and_the_exclusive_bound)
{
    expect_message(nested, "{\"algorithm\":{},\"scaling\":{\"params\":{\"beta2\":1.5}}}",
                   "scaling.params.beta2: 1.5 is above the maximum 1 (exclusive)");
    expect_message(nested, "{\"algorithm\":{},\"scaling\":{\"params\":{\"beta2\":1}}}",
                   "scaling.params.beta2: 1 equals the maximum 1, which is exclusive");
    expect_message(nested, "{\"algorithm\":{\"steps\":0}}", "algorithm.steps: 0 is below the minimum 1");
}

LSGD_TEST(host_schema, unknown_key_lists_the_known_keys_and_suggests_the_nearest)
{
    expect_message(nested, "{\"algorithm\":{\"step\":3}}",
                   "unknown key 'step' at algorithm (did you mean 'steps'?); known: type, steps, "
                   "batch_size");
    expect_message(nested, "{\"algorithm\":{},\"zzz\":1}",
                   "unknown key 'zzz' at the top level; known: scaling, algorithm, hidden");
}

LSGD_TEST(host_schema, type_errors_say_what_was_expected_and_what_was_given)
{
    expect_message(nested, "{\"algorithm\":{\"steps\":\"ten\"}}",
                   "algorithm.steps: expected an integer, got \"ten\"");
    expect_message(nested, "{\"algorithm\":{\"steps\":2.5}}",
                   "algorithm.steps: expected an integer, got 2.5");
    expect_message(nested, "{\"algorithm\":[]}", "algorithm: expected an object, got an array");
    expect_message(nested, "{\"algorithm\":{},\"hidden\":[4,0]}",
                   "hidden[1]: 0 is below the minimum 1");
    expect_message(nested, "{\"algorithm\":{},\"hidden\":[]}",
                   "hidden: expected at least 1 item, got 0");
}

LSGD_TEST(host_schema, integral_reals_count_as_integers_as_in_json_schema)
{
    lsgd_error err;
    CU_ASSERT_EQUAL(check_text(nested, "{\"algorithm\":{\"steps\":3.0}}", NULL, &err), LSGD_OK);
}

LSGD_TEST(host_schema, an_integral_real_taken_as_an_integer_becomes_that_integer)
{
    lsgd_error err;
    json_t *value;
    CU_ASSERT_EQUAL(check_text(nested, "{\"algorithm\":{\"steps\":20.0,\"batch_size\":1e6},"
                                       "\"hidden\":[8.0,16],\"scaling\":{\"params\":"
                                       "{\"beta2\":0.0}}}",
                               &value, &err),
                    LSGD_OK);
    const json_t *steps = json_object_get(json_object_get(value, "algorithm"), "steps");
    const json_t *batch = json_object_get(json_object_get(value, "algorithm"), "batch_size");
    const json_t *hidden = json_array_get(json_object_get(value, "hidden"), 0);
    CU_ASSERT(json_is_integer(steps) && json_integer_value(steps) == 20);
    CU_ASSERT(json_is_integer(batch) && json_integer_value(batch) == 1000000);
    CU_ASSERT(json_is_integer(hidden) && json_integer_value(hidden) == 8);
    /* a "number" stays a real */
    CU_ASSERT(json_is_real(json_object_get(
        json_object_get(json_object_get(value, "scaling"), "params"), "beta2")));
    json_decref(value);
    /* a single member (a plugin parameter) is replaced in its object */
    json_t *schema = json_loads("{\"type\":\"integer\"}", 0, NULL);
    json_t *params = json_loads("{\"k\":4.0}", 0, NULL);
    CU_ASSERT_EQUAL(lsgd_schema_check_member(schema, schema, params, "k", "p.k", &err), LSGD_OK);
    CU_ASSERT(json_is_integer(json_object_get(params, "k")));
    json_decref(params);
    json_decref(schema);
}

/* A real beyond int64 is a number, but no integer lsgd could hold: it is
 * out of range (the key's own range when the schema gives one), not "not
 * an integer". */
LSGD_TEST(host_schema, an_integral_real_beyond_int64_is_out_of_range_naming_key_value_and_range)
{
    expect_message(nested, "{\"algorithm\":{\"batch_size\":1e20}}",
                   "algorithm.batch_size: 1e+20 is out of range; expected an integer from "
                   "-9223372036854775808 to 9223372036854775807");
    expect_message(nested, "{\"algorithm\":{\"steps\":-1e19}}",
                   "algorithm.steps: -1e+19 is below the minimum 1");
    expect_message("{\"type\":\"object\",\"properties\":{\"workers\":"
                   "{\"type\":[\"integer\",\"string\"],\"maximum\":1024}}}",
                   "{\"workers\":1e19}", "workers: 1e+19 is above the maximum 1024");
    expect_message(nested, "{\"hidden\":[8,9.3e18]}",
                   "hidden[1]: 9.3e+18 is out of range; expected an integer from "
                   "-9223372036854775808 to 9223372036854775807");
}

LSGD_TEST(host_schema, missing_required_key_and_enum_typo_are_named)
{
    expect_message(nested, "{}", "missing required key 'algorithm' at the top level");
    expect_message(nested, "{\"algorithm\":{\"type\":\"local_sdg\"}}",
                   "algorithm.type: \"local_sdg\" is not one of local_sgd, minibatch_sgd "
                   "(did you mean 'local_sgd'?)");
}

LSGD_TEST(host_schema, defaults_are_filled_through_refs_and_nested_objects)
{
    const char *schema =
        "{\"type\":\"object\",\"properties\":{"
        " \"a\":{\"$ref\":\"#/$defs/a\",\"default\":{}}},"
        "\"$defs\":{\"a\":{\"type\":\"object\",\"properties\":{"
        " \"x\":{\"type\":\"number\",\"default\":0.5},"
        " \"inner\":{\"type\":\"object\",\"default\":{},\"properties\":{\"y\":{\"default\":[1,2]}}}}}}}";
    json_t *value;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(check_text(schema, "{}", &value, &err), LSGD_OK);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(json_object_get(value, "a"), "x")),
                           0.5, 0);
    json_t *y = json_object_get(json_object_get(json_object_get(value, "a"), "inner"), "y");
    CU_ASSERT_EQUAL(json_array_size(y), 2);
    json_decref(value);
    /* a given value is kept */
    CU_ASSERT_EQUAL_FATAL(check_text(schema, "{\"a\":{\"x\":2}}", &value, &err), LSGD_OK);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(json_object_get(value, "a"), "x")),
                           2, 0);
    json_decref(value);
}

LSGD_TEST(host_schema, if_then_fills_defaults_only_when_the_condition_holds)
{
    const char *schema =
        "{\"type\":\"object\",\"properties\":{\"type\":{\"enum\":[\"mlp\",\"logreg\"]},"
        " \"hidden\":{\"type\":\"array\"}},"
        "\"allOf\":[{\"if\":{\"properties\":{\"type\":{\"const\":\"mlp\"}}},"
        "            \"then\":{\"properties\":{\"hidden\":{\"default\":[256]}}}}]}";
    json_t *value;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(check_text(schema, "{\"type\":\"mlp\"}", &value, &err), LSGD_OK);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(value, "hidden"));
    json_decref(value);
    CU_ASSERT_EQUAL_FATAL(check_text(schema, "{\"type\":\"logreg\"}", &value, &err), LSGD_OK);
    CU_ASSERT_PTR_NULL(json_object_get(value, "hidden"));
    json_decref(value);
}

LSGD_TEST(host_schema, any_of_reports_the_branch_that_got_furthest_and_keeps_its_defaults)
{
    const char *schema =
        "{\"anyOf\":["
        " {\"type\":\"object\",\"required\":[\"format\"],\"properties\":{\"format\":{\"type\":\"string\"},"
        "   \"header\":{\"default\":false}}},"
        " {\"type\":\"object\",\"required\":[\"split\"],\"additionalProperties\":false,"
        "  \"properties\":{\"split\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}}}]}";
    expect_message(schema, "{\"split\":1.5}", "split: 1.5 is above the maximum 1 (exclusive)");
    expect_message(schema, "{\"other\":1}", "missing required key 'format' at the top level");
    json_t *value;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(check_text(schema, "{\"format\":\"csv\"}", &value, &err), LSGD_OK);
    CU_ASSERT_TRUE(json_is_false(json_object_get(value, "header")));
    json_decref(value);
    CU_ASSERT_EQUAL_FATAL(check_text(schema, "{\"split\":0.25}", &value, &err), LSGD_OK);
    CU_ASSERT_PTR_NULL(json_object_get(value, "header")); /* failed branch left nothing */
    json_decref(value);
}

LSGD_TEST(host_schema, one_of_rejects_two_matches_and_error_message_replaces_the_text)
{
    const char *schema =
        "{\"type\":\"object\",\"oneOf\":[{\"required\":[\"rounds\"]},{\"required\":[\"slope\"]}],"
        "\"errorMessage\":\"needs exactly one of 'rounds' or 'slope'\"}";
    lsgd_error err;
    CU_ASSERT_EQUAL(check_text(schema, "{\"rounds\":3}", NULL, &err), LSGD_OK);
    expect_message(schema, "{\"rounds\":3,\"slope\":1}",
                   "the top level: needs exactly one of 'rounds' or 'slope'");
    expect_message(schema, "{}", "the top level: needs exactly one of 'rounds' or 'slope'");
}

LSGD_TEST(host_schema, messages_stay_on_one_line_whatever_the_input)
{
    lsgd_error err;
    check_text(nested, "{\"algorithm\":{\"type\":\"a\\nb\"},\"bad\\nkey\":1}", NULL, &err);
    CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
}

LSGD_TEST(host_schema, embedded_schemas_are_the_shipped_files)
{
    lsgd_error err;
    const json_t *config = lsgd_schema_get("config", &err);
    const json_t *manifest = lsgd_schema_get("manifest", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(config);
    CU_ASSERT_PTR_NOT_NULL_FATAL(manifest);
    json_t *file = json_load_file(test_root_path("schemas/config.schema.json"), 0, NULL);
    CU_ASSERT_TRUE(json_equal(file, config));
    json_decref(file);
    file = json_load_file(test_root_path("schemas/manifest.schema.json"), 0, NULL);
    CU_ASSERT_TRUE(json_equal(file, manifest));
    json_decref(file);
    /* every section has its own $defs entry */
    const char *sections[] = {"model", "data", "dataset", "algorithm", "schedule", "scaling",
                              "outer", "transport", "output", "metrics"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(config, "$defs"), sections[i]));
}
