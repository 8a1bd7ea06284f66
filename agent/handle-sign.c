/* SPDX-License-Identifier: Apache-2.0 */
/* SIGN_DIGEST: policy, key lookup, device job, verified signature back to the peer. */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "agent.h"
#include "conn.h"
#include "crypto.h"
#include "dispatch.h"
#include "journal.h"
#include "policy.h"
#include "proto.h"

int handle_sign_digest(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_sign_req q;
    const struct key_record *k;
    struct backend_slot *s;
    struct job *j;
    int r;

    r = proto_get_sign_req(body, &q);
    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_SIGN_DIGEST, r);
    /* Policy first, so a refused peer learns nothing about which keys exist. */
    if (!policy_may_use_key(a->cfg, q.key, &c->peer)) {
        struct log_fields f = {.msgid = LOG_ID_REQUEST_DENIED, .peer = &c->peer, .key = q.key};
        log_event(LOG_WARNING, &f, "refused signature: uid %u may not use key '%s'",
                  (unsigned)c->peer.uid, q.key);
        conn_reply_error(a, c, id, -EACCES, "uid %u may not use key '%s'", (unsigned)c->peer.uid,
                         q.key);
        return -EACCES;
    }
    k = keystore_find(a->keys, q.key);
    if (!k) {
        conn_reply_error(a, c, id, -ENOKEY, "no key named '%s'", q.key);
        return -ENOKEY;
    }
    /* A statements-only key is never a blind signing oracle, whoever asks. */
    if (!policy_key_allows_digests(a->cfg, k->name)) {
        struct log_fields f = {.msgid = LOG_ID_REQUEST_DENIED, .peer = &c->peer, .key = q.key};
        log_event(LOG_WARNING, &f, "refused raw digest: key '%s' signs statements only", q.key);
        conn_reply_error(a, c, id, -EACCES,
                         "key '%s' may not sign raw digests (allow-digests = no); sign an in-toto "
                         "statement instead",
                         q.key);
        return -EACCES;
    }
    if (q.scheme == HWSIGN_SCHEME_RSA_PSS && k->alg != HWSIGN_ALG_RSA_3072) {
        conn_reply_error(a, c, id, -EINVAL, "RSA-PSS requested for %s key '%s'", alg_name(k->alg),
                         k->name);
        return -EINVAL;
    }
    s = agent_backend_of_key(a, k);
    if (!s) {
        conn_reply_error(a, c, id, -ENODEV,
                         "key '%s' belongs to backend '%s', which is not configured", k->name,
                         k->backend);
        return -ENODEV;
    }
    j = job_new(JOB_SIGN);
    if (!j) {
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    memcpy(j->key, k->name, sizeof(j->key));
    memcpy(j->locator, k->locator, sizeof(j->locator));
    j->alg = k->alg;
    j->hash = q.hash;
    j->scheme = q.scheme;
    memcpy(j->digest, q.digest, q.digest_len);
    j->digest_len = q.digest_len;
    /* A reference, not a copy: the key may be deleted while the job waits. */
    if (EVP_PKEY_up_ref(k->pub) != 1) {
        job_free(j);
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    j->pub = k->pub;
    return dispatch_submit(a, c, s, j, id, HWSIGN_MSG_SIGN_DIGEST);
}

static const char *backend_name_of(struct agent *a, const struct job *j)
{
    const struct key_record *k = keystore_find(a->keys, j->key);
    return k ? k->backend : NULL;
}

static void sign_done(struct agent *a, struct conn *c, struct job *j)
{
    struct log_fields f = {
            .peer = c ? &c->peer : NULL, .key = j->key, .backend = backend_name_of(a, j)};

    if (j->result < 0) {
        f.native = j->errmsg[0] ? j->errmsg : NULL;
        log_event(LOG_ERR, &f, "signing with key '%s' failed: %s", j->key,
                  dispatch_strerror(j->result));
        if (c)
            conn_reply_error(a, c, j->req_id, j->result, "backend '%s': %s%s%s", j->backend,
                             dispatch_strerror(j->result), j->errmsg[0] ? "; " : "", j->errmsg);
        return;
    }
    f.msgid = LOG_ID_SIGNED;
    log_event(LOG_INFO, &f, "signed a %s digest with key '%s'", hash_name(j->hash), j->key);
    if (c && proto_put_signature(c->out, j->req_id, j->sig, j->sig_len) < 0)
        c->close_after_flush = true;
}

void handle_job_done(struct agent *a, struct conn *c, struct job *j)
{
    uint64_t id = c ? c->id : 0;

    if (c)
        c->busy = false;
    if (j->kind == JOB_SIGN)
        sign_done(a, c, j);
    else
        handle_key_job_done(a, c, j);
    if (c && conn_by_id(a, id))
        conn_process(a, c);
}
