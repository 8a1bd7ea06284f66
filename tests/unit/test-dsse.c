/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dsse: PAE known answers from FORMATS 1.6 (the protocol.md ECDSA example and the Ed25519
 * vectors, whose signatures are checked over our PAE so the bytes are proven, not just
 * compared), envelope round trips with real P-256 signatures, what verifiers must accept
 * (URL-safe, unpadded, absent keyid, unknown fields) and every malformed envelope we refuse.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "dsse.h"
#include "format.h"
#include "json.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

static EVP_PKEY *p256, *p256_other;

static int setup(void **state)
{
    p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p256_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return p256 && p256_other ? 0 : -1;
}

static int teardown(void **state)
{
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p256_other);
    return 0;
}

/* DER ECDSA over a SHA-256 digest, as the agent's SIGN_DIGEST returns it. */
static size_t sign_digest(EVP_PKEY *k, const uint8_t dg[32], uint8_t *sig, size_t cap)
{
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    size_t len = cap;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_sign(ctx, sig, &len, dg, 32), 1);
    return len;
}

static void assert_pae_hex(const char *type, size_t tlen, const uint8_t *body, size_t blen,
                           const char *want_hex)
{
    _cleanup_free_ uint8_t *pae = NULL;
    _cleanup_free_ char *hex = NULL;
    size_t n = 0;

    assert_int_equal(dsse_pae(type, tlen, body, blen, &pae, &n), 0);
    assert_int_equal(hex_encode(pae, n, &hex), 0);
    assert_string_equal(hex, want_hex);
}

#define PAE_V1_HEX                                                                                 \
    "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203433207b22"     \
    "5f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d"

