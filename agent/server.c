/* SPDX-License-Identifier: Apache-2.0 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "auditlog.h"
#include "conn.h"
#include "dispatch.h"
#include "dsse.h"
#include "crypto.h"
#include "journal.h"

/* epoll tags for the fixed descriptors; connection ids start above them. */
enum { TAG_LISTEN = 1, TAG_SIGNAL, TAG_TIMER, TAG_DONE, TAG_FIRST_CONN = 16 };

static int check_socket_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return negative_errno();
    if (lstat(dir, &st) < 0)
        return negative_errno();
    if (!S_ISDIR(st.st_mode)) {
        log_error("socket directory %s is not a directory", dir);
        return -ENOTDIR;
    }
    if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        log_error("socket directory %s must be owned by the agent's user (or root) and not "
                  "writable by group or others (mode is %04o)",
                  dir, (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    return 0;
}

/* Is an agent answering on path? */
static bool socket_alive(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool alive;

    if (fd < 0)
        return false;
    alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    return alive;
}

static int create_socket(struct agent *a, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[sizeof(sa.sun_path)];
    char *slash;
    struct stat st;
    mode_t old;
    int fd, r;

    if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
        log_error("socket path '%s' must be absolute and shorter than %zu bytes", path,
                  sizeof(sa.sun_path));
        return -EINVAL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    memcpy(dir, path, strlen(path) + 1);
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    r = check_socket_dir(dir);
    if (r < 0)
        return r;
    if (a->cfg->socket_gid != (gid_t)-1 && chown(dir, (uid_t)-1, a->cfg->socket_gid) < 0)
        log_warning("cannot set group of %s: %s", dir, strerror(errno));

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_error("%s exists and is not a socket", path);
            return -EEXIST;
        }
        if (socket_alive(&sa)) {
            log_error("another agent is listening on %s", path);
            return -EADDRINUSE;
        }
        (void)unlink(path); /* stale socket of a previous run */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return negative_errno();
    old = umask(0117);
    r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0) {
        r = negative_errno();
        log_error("cannot bind %s: %s", path, strerror(-r));
        close(fd);
        return r;
    }
    if (chmod(path, 0660) < 0 ||
        (a->cfg->socket_gid != (gid_t)-1 && chown(path, (uid_t)-1, a->cfg->socket_gid) < 0) ||
        listen(fd, SOMAXCONN) < 0 || stat(path, &st) < 0) {
        r = negative_errno();
        log_error("cannot set up %s: %s", path, strerror(-r));
        close(fd);
        (void)unlink(path);
        return r;
    }
    a->socket_owned = true;
    a->socket_dev = st.st_dev;
    a->socket_ino = st.st_ino;
    a->listen_fd = fd;
    return 0;
}

int server_listen(struct agent *a, const char *path)
{
    int n = sd_listen_fds(1);

    if (n < 0) {
        log_error("sd_listen_fds failed: %s", strerror(-n));
        return n;
    }
    if (n > 1) {
        log_error("expected one socket from systemd, got %d", n);
        return -EINVAL;
    }
    if (n == 1) {
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
            log_error("the socket passed by systemd is not a listening unix stream socket");
            return -EINVAL;
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
            return negative_errno();
        a->listen_fd = fd;
        log_info("using the socket passed by systemd");
        return 0;
    }
    return create_socket(a, path);
}

void server_signal_mask(sigset_t *mask)
{
    sigemptyset(mask);
    sigaddset(mask, SIGTERM);
    sigaddset(mask, SIGINT);
    sigaddset(mask, SIGHUP);
}

int server_block_signals(void)
{
    sigset_t mask;
    server_signal_mask(&mask);
    return -pthread_sigmask(SIG_BLOCK, &mask, NULL);
}

static int setup_loop(struct agent *a)
{
    struct epoll_event ev = {.events = EPOLLIN};
    struct itimerspec its = {
            .it_interval = {.tv_nsec = SERVER_TICK_MS * 1000000L},
            .it_value = {.tv_nsec = SERVER_TICK_MS * 1000000L},
    };
    sigset_t mask;

    server_signal_mask(&mask);
    a->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    a->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (a->signal_fd < 0 || a->timer_fd < 0 || a->epfd < 0)
        return negative_errno();
    if (timerfd_settime(a->timer_fd, 0, &its, NULL) < 0)
        return negative_errno();
    ev.data.u64 = TAG_LISTEN;
    if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->listen_fd, &ev) < 0)
        return negative_errno();
    ev.data.u64 = TAG_SIGNAL;
    if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->signal_fd, &ev) < 0)
        return negative_errno();
    ev.data.u64 = TAG_TIMER;
    if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->timer_fd, &ev) < 0)
        return negative_errno();
    ev.data.u64 = TAG_DONE;
    if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->done.efd, &ev) < 0)
        return negative_errno();
    a->next_conn_id = TAG_FIRST_CONN;
    return 0;
}

