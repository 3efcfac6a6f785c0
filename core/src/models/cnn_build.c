/*
 * cnn_build.c — the cnn model's network from the config: model.input_shape
 * (or the data's sample shape) and model.layers, a list of layer objects
 *
 *   {"conv": OC, "kernel": K, "pad": P, "stride": S, "bias": b}
 *   {"relu": {}}   {"maxpool": K, "stride": S}   {"avgpool": K, "stride": S}
 *   {"flatten": {}}   {"dense": OC, "bias": b}   {"residual": [ …layers… ]}
 *
 * checked one by one with the shape flowing through them, each error naming
 * model.layers[i] (model.layers[i].residual[j] inside a block).  Weights
 * and biases are laid out in the flat vector in layer order, each conv
 * weight [OC, C, K, K] and dense weight [OC, C] as PyTorch's.
 */
#include <string.h>

#include "models/cnn.h"
#include "models/layers/layers.h"
#include "util/limits.h"

enum { CNN_MAX_SIDE = 64, CNN_MAX_CHANNELS = 65536 };

typedef struct build {
    cnn_impl *m;
    size_t dim;
    int bias;            /* model.bias */
    int convs, denses;   /* for tensor names: conv1, dense1, … */
    size_t C, H, W;      /* the shape flowing through the layers */
    int act;             /* the activation holding it */
} build;

/* obj[name] as an integer in [lo, hi], def when absent (def < 0: required). */
static int int_option(long long *out, const json_t *obj, const char *name, long long def,
                      long long lo, long long hi, const char *key, lsgd_error *err)
{
    json_t *v = json_object_get(obj, name);
    if (!v && def >= 0) {
        *out = def;
        return LSGD_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: %s; expected an integer from %lld to "
                              "%lld", key, name, v ? "not in range" : "missing", lo, hi);
    *out = json_integer_value(v);
    return LSGD_OK;
}

/* A new node reading the current activation, with the current shape as input. */
static int add_node(build *b, cnn_node **out, const cnn_kind *kind, const char *key,
                    lsgd_error *err)
{
    cnn_impl *m = b->m;
    if (m->n_nodes >= CNN_MAX_NODES)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than %d layers (flatten aside); "
                              "lsgd's limit", key, CNN_MAX_NODES);
    cnn_node *n = &m->nodes[m->n_nodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    snprintf(n->key, sizeof n->key, "%s", key);
    n->C = b->C, n->H = b->H, n->W = b->W;
    n->in = b->act;
    n->out = m->n_nodes;
    *out = n;
    return LSGD_OK;
}

/* The node's output becomes the current shape and activation, within lsgd's limits. */
static int finish_node(build *b, cnn_node *n, lsgd_error *err)
{
    size_t size = n->OC * n->OH * n->OW;
    if (size == 0 || size > LSGD_MAX_FEATURES)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: an output of %zu×%zu×%zu values; "
                              "expected 1 to 2^26", n->key, n->OC, n->OH, n->OW);
    b->C = n->OC, b->H = n->OH, b->W = n->OW;
    b->act = n->out;
    b->m->size[n->out] = size;
    return LSGD_OK;
}

/* Weight [rows, cols] then bias [rows] (when wanted) at the end of the vector. */
static int add_tensors(build *b, cnn_node *n, const char *name, size_t rows, size_t cols,
                       lsgd_error *err)
{
    model_base *base = &b->m->base;
    if (base->n_tensors + 2 > MODEL_MAX_TENSORS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: more than %d weight and bias tensors; "
                              "lsgd's limit", n->key, MODEL_MAX_TENSORS);
    char tensor[32];
    snprintf(tensor, sizeof tensor, "%s.weight", name);
    n->w_off = b->dim;
    b->dim = model_add_tensor(base, tensor, rows, cols, 0, b->dim);
    if (n->bias && b->dim != SIZE_MAX) {
        snprintf(tensor, sizeof tensor, "%s.bias", name);
        n->b_off = b->dim;
        b->dim = model_add_tensor(base, tensor, rows, 0, 1, b->dim);
    }
    if (b->dim == SIZE_MAX || b->dim > LSGD_MAX_PARAMETERS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: the model would have more parameters "
                              "than lsgd's limit of 2^28", n->key);
    return LSGD_OK;
}

static int bias_option(build *b, const json_t *spec)
{
    json_t *v = json_object_get(spec, "bias");
    return json_is_boolean(v) ? json_is_true(v) : b->bias;
}

