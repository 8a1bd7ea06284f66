/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Staged statements (STATEMENT_BEGIN / _DATA / _SIGN, handle-stage.c) end to end, without
 * hardware (the fixture: agent-loop-fixture.h): real in-toto statements signed through libhwsign
 * and checked as DSSE envelopes, protocol-order errors on raw frames, the agent-wide staging
 * budget (L->a.staged_bytes, back to 0 after every test, which loop_stop checks), the judge
 * worker and its inline fallback, and key policies (with a second peer running as uid
 * STAGE_NOBODY when the test runs as root).
 *
 * Every wait is bounded (poll with a deadline); nothing sleeps to synchronise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <hwsign/hwsign.h>

#include "agent-loop-fixture.h"
#include "crypto.h"
#include "dsse.h"
#include "fake-backend.h"
#include "format.h"
#include "intoto.h"
#include "logrec.h"
#include "proto-stage.h"

/* ---- staged statements: STATEMENT_BEGIN / _DATA / _SIGN (handle-stage.c) ---- */

#define STAGE_PTYPE_OK    "https://example.com/hwsign-test/v1"  /* predicate type allowed */
#define STAGE_PTYPE_OTHER "https://example.com/hwsign-other/v1" /* refused by policy_config */
#define STAGE_BIG         (200u * 1024u) /* the happy-path statement: several DATA frames */
#define STAGE_NOBODY      65534u         /* uid/gid of the unprivileged peer (nobody) */

/* What make_statement puts in a statement besides the padding. */
struct stmt_spec {
    const char *type;           /* "_type"; NULL: INTOTO_STATEMENT_TYPE */
    const char *predicate_type; /* NULL: STAGE_PTYPE_OK */
    size_t n_subjects;          /* 0: one */
    size_t name_len;            /* bytes of each subject name (>= 8); 0: short names */
    size_t last_name_extra;     /* bytes added to the last subject's name */
};

/*
 * An in-toto Statement of exactly total bytes: spec's subjects (each with the SHA-256 of its
 * index as digest), then the predicate {"pad": "ppp..."} sized so the whole has total bytes.
 */
static uint8_t *make_statement(size_t total, const struct stmt_spec *spec)
{
    static const char tail[] = "\"}}";
    size_t n = spec->n_subjects ? spec->n_subjects : 1, head_len = 0;
    char *head = NULL;
    uint8_t *out;
    FILE *f = open_memstream(&head, &head_len);

    assert_non_null(f);
    fprintf(f, "{\"_type\":\"%s\",\"subject\":[", spec->type ? spec->type : INTOTO_STATEMENT_TYPE);
    for (size_t i = 0; i < n; i++) {
        uint8_t d[32];
        char *hex = NULL;
        size_t nl = spec->name_len + (i + 1 == n ? spec->last_name_extra : 0);

        assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, &i, sizeof(i), d, sizeof(d)), 0);
        assert_int_equal(hex_encode(d, sizeof(d), &hex), 0);
        if (nl) {
            assert_true(nl >= 8);
            fprintf(f, "%s{\"name\":\"s%06zu", i ? "," : "", i % 1000000);
            for (size_t k = 7; k < nl; k++)
                fputc('n', f);
        } else
            fprintf(f, "%s{\"name\":\"artifact-%zu.bin", i ? "," : "", i);
        fprintf(f, "\",\"digest\":{\"sha256\":\"%s\"}}", hex);
        free(hex);
    }
    fprintf(f, "],\"predicateType\":\"%s\",\"predicate\":{\"pad\":\"",
            spec->predicate_type ? spec->predicate_type : STAGE_PTYPE_OK);
    assert_int_equal(fclose(f), 0);
    assert_true(head_len + strlen(tail) <= total);
    out = malloc(total);
    assert_non_null(out);
    memcpy(out, head, head_len);
    memset(out + head_len, 'p', total - head_len - strlen(tail));
    memcpy(out + total - strlen(tail), tail, strlen(tail));
    free(head);
    return out;
}

static uint8_t *valid_statement(size_t total, const struct stmt_spec *spec)
{
    struct intoto_statement *st = NULL;
    uint8_t *s = make_statement(total, spec);

    /* The fixture itself is right: a refusal later is the agent's judgement, not a typo. */
    assert_int_equal(intoto_statement_parse(s, total, &st), 0);
    intoto_statement_free(st);
    return s;
}

/*
 * A valid-looking Statement of exactly total bytes whose predicate is one long array of zeros:
 * small as text, but more JSON values than the agent agrees to build a tree for
 * (FORMAT_MAX_JSON_COST).
 */
static uint8_t *make_costly_statement(size_t total)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "{\"_type\":\"%s\",\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":"
                     "\"%064x\"}}],\"predicateType\":\"%s\",\"predicate\":{\"pad\":[",
                     INTOTO_STATEMENT_TYPE, 0u, STAGE_PTYPE_OK);
    static const char tail[] = "0]}}";
    uint8_t *out = malloc(total);
    size_t pos, end = total - strlen(tail);

    assert_true(n > 0 && (size_t)n < sizeof(head));
    assert_non_null(out);
    memcpy(out, head, (size_t)n);
    pos = (size_t)n;
    if ((end - pos) % 2)
        out[pos++] = ' ';
    for (; pos < end; pos += 2)
        memcpy(out + pos, "0,", 2);
    memcpy(out + end, tail, strlen(tail));
    return out;
}

