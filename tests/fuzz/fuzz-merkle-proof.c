/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merkle_verify_inclusion / merkle_verify_consistency on fuzzer-chosen sizes, indices, proofs
 * and roots. For trees of up to 64 leaves the answer must equal a brute-force oracle: the
 * proof and roots recomputed here by the recursive RFC 6962 definitions (PATH, SUBPROOF), and
 * a proof is accepted exactly when it is that proof (anything else would be a SHA-256
 * collision). The generators must produce the same proofs. Big sizes only must not crash.
 *
 * Input: mode, a, b, len, flags, then bytes XORed into (or replacing) proof and roots.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

#define H     MERKLE_HASH_SIZE
#define SMALL 64u

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-merkle-proof: check failed at line %d: %s\n", __LINE__, #x);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t lv[SMALL][H];
static bool lv_ready;

static int get_leaf(void *ctx, uint64_t index, uint8_t out[H])
{
    (void)ctx;
    CHECK(index < SMALL);
    memcpy(out, lv[index], H);
    return 0;
}

static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void mth(uint64_t off, uint64_t n, uint8_t out[H])
{
    uint8_t a[H], b[H];
    uint64_t k;

    if (n == 0) {
        CHECK(merkle_empty_root(out) == 0);
    } else if (n == 1) {
        memcpy(out, lv[off], H);
    } else {
        k = split(n);
        mth(off, k, a);
        mth(off + k, n - k, b);
        CHECK(merkle_node_hash(a, b, out) == 0);
    }
}

static void path(uint64_t m, uint64_t off, uint64_t n, uint8_t (*out)[H], size_t *len)
{
    uint64_t k;

    if (n <= 1)
        return;
    k = split(n);
    if (m < k) {
        path(m, off, k, out, len);
        mth(off + k, n - k, out[(*len)++]);
    } else {
        path(m - k, off + k, n - k, out, len);
        mth(off, k, out[(*len)++]);
    }
}

static void subproof(uint64_t m, uint64_t off, uint64_t n, bool b, uint8_t (*out)[H], size_t *len)
{
    uint64_t k;

    if (m == n) {
        if (!b)
            mth(off, n, out[(*len)++]);
        return;
    }
    k = split(n);
    if (m <= k) {
        subproof(m, off, k, b, out, len);
        mth(off + k, n - k, out[(*len)++]);
    } else {
        subproof(m - k, off + k, n - k, false, out, len);
        mth(off, k, out[(*len)++]);
    }
}

/* Next fuzz byte, 0 once the input is used up. */
static uint8_t next(const uint8_t *data, size_t size, size_t *pos)
{
    return *pos < size ? data[(*pos)++] : 0;
}

/* Fills h from the input: XORed into the true value when mutate, else raw bytes. */
static void fill(uint8_t h[H], bool mutate, const uint8_t *data, size_t size, size_t *pos)
{
    for (size_t i = 0; i < H; i++) {
        uint8_t v = next(data, size, pos);
        h[i] = mutate ? h[i] ^ v : v;
    }
}

static uint64_t u64(const uint8_t *data, size_t size, size_t *pos)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | next(data, size, pos);
    return v;
}

static void small_inclusion(const uint8_t *data, size_t size, size_t pos)
{
    uint8_t want[MERKLE_MAX_PROOF + 1][H] = {{0}}, proof[MERKLE_MAX_PROOF + 8][H] = {{0}};
    uint8_t gen[MERKLE_MAX_PROOF][H], root[H], leaf[H];
    uint64_t n = next(data, size, &pos) % (SMALL + 1), i = next(data, size, &pos) % (SMALL + 2);
    size_t plen = next(data, size, &pos) % (MERKLE_MAX_PROOF + 4), wlen = 0, glen = 0;
    uint8_t flags = next(data, size, &pos);
    bool expect_ok;
    int r;

    if (i < n) {
        path(i, 0, n, want, &wlen);
        CHECK(merkle_inclusion_proof(get_leaf, NULL, i, n, gen, &glen) == 0);
        CHECK(glen == wlen && memcmp(gen, want, glen * H) == 0);
        memcpy(proof, want, wlen * H);
        memcpy(leaf, lv[i], H);
    } else {
        memset(leaf, 0, H);
    }
    if (flags & 1)
        plen = wlen;
    mth(0, n, root);
    for (size_t k = 0; k < plen && pos < size; k++)
        fill(proof[k], flags & 2, data, size, &pos);
    if (flags & 4)
        fill(root, true, data, size, &pos);
    if (flags & 8)
        fill(leaf, true, data, size, &pos);

    r = merkle_verify_inclusion(i, n, leaf, (const uint8_t(*)[H])proof, plen, root);
    if (i >= n) {
        CHECK(r == -EINVAL);
        return;
    }
    if (plen > MERKLE_MAX_PROOF) {
        CHECK(r == -EMSGSIZE);
        return;
    }
    {
        /* Brute force: the root of the tree whose leaf i is the (possibly fuzzed) leaf. With
         * n = 1 the root is the leaf itself, so a fuzzed leaf equal to a fuzzed root passes. */
        uint8_t saved[H], tree_root[H];
        memcpy(saved, lv[i], H);
        memcpy(lv[i], leaf, H);
        mth(0, n, tree_root);
        memcpy(lv[i], saved, H);
        expect_ok = plen == wlen && memcmp(proof, want, wlen * H) == 0 &&
                    memcmp(root, tree_root, H) == 0;
    }
    CHECK(r == (expect_ok ? 0 : -EBADMSG));
}

