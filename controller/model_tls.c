/*
 * model_tls.c -- certificates: spec.tls[] of our Ingresses and their
 * Secrets as the table's CERTS, SNI names and default certificate.
 *
 * A Secret (type kubernetes.io/tls, or Opaque with the same keys) is
 * parsed and checked with OpenSSL once per version of the Secret and the
 * result hangs on the store object: PEM chain leaf first, each
 * certificate issued by the next, a key that matches the leaf, expiry.
 * A pair that fails is logged naming the Secret and never published; its
 * hosts get the default certificate.  Per build, each tls[] host is
 * checked against the certificate's names and mapped to it.  The
 * default certificate is the Secret named by --default-ssl-certificate,
 * or a self-signed one generated once per process so that identical
 * input keeps giving identical tables.  Nothing here decides routing,
 * and no key material is ever logged.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "model_internal.h"

#define TLS_MAX_PEM (1024 * 1024) /* per key of a Secret */
#define TLS_FAKE_CN "Kubernetes Ingress Controller Fake Certificate"

/* A Secret's certificate as the table will carry it. */
typedef struct {
    bool     valid;
    X509    *leaf;      /* for host checks; NULL when invalid  */
    uint8_t *chain;     /* DER, leaf first, concatenated       */
    size_t   chain_len;
    uint8_t *key;       /* PKCS#8 DER                          */
    size_t   key_len;
    uint64_t not_after; /* unix seconds                        */
    char     problem[256]; /* why it is not valid              */
} tls_pair;

static void
tls_pair_clear(tls_pair *p)
{
    X509_free(p->leaf);
    if (p->key != NULL)
        OPENSSL_cleanse(p->key, p->key_len);
    free(p->chain);
    free(p->key);
    memset(p, 0, sizeof(*p));
}

static void
tls_pair_free(void *data)
{
    tls_pair_clear(data);
    free(data);
}

/* --------------------------------------------------- reading a Secret */

/*
 * The bytes of one key of a Secret: stringData wins (it is what a
 * manifest writer means, and the API server merges it over data), else
 * data, base64-decoded.  Returns a malloc'd NUL-terminated buffer, or
 * NULL with why set.  Basic auth (model_auth.c) reads its Secrets the
 * same way.
 */
char *
ctl_secret_value(const cJSON *json, const char *key, size_t *len,
             const char **why)
{
    const char *s = ctl_json_string(ctl_json_object(json, "stringData"), key);
    EVP_ENCODE_CTX *ctx;
    size_t in_len;
    char *out;
    int n = 0, fin = 0;

    if (s != NULL) {
        in_len = strlen(s);
        if (in_len > TLS_MAX_PEM) {
            *why = "larger than 1 MiB";
            return NULL;
        }
        *len = in_len;
        out = strdup(s);
        if (out == NULL)
            *why = "out of memory";
        return out;
    }
    s = ctl_json_string(ctl_json_object(json, "data"), key);
    if (s == NULL) {
        *why = "missing";
        return NULL;
    }
    in_len = strlen(s);
    if (in_len > TLS_MAX_PEM / 3 * 4 + 4096) {
        *why = "larger than 1 MiB";
        return NULL;
    }
    out = malloc(in_len / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    if (out == NULL || ctx == NULL) {
        free(out);
        EVP_ENCODE_CTX_free(ctx);
        *why = "out of memory";
        return NULL;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, (unsigned char *)out, &n,
                         (const unsigned char *)s, (int)in_len) < 0 ||
        EVP_DecodeFinal(ctx, (unsigned char *)out + n, &fin) != 1) {
        EVP_ENCODE_CTX_free(ctx);
        free(out);
        *why = "not valid base64";
        return NULL;
    }
    EVP_ENCODE_CTX_free(ctx);
    *len = (size_t)(n + fin);
    out[*len] = '\0';
    return out;
}

static uint64_t
asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (uint64_t)timegm(&tm);
}

