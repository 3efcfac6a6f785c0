/*
 * idx.c — MNIST's IDX files: unsigned-byte images (magic 0x0803, n×rows×cols,
 * sample_shape [1, rows, cols]; 0x0804 n×c×rows×cols gives [c, rows, cols])
 * and labels (magic 0x0801, n), plain or gzip-compressed (zlib reads both).
 *
 * Pixels become floats 0..255 in a dense row-major X[n, rows*cols];
 * normalize "unit" later divides by 255 (unit_max).  The header is read
 * first; its dimensions bound what is decompressed (a small gzip that
 * expands past them is refused) and are checked against util/limits.h
 * before the payload is allocated.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/readers.h"
#include "util/input_file.h"
#include "util/limits.h"

typedef struct idx_file {
    const char *path;
    gzFile gz;
    unsigned char *bytes; /* header then payload, decompressed */
    size_t size, cap;     /* bytes held, allocated */
    size_t dims[4];
    int ndim;
} idx_file;

/* A missing MNIST file says how to get it. */
static const char *fetch_hint(const char *path)
{
    return strcasestr(path, "mnist") || strstr(path, "-ubyte")
               ? "fetch MNIST with tools/fetch-data mnist"
               : NULL;
}

static int open_idx(idx_file *f, const char *what, lsgd_error *err)
{
    char kind[32];
    snprintf(kind, sizeof kind, "IDX %s", what);
    int fd;
    int rc = lsgd_input_open_fd(&fd, f->path, kind, fetch_hint(f->path), NULL, err);
    if (rc != LSGD_OK)
        return rc;
    f->gz = gzdopen(fd, "rb"); /* zlib reads plain files through as they are */
    if (!f->gz) {
        close(fd);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", f->path);
    }
    gzbuffer(f->gz, 1 << 20);
    return LSGD_OK;
}

/* Decompress until f->bytes holds `want` bytes or the stream ends; *cut
 * says whether a gzip stream ended early (zlib hands back what it could of
 * a cut-off stream and notes Z_BUF_ERROR instead of failing the read).
 * zlib's message is copied before anything closes the stream. */
static int read_upto(idx_file *f, size_t want, int *cut, lsgd_error *err)
{
    *cut = 0;
    while (f->size < want) {
        /* The buffer grows with what arrives, not with what the header
         * claims: a 44-byte file promising 4 GB allocates no 4 GB. */
        if (f->size == f->cap) {
            size_t cap = f->cap < (1u << 16) ? 1u << 16 : f->cap * 2;
            cap = cap < want ? cap : want;
            unsigned char *more = realloc(f->bytes, cap);
            if (!more)
                return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", f->path);
            f->bytes = more;
            f->cap = cap;
        }
        size_t chunk = f->cap - f->size > (1u << 30) ? (1u << 30) : f->cap - f->size;
        int got = gzread(f->gz, f->bytes + f->size, (unsigned)chunk);
        int code;
        const char *msg = gzerror(f->gz, &code);
        const char *fd_name = strstr(msg, ">: "); /* zlib names the stream "<fd:3>" */
        if (got < 0 || (code != Z_OK && code != Z_BUF_ERROR))
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: byte %zu: cannot decompress: %s",
                                  f->path, f->size, fd_name ? fd_name + 3 : msg);
        if (got == 0) {
            *cut = code == Z_BUF_ERROR;
            break;
        }
        f->size += (size_t)got;
    }
    return LSGD_OK;
}

static int truncated_gzip(const idx_file *f, lsgd_error *err)
{
    return lsgd_error_set(err, LSGD_ERR_INPUT,
                          "%s: truncated: the gzip stream ends early, after %zu decompressed "
                          "bytes; expected a complete gzip file",
                          f->path, f->size);
}

static uint32_t big_endian32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* "4194304x2097152x2097152": the header's dimensions, for messages. */
static const char *dims_text(char *buf, size_t size, const idx_file *f)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < f->ndim && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", k ? "x" : "", f->dims[k]);
    return buf;
}

/* The header's dimensions into f->dims and their product (the payload
 * bytes) into *payload; a product beyond size_t is bad input, not a wrap,
 * and so is a set beyond lsgd's limits (util/limits.h), refused before
 * its payload is read. */
static int parse_dims(idx_file *f, size_t header, size_t *payload, const char *what,
                      lsgd_error *err)
{
    int overflow = 0;
    size_t per_sample = 1;
    for (int k = 0; k < f->ndim; k++) {
        f->dims[k] = big_endian32(f->bytes + 4 + 4 * k);
        if (k > 0)
            overflow |= __builtin_mul_overflow(per_sample, f->dims[k], &per_sample);
    }
    size_t total;
    overflow |= __builtin_mul_overflow(per_sample, f->dims[0], payload);
    overflow |= __builtin_add_overflow(header, *payload, &total);
    char dims[96];
    if (overflow)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: byte 4: header dimensions %s overflow the byte count; expected "
                              "%s dimensions whose product fits in memory",
                              f->path, dims_text(dims, sizeof dims, f), what);
    if (f->dims[0] > LSGD_MAX_SAMPLES || per_sample > LSGD_MAX_FEATURES ||
        *payload > LSGD_MAX_DENSE_VALUES)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: byte 4: header dimensions %s exceed lsgd's limits; expected at "
                              "most %llu %s of at most %llu values, %llu values in all",
                              f->path, dims_text(dims, sizeof dims, f),
                              (unsigned long long)LSGD_MAX_SAMPLES, what,
                              (unsigned long long)LSGD_MAX_FEATURES,
                              (unsigned long long)LSGD_MAX_DENSE_VALUES);
    return LSGD_OK;
}

