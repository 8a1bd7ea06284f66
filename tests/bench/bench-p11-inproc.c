/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-p11-inproc: the in-process baseline for the agent benchmark (not a test).
 *
 * libp11 loads the PKCS#11 module, finds the token by label, logs in with the PIN read from
 * a file, finds the private key by label and signs SHA-256 digests in a loop through
 * EVP_PKEY_sign, building an EVP_PKEY_CTX for every signature as the agent's PKCS#11 backend
 * does. Each signature's latency is taken with CLOCK_MONOTONIC; one parseable line is
 * printed:
 *
 *   RESULT name=inproc threads=1 ok=20000 fail=0 secs=1.190 signs_per_s=16806.7
 *          p50_ms=0.0590 p90_ms=... p99_ms=... max_ms=... mean_ms=...
 *
 * With -V two more loops follow, each printing its own line:
 *   NAME+verify         sign, then what the agent does after every device signature: parse the
 *                       registered SubjectPublicKeyInfo (d2i_PUBKEY), fetch SHA-256, verify;
 *   NAME+verify-cached  sign, then verify with a public key parsed once (no d2i per call),
 * so the cost of the agent's check, and of its SPKI parsing alone, can be read off.
 *
 * Exit status: 0 when every signature succeeded, 1 when any failed, 2 on usage or setup
 * errors.
 *
 * Usage: bench-p11-inproc -m MODULE -T TOKEN_LABEL -k KEY_LABEL -p PIN_FILE -n COUNT
 *                         [-w WARMUP] [-V] [-L NAME]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define BENCH_DIGEST_LEN 32u
#define BENCH_MAX_PIN    256u
#define BENCH_MAX_SIG    256u
#define BENCH_MAX_NAME   64u

struct options {
    const char *module;
    const char *token;
    const char *key;
    const char *pin_file;
    const char *name;
    unsigned long count;
    unsigned long warmup;
    bool verify;
};

struct spki {
    unsigned char *der;
    int len;
    EVP_PKEY *parsed; /* the same key, parsed once */
};

enum verify_mode { VERIFY_NONE, VERIFY_LIKE_AGENT, VERIFY_CACHED };

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
            "usage: %s -m MODULE -T TOKEN_LABEL -k KEY_LABEL -p PIN_FILE -n COUNT [-w WARMUP] "
            "[-V] [-L NAME]\n"
            "  -p PIN_FILE  file holding the user PIN (first line; the PIN is never an argument)\n"
            "  -n COUNT     timed signatures\n"
            "  -w WARMUP    untimed signatures first (default 100)\n"
            "  -V           also time sign + verification, agent-style and with a cached key\n"
            "  -L NAME      name printed in the RESULT line (default 'inproc')\n",
            argv0);
}

