/*
 * manifest.c -- YAML and JSON manifests to cJSON (see manifest.h).
 *
 * The YAML side is a small state machine over libyaml events: a stack of
 * open mappings and sequences, each owning its cJSON node until it is
 * closed and attached to its parent.  Anchors point at finished nodes of
 * the current document; an alias is a deep copy, charged against a node
 * budget before it is made, so "billion laughs" input fails early instead
 * of exhausting memory.  Every anchor also remembers the height of its
 * node, so an alias can never build a tree deeper than the nesting limit
 * and the recursive cJSON functions used later stay shallow.
 *
 * Deliberate departures from a full YAML 1.2 loader: mapping keys must be
 * scalars (JSON has no other keys), infinities and NaN stay strings (JSON
 * cannot carry them), and a string may not contain NUL.
 */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define CTL_TAG_NULL  "tag:yaml.org,2002:null"
#define CTL_TAG_BOOL  "tag:yaml.org,2002:bool"
#define CTL_TAG_INT   "tag:yaml.org,2002:int"
#define CTL_TAG_FLOAT "tag:yaml.org,2002:float"
#define CTL_TAG_STR   "tag:yaml.org,2002:str"

typedef struct {
    char   *name;   /* NULL: empty slot */
    cJSON  *node;   /* owned by the document (or its detached list) */
    char   *text;   /* a scalar's text, for use as a mapping key */
    size_t  nodes;  /* size of the subtree, charged per alias */
    size_t  height; /* nesting levels below and including node */
} ctl_anchor;

typedef struct {
    cJSON       *node;         /* the open mapping or sequence         */
    char        *key;          /* mapping: the key awaiting its value  */
    int          key_is_merge; /* that key is "<<"                     */
    char        *anchor;
    size_t       nodes_at_start;
    size_t       height;
    cJSON      **merges;       /* mappings to merge in when it closes  */
    size_t       nmerges;
    yaml_mark_t  mark;
} ctl_frame;

typedef struct {
    ctl_frame           stack[CTL_MANIFEST_MAX_DEPTH];
    size_t              depth;
    cJSON              *docs;     /* the result                     */
    cJSON              *root;     /* the current document's root    */
    int                 have_root;
    cJSON              *detached; /* inline merge values, per doc   */
    ctl_anchor         *anchors;  /* open addressing, per document  */
    size_t              anchor_cap;
    size_t              anchor_count;
    size_t              nodes;    /* nodes made in this file        */
    size_t              copied;   /* of which copies (alias, merge) */
    ctl_manifest_error *err;
} ctl_yaml;

static void
ctl_manifest_fail(ctl_manifest_error *err, unsigned long line,
                  unsigned long column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
ctl_manifest_fail(ctl_manifest_error *err, unsigned long line,
                  unsigned long column, const char *fmt, ...)
{
    va_list ap;

    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    vsnprintf(err->problem, sizeof(err->problem), fmt, ap);
    va_end(ap);
}

/* libyaml marks are 0-based; people count from 1. */
#define CTL_MARK(m) (unsigned long)(m).line + 1, (unsigned long)(m).column + 1

/* ------------------------------------------------------------- anchors */

static uint64_t
ctl_anchor_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
    return h;
}

static void
ctl_anchors_clear(ctl_yaml *y)
{
    for (size_t i = 0; i < y->anchor_cap; i++) {
        free(y->anchors[i].name);
        free(y->anchors[i].text);
    }
    free(y->anchors);
    y->anchors = NULL;
    y->anchor_cap = 0;
    y->anchor_count = 0;
}

