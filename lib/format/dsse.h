/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DSSE v1.0.2 (Dead Simple Signing Envelope): Pre-Authentication Encoding and the JSON
 * envelope {"payload", "payloadType", "signatures": [{"keyid", "sig"}]}.
 *
 * Emitted: standard base64 with padding, "keyid" whenever the caller gives one (some libraries
 * require it), keys in the order payload, payloadType, signatures.
 * Accepted (envelope.md / protocol.md): standard or URL-safe base64, padded or not (see
 * fjson_base64_decode); absent "keyid" is the same as ""; unknown fields are ignored; at least
 * one and at most DSSE_MAX_SIGNATURES signatures. "payload" and "sig" may be empty strings.
 * The keyid is an unauthenticated hint and must never decide anything.
 *
 * Signatures are checked over SHA-256(PAE) whatever the key: that is what sigstore-js and cosign
 * do for DSSE (FORMATS 4.6); use P-256 keys.
 *
 * Errors: -EINVAL malformed, -EMSGSIZE over a limit of format-limits.h, -ENOMEM; verification
 * -EBADMSG when no signature verifies. Outputs are written only on success.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "format-limits.h"

struct json_object;
struct dsse_envelope;

/* One signature to emit. keyid NULL: no "keyid" member; otherwise emitted as given. */
struct dsse_signature {
    const char *keyid;
    const uint8_t *sig;
    size_t sig_len;
};

/*
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII
 * decimal byte counts. type_len <= DSSE_MAX_PAYLOAD_TYPE and body_len <= DSSE_MAX_PAYLOAD, else
 * -EMSGSIZE. body may be NULL when body_len is 0. *ret is malloc'd.
 */
int dsse_pae(const char *type, size_t type_len, const uint8_t *body, size_t body_len, uint8_t **ret,
             size_t *ret_len);
/* SHA-256 of the PAE: the digest a P-256 key signs (e.g. via the agent's SIGN_DIGEST). */
int dsse_pae_sha256(const char *type, size_t type_len, const uint8_t *body, size_t body_len,
                    uint8_t ret_digest[static 32]);

/*
 * Envelope as a json-c object (new reference), or as serialised text (*ret malloc'd,
 * NUL-terminated). 1..DSSE_MAX_SIGNATURES signatures, each 1..DSSE_MAX_SIG bytes, keyids at
 * most DSSE_MAX_KEYID bytes; payload_type is UTF-8 text (NUL-terminated).
 */
int dsse_envelope_to_json(const char *payload_type, const uint8_t *payload, size_t payload_len,
                          const struct dsse_signature *sigs, size_t n_sigs,
                          struct json_object **ret);
int dsse_envelope_encode(const char *payload_type, const uint8_t *payload, size_t payload_len,
                         const struct dsse_signature *sigs, size_t n_sigs, char **ret,
                         size_t *ret_len);

/*
 * SHA-256 of the text dsse_envelope_encode writes for one signature, without the text: begin
 * hashes `{"payload":"<base64>","payloadType":"<type>","signatures":[{` in pieces (no buffer of
 * the envelope's size), so the costly part can run before the signature exists; end adds the
 * signature (and its keyid, NULL for none) to a copy of that state. ctx is an EVP_MD_CTX the
 * caller allocated. payload_type and keyid must be printable ASCII without '"' or '\\' (text
 * json-c writes unescaped), else -EINVAL; limits as dsse_envelope_encode.
 */
int dsse_envelope_sha256_begin(EVP_MD_CTX *ctx, const char *payload_type, const uint8_t *payload,
                               size_t payload_len);
int dsse_envelope_sha256_end(const EVP_MD_CTX *ctx, const char *keyid, const uint8_t *sig,
                             size_t sig_len, uint8_t ret_digest[static 32]);

/* Strict decode of envelope text (at most DSSE_MAX_ENVELOPE bytes) or of a parsed object. */
int dsse_envelope_decode(const char *json, size_t len, struct dsse_envelope **ret);
int dsse_envelope_from_json(const struct json_object *obj, struct dsse_envelope **ret);
struct dsse_envelope *dsse_envelope_free(struct dsse_envelope *env); /* NULL-safe, returns NULL */
void dsse_envelope_freep(struct dsse_envelope **env);

/* Accessors. Returned pointers are borrowed from env. The payload is the decoded bytes. */
const char *dsse_envelope_payload_type(const struct dsse_envelope *env);
const uint8_t *dsse_envelope_payload(const struct dsse_envelope *env, size_t *ret_len);
size_t dsse_envelope_n_signatures(const struct dsse_envelope *env);
/* Signature i (-ERANGE if out of range): raw bytes, and keyid ("" when absent). */
int dsse_envelope_signature(const struct dsse_envelope *env, size_t i, const uint8_t **ret_sig,
                            size_t *ret_sig_len, const char **ret_keyid);

/*
 * 0 if at least one signature verifies with pkey over SHA-256(PAE(payloadType, payload));
 * -EBADMSG if none does. ret_index (may be NULL) gets the first verifying signature. Other
 * -errno from sig_verify_digest_pkey (e.g. -EOPNOTSUPP for unsupported key types).
 */
int dsse_envelope_verify(const struct dsse_envelope *env, EVP_PKEY *pkey, size_t *ret_index);
