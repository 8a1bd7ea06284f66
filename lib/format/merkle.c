/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 6962 / 9162 Merkle trees over SHA-256 (see merkle.h; FORMATS 7.3). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "macro.h"
#include "merkle.h"

#define H MERKLE_HASH_SIZE

struct merkle_range {
    uint64_t size;
    /* level[l] is the root of a perfect subtree of 2^l leaves; valid iff bit l of size is set.
     * The set bits from high to low cover the leaves left to right. */
    uint8_t level[64][H];
};

/* SHA-256 fetched once: EVP_sha256() makes every EVP_DigestInit repeat an implicit provider
 * fetch, which dominates the cost of a 65-byte node hash. Read-only once set. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static const EVP_MD *sha256(void)
{
    if (pthread_once(&sha256_once, sha256_fetch) != 0 || !sha256_md)
        return NULL;
    return sha256_md;
}

static int sha256_parts(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
                        uint8_t ret[static H])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    const EVP_MD *md = sha256();
    unsigned int len = 0;

    if (!md)
        return -EIO;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, &prefix, 1) != 1)
        return -EIO;
    if (alen > 0 && EVP_DigestUpdate(ctx, a, alen) != 1)
        return -EIO;
    if (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1)
        return -EIO;
    if (EVP_DigestFinal_ex(ctx, ret, &len) != 1 || len != H)
        return -EIO;
    return 0;
}

int merkle_leaf_hash(const void *data, size_t len, uint8_t ret[static H])
{
    uint8_t out[H];
    int r;

    if (!data && len > 0)
        return -EINVAL;
    r = sha256_parts(0x00, data, len, NULL, 0, out);
    if (r < 0)
        return r;
    memcpy(ret, out, H);
    return 0;
}

int merkle_node_hash(const uint8_t left[static H], const uint8_t right[static H],
                     uint8_t ret[static H])
{
    uint8_t out[H];
    int r;

    /* Through a local so ret may alias an input. */
    r = sha256_parts(0x01, left, H, right, H, out);
    if (r < 0)
        return r;
    memcpy(ret, out, H);
    return 0;
}

int merkle_empty_root(uint8_t ret[static H])
{
    uint8_t out[H];
    unsigned int len = 0;

    if (EVP_Digest("", 0, out, &len, EVP_sha256(), NULL) != 1 || len != H)
        return -EIO;
    memcpy(ret, out, H);
    return 0;
}

/* ---- compact range ---- */

static int range_append(struct merkle_range *r, const uint8_t leaf[static H])
{
    uint8_t carry[H];
    unsigned l = 0;
    int k;

    if (r->size == UINT64_MAX)
        return -EOVERFLOW;
    memcpy(carry, leaf, H);
    /* Like binary increment: each set low bit merges into the next level. Merged levels are
     * only cleared by the size update below, so a hashing failure leaves r unchanged. */
    while (r->size >> l & 1) {
        k = merkle_node_hash(r->level[l], carry, carry);
        if (k < 0)
            return k;
        l++;
    }
    memcpy(r->level[l], carry, H);
    r->size++;
    return 0;
}

static int range_root(const struct merkle_range *r, uint8_t ret[static H])
{
    uint8_t acc[H];
    unsigned l;
    int k;

    if (r->size == 0)
        return merkle_empty_root(ret);
    l = (unsigned)__builtin_ctzll(r->size);
    memcpy(acc, r->level[l], H);
    for (l++; l < 64; l++) {
        if (!(r->size >> l & 1))
            continue;
        k = merkle_node_hash(r->level[l], acc, acc);
        if (k < 0)
            return k;
    }
    memcpy(ret, acc, H);
    return 0;
}

int merkle_range_new(struct merkle_range **ret)
{
    struct merkle_range *r;

    if (!ret)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    *ret = r;
    return 0;
}

struct merkle_range *merkle_range_free(struct merkle_range *r)
{
    free(r);
    return NULL;
}

uint64_t merkle_range_size(const struct merkle_range *r)
{
    return r ? r->size : 0;
}

int merkle_range_append(struct merkle_range *r, const uint8_t leaf_hash[static H])
{
    if (!r)
        return -EINVAL;
    return range_append(r, leaf_hash);
}

int merkle_range_root(const struct merkle_range *r, uint8_t ret[static H])
{
    if (!r)
        return -EINVAL;
    return range_root(r, ret);
}

/* MTH of leaves [off, off + len) of the caller's log, through a stack compact range. */
static int subtree_root(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t off, uint64_t len,
                        uint8_t ret[static H])
{
    struct merkle_range r = {0};
    uint8_t leaf[H];
    int k;

    for (uint64_t i = 0; i < len; i++) {
        k = get_leaf(ctx, off + i, leaf);
        if (k < 0)
            return k;
        k = range_append(&r, leaf);
        if (k < 0)
            return k;
    }
    return range_root(&r, ret);
}

int merkle_root(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t n, uint8_t ret[static H])
{
    if (!get_leaf && n > 0)
        return -EINVAL;
    return subtree_root(get_leaf, ctx, 0, n, ret);
}