/* Appends the DER of x to p->chain. */
static int
append_der(tls_pair *p, X509 *x)
{
    int n = i2d_X509(x, NULL);
    uint8_t *grown, *w;

    if (n <= 0)
        return -1;
    grown = realloc(p->chain, p->chain_len + (size_t)n);
    if (grown == NULL)
        return -1;
    p->chain = grown;
    w = p->chain + p->chain_len;
    if (i2d_X509(x, &w) != n)
        return -1;
    p->chain_len += (size_t)n;
    return 0;
}

static int
key_to_pkcs8(tls_pair *p, EVP_PKEY *key)
{
    PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8(key);
    uint8_t *w;
    int n;

    if (info == NULL)
        return -1;
    n = i2d_PKCS8_PRIV_KEY_INFO(info, NULL);
    p->key = n > 0 ? malloc((size_t)n) : NULL;
    w = p->key;
    if (p->key == NULL || i2d_PKCS8_PRIV_KEY_INFO(info, &w) != n) {
        PKCS8_PRIV_KEY_INFO_free(info);
        return -1;
    }
    p->key_len = (size_t)n;
    PKCS8_PRIV_KEY_INFO_free(info);
    return 0;
}

/*
 * Reads the PEM chain in crt, leaf first, into p (DER) and checks the
 * order.  Returns NULL, or what is wrong (field and reason), in err.
 */
