/* SPDX-License-Identifier: Apache-2.0 */
#include "sbuf.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    uint8_t *d;    /* storage (NULL for an empty buffer) */
    size_t off;    /* head: first unread byte */
    size_t size;   /* tail: one past the last byte */
    size_t alloc;  /* allocated bytes */
    size_t max;    /* size limit of readable data */
    bool readonly; /* view of caller memory */
};

struct sbuf *sbuf_new(size_t max)
{
    struct sbuf *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->max = max;
    return b;
}

struct sbuf *sbuf_from(const void *data, size_t len)
{
    struct sbuf *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->d = (uint8_t *)(uintptr_t)data;
    b->size = len;
    b->alloc = len;
    b->max = len;
    b->readonly = true;
    return b;
}

struct sbuf *sbuf_free(struct sbuf *b)
{
    if (!b)
        return NULL;
    if (!b->readonly && b->d) {
        explicit_bzero(b->d, b->alloc);
        free(b->d);
    }
    free(b);
    return NULL;
}

size_t sbuf_len(const struct sbuf *b)
{
    return b->size - b->off;
}

size_t sbuf_max(const struct sbuf *b)
{
    return b->max;
}

size_t sbuf_avail(const struct sbuf *b)
{
    return b->readonly ? 0 : b->max - sbuf_len(b);
}

const uint8_t *sbuf_ptr(const struct sbuf *b)
{
    return b->d ? b->d + b->off : (const uint8_t *)"";
}

void sbuf_reset(struct sbuf *b)
{
    if (b->readonly) {
        b->off = b->size;
        return;
    }
    if (b->d)
        explicit_bzero(b->d, b->alloc);
    b->off = b->size = 0;
}

int sbuf_consume(struct sbuf *b, size_t n)
{
    if (n > sbuf_len(b))
        return -EBADMSG;
    b->off += n;
    if (b->off == b->size && !b->readonly)
        b->off = b->size = 0;
    return 0;
}

int sbuf_consume_end(struct sbuf *b, size_t n)
{
    if (n > sbuf_len(b))
        return -EBADMSG;
    b->size -= n;
    return 0;
}

/* Make room for n more bytes at the tail, compacting or growing within max. */
static int sbuf_make_room(struct sbuf *b, size_t n)
{
    size_t need, newalloc;
    uint8_t *nd;

    if (b->readonly)
        return -EROFS;
    if (n > sbuf_avail(b))
        return -EMSGSIZE;
    if (b->alloc - b->size >= n)
        return 0;
    if (b->off > 0) {
        size_t len = sbuf_len(b);
        memmove(b->d, b->d + b->off, len);
        explicit_bzero(b->d + len, b->alloc - len);
        b->off = 0;
        b->size = len;
        if (b->alloc - b->size >= n)
            return 0;
    }
    if (!size_add(b->size, n, &need))
        return -EMSGSIZE;
    newalloc = b->alloc ? b->alloc : 256;
    while (newalloc < need)
        newalloc = newalloc > b->max / 2 ? b->max : newalloc * 2;
    if (newalloc > b->max)
        newalloc = b->max;
    if (newalloc < need)
        return -EMSGSIZE;
    /* Not realloc: the old block may hold secrets and must be wiped before it is freed. */
    nd = calloc(1, newalloc);
    if (!nd)
        return -ENOMEM;
    if (b->d) {
        memcpy(nd, b->d, b->size);
        explicit_bzero(b->d, b->alloc);
        free(b->d);
    }
    b->d = nd;
    b->alloc = newalloc;
    return 0;
}

int sbuf_reserve(struct sbuf *b, size_t n, uint8_t **ret_ptr)
{
    int r = sbuf_make_room(b, n);
    if (r < 0)
        return r;
    if (ret_ptr)
        *ret_ptr = b->d + b->size;
    b->size += n;
    return 0;
}

int sbuf_put(struct sbuf *b, const void *data, size_t len)
{
    uint8_t *p;
    int r;

    if (len == 0)
        return 0;
    r = sbuf_reserve(b, len, &p);
    if (r < 0)
        return r;
    memcpy(p, data, len);
    return 0;
}

int sbuf_put_u8(struct sbuf *b, uint8_t v)
{
    return sbuf_put(b, &v, 1);
}

int sbuf_put_u32(struct sbuf *b, uint32_t v)
{
    uint32_t be = htobe32(v);
    return sbuf_put(b, &be, sizeof(be));
}

int sbuf_put_u64(struct sbuf *b, uint64_t v)
{
    uint64_t be = htobe64(v);
    return sbuf_put(b, &be, sizeof(be));
}

int sbuf_put_string(struct sbuf *b, const void *data, size_t len)
{
    int r;

    if (len > UINT32_MAX)
        return -EMSGSIZE;
    if (len + 4 > sbuf_avail(b))
        return -EMSGSIZE;
    r = sbuf_put_u32(b, (uint32_t)len);
    if (r < 0)
        return r;
    return sbuf_put(b, data, len);
}

