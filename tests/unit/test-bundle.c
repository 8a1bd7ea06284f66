/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle: the FORMATS 4.7 vectors (verified with the key given there, and the hint convention
 * cross-checked against their base64 hint), bundles written by independent signers
 * (make_bundle.py and openssl dgst, tests/data/format), round trips of both kinds with real
 * P-256 keys, every way verification must fail (tampered payload, payloadType or signature,
 * wrong key, digest mismatch, unsigned/non-Statement payloads) with its distinct error code,
 * and malformed or unsupported bundles.
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

#include <openssl/evp.h>

#include "bundle.h"
#include "crypto-cleanup.h"
#include "crypto.h"
#include "format.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

static EVP_PKEY *key_a, *key_b;
static char *hint_a;

static char *pubkey_hint(EVP_PKEY *k)
{
    unsigned char *der = NULL;
    char *hint = NULL;
    int n = i2d_PUBKEY(k, &der);

    assert_true(n > 0);
    assert_int_equal(bundle_hint_from_spki(der, (size_t)n, &hint), 0);
    OPENSSL_free(der);
    return hint;
}

static int setup(void **state)
{
    key_a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    key_b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!key_a || !key_b)
        return -1;
    hint_a = pubkey_hint(key_a);
    return 0;
}

static int teardown(void **state)
{
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    free(hint_a);
    return 0;
}

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

static void sha256(const void *data, size_t len, uint8_t out[32])
{
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, data, len, out, 32), 0);
}

static EVP_PKEY *key_from_pem(const char *pem)
{
    _cleanup_free_ uint8_t *spki = NULL;
    size_t n = 0;
    EVP_PKEY *k = NULL;

    assert_int_equal(spki_from_pem((const uint8_t *)pem, strlen(pem), &spki, &n), 0);
    assert_int_equal(spki_parse(spki, n, &k), 0);
    return k;
}

static struct bundle *decode_ok(const char *json)
{
    struct bundle *b = NULL;
    int r = bundle_decode(json, strlen(json), &b);

    if (r != 0)
        fail_msg("decode failed (%d): %.400s", r, json);
    return b;
}

