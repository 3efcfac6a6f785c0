/*
 * host_params.c — plugin parameters are checked against the manifest
 * before a plugin sees them: defaults filled, unknown names refused with
 * the known ones, types and ranges enforced, required ones demanded; the
 * plugin's view reads them back.
 */
#include <string.h>

#include "harness.h"
#include "host/params.h"
#include "host/registry.h"
#include "host_fakes.h"

static const char *const adam_like =
    "{\"beta1\": {\"type\": \"number\", \"default\": 0.9, \"minimum\": 0, \"exclusiveMaximum\": 1,"
    "            \"description\": \"first moment decay\"},"
    " \"beta2\": {\"type\": \"number\", \"default\": 0.999, \"minimum\": 0, \"exclusiveMaximum\": 1,"
    "            \"description\": \"second moment decay\"},"
    " \"eps\": {\"type\": \"number\", \"default\": 1e-8, \"exclusiveMinimum\": 0,"
    "          \"description\": \"floor of D\"},"
    " \"warmup\": {\"type\": \"integer\", \"default\": 0, \"minimum\": 0, \"description\": \"steps\"},"
    " \"nesterov\": {\"type\": \"boolean\", \"default\": false, \"description\": \"look ahead\"},"
    " \"mode\": {\"type\": \"string\", \"enum\": [\"fast\", \"exact\"], \"default\": \"fast\","
    "           \"description\": \"which\"}}";

static void read_manifest(lsgd_manifest *m, const char *params)
{
    TEST_TMPDIR(dir);
    const char *path = fake_manifest(dir, "adamish.json", "adamish", "1.0", "adamish.so", NULL,
                                     params);
    lsgd_error err;
    int rc = lsgd_manifest_read(m, path, &err);
    if (rc)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
}

static int validate(const lsgd_manifest *m, const char *given_text, json_t **out, lsgd_error *err)
{
    json_t *given = given_text ? json_loads(given_text, 0, NULL) : NULL;
    lsgd_error_clear(err);
    int rc = lsgd_params_validate(out, m, given, "scaling.params", err);
    json_decref(given);
    return rc;
}

/* given_text refused as input for a plugin whose manifest declares params,
 * nothing handed back; returns the message (a static buffer). */
static const char *refused(const char *params, const char *given_text)
{
    static lsgd_error err;
    lsgd_manifest m;
    read_manifest(&m, params);
    json_t *v = NULL;
    CU_ASSERT_EQUAL(validate(&m, given_text, &v, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(v);
    lsgd_manifest_free(&m);
    return err.message;
}

LSGD_TEST(host_params, absent_params_get_every_default)
{
    lsgd_manifest m;
    read_manifest(&m, adam_like);
    json_t *v;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(validate(&m, NULL, &v, &err), LSGD_OK);
    lsgd_params view;
    lsgd_params_view(&view, v);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_param_number(&view, "beta1"), 0.9, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_param_number(&view, "eps"), 1e-8, 1e-20);
    CU_ASSERT_EQUAL(lsgd_param_bool(&view, "nesterov"), 0);
    CU_ASSERT_STRING_EQUAL(lsgd_param_string(&view, "mode"), "fast");
    /* a key the manifest does not declare reads as 0 / NULL */
    CU_ASSERT_DOUBLE_EQUAL(lsgd_param_number(&view, "nope"), 0, 0);
    CU_ASSERT_PTR_NULL(lsgd_param_string(&view, "nope"));
    json_decref(v);
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_params, given_values_override_defaults_and_the_rest_are_filled)
{
    lsgd_manifest m;
    read_manifest(&m, adam_like);
    json_t *v;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(validate(&m, "{\"beta2\": 0.95, \"nesterov\": true, \"warmup\": 10}", &v, &err),
                          LSGD_OK);
    lsgd_params view;
    lsgd_params_view(&view, v);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_param_number(&view, "beta2"), 0.95, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_param_number(&view, "beta1"), 0.9, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_param_number(&view, "warmup"), 10, 0);
    CU_ASSERT_EQUAL(lsgd_param_bool(&view, "nesterov"), 1);
    CU_ASSERT_EQUAL(json_object_size(v), 6);
    json_decref(v);
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_params, unknown_parameter_is_refused_with_the_known_ones_listed)
{
    CU_ASSERT_STRING_EQUAL(refused(adam_like, "{\"beta3\": 0.5}"),
                           "unknown parameter 'beta3' at scaling.params for scaling plugin 'adamish' "
                           "(did you mean 'beta1' or 'beta2'?); known: beta1, beta2, eps, warmup, "
                           "nesterov, mode");
}

LSGD_TEST(host_params, wrong_type_and_out_of_range_values_name_the_parameter)
{
    CU_ASSERT_STRING_EQUAL(refused(adam_like, "{\"beta2\": 1.5}"),
                           "scaling plugin 'adamish': scaling.params.beta2: 1.5 is above the "
                           "maximum 1 (exclusive)");
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(adam_like, "{\"eps\": 0}"),
                                  "scaling.params.eps: 0 equals the minimum 0, which is exclusive"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(adam_like, "{\"warmup\": 1.5}"),
                                  "scaling.params.warmup: expected an integer, got 1.5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(adam_like, "{\"nesterov\": \"yes\"}"),
                                  "scaling.params.nesterov: expected a boolean"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(adam_like, "{\"mode\": \"exakt\"}"),
                                  "did you mean 'exact'?"));
}

LSGD_TEST(host_params, params_that_are_not_an_object_are_refused)
{
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(adam_like, "[0.9]"), "scaling.params: expected an object"));
}

LSGD_TEST(host_params, parameter_without_default_must_be_given)
{
    const char *endpoint =
        "{\"endpoint\": {\"type\": \"string\", \"description\": \"where to connect\"}}";
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(endpoint, "{}"),
                                  "missing required parameter 'endpoint' at scaling.params"));
    lsgd_manifest m;
    read_manifest(&m, endpoint);
    json_t *v = NULL;
    lsgd_error err;
    CU_ASSERT_EQUAL(validate(&m, "{\"endpoint\": \"tcp://h:1\"}", &v, &err), LSGD_OK);
    json_decref(v);
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_params, plugin_without_params_says_it_takes_none)
{
    CU_ASSERT_PTR_NOT_NULL(strstr(refused(NULL, "{\"lr\": 1}"), "takes no parameters"));
}

LSGD_TEST(host_params, manifest_default_outside_its_own_range_is_a_manifest_error)
{
    TEST_TMPDIR(dir);
    const char *path = fake_manifest(dir, "bad.json", "bad", "1.0", "bad.so", NULL,
                                     "{\"beta\": {\"type\": \"number\", \"default\": 2, \"maximum\": 1, "
                                     "\"description\": \"d\"}}");
    lsgd_manifest m;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_manifest_read(&m, path, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "params.beta.default: 2 is above the maximum 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
}
