/* SPDX-License-Identifier: Apache-2.0 */
/* Hex and base64 (RFC 4648, standard alphabet, padded) encoding for agent and CLI. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of len bytes into a new NUL-terminated string. -ENOMEM. */
int hex_encode(const uint8_t *data, size_t len, char **ret);
/* Hex (either case, even length, no separators) into a new buffer. -EINVAL on bad input. */
int hex_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len);
/* Padded standard base64, no line breaks, NUL-terminated. */
int base64_encode(const uint8_t *data, size_t len, char **ret);
/*
 * Decodes padded standard base64. Surrounding ASCII whitespace (and line breaks inside, as
 * PEM-like files and `cosign sign-blob` output may carry) is skipped; any other invalid
 * character, bad padding or non-zero trailing bits fails with -EINVAL.
 */
int base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len);
/* Upper bound of decoded size for slen input characters. */
size_t base64_decoded_max(size_t slen);
