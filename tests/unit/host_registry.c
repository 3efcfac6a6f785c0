/*
 * host_registry.c — plugin discovery reads manifests only, in the order
 * config plugin_path, LSGD_PLUGIN_PATH, built-in; the first of a name wins
 * and the later ones are kept (and listed) as shadowed; one name twice in
 * one directory is refused; an unknown name gets the nearest suggestions.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "host/registry.h"
#include "host_fakes.h"

static json_t *config_with_path(const char *dir)
{
    return json_pack("{s:[s]}", "plugin_path", dir);
}

/* Discovery over plugin_path [dir] refused as input: its message (a
 * static buffer). */
static const char *discovery_refused(const char *dir)
{
    static lsgd_error err;
    json_t *cfg = config_with_path(dir);
    lsgd_registry reg;
    CU_ASSERT_EQUAL(lsgd_registry_discover(&reg, cfg, &err), LSGD_ERR_INPUT);
    json_decref(cfg);
    return err.message;
}

/* The manifest at path refused as input: its message (a static buffer). */
static const char *manifest_refused(const char *path)
{
    static lsgd_error err;
    lsgd_manifest m;
    CU_ASSERT_EQUAL(lsgd_manifest_read(&m, path, &err), LSGD_ERR_INPUT);
    return err.message;
}

static const lsgd_manifest *winner(const lsgd_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->count; i++)
        if (strcmp(reg->plugins[i].name, name) == 0)
            return &reg->plugins[i];
    return NULL;
}

LSGD_TEST(host_registry, config_plugin_path_wins_over_env_which_wins_over_builtin)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", test_tmpdir());
    snprintf(b, sizeof b, "%s", test_tmpdir());
    /* discovery never dlopens: the libraries need not even exist */
    fake_manifest(a, "order.json", "order", "1.0-config", "order.so", NULL, NULL);
    fake_manifest(b, "order.json", "order", "1.0-env", "order.so", NULL, NULL);
    fake_manifest(b, "sgd.json", "sgd", "9.9-env", "sgd.so", NULL, NULL);
    const char *old = getenv("LSGD_PLUGIN_PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("LSGD_PLUGIN_PATH", b, 1);
    json_t *cfg = config_with_path(a);
    lsgd_registry reg;
    lsgd_error err;
    int rc = lsgd_registry_discover(&reg, cfg, &err);
    if (saved)
        setenv("LSGD_PLUGIN_PATH", saved, 1);
    else
        unsetenv("LSGD_PLUGIN_PATH");
    free(saved);
    json_decref(cfg);
    if (rc)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, LSGD_OK);
    const lsgd_manifest *order = winner(&reg, "order");
    CU_ASSERT_PTR_NOT_NULL_FATAL(order);
    CU_ASSERT_STRING_EQUAL(order->version, "1.0-config");
    CU_ASSERT_STRING_EQUAL(order->origin, "plugin_path");
    /* the env's sgd shadows the built-in one, which is kept as shadowed */
    const lsgd_manifest *sgd = winner(&reg, "sgd");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sgd);
    CU_ASSERT_STRING_EQUAL(sgd->version, "9.9-env");
    int shadowed_order = 0, shadowed_builtin_sgd = 0;
    for (size_t i = 0; i < reg.shadowed_count; i++) {
        shadowed_order += strcmp(reg.shadowed[i].name, "order") == 0 &&
                          strcmp(reg.shadowed[i].version, "1.0-env") == 0;
        shadowed_builtin_sgd += strcmp(reg.shadowed[i].name, "sgd") == 0 &&
                                strcmp(reg.shadowed[i].origin, "built-in") == 0;
    }
    CU_ASSERT_EQUAL(shadowed_order, 1);
    CU_ASSERT_EQUAL(shadowed_builtin_sgd, 1);
    lsgd_registry_free(&reg);
}

LSGD_TEST(host_registry, builtin_directory_is_found_beside_the_library)
{
    const char *dir = lsgd_builtin_plugin_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char expected[4096];
    if (!realpath(test_build_path("plugins"), expected))
        CU_FAIL_FATAL("no build plugins directory");
    CU_ASSERT_STRING_EQUAL(dir, expected);
}

LSGD_TEST(host_registry, manifest_library_path_is_relative_to_the_manifest)
{
    TEST_TMPDIR(dir);
    const char *path = fake_manifest(dir, "rel.json", "rel", "1.0", "sub/rel.so", NULL, NULL);
    lsgd_manifest m;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_manifest_read(&m, path, &err), LSGD_OK);
    char expected[8192], real_dir[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(dir, real_dir));
    snprintf(expected, sizeof expected, "%s/sub/rel.so", real_dir);
    CU_ASSERT_STRING_EQUAL(m.library, expected);
    CU_ASSERT_EQUAL(m.kind, LSGD_KIND_SCALING);
    CU_ASSERT_EQUAL(m.abi_major, 1);
    CU_ASSERT_TRUE(json_is_array(m.requires));
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_registry, two_manifests_of_one_name_in_one_directory_are_refused)
{
    TEST_TMPDIR(dir);
    fake_manifest(dir, "a.json", "twin", "1.0", "a.so", NULL, NULL);
    fake_manifest(dir, "b.json", "twin", "2.0", "b.so", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(discovery_refused(dir),
                                  "duplicate plugin name: scaling plugin 'twin'"));
}

