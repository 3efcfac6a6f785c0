/*
 * host_fakes.c — building FAKE plugins for the host's test suites
 * (host_*, config*, cli*).
 */
#include "host_fakes.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

const char *lsgd_bin(void)
{
    return test_build_path("bin/lsgd");
}

int fake_build(const char *dir, const char *source, const char *so_name, const char *cflags)
{
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "cc -std=gnu11 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter "
             "-I'%s' %s -o '%s/%s' '%s/%s'",
             test_root_path("core/include"), cflags ? cflags : "", dir, so_name,
             test_root_path("tests/data/fake-plugins"), source);
    test_output o = test_run(cmd, 60);
    if (o.status != 0)
        fprintf(stderr, "\nfake_build failed (%d): %s\n%s", o.status, cmd, o.err);
    int status = o.status;
    test_output_free(&o);
    return status;
}

static const char *write_manifest(const char *dir, const char *file, const char *kind,
                                  const char *name, const char *version, const char *library,
                                  const char *requires, const char *params)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\n"
             "  \"name\": \"%s\",\n"
             "  \"kind\": \"%s\",\n"
             "  \"version\": \"%s\",\n"
             "  \"abi\": {\"major\": 1, \"minor\": 0},\n"
             "  \"library\": \"%s\",\n"
             "  \"description\": \"FAKE plugin for the host tests\",\n"
             "  \"requires\": %s,\n"
             "  \"params\": %s\n"
             "}\n",
             name, kind, version, library, requires ? requires : "[]", params ? params : "{}");
    return test_write_file(dir, file, text);
}

const char *fake_manifest(const char *dir, const char *file, const char *name,
                          const char *version, const char *library, const char *requires,
                          const char *params)
{
    return write_manifest(dir, file, "scaling", name, version, library, requires, params);
}

const char *fake_transport_manifest(const char *dir, const char *file, const char *name,
                                    const char *library)
{
    return write_manifest(dir, file, "transport", name, "1.0.0", library, NULL, NULL);
}

const char *fake_run_config(const char *dir, const char *file, int workers, const char *scaling,
                            const char *transport)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\n"
             "  \"plugin_path\": [\"%s\"],\n"
             "  \"workers\": %d,\n"
             "  \"model\": {\"type\": \"quadratic\"},\n"
             "  \"algorithm\": {\"steps\": 16},\n"
             "  \"scaling\": {\"plugin\": \"%s\"},\n"
             "  \"transport\": {\"plugin\": \"%s\"},\n"
             "  \"output\": {\"dir\": \"%s/out\"}\n"
             "}\n",
             dir, workers, scaling ? scaling : "sgd", transport ? transport : "shm", dir);
    return test_write_file(dir, file, text);
}
