/* SPDX-License-Identifier: Apache-2.0 */
/* libhwsign: blocking request/reply client of hwsign-agent (see hwsign.h). */
#include <hwsign/hwsign.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "dsse.h"
#include "fd-util.h"
#include "proto-attest.h"
#include "proto-stage.h"
#include "proto.h"
#include "sbuf.h"

#define CLIENT_DEFAULT_SOCKET "/run/hwsign/agent.sock"
/* Replies to key generation (RSA-3072 on a slow token) can take long; never wait forever. */
#define CLIENT_REPLY_TIMEOUT_S 120
/* A staged statement refused as BUSY (the agent holds others) is retried for this long, with
 * pauses from CLIENT_STAGE_PAUSE_MIN_MS doubling to CLIENT_STAGE_PAUSE_MAX_MS. */
#define CLIENT_STAGE_RETRY_MS     30000u
#define CLIENT_STAGE_PAUSE_MIN_MS 50u
#define CLIENT_STAGE_PAUSE_MAX_MS 1000u

struct hwsign_client {
    int fd;
    uint32_t next_id;
    uint64_t last_log_index;
    char *last_log_entry; /* NULL or the entry of last_log_index */
    size_t last_log_entry_len;
    uint32_t last_failure; /* error code of the last FAILURE reply, 0 after any other */
    char error[HWSIGN_MAX_TEXT + 64];
};

_printf_(2, 3) static int set_error(struct hwsign_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    return 0;
}

const char *hwsign_default_socket(void)
{
    static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *e = getenv("HWSIGN_AGENT_SOCK");
    const char *xdg;
    int n;

    if (e && *e)
        return e;
    if (geteuid() == 0)
        return CLIENT_DEFAULT_SOCKET;
    xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg) {
        n = snprintf(path, sizeof(path), "%s/hwsign/agent.sock", xdg);
        if (n > 0 && (size_t)n < sizeof(path))
            return path;
    }
    return CLIENT_DEFAULT_SOCKET;
}

int hwsign_connect(const char *path, struct hwsign_client **ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = CLIENT_REPLY_TIMEOUT_S};
    struct hwsign_client *c;
    int fd;

    if (!path)
        path = hwsign_default_socket();
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return negative_errno();
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = negative_errno();
        close(fd);
        return r;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->fd = fd;
    c->next_id = 1;
    c->last_log_index = HWSIGN_LOG_INDEX_NONE;
    *ret = c;
    return 0;
}

struct hwsign_client *hwsign_disconnect(struct hwsign_client *c)
{
    if (!c)
        return NULL;
    if (c->fd >= 0)
        close(c->fd);
    free(c->last_log_entry);
    free(c);
    return NULL;
}

uint64_t hwsign_last_log_index(const struct hwsign_client *c)
{
    return c ? c->last_log_index : HWSIGN_LOG_INDEX_NONE;
}

const char *hwsign_last_log_entry(const struct hwsign_client *c, size_t *ret_len)
{
    if (!c || !c->last_log_entry) {
        if (ret_len)
            *ret_len = 0;
        return "";
    }
    if (ret_len)
        *ret_len = c->last_log_entry_len;
    return c->last_log_entry;
}

/* A new signing reply replaces the remembered log entry. */
static void forget_log_entry(struct hwsign_client *c)
{
    free(c->last_log_entry);
    c->last_log_entry = NULL;
    c->last_log_entry_len = 0;
    c->last_log_index = HWSIGN_LOG_INDEX_NONE;
}

