/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <hwsign/protocol.h>

#include "p11-uri.h"

#define URI_UNRESERVED_EXTRA  "-._~"
#define URI_PATH_EXTRA        ":[]@!$'()*+,=&" /* RFC 7512 pk11-path-res-avail (+ '&') */
#define URI_QUERY_EXTRA       ":[]@!$'()*+,=/?|"
#define URI_EMIT_EXTRA        ":[]@!$'()*+," /* what we leave unencoded when emitting */
#define URI_MAX_LIBVER_DIGITS 9u             /* each of M and N in library-version */

static const char *const path_names[] = {
        "token",
        "manufacturer",
        "serial",
        "model",
        "library-manufacturer",
        "library-description",
        "library-version",
        "object",
        "type",
        "id",
        "slot-description",
        "slot-manufacturer",
        "slot-id",
};
static const char *const query_names[] = {"pin-source", "pin-value", "module-name", "module-path"};
static const char *const type_values[] = {"public", "private", "cert", "secret-key", "data"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (streq(s, list[i]))
            return true;
    return false;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool char_allowed(char c, const char *extra)
{
    return c != '\0' && (is_alnum(c) || strchr(URI_UNRESERVED_EXTRA, c) || strchr(extra, c));
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) into a new NUL-terminated buffer. */
static int pct_decode(const char *s, size_t len, const char *extra, uint8_t **ret, size_t *ret_len)
{
    uint8_t *out = malloc(len + 1);
    size_t o = 0;

    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = hex_val(s[i + 1])) < 0 || (lo = hex_val(s[i + 2])) < 0) {
                free(out);
                return -EINVAL;
            }
            out[o++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (char_allowed(s[i], extra)) {
            out[o++] = (uint8_t)s[i];
        } else {
            free(out);
            return -EINVAL;
        }
    }
    out[o] = '\0';
    *ret = out;
    *ret_len = o;
    return 0;
}

static bool name_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static bool decimal_ok(const uint8_t *v, size_t len, size_t max_digits)
{
    if (len == 0 || len > max_digits)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_digit((char)v[i]))
            return false;
    return true;
}

/* Decimal that fits a CK_SLOT_ID (unsigned long). */
static bool slot_id_ok(const struct p11_uri_attr *a)
{
    unsigned long v = 0;

    if (a->len == 0)
        return false;
    for (size_t i = 0; i < a->len; i++)
        if (!is_digit((char)a->value[i]) || __builtin_mul_overflow(v, 10ul, &v) ||
            __builtin_add_overflow(v, (unsigned long)(a->value[i] - '0'), &v))
            return false;
    return true;
}

static bool libver_ok(const struct p11_uri_attr *a)
{
    const char *dot = memchr(a->value, '.', a->len);

    if (!dot)
        return decimal_ok(a->value, a->len, URI_MAX_LIBVER_DIGITS);
    size_t major = (size_t)((const uint8_t *)dot - a->value);
    return decimal_ok(a->value, major, URI_MAX_LIBVER_DIGITS) &&
           decimal_ok(a->value + major + 1, a->len - major - 1, URI_MAX_LIBVER_DIGITS);
}

/* Semantic checks of one attribute against those already parsed. */
static int attr_check(const struct p11_uri *u, const struct p11_uri_attr *a)
{
    bool std_path = in_list(a->name, path_names, ELEMENTSOF(path_names));
    bool std_query = in_list(a->name, query_names, ELEMENTSOF(query_names));

    if (p11_uri_get(u, a->name))
        return -EINVAL; /* duplicates are ambiguous: refuse them everywhere */
    if ((std_path && a->query) || (std_query && !a->query))
        return -EINVAL;
    if (streq(a->name, "type") &&
        (memchr(a->value, 0, a->len) ||
         !in_list((const char *)a->value, type_values, ELEMENTSOF(type_values))))
        return -EINVAL;
    if (streq(a->name, "slot-id") && !slot_id_ok(a))
        return -EINVAL;
    if (streq(a->name, "library-version") && !libver_ok(a))
        return -EINVAL;
    return 0;
}

static int parse_attr(struct p11_uri *u, const char *s, size_t len, bool query)
{
    const char *eq = memchr(s, '=', len);
    struct p11_uri_attr a = {.query = query};
    int r;

    if (!eq || !name_ok(s, (size_t)(eq - s)))
        return -EINVAL;
    if (u->n_attrs >= P11_URI_MAX_ATTRS)
        return -EMSGSIZE;
    a.name = strndup(s, (size_t)(eq - s));
    if (!a.name)
        return -ENOMEM;
    r = pct_decode(eq + 1, len - (size_t)(eq - s) - 1, query ? URI_QUERY_EXTRA : URI_PATH_EXTRA,
                   &a.value, &a.len);
    if (r == 0)
        r = attr_check(u, &a);
    if (r < 0) {
        free(a.name);
        if (a.value)
            OPENSSL_clear_free(a.value, a.len + 1);
        return r;
    }
    u->attrs[u->n_attrs++] = a;
    return 0;
}

