/*
 * host_fakes.h — helpers for the host's tests: build a FAKE plugin from
 * tests/data/fake-plugins into a directory with its manifest, and write a
 * short run's config naming them.
 */
#ifndef LSGD_TEST_HOST_FAKES_H
#define LSGD_TEST_HOST_FAKES_H

/* Compile tests/data/fake-plugins/<source> into dir/<so_name> with extra
 * compiler flags (e.g. "-DFAKE_ABI_MAJOR=2"); returns 0 on success. */
int fake_build(const char *dir, const char *source, const char *so_name, const char *cflags);

/* Write dir/<file> as a scaling manifest for `name` naming `library`, with
 * `requires` (a JSON array text, NULL for []) and `params` (a JSON object
 * text, NULL for {}); returns its path (static ring buffer). */
const char *fake_manifest(const char *dir, const char *file, const char *name,
                          const char *version, const char *library, const char *requires,
                          const char *params);

/* The same for a transport plugin (no requires, no params). */
const char *fake_transport_manifest(const char *dir, const char *file, const char *name,
                                    const char *library);

/* Write dir/<file>: a short run of `workers` workers on the quadratic
 * model with plugin_path dir, the given scaling and transport plugins
 * (NULL: the defaults) and output in dir/out; returns its path. */
const char *fake_run_config(const char *dir, const char *file, int workers, const char *scaling,
                            const char *transport);

/* The lsgd binary under test (absolute). */
const char *lsgd_bin(void);

#endif
