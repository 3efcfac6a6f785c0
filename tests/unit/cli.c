/*
 * cli.c — the `lsgd` command line as a user meets it: help, version,
 * plugins list/show/check on the real built plugins, argument errors,
 * agreement of the host's validator with python3-jsonschema on shipped
 * manifests and configs, and `make install` followed by an out-of-tree
 * plugin built with pkg-config and found by the installed binary.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "host/config.h"
#include "host_fakes.h"

static char cmd[16384];

static test_output lsgd(const char *args)
{
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' %s", lsgd_bin(), args);
    return test_run(cmd, 30);
}

LSGD_TEST(cli, help_lists_every_command_and_exits_0)
{
    test_output o = lsgd("--help");
    CU_ASSERT_EQUAL(o.status, 0);
    const char *commands[] = {"run CONFIG", "worker CONFIG --rank R --world N", "validate CONFIG",
                              "plugins list", "plugins show NAME", "plugins check PATH", "plot RUN_DIR",
                              "sweep SWEEP.json", "compare DIR..."};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, commands[i]));
    test_output_free(&o);
}

/* Each line of the README's "Command line" synopsis, less "lsgd ", is in --help. */
LSGD_TEST(cli, help_shows_every_synopsis_line_of_the_readme)
{
    char *readme = test_read_file(test_root_path("README.md"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(readme);
    char *section = strstr(readme, "\n## Command line\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(section);
    char *block = strstr(section, "```\n");
    char *end = block ? strstr(block + 4, "```") : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    *end = '\0';
    test_output o = lsgd("--help");
    CU_ASSERT_EQUAL(o.status, 0);
    int lines = 0;
    for (char *line = strtok(block + 4, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "lsgd ", 5) != 0 || strncmp(line, "lsgd --", 7) == 0)
            continue; /* --help and --version have tests of their own */
        lines++;
        if (!strstr(o.out, line + 5))
            fprintf(stderr, "\n  README synopsis '%s' is not in lsgd --help", line);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, line + 5));
    }
    CU_ASSERT(lines >= 7);
    test_output_free(&o);
    free(readme);
}

/* What --help says of --set switching a plugin and of validate, the README
 * says too (and the tests above hold the code to it). */
LSGD_TEST(cli, help_and_readme_say_that_set_plugin_drops_params_and_validate_checks_as_run)
{
    char *readme = test_read_file(test_root_path("README.md"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(readme);
    test_output o = lsgd("--help");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "--set SECTION.plugin=NAME drops the file's "
                                         "SECTION.params"));
    CU_ASSERT_PTR_NOT_NULL(strstr(readme, "Choosing another plugin with `--set SECTION.plugin=NAME`"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "every check run makes before training"));
    CU_ASSERT_PTR_NOT_NULL(strstr(readme, "`validate` does every check `run` does before training, "
                                          "by the same\n  function"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "a rank above 0 says when it joins and is done"));
    CU_ASSERT_PTR_NOT_NULL(strstr(readme, "a\n  rank above 0 prints one line on stdout when it has joined"));
    test_output_free(&o);
    free(readme);
}

/* `lsgd COMMAND --help` (or -h, anywhere after the command) is that
 * command's part of `lsgd --help` on stdout with exit 0, not "unknown
 * option"; an unknown command stays an error. */
