/*
 * libsvm.c — fuzzes a LIBSVM file loaded as data.train (lsgd_data_load →
 * lsgd_libsvm_read, labels, normalize).  Input: one options byte (data.h),
 * then the file.
 */
#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load_file("libsvm", "train.svm", data, size);
    return 0;
}