/* Splits s[0..len) at sep and parses each piece; an empty section has no attributes. */
static int parse_section(struct p11_uri *u, const char *s, size_t len, char sep, bool query)
{
    size_t start = 0;

    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != sep)
            continue;
        int r = parse_attr(u, s + start, i - start, query);
        if (r < 0)
            return r;
        start = i + 1;
    }
    return 0;
}

int p11_uri_parse(const char *s, size_t len, struct p11_uri **ret)
{
    const size_t plen = strlen(P11_URI_SCHEME);
    _cleanup_(p11_uri_freep) struct p11_uri *u = NULL;
    const char *q;
    size_t path_len;
    int r;

    if (!s || !ret)
        return -EINVAL;
    if (len > HWSIGN_MAX_URI)
        return -EMSGSIZE;
    if (len < plen || strncasecmp(s, P11_URI_SCHEME, plen) != 0 || memchr(s, '\0', len))
        return -EINVAL;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    q = memchr(s + plen, '?', len - plen);
    path_len = q ? (size_t)(q - (s + plen)) : len - plen;
    r = parse_section(u, s + plen, path_len, ';', false);
    if (r < 0)
        return r;
    if (q) {
        r = parse_section(u, q + 1, len - plen - path_len - 1, '&', true);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(u);
    return 0;
}

struct p11_uri *p11_uri_free(struct p11_uri *u)
{
    if (!u)
        return NULL;
    for (size_t i = 0; i < u->n_attrs; i++) {
        free(u->attrs[i].name);
        OPENSSL_clear_free(u->attrs[i].value, u->attrs[i].len + 1);
    }
    free(u);
    return NULL;
}

const struct p11_uri_attr *p11_uri_get(const struct p11_uri *u, const char *name)
{
    for (size_t i = 0; i < u->n_attrs; i++)
        if (streq(u->attrs[i].name, name))
            return &u->attrs[i];
    return NULL;
}

const char *p11_uri_get_str(const struct p11_uri *u, const char *name, int *ret_err)
{
    const struct p11_uri_attr *a = p11_uri_get(u, name);

    if (!a)
        return NULL;
    if (memchr(a->value, '\0', a->len)) {
        *ret_err = -EINVAL;
        return NULL;
    }
    return (const char *)a->value;
}

/* Appends data[0..len), percent-encoding all but alnum + extra. False when out of room. */
static bool emit(char *out, size_t cap, size_t *pos, const uint8_t *data, size_t len,
                 const char *extra)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        char c = (char)data[i];
        if (extra && char_allowed(c, extra)) {
            if (cap - *pos < 2)
                return false;
            out[(*pos)++] = c;
        } else {
            if (cap - *pos < 4)
                return false;
            out[(*pos)++] = '%';
            out[(*pos)++] = hex[data[i] >> 4];
            out[(*pos)++] = hex[data[i] & 0xf];
        }
    }
    out[*pos] = '\0';
    return true;
}

/* Appends literal URI syntax. */
static bool emit_str(char *out, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);

    if (cap - *pos <= n)
        return false;
    memcpy(out + *pos, s, n + 1);
    *pos += n;
    return true;
}

int p11_uri_format_key(const char *token, const char *object, const uint8_t *id, size_t id_len,
                       char **ret)
{
    const size_t cap = HWSIGN_MAX_URI + 1;
    _cleanup_free_ char *out = NULL;
    size_t pos = 0;
    bool ok;

    if (!token || !object || !id || id_len == 0 || !ret)
        return -EINVAL;
    out = malloc(cap);
    if (!out)
        return -ENOMEM;
    ok = emit_str(out, cap, &pos, P11_URI_SCHEME "token=") &&
         emit(out, cap, &pos, (const uint8_t *)token, strlen(token), URI_EMIT_EXTRA) &&
         emit_str(out, cap, &pos, ";object=") &&
         emit(out, cap, &pos, (const uint8_t *)object, strlen(object), URI_EMIT_EXTRA) &&
         emit_str(out, cap, &pos, ";id=") && emit(out, cap, &pos, id, id_len, NULL) &&
         emit_str(out, cap, &pos, ";type=private");
    if (!ok)
        return -EMSGSIZE;
    *ret = TAKE_PTR(out);
    return 0;
}