LSGD_TEST(cli, each_command_prints_its_own_usage_on_help_and_exits_0)
{
    const struct { const char *args, *synopsis, *not_shown; } cases[] = {
        {"run --help", "  lsgd run CONFIG [--set KEY=VALUE]... [--resume | --force]", "validate CONFIG"},
        {"worker -h", "  lsgd worker CONFIG --rank R --world N", "plot RUN_DIR"},
        {"validate cfg.json --help", "  lsgd validate CONFIG [--set KEY=VALUE]... [--print]", "run CONFIG"},
        {"plugins --help", "  lsgd plugins check PATH", "sweep SWEEP.json"},
        {"plugins show -h", "  lsgd plugins show NAME", "compare DIR"},
        {"plot --help", "  lsgd plot RUN_DIR... [-o DIR]", "plugins list"},
        {"sweep --help", "  lsgd sweep SWEEP.json [--jobs N]", "compare DIR"},
        {"compare --help", "  lsgd compare DIR... [--best-of KEY]", "sweep SWEEP.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_output o = lsgd(cases[i].args);
        if (o.status != 0 || !strstr(o.out, cases[i].synopsis))
            fprintf(stderr, "\n  lsgd %s: status %d, stdout '%s', stderr '%s'", cases[i].args,
                    o.status, o.out, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "usage:\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, cases[i].synopsis));
        CU_ASSERT_PTR_NULL(strstr(o.out, cases[i].not_shown));
        CU_ASSERT_STRING_EQUAL(o.err, "");
        test_output_free(&o);
    }
    snprintf(cmd, sizeof cmd, "'%s' trian --help", lsgd_bin());
    expect_input_error(cmd, "unknown command 'trian'", NULL);
}

/* Every program of tools/ a user runs answers --help (and -h) with its
 * usage on stdout and exit 0; without arguments, the ones that need some
 * still say so with exit 2. */
LSGD_TEST(cli, every_tool_prints_its_usage_on_help_and_exits_0)
{
    const struct { const char *tool, *usage; int needs_args; } tools[] = {
        {"fetch-data", "usage: tools/fetch-data mnist|fashion-mnist [DIR]", 1},
        {"netlab", "tools/netlab [--hosts N]", 1},
        {"bench", "tools/bench [AREA", 0},
        {"new-plugin", "usage: new-plugin scaling|transport", 1},
        {"fresh-check", "tools/fresh-check [--keep]", 0},
        {"reproduce", "tools/reproduce [--fresh] [EXPERIMENT]", 0},
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        for (int h = 0; h < 2; h++) {
            char path[4200];
            snprintf(path, sizeof path, "tools/%s", tools[i].tool);
            snprintf(cmd, sizeof cmd, "'%s' %s", test_root_path(path), h ? "-h" : "--help");
            test_output o = test_run(cmd, 30);
            if (o.status != 0 || !strstr(o.out, tools[i].usage))
                fprintf(stderr, "\n  %s: status %d, stdout '%.200s', stderr '%.200s'", cmd,
                        o.status, o.out, o.err);
            CU_ASSERT_EQUAL(o.status, 0);
            CU_ASSERT_PTR_NOT_NULL(strstr(o.out, tools[i].usage));
            test_output_free(&o);
        }
        if (tools[i].needs_args) {
            char path[4200];
            snprintf(path, sizeof path, "tools/%s", tools[i].tool);
            snprintf(cmd, sizeof cmd, "'%s' </dev/null", test_root_path(path));
            test_output o = test_run(cmd, 30);
            CU_ASSERT_EQUAL(o.status, 2);
            test_output_free(&o);
        }
    }
}

LSGD_TEST(cli, version_names_the_release_abi_and_blas_kernel)
{
    test_output o = lsgd("--version");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "lsgd 0."));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "plugin ABI 1.0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "OpenBLAS kernel"));
    test_output_free(&o);
}

LSGD_TEST(cli, no_or_unknown_command_is_bad_input)
{
    snprintf(cmd, sizeof cmd, "'%s'", lsgd_bin());
    expect_input_error(cmd, "no command given", NULL);
    snprintf(cmd, sizeof cmd, "'%s' trian cfg.json", lsgd_bin());
    expect_input_error(cmd, "unknown command 'trian'", NULL);
    snprintf(cmd, sizeof cmd, "'%s' validate", lsgd_bin());
    expect_input_error(cmd, "missing argument; usage: lsgd validate CONFIG", NULL);
    snprintf(cmd, sizeof cmd, "'%s' validate x.json --bogus", lsgd_bin());
    expect_input_error(cmd, "unknown option '--bogus'", NULL);
    snprintf(cmd, sizeof cmd, "'%s' plugins frobnicate", lsgd_bin());
    expect_input_error(cmd, "plugins: unknown subcommand 'frobnicate'", NULL);
}

LSGD_TEST(cli, worker_needs_a_rank_inside_its_world)
{
    const char *cfg = test_write_file(test_tmpdir(), "w.json", "{\"model\": {\"type\": \"mlp\"}}");
    snprintf(cmd, sizeof cmd, "env -u LSGD_RANK -u OMPI_COMM_WORLD_RANK -u PMIX_RANK -u SLURM_PROCID "
             "-u PMI_RANK '%s' worker '%s'", lsgd_bin(), cfg);
    expect_input_error(cmd, "worker: no rank given", NULL);
    snprintf(cmd, sizeof cmd, "'%s' worker '%s' --rank 2 --world 2", lsgd_bin(), cfg);
    expect_input_error(cmd, "--rank 2 must be below --world 2", NULL);
    snprintf(cmd, sizeof cmd, "'%s' worker '%s' --rank x --world 2", lsgd_bin(), cfg);
    expect_input_error(cmd, "--rank: expected a non-negative integer, got 'x'", NULL);
    snprintf(cmd, sizeof cmd, "'%s' worker '%s' --rank 0", lsgd_bin(), cfg);
    expect_input_error(cmd, "give both --rank and --world", NULL);
}

