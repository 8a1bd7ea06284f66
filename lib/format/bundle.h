/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sigstore bundle v0.3 JSON for key-based signing (no Fulcio certificate, no transparency log):
 *
 *   {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
 *    "verificationMaterial": {"publicKey": {"hint": H}, "tlogEntries": []},
 *    "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64},
 *                         "signature": b64 DER}}          -- or --
 *    "dsseEnvelope": {DSSE envelope with exactly one signature, keyid = H}}
 *
 * Hint convention: H = lower-case hex SHA-256 of the DER SubjectPublicKeyInfo (64 characters),
 * the same string as the agent's key fingerprint (spki_fingerprint), the CLI's key id and the
 * TOOLCHAIN/make_bundle.py examples. The hint is unauthenticated and opaque to every verifier
 * we target (sigstore-js passes it to the key selector, cosign --key ignores it); cosign and
 * sigstore-go write base64 of the same digest instead, and model_signing hashes the PEM text.
 * Decoding therefore accepts any hint of at most BUNDLE_MAX_HINT bytes (or none) and
 * bundle_verify never looks at it: the caller chooses the key, possibly using the hint.
 *
 * Decoding (strict, protobuf-JSON rules): mediaType is the v0.3 string or one of the legacy
 * "application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3" that verifiers must accept;
 * unknown members are refused in bundle messages (as protojson does), ignored inside the DSSE
 * envelope (DSSE rules); bytes fields take either base64 alphabet, padded or not;
 * verificationMaterial must hold "publicKey" (certificate material is -EOPNOTSUPP); tlogEntries
 * (up to BUNDLE_MAX_TLOG_ENTRIES objects) are kept for the caller (bundle_get_tlog_entry; the
 * signing log's entries are checked with lib/format/logentry.h) and timestampVerificationData
 * is accepted but not inspected: key-based verification does not use them. messageDigest must be
 * SHA2_256 with 32 bytes (other algorithms -EOPNOTSUPP); the DSSE envelope needs exactly one
 * signature and a non-empty payload, as sigstore-js requires.
 *
 * Errors: -EINVAL malformed, -EMSGSIZE over a limit, -EOPNOTSUPP valid but unsupported,
 * -ENOMEM. Outputs are written only on success.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct json_object;

#include "dsse.h"
#include "format-limits.h"
#include "intoto.h"

#define BUNDLE_MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"

enum bundle_kind {
    BUNDLE_MESSAGE_SIGNATURE = 1,
    BUNDLE_DSSE_ENVELOPE = 2,
};

struct bundle;

/* The hint for a DER SPKI (see above): new NUL-terminated string. -EINVAL for an empty or
 * over-HWSIGN_MAX_SPKI input (the bytes are hashed as given, not parsed). */
int bundle_hint_from_spki(const uint8_t *spki, size_t spki_len, char **ret_hint);

/*
 * messageSignature bundle: digest is SHA-256(artifact), sig the DER signature over the artifact
 * (i.e. over that digest), 1..DSSE_MAX_SIG bytes. hint: 1..BUNDLE_MAX_HINT bytes. *ret is the
 * serialised JSON (NUL-terminated; *ret_len without the NUL).
 */
int bundle_encode_message_signature(const char *hint, const uint8_t digest[static 32],
                                    const uint8_t *sig, size_t sig_len, char **ret,
                                    size_t *ret_len);
/*
 * dsseEnvelope bundle: sig is the DER signature over SHA-256(PAE(payload_type, payload)); the
 * envelope's keyid is the hint. payload: 1..DSSE_MAX_PAYLOAD bytes.
 */
int bundle_encode_dsse(const char *hint, const char *payload_type, const uint8_t *payload,
                       size_t payload_len, const uint8_t *sig, size_t sig_len, char **ret,
                       size_t *ret_len);

/* Strict decode of at most BUNDLE_MAX_JSON bytes. */
int bundle_decode(const char *json, size_t len, struct bundle **ret);
struct bundle *bundle_free(struct bundle *b); /* NULL-safe, returns NULL */
void bundle_freep(struct bundle **b);

enum bundle_kind bundle_get_kind(const struct bundle *b);
const char *bundle_get_media_type(const struct bundle *b);
const char *bundle_get_hint(const struct bundle *b); /* "" when absent */
/* messageSignature only (NULL for DSSE): the 32-byte messageDigest, and the signature. */
const uint8_t *bundle_get_message_digest(const struct bundle *b);
const uint8_t *bundle_get_signature(const struct bundle *b, size_t *ret_len);
/* dsseEnvelope only (NULL otherwise). */
const struct dsse_envelope *bundle_get_envelope(const struct bundle *b);

/* tlogEntries: how many, and entry i (borrowed from b; NULL when i is out of range). */
size_t bundle_n_tlog_entries(const struct bundle *b);
const struct json_object *bundle_get_tlog_entry(const struct bundle *b, size_t i);

/*
 * Append entry (a TransparencyLogEntry object, e.g. from logentry_tlog_build; the caller keeps
 * its reference) to verificationMaterial.tlogEntries of the bundle JSON text json, which must
 * decode. Member order is kept. -EMSGSIZE over BUNDLE_MAX_TLOG_ENTRIES.
 */
int bundle_add_tlog_entry(const char *json, size_t len, struct json_object *entry, char **ret,
                          size_t *ret_len);

/*
 * Verify b with pkey. artifact_sha256 may be NULL.
 *
 * messageSignature: with artifact_sha256, messageDigest must equal it (-ENOENT otherwise) and
 * the signature must verify over it; without, the signature is checked over messageDigest,
 * which proves only that the key signed the digest the bundle names.
 * dsseEnvelope: the signature must verify over SHA-256(PAE); only then is the payload parsed,
 * and it must be an in-toto Statement v1 with payloadType INTOTO_PAYLOAD_TYPE (-EINVAL
 * otherwise). With artifact_sha256 some subject must carry that sha256 (-ENOENT otherwise).
 * On success *ret_statement (may be NULL; always NULL for messageSignature) gets the parsed
 * statement for the caller's own subject and predicate checks.
 *
 * Returns 0 verified; -EBADMSG the signature does not verify with pkey (also a wrong key);
 * -ENOENT the bundle is validly signed but not for this artifact; -EINVAL a malformed signed
 * payload or NULL arguments; -EOPNOTSUPP for unsupported key types.
 */
int bundle_verify(const struct bundle *b, EVP_PKEY *pkey, const uint8_t *artifact_sha256,
                  struct intoto_statement **ret_statement);

/*
 * Flags of bundle_verify_ex.
 *
 * BUNDLE_VERIFY_DSSE_CURVE_HASH: for a dsseEnvelope and an ECDSA key on P-384 (P-521), a
 * signature over SHA-384(PAE) (SHA-512(PAE)) verifies too, besides the SHA-256(PAE) one
 * bundle_verify accepts. That is how OpenSSF model_signing signs with such keys (it picks the
 * hash by curve size, FORMATS 6.4), while sigstore-js and our agent always use SHA-256 (FORMATS
 * 4.6). Both digests are tried: the signature binds the same PAE either way, only the hash
 * differs, and SHA-256/384/512 are all collision resistant. No effect on P-256 or RSA keys, or
 * on messageSignature bundles.
 */
#define BUNDLE_VERIFY_DSSE_CURVE_HASH (1u << 0)

/* bundle_verify with flags (0 is exactly bundle_verify); unknown flags are -EINVAL. */
int bundle_verify_ex(const struct bundle *b, EVP_PKEY *pkey, const uint8_t *artifact_sha256,
                     unsigned flags, struct intoto_statement **ret_statement);
