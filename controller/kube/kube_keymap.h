/*
 * kube_keymap.h -- a hash map from namespace/name to a small value: the
 * reflectors' sets of objects they have seen, and the Secret tracker's
 * reference counts.
 *
 * Keys are copied in; entries stay where they are until deleted, so a
 * caller may keep an entry pointer while it adds other keys.  Iteration
 * order is unspecified; deleting the current entry during iteration is
 * allowed, adding is not.
 */
#ifndef SHMINGRESS_KUBE_KEYMAP_H
#define SHMINGRESS_KUBE_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct kube_keyent {
    struct kube_keyent *next;
    uint64_t            hash;
    const char         *ns;    /* "" for cluster-scoped objects */
    const char         *name;
    long                count; /* the caller's */
    void               *ptr;   /* the caller's */
    char                key[]; /* ns '\0' name '\0' */
} kube_keyent;

typedef struct {
    kube_keyent **buckets;
    size_t        nbuckets; /* a power of two, or 0 */
    size_t        count;
} kube_keymap;

typedef struct {
    size_t       bucket;
    kube_keyent *next;
} kube_keyiter;

void kube_keymap_init(kube_keymap *m);

/* Frees the entries (not what their ptr points to). */
void kube_keymap_clear(kube_keymap *m);

kube_keyent *kube_keymap_get(const kube_keymap *m, const char *ns,
                             const char *name);

/*
 * The entry for ns/name, created with count 0 and ptr NULL when missing
 * (*created set to 1 then); NULL when out of memory.
 */
kube_keyent *kube_keymap_put(kube_keymap *m, const char *ns, const char *name,
                             int *created);

/* Removes and frees an entry; returns 1 if it was there. */
int kube_keymap_del(kube_keymap *m, const char *ns, const char *name);

/* Swaps the contents of two maps. */
void kube_keymap_swap(kube_keymap *a, kube_keymap *b);

void kube_keyiter_init(kube_keyiter *it, const kube_keymap *m);
kube_keyent *kube_keyiter_next(kube_keyiter *it, const kube_keymap *m);

#endif
