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
 *
 * Quotes (tpm_attest_verify_quote) are built the same way: TPMS_ATTEST of type QUOTE with a
 * pcrDigest hashed here with EVP, and the PCR file as tpm2-tools writes it (the tss2 structs
 * TPML_PCR_SELECTION, UINT32, TPML_DIGEST[] dumped in host order; the sizes are asserted equal
 * to our named layout constants). Proves: a quote verifies with either signature form, a PEM
 * AK, an RSA AK, a SHA-384 signature (and pcrDigest), values split over lists of 8, 3 or 1, the
 * largest selection (4 banks x 32 PCRs) and the largest file, PCRs 24..31; the values come back
 * in selection order and round-trip through the "bank:index=hex" policy text; the FORMATS.md
 * §9.3 vector (accepted by tpm2_checkquote) verifies. Rejected: every flipped attest byte, a
 * signature by another key or checked with another AK, a certification, a wrong magic (-EBADMSG);
 * a wrong nonce or extraData of another length (-ESTALE); a changed PCR value, another quote's
 * PCR file, the same values under another selection, bank order or a subset, an empty / short /
 * wrong-hash pcrDigest (-ENOKEY); every truncated PCR file, trailing bytes, digest sizes that
 * are not the bank's, list and value counts that do not match the selection, a bank twice, no
 * PCR, too many slots or bitmap bytes, the other byte order (-EINVAL), unknown banks
 * (-EOPNOTSUPP), oversize inputs (-EMSGSIZE). Bytes the format leaves unused are ignored.
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
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
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

/* ---- quotes: independent builders ----------------------------------------------------------- */

/* The PCR file's layout is tpm2-tools' struct dump: our byte counts are the tss2 sizeofs. */
_Static_assert(TPM_ATTEST_ST_QUOTE == TPM2_ST_ATTEST_QUOTE, "quote type");
_Static_assert(TPM_ATTEST_PCR_SEL_BYTES == sizeof(TPML_PCR_SELECTION), "selection dump");
_Static_assert(TPM_ATTEST_PCR_LIST_BYTES == sizeof(TPML_DIGEST), "digest list dump");
_Static_assert(TPM_ATTEST_MAX_SELECTIONS == TPM2_NUM_PCR_BANKS, "selection slots");
_Static_assert(TPM_ATTEST_PCR_SELECT_MAX == TPM2_PCR_SELECT_MAX, "bitmap bytes");
_Static_assert(TPM_ATTEST_MAX_PCR_INDEX + 1 == TPM2_MAX_PCRS, "PCRs");
_Static_assert(TPM_ATTEST_PCR_LIST_MAX ==
                       sizeof(((TPML_DIGEST *)0)->digests) / sizeof(TPM2B_DIGEST),
               "digests per list");
_Static_assert(TPM_ATTEST_ALG_SHA1 == TPM2_ALG_SHA1 && TPM_ATTEST_ALG_SHA256 == TPM2_ALG_SHA256 &&
                       TPM_ATTEST_ALG_SHA384 == TPM2_ALG_SHA384 &&
                       TPM_ATTEST_ALG_SHA512 == TPM2_ALG_SHA512,
               "banks");

struct bank_sel {
    TPMI_ALG_HASH hash;
    uint32_t pcrs; /* bit k: PCR k */
};

/* A quote as a TPM and tpm2_quote would produce it, with everything it is made of. */
struct quote {
    TPML_PCR_SELECTION sel;
    uint16_t bank[TPM_ATTEST_MAX_PCR_VALUES]; /* per value in selection order */
    uint8_t index[TPM_ATTEST_MAX_PCR_VALUES];
    uint8_t value[TPM_ATTEST_MAX_PCR_VALUES][64];
    size_t value_len[TPM_ATTEST_MAX_PCR_VALUES];
    size_t n;
    TPML_DIGEST lists[TPM_ATTEST_MAX_PCR_LISTS];
    uint32_t n_lists;
    TPMS_ATTEST a;
    struct blob attest, sig, der, ak;
    uint8_t file[TPM_ATTEST_MAX_PCR_FILE + 64];
    size_t file_len;
};

static size_t digest_size(TPMI_ALG_HASH h)
{
    switch (h) {
    case TPM2_ALG_SHA1:
        return 20;
    case TPM2_ALG_SHA256:
        return 32;
    case TPM2_ALG_SHA384:
        return 48;
    default:
        return 64;
    }
}

static const EVP_MD *md_of(TPMI_ALG_HASH h)
{
    return h == TPM2_ALG_SHA384 ? EVP_sha384() : h == TPM2_ALG_SHA512 ? EVP_sha512() : EVP_sha256();
}

/* The file as tpm2_quote -o writes it: the structs in host order, padding zeroed. */
static void quote_dump(struct quote *q)
{
    size_t off = 0;

    memcpy(q->file, &q->sel, sizeof(q->sel));
    off += sizeof(q->sel);
    memcpy(q->file + off, &q->n_lists, sizeof(q->n_lists));
    off += sizeof(q->n_lists);
    memcpy(q->file + off, q->lists, q->n_lists * sizeof(TPML_DIGEST));
    q->file_len = off + q->n_lists * sizeof(TPML_DIGEST);
}

