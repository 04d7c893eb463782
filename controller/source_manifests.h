/*
 * source_manifests.h -- the manifests source: Kubernetes objects from the
 * *.yaml, *.yml and *.json files directly inside one directory.
 *
 * Files are read in byte order of their names; subdirectories and names
 * starting with '.' are not read (editor swap files, and the "..data"
 * machinery of a mounted ConfigMap, whose files are reached through the
 * symlinks in the directory itself).  The source remembers which objects
 * each file contributed, so a changed file is re-parsed alone and its
 * objects replaced; a removed file takes its objects with it.  A file
 * that cannot be parsed, or holds an object without a usable name, is
 * skipped with one log line and the objects of its last good read stay
 * in the store until it is fixed.  When two files define the same object,
 * the later file by name wins.
 *
 * With a loop, the directory is watched with inotify and changes are
 * re-read after debounce_ms of quiet (at most ten times that under a
 * steady stream of events).  A file is read when it is closed after
 * writing or renamed into the directory; tools should write elsewhere and
 * rename: a file rewritten in place can be read half-written by a rescan
 * that another event started, until the writer's close re-reads it.
 * Files reached through symlinks are checked again
 * after every change, because their targets change without events in
 * the directory.  The source does not interpret objects beyond kind,
 * namespace and name.
 */
#ifndef SHMINGRESS_CTL_SOURCE_MANIFESTS_H
#define SHMINGRESS_CTL_SOURCE_MANIFESTS_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "pipeline.h"
#include "store.h"

typedef struct ctl_manifests ctl_manifests;

typedef struct {
    size_t files;          /* manifest files currently known         */
    size_t objects;        /* distinct objects in the store from them */
    size_t files_skipped;  /* files whose last read failed            */
    uint64_t reads;        /* files parsed since the start            */
} ctl_manifests_stats;

/*
 * loop may be NULL (no watching: --once and tests), and so may link (no
 * one to tell about changes).  Nothing is read before ctl_manifests_start.
 */
ctl_manifests *ctl_manifests_new(const char *dir, ctl_store *store,
                                 ctl_loop *loop, ctl_pipeline_source *link,
                                 uint64_t debounce_ms);
void ctl_manifests_free(ctl_manifests *m);

/*
 * Starts watching (with a loop) and reads every file; then reports the
 * source ready.  Returns -1 with a message when the directory cannot be
 * read or watched.
 */
int ctl_manifests_start(ctl_manifests *m, char *err, size_t errlen);

/*
 * Re-reads the directory now: new, changed and removed files.  Returns
 * the number of files parsed or removed, or -1 when the directory cannot
 * be read (everything read before is kept).
 */
int ctl_manifests_rescan(ctl_manifests *m);

void ctl_manifests_get_stats(const ctl_manifests *m, ctl_manifests_stats *st);

#endif
