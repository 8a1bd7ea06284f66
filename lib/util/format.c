/* SPDX-License-Identifier: Apache-2.0 */
#include "format.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const char hex_digits[] = "0123456789abcdef";
static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoded value of a base64 character, -1 for anything outside the alphabet. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Decoders may see secret material (keys, PINs): wipe what a failed decode leaves behind. */
static void wipe_free(uint8_t *p, size_t len)
{
    if (!p)
        return;
    explicit_bzero(p, len);
    free(p);
}

int hex_encode(const uint8_t *data, size_t len, char **ret)
{
    size_t n;
    char *s;

    if (!size_mul(len, 2, &n) || !size_add(n, 1, &n))
        return -ENOMEM;
    s = malloc(n);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = hex_digits[data[i] >> 4];
        s[2 * i + 1] = hex_digits[data[i] & 0xf];
    }
    s[2 * len] = '\0';
    *ret = s;
    return 0;
}

int hex_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len)
{
    uint8_t *d;
    size_t n = slen / 2;

    if (slen % 2 != 0)
        return -EINVAL;
    /* Never malloc(0): a zero-length result is still a valid, freeable buffer. */
    d = malloc(n ? n : 1);
    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            wipe_free(d, n ? n : 1);
            return -EINVAL;
        }
        d[i] = (uint8_t)(hi << 4 | lo);
    }
    *ret = d;
    *ret_len = n;
    return 0;
}

int base64_encode(const uint8_t *data, size_t len, char **ret)
{
    size_t groups = len / 3 + (len % 3 != 0), n, o = 0, i = 0;
    char *s;

    if (!size_mul(groups, 4, &n) || !size_add(n, 1, &n))
        return -ENOMEM;
    s = malloc(n);
    if (!s)
        return -ENOMEM;
    for (; len - i >= 3; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        s[o++] = b64_alphabet[v >> 18 & 0x3f];
        s[o++] = b64_alphabet[v >> 12 & 0x3f];
        s[o++] = b64_alphabet[v >> 6 & 0x3f];
        s[o++] = b64_alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        s[o++] = b64_alphabet[v >> 18 & 0x3f];
        s[o++] = b64_alphabet[v >> 12 & 0x3f];
        s[o++] = '=';
        s[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        s[o++] = b64_alphabet[v >> 18 & 0x3f];
        s[o++] = b64_alphabet[v >> 12 & 0x3f];
        s[o++] = b64_alphabet[v >> 6 & 0x3f];
        s[o++] = '=';
    }
    s[o] = '\0';
    *ret = s;
    return 0;
}

size_t base64_decoded_max(size_t slen)
{
    /* Whitespace is skipped and significant characters come in groups of four. */
    return slen / 4 * 3;
}

int base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len)
{
    size_t cap = base64_decoded_max(slen), o = 0;
    uint32_t quad = 0;
    unsigned nq = 0;   /* characters in the current quad, including padding */
    unsigned npad = 0; /* '=' seen in the current quad */
    bool done = false; /* a padded quad was completed: only whitespace may follow */
    uint8_t *d;

    d = malloc(cap ? cap : 1);
    if (!d)
        return -ENOMEM;

    for (size_t i = 0; i < slen; i++) {
        char c = s[i];
        int v;

        if (is_ascii_space(c))
            continue;
        if (done)
            goto invalid;
        if (c == '=') {
            /* Padding may only fill the last one or two positions of a quad. */
            if (nq < 2)
                goto invalid;
            npad++;
            nq++;
            quad <<= 6;
        } else {
            v = b64_value(c);
            if (v < 0 || npad > 0)
                goto invalid;
            quad = quad << 6 | (uint32_t)v;
            nq++;
        }
        if (nq < 4)
            continue;

        /* One full quad: 24 bits, of which 3 - npad bytes are data. */
        if (npad == 2 && (quad & 0xffff) != 0)
            goto invalid;
        if (npad == 1 && (quad & 0xff) != 0)
            goto invalid;
        d[o++] = (uint8_t)(quad >> 16);
        if (npad < 2)
            d[o++] = (uint8_t)(quad >> 8);
        if (npad < 1)
            d[o++] = (uint8_t)quad;
        done = npad > 0;
        quad = 0;
        nq = npad = 0;
    }
    if (nq != 0)
        goto invalid;

    *ret = d;
    *ret_len = o;
    return 0;

invalid:
    wipe_free(d, cap ? cap : 1);
    return -EINVAL;
}
