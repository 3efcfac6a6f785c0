/* data_errors.c — every bad input of the models/data issue is refused with
 * LSGD_ERR_INPUT and one line naming the config key, the file and, for text
 * formats, the line and column, plus what was expected. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.h"
#include "harness.h"

static const char *fixture(const char *name)
{
    static char path[8][4096];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 4096, "%s/tests/data/%s", test_root_dir(), name);
    return p;
}

/* Load cfg as `key`; expect LSGD_ERR_INPUT and a one-line message holding `want`. */
static void expect_refused(const char *json, const char *key, size_t features, const char *want)
{
    json_t *cfg = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    int rc = lsgd_dataset_load(&set, cfg, key, features, 1, &err);
    json_decref(cfg);
    CU_ASSERT_EQUAL(rc, LSGD_ERR_INPUT);
    CU_ASSERT_EQUAL(err.code, LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(set);
    CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
    if (!strstr(err.message, want))
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.message, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, key));
}

/* tests/data/<file> in `format` refused with "<its path><want>". */
static void expect_file_refused(const char *format, const char *file, const char *want)
{
    char json[4200], where[4300];
    const char *path = fixture(file);
    snprintf(json, sizeof json, "{\"format\":\"%s\",\"path\":\"%s\"}", format, path);
    snprintf(where, sizeof where, "%s%s", path, want);
    expect_refused(json, "data.train", 0, where);
}

static void expect_libsvm_refused(const char *file, const char *want)
{
    expect_file_refused("libsvm", file, want);
}

LSGD_TEST(data_errors, libsvm_non_numeric_label_names_file_line_column)
{
    expect_libsvm_refused("bad_label.svm", ":2:1: label 'abc' is not a number");
}

LSGD_TEST(data_errors, libsvm_index_zero_names_file_line_column)
{
    expect_libsvm_refused("index_zero.svm", ":2:4: index 0; LIBSVM feature indices start at 1");
}

LSGD_TEST(data_errors, libsvm_decreasing_indices_name_file_line_column)
{
    expect_libsvm_refused("decreasing_indices.svm",
                          ":1:14: index 2 after index 3; expected increasing indices");
}

LSGD_TEST(data_errors, libsvm_missing_colon_names_file_line_column)
{
    expect_libsvm_refused("missing_colon.svm", ":1:10: '2' has no colon; expected index:value");
}

LSGD_TEST(data_errors, libsvm_value_not_a_number_names_file_line_column)
{
    expect_libsvm_refused("bad_value.svm", ":2:12: value 'x7' is not a number");
}

LSGD_TEST(data_errors, libsvm_line_over_1MiB_is_refused_with_its_line)
{
    const char *dir = test_tmpdir();
    size_t pairs = 200000; /* " i:0.5" ≥ 10 bytes each beyond i = 10⁴: ≈ 2 MiB */
    char *text = malloc(pairs * 16 + 64), *p = text;
    p += sprintf(p, "+1 1:1\n-1");
    for (size_t i = 1; i <= pairs; i++)
        p += sprintf(p, " %zu:0.5", i);
    strcpy(p, "\n+1 1:2\n");
    const char *path = test_write_file(dir, "long.svm", text);
    free(text);
    char json[4200], want[4300];
    snprintf(json, sizeof json, "{\"format\":\"libsvm\",\"path\":\"%s\"}", path);
    snprintf(want, sizeof want, "%s:2:", path);
    expect_refused(json, "data.train", 0, want);
    expect_refused(json, "data.train", 0, "line longer than 1 MiB");
}

static const char *write_bytes(const char *dir, const char *name, const unsigned char *bytes,
                               size_t n)
{
    static char path[4][4096];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 4096, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    return p;
}

/* A tiny IDX pair: `count` 2×2 images, `labels` labels. */
static void write_idx_pair(const char *dir, unsigned images_magic, unsigned count,
                           unsigned labels_count, size_t image_bytes, const char **img,
                           const char **lab)
{
    unsigned char buf[256] = {0};
    unsigned char head[16] = {0, 0, (images_magic >> 8) & 0xff, images_magic & 0xff, 0, 0, 0,
                              (unsigned char)count, 0, 0, 0, 2, 0, 0, 0, 2};
    memcpy(buf, head, 16);
    *img = write_bytes(dir, "img", buf, 16 + image_bytes);
    unsigned char lhead[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)labels_count};
    memset(buf, 0, sizeof buf);
    memcpy(buf, lhead, 8);
    *lab = write_bytes(dir, "lab", buf, 8 + labels_count);
}

static void expect_idx_refused(const char *img, const char *lab, const char *want)
{
    char json[8400];
    snprintf(json, sizeof json, "{\"format\":\"idx\",\"images\":\"%s\",\"labels\":\"%s\"}", img,
             lab);
    expect_refused(json, "data.train", 0, want);
}

LSGD_TEST(data_errors, idx_bad_magic_is_refused)
{
    const char *img, *lab;
    write_idx_pair(test_tmpdir(), 0x0801, 3, 3, 12, &img, &lab); /* a labels magic on images */
    expect_idx_refused(img, lab, "bad magic 0x00000801; expected 0x00000803");
    expect_idx_refused(img, lab, img);
}

LSGD_TEST(data_errors, idx_truncated_file_is_refused)
{
    const char *img, *lab;
    write_idx_pair(test_tmpdir(), 0x0803, 3, 3, 7, &img, &lab); /* 3 images need 12 bytes */
    expect_idx_refused(img, lab, "truncated: the header promises 3 images (28 bytes) but the file "
                                 "has 23 bytes");
}