/* Check magic (unsigned bytes, ndim within [min_dim, max_dim]) and that the
 * payload is all there, and no more: decompression stops one byte past what
 * the header's dimensions need.  A file too short to hold its magic number
 * is truncated, not a bad magic. */
static int read_idx(idx_file *f, int min_dim, int max_dim, const char *what, lsgd_error *err)
{
    unsigned expected = 0x800u | (unsigned)(min_dim == 1 ? 1 : 3);
    int cut;
    int rc = open_idx(f, what, err);
    if (rc == LSGD_OK)
        rc = read_upto(f, 4, &cut, err);
    if (rc != LSGD_OK)
        return rc;
    if (f->size < 4)
        return cut ? truncated_gzip(f, err)
                   : lsgd_error_set(err, LSGD_ERR_INPUT,
                                    "%s: truncated: %zu bytes, shorter than the 4-byte magic "
                                    "number; expected 0x%08x (IDX %s)",
                                    f->path, f->size, expected, what);
    uint32_t magic = big_endian32(f->bytes);
    int ndim = (int)(magic & 0xff);
    if ((magic >> 8) != 0x08 || ndim < min_dim || ndim > max_dim)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: byte 0: bad magic 0x%08x; expected 0x%08x (IDX %s, unsigned "
                              "bytes)",
                              f->path, magic, expected, what);
    size_t header = 4 + 4 * (size_t)ndim, payload;
    if ((rc = read_upto(f, header, &cut, err)) != LSGD_OK)
        return rc;
    if (f->size < header)
        return cut ? truncated_gzip(f, err)
                   : lsgd_error_set(err, LSGD_ERR_INPUT,
                                    "%s: truncated: %zu bytes, shorter than the %zu-byte header",
                                    f->path, f->size, header);
    f->ndim = ndim;
    if ((rc = parse_dims(f, header, &payload, what, err)) != LSGD_OK ||
        (rc = read_upto(f, header + payload + 1, &cut, err)) != LSGD_OK)
        return rc;
    if (f->size < header + payload)
        return cut ? truncated_gzip(f, err)
                   : lsgd_error_set(err, LSGD_ERR_INPUT,
                                    "%s: truncated: the header promises %zu %s (%zu bytes) but "
                                    "the file has %zu bytes",
                                    f->path, f->dims[0], what, header + payload, f->size);
    if (f->size > header + payload)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: byte %zu: more data than the header's %zu %s need; expected "
                              "the file to end there (%zu bytes%s)",
                              f->path, header + payload, f->dims[0], what, header + payload,
                              gzdirect(f->gz) ? "" : " decompressed");
    return LSGD_OK;
}

static void close_idx(idx_file *f)
{
    if (f->gz)
        gzclose(f->gz);
    free(f->bytes);
}

static int images_to_set(lsgd_dataset *set, const idx_file *img, const idx_file *lab,
                         size_t features, lsgd_error *err)
{
    size_t n = img->dims[0], d = 1;
    for (int k = 1; k < img->ndim; k++)
        d *= img->dims[k];
    if (lab->dims[0] != n)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s has %zu images but %s has %zu labels",
                              img->path, n, lab->path, lab->dims[0]);
    if (n == 0 || d == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: no images", img->path);
    if (features && d != features)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: images of %zu pixels; expected %zu features", img->path, d,
                              features);
    const unsigned char *pixels = img->bytes + 4 + 4 * (size_t)img->ndim;
    const unsigned char *labels = lab->bytes + 8;
    set->n = n;
    set->d = d;
    set->unit_max = 255.0f;
    if (img->ndim >= 3) /* n×rows×cols: [1, rows, cols]; n×c×rows×cols: [c, rows, cols] */
        for (int k = 0; k < 3; k++)
            set->sample_shape[k] = k + img->ndim - 3 >= 1 ? img->dims[k + img->ndim - 3] : 1;
    set->X = malloc(n * d * sizeof *set->X);
    double *raw = malloc(n * sizeof *raw);
    if (!set->X || !raw) {
        free(raw);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", img->path);
    }
    float *X = set->X;
    for (size_t i = 0; i < n * d; i++)
        X[i] = (float)pixels[i];
    for (size_t i = 0; i < n; i++)
        raw[i] = labels[i];
    int rc = dataset_set_labels(set, raw, n);
    free(raw);
    return rc == LSGD_OK ? LSGD_OK : lsgd_error_set(err, rc, "%s: out of memory", lab->path);
}

int lsgd_idx_read(lsgd_dataset **out, const char *images, const char *labels, size_t features,
                  lsgd_error *err)
{
    idx_file img = {.path = images}, lab = {.path = labels};
    int rc = read_idx(&img, 2, 4, "images", err);
    if (rc == LSGD_OK)
        rc = read_idx(&lab, 1, 1, "labels", err);
    lsgd_dataset *set = NULL;
    if (rc == LSGD_OK) {
        set = dataset_new(images);
        rc = set ? images_to_set(set, &img, &lab, features, err)
                 : lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", images);
    }
    close_idx(&img);
    close_idx(&lab);
    if (rc != LSGD_OK) {
        lsgd_dataset_free(set);
        return rc;
    }
    *out = set;
    return LSGD_OK;
}
