/*
 * models.c — speed of the models and data loaders, one "name value" line
 * per figure (tools/benchmarks/models.sh runs it once per OpenBLAS kernel
 * and prints the runs side by side):
 *
 *   MNIST load time (60,000 training images, IDX)
 *   MNIST MLP 784-256-10, batch 64: a training step (loss_grad) against the
 *     time of its own five sgemm calls measured alone in the same run, the
 *     FLOP rate OpenBLAS reaches on those shapes, gradient time per sample,
 *     and HVP cost as a multiple of the gradient's
 *   logreg on sparse LIBSVM sets (heart_scale, and a generated 20,000 ×
 *     100,000 set with 50 non-zeros per row): gradient time per sample and
 *     per non-zero, HVP multiple
 *   with --torchscript RESNET8_PT (tools/export-model resnet8): the torchscript
 *     model plugin's ResNet-8 training step (loss and gradient by libtorch's
 *     autograd) and HVP on a batch of 64 CIFAR-10-shaped images, one thread
 *     (tools/benchmarks/models.py measures PyTorch eager on the same network)
 *
 * usage: models MNIST_DIR HEART_SCALE_PATH | models --torchscript RESNET8_PT
 *      | models --preferred-core
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/dataset.h"
#include "host/registry.h"
#include "models/blas.h"
#include "models/model.h"
#include "util/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const lsgd_error *err)
{
    fprintf(stderr, "bench models: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

/* ---- timing ----
 * The machine is shared, so figures that are compared (a step and its
 * sgemm calls, a gradient and an HVP) are measured interleaved: each of
 * `repeats` rounds times `reps` calls of every work in turn, and each
 * work keeps its best round's mean. */

typedef void (*work_fn)(void *ctx, int i);

typedef struct timed_work {
    work_fn fn;
    void *ctx;
    double best; /* seconds per call */
} timed_work;

static void time_interleaved(timed_work *works, int n, int reps, int repeats)
{
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < reps / 4 + 1; i++) /* warm up */
            works[k].fn(works[k].ctx, i);
        works[k].best = INFINITY;
    }
    for (int r = 0; r < repeats; r++)
        for (int k = 0; k < n; k++) {
            double t = now();
            for (int i = 0; i < reps; i++)
                works[k].fn(works[k].ctx, i);
            t = (now() - t) / reps;
            works[k].best = t < works[k].best ? t : works[k].best;
        }
}

/* ---- models on batches ---- */

typedef struct model_ctx {
    lsgd_model *model;
    float *x, *grad, *v, *out;
    lsgd_batch batch;
    uint32_t *rows; /* [n_batches * batch] random rows */
    size_t batch_n, n_batches;
    lsgd_rng rng;
} model_ctx;

static void step_batch(model_ctx *c, int i)
{
    c->batch.rows = c->rows + (size_t)(i % (int)c->n_batches) * c->batch_n;
}

static void grad_work(void *ctx, int i)
{
    model_ctx *c = ctx;
    double loss;
    lsgd_error err;
    step_batch(c, i);
    if (c->model->ops->loss_grad(c->model, c->x, &c->batch, &loss, c->grad, &err) != LSGD_OK)
        die("loss_grad", &err);
}

static void hvp_work(void *ctx, int i)
{
    model_ctx *c = ctx;
    lsgd_error err;
    step_batch(c, i);
    if (c->model->ops->hvp(c->model, c->x, &c->batch, c->v, c->out, &err) != LSGD_OK)
        die("hvp", &err);
}

