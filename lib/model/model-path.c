/* SPDX-License-Identifier: Apache-2.0 */
#include "model-path.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "model-limits.h"

/* Length of the UTF-8 sequence at s[0..n), or 0 if it is not a valid (shortest-form) one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool model_path_is_canonical(const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t comp = 0; /* start of the current component */

    if (!p || len == 0 || len > MODEL_MAX_PATH)
        return false;
    for (size_t i = 0; i <= len;) {
        if (i == len || s[i] == '/') {
            size_t n = i - comp;

            if (n == 0 || (n == 1 && s[comp] == '.') ||
                (n == 2 && s[comp] == '.' && s[comp + 1] == '.'))
                return false;
            if (i == len)
                break;
            comp = ++i;
            continue;
        }
        if (s[i] < 0x20 || s[i] == 0x7f)
            return false;
        size_t k = utf8_seq(s + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

int model_path_normalize(const char *in, char **ret)
{
    _cleanup_free_ char *out = NULL;
    size_t inlen, o = 0;
    const char *p;

    if (!in || !ret)
        return -EINVAL;
    inlen = strlen(in);
    if (inlen == 0 || in[0] == '/')
        return -EINVAL;
    if (inlen > 2 * MODEL_MAX_PATH)
        return -ENAMETOOLONG;
    out = malloc(inlen + 1);
    if (!out)
        return -ENOMEM;
    p = in;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);

        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    out[o] = '\0';
    if (o > MODEL_MAX_PATH)
        return -ENAMETOOLONG;
    if (!model_path_is_canonical(out, o))
        return -EINVAL;
    *ret = TAKE_PTR(out);
    return 0;
}

int model_path_compare(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    for (;;) {
        /* The end of a component ('/' or the end of the path) sorts before any byte. */
        bool xe = *x == '\0' || *x == '/', ye = *y == '\0' || *y == '/';

        if (xe || ye) {
            if (!xe)
                return 1; /* b's component is a prefix of a's */
            if (!ye)
                return -1;
            /* Both components ended: fewer components first. */
            if (*x == '\0' || *y == '\0')
                return (*x == '\0' ? 0 : 1) - (*y == '\0' ? 0 : 1);
            x++;
            y++;
            continue;
        }
        if (*x != *y)
            return *x < *y ? -1 : 1;
        x++;
        y++;
    }
}

bool model_path_within(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
