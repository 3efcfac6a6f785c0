/*
 * scaling_host.c — the host side of scaling plugins: resolve a plugin by
 * name, validate its parameters against the manifest, load it, create the
 * instance and own its state arrays and clock (scaling_host.h).
 *
 * Everything the engine does to a preconditioner goes through here, so the
 * clock is counted in one place and a non-finite gradient is caught before
 * the plugin writes it into x and the state.
 */
#include "host/scaling_host.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "host/ops_table.h"
#include "host/params.h"
#include "host/plugin_call.h"

/* ---- open / close ------------------------------------------------------- */

static int provided(const char *const *provides, const char *capability)
{
    for (size_t i = 0; provides && provides[i]; i++)
        if (strcmp(provides[i], capability) == 0)
            return 1;
    return 0;
}

int lsgd_scaling_open(lsgd_scaling *s, const lsgd_registry *reg, const json_t *cfg,
                      const char *config_key, size_t dim, const char *const *provides,
                      lsgd_error *err)
{
    memset(s, 0, sizeof *s);
    const json_t *plugin = json_object_get(cfg, "plugin");
    if (!json_is_string(plugin))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s.plugin: expected the name of a scaling plugin (e.g. \"adam\")",
                              config_key);
    const char *name = json_string_value(plugin);
    if (dim == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: scaling plugin '%s' got a model with 0 parameters; "
                              "expected at least 1", config_key, name);
    const lsgd_manifest *manifest;
    if (lsgd_registry_resolve(&manifest, reg, LSGD_KIND_SCALING, name, config_key, err))
        return err->code;
    char key[256];
    snprintf(key, sizeof key, "%s.params", config_key);
    if (lsgd_params_validate(&s->params, manifest, json_object_get(cfg, "params"), key, err))
        return err->code;
    if (lsgd_plugin_load(&s->loaded, manifest, provides, err)) {
        lsgd_scaling_close(s);
        return err->code;
    }
    lsgd_params_view(&s->view, s->params);
    /* while it is being created, messages say where it came from */
    snprintf(s->who, sizeof s->who, "%.32s: scaling plugin '%.64s' (%.256s)", config_key, name,
             manifest->library);
    int rc = lsgd_scaling_attach(s, s->loaded.plugin, &s->view, dim, err);
    if (rc == LSGD_OK && s->ops->statistic_kind == LSGD_STATISTIC_HVP && !provided(provides, "hvp"))
        rc = lsgd_error_set(err, LSGD_ERR_INPUT,
                            "%s: needs Hessian-vector products but its manifest does not say "
                            "requires [\"hvp\"] and the model has none", s->who);
    if (rc) {
        lsgd_scaling_close(s);
        return rc;
    }
    snprintf(s->who, sizeof s->who, "%.32s plugin '%.64s'", config_key, name);
    return LSGD_OK;
}

void lsgd_scaling_close(lsgd_scaling *s)
{
    lsgd_scaling_detach(s);
    if (s->loaded.handle)
        lsgd_plugin_unload(&s->loaded);
    json_decref(s->params);
    memset(s, 0, sizeof *s);
}

/* ---- attach / detach: the instance and its state ------------------------ */

static int check_ops(const lsgd_plugin *plugin, lsgd_error *err)
{
    if (plugin->kind != LSGD_KIND_SCALING || !plugin->ops)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "not a scaling plugin (kind %u, ops %s)",
                              plugin->kind, plugin->ops ? "set" : "NULL");
    return lsgd_ops_valid(plugin, err);
}

/* ---- memory for long float arrays ---------------------------------------- */

enum { HUGE_PAGE = 2 << 20 };

float *lsgd_floats_alloc(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float);
    void *p = NULL;
    if (bytes < HUGE_PAGE)
        return calloc(n ? n : 1, sizeof(float));
    bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
        return NULL;
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: fine when refused */
    memset(p, 0, bytes);
    return p;
}

void lsgd_floats_free(float *p)
{
    free(p);
}

