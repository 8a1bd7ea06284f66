/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's event loop end to end, without hardware (the fixture: agent-loop-fixture.h): a
 * real event loop, real device workers, a real socket and the real client library, against fake
 * backends that sign with an OpenSSL key, sign wrongly, report the device absent, or block like a
 * stuck device. Signing and faults, every message type, frame limits, pipelining, half-close,
 * device isolation, request deadlines, idle timeouts, draining at SIGTERM and key management.
 * Staged statements are in test-agent-stage.c.
 *
 * Every wait is bounded (poll with a deadline); nothing sleeps to synchronise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <hwsign/hwsign.h>

#include "agent-loop-fixture.h"
#include "crypto.h"
#include "fake-backend.h"

/* ---- helpers of these tests ---- */

/* The peer closes: EOF (or a reset) before the deadline, with no further frame. */
static void expect_closed(int fd, unsigned timeout_ms)
{
    uint64_t deadline = mono_ms() + timeout_ms;
    uint8_t b;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t now = mono_ms();
        ssize_t n;
        if (now >= deadline)
            fail_msg("connection not closed within %u ms", timeout_ms);
        if (poll(&p, 1, (int)(deadline - now)) == 0)
            continue;
        n = recv(fd, &b, 1, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        fail_msg("expected the agent to close, got %zd (byte 0x%02x)", n, b);
    }
}

static const uint8_t digest32[32] = {0xde, 0xad, 0xbe, 0xef, 1,  2,  3,  4,  5,  6,  7,
                                     8,    9,    10,   11,   12, 13, 14, 15, 16, 17, 18,
                                     19,   20,   21,   22,   23, 24, 25, 26, 27, 28};

/* A SIGN_DIGEST frame (sha256, default scheme) for key name; returns its length. */
static size_t put_sign_frame(uint8_t *buf, uint32_t id, const char *key)
{
    uint8_t body[128];
    size_t n = 0, kl = strlen(key);

    body[n++] = 0;
    body[n++] = 0;
    body[n++] = 0;
    body[n++] = (uint8_t)kl;
    memcpy(body + n, key, kl);
    n += kl;
    body[n++] = HWSIGN_HASH_SHA256;
    body[n++] = HWSIGN_SCHEME_DEFAULT;
    body[n++] = 0;
    body[n++] = 0;
    body[n++] = 0;
    body[n++] = 32;
    memcpy(body + n, digest32, 32);
    n += 32;
    return put_frame(buf, HWSIGN_MSG_SIGN_DIGEST, id, body, n);
}

/* The signature in a SIGN_DIGEST reply verifies against backend b's key. */
static void assert_signature_reply(struct loop *L, int b, const struct reply *r, uint32_t id)
{
    size_t spki_len, sig_len;
    const uint8_t *spki = fake_backend_spki(L->fb[b], &spki_len);

    assert_int_equal(r->type, HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_DIGEST);
    assert_int_equal(r->id, id);
    assert_true(r->len > 4);
    sig_len = ((size_t)r->body[0] << 24) | ((size_t)r->body[1] << 16) | ((size_t)r->body[2] << 8) |
              r->body[3];
    /* The signature, the u64 log index, then the log entry string (empty: no log here). */
    assert_int_equal(sig_len + 4 + 8 + 4, r->len);
    assert_memory_equal(r->body + 4 + sig_len + 8, "\0\0\0\0", 4);
    assert_int_equal(sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                       digest32, 32, r->body + 4, sig_len),
                     0);
}

static int client_sign(struct loop *L, struct hwsign_client *c, const char *key, int b)
{
    uint8_t *sig = NULL;
    size_t sig_len = 0, spki_len;
    const uint8_t *spki = fake_backend_spki(L->fb[b], &spki_len);
    int r = hwsign_sign_digest(c, key, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest32, 32,
                               &sig, &sig_len);
    if (r < 0) {
        assert_null(sig);
        return r;
    }
    assert_int_equal(sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                       digest32, 32, sig, sig_len),
                     0);
    free(sig);
    return 0;
}

/* ---- tests ---- */

