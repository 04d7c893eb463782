/*
 * model_auth.c -- the basic-auth part of a route policy: the Secret an
 * Ingress's auth-secret names, turned into the htpasswd lines the module
 * checks ("user:hash\n" each).
 *
 * auth-file: the Secret's key "auth" holds htpasswd lines; auth-map:
 * each key of the Secret is a user and its value that user's hash.
 * Hashes the module verifies are bcrypt ($2y$, $2b$, $2a$), apr1,
 * {SHA} and crypt(3) (DES, $1$, $5$, $6$); a line with another format
 * is skipped with a warning naming the user.  Whatever makes the lines
 * unusable -- a missing Secret or key, a Secret in another namespace
 * without --allow-cross-namespace-resources, no usable line -- denies
 * the routes (503), with a warning and an event naming the Ingress, the
 * Secret and the key.  Secret content (hashes included) is never
 * logged.  The lines are rebuilt on every build; they are small.
 */
#define _GNU_SOURCE /* asprintf */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "model_internal.h"

#define AUTH_MAX_USER 255
#define AUTH_MAX_HASH 200 /* the module's limit is larger */

/* What one policy's auth is being built from. */
typedef struct {
    ctl_build        *bd;
    const ctl_object *ing;
    const char       *ns; /* the Secret's namespace                 */
    const char       *name;
    const char       *key; /* "auth", or "" for auth-map             */
    char             *out; /* "user:hash\n" lines                    */
    size_t            len;
    size_t            cap;
    bool              nomem;
} auth_lines;

static bool
is_crypt64(int c)
{
    return isalnum(c) || c == '.' || c == '/';
}

