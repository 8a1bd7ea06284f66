/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline certify verifier (lib/format/tpm-attest.c) without a TPM. Every proof is built
 * here independently of the code under test: TPMT_PUBLIC, TPMS_ATTEST and TPMT_SIGNATURE are
 * marshalled by tpm2-tss (Tss2_MU_*) from OpenSSL-generated keys, Names are hashed with EVP
 * directly, and the "AK" signature is made by an OpenSSL key (ECDSA P-256 or RSA PKCS#1 v1.5).
 *
 * Proves: a correct proof verifies with the signature as TPMT_SIGNATURE and as DER, with the AK
 * and the key as DER or PEM, with ECDSA r/s shorter than the curve size, with an RSA AK, with a
 * SHA-384 nameAlg; the parser returns the fields that were marshalled and the Name / SPKI of
 * ECC P-256/384/521 (also a short X coordinate) and RSA public areas; and rejects a wrong nonce
 * (-ESTALE), another key's public area or SPKI (-ENOKEY), any flipped attest byte, a signature
 * by another key, a TPM-signed non-certification (magic, type), keys that are not fixedTPM /
 * sensitiveDataOrigin / signing (-EKEYREJECTED), malformed and trailing bytes, oversized input,
 * SHA-1 and unsupported algorithms; failed calls leave their outputs untouched.
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

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "crypto-cleanup.h"
#include "tpm-attest.h"

#define POISON_LEN ((size_t)0xdeadbeef)

/* Our signing-key template's attributes (tpm/tpm-key.c): fixedTPM ... noDA. */
#define KEY_ATTRS                                                                                  \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_NODA)

_Static_assert(TPM_ATTEST_GENERATED_VALUE == TPM2_GENERATED_VALUE, "magic");
_Static_assert(TPM_ATTEST_ST_CERTIFY == TPM2_ST_ATTEST_CERTIFY, "type");
_Static_assert(TPM_ATTEST_REQUIRED_ATTRS ==
                       (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                        TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_SIGN_ENCRYPT),
               "attributes");

struct blob {
    uint8_t b[4096];
    size_t len;
};

static EVP_PKEY *ak, *ak_rsa, *key, *key2, *rogue;

static int setup(void **state)
{
    ak = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ak_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rogue = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return ak && ak_rsa && key && key2 && rogue ? 0 : -1;
}

static int teardown(void **state)
{
    EVP_PKEY_free(ak);
    EVP_PKEY_free(ak_rsa);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
    EVP_PKEY_free(rogue);
    return 0;
}

/* ---- independent builders ------------------------------------------------------------------- */

static void spki_der(EVP_PKEY *p, struct blob *out)
{
    unsigned char *q = out->b;
    int n = i2d_PUBKEY(p, NULL);

    assert_true(n > 0 && (size_t)n <= sizeof(out->b));
    assert_int_equal(i2d_PUBKEY(p, &q), n);
    out->len = (size_t)n;
}

static void spki_pem(EVP_PKEY *p, struct blob *out)
{
    _cleanup_(BIO_free_allp) BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, p), 1);
    n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0 && (size_t)n <= sizeof(out->b));
    memcpy(out->b, data, (size_t)n);
    out->len = (size_t)n;
}

static void bn_param(EVP_PKEY *p, const char *name, uint8_t *buf, size_t pad, size_t *ret_len)
{
    _cleanup_(BN_freep) BIGNUM *bn = NULL;
    int n;

    assert_int_equal(EVP_PKEY_get_bn_param(p, name, &bn), 1);
    n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    assert_true(n > 0);
    *ret_len = (size_t)n;
}

