/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-esys-inproc: the in-process TPM baseline for the agent benchmark (not a test).
 *
 * Opens the TPM through the TCTI loader (e.g. "swtpm:path=/tmp/x/tpm/sock"), initialises
 * ESAPI and gets an unrestricted ECDSA P-256 signing key: either the persistent object at
 * -H HANDLE (Esys_TR_FromTPMPublic; nothing is created) or, without -H, a primary key under
 * the owner hierarchy (Esys_CreatePrimary; flushed on exit, also after a failure). Then it
 * signs COUNT SHA-256 digests with Esys_Sign (password session, empty auth, as the agent
 * does) and prints one parseable line:
 *
 *   RESULT name=esys threads=1 ok=3000 fail=0 secs=1.338 signs_per_s=2242.2
 *          p50_ms=0.4391 p90_ms=... p99_ms=... max_ms=... mean_ms=...
 *
 * With -V a second loop follows (NAME+verify): each Esys_Sign is followed by what the agent's
 * TPM backend and worker do with the result: r and s to a DER ECDSA-Sig-Value, then
 * EVP_PKEY_verify with the public key parsed once; a third line (NAME-postsign) gives the
 * latency of that DER encoding + verification alone, per signature. The first signature is always
 * checked against the key's public area before any timing.
 *
 * Exit status: 0 when every signature succeeded, 1 when any failed, 2 on usage or setup
 * errors.
 *
 * Usage: bench-esys-inproc -T TCTI -n COUNT [-w WARMUP] [-H HANDLE] [-V] [-L NAME]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#define BENCH_DIGEST_LEN 32u
#define BENCH_COORD_LEN  32u
#define BENCH_MAX_SIG    80u
#define BENCH_MAX_NAME   64u

struct options {
    const char *tcti;
    const char *name;
    unsigned long count;
    unsigned long warmup;
    uint32_t handle; /* 0: create a primary key */
    bool verify;
};

struct bench {
    ESYS_CONTEXT *esys;
    ESYS_TR key;
    bool created; /* key is a transient object of ours: flush it */
    EVP_PKEY *pub;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_ulong(const char *s, int base, unsigned long min, unsigned long max,
                       unsigned long *ret)
{
    char *end = NULL;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, base);
    if (errno != 0 || !end || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s -T TCTI -n COUNT [-w WARMUP] [-H HANDLE] [-V] [-L NAME]\n"
            "  -T TCTI     TCTI configuration, e.g. swtpm:path=/run/x/tpm.sock\n"
            "  -n COUNT    timed signatures per loop\n"
            "  -w WARMUP   untimed signatures before each loop (default 100)\n"
            "  -H HANDLE   persistent signing key (e.g. 0x81010001); default: create a primary\n"
            "  -V          also time sign + DER encoding + verification (the agent's work)\n"
            "  -L NAME     name printed in the RESULT lines (default 'esys')\n",
            argv0);
}

