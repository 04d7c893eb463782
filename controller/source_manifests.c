/*
 * source_manifests.c -- objects from a directory of manifests, kept in
 * step with it through inotify (see source_manifests.h).
 *
 * Bookkeeping has two sides.  Each file record holds the parsed documents
 * of its last good read and the list of objects found in them.  A key
 * index maps kind/namespace/name to every file that defines it, so when
 * a file changes, only the keys it touched are settled again: the owner
 * with the greatest file name wins and its object goes into the store (a
 * copy: the store owns its objects), or the key leaves the store when no
 * file defines it any more.  A key whose winning object is already in the
 * store unchanged is not put again, so rewriting a file with the same
 * content changes nothing downstream.
 *
 * Events name the files they are about; those are re-read alone.  Only
 * events that can change many files at once (a ConfigMap's "..data"
 * symlink swap, a directory event, a queue overflow) make the source
 * rescan the whole directory, comparing each file's stat with the last
 * read.
 */
#include "source_manifests.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube_keymap.h"
#include "log.h"
#include "manifest.h"

#define CTL_WATCH_MASK                                                       \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |  \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define CTL_REWATCH_MS 1000u

typedef struct {
    ctl_kind     kind;
    const char  *namespace_; /* "" for IngressClass                  */
    const char  *name;       /* borrowed from the file's documents   */
    char        *origin;     /* "<dir>/<file>#<doc>[.<item>]"        */
    const cJSON *json;       /* borrowed from the file's documents   */
} ctl_mobj;

typedef struct {
    char           *name; /* within the directory */
    char           *path;
    int             have_stat;
    dev_t           dev;
    ino_t           ino;
    off_t           size;
    struct timespec mtime;
    struct timespec ctime;
    int             is_link; /* its target may change without events */
    int             failed; /* the last read failed; objs are older */
    cJSON          *docs;   /* the last good read                   */
    ctl_mobj       *objs;
    size_t          nobjs;
} ctl_mfile;

typedef struct {
    ctl_mfile *file;
    size_t     idx; /* into file->objs */
} ctl_owner;

/* What the key index holds for one kind/namespace/name. */
typedef struct {
    ctl_kind     kind;
    kube_keyent *ent;    /* its entry in keys[kind]: ns and name */
    ctl_owner   *owners; /* every file that defines it           */
    size_t       nowners;
    int          touched;
} ctl_kentry;

struct ctl_manifests {
    char                *dir;
    ctl_store           *store;
    ctl_loop            *loop;
    ctl_pipeline_source *link;
    uint64_t             debounce_ms;

    ctl_mfile          **files; /* sorted by name */
    size_t               nfiles;

    kube_keymap          keys[CTL_KIND_COUNT]; /* ptr: ctl_kentry */
    ctl_kentry         **touched;
    size_t               ntouched;
    size_t               captouched;

    int                  ifd;
    int                  wd;
    ctl_debounce        *debounce;
    ctl_timer           *rewatch;
    char               **pending; /* names named by events */
    size_t               npending;
    size_t               cappending;
    int                  pending_full;  /* rescan the whole directory  */
    int                  pending_force; /* and re-parse every file     */
    int                  dir_failing;   /* logged once per failure run */

    uint64_t             reads;
    size_t               run_read;      /* per rescan, for the summary */
    size_t               run_removed;
    size_t               run_skipped;
};

/* ---------------------------------------------------------- key index */

static ctl_kentry *
ctl_key_get(ctl_manifests *m, const ctl_mobj *o, int create)
{
    kube_keymap *map = &m->keys[o->kind];
    kube_keyent *ke;
    ctl_kentry *e;

    if (!create) {
        ke = kube_keymap_get(map, o->namespace_, o->name);
        return ke != NULL ? ke->ptr : NULL;
    }
    ke = kube_keymap_put(map, o->namespace_, o->name, NULL);
    if (ke == NULL)
        return NULL;
    if (ke->ptr != NULL)
        return ke->ptr;
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        kube_keymap_del(map, o->namespace_, o->name);
        return NULL;
    }
    e->kind = o->kind;
    e->ent = ke;
    ke->ptr = e;
    return e;
}

static void
ctl_key_drop(ctl_manifests *m, ctl_kentry *e)
{
    kube_keymap_del(&m->keys[e->kind], e->ent->ns, e->ent->name);
    free(e->owners);
    free(e);
}

