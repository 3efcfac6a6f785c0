/*
 * model.c — building a model from the config's `model` object, and what all
 * models share: initial parameters, model.json's description, L2 on the
 * weights, and checking that a batch fits the model.
 */
#include "models/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/registry.h"
#include "util/limits.h"

size_t model_add_tensor(model_base *base, const char *name, size_t rows, size_t cols,
                        int is_bias, size_t offset)
{
    model_tensor *t = &base->tensors[base->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->offset = offset;
    t->fan_in = cols ? cols : rows;
    t->fan_out = cols ? rows : 1;
    t->is_bias = is_bias;
    size_t size, end;
    if (__builtin_mul_overflow(rows, cols ? cols : 1, &size) ||
        __builtin_add_overflow(offset, size, &end))
        return SIZE_MAX;
    return end;
}

void model_base_free(model_base *base)
{
    free(base->init.value);
    base->init.value = NULL;
}

int model_bias_option(const json_t *cfg)
{
    json_t *v = json_object_get(cfg, "bias");
    return json_is_boolean(v) ? json_is_true(v) : 1;
}

double model_l2_option(const json_t *cfg)
{
    json_t *v = json_object_get(cfg, "l2");
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* ---- initial parameters ---- */

static double default_scale(const char *type)
{
    return strcmp(type, "normal") == 0 || strcmp(type, "uniform") == 0 ? 0.01 : 1.0;
}

static int parse_init_value(model_init *init, const json_t *value, size_t dim, lsgd_error *err)
{
    size_t n = json_is_array(value) ? json_array_size(value) : json_is_number(value) ? 1 : 0;
    if (n != 1 && n != dim)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.init.value: %zu numbers; expected 1 (for every parameter) "
                              "or %zu (the model's dimension)",
                              n, dim);
    init->value = malloc(n * sizeof *init->value);
    if (!init->value)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model.init: out of memory");
    init->n_value = n;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_is_array(value) ? json_array_get(value, i) : (json_t *)value;
        if (!json_is_number(item))
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "model.init.value[%zu]: not a number; expected numbers", i);
        init->value[i] = (float)json_number_value(item);
    }
    return LSGD_OK;
}

/* cfg's "init" over the model's default (already in base->init.type). */
static int parse_init(model_base *base, const json_t *cfg, size_t dim, lsgd_error *err)
{
    model_init *init = &base->init;
    json_t *spec = json_object_get(cfg, "init");
    json_t *type = json_object_get(spec, "type");
    if (json_is_string(type))
        snprintf(init->type, sizeof init->type, "%s", json_string_value(type));
    const char *known[] = {"zeros", "normal", "uniform", "he", "xavier", "value"};
    int found = 0;
    for (int k = 0; k < 6; k++)
        found |= strcmp(init->type, known[k]) == 0;
    if (!found)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.init.type: '%s'; expected zeros, normal, uniform, he, "
                              "xavier or value",
                              init->type);
    json_t *scale = json_object_get(spec, "scale");
    init->scale = json_is_number(scale) ? json_number_value(scale) : default_scale(init->type);
    if (!(init->scale > 0))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.init.scale: %g; expected > 0",
                              init->scale);
    json_t *value = json_object_get(spec, "value");
    if (value) {
        free(init->value);
        init->value = NULL;
        return parse_init_value(init, value, dim, err);
    }
    if (strcmp(init->type, "value") == 0 && !init->value)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.init.value: missing; init type \"value\" needs 1 or %zu "
                              "numbers",
                              dim);
    return LSGD_OK;
}

static void init_tensor(float *w, const model_tensor *t, const model_init *init, lsgd_rng *rng)
{
    size_t n = t->rows * (t->cols ? t->cols : 1);
    const char *type = init->type;
    if (t->is_bias || strcmp(type, "zeros") == 0) {
        memset(w, 0, n * sizeof *w);
    } else if (strcmp(type, "normal") == 0 || strcmp(type, "he") == 0) {
        double sd = init->scale * (type[0] == 'h' ? sqrt(2.0 / (double)t->fan_in) : 1.0);
        for (size_t i = 0; i < n; i++)
            w[i] = (float)(sd * lsgd_rng_normal(rng));
    } else { /* uniform, xavier: U(−a, a) */
        double a = init->scale * (type[0] == 'x' ? sqrt(6.0 / (double)(t->fan_in + t->fan_out))
                                                 : 1.0);
        for (size_t i = 0; i < n; i++)
            w[i] = (float)(a * (2.0 * lsgd_rng_uniform(rng) - 1.0));
    }
}

void model_init_params(const lsgd_model *model, float *x, lsgd_rng *rng)
{
    const model_base *base = model->impl;
    const model_init *init = &base->init;
    if (strcmp(init->type, "value") == 0) {
        for (size_t i = 0; i < model->dim; i++)
            x[i] = init->n_value == 1 ? init->value[0] : init->value[i];
        return;
    }
    for (int k = 0; k < base->n_tensors; k++)
        init_tensor(x + base->tensors[k].offset, &base->tensors[k], init, rng);
}

