/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbuf: limits, big-endian layout, failed gets consume nothing, compaction, read-only views,
 * allocation failures (malloc/calloc are wrapped) and allocation sizes bounded by real data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hwsign/protocol.h>

#include "sbuf.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)
#define POISON_LEN ((size_t)0xdeadbeef)
#define POISON_U32 0xdeadbeefu

/* Allocation hooks: fail the n-th next allocation, and record the largest one requested. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t nmemb, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t nmemb, size_t n);

static int fail_countdown = -1; /* -1: never; 0: the next allocation fails */
static size_t largest_alloc;

static bool should_fail(size_t n)
{
    if (n > largest_alloc)
        largest_alloc = n;
    if (fail_countdown < 0)
        return false;
    if (fail_countdown-- == 0)
        return true;
    return false;
}

void *__wrap_malloc(size_t n)
{
    return should_fail(n) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t nmemb, size_t n)
{
    return should_fail(nmemb * n) ? NULL : __real_calloc(nmemb, n);
}

static int reset_hooks(void **state)
{
    fail_countdown = -1;
    largest_alloc = 0;
    return 0;
}

static struct sbuf *new_with(size_t max, const void *data, size_t len)
{
    struct sbuf *b = sbuf_new(max);
    assert_non_null(b);
    assert_int_equal(sbuf_put(b, data, len), 0);
    return b;
}

