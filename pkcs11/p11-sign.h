/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mechanisms: key-pair generation on the token, algorithm and SPKI of a token key, and
 * signing a digest. Internal to pkcs11/; the caller holds p11_lock(). Failures are recorded
 * in the token (see p11-token.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <libp11.h>
#include <openssl/evp.h>

#include <hwsign/protocol.h>

#include "p11-token.h"

#define P11_KEYGEN_ID_LEN 16u /* random CKA_ID bytes of keys we generate */
#define P11_RSA_BITS      3072u
#define P11_RSA_EXPONENT  65537u

/*
 * Generates a key pair on the token with C_GenerateKeyPair in a session of our own (libp11
 * 0.4.12 has no EC key generation): private half CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
 * !CKA_EXTRACTABLE, CKA_SIGN; public half CKA_TOKEN, CKA_VERIFY; both CKA_LABEL = label and
 * the same fresh random CKA_ID, returned in ret_id. -EOPNOTSUPP for other algorithms.
 */
int p11_sign_generate(struct p11_token *t, const char *label, enum hwsign_alg alg,
                      uint8_t ret_id[static P11_KEYGEN_ID_LEN]);

/* Algorithm of an EVP key: P-256, P-384, RSA-3072 or HWSIGN_ALG_UNKNOWN for anything else. */
enum hwsign_alg p11_sign_pkey_alg(EVP_PKEY *pkey);

/*
 * Algorithm (only ECDSA P-256, P-384 and RSA-3072 are accepted: -EOPNOTSUPP otherwise) and
 * DER SPKI of the key pair with CKA_ID id, read from the public key object (or the private
 * key's public attributes). *ret_spki is a new buffer (free()).
 */
int p11_sign_key_info(struct p11_token *t, const uint8_t *id, size_t id_len,
                      enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len);

/*
 * Signs digest (its length must match hash) with the token key behind pkey: ECDSA (DER
 * output) for EC keys, RSASSA-PKCS1-v1_5 or, with HWSIGN_SCHEME_RSA_PSS, RSASSA-PSS with
 * MGF1(hash) and salt length = digest length for RSA keys. sig has room for *sig_len bytes;
 * -EMSGSIZE if the signature does not fit. Does not verify the result.
 */
int p11_sign_digest(struct p11_token *t, EVP_PKEY *pkey, enum hwsign_hash hash,
                    enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                    uint8_t *sig, size_t *sig_len);