/* ---- description for model.json ---- */

json_t *model_describe(const lsgd_model *model)
{
    const model_base *base = model->impl;
    json_t *tensors = json_array();
    for (int k = 0; k < base->n_tensors; k++) {
        const model_tensor *t = &base->tensors[k];
        json_t *shape = t->cols ? json_pack("[II]", (json_int_t)t->rows, (json_int_t)t->cols)
                                : json_pack("[I]", (json_int_t)t->rows);
        json_array_append_new(tensors, json_pack("{s:s, s:o, s:I}", "name", t->name, "shape",
                                                 shape, "offset", (json_int_t)t->offset));
    }
    return json_pack("{s:s, s:I, s:I, s:i, s:o}", "type", model->ops->type, "dim",
                     (json_int_t)model->dim, "input", (json_int_t)base->input, "classes",
                     base->classes, "tensors", tensors);
}

/* ---- L2 on weights ---- */

void model_l2_loss_grad(const model_base *base, const float *x, double *loss, float *grad)
{
    if (base->l2 == 0)
        return;
    double sum = 0;
    float l2 = (float)base->l2;
    for (int k = 0; k < base->n_tensors; k++) {
        const model_tensor *t = &base->tensors[k];
        if (t->is_bias)
            continue;
        size_t n = t->rows * (t->cols ? t->cols : 1);
        const float *w = x + t->offset;
        for (size_t i = 0; i < n; i++)
            sum += (double)w[i] * w[i];
        if (grad)
            for (size_t i = 0; i < n; i++)
                grad[t->offset + i] += l2 * w[i];
    }
    *loss += 0.5 * base->l2 * sum;
}

void model_l2_hvp(const model_base *base, const float *v, float *out)
{
    if (base->l2 == 0)
        return;
    float l2 = (float)base->l2;
    for (int k = 0; k < base->n_tensors; k++) {
        const model_tensor *t = &base->tensors[k];
        size_t n = t->rows * (t->cols ? t->cols : 1);
        if (!t->is_bias)
            for (size_t i = 0; i < n; i++)
                out[t->offset + i] += l2 * v[t->offset + i];
    }
}

/* ---- batches ---- */

int model_check_batch(const lsgd_model *model, const lsgd_batch *batch, lsgd_error *err)
{
    const model_base *base = model->impl;
    const lsgd_dataset *set = batch->set;
    if (!set)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model %s: a batch without a data set",
                              model->ops->type);
    if (set->d != base->input)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model %s: %s has %zu features but the model was built for %zu",
                              model->ops->type, set->source, set->d, base->input);
    if (base->classes > 0 && set->classes > base->classes)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model %s: %s has %d classes but the model predicts %d",
                              model->ops->type, set->source, set->classes, base->classes);
    if (batch->n == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model %s: an empty batch", model->ops->type);
    for (size_t i = 0; i < batch->n; i++)
        if (batch->rows[i] >= set->n)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "model %s: batch row %u beyond the %zu samples of %s",
                                  model->ops->type, batch->rows[i], set->n, set->source);
    return LSGD_OK;
}

void model_gather_rows(float *X, float *labels, const lsgd_dataset *set, const uint32_t *rows,
                       size_t B)
{
    size_t d = set->d;
    for (size_t b = 0; b < B; b++) {
        size_t row = rows[b];
        labels[b] = set->y[row];
        if (set->X) {
            memcpy(X + b * d, set->X + row * d, d * sizeof *X);
            continue;
        }
        memset(X + b * d, 0, d * sizeof *X);
        for (size_t k = set->row_ptr[row]; k < set->row_ptr[row + 1]; k++)
            X[b * d + set->col[k]] = set->val[k];
    }
}

/* ---- construction ---- */

/* The model's parameters within LSGD_MAX_PARAMETERS, else an error naming
 * the key its size comes from and its largest tensor. */
static int check_size(const lsgd_model *model, lsgd_error *err)
{
    const model_base *base = model->impl;
    if (model->dim <= LSGD_MAX_PARAMETERS)
        return LSGD_OK;
    const model_tensor *largest = &base->tensors[0];
    for (int k = 1; k < base->n_tensors; k++)
        if ((double)base->tensors[k].rows * (double)base->tensors[k].cols >
            (double)largest->rows * (double)largest->cols)
            largest = &base->tensors[k];
    char shape[64];
    if (largest->cols)
        snprintf(shape, sizeof shape, "%zu × %zu", largest->rows, largest->cols);
    else
        snprintf(shape, sizeof shape, "%zu", largest->rows);
    return lsgd_error_set(err, LSGD_ERR_INPUT,
                          "%s: model %s would have more parameters than lsgd's limit of 2^28 = "
                          "%llu (%s alone is %s)", base->sized_by, model->ops->type,
                          LSGD_MAX_PARAMETERS, largest->name, shape);
}