/* The TPMT_PUBLIC a TPM would hold for p (EC: coordinates padded to the curve size). */
static void tpmt_of(EVP_PKEY *p, TPMA_OBJECT attrs, TPMI_ALG_HASH name_alg, TPMT_PUBLIC *out)
{
    *out = (TPMT_PUBLIC){.nameAlg = name_alg, .objectAttributes = attrs};
    if (EVP_PKEY_is_a(p, "EC")) {
        char group[32];
        size_t coord = 0, xl = 0, yl = 0;

        assert_int_equal(EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                        sizeof(group), NULL),
                         1);
        out->type = TPM2_ALG_ECC;
        out->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        out->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        out->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
            out->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
            coord = 32;
        } else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
            out->parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
            coord = 48;
        } else {
            out->parameters.eccDetail.curveID = TPM2_ECC_NIST_P521;
            coord = 66;
        }
        bn_param(p, OSSL_PKEY_PARAM_EC_PUB_X, out->unique.ecc.x.buffer, coord, &xl);
        bn_param(p, OSSL_PKEY_PARAM_EC_PUB_Y, out->unique.ecc.y.buffer, coord, &yl);
        out->unique.ecc.x.size = (UINT16)xl;
        out->unique.ecc.y.size = (UINT16)yl;
    } else {
        size_t nl = 0;

        out->type = TPM2_ALG_RSA;
        out->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        out->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        out->parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)EVP_PKEY_get_bits(p);
        out->parameters.rsaDetail.exponent = 0; /* 65537 */
        bn_param(p, OSSL_PKEY_PARAM_RSA_N, out->unique.rsa.buffer, 0, &nl);
        out->unique.rsa.size = (UINT16)nl;
    }
}

static void marshal_public(const TPMT_PUBLIC *pub, struct blob *out)
{
    out->len = 0;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(pub, out->b, sizeof(out->b), &out->len),
                     TSS2_RC_SUCCESS);
}

/* nameAlg || H(public), hashed here with EVP. */
static void name_of(const struct blob *pub, TPMI_ALG_HASH alg, TPM2B_NAME *out)
{
    const EVP_MD *md = alg == TPM2_ALG_SHA384 ? EVP_sha384() : EVP_sha256();
    unsigned n = 0;

    out->name[0] = (uint8_t)(alg >> 8);
    out->name[1] = (uint8_t)alg;
    assert_int_equal(EVP_Digest(pub->b, pub->len, out->name + 2, &n, md, NULL), 1);
    out->size = (UINT16)(2 + n);
}

static const uint8_t nonce[TPM_ATTEST_NONCE_LEN] = {
        0xef, 0xd3, 0x5c, 0xf5, 0xb7, 0x2b, 0x5b, 0x9e, 0xee, 0xe4, 0xee,
        0x29, 0x2f, 0x5d, 0x6b, 0x07, 0x91, 0x91, 0x32, 0x4b, 0x19, 0xee,
        0x92, 0x31, 0x89, 0x2f, 0xb3, 0x91, 0xc8, 0x2c, 0x1d, 0x51,
};

/* A TPMS_ATTEST as a TPM makes it for TPM2_Certify of an object named name. */
static void attest_struct(const TPM2B_NAME *name, TPMS_ATTEST *a)
{
    *a = (TPMS_ATTEST){
            .magic = TPM2_GENERATED_VALUE,
            .type = TPM2_ST_ATTEST_CERTIFY,
            .qualifiedSigner = {.size = 34, .name = {0x00, 0x0b, 0xaa, 0xbb}},
            .extraData = {.size = TPM_ATTEST_NONCE_LEN},
            .clockInfo = {.clock = 123456789, .resetCount = 3, .restartCount = 1, .safe = 1},
            .firmwareVersion = 0x2000100000000ull,
    };
    memcpy(a->extraData.buffer, nonce, TPM_ATTEST_NONCE_LEN);
    a->attested.certify.name = *name;
    a->attested.certify.qualifiedName = (TPM2B_NAME){.size = 34, .name = {0x00, 0x0b, 0x11}};
}

static void marshal_attest(const TPMS_ATTEST *a, struct blob *out)
{
    out->len = 0;
    assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(a, out->b, sizeof(out->b), &out->len),
                     TSS2_RC_SUCCESS);
}

/* DER ECDSA or PKCS#1 v1.5 signature over SHA-256(data) with p. */
static void sign_plain(EVP_PKEY *p, const struct blob *data, struct blob *out)
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = sizeof(out->b);

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, p, NULL), 1);
    assert_int_equal(EVP_DigestSign(ctx, out->b, &n, data->b, data->len), 1);
    out->len = n;
}

