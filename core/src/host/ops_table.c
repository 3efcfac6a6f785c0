/*
 * ops_table.c — the one check of a plugin's ops table (ops_table.h): the
 * required ops of each kind listed once, in table order, with where each
 * ends, so that the minimum size, the missing ops and the message naming
 * the first op a short table stops before all come from the same list.
 */
#include "host/ops_table.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host/registry.h"
#include "lsgd/compressor.h"
#include "lsgd/model.h"
#include "lsgd/scaling.h"
#include "lsgd/transport.h"

typedef struct required_op {
    const char *name;
    size_t end;  /* LSGD_FIELD_END: struct_size must reach it */
    int present; /* LSGD_HAS_OP */
} required_op;

enum { MOST_REQUIRED = 6 };

/* Where a required op sits in its kind's ops table. */
typedef struct op_place {
    const char *name;
    size_t offset, end;
} op_place;

#define OP(type, field) {#field, offsetof(type, field), LSGD_FIELD_END(type, field)}

/* The required ops of each kind, in the order of its table (a shorter list
 * ends at the first empty place). */
static const struct {
    int kind;
    op_place ops[MOST_REQUIRED];
} required[] = {
    {LSGD_KIND_SCALING,
     {OP(lsgd_scaling_ops, create), OP(lsgd_scaling_ops, destroy),
      OP(lsgd_scaling_ops, state_names), OP(lsgd_scaling_ops, step)}},
    {LSGD_KIND_TRANSPORT,
     {OP(lsgd_transport_ops, open), OP(lsgd_transport_ops, close),
      OP(lsgd_transport_ops, allreduce_mean), OP(lsgd_transport_ops, broadcast),
      OP(lsgd_transport_ops, barrier)}},
    {LSGD_KIND_MODEL,
     {OP(lsgd_model_plugin_ops, create), OP(lsgd_model_plugin_ops, destroy),
      OP(lsgd_model_plugin_ops, describe), OP(lsgd_model_plugin_ops, init),
      OP(lsgd_model_plugin_ops, loss_grad), OP(lsgd_model_plugin_ops, evaluate)}},
    {LSGD_KIND_COMPRESSOR,
     {OP(lsgd_compressor_ops, create), OP(lsgd_compressor_ops, destroy),
      OP(lsgd_compressor_ops, max_encoded_bytes), OP(lsgd_compressor_ops, encode),
      OP(lsgd_compressor_ops, decode)}},
};

/* Every ops table starts with its struct_size. */
_Static_assert(offsetof(lsgd_scaling_ops, struct_size) == 0 &&
                   offsetof(lsgd_transport_ops, struct_size) == 0 &&
                   offsetof(lsgd_model_plugin_ops, struct_size) == 0 &&
                   offsetof(lsgd_compressor_ops, struct_size) == 0,
               "struct_size leads every ops table");

/* The required ops of ops (of kind), in the order of the table, and its
 * struct_size; returns how many (0 for an unknown kind).  An op is present
 * when struct_size reaches its end and its pointer is set (LSGD_HAS_OP). */
static size_t required_ops(required_op *out, size_t *size, int kind, const void *ops)
{
    for (size_t k = 0; k < sizeof required / sizeof *required; k++) {
        if (required[k].kind != kind)
            continue;
        memcpy(size, ops, sizeof *size);
        size_t n = 0;
        for (const op_place *op = required[k].ops; n < MOST_REQUIRED && op->name; op++, n++) {
            void (*fn)(void) = NULL; /* every op is a function pointer */
            if (*size >= op->end)
                memcpy(&fn, (const char *)ops + op->offset, sizeof fn);
            out[n] = (required_op){op->name, op->end, fn != NULL};
        }
        return n;
    }
    return 0;
}

size_t lsgd_ops_min_size(int kind)
{
    static const union {
        lsgd_scaling_ops scaling;
        lsgd_transport_ops transport;
        lsgd_compressor_ops compressor;
        lsgd_model_plugin_ops model;
    } empty; /* struct_size 0: no op is read */
    required_op ops[MOST_REQUIRED];
    size_t size, n = required_ops(ops, &size, kind, &empty);
    return n ? ops[n - 1].end : 0;
}

