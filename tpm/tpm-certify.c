/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "crypto.h"
#include "tpm-certify.h"
#include "tpm-cleanup.h"
#include "tpm-quote.h"

struct tpm_certify {
    uint8_t *attest;
    size_t attest_len;
    uint8_t *sig;
    size_t sig_len;
    uint8_t *sig_der;
    size_t sig_der_len;
    uint8_t *name;
    size_t name_len;
    uint8_t *public;
    size_t public_len;
};

struct tpm_certify *tpm_certify_free(struct tpm_certify *cert)
{
    if (!cert)
        return NULL;
    free(cert->attest);
    free(cert->sig);
    free(cert->sig_der);
    free(cert->name);
    free(cert->public);
    free(cert);
    return NULL;
}

const uint8_t *tpm_certify_attest(const struct tpm_certify *cert, size_t *ret_len)
{
    *ret_len = cert->attest_len;
    return cert->attest;
}

const uint8_t *tpm_certify_signature(const struct tpm_certify *cert, size_t *ret_len)
{
    *ret_len = cert->sig_len;
    return cert->sig;
}

const uint8_t *tpm_certify_signature_der(const struct tpm_certify *cert, size_t *ret_len)
{
    *ret_len = cert->sig_der_len;
    return cert->sig_der;
}

const uint8_t *tpm_certify_name(const struct tpm_certify *cert, size_t *ret_len)
{
    *ret_len = cert->name_len;
    return cert->name;
}

const uint8_t *tpm_certify_public(const struct tpm_certify *cert, size_t *ret_len)
{
    *ret_len = cert->public_len;
    return cert->public;
}

static uint8_t *memdup_nonempty(const void *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);

    if (d && len)
        memcpy(d, p, len);
    return d;
}

int tpm_certify_check_object(const TPMT_PUBLIC *pub)
{
    TPMA_OBJECT a = pub->objectAttributes;

    if ((a & TPMA_OBJECT_ADMINWITHPOLICY) || !(a & TPMA_OBJECT_NODA))
        return -EOPNOTSUPP;
    return 0;
}

int tpm_certify_object_name(const TPMT_PUBLIC *pub, TPM2B_NAME *ret)
{
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    enum hwsign_hash h;
    TPM2B_NAME name = {};
    size_t off = 0, alg_len = 0;

    switch (pub->nameAlg) {
    case TPM2_ALG_SHA256:
        h = HWSIGN_HASH_SHA256;
        break;
    case TPM2_ALG_SHA384:
        h = HWSIGN_HASH_SHA384;
        break;
    case TPM2_ALG_SHA512:
        h = HWSIGN_HASH_SHA512;
        break;
    default:
        return -EOPNOTSUPP;
    }
    if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
        return -EINVAL;
    if (Tss2_MU_UINT16_Marshal(pub->nameAlg, name.name, sizeof(name.name), &alg_len) !=
                TSS2_RC_SUCCESS ||
        hash_buffer(h, buf, off, name.name + alg_len, sizeof(name.name) - alg_len) < 0)
        return -EINVAL;
    name.size = (UINT16)(alg_len + hash_len(h));
    *ret = name;
    return 0;
}

static bool name_equal(const TPM2B_NAME *a, const TPM2B_NAME *b)
{
    return a->size == b->size && a->size <= sizeof(a->name) &&
           memcmp(a->name, b->name, a->size) == 0;
}

/*
 * The attestation is a certification of objname bound to nonce. qualifiedSigner is the AK's
 * Qualified Name, which depends on the SRK's Name; the signature check identifies the AK.
 */
