/*
 * worker.c — `lsgd worker CONFIG --rank R --world N [--set k=v]…
 * [--resume | --force]`: be one worker of a run.  The launcher starts these; a user
 * can too, one per terminal or host (rank and world may also come from
 * LSGD_RANK/LSGD_WORLD or mpirun/srun).  Every worker of one config
 * computes the same run id unless LSGD_RUN_ID or config run_id says it.
 *
 * Started by hand, a rank above 0 says on stdout when it joins the run
 * (rank, world, run id, transport) and when it is done (rounds, time,
 * start-up); rank 0 prints the run's header and summary as always.
 *
 * Started by `lsgd run` (LSGD_REPORT_FD set), the worker may outlive the
 * reader of its error-line pipe: a killed launcher makes it stop (SIGTERM,
 * PR_SET_PDEATHSIG) and then report.  SIGPIPE is ignored so that this
 * report fails over to stderr instead of killing the worker.
 */
#include <signal.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "host/launcher.h"

static const char usage[] =
    "lsgd worker CONFIG --rank R --world N [--set KEY=VALUE]... [--resume | --force]";

int lsgd_cli_worker(int argc, char **argv)
{
    if (getenv("LSGD_REPORT_FD"))
        signal(SIGPIPE, SIG_IGN);
    cli_args a;
    int rc = cli_parse(&a, argc, argv, CLI_SET | CLI_RESUME | CLI_FORCE | CLI_RANK, 1, usage);
    if (!rc && (a.rank < 0) != (a.world < 0))
        rc = cli_fail(LSGD_ERR_INPUT, "worker: give both --rank and --world; usage: %s", usage);
    if (!rc && a.rank < 0 && !lsgd_launch_rank_from_env(&a.rank, &a.world))
        rc = cli_fail(LSGD_ERR_INPUT,
                      "worker: no rank given: use --rank R --world N, set LSGD_RANK and "
                      "LSGD_WORLD, or start it under mpirun/srun");
    if (!rc && (a.world < 1 || a.rank >= a.world))
        rc = cli_fail(LSGD_ERR_INPUT, "worker: --rank %d must be below --world %d (and world >= 1)",
                      a.rank, a.world);
    json_t *cfg = NULL;
    if (!rc)
        rc = cli_load_config(&cfg, &a);
    lsgd_launch_worker_started(); /* tell `lsgd run` which plugin is loading */
    if (!rc)
        rc = cli_run_worker(cfg, a.positional[0], a.rank, a.world, a.resume, a.force,
                            !getenv("LSGD_REPORT_FD")); /* by hand, not by `lsgd run` */
    if (!rc)
        lsgd_launch_worker_finished();
    json_decref(cfg);
    cli_args_free(&a);
    return rc;
}