static int parse_conv(build *b, const json_t *spec, const char *key, lsgd_error *err)
{
    long long oc = 0, k = 0, s = 0, pad = 0;
    int rc;
    if ((rc = int_option(&oc, spec, "conv", -1, 1, CNN_MAX_CHANNELS, key, err)) ||
        (rc = int_option(&k, spec, "kernel", 3, 1, CNN_MAX_SIDE, key, err)) ||
        (rc = int_option(&s, spec, "stride", 1, 1, CNN_MAX_SIDE, key, err)) ||
        (rc = int_option(&pad, spec, "pad", 0, 0, CNN_MAX_SIDE, key, err)))
        return rc;
    cnn_node *n;
    if ((rc = add_node(b, &n, &cnn_conv, key, err)))
        return rc;
    n->K = (size_t)k, n->S = (size_t)s, n->P = (size_t)pad;
    n->OC = (size_t)oc;
    n->OH = conv2d_out_side(n->H, n->K, n->S, n->P);
    n->OW = conv2d_out_side(n->W, n->K, n->S, n->P);
    if (n->OH == 0 || n->OW == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: a %lld×%lld kernel with padding %lld "
                              "does not fit a %zu×%zu input", key, k, k, pad, n->H, n->W);
    if (n->C * n->K * n->K > LSGD_MAX_FEATURES)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: %zu input channels × %lld×%lld kernel "
                              "exceed 2^26 weights per output channel", key, n->C, k, k);
    n->bias = bias_option(b, spec);
    size_t col = n->C * n->K * n->K * n->OH * n->OW; /* < 2^26 · 2^26: no wrap */
    if (col > LSGD_MAX_MLP_ACTIVATIONS / CNN_CHUNK)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: its im2col columns would need %zu "
                              "floats per sample; lsgd's limit is 2^22", key, col);
    n->col_floats = conv2d_pointwise(n->K, n->S, n->P) ? 0 : col;
    /* dcol, dweightᵀ, doutᵀ: < 2^22 + 2^42 + 2^42 */
    size_t scratch = col + n->C * n->K * n->K * n->OC + n->OC * n->OH * n->OW;
    b->m->scratch_floats = scratch > b->m->scratch_floats ? scratch : b->m->scratch_floats;
    char name[24];
    snprintf(name, sizeof name, "conv%d", ++b->convs);
    if ((rc = add_tensors(b, n, name, n->OC, n->C * n->K * n->K, err)))
        return rc;
    return finish_node(b, n, err);
}

static int parse_dense(build *b, const json_t *spec, const char *key, lsgd_error *err)
{
    long long oc = 0;
    int rc;
    if ((rc = int_option(&oc, spec, "dense", -1, 1, (long long)LSGD_MAX_FEATURES, key, err)))
        return rc;
    if (b->H != 1 || b->W != 1)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: dense after a [%zu, %zu, %zu] map; "
                              "expected a {\"flatten\": {}} layer before it", key, b->C, b->H,
                              b->W);
    cnn_node *n;
    if ((rc = add_node(b, &n, &cnn_dense, key, err)))
        return rc;
    n->OC = (size_t)oc, n->OH = n->OW = 1;
    n->bias = bias_option(b, spec);
    char name[24];
    snprintf(name, sizeof name, "dense%d", ++b->denses);
    if ((rc = add_tensors(b, n, name, n->OC, n->C, err)))
        return rc;
    return finish_node(b, n, err);
}

static int parse_relu(build *b, const json_t *spec, const char *key, lsgd_error *err)
{
    cnn_node *n;
    int rc = add_node(b, &n, &cnn_relu, key, err);
    if (rc)
        return rc;
    n->OC = n->C, n->OH = n->H, n->OW = n->W;
    return finish_node(b, n, err);
}

static int parse_pool(build *b, const json_t *spec, const char *key, const cnn_kind *kind,
                      lsgd_error *err)
{
    long long k = 0, s = 0;
    int rc;
    if ((rc = int_option(&k, spec, kind->name, -1, 1, CNN_MAX_SIDE, key, err)) ||
        (rc = int_option(&s, spec, "stride", k, 1, CNN_MAX_SIDE, key, err)))
        return rc;
    if ((size_t)k > b->H || (size_t)k > b->W)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: a %lld×%lld window does not fit a "
                              "%zu×%zu input", key, k, k, b->H, b->W);
    cnn_node *n;
    if ((rc = add_node(b, &n, kind, key, err)))
        return rc;
    n->K = (size_t)k, n->S = (size_t)s;
    n->OC = n->C, n->OH = (n->H - n->K) / n->S + 1, n->OW = (n->W - n->K) / n->S + 1;
    return finish_node(b, n, err);
}

