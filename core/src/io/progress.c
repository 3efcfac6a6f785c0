/*
 * progress.c — progress bar or plain lines (progress.h).  The bar goes to
 * stderr (a terminal); lines go to stdout so logs of batch jobs keep them.
 *
 * The bar is fitted to the terminal's width, asked at every redraw (a
 * resized window is followed) and kept one column short of it, so that no
 * redraw wraps.  Fields go in order of use (round, loss, test accuracy,
 * ETA, test loss); when they do not fit the test loss goes first, then
 * the bar's cells shrink (from 24; none below 6), then the text is cut.
 * The accuracy and test loss of the last evaluation stay until the next.
 */
#include "io/progress.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { BAR_CELLS = 24, BAR_MIN_CELLS = 6, DEFAULT_COLUMNS = 80 };

void lsgd_progress_init(lsgd_progress *p, const char *mode, uint64_t rounds,
                        uint64_t start_round, double start_wall)
{
    memset(p, 0, sizeof *p);
    p->rounds = rounds;
    p->start_round = start_round;
    p->start_wall = start_wall;
    p->last_shown = -1e9;
    p->test_loss = p->accuracy = NAN;
    if (!mode || strcmp(mode, "auto") == 0)
        p->mode = isatty(STDERR_FILENO) ? LSGD_PROGRESS_BAR : LSGD_PROGRESS_LINES;
    else if (strcmp(mode, "bar") == 0)
        p->mode = LSGD_PROGRESS_BAR;
    else if (strcmp(mode, "lines") == 0)
        p->mode = LSGD_PROGRESS_LINES;
    else
        p->mode = LSGD_PROGRESS_NONE;
    p->out = p->mode == LSGD_PROGRESS_BAR ? stderr : stdout;
}

int lsgd_terminal_columns(FILE *out)
{
    struct winsize ws;
    int fd = fileno(out);
    if (fd < 0 || !isatty(fd))
        return 0;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return DEFAULT_COLUMNS; /* a terminal that does not say */
}

static void format_eta(char *buf, size_t n, double seconds)
{
    if (!isfinite(seconds) || seconds < 0)
        snprintf(buf, n, "--:--");
    else if (seconds < 3600)
        snprintf(buf, n, "%02d:%02d", (int)seconds / 60, (int)seconds % 60);
    else
        snprintf(buf, n, "%dh%02d", (int)seconds / 3600, ((int)seconds % 3600) / 60);
}

/* "round 3/30  loss 0.5  acc 91.00%  eta 00:04  test 0.3" without the
 * test loss when with_test is 0; returns its length. */
static int bar_text(char *out, size_t cap, const lsgd_progress *p, uint64_t round, double loss,
                    const char *eta, int with_test)
{
    char acc[32] = "", tl[32] = "";
    if (isfinite(p->accuracy))
        snprintf(acc, sizeof acc, "  acc %.2f%%", 100.0 * p->accuracy);
    if (with_test && isfinite(p->test_loss))
        snprintf(tl, sizeof tl, "  test %.4g", p->test_loss);
    int n = snprintf(out, cap, "round %llu/%llu  loss %.4g%s  eta %s%s",
                     (unsigned long long)round, (unsigned long long)p->rounds, loss, acc, eta, tl);
    return n < 0 ? 0 : n >= (int)cap ? (int)cap - 1 : n;
}

/* The bar's cells for a text of `len` characters in `room`: as many as a
 * typical text of this run leaves (so the bar keeps its length from draw
 * to draw), fewer when this text is longer, none below BAR_MIN_CELLS. */
static int bar_cells(const lsgd_progress *p, int room, int len)
{
    char typical[96];
    int n = snprintf(typical, sizeof typical,
                     "round %llu/%llu  loss 0.1234  acc 99.99%%  eta 00:00",
                     (unsigned long long)p->rounds, (unsigned long long)p->rounds);
    int cells = room - 3 - (n > len ? n : len); /* "[", "] " */
    return cells > BAR_CELLS ? BAR_CELLS : cells < BAR_MIN_CELLS ? 0 : cells;
}

