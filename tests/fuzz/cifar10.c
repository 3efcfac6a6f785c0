/*
 * cifar10.c — fuzzes a CIFAR-10 binary batch loaded as data.train
 * (lsgd_data_load → lsgd_cifar10_read with "files": [the batch], labels,
 * normalize).  Input: one options byte (data.h), then the batch file
 * (records of 1 label byte + 3072 pixel bytes).
 */
#include "data.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_file("data_batch_1.bin", data + 1, size - 1);
    fuzz_load_data(json_pack("{s:s,s:[s]}", "format", "cifar10", "files", path), data[0]);
    return 0;
}
