/*
 * input_file.h — how lsgd opens a file it reads as input (a config, a plugin
 * manifest, a data file, a checkpoint), and how it quotes bytes of one in a
 * message.
 *
 * Only regular files are read: a directory, FIFO, socket or device (/dev/zero)
 * is refused at once, without blocking on it or reading it forever.  A path
 * that does not exist is named twice, as given and resolved against the
 * working directory, since every input path is read from there.
 */
#ifndef LSGD_INPUT_FILE_H
#define LSGD_INPUT_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "lsgd/errors.h"

/* *fd: a read-only descriptor of the regular file at path, its size in
 * *size (may be NULL); else an LSGD_ERR_INPUT "<path>: cannot read <what>:
 * …".  if_missing (may be NULL) is appended when the file does not exist,
 * e.g. how to fetch it. */
int lsgd_input_open_fd(int *fd, const char *path, const char *what, const char *if_missing,
                       size_t *size, lsgd_error *err);

/* The same as a stdio stream ("rb"). */
int lsgd_input_open(FILE **f, const char *path, const char *what, const char *if_missing,
                    size_t *size, lsgd_error *err);

/* bytes[0, len) for a message: printable ASCII as is, every other byte as
 * \xNN, at most max_bytes of the input shown and "..." when cut.  out
 * always ends in NUL (cap ≥ 1). */
void lsgd_excerpt(char *out, size_t cap, const void *bytes, size_t len, size_t max_bytes);

#endif
