/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-proof: cost of the agent's stored Merkle tree (lib/format/merkle.h, merkle_tree_*).
 * A benchmark, not a test; run by bench-proof.sh.
 *
 *   1. builds a tree of N random leaf hashes with merkle_tree_append (timed; memory measured as
 *      the heap growth reported by mallinfo2 and the VmRSS growth, per leaf);
 *   2. times Q merkle_tree_inclusion_proof calls for random leaves in the tree of size N, Q for
 *      random leaves against random older sizes (index < m <= N), as a log answering proofs for
 *      older checkpoints does, and Q against the size 2^k - 1 <= N (every level of the path has
 *      an unstored right edge to recompute: the O(log^2 n) worst case): mean, p50, p99, max in
 *      microseconds, and the mean proof length;
 *   3. times ONE merkle_inclusion_proof (the O(n) function, leaves from an array) at size N as
 *      the baseline, and prints baseline / p50 of the stored tree.
 * Every proof from step 2 is checked against merkle_verify_inclusion (outside the timed calls),
 * and the baseline proof must equal the stored tree's proof for the same leaf: a wrong answer
 * makes the program exit 1.
 *
 * usage: bench-proof [-n LEAVES] [-q PROOFS] [-s SEED]      (defaults 1000000, 10000, 1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "merkle.h"
#include "parse.h"

#define H               MERKLE_HASH_SIZE
#define BENCH_MAX_N     (1ull << 27) /* leaves: 128 Mi leaves is 4 GiB of leaf hashes alone */
#define BENCH_MAX_Q     10000000ull  /* proofs per series */
#define BENCH_DEFAULT_N 1000000ull
#define BENCH_DEFAULT_Q 10000ull

static uint8_t (*leaves)[H];

static int get_leaf(void *ctx, uint64_t index, uint8_t out[H])
{
    memcpy(out, leaves[index], H);
    return 0;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* splitmix64: reproducible choices of indices and sizes */
static uint64_t rng_state;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, n), n >= 1 */
static uint64_t below(uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
    do
        v = rng();
    while (v >= lim);
    return v % n;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long kib = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stats {
    double mean, p50, p99, max;
};

static struct stats summarize(double *us, size_t q)
{
    struct stats s = {0};
    for (size_t i = 0; i < q; i++)
        s.mean += us[i];
    s.mean /= (double)q;
    qsort(us, q, sizeof(*us), cmp_double);
    s.p50 = us[q / 2];
    s.p99 = us[(size_t)((double)(q - 1) * 0.99)];
    s.max = us[q - 1];
    return s;
}

/* Sizes the proofs of a series are made against. */
enum sizes {
    SIZE_CURRENT, /* the whole tree, N */
    SIZE_OLDER,   /* uniform in [index + 1, N] */
    SIZE_WORST,   /* the largest 2^k - 1 <= N: every level has an unstored right edge */
};

/*
 * Q proofs of leaf indices uniform in [0, m) for sizes m as chosen by which. Each proof is
 * verified after its timing. Returns 0, or -1 after printing what failed.
 */
static int series(const struct merkle_tree *t, uint64_t n, uint64_t q, enum sizes which, double *us,
                  size_t *total_hashes)
{
    uint8_t proof[MERKLE_MAX_PROOF][H], root_n[H], root[H];
    size_t len = 0;
    int r;

    if (which == SIZE_WORST) {
        uint64_t all_ones = 1;
        while (all_ones <= n / 2)
            all_ones = all_ones * 2 + 1;
        n = all_ones;
    }
    r = merkle_tree_root(t, n, root_n);
    if (r < 0) {
        fprintf(stderr, "bench-proof: merkle_tree_root(%" PRIu64 "): %s\n", n, strerror(-r));
        return -1;
    }
    *total_hashes = 0;
    for (uint64_t i = 0; i < q; i++) {
        uint64_t index = below(n), m = which == SIZE_OLDER ? index + 1 + below(n - index) : n;
        double t0, t1;

        t0 = now_us();
        r = merkle_tree_inclusion_proof(t, index, m, proof, &len);
        t1 = now_us();
        us[i] = t1 - t0;
        if (r < 0) {
            fprintf(stderr, "bench-proof: proof of %" PRIu64 " in %" PRIu64 ": %s\n", index, m,
                    strerror(-r));
            return -1;
        }
        *total_hashes += len;
        if (m == n)
            memcpy(root, root_n, H);
        else if ((r = merkle_tree_root(t, m, root)) < 0) {
            fprintf(stderr, "bench-proof: merkle_tree_root(%" PRIu64 "): %s\n", m, strerror(-r));
            return -1;
        }
        r = merkle_verify_inclusion(index, m, leaves[index], (const uint8_t(*)[H])proof, len, root);
        if (r != 0) {
            fprintf(stderr, "bench-proof: proof of %" PRIu64 " in %" PRIu64 " does not verify\n",
                    index, m);
            return -1;
        }
    }
    return 0;
}

static void print_stats(const char *name, uint64_t q, const struct stats *s, size_t hashes)
{
    printf("RESULT name=%s proofs=%" PRIu64 " mean_us=%.2f p50_us=%.2f p99_us=%.2f max_us=%.2f "
           "mean_hashes=%.1f\n",
           name, q, s->mean, s->p50, s->p99, s->max, (double)hashes / (double)q);
}

/* One timed series; its statistics in *ret. */
static int run_series(const struct merkle_tree *t, uint64_t n, uint64_t q, enum sizes which,
                      const char *name, double *us, struct stats *ret)
{
    size_t hashes = 0;

    if (series(t, n, q, which, us, &hashes) < 0)
        return -1;
    *ret = summarize(us, q);
    print_stats(name, q, ret, hashes);
    return 0;
}

static int parse_count(const char *opt, const char *arg, uint64_t max, uint64_t *ret)
{
    uint64_t v;
    if (parse_u64(arg, max, &v) < 0 || v == 0) {
        fprintf(stderr, "bench-proof: -%s wants an integer in 1..%" PRIu64 " (got '%s')\n", opt,
                max, arg);
        return -1;
    }
    *ret = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = BENCH_DEFAULT_N, q = BENCH_DEFAULT_Q, seed = 1;
    struct merkle_tree *t = NULL;
    uint8_t proof[MERKLE_MAX_PROOF][H], base[MERKLE_MAX_PROOF][H];
    size_t len = 0, blen = 0, heap0, heap1;
    long rss0, rss1;
    double t0, build_s, base_us, *us;
    struct stats now_stats, old_stats, worst_stats;
    uint64_t index;
    int c, r;

    while ((c = getopt(argc, argv, "n:q:s:")) != -1) {
        switch (c) {
        case 'n':
            if (parse_count("n", optarg, BENCH_MAX_N, &n) < 0)
                return 2;
            break;
        case 'q':
            if (parse_count("q", optarg, BENCH_MAX_Q, &q) < 0)
                return 2;
            break;
        case 's':
            if (parse_count("s", optarg, UINT64_MAX, &seed) < 0)
                return 2;
            break;
        default:
            fprintf(stderr, "usage: bench-proof [-n LEAVES] [-q PROOFS] [-s SEED]\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "usage: bench-proof [-n LEAVES] [-q PROOFS] [-s SEED]\n");
        return 2;
    }
    rng_state = seed;

    leaves = malloc((size_t)n * H);
    us = malloc((size_t)q * sizeof(*us));
    if (!leaves || !us) {
        fprintf(stderr, "bench-proof: out of memory\n");
        return 1;
    }
    if (RAND_bytes((unsigned char *)leaves, (int)(n * H > INT32_MAX ? INT32_MAX : n * H)) != 1) {
        fprintf(stderr, "bench-proof: RAND_bytes failed\n");
        return 1;
    }
    for (uint64_t i = INT32_MAX / H; i < n; i++) /* beyond one RAND_bytes call: cheap filler */
        for (size_t b = 0; b < H; b += 8) {
            uint64_t v = rng();
            memcpy(leaves[i] + b, &v, 8);
        }

    /* 1. build */
    heap0 = heap_bytes();
    rss0 = rss_kib();
    r = merkle_tree_new(&t);
    if (r < 0) {
        fprintf(stderr, "bench-proof: merkle_tree_new: %s\n", strerror(-r));
        return 1;
    }
    t0 = now_us();
    for (uint64_t i = 0; i < n; i++) {
        r = merkle_tree_append(t, leaves[i]);
        if (r < 0) {
            fprintf(stderr, "bench-proof: append %" PRIu64 ": %s\n", i, strerror(-r));
            return 1;
        }
    }
    build_s = (now_us() - t0) / 1e6;
    heap1 = heap_bytes();
    rss1 = rss_kib();
    printf("RESULT name=build leaves=%" PRIu64 " secs=%.3f appends_per_s=%.0f heap_bytes=%zu "
           "heap_bytes_per_leaf=%.1f rss_kib_growth=%ld rss_bytes_per_leaf=%.1f\n",
           n, build_s, (double)n / build_s, heap1 - heap0, (double)(heap1 - heap0) / (double)n,
           rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / (double)n);

    /* 2. proofs at the current size, at random older sizes, at the worst older size */
    if (run_series(t, n, q, SIZE_CURRENT, "tree-proof-current-size", us, &now_stats) < 0 ||
        run_series(t, n, q, SIZE_OLDER, "tree-proof-older-size", us, &old_stats) < 0 ||
        run_series(t, n, q, SIZE_WORST, "tree-proof-all-ones-size", us, &worst_stats) < 0)
        return 1;

    /* 3. one O(n) proof as the baseline, which must equal the stored tree's */
    index = below(n);
    t0 = now_us();
    r = merkle_inclusion_proof(get_leaf, NULL, index, n, base, &blen);
    base_us = now_us() - t0;
    if (r < 0) {
        fprintf(stderr, "bench-proof: merkle_inclusion_proof: %s\n", strerror(-r));
        return 1;
    }
    r = merkle_tree_inclusion_proof(t, index, n, proof, &len);
    if (r < 0 || len != blen || memcmp(proof, base, len * H) != 0) {
        fprintf(stderr, "bench-proof: the O(n) and stored-tree proofs of %" PRIu64 " differ\n",
                index);
        return 1;
    }
    printf("RESULT name=linear-proof leaves=%" PRIu64 " us=%.0f ratio_to_tree_p50=%.0f "
           "ratio_to_older_p50=%.0f ratio_to_all_ones_p50=%.0f\n",
           n, base_us, base_us / now_stats.p50, base_us / old_stats.p50, base_us / worst_stats.p50);

    merkle_tree_free(t);
    free(leaves);
    free(us);
    return 0;
}