static void draw_bar(lsgd_progress *p, uint64_t round, double loss, const char *eta)
{
    int columns = lsgd_terminal_columns(p->out);
    int room = (columns > 0 ? columns : DEFAULT_COLUMNS) - 1; /* the last column stays free */
    char text[192];
    int len = bar_text(text, sizeof text, p, round, loss, eta, 1);
    int typical_cells = bar_cells(p, room, 0);
    if (len + (typical_cells ? typical_cells + 3 : 0) > room)
        len = bar_text(text, sizeof text, p, round, loss, eta, 0);
    int cells = bar_cells(p, room, len);
    if (len > room)
        len = room > 0 ? room : 0;
    char bar[BAR_CELLS + 4] = "";
    if (cells) {
        int filled = (int)(cells * (double)round / (double)(p->rounds ? p->rounds : 1));
        bar[0] = '[';
        for (int i = 0; i < cells; i++)
            bar[1 + i] = i < filled ? '#' : '.';
        memcpy(bar + 1 + cells, "] ", 3);
    }
    fprintf(p->out, "\r%s%.*s\033[K", bar, len, text);
    fflush(p->out);
}

void lsgd_progress_update(lsgd_progress *p, uint64_t round, uint64_t step, double wall_s,
                          double loss, double test_loss, double accuracy)
{
    if (p->mode == LSGD_PROGRESS_NONE)
        return;
    if (isfinite(test_loss))
        p->test_loss = test_loss;
    if (isfinite(accuracy))
        p->accuracy = accuracy;
    int last = round == p->rounds;
    double gap = p->mode == LSGD_PROGRESS_BAR ? 0.1 : 1.0;
    if (!last && wall_s - p->last_shown < gap)
        return;
    p->last_shown = wall_s;
    double done = (double)(round - p->start_round);
    double rate = done > 0 ? (wall_s - p->start_wall) / done : NAN;
    char eta[32];
    format_eta(eta, sizeof eta, rate * (double)(p->rounds - round));
    if (p->mode == LSGD_PROGRESS_BAR) {
        draw_bar(p, round, loss, eta);
        return;
    }
    /* a line says what this round measured */
    char acc[32] = "", tl[32] = "";
    if (isfinite(accuracy))
        snprintf(acc, sizeof acc, "  acc %.2f%%", 100.0 * accuracy);
    if (isfinite(test_loss))
        snprintf(tl, sizeof tl, "  test %.4g", test_loss);
    fprintf(p->out, "round %llu/%llu  step %llu  loss %.4g%s%s  %.1fs  eta %s\n",
            (unsigned long long)round, (unsigned long long)p->rounds, (unsigned long long)step,
            loss, tl, acc, wall_s, eta);
    fflush(p->out);
}

void lsgd_progress_done(lsgd_progress *p)
{
    if (p->mode == LSGD_PROGRESS_BAR) {
        fputc('\n', p->out);
        fflush(p->out);
    }
}

/* ---- lines that fit a terminal ---- */

/* One part of a fitted line (no "; " in it), cut at spaces when it is
 * longer than the room after "lsgd: ". */
static void print_part(FILE *out, const char *part, size_t len, size_t room)
{
    const char *prefix = "lsgd: ";
    while (len > room) {
        size_t cut = room;
        while (cut > 0 && part[cut] != ' ')
            cut--;
        if (cut == 0) { /* one word longer than the room: whole, to its end */
            cut = strcspn(part, " ");
            if (cut >= len)
                break;
        }
        fprintf(out, "%s%.*s\n", prefix, (int)cut, part);
        part += cut + 1;
        len -= cut + 1;
        prefix = "lsgd:   ";
        room = room > 2 ? room - 2 : room;
    }
    fprintf(out, "%s%.*s\n", prefix, (int)len, part);
}

void lsgd_print_fitted(FILE *out, const char *text, int columns)
{
    size_t room = columns > 6 ? (size_t)columns - 6 : 0; /* after "lsgd: " */
    if (!room) {
        fprintf(out, "lsgd: %s\n", text);
        return;
    }
    const char *line = text;
    for (;;) {
        size_t len = strlen(line);
        if (len <= room) {
            fprintf(out, "lsgd: %s\n", line);
            return;
        }
        /* as many whole "; "-separated parts as fit */
        const char *end = NULL;
        for (const char *sep = strstr(line, "; "); sep && (size_t)(sep - line) <= room;
             sep = strstr(sep + 2, "; "))
            end = sep;
        if (end) {
            fprintf(out, "lsgd: %.*s\n", (int)(end - line), line);
        } else { /* the first part alone is too long */
            const char *sep = strstr(line, "; ");
            end = sep ? sep : line + len;
            print_part(out, line, (size_t)(end - line), room);
        }
        if (!*end)
            return;
        line = end + 2;
    }
}
