/*
 * slurm.c — lsgd under Slurm: tests/slurm/run.sh starts a one-node Slurm
 * of this host (slurmctld, slurmd, munge; installed from Debian when
 * missing), runs `srun --mpi=pmix -n 3 lsgd run` with the mpi transport, then
 * the same in a batch script (sbatch), and compares each model with the shm
 * run's.  Needs root: otherwise the test says why it proves nothing.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

LSGD_TEST(slurm, srun_and_sbatch_of_three_mpi_ranks_on_a_one_node_slurm_train_the_shm_model_bitwise)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' '%s'", test_root_path("tests/slurm/run.sh"),
             test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 240); /* installing the packages included */
    if (o.status == 77) {
        fprintf(stderr, "\n  slurm test %s", o.out);
    } else {
        if (o.status)
            fprintf(stderr, "%s%s\n", o.out, o.err);
        CU_ASSERT_EQUAL(o.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "3 workers x mpi"));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "mpi under Slurm = lsgd run over shm, model.npy bitwise"));
        CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "sbatch job.sh (srun --mpi=pmix inside, 3 tasks): model.npy bitwise"));
    }
    test_output_free(&o);
}
