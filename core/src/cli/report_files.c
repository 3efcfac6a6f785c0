/*
 * report_files.c — CSV fields and pairs of files written atomically, for
 * the tables of `lsgd sweep` and `lsgd compare` (report_files.h).
 */
#include "cli/report_files.h"

#include <math.h>
#include <string.h>

#include "cli/sweep.h"
#include "host/schema.h"
#include "io/atomic_file.h"

void csv_field(FILE *f, const char *text, int first)
{
    if (!first)
        fputc(',', f);
    if (!strpbrk(text, ",\"\n\r")) {
        fputs(text, f);
        return;
    }
    fputc('"', f);
    for (; *text; text++) {
        if (*text == '"')
            fputc('"', f);
        fputc(*text, f);
    }
    fputc('"', f);
}

void csv_number(FILE *f, double x)
{
    char text[64] = "";
    if (isfinite(x))
        lsgd_number_format(text, sizeof text, x);
    csv_field(f, text, 0);
}

void csv_values(FILE *f, const json_t *keys, const json_t *values)
{
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        char text[256] = "";
        const json_t *v = json_object_get(values, json_string_value(key));
        if (v)
            sweep_value_text(text, sizeof text, v);
        csv_field(f, text, 0);
    }
}

int report_write_pair(const char *dir, const char *name_a, const char *name_b,
                      int (*write)(FILE *a, FILE *b, const void *ctx), const void *ctx,
                      lsgd_error *err)
{
    char path_a[4200], path_b[4200];
    snprintf(path_a, sizeof path_a, "%.4000s/%s", dir, name_a);
    snprintf(path_b, sizeof path_b, "%.4000s/%s", dir, name_b);
    lsgd_atomic_file a, b;
    if (lsgd_mkdirs(dir, err) || lsgd_atomic_open(&a, path_a, err))
        return err->code;
    if (lsgd_atomic_open(&b, path_b, err)) {
        lsgd_atomic_abort(&a);
        return err->code;
    }
    if (write(a.f, b.f, ctx)) {
        lsgd_atomic_abort(&a);
        lsgd_atomic_abort(&b);
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "cannot write %s and %s", path_a, path_b);
    }
    if (lsgd_atomic_commit(&a, err)) {
        lsgd_atomic_abort(&b);
        return err->code;
    }
    return lsgd_atomic_commit(&b, err);
}
