/* SPDX-License-Identifier: Apache-2.0 */
#include "conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "dispatch.h"
#include "journal.h"
#include "policy.h"
#include "proto.h"
#include "server.h"

#define CONN_READ_CHUNK 4096u
/* Stop reading new requests while this many reply bytes wait for a slow reader. */
#define CONN_OUT_HIGH_WATER HWSIGN_MAX_MSG
/* Extra time the loop allows a device call beyond its deadline before answering "busy". */
#define CONN_DEADLINE_GRACE_MS 1000u

static void conn_update_events(struct agent *a, struct conn *c)
{
    struct epoll_event ev = {.data.u64 = c->id};
    bool reading = !c->busy && !c->close_after_flush && !c->read_eof &&
                   sbuf_len(c->out) < CONN_OUT_HIGH_WATER;

    ev.events = (reading ? EPOLLIN : 0) | (c->want_write ? EPOLLOUT : 0);
    (void)epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends a refusal on a connection that was never registered, then closes it. */
static void refuse_and_close(int fd, uint32_t code, const char *msg)
{
    _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(HWSIGN_MAX_TEXT + 64);
    if (out && proto_put_failure(out, 0, code, msg) >= 0)
        (void)send(fd, sbuf_ptr(out), sbuf_len(out), MSG_NOSIGNAL | MSG_DONTWAIT);
    /* Let the peer read the refusal: no RST, the data stays queued for it. */
    (void)shutdown(fd, SHUT_WR);
    close(fd);
}

int conn_new(struct agent *a, int fd, struct conn **ret)
{
    struct epoll_event ev = {.events = EPOLLIN};
    struct peer peer;
    struct conn *c;
    size_t slot;
    int r;

    r = peer_from_socket(fd, &peer);
    if (r < 0) {
        log_warning("cannot read peer credentials, dropping connection: %s", strerror(-r));
        refuse_and_close(fd, HWSIGN_ERR_DENIED, "agent could not read your credentials");
        return r;
    }
    if (!policy_may_connect(a->cfg, &peer)) {
        struct log_fields f = {.msgid = LOG_ID_PEER_REFUSED, .peer = &peer};
        char msg[128];
        log_event(LOG_WARNING, &f, "refused connection: uid %u is not allowed to use this agent",
                  (unsigned)peer.uid);
        (void)snprintf(msg, sizeof(msg), "uid %u is not allowed to use this agent",
                       (unsigned)peer.uid);
        refuse_and_close(fd, HWSIGN_ERR_DENIED, msg);
        peer_done(&peer);
        return -EACCES;
    }
    if (a->nconns >= a->cfg->max_connections) {
        struct log_fields f = {.peer = &peer};
        log_event(LOG_WARNING, &f, "refused connection: %u connections open",
                  a->cfg->max_connections);
        refuse_and_close(fd, HWSIGN_ERR_LIMIT, "too many connections to the agent");
        peer_done(&peer);
        return -EUSERS;
    }
    for (slot = 0; slot < a->cfg->max_connections; slot++)
        if (!a->conns[slot])
            break;
    c = calloc(1, sizeof(*c));
    if (c) {
        c->in = sbuf_new(HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG);
        c->out = sbuf_new(HWSIGN_MAX_OUTBUF);
    }
    if (!c || !c->in || !c->out) {
        if (c) {
            sbuf_free(c->in);
            sbuf_free(c->out);
            free(c);
        }
        refuse_and_close(fd, HWSIGN_ERR_INTERNAL, "agent out of memory");
        peer_done(&peer);
        return -ENOMEM;
    }
    peer_read_process(&peer);
    c->fd = fd;
    c->peer = peer;
    c->id = a->next_conn_id++;
    c->last_activity_ms = now_ms();
    ev.data.u64 = c->id;
    if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        r = negative_errno();
        sbuf_free(c->in);
        sbuf_free(c->out);
        free(c);
        refuse_and_close(fd, HWSIGN_ERR_INTERNAL, "agent cannot watch the connection");
        peer_done(&peer);
        return r;
    }
    a->conns[slot] = c;
    a->nconns++;
    *ret = c;
    return 0;
}

void conn_close(struct agent *a, struct conn *c)
{
    for (size_t i = 0; i < a->cfg->max_connections; i++)
        if (a->conns[i] == c) {
            a->conns[i] = NULL;
            break;
        }
    a->nconns--;
    (void)epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    stage_drop(a, c);
    peer_done(&c->peer);
    sbuf_free(c->in);
    sbuf_free(c->out);
    free(c);
    server_connection_closed(a);
}

struct conn *conn_by_id(struct agent *a, uint64_t id)
{
    for (size_t i = 0; i < a->cfg->max_connections; i++)
        if (a->conns[i] && a->conns[i]->id == id)
            return a->conns[i];
    return NULL;
}

void conn_reply_error(struct agent *a, struct conn *c, uint32_t id, int err, const char *fmt, ...)
{
    char msg[HWSIGN_MAX_TEXT];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (proto_put_failure(c->out, id, proto_errno_to_error(err), msg) < 0)
        c->close_after_flush = true; /* cannot even say why: drop the connection */
}

