/*
 * kube_client.c -- requests to the API server over one curl multi handle
 * in the ctl loop (see kube_client.h).
 *
 * curl tells us which sockets it wants watched and when it wants to be
 * woken; we register those in the loop and call curl_multi_socket_action
 * when they fire, then collect finished transfers and call their owners
 * back.  curl refuses multi calls made from inside its own callbacks, and
 * a stream's on_data runs inside one, so requests started or cancelled
 * there are only marked, and the curl side is done once
 * curl_multi_socket_action has returned (kube_client_settle).
 */
#include "kube_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "log.h"

#define KUBE_USER_AGENT "shmingress-controller/" SHMINGRESS_VERSION
#define KUBE_CA_CACHE_S 600L /* a rotated CA file is picked up this fast */

struct kube_request {
    kube_client         *client;
    CURL                *easy;
    struct curl_slist   *headers; /* holds the token: wiped when freed */
    kube_data_fn        *on_data;
    kube_done_fn        *on_done;
    void                *data;
    char                *buf;     /* the body, or a stream's error body */
    size_t               len;
    size_t               cap;
    size_t               max;
    bool                 in_multi;
    bool                 cancelled;
    bool                 stopped;   /* on_data asked to stop            */
    bool                 unstarted; /* curl would not take it          */
    bool                 too_large;
    bool                 finishing; /* in on_done: freed after it        */
    unsigned             token_gen; /* of the token it was sent with    */
    kube_request        *prev, *next;
    char                 errbuf[CURL_ERROR_SIZE];
};

struct kube_client {
    ctl_loop          *loop;
    CURLM             *multi;
    ctl_timer         *timer;
    kube_config        cfg;        /* a copy                             */
    char              *base_url;   /* server, host replaced by the TLS
                                      server name when there is one     */
    struct curl_slist *connect_to; /* the real host for that name       */
    char              *token;
    unsigned           token_gen;  /* bumped whenever the token changes */
    uint64_t           token_read_ms;
    int                depth;      /* inside curl_multi_socket_action    */
    bool               deferred;   /* requests to add or drop after it  */
    kube_request      *requests;
};

/* ------------------------------------------------------------ helpers */