static int allocate_state(lsgd_scaling *s, lsgd_error *err)
{
    s->count = s->ops->state_names(s->self, &s->names);
    for (size_t i = 0; i < s->count; i++)
        if (!s->names || !s->names[i] || !s->names[i][0])
            return lsgd_error_set(err, LSGD_ERR_INPUT, "state array %zu has no name", i);
    if (s->count && s->dim > SIZE_MAX / sizeof(float) / s->count)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "state of %zu × %zu floats is too large",
                              s->count, s->dim);
    s->memory = lsgd_floats_alloc(s->count * s->dim);
    s->state = calloc(s->count + 1, sizeof(float *));
    if (s->ops->statistic_kind != LSGD_STATISTIC_NONE)
        s->statistic = calloc(s->dim, sizeof(float));
    if (!s->memory || !s->state || (s->ops->statistic_kind && !s->statistic))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "out of memory for %zu state arrays of %zu",
                              s->count, s->dim);
    for (size_t i = 0; i < s->count; i++)
        s->state[i] = s->memory + i * s->dim;
    return LSGD_OK;
}

int lsgd_scaling_attach(lsgd_scaling *s, const lsgd_plugin *plugin, const lsgd_params *params,
                        size_t dim, lsgd_error *err)
{
    if (dim == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling plugin '%s' got a model with 0 parameters; expected at least 1",
                              plugin->name);
    if (!s->who[0])
        snprintf(s->who, sizeof s->who, "scaling plugin '%.64s'", plugin->name);
    int rc = check_ops(plugin, err);
    if (rc)
        return lsgd_error_prefix(err, "%s: ", s->who);
    s->ops = plugin->ops;
    s->name = plugin->name;
    s->dim = dim;
    rc = LSGD_PLUGIN_CALL(err, s->who, s->name, "create",
                          s->ops->create(&s->self, params, dim, err));
    if (rc) {
        s->self = NULL; /* whatever create left there, destroy must not see it */
        return rc;
    }
    if ((rc = allocate_state(s, err))) {
        lsgd_error_prefix(err, "%s: ", s->who);
        lsgd_scaling_detach(s);
    }
    return rc;
}

void lsgd_scaling_detach(lsgd_scaling *s)
{
    if (s->self)
        s->ops->destroy(s->self);
    lsgd_floats_free(s->memory);
    free(s->state);
    free(s->statistic);
    s->self = NULL;
    s->memory = s->statistic = NULL;
    s->state = NULL;
    s->count = 0;
}

/* ---- the operations the engine runs ------------------------------------- */

int lsgd_scaling_reset(lsgd_scaling *s, const lsgd_scaling_ctx *ctx, lsgd_error *err)
{
    memset(s->memory, 0, s->count * s->dim * sizeof(float));
    s->clock = (lsgd_scaling_clock){0, 0};
    if (!LSGD_HAS_OP(s->ops, lsgd_scaling_ops, init))
        return LSGD_OK;
    return LSGD_PLUGIN_CALL(err, s->who, s->name, "warm start (init)",
                            s->ops->init(s->self, s->state, ctx, err));
}

int lsgd_scaling_statistic(lsgd_scaling *s, const lsgd_scaling_ctx *ctx, lsgd_error *err)
{
    if (!s->statistic)
        return LSGD_OK; /* STATISTIC_NONE: nothing to estimate */
    if (s->ops->statistic_kind == LSGD_STATISTIC_GRADIENT) {
        size_t bad = lsgd_first_nonfinite(ctx->g, s->dim);
        if (bad < s->dim)
            return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                                  "scaling '%s': gradient coordinate %zu is %g at the statistic "
                                  "after step %llu; D was not refreshed", s->name, bad,
                                  (double)ctx->g[bad], (unsigned long long)s->clock.step);
    }
    char op[64];
    snprintf(op, sizeof op, "statistic after step %llu", (unsigned long long)s->clock.step);
    int rc = LSGD_PLUGIN_CALL(err, s->who, s->name, op,
                              s->ops->statistic(s->self, s->statistic, s->state, ctx, err));
    if (rc)
        return rc;
    size_t bad = lsgd_first_nonfinite(s->statistic, s->dim);
    if (bad < s->dim)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "scaling '%s': statistic coordinate %zu is %g after step %llu "
                              "(from the model's %s); D was not refreshed", s->name, bad,
                              (double)s->statistic[bad], (unsigned long long)s->clock.step,
                              s->ops->statistic_kind == LSGD_STATISTIC_HVP
                                  ? "Hessian-vector product" : "gradient");
    return LSGD_OK;
}

