/*
 * outer.h — the outer optimizer (docs/algorithms.md §5.2): a scaling plugin
 * stepping on the pseudo-gradient Δ = x_prev − x̄ at each communication
 * (DiLoCo with sgd and Nesterov momentum, heavy ball, FedAdam with adam).
 *
 * Not an algorithm of its own: a hook at the end of lsgd_run_communicate_
 * models, so it composes with every method whose round ends in a blocking
 * average of the models (local_sgd, local_gd, fedprox, …); a method that
 * ends its rounds otherwise refuses `outer` in its check.
 */
#ifndef LSGD_OUTER_H
#define LSGD_OUTER_H

#include "engine/algorithm.h"
#include "engine/run.h"

/* x_prev ← x₀ (run->x); nothing without an outer optimizer. */
int lsgd_outer_open(lsgd_run *run, lsgd_error *err);
/* x ← x_prev − lr·step(Δ), and x_prev ← x. */
int lsgd_outer_step(lsgd_run *run, lsgd_error *err);
/* Its checkpoint records (x_prev; the plugin's state is saved with the
 * scaling states); returns how many were written to out. */
size_t lsgd_outer_records(const lsgd_run *run, lsgd_record *out);
void lsgd_outer_close(lsgd_run *run);
/* "outer: <algorithm> <why>" when cfg has an outer optimizer, else LSGD_OK:
 * for the check of a method that cannot take one. */
int lsgd_outer_refuse(const json_t *cfg, const char *algorithm, const char *why,
                      lsgd_error *err);

#endif
