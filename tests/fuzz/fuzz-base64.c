/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64_decode on arbitrary bytes. The decoder is strict (padding required, zero trailing
 * bits), so every accepted input is canonical: re-encoding the result must give back the input
 * minus its whitespace, and decoding that must give the same bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define FUZZ_BASE64_MAX_INPUT (64u * 1024u)

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-base64: check failed at line %d: %s\n", __LINE__, #x);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    uint8_t *dec = NULL, *dec2 = NULL;
    size_t n = 0, n2 = 0, k = 0;
    char *enc = NULL;
    int r;

    if (size > FUZZ_BASE64_MAX_INPUT)
        return 0;
    r = base64_decode(in, size, &dec, &n);
    if (r < 0) {
        CHECK(r == -EINVAL);
        return 0;
    }
    CHECK(n <= base64_decoded_max(size));
    CHECK(base64_encode(dec, n, &enc) == 0);

    /* The encoding equals the input with whitespace removed. */
    for (size_t i = 0; i < size; i++) {
        if (is_space(data[i]))
            continue;
        CHECK(enc[k] == in[i]);
        k++;
    }
    CHECK(enc[k] == '\0');

    CHECK(base64_decode(enc, strlen(enc), &dec2, &n2) == 0);
    CHECK(n2 == n && memcmp(dec, dec2, n) == 0);
    free(dec);
    free(dec2);
    free(enc);
    return 0;
}
