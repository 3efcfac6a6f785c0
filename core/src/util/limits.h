/*
 * limits.h — the largest sizes lsgd accepts from outside (a config key or a
 * data file), in one place.  A size beyond its limit is bad input, refused
 * before anything is allocated, with the key or file:line and the limit;
 * README "Bad input" lists the same numbers.  Products of sizes (samples ×
 * features of a dense set) go through lsgd_product_within, never a bare `*`.
 */
#ifndef LSGD_LIMITS_H
#define LSGD_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Features of a data set, model.dim, a hidden layer's width: 2^26, so one
 * dense model vector stays within 256 MiB. */
#define LSGD_MAX_FEATURES (1ull << 26)
/* Samples of a data set, algorithm.batch_size: row indices are uint32. */
#define LSGD_MAX_SAMPLES (1ull << 31)
/* samples × features of a dense set: 2^32 floats, 16 GiB. */
#define LSGD_MAX_DENSE_VALUES (1ull << 32)
/* algorithm.steps and every count of steps or rounds (period, rounds,
 * eval_every, checkpoint_every, max_inner, lr_schedule.every, warmup). */
#define LSGD_MAX_STEPS 1000000000ull
/* workers (processes of one run). */
#define LSGD_MAX_WORKERS 1024ull
/* Rows of a metrics.csv read back (`lsgd plot`): at most 64 columns of
 * doubles each, so at most 4 GiB. */
#define LSGD_MAX_METRICS_ROWS (1ull << 23)
/* Parameters of a model (floats of its flat vector; the optimizer holds a
 * few more of the same size): 2^28, 1 GiB a vector. */
#define LSGD_MAX_PARAMETERS (1ull << 28)
/* Floats of an MLP's activations for one chunk of 512 rows (every layer's
 * A, H, R{A}, R{H} and the backward buffers): 2^28, 1 GiB. */
#define LSGD_MAX_MLP_ACTIVATIONS (1ull << 28)
/* Bytes of a config file or a plugin manifest. */
#define LSGD_MAX_CONFIG_BYTES (16ull << 20)

/* *out = a × b when the product neither wraps nor exceeds limit; else 0
 * is returned and *out is left as it was. */
static inline int lsgd_product_within(size_t *out, size_t a, size_t b, uint64_t limit)
{
    size_t product;
    if (__builtin_mul_overflow(a, b, &product) || product > limit)
        return 0;
    *out = product;
    return 1;
}

#endif
