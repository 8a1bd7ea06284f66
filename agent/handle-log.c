/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints of the signing log: a C2SP tlog-checkpoint (origin, tree size, RFC 6962 root) in
 * signed-note form, signed by the configured log key (ECDSA P-256 in the TPM or HSM; note
 * signature type 0x02, key ID = SHA-256(DER SPKI)[:4], signature = DER ECDSA over
 * SHA-256(text)). Issued every checkpoint-records records or checkpoint-interval while records
 * wait, and on demand (LOG_CHECKPOINT fresh). The latest is kept in STATE/log/checkpoint.
 * Checkpoint signatures are not themselves log records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent.h"
#include "auditlog.h"
#include "checkpoint.h"
#include "conn.h"
#include "crypto.h"
#include "dispatch.h"
#include "fd-util.h"
#include "journal.h"
#include "note.h"
#include "policy.h"
#include "proto.h"
#include "worker.h"

#define CHECKPOINT_FILE     "log/checkpoint"
#define CHECKPOINT_PATH_MAX 4096u

static int checkpoint_path(const struct agent *a, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/" CHECKPOINT_FILE, a->cfg->state_dir);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *origin(struct agent *a)
{
    static char fallback[HWSIGN_MAX_NAME * 4];
    char host[256];

    if (a->cfg->log_origin[0])
        return a->cfg->log_origin;
    if (!fallback[0]) {
        if (gethostname(host, sizeof(host)) < 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        (void)snprintf(fallback, sizeof(fallback), "hwsign/%s", host[0] ? host : "localhost");
    }
    return fallback;
}

int checkpoint_load(struct agent *a)
{
    char path[CHECKPOINT_PATH_MAX];
    _cleanup_free_ uint8_t *data = NULL;
    struct note *n = NULL;
    struct checkpoint *cp = NULL;
    size_t len;
    int r;

    if (!a->log)
        return 0;
    r = checkpoint_path(a, path, sizeof(path));
    if (r < 0)
        return r;
    r = read_file_bounded(path, NOTE_MAX_SIZE, &data, &len);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    r = note_parse((const char *)data, len, &n);
    if (r >= 0) {
        size_t tlen;
        const char *text = note_text(n, &tlen);
        r = checkpoint_parse(text, tlen, &cp);
    }
    if (r >= 0 && cp->size > auditlog_size(a->log))
        r = -ESTALE; /* the log is shorter than what we once signed: rollback */
    if (r >= 0) {
        a->checkpoint = strdup((const char *)data);
        a->checkpoint_size = cp->size;
        a->checkpoint_ms = now_ms();
        r = a->checkpoint ? 0 : -ENOMEM;
    }
    checkpoint_free(cp);
    note_free(n);
    return r;
}

void checkpoint_maybe_issue(struct agent *a, bool force)
{
    const struct key_record *k;
    struct backend_slot *s;
    uint8_t root[LOGREC_HASH], digest[32];
    _cleanup_free_ char *text = NULL;
    size_t len;
    uint64_t size;
    struct job *j;
    int r;

    if (!a->log || !a->cfg->log_key[0] || a->checkpoint_pending || auditlog_failed(a->log))
        return;
    size = auditlog_size(a->log);
    if (a->checkpoint && size == a->checkpoint_size)
        return;
    if (!force && size - a->checkpoint_size < a->cfg->checkpoint_records &&
        now_ms() - a->checkpoint_ms < a->cfg->checkpoint_interval_ms)
        return;
    k = keystore_find(a->keys, a->cfg->log_key);
    s = k ? agent_backend_of_key(a, k) : NULL;
    if (!k || !s || k->alg != HWSIGN_ALG_ECDSA_P256) {
        if (a->checkpoint_failures++ == 0)
            log_error("checkpoints: log key '%s' %s", a->cfg->log_key,
                      !k   ? "is not registered"
                      : !s ? "has no backend"
                           : "is not ECDSA P-256");
        return;
    }
    r = auditlog_root(a->log, root);
    if (r >= 0)
        r = checkpoint_format(origin(a), size, root, NULL, 0, &text, &len);
    if (r >= 0)
        r = hash_buffer(HWSIGN_HASH_SHA256, text, len, digest, sizeof(digest));
    j = r >= 0 ? job_new(JOB_SIGN) : NULL;
    if (!j || EVP_PKEY_up_ref(k->pub) != 1) {
        job_free(j);
        log_error("checkpoints: cannot prepare a checkpoint: %s", strerror(r < 0 ? -r : ENOMEM));
        return;
    }
    j->pub = k->pub;
    j->checkpoint = true;
    j->checkpoint_size = size;
    memcpy(j->key, k->name, sizeof(j->key));
    memcpy(j->locator, k->locator, sizeof(j->locator));
    j->alg = k->alg;
    j->hash = HWSIGN_HASH_SHA256;
    memcpy(j->digest, digest, sizeof(digest));
    j->digest_len = sizeof(digest);
    j->payload = (uint8_t *)TAKE_PTR(text);
    j->payload_len = len;
    j->deadline_ms = now_ms() + a->cfg->request_timeout_ms;
    (void)snprintf(j->backend, sizeof(j->backend), "%s", s->b->name);
    if (worker_submit(s->w, j) < 0) {
        job_free(j);
        return;
    }
    a->checkpoint_pending = true;
}

void checkpoint_tick(struct agent *a, uint64_t now)
{
    (void)now;
    checkpoint_maybe_issue(a, false);
}

/* LOG_PROOF reply for record index against the latest checkpoint (which covers it). */
static int reply_proof(struct agent *a, struct conn *c, uint32_t id, uint64_t index)
{
    const struct key_record *k = keystore_find(a->keys, a->cfg->log_key);
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE];
    struct hwsign_log_proof p = {
            .index = index,
            .tree_size = a->checkpoint_size,
            .hashes = proof,
            .checkpoint = a->checkpoint,
    };
    int r = k ? 0 : -ENOKEY;

    if (r >= 0)
        r = hash_buffer(HWSIGN_HASH_SHA256, k->spki, k->spki_len, p.log_id, sizeof(p.log_id));
    if (r >= 0)
        r = auditlog_inclusion_proof(a->log, index, a->checkpoint_size, proof, &p.n_hashes);
    if (r < 0) {
        conn_reply_error(a, c, id, r, "cannot prove record %llu: %s", (unsigned long long)index,
                         dispatch_strerror(r));
        return r;
    }
    if (proto_put_log_proof(c->out, id, &p) < 0)
        c->close_after_flush = true;
    return 0;
}

/*
 * Answer the connections waiting for a checkpoint: LOG_CHECKPOINT fresh, and LOG_PROOF whose
 * record the new checkpoint covers. Returns whether proof requests are still waiting for a
 * checkpoint that covers their record (appended after this one was prepared).
 */
static bool answer_waiters(struct agent *a, int err)
{
    bool uncovered = false;

    for (size_t i = 0; i < a->cfg->max_connections; i++) {
        struct conn *c = a->conns[i];
        uint64_t id;
        if (!c || !c->busy ||
            (c->pending_type != HWSIGN_MSG_LOG_CHECKPOINT &&
             c->pending_type != HWSIGN_MSG_LOG_PROOF))
            continue;
        if (c->pending_type == HWSIGN_MSG_LOG_PROOF && err >= 0 && a->checkpoint &&
            a->checkpoint_size <= c->pending_index) {
            uncovered = true;
            continue;
        }
        id = c->id;
        c->busy = false;
        if (err < 0 || !a->checkpoint)
            conn_reply_error(a, c, c->pending_id, err < 0 ? err : -EIO,
                             "could not issue a checkpoint: %s", dispatch_strerror(err));
        else if (c->pending_type == HWSIGN_MSG_LOG_PROOF)
            (void)reply_proof(a, c, c->pending_id, c->pending_index);
        else if (proto_put_string_reply(c->out, HWSIGN_MSG_LOG_CHECKPOINT, c->pending_id,
                                        a->checkpoint, strlen(a->checkpoint)) < 0)
            c->close_after_flush = true;
        if (conn_by_id(a, id))
            conn_process(a, c);
    }
    return uncovered;
}

void checkpoint_done(struct agent *a, struct job *j)
{
    _cleanup_free_ char *line = NULL, *note = NULL;
    char path[CHECKPOINT_PATH_MAX];
    const struct key_record *k = keystore_find(a->keys, j->key);
    uint32_t keyid;
    size_t llen;
    int r = j->result;

    a->checkpoint_pending = false;
    if (r >= 0 && !k)
        r = -ENOKEY;
    if (r >= 0)
        r = note_key_id_ecdsa(k->spki, k->spki_len, &keyid);
    if (r >= 0)
        r = note_format_signature(origin(a), keyid, j->sig, j->sig_len, &line, &llen);
    if (r >= 0 &&
        asprintf(&note, "%.*s\n%s", (int)j->payload_len, (const char *)j->payload, line) < 0)
        r = -ENOMEM;
    if (r >= 0)
        r = checkpoint_path(a, path, sizeof(path));
    if (r >= 0)
        r = write_file_atomic(path, note, strlen(note), 0644);
    if (r < 0) {
        struct log_fields f = {.key = j->key, .native = j->errmsg[0] ? j->errmsg : NULL};
        log_event(LOG_ERR, &f, "checkpoint of %llu records failed: %s",
                  (unsigned long long)j->checkpoint_size, dispatch_strerror(r));
        (void)answer_waiters(a, r);
        return;
    }
    free(a->checkpoint);
    a->checkpoint = TAKE_PTR(note);
    a->checkpoint_size = j->checkpoint_size;
    a->checkpoint_ms = now_ms();
    a->checkpoint_failures = 0;
    /* Records appended while this one was signed may already warrant the next, and proof
     * requests for them need it now. */
    checkpoint_maybe_issue(a, answer_waiters(a, 0));
}

int handle_log_checkpoint(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    uint8_t fresh;
    int r = sbuf_get_u8(body, &fresh);

    if (r >= 0)
        r = sbuf_expect_end(body);
    if (r >= 0 && fresh > 1)
        r = -EINVAL;
    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_LOG_CHECKPOINT, r);
    if (!a->log || !a->cfg->log_key[0]) {
        conn_reply_error(a, c, id, -ENOENT,
                         a->log ? "no log key is configured ([agent] log-key)"
                                : "the signing log is disabled (audit-log = no)");
        return -ENOENT;
    }
    if (fresh && !policy_is_admin(a->cfg, &c->peer)) {
        conn_reply_error(a, c, id, -EACCES, "a fresh checkpoint needs an agent administrator");
        return -EACCES;
    }
    if (!fresh || (a->checkpoint && a->checkpoint_size == auditlog_size(a->log))) {
        if (!a->checkpoint) {
            conn_reply_error(a, c, id, -ENOENT, "no checkpoint has been issued yet");
            return -ENOENT;
        }
        if (proto_put_string_reply(c->out, HWSIGN_MSG_LOG_CHECKPOINT, id, a->checkpoint,
                                   strlen(a->checkpoint)) < 0)
            c->close_after_flush = true;
        return 0;
    }
    checkpoint_maybe_issue(a, true);
    if (!a->checkpoint_pending) {
        conn_reply_error(a, c, id, -ENODEV, "cannot issue a checkpoint now (log key '%s')",
                         a->cfg->log_key);
        return -ENODEV;
    }
    c->busy = true;
    c->pending_id = id;
    c->pending_type = HWSIGN_MSG_LOG_CHECKPOINT;
    c->pending_deadline_ms = now_ms() + a->cfg->request_timeout_ms;
    return 1;
}