static void test_pae_kat(void **state)
{
    static const char st[] = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
    static const uint8_t urlsafe_body[] = {0xfb, 0xff, 0xbf, 0x3e, 0x3f};
    static const char intoto[] = "application/vnd.in-toto+json";
    _cleanup_free_ uint8_t *pae = NULL;
    size_t n = 0;

    /* (a) protocol.md */
    assert_int_equal(dsse_pae("http://example.com/HelloWorld", 29, (const uint8_t *)"hello world",
                              11, &pae, &n),
                     0);
    assert_int_equal(n, strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
    assert_memory_equal(pae, "DSSEv1 29 http://example.com/HelloWorld 11 hello world", n);

    /* (b) vectors 1-4 */
    assert_pae_hex(intoto, strlen(intoto), (const uint8_t *)st, strlen(st), PAE_V1_HEX);
    assert_pae_hex(intoto, strlen(intoto), urlsafe_body, sizeof(urlsafe_body),
                   "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f"
                   "6e203520fbffbf3e3f");
    assert_pae_hex(intoto, strlen(intoto), NULL, 0,
                   "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f"
                   "6e203020");
    /* Non-ASCII type: LEN counts bytes (29), not characters (28). */
    free(pae);
    pae = NULL;
    assert_int_equal(dsse_pae("application/vnd.ex\xc3\xa4mple+json", 29, (const uint8_t *)st,
                              strlen(st), &pae, &n),
                     0);
    assert_memory_equal(pae, "DSSEv1 29 ", 10);
    /* Empty type: two consecutive spaces. */
    free(pae);
    pae = NULL;
    assert_int_equal(dsse_pae("", 0, (const uint8_t *)"x", 1, &pae, &n), 0);
    assert_int_equal(n, strlen("DSSEv1 0  1 x"));
    assert_memory_equal(pae, "DSSEv1 0  1 x", n);
}

static void test_pae_limits(void **state)
{
    uint8_t *pae = POISON_PTR;
    size_t n = 42;
    _cleanup_free_ char *type = calloc(1, DSSE_MAX_PAYLOAD_TYPE + 2);
    _cleanup_free_ uint8_t *body = calloc(1, DSSE_MAX_PAYLOAD + 1);

    assert_non_null(type);
    assert_non_null(body);
    memset(type, 'a', DSSE_MAX_PAYLOAD_TYPE + 1);
    assert_int_equal(dsse_pae(type, DSSE_MAX_PAYLOAD_TYPE + 1, body, 1, &pae, &n), -EMSGSIZE);
    assert_int_equal(dsse_pae("t", 1, body, DSSE_MAX_PAYLOAD + 1, &pae, &n), -EMSGSIZE);
    assert_int_equal(dsse_pae(NULL, 1, body, 1, &pae, &n), -EINVAL);
    assert_int_equal(dsse_pae("t", 1, NULL, 1, &pae, &n), -EINVAL);
    assert_ptr_equal(pae, POISON_PTR);
    assert_int_equal(n, 42);
    /* Exactly at both limits is fine. */
    assert_int_equal(dsse_pae(type, DSSE_MAX_PAYLOAD_TYPE, body, DSSE_MAX_PAYLOAD, &pae, &n), 0);
    /* "DSSEv1 256 <type> 16777216 <body>" */
    assert_int_equal(n, 7 + snprintf(NULL, 0, "%u", DSSE_MAX_PAYLOAD_TYPE) + 1 +
                                DSSE_MAX_PAYLOAD_TYPE + 1 +
                                snprintf(NULL, 0, "%u", DSSE_MAX_PAYLOAD) + 1 + DSSE_MAX_PAYLOAD);
    free(pae);
}

/* Ed25519 vectors: decode the envelope, rebuild the PAE, check the signature with OpenSSL. */
static const uint8_t ed_pub_a[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
                                     0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
                                     0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
                                     0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
static const uint8_t ed_pub_b[32] = {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a,
                                     0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
                                     0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c,
                                     0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};

static bool ed25519_verifies(const uint8_t pub[32], const struct dsse_envelope *env, size_t i)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *k =
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    _cleanup_free_ uint8_t *pae = NULL;
    const uint8_t *sig, *payload;
    size_t sig_len, pae_len, plen;
    const char *type = dsse_envelope_payload_type(env);

    assert_non_null(k);
    assert_non_null(ctx);
    assert_int_equal(dsse_envelope_signature(env, i, &sig, &sig_len, NULL), 0);
    payload = dsse_envelope_payload(env, &plen);
    assert_int_equal(dsse_pae(type, strlen(type), payload, plen, &pae, &pae_len), 0);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k), 1);
    return EVP_DigestVerify(ctx, sig, sig_len, pae, pae_len) == 1;
}

static struct dsse_envelope *decode_ok(const char *json)
{
    struct dsse_envelope *env = NULL;

    assert_int_equal(dsse_envelope_decode(json, strlen(json), &env), 0);
    assert_non_null(env);
    return env;
}

#define ED_V1_PAYLOAD "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ=="
#define ED_V1_SIG_A                                                                                \
    "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="
#define ED_V1_SIG_B                                                                                \
    "c1+67/aT0yqEpwx8PsVY3MLHsj9D0CZ014/Fv/QlG59P+9CobUZ7xECJ/V3USG0Ob9CiE5LjReEZUzNF2l7eBw=="

