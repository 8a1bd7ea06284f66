/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256 (FORMATS 7.3): leaf and node hashes,
 * tree roots, an incremental compact range, inclusion and consistency proofs. Pure functions:
 * no I/O, no logging. Every function returns 0 on success or -errno and writes its ret_*
 * outputs only on success.
 *
 * Error codes:
 *   -EINVAL   a NULL argument, or sizes/indices outside the domain of the operation
 *   -EMSGSIZE a proof longer than MERKLE_MAX_PROOF hashes
 *   -EBADMSG  a proof that does not verify (wrong hashes, wrong length, root mismatch)
 *   -ENOMEM / -EIO  OpenSSL failure (allocation / digest)
 *   any negative value returned by a merkle_get_leaf_fn is passed through unchanged
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_SIZE 32u /* SHA-256 */
/* Hashes in one inclusion or consistency proof: a tree of at most 2^64 - 1 leaves is at most
 * 64 levels deep. Longer proofs are refused before any hashing. */
#define MERKLE_MAX_PROOF 64u

/* Leaf hash SHA-256(0x00 || data). len may be 0 (data may then be NULL). */
int merkle_leaf_hash(const void *data, size_t len, uint8_t ret[static MERKLE_HASH_SIZE]);
/* Interior node hash SHA-256(0x01 || left || right). ret may alias left or right. */
int merkle_node_hash(const uint8_t left[static MERKLE_HASH_SIZE],
                     const uint8_t right[static MERKLE_HASH_SIZE],
                     uint8_t ret[static MERKLE_HASH_SIZE]);
/* Root of the empty tree, SHA-256(""). */
int merkle_empty_root(uint8_t ret[static MERKLE_HASH_SIZE]);

/*
 * Fetches leaf hash number index (0-based) of the caller's log into out. Returns 0, or a
 * negative errno that aborts the operation and is returned unchanged. Only indices below the
 * tree size passed to the proof function are requested.
 */
typedef int (*merkle_get_leaf_fn)(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_SIZE]);

/*
 * MTH of the first n leaf hashes of the log (RFC 6962 2.1, unpadded). n = 0 gives the empty
 * root. O(n) leaf fetches and hashes, O(log n) memory.
 */
int merkle_root(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t n,
                uint8_t ret[static MERKLE_HASH_SIZE]);

/*
 * Compact range (frontier): the roots of the perfect subtrees covering leaves [0, size), one
 * per set bit of size, so 64 hashes at most (about 2 KiB, fixed). Appending is O(log n)
 * hashes amortised O(1); the root at the current size costs at most 63 hashes.
 */
struct merkle_range;
/* A new empty range (size 0). -ENOMEM. */
int merkle_range_new(struct merkle_range **ret);
/* Frees (wiping nothing: hashes are public). Accepts NULL; returns NULL. */
struct merkle_range *merkle_range_free(struct merkle_range *r);
static inline void merkle_range_freep(struct merkle_range **r)
{
    *r = merkle_range_free(*r);
}
/* Number of leaves appended so far. */
uint64_t merkle_range_size(const struct merkle_range *r);
/* Appends one leaf hash. -EOVERFLOW when the size would exceed UINT64_MAX; on any error the
 * range is unchanged. */
int merkle_range_append(struct merkle_range *r, const uint8_t leaf_hash[static MERKLE_HASH_SIZE]);
/* Root of the tree of size merkle_range_size(r) (the empty root at size 0). */
int merkle_range_root(const struct merkle_range *r, uint8_t ret[static MERKLE_HASH_SIZE]);

/*
 * Stored tree: every leaf hash and every perfect-subtree node, 2 hashes (64 bytes) per leaf in
 * memory. Appending is amortised O(1) hashes; the root of the first n leaves and an inclusion
 * proof of leaf index in the tree of size n (any n <= size, so proofs against an older
 * checkpoint work) cost O(log^2 n) lookups and hashes at worst, no leaf fetches. The agent
 * keeps one over its log to answer proof requests.
 */
