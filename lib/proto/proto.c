/* SPDX-License-Identifier: Apache-2.0 */
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "macro.h"
#include "parse.h"

int proto_frame_check(const struct sbuf *in, size_t *ret_body_len)
{
    uint32_t len;

    if (sbuf_peek_u32(in, &len) < 0)
        return 0;
    /* Checked on the header alone, before a byte of the body is buffered. */
    if (len > HWSIGN_MAX_MSG)
        return -EMSGSIZE;
    if (len < HWSIGN_MSG_HEADER)
        return -EBADMSG;
    if (sbuf_len(in) - HWSIGN_FRAME_HEADER < len)
        return 0;
    *ret_body_len = len;
    return 1;
}

int proto_get_header(struct sbuf *body, uint8_t *ret_type, uint32_t *ret_id)
{
    uint8_t type;
    uint32_t id;
    int r;

    if (sbuf_len(body) < HWSIGN_MSG_HEADER)
        return -EBADMSG;
    r = sbuf_get_u8(body, &type);
    if (r >= 0)
        r = sbuf_get_u32(body, &id);
    if (r < 0)
        return r;
    *ret_type = type;
    *ret_id = id;
    return 0;
}

int proto_begin(struct sbuf *out, uint8_t type, uint32_t id, size_t *ret_mark)
{
    size_t mark = sbuf_len(out);
    int r;

    r = sbuf_put_u32(out, 0);
    if (r >= 0)
        r = sbuf_put_u8(out, type);
    if (r >= 0)
        r = sbuf_put_u32(out, id);
    if (r < 0) {
        (void)sbuf_consume_end(out, sbuf_len(out) - mark);
        return r;
    }
    *ret_mark = mark;
    return 0;
}

int proto_end(struct sbuf *out, size_t mark)
{
    size_t body;

    if (mark > sbuf_len(out) || sbuf_len(out) - mark < HWSIGN_FRAME_HEADER + HWSIGN_MSG_HEADER)
        return -EINVAL;
    body = sbuf_len(out) - mark - HWSIGN_FRAME_HEADER;
    if (body > HWSIGN_MAX_MSG) {
        (void)sbuf_consume_end(out, sbuf_len(out) - mark);
        return -EMSGSIZE;
    }
    return sbuf_poke_u32(out, mark, (uint32_t)body);
}

/* Drops a partly written frame after an encoding error. */
static int abandon(struct sbuf *out, size_t mark, int r)
{
    if (sbuf_len(out) > mark)
        (void)sbuf_consume_end(out, sbuf_len(out) - mark);
    return r;
}

int proto_abandon(struct sbuf *out, size_t mark, int r)
{
    return abandon(out, mark, r);
}

static const struct {
    uint32_t code;
    int err;
    const char *name;
} error_table[] = {
        {HWSIGN_ERR_MALFORMED, EBADMSG, "malformed"},
        {HWSIGN_ERR_UNSUPPORTED, EOPNOTSUPP, "unsupported"},
        {HWSIGN_ERR_DENIED, EACCES, "denied"},
        {HWSIGN_ERR_NO_KEY, ENOKEY, "no-key"},
        {HWSIGN_ERR_EXISTS, EEXIST, "exists"},
        {HWSIGN_ERR_UNAVAILABLE, ENODEV, "unavailable"},
        {HWSIGN_ERR_BUSY, ETIMEDOUT, "busy"},
        {HWSIGN_ERR_PIN, EKEYREJECTED, "pin"},
        {HWSIGN_ERR_INTERNAL, EIO, "internal"},
        {HWSIGN_ERR_TOO_LARGE, EMSGSIZE, "too-large"},
        {HWSIGN_ERR_INVALID, EINVAL, "invalid"},
        {HWSIGN_ERR_SHUTDOWN, ESHUTDOWN, "shutdown"},
        {HWSIGN_ERR_LIMIT, EUSERS, "limit"},
        {HWSIGN_ERR_BAD_SIGNATURE, ENOTRECOVERABLE, "bad-signature"},
        {HWSIGN_ERR_UNSUPPORTED_ALG, EPROTONOSUPPORT, "unsupported-algorithm"},
};

