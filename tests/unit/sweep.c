/*
 * sweep.c — `lsgd sweep` and `lsgd compare` as a researcher uses them: a
 * sweep file expanded into runs (axes multiplied, zip groups walked
 * together, methods with their own grids, directories named by their
 * values), run by the real binary on the data-free quadratic with few
 * steps, finished runs skipped, Ctrl-C then a re-run that resumes, bad
 * input refused before any run starts; and the comparison's statistics,
 * best-of selection and targets checked against a sweep written by hand
 * (tests/data/sweep/hand: methods a and b, two step sizes each, seeds
 * 1-3, four rounds of known losses) with the values computed by hand here.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char cmd[16384];

/* The command `cd dir && lsgd ARGS` (a static buffer). */
static const char *lsgd_in_dir(const char *dir, const char *args)
{
    snprintf(cmd, sizeof cmd, "cd '%s' && LSGD_PLUGIN_PATH= '%s' %s", dir,
             test_build_path("bin/lsgd"), args);
    return cmd;
}

/* `cd dir && lsgd ARGS`, within 60 s. */
static test_output lsgd_in(const char *dir, const char *args)
{
    return test_run(lsgd_in_dir(dir, args), 60);
}

/* The same, which must exit 0 (its stderr shown when not). */
static test_output lsgd_ok_in(const char *dir, const char *args)
{
    test_output o = lsgd_in(dir, args);
    if (o.status)
        fprintf(stderr, "\n  lsgd %s: %s", args, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    return o;
}

static int exists(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* A sweep file in dir whose base is the data-free quadratic, one worker,
 * `steps` steps; body adds the sweep's other members. */
static const char *write_sweep(const char *dir, const char *name, int steps, const char *body)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"base\": {\"model\": {\"type\": \"quadratic\", \"dim\": 10}, \"workers\": 1,\n"
             "          \"algorithm\": {\"steps\": %d, \"lr\": 0.0005},\n"
             "          \"output\": {\"progress\": \"none\", \"checkpoint_every\": 500}},\n"
             " \"output\": \"out\",\n %s}\n", steps, body);
    return test_write_file(dir, name, text);
}

/* ---- reading a CSV the commands wrote --------------------------------------- */

/* The field after the one at p (a quoted field may hold commas); NULL at the end. */
static char *next_field(char *p)
{
    int quoted = 0;
    for (; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            return p + 1;
    }
    return NULL;
}

/* The field of `column` in the first row whose first fields are key (a
 * prefix of the row, e.g. "a,1,"); NAN when absent or empty. */
static double csv_value(const char *path, const char *key, const char *column)
{
    char *text = test_read_file(path, NULL);
    if (!text)
        return NAN;
    char *header = text, *rows = strchr(text, '\n');
    double value = NAN;
    if (rows) {
        *rows++ = '\0';
        int index = -1, i = 0;
        for (char *h = header, *next; h; h = next, i++) {
            next = strchr(h, ',');
            if (next)
                *next++ = '\0';
            if (strcmp(h, column) == 0)
                index = i;
        }
        for (char *row = rows, *end; row && *row && index >= 0; row = end) {
            end = strchr(row, '\n');
            if (end)
                *end++ = '\0';
            if (strncmp(row, key, strlen(key)) != 0)
                continue;
            char *field = row;
            for (int k = 0; k < index && field; k++)
                field = next_field(field);
            if (field && *field && *field != ',')
                value = strtod(field, NULL);
            break;
        }
    }
    free(text);
    return value;
}

/* ---- expansion and names ---------------------------------------------------- */

LSGD_TEST(sweep, axes_multiply_zip_groups_walk_together_and_seeds_vary_fastest)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 8,
                "\"axes\": {\"algorithm.lr\": [0.001, 0.002]},\n"
                " \"zip\": [{\"algorithm.batch_size\": [16, 32], \"schedule.period\": [2, 4]}],\n"
                " \"seeds\": [1, 2]");
    test_output o = lsgd_ok_in(dir, "sweep s.json --dry-run");
    /* 2 step sizes × 2 zipped pairs × 2 seeds: 8 runs, none of batch 16
     * with period 4 */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "lsgd sweep: 8 runs"));
    CU_ASSERT_EQUAL(test_count_lines(o.out), 9);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nlr=0.001,batch_size=16,period=2,seed=1: "
                                         "--set algorithm.lr=0.001 --set algorithm.batch_size=16 "
                                         "--set schedule.period=2 --set seed=1 "
                                         "--set output.dir=\"out/lr=0.001,batch_size=16,period=2,"
                                         "seed=1\"\nlr=0.001,batch_size=16,period=2,seed=2: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nlr=0.002,batch_size=32,period=4,seed=2: "));
    CU_ASSERT_PTR_NULL(strstr(o.out, "batch_size=16,period=4"));
    CU_ASSERT_PTR_NULL(strstr(o.out, "batch_size=32,period=2"));
    CU_ASSERT(!exists(dir, "out")); /* a dry run starts nothing */
    test_output_free(&o);
}

