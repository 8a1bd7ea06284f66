/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#11 URIs (RFC 7512): parser for administrator-supplied locators and the canonical
 * locator this backend emits.
 *
 * Parsing rules: the scheme "pkcs11:" (case-insensitive), then path attributes separated by
 * ';', then optionally '?' and query attributes separated by '&'. Each attribute is
 * name=value; names are [A-Za-z0-9_-]+, values are percent-decoded (hex digits of either
 * case) and may be empty. Characters outside the RFC's allowed sets must be percent-encoded.
 * Standard path attributes are accepted only in the path and standard query attributes only
 * in the query; any other name is a vendor attribute (kept, not interpreted). Every name may
 * appear at most once in the whole URI. "type" must be one of public, private, cert,
 * secret-key, data; "slot-id" decimal; "library-version" M or M.N. Limits: the URI is at most
 * HWSIGN_MAX_URI bytes and has at most P11_URI_MAX_ATTRS attributes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define P11_URI_SCHEME    "pkcs11:"
#define P11_URI_MAX_ATTRS 32u /* attributes in one URI (RFC 7512 defines 17 standard ones) */

struct p11_uri_attr {
    char *name;     /* NUL-terminated */
    uint8_t *value; /* decoded bytes, NUL-terminated after len (may contain NUL bytes) */
    size_t len;
    bool query; /* true: from the query part */
};

struct p11_uri {
    struct p11_uri_attr attrs[P11_URI_MAX_ATTRS];
    size_t n_attrs;
};

/*
 * Parses len bytes at s (no NUL needed). -EINVAL for a malformed URI (syntax, bad
 * percent-encoding, duplicate or misplaced attribute, invalid type/slot-id/library-version),
 * -EMSGSIZE when over the length or attribute limits, -ENOMEM.
 */
int p11_uri_parse(const char *s, size_t len, struct p11_uri **ret);

/* Frees a parsed URI, wiping values (a pin-value may be inside). Accepts NULL; returns NULL. */
struct p11_uri *p11_uri_free(struct p11_uri *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct p11_uri *, p11_uri_free);

/* The attribute named name (path or query), or NULL. Borrowed from u. */
const struct p11_uri_attr *p11_uri_get(const struct p11_uri *u, const char *name);

/*
 * Value of name as a C string: NULL if absent; -EINVAL through *ret_err if it contains a NUL
 * byte (labels are C strings in libp11). Convenience for label-like attributes.
 */
const char *p11_uri_get_str(const struct p11_uri *u, const char *name, int *ret_err);

/*
 * The canonical key locator:
 *   pkcs11:token=<token>;object=<object>;id=%xx%xx...;type=private
 * token and object are percent-encoded where RFC 7512 requires it; id is encoded completely
 * with lower-case hex. -EMSGSIZE if the result would exceed HWSIGN_MAX_URI, -EINVAL on an
 * empty id, -ENOMEM.
 */
int p11_uri_format_key(const char *token, const char *object, const uint8_t *id, size_t id_len,
                       char **ret);
