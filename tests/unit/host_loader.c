/*
 * host_loader.c — dlopen of FAKE plugins, each with one fault, through the
 * real binary (`lsgd plugins check`, `lsgd run`): every refusal is exit 2
 * with one line naming the plugin, its library and the exact mismatch;
 * `plugins check` on a plugin with several faults prints one line for each
 * (a run still stops at the first).  And the happy path: a correct plugin
 * loads and agrees with its manifest.
 */
#include <string.h>

#include "harness.h"
#include "host/loader.h"
#include "host_fakes.h"

static char cmd[8192];

static const char *check_cmd(const char *path)
{
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' plugins check '%s'", lsgd_bin(), path);
    return cmd;
}

LSGD_TEST(host_loader, correct_fake_plugin_passes_check)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "fake.so", NULL), 0);
    const char *manifest = fake_manifest(dir, "fake.json", "fake", "1.0.0", "fake.so", NULL, NULL);
    test_output o = test_run(check_cmd(manifest), 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "ok: scaling plugin 'fake' 1.0.0"));
    CU_ASSERT_STRING_EQUAL(o.err, "");
    test_output_free(&o);
}

LSGD_TEST(host_loader, manifest_whose_library_is_missing_is_refused)
{
    HOST_TMPDIR(dir);
    const char *manifest = fake_manifest(dir, "ghost.json", "ghost", "1.0.0", "ghost.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'ghost'", "ghost.so",
                       "does not exist", NULL);
}

LSGD_TEST(host_loader, library_without_entry_symbol_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_no_entry.c", "noentry.so", NULL), 0);
    const char *manifest = fake_manifest(dir, "noentry.json", "noentry", "1.0.0", "noentry.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'noentry'", "noentry.so",
                       "no entry symbol lsgd_plugin_entry", "dlsym:", NULL);
}

LSGD_TEST(host_loader, abi_major_mismatch_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "abi2.so", "-DFAKE_NAME='\"abi2\"' -DFAKE_ABI_MAJOR=2"), 0);
    const char *manifest = fake_manifest(dir, "abi2.json", "abi2", "1.0.0", "abi2.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'abi2'", "abi2.so",
                       "built for plugin ABI 2.0, but this host speaks ABI 1.0", NULL);
}

LSGD_TEST(host_loader, descriptor_name_differing_from_manifest_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "named.so",
                                     "-DFAKE_NAME='\"other\"' -DFAKE_VERSION='\"2.0\"'"), 0);
    const char *manifest = fake_manifest(dir, "named.json", "named", "1.0.0", "named.so", NULL, NULL);
    /* every differing field in the one line */
    expect_input_error(check_cmd(manifest), "descriptor disagrees with manifest",
                       "name 'other' in the library, 'named' in the manifest",
                       "version '2.0' in the library, '1.0.0' in the manifest", NULL);
}

LSGD_TEST(host_loader, required_capability_the_host_lacks_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "needy.so", "-DFAKE_NAME='\"needy\"'"), 0);
    const char *manifest = fake_manifest(dir, "needy.json", "needy", "1.0.0", "needy.so",
                                         "[\"rng\", \"quantum\"]", NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'needy'",
                       "requires capability \"quantum\", which this host does not provide", NULL);
}

LSGD_TEST(host_loader, hvp_plugin_is_refused_when_the_model_has_no_hvp)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "curv.so",
                                     "-DFAKE_NAME='\"curv\"' -DFAKE_STATISTIC_HVP"), 0);
    const char *path = fake_manifest(dir, "curv.json", "curv", "1.0.0", "curv.so", "[\"hvp\"]", NULL);
    lsgd_manifest m;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_manifest_read(&m, path, &err), LSGD_OK);
    lsgd_loaded loaded;
    static const char *const without_hvp[] = {"rng", NULL};
    static const char *const with_hvp[] = {"hvp", NULL};
    CU_ASSERT_EQUAL(lsgd_plugin_load(&loaded, &m, without_hvp, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "requires \"hvp\""));
    CU_ASSERT_PTR_NULL(loaded.handle);
    CU_ASSERT_EQUAL_FATAL(lsgd_plugin_load(&loaded, &m, with_hvp, &err), LSGD_OK);
    CU_ASSERT_STRING_EQUAL(loaded.plugin->name, "curv");
    CU_ASSERT_PTR_EQUAL(loaded.manifest, &m);
    lsgd_plugin_unload(&loaded);
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_loader, hvp_statistic_without_hvp_in_requires_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "sneaky.so",
                                     "-DFAKE_NAME='\"sneaky\"' -DFAKE_STATISTIC_HVP"), 0);
    const char *manifest = fake_manifest(dir, "sneaky.json", "sneaky", "1.0.0", "sneaky.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "statistic_kind HVP", "does not list \"hvp\"", NULL);
}