/* The digest lists from q->value, chunk values per list (a TPM returns up to 8 per read). */
static void quote_lists(struct quote *q, size_t chunk)
{
    memset(q->lists, 0, sizeof(q->lists));
    q->n_lists = 0;
    for (size_t i = 0; i < q->n; i++) {
        TPML_DIGEST *d;

        if (i % chunk == 0)
            q->n_lists++;
        d = &q->lists[q->n_lists - 1];
        d->digests[d->count].size = (UINT16)q->value_len[i];
        memcpy(d->digests[d->count].buffer, q->value[i], q->value_len[i]);
        d->count++;
    }
}

/* Signs q->attest with p over hash alg: TPMT_SIGNATURE (r, s padded as TPMs do) and DER. */
static void quote_sign(struct quote *q, EVP_PKEY *p, TPMI_ALG_HASH alg)
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    TPMT_SIGNATURE ts = {};
    size_t n = sizeof(q->der.b);

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md_of(alg), NULL, p), 1);
    assert_int_equal(EVP_DigestSign(ctx, q->der.b, &n, q->attest.b, q->attest.len), 1);
    q->der.len = n;
    if (EVP_PKEY_is_a(p, "EC")) {
        const unsigned char *c = q->der.b;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &c, (long)q->der.len);
        const BIGNUM *r, *s;

        assert_non_null(sig);
        ECDSA_SIG_get0(sig, &r, &s);
        ts.sigAlg = TPM2_ALG_ECDSA;
        ts.signature.ecdsa.hash = alg;
        assert_int_equal(BN_bn2binpad(r, ts.signature.ecdsa.signatureR.buffer, 32), 32);
        assert_int_equal(BN_bn2binpad(s, ts.signature.ecdsa.signatureS.buffer, 32), 32);
        ts.signature.ecdsa.signatureR.size = ts.signature.ecdsa.signatureS.size = 32;
        ECDSA_SIG_free(sig);
    } else {
        ts.sigAlg = TPM2_ALG_RSASSA;
        ts.signature.rsassa.hash = alg;
        ts.signature.rsassa.sig.size = (UINT16)q->der.len;
        memcpy(ts.signature.rsassa.sig.buffer, q->der.b, q->der.len);
    }
    q->sig.len = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, q->sig.b, sizeof(q->sig.b), &q->sig.len),
                     TSS2_RC_SUCCESS);
}

/* pcrDigest over q->value with alg, the TPMS_ATTEST around it, marshalled and signed. */
static void quote_seal(struct quote *q, EVP_PKEY *signer, TPMI_ALG_HASH alg)
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned n = 0;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, md_of(alg), NULL), 1);
    for (size_t i = 0; i < q->n; i++)
        assert_int_equal(EVP_DigestUpdate(ctx, q->value[i], q->value_len[i]), 1);
    assert_int_equal(EVP_DigestFinal_ex(ctx, q->a.attested.quote.pcrDigest.buffer, &n), 1);
    q->a.attested.quote.pcrDigest.size = (UINT16)n;
    q->a.attested.quote.pcrSelect = q->sel;
    marshal_attest(&q->a, &q->attest);
    quote_sign(q, signer, alg);
    spki_der(signer, &q->ak);
}

/* A quote of banks[0..nb) with random PCR values, signed by signer over SHA-256. */
static void quote_make(struct quote *q, EVP_PKEY *signer, const struct bank_sel *banks, size_t nb)
{
    memset(q, 0, sizeof(*q));
    q->sel.count = (UINT32)nb;
    for (size_t b = 0; b < nb; b++) {
        q->sel.pcrSelections[b].hash = banks[b].hash;
        q->sel.pcrSelections[b].sizeofSelect = 3;
        for (unsigned k = 0; k < 32; k++) {
            if (!(banks[b].pcrs & (1u << k)))
                continue;
            if (k >= 24)
                q->sel.pcrSelections[b].sizeofSelect = 4; /* PCRs 24..31 need a 4th byte */
            q->sel.pcrSelections[b].pcrSelect[k / 8] |= (uint8_t)(1u << (k % 8));
            q->bank[q->n] = banks[b].hash;
            q->index[q->n] = (uint8_t)k;
            q->value_len[q->n] = digest_size(banks[b].hash);
            assert_int_equal(RAND_bytes(q->value[q->n], (int)q->value_len[q->n]), 1);
            q->n++;
        }
    }
    q->a = (TPMS_ATTEST){
            .magic = TPM2_GENERATED_VALUE,
            .type = TPM2_ST_ATTEST_QUOTE,
            .qualifiedSigner = {.size = 34, .name = {0x00, 0x0b, 0xaa, 0xbb}},
            .extraData = {.size = TPM_ATTEST_NONCE_LEN},
            .clockInfo = {.clock = 987654321, .resetCount = 2, .restartCount = 0, .safe = 1},
            .firmwareVersion = 0x2000100000000ull,
    };
    memcpy(q->a.extraData.buffer, nonce, TPM_ATTEST_NONCE_LEN);
    quote_lists(q, 8);
    quote_dump(q);
    quote_seal(q, signer, TPM2_ALG_SHA256);
}

