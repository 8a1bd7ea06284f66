/* SPDX-License-Identifier: Apache-2.0 */
#include "dispatch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "auditlog.h"
#include "conn.h"
#include "journal.h"
#include "policy.h"
#include "proto.h"

/* Routing lives beside the dispatcher (not in main.c) so hwsign_agent_core links on its own. */
struct backend_slot *agent_backend(struct agent *a, const char *name)
{
    if (!name || !name[0])
        return a->nbackends == 1 ? &a->backends[0] : NULL;
    for (size_t i = 0; i < a->nbackends; i++)
        if (streq(a->backends[i].b->name, name))
            return &a->backends[i];
    return NULL;
}

struct backend_slot *agent_backend_of_key(struct agent *a, const struct key_record *k)
{
    struct backend_slot *s = agent_backend(a, k->backend);
    return s && streq(s->b->ops->kind, k->kind) ? s : NULL;
}

static const struct dispatch_entry dispatch_table[] = {
        {HWSIGN_MSG_STATUS, DISPATCH_WHILE_STOP, handle_status},
        {HWSIGN_MSG_LIST_KEYS, DISPATCH_WHILE_STOP, handle_list_keys},
        {HWSIGN_MSG_KEY_INFO, DISPATCH_WHILE_STOP, handle_key_info},
        {HWSIGN_MSG_SIGN_DIGEST, 0, handle_sign_digest},
        {HWSIGN_MSG_SIGN_STATEMENT, 0, handle_sign_statement},
        {HWSIGN_MSG_LOG_CHECKPOINT, DISPATCH_WHILE_STOP, handle_log_checkpoint},
        {HWSIGN_MSG_LOG_PROOF, DISPATCH_WHILE_STOP, handle_log_proof},
        {HWSIGN_MSG_SIGN_PROVENANCE, 0, handle_sign_provenance},
        {HWSIGN_MSG_TPM_QUOTE, 0, handle_tpm_quote},
        {HWSIGN_MSG_KEY_CERTIFY, 0, handle_key_certify},
        {HWSIGN_MSG_STATEMENT_BEGIN, 0, handle_statement_begin},
        {HWSIGN_MSG_STATEMENT_DATA, 0, handle_statement_data},
        {HWSIGN_MSG_STATEMENT_SIGN, 0, handle_statement_sign},
        {HWSIGN_MSG_KEY_CREATE, DISPATCH_ADMIN, handle_key_create},
        {HWSIGN_MSG_KEY_ADD, DISPATCH_ADMIN, handle_key_add},
        {HWSIGN_MSG_KEY_DELETE, DISPATCH_ADMIN, handle_key_delete},
};

int dispatch_message(struct agent *a, struct conn *c, struct sbuf *body)
{
    const struct dispatch_entry *e = NULL;
    uint8_t type;
    uint32_t id;
    int r;

    r = proto_get_header(body, &type, &id);
    if (r < 0) {
        conn_reply_error(a, c, 0, -EBADMSG, "message shorter than its header");
        return r;
    }
    /* A staged statement lives only through an unbroken BEGIN, DATA..., SIGN sequence. */
    if (type != HWSIGN_MSG_STATEMENT_DATA && type != HWSIGN_MSG_STATEMENT_SIGN)
        stage_drop(a, c);
    for (size_t i = 0; i < ELEMENTSOF(dispatch_table); i++)
        if (dispatch_table[i].type == type) {
            e = &dispatch_table[i];
            break;
        }
    if (!e) {
        conn_reply_error(a, c, id, -EOPNOTSUPP, "unsupported message type %u", type);
        return -EOPNOTSUPP;
    }
    if (a->stopping && !(e->flags & DISPATCH_WHILE_STOP)) {
        conn_reply_error(a, c, id, -ESHUTDOWN, "agent is stopping");
        return -ESHUTDOWN;
    }
    if ((e->flags & DISPATCH_ADMIN) && !policy_is_admin(a->cfg, &c->peer)) {
        struct log_fields f = {.msgid = LOG_ID_REQUEST_DENIED, .peer = &c->peer};
        log_event(LOG_WARNING, &f, "refused %s: uid %u is not an agent administrator",
                  proto_msg_name(type), (unsigned)c->peer.uid);
        conn_reply_error(a, c, id, -EACCES, "%s needs an agent administrator; uid %u is not one",
                         proto_msg_name(type), (unsigned)c->peer.uid);
        return -EACCES;
    }
    return e->handler(a, c, id, body);
}