static ctl_anchor *
ctl_anchor_slot(ctl_anchor *table, size_t cap, const char *name)
{
    size_t i = ctl_anchor_hash(name) & (cap - 1);

    while (table[i].name != NULL && strcmp(table[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &table[i];
}

static int
ctl_anchors_grow(ctl_yaml *y)
{
    size_t cap = y->anchor_cap ? y->anchor_cap * 2 : 16;
    ctl_anchor *table = calloc(cap, sizeof(*table));

    if (table == NULL)
        return -1;
    for (size_t i = 0; i < y->anchor_cap; i++) {
        if (y->anchors[i].name != NULL)
            *ctl_anchor_slot(table, cap, y->anchors[i].name) = y->anchors[i];
    }
    free(y->anchors);
    y->anchors = table;
    y->anchor_cap = cap;
    return 0;
}

/* Takes ownership of name; a redefined anchor replaces the old one. */
static int
ctl_anchor_define(ctl_yaml *y, char *name, cJSON *node, const char *text,
                  size_t nodes, size_t height)
{
    ctl_anchor *a;
    char *copy = NULL;

    if (text != NULL && (copy = strdup(text)) == NULL) {
        free(name);
        return -1;
    }
    if ((y->anchor_count + 1) * 2 > y->anchor_cap && ctl_anchors_grow(y) < 0) {
        free(name);
        free(copy);
        return -1;
    }
    a = ctl_anchor_slot(y->anchors, y->anchor_cap, name);
    if (a->name != NULL) {
        free(name);
        free(a->text);
    } else {
        a->name = name;
        y->anchor_count++;
    }
    a->node = node;
    a->text = copy;
    a->nodes = nodes;
    a->height = height;
    return 0;
}

static const ctl_anchor *
ctl_anchor_find(const ctl_yaml *y, const char *name)
{
    const ctl_anchor *a;

    if (y->anchor_cap == 0)
        return NULL;
    a = ctl_anchor_slot(y->anchors, y->anchor_cap, name);
    return a->name != NULL ? a : NULL;
}

/* ------------------------------------------------------------- scalars */

static int
ctl_is_digits(const char *s, const char *digits)
{
    if (*s == '\0')
        return 0;
    return s[strspn(s, digits)] == '\0';
}

/* Accumulates in a double so that any length of digits is a number. */
static double
ctl_radix_value(const char *s, unsigned radix)
{
    double v = 0;

    for (; *s; s++) {
        unsigned d = (*s >= '0' && *s <= '9') ? (unsigned)(*s - '0')
                                              : (unsigned)((*s | 0x20) - 'a' + 10);
        v = v * radix + d;
    }
    return v;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )? */
static int
ctl_is_float(const char *s)
{
    size_t digits = 0;

    if (*s == '-' || *s == '+')
        s++;
    while (*s >= '0' && *s <= '9')
        s++, digits++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9')
            s++, digits++;
    }
    if (digits == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int
ctl_is_null_word(const char *s)
{
    return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") ||
           !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int
ctl_bool_word(const char *s)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return 1;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return 0;
    return -1;
}

/*
 * A plain scalar by the YAML 1.2 core schema.  The "want" tag narrows the
 * resolution to one type (an explicit !!int and the like); a value that
 * does not fit it stays a string.
 */
static cJSON *
ctl_resolve_plain(const char *s, const char *want)
{
    int b;

    /* Only these first characters can start a null, bool or number. */
    if (*s != '\0' && strchr("~nNtTfF0123456789+-.", *s) == NULL)
        return cJSON_CreateString(s);

    if ((!want || !strcmp(want, CTL_TAG_NULL)) && ctl_is_null_word(s))
        return cJSON_CreateNull();
    if ((!want || !strcmp(want, CTL_TAG_BOOL)) && (b = ctl_bool_word(s)) >= 0)
        return cJSON_CreateBool(b);
    if (!want || !strcmp(want, CTL_TAG_INT)) {
        const char *d = (*s == '-' || *s == '+') ? s + 1 : s;

        if (ctl_is_digits(d, "0123456789"))
            return cJSON_CreateNumber(strtod(s, NULL));
        if (!strncmp(s, "0x", 2) && ctl_is_digits(s + 2, "0123456789abcdefABCDEF"))
            return cJSON_CreateNumber(ctl_radix_value(s + 2, 16));
        if (!strncmp(s, "0o", 2) && ctl_is_digits(s + 2, "01234567"))
            return cJSON_CreateNumber(ctl_radix_value(s + 2, 8));
    }
    if ((!want || !strcmp(want, CTL_TAG_FLOAT)) && ctl_is_float(s)) {
        double v = strtod(s, NULL);

        if (isfinite(v))
            return cJSON_CreateNumber(v);
    }
    return cJSON_CreateString(s);
}

static cJSON *
ctl_scalar_node(const yaml_event_t *ev)
{
    const char *value = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;

    if (tag != NULL) {
        if (!strcmp(tag, CTL_TAG_STR) || !strcmp(tag, "!"))
            return cJSON_CreateString(value);
        if (!strcmp(tag, CTL_TAG_NULL) || !strcmp(tag, CTL_TAG_BOOL) ||
            !strcmp(tag, CTL_TAG_INT) || !strcmp(tag, CTL_TAG_FLOAT))
            return ctl_resolve_plain(value, tag);
    }
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(value);
    return ctl_resolve_plain(value, NULL);
}

/* ---------------------------------------------------------- tree parts */

/* Nodes in a finished subtree; its height is bounded by the depth limit. */
static size_t
ctl_json_count(const cJSON *node)
{
    size_t n = 1;

    for (const cJSON *c = node->child; c != NULL; c = c->next)
        n += ctl_json_count(c);
    return n;
}

static size_t
ctl_json_height(const cJSON *node, size_t limit)
{
    size_t h = 0;

    if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
        return 0;
    if (limit == 0)
        return 1;
    for (const cJSON *c = node->child; c != NULL; c = c->next) {
        size_t ch = ctl_json_height(c, limit - 1);

        if (ch > h)
            h = ch;
    }
    return h + 1;
}

/* A mapping with a repeated key, found by sorting its keys. */
static int
ctl_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *
ctl_duplicate_key(const cJSON *map)
{
    size_t n = 0, i = 0;
    const char **keys;
    const char *dup = NULL;

    for (const cJSON *c = map->child; c != NULL; c = c->next)
        n++;
    if (n < 2)
        return NULL;
    /* Most mappings are small: compare pairwise without allocating. */
    if (n <= 8) {
        for (const cJSON *a = map->child; a != NULL; a = a->next) {
            for (const cJSON *b = a->next; b != NULL; b = b->next) {
                if (!strcmp(a->string, b->string))
                    return b->string;
            }
        }
        return NULL;
    }
    keys = malloc(n * sizeof(*keys));
    if (keys == NULL)
        return NULL;
    for (const cJSON *c = map->child; c != NULL; c = c->next)
        keys[i++] = c->string;
    qsort(keys, n, sizeof(*keys), ctl_key_cmp);
    for (i = 1; i < n && dup == NULL; i++) {
        if (!strcmp(keys[i - 1], keys[i]))
            dup = keys[i];
    }
    free(keys);
    return dup;
}

/* ------------------------------------------------------------ building */

static int
ctl_charge_copy(ctl_yaml *y, size_t nodes, const yaml_mark_t *mark)
{
    if (nodes > CTL_MANIFEST_MAX_ALIAS_NODES - y->copied) {
        ctl_manifest_fail(y->err, CTL_MARK(*mark),
                          "aliases and merges expand to more than %u nodes",
                          CTL_MANIFEST_MAX_ALIAS_NODES);
        return -1;
    }
    y->copied += nodes;
    y->nodes += nodes;
    return 0;
}

static int
ctl_check_height(ctl_yaml *y, size_t height, const yaml_mark_t *mark)
{
    if (y->depth + height > CTL_MANIFEST_MAX_DEPTH) {
        ctl_manifest_fail(y->err, CTL_MARK(*mark),
                          "nesting deeper than %u levels",
                          CTL_MANIFEST_MAX_DEPTH);
        return -1;
    }
    return 0;
}

static int
ctl_add_merge(ctl_frame *f, cJSON *map)
{
    cJSON **m = realloc(f->merges, (f->nmerges + 1) * sizeof(*m));

    if (m == NULL)
        return -1;
    m[f->nmerges++] = map;
    f->merges = m;
    return 0;
}

/*
 * Records the value of a "<<" key: one mapping or a sequence of them.
 * The nodes are only referenced; the caller keeps them alive until the
 * document ends.
 */
static int
ctl_take_merge_value(ctl_yaml *y, ctl_frame *f, cJSON *value, size_t height,
                     const yaml_mark_t *mark)
{
    if (ctl_check_height(y, height, mark) < 0)
        return -1;
    if (height > f->height)
        f->height = height;
    if (cJSON_IsObject(value))
        return ctl_add_merge(f, value);
    if (cJSON_IsArray(value)) {
        for (cJSON *c = value->child; c != NULL; c = c->next) {
            if (!cJSON_IsObject(c))
                goto bad;
        }
        for (cJSON *c = value->child; c != NULL; c = c->next) {
            if (ctl_add_merge(f, c) < 0)
                return -1;
        }
        return 0;
    }
bad:
    ctl_manifest_fail(y->err, CTL_MARK(*mark),
                      "a merge key \"<<\" needs a mapping or a sequence of "
                      "mappings");
    return -1;
}

/*
 * Attaches a finished node to the open collection (or makes it the
 * document root) and takes ownership of it.
 */
static int
ctl_attach(ctl_yaml *y, cJSON *node, size_t height, const yaml_mark_t *mark)
{
    ctl_frame *f;

    if (y->depth == 0) {
        y->root = node;
        y->have_root = 1;
        return 0;
    }
    f = &y->stack[y->depth - 1];
    if (height + 1 > f->height)
        f->height = height + 1;
    if (cJSON_IsArray(f->node)) {
        if (node->string != NULL && !(node->type & cJSON_StringIsConst)) {
            free(node->string);
            node->string = NULL;
        }
        cJSON_AddItemToArray(f->node, node);
        return 0;
    }
    if (f->key_is_merge) {
        cJSON_AddItemToArray(y->detached, node);
        free(f->key);
        f->key = NULL;
        f->key_is_merge = 0;
        return ctl_take_merge_value(y, f, node, height, mark);
    }
    cJSON_AddItemToObject(f->node, f->key, node);
    free(f->key);
    f->key = NULL;
    return 0;
}

static int
ctl_expects_key(const ctl_yaml *y)
{
    const ctl_frame *f;

    if (y->depth == 0)
        return 0;
    f = &y->stack[y->depth - 1];
    return cJSON_IsObject(f->node) && f->key == NULL;
}

static int
ctl_set_key(ctl_yaml *y, const char *text, int merge, const yaml_mark_t *mark)
{
    ctl_frame *f = &y->stack[y->depth - 1];

    f->key = strdup(text);
    if (f->key == NULL) {
        ctl_manifest_fail(y->err, CTL_MARK(*mark), "out of memory");
        return -1;
    }
    f->key_is_merge = merge;
    return 0;
}

static int
ctl_on_scalar(ctl_yaml *y, const yaml_event_t *ev)
{
    const char *value = (const char *)ev->data.scalar.value;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    cJSON *node;

    if (memchr(value, '\0', ev->data.scalar.length) != NULL) {
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark),
                          "a string contains a NUL character");
        return -1;
    }
    if (ctl_expects_key(y)) {
        int merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                    ev->data.scalar.tag == NULL && !strcmp(value, "<<");

        /* An anchored key can be aliased later, as a key or a value. */
        if (anchor != NULL) {
            char *name;

            node = cJSON_CreateString(value);
            if (node == NULL)
                goto nomem;
            cJSON_AddItemToArray(y->detached, node);
            name = strdup(anchor);
            if (name == NULL || ctl_anchor_define(y, name, node, value, 1, 0) < 0)
                goto nomem;
        }
        return ctl_set_key(y, value, merge, &ev->start_mark);
    }
    node = ctl_scalar_node(ev);
    if (node == NULL)
        goto nomem;
    y->nodes++;
    if (anchor != NULL) {
        char *name = strdup(anchor);

        if (name == NULL || ctl_anchor_define(y, name, node, value, 1, 0) < 0) {
            cJSON_Delete(node);
            goto nomem;
        }
    }
    return ctl_attach(y, node, 0, &ev->start_mark);
nomem:
    ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark), "out of memory");
    return -1;
}

