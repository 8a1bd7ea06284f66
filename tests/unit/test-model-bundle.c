/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DSSE verification path model signatures need (bundle_verify_ex with
 * BUNDLE_VERIFY_DSSE_CURVE_HASH): the upstream OpenSSF model_signing v1.1.0 signed model
 * (P-384, SHA-384) verifies with it and not without, and its payload is the manifest of its
 * files; byte changes to the payload or signature are refused. With generated keys: P-384 over
 * SHA-384 and P-521 over SHA-512 need the flag, SHA-256 always verifies, P-256 never takes
 * another hash, wrong keys fail; messageSignature bundles and unknown flags behave as before.
 * Also the model_signing key hint (hex SHA-256 of the PEM text).
 */
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
#include <openssl/x509.h>

#include "bundle.h"
#include "crypto.h"
#include "dsse.h"
#include "format.h"
#include "intoto.h"
#include "macro.h"
#include "model-manifest.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

/* v1.1.0-elliptic-key/model.sig, byte for byte (one line, no newline). */
static const char vector_sig[] =
        "{\"mediaType\":\"application/"
        "vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"publ"
        "icKey\":{\"hint\":\"e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e\"},"
        "\"tlogEn"
        "tries\":[]},\"dsseEnvelope\":{\"payload\":"
        "\"ewogICJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVt"
        "ZW50L3YxIiwKICAic3ViamVjdCI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAidjEuMS4wLWVsbGlwdGljLWtleSIsCi"
        "AgICAgICJkaWdlc3QiOiB7CiAgICAgICAgInNoYTI1NiI6ICI5Mjc0NTExMGIxYWI0MzY4NDcxY2JlMzE2NjRlMTAx"
        "NzRlOTU0YjExM2EzZGYzMzNkYjg2MDMxN2IyYzZkZWM0IgogICAgICB9CiAgICB9CiAgXSwKICAicHJlZGljYXRlVH"
        "lwZSI6ICJodHRwczovL21vZGVsX3NpZ25pbmcvc2lnbmF0dXJlL3YxLjAiLAogICJwcmVkaWNhdGUiOiB7CiAgICAi"
        "cmVzb3VyY2VzIjogWwogICAgICB7CiAgICAgICAgImFsZ29yaXRobSI6ICJzaGEyNTYiLAogICAgICAgICJuYW1lIj"
        "ogInNpZ25tZS0xIiwKICAgICAgICAiZGlnZXN0IjogImJjOWE3MTdkYjYwNjRhMzJjYmU5ZWFlNmZjNDA2NTFkZDZk"
        "MzZlZjE3NTcxODNmNTkwZWZmMmIxNzY1ZDdlYmMiCiAgICAgIH0sCiAgICAgIHsKICAgICAgICAiYWxnb3JpdGhtIj"
        "ogInNoYTI1NiIsCiAgICAgICAgIm5hbWUiOiAic2lnbm1lLTIiLAogICAgICAgICJkaWdlc3QiOiAiMzJkY2IxZjhl"
        "MWFlNTJkNTk2M2U1NmE2YmEwNmFiNThiNDI0YzE1ZWQyYTZiNzBkMmZlY2ExZDA4OTM3MDAyOCIKICAgICAgfQogIC"
        "AgXSwKICAgICJzZXJpYWxpemF0aW9uIjogewogICAgICAiYWxsb3dfc3ltbGlua3MiOiBmYWxzZSwKICAgICAgIm1l"
        "dGhvZCI6ICJmaWxlcyIsCiAgICAgICJoYXNoX3R5cGUiOiAic2hhMjU2IiwKICAgICAgImlnbm9yZV9wYXRocyI6IF"
        "sKICAgICAgICAiLmdpdCIsCiAgICAgICAgIm1vZGVsLnNpZyIsCiAgICAgICAgImlnbm9yZS1tZSIsCiAgICAgICAg"
        "Ii5naXRhdHRyaWJ1dGVzIiwKICAgICAgICAiLmdpdGlnbm9yZSIsCiAgICAgICAgIi5naXRodWIiCiAgICAgIF0KIC"
        "AgIH0KICB9Cn0=\",\"payloadType\":\"application/"
        "vnd.in-toto+json\",\"signatures\":[{\"sig\":\"MGUCMQC"
        "VqSw64cBnPHqbyadq+OIgwQSg7WW8Mztp3dJ++atQsxzbtwafJJ164u7WEXmx5hECMBSiShuN7OTLec6wLXpHUjFIQ"
        "A/hhiBCjSzM9Q2cIUZpDmv+tWs1AkNxstJDbNl0lQ==\",\"keyid\":\"\"}]}}";