static size_t
ctl_key_count(const ctl_manifests *m)
{
    size_t n = 0;

    for (int k = 0; k < CTL_KIND_COUNT; k++)
        n += m->keys[k].count;
    return n;
}

static int
ctl_key_touch(ctl_manifests *m, ctl_kentry *e)
{
    if (e->touched)
        return 0;
    if (m->ntouched == m->captouched) {
        size_t cap = m->captouched ? m->captouched * 2 : 64;
        ctl_kentry **t = realloc(m->touched, cap * sizeof(*t));

        if (t == NULL)
            return -1;
        m->touched = t;
        m->captouched = cap;
    }
    e->touched = 1;
    m->touched[m->ntouched++] = e;
    return 0;
}

/* ---------------------------------------------------------- log lines */

/* "ns/name", or "name" for cluster-scoped objects. */
static const char *
ctl_object_ref(const ctl_mobj *o, char *buf, size_t len)
{
    char tmp[600];

    if (*o->namespace_)
        snprintf(tmp, sizeof(tmp), "%s/%s", o->namespace_, o->name);
    else
        snprintf(tmp, sizeof(tmp), "%s", o->name);
    return ctl_log_quote(tmp, buf, len);
}

/* ------------------------------------------------------------ objects */

static void
ctl_mobjs_free(ctl_mobj *objs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(objs[i].origin);
    free(objs);
}

/* Lower-case alphanumerics and '-', starting and ending alphanumeric. */
static int
ctl_is_dns_label(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return 0;
    }
    return 1;
}

static int
ctl_is_dns_subdomain(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 253)
        return 0;
    while (*s) {
        size_t label = strcspn(s, ".");

        if (!ctl_is_dns_label(s, label))
            return 0;
        s += label;
        if (*s == '.' && *++s == '\0')
            return 0;
    }
    return 1;
}

/*
 * The namespace an object lives in, or NULL when metadata.namespace is
 * unusable.  Like kubectl, an absent or empty namespace means "default",
 * and a cluster-scoped kind ignores whatever namespace it was given.
 */
static const char *
ctl_object_namespace(int kind, const cJSON *ns)
{
    if (kind == CTL_KIND_INGRESS_CLASS)
        return "";
    if (ns == NULL || cJSON_IsNull(ns))
        return "default";
    if (!cJSON_IsString(ns))
        return NULL;
    if (*ns->valuestring == '\0')
        return "default";
    if (!ctl_is_dns_label(ns->valuestring, strlen(ns->valuestring)))
        return NULL;
    return ns->valuestring;
}

typedef struct {
    ctl_manifests   *m;
    const ctl_mfile *file;
    ctl_mobj        *objs;
    size_t           nobjs;
    size_t           cap;
} ctl_collect;

static int
ctl_collect_shape_error(ctl_collect *c, const char *origin, const char *kind,
                        const char *object, const char *field,
                        const char *value, const char *problem)
{
    char qf[600], qo[300], qobj[600], qv[300];

    ctl_log(CTL_LOG_WARN, "manifest file skipped",
            "file=\"%s\" origin=\"%s\" kind=%s object=\"%s\" field=%s "
            "value=\"%s\" problem=\"%s\" kept_objects=%zu",
            ctl_log_quote(c->file->path, qf, sizeof(qf)),
            ctl_log_quote(origin, qo, sizeof(qo)), kind,
            ctl_log_quote(object, qobj, sizeof(qobj)), field,
            ctl_log_quote(value, qv, sizeof(qv)), problem, c->file->nobjs);
    return 1;
}

