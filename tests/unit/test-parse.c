/* SPDX-License-Identifier: Apache-2.0 */
/* parse: strict numbers (no sign, space, hex), limits and overflow, durations, booleans, names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <hwsign/protocol.h>

#include "parse.h"

#define POISON64 0xdeadbeefdeadbeefull
#define POISON32 0xdeadbeefu

static void test_u64(void **state)
{
    static const struct {
        const char *s;
        uint64_t want;
    } ok[] = {
            {"0", 0},
            {"1", 1},
            {"007", 7},
            {"4294967296", 4294967296ull},
            {"18446744073709551615", UINT64_MAX},
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        v = POISON64;
        assert_int_equal(parse_u64(ok[i].s, UINT64_MAX, &v), 0);
        assert_true(v == ok[i].want);
    }
}

static void test_u64_errors(void **state)
{
    static const char *bad[] = {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "abc", "１"};
    uint64_t v = POISON64;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_u64(bad[i], UINT64_MAX, &v) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(parse_u64(NULL, UINT64_MAX, &v), -EINVAL);
    /* Overflow of 64 bits, and values over the caller's limit. */
    assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
    assert_int_equal(parse_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
    assert_int_equal(parse_u64("101", 100, &v), -ERANGE);
    assert_int_equal(parse_u64("1", 0, &v), -ERANGE);
    assert_true(v == POISON64);
    assert_int_equal(parse_u64("100", 100, &v), 0);
    assert_true(v == 100);
}

static void test_u32(void **state)
{
    uint32_t v = POISON32;

    assert_int_equal(parse_u32("4294967296", UINT32_MAX, &v), -ERANGE);
    assert_int_equal(parse_u32("65536", 65535, &v), -ERANGE);
    assert_int_equal(parse_u32("-0", UINT32_MAX, &v), -EINVAL);
    assert_int_equal(v, POISON32);
    assert_int_equal(parse_u32("4294967295", UINT32_MAX, &v), 0);
    assert_int_equal(v, UINT32_MAX);
    assert_int_equal(parse_u32("0", 0, &v), 0);
    assert_int_equal(v, 0);
}

static void test_duration(void **state)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {
            {"250ms", 250},
            {"5s", 5000},
            {"2m", 120000},
            {"7", 7000},
            {"0", 0},
            {"0ms", 0},
            {"18446744073709551615ms", UINT64_MAX},
    };
    static const char *bad[] = {
            "", "ms", "s", "5 s", " 5s", "5S", "5h", "5sec", "5ms ", "-5s", "+5s", "1.5s", "5mss",
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        v = POISON64;
        assert_int_equal(parse_duration_ms(ok[i].s, &v), 0);
        assert_true(v == ok[i].ms);
    }
    v = POISON64;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_duration_ms(bad[i], &v) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(parse_duration_ms(NULL, &v), -EINVAL);
    /* Multiplying up to milliseconds overflows. */
    assert_int_equal(parse_duration_ms("18446744073709551615s", &v), -ERANGE);
    assert_int_equal(parse_duration_ms("307445734561825861m", &v), -ERANGE);
    assert_int_equal(parse_duration_ms("99999999999999999999ms", &v), -ERANGE);
    assert_true(v == POISON64);
}

static void test_bool(void **state)
{
    static const char *yes[] = {"yes", "true", "on", "1", "Yes", "TRUE"};
    static const char *no[] = {"no", "false", "off", "0", "No", "OFF"};
    static const char *bad[] = {"", "y", "n", "2", "yes ", " no", "enable", "truee", "01"};
    bool v;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        v = false;
        assert_int_equal(parse_bool(yes[i], &v), 0);
        assert_true(v);
        v = true;
        assert_int_equal(parse_bool(no[i], &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* Poison both ways: neither value may be written on failure. */
        v = true;
        assert_int_equal(parse_bool(bad[i], &v), -EINVAL);
        assert_true(v);
        v = false;
        assert_int_equal(parse_bool(bad[i], &v), -EINVAL);
        assert_false(v);
    }
    assert_int_equal(parse_bool(NULL, &v), -EINVAL);
}

static void test_name(void **state)
{
    static const char *good[] = {"a", "Z", "0", "release-key", "ci_key.v2", "a-", "a.", "A9_.-z"};
    static const char *bad[] = {
            "",    "-a",   ".a",  "_a", "..",  ".",    "a b",
            "a/b", "a\\b", "a:b", "é",  "a\n", "key*", "a\tb",
    };
    char name[HWSIGN_MAX_NAME + 2];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(name_is_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (name_is_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(name_is_valid(NULL));

    memset(name, 'k', sizeof(name));
    name[HWSIGN_MAX_NAME] = '\0';
    assert_true(name_is_valid(name));
    name[HWSIGN_MAX_NAME] = 'k';
    name[HWSIGN_MAX_NAME + 1] = '\0';
    assert_false(name_is_valid(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_u64),  cmocka_unit_test(test_u64_errors),
            cmocka_unit_test(test_u32),  cmocka_unit_test(test_duration),
            cmocka_unit_test(test_bool), cmocka_unit_test(test_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
