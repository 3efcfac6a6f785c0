/*
 * input_file.c — opening input files (regular files only) and quoting their
 * bytes in messages; see input_file.h.
 */
#include "util/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}

static int cannot_open(const char *path, const char *what, const char *if_missing, int code,
                       lsgd_error *err)
{
    char cwd[PATH_MAX], where[PATH_MAX + 96] = "";
    if (code == ENOENT && path[0] != '/' && getcwd(cwd, sizeof cwd))
        snprintf(where, sizeof where, " (a relative path is read from the working directory: "
                                      "looked for %s/%s)", cwd, path);
    return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: cannot read %s: %s%s%s%s", path, what,
                          strerror(code), where, code == ENOENT && if_missing ? "; " : "",
                          code == ENOENT && if_missing ? if_missing : "");
}

int lsgd_input_open_fd(int *fd, const char *path, const char *what, const char *if_missing,
                       size_t *size, lsgd_error *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0)
        return cannot_open(path, what, if_missing, errno, err);
    struct stat st;
    int code = fstat(*fd, &st) != 0 ? errno : 0;
    if (code || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        if (code)
            return cannot_open(path, what, NULL, code, err);
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "%s: cannot read %s: it is %s; expected a regular file", path, what,
                              file_kind(st.st_mode));
    }
    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
    if (size)
        *size = (size_t)st.st_size;
    return LSGD_OK;
}

int lsgd_input_open(FILE **f, const char *path, const char *what, const char *if_missing,
                    size_t *size, lsgd_error *err)
{
    int fd;
    *f = NULL;
    int rc = lsgd_input_open_fd(&fd, path, what, if_missing, size, err);
    if (rc != LSGD_OK)
        return rc;
    *f = fdopen(fd, "rb");
    if (*f)
        return LSGD_OK;
    close(fd);
    return lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: cannot read %s: %s", path, what,
                          strerror(errno));
}

void lsgd_excerpt(char *out, size_t cap, const void *bytes, size_t len, size_t max_bytes)
{
    const unsigned char *b = bytes;
    size_t used = 0, i = 0;
    for (; i < len && i < max_bytes; i++) {
        int printable = b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\';
        if (used + (printable ? 1 : 4) + 4 > cap)
            break;
        if (printable)
            out[used++] = (char)b[i];
        else
            used += (size_t)snprintf(out + used, cap - used, "\\x%02x", b[i]);
    }
    if (i < len && used + 4 <= cap)
        used += (size_t)snprintf(out + used, cap - used, "...");
    if (cap)
        out[used < cap ? used : cap - 1] = '\0';
}
