/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM 2.0 key backend (tpm2-tss ESAPI). The one header of tpm/ that agent/ includes.
 *
 * Keys live in TSS2 PRIVATE KEY PEM files (the "TPM 2.0 key file" format also read by
 * tpm2-openssl) under key_dir; a key's locator is its file's absolute path. Keys are children
 * of a storage primary re-created from a fixed template at open() (see tpm-key.h), have an
 * empty auth and noDA, so the backend never holds an auth value and can never move the TPM's
 * dictionary-attack counter. At most TPM_MAX_TRANSIENT (3) objects, SRK included, are loaded
 * at any time (LRU); all are flushed by free().
 *
 * States (enum hwsign_backend_state): UNAVAILABLE until open() succeeds and after a transport
 * failure (TCTI error, TPM restarted, ESYS state broken): the ESYS and TCTI contexts are torn
 * down, the op fails with -ENODEV, and the next open() rebuilds everything (TPM2_Startup,
 * SRK). OK while usable. LOCKED_OUT after TPM_RC_LOCKOUT (-EKEYREVOKED); open() leaves it as
 * soon as the TPM no longer reports lockout.
 *
 * The process must not die of SIGPIPE when a socket TCTI's peer vanishes: the backend blocks
 * SIGPIPE in the calling thread around every TPM exchange and discards one it caused.
 * tpm2-tss itself may print its own warnings to stderr (its logging, not ours).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "key-backend.h"

struct tpm_config {
    const char *name;    /* instance name (config section) */
    const char *tcti;    /* TCTI config string, e.g. "device:/dev/tpmrm0" or
                            "swtpm:path=/x/tpm.sock"; never taken from the environment */
    const char *key_dir; /* absolute directory for key files (created 0700 if missing) */
};

/*
 * Validates the configuration and creates the instance: key_dir is created (0700) if missing,
 * canonicalised, and must be a directory owned by root or the effective uid and not writable
 * by group or others (-EPERM). Does not touch the TPM: open() does, on the worker thread.
 * -EINVAL for a missing or malformed field. On failure a one-line reason goes to err (when
 * non-NULL; never a secret) and *ret is untouched.
 */
int tpm_backend_new(const struct tpm_config *cfg, struct key_backend **ret, char *err,
                    size_t err_len);

/* ---- attestation (tpm-quote.c) ---------------------------------------------------------- */

#define TPM_QUOTE_NONCE_LEN         32u /* qualifyingData: SHA-256 of what the quote binds */
#define TPM_QUOTE_DEFAULT_SELECTION "sha256:0-7"

/* A checked TPM2_Quote result: opaque, owned by the caller, freed with tpm_quote_free(). */
struct tpm_quote;

/*
 * Creates an attestation key (restricted ECDSA P-256 / SHA-256 signing key, noDA, empty auth,
 * child of the SRK; see tpm-quote.h) and writes it as key_dir/NAME.pem (0600, TSS2 PRIVATE
 * KEY). Returns its locator (absolute path) and DER SPKI, both malloc'd. The AK cannot be used
 * with the sign op (-EOPNOTSUPP there), and signing keys cannot be used as AKs. Errors as for
 * the create op: -EINVAL (bad name), -EEXIST, -ENODEV (not open / transport lost), TPM codes
 * mapped by tpm-rc.h; the reason is in last_error(). Call from the backend's worker thread
 * only, like every op. Outputs written only on success.
 */
int tpm_backend_create_ak(struct key_backend *kb, const char *name, char **ret_locator,
                          uint8_t **ret_spki, size_t *ret_spki_len);

/*
 * The DER SPKI of the AK at ak_locator, read from its key file (no TPM command). -ENOENT
 * missing file, -EOPNOTSUPP not an AK as tpm_backend_create_ak makes them.
 */
int tpm_backend_ak_public(struct key_backend *kb, const char *ak_locator, uint8_t **ret_spki,
                          size_t *ret_spki_len);

/*
 * Quotes the PCRs named by pcr_selection (NULL: TPM_QUOTE_DEFAULT_SELECTION; syntax in
 * tpm-quote.h, e.g. "sha256:0,1,2" or "sha256:0-7") with the AK at ak_locator, qualifyingData
 * = nonce. The AK is loaded for the call and flushed afterwards. -EINVAL for a bad selection,
 * -ENOKEY if the AK file is missing or does not load on this TPM, -EOPNOTSUPP if it is not an
 * AK or the TPM lacks the bank, -EBUSY if the PCRs kept changing, -ENODEV, other TPM codes
 * mapped by tpm-rc.h; the reason is in last_error(). Worker thread only. *ret only on success.
 */
int tpm_backend_quote(struct key_backend *kb, const char *ak_locator, const char *pcr_selection,
                      const uint8_t nonce[static TPM_QUOTE_NONCE_LEN], struct tpm_quote **ret);

