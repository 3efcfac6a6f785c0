/*
 * model_plugin.c — a model plugin (lsgd/model.h) behind the engine's one
 * model interface (models/model.h): the adapter from the public ops to
 * lsgd_model_ops.
 *
 * Opening resolves model.plugin in the registry, validates model.params
 * against the manifest, loads the library (descriptor, ops table, hvp
 * against "provides"), creates the instance and checks what describe says
 * (tensors inside dim, not overlapping).  Each batch the engine draws (row
 * indices into the training set) is handed over as rows the plugin can
 * read without lsgd's data sets: dense rows gathered into a workspace, or
 * a CSR of the batch for sparse sets, and the labels.  The workspace grows
 * to the largest batch seen and is then reused, so a step allocates
 * nothing.  Every op is called through LSGD_PLUGIN_CALL, so a failure
 * names the plugin and the op.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/loader.h"
#include "host/params.h"
#include "host/plugin_call.h"
#include "lsgd/model.h"
#include "models/model_impl.h"
#include "util/limits.h"

typedef struct plugin_model {
    model_base base;        /* input and classes, for model_check_batch */
    lsgd_model_ops ops;     /* this instance's table: type is the plugin's name */
    lsgd_loaded loaded;
    const lsgd_model_plugin_ops *plugin;
    void *self;
    int created;
    json_t *params;         /* validated */
    lsgd_params view;
    char name[64];
    char who[96];           /* "model plugin 'lsq'" */
    lsgd_model_data data;
    const lsgd_model_tensor *tensors;
    size_t n_tensors;
    /* the batch as handed over; workspace grown to the largest batch */
    lsgd_model_batch batch;
    float *rows;            /* [cap_rows × d] dense rows, or [cap_nnz] CSR values */
    float *labels;          /* [cap_n] */
    size_t *row_ptr;        /* [cap_n + 1] */
    uint32_t *col;          /* [cap_nnz] */
    size_t cap_n, cap_values;
} plugin_model;

/* ---- batches ---- */

static int grow(plugin_model *pm, size_t n, size_t values, lsgd_error *err)
{
    if (n > pm->cap_n) {
        free(pm->labels);
        free(pm->row_ptr);
        pm->labels = malloc(n * sizeof *pm->labels);
        pm->row_ptr = malloc((n + 1) * sizeof *pm->row_ptr);
        pm->cap_n = pm->labels && pm->row_ptr ? n : 0;
    }
    if (values > pm->cap_values) {
        free(pm->rows);
        free(pm->col);
        pm->rows = malloc(values * sizeof *pm->rows);
        pm->col = malloc(values * sizeof *pm->col);
        pm->cap_values = pm->rows && pm->col ? values : 0;
    }
    if (pm->cap_n < n || pm->cap_values < values)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory for a batch of %zu rows",
                              pm->who, n);
    return LSGD_OK;
}

/* pm->batch ← the rows of b: gathered dense rows, or the batch's CSR. */
static int hand_over(plugin_model *pm, const lsgd_model *model, const lsgd_batch *b,
                     lsgd_error *err)
{
    if (model_check_batch(model, b, err))
        return err->code;
    const lsgd_dataset *set = b->set;
    size_t values = 0, d = set->d;
    if (set->X && __builtin_mul_overflow(b->n, d, &values))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: a batch of %zu × %zu is too large",
                              pm->who, b->n, d);
    for (size_t i = 0; !set->X && i < b->n; i++)
        values += set->row_ptr[b->rows[i] + 1] - set->row_ptr[b->rows[i]];
    if (grow(pm, b->n, values ? values : 1, err))
        return err->code;
    pm->batch.n = b->n;
    pm->batch.labels = pm->labels;
    for (size_t i = 0; i < b->n; i++)
        pm->labels[i] = set->y[b->rows[i]];
    if (set->X) {
        for (size_t i = 0; i < b->n; i++)
            memcpy(pm->rows + i * d, set->X + (size_t)b->rows[i] * d, d * sizeof *pm->rows);
        pm->batch.dense = pm->rows;
        pm->batch.row_ptr = NULL;
        pm->batch.col = NULL;
        pm->batch.val = NULL;
        return LSGD_OK;
    }
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        pm->row_ptr[i] = k;
        for (size_t j = set->row_ptr[b->rows[i]]; j < set->row_ptr[b->rows[i] + 1]; j++, k++) {
            pm->col[k] = set->col[j];
            pm->rows[k] = set->val[j];
        }
    }
    pm->row_ptr[b->n] = k;
    pm->batch.dense = NULL;
    pm->batch.row_ptr = pm->row_ptr;
    pm->batch.col = pm->col;
    pm->batch.val = pm->rows;
    return LSGD_OK;
}

