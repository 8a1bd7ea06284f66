/* SPDX-License-Identifier: Apache-2.0 */
/* Offline TPM2_Certify proof verification (see tpm-attest.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "macro.h"
#include "sbuf.h"
#include "tpm-attest.h"

/* TPM_ALG_ID values (TPM 2.0 Library Part 2, table 9). */
#define ALG_RSA            0x0001u
#define ALG_SHA1           0x0004u
#define ALG_AES            0x0006u
#define ALG_MGF1           0x0007u
#define ALG_SHA256         0x000bu
#define ALG_SHA384         0x000cu
#define ALG_SHA512         0x000du
#define ALG_NULL           0x0010u
#define ALG_SM4            0x0013u
#define ALG_RSASSA         0x0014u
#define ALG_RSAES          0x0015u
#define ALG_RSAPSS         0x0016u
#define ALG_OAEP           0x0017u
#define ALG_ECDSA          0x0018u
#define ALG_ECDH           0x0019u
#define ALG_ECDAA          0x001au
#define ALG_SM2            0x001bu
#define ALG_ECSCHNORR      0x001cu
#define ALG_ECMQV          0x001du
#define ALG_KDF1_SP800_56A 0x0020u
#define ALG_KDF2           0x0021u
#define ALG_KDF1_SP800_108 0x0022u
#define ALG_ECC            0x0023u
#define ALG_CAMELLIA       0x0026u

#define CURVE_NIST_P256 0x0003u
#define CURVE_NIST_P384 0x0004u
#define CURVE_NIST_P521 0x0005u

#define MAX_DIGEST     64u  /* TPM2B_DIGEST: SHA-512 */
#define MAX_ECC_COORD  66u  /* P-521 */
#define MAX_RSA_BYTES  512u /* RSA-4096 modulus, and an RSASSA signature */
#define RSA_EXPONENT   65537u
#define NAME_ALG_BYTES 2u

/* A parsed TPMT_PUBLIC (what the Name and the SPKI need). */
struct pub_info {
    uint16_t type;
    uint16_t name_alg;
    uint32_t attrs;
    uint16_t curve;
    uint8_t x[MAX_ECC_COORD], y[MAX_ECC_COORD];
    size_t x_len, y_len;
    uint32_t exponent;
    uint8_t n[MAX_RSA_BYTES];
    size_t n_len;
    uint16_t key_bits;
};

/* ---- TPM marshalling on sbuf ---------------------------------------------------------------- */

static int get_u16(struct sbuf *b, uint16_t *ret)
{
    uint8_t v[2];
    int r = sbuf_get(b, v, sizeof(v));

    if (r < 0)
        return -EINVAL;
    *ret = (uint16_t)(v[0] << 8 | v[1]);
    return 0;
}

static int get_u32(struct sbuf *b, uint32_t *ret)
{
    return sbuf_get_u32(b, ret) < 0 ? -EINVAL : 0;
}

static int get_u64(struct sbuf *b, uint64_t *ret)
{
    return sbuf_get_u64(b, ret) < 0 ? -EINVAL : 0;
}

/* A TPM2B: u16 size (at most max, which buf has room for), then the bytes. */
static int get_tpm2b(struct sbuf *b, size_t max, uint8_t *buf, size_t *ret_len)
{
    uint16_t n;
    int r;

    r = get_u16(b, &n);
    if (r < 0)
        return r;
    if (n > max || sbuf_get(b, buf, n) < 0)
        return -EINVAL;
    *ret_len = n;
    return 0;
}

static int skip_tpm2b(struct sbuf *b, size_t max)
{
    uint8_t buf[MAX_DIGEST];
    size_t n;

    return max > sizeof(buf) ? -EINVAL : get_tpm2b(b, max, buf, &n);
}

static int hash_of_alg(uint16_t alg, enum hwsign_hash *ret)
{
    switch (alg) {
    case ALG_SHA256:
        *ret = HWSIGN_HASH_SHA256;
        return 0;
    case ALG_SHA384:
        *ret = HWSIGN_HASH_SHA384;
        return 0;
    case ALG_SHA512:
        *ret = HWSIGN_HASH_SHA512;
        return 0;
    default:
        return -EOPNOTSUPP; /* SHA-1, SM3, unknown */
    }
}

/* ---- TPMS_ATTEST ---------------------------------------------------------------------------- */

