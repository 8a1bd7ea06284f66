/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Staged statements (docs/protocol.md "Staged statements"): a statement larger than one frame
 * allows is sent in chunks and signed as a whole.
 *
 *   STATEMENT_BEGIN  key:string payload_type:string length:u64   -> reply: empty
 *   STATEMENT_DATA   data:string (1..HWSIGN_MAX_STAGE_CHUNK)       -> reply: received:u64
 *   STATEMENT_SIGN   (empty)                                        -> reply: signature:string
 *                    log_index:u64 log_entry:string keyid:string
 *
 * The SIGN reply carries what the DSSE envelope needs besides the statement the client already
 * holds: the signature over SHA-256(PAE) and the keyid the agent put in its envelope (hex
 * SHA-256 of the key's DER SPKI). Conventions as in proto.h.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>

#include "sbuf.h"

#define PROTO_KEYID_LEN 64u /* hex SHA-256 */

struct proto_stage_begin_req {
    char key[HWSIGN_MAX_NAME + 1];
    char payload_type[HWSIGN_MAX_PAYLOAD_TYPE + 1];
    uint64_t length; /* 1..HWSIGN_MAX_STAGED_STATEMENT */
};

int proto_put_stage_begin_req(struct sbuf *out, uint32_t id, const char *key,
                              const char *payload_type, uint64_t length);
/* -EMSGSIZE for a length over HWSIGN_MAX_STAGED_STATEMENT, -EINVAL for 0 or an empty type. */
int proto_get_stage_begin_req(struct sbuf *body, struct proto_stage_begin_req *ret);

int proto_put_stage_data_req(struct sbuf *out, uint32_t id, const uint8_t *data, size_t len);
/* Borrowed view into body; -EINVAL for an empty chunk. */
int proto_get_stage_data_req(struct sbuf *body, const uint8_t **ret_data, size_t *ret_len);
int proto_put_stage_data_reply(struct sbuf *out, uint32_t id, uint64_t received);
int proto_get_stage_data_reply(struct sbuf *body, uint64_t *ret_received);

int proto_put_stage_sign_req(struct sbuf *out, uint32_t id);

struct proto_stage_signature {
    uint8_t *sig; /* owned */
    size_t sig_len;
    uint64_t log_index;
    char *entry; /* owned, NUL-terminated, "" when not logged */
    size_t entry_len;
    char keyid[PROTO_KEYID_LEN + 1];
};
int proto_put_stage_signature(struct sbuf *out, uint32_t id, const uint8_t *sig, size_t sig_len,
                              uint64_t log_index, const char *entry, size_t entry_len,
                              const char *keyid);
/* keyid must be 64 lowercase hex characters (-EBADMSG otherwise). */
int proto_get_stage_signature(struct sbuf *body, struct proto_stage_signature *ret);
void proto_stage_signature_clear(struct proto_stage_signature *s);
