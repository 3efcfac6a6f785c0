/*
 * shared_rows.c — the host's one copy of the loaded data: the file that
 * holds it (layout, checksum), its identity, and the lock, build, map and
 * eviction steps; see shared_rows.h for the protocol.
 *
 * File layout (native byte order; it never leaves the host):
 *
 *   rows_header                magic "LSGDROWS", version, sizes, checksum
 *   identity text              key_bytes, compared in full when mapped
 *   set_record[2]              train, test (flags 0 when there is none)
 *   arrays                     each at a 64-byte boundary: label_values,
 *                              y, X or row_ptr/col/val, truth, source
 *
 * The checksum covers everything from the set records to the end.
 */
#include "data/shared_rows.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/readers.h"
#include "util/limits.h"

enum { ROWS_VERSION = 1, ROWS_ALIGN = 64, ROWS_SETS = 2, SET_PRESENT = 1 };
enum { MAX_IDENTITY_BYTES = 1 << 20, MAX_DIR_ENTRIES = 4096 };
static const char ROWS_MAGIC[8] = {'L', 'S', 'G', 'D', 'R', 'O', 'W', 'S'};

typedef struct rows_header {
    char magic[8];
    uint32_t version;
    uint32_t reserved;
    uint64_t file_bytes;
    uint64_t key_bytes; /* the identity text, right after this header */
    uint64_t records_at; /* set_record[ROWS_SETS]; the checksum covers from here */
    uint64_t checksum;
} rows_header;

/* Where one set's arrays are (byte offsets from the start; 0: absent). */
typedef struct set_record {
    uint64_t flags, n, d, nnz, classes, shape[3];
    float unit_max;
    uint32_t reserved;
    uint64_t label_values, y, X, row_ptr, col, val, truth, source, source_bytes;
} set_record;

struct lsgd_shared_rows {
    void *base;
    size_t bytes;
    int fd; /* holds a shared flock: "in use" */
    int users;
};

const char *lsgd_shared_rows_dir(void)
{
    const char *dir = getenv("LSGD_DATA_CACHE");
    return dir && *dir ? dir : "/dev/shm";
}

void lsgd_shared_rows_release(struct lsgd_shared_rows *rows)
{
    if (!rows || --rows->users > 0)
        return;
    munmap(rows->base, rows->bytes);
    close(rows->fd);
    free(rows);
}

/* ---- checksum: four independent multiply-rotate lanes over 64-bit words ---- */

static uint64_t rotl(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static uint64_t checksum(const unsigned char *p, size_t len)
{
    const uint64_t prime = 0x9E3779B97F4A7C15ull;
    uint64_t h[4] = {1, 2, 3, 4}, w[4];
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        memcpy(w, p + i, 32);
        for (int k = 0; k < 4; k++)
            h[k] = rotl((h[k] ^ w[k]) * prime, 31);
    }
    uint64_t sum = len;
    for (; i < len; i++)
        sum = (sum ^ p[i]) * prime;
    for (int k = 0; k < 4; k++)
        sum = rotl((sum ^ h[k]) * prime, 27);
    return sum;
}

/* ---- identity ---- */

typedef struct text {
    char *s;
    size_t len, cap;
    int full; /* over MAX_IDENTITY_BYTES, or out of memory */
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    int len = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (len < 0 || t->full || t->len + (size_t)len + 1 > MAX_IDENTITY_BYTES) {
        t->full = 1;
        free(line);
        return;
    }
    if (t->len + (size_t)len + 1 > t->cap) {
        size_t cap = (t->len + (size_t)len + 1) * 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            t->full = 1;
            free(line);
            return;
        }
        t->s = grown, t->cap = cap;
    }
    memcpy(t->s + t->len, line, (size_t)len + 1);
    t->len += (size_t)len;
    free(line);
}