static const char vector_pem[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEsu6rZGBTjxtvRWPMixT+3HyndV0J0Ybt\n"
        "aHZUcO4DEK+OJHO/4e32bb/fbJKSpRgcBsIpKLcVijUomyFOERbd7u+BTPSUjGZD\n"
        "Qq6J7lTvp/EAXQGOKxW9RP0MGX3qAkvi\n"
        "-----END PUBLIC KEY-----\n";

static EVP_PKEY *pem_key(const char *pem)
{
    uint8_t *spki = NULL;
    size_t len = 0;
    EVP_PKEY *k = NULL;

    assert_int_equal(spki_from_pem((const uint8_t *)pem, strlen(pem), &spki, &len), 0);
    assert_int_equal(spki_parse(spki, len, &k), 0);
    free(spki);
    return k;
}

static struct bundle *decode(const char *json)
{
    struct bundle *b = NULL;

    assert_int_equal(bundle_decode(json, strlen(json), &b), 0);
    return b;
}

static void test_upstream_vector(void **state)
{
    EVP_PKEY *k = pem_key(vector_pem);
    struct bundle *b = decode(vector_sig);
    struct intoto_statement *st = POISON_PTR;
    struct model_manifest *m = NULL;

    assert_string_equal(bundle_get_hint(b),
                        "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
    /* SHA-256(PAE), all bundle_verify knows, does not verify this P-384 signature ... */
    assert_int_equal(bundle_verify(b, k, NULL, &st), -EBADMSG);
    assert_int_equal(bundle_verify_ex(b, k, NULL, 0, &st), -EBADMSG);
    assert_ptr_equal(st, POISON_PTR);
    /* ... SHA-384(PAE), as model_signing signs with P-384, does. */
    assert_int_equal(bundle_verify_ex(b, k, NULL, BUNDLE_VERIFY_DSSE_CURVE_HASH, &st), 0);
    assert_string_equal(intoto_statement_predicate_type(st), MODEL_PREDICATE_TYPE);
    assert_int_equal(model_manifest_from_statement(st, &m), 0);
    assert_string_equal(model_manifest_name(m), "v1.1.0-elliptic-key");
    assert_int_equal(model_manifest_serialization(m)->method, MODEL_METHOD_FILES);
    assert_false(model_manifest_serialization(m)->allow_symlinks);
    assert_int_equal(model_manifest_n_resources(m), 2);
    assert_string_equal(model_manifest_resource(m, 1)->name, "signme-2");
    assert_int_equal(model_manifest_n_ignore(m), 6);
    assert_string_equal(model_manifest_ignore(m, 4), "ignore-me");
    assert_string_equal(model_manifest_ignore(m, 5), "model.sig");
    model_manifest_free(m);
    intoto_statement_free(st);
    bundle_free(b);
    EVP_PKEY_free(k);
}

/* The vector with one base64 character of member `what` changed. */
static void test_upstream_vector_tampered(void **state)
{
    static const char *const members[] = {"\"payload\":\"", "\"sig\":\""};
    EVP_PKEY *k = pem_key(vector_pem);

    for (size_t i = 0; i < ELEMENTSOF(members); i++)
        for (size_t off = 10; off < 90; off += 20) {
            char *copy = strdup(vector_sig);
            char *at = strstr(copy, members[i]);
            struct bundle *b = NULL;
            struct intoto_statement *st = POISON_PTR;
            char *c;

            assert_non_null(at);
            c = at + strlen(members[i]) + off;
            *c = *c == 'A' ? 'B' : 'A';
            if (bundle_decode(copy, strlen(copy), &b) == 0) {
                assert_int_equal(bundle_verify_ex(b, k, NULL, BUNDLE_VERIFY_DSSE_CURVE_HASH, &st),
                                 -EBADMSG);
                assert_ptr_equal(st, POISON_PTR);
                bundle_free(b);
            }
            free(copy);
        }
    EVP_PKEY_free(k);
}

/* The model_signing hint: hex SHA-256 of the PEM text OpenSSL writes for the key. */
static void test_pem_hint(void **state)
{
    uint8_t *spki = NULL, d[32];
    size_t len = 0;
    char *pem = NULL, *hint = NULL, *der_hint = NULL;

    assert_int_equal(spki_from_pem((const uint8_t *)vector_pem, strlen(vector_pem), &spki, &len),
                     0);
    assert_int_equal(spki_to_pem(spki, len, &pem), 0);
    assert_string_equal(pem, vector_pem); /* byte-identical to Python cryptography's */
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, pem, strlen(pem), d, sizeof(d)), 0);
    assert_int_equal(hex_encode(d, 32, &hint), 0);
    assert_string_equal(hint, "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
    assert_int_equal(bundle_hint_from_spki(spki, len, &der_hint), 0);
    assert_string_not_equal(der_hint, hint); /* our DER convention is another string */
    free(spki);
    free(pem);
    free(hint);
    free(der_hint);
}

static const char stmt[] =
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
        "\"m\",\"digest\":{\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
        "649b934ca495991b7852b855\"}}],\"predicateType\":\"https://model_signing"
        "/signature/v1.0\",\"predicate\":{\"serialization\":{\"method\":\"files\""
        ",\"hash_type\":\"sha256\",\"allow_symlinks\":false},\"resources\":[]}}";

/* A DSSE bundle over stmt signed by k with ECDSA over md(PAE). */
static struct bundle *sign_with(EVP_PKEY *k, const EVP_MD *md)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *pae = NULL, sig[256];
    size_t pae_len = 0, sig_len = sizeof(sig), json_len = 0;
    char *json = NULL;
    struct bundle *b;

    assert_int_equal(dsse_pae(INTOTO_PAYLOAD_TYPE, strlen(INTOTO_PAYLOAD_TYPE),
                              (const uint8_t *)stmt, strlen(stmt), &pae, &pae_len),
                     0);
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, pae, pae_len), 1);
    assert_int_equal(bundle_encode_dsse("hint", INTOTO_PAYLOAD_TYPE, (const uint8_t *)stmt,
                                        strlen(stmt), sig, sig_len, &json, &json_len),
                     0);
    b = decode(json);
    free(json);
    free(pae);
    EVP_MD_CTX_free(ctx);
    return b;
}

