/*
 * text.c — what the text formats (LIBSVM, CSV) share: lines and numbers.
 *
 * A line ends at "\n", "\r\n" or a lone "\r" (old Mac files), so a file
 * with CR-only endings is read line by line, not as one line.  A NUL byte
 * is refused where it stands (a binary file, or a text file cut by a
 * crash), not taken as the end of its line.  A number is a finite value
 * within float range: 1e39 would become +Inf as a float and is refused at
 * its column; a value too small for a float (1e-320) is accepted and reads
 * as the nearest float (0 or a denormal).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "data/readers.h"

int text_lines_next(text_lines *t, size_t *len, lsgd_error *err)
{
    int c = getc_unlocked(t->f);
    if (c == EOF) {
        if (ferror(t->f))
            return lsgd_error_set(err, LSGD_ERR_INPUT, "%s: read error after line %zu", t->path,
                                  t->line);
        return TEXT_END;
    }
    t->line++;
    size_t n = 0;
    for (; c != EOF && c != '\n' && c != '\r'; c = getc_unlocked(t->f)) {
        if (c == '\0')
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s:%zu:%zu: a NUL byte; expected text (a binary file?)",
                                  t->path, t->line, n + 1);
        if (n == TEXT_MAX_LINE)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "%s:%zu:%zu: line longer than 1 MiB; expected one sample per "
                                  "line",
                                  t->path, t->line, n + 1);
        t->buf[n++] = (char)c;
    }
    if (c == '\r') { /* "\r\n" is one line end */
        int next = getc_unlocked(t->f);
        if (next != '\n' && next != EOF)
            ungetc(next, t->f);
    }
    t->buf[n] = '\0';
    *len = n;
    return TEXT_LINE;
}

int text_lines_open(text_lines *t, FILE *f, const char *path, lsgd_error *err)
{
    t->f = f;
    t->path = path;
    t->line = 0;
    t->buf = malloc(TEXT_MAX_LINE + 1);
    return t->buf ? LSGD_OK : lsgd_error_set(err, LSGD_ERR_RUNTIME, "%s: out of memory", path);
}

void text_lines_close(text_lines *t)
{
    free(t->buf);
    t->buf = NULL;
}

int text_number(double *out, const char *s, const char *end)
{
    if (s == end)
        return TEXT_NOT_A_NUMBER;
    char *stop;
    errno = 0;
    double x = strtod(s, &stop);
    if (stop != end || isnan(x))
        return TEXT_NOT_A_NUMBER;
    /* ERANGE with a tiny result is underflow: the value is kept. */
    if (isinf(x) || fabs(x) > FLT_MAX)
        return TEXT_OUT_OF_RANGE;
    *out = x;
    return TEXT_NUMBER;
}