LSGD_TEST(data_errors, idx_image_label_count_mismatch_is_refused)
{
    const char *img, *lab;
    write_idx_pair(test_tmpdir(), 0x0803, 3, 2, 12, &img, &lab);
    char want[8400];
    snprintf(want, sizeof want, "%s has 3 images but %s has 2 labels", img, lab);
    expect_idx_refused(img, lab, want);
}

/* The 16-byte header of an IDX images file: magic 0x0803, n×rows×cols. */
static void images_header(unsigned char *head, uint32_t n, uint32_t rows, uint32_t cols)
{
    const uint32_t words[4] = {0x0803, n, rows, cols};
    for (int w = 0; w < 4; w++)
        for (int b = 0; b < 4; b++)
            head[4 * w + b] = (unsigned char)(words[w] >> (24 - 8 * b));
}

LSGD_TEST(data_errors, idx_header_whose_dimensions_overflow_the_byte_count_is_refused)
{
    const char *dir = test_tmpdir(), *img, *lab;
    write_idx_pair(dir, 0x0803, 3, 3, 12, &img, &lab); /* good labels for 3 samples */
    unsigned char head[16];
    images_header(head, 1u << 22, 1u << 21, 1u << 21); /* 2^64 bytes: wraps to 0 */
    img = write_bytes(dir, "huge", head, sizeof head);
    char want[4400];
    snprintf(want, sizeof want,
             "%s: byte 4: header dimensions 4194304x2097152x2097152 overflow the byte count", img);
    expect_idx_refused(img, lab, want);
    images_header(head, 3, 1u << 16, 1u << 16); /* 2^34 bytes: fits size_t, not the limits */
    img = write_bytes(dir, "big", head, sizeof head);
    expect_idx_refused(img, lab, "header dimensions 3x65536x65536 exceed lsgd's limits");
    images_header(head, 1u << 16, 16, 16); /* within the limits, not within the file */
    img = write_bytes(dir, "long", head, sizeof head);
    expect_idx_refused(img, lab, "truncated: the header promises 65536 images");
}

LSGD_TEST(data_errors, empty_or_shorter_than_magic_idx_files_are_truncated_not_bad_magic)
{
    const char *dir = test_tmpdir(), *good_img, *good_lab;
    write_idx_pair(dir, 0x0803, 3, 3, 12, &good_img, &good_lab);
    char img[4096], lab[4096]; /* write_bytes reuses its paths */
    snprintf(img, sizeof img, "%s", good_img);
    snprintf(lab, sizeof lab, "%s", good_lab);
    const unsigned char magic[3] = {0, 0, 8};
    for (size_t size = 0; size < 4; size++) {
        const char *cut = write_bytes(dir, "short", magic, size);
        char want[4400];
        snprintf(want, sizeof want,
                 "%s: truncated: %zu bytes, shorter than the 4-byte magic number", cut, size);
        expect_idx_refused(cut, lab, want); /* as images */
        expect_idx_refused(img, cut, want); /* as labels */
    }
}

/* images: gzip of a valid 200-image file cut to `keep` bytes. */
static const char *cut_gzip_images(const char *dir, size_t keep, const char *name)
{
    unsigned char bytes[16 + 200 * 4];
    images_header(bytes, 200, 2, 2);
    for (size_t i = 16; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 2654435761u >> 13); /* compresses poorly */
    const char *plain = write_bytes(dir, "plain-images", bytes, sizeof bytes);
    static char path[2][4096];
    static int next;
    char *p = path[next++ % 2], cmd[9000];
    snprintf(p, 4096, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "gzip -c '%s' | head -c %zu > '%s'", plain, keep, p);
    test_output o = test_run(cmd, 30);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    return p;
}

LSGD_TEST(data_errors, gzip_idx_cut_off_early_is_reported_truncated)
{
    const char *dir = test_tmpdir();
    unsigned char labels[8 + 200] = {0, 0, 8, 1, 0, 0, 0, 200};
    char lab[4096]; /* write_bytes reuses its paths */
    snprintf(lab, sizeof lab, "%s", write_bytes(dir, "lab200", labels, sizeof labels));
    /* 12 bytes: the gzip header and nothing decompressed (once "bad magic
     * 0x00000000"); 400: part way through the pixels. */
    const size_t keeps[2] = {12, 400};
    for (int k = 0; k < 2; k++) {
        const char *cut = cut_gzip_images(dir, keeps[k], k ? "mid.gz" : "head.gz");
        char want[4400];
        snprintf(want, sizeof want, "%s: truncated: the gzip stream ends early", cut);
        expect_idx_refused(cut, lab, want);
    }
    const char *whole = cut_gzip_images(dir, 1u << 20, "whole.gz"); /* the control: loads */
    char json[8400];
    snprintf(json, sizeof json, "{\"format\":\"idx\",\"images\":\"%s\",\"labels\":\"%s\"}",
             whole, lab);
    json_t *cfg = json_loads(json, 0, NULL);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(lsgd_dataset_load(&set, cfg, "data.train", 0, 1, &err), LSGD_OK);
    if (set)
        CU_ASSERT_EQUAL(set->n, 200);
    lsgd_dataset_free(set);
    json_decref(cfg);
}

