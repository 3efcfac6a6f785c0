/*
 * compare_stats.c — the statistics `lsgd compare` reports over seeds: the
 * mean with its standard error, and seed-paired differences (the same
 * seed gives both methods the same data order and start, so the
 * difference per seed varies less than either method alone).
 */
#include <math.h>

#include "cli/compare.h"

void compare_mean_se(const double *x, size_t n, double *mean, double *se, size_t *count)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            sum += x[i];
            k++;
        }
    *count = k;
    *mean = k ? sum / (double)k : NAN;
    *se = NAN;
    if (k < 2)
        return;
    double squares = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            squares += (x[i] - *mean) * (x[i] - *mean);
    *se = sqrt(squares / (double)(k - 1)) / sqrt((double)k);
}

void compare_paired(const double *a, const long *seeds_a, size_t na, const double *b,
                    const long *seeds_b, size_t nb, double *mean, double *se, size_t *count)
{
    double diff[1024];
    size_t n = 0;
    for (size_t j = 0; j < nb && n < 1024; j++)
        for (size_t i = 0; i < na; i++)
            if (seeds_a[i] == seeds_b[j] && isfinite(a[i]) && isfinite(b[j])) {
                diff[n++] = b[j] - a[i];
                break;
            }
    compare_mean_se(diff, n, mean, se, count);
}