static void test_ed25519_vectors(void **state)
{
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *v1 = NULL, *v2 = NULL, *v3 = NULL,
                                                        *v4 = NULL, *v5 = NULL, *v6 = NULL;
    const char *keyid = POISON_PTR;
    size_t plen;

    v1 = decode_ok("{\"payload\":\"" ED_V1_PAYLOAD "\",\"payloadType\":\"application/vnd.in-toto"
                   "+json\",\"signatures\":[{\"sig\":\"" ED_V1_SIG_A "\"}]}");
    assert_true(ed25519_verifies(ed_pub_a, v1, 0));
    assert_false(ed25519_verifies(ed_pub_b, v1, 0));
    assert_int_equal(dsse_envelope_signature(v1, 0, NULL, NULL, &keyid), 0);
    assert_string_equal(keyid, ""); /* absent keyid == "" */

    /* URL-safe payload and signature. */
    v2 = decode_ok("{\"payload\":\"-_-_Pj8=\",\"payloadType\":\"application/vnd.in-toto+json\","
                   "\"signatures\":[{\"sig\":\"P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_"
                   "svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==\"}]}");
    assert_memory_equal(dsse_envelope_payload(v2, &plen), "\xfb\xff\xbf\x3e\x3f", 5);
    assert_int_equal(plen, 5);
    assert_true(ed25519_verifies(ed_pub_a, v2, 0));

    /* Empty payload. */
    v3 = decode_ok("{\"payload\":\"\",\"payloadType\":\"application/vnd.in-toto+json\","
                   "\"signatures\":[{\"sig\":\"gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/"
                   "1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg==\"}]}");
    (void)dsse_envelope_payload(v3, &plen);
    assert_int_equal(plen, 0);
    assert_true(ed25519_verifies(ed_pub_a, v3, 0));

    /* Non-ASCII payloadType (raw UTF-8 in the JSON, and as \u escape). */
    v4 = decode_ok("{\"payload\":\"" ED_V1_PAYLOAD "\",\"payloadType\":\"application/vnd.ex\\u00e4"
                   "mple+json\",\"signatures\":[{\"sig\":\"xmSk/ug66ysT7ayhkCIjhAq42zgZXSsEWuzUaNL7"
                   "w2eGAdF/NU6/fRXPtmfN+5DNSAs5/i2lUnHjbbjPsu0tAw==\"}]}");
    assert_string_equal(dsse_envelope_payload_type(v4), "application/vnd.ex\xc3\xa4mple+json");
    assert_true(ed25519_verifies(ed_pub_a, v4, 0));

    /* Two signatures (A, B): each verifies with its own key only. */
    v5 = decode_ok("{\"payload\":\"" ED_V1_PAYLOAD "\",\"payloadType\":\"application/vnd.in-toto"
                   "+json\",\"signatures\":[{\"sig\":\"" ED_V1_SIG_A "\"},{\"sig\":\"" ED_V1_SIG_B
                   "\",\"keyid\":\"B\"}]}");
    assert_int_equal(dsse_envelope_n_signatures(v5), 2);
    assert_true(ed25519_verifies(ed_pub_a, v5, 0));
    assert_true(ed25519_verifies(ed_pub_b, v5, 1));
    assert_int_equal(dsse_envelope_signature(v5, 2, NULL, NULL, NULL), -ERANGE);

    /* Type swap: vector 1's signature no longer verifies. */
    v6 = decode_ok("{\"payload\":\"" ED_V1_PAYLOAD "\",\"payloadType\":\"application/vnd.example."
                   "other+json\",\"signatures\":[{\"sig\":\"" ED_V1_SIG_A "\"}]}");
    assert_false(ed25519_verifies(ed_pub_a, v6, 0));
    /* Our verifier handles EC/RSA only. */
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *ed =
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, ed_pub_a, 32);
    assert_int_equal(dsse_envelope_verify(v1, ed, NULL), -EOPNOTSUPP);
}