static char *read_data(const char *name)
{
    char path[1024];
    FILE *f;
    char *buf = calloc(1, 65536);
    size_t n;

    assert_true(snprintf(path, sizeof(path), "%s/%s", FORMAT_TEST_DATA, name) < (int)sizeof(path));
    f = fopen(path, "re");
    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* FORMATS 4.7 */
static const char vec_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhEW+hcjyOq7SQniDuxS5GPaUNpTk\n"
                              "t1MuKAEJn23YU2CqPyhixqCwARtoNJ/VqDsgJBf074wPdbCQHbMd07KaEw==\n"
                              "-----END PUBLIC KEY-----\n";
#define VEC_HINT "oAkZ9ZFLvFQbb8eYHICdstJXAUDAZQYyoLtIsa7p+Ec="
static const char vec_msg[] =
        "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\""
        ":{\"publicKey\":{\"hint\":\"" VEC_HINT "\"},\"tlogEntries\":[]},\"messageSignature\":{"
        "\"messageDigest\":{\"algorithm\":\"SHA2_256\",\"digest\":\"hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1"
        "IcPswg2nyXYCA=\"},\"signature\":\"MEYCIQC/xMmPRJdXZm0JQ7LIlf4JRLOFMhZBEQMqHFHAJIXQ/QIhAMK9"
        "QNUQbV9vIAOUfJTmAjeO2eUDnX8Vktn2Jb8hE/gC\"}}";
static const char vec_dsse[] =
        "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\""
        ":{\"publicKey\":{\"hint\":\"" VEC_HINT "\"},\"tlogEntries\":[]},\"dsseEnvelope\":{"
        "\"payload\":\"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJ"
        "uYW1lIjoiYXJ0aWZhY3QudHh0IiwiZGlnZXN0Ijp7InNoYTI1NiI6Ijg1M2ZmOTM3NjJhMDZkZGJmNzIyYzRlYmU5"
        "ZGRkNjZkOGY2M2RkYWVhOTdmNTIxYzNlY2MyMGRhN2M5NzYwMjAifX1dLCJwcmVkaWNhdGVUeXBlIjoiaHR0cHM6L"
        "y9leGFtcGxlLmNvbS90ZXN0L3YxIiwicHJlZGljYXRlIjp7fX0=\",\"payloadType\":\"application/vnd.i"
        "n-toto+json\",\"signatures\":[{\"sig\":\"MEUCIF+hfLs0JOMMwltU5twA1j4hXnKzQtOntBYPKpmqZ7Ny"
        "AiEAqfaNwPgd70/qwzsFsusxVR6pEuOLPhX6QLT+i3wU9CE=\",\"keyid\":\"" VEC_HINT "\"}]}}";

static void test_formats_vectors(void **state)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = key_from_pem(vec_pub);
    _cleanup_(bundle_freep) struct bundle *m = decode_ok(vec_msg), *d = decode_ok(vec_dsse);
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_free_ uint8_t *spki = NULL, *h = NULL;
    _cleanup_free_ char *hint = NULL, *hex = NULL;
    uint8_t art[32], other[32];
    size_t n = 0, hl = 0;
    struct intoto_statement *poison = POISON_PTR;

    sha256("hello, world\n", 13, art);
    sha256("hello, world!", 13, other);
    assert_int_equal(bundle_get_kind(m), BUNDLE_MESSAGE_SIGNATURE);
    assert_string_equal(bundle_get_hint(m), VEC_HINT);
    assert_memory_equal(bundle_get_message_digest(m), art, 32);
    assert_int_equal(bundle_verify(m, k, art, NULL), 0);
    assert_int_equal(bundle_verify(m, k, NULL, NULL), 0);
    assert_int_equal(bundle_verify(m, k, other, NULL), -ENOENT);
    assert_int_equal(bundle_verify(m, key_a, art, NULL), -EBADMSG);

    assert_int_equal(bundle_get_kind(d), BUNDLE_DSSE_ENVELOPE);
    assert_null(bundle_get_message_digest(d));
    assert_int_equal(bundle_verify(d, k, other, &poison), -ENOENT);
    assert_ptr_equal(poison, POISON_PTR);
    assert_int_equal(bundle_verify(d, key_a, NULL, &poison), -EBADMSG);
    assert_ptr_equal(poison, POISON_PTR);
    assert_int_equal(bundle_verify(d, k, art, &st), 0);
    assert_string_equal(intoto_statement_subject_name(st, 0), "artifact.txt");
    assert_string_equal(intoto_statement_predicate_type(st), "https://example.com/test/v1");

    /* Our hint is the hex of the very digest whose base64 the vector carries. */
    assert_int_equal(spki_from_pem((const uint8_t *)vec_pub, strlen(vec_pub), &spki, &n), 0);
    assert_int_equal(bundle_hint_from_spki(spki, n, &hint), 0);
    assert_int_equal(base64_decode(VEC_HINT, strlen(VEC_HINT), &h, &hl), 0);
    assert_int_equal(hex_encode(h, hl, &hex), 0);
    assert_string_equal(hint, hex);
    assert_int_equal(strlen(hint), 64);
}