static int
ctl_on_alias(ctl_yaml *y, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const ctl_anchor *a = ctl_anchor_find(y, name);
    ctl_frame *f;
    cJSON *copy;

    if (a == NULL) {
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark),
                          "unknown anchor \"%.64s\"", name);
        return -1;
    }
    if (ctl_expects_key(y)) {
        if (a->text == NULL) {
            ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark),
                              "mapping keys must be scalars");
            return -1;
        }
        return ctl_set_key(y, a->text, 0, &ev->start_mark);
    }
    f = y->depth ? &y->stack[y->depth - 1] : NULL;
    if (f != NULL && f->key_is_merge) {
        /* Merged keys are copied one by one when the mapping closes. */
        free(f->key);
        f->key = NULL;
        f->key_is_merge = 0;
        return ctl_take_merge_value(y, f, a->node, a->height, &ev->start_mark);
    }
    if (ctl_check_height(y, a->height, &ev->start_mark) < 0 ||
        ctl_charge_copy(y, a->nodes, &ev->start_mark) < 0)
        return -1;
    copy = cJSON_Duplicate(a->node, 1);
    if (copy == NULL) {
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark), "out of memory");
        return -1;
    }
    return ctl_attach(y, copy, a->height, &ev->start_mark);
}

static int
ctl_on_collection_start(ctl_yaml *y, const yaml_event_t *ev, int mapping)
{
    const char *anchor = mapping ? (const char *)ev->data.mapping_start.anchor
                                 : (const char *)ev->data.sequence_start.anchor;
    ctl_frame *f;

    if (ctl_expects_key(y)) {
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark),
                          "mapping keys must be scalars");
        return -1;
    }
    if (y->depth == CTL_MANIFEST_MAX_DEPTH) {
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark),
                          "nesting deeper than %u levels",
                          CTL_MANIFEST_MAX_DEPTH);
        return -1;
    }
    f = &y->stack[y->depth];
    memset(f, 0, sizeof(*f));
    f->node = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
    f->anchor = anchor ? strdup(anchor) : NULL;
    if (f->node == NULL || (anchor && f->anchor == NULL)) {
        cJSON_Delete(f->node);
        free(f->anchor);
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark), "out of memory");
        return -1;
    }
    f->nodes_at_start = y->nodes;
    f->mark = ev->start_mark;
    y->nodes++;
    y->depth++;
    return 0;
}

