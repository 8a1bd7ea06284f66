/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logrec_scan on arbitrary file images, with a callback that re-encodes every record it is
 * given: a record the scanner accepts must re-encode to exactly its body bytes (the encoding is
 * canonical) and carry seq == its index, and its chain must equal logrec_chain over the
 * previous chain. The results obey the contract: ret_end <= size; 0 means every byte after
 * ret_end is a torn tail (or none); the scan of the prefix [0, ret_end) is clean with the same
 * count and chain. The input is also decoded as one bare body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logrec.h"
#include "macro.h"
#include "sbuf.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-logrec: check failed at line %d: %s\n", __LINE__, #x);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    uint64_t n;
    uint8_t prev[LOGREC_HASH];
};

static int cb(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
              const uint8_t chain[static LOGREC_HASH])
{
    struct state *s = ctx;
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(LOGREC_MAX_BODY);
    uint8_t want[LOGREC_HASH];

    CHECK(r->seq == s->n);
    if (!b)
        return -ENOMEM;
    CHECK(logrec_encode_body(r, b) == 0);
    CHECK(sbuf_len(b) == body_len && memcmp(sbuf_ptr(b), body, body_len) == 0);
    CHECK(logrec_chain(s->prev, body, body_len, want) == 0);
    CHECK(memcmp(want, chain, LOGREC_HASH) == 0);
    memcpy(s->prev, chain, LOGREC_HASH);
    s->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state s = {0};
    uint8_t chain[LOGREC_HASH], chain2[LOGREC_HASH];
    uint64_t count, count2;
    size_t end, end2;
    bool torn, torn2;
    int r;

    {
        struct logrec *rec = NULL;
        if (logrec_decode_body(data, size, &rec) == 0)
            logrec_free(rec);
    }

    r = logrec_scan(data, size, cb, &s, &end, &count, chain, &torn);
    if (r == -ENOMEM)
        return 0;
    CHECK(r == 0 || r == -EBADMSG);
    CHECK(end <= size && count == s.n);
    CHECK(memcmp(chain, s.prev, LOGREC_HASH) == 0);
    if (r == 0)
        CHECK(torn == (end < size));
    else
        CHECK(!torn);
    if (end >= LOGREC_MAGIC_LEN) {
        /* The valid prefix is a clean log on its own. */
        r = logrec_scan(data, end, NULL, NULL, &end2, &count2, chain2, &torn2);
        CHECK(r == 0 && end2 == end && count2 == count && !torn2);
        CHECK(memcmp(chain, chain2, LOGREC_HASH) == 0);
    }
    return 0;
}