static const char *
read_chain(tls_pair *p, const char *crt, size_t crt_len, char *err,
           size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(crt, (int)crt_len);
    X509 *prev = NULL, *x;
    unsigned n = 0;
    const char *bad = NULL;

    if (bio == NULL)
        return "out of memory";
    while (bad == NULL &&
           (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (prev != NULL && X509_check_issued(x, prev) != X509_V_OK) {
            snprintf(err, errlen,
                     "data[tls.crt]: certificate %u is not the issuer of "
                     "certificate %u (the chain must be leaf first, each "
                     "certificate followed by its issuer)",
                     n, n - 1);
            bad = err;
        } else if (append_der(p, x) != 0) {
            bad = "out of memory";
        }
        if (prev != NULL && prev != p->leaf)
            X509_free(prev);
        if (p->leaf == NULL)
            p->leaf = x;
        prev = x;
        n++;
    }
    if (prev != NULL && prev != p->leaf)
        X509_free(prev);
    ERR_clear_error();
    BIO_free(bio);
    if (bad == NULL && n == 0)
        bad = "data[tls.crt]: no PEM certificate";
    return bad;
}

/*
 * The first PEM block whose label ends in "PRIVATE KEY" (openssl ecparam
 * writes an "EC PARAMETERS" block first).  Returns 1 with the block, 0
 * when there is none.
 */
static int
read_key_block(BIO *bio, char **name, unsigned char **der, long *len)
{
    char *header;

    while (PEM_read_bio(bio, name, &header, der, len) == 1) {
        size_t n = strlen(*name);
        bool encrypted = header[0] != '\0';

        OPENSSL_free(header);
        if (n >= 11 && strcmp(*name + n - 11, "PRIVATE KEY") == 0 &&
            !encrypted && strcmp(*name, "ENCRYPTED PRIVATE KEY") != 0)
            return 1;
        OPENSSL_free(*name);
        OPENSSL_clear_free(*der, (size_t)*len);
    }
    return 0;
}

/*
 * The key is decoded as the type of the leaf's public key: OpenSSL 3's
 * generic PEM key reader tries every decoder and costs several times
 * more, which adds up over thousands of Secrets.  A key of another type
 * cannot match the leaf, so both failures read as a mismatch.  A PKCS#8
 * block ("PRIVATE KEY") is kept as it is; others are converted.
 */
static const char *
read_key(tls_pair *p, const char *key, size_t key_len)
{
    BIO *bio = BIO_new_mem_buf(key, (int)key_len);
    EVP_PKEY *pkey = NULL, *pub = X509_get0_pubkey(p->leaf);
    const unsigned char *in;
    unsigned char *der = NULL;
    const char *bad = NULL;
    char *name = NULL;
    long len = 0;

    if (bio == NULL)
        return "out of memory";
    if (!read_key_block(bio, &name, &der, &len)) {
        BIO_free(bio);
        ERR_clear_error();
        return "data[tls.key]: no unencrypted PEM private key";
    }
    BIO_free(bio);
    in = der;
    if (pub != NULL)
        pkey = d2i_PrivateKey(EVP_PKEY_get_base_id(pub), NULL, &in, len);
    if (pkey == NULL || X509_check_private_key(p->leaf, pkey) != 1) {
        bad = "data[tls.key]: the key does not match the certificate in "
              "data[tls.crt]";
    } else if (strcmp(name, "PRIVATE KEY") == 0) {
        p->key = malloc((size_t)len);
        if (p->key == NULL)
            bad = "out of memory";
        else
            memcpy(p->key, der, (size_t)len);
        p->key_len = (size_t)len;
    } else if (key_to_pkcs8(p, pkey) != 0) {
        bad = "out of memory";
    }
    EVP_PKEY_free(pkey);
    OPENSSL_free(name);
    OPENSSL_clear_free(der, (size_t)len);
    ERR_clear_error();
    return bad;
}

static void
parse_secret(const ctl_object *secret, tls_pair *p)
{
    const char *type = ctl_json_string(secret->json, "type");
    const char *why = NULL, *bad = NULL;
    size_t crt_len = 0, key_len = 0;
    char *crt = NULL, *key = NULL;
    char err[256], q[300];

    if (type != NULL && strcmp(type, "kubernetes.io/tls") != 0 &&
        strcmp(type, "Opaque") != 0) {
        snprintf(err, sizeof(err),
                 "type: \"%.100s\" is neither kubernetes.io/tls nor Opaque",
                 type);
        bad = err;
    } else if ((crt = ctl_secret_value(secret->json, "tls.crt", &crt_len,
                                   &why)) == NULL) {
        snprintf(err, sizeof(err), "data[tls.crt]: %s", why);
        bad = err;
    } else if ((key = ctl_secret_value(secret->json, "tls.key", &key_len,
                                   &why)) == NULL) {
        snprintf(err, sizeof(err), "data[tls.key]: %s", why);
        bad = err;
    } else if ((bad = read_chain(p, crt, crt_len, err, sizeof(err))) ==
               NULL) {
        bad = read_key(p, key, key_len);
    }
    free(crt);
    if (key != NULL) {
        OPENSSL_cleanse(key, key_len);
        free(key);
    }
    if (bad != NULL) {
        tls_pair_clear(p);
        snprintf(p->problem, sizeof(p->problem), "%s", bad);
        ctl_log_object(CTL_LOG_ERROR, "tls secret not used", secret,
                       "reason=\"%s\"", ctl_log_quote(bad, q, sizeof(q)));
        return;
    }
    p->valid = true;
    p->not_after = asn1_time_unix(X509_get0_notAfter(p->leaf));
    if (X509_cmp_current_time(X509_get0_notAfter(p->leaf)) < 0)
        ctl_log_object(CTL_LOG_WARN, "tls certificate expired", secret,
                       "field=data[tls.crt] not_after=%llu "
                       "reason=\"expired; served anyway\"",
                       (unsigned long long)p->not_after);
}

/*
 * The checked pair of a Secret, parsed once per version of it.  The
 * parse is recognised by its free function, so another reader's parse
 * of the same Secret is replaced, never misread.  NULL when out of
 * memory; check ->valid.
 */
static const tls_pair *
secret_pair(const ctl_object *secret)
{
    tls_pair *p;

    if (secret->derived != NULL && secret->derived_free == tls_pair_free)
        return secret->derived;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    parse_secret(secret, p);
    ctl_object_set_derived(secret, p, tls_pair_free);
    return p;
}

/* ------------------------------------------- the generated default */

static X509 *
fake_certificate(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *name;
    X509_EXTENSION *san;
    X509V3_CTX v3;
    int ok;

    if (x == NULL)
        return NULL;
    name = X509_get_subject_name(x);
    ok = X509_set_version(x, 2) &&
         ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL)) &&
         X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600) != NULL &&
         X509_set_pubkey(x, key) &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"Acme Co", -1,
                                    -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)TLS_FAKE_CN, -1,
                                    -1, 0) &&
         X509_set_issuer_name(x, name);
    if (ok) {
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                                  "DNS:ingress.local");
        ok = san != NULL && X509_add_ext(x, san, -1);
        X509_EXTENSION_free(san);
    }
    if (!ok || X509_sign(x, key, EVP_sha256()) == 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/*
 * ingress-nginx's "Fake Certificate" (EC P-256 here), made once per
 * process and kept, so rebuilds publish the same bytes.
 */
static const tls_pair *
generated_default(void)
{
    static tls_pair fake;
    EVP_PKEY *key;

    if (fake.valid)
        return &fake;
    key = EVP_EC_gen("P-256");
    if (key == NULL)
        return NULL;
    fake.leaf = fake_certificate(key);
    if (fake.leaf == NULL || append_der(&fake, fake.leaf) != 0 ||
        key_to_pkcs8(&fake, key) != 0) {
        EVP_PKEY_free(key);
        tls_pair_clear(&fake);
        ERR_clear_error();
        return NULL;
    }
    EVP_PKEY_free(key);
    fake.not_after = asn1_time_unix(X509_get0_notAfter(fake.leaf));
    fake.valid = true;
    return &fake;
}

/* -------------------------------------------------------- the build */

static uint32_t
add_pair(ctl_build *bd, const tls_pair *p, const char *ns, const char *name,
         uint32_t flags)
{
    tbl_cert_spec spec;
    char err[256], q[300];
    uint32_t cert;

    memset(&spec, 0, sizeof(spec));
    spec.chain = p->chain;
    spec.chain_len = p->chain_len;
    spec.key = p->key;
    spec.key_len = p->key_len;
    spec.not_after = p->not_after;
    spec.flags = flags;
    spec.secret_namespace = ns;
    spec.secret_name = name;
    cert = tbl_builder_add_cert(bd->b, &spec, err, sizeof(err));
    if (cert == TBL_NONE)
        ctl_log(CTL_LOG_ERROR, "certificate not added",
                "secret=%s/%s reason=\"%s\"", ns, name,
                ctl_log_quote(err, q, sizeof(q)));
    return cert;
}

/*
 * --default-ssl-certificate when it names a usable Secret, else the
 * generated certificate.  Returns -1 only when out of memory.
 */
static int
set_default_cert(ctl_build *bd)
{
    const char *ref = bd->cfg->default_ssl_certificate;
    const tls_pair *p = NULL;
    const char *ns = "", *name = "";
    char buf[512], q[600];
    uint32_t cert;

    if (ref != NULL && ref[0] != '\0') {
        const char *slash = strchr(ref, '/');
        const ctl_object *secret = NULL;

        if (slash != NULL && (size_t)(slash - ref) < sizeof(buf)) {
            memcpy(buf, ref, (size_t)(slash - ref));
            buf[slash - ref] = '\0';
            secret = ctl_store_get(bd->store, CTL_KIND_SECRET, buf,
                                   slash + 1);
        }
        if (secret == NULL) {
            ctl_log(CTL_LOG_WARN, "default certificate not found",
                    "flag=--default-ssl-certificate value=\"%s\" "
                    "reason=\"no such Secret; serving the generated "
                    "certificate\"",
                    ctl_log_quote(ref, q, sizeof(q)));
        } else if ((p = secret_pair(secret)) == NULL) {
            return -1;
        } else if (!p->valid) {
            p = NULL;
        } else {
            ns = secret->namespace_;
            name = secret->name;
        }
    }
    if (p == NULL && (p = generated_default()) == NULL)
        return -1;
    cert = add_pair(bd, p, ns, name, TBL_CERT_DEFAULT);
    if (cert == TBL_NONE || tbl_builder_set_default_cert(bd->b, cert) != 0)
        return -1;
    return 0;
}

/* Does the certificate name "*.suffix" itself (a DNS SAN)? */
static bool
names_wildcard(X509 *leaf, const char *host)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name,
                                            NULL, NULL);
    bool found = false;

    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        const ASN1_IA5STRING *s = g->d.dNSName;

        if (g->type == GEN_DNS && (size_t)s->length == strlen(host) &&
            strncasecmp((const char *)s->data, host, (size_t)s->length) == 0)
            found = true;
    }
    GENERAL_NAMES_free(names);
    return found;
}

