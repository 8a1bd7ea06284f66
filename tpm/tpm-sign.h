/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM2_Sign over a precomputed digest, result as the agent's signature format (internal).
 *
 * ECDSA keys: ECDSA with the digest's hash, result DER Ecdsa-Sig-Value. RSA keys:
 * RSASSA-PKCS1-v1_5 (HWSIGN_SCHEME_DEFAULT) or RSASSA-PSS (HWSIGN_SCHEME_RSA_PSS), result the
 * raw signature (modulus-sized). The key must have been created with a NULL (or matching)
 * scheme; the unrestricted key needs no hashcheck ticket (a NULL ticket is sent).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>
#include <tss2/tss2_esys.h>

#include "tpm-context.h"

/*
 * Signs digest (digest_len must equal the hash's length: -EINVAL) with the loaded key of
 * algorithm alg. sig has room for *sig_len bytes (-EMSGSIZE if too small); on success the
 * signature is copied there and *sig_len set. Nothing is written on failure. RSA-PSS with an
 * ECDSA key is -EINVAL.
 */
int tpm_sign_digest(struct tpm_context *c, ESYS_TR key, enum hwsign_alg alg, enum hwsign_hash hash,
                    enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                    uint8_t *sig, size_t *sig_len);