LSGD_TEST(sweep, methods_replace_the_sweeps_axis_of_a_key_and_names_use_the_shortest_distinct_key)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 8,
                "\"axes\": {\"algorithm.lr\": [0.001], \"scaling.params.beta1\": [0.9]},\n"
                " \"methods\": {\"sgd\": {\"set\": {\"scaling.plugin\": \"sgd\"},\n"
                "                         \"axes\": {\"algorithm.lr\": [0.01, 0.02]}},\n"
                "             \"adam\": {\"set\": {\"scaling.plugin\": \"adam\"},\n"
                "                        \"axes\": {\"outer.params.beta1\": [0.5]}}}");
    /* beta1 is refused for sgd: the sweep names the axis, value and run */
    expect_input_error(lsgd_in_dir(dir, "sweep s.json --dry-run"),
                       "s.json: axis scaling.params.beta1 value 0.9 (run "
                       "sgd,lr=0.01,scaling.params.beta1=0.9): ", NULL);

    write_sweep(dir, "s.json", 8,
                "\"axes\": {\"algorithm.lr\": [0.001]},\n"
                " \"methods\": {\"sgd\": {\"set\": {\"scaling.plugin\": \"sgd\"},\n"
                "                         \"axes\": {\"algorithm.lr\": [0.01, 0.02],\n"
                "                                  \"scaling.params.momentum\": [0.5]}},\n"
                "             \"adam\": {\"axes\": {\"outer.params.momentum\": [0.5]},\n"
                "                        \"set\": {\"scaling.plugin\": \"adam\", \"outer.plugin\": "
                "\"sgd\"}}}");
    test_output o = lsgd_ok_in(dir, "sweep s.json --dry-run");
    /* sgd's own lr grid replaces the sweep's 0.001; momentum appears under
     * two sections, so each is named by its section too */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nsgd,lr=0.01,scaling.params.momentum=0.5: "
                                         "--set scaling.plugin=\"sgd\" --set algorithm.lr=0.01"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nsgd,lr=0.02,scaling.params.momentum=0.5: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nadam,lr=0.001,outer.params.momentum=0.5: "));
    CU_ASSERT_PTR_NULL(strstr(o.out, "sgd,lr=0.001"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "lsgd sweep: 3 runs"));
    test_output_free(&o);
}

/* ---- running ---------------------------------------------------------------- */

LSGD_TEST(sweep, a_sweep_runs_every_setting_reports_each_and_a_rerun_skips_finished_runs)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 40,
                "\"axes\": {\"algorithm.lr\": [0.0005, 0.001]}, \"seeds\": [1, 2],\n"
                " \"targets\": [\"objective<=1e30\"]");
    test_output o = lsgd_in(dir, "sweep s.json --jobs 2");
    if (o.status)
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "4 runs: 4 done (0 had finished before), 0 failed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "4/4 runs done"));
    test_output_free(&o);
    char out[4200], csv[4300];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(csv, sizeof csv, "%s/sweep.csv", out);
    CU_ASSERT(exists(out, "lr=0.0005,seed=1/model.json") && exists(out, "lr=0.001,seed=2/model.json"));
    CU_ASSERT(exists(out, "base.json") && exists(out, "sweep.jsonl"));
    /* one row per run: its values, final figures, and the target met at round 1 */
    CU_ASSERT_EQUAL(csv_value(csv, "\"lr=0.001,seed=2\",,done,0.001,2,", "steps"), 40);
    CU_ASSERT_EQUAL(csv_value(csv, "\"lr=0.001,seed=2\",,done,0.001,2,", "rounds"), 5);
    CU_ASSERT_EQUAL(csv_value(csv, "\"lr=0.0005,seed=1\",", "objective<=1e30:round"), 1);
    CU_ASSERT_EQUAL(csv_value(csv, "\"lr=0.0005,seed=1\",", "objective<=1e30:step"), 8);

    /* again: every run had finished, none starts (each log says one start) */
    o = lsgd_ok_in(dir, "sweep s.json");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "4 runs: 4 done (4 had finished before)"));
    test_output_free(&o);
    char log[4400];
    snprintf(log, sizeof log, "%s/lr=0.001,seed=1/sweep.log", out);
    char *text = test_read_file(log, NULL);
    CU_ASSERT(text && strstr(text, "lsgd sweep: starting") &&
              !strstr(strstr(text, "lsgd sweep: starting") + 1, "lsgd sweep: starting"));
    free(text);
}