static int
ctl_collect_object(const cJSON *obj, unsigned doc, unsigned item, void *data)
{
    ctl_collect *c = data;
    const cJSON *meta, *name, *ns;
    const char *namespace_;
    char origin[4200];
    int kind;
    ctl_mobj *o;

    if (item)
        snprintf(origin, sizeof(origin), "%s#%u.%u", c->file->path, doc, item);
    else
        snprintf(origin, sizeof(origin), "%s#%u", c->file->path, doc);
    if (!cJSON_IsObject(obj))
        return ctl_collect_shape_error(c, origin, "-", "", "-", "",
                                       "not a mapping");
    kind = ctl_kind_from_json(obj);
    if (kind < 0) {
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kind");
        char qo[300], qa[200], qk[200];

        ctl_log(CTL_LOG_DEBUG, "object ignored",
                "origin=\"%s\" apiVersion=\"%s\" kind=\"%s\" reason=\"kind not used\"",
                ctl_log_quote(origin, qo, sizeof(qo)),
                ctl_log_quote(cJSON_IsString(av) ? av->valuestring : "", qa,
                              sizeof(qa)),
                ctl_log_quote(cJSON_IsString(k) ? k->valuestring : "", qk,
                              sizeof(qk)));
        return 0;
    }
    meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    if (!cJSON_IsObject(meta))
        return ctl_collect_shape_error(c, origin, ctl_kind_name(kind), "",
                                       "metadata", "", "missing or not a mapping");
    if (!cJSON_IsString(name) || !ctl_is_dns_subdomain(name->valuestring))
        return ctl_collect_shape_error(
            c, origin, ctl_kind_name(kind), "", "metadata.name",
            cJSON_IsString(name) ? name->valuestring : "",
            cJSON_IsString(name) ? "not a DNS-1123 subdomain" : "missing");
    namespace_ = ctl_object_namespace(kind, ns);
    if (namespace_ == NULL)
        return ctl_collect_shape_error(
            c, origin, ctl_kind_name(kind), name->valuestring,
            "metadata.namespace", cJSON_IsString(ns) ? ns->valuestring : "",
            "not a DNS-1123 label");
    if (c->nobjs == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        ctl_mobj *objs = realloc(c->objs, cap * sizeof(*objs));

        if (objs == NULL)
            return -1;
        c->objs = objs;
        c->cap = cap;
    }
    o = &c->objs[c->nobjs];
    o->kind = (ctl_kind)kind;
    o->name = name->valuestring;
    o->namespace_ = namespace_;
    o->json = obj;
    o->origin = strdup(origin);
    if (o->origin == NULL)
        return -1;
    c->nobjs++;
    return 0;
}

/*
 * Parses a file into documents and objects.  Returns 0, or -1 after
 * logging why the file is skipped.
 */
static int
ctl_file_parse(ctl_manifests *m, const ctl_mfile *f, cJSON **docs_out,
               ctl_mobj **objs_out, size_t *n_out)
{
    ctl_manifest_error err;
    ctl_collect c;
    cJSON *docs;
    int rc;

    m->reads++;
    docs = ctl_manifest_read_file(f->path, &err);
    if (docs == NULL) {
        char qf[600], qp[300];

        ctl_log(CTL_LOG_WARN, "manifest file skipped",
                "file=\"%s\" line=%lu column=%lu problem=\"%s\" kept_objects=%zu",
                ctl_log_quote(f->path, qf, sizeof(qf)), err.line, err.column,
                ctl_log_quote(err.problem, qp, sizeof(qp)), f->nobjs);
        return -1;
    }
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.file = f;
    rc = ctl_manifest_for_each_object(docs, ctl_collect_object, &c);
    if (rc != 0) {
        if (rc < 0) {
            char qf[600];

            ctl_log(CTL_LOG_ERROR, "manifest file skipped",
                    "file=\"%s\" problem=\"out of memory\" kept_objects=%zu",
                    ctl_log_quote(f->path, qf, sizeof(qf)), f->nobjs);
        }
        ctl_mobjs_free(c.objs, c.nobjs);
        cJSON_Delete(docs);
        return -1;
    }
    *docs_out = docs;
    *objs_out = c.objs;
    *n_out = c.nobjs;
    return 0;
}

static void
ctl_owner_remove(ctl_kentry *e, const ctl_mfile *f)
{
    for (size_t i = 0; i < e->nowners; i++) {
        if (e->owners[i].file == f) {
            e->owners[i] = e->owners[--e->nowners];
            return;
        }
    }
}

/* A second definition in the same file replaces the first. */
static int
ctl_owner_add(ctl_kentry *e, ctl_mfile *f, size_t idx)
{
    ctl_owner *o;

    for (size_t i = 0; i < e->nowners; i++) {
        if (e->owners[i].file == f) {
            char qa[300], qb[300], qr[600];

            ctl_log(CTL_LOG_WARN, "duplicate object in one file",
                    "kind=%s object=\"%s\" used=\"%s\" ignored=\"%s\"",
                    ctl_kind_name(e->kind),
                    ctl_object_ref(&f->objs[idx], qr, sizeof(qr)),
                    ctl_log_quote(f->objs[idx].origin, qa, sizeof(qa)),
                    ctl_log_quote(f->objs[e->owners[i].idx].origin, qb,
                                  sizeof(qb)));
            e->owners[i].idx = idx;
            return 0;
        }
    }
    o = realloc(e->owners, (e->nowners + 1) * sizeof(*o));
    if (o == NULL)
        return -1;
    e->owners = o;
    e->owners[e->nowners].file = f;
    e->owners[e->nowners].idx = idx;
    e->nowners++;
    return 0;
}