LSGD_TEST(data_errors, csv_ragged_rows_are_refused_with_line)
{
    char json[4200], want[4300];
    const char *path = fixture("ragged.csv");
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\"}", path);
    snprintf(want, sizeof want, "%s:3:1: 2 cells; expected 3 as on line 1", path);
    expect_refused(json, "data.train", 0, want);
}

LSGD_TEST(data_errors, csv_non_numeric_cell_is_refused_with_line_and_column)
{
    char json[4200], want[4300];
    const char *path = fixture("non_numeric.csv");
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\",\"header\":true}", path);
    snprintf(want, sizeof want, "%s:3:5: cell 2 'oops' is not a number", path);
    expect_refused(json, "data.train", 0, want);
}

LSGD_TEST(data_errors, missing_file_is_refused_naming_it)
{
    expect_refused("{\"format\":\"libsvm\",\"path\":\"/nonexistent/x.svm\"}", "data.train", 0,
                   "/nonexistent/x.svm: cannot read LIBSVM file: No such file or directory");
}

/* data.train and data.test disagree: expect the whole `data` object refused. */
static void expect_data_refused(const char *json, const char *want)
{
    json_t *data = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    lsgd_dataset *train = NULL, *test = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(lsgd_data_load(&train, &test, data, 1, &err), LSGD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(train);
    CU_ASSERT_PTR_NULL(test);
    CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
    if (!strstr(err.message, want))
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.message, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
    json_decref(data);
}

LSGD_TEST(data_errors, libsvm_test_set_with_more_features_than_train_is_refused)
{
    char json[9000];
    /* train: heart_scale (13 features); test: a line using feature 20 */
    snprintf(json, sizeof json,
             "{\"train\":{\"format\":\"libsvm\",\"path\":\"/usr/share/doc/liblinear-tools/"
             "examples/heart_scale\"},\"test\":{\"format\":\"libsvm\",\"path\":\"%s\"}}",
             fixture("twenty_features.svm"));
    expect_data_refused(json, "data.test: ");
    expect_data_refused(json, "twenty_features.svm:1:10: index 20 beyond the 13 features expected");
}

LSGD_TEST(data_errors, csv_test_set_with_other_columns_than_train_is_refused)
{
    const char *dir = test_tmpdir();
    const char *train = test_write_file(dir, "train.csv", "1,2,3\n0,4,5\n");
    const char *test = test_write_file(dir, "test.csv", "1,2,3,4\n");
    char json[9000];
    snprintf(json, sizeof json,
             "{\"train\":{\"format\":\"csv\",\"path\":\"%s\"},\"test\":{\"format\":\"csv\","
             "\"path\":\"%s\"}}",
             train, test);
    expect_data_refused(json, "data.test: ");
    expect_data_refused(json, "3 features per row; expected 2");
}

LSGD_TEST(data_errors, idx_test_images_of_another_size_than_train_are_refused)
{
    const char *dir = test_tmpdir();
    const char *train = test_write_file(dir, "train.csv", "1,2,3\n0,4,5\n");
    const char *img, *lab;
    write_idx_pair(dir, 0x0803, 3, 3, 12, &img, &lab); /* 2×2 = 4 pixels, train has 2 */
    char json[9000];
    snprintf(json, sizeof json,
             "{\"train\":{\"format\":\"csv\",\"path\":\"%s\"},\"test\":{\"format\":\"idx\","
             "\"images\":\"%s\",\"labels\":\"%s\"}}",
             train, img, lab);
    expect_data_refused(json, "images of 4 pixels; expected 2 features");
}

LSGD_TEST(data_errors, test_label_unknown_to_the_training_set_is_refused)
{
    const char *dir = test_tmpdir();
    const char *train = test_write_file(dir, "train.svm", "1 1:1\n2 1:2\n3 1:3\n");
    const char *test = test_write_file(dir, "test.svm", "7 1:1\n");
    char json[9000];
    snprintf(json, sizeof json,
             "{\"train\":{\"format\":\"libsvm\",\"path\":\"%s\"},\"test\":{\"format\":\"libsvm\","
             "\"path\":\"%s\"}}",
             train, test);
    expect_data_refused(json, "has label 7, which the training set");
}

LSGD_TEST(data_errors, synthetic_generator_errors_name_the_key)
{
    expect_refused("{\"format\":\"synthetic\",\"generator\":\"spirals\",\"n\":5,\"d\":2}",
                   "data.train", 0, "data.train.generator: 'spirals'");
    expect_refused("{\"format\":\"synthetic\",\"generator\":\"overparameterized\",\"n\":50,"
                   "\"d\":10}",
                   "data.train", 0, "data.train.d: 10 with n 50; overparameterized data needs d > n");
    expect_refused("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"d\":2}", "data.train", 0,
                   "data.train.n: missing");
}

/* Through the command line: `lsgd CMD` (run or validate) on a config with
 * `workers` workers whose data is bad.  Expects status 2, exactly one line
 * on stderr holding `want`, and no output directory. */
static void expect_cli_refuses_data(const char *cmd_name, int workers, const char *train,
                                    const char *want)
{
    const char *lsgd = test_build_path("bin/lsgd");
    CU_ASSERT_FATAL(access(lsgd, X_OK) == 0);
    const char *dir = test_tmpdir();
    char json[8192], cmd[16384], out_dir[4200];
    snprintf(out_dir, sizeof out_dir, "%s/out-%s-%d", dir, cmd_name, workers);
    snprintf(json, sizeof json,
             "{\"workers\":%d,\"model\":{\"type\":\"logreg\"},\"data\":{\"train\":{\"format\":"
             "\"libsvm\",\"path\":\"%s\"}},\"algorithm\":{\"steps\":5},\"output\":{\"dir\":\"%s\"}}",
             workers, train, out_dir);
    const char *cfg = test_write_file(dir, "bad.json", json);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s '%s'", dir, lsgd, cmd_name, cfg);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    if (o.status != 2 || test_count_lines(o.err) != 1 || !strstr(o.err, want))
        fprintf(stderr, "\n  lsgd %s, %d workers: status %d, stderr:\n%s", cmd_name, workers,
                o.status, o.err);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, want));
    CU_ASSERT_NOT_EQUAL(access(out_dir, F_OK), 0); /* nothing was created */
    test_output_free(&o);
}

