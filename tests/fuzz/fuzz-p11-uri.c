/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the RFC 7512 parser (pkcs11/p11-uri.c) on arbitrary bytes, then checks invariants:
 * decoded values are NUL-terminated, at most P11_URI_MAX_ATTRS attributes, and whenever a
 * parsed URI has a label-like token/object and an id, the canonical locator built from them
 * parses back to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p11-uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct p11_uri *u)
{
    const struct p11_uri_attr *id = p11_uri_get(u, "id");
    int err = 0;
    const char *token = p11_uri_get_str(u, "token", &err);
    const char *object = p11_uri_get_str(u, "object", &err);
    struct p11_uri *back = NULL;
    char *s = NULL;

    if (!id || id->len == 0 || !token || !object || err < 0)
        return;
    if (p11_uri_format_key(token, object, id->value, id->len, &s) < 0)
        return; /* only -EMSGSIZE is possible here */
    if (p11_uri_parse(s, strlen(s), &back) < 0)
        abort();
    const struct p11_uri_attr *t2 = p11_uri_get(back, "token");
    const struct p11_uri_attr *o2 = p11_uri_get(back, "object");
    const struct p11_uri_attr *i2 = p11_uri_get(back, "id");
    if (!t2 || !o2 || !i2 || !streq((const char *)t2->value, token) ||
        !streq((const char *)o2->value, object) || i2->len != id->len ||
        memcmp(i2->value, id->value, id->len) != 0)
        abort();
    p11_uri_free(back);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct p11_uri *u = NULL;

    if (p11_uri_parse((const char *)data, size, &u) < 0)
        return 0;
    if (u->n_attrs > P11_URI_MAX_ATTRS)
        abort();
    for (size_t i = 0; i < u->n_attrs; i++)
        if (u->attrs[i].value[u->attrs[i].len] != '\0' || !u->attrs[i].name[0])
            abort();
    roundtrip(u);
    p11_uri_free(u);
    return 0;
}