static void add_file(text *t, const char *path, const struct stat *st)
{
    add(t, "file %s %llu %llu %lld %lld.%09ld\n", path, (unsigned long long)st->st_dev,
        (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
        st->st_mtim.tv_nsec);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of a directory (a CIFAR-10 "dir"), in name order. */
static void add_directory(text *t, const char *dir)
{
    DIR *d = opendir(dir);
    char *names[MAX_DIR_ENTRIES];
    size_t count = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && !t->full) {
        if (count == MAX_DIR_ENTRIES)
            t->full = 1;
        else if (e->d_name[0] != '.' && asprintf(&names[count], "%s/%s", dir, e->d_name) >= 0)
            count++;
    }
    if (d)
        closedir(d);
    qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            add_file(t, names[i], &st);
        free(names[i]);
    }
}

/* Every string of a data set's config that names a file or directory. */
static void add_inputs(text *t, const json_t *v)
{
    struct stat st;
    size_t i;
    const char *name;
    json_t *item;
    if (json_is_string(v) && stat(json_string_value(v), &st) == 0) {
        if (S_ISREG(st.st_mode))
            add_file(t, json_string_value(v), &st);
        else if (S_ISDIR(st.st_mode))
            add_directory(t, json_string_value(v));
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) add_inputs(t, item);
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, name, item) add_inputs(t, item);
    }
}

/* This code's own binary: a rebuilt lsgd does not trust an old cache. */
static void add_binary(text *t)
{
    Dl_info info;
    const char *path = dladdr((void *)add_binary, &info) && info.dli_fname && *info.dli_fname
                           ? info.dli_fname
                           : "/proc/self/exe";
    struct stat st;
    if (stat(path, &st) == 0)
        add_file(t, path, &st);
}

/* The identity text of (data, seed), or NULL when it cannot be had. */
static char *identity(const json_t *data, uint64_t seed)
{
    text t = {0};
    json_t *loaded = json_deep_copy(data);
    json_object_del(loaded, "partition"); /* how rows are dealt, not which rows */
    json_object_del(loaded, "shared");
    char *config = json_dumps(loaded, JSON_SORT_KEYS | JSON_COMPACT);
    add(&t, "lsgd shared rows %d\nseed %llu\ndata %s\n", ROWS_VERSION, (unsigned long long)seed,
        config ? config : "?");
    add_binary(&t);
    add_inputs(&t, json_object_get(data, "train"));
    add_inputs(&t, json_object_get(data, "test"));
    free(config);
    json_decref(loaded);
    if (!t.full && config)
        return t.s;
    free(t.s);
    return NULL;
}

/* ---- layout ---- */

static uint64_t place(uint64_t *cursor, uint64_t bytes)
{
    uint64_t at = *cursor;
    *cursor += (bytes + ROWS_ALIGN - 1) / ROWS_ALIGN * ROWS_ALIGN;
    return bytes ? at : 0;
}

/* The record of set (NULL: none) with its arrays placed from *cursor. */
static set_record plan(const lsgd_dataset *set, uint64_t *cursor)
{
    set_record r = {0};
    if (!set)
        return r;
    r.flags = SET_PRESENT;
    r.n = set->n, r.d = set->d, r.classes = (uint64_t)set->classes, r.unit_max = set->unit_max;
    for (int k = 0; k < 3; k++)
        r.shape[k] = set->sample_shape[k];
    r.nnz = set->X ? 0 : set->row_ptr[set->n];
    r.label_values = place(cursor, r.classes * sizeof(float));
    r.y = place(cursor, r.n * sizeof(float));
    if (set->X) {
        r.X = place(cursor, r.n * r.d * sizeof(float));
    } else {
        r.row_ptr = place(cursor, (r.n + 1) * sizeof(size_t));
        r.col = place(cursor, r.nnz * sizeof(uint32_t));
        r.val = place(cursor, r.nnz * sizeof(float));
    }
    r.truth = set->truth ? place(cursor, r.d * sizeof(float)) : 0;
    r.source_bytes = strlen(set->source) + 1;
    r.source = place(cursor, r.source_bytes);
    return r;
}