/* protocol.md ECDSA example: P-256 key from X, Y; raw r||s signature converted to DER. */
static void test_ecdsa_protocol_vector(void **state)
{
    static const char x_dec[] =
            "46950820868899156662930047687818585632848591499744589407958293238635476079160";
    static const char y_dec[] =
            "5640078356564379163099075877009565129882514886557779369047442380624545832820";
    static const char sig_b64[] = "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+"
                                  "O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==";
    _cleanup_(BN_freep) BIGNUM *x = NULL, *y = NULL;
    _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
    _cleanup_free_ uint8_t *raw = NULL, *der = NULL;
    _cleanup_free_ char *der_b64 = NULL, *json = NULL;
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL, *bad = NULL;
    uint8_t point[65] = {0x04};
    size_t raw_len = 0, der_len = 0, idx = 99;

    assert_true(BN_dec2bn(&x, x_dec) > 0 && BN_dec2bn(&y, y_dec) > 0);
    assert_int_equal(BN_bn2binpad(x, point + 1, 32), 32);
    assert_int_equal(BN_bn2binpad(y, point + 33, 32), 32);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0),
                     1);
    assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65), 1);
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);

    assert_int_equal(base64_decode(sig_b64, strlen(sig_b64), &raw, &raw_len), 0);
    assert_int_equal(ecdsa_raw_to_der(raw, raw_len, &der, &der_len), 0);
    assert_int_equal(base64_encode(der, der_len, &der_b64), 0);
    assert_int_equal(asprintf(&json,
                              "{\"payload\":\"aGVsbG8gd29ybGQ=\",\"payloadType\":\"http://"
                              "example.com/HelloWorld\",\"signatures\":[{\"sig\":\"%s\"}]}",
                              der_b64) > 0,
                     1);
    env = decode_ok(json);
    assert_int_equal(dsse_envelope_verify(env, key, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(dsse_envelope_verify(env, p256, NULL), -EBADMSG);
    /* The spec's raw r||s form itself is not what Sigstore verifiers take: it fails. */
    bad = decode_ok("{\"payload\":\"aGVsbG8gd29ybGQ=\",\"payloadType\":\"http://example.com/"
                    "HelloWorld\",\"signatures\":[{\"sig\":\"A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+"
                    "O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==\"}]}");
    assert_int_equal(dsse_envelope_verify(bad, key, NULL), -EBADMSG);
}

static void test_round_trip(void **state)
{
    static const char type[] = "application/vnd.in-toto+json";
    static const uint8_t body[] = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
    uint8_t dg[32], sig_a[80], sig_b[80];
    size_t la, lb, n = 0, plen, sl, idx = 9;
    struct dsse_signature sigs[2];
    _cleanup_free_ char *json = NULL, *json2 = NULL;
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    const uint8_t *s;
    const char *kid;

    assert_int_equal(dsse_pae_sha256(type, strlen(type), body, sizeof(body) - 1, dg), 0);
    la = sign_digest(p256, dg, sig_a, sizeof(sig_a));
    lb = sign_digest(p256_other, dg, sig_b, sizeof(sig_b));
    sigs[0] = (struct dsse_signature){.keyid = "key-a/1", .sig = sig_a, .sig_len = la};
    sigs[1] = (struct dsse_signature){.keyid = NULL, .sig = sig_b, .sig_len = lb};
    assert_int_equal(dsse_envelope_encode(type, body, sizeof(body) - 1, sigs, 2, &json, &n), 0);
    assert_int_equal(strlen(json), n);
    /* Emitted form: fixed key order, standard padded base64, '/' not escaped. */
    assert_non_null(strstr(json, "{\"payload\":\"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1l"
                                 "bnQvdjEifQ==\",\"payloadType\":\"application/vnd.in-toto+json\""
                                 ",\"signatures\":[{\"keyid\":\"key-a/1\",\"sig\":\""));
    assert_null(strstr(json, "\\/"));

    env = decode_ok(json);
    assert_string_equal(dsse_envelope_payload_type(env), type);
    assert_memory_equal(dsse_envelope_payload(env, &plen), body, sizeof(body) - 1);
    assert_int_equal(plen, sizeof(body) - 1);
    assert_int_equal(dsse_envelope_n_signatures(env), 2);
    assert_int_equal(dsse_envelope_signature(env, 0, &s, &sl, &kid), 0);
    assert_int_equal(sl, la);
    assert_memory_equal(s, sig_a, la);
    assert_string_equal(kid, "key-a/1");
    assert_int_equal(dsse_envelope_signature(env, 1, &s, &sl, &kid), 0);
    assert_string_equal(kid, "");
    assert_int_equal(dsse_envelope_verify(env, p256, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(dsse_envelope_verify(env, p256_other, &idx), 0);
    assert_int_equal(idx, 1);

    /* Deterministic: the same inputs give the same bytes. */
    assert_int_equal(dsse_envelope_encode(type, body, sizeof(body) - 1, sigs, 2, &json2, &n), 0);
    assert_string_equal(json, json2);
}

static void test_encode_errors(void **state)
{
    uint8_t sig[1] = {1};
    struct dsse_signature s = {.keyid = "k", .sig = sig, .sig_len = 1};
    struct dsse_signature many[DSSE_MAX_SIGNATURES + 1];
    char *json = POISON_PTR;
    size_t n = 42;

    for (size_t i = 0; i < ELEMENTSOF(many); i++)
        many[i] = s;
    assert_int_equal(dsse_envelope_encode("t", sig, 1, &s, 0, &json, &n), -EINVAL);
    assert_int_equal(dsse_envelope_encode("t", sig, 1, many, ELEMENTSOF(many), &json, &n),
                     -EMSGSIZE);
    assert_int_equal(dsse_envelope_encode(NULL, sig, 1, &s, 1, &json, &n), -EINVAL);
    s.sig_len = 0;
    assert_int_equal(dsse_envelope_encode("t", sig, 1, &s, 1, &json, &n), -EINVAL);
    s.sig_len = DSSE_MAX_SIG + 1;
    assert_int_equal(dsse_envelope_encode("t", sig, 1, &s, 1, &json, &n), -EMSGSIZE);
    assert_ptr_equal(json, POISON_PTR);
    assert_int_equal(n, 42);
}

/* Accepted variants that a verifier must take (FORMATS 1.2, 1.4). */
static void test_lenient_inputs(void **state)
{
    static const char *const ok[] = {
            /* unpadded standard, unknown members at both levels, explicit empty keyid/sig */
            "{\"payload\":\"aGk\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"\","
            "\"keyid\":\"\",\"x\":1}],\"extra\":{\"y\":[null]}}",
            /* URL-safe unpadded; whitespace between tokens */
            " {\n \"payload\" : \"-_8\" "
            ",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA\"}]}\n",
    };
    for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
        _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = decode_ok(ok[i]);
        (void)env;
    }
}

static void test_malformed(void **state)
{
#define ENV(p, t, s) "{\"payload\":" p ",\"payloadType\":" t ",\"signatures\":" s "}"
    static const struct {
        const char *json;
        int err;
    } bad[] = {
            {"", -EINVAL},
            {"[]", -EINVAL},
            {"null", -EINVAL},
            {"{\"payload\":\"\"", -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\"}]") " x", -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\"}]") "{}", -EINVAL},
            {"\xef\xbb\xbf" ENV("\"\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {"{\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"\"}]}", -EINVAL},
            {"{\"payload\":\"\",\"signatures\":[{\"sig\":\"\"}]}", -EINVAL},
            {"{\"payload\":\"\",\"payloadType\":\"t\"}", -EINVAL},
            {ENV("\"\"", "\"t\"", "[]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "{}"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[\"sig\"]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"keyid\":\"k\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":1}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":null}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\",\"keyid\":7}]"), -EINVAL},
            {ENV("null", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "[\"t\"]", "[{\"sig\":\"\"}]"), -EINVAL},
            /* base64: bad characters, whitespace, mixed alphabets, bad padding, trailing bits */
            {ENV("\"aGk*\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"aG k=\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"aGk=\\n\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"+-==\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"/_8=\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"aGk==\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"a===\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"aGlhZ\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"aGl=\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"a=Gk\"", "\"t\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"QQ=\"}]"), -EINVAL},
            /* strict JSON beyond json-c */
            {"{'payload':\"\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"\"}]}", -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\",\"keyid\":NaN}]"), -EINVAL},
            {ENV("\"\"", "\"t\\u0000x\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\\ud800\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\\udc00\\ud800\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\tx\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\xff\"", "[{\"sig\":\"\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\"},]"), -EINVAL},
            /* duplicate keys (json-c would keep the last) */
            {"{\"payload\":\"\",\"payload\":\"aGk=\",\"payloadType\":\"t\",\"signatures\":"
             "[{\"sig\":\"\"}]}",
             -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\",\"sig\":\"AA==\"}]"), -EINVAL},
            {ENV("\"\"", "\"t\"", "[{\"sig\":\"\",\"x\":{\"a\":1,\"a\":1}}]"), -EINVAL},
            /* limits */
            {ENV("\"\"", "\"t\"",
                 "[{\"sig\":\"\"},{\"sig\":\"\"},{\"sig\":\"\"},{\"sig\":\"\"},{\"sig\":\"\"},"
                 "{\"sig\":\"\"},{\"sig\":\"\"},{\"sig\":\"\"},{\"sig\":\"\"}]"),
             -EMSGSIZE},
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct dsse_envelope *env = POISON_PTR;
        int r = dsse_envelope_decode(bad[i].json, strlen(bad[i].json), &env);
        if (r != bad[i].err)
            fail_msg("case %zu (%s): got %d, want %d", i, bad[i].json, r, bad[i].err);
        assert_ptr_equal(env, POISON_PTR);
    }
    /* An embedded NUL byte in the text. */
    static const char nul[] = "{\"payload\":\"\",\"payloadType\":\"t\0\",\"signatures\":[]}";
    struct dsse_envelope *env = POISON_PTR;
    assert_int_equal(dsse_envelope_decode(nul, sizeof(nul) - 1, &env), -EINVAL);
    assert_ptr_equal(env, POISON_PTR);