static int attest_parse(const uint8_t *attest, size_t len, struct tpm_attest_info *a)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;

    if (!attest || !a)
        return -EINVAL;
    if (len > TPM_ATTEST_MAX)
        return -EMSGSIZE;
    b = sbuf_from(attest, len);
    if (!b)
        return -ENOMEM;
    if (get_u32(b, &a->magic) < 0 || get_u16(b, &a->type) < 0)
        return -EINVAL;
    /* Checked first: a quote or a forged blob is "not a certification", not "malformed". */
    if (a->magic != TPM_ATTEST_GENERATED_VALUE || a->type != TPM_ATTEST_ST_CERTIFY)
        return -EBADMSG;
    if (get_tpm2b(b, TPM_ATTEST_MAX_NAME, a->signer_name, &a->signer_name_len) < 0 ||
        get_tpm2b(b, TPM_ATTEST_MAX_DATA, a->extra_data, &a->extra_data_len) < 0 ||
        get_u64(b, &a->clock) < 0 || get_u32(b, &a->reset_count) < 0 ||
        get_u32(b, &a->restart_count) < 0 || sbuf_get_u8(b, &a->safe) < 0 ||
        get_u64(b, &a->firmware_version) < 0 ||
        get_tpm2b(b, TPM_ATTEST_MAX_NAME, a->name, &a->name_len) < 0 ||
        get_tpm2b(b, TPM_ATTEST_MAX_NAME, a->qualified_name, &a->qualified_name_len) < 0 ||
        sbuf_expect_end(b) < 0)
        return -EINVAL;
    return 0;
}

int tpm_attest_parse(const uint8_t *attest, size_t len, struct tpm_attest_info *ret)
{
    struct tpm_attest_info a = {};
    int r;

    if (!ret)
        return -EINVAL;
    r = attest_parse(attest, len, &a);
    if (r < 0)
        return r;
    *ret = a;
    return 0;
}

int tpm_attest_certified_name(const uint8_t *attest, size_t len,
                              uint8_t ret_name[static TPM_ATTEST_MAX_NAME], size_t *ret_name_len)
{
    struct tpm_attest_info a = {};
    int r;

    if (!ret_name || !ret_name_len)
        return -EINVAL;
    r = attest_parse(attest, len, &a);
    if (r < 0)
        return r;
    memcpy(ret_name, a.name, a.name_len);
    *ret_name_len = a.name_len;
    return 0;
}

/* ---- TPMT_PUBLIC ---------------------------------------------------------------------------- */

/* TPMT_SYM_DEF_OBJECT: NULL, or a block cipher with keyBits and mode. */
static int parse_symmetric(struct sbuf *b)
{
    uint16_t alg, bits, mode;

    if (get_u16(b, &alg) < 0)
        return -EINVAL;
    if (alg == ALG_NULL)
        return 0;
    if (alg != ALG_AES && alg != ALG_SM4 && alg != ALG_CAMELLIA)
        return -EOPNOTSUPP;
    return get_u16(b, &bits) < 0 || get_u16(b, &mode) < 0 ? -EINVAL : 0;
}

/* A scheme whose details are TPMS_SCHEME_HASH (a hashAlg), ECDAA adds a count. */
static int parse_scheme(struct sbuf *b, bool ecc)
{
    uint16_t scheme, hash, count;

    if (get_u16(b, &scheme) < 0)
        return -EINVAL;
    switch (scheme) {
    case ALG_NULL:
        return 0;
    case ALG_RSAES:
        return ecc ? -EOPNOTSUPP : 0; /* TPMS_EMPTY */
    case ALG_RSASSA:
    case ALG_RSAPSS:
    case ALG_OAEP:
        if (ecc)
            return -EOPNOTSUPP;
        return get_u16(b, &hash);
    case ALG_ECDSA:
    case ALG_ECDH:
    case ALG_SM2:
    case ALG_ECSCHNORR:
    case ALG_ECMQV:
        if (!ecc)
            return -EOPNOTSUPP;
        return get_u16(b, &hash);
    case ALG_ECDAA:
        if (!ecc)
            return -EOPNOTSUPP;
        return get_u16(b, &hash) < 0 || get_u16(b, &count) < 0 ? -EINVAL : 0;
    default:
        return -EOPNOTSUPP;
    }
}

static int parse_kdf(struct sbuf *b)
{
    uint16_t scheme, hash;

    if (get_u16(b, &scheme) < 0)
        return -EINVAL;
    if (scheme == ALG_NULL)
        return 0;
    if (scheme != ALG_MGF1 && scheme != ALG_KDF1_SP800_56A && scheme != ALG_KDF2 &&
        scheme != ALG_KDF1_SP800_108)
        return -EOPNOTSUPP;
    return get_u16(b, &hash);
}