static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned long v;
    int ch;

    *o = (struct options){.name = "esys", .warmup = 100};
    while ((ch = getopt(argc, argv, "T:n:w:H:VL:h")) != -1) {
        switch (ch) {
        case 'T':
            o->tcti = optarg;
            break;
        case 'n':
            if (parse_ulong(optarg, 10, 1, 100000000ul, &o->count) < 0) {
                fprintf(stderr, "bench-esys-inproc: -n needs a positive count\n");
                return -EINVAL;
            }
            break;
        case 'w':
            if (parse_ulong(optarg, 10, 0, 1000000ul, &o->warmup) < 0) {
                fprintf(stderr, "bench-esys-inproc: -w needs a count\n");
                return -EINVAL;
            }
            break;
        case 'H':
            if (parse_ulong(optarg, 16, TPM2_PERSISTENT_FIRST, TPM2_PERSISTENT_LAST, &v) < 0) {
                fprintf(stderr, "bench-esys-inproc: -H needs a persistent handle 0x81......\n");
                return -EINVAL;
            }
            o->handle = (uint32_t)v;
            break;
        case 'V':
            o->verify = true;
            break;
        case 'L':
            if (strlen(optarg) == 0 || strlen(optarg) >= BENCH_MAX_NAME ||
                strpbrk(optarg, " \t\n=")) {
                fprintf(stderr, "bench-esys-inproc: -L needs a short name without spaces or "
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
    if (optind != argc || !o->tcti || !*o->tcti || o->count == 0) {
        usage(stderr, argv[0]);
        return -EINVAL;
    }
    return 0;
}

static bool tss_ok(TSS2_RC rc, const char *what)
{
    if (rc == TSS2_RC_SUCCESS)
        return true;
    fprintf(stderr, "bench-esys-inproc: %s: 0x%08x %s\n", what, (unsigned)rc, Tss2_RC_Decode(rc));
    return false;
}

static void make_digest(TPM2B_DIGEST *d, uint64_t seq)
{
    d->size = BENCH_DIGEST_LEN;
    for (unsigned i = 0; i < BENCH_DIGEST_LEN; i++)
        d->buffer[i] = (uint8_t)(0x5au ^ (i * 29u));
    memcpy(d->buffer, &seq, sizeof(seq));
}

/* EVP_PKEY of an ECC P-256 public area (uncompressed point). */
static EVP_PKEY *public_to_pkey(const TPMT_PUBLIC *p)
{
    const TPMS_ECC_POINT *u = &p->unique.ecc;
    unsigned char point[1 + 2 * BENCH_COORD_LEN] = {0x04};
    char group[] = "prime256v1";
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;

    if (p->type != TPM2_ALG_ECC || p->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256 ||
        u->x.size == 0 || u->x.size > BENCH_COORD_LEN || u->y.size == 0 ||
        u->y.size > BENCH_COORD_LEN) {
        fprintf(stderr, "bench-esys-inproc: the key is not an ECC P-256 key\n");
        return NULL;
    }
    if (!(p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) ||
        (p->objectAttributes & TPMA_OBJECT_RESTRICTED)) {
        fprintf(stderr, "bench-esys-inproc: the key is not an unrestricted signing key\n");
        return NULL;
    }
    memcpy(point + 1 + BENCH_COORD_LEN - u->x.size, u->x.buffer, u->x.size);
    memcpy(point + 1 + 2 * BENCH_COORD_LEN - u->y.size, u->y.buffer, u->y.size);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        fprintf(stderr, "bench-esys-inproc: cannot build the public key\n");
        ERR_print_errors_fp(stderr);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* TPM ECDSA signature -> DER ECDSA-Sig-Value in out; length, or -1. */
static int ecdsa_der(const TPMT_SIGNATURE *s, unsigned char out[BENCH_MAX_SIG])
{
    const TPMS_SIGNATURE_ECDSA *e = &s->signature.ecdsa;
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *sv = NULL;
    unsigned char *p = out;
    int len = -1;

    if (s->sigAlg != TPM2_ALG_ECDSA || e->signatureR.size == 0 ||
        e->signatureR.size > BENCH_COORD_LEN || e->signatureS.size == 0 ||
        e->signatureS.size > BENCH_COORD_LEN)
        return -1;
    r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
    sv = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
    sig = ECDSA_SIG_new();
    if (!r || !sv || !sig || ECDSA_SIG_set0(sig, r, sv) != 1) {
        BN_free(r);
        BN_free(sv);
        ECDSA_SIG_free(sig);
        return -1;
    }
    if (i2d_ECDSA_SIG(sig, NULL) <= (int)BENCH_MAX_SIG)
        len = i2d_ECDSA_SIG(sig, &p);
    ECDSA_SIG_free(sig); /* frees r and sv */
    return len > 0 ? len : -1;
}

static bool verify_der(EVP_PKEY *pub, const TPM2B_DIGEST *d, const unsigned char *der, int len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
    bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
              EVP_PKEY_verify(ctx, der, (size_t)len, d->buffer, d->size) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/*
 * One Esys_Sign (and, with verify, DER encoding and verification, whose duration goes to
 * *post_ns when post_ns is not NULL).
 */
static bool sign_once(struct bench *b, uint64_t seq, bool verify, uint64_t *post_ns)
{
    static const TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_ECDSA,
                                           .details.ecdsa.hashAlg = TPM2_ALG_SHA256};
    static const TPMT_TK_HASHCHECK ticket = {.tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL};
    TPMT_SIGNATURE *sig = NULL;
    unsigned char der[BENCH_MAX_SIG];
    TPM2B_DIGEST d;
    bool ok;
    int len;

    make_digest(&d, seq);
    if (!tss_ok(Esys_Sign(b->esys, b->key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d,
                          &scheme, &ticket, &sig),
                "Esys_Sign"))
        return false;
    ok = sig && sig->sigAlg == TPM2_ALG_ECDSA;
    if (ok && verify) {
        uint64_t t0 = mono_ns();
        len = ecdsa_der(sig, der);
        ok = len > 0 && verify_der(b->pub, &d, der, len);
        if (post_ns)
            *post_ns = mono_ns() - t0;
        if (!ok)
            fprintf(stderr, "bench-esys-inproc: signature %llu does not verify\n",
                    (unsigned long long)seq);
    }
    Esys_Free(sig);
    return ok;
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

static void print_result(const char *name, const char *suffix, unsigned long ok, unsigned long fail,
                         double secs, const uint64_t *lat, size_t n, uint64_t sum);

/*
 * Warm-up, then count timed signatures; prints a RESULT line (and, with post_lat, one named
 * NAME-postsign with the DER + verification part alone). Stops at the first failure.
 */
static unsigned long run_loop(struct bench *b, const struct options *o, const char *suffix,
                              bool verify, uint64_t *lat, uint64_t *post_lat)
{
    unsigned long ok = 0, fail = 0;
    uint64_t start, sum = 0, post_sum = 0, seq = 0;
    size_t n = 0;

    for (unsigned long i = 0; i < o->warmup; i++)
        if (!sign_once(b, seq++, verify, NULL))
            return 1;
    start = mono_ns();
    for (unsigned long i = 0; i < o->count; i++) {
        uint64_t t0 = mono_ns(), t1;
        uint64_t post = 0;
        bool good = sign_once(b, seq++, verify, &post);

        t1 = mono_ns();
        if (!good) {
            fail = o->count - i; /* the rest is not run: count it as failed */
            break;
        }
        ok++;
        if (post_lat)
            post_lat[n] = post;
        lat[n++] = t1 - t0;
        sum += t1 - t0;
        post_sum += post;
    }
    double secs = (double)(mono_ns() - start) / 1e9;
    qsort(lat, n, sizeof(*lat), cmp_u64);
    print_result(o->name, suffix, ok, fail, secs, lat, n, sum);
    if (post_lat) {
        qsort(post_lat, n, sizeof(*post_lat), cmp_u64);
        print_result(o->name, "-postsign", ok, fail, secs, post_lat, n, post_sum);
    }
    return fail;
}

static void print_result(const char *name, const char *suffix, unsigned long ok, unsigned long fail,
                         double secs, const uint64_t *lat, size_t n, uint64_t sum)
{
    printf("RESULT name=%s%s threads=1 ok=%lu fail=%lu secs=%.3f signs_per_s=%.1f p50_ms=%.4f "
           "p90_ms=%.4f p99_ms=%.4f max_ms=%.4f mean_ms=%.4f\n",
           name, suffix, ok, fail, secs, secs > 0 ? (double)ok / secs : 0.0, pct_ms(lat, n, 50),
           pct_ms(lat, n, 90), pct_ms(lat, n, 99), n ? (double)lat[n - 1] / 1e6 : 0.0,
           n ? (double)sum / (double)n / 1e6 : 0.0);
    fflush(stdout);
}

/* The key: the persistent object at o->handle, or a new primary. Fills b->key and b->pub. */
static bool get_key(struct bench *b, const struct options *o)
{
    TPM2B_PUBLIC *pub = NULL;
    bool ok;

    if (o->handle) {
        if (!tss_ok(Esys_TR_FromTPMPublic(b->esys, o->handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                          ESYS_TR_NONE, &b->key),
                    "Esys_TR_FromTPMPublic"))
            return false;
        if (!tss_ok(Esys_ReadPublic(b->esys, b->key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
                                    NULL, NULL),
                    "Esys_ReadPublic"))
            return false;
    } else {
        static const TPM2B_SENSITIVE_CREATE sensitive = {0};
        static const TPM2B_DATA outside = {0};
        static const TPML_PCR_SELECTION pcrs = {0};
        TPM2B_PUBLIC tmpl = {
                .publicArea = {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                            TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                            TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT |
                                            TPMA_OBJECT_NODA,
                        .parameters.eccDetail = {.symmetric.algorithm = TPM2_ALG_NULL,
                                                 .scheme.scheme = TPM2_ALG_NULL,
                                                 .curveID = TPM2_ECC_NIST_P256,
                                                 .kdf.scheme = TPM2_ALG_NULL},
                }};

        if (!tss_ok(Esys_CreatePrimary(b->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE, &sensitive, &tmpl, &outside, &pcrs, &b->key,
                                       &pub, NULL, NULL, NULL),
                    "Esys_CreatePrimary"))
            return false;
        b->created = true;
    }
    b->pub = public_to_pkey(&pub->publicArea);
    ok = b->pub != NULL;
    Esys_Free(pub);
    return ok;
}

int main(int argc, char **argv)
{
    struct options o;
    struct bench b = {.key = ESYS_TR_NONE};
    TSS2_TCTI_CONTEXT *tcti = NULL;
    uint64_t *lat = NULL, *post_lat = NULL;
    unsigned long fail = 0;
    int rc = 2;

    if (parse_options(argc, argv, &o) < 0)
        return 2;
    if (!tss_ok(Tss2_TctiLdr_Initialize(o.tcti, &tcti), "Tss2_TctiLdr_Initialize"))
        return 2;
    if (!tss_ok(Esys_Initialize(&b.esys, tcti, NULL), "Esys_Initialize"))
        goto out;
    if (!get_key(&b, &o))
        goto out;
    /* One signature checked against the public area before any timing. */
    if (!sign_once(&b, UINT64_MAX, true, NULL)) {
        fprintf(stderr, "bench-esys-inproc: the first signature failed or does not verify\n");
        goto out;
    }
    lat = malloc(o.count * sizeof(*lat));
    post_lat = malloc(o.count * sizeof(*post_lat));
    if (!lat || !post_lat) {
        fprintf(stderr, "bench-esys-inproc: out of memory\n");
        goto out;
    }
    fail = run_loop(&b, &o, "", false, lat, NULL);
    if (fail == 0 && o.verify)
        fail = run_loop(&b, &o, "+verify", true, lat, post_lat);
    rc = fail ? 1 : 0;
out:
    free(lat);
    free(post_lat);
    EVP_PKEY_free(b.pub);
    if (b.esys && b.key != ESYS_TR_NONE) {
        if (b.created) {
            if (!tss_ok(Esys_FlushContext(b.esys, b.key), "Esys_FlushContext") && rc == 0)
                rc = 1;
        } else {
            (void)Esys_TR_Close(b.esys, &b.key); /* ESAPI's handle only; the key stays */
        }
    }
    if (b.esys)
        Esys_Finalize(&b.esys);
    if (tcti)
        Tss2_TctiLdr_Finalize(&tcti);
    return rc;
}