LSGD_TEST(data_errors, lsgd_run_on_a_bad_libsvm_file_says_where_in_one_line_and_exits_2)
{
    char want[4400];
    snprintf(want, sizeof want, "lsgd: data.train: %s:2:4: index 0", fixture("index_zero.svm"));
    for (int workers = 1; workers <= 2; workers++)
        expect_cli_refuses_data("run", workers, fixture("index_zero.svm"), want);
}

LSGD_TEST(data_errors, lsgd_validate_loads_the_data_and_refuses_a_bad_file_in_one_line)
{
    char want[4400];
    snprintf(want, sizeof want, "lsgd: data.train: %s:2:4: index 0", fixture("index_zero.svm"));
    for (int workers = 1; workers <= 2; workers++)
        expect_cli_refuses_data("validate", workers, fixture("index_zero.svm"), want);
}

LSGD_TEST(data_errors, more_workers_than_samples_is_refused_by_run_and_validate_in_one_line)
{
    const char *dir = test_tmpdir();
    const char *train = test_write_file(dir, "two.svm", "+1 1:1\n-1 1:-1\n");
    expect_cli_refuses_data("validate", 3, train, "workers: 3 workers but data.train");
    expect_cli_refuses_data("run", 3, train, "workers: 3 workers but data.train");
}

LSGD_TEST(data_errors, lsgd_validate_no_data_checks_the_config_without_opening_data_files)
{
    const char *lsgd = test_build_path("bin/lsgd");
    const char *dir = test_tmpdir();
    char json[8192], cmd[16384];
    snprintf(json, sizeof json,
             "{\"model\":{\"type\":\"logreg\"},\"data\":{\"train\":{\"format\":\"libsvm\","
             "\"path\":\"%s\"}}}", fixture("index_zero.svm"));
    const char *cfg = test_write_file(dir, "bad-data.json", json);
    snprintf(cmd, sizeof cmd, "'%s' validate '%s' --no-data", lsgd, cfg);
    test_output o = test_run(cmd, 60);
    CU_ASSERT_EQUAL(o.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "ok: "));
    test_output_free(&o);
}

/* ---- every bad input through `lsgd validate`: status 2, one line ---- */

/* A file a case writes into the temp dir: text (size 0: strlen), bytes
 * (size given), or made by `make` (the 1 MiB line). */
typedef struct bad_file {
    const char *name;
    const char *bytes;
    size_t size;
    char *(*make)(size_t *size);
} bad_file;

/* `data` is the config's data object and `want` the one stderr line's
 * content; in both {A} and {B} stand for the paths of files[0] and [1]. */
typedef struct bad_data_case {
    const char *name;
    bad_file files[2];
    const char *data;
    const char *want[2];
} bad_data_case;

/* "+1 1:1\n-1 1:0.5 2:0.5 …\n": line 2 is about 2 MiB. */
static char *libsvm_long_line(size_t *size)
{
    size_t pairs = 200000;
    char *text = malloc(pairs * 16 + 64), *p = text;
    p += sprintf(p, "+1 1:1\n-1");
    for (size_t i = 1; i <= pairs; i++)
        p += sprintf(p, " %zu:0.5", i);
    p += sprintf(p, "\n+1 1:2\n");
    *size = (size_t)(p - text);
    return text;
}

#define TEXT(file, text) {.name = file, .bytes = text}
#define RAW(file, literal) {.name = file, .bytes = literal, .size = sizeof(literal) - 1}
#define IDX_IMAGES_3x2x2 "\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00\x02"
#define IDX_LABELS_3 "\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03"
#define TRAIN_LIBSVM "{\"train\":{\"format\":\"libsvm\",\"path\":\"{A}\"}}"
#define TRAIN_IDX "{\"train\":{\"format\":\"idx\",\"images\":\"{A}\",\"labels\":\"{B}\"}}"
#define HEART "/usr/share/doc/liblinear-tools/examples/heart_scale"

