/* SPDX-License-Identifier: Apache-2.0 */
#include "proto-stage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "proto.h"

int proto_put_stage_begin_req(struct sbuf *out, uint32_t id, const char *key,
                              const char *payload_type, uint64_t length)
{
    size_t mark;
    int r;

    if (!key || !payload_type || strlen(key) > HWSIGN_MAX_NAME ||
        strlen(payload_type) > HWSIGN_MAX_PAYLOAD_TYPE || length > HWSIGN_MAX_STAGED_STATEMENT)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_STATEMENT_BEGIN, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, key)) < 0 || (r = sbuf_put_cstring(out, payload_type)) < 0 ||
        (r = sbuf_put_u64(out, length)) < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_stage_begin_req(struct sbuf *body, struct proto_stage_begin_req *ret)
{
    struct proto_stage_begin_req q = {0};
    int r;

    if ((r = proto_get_name(body, q.key)) < 0 ||
        (r = sbuf_get_cstring_buf(body, q.payload_type, sizeof(q.payload_type))) < 0 ||
        (r = sbuf_get_u64(body, &q.length)) < 0 || (r = sbuf_expect_end(body)) < 0)
        return r;
    if (q.length > HWSIGN_MAX_STAGED_STATEMENT)
        return -EMSGSIZE;
    if (q.length == 0 || q.payload_type[0] == '\0')
        return -EINVAL;
    *ret = q;
    return 0;
}

int proto_put_stage_data_req(struct sbuf *out, uint32_t id, const uint8_t *data, size_t len)
{
    size_t mark;
    int r;

    if (len > HWSIGN_MAX_STAGE_CHUNK)
        return -EMSGSIZE;
    if (!data || len == 0)
        return -EINVAL;
    r = proto_begin(out, HWSIGN_MSG_STATEMENT_DATA, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_string(out, data, len);
    if (r < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_stage_data_req(struct sbuf *body, const uint8_t **ret_data, size_t *ret_len)
{
    const uint8_t *p;
    size_t n;
    int r;

    if ((r = sbuf_get_string_direct(body, HWSIGN_MAX_STAGE_CHUNK, &p, &n)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (n == 0)
        return -EINVAL;
    *ret_data = p;
    *ret_len = n;
    return 0;
}

int proto_put_stage_data_reply(struct sbuf *out, uint32_t id, uint64_t received)
{
    size_t mark;
    int r = proto_begin(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_DATA, id, &mark);

    if (r < 0)
        return r;
    r = sbuf_put_u64(out, received);
    if (r < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_stage_data_reply(struct sbuf *body, uint64_t *ret_received)
{
    uint64_t v;
    int r;

    if ((r = sbuf_get_u64(body, &v)) < 0 || (r = sbuf_expect_end(body)) < 0)
        return r;
    if (v > HWSIGN_MAX_STAGED_STATEMENT)
        return -EBADMSG;
    *ret_received = v;
    return 0;
}

int proto_put_stage_sign_req(struct sbuf *out, uint32_t id)
{
    size_t mark;
    int r = proto_begin(out, HWSIGN_MSG_STATEMENT_SIGN, id, &mark);
    return r < 0 ? r : proto_end(out, mark);
}

static bool keyid_ok(const char *s, size_t len)
{
    if (len != PROTO_KEYID_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int proto_put_stage_signature(struct sbuf *out, uint32_t id, const uint8_t *sig, size_t sig_len,
                              uint64_t log_index, const char *entry, size_t entry_len,
                              const char *keyid)
{
    size_t mark;
    int r;

    if (!sig || sig_len == 0 || !keyid || !keyid_ok(keyid, strlen(keyid)))
        return -EINVAL;
    if (sig_len > HWSIGN_MAX_SIG || entry_len > HWSIGN_MAX_LOG_ENTRY)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_SIGN, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_string(out, sig, sig_len)) < 0 || (r = sbuf_put_u64(out, log_index)) < 0 ||
        (r = sbuf_put_string(out, entry, entry ? entry_len : 0)) < 0 ||
        (r = sbuf_put_cstring(out, keyid)) < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_stage_signature(struct sbuf *body, struct proto_stage_signature *ret)
{
    _cleanup_free_ char *entry = NULL;
    struct proto_stage_signature s = {0};
    const uint8_t *sig, *keyid;
    size_t sig_len, keyid_len, entry_len = 0;
    int r;

    if ((r = sbuf_get_string_direct(body, HWSIGN_MAX_SIG, &sig, &sig_len)) < 0 ||
        (r = sbuf_get_u64(body, &s.log_index)) < 0 ||
        (r = proto_get_log_entry(body, &entry, &entry_len)) < 0 ||
        (r = sbuf_get_string_direct(body, PROTO_KEYID_LEN, &keyid, &keyid_len)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (sig_len == 0 || !keyid_ok((const char *)keyid, keyid_len))
        return -EBADMSG;
    s.sig = malloc(sig_len);
    if (!s.sig)
        return -ENOMEM;
    memcpy(s.sig, sig, sig_len);
    s.sig_len = sig_len;
    memcpy(s.keyid, keyid, keyid_len);
    s.keyid[keyid_len] = '\0';
    s.entry = TAKE_PTR(entry);
    s.entry_len = entry_len;
    *ret = s;
    return 0;
}

void proto_stage_signature_clear(struct proto_stage_signature *s)
{
    if (!s)
        return;
    free(s->sig);
    free(s->entry);
    *s = (struct proto_stage_signature){0};
}
