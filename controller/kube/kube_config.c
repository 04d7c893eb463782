/*
 * kube_config.c -- kubeconfig and in-cluster configuration (see
 * kube_config.h).
 *
 * The kubeconfig is read with the manifests' YAML reader, so it gets the
 * same limits and the same YAML 1.2 core schema as every manifest; only
 * the first document counts.  Errors name the file and the field path
 * (clusters[name=prod].cluster.server) and, for anything that is not a
 * credential, the bad value.
 */
#include "kube_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"

/* ------------------------------------------------------------ helpers */

static int
kube_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
kube_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int
kube_strdup_to(char **dst, const char *s)
{
    *dst = strdup(s);
    return *dst == NULL ? -1 : 0;
}

/*
 * Reads a whole file of at most KUBE_MAX_CONFIG_FILE bytes into a new
 * NUL-terminated buffer.  what names the file's role in messages.
 */
static char *
kube_read_file(const char *path, const char *what, size_t *out_len, char *err,
               size_t errlen)
{
    struct stat st;
    size_t len = 0;
    char *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        kube_fail(err, errlen, "%s \"%.300s\": %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > KUBE_MAX_CONFIG_FILE) {
        kube_fail(err, errlen, "%s \"%.300s\": not a regular file of at most "
                  "%u bytes", what, path, KUBE_MAX_CONFIG_FILE);
        close(fd);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        kube_fail(err, errlen, "%s \"%.300s\": out of memory", what, path);
        close(fd);
        return NULL;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (out_len != NULL)
        *out_len = len;
    return buf;
}

/* A path from the kubeconfig: relative ones are relative to its folder. */
static char *
kube_resolve_path(const char *kubeconfig, const char *path)
{
    const char *slash = strrchr(kubeconfig, '/');
    size_t dirlen;
    char *out;

    if (path[0] == '/' || slash == NULL)
        return strdup(path);
    dirlen = (size_t)(slash - kubeconfig) + 1;
    out = malloc(dirlen + strlen(path) + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, kubeconfig, dirlen);
    strcpy(out + dirlen, path);
    return out;
}

/* ------------------------------------------------------------- base64 */

static int
kube_base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

char *
kube_base64_decode(const char *in, size_t len, size_t *out_len)
{
    char *out = malloc(len / 4 * 3 + 4);
    uint32_t acc = 0;
    size_t n = 0, digits = 0, pad = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int v;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        v = kube_base64_value(c);
        if (v < 0 || pad > 0)
            goto bad; /* not base64, or data after padding */
        acc = acc << 6 | (uint32_t)v;
        if (++digits % 4 == 0) {
            out[n++] = (char)(acc >> 16);
            out[n++] = (char)(acc >> 8);
            out[n++] = (char)acc;
            acc = 0;
        }
    }
    /* A final group of 2 or 3 digits carries 1 or 2 bytes; 1 carries none. */
    switch (digits % 4) {
    case 0:
        break;
    case 2:
        out[n++] = (char)(acc >> 4);
        break;
    case 3:
        out[n++] = (char)(acc >> 10);
        out[n++] = (char)(acc >> 2);
        break;
    default:
        goto bad;
    }
    if (pad > 2 || (pad > 0 && (digits + pad) % 4 != 0))
        goto bad;
    out[n] = '\0';
    *out_len = n;
    return out;
bad:
    free(out);
    return NULL;
}

/* --------------------------------------------------------- kubeconfig */

typedef struct {
    const char *path;
    char       *err;
    size_t      errlen;
} kube_kc;

/* The entry of a named list ("clusters", "users", "contexts"), or NULL. */
static const cJSON *
kube_kc_named(const cJSON *doc, const char *list, const char *name,
              const char *member)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, list), *e;

    cJSON_ArrayForEach(e, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");

        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return cJSON_GetObjectItemCaseSensitive(e, member);
    }
    return NULL;
}

/*
 * A string field: 0 and *out NULL when absent, 0 and *out set when a
 * non-empty string, -1 with a message otherwise.
 */
static int
kube_kc_string(kube_kc *kc, const cJSON *obj, const char *where,
               const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s.%s is not a non-empty "
                         "string", kc->path, where, key);
    *out = v->valuestring;
    return 0;
}

