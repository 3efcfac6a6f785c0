/*
 * max_margin.h — the reference direction of Local-GD's implicit bias
 * (docs/algorithms.md §3.3): the hard-margin linear SVM without bias,
 *     ŵ = argmin ½‖w‖²  subject to  y_i ⟨w, x_i⟩ ≥ 1,
 * solved in the dual by coordinate ascent (the L1-loss dual of liblinear
 * with C = ∞).  Labels: class index 1 is +1, class 0 is −1.
 */
#ifndef LSGD_MAX_MARGIN_H
#define LSGD_MAX_MARGIN_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "lsgd/errors.h"

typedef struct lsgd_max_margin_info {
    size_t epochs;      /* passes over the rows */
    double violation;   /* largest KKT violation at exit */
    double margin;      /* min_i y_i⟨ŵ,x_i⟩ / ‖ŵ‖ */
} lsgd_max_margin_info;

/* w[set->d] = ŵ for the given rows (all rows when rows == NULL).  Fails
 * with LSGD_ERR_INPUT when the set is not binary or not separable through
 * the origin (the dual grows without bound). */
int lsgd_max_margin(float *w, const lsgd_dataset *set, const uint32_t *rows, size_t n,
                    uint64_t seed, lsgd_max_margin_info *info, lsgd_error *err);

/* cos(a, b) over n coordinates (0 when either is zero). */
double lsgd_cosine(const float *a, const float *b, size_t n);

#endif