/* A run already finished (model.json) is not run again, and the sweep
 * reports its metrics.csv: written by hand, its target met first at round
 * 3, step 24, after 100 + 200 + 300 bytes, at 1.5 s. */
LSGD_TEST(sweep, a_target_is_first_met_at_the_round_step_bytes_and_wall_time_of_the_metrics)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 40, "\"axes\": {\"algorithm.lr\": [1]}, \"seeds\": [2]");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/out/lr=1,seed=2' && cp '%s' '%s/out/lr=1,seed=2/' && "
             "echo '{}' > '%s/out/lr=1,seed=2/model.json'", dir,
             test_root_path("tests/data/sweep/hand/a,lr=1,seed=2/metrics.csv"), dir, dir);
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    o = lsgd_ok_in(dir, "sweep s.json --target 'train_loss<=0.15' --target 'train_loss<0.05'");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "1 runs: 1 done (1 had finished before)"));
    test_output_free(&o);
    char csv[4300];
    snprintf(csv, sizeof csv, "%s/out/sweep.csv", dir);
    const char *row = "\"lr=1,seed=2\",";
    CU_ASSERT_EQUAL(csv_value(csv, row, "train_loss<=0.15:round"), 3);
    CU_ASSERT_EQUAL(csv_value(csv, row, "train_loss<=0.15:step"), 24);
    CU_ASSERT_EQUAL(csv_value(csv, row, "train_loss<=0.15:bytes"), 600);
    CU_ASSERT_EQUAL(csv_value(csv, row, "train_loss<=0.15:wall_s"), 1.5);
    CU_ASSERT(isnan(csv_value(csv, row, "train_loss<0.05:round"))); /* 0.05 is not < 0.05 */
    CU_ASSERT_EQUAL(csv_value(csv, row, "train_loss"), 0.05);
    CU_ASSERT_EQUAL(csv_value(csv, row, "bytes"), 1000);
    CU_ASSERT(!exists(dir, "out/lr=1,seed=2/sweep.log"));
}

/* A sweep of these members is refused: exit 2, one line holding `line`,
 * no run started and nothing written. */
static void refused_before_any_run(const char *members, const char *line)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 8, members);
    expect_input_error(lsgd_in_dir(dir, "sweep s.json"), line, NULL);
    CU_ASSERT(!exists(dir, "out")); /* no run started, nothing written */
}