/* A "-data" field: base64 of PEM, decoded into *pem. */
static int
kube_kc_data(kube_kc *kc, const cJSON *obj, const char *where, const char *key,
             char **pem, size_t *pem_len)
{
    const char *s;

    if (kube_kc_string(kc, obj, where, key, &s) < 0)
        return -1;
    if (s == NULL)
        return 0;
    *pem = kube_base64_decode(s, strlen(s), pem_len);
    if (*pem == NULL || *pem_len == 0)
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s.%s is not valid base64",
                         kc->path, where, key);
    return 0;
}

/* A file field: stored as a path resolved against the kubeconfig. */
static int
kube_kc_file(kube_kc *kc, const cJSON *obj, const char *where, const char *key,
             char **out)
{
    const char *s;

    if (kube_kc_string(kc, obj, where, key, &s) < 0)
        return -1;
    if (s == NULL)
        return 0;
    *out = kube_resolve_path(kc->path, s);
    if (*out == NULL)
        return kube_fail(kc->err, kc->errlen, "out of memory");
    return 0;
}

static int
kube_kc_cluster(kube_kc *kc, const cJSON *cluster, const char *name,
                kube_config *cfg)
{
    char where[300];
    const char *server, *sni;
    const cJSON *insecure;
    size_t n;

    snprintf(where, sizeof(where), "clusters[name=%.200s].cluster", name);
    if (!cJSON_IsObject(cluster))
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": cluster \"%.200s\" (named by "
                         "the current context) is not in clusters",
                         kc->path, name);
    if (kube_kc_string(kc, cluster, where, "server", &server) < 0)
        return -1;
    if (server == NULL)
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s.server is missing",
                         kc->path, where);
    if (strncmp(server, "https://", 8) != 0 &&
        strncmp(server, "http://", 7) != 0)
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s.server \"%.300s\" is not "
                         "an http:// or https:// URL", kc->path, where, server);
    if (kube_strdup_to(&cfg->server, server) < 0)
        return kube_fail(kc->err, kc->errlen, "out of memory");
    n = strlen(cfg->server);
    while (n > 0 && cfg->server[n - 1] == '/')
        cfg->server[--n] = '\0';
    insecure = cJSON_GetObjectItemCaseSensitive(cluster,
                                                "insecure-skip-tls-verify");
    if (insecure != NULL && !cJSON_IsBool(insecure))
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s.insecure-skip-tls-verify "
                         "is not true or false", kc->path, where);
    cfg->insecure = cJSON_IsTrue(insecure);
    if (kube_kc_string(kc, cluster, where, "tls-server-name", &sni) < 0 ||
        (sni != NULL && kube_strdup_to(&cfg->tls_server_name, sni) < 0))
        return -1;
    if (kube_kc_data(kc, cluster, where, "certificate-authority-data",
                     &cfg->ca_pem, &cfg->ca_pem_len) < 0)
        return -1;
    if (cfg->ca_pem == NULL &&
        kube_kc_file(kc, cluster, where, "certificate-authority",
                     &cfg->ca_file) < 0)
        return -1;
    return 0;
}