static int quadratic_create(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                            lsgd_error *err)
{
    (void)train; /* data-free objectives */
    return lsgd_quadratic_create(model, cfg, err);
}

/* The built-in models: the one table that says which `model.type`s exist,
 * which learn from data and which offer Hessian-vector products (model
 * plugins say the last in their manifest's "provides"). */
static const struct builtin_model {
    const char *type;
    int (*create)(lsgd_model *model, const json_t *cfg, const lsgd_dataset *train,
                  lsgd_error *err);
    int learns_from_data;
    int has_hvp;
} builtin_models[] = {
    {"quadratic", quadratic_create, 0, 1},
    {"least_squares", lsgd_least_squares_create, 1, 1},
    {"logreg", lsgd_logreg_create, 1, 1},
    {"softmax", lsgd_softmax_create, 1, 1},
    {"mlp", lsgd_mlp_create, 1, 1},
    {"cnn", lsgd_cnn_create, 1, 1},
};

enum { BUILTIN_MODELS = sizeof builtin_models / sizeof *builtin_models };

static const struct builtin_model *builtin_model(const char *type)
{
    for (size_t k = 0; k < BUILTIN_MODELS; k++)
        if (strcmp(builtin_models[k].type, type) == 0)
            return &builtin_models[k];
    return NULL;
}

static const char builtin_names[] = "quadratic, least_squares, logreg, softmax, mlp or cnn";

static int create_typed(lsgd_model *model, const char *type, const json_t *cfg,
                        const lsgd_dataset *train, lsgd_error *err)
{
    const struct builtin_model *builtin = builtin_model(type);
    if (!builtin)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.type: '%s'; expected %s, or model.plugin for a model plugin",
                              type, builtin_names);
    if (builtin->learns_from_data && !train)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.type: %s learns from data; expected data.train", type);
    return builtin->create(model, cfg, train, err);
}

int lsgd_model_provides(const json_t *cfg, const struct lsgd_registry *reg,
                        const char *capability, char *what, size_t cap)
{
    const char *type = json_string_value(json_object_get(cfg, "type"));
    const char *plugin = json_string_value(json_object_get(cfg, "plugin"));
    snprintf(what, cap, "model.%s '%s'", plugin ? "plugin" : "type",
             plugin ? plugin : type ? type : "?");
    if (plugin) {
        const lsgd_manifest *m;
        if (!reg || lsgd_registry_resolve(&m, reg, LSGD_KIND_MODEL, plugin, "model.plugin", NULL))
            return 1;
        return lsgd_manifest_lists(m, "provides", capability);
    }
    const struct builtin_model *builtin = type ? builtin_model(type) : NULL;
    return !builtin || strcmp(capability, "hvp") != 0 || builtin->has_hvp;
}

int lsgd_model_create(lsgd_model **out, const json_t *cfg, const lsgd_dataset *train,
                      lsgd_error *err)
{
    *out = NULL;
    json_t *type = json_object_get(cfg, "type");
    if (!json_is_string(type))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.type: missing; expected %s, or model.plugin for a model "
                              "plugin", builtin_names);
    if (json_object_get(cfg, "params"))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model.params: only model plugins (model.plugin) take params; "
                              "model.type '%s' reads its options from model itself",
                              json_string_value(type));
    double l2 = model_l2_option(cfg);
    if (!(l2 >= 0))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.l2: %g; expected >= 0", l2);
    lsgd_model *model = calloc(1, sizeof *model);
    if (!model)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "model: out of memory");
    int rc = create_typed(model, json_string_value(type), cfg, train, err);
    if (rc == LSGD_OK)
        rc = check_size(model, err);
    if (rc == LSGD_OK)
        rc = parse_init(model->impl, cfg, model->dim, err);
    if (rc != LSGD_OK) {
        lsgd_model_destroy(model);
        return rc;
    }
    *out = model;
    return LSGD_OK;
}

int lsgd_model_open(lsgd_model **out, const json_t *cfg, const lsgd_dataset *train,
                    const struct lsgd_registry *reg, lsgd_error *err)
{
    *out = NULL;
    if (!json_object_get(cfg, "plugin"))
        return lsgd_model_create(out, cfg, train, err);
    if (json_object_get(cfg, "type"))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "model: both type and plugin are given; expected model.type for a "
                              "built-in model or model.plugin for a model plugin, not both");
    return lsgd_model_plugin_open(out, cfg, train, reg, err);
}

void lsgd_model_destroy(lsgd_model *model)
{
    if (!model)
        return;
    if (model->ops && model->impl)
        model->ops->destroy(model);
    free(model);
}
