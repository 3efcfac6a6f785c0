/*
 * schema.c — a small JSON Schema 2020-12 validator for the keywords listed
 * in schema.h, with defaults filled in and messages that name the JSON path.
 *
 * One recursive function, check(), applies one schema node to one value:
 * $ref, then type, enum/const, the number, string, array and object
 * keywords, then the combinators.  Alternatives (anyOf, oneOf, if) are
 * tried on deep copies so that a branch that fails leaves no defaults
 * behind; the branch that is taken is copied back.  When every branch of
 * an anyOf/oneOf fails, the error reported is the one found deepest in the
 * value (the branch that "got furthest"), which is the one a user meant.
 */
#include "host/schema.h"

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/suggest.h"

enum { PATH_MAX_LEN = 512, NAMES_MAX = 64 };

typedef struct checker {
    const json_t *root; /* the schema document, for $ref */
    lsgd_error *err;
    int fail_depth;     /* depth in the value of the last failure */
    /* A real that passed as an "integer" (20.0, 1e6): its parent replaces
     * it by that integer, so every reader sees an integer. */
    const json_t *integral;
} checker;

/* ---- message helpers ---------------------------------------------------- */

const char *lsgd_path_where(const char *path)
{
    return path && *path ? path : "the top level";
}

void lsgd_number_format(char *out, size_t cap, double x)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(out, cap, "%.0f", x); /* 86400, not 8.64e+04 */
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, cap, "%.*g", precision, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

void lsgd_json_describe(char *out, size_t cap, const json_t *value)
{
    char text[128];
    switch (json_typeof(value)) {
    case JSON_OBJECT: snprintf(out, cap, "an object"); break;
    case JSON_ARRAY: snprintf(out, cap, "an array"); break;
    case JSON_STRING:
        lsgd_printable(text, sizeof text, json_string_value(value), 60);
        snprintf(out, cap, "\"%s\"", text);
        break;
    case JSON_INTEGER: snprintf(out, cap, "%lld", (long long)json_integer_value(value)); break;
    case JSON_REAL: lsgd_number_format(out, cap, json_real_value(value)); break;
    case JSON_TRUE: snprintf(out, cap, "true"); break;
    case JSON_FALSE: snprintf(out, cap, "false"); break;
    default: snprintf(out, cap, "null"); break;
    }
}

static int path_depth(const char *path)
{
    if (!*path)
        return 0;
    int depth = 1;
    for (const char *p = path; *p; p++)
        depth += *p == '.' || *p == '[';
    return depth;
}