/* reg: NULL for a built-in model type, the registry for a model plugin */
static void model_ctx_init(model_ctx *c, const char *json, const lsgd_dataset *set,
                           size_t batch_n, size_t n_batches, const lsgd_registry *reg)
{
    json_t *cfg = json_loads(json, 0, NULL);
    lsgd_error err;
    if ((reg ? lsgd_model_open(&c->model, cfg, set, reg, &err)
             : lsgd_model_create(&c->model, cfg, set, &err)) != LSGD_OK)
        die("model", &err);
    json_decref(cfg);
    size_t dim = c->model->dim;
    c->x = malloc(dim * sizeof *c->x);
    c->grad = malloc(dim * sizeof *c->grad);
    c->v = malloc(dim * sizeof *c->v);
    c->out = malloc(dim * sizeof *c->out);
    lsgd_rng_seed(&c->rng, 1, 0);
    c->model->ops->init(c->model, c->x, &c->rng);
    for (size_t i = 0; i < dim; i++) {
        c->x[i] += (float)(0.01 * lsgd_rng_normal(&c->rng));
        c->v[i] = lsgd_rng_uniform(&c->rng) < 0.5 ? -1.0f : 1.0f; /* Rademacher, as OASIS */
    }
    c->batch_n = batch_n;
    c->n_batches = n_batches;
    c->rows = malloc(batch_n * n_batches * sizeof *c->rows);
    for (size_t i = 0; i < batch_n * n_batches; i++)
        c->rows[i] = (uint32_t)lsgd_rng_below(&c->rng, set->n);
    c->batch = (lsgd_batch){set, c->rows, batch_n, &c->rng};
}

static void model_ctx_free(model_ctx *c)
{
    lsgd_model_destroy(c->model);
    free(c->x);
    free(c->grad);
    free(c->v);
    free(c->out);
    free(c->rows);
}

/* ---- the MLP step's own sgemm calls, alone ---- */

typedef struct sgemm_ctx {
    float *X, *W1, *A1, *W2, *A2, *dA2, *dW2, *dH1, *dW1;
    int B, D, H, C;
} sgemm_ctx;

/* Exactly the products mlp.c makes for 784-256-10 on a batch: forward
 * X·W1ᵀ, H1·W2ᵀ; backward dA2ᵀ·H1, dA2·W2, dA1ᵀ·X. */
static void sgemm_work(void *ctx, int i)
{
    sgemm_ctx *s = ctx;
    int B = s->B, D = s->D, H = s->H, C = s->C;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, D, 1, s->X, D, s->W1, D, 0, s->A1, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, C, H, 1, s->A1, H, s->W2, H, 0, s->A2, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, H, B, 1, s->dA2, C, s->A1, H, 0, s->dW2, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, C, 1, s->dA2, C, s->W2, H, 0, s->dH1, H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, D, B, 1, s->dH1, H, s->X, D, 0, s->dW1, D);
}

static float *filled(size_t n, lsgd_rng *rng)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(lsgd_rng_uniform(rng) - 0.5);
    return a;
}

static void sgemm_setup(sgemm_ctx *s, int B, int D, int H, int C, double *flops)
{
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 3, 0);
    *s = (sgemm_ctx){filled((size_t)B * D, &rng), filled((size_t)H * D, &rng),
                     filled((size_t)B * H, &rng), filled((size_t)C * H, &rng),
                     filled((size_t)B * C, &rng), filled((size_t)B * C, &rng),
                     filled((size_t)C * H, &rng), filled((size_t)B * H, &rng),
                     filled((size_t)H * D, &rng), B, D, H, C};
    *flops = 2.0 * ((double)B * H * D * 2 + (double)B * C * H * 3);
}

static void sgemm_free(sgemm_ctx *s)
{
    float *bufs[] = {s->X, s->W1, s->A1, s->W2, s->A2, s->dA2, s->dW2, s->dH1, s->dW1};
    for (int k = 0; k < 9; k++)
        free(bufs[k]);
}

/* ---- data ---- */

static lsgd_dataset *load_json(const char *json, double *seconds)
{
    json_t *cfg = json_loads(json, 0, NULL);
    lsgd_dataset *set;
    lsgd_error err;
    double t = now();
    if (lsgd_dataset_load(&set, cfg, "data.train", 0, 1, &err) != LSGD_OK)
        die("load", &err);
    *seconds = now() - t;
    json_decref(cfg);
    return set;
}