static bool
covers_host(X509 *leaf, const char *host)
{
    if (host[0] == '*')
        return names_wildcard(leaf, host);
    return X509_check_host(leaf, host, strlen(host), 0, NULL) == 1;
}

/* Does one of the Ingress's rules name host (so it has a vhost)? */
static bool
rule_has_host(const ctl_ingress *ing, const char *host)
{
    for (size_t h = 0; h < ing->info->hosts.len; h++) {
        if (strcmp(*CTL_VEC_AT(&ing->info->hosts, const char *, h), host) ==
            0)
            return true;
    }
    return false;
}

/* tls[] hosts are matched like rule hosts: lower-case, at most 253. */
static bool
tls_host_lower(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);

    if (n == 0 || n >= outlen || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] + 32 : in[i]);
    return true;
}

/*
 * The server-aliases of the Ingress that name vhost: the SNI names of
 * its certificate when the certificate covers them (others get the
 * default certificate, logged).
 */
static void
add_alias_snis(ctl_build *bd, const ctl_ingress *ing, uint32_t vhost,
               const tls_pair *p, uint32_t cert)
{
    const char *list = ing->info->values.alias.list;
    char alias[256], q[300], err[256], qe[300];

    while ((list = ctl_ann_alias_next(list, alias, sizeof(alias))) != NULL) {
        if (tbl_builder_alias_vhost(bd->b, alias) != vhost)
            continue;
        if (!covers_host(p->leaf, alias)) {
            ctl_log_object(CTL_LOG_WARN, "tls alias not covered", ing->obj,
                           "field=metadata.annotations.server-alias "
                           "value=\"%s\" reason=\"the certificate does "
                           "not name this alias; it gets the default "
                           "certificate\"",
                           ctl_log_quote(alias, q, sizeof(q)));
            continue;
        }
        if (tbl_builder_add_sni(bd->b, alias, cert, err, sizeof(err)) != 0)
            ctl_log_object(CTL_LOG_WARN, "tls alias not added", ing->obj,
                           "field=metadata.annotations.server-alias "
                           "value=\"%s\" reason=\"%s\"",
                           ctl_log_quote(alias, q, sizeof(q)),
                           ctl_log_quote(err, qe, sizeof(qe)));
    }
}

