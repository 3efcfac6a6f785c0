/*
 * compressor_host.c — the host side of compressor plugins
 * (compressor_host.h): resolve by name, validate parameters, load, create,
 * and keep the buffers, state and round that the contract in
 * lsgd/compressor.h leaves to the host.
 */
#include "host/compressor_host.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ops_table.h"
#include "host/params.h"
#include "host/plugin_call.h"
#include "lsgd/transport.h"

/* ---- open / close ------------------------------------------------------- */

int lsgd_compressor_open(lsgd_compressor *c, const lsgd_registry *reg, const json_t *cfg,
                         const char *config_key, const lsgd_compressor_info *info,
                         lsgd_error *err)
{
    memset(c, 0, sizeof *c);
    const json_t *plugin = json_object_get(cfg, "plugin");
    if (!json_is_string(plugin))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.plugin: expected the name of a compressor plugin (e.g. \"int8\")",
                              config_key);
    const char *name = json_string_value(plugin);
    const lsgd_manifest *manifest;
    char key[256];
    snprintf(key, sizeof key, "%s.plugin", config_key);
    if (lsgd_registry_resolve(&manifest, reg, LSGD_KIND_COMPRESSOR, name, key, err))
        return err->code;
    snprintf(key, sizeof key, "%s.params", config_key);
    if (lsgd_params_validate(&c->params, manifest, json_object_get(cfg, "params"), key, err))
        return err->code;
    if (lsgd_plugin_load(&c->loaded, manifest, NULL, err)) {
        lsgd_compressor_close(c);
        return err->code;
    }
    lsgd_params_view(&c->view, c->params);
    snprintf(c->who, sizeof c->who, "%.32s: compressor plugin '%.64s' (%.256s)", config_key,
             name, manifest->library);
    int rc = lsgd_compressor_attach(c, c->loaded.plugin, &c->view, info, err);
    if (rc) {
        lsgd_compressor_close(c);
        return rc;
    }
    snprintf(c->who, sizeof c->who, "compressor plugin '%.64s'", name);
    return LSGD_OK;
}

void lsgd_compressor_close(lsgd_compressor *c)
{
    lsgd_compressor_detach(c);
    if (c->loaded.handle)
        lsgd_plugin_unload(&c->loaded);
    json_decref(c->params);
    memset(c, 0, sizeof *c);
}

/* ---- attach / detach ----------------------------------------------------- */

static int check_info(const lsgd_compressor_info *info, lsgd_error *err)
{
    if (info->dim == 0 || info->n_tensors == 0 || !info->tensors)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "compressor: a model of %zu parameters in %zu tensors; expected "
                              "at least 1 of each", info->dim, info->n_tensors);
    if (info->world < 1 || info->rank < 0 || info->rank >= info->world)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "compressor: rank %d of world %d",
                              info->rank, info->world);
    return LSGD_OK;
}

int lsgd_compressor_attach(lsgd_compressor *c, const lsgd_plugin *plugin,
                           const lsgd_params *params, const lsgd_compressor_info *info,
                           lsgd_error *err)
{
    if (plugin->kind != LSGD_KIND_COMPRESSOR || !plugin->ops)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "not a compressor plugin (kind %u, ops %s)",
                              plugin->kind, plugin->ops ? "set" : "NULL");
    if (lsgd_ops_valid(plugin, err) || check_info(info, err))
        return err->code;
    c->ops = plugin->ops;
    c->name = plugin->name;
    c->dim = info->dim;
    if (!c->who[0])
        snprintf(c->who, sizeof c->who, "compressor plugin '%.64s'", plugin->name);
    void *self = NULL;
    int rc = LSGD_PLUGIN_CALL(err, c->who, c->name, "create",
                              c->ops->create(&self, params, info, err));
    if (rc)
        return rc;
    c->self = self;
    c->max_bytes = c->ops->max_encoded_bytes(c->self);
    if (c->max_bytes == 0) {
        lsgd_compressor_detach(c);
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: max_encoded_bytes is 0", c->who);
    }
    if (LSGD_HAS_OP(c->ops, lsgd_compressor_ops, state_floats))
        c->state_count = c->ops->state_floats(c->self);
    c->state = c->state_count ? calloc(c->state_count, sizeof(float)) : NULL;
    c->scratch = calloc(c->dim, sizeof(float));
    if ((c->state_count && !c->state) || !c->scratch) {
        lsgd_compressor_detach(c);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory for %zu floats of state",
                              c->who, c->state_count);
    }
    return LSGD_OK;
}

void lsgd_compressor_detach(lsgd_compressor *c)
{
    if (c->ops && c->self)
        c->ops->destroy(c->self);
    free(c->state);
    free(c->scratch);
    c->self = NULL;
    c->state = c->scratch = NULL;
    c->ops = NULL;
}

