
/*
 * ngx_http_shmingress_auth.c -- basic authentication of a route policy.
 *
 * In the ACCESS phase, after the source ranges (the access handler calls
 * it), a policy with auth type BASIC checks the request's
 * "Authorization: Basic" credentials against the htpasswd lines the
 * controller put into the policy's auth secret ("user:hash\n" each):
 * bcrypt and crypt(3) hashes through libcrypt, apr1 (Apache's MD5) and
 * {SHA} through OpenSSL, every comparison in constant time.  A failure
 * answers 401 with a "WWW-Authenticate: Basic realm=..." challenge.
 *
 * bcrypt is slow on purpose, so each worker remembers successful
 * verifications for a short while: the key of an entry is a hash, keyed
 * with a random per-worker secret, of the policy id (which changes with
 * the Secret's content), the user and the password; neither is stored.
 * Failures are never remembered.
 *
 * The $shmingress_authorization variable is the client's Authorization
 * header, or empty on a route with basic auth, so that the template's
 * proxy_set_header never passes the credentials upstream.  Which routes
 * need auth, and whether their Secret was usable (DENIED otherwise), is
 * the controller's decision.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <crypt.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ngx_http_shmingress_module.h"


#define NGX_HTTP_SHMINGRESS_AUTH_CACHE_SLOTS  1024
#define NGX_HTTP_SHMINGRESS_AUTH_CACHE_TTL    60000   /* ms */
#define NGX_HTTP_SHMINGRESS_AUTH_MAX_HASH     256


typedef enum {
    ngx_http_shmingress_hash_unknown = 0,
    ngx_http_shmingress_hash_crypt,       /* bcrypt, DES, $1$, $5$, $6$ */
    ngx_http_shmingress_hash_apr1,
    ngx_http_shmingress_hash_sha
} ngx_http_shmingress_hash_e;


typedef struct {
    u_char                          key[32];
    ngx_msec_t                      expires;
} ngx_http_shmingress_auth_entry_t;


static ngx_int_t ngx_http_shmingress_auth_challenge(ngx_http_request_t *r,
    const tbl_view *v, const tbl_policy *pol);
static ngx_int_t ngx_http_shmingress_auth_find(const tbl_view *v,
    const tbl_policy *pol, ngx_str_t *user, ngx_str_t *hash);
static ngx_int_t ngx_http_shmingress_auth_verify(ngx_str_t *passwd,
    ngx_str_t *hash);
static ngx_http_shmingress_hash_e ngx_http_shmingress_auth_hash_type(
    ngx_str_t *hash);
static ngx_int_t ngx_http_shmingress_auth_crypt(const char *passwd,
    ngx_str_t *hash);
static ngx_int_t ngx_http_shmingress_auth_apr1(ngx_str_t *passwd,
    ngx_str_t *hash);
static ngx_int_t ngx_http_shmingress_md5(EVP_MD_CTX *md, u_char *out,
    ngx_str_t *parts, ngx_uint_t n);
static ngx_int_t ngx_http_shmingress_auth_sha(ngx_str_t *passwd,
    ngx_str_t *hash);
static ngx_int_t ngx_http_shmingress_auth_cache_key(uint64_t policy_id,
    ngx_str_t *user, ngx_str_t *passwd, u_char *key);
static ngx_int_t ngx_http_shmingress_authorization_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_shmingress_auth_vars[] = {

    { ngx_string("shmingress_authorization"), NULL,
      ngx_http_shmingress_authorization_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};

static const u_char  ngx_http_shmingress_itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


/* per worker: a worker serves one request at a time on this path */
static ngx_http_shmingress_auth_entry_t
    ngx_http_shmingress_auth_cache[NGX_HTTP_SHMINGRESS_AUTH_CACHE_SLOTS];
static u_char            ngx_http_shmingress_auth_secret[32];
static ngx_uint_t        ngx_http_shmingress_auth_secret_set;
static struct crypt_data ngx_http_shmingress_crypt_data;


ngx_int_t
ngx_http_shmingress_auth_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
               ngx_http_shmingress_auth_vars);
}


/*
 * NGX_DECLINED when the request may go on (no basic auth, or good
 * credentials), else the status to answer.
 */