/* ---- choosing another plugin with --set ---------------------------------- */

/* `lsgd validate --no-data --print` of a file under the source root with
 * extra arguments: the completed config, or NULL (status and stderr kept). */
static json_t *validate_print(test_output *o, const char *config, const char *extra)
{
    snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH= '%s' validate --no-data --print '%s' %s",
             test_root_dir(), lsgd_bin(), config, extra);
    *o = test_run(cmd, 30);
    if (o->status != 0)
        fprintf(stderr, "\n  %s: %s", extra, o->err);
    return json_loads(o->out, 0, NULL);
}

/* The README's example: the quickstart's adam params do not stop rmsprop. */
LSGD_TEST(cli, set_scaling_plugin_on_the_quickstart_drops_the_files_adam_params_with_one_note)
{
    test_output o;
    json_t *cfg = validate_print(&o, "examples/quickstart.json", "--set scaling.plugin=rmsprop");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "scaling.plugin", ""), "rmsprop");
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "scaling.params.beta1"));
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "scaling.params.rho", 0), 0.99, 0);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "lsgd: note: --set scaling.plugin=rmsprop: dropped "
                                         "scaling.params beta1, beta2, eps from "
                                         "examples/quickstart.json (given for 'adam')"));
    json_decref(cfg);
    test_output_free(&o);
}

/* Outer (whose params may be loose keys) and transport switch the same
 * way; params given by --set before or after the switch stay. */
LSGD_TEST(cli, a_plugin_switched_by_set_keeps_the_params_given_by_set_before_and_after_it)
{
    test_output o;
    json_t *cfg = validate_print(&o, "tests/data/cli/plugins-with-params.json",
                                 "--set outer.params.beta2=0.9 --set outer.plugin=adam "
                                 "--set transport.plugin=zmq --set transport.params.frame_size=65536 "
                                 "--set scaling.plugin=adam --set scaling.params.eps=0.001");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(lsgd_config_string(cfg, "outer.plugin", ""), "adam");
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "outer.params.beta2", 0), 0.9, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "outer.lr", 0), 0.7, 0); /* not a param */
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "outer.params.momentum"));
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "transport.params.frame_size", 0), 65536, 0);
    CU_ASSERT_PTR_NULL(lsgd_config_get(cfg, "transport.params.chunk_bytes"));
    /* the same plugin again keeps the file's params, and says nothing */
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "scaling.params.beta1", 0), 0.8, 0);
    CU_ASSERT_DOUBLE_EQUAL(lsgd_config_number(cfg, "scaling.params.eps", 0), 0.001, 0);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--set outer.plugin=adam: dropped outer.params momentum"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "--set transport.plugin=zmq: dropped transport.params "
                                         "chunk_bytes"));
    json_decref(cfg);
    test_output_free(&o);
}

LSGD_TEST(cli, an_error_caused_by_a_set_names_the_set_instead_of_the_file)
{
    const char *file = "tests/data/cli/plugins-with-params.json";
    struct { const char *sets, *says; } cases[] = {
        {"--set algorithm.lr=-1", "lsgd: --set algorithm.lr=-1: algorithm.lr: -1 is below"},
        {"--set scaling.plugin=rmsprob", "lsgd: --set scaling.plugin=rmsprob: scaling.plugin: "
                                         "unknown scaling plugin 'rmsprob'"},
        /* a rule across keys: both --set take part, the harmless one not */
        {"--set algorithm.lr=0.5 --set schedule='{\"type\":\"increasing\",\"rounds\":8}' "
         "--set algorithm.steps=4",
         "lsgd: --set schedule={\"type\":\"increasing\",\"rounds\":8} with --set "
         "algorithm.steps=4: schedule.rounds: 8 rounds is more than algorithm.steps 4"},
        {"--set algorithm.lr=0.5 --set scaling.params.beta1=1",
         "lsgd: --set scaling.params.beta1=1: scaling plugin 'adam': scaling.params.beta1: 1 "
         "equals the maximum 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        test_output o;
        json_t *cfg = validate_print(&o, file, cases[i].sets);
        CU_ASSERT_PTR_NULL(cfg);
        CU_ASSERT_EQUAL(o.status, 2);
        CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
        if (!strstr(o.err, cases[i].says))
            fprintf(stderr, "\n  %s: got %s", cases[i].sets, o.err);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, cases[i].says));
        CU_ASSERT_PTR_NULL(strstr(o.err, file));
        json_decref(cfg);
        test_output_free(&o);
    }
    /* an error of the file itself still names the file */
    const char *bad = test_write_file(test_tmpdir(), "bad.json",
                                      "{\"model\": {\"type\": \"quadratic\"}, \"seeed\": 1}");
    test_output o;
    json_t *cfg = validate_print(&o, bad, "--set algorithm.lr=0.5");
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "bad.json: unknown key 'seeed'"));
    CU_ASSERT_PTR_NULL(strstr(o.err, "--set"));
    json_decref(cfg);
    test_output_free(&o);
}

