/*
 * plot_style.c — the gnuplot style `lsgd plot` and `lsgd compare` share
 * (plot_style.h): palette, labels that stay distinct, PNG (pngcairo when
 * available) and SVG output of each figure.
 */
#include "cli/plot_style.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Okabe & Ito's colour-blind-safe hues, then darker ones. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#8C564B",
                                      "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD"};

const char *plot_colour(size_t i)
{
    return palette[i % (sizeof palette / sizeof palette[0])];
}

void plot_quote(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The last k components of path (trailing slashes dropped). */
static void tail(char *out, size_t cap, const char *path, int k)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    const char *start = copy + len;
    for (int seen = 0; start > copy; start--)
        if (start[-1] == '/' && ++seen == k)
            break;
    snprintf(out, cap, "%s", start);
}

void plot_labels(char (*labels)[256], const char *const *dirs, size_t n)
{
    int *depth = calloc(n ? n : 1, sizeof *depth);
    for (size_t i = 0; i < n; i++)
        depth[i] = 1;
    for (int round = 0; round < 32; round++) {
        for (size_t i = 0; i < n; i++)
            tail(labels[i], sizeof labels[i], dirs[i], depth[i]);
        int clash = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (i != j && strcmp(labels[i], labels[j]) == 0 && strcmp(dirs[i], dirs[j]) != 0) {
                    depth[i]++;
                    clash = 1;
                    break;
                }
        if (!clash)
            break;
    }
    free(depth);
}

FILE *plot_open(const char *who)
{
    FILE *gp = popen("gnuplot", "w");
    if (!gp) {
        fprintf(stderr, "lsgd %s: cannot start gnuplot (apt-get install gnuplot-nox)\n", who);
        return NULL;
    }
    fprintf(gp, "set grid lc rgb '#DDDDDD'\n"
                "set key inside top right box opaque noenhanced samplen 2\n"
                "set border lw 1.2\n"
                "set format x '%%g'\nset format y '%%g'\n"
                "set style fill transparent solid 0.2 noborder\n");
    return gp;
}

void plot_axes(FILE *gp, const char *title, const char *xlabel, const char *ylabel, double lo,
               double hi, int rising)
{
    fprintf(gp, "set key %s right\n", rising ? "bottom" : "top");
    fprintf(gp, "set title ");
    plot_quote(gp, title);
    fprintf(gp, " noenhanced\nset xlabel ");
    plot_quote(gp, xlabel);
    fprintf(gp, "\nset ylabel ");
    plot_quote(gp, ylabel);
    fprintf(gp, "\n%s\n", lo > 0 && hi / lo > 100 ? "set logscale y" : "unset logscale y");
}

void plot_emit(FILE *gp, const char *out_dir, const char *name, const char *plot)
{
    static const char *const terminals[2][2] = {
        {"png", "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) "
                "{ set terminal pngcairo size 960,600 font ',12' } "
                "else { set terminal png size 960,600 }"},
        {"svg", "set terminal svg size 960,600 dynamic font 'sans,12' background rgb 'white'"}};
    for (int t = 0; t < 2; t++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s.%s", out_dir, name, terminals[t][0]);
        fprintf(gp, "%s\nset output ", terminals[t][1]);
        plot_quote(gp, path);
        fprintf(gp, "\n%s\nset output\n", plot);
        printf("%s\n", path);
    }
}

int plot_close(FILE *gp, const char *who)
{
    int status = pclose(gp);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "lsgd %s: gnuplot failed (status %d)\n", who, status);
        return 1;
    }
    return 0;
}