int proto_error_to_errno(uint32_t code)
{
    for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
        if (error_table[i].code == code)
            return -error_table[i].err;
    return -EPROTO;
}

uint32_t proto_errno_to_error(int negative_errno)
{
    int e = -negative_errno;

    for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
        if (error_table[i].err == e)
            return error_table[i].code;
    switch (e) {
    case EPERM:
        return HWSIGN_ERR_DENIED;
    case EKEYREVOKED:
    case EKEYEXPIRED:
        return HWSIGN_ERR_PIN;
    case ENOENT:
        return HWSIGN_ERR_NO_KEY;
    case EBUSY:
    case EAGAIN:
        return HWSIGN_ERR_BUSY;
    case ENXIO:
    case ENOTCONN:
        return HWSIGN_ERR_UNAVAILABLE;
    case EMFILE:
    case ENFILE:
    case ENOSPC:
        return HWSIGN_ERR_LIMIT;
    default:
        return HWSIGN_ERR_INTERNAL;
    }
}

const char *proto_error_name(uint32_t code)
{
    for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
        if (error_table[i].code == code)
            return error_table[i].name;
    return "unknown";
}

const char *proto_msg_name(uint8_t type)
{
    switch (type) {
    case HWSIGN_MSG_STATUS:
        return "STATUS";
    case HWSIGN_MSG_LIST_KEYS:
        return "LIST_KEYS";
    case HWSIGN_MSG_KEY_INFO:
        return "KEY_INFO";
    case HWSIGN_MSG_SIGN_DIGEST:
        return "SIGN_DIGEST";
    case HWSIGN_MSG_SIGN_STATEMENT:
        return "SIGN_STATEMENT";
    case HWSIGN_MSG_LOG_CHECKPOINT:
        return "LOG_CHECKPOINT";
    case HWSIGN_MSG_LOG_PROOF:
        return "LOG_PROOF";
    case HWSIGN_MSG_SIGN_PROVENANCE:
        return "SIGN_PROVENANCE";
    case HWSIGN_MSG_TPM_QUOTE:
        return "TPM_QUOTE";
    case HWSIGN_MSG_KEY_CERTIFY:
        return "KEY_CERTIFY";
    case HWSIGN_MSG_STATEMENT_BEGIN:
        return "STATEMENT_BEGIN";
    case HWSIGN_MSG_STATEMENT_DATA:
        return "STATEMENT_DATA";
    case HWSIGN_MSG_STATEMENT_SIGN:
        return "STATEMENT_SIGN";
    case HWSIGN_MSG_KEY_CREATE:
        return "KEY_CREATE";
    case HWSIGN_MSG_KEY_ADD:
        return "KEY_ADD";
    case HWSIGN_MSG_KEY_DELETE:
        return "KEY_DELETE";
    case HWSIGN_MSG_FAILURE:
        return "FAILURE";
    default:
        return NULL;
    }
}

/* ---- requests ---- */

static int put_empty(struct sbuf *out, uint8_t type, uint32_t id)
{
    size_t mark;
    int r = proto_begin(out, type, id, &mark);
    return r < 0 ? r : proto_end(out, mark);
}

int proto_put_status_req(struct sbuf *out, uint32_t id)
{
    return put_empty(out, HWSIGN_MSG_STATUS, id);
}

int proto_put_list_req(struct sbuf *out, uint32_t id)
{
    return put_empty(out, HWSIGN_MSG_LIST_KEYS, id);
}

static bool text_ok(const char *s, size_t max)
{
    return s && strlen(s) <= max;
}

