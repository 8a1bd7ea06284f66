/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM quote that travels beside a provenance bundle (hwsign attest --quote), as a JSON file
 * (docs/provenance.md):
 *   {"type": QUOTE_FILE_TYPE, "nonce": hex SHA-256 of the signed statement (the DSSE payload),
 *    "selection": "sha256:0,1,...", "attest": b64 TPMS_ATTEST, "signature": b64 DER ECDSA by
 *    the AK over SHA-256(attest), "pcrs": b64 PCR values as `tpm2_quote -o` writes them,
 *    "ak": PEM of the attestation key}
 * tpm2_checkquote -u AK.pem -m ATTEST -s SIG(TPMT) -f PCRS -g sha256 -q NONCE accepts the parts
 * ("signature_tpmt" carries the TPMT_SIGNATURE form checkquote reads).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/hwsign.h>

#define QUOTE_FILE_SUFFIX ".quote.json"
#define QUOTE_FILE_TYPE   "https://hwsign.dev/tpm-quote/v1"
#define QUOTE_FILE_MAX    (64u * 1024u)

/*
 * Ask the agent for a quote bound to statement (qualifyingData = SHA-256(statement)) over
 * selection (NULL: the agent's default) and write it to path. Returns an exit status.
 */
int quote_file_fetch(struct hwsign_client *client, const uint8_t *statement, size_t len,
                     const char *selection, const char *path);

/* A loaded quote file; buffers owned. */
struct quote_file {
    uint8_t nonce[32];
    char *selection;
    uint8_t *attest, *sig, *sig_tpmt, *pcrs, *ak;
    size_t attest_len, sig_len, sig_tpmt_len, pcrs_len, ak_len; /* ak: PEM text */
};
/* Strict load. -EINVAL malformed, -EMSGSIZE too large, -errno on read errors. */
int quote_file_load(const char *path, struct quote_file **ret);
struct quote_file *quote_file_free(struct quote_file *q);
void quote_file_freep(struct quote_file **q);