/*
 * The same as a marshalled TPMT_SIGNATURE with hash alg. pad: r and s padded to 32 bytes as
 * TPMs do; else minimal (leading zero bytes dropped). *ret_short: a half came out shorter.
 */
static void sign_tpmt(EVP_PKEY *p, const struct blob *data, TPMI_ALG_HASH alg, bool pad,
                      struct blob *out, bool *ret_short)
{
    struct blob der;
    TPMT_SIGNATURE ts = {};

    sign_plain(p, data, &der);
    if (EVP_PKEY_is_a(p, "EC")) {
        const unsigned char *q = der.b;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)der.len);
        const BIGNUM *r, *s;
        int rl, sl;

        assert_non_null(sig);
        ECDSA_SIG_get0(sig, &r, &s);
        ts.sigAlg = TPM2_ALG_ECDSA;
        ts.signature.ecdsa.hash = alg;
        rl = pad ? BN_bn2binpad(r, ts.signature.ecdsa.signatureR.buffer, 32)
                 : BN_bn2bin(r, ts.signature.ecdsa.signatureR.buffer);
        sl = pad ? BN_bn2binpad(s, ts.signature.ecdsa.signatureS.buffer, 32)
                 : BN_bn2bin(s, ts.signature.ecdsa.signatureS.buffer);
        ECDSA_SIG_free(sig);
        assert_true(rl > 0 && sl > 0);
        ts.signature.ecdsa.signatureR.size = (UINT16)rl;
        ts.signature.ecdsa.signatureS.size = (UINT16)sl;
        if (ret_short)
            *ret_short = rl < 32 || sl < 32;
    } else {
        ts.sigAlg = TPM2_ALG_RSASSA;
        ts.signature.rsassa.hash = alg;
        ts.signature.rsassa.sig.size = (UINT16)der.len;
        memcpy(ts.signature.rsassa.sig.buffer, der.b, der.len);
    }
    out->len = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, out->b, sizeof(out->b), &out->len),
                     TSS2_RC_SUCCESS);
}

/* A complete, valid proof for key (our template) signed by signer. */
struct proof {
    struct blob attest, sig, der, ak, ak_pem, pub, key_spki;
    TPMT_PUBLIC tpub;
    TPM2B_NAME name;
    TPMS_ATTEST a;
};

static void proof_make(struct proof *p, EVP_PKEY *signer, EVP_PKEY *k)
{
    tpmt_of(k, KEY_ATTRS, TPM2_ALG_SHA256, &p->tpub);
    marshal_public(&p->tpub, &p->pub);
    name_of(&p->pub, TPM2_ALG_SHA256, &p->name);
    attest_struct(&p->name, &p->a);
    marshal_attest(&p->a, &p->attest);
    sign_tpmt(signer, &p->attest, TPM2_ALG_SHA256, true, &p->sig, NULL);
    sign_plain(signer, &p->attest, &p->der);
    spki_der(signer, &p->ak);
    spki_pem(signer, &p->ak_pem);
    spki_der(k, &p->key_spki);
}

/* Re-signs p->attest after a change to it. */
static void proof_resign(struct proof *p, EVP_PKEY *signer)
{
    sign_tpmt(signer, &p->attest, TPM2_ALG_SHA256, true, &p->sig, NULL);
    sign_plain(signer, &p->attest, &p->der);
}

static int verify(const struct proof *p, bool tpmt, const uint8_t n[static TPM_ATTEST_NONCE_LEN],
                  const struct blob *key_spki)
{
    struct tpm_attest_certify c = {
            .attest = p->attest.b,
            .attest_len = p->attest.len,
            .sig = tpmt ? p->sig.b : p->der.b,
            .sig_len = tpmt ? p->sig.len : p->der.len,
            .sig_format = tpmt ? TPM_ATTEST_SIG_TPMT : TPM_ATTEST_SIG_PLAIN,
            .ak = p->ak.b,
            .ak_len = p->ak.len,
            .key_public = p->pub.b,
            .key_public_len = p->pub.len,
    };

    return tpm_attest_verify_certify(&c, n, key_spki ? key_spki->b : NULL,
                                     key_spki ? key_spki->len : 0);
}