static void small_consistency(const uint8_t *data, size_t size, size_t pos)
{
    uint8_t want[MERKLE_MAX_PROOF + 1][H] = {{0}}, proof[MERKLE_MAX_PROOF + 8][H] = {{0}};
    uint8_t gen[MERKLE_MAX_PROOF][H], r1[H], r2[H], t1[H], t2[H];
    uint64_t n = next(data, size, &pos) % (SMALL + 1), m = next(data, size, &pos) % (SMALL + 2);
    size_t plen = next(data, size, &pos) % (MERKLE_MAX_PROOF + 4), wlen = 0, glen = 0;
    uint8_t flags = next(data, size, &pos);
    bool expect_ok;
    int r;

    if (m <= n && (m > 0 || n == 0)) {
        if (m < n)
            subproof(m, 0, n, true, want, &wlen);
        CHECK(merkle_consistency_proof(get_leaf, NULL, m, n, gen, &glen) == 0);
        CHECK(glen == wlen && memcmp(gen, want, glen * H) == 0);
        memcpy(proof, want, wlen * H);
    }
    if (flags & 1)
        plen = wlen;
    mth(0, m <= SMALL ? m : 0, t1);
    mth(0, n, t2);
    memcpy(r1, t1, H);
    memcpy(r2, t2, H);
    for (size_t k = 0; k < plen && pos < size; k++)
        fill(proof[k], flags & 2, data, size, &pos);
    if (flags & 4)
        fill(r1, true, data, size, &pos);
    if (flags & 8)
        fill(r2, true, data, size, &pos);

    r = merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[H])proof, plen);
    if (m > n) {
        CHECK(r == -EINVAL);
    } else if (m == n) {
        CHECK(r == (plen == 0 && memcmp(r1, r2, H) == 0 ? 0 : -EBADMSG));
    } else if (m == 0) {
        CHECK(r == -EINVAL);
    } else if (plen > MERKLE_MAX_PROOF) {
        CHECK(r == -EMSGSIZE);
    } else {
        expect_ok = plen == wlen && memcmp(proof, want, wlen * H) == 0 && memcmp(r1, t1, H) == 0 &&
                    memcmp(r2, t2, H) == 0;
        CHECK(r == (expect_ok ? 0 : -EBADMSG));
    }
}

/* Arbitrary 64-bit sizes and raw proofs: only the documented results, never a crash. */
static void big(const uint8_t *data, size_t size, size_t pos, bool consistency)
{
    uint8_t proof[MERKLE_MAX_PROOF + 8][H] = {{0}}, a[H], b[H];
    uint64_t x = u64(data, size, &pos), y = u64(data, size, &pos);
    size_t plen = next(data, size, &pos) % (MERKLE_MAX_PROOF + 4);
    int r;

    fill(a, false, data, size, &pos);
    fill(b, false, data, size, &pos);
    for (size_t k = 0; k < plen && pos < size; k++)
        fill(proof[k], false, data, size, &pos);
    if (consistency)
        r = merkle_verify_consistency(x, y, a, b, (const uint8_t(*)[H])proof, plen);
    else
        r = merkle_verify_inclusion(x, y, a, (const uint8_t(*)[H])proof, plen, b);
    CHECK(r == 0 || r == -EINVAL || r == -EBADMSG || r == -EMSGSIZE);
    /* Without a collision only the equal-roots m = n case can pass with fuzzed hashes. */
    if (r == 0)
        CHECK(consistency && x == y && plen == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;

    if (!lv_ready) {
        for (unsigned i = 0; i < SMALL; i++) {
            uint8_t d[2] = {(uint8_t)i, 0xa5};
            CHECK(merkle_leaf_hash(d, sizeof(d), lv[i]) == 0);
        }
        lv_ready = true;
    }
    switch (next(data, size, &pos) % 4) {
    case 0:
        small_inclusion(data, size, pos);
        break;
    case 1:
        small_consistency(data, size, pos);
        break;
    case 2:
        big(data, size, pos, false);
        break;
    default:
        big(data, size, pos, true);
        break;
    }
    return 0;
}
