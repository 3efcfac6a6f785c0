/*
 * plugin_call.c — what a plugin op's return code means (plugin_call.h):
 * non-zero is failure, and a failure always leaves a code the command line
 * maps to an exit status and a message that names the plugin and the op.
 */
#include "host/plugin_call.h"

#include <ctype.h>
#include <string.h>

/* The message begins with the plugin's name as a word ("shm rank 1: …"). */
static int names_itself(const char *message, const char *name)
{
    size_t n = strlen(name);
    return n > 0 && strncmp(message, name, n) == 0 &&
           !(isalnum((unsigned char)message[n]) || message[n] == '_' || message[n] == '-');
}

int lsgd_plugin_outcome(int rc, lsgd_error *err, const char *who, const char *name,
                        const char *op)
{
    if (rc == LSGD_OK)
        return LSGD_OK;
    int code = rc == LSGD_ERR_INPUT || rc == LSGD_ERR_RUNTIME ? rc : LSGD_ERR_RUNTIME;
    if (!err)
        return code;
    if (code != rc && err->message[0] && err->code == LSGD_ERR_INPUT)
        code = LSGD_ERR_INPUT; /* an unusual return, but the plugin said bad input */
    if (!err->message[0])
        lsgd_error_set(err, code, "%s: %s failed with code %d and no message", who, op, rc);
    else if (!names_itself(err->message, name))
        lsgd_error_prefix(err, "%s %s: ", who, op);
    err->code = code;
    return code;
}