static int
kube_kc_user(kube_kc *kc, const cJSON *user, const char *name,
             kube_config *cfg)
{
    static const char *const refused[] = {"exec", "auth-provider", "username",
                                          "password"};
    char where[300];
    const char *token;

    snprintf(where, sizeof(where), "users[name=%.200s].user", name);
    if (!cJSON_IsObject(user))
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": user \"%.200s\" (named by the "
                         "current context) is not in users", kc->path, name);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (cJSON_GetObjectItemCaseSensitive(user, refused[i]) != NULL)
            return kube_fail(kc->err, kc->errlen,
                             "kubeconfig \"%.300s\": %s.%s is not supported; "
                             "use a token, tokenFile or client certificate",
                             kc->path, where, refused[i]);
    }
    if (kube_kc_file(kc, user, where, "tokenFile", &cfg->token_file) < 0 ||
        kube_kc_string(kc, user, where, "token", &token) < 0 ||
        (token != NULL && kube_strdup_to(&cfg->token, token) < 0))
        return -1;
    if (kube_kc_data(kc, user, where, "client-certificate-data",
                     &cfg->cert_pem, &cfg->cert_pem_len) < 0 ||
        (cfg->cert_pem == NULL &&
         kube_kc_file(kc, user, where, "client-certificate",
                      &cfg->cert_file) < 0))
        return -1;
    if (kube_kc_data(kc, user, where, "client-key-data", &cfg->key_pem,
                     &cfg->key_pem_len) < 0 ||
        (cfg->key_pem == NULL &&
         kube_kc_file(kc, user, where, "client-key", &cfg->key_file) < 0))
        return -1;
    if ((cfg->cert_pem || cfg->cert_file) != (cfg->key_pem || cfg->key_file))
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s has a client certificate "
                         "without a key or a key without a certificate",
                         kc->path, where);
    return 0;
}

static int
kube_kc_parse(kube_kc *kc, const cJSON *doc, kube_config *cfg)
{
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(doc, "current-context");
    const cJSON *ctx;
    const char *cluster, *user, *ns;
    char where[300];

    if (!cJSON_IsObject(doc))
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": not a mapping", kc->path);
    if (!cJSON_IsString(cur) || cur->valuestring[0] == '\0')
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": current-context is not set",
                         kc->path);
    ctx = kube_kc_named(doc, "contexts", cur->valuestring, "context");
    if (!cJSON_IsObject(ctx))
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": current-context \"%.200s\" "
                         "is not in contexts", kc->path, cur->valuestring);
    snprintf(where, sizeof(where), "contexts[name=%.200s].context",
             cur->valuestring);
    if (kube_kc_string(kc, ctx, where, "cluster", &cluster) < 0 ||
        kube_kc_string(kc, ctx, where, "user", &user) < 0 ||
        kube_kc_string(kc, ctx, where, "namespace", &ns) < 0)
        return -1;
    if (cluster == NULL)
        return kube_fail(kc->err, kc->errlen,
                         "kubeconfig \"%.300s\": %s.cluster is missing",
                         kc->path, where);
    if (kube_kc_cluster(kc, kube_kc_named(doc, "clusters", cluster, "cluster"),
                        cluster, cfg) < 0)
        return -1;
    if (user != NULL &&
        kube_kc_user(kc, kube_kc_named(doc, "users", user, "user"), user,
                     cfg) < 0)
        return -1;
    if (ns != NULL && kube_strdup_to(&cfg->namespace_, ns) < 0)
        return kube_fail(kc->err, kc->errlen, "out of memory");
    return 0;
}

int
kube_config_from_kubeconfig(kube_config *cfg, const char *path, char *err,
                            size_t errlen)
{
    ctl_manifest_error merr;
    kube_kc kc = {path, err, errlen};
    cJSON *docs;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    docs = ctl_manifest_read_file(path, &merr);
    if (docs == NULL)
        return kube_fail(err, errlen, "kubeconfig \"%.300s\": line %lu: %s",
                         path, merr.line, merr.problem);
    rc = kube_kc_parse(&kc, cJSON_GetArrayItem(docs, 0), cfg);
    cJSON_Delete(docs);
    if (rc == 0) {
        size_t n = strlen(path) + sizeof("kubeconfig ");

        cfg->source = malloc(n);
        if (cfg->source == NULL)
            rc = kube_fail(err, errlen, "out of memory");
        else
            snprintf(cfg->source, n, "kubeconfig %s", path);
    }
    if (rc < 0)
        kube_config_clear(cfg);
    return rc;
}

/* ---------------------------------------------------------- in-cluster */

static char *
kube_sa_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

