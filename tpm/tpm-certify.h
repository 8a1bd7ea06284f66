/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM2_Certify of a loaded signing key by the attestation key (internal to tpm/; the agent
 * uses tpm_backend_certify() and the struct tpm_certify accessors declared in tpm.h).
 *
 * The TPM signs, with the AK (tpm-quote.h), a TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY that
 * names the object (attested.certify.name = nameAlg || H(marshalled TPMT_PUBLIC)) and carries
 * the caller's 32-byte nonce as extraData. Because the AK is restricted, it signs data that
 * starts with TPM_GENERATED_VALUE only for the TPM itself, so a verifier who trusts the AK
 * learns that an object with exactly that public area is loaded in that TPM; its attributes
 * (fixedTPM, sensitiveDataOrigin) then say the private key was made there and cannot leave.
 *
 * Authorization: TPM2_Certify needs the object's ADMIN role and the AK's USER role. Both use a
 * password session with the empty auth every hwsign key has: ADMIN role accepts the auth value
 * only while adminWithPolicy is clear, which tpm_certify_check_object() insists on, along with
 * noDA, so an empty-auth attempt can never count against the dictionary-attack counter.
 *
 * Before anything is returned the answer is checked (STYLE 17): magic TPM_GENERATED_VALUE, type
 * TPM_ST_ATTEST_CERTIFY, extraData == nonce, certified Name == the Name computed here from the
 * object's public area, and an ECDSA / SHA-256 signature that verifies with OpenSSL against the
 * AK's SubjectPublicKeyInfo. (qualifiedSigner is the AK's Qualified Name, which involves the
 * SRK's Name; the signature is what identifies the AK.) lib/format/tpm-attest.h verifies the
 * same outputs offline.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "tpm-context.h"
#include "tpm.h"

/*
 * 0 if the TPM accepts an empty password for pub's ADMIN role without any dictionary-attack
 * risk (adminWithPolicy clear, noDA set); -EOPNOTSUPP otherwise.
 */
int tpm_certify_check_object(const TPMT_PUBLIC *pub);

/*
 * The Name of a public area: nameAlg (big-endian) || H_nameAlg(marshalled TPMT_PUBLIC), with
 * nameAlg SHA-256, SHA-384 or SHA-512 (-EOPNOTSUPP otherwise); -EINVAL if pub does not marshal.
 * *ret only on success.
 */
int tpm_certify_object_name(const TPMT_PUBLIC *pub, TPM2B_NAME *ret);

/*
 * Certifies the loaded object obj (public area objpub) with the loaded AK ak (public area akpub,
 * checked with tpm_quote_check_ak()), qualifyingData = nonce, inScheme = the AK's ECDSA /
 * SHA-256. Checks the answer as described above. -EINVAL for a missing argument, -EOPNOTSUPP
 * if akpub is not an AK or objpub fails tpm_certify_check_object(), -EIO if the TPM's answer
 * does not check out, TPM codes mapped by tpm-rc.h; the reason is in c->err. *ret only on
 * success.
 */
int tpm_certify_make(struct tpm_context *c, ESYS_TR ak, const TPMT_PUBLIC *akpub, ESYS_TR obj,
                     const TPMT_PUBLIC *objpub, const uint8_t nonce[static TPM_QUOTE_NONCE_LEN],
                     struct tpm_certify **ret);
