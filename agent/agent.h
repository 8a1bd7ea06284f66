/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's shared state, owned by the event-loop thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "key-backend.h"
#include "keystore.h"
#include "worker.h"

struct measure_host;
struct measure_toolchain;

struct conn;

struct backend_slot {
    struct key_backend *b;
    struct worker *w;
};

struct agent {
    struct agent_config *cfg;
    struct keystore *keys;
    struct auditlog *log; /* NULL when audit-log = no */
    struct backend_slot backends[HWSIGN_MAX_BACKENDS];
    size_t nbackends;
    struct done_queue done;

    int epfd;
    int listen_fd;
    bool listen_paused; /* fds exhausted or connection cap reached */
    bool socket_owned;  /* created by us (not socket-activated): watched and removed at exit */
    dev_t socket_dev;
    ino_t socket_ino;
    int signal_fd;
    int timer_fd;

    struct conn **conns; /* max_connections slots */
    size_t nconns;
    uint64_t next_conn_id;
    uint64_t start_ms;
    uint64_t last_socket_check_ms;
    uint64_t last_log_retry_ms;

    /* Checkpoints of the signing log (handle-log.c). */
    char *checkpoint;         /* latest signed note, NULL before the first */
    uint64_t checkpoint_size; /* records it covers */
    uint64_t checkpoint_ms;   /* when it was issued (monotonic) */
    bool checkpoint_pending;  /* a signing job for one is in flight */
    uint64_t checkpoint_failures;

    /* Bytes of staged statements held by connections and signing jobs (handle-stage.c), at
     * most HWSIGN_MAX_STAGED_TOTAL; atomic, as a job may be freed off the event loop. */
    size_t staged_bytes;
    /* Compute worker judging staged statements (handle-stage.c); NULL: judged inline. */
    struct worker *judge;

    /* Measured provenance (handle-provenance.c): read on first use. */
    struct measure_host *host;
    struct measure_toolchain *toolchain;

    bool stopping;
    uint64_t stop_deadline_ms;
    int exit_status;
};

/* Checkpoints: issue one now if records are waiting (and none is in flight). */
void checkpoint_maybe_issue(struct agent *a, bool force);
void checkpoint_tick(struct agent *a, uint64_t now);
/* Load STATE/log/checkpoint at start (absent is fine). */
int checkpoint_load(struct agent *a);

/* Backend lookup: by instance name, or the only one when name is "" (NULL if ambiguous). */
struct backend_slot *agent_backend(struct agent *a, const char *name);
struct backend_slot *agent_backend_of_key(struct agent *a, const struct key_record *k);