int handle_log_proof(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    uint64_t index;
    int r = proto_get_log_proof_req(body, &index);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_LOG_PROOF, r);
    if (!a->log || !a->cfg->log_key[0]) {
        conn_reply_error(a, c, id, -ENOENT,
                         a->log ? "no log key is configured ([agent] log-key): the agent issues "
                                  "no checkpoints to prove inclusion against"
                                : "the signing log is disabled (audit-log = no)");
        return -ENOENT;
    }
    if (index >= auditlog_size(a->log)) {
        conn_reply_error(a, c, id, -ENOENT, "the signing log has no record %llu (it holds %llu)",
                         (unsigned long long)index, (unsigned long long)auditlog_size(a->log));
        return -ENOENT;
    }
    if (a->checkpoint && a->checkpoint_size > index)
        return reply_proof(a, c, id, index);
    /*
     * No checkpoint covers the record yet: sign one now. Anyone may ask (a peer holding a
     * signature needs its proof), and this costs at most one checkpoint per record, because a
     * record is covered from then on.
     */
    checkpoint_maybe_issue(a, true);
    if (!a->checkpoint_pending) {
        conn_reply_error(a, c, id, -ENODEV, "cannot issue a checkpoint now (log key '%s')",
                         a->cfg->log_key);
        return -ENODEV;
    }
    c->busy = true;
    c->pending_id = id;
    c->pending_type = HWSIGN_MSG_LOG_PROOF;
    c->pending_index = index;
    c->pending_deadline_ms = now_ms() + a->cfg->request_timeout_ms;
    return 1;
}
