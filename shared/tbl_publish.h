/*
 * tbl_publish.h -- how a table travels from the controller to nginx.
 *
 * A table directory holds one small "control" file, mapped by both sides,
 * and immutable "table.<generation>" files.  The controller writes
 * table.<gen>.tmp, renames it, then release-stores <gen> into
 * control->generation; a worker acquire-loads that word on each request
 * and maps the named file only when it changed.  Published files are never
 * written again, so a mapping can never see torn bytes.  This file does
 * not validate tables (tbl_view_init does) and does not know about nginx.
 */
#ifndef SHMINGRESS_TBL_PUBLISH_H
#define SHMINGRESS_TBL_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#define TBL_CONTROL_MAGIC   0x4c52544353474e49ull /* "INGSCTRL" LE */
#define TBL_CONTROL_VERSION 1u
#define TBL_CONTROL_FILE    "control"
#define TBL_CONTROL_SIZE    4096u
#define TBL_KEEP_DEFAULT    4u /* generations kept on disk */

typedef struct {
    uint64_t magic;
    uint32_t version;
    uint32_t size;             /* TBL_CONTROL_SIZE                       */
    uint64_t generation;       /* atomic; 0 = nothing published yet      */
    uint64_t heartbeat_ms;     /* atomic; controller wall clock          */
    uint64_t published_at_ms;  /* atomic; when generation was stored     */
    uint64_t controller_pid;
    uint64_t publications;     /* atomic counters for operators          */
    uint64_t rejected_objects; /* objects skipped in the last build      */
    uint8_t  reserved[TBL_CONTROL_SIZE - 64];
} tbl_control;

_Static_assert(sizeof(tbl_control) == TBL_CONTROL_SIZE, "control layout");

/*
 * Maps <dir>/control.  writable: create it (mode 0640) when missing and
 * map it read-write (controller); otherwise map it read-only (workers,
 * tools).  Returns 0 and sets *out, or -1 with a message.
 */
int tbl_control_open(const char *dir, int writable, tbl_control **out,
                     char *err, size_t errlen);
void tbl_control_close(tbl_control *ctl);

static inline uint64_t
tbl_control_generation(const tbl_control *ctl)
{
    return __atomic_load_n(&ctl->generation, __ATOMIC_ACQUIRE);
}

/*
 * The generation to use for the next publication: one more than the
 * highest of control->generation and any table.<N> left in dir, so
 * generations keep increasing across controller restarts.
 */
uint64_t tbl_next_generation(const char *dir, const tbl_control *ctl);

/*
 * Writes buf as <dir>/table.<gen> (via .tmp + rename, mode 0640), stores
 * gen into the control file with release order, and unlinks all but the
 * newest `keep` tables.  Returns 0, or -1 with a message (nothing is
 * published then).
 */
int tbl_publish(const char *dir, tbl_control *ctl, const uint8_t *buf,
                size_t len, uint64_t gen, unsigned keep, char *err,
                size_t errlen);

/* Formats "<dir>/table.<gen>" into buf; returns -1 if it does not fit. */
int tbl_table_path(const char *dir, uint64_t gen, char *buf, size_t buflen);

/* Stores the wall clock into heartbeat_ms (the controller's liveness). */
void tbl_control_heartbeat(tbl_control *ctl);

#endif