static int verify_q(const struct quote *q, bool tpmt, const uint8_t n[static TPM_ATTEST_NONCE_LEN],
                    struct tpm_attest_pcrs **ret)
{
    struct tpm_attest_quote p = {
            .attest = q->attest.b,
            .attest_len = q->attest.len,
            .sig = tpmt ? q->sig.b : q->der.b,
            .sig_len = tpmt ? q->sig.len : q->der.len,
            .sig_format = tpmt ? TPM_ATTEST_SIG_TPMT : TPM_ATTEST_SIG_PLAIN,
            .ak = q->ak.b,
            .ak_len = q->ak.len,
    };

    return tpm_attest_verify_quote(&p, n, q->file, q->file_len, ret);
}

/* The verified values are the quote's, in its order, with lookups by (bank, index). */
static void expect_values(const struct quote *q, const struct tpm_attest_pcrs *v)
{
    assert_non_null(v);
    assert_int_equal(v->count, q->n);
    for (size_t i = 0; i < q->n; i++) {
        assert_int_equal(v->pcr[i].bank, q->bank[i]);
        assert_int_equal(v->pcr[i].index, q->index[i]);
        assert_int_equal(v->pcr[i].len, q->value_len[i]);
        assert_memory_equal(v->pcr[i].value, q->value[i], q->value_len[i]);
        assert_ptr_equal(tpm_attest_pcrs_find(v, q->bank[i], q->index[i]), &v->pcr[i]);
    }
}

static const struct bank_sel sel_two[] = {
        {TPM2_ALG_SHA256, 1u << 0 | 1u << 7 | 1u << 16},
        {TPM2_ALG_SHA1, 1u << 0},
};

/* ---- quotes: accepted ----------------------------------------------------------------------- */

static void test_quote_accept(void **state)
{
    static const struct bank_sel sel_all[] = {
            {TPM2_ALG_SHA1, 0xffffffffu},
            {TPM2_ALG_SHA256, 0xffffffffu},
            {TPM2_ALG_SHA384, 0xffffffffu},
            {TPM2_ALG_SHA512, 0xffffffffu},
    };
    static struct quote q;
    struct tpm_attest_pcrs *v = NULL;
    struct tpm_attest_quote p;
    struct blob pem;

    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    assert_int_equal(verify_q(&q, true, nonce, &v), 0);
    expect_values(&q, v);
    assert_null(tpm_attest_pcrs_find(v, TPM2_ALG_SHA256, 1));
    assert_null(tpm_attest_pcrs_find(v, TPM2_ALG_SHA1, 7));
    assert_null(tpm_attest_pcrs_find(NULL, TPM2_ALG_SHA1, 0));
    v = tpm_attest_pcrs_free(v);
    assert_int_equal(verify_q(&q, false, nonce, &v), 0);
    expect_values(&q, v);
    v = tpm_attest_pcrs_free(v);
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0); /* the values are optional */
    /* the AK as PEM */
    spki_pem(ak, &pem);
    p = (struct tpm_attest_quote){q.attest.b,          q.attest.len, q.sig.b, q.sig.len,
                                  TPM_ATTEST_SIG_TPMT, pem.b,        pem.len};
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, NULL), 0);

    /* values split over lists as a TPM answers PCR_Read: 3 per list, 1 per list */
    quote_lists(&q, 3);
    quote_dump(&q);
    assert_int_equal(q.n_lists, 2);
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);
    quote_lists(&q, 1);
    quote_dump(&q);
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);

    /* an RSA AK; a SHA-384 signature, whose hash pcrDigest then uses */
    quote_make(&q, ak_rsa, sel_two, ELEMENTSOF(sel_two));
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);
    assert_int_equal(verify_q(&q, false, nonce, NULL), 0);
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    quote_seal(&q, ak, TPM2_ALG_SHA384);
    assert_int_equal(q.a.attested.quote.pcrDigest.size, 48);
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);

    /* the largest selection: 4 banks x 32 PCRs in 16 lists, the largest file */
    quote_make(&q, ak, sel_all, ELEMENTSOF(sel_all));
    assert_int_equal(q.n, TPM_ATTEST_MAX_PCR_VALUES);
    assert_int_equal(verify_q(&q, true, nonce, &v), 0);
    expect_values(&q, v);
    v = tpm_attest_pcrs_free(v);
    quote_lists(&q, 4); /* 32 lists */
    quote_dump(&q);
    assert_int_equal(q.file_len, TPM_ATTEST_MAX_PCR_FILE);
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);
}

/* FORMATS.md §9.3: a quote tpm2_checkquote 5.4 accepts, with its PCR values as tpm2-tools'
 * serialized file. */
