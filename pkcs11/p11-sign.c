/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "p11-rv.h"
#include "p11-sign.h"

/* DER OBJECT IDENTIFIERs for CKA_EC_PARAMS (namedCurve). */
static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t rsa_exponent[] = {0x01, 0x00, 0x01}; /* P11_RSA_EXPONENT, big-endian */

#define ATTR(type, ptr, len) ((CK_ATTRIBUTE){(type), (void *)(uintptr_t)(ptr), (len)})

int p11_sign_generate(struct p11_token *t, const char *label, enum hwsign_alg alg,
                      uint8_t ret_id[static P11_KEYGEN_ID_LEN])
{
    static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    const CK_ULONG bits = P11_RSA_BITS;
    uint8_t id[P11_KEYGEN_ID_LEN];
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub[8], priv[12];
    CK_ULONG n_pub = 0, n_priv = 0;
    CK_OBJECT_HANDLE hpub, hpriv;
    CK_SESSION_HANDLE h;
    CK_RV rv;
    int r;

    if (RAND_bytes(id, sizeof(id)) != 1)
        return p11_token_failf(t, -EIO, "RAND_bytes failed");

    pub[n_pub++] = ATTR(CKA_TOKEN, &yes, sizeof(yes));
    pub[n_pub++] = ATTR(CKA_VERIFY, &yes, sizeof(yes));
    pub[n_pub++] = ATTR(CKA_ENCRYPT, &no, sizeof(no));
    pub[n_pub++] = ATTR(CKA_WRAP, &no, sizeof(no));
    pub[n_pub++] = ATTR(CKA_LABEL, label, strlen(label));
    pub[n_pub++] = ATTR(CKA_ID, id, sizeof(id));
    switch (alg) {
    case HWSIGN_ALG_ECDSA_P256:
        pub[n_pub++] = ATTR(CKA_EC_PARAMS, oid_p256, sizeof(oid_p256));
        break;
    case HWSIGN_ALG_ECDSA_P384:
        pub[n_pub++] = ATTR(CKA_EC_PARAMS, oid_p384, sizeof(oid_p384));
        break;
    case HWSIGN_ALG_RSA_3072:
        mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        pub[n_pub++] = ATTR(CKA_MODULUS_BITS, &bits, sizeof(bits));
        pub[n_pub++] = ATTR(CKA_PUBLIC_EXPONENT, rsa_exponent, sizeof(rsa_exponent));
        break;
    default:
        return p11_token_failf(t, -EOPNOTSUPP, "algorithm %d cannot be generated", (int)alg);
    }
    priv[n_priv++] = ATTR(CKA_TOKEN, &yes, sizeof(yes));
    priv[n_priv++] = ATTR(CKA_PRIVATE, &yes, sizeof(yes));
    priv[n_priv++] = ATTR(CKA_SENSITIVE, &yes, sizeof(yes));
    priv[n_priv++] = ATTR(CKA_EXTRACTABLE, &no, sizeof(no));
    priv[n_priv++] = ATTR(CKA_SIGN, &yes, sizeof(yes));
    priv[n_priv++] = ATTR(CKA_DECRYPT, &no, sizeof(no));
    priv[n_priv++] = ATTR(CKA_UNWRAP, &no, sizeof(no));
    priv[n_priv++] = ATTR(CKA_DERIVE, &no, sizeof(no));
    priv[n_priv++] = ATTR(CKA_LABEL, label, strlen(label));
    priv[n_priv++] = ATTR(CKA_ID, id, sizeof(id));

    r = p11_token_session(t, &h);
    if (r < 0)
        return r;
    rv = t->fl->C_GenerateKeyPair(h, &mech, pub, n_pub, priv, n_priv, &hpub, &hpriv);
    p11_token_session_close(t, h);
    if (rv != CKR_OK)
        return p11_token_fail(t, "C_GenerateKeyPair", rv);
    memcpy(ret_id, id, sizeof(id));
    return 0;
}

enum hwsign_alg p11_sign_pkey_alg(EVP_PKEY *pkey)
{
    char group[64];

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1)
            return HWSIGN_ALG_UNKNOWN;
        if (streq(group, SN_X9_62_prime256v1))
            return HWSIGN_ALG_ECDSA_P256;
        if (streq(group, SN_secp384r1))
            return HWSIGN_ALG_ECDSA_P384;
        return HWSIGN_ALG_UNKNOWN;
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(pkey) == (int)P11_RSA_BITS ? HWSIGN_ALG_RSA_3072
                                                            : HWSIGN_ALG_UNKNOWN;
    default:
        return HWSIGN_ALG_UNKNOWN;
    }
}

#define P11_MAX_EC_PARAMS 32u   /* DER OID of a named curve */
#define P11_MAX_EC_POINT  160u  /* DER OCTET STRING of an uncompressed P-384 point, with room */
#define P11_MAX_MODULUS   1024u /* RSA-8192 */
#define P11_MAX_EXPONENT  16u

