/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret_source_validate on arbitrary specs (syntax only: nothing is opened or read). Accepted
 * specs are checked against an independent reading of the grammar in secret-source.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret-source.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-secret-source: check failed at line %d: %s\n", __LINE__, #x);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static void check_accepted(const char *s)
{
    const char *a;

    CHECK(strlen(s) <= SECRET_SOURCE_MAX_SPEC);
    if (starts(s, "file:")) {
        CHECK(s[5] == '/' && s[6] != '\0');
    } else if (starts(s, "fd:")) {
        uint64_t v = 0;
        a = s + 3;
        CHECK(*a != '\0' && strspn(a, "0123456789") == strlen(a));
        for (; *a; a++) {
            v = v * 10 + (uint64_t)(*a - '0');
            CHECK(v <= INT_MAX); /* saturates long before u64 could wrap */
        }
        CHECK(v >= 3);
    } else if (starts(s, "env:")) {
        a = s + 4;
        CHECK(*a != '\0' && !(*a >= '0' && *a <= '9'));
        CHECK(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
              strlen(a));
        CHECK(strlen(a) <= SECRET_SOURCE_MAX_NAME);
    } else if (starts(s, "credential:")) {
        a = s + 11;
        CHECK(*a != '\0' && strcmp(a, ".") != 0 && strcmp(a, "..") != 0);
        CHECK(!strchr(a, '/'));
        CHECK(strlen(a) <= SECRET_SOURCE_MAX_NAME);
    } else {
        CHECK(!"accepted an unknown scheme");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    int r;

    if (size > 2 * SECRET_SOURCE_MAX_SPEC)
        return 0;
    s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    r = secret_source_validate(s);
    CHECK(r == 0 || r == -EINVAL);
    if (r == 0)
        check_accepted(s);
    free(s);
    return 0;
}
