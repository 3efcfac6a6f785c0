/*
 * fuzz.c — the scratch files and the error-contract check (fuzz.h).
 */
#include "fuzz.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[64];
static char paths[8][PATH_MAX];
static char names[8][64];

static void remove_scratch(void)
{
    for (int i = 0; i < 8 && names[i][0]; i++)
        unlink(paths[i]);
    rmdir(scratch);
}

const char *fuzz_dir(void)
{
    if (!scratch[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/lsgd-fuzz-XXXXXX");
        if (!mkdtemp(scratch)) {
            perror("lsgd fuzz: mkdtemp");
            abort();
        }
        atexit(remove_scratch);
    }
    return scratch;
}

static const char *path_of(const char *name)
{
    int i = 0;
    while (i < 8 && names[i][0] && strcmp(names[i], name) != 0)
        i++;
    if (i == 8 || strlen(name) >= sizeof names[i])
        abort(); /* a harness names at most 8 short files */
    if (!names[i][0]) {
        snprintf(names[i], sizeof names[i], "%s", name);
        snprintf(paths[i], sizeof paths[i], "%s/%s", fuzz_dir(), name);
    }
    return paths[i];
}

const char *fuzz_file(const char *name, const void *bytes, size_t n)
{
    const char *path = path_of(name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(bytes, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

void fuzz_check(int rc, const lsgd_error *err, const char *call)
{
    if (rc == LSGD_OK)
        return;
    const char *why = NULL;
    if (rc != LSGD_ERR_INPUT && rc != LSGD_ERR_RUNTIME)
        why = "a status that is neither LSGD_ERR_INPUT nor LSGD_ERR_RUNTIME";
    else if (!err->message[0])
        why = "an empty message";
    if (why) {
        fprintf(stderr, "lsgd fuzz: %s failed (status %d) with %s: \"%s\"\n", call, rc, why,
                err->message);
        abort();
    }
}

size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **rest,
                  size_t *rest_size)
{
    size_t k = strlen(sep);
    const uint8_t *hit = k ? memmem(data, size, sep, k) : NULL;
    if (!hit) {
        *rest = NULL;
        *rest_size = 0;
        return size;
    }
    *rest = hit + k;
    *rest_size = size - (size_t)(hit - data) - k;
    return (size_t)(hit - data);
}
