/*
 * data.c — one data object loaded as a worker loads it (data.h).
 */
#include "data.h"

#include "data/dataset.h"
#include "fuzz.h"

void fuzz_load_data(json_t *train, uint8_t options)
{
    static const char *const normalize[] = {"none", "unit", "standardize", "none"};
    json_t *data = json_object();
    if (json_string_value(json_object_get(train, "format"))[0] == 'c') {
        json_object_set_new(train, "header", json_boolean(options & 8));
        json_object_set_new(train, "label_column", json_integer((options >> 4) & 3));
    }
    json_object_set_new(data, "train", train);
    json_object_set_new(data, "normalize", json_string(normalize[options & 3]));
    if (options & 4)
        json_object_set_new(data, "test", json_pack("{s:f}", "split", 0.25));

    lsgd_dataset *set = NULL, *test = NULL;
    lsgd_error err;
    lsgd_error_clear(&err);
    int rc = lsgd_data_load(&set, &test, data, 1, &err);
    fuzz_check(rc, &err, "lsgd_data_load");
    lsgd_dataset_free(set);
    lsgd_dataset_free(test);
    json_decref(data);
}

void fuzz_load_file(const char *format, const char *file, const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    const char *path = fuzz_file(file, data + 1, size - 1);
    fuzz_load_data(json_pack("{s:s,s:s}", "format", format, "path", path), data[0]);
}
