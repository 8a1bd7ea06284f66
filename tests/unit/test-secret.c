/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret: copies, NUL-terminated views, bounded append, constant-time compare, and the secure
 * heap (secrets really land in it, the arena is returned on free, exhaustion is -ENOMEM).
 * The heap tests come last: the heap is process-wide and cannot be torn down while in use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "secret.h"

static void test_new_copies(void **state)
{
    char pin[] = "123456";
    _cleanup_(secret_freep) struct secret *s = secret_new(pin, 6);

    assert_non_null(s);
    memset(pin, 'x', 6); /* the secret owns a copy */
    assert_int_equal(secret_len(s), 6);
    assert_memory_equal(secret_data(s), "123456", 6);
    assert_string_equal(secret_str(s), "123456");
    assert_ptr_equal(secret_str(s), (const char *)secret_data(s));
}

static void test_new_empty(void **state)
{
    _cleanup_(secret_freep) struct secret *a = secret_new(NULL, 0);
    _cleanup_(secret_freep) struct secret *b = secret_new("ignored", 0);

    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(secret_len(a), 0);
    assert_string_equal(secret_str(a), "");
    assert_string_equal(secret_str(b), "");
}

static void test_new_binary_is_terminated(void **state)
{
    static const uint8_t raw[] = {0xff, 0x00, 0x41};
    _cleanup_(secret_freep) struct secret *s = secret_new(raw, sizeof(raw));

    assert_non_null(s);
    assert_int_equal(secret_len(s), 3);
    assert_memory_equal(secret_data(s), raw, 3);
    assert_int_equal(secret_data(s)[3], 0); /* NUL after len bytes */
}

static void test_new_overflow(void **state)
{
    /* len + 1 for the terminator would overflow: refused, never a tiny allocation. */
    assert_null(secret_new("x", SIZE_MAX));
}

static void test_append(void **state)
{
    _cleanup_(secret_freep) struct secret *s = secret_new("12", 2);
    const uint8_t *before;

    assert_non_null(s);
    before = secret_data(s);
    assert_int_equal(secret_append(s, "34", 2, 8), 0);
    assert_int_equal(secret_len(s), 4);
    assert_string_equal(secret_str(s), "1234");
    assert_ptr_not_equal(secret_data(s), before); /* moved to a new block, old one wiped */
    assert_int_equal(secret_append(s, "5678", 4, 8), 0);
    assert_string_equal(secret_str(s), "12345678");
    assert_int_equal(secret_append(s, "", 0, 8), 0);
    assert_int_equal(secret_len(s), 8);
}

static void test_append_max(void **state)
{
    _cleanup_(secret_freep) struct secret *s = secret_new("1234", 4);

    assert_non_null(s);
    assert_int_equal(secret_append(s, "5", 1, 4), -EMSGSIZE);
    assert_int_equal(secret_append(s, "56789", 5, 4), -EMSGSIZE);
    assert_int_equal(secret_append(s, "x", SIZE_MAX, SIZE_MAX), -EMSGSIZE); /* overflow */
    assert_int_equal(secret_len(s), 4);
    assert_string_equal(secret_str(s), "1234");
    assert_int_equal(secret_append(s, "5", 1, 5), 0);
    assert_string_equal(secret_str(s), "12345");
}

static void test_equal(void **state)
{
    assert_true(secret_equal("abc", 3, "abc", 3));
    assert_false(secret_equal("abc", 3, "abd", 3));
    assert_false(secret_equal("abc", 3, "xbc", 3));
    assert_false(secret_equal("abc", 3, "abcd", 4));
    assert_false(secret_equal("abc", 3, "ab", 2));
    assert_true(secret_equal("", 0, "", 0));
    assert_true(secret_equal(NULL, 0, NULL, 0));
    assert_true(secret_equal("a\0b", 3, "a\0b", 3));
    assert_false(secret_equal("a\0b", 3, "a\0c", 3));
}