const char *hwsign_client_error(const struct hwsign_client *c)
{
    return c && c->error[0] ? c->error : "no error";
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Sends the request in req (one frame) and reads the reply into a new body buffer.
 * Returns the reply type's check: on HWSIGN_MSG_FAILURE the agent's error becomes -errno and
 * its message is kept in c->error. Otherwise *ret_body holds the reply body after the header.
 */
static int transact(struct hwsign_client *c, struct sbuf *req, uint32_t id, uint8_t req_type,
                    struct sbuf **ret_body)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    uint8_t hdr[HWSIGN_FRAME_HEADER], type;
    uint32_t len, rid;
    uint8_t *p;
    int r, send_r;

    c->error[0] = '\0';
    c->last_failure = 0;
    r = send_all(c->fd, sbuf_ptr(req), sbuf_len(req));
    if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
        set_error(c, "sending to agent: %s", strerror(-r));
        return r;
    }
    /* Even when the agent closed early (a refused peer), its reason may be waiting to be read. */
    send_r = r;
    r = fd_read_exact(c->fd, hdr, sizeof(hdr));
    if (r < 0 && send_r < 0) {
        set_error(c, "agent closed the connection: %s", strerror(-send_r));
        return send_r;
    }
    if (r < 0) {
        if (r == -EAGAIN)
            r = -ETIMEDOUT;
        set_error(c, "reading reply from agent: %s",
                  r == -EPIPE ? "connection closed by agent" : strerror(-r));
        return r == -EPIPE ? -ECONNRESET : r;
    }
    len = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
    if (len < HWSIGN_MSG_HEADER || len > HWSIGN_MAX_MSG) {
        set_error(c, "agent sent a reply of invalid length %u", len);
        return -EBADMSG;
    }
    body = sbuf_new(len);
    if (!body)
        return -ENOMEM;
    r = sbuf_reserve(body, len, &p);
    if (r < 0)
        return r;
    r = fd_read_exact(c->fd, p, len);
    if (r < 0) {
        set_error(c, "reading reply from agent: %s", strerror(-r));
        return r == -EPIPE ? -ECONNRESET : r;
    }
    r = proto_get_header(body, &type, &rid);
    if (r < 0)
        return r;
    /* A connection-level refusal carries id 0: it answers whatever we sent. */
    if (rid != id && !(rid == 0 && type == HWSIGN_MSG_FAILURE)) {
        set_error(c, "agent replied to request %u, expected %u", rid, id);
        return -EPROTO;
    }
    if (type == HWSIGN_MSG_FAILURE) {
        _cleanup_free_ char *msg = NULL;
        uint32_t code;
        r = proto_get_failure(body, &code, &msg);
        if (r < 0) {
            set_error(c, "agent sent a malformed failure reply");
            return -EBADMSG;
        }
        set_error(c, "%s", msg[0] ? msg : proto_error_name(code));
        c->last_failure = code;
        return proto_error_to_errno(code);
    }
    if (type != (HWSIGN_MSG_REPLY | req_type)) {
        set_error(c, "agent sent reply type 0x%02x to request type 0x%02x", type, req_type);
        return -EPROTO;
    }
    *ret_body = TAKE_PTR(body);
    return 0;
}

/* Encodes with enc into a fresh buffer and runs the transaction. */
#define CALL(c, req_type, ret_body, encode_expr)                                                   \
    ({                                                                                             \
        _cleanup_(sbuf_freep) struct sbuf *_req = sbuf_new(HWSIGN_MAX_MSG + HWSIGN_FRAME_HEADER);  \
        uint32_t _id = (c)->next_id++;                                                             \
        int _r;                                                                                    \
        if (!_req)                                                                                 \
            _r = -ENOMEM;                                                                          \
        else {                                                                                     \
            struct sbuf *out = _req;                                                               \
            uint32_t id = _id;                                                                     \
            _r = (encode_expr);                                                                    \
            if (_r < 0)                                                                            \
                set_error((c), "cannot encode request: %s", strerror(-_r));                        \
            else                                                                                   \
                _r = transact((c), _req, _id, (req_type), (ret_body));                             \
        }                                                                                          \
        _r;                                                                                        \
    })

static int decode_failed(struct hwsign_client *c, int r)
{
    set_error(c, "malformed reply from agent: %s", strerror(-r));
    return r == -ENOMEM ? r : -EBADMSG;
}

int hwsign_status(struct hwsign_client *c, struct hwsign_status **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_STATUS, &body, proto_put_status_req(out, id));
    if (r < 0)
        return r;
    r = proto_get_status(body, ret);
    return r < 0 ? decode_failed(c, r) : 0;
}

void hwsign_status_free(struct hwsign_status *s)
{
    proto_status_free(s);
}

int hwsign_list_keys(struct hwsign_client *c, struct hwsign_key_info **ret_keys, size_t *ret_n)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_LIST_KEYS, &body, proto_put_list_req(out, id));
    if (r < 0)
        return r;
    r = proto_get_key_list(body, ret_keys, ret_n);
    return r < 0 ? decode_failed(c, r) : 0;
}

static int key_info_reply(struct hwsign_client *c, struct sbuf *body, struct hwsign_key_info **ret)
{
    struct hwsign_key_info *k = calloc(1, sizeof(*k));
    int r;

    if (!k)
        return -ENOMEM;
    r = proto_get_key_info(body, k);
    if (r < 0) {
        free(k);
        return decode_failed(c, r);
    }
    if (ret)
        *ret = k;
    else
        hwsign_key_info_free(k);
    return 0;
}

int hwsign_key_info(struct hwsign_client *c, const char *name, struct hwsign_key_info **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_KEY_INFO, &body,
                 proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, id, name));
    if (r < 0)
        return r;
    return key_info_reply(c, body, ret);
}

void hwsign_key_info_free(struct hwsign_key_info *k)
{
    proto_key_info_clear(k);
    free(k);
}

void hwsign_key_list_free(struct hwsign_key_info *k, size_t n)
{
    if (!k)
        return;
    for (size_t i = 0; i < n; i++)
        proto_key_info_clear(&k[i]);
    free(k);
}