static char *
kube_dup(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

static char *
kube_memdup(const char *s, size_t n)
{
    char *p;

    if (s == NULL)
        return NULL;
    p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Deep copy; returns -1 when out of memory (dst is then cleared). */
static int
kube_config_copy(kube_config *dst, const kube_config *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->insecure = src->insecure;
    dst->ca_pem_len = src->ca_pem_len;
    dst->cert_pem_len = src->cert_pem_len;
    dst->key_pem_len = src->key_pem_len;
    if ((src->source && !(dst->source = kube_dup(src->source))) ||
        (src->server && !(dst->server = kube_dup(src->server))) ||
        (src->tls_server_name &&
         !(dst->tls_server_name = kube_dup(src->tls_server_name))) ||
        (src->ca_file && !(dst->ca_file = kube_dup(src->ca_file))) ||
        (src->ca_pem && !(dst->ca_pem = kube_memdup(src->ca_pem,
                                                    src->ca_pem_len))) ||
        (src->token && !(dst->token = kube_dup(src->token))) ||
        (src->token_file && !(dst->token_file = kube_dup(src->token_file))) ||
        (src->cert_file && !(dst->cert_file = kube_dup(src->cert_file))) ||
        (src->cert_pem && !(dst->cert_pem = kube_memdup(src->cert_pem,
                                                        src->cert_pem_len))) ||
        (src->key_file && !(dst->key_file = kube_dup(src->key_file))) ||
        (src->key_pem && !(dst->key_pem = kube_memdup(src->key_pem,
                                                      src->key_pem_len))) ||
        (src->namespace_ && !(dst->namespace_ = kube_dup(src->namespace_)))) {
        kube_config_clear(dst);
        return -1;
    }
    return 0;
}

static void
kube_wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

char *
kube_escape(const char *s, char *buf, size_t buflen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            if (n + 1 >= buflen)
                return NULL;
            buf[n++] = (char)c;
        } else {
            if (n + 3 >= buflen)
                return NULL;
            buf[n++] = '%';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    if (n >= buflen)
        return NULL;
    buf[n] = '\0';
    return buf;
}

const char *
kube_response_describe(const kube_response *resp, char *buf, size_t buflen)
{
    cJSON *status;
    const cJSON *msg, *reason;

    if (resp->failed) {
        if (resp->status != 0)
            snprintf(buf, buflen, "HTTP %ld, then transport: %s",
                     resp->status, resp->error);
        else
            snprintf(buf, buflen, "transport: %s", resp->error);
        return buf;
    }
    status = cJSON_ParseWithLength(resp->body, resp->body_len);
    msg = cJSON_GetObjectItemCaseSensitive(status, "message");
    reason = cJSON_GetObjectItemCaseSensitive(status, "reason");
    if (cJSON_IsString(msg))
        snprintf(buf, buflen, "HTTP %ld %s: %s", resp->status,
                 cJSON_IsString(reason) ? reason->valuestring : "",
                 msg->valuestring);
    else
        snprintf(buf, buflen, "HTTP %ld: %.*s", resp->status,
                 (int)(resp->body_len < 200 ? resp->body_len : 200),
                 resp->body);
    cJSON_Delete(status);
    return buf;
}

/* -------------------------------------------------------------- token */

int
kube_client_reload_token(kube_client *c)
{
    char err[512], q[600];
    char *tok;
    int changed;

    if (c->cfg.token_file == NULL)
        return 0;
    c->token_read_ms = ctl_now_ms();
    tok = kube_config_read_token(c->cfg.token_file, err, sizeof(err));
    if (tok == NULL) {
        ctl_log(CTL_LOG_WARN, "cannot re-read the API token",
                "error=\"%s\" using=previous_token",
                ctl_log_quote(err, q, sizeof(q)));
        return -1;
    }
    changed = c->token == NULL || strcmp(tok, c->token) != 0;
    kube_wipe_free(c->token);
    c->token = tok;
    c->token_gen += changed;
    if (changed)
        ctl_log(CTL_LOG_INFO, "API token re-read", "file=\"%s\" changed=true",
                ctl_log_quote(c->cfg.token_file, q, sizeof(q)));
    return changed;
}

/* ------------------------------------------------------------ requests */

static void
kube_request_unlink(kube_request *r)
{
    kube_client *c = r->client;

    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        c->requests = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void
kube_request_free(kube_request *r)
{
    kube_client *c = r->client;

    if (r->in_multi)
        curl_multi_remove_handle(c->multi, r->easy);
    curl_easy_cleanup(r->easy);
    for (struct curl_slist *h = r->headers; h != NULL; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(r->headers);
    free(r->buf);
    kube_request_unlink(r);
    free(r);
}

static int
kube_buf_append(kube_request *r, const char *p, size_t n, size_t max)
{
    if (n > max || r->len > max - n) {
        r->too_large = true;
        return -1;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        char *b;

        while (cap < r->len + n + 1)
            cap *= 2;
        b = realloc(r->buf, cap);
        if (b == NULL)
            return -1;
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return 0;
}

static size_t
kube_on_write(char *p, size_t size, size_t nmemb, void *userdata)
{
    kube_request *r = userdata;
    size_t n = size * nmemb;
    long status = 0;

    if (r->cancelled)
        return 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (r->on_data != NULL && status >= 200 && status < 300) {
        if (r->on_data(r, p, n, r->data) < 0 || r->cancelled) {
            r->stopped = true;
            return 0;
        }
        return n;
    }
    if (kube_buf_append(r, p, n,
                        r->on_data != NULL ? KUBE_MAX_ERROR_BODY : r->max) < 0)
        return 0;
    return n;
}

static int
kube_request_headers(kube_request *r, const kube_request_opts *o)
{
    kube_client *c = r->client;

    r->token_gen = c->token_gen;
    r->headers = curl_slist_append(NULL, "Accept: application/json");
    if (r->headers == NULL)
        return -1;
    if (c->token != NULL) {
        size_t n = strlen(c->token) + sizeof("Authorization: Bearer ");
        struct curl_slist *h;
        char *line = malloc(n);

        if (line == NULL)
            return -1;
        snprintf(line, n, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(r->headers, line);
        kube_wipe_free(line);
        if (h == NULL)
            return -1;
    }
    if (o->body != NULL) {
        char ct[256];

        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 o->content_type ? o->content_type : "application/json");
        /* No "Expect: 100-continue" round trip before small bodies. */
        if (curl_slist_append(r->headers, ct) == NULL ||
            curl_slist_append(r->headers, "Expect:") == NULL)
            return -1;
    }
    return 0;
}

static void
kube_setopt_tls(kube_client *c, CURL *e)
{
    const kube_config *cfg = &c->cfg;

    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
    if (cfg->ca_pem != NULL) {
        struct curl_blob blob = {cfg->ca_pem, cfg->ca_pem_len,
                                 CURL_BLOB_NOCOPY};

        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    } else if (cfg->ca_file != NULL) {
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
        curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, KUBE_CA_CACHE_S);
    }
    if (cfg->cert_pem != NULL) {
        struct curl_blob blob = {cfg->cert_pem, cfg->cert_pem_len,
                                 CURL_BLOB_NOCOPY};

        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
    } else if (cfg->cert_file != NULL) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert_file);
    }
    if (cfg->key_pem != NULL) {
        struct curl_blob blob = {cfg->key_pem, cfg->key_pem_len,
                                 CURL_BLOB_NOCOPY};

        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
    } else if (cfg->key_file != NULL) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key_file);
    }
    if (cfg->cert_pem != NULL || cfg->cert_file != NULL) {
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (c->connect_to != NULL)
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
}

static int
kube_request_setup(kube_request *r, const kube_request_opts *o)
{
    kube_client *c = r->client;
    const char *method = o->method ? o->method : "GET";
    size_t n = strlen(c->base_url) + strlen(o->path) + 1;
    char *url = malloc(n);
    CURL *e = r->easy;
    CURLcode rc;

    if (url == NULL)
        return -1;
    snprintf(url, n, "%s%s", c->base_url, o->path);
    rc = curl_easy_setopt(e, CURLOPT_URL, url);
    free(url);
    if (rc != CURLE_OK || kube_request_headers(r, o) < 0)
        return -1;
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, kube_on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, KUBE_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)KUBE_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     (long)(o->timeout_ms ? o->timeout_ms
                                          : KUBE_REQUEST_TIMEOUT_MS));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
    kube_setopt_tls(c, e);
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (o->body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)o->body_len);
        if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body) != CURLE_OK)
            return -1;
    }
    return 0;
}

