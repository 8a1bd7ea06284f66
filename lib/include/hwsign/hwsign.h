/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libhwsign: the client library of hwsign-agent.
 *
 * A client connects to the agent's Unix socket and issues typed calls; each call sends one
 * request and waits for its reply. A client object is not thread-safe: use one per thread.
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure:
 *   -ECONNREFUSED / -ENOENT  no agent listening at the socket path
 *   -EACCES     the agent refused this peer or request (policy)
 *   -ENOKEY     no such key            -EEXIST   name already used
 *   -ENODEV     backend unavailable    -ETIMEDOUT device busy past the deadline
 *   -EKEYREJECTED PIN rejected/locked  -EINVAL   invalid argument
 *   -EMSGSIZE   a field exceeds a protocol limit
 *   -EBADMSG    malformed reply        -EOPNOTSUPP unsupported request or algorithm
 *   -EPROTO     unexpected reply       -EIO      agent internal error
 * After a failure, hwsign_client_error() returns the agent's (or the library's) one-line
 * explanation. Outputs (ret_*) are written only on success and are owned by the caller.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hwsign_client;

struct hwsign_key_info {
    char *name;
    char *backend;      /* backend instance name from the agent config */
    char *backend_kind; /* "pkcs11", "tpm" */
    char *alg;          /* "ecdsa-p256", "ecdsa-p384", "rsa-3072" */
    char *locator;      /* pkcs11: URI or TPM key file */
    char *allow_users;  /* comma-separated policy, "" when none */
    char *allow_groups;
    uint64_t created; /* unix time */
    uint8_t *spki;    /* DER SubjectPublicKeyInfo; NULL in listings */
    size_t spki_len;
};

struct hwsign_backend_status {
    char *name;
    char *kind;
    enum hwsign_backend_state state;
    char *detail;
};

struct hwsign_status {
    char *version;
    uint64_t uptime_s;
    uint32_t nkeys;
    uint32_t nconnections;
    size_t nbackends;
    struct hwsign_backend_status *backends;
};

/* Socket path: $HWSIGN_AGENT_SOCK, else /run/hwsign/agent.sock for root, else
 * $XDG_RUNTIME_DIR/hwsign/agent.sock when set, else /run/hwsign/agent.sock. */
const char *hwsign_default_socket(void);

/* Connect to path (NULL = hwsign_default_socket()). */
int hwsign_connect(const char *path, struct hwsign_client **ret);
struct hwsign_client *hwsign_disconnect(struct hwsign_client *c); /* accepts NULL; returns NULL */
const char *hwsign_client_error(const struct hwsign_client *c);

int hwsign_status(struct hwsign_client *c, struct hwsign_status **ret);
void hwsign_status_free(struct hwsign_status *s);

/* Keys visible to this peer; *ret_keys is an array of n entries (spki NULL). */
int hwsign_list_keys(struct hwsign_client *c, struct hwsign_key_info **ret_keys, size_t *ret_n);
int hwsign_key_info(struct hwsign_client *c, const char *name, struct hwsign_key_info **ret);
void hwsign_key_info_free(struct hwsign_key_info *k);           /* one, from hwsign_key_info */
void hwsign_key_list_free(struct hwsign_key_info *k, size_t n); /* array from hwsign_list_keys */
/* DER SPKI of a key. */
int hwsign_get_public_key(struct hwsign_client *c, const char *name, uint8_t **ret_spki,
                          size_t *ret_len);

/* Sign a digest; *ret_sig is DER (ECDSA) or PKCS#1/PSS bytes (RSA). */
int hwsign_sign_digest(struct hwsign_client *c, const char *key, enum hwsign_hash hash,
                       enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                       uint8_t **ret_sig, size_t *ret_sig_len);

/*
 * Sign an in-toto statement: the agent validates it, checks the key's policy (predicate types)
 * and returns a DSSE envelope (JSON, NUL-terminated) signed over the PAE it computed itself.
 * payload_type is normally "application/vnd.in-toto+json". A statement over
 * HWSIGN_MAX_STATEMENT (up to HWSIGN_MAX_STAGED_STATEMENT, else -EMSGSIZE) is staged in chunks
 * and the envelope built here from the agent's signature; while the agent's staging budget is
 * in use this waits and retries for up to 30 s before returning -ETIMEDOUT.
 */
int hwsign_sign_statement(struct hwsign_client *c, const char *key, const char *payload_type,
                          const uint8_t *statement, size_t statement_len, char **ret_envelope,
                          size_t *ret_len);