static size_t curve_coord(uint16_t curve)
{
    switch (curve) {
    case CURVE_NIST_P256:
        return 32;
    case CURVE_NIST_P384:
        return 48;
    case CURVE_NIST_P521:
        return 66;
    default:
        return 0;
    }
}

static int public_parse(const uint8_t *pub, size_t len, struct pub_info *p)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    enum hwsign_hash h;
    int r;

    if (!pub)
        return -EINVAL;
    if (len > TPM_ATTEST_MAX_PUBLIC)
        return -EMSGSIZE;
    b = sbuf_from(pub, len);
    if (!b)
        return -ENOMEM;
    if (get_u16(b, &p->type) < 0 || get_u16(b, &p->name_alg) < 0 || get_u32(b, &p->attrs) < 0 ||
        skip_tpm2b(b, MAX_DIGEST) < 0)
        return -EINVAL;
    if (p->type != ALG_ECC && p->type != ALG_RSA)
        return -EOPNOTSUPP; /* keyedHash, symCipher: not keys with an SPKI */
    if (hash_of_alg(p->name_alg, &h) < 0)
        return -EOPNOTSUPP;
    r = parse_symmetric(b);
    if (r == 0)
        r = parse_scheme(b, p->type == ALG_ECC);
    if (r < 0)
        return r;
    if (p->type == ALG_ECC) {
        size_t coord;

        if (get_u16(b, &p->curve) < 0)
            return -EINVAL;
        r = parse_kdf(b);
        if (r < 0)
            return r;
        if (get_tpm2b(b, MAX_ECC_COORD, p->x, &p->x_len) < 0 ||
            get_tpm2b(b, MAX_ECC_COORD, p->y, &p->y_len) < 0)
            return -EINVAL;
        coord = curve_coord(p->curve);
        if (coord == 0)
            return -EOPNOTSUPP;
        if (p->x_len == 0 || p->x_len > coord || p->y_len == 0 || p->y_len > coord)
            return -EINVAL;
    } else {
        if (get_u16(b, &p->key_bits) < 0 || get_u32(b, &p->exponent) < 0 ||
            get_tpm2b(b, MAX_RSA_BYTES, p->n, &p->n_len) < 0)
            return -EINVAL;
        if (p->n_len == 0 || p->n_len != p->key_bits / 8u)
            return -EINVAL;
    }
    return sbuf_expect_end(b) < 0 ? -EINVAL : 0;
}

/* nameAlg || H(pub); pub already parsed (p->name_alg). */
static int public_name(const uint8_t *pub, size_t len, const struct pub_info *p,
                       uint8_t name[static TPM_ATTEST_MAX_NAME], size_t *ret_len)
{
    enum hwsign_hash h;
    int r;

    r = hash_of_alg(p->name_alg, &h);
    if (r < 0)
        return r;
    r = hash_buffer(h, pub, len, name + NAME_ALG_BYTES, TPM_ATTEST_MAX_NAME - NAME_ALG_BYTES);
    if (r < 0)
        return r;
    name[0] = (uint8_t)(p->name_alg >> 8);
    name[1] = (uint8_t)p->name_alg;
    *ret_len = NAME_ALG_BYTES + hash_len(h);
    return 0;
}

int tpm_attest_public_name(const uint8_t *pub, size_t len,
                           uint8_t ret_name[static TPM_ATTEST_MAX_NAME], size_t *ret_name_len)
{
    uint8_t name[TPM_ATTEST_MAX_NAME];
    struct pub_info p = {};
    size_t name_len = 0;
    int r;

    if (!ret_name || !ret_name_len)
        return -EINVAL;
    r = public_parse(pub, len, &p);
    if (r < 0)
        return r;
    r = public_name(pub, len, &p, name, &name_len);
    if (r < 0)
        return r;
    memcpy(ret_name, name, name_len);
    *ret_name_len = name_len;
    return 0;
}

static int pkey_to_spki(OSSL_PARAM_BLD *bld, const char *type, uint8_t **ret, size_t *ret_len)
{
    _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pc = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_free_ uint8_t *der = NULL;
    unsigned char *q;
    int n;

    params = OSSL_PARAM_BLD_to_param(bld);
    pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!params || !pc)
        return -ENOMEM;
    if (EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        return -EINVAL; /* a point off the curve */
    n = i2d_PUBKEY(pkey, NULL);
    if (n <= 0 || (size_t)n > HWSIGN_MAX_SPKI)
        return -EINVAL;
    der = malloc((size_t)n);
    if (!der)
        return -ENOMEM;
    q = der;
    if (i2d_PUBKEY(pkey, &q) != n)
        return -ENOTRECOVERABLE;
    *ret_len = (size_t)n;
    *ret = TAKE_PTR(der);
    return 0;
}