/* ---- accepted ------------------------------------------------------------------------------- */

static void test_accept(void **state)
{
    struct proof p;
    struct blob pem;
    struct tpm_attest_certify c;

    proof_make(&p, ak, key);
    assert_int_equal(verify(&p, true, nonce, &p.key_spki), 0);
    assert_int_equal(verify(&p, false, nonce, &p.key_spki), 0);
    assert_int_equal(verify(&p, true, nonce, NULL), 0);
    /* the key as PEM */
    spki_pem(key, &pem);
    assert_int_equal(verify(&p, true, nonce, &pem), 0);
    /* the AK as PEM */
    c = (struct tpm_attest_certify){
            p.attest.b, p.attest.len, p.sig.b, p.sig.len, TPM_ATTEST_SIG_TPMT,
            p.ak_pem.b, p.ak_pem.len, p.pub.b, p.pub.len};
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), 0);
}

static void test_accept_short_rs(void **state)
{
    struct proof p;
    bool got_short = false;
    int tries = 0;

    proof_make(&p, ak, key);
    /* Until r or s has a leading zero byte (about 1 in 128): minimal-length halves verify. */
    while (!got_short && tries++ < 5000) {
        sign_tpmt(ak, &p.attest, TPM2_ALG_SHA256, false, &p.sig, &got_short);
        assert_int_equal(verify(&p, true, nonce, NULL), 0);
    }
    assert_true(got_short);
}

static void test_accept_rsa_ak(void **state)
{
    struct proof p;

    proof_make(&p, ak_rsa, key);
    assert_int_equal(verify(&p, true, nonce, &p.key_spki), 0);
    assert_int_equal(verify(&p, false, nonce, &p.key_spki), 0);
    /* the RSA signature checked against an EC AK and vice versa */
    spki_der(ak, &p.ak);
    assert_int_equal(verify(&p, true, nonce, NULL), -EBADMSG);
}

static void test_accept_sha384_name(void **state)
{
    struct proof p;

    proof_make(&p, ak, key);
    tpmt_of(key, KEY_ATTRS, TPM2_ALG_SHA384, &p.tpub);
    marshal_public(&p.tpub, &p.pub);
    name_of(&p.pub, TPM2_ALG_SHA384, &p.name);
    assert_int_equal(p.name.size, 50);
    p.a.attested.certify.name = p.name;
    marshal_attest(&p.a, &p.attest);
    proof_resign(&p, ak);
    assert_int_equal(verify(&p, true, nonce, &p.key_spki), 0);
    /* with a SHA-384 signature hash as well */
    sign_tpmt(ak, &p.attest, TPM2_ALG_SHA384, true, &p.sig, NULL);
    assert_int_equal(verify(&p, true, nonce, NULL), -EBADMSG); /* signed SHA-256, labelled 384 */
}

/* ---- parsing -------------------------------------------------------------------------------- */

