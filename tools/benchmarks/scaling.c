/*
 * scaling.c — how fast the scaling plugins step, against the memory
 * bandwidth of this machine and against PyTorch.
 *
 * One core, d = 2^24 float32 (every array 64 MiB, beyond the caches).  For
 * each plugin configuration: ns per parameter and GB/s under a traffic
 * model (bytes each step must read and write per parameter), next to the
 * copy bandwidth measured in the same run (b[i] = a[i] and memcpy, read +
 * write counted), and the ratio of the two (target ≥ 0.85).  The plugin is
 * called through its real ops table from the .so the host dlopen'd
 * (lsgd_scaling_open); a second column times the host's lsgd_scaling_step,
 * which adds the NaN/Inf check of the gradient (one more read of g).
 *
 * PyTorch's torch.optim step for the same d is timed by scaling.py in the
 * same run (scaling.sh passes its figures in LSGD_TORCH_TIMES, lines of
 * "<config> <seconds>"); the last column is torch time / lsgd time
 * (target ≥ 2.5).  Times are the best of `reps` runs after a warm-up.
 *
 * Usage: scaling [log2_dim] [reps]     (defaults 24 and 7)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/registry.h"
#include "host/scaling_host.h"

typedef struct config {
    const char *label;   /* as scaling.py names the PyTorch counterpart */
    const char *plugin;
    const char *params;
    int bytes;           /* traffic model: bytes read + written per parameter */
    int refresh_only;    /* time ops->refresh (OASIS's D from an HVP statistic) */
} config;

static const config configs[] = {
    {"sgd", "sgd", "{}", 12, 0},                              /* x rw, g r */
    {"sgd_momentum", "sgd", "{\"momentum\": 0.9}", 20, 0},    /* + b rw */
    {"adam", "adam", "{}", 28, 0},                            /* x rw, g r, m rw, v rw */
    {"adam_amsgrad", "adam", "{\"amsgrad\": true}", 36, 0},   /* + v_max rw */
    {"rmsprop", "rmsprop", "{}", 20, 0},                      /* x rw, g r, v rw */
    {"rmsprop_momentum", "rmsprop", "{\"momentum\": 0.9}", 28, 0}, /* + b rw */
    {"adagrad", "adagrad", "{}", 20, 0},                      /* x rw, g r, sum rw */
    {"oasis", "oasis", "{}", 16, 0},                          /* x rw, g r, D r */
    {"oasis_refresh", "oasis", "{}", 12, 1},                  /* D rw, H r */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *a, size_t n, float lo, float hi, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        a[i] = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
}

/* Best seconds of reps copies b[i] = a[i] (plain loop, or memcpy). */
static double copy_seconds(float *b, const float *a, size_t n, int reps, int use_memcpy)
{
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t = now();
        if (use_memcpy)
            memcpy(b, a, n * sizeof *a);
        else
            for (size_t i = 0; i < n; i++)
                b[i] = a[i];
        t = now() - t;
        if (r > 0 && t < best) /* r = 0 warms up */
            best = t;
    }
    return best;
}

static double torch_seconds(const char *label)
{
    const char *path = getenv("LSGD_TORCH_TIMES");
    FILE *f = path ? fopen(path, "r") : NULL;
    double found = 0;
    char name[64];
    double secs;
    while (f && fscanf(f, "%63s %lf", name, &secs) == 2)
        if (strcmp(name, label) == 0)
            found = secs;
    if (f)
        fclose(f);
    return found;
}

typedef struct timing {
    double ops, host; /* best seconds: ops->step (or refresh), lsgd_scaling_step */
} timing;