/* ---- the ops the engine calls ---- */

static int adapter_loss_grad(lsgd_model *model, const float *x, const lsgd_batch *b,
                             double *loss, float *grad, lsgd_error *err)
{
    plugin_model *pm = model->impl;
    if (hand_over(pm, model, b, err))
        return err->code;
    return LSGD_PLUGIN_CALL(err, pm->who, pm->name, "loss_grad",
                            pm->plugin->loss_grad(pm->self, x, &pm->batch, loss, grad, err));
}

static int adapter_hvp(lsgd_model *model, const float *x, const lsgd_batch *b, const float *v,
                       float *out, lsgd_error *err)
{
    plugin_model *pm = model->impl;
    if (hand_over(pm, model, b, err))
        return err->code;
    return LSGD_PLUGIN_CALL(err, pm->who, pm->name, "hvp",
                            pm->plugin->hvp(pm->self, x, &pm->batch, v, out, err));
}

static int adapter_evaluate(lsgd_model *model, const float *x, const lsgd_batch *b,
                            double *loss, double *accuracy, lsgd_error *err)
{
    plugin_model *pm = model->impl;
    if (hand_over(pm, model, b, err))
        return err->code;
    return LSGD_PLUGIN_CALL(err, pm->who, pm->name, "evaluate",
                            pm->plugin->evaluate(pm->self, x, &pm->batch, loss, accuracy, err));
}

/* x₀ from the next number of the run's init stream (same seed, same x₀). */
static void adapter_init(const lsgd_model *model, float *x, lsgd_rng *rng)
{
    const plugin_model *pm = model->impl;
    pm->plugin->init(pm->self, x, lsgd_rng_next(rng));
}

static json_t *adapter_describe(const lsgd_model *model)
{
    const plugin_model *pm = model->impl;
    json_t *tensors = json_array();
    for (size_t k = 0; k < pm->n_tensors; k++) {
        const lsgd_model_tensor *t = &pm->tensors[k];
        json_t *shape = json_array();
        for (size_t r = 0; r < t->rank; r++)
            json_array_append_new(shape, json_integer((json_int_t)t->shape[r]));
        json_array_append_new(tensors, json_pack("{s:s, s:o, s:I}", "name", t->name, "shape",
                                                 shape, "offset", (json_int_t)t->offset));
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:i, s:o}", "type", pm->name, "plugin", pm->name,
                     "dim", (json_int_t)model->dim, "input", (json_int_t)pm->base.input,
                     "classes", pm->base.classes, "tensors", tensors);
}

static void adapter_destroy(lsgd_model *model)
{
    plugin_model *pm = model->impl;
    if (pm->created && pm->self)
        pm->plugin->destroy(pm->self);
    if (pm->loaded.handle)
        lsgd_plugin_unload(&pm->loaded);
    json_decref(pm->params);
    free(pm->rows);
    free(pm->labels);
    free(pm->row_ptr);
    free(pm->col);
    free(pm);
    model->impl = NULL;
}

/* ---- opening ---- */

static int tensor_size(size_t *size, const lsgd_model_tensor *t)
{
    *size = 1;
    for (size_t r = 0; r < t->rank; r++)
        if (__builtin_mul_overflow(*size, t->shape[r], size))
            return -1;
    return 0;
}

/* What describe said: 1 to 4096 named tensors of rank ≤ 4 inside [0, dim),
 * no two sharing a coordinate. */
static int check_tensors(const plugin_model *pm, size_t dim, lsgd_error *err)
{
    if (pm->n_tensors == 0 || pm->n_tensors > 4096 || !pm->tensors)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: describe gave %zu tensors; expected 1 to "
                              "4096", pm->who, pm->n_tensors);
    for (size_t k = 0; k < pm->n_tensors; k++) {
        const lsgd_model_tensor *t = &pm->tensors[k];
        size_t size, end;
        if (!t->name || !t->name[0] || t->rank > 4 || tensor_size(&size, t) ||
            __builtin_add_overflow(t->offset, size, &end) || end > dim)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s: describe's tensor %zu (%s) is not a named view of rank "
                                  "<= 4 inside the %zu parameters", pm->who, k,
                                  t->name && t->name[0] ? t->name : "no name", dim);
        for (size_t j = 0; j < k; j++) {
            size_t other;
            tensor_size(&other, &pm->tensors[j]);
            if (size && other && t->offset < pm->tensors[j].offset + other &&
                pm->tensors[j].offset < end)
                return lsgd_error_set(err, LSGD_ERR_INPUT,
                                      "%s: describe's tensors %s and %s overlap", pm->who,
                                      pm->tensors[j].name, t->name);
        }
    }
    return LSGD_OK;
}