/* Reads one attribute into buf; -EOPNOTSUPP if absent or larger than cap. */
static int get_attr(struct p11_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
                    CK_ATTRIBUTE_TYPE type, void *buf, size_t cap, size_t *ret_len)
{
    CK_ATTRIBUTE a = {type, buf, cap};
    CK_RV rv = t->fl->C_GetAttributeValue(h, o, &a, 1);

    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL ||
        rv == CKR_ATTRIBUTE_SENSITIVE)
        return p11_token_failf(t, -EOPNOTSUPP, "key attribute 0x%lx unavailable",
                               (unsigned long)type);
    if (rv != CKR_OK)
        return p11_token_fail(t, "C_GetAttributeValue", rv);
    *ret_len = a.ulValueLen;
    return 0;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pk = NULL;

    if (c && EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    EVP_PKEY_CTX_free(c);
    return pk;
}

static int ec_public(struct p11_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, EVP_PKEY **ret)
{
    uint8_t params[P11_MAX_EC_PARAMS], point[P11_MAX_EC_POINT];
    size_t params_len = 0, point_len = 0;
    const uint8_t *p = point;
    ASN1_OCTET_STRING *os;
    char group[16];
    int r;

    r = get_attr(t, h, o, CKA_EC_PARAMS, params, sizeof(params), &params_len);
    if (r == 0)
        r = get_attr(t, h, o, CKA_EC_POINT, point, sizeof(point), &point_len);
    if (r < 0)
        return r;
    if (params_len == sizeof(oid_p256) && memcmp(params, oid_p256, params_len) == 0)
        snprintf(group, sizeof(group), "%s", SN_X9_62_prime256v1);
    else if (params_len == sizeof(oid_p384) && memcmp(params, oid_p384, params_len) == 0)
        snprintf(group, sizeof(group), "%s", SN_secp384r1);
    else
        return p11_token_failf(t, -EOPNOTSUPP, "EC key on a curve other than P-256/P-384");
    /* CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point. */
    os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)point_len);
    if (!os || p != point + point_len) {
        ASN1_OCTET_STRING_free(os);
        return p11_token_failf(t, -EIO, "malformed CKA_EC_POINT");
    }
    OSSL_PARAM ps[] = {
            OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, os->data, (size_t)os->length),
            OSSL_PARAM_END,
    };
    *ret = from_params("EC", ps);
    ASN1_OCTET_STRING_free(os);
    return *ret ? 0 : p11_token_failf(t, -EIO, "token returned an invalid EC point");
}

static int rsa_public(struct p11_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, EVP_PKEY **ret)
{
    uint8_t n[P11_MAX_MODULUS], e[P11_MAX_EXPONENT];
    size_t n_len = 0, e_len = 0;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *ps = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    int r;

    r = get_attr(t, h, o, CKA_MODULUS, n, sizeof(n), &n_len);
    if (r == 0)
        r = get_attr(t, h, o, CKA_PUBLIC_EXPONENT, e, sizeof(e), &e_len);
    if (r < 0)
        return r;
    bn = BN_bin2bn(n, (int)n_len, NULL);
    be = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        ps = OSSL_PARAM_BLD_to_param(bld);
    *ret = ps ? from_params("RSA", ps) : NULL;
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return *ret ? 0 : p11_token_failf(t, -EIO, "token returned an invalid RSA public key");
}

/*
 * The public key of the pair with CKA_ID id, read from the module directly: the public key
 * object if there is one, else the private key's public attributes. (libp11 0.4.12 never
 * frees the objects behind the public EVP keys it builds, and those keep its slot alive,
 * including libp11's copy of the PIN.)
 */
static int public_half(struct p11_token *t, const uint8_t *id, size_t id_len, EVP_PKEY **ret)
{
    CK_KEY_TYPE kt = CKK_VENDOR_DEFINED;
    CK_OBJECT_HANDLE o;
    CK_SESSION_HANDLE h;
    size_t len = 0;
    int r;

    r = p11_token_session(t, &h);
    if (r < 0)
        return r;
    r = p11_token_find_object(t, h, CKO_PUBLIC_KEY, id, id_len, &o);
    if (r == -ENOKEY)
        r = p11_token_find_object(t, h, CKO_PRIVATE_KEY, id, id_len, &o);
    if (r == -ENOKEY)
        r = p11_token_failf(t, -ENOKEY, "key vanished");
    if (r == 0)
        r = get_attr(t, h, o, CKA_KEY_TYPE, &kt, sizeof(kt), &len);
    if (r == 0 && kt == CKK_EC)
        r = ec_public(t, h, o, ret);
    else if (r == 0 && kt == CKK_RSA)
        r = rsa_public(t, h, o, ret);
    else if (r == 0)
        r = p11_token_failf(t, -EOPNOTSUPP, "key type 0x%lx is not EC or RSA", (unsigned long)kt);
    p11_token_session_close(t, h);
    return r;
}

