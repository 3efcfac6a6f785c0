/*
 * csv.c — fuzzes a CSV file loaded as data.train (lsgd_data_load →
 * lsgd_csv_read with the header and label_column of the options byte,
 * labels, normalize).  Input: one options byte (data.h), then the file.
 */
#include "data.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_file("train.csv", data + 1, size - 1);
    fuzz_load_data(json_pack("{s:s,s:s}", "format", "csv", "path", path), data[0]);
    return 0;
}