static void test_quote_known_answer(void **state)
{
    static const char ak_pem[] =
            "-----BEGIN PUBLIC KEY-----\n"
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXNTOzEJInpjtP/cUmAUfeA82SG1N\n"
            "RNhn2ZgYV4Tn2lfu9xpA1qatET1Hu/MRC/EYXDrkYzF6sAZzBDq8vNQFSw==\n"
            "-----END PUBLIC KEY-----\n";
    static const char msg_hex[] =
            "ff5443478018"
            "0022000b51732f710c62a508426647952bb00205486025145a9827671353eb4693c6933e"
            "0020efd35cf5b72b5b9eeee4ee292f5d6b079191324b19ee9231892fb391c82c1d51"
            "000000000001e24000000001000000000100010002000300040000000100"
            "0b030080410020"
            "39e12eee600dee93166127f652401bae132901bf105b3f89dd8e23f37525032b";
    static const char sig_hex[] =
            "0018000b0020e0d4b25c16e3b3c93510a2c7f4da43977f0d605004b3e1cf42f7b9948181730c00208d"
            "60da9b95a650f591c0c3d27eec4c415a3be59b6405caea26dbfc2757dc8a2b";
    static struct quote q;
    struct tpm_attest_pcrs *v = NULL;
    struct tpm_attest_quote p;
    uint8_t msg[145], sig[72], pcr22[32], wrong[TPM_ATTEST_NONCE_LEN];
    size_t msg_len = 0, sig_len = 0;
    unsigned n = 0;

    assert_int_equal(OPENSSL_hexstr2buf_ex(msg, sizeof(msg), &msg_len, msg_hex, '\0'), 1);
    assert_int_equal(msg_len, sizeof(msg));
    assert_int_equal(OPENSSL_hexstr2buf_ex(sig, sizeof(sig), &sig_len, sig_hex, '\0'), 1);
    assert_int_equal(sig_len, sizeof(sig));
    assert_int_equal(EVP_Digest("pcr22", 5, pcr22, &n, EVP_sha256(), NULL), 1);
    /* sha256:15,16,22 = zeros, zeros, SHA-256("pcr22") */
    memset(&q, 0, sizeof(q));
    q.sel.count = 1;
    q.sel.pcrSelections[0] = (TPMS_PCR_SELECTION){TPM2_ALG_SHA256, 3, {0x00, 0x80, 0x41}};
    q.n = 3;
    for (size_t i = 0; i < 3; i++)
        q.value_len[i] = 32;
    memcpy(q.value[2], pcr22, 32);
    quote_lists(&q, 8);
    quote_dump(&q);
    p = (struct tpm_attest_quote){msg,           sizeof(msg),         sig,
                                  sizeof(sig),   TPM_ATTEST_SIG_TPMT, (const uint8_t *)ak_pem,
                                  strlen(ak_pem)};
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), 0);
    assert_int_equal(v->count, 3);
    assert_int_equal(v->pcr[0].index, 15);
    assert_int_equal(v->pcr[1].index, 16);
    assert_int_equal(v->pcr[2].index, 22);
    assert_memory_equal(tpm_attest_pcrs_find(v, TPM2_ALG_SHA256, 22)->value, pcr22, 32);
    tpm_attest_pcrs_free(v);
    memcpy(wrong, nonce, sizeof(wrong));
    wrong[0] ^= 1;
    assert_int_equal(tpm_attest_verify_quote(&p, wrong, q.file, q.file_len, NULL), -ESTALE);
    q.lists[0].digests[2].buffer[0] ^= 1;
    quote_dump(&q);
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, NULL), -ENOKEY);
}

/* ---- quotes: rejected ----------------------------------------------------------------------- */

static void test_quote_reject_signed(void **state)
{
    static struct quote q;
    struct blob saved;
    struct tpm_attest_pcrs *v = (struct tpm_attest_pcrs *)&state;

    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    saved = q.attest;
    /* every attest byte flipped (a different bit each time), in both signature forms */
    for (size_t i = 0; i < q.attest.len; i++) {
        q.attest.b[i] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(verify_q(&q, true, nonce, &v), -EBADMSG);
        assert_int_equal(verify_q(&q, false, nonce, &v), -EBADMSG);
        q.attest = saved;
    }
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);
    /* a key that is not the AK signed it; the AK is another key */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    quote_sign(&q, rogue, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EBADMSG);
    assert_int_equal(verify_q(&q, false, nonce, &v), -EBADMSG);
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    spki_der(rogue, &q.ak);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EBADMSG);
    /* AK-signed, but not a TPM quote: magic, a certification */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    q.a.magic = 0xff544348;
    quote_seal(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EBADMSG);
    {
        struct proof c;
        struct tpm_attest_quote p;

        proof_make(&c, ak, key);
        p = (struct tpm_attest_quote){c.attest.b,          c.attest.len, c.sig.b, c.sig.len,
                                      TPM_ATTEST_SIG_TPMT, c.ak.b,       c.ak.len};
        assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EBADMSG);
    }
    /* and a quote is no certification */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    {
        struct tpm_attest_certify c = {q.attest.b, q.attest.len,        q.sig.b,
                                       q.sig.len,  TPM_ATTEST_SIG_TPMT, q.ak.b,
                                       q.ak.len,   q.attest.b,          q.attest.len};
        assert_int_equal(tpm_attest_verify_certify(&c, nonce, NULL, 0), -EBADMSG);
    }
    /* trailing and missing attest bytes under a valid signature */
    q.attest.b[q.attest.len++] = 0;
    quote_sign(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EINVAL);
    q.attest.len -= 2;
    quote_sign(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EINVAL);
    /* a selection of more slots than a TPML_PCR_SELECTION has, under a valid signature */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    q.attest.b[4 + 2 + 2 + 34 + 2 + 32 + 17 + 8 + 3] = TPM_ATTEST_MAX_SELECTIONS + 1;
    quote_sign(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EINVAL);
    assert_ptr_equal(v, (struct tpm_attest_pcrs *)&state); /* untouched throughout */
}