static void test_parse(void **state)
{
    struct tpm_attest_info info, poison;
    uint8_t name[TPM_ATTEST_MAX_NAME], nm[TPM_ATTEST_MAX_NAME];
    size_t name_len = POISON_LEN;
    struct proof p;

    proof_make(&p, ak, key);
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len, &info), 0);
    assert_int_equal(info.magic, TPM2_GENERATED_VALUE);
    assert_int_equal(info.type, TPM2_ST_ATTEST_CERTIFY);
    assert_int_equal(info.signer_name_len, p.a.qualifiedSigner.size);
    assert_memory_equal(info.signer_name, p.a.qualifiedSigner.name, info.signer_name_len);
    assert_int_equal(info.extra_data_len, TPM_ATTEST_NONCE_LEN);
    assert_memory_equal(info.extra_data, nonce, TPM_ATTEST_NONCE_LEN);
    assert_int_equal(info.clock, 123456789);
    assert_int_equal(info.reset_count, 3);
    assert_int_equal(info.restart_count, 1);
    assert_int_equal(info.safe, 1);
    assert_int_equal(info.firmware_version, 0x2000100000000ull);
    assert_int_equal(info.name_len, p.name.size);
    assert_memory_equal(info.name, p.name.name, p.name.size);
    assert_int_equal(info.qualified_name_len, 34);
    assert_int_equal(info.qualified_name[2], 0x11);

    assert_int_equal(tpm_attest_certified_name(p.attest.b, p.attest.len, name, &name_len), 0);
    assert_int_equal(name_len, 34);
    assert_memory_equal(name, p.name.name, 34);
    name_len = POISON_LEN;
    assert_int_equal(tpm_attest_public_name(p.pub.b, p.pub.len, nm, &name_len), 0);
    assert_int_equal(name_len, 34);
    assert_memory_equal(nm, p.name.name, 34);

    /* failures leave the outputs alone */
    memset(&poison, 0x5a, sizeof(poison));
    info = poison;
    name_len = POISON_LEN;
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len - 1, &info), -EINVAL);
    assert_int_equal(tpm_attest_certified_name(p.attest.b, p.attest.len - 1, name, &name_len),
                     -EINVAL);
    assert_int_equal(tpm_attest_public_name(p.pub.b, p.pub.len - 1, nm, &name_len), -EINVAL);
    assert_memory_equal(&info, &poison, sizeof(info));
    assert_int_equal(name_len, POISON_LEN);

    /* magic, type */
    p.attest.b[0] ^= 1;
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len, &info), -EBADMSG);
    p.attest.b[0] ^= 1;
    p.attest.b[5] = 0x18; /* TPM_ST_ATTEST_QUOTE */
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len, &info), -EBADMSG);
    p.attest.b[5] = 0x17;
    /* every truncation is malformed; a trailing byte too; oversize is refused unread */
    for (size_t n = 0; n < p.attest.len; n++)
        assert_int_equal(tpm_attest_parse(p.attest.b, n, &info), -EINVAL);
    p.attest.b[p.attest.len] = 0;
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len + 1, &info), -EINVAL);
    assert_int_equal(tpm_attest_parse(p.attest.b, TPM_ATTEST_MAX + 1, &info), -EMSGSIZE);
    assert_int_equal(tpm_attest_parse(NULL, 10, &info), -EINVAL);
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len, NULL), -EINVAL);
    /* a name longer than a TPM2B_NAME can be */
    p.attest.b[6] = 0;
    p.attest.b[7] = TPM_ATTEST_MAX_NAME + 1;
    assert_int_equal(tpm_attest_parse(p.attest.b, p.attest.len, &info), -EINVAL);
    assert_memory_equal(&info, &poison, sizeof(info));
}

static void expect_spki(EVP_PKEY *k, const TPMT_PUBLIC *t)
{
    struct blob pub, want;
    uint8_t *spki = NULL;
    size_t len = 0;
    uint32_t attrs = 0;

    marshal_public(t, &pub);
    spki_der(k, &want);
    assert_int_equal(tpm_attest_public_spki(pub.b, pub.len, &spki, &len, &attrs), 0);
    assert_int_equal(attrs, t->objectAttributes);
    assert_int_equal(len, want.len);
    assert_memory_equal(spki, want.b, len);
    free(spki);
}

