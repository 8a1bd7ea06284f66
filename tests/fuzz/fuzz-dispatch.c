/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatcher fuzzer: the real connection code, dispatch table, handlers, key store and device
 * workers, against two fake backends; no listening socket and no event loop thread.
 *
 * Input: byte 0 selects the peer and agent state (bit 0: a non-admin peer allowed only key
 * "k2"; bit 1: the agent is draining; bits 2-3: dev1 signs correctly, wrongly or is absent),
 * the rest is the byte stream a client sends, so one input carries many messages. It is
 * written into one end of a socketpair; the other end is a connection made by conn_new and
 * driven like the event loop would (read, dispatch, completions from the done queue, flush).
 * Every reply must be a well-formed frame that the client library's decoders accept.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "conn.h"
#include "dispatch.h"
#include "fake-backend.h"
#include "journal.h"
#include "proto-stage.h"
#include "proto.h"

#define NONADMIN_UID 4242u
#define MAX_ITER     100000
#define DONE_WAIT_MS 5000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __wrap_log_event(int prio, const struct log_fields *f, const char *fmt, ...);

/* The agent logs every refusal: silence it, fuzzing would drown in lines. */
void __wrap_log_event(int prio, const struct log_fields *f, const char *fmt, ...)
{
}

static struct agent A;
static struct fake_backend *FB[2];
static char state_dir[64];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz-dispatch: %s\n", what);
        abort();
    }
}

static void add_key(const char *name, int b)
{
    struct key_record r;
    fake_backend_record(FB[b], name, &r);
    check(keystore_reserve(A.keys, name) == 0 && keystore_commit(A.keys, &r) == 0, "add key");
}

static void keystore_reset(void)
{
    char keys[128];
    struct dirent *de;
    DIR *d;

    A.keys = keystore_free(A.keys);
    (void)snprintf(keys, sizeof(keys), "%s/keys", state_dir);
    d = opendir(keys);
    while (d && (de = readdir(d))) {
        char path[512];
        if (de->d_name[0] == '.')
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", keys, de->d_name);
        (void)unlink(path);
    }
    if (d)
        closedir(d);
    check(keystore_open(state_dir, &A.keys, NULL) == 0, "keystore_open");
    add_key("k1", 0);
    add_key("k2", 1);
}

static bool keystore_pristine(void)
{
    const struct key_record *k1 = keystore_find(A.keys, "k1"), *k2 = keystore_find(A.keys, "k2");
    return keystore_count(A.keys) == 2 && k1 && k2 && strcmp(k1->backend, "dev1") == 0 &&
           strcmp(k2->backend, "dev2") == 0;
}