static void
kube_client_add(kube_client *c, kube_request *r)
{
    CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);

    if (mc == CURLM_OK) {
        r->in_multi = true;
        return;
    }
    /* Fail it through the normal path on the next timer tick. */
    snprintf(r->errbuf, sizeof(r->errbuf), "curl_multi_add_handle: %s",
             curl_multi_strerror(mc));
    r->unstarted = true;
    c->deferred = true;
    ctl_timer_arm(c->timer, 0, 0);
}

kube_request *
kube_request_start(kube_client *c, const kube_request_opts *o)
{
    kube_request *r;

    if (o->path == NULL || o->path[0] != '/' || o->on_done == NULL) {
        errno = EINVAL;
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->client = c;
    r->on_data = o->on_data;
    r->on_done = o->on_done;
    r->data = o->data;
    r->max = o->max_body ? o->max_body : KUBE_MAX_BODY;
    r->next = c->requests;
    if (c->requests != NULL)
        c->requests->prev = r;
    c->requests = r;
    if (c->cfg.token_file != NULL &&
        ctl_now_ms() - c->token_read_ms >= KUBE_TOKEN_REFRESH_MS)
        kube_client_reload_token(c);
    r->easy = curl_easy_init();
    if (r->easy == NULL || kube_request_setup(r, o) < 0) {
        kube_request_free(r);
        errno = ENOMEM;
        return NULL;
    }
    if (c->depth > 0)
        c->deferred = true;
    else
        kube_client_add(c, r);
    return r;
}

void
kube_request_cancel(kube_request *r)
{
    if (r == NULL || r->finishing)
        return;
    if (r->client->depth > 0) {
        r->cancelled = true;
        r->client->deferred = true;
        return;
    }
    kube_request_free(r);
}

/* ------------------------------------------------------ finishing */

static void
kube_request_finish(kube_request *r, CURLcode result)
{
    kube_client *c = r->client;
    kube_response resp;
    curl_off_t retry_after = 0;

    memset(&resp, 0, sizeof(resp));
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &retry_after);
    if (retry_after > 0)
        resp.retry_after_s = retry_after > 86400 ? 86400u
                                                 : (uint32_t)retry_after;
    resp.failed = result != CURLE_OK || r->stopped || r->unstarted;
    resp.error = "";
    if (r->too_large)
        resp.error = "response body too large";
    else if (r->stopped)
        resp.error = "stopped by the reader";
    else if (resp.failed)
        resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
    resp.body = r->buf ? r->buf : "";
    resp.body_len = r->len;
    /* Another request's 401 may have re-read the file already. */
    if (resp.status == 401 && !resp.failed) {
        kube_client_reload_token(c);
        resp.token_renewed = r->token_gen != c->token_gen;
    }
    if (r->in_multi) {
        curl_multi_remove_handle(c->multi, r->easy);
        r->in_multi = false;
    }
    r->finishing = true;
    r->on_done(r, &resp, r->data);
    kube_request_free(r);
}

