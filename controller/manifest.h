/*
 * manifest.h -- turns a manifest file (YAML stream or JSON) into cJSON
 * documents and the Kubernetes objects in them.
 *
 * YAML is read with libyaml's event parser and resolved with the YAML 1.2
 * core schema: plain scalars become null, booleans, numbers or strings by
 * their spelling; quoted, literal and folded scalars are always strings.
 * Aliases are expanded (bounded: see the limits below), merge keys "<<"
 * are applied, and a duplicate key in one mapping is an error, as kubectl
 * treats it.  This file does no I/O beyond reading the one file it is
 * given, and it knows nothing about the store or about what a kind means.
 */
#ifndef SHMINGRESS_CTL_MANIFEST_H
#define SHMINGRESS_CTL_MANIFEST_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define CTL_MANIFEST_MAX_FILE  (64u << 20) /* bytes in one file          */
#define CTL_MANIFEST_MAX_DEPTH 64u         /* nested mappings/sequences  */
#define CTL_MANIFEST_MAX_ALIAS_NODES 1000000u /* nodes copied by aliases
                                                 and merges, per file    */

typedef struct {
    unsigned long line;   /* 1-based; 0 when the problem has no place */
    unsigned long column; /* 1-based */
    char          problem[256];
} ctl_manifest_error;

/*
 * Parses a YAML stream into a new cJSON array holding one item per
 * document, in order; an empty document is a cJSON null so that indexes
 * stay those of the stream.  Returns NULL with err filled on a syntax
 * error or when a limit is exceeded.
 */
cJSON *ctl_manifest_parse_yaml(const char *buf, size_t len,
                               ctl_manifest_error *err);

/* The same for a JSON text: an array with exactly one document. */
cJSON *ctl_manifest_parse_json(const char *buf, size_t len,
                               ctl_manifest_error *err);

/*
 * Reads path (following symlinks; at most CTL_MANIFEST_MAX_FILE bytes)
 * and parses it as JSON when its name ends in ".json", as YAML otherwise.
 */
cJSON *ctl_manifest_read_file(const char *path, ctl_manifest_error *err);

/*
 * Calls fn for every object in the documents: a document whose kind is
 * "List" or ends in "List" (and that has an "items" array) stands for its
 * items.  doc is the 1-based document index; item is the 1-based index in
 * the List, or 0 for a document that is an object itself.  Empty
 * documents are skipped; anything else (a document or item that is not an
 * object) is passed as is for the caller to refuse.  Stops and returns
 * the first nonzero value fn returns.
 */
typedef int ctl_manifest_object_fn(const cJSON *obj, unsigned doc,
                                   unsigned item, void *data);

int ctl_manifest_for_each_object(const cJSON *docs, ctl_manifest_object_fn *fn,
                                 void *data);

#endif