/* A model plugin reads its options from model.params alone: a built-in
 * model's key beside model.plugin would be silently ignored. */
static int check_keys(const json_t *cfg, const char *name, lsgd_error *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)cfg, key, value) {
        if (strcmp(key, "plugin") != 0 && strcmp(key, "params") != 0)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "model.%s: an option of the built-in models; model plugin '%s' "
                                  "takes its options in model.params", key, name);
    }
    return LSGD_OK;
}

/* Manifest, parameters, library: everything before the plugin's create. */
static int load(plugin_model *pm, const json_t *cfg, const struct lsgd_registry *reg,
                lsgd_error *err)
{
    const json_t *plugin = json_object_get(cfg, "plugin");
    if (!json_is_string(plugin))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.plugin: expected the name of a model plugin");
    snprintf(pm->name, sizeof pm->name, "%s", json_string_value(plugin));
    snprintf(pm->who, sizeof pm->who, "model plugin '%s'", pm->name);
    if (check_keys(cfg, pm->name, err))
        return err->code;
    const lsgd_manifest *m;
    if (!reg)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.plugin: no plugins are known here");
    if (lsgd_registry_resolve(&m, reg, LSGD_KIND_MODEL, json_string_value(plugin),
                              "model.plugin", err) ||
        lsgd_params_validate(&pm->params, m, json_object_get(cfg, "params"), "model.params",
                             err) ||
        lsgd_params_check_files(m, pm->params, "model.params", err) ||
        lsgd_plugin_load(&pm->loaded, m, NULL, err))
        return err->code;
    pm->plugin = pm->loaded.plugin->ops;
    lsgd_params_view(&pm->view, pm->params);
    return LSGD_OK;
}

static int create(plugin_model *pm, lsgd_model *model, const lsgd_dataset *train,
                  lsgd_error *err)
{
    pm->data = (lsgd_model_data){.struct_size = sizeof pm->data, .samples = train->n,
                                 .features = train->d, .classes = train->classes};
    memcpy(pm->data.sample_shape, train->sample_shape, sizeof pm->data.sample_shape);
    pm->batch = (lsgd_model_batch){.struct_size = sizeof pm->batch, .features = train->d,
                                   .classes = train->classes};
    memcpy(pm->batch.sample_shape, train->sample_shape, sizeof pm->batch.sample_shape);
    size_t dim = 0;
    if (LSGD_PLUGIN_CALL(err, pm->who, pm->name, "create",
                         pm->plugin->create(&pm->self, &pm->view, &pm->data, &dim, err)))
        return err->code;
    pm->created = 1;
    if (dim == 0 || dim > LSGD_MAX_PARAMETERS)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: create gave a model of %zu parameters; expected 1 to lsgd's "
                              "limit of 2^28", pm->who, dim);
    pm->n_tensors = pm->plugin->describe(pm->self, &pm->tensors);
    if (check_tensors(pm, dim, err))
        return err->code;
    model->dim = dim;
    return LSGD_OK;
}

int lsgd_model_plugin_open(lsgd_model **out, const json_t *cfg, const lsgd_dataset *train,
                           const struct lsgd_registry *reg, lsgd_error *err)
{
    *out = NULL;
    lsgd_model *model = calloc(1, sizeof *model);
    plugin_model *pm = calloc(1, sizeof *pm);
    if (!model || !pm) {
        free(model);
        free(pm);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model: out of memory");
    }
    pm->ops = (lsgd_model_ops){.type = pm->name, .loss_grad = adapter_loss_grad,
                               .evaluate = adapter_evaluate, .init = adapter_init,
                               .describe = adapter_describe, .destroy = adapter_destroy};
    model->ops = &pm->ops;
    model->impl = pm;
    int rc = load(pm, cfg, reg, err);
    if (rc == LSGD_OK && !train)
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "model.plugin: '%s' learns from data; expected data.train", pm->name);
    if (rc == LSGD_OK) {
        pm->base.input = train->d;
        pm->base.classes = train->classes;
        rc = create(pm, model, train, err);
    }
    if (rc != LSGD_OK) {
        lsgd_model_destroy(model);
        return rc;
    }
    if (LSGD_HAS_OP(pm->plugin, lsgd_model_plugin_ops, hvp))
        pm->ops.hvp = adapter_hvp;
    *out = model;
    return LSGD_OK;
}