/*
 * Swaps a file's objects for a new set (empty when the file is gone) and
 * marks every key either set mentions for settling.
 */
static int
ctl_file_replace(ctl_manifests *m, ctl_mfile *f, cJSON *docs, ctl_mobj *objs,
                 size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < f->nobjs; i++) {
        ctl_kentry *e = ctl_key_get(m, &f->objs[i], 0);

        if (e != NULL) {
            ctl_owner_remove(e, f);
            if (ctl_key_touch(m, e) < 0)
                rc = -1;
        }
    }
    ctl_mobjs_free(f->objs, f->nobjs);
    cJSON_Delete(f->docs);
    f->docs = docs;
    f->objs = objs;
    f->nobjs = n;
    for (size_t i = 0; i < n; i++) {
        ctl_kentry *e = ctl_key_get(m, &objs[i], 1);

        if (e == NULL || ctl_owner_add(e, f, i) < 0 || ctl_key_touch(m, e) < 0)
            rc = -1;
    }
    if (rc < 0)
        ctl_log(CTL_LOG_ERROR, "manifest bookkeeping failed",
                "error=\"out of memory\"");
    return rc;
}

static const ctl_owner *
ctl_key_winner(const ctl_kentry *e)
{
    const ctl_owner *w = NULL;

    for (size_t i = 0; i < e->nowners; i++) {
        if (w == NULL || strcmp(e->owners[i].file->name, w->file->name) > 0)
            w = &e->owners[i];
    }
    return w;
}

static void
ctl_log_duplicate(const ctl_kentry *e, const ctl_owner *w)
{
    for (size_t i = 0; i < e->nowners; i++) {
        const ctl_owner *o = &e->owners[i];
        char qa[300], qb[300], qr[600];

        if (o == w)
            continue;
        ctl_log(CTL_LOG_WARN, "duplicate object",
                "kind=%s object=\"%s\" used=\"%s\" ignored=\"%s\" "
                "reason=\"later file wins\"",
                ctl_kind_name(e->kind),
                ctl_object_ref(&w->file->objs[w->idx], qr, sizeof(qr)),
                ctl_log_quote(w->file->objs[w->idx].origin, qa, sizeof(qa)),
                ctl_log_quote(o->file->objs[o->idx].origin, qb, sizeof(qb)));
    }
}

/* Brings the store in line with the index for one key. */
static void
ctl_key_settle(ctl_manifests *m, ctl_kentry *e)
{
    const ctl_owner *w = ctl_key_winner(e);
    const ctl_object *cur;
    const ctl_mobj *o;
    cJSON *copy;

    e->touched = 0;
    if (w == NULL) {
        ctl_store_delete(m->store, e->kind, e->ent->ns, e->ent->name);
        ctl_key_drop(m, e);
        return;
    }
    o = &w->file->objs[w->idx];
    if (e->nowners > 1)
        ctl_log_duplicate(e, w);
    cur = ctl_store_get(m->store, e->kind, e->ent->ns, e->ent->name);
    if (cur != NULL && !strcmp(cur->origin, o->origin) &&
        cJSON_Compare(cur->json, o->json, 1))
        return;
    copy = cJSON_Duplicate(o->json, 1);
    if (copy == NULL ||
        ctl_store_put(m->store, e->kind, e->ent->ns, e->ent->name, copy,
                      o->origin) < 0)
        ctl_log(CTL_LOG_ERROR, "store update failed",
                "kind=%s error=\"out of memory\"", ctl_kind_name(e->kind));
}

static void
ctl_settle_all(ctl_manifests *m)
{
    for (size_t i = 0; i < m->ntouched; i++)
        ctl_key_settle(m, m->touched[i]);
    m->ntouched = 0;
}

/* ------------------------------------------------------------- files */

static ctl_mfile *
ctl_file_new(const ctl_manifests *m, const char *name)
{
    ctl_mfile *f = calloc(1, sizeof(*f));
    size_t len;

    if (f == NULL)
        return NULL;
    len = strlen(m->dir) + strlen(name) + 2;
    f->name = strdup(name);
    f->path = malloc(len);
    if (f->name == NULL || f->path == NULL) {
        free(f->name);
        free(f->path);
        free(f);
        return NULL;
    }
    snprintf(f->path, len, "%s/%s", m->dir, name);
    return f;
}

