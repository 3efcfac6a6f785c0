/*
 * checkpoint.h — the checkpoint file: named binary records written
 * atomically, with a checksum over everything, so a reader either gets a
 * whole checkpoint or a clear error.
 *
 *     "LSGDCKPT" u32 version
 *     { u32 name_len, name, u64 nbytes, bytes }…
 *     u32 0, u64 FNV-1a-64 of all the bytes before it
 *
 * A checkpoint is input like any other file: the reader refuses what is
 * not a regular file, bounds what it reads, and checks magic, version,
 * checksum and that the records tile the file exactly before any record
 * is handed out.  What goes into the records (model, scaling state and
 * clock, RNG states, round, anchor, …) and whether their values make
 * sense is the engine's business (engine/snapshot.c).
 */
#ifndef LSGD_CHECKPOINT_H
#define LSGD_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "io/atomic_file.h"
#include "lsgd/errors.h"

#define LSGD_CHECKPOINT_VERSION 2u

typedef struct lsgd_ckpt_writer {
    lsgd_atomic_file file;
    uint64_t hash;
} lsgd_ckpt_writer;

int lsgd_ckpt_begin(lsgd_ckpt_writer *w, const char *path, lsgd_error *err);
void lsgd_ckpt_put(lsgd_ckpt_writer *w, const char *name, const void *data, size_t bytes);
int lsgd_ckpt_commit(lsgd_ckpt_writer *w, lsgd_error *err);
void lsgd_ckpt_abort(lsgd_ckpt_writer *w);

typedef struct lsgd_ckpt {
    unsigned char *bytes;
    size_t size;
    char path[4096];
} lsgd_ckpt;

/* Read and verify (regular file of at most max_bytes, magic, version,
 * checksum, record layout); errors (LSGD_ERR_INPUT) name the file and say
 * what is wrong.  lsgd_ckpt_load: no bound but the address space. */
int lsgd_ckpt_load_bounded(lsgd_ckpt *c, const char *path, size_t max_bytes, lsgd_error *err);
int lsgd_ckpt_load(lsgd_ckpt *c, const char *path, lsgd_error *err);
void lsgd_ckpt_free(lsgd_ckpt *c);

/* The record `name`, or NULL; *bytes its size. */
const void *lsgd_ckpt_find(const lsgd_ckpt *c, const char *name, size_t *bytes);
/* Copy record `name` of exactly `bytes` bytes into out; an error names the
 * file and record when it is missing or of another size. */
int lsgd_ckpt_get(const lsgd_ckpt *c, const char *name, void *out, size_t bytes,
                  lsgd_error *err);

#endif
