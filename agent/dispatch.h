/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message dispatch table. Each request type has {type, flags, handler}; the dispatcher
 * enforces the flags so handlers never check them again. Unknown and reply-only types get an
 * explicit HWSIGN_ERR_UNSUPPORTED reply.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sbuf.h"

struct agent;
struct conn;

enum {
    DISPATCH_ADMIN = 1u << 0,     /* peer must be an admin */
    DISPATCH_WHILE_STOP = 1u << 1 /* allowed while the agent drains */
};

/*
 * Handler contract: decode body (which holds the payload after type and id), then either
 * queue a reply on c and return 0, or submit a job and return 1 (the connection stays busy
 * until the completion is handled), or return -errno with a reply already queued.
 */
typedef int (*dispatch_fn)(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);

struct dispatch_entry {
    uint8_t type;
    uint32_t flags;
    dispatch_fn handler;
};

/* Handle one complete message body. Returns 1 when the connection became busy. */
int dispatch_message(struct agent *a, struct conn *c, struct sbuf *body);

/* The reply every handler gives for a body that fails to decode; returns r. */
int dispatch_malformed(struct agent *a, struct conn *c, uint32_t id, uint8_t type, int r);

/*
 * Queue job j on backend slot s for request id of connection c: fills the job's routing
 * fields and deadline and marks the connection busy. Returns 1, or -errno with an error reply
 * queued and j freed.
 */
struct backend_slot;
struct job;
int dispatch_submit(struct agent *a, struct conn *c, struct backend_slot *s, struct job *j,
                    uint32_t id, uint8_t type);
/* The same on any worker, named name (kind: its backend kind) in replies and logs. */
struct worker;
int dispatch_submit_to(struct agent *a, struct conn *c, struct worker *w, const char *name,
                       const char *kind, struct job *j, uint32_t id, uint8_t type);

/* False (with an UNAVAILABLE reply queued) while the signing log is failed. */
bool dispatch_signing_allowed(struct agent *a, struct conn *c, uint32_t id);

/* Human explanation of a backend failure for replies and logs. */
const char *dispatch_strerror(int err);

/* Handlers (handle-keys.c, handle-sign.c). */
int handle_status(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_list_keys(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_key_info(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_key_create(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_key_add(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_key_delete(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_sign_digest(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_sign_statement(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_log_checkpoint(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_log_proof(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
/* handle-tpm.c: evidence from the TPM attestation key. */
int handle_tpm_quote(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_key_certify(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
void handle_tpm_job_done(struct agent *a, struct conn *c, struct job *j);
/*
 * The key a signing request may use (handle-sign.c): the signing log must be writable, the
 * peer allowed by the key's policy and the key registered. Replies on failure.
 */
struct key_record;
struct intoto_statement;
int signing_key(struct agent *a, struct conn *c, uint32_t id, const char *key, const char *what,
                const struct key_record **ret);
/* The same for a statement of payload_type, which must be in-toto (else INVALID). */
int statement_signing_key(struct agent *a, struct conn *c, uint32_t id, const char *key,
                          const char *payload_type, const struct key_record **ret);
/*
 * Sign an in-toto statement the agent has judged (st is its parse): predicate-type policy,
 * DSSE PAE, device job; the reply (type req_type) carries the envelope.
 */
int sign_statement_submit(struct agent *a, struct conn *c, uint32_t id, const struct key_record *k,
                          const uint8_t *statement, size_t len, const struct intoto_statement *st,
                          uint8_t req_type);
/*
 * The two halves of signing a statement. statement_job_judge (any thread) fills job j, whose
 * payload holds the statement st was parsed from: payload and predicate type, SHA-256 of the
 * PAE as the digest to sign, the statement's hash and its subjects; -EMSGSIZE when the
 * subjects do not fit one signing-log record. statement_job_submit (event loop) applies key k's
 * predicate-type policy, binds j to k and queues it on k's backend; it consumes j and replies
 * on failure.
 */
int statement_job_judge(struct job *j, const struct intoto_statement *st);
int statement_job_submit(struct agent *a, struct conn *c, uint32_t id, const struct key_record *k,
                         struct job *j, uint8_t req_type);
/* The refusal of a statement whose subjects do not fit one signing-log record (%u: the limit). */
#define STATEMENT_SUBJECTS_TOO_LARGE                                                               \
    "the statement's subjects take more than the %u bytes one signing-log record holds; name "     \
    "fewer or shorter subjects"
int handle_sign_provenance(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
/* handle-stage.c: statements sent in chunks (STATEMENT_BEGIN, _DATA, _SIGN). */
int handle_statement_begin(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_statement_data(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
int handle_statement_sign(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body);
/* A staged statement judged on the judge worker (JOB_CALL, req_type STATEMENT_SIGN). */
void handle_statement_judged(struct agent *a, struct conn *c, struct job *j);
/* Discards c's staged statement, if any, and returns its bytes to the budget. */
void stage_drop(struct agent *a, struct conn *c);
/* SIGN_STATEMENT: build j->envelope from the signature (once; before it is logged). */
int sign_job_envelope(struct job *j);
/* A checkpoint signing job finished (handle-log.c). */
void checkpoint_done(struct agent *a, struct job *j);

/*
 * Completion of a job submitted by a handler; c is NULL when the peer left or the request was
 * abandoned at its deadline (state changes such as a created key are still committed).
 */
void handle_job_done(struct agent *a, struct conn *c, struct job *j);
void handle_key_job_done(struct agent *a, struct conn *c, struct job *j);
