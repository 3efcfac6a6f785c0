/*
 * plugin_call.h — the one way the host reads what a plugin op returned.
 *
 * Every op of every plugin kind that returns an int (scaling: create,
 * init, statistic, refresh, step; transport: open, allreduce_mean,
 * broadcast, barrier, allgather, iallreduce_mean, test, wait; compressor:
 * create, encode, decode) is called through
 * LSGD_PLUGIN_CALL, so that:
 *   - any non-zero return is a failure, whatever err says;
 *   - the failure's code is LSGD_ERR_INPUT or LSGD_ERR_RUNTIME (a code the
 *     host does not know is a runtime failure), in err->code too, so that
 *     callers may `return err->code`;
 *   - the message names the plugin and the op: the plugin's own message
 *     with that context in front (unless it already starts with the
 *     plugin's name), or, when the plugin set none, "<who>: <op> failed
 *     with code N and no message".
 */
#ifndef LSGD_PLUGIN_CALL_H
#define LSGD_PLUGIN_CALL_H

#include "lsgd/errors.h"

/* rc as returned by a plugin op into err (cleared before the call).
 * who says which plugin ("scaling plugin 'adam'", "transport plugin 'shm'
 * rank 1"), name is its bare name (a message starting with it already
 * says whose it is), op which op ("step 12", "allreduce_mean").  Returns
 * LSGD_OK, LSGD_ERR_INPUT or LSGD_ERR_RUNTIME. */
int lsgd_plugin_outcome(int rc, lsgd_error *err, const char *who, const char *name,
                        const char *op);

/* Clear err, make the call, read its outcome: one expression. */
#define LSGD_PLUGIN_CALL(err, who, name, op, call) \
    (lsgd_error_clear(err), lsgd_plugin_outcome((call), (err), (who), (name), (op)))

#endif
