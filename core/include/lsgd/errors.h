/*
 * lsgd/errors.h — how every lsgd call reports failure.
 *
 * A call that can fail returns an int status and fills a caller-owned
 * lsgd_error with one line of text: what went wrong, where (file, line,
 * config key, rank, plugin) and what was expected.  The status decides the
 * exit code of the command line: LSGD_ERR_INPUT exits 2 (bad config,
 * manifest, data or parameter), LSGD_ERR_RUNTIME exits 1 (peer lost,
 * timeout, divergence).  Nothing in the library calls exit().
 *
 * A plugin op's return value alone says whether it failed: 0 success,
 * anything else failure (lsgd/plugin.h); err is for the words.
 *
 * Header-only so that plugins need no library to link against.
 */
#ifndef LSGD_ERRORS_H
#define LSGD_ERRORS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lsgd_status {
    LSGD_OK = 0,
    LSGD_ERR_RUNTIME = 1, /* peer lost, timeout, divergence, out of memory */
    LSGD_ERR_INPUT = 2    /* bad config, manifest, data, plugin or parameter */
};

#define LSGD_ERROR_MAX 1024

typedef struct lsgd_error {
    int code;                      /* an lsgd_status */
    char message[LSGD_ERROR_MAX];  /* one line, no trailing newline */
} lsgd_error;

/* Fill err (when not NULL) and return code, so that callers can write
 * `return lsgd_error_set(err, LSGD_ERR_INPUT, "...", ...);`. */
static inline int lsgd_error_set(lsgd_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int lsgd_error_set(lsgd_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Prepend context ("scaling plugin 'adam' (/path/adam.so): ") to a message
 * already in err; returns err->code. */
static inline int lsgd_error_prefix(lsgd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline int lsgd_error_prefix(lsgd_error *err, const char *fmt, ...)
{
    if (!err)
        return LSGD_ERR_RUNTIME;
    char prefix[LSGD_ERROR_MAX], joined[LSGD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Using the result keeps -Wformat-truncation quiet: a message longer
     * than LSGD_ERROR_MAX is cut, which is acceptable. */
    if (snprintf(joined, sizeof joined, "%s%s", prefix, err->message) < 0)
        joined[0] = '\0';
    memcpy(err->message, joined, sizeof joined);
    return err->code;
}

static inline void lsgd_error_clear(lsgd_error *err)
{
    if (err) {
        err->code = LSGD_OK;
        err->message[0] = '\0';
    }
}

#ifdef __cplusplus
}
#endif
#endif
