/* SPDX-License-Identifier: Apache-2.0 */
/* format: RFC 4648 known answers, strict base64 decoding, hex, outputs written only on success. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)
#define POISON_LEN ((size_t)0xdeadbeef)

/* RFC 4648 section 10 test vectors. */
static const struct {
    const char *raw, *b64, *hex;
} rfc4648[] = {
        {"", "", ""},
        {"f", "Zg==", "66"},
        {"fo", "Zm8=", "666f"},
        {"foo", "Zm9v", "666f6f"},
        {"foob", "Zm9vYg==", "666f6f62"},
        {"fooba", "Zm9vYmE=", "666f6f6261"},
        {"foobar", "Zm9vYmFy", "666f6f626172"},
};

static void test_base64_encode_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char *s = NULL;
        assert_int_equal(base64_encode((const uint8_t *)rfc4648[i].raw, strlen(rfc4648[i].raw), &s),
                         0);
        assert_string_equal(s, rfc4648[i].b64);
        free(s);
    }
}

static void test_base64_decode_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        uint8_t *d = NULL;
        size_t n = 0, slen = strlen(rfc4648[i].b64);
        assert_int_equal(base64_decode(rfc4648[i].b64, slen, &d, &n), 0);
        assert_non_null(d);
        assert_int_equal(n, strlen(rfc4648[i].raw));
        assert_memory_equal(d, rfc4648[i].raw, n);
        assert_true(n <= base64_decoded_max(slen));
        free(d);
    }
}