LSGD_TEST(host_loader, so_file_that_is_not_elf_is_refused)
{
    HOST_TMPDIR(dir);
    test_write_file(dir, "text.so", "this is not a shared object\n");
    const char *manifest = fake_manifest(dir, "text.json", "text", "1.0.0", "text.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'text'", "not an ELF shared object",
                       "dlopen:", NULL);
    /* and given the .so itself, check finds the manifest beside it */
    snprintf(cmd, sizeof cmd, "'%s' plugins check '%s/text.so'", lsgd_bin(), dir);
    expect_input_error(cmd, "not an ELF shared object", NULL);
}

LSGD_TEST(host_loader, duplicate_plugin_names_in_one_directory_are_refused)
{
    HOST_TMPDIR(dir);
    fake_manifest(dir, "one.json", "twin", "1.0.0", "one.so", NULL, NULL);
    fake_manifest(dir, "two.json", "twin", "2.0.0", "two.so", NULL, NULL);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s' plugins list", dir, lsgd_bin());
    expect_input_error(cmd, "duplicate plugin name: scaling plugin 'twin'", "one.json", "two.json",
                       NULL);
}

LSGD_TEST(host_loader, run_refuses_a_broken_plugin_once_before_starting_workers)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_no_entry.c", "broken.so", NULL), 0);
    fake_manifest(dir, "broken.json", "broken", "1.0.0", "broken.so", NULL, NULL);
    char config[4096];
    snprintf(config, sizeof config,
             "{\"plugin_path\": [\"%s\"], \"workers\": 2, \"model\": {\"type\": \"quadratic\"},"
             " \"scaling\": {\"plugin\": \"broken\"}, \"output\": {\"dir\": \"%s/out\"}}",
             dir, dir);
    const char *path = test_write_file(dir, "run.json", config);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' run '%s'", lsgd_bin(), path);
    expect_input_error(cmd, "scaling plugin 'broken'", "no entry symbol", NULL);
}

LSGD_TEST(host_loader, malformed_manifest_beside_its_library_names_line_and_column)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "fake.so", NULL), 0);
    test_write_file(dir, "fake.json", "{\n  \"name\": \"fake\",\n  \"kind\": \"scaling\"\n  \"version\": \"1.0.0\"\n}\n");
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s' plugins list", dir, lsgd_bin());
    expect_input_error(cmd, "plugin manifest", "fake.json: line 4, column", "malformed JSON", NULL);
    snprintf(cmd, sizeof cmd, "'%s' plugins check '%s/fake.so'", lsgd_bin(), dir);
    expect_input_error(cmd, "fake.json: line 4, column", NULL);
}

LSGD_TEST(host_loader, plugin_built_for_a_newer_abi_minor_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "future.so",
                                     "-DFAKE_NAME='\"future\"' -DFAKE_ABI_MINOR=7"), 0);
    /* the manifest agrees with its library: the host's age is the only fault */
    const char *manifest = test_write_file(dir, "future.json",
        "{\"name\": \"future\", \"kind\": \"scaling\", \"version\": \"1.0.0\",\n"
        " \"abi\": {\"major\": 1, \"minor\": 7}, \"library\": \"future.so\",\n"
        " \"description\": \"FAKE plugin built against a newer lsgd\"}\n");
    expect_input_error(check_cmd(manifest), "scaling plugin 'future'", "future.so",
                       "built for plugin ABI 1.7, newer than this host's 1.0", NULL);
    lsgd_manifest m;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_manifest_read(&m, manifest, &err), LSGD_OK);
    lsgd_loaded loaded;
    CU_ASSERT_EQUAL(lsgd_plugin_load(&loaded, &m, NULL, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "newer than this host's 1.0"));
    CU_ASSERT_PTR_NULL(loaded.handle);
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_loader, descriptor_smaller_than_the_abi_says_is_refused)
{
    HOST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "short.so",
                                     "-DFAKE_NAME='\"short\"' -DFAKE_STRUCT_SIZE=16"), 0);
    const char *manifest = fake_manifest(dir, "short.json", "short", "1.0.0", "short.so", NULL, NULL);
    char needle[128];
    snprintf(needle, sizeof needle, "descriptor struct_size 16 is smaller than the %zu bytes of ABI 1.0",
             offsetof(lsgd_plugin, ops) + sizeof(const void *));
    expect_input_error(check_cmd(manifest), "scaling plugin 'short'", "short.so", needle, NULL);
}

