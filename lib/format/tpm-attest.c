/* SPDX-License-Identifier: Apache-2.0 */
/* Offline TPM2_Certify and TPM2_Quote verification (see tpm-attest.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "format.h"
#include "macro.h"
#include "parse.h"
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

/* A TPML_PCR_SELECTION, bitmaps normalised: bytes past sizeofSelect are zero. */
struct pcr_selection {
    uint32_t count;
    struct {
        uint16_t hash;
        uint8_t select[TPM_ATTEST_PCR_SELECT_MAX];
    } s[TPM_ATTEST_MAX_SELECTIONS];
};

/* attested.quote of a TPMS_ATTEST. */
struct quote_info {
    struct pcr_selection sel;
    uint8_t digest[MAX_DIGEST]; /* pcrDigest */
    size_t digest_len;
};

/* A marshalled TPML_PCR_SELECTION (big-endian, sizeofSelect bytes of bitmap). */
static int selection_parse(struct sbuf *b, struct pcr_selection *sel)
{
    if (get_u32(b, &sel->count) < 0 || sel->count > TPM_ATTEST_MAX_SELECTIONS)
        return -EINVAL;
    for (uint32_t i = 0; i < sel->count; i++) {
        uint8_t size;

        if (get_u16(b, &sel->s[i].hash) < 0 || sbuf_get_u8(b, &size) < 0 ||
            size > TPM_ATTEST_PCR_SELECT_MAX || sbuf_get(b, sel->s[i].select, size) < 0)
            return -EINVAL;
        memset(sel->s[i].select + size, 0, TPM_ATTEST_PCR_SELECT_MAX - size);
    }
    return 0;
}

/*
 * A TPMS_ATTEST of the given type (certify: a, quote: a and q). The magic and type are checked
 * first: a structure of another kind or a forged blob is "not what we verify", not "malformed".
 */
static int attest_parse_type(const uint8_t *attest, size_t len, uint16_t type,
                             struct tpm_attest_info *a, struct quote_info *q)
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
    if (a->magic != TPM_ATTEST_GENERATED_VALUE || a->type != type)
        return -EBADMSG;
    if (get_tpm2b(b, TPM_ATTEST_MAX_NAME, a->signer_name, &a->signer_name_len) < 0 ||
        get_tpm2b(b, TPM_ATTEST_MAX_DATA, a->extra_data, &a->extra_data_len) < 0 ||
        get_u64(b, &a->clock) < 0 || get_u32(b, &a->reset_count) < 0 ||
        get_u32(b, &a->restart_count) < 0 || sbuf_get_u8(b, &a->safe) < 0 ||
        get_u64(b, &a->firmware_version) < 0)
        return -EINVAL;
    if (type == TPM_ATTEST_ST_QUOTE) {
        if (!q || selection_parse(b, &q->sel) < 0 ||
            get_tpm2b(b, MAX_DIGEST, q->digest, &q->digest_len) < 0)
            return -EINVAL;
    } else if (get_tpm2b(b, TPM_ATTEST_MAX_NAME, a->name, &a->name_len) < 0 ||
               get_tpm2b(b, TPM_ATTEST_MAX_NAME, a->qualified_name, &a->qualified_name_len) < 0)
        return -EINVAL;
    return sbuf_expect_end(b) < 0 ? -EINVAL : 0;
}

