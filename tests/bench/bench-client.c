/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-client: signing load generator for hwsign-agent (a benchmark, not a test).
 *
 * Each thread opens its own connection (libhwsign clients are not thread-safe) and issues
 * SIGN_DIGEST requests back to back. Every request's latency is taken with CLOCK_MONOTONIC
 * around hwsign_sign_digest(); all samples are merged and one parseable line is printed:
 *
 *   RESULT name=agent-1 threads=1 ok=20000 fail=0 secs=3.101 signs_per_s=6449.5
 *          p50_ms=0.151 p90_ms=0.170 p99_ms=0.240 max_ms=1.900 mean_ms=0.154
 *
 * (one line). Throughput counts successful signatures over the wall time from the moment all
 * threads are connected and warmed up until the last one finishes.
 *
 * With -r info the threads time KEY_INFO requests instead (hwsign_key_info): the agent answers
 * them from its key store on the event loop without touching the device, so their latency is
 * the agent's IPC floor (socket round trip, framing, dispatch) that every signature also pays.
 *
 * Before the timed part every thread fetches the key's public key, signs once and verifies
 * that signature locally, so a misconfigured key fails loudly instead of producing figures.
 * Exit status: 0 when every request returned a signature, 1 when any failed, 2 on usage or
 * setup errors.
 *
 * Usage: bench-client -k KEY [-s SOCKET] [-t THREADS] (-n TOTAL | -d SECONDS) [-w WARMUP]
 *                     [-r sign|info] [-L NAME]
 */
#include <hwsign/hwsign.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define BENCH_MAX_THREADS  256u
#define BENCH_DIGEST_LEN   32u
#define BENCH_GROW_SAMPLES 65536u
#define BENCH_MAX_NAME     64u

struct options {
    const char *socket;
    const char *key;
    const char *name;
    unsigned long threads;
    unsigned long total;   /* 0: use seconds */
    unsigned long seconds; /* 0: use total */
    unsigned long warmup;  /* per thread, not recorded */
    bool info;             /* time KEY_INFO instead of SIGN_DIGEST */
};

struct thread_ctx {
    const struct options *opt;
    unsigned index;
    unsigned long quota; /* requests to run; 0 with a deadline */
    pthread_barrier_t *ready;
    pthread_barrier_t *go;
    uint64_t deadline_ns; /* set by main before the go barrier; 0 with a quota */
    uint64_t *lat_ns;
    size_t n_lat, cap_lat;
    unsigned long ok, fail;
    int setup_error; /* negative errno when the thread could not start */
    char error[HWSIGN_MAX_TEXT + 64];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
    char *end = NULL;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || !end || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s -k KEY [-s SOCKET] [-t THREADS] (-n TOTAL | -d SECONDS) [-w WARMUP] "
            "[-r sign|info] [-L NAME]\n"
            "  -k KEY      key name registered in the agent\n"
            "  -s SOCKET   agent socket (default: $HWSIGN_AGENT_SOCK or the library default)\n"
            "  -t THREADS  concurrent clients, one connection each (default 1, max %u)\n"
            "  -n TOTAL    total signatures over all threads\n"
            "  -d SECONDS  run for this long instead of a fixed count\n"
            "  -w WARMUP   untimed requests per thread before the measurement (default 100)\n"
            "  -r REQUEST  'sign' (default) or 'info': KEY_INFO round trips, the IPC floor\n"
            "  -L NAME     name printed in the RESULT line (default 'agent')\n",
            argv0, BENCH_MAX_THREADS);
}