int lsgd_scaling_refresh(lsgd_scaling *s, const float *H, lsgd_error *err)
{
    if (s->ops->statistic_kind == LSGD_STATISTIC_NONE)
        return LSGD_OK;
    s->clock.refresh++;
    char op[64];
    snprintf(op, sizeof op, "refresh %llu", (unsigned long long)s->clock.refresh);
    int rc = LSGD_PLUGIN_CALL(err, s->who, s->name, op,
                              s->ops->refresh(s->self, s->state, H, &s->clock, err));
    if (rc)
        s->clock.refresh--;
    return rc;
}

__attribute__((target_clones("avx2", "default")))
size_t lsgd_first_nonfinite(const float *g, size_t dim)
{
    /* A float is NaN or ±Inf when its exponent bits are all ones; the OR
     * over a block vectorizes, the exact coordinate is looked up after. */
    enum { BLOCK = 4096 };
    for (size_t start = 0; start < dim; start += BLOCK) {
        size_t end = dim - start < BLOCK ? dim : start + BLOCK;
        uint32_t bad = 0;
        for (size_t i = start; i < end; i++) {
            uint32_t bits;
            memcpy(&bits, &g[i], sizeof bits);
            bad |= (bits & 0x7f800000u) == 0x7f800000u;
        }
        if (bad)
            for (size_t i = start; i < end; i++) {
                uint32_t bits;
                memcpy(&bits, &g[i], sizeof bits);
                if ((bits & 0x7f800000u) == 0x7f800000u)
                    return i;
            }
    }
    return dim;
}

static int check_gradient(const lsgd_scaling *s, const float *g, lsgd_error *err)
{
    size_t bad = lsgd_first_nonfinite(g, s->dim);
    if (bad < s->dim)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME,
                              "scaling '%s': gradient coordinate %zu is %g at step %llu; "
                              "the step was not taken (model and state unchanged)", s->name, bad,
                              (double)g[bad], (unsigned long long)s->clock.step + 1);
    return LSGD_OK;
}

/* The step itself, g already checked. */
static int take_step(lsgd_scaling *s, float *x, const float *g, float lr, int refresh_from_g,
                     lsgd_error *err)
{
    const lsgd_scaling_clock before = s->clock;
    refresh_from_g = refresh_from_g && s->ops->statistic_kind == LSGD_STATISTIC_GRADIENT;
    s->clock.step++;
    s->clock.refresh += (uint64_t)refresh_from_g;
    char op[64];
    snprintf(op, sizeof op, "step %llu", (unsigned long long)s->clock.step);
    int rc = LSGD_PLUGIN_CALL(err, s->who, s->name, op,
                              s->ops->step(s->self, x, s->state, g, lr, &s->clock,
                                           refresh_from_g, err));
    if (rc)
        s->clock = before;
    return rc;
}

int lsgd_scaling_step(lsgd_scaling *s, float *x, const float *g, float lr, int refresh_from_g,
                      lsgd_error *err)
{
    if (check_gradient(s, g, err))
        return err->code;
    return take_step(s, x, g, lr, refresh_from_g, err);
}

int lsgd_scaling_local_step(lsgd_scaling *s, float *x, const lsgd_scaling_ctx *ctx, float lr,
                            lsgd_error *err)
{
    if (check_gradient(s, ctx->g, err))
        return err->code; /* before the HVP refresh touches the state */
    if (s->ops->statistic_kind == LSGD_STATISTIC_HVP) {
        int rc = lsgd_scaling_statistic(s, ctx, err);
        if (!rc)
            rc = lsgd_scaling_refresh(s, s->statistic, err);
        if (rc)
            return rc;
    }
    return take_step(s, x, ctx->g, lr, 1, err); /* g checked once, above */
}

