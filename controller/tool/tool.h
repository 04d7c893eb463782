/*
 * tool.h -- the commands of shmingress-table and their exit codes.  Each
 * command takes a table that tool_load has already validated.
 */
#ifndef SHMINGRESS_TOOL_H
#define SHMINGRESS_TOOL_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "tool_load.h"

enum {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_INVALID = 1,  /* invalid table, nothing published, no file */
    TOOL_EXIT_USAGE = 2,
    TOOL_EXIT_DISAGREE = 3  /* explain's walk and tbl_lookup differ: a bug */
};

int tool_dump(const tool_table *t, FILE *out);
int tool_check(const tool_table *t, FILE *out);

typedef struct {
    const char *host;
    const char *path; /* may carry a query string, which is dropped */
    bool        json;
} tool_explain_request;

int tool_explain(const tool_table *t, const tool_explain_request *req,
                 FILE *out);

/* Prints root formatted, with a final newline. */
int tool_print_json(const cJSON *root, FILE *out);

#endif
