/*
 * report_files.h — what `lsgd sweep` and `lsgd compare` write their tables
 * with: CSV fields (quoted only when they must be, numbers in their
 * shortest exact text, empty when not finite) and a pair of files written
 * together, each atomically (io/atomic_file.h), so that a reader never
 * sees half a table nor one file newer than the other's last write.
 */
#ifndef LSGD_CLI_REPORT_FILES_H
#define LSGD_CLI_REPORT_FILES_H

#include <jansson.h>
#include <stdio.h>

#include "lsgd/errors.h"

/* text as a CSV field, after a comma unless first. */
void csv_field(FILE *f, const char *text, int first);
/* ",x" with x's shortest text ("0.001"), or "," when x is not finite. */
void csv_number(FILE *f, double x);

/* For each key of the array keys, its value in the object values as a
 * field (as a run name shows it: "0.01", "adam"), empty when absent. */
void csv_values(FILE *f, const json_t *keys, const json_t *values);

/* Make dir, then write dir/name_a and dir/name_b by write(a, b, ctx)
 * (which returns 0, else the files are not replaced), each atomically. */
int report_write_pair(const char *dir, const char *name_a, const char *name_b,
                      int (*write)(FILE *a, FILE *b, const void *ctx), const void *ctx,
                      lsgd_error *err);

#endif