/*
 * One host of one tls[] entry: its SNI name and, when a rule of the
 * same Ingress names it, its vhost's certificate and TLS flag.
 * cert is TBL_NONE when the Secret is missing or unusable (the default
 * certificate serves the host).
 */
static int
add_tls_host(ctl_build *bd, const ctl_ingress *ing, unsigned t, unsigned h,
             const char *raw, const tls_pair *p, uint32_t cert)
{
    char host[256], q[300], err[256], qe[300];
    uint32_t vhost;

    if (!tls_host_lower(raw, host, sizeof(host))) {
        ctl_log_object(CTL_LOG_WARN, "tls host skipped", ing->obj,
                       "field=spec.tls[%u].hosts[%u] value=\"%s\" "
                       "reason=\"not a host name\"",
                       t, h, ctl_log_quote(raw, q, sizeof(q)));
        return 0;
    }
    if (cert != TBL_NONE && !covers_host(p->leaf, host)) {
        ctl_log_object(CTL_LOG_WARN, "tls host not covered", ing->obj,
                       "field=spec.tls[%u].hosts[%u] value=\"%s\" "
                       "reason=\"the certificate does not name this host; "
                       "it gets the default certificate\"",
                       t, h, ctl_log_quote(host, q, sizeof(q)));
        ctl_model_problem(bd, ing->obj, "HostNotCovered",
                          "spec.tls[%u].hosts[%u]=\"%s\": the certificate "
                          "does not name this host; it gets the default "
                          "certificate",
                          t, h, host);
        cert = TBL_NONE;
    }
    if (cert != TBL_NONE &&
        tbl_builder_add_sni(bd->b, host, cert, err, sizeof(err)) != 0) {
        /* Another (older) Ingress holds the name with another Secret,
         * or the builder refused the name: err says which. */
        ctl_log_object(CTL_LOG_WARN, "tls host not added", ing->obj,
                       "field=spec.tls[%u].hosts[%u] value=\"%s\" "
                       "reason=\"%s\"",
                       t, h, ctl_log_quote(host, q, sizeof(q)),
                       ctl_log_quote(err, qe, sizeof(qe)));
        cert = TBL_NONE;
    }
    if (!rule_has_host(ing, host))
        return 0;
    vhost = tbl_builder_vhost(bd->b, host);
    if (vhost == TBL_NONE)
        return -1;
    if (cert == TBL_NONE || tbl_builder_set_vhost_cert(bd->b, vhost, cert))
        tbl_builder_set_vhost_flags(bd->b, vhost, TBL_VHOST_TLS);
    else
        add_alias_snis(bd, ing, vhost, p, cert);
    return 0;
}