static void test_wipe(void **state)
{
    char buf[16];

    memset(buf, 'A', sizeof(buf));
    secret_wipe(buf + 4, 8);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], i >= 4 && i < 12 ? 0 : 'A');
    secret_wipe(NULL, 0);
    secret_wipe(buf, 0);
}

static void test_free_null(void **state)
{
    assert_null(secret_free(NULL));
    assert_null(secret_free(secret_new("x", 1)));
}

static void test_heap_init_invalid(void **state)
{
    /* OpenSSL aborts on a size that is not a power of two: refused before it gets there. */
    assert_int_equal(secret_heap_init(0), -EINVAL);
    assert_int_equal(secret_heap_init(SECRET_HEAP_MIN_SIZE - 1), -EINVAL);
    assert_int_equal(secret_heap_init(SECRET_HEAP_MIN_SIZE / 2), -EINVAL);
    assert_int_equal(secret_heap_init(3 * SECRET_HEAP_MIN_SIZE), -EINVAL);
    assert_int_equal(secret_heap_init((size_t)SECRET_HEAP_MAX_SIZE * 2), -EINVAL);
    assert_int_equal(secret_heap_init(SIZE_MAX), -EINVAL);
    assert_false(CRYPTO_secure_malloc_initialized());
}

static void test_heap(void **state)
{
    size_t used;
    int r;

    r = secret_heap_init(SECRET_HEAP_MIN_SIZE);
    if (r == -EPERM) {
        /* mlock refused (RLIMIT_MEMLOCK): the arena must not stay up pretending to protect. */
        assert_false(CRYPTO_secure_malloc_initialized());
        skip();
    }
    assert_int_equal(r, 0);
    assert_true(CRYPTO_secure_malloc_initialized());
    assert_int_equal(secret_heap_init(SECRET_HEAP_MIN_SIZE), -EALREADY);

    used = CRYPTO_secure_used();
    {
        _cleanup_(secret_freep) struct secret *s = secret_new("2468", 4);
        assert_non_null(s);
        assert_true(CRYPTO_secure_allocated(secret_data(s)));
        assert_int_equal(secret_append(s, "1357", 4, 64), 0);
        assert_true(CRYPTO_secure_allocated(secret_data(s)));
        assert_string_equal(secret_str(s), "24681357");
        assert_true(CRYPTO_secure_used() > used);
    }
    /* Every block went back to the arena: append did not leak the old one. */
    assert_int_equal(CRYPTO_secure_used(), used);
}

static void test_heap_exhausted(void **state)
{
    _cleanup_(secret_freep) struct secret *s = NULL;

    if (!CRYPTO_secure_malloc_initialized())
        skip();
    /* The secure heap never falls back to unprotected memory. */
    assert_null(secret_new("x", SECRET_HEAP_MIN_SIZE));
    s = secret_new("abc", 3);
    assert_non_null(s);
    assert_int_equal(secret_append(s, "x", SECRET_HEAP_MIN_SIZE, SIZE_MAX - 8), -ENOMEM);
    assert_int_equal(secret_len(s), 3);
    assert_string_equal(secret_str(s), "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_new_copies),
            cmocka_unit_test(test_new_empty),
            cmocka_unit_test(test_new_binary_is_terminated),
            cmocka_unit_test(test_new_overflow),
            cmocka_unit_test(test_append),
            cmocka_unit_test(test_append_max),
            cmocka_unit_test(test_equal),
            cmocka_unit_test(test_wipe),
            cmocka_unit_test(test_free_null),
            cmocka_unit_test(test_heap_init_invalid),
            cmocka_unit_test(test_heap),
            cmocka_unit_test(test_heap_exhausted),
            /* The basics again, now on the secure heap. */
            cmocka_unit_test(test_new_copies),
            cmocka_unit_test(test_new_empty),
            cmocka_unit_test(test_append),
            cmocka_unit_test(test_append_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
