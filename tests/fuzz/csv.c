/*
 * csv.c — fuzzes a CSV file loaded as data.train (lsgd_data_load →
 * lsgd_csv_read with the header and label_column of the options byte,
 * labels, normalize).  Input: one options byte (data.h), then the file.
 */
#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load_file("csv", "train.csv", data, size);
    return 0;
}
