/*
 * store.c -- per-kind maps of Kubernetes objects keyed by namespace/name.
 *
 * Each kind keeps its objects in a dense array (so iteration is a plain
 * index walk and deletion is a swap with the last element) plus an
 * open-addressing index of positions in that array, probed linearly and
 * cleaned up on deletion by shifting entries back instead of leaving
 * tombstones.  Lookups and updates are O(1) on average, which keeps a
 * cluster of 100k objects cheap to keep current from a watch stream.
 *
 * The store does not look inside objects beyond apiVersion and kind (in
 * ctl_kind_from_json); validating and interpreting them is the model's job.
 * It only keeps what a reader derived from an object (ctl_object.derived)
 * and frees it together with the object's JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "tbl.h"

#define STORE_EMPTY     UINT32_MAX
#define STORE_HASH_SEED 0x73746f7265ull

typedef struct {
    ctl_object *items;  /* dense, count used                          */
    uint64_t   *hashes; /* hashes[i] belongs to items[i]             */
    size_t      count;
    size_t      cap;
    uint32_t   *index;  /* positions in items, or STORE_EMPTY         */
    size_t      index_cap; /* power of two, 0 before the first put   */
} store_map;

struct ctl_store {
    store_map maps[CTL_KIND_COUNT];
    uint64_t  version;
};

/* Kinds the controller reads: (apiVersion, kind) -> ctl_kind.  Only the
 * GA versions are accepted; networking.k8s.io/v1beta1 was removed from
 * Kubernetes in 1.22 and is not read. */
static const struct {
    const char *api_version;
    const char *kind;
} kind_names[CTL_KIND_COUNT] = {
    [CTL_KIND_INGRESS_CLASS] = {"networking.k8s.io/v1", "IngressClass"},
    [CTL_KIND_INGRESS] = {"networking.k8s.io/v1", "Ingress"},
    [CTL_KIND_SERVICE] = {"v1", "Service"},
    [CTL_KIND_ENDPOINT_SLICE] = {"discovery.k8s.io/v1", "EndpointSlice"},
    [CTL_KIND_SECRET] = {"v1", "Secret"},
    [CTL_KIND_CONFIG_MAP] = {"v1", "ConfigMap"},
};

int
ctl_kind_from_json(const cJSON *obj)
{
    const char *api, *kind;

    api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj,
                                                                "apiVersion"));
    kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "kind"));
    if (api == NULL || kind == NULL)
        return -1;
    for (int k = 0; k < CTL_KIND_COUNT; k++) {
        if (strcmp(api, kind_names[k].api_version) == 0 &&
            strcmp(kind, kind_names[k].kind) == 0)
            return k;
    }
    return -1;
}

const char *
ctl_kind_name(ctl_kind kind)
{
    if ((int)kind < 0 || kind >= CTL_KIND_COUNT)
        return "unknown";
    return kind_names[kind].kind;
}

ctl_store *
ctl_store_new(void)
{
    return calloc(1, sizeof(ctl_store));
}

static void
object_release(ctl_object *o)
{
    if (o->derived_free != NULL)
        o->derived_free(o->derived);
    free(o->namespace_);
    free(o->name);
    free(o->origin);
    cJSON_Delete(o->json);
}

void
ctl_store_free(ctl_store *s)
{
    if (s == NULL)
        return;
    for (int k = 0; k < CTL_KIND_COUNT; k++) {
        store_map *m = &s->maps[k];

        for (size_t i = 0; i < m->count; i++)
            object_release(&m->items[i]);
        free(m->items);
        free(m->hashes);
        free(m->index);
    }
    free(s);
}

static uint64_t
key_hash(const char *ns, const char *name)
{
    uint64_t h = tbl_hash64(ns, strlen(ns), STORE_HASH_SEED);

    return tbl_hash64(name, strlen(name), h);
}

/* The index slot holding the object ns/name, or the empty slot where it
 * would go. */
