/*
 * fuzz.h — what every libFuzzer harness of tests/fuzz/ shares: the fuzz
 * input as a real file for readers that take a path, and the error
 * contract checked on every call: a failure is LSGD_ERR_INPUT or
 * LSGD_ERR_RUNTIME with a non-empty message (the command line prints it
 * as one line, control characters made visible).
 *
 * A harness breaking the contract aborts, so libFuzzer keeps the input as
 * a crash like any sanitizer report.
 */
#ifndef LSGD_FUZZ_H
#define LSGD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "lsgd/errors.h"

/* Write bytes[n] to the file `name` in this process's scratch directory
 * (created once, removed at exit); returns its path, valid until the next
 * call with the same name. */
const char *fuzz_file(const char *name, const void *bytes, size_t n);

/* The scratch directory itself, for inputs naming files beside others. */
const char *fuzz_dir(void);

/* Abort unless rc and err keep the error contract. */
void fuzz_check(int rc, const lsgd_error *err, const char *call);

/* The part of data[size] before the first occurrence of sep (all of it
 * when absent) and where the rest starts: *rest, *rest_size (0 when absent). */
size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **rest,
                  size_t *rest_size);

#endif
