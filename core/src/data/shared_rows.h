/*
 * shared_rows.h — one copy of the loaded data per host.
 *
 * The first process to load a `data` object (the `lsgd run` launcher's
 * preflight, or the first worker of an mpirun or hand-started run) decodes
 * it once, as lsgd_data_load does, and writes the result (train and test,
 * normalized) into a file of the cache directory ($LSGD_DATA_CACHE, else
 * /dev/shm); every process that loads the same `data` afterwards maps that
 * file read-only (MAP_SHARED, PROT_READ), so the rows sit once in memory
 * however many workers train on them.
 *
 * The file's name is a hash of the data's identity: the `data` object
 * (without partition), the seed, each input file's path, device, inode,
 * size and modification time, and the lsgd binary's; the identity itself
 * is in the file's header and compared in full, beside a checksum of the
 * contents that whoever finds the file unused verifies.  A file that fails
 * either is rebuilt.  Files are written under another name and renamed into
 * place, all under a lock (flock of lsgd-data-UID.lock in the directory), so
 * concurrent workers decode once and never see half a file.
 *
 * A mapped file stays as a cache after its last user ends, so the next run
 * on the same data starts without decoding; building a new file removes
 * every other one no process maps (each user holds a shared flock on it).
 * `rm /dev/shm/lsgd-data-*` clears the cache by hand.  Whenever sharing is
 * not possible (no cache directory, no room, a file of another user) the
 * sets are loaded privately, exactly as lsgd_data_load does.
 */
#ifndef LSGD_SHARED_ROWS_H
#define LSGD_SHARED_ROWS_H

#include "data/dataset.h"

/* The cache directory: $LSGD_DATA_CACHE, else /dev/shm. */
const char *lsgd_shared_rows_dir(void);

/* Drop a set's hold on its mapping (lsgd_dataset_free calls it). */
void lsgd_shared_rows_release(struct lsgd_shared_rows *rows);

#endif
