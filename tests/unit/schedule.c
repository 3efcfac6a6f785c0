/* schedule.c — communication times and step sizes as docs/algorithms.md §2 defines them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/schedule.h"
#include "harness.h"

LSGD_TEST(schedule, constant_communicates_every_period_and_last_at_T)
{
    lsgd_schedule s;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_schedule_constant(&s, 20, 8, &err), 0);
    CU_ASSERT_EQUAL(s.rounds, 3);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 0), 0);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 1), 8);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 2), 16);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 3), 20);
}

LSGD_TEST(schedule, increasing_rounds_are_floor_a_r_r_plus_1_over_2_ending_at_T)
{
    lsgd_schedule s;
    lsgd_error err;
    const uint64_t T = 1000, R = 20;
    CU_ASSERT_EQUAL_FATAL(lsgd_schedule_increasing_rounds(&s, T, R, &err), 0);
    CU_ASSERT_EQUAL_FATAL(s.rounds, R);
    double a = 2.0 * T / (R * (R + 1.0));
    for (uint64_t r = 0; r <= R; r++) {
        /* exact rational value T·r(r+1)/(R(R+1)); its floor */
        uint64_t expect = T * r * (r + 1) / (R * (R + 1));
        CU_ASSERT_EQUAL(lsgd_schedule_time(&s, r), expect);
        CU_ASSERT(fabs((double)lsgd_schedule_time(&s, r) - floor(a * r * (r + 1) / 2.0)) <= 1.0);
        if (r)
            CU_ASSERT(lsgd_schedule_time(&s, r) > lsgd_schedule_time(&s, r - 1));
    }
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, R), T);
    /* intervals grow: the last is the longest */
    CU_ASSERT(lsgd_schedule_time(&s, R) - lsgd_schedule_time(&s, R - 1) > lsgd_schedule_time(&s, 1) - lsgd_schedule_time(&s, 0));
}

LSGD_TEST(schedule, increasing_with_many_rounds_still_gives_every_round_a_step)
{
    lsgd_schedule s;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_schedule_increasing_rounds(&s, 10, 10, &err), 0);
    for (size_t r = 1; r <= 10; r++)
        CU_ASSERT_EQUAL(lsgd_schedule_time(&s, r), r);
}

LSGD_TEST(schedule, increasing_refuses_more_rounds_than_steps)
{
    lsgd_schedule s;
    lsgd_error err;
    CU_ASSERT_EQUAL(lsgd_schedule_increasing_rounds(&s, 10, 11, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "schedule.rounds"));
}

LSGD_TEST(schedule, increasing_with_a_slope_takes_the_fewest_rounds_reaching_T)
{
    lsgd_schedule s;
    lsgd_error err;
    /* a = 2: R = ⌈(−1+√(1+4000))/2⌉ = 32; 2·31·32/2 = 992 < 1000 ≤ 2·32·33/2 */
    CU_ASSERT_EQUAL_FATAL(lsgd_schedule_increasing_slope(&s, 1000, 2.0, &err), 0);
    CU_ASSERT_EQUAL(s.rounds, 32);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 1), 2);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 31), 992);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 32), 1000);
}

LSGD_TEST(schedule, one_shot_averages_once_and_every_step_always)
{
    lsgd_schedule s;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_schedule_one_shot(&s, 500, &err), 0);
    CU_ASSERT_EQUAL(s.rounds, 1);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 1), 500);
    CU_ASSERT_EQUAL_FATAL(lsgd_schedule_every_step(&s, 5, &err), 0);
    CU_ASSERT_EQUAL(s.rounds, 5);
    CU_ASSERT_EQUAL(lsgd_schedule_time(&s, 3), 3);
}

LSGD_TEST(schedule, config_with_both_rounds_and_slope_is_refused)
{
    lsgd_schedule s;
    lsgd_error err;
    json_t *cfg = json_pack("{s:s, s:i, s:f}", "type", "increasing", "rounds", 4, "slope", 1.0);
    CU_ASSERT_EQUAL(lsgd_schedule_from_config(&s, cfg, 100, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "exactly one"));
    json_decref(cfg);
}

/* The times as they were once tabled: every raw time computed, then each
 * round given at least one step in turn (t_r ≥ t_{r−1} + 1, t_R = T). */
static void tabled_times(uint64_t *t, const lsgd_schedule *s)
{
    t[0] = 0;
    for (size_t r = 1; r <= s->rounds; r++) {
        double raw = floor(s->slope * (double)r * (double)(r + 1) / 2.0);
        t[r] = s->slope > 0 ? (raw >= (double)s->steps ? s->steps : (uint64_t)raw)
                            : (uint64_t)((unsigned __int128)s->steps * r * (r + 1) /
                                         ((unsigned __int128)s->rounds * (s->rounds + 1)));
    }
    for (size_t r = 1; r < s->rounds; r++)
        if (t[r] <= t[r - 1])
            t[r] = t[r - 1] + 1;
    t[s->rounds] = s->steps;
}

