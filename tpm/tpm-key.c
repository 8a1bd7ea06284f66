/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "tpm-cleanup.h"
#include "tpm-key.h"

#define KEY_ATTRS                                                                                  \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_NODA)
#define RSA_BITS      3072u
#define RSA_EXPONENT  65537u
#define ECC_MAX_COORD 48u /* P-384 */

/* Same content as tpm2-openssl's primaryEccTemplate (see tpm-key.h). */
const TPM2B_PUBLIC tpm_srk_template = {
        .publicArea =
                {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
                                            TPMA_OBJECT_DECRYPT | TPMA_OBJECT_NODA |
                                            TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                            TPMA_OBJECT_SENSITIVEDATAORIGIN,
                        .authPolicy.size = 0,
                        .parameters.eccDetail =
                                {
                                        .symmetric = {.algorithm = TPM2_ALG_AES,
                                                      .keyBits.aes = 128,
                                                      .mode.aes = TPM2_ALG_CFB},
                                        .scheme.scheme = TPM2_ALG_NULL,
                                        .curveID = TPM2_ECC_NIST_P256,
                                        .kdf.scheme = TPM2_ALG_NULL,
                                },
                        .unique.ecc = {.x.size = 0, .y.size = 0},
                },
};

int tpm_key_create_srk(struct tpm_context *c, ESYS_TR *ret)
{
    static const TPM2B_SENSITIVE_CREATE sensitive = {};
    static const TPM2B_DATA outside = {};
    static const TPML_PCR_SELECTION pcrs = {};
    ESYS_TR srk = ESYS_TR_NONE;
    uint32_t perm = 0;
    int r;

    r = tpm_context_property(c, TPM2_PT_PERMANENT, &perm);
    if (r < 0)
        return r;
    if (perm & TPMA_PERMANENT_OWNERAUTHSET)
        return tpm_context_failf(c, -EACCES,
                                 "the owner hierarchy has an auth value; hwsign only uses an "
                                 "empty owner auth and sent nothing");
    /* ESYS_TR_RH_OWNER starts with an empty auth in a fresh ESYS context. */
    r = TPM_CALL(c, "Esys_CreatePrimary(SRK)",
                 Esys_CreatePrimary(c->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                    ESYS_TR_NONE, &sensitive, &tpm_srk_template, &outside, &pcrs,
                                    &srk, NULL, NULL, NULL, NULL));
    if (r < 0)
        return r;
    *ret = srk;
    return 0;
}

