/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "tpm-cleanup.h"
#include "tpm-sign.h"

#define ECC_MAX_COORD 48u /* P-384 */

static TPMI_ALG_HASH tpm_hash(enum hwsign_hash h)
{
    switch (h) {
    case HWSIGN_HASH_SHA256:
        return TPM2_ALG_SHA256;
    case HWSIGN_HASH_SHA384:
        return TPM2_ALG_SHA384;
    case HWSIGN_HASH_SHA512:
        return TPM2_ALG_SHA512;
    }
    return TPM2_ALG_NULL;
}

/* r and s right-aligned in coord-byte halves, as ecdsa_raw_to_der expects. */
static int ecdsa_to_der(struct tpm_context *c, const TPMS_SIGNATURE_ECDSA *e, size_t coord,
                        uint8_t **ret, size_t *ret_len)
{
    uint8_t raw[2 * ECC_MAX_COORD] = {};
    int r;

    if (e->signatureR.size == 0 || e->signatureR.size > coord || e->signatureS.size == 0 ||
        e->signatureS.size > coord)
        return tpm_context_failf(c, -EIO, "TPM returned a malformed ECDSA signature");
    memcpy(raw + coord - e->signatureR.size, e->signatureR.buffer, e->signatureR.size);
    memcpy(raw + 2 * coord - e->signatureS.size, e->signatureS.buffer, e->signatureS.size);
    r = ecdsa_raw_to_der(raw, 2 * coord, ret, ret_len);
    if (r < 0)
        return tpm_context_failf(c, r == -ENOMEM ? r : -EIO,
                                 "cannot encode the TPM's ECDSA signature");
    return 0;
}

int tpm_sign_digest(struct tpm_context *c, ESYS_TR key, enum hwsign_alg alg, enum hwsign_hash hash,
                    enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                    uint8_t *sig, size_t *sig_len)
{
    static const TPMT_TK_HASHCHECK no_ticket = {.tag = TPM2_ST_HASHCHECK,
                                                .hierarchy = TPM2_RH_NULL};
    _cleanup_(Esys_Freep) TPMT_SIGNATURE *ts = NULL;
    _cleanup_free_ uint8_t *der = NULL;
    TPMI_ALG_HASH halg = tpm_hash(hash);
    TPMT_SIG_SCHEME sch = {};
    TPM2B_DIGEST d = {};
    const uint8_t *out;
    size_t out_len;
    bool ecc = alg == HWSIGN_ALG_ECDSA_P256 || alg == HWSIGN_ALG_ECDSA_P384;
    int r;

    if (!digest || !sig || !sig_len)
        return tpm_context_failf(c, -EINVAL, "missing argument");
    if (halg == TPM2_ALG_NULL || digest_len != hash_len(hash) || digest_len > sizeof(d.buffer))
        return tpm_context_failf(c, -EINVAL, "digest length does not match the hash");
    if (ecc && scheme != HWSIGN_SCHEME_DEFAULT)
        return tpm_context_failf(c, -EINVAL, "RSA-PSS requested for an ECDSA key");
    if (!ecc && alg != HWSIGN_ALG_RSA_3072)
        return tpm_context_failf(c, -EOPNOTSUPP, "algorithm %d is not supported", (int)alg);
    if (scheme != HWSIGN_SCHEME_DEFAULT && scheme != HWSIGN_SCHEME_RSA_PSS)
        return tpm_context_failf(c, -EINVAL, "unknown signature scheme %d", (int)scheme);

    if (ecc) {
        sch.scheme = TPM2_ALG_ECDSA;
        sch.details.ecdsa.hashAlg = halg;
    } else if (scheme == HWSIGN_SCHEME_RSA_PSS) {
        sch.scheme = TPM2_ALG_RSAPSS;
        sch.details.rsapss.hashAlg = halg;
    } else {
        sch.scheme = TPM2_ALG_RSASSA;
        sch.details.rsassa.hashAlg = halg;
    }
    d.size = (UINT16)digest_len;
    memcpy(d.buffer, digest, digest_len);

    r = TPM_CALL(c, "Esys_Sign",
                 Esys_Sign(c->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d, &sch,
                           &no_ticket, &ts));
    if (r < 0)
        return r;
    if (!ts || ts->sigAlg != sch.scheme)
        return tpm_context_failf(c, -EIO, "TPM returned a signature of another scheme");
    if (ecc) {
        r = ecdsa_to_der(c, &ts->signature.ecdsa, alg == HWSIGN_ALG_ECDSA_P256 ? 32 : 48, &der,
                         &out_len);
        if (r < 0)
            return r;
        out = der;
    } else {
        /* rsassa and rsapss share the TPMS_SIGNATURE_RSA layout */
        const TPM2B_PUBLIC_KEY_RSA *s = &ts->signature.rsassa.sig;
        if (s->size != 3072 / 8)
            return tpm_context_failf(c, -EIO, "TPM returned an RSA signature of %u bytes",
                                     (unsigned)s->size);
        out = s->buffer;
        out_len = s->size;
    }
    if (out_len > *sig_len)
        return tpm_context_failf(c, -EMSGSIZE, "signature buffer too small (%zu < %zu)", *sig_len,
                                 out_len);
    memcpy(sig, out, out_len);
    *sig_len = out_len;
    return 0;
}
