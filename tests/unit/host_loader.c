/*
 * host_loader.c — dlopen of FAKE plugins, each with one fault, through the
 * real binary (`lsgd plugins check`, `lsgd run`): every refusal is exit 2
 * with one line naming the plugin, its library and the exact mismatch;
 * `plugins check` on a plugin with several faults prints one line for each
 * (a run still stops at the first).  And the happy path: a correct plugin
 * loads and agrees with its manifest.  The ops table is checked alike by
 * the loader and by the hosts given a descriptor directly: a table that
 * stops before a required op is refused by both naming the op, and one
 * that stops before an optional op lacks it.
 */
#include <dlfcn.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "host/loader.h"
#include "host/params.h"
#include "host/scaling_host.h"
#include "host/transport_host.h"
#include "host_fakes.h"

static char cmd[8192];

static const char *check_cmd(const char *path)
{
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' plugins check '%s'", lsgd_bin(), path);
    return cmd;
}

/* The command `lsgd run` of a run of 2 workers in dir with the scaling
 * plugin found in dir (fake_run_config). */
static const char *run_cmd(const char *dir, const char *scaling)
{
    const char *path = fake_run_config(dir, "run.json", 2, scaling, NULL);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' run '%s'", lsgd_bin(), path);
    return cmd;
}

LSGD_TEST(host_loader, correct_fake_plugin_passes_check)
{
    TEST_TMPDIR(dir);
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
    TEST_TMPDIR(dir);
    const char *manifest = fake_manifest(dir, "ghost.json", "ghost", "1.0.0", "ghost.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'ghost'", "ghost.so",
                       "does not exist", NULL);
}

LSGD_TEST(host_loader, library_without_entry_symbol_is_refused)
{
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_no_entry.c", "noentry.so", NULL), 0);
    const char *manifest = fake_manifest(dir, "noentry.json", "noentry", "1.0.0", "noentry.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'noentry'", "noentry.so",
                       "no entry symbol lsgd_plugin_entry", "dlsym:", NULL);
}

LSGD_TEST(host_loader, abi_major_mismatch_is_refused)
{
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "abi2.so", "-DFAKE_NAME='\"abi2\"' -DFAKE_ABI_MAJOR=2"), 0);
    const char *manifest = fake_manifest(dir, "abi2.json", "abi2", "1.0.0", "abi2.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'abi2'", "abi2.so",
                       "built for plugin ABI 2.0, but this host speaks ABI 1.0", NULL);
}

LSGD_TEST(host_loader, descriptor_name_differing_from_manifest_is_refused)
{
    TEST_TMPDIR(dir);
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
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "needy.so", "-DFAKE_NAME='\"needy\"'"), 0);
    const char *manifest = fake_manifest(dir, "needy.json", "needy", "1.0.0", "needy.so",
                                         "[\"rng\", \"quantum\"]", NULL);
    expect_input_error(check_cmd(manifest), "scaling plugin 'needy'",
                       "requires capability \"quantum\", which this host does not provide", NULL);
}

LSGD_TEST(host_loader, hvp_plugin_is_refused_when_the_model_has_no_hvp)
{
    TEST_TMPDIR(dir);
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
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "sneaky.so",
                                     "-DFAKE_NAME='\"sneaky\"' -DFAKE_STATISTIC_HVP"), 0);
    const char *manifest = fake_manifest(dir, "sneaky.json", "sneaky", "1.0.0", "sneaky.so", NULL, NULL);
    expect_input_error(check_cmd(manifest), "statistic_kind HVP", "does not list \"hvp\"", NULL);
}

LSGD_TEST(host_loader, so_file_that_is_not_elf_is_refused)
{
    TEST_TMPDIR(dir);
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
    TEST_TMPDIR(dir);
    fake_manifest(dir, "one.json", "twin", "1.0.0", "one.so", NULL, NULL);
    fake_manifest(dir, "two.json", "twin", "2.0.0", "two.so", NULL, NULL);
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s' plugins list", dir, lsgd_bin());
    expect_input_error(cmd, "duplicate plugin name: scaling plugin 'twin'", "one.json", "two.json",
                       NULL);
}