static int init(void)
{
    /* One connection at a time: a small table keeps conn_by_id's scans short. */
    static const char policy[] = "[agent]\nmax-connections = 4\n[key \"k2\"]\nallow-users = 4242\n";
    const char *base = getenv("TMPDIR");
    char err[256];

    /* tmpfs when there is one: the key store fsyncs every registration. */
    if (!base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    (void)snprintf(state_dir, sizeof(state_dir), "%s/hwsign-fuzz-XXXXXX", base);
    check(mkdtemp(state_dir) != NULL, "mkdtemp");

    A.listen_fd = A.signal_fd = A.timer_fd = -1;
    A.cfg = config_new();
    check(A.cfg && config_parse(A.cfg, policy, strlen(policy), err, sizeof(err)) == 0 &&
                  config_resolve(A.cfg, err, sizeof(err)) == 0,
          "config");
    A.conns = calloc(A.cfg->max_connections, sizeof(*A.conns));
    A.epfd = epoll_create1(EPOLL_CLOEXEC);
    check(A.conns && A.epfd >= 0 && done_queue_init(&A.done) == 0, "agent");
    for (int i = 0; i < 2; i++) {
        char name[8];
        (void)snprintf(name, sizeof(name), "dev%d", i + 1);
        FB[i] = fake_backend_new(name);
        check(FB[i] != NULL, "fake backend");
        A.backends[i].b = fake_backend_base(FB[i]);
        check(worker_start(A.backends[i].b, &A.done, HWSIGN_MAX_QUEUE, &A.backends[i].w) == 0,
              "worker");
        A.nbackends++;
    }
    keystore_reset();
    A.next_conn_id = 16;
    A.start_ms = now_ms();
    return 0;
}

/* What server.c's on_done does: route completions to their (still waiting) connection. */
static void complete_jobs(void)
{
    struct job *j = done_queue_take(&A.done);

    while (j) {
        struct job *next = j->next;
        struct conn *c = conn_by_id(&A, j->conn_id);
        if (c && (!c->busy || c->seq != j->conn_seq || c->pending_id != j->req_id))
            c = NULL;
        handle_job_done(&A, c, j);
        job_free(j);
        j = next;
    }
}

/* Waits (bounded) for at least one completion, or for the workers to go idle. */
static void wait_jobs(void)
{
    uint64_t deadline = now_ms() + DONE_WAIT_MS;

    for (unsigned spin = 0;; spin++) {
        struct pollfd p = {.fd = A.done.efd, .events = POLLIN};
        /* Spin briefly first: a fake device answers in microseconds, a sleep costs more. */
        if (poll(&p, 1, spin < 2000 ? 0 : 1) == 1) {
            complete_jobs();
            return;
        }
        if (!worker_pending(A.backends[0].w) && !worker_pending(A.backends[1].w)) {
            complete_jobs();
            return;
        }
        check(now_ms() < deadline, "device job never completed");
    }
}

/* Replies seen so far; parsed frame by frame as they arrive. */
struct replies {
    uint8_t buf[2 * HWSIGN_MAX_MSG];
    size_t len;
};

static void check_reply(const uint8_t *p, size_t len)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_from(p, len);
    uint8_t type = 0;
    uint32_t id;
    int r = -1;

    check(b && proto_get_header(b, &type, &id) == 0, "reply header");
    switch (type) {
    case HWSIGN_MSG_FAILURE: {
        uint32_t code;
        char *msg = NULL;
        r = proto_get_failure(b, &code, &msg);
        check(r == 0 && code >= 1 && code < _HWSIGN_ERR_MAX, "failure reply");
        free(msg);
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_STATUS: {
        struct hwsign_status *s = NULL;
        r = proto_get_status(b, &s);
        proto_status_free(r == 0 ? s : NULL);
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_LIST_KEYS: {
        struct hwsign_key_info *k = NULL;
        size_t n = 0;
        r = proto_get_key_list(b, &k, &n);
        if (r == 0) {
            for (size_t i = 0; i < n; i++)
                proto_key_info_clear(&k[i]);
            free(k);
        }
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_INFO:
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_CREATE:
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_ADD: {
        struct hwsign_key_info k;
        r = proto_get_key_info(b, &k);
        if (r == 0) {
            check(k.spki_len > 0, "key info without a public key");
            proto_key_info_clear(&k);
        }
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_DIGEST: {
        uint8_t *sig = NULL;
        size_t n;
        r = proto_get_signature(b, &sig, &n, NULL, NULL, NULL);
        free(sig);
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_STATEMENT:
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_PROVENANCE: {
        char *json = NULL;
        size_t n;
        r = proto_get_statement_reply(b, &json, &n, NULL, NULL, NULL);
        free(json);
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_DELETE:
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_BEGIN:
        r = proto_get_empty(b);
        break;
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_DATA: {
        uint64_t received;
        r = proto_get_stage_data_reply(b, &received);
        break;
    }
    case HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_SIGN: {
        struct proto_stage_signature s = {0};
        r = proto_get_stage_signature(b, &s);
        proto_stage_signature_clear(&s);
        break;
    }
    default:
        check(false, "reply of unknown type");
    }
    check(r == 0, "reply body does not decode");
}

static void drain(int fd, struct replies *rp)
{
    for (;;) {
        _cleanup_(sbuf_freep) struct sbuf *view = NULL;
        size_t blen, off = 0;
        ssize_t n = recv(fd, rp->buf + rp->len, sizeof(rp->buf) - rp->len, MSG_DONTWAIT);
        int r;

        if (n <= 0)
            return;
        rp->len += (size_t)n;
        for (;;) {
            view = sbuf_free(view);
            view = sbuf_from(rp->buf + off, rp->len - off);
            check(view != NULL, "oom");
            r = proto_frame_check(view, &blen);
            check(r >= 0, "agent sent a bad frame length");
            if (r == 0)
                break;
            check_reply(rp->buf + off + HWSIGN_FRAME_HEADER, blen);
            off += HWSIGN_FRAME_HEADER + blen;
        }
        memmove(rp->buf, rp->buf + off, rp->len - off);
        rp->len -= off;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static const enum fake_mode modes[4] = {FAKE_OK, FAKE_WRONG, FAKE_UNAVAILABLE, FAKE_OK};
    static struct replies rp;
    struct conn *c = NULL;
    uint64_t id;
    size_t off = 1;
    int sv[2], iter;

    if (!ready)
        ready = init() == 0;
    if (size < 1)
        return 0;
    fake_backend_set_mode(FB[0], modes[(data[0] >> 2) & 3], 0);
    check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
          "socketpair");
    check(conn_new(&A, sv[0], &c) == 0, "conn_new");
    id = c->id;
    if (data[0] & 1) {
        c->peer.uid = NONADMIN_UID;
        c->peer.gid = NONADMIN_UID;
        c->peer.ngroups = 0;
    }
    A.stopping = (data[0] & 2) != 0;
    rp.len = 0;
    if (off == size)
        (void)shutdown(sv[1], SHUT_WR);

    for (iter = 0; (c = conn_by_id(&A, id)); iter++) {
        check(iter < MAX_ITER, "connection never finished");
        if (off < size) {
            ssize_t n = send(sv[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                off += (size_t)n;
            if (off == size)
                (void)shutdown(sv[1], SHUT_WR);
        }
        drain(sv[1], &rp);
        if (c->busy) {
            wait_jobs();
            continue;
        }
        if (c->want_write) {
            conn_on_writable(&A, c);
            continue;
        }
        conn_on_readable(&A, c);
    }
    drain(sv[1], &rp);
    check(rp.len == 0, "connection closed inside a reply frame");
    close(sv[1]);

    /* No job may outlive its connection unaccounted for. */
    while (worker_pending(A.backends[0].w) || worker_pending(A.backends[1].w))
        wait_jobs();
    complete_jobs();
    check(A.nconns == 0, "connection leaked");
    check(A.staged_bytes == 0, "staging budget leaked");
    A.stopping = false;
    if (!keystore_pristine())
        keystore_reset();
    return 0;
}