typedef struct checker {
    lsgd_ops_problem_fn report;
    void *ctx;
    size_t problems;
} checker;

static void problem(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(checker *c, const char *fmt, ...)
{
    char line[LSGD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->problems++;
    c->report(c->ctx, line);
}

/* struct_size reaches every required op, and each is set. */
static int check_required(const lsgd_plugin *plugin, checker *c)
{
    const char *kind = lsgd_kind_name((int)plugin->kind);
    required_op ops[MOST_REQUIRED];
    size_t size, n = required_ops(ops, &size, (int)plugin->kind, plugin->ops);
    for (size_t i = 0; i < n; i++)
        if (size < ops[i].end) {
            problem(c, "%s ops struct_size %zu stops before %s, a required op (ABI %d.%d "
                    "needs at least %zu bytes)", kind, size, ops[i].name, LSGD_ABI_MAJOR,
                    LSGD_ABI_MINOR, ops[n - 1].end);
            return -1;
        }
    char lack[256] = "", all[256] = "";
    size_t lacked = 0, used = 0, listed = 0;
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
        listed += (size_t)snprintf(all + listed, sizeof all - listed, "%s%s", sep, ops[i].name);
        if (!ops[i].present)
            used += (size_t)snprintf(lack + used, sizeof lack - used, "%s%s",
                                     lacked++ ? ", " : "", ops[i].name);
    }
    if (lacked)
        problem(c, "%s ops lack %s (%s are required)", kind, lack, all);
    return 0;
}

static void check_scaling_rules(const lsgd_scaling_ops *ops, checker *c)
{
    if (ops->statistic_kind > LSGD_STATISTIC_HVP)
        problem(c, "unknown statistic_kind %u (expected 0 none, 1 gradient or 2 hvp)",
                ops->statistic_kind);
    else if (ops->statistic_kind != LSGD_STATISTIC_NONE &&
             !(LSGD_HAS_OP(ops, lsgd_scaling_ops, statistic) &&
               LSGD_HAS_OP(ops, lsgd_scaling_ops, refresh)))
        problem(c, "statistic_kind %u needs both statistic and refresh", ops->statistic_kind);
}

static void check_transport_rules(const lsgd_transport_ops *ops, checker *c)
{
    int nonblocking = LSGD_HAS_OP(ops, lsgd_transport_ops, iallreduce_mean) +
                      LSGD_HAS_OP(ops, lsgd_transport_ops, test) +
                      LSGD_HAS_OP(ops, lsgd_transport_ops, wait);
    if (nonblocking != 0 && nonblocking != 3)
        problem(c, "transport ops give only some of iallreduce_mean, test and wait (all three "
                "or none)");
}

size_t lsgd_ops_check(const lsgd_plugin *plugin, lsgd_ops_problem_fn report, void *ctx)
{
    checker c = {.report = report, .ctx = ctx};
    if (lsgd_ops_min_size((int)plugin->kind) == 0) {
        problem(&c, "unknown plugin kind %u (expected %d scaling, %d transport, %d model or %d "
                "compressor)", plugin->kind, LSGD_KIND_SCALING, LSGD_KIND_TRANSPORT,
                LSGD_KIND_MODEL, LSGD_KIND_COMPRESSOR);
        return c.problems;
    }
    if (check_required(plugin, &c))
        return c.problems;
    if (plugin->kind == LSGD_KIND_SCALING)
        check_scaling_rules(plugin->ops, &c);
    else if (plugin->kind == LSGD_KIND_TRANSPORT)
        check_transport_rules(plugin->ops, &c);
    return c.problems;
}

/* Keep the first problem only. */
static void first_problem(void *ctx, const char *line)
{
    lsgd_error *err = ctx;
    if (err && err->code == LSGD_OK)
        lsgd_error_set(err, LSGD_ERR_INPUT, "%s", line);
}

int lsgd_ops_valid(const lsgd_plugin *plugin, lsgd_error *err)
{
    lsgd_error_clear(err);
    return lsgd_ops_check(plugin, first_problem, err) ? LSGD_ERR_INPUT : LSGD_OK;
}
