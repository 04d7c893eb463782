/*
 * tbl_builder_tls.c -- certificates and TLS server names for the route
 * table: CERTS records, their DER bytes in BLOBS, the SNI_EXACT and
 * SNI_WILDCARD hashes, the default certificate and each vhost's own.
 *
 * A certificate is stored once per distinct content (chain and key
 * bytes), whatever number of Secrets or hosts name it, and its
 * content_hash lets workers keep parsed objects across table swaps.
 * This file neither parses PEM or DER nor checks that a key matches its
 * certificate: the controller does that before calling, the worker when
 * it loads the certificate.
 */
#include <stdio.h>
#include <string.h>

#include "tbl.h"
#include "tbl_builder_internal.h"

/*
 * The content hash the format promises: the chain's hash seeds the key's,
 * so the pair is hashed in order without being copied together.
 */
static uint64_t
tbl_cert_content_hash(const tbl_cert_spec *spec)
{
    uint64_t h = tbl_hash64(spec->chain, spec->chain_len, TBL_CERT_HASH_SEED);

    return tbl_hash64(spec->key, spec->key_len, h);
}

static int
tbl_cert_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_cert_spec *spec = key;
    const tbl_cert      *c = &b->certs.items[idx];

    return c->chain.len == spec->chain_len && c->key.len == spec->key_len
           && memcmp(b->blobs.items + c->chain.off, spec->chain,
                     spec->chain_len)
                  == 0
           && memcmp(b->blobs.items + c->key.off, spec->key, spec->key_len)
                  == 0;
}

static int
tbl_cert_spec_check(const tbl_cert_spec *spec, char *err, size_t errlen)
{
    const char *ns = spec->secret_namespace ? spec->secret_namespace : "";
    const char *name = spec->secret_name ? spec->secret_name : "";

    if (spec->chain == NULL || spec->chain_len == 0 || spec->key == NULL
        || spec->key_len == 0)
    {
        snprintf(err, errlen, "secret %s/%s: empty certificate chain or key",
                 ns, name);
        return -1;
    }
    if (spec->flags & ~(uint32_t)TBL_CERT_DEFAULT) {
        snprintf(err, errlen, "secret %s/%s: unknown certificate flags 0x%x",
                 ns, name, spec->flags);
        return -1;
    }
    if (spec->chain_len >= TBL_NONE || spec->key_len >= TBL_NONE) {
        snprintf(err, errlen, "secret %s/%s: certificate or key of %zu/%zu "
                              "bytes is too large",
                 ns, name, spec->chain_len, spec->key_len);
        return -1;
    }
    return 0;
}

uint32_t
tbl_builder_add_cert(tbl_builder *b, const tbl_cert_spec *spec, char *err,
                     size_t errlen)
{
    tbl_cert *c;
    uint64_t  h;
    uint32_t  idx;

    if (tbl_cert_spec_check(spec, err, errlen) != 0) {
        return TBL_NONE;
    }
    h = tbl_cert_content_hash(spec);
    idx = tbl_imap_find(&b->cert_index, h, tbl_cert_eq, b, spec);
    if (idx != TBL_NONE) {
        b->certs.items[idx].flags |= spec->flags;
        return idx;
    }
    if (b->certs.len >= TBL_NONE - 1 || tbl_vec_reserve(&b->certs, 1) != 0) {
        goto nomem;
    }
    idx = (uint32_t)b->certs.len;
    c = &b->certs.items[idx];
    memset(c, 0, sizeof(*c));
    if (tbl_blob_append(b, spec->chain, spec->chain_len, &c->chain) != 0
        || tbl_blob_append(b, spec->key, spec->key_len, &c->key) != 0
        || tbl_intern_cstr(b, spec->secret_namespace, &c->secret_namespace)
               != 0
        || tbl_intern_cstr(b, spec->secret_name, &c->secret_name) != 0
        || tbl_imap_put(&b->cert_index, h, idx) != 0)
    {
        goto nomem;
    }
    c->content_hash = h;
    c->not_after = spec->not_after;
    c->flags = spec->flags;
    b->certs.len++;
    return idx;

nomem:
    b->out_of_memory = 1;
    snprintf(err, errlen, "out of memory adding the certificate of %s/%s",
             spec->secret_namespace ? spec->secret_namespace : "",
             spec->secret_name ? spec->secret_name : "");
    return TBL_NONE;
}