LSGD_TEST(host_loader, check_reports_every_problem_of_a_plugin_and_run_stops_at_the_first)
{
    HOST_TMPDIR(dir);
    /* two faults: the library says version 2.0, and it needs a capability no host has */
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "twofold.so",
                                     "-DFAKE_NAME='\"twofold\"' -DFAKE_VERSION='\"2.0\"'"), 0);
    const char *manifest = fake_manifest(dir, "twofold.json", "twofold", "1.0.0", "twofold.so",
                                         "[\"quantum\"]", NULL);
    expect_input_errors(check_cmd(manifest), 2,
                    "scaling plugin 'twofold' (", "version '2.0' in the library, '1.0.0' in the manifest",
                    "requires capability \"quantum\", which this host does not provide", NULL);
    char config[4096];
    snprintf(config, sizeof config,
             "{\"plugin_path\": [\"%s\"], \"workers\": 2, \"model\": {\"type\": \"quadratic\"},"
             " \"scaling\": {\"plugin\": \"twofold\"}, \"output\": {\"dir\": \"%s/out\"}}",
             dir, dir);
    const char *path = test_write_file(dir, "run.json", config);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' run '%s'", lsgd_bin(), path);
    expect_input_error(cmd, "scaling plugin 'twofold'", "version '2.0' in the library", NULL);
}

LSGD_TEST(host_loader, check_of_a_missing_library_still_checks_what_the_manifest_requires)
{
    HOST_TMPDIR(dir);
    const char *manifest = fake_manifest(dir, "ghost.json", "ghost", "1.0.0", "ghost.so",
                                         "[\"quantum\", \"rng\", \"teleport\"]", NULL);
    expect_input_errors(check_cmd(manifest), 3, "ghost.so", "does not exist",
                    "requires capability \"quantum\"", "requires capability \"teleport\"", NULL);
}

LSGD_TEST(host_loader, check_reads_no_descriptor_field_of_another_abi_major)
{
    HOST_TMPDIR(dir);
    /* ABI 2 and a wrong version: a 2.x layout is unknown, so only the ABI
     * is reported from the library, then the manifest's own problem */
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "abi2.so",
                                     "-DFAKE_NAME='\"abi2\"' -DFAKE_ABI_MAJOR=2 -DFAKE_VERSION='\"9\"'"), 0);
    const char *manifest = fake_manifest(dir, "abi2.json", "abi2", "1.0.0", "abi2.so",
                                         "[\"quantum\"]", NULL);
    expect_input_errors(check_cmd(manifest), 2, "built for plugin ABI 2.0, but this host speaks ABI 1.0",
                    "requires capability \"quantum\"", NULL);
    test_output o = test_run(check_cmd(manifest), 30);
    CU_ASSERT_PTR_NULL(strstr(o.err, "disagrees"));
    test_output_free(&o);
}

LSGD_TEST(host_loader, a_fifo_or_directory_named_as_the_library_is_refused_without_waiting_on_it)
{
    HOST_TMPDIR(dir);
    char make[4096];
    snprintf(make, sizeof make, "mkfifo '%s/pipe.so' && mkdir '%s/dir.so'", dir, dir);
    test_output o = test_run(make, 10);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    const char *manifest = fake_manifest(dir, "pipe.json", "pipe", "1.0.0", "pipe.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'pipe'", "pipe.so",
                       "it is a FIFO (named pipe); expected a regular file", NULL);
    manifest = fake_manifest(dir, "dir.json", "dir", "1.0.0", "dir.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'dir'", "dir.so",
                       "it is a directory; expected a regular file", NULL);
}