/* `lsgd run` says the note once, not once more per worker it starts. */
LSGD_TEST(cli, run_with_a_plugin_switched_by_set_notes_it_once_and_trains)
{
    snprintf(cmd, sizeof cmd,
             "cd '%s' && LSGD_PLUGIN_PATH= '%s' run '%s' --set workers=2 --set "
             "scaling.plugin=rmsprop --set output.progress=none --set output.dir=out",
             test_tmpdir(), lsgd_bin(), test_root_path("tests/data/cli/plugins-with-params.json"));
    test_output o = test_run(cmd, 60);
    if (o.status != 0)
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "note: --set scaling.plugin=rmsprop: dropped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "scaling rmsprop"));
    test_output_free(&o);
}

/* ---- validate checks what run checks ---------------------------------------- */

/* The command `lsgd <command> tests/data/cli/blobs-4-workers.json <sets>`
 * in a fresh directory (output.dir "out" there); a static buffer. */
static const char *blobs_cmd(const char *dir, const char *command, const char *sets)
{
    snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH= '%s' %s '%s' %s", dir, lsgd_bin(),
             command, test_root_path("tests/data/cli/blobs-4-workers.json"), sets);
    return cmd;
}

/* That command run, within 60 s. */
static test_output blobs_command(const char *dir, const char *command, const char *sets)
{
    return test_run(blobs_cmd(dir, command, sets), 60);
}

/* A section of another algorithm than the one that runs is ignored with
 * one note (a fedprox config compared as local_sgd by --set), said once
 * by `lsgd run`, not by each of its 4 workers. */
LSGD_TEST(cli, a_section_for_another_algorithm_is_ignored_with_one_note_naming_it_once_per_run)
{
    const char *commands[] = {"validate", "run"};
    for (size_t c = 0; c < 2; c++) {
        TEST_TMPDIR(dir);
        test_output o = blobs_command(dir, commands[c], "--set algorithm.fedprox.mu=0.1");
        if (o.status != 0)
            fprintf(stderr, "\n  %s: status %d: %s", commands[c], o.status, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "lsgd: note: algorithm.fedprox is ignored: it is "
                                             "fedprox's section and algorithm.type is local_sgd"));
        test_output_free(&o);
    }
    TEST_TMPDIR(dir);
    test_output o = blobs_command(dir, "validate", "--set algorithm.fedprox.mu=0.1 "
                                                   "--set algorithm.type=fedprox");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 0); /* its own section: nothing to say */
    test_output_free(&o);
}

LSGD_TEST(cli, validate_refuses_what_run_refuses_before_training_with_the_same_line_naming_the_key)
{
    struct { const char *sets, *says; } cases[] = {
        {"--set outer.plugin=oasis",
         "lsgd: --set outer.plugin=oasis: outer.plugin: 'oasis' needs Hessian-vector products "
         "(its manifest requires \"hvp\"), but the outer optimizer"},
        {"--set transport.plugin=zmq --set transport.params.curve_server_key=none.public "
         "--set transport.params.curve_secret_key=none.secret",
         "lsgd: --set transport.params.curve_server_key=none.public: "
         "transport.params.curve_server_key: cannot read 'none.public' (No such file"},
        {"--set algorithm.batch_size=32",
         "lsgd: --set algorithm.batch_size=32: algorithm.batch_size: 32 is more than the 25 "
         "samples of worker 0's shard"},
        {"--set metrics.max_margin=true", "lsgd: --set metrics.max_margin=true: "
                                          "metrics.max_margin: needs a binary "
                                          "classification training set"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *commands[] = {"validate", "run"};
        for (size_t c = 0; c < 2; c++) {
            char dir[1024], out[1100];
            snprintf(dir, sizeof dir, "%s", test_tmpdir());
            expect_input_error(blobs_cmd(dir, commands[c], cases[i].sets), cases[i].says, NULL);
            snprintf(out, sizeof out, "%s/out", dir);
            CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0); /* refused before anything was made */
        }
    }
    /* fixed, it passes: a batch of the shard's size, key files that are
     * there (relative to the working directory; what they hold is the
     * transport's to check when it opens) */
    TEST_TMPDIR(dir);
    test_write_file(dir, "run.public", "key");
    test_write_file(dir, "run.secret", "key");
    test_output o = blobs_command(dir, "validate", "--set algorithm.batch_size=25 "
                                  "--set transport.plugin=zmq "
                                  "--set transport.params.curve_server_key=run.public "
                                  "--set transport.params.curve_secret_key=run.secret");
    if (o.status != 0)
        fprintf(stderr, "\n%s", o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);
}

