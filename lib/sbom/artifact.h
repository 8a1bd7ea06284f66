/* SPDX-License-Identifier: Apache-2.0 */
/*
 * artifact: files and ML model directories as SBOM components, with their hashes.
 *
 * A file (--artifact) is hashed with SHA-256 and SHA-1 in one streaming pass (bounded memory;
 * SPDX 2.3 requires a SHA1 checksum on every file). A model (--model DIR) is the set of files
 * lib/model's walk selects the way OpenSSF model signing does (FORMATS.md §6.3: regular files
 * below DIR, the git paths .git, .gitattributes, .github and .gitignore ignored, symbolic links
 * refused), each hashed with SHA-256 and SHA-1; the model's digest is lib/model's manifest root
 * for the "files" serialisation (SHA-256 over the concatenated raw SHA-256 digests in
 * model-signing order), so it equals the subject digest of a model-signing statement of DIR.
 *
 * Limits: those of lib/model (model-limits.h: MODEL_MAX_RESOURCES files, MODEL_MAX_DEPTH
 * levels, MODEL_MAX_PATH). Errors: -errno of the I/O; a model the walk refuses a path of is
 * -ELOOP (symbolic link), -EILSEQ (a name that is not valid text) or -EBADFD (a FIFO, socket
 * or device); -ESTALE when a file changed between walk and hashing; -ENOMEM.
 */
#pragma once

#include <stdint.h>

#include "model-walk.h"
#include "sbom.h"

/* SHA-256 and SHA-1 of everything readable from fd. -errno, -ENOTRECOVERABLE (OpenSSL). */
int artifact_hash_fd(int fd, uint8_t ret_sha256[static SBOM_SHA256_LEN],
                     uint8_t ret_sha1[static SBOM_SHA1_LEN]);

/* Hashes the regular file at path (symlinks followed, as for any file a user names) and adds
 * it as SBOM_KIND_FILE component called name. */
int artifact_add_file(struct sbom *s, const char *path, const char *name);

/*
 * Walks and hashes the model directory dir and adds it as SBOM_KIND_MODEL called name. On
 * failure diag (may be NULL) names the model-relative path concerned.
 */
int artifact_add_model(struct sbom *s, const char *dir, const char *name, struct model_diag *diag);
