/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merkle: known answers from FORMATS 7.3 (transparency-dev/merkle testonly/constants.go roots
 * of the 8-leaf test tree at sizes 0..8, testdata/inclusion/1/happy-path.json and
 * testdata/consistency/3/happy-path.json, and the conformance edge cases for m = 0 / m = n);
 * an independent slow recursive reference written here from the RFC 6962 definitions (MTH,
 * PATH, SUBPROOF) that every generated root and proof must equal; exhaustive verification of
 * all proofs for trees up to 64 leaves including every single-bit flip; the compact range
 * against the reference at every size up to 1000 and at a few large sizes; the stored tree
 * (merkle_tree_*) against merkle_inclusion_proof / merkle_root for every size up to 70, every
 * index and every older tree size, at large sizes across perfect-subtree boundaries, and its
 * -EINVAL cases (outputs untouched, tree unchanged). No allocation-failure hook here: the file
 * has none (malloc is not wrapped for test-merkle).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "format.h"
#include "macro.h"
#include "merkle.h"

#define H MERKLE_HASH_SIZE

/* ---- independent reference, straight from RFC 6962 2.1 (one-shot SHA256, no merkle.c) ---- */

static void ref_leaf(const void *d, size_t len, uint8_t out[H])
{
    uint8_t buf[256];
    assert_true(len < sizeof(buf));
    buf[0] = 0x00;
    memcpy(buf + 1, d, len);
    SHA256(buf, len + 1, out);
}

static void ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
    uint8_t buf[1 + 2 * H];
    buf[0] = 0x01;
    memcpy(buf + 1, l, H);
    memcpy(buf + 1 + H, r, H);
    SHA256(buf, sizeof(buf), out);
}

static uint64_t ref_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void ref_mth(const uint8_t (*lv)[H], uint64_t n, uint8_t out[H])
{
    uint8_t a[H], b[H];
    uint64_t k;

    if (n == 0) {
        SHA256((const uint8_t *)"", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, lv[0], H);
        return;
    }
    k = ref_k(n);
    ref_mth(lv, k, a);
    ref_mth(lv + k, n - k, b);
    ref_node(a, b, out);
}

/* PATH(m, D[n]) */
static void ref_path(uint64_t m, const uint8_t (*lv)[H], uint64_t n, uint8_t (*out)[H], size_t *len)
{
    uint64_t k;

    if (n <= 1) {
        *len = 0;
        return;
    }
    k = ref_k(n);
    if (m < k) {
        ref_path(m, lv, k, out, len);
        ref_mth(lv + k, n - k, out[(*len)++]);
    } else {
        ref_path(m - k, lv + k, n - k, out, len);
        ref_mth(lv, k, out[(*len)++]);
    }
}

/* SUBPROOF(m, D[n], b) */
static void ref_subproof(uint64_t m, const uint8_t (*lv)[H], uint64_t n, bool b, uint8_t (*out)[H],
                         size_t *len)
{
    uint64_t k;

    if (m == n) {
        *len = 0;
        if (!b)
            ref_mth(lv, n, out[(*len)++]);
        return;
    }
    k = ref_k(n);
    if (m <= k) {
        ref_subproof(m, lv, k, b, out, len);
        ref_mth(lv + k, n - k, out[(*len)++]);
    } else {
        ref_subproof(m - k, lv + k, n - k, false, out, len);
        ref_mth(lv, k, out[(*len)++]);
    }
}

/* ---- leaf stores ---- */

#define BIG_LEAVES 100003u
static uint8_t (*leaves)[H]; /* leaves[i] = leaf hash of the 8-byte big-endian i */
static int fail_at = -1;

static int get_leaf(void *ctx, uint64_t index, uint8_t out[H])
{
    const uint8_t(*lv)[H] = ctx ? (const uint8_t(*)[H])ctx : (const uint8_t(*)[H])leaves;
    if (fail_at >= 0 && index == (uint64_t)fail_at)
        return -EIO;
    memcpy(out, lv[index], H);
    return 0;
}

