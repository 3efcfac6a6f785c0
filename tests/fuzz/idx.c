/*
 * idx.c — fuzzes a pair of MNIST IDX files, plain or gzip, loaded as
 * data.train (lsgd_data_load → lsgd_idx_read, labels, normalize).
 *
 * Input: one options byte (data.h; bit 6 gzips the images, bit 7 the
 * labels, here, so the fuzzer explores the decoder behind a valid stream;
 * gzip bytes in the input itself reach the stream errors), then the images
 * file, the separator "@@LABELS@@" and the labels file (absent: empty).
 */
#include <stdlib.h>
#include <zlib.h>

#include "data.h"
#include "fuzz.h"

/* bytes[n] as a gzip file named name. */
static const char *gzip_file(const char *name, const uint8_t *bytes, size_t n)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)bytes;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    const char *path = fuzz_file(name, out, z.total_out);
    deflateEnd(&z);
    free(out);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t options = data[0];
    const uint8_t *labels;
    size_t labels_size;
    size_t images_size = fuzz_split(data + 1, size - 1, "@@LABELS@@", &labels, &labels_size);
    const char *images_path = options & 64 ? gzip_file("images.gz", data + 1, images_size)
                                           : fuzz_file("images", data + 1, images_size);
    const char *labels_path = options & 128 ? gzip_file("labels.gz", labels, labels_size)
                                            : fuzz_file("labels", labels, labels_size);
    fuzz_load_data(json_pack("{s:s,s:s,s:s}", "format", "idx", "images", images_path, "labels",
                             labels_path),
                   options);
    return 0;
}
