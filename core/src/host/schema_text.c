/*
 * schema_text.c — schemas/config.schema.json, manifest.schema.json and
 * sweep.schema.json (`lsgd sweep` files),
 * embedded into liblsgd at build time (.incbin, NUL-terminated), so the
 * host validates configs and manifests against the very files that are
 * shipped and that the test suite checks with python3-jsonschema.  The
 * Makefile makes this object depend on both files.  Paths are relative to
 * the source root, where make runs the compiler.
 */
#include "host/schema.h"

#include <string.h>

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl lsgd_schema_config_text\n"
        ".hidden lsgd_schema_config_text\n"
        ".type lsgd_schema_config_text, @object\n"
        "lsgd_schema_config_text:\n"
        ".incbin \"schemas/config.schema.json\"\n"
        ".byte 0\n"
        ".size lsgd_schema_config_text, . - lsgd_schema_config_text\n"
        ".balign 16\n"
        ".globl lsgd_schema_manifest_text\n"
        ".hidden lsgd_schema_manifest_text\n"
        ".type lsgd_schema_manifest_text, @object\n"
        "lsgd_schema_manifest_text:\n"
        ".incbin \"schemas/manifest.schema.json\"\n"
        ".byte 0\n"
        ".size lsgd_schema_manifest_text, . - lsgd_schema_manifest_text\n"
        ".balign 16\n"
        ".globl lsgd_schema_sweep_text\n"
        ".hidden lsgd_schema_sweep_text\n"
        ".type lsgd_schema_sweep_text, @object\n"
        "lsgd_schema_sweep_text:\n"
        ".incbin \"schemas/sweep.schema.json\"\n"
        ".byte 0\n"
        ".size lsgd_schema_sweep_text, . - lsgd_schema_sweep_text\n"
        ".previous\n");

extern const char lsgd_schema_config_text[] __attribute__((visibility("hidden")));
extern const char lsgd_schema_manifest_text[] __attribute__((visibility("hidden")));
extern const char lsgd_schema_sweep_text[] __attribute__((visibility("hidden")));

const char *lsgd_schema_text(const char *which)
{
    if (strcmp(which, "config") == 0)
        return lsgd_schema_config_text;
    if (strcmp(which, "manifest") == 0)
        return lsgd_schema_manifest_text;
    if (strcmp(which, "sweep") == 0)
        return lsgd_schema_sweep_text;
    return NULL;
}