static void test_sign_round_trip(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    struct hwsign_status *s = NULL;
    struct hwsign_key_info *keys = NULL, *k = NULL;
    size_t n = 0, spki_len;
    const uint8_t *spki;
    uint8_t *sig = (uint8_t *)0x1;
    size_t sig_len = 0xA5;

    assert_int_equal(hwsign_status(c, &s), 0);
    assert_string_equal(s->version, HWSIGN_VERSION);
    assert_int_equal(s->nkeys, 2);
    assert_int_equal(s->nconnections, 1);
    assert_int_equal(s->nbackends, 2);
    assert_string_equal(s->backends[0].name, "dev1");
    assert_string_equal(s->backends[0].kind, FAKE_KIND);
    assert_int_equal(s->backends[0].state, HWSIGN_BACKEND_OK);
    assert_string_equal(s->backends[1].name, "dev2");
    hwsign_status_free(s);

    assert_int_equal(hwsign_list_keys(c, &keys, &n), 0);
    assert_int_equal(n, 2);
    assert_null(keys[0].spki);
    hwsign_key_list_free(keys, n);

    assert_int_equal(hwsign_key_info(c, "k1", &k), 0);
    spki = fake_backend_spki(L->fb[0], &spki_len);
    assert_int_equal(k->spki_len, spki_len);
    assert_memory_equal(k->spki, spki, spki_len);
    assert_string_equal(k->backend, "dev1");
    hwsign_key_info_free(k);

    assert_int_equal(client_sign(L, c, "k1", 0), 0);
    assert_int_equal(client_sign(L, c, "k2", 1), 0);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 1);
    assert_int_equal(fake_backend_sign_calls(L->fb[1]), 1);

    /* SHA-512 digest with a P-256 key (what the device is asked to do is the agent's job). */
    {
        uint8_t d64[64];
        memset(d64, 7, sizeof(d64));
        assert_int_equal(hwsign_sign_digest(c, "k1", HWSIGN_HASH_SHA512, HWSIGN_SCHEME_DEFAULT, d64,
                                            64, &sig, &sig_len),
                         0);
        assert_int_equal(sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA512,
                                           HWSIGN_SCHEME_DEFAULT, d64, 64, sig, sig_len),
                         0);
        free(sig);
        sig = (uint8_t *)0x1;
        sig_len = 0xA5;
    }
    /* Unknown key, PSS on an EC key: refused before any device call; outputs untouched. */
    assert_int_equal(hwsign_sign_digest(c, "nope", HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                        digest32, 32, &sig, &sig_len),
                     -ENOKEY);
    assert_int_equal(hwsign_sign_digest(c, "k1", HWSIGN_HASH_SHA256, HWSIGN_SCHEME_RSA_PSS,
                                        digest32, 32, &sig, &sig_len),
                     -EINVAL);
    assert_ptr_equal(sig, (uint8_t *)0x1);
    assert_int_equal(sig_len, 0xA5);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 2);
    hwsign_disconnect(c);
}

static void test_device_faults(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    struct hwsign_status *s = NULL;
    uint8_t buf[256];
    struct reply *r = malloc(sizeof(*r));
    int fd;

    assert_non_null(r);
    /* A signature that does not verify never leaves the agent. */
    fake_backend_set_mode(L->fb[0], FAKE_WRONG, 0);
    assert_int_equal(client_sign(L, c, "k1", 0), -ENOTRECOVERABLE);
    fd = raw_connect(L);
    send_all(fd, buf, put_sign_frame(buf, 77, "k1"));
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_int_equal(r->id, 77);
    assert_int_equal(failure_code(r), HWSIGN_ERR_BAD_SIGNATURE);
    close(fd);
    /* The other backend is unaffected. */
    assert_int_equal(client_sign(L, c, "k2", 1), 0);

    /* Device absent: "unavailable", shown in STATUS. */
    fake_backend_set_mode(L->fb[0], FAKE_UNAVAILABLE, 0);
    assert_int_equal(client_sign(L, c, "k1", 0), -ENODEV);
    assert_int_equal(hwsign_status(c, &s), 0);
    assert_int_equal(s->backends[0].state, HWSIGN_BACKEND_UNAVAILABLE);
    assert_string_equal(s->backends[0].detail, "fake device unplugged");
    assert_int_equal(s->backends[1].state, HWSIGN_BACKEND_OK);
    hwsign_status_free(s);

    /* Device back: serving again without a restart. */
    fake_backend_set_mode(L->fb[0], FAKE_OK, 0);
    assert_int_equal(client_sign(L, c, "k1", 0), 0);
    hwsign_disconnect(c);
    free(r);
}