static void test_quote_reject_nonce(void **state)
{
    static struct quote q;
    uint8_t wrong[TPM_ATTEST_NONCE_LEN];

    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    memcpy(wrong, nonce, sizeof(wrong));
    for (size_t i = 0; i < sizeof(wrong); i += 31) {
        wrong[i] ^= 0x40;
        assert_int_equal(verify_q(&q, true, wrong, NULL), -ESTALE);
        assert_int_equal(verify_q(&q, false, wrong, NULL), -ESTALE);
        wrong[i] ^= 0x40;
    }
    /* the nonce's prefix, the nonce padded: extraData must be the nonce exactly */
    q.a.extraData.size = 31;
    quote_seal(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, NULL), -ESTALE);
    q.a.extraData.size = 33;
    quote_seal(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, NULL), -ESTALE);
}

static void test_quote_reject_pcrs(void **state)
{
    static struct quote q, other;
    struct tpm_attest_pcrs *v = (struct tpm_attest_pcrs *)&state;

    /* each PCR value changed in the file, one at a time: not what was quoted */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    for (size_t i = 0; i < q.n; i++) {
        q.lists[0].digests[i].buffer[i] ^= 0x01;
        quote_dump(&q);
        assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
        q.lists[0].digests[i].buffer[i] ^= 0x01;
    }
    /* bytes past a digest's size are not values (pcrDigest does not cover them) */
    q.lists[0].digests[3].buffer[20] ^= 0x01; /* the SHA-1 value is 20 bytes */
    q.lists[0].digests[7].buffer[63] ^= 0x01; /* an unused slot */
    quote_dump(&q);
    assert_int_equal(verify_q(&q, true, nonce, NULL), 0);

    /* another quote's PCR file, of the same selection */
    quote_make(&other, ak, sel_two, ELEMENTSOF(sel_two));
    memcpy(q.file, other.file, other.file_len);
    assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);

    /* the same values claimed for other PCRs: pcrDigest matches, the selection does not */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    q.sel.pcrSelections[0].pcrSelect[2] = 0x02; /* PCR 17 instead of 16 */
    quote_dump(&q);
    assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
    /* ... for other banks (swapped order: SHA-1 first, the sizes fit the banks) */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    {
        static struct quote s;
        static const struct bank_sel swapped[] = {{TPM2_ALG_SHA1, 1u << 0},
                                                  {TPM2_ALG_SHA256, 1u << 0 | 1u << 7 | 1u << 16}};

        quote_make(&s, ak, swapped, ELEMENTSOF(swapped));
        memcpy(s.value[0], q.value[3], 20);
        for (size_t i = 0; i < 3; i++)
            memcpy(s.value[i + 1], q.value[i], 32);
        quote_lists(&s, 8);
        quote_dump(&s);
        memcpy(q.file, s.file, s.file_len);
        q.file_len = s.file_len;
        assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
    }
    /* fewer PCRs in the file than quoted (a subset with its own values) */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    q.sel.count = 1;
    q.lists[0].count = 3;
    quote_dump(&q);
    assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
    /* an empty pcrDigest, a truncated one */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    q.a.attested.quote.pcrDigest.size = 0;
    marshal_attest(&q.a, &q.attest);
    quote_sign(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
    q.a.attested.quote.pcrDigest.size = 20;
    marshal_attest(&q.a, &q.attest);
    quote_sign(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
    /* pcrDigest of the right values with the wrong hash */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    quote_seal(&q, ak, TPM2_ALG_SHA384);
    quote_sign(&q, ak, TPM2_ALG_SHA256);
    assert_int_equal(verify_q(&q, true, nonce, &v), -ENOKEY);
    assert_ptr_equal(v, (struct tpm_attest_pcrs *)&state);
}

/* Lists of 3, 1 and 1 values: the last one repeats the SHA-1 value, one more than selected. */
static void split_with_extra(struct quote *q)
{
    q->lists[0].count = 3;
    q->lists[1] = (TPML_DIGEST){.count = 1, .digests = {q->lists[0].digests[3]}};
    q->lists[2] = q->lists[1];
    q->n_lists = 3;
}

/* The serialized file's structure: every way it can be wrong. */
static void test_pcr_file(void **state)
{
    static struct quote q;
    struct tpm_attest_pcrs *v = (struct tpm_attest_pcrs *)&state, *ok = NULL;
    uint32_t u32;

    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len, &ok), 0);
    expect_values(&q, ok);
    ok = tpm_attest_pcrs_free(ok);
    assert_null(tpm_attest_pcrs_free(NULL));

    /* every truncation, a trailing byte, oversize, NULL */
    for (size_t n = 0; n < q.file_len; n++)
        assert_int_equal(tpm_attest_pcrs_parse(q.file, n, &v), -EINVAL);
    q.file[q.file_len] = 0;
    assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len + 1, &v), -EINVAL);
    q.file_len++;
    assert_int_equal(verify_q(&q, true, nonce, &v), -EINVAL);
    q.file_len -= 2;
    assert_int_equal(verify_q(&q, true, nonce, &v), -EINVAL);
    assert_int_equal(tpm_attest_pcrs_parse(q.file, TPM_ATTEST_MAX_PCR_FILE + 1, &v), -EMSGSIZE);
    assert_int_equal(tpm_attest_pcrs_parse(NULL, 10, &v), -EINVAL);
    assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len, NULL), -EINVAL);