/* Each case: the sweep's members, and what the one line on stderr says. */
LSGD_TEST(sweep, bad_input_exits_2_naming_the_axis_and_value_before_any_run_starts)
{
    static const char *const cases[][2] = {
        {"\"axes\": {\"algorithm.lrr\": [0.1]}",
         "s.json: axis algorithm.lrr value 0.1 (run lrr=0.1): unknown key 'lrr' at algorithm"},
        {"\"axes\": {\"algorithm.lr\": [0.1, -1]}",
         "s.json: axis algorithm.lr value -1 (run lr=-1): algorithm.lr: -1 is below the minimum"},
        {"\"methods\": {\"x\": {\"set\": {\"scaling.plugin\": \"adamm\"}}}",
         "s.json: method x: set scaling.plugin=adamm (run x): scaling.plugin: unknown scaling "
         "plugin 'adamm'"},
        {"\"targets\": [\"trainloss<=1\"]",
         "s.json: targets[0]: target 'trainloss<=1': unknown metric 'trainloss'; known: round,"},
        {"\"zip\": [{\"algorithm.lr\": [0.1, 0.2], \"schedule.period\": [2]}]",
         "s.json: zip[0]: zip lists must be equally long: algorithm.lr has 2 values, "
         "schedule.period has 1"},
        {"\"axes\": {\"workers\": [1, 5000]}",
         "s.json: axis workers value 5000 (run workers=5000): workers: 5000 is above"},
        {"\"axis\": {}", "s.json: unknown key 'axis' at the top level (did you mean 'axes'?)"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused_before_any_run(cases[i][0], cases[i][1]);
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 8, "\"seeds\": [1]");
    expect_input_error(lsgd_in_dir(dir, "sweep s.json --target 'train_loss=0.1'"),
                       "--target: target 'train_loss=0.1': expected METRIC<=VALUE", NULL);
    CU_ASSERT(!exists(dir, "out"));
}

/* An axis or a method's set of output.dir (or of an output section with a
 * dir) would be replaced by the run's own directory without a word: it is
 * refused, naming where it came from, before any run starts. */
LSGD_TEST(sweep, an_axis_or_method_setting_output_dir_is_refused_naming_it)
{
    static const char *const cases[][2] = {
        {"\"axes\": {\"output.dir\": [\"mine\"]}",
         "s.json: axis output.dir value mine: the sweep sets output.dir of each run"},
        {"\"methods\": {\"m\": {\"set\": {\"output\": {\"dir\": \"mine\"}}}}",
         "s.json: method m: set output={\"dir\":\"mine\"}: the sweep sets output.dir of each run"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused_before_any_run(cases[i][0], cases[i][1]);
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 8, "\"methods\": {\"m\": {\"set\": {\"output.eval_every\": 2}}}");
    /* other output keys are the run's to set */
    test_output o = lsgd_ok_in(dir, "sweep s.json --dry-run");
    test_output_free(&o);
}

/* A base at fault by itself is named as the sweep file gives it: "base
 * FILE" for a file, "base" for an inline one (never the temporary file it
 * is checked from), not as the first run's. */
LSGD_TEST(sweep, a_bad_base_is_named_as_the_sweep_file_gives_it)
{
    TEST_TMPDIR(dir);
    test_write_file(dir, "s.json", "{\"base\": {\"model\": {\"type\": \"bogus\"}}}");
    test_output o = lsgd_in(dir, "sweep s.json --dry-run");
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "lsgd: s.json: base: model.type: \"bogus\" is not one of"));
    CU_ASSERT_PTR_NULL(strstr(o.err, "/tmp/lsgd-sweep-base-"));
    test_output_free(&o);
    test_write_file(dir, "s.json", "{\"base\": \"missing.json\"}");
    expect_input_error(lsgd_in_dir(dir, "sweep s.json --dry-run"),
                       "lsgd: s.json: base missing.json: cannot read config", NULL);
}

/* Ctrl-C (SIGINT to the sweep alone, as a terminal's goes to its process
 * group) stops both running runs, each keeping its checkpoints; a re-run
 * resumes them (--resume) and finishes.  The runs last seconds, not the
 * 0.4 s that 320,000 steps take on an idle machine: a run must still be
 * running when the signal comes after its first checkpoint. */
LSGD_TEST(sweep, ctrl_c_stops_every_run_and_a_rerun_resumes_them)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 3200000, "\"seeds\": [1, 2]"); /* ~4 s a run on an idle core */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && { '%s' sweep s.json --jobs 2 & P=$!; "
             "for i in $(seq 300); do [ -f out/seed=1/checkpoint/rank-0.ckpt ] && "
             "[ -f out/seed=2/checkpoint/rank-0.ckpt ] && break; sleep 0.1; done; "
             "kill -INT $P; wait $P; echo \"status $?\"; }; "
             "flock -n out/seed=1/.lock true && flock -n out/seed=2/.lock true && echo unlocked",
             dir, test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 60);
    if (!strstr(o.out, "2 stopped"))
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "status 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "unlocked")); /* no run outlives the sweep */
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "2 runs: 0 done (0 had finished before), 0 failed, "
                                         "2 stopped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "interrupted: stopping the running runs"));
    test_output_free(&o);
    char csv[4300];
    snprintf(csv, sizeof csv, "%s/out/sweep.csv", dir);
    char *text = test_read_file(csv, NULL);
    CU_ASSERT(text && strstr(text, "\nseed=1,,stopped,") && strstr(text, "\nseed=2,,stopped,"));
    free(text);

    /* the rest of the steps: a resume goes on where the checkpoint was */
    o = lsgd_in(dir, "sweep s.json --jobs 2");
    if (o.status || !strstr(o.out, "2 runs: 2 done (0 had finished before)"))
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "2 runs: 2 done (0 had finished before)"));
    test_output_free(&o);
    char log[4400];
    snprintf(log, sizeof log, "%s/out/seed=2/sweep.log", dir);
    text = test_read_file(log, NULL);
    CU_ASSERT(text && strstr(text, "lsgd sweep: starting seed=2 --resume"));
    free(text);
}

/* ---- compare ---------------------------------------------------------------- */

static const char *hand_sweep(void)
{
    return test_root_path("tests/data/sweep/hand");
}