/* An error found once the data is loaded names the --set whose key (or a
 * key below it, or its section) it is about, and only that one; without
 * a --set it names none. */
LSGD_TEST(cli, an_error_found_after_loading_names_the_set_that_caused_it_in_validate_and_run)
{
    struct { const char *sets, *says; } cases[] = {
        {"--set algorithm.lr=0.5 --set algorithm.batch_size=100000",
         "lsgd: --set algorithm.batch_size=100000: algorithm.batch_size: 100000 is more than"},
        {"--set algorithm='{\"steps\":16,\"batch_size\":32}'",
         "lsgd: --set algorithm={\"steps\":16,\"batch_size\":32}: algorithm.batch_size: 32"},
        {"--set data.train.n=3 --set output.progress=none",
         "lsgd: --set data.train.n=3: workers: 4 workers but data.train"},
        {"--set workers=200 --set algorithm.lr=0.5",
         "lsgd: --set workers=200: workers: 200 workers but data.train"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *commands[] = {"validate", "run"};
        for (size_t c = 0; c < 2; c++) {
            TEST_TMPDIR(dir);
            expect_input_error(blobs_cmd(dir, commands[c], cases[i].sets), cases[i].says, NULL);
        }
    }
    TEST_TMPDIR(dir);
    test_write_file(dir, "big-batch.json",
                    "{\"workers\": 4, \"model\": {\"type\": \"softmax\"}, \"data\": {\"train\": "
                    "{\"format\": \"synthetic\", \"generator\": \"blobs\", \"n\": 100, \"d\": 5, "
                    "\"classes\": 4}}, \"algorithm\": {\"steps\": 16, \"batch_size\": 32}}");
    snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH= '%s' validate big-batch.json "
             "--set algorithm.lr=0.5", dir, lsgd_bin());
    expect_input_error(cmd, "lsgd: algorithm.batch_size: 32 is more than", NULL);
}

/* `lsgd validate --no-data` does what needs no data: the outer optimizer's
 * needs are its manifest's. */
LSGD_TEST(cli, validate_without_data_still_refuses_an_outer_plugin_that_needs_an_hvp)
{
    TEST_TMPDIR(dir);
    expect_input_error(blobs_cmd(dir, "validate --no-data", "--set outer.plugin=oasis"),
                       "lsgd: --set outer.plugin=oasis: outer.plugin: 'oasis' needs "
                       "Hessian-vector", NULL);
}

/* ---- workers by hand, many workers, start-up ---------------------------------- */

/* Rank 1 starts a second after rank 0, which waits for it at rendezvous:
 * rank 1 says when it joins and when it is done; rank 0's summary counts
 * that wait as start-up. */
LSGD_TEST(cli, worker_by_hand_above_rank_0_says_when_it_joins_and_is_done_and_start_up_is_counted)
{
    const char *dir = test_tmpdir();
    const char *cfg = test_root_path("tests/data/cli/blobs-4-workers.json");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && export LSGD_PLUGIN_PATH= && "
             "'%s' worker '%s' --set workers=2 --rank 0 --world 2 > rank0.out & "
             "sleep 1; cd '%s' && '%s' worker '%s' --set workers=2 --rank 1 --world 2 > rank1.out; "
             "s=$?; wait $! && exit $s",
             dir, lsgd_bin(), cfg, dir, lsgd_bin(), cfg);
    test_output o = test_run(cmd, 60);
    if (o.status != 0)
        fprintf(stderr, "\n%s", o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    char path[1200];
    snprintf(path, sizeof path, "%s/rank1.out", dir);
    char *rank1 = test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/rank0.out", dir);
    char *rank0 = test_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rank1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rank0);
    CU_ASSERT_EQUAL(test_count_lines(rank1), 2);
    CU_ASSERT_EQUAL(strncmp(rank1, "lsgd: rank 1 of 2 joined run cfg-", 33), 0);
    const char *done = strstr(rank1, "\nlsgd: rank 1 of 2 done: 2 rounds, ");
    CU_ASSERT_PTR_NOT_NULL(done);
    CU_ASSERT(strstr(rank1, " over shm\n") != NULL && strstr(rank1, " over shm\n") < done);
    const char *startup = strstr(rank0, "s (start-up ");
    double waited = startup ? strtod(startup + 12, NULL) : 0;
    if (waited < 0.9)
        fprintf(stderr, "\n%s", rank0);
    CU_ASSERT(waited >= 0.9 && waited < 30);
    CU_ASSERT_PTR_NULL(strstr(rank0, "joined")); /* rank 0 has its header */
    free(rank0);
    free(rank1);
}