static void copy_in(unsigned char *base, uint64_t at, const void *from, size_t bytes)
{
    if (at && bytes)
        memcpy(base + at, from, bytes);
}

static void fill(unsigned char *base, const set_record *r, const lsgd_dataset *set)
{
    if (!set)
        return;
    copy_in(base, r->label_values, set->label_values, r->classes * sizeof(float));
    copy_in(base, r->y, set->y, r->n * sizeof(float));
    copy_in(base, r->X, set->X, r->n * r->d * sizeof(float));
    copy_in(base, r->row_ptr, set->row_ptr, (r->n + 1) * sizeof(size_t));
    copy_in(base, r->col, set->col, r->nnz * sizeof(uint32_t));
    copy_in(base, r->val, set->val, r->nnz * sizeof(float));
    copy_in(base, r->truth, set->truth, r->d * sizeof(float));
    copy_in(base, r->source, set->source, r->source_bytes);
}

/* ---- views into a mapped file ---- */

/* [at, at + count·size) inside the file, at a 64-byte boundary (at 0: absent
 * is allowed only when count is 0). */
static int within(const struct lsgd_shared_rows *rows, uint64_t at, uint64_t count, size_t size)
{
    uint64_t bytes;
    if (__builtin_mul_overflow(count, (uint64_t)size, &bytes))
        return 0;
    if (at == 0)
        return bytes == 0;
    return at % ROWS_ALIGN == 0 && at <= rows->bytes && bytes <= rows->bytes - at;
}

static int record_fits(const struct lsgd_shared_rows *rows, const set_record *r)
{
    const unsigned char *base = rows->base;
    uint64_t values;
    if (r->n > LSGD_MAX_SAMPLES || r->d > LSGD_MAX_FEATURES || r->classes > (1u << 30) ||
        __builtin_mul_overflow(r->n, r->d, &values))
        return 0;
    int dense = r->X != 0;
    return within(rows, r->label_values, r->classes, sizeof(float)) &&
           within(rows, r->y, r->n, sizeof(float)) &&
           within(rows, r->X, dense ? values : 0, sizeof(float)) &&
           within(rows, r->row_ptr, dense ? 0 : r->n + 1, sizeof(size_t)) &&
           within(rows, r->col, r->nnz, sizeof(uint32_t)) &&
           within(rows, r->val, r->nnz, sizeof(float)) &&
           (r->truth == 0 || within(rows, r->truth, r->d, sizeof(float))) &&
           r->source_bytes > 0 && within(rows, r->source, r->source_bytes, 1) &&
           base[r->source + r->source_bytes - 1] == '\0' &&
           (dense || ((const size_t *)(base + r->row_ptr))[r->n] == r->nnz);
}

static void *view(const struct lsgd_shared_rows *rows, uint64_t at)
{
    return at ? (unsigned char *)rows->base + at : NULL;
}

static lsgd_dataset *set_view(struct lsgd_shared_rows *rows, const set_record *r)
{
    lsgd_dataset *set = dataset_new(view(rows, r->source));
    if (!set)
        return NULL;
    set->n = r->n, set->d = r->d, set->classes = (int)r->classes, set->unit_max = r->unit_max;
    for (int k = 0; k < 3; k++)
        set->sample_shape[k] = r->shape[k];
    set->label_values = view(rows, r->label_values);
    set->y = view(rows, r->y);
    set->X = view(rows, r->X);
    set->row_ptr = view(rows, r->row_ptr);
    set->col = view(rows, r->col);
    set->val = view(rows, r->val);
    set->truth = view(rows, r->truth);
    set->shared = rows;
    rows->users++;
    return set;
}

/* ---- the file: find and map, build, evict ---- */

/* The valid file at path mapped into *out, held with a shared flock: 1;
 * none there or an invalid one (removed): 0; one that cannot be used (of
 * another user): -1.  The checksum is verified when `verify` and nobody
 * else maps the file (its users verified it when they found it). */
