/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Staged statements: STATEMENT_BEGIN reserves the declared length against the agent-wide
 * budget (HWSIGN_MAX_STAGED_TOTAL) after the same checks as SIGN_STATEMENT (signing log
 * writable, peer allowed to use the key, key registered, payload type); STATEMENT_DATA appends
 * chunks; STATEMENT_SIGN hands the whole statement, with its share of the budget, to the judge
 * worker (a compute thread: parsing 9 MB of JSON takes ~150 ms, which must not stall the event
 * loop), which parses it and computes the PAE digest; back on the event loop the key, peer and
 * predicate-type policy are checked again and the statement moves into the signing job, whose
 * job_free returns the budget.
 *
 * A connection stages one statement at a time. It is discarded, and its bytes returned to the
 * budget, by any failure, by a request other than STATEMENT_DATA / STATEMENT_SIGN
 * (dispatch.c), and when the connection closes (including the idle timeout).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "conn.h"
#include "dsse.h"
#include "dispatch.h"
#include "intoto.h"
#include "journal.h"
#include "keystore.h"
#include "proto-stage.h"
#include "proto.h"

struct stage {
    char key[HWSIGN_MAX_NAME + 1];
    uint8_t *buf;
    size_t len;      /* bytes received */
    size_t expected; /* the declared length, reserved in a->staged_bytes */
};

void stage_drop(struct agent *a, struct conn *c)
{
    struct stage *s = c->stage;

    if (!s)
        return;
    c->stage = NULL;
    __atomic_sub_fetch(&a->staged_bytes, s->expected, __ATOMIC_RELAXED);
    free(s->buf);
    free(s);
}

