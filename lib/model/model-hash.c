/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* qsort_r */
#include "model-hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "macro.h"

struct job {
    size_t file; /* index into the tree */
    uint64_t start, end;
    uint8_t digest[32];
};

/* State shared by the workers and the calling thread. */
struct hash_run {
    const struct model_tree *t;
    struct job *jobs;
    size_t *order; /* job indexes, longest first */
    size_t n_jobs;
    EVP_MD *md;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t next;      /* next position in order (lock) */
    unsigned running; /* workers not yet finished (lock) */
    int error;        /* first failure (lock) */
    size_t error_job; /* its job, SIZE_MAX for none */

    uint64_t done; /* bytes hashed (atomic) */
    int stop;      /* set on the first failure (atomic) */
};

unsigned model_hash_threads(unsigned threads)
{
    long n = threads;

    if (n == 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1)
            n = 1;
    }
    return (unsigned)MIN(n, (long)MODEL_MAX_THREADS);
}

static void run_fail(struct hash_run *h, int r, size_t job)
{
    pthread_mutex_lock(&h->lock);
    if (h->error == 0) {
        h->error = r;
        h->error_job = job;
    }
    pthread_mutex_unlock(&h->lock);
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
}

static int hash_job(struct hash_run *h, struct job *j, uint8_t *buf, EVP_MD_CTX *ctx)
{
    const struct model_file *f = model_tree_file(h->t, j->file);
    _cleanup_close_ int fd = -EBADF;
    uint64_t pos = j->start;
    unsigned int n = 0;
    struct stat st;
    int r;

    r = model_tree_open(h->t, j->file, &fd);
    if (r < 0)
        return r;
    /* Advice only: a larger read-ahead window when the file is not cached. */
    (void)posix_fadvise(fd, (off_t)j->start, (off_t)(j->end - j->start), POSIX_FADV_SEQUENTIAL);
    if (EVP_DigestInit_ex(ctx, h->md, NULL) != 1)
        return -ENOMEM;
    while (pos < j->end) {
        size_t want = (size_t)MIN((uint64_t)MODEL_HASH_CHUNK, j->end - pos);
        ssize_t k = pread(fd, buf, want, (off_t)pos);

        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -ESTALE; /* shorter than when it was walked */
        if (EVP_DigestUpdate(ctx, buf, (size_t)k) != 1)
            return -ENOTRECOVERABLE;
        pos += (uint64_t)k;
        __atomic_add_fetch(&h->done, (uint64_t)k, __ATOMIC_RELAXED);
        if (__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
            return -ECANCELED;
    }
    if (EVP_DigestFinal_ex(ctx, j->digest, &n) != 1 || n != sizeof(j->digest))
        return -ENOTRECOVERABLE;
    if (fstat(fd, &st) < 0)
        return -errno;
    if ((uint64_t)st.st_size != f->size)
        return -ESTALE;
    return 0;
}

static void *worker(void *arg)
{
    struct hash_run *h = arg;
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    _cleanup_free_ uint8_t *buf = malloc(MODEL_HASH_CHUNK);

    if (!ctx || !buf)
        run_fail(h, -ENOMEM, SIZE_MAX);
    while (ctx && buf) {
        size_t idx;
        int r;

        pthread_mutex_lock(&h->lock);
        if (h->next >= h->n_jobs || __atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
            pthread_mutex_unlock(&h->lock);
            break;
        }
        idx = h->order[h->next++];
        pthread_mutex_unlock(&h->lock);
        r = hash_job(h, &h->jobs[idx], buf, ctx);
        if (r < 0) {
            if (r != -ECANCELED)
                run_fail(h, r, idx);
            break;
        }
    }
    pthread_mutex_lock(&h->lock);
    h->running--;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* Count the jobs first (the limit is checked before allocating), then fill them in. */
static int plan_jobs(const struct model_tree *t, const struct model_hash_config *cfg,
                     struct job **ret, size_t *ret_n)
{
    const uint64_t S = cfg->ser.shard_size;
    size_t n = 0, k = 0;
    struct job *jobs;

    for (size_t i = 0; i < model_tree_n_files(t); i++) {
        uint64_t size = model_tree_file(t, i)->size;
        uint64_t c;

        if (cfg->ser.method == MODEL_METHOD_FILES)
            c = 1;
        else if (size == 0)
            c = cfg->shard_empty_files ? 1 : 0;
        else
            c = size / S + (size % S != 0);
        if (c > MODEL_MAX_RESOURCES || n + c > MODEL_MAX_RESOURCES)
            return -EMSGSIZE;
        n += (size_t)c;
    }
    jobs = calloc(n ? n : 1, sizeof(*jobs));
    if (!jobs)
        return -ENOMEM;
    for (size_t i = 0; i < model_tree_n_files(t); i++) {
        uint64_t size = model_tree_file(t, i)->size;

        if (cfg->ser.method == MODEL_METHOD_FILES) {
            jobs[k++] = (struct job){.file = i, .start = 0, .end = size};
            continue;
        }
        if (size == 0 && cfg->shard_empty_files)
            jobs[k++] = (struct job){.file = i, .start = 0, .end = 0};
        for (uint64_t s = 0; s < size; s += S)
            jobs[k++] = (struct job){.file = i, .start = s, .end = MIN(s + S, size)};
    }
    *ret = jobs;
    *ret_n = n;
    return 0;
}

static int longest_first(const void *a, const void *b, void *userdata)
{
    const struct job *jobs = userdata;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    uint64_t lx = jobs[x].end - jobs[x].start, ly = jobs[y].end - jobs[y].start;

    if (lx != ly)
        return lx > ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Waits for the workers, reporting progress meanwhile. */
static void supervise(struct hash_run *h, uint64_t total, const struct model_hash_config *cfg)
{
    pthread_mutex_lock(&h->lock);
    while (h->running > 0) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)MODEL_PROGRESS_INTERVAL_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        (void)pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        if (cfg->progress && h->running > 0) {
            pthread_mutex_unlock(&h->lock);
            cfg->progress(__atomic_load_n(&h->done, __ATOMIC_RELAXED), total, cfg->userdata);
            pthread_mutex_lock(&h->lock);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

static int run_workers(struct hash_run *h, unsigned n_threads, uint64_t total,
                       const struct model_hash_config *cfg)
{
    _cleanup_free_ pthread_t *tids = calloc(n_threads, sizeof(*tids));
    pthread_condattr_t ca;
    unsigned started = 0;
    int r;

    if (!tids)
        return -ENOMEM;
    if (pthread_condattr_init(&ca) != 0)
        return -ENOMEM;
    r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (r == 0)
        r = pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (r != 0)
        return -r;
    r = pthread_mutex_init(&h->lock, NULL);
    if (r != 0) {
        pthread_cond_destroy(&h->cond);
        return -r;
    }
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < n_threads; i++) {
        if (pthread_create(&tids[i], NULL, worker, h) != 0)
            break; /* fewer threads are still fine */
        started++;
        h->running++;
    }
    pthread_mutex_unlock(&h->lock);
    if (started > 0)
        supervise(h, total, cfg);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    if (started == 0)
        return -EAGAIN;
    return h->error;
}

int model_hash(const struct model_tree *t, const char *model_name, const char *const *ignore,
               size_t n_ignore, const struct model_hash_config *cfg, struct model_manifest **ret,
               struct model_diag *diag)
{
    _cleanup_(model_manifest_freep) struct model_manifest *m = NULL;
    _cleanup_(EVP_MD_freep) EVP_MD *md = NULL;
    _cleanup_free_ struct job *jobs = NULL;
    _cleanup_free_ size_t *order = NULL;
    struct hash_run h = {.error_job = SIZE_MAX};
    uint64_t total = model_tree_total_bytes(t);
    size_t n_jobs = 0;
    unsigned n_threads;
    int r;

    if (diag)
        diag->path[0] = '\0';
    if (!t || !cfg || !ret)
        return -EINVAL;
    r = model_manifest_new(model_name, &cfg->ser, ignore, n_ignore, &m);
    if (r < 0)
        return r;
    r = plan_jobs(t, cfg, &jobs, &n_jobs);
    if (r < 0)
        return r;
    if (n_jobs > 0) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        order = calloc(n_jobs, sizeof(*order));
        if (!md || !order)
            return -ENOMEM;
        for (size_t i = 0; i < n_jobs; i++)
            order[i] = i;
        qsort_r(order, n_jobs, sizeof(*order), longest_first, jobs);

        h = (struct hash_run){
                .t = t,
                .jobs = jobs,
                .order = order,
                .n_jobs = n_jobs,
                .md = md,
                .error_job = SIZE_MAX,
        };
        n_threads = (unsigned)MIN((size_t)model_hash_threads(cfg->threads), n_jobs);
        r = run_workers(&h, n_threads, total, cfg);
        if (r < 0) {
            if (diag && h.error_job != SIZE_MAX)
                (void)snprintf(diag->path, sizeof(diag->path), "%s",
                               model_tree_file(t, jobs[h.error_job].file)->path);
            return r;
        }
    }
    /* Jobs are in file order and, within a file, in shard order. */
    for (size_t i = 0; i < n_jobs; i++) {
        const struct job *j = &jobs[i];

        r = model_manifest_add(m, model_tree_file(t, j->file)->path,
                               cfg->ser.method == MODEL_METHOD_SHARDS ? j->start : 0,
                               cfg->ser.method == MODEL_METHOD_SHARDS ? j->end : 0, j->digest);
        if (r < 0)
            return r;
    }
    r = model_manifest_sort(m);
    if (r < 0)
        return r;
    if (cfg->progress)
        cfg->progress(total, total, cfg->userdata);
    *ret = TAKE_PTR(m);
    return 0;
}