static int map_file(struct lsgd_shared_rows **out, const char *path, const char *key,
                    int verify)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd);
        return -1;
    }
    size_t key_bytes = strlen(key), bytes = (size_t)st.st_size;
    void *base = bytes >= sizeof(rows_header) ? mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0)
                                              : MAP_FAILED;
    const rows_header *h = base;
    int fits = base != MAP_FAILED && memcmp(h->magic, ROWS_MAGIC, 8) == 0 &&
               h->version == ROWS_VERSION && h->file_bytes == bytes &&
               h->key_bytes == key_bytes && key_bytes <= bytes - sizeof *h &&
               memcmp((const char *)base + sizeof *h, key, key_bytes) == 0 &&
               h->records_at % ROWS_ALIGN == 0 && h->records_at <= bytes &&
               bytes - h->records_at >= ROWS_SETS * sizeof(set_record);
    /* Nobody else maps it: check every byte before trusting it. */
    if (fits && verify && flock(fd, LOCK_EX | LOCK_NB) == 0)
        fits = checksum((const unsigned char *)base + h->records_at, bytes - h->records_at) ==
               h->checksum;
    struct lsgd_shared_rows *rows = fits ? calloc(1, sizeof *rows) : NULL;
    if (rows) {
        *rows = (struct lsgd_shared_rows){.base = base, .bytes = bytes, .fd = fd};
        const set_record *r = (const set_record *)((const char *)base + h->records_at);
        for (int s = 0; s < ROWS_SETS; s++)
            fits &= !(r[s].flags & SET_PRESENT) || record_fits(rows, &r[s]);
        fits &= (r[0].flags & SET_PRESENT) != 0;
    }
    if (!rows || !fits || flock(fd, LOCK_SH) != 0) {
        free(rows);
        if (base != MAP_FAILED)
            munmap(base, bytes);
        close(fd);
        unlink(path);
        return 0;
    }
    *out = rows;
    return 1;
}

/* train and test written to a new file at path (via path.PID.tmp). */
static int build_file(const char *path, const char *key, const lsgd_dataset *train,
                      const lsgd_dataset *test)
{
    size_t key_bytes = strlen(key);
    uint64_t records_at = (sizeof(rows_header) + key_bytes + ROWS_ALIGN - 1) / ROWS_ALIGN *
                          ROWS_ALIGN;
    uint64_t cursor = records_at + ROWS_SETS * sizeof(set_record);
    cursor = (cursor + ROWS_ALIGN - 1) / ROWS_ALIGN * ROWS_ALIGN;
    set_record r[ROWS_SETS] = {plan(train, &cursor), plan(test, &cursor)};
    char *tmp;
    if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
        return -1;
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int room = posix_fallocate(fd, 0, (off_t)cursor);
    unsigned char *base = room == 0 ? mmap(NULL, cursor, PROT_READ | PROT_WRITE,
                                           MAP_SHARED | MAP_POPULATE, fd, 0)
                                    : MAP_FAILED;
    close(fd);
    if (room == ENOSPC)
        fprintf(stderr,
                "lsgd: note: %s has no room for the %llu MiB shared copy of the data; each "
                "worker loads its own (set LSGD_DATA_CACHE to another directory)\n",
                lsgd_shared_rows_dir(), (unsigned long long)(cursor >> 20));
    if (base == MAP_FAILED) {
        unlink(tmp);
        free(tmp);
        return -1;
    }
    rows_header h = {.version = ROWS_VERSION, .file_bytes = cursor, .key_bytes = key_bytes,
                     .records_at = records_at};
    memcpy(h.magic, ROWS_MAGIC, 8);
    memcpy(base + sizeof h, key, key_bytes);
    memcpy(base + records_at, r, sizeof r);
    fill(base, &r[0], train);
    fill(base, &r[1], test);
    h.checksum = checksum(base + records_at, cursor - records_at);
    memcpy(base, &h, sizeof h);
    munmap(base, cursor);
    int renamed = rename(tmp, path) == 0;
    if (!renamed)
        unlink(tmp);
    free(tmp);
    return renamed ? 0 : -1;
}

