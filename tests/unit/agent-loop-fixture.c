/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent-loop test fixture (agent-loop-fixture.h): starting and stopping a whole agent, raw
 * frames and the client library, for test-agent-loop and test-agent-stage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent-loop-fixture.h"
#include "journal.h"
#include "server.h"

/* ---- quiet logging: the agent's log lines only with HWSIGN_TEST_VERBOSE set ---- */

void __real_log_event(int prio, const struct log_fields *f, const char *fmt, ...);
_printf_(3, 4) void __wrap_log_event(int prio, const struct log_fields *f, const char *fmt, ...);

void __wrap_log_event(int prio, const struct log_fields *f, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (!getenv("HWSIGN_TEST_VERBOSE"))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    __real_log_event(prio, f, "%s", msg);
}

/* ---- fixture: one agent per test ---- */

static void *server_thread(void *arg)
{
    struct loop *L = arg;
    L->status = server_run(&L->a);
    return NULL;
}

static void add_key(struct loop *L, const char *name, int backend)
{
    struct key_record r;
    fake_backend_record(L->fb[backend], name, &r);
    assert_int_equal(keystore_reserve(L->a.keys, name), 0);
    assert_int_equal(keystore_commit(L->a.keys, &r), 0);
}

/*
 * configure (may be NULL) adjusts the config before the loop thread starts. As in main.c, staged
 * statements are judged on their own worker thread, unless inline_judge (the agent's fallback,
 * which the dispatcher fuzzer takes).
 */
struct loop *loop_start_full(uint64_t idle_ms, uint64_t request_ms,
                             void (*configure)(struct agent_config *cfg), bool inline_judge)
{
    struct loop *L = calloc(1, sizeof(*L));
    char state[128];

    assert_non_null(L);
    memcpy(L->dir, "/tmp/hwsign-loop-XXXXXX", sizeof("/tmp/hwsign-loop-XXXXXX"));
    assert_non_null(mkdtemp(L->dir));
    (void)snprintf(state, sizeof(state), "%s/state", L->dir);
    (void)snprintf(L->sock, sizeof(L->sock), "%s/run/agent.sock", L->dir);

    L->a.listen_fd = L->a.signal_fd = L->a.timer_fd = L->a.epfd = -1;
    L->a.cfg = config_new();
    assert_non_null(L->a.cfg);
    (void)snprintf(L->a.cfg->state_dir, sizeof(L->a.cfg->state_dir), "%s", state);
    (void)snprintf(L->a.cfg->socket_path, sizeof(L->a.cfg->socket_path), "%s", L->sock);
    L->a.cfg->idle_timeout_ms = idle_ms;
    L->a.cfg->request_timeout_ms = request_ms;
    if (configure)
        configure(L->a.cfg);
    assert_int_equal(keystore_open(state, &L->a.keys, NULL), 0);
    L->a.conns = calloc(L->a.cfg->max_connections, sizeof(*L->a.conns));
    assert_non_null(L->a.conns);
    assert_int_equal(done_queue_init(&L->a.done), 0);
    for (int i = 0; i < NBACKENDS; i++) {
        char name[16];
        (void)snprintf(name, sizeof(name), "dev%d", i + 1);
        L->fb[i] = fake_backend_new(name);
        assert_non_null(L->fb[i]);
        L->a.backends[i].b = fake_backend_base(L->fb[i]);
        assert_int_equal(
                worker_start(L->a.backends[i].b, &L->a.done, HWSIGN_MAX_QUEUE, &L->a.backends[i].w),
                0);
        L->a.nbackends++;
    }
    if (!inline_judge)
        assert_int_equal(worker_start(NULL, &L->a.done, HWSIGN_MAX_QUEUE, &L->a.judge), 0);
    add_key(L, "k1", 0);
    add_key(L, "k2", 1);
    L->a.start_ms = now_ms();
    assert_int_equal(server_listen(&L->a, L->sock), 0);
    assert_int_equal(pthread_create(&L->thread, NULL, server_thread, L), 0);
    L->running = true;
    return L;
}

struct loop *loop_start_cfg(uint64_t idle_ms, uint64_t request_ms,
                            void (*configure)(struct agent_config *cfg))
{
    return loop_start_full(idle_ms, request_ms, configure, false);
}

struct loop *loop_start(uint64_t idle_ms, uint64_t request_ms)
{
    return loop_start_cfg(idle_ms, request_ms, NULL);
}

/* Waits for the server thread to return; false if it did not within timeout_ms. */
bool loop_join(struct loop *L, unsigned timeout_ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(L->thread, NULL, &ts) != 0)
        return false;
    L->running = false;
    return true;
}