static int fail(checker *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(checker *c, const char *path, const char *fmt, ...)
{
    c->fail_depth = path_depth(path);
    if (c->err) {
        va_list ap;
        va_start(ap, fmt);
        c->err->code = LSGD_ERR_INPUT;
        vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
        va_end(ap);
    }
    return LSGD_ERR_INPUT;
}

static void child_key(char *out, const char *path, const char *key)
{
    char safe[128];
    lsgd_printable(safe, sizeof safe, key, 100);
    snprintf(out, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", safe);
}

static void child_index(char *out, const char *path, size_t i)
{
    snprintf(out, PATH_MAX_LEN, "%s[%zu]", path, i);
}

/* ---- the embedded schemas ----------------------------------------------- */

static json_t *parsed_config, *parsed_manifest;
static json_error_t parse_error_config, parse_error_manifest;
static pthread_once_t parse_once = PTHREAD_ONCE_INIT;

static void parse_schemas(void)
{
    parsed_config = json_loads(lsgd_schema_text("config"), 0, &parse_error_config);
    parsed_manifest = json_loads(lsgd_schema_text("manifest"), 0, &parse_error_manifest);
}

const json_t *lsgd_schema_get(const char *which, lsgd_error *err)
{
    pthread_once(&parse_once, parse_schemas);
    int config = strcmp(which, "config") == 0;
    const json_t *schema = config ? parsed_config : parsed_manifest;
    if (!schema) {
        const json_error_t *e = config ? &parse_error_config : &parse_error_manifest;
        lsgd_error_set(err, LSGD_ERR_RUNTIME,
                       "the embedded %s schema is not valid JSON (line %d, column %d: %s); "
                       "rebuild liblsgd",
                       which, e->line, e->column, e->text);
    }
    return schema;
}

const json_t *lsgd_schema_resolve(const json_t *root, const char *ref)
{
    if (strncmp(ref, "#", 1) != 0)
        return NULL;
    const json_t *node = root;
    const char *p = ref + 1;
    while (*p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        char key[256];
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        node = json_is_object(node) ? json_object_get(node, key) : NULL;
        if (!node)
            return NULL;
        p += n;
    }
    return *p ? NULL : node;
}

/* ---- type, enum, const -------------------------------------------------- */

/* An integer, or a real with an integral value that a JSON integer (int64)
 * can hold: 1e20 is no integer lsgd could use. */
static int is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return 1;
    double x = json_is_real(v) ? json_real_value(v) : NAN;
    return isfinite(x) && x == floor(x) && x >= -0x1p63 && x < 0x1p63;
}

/* A real with an integral value beyond int64: a number, but no integer
 * lsgd can hold. */
static int integral_beyond_int64(const json_t *v)
{
    double x = json_is_real(v) ? json_real_value(v) : NAN;
    return isfinite(x) && x == floor(x) && !(x >= -0x1p63 && x < 0x1p63);
}

static int wants_integer(const json_t *type)
{
    size_t i;
    const json_t *t;
    if (json_is_string(type))
        return strcmp(json_string_value(type), "integer") == 0;
    json_array_foreach(type, i, t) {
        if (json_is_string(t) && strcmp(json_string_value(t), "integer") == 0)
            return 1;
    }
    return 0;
}

static int has_type(const json_t *v, const char *type)
{
    if (strcmp(type, "object") == 0) return json_is_object(v);
    if (strcmp(type, "array") == 0) return json_is_array(v);
    if (strcmp(type, "string") == 0) return json_is_string(v);
    if (strcmp(type, "boolean") == 0) return json_is_boolean(v);
    if (strcmp(type, "null") == 0) return json_is_null(v);
    if (strcmp(type, "number") == 0) return json_is_number(v);
    if (strcmp(type, "integer") == 0) return is_integral(v);
    return 0;
}

static const char *with_article(const char *type)
{
    if (strcmp(type, "object") == 0) return "an object";
    if (strcmp(type, "array") == 0) return "an array";
    if (strcmp(type, "string") == 0) return "a string";
    if (strcmp(type, "boolean") == 0) return "a boolean (true or false)";
    if (strcmp(type, "null") == 0) return "null";
    if (strcmp(type, "number") == 0) return "a number";
    if (strcmp(type, "integer") == 0) return "an integer";
    return type;
}

/* Equal as JSON Schema sees it: 1 and 1.0 are the same number. */
static int same_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

static int check_type(checker *c, const json_t *type, const json_t *value, const char *path)
{
    char expected[256] = "", got[160];
    if (json_is_string(type)) {
        if (has_type(value, json_string_value(type))) {
            if (json_is_real(value) && strcmp(json_string_value(type), "integer") == 0)
                c->integral = value;
            return LSGD_OK;
        }
        snprintf(expected, sizeof expected, "%s", with_article(json_string_value(type)));
    } else if (json_is_array(type)) {
        size_t i, used = 0;
        json_t *t;
        json_array_foreach(type, i, t) {
            if (json_is_string(t) && has_type(value, json_string_value(t))) {
                if (json_is_real(value) && strcmp(json_string_value(t), "integer") == 0)
                    c->integral = value;
                return LSGD_OK;
            }
            if (json_is_string(t) && used < sizeof expected)
                used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s",
                                         i ? " or " : "", with_article(json_string_value(t)));
        }
    } else {
        return LSGD_OK;
    }
    lsgd_json_describe(got, sizeof got, value);
    if (wants_integer(type) && integral_beyond_int64(value))
        return fail(c, path, "%s: %s is out of range; expected an integer from %lld to %lld",
                    lsgd_path_where(path), got, (long long)INT64_MIN, (long long)INT64_MAX);
    return fail(c, path, "%s: expected %s, got %s", lsgd_path_where(path), expected, got);
}