struct merkle_tree;
int merkle_tree_new(struct merkle_tree **ret);
struct merkle_tree *merkle_tree_free(struct merkle_tree *t); /* NULL-safe, returns NULL */
static inline void merkle_tree_freep(struct merkle_tree **t)
{
    *t = merkle_tree_free(*t);
}
uint64_t merkle_tree_size(const struct merkle_tree *t);
/* Appends one leaf hash; -ENOMEM leaves the tree unchanged. */
int merkle_tree_append(struct merkle_tree *t, const uint8_t leaf_hash[static MERKLE_HASH_SIZE]);
/* Root of the first n leaves (n <= size; n = 0 the empty root). -EINVAL for n > size. */
int merkle_tree_root(const struct merkle_tree *t, uint64_t n, uint8_t ret[static MERKLE_HASH_SIZE]);
/* Inclusion proof of leaf index in the tree of its first n leaves, as merkle_inclusion_proof
 * writes it. -EINVAL unless index < n <= size. */
int merkle_tree_inclusion_proof(const struct merkle_tree *t, uint64_t index, uint64_t n,
                                uint8_t ret_proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE],
                                size_t *ret_len);

/*
 * Inclusion proof (RFC 9162 2.1.3.1) of leaf index in the tree of size n, leaf hashes from
 * get_leaf. Writes up to MERKLE_MAX_PROOF hashes to ret_proof (the caller's array of that
 * many) and their count to ret_len. -EINVAL unless index < n.
 * Cost: every leaf in [0, n) except index is fetched once and hashed into its sibling
 * subtree, so O(n) fetches and hashes; memory O(log n). (A stored-tile variant would be
 * O(log n); this one needs no storage beyond the leaf hashes.)
 */
int merkle_inclusion_proof(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t index, uint64_t n,
                           uint8_t ret_proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE], size_t *ret_len);

/*
 * Consistency proof (RFC 9162 2.1.4.1) from size m to size n. m = n gives an empty proof;
 * -EINVAL if m = 0 < n (meaningless, see merkle_verify_consistency) or m > n. Same output
 * contract and O(n) cost as merkle_inclusion_proof.
 */
int merkle_consistency_proof(merkle_get_leaf_fn get_leaf, void *ctx, uint64_t m, uint64_t n,
                             uint8_t ret_proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE],
                             size_t *ret_len);

/*
 * Verifies that leaf_hash is leaf index of the tree of size n with the given root (RFC 9162
 * 2.1.3.2 as restated in FORMATS 7.3). 0 if it does; -EINVAL if index >= n; -EMSGSIZE if
 * proof_len > MERKLE_MAX_PROOF; -EBADMSG otherwise. O(proof_len) hashes.
 * The proof does not authenticate n: a proof for one size can verify for another size whose path
 * has the same shape. Take n (and root) only from a verified checkpoint.
 */
int merkle_verify_inclusion(uint64_t index, uint64_t n,
                            const uint8_t leaf_hash[static MERKLE_HASH_SIZE],
                            const uint8_t (*proof)[MERKLE_HASH_SIZE], size_t proof_len,
                            const uint8_t root[static MERKLE_HASH_SIZE]);

/*
 * Verifies that the tree of size n with root2 extends the tree of size m with root1 (RFC
 * 9162 2.1.4.2 as restated in FORMATS 7.3):
 *   m > n                -> -EINVAL
 *   m = n                -> 0 iff the proof is empty and root1 = root2, else -EBADMSG
 *                           (this includes m = n = 0)
 *   m = 0 < n            -> -EINVAL: a proof from the empty tree is meaningless, as in the
 *                           transparency-dev conformance data (wantErr for size1 = 0 < size2)
 *   proof_len > MERKLE_MAX_PROOF -> -EMSGSIZE
 *   otherwise 0 if the proof verifies, -EBADMSG if not (including an empty proof).
 */
int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root1[static MERKLE_HASH_SIZE],
                              const uint8_t root2[static MERKLE_HASH_SIZE],
                              const uint8_t (*proof)[MERKLE_HASH_SIZE], size_t proof_len);