/* Made by tests/data/format/README's commands: Python cryptography and openssl, not our code. */
static void test_independent_signers(void **state)
{
    _cleanup_free_ char *pem = read_data("py-pub.pem"), *dsse = read_data("py-dsse.bundle.json");
    _cleanup_free_ char *msg = read_data("openssl-msgsig.bundle.json");
    _cleanup_free_ char *envtext = read_data("py-dsse.envelope.json");
    _cleanup_free_ char *art = read_data("artifact.txt"), *hint = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = key_from_pem(pem);
    _cleanup_(bundle_freep) struct bundle *bd = decode_ok(dsse), *bm = decode_ok(msg);
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    uint8_t dg[32];
    size_t n = 0;

    sha256(art, strlen(art), dg);
    assert_int_equal(spki_from_pem((const uint8_t *)pem, strlen(pem), &spki, &n), 0);
    assert_int_equal(bundle_hint_from_spki(spki, n, &hint), 0);
    /* make_bundle.py uses the same hint convention. */
    assert_string_equal(bundle_get_hint(bd), hint);
    assert_string_equal(bundle_get_hint(bm), hint);

    assert_int_equal(bundle_verify(bd, k, dg, &st), 0);
    assert_string_equal(intoto_statement_subject_name(st, 0), "artifact.txt");
    assert_string_equal(intoto_statement_predicate_type(st), "https://slsa.dev/provenance/v1");
    assert_int_equal(bundle_verify(bd, key_a, dg, NULL), -EBADMSG);
    assert_int_equal(bundle_verify(bm, k, dg, NULL), 0);
    assert_int_equal(bundle_verify(bm, key_b, dg, NULL), -EBADMSG);

    assert_int_equal(dsse_envelope_decode(envtext, strlen(envtext), &env), 0);
    assert_int_equal(dsse_envelope_verify(env, k, NULL), 0);
}

static void test_round_trip_message(void **state)
{
    static const char artifact[] = "some artifact bytes";
    _cleanup_free_ char *json = NULL;
    _cleanup_(bundle_freep) struct bundle *b = NULL;
    uint8_t dg[32], sig[80];
    size_t sl, n = 0, gl = 0;
    const uint8_t *g;

    sha256(artifact, strlen(artifact), dg);
    sl = sign_digest(key_a, dg, sig, sizeof(sig));
    assert_int_equal(bundle_encode_message_signature(hint_a, dg, sig, sl, &json, &n), 0);
    assert_int_equal(strlen(json), n);
    assert_non_null(strstr(json, "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json"
                                 "\",\"verificationMaterial\":{\"publicKey\":{\"hint\":\""));
    assert_non_null(strstr(json, "\"},\"tlogEntries\":[]},\"messageSignature\":{\"messageDigest"
                                 "\":{\"algorithm\":\"SHA2_256\",\"digest\":\""));
    b = decode_ok(json);
    assert_string_equal(bundle_get_media_type(b), BUNDLE_MEDIA_TYPE);
    assert_string_equal(bundle_get_hint(b), hint_a);
    assert_null(bundle_get_envelope(b));
    g = bundle_get_signature(b, &gl);
    assert_int_equal(gl, sl);
    assert_memory_equal(g, sig, sl);
    assert_int_equal(bundle_verify(b, key_a, dg, NULL), 0);
    assert_int_equal(bundle_verify(b, key_b, dg, NULL), -EBADMSG);
    dg[31] ^= 1;
    assert_int_equal(bundle_verify(b, key_a, dg, NULL), -ENOENT);
}

/* Encode a DSSE bundle whose signature covers (sign_type, sign_payload) but which carries
 * (type, payload): equal arguments give a valid bundle, different ones a tampered one. */
static char *dsse_bundle(EVP_PKEY *k, const char *sign_type, const char *sign_payload,
                         const char *type, const char *payload, bool flip_sig)
{
    uint8_t dg[32], sig[80];
    size_t sl, n = 0;
    char *json = NULL;

    assert_int_equal(dsse_pae_sha256(sign_type, strlen(sign_type), (const uint8_t *)sign_payload,
                                     strlen(sign_payload), dg),
                     0);
    sl = sign_digest(k, dg, sig, sizeof(sig));
    if (flip_sig)
        sig[sl - 1] ^= 0x01;
    assert_int_equal(bundle_encode_dsse(hint_a, type, (const uint8_t *)payload, strlen(payload),
                                        sig, sl, &json, &n),
                     0);
    return json;
}

#define STMT(name, hex)                                                                            \
    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"" name "\","          \
    "\"digest\":{\"sha256\":\"" hex "\"}}],\"predicateType\":\"https://e/p\",\"predicate\":{}}"