static int attest_parse(const uint8_t *attest, size_t len, struct tpm_attest_info *a)
{
    return attest_parse_type(attest, len, TPM_ATTEST_ST_CERTIFY, a, NULL);
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

/* 0 if the AK (DER or PEM SPKI) signed attest; *ret_hash: the hash it signed with. */
static int sig_check(const uint8_t *attest, size_t attest_len, const uint8_t *sig_in,
                     size_t sig_in_len, enum tpm_attest_sig_format format, const uint8_t *ak_in,
                     size_t ak_in_len, enum hwsign_hash *ret_hash)
{
    _cleanup_free_ uint8_t *ak = NULL, *sig = NULL;
    uint8_t dg[HWSIGN_MAX_DIGEST];
    size_t ak_len = 0, sig_len = 0;
    enum hwsign_hash h = HWSIGN_HASH_SHA256;
    int r;

    if (ak_in_len > TPM_ATTEST_MAX_AK)
        return -EMSGSIZE;
    r = sig_decode(sig_in, sig_in_len, format, &h, &sig, &sig_len);
    if (r < 0)
        return r;
    r = spki_from_pem(ak_in, ak_in_len, &ak, &ak_len);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    r = hash_buffer(h, attest, attest_len, dg, sizeof(dg));
    if (r < 0)
        return r;
    r = sig_verify_digest(ak, ak_len, h, HWSIGN_SCHEME_DEFAULT, dg, hash_len(h), sig, sig_len);
    if (r < 0)
        return r;
    if (ret_hash)
        *ret_hash = h;
    return 0;
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
    r = sig_check(proof->attest, proof->attest_len, proof->sig, proof->sig_len, proof->sig_format,
                  proof->ak, proof->ak_len, NULL);
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

/* ---- PCR values ----------------------------------------------------------------------------- */

static const struct {
    uint16_t alg;
    const char *name;
    uint8_t len;
} pcr_banks[] = {
        {TPM_ATTEST_ALG_SHA1, "sha1", 20},
        {TPM_ATTEST_ALG_SHA256, "sha256", 32},
        {TPM_ATTEST_ALG_SHA384, "sha384", 48},
        {TPM_ATTEST_ALG_SHA512, "sha512", 64},
};

_Static_assert(ELEMENTSOF(pcr_banks) == TPM_ATTEST_MAX_PCR_BANKS, "one entry per bank");

/* The bank's digest size, 0 for a bank we do not know. */
static size_t pcr_bank_len(uint16_t alg)
{
    for (size_t i = 0; i < ELEMENTSOF(pcr_banks); i++)
        if (pcr_banks[i].alg == alg)
            return pcr_banks[i].len;
    return 0;
}

static const char *pcr_bank_name(uint16_t alg)
{
    for (size_t i = 0; i < ELEMENTSOF(pcr_banks); i++)
        if (pcr_banks[i].alg == alg)
            return pcr_banks[i].name;
    return NULL;
}

static bool pcr_selected(const uint8_t select[static TPM_ATTEST_PCR_SELECT_MAX], unsigned k)
{
    return (select[k / 8] >> (k % 8)) & 1u;
}

/* The file is a struct dump in the writer's byte order: read integers in ours. */
static int get_host_u16(struct sbuf *b, uint16_t *ret)
{
    uint8_t v[sizeof(*ret)];

    if (sbuf_get(b, v, sizeof(v)) < 0)
        return -EINVAL;
    memcpy(ret, v, sizeof(v));
    return 0;
}

static int get_host_u32(struct sbuf *b, uint32_t *ret)
{
    uint8_t v[sizeof(*ret)];

    if (sbuf_get(b, v, sizeof(v)) < 0)
        return -EINVAL;
    memcpy(ret, v, sizeof(v));
    return 0;
}

#define PCR_SEL_SLOT_PAD 1u /* after pcrSelect[4]: TPMS_PCR_SELECTION is 8 bytes */

/*
 * The file's TPML_PCR_SELECTION, and the (bank, index) of each selected PCR in selection order
 * into out (values not filled in yet).
 */
static int pcr_file_selection(struct sbuf *b, struct pcr_selection *sel,
                              struct tpm_attest_pcrs *out)
{
    if (get_host_u32(b, &sel->count) < 0 || sel->count > TPM_ATTEST_MAX_SELECTIONS)
        return -EINVAL;
    for (uint32_t i = 0; i < TPM_ATTEST_MAX_SELECTIONS; i++) {
        uint16_t hash;
        uint8_t size, select[TPM_ATTEST_PCR_SELECT_MAX];

        if (get_host_u16(b, &hash) < 0 || sbuf_get_u8(b, &size) < 0 ||
            sbuf_get(b, select, sizeof(select)) < 0 || sbuf_consume(b, PCR_SEL_SLOT_PAD) < 0)
            return -EINVAL;
        if (i >= sel->count)
            continue; /* an unused slot */
        if (size > TPM_ATTEST_PCR_SELECT_MAX)
            return -EINVAL;
        memset(select + size, 0, sizeof(select) - size);
        sel->s[i].hash = hash;
        memcpy(sel->s[i].select, select, sizeof(select));
    }
    out->count = 0;
    for (uint32_t i = 0; i < sel->count; i++) {
        size_t blen = pcr_bank_len(sel->s[i].hash);

        if (blen == 0)
            return -EOPNOTSUPP;
        for (uint32_t j = 0; j < i; j++)
            if (sel->s[j].hash == sel->s[i].hash)
                return -EINVAL; /* a bank twice: (bank, index) would be ambiguous */
        /* At most TPM_ATTEST_MAX_PCR_BANKS distinct banks of 32 PCRs: out->pcr has room. */
        for (unsigned k = 0; k <= TPM_ATTEST_MAX_PCR_INDEX; k++) {
            if (!pcr_selected(sel->s[i].select, k))
                continue;
            out->pcr[out->count++] = (struct tpm_attest_pcr){
                    .bank = sel->s[i].hash, .index = (uint8_t)k, .len = (uint8_t)blen};
        }
    }
    return out->count == 0 ? -EINVAL : 0;
}

/* The values: UINT32 lists, then lists TPML_DIGEST filling out->pcr in order. */
static int pcr_file_values(struct sbuf *b, struct tpm_attest_pcrs *out)
{
    uint32_t lists;
    size_t next = 0;

    if (get_host_u32(b, &lists) < 0 || lists == 0 || lists > TPM_ATTEST_MAX_PCR_LISTS ||
        sbuf_len(b) != (size_t)lists * TPM_ATTEST_PCR_LIST_BYTES)
        return -EINVAL;
    for (uint32_t l = 0; l < lists; l++) {
        uint32_t count;

        if (get_host_u32(b, &count) < 0 || count == 0 || count > TPM_ATTEST_PCR_LIST_MAX)
            return -EINVAL;
        for (uint32_t d = 0; d < TPM_ATTEST_PCR_LIST_MAX; d++) {
            uint8_t buf[TPM_ATTEST_MAX_PCR_DIGEST];
            uint16_t size;

            if (get_host_u16(b, &size) < 0 || sbuf_get(b, buf, sizeof(buf)) < 0)
                return -EINVAL;
            if (d >= count)
                continue; /* an unused slot */
            if (next >= out->count || size != out->pcr[next].len)
                return -EINVAL; /* more values than PCRs, or a value of another bank's size */
            memcpy(out->pcr[next].value, buf, size);
            next++;
        }
    }
    if (next != out->count)
        return -EINVAL; /* fewer values than PCRs */
    return sbuf_expect_end(b) < 0 ? -EINVAL : 0;
}

static int pcr_file_parse(const uint8_t *file, size_t len, struct pcr_selection *sel,
                          struct tpm_attest_pcrs **ret)
{
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *out = NULL;
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    int r;

    if (!file)
        return -EINVAL;
    if (len > TPM_ATTEST_MAX_PCR_FILE)
        return -EMSGSIZE;
    b = sbuf_from(file, len);
    out = calloc(1, sizeof(*out));
    if (!b || !out)
        return -ENOMEM;
    r = pcr_file_selection(b, sel, out);
    if (r < 0)
        return r;
    r = pcr_file_values(b, out);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(out);
    return 0;
}

struct tpm_attest_pcrs *tpm_attest_pcrs_free(struct tpm_attest_pcrs *p)
{
    free(p);
    return NULL;
}

int tpm_attest_pcrs_parse(const uint8_t *file, size_t len, struct tpm_attest_pcrs **ret)
{
    struct pcr_selection sel = {};

    if (!ret)
        return -EINVAL;
    return pcr_file_parse(file, len, &sel, ret);
}

static bool selection_equal(const struct pcr_selection *a, const struct pcr_selection *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (a->s[i].hash != b->s[i].hash ||
            memcmp(a->s[i].select, b->s[i].select, TPM_ATTEST_PCR_SELECT_MAX) != 0)
            return false;
    return true;
}

/* 0 if pcrDigest == H(values in selection order). */
static int pcr_digest_check(const struct quote_info *q, const struct tpm_attest_pcrs *v,
                            enum hwsign_hash h)
{
    _cleanup_free_ uint8_t *cat = NULL;
    uint8_t dg[HWSIGN_MAX_DIGEST];
    size_t off = 0;
    int r;

    cat = malloc(TPM_ATTEST_MAX_PCR_VALUES * TPM_ATTEST_MAX_PCR_DIGEST);
    if (!cat)
        return -ENOMEM;
    for (size_t i = 0; i < v->count; i++) {
        memcpy(cat + off, v->pcr[i].value, v->pcr[i].len);
        off += v->pcr[i].len;
    }
    r = hash_buffer(h, cat, off, dg, sizeof(dg));
    if (r < 0)
        return r;
    if (q->digest_len != hash_len(h) || memcmp(q->digest, dg, q->digest_len) != 0)
        return -ENOKEY;
    return 0;
}

int tpm_attest_verify_quote(const struct tpm_attest_quote *proof,
                            const uint8_t nonce[static TPM_ATTEST_NONCE_LEN], const uint8_t *pcrs,
                            size_t pcrs_len, struct tpm_attest_pcrs **ret_values)
{
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *values = NULL;
    struct pcr_selection sel = {};
    struct tpm_attest_info a = {};
    struct quote_info q = {};
    enum hwsign_hash h = HWSIGN_HASH_SHA256;
    int r;

    if (!proof || !nonce || !proof->attest || !proof->sig || !proof->ak || !pcrs)
        return -EINVAL;
    if (proof->attest_len > TPM_ATTEST_MAX || pcrs_len > TPM_ATTEST_MAX_PCR_FILE)
        return -EMSGSIZE;
    /* Authenticity first: nothing in attest means anything before the AK's signature checks. */
    r = sig_check(proof->attest, proof->attest_len, proof->sig, proof->sig_len, proof->sig_format,
                  proof->ak, proof->ak_len, &h);
    if (r < 0)
        return r;
    r = attest_parse_type(proof->attest, proof->attest_len, TPM_ATTEST_ST_QUOTE, &a, &q);
    if (r < 0)
        return r;
    if (a.extra_data_len != TPM_ATTEST_NONCE_LEN ||
        memcmp(a.extra_data, nonce, TPM_ATTEST_NONCE_LEN) != 0)
        return -ESTALE;
    r = pcr_file_parse(pcrs, pcrs_len, &sel, &values);
    if (r < 0)
        return r;
    if (!selection_equal(&sel, &q.sel))
        return -ENOKEY;
    r = pcr_digest_check(&q, values, h);
    if (r < 0)
        return r;
    if (ret_values)
        *ret_values = TAKE_PTR(values);
    return 0;
}

const struct tpm_attest_pcr *tpm_attest_pcrs_find(const struct tpm_attest_pcrs *p, uint16_t bank,
                                                  unsigned index)
{
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->count && i < TPM_ATTEST_MAX_PCR_VALUES; i++)
        if (p->pcr[i].bank == bank && p->pcr[i].index == index)
            return &p->pcr[i];
    return NULL;
}

/* 0 if pcr is something tpm_attest_pcr_parse can produce. */
static int pcr_valid(const struct tpm_attest_pcr *pcr)
{
    size_t blen = pcr_bank_len(pcr->bank);

    return blen == 0 || pcr->len != blen || pcr->index > TPM_ATTEST_MAX_PCR_INDEX ? -EINVAL : 0;
}

int tpm_attest_pcrs_expect(const struct tpm_attest_pcrs *p, const struct tpm_attest_pcr *want)
{
    const struct tpm_attest_pcr *have;

    if (!p || !want || pcr_valid(want) < 0)
        return -EINVAL;
    have = tpm_attest_pcrs_find(p, want->bank, want->index);
    if (!have)
        return -ENOENT;
    if (have->len != want->len || memcmp(have->value, want->value, want->len) != 0)
        return -EACCES;
    return 0;
}

int tpm_attest_pcr_parse(const char *s, struct tpm_attest_pcr *ret)
{
    struct tpm_attest_pcr pcr = {};
    _cleanup_free_ uint8_t *value = NULL;
    const char *colon, *eq, *hex;
    char index[3];
    size_t slen, n, value_len = 0;
    uint32_t k;
    int r;

    if (!s || !ret)
        return -EINVAL;
    slen = strnlen(s, TPM_ATTEST_PCR_TEXT_MAX);
    if (slen >= TPM_ATTEST_PCR_TEXT_MAX)
        return -EMSGSIZE;
    colon = memchr(s, ':', slen);
    if (!colon)
        return -EINVAL;
    n = (size_t)(colon - s);
    for (size_t i = 0; i < ELEMENTSOF(pcr_banks); i++)
        if (strlen(pcr_banks[i].name) == n && memcmp(s, pcr_banks[i].name, n) == 0) {
            pcr.bank = pcr_banks[i].alg;
            pcr.len = pcr_banks[i].len;
        }
    if (pcr.len == 0)
        return -EINVAL;
    eq = memchr(colon + 1, '=', slen - n - 1);
    if (!eq)
        return -EINVAL;
    /* 1 or 2 digits, no leading zero: parse_u32 takes care of signs, spaces and range. */
    n = (size_t)(eq - colon - 1);
    if (n == 0 || n >= sizeof(index) || (n > 1 && colon[1] == '0'))
        return -EINVAL;
    memcpy(index, colon + 1, n);
    index[n] = '\0';
    if (parse_u32(index, TPM_ATTEST_MAX_PCR_INDEX, &k) < 0)
        return -EINVAL;
    pcr.index = (uint8_t)k;
    hex = eq + 1;
    n = slen - (size_t)(hex - s);
    if (n != 2u * pcr.len)
        return -EINVAL;
    r = hex_decode(hex, n, &value, &value_len);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    if (value_len != pcr.len)
        return -EINVAL;
    memcpy(pcr.value, value, value_len);
    *ret = pcr;
    return 0;
}

int tpm_attest_pcr_format(const struct tpm_attest_pcr *pcr, char *buf, size_t len)
{
    _cleanup_free_ char *hex = NULL;
    char text[TPM_ATTEST_PCR_TEXT_MAX];
    int n, r;

    if (!pcr || !buf || pcr_valid(pcr) < 0)
        return -EINVAL;
    r = hex_encode(pcr->value, pcr->len, &hex);
    if (r < 0)
        return r;
    n = snprintf(text, sizeof(text), "%s:%u=%s", pcr_bank_name(pcr->bank), (unsigned)pcr->index,
                 hex);
    if (n < 0 || (size_t)n >= sizeof(text))
        return -ENOTRECOVERABLE; /* TPM_ATTEST_PCR_TEXT_MAX is the longest text */
    if ((size_t)n >= len)
        return -ENOBUFS;
    memcpy(buf, text, (size_t)n + 1);
    return 0;
}