LSGD_TEST(cli, run_with_more_workers_than_online_cores_says_so_in_one_note)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    CU_ASSERT_FATAL(cores >= 1);
    if (cores > 16) { /* 17+ workers of a unit test would be a load test */
        fprintf(stderr, "\n  skipped: %ld cores", cores);
        return;
    }
    char sets[128];
    snprintf(sets, sizeof sets, "--set workers=%ld", cores + 1);
    test_output o = blobs_command(test_tmpdir(), "run", sets);
    if (o.status != 0)
        fprintf(stderr, "\n%s", o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    char want[128];
    snprintf(want, sizeof want, "lsgd: note: %ld workers on %ld online core", cores + 1, cores);
    CU_ASSERT_STRING_EQUAL(o.err, ""); /* stderr is for the line of a failure */
    CU_ASSERT_EQUAL(strncmp(o.out, want, strlen(want)), 0); /* before the header */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, " s (start-up "));
    CU_ASSERT_PTR_NULL(strstr(o.out, "joined")); /* workers `lsgd run` starts say nothing */
    test_output_free(&o);
    o = blobs_command(test_tmpdir(), "run", "--set workers=1");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NULL(strstr(o.out, "note:"));
    test_output_free(&o);
}

/* Every manifest in the build's plugin directory, as kind/name/version. */
typedef struct built_plugin {
    char kind[32], name[64], version[32];
} built_plugin;

static size_t built_plugins(built_plugin *out, size_t cap)
{
    DIR *d = opendir(test_build_path("plugins"));
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < cap) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "plugins/%s", e->d_name);
        json_t *m = json_load_file(test_build_path(rel), 0, NULL);
        if (!m)
            continue;
        snprintf(out[n].kind, sizeof out[n].kind, "%s", json_string_value(json_object_get(m, "kind")));
        snprintf(out[n].name, sizeof out[n].name, "%s", json_string_value(json_object_get(m, "name")));
        snprintf(out[n].version, sizeof out[n].version, "%s",
                 json_string_value(json_object_get(m, "version")));
        json_decref(m);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

LSGD_TEST(cli, plugins_list_shows_every_built_plugin_with_kind_and_version)
{
    built_plugin p[64];
    size_t n = built_plugins(p, 64);
    CU_ASSERT_TRUE_FATAL(n >= 1);
    test_output o = lsgd("plugins list");
    CU_ASSERT_EQUAL(o.status, 0);
    for (size_t i = 0; i < n; i++) {
        /* one row: kind, name, version in that order */
        char row_start[200];
        if (snprintf(row_start, sizeof row_start, "\n%-10s %-12s %-9s", p[i].kind, p[i].name,
                     p[i].version) >= (int)sizeof row_start)
            CU_FAIL("plugin name too long");
        if (!strstr(o.out, row_start))
            fprintf(stderr, "\n  no row for %s %s %s in:\n%s", p[i].kind, p[i].name, p[i].version, o.out);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, row_start));
    }
    test_output_free(&o);
}

LSGD_TEST(cli, plugins_list_json_is_machine_readable)
{
    built_plugin p[64];
    size_t n = built_plugins(p, 64);
    test_output o = lsgd("plugins list --json");
    CU_ASSERT_EQUAL(o.status, 0);
    json_t *doc = json_loads(o.out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *plugins = json_object_get(doc, "plugins");
    CU_ASSERT_EQUAL(json_array_size(plugins), n);
    size_t i;
    json_t *entry;
    json_array_foreach(plugins, i, entry) {
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "origin")), "built-in");
        CU_ASSERT_PTR_NOT_NULL(json_string_value(json_object_get(entry, "library")));
        CU_ASSERT_TRUE(json_is_object(json_object_get(entry, "params")));
    }
    json_decref(doc);
    test_output_free(&o);
}

