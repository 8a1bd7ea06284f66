/* SPDX-License-Identifier: Apache-2.0 */
/* SIGN_DIGEST: policy, key lookup, device job, verified signature back to the peer. */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "agent.h"
#include "bundle.h"
#include "dsse.h"
#include "intoto.h"
#include "conn.h"
#include "crypto.h"
#include "dispatch.h"
#include "journal.h"
#include "policy.h"
#include "proto-stage.h"
#include "proto.h"

/* Binds job j to key k: its own reference to the key's public key (the key may be deleted
 * while the job waits), DER SPKI, name, locator and algorithm. */
static int sign_job_set_key(struct job *j, const struct key_record *k)
{
    if (EVP_PKEY_up_ref(k->pub) != 1)
        return -ENOMEM;
    j->pub = k->pub;
    j->key_spki = malloc(k->spki_len);
    if (!j->key_spki)
        return -ENOMEM;
    memcpy(j->key_spki, k->spki, k->spki_len);
    j->key_spki_len = k->spki_len;
    memcpy(j->key, k->name, sizeof(j->key));
    memcpy(j->locator, k->locator, sizeof(j->locator));
    j->alg = k->alg;
    return 0;
}

/* A sign job for key k over digest. NULL on allocation failure. */
static struct job *sign_job_new(const struct key_record *k, uint8_t hash, uint8_t scheme,
                                const uint8_t *digest, size_t digest_len)
{
    struct job *j = job_new(JOB_SIGN);

    if (!j)
        return NULL;
    if (sign_job_set_key(j, k) < 0)
        return job_free(j);
    j->hash = hash;
    j->scheme = scheme;
    memcpy(j->digest, digest, digest_len);
    j->digest_len = digest_len;
    return j;
}

int signing_key(struct agent *a, struct conn *c, uint32_t id, const char *key, const char *what,
                const struct key_record **ret)
{
    const struct key_record *k;

    if (!dispatch_signing_allowed(a, c, id))
        return -ENODEV;
    if (!policy_may_use_key(a->cfg, key, &c->peer)) {
        struct log_fields f = {.msgid = LOG_ID_REQUEST_DENIED, .peer = &c->peer, .key = key};
        log_event(LOG_WARNING, &f, "refused %s: uid %u may not use key '%s'", what,
                  (unsigned)c->peer.uid, key);
        conn_reply_error(a, c, id, -EACCES, "uid %u may not use key '%s'", (unsigned)c->peer.uid,
                         key);
        return -EACCES;
    }
    k = keystore_find(a->keys, key);
    if (!k) {
        conn_reply_error(a, c, id, -ENOKEY, "no key named '%s'", key);
        return -ENOKEY;
    }
    *ret = k;
    return 0;
}

int statement_signing_key(struct agent *a, struct conn *c, uint32_t id, const char *key,
                          const char *payload_type, const struct key_record **ret)
{
    int r = signing_key(a, c, id, key, "statement", ret);

    if (r < 0)
        return r;
    if (!streq(payload_type, INTOTO_PAYLOAD_TYPE)) {
        conn_reply_error(a, c, id, -EINVAL, "payload type '%s' is not supported (only %s)",
                         payload_type, INTOTO_PAYLOAD_TYPE);
        return -EINVAL;
    }
    return 0;
}

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
    r = signing_key(a, c, id, q.key, "signature", &k);
    if (r < 0)
        return r;
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
    j = sign_job_new(k, q.hash, q.scheme, q.digest, q.digest_len);
    if (!j) {
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    return dispatch_submit(a, c, s, j, id, HWSIGN_MSG_SIGN_DIGEST);
}

/* Whether the statement's subjects fit one signing-log record (LOGREC_MAX_SUBJECT_BYTES). */
static bool subjects_fit_log(const struct intoto_statement *st)
{
    size_t n = intoto_statement_subject_count(st), bytes = 0;

    for (size_t i = 0; i < n; i++)
        bytes += LOGREC_SUBJECT_BYTES(strlen(intoto_statement_subject_name(st, i)));
    return bytes <= LOGREC_MAX_SUBJECT_BYTES;
}