LSGD_TEST(host_loader, run_refuses_a_broken_plugin_once_before_starting_workers)
{
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_no_entry.c", "broken.so", NULL), 0);
    fake_manifest(dir, "broken.json", "broken", "1.0.0", "broken.so", NULL, NULL);
    expect_input_error(run_cmd(dir, "broken"), "scaling plugin 'broken'", "no entry symbol", NULL);
}

LSGD_TEST(host_loader, malformed_manifest_beside_its_library_names_line_and_column)
{
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "fake.so", NULL), 0);
    test_write_file(dir, "fake.json", "{\n  \"name\": \"fake\",\n  \"kind\": \"scaling\"\n  \"version\": \"1.0.0\"\n}\n");
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s' plugins list", dir, lsgd_bin());
    expect_input_error(cmd, "plugin manifest", "fake.json: line 4, column", "malformed JSON", NULL);
    snprintf(cmd, sizeof cmd, "'%s' plugins check '%s/fake.so'", lsgd_bin(), dir);
    expect_input_error(cmd, "fake.json: line 4, column", NULL);
}

LSGD_TEST(host_loader, plugin_built_for_a_newer_abi_minor_is_refused)
{
    TEST_TMPDIR(dir);
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
    TEST_TMPDIR(dir);
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
    TEST_TMPDIR(dir);
    /* two faults: the library says version 2.0, and it needs a capability no host has */
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "twofold.so",
                                     "-DFAKE_NAME='\"twofold\"' -DFAKE_VERSION='\"2.0\"'"), 0);
    const char *manifest = fake_manifest(dir, "twofold.json", "twofold", "1.0.0", "twofold.so",
                                         "[\"quantum\"]", NULL);
    expect_input_errors(check_cmd(manifest), 2,
                    "scaling plugin 'twofold' (", "version '2.0' in the library, '1.0.0' in the manifest",
                    "requires capability \"quantum\", which this host does not provide", NULL);
    expect_input_error(run_cmd(dir, "twofold"), "scaling plugin 'twofold'",
                       "version '2.0' in the library", NULL);
}

LSGD_TEST(host_loader, check_of_a_missing_library_still_checks_what_the_manifest_requires)
{
    TEST_TMPDIR(dir);
    const char *manifest = fake_manifest(dir, "ghost.json", "ghost", "1.0.0", "ghost.so",
                                         "[\"quantum\", \"rng\", \"teleport\"]", NULL);
    expect_input_errors(check_cmd(manifest), 3, "ghost.so", "does not exist",
                    "requires capability \"quantum\"", "requires capability \"teleport\"", NULL);
}

LSGD_TEST(host_loader, check_reads_no_descriptor_field_of_another_abi_major)
{
    TEST_TMPDIR(dir);
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

/* ---- the ops table: one check for the loader and the hosts ---- */

/* The descriptor of dir/so straight from dlopen, as a host given a
 * descriptor without the loader sees it (tests, benchmarks). */
static const lsgd_plugin *descriptor_of(void **handle, const char *dir, const char *so)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, so);
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*handle);
    const lsgd_plugin *(*entry)(void);
    void *symbol = dlsym(*handle, LSGD_ENTRY_SYMBOL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(symbol);
    memcpy(&entry, &symbol, sizeof entry);
    return entry();
}

/* The loader's verdict on manifest_path: LSGD_OK with *loaded filled, or
 * the refusal in err. */
static int load(lsgd_loaded *loaded, lsgd_manifest *m, const char *manifest_path, lsgd_error *err)
{
    CU_ASSERT_EQUAL_FATAL(lsgd_manifest_read(m, manifest_path, err), LSGD_OK);
    static const char *const provides[] = {"rng", NULL};
    return lsgd_plugin_load(loaded, m, provides, err);
}

static const lsgd_transport_info world_of_one = {.struct_size = sizeof world_of_one,
                                                 .rank = 0, .world = 1, .run_id = "ops-table"};

