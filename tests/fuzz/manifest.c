/*
 * manifest.c — fuzzes a plugin manifest as discovery reads it
 * (lsgd_manifest_read: JSON, schemas/manifest.schema.json, each param's
 * default against its own schema), then a config's params checked against
 * it (lsgd_params_validate, as config.c and the plugin hosts do) and the
 * view a plugin gets (lsgd_params_view).
 *
 * Input: the manifest's bytes, then optionally a NUL and the params JSON
 * ({"beta1": 0.8}); without it the params are absent (all defaults).
 */
#include <string.h>

#include "fuzz.h"
#include "host/params.h"
#include "host/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    const char *path = fuzz_file("plugin.json", data, n);
    lsgd_manifest m;
    lsgd_error err;
    lsgd_error_clear(&err);
    int rc = lsgd_manifest_read(&m, path, &err);
    fuzz_check(rc, &err, "lsgd_manifest_read");
    if (rc != LSGD_OK)
        return 0;

    json_t *given = NULL;
    if (n < size)
        given = json_loadb((const char *)data + n + 1, size - n - 1,
                           JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    json_t *validated = NULL;
    rc = lsgd_params_validate(&validated, &m, given, "scaling.params", &err);
    fuzz_check(rc, &err, "lsgd_params_validate");
    if (rc == LSGD_OK) {
        lsgd_params view;
        lsgd_params_view(&view, validated);
    }
    json_decref(validated);
    json_decref(given);
    lsgd_manifest_free(&m);
    return 0;
}
