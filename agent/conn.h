/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client connection: bounded input and output buffers, framing, timeouts.
 *
 * Requests on a connection are handled one at a time, in order: while one waits for a device
 * the connection reads nothing more (the kernel buffers pipelined requests). The input buffer
 * holds at most one maximal frame; a frame whose header declares more than HWSIGN_MAX_MSG is
 * refused before its body is read.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"
#include "sbuf.h"

struct agent;
struct stage;

struct conn {
    int fd;
    uint64_t id;
    struct peer peer;
    struct sbuf *in;
    struct sbuf *out;
    uint64_t last_activity_ms; /* last byte read or written */
    uint64_t frame_start_ms;   /* first byte of the incomplete frame in `in` (0 = none) */

    /* The request waiting for a worker, if any. */
    bool busy;
    uint64_t seq; /* bumped when a pending job is abandoned, so its completion is dropped */
    uint32_t pending_id;
    uint8_t pending_type;
    uint64_t pending_index; /* LOG_PROOF waiting for a checkpoint: the record asked about */
    uint64_t pending_deadline_ms;

    struct stage *stage; /* a statement being staged (handle-stage.c), NULL when none */

    bool want_write; /* EPOLLOUT armed */
    bool close_after_flush;
    bool read_eof; /* peer shut down its sending side */
};

/* Accept-time setup: credentials are read before anything else. */
int conn_new(struct agent *a, int fd, struct conn **ret);
void conn_close(struct agent *a, struct conn *c);
struct conn *conn_by_id(struct agent *a, uint64_t id);

/* Event handlers called by the loop. */
void conn_on_readable(struct agent *a, struct conn *c);
void conn_on_writable(struct agent *a, struct conn *c);
/* Continue with buffered requests after a pending one completed. */
void conn_process(struct agent *a, struct conn *c);
/* Send what is queued; arms EPOLLOUT on a full socket. Closes the connection on error. */
void conn_flush(struct agent *a, struct conn *c);
/* Timeouts: idle, trickling frames, request deadlines. */
void conn_check_timers(struct agent *a, struct conn *c, uint64_t now);

/* Queue replies (used by dispatch and handlers). Reply encoding failure drops the connection. */
void conn_reply_error(struct agent *a, struct conn *c, uint32_t id, int err, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