static int check_enum(checker *c, const json_t *options, const json_t *value, const char *path)
{
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(options, i, o) if (same_value(o, value)) return LSGD_OK;
    char names_buf[NAMES_MAX][64];
    const char *names[NAMES_MAX];
    json_array_foreach(options, i, o) {
        if (n == NAMES_MAX)
            break;
        if (json_is_string(o))
            lsgd_printable(names_buf[n], sizeof names_buf[n], json_string_value(o), 50);
        else
            lsgd_json_describe(names_buf[n], sizeof names_buf[n], o);
        names[n] = names_buf[n];
        n++;
    }
    char known[600], got[160], hint[256] = "";
    lsgd_join_names(known, sizeof known, names, n);
    lsgd_json_describe(got, sizeof got, value);
    if (json_is_string(value)) {
        char near[200];
        if (lsgd_suggest(near, sizeof near, json_string_value(value), names, n))
            snprintf(hint, sizeof hint, " (did you mean %s?)", near);
    }
    return fail(c, path, "%s: %s is not one of %s%s", lsgd_path_where(path), got, known, hint);
}

/* ---- numbers, strings, arrays ------------------------------------------- */

static int check_number(checker *c, const json_t *schema, const json_t *value, const char *path)
{
    if (!json_is_number(value))
        return LSGD_OK;
    double x = json_number_value(value);
    char got[64], bound[64];
    lsgd_json_describe(got, sizeof got, value);
    const char *where = lsgd_path_where(path);
    const json_t *b;
    if ((b = json_object_get(schema, "minimum")) && json_is_number(b) && x < json_number_value(b)) {
        lsgd_number_format(bound, sizeof bound, json_number_value(b));
        return fail(c, path, "%s: %s is below the minimum %s", where, got, bound);
    }
    if ((b = json_object_get(schema, "maximum")) && json_is_number(b) && x > json_number_value(b)) {
        lsgd_number_format(bound, sizeof bound, json_number_value(b));
        return fail(c, path, "%s: %s is above the maximum %s", where, got, bound);
    }
    if ((b = json_object_get(schema, "exclusiveMinimum")) && json_is_number(b) &&
        x <= json_number_value(b)) {
        lsgd_number_format(bound, sizeof bound, json_number_value(b));
        if (x < json_number_value(b))
            return fail(c, path, "%s: %s is below the minimum %s (exclusive)", where, got, bound);
        return fail(c, path, "%s: %s equals the minimum %s, which is exclusive", where, got, bound);
    }
    if ((b = json_object_get(schema, "exclusiveMaximum")) && json_is_number(b) &&
        x >= json_number_value(b)) {
        lsgd_number_format(bound, sizeof bound, json_number_value(b));
        if (x > json_number_value(b))
            return fail(c, path, "%s: %s is above the maximum %s (exclusive)", where, got, bound);
        return fail(c, path, "%s: %s equals the maximum %s, which is exclusive", where, got, bound);
    }
    return LSGD_OK;
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int check_string(checker *c, const json_t *schema, const json_t *value, const char *path)
{
    if (!json_is_string(value))
        return LSGD_OK;
    const char *s = json_string_value(value);
    char got[160];
    lsgd_json_describe(got, sizeof got, value);
    const json_t *min = json_object_get(schema, "minLength");
    if (json_is_integer(min) && utf8_length(s) < (size_t)json_integer_value(min))
        return fail(c, path, "%s: expected at least %lld character%s, got %s",
                    lsgd_path_where(path), (long long)json_integer_value(min),
                    json_integer_value(min) == 1 ? "" : "s", got);
    const json_t *pattern = json_object_get(schema, "pattern");
    if (json_is_string(pattern)) {
        regex_t re;
        if (regcomp(&re, json_string_value(pattern), REG_EXTENDED | REG_NOSUB) != 0)
            return fail(c, path, "%s: the schema's pattern %s does not compile",
                        lsgd_path_where(path), json_string_value(pattern));
        int matched = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        if (!matched)
            return fail(c, path, "%s: %s does not match the pattern %s", lsgd_path_where(path),
                        got, json_string_value(pattern));
    }
    return LSGD_OK;
}

static int check(checker *c, const json_t *schema, json_t *value, const char *path);

/* The integer c->integral stands for (is_integral checked its range). */
static json_t *integer_of(checker *c)
{
    json_t *integer = json_integer((json_int_t)json_real_value(c->integral));
    c->integral = NULL;
    return integer;
}

static int check_array(checker *c, const json_t *schema, json_t *value, const char *path)
{
    if (!json_is_array(value))
        return LSGD_OK;
    size_t n = json_array_size(value);
    const json_t *min = json_object_get(schema, "minItems");
    const json_t *max = json_object_get(schema, "maxItems");
    if (json_is_integer(min) && n < (size_t)json_integer_value(min))
        return fail(c, path, "%s: expected at least %lld item%s, got %zu", lsgd_path_where(path),
                    (long long)json_integer_value(min), json_integer_value(min) == 1 ? "" : "s", n);
    if (json_is_integer(max) && n > (size_t)json_integer_value(max))
        return fail(c, path, "%s: expected at most %lld item%s, got %zu", lsgd_path_where(path),
                    (long long)json_integer_value(max), json_integer_value(max) == 1 ? "" : "s", n);
    const json_t *items = json_object_get(schema, "items");
    if (items) {
        for (size_t i = 0; i < n; i++) {
            char child[PATH_MAX_LEN];
            child_index(child, path, i);
            json_t *item = json_array_get(value, i);
            c->integral = NULL;
            int rc = check(c, items, item, child);
            if (rc)
                return rc;
            if (c->integral == item)
                json_array_set_new(value, i, integer_of(c));
        }
    }
    if (json_is_true(json_object_get(schema, "uniqueItems")))
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (same_value(json_array_get(value, i), json_array_get(value, j)))
                    return fail(c, path, "%s: items [%zu] and [%zu] are equal; each must appear once",
                                lsgd_path_where(path), i, j);
    return LSGD_OK;
}

/* ---- objects ------------------------------------------------------------ */

/* The default of a property schema, looking through $ref. */
static const json_t *default_of(const checker *c, const json_t *schema)
{
    for (int hops = 0; hops < 8 && json_is_object(schema); hops++) {
        const json_t *d = json_object_get(schema, "default");
        if (d)
            return d;
        const json_t *ref = json_object_get(schema, "$ref");
        if (!json_is_string(ref))
            return NULL;
        schema = lsgd_schema_resolve(c->root, json_string_value(ref));
    }
    return NULL;
}

static void fill_defaults(const checker *c, const json_t *properties, json_t *value)
{
    const char *key;
    json_t *sub;
    json_object_foreach((json_t *)properties, key, sub) {
        const json_t *d;
        if (!json_object_get(value, key) && (d = default_of(c, sub)))
            json_object_set_new(value, key, json_deep_copy(d));
    }
}

static int unknown_key(checker *c, const json_t *properties, const char *key, const char *path)
{
    const char *names[NAMES_MAX];
    size_t n = 0;
    const char *k;
    json_t *sub;
    if (json_is_object(properties)) {
        json_object_foreach((json_t *)properties, k, sub) {
            if (n < NAMES_MAX && k[0] != '$')
                names[n++] = k;
        }
    }
    char known[700], near[200], hint[256] = "", safe[128];
    lsgd_join_names(known, sizeof known, names, n);
    if (lsgd_suggest(near, sizeof near, key, names, n))
        snprintf(hint, sizeof hint, " (did you mean %s?)", near);
    lsgd_printable(safe, sizeof safe, key, 60);
    if (n == 0)
        return fail(c, path, "unknown key '%s' at %s; no keys are allowed there", safe,
                    lsgd_path_where(path));
    return fail(c, path, "unknown key '%s' at %s%s; known: %s", safe, lsgd_path_where(path), hint,
                known);
}

static int check_object(checker *c, const json_t *schema, json_t *value, const char *path)
{
    if (!json_is_object(value))
        return LSGD_OK;
    const json_t *properties = json_object_get(schema, "properties");
    const json_t *additional = json_object_get(schema, "additionalProperties");
    if (json_is_object(properties))
        fill_defaults(c, properties, value);
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v) {
        char child[PATH_MAX_LEN];
        child_key(child, path, key);
        const json_t *sub = json_is_object(properties) ? json_object_get(properties, key) : NULL;
        int rc = LSGD_OK;
        c->integral = NULL;
        if (sub)
            rc = check(c, sub, v, child);
        else if (json_is_false(additional))
            rc = unknown_key(c, properties, key, path);
        else if (json_is_object(additional))
            rc = check(c, additional, v, child);
        if (rc)
            return rc;
        if (c->integral == v)
            json_object_set_new(value, key, integer_of(c)); /* the same key: iteration goes on */
    }
    const json_t *required = json_object_get(schema, "required");
    size_t i;
    json_t *name;
    json_array_foreach(required, i, name) {
        if (json_is_string(name) && !json_object_get(value, json_string_value(name)))
            return fail(c, path, "missing required key '%s' at %s", json_string_value(name),
                        lsgd_path_where(path));
    }
    return LSGD_OK;
}

