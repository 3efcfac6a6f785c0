/*
 * checkpoint.c — named records, checksum, atomic replace (checkpoint.h).
 */
#include "io/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The records from offset 12 to the terminator: each {u32 len > 0, name,
 * u64 n, n bytes} inside the file, and the terminator exactly 12 bytes
 * before its end.  Returns 1 when they tile the file so. */
static int records_tile(const unsigned char *bytes, size_t size)
{
    size_t pos = 12, end = size - 12;
    while (pos < end) {
        uint32_t len;
        uint64_t n;
        if (end - pos < 4)
            return 0;
        memcpy(&len, bytes + pos, 4);
        pos += 4;
        if (len == 0 || end - pos < (size_t)len + 8)
            return 0;
        pos += len;
        memcpy(&n, bytes + pos, 8);
        pos += 8;
        if (n > end - pos)
            return 0;
        pos += (size_t)n;
    }
    uint32_t terminator;
    memcpy(&terminator, bytes + end, 4);
    return pos == end && terminator == 0;
}

/* The whole file into c->bytes: a regular file of at most max_bytes. */
static int read_whole(lsgd_ckpt *c, const char *path, size_t max_bytes, lsgd_error *err)
{
    int fd;
    size_t size;
    if (lsgd_input_open_fd(&fd, path, "checkpoint", NULL, &size, err))
        return err->code;
    int rc = LSGD_OK;
    if (size > max_bytes)
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "%s: %zu bytes, more than the %zu a checkpoint of this run can "
                            "hold (damaged, or another run's)", path, size, max_bytes);
    else if (!(c->bytes = malloc(size > 0 ? size : 1)))
        rc = lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory reading %s", path);
    size_t got = 0;
    while (!rc && got < size) {
        ssize_t n = read(fd, c->bytes + got, size - got);
        if (n <= 0)
            rc = lsgd_error_set(err, LSGD_ERR_INPUT, "cannot read checkpoint %s: %s", path,
                                n < 0 ? strerror(errno) : "file shrank while read");
        else
            got += (size_t)n;
    }
    close(fd);
    c->size = got;
    return rc;
}

static int refuse(lsgd_ckpt *c, lsgd_error *err, const char *why)
{
    lsgd_ckpt_free(c);
    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %s", c->path, why);
}

int lsgd_ckpt_load_bounded(lsgd_ckpt *c, const char *path, size_t max_bytes, lsgd_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    if (read_whole(c, path, max_bytes, err)) {
        lsgd_ckpt_free(c);
        return err->code;
    }
    if (c->size < 8 || memcmp(c->bytes, MAGIC, 8) != 0)
        return refuse(c, err, "not an lsgd checkpoint");
    if (c->size < 8 + 4 + 4 + 8)
        return refuse(c, err, "checkpoint cut short (truncated: damaged)");
    uint32_t version;
    memcpy(&version, c->bytes + 8, 4);
    if (version != LSGD_CHECKPOINT_VERSION) {
        lsgd_ckpt_free(c);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: checkpoint format version %u; this lsgd reads version %u",
                              path, version, LSGD_CHECKPOINT_VERSION);
    }
    uint64_t stored;
    memcpy(&stored, c->bytes + c->size - 8, 8);
    if (fnv1a(0xcbf29ce484222325ull, c->bytes, c->size - 8) != stored)
        return refuse(c, err, "checkpoint checksum mismatch (file damaged or cut short)");
    if (!records_tile(c->bytes, c->size))
        return refuse(c, err, "checkpoint records overrun the file (damaged)");
    return LSGD_OK;
}

int lsgd_ckpt_load(lsgd_ckpt *c, const char *path, lsgd_error *err)
{
    return lsgd_ckpt_load_bounded(c, path, SIZE_MAX, err);
}

void lsgd_ckpt_free(lsgd_ckpt *c)
{
    free(c->bytes);
    c->bytes = NULL;
    c->size = 0;
}

const void *lsgd_ckpt_find(const lsgd_ckpt *c, const char *name, size_t *bytes)
{
    if (!c->bytes || c->size < 24)
        return NULL;
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