static bool known_request(unsigned t)
{
    switch (t) {
    case HWSIGN_MSG_STATUS:
    case HWSIGN_MSG_LIST_KEYS:
    case HWSIGN_MSG_KEY_INFO:
    case HWSIGN_MSG_SIGN_DIGEST:
    case HWSIGN_MSG_SIGN_STATEMENT:
    case HWSIGN_MSG_LOG_CHECKPOINT:
    case HWSIGN_MSG_LOG_PROOF:
    case HWSIGN_MSG_SIGN_PROVENANCE:
    case HWSIGN_MSG_TPM_QUOTE:
    case HWSIGN_MSG_KEY_CERTIFY:
    case HWSIGN_MSG_STATEMENT_BEGIN:
    case HWSIGN_MSG_STATEMENT_DATA:
    case HWSIGN_MSG_STATEMENT_SIGN:
    case HWSIGN_MSG_KEY_CREATE:
    case HWSIGN_MSG_KEY_ADD:
    case HWSIGN_MSG_KEY_DELETE:
        return true;
    default:
        return false;
    }
}

static void test_all_types(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *other = client(L);
    static const size_t body_lens[] = {0, 1, 3, 8000};
    uint8_t *body = malloc(8000), *frame = malloc(8100);
    struct reply *r = malloc(sizeof(*r));
    unsigned replies = 0;

    assert_non_null(body);
    assert_non_null(frame);
    assert_non_null(r);
    memset(body, 'A', 8000);
    for (unsigned t = 0; t < 256; t++) {
        int fd = raw_connect(L);
        for (size_t i = 0; i < ELEMENTSOF(body_lens); i++) {
            uint32_t id = (t << 8) | (uint32_t)i | 0x10000u;
            size_t n = put_frame(frame, (uint8_t)t, id, body, body_lens[i]);
            int k;

            send_all(fd, frame, n);
            k = read_reply(fd, r, WAIT_MS);
            if (k == 0) { /* a close is a defined answer; go on with a fresh connection */
                close(fd);
                fd = raw_connect(L);
                continue;
            }
            assert_int_equal(k, 1);
            replies++;
            if (r->id != id)
                fail_msg("type %u body %zu: reply id %u, want %u", t, body_lens[i], r->id, id);
            if (r->type == HWSIGN_MSG_FAILURE) {
                uint32_t code = failure_code(r);
                assert_true(code >= 1 && code < _HWSIGN_ERR_MAX);
                if (!known_request(t) && code != HWSIGN_ERR_UNSUPPORTED)
                    fail_msg("type %u: code %u, want UNSUPPORTED", t, code);
            } else {
                /* Only STATUS and LIST_KEYS succeed, and only with an empty body. */
                if (r->type != (HWSIGN_MSG_REPLY | t) || !known_request(t) || body_lens[i] != 0)
                    fail_msg("type %u body %zu: unexpected reply type 0x%02x", t, body_lens[i],
                             r->type);
            }
        }
        close(fd);
        /* A concurrent client is served between every type. */
        assert_status_ok(other);
    }
    assert_int_equal(replies, 256 * ELEMENTSOF(body_lens));
    /* Nothing changed state: both keys still there, nothing signed. */
    {
        struct hwsign_status *s = NULL;
        assert_int_equal(hwsign_status(other, &s), 0);
        assert_int_equal(s->nkeys, 2);
        hwsign_status_free(s);
    }
    assert_int_equal(fake_backend_sign_calls(L->fb[0]), 0);
    hwsign_disconnect(other);
    free(body);
    free(frame);
    free(r);
}