static int parse_options(int argc, char **argv, struct options *o)
{
    int ch;

    *o = (struct options){.name = "inproc", .warmup = 100};
    while ((ch = getopt(argc, argv, "m:T:k:p:n:w:VL:h")) != -1) {
        switch (ch) {
        case 'm':
            o->module = optarg;
            break;
        case 'T':
            o->token = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'p':
            o->pin_file = optarg;
            break;
        case 'n':
            if (parse_ulong(optarg, 1, 100000000ul, &o->count) < 0) {
                fprintf(stderr, "bench-p11-inproc: -n needs a positive count\n");
                return -EINVAL;
            }
            break;
        case 'w':
            if (parse_ulong(optarg, 0, 1000000ul, &o->warmup) < 0) {
                fprintf(stderr, "bench-p11-inproc: -w needs a count\n");
                return -EINVAL;
            }
            break;
        case 'V':
            o->verify = true;
            break;
        case 'L':
            if (strlen(optarg) == 0 || strlen(optarg) >= BENCH_MAX_NAME ||
                strpbrk(optarg, " \t\n=")) {
                fprintf(stderr, "bench-p11-inproc: -L needs a short name without spaces or "
                                "'='\n");
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
    if (optind != argc || !o->module || !o->token || !o->key || !o->pin_file || !o->count) {
        usage(stderr, argv[0]);
        return -EINVAL;
    }
    return 0;
}

/* First line of path, without the line end; refuses files others can read. */
static int read_pin(const char *path, char pin[BENCH_MAX_PIN])
{
    struct stat st;
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f) {
        fprintf(stderr, "bench-p11-inproc: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    if (fstat(fileno(f), &st) < 0 || (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr, "bench-p11-inproc: %s must not be accessible to group or others\n", path);
        fclose(f);
        return -EACCES;
    }
    if (!fgets(pin, BENCH_MAX_PIN, f)) {
        fprintf(stderr, "bench-p11-inproc: %s is empty\n", path);
        fclose(f);
        return -EINVAL;
    }
    fclose(f);
    n = strcspn(pin, "\r\n");
    pin[n] = '\0';
    return n ? 0 : -EINVAL;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-p11-inproc: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static void make_digest(uint8_t d[BENCH_DIGEST_LEN], uint64_t seq)
{
    for (unsigned i = 0; i < BENCH_DIGEST_LEN; i++)
        d[i] = (uint8_t)(0x5au ^ (i * 29u));
    memcpy(d, &seq, sizeof(seq));
}

/* The agent's backend path: a fresh EVP_PKEY_CTX per signature, SHA-256 signature md. */
static bool sign_digest(EVP_PKEY *priv, const uint8_t *dg, uint8_t *sig, size_t *sig_len)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(priv, NULL);
    bool ok = pc && EVP_PKEY_sign_init(pc) == 1 &&
              EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
              EVP_PKEY_sign(pc, sig, sig_len, dg, BENCH_DIGEST_LEN) == 1;

    EVP_PKEY_CTX_free(pc);
    return ok;
}

/* VERIFY_LIKE_AGENT: what the agent does after each device signature (SPKI parse, digest
 * fetch, verify). VERIFY_CACHED: the same verification with the key parsed once. */
static bool verify_sig(const struct spki *k, enum verify_mode mode, const uint8_t *dg,
                       const uint8_t *sig, size_t sig_len)
{
    const unsigned char *p = k->der;
    EVP_PKEY *pub = mode == VERIFY_CACHED ? k->parsed : d2i_PUBKEY(NULL, &p, k->len);
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_PKEY_CTX *pc = pub ? EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL) : NULL;
    bool ok = pc && md && EVP_PKEY_verify_init(pc) == 1 &&
              EVP_PKEY_CTX_set_signature_md(pc, md) == 1 &&
              EVP_PKEY_verify(pc, sig, sig_len, dg, BENCH_DIGEST_LEN) == 1;

    EVP_PKEY_CTX_free(pc);
    EVP_MD_free(md);
    if (mode != VERIFY_CACHED)
        EVP_PKEY_free(pub);
    return ok;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

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

/* Times count signatures (each followed by a verification unless VERIFY_NONE); prints a RESULT
 * line named name + suffix. */
static unsigned long run_loop(const char *name, const char *suffix, EVP_PKEY *priv,
                              const struct spki *k, enum verify_mode mode, unsigned long count,
                              unsigned long warmup, uint64_t *lat)
{
    uint8_t dg[BENCH_DIGEST_LEN], sig[BENCH_MAX_SIG];
    unsigned long ok = 0, fail = 0;
    uint64_t start, sum = 0;
    size_t n = 0;

    for (unsigned long i = 0; i < warmup; i++) {
        size_t sl = sizeof(sig);
        make_digest(dg, UINT64_MAX - i);
        if (!sign_digest(priv, dg, sig, &sl))
            fail++;
    }
    if (fail) {
        fprintf(stderr, "bench-p11-inproc: %lu warm-up signature(s) failed\n", fail);
        ERR_print_errors_fp(stderr);
        return fail;
    }
    start = mono_ns();
    for (unsigned long i = 0; i < count; i++) {
        size_t sl = sizeof(sig);
        uint64_t t0, t1;
        bool good;

        make_digest(dg, i);
        t0 = mono_ns();
        good = sign_digest(priv, dg, sig, &sl) &&
               (mode == VERIFY_NONE || verify_sig(k, mode, dg, sig, sl));
        t1 = mono_ns();
        if (!good) {
            fail++;
            continue;
        }
        ok++;
        lat[n++] = t1 - t0;
        sum += t1 - t0;
    }
    double secs = (double)(mono_ns() - start) / 1e9;
    if (fail) {
        fprintf(stderr, "bench-p11-inproc: %lu signature(s) failed\n", fail);
        ERR_print_errors_fp(stderr);
    }
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("RESULT name=%s%s threads=1 ok=%lu fail=%lu secs=%.3f signs_per_s=%.1f p50_ms=%.4f "
           "p90_ms=%.4f p99_ms=%.4f max_ms=%.4f mean_ms=%.4f\n",
           name, suffix, ok, fail, secs, secs > 0 ? (double)ok / secs : 0.0, pct_ms(lat, n, 50),
           pct_ms(lat, n, 90), pct_ms(lat, n, 99), n ? (double)lat[n - 1] / 1e6 : 0.0,
           n ? (double)sum / (double)n / 1e6 : 0.0);
    fflush(stdout);
    return fail;
}

int main(int argc, char **argv)
{
    struct options o;
    char pin[BENCH_MAX_PIN];
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots = NULL, *slot = NULL;
    PKCS11_KEY *keys = NULL, *key = NULL;
    unsigned int nslots = 0, nkeys = 0;
    EVP_PKEY *priv, *pub;
    struct spki k = {NULL, 0, NULL};
    uint64_t *lat;
    unsigned long fail;

    if (parse_options(argc, argv, &o) < 0)
        return 2;
    if (read_pin(o.pin_file, pin) < 0)
        return 2;

    ctx = PKCS11_CTX_new();
    if (!ctx)
        die("PKCS11_CTX_new");
    if (PKCS11_CTX_load(ctx, o.module) != 0)
        die("PKCS11_CTX_load");
    if (PKCS11_enumerate_slots(ctx, &slots, &nslots) != 0)
        die("PKCS11_enumerate_slots");
    for (unsigned int i = 0; i < nslots && !slot; i++) {
        PKCS11_TOKEN *tok = slots[i].token;
        if (tok && tok->initialized && tok->label && strcmp(tok->label, o.token) == 0)
            slot = &slots[i];
    }
    if (!slot) {
        fprintf(stderr, "bench-p11-inproc: no initialised token labelled '%s'\n", o.token);
        return 2;
    }
    if (PKCS11_open_session(slot, 0) != 0)
        die("PKCS11_open_session");
    if (PKCS11_login(slot, 0, pin) != 0) {
        explicit_bzero(pin, sizeof(pin));
        die("PKCS11_login");
    }
    explicit_bzero(pin, sizeof(pin));
    if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0)
        die("PKCS11_enumerate_keys");
    for (unsigned int i = 0; i < nkeys && !key; i++)
        if (keys[i].label && strcmp(keys[i].label, o.key) == 0)
            key = &keys[i];
    if (!key) {
        fprintf(stderr, "bench-p11-inproc: no private key labelled '%s' on '%s'\n", o.key, o.token);
        return 2;
    }
    if (PKCS11_get_key_type(key) != EVP_PKEY_EC) {
        fprintf(stderr, "bench-p11-inproc: key '%s' is not an EC key\n", o.key);
        return 2;
    }
    priv = PKCS11_get_private_key(key);
    pub = PKCS11_get_public_key(key);
    if (!priv || !pub)
        die("PKCS11_get_private_key/PKCS11_get_public_key");
    k.len = i2d_PUBKEY(pub, &k.der);
    if (k.len <= 0)
        die("i2d_PUBKEY");
    {
        const unsigned char *p = k.der;
        k.parsed = d2i_PUBKEY(NULL, &p, k.len);
        if (!k.parsed)
            die("d2i_PUBKEY");
    }

    /* One signature checked before any timing, so a wrong key cannot produce figures. */
    {
        uint8_t dg[BENCH_DIGEST_LEN], sig[BENCH_MAX_SIG];
        size_t sl = sizeof(sig);
        make_digest(dg, 0);
        if (!sign_digest(priv, dg, sig, &sl) || !verify_sig(&k, VERIFY_LIKE_AGENT, dg, sig, sl))
            die("first signature and its verification");
    }

    lat = malloc(o.count * sizeof(*lat));
    if (!lat)
        die("malloc");
    fail = run_loop(o.name, "", priv, &k, VERIFY_NONE, o.count, o.warmup, lat);
    if (o.verify) {
        fail += run_loop(o.name, "+verify", priv, &k, VERIFY_LIKE_AGENT, o.count, o.warmup, lat);
        fail += run_loop(o.name, "+verify-cached", priv, &k, VERIFY_CACHED, o.count, o.warmup, lat);
    }

    free(lat);
    OPENSSL_free(k.der);
    EVP_PKEY_free(k.parsed);
    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
    PKCS11_logout(slot);
    PKCS11_release_all_slots(ctx, slots, nslots);
    PKCS11_CTX_unload(ctx);
    PKCS11_CTX_free(ctx);
    return fail ? 1 : 0;
}