static const bad_data_case bad_data_cases[] = {
    {.name = "libsvm non-numeric label",
     .files = {TEXT("label.svm", "+1 1:0.5 2:1\nabc 1:0.5\n")},
     .data = TRAIN_LIBSVM,
     .want = {"lsgd: data.train: {A}:2:1: label 'abc' is not a number"}},
    {.name = "libsvm index 0",
     .files = {TEXT("zero.svm", "+1 1:0.5 2:1\n-1 0:0.5 2:1\n")},
     .data = TRAIN_LIBSVM,
     .want = {"lsgd: data.train: {A}:2:4: index 0; LIBSVM feature indices start at 1"}},
    {.name = "libsvm decreasing indices",
     .files = {TEXT("decreasing.svm", "+1 1:0.5 3:1 2:0.25\n")},
     .data = TRAIN_LIBSVM,
     .want = {"lsgd: data.train: {A}:1:14: index 2 after index 3; expected increasing indices"}},
    {.name = "libsvm missing colon",
     .files = {TEXT("colon.svm", "-1 1:1\n+1 1:0.5 2 3:1\n")},
     .data = TRAIN_LIBSVM,
     .want = {"lsgd: data.train: {A}:2:10: '2' has no colon; expected index:value"}},
    {.name = "libsvm value not a number",
     .files = {TEXT("value.svm", "-1 1:0.5\n+1 1:0.5 2:x7\n")},
     .data = TRAIN_LIBSVM,
     .want = {"lsgd: data.train: {A}:2:12: value 'x7' is not a number"}},
    {.name = "libsvm line over 1 MiB", /* column 1048577: the first byte past 1 MiB */
     .files = {{.name = "long.svm", .make = libsvm_long_line}},
     .data = TRAIN_LIBSVM,
     .want = {"lsgd: data.train: {A}:2:1048577: line longer than 1 MiB"}},
    {.name = "idx bad magic",
     .files = {RAW("img", "\x00\x00\x08\x01\x00\x00\x00\x03" "abc"), RAW("lab", IDX_LABELS_3)},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {A}: byte 0: bad magic 0x00000801; expected 0x00000803"}},
    {.name = "idx truncated images",
     .files = {RAW("img", IDX_IMAGES_3x2x2 "0123456"), RAW("lab", IDX_LABELS_3)},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {A}: truncated: the header promises 3 images (28 bytes) but "
              "the file has 23 bytes"}},
    {.name = "idx truncated labels",
     .files = {RAW("img", IDX_IMAGES_3x2x2 "0123456789ab"),
               RAW("lab", "\x00\x00\x08\x01\x00\x00\x00\x03\x01")},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {B}: truncated: the header promises 3 labels (11 bytes) but "
              "the file has 9 bytes"}},
    {.name = "idx empty images file",
     .files = {RAW("img", ""), RAW("lab", IDX_LABELS_3)},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {A}: truncated: 0 bytes, shorter than the 4-byte magic number"}},
    {.name = "idx gzip cut after its header",
     .files = {RAW("img.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x01"),
               RAW("lab", IDX_LABELS_3)},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {A}: truncated: the gzip stream ends early"}},
    {.name = "idx dimensions overflow",
     .files = {RAW("img", "\x00\x00\x08\x03\x00\x40\x00\x00\x00\x20\x00\x00\x00\x20\x00\x00"),
               RAW("lab", IDX_LABELS_3)},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {A}: byte 4: header dimensions 4194304x2097152x2097152 "
              "overflow the byte count"}},
    {.name = "idx image/label count mismatch",
     .files = {RAW("img", IDX_IMAGES_3x2x2 "0123456789ab"),
               RAW("lab", "\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02")},
     .data = TRAIN_IDX,
     .want = {"lsgd: data.train: {A} has 3 images but {B} has 2 labels"}},
    {.name = "csv ragged rows",
     .files = {TEXT("ragged.csv", "1,2,3\n4,5,6\n7,8\n")},
     .data = "{\"train\":{\"format\":\"csv\",\"path\":\"{A}\"}}",
     .want = {"lsgd: data.train: {A}:3:1: 2 cells; expected 3 as on line 1"}},
    {.name = "csv non-numeric cell",
     .files = {TEXT("cells.csv", "label,a,b\n1,2,3\n0,2,oops\n")},
     .data = "{\"train\":{\"format\":\"csv\",\"path\":\"{A}\",\"header\":true}}",
     .want = {"lsgd: data.train: {A}:3:5: cell 2 'oops' is not a number"}},
    {.name = "libsvm test set wider than train (heart_scale, 13 features)",
     .files = {TEXT("test.svm", "+1 1:0.5 20:1\n")},
     .data = "{\"train\":{\"format\":\"libsvm\",\"path\":\"" HEART "\"},"
             "\"test\":{\"format\":\"libsvm\",\"path\":\"{A}\"}}",
     .want = {"lsgd: data.test: {A}:1:10: index 20 beyond the 13 features expected"}},
    {.name = "csv test set with another column count",
     .files = {TEXT("train.csv", "1,2,3\n0,4,5\n"), TEXT("test.csv", "1,2,3,4\n")},
     .data = "{\"train\":{\"format\":\"csv\",\"path\":\"{A}\"},"
             "\"test\":{\"format\":\"csv\",\"path\":\"{B}\"}}",
     .want = {"lsgd: data.test: {B}: 3 features per row; expected 2"}},
    {.name = "idx test images of another size than train",
     .files = {TEXT("train.csv", "1,2,3\n0,4,5\n"), RAW("img", IDX_IMAGES_3x2x2 "0123456789ab")},
     .data = "{\"train\":{\"format\":\"csv\",\"path\":\"{A}\"},"
             "\"test\":{\"format\":\"idx\",\"images\":\"{B}\",\"labels\":\"{B}.labels\"}}",
     .want = {"lsgd: data.test: {B}: images of 4 pixels; expected 2 features"}},
};

/* template with {A} and {B} replaced by a and b. */
static void expand(char *out, size_t size, const char *template, const char *a, const char *b)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *t = template; *t && used + 1 < size; t++) {
        const char *with = strncmp(t, "{A}", 3) == 0 ? a : strncmp(t, "{B}", 3) == 0 ? b : NULL;
        if (with)
            t += 2;
        used += (size_t)snprintf(out + used, size - used, "%s", with ? with : (char[]){*t, 0});
    }
}