static int key_template(enum hwsign_alg alg, TPM2B_PUBLIC *t)
{
    *t = (TPM2B_PUBLIC){.publicArea = {.nameAlg = TPM2_ALG_SHA256, .objectAttributes = KEY_ATTRS}};
    switch (alg) {
    case HWSIGN_ALG_ECDSA_P256:
    case HWSIGN_ALG_ECDSA_P384:
        t->publicArea.type = TPM2_ALG_ECC;
        t->publicArea.parameters.eccDetail = (TPMS_ECC_PARMS){
                .symmetric.algorithm = TPM2_ALG_NULL,
                .scheme.scheme = TPM2_ALG_NULL,
                .curveID = alg == HWSIGN_ALG_ECDSA_P256 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384,
                .kdf.scheme = TPM2_ALG_NULL,
        };
        return 0;
    case HWSIGN_ALG_RSA_3072:
        t->publicArea.type = TPM2_ALG_RSA;
        t->publicArea.parameters.rsaDetail = (TPMS_RSA_PARMS){
                .symmetric.algorithm = TPM2_ALG_NULL,
                .scheme.scheme = TPM2_ALG_NULL,
                .keyBits = RSA_BITS,
                .exponent = 0, /* 65537 */
        };
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

int tpm_key_create(struct tpm_context *c, ESYS_TR srk, enum hwsign_alg alg, struct tpm_keyfile *ret)
{
    static const TPM2B_SENSITIVE_CREATE sensitive = {}; /* empty auth, TPM-generated key */
    static const TPM2B_DATA outside = {};
    static const TPML_PCR_SELECTION pcrs = {};
    _cleanup_(Esys_Freep) TPM2B_PRIVATE *priv = NULL;
    _cleanup_(Esys_Freep) TPM2B_PUBLIC *pub = NULL;
    enum hwsign_alg got = HWSIGN_ALG_UNKNOWN;
    TPM2B_PUBLIC tmpl;
    int r;

    if (key_template(alg, &tmpl) < 0)
        return tpm_context_failf(c, -EOPNOTSUPP, "algorithm %d is not supported", (int)alg);
    r = TPM_CALL(c, "Esys_Create",
                 Esys_Create(c->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                             &tmpl, &outside, &pcrs, &priv, &pub, NULL, NULL, NULL));
    if (r < 0)
        return r;
    if (!priv || !pub || tpm_key_check_public(&pub->publicArea, &got) < 0 || got != alg)
        return tpm_context_failf(c, -EIO, "TPM returned an unexpected key");
    ret->pub = *pub;
    ret->priv = *priv;
    return 0;
}

int tpm_key_load(struct tpm_context *c, ESYS_TR srk, const struct tpm_keyfile *kf, ESYS_TR *ret)
{
    ESYS_TR h = ESYS_TR_NONE;
    int r;

    r = TPM_CALL(c, "Esys_Load",
                 Esys_Load(c->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &kf->priv,
                           &kf->pub, &h));
    if (r < 0)
        return r;
    *ret = h;
    return 0;
}

static bool ecc_scheme_ok(const TPMT_ECC_SCHEME *s)
{
    return s->scheme == TPM2_ALG_NULL || s->scheme == TPM2_ALG_ECDSA;
}

static bool rsa_scheme_ok(const TPMT_RSA_SCHEME *s)
{
    return s->scheme == TPM2_ALG_NULL || s->scheme == TPM2_ALG_RSASSA ||
           s->scheme == TPM2_ALG_RSAPSS;
}

int tpm_key_check_public(const TPMT_PUBLIC *pub, enum hwsign_alg *ret_alg)
{
    const TPMA_OBJECT need = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
    TPMA_OBJECT a = pub->objectAttributes;

    if ((a & need) != need || (a & TPMA_OBJECT_RESTRICTED))
        return -EOPNOTSUPP;
    if (pub->type == TPM2_ALG_ECC) {
        const TPMS_ECC_PARMS *e = &pub->parameters.eccDetail;
        size_t coord = e->curveID == TPM2_ECC_NIST_P256 ? 32 : 48;

        if ((e->curveID != TPM2_ECC_NIST_P256 && e->curveID != TPM2_ECC_NIST_P384) ||
            !ecc_scheme_ok(&e->scheme) || e->kdf.scheme != TPM2_ALG_NULL ||
            pub->unique.ecc.x.size == 0 || pub->unique.ecc.x.size > coord ||
            pub->unique.ecc.y.size == 0 || pub->unique.ecc.y.size > coord)
            return -EOPNOTSUPP;
        *ret_alg = e->curveID == TPM2_ECC_NIST_P256 ? HWSIGN_ALG_ECDSA_P256 : HWSIGN_ALG_ECDSA_P384;
        return 0;
    }
    if (pub->type == TPM2_ALG_RSA) {
        const TPMS_RSA_PARMS *p = &pub->parameters.rsaDetail;

        if (p->keyBits != RSA_BITS || (p->exponent != 0 && p->exponent != RSA_EXPONENT) ||
            !rsa_scheme_ok(&p->scheme) || pub->unique.rsa.size != RSA_BITS / 8 ||
            !(pub->unique.rsa.buffer[0] & 0x80))
            return -EOPNOTSUPP;
        *ret_alg = HWSIGN_ALG_RSA_3072;
        return 0;
    }
    return -EOPNOTSUPP;
}

static int pkey_to_spki(OSSL_PARAM_BLD *bld, const char *type, uint8_t **ret, size_t *ret_len)
{
    _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pc = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_free_ uint8_t *der = NULL;
    unsigned char *p;
    int n;

    params = OSSL_PARAM_BLD_to_param(bld);
    pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!params || !pc)
        return -ENOMEM;
    if (EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        return -EINVAL; /* e.g. an ECC point not on the curve */
    n = i2d_PUBKEY(pkey, NULL);
    if (n <= 0 || (size_t)n > HWSIGN_MAX_SPKI)
        return -EINVAL;
    der = malloc((size_t)n);
    if (!der)
        return -ENOMEM;
    p = der;
    if (i2d_PUBKEY(pkey, &p) != n)
        return -ENOTRECOVERABLE;
    *ret_len = (size_t)n;
    *ret = TAKE_PTR(der);
    return 0;
}

int tpm_key_spki(const TPMT_PUBLIC *pub, uint8_t **ret_spki, size_t *ret_len)
{
    _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
    _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;
    enum hwsign_alg alg;

    if (tpm_key_check_public(pub, &alg) < 0)
        return -EOPNOTSUPP;
    bld = OSSL_PARAM_BLD_new();
    if (!bld)
        return -ENOMEM;
    if (pub->type == TPM2_ALG_ECC) {
        const TPMS_ECC_POINT *pt = &pub->unique.ecc;
        size_t coord = alg == HWSIGN_ALG_ECDSA_P256 ? 32 : 48;
        uint8_t oct[1 + 2 * ECC_MAX_COORD] = {0x04};

        /* Coordinates are big-endian and may come without leading zero bytes: right-align. */
        memcpy(oct + 1 + coord - pt->x.size, pt->x.buffer, pt->x.size);
        memcpy(oct + 1 + 2 * coord - pt->y.size, pt->y.buffer, pt->y.size);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                             alg == HWSIGN_ALG_ECDSA_P256 ? "P-256" : "P-384", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, oct, 1 + 2 * coord))
            return -ENOMEM;
        return pkey_to_spki(bld, "EC", ret_spki, ret_len);
    }
    n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL);
    e = BN_new();
    if (!n || !e || !BN_set_word(e, pub->parameters.rsaDetail.exponent ?: RSA_EXPONENT))
        return -ENOMEM;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        return -ENOMEM;
    return pkey_to_spki(bld, "RSA", ret_spki, ret_len);
}