#define HEX_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_round_trip_dsse(void **state)
{
    static const char it[] = INTOTO_PAYLOAD_TYPE;
    uint8_t abc[32], other[32];
    struct {
        char *json;
        int err;
    } cases[] = {
            {dsse_bundle(key_a, it, STMT("abc", HEX_ABC), it, STMT("abc", HEX_ABC), false), 0},
            /* tampered payload: a different subject under the old signature */
            {dsse_bundle(key_a, it, STMT("abc", HEX_ABC), it, STMT("abd", HEX_ABC), false),
             -EBADMSG},
            /* tampered payloadType */
            {dsse_bundle(key_a, it, STMT("abc", HEX_ABC), "application/vnd.in-toto.x+json",
                         STMT("abc", HEX_ABC), false),
             -EBADMSG},
            /* tampered signature */
            {dsse_bundle(key_a, it, STMT("abc", HEX_ABC), it, STMT("abc", HEX_ABC), true),
             -EBADMSG},
            /* wrong key */
            {dsse_bundle(key_b, it, STMT("abc", HEX_ABC), it, STMT("abc", HEX_ABC), false),
             -EBADMSG},
            /* validly signed, but not an in-toto payload / not a Statement */
            {dsse_bundle(key_a, "text/plain", "hello", "text/plain", "hello", false), -EINVAL},
            {dsse_bundle(key_a, it, "{\"_type\":1}", it, "{\"_type\":1}", false), -EINVAL},
    };

    sha256("abc", 3, abc);
    sha256("abd", 3, other);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_(bundle_freep) struct bundle *b = decode_ok(cases[i].json);
        struct intoto_statement *st = POISON_PTR;
        int r = bundle_verify(b, key_a, abc, &st);

        if (r != cases[i].err)
            fail_msg("case %zu: got %d, want %d", i, r, cases[i].err);
        if (r == 0) {
            assert_string_equal(intoto_statement_subject_name(st, 0), "abc");
            st = intoto_statement_free(st);
            /* without an artifact, and for an artifact it does not name */
            assert_int_equal(bundle_verify(b, key_a, NULL, NULL), 0);
            st = POISON_PTR;
            assert_int_equal(bundle_verify(b, key_a, other, &st), -ENOENT);
            const struct dsse_envelope *env = bundle_get_envelope(b);
            const char *kid = NULL;
            assert_int_equal(dsse_envelope_signature(env, 0, NULL, NULL, &kid), 0);
            assert_string_equal(kid, hint_a); /* keyid = hint */
        }
        assert_ptr_equal(st, POISON_PTR);
        free(cases[i].json);
    }
}

static void test_encode_errors(void **state)
{
    uint8_t dg[32] = {0}, sig[8] = {1};
    char *json = POISON_PTR, longhint[BUNDLE_MAX_HINT + 2];
    size_t n = 42;

    memset(longhint, 'h', sizeof(longhint) - 1);
    longhint[sizeof(longhint) - 1] = '\0';
    assert_int_equal(bundle_encode_message_signature(NULL, dg, sig, 8, &json, &n), -EINVAL);
    assert_int_equal(bundle_encode_message_signature("", dg, sig, 8, &json, &n), -EINVAL);
    assert_int_equal(bundle_encode_message_signature(longhint, dg, sig, 8, &json, &n), -EMSGSIZE);
    assert_int_equal(bundle_encode_message_signature("h", dg, sig, 0, &json, &n), -EINVAL);
    assert_int_equal(bundle_encode_message_signature("h", dg, sig, DSSE_MAX_SIG + 1, &json, &n),
                     -EMSGSIZE);
    assert_int_equal(bundle_encode_dsse("h", "t", (const uint8_t *)"", 0, sig, 8, &json, &n),
                     -EINVAL);
    assert_int_equal(bundle_encode_dsse("h", "t", (const uint8_t *)"x", 1, sig, 0, &json, &n),
                     -EINVAL);
    assert_int_equal(bundle_hint_from_spki(NULL, 0, &json), -EINVAL);
    assert_int_equal(bundle_hint_from_spki(sig, HWSIGN_MAX_SPKI + 1, &json), -EINVAL);
    assert_ptr_equal(json, POISON_PTR);
    assert_int_equal(n, 42);
}