/* Copies merged keys that the mapping does not set itself. */
static int
ctl_apply_merges(ctl_yaml *y, ctl_frame *f)
{
    for (size_t i = 0; i < f->nmerges; i++) {
        for (const cJSON *c = f->merges[i]->child; c != NULL; c = c->next) {
            cJSON *copy;

            if (cJSON_GetObjectItemCaseSensitive(f->node, c->string) != NULL)
                continue;
            if (ctl_charge_copy(y, ctl_json_count(c), &f->mark) < 0)
                return -1;
            copy = cJSON_Duplicate(c, 1);
            if (copy == NULL) {
                ctl_manifest_fail(y->err, CTL_MARK(f->mark), "out of memory");
                return -1;
            }
            cJSON_AddItemToObject(f->node, c->string, copy);
        }
    }
    return 0;
}

static void
ctl_frame_release(ctl_frame *f)
{
    cJSON_Delete(f->node);
    free(f->key);
    free(f->anchor);
    free(f->merges);
    memset(f, 0, sizeof(*f));
}

static int
ctl_on_collection_end(ctl_yaml *y, const yaml_event_t *ev)
{
    ctl_frame *f;
    ctl_frame done;

    /* libyaml balances its events; the stack must not underflow if not. */
    if (y->depth == 0) {
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark),
                          "end of a collection that was not started");
        return -1;
    }
    f = &y->stack[y->depth - 1];
    if (cJSON_IsObject(f->node)) {
        const char *dup = ctl_duplicate_key(f->node);

        if (dup != NULL) {
            ctl_manifest_fail(y->err, CTL_MARK(f->mark),
                              "duplicate key \"%.64s\" in this mapping", dup);
            return -1;
        }
        if (ctl_apply_merges(y, f) < 0)
            return -1;
    }
    done = *f;
    memset(f, 0, sizeof(*f));
    y->depth--;
    free(done.merges);
    free(done.key);
    if (done.anchor != NULL &&
        ctl_anchor_define(y, done.anchor, done.node, NULL,
                          y->nodes - done.nodes_at_start, done.height) < 0) {
        cJSON_Delete(done.node);
        ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark), "out of memory");
        return -1;
    }
    return ctl_attach(y, done.node, done.height, &ev->start_mark);
}