LSGD_TEST(cli, plugins_list_shows_what_an_earlier_directory_shadows)
{
    TEST_TMPDIR(env_dir);
    TEST_TMPDIR(cfg_dir);
    fake_manifest(env_dir, "sgd.json", "sgd", "0.0.1-env", "sgd.so", NULL, NULL);
    fake_manifest(cfg_dir, "sgd.json", "sgd", "0.0.2-config", "sgd.so", NULL, NULL);
    char text[4096];
    snprintf(text, sizeof text, "{\"plugin_path\": [\"%s\"], \"model\": {\"type\": \"mlp\"}}", cfg_dir);
    const char *cfg = test_write_file(cfg_dir, "cfg.json", text);
    /* the config's plugin_path cannot name a broken sgd here: only list, no load */
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s' plugins list --config '%s'", env_dir,
             lsgd_bin(), cfg);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "sgd          0.0.2-config"));
    const char *shadowed = strstr(o.out, "shadowed (");
    CU_ASSERT_PTR_NOT_NULL_FATAL(shadowed);
    CU_ASSERT_PTR_NOT_NULL(strstr(shadowed, "0.0.1-env"));
    CU_ASSERT_PTR_NOT_NULL(strstr(shadowed, "(LSGD_PLUGIN_PATH), shadowed by"));
    CU_ASSERT_PTR_NOT_NULL(strstr(shadowed, "(built-in), shadowed by"));
    if (!shadowed)
        fprintf(stderr, "%s", o.out);
    test_output_free(&o);
}

LSGD_TEST(cli, plugins_show_prints_defaults_ranges_and_descriptions)
{
    json_t *m = json_load_file(test_build_path("plugins/adam.json"), 0, NULL);
    if (!m) {
        CU_FAIL("adam plugin not built");
        return;
    }
    test_output o = lsgd("plugins show adam");
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "adam: scaling plugin, version"));
    const char *key;
    json_t *p;
    json_object_foreach(json_object_get(m, "params"), key, p) {
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, key));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, json_string_value(json_object_get(p, "description"))));
    }
    /* beta2: default 0.999, minimum 0 inclusive, maximum 1 exclusive */
    const char *beta2 = strstr(o.out, "beta2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(beta2);
    CU_ASSERT_PTR_NOT_NULL(strstr(beta2, "0.999"));
    CU_ASSERT_PTR_NOT_NULL(strstr(beta2, "[0, 1)"));
    json_decref(m);
    test_output_free(&o);
}

LSGD_TEST(cli, plugins_show_unknown_name_suggests_and_exits_2)
{
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH= '%s' plugins show rmsprob", lsgd_bin());
    expect_input_error(cmd, "no plugin named 'rmsprob'", "did you mean 'rmsprop'", NULL);
}

LSGD_TEST(cli, plugins_check_accepts_every_built_plugin)
{
    built_plugin p[64];
    size_t n = built_plugins(p, 64);
    for (size_t i = 0; i < n; i++) {
        char args[1024];
        snprintf(args, sizeof args, "plugins check '%s/plugins/%s.so'", test_build_dir(), p[i].name);
        test_output o = lsgd(args);
        if (o.status != 0)
            fprintf(stderr, "\n  %s: %s", p[i].name, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "ok: "));
        test_output_free(&o);
    }
}

/* ---- the schemas agree with an independent validator ---------------------- */

LSGD_TEST(cli, shipped_manifests_and_configs_pass_python_jsonschema)
{
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", test_root_path("tests/scripts/schema_agreement.py"),
             test_root_dir());
    test_output o = test_run(cmd, 60);
    if (o.status != 0) /* python3-jsonschema missing is a failure too: make installs it */
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "python3-jsonschema: "));
    test_output_free(&o);
}

/* Run `lsgd validate` on each element of a JSON array file; expect status. */
static void validate_each(const char *list, int expected_status)
{
    json_t *docs = json_load_file(test_root_path(list), 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(docs);
    TEST_TMPDIR(dir);
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc) {
        char name[64];
        snprintf(name, sizeof name, "case%zu.json", i);
        char *text = json_dumps(doc, 0);
        const char *path = test_write_file(dir, name, text);
        free(text);
        char args[1024];
        snprintf(args, sizeof args, "validate --no-data '%s'", path); /* the schema only */
        test_output o = lsgd(args);
        if (o.status != expected_status)
            fprintf(stderr, "\n  %s[%zu]: status %d: %s", list, i, o.status, o.err);
        CU_ASSERT_EQUAL(o.status, expected_status);
        if (expected_status == 2)
            CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
        test_output_free(&o);
    }
    json_decref(docs);
}

