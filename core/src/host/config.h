/*
 * config.h — the run configuration: parse (jansson, errors with line and
 * column), apply `--set a.b.c=value` overrides (value parsed as JSON, else a
 * string), check against schemas/config.schema.json semantics with JSON-path
 * messages, fill every default, and resolve the plugins it names (their
 * params validated against their manifests).  After lsgd_config_load the
 * engine reads any key without checking it again.
 */
#ifndef LSGD_CONFIG_H
#define LSGD_CONFIG_H

#include <jansson.h>
#include <stdint.h>
#include <stddef.h>

#include "lsgd/errors.h"

int lsgd_config_load(json_t **out, const char *path, const char *const *sets, size_t n_sets,
                     lsgd_error *err);

/* The same, and what the overrides did beyond setting their keys into
 * notes[notes_cap] ("" when nothing; lines joined by '\n'): a --set that
 * switches a section's plugin drops the file's params of that section,
 * which were the previous plugin's (params given by --set are kept).  A
 * failure caused by a --set names it ("--set KEY=VALUE: …") instead of
 * the file. */
int lsgd_config_load_noting(json_t **out, const char *path, const char *const *sets,
                            size_t n_sets, char *notes, size_t notes_cap, lsgd_error *err);

/* Apply one "a.b.c=value" to cfg. */
int lsgd_config_set(json_t *cfg, const char *assignment, lsgd_error *err);

/* A JSON document from a regular file of at most LSGD_MAX_CONFIG_BYTES
 * (util/limits.h), duplicate keys refused; NULL and an LSGD_ERR_INPUT
 * naming path, line and column otherwise.  what: "config", "plugin
 * manifest". */
json_t *lsgd_json_file_load(const char *path, const char *what, lsgd_error *err);

/* Every config key that sizes something (workers, steps, rounds, model.dim,
 * hidden widths, …) within its limit in util/limits.h (config_limits.c);
 * lsgd_config_load runs it after the schema. */
int lsgd_config_check_limits(const json_t *cfg, lsgd_error *err);

/* Look up "a.b.c"; NULL when absent. */
json_t *lsgd_config_get(const json_t *cfg, const char *dotted);
double lsgd_config_number(const json_t *cfg, const char *dotted, double fallback);
const char *lsgd_config_string(const json_t *cfg, const char *dotted, const char *fallback);
int lsgd_config_bool(const json_t *cfg, const char *dotted, int fallback);

/* A setting: the config's value at "a.b.c", or else the default that
 * schemas/config.schema.json gives that key — the one place defaults are
 * written.  For keys the schema has a default for; otherwise 0, "" or
 * NULL (lsgd_setting_value). */
const json_t *lsgd_setting_value(const json_t *cfg, const char *dotted);
double lsgd_setting_number(const json_t *cfg, const char *dotted);
/* An integer setting (counts, seeds) read without a trip through double,
 * which would round seeds above 2^53; 0 when negative or absent. */
uint64_t lsgd_setting_count(const json_t *cfg, const char *dotted);
const char *lsgd_setting_string(const json_t *cfg, const char *dotted);
int lsgd_setting_bool(const json_t *cfg, const char *dotted);

/* A run id every process of this config agrees on without talking:
 * "cfg-" and 16 hex digits of a hash of the canonical config (keys
 * sorted, compact) and of `salt` (e.g. the MPI/Slurm job id; may be NULL). */
void lsgd_config_run_id(char *out, size_t cap, const json_t *cfg, const char *salt);

/* The directory the config's output goes to when output.dir is not given:
 * "runs/<config file name without .json>". */
void lsgd_config_default_output_dir(char *out, size_t cap, const char *config_path);

#endif