static void test_public(void **state)
{
    static const char *const curves[] = {"P-256", "P-384", "P-521"};
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    uint8_t *spki = (uint8_t *)&state, name[TPM_ATTEST_MAX_NAME];
    size_t len = POISON_LEN;
    TPMT_PUBLIC t;
    struct blob pub;
    bool got_short = false;

    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[i]);

        assert_non_null(k);
        tpmt_of(k, KEY_ATTRS, TPM2_ALG_SHA256, &t);
        expect_spki(k, &t);
        EVP_PKEY_free(k);
    }
    assert_non_null(rsa);
    tpmt_of(rsa, KEY_ATTRS, TPM2_ALG_SHA256, &t);
    expect_spki(rsa, &t);
    t.parameters.rsaDetail.exponent = 65537; /* explicit is the same key */
    expect_spki(rsa, &t);
    /* a scheme and a symmetric definition are parsed over (an RSA storage-like layout) */
    t.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    t.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    expect_spki(rsa, &t);
    t.parameters.rsaDetail.symmetric =
            (TPMT_SYM_DEF_OBJECT){.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = 0x43};
    t.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    expect_spki(rsa, &t);
    /* keyBits disagreeing with the modulus */
    t.parameters.rsaDetail.keyBits = 3072;
    marshal_public(&t, &pub);
    assert_int_equal(tpm_attest_public_spki(pub.b, pub.len, &spki, &len, NULL), -EINVAL);
    EVP_PKEY_free(rsa);

    /* The TPM may send a coordinate without its leading zero byte: find such a key. */
    for (int i = 0; i < 5000 && !got_short; i++) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        size_t xl = 0;
        uint8_t x[32];

        assert_non_null(k);
        bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, x, 0, &xl);
        if (xl < 32) {
            tpmt_of(k, KEY_ATTRS | TPMA_OBJECT_RESTRICTED, TPM2_ALG_SHA256, &t);
            memmove(t.unique.ecc.x.buffer, t.unique.ecc.x.buffer + (32 - xl), xl);
            t.unique.ecc.x.size = (UINT16)xl;
            expect_spki(k, &t);
            got_short = true;
        }
        EVP_PKEY_free(k);
    }
    assert_true(got_short);

    /* refusals, outputs untouched */
    tpmt_of(key, KEY_ATTRS, TPM2_ALG_SHA256, &t);
    t.unique.ecc.y.buffer[31] ^= 1; /* off the curve */
    marshal_public(&t, &pub);
    assert_int_equal(tpm_attest_public_spki(pub.b, pub.len, &spki, &len, NULL), -EINVAL);
    tpmt_of(key, KEY_ATTRS, TPM2_ALG_SHA1, &t);
    marshal_public(&t, &pub);
    assert_int_equal(tpm_attest_public_spki(pub.b, pub.len, &spki, &len, NULL), -EOPNOTSUPP);
    assert_int_equal(tpm_attest_public_name(pub.b, pub.len, name, &len), -EOPNOTSUPP);
    tpmt_of(key, KEY_ATTRS, TPM2_ALG_SHA256, &t);
    t.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
    marshal_public(&t, &pub);
    assert_int_equal(tpm_attest_public_spki(pub.b, pub.len, &spki, &len, NULL), -EOPNOTSUPP);
    t = (TPMT_PUBLIC){.type = TPM2_ALG_KEYEDHASH, .nameAlg = TPM2_ALG_SHA256};
    t.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
    marshal_public(&t, &pub);
    assert_int_equal(tpm_attest_public_name(pub.b, pub.len, name, &len), -EOPNOTSUPP);
    tpmt_of(key, KEY_ATTRS, TPM2_ALG_SHA256, &t);
    marshal_public(&t, &pub);
    pub.b[pub.len] = 0;
    assert_int_equal(tpm_attest_public_name(pub.b, pub.len + 1, name, &len), -EINVAL);
    for (size_t n = 0; n < pub.len; n++)
        assert_int_equal(tpm_attest_public_name(pub.b, n, name, &len), -EINVAL);
    assert_int_equal(tpm_attest_public_name(pub.b, TPM_ATTEST_MAX_PUBLIC + 1, name, &len),
                     -EMSGSIZE);
    assert_ptr_equal(spki, (uint8_t *)&state);
    assert_int_equal(len, POISON_LEN);
}

/* ---- rejected ------------------------------------------------------------------------------- */