static void write_case_file(const char *path, const bad_file *file)
{
    size_t size = file->size ? file->size : strlen(file->bytes ? file->bytes : "");
    char *made = file->make ? file->make(&size) : NULL;
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(made ? made : file->bytes, 1, size, f);
    fclose(f);
    free(made);
}

/* One case: its files, `lsgd validate` on them, status 2 and the one line. */
static void run_bad_data_case(const bad_data_case *c, const char *lsgd, const char *dir)
{
    char paths[2][4200] = {"", ""}, data[8192], json[16384], cmd[20000], want[8192];
    char out_dir[4300];
    for (int k = 0; k < 2 && c->files[k].name; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/%s", dir, c->files[k].name);
        write_case_file(paths[k], &c->files[k]);
    }
    if (strstr(c->data, "{B}.labels")) { /* the idx test set's labels: three */
        char labels[4300];
        snprintf(labels, sizeof labels, "%s.labels", paths[1]);
        write_case_file(labels, &(bad_file)RAW("labels", IDX_LABELS_3));
    }
    expand(data, sizeof data, c->data, paths[0], paths[1]);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(json, sizeof json,
             "{\"workers\":1,\"model\":{\"type\":\"logreg\"},\"data\":%s,"
             "\"algorithm\":{\"steps\":5},\"output\":{\"dir\":\"%s\"}}",
             data, out_dir);
    const char *cfg = test_write_file(dir, "bad.json", json);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' validate '%s'", dir, lsgd, cfg);
    test_output o = test_run(cmd, 60);
    int ok = o.status == 2 && test_count_lines(o.err) == 1;
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    for (int k = 0; k < 2 && c->want[k]; k++) {
        expand(want, sizeof want, c->want[k], paths[0], paths[1]);
        CU_ASSERT_PTR_NOT_NULL(strstr(o.err, want));
        if (!strstr(o.err, want)) {
            fprintf(stderr, "\n  %s: stderr lacks '%s'", c->name, want);
            ok = 0;
        }
    }
    CU_ASSERT_NOT_EQUAL(access(out_dir, F_OK), 0); /* validate creates nothing */
    if (!ok)
        fprintf(stderr, "\n  %s: status %d, stderr:\n%s\n", c->name, o.status, o.err);
    test_output_free(&o);
}

LSGD_TEST(data_errors, every_bad_data_file_makes_lsgd_validate_exit_2_with_one_line_saying_where)
{
    char lsgd[4096]; /* test_build_path's ring buffer is reused by test_write_file */
    snprintf(lsgd, sizeof lsgd, "%s", test_build_path("bin/lsgd"));
    CU_ASSERT_FATAL(access(lsgd, X_OK) == 0);
    for (size_t i = 0; i < sizeof bad_data_cases / sizeof *bad_data_cases; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", test_tmpdir()); /* one directory per case */
        run_bad_data_case(&bad_data_cases[i], lsgd, dir);
    }
}

/* ---- hostile files: sizes, non-regular files, bytes that mean something else ---- */

static lsgd_dataset *load_fixture(const char *format, const char *name)
{
    char json[4300];
    snprintf(json, sizeof json, "{\"format\":\"%s\",\"path\":\"%s\"}", format, fixture(name));
    json_t *cfg = json_loads(json, 0, NULL);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    if (lsgd_dataset_load(&set, cfg, "data.train", 0, 1, &err) != LSGD_OK)
        fprintf(stderr, "\n  %s: %s\n", name, err.message);
    json_decref(cfg);
    return set;
}