static int setup(void **state)
{
    leaves = calloc(BIG_LEAVES, H);
    if (!leaves)
        return -1;
    for (uint64_t i = 0; i < BIG_LEAVES; i++) {
        uint8_t d[8];
        for (int b = 0; b < 8; b++)
            d[b] = (uint8_t)(i >> (56 - 8 * b));
        ref_leaf(d, sizeof(d), leaves[i]);
    }
    return 0;
}

static int teardown(void **state)
{
    free(leaves);
    return 0;
}

static void unhex(const char *s, uint8_t out[H])
{
    assert_int_equal(strlen(s), 2 * H);
    for (size_t i = 0; i < H; i++)
        assert_int_equal(sscanf(s + 2 * i, "%2hhx", &out[i]), 1);
}

static void unb64(const char *s, uint8_t out[H])
{
    _cleanup_free_ uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(base64_decode(s, strlen(s), &raw, &len), 0);
    assert_int_equal(len, H);
    memcpy(out, raw, H);
}

/* ---- FORMATS 7.3 known answers ---- */

static const struct {
    const char *data;
    size_t len;
} kat_leaves[8] = {
        {"", 0},
        {"\x00", 1},
        {"\x10", 1},
        {"\x20\x21", 2},
        {"\x30\x31", 2},
        {"\x40\x41\x42\x43", 4},
        {"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
        {"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16},
};

/* FORMATS abbreviates size 0 as e3b0c442...b855; the full value is SHA-256(""). */
static const char *const kat_roots[9] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static uint8_t kat_lv[8][H];

static void kat_setup_leaves(void)
{
    for (size_t i = 0; i < 8; i++) {
        uint8_t ref[H];
        assert_int_equal(merkle_leaf_hash(kat_leaves[i].data, kat_leaves[i].len, kat_lv[i]), 0);
        ref_leaf(kat_leaves[i].data, kat_leaves[i].len, ref);
        assert_memory_equal(kat_lv[i], ref, H);
    }
}

static void test_kat_roots(void **state)
{
    _cleanup_(merkle_range_freep) struct merkle_range *r = NULL;
    uint8_t want[H], got[H], empty[H];

    kat_setup_leaves();
    assert_int_equal(merkle_empty_root(empty), 0);
    unhex(kat_roots[0], want);
    assert_memory_equal(empty, want, H);
    assert_int_equal(merkle_range_new(&r), 0);
    for (size_t n = 0; n <= 8; n++) {
        unhex(kat_roots[n], want);
        assert_int_equal(merkle_root(get_leaf, kat_lv, n, got), 0);
        assert_memory_equal(got, want, H);
        ref_mth((const uint8_t(*)[H])kat_lv, n, got);
        assert_memory_equal(got, want, H);
        assert_int_equal(merkle_range_size(r), n);
        assert_int_equal(merkle_range_root(r, got), 0);
        assert_memory_equal(got, want, H);
        if (n < 8)
            assert_int_equal(merkle_range_append(r, kat_lv[n]), 0);
    }
}

static void test_kat_inclusion(void **state)
{
    uint8_t leaf[H], root[H], root7[H], proof[3][H], gen[MERKLE_MAX_PROOF][H];
    size_t len = 0;

    kat_setup_leaves();
    unb64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", leaf);
    unb64("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", proof[0]);
    unb64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", proof[1]);
    unb64("a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=", proof[2]);
    unb64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", root);
    assert_memory_equal(leaf, kat_lv[0], H);
    assert_int_equal(merkle_verify_inclusion(0, 8, leaf, (const uint8_t(*)[H])proof, 3, root), 0);
    assert_int_equal(merkle_inclusion_proof(get_leaf, kat_lv, 0, 8, gen, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(gen, proof, sizeof(proof));
    /* The same proof at another index or size fails. */
    assert_int_equal(merkle_verify_inclusion(1, 8, leaf, (const uint8_t(*)[H])proof, 3, root),
                     -EBADMSG);
    /* Size 7 has the same path shape for leaf 0, so the proof only fails against the true
     * size-7 root: sizes are authenticated by the checkpoint, not by the proof. */
    unhex(kat_roots[7], root7);
    assert_int_equal(merkle_verify_inclusion(0, 7, leaf, (const uint8_t(*)[H])proof, 3, root7),
                     -EBADMSG);
    assert_int_equal(merkle_verify_inclusion(0, 7, leaf, (const uint8_t(*)[H])proof, 3, root), 0);
    assert_int_equal(merkle_verify_inclusion(8, 8, leaf, (const uint8_t(*)[H])proof, 3, root),
                     -EINVAL);
}

static void test_kat_consistency(void **state)
{
    uint8_t r1[H], r2[H], proof[2][H], gen[MERKLE_MAX_PROOF][H], want[H];
    size_t len = 0;

    kat_setup_leaves();
    unb64("+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", r1);
    unb64("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", r2);
    unb64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", proof[0]);
    unb64("vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", proof[1]);
    unhex(kat_roots[2], want);
    assert_memory_equal(r1, want, H);
    unhex(kat_roots[5], want);
    assert_memory_equal(r2, want, H);
    assert_int_equal(merkle_verify_consistency(2, 5, r1, r2, (const uint8_t(*)[H])proof, 2), 0);
    assert_int_equal(merkle_consistency_proof(get_leaf, kat_lv, 2, 5, gen, &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(gen, proof, sizeof(proof));
    assert_int_equal(merkle_verify_consistency(2, 5, r2, r1, (const uint8_t(*)[H])proof, 2),
                     -EBADMSG);
    assert_int_equal(merkle_verify_consistency(3, 5, r1, r2, (const uint8_t(*)[H])proof, 2),
                     -EBADMSG);
}

/* transparency-dev testdata/consistency/additional: the special cases. */
static void test_consistency_special_cases(void **state)
{
    uint8_t a[H], b[H], p[1][H];

    assert_int_equal(merkle_empty_root(a), 0);
    memcpy(b, a, H);
    b[0] ^= 1;
    memcpy(p[0], a, H);
    /* sizes-are-equal-zero-and-proof-is-empty: accepted. */
    assert_int_equal(merkle_verify_consistency(0, 0, a, a, NULL, 0), 0);
    /* sizes-are-equal-(zero)-but-roots-are-not, sizes-match-but-proof-is-not-empty. */
    assert_int_equal(merkle_verify_consistency(0, 0, a, b, NULL, 0), -EBADMSG);
    assert_int_equal(merkle_verify_consistency(0, 0, a, a, (const uint8_t(*)[H])p, 1), -EBADMSG);
    assert_int_equal(merkle_verify_consistency(1, 1, a, a, NULL, 0), 0);
    assert_int_equal(merkle_verify_consistency(1, 1, a, b, NULL, 0), -EBADMSG);
    assert_int_equal(merkle_verify_consistency(1, 1, a, a, (const uint8_t(*)[H])p, 1), -EBADMSG);
    /* size1-is-zero-and-size2-is-not-zero, consistency-check-on-empty-tree-is-useless. */
    assert_int_equal(merkle_verify_consistency(0, 1, a, b, NULL, 0), -EINVAL);
    assert_int_equal(merkle_verify_consistency(0, 1, a, a, (const uint8_t(*)[H])p, 1), -EINVAL);
    /* size1-is-greater-than-size2, sizes-do-not-match-and-proof-is-empty. */
    assert_int_equal(merkle_verify_consistency(2, 1, a, b, NULL, 0), -EINVAL);
    assert_int_equal(merkle_verify_consistency(1, 2, a, b, NULL, 0), -EBADMSG);
    /* Proof length limit, checked before anything is read. */
    assert_int_equal(merkle_verify_consistency(1, 2, a, b, NULL, MERKLE_MAX_PROOF + 1), -EMSGSIZE);
    assert_int_equal(merkle_verify_inclusion(0, 2, a, NULL, MERKLE_MAX_PROOF + 1, b), -EMSGSIZE);
    assert_int_equal(merkle_verify_inclusion(0, 0, a, NULL, 0, b), -EINVAL);
    /* A single-leaf tree: the root is the leaf hash, the proof empty. */
    assert_int_equal(merkle_verify_inclusion(0, 1, a, NULL, 0, a), 0);
    assert_int_equal(merkle_verify_inclusion(0, 1, a, NULL, 0, b), -EBADMSG);
}

/* ---- exhaustive small trees ---- */

#define SMALL 64u

static void flip_all_bits_fail_inclusion(uint64_t i, uint64_t n, uint8_t (*proof)[H], size_t len,
                                         const uint8_t root[H])
{
    for (size_t h = 0; h < len; h++)
        for (size_t bit = 0; bit < 8 * H; bit++) {
            proof[h][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(
                    merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[H])proof, len, root),
                    -EBADMSG);
            proof[h][bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
}

static void test_inclusion_exhaustive(void **state)
{
    uint8_t roots[SMALL + 1][H];

    for (uint64_t n = 0; n <= SMALL; n++)
        ref_mth((const uint8_t(*)[H])leaves, n, roots[n]);

    for (uint64_t n = 1; n <= SMALL; n++)
        for (uint64_t i = 0; i < n; i++) {
            uint8_t want[MERKLE_MAX_PROOF + 1][H], got[MERKLE_MAX_PROOF + 1][H];
            size_t wlen = 0, glen = 0;
            uint8_t leaf[H];

            ref_path(i, (const uint8_t(*)[H])leaves, n, want, &wlen);
            assert_int_equal(merkle_inclusion_proof(get_leaf, NULL, i, n, got, &glen), 0);
            assert_int_equal(glen, wlen);
            if (glen > 0) /* an empty proof has no bytes to compare */
                assert_memory_equal(got, want, glen * H);
            assert_int_equal(merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[H])got,
                                                     glen, roots[n]),
                             0);
            flip_all_bits_fail_inclusion(i, n, got, glen, roots[n]);
            /* Wrong leaf, wrong index, wrong size, wrong root. */
            memcpy(leaf, leaves[i], H);
            leaf[31] ^= 0x80;
            assert_int_equal(
                    merkle_verify_inclusion(i, n, leaf, (const uint8_t(*)[H])got, glen, roots[n]),
                    -EBADMSG);
            for (uint64_t j = 0; j < n + 2; j++)
                if (j != i)
                    assert_int_not_equal(merkle_verify_inclusion(j, n, leaves[i],
                                                                 (const uint8_t(*)[H])got, glen,
                                                                 roots[n]),
                                         0);
            /* A proof does not authenticate the size (the signed checkpoint does): against
             * the true root of another size it verifies exactly when it is byte for byte the
             * proof for that size too. */
            for (uint64_t m = (n > 2 ? n - 2 : 1); m <= n + 2 && m <= SMALL; m++) {
                uint8_t other[MERKLE_MAX_PROOF + 1][H];
                size_t olen = 0;
                bool same;

                if (m == n || i >= m)
                    continue;
                ref_path(i, (const uint8_t(*)[H])leaves, m, other, &olen);
                same = olen == glen && memcmp(other, got, glen * H) == 0;
                assert_int_equal(merkle_verify_inclusion(i, m, leaves[i], (const uint8_t(*)[H])got,
                                                         glen, roots[m]),
                                 same ? 0 : -EBADMSG);
            }
            assert_int_equal(merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[H])got,
                                                     glen, roots[n - 1]),
                             -EBADMSG);
            /* Truncated and extended proofs. */
            for (size_t t = 0; t < glen; t++)
                assert_int_equal(merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[H])got,
                                                         t, roots[n]),
                                 -EBADMSG);
            memcpy(got[glen], roots[n], H);
            assert_int_equal(merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[H])got,
                                                     glen + 1, roots[n]),
                             -EBADMSG);
        }
}