static void test_reject_nonce_and_key(void **state)
{
    struct proof p, q;
    uint8_t wrong[TPM_ATTEST_NONCE_LEN];
    struct blob other;

    proof_make(&p, ak, key);
    memcpy(wrong, nonce, sizeof(wrong));
    wrong[31] ^= 1;
    assert_int_equal(verify(&p, true, wrong, NULL), -ESTALE);
    assert_int_equal(verify(&p, false, wrong, NULL), -ESTALE);

    /* another key's public area with this proof; another key's SPKI */
    proof_make(&q, ak, key2);
    p.pub = q.pub;
    assert_int_equal(verify(&p, true, nonce, NULL), -ENOKEY);
    proof_make(&p, ak, key);
    spki_der(key2, &other);
    assert_int_equal(verify(&p, true, nonce, &other), -ENOKEY);
    /* an SPKI that is not a key at all */
    memset(other.b, 0x30, 40);
    other.len = 40;
    assert_int_equal(verify(&p, true, nonce, &other), -EINVAL);

    /* the same key with other attributes is another Name */
    tpmt_of(key, KEY_ATTRS | TPMA_OBJECT_ADMINWITHPOLICY, TPM2_ALG_SHA256, &p.tpub);
    marshal_public(&p.tpub, &p.pub);
    assert_int_equal(verify(&p, true, nonce, &p.key_spki), -ENOKEY);

    /* a nonce of another length in extraData, signed by the AK */
    proof_make(&p, ak, key);
    p.a.extraData.size = 31;
    marshal_attest(&p.a, &p.attest);
    proof_resign(&p, ak);
    assert_int_equal(verify(&p, true, nonce, NULL), -ESTALE);
}

static void test_reject_tampering(void **state)
{
    struct proof p;
    struct blob saved;

    proof_make(&p, ak, key);
    saved = p.attest;
    /* every single flipped bit position in one byte of each attest byte */
    for (size_t i = 0; i < p.attest.len; i++) {
        p.attest.b[i] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(verify(&p, true, nonce, NULL), -EBADMSG);
        assert_int_equal(verify(&p, false, nonce, NULL), -EBADMSG);
        p.attest = saved;
    }
    /* every flipped byte of the TPMT signature: never accepted */
    for (size_t i = 0; i < p.sig.len; i++) {
        int r;

        p.sig.b[i] ^= 0x01;
        r = verify(&p, true, nonce, NULL);
        if (r == 0)
            fail_msg("flipped signature byte %zu accepted", i);
        p.sig.b[i] ^= 0x01;
    }
    assert_int_equal(verify(&p, true, nonce, NULL), 0);

    /* signed by a key that is not the AK */
    proof_resign(&p, rogue);
    assert_int_equal(verify(&p, true, nonce, &p.key_spki), -EBADMSG);
    assert_int_equal(verify(&p, false, nonce, &p.key_spki), -EBADMSG);
    /* formats swapped */
    proof_make(&p, ak, key);
    saved = p.sig;
    p.sig = p.der;
    assert_int_not_equal(verify(&p, true, nonce, NULL), 0);
    p.der = saved;
    assert_int_not_equal(verify(&p, false, nonce, NULL), 0);
}

/* AK-signed structures that are not what a verifier must accept. */
static void test_reject_signed(void **state)
{
    struct proof p;

    /* the AK cannot have signed these if it is restricted, but the verifier checks anyway */
    proof_make(&p, ak, key);
    p.a.magic = 0xff544348;
    marshal_attest(&p.a, &p.attest);
    proof_resign(&p, ak);
    assert_int_equal(verify(&p, true, nonce, NULL), -EBADMSG);
    proof_make(&p, ak, key);
    p.a.type = TPM2_ST_ATTEST_QUOTE;
    p.a.attested.quote = (TPMS_QUOTE_INFO){};
    marshal_attest(&p.a, &p.attest);
    proof_resign(&p, ak);
    assert_int_equal(verify(&p, true, nonce, NULL), -EBADMSG);

    /* trailing and missing bytes under a valid signature */
    proof_make(&p, ak, key);
    p.attest.b[p.attest.len++] = 0;
    proof_resign(&p, ak);
    assert_int_equal(verify(&p, true, nonce, NULL), -EINVAL);
    proof_make(&p, ak, key);
    p.attest.len--;
    proof_resign(&p, ak);
    assert_int_equal(verify(&p, true, nonce, NULL), -EINVAL);

    /* keys that could live outside the TPM, and a key that cannot sign */
    static const TPMA_OBJECT drop[] = {TPMA_OBJECT_FIXEDTPM, TPMA_OBJECT_FIXEDPARENT,
                                       TPMA_OBJECT_SENSITIVEDATAORIGIN, TPMA_OBJECT_SIGN_ENCRYPT};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        proof_make(&p, ak, key);
        tpmt_of(key, KEY_ATTRS & ~drop[i], TPM2_ALG_SHA256, &p.tpub);
        marshal_public(&p.tpub, &p.pub);
        name_of(&p.pub, TPM2_ALG_SHA256, &p.name);
        p.a.attested.certify.name = p.name;
        marshal_attest(&p.a, &p.attest);
        proof_resign(&p, ak);
        assert_int_equal(verify(&p, true, nonce, &p.key_spki), -EKEYREJECTED);
    }
}

