/* SPDX-License-Identifier: Apache-2.0 */
#include "secret.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

/*
 * Smallest block the secure heap hands out (a power of two, as OpenSSL requires). Small PINs
 * share the arena with OpenSSL's own secure allocations, so keep the granularity fine.
 */
#define SECRET_HEAP_MIN_BLOCK 32u

struct secret {
    uint8_t *data; /* len + 1 bytes, secure heap when initialised, data[len] == 0 */
    size_t len;
};

/*
 * OPENSSL_secure_zalloc falls back to the normal heap when no secure heap exists, and
 * OPENSSL_secure_clear_free cleanses either kind before freeing, so one pair serves both.
 */
static uint8_t *secret_alloc(size_t len)
{
    size_t n;

    if (!size_add(len, 1, &n))
        return NULL;
    return OPENSSL_secure_zalloc(n);
}

static void secret_release(uint8_t *p, size_t len)
{
    if (p)
        OPENSSL_secure_clear_free(p, len + 1);
}

struct secret *secret_new(const void *data, size_t len)
{
    struct secret *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->data = secret_alloc(len);
    if (!s->data) {
        free(s);
        return NULL;
    }
    if (len)
        memcpy(s->data, data, len);
    s->len = len;
    return s;
}

struct secret *secret_free(struct secret *s)
{
    if (!s)
        return NULL;
    secret_release(s->data, s->len);
    free(s);
    return NULL;
}

int secret_append(struct secret *s, const void *data, size_t len, size_t max)
{
    uint8_t *nd;

    if (len > max || s->len > max - len)
        return -EMSGSIZE;
    if (len == 0)
        return 0;
    /* Never realloc: the old block must be wiped, not left behind by the allocator. */
    nd = secret_alloc(s->len + len);
    if (!nd)
        return -ENOMEM;
    memcpy(nd, s->data, s->len);
    memcpy(nd + s->len, data, len);
    secret_release(s->data, s->len);
    s->data = nd;
    s->len += len;
    return 0;
}

size_t secret_len(const struct secret *s)
{
    return s->len;
}

const char *secret_str(const struct secret *s)
{
    return (const char *)s->data;
}

const uint8_t *secret_data(const struct secret *s)
{
    return s->data;
}

bool secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    if (alen == 0)
        return true;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

int secret_heap_init(size_t size)
{
    int r;

    if (size < SECRET_HEAP_MIN_SIZE || size > SECRET_HEAP_MAX_SIZE || (size & (size - 1)) != 0)
        return -EINVAL; /* OpenSSL asserts (aborts) on a size that is not a power of two */
    if (CRYPTO_secure_malloc_initialized())
        return -EALREADY;
    r = CRYPTO_secure_malloc_init(size, SECRET_HEAP_MIN_BLOCK);
    if (r == 1)
        return 0;
    if (r == 2) {
        /*
         * The arena exists but could not be locked or excluded from core dumps. Secrets in it
         * would look protected without being so: take it down again (nothing lives in it yet)
         * and let the caller decide whether to run without.
         */
        (void)CRYPTO_secure_malloc_done();
        return -EPERM;
    }
    return -ENOMEM;
}

void secret_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}
