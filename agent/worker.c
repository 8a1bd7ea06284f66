/* SPDX-License-Identifier: Apache-2.0 */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "macro.h"

struct worker {
    struct key_backend *b;
    struct done_queue *done;
    size_t max_queue;
    pthread_t thread;
    bool started;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued;
    bool running_job;
    bool stop;
    bool exited;
    pthread_cond_t exited_cond;

    uint64_t next_retry_ms;
    uint64_t retry_delay_ms;
};

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct job *job_new(enum job_kind kind)
{
    struct job *j = calloc(1, sizeof(*j));
    if (j)
        j->kind = kind;
    return j;
}

struct job *job_free(struct job *j)
{
    if (!j)
        return NULL;
    free(j->out_locator);
    free(j->out_spki);
    EVP_PKEY_free(j->pub);
    free(j->payload_type);
    free(j->payload);
    EVP_MD_CTX_free(j->envelope_sha);
    if (j->staged_budget)
        __atomic_sub_fetch(j->staged_budget, j->staged_bytes, __ATOMIC_RELAXED);
    free(j->keyid);
    free(j->predicate_type);
    free(j->key_spki);
    if (j->out_obj && j->out_obj_free)
        j->out_obj_free(j->out_obj);
    free(j->log_entry);
    free(j->envelope);
    for (size_t i = 0; j->subjects && i < j->n_subjects; i++)
        free(j->subjects[i].name);
    free(j->subjects);
    explicit_bzero(j, sizeof(*j));
    free(j);
    return NULL;
}

int done_queue_init(struct done_queue *q)
{
    memset(q, 0, sizeof(*q));
    q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->efd < 0)
        return negative_errno();
    pthread_mutex_init(&q->lock, NULL);
    return 0;
}

void done_queue_fini(struct done_queue *q)
{
    struct job *j = done_queue_take(q);
    while (j) {
        struct job *next = j->next;
        job_free(j);
        j = next;
    }
    if (q->efd >= 0)
        close(q->efd);
    q->efd = -1;
    pthread_mutex_destroy(&q->lock);
}

struct job *done_queue_take(struct done_queue *q)
{
    struct job *head;
    uint64_t v;

    pthread_mutex_lock(&q->lock);
    head = q->head;
    q->head = q->tail = NULL;
    (void)!read(q->efd, &v, sizeof(v));
    pthread_mutex_unlock(&q->lock);
    return head;
}

static void done_push(struct done_queue *q, struct job *j)
{
    uint64_t one = 1;

    j->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    (void)!write(q->efd, &one, sizeof(one));
    pthread_mutex_unlock(&q->lock);
}

static void copy_error(struct worker *w, struct job *j)
{
    if (!w->b)
        return; /* a compute worker: the call wrote its own message */
    const char *e = w->b->ops->last_error ? w->b->ops->last_error(w->b) : NULL;
    (void)snprintf(j->errmsg, sizeof(j->errmsg), "%s", e ? e : "");
}

static enum hwsign_backend_state backend_state(struct worker *w)
{
    return w->b ? w->b->ops->health(w->b, NULL, 0) : HWSIGN_BACKEND_OK;
}

/* Try to bring the backend up; on failure schedule the next attempt with backoff. */
static int try_open(struct worker *w)
{
    if (!w->b)
        return 0;
    int r = w->b->ops->open(w->b);
    if (r >= 0) {
        w->retry_delay_ms = 0;
        w->next_retry_ms = 0;
        return 0;
    }
    w->retry_delay_ms = w->retry_delay_ms ? MIN(w->retry_delay_ms * 2, WORKER_RETRY_MAX_MS)
                                          : WORKER_RETRY_MIN_MS;
    w->next_retry_ms = now_ms() + w->retry_delay_ms;
    return r;
}

static int run_op(struct worker *w, struct job *j)
{
    if (!w->b)
        return j->kind == JOB_CALL && j->call ? j->call(NULL, j) : -EINVAL;
    const struct key_backend_ops *ops = w->b->ops;

    switch (j->kind) {
    case JOB_SIGN:
        j->sig_len = sizeof(j->sig);
        return ops->sign(w->b, j->locator, j->alg, (enum hwsign_hash)j->hash,
                         (enum hwsign_scheme)j->scheme, j->digest, j->digest_len, j->sig,
                         &j->sig_len);
    case JOB_CREATE:
        return ops->create(w->b, j->key, j->alg, &j->out_locator, &j->out_spki, &j->out_spki_len);
    case JOB_IMPORT:
        return ops->import(w->b, j->locator, &j->out_locator, &j->out_alg, &j->out_spki,
                           &j->out_spki_len);
    case JOB_DESTROY:
        return ops->destroy(w->b, j->locator);
    case JOB_CALL:
        return j->call ? j->call(w->b, j) : -EINVAL;
    }
    return -EINVAL;
}

