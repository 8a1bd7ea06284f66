/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transparency-log entries of the signing log: the JSON "entry body" each record is hashed as
 * (the Merkle leaf), and the Sigstore bundle TransparencyLogEntry that carries one record's
 * entry, inclusion proof and signed checkpoint (docs/log.md, FORMATS.md §4.2 and §7).
 *
 * Entry body. For record body B (lib/format/logrec.h) the entry is a canonical JSON text in
 * Rekor's v0.0.1 schemas, so stock Sigstore verifiers (@sigstore/verify, sigstore-go) can match
 * it against a bundle, plus one member of ours committing to the whole record:
 *
 *   digest records     {"apiVersion":"0.0.1","hwsign":{"record":H},"kind":"hashedrekord",
 *                       "spec":{"data":{"hash":{"algorithm":A,"value":D}},
 *                               "signature":{"content":S,"publicKey":{"content":P}}}}
 *   statement records  {"apiVersion":"0.0.1","hwsign":{"record":H},"kind":"dsse",
 *                       "spec":{"envelopeHash":{"algorithm":"sha256","value":E},
 *                               "payloadHash":{"algorithm":"sha256","value":T},
 *                               "signatures":[{"signature":S,"verifier":P}]}}
 *
 * H = hex SHA-256(B) (the record itself, with its peer and time, stays on the signing host;
 * the entry only commits to it), A = sha256|sha384|sha512 and D = hex of the signed digest,
 * S = base64 of the signature, P = base64 of the key's PEM "PUBLIC KEY" text (64-column lines),
 * E = hex SHA-256 of the envelope JSON, T = hex SHA-256 of the statement (the DSSE payload).
 * Members are in byte order, no whitespace, "/" not escaped: the same record always gives the
 * same bytes. The Merkle leaf of the record is SHA-256(0x00 || entry).
 *
 * TransparencyLogEntry (protobuf JSON, int64 as strings, bytes as standard base64):
 *   {"logIndex":I,"logId":{"keyId":K},"kindVersion":{"kind":KIND,"version":"0.0.1"},
 *    "inclusionProof":{"logIndex":I,"rootHash":R,"treeSize":N,"hashes":[...],
 *                      "checkpoint":{"envelope":NOTE}},
 *    "canonicalizedBody":base64(entry)}
 * K = SHA-256 of the log key's DER SPKI (its first 4 bytes are the checkpoint's note key ID),
 * NOTE the C2SP signed checkpoint of size N whose root is R.
 *
 * Errors: -EINVAL malformed, -EMSGSIZE over a limit, -ENOMEM. Outputs only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logrec.h"
#include "merkle.h"

struct json_object;

#define LOGENTRY_API_VERSION "0.0.1"
#define LOGENTRY_KIND_DIGEST "hashedrekord"
#define LOGENTRY_KIND_DSSE   "dsse"
#define LOGENTRY_MAX_BODY    (8u * 1024u)  /* bytes of an entry body (sig + PEM fit easily) */
#define LOGENTRY_MAX_NOTE    (16u * 1024u) /* bytes of the checkpoint note in a bundle */
#define LOGENTRY_MAX_PROOF   MERKLE_MAX_PROOF

/* The entry body of record r whose encoded body is body[0..body_len). NUL-terminated. */
int logentry_body(const struct logrec *r, const uint8_t *body, size_t body_len, char **ret,
                  size_t *ret_len);
/* SHA-256(0x00 || logentry_body(...)): the record's Merkle leaf. */
int logentry_leaf_hash(const struct logrec *r, const uint8_t *body, size_t body_len,
                       uint8_t ret[static MERKLE_HASH_SIZE]);

/* What a parsed entry body states. */
struct logentry_info {
    bool dsse;                 /* kind dsse (statement), else hashedrekord (digest) */
    uint8_t record_sha256[32]; /* hwsign.record */
    char digest_alg[8];        /* hashedrekord: sha256|sha384|sha512 */
    uint8_t digest[64];        /* hashedrekord: the signed digest */
    size_t digest_len;
    uint8_t payload_sha256[32];  /* dsse: SHA-256 of the statement */
    uint8_t envelope_sha256[32]; /* dsse */
    uint8_t *sig;                /* the signature */
    size_t sig_len;
    uint8_t *spki; /* DER SPKI of the signing key (from the PEM) */
    size_t spki_len;
};
/* Strict parse of an entry body as logentry_body writes it (any member order). */
int logentry_parse(const char *body, size_t len, struct logentry_info **ret);
struct logentry_info *logentry_info_free(struct logentry_info *i);
void logentry_info_freep(struct logentry_info **i);

/* A bundle's TransparencyLogEntry. */
struct logentry_tlog {
    uint64_t log_index;
    uint8_t log_id[32];
    bool dsse; /* kind */
    uint64_t tree_size;
    uint8_t root[MERKLE_HASH_SIZE];
    uint8_t (*hashes)[MERKLE_HASH_SIZE];
    size_t n_hashes;
    char *checkpoint; /* the signed note text */
    char *body;       /* the entry body */
    size_t body_len;
};
int logentry_tlog_build(const struct logentry_tlog *t, struct json_object **ret);
/* Parse one tlogEntries element (integratedTime and inclusionPromise are accepted, unused). */
int logentry_tlog_parse(const struct json_object *o, struct logentry_tlog **ret);
struct logentry_tlog *logentry_tlog_free(struct logentry_tlog *t);
void logentry_tlog_freep(struct logentry_tlog **t);