static int parse_list(build *b, const json_t *layers, const char *key, lsgd_error *err);

/* {"residual": [...]}: the block, then a node adding its input. */
static int parse_residual(build *b, const json_t *spec, const char *key, lsgd_error *err)
{
    const json_t *block = json_object_get(spec, "residual");
    char inner[CNN_KEY];
    if (snprintf(inner, sizeof inner, "%s.residual", key) >= (int)sizeof inner)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: residual blocks nested too deep", key);
    if (!json_is_array(block) || json_array_size(block) == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: expected a non-empty array of layers",
                              inner);
    size_t C = b->C, H = b->H, W = b->W;
    int skip = b->act;
    int rc = parse_list(b, block, inner, err);
    if (rc)
        return rc;
    if (b->C != C || b->H != H || b->W != W)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: a residual block turning [%zu, %zu, %zu] "
                              "into [%zu, %zu, %zu]; expected its output shape to equal its "
                              "input's", key, C, H, W, b->C, b->H, b->W);
    cnn_node *n;
    if ((rc = add_node(b, &n, &cnn_residual, key, err)))
        return rc;
    n->skip = skip;
    n->OC = n->C, n->OH = n->H, n->OW = n->W;
    return finish_node(b, n, err);
}

/* The keys a layer object may have besides its kind. */
static int option_allowed(const char *kind, const char *option)
{
    if (strcmp(kind, "conv") == 0)
        return !strcmp(option, "kernel") || !strcmp(option, "pad") ||
               !strcmp(option, "stride") || !strcmp(option, "bias");
    if (strcmp(kind, "dense") == 0)
        return !strcmp(option, "bias");
    if (strcmp(kind, "maxpool") == 0 || strcmp(kind, "avgpool") == 0)
        return !strcmp(option, "stride");
    return 0;
}

static const char *const kinds[] = {"conv", "relu", "maxpool", "avgpool",
                                    "flatten", "dense", "residual"};

/* The kind key of a layer object: exactly one of kinds[], other keys its options. */
static int layer_kind(const char **out, const json_t *spec, const char *key, lsgd_error *err)
{
    const char *kind = NULL, *name;
    json_t *value;
    json_object_foreach((json_t *)spec, name, value) {
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
            if (strcmp(name, kinds[k]) == 0) {
                if (kind)
                    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: both %s and %s; expected "
                                          "one layer per object", key, kind, name);
                kind = kinds[k];
            }
    }
    if (!kind)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: no layer kind; expected one of conv, "
                              "relu, maxpool, avgpool, flatten, dense, residual", key);
    json_object_foreach((json_t *)spec, name, value) {
        if (strcmp(name, kind) != 0 && !option_allowed(kind, name))
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s.%s: not an option of a %s layer",
                                  key, name, kind);
    }
    *out = kind;
    return LSGD_OK;
}

static int parse_layer(build *b, const json_t *spec, const char *key, lsgd_error *err)
{
    const char *kind = NULL;
    if (!json_is_object(spec))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: expected a layer object such as "
                              "{\"conv\": 32, \"kernel\": 5}", key);
    int rc = layer_kind(&kind, spec, key, err);
    if (rc)
        return rc;
    if (strcmp(kind, "conv") == 0)
        return parse_conv(b, spec, key, err);
    if (strcmp(kind, "dense") == 0)
        return parse_dense(b, spec, key, err);
    if (strcmp(kind, "relu") == 0)
        return parse_relu(b, spec, key, err);
    if (strcmp(kind, "maxpool") == 0)
        return parse_pool(b, spec, key, &cnn_maxpool, err);
    if (strcmp(kind, "avgpool") == 0)
        return parse_pool(b, spec, key, &cnn_avgpool, err);
    if (strcmp(kind, "residual") == 0)
        return parse_residual(b, spec, key, err);
    b->C *= b->H * b->W; /* flatten: a reshape, no node */
    b->H = b->W = 1;
    return LSGD_OK;
}