/* `lsgd compare ARGS` in dir, which must succeed. */
static void compare_in(const char *dir, const char *args)
{
    test_output o = lsgd_in(dir, args);
    if (o.status)
        fprintf(stderr, "\n%s", o.err);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
}

/* Method a at lr 1: final training losses 0.1, 0.05, 0.12 (seeds 1-3):
 * mean 0.09, deviations 0.01, -0.04, 0.03, sample variance
 * (0.0001 + 0.0016 + 0.0009) / 2 = 0.0013, standard error
 * sqrt(0.0013) / sqrt(3) = 0.020816660.  Rounds to train_loss <= 0.15:
 * 2, 3, 4: mean 3, standard error 1 / sqrt(3) = 0.577350269; bytes to it
 * 300, 600, 1000 (bytes of rounds 1..r summed): mean 633.3333,
 * variance ((−333.33)² + (−33.33)² + 366.67²) / 2 = 123333.33, standard
 * error sqrt(123333.33 / 3) = 202.7588.
 * Seed-paired difference of rounds, b at lr 0.01 (2, 3, 2) minus a at
 * lr 1 (2, 3, 4): 0, 0, −2: mean −2/3, variance (4/9 + 4/9 + 16/9) / 2 =
 * 4/3, standard error sqrt(4/9) = 2/3. */
LSGD_TEST(compare, mean_standard_error_and_paired_differences_match_values_computed_by_hand)
{
    TEST_TMPDIR(dir);
    char args[4400];
    snprintf(args, sizeof args, "compare '%s' --best-of algorithm.lr --target 'train_loss<=0.15' "
             "-o cmp --no-plot", hand_sweep());
    compare_in(dir, args);
    char csv[4300];
    snprintf(csv, sizeof csv, "%s/cmp/compare.csv", dir);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "final.train_loss:mean"), 0.09, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "final.train_loss:se"), 0.020816660, 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "rounds_to_target:mean"), 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "rounds_to_target:se"), 0.577350269, 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "steps_to_target:mean"), 24, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "bytes_to_target:mean"), 633.333333, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "bytes_to_target:se"), 202.7588, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "wall_to_target:mean"), 1.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "b,0.01,", "delta:rounds_to_target:mean"), -2.0 / 3,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "b,0.01,", "delta:rounds_to_target:se"), 2.0 / 3, 1e-9);
    CU_ASSERT_EQUAL(csv_value(csv, "b,0.01,", "delta:rounds_to_target:n"), 3);
    CU_ASSERT_EQUAL(csv_value(csv, "a,1,", "final.test_accuracy:mean"), 0.9);
    /* the table says the same, accuracy in percent */
    char md[4300];
    snprintf(md, sizeof md, "%s/cmp/compare.%s", dir, "md"); /* the table */
    char *text = test_read_file(md, NULL);
    CU_ASSERT(text && strstr(text, "Not shown: 1 run of the sweeps that did not finish"));
    CU_ASSERT(text && strstr(text, "| a | 1 | 3 | 0.09 ± 0.021 |") &&
              strstr(text, "| 90 ± 0% |") && strstr(text, "| 0.1 ± 0 |") && strstr(text, "| -0.6667 ± 0.67 |"));
    free(text);
}

/* a: lr 1 meets the target in all 3 seeds (mean 3 rounds), lr 0.1 in 2 of
 * 3; b: lr 0.1 meets it sooner (1 round) but in 1 seed of 3, lr 0.01 in
 * all 3: more seeds meeting it wins, so a keeps 1 and b keeps 0.01.  By
 * the final training loss instead, b's lr 0.01 (0.1 each) beats 0.1
 * (0.1, 0.5, 0.5) and a's lr 1 (mean 0.09) beats 0.1 (mean 0.1467). */
