/*
 * compression.c — compressed averaging (compression.h): the pseudo-
 * gradient, corrected by the error-feedback residual (EF) or EF21's
 * estimate, encoded by the compressor plugin, gathered from every worker,
 * decoded and summed in rank order.
 */
#include "engine/compression.h"

#include <stdlib.h>
#include <string.h>

#include "host/compressor_host.h"
#include "host/gather.h"

enum feedback { NO_FEEDBACK, EF, EF21 };

struct lsgd_compression {
    lsgd_compressor codec;
    int rank, world;
    enum feedback feedback;
    size_t dim;
    float *base;             /* [dim] x̄ of the last average */
    float *residual;         /* [dim] EF: e_m (zero without feedback); EF21: g_m */
    float *aggregate;        /* [dim] EF21: G, the mean of the g_m; NULL otherwise */
    float *v;                /* [dim] this round's Δ + e (EF21: Δ − g_m) */
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
    c->aggregate = c->feedback == EF21 ? calloc(c->dim, sizeof(float)) : NULL;
    c->v = calloc(c->dim, sizeof(float));
    c->mine = malloc(c->codec.max_bytes);
    c->gathered = slot <= SIZE_MAX / sizeof(float) / (size_t)c->world
                      ? calloc((size_t)c->world * slot, sizeof(float)) : NULL;
    c->payloads = calloc((size_t)c->world, sizeof *c->payloads);
    c->sizes = calloc((size_t)c->world, sizeof *c->sizes);
    if (!c->base || !c->residual || !c->v || !c->mine || !c->gathered || !c->payloads ||
        !c->sizes || (c->feedback == EF21 && !c->aggregate))
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
    const json_t *feedback = json_object_get(section, "error_feedback");
    *c = (lsgd_compression){.rank = rank, .world = world, .dim = model->dim,
                            .feedback = json_is_true(feedback) ? EF
                                        : json_is_string(feedback) ? EF21 : NO_FEEDBACK};
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
    free(c->aggregate);
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

/* This worker's payload of the round, from its model x[dim], into mine:
 * EF or none  v = Δ + e,  e ← v − D(E(v));   EF21  v = Δ − g_m,  g_m += D(E(v)). */
static int encode_change(lsgd_compression *c, const float *x, size_t *size, lsgd_error *err)
{
    const float sign = c->feedback == EF21 ? -1.0f : 1.0f;
    for (size_t i = 0; i < c->dim; i++)
        c->v[i] = (x[i] - c->base[i]) + sign * c->residual[i];
    if (lsgd_compressor_encode(&c->codec, c->v, c->mine, size, err))
        return err->code;
    if (c->feedback == EF21)
        return lsgd_compressor_decode(&c->codec, c->mine, *size, c->residual, err);
    if (c->feedback == EF)
        return lsgd_compressor_feedback(&c->codec, c->residual, c->v, c->mine, *size, err);
    return LSGD_OK;
}

/* x[dim] ← x̄ + the mean of every worker's decoded payload, in rank order
 * (EF21: G += that mean, x = x̄ + G). */
static int apply_mean(lsgd_compression *c, float *x, lsgd_error *err)
{
    if (lsgd_compressor_mean(&c->codec, x, c->payloads, c->sizes, c->world, err))
        return err->code;
    if (c->aggregate)
        for (size_t i = 0; i < c->dim; i++) {
            c->aggregate[i] += x[i];
            x[i] = c->base[i] + c->aggregate[i];
        }
    else
        for (size_t i = 0; i < c->dim; i++)
            x[i] += c->base[i];
    return LSGD_OK;
}

int lsgd_compression_average(lsgd_compression *c, lsgd_transport *t, float *x, lsgd_error *err)
{
    size_t size;
    if (encode_change(c, x, &size, err) ||
        lsgd_gather_bytes(t, c->rank, c->world, c->mine, size, c->codec.max_bytes, c->gathered,
                          c->payloads, c->sizes, err))
        return err->code;
    return apply_mean(c, x, err);
}

int lsgd_compression_post(lsgd_compression *c, const float *anchor, const float *post,
                          float **parts, size_t *part_floats, lsgd_error *err)
{
    lsgd_compression_rebase(c, anchor);
    size_t size;
    if (encode_change(c, post, &size, err))
        return err->code;
    lsgd_gather_pack(c->gathered, c->rank, c->mine, size, c->codec.max_bytes);
    *parts = c->gathered;
    *part_floats = lsgd_gather_slot_floats(c->codec.max_bytes);
    return LSGD_OK;
}

int lsgd_compression_collect(lsgd_compression *c, float *x, lsgd_error *err)
{
    if (lsgd_gather_unpack(c->gathered, c->world, c->codec.max_bytes, c->payloads, c->sizes, err))
        return err->code;
    return apply_mean(c, x, err);
}

size_t lsgd_compression_records(const lsgd_compression *c, lsgd_record *out)
{
    if (!c)
        return 0;
    size_t n = 0, vec = c->dim * sizeof(float);
    out[n++] = (lsgd_record){"compression.base", c->base, vec};
    out[n++] = (lsgd_record){"compression.residual", c->residual, vec};
    if (c->aggregate)
        out[n++] = (lsgd_record){"compression.aggregate", c->aggregate, vec};
    out[n++] = (lsgd_record){"compression.round", (void *)&c->codec.round, sizeof c->codec.round};
    if (c->codec.state_count)
        out[n++] = (lsgd_record){"compression.state", c->codec.state,
                                 c->codec.state_count * sizeof(float)};
    return n;
}