static void test_consistency_exhaustive(void **state)
{
    uint8_t roots[SMALL + 1][H];

    for (uint64_t n = 0; n <= SMALL; n++)
        ref_mth((const uint8_t(*)[H])leaves, n, roots[n]);

    for (uint64_t n = 1; n <= SMALL; n++)
        for (uint64_t m = 1; m <= n; m++) {
            uint8_t want[MERKLE_MAX_PROOF + 1][H], got[MERKLE_MAX_PROOF + 1][H];
            size_t wlen = 0, glen = 0;

            if (m < n)
                ref_subproof(m, (const uint8_t(*)[H])leaves, n, true, want, &wlen);
            assert_int_equal(merkle_consistency_proof(get_leaf, NULL, m, n, got, &glen), 0);
            assert_int_equal(glen, wlen);
            if (glen > 0) /* an empty proof has no bytes to compare */
                assert_memory_equal(got, want, glen * H);
            assert_int_equal(merkle_verify_consistency(m, n, roots[m], roots[n],
                                                       (const uint8_t(*)[H])got, glen),
                             0);
            for (size_t h = 0; h < glen; h++)
                for (size_t bit = 0; bit < 8 * H; bit++) {
                    got[h][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(merkle_verify_consistency(m, n, roots[m], roots[n],
                                                               (const uint8_t(*)[H])got, glen),
                                     -EBADMSG);
                    got[h][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            /* Other sizes with their true roots: accepted exactly when this is byte for byte
             * their proof too (the proof does not authenticate the sizes). */
            for (uint64_t m2 = (m > 2 ? m - 2 : 1); m2 <= m + 2; m2++)
                for (uint64_t n2 = (n > 2 ? n - 2 : 1); n2 <= n + 2 && n2 <= SMALL; n2++) {
                    uint8_t other[MERKLE_MAX_PROOF + 1][H];
                    size_t olen = 0;
                    bool same;

                    if ((m2 == m && n2 == n) || m2 > n2)
                        continue;
                    if (m2 < n2)
                        ref_subproof(m2, (const uint8_t(*)[H])leaves, n2, true, other, &olen);
                    same = olen == glen && memcmp(other, got, glen * H) == 0 &&
                           (m2 < n2 || memcmp(roots[m2], roots[n2], H) == 0);
                    assert_int_equal(merkle_verify_consistency(m2, n2, roots[m2], roots[n2],
                                                               (const uint8_t(*)[H])got, glen),
                                     same ? 0 : -EBADMSG);
                }
            if (m < n) {
                assert_int_equal(merkle_verify_consistency(m, n, roots[m - 1], roots[n],
                                                           (const uint8_t(*)[H])got, glen),
                                 -EBADMSG);
                assert_int_equal(merkle_verify_consistency(m, n, roots[m], roots[n - 1],
                                                           (const uint8_t(*)[H])got, glen),
                                 -EBADMSG);
            }
            for (size_t t = 0; t < glen; t++)
                assert_int_equal(merkle_verify_consistency(m, n, roots[m], roots[n],
                                                           (const uint8_t(*)[H])got, t),
                                 -EBADMSG);
            memcpy(got[glen], roots[n], H);
            assert_int_equal(merkle_verify_consistency(m, n, roots[m], roots[n],
                                                       (const uint8_t(*)[H])got, glen + 1),
                             -EBADMSG);
        }
}

/* ---- compact range ---- */

static void test_range_small_sizes(void **state)
{
    _cleanup_(merkle_range_freep) struct merkle_range *r = NULL;
    uint8_t want[H], got[H];

    assert_int_equal(merkle_range_new(&r), 0);
    for (uint64_t n = 0; n <= 1000; n++) {
        ref_mth((const uint8_t(*)[H])leaves, n, want);
        assert_int_equal(merkle_range_root(r, got), 0);
        assert_memory_equal(got, want, H);
        assert_int_equal(merkle_range_append(r, leaves[n]), 0);
    }
    assert_null(merkle_range_free(NULL));
}

static void test_range_big_sizes(void **state)
{
    static const uint64_t sizes[] = {4096, 4097, 65535, 65536, 77777, BIG_LEAVES};
    _cleanup_(merkle_range_freep) struct merkle_range *r = NULL;
    uint8_t want[H], got[H];
    uint64_t n = 0;

    assert_int_equal(merkle_range_new(&r), 0);
    for (size_t s = 0; s < ELEMENTSOF(sizes); s++) {
        for (; n < sizes[s]; n++)
            assert_int_equal(merkle_range_append(r, leaves[n]), 0);
        ref_mth((const uint8_t(*)[H])leaves, n, want);
        assert_int_equal(merkle_range_root(r, got), 0);
        assert_memory_equal(got, want, H);
        assert_int_equal(merkle_root(get_leaf, NULL, n, got), 0);
        assert_memory_equal(got, want, H);
    }
    /* A proof in the big tree still checks against the range root. */
    {
        uint8_t p[MERKLE_MAX_PROOF][H];
        size_t len = 0;
        assert_int_equal(merkle_inclusion_proof(get_leaf, NULL, 12345, n, p, &len), 0);
        assert_int_equal(len, 17);
        assert_int_equal(
                merkle_verify_inclusion(12345, n, leaves[12345], (const uint8_t(*)[H])p, len, got),
                0);
        assert_int_equal(merkle_consistency_proof(get_leaf, NULL, 77777, n, p, &len), 0);
        ref_mth((const uint8_t(*)[H])leaves, 77777, want);
        assert_int_equal(
                merkle_verify_consistency(77777, n, want, got, (const uint8_t(*)[H])p, len), 0);
    }
}

/* ---- error paths: outputs untouched ---- */

static void test_errors_leave_outputs(void **state)
{
    uint8_t out[H], p[MERKLE_MAX_PROOF][H], poison[H];
    size_t len = 777;

    memset(poison, 0xa5, H);
    memcpy(out, poison, H);
    fail_at = 3;
    assert_int_equal(merkle_root(get_leaf, NULL, 8, out), -EIO);
    assert_memory_equal(out, poison, H);
    assert_int_equal(merkle_inclusion_proof(get_leaf, NULL, 0, 8, p, &len), -EIO);
    assert_int_equal(merkle_consistency_proof(get_leaf, NULL, 5, 8, p, &len), -EIO);
    assert_int_equal(len, 777);
    fail_at = -1;
    assert_int_equal(merkle_inclusion_proof(get_leaf, NULL, 8, 8, p, &len), -EINVAL);
    assert_int_equal(merkle_inclusion_proof(NULL, NULL, 0, 8, p, &len), -EINVAL);
    assert_int_equal(merkle_consistency_proof(get_leaf, NULL, 0, 8, p, &len), -EINVAL);
    assert_int_equal(merkle_consistency_proof(get_leaf, NULL, 9, 8, p, &len), -EINVAL);
    assert_int_equal(len, 777);
    assert_int_equal(merkle_consistency_proof(get_leaf, NULL, 0, 0, p, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(merkle_leaf_hash(NULL, 1, out), -EINVAL);
    assert_memory_equal(out, poison, H);
    assert_int_equal(merkle_range_append(NULL, out), -EINVAL);
    assert_int_equal(merkle_range_root(NULL, out), -EINVAL);
    assert_memory_equal(out, poison, H);
    /* node hash may write over its inputs */
    {
        uint8_t l[H], r[H], want[H];
        memcpy(l, leaves[0], H);
        memcpy(r, leaves[1], H);
        ref_node(l, r, want);
        assert_int_equal(merkle_node_hash(l, r, l), 0);
        assert_memory_equal(l, want, H);
    }
}

/* ---- stored tree ---- */

#define TREE_SMALL 70u

/* The stored tree's proof of (index, m) equals the O(n) function's, and verifies. */
static void check_tree_proof(const struct merkle_tree *t, uint64_t index, uint64_t m,
                             const uint8_t root[H])
{
    uint8_t want[MERKLE_MAX_PROOF][H], got[MERKLE_MAX_PROOF][H];
    size_t wlen = 0, glen = 0;

    assert_int_equal(merkle_inclusion_proof(get_leaf, NULL, index, m, want, &wlen), 0);
    memset(got, 0xa5, sizeof(got));
    assert_int_equal(merkle_tree_inclusion_proof(t, index, m, got, &glen), 0);
    assert_int_equal(glen, wlen);
    if (glen > 0)
        assert_memory_equal(got, want, glen * H);
    assert_int_equal(
            merkle_verify_inclusion(index, m, leaves[index], (const uint8_t(*)[H])got, glen, root),
            0);
}

/*
 * Every size n in 1..TREE_SMALL (the tree grown one leaf at a time, as the agent grows it), every
 * index < n and every older size m in index+1..n: proofs equal merkle_inclusion_proof and
 * verify, roots equal merkle_root and the RFC reference.
 */
static void test_tree_small_exhaustive(void **state)
{
    _cleanup_(merkle_tree_freep) struct merkle_tree *t = NULL;
    uint8_t roots[TREE_SMALL + 1][H], got[H], slow[H];

    for (uint64_t n = 0; n <= TREE_SMALL; n++)
        ref_mth((const uint8_t(*)[H])leaves, n, roots[n]);
    assert_int_equal(merkle_tree_new(&t), 0);
    assert_int_equal(merkle_tree_size(t), 0);
    assert_int_equal(merkle_tree_root(t, 0, got), 0);
    assert_memory_equal(got, roots[0], H);

    for (uint64_t n = 1; n <= TREE_SMALL; n++) {
        assert_int_equal(merkle_tree_append(t, leaves[n - 1]), 0);
        assert_int_equal(merkle_tree_size(t), n);
        for (uint64_t m = 0; m <= n; m++) {
            assert_int_equal(merkle_tree_root(t, m, got), 0);
            assert_memory_equal(got, roots[m], H);
            assert_int_equal(merkle_root(get_leaf, NULL, m, slow), 0);
            assert_memory_equal(got, slow, H);
        }
        for (uint64_t index = 0; index < n; index++)
            for (uint64_t m = index + 1; m <= n; m++)
                check_tree_proof(t, index, m, roots[m]);
    }
}

/* A fresh tree per size gives the same answers as the one grown leaf by leaf (no state left
 * over from earlier sizes), and big trees agree with the O(n) functions across the
 * perfect-subtree boundaries. */
static void test_tree_big_sizes(void **state)
{
    static const uint64_t sizes[] = {4095, 4096, 4097, 65535, 65536, 65537, BIG_LEAVES};
    static const uint64_t probes[] = {0, 1, 2, 4094, 4095, 4096, 12345, 65535, 65536, 77777};
    _cleanup_(merkle_tree_freep) struct merkle_tree *t = NULL;
    uint64_t n = 0;

    assert_int_equal(merkle_tree_new(&t), 0);
    for (size_t s = 0; s < ELEMENTSOF(sizes); s++) {
        uint8_t root[H], prev[H], slow[H];

        for (; n < sizes[s]; n++)
            assert_int_equal(merkle_tree_append(t, leaves[n]), 0);
        assert_int_equal(merkle_tree_root(t, n, root), 0);
        assert_int_equal(merkle_root(get_leaf, NULL, n, slow), 0);
        assert_memory_equal(root, slow, H);
        /* One size back: the tree answers for a checkpoint older than its last append. */
        assert_int_equal(merkle_tree_root(t, n - 1, prev), 0);
        assert_int_equal(merkle_root(get_leaf, NULL, n - 1, slow), 0);
        assert_memory_equal(prev, slow, H);
        for (size_t p = 0; p < ELEMENTSOF(probes); p++) {
            if (probes[p] >= n)
                continue;
            check_tree_proof(t, probes[p], n, root);
            if (probes[p] < n - 1)
                check_tree_proof(t, probes[p], n - 1, prev);
        }
        check_tree_proof(t, n - 1, n, root);
    }
    /* Older sizes of the big tree: the root at 77777 and a proof against it. */
    {
        uint8_t root[H], slow[H];
        assert_int_equal(merkle_tree_root(t, 77777, root), 0);
        assert_int_equal(merkle_root(get_leaf, NULL, 77777, slow), 0);
        assert_memory_equal(root, slow, H);
        check_tree_proof(t, 54321, 77777, root);
        check_tree_proof(t, 77776, 77777, root);
    }
}

static void test_tree_errors(void **state)
{
    _cleanup_(merkle_tree_freep) struct merkle_tree *t = NULL;
    uint8_t out[H], poison[H], p[MERKLE_MAX_PROOF][H], ppoison[MERKLE_MAX_PROOF][H];
    size_t len = 777;

    memset(poison, 0xa5, H);
    memset(ppoison, 0x5a, sizeof(ppoison));
    memcpy(out, poison, H);
    memcpy(p, ppoison, sizeof(p));

    assert_int_equal(merkle_tree_new(NULL), -EINVAL);
    assert_null(merkle_tree_free(NULL));
    assert_int_equal(merkle_tree_size(NULL), 0);
    assert_int_equal(merkle_tree_append(NULL, leaves[0]), -EINVAL);
    assert_int_equal(merkle_tree_root(NULL, 0, out), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(NULL, 0, 1, p, &len), -EINVAL);

    assert_int_equal(merkle_tree_new(&t), 0);
    /* Empty tree: no proof at all, only the empty root. */
    assert_int_equal(merkle_tree_inclusion_proof(t, 0, 0, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 0, 1, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_root(t, 1, out), -EINVAL);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(merkle_tree_append(t, leaves[i]), 0);
    /* index >= m, m > size, NULL outputs. */
    assert_int_equal(merkle_tree_inclusion_proof(t, 5, 5, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 6, 5, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 9, 11, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 10, 10, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 0, UINT64_MAX, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, UINT64_MAX, 10, p, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 0, 10, NULL, &len), -EINVAL);
    assert_int_equal(merkle_tree_inclusion_proof(t, 0, 10, p, NULL), -EINVAL);
    assert_int_equal(merkle_tree_root(t, 11, out), -EINVAL);
    assert_int_equal(merkle_tree_root(t, UINT64_MAX, out), -EINVAL);
    assert_int_equal(len, 777);
    assert_memory_equal(out, poison, H);
    assert_memory_equal(p, ppoison, sizeof(p));
    /* The failures changed nothing: the tree still answers as before. */
    assert_int_equal(merkle_tree_size(t), 10);
    assert_int_equal(merkle_tree_inclusion_proof(t, 9, 10, p, &len), 0);
    assert_int_equal(len, 2);
    {
        uint8_t root[H];
        ref_mth((const uint8_t(*)[H])leaves, 10, root);
        assert_int_equal(merkle_tree_root(t, 10, out), 0);
        assert_memory_equal(out, root, H);
        assert_int_equal(
                merkle_verify_inclusion(9, 10, leaves[9], (const uint8_t(*)[H])p, len, root), 0);
    }
    assert_null(merkle_tree_free(TAKE_PTR(t)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kat_roots),
            cmocka_unit_test(test_kat_inclusion),
            cmocka_unit_test(test_kat_consistency),
            cmocka_unit_test(test_consistency_special_cases),
            cmocka_unit_test(test_inclusion_exhaustive),
            cmocka_unit_test(test_consistency_exhaustive),
            cmocka_unit_test(test_range_small_sizes),
            cmocka_unit_test(test_range_big_sizes),
            cmocka_unit_test(test_errors_leave_outputs),
            cmocka_unit_test(test_tree_small_exhaustive),
            cmocka_unit_test(test_tree_big_sizes),
            cmocka_unit_test(test_tree_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
