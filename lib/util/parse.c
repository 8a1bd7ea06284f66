/* SPDX-License-Identifier: Apache-2.0 */
#include "parse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <hwsign/protocol.h>

#include "macro.h"

#define MS_PER_SECOND 1000u
#define MS_PER_MINUTE (60u * MS_PER_SECOND)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Digits [s, s + n) as a u64. Hand-rolled rather than strtoull, which accepts leading
 * whitespace, signs ("-1" wraps to UINT64_MAX) and a "0x" prefix.
 */
static int parse_digits(const char *s, size_t n, uint64_t *ret)
{
    uint64_t v = 0;

    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
            return -ERANGE;
    }
    *ret = v;
    return 0;
}

int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
    uint64_t v;
    int r;

    if (!s)
        return -EINVAL;
    r = parse_digits(s, strlen(s), &v);
    if (r < 0)
        return r;
    if (v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
    uint64_t v;
    int r = parse_u64(s, max, &v);

    if (r < 0)
        return r;
    *ret = (uint32_t)v;
    return 0;
}

int parse_duration_ms(const char *s, uint64_t *ret_ms)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {
            {"", MS_PER_SECOND}, /* a bare number counts seconds */
            {"ms", 1},
            {"s", MS_PER_SECOND},
            {"m", MS_PER_MINUTE},
    };
    uint64_t v, ms;
    size_t n = 0;
    int r;

    if (!s)
        return -EINVAL;
    while (is_digit(s[n]))
        n++;
    r = parse_digits(s, n, &v);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ELEMENTSOF(units); i++) {
        if (!streq(s + n, units[i].suffix))
            continue;
        if (__builtin_mul_overflow(v, units[i].ms, &ms))
            return -ERANGE;
        *ret_ms = ms;
        return 0;
    }
    return -EINVAL;
}

int parse_bool(const char *s, bool *ret)
{
    /* Case-insensitive: config files written by hand say "Yes" as often as "yes". */
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

bool name_is_valid(const char *s)
{
    size_t n;

    if (!s || !is_alnum(s[0]))
        return false;
    n = strnlen(s, HWSIGN_MAX_NAME + 1);
    if (n > HWSIGN_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    }
    return true;
}
