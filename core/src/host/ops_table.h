/*
 * ops_table.h — what the ops table of each plugin kind must hold, checked
 * in one place for the loader (before a run, `lsgd plugins check`) and the
 * hosts (a descriptor attached without the loader: tests, benchmarks).
 *
 * A table is valid when its struct_size reaches the end of every op its
 * kind requires (lsgd/scaling.h: create, destroy, state_names, step;
 * lsgd/transport.h: open, close, allreduce_mean, broadcast, barrier;
 * lsgd/model.h: create, destroy, describe, init, loss_grad, evaluate;
 * lsgd/compressor.h: create, destroy, max_encoded_bytes, encode, decode), those
 * ops are set, and the kind's own rules hold (a statistic_kind other than
 * NONE has statistic and refresh; iallreduce_mean, test and wait come all
 * three or none).  Every optional op is then used only through
 * LSGD_HAS_OP (lsgd/plugin.h): one that struct_size does not reach is
 * absent, whatever its pointer says.
 */
#ifndef LSGD_OPS_TABLE_H
#define LSGD_OPS_TABLE_H

#include <stddef.h>

#include "lsgd/plugin.h"

/* The least struct_size an ops table of kind may have: the end of its last
 * required op (0 for an unknown kind). */
size_t lsgd_ops_min_size(int kind);

/* Check plugin->ops (not NULL) for plugin->kind: report gets each problem
 * as one line without context ("transport ops struct_size 24 stops before
 * barrier, …"); a table too short for its required ops is one problem and
 * nothing further is read.  Returns the number of problems. */
typedef void (*lsgd_ops_problem_fn)(void *ctx, const char *problem);
size_t lsgd_ops_check(const lsgd_plugin *plugin, lsgd_ops_problem_fn report, void *ctx);

/* The same, the first problem into err as LSGD_ERR_INPUT. */
int lsgd_ops_valid(const lsgd_plugin *plugin, lsgd_error *err);

#endif
