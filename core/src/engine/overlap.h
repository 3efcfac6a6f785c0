/*
 * overlap.h — the anchor arithmetic of Overlap-Local-SGD (docs/algorithms.md §4),
 * separate from the communication so it can be checked on its own.
 *
 * At each communication time, once the previous non-blocking average has
 * arrived as the new anchor z:
 *     x ← (1 − α) x + α z                      pull back toward the anchor
 *     β > 0:  v ← β v + (z − x)/γ ;  post z − γ v     (anchor momentum)
 *     β = 0:  post x
 * and the mean of the posts over workers becomes the next anchor, so with
 * β = 0:  z_{k+1} = α z_k + (1 − α) x̄_k  (x̄_k before the pull-back).
 */
#ifndef LSGD_OVERLAP_H
#define LSGD_OVERLAP_H

#include <stddef.h>

/* x[n] pulled toward z[n]; post[n] = what this worker contributes to the
 * next anchor; v[n] is the anchor momentum (untouched when beta == 0). */
void lsgd_overlap_pull(float *x, float *v, float *post, const float *z, float alpha,
                       float beta, float lr, size_t n);

#endif