/* ---- combinators -------------------------------------------------------- */

/* Make dst hold what src holds (src is a checked deep copy of dst). */
static void take_contents(json_t *dst, json_t *src)
{
    if (json_is_object(dst) && json_is_object(src))
        json_object_update(dst, src);
    else if (json_is_array(dst) && json_is_array(src)) {
        json_array_clear(dst);
        json_array_extend(dst, src);
    }
}

typedef struct attempt {
    int ok;
    int depth;
    lsgd_error err;
    json_t *result;
} attempt;

static attempt try_branch(const checker *c, const json_t *schema, const json_t *value,
                          const char *path)
{
    attempt a = {0};
    checker probe = {.root = c->root, .err = &a.err};
    a.result = json_deep_copy(value);
    a.ok = check(&probe, schema, a.result, path) == LSGD_OK;
    a.depth = probe.fail_depth;
    return a;
}

/* anyOf (exactly_one = 0) and oneOf (exactly_one = 1). */
static int check_alternatives(checker *c, const json_t *branches, int exactly_one, json_t *value,
                              const char *path)
{
    size_t i, passed = 0, first_pass = 0;
    json_t *branch;
    json_t *taken = NULL;
    attempt best = {.depth = -1};
    json_array_foreach(branches, i, branch) {
        attempt a = try_branch(c, branch, value, path);
        if (a.ok) {
            if (passed++ == 0) {
                first_pass = i;
                taken = a.result;
                if (!exactly_one)
                    break;
            } else {
                json_decref(a.result);
                json_decref(taken);
                return fail(c, path, "%s: matches alternatives %zu and %zu, but must match exactly one",
                            lsgd_path_where(path), first_pass + 1, i + 1);
            }
            continue;
        }
        json_decref(a.result);
        if (a.depth > best.depth)
            best = a;
    }
    if (passed) {
        if (json_is_integer(taken) && json_is_real(value))
            c->integral = value; /* the branch took it as an integer */
        take_contents(value, taken);
        json_decref(taken);
        return LSGD_OK;
    }
    c->fail_depth = best.depth;
    if (c->err)
        *c->err = best.err;
    return LSGD_ERR_INPUT;
}