/*
 * Accessors: the returned buffers belong to q and live as long as it. Formats are those
 * tpm2_checkquote (tpm2-tools 5.4) accepts, e.g. for the default selection
 *   tpm2_checkquote -u AK.pem -m ATTEST -s SIG -f PCRS_SERIALIZED -g sha256 -q NONCE_HEX
 *   attest           marshalled TPMS_ATTEST (-m)
 *   signature        marshalled TPMT_SIGNATURE (-s); signature_der: the same as DER ECDSA
 *   pcrs_serialized  tpm2-tools' default "serialized" PCR file (-f, without -l): host-endian
 *                    TPML_PCR_SELECTION, UINT32 count, TPML_DIGEST lists, as `tpm2_quote -o`
 *                    writes it; only readable on a machine of the same byte order
 *   pcr_values       the selected PCR values concatenated in selection order (portable; -f
 *                    with -l SELECTION, which tpm2_checkquote 5.4 mis-reads from 8 PCRs on:
 *                    use pcrs_serialized with it)
 *   selection        normalised selection text, NUL-terminated ("sha256:0,1,2")
 */
const uint8_t *tpm_quote_attest(const struct tpm_quote *q, size_t *ret_len);
const uint8_t *tpm_quote_signature(const struct tpm_quote *q, size_t *ret_len);
const uint8_t *tpm_quote_signature_der(const struct tpm_quote *q, size_t *ret_len);
const uint8_t *tpm_quote_pcr_values(const struct tpm_quote *q, size_t *ret_len);
const uint8_t *tpm_quote_pcrs_serialized(const struct tpm_quote *q, size_t *ret_len);
const char *tpm_quote_selection(const struct tpm_quote *q);

/* Accepts NULL; returns NULL. */
struct tpm_quote *tpm_quote_free(struct tpm_quote *q);
static inline void tpm_quote_freep(struct tpm_quote **q)
{
    *q = tpm_quote_free(*q);
}

/* ---- key certification (tpm-certify.c) --------------------------------------------------- */

/* A checked TPM2_Certify result: opaque, owned by the caller, freed with tpm_certify_free(). */
struct tpm_certify;

/*
 * Proves that the signing key at key_locator lives in this TPM: TPM2_Certify of the key by the
 * AK at ak_locator (see tpm_backend_create_ak), qualifyingData = nonce; see tpm-certify.h for
 * the checks made before anything is returned. The key enters the signing-key LRU as for a
 * sign; the AK is loaded for the call and flushed afterwards. -ENOKEY if a key file is missing
 * or does not load on this TPM, -EOPNOTSUPP if ak_locator is not an AK or key_locator is not a
 * signing key of ours (an AK cannot be certified this way), -EINVAL for a missing argument,
 * -ENODEV, -EIO if the TPM's answer does not check out, other TPM codes mapped by tpm-rc.h;
 * the reason is in last_error(). Worker thread only. *ret only on success.
 */
int tpm_backend_certify(struct key_backend *kb, const char *ak_locator, const char *key_locator,
                        const uint8_t nonce[static TPM_QUOTE_NONCE_LEN], struct tpm_certify **ret);

/*
 * Accessors: the returned buffers belong to cert and live as long as it. Together with the AK's
 * SPKI they are the proof lib/format/tpm-attest.h verifies offline:
 *   attest         marshalled TPMS_ATTEST (TPM2B_ATTEST contents, no size), TPM_ST_ATTEST_CERTIFY
 *   signature      marshalled TPMT_SIGNATURE (ECDSA / SHA-256 by the AK); signature_der: the same
 *                  as DER ECDSA, `openssl dgst -sha256 -verify ak.pem -signature SIG ATTEST`
 *   name           the certified key's Name: nameAlg (2 bytes) || SHA-256(public)
 *   public         the certified key's marshalled TPMT_PUBLIC (TPM2B_PUBLIC contents, no size),
 *                  from which a verifier recomputes the Name and the key's SPKI
 */
const uint8_t *tpm_certify_attest(const struct tpm_certify *cert, size_t *ret_len);
const uint8_t *tpm_certify_signature(const struct tpm_certify *cert, size_t *ret_len);
const uint8_t *tpm_certify_signature_der(const struct tpm_certify *cert, size_t *ret_len);
const uint8_t *tpm_certify_name(const struct tpm_certify *cert, size_t *ret_len);
const uint8_t *tpm_certify_public(const struct tpm_certify *cert, size_t *ret_len);

/* Accepts NULL; returns NULL. */
struct tpm_certify *tpm_certify_free(struct tpm_certify *cert);
static inline void tpm_certify_freep(struct tpm_certify **cert)
{
    *cert = tpm_certify_free(*cert);
}