/* A LIBSVM text file of n rows × d features, nnz_row sorted distinct indices per row. */
static void write_sparse_libsvm(const char *path, size_t n, size_t d, size_t nnz_row)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, NULL);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 11, 0);
    uint32_t *idx = malloc(nnz_row * sizeof *idx);
    for (size_t i = 0; i < n; i++) {
        size_t stride = d / nnz_row; /* one index per stride: sorted and distinct */
        double margin = 0;
        for (size_t k = 0; k < nnz_row; k++)
            idx[k] = (uint32_t)(k * stride + lsgd_rng_below(&rng, stride) + 1);
        for (size_t k = 0; k < nnz_row; k++)
            margin += (idx[k] % 7 == 0) ? 1 : -0.15;
        fprintf(f, "%s", margin > 0 ? "+1" : "-1");
        for (size_t k = 0; k < nnz_row; k++)
            fprintf(f, " %u:%.4f", idx[k], lsgd_rng_uniform(&rng));
        fputc('\n', f);
    }
    free(idx);
    fclose(f);
}

static void mnist_figures(const char *mnist_dir)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"format\":\"idx\",\"images\":\"%s/train-images-idx3-ubyte\","
             "\"labels\":\"%s/train-labels-idx1-ubyte\"}",
             mnist_dir, mnist_dir);
    double load_s;
    lsgd_dataset *mnist = load_json(json, &load_s);
    lsgd_error err;
    double t = now();
    lsgd_dataset_normalize(mnist, NULL, "unit", &err);
    printf("mnist_load_s %.3f\n", load_s);
    printf("mnist_normalize_s %.3f\n", now() - t);

    model_ctx c;
    model_ctx_init(&c, "{\"type\":\"mlp\",\"hidden\":[256]}", mnist, 64, 256, NULL);
    sgemm_ctx s;
    double flops;
    sgemm_setup(&s, 64, 784, 256, 10, &flops);
    timed_work works[3] = {{grad_work, &c, 0}, {sgemm_work, &s, 0}, {hvp_work, &c, 0}};
    time_interleaved(works, 3, 200, 15);
    double step = works[0].best, sgemm = works[1].best, hvp = works[2].best;
    sgemm_free(&s);
    printf("mlp_step_ms %.4f\n", step * 1e3);
    printf("mlp_sgemm_alone_ms %.4f\n", sgemm * 1e3);
    printf("mlp_step_over_sgemm %.3f\n", step / sgemm);
    printf("mlp_sgemm_gflops %.1f\n", flops / sgemm * 1e-9);
    printf("mlp_grad_us_per_sample %.3f\n", step / 64 * 1e6);
    printf("mlp_grad_gflops %.1f\n", flops / step * 1e-9);
    printf("mlp_hvp_ms %.4f\n", hvp * 1e3);
    printf("mlp_hvp_over_grad %.3f\n", hvp / step);
    model_ctx_free(&c);
    lsgd_dataset_free(mnist);
}

static void logreg_figures(const char *name, lsgd_dataset *set, size_t batch_n)
{
    model_ctx c;
    model_ctx_init(&c, "{\"type\":\"logreg\"}", set, batch_n, 64, NULL);
    timed_work works[2] = {{grad_work, &c, 0}, {hvp_work, &c, 0}};
    time_interleaved(works, 2, batch_n >= 1000 ? 10 : 1000, 9);
    double grad = works[0].best, hvp = works[1].best;
    size_t nnz = 0;
    for (size_t i = 0; i < batch_n * 64; i++)
        nnz += set->row_ptr[c.rows[i] + 1] - set->row_ptr[c.rows[i]];
    double nnz_per_batch = (double)nnz / 64;
    printf("%s_grad_us_per_sample %.4f\n", name, grad / (double)batch_n * 1e6);
    printf("%s_grad_ns_per_nonzero %.3f\n", name, grad / nnz_per_batch * 1e9);
    printf("%s_grad_gflops %.2f\n", name, 4 * nnz_per_batch / grad * 1e-9); /* dot + axpy */
    printf("%s_hvp_over_grad %.3f\n", name, hvp / grad);
    model_ctx_free(&c);
}

