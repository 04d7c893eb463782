/*
 * test_tbl_hash.c -- tbl_hash64 is part of the file format: its values
 * are pinned here (a change needs a new TBL_FORMAT_VERSION), and its
 * mixing is checked to be good enough for slots, ids and checksums.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl.h"
#include "tbl_internal.h"

typedef struct {
    const char *in;
    uint64_t    want;
} known;

static void
test_known_answers(void **state)
{
    static const known cases[] = {
        {"", 0xe74ce7a4894029e5ull},
        {"a", 0x73d75e98d87b3c0bull},
        {"ab", 0xb5510275e1701088ull},
        {"abcdefg", 0xc6a1833668b76ea8ull},
        {"abcdefgh", 0x1af32f9f41af10e0ull},
        {"abcdefghi", 0x75f1c03b9e152e6dull},
        {"foo.bar.com", 0xdb4c532dc36b7b6cull},
        {"/api/v1/users/123", 0x8ff265ecf8822fe8ull},
    };
    unsigned char bytes[256];
    size_t        i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(tbl_hash64(cases[i].in, strlen(cases[i].in), 0),
                         cases[i].want);
    }
    assert_int_equal(tbl_hash64("foo.bar.com", 11, TBL_HASH_SEED),
                     0xb51605a0431f04e0ull);
    for (i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (unsigned char)i;
    }
    assert_int_equal(tbl_hash64(bytes, sizeof(bytes), TBL_CHECKSUM_SEED),
                     0x5a83987722adc38cull);
}

/* Same bytes at any alignment, and NULs count as data. */
static void
test_alignment_and_length(void **state)
{
    char     buf[80];
    uint64_t base, h[64];
    size_t   off, n, k;

    (void)state;
    for (n = 0; n < 64; n++) {
        memset(buf, 0, sizeof(buf));
        memcpy(buf, "The quick brown fox jumps over the lazy dog, twice "
                    "over and back.",
               64);
        base = tbl_hash64(buf, n, 7);
        for (off = 1; off < 8; off++) {
            memmove(buf + off, buf + off - 1, 64);
            assert_int_equal(tbl_hash64(buf + off, n, 7), base);
        }
    }

    /* Zero padding is not ambiguous: "", "\0", "\0\0", ... all differ. */
    memset(buf, 0, sizeof(buf));
    for (n = 0; n < 64; n++) {
        h[n] = tbl_hash64(buf, n, 0);
        for (k = 0; k < n; k++) {
            assert_int_not_equal(h[k], h[n]);
        }
    }
    assert_int_not_equal(tbl_hash64("a", 1, 0), tbl_hash64("a\0", 2, 0));
    assert_int_not_equal(tbl_hash64("a", 1, 0), tbl_hash64("a", 1, 1));
}

/* xorshift64*: a fixed pseudo-random sequence for the statistics. */
static uint64_t
rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Flipping any one input bit flips each output bit with probability
 * close to 1/2: over many random keys, every (input bit, output bit)
 * pair stays within 50% +- 6%.
 */
static void
test_avalanche(void **state)
{
    enum { KEY = 24, TRIALS = 2000 };
    static unsigned flips[KEY * 8][64];
    uint8_t         key[KEY];
    uint64_t        s = 0x1234567;
    size_t          t, bit, out, k;

    (void)state;
    for (t = 0; t < TRIALS; t++) {
        uint64_t h0;

        for (k = 0; k < KEY; k++) {
            key[k] = (uint8_t)rng(&s);
        }
        h0 = tbl_hash64(key, KEY, 0);
        for (bit = 0; bit < KEY * 8; bit++) {
            uint64_t d;

            key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            d = h0 ^ tbl_hash64(key, KEY, 0);
            key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            for (out = 0; out < 64; out++) {
                flips[bit][out] += (d >> out) & 1;
            }
        }
    }
    for (bit = 0; bit < KEY * 8; bit++) {
        for (out = 0; out < 64; out++) {
            if (flips[bit][out] < TRIALS * 44 / 100
                || flips[bit][out] > TRIALS * 56 / 100)
            {
                fail_msg("input bit %zu flips output bit %zu in %u of %u",
                         bit, out, flips[bit][out], (unsigned)TRIALS);
            }
        }
    }
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Realistic keys ("hostN.example.com") spread evenly over a power-of-two
 * table (the slot index is hash & mask) and never collide in 64 bits.
 */
static void
test_distribution(void **state)
{
    enum { N = 100000, BUCKETS = 1 << 17 };
    uint64_t *all = malloc(N * sizeof(uint64_t));
    unsigned *load = calloc(BUCKETS, sizeof(unsigned));
    unsigned  max = 0;
    char      key[64];
    size_t    i;

    (void)state;
    assert_non_null(all);
    assert_non_null(load);
    for (i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "host%zu.example.com", i);

        all[i] = tbl_hash64(key, (size_t)n, TBL_HASH_SEED);
        if (++load[all[i] & (BUCKETS - 1)] > max) {
            max = load[all[i] & (BUCKETS - 1)];
        }
    }
    /* Poisson(0.76): a bucket with 10 keys is already ~1e-8 likely. */
    assert_true(max <= 9);
    qsort(all, N, sizeof(uint64_t), cmp_u64);
    for (i = 1; i < N; i++) {
        assert_int_not_equal(all[i - 1], all[i]);
    }
    free(all);
    free(load);
}

/*
 * Hashing in pieces, with NUL-ended parts, equals hashing the bytes put
 * together: 2000 random inputs of up to 38 bytes split at random into
 * pieces of 0..9 bytes.
 */
static void
test_stream(void **state)
{
    uint8_t  buf[64];
    uint64_t x = 7;
    size_t   len, i;
    int      round;

    (void)state;
    for (round = 0; round < 2000; round++) {
        tbl_hash_stream hs;
        size_t          pos = 0;
        uint64_t        seed;

        x = x * 6364136223846793005ull + 1;
        seed = x;
        len = (size_t)(x >> 59) + (size_t)(x >> 61);
        tbl_hash_stream_start(&hs, seed);
        while (pos < len) {
            size_t n;
            int    nul;

            x = x * 6364136223846793005ull + 1;
            n = (size_t)(x >> 60) % 10;
            nul = (x >> 40) & 1;

            if (n > len - pos) {
                n = len - pos;
            }
            for (i = 0; i < n; i++) {
                buf[pos + i] = (uint8_t)(x >> (i * 5 % 56)) | 1;
            }
            if (nul && pos + n < len) {
                buf[pos + n] = 0;
                tbl_hash_stream_part(&hs, buf + pos, n);
                pos += n + 1;
            } else {
                tbl_hash_stream_add(&hs, buf + pos, n);
                pos += n;
            }
        }
        assert_int_equal(tbl_hash_stream_end(&hs), tbl_hash64(buf, len, seed));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_alignment_and_length),
        cmocka_unit_test(test_avalanche),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