LSGD_TEST(compare, best_of_keeps_each_methods_best_step_size_by_the_quantity_asked)
{
    TEST_TMPDIR(dir);
    char args[4400];
    snprintf(args, sizeof args, "compare '%s' --best-of algorithm.lr --by rounds_to_target "
             "--target 'train_loss<=0.15' -o cmp --no-plot", hand_sweep());
    test_output o = lsgd_ok_in(dir, args);
    test_output_free(&o);
    char csv[4300];
    snprintf(csv, sizeof csv, "%s/cmp/compare.csv", dir);
    char *text = test_read_file(csv, NULL);
    CU_ASSERT_EQUAL(test_count_lines(text), 3); /* header and one row per method */
    CU_ASSERT(text && strstr(text, "\na,1,3,") && strstr(text, "\nb,0.01,3,"));
    free(text);

    snprintf(args, sizeof args, "compare '%s' --best-of algorithm.lr --by final.train_loss "
             "-o cmp2 --no-plot --baseline b", hand_sweep());
    o = lsgd_ok_in(dir, args);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "Δ final.train_loss vs b"));
    test_output_free(&o);
    snprintf(csv, sizeof csv, "%s/cmp2/compare.csv", dir);
    text = test_read_file(csv, NULL);
    CU_ASSERT(text && strstr(text, "\na,1,3,") && strstr(text, "\nb,0.01,3,"));
    free(text);
    /* a − b per seed: 0.1 − 0.1, 0.05 − 0.1, 0.12 − 0.1 → mean −0.01 */
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "delta:final.train_loss:mean"), -0.01, 1e-9);

    snprintf(args, sizeof args, "compare '%s' --best-of algorithm.momentum --no-plot",
             hand_sweep());
    expect_input_error(lsgd_in_dir(dir, args), "--best-of algorithm.momentum: no such axis in "
                       "these runs; axes: [\"algorithm.lr\"]", NULL);
}

/* Each bad option of compare is one line, exit 2, naming the option and
 * what these runs have instead. */
LSGD_TEST(compare, bad_options_exit_2_naming_the_option_and_what_the_runs_have)
{
    TEST_TMPDIR(dir);
    static const char *const cases[][2] = {
        {"--by rounds", "--by rounds: unknown quantity; known: rounds_to_target,"},
        {"--baseline c", "--baseline c: no such method in these runs; methods: a, b"},
        {"--target 'trainloss<=1'", "--target: target 'trainloss<=1': unknown metric 'trainloss'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[4400];
        snprintf(args, sizeof args, "compare '%s' --no-plot -o out %s", hand_sweep(),
                 cases[i][0]);
        expect_input_error(lsgd_in_dir(dir, args), cases[i][1], NULL);
        CU_ASSERT(!exists(dir, "out"));
    }
    expect_input_error(lsgd_in_dir(dir, "compare . --no-plot"),
                       ".: neither a sweep (no sweep.jsonl) nor a run", NULL);
}

/* Figures: PNG and SVG of each; titles name the sweep; accuracy in percent;
 * two runs of the same base name keep distinct names. */
LSGD_TEST(compare, plots_are_png_and_svg_with_bands_titles_percent_and_distinct_run_names)
{
    TEST_TMPDIR(dir);
    char args[4400];
    snprintf(args, sizeof args, "compare '%s' --best-of algorithm.lr --target 'train_loss<=0.15' "
             "-o cmp", hand_sweep());
    test_output o = lsgd_in(dir, args);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    const char *figures[] = {"loss_rounds", "loss_bytes", "loss_time", "accuracy_rounds"};
    for (size_t i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "cmp/%s.png", figures[i]);
        CU_ASSERT(exists(dir, name));
        snprintf(name, sizeof name, "cmp/%s.svg", figures[i]);
        CU_ASSERT(exists(dir, name));
    }
    test_output_free(&o);
    char path[4300];
    snprintf(path, sizeof path, "%s/cmp/loss_rounds.svg", dir);
    char *svg = test_read_file(path, NULL);
    CU_ASSERT(svg && strstr(svg, "<svg") && strstr(svg, "hand: training loss") &&
              strstr(svg, ">a lr=1<") && strstr(svg, ">b lr=0.01<"));
    CU_ASSERT(svg && strstr(svg, "fill-opacity")); /* the standard-error band */
    free(svg);

    /* lsgd plot of x/run and y/run: named apart, accuracy in percent */
    snprintf(cmd, sizeof cmd, "cd '%s' && mkdir -p x/run y/run && cp '%s/a,lr=1,seed=1/metrics.csv' "
             "x/run/ && cp '%s/b,lr=0.01,seed=1/metrics.csv' y/run/", dir, hand_sweep(),
             hand_sweep());
    o = test_run(cmd, 10);
    test_output_free(&o);
    o = lsgd_ok_in(dir, "plot x/run y/run -o plots");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "plots/loss_rounds.svg\n"));
    test_output_free(&o);
    snprintf(path, sizeof path, "%s/plots/loss_rounds.svg", dir);
    svg = test_read_file(path, NULL);
    CU_ASSERT(svg && strstr(svg, ">x/run train loss<") && strstr(svg, ">y/run train loss<") &&
              strstr(svg, "x/run, y/run: loss"));
    CU_ASSERT(svg && !strstr(svg, "0.000010") && !strstr(svg, ">0.10<"));
    free(svg);
    snprintf(path, sizeof path, "%s/plots/accuracy_rounds.svg", dir);
    svg = test_read_file(path, NULL);
    CU_ASSERT(svg && strstr(svg, "test accuracy (%)") && strstr(svg, ">90<"));
    free(svg);
}

