/*
 * plot_style.h — what `lsgd plot` and `lsgd compare` draw alike: figures
 * ready for a paper, made by gnuplot (piped a script), each as PNG and SVG.
 *
 * The style: a title naming the run or sweep, the legend inside the axes,
 * colours from one palette of distinct hues (train and test never share
 * one), plain tick labels ("0.001", "1e-05", never "0.000010"), accuracy
 * in percent, and a logarithmic y axis when the data are positive and span
 * more than two decades.
 */
#ifndef LSGD_CLI_PLOT_STYLE_H
#define LSGD_CLI_PLOT_STYLE_H

#include <stddef.h>
#include <stdio.h>

/* The i-th colour of the palette ("#0072B2"…), cycling. */
const char *plot_colour(size_t i);

/* A gnuplot string literal of s on out. */
void plot_quote(FILE *out, const char *s);

/* Labels for dirs[n] that stay distinct: each directory's base name, or as
 * many trailing path components as it takes to tell it from the others
 * ("a/run", "b/run").  labels[i] has cap bytes. */
void plot_labels(char (*labels)[256], const char *const *dirs, size_t n);

/* Start a gnuplot pipe with the common style; NULL (after a message
 * naming `who`) when gnuplot cannot be started. */
FILE *plot_open(const char *who);

/* Before each figure: the title, axis labels, y in log scale when lo > 0
 * and hi / lo > 100, and the legend in the corner the curves leave free
 * (bottom right when they rise, as accuracy does; else top right). */
void plot_axes(FILE *gp, const char *title, const char *xlabel, const char *ylabel, double lo,
               double hi, int rising);

/* Draw the figure just described (the plot command given in `plot`, a
 * complete "plot …" line) into out_dir/name.png and out_dir/name.svg,
 * printing both paths on stdout. */
void plot_emit(FILE *gp, const char *out_dir, const char *name, const char *plot);

/* Close the pipe; 0, or 1 after a message naming `who` when gnuplot failed. */
int plot_close(FILE *gp, const char *who);

#endif
