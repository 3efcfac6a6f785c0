/*
 * params.h — plugin parameters checked against the manifest's `params`
 * (a JSON Schema subset: type, default, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, enum, description) before the plugin
 * sees them: defaults filled, unknown keys rejected with the known ones
 * listed, types and ranges enforced.  Messages carry the config path:
 * "scaling.params.beta2: 1.5 is above the maximum 1 (exclusive)".
 */
#ifndef LSGD_PARAMS_H
#define LSGD_PARAMS_H

#include <jansson.h>

#include "host/registry.h"

/* given may be NULL (all defaults).  *validated is a new object. */
int lsgd_params_validate(json_t **validated, const lsgd_manifest *manifest,
                         const json_t *given, const char *config_key, lsgd_error *err);

/* Every non-empty string parameter the manifest marks "format": "file"
 * (e.g. zmq's CURVE key files) names a regular file this process can read
 * (relative to the working directory); else an error naming
 * "<config_key>.<param>".  validated: from lsgd_params_validate. */
int lsgd_params_check_files(const lsgd_manifest *manifest, const json_t *validated,
                            const char *config_key, lsgd_error *err);

/* A view of a validated object for plugins; valid while validated lives. */
void lsgd_params_view(lsgd_params *view, const json_t *validated);

#endif