/* A CIFAR-10 binary batch of n random images (label byte + 3072 pixel bytes). */
static void write_cifar10(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die(path, NULL);
    lsgd_rng rng;
    lsgd_rng_seed(&rng, 13, 0);
    unsigned char record[3073];
    for (size_t i = 0; i < n; i++) {
        record[0] = (unsigned char)(i % 10);
        for (size_t k = 1; k < sizeof record; k++)
            record[k] = (unsigned char)lsgd_rng_below(&rng, 256);
        fwrite(record, 1, sizeof record, f);
    }
    fclose(f);
}

/* The torchscript plugin's ResNet-8 (the .pt at pt_path), batch 64 of
 * CIFAR-10-shaped images: a training step (loss_grad) and the HVP. */
static void torchscript_figures(const char *pt_path)
{
    char dir[] = "/tmp/lsgd-bench-models-XXXXXX", path[64], json[4096];
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(path, sizeof path, "%s/data_batch_1.bin", dir);
    write_cifar10(path, 1024);
    snprintf(json, sizeof json, "{\"format\":\"cifar10\",\"files\":[\"%s\"]}", path);
    double load_s;
    lsgd_dataset *set = load_json(json, &load_s);
    lsgd_error err;
    if (lsgd_dataset_normalize(set, NULL, "unit", &err) != LSGD_OK)
        die("normalize", &err);
    unlink(path);
    rmdir(dir);
    lsgd_registry reg;
    if (lsgd_registry_discover(&reg, NULL, &err) != LSGD_OK)
        die("plugins", &err);
    snprintf(json, sizeof json, "{\"plugin\":\"torchscript\",\"params\":{\"file\":\"%s\"}}",
             pt_path);
    model_ctx c;
    model_ctx_init(&c, json, set, 64, 16, &reg);
    timed_work works[2] = {{grad_work, &c, 0}, {hvp_work, &c, 0}};
    time_interleaved(works, 2, 5, 7);
    printf("torchscript_resnet8_step_ms %.3f\n", works[0].best * 1e3);
    printf("torchscript_resnet8_hvp_ms %.3f\n", works[1].best * 1e3);
    model_ctx_free(&c);
    lsgd_registry_free(&reg);
    lsgd_dataset_free(set);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--torchscript") == 0) {
        torchscript_figures(argv[2]);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--preferred-core") == 0) {
        printf("%s\n", lsgd_blas_preferred_core() ? lsgd_blas_preferred_core() : "none");
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s MNIST_DIR HEART_SCALE_PATH\n", argv[0]);
        return 2;
    }
    const char *preferred = lsgd_blas_preferred_core();
    printf("openblas_core %s\n", lsgd_blas_core_in_use());
    printf("lsgd_preferred_core %s\n", preferred ? preferred : "none");
    mnist_figures(argv[1]);

    char json[4096];
    double load_s;
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}", argv[2]);
    lsgd_dataset *heart = load_json(json, &load_s);
    logreg_figures("heart_logreg", heart, 64);
    lsgd_dataset_free(heart);

    char dir[] = "/tmp/lsgd-bench-models-XXXXXX", path[64];
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(path, sizeof path, "%s/sparse.svm", dir);
    write_sparse_libsvm(path, 20000, 100000, 50);
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}", path);
    lsgd_dataset *sparse = load_json(json, &load_s);
    printf("sparse_libsvm_load_s %.3f\n", load_s);
    logreg_figures("sparse_logreg_b64", sparse, 64);
    logreg_figures("sparse_logreg_b20000", sparse, 20000);
    lsgd_dataset_free(sparse);
    unlink(path);
    rmdir(dir);
    return 0;
}