/*
 * The signing log's latest checkpoint: a C2SP tlog-checkpoint in signed-note form
 * (NUL-terminated text), signed by the configured log key. fresh != 0 asks the agent to
 * issue a new checkpoint covering every record first (admin only). -ENOENT when the agent
 * has no log key configured or has not issued a checkpoint yet.
 */
int hwsign_log_checkpoint(struct hwsign_client *c, int fresh, char **ret_note);

/* Index of the signing-log record of the last signature this client received
 * (hwsign_sign_digest, hwsign_sign_statement), or HWSIGN_LOG_INDEX_NONE. */
uint64_t hwsign_last_log_index(const struct hwsign_client *c);
/* That record's transparency-log entry body (docs/log.md; the JSON whose hash is the record's
 * Merkle leaf), borrowed until the next call on c; "" when the signature was not logged. */
const char *hwsign_last_log_entry(const struct hwsign_client *c, size_t *ret_len);

/*
 * Inclusion proof of signing-log record index: a signed checkpoint covering it (the agent
 * signs a fresh one when its latest does not yet cover the record) and the RFC 9162 proof
 * against that checkpoint's tree. log_id is SHA-256 of the log key's DER SubjectPublicKeyInfo.
 * Verify before trusting: the note's signature with the log key, then the proof.
 * -ENOKEY: no such record, or no log key configured; -ENODEV: no checkpoint can be signed now.
 */
struct hwsign_log_proof {
    uint64_t index;
    uint64_t tree_size;
    uint8_t log_id[32];
    size_t n_hashes;
    uint8_t (*hashes)[32];
    char *checkpoint; /* the signed note, NUL-terminated */
};
int hwsign_log_proof(struct hwsign_client *c, uint64_t index, struct hwsign_log_proof **ret);
void hwsign_log_proof_free(struct hwsign_log_proof *p);

/*
 * Measured provenance: claims is a JSON object stating what the client ran and read and what
 * it produced (docs/provenance.md: externalParameters, resolvedDependencies, subjects,
 * startedOn, finishedOn). The agent adds what it observes itself about the caller and the host,
 * builds the in-toto Statement with the SLSA Provenance v1 predicate, signs it with key (its
 * policy must allow the SLSA predicate type), logs it and returns the DSSE envelope.
 */
int hwsign_sign_provenance(struct hwsign_client *c, const char *key, const char *claims,
                           size_t claims_len, char **ret_envelope, size_t *ret_len);

/*
 * TPM evidence from the agent's attestation key (AK): a TPM2_Quote (hwsign_tpm_quote: PCR
 * values of selection, NULL = "sha256:0-7", with qualifyingData = nonce) or a TPM2_Certify of
 * one of the agent's TPM keys (hwsign_key_certify). The byte strings are in the forms
 * tpm2_checkquote reads (attest: TPMS_ATTEST; sig: TPMT_SIGNATURE; sig_der: DER ECDSA; pcrs:
 * tpm2_quote -o serialized PCR file; key_public: TPMT_PUBLIC); ak_spki is the AK's DER SPKI,
 * which a verifier must pin from a trusted source. Absent members are NULL/0.
 */
struct hwsign_tpm_evidence {
    uint8_t *attest;
    size_t attest_len;
    uint8_t *sig;
    size_t sig_len;
    uint8_t *sig_der;
    size_t sig_der_len;
    uint8_t *pcrs; /* quote */
    size_t pcrs_len;
    char *selection;     /* quote: the normalised PCR selection */
    uint8_t *key_public; /* certify */
    size_t key_public_len;
    uint8_t *ak_spki;
    size_t ak_spki_len;
};
int hwsign_tpm_quote(struct hwsign_client *c, const uint8_t nonce[32], const char *selection,
                     struct hwsign_tpm_evidence **ret);
int hwsign_key_certify(struct hwsign_client *c, const char *key, const uint8_t nonce[32],
                       struct hwsign_tpm_evidence **ret);
void hwsign_tpm_evidence_free(struct hwsign_tpm_evidence *e);

/* Key management (admin). backend = instance name from the agent config (NULL/"" = the
 * only one of its kind). alg NULL = "ecdsa-p256". */
int hwsign_key_create(struct hwsign_client *c, const char *name, const char *backend,
                      const char *alg, struct hwsign_key_info **ret);
int hwsign_key_add(struct hwsign_client *c, const char *name, const char *backend, const char *uri,
                   struct hwsign_key_info **ret);
/* destroy != 0 also deletes the key from the device; otherwise only the registration. */
int hwsign_key_delete(struct hwsign_client *c, const char *name, int destroy);

#ifdef __cplusplus
}
#endif
