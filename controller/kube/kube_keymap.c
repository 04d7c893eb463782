/*
 * kube_keymap.c -- namespace/name hash map with chaining (see
 * kube_keymap.h).  FNV-1a over "ns/name"; the table doubles when it holds
 * as many entries as buckets.
 */
#include "kube_keymap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
kube_key_hash(const char *ns, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (const char *s = ns; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = (h ^ '/') * 0x100000001b3ull;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

void
kube_keymap_init(kube_keymap *m)
{
    memset(m, 0, sizeof(*m));
}

void
kube_keymap_clear(kube_keymap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        kube_keyent *e = m->buckets[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof(*m));
}

static kube_keyent **
kube_keymap_slot(const kube_keymap *m, const char *ns, const char *name,
                 uint64_t hash)
{
    kube_keyent **pp = &m->buckets[hash & (m->nbuckets - 1)];

    for (; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->hash == hash && strcmp((*pp)->ns, ns) == 0 &&
            strcmp((*pp)->name, name) == 0)
            break;
    }
    return pp;
}

kube_keyent *
kube_keymap_get(const kube_keymap *m, const char *ns, const char *name)
{
    if (m->nbuckets == 0)
        return NULL;
    return *kube_keymap_slot(m, ns, name, kube_key_hash(ns, name));
}

static int
kube_keymap_grow(kube_keymap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 64;
    kube_keyent **b = calloc(n, sizeof(*b));

    if (b == NULL)
        return -1;
    for (size_t i = 0; i < m->nbuckets; i++) {
        kube_keyent *e = m->buckets[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return 0;
}

kube_keyent *
kube_keymap_put(kube_keymap *m, const char *ns, const char *name, int *created)
{
    uint64_t hash = kube_key_hash(ns, name);
    size_t nslen = strlen(ns), namelen = strlen(name);
    kube_keyent *e, **head;

    if (created != NULL)
        *created = 0;
    if ((e = kube_keymap_get(m, ns, name)) != NULL)
        return e;
    if (m->count >= m->nbuckets && kube_keymap_grow(m) < 0)
        return NULL;
    e = calloc(1, sizeof(*e) + nslen + namelen + 2);
    if (e == NULL)
        return NULL;
    memcpy(e->key, ns, nslen + 1);
    memcpy(e->key + nslen + 1, name, namelen + 1);
    e->ns = e->key;
    e->name = e->key + nslen + 1;
    e->hash = hash;
    head = &m->buckets[hash & (m->nbuckets - 1)];
    e->next = *head;
    *head = e;
    m->count++;
    if (created != NULL)
        *created = 1;
    return e;
}

int
kube_keymap_del(kube_keymap *m, const char *ns, const char *name)
{
    kube_keyent **pp, *e;

    if (m->nbuckets == 0)
        return 0;
    pp = kube_keymap_slot(m, ns, name, kube_key_hash(ns, name));
    if ((e = *pp) == NULL)
        return 0;
    *pp = e->next;
    free(e);
    m->count--;
    return 1;
}

void
kube_keymap_swap(kube_keymap *a, kube_keymap *b)
{
    kube_keymap t = *a;

    *a = *b;
    *b = t;
}

void
kube_keyiter_init(kube_keyiter *it, const kube_keymap *m)
{
    it->bucket = 0;
    it->next = m->nbuckets ? m->buckets[0] : NULL;
}

kube_keyent *
kube_keyiter_next(kube_keyiter *it, const kube_keymap *m)
{
    kube_keyent *e;

    while (it->next == NULL) {
        if (++it->bucket >= m->nbuckets)
            return NULL;
        it->next = m->buckets[it->bucket];
    }
    e = it->next;
    it->next = e->next;
    return e;
}