static size_t
map_probe(const store_map *m, uint64_t h, const char *ns, const char *name)
{
    size_t mask = m->index_cap - 1;
    size_t i = h & mask;

    for (;;) {
        uint32_t pos = m->index[i];

        if (pos == STORE_EMPTY)
            return i;
        if (m->hashes[pos] == h && strcmp(m->items[pos].name, name) == 0 &&
            strcmp(m->items[pos].namespace_, ns) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

/* Doubles the index once it is half full; positions stay valid, only
 * their slots move. */
static int
map_grow_index(store_map *m)
{
    size_t cap = m->index_cap ? m->index_cap * 2 : 16;
    uint32_t *index = malloc(cap * sizeof(*index));

    if (index == NULL)
        return -1;
    memset(index, 0xff, cap * sizeof(*index));
    for (size_t pos = 0; pos < m->count; pos++) {
        size_t i = m->hashes[pos] & (cap - 1);

        while (index[i] != STORE_EMPTY)
            i = (i + 1) & (cap - 1);
        index[i] = (uint32_t)pos;
    }
    free(m->index);
    m->index = index;
    m->index_cap = cap;
    return 0;
}

static int
map_grow_items(store_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    ctl_object *items = realloc(m->items, cap * sizeof(*items));
    uint64_t *hashes;

    if (items == NULL)
        return -1;
    m->items = items;
    hashes = realloc(m->hashes, cap * sizeof(*hashes));
    if (hashes == NULL)
        return -1;
    m->hashes = hashes;
    m->cap = cap;
    return 0;
}

static char *
dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int
ctl_store_put(ctl_store *s, ctl_kind kind, const char *namespace_,
              const char *name, cJSON *json, const char *origin)
{
    store_map *m;
    ctl_object o;
    uint64_t h;
    size_t slot;

    if ((int)kind < 0 || kind >= CTL_KIND_COUNT || name == NULL)
        goto fail;
    m = &s->maps[kind];
    if (namespace_ == NULL)
        namespace_ = "";
    if ((m->count + 1) * 2 > m->index_cap && map_grow_index(m) != 0)
        goto fail;
    if (m->count == m->cap && map_grow_items(m) != 0)
        goto fail;

    o.kind = kind;
    o.json = json;
    o.derived = NULL;
    o.derived_free = NULL;
    o.namespace_ = strdup(namespace_);
    o.name = strdup(name);
    o.origin = dup_or_empty(origin);
    if (o.namespace_ == NULL || o.name == NULL || o.origin == NULL) {
        object_release(&o);
        return -1;
    }

    h = key_hash(namespace_, name);
    slot = map_probe(m, h, namespace_, name);
    if (m->index[slot] != STORE_EMPTY) {
        object_release(&m->items[m->index[slot]]);
        m->items[m->index[slot]] = o;
    } else {
        m->items[m->count] = o;
        m->hashes[m->count] = h;
        m->index[slot] = (uint32_t)m->count;
        m->count++;
    }
    s->version++;
    return 0;

fail:
    cJSON_Delete(json);
    return -1;
}

/* Empties slot i and shifts later entries of the same probe run back, so
 * that every remaining entry stays reachable from its home slot. */
static void
map_unlink_slot(store_map *m, size_t i)
{
    size_t mask = m->index_cap - 1;
    size_t j = i;

    for (;;) {
        size_t home;

        m->index[i] = STORE_EMPTY;
        for (;;) {
            j = (j + 1) & mask;
            if (m->index[j] == STORE_EMPTY)
                return;
            home = m->hashes[m->index[j]] & mask;
            /* Entry j may move to i only if its home is not in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        m->index[i] = m->index[j];
        i = j;
    }
}

int
ctl_store_delete(ctl_store *s, ctl_kind kind, const char *namespace_,
                 const char *name)
{
    store_map *m;
    uint64_t h;
    size_t slot, pos, last;

    if ((int)kind < 0 || kind >= CTL_KIND_COUNT || name == NULL)
        return 0;
    m = &s->maps[kind];
    if (m->count == 0)
        return 0;
    if (namespace_ == NULL)
        namespace_ = "";
    h = key_hash(namespace_, name);
    slot = map_probe(m, h, namespace_, name);
    if (m->index[slot] == STORE_EMPTY)
        return 0;

    pos = m->index[slot];
    map_unlink_slot(m, slot);
    object_release(&m->items[pos]);
    last = m->count - 1;
    if (pos != last) {
        /* Move the last object into the hole and repoint its slot. */
        const ctl_object *lo = &m->items[last];
        size_t lslot = map_probe(m, m->hashes[last], lo->namespace_,
                                 lo->name);

        m->items[pos] = m->items[last];
        m->hashes[pos] = m->hashes[last];
        m->index[lslot] = (uint32_t)pos;
    }
    m->count--;
    s->version++;
    return 1;
}

const ctl_object *
ctl_store_get(const ctl_store *s, ctl_kind kind, const char *namespace_,
              const char *name)
{
    const store_map *m;
    size_t slot;

    if ((int)kind < 0 || kind >= CTL_KIND_COUNT || name == NULL)
        return NULL;
    m = &s->maps[kind];
    if (m->count == 0)
        return NULL;
    if (namespace_ == NULL)
        namespace_ = "";
    slot = map_probe(m, key_hash(namespace_, name), namespace_, name);
    if (m->index[slot] == STORE_EMPTY)
        return NULL;
    return &m->items[m->index[slot]];
}

void
ctl_object_set_derived(const ctl_object *o, void *data,
                       void (*free_fn)(void *))
{
    ctl_object *m = (ctl_object *)o; /* store objects are never const */

    if (m->derived_free != NULL)
        m->derived_free(m->derived);
    m->derived = data;
    m->derived_free = free_fn;
}

size_t
ctl_store_count(const ctl_store *s, ctl_kind kind)
{
    if ((int)kind < 0 || kind >= CTL_KIND_COUNT)
        return 0;
    return s->maps[kind].count;
}

const ctl_object *
ctl_store_at(const ctl_store *s, ctl_kind kind, size_t i)
{
    if ((int)kind < 0 || kind >= CTL_KIND_COUNT || i >= s->maps[kind].count)
        return NULL;
    return &s->maps[kind].items[i];
}

uint64_t
ctl_store_version(const ctl_store *s)
{
    return s->version;
}