static int check_combinators(checker *c, const json_t *schema, json_t *value, const char *path)
{
    const json_t *all = json_object_get(schema, "allOf");
    size_t i;
    json_t *sub;
    json_array_foreach(all, i, sub) {
        int rc = check(c, sub, value, path);
        if (rc)
            return rc;
    }
    const json_t *any = json_object_get(schema, "anyOf");
    if (json_is_array(any) && check_alternatives(c, any, 0, value, path))
        return LSGD_ERR_INPUT;
    const json_t *one = json_object_get(schema, "oneOf");
    if (json_is_array(one) && check_alternatives(c, one, 1, value, path))
        return LSGD_ERR_INPUT;
    const json_t *cond = json_object_get(schema, "if");
    if (cond) {
        attempt a = try_branch(c, cond, value, path);
        json_decref(a.result);
        const json_t *then = json_object_get(schema, a.ok ? "then" : "else");
        if (then)
            return check(c, then, value, path);
    }
    return LSGD_OK;
}

/* ---- one schema node ---------------------------------------------------- */

static int check_keywords(checker *c, const json_t *schema, json_t *value, const char *path)
{
    const json_t *ref = json_object_get(schema, "$ref");
    if (json_is_string(ref)) {
        const json_t *target = lsgd_schema_resolve(c->root, json_string_value(ref));
        if (!target)
            return fail(c, path, "%s: the schema refers to %s, which it does not define",
                        lsgd_path_where(path), json_string_value(ref));
        int rc = check(c, target, value, path);
        if (rc)
            return rc;
    }
    const json_t *type = json_object_get(schema, "type");
    /* an integer key's own range, when it has one, says more than int64's */
    if (type && wants_integer(type) && integral_beyond_int64(value) &&
        check_number(c, schema, value, path))
        return LSGD_ERR_INPUT;
    if (type && check_type(c, type, value, path))
        return LSGD_ERR_INPUT;
    const json_t *options = json_object_get(schema, "enum");
    if (json_is_array(options) && check_enum(c, options, value, path))
        return LSGD_ERR_INPUT;
    const json_t *constant = json_object_get(schema, "const");
    if (constant && !same_value(constant, value)) {
        char want[160], got[160];
        lsgd_json_describe(want, sizeof want, constant);
        lsgd_json_describe(got, sizeof got, value);
        return fail(c, path, "%s: expected %s, got %s", lsgd_path_where(path), want, got);
    }
    int rc = check_number(c, schema, value, path);
    if (!rc)
        rc = check_string(c, schema, value, path);
    if (!rc)
        rc = check_array(c, schema, value, path);
    if (!rc)
        rc = check_object(c, schema, value, path);
    if (!rc)
        rc = check_combinators(c, schema, value, path);
    return rc;
}

static int check(checker *c, const json_t *schema, json_t *value, const char *path)
{
    if (json_is_true(schema))
        return LSGD_OK;
    if (json_is_false(schema))
        return fail(c, path, "%s: no value is allowed here", lsgd_path_where(path));
    if (!json_is_object(schema))
        return LSGD_OK;
    int rc = check_keywords(c, schema, value, path);
    const json_t *message = json_object_get(schema, "errorMessage");
    if (rc && json_is_string(message))
        fail(c, path, "%s: %s", lsgd_path_where(path), json_string_value(message));
    return rc;
}

int lsgd_schema_check(const json_t *root, const json_t *schema, json_t *value,
                      const char *path, lsgd_error *err)
{
    checker c = {.root = root, .err = err};
    return check(&c, schema, value, path ? path : "");
}

int lsgd_schema_check_member(const json_t *root, const json_t *schema, json_t *object,
                             const char *key, const char *path, lsgd_error *err)
{
    checker c = {.root = root, .err = err};
    json_t *value = json_object_get(object, key);
    int rc = check(&c, schema, value, path ? path : "");
    if (rc == LSGD_OK && c.integral == value)
        json_object_set_new(object, key, integer_of(&c));
    return rc;
}
