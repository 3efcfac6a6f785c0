/*
 * main.c — the `lsgd` command line: pick the OpenBLAS kernel, then hand
 * the arguments to one subcommand (cli/commands.h).  Exit status: 0
 * success, 1 runtime failure, 2 bad input; errors are one line on stderr.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "lsgd/plugin.h"
#include "models/blas.h"

static const char usage_text[] =
    "usage: lsgd COMMAND [ARGS]\n"
    "\n"
    "Local SGD with runtime scaling and transport plugins.\n"
    "\n"
    "commands:\n"
    "  run CONFIG [--set KEY=VALUE]... [--resume | --force]\n"
    "      train: start config.workers worker processes (or, under mpirun/srun,\n"
    "      be one of them); KEY is a dotted config path, VALUE is JSON or text;\n"
    "      --set SECTION.plugin=NAME drops the file's SECTION.params (a note\n"
    "      says so), other --set keep theirs\n"
    "      --resume continues the run in output.dir from its checkpoints,\n"
    "      --force replaces the run there (without either, a run there is kept\n"
    "      and this one refused)\n"
    "  worker CONFIG --rank R --world N [--set KEY=VALUE]... [--resume | --force]\n"
    "      run one worker by hand (rank/world may also come from LSGD_RANK and\n"
    "      LSGD_WORLD; the run id from LSGD_RUN_ID, config run_id, or a hash\n"
    "      of the config); a rank above 0 says when it joins and is done\n"
    "  validate CONFIG [--set KEY=VALUE]... [--print] [--no-data]\n"
    "      every check run makes before training: the config, its plugins\n"
    "      (loaded), their parameters and needs, its data files, the shards,\n"
    "      the model built on them, files named by plugin parameters;\n"
    "      --no-data skips what needs this machine's files (data, model,\n"
    "      shards, key files), --print shows the config with every default\n"
    "      filled in\n"
    "  plugins list [--json] [--config CONFIG]\n"
    "      every plugin found: config plugin_path, LSGD_PLUGIN_PATH, built-in\n"
    "  plugins show NAME\n"
    "      a plugin's parameters with defaults, ranges and descriptions\n"
    "  plugins check PATH\n"
    "      load a plugin (.so or its .json manifest) and report every problem\n"
    "  plot RUN_DIR... [-o DIR]\n"
    "      plot the metrics of one or more runs (gnuplot; PNG and SVG)\n"
    "  sweep SWEEP.json [--jobs N] [--target METRIC<=VALUE]... [-o DIR] [--dry-run]\n"
    "      run a base config over axes, zip groups, seeds and methods\n"
    "      (schemas/sweep.schema.json), each run in its own directory, --jobs\n"
    "      at a time; every config is checked before any run starts; finished\n"
    "      runs are skipped and stopped ones resumed; writes sweep.csv and\n"
    "      sweep.jsonl (final metrics, when each target was first met)\n"
    "  compare DIR... [--best-of KEY] [--by QUANTITY] [--baseline METHOD] [--target METRIC<=VALUE]... [-o DIR] [--no-plot]\n"
    "      sweeps and runs side by side: mean and standard error over seeds,\n"
    "      each method at its best KEY by QUANTITY, seed-paired differences\n"
    "      against the baseline; compare.md, compare.csv and figures\n"
    "\n"
    "options: --help, --version; lsgd COMMAND --help shows that command's part\n"
    "exit status: 0 success, 1 runtime failure, 2 bad input\n";

/* "lsgd COMMAND --help": that command's lines of usage_text (its synopsis
 * lines, as "lsgd COMMAND …", and the indented text under them) on stdout.
 * Returns 0, or -1 when usage_text has no such command. */
static int command_help(const char *command)
{
    size_t n = strlen(command);
    int in_command = 0, shown = 0;
    for (const char *line = usage_text; *line;) {
        const char *end = strchr(line, '\n');
        int len = (int)(end - line);
        int synopsis = strncmp(line, "  ", 2) == 0 && line[2] != ' ';
        if (synopsis)
            in_command = strncmp(line + 2, command, n) == 0 && line[2 + n] == ' ';
        else if (strncmp(line, "      ", 6) != 0)
            in_command = 0;
        if (in_command && synopsis)
            printf("%s  lsgd %.*s\n", shown++ ? "" : "usage:\n", len - 2, line + 2);
        else if (in_command)
            printf("%.*s\n", len, line);
        line = end + 1;
    }
    return shown ? 0 : -1;
}

/* The subcommands, in the order the usage lists them. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", lsgd_cli_run},       {"worker", lsgd_cli_worker}, {"validate", lsgd_cli_validate},
    {"plugins", lsgd_cli_plugins}, {"plot", lsgd_cli_plot},   {"sweep", lsgd_cli_sweep},
    {"compare", lsgd_cli_compare},
};

static int asks_for_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int version(void)
{
    const char *core = lsgd_blas_core_in_use();
    printf("lsgd %s (plugin ABI %d.%d, OpenBLAS kernel %s)\n", LSGD_VERSION, LSGD_ABI_MAJOR,
           LSGD_ABI_MINOR, core ? core : "unknown");
    return 0;
}

int main(int argc, char **argv)
{
    cli_mark_start();
    /* OpenBLAS picks its kernel when it is loaded: set the environment,
     * then start again so that it sees it. */
    if (lsgd_blas_prepare_env() == 1) {
        execv("/proc/self/exe", argv);
        /* could not re-execute: carry on with the generic kernel */
    }
    if (argc < 2)
        return cli_fail(2, "no command given; see lsgd --help");
    const char *command = argv[1];
    int sub_argc = argc - 2;
    char **sub_argv = argv + 2;
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 ||
        strcmp(command, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(command, "--version") == 0 || strcmp(command, "version") == 0)
        return version();
    if (asks_for_help(sub_argc, sub_argv) && command_help(command) == 0)
        return 0;
    char known[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(command, commands[i].name) == 0)
            return commands[i].run(sub_argc, sub_argv);
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 commands[i].name);
    }
    char safe[64];
    snprintf(safe, sizeof safe, "%s", command);
    for (char *p = safe; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    return cli_fail(2, "unknown command '%s'; commands: %s (see lsgd --help)", safe, known);
}
