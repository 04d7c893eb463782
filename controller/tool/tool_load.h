/*
 * tool_load.h -- gets a route table into memory for shmingress-table and
 * validates it, either from a file named on the command line or from a
 * table directory (the generation the control file points at).  It does
 * not interpret the table beyond tbl_view_init().
 */
#ifndef SHMINGRESS_TOOL_LOAD_H
#define SHMINGRESS_TOOL_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "tbl.h"

typedef struct {
    uint8_t *data;
    size_t   size;
    char     path[4096]; /* the file actually read, for messages      */
    tbl_view view;       /* valid only after tool_load_* returned 0   */
} tool_table;

/* Outcomes, so callers can tell a missing file from a broken one. */
enum {
    TOOL_LOAD_OK = 0,
    TOOL_LOAD_IO = -1,     /* missing or unreadable; err says why     */
    TOOL_LOAD_INVALID = -2 /* read fine, tbl_view_init refused it     */
};

/* Reads the whole file and validates it. */
int tool_load_file(tool_table *t, const char *path, char *err, size_t errlen);

/*
 * Reads <dir>/control, then the table of its current generation.  A
 * table unlinked between the two reads (the controller keeps only a few)
 * is retried with the newer generation.
 */
int tool_load_dir(tool_table *t, const char *dir, char *err, size_t errlen);

void tool_table_free(tool_table *t);

#endif