static void
ctl_file_free(ctl_mfile *f)
{
    ctl_mobjs_free(f->objs, f->nobjs);
    cJSON_Delete(f->docs);
    free(f->name);
    free(f->path);
    free(f);
}

static int
ctl_stat_same(const ctl_mfile *f, const struct stat *st)
{
    return f->have_stat && f->dev == st->st_dev && f->ino == st->st_ino &&
           f->size == st->st_size && f->mtime.tv_sec == st->st_mtim.tv_sec &&
           f->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           f->ctime.tv_sec == st->st_ctim.tv_sec &&
           f->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void
ctl_stat_keep(ctl_mfile *f, const struct stat *st)
{
    f->have_stat = 1;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    f->mtime = st->st_mtim;
    f->ctime = st->st_ctim;
}

static void
ctl_file_remove_objects(ctl_manifests *m, ctl_mfile *f)
{
    char qf[600];

    ctl_log(CTL_LOG_INFO, "manifest file removed", "file=\"%s\" objects=%zu",
            ctl_log_quote(f->path, qf, sizeof(qf)), f->nobjs);
    ctl_file_replace(m, f, NULL, NULL, 0);
    m->run_removed++;
}

enum { CTL_FILE_KEPT, CTL_FILE_READ, CTL_FILE_GONE };

/* A file we cannot even stat keeps what it had, like a bad file. */
static int
ctl_file_unreadable(const ctl_mfile *f)
{
    char qf[600];

    ctl_log(CTL_LOG_WARN, "manifest file skipped",
            "file=\"%s\" problem=\"stat: %s\" kept_objects=%zu",
            ctl_log_quote(f->path, qf, sizeof(qf)), strerror(errno), f->nobjs);
    return CTL_FILE_KEPT;
}

/*
 * Re-reads a file when forced or when its stat changed.  A file that is
 * no longer a readable regular file is reported gone; the caller drops
 * the record.
 */
static int
ctl_file_refresh(ctl_manifests *m, ctl_mfile *f, int force)
{
    struct stat st;
    cJSON *docs;
    ctl_mobj *objs;
    size_t n;

    if (lstat(f->path, &st) == 0)
        f->is_link = S_ISLNK(st.st_mode);
    if (stat(f->path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return CTL_FILE_GONE;
        return ctl_file_unreadable(f);
    }
    if (!S_ISREG(st.st_mode))
        return CTL_FILE_GONE;
    if (!force && ctl_stat_same(f, &st))
        return CTL_FILE_KEPT;
    ctl_stat_keep(f, &st);
    if (ctl_file_parse(m, f, &docs, &objs, &n) < 0) {
        f->failed = 1;
        m->run_skipped++;
        return CTL_FILE_READ;
    }
    if (f->failed) {
        char qf[600];

        ctl_log(CTL_LOG_INFO, "manifest file fixed", "file=\"%s\" objects=%zu",
                ctl_log_quote(f->path, qf, sizeof(qf)), n);
    }
    f->failed = 0;
    ctl_file_replace(m, f, docs, objs, n);
    m->run_read++;
    return CTL_FILE_READ;
}

static int
ctl_is_manifest_name(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.')
        return 0;
    return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
           (n > 4 && !strcmp(name + n - 4, ".yml")) ||
           (n > 5 && !strcmp(name + n - 5, ".json"));
}

static int
ctl_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
ctl_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The manifest names in the directory, sorted; NULL on failure. */
static char **
ctl_list_dir(ctl_manifests *m, size_t *count)
{
    DIR *d = opendir(m->dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (d == NULL) {
        int saved = errno;

        if (!m->dir_failing) {
            char qd[600];

            ctl_log(CTL_LOG_ERROR, "manifests directory unreadable",
                    "dir=\"%s\" error=\"%s\" kept_objects=%zu",
                    ctl_log_quote(m->dir, qd, sizeof(qd)), strerror(saved),
                    ctl_key_count(m));
        }
        m->dir_failing = 1;
        errno = saved;
        return NULL;
    }
    m->dir_failing = 0;
    while ((de = readdir(d)) != NULL) {
        if (!ctl_is_manifest_name(de->d_name))
            continue;
        if (n == cap) {
            char **grown;

            cap = cap ? cap * 2 : 64;
            grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL)
                goto nomem;
            names = grown;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), ctl_name_cmp);
    *count = n;
    /* An empty directory is a valid answer, distinct from a failure. */
    if (names == NULL)
        names = malloc(sizeof(*names));
    return names;
nomem:
    closedir(d);
    ctl_names_free(names, n);
    ctl_log(CTL_LOG_ERROR, "manifests directory unreadable",
            "error=\"out of memory\"");
    return NULL;
}

static void
ctl_run_begin(ctl_manifests *m)
{
    m->run_read = 0;
    m->run_removed = 0;
    m->run_skipped = 0;
}

/* Settles the store, tells the pipeline, and logs what the run did. */
static int
ctl_run_end(ctl_manifests *m, uint64_t started_us)
{
    uint64_t before = ctl_store_version(m->store);
    int done = (int)(m->run_read + m->run_removed + m->run_skipped);

    ctl_settle_all(m);
    if (done > 0) {
        size_t skipped = 0;
        char qd[600];

        for (size_t i = 0; i < m->nfiles; i++)
            skipped += m->files[i]->failed != 0;
        ctl_log(CTL_LOG_INFO, "manifests read",
                "dir=\"%s\" files=%zu files_read=%zu files_removed=%zu "
                "files_skipped=%zu objects=%zu ms=%.3f",
                ctl_log_quote(m->dir, qd, sizeof(qd)), m->nfiles, m->run_read,
                m->run_removed, skipped, ctl_key_count(m),
                (double)(ctl_now_us() - started_us) / 1000.0);
    }
    if (ctl_store_version(m->store) != before && m->link != NULL)
        ctl_pipeline_source_changed(m->link);
    return done;
}

int
ctl_manifests_rescan(ctl_manifests *m)
{
    uint64_t t0 = ctl_now_us();
    int force = m->pending_force;
    size_t nnames = 0, i = 0, j = 0, k = 0;
    char **names = ctl_list_dir(m, &nnames);
    ctl_mfile **files;

    if (names == NULL)
        return -1;
    files = malloc((m->nfiles + nnames + 1) * sizeof(*files));
    if (files == NULL) {
        ctl_names_free(names, nnames);
        return -1;
    }
    m->pending_force = 0;
    ctl_run_begin(m);
    while (i < m->nfiles || j < nnames) {
        int cmp = i == m->nfiles ? 1
                  : j == nnames  ? -1
                                 : strcmp(m->files[i]->name, names[j]);
        ctl_mfile *f;

        if (cmp < 0) {
            f = m->files[i++];
            ctl_file_remove_objects(m, f);
            ctl_file_free(f);
            continue;
        }
        if (cmp == 0) {
            f = m->files[i++];
        } else if ((f = ctl_file_new(m, names[j])) == NULL) {
            j++;
            continue;
        }
        j++;
        if (ctl_file_refresh(m, f, force) == CTL_FILE_GONE) {
            if (f->nobjs > 0 || f->have_stat)
                ctl_file_remove_objects(m, f);
            ctl_file_free(f);
            continue;
        }
        files[k++] = f;
    }
    free(m->files);
    m->files = files;
    m->nfiles = k;
    ctl_names_free(names, nnames);
    return ctl_run_end(m, t0);
}

static size_t
ctl_file_find(const ctl_manifests *m, const char *name, int *found)
{
    size_t lo = 0, hi = m->nfiles;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(m->files[mid]->name, name);

        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

/* Removes the record at index i and its objects. */
static void
ctl_file_drop_at(ctl_manifests *m, size_t i)
{
    ctl_mfile *f = m->files[i];

    ctl_file_remove_objects(m, f);
    ctl_file_free(f);
    memmove(&m->files[i], &m->files[i + 1],
            (m->nfiles - i - 1) * sizeof(*m->files));
    m->nfiles--;
}

/* Re-reads one named file, adding or dropping its record as needed. */
static void
ctl_refresh_named(ctl_manifests *m, const char *name)
{
    int found;
    size_t at = ctl_file_find(m, name, &found);
    ctl_mfile *f;

    if (found) {
        if (ctl_file_refresh(m, m->files[at], 1) == CTL_FILE_GONE)
            ctl_file_drop_at(m, at);
        return;
    }
    f = ctl_file_new(m, name);
    if (f == NULL)
        return;
    if (ctl_file_refresh(m, f, 1) == CTL_FILE_GONE) {
        ctl_file_free(f);
        return;
    }
    {
        ctl_mfile **files = realloc(m->files, (m->nfiles + 1) * sizeof(*files));

        if (files == NULL) {
            /* Keep the store consistent with the records we can hold. */
            ctl_file_replace(m, f, NULL, NULL, 0);
            ctl_file_free(f);
            return;
        }
        m->files = files;
    }
    memmove(&m->files[at + 1], &m->files[at],
            (m->nfiles - at) * sizeof(*m->files));
    m->files[at] = f;
    m->nfiles++;
}

/* Re-reads a symlinked file when the file it reaches changed; 1: gone. */
static int
ctl_refresh_link(ctl_manifests *m, size_t i)
{
    if (ctl_file_refresh(m, m->files[i], 0) != CTL_FILE_GONE)
        return 0;
    ctl_file_drop_at(m, i);
    return 1;
}

/* --------------------------------------------------------- watching */

static void
ctl_pending_clear(ctl_manifests *m)
{
    for (size_t i = 0; i < m->npending; i++)
        free(m->pending[i]);
    m->npending = 0;
    m->pending_full = 0;
}

static void
ctl_pending_add(ctl_manifests *m, const char *name)
{
    if (m->pending_full)
        return;
    if (m->npending == m->cappending) {
        size_t cap = m->cappending ? m->cappending * 2 : 16;
        char **p = realloc(m->pending, cap * sizeof(*p));

        if (p == NULL) {
            m->pending_full = 1;
            return;
        }
        m->pending = p;
        m->cappending = cap;
    }
    if ((m->pending[m->npending] = strdup(name)) == NULL) {
        m->pending_full = 1;
        return;
    }
    m->npending++;
}

static void
ctl_manifests_debounced(void *data)
{
    ctl_manifests *m = data;
    uint64_t t0;

    if (m->pending_full) {
        ctl_pending_clear(m);
        ctl_manifests_rescan(m);
        return;
    }
    t0 = ctl_now_us();
    if (m->npending > 1)
        qsort(m->pending, m->npending, sizeof(*m->pending), ctl_name_cmp);
    ctl_run_begin(m);
    for (size_t i = 0; i < m->npending; i++) {
        if (i == 0 || strcmp(m->pending[i], m->pending[i - 1]) != 0)
            ctl_refresh_named(m, m->pending[i]);
    }
    ctl_pending_clear(m);
    /* A symlink may point at a file just named; its own name was not. */
    for (size_t i = 0; i < m->nfiles;) {
        if (m->files[i]->is_link && ctl_refresh_link(m, i))
            continue;
        i++;
    }
    ctl_run_end(m, t0);
}

static void
ctl_manifests_schedule(ctl_manifests *m)
{
    if (ctl_debounce_poke(m->debounce) < 0) {
        ctl_log(CTL_LOG_ERROR, "cannot arm the manifests debounce timer",
                "error=\"%s\"", strerror(errno));
    }
}

static void
ctl_watch_lost(ctl_manifests *m)
{
    char qd[600];

    if (m->wd < 0)
        return;
    m->wd = -1;
    ctl_log(CTL_LOG_WARN, "manifests directory watch lost",
            "dir=\"%s\" retry_ms=%u kept_objects=%zu",
            ctl_log_quote(m->dir, qd, sizeof(qd)), CTL_REWATCH_MS, ctl_key_count(m));
    ctl_timer_arm(m->rewatch, CTL_REWATCH_MS, CTL_REWATCH_MS);
}

/*
 * Decides what one event asks for: a named manifest file is re-read
 * alone; the "..data" dance of a ConfigMap volume, directories and
 * overflows need the whole directory.  A plain file being created is
 * waited for until it is closed after writing.
 */
static void
ctl_on_event(ctl_manifests *m, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        m->pending_full = 1;
        m->pending_force = 1;
        ctl_manifests_schedule(m);
        return;
    }
    if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        ctl_watch_lost(m);
        return;
    }
    if (ev->len == 0 || ev->name[0] == '\0')
        return;
    if ((ev->mask & IN_ISDIR) || !strncmp(ev->name, "..", 2)) {
        m->pending_full = 1;
        ctl_manifests_schedule(m);
        return;
    }
    if (!ctl_is_manifest_name(ev->name))
        return;
    if (ev->mask & IN_CREATE) {
        char path[4200];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", m->dir, ev->name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            return;
    }
    ctl_pending_add(m, ev->name);
    ctl_manifests_schedule(m);
}

static void
ctl_on_inotify(ctl_loop *loop, int fd, uint32_t events, void *data)
{
    ctl_manifests *m = data;
    char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

    (void)loop;
    (void)events;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;

            ctl_on_event(m, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

static void
ctl_on_rewatch(ctl_loop *loop, ctl_timer *timer, void *data)
{
    ctl_manifests *m = data;
    char qd[600];

    (void)loop;
    m->wd = inotify_add_watch(m->ifd, m->dir, CTL_WATCH_MASK);
    if (m->wd < 0)
        return;
    ctl_timer_disarm(timer);
    ctl_log(CTL_LOG_INFO, "manifests directory watched again", "dir=\"%s\"",
            ctl_log_quote(m->dir, qd, sizeof(qd)));
    m->pending_full = 1;
    ctl_manifests_schedule(m);
}

static int
ctl_manifests_watch(ctl_manifests *m, char *err, size_t errlen)
{
    m->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m->ifd < 0) {
        snprintf(err, errlen, "inotify: %s", strerror(errno));
        return -1;
    }
    m->wd = inotify_add_watch(m->ifd, m->dir, CTL_WATCH_MASK);
    if (m->wd < 0) {
        snprintf(err, errlen, "cannot watch manifests dir \"%.200s\": %s",
                 m->dir, strerror(errno));
        return -1;
    }
    m->debounce = ctl_debounce_new(m->loop, m->debounce_ms, m->debounce_ms * 10,
                                   ctl_manifests_debounced, m);
    m->rewatch = ctl_timer_new(m->loop, ctl_on_rewatch, m);
    if (m->debounce == NULL || m->rewatch == NULL ||
        ctl_loop_watch(m->loop, m->ifd, EPOLLIN, ctl_on_inotify, m) < 0) {
        snprintf(err, errlen, "cannot set up the manifests watch: %s",
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* -------------------------------------------------------------- api */

ctl_manifests *
ctl_manifests_new(const char *dir, ctl_store *store, ctl_loop *loop,
                  ctl_pipeline_source *link, uint64_t debounce_ms)
{
    ctl_manifests *m = calloc(1, sizeof(*m));
    size_t n;

    if (m == NULL || (m->dir = strdup(dir)) == NULL) {
        free(m);
        return NULL;
    }
    /* "dir/" and "dir" name the same files; keep origins tidy. */
    n = strlen(m->dir);
    while (n > 1 && m->dir[n - 1] == '/')
        m->dir[--n] = '\0';
    m->store = store;
    m->loop = loop;
    m->link = link;
    m->debounce_ms = debounce_ms;
    m->ifd = -1;
    m->wd = -1;
    return m;
}

void
ctl_manifests_free(ctl_manifests *m)
{
    if (m == NULL)
        return;
    if (m->ifd >= 0) {
        if (m->loop != NULL)
            ctl_loop_unwatch(m->loop, m->ifd);
        close(m->ifd);
    }
    ctl_debounce_free(m->debounce);
    ctl_timer_free(m->rewatch);
    ctl_pending_clear(m);
    free(m->pending);
    for (size_t i = 0; i < m->nfiles; i++)
        ctl_file_free(m->files[i]);
    free(m->files);
    for (int k = 0; k < CTL_KIND_COUNT; k++) {
        kube_keyiter it;
        kube_keyent *ke;

        kube_keyiter_init(&it, &m->keys[k]);
        while ((ke = kube_keyiter_next(&it, &m->keys[k])) != NULL) {
            ctl_kentry *e = ke->ptr;

            free(e->owners);
            free(e);
        }
        kube_keymap_clear(&m->keys[k]);
    }
    free(m->touched);
    free(m->dir);
    free(m);
}

int
ctl_manifests_start(ctl_manifests *m, char *err, size_t errlen)
{
    /* Watch first: a change made during the first read is not lost. */
    if (m->loop != NULL && ctl_manifests_watch(m, err, errlen) < 0)
        return -1;
    if (ctl_manifests_rescan(m) < 0) {
        snprintf(err, errlen, "cannot read manifests dir \"%.200s\": %s", m->dir,
                 strerror(errno));
        return -1;
    }
    if (m->nfiles == 0) {
        char qd[600];

        ctl_log(CTL_LOG_WARN, "no manifest files", "dir=\"%s\"",
                ctl_log_quote(m->dir, qd, sizeof(qd)));
    }
    if (m->link != NULL)
        ctl_pipeline_source_ready(m->link);
    return 0;
}

void
ctl_manifests_get_stats(const ctl_manifests *m, ctl_manifests_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->files = m->nfiles;
    st->objects = ctl_key_count(m);
    st->reads = m->reads;
    for (size_t i = 0; i < m->nfiles; i++)
        st->files_skipped += m->files[i]->failed != 0;
}
