/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 7512 parser: every FORMATS.md §10.3 vector parses with the documented decoded values;
 * malformed URIs (bad scheme, bad percent-encoding, duplicates, misplaced attributes, bad
 * type/slot-id/library-version, disallowed characters, over-long input, too many attributes)
 * are refused; outputs are written only on success; the canonical locator round-trips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <hwsign/protocol.h>

#include "p11-uri.h"

static struct p11_uri *parse_ok(const char *s)
{
    struct p11_uri *u = NULL;
    int r = p11_uri_parse(s, strlen(s), &u);

    if (r != 0)
        fail_msg("parse '%s': %d", s, r);
    return u;
}

static void expect_attr(const struct p11_uri *u, const char *name, const void *val, size_t len,
                        bool query)
{
    const struct p11_uri_attr *a = p11_uri_get(u, name);

    if (!a)
        fail_msg("attribute %s missing", name);
    assert_int_equal(a->len, len);
    assert_memory_equal(a->value, val, len);
    assert_int_equal(a->value[len], 0);
    assert_int_equal(a->query, query);
}

#define EXPECT_STR(u, n, v, q) expect_attr((u), (n), (v), strlen(v), (q))

static void test_rfc_vectors(void **state)
{
    struct p11_uri *u;
    static const uint8_t id1[] = {0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91};
    static const uint8_t id2[] = {0x01, 0x02, 0x03, 0xba, 0xdd, 0xca, 0xfe, 0x04, 0x05, 0x06};
    static const uint8_t tok[] = {0x00, 0x01, 0x02, 'H', 'e', 'l', 'l', 'o', 0xff, 0xfe};
    int err = 0;

    u = parse_ok("pkcs11:object=my-pubkey;type=public");
    EXPECT_STR(u, "object", "my-pubkey", false);
    EXPECT_STR(u, "type", "public", false);
    assert_int_equal(u->n_attrs, 2);
    p11_uri_free(u);

    u = parse_ok("pkcs11:object=my-key;type=private?pin-source=file:/etc/token");
    EXPECT_STR(u, "pin-source", "file:/etc/token", true);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,"
                 "%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;"
                 "serial=?pin-source=file:/etc/token_pin");
    EXPECT_STR(u, "token", "The Software PKCS#11 Softtoken", false);
    EXPECT_STR(u, "manufacturer", "Snake Oil, Inc.", false);
    EXPECT_STR(u, "model", "1.0", false);
    EXPECT_STR(u, "type", "cert", false);
    expect_attr(u, "id", id1, sizeof(id1), false);
    EXPECT_STR(u, "serial", "", false);
    EXPECT_STR(u, "pin-source", "file:/etc/token_pin", true);
    assert_int_equal(u->n_attrs, 8);
    p11_uri_free(u);

    u = parse_ok("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11");
    EXPECT_STR(u, "module-name", "mypkcs11", true);
    p11_uri_free(u);

    u = parse_ok("pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1");
    EXPECT_STR(u, "module-path", "/mnt/libmypkcs11.so.1", true);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc."
                 "?pin-value=the-pin");
    EXPECT_STR(u, "pin-value", "the-pin", true);
    p11_uri_free(u);

    u = parse_ok("pkcs11:slot-description=Sun%20Metaslot");
    EXPECT_STR(u, "slot-description", "Sun Metaslot", false);
    p11_uri_free(u);

    u = parse_ok("pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20"
                 "Token%20Library;library-version=1.23");
    EXPECT_STR(u, "library-version", "1.23", false);
    EXPECT_STR(u, "library-description", "Soft Token Library", false);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;"
                 "type=cert");
    EXPECT_STR(u, "token", "A name with a substring %;", false);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-"
                 "source=file:/etc/token_pin&vendor-bbb=value-b");
    EXPECT_STR(u, "vendor-aaa", "value-a", false);
    EXPECT_STR(u, "vendor-bbb", "value-b", true);
    p11_uri_free(u);

    u = parse_ok("pkcs11:");
    assert_int_equal(u->n_attrs, 0);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03"
                 "%Ba%dd%Ca%fe%04%05%06");
    EXPECT_STR(u, "token", "My token% created by Joe", false);
    expect_attr(u, "id", id2, sizeof(id2), false);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=:[]@!$'()*+,=&?attr=:[]@!$'()*+,=/?");
    EXPECT_STR(u, "token", ":[]@!$'()*+,=&", false);
    EXPECT_STR(u, "attr", ":[]@!$'()*+,=/?", true);
    p11_uri_free(u);

    u = parse_ok("pkcs11:token=%00%01%02Hello%FF%FE");
    expect_attr(u, "token", tok, sizeof(tok), false);
    assert_null(p11_uri_get_str(u, "token", &err)); /* embedded NUL: not a C string */
    assert_int_equal(err, -EINVAL);
    p11_uri_free(u);
}

static void test_extras(void **state)
{
    struct p11_uri *u;
    int err = 0;

    u = parse_ok("PKCS11:object=a"); /* scheme is case-insensitive */
    assert_string_equal(p11_uri_get_str(u, "object", &err), "a");
    assert_null(p11_uri_get(u, "token"));
    assert_null(p11_uri_get_str(u, "token", &err));
    assert_int_equal(err, 0);
    p11_uri_free(u);
    u = parse_ok("pkcs11:?");
    assert_int_equal(u->n_attrs, 0);
    p11_uri_free(u);
    u = parse_ok("pkcs11:slot-id=18446744073709551615;library-version=0");
    p11_uri_free(u);
    /* the length limit itself is fine */
    {
        char buf[HWSIGN_MAX_URI + 1];
        size_t n = strlen("pkcs11:object=");
        memcpy(buf, "pkcs11:object=", n);
        memset(buf + n, 'a', HWSIGN_MAX_URI - n);
        buf[HWSIGN_MAX_URI] = '\0';
        u = parse_ok(buf);
        p11_uri_free(u);
    }
    assert_null(p11_uri_free(NULL));
}