LSGD_TEST(cli, host_accepts_the_configs_python_jsonschema_accepts)
{
    validate_each("tests/data/host/valid-configs.json", 0);
}

LSGD_TEST(cli, host_rejects_the_configs_python_jsonschema_rejects)
{
    validate_each("tests/data/host/invalid-configs.json", 2);
}

/* Validate every .json file in examples_dir from the source root; returns how many. */
static int validate_examples_in(const char *examples_dir)
{
    DIR *d = opendir(test_root_path(examples_dir));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH= '%s' validate '%s/%s'",
                 test_root_dir(), lsgd_bin(), examples_dir, e->d_name);
        test_output o = test_run(cmd, 60);
        if (o.status != 0)
            fprintf(stderr, "\n  %s/%s: %s", examples_dir, e->d_name, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        test_output_free(&o);
        count++;
    }
    closedir(d);
    return count;
}

/* Every example, and every paper reproduction, validates from the source
 * root, data loaded and model built (MNIST and Fashion-MNIST fetched
 * first, as `make run` does MNIST). */
LSGD_TEST(cli, every_example_config_validates_with_its_data)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    CU_ASSERT_EQUAL_FATAL(test_fetch_data("fashion-mnist"), 0);
    CU_ASSERT(validate_examples_in("examples") > 0);
    CU_ASSERT_EQUAL(validate_examples_in("examples/reproduce"), 6);
}

/* ---- install and an out-of-tree plugin ------------------------------------- */

LSGD_TEST(cli, installed_sdk_builds_an_out_of_tree_plugin_the_installed_lsgd_finds)
{
    char prefix[512], src[512];
    snprintf(prefix, sizeof prefix, "%s/prefix", test_tmpdir());
    snprintf(src, sizeof src, "%s", test_tmpdir());
    snprintf(cmd, sizeof cmd, "make -s -C '%s' BUILD='%s' install PREFIX='%s' >/dev/null",
             test_root_dir(), test_build_dir(), prefix);
    test_output o = test_run(cmd, 120);
    if (o.status != 0)
        fprintf(stderr, "\n%s", o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);

    /* the plugin author's command, from an unrelated directory */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cp '%s/fake_scaling.c' my.c && "
             "PKG_CONFIG_PATH='%s/lib/pkgconfig' cc $(PKG_CONFIG_PATH='%s/lib/pkgconfig' "
             "pkg-config --cflags lsgd) -DFAKE_NAME='\"mine\"' -shared -fPIC -o my.so my.c",
             src, test_root_path("tests/data/fake-plugins"), prefix, prefix);
    o = test_run(cmd, 60);
    if (o.status != 0)
        fprintf(stderr, "\n%s", o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    fake_manifest(src, "my.json", "mine", "1.0.0", "my.so", NULL, NULL);

    /* the installed binary lists it beside the installed built-ins */
    snprintf(cmd, sizeof cmd, "LSGD_PLUGIN_PATH='%s' '%s/bin/lsgd' plugins list --json", src, prefix);
    o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    json_t *doc = json_loads(o.out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    int found_mine = 0, builtins = 0;
    size_t i;
    json_t *p;
    char installed_plugins[600];
    snprintf(installed_plugins, sizeof installed_plugins, "%s/lib/lsgd/plugins/", prefix);
    json_array_foreach(json_object_get(doc, "plugins"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *origin = json_string_value(json_object_get(p, "origin"));
        const char *library = json_string_value(json_object_get(p, "library"));
        found_mine += strcmp(name, "mine") == 0 && strcmp(origin, "LSGD_PLUGIN_PATH") == 0;
        builtins += strcmp(origin, "built-in") == 0 &&
                    strncmp(library, installed_plugins, strlen(installed_plugins)) == 0;
    }
    CU_ASSERT_EQUAL(found_mine, 1);
    built_plugin bp[64];
    CU_ASSERT_EQUAL(builtins, (int)built_plugins(bp, 64));
    json_decref(doc);
    test_output_free(&o);

    snprintf(cmd, sizeof cmd, "'%s/bin/lsgd' plugins check '%s/my.so'", prefix, src);
    o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "ok: scaling plugin 'mine' 1.0.0"));
    test_output_free(&o);
}