/* Requests started, cancelled or failed while curl was busy. */
static void
kube_client_settle(kube_client *c)
{
    kube_request *r, *next;

    while (c->deferred) {
        c->deferred = false;
        for (r = c->requests; r != NULL; r = next) {
            next = r->next;
            if (r->cancelled) {
                kube_request_free(r);
            } else if (r->unstarted) {
                kube_request_finish(r, CURLE_FAILED_INIT);
                next = c->requests; /* on_done may have changed the list */
            } else if (!r->in_multi) {
                kube_client_add(c, r);
            }
        }
    }
}

static void
kube_client_collect(kube_client *c)
{
    CURLMsg *msg;
    int left;

    kube_client_settle(c);
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        kube_request *r = NULL;
        CURLcode result = msg->data.result;
        CURL *easy = msg->easy_handle;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        kube_request_finish(r, result);
        kube_client_settle(c);
    }
}

static void
kube_client_act(kube_client *c, curl_socket_t fd, int flags)
{
    int running;

    c->depth++;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    c->depth--;
    kube_client_collect(c);
}

/* ------------------------------------------------------- loop glue */

static void
kube_on_fd(ctl_loop *loop, int fd, uint32_t events, void *data)
{
    int flags = 0;

    (void)loop;
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    kube_client_act(data, fd, flags);
}

static void
kube_on_timer(ctl_loop *loop, ctl_timer *timer, void *data)
{
    (void)loop;
    (void)timer;
    kube_client_act(data, CURL_SOCKET_TIMEOUT, 0);
}