static void expect_bad(const char *s, int want)
{
    struct p11_uri *u = (struct p11_uri *)0x1;
    int r = p11_uri_parse(s, strlen(s), &u);

    if (r != want)
        fail_msg("parse '%s': %d, want %d", s, r, want);
    assert_ptr_equal(u, (struct p11_uri *)0x1);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
            "",
            "pkcs11",
            "pkcs12:object=a",
            " pkcs11:object=a",
            "pkcs11:object",    /* no '=' */
            "pkcs11:=value",    /* empty name */
            "pkcs11:object=a;", /* empty attribute */
            "pkcs11:;object=a",
            "pkcs11:object=a;;type=private",
            "pkcs11:object=a?&pin-source=x",
            "pkcs11:object=a?pin-source=x&",
            "pkcs11:obj ect=a",
            "pkcs11:object=a b", /* space must be encoded */
            "pkcs11:object=a/b", /* '/' not allowed raw in the path */
            "pkcs11:object=a|b",
            "pkcs11:object=a?pin-source=x&y",
            "pkcs11:object=a?x=b&c",
            "pkcs11:object=%",
            "pkcs11:object=%4",
            "pkcs11:object=%4g",
            "pkcs11:object=%%41",
            "pkcs11:object=a;object=b", /* duplicates */
            "pkcs11:id=%01;id=%01",
            "pkcs11:object=a?pin-value=1&pin-value=1",
            "pkcs11:vendor-x=1?vendor-x=2",
            "pkcs11:pin-value=1234", /* query attribute in the path */
            "pkcs11:?object=a",      /* path attribute in the query */
            "pkcs11:type=privat",
            "pkcs11:type=",
            "pkcs11:type=private%00",
            "pkcs11:slot-id=",
            "pkcs11:slot-id=-1",
            "pkcs11:slot-id=1a",
            "pkcs11:slot-id=18446744073709551616", /* ULONG_MAX + 1 */
            "pkcs11:library-version=",
            "pkcs11:library-version=1.",
            "pkcs11:library-version=.1",
            "pkcs11:library-version=1.2.3",
            "pkcs11:library-version=a",
            "pkcs11:object=\xc3\xa9", /* raw UTF-8 must be percent-encoded */
            "pkcs11:object=a\n",
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        expect_bad(bad[i], -EINVAL);
}

static void test_limits(void **state)
{
    char buf[HWSIGN_MAX_URI + 64];
    struct p11_uri *u = (struct p11_uri *)0x1;
    size_t n;

    /* one byte over the URI limit */
    n = strlen("pkcs11:object=");
    memcpy(buf, "pkcs11:object=", n);
    memset(buf + n, 'a', HWSIGN_MAX_URI + 1 - n);
    buf[HWSIGN_MAX_URI + 1] = '\0';
    expect_bad(buf, -EMSGSIZE);

    /* P11_URI_MAX_ATTRS + 1 distinct vendor attributes */
    n = (size_t)snprintf(buf, sizeof(buf), "pkcs11:");
    for (unsigned i = 0; i <= P11_URI_MAX_ATTRS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sv%u=1", i ? ";" : "", i);
    expect_bad(buf, -EMSGSIZE);

    /* an embedded NUL inside the given length */
    assert_int_equal(p11_uri_parse("pkcs11:object=a\0b", 17, &u), -EINVAL);
    assert_ptr_equal(u, (struct p11_uri *)0x1);
    /* the length, not the NUL, bounds the parse */
    assert_int_equal(p11_uri_parse("pkcs11:object=abc", 15, &u), 0);
    assert_string_equal((const char *)p11_uri_get(u, "object")->value, "a");
    p11_uri_free(u);
}

static void test_format_key(void **state)
{
    static const uint8_t id[] = {0x00, 0xab, 0xff, 0x10};
    char *s = (char *)0x1;
    struct p11_uri *u;

    assert_int_equal(p11_uri_format_key("my token", "key;1%", id, sizeof(id), &s), 0);
    assert_string_equal(s, "pkcs11:token=my%20token;object=key%3b1%25;id=%00%ab%ff%10;"
                           "type=private");
    u = parse_ok(s);
    EXPECT_STR(u, "token", "my token", false);
    EXPECT_STR(u, "object", "key;1%", false);
    expect_attr(u, "id", id, sizeof(id), false);
    EXPECT_STR(u, "type", "private", false);
    p11_uri_free(u);
    free(s);

    assert_int_equal(p11_uri_format_key("t", "k.a-b_c", id, 1, &s), 0);
    assert_string_equal(s, "pkcs11:token=t;object=k.a-b_c;id=%00;type=private");
    free(s);

    s = (char *)0x1;
    assert_int_equal(p11_uri_format_key("t", "k", id, 0, &s), -EINVAL);
    {
        char big[HWSIGN_MAX_URI];
        memset(big, ' ', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(p11_uri_format_key("t", big, id, 1, &s), -EMSGSIZE);
    }
    assert_ptr_equal(s, (char *)0x1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rfc_vectors), cmocka_unit_test(test_extras),
            cmocka_unit_test(test_malformed),   cmocka_unit_test(test_limits),
            cmocka_unit_test(test_format_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