int proto_put_name_req(struct sbuf *out, uint8_t type, uint32_t id, const char *name)
{
    size_t mark;
    int r;

    if (!text_ok(name, HWSIGN_MAX_NAME))
        return -EMSGSIZE;
    r = proto_begin(out, type, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_cstring(out, name);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_sign_req(struct sbuf *out, uint32_t id, const char *key, uint8_t hash, uint8_t scheme,
                       const uint8_t *digest, size_t digest_len)
{
    size_t mark;
    int r;

    if (!text_ok(key, HWSIGN_MAX_NAME) || digest_len > HWSIGN_MAX_DIGEST)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_SIGN_DIGEST, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, key)) < 0 || (r = sbuf_put_u8(out, hash)) < 0 ||
        (r = sbuf_put_u8(out, scheme)) < 0 || (r = sbuf_put_string(out, digest, digest_len)) < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_sign_statement_req(struct sbuf *out, uint32_t id, const char *key,
                                 const char *payload_type, const uint8_t *statement, size_t len)
{
    size_t mark;
    int r;

    if (!text_ok(key, HWSIGN_MAX_NAME) || !text_ok(payload_type, HWSIGN_MAX_PAYLOAD_TYPE) ||
        len > HWSIGN_MAX_STATEMENT)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_SIGN_STATEMENT, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, key)) < 0 || (r = sbuf_put_cstring(out, payload_type)) < 0 ||
        (r = sbuf_put_string(out, statement, len)) < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

static int put_key_req(struct sbuf *out, uint8_t type, uint32_t id, const char *name,
                       const char *backend, const char *third, size_t third_max)
{
    size_t mark;
    int r;

    if (!text_ok(name, HWSIGN_MAX_NAME) || (backend && !text_ok(backend, HWSIGN_MAX_NAME)) ||
        (third && !text_ok(third, third_max)))
        return -EMSGSIZE;
    r = proto_begin(out, type, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, name)) < 0 || (r = sbuf_put_cstring(out, backend)) < 0 ||
        (r = sbuf_put_cstring(out, third)) < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_key_create_req(struct sbuf *out, uint32_t id, const char *name, const char *backend,
                             const char *alg)
{
    return put_key_req(out, HWSIGN_MSG_KEY_CREATE, id, name, backend, alg, HWSIGN_MAX_ALG);
}

int proto_put_key_add_req(struct sbuf *out, uint32_t id, const char *name, const char *backend,
                          const char *uri)
{
    return put_key_req(out, HWSIGN_MSG_KEY_ADD, id, name, backend, uri, HWSIGN_MAX_URI);
}

int proto_put_key_delete_req(struct sbuf *out, uint32_t id, const char *name, bool destroy)
{
    size_t mark;
    int r;

    if (!text_ok(name, HWSIGN_MAX_NAME))
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_KEY_DELETE, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, name)) < 0 || (r = sbuf_put_u8(out, destroy ? 1 : 0)) < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

/* A name field: valid characters, or empty when optional. */
static int get_name(struct sbuf *b, char name[static HWSIGN_MAX_NAME + 1], bool optional)
{
    char tmp[HWSIGN_MAX_NAME + 1];
    int r = sbuf_get_cstring_buf(b, tmp, sizeof(tmp));
    if (r < 0)
        return r;
    if (!(optional && tmp[0] == '\0') && !name_is_valid(tmp))
        return -EINVAL;
    memcpy(name, tmp, sizeof(tmp));
    return 0;
}

int proto_get_name(struct sbuf *body, char name[static HWSIGN_MAX_NAME + 1])
{
    return get_name(body, name, false);
}

int proto_get_empty(struct sbuf *body)
{
    return sbuf_expect_end(body);
}

int proto_get_name_req(struct sbuf *body, char name[static HWSIGN_MAX_NAME + 1])
{
    char tmp[HWSIGN_MAX_NAME + 1];
    int r = get_name(body, tmp, false);
    if (r < 0)
        return r;
    r = sbuf_expect_end(body);
    if (r < 0)
        return r;
    memcpy(name, tmp, sizeof(tmp));
    return 0;
}

