/*
 * checkpoint.c — named records, checksum, atomic replace (checkpoint.h).
 */
#include "io/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/input_file.h"

static const char MAGIC[8] = {'L', 'S', 'G', 'D', 'C', 'K', 'P', 'T'};

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void put_raw(lsgd_ckpt_writer *w, const void *data, size_t n)
{
    if (n)
        fwrite(data, 1, n, w->file.f);
    w->hash = fnv1a(w->hash, data, n);
}

int lsgd_ckpt_begin(lsgd_ckpt_writer *w, const char *path, lsgd_error *err)
{
    w->hash = 0xcbf29ce484222325ull;
    if (lsgd_atomic_open(&w->file, path, err))
        return err->code;
    uint32_t version = LSGD_CHECKPOINT_VERSION;
    put_raw(w, MAGIC, sizeof MAGIC);
    put_raw(w, &version, sizeof version);
    return LSGD_OK;
}

void lsgd_ckpt_put(lsgd_ckpt_writer *w, const char *name, const void *data, size_t bytes)
{
    uint32_t len = (uint32_t)strlen(name);
    uint64_t n = bytes;
    put_raw(w, &len, sizeof len);
    put_raw(w, name, len);
    put_raw(w, &n, sizeof n);
    put_raw(w, data, bytes);
}

int lsgd_ckpt_commit(lsgd_ckpt_writer *w, lsgd_error *err)
{
    uint32_t end = 0;
    put_raw(w, &end, sizeof end);
    uint64_t hash = w->hash;
    fwrite(&hash, sizeof hash, 1, w->file.f);
    return lsgd_atomic_commit(&w->file, err);
}

void lsgd_ckpt_abort(lsgd_ckpt_writer *w)
{
    lsgd_atomic_abort(&w->file);
}

int lsgd_ckpt_load(lsgd_ckpt *c, const char *path, lsgd_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    FILE *f;
    int rc = lsgd_input_open(&f, path, "checkpoint", NULL, NULL, err);
    if (rc != LSGD_OK)
        return rc;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    c->bytes = malloc(size > 0 ? (size_t)size : 1);
    c->size = size > 0 ? (size_t)size : 0;
    int ok = c->bytes && fread(c->bytes, 1, c->size, f) == c->size;
    fclose(f);
    uint32_t version = 0;
    if (ok && c->size >= 8 + 4 + 4 + 8)
        memcpy(&version, c->bytes + 8, 4);
    if (!ok || c->size < 24 || memcmp(c->bytes, MAGIC, 8) != 0) {
        lsgd_ckpt_free(c);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: not an lsgd checkpoint", path);
    }
    if (version != LSGD_CHECKPOINT_VERSION) {
        lsgd_ckpt_free(c);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: checkpoint format version %u; this lsgd reads version %u",
                              path, version, LSGD_CHECKPOINT_VERSION);
    }
    uint64_t stored;
    memcpy(&stored, c->bytes + c->size - 8, 8);
    if (fnv1a(0xcbf29ce484222325ull, c->bytes, c->size - 8) != stored) {
        lsgd_ckpt_free(c);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: checkpoint checksum mismatch (file damaged)", path);
    }
    return LSGD_OK;
}

void lsgd_ckpt_free(lsgd_ckpt *c)
{
    free(c->bytes);
    c->bytes = NULL;
    c->size = 0;
}

const void *lsgd_ckpt_find(const lsgd_ckpt *c, const char *name, size_t *bytes)
{
    size_t pos = 12, end = c->size - 8, want = strlen(name);
    while (pos + 4 <= end) {
        uint32_t len;
        memcpy(&len, c->bytes + pos, 4);
        pos += 4;
        if (len == 0 || pos + len + 8 > end)
            return NULL;
        const char *rec = (const char *)c->bytes + pos;
        pos += len;
        uint64_t n;
        memcpy(&n, c->bytes + pos, 8);
        pos += 8;
        if (n > end - pos)
            return NULL;
        if (len == want && memcmp(rec, name, len) == 0) {
            if (bytes)
                *bytes = (size_t)n;
            return c->bytes + pos;
        }
        pos += (size_t)n;
    }
    return NULL;
}

int lsgd_ckpt_get(const lsgd_ckpt *c, const char *name, void *out, size_t bytes,
                  lsgd_error *err)
{
    size_t n = 0;
    const void *p = lsgd_ckpt_find(c, name, &n);
    if (!p)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: record '%s' missing", c->path, name);
    if (n != bytes)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: record '%s' holds %zu bytes; expected %zu (another model "
                              "or config?)", c->path, name, n, bytes);
    if (bytes)
        memcpy(out, p, bytes);
    return LSGD_OK;
}