/* The statement's subjects, kept for the signing log record. */
static int copy_subjects(const struct intoto_statement *st, struct job *j)
{
    size_t n = intoto_statement_subject_count(st);

    j->subjects = calloc(n ? n : 1, sizeof(*j->subjects));
    if (!j->subjects)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        j->subjects[i].name = strdup(intoto_statement_subject_name(st, i));
        if (!j->subjects[i].name)
            return -ENOMEM; /* job_free releases what was copied */
        j->n_subjects = i + 1;
        memcpy(j->subjects[i].sha256, intoto_statement_subject_sha256(st, i), 32);
    }
    return 0;
}

int statement_job_judge(struct job *j, const struct intoto_statement *st)
{
    int r;

    if (!subjects_fit_log(st))
        return -EMSGSIZE;
    j->statement = true;
    j->payload_type = strdup(INTOTO_PAYLOAD_TYPE);
    j->predicate_type = strdup(intoto_statement_predicate_type(st));
    if (!j->payload_type || !j->predicate_type)
        return -ENOMEM;
    /* DSSE signatures are over SHA-256(PAE) for every key: what sigstore-js and our verifier
     * compute (FORMATS.md §4.6), so P-384 envelopes stay verifiable too. */
    j->hash = HWSIGN_HASH_SHA256;
    j->scheme = HWSIGN_SCHEME_DEFAULT;
    j->digest_len = hash_len(HWSIGN_HASH_SHA256);
    r = dsse_pae_sha256(INTOTO_PAYLOAD_TYPE, strlen(INTOTO_PAYLOAD_TYPE), j->payload,
                        j->payload_len, j->digest);
    if (r >= 0)
        r = hash_buffer(HWSIGN_HASH_SHA256, j->payload, j->payload_len, j->statement_sha256,
                        sizeof(j->statement_sha256));
    if (r >= 0)
        r = copy_subjects(st, j);
    return r;
}

int statement_job_submit(struct agent *a, struct conn *c, uint32_t id, const struct key_record *k,
                         struct job *j, uint8_t req_type)
{
    struct backend_slot *s;
    int r;

    if (!policy_key_allows_predicate(a->cfg, k->name, j->predicate_type)) {
        struct log_fields f = {.msgid = LOG_ID_REQUEST_DENIED, .peer = &c->peer, .key = k->name};
        log_event(LOG_WARNING, &f, "refused statement: key '%s' may not sign predicate type %s",
                  k->name, j->predicate_type);
        conn_reply_error(a, c, id, -EACCES, "key '%s' may not sign predicate type '%s'", k->name,
                         j->predicate_type);
        job_free(j);
        return -EACCES;
    }
    s = agent_backend_of_key(a, k);
    if (!s) {
        conn_reply_error(a, c, id, -ENODEV,
                         "key '%s' belongs to backend '%s', which is not configured", k->name,
                         k->backend);
        job_free(j);
        return -ENODEV;
    }
    j->kind = JOB_SIGN;
    r = sign_job_set_key(j, k);
    if (r >= 0)
        r = bundle_hint_from_spki(k->spki, k->spki_len, &j->keyid);
    if (r < 0) {
        job_free(j);
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    return dispatch_submit(a, c, s, j, id, req_type);
}

int sign_statement_submit(struct agent *a, struct conn *c, uint32_t id, const struct key_record *k,
                          const uint8_t *statement, size_t len, const struct intoto_statement *st,
                          uint8_t req_type)
{
    struct job *j = job_new(JOB_SIGN);
    int r = -ENOMEM;

    if (j) {
        j->payload = malloc(len);
        if (j->payload) {
            memcpy(j->payload, statement, len);
            j->payload_len = len;
            r = statement_job_judge(j, st);
        }
    }
    if (r < 0) {
        job_free(j);
        if (r == -EMSGSIZE)
            conn_reply_error(a, c, id, r, STATEMENT_SUBJECTS_TOO_LARGE, LOGREC_MAX_SUBJECT_BYTES);
        else
            conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return r;
    }
    return statement_job_submit(a, c, id, k, j, req_type);
}

int handle_sign_statement(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    struct proto_statement_req q;
    const struct key_record *k;
    int r;

    r = proto_get_sign_statement_req(body, &q);
    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_SIGN_STATEMENT, r);
    r = statement_signing_key(a, c, id, q.key, q.payload_type, &k);
    if (r < 0)
        return r;
    /* The agent, not the client, decides what is signed: parse and judge the statement. */
    r = intoto_statement_parse(q.statement, q.statement_len, &st);
    if (r < 0) {
        conn_reply_error(a, c, id, -EINVAL, "not a valid in-toto Statement v1 (%s)", strerror(-r));
        return -EINVAL;
    }
    return sign_statement_submit(a, c, id, k, q.statement, q.statement_len, st,
                                 HWSIGN_MSG_SIGN_STATEMENT);
}