static int time_config(timing *out, const config *c, const lsgd_registry *reg, float *x,
                       float *g, size_t n, int reps, lsgd_error *err)
{
    json_t *cfg = json_pack("{s:s, s:o}", "plugin", c->plugin, "params",
                            json_loads(c->params, 0, NULL));
    static const char *const provides[] = {"hvp", NULL};
    lsgd_scaling s;
    int rc = lsgd_scaling_open(&s, reg, cfg, "scaling", n, provides, err);
    json_decref(cfg);
    if (rc)
        return rc;
    for (size_t k = 0; k < s.count; k++) /* state in a plausible range, pages touched */
        fill(s.state[k], n, 0.01f, 1.0f, 3 + k);
    const float lr = 1e-6f;
    out->ops = out->host = 1e30;
    for (int r = 0; r <= reps && rc == LSGD_OK; r++) {
        lsgd_scaling_clock clock = {(uint64_t)r + 1, (uint64_t)r + 1};
        double t = now();
        if (c->refresh_only)
            rc = s.ops->refresh(s.self, s.state, g, &clock, err);
        else
            rc = s.ops->step(s.self, x, s.state, g, lr, &clock, 1, err);
        t = now() - t;
        if (r > 0 && t < out->ops)
            out->ops = t;
    }
    for (int r = 0; r <= reps && rc == LSGD_OK && !c->refresh_only; r++) {
        double t = now();
        rc = lsgd_scaling_step(&s, x, g, lr, 1, err);
        t = now() - t;
        if (r > 0 && t < out->host)
            out->host = t;
    }
    lsgd_scaling_close(&s);
    return rc;
}

int main(int argc, char **argv)
{
    const int log2_dim = argc > 1 ? atoi(argv[1]) : 24;
    const int reps = argc > 2 ? atoi(argv[2]) : 7;
    const size_t n = (size_t)1 << log2_dim;
    /* x and g as the engine should hold them: lsgd_floats_alloc (huge pages) */
    float *x = lsgd_floats_alloc(n), *g = lsgd_floats_alloc(n);
    if (!x || !g || log2_dim < 10 || log2_dim > 30 || reps < 1) {
        fprintf(stderr, "usage: scaling [log2_dim 10..30] [reps ≥ 1] (and enough memory)\n");
        return 2;
    }
    fill(x, n, -1.0f, 1.0f, 1);
    fill(g, n, -0.01f, 0.01f, 2);

    lsgd_registry reg;
    lsgd_error err;
    if (lsgd_registry_discover(&reg, NULL, &err)) {
        fprintf(stderr, "scaling bench: %s\n", err.message);
        return 2;
    }

    float *b = lsgd_floats_alloc(n);
    fill(b, n, 0.0f, 1.0f, 9);
    const double loop_s = copy_seconds(b, x, n, reps, 0);
    const double memcpy_s = copy_seconds(b, x, n, reps, 1);
    lsgd_floats_free(b);
    const double loop_gbs = 8.0 * n / loop_s / 1e9, memcpy_gbs = 8.0 * n / memcpy_s / 1e9;
    const double bound = loop_gbs > memcpy_gbs ? loop_gbs : memcpy_gbs;
    printf("d = 2^%d float32, one core, best of %d after a warm-up\n", log2_dim, reps);
    printf("copy bandwidth (read + write): loop %.2f GB/s, memcpy %.2f GB/s; bound = %.2f GB/s\n\n",
           loop_gbs, memcpy_gbs, bound);
    printf("%-17s %5s %9s %8s %7s %12s %10s %8s\n", "config", "B/par", "ns/param", "GB/s",
           "/bound", "host ns/par", "torch ns", "speedup");

    int status = 0;
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        const config *c = &configs[k];
        timing t;
        if (time_config(&t, c, &reg, x, g, n, reps, &err)) {
            fprintf(stderr, "scaling bench: %s: %s\n", c->label, err.message);
            status = 1;
            continue;
        }
        const double gbs = c->bytes * (double)n / t.ops / 1e9;
        const double torch = torch_seconds(c->label);
        char host[32] = "-", tns[32] = "-", speed[32] = "-";
        if (!c->refresh_only)
            snprintf(host, sizeof host, "%.3f", t.host / n * 1e9);
        if (torch > 0) {
            snprintf(tns, sizeof tns, "%.3f", torch / n * 1e9);
            snprintf(speed, sizeof speed, "%.2fx", torch / t.ops);
        }
        printf("%-17s %5d %9.3f %8.2f %7.2f %12s %10s %8s\n", c->label, c->bytes,
               t.ops / n * 1e9, gbs, gbs / bound, host, tns, speed);
    }
    printf("\nB/par: the traffic model (bytes read + written per parameter, no write-allocate);\n"
           "/bound: GB/s over the copy bound (target >= 0.85); host: lsgd_scaling_step with its\n"
           "gradient NaN/Inf check; speedup: torch.optim step time / lsgd ops->step time (target >= 2.5).\n");
    lsgd_registry_free(&reg);
    lsgd_floats_free(x);
    lsgd_floats_free(g);
    return status;
}