/* Largest power of two strictly less than n, for n >= 2. */
static uint64_t split_point(uint64_t n)
{
    return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* Copies the sibling hashes, collected top-down, out bottom-up as the RFC orders them. */
static void emit_reversed(uint8_t sib[][H], size_t count, uint8_t ret_proof[MERKLE_MAX_PROOF][H],
                          size_t *ret_len)
{
    for (size_t i = 0; i < count; i++)
        memcpy(ret_proof[i], sib[count - 1 - i], H);
    *ret_len = count;
}

int merkle_inclusion_proof(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t index, uint64_t n,
                           uint8_t ret_proof[MERKLE_MAX_PROOF][H], size_t *ret_len)
{
    uint8_t sib[MERKLE_MAX_PROOF][H];
    uint64_t off = 0, size = n, idx = index;
    size_t count = 0;
    int k;

    if (!get_leaf || !ret_proof || !ret_len || index >= n)
        return -EINVAL;
    /* PATH(m, D[n]) of RFC 9162 2.1.3.1, unrolled: every step at least halves size, so at most
     * 64 steps. */
    while (size > 1) {
        uint64_t split = split_point(size);

        if (idx < split) {
            k = subtree_root(get_leaf, ctx, off + split, size - split, sib[count]);
            size = split;
        } else {
            k = subtree_root(get_leaf, ctx, off, split, sib[count]);
            off += split;
            idx -= split;
            size -= split;
        }
        if (k < 0)
            return k;
        count++;
    }
    emit_reversed(sib, count, ret_proof, ret_len);
    return 0;
}

int merkle_consistency_proof(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t m, uint64_t n,
                             uint8_t ret_proof[MERKLE_MAX_PROOF][H], size_t *ret_len)
{
    uint8_t sib[MERKLE_MAX_PROOF + 1][H];
    uint64_t off = 0, size = n, mm = m;
    bool whole = true; /* the b flag of SUBPROOF: still on the left spine of the old tree */
    size_t count = 0;
    int k;

    if (!get_leaf || !ret_proof || !ret_len || m > n || (m == 0 && n > 0))
        return -EINVAL;
    /* SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1, unrolled like the inclusion proof. */
    while (mm != size) {
        uint64_t split = split_point(size);

        if (count >= MERKLE_MAX_PROOF)
            return -EMSGSIZE;
        if (mm <= split) {
            k = subtree_root(get_leaf, ctx, off + split, size - split, sib[count]);
            size = split;
        } else {
            k = subtree_root(get_leaf, ctx, off, split, sib[count]);
            off += split;
            mm -= split;
            size -= split;
            whole = false;
        }
        if (k < 0)
            return k;
        count++;
    }
    if (!whole && size > 0) {
        k = subtree_root(get_leaf, ctx, off, size, sib[count]);
        if (k < 0)
            return k;
        count++;
    }
    if (count > MERKLE_MAX_PROOF)
        return -EMSGSIZE;
    emit_reversed(sib, count, ret_proof, ret_len);
    return 0;
}

int merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf_hash[static H],
                            const uint8_t (*proof)[H], size_t proof_len,
                            const uint8_t root[static H])
{
    uint64_t fn, sn;
    uint8_t r[H];
    int k;

    if (index >= n)
        return -EINVAL;
    if (proof_len > MERKLE_MAX_PROOF)
        return -EMSGSIZE;
    if (proof_len > 0 && !proof)
        return -EINVAL;
    fn = index;
    sn = n - 1;
    memcpy(r, leaf_hash, H);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return -EBADMSG;
        if ((fn & 1) || fn == sn) {
            k = merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            k = merkle_node_hash(r, proof[i], r);
        }
        if (k < 0)
            return k;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(r, root, H) != 0)
        return -EBADMSG;
    return 0;
}

