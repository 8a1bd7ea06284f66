/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's signing log: record codec and whole-file scan (pure functions, no I/O).
 *
 * File layout (STATE/log/records, append-only):
 *
 *   file    = magic record*
 *   magic   = "HWSLOG2\n"                      (8 bytes, LOGREC_MAGIC)
 *   record  = len:u32be body[len] chain[32]
 *   chain_i = SHA-256(chain_{i-1} || body_i)   chain_{-1} = 32 zero bytes
 *   leaf_i  = SHA-256(0x00 || entry_i)         RFC 6962 leaf of the log's Merkle tree, where
 *             entry_i is the record's transparency-log entry body (lib/format/logentry.h): a
 *             canonical JSON text derived from body_i that commits to SHA-256(body_i)
 *
 *   body    = version:u8 (=2) type:u8 (=1 signature) seq:u64 time_ns:u64
 *             uid:u32 gid:u32 pid:u32 exe:string unit:string
 *             key:string request:u8 (1 digest, 2 statement) hash:u8 (enum hwsign_hash)
 *             digest:string            the digest the key signed
 *             statement_sha256:string  32 bytes for statements, empty for digests
 *             predicate_type:string    empty for digests
 *             nsubjects:u32 { name:string sha256:string(32) }*
 *             signature:string         the signature as released, 1..LOGREC_MAX_SIG bytes
 *             spki:string              the signing key's DER SubjectPublicKeyInfo,
 *                                      1..LOGREC_MAX_SPKI bytes
 *             envelope_sha256:string   statements: 32 bytes, SHA-256 of the DSSE envelope JSON
 *                                      the agent returned; digests: empty
 *   string  = len:u32be bytes (no NUL inside text fields)
 *
 * seq starts at 0 and is the record's index (and Merkle leaf index); it must equal the
 * record's position. time_ns is CLOCK_REALTIME in nanoseconds (informational: ordering is seq).
 * A record is at most LOGREC_MAX_BODY bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define LOGREC_MAGIC          "HWSLOG2\n"
#define LOGREC_MAGIC_LEN      8u
#define LOGREC_VERSION        2u
#define LOGREC_TYPE_SIGNATURE 1u
#define LOGREC_MAX_BODY       (60u * 1024u) /* one record: fits a full statement's subjects */
#define LOGREC_MAX_SUBJECTS   1024u
#define LOGREC_MAX_TEXT       4096u /* exe path, unit, subject name, predicate type */
#define LOGREC_HASH           32u
#define LOGREC_MAX_SIG        1024u /* = HWSIGN_MAX_SIG: DER signature (RSA-4096 fits) */
#define LOGREC_MAX_SPKI       2048u /* = HWSIGN_MAX_SPKI */
/* The subjects of one record, counted as sum(4 + name + 4 + 32): whatever its other fields
 * hold (at most ~15.3 KiB), a record with subjects up to this stays within LOGREC_MAX_BODY.
 * The agent refuses to sign a statement whose subjects exceed it. */
#define LOGREC_MAX_SUBJECT_BYTES       (44u * 1024u)
#define LOGREC_SUBJECT_BYTES(name_len) (4u + (name_len) + 4u + LOGREC_HASH)
/* A writer's batch (records appended and synced together) is at most this many bytes; a hole
 * in the final, unsynced batch is recognised only within the last LOGREC_MAX_BATCH bytes. */
#define LOGREC_MAX_BATCH (64u * 1024u)

enum logrec_request { LOGREC_DIGEST = 1, LOGREC_STATEMENT = 2 };

struct logrec_subject {
    char *name;
    uint8_t sha256[LOGREC_HASH];
};

struct logrec {
    uint64_t seq;
    uint64_t time_ns;
    uint32_t uid, gid, pid;
    char *exe;  /* peer executable path ("" unknown) */
    char *unit; /* peer cgroup / systemd unit ("" unknown) */
    char *key;
    uint8_t request; /* enum logrec_request */
    uint8_t hash;    /* enum hwsign_hash of digest */
    uint8_t digest[64];
    size_t digest_len;
    bool has_statement;
    uint8_t statement_sha256[LOGREC_HASH];
    char *predicate_type; /* "" for digests */
    struct logrec_subject *subjects;
    size_t nsubjects;
    uint8_t *sig; /* the signature as released */
    size_t sig_len;
    uint8_t *spki; /* the signing key's DER SubjectPublicKeyInfo */
    size_t spki_len;
    bool has_envelope; /* statements: SHA-256 of the returned DSSE envelope JSON */
    uint8_t envelope_sha256[LOGREC_HASH];
    /* Set by logrec_decode_body (SHA-256 of sig, to match a signature found in the wild);
     * ignored by logrec_encode_body. */
    uint8_t signature_sha256[LOGREC_HASH];
};

/* Append the body encoding of r to out. -EINVAL for invalid fields, -EMSGSIZE over limits. */
int logrec_encode_body(const struct logrec *r, struct sbuf *out);
/* Decode one body (all bytes consumed). Owned result; free with logrec_free. */
int logrec_decode_body(const uint8_t *body, size_t len, struct logrec **ret);
struct logrec *logrec_free(struct logrec *r);
void logrec_freep(struct logrec **r);

/* chain = SHA-256(prev || body); leaf = SHA-256(0x00 || body). */
int logrec_chain(const uint8_t prev[static LOGREC_HASH], const uint8_t *body, size_t len,
                 uint8_t ret[static LOGREC_HASH]);

/*
 * Scan a whole log file image. For each valid record in order, cb (if non-NULL) gets the
 * decoded record, its body bytes and its chain hash; a negative return from cb stops the scan
 * and is returned. Results:
 *   0            every byte belongs to valid records;
 *   -EBADMSG     damage: bad magic, a record whose length, decoding, seq or chain is wrong and
 *                that is followed by more bytes (so it is not just a torn final write);
 * In both cases *ret_end is the offset after the last valid record, *ret_count the number of
 * valid records and ret_chain the chain hash after them. With 0, *ret_torn says whether bytes
 * after *ret_end form a torn tail: an incomplete or invalid record that reaches (or declares a
 * length of at most LOGREC_MAX_BODY reaching past) the end of the data or is followed only by
 * zero bytes, or bytes that are all zero (a file extended without its data, as after a power
 * loss). A length over LOGREC_MAX_BODY is never torn (the writer cannot have written it): one
 * flipped high bit in an early length must not make the acknowledged records after it look
 * like a tail to truncate. Also torn: a hole in the final unsynced batch -- the first bad record
 * overlaps a zero (never written) 512-byte sector, lies within the last LOGREC_MAX_BATCH bytes,
 * and no intact record later in the data continues the chain (see logrec.c for the argument).
 * Bad or short magic (including an empty file) is -EBADMSG with
 * *ret_end 0. Other errors (-EINVAL, -ENOMEM, a callback's) leave the outputs untouched. A writer
 * truncates a torn tail at *ret_end: it was never acknowledged, because a record is acknowledged
 * only after it is synced and fully valid.
 */
typedef int (*logrec_scan_cb)(void *ctx, const struct logrec *r, const uint8_t *body,
                              size_t body_len, const uint8_t chain[static LOGREC_HASH]);
int logrec_scan(const uint8_t *data, size_t len, logrec_scan_cb cb, void *ctx, size_t *ret_end,
                uint64_t *ret_count, uint8_t ret_chain[static LOGREC_HASH], bool *ret_torn);