static void test_integers_big_endian(void **state)
{
    static const uint8_t want[] = {0x12, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02,
                                   0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(64);
    uint8_t u8 = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;

    assert_int_equal(sbuf_put_u8(b, 0x12), 0);
    assert_int_equal(sbuf_put_u32(b, 0x01020304u), 0);
    assert_int_equal(sbuf_put_u64(b, 0x0102030405060708ull), 0);
    assert_int_equal(sbuf_len(b), sizeof(want));
    assert_memory_equal(sbuf_ptr(b), want, sizeof(want));

    assert_int_equal(sbuf_get_u8(b, &u8), 0);
    assert_int_equal(u8, 0x12);
    assert_int_equal(sbuf_peek_u32(b, &u32), 0);
    assert_int_equal(u32, 0x01020304u);
    assert_int_equal(sbuf_len(b), 12); /* peek consumes nothing */
    assert_int_equal(sbuf_get_u32(b, &u32), 0);
    assert_int_equal(u32, 0x01020304u);
    assert_int_equal(sbuf_get_u64(b, &u64), 0);
    assert_int_equal(u64, 0x0102030405060708ull);
    assert_int_equal(sbuf_expect_end(b), 0);
}

static void test_max_enforced(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(8);
    _cleanup_(sbuf_freep) struct sbuf *z = sbuf_new(0);
    _cleanup_(sbuf_freep) struct sbuf *s = sbuf_new(10);
    uint8_t *p = POISON_PTR;

    assert_int_equal(sbuf_max(b), 8);
    assert_int_equal(sbuf_put(b, "abcde", 5), 0);
    assert_int_equal(sbuf_put(b, "wxyz", 4), -EMSGSIZE);
    assert_int_equal(sbuf_len(b), 5);
    assert_int_equal(sbuf_put_u32(b, 1), -EMSGSIZE);
    assert_int_equal(sbuf_put_u64(b, 1), -EMSGSIZE);
    assert_int_equal(sbuf_reserve(b, 4, &p), -EMSGSIZE);
    assert_ptr_equal(p, POISON_PTR);
    assert_int_equal(sbuf_put(b, "xyz", 3), 0);
    assert_int_equal(sbuf_avail(b), 0);
    assert_int_equal(sbuf_put_u8(b, 1), -EMSGSIZE);
    assert_int_equal(sbuf_len(b), 8);
    assert_memory_equal(sbuf_ptr(b), "abcdexyz", 8);

    /* Consuming frees room under the limit again. */
    assert_int_equal(sbuf_consume(b, 3), 0);
    assert_int_equal(sbuf_avail(b), 3);
    assert_int_equal(sbuf_put(b, "123", 3), 0);
    assert_memory_equal(sbuf_ptr(b), "dexyz123", 8);

    assert_int_equal(sbuf_put(z, "", 0), 0);
    assert_int_equal(sbuf_put_u8(z, 1), -EMSGSIZE);
    assert_int_equal(sbuf_len(z), 0);

    /* A string that does not fit leaves no half-written length prefix behind. */
    assert_int_equal(sbuf_put_string(s, "1234567", 7), -EMSGSIZE);
    assert_int_equal(sbuf_len(s), 0);
    assert_int_equal(sbuf_put_string(s, "123456", 6), 0);
    assert_int_equal(sbuf_len(s), 10);
}

static void test_put_string_over_u32(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(SIZE_MAX);

    /* The length is refused before any byte of data is looked at. */
    assert_int_equal(sbuf_put_string(b, "x", (size_t)UINT32_MAX + 1), -EMSGSIZE);
    assert_int_equal(sbuf_len(b), 0);
}

static void test_get_past_end(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = new_with(16, "\x01\x02\x03", 3);
    uint8_t out[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
    uint32_t u32 = POISON_U32;
    uint64_t u64 = 0xdeadbeefdeadbeefull;
    uint8_t u8 = 0xaa;

    assert_int_equal(sbuf_get_u32(b, &u32), -EBADMSG);
    assert_int_equal(sbuf_peek_u32(b, &u32), -EBADMSG);
    assert_int_equal(u32, POISON_U32);
    assert_int_equal(sbuf_get_u64(b, &u64), -EBADMSG);
    assert_true(u64 == 0xdeadbeefdeadbeefull);
    assert_int_equal(sbuf_get(b, out, 4), -EBADMSG);
    assert_int_equal(out[0], 0xaa);
    assert_int_equal(sbuf_consume(b, 4), -EBADMSG);
    assert_int_equal(sbuf_consume_end(b, 4), -EBADMSG);
    assert_int_equal(sbuf_len(b), 3); /* nothing consumed by any failure */

    assert_int_equal(sbuf_get(b, out, 3), 0);
    assert_memory_equal(out, "\x01\x02\x03", 3);
    assert_int_equal(sbuf_get_u8(b, &u8), -EBADMSG);
    assert_int_equal(u8, 0xaa);
    assert_int_equal(sbuf_get(b, NULL, 0), 0);
    assert_int_equal(sbuf_consume(b, 0), 0);
}

static void test_get_null_outputs(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(64);

    assert_int_equal(sbuf_put(b, "0123456789abcdefghij", 20), 0);
    /* A NULL output skips the value but still consumes it. */
    assert_int_equal(sbuf_get_u8(b, NULL), 0);
    assert_int_equal(sbuf_get_u32(b, NULL), 0);
    assert_int_equal(sbuf_get_u64(b, NULL), 0);
    assert_int_equal(sbuf_get(b, NULL, 3), 0);
    assert_int_equal(sbuf_len(b), 4);
    assert_memory_equal(sbuf_ptr(b), "ghij", 4);
    assert_int_equal(sbuf_consume_end(b, 2), 0);
    assert_memory_equal(sbuf_ptr(b), "gh", 2);
    assert_int_equal(sbuf_expect_end(b), -EBADMSG);
}

static void test_string_direct(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(HWSIGN_MAX_MSG);
    const uint8_t *p = POISON_PTR;
    size_t len = POISON_LEN;

    assert_int_equal(sbuf_put_string(b, "hello", 5), 0);
    assert_int_equal(sbuf_put_string(b, NULL, 0), 0);

    /* Over the caller's maximum: -EMSGSIZE, nothing consumed, outputs untouched. */
    assert_int_equal(sbuf_get_string_direct(b, 4, &p, &len), -EMSGSIZE);
    assert_ptr_equal(p, POISON_PTR);
    assert_int_equal(len, POISON_LEN);
    assert_int_equal(sbuf_len(b), 13);

    assert_int_equal(sbuf_get_string_direct(b, 5, &p, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "hello", 5);
    assert_int_equal(sbuf_get_string_direct(b, 0, &p, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(sbuf_expect_end(b), 0);
}

static void test_string_truncated(void **state)
{
    /* Length 10 but only 3 bytes follow; then a length of 2^32 - 1 with nothing behind it. */
    _cleanup_(sbuf_freep) struct sbuf *b = new_with(64,
                                                    "\x00\x00\x00\x0a"
                                                    "abc",
                                                    7);
    _cleanup_(sbuf_freep) struct sbuf *h = new_with(64, "\xff\xff\xff\xff", 4);
    _cleanup_(sbuf_freep) struct sbuf *s = new_with(64, "\x00\x00", 2);
    const uint8_t *p = POISON_PTR;
    size_t len = POISON_LEN;

    assert_int_equal(sbuf_get_string_direct(b, 64, &p, &len), -EBADMSG);
    assert_int_equal(sbuf_len(b), 7);
    assert_int_equal(sbuf_get_string_direct(h, SIZE_MAX, &p, &len), -EBADMSG);
    assert_int_equal(sbuf_get_string_direct(h, 100, &p, &len), -EMSGSIZE);
    assert_int_equal(sbuf_get_string_direct(s, 100, &p, &len), -EBADMSG); /* short header */
    assert_ptr_equal(p, POISON_PTR);
    assert_int_equal(len, POISON_LEN);
    assert_int_equal(sbuf_len(h), 4);
}

static void test_cstring(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(HWSIGN_MAX_MSG);
    char *s = POISON_PTR;

    assert_int_equal(sbuf_put_cstring(b, "key-1"), 0);
    assert_int_equal(sbuf_put_cstring(b, NULL), 0);
    assert_int_equal(sbuf_len(b), 4 + 5 + 4);

    assert_int_equal(sbuf_get_cstring(b, 4, &s), -EMSGSIZE);
    assert_ptr_equal(s, POISON_PTR);
    assert_int_equal(sbuf_len(b), 13);
    assert_int_equal(sbuf_get_cstring(b, 5, &s), 0);
    assert_string_equal(s, "key-1");
    free(s);
    s = POISON_PTR;
    assert_int_equal(sbuf_get_cstring(b, 0, &s), 0);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(sbuf_expect_end(b), 0);
}

static void test_cstring_embedded_nul(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = new_with(64,
                                                    "\x00\x00\x00\x03"
                                                    "a\0b",
                                                    7);
    char buf[8];
    char *s = POISON_PTR;

    assert_int_equal(sbuf_get_cstring(b, 64, &s), -EBADMSG);
    assert_ptr_equal(s, POISON_PTR);
    assert_int_equal(sbuf_get_cstring_buf(b, buf, sizeof(buf)), -EBADMSG);
    assert_int_equal(sbuf_len(b), 7);
    /* The raw view does not care about NUL bytes. */
    assert_int_equal(sbuf_get_string_direct(b, 64, NULL, NULL), 0);
}

static void test_cstring_truncated_allocates_nothing_big(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = new_with(64,
                                                    "\x00\x00\xff\xff"
                                                    "abc",
                                                    7);
    _cleanup_(sbuf_freep) struct sbuf *h = new_with(64, "\xff\xff\xff\xff", 4);
    char *s = POISON_PTR;

    /* A peer declaring a long string must not make us allocate for bytes it never sent. */
    largest_alloc = 0;
    assert_int_equal(sbuf_get_cstring(b, HWSIGN_MAX_MSG, &s), -EBADMSG);
    assert_int_equal(sbuf_get_cstring(h, SIZE_MAX, &s), -EBADMSG);
    assert_true(largest_alloc < 64);
    assert_ptr_equal(s, POISON_PTR);
    assert_int_equal(sbuf_len(b), 7);
    assert_int_equal(sbuf_len(h), 4);
}

static void test_cstring_alloc_failure(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(64);
    char *s = POISON_PTR;

    assert_int_equal(sbuf_put_cstring(b, "abc"), 0);
    fail_countdown = 0;
    assert_int_equal(sbuf_get_cstring(b, 64, &s), -ENOMEM);
    assert_ptr_equal(s, POISON_PTR);
    assert_int_equal(sbuf_len(b), 7); /* still there to retry */
    assert_int_equal(sbuf_get_cstring(b, 64, &s), 0);
    assert_string_equal(s, "abc");
    free(s);
}

static void test_cstring_buf(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(64);
    char buf[8];

    assert_int_equal(sbuf_put_cstring(b, "hello"), 0);
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(sbuf_get_cstring_buf(b, buf, 5), -EMSGSIZE); /* no room for the NUL */
    assert_int_equal(sbuf_get_cstring_buf(b, buf, 0), -EMSGSIZE);
    assert_memory_equal(buf, "XXXXXXXX", 8);
    assert_int_equal(sbuf_len(b), 9);
    assert_int_equal(sbuf_get_cstring_buf(b, buf, 6), 0);
    assert_string_equal(buf, "hello");
    assert_int_equal(sbuf_expect_end(b), 0);
}

static void test_compaction_keeps_data(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(16);
    uint8_t out[8];

    assert_int_equal(sbuf_put(b, "0123456789ab", 12), 0);
    assert_int_equal(sbuf_get(b, out, 8), 0);
    assert_memory_equal(out, "01234567", 8);
    /* 4 bytes left at offset 8 of a 16-byte buffer: 10 more only fit after compaction. */
    assert_int_equal(sbuf_put(b, "ABCDEFGHIJ", 10), 0);
    assert_int_equal(sbuf_len(b), 14);
    assert_memory_equal(sbuf_ptr(b), "89abABCDEFGHIJ", 14);
}

static void test_stream_through_small_buffer(void **state)
{
    /* A writer and a reader of a counting byte stream through a buffer that keeps growing,
     * compacting and emptying: every byte must come out once and in order. */
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(1000);
    uint8_t chunk[257];
    unsigned wrote = 0, read = 0;

    for (unsigned round = 0; round < 500; round++) {
        size_t w = (round * 37) % sizeof(chunk), r = (round * 53) % sizeof(chunk);

        if (w > sbuf_avail(b))
            w = sbuf_avail(b);
        for (size_t i = 0; i < w; i++)
            chunk[i] = (uint8_t)(wrote + i);
        assert_int_equal(sbuf_put(b, chunk, w), 0);
        wrote += (unsigned)w;
        if (r > sbuf_len(b))
            r = sbuf_len(b);
        assert_int_equal(sbuf_get(b, chunk, r), 0);
        for (size_t i = 0; i < r; i++)
            assert_int_equal(chunk[i], (uint8_t)(read + i));
        read += (unsigned)r;
        assert_int_equal(sbuf_len(b), wrote - read);
        assert_true(sbuf_len(b) <= sbuf_max(b));
    }
    assert_true(wrote > 10000);
}

static void test_grow_to_max(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(1000);

    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(sbuf_put_u8(b, (uint8_t)i), 0);
    assert_int_equal(sbuf_put_u8(b, 0), -EMSGSIZE);
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(sbuf_ptr(b)[i], (uint8_t)i);
}

static void test_alloc_failure_changes_nothing(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    uint8_t big[300];

    fail_countdown = 0;
    assert_null(sbuf_new(64));
    fail_countdown = -1;

    b = sbuf_new(1000);
    assert_non_null(b);
    assert_int_equal(sbuf_put(b, "abc", 3), 0);
    memset(big, 'z', sizeof(big));
    fail_countdown = 0; /* growing past the first 256-byte block needs a new allocation */
    assert_int_equal(sbuf_put(b, big, sizeof(big)), -ENOMEM);
    assert_int_equal(sbuf_len(b), 3);
    assert_memory_equal(sbuf_ptr(b), "abc", 3);
    assert_int_equal(sbuf_put(b, big, sizeof(big)), 0);
    assert_int_equal(sbuf_len(b), 303);
}

static void test_from_is_read_only(void **state)
{
    static const uint8_t data[] = {0, 0, 0, 2, 'h', 'i', 0x7f};
    uint8_t copy[sizeof(data)];
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_from(data, sizeof(data));
    const uint8_t *p = NULL;
    uint8_t *w = POISON_PTR;
    size_t len = 0;

    memcpy(copy, data, sizeof(data));
    assert_non_null(b);
    assert_int_equal(sbuf_len(b), sizeof(data));
    assert_int_equal(sbuf_max(b), sizeof(data));
    assert_int_equal(sbuf_avail(b), 0);
    assert_ptr_equal(sbuf_ptr(b), data); /* a view, not a copy */
    assert_true(sbuf_put(b, "x", 1) < 0);
    assert_int_equal(sbuf_reserve(b, 1, &w), -EROFS);
    assert_ptr_equal(w, POISON_PTR);
    assert_int_equal(sbuf_poke_u32(b, 0, 7), -EROFS);
    assert_true(sbuf_put_u32(b, 7) < 0);
    assert_true(sbuf_put_cstring(b, "x") < 0);

    assert_int_equal(sbuf_get_string_direct(b, 2, &p, &len), 0);
    assert_ptr_equal(p, data + 4);
    assert_int_equal(len, 2);
    assert_int_equal(sbuf_consume_end(b, 1), 0);
    assert_int_equal(sbuf_expect_end(b), 0);
    assert_true(sbuf_put_u8(b, 1) < 0);
    sbuf_reset(b);
    assert_int_equal(sbuf_len(b), 0);
    assert_memory_equal(data, copy, sizeof(data)); /* never written, never wiped */
}

static void test_from_empty(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_from(NULL, 0);
    uint8_t u8 = 0xaa;

    assert_non_null(b);
    assert_int_equal(sbuf_len(b), 0);
    assert_non_null(sbuf_ptr(b));
    assert_int_equal(sbuf_get_u8(b, &u8), -EBADMSG);
    assert_int_equal(u8, 0xaa);
    assert_int_equal(sbuf_expect_end(b), 0);
}

static void test_poke(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(64);
    static const uint8_t want[] = {'x', 0, 0, 0, 5, 'y'};

    assert_int_equal(sbuf_put_u8(b, 'q'), 0);
    assert_int_equal(sbuf_put_u8(b, 'x'), 0);
    assert_int_equal(sbuf_put_u32(b, 0), 0);
    assert_int_equal(sbuf_put_u8(b, 'y'), 0);
    assert_int_equal(sbuf_consume(b, 1), 0);
    /* Offsets are relative to the head of readable data. */
    assert_int_equal(sbuf_poke_u32(b, 1, 5), 0);
    assert_memory_equal(sbuf_ptr(b), want, sizeof(want));
    assert_int_equal(sbuf_poke_u32(b, 3, 5), -EBADMSG);
    assert_int_equal(sbuf_poke_u32(b, 7, 5), -EBADMSG);
    assert_int_equal(sbuf_poke_u32(b, SIZE_MAX, 5), -EBADMSG);
    assert_memory_equal(sbuf_ptr(b), want, sizeof(want));
}

static void test_reserve(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(8);
    uint8_t *p = NULL;
    uint32_t v = 0;

    assert_int_equal(sbuf_reserve(b, 4, &p), 0);
    assert_non_null(p);
    assert_int_equal(sbuf_len(b), 4);
    memcpy(p, "\x00\x00\x01\x00", 4);
    assert_int_equal(sbuf_get_u32(b, &v), 0);
    assert_int_equal(v, 256);
    assert_int_equal(sbuf_reserve(b, 9, &p), -EMSGSIZE);
    assert_int_equal(sbuf_reserve(b, 8, NULL), 0);
    assert_int_equal(sbuf_len(b), 8);
}

static void test_reset(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(8);

    assert_int_equal(sbuf_put(b, "abcdefgh", 8), 0);
    assert_int_equal(sbuf_consume(b, 2), 0);
    sbuf_reset(b);
    assert_int_equal(sbuf_len(b), 0);
    assert_int_equal(sbuf_avail(b), 8);
    assert_int_equal(sbuf_put(b, "12345678", 8), 0);
    assert_memory_equal(sbuf_ptr(b), "12345678", 8);
}

static void test_free_null(void **state)
{
    assert_null(sbuf_free(NULL));
    struct sbuf *b = sbuf_new(4);
    assert_null(sbuf_free(b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup(test_integers_big_endian, reset_hooks),
            cmocka_unit_test_setup(test_max_enforced, reset_hooks),
            cmocka_unit_test_setup(test_put_string_over_u32, reset_hooks),
            cmocka_unit_test_setup(test_get_past_end, reset_hooks),
            cmocka_unit_test_setup(test_get_null_outputs, reset_hooks),
            cmocka_unit_test_setup(test_string_direct, reset_hooks),
            cmocka_unit_test_setup(test_string_truncated, reset_hooks),
            cmocka_unit_test_setup(test_cstring, reset_hooks),
            cmocka_unit_test_setup(test_cstring_embedded_nul, reset_hooks),
            cmocka_unit_test_setup(test_cstring_truncated_allocates_nothing_big, reset_hooks),
            cmocka_unit_test_setup(test_cstring_alloc_failure, reset_hooks),
            cmocka_unit_test_setup(test_cstring_buf, reset_hooks),
            cmocka_unit_test_setup(test_compaction_keeps_data, reset_hooks),
            cmocka_unit_test_setup(test_stream_through_small_buffer, reset_hooks),
            cmocka_unit_test_setup(test_grow_to_max, reset_hooks),
            cmocka_unit_test_setup(test_alloc_failure_changes_nothing, reset_hooks),
            cmocka_unit_test_setup(test_from_is_read_only, reset_hooks),
            cmocka_unit_test_setup(test_from_empty, reset_hooks),
            cmocka_unit_test_setup(test_poke, reset_hooks),
            cmocka_unit_test_setup(test_reserve, reset_hooks),
            cmocka_unit_test_setup(test_reset, reset_hooks),
            cmocka_unit_test_setup(test_free_null, reset_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