#define REFUSE(expr, code)                                                                         \
    do {                                                                                           \
        quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));                                          \
        expr;                                                                                      \
        quote_dump(&q);                                                                            \
        assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len, &v), code);                     \
        assert_int_equal(verify_q(&q, true, nonce, &v), code);                                     \
    } while (0)

    /* digest sizes that are not the bank's */
    REFUSE(q.lists[0].digests[0].size = 20, -EINVAL);
    REFUSE(q.lists[0].digests[3].size = 32, -EINVAL);
    REFUSE(q.lists[0].digests[2].size = 0, -EINVAL);
    REFUSE(q.lists[0].digests[2].size = 65, -EINVAL);
    /* counts that do not match the selection: one value more, one less, an empty list */
    REFUSE(q.lists[0].count = 5, -EINVAL);
    REFUSE(q.lists[0].count = 3, -EINVAL);
    REFUSE((q.lists[1].count = 0, q.n_lists = 2), -EINVAL);
    REFUSE(q.lists[0].count = TPM_ATTEST_PCR_LIST_MAX + 1, -EINVAL);
    REFUSE(split_with_extra(&q), -EINVAL); /* 3 + 1 + 1 values for 4 PCRs */
    REFUSE(q.n_lists = 0, -EINVAL);
    /* selections: no PCR at all, a bank without PCRs (so a value too many), too many slots, a
     * bitmap over 4 bytes, a bank twice, banks we cannot size */
    REFUSE(q.sel.count = 0, -EINVAL);
    REFUSE(memset(q.sel.pcrSelections[1].pcrSelect, 0, 4), -EINVAL);
    REFUSE(q.sel.count = TPM_ATTEST_MAX_SELECTIONS + 1, -EINVAL);
    REFUSE(q.sel.pcrSelections[0].sizeofSelect = TPM_ATTEST_PCR_SELECT_MAX + 1, -EINVAL);
    REFUSE(q.sel.pcrSelections[1].hash = TPM2_ALG_SHA256, -EINVAL);
    {
        /* a bank twice, values of the right size: (bank, index) would be ambiguous */
        static const struct bank_sel twice[] = {{TPM2_ALG_SHA256, 1u << 0},
                                                {TPM2_ALG_SHA256, 1u << 0 | 1u << 1}};

        quote_make(&q, ak, twice, ELEMENTSOF(twice));
        assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len, &v), -EINVAL);
        assert_int_equal(verify_q(&q, true, nonce, &v), -EINVAL);
    }
    REFUSE(q.sel.pcrSelections[1].hash = TPM2_ALG_SM3_256, -EOPNOTSUPP);
    REFUSE(q.sel.pcrSelections[1].hash = TPM2_ALG_NULL, -EOPNOTSUPP);
    /* a file written on a machine of the other byte order */
    REFUSE(q.sel.count = __builtin_bswap32(q.sel.count), -EINVAL);
    assert_ptr_equal(v, (struct tpm_attest_pcrs *)&state);
