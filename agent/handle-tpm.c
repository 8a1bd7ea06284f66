/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM_QUOTE and KEY_CERTIFY: evidence from the agent's TPM attestation key (AK).
 *
 * The AK is STATE/tpm-keys/attestation-key.pem (a restricted ECDSA P-256 key under the SRK,
 * tpm/tpm-quote.h). It is created on the TPM backend's worker the first time evidence is asked
 * for, or when the TPM is enrolled (`hwsign key ak`); it cannot sign anything but TPM-generated
 * attestations. Quotes reveal PCR values only, so any peer that may connect may ask for one;
 * a certification is of one of the agent's TPM keys and follows that key's use policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "conn.h"
#include "dispatch.h"
#include "journal.h"
#include "macro.h"
#include "policy.h"
#include "proto-attest.h"
#include "proto.h"
#include "tpm.h"
#include "worker.h"

#define AK_NAME     "attestation-key"
#define AK_PATH_MAX 4096u

/* The first configured TPM backend, or NULL. */
static struct backend_slot *tpm_slot(struct agent *a)
{
    for (size_t i = 0; i < a->nbackends; i++)
        if (streq(a->backends[i].b->ops->kind, "tpm"))
            return &a->backends[i];
    return NULL;
}

static int ak_path(const struct agent *a, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/tpm-keys/" AK_NAME ".pem", a->cfg->state_dir);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Worker thread: the AK exists (created now if it does not). */
static int ensure_ak(struct key_backend *b, const char *path)
{
    _cleanup_free_ char *loc = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    struct stat st;
    size_t len = 0;
    int r;

    if (stat(path, &st) == 0)
        return 0;
    if (errno != ENOENT)
        return negative_errno();
    r = tpm_backend_create_ak(b, AK_NAME, &loc, &spki, &len);
    return r == -EEXIST ? 0 : r;
}

static void evidence_free(void *e)
{
    hwsign_tpm_evidence_free(e);
}

/* A copy of n bytes (n > 0) into *ret. */
static int dup_bytes(const uint8_t *p, size_t n, uint8_t **ret, size_t *ret_len)
{
    if (!p || n == 0)
        return -EIO;
    *ret = malloc(n);
    if (!*ret)
        return -ENOMEM;
    memcpy(*ret, p, n);
    *ret_len = n;
    return 0;
}

/* One evidence field: an accessor's result (src, and the length it wrote) and where it goes. */
struct evidence_field {
    const uint8_t *src;
    const size_t *src_len;
    uint8_t **dst;
    size_t *dst_len;
};

/* A new, empty evidence object owned by j (freed with the job). */
static struct hwsign_tpm_evidence *evidence_new(struct job *j)
{
    struct hwsign_tpm_evidence *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    j->out_obj = e;
    j->out_obj_free = evidence_free;
    return e;
}

/*
 * Worker thread: copies the n fields into e in order (each must be non-empty: -EIO otherwise),
 * then the selection text when not NULL, then the AK's SPKI. Stops at the first failure; the
 * job frees what was copied.
 */
static int evidence_fill(struct key_backend *b, const struct job *j, struct hwsign_tpm_evidence *e,
                         const struct evidence_field *f, size_t n, const char *selection)
{
    for (size_t i = 0; i < n; i++) {
        int r = dup_bytes(f[i].src, *f[i].src_len, f[i].dst, f[i].dst_len);
        if (r < 0)
            return r;
    }
    if (selection) {
        e->selection = strdup(selection);
        if (!e->selection)
            return -ENOMEM;
    }
    return tpm_backend_ak_public(b, j->aux, &e->ak_spki, &e->ak_spki_len);
}

/* Worker thread: j->aux = AK path, j->digest = nonce, j->payload_type = selection or NULL. */
static int quote_call(struct key_backend *b, struct job *j)
{
    _cleanup_(tpm_quote_freep) struct tpm_quote *q = NULL;
    struct hwsign_tpm_evidence *e;
    size_t n[4] = {};
    int r = ensure_ak(b, j->aux);

    if (r >= 0)
        r = tpm_backend_quote(b, j->aux, j->payload_type, j->digest, &q);
    if (r < 0)
        return r;
    e = evidence_new(j);
    if (!e)
        return -ENOMEM;
    const struct evidence_field f[] = {
            {tpm_quote_attest(q, &n[0]), &n[0], &e->attest, &e->attest_len},
            {tpm_quote_signature(q, &n[1]), &n[1], &e->sig, &e->sig_len},
            {tpm_quote_signature_der(q, &n[2]), &n[2], &e->sig_der, &e->sig_der_len},
            {tpm_quote_pcrs_serialized(q, &n[3]), &n[3], &e->pcrs, &e->pcrs_len},
    };
    return evidence_fill(b, j, e, f, ELEMENTSOF(f), tpm_quote_selection(q));
}

/* Worker thread: j->aux = AK path, j->locator = the key, j->digest = nonce. */
static int certify_call(struct key_backend *b, struct job *j)
{
    _cleanup_(tpm_certify_freep) struct tpm_certify *cert = NULL;
    struct hwsign_tpm_evidence *e;
    size_t n[4] = {};
    int r = ensure_ak(b, j->aux);

    if (r >= 0)
        r = tpm_backend_certify(b, j->aux, j->locator, j->digest, &cert);
    if (r < 0)
        return r;
    e = evidence_new(j);
    if (!e)
        return -ENOMEM;
    const struct evidence_field f[] = {
            {tpm_certify_attest(cert, &n[0]), &n[0], &e->attest, &e->attest_len},
            {tpm_certify_signature(cert, &n[1]), &n[1], &e->sig, &e->sig_len},
            {tpm_certify_signature_der(cert, &n[2]), &n[2], &e->sig_der, &e->sig_der_len},
            {tpm_certify_public(cert, &n[3]), &n[3], &e->key_public, &e->key_public_len},
    };
    return evidence_fill(b, j, e, f, ELEMENTSOF(f), NULL);
}

/* A JOB_CALL for the TPM worker with the AK path and nonce filled in. */
static struct job *tpm_job_new(struct agent *a, job_call_fn call, const uint8_t *nonce)
{
    struct job *j = job_new(JOB_CALL);

    if (!j)
        return NULL;
    if (ak_path(a, j->aux, sizeof(j->aux)) < 0)
        return job_free(j);
    j->call = call;
    memcpy(j->digest, nonce, HWSIGN_NONCE_LEN);
    j->digest_len = HWSIGN_NONCE_LEN;
    return j;
}

static struct backend_slot *need_tpm(struct agent *a, struct conn *c, uint32_t id)
{
    struct backend_slot *s = tpm_slot(a);
    if (!s)
        conn_reply_error(a, c, id, -ENODEV,
                         "no TPM backend is configured ([tpm]): TPM evidence needs a TPM");
    return s;
}

int handle_tpm_quote(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_quote_req q;
    struct backend_slot *s;
    struct job *j;
    int r = proto_get_tpm_quote_req(body, &q);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_TPM_QUOTE, r);
    s = need_tpm(a, c, id);
    if (!s)
        return -ENODEV;
    j = tpm_job_new(a, quote_call, q.nonce);
    if (j && q.selection[0]) {
        j->payload_type = strdup(q.selection);
        if (!j->payload_type)
            j = job_free(j);
    }
    if (!j) {
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    return dispatch_submit(a, c, s, j, id, HWSIGN_MSG_TPM_QUOTE);
}

int handle_key_certify(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_certify_req q;
    const struct key_record *k;
    struct backend_slot *s;
    struct job *j;
    int r = proto_get_key_certify_req(body, &q);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_KEY_CERTIFY, r);
    if (!policy_may_use_key(a->cfg, q.key, &c->peer)) {
        conn_reply_error(a, c, id, -EACCES, "uid %u may not use key '%s'", (unsigned)c->peer.uid,
                         q.key);
        return -EACCES;
    }
    k = keystore_find(a->keys, q.key);
    if (!k) {
        conn_reply_error(a, c, id, -ENOKEY, "no key named '%s'", q.key);
        return -ENOKEY;
    }
    s = agent_backend_of_key(a, k);
    if (!streq(k->kind, "tpm") || !s) {
        conn_reply_error(a, c, id, -EOPNOTSUPP,
                         "key '%s' is not held by a configured TPM backend: only TPM keys can "
                         "be certified",
                         q.key);
        return -EOPNOTSUPP;
    }
    j = tpm_job_new(a, certify_call, q.nonce);
    if (!j) {
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    memcpy(j->key, k->name, sizeof(j->key));
    memcpy(j->locator, k->locator, sizeof(j->locator));
    return dispatch_submit(a, c, s, j, id, HWSIGN_MSG_KEY_CERTIFY);
}

void handle_tpm_job_done(struct agent *a, struct conn *c, struct job *j)
{
    struct log_fields f = {.peer = c ? &c->peer : NULL, .key = j->key[0] ? j->key : NULL};
    const char *what = j->req_type == HWSIGN_MSG_TPM_QUOTE ? "TPM quote" : "key certification";

    if (j->result < 0 || !j->out_obj) {
        int r = j->result < 0 ? j->result : -EIO;
        f.native = j->errmsg[0] ? j->errmsg : NULL;
        log_event(LOG_ERR, &f, "%s failed: %s", what, dispatch_strerror(r));
        if (c)
            conn_reply_error(a, c, j->req_id, r, "%s failed: %s%s%s", what, dispatch_strerror(r),
                             j->errmsg[0] ? "; " : "", j->errmsg);
        return;
    }
    log_event(LOG_INFO, &f, "%s issued by the attestation key", what);
    if (c && proto_put_tpm_evidence(c->out, j->req_type, j->req_id, j->out_obj) < 0)
        c->close_after_flush = true;
}