void loop_stop(struct loop *L)
{
    char cmd[160];

    for (int i = 0; i < NBACKENDS; i++) {
        fake_backend_set_mode(L->fb[i], FAKE_OK, 0);
        fake_backend_release(L->fb[i]);
    }
    if (L->running) {
        assert_int_equal(pthread_kill(L->thread, SIGTERM), 0);
        assert_true(loop_join(L, 2 * SERVER_DRAIN_MS));
        assert_int_equal(L->status, 0);
    }
    if (L->a.judge) {
        assert_true(worker_stop(L->a.judge, WAIT_MS));
        L->a.judge = worker_free(L->a.judge);
    }
    for (int i = 0; i < NBACKENDS; i++) {
        assert_true(worker_stop(L->a.backends[i].w, WAIT_MS));
        worker_free(L->a.backends[i].w);
        L->a.backends[i].b->ops->free(L->a.backends[i].b);
    }
    if (L->a.listen_fd >= 0) /* server_run unlinked the socket; the fds are ours to close */
        close(L->a.listen_fd);
    if (L->a.epfd >= 0)
        close(L->a.epfd);
    if (L->a.signal_fd >= 0)
        close(L->a.signal_fd);
    if (L->a.timer_fd >= 0)
        close(L->a.timer_fd);
    done_queue_fini(&L->a.done);
    /* Every connection and job is gone: no staged byte may still be counted. */
    assert_int_equal(__atomic_load_n(&L->a.staged_bytes, __ATOMIC_SEQ_CST), 0);
    free(L->a.conns);
    keystore_free(L->a.keys);
    config_free(L->a.cfg);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", L->dir);
    assert_int_equal(system(cmd), 0);
    free(L);
}

int setup_default(void **state)
{
    *state = loop_start(HWSIGN_IDLE_TIMEOUT_MS, HWSIGN_REQUEST_DEADLINE_MS);
    return 0;
}

/* The same agent judging staged statements on the event loop (no judge worker). */
int setup_inline_judge(void **state)
{
    *state = loop_start_full(HWSIGN_IDLE_TIMEOUT_MS, HWSIGN_REQUEST_DEADLINE_MS, NULL, true);
    return 0;
}

int teardown(void **state)
{
    loop_stop(*state);
    return 0;
}

/* ---- raw socket helpers ---- */

int raw_connect(const struct loop *L)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memcpy(sa.sun_path, L->sock, strlen(L->sock) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

void send_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

uint64_t mono_ms(void)
{
    return now_ms();
}

int recv_exact(int fd, uint8_t *buf, size_t len, uint64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t now = mono_ms();
        ssize_t n;
        if (now >= deadline)
            return -ETIMEDOUT;
        if (poll(&p, 1, (int)(deadline - now)) == 0)
            return -ETIMEDOUT;
        n = recv(fd, buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return got == 0 ? 0 : -EPIPE;
        got += (size_t)n;
    }
    return 1;
}

/* One reply frame: 1, or 0 on a clean EOF, or -errno (-ETIMEDOUT). */
int read_reply(int fd, struct reply *r, unsigned timeout_ms)
{
    uint64_t deadline = mono_ms() + timeout_ms;
    uint8_t hdr[HWSIGN_FRAME_HEADER + HWSIGN_MSG_HEADER];
    uint32_t len;
    int k;

    k = recv_exact(fd, hdr, HWSIGN_FRAME_HEADER, deadline);
    if (k <= 0)
        return k;
    len = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
    assert_true(len >= HWSIGN_MSG_HEADER && len <= HWSIGN_MAX_MSG);
    k = recv_exact(fd, hdr + HWSIGN_FRAME_HEADER, HWSIGN_MSG_HEADER, deadline);
    assert_int_equal(k, 1);
    r->type = hdr[4];
    r->id = ((uint32_t)hdr[5] << 24) | ((uint32_t)hdr[6] << 16) | ((uint32_t)hdr[7] << 8) | hdr[8];
    r->len = len - HWSIGN_MSG_HEADER;
    if (r->len) {
        k = recv_exact(fd, r->body, r->len, deadline);
        assert_int_equal(k, 1);
    }
    return 1;
}

/* Failure code of a FAILURE reply. */
uint32_t failure_code(const struct reply *r)
{
    assert_int_equal(r->type, HWSIGN_MSG_FAILURE);
    assert_true(r->len >= 8);
    return ((uint32_t)r->body[0] << 24) | ((uint32_t)r->body[1] << 16) |
           ((uint32_t)r->body[2] << 8) | r->body[3];
}

/* Nothing to read right now (no reply, no EOF). */
void expect_quiet(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);
}

size_t put_frame(uint8_t *buf, uint8_t type, uint32_t id, const uint8_t *body, size_t body_len)
{
    uint32_t len = (uint32_t)(HWSIGN_MSG_HEADER + body_len);
    buf[0] = (uint8_t)(len >> 24);
    buf[1] = (uint8_t)(len >> 16);
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    buf[4] = type;
    buf[5] = (uint8_t)(id >> 24);
    buf[6] = (uint8_t)(id >> 16);
    buf[7] = (uint8_t)(id >> 8);
    buf[8] = (uint8_t)id;
    if (body_len)
        memcpy(buf + 9, body, body_len);
    return HWSIGN_FRAME_HEADER + len;
}

struct hwsign_client *client(const struct loop *L)
{
    struct hwsign_client *c = NULL;
    assert_int_equal(hwsign_connect(L->sock, &c), 0);
    return c;
}

void assert_status_ok(struct hwsign_client *c)
{
    struct hwsign_status *s = NULL;
    assert_int_equal(hwsign_status(c, &s), 0);
    assert_int_equal(s->nbackends, NBACKENDS);
    hwsign_status_free(s);
}

void loop_block_signals(void)
{
    sigset_t mask;

    /*
     * SIGTERM/SIGINT/SIGHUP blocked in every thread (inherited), so a process-directed SIGTERM
     * stays pending until the agent's signalfd reads it, as under systemd.
     */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
}
