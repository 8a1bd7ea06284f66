/* SPDX-License-Identifier: Apache-2.0 */
/* C2SP tlog-checkpoint text (see checkpoint.h; FORMATS 7.2). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "format.h"
#include "macro.h"
#include "note.h"

#define CHECKPOINT_ROOT_B64_LEN 44u /* base64 of 32 bytes, padded */
#define U64_MAX_DIGITS          20u

struct checkpoint *checkpoint_free(struct checkpoint *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_extensions; i++)
        free(c->extensions[i]);
    free(c->extensions);
    free(c->origin);
    free(c);
    return NULL;
}

/* Strict decimal: digits only, no sign, no leading zero except "0", no overflow. */
static int parse_size(const char *s, size_t len, uint64_t *ret)
{
    uint64_t v = 0;

    if (len == 0 || len > U64_MAX_DIGITS || (s[0] == '0' && len > 1))
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
            return -EINVAL;
    }
    *ret = v;
    return 0;
}

static int parse_root(const char *s, size_t len, uint8_t ret[static MERKLE_HASH_SIZE])
{
    _cleanup_free_ uint8_t *raw = NULL;
    size_t raw_len = 0;
    int r;

    /* Exactly 44 characters of the alphabet (base64_decode alone would skip whitespace). */
    if (len != CHECKPOINT_ROOT_B64_LEN)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return -EINVAL;
    }
    r = base64_decode(s, len, &raw, &raw_len);
    if (r < 0)
        return r;
    if (raw_len != MERKLE_HASH_SIZE)
        return -EINVAL;
    memcpy(ret, raw, MERKLE_HASH_SIZE);
    return 0;
}

int checkpoint_parse(const char *text, size_t len, struct checkpoint **ret)
{
    _cleanup_(checkpoint_freep) struct checkpoint *c = NULL;
    size_t pos = 0, line = 0;
    int r;

    if (!text || !ret)
        return -EINVAL;
    if (len > CHECKPOINT_MAX_TEXT)
        return -EMSGSIZE;
    if (len == 0 || text[len - 1] != '\n' || !note_text_valid(text, len))
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;

    for (; pos < len; line++) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos); /* exists: text ends in '\n' */
        size_t n = (size_t)(nl - s);

        if (n == 0)
            return -EINVAL; /* every line is non-empty */
        switch (line) {
        case 0:
            if (n > CHECKPOINT_MAX_ORIGIN)
                return -EMSGSIZE;
            c->origin = strndup(s, n);
            if (!c->origin)
                return -ENOMEM;
            break;
        case 1:
            r = parse_size(s, n, &c->size);
            if (r < 0)
                return r;
            break;
        case 2:
            r = parse_root(s, n, c->root);
            if (r < 0)
                return r;
            break;
        default:
            if (c->n_extensions >= CHECKPOINT_MAX_EXTENSIONS || n > CHECKPOINT_MAX_EXTENSION)
                return -EMSGSIZE;
            if (!c->extensions) {
                c->extensions = calloc(CHECKPOINT_MAX_EXTENSIONS, sizeof(char *));
                if (!c->extensions)
                    return -ENOMEM;
            }
            c->extensions[c->n_extensions] = strndup(s, n);
            if (!c->extensions[c->n_extensions])
                return -ENOMEM;
            c->n_extensions++;
            break;
        }
        pos += n + 1;
    }
    if (line < 3)
        return -EINVAL;
    *ret = TAKE_PTR(c);
    return 0;
}

int checkpoint_format(const char *origin, uint64_t size,
                      const uint8_t root[static MERKLE_HASH_SIZE], const char *const *extensions,
                      size_t n_extensions, char **ret, size_t *ret_len)
{
    _cleanup_free_ char *b64 = NULL, *out = NULL;
    size_t origin_len, total, pos;
    int r;

    if (!origin || !ret || (n_extensions > 0 && !extensions))
        return -EINVAL;
    origin_len = strlen(origin);
    if (origin_len > CHECKPOINT_MAX_ORIGIN || n_extensions > CHECKPOINT_MAX_EXTENSIONS)
        return -EMSGSIZE;
    if (!note_name_valid(origin, origin_len))
        return -EINVAL;
    r = base64_encode(root, MERKLE_HASH_SIZE, &b64);
    if (r < 0)
        return r;

    total = origin_len + 1 + U64_MAX_DIGITS + 1 + CHECKPOINT_ROOT_B64_LEN + 1;
    for (size_t i = 0; i < n_extensions; i++) {
        size_t el;

        if (!extensions[i])
            return -EINVAL;
        el = strlen(extensions[i]);
        if (el > CHECKPOINT_MAX_EXTENSION)
            return -EMSGSIZE;
        if (el == 0 || memchr(extensions[i], '\n', el) || !note_text_valid(extensions[i], el))
            return -EINVAL;
        total += el + 1;
    }
    out = malloc(total + 1);
    if (!out)
        return -ENOMEM;
    r = snprintf(out, total + 1, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
    if (r < 0 || (size_t)r > total)
        return -EIO;
    pos = (size_t)r;
    for (size_t i = 0; i < n_extensions; i++) {
        r = snprintf(out + pos, total + 1 - pos, "%s\n", extensions[i]);
        if (r < 0 || (size_t)r > total - pos)
            return -EIO;
        pos += (size_t)r;
    }
    if (pos > CHECKPOINT_MAX_TEXT)
        return -EMSGSIZE;
    if (ret_len)
        *ret_len = pos;
    *ret = TAKE_PTR(out);
    return 0;
}