int
kube_config_in_cluster(kube_config *cfg, char *err, size_t errlen)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    const char *dir = getenv(KUBE_SERVICEACCOUNT_ENV);
    char *token, *ns_path, *ns;
    size_t n;

    memset(cfg, 0, sizeof(*cfg));
    if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
        return kube_fail(err, errlen,
                         "no cluster to talk to: no --kubeconfig, no "
                         "$KUBECONFIG, and KUBERNETES_SERVICE_HOST/"
                         "KUBERNETES_SERVICE_PORT are not set (not in a pod)");
    if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
        return kube_fail(err, errlen,
                         "KUBERNETES_SERVICE_PORT \"%.20s\" is not a port",
                         port);
    if (dir == NULL || *dir == '\0')
        dir = KUBE_SERVICEACCOUNT_DIR;
    n = strlen(host) + strlen(port) + sizeof("https://[]:");
    cfg->server = malloc(n);
    cfg->source = strdup("in-cluster");
    cfg->token_file = kube_sa_path(dir, "token");
    cfg->ca_file = kube_sa_path(dir, "ca.crt");
    ns_path = kube_sa_path(dir, "namespace");
    if (cfg->server == NULL || cfg->source == NULL || cfg->token_file == NULL ||
        cfg->ca_file == NULL || ns_path == NULL) {
        free(ns_path);
        kube_config_clear(cfg);
        return kube_fail(err, errlen, "out of memory");
    }
    /* An IPv6 address needs brackets in a URL. */
    if (strchr(host, ':') != NULL)
        snprintf(cfg->server, n, "https://[%s]:%s", host, port);
    else
        snprintf(cfg->server, n, "https://%s:%s", host, port);
    token = kube_config_read_token(cfg->token_file, err, errlen);
    if (token == NULL || access(cfg->ca_file, R_OK) < 0) {
        if (token != NULL)
            kube_fail(err, errlen, "service account CA \"%.300s\": %s",
                      cfg->ca_file, strerror(errno));
        free(token);
        free(ns_path);
        kube_config_clear(cfg);
        return -1;
    }
    free(token);
    ns = kube_read_file(ns_path, "namespace file", NULL, err, errlen);
    free(ns_path);
    if (ns != NULL) {
        ns[strcspn(ns, " \t\r\n")] = '\0';
        if (*ns != '\0')
            cfg->namespace_ = ns;
        else
            free(ns);
    }
    return 0;
}

/* ------------------------------------------------------------- common */

int
kube_config_load(kube_config *cfg, const char *kubeconfig_path, char *err,
                 size_t errlen)
{
    const char *env = getenv("KUBECONFIG");
    char first[4096];
    size_t n;

    if (kubeconfig_path != NULL)
        return kube_config_from_kubeconfig(cfg, kubeconfig_path, err, errlen);
    if (env != NULL && (n = strcspn(env, ":")) > 0) {
        if (n >= sizeof(first))
            return kube_fail(err, errlen, "$KUBECONFIG: first path too long");
        memcpy(first, env, n);
        first[n] = '\0';
        return kube_config_from_kubeconfig(cfg, first, err, errlen);
    }
    return kube_config_in_cluster(cfg, err, errlen);
}

/* Overwrites credentials before freeing them. */
static void
kube_free_secret(char *s, size_t len)
{
    if (s == NULL)
        return;
    explicit_bzero(s, len);
    free(s);
}

void
kube_config_clear(kube_config *cfg)
{
    free(cfg->source);
    free(cfg->server);
    free(cfg->tls_server_name);
    free(cfg->ca_file);
    free(cfg->ca_pem);
    kube_free_secret(cfg->token, cfg->token ? strlen(cfg->token) : 0);
    free(cfg->token_file);
    free(cfg->cert_file);
    free(cfg->cert_pem);
    free(cfg->key_file);
    kube_free_secret(cfg->key_pem, cfg->key_pem_len);
    free(cfg->namespace_);
    memset(cfg, 0, sizeof(*cfg));
}

char *
kube_config_read_token(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *tok = kube_read_file(path, "token file", &len, err, errlen);

    if (tok == NULL)
        return NULL;
    while (len > 0 && strchr(" \t\r\n", tok[len - 1]) != NULL)
        tok[--len] = '\0';
    if (len == 0 || strpbrk(tok, "\r\n") != NULL) {
        kube_fail(err, errlen, "token file \"%.300s\": %s", path,
                  len == 0 ? "empty" : "more than one line");
        kube_free_secret(tok, len);
        return NULL;
    }
    return tok;
}