ngx_int_t
ngx_http_shmingress_auth_basic(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    u_char                             key[32];
    ngx_int_t                          rc;
    ngx_str_t                          hash;
    ngx_uint_t                         slow;
    const tbl_view                    *v;
    const tbl_policy                  *pol;
    ngx_http_shmingress_auth_entry_t  *e;

    pol = ctx->policy;

    /* the controller never writes digest: a table that does is denied */

    if (pol->auth_type == TBL_AUTH_DIGEST) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "route of ingress %V/%V denied: digest "
                      "authentication is not supported",
                      &ctx->ingress_namespace, &ctx->ingress_name);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (pol->auth_type != TBL_AUTH_BASIC) {
        return NGX_DECLINED;
    }

    v = &ctx->table->view;

    rc = ngx_http_auth_basic_user(r);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "no user/password was provided for basic "
                      "authentication of ingress %V/%V",
                      &ctx->ingress_namespace, &ctx->ingress_name);
        return ngx_http_shmingress_auth_challenge(r, v, pol);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "malformed basic authentication for ingress %V/%V",
                      &ctx->ingress_namespace, &ctx->ingress_name);
        return ngx_http_shmingress_auth_challenge(r, v, pol);
    }

    if (ngx_http_shmingress_auth_find(v, pol, &r->headers_in.user, &hash)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "user \"%V\" was not found in the auth secret of "
                      "ingress %V/%V", &r->headers_in.user,
                      &ctx->ingress_namespace, &ctx->ingress_name);
        return ngx_http_shmingress_auth_challenge(r, v, pol);
    }

    /* {SHA} costs less than the cache key itself */

    slow = ngx_http_shmingress_auth_hash_type(&hash)
           != ngx_http_shmingress_hash_sha;
    e = NULL;

    if (slow) {
        if (ngx_http_shmingress_auth_cache_key(pol->policy_id,
                                               &r->headers_in.user,
                                               &r->headers_in.passwd, key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        e = &ngx_http_shmingress_auth_cache[
                 (key[0] | (key[1] << 8))
                 % NGX_HTTP_SHMINGRESS_AUTH_CACHE_SLOTS];

        if (CRYPTO_memcmp(e->key, key, sizeof(key)) == 0
            && (ngx_msec_int_t) (e->expires - ngx_current_msec) > 0)
        {
            return NGX_DECLINED;
        }
    }

    rc = ngx_http_shmingress_auth_verify(&r->headers_in.passwd, &hash);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "user \"%V\": password mismatch for ingress %V/%V",
                      &r->headers_in.user, &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return ngx_http_shmingress_auth_challenge(r, v, pol);
    }

    if (e) {
        ngx_memcpy(e->key, key, sizeof(key));
        e->expires = ngx_current_msec + NGX_HTTP_SHMINGRESS_AUTH_CACHE_TTL;
    }

    return NGX_DECLINED;
}


/* 401 with the realm as a quoted-string: '"' and '\' escaped. */
static ngx_int_t
ngx_http_shmingress_auth_challenge(ngx_http_request_t *r, const tbl_view *v,
    const tbl_policy *pol)
{
    u_char           *p;
    size_t            len, i;
    const u_char     *realm;
    ngx_table_elt_t  *h;

    realm = (const u_char *) tbl_view_str(v, pol->auth_realm);
    len = sizeof("Basic realm=\"\"") - 1 + 2 * pol->auth_realm.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_cpymem(p, "Basic realm=\"", sizeof("Basic realm=\"") - 1);

    for (i = 0; i < pol->auth_realm.len; i++) {
        if (realm[i] == '"' || realm[i] == '\\') {
            *p++ = '\\';
        }
        *p++ = realm[i];
    }

    *p++ = '"';
    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_HTTP_UNAUTHORIZED;
}


/* The hash of the first "user:hash" line for user. */
static ngx_int_t
ngx_http_shmingress_auth_find(const tbl_view *v, const tbl_policy *pol,
    ngx_str_t *user, ngx_str_t *hash)
{
    const u_char  *p, *end, *eol, *colon;

    p = tbl_view_blob(v, pol->auth_secret);
    end = p + pol->auth_secret.len;

    for ( /* void */ ; p < end; p = eol + 1) {
        eol = ngx_strlchr((u_char *) p, (u_char *) end, '\n');
        if (eol == NULL) {
            eol = end;
        }

        colon = ngx_strlchr((u_char *) p, (u_char *) eol, ':');

        if (colon == NULL
            || (size_t) (colon - p) != user->len
            || ngx_memcmp(p, user->data, user->len) != 0)
        {
            continue;
        }

        hash->data = (u_char *) colon + 1;
        hash->len = eol - colon - 1;

        return NGX_OK;
    }

    return NGX_DECLINED;
}


static ngx_http_shmingress_hash_e
ngx_http_shmingress_auth_hash_type(ngx_str_t *hash)
{
    if (hash->len > 5 && ngx_strncmp(hash->data, "{SHA}", 5) == 0) {
        return ngx_http_shmingress_hash_sha;
    }

    if (hash->len > 6 && ngx_strncmp(hash->data, "$apr1$", 6) == 0) {
        return ngx_http_shmingress_hash_apr1;
    }

    if (hash->len > 0 && hash->len < NGX_HTTP_SHMINGRESS_AUTH_MAX_HASH) {
        return ngx_http_shmingress_hash_crypt;
    }

    return ngx_http_shmingress_hash_unknown;
}