/* ---- the schema and the shipped sweeps --------------------------------------- */

/* python3-jsonschema accepts the shipped sweeps (examples/sweeps, .sweep.json) and rejects each
 * document of tests/data/sweep/invalid-sweeps.json; lsgd agrees on both,
 * and expands each shipped sweep with every run's config checked (data
 * included: heart_scale from liblinear-tools, MNIST fetched first). */
LSGD_TEST(sweep, the_host_and_python_jsonschema_agree_on_sweep_files_and_shipped_sweeps_expand)
{
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", test_root_path("tests/scripts/sweep_schema.py"),
             test_root_dir());
    test_output o = test_run(cmd, 60);
    if (o.status)
        fprintf(stderr, "\n%s%s", o.out, o.err);
    CU_ASSERT_EQUAL(o.status, 0);
    test_output_free(&o);

    json_t *invalid = json_load_file(test_root_path("tests/data/sweep/invalid-sweeps.json"), 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(invalid);
    TEST_TMPDIR(dir);
    size_t i;
    json_t *doc;
    json_array_foreach(invalid, i, doc) {
        char *text = json_dumps(doc, 0);
        test_write_file(dir, "bad.json", text);
        free(text);
        expect_input_error(lsgd_in_dir(dir, "sweep bad.json --dry-run"), NULL);
    }
    json_decref(invalid);

    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *shipped[] = {"quadratic", "heart", "mnist"};
    for (size_t k = 0; k < 3; k++) {
        char args[256];
        snprintf(args, sizeof args, "sweep examples/sweeps/%s.sweep.json --dry-run", shipped[k]);
        o = lsgd_ok_in(test_root_dir(), args);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, " runs of "));
        test_output_free(&o);
    }
}

/* Values that read the same in a name (["a/b"] and ["a_b"] both as
 * __a_b__) still give each run its own directory, and a name is never "."
 * or "..": each directory is under the sweep's. */
LSGD_TEST(sweep, runs_whose_values_read_alike_get_distinct_directories_inside_the_sweep)
{
    TEST_TMPDIR(dir);
    write_sweep(dir, "s.json", 8, "\"axes\": {\"plugin_path\": [[\"a/b\"], [\"a_b\"]]}");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/a/b' '%s/a_b'", dir, dir);
    test_output o = test_run(cmd, 10);
    test_output_free(&o);
    o = lsgd_ok_in(dir, "sweep s.json --dry-run");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nplugin_path=__a_b__: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "\nplugin_path=__a_b__,run=2: "));
    test_output_free(&o);

    write_sweep(dir, "s.json", 8, "\"methods\": {\"..\": {\"set\": {\"seed\": 3}}}");
    o = lsgd_ok_in(dir, "sweep s.json --dry-run");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "output.dir=\"out/_.\"\n"));
    test_output_free(&o);
}

/* sweep.jsonl is input: a row lsgd sweep did not write, or one naming a
 * directory outside the sweep, is one line, exit 2, naming file and line;
 * a FIFO in its place is refused at once. */
LSGD_TEST(compare, a_sweep_results_file_that_lsgd_sweep_did_not_write_is_refused_naming_its_line)
{
    TEST_TMPDIR(dir);
    static const char *const rows[] = {
        "{\"run\": \"x\", \"dir\": \"..\", \"method\": \"a\", \"status\": \"done\", \"values\": {}}",
        "{\"run\": \"x\", \"dir\": \"a/../../b\", \"method\": \"a\", \"status\": \"done\", "
        "\"values\": {}}",
        "[1, 2]"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"run\": \"ok\", \"dir\": \"ok\", \"method\": \"a\", "
                 "\"status\": \"failed\", \"values\": {}}\n%s\n", rows[i]);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/s%zu'", dir, i);
        test_output o = test_run(cmd, 10);
        test_output_free(&o);
        char sub[64];
        snprintf(sub, sizeof sub, "s%zu", i);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, sub);
        test_write_file(path, "sweep.jsonl", text);
        char args[128];
        snprintf(args, sizeof args, "compare %s --no-plot", sub);
        expect_input_error(lsgd_in_dir(dir, args),
                           "/sweep.jsonl line 2: expected a row written by lsgd sweep", NULL);
    }
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/fifo' && mkfifo '%s/fifo/sweep.jsonl'", dir, dir);
    test_output o = test_run(cmd, 10);
    test_output_free(&o);
    expect_input_error(lsgd_in_dir(dir, "compare fifo --no-plot"),
                       "fifo/sweep.jsonl: cannot read sweep results: it is a FIFO (named pipe)",
                       NULL);
}

