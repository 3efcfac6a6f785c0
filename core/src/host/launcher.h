/*
 * launcher.h — start the workers of one run.
 *
 * `lsgd run` on one host (shm, zmq): fork/exec `workers` copies of this
 * binary as `lsgd worker CONFIG --rank r --world n` with the same --set
 * overrides and LSGD_RUN_ID, forward SIGINT/SIGTERM, collect exit codes
 * and the workers' error lines;
 * when one worker dies the others are stopped and the run exits 1 naming
 * the rank; transport leftovers are cleaned (LSGD_EXT_TRANSPORT_CLEANUP).
 * Workers die with the launcher: if it is killed, each gets SIGTERM
 * (PR_SET_PDEATHSIG) and stops as on Ctrl-C.
 * Under mpirun/srun (OMPI_COMM_WORLD_RANK, PMIX_RANK, SLURM_PROCID) the
 * process already is a worker and no one is launched.
 */
#ifndef LSGD_LAUNCHER_H
#define LSGD_LAUNCHER_H

#include <jansson.h>

#include "lsgd/errors.h"

typedef struct lsgd_launch {
    const char *config_path;
    const char *const *sets;  /* --set overrides, passed on to every worker */
    size_t n_sets;
    int resume;               /* --resume */
    const char *self_exe;     /* path of the lsgd binary (argv[0] resolved) */
} lsgd_launch;

/* Rank and world from the environment when started by mpirun/srun or by
 * LSGD_RANK/LSGD_WORLD; returns 1 when found, 0 otherwise. */
int lsgd_launch_rank_from_env(int *rank, int *world);

/* The worker's side of its report pipe (LSGD_REPORT_FD, set by `lsgd
 * run`; both do nothing without it).  started: from now on, say before
 * each plugin's code first runs which plugin it is, so that a worker that
 * dies loading it is reported naming it.  finished: say that the run
 * completed; a worker that exits, even with 0, without saying it failed. */
void lsgd_launch_worker_started(void);
void lsgd_launch_worker_finished(void);

/* Run all workers of cfg (already loaded and checked) to completion;
 * returns the status to exit with (0, 1 or 2) and fills err on failure
 * with one line: the error line of the worker that failed first (workers
 * write it to the pipe named by LSGD_REPORT_FD, not to stderr), or, when
 * it said nothing (killed, crashed, exited before finishing), which rank
 * ended how, and which plugin it was loading if it died loading one. */
int lsgd_launch_run(const lsgd_launch *launch, const json_t *cfg, lsgd_error *err);

#endif
