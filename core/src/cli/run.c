/*
 * run.c — `lsgd run CONFIG [--set k=v]… [--resume | --force]`: load and
 * check the config, make every check a worker makes before training (the
 * one function `lsgd validate` calls: plugins loaded, their needs, data,
 * shards, model), then either be one worker (under mpirun/srun or with
 * LSGD_RANK/LSGD_WORLD; the data is then each worker's to load) or claim
 * the output directory (io/run_dir.h: locked for the whole run, its
 * previous run kept unless --resume or --force) and start them all.
 * Checking here first makes a broken plugin or a bad data file one
 * message, not one per worker, and leaves no output directory behind.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "host/config.h"
#include "host/launcher.h"
#include "io/run_dir.h"

static const char usage[] = "lsgd run CONFIG [--set KEY=VALUE]... [--resume | --force]";

/* Workers started here beyond the cores online take turns on them: said
 * on stdout before the run's header (it is not an error; stderr keeps the
 * one line of a failure). */
static void note_shared_cores(int workers)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 0 && workers > cores) {
        printf("lsgd: note: %d workers on %ld online core%s: they share the cores, so each "
               "round takes longer than with a core per worker\n",
               workers, cores, cores == 1 ? "" : "s");
        fflush(stdout);
    }
}

/* Start the workers in a claimed output directory, the lock held (and
 * inherited by them) until all have ended. */
static int launch(const json_t *cfg, const cli_args *a, lsgd_error *err)
{
    const char *dir = lsgd_config_string(cfg, "output.dir", "runs/run");
    int mode = a->resume ? LSGD_RUN_DIR_RESUME : a->force ? LSGD_RUN_DIR_FORCE : LSGD_RUN_DIR_NEW;
    lsgd_run_dir claimed;
    if (lsgd_run_dir_claim(&claimed, dir, mode, 1, err))
        return err->code;
    if (claimed.finished) {
        lsgd_run_dir_release(&claimed);
        printf("lsgd: the run in %s has finished (%s/model.npy); nothing to resume\n", dir, dir);
        return LSGD_OK;
    }
    char self[PATH_MAX];
    if (!realpath("/proc/self/exe", self))
        snprintf(self, sizeof self, "/proc/self/exe");
    lsgd_launch launch = {.config_path = a->positional[0],
                          .sets = a->sets,
                          .n_sets = a->n_sets,
                          .resume = a->resume,
                          .self_exe = self};
    int rc = lsgd_launch_run(&launch, cfg, err);
    lsgd_run_dir_release(&claimed);
    if (rc && err->code == LSGD_OK)
        err->code = rc;
    return rc;
}

int lsgd_cli_run(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, argc, argv, CLI_SET | CLI_RESUME | CLI_FORCE, 1, usage);
    /* one of several processes under mpirun/srun: each loads its own data */
    int rank, world, one_of_many = lsgd_launch_rank_from_env(&rank, &world);
    json_t *cfg = NULL;
    if (!rc)
        rc = cli_load_checked(&cfg, &a, !one_of_many);
    if (!rc && one_of_many) {
        rc = cli_run_worker(cfg, a.positional[0], rank, world, a.resume, a.force, 0);
    } else if (!rc) {
        note_shared_cores((int)lsgd_setting_count(cfg, "workers"));
        lsgd_error err;
        lsgd_error_clear(&err);
        if (launch(cfg, &a, &err))
            rc = err.message[0] ? cli_report(&err) : err.code;
    }
    json_decref(cfg);
    cli_args_free(&a);
    return rc;
}
