/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire codec fuzzer: the frame check and message header on the whole input, then the decoder
 * selected by the first byte (modulo FUZZ_PROTO_TARGETS) on the rest. A successful request
 * decode is re-encoded and must decode to the same value (the codec is its own inverse on
 * everything it accepts); so are the staged-statement messages (proto-stage.h), replies too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto-stage.h"
#include "proto.h"

/* Decoders the first input byte selects from: 0-5 requests, 6-10 replies, 11-14 staging. */
#define FUZZ_PROTO_TARGETS 15u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

/* Splits the one frame in out and returns its payload view (after type and id). */
static struct sbuf *reencoded_body(struct sbuf *out)
{
    size_t len = 0;
    struct sbuf *body;
    uint8_t type;
    uint32_t id;

    check(proto_frame_check(out, &len) == 1 && len + HWSIGN_FRAME_HEADER == sbuf_len(out));
    body = sbuf_from(sbuf_ptr(out) + HWSIGN_FRAME_HEADER, len);
    check(body && proto_get_header(body, &type, &id) == 0);
    return body;
}

static void fuzz_requests(uint8_t which, struct sbuf *in)
{
    _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(2 * HWSIGN_MAX_MSG);
    _cleanup_(sbuf_freep) struct sbuf *again = NULL;

    check(out != NULL);
    switch (which) {
    case 0:
        if (proto_get_empty(in) == 0) {
            check(proto_put_status_req(out, 1) == 0);
            again = reencoded_body(out);
            check(proto_get_empty(again) == 0);
        }
        break;
    case 1: {
        char name[HWSIGN_MAX_NAME + 1], name2[HWSIGN_MAX_NAME + 1];
        if (proto_get_name_req(in, name) == 0) {
            check(proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, 1, name) == 0);
            again = reencoded_body(out);
            check(proto_get_name_req(again, name2) == 0 && strcmp(name, name2) == 0);
        }
        break;
    }
    case 2: {
        struct proto_sign_req q, q2;
        if (proto_get_sign_req(in, &q) == 0) {
            check(proto_put_sign_req(out, 1, q.key, q.hash, q.scheme, q.digest, q.digest_len) == 0);
            again = reencoded_body(out);
            check(proto_get_sign_req(again, &q2) == 0);
            check(strcmp(q.key, q2.key) == 0 && q.hash == q2.hash && q.scheme == q2.scheme &&
                  q.digest_len == q2.digest_len && memcmp(q.digest, q2.digest, q.digest_len) == 0);
        }
        break;
    }
    case 3:
    case 4: {
        struct proto_key_req q, q2;
        int r = which == 3 ? proto_get_key_create_req(in, &q) : proto_get_key_add_req(in, &q);
        if (r == 0) {
            r = which == 3 ? proto_put_key_create_req(out, 1, q.name, q.backend, q.alg)
                           : proto_put_key_add_req(out, 1, q.name, q.backend, q.uri);
            check(r == 0);
            again = reencoded_body(out);
            r = which == 3 ? proto_get_key_create_req(again, &q2)
                           : proto_get_key_add_req(again, &q2);
            check(r == 0 && strcmp(q.name, q2.name) == 0 && strcmp(q.backend, q2.backend) == 0 &&
                  strcmp(q.alg, q2.alg) == 0 && strcmp(q.uri, q2.uri) == 0);
        }
        break;
    }
    case 5: {
        struct proto_key_req q, q2;
        if (proto_get_key_delete_req(in, &q) == 0) {
            check(proto_put_key_delete_req(out, 1, q.name, q.destroy) == 0);
            again = reencoded_body(out);
            check(proto_get_key_delete_req(again, &q2) == 0 && q.destroy == q2.destroy &&
                  strcmp(q.name, q2.name) == 0);
        }
        break;
    }
    default:
        break;
    }
}

static void fuzz_replies(uint8_t which, struct sbuf *in)
{
    _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(2 * HWSIGN_MAX_MSG);
    _cleanup_(sbuf_freep) struct sbuf *again = NULL;

    check(out != NULL);
    switch (which) {
    case 6: {
        uint32_t code;
        char *msg = NULL;
        if (proto_get_failure(in, &code, &msg) == 0) {
            (void)proto_error_name(code);
            (void)proto_errno_to_error(proto_error_to_errno(code));
            free(msg);
        }
        break;
    }
    case 7: {
        uint8_t *sig = NULL;
        size_t len;
        if (proto_get_signature(in, &sig, &len, NULL, NULL, NULL) == 0) {
            check(len > 0 && len <= HWSIGN_MAX_SIG);
            free(sig);
        }
        break;
    }
    case 8: {
        struct hwsign_key_info k, k2;
        if (proto_get_key_info(in, &k) == 0) {
            struct proto_key_view v = {
                    .name = k.name,
                    .backend = k.backend,
                    .kind = k.backend_kind,
                    .alg = k.alg,
                    .locator = k.locator,
                    .allow_users = k.allow_users,
                    .allow_groups = k.allow_groups,
                    .created = k.created,
                    .spki = k.spki,
                    .spki_len = k.spki_len,
            };
            check(proto_put_key_info(out, HWSIGN_MSG_KEY_INFO, 1, &v) == 0);
            again = reencoded_body(out);
            check(proto_get_key_info(again, &k2) == 0);
            check(strcmp(k.locator, k2.locator) == 0 && k.spki_len == k2.spki_len &&
                  k.created == k2.created);
            proto_key_info_clear(&k2);
            proto_key_info_clear(&k);
        }
        break;
    }
    case 9: {
        struct hwsign_key_info *keys = NULL;
        size_t n = 0;
        if (proto_get_key_list(in, &keys, &n) == 0) {
            check(n <= HWSIGN_MAX_KEYS);
            for (size_t i = 0; i < n; i++)
                proto_key_info_clear(&keys[i]);
            free(keys);
        }
        break;
    }
    case 10: {
        struct hwsign_status *s = NULL;
        if (proto_get_status(in, &s) == 0) {
            check(s->nbackends <= HWSIGN_MAX_BACKENDS);
            proto_status_free(s);
        }
        break;
    }
    default:
        break;
    }
}