/* SHA-256 of DSSE's PAE, written out here from the spec rather than taken from dsse.c. */
static void pae_sha256(const char *type, const uint8_t *body, size_t len, uint8_t ret[32])
{
    char head[256];
    int n = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type), type, len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned out_len = 0;

    assert_true(n > 0 && (size_t)n < sizeof(head));
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, head, (size_t)n), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, body, len), 1);
    assert_int_equal(EVP_DigestFinal_ex(ctx, ret, &out_len), 1);
    assert_int_equal(out_len, 32);
    EVP_MD_CTX_free(ctx);
}

/* The envelope carries exactly stmt, signed over SHA-256(PAE) by backend b's key, with the key's
 * id (hex SHA-256 of its DER SPKI). */
static void assert_envelope(struct loop *L, int b, const char *env, size_t env_len,
                            const uint8_t *stmt, size_t len)
{
    struct dsse_envelope *e = NULL;
    size_t spki_len, plen = 0, sig_len = 0;
    const uint8_t *spki = fake_backend_spki(L->fb[b], &spki_len), *payload, *sig = NULL;
    const char *keyid = NULL;
    uint8_t d[32];
    char *hex = NULL;

    assert_int_equal(strlen(env), env_len);
    assert_int_equal(dsse_envelope_decode(env, env_len, &e), 0);
    assert_string_equal(dsse_envelope_payload_type(e), INTOTO_PAYLOAD_TYPE);
    payload = dsse_envelope_payload(e, &plen);
    assert_int_equal(plen, len);
    assert_true(memcmp(payload, stmt, len) == 0);
    assert_int_equal(dsse_envelope_n_signatures(e), 1);
    assert_int_equal(dsse_envelope_signature(e, 0, &sig, &sig_len, &keyid), 0);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, spki, spki_len, d, sizeof(d)), 0);
    assert_int_equal(hex_encode(d, sizeof(d), &hex), 0);
    assert_string_equal(keyid, hex);
    pae_sha256(INTOTO_PAYLOAD_TYPE, stmt, len, d);
    assert_int_equal(sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, d,
                                       sizeof(d), sig, sig_len),
                     0);
    /* ... and not over anything else: one flipped digest bit fails. */
    d[0] ^= 1;
    assert_int_not_equal(sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256,
                                           HWSIGN_SCHEME_DEFAULT, d, sizeof(d), sig, sig_len),
                         0);
    free(hex);
    dsse_envelope_free(e);
}

static size_t budget(struct loop *L)
{
    return __atomic_load_n(&L->a.staged_bytes, __ATOMIC_SEQ_CST);
}

/* The loop thread settles the staging budget at want (closes are processed asynchronously). */
static void wait_budget(struct loop *L, size_t want)
{
    uint64_t deadline = mono_ms() + WAIT_MS;

    while (budget(L) != want) {
        struct pollfd p = {.fd = -1};
        if (mono_ms() >= deadline)
            fail_msg("staged bytes %zu, want %zu", budget(L), want);
        (void)poll(&p, 0, 5); /* pacing, not synchronisation */
    }
}

/* Sends a frame of type with body[0..len) (heap-built: DATA frames exceed the stack budget). */
static void send_frame(int fd, uint8_t type, uint32_t id, const uint8_t *body, size_t len)
{
    uint8_t *f = malloc(HWSIGN_FRAME_HEADER + HWSIGN_MSG_HEADER + len);
    assert_non_null(f);
    send_all(fd, f, put_frame(f, type, id, body, len));
    free(f);
}

/* STATEMENT_BEGIN built by hand, so over-limit lengths can be sent. */
static void send_begin(int fd, uint32_t id, const char *key, const char *type, uint64_t length)
{
    struct sbuf *b = sbuf_new(HWSIGN_MAX_MSG);
    assert_non_null(b);
    assert_int_equal(sbuf_put_cstring(b, key), 0);
    assert_int_equal(sbuf_put_cstring(b, type), 0);
    assert_int_equal(sbuf_put_u64(b, length), 0);
    send_frame(fd, HWSIGN_MSG_STATEMENT_BEGIN, id, sbuf_ptr(b), sbuf_len(b));
    sbuf_free(b);
}

/* STATEMENT_DATA built by hand (an empty chunk included). */
static void send_data(int fd, uint32_t id, const uint8_t *p, size_t n)
{
    struct sbuf *b = sbuf_new(HWSIGN_MAX_MSG);
    assert_non_null(b);
    assert_int_equal(sbuf_put_string(b, p, n), 0);
    send_frame(fd, HWSIGN_MSG_STATEMENT_DATA, id, sbuf_ptr(b), sbuf_len(b));
    sbuf_free(b);
}

static void send_sign(int fd, uint32_t id)
{
    send_frame(fd, HWSIGN_MSG_STATEMENT_SIGN, id, NULL, 0);
}

/* The next reply is the successful reply to request id of type. */
static void expect_ok(int fd, struct reply *r, uint8_t type, uint32_t id)
{
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_int_equal(r->id, id);
    if (r->type == HWSIGN_MSG_FAILURE)
        fail_msg("request %u (type %u) failed: code %u, \"%.*s\"", id, type, failure_code(r),
                 (int)(r->len > 8 ? r->len - 8 : 0), (const char *)r->body + 8);
    assert_int_equal(r->type, HWSIGN_MSG_REPLY | type);
}

/* The next reply is a FAILURE with code for request id. */
static void expect_failure(int fd, struct reply *r, uint32_t id, uint32_t code)
{
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_int_equal(r->id, id);
    if (r->type != HWSIGN_MSG_FAILURE)
        fail_msg("request %u: reply type 0x%02x, want FAILURE %u", id, r->type, code);
    if (failure_code(r) != code)
        fail_msg("request %u: code %u, want %u (\"%.*s\")", id, failure_code(r), code,
                 (int)(r->len > 8 ? r->len - 8 : 0), (const char *)r->body + 8);
}