#undef ENV
}

static void test_size_limits(void **state)
{
    _cleanup_free_ uint8_t *big = calloc(1, DSSE_MAX_PAYLOAD + 1);
    _cleanup_free_ char *b64 = NULL, *json = NULL, *type = NULL, *huge = NULL;
    struct dsse_envelope *env = POISON_PTR;
    size_t n;

    assert_non_null(big);
    /* Decoded payload one byte over the limit. */
    assert_int_equal(base64_encode(big, DSSE_MAX_PAYLOAD + 1, &b64), 0);
    assert_true(asprintf(&json,
                         "{\"payload\":\"%s\",\"payloadType\":\"t\",\"signatures\":"
                         "[{\"sig\":\"\"}]}",
                         b64) > 0);
    assert_int_equal(dsse_envelope_decode(json, strlen(json), &env), -EMSGSIZE);
    free(json);
    free(b64);
    b64 = NULL;
    /* Exactly at the limit is accepted. */
    assert_int_equal(base64_encode(big, DSSE_MAX_PAYLOAD, &b64), 0);
    assert_true(asprintf(&json,
                         "{\"payload\":\"%s\",\"payloadType\":\"t\",\"signatures\":"
                         "[{\"sig\":\"\"}]}",
                         b64) > 0);
    assert_int_equal(dsse_envelope_decode(json, strlen(json), &env), 0);
    env = dsse_envelope_free(env);
    env = POISON_PTR;
    free(json);
    /* payloadType over its limit. */
    type = calloc(1, DSSE_MAX_PAYLOAD_TYPE + 2);
    memset(type, 'a', DSSE_MAX_PAYLOAD_TYPE + 1);
    assert_true(asprintf(&json,
                         "{\"payload\":\"\",\"payloadType\":\"%s\",\"signatures\":"
                         "[{\"sig\":\"\"}]}",
                         type) > 0);
    assert_int_equal(dsse_envelope_decode(json, strlen(json), &env), -EMSGSIZE);
    /* Whole text over DSSE_MAX_ENVELOPE: refused before parsing. */
    n = DSSE_MAX_ENVELOPE + 1;
    huge = malloc(n);
    memset(huge, ' ', n);
    assert_int_equal(dsse_envelope_decode(huge, n, &env), -EMSGSIZE);
    assert_ptr_equal(env, POISON_PTR);
}

