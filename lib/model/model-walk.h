/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The files of a model directory, as the OpenSSF model-signing format selects them (FORMATS
 * 6.3, model_signing 1.x semantics):
 *
 *   - the tree below the model directory is walked recursively; only regular files are hashed;
 *   - a path equal to or below an ignore path (canonical, model-relative, model-path.h) is
 *     skipped before it is even looked at, so an ignored directory is not descended into and an
 *     ignored symlink or special file is fine. The caller passes every ignore rule, including
 *     the default git paths and the signature file (model-manifest.h builds that list);
 *   - without allow_symlinks every symbolic link, the model directory itself included, is
 *     refused; with it a symlink is followed once: to a regular file (inside or outside the
 *     model) it is hashed under the symlink's own path, to a directory it is skipped (never
 *     descended into, as pathlib's "**" glob does, so loops cannot occur), and a dangling one
 *     is refused;
 *   - FIFOs, sockets and devices are refused; so are names that are not canonical (not UTF-8,
 *     control characters) since they cannot be signed faithfully.
 * Refusals do not stop the walk: every refused path is recorded (model_tree_refused) so a
 * signer can refuse the model and a verifier can name each offending file. I/O errors do stop
 * it.
 *
 * The walk keeps the model directory open. Files are opened again relative to it for hashing
 * (model_tree_open), and each must still be the same regular file (device and inode) the walk
 * saw: a file swapped in between is -ESTALE, never silently hashed.
 *
 * Limits: MODEL_MAX_RESOURCES files plus refusals, MODEL_MAX_NAMES_TOTAL bytes of paths,
 * MODEL_MAX_PATH bytes per path, MODEL_MAX_DEPTH directory levels (-EMSGSIZE, -ENAMETOOLONG,
 * -ELOOP). Errors: -errno of the failing system call, -ENOTDIR when the model is not a
 * directory, -ELOOP when the model directory is a symlink and symlinks are not allowed, -EINVAL
 * for bad arguments, -ENOMEM. Outputs are written only on success; diag (may be NULL) is filled
 * on failure with the model-relative path the error concerns ("." for the model directory, ""
 * when none).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model-limits.h"

/* Where an error happened (see above). */
struct model_diag {
    char path[MODEL_MAX_PATH + 1];
};

/* Why a path was refused. */
enum model_refusal {
    MODEL_REFUSED_SYMLINK = 1, /* a symbolic link, and symlinks are not allowed */
    MODEL_REFUSED_DANGLING,    /* a symbolic link to nothing (symlinks allowed) */
    MODEL_REFUSED_SPECIAL,     /* not a regular file or directory (FIFO, socket, device) */
    MODEL_REFUSED_NAME,        /* a name that is not valid UTF-8 or holds control characters */
};

struct model_walk_config {
    const char *const *ignore; /* canonical model-relative paths; n_ignore <= MODEL_MAX_IGNORE */
    size_t n_ignore;
    bool allow_symlinks;
};

/* One regular file of the walk (read-only view, borrowed from the tree). */
struct model_file {
    const char *path; /* canonical model-relative path */
    uint64_t size;
};

struct model_tree;

int model_walk(const char *dir, const struct model_walk_config *cfg, struct model_tree **ret,
               struct model_diag *diag);
struct model_tree *model_tree_free(struct model_tree *t); /* NULL-safe, returns NULL */
void model_tree_freep(struct model_tree **t);

/* The regular files, sorted in component order (model-path.h); i < n or NULL. */
size_t model_tree_n_files(const struct model_tree *t);
const struct model_file *model_tree_file(const struct model_tree *t, size_t i);
uint64_t model_tree_total_bytes(const struct model_tree *t); /* sum of the file sizes */

/* Refused paths, sorted in component order; the path for i < n (else NULL), and why. For
 * MODEL_REFUSED_NAME the path has each offending byte replaced by '?'. */
size_t model_tree_n_refused(const struct model_tree *t);
const char *model_tree_refused(const struct model_tree *t, size_t i, enum model_refusal *ret_why);

/*
 * Keep only the files and refusals for which keep(path, userdata) is true (e.g. a verifier that
 * ignores unsigned files). Order is kept; the total is recomputed.
 */
void model_tree_retain(struct model_tree *t, bool (*keep)(const char *path, void *userdata),
                       void *userdata);

/*
 * Open file i for reading (O_CLOEXEC; O_NOFOLLOW unless symlinks are allowed) relative to the
 * model directory. -ESTALE if it is gone or no longer the regular file the walk saw.
 * *ret_fd is the caller's to close.
 */
int model_tree_open(const struct model_tree *t, size_t i, int *ret_fd);
