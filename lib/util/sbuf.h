/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbuf: a bounded byte buffer for all untrusted bytes.
 *
 * Data is appended at the tail and consumed from the head. Every buffer has its own maximum
 * size, fixed at creation; a put that would exceed it fails with -EMSGSIZE and changes nothing.
 * A get that would read past the end fails with -EBADMSG and consumes nothing. Integers are
 * big-endian. Strings are a u32 length followed by the bytes; the getters check the length
 * against a caller-given maximum before touching the bytes.
 *
 * "_direct" getters return borrowed views into the buffer: valid until the next put,
 * consume-compaction (sbuf_reset, sbuf_reserve) or free of the same buffer.
 *
 * All functions return 0 (or a non-negative count) on success and -errno on failure; outputs
 * (ret_*) are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct sbuf;

/* New empty buffer that never grows past max bytes. NULL on allocation failure. */
struct sbuf *sbuf_new(size_t max);
/* New read-only view of caller memory (not copied; the memory must outlive the view). */
struct sbuf *sbuf_from(const void *data, size_t len);
/* Frees the buffer, wiping its memory (it may have held secrets). Accepts NULL; returns NULL. */
struct sbuf *sbuf_free(struct sbuf *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sbuf *, sbuf_free);

size_t sbuf_len(const struct sbuf *b); /* bytes available to read */
size_t sbuf_max(const struct sbuf *b);
size_t sbuf_avail(const struct sbuf *b);       /* bytes that may still be put */
const uint8_t *sbuf_ptr(const struct sbuf *b); /* head of readable data (borrowed) */
void sbuf_reset(struct sbuf *b);               /* drop all data (wiped) */

/* Discard n bytes from the head. -EBADMSG if fewer than n are available. */
int sbuf_consume(struct sbuf *b, size_t n);
/* Discard n bytes from the tail. */
int sbuf_consume_end(struct sbuf *b, size_t n);
/* Reserve n writable bytes at the tail and return a pointer to them; they count as data. */
int sbuf_reserve(struct sbuf *b, size_t n, uint8_t **ret_ptr);

int sbuf_put(struct sbuf *b, const void *data, size_t len);
int sbuf_put_u8(struct sbuf *b, uint8_t v);
int sbuf_put_u32(struct sbuf *b, uint32_t v);
int sbuf_put_u64(struct sbuf *b, uint64_t v);
/* u32 length + bytes. */
int sbuf_put_string(struct sbuf *b, const void *data, size_t len);
/* u32 length + strlen(s) bytes, no NUL; s NULL puts an empty string. */
int sbuf_put_cstring(struct sbuf *b, const char *s);
/* Overwrite a big-endian u32 at offset off of existing data (for length prefixes). */
int sbuf_poke_u32(struct sbuf *b, size_t off, uint32_t v);

int sbuf_get(struct sbuf *b, void *ret_data, size_t len);
int sbuf_get_u8(struct sbuf *b, uint8_t *ret);
int sbuf_get_u32(struct sbuf *b, uint32_t *ret);
int sbuf_get_u64(struct sbuf *b, uint64_t *ret);
int sbuf_peek_u32(const struct sbuf *b, uint32_t *ret);
/*
 * Length-prefixed string as a borrowed view. -EMSGSIZE if its length exceeds max,
 * -EBADMSG if truncated.
 */
int sbuf_get_string_direct(struct sbuf *b, size_t max, const uint8_t **ret_ptr, size_t *ret_len);
/*
 * Length-prefixed string copied into a new NUL-terminated allocation. Refuses embedded NUL
 * bytes (-EBADMSG) and lengths over max (-EMSGSIZE).
 */
int sbuf_get_cstring(struct sbuf *b, size_t max, char **ret);
/* Same, into a caller buffer of size cap (>= max + 1 not required; -EMSGSIZE if it won't fit). */
int sbuf_get_cstring_buf(struct sbuf *b, char *buf, size_t cap);
/* -EBADMSG unless every byte was consumed: every parse ends with this. */
int sbuf_expect_end(const struct sbuf *b);
