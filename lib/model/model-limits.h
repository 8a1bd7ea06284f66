/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named limits and constants of lib/model (STYLE 13), all in one place. Every count or size a
 * model directory or a signed model manifest can influence is checked against one of these
 * before anything is allocated for it.
 *
 * Memory: hashing holds one MODEL_HASH_CHUNK buffer per thread (at most MODEL_MAX_THREADS), so
 * at most 2 MiB of buffers whatever the model size; the walk
 * and the manifest hold one entry per file or shard (at most MODEL_MAX_RESOURCES, with names of at
 * most MODEL_MAX_NAMES_TOTAL bytes together). A manifest that is signed must also fit one in-toto
 * Statement (INTOTO_MAX_STATEMENT, lib/format/format-limits.h), which is the tighter bound in
 * practice.
 */
#pragma once

#include <stdint.h>

/* The OpenSSF model-signing v1.0 predicate (FORMATS 6.2). */
#define MODEL_PREDICATE_TYPE "https://model_signing/signature/v1.0"
#define MODEL_HASH_TYPE      "sha256" /* the only hash_type we compute and accept */
#define MODEL_SIGNATURE_NAME "model.sig"

/* Default shard size of the "shards" serialization (model_signing's default, 10^9 bytes). */
#define MODEL_DEFAULT_SHARD_SIZE UINT64_C(1000000000)
/*
 * Largest shard size: shard offsets and sizes travel as JSON numbers, which other tools read as
 * IEEE doubles, so everything stays below 2^53.
 */
#define MODEL_MAX_SHARD_SIZE ((UINT64_C(1) << 53) - 1)

#define MODEL_MAX_RESOURCES   65536u                /* files or shards in one manifest or walk */
#define MODEL_MAX_PATH        4096u                 /* bytes of one model-relative path */
#define MODEL_MAX_NAMES_TOTAL (16u * 1024u * 1024u) /* bytes of all paths of one walk */
#define MODEL_MAX_DEPTH       64u                   /* directory levels below the model root */
#define MODEL_MAX_IGNORE      256u                  /* ignore paths (given and recorded) */
#define MODEL_MAX_THREADS     32u                   /* hashing threads */
/*
 * Read buffer of one hashing thread. Small on purpose: a buffer that stays in the core's L2
 * cache between the kernel's copy and SHA-256 hashes page-cached files ~12% faster than 1 MiB
 * (tests/bench/bench-model.sh); read-ahead, not the buffer, sizes the disk I/O.
 */
#define MODEL_HASH_CHUNK (64u * 1024u)
#define MODEL_MAX_DIFF   MODEL_MAX_RESOURCES /* entries of a manifest comparison */

/* How often the hashing progress callback runs (milliseconds). */
#define MODEL_PROGRESS_INTERVAL_MS 200u