static int parse_options(int argc, char **argv, struct options *o)
{
    int ch;

    *o = (struct options){.name = "agent", .threads = 1, .warmup = 100};
    while ((ch = getopt(argc, argv, "k:s:t:n:d:w:r:L:h")) != -1) {
        switch (ch) {
        case 'k':
            o->key = optarg;
            break;
        case 's':
            o->socket = optarg;
            break;
        case 't':
            if (parse_ulong(optarg, 1, BENCH_MAX_THREADS, &o->threads) < 0) {
                fprintf(stderr, "bench-client: -t needs 1..%u\n", BENCH_MAX_THREADS);
                return -EINVAL;
            }
            break;
        case 'n':
            if (parse_ulong(optarg, 1, 1000000000ul, &o->total) < 0) {
                fprintf(stderr, "bench-client: -n needs a positive count\n");
                return -EINVAL;
            }
            break;
        case 'd':
            if (parse_ulong(optarg, 1, 86400ul, &o->seconds) < 0) {
                fprintf(stderr, "bench-client: -d needs 1..86400 seconds\n");
                return -EINVAL;
            }
            break;
        case 'w':
            if (parse_ulong(optarg, 0, 1000000ul, &o->warmup) < 0) {
                fprintf(stderr, "bench-client: -w needs a count\n");
                return -EINVAL;
            }
            break;
        case 'r':
            if (strcmp(optarg, "sign") != 0 && strcmp(optarg, "info") != 0) {
                fprintf(stderr, "bench-client: -r needs 'sign' or 'info'\n");
                return -EINVAL;
            }
            o->info = strcmp(optarg, "info") == 0;
            break;
        case 'L':
            if (strlen(optarg) == 0 || strlen(optarg) >= BENCH_MAX_NAME ||
                strpbrk(optarg, " \t\n=")) {
                fprintf(stderr, "bench-client: -L needs a short name without spaces or '='\n");
                return -EINVAL;
            }
            o->name = optarg;
            break;
        case 'h':
            usage(stdout, argv[0]);
            exit(0);
        default:
            usage(stderr, argv[0]);
            return -EINVAL;
        }
    }
    if (optind != argc || !o->key || (o->total == 0) == (o->seconds == 0)) {
        usage(stderr, argv[0]);
        return -EINVAL;
    }
    if (o->total && o->total < o->threads) {
        fprintf(stderr, "bench-client: -n must be at least the number of threads\n");
        return -EINVAL;
    }
    return 0;
}

/* A digest that differs per thread and request, so no layer can cache a result. */
static void make_digest(uint8_t d[BENCH_DIGEST_LEN], unsigned thread, uint64_t seq)
{
    for (unsigned i = 0; i < BENCH_DIGEST_LEN; i++)
        d[i] = (uint8_t)(0xa5u ^ (i * 37u));
    memcpy(d, &seq, sizeof(seq));
    memcpy(d + sizeof(seq), &thread, sizeof(thread));
}

static int verify_sample(const uint8_t *spki, size_t spki_len, const uint8_t *digest,
                         const uint8_t *sig, size_t sig_len)
{
    const unsigned char *p = spki;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki_len);
    EVP_PKEY_CTX *pc = pub ? EVP_PKEY_CTX_new(pub, NULL) : NULL;
    int ok = pc && EVP_PKEY_verify_init(pc) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
             EVP_PKEY_verify(pc, sig, sig_len, digest, BENCH_DIGEST_LEN) == 1;

    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(pub);
    return ok ? 0 : -EBADMSG;
}