/* Turns a decode error into the reply every handler gives for a malformed body. */
int dispatch_malformed(struct agent *a, struct conn *c, uint32_t id, uint8_t type, int r)
{
    if (r == -EMSGSIZE)
        conn_reply_error(a, c, id, -EMSGSIZE, "%s: a field exceeds its size limit",
                         proto_msg_name(type));
    else if (r == -EINVAL)
        conn_reply_error(a, c, id, -EINVAL, "%s: invalid field value", proto_msg_name(type));
    else
        conn_reply_error(a, c, id, -EBADMSG, "%s: malformed request body", proto_msg_name(type));
    return r;
}

int dispatch_submit(struct agent *a, struct conn *c, struct backend_slot *s, struct job *j,
                    uint32_t id, uint8_t type)
{
    return dispatch_submit_to(a, c, s->w, s->b->name, s->b->ops->kind, j, id, type);
}

int dispatch_submit_to(struct agent *a, struct conn *c, struct worker *w, const char *name,
                       const char *kind, struct job *j, uint32_t id, uint8_t type)
{
    uint64_t now = now_ms();
    int r;

    j->conn_id = c->id;
    j->conn_seq = c->seq;
    j->req_id = id;
    j->req_type = type;
    j->deadline_ms = now + a->cfg->request_timeout_ms;
    (void)snprintf(j->backend, sizeof(j->backend), "%s", name);
    j->log_seq = HWSIGN_LOG_INDEX_NONE; /* until the signing log records it */
    j->peer_uid = c->peer.uid;
    j->peer_gid = c->peer.gid;
    j->peer_pid = (uint32_t)c->peer.pid;
    (void)snprintf(j->peer_exe, sizeof(j->peer_exe), "%s", c->peer.exe);
    (void)snprintf(j->peer_unit, sizeof(j->peer_unit), "%s", c->peer.unit);
    (void)snprintf(j->backend_kind, sizeof(j->backend_kind), "%s", kind);
    r = worker_submit(w, j);
    if (r < 0) {
        conn_reply_error(a, c, id, r == -EBUSY ? -ETIMEDOUT : r,
                         r == -EBUSY ? "backend '%s' has too many queued requests"
                                     : "backend '%s' is stopping",
                         name);
        job_free(j);
        return r;
    }
    c->busy = true;
    c->pending_id = id;
    c->pending_type = type;
    c->pending_deadline_ms = j->deadline_ms;
    return 1;
}

const char *dispatch_strerror(int err)
{
    switch (-err) {
    case EKEYREJECTED:
        return "the token rejected the configured PIN (not retried; fix the PIN and restart)";
    case EKEYREVOKED:
    case EKEYEXPIRED:
        return "locked out: the token's PIN is locked or expired, or the TPM is in "
               "dictionary-attack lockout";
    case EBUSY:
        return "the device stayed busy (TPM_RC_RETRY/YIELDED/TESTING) until the deadline";
    case ENODEV:
        return "the token or device is unavailable";
    case ETIMEDOUT:
        return "the device did not answer before the deadline";
    case ENOTRECOVERABLE:
        return "the device returned a signature that does not verify";
    case ESHUTDOWN:
        return "the agent is stopping";
    case ENOKEY:
        return "no such key on the device";
    default:
        return strerror(-err);
    }
}

bool dispatch_signing_allowed(struct agent *a, struct conn *c, uint32_t id)
{
    if (!a->log || !auditlog_failed(a->log))
        return true;
    conn_reply_error(a, c, id, -ENODEV,
                     "signing is suspended: the signing log failed (%s); the agent resumes "
                     "when it can write its log again",
                     auditlog_error(a->log));
    return false;
}