/* NGX_OK on a match, NGX_DECLINED on a mismatch, NGX_ERROR. */
static ngx_int_t
ngx_http_shmingress_auth_verify(ngx_str_t *passwd, ngx_str_t *hash)
{
    char       buf[NGX_HTTP_SHMINGRESS_AUTH_MAX_HASH];
    ngx_int_t  rc;

    switch (ngx_http_shmingress_auth_hash_type(hash)) {

    case ngx_http_shmingress_hash_sha:
        return ngx_http_shmingress_auth_sha(passwd, hash);

    case ngx_http_shmingress_hash_apr1:
        return ngx_http_shmingress_auth_apr1(passwd, hash);

    case ngx_http_shmingress_hash_crypt:

        /* crypt(3) reads a C string: a NUL would cut the password short */

        if (passwd->len >= sizeof(buf)
            || ngx_strlchr(passwd->data, passwd->data + passwd->len, '\0'))
        {
            return NGX_DECLINED;
        }

        ngx_memcpy(buf, passwd->data, passwd->len);
        buf[passwd->len] = '\0';

        rc = ngx_http_shmingress_auth_crypt(buf, hash);

        ngx_explicit_memzero(buf, sizeof(buf));

        return rc;

    default:
        return NGX_DECLINED;
    }
}


static ngx_int_t
ngx_http_shmingress_auth_crypt(const char *passwd, ngx_str_t *hash)
{
    char        setting[NGX_HTTP_SHMINGRESS_AUTH_MAX_HASH];
    const char  *out;

    ngx_memcpy(setting, hash->data, hash->len);
    setting[hash->len] = '\0';

    out = crypt_rn(passwd, setting, &ngx_http_shmingress_crypt_data,
                   sizeof(ngx_http_shmingress_crypt_data));

    if (out == NULL || out[0] == '*' || ngx_strlen(out) != hash->len) {
        return NGX_DECLINED;
    }

    return CRYPTO_memcmp(out, hash->data, hash->len) == 0 ? NGX_OK
                                                          : NGX_DECLINED;
}