static int record(struct thread_ctx *t, uint64_t ns)
{
    if (t->n_lat == t->cap_lat) {
        size_t cap = t->cap_lat + BENCH_GROW_SAMPLES;
        uint64_t *p = realloc(t->lat_ns, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        t->lat_ns = p;
        t->cap_lat = cap;
    }
    t->lat_ns[t->n_lat++] = ns;
    return 0;
}

/* One timed unit of work: a signature, or a KEY_INFO round trip with -r info. */
static int one_request(struct hwsign_client *c, const struct options *o, const uint8_t *digest,
                       size_t *ret_len)
{
    struct hwsign_key_info *k = NULL;
    uint8_t *sig = NULL;
    int r;

    if (o->info) {
        r = hwsign_key_info(c, o->key, &k);
        if (r < 0)
            return r;
        *ret_len = k->spki_len;
        hwsign_key_info_free(k);
        return 0;
    }
    r = hwsign_sign_digest(c, o->key, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest,
                           BENCH_DIGEST_LEN, &sig, ret_len);
    if (r < 0)
        return r;
    free(sig);
    return 0;
}

/* Connect, check the key with one verified signature, warm up. */
static int thread_setup(struct thread_ctx *t, struct hwsign_client **ret)
{
    const struct options *o = t->opt;
    struct hwsign_client *c = NULL;
    uint8_t digest[BENCH_DIGEST_LEN], *spki = NULL, *sig = NULL;
    size_t spki_len = 0, sig_len = 0;
    int r;

    r = hwsign_connect(o->socket, &c);
    if (r < 0) {
        (void)snprintf(t->error, sizeof(t->error), "connect: %s", strerror(-r));
        return r;
    }
    r = hwsign_get_public_key(c, o->key, &spki, &spki_len);
    if (r < 0) {
        (void)snprintf(t->error, sizeof(t->error), "public key of '%s': %s", o->key,
                       hwsign_client_error(c));
        hwsign_disconnect(c);
        return r;
    }
    make_digest(digest, t->index, UINT64_MAX);
    r = hwsign_sign_digest(c, o->key, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest,
                           sizeof(digest), &sig, &sig_len);
    if (r < 0)
        (void)snprintf(t->error, sizeof(t->error), "first signature: %s", hwsign_client_error(c));
    else if ((r = verify_sample(spki, spki_len, digest, sig, sig_len)) < 0)
        (void)snprintf(t->error, sizeof(t->error), "first signature does not verify");
    free(spki);
    free(sig);
    for (unsigned long i = 0; r == 0 && i < o->warmup; i++) {
        make_digest(digest, t->index, UINT64_MAX - 1 - i);
        r = one_request(c, o, digest, &sig_len);
        if (r < 0)
            (void)snprintf(t->error, sizeof(t->error), "warm-up request: %s",
                           hwsign_client_error(c));
    }
    if (r < 0) {
        hwsign_disconnect(c);
        return r;
    }
    *ret = c;
    return 0;
}

static void *thread_main(void *arg)
{
    struct thread_ctx *t = arg;
    const struct options *o = t->opt;
    struct hwsign_client *c = NULL;
    uint8_t digest[BENCH_DIGEST_LEN];
    uint64_t seq = 0;

    t->setup_error = thread_setup(t, &c);
    (void)pthread_barrier_wait(t->ready); /* main checks setup errors here */
    (void)pthread_barrier_wait(t->go);
    if (t->setup_error < 0)
        return NULL;

    for (;;) {
        size_t out_len = 0;
        uint64_t t0, t1;
        int r;

        if (t->quota ? seq >= t->quota : mono_ns() >= t->deadline_ns)
            break;
        make_digest(digest, t->index, seq++);
        t0 = mono_ns();
        r = one_request(c, o, digest, &out_len);
        t1 = mono_ns();
        if (r < 0 || out_len == 0) {
            if (t->fail == 0)
                (void)snprintf(t->error, sizeof(t->error), "%s: %s (%s)",
                               o->info ? "key info" : "sign", r < 0 ? strerror(-r) : "empty",
                               hwsign_client_error(c));
            t->fail++;
            if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN) {
                /* The connection is gone: every remaining request would fail the same way. */
                t->fail += t->quota > seq ? t->quota - seq : 0;
                break;
            }
        } else {
            t->ok++;
            if (record(t, t1 - t0) < 0) {
                (void)snprintf(t->error, sizeof(t->error), "out of memory for samples");
                t->fail++;
                break;
            }
        }
    }
    hwsign_disconnect(c);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double pct_ms(const uint64_t *s, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0.0;
    rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)s[rank - 1] / 1e6;
}

