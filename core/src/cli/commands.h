/*
 * commands.h — the subcommands of `lsgd`, one file each under cli/.
 * Each takes the arguments after its name and returns the exit status
 * (0 success, 1 runtime failure, 2 bad input), printing one line on error.
 */
#ifndef LSGD_COMMANDS_H
#define LSGD_COMMANDS_H

int lsgd_cli_run(int argc, char **argv);      /* lsgd run CONFIG [--set k=v]… [--resume] */
int lsgd_cli_worker(int argc, char **argv);   /* lsgd worker CONFIG --rank R --world N */
int lsgd_cli_validate(int argc, char **argv); /* lsgd validate CONFIG [--set k=v]… */
int lsgd_cli_plugins(int argc, char **argv);  /* lsgd plugins list|show|check */
int lsgd_cli_plot(int argc, char **argv);     /* lsgd plot RUN_DIR… [-o DIR] */
int lsgd_cli_sweep(int argc, char **argv);    /* lsgd sweep SWEEP.json [--jobs N] … */
int lsgd_cli_compare(int argc, char **argv);  /* lsgd compare DIR… [--best-of KEY] … */

#endif