int hwsign_get_public_key(struct hwsign_client *c, const char *name, uint8_t **ret_spki,
                          size_t *ret_len)
{
    struct hwsign_key_info *k = NULL;
    int r = hwsign_key_info(c, name, &k);
    if (r < 0)
        return r;
    if (!k->spki) {
        hwsign_key_info_free(k);
        set_error(c, "agent returned no public key for '%s'", name);
        return -EBADMSG;
    }
    *ret_spki = TAKE_PTR(k->spki);
    *ret_len = k->spki_len;
    hwsign_key_info_free(k);
    return 0;
}

int hwsign_sign_digest(struct hwsign_client *c, const char *key, enum hwsign_hash hash,
                       enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                       uint8_t **ret_sig, size_t *ret_sig_len)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r;

    if (hash_len(hash) == 0 || hash_len(hash) != digest_len) {
        set_error(c, "digest length %zu does not match the hash algorithm", digest_len);
        return -EINVAL;
    }
    r = CALL(c, HWSIGN_MSG_SIGN_DIGEST, &body,
             proto_put_sign_req(out, id, key, (uint8_t)hash, (uint8_t)scheme, digest, digest_len));
    if (r < 0)
        return r;
    forget_log_entry(c);
    r = proto_get_signature(body, ret_sig, ret_sig_len, &c->last_log_index, &c->last_log_entry,
                            &c->last_log_entry_len);
    return r < 0 ? decode_failed(c, r) : 0;
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* STATEMENT_BEGIN, retried while the agent answers BUSY (its staging budget is in use). */
static int stage_begin(struct hwsign_client *c, const char *key, const char *payload_type,
                       size_t len)
{
    unsigned waited = 0, pause = CLIENT_STAGE_PAUSE_MIN_MS;

    for (;;) {
        _cleanup_(sbuf_freep) struct sbuf *body = NULL;
        int r = CALL(c, HWSIGN_MSG_STATEMENT_BEGIN, &body,
                     proto_put_stage_begin_req(out, id, key, payload_type, len));
        if (r >= 0) {
            r = proto_get_empty(body);
            return r < 0 ? decode_failed(c, r) : 0;
        }
        if (c->last_failure != HWSIGN_ERR_BUSY || waited >= CLIENT_STAGE_RETRY_MS)
            return r;
        pause_ms(pause);
        waited += pause;
        pause = pause * 2 > CLIENT_STAGE_PAUSE_MAX_MS ? CLIENT_STAGE_PAUSE_MAX_MS : pause * 2;
    }
}

/*
 * A statement too large for one frame: staged in chunks, signed, and wrapped here in the DSSE
 * envelope the agent built (and logged the hash of) from the same statement, signature and keyid.
 */
static int sign_statement_staged(struct hwsign_client *c, const char *key, const char *payload_type,
                                 const uint8_t *statement, size_t len, char **ret_envelope,
                                 size_t *ret_len)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    struct proto_stage_signature sig = {0};
    struct dsse_signature ds;
    size_t sent = 0;
    int r;

    if (len > HWSIGN_MAX_STAGED_STATEMENT) {
        set_error(c, "the statement has %zu bytes; the agent signs at most %u", len,
                  HWSIGN_MAX_STAGED_STATEMENT);
        return -EMSGSIZE;
    }
    r = stage_begin(c, key, payload_type, len);
    if (r < 0)
        return r;
    while (sent < len) {
        size_t n = len - sent < HWSIGN_MAX_STAGE_CHUNK ? len - sent : HWSIGN_MAX_STAGE_CHUNK;
        uint64_t received = 0;

        body = sbuf_free(body);
        r = CALL(c, HWSIGN_MSG_STATEMENT_DATA, &body,
                 proto_put_stage_data_req(out, id, statement + sent, n));
        if (r < 0)
            return r;
        r = proto_get_stage_data_reply(body, &received);
        if (r < 0)
            return decode_failed(c, r);
        sent += n;
        if (received != sent) {
            set_error(c, "agent acknowledged %llu staged bytes, %zu were sent",
                      (unsigned long long)received, sent);
            return -EPROTO;
        }
    }
    body = sbuf_free(body);
    r = CALL(c, HWSIGN_MSG_STATEMENT_SIGN, &body, proto_put_stage_sign_req(out, id));
    if (r < 0)
        return r;
    forget_log_entry(c);
    r = proto_get_stage_signature(body, &sig);
    if (r < 0)
        return decode_failed(c, r);
    ds = (struct dsse_signature){.keyid = sig.keyid, .sig = sig.sig, .sig_len = sig.sig_len};
    r = dsse_envelope_encode(payload_type, statement, len, &ds, 1, ret_envelope, ret_len);
    if (r < 0)
        set_error(c, "cannot build the DSSE envelope: %s", strerror(-r));
    else {
        c->last_log_index = sig.log_index;
        c->last_log_entry = TAKE_PTR(sig.entry);
        c->last_log_entry_len = sig.entry_len;
    }
    proto_stage_signature_clear(&sig);
    return r;
}