/* ---- speed-up against workers ------------------------------------------------ */

/* tests/data/sweep/workers: methods a (1, 2, 4 workers) and b (2, 4), two
 * seeds, the loss 0.4, 0.2, 0.1, 0.05 so that train_loss <= 0.15 is first
 * met at round 3, at the wall time of its third row.  a: 4 and 6 s at 1
 * worker (mean 5), 2.5 and 2.5 at 2 (speed-up 5 / 2.5 = 2), 2 and 1 at 4
 * (mean 1.5, speed-up 3.3333, ideal 4); b, relative to its smallest, 2
 * workers: 8 and 8 s, then 4 and 6 at 4 (mean 5, speed-up 1.6, ideal 2). */
LSGD_TEST(compare, a_worker_sweep_gets_time_to_target_speed_ups_against_the_smallest_workers)
{
    TEST_TMPDIR(dir);
    char args[4400];
    snprintf(args, sizeof args, "compare '%s' -o cmp",
             test_root_path("tests/data/sweep/workers"));
    compare_in(dir, args);
    char csv[4300];
    snprintf(csv, sizeof csv, "%s/cmp/speedup.csv", dir);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "time"), 5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,1,", "speedup"), 1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,2,", "speedup"), 2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,4,", "time"), 1.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,4,", "speedup"), 10.0 / 3, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "a,4,", "ideal"), 4, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "b,2,", "speedup"), 1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "b,4,", "speedup"), 1.6, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(csv_value(csv, "b,4,", "ideal"), 2, 1e-12);
    CU_ASSERT_EQUAL(csv_value(csv, "b,4,", "seeds"), 2);
    char path[4300];
    snprintf(path, sizeof path, "%s/cmp/speedup_workers.svg", dir);
    char *svg = test_read_file(path, NULL);
    CU_ASSERT(svg && strstr(svg, "workers: speed-up (wall_to_target)") && strstr(svg, ">a<") &&
              strstr(svg, ">b<") && strstr(svg, ">ideal<") && strstr(svg, "stroke-dasharray"));
    free(svg);
    CU_ASSERT(exists(dir, "cmp/speedup_workers.png"));
    snprintf(path, sizeof path, "%s/cmp/compare.md", dir);
    char *md = test_read_file(path, NULL);
    CU_ASSERT(md && strstr(md, "## Speed-up against workers") &&
              strstr(md, "| a | 4 | 2 | 1.5 | 3.33 | 4 |") && strstr(md, "| b | 4 | 2 | 5 | 1.6 | 2 |"));
    free(md);

    /* a sweep that does not vary workers has no speed-ups */
    snprintf(args, sizeof args, "compare '%s' -o cmp2 --no-plot", hand_sweep());
    compare_in(dir, args);
    CU_ASSERT(!exists(dir, "cmp2/speedup.csv"));
}

/* ---- the reproduction's sweeps ----------------------------------------------- */

/* The sweep files of tools/reproduce (examples/reproduce/sweeps) expand,
 * each run's config checked with its data (MNIST fetched first); the two
 * 1-D speed-up sweeps (5600 runs) are left to tools/reproduce, as checking
 * them takes minutes on a loaded machine. */
LSGD_TEST(sweep, the_sweeps_tools_reproduce_runs_expand_with_every_run_checked)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *sweeps[] = {"savic_quadratic", "savic_mnist", "spiridonoff_quadratic3d",
                            "localgd_implicit_bias", "overlap_calibrate", "overlap_local_sgd"};
    const size_t runs[] = {45, 24, 400, 4, 1, 2};
    for (size_t k = 0; k < sizeof sweeps / sizeof sweeps[0]; k++) {
        char args[256], expect[64];
        snprintf(args, sizeof args, "sweep examples/reproduce/sweeps/%s.sweep.json --dry-run",
                 sweeps[k]);
        test_output o = lsgd_ok_in(test_root_dir(), args);
        snprintf(expect, sizeof expect, "lsgd sweep: %zu runs of ", runs[k]);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, expect));
        test_output_free(&o);
    }
}