void conn_flush(struct agent *a, struct conn *c)
{
    while (sbuf_len(c->out) > 0) {
        ssize_t n = send(c->fd, sbuf_ptr(c->out), sbuf_len(c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (!c->want_write) {
                    c->want_write = true;
                    conn_update_events(a, c);
                }
                return;
            }
            conn_close(a, c); /* EPIPE, ECONNRESET: the peer is gone */
            return;
        }
        (void)sbuf_consume(c->out, (size_t)n);
        c->last_activity_ms = now_ms();
    }
    if (c->close_after_flush || (c->read_eof && !c->busy && sbuf_len(c->in) == 0)) {
        conn_close(a, c);
        return;
    }
    c->want_write = false;
    conn_update_events(a, c);
}

void conn_process(struct agent *a, struct conn *c)
{
    while (!c->busy && !c->close_after_flush && sbuf_len(c->out) < CONN_OUT_HIGH_WATER) {
        size_t len;
        int r = proto_frame_check(c->in, &len);

        if (r == 0) {
            if (sbuf_len(c->in) == 0)
                c->frame_start_ms = 0;
            else if (!c->frame_start_ms)
                c->frame_start_ms = now_ms();
            if (c->read_eof && sbuf_len(c->in) > 0) {
                conn_reply_error(a, c, 0, -EBADMSG, "connection closed inside a request");
                c->close_after_flush = true;
            }
            break;
        }
        if (r < 0) {
            uint32_t declared = 0;
            struct log_fields f = {.peer = &c->peer};
            (void)sbuf_peek_u32(c->in, &declared);
            log_event(LOG_WARNING, &f, "dropping connection: frame length %u %s", declared,
                      r == -EMSGSIZE ? "exceeds the limit" : "is too short");
            conn_reply_error(a, c, 0, r,
                             r == -EMSGSIZE ? "frame length %u exceeds the limit of %u bytes"
                                            : "frame length %u is shorter than a message header",
                             declared, HWSIGN_MAX_MSG);
            c->close_after_flush = true;
            sbuf_reset(c->in);
            break;
        }
        {
            _cleanup_(sbuf_freep) struct sbuf *body =
                    sbuf_from(sbuf_ptr(c->in) + HWSIGN_FRAME_HEADER, len);
            if (!body) {
                c->close_after_flush = true;
                break;
            }
            (void)dispatch_message(a, c, body);
        }
        (void)sbuf_consume(c->in, HWSIGN_FRAME_HEADER + len);
        c->frame_start_ms = sbuf_len(c->in) ? now_ms() : 0;
    }
    conn_flush(a, c);
}

void conn_on_readable(struct agent *a, struct conn *c)
{
    uint8_t buf[CONN_READ_CHUNK];
    uint64_t id = c->id;

    while (!c->busy && !c->read_eof && !c->close_after_flush) {
        size_t want = MIN(sizeof(buf), sbuf_avail(c->in));
        ssize_t n;

        if (want == 0)
            break; /* a whole frame is buffered: process it first */
        n = recv(c->fd, buf, want, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            conn_close(a, c);
            return;
        }
        if (n == 0) {
            c->read_eof = true;
            break;
        }
        if (sbuf_put(c->in, buf, (size_t)n) < 0) {
            conn_close(a, c);
            return;
        }
        c->last_activity_ms = now_ms();
        conn_process(a, c);
        if (!conn_by_id(a, id))
            return; /* closed while processing */
    }
    conn_process(a, c);
}

void conn_on_writable(struct agent *a, struct conn *c)
{
    uint64_t id = c->id;
    conn_flush(a, c);
    c = conn_by_id(a, id);
    if (c && !c->want_write)
        conn_process(a, c);
}

void conn_check_timers(struct agent *a, struct conn *c, uint64_t now)
{
    uint64_t idle = a->cfg->idle_timeout_ms;

    if (c->busy) {
        if (now > c->pending_deadline_ms + CONN_DEADLINE_GRACE_MS) {
            struct log_fields f = {.peer = &c->peer};
            log_event(LOG_WARNING, &f, "%s request %u: device did not answer in time",
                      proto_msg_name(c->pending_type), c->pending_id);
            c->seq++; /* the late completion will be dropped */
            c->busy = false;
            conn_reply_error(a, c, c->pending_id, -ETIMEDOUT,
                             "the device did not answer within %llu ms",
                             (unsigned long long)a->cfg->request_timeout_ms);
            conn_process(a, c);
        }
        return;
    }
    if (c->frame_start_ms && now - c->frame_start_ms > idle) {
        struct log_fields f = {.peer = &c->peer};
        log_event(LOG_NOTICE, &f, "dropping connection: request incomplete after %llu ms",
                  (unsigned long long)(now - c->frame_start_ms));
        conn_close(a, c);
        return;
    }
    if (sbuf_len(c->in) == 0 && now - c->last_activity_ms > idle)
        conn_close(a, c);
}