static int attest_check(struct tpm_context *c, const TPM2B_ATTEST *info, const uint8_t *nonce,
                        const TPM2B_NAME *objname)
{
    TPMS_ATTEST a = {};
    size_t off = 0;
    TSS2_RC rc;

    rc = Tss2_MU_TPMS_ATTEST_Unmarshal(info->attestationData, info->size, &off, &a);
    if (rc != TSS2_RC_SUCCESS || off != info->size)
        return tpm_context_failf(c, -EIO, "TPM returned a malformed attestation");
    if (a.magic != TPM2_GENERATED_VALUE || a.type != TPM2_ST_ATTEST_CERTIFY ||
        a.extraData.size != TPM_QUOTE_NONCE_LEN ||
        memcmp(a.extraData.buffer, nonce, TPM_QUOTE_NONCE_LEN) != 0)
        return tpm_context_failf(c, -EIO, "TPM returned a certification of something else");
    if (!name_equal(&a.attested.certify.name, objname))
        return tpm_context_failf(c, -EIO,
                                 "the certified Name is not that of the key's public area");
    return 0;
}

int tpm_certify_make(struct tpm_context *c, ESYS_TR ak, const TPMT_PUBLIC *akpub, ESYS_TR obj,
                     const TPMT_PUBLIC *objpub, const uint8_t nonce[static TPM_QUOTE_NONCE_LEN],
                     struct tpm_certify **ret)
{
    static const TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_ECDSA,
                                           .details.ecdsa.hashAlg = TPM2_ALG_SHA256};
    _cleanup_(tpm_certify_freep) struct tpm_certify *cert = NULL;
    _cleanup_(Esys_Freep) TPM2B_ATTEST *info = NULL;
    _cleanup_(Esys_Freep) TPMT_SIGNATURE *ts = NULL;
    TPM2B_DATA qd = {.size = TPM_QUOTE_NONCE_LEN};
    TPM2B_NAME objname;
    uint8_t pub[sizeof(TPMT_PUBLIC)];
    size_t pub_len = 0;
    int r;

    if (!akpub || !objpub || !nonce || !ret)
        return tpm_context_failf(c, -EINVAL, "missing argument");
    if (tpm_quote_check_ak(akpub) < 0)
        return tpm_context_failf(c, -EOPNOTSUPP, "not an attestation key");
    if (tpm_certify_check_object(objpub) < 0)
        return tpm_context_failf(c, -EOPNOTSUPP,
                                 "the key needs a policy for its admin role or is not noDA");
    if (tpm_certify_object_name(objpub, &objname) < 0 ||
        Tss2_MU_TPMT_PUBLIC_Marshal(objpub, pub, sizeof(pub), &pub_len) != TSS2_RC_SUCCESS)
        return tpm_context_failf(c, -EOPNOTSUPP, "cannot compute the Name of the key");
    memcpy(qd.buffer, nonce, TPM_QUOTE_NONCE_LEN);
    cert = calloc(1, sizeof(*cert));
    if (!cert)
        return tpm_context_failf(c, -ENOMEM, "out of memory");

    /* Session 1: the object's ADMIN role, session 2: the AK's USER role; both empty auth. */
    r = TPM_CALL(c, "Esys_Certify",
                 Esys_Certify(c->esys, obj, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              &qd, &scheme, &info, &ts));
    if (r < 0)
        return r;
    if (!info || !ts)
        return tpm_context_failf(c, -EIO, "TPM returned no certification");
    r = attest_check(c, info, nonce, &objname);
    if (r < 0)
        return r;
    r = tpm_quote_sig_encode(c, akpub, ts, info, "certify", &cert->sig, &cert->sig_len,
                             &cert->sig_der, &cert->sig_der_len);
    if (r < 0)
        return r;
    cert->attest = memdup_nonempty(info->attestationData, info->size);
    cert->name = memdup_nonempty(objname.name, objname.size);
    cert->public = memdup_nonempty(pub, pub_len);
    if (!cert->attest || !cert->name || !cert->public)
        return tpm_context_failf(c, -ENOMEM, "out of memory");
    cert->attest_len = info->size;
    cert->name_len = objname.size;
    cert->public_len = pub_len;
    *ret = TAKE_PTR(cert);
    return 0;
}