static uint64_t reply_u64(const struct reply *r)
{
    uint64_t v = 0;
    assert_int_equal(r->len, 8);
    for (int i = 0; i < 8; i++)
        v = (v << 8) | r->body[i];
    return v;
}

/* DATA in chunks of at most HWSIGN_MAX_STAGE_CHUNK, each acknowledged with the running total;
 * ids from *id on. */
static void stage_data(int fd, struct reply *r, uint32_t *id, const uint8_t *p, size_t len)
{
    size_t sent = 0;

    while (sent < len) {
        size_t n = MIN(len - sent, (size_t)HWSIGN_MAX_STAGE_CHUNK);
        send_data(fd, *id, p + sent, n);
        expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, *id);
        sent += n;
        assert_true(reply_u64(r) == sent);
        (*id)++;
    }
}

/* BEGIN (answered OK) and all of stmt for key. */
static void stage_all(int fd, struct reply *r, uint32_t *id, const char *key, const uint8_t *stmt,
                      size_t len)
{
    send_begin(fd, *id, key, INTOTO_PAYLOAD_TYPE, len);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, *id);
    (*id)++;
    stage_data(fd, r, id, stmt, len);
}

/* The SIGN reply verifies for stmt with backend b's key (raw frames: the client's job by hand). */
static void assert_stage_signature(struct loop *L, int b, const struct reply *r,
                                   const uint8_t *stmt, size_t len)
{
    struct proto_stage_signature s = {0};
    struct sbuf *body = sbuf_from(r->body, r->len);
    struct dsse_signature ds;
    char *env = NULL;
    size_t env_len = 0;

    assert_non_null(body);
    assert_int_equal(r->type, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_SIGN);
    assert_int_equal(proto_get_stage_signature(body, &s), 0);
    assert_true(s.log_index == HWSIGN_LOG_INDEX_NONE); /* no signing log in this fixture */
    assert_int_equal(s.entry_len, 0);
    ds = (struct dsse_signature){.keyid = s.keyid, .sig = s.sig, .sig_len = s.sig_len};
    assert_int_equal(dsse_envelope_encode(INTOTO_PAYLOAD_TYPE, stmt, len, &ds, 1, &env, &env_len),
                     0);
    assert_envelope(L, b, env, env_len, stmt, len);
    free(env);
    proto_stage_signature_clear(&s);
    sbuf_free(body);
}

/* 1. The happy path through libhwsign: staged above one frame, single frame up to it. */
static void test_stage_client_sign(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    static const struct stmt_spec three = {.n_subjects = 3};
    static const struct {
        size_t len;
        const char *key;
        int backend;
    } cases[] = {
            {STAGE_BIG, "k1", 0},
            {HWSIGN_MAX_STATEMENT, "k1", 0},     /* largest single SIGN_STATEMENT frame */
            {HWSIGN_MAX_STATEMENT + 1, "k2", 1}, /* smallest staged statement */
            {HWSIGN_MAX_STAGE_CHUNK + 1, "k2", 1},
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        uint8_t *stmt = valid_statement(cases[i].len, &three);
        unsigned calls = fake_backend_sign_calls(L->fb[cases[i].backend]);
        char *env = NULL;
        size_t env_len = 0;

        assert_int_equal(hwsign_sign_statement(c, cases[i].key, INTOTO_PAYLOAD_TYPE, stmt,
                                               cases[i].len, &env, &env_len),
                         0);
        assert_envelope(L, cases[i].backend, env, env_len, stmt, cases[i].len);
        assert_int_equal(fake_backend_sign_calls(L->fb[cases[i].backend]), calls + 1);
        assert_true(hwsign_last_log_index(c) == HWSIGN_LOG_INDEX_NONE);
        wait_budget(L, 0);
        free(env);
        free(stmt);
    }
    /* The connection is still in order after staging. */
    assert_status_ok(c);
    hwsign_disconnect(c);
}

/* 5. Both ends of the staged range: the largest statement signs; one byte more never leaves the
 * client. */
static void test_stage_client_limits(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    static const struct stmt_spec one = {0};
    /* Well-formed, but one byte over what the agent (and intoto_statement_parse) accepts. */
    uint8_t *stmt = make_statement(HWSIGN_MAX_STAGED_STATEMENT + 1, &one);
    char *env = (char *)0x1;
    size_t env_len = 0xA5;

    assert_int_equal(hwsign_sign_statement(c, "k1", INTOTO_PAYLOAD_TYPE, stmt,
                                           HWSIGN_MAX_STAGED_STATEMENT + 1, &env, &env_len),
                     -EMSGSIZE);
    assert_ptr_equal(env, (char *)0x1);
    assert_int_equal(env_len, 0xA5);
    assert_non_null(strstr(hwsign_client_error(c), "at most"));
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 0);
    assert_int_equal(budget(L), 0);
    assert_status_ok(c);
    free(stmt);

    stmt = valid_statement(HWSIGN_MAX_STAGED_STATEMENT, &one);
    assert_int_equal(hwsign_sign_statement(c, "k1", INTOTO_PAYLOAD_TYPE, stmt,
                                           HWSIGN_MAX_STAGED_STATEMENT, &env, &env_len),
                     0);
    assert_envelope(L, 0, env, env_len, stmt, HWSIGN_MAX_STAGED_STATEMENT);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    wait_budget(L, 0);
    free(env);
    free(stmt);
    hwsign_disconnect(c);
}

