/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One worker thread per backend instance: device calls never run on the event loop.
 *
 * Jobs wait in a bounded FIFO; a job still queued at its deadline fails with -ETIMEDOUT
 * without touching the device. Finished jobs go to a shared completion queue and the event
 * loop is woken through an eventfd. While its backend is down the worker re-opens it with
 * exponential backoff (WORKER_RETRY_MIN_MS .. WORKER_RETRY_MAX_MS), so a returning token is
 * serving again without an agent restart. Every signature is verified against the key's
 * cached public key before the job completes (-ENOTRECOVERABLE if it does not verify).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>

#include "key-backend.h"
#include "logrec.h"

#define WORKER_RETRY_MIN_MS 250u
#define WORKER_RETRY_MAX_MS 4000u
#define WORKER_ERRMSG       256u

/* JOB_CALL runs j->call on the worker thread: backend-specific operations (TPM quotes and
 * certifications) that are not key_backend ops; it leaves its result in j->out_obj. */
enum job_kind { JOB_SIGN, JOB_CREATE, JOB_IMPORT, JOB_DESTROY, JOB_CALL };

struct job;
typedef int (*job_call_fn)(struct key_backend *b, struct job *j);

struct job {
    enum job_kind kind;
    /* Who asked: the event loop matches the completion to the connection by these. */
    uint64_t conn_id;
    uint64_t conn_seq;
    uint32_t req_id;
    uint8_t req_type;
    uint64_t deadline_ms; /* CLOCK_MONOTONIC */
    uint64_t queued_ms;

    /* Inputs. */
    char backend[HWSIGN_MAX_NAME + 1];      /* instance name, set by dispatch_submit */
    char backend_kind[HWSIGN_MAX_NAME + 1]; /* ops->kind */
    char key[HWSIGN_MAX_NAME + 1];
    char locator[HWSIGN_MAX_URI + 1];
    enum hwsign_alg alg;
    uint8_t hash, scheme;
    uint8_t digest[HWSIGN_MAX_DIGEST];
    size_t digest_len;
    struct evp_pkey_st *pub; /* the key's public key (a reference), for verify-after-sign */
    /* SIGN_STATEMENT: what the envelope wraps (the digest above is that of its PAE). */
    char *payload_type;
    uint8_t *payload;
    size_t payload_len;
    char *keyid;
    char *predicate_type;
    size_t n_subjects;
    struct logrec_subject *subjects; /* for the signing log (statements) */
    uint8_t statement_sha256[32];
    bool statement;        /* signs an in-toto statement: DSSE envelope, statement log record */
    size_t staged_bytes;   /* STATEMENT_SIGN: staging budget held by payload until job_free */
    size_t *staged_budget; /* the agent's counter it returns to (atomic) */
    /* STATEMENT_SIGN: SHA-256 state over the envelope's head (dsse_envelope_sha256_begin),
     * computed by the judge so the event loop never builds the envelope of a large statement */
    struct evp_md_ctx_st *envelope_sha;
    uint8_t *key_spki; /* the key's DER SPKI, for the signing log */
    size_t key_spki_len;

    /* Who asked, for the signing log (copied at submit: the peer may be gone at completion). */
    uint32_t peer_uid, peer_gid, peer_pid;
    char peer_exe[256];
    char peer_unit[256];
    uint64_t log_seq; /* record index once logged */
    char *log_entry;  /* its transparency-log entry body (logentry.h), returned to the peer */
    size_t log_entry_len;
    char *envelope; /* SIGN_STATEMENT: the DSSE envelope JSON, built before logging */
    size_t envelope_len;
    bool checkpoint; /* an internal job signing a checkpoint (payload = its text) */
    uint64_t checkpoint_size;

    /* Outputs (valid when result == 0). */
    int result;
    char errmsg[WORKER_ERRMSG]; /* backend's last_error on failure */
    uint8_t sig[HWSIGN_MAX_SIG];
    size_t sig_len;
    char *out_locator;
    uint8_t *out_spki;
    size_t out_spki_len;
    enum hwsign_alg out_alg;
    /* JOB_CALL */
    job_call_fn call;
    char aux[HWSIGN_MAX_URI + 1]; /* a second locator (the TPM attestation key) */
    void *out_obj;                /* the call's result, freed with out_obj_free */
    void (*out_obj_free)(void *obj);

    struct job *next;
};

struct job *job_new(enum job_kind kind);
struct job *job_free(struct job *j);

/* Completion queue shared by all workers and drained by the event loop. */
struct done_queue {
    pthread_mutex_t lock;
    struct job *head, *tail;
    int efd; /* eventfd, readable when jobs are waiting */
};

int done_queue_init(struct done_queue *q);
void done_queue_fini(struct done_queue *q);
/* Takes the whole list of finished jobs (oldest first), or NULL. */
struct job *done_queue_take(struct done_queue *q);

struct worker;

/* b NULL starts a compute worker: it runs JOB_CALL jobs (with a NULL backend) and nothing
 * else, to keep CPU-heavy work such as judging a staged statement off the event loop. */
int worker_start(struct key_backend *b, struct done_queue *done, size_t max_queue,
                 struct worker **ret);
/* Queue a job. -EBUSY when the queue is full, -ESHUTDOWN when stopping. Takes j on success. */
int worker_submit(struct worker *w, struct job *j);
/* Jobs waiting or running. */
size_t worker_pending(struct worker *w);
/*
 * Stop: queued jobs fail with -ESHUTDOWN, the running one may finish. Waits up to timeout_ms
 * for the thread; a thread stuck inside a device call is left behind (returns false) and the
 * backend is then not freed.
 */
bool worker_stop(struct worker *w, uint64_t timeout_ms);
struct worker *worker_free(struct worker *w);

uint64_t now_ms(void); /* CLOCK_MONOTONIC in milliseconds */