static int public_spki(const struct pub_info *p, uint8_t **ret, size_t *ret_len)
{
    _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
    _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;

    bld = OSSL_PARAM_BLD_new();
    if (!bld)
        return -ENOMEM;
    if (p->type == ALG_ECC) {
        static const char *const groups[] = {
                [CURVE_NIST_P256] = "P-256",
                [CURVE_NIST_P384] = "P-384",
                [CURVE_NIST_P521] = "P-521",
        };
        size_t coord = curve_coord(p->curve);
        uint8_t oct[1 + 2 * MAX_ECC_COORD] = {0x04};

        /* Coordinates are big-endian and may come without leading zero bytes: right-align. */
        memcpy(oct + 1 + coord - p->x_len, p->x, p->x_len);
        memcpy(oct + 1 + 2 * coord - p->y_len, p->y, p->y_len);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, groups[p->curve],
                                             0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, oct, 1 + 2 * coord))
            return -ENOMEM;
        return pkey_to_spki(bld, "EC", ret, ret_len);
    }
    n = BN_bin2bn(p->n, (int)p->n_len, NULL);
    e = BN_new();
    if (!n || !e || !BN_set_word(e, p->exponent ? p->exponent : RSA_EXPONENT))
        return -ENOMEM;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        return -ENOMEM;
    return pkey_to_spki(bld, "RSA", ret, ret_len);
}

int tpm_attest_public_spki(const uint8_t *pub, size_t len, uint8_t **ret_spki, size_t *ret_len,
                           uint32_t *ret_attrs)
{
    struct pub_info p = {};
    int r;

    if (!ret_spki || !ret_len)
        return -EINVAL;
    r = public_parse(pub, len, &p);
    if (r < 0)
        return r;
    r = public_spki(&p, ret_spki, ret_len);
    if (r < 0)
        return r;
    if (ret_attrs)
        *ret_attrs = p.attrs;
    return 0;
}

/* ---- signatures ----------------------------------------------------------------------------- */

/* The signature as sig_verify_digest() takes it (DER ECDSA / raw PKCS#1) and its hash. */
static int sig_decode(const uint8_t *sig, size_t len, enum tpm_attest_sig_format format,
                      enum hwsign_hash *ret_hash, uint8_t **ret_sig, size_t *ret_len)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    _cleanup_free_ uint8_t *out = NULL;
    uint16_t alg, hash;
    size_t out_len = 0;
    enum hwsign_hash h;
    int r;

    if (len > TPM_ATTEST_MAX_SIG)
        return -EMSGSIZE;
    if (format == TPM_ATTEST_SIG_PLAIN) {
        if (len == 0)
            return -EINVAL;
        out = malloc(len);
        if (!out)
            return -ENOMEM;
        memcpy(out, sig, len);
        *ret_hash = HWSIGN_HASH_SHA256;
        *ret_len = len;
        *ret_sig = TAKE_PTR(out);
        return 0;
    }
    if (format != TPM_ATTEST_SIG_TPMT)
        return -EINVAL;
    b = sbuf_from(sig, len);
    if (!b)
        return -ENOMEM;
    if (get_u16(b, &alg) < 0 || get_u16(b, &hash) < 0)
        return -EINVAL;
    if (alg != ALG_ECDSA && alg != ALG_RSASSA)
        return -EOPNOTSUPP; /* RSAPSS: the TPM's salt length is not settled; others unused */
    r = hash_of_alg(hash, &h);
    if (r < 0)
        return r;
    if (alg == ALG_ECDSA) {
        uint8_t rr[MAX_ECC_COORD], ss[MAX_ECC_COORD], raw[2 * MAX_ECC_COORD] = {};
        size_t rl = 0, sl = 0, half;

        if (get_tpm2b(b, MAX_ECC_COORD, rr, &rl) < 0 || get_tpm2b(b, MAX_ECC_COORD, ss, &sl) < 0 ||
            sbuf_expect_end(b) < 0 || rl == 0 || sl == 0)
            return -EINVAL;
        /* DER integers do not depend on the padding: right-align both halves to the longer. */
        half = MAX(rl, sl);
        memcpy(raw + half - rl, rr, rl);
        memcpy(raw + 2 * half - sl, ss, sl);
        r = ecdsa_raw_to_der(raw, 2 * half, &out, &out_len);
        if (r < 0)
            return r == -ENOMEM ? r : -EINVAL;
    } else {
        uint8_t s[MAX_RSA_BYTES];

        if (get_tpm2b(b, MAX_RSA_BYTES, s, &out_len) < 0 || sbuf_expect_end(b) < 0 || out_len == 0)
            return -EINVAL;
        out = malloc(out_len);
        if (!out)
            return -ENOMEM;
        memcpy(out, s, out_len);
    }
    *ret_hash = h;
    *ret_len = out_len;
    *ret_sig = TAKE_PTR(out);
    return 0;
}