static int
ctl_on_document_start(ctl_yaml *y)
{
    ctl_anchors_clear(y);
    y->root = NULL;
    y->have_root = 0;
    y->detached = cJSON_CreateArray();
    return y->detached != NULL ? 0 : -1;
}

static int
ctl_on_document_end(ctl_yaml *y)
{
    cJSON *doc = y->have_root ? y->root : NULL;

    /* An empty document resolves to null, like a missing one. */
    if (doc == NULL && (doc = cJSON_CreateNull()) == NULL)
        return -1;
    cJSON_AddItemToArray(y->docs, doc);
    y->root = NULL;
    y->have_root = 0;
    cJSON_Delete(y->detached);
    y->detached = NULL;
    ctl_anchors_clear(y);
    return 0;
}

static int
ctl_on_event(ctl_yaml *y, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (ctl_on_document_start(y) < 0)
            break;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        if (ctl_on_document_end(y) < 0)
            break;
        return 0;
    case YAML_SCALAR_EVENT:
        return ctl_on_scalar(y, ev);
    case YAML_ALIAS_EVENT:
        return ctl_on_alias(y, ev);
    case YAML_SEQUENCE_START_EVENT:
        return ctl_on_collection_start(y, ev, 0);
    case YAML_MAPPING_START_EVENT:
        return ctl_on_collection_start(y, ev, 1);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return ctl_on_collection_end(y, ev);
    default:
        return 0;
    }
    ctl_manifest_fail(y->err, CTL_MARK(ev->start_mark), "out of memory");
    return -1;
}