int main(int argc, char **argv)
{
    struct options o;
    struct thread_ctx *ts = NULL;
    pthread_t *tids = NULL;
    pthread_barrier_t ready, go;
    uint64_t *all = NULL, t_start, t_end, sum = 0;
    unsigned long ok = 0, fail = 0;
    size_t n_all = 0, k = 0;
    bool setup_failed = false;
    int rc = 2;

    if (parse_options(argc, argv, &o) < 0)
        return 2;
    ts = calloc(o.threads, sizeof(*ts));
    tids = calloc(o.threads, sizeof(*tids));
    if (!ts || !tids) {
        fprintf(stderr, "bench-client: out of memory\n");
        goto out;
    }
    if (pthread_barrier_init(&ready, NULL, (unsigned)o.threads + 1) != 0 ||
        pthread_barrier_init(&go, NULL, (unsigned)o.threads + 1) != 0) {
        fprintf(stderr, "bench-client: pthread_barrier_init failed\n");
        goto out;
    }
    for (unsigned i = 0; i < o.threads; i++) {
        struct thread_ctx *t = &ts[i];
        t->opt = &o;
        t->index = i;
        t->ready = &ready;
        t->go = &go;
        if (o.total) {
            t->quota = o.total / o.threads + (i < o.total % o.threads ? 1 : 0);
            t->cap_lat = t->quota;
            t->lat_ns = malloc(t->cap_lat * sizeof(*t->lat_ns));
            if (!t->lat_ns) {
                fprintf(stderr, "bench-client: out of memory\n");
                exit(2); /* threads already started are blocked in a barrier */
            }
        }
        int r = pthread_create(&tids[i], NULL, thread_main, t);
        if (r != 0) {
            fprintf(stderr, "bench-client: pthread_create: %s\n", strerror(r));
            exit(2);
        }
    }
    (void)pthread_barrier_wait(&ready);
    for (unsigned i = 0; i < o.threads; i++)
        if (ts[i].setup_error < 0) {
            fprintf(stderr, "bench-client: thread %u: %s\n", i, ts[i].error);
            setup_failed = true;
        }
    t_start = mono_ns();
    for (unsigned i = 0; i < o.threads; i++)
        ts[i].deadline_ns = o.seconds ? t_start + (uint64_t)o.seconds * 1000000000u : 0;
    (void)pthread_barrier_wait(&go);
    for (unsigned i = 0; i < o.threads; i++)
        (void)pthread_join(tids[i], NULL);
    t_end = mono_ns();
    (void)pthread_barrier_destroy(&ready);
    (void)pthread_barrier_destroy(&go);
    if (setup_failed)
        goto out;

    for (unsigned i = 0; i < o.threads; i++) {
        ok += ts[i].ok;
        fail += ts[i].fail;
        n_all += ts[i].n_lat;
        if (ts[i].fail)
            fprintf(stderr, "bench-client: thread %u: %lu failure(s), first: %s\n", i, ts[i].fail,
                    ts[i].error);
    }
    all = malloc((n_all ? n_all : 1) * sizeof(*all));
    if (!all) {
        fprintf(stderr, "bench-client: out of memory\n");
        goto out;
    }
    for (unsigned i = 0; i < o.threads; i++)
        for (size_t j = 0; j < ts[i].n_lat; j++) {
            all[k++] = ts[i].lat_ns[j];
            sum += ts[i].lat_ns[j];
        }
    qsort(all, n_all, sizeof(*all), cmp_u64);

    double secs = (double)(t_end - t_start) / 1e9;
    printf("RESULT name=%s threads=%lu ok=%lu fail=%lu secs=%.3f signs_per_s=%.1f p50_ms=%.4f "
           "p90_ms=%.4f p99_ms=%.4f max_ms=%.4f mean_ms=%.4f\n",
           o.name, o.threads, ok, fail, secs, secs > 0 ? (double)ok / secs : 0.0,
           pct_ms(all, n_all, 50), pct_ms(all, n_all, 90), pct_ms(all, n_all, 99),
           n_all ? (double)all[n_all - 1] / 1e6 : 0.0,
           n_all ? (double)sum / (double)n_all / 1e6 : 0.0);
    fflush(stdout);
    rc = fail ? 1 : 0;
out:
    if (ts)
        for (unsigned i = 0; i < o.threads; i++)
            free(ts[i].lat_ns);
    free(all);
    free(ts);
    free(tids);
    return rc;
}