LSGD_TEST(data_errors, csv_with_cr_only_or_crlf_line_endings_reads_one_sample_per_line)
{
    lsgd_dataset *lf = load_fixture("csv", "lf.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lf);
    const char *others[] = {"cr_only.csv", "crlf.csv"};
    for (int k = 0; k < 2; k++) {
        lsgd_dataset *set = load_fixture("csv", others[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(set);
        CU_ASSERT_EQUAL(set->n, 3);
        CU_ASSERT_EQUAL(set->d, 2);
        CU_ASSERT_EQUAL(memcmp(set->X, lf->X, 6 * sizeof(float)), 0);
        CU_ASSERT_EQUAL(memcmp(set->y, lf->y, 3 * sizeof(float)), 0);
        lsgd_dataset_free(set);
    }
    lsgd_dataset_free(lf);
}

LSGD_TEST(data_errors, a_value_beyond_float_range_is_refused_at_its_column_and_a_denormal_is_read)
{
    expect_file_refused("libsvm", "value_beyond_float.svm",
                        ":2:6: value '1e39' is out of float range");
    expect_file_refused("csv", "label_beyond_float.csv",
                        ":2:1: cell 0 '1e39' is out of float range");
    lsgd_dataset *set = load_fixture("libsvm", "denormal.svm"); /* 1e-320, 1e-40 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->n, 2);
    CU_ASSERT(set->val[0] >= 0 && set->val[0] < 1e-38f);
    CU_ASSERT(set->val[3] > 0 && set->val[3] < 1e-38f); /* a float denormal */
    lsgd_dataset_free(set);
}

LSGD_TEST(data_errors, a_nul_byte_is_refused_naming_its_line_and_column)
{
    expect_file_refused("csv", "nul_byte.csv", ":2:4: a NUL byte");
    expect_file_refused("libsvm", "nul_byte.svm", ":2:7: a NUL byte");
}

LSGD_TEST(data_errors, bytes_of_a_binary_file_quoted_in_a_message_are_escaped_and_bounded)
{
    expect_file_refused("libsvm", "binary_label.svm",
                        ":2:1: label '\\x80\\xff\\x1b[2J\\x07' is not a number");
    /* a 200-byte cell is quoted as its first 40 bytes and "..." */
    char json[4300], text[300] = "1,", *p = text + 2;
    memset(p, 'x', 200);
    strcpy(p + 200, "\n");
    const char *path = test_write_file(test_tmpdir(), "wide.csv", text);
    snprintf(json, sizeof json, "{\"format\":\"csv\",\"path\":\"%s\"}", path);
    expect_refused(json, "data.train", 0, "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not");
}

LSGD_TEST(data_errors, sizes_whose_product_wraps_or_passes_the_limits_are_refused_naming_the_key)
{
    /* n = 2^62 + 1, d = 1: n·d·4 wrapped and the generator wrote past its buffer */
    expect_refused("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":4611686018427387905,"
                   "\"d\":1}",
                   "data.train", 0, "data.train.n: 4611686018427387905 is above lsgd's limit");
    expect_refused("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":2147483648,"
                   "\"d\":67108864}",
                   "data.train", 0, "exceed lsgd's limit of 4294967296 values");
    expect_refused("{\"format\":\"synthetic\",\"generator\":\"blobs\",\"n\":10,\"d\":2,"
                   "\"classes\":4294967298}",
                   "data.train", 0, "data.train.classes: 4294967298 is above lsgd's limit 256");
    expect_libsvm_refused("index_beyond_limit.svm",
                          ":2:4: index 4294967290 beyond lsgd's limit of 67108864 features");
}

/* tests/data/idx/<images> with idx/two-labels refused with "<its path><want>". */
static void expect_idx_images_refused(const char *images, const char *want)
{
    char img[4096], lab[4096], where[4400];
    snprintf(img, sizeof img, "%s", fixture(images));
    snprintf(lab, sizeof lab, "%s", fixture("idx/two-labels"));
    snprintf(where, sizeof where, "%s%s", img, want);
    expect_idx_refused(img, lab, where);
}

LSGD_TEST(data_errors, idx_gzip_with_an_unknown_compression_method_is_refused_with_zlibs_reason)
{
    /* 1f 8b 8c ff: zlib's message was read after gzclose had freed it */
    expect_idx_images_refused("idx/unknown-method.gz",
                              ": byte 0: cannot decompress: unknown compression method");
}

LSGD_TEST(data_errors, idx_gzip_expanding_past_its_header_dimensions_is_refused)
{
    /* 8 KB of gzip: a 2-image header, its 8 pixels, then 8 MiB of zeros */
    expect_idx_images_refused("idx/overlong-images.gz",
                              ": byte 24: more data than the header's 2 images need");
    char img[4096], lab[4096];
    snprintf(lab, sizeof lab, "%s", fixture("idx/two-labels"));
    snprintf(img, sizeof img, "%s", fixture("idx/two-images")); /* the control: loads */
    char json[8500];
    snprintf(json, sizeof json, "{\"format\":\"idx\",\"images\":\"%s\",\"labels\":\"%s\"}", img,
             lab);
    json_t *cfg = json_loads(json, 0, NULL);
    lsgd_dataset *set = NULL;
    lsgd_error err = {0};
    CU_ASSERT_EQUAL(lsgd_dataset_load(&set, cfg, "data.train", 0, 1, &err), LSGD_OK);
    lsgd_dataset_free(set);
    json_decref(cfg);
}

/* The address space this process maps now, from /proc/self/status (VmSize). */
static size_t mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib * 1024;
}

LSGD_TEST(data_errors, an_idx_header_promising_4_gib_in_a_24_byte_file_is_refused_as_truncated_without_allocating_them)
{
    /* 2^30 images of 2x2 pixels claimed, 8 pixels there.  The reader once
     * allocated the claimed 4 GiB before reading: with 1 GiB of address
     * space to spare, that was "out of memory" (or an abort under ASan). */
    char img[4096], lab[4096], json[8400];
    snprintf(img, sizeof img, "%s", fixture("idx/promises-4gib"));
    snprintf(lab, sizeof lab, "%s", fixture("idx/two-labels"));
    snprintf(json, sizeof json, "{\"format\":\"idx\",\"images\":\"%s\",\"labels\":\"%s\"}", img,
             lab);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        size_t limit = mapped_bytes() + (1ul << 30);
        struct rlimit rl = {limit, limit};
        setrlimit(RLIMIT_AS, &rl);
        json_t *cfg = json_loads(json, 0, NULL);
        lsgd_dataset *set = NULL;
        lsgd_error err = {0};
        int rc = lsgd_dataset_load(&set, cfg, "data.train", 0, 1, &err);
        if (rc != LSGD_ERR_INPUT ||
            !strstr(err.message, "truncated: the header promises 1073741824 images")) {
            fprintf(stderr, "status %d: %s\n", rc, err.message);
            _exit(1);
        }
        _exit(0);
    }
    int status = -1;
    CU_ASSERT_EQUAL_FATAL(waitpid(child, &status, 0), child);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* `lsgd validate` with data.train `train` (format libsvm, csv, or idx with
 * good labels), bounded by a timeout: a FIFO once blocked for ever. */
static void expect_validate_refuses_train(const char *format, const char *train, const char *want)
{
    const char *dir = test_tmpdir();
    char data[4400], json[8192], cmd[16384];
    if (strcmp(format, "idx") == 0)
        snprintf(data, sizeof data, "\"images\":\"%s\",\"labels\":\"%s\"", train,
                 fixture("idx/two-labels"));
    else if (strcmp(format, "cifar10") == 0)
        snprintf(data, sizeof data, "\"files\":[\"%s\"]", train);
    else
        snprintf(data, sizeof data, "\"path\":\"%s\"", train);
    snprintf(json, sizeof json,
             "{\"model\":{\"type\":\"logreg\"},\"data\":{\"train\":{\"format\":\"%s\",%s}},"
             "\"algorithm\":{\"steps\":5},\"output\":{\"dir\":\"%s/out\"}}",
             format, data, dir);
    const char *cfg = test_write_file(dir, "cfg.json", json);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' validate '%s'", dir, test_build_path("bin/lsgd"),
             cfg);
    test_output o = test_run(cmd, 20);
    CU_ASSERT_EQUAL(o.status, 2);
    CU_ASSERT_EQUAL(test_count_lines(o.err), 1);
    if (o.status != 2 || !strstr(o.err, want))
        fprintf(stderr, "\n  %s %s: status %d, stderr lacks '%s':\n%s", format, train, o.status,
                want, o.err);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, want));
    test_output_free(&o);
}

