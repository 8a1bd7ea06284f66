/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hashing a walked model (model-walk.h) into its manifest (model-manifest.h): SHA-256 of every
 * file ("files") or of every shard of every file ("shards"), in parallel.
 *
 * Work: one job per file, or per shard, so the shards serialization also spreads one huge file
 * over all threads. Jobs run longest first (so the last big file does not start at the end) on
 * a fixed pool of POSIX threads that take the next job from a shared, bounded list (at most
 * MODEL_MAX_RESOURCES jobs, counted before anything is allocated: -EMSGSIZE). Each thread
 * streams its job through one MODEL_HASH_CHUNK buffer with pread() and OpenSSL EVP (SHA-NI
 * where the CPU has it), so memory stays at threads x MODEL_HASH_CHUNK whatever the model
 * size. Files are reopened relative to the model directory and must still be the file the
 * walk saw, with the same size before and after (-ESTALE otherwise: a model that changes
 * while it is signed is not signed).
 *
 * Why pread() and not mmap(): from the page cache both cost the kernel about the same here
 * (a copy at ~8 GB/s against page-table work for every 4 KiB page; measured, docs/models.md),
 * and a file truncated under a mapping raises SIGBUS in the caller instead of an error return.
 *
 * Progress: cfg->progress (may be NULL) is called from the calling thread, never from a worker,
 * about every MODEL_PROGRESS_INTERVAL_MS with the bytes hashed so far and the total, and once
 * more with done == total on success.
 *
 * Errors: the first failing job's -errno (-ESTALE, read errors), with diag (may be NULL) naming
 * its path; -EMSGSIZE over a limit; -EINVAL bad arguments; -ENOMEM; -EAGAIN when no thread
 * could be started. Outputs are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model-manifest.h"
#include "model-walk.h"

typedef void (*model_progress_fn)(uint64_t done, uint64_t total, void *userdata);

struct model_hash_config {
    struct model_serialization ser; /* method, shard size, allow_symlinks (recorded) */
    /* shards only: an empty file gets the empty shard "<path>:0:0", as model_signing after
     * 1.1.x records it; otherwise (1.1.x, the default) it has no shard. */
    bool shard_empty_files;
    unsigned threads; /* 0: the online CPUs; capped at MODEL_MAX_THREADS and the job count */
    model_progress_fn progress;
    void *userdata;
};

/* The number of threads model_hash would use for cfg->threads (0 -> online CPUs). */
unsigned model_hash_threads(unsigned threads);

/*
 * Hash the files of t into a new sorted manifest named model_name that records ignore (the
 * ignore paths the walk applied, canonical; see model_manifest_new).
 */
int model_hash(const struct model_tree *t, const char *model_name, const char *const *ignore,
               size_t n_ignore, const struct model_hash_config *cfg, struct model_manifest **ret,
               struct model_diag *diag);