/* One tls[] entry: its Secret's certificate, then each host. */
static int
add_tls_entry(ctl_build *bd, const ctl_ingress *ing, unsigned t,
              const cJSON *entry)
{
    const char *name = ctl_json_string(entry, "secretName");
    const ctl_object *secret = NULL;
    const tls_pair *p = NULL;
    uint32_t cert = TBL_NONE;
    const cJSON *host;
    unsigned h = 0;

    if (name != NULL && name[0] != '\0')
        secret = ctl_store_get(bd->store, CTL_KIND_SECRET,
                               ing->obj->namespace_, name);
    if (secret != NULL) {
        p = secret_pair(secret);
        if (p == NULL)
            return -1;
        if (p->valid) {
            cert = add_pair(bd, p, secret->namespace_, secret->name, 0);
            if (cert == TBL_NONE)
                return -1;
            if (p->not_after < (uint64_t)time(NULL))
                ctl_model_problem(bd, ing->obj, "CertificateExpired",
                                  "spec.tls[%u].secretName=\"%s\": the "
                                  "certificate of Secret %s/%s expired; "
                                  "it is served anyway",
                                  t, name, secret->namespace_, secret->name);
        } else {
            ctl_model_problem(bd, ing->obj, "InvalidSecret",
                              "spec.tls[%u].secretName=\"%s\": Secret "
                              "%s/%s is not usable (%s); its hosts get the "
                              "default certificate",
                              t, name, secret->namespace_, secret->name,
                              p->problem);
        }
    }
    cJSON_ArrayForEach(host, ctl_json_array(entry, "hosts"))
    {
        if (cJSON_IsString(host) &&
            add_tls_host(bd, ing, t, h, host->valuestring, p, cert) != 0)
            return -1;
        h++;
    }
    return 0;
}

int
ctl_tls_build(ctl_build *bd)
{
    if (set_default_cert(bd) != 0)
        return -1;
    /* Oldest Ingress first: it keeps a host two Ingresses claim. */
    for (uint32_t i = 0; i < bd->ingresses.len; i++) {
        const ctl_ingress *ing = CTL_VEC_AT(&bd->ingresses, ctl_ingress, i);
        const cJSON *spec = ctl_json_object(ing->obj->json, "spec");
        const cJSON *entry;
        unsigned t = 0;

        cJSON_ArrayForEach(entry, ctl_json_array(spec, "tls"))
        {
            if (add_tls_entry(bd, ing, t, entry) != 0)
                return -1;
            t++;
        }
    }
    return 0;
}
