/*
 * transport_peer.h — the multi-process test program for transports.
 *
 * `unit_tests --transport-peer PLUGIN RANK WORLD RUN_ID PARAMS SCENARIO OUT`
 * runs one rank of a transport test (the unit test binary doubles as the
 * peer program, so no other binary has to be built): it opens the real
 * plugin from the build through the host's transport layer, runs SCENARIO
 * and exits 0 (all checks passed), 1 (transport failure, message on
 * stderr), 2 (bad input) or 3 (a result differed from the rank-ordered
 * reference).  Scenarios:
 *   collectives  allreduce_mean of N inputs chosen so summation order
 *                matters (checked bitwise against x₀ + x₁ + … then ÷ M),
 *                broadcast, barrier, allgather of opaque words (NaN, −0,
 *                subnormal bit patterns), iallreduce + wait; writes the mean
 *                to OUT
 *   die          the last rank SIGKILLs itself in the middle of allreduces
 *   open_only    open, barrier, close
 *   paused       open, sleep 1.5 s (time for a test to inject faults), collectives
 *   stopped_peer the last rank SIGSTOPs itself before an allreduce; rank 0,
 *                waiting there, SIGTERMs itself a second later and prints
 *                "allreduce_mean ended S s after SIGTERM"
 * Like a worker, a rank passes the host's stop request (info->stop), set
 * by SIGTERM, to the plugin.
 * RANK may be "env" (rank and world from mpirun's environment).
 * Environment: LSGD_PEER_N (vector length, default 300007).
 */
#ifndef LSGD_TEST_TRANSPORT_PEER_H
#define LSGD_TEST_TRANSPORT_PEER_H

#include <stddef.h>

enum { PEER_MAX = 8 };

typedef struct peer_run {
    int world;
    int status[PEER_MAX];     /* exit status, 128+signal, or -1 if never started */
    char *err[PEER_MAX];      /* stderr of each rank */
    double seconds;           /* until the last rank ended */
} peer_run;

/* Start ranks [0, started) of a world of `world` (ranks ≥ started never
 * arrive), wait at most timeout_s, kill what is left.  out_dir receives
 * out.<rank> files. */
void peer_spawn(peer_run *run, const char *plugin, int world, int started, const char *run_id,
                const char *params_json, const char *scenario, const char *out_dir,
                int timeout_s);
void peer_run_free(peer_run *run);

/* One rank alone: start it, and wait for it (status as above, *err its stderr). */
int peer_start(const char *plugin, int rank, int world, const char *run_id,
               const char *params_json, const char *scenario, const char *out_dir);
int peer_wait(int pid, const char *out_dir, int rank, int timeout_s, char **err);

/* The input x[n] of rank r in every scenario (seeded, so any process can
 * draw any rank's): magnitudes 2^-20..2^20 of both signs. */
void peer_input(float *x, size_t n, int rank);

/* The path of this test binary (for mpirun and scripts). */
const char *peer_self_exe(void);

/* A TCP port free right now on 127.0.0.1. */
int peer_free_port(void);

/* Segments named lsgd-<run_id> still in /dev/shm. */
int peer_shm_leftover(const char *run_id);

/* A run id of this test process: "<prefix>-<pid>-<tag>" (kept in a ring of
 * 8, so a test may hold a few at once). */
const char *peer_run_id(const char *prefix, const char *tag);

/* How many ranks of run did not exit 0; each one's status and stderr is
 * printed, after `label`. */
int peer_failed_ranks(const peer_run *run, const char *label);

#endif
