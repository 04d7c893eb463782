/*
 * tbl_cidr.c -- address ranges: parsing "a.b.c.d/n" and "v6/n", the order
 * CIDR lists are stored in, and tbl_cidr_match, which allow and deny
 * lists use per request.
 *
 * A stored list is sorted by (family, address) and holds no entry inside
 * another, so its entries are disjoint: one binary search for the last
 * entry starting at or below an address, then one prefix comparison,
 * answers a match in O(log n) whatever the list's size.  The builder
 * makes lists so (tbl_builder_policy.c) and the validator refuses tables
 * whose lists are not.  Nothing here allocates.
 */
#include <arpa/inet.h>
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

int
tbl_cidr_order(const tbl_cidr *a, const tbl_cidr *b)
{
    int c;

    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    c = memcmp(a->addr, b->addr, sizeof(a->addr));
    if (c != 0) {
        return c;
    }
    return a->prefix_len < b->prefix_len ? -1 : a->prefix_len > b->prefix_len;
}

int
tbl_cidr_holds(const tbl_cidr *net, const uint8_t *addr, unsigned family)
{
    unsigned full = net->prefix_len / 8, rest = net->prefix_len % 8;
    uint8_t  mask;

    if (net->family != family || memcmp(net->addr, addr, full) != 0) {
        return 0;
    }
    if (rest == 0) {
        return 1;
    }
    mask = (uint8_t)(0xff00u >> rest);
    return (addr[full] & mask) == net->addr[full];
}

/* Clears the bits beyond the prefix, so the address is the network's. */
static void
tbl_cidr_mask(tbl_cidr *c)
{
    unsigned bit;

    for (bit = c->prefix_len; bit < 128; bit++) {
        c->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    }
}

/* A decimal prefix length of 1..3 digits, at most max; -1 otherwise. */
static int
tbl_cidr_prefix(const char *s, size_t len, unsigned max)
{
    unsigned v = 0;
    size_t   i;

    if (len == 0 || len > 3) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= max ? (int)v : -1;
}

int
tbl_cidr_parse(const char *s, size_t len, tbl_cidr *out)
{
    char        addr[INET6_ADDRSTRLEN];
    const char *slash = memchr(s, '/', len);
    size_t      alen = slash ? (size_t)(slash - s) : len;
    int         prefix;

    memset(out, 0, sizeof(*out));
    if (alen == 0 || alen >= sizeof(addr)) {
        return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
        out->family = 4;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        out->family = 6;
    } else {
        return -1;
    }
    if (slash == NULL) {
        prefix = out->family == 4 ? 32 : 128;
    } else {
        prefix = tbl_cidr_prefix(slash + 1, len - alen - 1,
                                 out->family == 4 ? 32 : 128);
        if (prefix < 0) {
            return -1;
        }
    }
    out->prefix_len = (uint8_t)prefix;
    tbl_cidr_mask(out);
    return 0;
}

int
tbl_cidr_match(const tbl_view *v, uint32_t first, uint32_t count,
               const uint8_t *addr, int family)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0xff, 0xff};
    const tbl_cidr      *list;
    tbl_cidr             key;
    uint32_t             lo = 0, hi = count;

    if (count == 0 || (family != 4 && family != 6)) {
        return 0;
    }
    list = v->cidrs + first;
    memset(&key, 0, sizeof(key));
    if (family == 6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
        addr += sizeof(v4mapped);
        family = 4;
    }
    key.family = (uint8_t)family;
    key.prefix_len = family == 4 ? 32 : 128;
    memcpy(key.addr, addr, family == 4 ? 4 : 16);
    /* lo ends at the number of entries that start at or below addr */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (tbl_cidr_order(&list[mid], &key) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo > 0 && tbl_cidr_holds(&list[lo - 1], key.addr, key.family);
}