void lsgd_scaling_range(const lsgd_scaling *s, float *dmin, float *dmax)
{
    *dmin = *dmax = 1.0f;
    if (LSGD_HAS_OP(s->ops, lsgd_scaling_ops, range))
        s->ops->range(s->self, s->state, &s->clock, dmin, dmax);
}

/* ---- state as bytes ------------------------------------------------------ */

static const char state_magic[8] = "LSGDSCL1";

/* Header: magic, dim, count, step, refresh, names_size (u64 each), then the
 * names NUL-terminated and padded to 8 bytes, then the floats. */
static size_t names_size(const lsgd_scaling *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += strlen(s->names[i]) + 1;
    return (n + 7) & ~(size_t)7;
}

size_t lsgd_scaling_state_size(const lsgd_scaling *s)
{
    return 8 + 5 * sizeof(uint64_t) + names_size(s) + s->count * s->dim * sizeof(float);
}

static void put_u64(unsigned char **p, uint64_t v)
{
    memcpy(*p, &v, sizeof v);
    *p += sizeof v;
}

int lsgd_scaling_state_save(const lsgd_scaling *s, void *bytes, size_t size, lsgd_error *err)
{
    if (size < lsgd_scaling_state_size(s))
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "scaling '%s' state: %zu bytes, need %zu",
                              s->name, size, lsgd_scaling_state_size(s));
    unsigned char *p = bytes;
    memcpy(p, state_magic, 8);
    p += 8;
    put_u64(&p, s->dim);
    put_u64(&p, s->count);
    put_u64(&p, s->clock.step);
    put_u64(&p, s->clock.refresh);
    put_u64(&p, names_size(s));
    memset(p, 0, names_size(s));
    unsigned char *names = p;
    for (size_t i = 0; i < s->count; i++) {
        size_t n = strlen(s->names[i]) + 1;
        memcpy(names, s->names[i], n);
        names += n;
    }
    p += names_size(s);
    memcpy(p, s->memory, s->count * s->dim * sizeof(float));
    return LSGD_OK;
}

static void join_names(char *out, size_t cap, const char *const *names, size_t count)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", names[i]);
}

int lsgd_scaling_state_load(lsgd_scaling *s, const void *bytes, size_t size, lsgd_error *err)
{
    const unsigned char *p = bytes;
    uint64_t h[5];
    if (size < 8 + sizeof h || memcmp(p, state_magic, 8) != 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling '%s' state: not an lsgd scaling state (%zu bytes)",
                              s->name, size);
    memcpy(h, p + 8, sizeof h);
    const char *names = (const char *)p + 8 + sizeof h;
    char have[256], saved[256] = "";
    join_names(have, sizeof have, s->names, s->count);
    int same = h[0] == s->dim && h[1] == s->count && h[4] == names_size(s) &&
               size == lsgd_scaling_state_size(s);
    for (size_t i = 0, off = 0; same && i < s->count; i++) {
        same = strcmp(names + off, s->names[i]) == 0;
        off += strlen(s->names[i]) + 1;
    }
    if (!same) {
        if (h[4] < size && h[4] > 0 && names[h[4] - 1] == '\0')
            for (size_t off = 0, i = 0; off < h[4] && names[off] && i < 64; i++) {
                size_t used = strlen(saved);
                snprintf(saved + used, sizeof saved - used, "%s%s", i ? "," : "", names + off);
                off += strlen(names + off) + 1;
            }
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "scaling '%s' state: saved with arrays [%s] of dim %llu, "
                              "this instance has [%s] of dim %zu", s->name, saved,
                              (unsigned long long)h[0], have, s->dim);
    }
    s->clock.step = h[2];
    s->clock.refresh = h[3];
    memcpy(s->memory, names + h[4], s->count * s->dim * sizeof(float));
    return LSGD_OK;
}