/* {SHA}: base64 of the SHA-1 of the password. */
static ngx_int_t
ngx_http_shmingress_auth_sha(ngx_str_t *passwd, ngx_str_t *hash)
{
    u_char     md[EVP_MAX_MD_SIZE], b64[64];
    ngx_str_t  digest, encoded;

    if (EVP_Digest(passwd->data, passwd->len, md, NULL, EVP_sha1(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    digest.data = md;
    digest.len = 20;
    encoded.data = b64;
    ngx_encode_base64(&encoded, &digest);

    if (hash->len - 5 != encoded.len) {
        return NGX_DECLINED;
    }

    return CRYPTO_memcmp(hash->data + 5, b64, encoded.len) == 0
           ? NGX_OK : NGX_DECLINED;
}


/*
 * One MD5 over up to four parts (a NULL part is skipped), into out; out
 * may be one of the parts.
 */
static ngx_int_t
ngx_http_shmingress_md5(EVP_MD_CTX *md, u_char *out, ngx_str_t *parts,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (parts[i].data
            && EVP_DigestUpdate(md, parts[i].data, parts[i].len) != 1)
        {
            return NGX_ERROR;
        }
    }

    return EVP_DigestFinal_ex(md, out, NULL) == 1 ? NGX_OK : NGX_ERROR;
}


/*
 * $apr1$salt$digest: Apache's variant of the MD5-based crypt, 1000
 * rounds of MD5 over the password, the salt and the previous digest,
 * written in crypt's base-64 alphabet.
 */
static ngx_int_t
ngx_http_shmingress_auth_apr1(ngx_str_t *passwd, ngx_str_t *hash)
{
    u_char        final[16], out[22], *w;
    size_t        n, i;
    uint32_t      l;
    ngx_int_t     rc;
    ngx_str_t     salt, fin, none, parts[4];
    EVP_MD_CTX   *md;

    static const u_char  order[5][3] = {
        { 0, 6, 12 }, { 1, 7, 13 }, { 2, 8, 14 }, { 3, 9, 15 }, { 4, 10, 5 }
    };

    salt.data = hash->data + 6;
    for (salt.len = 0;
         salt.len < 8 && 6 + salt.len < hash->len
         && salt.data[salt.len] != '$';
         salt.len++)
    { /* void */ }

    if (6 + salt.len + 1 + 22 != hash->len || salt.data[salt.len] != '$') {
        return NGX_DECLINED;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    fin.data = final;
    fin.len = sizeof(final);
    ngx_str_null(&none);

    /* the alternate digest: password, salt, password */

    parts[0] = *passwd;
    parts[1] = salt;
    parts[2] = *passwd;

    rc = ngx_http_shmingress_md5(md, final, parts, 3);

    if (rc == NGX_OK
        && (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1
            || EVP_DigestUpdate(md, passwd->data, passwd->len) != 1
            || EVP_DigestUpdate(md, "$apr1$", 6) != 1
            || EVP_DigestUpdate(md, salt.data, salt.len) != 1))
    {
        rc = NGX_ERROR;
    }

    for (n = passwd->len; rc == NGX_OK && n > 0; n -= ngx_min(n, 16)) {
        if (EVP_DigestUpdate(md, final, ngx_min(n, 16)) != 1) {
            rc = NGX_ERROR;
        }
    }

    ngx_memzero(final, sizeof(final));

    /* a zero byte for each set bit of the length, else the first char */

    for (n = passwd->len; rc == NGX_OK && n; n >>= 1) {
        if (EVP_DigestUpdate(md, (n & 1) ? final : passwd->data, 1) != 1) {
            rc = NGX_ERROR;
        }
    }

    if (rc == NGX_OK && EVP_DigestFinal_ex(md, final, NULL) != 1) {
        rc = NGX_ERROR;
    }

    for (i = 0; rc == NGX_OK && i < 1000; i++) {
        parts[0] = (i & 1) ? *passwd : fin;
        parts[1] = (i % 3) ? salt : none;
        parts[2] = (i % 7) ? *passwd : none;
        parts[3] = (i & 1) ? fin : *passwd;

        rc = ngx_http_shmingress_md5(md, final, parts, 4);
    }

    EVP_MD_CTX_free(md);

    if (rc != NGX_OK) {
        return rc;
    }

    w = out;

    for (i = 0; i < 5; i++) {
        l = ((uint32_t) final[order[i][0]] << 16)
            | ((uint32_t) final[order[i][1]] << 8) | final[order[i][2]];

        for (n = 0; n < 4; n++) {
            *w++ = ngx_http_shmingress_itoa64[l & 0x3f];
            l >>= 6;
        }
    }

    l = final[11];
    *w++ = ngx_http_shmingress_itoa64[l & 0x3f];
    *w++ = ngx_http_shmingress_itoa64[(l >> 6) & 0x3f];

    return CRYPTO_memcmp(out, salt.data + salt.len + 1, sizeof(out)) == 0
           ? NGX_OK : NGX_DECLINED;
}


/* SHA-256 of the worker's random secret, the policy, user and password. */
static ngx_int_t
ngx_http_shmingress_auth_cache_key(uint64_t policy_id, ngx_str_t *user,
    ngx_str_t *passwd, u_char *key)
{
    u_char       id[8], len[4];
    ngx_uint_t   i;
    EVP_MD_CTX  *md;
    ngx_int_t    rc;

    if (!ngx_http_shmingress_auth_secret_set) {
        if (RAND_bytes(ngx_http_shmingress_auth_secret,
                       sizeof(ngx_http_shmingress_auth_secret))
            != 1)
        {
            return NGX_ERROR;
        }

        ngx_http_shmingress_auth_secret_set = 1;
    }

    for (i = 0; i < 8; i++) {
        id[i] = (u_char) (policy_id >> (8 * i));
    }

    for (i = 0; i < 4; i++) {
        len[i] = (u_char) (user->len >> (8 * i));
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    rc = (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
          && EVP_DigestUpdate(md, ngx_http_shmingress_auth_secret,
                              sizeof(ngx_http_shmingress_auth_secret)) == 1
          && EVP_DigestUpdate(md, id, sizeof(id)) == 1
          && EVP_DigestUpdate(md, len, sizeof(len)) == 1
          && EVP_DigestUpdate(md, user->data, user->len) == 1
          && EVP_DigestUpdate(md, passwd->data, passwd->len) == 1
          && EVP_DigestFinal_ex(md, key, NULL) == 1)
         ? NGX_OK : NGX_ERROR;

    EVP_MD_CTX_free(md);

    return rc;
}


/* The client's Authorization header, except on a route with basic auth. */
static ngx_int_t
ngx_http_shmingress_authorization_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_table_elt_t            *h;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);
    h = r->headers_in.authorization;

    if (h == NULL
        || (ctx && ctx->policy && ctx->table
            && ctx->policy->auth_type == TBL_AUTH_BASIC))
    {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_shmingress_variable_set(v, h->value.data, h->value.len);

    return NGX_OK;
}
