/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest of a model in the OpenSSF model-signing v1.0 format (FORMATS 6.2): the model's
 * name, how it was serialised, the ignore paths and one resource per file ("files") or per
 * shard of a file ("shards"), each with the SHA-256 of its bytes. Pure functions, no I/O.
 *
 * Resources: "files" names each regular file by its canonical model-relative path
 * (model-path.h), algorithm "sha256", and includes empty files (SHA-256 of nothing). "shards"
 * cuts each file at 0, S, 2S, ..., its size (S = shard_size) and names each piece
 * "<path>:<start>:<end>" (end exclusive, decimal), algorithm "sha256-sharded-<S>". Empty files
 * have no shard in model_signing 1.1.x (what we emit); later model_signing versions record an
 * empty file as the one empty shard "<path>:0:0" (digest SHA-256 of nothing), which parsing
 * accepts so such signatures verify too (model-hash.h, shard_empty_files). model_manifest_sort()
 * orders resources by (path in component order, start, end), numerically, as model_signing does,
 * and refuses duplicates.
 *
 * Root digest: SHA-256 over the concatenated raw 32-byte digests of the resources in their
 * current order (SHA-256 of nothing for none). The in-toto Statement names the model by its
 * root: subject [{"name": model name, "digest": {"sha256": root}}].
 *
 * Statement (model_manifest_statement): the manifest must be sorted; the bytes are built
 * deterministically (lib/format intoto_statement_build: no whitespace, member order fixed):
 *   {"_type": "https://in-toto.io/Statement/v1",
 *    "subject": [{"name": NAME, "digest": {"sha256": ROOT}}],
 *    "predicateType": "https://model_signing/signature/v1.0",
 *    "predicate": {"serialization": {"method", "hash_type": "sha256", ["shard_size": S,]
 *                                    "allow_symlinks", ["ignore_paths": [...]]},
 *                  "resources": [{"name", "algorithm", "digest": lower-case hex}, ...]}}
 * shard_size is a JSON integer; ignore_paths is present when non-empty, sorted, no duplicates.
 *
 * Parsing (model_manifest_from_statement), for verification, after the signature verified:
 * predicate type exactly MODEL_PREDICATE_TYPE (-EINVAL otherwise) and exactly one subject;
 * "serialization" and "resources" required, other predicate members ignored (v1.0 verifiers
 * must); method "files" or "shards" and hash_type "sha256" (anything else -EOPNOTSUPP);
 * allow_symlinks a boolean; shard_size (shards only) a positive integer up to
 * MODEL_MAX_SHARD_SIZE, also accepted as an integral JSON double such as 1000000000.0, which
 * model_signing's protobuf Struct emits; ignore_paths strings that normalise to canonical
 * paths; each resource's name canonical (shards: path, start a multiple of S, start < end <=
 * start + S, or the empty shard 0:0), its algorithm the one its serialization produces, its digest
 * 64 hex digits; no duplicate names. The listed order is kept (the root is over it) and must hash
 * to the subject's sha256, else -EBADMSG ("manifest inconsistent"). Limits: MODEL_MAX_RESOURCES
 * resources, MODEL_MAX_IGNORE ignore paths (-EMSGSIZE).
 *
 * Comparison (model_manifest_compare) reports per file, in component order: "modified" (in
 * both, content differs: a file digest, or any shard digest or the shard layout), "missing"
 * (signed, not found) and "extra" (found, not signed).
 *
 * Errors: -EINVAL malformed or bad arguments, -EMSGSIZE over a limit, -EOPNOTSUPP, -EBADMSG,
 * -EEXIST (duplicate resource), -ENOMEM. Outputs are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model-limits.h"

struct intoto_statement;

enum model_method {
    MODEL_METHOD_FILES = 1,
    MODEL_METHOD_SHARDS = 2,
};

struct model_serialization {
    enum model_method method;
    uint64_t shard_size; /* shards: 1..MODEL_MAX_SHARD_SIZE; ignored for files */
    bool allow_symlinks;
};

/* One resource (read-only view, borrowed from the manifest). */
struct model_resource {
    const char *name; /* the manifest identifier: path, or "path:start:end" */
    const char *path; /* the file's canonical model-relative path */
    uint64_t start;   /* shards: the byte range [start, end); files: 0 and 0 */
    uint64_t end;
    uint8_t digest[32];
};