LSGD_TEST(host_loader, a_scaling_table_stopping_before_step_is_refused_by_loader_and_host_naming_step)
{
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", "nostep.so",
                                     "-DFAKE_NAME='\"nostep\"' "
                                     "-DFAKE_OPS_SIZE='offsetof(lsgd_scaling_ops, step)'"), 0);
    const char *manifest = fake_manifest(dir, "nostep.json", "nostep", "1.0.0", "nostep.so",
                                         NULL, NULL);
    char needle[160];
    snprintf(needle, sizeof needle, "scaling ops struct_size %zu stops before step, a required op",
             offsetof(lsgd_scaling_ops, step));
    expect_input_error(check_cmd(manifest), "scaling plugin 'nostep'", "nostep.so", needle, NULL);

    void *handle;
    const lsgd_plugin *plugin = descriptor_of(&handle, dir, "nostep.so");
    json_t *none = json_object();
    lsgd_params view;
    lsgd_params_view(&view, none);
    lsgd_scaling s = {0};
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_scaling_attach(&s, plugin, &view, 4, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "scaling plugin 'nostep'"));
    json_decref(none);
    dlclose(handle);
}

LSGD_TEST(host_loader, a_transport_table_stopping_before_barrier_is_refused_by_loader_and_host_naming_barrier)
{
    TEST_TMPDIR(dir);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_transport.c", "nobarrier.so",
                                     "-DFAKE_NAME='\"nobarrier\"' "
                                     "-DFAKE_OPS_SIZE='offsetof(lsgd_transport_ops, barrier)'"), 0);
    const char *manifest = fake_transport_manifest(dir, "nobarrier.json", "nobarrier",
                                                   "nobarrier.so");
    char needle[160];
    snprintf(needle, sizeof needle,
             "transport ops struct_size %zu stops before barrier, a required op",
             offsetof(lsgd_transport_ops, barrier));
    expect_input_error(check_cmd(manifest), "transport plugin 'nobarrier'", "nobarrier.so", needle,
                       NULL);

    void *handle;
    const lsgd_plugin *plugin = descriptor_of(&handle, dir, "nobarrier.so");
    json_t *none = json_object();
    lsgd_params view;
    lsgd_params_view(&view, none);
    lsgd_transport *t = NULL;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_transport_open_plugin(&t, plugin, &view, NULL, &world_of_one, &err),
                    LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "transport plugin 'nobarrier'"));
    json_decref(none);
    dlclose(handle);
}

/* range (7, 7) when the table has it, the host's (1, 1) when not. */
static void expect_scaling_range(const char *dir, const char *name, const char *cflags,
                                 float expected)
{
    char so[64], json[64], flags[512];
    snprintf(so, sizeof so, "%s.so", name);
    snprintf(json, sizeof json, "%s.json", name);
    snprintf(flags, sizeof flags, "-DFAKE_NAME='\"%s\"' -DFAKE_RANGE %s", name, cflags);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_scaling.c", so, flags), 0);
    lsgd_manifest m;
    lsgd_loaded loaded;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(load(&loaded, &m, fake_manifest(dir, json, name, "1.0.0", so, NULL, NULL),
                               &err), LSGD_OK);
    json_t *none = json_object();
    lsgd_params view;
    lsgd_params_view(&view, none);
    lsgd_scaling s = {0};
    CU_ASSERT_EQUAL_FATAL(lsgd_scaling_attach(&s, loaded.plugin, &view, 4, &err), LSGD_OK);
    float lo = 0, hi = 0;
    lsgd_scaling_range(&s, &lo, &hi);
    CU_ASSERT_EQUAL(lo, expected);
    CU_ASSERT_EQUAL(hi, expected);
    lsgd_scaling_detach(&s);
    json_decref(none);
    lsgd_plugin_unload(&loaded);
    lsgd_manifest_free(&m);
}

LSGD_TEST(host_loader, a_scaling_table_ending_at_step_loads_and_its_range_past_struct_size_is_absent)
{
    TEST_TMPDIR(dir);
    expect_scaling_range(dir, "whole", "", 7.0f); /* the fake's range, when the table has it */
    expect_scaling_range(dir, "least", "-DFAKE_OPS_SIZE='LSGD_FIELD_END(lsgd_scaling_ops, step)'",
                         1.0f);
}

/* A FAKE transport built from fake_transport.c with cflags, loaded by the
 * loader and opened by the host for a world of one. */
