/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One whole agent per test, without hardware, shared by test-agent-loop and test-agent-stage
 * and compiled into each: a real event loop (server_run in a thread), a real device worker per
 * fake backend (fake-backend.c), the judge worker for staged statements (as main.c starts it)
 * and a real listening socket in a private temporary directory /tmp/hwsign-loop-XXXXXX, reached
 * through the real client library (libhwsign) or raw frames.
 *
 * loop_start*() builds all of that with NBACKENDS fake backends ("dev1", "dev2") and two keys,
 * "k1" on dev1 (L->fb[0]) and "k2" on dev2 (L->fb[1]). loop_stop() releases stuck backends,
 * stops the loop with SIGTERM (unless it already returned, see loop_join), checks that it
 * returned 0, stops and frees the workers, checks that no staged byte is still counted
 * (L->a.staged_bytes == 0: every connection and job is gone) and removes the directory.
 *
 * Contract for the test program:
 *  - Link with -Wl,--wrap=log_event: the fixture's __wrap_log_event keeps the agent's log lines
 *    out of the test output unless HWSIGN_TEST_VERBOSE is set in the environment.
 *  - Call loop_block_signals() in main() before any test: SIGTERM, SIGINT and SIGHUP stay
 *    blocked in every thread, so that the agent's signalfd (not the default action) receives the
 *    SIGTERM of loop_stop() or of a test, and SIGPIPE is ignored.
 *  - Every helper that asserts runs inside a cmocka test. Every wait is bounded (poll with a
 *    deadline, at most WAIT_MS where nothing should take time); nothing sleeps to synchronise.
 *  - Not thread-safe: helpers are called from the test thread only.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwsign/hwsign.h>

#include "agent.h"
#include "fake-backend.h"

#define WAIT_MS   5000  /* upper bound for anything that should happen "at once" */
#define SLOW_MS   20000 /* a stuck device: longer than any test, released explicitly */
#define NBACKENDS 2     /* fake backends of each agent: dev1 and dev2 */

/* Bytes of the temporary directory path (with the NUL): "/tmp/hwsign-loop-XXXXXX". */
#define LOOP_DIR_MAX 64u
/* Bytes of the socket path (with the NUL): DIR/run/agent.sock. */
#define LOOP_SOCK_MAX 128u

struct loop {
    char dir[LOOP_DIR_MAX];   /* the private directory: DIR/state, DIR/run */
    char sock[LOOP_SOCK_MAX]; /* DIR/run/agent.sock */
    struct agent a;
    struct fake_backend *fb[NBACKENDS]; /* fb[i] backs L->a.backends[i] */
    pthread_t thread;                   /* runs server_run(&a) */
    bool running;                       /* the thread has not been joined yet */
    int status;                         /* server_run's result, once joined */
};

/* ---- start and stop ---- */

/*
 * Starts an agent with the given idle and request timeouts. configure (may be NULL) adjusts the
 * config before the loop thread starts. As in main.c, staged statements are judged on their own
 * worker thread, unless inline_judge (the agent's fallback, which the dispatcher fuzzer takes).
 * Never returns NULL: any failure fails the test.
 */
struct loop *loop_start_full(uint64_t idle_ms, uint64_t request_ms,
                             void (*configure)(struct agent_config *cfg), bool inline_judge);
/* loop_start_full with the judge worker. */
struct loop *loop_start_cfg(uint64_t idle_ms, uint64_t request_ms,
                            void (*configure)(struct agent_config *cfg));
/* loop_start_full with the judge worker and the default config. */
struct loop *loop_start(uint64_t idle_ms, uint64_t request_ms);

/* Waits for the server thread to return; false if it did not within timeout_ms. */
bool loop_join(struct loop *L, unsigned timeout_ms);

/* Stops and frees L (see top); fails the test if anything did not end cleanly. */
void loop_stop(struct loop *L);

/* cmocka setup: *state is an agent with the default timeouts and the judge worker. */
int setup_default(void **state);
/* cmocka setup: the same agent judging staged statements on the event loop (no judge worker). */
int setup_inline_judge(void **state);
/* cmocka teardown for both: loop_stop(*state). */
int teardown(void **state);

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (so in every thread started after it)
 * and ignores SIGPIPE; call at the top of main(). */
void loop_block_signals(void);

/* ---- raw frames ---- */

/* A reply frame as read by read_reply. */
struct reply {
    uint8_t type;
    uint32_t id;
    uint8_t body[HWSIGN_MAX_MSG];
    size_t len; /* after type and id */
};

/* CLOCK_MONOTONIC in milliseconds (the agent's own clock). */
uint64_t mono_ms(void);

/* A new connection to L's socket (SOCK_CLOEXEC); the caller closes it. */
int raw_connect(const struct loop *L);

/* Sends all of data[0..len), retrying on EINTR; fails the test on any error. */
void send_all(int fd, const void *data, size_t len);

/*
 * Writes a frame of type and id with body[0..body_len) (body may be NULL when body_len is 0) to
 * buf, which holds HWSIGN_FRAME_HEADER + HWSIGN_MSG_HEADER + body_len bytes; returns its length.
 */
size_t put_frame(uint8_t *buf, uint8_t type, uint32_t id, const uint8_t *body, size_t body_len);

/*
 * Reads exactly len bytes before deadline (a mono_ms() time): 1, 0 on EOF before any byte, or
 * -errno (-ETIMEDOUT, -EPIPE on EOF midway). It asserts nothing and allocates nothing, so a
 * forked child may use it.
 */
int recv_exact(int fd, uint8_t *buf, size_t len, uint64_t deadline);

/* One reply frame: 1, or 0 on a clean EOF, or -errno (-ETIMEDOUT after timeout_ms). A frame
 * longer than HWSIGN_MAX_MSG or cut short fails the test. */
int read_reply(int fd, struct reply *r, unsigned timeout_ms);

/* Failure code of a FAILURE reply (fails the test for any other reply). */
uint32_t failure_code(const struct reply *r);

/* Nothing to read right now (no reply, no EOF). */
void expect_quiet(int fd);

/* ---- the client library ---- */

/* A libhwsign connection to L; the caller disconnects it. */
struct hwsign_client *client(const struct loop *L);

/* STATUS through c succeeds and shows NBACKENDS backends. */
void assert_status_ok(struct hwsign_client *c);