int sign_job_envelope(struct job *j)
{
    struct dsse_signature ds = {.keyid = j->keyid, .sig = j->sig, .sig_len = j->sig_len};

    if (j->envelope)
        return 0;
    return dsse_envelope_encode(j->payload_type, j->payload, j->payload_len, &ds, 1, &j->envelope,
                                &j->envelope_len);
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
    if (j->statement && j->req_type == HWSIGN_MSG_STATEMENT_SIGN) {
        /* Staged: the peer holds the statement and builds the same envelope itself. */
        log_event(LOG_INFO, &f,
                  "signed a staged in-toto statement (%s, %zu bytes, %zu subject(s)) with key "
                  "'%s'",
                  j->predicate_type, j->payload_len, j->n_subjects, j->key);
        if (c && proto_put_stage_signature(c->out, j->req_id, j->sig, j->sig_len, j->log_seq,
                                           j->log_entry, j->log_entry_len, j->keyid) < 0)
            c->close_after_flush = true;
        return;
    }
    if (j->statement) {
        int r = sign_job_envelope(j);
        log_event(LOG_INFO, &f, "signed an in-toto statement (%s, %zu subject(s)) with key '%s'",
                  j->predicate_type, j->n_subjects, j->key);
        if (!c)
            return;
        if (r < 0)
            conn_reply_error(a, c, j->req_id, r, "cannot build the DSSE envelope: %s",
                             strerror(-r));
        else if (proto_put_envelope(c->out, j->req_type, j->req_id, j->envelope, j->envelope_len,
                                    j->log_seq, j->log_entry, j->log_entry_len) < 0)
            c->close_after_flush = true;
        return;
    }
    log_event(LOG_INFO, &f, "signed a %s digest with key '%s'", hash_name(j->hash), j->key);
    if (c && proto_put_signature(c->out, j->req_id, j->sig, j->sig_len, j->log_seq, j->log_entry,
                                 j->log_entry_len) < 0)
        c->close_after_flush = true;
}

void handle_job_done(struct agent *a, struct conn *c, struct job *j)
{
    uint64_t id = c ? c->id : 0;

    if (j->checkpoint) {
        checkpoint_done(a, j);
        return;
    }
    if (c)
        c->busy = false;
    if (j->kind == JOB_SIGN)
        sign_done(a, c, j);
    else if (j->kind == JOB_CALL && j->req_type == HWSIGN_MSG_STATEMENT_SIGN)
        handle_statement_judged(a, c, j);
    else if (j->kind == JOB_CALL)
        handle_tpm_job_done(a, c, j);
    else
        handle_key_job_done(a, c, j);
    if (c && conn_by_id(a, id))
        conn_process(a, c);
}