static void execute(struct worker *w, struct job *j)
{
    int r;

    if (now_ms() >= j->deadline_ms) {
        j->result = -ETIMEDOUT;
        (void)snprintf(j->errmsg, sizeof(j->errmsg), "request waited past its deadline");
        return;
    }
    if (backend_state(w) != HWSIGN_BACKEND_OK) {
        r = try_open(w);
        if (r < 0) {
            j->result = r;
            copy_error(w, j);
            return;
        }
    }
    r = run_op(w, j);
    /* The device went away under us: the backend has torn down; one fresh attempt. */
    if (r == -ENODEV && now_ms() < j->deadline_ms && try_open(w) >= 0) {
        free(j->out_locator);
        free(j->out_spki);
        j->out_locator = NULL;
        j->out_spki = NULL;
        r = run_op(w, j);
    }
    if (r < 0) {
        j->result = r;
        copy_error(w, j);
        if (r == -ENODEV && !w->next_retry_ms)
            w->next_retry_ms = now_ms() + WORKER_RETRY_MIN_MS;
        return;
    }
    if (j->kind == JOB_SIGN) {
        r = sig_verify_digest_pkey(j->pub, (enum hwsign_hash)j->hash, (enum hwsign_scheme)j->scheme,
                                   j->digest, j->digest_len, j->sig, j->sig_len);
        if (r < 0) {
            j->result = -ENOTRECOVERABLE;
            (void)snprintf(j->errmsg, sizeof(j->errmsg),
                           "device signature does not verify against the registered public key");
            explicit_bzero(j->sig, sizeof(j->sig));
            j->sig_len = 0;
            return;
        }
    }
    j->result = 0;
}

static void timespec_at(uint64_t ms_monotonic, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ms_monotonic / 1000u);
    ts->tv_nsec = (long)(ms_monotonic % 1000u) * 1000000L;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    (void)try_open(w);
    pthread_mutex_lock(&w->lock);
    for (;;) {
        struct job *j;

        while (!w->stop && !w->head) {
            enum hwsign_backend_state st;
            pthread_mutex_unlock(&w->lock);
            st = backend_state(w);
            if (st == HWSIGN_BACKEND_UNAVAILABLE && w->next_retry_ms &&
                now_ms() >= w->next_retry_ms)
                (void)try_open(w);
            pthread_mutex_lock(&w->lock);
            if (w->stop || w->head)
                break;
            if (backend_state(w) == HWSIGN_BACKEND_UNAVAILABLE && w->next_retry_ms) {
                struct timespec ts;
                timespec_at(w->next_retry_ms, &ts);
                (void)pthread_cond_timedwait(&w->cond, &w->lock, &ts);
            } else {
                pthread_cond_wait(&w->cond, &w->lock);
            }
        }
        if (w->stop)
            break;
        j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        w->running_job = true;
        pthread_mutex_unlock(&w->lock);

        execute(w, j);
        done_push(w->done, j);

        pthread_mutex_lock(&w->lock);
        w->running_job = false;
    }
    /* Fail whatever is still queued. */
    while (w->head) {
        struct job *j = w->head;
        w->head = j->next;
        j->result = -ESHUTDOWN;
        (void)snprintf(j->errmsg, sizeof(j->errmsg), "agent is stopping");
        done_push(w->done, j);
    }
    w->tail = NULL;
    w->queued = 0;
    w->exited = true;
    pthread_cond_broadcast(&w->exited_cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int worker_start(struct key_backend *b, struct done_queue *done, size_t max_queue,
                 struct worker **ret)
{
    struct worker *w = calloc(1, sizeof(*w));
    pthread_condattr_t ca;
    int r;

    if (!w)
        return -ENOMEM;
    w->b = b;
    w->done = done;
    w->max_queue = max_queue;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_cond_init(&w->exited_cond, &ca);
    pthread_condattr_destroy(&ca);
    r = pthread_create(&w->thread, NULL, worker_main, w);
    if (r != 0) {
        worker_free(w);
        return -r;
    }
    w->started = true;
    *ret = w;
    return 0;
}

int worker_submit(struct worker *w, struct job *j)
{
    pthread_mutex_lock(&w->lock);
    if (w->stop) {
        pthread_mutex_unlock(&w->lock);
        return -ESHUTDOWN;
    }
    if (w->queued >= w->max_queue) {
        pthread_mutex_unlock(&w->lock);
        return -EBUSY;
    }
    j->next = NULL;
    j->queued_ms = now_ms();
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

size_t worker_pending(struct worker *w)
{
    size_t n;
    pthread_mutex_lock(&w->lock);
    n = w->queued + (w->running_job ? 1 : 0);
    pthread_mutex_unlock(&w->lock);
    return n;
}

bool worker_stop(struct worker *w, uint64_t timeout_ms)
{
    struct timespec ts;
    bool exited;

    if (!w || !w->started)
        return true;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    timespec_at(now_ms() + timeout_ms, &ts);
    while (!w->exited)
        if (pthread_cond_timedwait(&w->exited_cond, &w->lock, &ts) == ETIMEDOUT)
            break;
    exited = w->exited;
    pthread_mutex_unlock(&w->lock);
    if (exited) {
        pthread_join(w->thread, NULL);
        w->started = false;
    }
    return exited;
}

struct worker *worker_free(struct worker *w)
{
    if (!w)
        return NULL;
    if (w->started)
        return NULL; /* still running inside a device call: leak rather than free under it */
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    pthread_cond_destroy(&w->exited_cond);
    free(w);
    return NULL;
}