static int parse_list(build *b, const json_t *layers, const char *key, lsgd_error *err)
{
    for (size_t i = 0; i < json_array_size(layers); i++) {
        char item[CNN_KEY];
        if (snprintf(item, sizeof item, "%s[%zu]", key, i) >= (int)sizeof item)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: residual blocks nested too deep",
                                  key);
        int rc = parse_layer(b, json_array_get(layers, i), item, err);
        if (rc)
            return rc;
    }
    return LSGD_OK;
}

/* model.input_shape, else the data's sample shape; C·H·W must be its features. */
static int input_shape(size_t shape[3], const json_t *cfg, const lsgd_dataset *train,
                       lsgd_error *err)
{
    json_t *given = json_object_get(cfg, "input_shape");
    if (!given) {
        if (!train->sample_shape[0])
            return lsgd_error_set(err, LSGD_ERR_INPUT, "model.input_shape: missing and %s "
                                  "carries no sample shape; expected [C, H, W] with C·H·W = "
                                  "%zu", train->source, train->d);
        memcpy(shape, train->sample_shape, 3 * sizeof *shape);
        return LSGD_OK;
    }
    if (!json_is_array(given) || json_array_size(given) != 3)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.input_shape: expected [C, H, W]");
    for (size_t k = 0; k < 3; k++) {
        json_t *v = json_array_get(given, k);
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (unsigned long long)json_integer_value(v) > LSGD_MAX_FEATURES)
            return lsgd_error_set(err, LSGD_ERR_INPUT, "model.input_shape[%zu]: expected an "
                                  "integer from 1 to 2^26", k);
        shape[k] = (size_t)json_integer_value(v);
    }
    size_t product;
    if (__builtin_mul_overflow(shape[0], shape[1], &product) ||
        __builtin_mul_overflow(product, shape[2], &product) || product != train->d)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.input_shape: [%zu, %zu, %zu] does not "
                              "hold the %zu features of %s", shape[0], shape[1], shape[2],
                              train->d, train->source);
    return LSGD_OK;
}

/* A relu or dense node that is its input's only reader writes that input's gradient
 * in its backward pass (relu: the masked gradient; dense: a product that overwrites)
 * instead of adding to it, so the gradient needs no zeroing first. */
static void mark_sole_writers(cnn_impl *m)
{
    int readers[CNN_MAX_NODES + 1] = {0};
    for (int k = 0; k < m->n_nodes; k++) {
        readers[m->nodes[k].in]++;
        if (m->nodes[k].kind == &cnn_residual)
            readers[m->nodes[k].skip]++;
    }
    for (int k = 0; k < m->n_nodes; k++) {
        cnn_node *n = &m->nodes[k];
        n->overwrite = n->in > 0 && readers[n->in] == 1 &&
                       (n->kind == &cnn_relu || n->kind == &cnn_dense);
        m->written[n->in] |= (unsigned char)n->overwrite;
    }
}

int cnn_build(cnn_impl *m, const json_t *cfg, const lsgd_dataset *train, size_t *dim,
              lsgd_error *err)
{
    int rc = input_shape(m->shape, cfg, train, err);
    if (rc)
        return rc;
    json_t *layers = json_object_get(cfg, "layers");
    if (!json_is_array(layers) || json_array_size(layers) == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.layers: %s; expected an array of "
                              "layers such as [{\"conv\": 6, \"kernel\": 5}, {\"relu\": {}}, …, "
                              "{\"dense\": 10}]", layers ? "not a non-empty array" : "missing");
    build b = {.m = m, .bias = model_bias_option(cfg), .C = m->shape[0], .H = m->shape[1],
               .W = m->shape[2]};
    m->size[0] = train->d;
    if ((rc = parse_list(&b, layers, "model.layers", err)))
        return rc;
    size_t classes = (size_t)train->classes;
    if (m->n_nodes == 0 || b.H != 1 || b.W != 1 || b.C < classes)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.layers: the network ends in [%zu, "
                              "%zu, %zu]; expected a flat vector of at least %zu class scores "
                              "(end with {\"dense\": %zu})", b.C, b.H, b.W, classes, classes);
    m->base.classes = (int)b.C;
    mark_sole_writers(m);
    if (cnn_workspace_floats(m) > LSGD_MAX_MLP_ACTIVATIONS)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "model.layers: this network needs %zu floats "
                              "of activations for a chunk of %d samples; lsgd's limit is 2^28",
                              cnn_workspace_floats(m), CNN_CHUNK);
    *dim = b.dim;
    return LSGD_OK;
}