/* 0 if the AK (DER or PEM SPKI) signed attest. */
static int sig_check(const struct tpm_attest_certify *p)
{
    _cleanup_free_ uint8_t *ak = NULL, *sig = NULL;
    uint8_t dg[HWSIGN_MAX_DIGEST];
    size_t ak_len = 0, sig_len = 0;
    enum hwsign_hash h = HWSIGN_HASH_SHA256;
    int r;

    if (p->ak_len > TPM_ATTEST_MAX_AK)
        return -EMSGSIZE;
    r = sig_decode(p->sig, p->sig_len, p->sig_format, &h, &sig, &sig_len);
    if (r < 0)
        return r;
    r = spki_from_pem(p->ak, p->ak_len, &ak, &ak_len);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    r = hash_buffer(h, p->attest, p->attest_len, dg, sizeof(dg));
    if (r < 0)
        return r;
    return sig_verify_digest(ak, ak_len, h, HWSIGN_SCHEME_DEFAULT, dg, hash_len(h), sig, sig_len);
}

/* 0 if pub holds the same key as spki (DER or PEM). */
static int key_match(const struct pub_info *pub, const uint8_t *spki, size_t spki_len)
{
    _cleanup_free_ uint8_t *a = NULL, *b = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *ka = NULL, *kb = NULL;
    size_t a_len = 0, b_len = 0;
    int r;

    if (spki_len > TPM_ATTEST_MAX_AK)
        return -EMSGSIZE;
    r = spki_from_pem(spki, spki_len, &b, &b_len);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    r = public_spki(pub, &a, &a_len);
    if (r < 0)
        return r;
    if (spki_parse(a, a_len, &ka) < 0 || spki_parse(b, b_len, &kb) < 0)
        return -EINVAL;
    return EVP_PKEY_eq(ka, kb) == 1 ? 0 : -ENOKEY;
}

int tpm_attest_verify_certify(const struct tpm_attest_certify *proof,
                              const uint8_t nonce[static TPM_ATTEST_NONCE_LEN],
                              const uint8_t *key_spki, size_t key_spki_len)
{
    uint8_t name[TPM_ATTEST_MAX_NAME];
    struct tpm_attest_info a = {};
    struct pub_info pub = {};
    size_t name_len = 0;
    int r;

    if (!proof || !nonce || !proof->attest || !proof->sig || !proof->ak || !proof->key_public)
        return -EINVAL;
    if (proof->attest_len > TPM_ATTEST_MAX || proof->key_public_len > TPM_ATTEST_MAX_PUBLIC)
        return -EMSGSIZE;
    /* Authenticity first: nothing in attest means anything before the AK's signature checks. */
    r = sig_check(proof);
    if (r < 0)
        return r;
    r = attest_parse(proof->attest, proof->attest_len, &a);
    if (r < 0)
        return r;
    if (a.extra_data_len != TPM_ATTEST_NONCE_LEN ||
        memcmp(a.extra_data, nonce, TPM_ATTEST_NONCE_LEN) != 0)
        return -ESTALE;
    r = public_parse(proof->key_public, proof->key_public_len, &pub);
    if (r < 0)
        return r;
    r = public_name(proof->key_public, proof->key_public_len, &pub, name, &name_len);
    if (r < 0)
        return r;
    if (a.name_len != name_len || memcmp(a.name, name, name_len) != 0)
        return -ENOKEY;
    if ((pub.attrs & TPM_ATTEST_REQUIRED_ATTRS) != TPM_ATTEST_REQUIRED_ATTRS)
        return -EKEYREJECTED;
    if (key_spki)
        return key_match(&pub, key_spki, key_spki_len);
    return 0;
}
