/*
 * main.c -- shmingress-table: look inside a published route table.
 *
 *   shmingress-table dump    [FILE | --table-dir DIR]
 *   shmingress-table check   FILE | --table-dir DIR
 *   shmingress-table explain [--table FILE | --table-dir DIR]
 *                            --host H --path P [--json]
 *
 * This file parses the command line, loads and validates the table and
 * hands it to the command.  It only ever reads tables; it never writes
 * into a table directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage_text[] =
    "usage: shmingress-table dump    [FILE | --table-dir DIR]\n"
    "       shmingress-table check   FILE | --table-dir DIR\n"
    "       shmingress-table explain [--table FILE | --table-dir DIR]\n"
    "                                --host HOST --path PATH [--json]\n"
    "\n"
    "  dump     the whole table as JSON\n"
    "  check    validate; prints \"ok generation=N ...\" or "
    "\"invalid: REASON\"\n"
    "  explain  which route a request gets, and why\n"
    "\n"
    "  --table-dir DIR  read the generation DIR/control points at\n"
    "exit status: 0 ok, 1 invalid table or nothing to read, 2 usage,\n"
    "             3 explain found tbl_lookup and the table disagree (a bug)\n";

typedef struct {
    const char *command;
    const char *file;
    const char *table_dir;
    const char *host;
    const char *path;
    int         json;
} tool_args;

static int usage(const char *problem)
{
    if (problem != NULL)
        fprintf(stderr, "shmingress-table: %s\n", problem);
    fputs(usage_text, stderr);
    return TOOL_EXIT_USAGE;
}

int tool_print_json(const cJSON *root, FILE *out)
{
    char *text = cJSON_Print(root);
    if (text == NULL) {
        fprintf(stderr, "shmingress-table: out of memory\n");
        return TOOL_EXIT_INVALID;
    }
    fputs(text, out);
    fputc('\n', out);
    free(text);
    return TOOL_EXIT_OK;
}

/* GNU getopt permutes, so options may come before or after the command. */
static int parse_args(int argc, char **argv, tool_args *a)
{
    static const struct option options[] = {
        {"table", required_argument, NULL, 't'},
        {"table-dir", required_argument, NULL, 'd'},
        {"host", required_argument, NULL, 'H'},
        {"path", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(a, 0, sizeof(*a));
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 't': a->file = optarg; break;
        case 'd': a->table_dir = optarg; break;
        case 'H': a->host = optarg; break;
        case 'p': a->path = optarg; break;
        case 'j': a->json = 1; break;
        case 'h': fputs(usage_text, stdout); exit(TOOL_EXIT_OK);
        default: return usage("unknown option or missing value");
        }
    }
    if (optind >= argc)
        return usage("no command");
    a->command = argv[optind++];
    if (optind < argc) {
        if (a->file != NULL)
            return usage("more than one table file");
        a->file = argv[optind++];
    }
    if (optind < argc)
        return usage("too many arguments");
    return TOOL_EXIT_OK;
}

static int check_command_args(const tool_args *a)
{
    int is_explain = strcmp(a->command, "explain") == 0;
    if (!is_explain && strcmp(a->command, "dump") != 0 &&
        strcmp(a->command, "check") != 0)
        return usage("unknown command");
    if (a->file != NULL && a->table_dir != NULL)
        return usage("give a table file or --table-dir, not both");
    if (a->file == NULL && a->table_dir == NULL)
        return usage("no table: give a file or --table-dir");
    if (is_explain && (a->host == NULL || a->path == NULL))
        return usage("explain needs --host and --path");
    if (!is_explain && (a->host != NULL || a->path != NULL || a->json))
        return usage("--host, --path and --json are for explain");
    return TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
    tool_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != TOOL_EXIT_OK)
        return rc;
    if ((rc = check_command_args(&a)) != TOOL_EXIT_OK)
        return rc;

    tool_table t;
    char err[1024];
    int loaded = a.file != NULL ? tool_load_file(&t, a.file, err, sizeof(err))
                                : tool_load_dir(&t, a.table_dir, err,
                                                sizeof(err));
    if (loaded == TOOL_LOAD_INVALID) {
        /* check's contract is one line on stdout either way. */
        if (strcmp(a.command, "check") == 0)
            printf("invalid: %s\n", err);
        else
            fprintf(stderr, "shmingress-table: %s: invalid table: %s\n",
                    t.path, err);
        tool_table_free(&t);
        return TOOL_EXIT_INVALID;
    }
    if (loaded != TOOL_LOAD_OK) {
        fprintf(stderr, "shmingress-table: %s\n", err);
        tool_table_free(&t);
        return TOOL_EXIT_INVALID;
    }

    if (strcmp(a.command, "dump") == 0) {
        rc = tool_dump(&t, stdout);
    } else if (strcmp(a.command, "check") == 0) {
        rc = tool_check(&t, stdout);
    } else {
        tool_explain_request req = {a.host, a.path, a.json != 0};
        rc = tool_explain(&t, &req, stdout);
    }
    tool_table_free(&t);
    if (fflush(stdout) != 0 && rc == TOOL_EXIT_OK)
        rc = TOOL_EXIT_INVALID;
    return rc;
}