/* 2. Out-of-order and over-long sequences on raw frames. */
static void test_stage_sequence_errors(void **state)
{
    struct loop *L = *state;
    struct reply *r = malloc(sizeof(*r));
    static const struct stmt_spec one = {0};
    uint8_t *stmt = valid_statement(HWSIGN_MAX_STATEMENT + 500, &one);
    uint8_t chunk[100];
    uint32_t id = 1;
    int fd = raw_connect(L);

    assert_non_null(r);
    memset(chunk, 'x', sizeof(chunk));
    /* DATA or SIGN with nothing staged. */
    send_data(fd, 1, chunk, 10);
    expect_failure(fd, r, 1, HWSIGN_ERR_INVALID);
    send_sign(fd, 2);
    expect_failure(fd, r, 2, HWSIGN_ERR_INVALID);

    /* BEGIN over the limit, or of nothing. */
    send_begin(fd, 3, "k1", INTOTO_PAYLOAD_TYPE, (uint64_t)HWSIGN_MAX_STAGED_STATEMENT + 1);
    expect_failure(fd, r, 3, HWSIGN_ERR_TOO_LARGE);
    send_begin(fd, 4, "k1", INTOTO_PAYLOAD_TYPE, UINT64_MAX);
    expect_failure(fd, r, 4, HWSIGN_ERR_TOO_LARGE);
    send_begin(fd, 5, "k1", INTOTO_PAYLOAD_TYPE, 0);
    expect_failure(fd, r, 5, HWSIGN_ERR_INVALID);
    assert_int_equal(budget(L), 0);

    /* DATA past the declared length: TOO_LARGE, and the stage is gone. */
    send_begin(fd, 10, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 10);
    assert_int_equal(budget(L), 100);
    send_data(fd, 11, chunk, 60);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, 11);
    assert_true(reply_u64(r) == 60);
    send_data(fd, 12, chunk, 41);
    expect_failure(fd, r, 12, HWSIGN_ERR_TOO_LARGE);
    assert_int_equal(budget(L), 0);
    send_data(fd, 13, chunk, 1);
    expect_failure(fd, r, 13, HWSIGN_ERR_INVALID);
    /* Exactly the declared length is fine (the 40 left after 60). */
    send_begin(fd, 14, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 14);
    send_data(fd, 15, chunk, 60);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, 15);
    send_data(fd, 16, chunk, 40);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, 16);
    assert_true(reply_u64(r) == 100);
    /* ... and then one byte more is too much. */
    send_data(fd, 17, chunk, 1);
    expect_failure(fd, r, 17, HWSIGN_ERR_TOO_LARGE);
    assert_int_equal(budget(L), 0);

    /* An empty DATA chunk is invalid and drops the stage too. */
    send_begin(fd, 20, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 20);
    send_data(fd, 21, chunk, 0);
    expect_failure(fd, r, 21, HWSIGN_ERR_INVALID);
    assert_int_equal(budget(L), 0);
    send_data(fd, 22, chunk, 1);
    expect_failure(fd, r, 22, HWSIGN_ERR_INVALID);

    /* SIGN before every byte arrived: INVALID, the stage is dropped. What did arrive is a
     * complete, valid statement (the declared length has one byte more, e.g. a trailing
     * space), so only the byte count can tell it is incomplete. */
    id = 30;
    send_begin(fd, id, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STATEMENT + 501);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, id++);
    stage_data(fd, r, &id, stmt, HWSIGN_MAX_STATEMENT + 500);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    assert_int_equal(budget(L), 0);
    send_data(fd, id, (const uint8_t *)" ", 1);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);

    /* Any other request between the frames succeeds and drops the stage. */
    send_begin(fd, 40, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 40);
    send_data(fd, 41, chunk, 50);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, 41);
    send_frame(fd, HWSIGN_MSG_STATUS, 42, NULL, 0);
    expect_ok(fd, r, HWSIGN_MSG_STATUS, 42);
    assert_int_equal(budget(L), 0);
    send_data(fd, 43, chunk, 50);
    expect_failure(fd, r, 43, HWSIGN_ERR_INVALID);
    send_sign(fd, 44);
    expect_failure(fd, r, 44, HWSIGN_ERR_INVALID);
    /* ... an unknown type (refused) drops it as well. */
    send_begin(fd, 45, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 45);
    send_frame(fd, 0x55, 46, NULL, 0);
    expect_failure(fd, r, 46, HWSIGN_ERR_UNSUPPORTED);
    assert_int_equal(budget(L), 0);
    send_data(fd, 47, chunk, 1);
    expect_failure(fd, r, 47, HWSIGN_ERR_INVALID);

    /* A new BEGIN replaces the old: its length and budget count, not the first one's. */
    send_begin(fd, 50, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 50);
    send_data(fd, 51, chunk, 30);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, 51);
    send_begin(fd, 52, "k2", INTOTO_PAYLOAD_TYPE, 10);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 52);
    assert_int_equal(budget(L), 10);
    send_data(fd, 53, chunk, 11); /* would have fit the first */
    expect_failure(fd, r, 53, HWSIGN_ERR_TOO_LARGE);
    assert_int_equal(budget(L), 0);
    /* ... and a replaced stage starts from zero: the whole statement staged again signs. */
    send_begin(fd, 54, "k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_BEGIN, 54);
    send_data(fd, 55, chunk, 99);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_DATA, 55);
    id = 56;
    stage_all(fd, r, &id, "k1", stmt, HWSIGN_MAX_STATEMENT + 500);
    assert_int_equal(budget(L), HWSIGN_MAX_STATEMENT + 500);
    send_sign(fd, id);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_SIGN, id++);
    assert_stage_signature(L, 0, r, stmt, HWSIGN_MAX_STATEMENT + 500);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    wait_budget(L, 0);
    /* The signed stage is consumed: a second SIGN has nothing to sign. */
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);

    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    assert_int_equal(fake_backend_sign_calls(L->fb[1]), 0);
    close(fd);
    wait_budget(L, 0);
    free(stmt);
    free(r);
}

