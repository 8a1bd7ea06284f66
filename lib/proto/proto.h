/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request/response codec of the hwsign wire protocol on sbuf (docs/protocol.md).
 *
 * Encoders append one complete frame (length header included) to an output sbuf. Decoders
 * take an sbuf holding exactly one message body (type and id already consumed by
 * proto_get_header) and must consume it entirely: trailing bytes are -EBADMSG. Decoded
 * strings are validated (length limits, no NUL, names by name_is_valid where the field is a
 * name). All functions return 0 or -errno; ret_* are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwsign/hwsign.h>
#include <hwsign/protocol.h>

#include "sbuf.h"

/*
 * Looks at the head of in: 0 if a whole frame is not there yet, 1 if it is (*ret_body_len set),
 * -EMSGSIZE if the declared length exceeds HWSIGN_MAX_MSG, -EBADMSG if it is shorter than a
 * message header. Consumes nothing.
 */
int proto_frame_check(const struct sbuf *in, size_t *ret_body_len);
/* Reads type and request id from the start of a message body. */
int proto_get_header(struct sbuf *body, uint8_t *ret_type, uint32_t *ret_id);

/* Start a frame of the given type; returns the offset to pass to proto_end. */
int proto_begin(struct sbuf *out, uint8_t type, uint32_t id, size_t *ret_mark);
/* Patch the frame length. -EMSGSIZE (and the frame removed) if the body exceeds the limit. */
int proto_end(struct sbuf *out, size_t mark);
/* Drops the frame begun at mark after an encoding error; returns r. */
int proto_abandon(struct sbuf *out, size_t mark, int r);
/* A key-name field (valid characters, not empty). */
int proto_get_name(struct sbuf *body, char name[static HWSIGN_MAX_NAME + 1]);

/* Error codes <-> errno. */
int proto_error_to_errno(uint32_t code);
uint32_t proto_errno_to_error(int negative_errno);
const char *proto_error_name(uint32_t code);
const char *proto_msg_name(uint8_t type); /* "SIGN_DIGEST"; NULL for unknown */

/* Requests. */
struct proto_sign_req {
    char key[HWSIGN_MAX_NAME + 1];
    uint8_t hash;   /* enum hwsign_hash; validated */
    uint8_t scheme; /* enum hwsign_scheme; validated */
    uint8_t digest[HWSIGN_MAX_DIGEST];
    size_t digest_len; /* equals hash_len(hash) */
};
struct proto_key_req {
    char name[HWSIGN_MAX_NAME + 1];
    char backend[HWSIGN_MAX_NAME + 1]; /* "" = default */
    char alg[HWSIGN_MAX_ALG + 1];      /* create */
    char uri[HWSIGN_MAX_URI + 1];      /* add */
    uint8_t destroy;                   /* delete */
};

int proto_put_status_req(struct sbuf *out, uint32_t id);
int proto_put_list_req(struct sbuf *out, uint32_t id);
int proto_put_name_req(struct sbuf *out, uint8_t type, uint32_t id, const char *name);
int proto_put_sign_req(struct sbuf *out, uint32_t id, const char *key, uint8_t hash, uint8_t scheme,
                       const uint8_t *digest, size_t digest_len);
int proto_put_sign_statement_req(struct sbuf *out, uint32_t id, const char *key,
                                 const char *payload_type, const uint8_t *statement, size_t len);
int proto_put_key_create_req(struct sbuf *out, uint32_t id, const char *name, const char *backend,
                             const char *alg);
int proto_put_key_add_req(struct sbuf *out, uint32_t id, const char *name, const char *backend,
                          const char *uri);
int proto_put_key_delete_req(struct sbuf *out, uint32_t id, const char *name, bool destroy);

int proto_get_name_req(struct sbuf *body, char name[static HWSIGN_MAX_NAME + 1]);
int proto_get_sign_req(struct sbuf *body, struct proto_sign_req *ret);
/* Borrowed view: statement points into body and lives as long as body's memory. */
struct proto_statement_req {
    char key[HWSIGN_MAX_NAME + 1];
    char payload_type[HWSIGN_MAX_PAYLOAD_TYPE + 1];
    const uint8_t *statement;
    size_t statement_len;
};
int proto_get_sign_statement_req(struct sbuf *body, struct proto_statement_req *ret);
int proto_get_key_create_req(struct sbuf *body, struct proto_key_req *ret);
int proto_get_key_add_req(struct sbuf *body, struct proto_key_req *ret);
int proto_get_key_delete_req(struct sbuf *body, struct proto_key_req *ret);
int proto_get_empty(struct sbuf *body);

