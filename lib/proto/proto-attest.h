/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire codec of the attestation requests (docs/protocol.md):
 *
 *   SIGN_PROVENANCE  key:string claims:string (JSON, 1..HWSIGN_MAX_CLAIMS, no NUL)
 *                    -> reply as SIGN_STATEMENT: envelope:string log_index:u64 entry:string
 *   TPM_QUOTE        nonce:string(32) selection:string (0..HWSIGN_MAX_PCR_SELECTION; "" default)
 *                    -> evidence
 *   KEY_CERTIFY      key:string nonce:string(32) -> evidence
 *   evidence         attest:string sig:string sig_der:string pcrs:string selection:string
 *                    key_public:string ak_spki:string   (each binary one at most
 *                    HWSIGN_MAX_TPM_BLOB; attest, sig, sig_der, ak_spki non-empty; a quote has
 *                    pcrs and selection and no key_public, a certification the reverse)
 *
 * Same conventions as proto.h: 0 or -errno, outputs only on success.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/hwsign.h>
#include <hwsign/protocol.h>

#include "sbuf.h"

struct proto_provenance_req {
    char key[HWSIGN_MAX_NAME + 1];
    const uint8_t *claims; /* borrowed from the body */
    size_t claims_len;
};
int proto_put_sign_provenance_req(struct sbuf *out, uint32_t id, const char *key,
                                  const char *claims, size_t len);
int proto_get_sign_provenance_req(struct sbuf *body, struct proto_provenance_req *ret);

struct proto_quote_req {
    uint8_t nonce[HWSIGN_NONCE_LEN];
    char selection[HWSIGN_MAX_PCR_SELECTION + 1]; /* "" = the default */
};
int proto_put_tpm_quote_req(struct sbuf *out, uint32_t id, const uint8_t nonce[HWSIGN_NONCE_LEN],
                            const char *selection);
int proto_get_tpm_quote_req(struct sbuf *body, struct proto_quote_req *ret);

struct proto_certify_req {
    char key[HWSIGN_MAX_NAME + 1];
    uint8_t nonce[HWSIGN_NONCE_LEN];
};
int proto_put_key_certify_req(struct sbuf *out, uint32_t id, const char *key,
                              const uint8_t nonce[HWSIGN_NONCE_LEN]);
int proto_get_key_certify_req(struct sbuf *body, struct proto_certify_req *ret);

/* The evidence reply of TPM_QUOTE or KEY_CERTIFY (req_type). */
int proto_put_tpm_evidence(struct sbuf *out, uint8_t req_type, uint32_t id,
                           const struct hwsign_tpm_evidence *e);
int proto_get_tpm_evidence(struct sbuf *body, uint8_t req_type, struct hwsign_tpm_evidence **ret);