#undef REFUSE

    /* the number of lists must match the file's length, and be at most 32 */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    u32 = 2;
    memcpy(q.file + TPM_ATTEST_PCR_SEL_BYTES, &u32, sizeof(u32));
    assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len, &v), -EINVAL);
    u32 = TPM_ATTEST_MAX_PCR_LISTS + 1;
    memcpy(q.file + TPM_ATTEST_PCR_SEL_BYTES, &u32, sizeof(u32));
    assert_int_equal(tpm_attest_pcrs_parse(q.file, q.file_len, &v), -EINVAL);
    assert_ptr_equal(v, (struct tpm_attest_pcrs *)&state);

    /* ignored, as tpm2_checkquote ignores them: unused selection slots, bitmap bytes past
     * sizeofSelect, padding */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    q.sel.pcrSelections[2].hash = TPM2_ALG_SM3_256;
    q.sel.pcrSelections[2].sizeofSelect = 200;
    q.sel.pcrSelections[1].pcrSelect[3] = 0xff; /* sizeofSelect is 3 */
    quote_dump(&q);
    q.file[4 + 7] = 0xee; /* the first slot's pad byte */
    assert_int_equal(verify_q(&q, true, nonce, &ok), 0);
    expect_values(&q, ok);
    ok = tpm_attest_pcrs_free(ok);
    /* a 4-byte bitmap for PCRs 24..31 */
    {
        static const struct bank_sel high[] = {{TPM2_ALG_SHA256, 1u << 3 | 1u << 24 | 1u << 31}};

        quote_make(&q, ak, high, ELEMENTSOF(high));
        assert_int_equal(q.sel.pcrSelections[0].sizeofSelect, 4);
        assert_int_equal(verify_q(&q, true, nonce, &ok), 0);
        expect_values(&q, ok);
        assert_int_equal(ok->pcr[2].index, 31);
        ok = tpm_attest_pcrs_free(ok);
    }
}

/* ---- PCR policy text ------------------------------------------------------------------------ */

static void test_pcr_text(void **state)
{
    static const char *const bad[] = {
            "",
            "sha256",
            "sha256:",
            "sha256:7",
            "sha256:7=",
            ":7=00",
            "sha256:=00",
            "sha256:07=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:32=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:100=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:-1=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:+1=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256: 1=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:1=00000000000000000000000000000000000000000000000000000000000000",
            "sha256:1=000000000000000000000000000000000000000000000000000000000000000000",
            "sha256:1=000000000000000000000000000000000000000000000000000000000000000g",
            "sha256:1=0000000000000000000000000000000000000000000000000000000000000000 ",
            "sha1:1=0000000000000000000000000000000000000000000000000000000000000000",
            "SHA256:1=0000000000000000000000000000000000000000000000000000000000000000",
            "sm3_256:1=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:1:2=0000000000000000000000000000000000000000000000000000000000000000",
            "sha256:1=2=000000000000000000000000000000000000000000000000000000000000000",
    };
    static const TPMI_ALG_HASH algs[] = {TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384,
                                         TPM2_ALG_SHA512};
    static const char *const names[] = {"sha1", "sha256", "sha384", "sha512"};
    struct tpm_attest_pcr pcr, back, poison;
    char text[TPM_ATTEST_PCR_TEXT_MAX], want[TPM_ATTEST_PCR_TEXT_MAX + 8], small[12] = "xyz";
    static struct quote q;
    struct tpm_attest_pcrs *v = NULL;

    /* round trips in every bank, at the largest index: what the text says, byte for byte */
    for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
        pcr = (struct tpm_attest_pcr){
                .bank = algs[i], .index = 31, .len = (uint8_t)digest_size(algs[i])};
        assert_int_equal(RAND_bytes(pcr.value, pcr.len), 1);
        assert_int_equal(tpm_attest_pcr_format(&pcr, text, sizeof(text)), 0);
        {
            int n = snprintf(want, sizeof(want), "%s:31=", names[i]);

            for (size_t j = 0; j < pcr.len; j++)
                n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", pcr.value[j]);
        }
        assert_string_equal(text, want);
        if (algs[i] == TPM2_ALG_SHA512)
            assert_int_equal(strlen(text), TPM_ATTEST_PCR_TEXT_MAX - 1);
        memset(&back, 0, sizeof(back));
        assert_int_equal(tpm_attest_pcr_parse(text, &back), 0);
        assert_memory_equal(&back, &pcr, sizeof(pcr));
    }
    /* upper-case hex, index 0 */
    assert_int_equal(tpm_attest_pcr_parse("sha1:0=ABCDEF0123456789abcdef0123456789ABCDEF01", &pcr),
                     0);
    assert_int_equal(pcr.bank, TPM2_ALG_SHA1);
    assert_int_equal(pcr.index, 0);
    assert_int_equal(pcr.len, 20);
    assert_int_equal(pcr.value[0], 0xab);
    assert_int_equal(pcr.value[19], 0x01);

    /* refusals leave *ret alone */
    memset(&poison, 0x5a, sizeof(poison));
    back = poison;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        if (tpm_attest_pcr_parse(bad[i], &back) != -EINVAL)
            fail_msg("PCR text \"%s\" not refused", bad[i]);
    memset(want, '0', sizeof(want) - 1);
    want[sizeof(want) - 1] = '\0';
    memcpy(want, "sha512:1=", 9);
    assert_int_equal(tpm_attest_pcr_parse(want, &back), -EMSGSIZE);
    assert_int_equal(tpm_attest_pcr_parse(NULL, &back), -EINVAL);
    assert_memory_equal(&back, &poison, sizeof(back));
    assert_int_equal(tpm_attest_pcr_parse("sha1:0=ABCDEF0123456789abcdef0123456789ABCDEF01", NULL),
                     -EINVAL);

    /* format refusals leave buf alone */
    assert_int_equal(tpm_attest_pcr_format(&pcr, small, sizeof(small)), -ENOBUFS);
    assert_string_equal(small, "xyz");
    pcr.len = 32; /* not the SHA-1 size */
    assert_int_equal(tpm_attest_pcr_format(&pcr, text, sizeof(text)), -EINVAL);
    pcr.len = 20;
    pcr.index = 32;
    assert_int_equal(tpm_attest_pcr_format(&pcr, text, sizeof(text)), -EINVAL);
    pcr.index = 0;
    pcr.bank = TPM2_ALG_SM3_256;
    assert_int_equal(tpm_attest_pcr_format(&pcr, text, sizeof(text)), -EINVAL);

    /* policy checks on verified values */
    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    assert_int_equal(verify_q(&q, true, nonce, &v), 0);
    for (size_t i = 0; i < q.n; i++) {
        assert_int_equal(tpm_attest_pcr_format(&v->pcr[i], text, sizeof(text)), 0);
        assert_int_equal(tpm_attest_pcr_parse(text, &pcr), 0);
        assert_int_equal(tpm_attest_pcrs_expect(v, &pcr), 0);
        pcr.value[pcr.len - 1] ^= 1;
        assert_int_equal(tpm_attest_pcrs_expect(v, &pcr), -EACCES);
    }
    assert_int_equal(tpm_attest_pcr_parse("sha256:8=0000000000000000000000000000000000000000000000"
                                          "000000000000000000",
                                          &pcr),
                     0);
    assert_int_equal(tpm_attest_pcrs_expect(v, &pcr), -ENOENT); /* not quoted */
    assert_int_equal(tpm_attest_pcr_parse("sha384:0=000000000000000000000000000000000000000000000"
                                          "000000000000000000000000000000000000000000000000000",
                                          &pcr),
                     0);
    assert_int_equal(tpm_attest_pcrs_expect(v, &pcr), -ENOENT); /* a bank not quoted */
    pcr.len = 32;
    assert_int_equal(tpm_attest_pcrs_expect(v, &pcr), -EINVAL);
    assert_int_equal(tpm_attest_pcrs_expect(NULL, &v->pcr[0]), -EINVAL);
    assert_int_equal(tpm_attest_pcrs_expect(v, NULL), -EINVAL);
    tpm_attest_pcrs_free(v);
}

