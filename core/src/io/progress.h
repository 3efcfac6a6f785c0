/*
 * progress.h — what rank 0 shows while training: a bar redrawn in place on
 * a terminal (round, loss, test accuracy and loss, ETA), fitted to the
 * terminal's width, or plain lines when the output is not a terminal (at
 * most one per second, plus the last round).
 * output.progress = auto | bar | lines | none.
 *
 * Also how other lines meet a terminal: lsgd_print_fitted cuts a "; "-
 * separated line into lines that fit its width.
 */
#ifndef LSGD_PROGRESS_H
#define LSGD_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

enum lsgd_progress_mode { LSGD_PROGRESS_NONE, LSGD_PROGRESS_BAR, LSGD_PROGRESS_LINES };

typedef struct lsgd_progress {
    int mode;
    FILE *out;
    uint64_t rounds;       /* R */
    double start_wall;     /* wall_s at the start of this process's rounds */
    uint64_t start_round;  /* rounds already done when this process started (resume) */
    double last_shown;     /* wall_s of the last line or redraw */
    double test_loss;      /* bar: the last evaluation's, shown until the next (NAN: none yet) */
    double accuracy;
} lsgd_progress;

/* mode: "auto" (bar when stderr is a terminal, else lines), "bar", "lines", "none". */
void lsgd_progress_init(lsgd_progress *p, const char *mode, uint64_t rounds,
                        uint64_t start_round, double start_wall);
/* loss / accuracy may be NAN (not measured this round). */
void lsgd_progress_update(lsgd_progress *p, uint64_t round, uint64_t step, double wall_s,
                          double loss, double test_loss, double accuracy);
/* Finish the bar's line. */
void lsgd_progress_done(lsgd_progress *p);

/* The width of the terminal `out` writes to; 0 when it is not a terminal. */
int lsgd_terminal_columns(FILE *out);

/* Print "lsgd: " and text, a newline after it.  With columns > 0 the text
 * is cut at its "; " into lines of at most columns characters, each
 * starting "lsgd: " (a part longer than that is cut at spaces, continuing
 * on "lsgd:   " lines; a single word longer stays whole). */
void lsgd_print_fitted(FILE *out, const char *text, int columns);

#endif