LSGD_TEST(host_registry, missing_plugin_path_directory_is_named)
{
    CU_ASSERT_STRING_EQUAL(discovery_refused("/nonexistent/lsgd-plugins"),
                           "plugin_path[0]: plugin directory '/nonexistent/lsgd-plugins' does not "
                           "exist");
}

LSGD_TEST(host_registry, unknown_name_suggests_the_nearest_known_names)
{
    TEST_TMPDIR(dir);
    fake_manifest(dir, "precond.json", "precond", "1.0", "p.so", NULL, NULL);
    fake_manifest(dir, "precise.json", "precise", "1.0", "q.so", NULL, NULL);
    json_t *cfg = config_with_path(dir);
    lsgd_registry reg;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_registry_discover(&reg, cfg, &err), LSGD_OK);
    const lsgd_manifest *m;
    CU_ASSERT_EQUAL(lsgd_registry_resolve(&m, &reg, LSGD_KIND_SCALING, "precnd", "scaling.plugin", &err),
                    LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "scaling.plugin: unknown scaling plugin 'precnd'; "
                                               "did you mean 'precond'"));
    CU_ASSERT_EQUAL(lsgd_registry_resolve(&m, &reg, LSGD_KIND_SCALING, "precond", "scaling.plugin", &err),
                    LSGD_OK);
    CU_ASSERT_STRING_EQUAL(m->name, "precond");
    /* kind matters: a scaling plugin is no transport */
    CU_ASSERT_EQUAL(lsgd_registry_resolve(&m, &reg, LSGD_KIND_TRANSPORT, "precond", "transport.plugin", &err),
                    LSGD_ERR_INPUT);
    lsgd_registry_free(&reg);
    json_decref(cfg);
}

LSGD_TEST(host_registry, malformed_manifest_names_file_line_and_column)
{
    TEST_TMPDIR(dir);
    const char *path = test_write_file(dir, "broken.json", "{\n  \"name\": \"x\",\n  \"kind\" \"scaling\"\n}\n");
    const char *message = manifest_refused(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(message, "broken.json: line 3, column"));
    CU_ASSERT_PTR_NOT_NULL(strstr(message, "malformed JSON"));
}

LSGD_TEST(host_registry, a_manifest_that_is_a_fifo_or_directory_is_refused_without_blocking)
{
    TEST_TMPDIR(dir);
    char path[4200], cmd[8600];
    snprintf(path, sizeof path, "%s/fifo.json", dir);
    snprintf(cmd, sizeof cmd, "mkfifo '%s' && mkdir '%s/dir.json'", path, dir);
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest_refused(path), "fifo.json: cannot read plugin manifest: "
                                  "it is a FIFO (named pipe); expected a regular file"));
    snprintf(path, sizeof path, "%s/dir.json", dir);
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest_refused(path), "it is a directory"));
    /* discovery passes over both (no .so beside them) instead of waiting on the FIFO */
    json_t *cfg = config_with_path(dir);
    lsgd_registry reg;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_registry_discover(&reg, cfg, &err), LSGD_OK);
    lsgd_registry_free(&reg);
    json_decref(cfg);
}

LSGD_TEST(host_registry, manifest_missing_a_field_is_checked_against_the_manifest_schema)
{
    TEST_TMPDIR(dir);
    const char *path = test_write_file(dir, "nokind.json",
                                       "{\"name\":\"x\",\"version\":\"1\",\"abi\":{\"major\":1,\"minor\":0},"
                                       "\"library\":\"x.so\",\"description\":\"d\"}");
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest_refused(path),
                                  "missing required key 'kind' at the top level"));
    path = test_write_file(dir, "badkind.json",
                           "{\"name\":\"x\",\"kind\":\"optimizer\",\"version\":\"1\",\"abi\":{\"major\":1,"
                           "\"minor\":0},\"library\":\"x.so\",\"description\":\"d\"}");
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest_refused(path),
                                  "kind: \"optimizer\" is not one of scaling, transport"));
}

LSGD_TEST(host_registry, manifest_started_by_names_the_launchers_of_a_transports_workers)
{
    lsgd_manifest m;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_manifest_read(&m, test_root_path("transports/mpi/mpi.json"), &err),
                          LSGD_OK);
    CU_ASSERT_EQUAL(json_array_size(m.started_by), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(m.started_by, 0)), "mpirun");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(m.started_by, 1)), "srun");
    lsgd_manifest_free(&m);
    /* absent: lsgd run starts the workers */
    CU_ASSERT_EQUAL_FATAL(lsgd_manifest_read(&m, test_root_path("transports/shm/shm.json"), &err),
                          LSGD_OK);
    CU_ASSERT_TRUE(json_is_array(m.started_by));
    CU_ASSERT_EQUAL(json_array_size(m.started_by), 0);
    lsgd_manifest_free(&m);
    TEST_TMPDIR(dir);
    const char *path = test_write_file(dir, "one.json",
                                       "{\"name\":\"x\",\"kind\":\"transport\",\"version\":\"1\","
                                       "\"abi\":{\"major\":1,\"minor\":0},\"library\":\"x.so\","
                                       "\"description\":\"d\",\"started_by\":\"mpirun\"}");
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest_refused(path), "started_by"));
}