#define VM   "\"verificationMaterial\":{\"publicKey\":{\"hint\":\"h\"},\"tlogEntries\":[]}"
#define MT   "\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\""
#define SIG  "MEQCIA=="
#define DGST "hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYCA="
#define MS(a, d)                                                                                   \
    "\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"" a "\",\"digest\":\"" d             \
    "\"},\"signature\":\"" SIG "\"}"
#define DE(sigs)                                                                                   \
    "\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":" sigs "}"

static void test_accepted_variants(void **state)
{
    static const char *const ok[] = {
            "{" MT "," VM "," MS("SHA2_256", DGST) "}",
            "{\"mediaType\":\"application/vnd.dev.sigstore.bundle+json;version=0.1\"," VM
            "," MS("SHA2_256", DGST) "}",
            "{\"mediaType\":\"application/vnd.dev.sigstore.bundle+json;version=0.2\"," VM
            "," MS("SHA2_256", DGST) "}",
            "{\"mediaType\":\"application/vnd.dev.sigstore.bundle+json;version=0.3\"," VM
            "," MS("SHA2_256", DGST) "}",
            /* no hint, no tlogEntries, timestamps present, URL-safe unpadded digest */
            "{" MT ",\"verificationMaterial\":{\"publicKey\":{},\"timestampVerificationData\":"
            "{\"rfc3161Timestamps\":[]}}," MS("SHA2_256",
                                              "hT_5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYCA") "}",
            /* tlog entries are accepted, not inspected */
            "{" MT ",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"h\"},\"tlogEntries\":"
            "[{\"logIndex\":\"1\"}]}," DE("[{\"sig\":\"AA==\"}]") "}",
            /* DSSE: keyid absent, unknown envelope member ignored */
            "{" MT "," VM ",\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"t\","
            "\"signatures\":[{\"sig\":\"AA==\"}],\"x\":1}}",
    };
    for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
        _cleanup_(bundle_freep) struct bundle *b = decode_ok(ok[i]);
        (void)b;
    }
    _cleanup_(bundle_freep) struct bundle *b = decode_ok(ok[4]);
    assert_string_equal(bundle_get_hint(b), "");
}

