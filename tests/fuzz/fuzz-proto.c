/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire codec fuzzer: the frame check and message header on the whole input, then the decoder
 * selected by the first byte on the rest. A successful request decode is re-encoded and must
 * decode to the same value (the codec is its own inverse on everything it accepts).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

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

    which = data[0] % 11;
    body = sbuf_from(data + 1, size - 1);
    if (!body)
        return 0;
    if (which <= 5)
        fuzz_requests(which, body);
    else
        fuzz_replies(which, body);
    return 0;
}