/* The streaming envelope hash equals SHA-256 of dsse_envelope_encode's text: payloads across
 * base64 chunk boundaries, with and without keyid; and it refuses what json-c would escape. */
static void test_envelope_sha256_stream(void **state)
{
    static const size_t sizes[] = {0, 1, 2, 3, 4, 49151, 49152, 49153, 98305, 300001};
    _cleanup_free_ uint8_t *payload = malloc(300001);
    const uint8_t sig[] = {0x30, 0x45, 0x02, 0x21, 0xff, 0x00, 0x7f};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    assert_non_null(payload);
    assert_non_null(ctx);
    for (size_t i = 0; i < 300001; i++)
        payload[i] = (uint8_t)(i * 7919u >> 3);
    for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
        for (int with_keyid = 0; with_keyid < 2; with_keyid++) {
            struct dsse_signature s = {.keyid = with_keyid ? "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
                                                           : NULL,
                                       .sig = sig,
                                       .sig_len = sizeof(sig)};
            _cleanup_free_ char *text = NULL;
            uint8_t want[32], got[32];
            size_t len = 0;

            assert_int_equal(dsse_envelope_encode("application/vnd.in-toto+json", payload, sizes[i],
                                                  &s, 1, &text, &len),
                             0);
            assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, text, len, want, sizeof(want)), 0);
            if (!with_keyid) { /* the streamed PAE hash equals SHA-256 of the built PAE */
                _cleanup_free_ uint8_t *pae = NULL;
                uint8_t a[32], b[32];
                size_t pn = 0;
                assert_int_equal(dsse_pae("t/x", 3, payload, sizes[i], &pae, &pn), 0);
                assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, pae, pn, a, sizeof(a)), 0);
                assert_int_equal(dsse_pae_sha256("t/x", 3, payload, sizes[i], b), 0);
                assert_memory_equal(a, b, 32);
            }
            assert_int_equal(dsse_envelope_sha256_begin(ctx, "application/vnd.in-toto+json",
                                                        payload, sizes[i]),
                             0);
            assert_int_equal(dsse_envelope_sha256_end(ctx, s.keyid, sig, sizeof(sig), got), 0);
            assert_memory_equal(got, want, 32);
            /* end works on a copy: a second signature over the same state differs. */
            assert_int_equal(dsse_envelope_sha256_end(ctx, s.keyid, sig, sizeof(sig) - 1, got), 0);
            assert_memory_not_equal(got, want, 32);
        }
    {
        uint8_t d[32];
        assert_int_equal(dsse_envelope_sha256_begin(ctx, "a\"b", payload, 1), -EINVAL);
        assert_int_equal(dsse_envelope_sha256_begin(ctx, "a\\b", payload, 1), -EINVAL);
        assert_int_equal(dsse_envelope_sha256_begin(ctx, "a\nb", payload, 1), -EINVAL);
        assert_int_equal(dsse_envelope_sha256_begin(ctx, "t", NULL, 1), -EINVAL);
        assert_int_equal(dsse_pae_sha256("t", 1, NULL, 1, d), -EINVAL);
        assert_int_equal(dsse_pae_sha256("t", 1, payload, DSSE_MAX_PAYLOAD + 1, d), -EMSGSIZE);
        assert_int_equal(dsse_pae_sha256("t", DSSE_MAX_PAYLOAD_TYPE + 1, payload, 1, d), -EMSGSIZE);
        assert_int_equal(dsse_envelope_sha256_begin(ctx, "t", payload, DSSE_MAX_PAYLOAD + 1),
                         -EMSGSIZE);
        assert_int_equal(dsse_envelope_sha256_begin(ctx, "t", payload, 3), 0);
        assert_int_equal(dsse_envelope_sha256_end(ctx, "k\"", sig, sizeof(sig), d), -EINVAL);
        assert_int_equal(dsse_envelope_sha256_end(ctx, NULL, sig, 0, d), -EINVAL);
        assert_int_equal(dsse_envelope_sha256_end(ctx, NULL, sig, DSSE_MAX_SIG + 1, d), -EMSGSIZE);
    }
    EVP_MD_CTX_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_pae_kat),         cmocka_unit_test(test_pae_limits),
            cmocka_unit_test(test_ed25519_vectors), cmocka_unit_test(test_ecdsa_protocol_vector),
            cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_encode_errors),
            cmocka_unit_test(test_lenient_inputs),  cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_size_limits),     cmocka_unit_test(test_envelope_sha256_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