/* 2 and 4. What is staged is judged: in-toto, payload type, key, subjects, parse cost. */
static void test_stage_content_errors(void **state)
{
    struct loop *L = *state;
    struct reply *r = malloc(sizeof(*r));
    static const struct stmt_spec old_type = {.type = "https://in-toto.io/Statement/v0.1"};
    size_t len = HWSIGN_MAX_STATEMENT + 1000;
    uint8_t *v01 = make_statement(len, &old_type), *junk = malloc(len);
    struct intoto_statement *st = NULL;
    uint32_t id = 1;
    int fd = raw_connect(L);

    assert_non_null(r);
    assert_non_null(junk);
    memset(junk, '{', len);
    assert_int_not_equal(intoto_statement_parse(v01, len, &st), 0);

    /* Not an in-toto Statement v1: INVALID at SIGN, nothing signed, the stage dropped. */
    stage_all(fd, r, &id, "k1", v01, len);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    wait_budget(L, 0); /* the judging job returns it as it ends */
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    stage_all(fd, r, &id, "k1", junk, len);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    wait_budget(L, 0); /* the judging job returns it as it ends */

    /* Another payload type, an unknown key, a malformed key name: refused at BEGIN. */
    send_begin(fd, id, "k1", "application/json", 100);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    send_begin(fd, id, "nope", INTOTO_PAYLOAD_TYPE, 100);
    expect_failure(fd, r, id++, HWSIGN_ERR_NO_KEY);
    send_begin(fd, id, "../k1", INTOTO_PAYLOAD_TYPE, 100);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    send_begin(fd, id, "k1", "", 100);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);
    assert_int_equal(budget(L), 0);
    send_data(fd, id, junk, 1);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);

    /* 4. Subjects that do not fit one signing-log record: TOO_LARGE at SIGN. 20 names of 4000
     * bytes take 20 * LOGREC_SUBJECT_BYTES(4000) bytes, well over LOGREC_MAX_SUBJECT_BYTES. */
    {
        static const struct stmt_spec many = {.n_subjects = 20, .name_len = 4000};
        size_t big_len = 100u * 1024u;
        uint8_t *big = valid_statement(big_len, &many);

        assert_true(20 * LOGREC_SUBJECT_BYTES(4000) > LOGREC_MAX_SUBJECT_BYTES);
        stage_all(fd, r, &id, "k1", big, big_len);
        send_sign(fd, id);
        expect_failure(fd, r, id++, HWSIGN_ERR_TOO_LARGE);
        wait_budget(L, 0); /* the judging job returns it as it ends */
        free(big);
    }
    /* Within the size limit, but too many JSON values to parse: TOO_LARGE, nothing signed. */
    {
        size_t costly_len = 4u * 1024u * 1024u;
        uint8_t *costly = make_costly_statement(costly_len);

        assert_int_equal(intoto_statement_parse(costly, costly_len, &st), -EMSGSIZE);
        stage_all(fd, r, &id, "k1", costly, costly_len);
        send_sign(fd, id);
        expect_failure(fd, r, id++, HWSIGN_ERR_TOO_LARGE);
        wait_budget(L, 0);
        free(costly);
    }
    /* The key is judged again at SIGN: deleted meanwhile (by another connection), NO_KEY. */
    {
        struct hwsign_client *admin = client(L);
        uint8_t *stmt = valid_statement(len, &(struct stmt_spec){0});

        stage_all(fd, r, &id, "k1", stmt, len);
        assert_int_equal(hwsign_key_delete(admin, "k1", 0), 0);
        send_sign(fd, id);
        expect_failure(fd, r, id++, HWSIGN_ERR_NO_KEY);
        wait_budget(L, 0);
        hwsign_disconnect(admin);
        free(stmt);
    }
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 0);
    assert_int_equal(fake_backend_sign_calls(L->fb[1]), 0);
    close(fd);
    wait_budget(L, 0);
    free(junk);
    free(v01);
    free(r);
}

/* 4. The subject limit at its edge, through the client: exactly LOGREC_MAX_SUBJECT_BYTES signs,
 * one name byte more is refused (-EMSGSIZE from TOO_LARGE). */
static void test_stage_subject_limit(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    /* 11 subjects: 11 * (40 + name) = LOGREC_MAX_SUBJECT_BYTES for the name below. */
    enum { N = 11 };
    size_t name = LOGREC_MAX_SUBJECT_BYTES / N - LOGREC_SUBJECT_BYTES(0);
    size_t len = 64u * 1024u;
    struct stmt_spec fits = {.n_subjects = N, .name_len = name};
    struct stmt_spec over = {.n_subjects = N, .name_len = name, .last_name_extra = 1};
    uint8_t *ok, *bad;
    char *env = NULL;
    size_t env_len = 0;

    assert_int_equal(N * LOGREC_SUBJECT_BYTES(name), LOGREC_MAX_SUBJECT_BYTES);
    assert_true(name + 1 <= INTOTO_MAX_NAME);
    ok = valid_statement(len, &fits);
    bad = valid_statement(len, &over);
    assert_int_equal(hwsign_sign_statement(c, "k1", INTOTO_PAYLOAD_TYPE, ok, len, &env, &env_len),
                     0);
    assert_envelope(L, 0, env, env_len, ok, len);
    free(env);
    env = NULL;
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    assert_int_equal(hwsign_sign_statement(c, "k1", INTOTO_PAYLOAD_TYPE, bad, len, &env, &env_len),
                     -EMSGSIZE);
    assert_null(env);
    assert_non_null(strstr(hwsign_client_error(c), "signing-log record"));
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    wait_budget(L, 0);
    assert_status_ok(c);
    free(ok);
    free(bad);
    hwsign_disconnect(c);
}