int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root1[static H],
                              const uint8_t root2[static H], const uint8_t (*proof)[H],
                              size_t proof_len)
{
    const uint8_t *first;
    uint64_t fn, sn;
    uint8_t fr[H], sr[H];
    size_t i;
    int k;

    if (m > n)
        return -EINVAL;
    if (m == n)
        return proof_len == 0 && memcmp(root1, root2, H) == 0 ? 0 : -EBADMSG;
    if (m == 0)
        return -EINVAL;
    if (proof_len > MERKLE_MAX_PROOF)
        return -EMSGSIZE;
    if (proof_len == 0)
        return -EBADMSG;
    if (!proof)
        return -EINVAL;

    /* When m is a power of two the old root is itself a node of the new tree and the proof
     * omits it: start from root1 as if it had been prepended. */
    i = 0;
    if ((m & (m - 1)) == 0) {
        first = root1;
    } else {
        first = proof[0];
        i = 1;
    }
    fn = m - 1;
    sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, first, H);
    memcpy(sr, first, H);
    for (; i < proof_len; i++) {
        if (sn == 0)
            return -EBADMSG;
        if ((fn & 1) || fn == sn) {
            k = merkle_node_hash(proof[i], fr, fr);
            if (k >= 0)
                k = merkle_node_hash(proof[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            k = merkle_node_hash(sr, proof[i], sr);
        }
        if (k < 0)
            return k;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(fr, root1, H) != 0 || memcmp(sr, root2, H) != 0)
        return -EBADMSG;
    return 0;
}

/* ---- stored tree ---- */

/* level[l] holds the roots of the perfect subtrees of 2^l leaves, left to right: node i
 * covers leaves [i * 2^l, (i + 1) * 2^l). */
struct merkle_level {
    uint8_t (*node)[H];
    uint64_t n, cap;
};

struct merkle_tree {
    struct merkle_level level[64];
    uint64_t size;
};

int merkle_tree_new(struct merkle_tree **ret)
{
    struct merkle_tree *t;
    if (!ret)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    *ret = t;
    return 0;
}

struct merkle_tree *merkle_tree_free(struct merkle_tree *t)
{
    if (!t)
        return NULL;
    for (size_t l = 0; l < ELEMENTSOF(t->level); l++)
        free(t->level[l].node);
    free(t);
    return NULL;
}

uint64_t merkle_tree_size(const struct merkle_tree *t)
{
    return t ? t->size : 0;
}

/* Room for one more node on level l (grown geometrically). */
static int level_reserve(struct merkle_level *lv)
{
    uint64_t cap;
    void *p;
    if (lv->n < lv->cap)
        return 0;
    cap = lv->cap ? lv->cap * 2 : 64;
    if (cap > SIZE_MAX / H)
        return -ENOMEM;
    p = realloc(lv->node, (size_t)cap * H);
    if (!p)
        return -ENOMEM;
    lv->node = p;
    lv->cap = cap;
    return 0;
}

int merkle_tree_append(struct merkle_tree *t, const uint8_t leaf_hash[static H])
{
    uint64_t n;
    size_t levels = 1;
    int r;

    if (!t || !leaf_hash)
        return -EINVAL;
    if (t->size == UINT64_MAX)
        return -EOVERFLOW;
    /* Reserve every level this append completes first, so a failure changes nothing. */
    for (n = t->size + 1; (n & 1) == 0 && levels < ELEMENTSOF(t->level); n >>= 1)
        levels++;
    for (size_t l = 0; l < levels; l++) {
        r = level_reserve(&t->level[l]);
        if (r < 0)
            return r;
    }
    memcpy(t->level[0].node[t->level[0].n++], leaf_hash, H);
    for (size_t l = 1; l < levels; l++) {
        struct merkle_level *below = &t->level[l - 1], *lv = &t->level[l];
        r = merkle_node_hash(below->node[below->n - 2], below->node[below->n - 1], lv->node[lv->n]);
        if (r < 0) {
            /* Undo: drop the nodes added on the levels below. */
            for (size_t k = 0; k < l; k++)
                t->level[k].n--;
            return r;
        }
        lv->n++;
    }
    t->size++;
    return 0;
}

/* MTH of leaves [start, start + len), len >= 1, inside the stored tree. Every range reached
 * from the proof recursion starts at a multiple of its largest perfect subtree. */
static int tree_hash(const struct merkle_tree *t, uint64_t start, uint64_t len, uint8_t out[H])
{
    uint8_t left[H], right[H];
    uint64_t k;
    int r;

    if ((len & (len - 1)) == 0) {
        unsigned l = (unsigned)__builtin_ctzll(len);
        uint64_t i = start >> l;
        if ((start & (len - 1)) == 0 && i < t->level[l].n) {
            memcpy(out, t->level[l].node[i], H);
            return 0;
        }
    }
    if (len == 1)
        return -EINVAL; /* cannot happen: leaves are all stored */
    k = split_point(len);
    r = tree_hash(t, start, k, left);
    if (r >= 0)
        r = tree_hash(t, start + k, len - k, right);
    if (r >= 0)
        r = merkle_node_hash(left, right, out);
    return r;
}

int merkle_tree_root(const struct merkle_tree *t, uint64_t n, uint8_t ret[static H])
{
    if (!t || !ret || n > t->size)
        return -EINVAL;
    if (n == 0)
        return merkle_empty_root(ret);
    return tree_hash(t, 0, n, ret);
}

int merkle_tree_inclusion_proof(const struct merkle_tree *t, uint64_t index, uint64_t n,
                                uint8_t ret_proof[MERKLE_MAX_PROOF][H], size_t *ret_len)
{
    /* PATH(m, D[start:start+len]) from the root down: siblings are collected top-down and
     * written bottom-up (RFC 9162 order). */
    uint8_t path[MERKLE_MAX_PROOF][H];
    uint64_t start = 0, len = n, m = index;
    size_t depth = 0;
    int r;

    if (!t || !ret_proof || !ret_len || index >= n || n > t->size)
        return -EINVAL;
    while (len > 1) {
        uint64_t k = split_point(len);
        if (depth >= MERKLE_MAX_PROOF)
            return -EMSGSIZE;
        if (m < k) {
            r = tree_hash(t, start + k, len - k, path[depth]);
            len = k;
        } else {
            r = tree_hash(t, start, k, path[depth]);
            start += k;
            m -= k;
            len -= k;
        }
        if (r < 0)
            return r;
        depth++;
    }
    emit_reversed(path, depth, ret_proof, ret_len);
    return 0;
}