/* ---- a round ------------------------------------------------------------- */

int lsgd_compressor_encode(lsgd_compressor *c, const float *in, void *bytes, size_t *size,
                           lsgd_error *err)
{
    size_t written = 0;
    char op[64];
    snprintf(op, sizeof op, "encode (round %llu)", (unsigned long long)c->round + 1);
    int rc = LSGD_PLUGIN_CALL(err, c->who, c->name, op,
                              c->ops->encode(c->self, c->state, in, c->round + 1, bytes,
                                             c->max_bytes, &written, err));
    if (rc)
        return rc;
    if (written == 0 || written > c->max_bytes)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "%s: encode wrote %zu bytes, outside 1 .. max_encoded_bytes %zu",
                              c->who, written, c->max_bytes);
    c->round++;
    *size = written;
    return LSGD_OK;
}

int lsgd_compressor_decode(lsgd_compressor *c, const void *bytes, size_t size, float *out,
                           lsgd_error *err)
{
    if (size == 0 || size > c->max_bytes)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: a payload of %zu bytes, outside 1 .. max_encoded_bytes %zu",
                              c->who, size, c->max_bytes);
    return LSGD_PLUGIN_CALL(err, c->who, c->name, "decode",
                            c->ops->decode(c->self, bytes, size, out, err));
}

int lsgd_compressor_mean(lsgd_compressor *c, float *out, const void *const *payloads,
                         const size_t *sizes, int M, lsgd_error *err)
{
    memset(out, 0, c->dim * sizeof *out);
    for (int r = 0; r < M; r++)
        if (lsgd_compressor_decode(c, payloads[r], sizes[r], out, err))
            return lsgd_error_prefix(err, "rank %d's payload: ", r);
    if (M == 1)
        return LSGD_OK;
    const float count = (float)M, inverse = 1.0f / count;
    if ((M & (M - 1)) == 0) /* as lsgd_mean_in_rank_order: s·(1/M) is s/M exactly */
        for (size_t i = 0; i < c->dim; i++)
            out[i] *= inverse;
    else
        for (size_t i = 0; i < c->dim; i++)
            out[i] /= count;
    return LSGD_OK;
}

int lsgd_compressor_feedback(lsgd_compressor *c, float *residual, const float *in,
                             const void *bytes, size_t size, lsgd_error *err)
{
    memset(c->scratch, 0, c->dim * sizeof *c->scratch);
    if (lsgd_compressor_decode(c, bytes, size, c->scratch, err))
        return err->code;
    for (size_t i = 0; i < c->dim; i++)
        residual[i] = in[i] - c->scratch[i];
    return LSGD_OK;
}

/* ---- the model's tensors ---------------------------------------------------- */

/* rows × cols of one "shape" array; 0 when it is not one. */
static int shape_of(size_t *rows, size_t *cols, const json_t *shape)
{
    size_t n = json_array_size(shape);
    if (n == 0)
        return 0;
    *rows = (size_t)json_integer_value(json_array_get(shape, 0));
    *cols = 1;
    for (size_t i = 1; i < n; i++) {
        json_int_t d = json_integer_value(json_array_get(shape, i));
        if (d <= 0 || (size_t)d > SIZE_MAX / *cols)
            return 0;
        *cols *= (size_t)d;
    }
    return *rows > 0 && json_is_integer(json_array_get(shape, 0));
}

int lsgd_compressor_tensors(lsgd_tensor_shape **out, size_t *count, const json_t *model,
                            size_t dim, lsgd_error *err)
{
    const json_t *tensors = json_object_get(model, "tensors");
    size_t n = json_array_size(tensors);
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory for %zu tensor shapes", n);
    if (n == 0) {
        (*out)[0] = (lsgd_tensor_shape){.offset = 0, .rows = dim, .cols = 1};
        *count = 1;
        return LSGD_OK;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(tensors, i);
        lsgd_tensor_shape *s = &(*out)[i];
        json_int_t offset = json_integer_value(json_object_get(t, "offset"));
        int ok = shape_of(&s->rows, &s->cols, json_object_get(t, "shape")) &&
                 (size_t)offset == at && s->rows <= (dim - at) / s->cols;
        if (!ok) {
            free(*out);
            *out = NULL;
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "model tensors[%zu]: expected a shape of positive sizes at "
                                  "offset %zu within the %zu parameters", i, at, dim);
        }
        s->offset = at;
        at += s->rows * s->cols;
    }
    if (at != dim) {
        free(*out);
        *out = NULL;
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model tensors cover %zu of the %zu parameters", at, dim);
    }
    *count = n;
    return LSGD_OK;
}