/* 3. The agent-wide budget: two 16 MiB stages fill it; a third waits for one to go. */
static void test_stage_budget(void **state)
{
    struct loop *L = *state;
    struct reply *r = malloc(sizeof(*r));
    int a = raw_connect(L), b = raw_connect(L), c = raw_connect(L);
    uint8_t byte = 'x';

    assert_non_null(r);
    assert_int_equal(2u * HWSIGN_MAX_STAGED_STATEMENT, HWSIGN_MAX_STAGED_TOTAL);
    send_begin(a, 1, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT);
    expect_ok(a, r, HWSIGN_MSG_STATEMENT_BEGIN, 1);
    send_begin(b, 2, "k2", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT);
    expect_ok(b, r, HWSIGN_MSG_STATEMENT_BEGIN, 2);
    assert_int_equal(budget(L), HWSIGN_MAX_STAGED_TOTAL);

    /* Full: even one byte is refused as BUSY (retry later), and nothing is reserved. */
    send_begin(c, 3, "k1", INTOTO_PAYLOAD_TYPE, 1);
    expect_failure(c, r, 3, HWSIGN_ERR_BUSY);
    assert_int_equal(budget(L), HWSIGN_MAX_STAGED_TOTAL);
    send_data(c, 4, &byte, 1);
    expect_failure(c, r, 4, HWSIGN_ERR_INVALID);
    /* A BEGIN that replaces a connection's own stage frees it first: a's second BEGIN fits. */
    send_begin(a, 5, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT);
    expect_ok(a, r, HWSIGN_MSG_STATEMENT_BEGIN, 5);
    assert_int_equal(budget(L), HWSIGN_MAX_STAGED_TOTAL);
    /* The staged connections stay usable (data still flows into a full budget). */
    send_data(a, 6, &byte, 1);
    expect_ok(a, r, HWSIGN_MSG_STATEMENT_DATA, 6);

    /* a closes: its 16 MiB come back once the loop has seen the close. */
    close(a);
    wait_budget(L, HWSIGN_MAX_STAGED_STATEMENT);
    send_begin(c, 7, "k1", INTOTO_PAYLOAD_TYPE, 1);
    expect_ok(c, r, HWSIGN_MSG_STATEMENT_BEGIN, 7);
    assert_int_equal(budget(L), HWSIGN_MAX_STAGED_STATEMENT + 1);
    /* Exactly the rest of the budget still fits; one byte more does not. */
    {
        int d = raw_connect(L);
        send_begin(d, 8, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT);
        expect_failure(d, r, 8, HWSIGN_ERR_BUSY);
        send_begin(d, 9, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT - 1);
        expect_ok(d, r, HWSIGN_MSG_STATEMENT_BEGIN, 9);
        assert_int_equal(budget(L), HWSIGN_MAX_STAGED_TOTAL);
        close(d);
    }
    close(b);
    close(c);
    wait_budget(L, 0);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]) + fake_backend_sign_calls(L->fb[1]), 0);
    free(r);
}

struct sign_call {
    struct loop *L;
    const uint8_t *stmt;
    size_t len;
    char *env;
    size_t env_len;
    int r;
    bool done; /* atomic */
};

static void *sign_thread(void *arg)
{
    struct sign_call *a = arg;
    struct hwsign_client *c = NULL;

    a->r = hwsign_connect(a->L->sock, &c);
    if (a->r == 0)
        a->r = hwsign_sign_statement(c, "k2", INTOTO_PAYLOAD_TYPE, a->stmt, a->len, &a->env,
                                     &a->env_len);
    hwsign_disconnect(c);
    __atomic_store_n(&a->done, true, __ATOMIC_SEQ_CST);
    return NULL;
}

/* 3. libhwsign waits (retrying BEGIN) while the budget is full, and signs once there is room. */
static void test_stage_client_waits(void **state)
{
    struct loop *L = *state;
    struct reply *r = malloc(sizeof(*r));
    static const struct stmt_spec one = {0};
    uint8_t *stmt = valid_statement(STAGE_BIG, &one);
    /* On the heap: should the thread outlive a failed assertion, it still owns valid memory. */
    struct sign_call *call = calloc(1, sizeof(*call));
    int a = raw_connect(L), b = raw_connect(L);
    uint64_t until;
    pthread_t t;
    struct timespec ts;

    assert_non_null(r);
    assert_non_null(call);
    *call = (struct sign_call){.L = L, .stmt = stmt, .len = STAGE_BIG};
    send_begin(a, 1, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT);
    expect_ok(a, r, HWSIGN_MSG_STATEMENT_BEGIN, 1);
    send_begin(b, 2, "k1", INTOTO_PAYLOAD_TYPE, HWSIGN_MAX_STAGED_STATEMENT);
    expect_ok(b, r, HWSIGN_MSG_STATEMENT_BEGIN, 2);
    assert_int_equal(pthread_create(&t, NULL, sign_thread, call), 0);
    /* Refused BUSY, the client keeps retrying instead of failing. */
    until = mono_ms() + 300;
    while (mono_ms() < until) {
        struct pollfd p = {.fd = -1};
        assert_false(__atomic_load_n(&call->done, __ATOMIC_SEQ_CST));
        (void)poll(&p, 0, 10); /* pacing, not synchronisation */
    }
    assert_int_equal(fake_backend_sign_calls(L->fb[1]), 0);
    close(a);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    assert_int_equal(pthread_timedjoin_np(t, NULL, &ts), 0);
    assert_int_equal(call->r, 0);
    assert_envelope(L, 1, call->env, call->env_len, call->stmt, call->len);
    assert_int_equal(fake_backend_sign_calls(L->fb[1]), 1);
    close(b);
    wait_budget(L, 0);
    free(call->env);
    free(call);
    free(stmt);
    free(r);
}

