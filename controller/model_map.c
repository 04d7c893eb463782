/*
 * model_map.c -- the small containers the model needs: growable arrays,
 * a hash map whose keys stay where they are (the caller hashes once and
 * compares on a hash match), and type-checked JSON accessors.  Nothing
 * here knows about Ingress semantics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define HMAP_EMPTY    UINT32_MAX
#define CTL_HASH_SEED 0x6d6f64656cull

void
ctl_vec_init(ctl_vec *v, size_t elem)
{
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
    v->elem = elem;
}

void *
ctl_vec_push_n(ctl_vec *v, size_t n)
{
    void *p;

    if (v->len + n > v->cap) {
        size_t cap = v->cap ? v->cap : 64;
        void *data;

        while (cap < v->len + n)
            cap *= 2;
        data = realloc(v->data, cap * v->elem);
        if (data == NULL)
            return NULL;
        v->data = data;
        v->cap = cap;
    }
    p = (unsigned char *)v->data + v->len * v->elem;
    memset(p, 0, n * v->elem);
    v->len += n;
    return p;
}

void *
ctl_vec_push(ctl_vec *v)
{
    return ctl_vec_push_n(v, 1);
}

void
ctl_vec_free(ctl_vec *v)
{
    free(v->data);
    ctl_vec_init(v, v->elem);
}

uint64_t
ctl_hash(const void *s, size_t n, uint64_t prev)
{
    return tbl_hash64(s, n, prev ^ CTL_HASH_SEED);
}

struct ctl_hslot {
    uint64_t hash;
    uint32_t value; /* HMAP_EMPTY: free slot */
};

void
ctl_hmap_init(ctl_hmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void
ctl_hmap_free(ctl_hmap *m)
{
    free(m->slots);
    ctl_hmap_init(m);
}

uint32_t *
ctl_hmap_find(const ctl_hmap *m, uint64_t hash, ctl_hmap_eq eq,
              const void *ctx)
{
    size_t mask = m->cap - 1;

    if (m->count == 0)
        return NULL;
    for (size_t i = hash & mask; m->slots[i].value != HMAP_EMPTY;
         i = (i + 1) & mask) {
        if (m->slots[i].hash == hash && eq(ctx, m->slots[i].value))
            return &m->slots[i].value;
    }
    return NULL;
}

static void
hmap_place(struct ctl_hslot *slots, size_t cap, uint64_t hash,
           uint32_t value)
{
    size_t i = hash & (cap - 1);

    while (slots[i].value != HMAP_EMPTY)
        i = (i + 1) & (cap - 1);
    slots[i].hash = hash;
    slots[i].value = value;
}

/* Keeps the load at most one half, so probe runs stay short. */
static int
hmap_grow(ctl_hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct ctl_hslot *slots = malloc(cap * sizeof(*slots));

    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slots[i].value = HMAP_EMPTY;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].value != HMAP_EMPTY)
            hmap_place(slots, cap, m->slots[i].hash, m->slots[i].value);
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int
ctl_hmap_add(ctl_hmap *m, uint64_t hash, uint32_t value)
{
    if ((m->count + 1) * 2 > m->cap && hmap_grow(m) != 0)
        return -1;
    hmap_place(m->slots, m->cap, hash, value);
    m->count++;
    return 0;
}

const cJSON *
ctl_json_object(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *
ctl_json_array(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsArray(v) ? v : NULL;
}

const char *
ctl_json_string(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

const char *
ctl_annotation(const cJSON *obj, const char *key)
{
    const cJSON *meta = ctl_json_object(obj, "metadata");

    return ctl_json_string(ctl_json_object(meta, "annotations"), key);
}

void
ctl_log_object(ctl_log_level level, const char *msg, const ctl_object *obj,
               const char *kv_fmt, ...)
{
    char kv[2048], origin[512];
    va_list ap;

    kv[0] = '\0';
    if (kv_fmt != NULL) {
        va_start(ap, kv_fmt);
        vsnprintf(kv, sizeof(kv), kv_fmt, ap);
        va_end(ap);
    }
    ctl_log(level, msg, "kind=%s object=%s%s%s origin=\"%s\"%s%s",
            ctl_kind_name(obj->kind), obj->namespace_,
            obj->namespace_[0] ? "/" : "", obj->name,
            ctl_log_quote(obj->origin, origin, sizeof(origin)),
            kv[0] ? " " : "", kv);
}

void
ctl_model_problem(const ctl_build *bd, const ctl_object *obj,
                  const char *reason, const char *msg_fmt, ...)
{
    const ctl_model_sink *sink = bd->cfg->sink;
    char msg[1024];
    va_list ap;

    if (sink == NULL || sink->problem == NULL)
        return;
    va_start(ap, msg_fmt);
    vsnprintf(msg, sizeof(msg), msg_fmt, ap);
    va_end(ap);
    sink->problem(sink->data, obj, reason, msg);
}