static void test_quote_input(void **state)
{
    static struct quote q;
    static uint8_t big[TPM_ATTEST_MAX_PCR_FILE + 2];
    struct tpm_attest_quote p;
    struct tpm_attest_pcrs *v = (struct tpm_attest_pcrs *)&state;

    quote_make(&q, ak, sel_two, ELEMENTSOF(sel_two));
    p = (struct tpm_attest_quote){q.attest.b,          q.attest.len, q.sig.b, q.sig.len,
                                  TPM_ATTEST_SIG_TPMT, q.ak.b,       q.ak.len};
    assert_int_equal(tpm_attest_verify_quote(NULL, nonce, q.file, q.file_len, &v), -EINVAL);
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, NULL, q.file_len, &v), -EINVAL);
    p.ak = NULL;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EINVAL);
    p.ak = q.ak.b;
    p.sig = NULL;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EINVAL);
    p.sig = q.sig.b;
    p.sig_format = (enum tpm_attest_sig_format)9;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EINVAL);
    p.sig_format = TPM_ATTEST_SIG_TPMT;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, big, sizeof(big), &v), -EMSGSIZE);
    p.attest_len = TPM_ATTEST_MAX + 1;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EMSGSIZE);
    p.attest_len = q.attest.len;
    p.ak_len = TPM_ATTEST_MAX_AK + 1;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EMSGSIZE);
    p.ak_len = q.ak.len;
    p.sig_len = TPM_ATTEST_MAX_SIG + 1;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, q.file, q.file_len, &v), -EMSGSIZE);
    /* a SHA-1 signature is refused */
    quote_sign(&q, ak, TPM2_ALG_SHA1);
    assert_int_equal(verify_q(&q, true, nonce, &v), -EOPNOTSUPP);
    assert_ptr_equal(v, (struct tpm_attest_pcrs *)&state);
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
            cmocka_unit_test(test_quote_accept),
            cmocka_unit_test(test_quote_known_answer),
            cmocka_unit_test(test_quote_reject_signed),
            cmocka_unit_test(test_quote_reject_nonce),
            cmocka_unit_test(test_quote_reject_pcrs),
            cmocka_unit_test(test_pcr_file),
            cmocka_unit_test(test_pcr_text),
            cmocka_unit_test(test_quote_input),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