/* STATEMENT_BEGIN / _DATA requests, the DATA and SIGN replies: decode, re-encode, compare. */
static void fuzz_stage(uint8_t which, struct sbuf *in)
{
    _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(2 * HWSIGN_MAX_MSG);
    _cleanup_(sbuf_freep) struct sbuf *again = NULL;

    check(out != NULL);
    switch (which) {
    case 11: {
        struct proto_stage_begin_req q, q2;
        if (proto_get_stage_begin_req(in, &q) == 0) {
            check(q.length >= 1 && q.length <= HWSIGN_MAX_STAGED_STATEMENT && q.payload_type[0]);
            check(proto_put_stage_begin_req(out, 1, q.key, q.payload_type, q.length) == 0);
            again = reencoded_body(out);
            check(proto_get_stage_begin_req(again, &q2) == 0 && strcmp(q.key, q2.key) == 0 &&
                  strcmp(q.payload_type, q2.payload_type) == 0 && q.length == q2.length);
        }
        break;
    }
    case 12: {
        const uint8_t *p, *p2;
        size_t n, n2;
        if (proto_get_stage_data_req(in, &p, &n) == 0) {
            check(n >= 1 && n <= HWSIGN_MAX_STAGE_CHUNK);
            check(proto_put_stage_data_req(out, 1, p, n) == 0);
            again = reencoded_body(out);
            check(proto_get_stage_data_req(again, &p2, &n2) == 0 && n == n2 &&
                  memcmp(p, p2, n) == 0);
        }
        break;
    }
    case 13: {
        uint64_t v, v2;
        if (proto_get_stage_data_reply(in, &v) == 0) {
            check(v <= HWSIGN_MAX_STAGED_STATEMENT);
            check(proto_put_stage_data_reply(out, 1, v) == 0);
            again = reencoded_body(out);
            check(proto_get_stage_data_reply(again, &v2) == 0 && v == v2);
        }
        break;
    }
    case 14: {
        struct proto_stage_signature s = {0}, s2 = {0};
        if (proto_get_stage_signature(in, &s) == 0) {
            check(s.sig_len >= 1 && s.sig_len <= HWSIGN_MAX_SIG && s.entry &&
                  strlen(s.entry) == s.entry_len && strlen(s.keyid) == PROTO_KEYID_LEN);
            check(proto_put_stage_signature(out, 1, s.sig, s.sig_len, s.log_index, s.entry,
                                            s.entry_len, s.keyid) == 0);
            again = reencoded_body(out);
            check(proto_get_stage_signature(again, &s2) == 0);
            check(s.sig_len == s2.sig_len && memcmp(s.sig, s2.sig, s.sig_len) == 0 &&
                  s.log_index == s2.log_index && s.entry_len == s2.entry_len &&
                  memcmp(s.entry, s2.entry, s.entry_len) == 0 && strcmp(s.keyid, s2.keyid) == 0);
            proto_stage_signature_clear(&s2);
            proto_stage_signature_clear(&s);
        }
        break;
    }
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(sbuf_freep) struct sbuf *whole = NULL, *body = NULL;
    size_t len = 0;
    uint8_t which;
    int r;

    if (size == 0)
        return 0;
    /* Framing on the raw bytes: a frame is reported only when all of it is present. */
    whole = sbuf_from(data, size);
    if (!whole)
        return 0;
    r = proto_frame_check(whole, &len);
    check(r == 0 || r == 1 || r == -EMSGSIZE || r == -EBADMSG);
    if (r == 1) {
        _cleanup_(sbuf_freep) struct sbuf *msg = NULL;
        uint8_t type = 0;
        uint32_t id;
        check(len >= HWSIGN_MSG_HEADER && len <= HWSIGN_MAX_MSG &&
              len <= size - HWSIGN_FRAME_HEADER);
        msg = sbuf_from(data + HWSIGN_FRAME_HEADER, len);
        check(msg && proto_get_header(msg, &type, &id) == 0);
        (void)proto_msg_name(type);
    }

    which = (uint8_t)(data[0] % FUZZ_PROTO_TARGETS);
    body = sbuf_from(data + 1, size - 1);
    if (!body)
        return 0;
    if (which <= 5)
        fuzz_requests(which, body);
    else if (which <= 10)
        fuzz_replies(which, body);
    else
        fuzz_stage(which, body);
    return 0;
}