static void pause_listening(struct agent *a, bool pause)
{
    struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.u64 = TAG_LISTEN};
    if (a->listen_paused == pause)
        return;
    a->listen_paused = pause;
    (void)epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->listen_fd, &ev);
}

void server_connection_closed(struct agent *a)
{
    /* A freed descriptor may let a deferred accept succeed. */
    if (a->listen_paused && !a->stopping)
        pause_listening(a, false);
}

static void on_accept(struct agent *a)
{
    for (;;) {
        struct conn *c;
        int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Clients wait in the backlog until a descriptor is free again. */
                log_warning("accept: %s; pausing new connections", strerror(errno));
                pause_listening(a, true);
            }
            return;
        }
        (void)conn_new(a, fd, &c);
    }
}

static void on_signal(struct agent *a)
{
    struct signalfd_siginfo si;

    while (read(a->signal_fd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            log_info("SIGHUP: configuration reload is not supported; restart the agent");
            continue;
        }
        if (!a->stopping) {
            log_info("received %s, draining in-flight requests",
                     si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            (void)sd_notify(0, "STOPPING=1\nSTATUS=draining");
            a->stopping = true;
            a->stop_deadline_ms = now_ms() + SERVER_DRAIN_MS;
            pause_listening(a, true);
        }
    }
}

/* A signing-log record for a finished signature job. */
static int log_job(struct agent *a, struct job *j)
{
    bool statement = j->statement;
    struct timespec ts;
    struct logrec r = {
            .uid = j->peer_uid,
            .gid = j->peer_gid,
            .pid = j->peer_pid,
            .exe = j->peer_exe,
            .unit = j->peer_unit,
            .key = j->key,
            .request = statement ? LOGREC_STATEMENT : LOGREC_DIGEST,
            .hash = j->hash,
            .digest_len = j->digest_len,
            .has_statement = statement,
            .predicate_type = j->predicate_type ? j->predicate_type : (char *)"",
            .subjects = j->subjects,
            .nsubjects = j->subjects ? j->n_subjects : 0,
            .sig = j->sig,
            .sig_len = j->sig_len,
            .spki = j->key_spki,
            .spki_len = j->key_spki_len,
            .has_envelope = statement,
    };
    int e;

    clock_gettime(CLOCK_REALTIME, &ts);
    r.time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    memcpy(r.digest, j->digest, j->digest_len);
    memcpy(r.statement_sha256, j->statement_sha256, sizeof(r.statement_sha256));
    if (statement && j->envelope_sha) {
        /* Staged: the judge hashed the envelope's head; the peer builds the same text. */
        e = dsse_envelope_sha256_end(j->envelope_sha, j->keyid, j->sig, j->sig_len,
                                     r.envelope_sha256);
        if (e < 0)
            return e;
    } else if (statement) {
        /* The record commits to the exact envelope the peer will receive. */
        e = sign_job_envelope(j);
        if (e >= 0)
            e = hash_buffer(HWSIGN_HASH_SHA256, j->envelope, j->envelope_len, r.envelope_sha256,
                            sizeof(r.envelope_sha256));
        if (e < 0)
            return e;
    }
    free(j->log_entry);
    j->log_entry = NULL;
    return auditlog_append(a->log, &r, &j->log_seq, &j->log_entry, &j->log_entry_len);
}

/* Write-ahead: every finished signature is logged and synced (one group commit for the
 * whole batch) before any of them is released; on failure none is. */
static void log_batch(struct agent *a, struct job *head)
{
    size_t logged = 0;
    int r = 0;

    for (struct job *j = head; j; j = j->next) {
        if (j->kind != JOB_SIGN || j->result < 0 || j->checkpoint)
            continue;
        r = log_job(a, j);
        if (r == -EMSGSIZE && logged > 0) {
            /* The batch buffer is full: sync what it holds, then start a new batch. */
            r = auditlog_commit(a->log);
            if (r >= 0)
                r = log_job(a, j);
        }
        if (r < 0)
            break;
        logged++;
    }
    if (logged == 0 && r == 0)
        return;
    if (r >= 0)
        r = auditlog_commit(a->log);
    else
        (void)auditlog_commit(a->log); /* a failed append fails the whole batch */
    if (r >= 0) {
        checkpoint_maybe_issue(a, false);
        return;
    }
    if (!auditlog_failed(a->log))
        log_error("signing log: cannot record a signature: %s", strerror(-r));
    else
        log_error("signing log failed (%s): signing suspended until it can be written again",
                  auditlog_error(a->log));
    for (struct job *j = head; j; j = j->next) {
        if (j->kind != JOB_SIGN || j->result < 0 || j->checkpoint)
            continue;
        j->result = -ENODEV;
        (void)snprintf(j->errmsg, sizeof(j->errmsg),
                       "the signing log could not be written; the signature was not released");
        explicit_bzero(j->sig, sizeof(j->sig));
        j->sig_len = 0;
        /* Both hold the signature too. */
        free(j->envelope);
        j->envelope = NULL;
        free(j->log_entry);
        j->log_entry = NULL;
        j->log_entry_len = 0;
    }
}

static void on_done(struct agent *a)
{
    struct job *j = done_queue_take(&a->done);

    if (a->log)
        log_batch(a, j);
    while (j) {
        struct job *next = j->next;
        struct conn *c = conn_by_id(a, j->conn_id);
        if (c && (!c->busy || c->seq != j->conn_seq || c->pending_id != j->req_id))
            c = NULL; /* abandoned after its deadline */
        handle_job_done(a, c, j);
        job_free(j);
        j = next;
    }
}

/* Exit if our socket path was removed or replaced: clients could no longer reach us. */
static void check_socket(struct agent *a, uint64_t now)
{
    struct stat st;

    if (!a->socket_owned || now - a->last_socket_check_ms < SERVER_SOCKET_CHECK_MS)
        return;
    a->last_socket_check_ms = now;
    if (stat(a->cfg->socket_path, &st) < 0 || st.st_dev != a->socket_dev ||
        st.st_ino != a->socket_ino) {
        log_error("socket %s was removed or replaced; exiting", a->cfg->socket_path);
        a->socket_owned = false; /* not ours any more: do not unlink it */
        a->stopping = true;
        a->stop_deadline_ms = now;
        a->exit_status = 1;
    }
}

static size_t busy_connections(struct agent *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->cfg->max_connections; i++)
        if (a->conns[i] && (a->conns[i]->busy || sbuf_len(a->conns[i]->out)))
            n++;
    return n;
}