static void test_frame_limits(void **state)
{
    struct loop *L = *state;
    static const uint32_t too_big[] = {HWSIGN_MAX_MSG + 1, 0x80000000u, 0xffffffffu};
    static const uint32_t too_short[] = {0, 1, 4};
    struct reply *r = malloc(sizeof(*r));
    struct hwsign_client *other = client(L);

    assert_non_null(r);
    /* Oversize length header: refused from the header alone (no body is ever sent). */
    for (size_t i = 0; i < ELEMENTSOF(too_big); i++) {
        uint8_t h[4] = {(uint8_t)(too_big[i] >> 24), (uint8_t)(too_big[i] >> 16),
                        (uint8_t)(too_big[i] >> 8), (uint8_t)too_big[i]};
        int fd = raw_connect(L);
        send_all(fd, h, 4);
        assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
        assert_int_equal(r->id, 0);
        assert_int_equal(failure_code(r), HWSIGN_ERR_TOO_LARGE);
        expect_closed(fd, WAIT_MS);
        close(fd);
    }
    for (size_t i = 0; i < ELEMENTSOF(too_short); i++) {
        uint8_t h[8] = {0, 0, 0, (uint8_t)too_short[i], 1, 0, 0, 0};
        int fd = raw_connect(L);
        send_all(fd, h, 4 + too_short[i]);
        assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
        assert_int_equal(failure_code(r), HWSIGN_ERR_MALFORMED);
        expect_closed(fd, WAIT_MS);
        close(fd);
    }
    /* 1-3 header bytes, or a header and part of the body, then EOF: refused, closed. */
    for (size_t n = 1; n <= 6; n++) {
        static const uint8_t partial[] = {0, 0, 0, 9, 1, 0, 0, 0, 1};
        int fd = raw_connect(L);
        send_all(fd, partial, n);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
        assert_int_equal(failure_code(r), HWSIGN_ERR_MALFORMED);
        expect_closed(fd, WAIT_MS);
        close(fd);
    }
    /* Exactly MAX: accepted and answered; the connection stays usable. */
    {
        uint8_t *big = calloc(1, HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG);
        uint8_t buf[16];
        int fd = raw_connect(L);
        assert_non_null(big);
        put_frame(big, 0x55, 9, NULL, 0);
        big[0] = 0;
        big[1] = 1;
        big[2] = 0;
        big[3] = 0;
        send_all(fd, big, HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG);
        assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
        assert_int_equal(r->id, 9);
        assert_int_equal(failure_code(r), HWSIGN_ERR_UNSUPPORTED);
        send_all(fd, buf, put_frame(buf, HWSIGN_MSG_STATUS, 10, NULL, 0));
        assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
        assert_int_equal(r->type, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATUS);
        close(fd);
        free(big);
    }
    assert_status_ok(other);
    hwsign_disconnect(other);
    free(r);
}

static void test_pipelined(void **state)
{
    struct loop *L = *state;
    enum { N = 256 };
    uint8_t *buf = malloc(N * 64);
    struct reply *r = malloc(sizeof(*r));
    size_t len = 0;
    int fd = raw_connect(L);

    assert_non_null(buf);
    assert_non_null(r);
    for (uint32_t i = 0; i < N; i++) {
        if (i % 2)
            len += put_sign_frame(buf + len, 1000 + i, i % 4 == 1 ? "k1" : "k2");
        else
            len += put_frame(buf + len, HWSIGN_MSG_STATUS, 1000 + i, NULL, 0);
    }
    send_all(fd, buf, len); /* one write */
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
        if (r->id != 1000 + i)
            fail_msg("reply %u has id %u: out of order", i, r->id);
        if (i % 2)
            assert_signature_reply(L, i % 4 == 1 ? 0 : 1, r, 1000 + i);
        else
            assert_int_equal(r->type, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATUS);
    }
    expect_quiet(fd);
    assert_int_equal(fake_backend_sign_calls(L->fb[0]) + fake_backend_sign_calls(L->fb[1]), N / 2);
    close(fd);
    free(buf);
    free(r);
}

static void test_half_close_and_trickle(void **state)
{
    struct loop *L = *state;
    struct reply *r = malloc(sizeof(*r));
    uint8_t buf[128];
    size_t n;
    int fd;

    assert_non_null(r);
    /* SHUT_WR right after a request that needs the device: the reply still arrives. */
    fd = raw_connect(L);
    send_all(fd, buf, put_sign_frame(buf, 5, "k1"));
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_signature_reply(L, 0, r, 5);
    expect_closed(fd, WAIT_MS);
    close(fd);

    /* Two requests then SHUT_WR: both answered, in order, then closed. */
    fd = raw_connect(L);
    n = put_frame(buf, HWSIGN_MSG_STATUS, 6, NULL, 0);
    n += put_sign_frame(buf + n, 7, "k2");
    send_all(fd, buf, n);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_int_equal(r->id, 6);
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_signature_reply(L, 1, r, 7);
    expect_closed(fd, WAIT_MS);
    close(fd);

    /* One byte per write. */
    fd = raw_connect(L);
    n = put_sign_frame(buf, 8, "k1");
    for (size_t i = 0; i < n; i++)
        send_all(fd, buf + i, 1);
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_signature_reply(L, 0, r, 8);
    close(fd);
    free(r);
}

