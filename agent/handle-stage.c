/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Staged statements: STATEMENT_BEGIN reserves the declared length against the agent-wide
 * budget (HWSIGN_MAX_STAGED_TOTAL) after the same checks as SIGN_STATEMENT (signing log
 * writable, peer allowed to use the key, key registered, payload type); STATEMENT_DATA appends
 * chunks; STATEMENT_SIGN parses and judges the whole statement and submits it like
 * SIGN_STATEMENT, moving the buffer and its share of the budget into the signing job.
 *
 * A connection stages one statement at a time. It is discarded, and its bytes returned to the
 * budget, by any failure, by a request other than STATEMENT_DATA / STATEMENT_SIGN
 * (dispatch.c), and when the connection closes (including the idle timeout).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "conn.h"
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
    r = signing_key(a, c, id, q.key, "statement", &k);
    if (r < 0)
        return r;
    if (!streq(q.payload_type, INTOTO_PAYLOAD_TYPE)) {
        conn_reply_error(a, c, id, -EINVAL, "payload type '%s' is not supported (only %s)",
                         q.payload_type, INTOTO_PAYLOAD_TYPE);
        return -EINVAL;
    }
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

int handle_statement_sign(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    struct stage *s = c->stage;
    const struct key_record *k;
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
    /* Judged again: the key may be gone, the policy or the log state changed meanwhile. */
    r = signing_key(a, c, id, s->key, "statement", &k);
    if (r < 0) {
        stage_drop(a, c);
        return r;
    }
    r = intoto_statement_parse(s->buf, s->len, &st);
    if (r == -EMSGSIZE)
        conn_reply_error(a, c, id, r,
                         "the statement exceeds a limit: a field's size, or more JSON values than "
                         "the agent parses in %u MiB (FORMAT_MAX_JSON_COST)",
                         FORMAT_MAX_JSON_COST / (1024u * 1024u));
    else if (r == -ENOMEM)
        conn_reply_error(a, c, id, r, "agent out of memory");
    else if (r < 0)
        conn_reply_error(a, c, id, -EINVAL, "not a valid in-toto Statement v1 (%s)", strerror(-r));
    if (r < 0) {
        stage_drop(a, c);
        return r == -ENOMEM ? r : -EINVAL;
    }
    r = sign_statement_submit_owned(a, c, id, k, &s->buf, s->len, s->expected, st,
                                    HWSIGN_MSG_STATEMENT_SIGN);
    if (!s->buf) {
        /* The job (or its failure) returns the budget: only the shell is left here. */
        c->stage = NULL;
        free(s);
    } else
        stage_drop(a, c);
    return r;
}