typedef struct opened_fake {
    lsgd_manifest manifest;
    lsgd_loaded loaded;
    json_t *params;
    lsgd_params view;
    lsgd_transport *t;
} opened_fake;

static void open_fake(opened_fake *o, const char *dir, const char *name, const char *cflags)
{
    char so[64], json[64], flags[512];
    snprintf(so, sizeof so, "%s.so", name);
    snprintf(json, sizeof json, "%s.json", name);
    snprintf(flags, sizeof flags, "-DFAKE_NAME='\"%s\"' %s", name, cflags);
    CU_ASSERT_EQUAL_FATAL(fake_build(dir, "fake_transport.c", so, flags), 0);
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(load(&o->loaded, &o->manifest,
                               fake_transport_manifest(dir, json, name, so), &err), LSGD_OK);
    o->params = json_object();
    lsgd_params_view(&o->view, o->params);
    CU_ASSERT_EQUAL_FATAL(lsgd_transport_open_plugin(&o->t, o->loaded.plugin, &o->view, NULL,
                                                     &world_of_one, &err), LSGD_OK);
}

static void close_fake(opened_fake *o)
{
    lsgd_transport_close(o->t);
    json_decref(o->params);
    lsgd_plugin_unload(&o->loaded);
    lsgd_manifest_free(&o->manifest);
}

/* Open dir/<name>.so (its non-blocking ops failing and bytes_sent saying
 * 12345, plus cflags), post one non-blocking average and wait for it; the
 * outcome and the bytes counted. */
static int average_once(const char *dir, const char *name, const char *cflags, uint64_t *bytes)
{
    char flags[512];
    snprintf(flags, sizeof flags, "-DFAKE_NONBLOCKING_FAILS=3 -DFAKE_BYTES_SENT=12345 %s", cflags);
    opened_fake o;
    open_fake(&o, dir, name, flags);
    float x[3] = {1, 2, 3};
    lsgd_error err;
    int rc = lsgd_transport_iallreduce_mean(o.t, x, 3, &err);
    if (!rc)
        rc = lsgd_transport_wait(o.t, &err);
    lsgd_transport_stats stats;
    lsgd_transport_stats_get(o.t, &stats);
    *bytes = stats.bytes_sent;
    close_fake(&o);
    return rc;
}

LSGD_TEST(host_loader, a_transport_table_ending_at_barrier_loads_and_its_ops_past_struct_size_are_absent)
{
    TEST_TMPDIR(dir);
    uint64_t bytes;
    /* the whole table: its own iallreduce_mean (failing) and bytes_sent are used */
    CU_ASSERT_EQUAL(average_once(dir, "whole", "", &bytes), LSGD_ERR_RUNTIME);
    CU_ASSERT_EQUAL(bytes, 12345);
    /* stopping after barrier: the host averages on its helper thread and
     * counts the bytes itself (none for a world of one) */
    CU_ASSERT_EQUAL(average_once(dir, "least",
                                 "-DFAKE_OPS_SIZE='LSGD_FIELD_END(lsgd_transport_ops, barrier)'",
                                 &bytes), LSGD_OK);
    CU_ASSERT_EQUAL(bytes, 0);
}

LSGD_TEST(host_loader, bytes_sent_is_not_asked_while_the_helper_thread_averages)
{
    TEST_TMPDIR(dir);
    opened_fake o;
    open_fake(&o, dir, "slow", "-DFAKE_SLOW_ALLREDUCE -DFAKE_BYTES_SENT=12345");
    float x[3] = {1, 2, 3};
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_transport_iallreduce_mean(o.t, x, 3, &err), LSGD_OK);
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL); /* the helper is inside it now */
    lsgd_transport_stats stats;
    lsgd_transport_stats_get(o.t, &stats);
    CU_ASSERT_NOT_EQUAL(stats.bytes_sent, 666);
    CU_ASSERT_EQUAL(lsgd_transport_wait(o.t, &err), LSGD_OK);
    lsgd_transport_stats_get(o.t, &stats);
    CU_ASSERT_EQUAL(stats.bytes_sent, 12345);
    close_fake(&o);
}

LSGD_TEST(host_loader, a_fifo_or_directory_named_as_the_library_is_refused_without_waiting_on_it)
{
    TEST_TMPDIR(dir);
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
