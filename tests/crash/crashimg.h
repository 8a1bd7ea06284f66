/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Power-loss crash images of one file, computed from an ioshim trace (tests/crash/ioshim.h).
 * Format-agnostic: it works on bytes, offsets, sizes and syncs, never on what the bytes mean.
 *
 * Model. The trace is replayed in order. A successful fsync/fdatasync on the file is a
 * durability point: everything recorded before it (data and size) is on disk. Crash point k
 * (k = 0 .. number of successful syncs) is the window after the k-th sync (k = 0: after the
 * trace began, with the initial snapshot durable) and before the next one. In that window
 * the disk holds D_k (the durable state) plus any part of the mutating operations issued in
 * the window (o_1 .. o_m, with C_0 = D_k and C_j the file after o_1 .. o_j). The images of a
 * crash point are:
 *
 *   CLEAN        C_0 .. C_m: a prefix of the window's operations fully on disk (C_m only
 *                when no sync follows: otherwise it is the next point's C_0);
 *   TORN_SHORT   o_j torn at 512 B or 4 KiB (file-offset aligned units): the first i units of
 *                the write on disk, the rest not, and the file size ending after the last
 *                unit on disk (never below the size before the write);
 *   TORN_ZERO    the same units on disk, but the size already extended to the end of the
 *                write: the units not on disk read as before (zero beyond the old size);
 *                i = 0 is "size updated, data not written";
 *   SUBSET       a seeded random subset of o_j's units on disk with at least one unit missing
 *                before a unit present (a hole), size extended (even variants) or ending after
 *                the last unit present (odd variants);
 *   SHORT_TAIL   C_m cut at a seeded random byte offset after the acknowledged prefix.
 *
 * A unit not on disk keeps its old bytes (C_{j-1}; zero beyond C_{j-1}'s size): sectors are
 * atomic, so a sector that held durable bytes keeps them. Truncations and fallocate calls are
 * atomic (applied in the CLEAN prefixes that include them, or not).
 *
 * acked_len of a crash point is the longest common prefix of D_k and every C_j: bytes that are
 * durable and that the writer keeps whatever it does next. Whatever the writer acknowledged
 * before the crash (after a sync returned) lies in it. Every image of the point starts with
 * it, and a correct recovery keeps it and adds nothing the writer did not write: its result is
 * a prefix of some C_j that is at least acked_len long.
 *
 * Bounds (per crash point, named below): all CLEAN states; per write and unit size at most
 * CRASHIMG_MAX_CUTS cut points (all when fewer, else evenly spread, first and last included);
 * CRASHIMG_SUBSETS_512 / _4096 random subsets; CRASHIMG_SHORT_TAILS short tails; at most
 * CRASHIMG_MAX_PER_POINT distinct images (duplicates are counted and skipped). The random
 * choices of crash point k depend only on the seed and k.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioshim.h"

#define CRASHIMG_MAX_TRACE       (512u * 1024u * 1024u) /* trace file size read */
#define CRASHIMG_MAX_FILE        (64u * 1024u * 1024u)  /* modelled file size */
#define CRASHIMG_MAX_WINDOW_OPS  256u  /* mutating operations between two syncs (-E2BIG) */
#define CRASHIMG_SECTOR          512u  /* torn-write unit: a disk sector */
#define CRASHIMG_BLOCK           4096u /* torn-write unit: a filesystem block / page */
#define CRASHIMG_MAX_CUTS        16u   /* cut points per write and unit size */
#define CRASHIMG_SUBSETS_512     6u    /* random holed subsets per write, 512-byte units */
#define CRASHIMG_SUBSETS_4096    3u    /* random holed subsets per write, 4 KiB units */
#define CRASHIMG_SHORT_TAILS     3u    /* byte-granular short tails per crash point */
#define CRASHIMG_MAX_PER_POINT   96u   /* distinct images per crash point */
#define CRASHIMG_SUBSET_ATTEMPTS 8u    /* draws to find a subset with a hole */

enum crashimg_kind {
    CRASHIMG_CLEAN,
    CRASHIMG_TORN_SHORT,
    CRASHIMG_TORN_ZERO,
    CRASHIMG_SUBSET,
    CRASHIMG_SHORT_TAIL,
    CRASHIMG_KIND_MAX,
};

/* "clean", "torn-short", ... ("?" for an unknown kind). */
const char *crashimg_kind_name(enum crashimg_kind k);

struct crashimg_trace;

/*
 * Read and validate a trace: header, record sizes, sequence numbers, offsets and sizes under
 * CRASHIMG_MAX_FILE, data present for writes. -EBADMSG for a malformed or truncated trace or
 * one with IOSHIM_OP_LOST (the shim missed something), -EOPNOTSUPP for an fallocate mode the
 * model does not know, -EFBIG over the limits, -errno reading. err gets a one-line reason.
 */
int crashimg_trace_load(const char *path, struct crashimg_trace **ret, char *err, size_t errlen);
struct crashimg_trace *crashimg_trace_free(struct crashimg_trace *t);
void crashimg_trace_freep(struct crashimg_trace **t);

struct crashimg_trace_stats {
    uint64_t records;
    uint64_t writes, write_bytes, truncates, fallocates;
    uint64_t syncs;       /* successful fsync/fdatasync: durability points */
    uint64_t failed;      /* calls that returned an error (no effect in the model) */
    uint64_t sync_ranges; /* sync_file_range: recorded, not durability points */
    uint64_t opens, dups, closes;
    uint64_t max_window_ops; /* most mutating operations between two syncs */
    uint64_t calls[IOSHIM_CALL_MAX];
};
void crashimg_trace_stats(const struct crashimg_trace *t, struct crashimg_trace_stats *ret);
/* Name of an enum ioshim_call ("write", "fdatasync", ...). */
const char *crashimg_call_name(uint32_t call);

/* The file after every operation (what a clean shutdown leaves). Owned copy. */
int crashimg_final(const struct crashimg_trace *t, uint8_t **ret, size_t *ret_len);

struct crashimg_point {
    uint64_t index;              /* k */
    size_t nstates;              /* m + 1 */
    const uint8_t *const *state; /* C_0 (= D_k) .. C_m */
    const size_t *state_len;
    size_t acked_len;
};

struct crashimg_image {
    const struct crashimg_point *point;
    enum crashimg_kind kind;
    uint32_t unit;    /* 512 or 4096 (TORN_*, SUBSET), 1 (SHORT_TAIL), 0 (CLEAN) */
    uint32_t op;      /* j: the operation torn, or the CLEAN state index */
    uint32_t variant; /* cut point, subset or tail number */
    const uint8_t *data;
    size_t len;
};

struct crashimg_params {
    uint64_t seed;
    uint32_t max_cuts, subsets_512, subsets_4096, short_tails, max_per_point;
};
void crashimg_params_default(struct crashimg_params *ret);
/* A smaller budget for slow (sanitizer) builds: every crash point, fewer images per point. */
#define CRASHIMG_QUICK_CUTS         4u
#define CRASHIMG_QUICK_SUBSETS_512  2u
#define CRASHIMG_QUICK_SUBSETS_4096 1u
#define CRASHIMG_QUICK_SHORT_TAILS  1u
void crashimg_params_quick(struct crashimg_params *ret);

struct crashimg_stats {
    uint64_t points, images, duplicates, capped;
    uint64_t by_kind[CRASHIMG_KIND_MAX];
};

/*
 * Calls cb once per distinct image of every crash point, in order of k. The image and point
 * are valid only during the call. A negative return from cb stops and is returned. 0 or
 * -errno (-ENOMEM, -E2BIG when a window has more than CRASHIMG_MAX_WINDOW_OPS operations);
 * ret_stats (may be NULL) is written on success.
 */
typedef int (*crashimg_cb)(void *ctx, const struct crashimg_image *img);
int crashimg_generate(const struct crashimg_trace *t, const struct crashimg_params *p,
                      crashimg_cb cb, void *ctx, struct crashimg_stats *ret_stats);