int hwsign_sign_statement(struct hwsign_client *c, const char *key, const char *payload_type,
                          const uint8_t *statement, size_t statement_len, char **ret_envelope,
                          size_t *ret_len)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r;

    if (statement_len > HWSIGN_MAX_STATEMENT)
        return sign_statement_staged(c, key, payload_type, statement, statement_len, ret_envelope,
                                     ret_len);
    r = CALL(c, HWSIGN_MSG_SIGN_STATEMENT, &body,
             proto_put_sign_statement_req(out, id, key, payload_type, statement, statement_len));
    if (r < 0)
        return r;
    forget_log_entry(c);
    r = proto_get_statement_reply(body, ret_envelope, ret_len, &c->last_log_index,
                                  &c->last_log_entry, &c->last_log_entry_len);
    return r < 0 ? decode_failed(c, r) : 0;
}

int hwsign_sign_provenance(struct hwsign_client *c, const char *key, const char *claims,
                           size_t claims_len, char **ret_envelope, size_t *ret_len)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_SIGN_PROVENANCE, &body,
                 proto_put_sign_provenance_req(out, id, key, claims, claims_len));
    if (r < 0)
        return r;
    forget_log_entry(c);
    r = proto_get_statement_reply(body, ret_envelope, ret_len, &c->last_log_index,
                                  &c->last_log_entry, &c->last_log_entry_len);
    return r < 0 ? decode_failed(c, r) : 0;
}

int hwsign_tpm_quote(struct hwsign_client *c, const uint8_t nonce[32], const char *selection,
                     struct hwsign_tpm_evidence **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r;

    if (!nonce || !ret)
        return -EINVAL;
    r = CALL(c, HWSIGN_MSG_TPM_QUOTE, &body, proto_put_tpm_quote_req(out, id, nonce, selection));
    if (r < 0)
        return r;
    r = proto_get_tpm_evidence(body, HWSIGN_MSG_TPM_QUOTE, ret);
    return r < 0 ? decode_failed(c, r) : 0;
}

int hwsign_key_certify(struct hwsign_client *c, const char *key, const uint8_t nonce[32],
                       struct hwsign_tpm_evidence **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r;

    if (!key || !nonce || !ret)
        return -EINVAL;
    r = CALL(c, HWSIGN_MSG_KEY_CERTIFY, &body, proto_put_key_certify_req(out, id, key, nonce));
    if (r < 0)
        return r;
    r = proto_get_tpm_evidence(body, HWSIGN_MSG_KEY_CERTIFY, ret);
    return r < 0 ? decode_failed(c, r) : 0;
}

int hwsign_log_proof(struct hwsign_client *c, uint64_t index, struct hwsign_log_proof **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r;

    if (!ret)
        return -EINVAL;
    r = CALL(c, HWSIGN_MSG_LOG_PROOF, &body, proto_put_log_proof_req(out, id, index));
    if (r < 0)
        return r;
    r = proto_get_log_proof(body, index, ret);
    return r < 0 ? decode_failed(c, r) : 0;
}

int hwsign_log_checkpoint(struct hwsign_client *c, int fresh, char **ret_note)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    size_t len;
    int r = CALL(c, HWSIGN_MSG_LOG_CHECKPOINT, &body,
                 proto_put_log_checkpoint_req(out, id, fresh != 0));
    if (r < 0)
        return r;
    r = proto_get_envelope(body, ret_note, &len);
    return r < 0 ? decode_failed(c, r) : 0;
}

int hwsign_key_create(struct hwsign_client *c, const char *name, const char *backend,
                      const char *alg, struct hwsign_key_info **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_KEY_CREATE, &body,
                 proto_put_key_create_req(out, id, name, backend ? backend : "",
                                          alg ? alg : "ecdsa-p256"));
    if (r < 0)
        return r;
    return key_info_reply(c, body, ret);
}

int hwsign_key_add(struct hwsign_client *c, const char *name, const char *backend, const char *uri,
                   struct hwsign_key_info **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_KEY_ADD, &body,
                 proto_put_key_add_req(out, id, name, backend ? backend : "", uri));
    if (r < 0)
        return r;
    return key_info_reply(c, body, ret);
}

int hwsign_key_delete(struct hwsign_client *c, const char *name, int destroy)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    int r = CALL(c, HWSIGN_MSG_KEY_DELETE, &body,
                 proto_put_key_delete_req(out, id, name, destroy != 0));
    if (r < 0)
        return r;
    r = proto_get_empty(body);
    return r < 0 ? decode_failed(c, r) : 0;
}