static void on_tick(struct agent *a)
{
    uint64_t expirations, now = now_ms();

    (void)!read(a->timer_fd, &expirations, sizeof(expirations));
    for (size_t i = 0; i < a->cfg->max_connections; i++)
        if (a->conns[i])
            conn_check_timers(a, a->conns[i], now);
    check_socket(a, now);
    if (a->log)
        checkpoint_tick(a, now);
    if (a->log && auditlog_failed(a->log) && now - a->last_log_retry_ms >= SERVER_LOG_RETRY_MS) {
        a->last_log_retry_ms = now;
        if (auditlog_recover(a->log) >= 0)
            log_info("signing log writable again (%llu records): signing resumed",
                     (unsigned long long)auditlog_size(a->log));
    }
    if (a->listen_paused && !a->stopping && a->nconns < a->cfg->max_connections)
        pause_listening(a, false);
}

int server_run(struct agent *a)
{
    struct epoll_event events[SERVER_MAX_EVENTS];
    int r;

    r = setup_loop(a);
    if (r < 0) {
        log_error("cannot set up the event loop: %s", strerror(-r));
        return 1;
    }
    (void)sd_notify(0, "READY=1\nSTATUS=serving");
    log_info("hwsign-agent %s ready: %zu backend(s), %zu key(s)", HWSIGN_VERSION, a->nbackends,
             keystore_count(a->keys));

    for (;;) {
        int n;

        if (a->stopping && (busy_connections(a) == 0 || now_ms() >= a->stop_deadline_ms))
            break;
        n = epoll_wait(a->epfd, events, SERVER_MAX_EVENTS, (int)SERVER_TICK_MS);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_wait: %s", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            struct conn *c;

            switch (tag) {
            case TAG_LISTEN:
                if (!a->stopping)
                    on_accept(a);
                break;
            case TAG_SIGNAL:
                on_signal(a);
                break;
            case TAG_TIMER:
                on_tick(a);
                break;
            case TAG_DONE:
                on_done(a);
                break;
            default:
                c = conn_by_id(a, tag);
                if (!c)
                    break; /* closed earlier in this batch */
                if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    conn_on_writable(a, c);
                c = conn_by_id(a, tag);
                if (c && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                    conn_on_readable(a, c);
                break;
            }
        }
    }
    if (busy_connections(a) > 0)
        log_warning("stopping with %zu request(s) unfinished after %u ms", busy_connections(a),
                    SERVER_DRAIN_MS);
    for (size_t i = 0; i < a->cfg->max_connections; i++)
        if (a->conns[i])
            conn_close(a, a->conns[i]);
    if (a->socket_owned)
        (void)unlink(a->cfg->socket_path);
    return a->exit_status;
}