static int
kube_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
               void *socketp)
{
    kube_client *c = userp;
    uint32_t events = 0;

    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        ctl_loop_unwatch(c->loop, fd);
        return 0;
    }
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    if (ctl_loop_watch(c->loop, fd, events, kube_on_fd, c) < 0) {
        ctl_log(CTL_LOG_ERROR, "cannot watch an API connection",
                "fd=%d error=\"%s\"", fd, strerror(errno));
        return -1;
    }
    return 0;
}

static int
kube_on_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    kube_client *c = userp;

    (void)multi;
    if (timeout_ms < 0) {
        ctl_timer_disarm(c->timer);
        return 0;
    }
    return ctl_timer_arm(c->timer, (uint64_t)timeout_ms, 0) < 0 ? -1 : 0;
}

/* -------------------------------------------------------- lifecycle */

/*
 * With a TLS server name, requests go to https://<name>:<port>/... so
 * that curl sends and verifies that name, and CURLOPT_CONNECT_TO sends
 * the connection to the server's real host.
 */
static int
kube_client_urls(kube_client *c, char *err, size_t errlen)
{
    CURLU *u;
    char *host = NULL, *port = NULL, *url = NULL, entry[1024];
    int rc = -1;

    if (c->cfg.tls_server_name == NULL) {
        c->base_url = strdup(c->cfg.server);
        if (c->base_url == NULL)
            snprintf(err, errlen, "out of memory");
        return c->base_url ? 0 : -1;
    }
    u = curl_url();
    if (u == NULL || curl_url_set(u, CURLUPART_URL, c->cfg.server, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
        curl_url_set(u, CURLUPART_HOST, c->cfg.tls_server_name, 0) ||
        curl_url_get(u, CURLUPART_URL, &url, 0)) {
        snprintf(err, errlen, "server \"%.300s\" with tls-server-name "
                 "\"%.200s\": not a valid URL", c->cfg.server,
                 c->cfg.tls_server_name);
        goto out;
    }
    snprintf(entry, sizeof(entry), "%s:%s:%s:%s", c->cfg.tls_server_name,
             port, host, port);
    c->connect_to = curl_slist_append(NULL, entry);
    c->base_url = strdup(url);
    if (c->connect_to == NULL || c->base_url == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* curl_url_get adds a "/" path; requests bring their own. */
    if (c->base_url[strlen(c->base_url) - 1] == '/')
        c->base_url[strlen(c->base_url) - 1] = '\0';
    rc = 0;
out:
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

kube_client *
kube_client_new(ctl_loop *loop, const kube_config *cfg, char *err,
                size_t errlen)
{
    kube_client *c;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || kube_config_copy(&c->cfg, cfg) < 0) {
        free(c);
        curl_global_cleanup();
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->loop = loop;
    if (kube_client_urls(c, err, errlen) < 0)
        goto fail;
    if (c->cfg.token_file != NULL) {
        c->token = kube_config_read_token(c->cfg.token_file, err, errlen);
        if (c->token == NULL)
            goto fail;
        c->token_read_ms = ctl_now_ms();
    } else if (c->cfg.token != NULL && (c->token = strdup(c->cfg.token)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    c->multi = curl_multi_init();
    c->timer = ctl_timer_new(loop, kube_on_timer, c);
    if (c->multi == NULL || c->timer == NULL) {
        snprintf(err, errlen, "cannot set up curl: %s", strerror(errno));
        goto fail;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, kube_on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, kube_on_timeout);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
fail:
    kube_client_free(c);
    return NULL;
}

void
kube_client_free(kube_client *c)
{
    if (c == NULL)
        return;
    while (c->requests != NULL)
        kube_request_free(c->requests);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    ctl_timer_free(c->timer);
    curl_slist_free_all(c->connect_to);
    free(c->base_url);
    kube_wipe_free(c->token);
    kube_config_clear(&c->cfg);
    free(c);
    curl_global_cleanup();
}

const char *
kube_client_server(const kube_client *c)
{
    return c->cfg.server;
}