int sbuf_put_cstring(struct sbuf *b, const char *s)
{
    return sbuf_put_string(b, s ? s : "", s ? strlen(s) : 0);
}

int sbuf_poke_u32(struct sbuf *b, size_t off, uint32_t v)
{
    uint32_t be = htobe32(v);

    if (b->readonly)
        return -EROFS;
    if (off > sbuf_len(b) || sbuf_len(b) - off < sizeof(be))
        return -EBADMSG;
    memcpy(b->d + b->off + off, &be, sizeof(be));
    return 0;
}

int sbuf_get(struct sbuf *b, void *ret_data, size_t len)
{
    if (len > sbuf_len(b))
        return -EBADMSG;
    if (ret_data && len)
        memcpy(ret_data, sbuf_ptr(b), len);
    return sbuf_consume(b, len);
}

int sbuf_get_u8(struct sbuf *b, uint8_t *ret)
{
    uint8_t v;
    int r = sbuf_get(b, &v, 1);
    if (r < 0)
        return r;
    if (ret)
        *ret = v;
    return 0;
}

int sbuf_peek_u32(const struct sbuf *b, uint32_t *ret)
{
    uint32_t be;

    if (sbuf_len(b) < sizeof(be))
        return -EBADMSG;
    memcpy(&be, sbuf_ptr(b), sizeof(be));
    if (ret)
        *ret = be32toh(be);
    return 0;
}

int sbuf_get_u32(struct sbuf *b, uint32_t *ret)
{
    uint32_t v;
    int r = sbuf_peek_u32(b, &v);
    if (r < 0)
        return r;
    (void)sbuf_consume(b, 4);
    if (ret)
        *ret = v;
    return 0;
}

int sbuf_get_u64(struct sbuf *b, uint64_t *ret)
{
    uint64_t be;
    int r = sbuf_get(b, &be, sizeof(be));
    if (r < 0)
        return r;
    if (ret)
        *ret = be64toh(be);
    return 0;
}

int sbuf_get_string_direct(struct sbuf *b, size_t max, const uint8_t **ret_ptr, size_t *ret_len)
{
    uint32_t len;
    const uint8_t *p;
    int r;

    r = sbuf_peek_u32(b, &len);
    if (r < 0)
        return r;
    if (len > max)
        return -EMSGSIZE;
    if (sbuf_len(b) - 4 < len)
        return -EBADMSG;
    p = sbuf_ptr(b) + 4;
    (void)sbuf_consume(b, 4 + (size_t)len);
    if (ret_ptr)
        *ret_ptr = p;
    if (ret_len)
        *ret_len = len;
    return 0;
}

/* Like sbuf_get_string_direct, but refuses embedded NUL bytes and consumes only on success. */
static int get_text(struct sbuf *b, size_t max, const uint8_t **ret_ptr, size_t *ret_len)
{
    uint32_t len;
    const uint8_t *p;
    int r;

    r = sbuf_peek_u32(b, &len);
    if (r < 0)
        return r;
    if (len > max)
        return -EMSGSIZE;
    if (sbuf_len(b) - 4 < len)
        return -EBADMSG;
    p = sbuf_ptr(b) + 4;
    if (len && memchr(p, 0, len))
        return -EBADMSG;
    (void)sbuf_consume(b, 4 + (size_t)len);
    *ret_ptr = p;
    *ret_len = len;
    return 0;
}

int sbuf_get_cstring(struct sbuf *b, size_t max, char **ret)
{
    const uint8_t *p;
    size_t len;
    char *s;
    uint32_t peek;
    int r;

    /* Validate before consuming so a failed allocation leaves the buffer untouched. */
    r = sbuf_peek_u32(b, &peek);
    if (r < 0)
        return r;
    if (peek > max)
        return -EMSGSIZE;
    /* Allocate only for bytes that are really there, not for what a peer declares. */
    if (sbuf_len(b) - 4 < peek)
        return -EBADMSG;
    s = malloc((size_t)peek + 1);
    if (!s)
        return -ENOMEM;
    r = get_text(b, max, &p, &len);
    if (r < 0) {
        free(s);
        return r;
    }
    memcpy(s, p, len);
    s[len] = '\0';
    *ret = s;
    return 0;
}

int sbuf_get_cstring_buf(struct sbuf *b, char *buf, size_t cap)
{
    const uint8_t *p;
    size_t len;
    int r;

    if (cap == 0)
        return -EMSGSIZE;
    r = get_text(b, cap - 1, &p, &len);
    if (r < 0)
        return r;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

int sbuf_expect_end(const struct sbuf *b)
{
    return sbuf_len(b) == 0 ? 0 : -EBADMSG;
}