/* 3. A signing job holds its statement's budget until it ends: success, device failures, and a
 * peer that leaves while its job runs. */
static void test_stage_job_budget(void **state)
{
    struct loop *L = *state;
    struct reply *r = malloc(sizeof(*r));
    static const struct stmt_spec one = {0};
    size_t len = HWSIGN_MAX_STATEMENT + 2000;
    uint8_t *stmt = valid_statement(len, &one);
    uint32_t id = 1;
    int fd = raw_connect(L);

    assert_non_null(r);
    /* A stuck device: the job owns the bytes while it waits; they return when it ends. */
    fake_backend_set_mode(L->fb[0], FAKE_SLOW, SLOW_MS);
    stage_all(fd, r, &id, "k1", stmt, len);
    send_sign(fd, id);
    assert_true(fake_backend_wait_entered(L->fb[0], 1, WAIT_MS));
    assert_int_equal(budget(L), len);
    expect_quiet(fd);
    fake_backend_set_mode(L->fb[0], FAKE_OK, 0);
    fake_backend_release(L->fb[0]);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_SIGN, id++);
    assert_stage_signature(L, 0, r, stmt, len);
    wait_budget(L, 0);

    /* Device unplugged, then a signature that does not verify: failures return the bytes. */
    fake_backend_set_mode(L->fb[0], FAKE_UNAVAILABLE, 0);
    stage_all(fd, r, &id, "k1", stmt, len);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_UNAVAILABLE);
    wait_budget(L, 0);
    fake_backend_set_mode(L->fb[0], FAKE_WRONG, 0);
    stage_all(fd, r, &id, "k1", stmt, len);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_BAD_SIGNATURE);
    wait_budget(L, 0);
    /* Nothing left staged after a failed job: SIGN has nothing to sign. */
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_INVALID);

    /* The peer goes away while its job is stuck: the job still returns the bytes at its end. */
    fake_backend_set_mode(L->fb[0], FAKE_SLOW, SLOW_MS);
    stage_all(fd, r, &id, "k1", stmt, len);
    {
        unsigned entered = fake_backend_sign_calls(L->fb[0]);
        send_sign(fd, id++);
        assert_true(fake_backend_wait_entered(L->fb[0], entered + 1, WAIT_MS));
    }
    close(fd);
    assert_int_equal(budget(L), len);
    fake_backend_set_mode(L->fb[0], FAKE_OK, 0);
    fake_backend_release(L->fb[0]);
    wait_budget(L, 0);

    /* And the device and agent are fine afterwards. */
    {
        struct hwsign_client *c = client(L);
        char *env = NULL;
        size_t env_len = 0;
        assert_int_equal(
                hwsign_sign_statement(c, "k1", INTOTO_PAYLOAD_TYPE, stmt, len, &env, &env_len), 0);
        assert_envelope(L, 0, env, env_len, stmt, len);
        free(env);
        hwsign_disconnect(c);
    }
    wait_budget(L, 0);
    free(stmt);
    free(r);
}

/* k1 signs STAGE_PTYPE_OK statements only; k2 may also be used by uid STAGE_NOBODY. */
static void policy_config(struct agent_config *cfg)
{
    cfg->keys = calloc(2, sizeof(*cfg->keys));
    assert_non_null(cfg->keys);
    cfg->n_keys = 2;
    memcpy(cfg->keys[0].name, "k1", 3);
    memcpy(cfg->keys[0].predicate_types[0], STAGE_PTYPE_OK, sizeof(STAGE_PTYPE_OK));
    cfg->keys[0].n_predicate_types = 1;
    memcpy(cfg->keys[1].name, "k2", 3);
    memcpy(cfg->keys[1].users.v[0].name, "nobody", 7);
    cfg->keys[1].users.v[0].id = STAGE_NOBODY;
    cfg->keys[1].users.n = 1;
}

/* In the forked child (no cmocka, no allocation): one request frame, then the whole reply; its type
 * and (for a FAILURE) code. 0, or -1 on any I/O failure, oversized reply or timeout. */