/* Replies. */
struct proto_key_view { /* borrowed strings for encoding */
    const char *name, *backend, *kind, *alg, *locator, *allow_users, *allow_groups;
    uint64_t created;
    const uint8_t *spki; /* NULL/0 in listings */
    size_t spki_len;
};
struct proto_backend_view {
    const char *name, *kind, *detail;
    uint8_t state;
};

int proto_put_failure(struct sbuf *out, uint32_t id, uint32_t code, const char *message);
int proto_put_ok(struct sbuf *out, uint8_t req_type, uint32_t id);
/* SIGN_DIGEST reply: the signature and its record index in the signing log
 * (HWSIGN_LOG_INDEX_NONE when the agent keeps no log). */
int proto_put_signature(struct sbuf *out, uint32_t id, const uint8_t *sig, size_t sig_len,
                        uint64_t log_index, const char *entry, size_t entry_len);
/* A reply whose payload is one string (LOG_CHECKPOINT: the signed note). */
int proto_put_string_reply(struct sbuf *out, uint8_t req_type, uint32_t id, const char *text,
                           size_t len);
int proto_put_log_checkpoint_req(struct sbuf *out, uint32_t id, bool fresh);
/* SIGN_STATEMENT reply: the DSSE envelope JSON and its log record index. */
/* SIGN_STATEMENT or SIGN_PROVENANCE (req_type) reply. */
int proto_put_envelope(struct sbuf *out, uint8_t req_type, uint32_t id, const char *json,
                       size_t len, uint64_t log_index, const char *entry, size_t entry_len);
int proto_put_key_info(struct sbuf *out, uint8_t req_type, uint32_t id,
                       const struct proto_key_view *k);
/* List reply: call begin, then add each key, then proto_end. */
int proto_put_key_list_begin(struct sbuf *out, uint32_t id, uint32_t count, size_t *ret_mark);
int proto_put_key_list_entry(struct sbuf *out, const struct proto_key_view *k);
int proto_put_status(struct sbuf *out, uint32_t id, const char *version, uint64_t uptime_s,
                     uint32_t nkeys, uint32_t nconn, const struct proto_backend_view *b,
                     size_t nbackends);

int proto_get_failure(struct sbuf *body, uint32_t *ret_code, char **ret_message);
/* A log_entry string field (at most HWSIGN_MAX_LOG_ENTRY, no NUL); ret NULL skips it, else a
 * NUL-terminated copy. */
int proto_get_log_entry(struct sbuf *body, char **ret, size_t *ret_len);
/* ret_entry (may be NULL) gets the log entry body, NUL-terminated, "" when not logged. */
int proto_get_signature(struct sbuf *body, uint8_t **ret_sig, size_t *ret_len,
                        uint64_t *ret_log_index, char **ret_entry, size_t *ret_entry_len);
int proto_get_statement_reply(struct sbuf *body, char **ret_json, size_t *ret_len,
                              uint64_t *ret_log_index, char **ret_entry, size_t *ret_entry_len);
/* LOG_PROOF: request u64 index; reply note:string tree_size:u64 log_id:string(32)
 * hashes:string(32 * n, n <= HWSIGN_MAX_LOG_PROOF). */
int proto_put_log_proof_req(struct sbuf *out, uint32_t id, uint64_t index);
int proto_get_log_proof_req(struct sbuf *body, uint64_t *ret_index);
int proto_put_log_proof(struct sbuf *out, uint32_t id, const struct hwsign_log_proof *p);
int proto_get_log_proof(struct sbuf *body, uint64_t index, struct hwsign_log_proof **ret);
int proto_get_envelope(struct sbuf *body, char **ret_json, size_t *ret_len); /* NUL-terminated */
int proto_get_key_info(struct sbuf *body, struct hwsign_key_info *ret);      /* owned copies */
int proto_get_key_list(struct sbuf *body, struct hwsign_key_info **ret, size_t *ret_n);
int proto_get_status(struct sbuf *body, struct hwsign_status **ret);
void proto_key_info_clear(struct hwsign_key_info *k);
void proto_status_free(struct hwsign_status *s);