int p11_sign_key_info(struct p11_token *t, const uint8_t *id, size_t id_len,
                      enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len)
{
    EVP_PKEY *pub = NULL;
    enum hwsign_alg alg;
    uint8_t *spki = NULL;
    int len, r;

    r = public_half(t, id, id_len, &pub);
    if (r < 0)
        return r;
    alg = p11_sign_pkey_alg(pub);
    if (alg == HWSIGN_ALG_UNKNOWN) {
        EVP_PKEY_free(pub);
        return p11_token_failf(t, -EOPNOTSUPP, "key is not ECDSA P-256, ECDSA P-384 or RSA-3072");
    }
    len = i2d_PUBKEY(pub, &spki);
    EVP_PKEY_free(pub);
    if (len <= 0)
        return p11_token_failf(t, -ENOMEM, "i2d_PUBKEY failed");
    if ((size_t)len > HWSIGN_MAX_SPKI) {
        OPENSSL_free(spki);
        return p11_token_failf(t, -EMSGSIZE, "public key larger than %u bytes", HWSIGN_MAX_SPKI);
    }
    /* Hand out malloc memory, not OPENSSL_malloc memory: callers free() it. */
    uint8_t *copy = malloc((size_t)len);
    if (!copy) {
        OPENSSL_free(spki);
        return p11_token_failf(t, -ENOMEM, "out of memory");
    }
    memcpy(copy, spki, (size_t)len);
    OPENSSL_free(spki);
    *ret_alg = alg;
    *ret_spki = copy;
    *ret_spki_len = (size_t)len;
    return 0;
}

static const EVP_MD *hash_md(enum hwsign_hash hash)
{
    switch (hash) {
    case HWSIGN_HASH_SHA256:
        return EVP_sha256();
    case HWSIGN_HASH_SHA384:
        return EVP_sha384();
    case HWSIGN_HASH_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* EVP_PKEY_CTX set up for hash/scheme on pkey; NULL with *err set on failure. */
static EVP_PKEY_CTX *sign_ctx(struct p11_token *t, EVP_PKEY *pkey, const EVP_MD *md,
                              enum hwsign_scheme scheme, int *err)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
    int base = EVP_PKEY_get_base_id(pkey);
    bool ok;

    if (!c) {
        *err = p11_token_failf(t, -ENOMEM, "EVP_PKEY_CTX_new failed");
        return NULL;
    }
    if (base == EVP_PKEY_EC && scheme != HWSIGN_SCHEME_DEFAULT) {
        *err = p11_token_failf(t, -EOPNOTSUPP, "scheme %d is not available for EC keys", scheme);
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    if (base != EVP_PKEY_EC && base != EVP_PKEY_RSA) {
        *err = p11_token_failf(t, -EOPNOTSUPP, "unsupported key type %d", base);
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    ok = EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_CTX_set_signature_md(c, md) == 1;
    if (ok && base == EVP_PKEY_RSA && scheme == HWSIGN_SCHEME_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) == 1;
    else if (ok && base == EVP_PKEY_RSA && scheme == HWSIGN_SCHEME_DEFAULT)
        ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1;
    else if (ok && base == EVP_PKEY_RSA)
        ok = false;
    if (!ok) {
        *err = p11_token_failf(t, -EOPNOTSUPP, "cannot set up %s signing with scheme %d",
                               base == EVP_PKEY_EC ? "ECDSA" : "RSA", scheme);
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    return c;
}

int p11_sign_digest(struct p11_token *t, EVP_PKEY *pkey, enum hwsign_hash hash,
                    enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                    uint8_t *sig, size_t *sig_len)
{
    const EVP_MD *md = hash_md(hash);
    uint8_t buf[HWSIGN_MAX_SIG];
    size_t len = sizeof(buf);
    EVP_PKEY_CTX *c;
    int r = 0;

    if (!md)
        return p11_token_failf(t, -EINVAL, "unknown hash %d", (int)hash);
    if (!digest || digest_len != (size_t)EVP_MD_get_size(md))
        return p11_token_failf(t, -EINVAL, "digest is %zu bytes, %s needs %d", digest_len,
                               EVP_MD_get0_name(md), EVP_MD_get_size(md));
    c = sign_ctx(t, pkey, md, scheme, &r);
    if (!c)
        return r;
    ERR_clear_error();
    if (EVP_PKEY_sign(c, buf, &len, digest, digest_len) != 1) {
        CK_RV rv = p11_rv_take();
        EVP_PKEY_CTX_free(c);
        if (rv == P11_RV_NONE)
            return p11_token_failf(t, -EIO, "EVP_PKEY_sign failed without a CK_RV");
        return p11_token_fail(t, "C_Sign", rv);
    }
    EVP_PKEY_CTX_free(c);
    if (len > *sig_len)
        return p11_token_failf(t, -EMSGSIZE, "signature of %zu bytes does not fit %zu", len,
                               *sig_len);
    memcpy(sig, buf, len);
    *sig_len = len;
    return 0;
}