static void test_curve_hashes(void **state)
{
    static const struct {
        const char *curve;
        const EVP_MD *(*md)(void);
        int plain, flagged; /* bundle_verify, bundle_verify_ex(CURVE_HASH) */
    } cases[] = {
            {"P-384", EVP_sha384, -EBADMSG, 0},
            {"P-384", EVP_sha256, 0, 0},
            {"P-384", EVP_sha512, -EBADMSG, -EBADMSG},
            {"P-521", EVP_sha512, -EBADMSG, 0},
            {"P-521", EVP_sha384, -EBADMSG, -EBADMSG},
            {"P-521", EVP_sha256, 0, 0},
            {"P-256", EVP_sha256, 0, 0},
            {"P-256", EVP_sha384, -EBADMSG, -EBADMSG},
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", cases[i].curve);
        EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", cases[i].curve);
        struct bundle *b;
        struct intoto_statement *st = NULL;

        assert_non_null(k);
        assert_non_null(other);
        b = sign_with(k, cases[i].md());
        if (bundle_verify(b, k, NULL, NULL) != cases[i].plain ||
            bundle_verify_ex(b, k, NULL, BUNDLE_VERIFY_DSSE_CURVE_HASH, NULL) != cases[i].flagged)
            fail_msg("case %zu (%s)", i, cases[i].curve);
        /* The statement comes back only when verified. */
        if (cases[i].flagged == 0) {
            assert_int_equal(bundle_verify_ex(b, k, NULL, BUNDLE_VERIFY_DSSE_CURVE_HASH, &st), 0);
            assert_non_null(st);
            intoto_statement_free(st);
        }
        /* Another key of the same curve never verifies. */
        assert_int_equal(bundle_verify_ex(b, other, NULL, BUNDLE_VERIFY_DSSE_CURVE_HASH, NULL),
                         -EBADMSG);
        assert_int_equal(bundle_verify_ex(b, k, NULL, 1u << 7, NULL), -EINVAL);
        bundle_free(b);
        EVP_PKEY_free(k);
        EVP_PKEY_free(other);
    }
}

/* messageSignature bundles: the flag changes nothing. */
static void test_message_signature_unchanged(void **state)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t digest[32], sig[256];
    size_t sig_len = sizeof(sig), len = 0;
    char *json = NULL;
    struct bundle *b;

    assert_non_null(k);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, "artifact", 8, digest, sizeof(digest)), 0);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (const uint8_t *)"artifact", 8), 1);
    assert_int_equal(bundle_encode_message_signature("h", digest, sig, sig_len, &json, &len), 0);
    b = decode(json);
    assert_int_equal(bundle_verify_ex(b, k, digest, BUNDLE_VERIFY_DSSE_CURVE_HASH, NULL), 0);
    digest[0] ^= 1;
    assert_int_equal(bundle_verify_ex(b, k, digest, BUNDLE_VERIFY_DSSE_CURVE_HASH, NULL), -ENOENT);
    bundle_free(b);
    free(json);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_upstream_vector),
            cmocka_unit_test(test_upstream_vector_tampered),
            cmocka_unit_test(test_pem_hint),
            cmocka_unit_test(test_curve_hashes),
            cmocka_unit_test(test_message_signature_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