LSGD_TEST(schedule, increasing_times_computed_when_asked_equal_the_tabled_ones_exactly)
{
    static uint64_t table[20001];
    const uint64_t steps[] = {1, 2, 7, 100, 1000, 9973, 20000};
    const double slopes[] = {1e-6, 0.01, 0.3, 0.5, 1.0, 2.0, 3.7, 100.0};
    lsgd_error err;
    size_t checked = 0;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        uint64_t T = steps[i];
        for (uint64_t R = 1; R <= T; R += R < 40 ? 1 : R / 7) {
            lsgd_schedule s;
            CU_ASSERT_EQUAL_FATAL(lsgd_schedule_increasing_rounds(&s, T, R, &err), 0);
            tabled_times(table, &s);
            for (size_t r = 0; r <= s.rounds; r++, checked++)
                if (lsgd_schedule_time(&s, r) != table[r])
                    CU_FAIL_FATAL("increasing by rounds: a time differs from the table");
        }
        for (size_t k = 0; k < sizeof slopes / sizeof *slopes; k++) {
            lsgd_schedule s;
            if (lsgd_schedule_increasing_slope(&s, T, slopes[k], &err) != LSGD_OK)
                continue; /* more rounds than steps */
            tabled_times(table, &s);
            for (size_t r = 0; r <= s.rounds; r++, checked++)
                if (lsgd_schedule_time(&s, r) != table[r])
                    CU_FAIL_FATAL("increasing by slope: a time differs from the table");
        }
    }
    CU_ASSERT(checked > 100000);
}

/* An every-step schedule once tabled 8 bytes a step: 8 GB at 10^9 steps. */
LSGD_TEST(schedule, an_every_step_schedule_of_a_billion_steps_validates_within_1_gb_of_memory)
{
    const char *cfg = test_write_file(test_tmpdir(), "every_step.json",
                                      "{\"model\": {\"type\": \"quadratic\"},"
                                      " \"algorithm\": {\"steps\": 1000000000},"
                                      " \"schedule\": {\"type\": \"every_step\"}}");
    char cmd[4096];
#ifdef __SANITIZE_ADDRESS__
    const char *limit = ""; /* ASan's shadow needs terabytes of address space */
#else
    const char *limit = "ulimit -v 1000000 && ";
#endif
    snprintf(cmd, sizeof cmd, "%s'%s' validate '%s'", limit, test_build_path("bin/lsgd"), cfg);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    if (o.status)
        fprintf(stderr, "\n  status %d: %s", o.status, o.err);
    test_output_free(&o);
}

static double lr_of(const char *json, uint64_t t)
{
    json_error_t jerr;
    json_t *alg = json_loads(json, 0, &jerr);
    lsgd_lr_schedule s;
    lsgd_error err;
    CU_ASSERT_EQUAL_FATAL(lsgd_lr_from_config(&s, alg, &err), 0);
    json_decref(alg);
    return lsgd_lr_at(&s, t);
}

LSGD_TEST(schedule, inverse_step_size_is_c_over_mu_t_plus_b_capped)
{
    const char *spiridonoff_1d =
        "{\"lr\":1,\"steps\":1000,\"lr_schedule\":{\"type\":\"inverse\",\"c\":2,\"mu\":1,"
        "\"b\":1,\"cap\":0.5}}";
    CU_ASSERT_DOUBLE_EQUAL(lr_of(spiridonoff_1d, 0), 0.5, 0);     /* min(2/1, 1/2) */
    CU_ASSERT_DOUBLE_EQUAL(lr_of(spiridonoff_1d, 3), 0.5, 0);     /* 2/4 */
    CU_ASSERT_DOUBLE_EQUAL(lr_of(spiridonoff_1d, 9), 0.2, 1e-15); /* 2/10 */
    const char *quad3 = "{\"lr\":1,\"lr_schedule\":{\"type\":\"inverse\",\"c\":3,\"mu\":1,\"b\":1}}";
    CU_ASSERT_DOUBLE_EQUAL(lr_of(quad3, 0), 3.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(quad3, 99), 0.03, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(lr_of("{\"lr\":0.5,\"lr_schedule\":{\"type\":\"inverse\",\"mu\":2,\"b\":10}}", 10),
                           0.5 / (2 * 20), 1e-15);
}

LSGD_TEST(schedule, step_cosine_and_warmup_step_sizes)
{
    const char *step = "{\"lr\":1,\"steps\":100,\"lr_schedule\":{\"type\":\"step\",\"gamma\":0.5,\"every\":10}}";
    CU_ASSERT_DOUBLE_EQUAL(lr_of(step, 9), 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(step, 10), 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(step, 35), 0.125, 0);
    const char *cosine = "{\"lr\":1,\"steps\":100,\"lr_schedule\":{\"type\":\"cosine\",\"min_lr\":0.1}}";
    CU_ASSERT_DOUBLE_EQUAL(lr_of(cosine, 0), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(cosine, 50), 0.55, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(cosine, 100), 0.1, 1e-12);
    const char *warm = "{\"lr\":0.4,\"steps\":100,\"lr_schedule\":{\"type\":\"warmup\",\"warmup_steps\":4}}";
    CU_ASSERT_DOUBLE_EQUAL(lr_of(warm, 0), 0.1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(warm, 3), 0.4, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(lr_of(warm, 50), 0.4, 0);
    CU_ASSERT_DOUBLE_EQUAL(lr_of("{\"lr\":0.3}", 77), 0.3, 0);
}
