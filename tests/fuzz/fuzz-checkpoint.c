/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint_parse on arbitrary bytes. Whatever is accepted stays within the limits and, when
 * its origin is one we would emit (a valid key name), re-formats to exactly the input: the
 * grammar is canonical (no leading zeros, strict base64), so parse and format are inverses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "macro.h"
#include "note.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-checkpoint: check failed at line %d: %s\n", __LINE__, #x);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(checkpoint_freep) struct checkpoint *c = NULL;
    _cleanup_free_ char *out = NULL;
    size_t len = 0;
    int r;

    r = checkpoint_parse((const char *)data, size, &c);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE);
        CHECK(!c);
        return 0;
    }
    CHECK(size <= CHECKPOINT_MAX_TEXT && c->n_extensions <= CHECKPOINT_MAX_EXTENSIONS);
    CHECK(strlen(c->origin) > 0 && strlen(c->origin) <= CHECKPOINT_MAX_ORIGIN);
    r = checkpoint_format(c->origin, c->size, c->root, (const char *const *)c->extensions,
                          c->n_extensions, &out, &len);
    if (!note_name_valid(c->origin, strlen(c->origin))) {
        CHECK(r == -EINVAL);
        return 0;
    }
    CHECK(r == 0);
    CHECK(len == size && memcmp(out, data, size) == 0);
    return 0;
}