static int child_call(int fd, const uint8_t *frame, size_t len, uint8_t *ret_type,
                      uint32_t *ret_code)
{
    uint8_t in[HWSIGN_FRAME_HEADER + HWSIGN_MSG_HEADER + 8 + HWSIGN_MAX_TEXT];
    uint64_t deadline = mono_ms() + WAIT_MS;
    uint32_t blen;

    if (send(fd, frame, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    if (recv_exact(fd, in, HWSIGN_FRAME_HEADER, deadline) != 1)
        return -1;
    blen = ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
    if (blen < HWSIGN_MSG_HEADER || blen > sizeof(in) - HWSIGN_FRAME_HEADER ||
        recv_exact(fd, in + HWSIGN_FRAME_HEADER, blen, deadline) != 1)
        return -1;
    *ret_type = in[4];
    *ret_code = blen >= HWSIGN_MSG_HEADER + 4 ? ((uint32_t)in[9] << 24) | ((uint32_t)in[10] << 16) |
                                                        ((uint32_t)in[11] << 8) | in[12]
                                              : 0;
    return 0;
}

/* The child's part of the peer-policy check: exit status 0 when every answer was right. */
static int child_as_nobody(const char *sock, const uint8_t *begin_k1, size_t k1_len,
                           const uint8_t *begin_k2, size_t k2_len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    uint8_t type;
    uint32_t code;
    int fd;

    if (setgroups(0, NULL) < 0 || setresgid(STAGE_NOBODY, STAGE_NOBODY, STAGE_NOBODY) < 0 ||
        setresuid(STAGE_NOBODY, STAGE_NOBODY, STAGE_NOBODY) < 0)
        return 2;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return 3;
    /* k1 does not name this uid: DENIED before anything is reserved. */
    if (child_call(fd, begin_k1, k1_len, &type, &code) < 0)
        return 4;
    if (type != HWSIGN_MSG_FAILURE || code != HWSIGN_ERR_DENIED)
        return 5;
    /* k2 does: the same BEGIN is accepted. */
    if (child_call(fd, begin_k2, k2_len, &type, &code) < 0)
        return 6;
    if (type != (HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_BEGIN))
        return 7;
    close(fd);
    return 0;
}

/* 2. Policy: the key's predicate types (judged at SIGN) and its users (judged at BEGIN). */
static void test_stage_policy(void **state)
{
    struct loop *L =
            loop_start_cfg(HWSIGN_IDLE_TIMEOUT_MS, HWSIGN_REQUEST_DEADLINE_MS, policy_config);
    struct reply *r = malloc(sizeof(*r));
    static const struct stmt_spec other = {.predicate_type = STAGE_PTYPE_OTHER};
    static const struct stmt_spec allowed = {0};
    size_t len = HWSIGN_MAX_STATEMENT + 100;
    uint8_t *deny = valid_statement(len, &other), *ok = valid_statement(len, &allowed);
    uint32_t id = 1;
    int fd = raw_connect(L);

    assert_non_null(r);
    /* A predicate type k1 may not sign: DENIED, nothing signed, bytes returned. */
    stage_all(fd, r, &id, "k1", deny, len);
    send_sign(fd, id);
    expect_failure(fd, r, id++, HWSIGN_ERR_DENIED);
    wait_budget(L, 0); /* the judging job returns it as it ends */
    stage_all(fd, r, &id, "k1", ok, len);
    send_sign(fd, id);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_SIGN, id++);
    assert_stage_signature(L, 0, r, ok, len);
    /* k2 has no predicate restriction. */
    stage_all(fd, r, &id, "k2", deny, len);
    send_sign(fd, id);
    expect_ok(fd, r, HWSIGN_MSG_STATEMENT_SIGN, id++);
    assert_stage_signature(L, 1, r, deny, len);
    close(fd);
    wait_budget(L, 0);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);

    /* A peer the key's policy does not name. It takes a second uid, so only as root. */
    if (geteuid() == 0) {
        uint8_t k1[256], k2[256];
        size_t k1_len, k2_len;
        char run[128];
        struct sbuf *b = sbuf_new(256);
        pid_t pid;
        int st = 0;

        assert_non_null(b);
        assert_int_equal(sbuf_put_cstring(b, "k1"), 0);
        assert_int_equal(sbuf_put_cstring(b, INTOTO_PAYLOAD_TYPE), 0);
        assert_int_equal(sbuf_put_u64(b, len), 0);
        k1_len = put_frame(k1, HWSIGN_MSG_STATEMENT_BEGIN, 1, sbuf_ptr(b), sbuf_len(b));
        k2_len = put_frame(k2, HWSIGN_MSG_STATEMENT_BEGIN, 2, sbuf_ptr(b), sbuf_len(b));
        k2[9 + 4 + 1] = '2'; /* the key name's only byte: "k1" -> "k2" */
        sbuf_free(b);
        /* Let nobody reach the socket in the test's private directory. */
        (void)snprintf(run, sizeof(run), "%s/run", L->dir);
        assert_int_equal(chmod(L->dir, 0755), 0);
        assert_int_equal(chmod(run, 0755), 0);
        assert_int_equal(chmod(L->sock, 0666), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(child_as_nobody(L->sock, k1, k1_len, k2, k2_len));
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) != 0)
            fail_msg("unprivileged peer: step %d failed", WEXITSTATUS(st));
        /* Its accepted stage went with its connection. */
        wait_budget(L, 0);
    } else
        print_message("skipped the foreign-uid policy check: needs root to change uid\n");
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    assert_int_equal(fake_backend_sign_calls(L->fb[1]), 1);
    free(deny);
    free(ok);
    free(r);
    loop_stop(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_stage_client_sign, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_client_limits, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_sequence_errors, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_content_errors, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_subject_limit, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_budget, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_client_waits, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_stage_job_budget, setup_default, teardown),
            cmocka_unit_test(test_stage_policy),
            /* The inline judge (no worker thread) must behave the same. */
            cmocka_unit_test_setup_teardown(test_stage_client_sign, setup_inline_judge, teardown),
            cmocka_unit_test_setup_teardown(test_stage_sequence_errors, setup_inline_judge,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_stage_content_errors, setup_inline_judge,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_stage_job_budget, setup_inline_judge, teardown),
    };

    loop_block_signals();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
