/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
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

int p11_sign_key_info(struct p11_token *t, PKCS11_KEY *key, enum hwsign_alg *ret_alg,
                      uint8_t **ret_spki, size_t *ret_spki_len)
{
    EVP_PKEY *pub;
    enum hwsign_alg alg;
    uint8_t *spki = NULL;
    int len;

    ERR_clear_error();
    pub = PKCS11_get_public_key(key);
    if (!pub) {
        CK_RV rv = p11_rv_take();
        if (rv == P11_RV_NONE)
            return p11_token_failf(t, -EIO, "cannot read the public key of '%s'",
                                   key->label ? key->label : "");
        return p11_token_fail(t, "reading public key", rv);
    }
    alg = p11_sign_pkey_alg(pub);
    if (alg == HWSIGN_ALG_UNKNOWN) {
        EVP_PKEY_free(pub);
        return p11_token_failf(t, -EOPNOTSUPP,
                               "key is not ECDSA P-256, ECDSA P-384 or RSA-3072");
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