/* Every other cache file of this user that no process maps (and any
 * leftover .tmp: builders hold the lock, so none is being written). */
static void evict_unused(const char *dir, const char *prefix, const char *keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t plen = strlen(prefix);
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, plen) || strcmp(e->d_name, keep) == 0 || len < 5)
            continue;
        int fd = -1;
        if (strcmp(e->d_name + len - 4, ".tmp") == 0)
            unlinkat(dirfd(d), e->d_name, 0);
        else if (strcmp(e->d_name + len - 5, ".rows") == 0)
            fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
}

/* The sets as views of rows (which the views then own). */
static int views(lsgd_dataset **train, lsgd_dataset **test, struct lsgd_shared_rows *rows)
{
    const rows_header *h = rows->base;
    const set_record *r = (const set_record *)((const char *)rows->base + h->records_at);
    rows->users = 1; /* ours, until both views hold it */
    *train = set_view(rows, &r[0]);
    *test = r[1].flags & SET_PRESENT ? set_view(rows, &r[1]) : NULL;
    int ok = *train && (*test || !(r[1].flags & SET_PRESENT));
    lsgd_shared_rows_release(rows);
    if (ok)
        return 1;
    lsgd_dataset_free(*train);
    lsgd_dataset_free(*test);
    *train = *test = NULL;
    return 0;
}

/* Under the directory's lock: map the file, or load, build and map it;
 * the sets stay private when the file cannot be had. */
static int load_locked(lsgd_dataset **train, lsgd_dataset **test, const json_t *data,
                       uint64_t seed, const char *key, const char *dir, const char *prefix,
                       lsgd_error *err)
{
    char name[256], *path;
    snprintf(name, sizeof name, "%s%016llx.rows", prefix,
             (unsigned long long)checksum((const unsigned char *)key, strlen(key)));
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return lsgd_data_load(train, test, data, seed, err);
    struct lsgd_shared_rows *rows = NULL;
    int found = map_file(&rows, path, key, 1);
    if (found == 1 && views(train, test, rows)) {
        free(path);
        return LSGD_OK;
    }
    int rc = lsgd_data_load(train, test, data, seed, err);
    if (rc != LSGD_OK || found < 0) {
        free(path);
        return rc;
    }
    evict_unused(dir, prefix, name);
    lsgd_dataset *private_train = *train, *private_test = *test;
    if (build_file(path, key, *train, *test) == 0 && map_file(&rows, path, key, 0) == 1 &&
        views(train, test, rows)) {
        lsgd_dataset_free(private_train);
        lsgd_dataset_free(private_test);
    } else {
        *train = private_train, *test = private_test;
    }
    free(path);
    return LSGD_OK;
}

int lsgd_data_load_shared(lsgd_dataset **train, lsgd_dataset **test, const json_t *data,
                          uint64_t seed, lsgd_error *err)
{
    *train = *test = NULL;
    if (!json_bool_or(data, "shared", 1))
        return lsgd_data_load(train, test, data, seed, err);
    const char *dir = lsgd_shared_rows_dir();
    char prefix[64], *lock_path = NULL;
    snprintf(prefix, sizeof prefix, "lsgd-data-%ld-", (long)geteuid());
    char *key = identity(data, seed);
    int lock = -1;
    if (key && asprintf(&lock_path, "%s/lsgd-data-%ld.lock", dir, (long)geteuid()) >= 0)
        lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(lock_path);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        if (lock >= 0)
            close(lock);
        free(key);
        return lsgd_data_load(train, test, data, seed, err);
    }
    int rc = load_locked(train, test, data, seed, key, dir, prefix, err);
    flock(lock, LOCK_UN);
    close(lock);
    free(key);
    return rc;
}
