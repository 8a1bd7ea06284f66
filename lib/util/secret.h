/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret buffers: PINs and auth values live only here.
 *
 * Memory comes from OpenSSL's secure heap when the process initialised one
 * (CRYPTO_secure_malloc_init: mlock'd, excluded from core dumps) and from the normal heap
 * otherwise; it is wiped on free either way. A secret is immutable after creation except by
 * secret_append, which never leaves a copy behind.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct secret;

/* New secret holding a copy of data (len may be 0). NULL on allocation failure. */
struct secret *secret_new(const void *data, size_t len);
/* Wipes and frees. Accepts NULL; returns NULL. */
struct secret *secret_free(struct secret *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct secret *, secret_free);
/* Appends bytes, moving to a larger wiped allocation; -EMSGSIZE past max total length. */
int secret_append(struct secret *s, const void *data, size_t len, size_t max);
size_t secret_len(const struct secret *s);
/* Borrowed view, always NUL-terminated after len bytes (for C APIs that want a string). */
const char *secret_str(const struct secret *s);
const uint8_t *secret_data(const struct secret *s);
/* Constant-time equality of two byte strings of equal length; false if lengths differ. */
bool secret_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Bounds of secret_heap_init()'s size (bytes, a power of two in between). */
#define SECRET_HEAP_MIN_SIZE (16u * 1024u)
#define SECRET_HEAP_MAX_SIZE (64u * 1024u * 1024u)
/*
 * Sets up a locked secure heap for the process (agent start, before any secret exists);
 * 0 or -errno. -EINVAL if size is not a power of two within the bounds above, -EALREADY if a
 * secure heap already exists, -EPERM if the arena could not be locked (mlock, RLIMIT_MEMLOCK)
 * or excluded from core dumps: it is then torn down again and secrets use the normal heap
 * (still wiped on free), -ENOMEM if it could not be mapped.
 */
int secret_heap_init(size_t size);
/* Wipes memory the compiler may not optimise away. */
void secret_wipe(void *p, size_t len);
