/*
 * libsvm.c — fuzzes a LIBSVM file loaded as data.train (lsgd_data_load →
 * lsgd_libsvm_read, labels, normalize).  Input: one options byte (data.h),
 * then the file.
 */
#include "data.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_file("train.svm", data + 1, size - 1);
    fuzz_load_data(json_pack("{s:s,s:s}", "format", "libsvm", "path", path), data[0]);
    return 0;
}