static void test_base64_all_bytes_roundtrip(void **state)
{
    uint8_t in[300];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    /* Every length 0..300 exercises all three tail cases and every byte value. */
    for (size_t len = 0; len <= sizeof(in); len++) {
        char *s = NULL;
        uint8_t *d = NULL;
        size_t n = 0;

        assert_int_equal(base64_encode(in, len, &s), 0);
        assert_int_equal(strlen(s), (len + 2) / 3 * 4);
        assert_int_equal(base64_decode(s, strlen(s), &d, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(d, in, len);
        assert_true(n <= base64_decoded_max(strlen(s)));
        free(s);
        free(d);
    }
}

static void test_base64_whitespace(void **state)
{
    static const struct {
        const char *in, *want;
    } ok[] = {
            {"  Zm9vYmFy  ", "foobar"},
            {"Zm9v\nYmFy\n", "foobar"},
            {"Zm9v\r\nYmFy\r\n", "foobar"},
            {"\tZm 9v Ym Fy", "foobar"},
            {"Zm9vYg==\n\n", "foob"},
            {"Zm9vYg= =", "foob"},
            {"\v\f", ""},
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint8_t *d = NULL;
        size_t n = POISON_LEN;
        assert_int_equal(base64_decode(ok[i].in, strlen(ok[i].in), &d, &n), 0);
        assert_int_equal(n, strlen(ok[i].want));
        assert_memory_equal(d, ok[i].want, n);
        free(d);
    }
}

static void test_base64_decode_errors(void **state)
{
    static const char *bad[] = {
            "Zg",          /* missing padding */
            "Zg=",         /* short padding */
            "Zm9vY",       /* not a multiple of four */
            "Zh==",        /* non-zero trailing bits (one byte) */
            "Zm9=",        /* non-zero trailing bits (two bytes) */
            "Zg==Zg==",    /* data after padding */
            "Zg==A",       /* data after padding */
            "Z===",        /* three padding characters */
            "====",        /* padding only */
            "=Zg=",        /* padding first */
            "Zm=v",        /* padding inside a quad */
            "Zm9v!A==",    /* invalid character */
            "Zm9-YmFy",    /* URL-safe alphabet is not accepted */
            "Zm9_YmFy",    /* URL-safe alphabet is not accepted */
            "Zm9v\x80mFy", /* high byte */
    };
    uint8_t *d = POISON_PTR;
    size_t n = POISON_LEN;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(base64_decode(bad[i], strlen(bad[i]), &d, &n), -EINVAL);
        assert_ptr_equal(d, POISON_PTR);
        assert_int_equal(n, POISON_LEN);
    }
    /* An embedded NUL is just another invalid character, not an end of input. */
    assert_int_equal(base64_decode("Zm9v\0mFy", 8, &d, &n), -EINVAL);
    assert_int_equal(base64_decode("Zm9vYmFy\0", 9, &d, &n), -EINVAL);
    assert_ptr_equal(d, POISON_PTR);
    assert_int_equal(n, POISON_LEN);
}

static void test_base64_decode_uses_slen(void **state)
{
    uint8_t *d = NULL;
    size_t n = 0;

    /* Only slen characters count: the rest of the string is not looked at. */
    assert_int_equal(base64_decode("Zm9vYmFy!!!", 8, &d, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(d, "foobar", 6);
    free(d);
    assert_int_equal(base64_decode("Zm9vYmFy", 4, &d, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "foo", 3);
    free(d);
}

static void test_base64_decoded_max(void **state)
{
    assert_int_equal(base64_decoded_max(0), 0);
    assert_int_equal(base64_decoded_max(3), 0);
    assert_int_equal(base64_decoded_max(4), 3);
    assert_int_equal(base64_decoded_max(8), 6);
    assert_int_equal(base64_decoded_max(11), 6);
    assert_true(base64_decoded_max(SIZE_MAX) <= SIZE_MAX / 4 * 3);
}

static void test_hex_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char *s = NULL;
        uint8_t *d = NULL;
        size_t n = POISON_LEN;

        assert_int_equal(hex_encode((const uint8_t *)rfc4648[i].raw, strlen(rfc4648[i].raw), &s),
                         0);
        assert_string_equal(s, rfc4648[i].hex);
        assert_int_equal(hex_decode(s, strlen(s), &d, &n), 0);
        assert_non_null(d);
        assert_int_equal(n, strlen(rfc4648[i].raw));
        assert_memory_equal(d, rfc4648[i].raw, n);
        free(s);
        free(d);
    }
}

static void test_hex_all_bytes(void **state)
{
    uint8_t in[256], *d = NULL;
    char *s = NULL;
    size_t n = 0;

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    assert_int_equal(hex_encode(in, sizeof(in), &s), 0);
    assert_int_equal(strlen(s), 512);
    assert_memory_equal(s, "000102", 6);
    assert_string_equal(s + 500, "fafbfcfdfeff");
    assert_int_equal(hex_decode(s, strlen(s), &d, &n), 0);
    assert_int_equal(n, sizeof(in));
    assert_memory_equal(d, in, sizeof(in));
    free(s);
    free(d);
}

static void test_hex_decode_case(void **state)
{
    static const uint8_t want[] = {0xde, 0xad, 0xbe, 0xef};
    uint8_t *d = NULL;
    size_t n = 0;

    assert_int_equal(hex_decode("DEADbeef", 8, &d, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(d, want, 4);
    free(d);
}

static void test_hex_decode_errors(void **state)
{
    static const char *bad[] = {"0", "abc", "zz", "0x12", "12 34", "1g", " 12", "12\n"};
    uint8_t *d = POISON_PTR;
    size_t n = POISON_LEN;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(hex_decode(bad[i], strlen(bad[i]), &d, &n), -EINVAL);
        assert_ptr_equal(d, POISON_PTR);
        assert_int_equal(n, POISON_LEN);
    }
    assert_int_equal(hex_decode("12\0"
                                "4",
                                4, &d, &n),
                     -EINVAL);
    assert_ptr_equal(d, POISON_PTR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_base64_encode_vectors),
            cmocka_unit_test(test_base64_decode_vectors),
            cmocka_unit_test(test_base64_all_bytes_roundtrip),
            cmocka_unit_test(test_base64_whitespace),
            cmocka_unit_test(test_base64_decode_errors),
            cmocka_unit_test(test_base64_decode_uses_slen),
            cmocka_unit_test(test_base64_decoded_max),
            cmocka_unit_test(test_hex_vectors),
            cmocka_unit_test(test_hex_all_bytes),
            cmocka_unit_test(test_hex_decode_case),
            cmocka_unit_test(test_hex_decode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
