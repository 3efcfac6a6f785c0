/*
 * data.h — the data harnesses' one call: a `data` object as a config
 * holds it, loaded the way a worker loads it (lsgd_data_load: the reader,
 * labels, the test split, normalize), with the error contract checked.
 *
 * The first input byte picks the options a config would: bits 0-1
 * data.normalize (none, unit, standardize), bit 2 a test split of 0.25,
 * bit 3 CSV's header, bits 4-5 CSV's label_column; bits 6-7 are the
 * harness's own (IDX: gzip the images, the labels).
 */
#ifndef LSGD_FUZZ_DATA_H
#define LSGD_FUZZ_DATA_H

#include <jansson.h>
#include <stdint.h>

/* train is {"format": …, paths…}; options is the first input byte. */
void fuzz_load_data(json_t *train, uint8_t options);

/* The input of a one-file format: the options byte, then the file, written
 * as `file` and loaded as data.train {"format": format, "path": …}. */
void fuzz_load_file(const char *format, const char *file, const uint8_t *data, size_t size);

#endif