static void test_slow_backend_isolated(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    struct hwsign_key_info *keys = NULL;
    struct reply *r = malloc(sizeof(*r));
    uint8_t buf[128];
    size_t n = 0;
    int fd;

    assert_non_null(r);
    fake_backend_set_mode(L->fb[0], FAKE_SLOW, SLOW_MS);
    fd = raw_connect(L);
    send_all(fd, buf, put_sign_frame(buf, 1, "k1"));
    assert_true(fake_backend_wait_entered(L->fb[0], 1, WAIT_MS));

    /* dev1 is stuck inside sign(): STATUS, listings and dev2 signatures still flow. */
    for (int i = 0; i < 10; i++) {
        assert_status_ok(c);
        assert_int_equal(client_sign(L, c, "k2", 1), 0);
    }
    assert_int_equal(hwsign_list_keys(c, &keys, &n), 0);
    hwsign_key_list_free(keys, n);
    expect_quiet(fd); /* ... while the slow request is still pending */

    fake_backend_release(L->fb[0]);
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_signature_reply(L, 0, r, 1);
    close(fd);
    hwsign_disconnect(c);
    free(r);
}

static void test_request_deadline(void **state)
{
    struct loop *L = loop_start(HWSIGN_IDLE_TIMEOUT_MS, 200);
    struct hwsign_client *c = client(L);
    struct hwsign_client *c2 = client(L);
    uint64_t t0;

    fake_backend_set_mode(L->fb[0], FAKE_SLOW, SLOW_MS);
    t0 = mono_ms();
    assert_int_equal(client_sign(L, c, "k1", 0), -ETIMEDOUT);
    /* Answered by the agent's deadline (200 ms + grace), long before the device returned. */
    assert_true(mono_ms() - t0 < SLOW_MS / 2);
    assert_non_null(strstr(hwsign_client_error(c), "did not answer"));
    /* The connection stays usable while the device is still stuck. */
    assert_status_ok(c);
    assert_int_equal(client_sign(L, c, "k2", 1), 0);
    /* A request queued behind the stuck one fails at its deadline too, never reaching it. */
    assert_int_equal(client_sign(L, c2, "k1", 0), -ETIMEDOUT);

    /* Device recovers: the late completion is dropped, not delivered as the next reply. */
    fake_backend_set_mode(L->fb[0], FAKE_OK, 0);
    fake_backend_release(L->fb[0]);
    assert_int_equal(client_sign(L, c, "k1", 0), 0);
    assert_int_equal(client_sign(L, c2, "k1", 0), 0);
    assert_status_ok(c);
    hwsign_disconnect(c);
    hwsign_disconnect(c2);
    loop_stop(L);
}

static void test_idle_timeout(void **state)
{
    struct loop *L = loop_start(500, HWSIGN_REQUEST_DEADLINE_MS);
    struct hwsign_client *busy = client(L);
    int silent = raw_connect(L), partial = raw_connect(L);
    static const uint8_t two[] = {0, 0};
    uint64_t t0 = mono_ms();

    send_all(partial, two, sizeof(two));
    /* A client that keeps talking is not idle. */
    while (mono_ms() - t0 < 1500) {
        struct pollfd p = {.fd = -1};
        assert_status_ok(busy);
        (void)poll(&p, 0, 50); /* pacing, not synchronisation */
    }
    /* Silent and stalled-mid-header connections were dropped. */
    expect_closed(silent, WAIT_MS);
    expect_closed(partial, WAIT_MS);
    assert_status_ok(busy);
    close(silent);
    close(partial);
    hwsign_disconnect(busy);
    loop_stop(L);
}

