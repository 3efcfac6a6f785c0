/*
 * schema.h — the JSON Schema 2020-12 subset that lsgd's schemas use, applied
 * by the host so that a config or manifest the host accepts is exactly one
 * that schemas/config.schema.json or manifest.schema.json accepts (the suite checks the shipped files
 * with python3-jsonschema too).
 *
 * Keywords: type, enum, const, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, minLength, pattern (POSIX ERE), items, minItems,
 * maxItems, uniqueItems, properties, required, additionalProperties,
 * $ref ("#/…" JSON pointers into the same document), allOf, anyOf, oneOf,
 * if/then/else, and two that only the host acts on: `default` (filled into
 * the value when the key is absent, so later code reads every key without
 * checking it) and `errorMessage` (replaces the message when the node
 * fails).  Annotations (title, description, $id, $schema) are ignored.
 *
 * Messages carry the JSON path of the offending value:
 *   "scaling.params.beta2: 1.5 is above the maximum 1 (exclusive)"
 *   "unknown key 'foo' at algorithm; known: type, steps, …"
 */
#ifndef LSGD_SCHEMA_H
#define LSGD_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "lsgd/errors.h"

/* The embedded text of schemas/<which>.schema.json ("config", "manifest"). */
const char *lsgd_schema_text(const char *which);

/* The parsed schema, parsed once and kept for the life of the process. */
const json_t *lsgd_schema_get(const char *which, lsgd_error *err);

/* Check value against schema, a node of the document root (for $ref), and
 * fill defaults into value.  A real with an integral value inside value
 * that the schema takes as an "integer" is replaced by that integer, so
 * readers see 20 for 20.0 (a real beyond int64 is no integer).  path is value's JSON path ("" at the top).
 * Returns LSGD_OK or LSGD_ERR_INPUT with the message in err. */
int lsgd_schema_check(const json_t *root, const json_t *schema, json_t *value,
                      const char *path, lsgd_error *err);

/* The same for object[key], which becomes an integer when the schema took
 * an integral real (20.0, 1e6) as an "integer" — as every integer inside
 * value does with lsgd_schema_check. */
int lsgd_schema_check_member(const json_t *root, const json_t *schema, json_t *object,
                             const char *key, const char *path, lsgd_error *err);

/* Resolve a "#/$defs/x" reference within root; NULL when it does not exist. */
const json_t *lsgd_schema_resolve(const json_t *root, const char *ref);

/* For messages: `"ten"` (quoted, shortened), `3.5`, `true`, `null`,
 * `an object`, `an array`. */
void lsgd_json_describe(char *out, size_t cap, const json_t *value);

/* The shortest text that reads back as x ("0.001", "1e-08", "1"). */
void lsgd_number_format(char *out, size_t cap, double x);

/* "the top level" for "", else path itself. */
const char *lsgd_path_where(const char *path);

#endif