/* Line and column of a byte offset, for error messages. */
static void
ctl_text_position(const char *buf, size_t off, unsigned long *line,
                  unsigned long *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static void
ctl_parser_error(const yaml_parser_t *p, const char *buf, size_t len,
                 ctl_manifest_error *err)
{
    unsigned long line, column;

    if (p->error == YAML_MEMORY_ERROR) {
        ctl_manifest_fail(err, 0, 0, "out of memory");
    } else if (p->error == YAML_READER_ERROR) {
        /* The reader knows only a byte offset (bad UTF-8 and the like). */
        ctl_text_position(buf, p->problem_offset < len ? p->problem_offset : len,
                          &line, &column);
        ctl_manifest_fail(err, line, column, "%s",
                          p->problem ? p->problem : "unreadable input");
    } else if (p->context != NULL) {
        ctl_manifest_fail(err, CTL_MARK(p->problem_mark), "%s (%s at line %lu)",
                          p->problem ? p->problem : "syntax error", p->context,
                          (unsigned long)p->context_mark.line + 1);
    } else {
        ctl_manifest_fail(err, CTL_MARK(p->problem_mark), "%s",
                          p->problem ? p->problem : "syntax error");
    }
}

static void
ctl_yaml_release(ctl_yaml *y)
{
    while (y->depth > 0)
        ctl_frame_release(&y->stack[--y->depth]);
    if (y->have_root)
        cJSON_Delete(y->root);
    cJSON_Delete(y->detached);
    ctl_anchors_clear(y);
}

cJSON *
ctl_manifest_parse_yaml(const char *buf, size_t len, ctl_manifest_error *err)
{
    yaml_parser_t parser;
    ctl_yaml y;
    int done = 0, ok = 1;

    memset(&y, 0, sizeof(y));
    memset(err, 0, sizeof(*err));
    y.err = err;
    if (len > CTL_MANIFEST_MAX_FILE) {
        ctl_manifest_fail(err, 0, 0, "larger than %u bytes",
                          CTL_MANIFEST_MAX_FILE);
        return NULL;
    }
    y.docs = cJSON_CreateArray();
    if (y.docs == NULL || !yaml_parser_initialize(&parser)) {
        cJSON_Delete(y.docs);
        ctl_manifest_fail(err, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (ok && !done) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&parser, &ev)) {
            ctl_parser_error(&parser, buf, len, err);
            ok = 0;
            break;
        }
        ok = ctl_on_event(&y, &ev) == 0;
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    ctl_yaml_release(&y);
    if (!ok) {
        cJSON_Delete(y.docs);
        return NULL;
    }
    return y.docs;
}

cJSON *
ctl_manifest_parse_json(const char *buf, size_t len, ctl_manifest_error *err)
{
    const char *end = NULL;
    cJSON *doc, *docs;
    unsigned long line, column;
    size_t skip = 0;

    memset(err, 0, sizeof(*err));
    if (len > CTL_MANIFEST_MAX_FILE) {
        ctl_manifest_fail(err, 0, 0, "larger than %u bytes",
                          CTL_MANIFEST_MAX_FILE);
        return NULL;
    }
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
        skip = 3;
    doc = cJSON_ParseWithLengthOpts(buf + skip, len - skip, &end, 0);
    if (doc != NULL) {
        while (end < buf + len && *end != '\0' && strchr(" \t\r\n", *end))
            end++;
        if (end < buf + len) {
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    if (doc == NULL) {
        size_t off = end != NULL ? (size_t)(end - buf) : 0;

        ctl_text_position(buf, off > len ? len : off, &line, &column);
        ctl_manifest_fail(err, line, column, "invalid JSON");
        return NULL;
    }
    if (ctl_json_height(doc, CTL_MANIFEST_MAX_DEPTH) > CTL_MANIFEST_MAX_DEPTH) {
        cJSON_Delete(doc);
        ctl_manifest_fail(err, 0, 0, "nesting deeper than %u levels",
                          CTL_MANIFEST_MAX_DEPTH);
        return NULL;
    }
    docs = cJSON_CreateArray();
    if (docs == NULL) {
        cJSON_Delete(doc);
        ctl_manifest_fail(err, 0, 0, "out of memory");
        return NULL;
    }
    cJSON_AddItemToArray(docs, doc);
    return docs;
}

static int
ctl_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && !strcmp(s + n - m, suffix);
}

/* Reads a whole regular file into a NUL-terminated buffer. */
static char *
ctl_read_whole(const char *path, size_t *len, ctl_manifest_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t have = 0;
    /* O_NONBLOCK: a FIFO named like a manifest must not hang the loop. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0) {
        ctl_manifest_fail(err, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ctl_manifest_fail(err, 0, 0, "not a regular file");
        goto fail;
    }
    if ((uint64_t)st.st_size > CTL_MANIFEST_MAX_FILE) {
        ctl_manifest_fail(err, 0, 0, "larger than %u bytes",
                          CTL_MANIFEST_MAX_FILE);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        ctl_manifest_fail(err, 0, 0, "out of memory");
        goto fail;
    }
    /* A file that grows while we read is cut at its size from fstat. */
    while (have < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ctl_manifest_fail(err, 0, 0, "cannot read: %s", strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    buf[have] = '\0';
    close(fd);
    *len = have;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

cJSON *
ctl_manifest_read_file(const char *path, ctl_manifest_error *err)
{
    size_t len;
    char *buf;
    cJSON *docs;

    memset(err, 0, sizeof(*err));
    buf = ctl_read_whole(path, &len, err);
    if (buf == NULL)
        return NULL;
    if (ctl_has_suffix(path, ".json"))
        docs = ctl_manifest_parse_json(buf, len, err);
    else
        docs = ctl_manifest_parse_yaml(buf, len, err);
    free(buf);
    return docs;
}

static int
ctl_is_list(const cJSON *doc)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");

    return cJSON_IsString(kind) && ctl_has_suffix(kind->valuestring, "List") &&
           cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "items"));
}

int
ctl_manifest_for_each_object(const cJSON *docs, ctl_manifest_object_fn *fn,
                             void *data)
{
    unsigned doc = 0;
    const cJSON *d;
    int rc;

    cJSON_ArrayForEach(d, docs) {
        doc++;
        if (cJSON_IsNull(d))
            continue;
        if (cJSON_IsObject(d) && ctl_is_list(d)) {
            const cJSON *it;
            unsigned item = 0;

            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(d, "items")) {
                if ((rc = fn(it, doc, ++item, data)) != 0)
                    return rc;
            }
            continue;
        }
        if ((rc = fn(d, doc, 0, data)) != 0)
            return rc;
    }
    return 0;
}