static void test_sigterm_drains(void **state)
{
    struct loop *L = loop_start(HWSIGN_IDLE_TIMEOUT_MS, HWSIGN_REQUEST_DEADLINE_MS);
    struct hwsign_client *c = client(L);
    struct reply *r = malloc(sizeof(*r));
    uint8_t buf[128];
    uint64_t deadline;
    struct stat st;
    int fd;

    assert_non_null(r);
    assert_status_ok(c);
    fake_backend_set_mode(L->fb[0], FAKE_SLOW, SLOW_MS);
    fd = raw_connect(L);
    send_all(fd, buf, put_sign_frame(buf, 3, "k1"));
    assert_true(fake_backend_wait_entered(L->fb[0], 1, WAIT_MS));

    /* As systemd would: a process-directed SIGTERM (blocked everywhere, read by signalfd). */
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    deadline = mono_ms() + WAIT_MS;
    while (!__atomic_load_n(&L->a.stopping, __ATOMIC_SEQ_CST)) {
        struct pollfd p = {.fd = -1};
        assert_true(mono_ms() < deadline);
        (void)poll(&p, 0, 5);
    }
    /* Draining: new device work is refused, read-only requests still answered. */
    assert_int_equal(client_sign(L, c, "k2", 1), -ESHUTDOWN);
    assert_status_ok(c);
    expect_quiet(fd);

    /* The in-flight request finishes, then the agent exits 0 and removes its socket. */
    fake_backend_release(L->fb[0]);
    assert_int_equal(read_reply(fd, r, WAIT_MS), 1);
    assert_signature_reply(L, 0, r, 3);
    assert_true(loop_join(L, WAIT_MS));
    assert_int_equal(L->status, 0);
    assert_int_equal(stat(L->sock, &st), -1);
    expect_closed(fd, WAIT_MS);
    close(fd);
    hwsign_disconnect(c);
    free(r);
    loop_stop(L);
}

static void test_key_management(void **state)
{
    struct loop *L = *state;
    struct hwsign_client *c = client(L);
    struct hwsign_key_info *k = NULL;
    char path[256];

    assert_int_equal(hwsign_key_create(c, "new1", "dev2", NULL, &k), 0);
    assert_string_equal(k->name, "new1");
    assert_string_equal(k->backend, "dev2");
    assert_string_equal(k->backend_kind, FAKE_KIND);
    assert_string_equal(k->alg, "ecdsa-p256");
    assert_string_equal(k->locator, "fake:new1");
    hwsign_key_info_free(k);
    (void)snprintf(path, sizeof(path), "%s/state/keys/new1.key", L->dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(client_sign(L, c, "new1", 1), 0);

    /* Refusals: duplicate, ambiguous backend, unknown backend, unsupported algorithm. */
    assert_int_equal(hwsign_key_create(c, "new1", "dev2", NULL, NULL), -EEXIST);
    assert_int_equal(hwsign_key_create(c, "new2", NULL, NULL, NULL), -EINVAL);
    assert_int_equal(hwsign_key_create(c, "new2", "dev9", NULL, NULL), -EINVAL);
    assert_int_equal(hwsign_key_create(c, "new2", "dev1", "ecdsa-p384", NULL), -EOPNOTSUPP);
    assert_int_equal(hwsign_key_create(c, "new2", "dev1", "dsa", NULL), -EINVAL);
    /* The failed create released its name. */
    assert_int_equal(hwsign_key_create(c, "new2", "dev1", "ecdsa-p256", NULL), 0);

    /* Add by locator; a locator the device does not know. */
    assert_int_equal(hwsign_key_add(c, "imp", "dev1", "fake:imported", &k), 0);
    assert_string_equal(k->locator, "fake:imported");
    hwsign_key_info_free(k);
    assert_int_equal(hwsign_key_add(c, "imp2", "dev1", "pkcs11:object=x", NULL), -ENOKEY);
    assert_int_equal(client_sign(L, c, "imp", 0), 0);

    /* Delete: registration only, then with destroy. */
    assert_int_equal(hwsign_key_delete(c, "new1", 0), 0);
    assert_int_equal(hwsign_key_info(c, "new1", NULL), -ENOKEY);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(hwsign_key_delete(c, "imp", 1), 0);
    assert_int_equal(client_sign(L, c, "imp", 0), -ENOKEY);
    assert_int_equal(hwsign_key_delete(c, "imp", 1), -ENOKEY);
    {
        struct hwsign_status *s = NULL;
        assert_int_equal(hwsign_status(c, &s), 0);
        assert_int_equal(s->nkeys, 3); /* k1, k2, new2 */
        hwsign_status_free(s);
    }
    hwsign_disconnect(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_sign_round_trip, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_device_faults, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_all_types, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_frame_limits, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_pipelined, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_half_close_and_trickle, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_slow_backend_isolated, setup_default, teardown),
            cmocka_unit_test_setup_teardown(test_key_management, setup_default, teardown),
            cmocka_unit_test(test_request_deadline),
            cmocka_unit_test(test_idle_timeout),
            cmocka_unit_test(test_sigterm_drains),
    };

    loop_block_signals();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
