/*
 * run_dir.h — the output directory of a run (output.dir), which one run
 * owns at a time, so that results are never mixed or lost silently.
 *
 * A run claims its directory before it writes anything: the directory is
 * made (or refused as bad input naming output.dir: under a read-only
 * directory, an existing regular file, …), then locked with flock on
 * <dir>/.lock, which holds the owner's pid.  The kernel drops the lock when
 * the owner exits, however it exits, so a stale lock cannot exist.  A
 * second run into the same directory is refused naming that pid.
 *
 * Once locked, what the directory holds must agree with what was asked:
 *   new run   refused if a run is there (run.json, metrics, model,
 *             checkpoints), with the ways out: --resume, another
 *             output.dir, or --force
 *   --force   the previous run's files are removed (only lsgd's own)
 *   --resume  a run that finished (model.json written) is reported as
 *             such, and nothing is done
 */
#ifndef LSGD_RUN_DIR_H
#define LSGD_RUN_DIR_H

#include <stddef.h>

#include "lsgd/errors.h"

enum lsgd_run_dir_mode {
    LSGD_RUN_DIR_NEW,    /* a fresh run: the directory must hold none */
    LSGD_RUN_DIR_RESUME, /* --resume: continue the run it holds */
    LSGD_RUN_DIR_FORCE   /* --force: replace the run it holds */
};

typedef struct lsgd_run_dir {
    int lock_fd; /* -1 when not held by this process */
    int finished; /* resume: the run there has finished */
    char path[4096];
} lsgd_run_dir;

/* mkdir -p dir; failures are bad input naming output.dir. */
int lsgd_run_dir_make(const char *dir, lsgd_error *err);

/* Make, lock and check dir for mode (above).  inherit: the lock stays held
 * by the processes this one execs (the launcher's workers).  Returns
 * LSGD_OK (d->finished says whether a resume has nothing to do), or
 * LSGD_ERR_INPUT with the reason. */
int lsgd_run_dir_claim(lsgd_run_dir *d, const char *dir, int mode, int inherit,
                       lsgd_error *err);

/* Whether the run in dir has finished (its model.json is written). */
int lsgd_run_dir_finished(const char *dir);

/* Whether dir is locked by the process `pid` (the launcher that started this
 * worker): then the launcher has claimed it already. */
int lsgd_run_dir_locked_by(const char *dir, long pid);

/* Unlock (the lock file stays). */
void lsgd_run_dir_release(lsgd_run_dir *d);

#endif
