/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbuf under a sequence of operations chosen by the input itself: the first byte picks an
 * owned (bounded, writable) buffer or a read-only view of the input, then each op byte is read
 * from the buffer with sbuf_get_u8 and selects the next get/peek/consume/put. After every step
 * a model of the readable bytes checks the result code, the bytes returned and that failed
 * operations consumed nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

#define FUZZ_SBUF_MAX   4096u /* limit of the owned buffer */
#define FUZZ_SBUF_STEPS 1024u /* operations per input */

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-sbuf: check failed at line %d: %s\n", __LINE__, #x);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What a length-prefixed getter must return for the bytes in snap. */
static int expect_string(const uint8_t *snap, size_t len, size_t max, bool text)
{
    uint32_t n;

    if (len < 4)
        return -EBADMSG;
    n = be32(snap);
    if (n > max)
        return -EMSGSIZE;
    if (len - 4 < n)
        return -EBADMSG;
    if (text && memchr(snap + 4, 0, n))
        return -EBADMSG;
    return 0;
}

static void step(struct sbuf *b, bool readonly, uint8_t op, uint8_t *snap)
{
    size_t len = sbuf_len(b), n;
    uint8_t out[64];
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    int r = 0, want;

    memcpy(snap, sbuf_ptr(b), len);
    switch (op % 12) {
    case 0:
        r = sbuf_get_u8(b, out);
        CHECK(r == (len >= 1 ? 0 : -EBADMSG));
        if (r == 0)
            CHECK(out[0] == snap[0]);
        break;
    case 1:
        r = sbuf_get_u32(b, &u32);
        CHECK(r == (len >= 4 ? 0 : -EBADMSG));
        if (r == 0)
            CHECK(u32 == be32(snap));
        break;
    case 2:
        r = sbuf_get_u64(b, &u64);
        CHECK(r == (len >= 8 ? 0 : -EBADMSG));
        if (r == 0)
            CHECK(u64 == ((uint64_t)be32(snap) << 32 | be32(snap + 4)));
        break;
    case 3:
        r = sbuf_peek_u32(b, &u32);
        CHECK(r == (len >= 4 ? 0 : -EBADMSG));
        CHECK(sbuf_len(b) == len);
        if (r == 0)
            CHECK(u32 == be32(snap));
        return;
    case 4: {
        const uint8_t *p = NULL;
        size_t max = op & 0x80 ? SIZE_MAX : op, got = 0;
        r = sbuf_get_string_direct(b, max, &p, &got);
        CHECK(r == expect_string(snap, len, max, false));
        if (r == 0) {
            CHECK(got <= max);
            CHECK(memcmp(p, snap + 4, got) == 0);
            CHECK(sbuf_len(b) == len - 4 - got);
            return;
        }
        break;
    }
    case 5: {
        char *s = NULL;
        size_t max = op & 0x80 ? SIZE_MAX : op;
        r = sbuf_get_cstring(b, max, &s);
        want = expect_string(snap, len, max, true);
        CHECK(r == want);
        if (r == 0) {
            n = be32(snap);
            CHECK(strlen(s) == n && memcmp(s, snap + 4, n) == 0);
            CHECK(sbuf_len(b) == len - 4 - n);
            free(s);
            return;
        }
        break;
    }
    case 6: {
        char buf[64];
        size_t cap = op % sizeof(buf);
        r = sbuf_get_cstring_buf(b, buf, cap);
        want = cap == 0 ? -EMSGSIZE : expect_string(snap, len, cap - 1, true);
        CHECK(r == want);
        if (r == 0) {
            n = be32(snap);
            CHECK(strlen(buf) == n && memcmp(buf, snap + 4, n) == 0);
            CHECK(sbuf_len(b) == len - 4 - n);
            return;
        }
        break;
    }
    case 7:
        n = op >> 4;
        r = sbuf_consume(b, n);
        CHECK(r == (n <= len ? 0 : -EBADMSG));
        if (r == 0) {
            CHECK(sbuf_len(b) == len - n);
            CHECK(memcmp(sbuf_ptr(b), snap + n, len - n) == 0);
            return;
        }
        break;
    case 8:
        n = op >> 4;
        r = sbuf_consume_end(b, n);
        CHECK(r == (n <= len ? 0 : -EBADMSG));
        if (r == 0) {
            CHECK(sbuf_len(b) == len - n);
            CHECK(memcmp(sbuf_ptr(b), snap, len - n) == 0);
            return;
        }
        break;
    case 9:
        n = op >> 3;
        r = sbuf_get(b, out, n);
        CHECK(r == (n <= len ? 0 : -EBADMSG));
        if (r == 0)
            CHECK(memcmp(out, snap, n) == 0);
        break;
    case 10:
        /* Re-append the op byte and its neighbours: exercises growth and compaction. */
        n = op >> 3;
        memset(out, op, n);
        r = sbuf_put(b, out, n);
        if (readonly)
            CHECK(n == 0 ? r == 0 : r < 0);
        else
            CHECK(r == (n <= FUZZ_SBUF_MAX - len ? 0 : -EMSGSIZE));
        if (r == 0 && n > 0) {
            CHECK(sbuf_len(b) == len + n);
            CHECK(memcmp(sbuf_ptr(b), snap, len) == 0);
            CHECK(memcmp(sbuf_ptr(b) + len, out, n) == 0);
            return;
        }
        break;
    case 11:
        n = op >> 4;
        r = sbuf_poke_u32(b, n, 0x01020304u);
        if (readonly)
            CHECK(r == -EROFS);
        else
            CHECK(r == (n + 4 <= len ? 0 : -EBADMSG));
        if (r == 0) {
            CHECK(sbuf_len(b) == len);
            CHECK(memcmp(sbuf_ptr(b) + n, "\x01\x02\x03\x04", 4) == 0);
            return;
        }
        break;
    }
    if (r < 0) {
        /* A failure consumes and changes nothing. */
        CHECK(sbuf_len(b) == len);
        CHECK(memcmp(sbuf_ptr(b), snap, len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t snap[FUZZ_SBUF_MAX > 1 ? FUZZ_SBUF_MAX : 1];
    struct sbuf *b;
    bool readonly;

    if (size < 1 || size - 1 > FUZZ_SBUF_MAX)
        return 0;
    readonly = data[0] & 1;
    if (readonly)
        b = sbuf_from(data + 1, size - 1);
    else {
        b = sbuf_new(FUZZ_SBUF_MAX);
        if (b && sbuf_put(b, data + 1, size - 1) < 0)
            abort();
    }
    if (!b)
        return 0;
    CHECK(sbuf_len(b) == size - 1);

    for (unsigned i = 0; i < FUZZ_SBUF_STEPS; i++) {
        uint8_t op;
        if (sbuf_get_u8(b, &op) < 0)
            break;
        step(b, readonly, op, snap);
        CHECK(sbuf_len(b) <= sbuf_max(b));
        CHECK(readonly ? sbuf_avail(b) == 0 : sbuf_avail(b) == FUZZ_SBUF_MAX - sbuf_len(b));
    }
    CHECK((sbuf_expect_end(b) == 0) == (sbuf_len(b) == 0));
    sbuf_free(b);
    return 0;
}
