/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation keys and TPM2_Quote (internal to tpm/; the agent uses the tpm_backend_* entry
 * points and the struct tpm_quote accessors declared in tpm.h).
 *
 * AK: a child of the SRK (tpm-key.h) with fixedTPM | fixedParent | sensitiveDataOrigin |
 * userWithAuth | restricted | sign | noDA, empty auth, ECC P-256, scheme ECDSA/SHA-256,
 * nameAlg SHA-256, saved as a TSS2 PRIVATE KEY file like every other key. Because it is
 * restricted, the TPM refuses to sign with it anything that starts with TPM_GENERATED_VALUE
 * unless the TPM produced it, which is what makes a quote trustworthy; an unrestricted key
 * is never accepted as an AK (and tpm_key_check_public() never accepts an AK for signing).
 *
 * Quote: PCR_Read of the selection, then TPM2_Quote with qualifyingData = the caller's 32-byte
 * nonce. The PCR values are checked against the quote's pcrDigest (a PCR extended between the
 * two commands is detected and the pair retried, TPM_QUOTE_ATTEMPTS times), the attestation is
 * checked (magic, type, extraData, selection) and its signature verified with OpenSSL against
 * the AK's public key before anything is returned (STYLE 17).
 *
 * The outputs are what `tpm2_checkquote` (tpm2-tools 5.4) reads, see FORMATS.md §9:
 *   -m  tpm_quote_attest():            marshalled TPMS_ATTEST (TPM2B_ATTEST contents, no size)
 *   -s  tpm_quote_signature():         marshalled TPMT_SIGNATURE (or tpm_quote_signature_der())
 *   -f  tpm_quote_pcrs_serialized():   tpm2-tools' default "serialized" PCR file, as
 *                                      `tpm2_quote -o` writes it; no -l needed
 *   -q  the nonce in hex, -g sha256, -u the AK's SPKI as PEM.
 * tpm_quote_pcr_values() is the portable "values" form (raw values in selection order) for
 * `-f FILE -l tpm_quote_selection()`, but checkquote 5.4 fails on it from 8 PCRs on ("Something
 * wrong, trying to print but nothing more", also with tpm2_quote's own -F values output).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "tpm-context.h"
#include "tpm-keyfile.h"
#include "tpm.h"

#define TPM_QUOTE_SELECTION_MAX 256u /* selection string bytes */
#define TPM_QUOTE_MAX_BANKS     4u   /* sha1, sha256, sha384, sha512, each at most once */
#define TPM_QUOTE_MAX_PCR       23u  /* PCRs 0..23 (the PC client set) */
#define TPM_QUOTE_ATTEMPTS      3u   /* PCR_Read + Quote pairs tried when a PCR moves between */
#define TPM_QUOTE_ECC_COORD     32u  /* bytes of a P-256 coordinate and of r and s */

/* The AK template (exposed for tests). */
extern const TPM2B_PUBLIC tpm_quote_ak_template;

/*
 * Parses "BANK:LIST[+BANK:LIST...]", BANK one of sha1 sha256 sha384 sha512 (each at most once),
 * LIST comma-separated PCR indexes 0..TPM_QUOTE_MAX_PCR or ranges "a-b" (a <= b), no spaces,
 * decimal without leading zeros. NULL or "" gives TPM_QUOTE_DEFAULT_SELECTION. -EINVAL for
 * anything else, -EMSGSIZE over TPM_QUOTE_SELECTION_MAX bytes. *ret written only on success.
 */
int tpm_quote_parse_selection(const char *s, TPML_PCR_SELECTION *ret);

/*
 * The normalised text of sel ("sha256:0,1,2"; banks joined with '+'), as tpm2_checkquote -l
 * takes it. -EINVAL for an unknown bank, -ENOBUFS if buf is too small.
 */
int tpm_quote_format_selection(const TPML_PCR_SELECTION *sel, char *buf, size_t len);

/* 0 if pub is exactly an AK as we create it (see above), -EOPNOTSUPP otherwise. */
int tpm_quote_check_ak(const TPMT_PUBLIC *pub);

/* Creates an AK under srk (not loaded). *ret is written only on success. */
int tpm_quote_create_ak(struct tpm_context *c, ESYS_TR srk, struct tpm_keyfile *ret);

/* DER SubjectPublicKeyInfo of a checked AK public area. */
int tpm_quote_ak_spki(const TPMT_PUBLIC *pub, uint8_t **ret_spki, size_t *ret_len);

/*
 * The AK's signature ts over an attestation it made (TPM2_Quote, TPM2_Certify; what names the
 * command in messages, "quote" or "certify"). Checks that ts is ECDSA / SHA-256 with r and s of
 * 1..TPM_QUOTE_ECC_COORD bytes, encodes it as a marshalled TPMT_SIGNATURE (*ret_sig, what
 * tpm2_checkquote -s reads) and as a DER Ecdsa-Sig-Value (*ret_der), and verifies the DER form
 * with OpenSSL over SHA-256(attest) against akpub's SubjectPublicKeyInfo (STYLE 17). -EIO for
 * an unexpected or non-verifying signature or an unusable AK, -ENOMEM; the reason is in c->err.
 * The outputs (malloc'd, free() them) are written only on success.
 */
int tpm_quote_sig_encode(struct tpm_context *c, const TPMT_PUBLIC *akpub, const TPMT_SIGNATURE *ts,
                         const TPM2B_ATTEST *attest, const char *what, uint8_t **ret_sig,
                         size_t *ret_sig_len, uint8_t **ret_der, size_t *ret_der_len);

/*
 * Reads the PCRs of sel and quotes them with the loaded AK ak (public area akpub) and nonce.
 * -EBUSY if the PCRs kept changing for TPM_QUOTE_ATTEMPTS pairs, -EOPNOTSUPP if the TPM has
 * no such bank / PCR, -EIO if the TPM's answer does not check out. *ret only on success.
 */
int tpm_quote_make(struct tpm_context *c, ESYS_TR ak, const TPMT_PUBLIC *akpub,
                   const TPML_PCR_SELECTION *sel, const uint8_t nonce[static TPM_QUOTE_NONCE_LEN],
                   struct tpm_quote **ret);