static void test_malformed(void **state)
{
    static const struct {
        const char *json;
        int err;
    } bad[] = {
            {"{\"mediaType\":\"application/json\"," VM "," MS("SHA2_256", DGST) "}", -EINVAL},
            {"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.4+json\"," VM
             "," MS("SHA2_256", DGST) "}",
             -EINVAL},
            {"{" VM "," MS("SHA2_256", DGST) "}", -EINVAL},
            {"{" MT "," MS("SHA2_256", DGST) "}", -EINVAL},
            {"{" MT "," VM "}", -EINVAL},
            {"{" MT "," VM "," MS("SHA2_256", DGST) "," DE("[{\"sig\":\"AA==\"}]") "}", -EINVAL},
            {"{" MT "," VM "," MS("SHA2_256", DGST) ",\"extra\":1}", -EINVAL},
            {"{" MT ",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"h\"},\"x\":1}," MS(
                     "SHA2_256", DGST) "}",
             -EINVAL},
            {"{" MT
             ",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"h\",\"rawBytes\":\"\"}}," MS(
                     "SHA2_256", DGST) "}",
             -EINVAL},
            {"{" MT
             ",\"verificationMaterial\":{\"publicKey\":{\"hint\":7}}," MS("SHA2_256", DGST) "}",
             -EINVAL},
            {"{" MT ",\"verificationMaterial\":{\"tlogEntries\":[]}," MS("SHA2_256", DGST) "}",
             -EINVAL},
            {"{" MT ",\"verificationMaterial\":{\"certificate\":{\"rawBytes\":\"AA==\"}}," MS(
                     "SHA2_256", DGST) "}",
             -EOPNOTSUPP},
            {"{" MT ",\"verificationMaterial\":{\"publicKey\":{},\"certificate\":{}}," MS(
                     "SHA2_256", DGST) "}",
             -EINVAL},
            {"{" MT ",\"verificationMaterial\":{\"publicKey\":{},\"tlogEntries\":[1]}," MS(
                     "SHA2_256", DGST) "}",
             -EINVAL},
            {"{" MT "," VM "," MS("SHA2_384", DGST) "}", -EOPNOTSUPP},
            {"{" MT "," VM "," MS("sha256", DGST) "}", -EINVAL},
            {"{" MT "," VM "," MS("SHA2_256", "hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYA==") "}",
             -EINVAL},
            {"{" MT "," VM "," MS("SHA2_256", "") "}", -EINVAL},
            {"{" MT "," VM ",\"messageSignature\":{\"signature\":\"" SIG "\"}}", -EINVAL},
            {"{" MT "," VM ",\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\","
             "\"digest\":\"" DGST "\"}}}",
             -EINVAL},
            {"{" MT "," VM ",\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\","
             "\"digest\":\"" DGST "\"},\"signature\":\"\"}}",
             -EINVAL},
            {"{" MT "," VM ",\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\","
             "\"digest\":\"" DGST "\"},\"signature\":\"" SIG "\",\"x\":1}}",
             -EINVAL},
            {"{" MT "," VM "," DE("[{\"sig\":\"AA==\"},{\"sig\":\"AA==\"}]") "}", -EINVAL},
            {"{" MT "," VM "," DE("[]") "}", -EINVAL},
            {"{" MT "," VM ",\"dsseEnvelope\":{\"payload\":\"\",\"payloadType\":\"t\","
             "\"signatures\":[{\"sig\":\"AA==\"}]}}",
             -EINVAL},
            {"{" MT "," VM ",\"dsseEnvelope\":[]}", -EINVAL},
            {"{" MT "," MT "," VM "," MS("SHA2_256", DGST) "}", -EINVAL},
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct bundle *b = POISON_PTR;
        int r = bundle_decode(bad[i].json, strlen(bad[i].json), &b);
        if (r != bad[i].err)
            fail_msg("case %zu: got %d, want %d: %s", i, r, bad[i].err, bad[i].json);
        assert_ptr_equal(b, POISON_PTR);
    }

    /* Over BUNDLE_MAX_JSON: refused before parsing. */
    _cleanup_free_ char *huge = malloc(BUNDLE_MAX_JSON + 1);
    struct bundle *b = POISON_PTR;
    memset(huge, ' ', BUNDLE_MAX_JSON + 1);
    assert_int_equal(bundle_decode(huge, BUNDLE_MAX_JSON + 1, &b), -EMSGSIZE);
    assert_ptr_equal(b, POISON_PTR);
}

/* A messageSignature bundle whose messageDigest was altered after signing. */
static void test_message_digest_tampered(void **state)
{
    static const char artifact[] = "artifact";
    _cleanup_free_ char *json = NULL;
    _cleanup_(bundle_freep) struct bundle *b = NULL;
    uint8_t dg[32], lie[32], sig[80];
    size_t sl, n = 0;

    sha256(artifact, strlen(artifact), dg);
    sl = sign_digest(key_a, dg, sig, sizeof(sig));
    memcpy(lie, dg, 32);
    lie[0] ^= 0x80;
    assert_int_equal(bundle_encode_message_signature(hint_a, lie, sig, sl, &json, &n), 0);
    b = decode_ok(json);
    /* With the real artifact: the bundle names another digest. */
    assert_int_equal(bundle_verify(b, key_a, dg, NULL), -ENOENT);
    /* Without: the signature does not cover the digest it names. */
    assert_int_equal(bundle_verify(b, key_a, NULL, NULL), -EBADMSG);
    assert_int_equal(bundle_verify(NULL, key_a, NULL, NULL), -EINVAL);
    assert_int_equal(bundle_verify(b, NULL, NULL, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_formats_vectors),
            cmocka_unit_test(test_independent_signers),
            cmocka_unit_test(test_round_trip_message),
            cmocka_unit_test(test_round_trip_dsse),
            cmocka_unit_test(test_encode_errors),
            cmocka_unit_test(test_accepted_variants),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_message_digest_tampered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