static void test_reject_input(void **state)
{
    struct tpm_attest_certify c;
    struct proof p;
    TPMT_SIGNATURE ts = {};
    static uint8_t big[TPM_ATTEST_MAX_AK + 2];

    proof_make(&p, ak, key);
    c = (struct tpm_attest_certify){
            p.attest.b, p.attest.len, p.sig.b, p.sig.len, TPM_ATTEST_SIG_TPMT,
            p.ak.b,     p.ak.len,     p.pub.b, p.pub.len};
    assert_int_equal(tpm_attest_verify_certify(NULL, nonce, NULL, 0), -EINVAL);
    c.attest = NULL;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EINVAL);
    c.attest = p.attest.b;
    c.key_public = NULL;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EINVAL);
    c.key_public = p.pub.b;
    c.sig_format = (enum tpm_attest_sig_format)7;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EINVAL);
    c.sig_format = TPM_ATTEST_SIG_TPMT;
    c.attest = big;
    c.attest_len = sizeof(big);
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EMSGSIZE);
    c.attest = p.attest.b;
    c.attest_len = p.attest.len;
    c.key_public_len = TPM_ATTEST_MAX_PUBLIC + 1;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EMSGSIZE);
    c.key_public_len = p.pub.len;
    c.sig = big;
    c.sig_len = TPM_ATTEST_MAX_SIG + 1;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EMSGSIZE);
    c.sig_len = 0;
    assert_int_not_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), 0);
    c.sig = p.sig.b;
    c.sig_len = p.sig.len;
    c.ak = big; /* zeros: not a key */
    c.ak_len = 64;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EINVAL);
    c.ak_len = TPM_ATTEST_MAX_AK + 1;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EMSGSIZE);
    c.ak = p.ak.b;
    c.ak_len = p.ak.len;
    assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), 0);

    /* TPMT_SIGNATURE: SHA-1, RSAPSS, a zero r, trailing byte */
    sign_tpmt(ak, &p.attest, TPM2_ALG_SHA1, true, &p.sig, NULL);
    assert_int_equal(verify(&p, true, nonce, NULL), -EOPNOTSUPP);
    sign_tpmt(ak, &p.attest, TPM2_ALG_SHA256, true, &p.sig, NULL);
    p.sig.b[1] = 0x16; /* RSAPSS */
    assert_int_equal(verify(&p, true, nonce, NULL), -EOPNOTSUPP);
    ts.sigAlg = TPM2_ALG_ECDSA;
    ts.signature.ecdsa.hash = TPM2_ALG_SHA256;
    ts.signature.ecdsa.signatureR.size = 32; /* all zero */
    ts.signature.ecdsa.signatureS.size = 32;
    ts.signature.ecdsa.signatureS.buffer[31] = 1;
    p.sig.len = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, p.sig.b, sizeof(p.sig.b), &p.sig.len),
                     TSS2_RC_SUCCESS);
    assert_int_equal(verify(&p, true, nonce, NULL), -EINVAL);
    sign_tpmt(ak, &p.attest, TPM2_ALG_SHA256, true, &p.sig, NULL);
    p.sig.b[p.sig.len++] = 0;
    assert_int_equal(verify(&p, true, nonce, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_accept),
            cmocka_unit_test(test_accept_short_rs),
            cmocka_unit_test(test_accept_rsa_ak),
            cmocka_unit_test(test_accept_sha384_name),
            cmocka_unit_test(test_parse),
            cmocka_unit_test(test_public),
            cmocka_unit_test(test_reject_nonce_and_key),
            cmocka_unit_test(test_reject_tampering),
            cmocka_unit_test(test_reject_signed),
            cmocka_unit_test(test_reject_input),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
