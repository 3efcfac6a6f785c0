/*
 * model_matrix.c — every convolutional model trains from its examples/
 * config under every scaling plugin `lsgd plugins list` shows (so a new
 * preconditioner is covered the day it is installed), and under every
 * transport: shm and zmq started by `lsgd run`, mpi under mpirun, each to
 * the same model bit for bit; and the torchscript plugin's transformer
 * example the same way.  Short runs on real MNIST (Fashion-MNIST for the
 * transformer): what is checked is
 * that the combination runs and its loss stays finite, not how well it
 * learns (cnn.c and torchscript.c check that).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_helpers.h"
#include "harness.h"
#include "transport_peer.h"

#define MATRIX_STEPS 8

/* Open MPI as root on 2 cores; no leak check under mpirun (see transport.c). */
static const char *mpirun_env =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
    "ASAN_OPTIONS=detect_leaks=0";

/* The names of the installed scaling plugins, from `lsgd plugins list`;
 * returns how many (at most cap). */
static size_t scaling_plugins(char names[][32], size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' plugins list", test_build_path("bin/lsgd"));
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL(o.status, 0);
    size_t n = 0;
    for (char *line = o.out; line && *line && n < cap;) {
        char kind[32], name[32];
        if (sscanf(line, "%31s %31s", kind, name) == 2 && strcmp(kind, "scaling") == 0)
            snprintf(names[n++], sizeof names[0], "%s", name);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    test_output_free(&o);
    return n;
}

/* `[launcher] lsgd run example` for MATRIX_STEPS steps into dir/out_name/out
 * with the extra --set options; 0 when it ran and its last train loss is
 * finite. */
static int train(const char *launcher, const char *example, const char *dir, const char *out_name,
                 const char *sets)
{
    char cmd[8192], run[4096];
    snprintf(run, sizeof run, "%s/%s", dir, out_name);
    snprintf(cmd, sizeof cmd,
             "cd %s && %s '%s' run %s --set output.dir=%s/out --set output.progress=none "
             "--set algorithm.steps=%d --set output.eval_every=%d --set algorithm.lr=0.01 %s",
             test_root_dir(), launcher, test_build_path("bin/lsgd"), example, run, MATRIX_STEPS,
             MATRIX_STEPS, sets);
    test_output o = test_run(cmd, 180);
    int failed = o.status != 0;
    if (failed)
        fprintf(stderr, "\n  %s\n  status %d: %s%s", cmd, o.status, o.out, o.err);
    test_output_free(&o);
    if (failed)
        return 1;
    double loss = last_value(run, "train_loss"); /* run/out/metrics.csv */
    if (!isfinite(loss))
        fprintf(stderr, "\n  %s: last train loss %g\n", cmd, loss);
    return !isfinite(loss);
}

static void every_scaling_plugin_trains(const char *example)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    char names[16][32];
    size_t n = scaling_plugins(names, 16);
    CU_ASSERT(n >= 6); /* sgd, adam, rmsprop, adagrad, oasis, yogi at least */
    const char *dir = test_tmpdir();
    for (size_t i = 0; i < n; i++) {
        char sets[128];
        snprintf(sets, sizeof sets, "--set scaling.plugin=%.31s", names[i]);
        if (train("", example, dir, names[i], sets))
            CU_FAIL(names[i]);
    }
}

static void every_transport_trains_to_one_model(const char *example)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_mnist(), 0);
    const char *dir = test_tmpdir();
    char zmq[256], mpi[512];
    snprintf(zmq, sizeof zmq,
             "--set transport.plugin=zmq --set transport.params.coordinator=tcp://127.0.0.1:%d",
             peer_free_port());
    snprintf(mpi, sizeof mpi, "%s mpirun -n 2", mpirun_env);
    CU_ASSERT_EQUAL(train("", example, dir, "shm", "--set transport.plugin=shm"), 0);
    CU_ASSERT_EQUAL(train("", example, dir, "zmq", zmq), 0);
    CU_ASSERT_EQUAL(train(mpi, example, dir, "mpi", "--set transport.plugin=mpi"), 0);
    const char *names[] = {"shm", "zmq", "mpi"};
    char *model[3];
    size_t size[3];
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/out/model.npy", dir, names[i]);
        model[i] = test_read_file(path, &size[i]);
    }
    CU_ASSERT_FATAL(model[0] && model[1] && model[2]);
    for (int i = 1; i < 3; i++) {
        CU_ASSERT(size[i] == size[0] && memcmp(model[i], model[0], size[0]) == 0);
        free(model[i]);
    }
    free(model[0]);
}

LSGD_TEST(model_matrix, the_lenet5_example_trains_under_every_installed_scaling_plugin)
{
    every_scaling_plugin_trains("examples/mnist_lenet5.json");
}

LSGD_TEST(model_matrix, the_lenet5_example_trains_to_one_model_bitwise_on_shm_zmq_and_mpi)
{
    every_transport_trains_to_one_model("examples/mnist_lenet5.json");
}

/* The torchscript plugin, with the transformer example (examples/models,
 * on Fashion-MNIST): ResNet-8's runs evaluate three times slower. */
LSGD_TEST(model_matrix, the_torchscript_transformer_example_trains_under_every_installed_scaling_plugin)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_data("fashion-mnist"), 0);
    every_scaling_plugin_trains("examples/fashion_mnist_transformer_torchscript.json");
}

LSGD_TEST(model_matrix, the_torchscript_transformer_example_trains_to_one_model_bitwise_on_shm_zmq_and_mpi)
{
    CU_ASSERT_EQUAL_FATAL(test_fetch_data("fashion-mnist"), 0);
    every_transport_trains_to_one_model("examples/fashion_mnist_transformer_torchscript.json");
}
