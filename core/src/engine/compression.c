/*
 * compression.c — compressed averaging (compression.h): the pseudo-
 * gradient plus the error-feedback residual encoded by the compressor
 * plugin, gathered from every worker, decoded and summed in rank order.
 */
#include "engine/compression.h"

#include <stdlib.h>
#include <string.h>

#include "host/compressor_host.h"
#include "host/gather.h"

struct lsgd_compression {
    lsgd_compressor codec;
    int rank, world, error_feedback;
    size_t dim;
    float *base;             /* [dim] x̄ of the last average */
    float *residual;         /* [dim] e, zero without feedback */
    float *v;                /* [dim] this round's Δ + e */
    unsigned char *mine;     /* [max_bytes] this worker's payload */
    float *gathered;         /* [world × slot] every worker's */
    const void **payloads;   /* [world] */
    size_t *sizes;           /* [world] */
};

int lsgd_compression_refuse(const json_t *cfg, const char *algorithm, const char *why,
                            lsgd_error *err)
{
    if (!json_is_object(json_object_get(cfg, "compression")))
        return LSGD_OK;
    return lsgd_error_set(err, LSGD_ERR_INPUT, "compression: %s %s", algorithm, why);
}

static int allocate(lsgd_compression *c, lsgd_error *err)
{
    size_t slot = lsgd_gather_slot_floats(c->codec.max_bytes);
    c->base = calloc(c->dim, sizeof(float));
    c->residual = calloc(c->dim, sizeof(float));
    c->v = calloc(c->dim, sizeof(float));
    c->mine = malloc(c->codec.max_bytes);
    c->gathered = slot <= SIZE_MAX / sizeof(float) / (size_t)c->world
                      ? calloc((size_t)c->world * slot, sizeof(float)) : NULL;
    c->payloads = calloc((size_t)c->world, sizeof *c->payloads);
    c->sizes = calloc((size_t)c->world, sizeof *c->sizes);
    if (!c->base || !c->residual || !c->v || !c->mine || !c->gathered || !c->payloads ||
        !c->sizes)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "compression: out of memory for %d payloads of %zu bytes",
                              c->world, c->codec.max_bytes);
    return LSGD_OK;
}

int lsgd_compression_open(lsgd_compression **out, const json_t *cfg, const lsgd_registry *reg,
                          const lsgd_model *model, uint64_t seed, int rank, int world,
                          lsgd_error *err)
{
    *out = NULL;
    const json_t *section = json_object_get(cfg, "compression");
    if (!section)
        return LSGD_OK;
    json_t *described = model->ops->describe ? model->ops->describe(model) : NULL;
    lsgd_tensor_shape *tensors;
    size_t n;
    int rc = lsgd_compressor_tensors(&tensors, &n, described, model->dim, err);
    json_decref(described);
    if (rc)
        return rc;
    lsgd_compression *c = calloc(1, sizeof *c);
    if (!c) {
        free(tensors);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "compression: out of memory");
    }
    *c = (lsgd_compression){.rank = rank, .world = world, .dim = model->dim,
                            .error_feedback = json_is_true(json_object_get(section,
                                                                           "error_feedback"))};
    lsgd_compressor_info info = {.struct_size = sizeof info, .dim = model->dim, .seed = seed,
                                 .rank = rank, .world = world, .tensors = tensors,
                                 .n_tensors = n};
    rc = lsgd_compressor_open(&c->codec, reg, section, "compression", &info, err);
    free(tensors);
    if (!rc)
        rc = allocate(c, err);
    if (rc) {
        lsgd_compression_close(c);
        return rc;
    }
    *out = c;
    return LSGD_OK;
}

void lsgd_compression_close(lsgd_compression *c)
{
    if (!c)
        return;
    if (c->codec.ops)
        lsgd_compressor_close(&c->codec);
    free(c->base);
    free(c->residual);
    free(c->v);
    free(c->mine);
    free(c->gathered);
    free(c->payloads);
    free(c->sizes);
    free(c);
}

void lsgd_compression_rebase(lsgd_compression *c, const float *x)
{
    memcpy(c->base, x, c->dim * sizeof *x);
}

int lsgd_compression_average(lsgd_compression *c, lsgd_transport *t, float *x, lsgd_error *err)
{
    for (size_t i = 0; i < c->dim; i++)
        c->v[i] = (x[i] - c->base[i]) + c->residual[i];
    size_t size;
    if (lsgd_compressor_encode(&c->codec, c->v, c->mine, &size, err) ||
        (c->error_feedback &&
         lsgd_compressor_feedback(&c->codec, c->residual, c->v, c->mine, size, err)) ||
        lsgd_gather_bytes(t, c->rank, c->world, c->mine, size, c->codec.max_bytes, c->gathered,
                          c->payloads, c->sizes, err) ||
        lsgd_compressor_mean(&c->codec, x, c->payloads, c->sizes, c->world, err))
        return err->code;
    for (size_t i = 0; i < c->dim; i++)
        x[i] += c->base[i];
    return LSGD_OK;
}

size_t lsgd_compression_records(const lsgd_compression *c, lsgd_record *out)
{
    if (!c)
        return 0;
    size_t n = 0, vec = c->dim * sizeof(float);
    out[n++] = (lsgd_record){"compression.base", c->base, vec};
    out[n++] = (lsgd_record){"compression.residual", c->residual, vec};
    out[n++] = (lsgd_record){"compression.round", (void *)&c->codec.round, sizeof c->codec.round};
    if (c->codec.state_count)
        out[n++] = (lsgd_record){"compression.state", c->codec.state,
                                 c->codec.state_count * sizeof(float)};
    return n;
}