/* Reserves n bytes of the staging budget; false when that would exceed it. */
static bool budget_take(struct agent *a, size_t n)
{
    size_t cur = __atomic_load_n(&a->staged_bytes, __ATOMIC_RELAXED);

    do {
        if (n > HWSIGN_MAX_STAGED_TOTAL || cur > HWSIGN_MAX_STAGED_TOTAL - n)
            return false;
    } while (!__atomic_compare_exchange_n(&a->staged_bytes, &cur, cur + n, false, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return true;
}

int handle_statement_begin(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_stage_begin_req q;
    const struct key_record *k;
    struct stage *s;
    int r;

    stage_drop(a, c); /* a new BEGIN abandons whatever was staged before */
    r = proto_get_stage_begin_req(body, &q);
    if (r == -EMSGSIZE) {
        conn_reply_error(a, c, id, -EMSGSIZE,
                         "STATEMENT_BEGIN: a staged statement holds at most %u bytes",
                         HWSIGN_MAX_STAGED_STATEMENT);
        return r;
    }
    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_STATEMENT_BEGIN, r);
    r = statement_signing_key(a, c, id, q.key, q.payload_type, &k);
    if (r < 0)
        return r;
    if (!budget_take(a, (size_t)q.length)) {
        struct log_fields f = {.peer = &c->peer, .key = q.key};
        log_event(LOG_NOTICE, &f,
                  "refused to stage a %llu-byte statement: %zu of %u bytes already staged",
                  (unsigned long long)q.length, __atomic_load_n(&a->staged_bytes, __ATOMIC_RELAXED),
                  HWSIGN_MAX_STAGED_TOTAL);
        conn_reply_error(a, c, id, -ETIMEDOUT,
                         "the agent is holding other large statements (at most %u bytes at "
                         "once); retry shortly",
                         HWSIGN_MAX_STAGED_TOTAL);
        return -ETIMEDOUT;
    }
    s = calloc(1, sizeof(*s));
    if (s)
        s->buf = malloc((size_t)q.length);
    if (!s || !s->buf) {
        free(s);
        __atomic_sub_fetch(&a->staged_bytes, (size_t)q.length, __ATOMIC_RELAXED);
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    memcpy(s->key, q.key, sizeof(s->key));
    s->expected = (size_t)q.length;
    c->stage = s;
    if (proto_put_ok(c->out, HWSIGN_MSG_STATEMENT_BEGIN, id) < 0)
        c->close_after_flush = true;
    return 0;
}

int handle_statement_data(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct stage *s = c->stage;
    const uint8_t *p;
    size_t n;
    int r;

    if (!s) {
        conn_reply_error(a, c, id, -EINVAL,
                         "STATEMENT_DATA without a staged statement (send STATEMENT_BEGIN first)");
        return -EINVAL;
    }
    r = proto_get_stage_data_req(body, &p, &n);
    if (r < 0) {
        stage_drop(a, c);
        return dispatch_malformed(a, c, id, HWSIGN_MSG_STATEMENT_DATA, r);
    }
    if (n > s->expected - s->len) {
        size_t expected = s->expected, have = s->len;
        stage_drop(a, c);
        conn_reply_error(a, c, id, -EMSGSIZE,
                         "STATEMENT_DATA runs past the declared length (%zu + %zu > %zu bytes); "
                         "the staged statement is discarded",
                         have, n, expected);
        return -EMSGSIZE;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    if (proto_put_stage_data_reply(c->out, id, s->len) < 0)
        c->close_after_flush = true;
    return 0;
}

/*
 * On the judge worker (b is NULL) or inline: parse the staged statement in j->payload and judge
 * it (statement_job_judge). A failure leaves its reason in j->errmsg.
 */
static int judge_call(struct key_backend *b, struct job *j)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    int r;

    (void)b;
    r = intoto_statement_parse(j->payload, j->payload_len, &st);
    if (r == -ENOMEM)
        goto oom;
    if (r == -EMSGSIZE) {
        (void)snprintf(j->errmsg, sizeof(j->errmsg),
                       "the statement exceeds a limit: a field's size, or more JSON values than "
                       "the agent parses in %u MiB (FORMAT_MAX_JSON_COST)",
                       FORMAT_MAX_JSON_COST / (1024u * 1024u));
        return r;
    }
    if (r < 0) {
        (void)snprintf(j->errmsg, sizeof(j->errmsg), "not a valid in-toto Statement v1 (%s)",
                       strerror(-r));
        return -EINVAL;
    }
    r = statement_job_judge(j, st);
    if (r == -EMSGSIZE) {
        (void)snprintf(j->errmsg, sizeof(j->errmsg), STATEMENT_SUBJECTS_TOO_LARGE,
                       LOGREC_MAX_SUBJECT_BYTES);
        return r;
    }
    if (r < 0)
        goto oom;
    /* The tree of a large statement is ~100 MiB: hand it back to the system now (glibc). */
    st = intoto_statement_free(st);
    (void)malloc_trim(0);
    j->envelope_sha = EVP_MD_CTX_new();
    if (!j->envelope_sha)
        goto oom;
    r = dsse_envelope_sha256_begin(j->envelope_sha, j->payload_type, j->payload, j->payload_len);
    if (r < 0)
        (void)snprintf(j->errmsg, sizeof(j->errmsg), "cannot hash the DSSE envelope: %s",
                       strerror(-r));
    return r;
oom:
    (void)snprintf(j->errmsg, sizeof(j->errmsg), "agent out of memory");
    return -ENOMEM;
}

/* Moves the judged statement of src (a JOB_CALL) into a new sign job; NULL without memory. */
static struct job *sign_job_from_judged(struct job *src)
{
    struct job *j = job_new(JOB_SIGN);

    if (!j)
        return NULL;
    j->statement = src->statement;
    j->hash = src->hash;
    j->scheme = src->scheme;
    memcpy(j->digest, src->digest, sizeof(j->digest));
    j->digest_len = src->digest_len;
    memcpy(j->statement_sha256, src->statement_sha256, sizeof(j->statement_sha256));
    j->payload = TAKE_PTR(src->payload);
    j->payload_len = src->payload_len;
    j->payload_type = TAKE_PTR(src->payload_type);
    j->predicate_type = TAKE_PTR(src->predicate_type);
    j->subjects = TAKE_PTR(src->subjects);
    j->n_subjects = src->n_subjects;
    src->n_subjects = 0;
    j->staged_bytes = src->staged_bytes;
    j->staged_budget = TAKE_PTR(src->staged_budget);
    j->envelope_sha = TAKE_PTR(src->envelope_sha);
    return j;
}

/* After judging: the key and peer again (time has passed), then the device. */
static int judged_continue(struct agent *a, struct conn *c, struct job *j)
{
    const struct key_record *k;
    struct job *sj;
    int r;

    if (j->result < 0) {
        conn_reply_error(a, c, j->req_id, j->result, "%s", j->errmsg);
        return j->result;
    }
    r = signing_key(a, c, j->req_id, j->key, "statement", &k);
    if (r < 0)
        return r;
    sj = sign_job_from_judged(j);
    if (!sj) {
        conn_reply_error(a, c, j->req_id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    return statement_job_submit(a, c, j->req_id, k, sj, HWSIGN_MSG_STATEMENT_SIGN);
}

void handle_statement_judged(struct agent *a, struct conn *c, struct job *j)
{
    if (c) /* else the peer left: the caller frees j, which returns the budget */
        (void)judged_continue(a, c, j);
}

int handle_statement_sign(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct stage *s = c->stage;
    struct job *j;
    int r;

    r = proto_get_empty(body);
    if (r < 0) {
        stage_drop(a, c);
        return dispatch_malformed(a, c, id, HWSIGN_MSG_STATEMENT_SIGN, r);
    }
    if (!s) {
        conn_reply_error(a, c, id, -EINVAL,
                         "STATEMENT_SIGN without a staged statement (send STATEMENT_BEGIN first)");
        return -EINVAL;
    }
    if (s->len != s->expected) {
        conn_reply_error(a, c, id, -EINVAL,
                         "the staged statement is incomplete (%zu of %zu bytes); it is discarded",
                         s->len, s->expected);
        stage_drop(a, c);
        return -EINVAL;
    }
    /* The key and peer were checked at BEGIN and are checked again once the statement is
     * judged (judged_continue); nothing to gain from a third look here. */
    j = job_new(JOB_CALL);
    if (!j) {
        stage_drop(a, c);
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    /* The statement and its share of the budget move into the job; job_free returns it. */
    j->call = judge_call;
    memcpy(j->key, s->key, sizeof(j->key));
    j->payload = TAKE_PTR(s->buf);
    j->payload_len = s->len;
    j->staged_bytes = s->expected;
    j->staged_budget = &a->staged_bytes;
    c->stage = NULL;
    free(s);
    if (a->judge)
        return dispatch_submit_to(a, c, a->judge, "statement-judge", "judge", j, id,
                                  HWSIGN_MSG_STATEMENT_SIGN);
    /* No judge worker (a test or fuzzing harness): judge here. */
    j->req_id = id;
    j->result = judge_call(NULL, j);
    r = judged_continue(a, c, j);
    job_free(j);
    return r;
}