static bool
all_crypt64(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_crypt64((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* $2y$NN$ + 53 characters of bcrypt's alphabet. */
static bool
is_bcrypt(const char *h, size_t n)
{
    return n == 60 && h[0] == '$' && h[1] == '2'
           && (h[2] == 'y' || h[2] == 'b' || h[2] == 'a') && h[3] == '$'
           && isdigit((unsigned char)h[4]) && isdigit((unsigned char)h[5])
           && h[6] == '$' && all_crypt64(h + 7, 53);
}

/* $apr1$ or $1$, a salt of 1..8 characters, $, 22 characters. */
static bool
is_md5_crypt(const char *h, size_t n)
{
    size_t      magic = strncmp(h, "$apr1$", 6) == 0 ? 6
                        : strncmp(h, "$1$", 3) == 0  ? 3
                                                     : 0;
    const char *salt = h + magic, *end;

    if (magic == 0 || n <= magic)
        return false;
    end = memchr(salt, '$', n - magic);
    return end != NULL && end > salt && end - salt <= 8
           && all_crypt64(salt, (size_t)(end - salt))
           && (size_t)(h + n - end) == 23 && all_crypt64(end + 1, 22);
}

/* $5$ / $6$ [rounds=N$] salt $ digest (SHA-crypt). */
static bool
is_sha_crypt(const char *h, size_t n)
{
    if (n < 5 || h[0] != '$' || (h[1] != '5' && h[1] != '6') || h[2] != '$')
        return false;
    for (size_t i = 3; i < n; i++) {
        if (!is_crypt64((unsigned char)h[i]) && h[i] != '$' && h[i] != '=')
            return false;
    }
    return true;
}

static bool
is_sha1(const char *h, size_t n)
{
    if (n != 33 || strncmp(h, "{SHA}", 5) != 0)
        return false;
    for (size_t i = 5; i < n; i++) {
        if (!isalnum((unsigned char)h[i]) && h[i] != '+' && h[i] != '/'
            && h[i] != '=')
            return false;
    }
    return true;
}

static bool
hash_supported(const char *h, size_t n)
{
    return is_bcrypt(h, n) || is_md5_crypt(h, n) || is_sha_crypt(h, n)
           || is_sha1(h, n) || (n == 13 && all_crypt64(h, 13));
}

static void auth_warn(auth_lines *al, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
auth_warn(auth_lines *al, const char *fmt, ...)
{
    char    reason[400], q[500], qs[600];
    char    secret[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    snprintf(secret, sizeof(secret), "%s/%s", al->ns, al->name);
    ctl_log_object(CTL_LOG_WARN, "basic auth", al->ing,
                   "field=metadata.annotations[auth-secret] secret=\"%s\" "
                   "key=\"%s\" reason=\"%s\"",
                   ctl_log_quote(secret, qs, sizeof(qs)), al->key,
                   ctl_log_quote(reason, q, sizeof(q)));
    ctl_model_problem(al->bd, al->ing, "AuthSecret", "Secret %s%s%s%s: %s",
                      secret, al->key[0] ? " key \"" : "", al->key,
                      al->key[0] ? "\"" : "", reason);
}

static void
append(auth_lines *al, const char *s, size_t n)
{
    if (al->nomem)
        return;
    if (al->len + n > al->cap) {
        size_t cap = (al->len + n) * 2 + 256;
        char  *grown = malloc(cap);

        if (grown == NULL) {
            al->nomem = true;
            return;
        }
        if (al->out != NULL) {
            memcpy(grown, al->out, al->len);
            OPENSSL_cleanse(al->out, al->cap);
            free(al->out);
        }
        al->out = grown;
        al->cap = cap;
    }
    memcpy(al->out + al->len, s, n);
    al->len += n;
}

static bool
valid_user(const char *u, size_t n)
{
    if (n == 0 || n > AUTH_MAX_USER)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (iscntrl((unsigned char)u[i]) || u[i] == ':')
            return false;
    }
    return true;
}

/* One user and hash: kept when both are usable, else warned about. */
static void
add_user(auth_lines *al, const char *user, size_t ulen, const char *hash,
         size_t hlen)
{
    char quser[64];

    if (!valid_user(user, ulen)) {
        auth_warn(al, "a line has no valid user name; skipped");
        return;
    }
    snprintf(quser, sizeof(quser), "%.*s", (int)(ulen < 40 ? ulen : 40), user);
    if (hlen > AUTH_MAX_HASH || !hash_supported(hash, hlen)) {
        auth_warn(al,
                  "user \"%s\": the hash is not bcrypt, apr1, {SHA} "
                  "or crypt; skipped",
                  quser);
        return;
    }
    append(al, user, ulen);
    append(al, ":", 1);
    append(al, hash, hlen);
    append(al, "\n", 1);
}

/* auth-file: "user:hash[:comment]" lines; blank and '#' lines skipped. */
static void
read_htpasswd(auth_lines *al, const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end, *colon, *hash_end;

        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        if (line_end > p && *p != '#') {
            colon = memchr(p, ':', (size_t)(line_end - p));
            if (colon == NULL) {
                auth_warn(al, "a line is not user:hash; skipped");
            } else {
                hash_end =
                    memchr(colon + 1, ':', (size_t)(line_end - colon - 1));
                add_user(
                    al, p, (size_t)(colon - p), colon + 1,
                    (size_t)((hash_end ? hash_end : line_end) - colon - 1));
            }
        }
        p = eol ? eol + 1 : end;
    }
}

/* A user of an auth-map, unless stringData has it (it wins over data). */
static void
read_map_member(auth_lines *al, const cJSON *json, const cJSON *m,
                bool from_data)
{
    const char *why = NULL;
    size_t      len;
    char       *value;

    if (from_data
        && ctl_json_string(ctl_json_object(json, "stringData"), m->string)
               != NULL)
        return;
    value = ctl_secret_value(json, m->string, &len, &why);
    if (value == NULL) {
        if (strcmp(why, "out of memory") == 0)
            al->nomem = true;
        else
            auth_warn(al, "the value of a user is %s; skipped", why);
        return;
    }
    while (len > 0 && (value[len - 1] == '\n' || value[len - 1] == '\r'))
        len--;
    add_user(al, m->string, strlen(m->string), value, len);
    OPENSSL_cleanse(value, len);
    free(value);
}

static void
read_map(auth_lines *al, const cJSON *json)
{
    const cJSON *m;

    cJSON_ArrayForEach(m, ctl_json_object(json, "stringData"))
        read_map_member(al, json, m, false);
    cJSON_ArrayForEach(m, ctl_json_object(json, "data"))
        read_map_member(al, json, m, true);
}

/* The lines of the Secret into al; false when it cannot be used. */
static bool
read_secret(auth_lines *al, const ctl_ann_auth *a)
{
    const ctl_object *secret =
        ctl_store_get(al->bd->store, CTL_KIND_SECRET, al->ns, al->name);
    const char *why = NULL;
    size_t      len;
    char       *text;

    if (secret == NULL) {
        auth_warn(al, "not found; the routes answer 503");
        return false;
    }
    if (a->map) {
        read_map(al, secret->json);
    } else {
        text = ctl_secret_value(secret->json, "auth", &len, &why);
        if (text == NULL) {
            if (strcmp(why, "out of memory") == 0)
                al->nomem = true;
            else
                auth_warn(al, "%s; the routes answer 503", why);
            return false;
        }
        read_htpasswd(al, text, len);
        OPENSSL_cleanse(text, len);
        free(text);
    }
    if (al->len == 0 && !al->nomem) {
        auth_warn(al, "no usable user:hash line; the routes answer 503");
        return false;
    }
    return true;
}

int
ctl_auth_spec(ctl_build *bd, const ctl_object *ing, const ctl_ann_auth *a,
              tbl_policy_spec *s, uint8_t **secret, size_t *secret_len)
{
    auth_lines  al;
    char        ns[64];
    const char *name;
    size_t      ns_len;

    *secret = NULL;
    *secret_len = 0;
    if (a->denied)
        s->flags |= TBL_POL_DENIED;
    if (a->type != TBL_AUTH_BASIC || a->denied)
        return 0;
    memset(&al, 0, sizeof(al));
    al.bd = bd;
    al.ing = ing;
    al.key = a->map ? "" : "auth";
    ctl_ann_auth_secret_ref(a->secret, &name, &ns_len);
    snprintf(ns, sizeof(ns), "%.*s", (int)ns_len, a->secret);
    al.ns = ns_len ? ns : ing->namespace_;
    al.name = name;
    s->auth_type = TBL_AUTH_BASIC;
    s->auth_realm = a->realm;
    if (strcmp(al.ns, ing->namespace_) != 0 && !bd->cfg->allow_cross_namespace)
    {
        auth_warn(&al, "in another namespace than the Ingress, which "
                       "needs --allow-cross-namespace-resources; the "
                       "routes answer 503");
        s->flags |= TBL_POL_DENIED;
        return 0;
    }
    if (!read_secret(&al, a)) {
        s->flags |= TBL_POL_DENIED;
        if (al.out != NULL) {
            OPENSSL_cleanse(al.out, al.cap);
            free(al.out);
        }
        return al.nomem ? -1 : 0;
    }
    if (al.nomem) {
        OPENSSL_cleanse(al.out, al.cap);
        free(al.out);
        return -1;
    }
    *secret = (uint8_t *)al.out;
    *secret_len = al.len;
    s->auth_secret = *secret;
    s->auth_secret_len = al.len;
    return 0;
}