LSGD_TEST(data_errors, every_data_reader_refuses_a_directory_fifo_or_device_as_not_a_regular_file)
{
    char fifo[4200], cmd[4400];
    snprintf(fifo, sizeof fifo, "%s/fifo", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkfifo '%s'", fifo);
    test_output o = test_run(cmd, 10);
    CU_ASSERT_EQUAL_FATAL(o.status, 0);
    test_output_free(&o);
    const char *formats[] = {"libsvm", "csv", "idx", "cifar10"};
    for (int k = 0; k < 4; k++) {
        expect_validate_refuses_train(formats[k], fifo, "it is a FIFO (named pipe); expected a "
                                                        "regular file");
        expect_validate_refuses_train(formats[k], "/dev/zero", "/dev/zero: cannot read");
        expect_validate_refuses_train(formats[k], "/dev/zero", "it is a character device");
        expect_validate_refuses_train(formats[k], test_root_dir(), "it is a directory");
    }
}

LSGD_TEST(data_errors, a_missing_data_file_names_the_working_directory_and_for_mnist_how_to_fetch_it)
{
    expect_validate_refuses_train("libsvm", "no/such.svm",
                                  "no/such.svm: cannot read LIBSVM file: No such file or "
                                  "directory (a relative path is read from the working "
                                  "directory: looked for /");
    expect_validate_refuses_train("idx", "data/mnist/train-images-idx3-ubyte",
                                  "/data/mnist/train-images-idx3-ubyte); fetch MNIST with "
                                  "tools/fetch-data mnist");
}

/* ---- CIFAR-10 binary batches ---- */

/* dir/name: `bytes` bytes of records whose label bytes are `label`. */
static const char *write_cifar_bytes(const char *name, size_t bytes, unsigned char label)
{
    static char path[4][4200];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 4200, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i < bytes; i++)
        fputc(i % 3073 == 0 ? label : (int)(i % 251), f);
    fclose(f);
    return p;
}

LSGD_TEST(data_errors, a_cifar10_file_not_a_whole_number_of_records_names_the_file_and_byte)
{
    const char *good = write_cifar_bytes("data_batch_1.bin", 2 * 3073, 4);
    const char *cut = write_cifar_bytes("data_batch_2.bin", 3 * 3073 + 100, 4);
    char json[9000], want[4400];
    snprintf(json, sizeof json, "{\"format\":\"cifar10\",\"files\":[\"%s\",\"%s\"]}", good,
             cut);
    snprintf(want, sizeof want, "%s: byte 9219: a partial record of 100 bytes after 3 whole "
                                "ones; expected a multiple of 3073 bytes",
             cut);
    expect_refused(json, "data.train", 0, want);
    expect_validate_refuses_train("cifar10", cut, want);
}

LSGD_TEST(data_errors, a_cifar10_label_beyond_9_names_the_file_and_record)
{
    const char *path = write_cifar_bytes("data_batch_3.bin", 3073, 7);
    FILE *f = fopen(path, "ab"); /* record 2 with label 12 */
    for (int i = 0; i < 3073; i++)
        fputc(i == 0 ? 12 : 0, f);
    fclose(f);
    char want[4400];
    snprintf(want, sizeof want, "%s: record 2 (byte 3073): label 12; expected 0..9", path);
    expect_validate_refuses_train("cifar10", path, want);
}

LSGD_TEST(data_errors, a_cifar10_set_without_files_or_with_features_other_than_3072_is_refused)
{
    expect_refused("{\"format\":\"cifar10\"}", "data.train", 0,
                   "data.train.files: missing; the cifar10 format needs \"files\"");
    const char *path = write_cifar_bytes("data_batch_4.bin", 3073, 1);
    char json[4400];
    snprintf(json, sizeof json, "{\"format\":\"cifar10\",\"files\":[\"%s\"]}", path);
    expect_refused(json, "data.test", 784, "CIFAR-10 images have 3072 pixels; expected 784 features");
    snprintf(json, sizeof json, "{\"format\":\"cifar10\",\"dir\":\"%s\"}", test_tmpdir());
    expect_refused(json, "data.train", 0, ": no data_batch_*.bin files");
}