/* Names a certificate in messages by the Secret it came from. */
static void
tbl_cert_name(const tbl_builder *b, uint32_t cert, char *buf, size_t len)
{
    const tbl_cert *c = &b->certs.items[cert];

    snprintf(buf, len, "%s/%s", tbl_builder_str(b, c->secret_namespace),
             tbl_builder_str(b, c->secret_name));
}

typedef struct {
    const char *key;
    size_t      len;
    uint32_t    wildcard;
} tbl_sni_key;

static int
tbl_sni_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_sni_key *k = key;
    const tbl_bsni    *s = &b->snis.items[idx];

    return s->wildcard == k->wildcard && s->key.len == k->len
           && memcmp(b->pool.items + s->key.off, k->key, k->len) == 0;
}

/* An SNI index hash: the slot hash, told apart for wildcards. */
static uint64_t
tbl_sni_index_hash(uint64_t slot_hash, uint32_t wildcard)
{
    return wildcard ? ~slot_hash : slot_hash;
}

/* The conflict message of two certificates for one name. */
static int
tbl_sni_conflict(const tbl_builder *b, const char *host, uint32_t have,
                 uint32_t want, char *err, size_t errlen)
{
    char a[300], c[300];

    tbl_cert_name(b, have, a, sizeof(a));
    tbl_cert_name(b, want, c, sizeof(c));
    snprintf(err, errlen,
             "tls host \"%s\": certificate of secret %s conflicts with the "
             "one already chosen from %s",
             host, c, a);
    return -1;
}

int
tbl_builder_add_sni(tbl_builder *b, const char *host, uint32_t cert,
                    char *err, size_t errlen)
{
    tbl_sni_key k;
    tbl_bsni   *s;
    uint64_t    h, ih;
    uint32_t    idx;
    size_t      len;

    if (host == NULL) {
        host = "";
    }
    if (cert >= b->certs.len) {
        snprintf(err, errlen, "tls host \"%s\": unknown certificate index %u",
                 host, cert);
        return -1;
    }
    len = strlen(host);
    k.wildcard = len > 2 && host[0] == '*' && host[1] == '.';
    k.key = k.wildcard ? host + 2 : host;
    k.len = k.wildcard ? len - 2 : len;
    if (!tbl_host_is_valid(k.key, k.len)) {
        snprintf(err, errlen,
                 "tls host \"%s\": not a lower-case host name or *.suffix",
                 host);
        return -1;
    }
    h = tbl_slot_hash(k.key, k.len, 0);
    ih = tbl_sni_index_hash(h, k.wildcard);
    idx = tbl_imap_find(&b->sni_index, ih, tbl_sni_eq, b, &k);
    if (idx != TBL_NONE) {
        return b->snis.items[idx].cert == cert
                   ? 0
                   : tbl_sni_conflict(b, host, b->snis.items[idx].cert, cert,
                                      err, errlen);
    }
    if (tbl_vec_reserve(&b->snis, 1) != 0) {
        goto nomem;
    }
    s = &b->snis.items[b->snis.len];
    if (tbl_intern_hashed(b, k.key, k.len, h, &s->key) != 0
        || tbl_imap_put(&b->sni_index, ih, (uint32_t)b->snis.len) != 0)
    {
        goto nomem;
    }
    s->hash = h;
    s->cert = cert;
    s->wildcard = k.wildcard;
    b->snis.len++;
    b->sni_exact_count += !k.wildcard;
    return 0;

nomem:
    b->out_of_memory = 1;
    snprintf(err, errlen, "tls host \"%s\": out of memory", host);
    return -1;
}

int
tbl_builder_set_default_cert(tbl_builder *b, uint32_t cert)
{
    if (cert >= b->certs.len) {
        return -1;
    }
    if (b->default_cert != TBL_NONE) {
        b->certs.items[b->default_cert].flags &= ~(uint32_t)TBL_CERT_DEFAULT;
    }
    b->default_cert = cert;
    b->certs.items[cert].flags |= TBL_CERT_DEFAULT;
    return 0;
}

int
tbl_builder_set_vhost_cert(tbl_builder *b, uint32_t vhost, uint32_t cert)
{
    tbl_vhost *v;

    if (vhost >= b->vhosts.len || cert >= b->certs.len) {
        return -1;
    }
    v = &b->vhosts.items[vhost].rec;
    if (v->cert != TBL_NONE && v->cert != cert) {
        return -1;
    }
    v->cert = cert;
    v->flags |= TBL_VHOST_TLS;
    return 0;
}