struct model_manifest;

/* The default git paths model_signing ignores: ".git", ".gitattributes", ".github",
 * ".gitignore" (n = 4). */
extern const char *const model_git_paths[];
#define MODEL_N_GIT_PATHS 4u

/*
 * New empty manifest. model_name: the subject name, 1..INTOTO_MAX_NAME bytes of UTF-8 (the
 * final component of the model directory's path, see model_name_from_dir). ignore: canonical
 * paths recorded as ignore_paths (copied, sorted, duplicates dropped).
 */
int model_manifest_new(const char *model_name, const struct model_serialization *s,
                       const char *const *ignore, size_t n_ignore, struct model_manifest **ret);
struct model_manifest *model_manifest_free(struct model_manifest *m); /* NULL-safe */
void model_manifest_freep(struct model_manifest **m);

/*
 * Append a resource: path canonical; for shards [start, end) one shard of its file (start a
 * multiple of the shard size, start < end <= start + shard size, or 0:0 for an empty file), for
 * files start = end = 0.
 */
int model_manifest_add(struct model_manifest *m, const char *path, uint64_t start, uint64_t end,
                       const uint8_t digest[static 32]);
/* Sort the resources (see above); -EEXIST if two have the same name. */
int model_manifest_sort(struct model_manifest *m);

const char *model_manifest_name(const struct model_manifest *m);
const struct model_serialization *model_manifest_serialization(const struct model_manifest *m);
size_t model_manifest_n_ignore(const struct model_manifest *m);
const char *model_manifest_ignore(const struct model_manifest *m, size_t i); /* NULL if out */
size_t model_manifest_n_resources(const struct model_manifest *m);
const struct model_resource *model_manifest_resource(const struct model_manifest *m, size_t i);
/* Whether some resource belongs to the file path. The manifest must be sorted. */
bool model_manifest_has_path(const struct model_manifest *m, const char *path);
/* Whether some shard is the empty shard of an empty file ("<path>:0:0"). */
bool model_manifest_has_empty_shards(const struct model_manifest *m);
/* Number of distinct files among the resources (sorted manifest). */
size_t model_manifest_n_files(const struct model_manifest *m);
/* The "algorithm" string of the resources: "sha256" or "sha256-sharded-<S>" (NUL-terminated,
 * into buf of size >= 64). */
int model_manifest_algorithm(const struct model_manifest *m, char *buf, size_t size);

/* Root digest over the resources in their current order. 0 or -ENOMEM. */
int model_manifest_root(const struct model_manifest *m, uint8_t ret[static 32]);

/* The in-toto Statement of a sorted manifest (see above); -EMSGSIZE when it exceeds
 * INTOTO_MAX_STATEMENT. *ret is NUL-terminated, *ret_len excludes the NUL. */
int model_manifest_statement(const struct model_manifest *m, char **ret, size_t *ret_len);

/* The manifest a verified statement signs (see above); the result keeps the listed order. */
int model_manifest_from_statement(const struct intoto_statement *st, struct model_manifest **ret);

/*
 * The model name model_signing derives from a directory path: its final component, trailing
 * slashes ignored; for "", "." or ".." (or a path ending so) the final component of resolved
 * (the caller's realpath() of dir, may be NULL otherwise). -EINVAL if no name results.
 */
int model_name_from_dir(const char *dir, const char *resolved, char **ret);

enum model_diff_kind {
    MODEL_DIFF_MODIFIED = 1,
    MODEL_DIFF_MISSING = 2, /* signed, not present */
    MODEL_DIFF_EXTRA = 3,   /* present, not signed */
};

struct model_diff_entry {
    const char *path;
    enum model_diff_kind kind;
};

struct model_diff;

/* Both manifests sorted and with the same method (and shard size), else -EINVAL. */
int model_manifest_compare(const struct model_manifest *expected,
                           const struct model_manifest *actual, struct model_diff **ret);
struct model_diff *model_diff_free(struct model_diff *d); /* NULL-safe */
void model_diff_freep(struct model_diff **d);
size_t model_diff_count(const struct model_diff *d);
const struct model_diff_entry *model_diff_entry(const struct model_diff *d, size_t i);
/* Entries of one kind. */
size_t model_diff_count_kind(const struct model_diff *d, enum model_diff_kind kind);