int proto_get_sign_req(struct sbuf *body, struct proto_sign_req *ret)
{
    struct proto_sign_req q = {0};
    const uint8_t *d;
    size_t dlen;
    int r;

    if ((r = get_name(body, q.key, false)) < 0 || (r = sbuf_get_u8(body, &q.hash)) < 0 ||
        (r = sbuf_get_u8(body, &q.scheme)) < 0 ||
        (r = sbuf_get_string_direct(body, HWSIGN_MAX_DIGEST, &d, &dlen)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (hash_len(q.hash) == 0 || hash_len(q.hash) != dlen)
        return -EINVAL;
    if (q.scheme != HWSIGN_SCHEME_DEFAULT && q.scheme != HWSIGN_SCHEME_RSA_PSS)
        return -EINVAL;
    memcpy(q.digest, d, dlen);
    q.digest_len = dlen;
    *ret = q;
    return 0;
}

int proto_get_sign_statement_req(struct sbuf *body, struct proto_statement_req *ret)
{
    struct proto_statement_req q = {0};
    int r;

    if ((r = get_name(body, q.key, false)) < 0 ||
        (r = sbuf_get_cstring_buf(body, q.payload_type, sizeof(q.payload_type))) < 0 ||
        (r = sbuf_get_string_direct(body, HWSIGN_MAX_STATEMENT, &q.statement, &q.statement_len)) <
                0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (q.payload_type[0] == '\0' || q.statement_len == 0)
        return -EINVAL;
    *ret = q;
    return 0;
}

static int get_key_req(struct sbuf *body, struct proto_key_req *ret, bool add)
{
    struct proto_key_req q = {0};
    int r;

    if ((r = get_name(body, q.name, false)) < 0 || (r = get_name(body, q.backend, true)) < 0)
        return r;
    if (add)
        r = sbuf_get_cstring_buf(body, q.uri, sizeof(q.uri));
    else
        r = sbuf_get_cstring_buf(body, q.alg, sizeof(q.alg));
    if (r < 0 || (r = sbuf_expect_end(body)) < 0)
        return r;
    *ret = q;
    return 0;
}

int proto_get_key_create_req(struct sbuf *body, struct proto_key_req *ret)
{
    return get_key_req(body, ret, false);
}

int proto_get_key_add_req(struct sbuf *body, struct proto_key_req *ret)
{
    return get_key_req(body, ret, true);
}

int proto_get_key_delete_req(struct sbuf *body, struct proto_key_req *ret)
{
    struct proto_key_req q = {0};
    int r;

    if ((r = get_name(body, q.name, false)) < 0 || (r = sbuf_get_u8(body, &q.destroy)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (q.destroy > 1)
        return -EINVAL;
    *ret = q;
    return 0;
}

/* ---- replies ---- */

int proto_put_failure(struct sbuf *out, uint32_t id, uint32_t code, const char *message)
{
    size_t mark;
    char msg[HWSIGN_MAX_TEXT + 1];
    int r;

    /* Truncate rather than fail: a refusal must always reach the peer. */
    (void)snprintf(msg, sizeof(msg), "%s", message ? message : "");
    r = proto_begin(out, HWSIGN_MSG_FAILURE, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_u32(out, code)) < 0 || (r = sbuf_put_cstring(out, msg)) < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_ok(struct sbuf *out, uint8_t req_type, uint32_t id)
{
    return put_empty(out, HWSIGN_MSG_REPLY | req_type, id);
}

int proto_put_signature(struct sbuf *out, uint32_t id, const uint8_t *sig, size_t sig_len,
                        uint64_t log_index, const char *entry, size_t entry_len)
{
    size_t mark;
    int r;

    if (sig_len > HWSIGN_MAX_SIG || entry_len > HWSIGN_MAX_LOG_ENTRY)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_DIGEST, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_string(out, sig, sig_len);
    if (r >= 0)
        r = sbuf_put_u64(out, log_index);
    if (r >= 0)
        r = sbuf_put_string(out, entry, entry ? entry_len : 0);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_envelope(struct sbuf *out, uint8_t req_type, uint32_t id, const char *json,
                       size_t len, uint64_t log_index, const char *entry, size_t entry_len)
{
    size_t mark;
    int r;

    if (req_type != HWSIGN_MSG_SIGN_STATEMENT && req_type != HWSIGN_MSG_SIGN_PROVENANCE)
        return -EINVAL;
    if (entry_len > HWSIGN_MAX_LOG_ENTRY)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_REPLY | req_type, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_string(out, json, len);
    if (r >= 0)
        r = sbuf_put_u64(out, log_index);
    if (r >= 0)
        r = sbuf_put_string(out, entry, entry ? entry_len : 0);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_log_checkpoint_req(struct sbuf *out, uint32_t id, bool fresh)
{
    size_t mark;
    int r = proto_begin(out, HWSIGN_MSG_LOG_CHECKPOINT, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_u8(out, fresh ? 1 : 0);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_string_reply(struct sbuf *out, uint8_t req_type, uint32_t id, const char *json,
                           size_t len)
{
    size_t mark;
    int r;

    r = proto_begin(out, HWSIGN_MSG_REPLY | req_type, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_string(out, json, len);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

static int put_key_fields(struct sbuf *out, const struct proto_key_view *k)
{
    int r;

    if (k->spki_len > HWSIGN_MAX_SPKI)
        return -EMSGSIZE;
    if ((r = sbuf_put_cstring(out, k->name)) < 0 || (r = sbuf_put_cstring(out, k->backend)) < 0 ||
        (r = sbuf_put_cstring(out, k->kind)) < 0 || (r = sbuf_put_cstring(out, k->alg)) < 0 ||
        (r = sbuf_put_cstring(out, k->locator)) < 0 ||
        (r = sbuf_put_cstring(out, k->allow_users)) < 0 ||
        (r = sbuf_put_cstring(out, k->allow_groups)) < 0 ||
        (r = sbuf_put_u64(out, k->created)) < 0 ||
        (r = sbuf_put_string(out, k->spki, k->spki ? k->spki_len : 0)) < 0)
        return r;
    return 0;
}

int proto_put_key_info(struct sbuf *out, uint8_t req_type, uint32_t id,
                       const struct proto_key_view *k)
{
    size_t mark;
    int r = proto_begin(out, HWSIGN_MSG_REPLY | req_type, id, &mark);
    if (r < 0)
        return r;
    r = put_key_fields(out, k);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_put_key_list_begin(struct sbuf *out, uint32_t id, uint32_t count, size_t *ret_mark)
{
    size_t mark;
    int r = proto_begin(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_LIST_KEYS, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_u32(out, count);
    if (r < 0)
        return abandon(out, mark, r);
    *ret_mark = mark;
    return 0;
}

int proto_put_key_list_entry(struct sbuf *out, const struct proto_key_view *k)
{
    size_t before = sbuf_len(out);
    int r = put_key_fields(out, k);
    if (r < 0)
        return abandon(out, before, r);
    return 0;
}

int proto_put_status(struct sbuf *out, uint32_t id, const char *version, uint64_t uptime_s,
                     uint32_t nkeys, uint32_t nconn, const struct proto_backend_view *b,
                     size_t nbackends)
{
    size_t mark;
    int r;

    if (nbackends > HWSIGN_MAX_BACKENDS)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATUS, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, version)) < 0 || (r = sbuf_put_u64(out, uptime_s)) < 0 ||
        (r = sbuf_put_u32(out, nkeys)) < 0 || (r = sbuf_put_u32(out, nconn)) < 0 ||
        (r = sbuf_put_u32(out, (uint32_t)nbackends)) < 0)
        return abandon(out, mark, r);
    for (size_t i = 0; i < nbackends; i++) {
        char detail[HWSIGN_MAX_TEXT + 1];
        (void)snprintf(detail, sizeof(detail), "%s", b[i].detail ? b[i].detail : "");
        if ((r = sbuf_put_cstring(out, b[i].name)) < 0 ||
            (r = sbuf_put_cstring(out, b[i].kind)) < 0 || (r = sbuf_put_u8(out, b[i].state)) < 0 ||
            (r = sbuf_put_cstring(out, detail)) < 0)
            return abandon(out, mark, r);
    }
    return proto_end(out, mark);
}

int proto_get_failure(struct sbuf *body, uint32_t *ret_code, char **ret_message)
{
    uint32_t code;
    char *msg = NULL;
    int r;

    if ((r = sbuf_get_u32(body, &code)) < 0 ||
        (r = sbuf_get_cstring(body, HWSIGN_MAX_TEXT, &msg)) < 0)
        return r;
    if ((r = sbuf_expect_end(body)) < 0) {
        free(msg);
        return r;
    }
    *ret_code = code;
    *ret_message = msg;
    return 0;
}

/* The log entry closing a signing reply: a string of at most HWSIGN_MAX_LOG_ENTRY bytes, no
 * NUL, empty when the signature was not logged; copied NUL-terminated when ret is non-NULL. */
int proto_get_log_entry(struct sbuf *body, char **ret, size_t *ret_len)
{
    const uint8_t *p;
    size_t len;
    int r = sbuf_get_string_direct(body, HWSIGN_MAX_LOG_ENTRY, &p, &len);

    if (r < 0)
        return r;
    if (memchr(p, 0, len))
        return -EBADMSG;
    if (!ret)
        return 0;
    *ret = malloc(len + 1);
    if (!*ret)
        return -ENOMEM;
    memcpy(*ret, p, len);
    (*ret)[len] = '\0';
    *ret_len = len;
    return 0;
}

int proto_get_signature(struct sbuf *body, uint8_t **ret_sig, size_t *ret_len,
                        uint64_t *ret_log_index, char **ret_entry, size_t *ret_entry_len)
{
    _cleanup_free_ char *entry = NULL;
    const uint8_t *p;
    size_t len, elen = 0;
    uint8_t *sig;
    uint64_t index;
    int r;

    if ((r = sbuf_get_string_direct(body, HWSIGN_MAX_SIG, &p, &len)) < 0 ||
        (r = sbuf_get_u64(body, &index)) < 0 ||
        (r = proto_get_log_entry(body, ret_entry ? &entry : NULL, &elen)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (len == 0)
        return -EBADMSG;
    sig = malloc(len);
    if (!sig)
        return -ENOMEM;
    memcpy(sig, p, len);
    *ret_sig = sig;
    *ret_len = len;
    if (ret_log_index)
        *ret_log_index = index;
    if (ret_entry) {
        *ret_entry = TAKE_PTR(entry);
        *ret_entry_len = elen;
    }
    return 0;
}

int proto_get_statement_reply(struct sbuf *body, char **ret_json, size_t *ret_len,
                              uint64_t *ret_log_index, char **ret_entry, size_t *ret_entry_len)
{
    _cleanup_free_ char *entry = NULL;
    const uint8_t *p;
    size_t len, elen = 0;
    uint64_t index;
    char *json;
    int r;

    if ((r = sbuf_get_string_direct(body, HWSIGN_MAX_MSG, &p, &len)) < 0 ||
        (r = sbuf_get_u64(body, &index)) < 0 ||
        (r = proto_get_log_entry(body, ret_entry ? &entry : NULL, &elen)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (len == 0 || memchr(p, 0, len))
        return -EBADMSG;
    json = malloc(len + 1);
    if (!json)
        return -ENOMEM;
    memcpy(json, p, len);
    json[len] = '\0';
    *ret_json = json;
    *ret_len = len;
    if (ret_log_index)
        *ret_log_index = index;
    if (ret_entry) {
        *ret_entry = TAKE_PTR(entry);
        *ret_entry_len = elen;
    }
    return 0;
}

int proto_get_envelope(struct sbuf *body, char **ret_json, size_t *ret_len)
{
    const uint8_t *p;
    size_t len;
    char *json;
    int r;

    if ((r = sbuf_get_string_direct(body, HWSIGN_MAX_MSG, &p, &len)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (len == 0 || memchr(p, 0, len))
        return -EBADMSG;
    json = malloc(len + 1);
    if (!json)
        return -ENOMEM;
    memcpy(json, p, len);
    json[len] = '\0';
    *ret_json = json;
    *ret_len = len;
    return 0;
}

void proto_key_info_clear(struct hwsign_key_info *k)
{
    if (!k)
        return;
    free(k->name);
    free(k->backend);
    free(k->backend_kind);
    free(k->alg);
    free(k->locator);
    free(k->allow_users);
    free(k->allow_groups);
    free(k->spki);
    memset(k, 0, sizeof(*k));
}

static int get_key_fields(struct sbuf *b, struct hwsign_key_info *ret)
{
    struct hwsign_key_info k = {0};
    const uint8_t *spki;
    int r;

    if ((r = sbuf_get_cstring(b, HWSIGN_MAX_NAME, &k.name)) < 0 ||
        (r = sbuf_get_cstring(b, HWSIGN_MAX_NAME, &k.backend)) < 0 ||
        (r = sbuf_get_cstring(b, HWSIGN_MAX_NAME, &k.backend_kind)) < 0 ||
        (r = sbuf_get_cstring(b, HWSIGN_MAX_ALG, &k.alg)) < 0 ||
        (r = sbuf_get_cstring(b, HWSIGN_MAX_URI, &k.locator)) < 0 ||
        (r = sbuf_get_cstring(b, HWSIGN_MAX_TEXT, &k.allow_users)) < 0 ||
        (r = sbuf_get_cstring(b, HWSIGN_MAX_TEXT, &k.allow_groups)) < 0 ||
        (r = sbuf_get_u64(b, &k.created)) < 0 ||
        (r = sbuf_get_string_direct(b, HWSIGN_MAX_SPKI, &spki, &k.spki_len)) < 0)
        goto fail;
    if (k.spki_len) {
        k.spki = malloc(k.spki_len);
        if (!k.spki) {
            r = -ENOMEM;
            goto fail;
        }
        memcpy(k.spki, spki, k.spki_len);
    }
    *ret = k;
    return 0;
fail:
    proto_key_info_clear(&k);
    return r;
}

int proto_get_key_info(struct sbuf *body, struct hwsign_key_info *ret)
{
    struct hwsign_key_info k;
    int r = get_key_fields(body, &k);
    if (r < 0)
        return r;
    r = sbuf_expect_end(body);
    if (r < 0) {
        proto_key_info_clear(&k);
        return r;
    }
    *ret = k;
    return 0;
}

int proto_get_key_list(struct sbuf *body, struct hwsign_key_info **ret, size_t *ret_n)
{
    struct hwsign_key_info *keys;
    uint32_t n;
    size_t i;
    int r;

    r = sbuf_get_u32(body, &n);
    if (r < 0)
        return r;
    if (n > HWSIGN_MAX_KEYS)
        return -EMSGSIZE;
    keys = calloc(n ? n : 1, sizeof(*keys));
    if (!keys)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        r = get_key_fields(body, &keys[i]);
        if (r < 0)
            goto fail;
    }
    r = sbuf_expect_end(body);
    if (r < 0)
        goto fail;
    *ret = keys;
    *ret_n = n;
    return 0;
fail:
    for (size_t j = 0; j < i; j++)
        proto_key_info_clear(&keys[j]);
    free(keys);
    return r;
}

void proto_status_free(struct hwsign_status *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbackends; i++) {
        free(s->backends[i].name);
        free(s->backends[i].kind);
        free(s->backends[i].detail);
    }
    free(s->backends);
    free(s->version);
    free(s);
}

int proto_get_status(struct sbuf *body, struct hwsign_status **ret)
{
    struct hwsign_status *s;
    uint32_t n;
    int r;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    if ((r = sbuf_get_cstring(body, HWSIGN_MAX_TEXT, &s->version)) < 0 ||
        (r = sbuf_get_u64(body, &s->uptime_s)) < 0 || (r = sbuf_get_u32(body, &s->nkeys)) < 0 ||
        (r = sbuf_get_u32(body, &s->nconnections)) < 0 || (r = sbuf_get_u32(body, &n)) < 0)
        goto fail;
    if (n > HWSIGN_MAX_BACKENDS) {
        r = -EMSGSIZE;
        goto fail;
    }
    s->backends = calloc(n ? n : 1, sizeof(*s->backends));
    if (!s->backends) {
        r = -ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct hwsign_backend_status *b = &s->backends[i];
        uint8_t state;
        s->nbackends = i + 1; /* so proto_status_free releases what was read */
        if ((r = sbuf_get_cstring(body, HWSIGN_MAX_NAME, &b->name)) < 0 ||
            (r = sbuf_get_cstring(body, HWSIGN_MAX_NAME, &b->kind)) < 0 ||
            (r = sbuf_get_u8(body, &state)) < 0 ||
            (r = sbuf_get_cstring(body, HWSIGN_MAX_TEXT, &b->detail)) < 0)
            goto fail;
        b->state = state;
    }
    r = sbuf_expect_end(body);
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    proto_status_free(s);
    return r;
}

/* ---- LOG_PROOF ---- */

int proto_put_log_proof_req(struct sbuf *out, uint32_t id, uint64_t index)
{
    size_t mark;
    int r = proto_begin(out, HWSIGN_MSG_LOG_PROOF, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_u64(out, index);
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_log_proof_req(struct sbuf *body, uint64_t *ret_index)
{
    uint64_t index;
    int r = sbuf_get_u64(body, &index);
    if (r >= 0)
        r = sbuf_expect_end(body);
    if (r < 0)
        return r;
    if (index == HWSIGN_LOG_INDEX_NONE)
        return -EBADMSG;
    *ret_index = index;
    return 0;
}

int proto_put_log_proof(struct sbuf *out, uint32_t id, const struct hwsign_log_proof *p)
{
    size_t mark, nlen;
    int r;

    if (!p || !p->checkpoint || (p->n_hashes > 0 && !p->hashes))
        return -EINVAL;
    nlen = strlen(p->checkpoint);
    if (nlen == 0 || nlen > HWSIGN_MAX_NOTE || p->n_hashes > HWSIGN_MAX_LOG_PROOF)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_LOG_PROOF, id, &mark);
    if (r < 0)
        return r;
    r = sbuf_put_string(out, p->checkpoint, nlen);
    if (r >= 0)
        r = sbuf_put_u64(out, p->tree_size);
    if (r >= 0)
        r = sbuf_put_string(out, p->log_id, sizeof(p->log_id));
    if (r >= 0)
        r = sbuf_put_string(out, p->hashes, p->n_hashes * sizeof(*p->hashes));
    if (r < 0)
        return abandon(out, mark, r);
    return proto_end(out, mark);
}

void hwsign_log_proof_free(struct hwsign_log_proof *p)
{
    if (!p)
        return;
    free(p->hashes);
    free(p->checkpoint);
    free(p);
}

static void log_proof_freep(struct hwsign_log_proof **p)
{
    hwsign_log_proof_free(*p);
    *p = NULL;
}

int proto_get_log_proof(struct sbuf *body, uint64_t index, struct hwsign_log_proof **ret)
{
    _cleanup_(log_proof_freep) struct hwsign_log_proof *p = NULL;
    const uint8_t *note, *id, *hashes;
    size_t nlen, idlen, hlen;
    int r;

    if ((r = sbuf_get_string_direct(body, HWSIGN_MAX_NOTE, &note, &nlen)) < 0)
        return r;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    if ((r = sbuf_get_u64(body, &p->tree_size)) < 0 ||
        (r = sbuf_get_string_direct(body, 32, &id, &idlen)) < 0 ||
        (r = sbuf_get_string_direct(body, HWSIGN_MAX_LOG_PROOF * 32u, &hashes, &hlen)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (nlen == 0 || memchr(note, 0, nlen) || idlen != 32 || hlen % 32 != 0 ||
        index >= p->tree_size)
        return -EBADMSG;
    p->index = index;
    memcpy(p->log_id, id, 32);
    p->n_hashes = hlen / 32;
    if (p->n_hashes > 0) {
        p->hashes = malloc(hlen);
        if (!p->hashes)
            return -ENOMEM;
        memcpy(p->hashes, hashes, hlen);
    }
    p->checkpoint = strndup((const char *)note, nlen);
    if (!p->checkpoint)
        return -ENOMEM;
    *ret = TAKE_PTR(p);
    return 0;
}
