/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C2SP tlog-checkpoint note text (c2sp.org/tlog-checkpoint, FORMATS 7.2):
 *   origin\n  tree-size\n  base64(root)\n  [extension\n]...
 * Strict parsing and formatting of the text only; the signatures around it are note.h's.
 * Pure: no I/O, no logging. 0 on success, -errno on failure, ret_* written only on success:
 *   -EINVAL malformed text or NULL argument; -EMSGSIZE over a CHECKPOINT_MAX_* limit;
 *   -ENOMEM allocation failure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"

#define CHECKPOINT_MAX_TEXT       (16u * 1024u) /* bytes of the whole checkpoint text */
#define CHECKPOINT_MAX_ORIGIN     256u          /* bytes of the origin line */
#define CHECKPOINT_MAX_EXTENSIONS 16u           /* extension lines */
#define CHECKPOINT_MAX_EXTENSION  1024u         /* bytes of one extension line */

struct checkpoint {
    char *origin; /* NUL-terminated, without '\n' */
    uint64_t size;
    uint8_t root[MERKLE_HASH_SIZE];
    char **extensions; /* n_extensions NUL-terminated lines, without '\n' */
    size_t n_extensions;
};

/*
 * Parses checkpoint text (the note text, ending in '\n'). Requires: valid note text
 * (note_text_valid); a non-empty origin (any characters: clients must not assume the
 * recommended URL form, and Rekor v1 origins contain spaces); the size in ASCII decimal with
 * no sign and no leading zero (only "0" itself), at most UINT64_MAX; the root as standard
 * padded base64 of exactly 32 bytes; then only non-empty extension lines.
 */
int checkpoint_parse(const char *text, size_t len, struct checkpoint **ret);
struct checkpoint *checkpoint_free(struct checkpoint *c);
static inline void checkpoint_freep(struct checkpoint **c)
{
    *c = checkpoint_free(*c);
}

/*
 * Formats checkpoint text into a new NUL-terminated string (*ret_len excludes the NUL). What
 * we emit follows the recommendation: the origin must be a valid note key name (non-empty, no
 * Unicode space, no '+'); extensions must be non-empty lines of valid text without '\n'.
 * n_extensions may be 0 (extensions then may be NULL).
 */
int checkpoint_format(const char *origin, uint64_t size,
                      const uint8_t root[static MERKLE_HASH_SIZE], const char *const *extensions,
                      size_t n_extensions, char **ret, size_t *ret_len);
