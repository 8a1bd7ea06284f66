/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logentry, bundle tlogEntries and LOG_PROOF.
 *
 * Entry bodies (lib/format/logentry.h): known answers for a fixed digest record and a fixed
 * statement record, the expected JSON written out here by hand from the format in the header
 * (base64 and hex values computed outside the code under test) and the leaf hash computed with
 * one-shot SHA256; determinism, sha384/sha512 digests, PEMs of other key sizes compared with
 * OpenSSL's own PEM writer, builder errors. logentry_parse: round trips (every field equals the
 * record's, the SPKI from the PEM equals the DER), any member order, and refusal of every
 * missing member, every member of the wrong type, an unknown member in every object, wrong
 * apiVersion/kind, upper-case hex, wrong hash lengths, sha1, non-canonical PEMs, two or zero
 * DSSE signatures, an empty signature, bad base64, a body over LOGENTRY_MAX_BODY (and the
 * exact limit accepted).
 *
 * TransparencyLogEntry: a known-answer object over a real 10-record log (leaves from
 * logentry_leaf_hash, proof from merkle_tree), round trips whose proof verifies against the
 * root, and refusal of index mismatches, index >= treeSize, non-canonical int64 strings,
 * 31-byte hashes, too many hashes, a missing checkpoint, missing / mistyped / unknown members;
 * integratedTime and inclusionPromise are accepted.
 *
 * bundle_add_tlog_entry: added to message-signature and DSSE bundles (the result decodes and
 * holds the same entry), refused for non-bundles, BUNDLE_MAX_TLOG_ENTRIES honoured.
 *
 * LOG_PROOF (lib/proto): known-answer request frame, round trips of request and reply, and
 * refusal of malformed replies and requests (every truncation, trailing bytes, limits).
 *
 * Outputs are poisoned before failing calls to prove ret_* are written only on success.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "bundle.h"
#include "crypto-cleanup.h"
#include "json.h"
#include "logentry.h"
#include "logrec.h"
#include "macro.h"
#include "merkle.h"
#include "proto.h"
#include "sbuf.h"

#define H          MERKLE_HASH_SIZE
#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)
#define POISON_LEN ((size_t)0xdeadbeef)

/* ---- helpers independent of the code under test ---- */

/* Standard padded base64 (OpenSSL's encoder, not lib/util/format.c). */
static char *b64(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    assert_non_null(out);
    assert_int_equal(EVP_EncodeBlock((unsigned char *)out, data, (int)len), 4 * ((len + 2) / 3));
    return out;
}

static void hexs(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    return s;
}

/* s with the first occurrence of from replaced by to (from must occur). */
static char *subst(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    size_t a, b, c;
    char *out;

    assert_non_null(p);
    a = (size_t)(p - s);
    b = strlen(to);
    c = strlen(p + strlen(from));
    out = malloc(a + b + c + 1);
    assert_non_null(out);
    memcpy(out, s, a);
    memcpy(out + a, to, b);
    memcpy(out + a + b, p + strlen(from), c + 1);
    return out;
}

/* A PEM "PUBLIC KEY" text of der with the given line width and line end. */
static char *pem_text(const uint8_t *der, size_t len, size_t width, const char *eol, bool final_eol)
{
    _cleanup_free_ char *b = b64(der, len);
    size_t n = strlen(b);
    char *out = xasprintf("-----BEGIN PUBLIC KEY-----%s", eol);

    for (size_t i = 0; i < n; i += width) {
        _cleanup_free_ char *prev = out;
        out = xasprintf("%s%.*s%s", prev, (int)MIN(width, n - i), b + i, eol);
    }
    {
        _cleanup_free_ char *prev = out;
        out = xasprintf("%s-----END PUBLIC KEY-----%s", prev, final_eol ? eol : "");
    }
    return out;
}

static void sha256(const void *d, size_t n, uint8_t out[32])
{
    SHA256(d, n, out);
}

/* SHA-256(0x00 || text): the RFC 6962 leaf, computed here. */
static void leaf_of(const char *text, size_t len, uint8_t out[H])
{
    _cleanup_free_ uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    buf[0] = 0x00;
    memcpy(buf + 1, text, len);
    SHA256(buf, len + 1, out);
}

/* ---- records ---- */

/* A real P-256 SPKI and a real DER ECDSA signature (of "abc" by its key), both throwaway. */
static const uint8_t kat_spki[91] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        0x04, 0x60, 0x2a, 0xa4, 0x77, 0x16, 0x0d, 0x43, 0x3e, 0x9a, 0x05, 0xd3, 0xfe,
        0x2f, 0xf9, 0x96, 0xf5, 0xa1, 0xcf, 0x67, 0x43, 0x94, 0xf4, 0x58, 0x42, 0x33,
        0x85, 0x80, 0x8b, 0xd1, 0xc0, 0x44, 0xc8, 0x3c, 0xea, 0x32, 0x6b, 0xb6, 0x2d,
        0xa4, 0xd1, 0x38, 0x40, 0x3a, 0x5f, 0xdb, 0x37, 0xdb, 0x6f, 0x48, 0xbf, 0x11,
        0xde, 0x2a, 0x98, 0xe3, 0x86, 0xb0, 0x85, 0xb9, 0x1a, 0xe5, 0xd0, 0x87, 0xec,
};
static const uint8_t kat_sig[72] = {
        0x30, 0x46, 0x02, 0x21, 0x00, 0xc7, 0x33, 0xbe, 0x92, 0xda, 0x27, 0xfe, 0x61, 0xe4, 0x97,
        0xb7, 0xa7, 0x2c, 0xa5, 0xdf, 0xb2, 0xa9, 0x7c, 0xda, 0xfb, 0xf9, 0x70, 0xca, 0x49, 0x97,
        0xb0, 0x38, 0x65, 0x74, 0x80, 0x18, 0x38, 0x02, 0x21, 0x00, 0xb9, 0xfe, 0x83, 0x1b, 0x16,
        0x86, 0x61, 0x18, 0x47, 0x1c, 0xb0, 0x72, 0xbf, 0x05, 0x78, 0x85, 0x5d, 0xc0, 0x17, 0xb2,
        0x5f, 0x06, 0xdb, 0x68, 0x55, 0xd4, 0x86, 0x75, 0xb2, 0x93, 0xfc, 0xaf,
};
/* SHA-256("abc") */
static const uint8_t kat_digest[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};

/* The PEM of kat_spki as OpenSSL writes it, and the base64 texts of signature and PEM
 * (computed with python's base64 module from the bytes above). */
static const char kat_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYCqkdxYNQz6aBdP+L/mW9aHPZ0OU\n"
                              "9FhCM4WAi9HARMg86jJrti2k0ThAOl/bN9tvSL8R3iqY44awhbka5dCH7A==\n"
                              "-----END PUBLIC KEY-----\n";
#define KAT_SIG_B64                                                                                \
    "MEYCIQDHM76S2if+YeSXt6cspd+yqXza+/"                                                           \
    "lwykmXsDhldIAYOAIhALn+gxsWhmEYRxywcr8FeIVdwBeyXwbbaFXUhnWyk/yv"
#define KAT_PEM_B64                                                                                \
    "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFWUNxa2R4" \
    "WU5RejZhQmRQK0wvbVc5YUhQWjBPVQo5RmhDTTRXQWk5SEFSTWc4NmpKcnRpMmswVGhBT2wvYk45dHZTTDhSM2lxWTQ0" \
    "YXdoYmthNWRDSDdBPT0KLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg=="

/* The documented layouts, members in byte order, with @RECORD@ for hex SHA-256(body). */
static const char kat_digest_entry[] =
        "{\"apiVersion\":\"0.0.1\",\"hwsign\":{\"record\":\"@RECORD@\"},\"kind\":\"hashedrekord\","
        "\"spec\":{\"data\":{\"hash\":{\"algorithm\":\"sha256\",\"value\":"
        "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}},"
        "\"signature\":{\"content\":\"" KAT_SIG_B64 "\",\"publicKey\":{\"content\":\"" KAT_PEM_B64
        "\"}}}}";
static const char kat_statement_entry[] =
        "{\"apiVersion\":\"0.0.1\",\"hwsign\":{\"record\":\"@RECORD@\"},\"kind\":\"dsse\","
        "\"spec\":{\"envelopeHash\":{\"algorithm\":\"sha256\",\"value\":"
        "\"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\"},"
        "\"payloadHash\":{\"algorithm\":\"sha256\",\"value\":"
        "\"505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f\"},"
        "\"signatures\":[{\"signature\":\"" KAT_SIG_B64 "\",\"verifier\":\"" KAT_PEM_B64 "\"}]}}";

static struct logrec *new_record(uint64_t seq, bool statement)
{
    struct logrec *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    r->seq = seq;
    r->time_ns = 1764100800123456789ull + seq;
    r->uid = 1000;
    r->gid = 1000;
    r->pid = 4242;
    r->exe = strdup("/usr/bin/cosign");
    r->unit = strdup("release.service");
    r->key = strdup("release");
    r->hash = HWSIGN_HASH_SHA256;
    r->digest_len = 32;
    memcpy(r->digest, kat_digest, 32);
    r->sig = malloc(sizeof(kat_sig));
    r->spki = malloc(sizeof(kat_spki));
    assert_non_null(r->exe);
    assert_non_null(r->unit);
    assert_non_null(r->key);
    assert_non_null(r->sig);
    assert_non_null(r->spki);
    memcpy(r->sig, kat_sig, sizeof(kat_sig));
    r->sig_len = sizeof(kat_sig);
    memcpy(r->spki, kat_spki, sizeof(kat_spki));
    r->spki_len = sizeof(kat_spki);
    if (statement) {
        r->request = LOGREC_STATEMENT;
        r->has_statement = true;
        r->has_envelope = true;
        for (int i = 0; i < 32; i++) {
            r->envelope_sha256[i] = (uint8_t)(0xe0 + i);
            r->statement_sha256[i] = (uint8_t)(0x50 + i);
        }
        r->predicate_type = strdup("https://slsa.dev/provenance/v1");
        r->subjects = calloc(2, sizeof(*r->subjects));
        assert_non_null(r->subjects);
        r->nsubjects = 2;
        r->subjects[0].name = strdup("dist/a.tar.gz");
        r->subjects[1].name = strdup("dist/b.tar.gz");
        memset(r->subjects[0].sha256, 0xa1, 32);
        memset(r->subjects[1].sha256, 0xb2, 32);
    } else {
        r->request = LOGREC_DIGEST;
        r->predicate_type = strdup("");
    }
    return r;
}

/* The record's body bytes, encoded by logrec (known-answer tested in test-logrec). */
struct body {
    uint8_t *p;
    size_t n;
};

static struct body encode(const struct logrec *r)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(LOGREC_MAX_BODY);
    struct body out;

    assert_non_null(b);
    assert_int_equal(logrec_encode_body(r, b), 0);
    out.n = sbuf_len(b);
    out.p = malloc(out.n);
    assert_non_null(out.p);
    memcpy(out.p, sbuf_ptr(b), out.n);
    return out;
}

static void body_free(struct body *b)
{
    free(b->p);
    b->p = NULL;
}

/* The entry of r: logentry_body must succeed with a NUL-terminated text of *ret_len bytes. */
static char *entry_of(const struct logrec *r, const struct body *b, size_t *ret_len)
{
    char *e = POISON_PTR;
    size_t n = POISON_LEN;

    assert_int_equal(logentry_body(r, b->p, b->n, &e, &n), 0);
    assert_non_null(e);
    assert_int_equal(strlen(e), n);
    *ret_len = n;
    return e;
}

static void assert_info_matches(const struct logentry_info *i, const struct logrec *r,
                                const struct body *b)
{
    uint8_t rec[32];

    sha256(b->p, b->n, rec);
    assert_memory_equal(i->record_sha256, rec, 32);
    assert_int_equal(i->dsse, r->request == LOGREC_STATEMENT);
    if (i->dsse) {
        assert_memory_equal(i->payload_sha256, r->statement_sha256, 32);
        assert_memory_equal(i->envelope_sha256, r->envelope_sha256, 32);
    } else {
        static const char *const names[] = {NULL, "sha256", "sha384", "sha512"};
        assert_string_equal(i->digest_alg, names[r->hash]);
        assert_int_equal(i->digest_len, r->digest_len);
        assert_memory_equal(i->digest, r->digest, r->digest_len);
    }
    assert_int_equal(i->sig_len, r->sig_len);
    assert_memory_equal(i->sig, r->sig, r->sig_len);
    assert_int_equal(i->spki_len, r->spki_len);
    assert_memory_equal(i->spki, r->spki, r->spki_len);
}

static void parse_ok(const char *text, size_t len, const struct logrec *r, const struct body *b)
{
    _cleanup_(logentry_info_freep) struct logentry_info *i = NULL;

    assert_int_equal(logentry_parse(text, len, &i), 0);
    assert_non_null(i);
    assert_info_matches(i, r, b);
}

static void parse_fails(const char *text, size_t len, int want)
{
    struct logentry_info *i = POISON_PTR;
    int r = logentry_parse(text, len, &i);

    if (r != want)
        fprintf(stderr, "logentry_parse gave %d, want %d for: %.*s\n", r, want, (int)MIN(len, 600),
                text);
    assert_int_equal(r, want);
    assert_ptr_equal(i, POISON_PTR);
}

static void parse_fails_s(const char *text, int want)
{
    parse_fails(text, strlen(text), want);
}

/* ---- entry body: known answers ---- */

static void check_kat(bool statement)
{
    _cleanup_(logrec_freep) struct logrec *r = new_record(0, statement);
    _cleanup_(body_free) struct body b = encode(r);
    _cleanup_free_ char *text = NULL, *want = NULL;
    uint8_t rec[32], leaf[H], want_leaf[H];
    char rec_hex[65];
    size_t n = 0;

    sha256(b.p, b.n, rec);
    hexs(rec, 32, rec_hex);
    want = subst(statement ? kat_statement_entry : kat_digest_entry, "@RECORD@", rec_hex);
    text = entry_of(r, &b, &n);
    assert_string_equal(text, want);
    assert_int_equal(n, strlen(want));

    leaf_of(want, strlen(want), want_leaf);
    memset(leaf, 0xa5, H);
    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
    assert_memory_equal(leaf, want_leaf, H);
    parse_ok(text, n, r, &b);
}

static void test_kat_digest(void **state)
{
    /* The template's PEM base64 is that of the PEM text above (checked with OpenSSL). */
    _cleanup_free_ char *p = b64(kat_pem, strlen(kat_pem)), *s = b64(kat_sig, sizeof(kat_sig));
    assert_string_equal(p, KAT_PEM_B64);
    assert_string_equal(s, KAT_SIG_B64);
    check_kat(false);
}

static void test_kat_statement(void **state)
{
    check_kat(true);
}

/* ---- entry body: determinism, hashes, other keys ---- */

static char *openssl_pem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *out;
    long n;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
    n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0);
    out = strndup(data, (size_t)n);
    assert_non_null(out);
    BIO_free(bio);
    return out;
}

static void set_spki(struct logrec *r, EVP_PKEY *k)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);

    assert_true(n > 0);
    free(r->spki);
    r->spki = malloc((size_t)n);
    assert_non_null(r->spki);
    memcpy(r->spki, der, (size_t)n);
    r->spki_len = (size_t)n;
    OPENSSL_free(der);
}

/* The hashedrekord text the header documents, for any record (values computed here). */
static char *documented_rekord(const struct logrec *r, const struct body *b, const char *alg,
                               const char *pem)
{
    _cleanup_free_ char *sig = b64(r->sig, r->sig_len), *key = b64(pem, strlen(pem));
    uint8_t rec[32];
    char rec_hex[65], dg_hex[129];

    sha256(b->p, b->n, rec);
    hexs(rec, 32, rec_hex);
    hexs(r->digest, r->digest_len, dg_hex);
    return xasprintf("{\"apiVersion\":\"0.0.1\",\"hwsign\":{\"record\":\"%s\"},\"kind\":"
                     "\"hashedrekord\",\"spec\":{\"data\":{\"hash\":{\"algorithm\":\"%s\","
                     "\"value\":\"%s\"}},\"signature\":{\"content\":\"%s\",\"publicKey\":{"
                     "\"content\":\"%s\"}}}}",
                     rec_hex, alg, dg_hex, sig, key);
}

static void test_determinism_and_hashes(void **state)
{
    static const struct {
        uint8_t hash;
        const char *name;
        size_t len;
        const char *type, *param;
    } cases[] = {
            {HWSIGN_HASH_SHA256, "sha256", 32, "EC", "P-256"},
            {HWSIGN_HASH_SHA384, "sha384", 48, "EC", "P-384"},
            {HWSIGN_HASH_SHA512, "sha512", 64, "EC", "P-521"},
            {HWSIGN_HASH_SHA512, "sha512", 64, "RSA", NULL},
    };

    for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
        _cleanup_(logrec_freep) struct logrec *r = new_record(7, false);
        _cleanup_(logrec_freep) struct logrec *again = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *want = NULL, *pem = NULL;
        _cleanup_(body_free) struct body b = {0};
        size_t n1 = 0, n2 = 0, n3 = 0;

        k = cases[c].param ? EVP_PKEY_Q_keygen(NULL, NULL, cases[c].type, cases[c].param)
                           : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        assert_non_null(k);
        set_spki(r, k);
        r->hash = cases[c].hash;
        r->digest_len = cases[c].len;
        for (size_t i = 0; i < cases[c].len; i++)
            r->digest[i] = (uint8_t)(0x80 + i);
        b = encode(r);

        e1 = entry_of(r, &b, &n1);
        e2 = entry_of(r, &b, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(e1, e2, n1);
        /* The record decoded from its own body gives the same bytes too. */
        assert_int_equal(logrec_decode_body(b.p, b.n, &again), 0);
        e3 = entry_of(again, &b, &n3);
        assert_string_equal(e1, e3);
        /* The key's PEM is exactly OpenSSL's (64 columns, final newline). */
        pem = openssl_pem(k);
        want = documented_rekord(r, &b, cases[c].name, pem);
        assert_string_equal(e1, want);
        parse_ok(e1, n1, r, &b);
    }
}

/* A different record gives a different entry, and every field reaches the leaf. */
static void test_fields_change_leaf(void **state)
{
    _cleanup_(logrec_freep) struct logrec *r = new_record(3, true);
    _cleanup_(body_free) struct body b = encode(r);
    uint8_t base[H], leaf[H];

    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, base), 0);
    /* Only the record's hash changes when a field the entry does not spell out changes. */
    {
        _cleanup_(body_free) struct body b2 = {0};
        r->pid++;
        b2 = encode(r);
        assert_int_equal(logentry_leaf_hash(r, b2.p, b2.n, leaf), 0);
        assert_memory_not_equal(leaf, base, H);
        r->pid--;
    }
    r->envelope_sha256[31] ^= 1;
    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
    assert_memory_not_equal(leaf, base, H);
    r->envelope_sha256[31] ^= 1;
    r->statement_sha256[0] ^= 1;
    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
    assert_memory_not_equal(leaf, base, H);
    r->statement_sha256[0] ^= 1;
    r->sig[10] ^= 1;
    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
    assert_memory_not_equal(leaf, base, H);
    r->sig[10] ^= 1;
    r->spki[80] ^= 1;
    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
    assert_memory_not_equal(leaf, base, H);
    r->spki[80] ^= 1;
    assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
    assert_memory_equal(leaf, base, H);
}

static void body_fails(const struct logrec *r, const uint8_t *p, size_t n, int want)
{
    char *e = POISON_PTR;
    size_t len = POISON_LEN;
    uint8_t leaf[H], poison[H];

    assert_int_equal(logentry_body(r, p, n, &e, &len), want);
    assert_ptr_equal(e, POISON_PTR);
    assert_int_equal(len, POISON_LEN);
    memset(leaf, 0x5a, H);
    memcpy(poison, leaf, H);
    assert_int_equal(logentry_leaf_hash(r, p, n, leaf), want);
    assert_memory_equal(leaf, poison, H);
}

static void test_body_errors(void **state)
{
    _cleanup_(logrec_freep) struct logrec *r = new_record(0, false);
    _cleanup_(logrec_freep) struct logrec *s = new_record(1, true);
    _cleanup_(body_free) struct body b = encode(r);
    char *e = POISON_PTR;
    size_t n = POISON_LEN;
    uint8_t *keep;

    /* Missing signature or key. */
    keep = r->sig;
    r->sig = NULL;
    body_fails(r, b.p, b.n, -EINVAL);
    r->sig = keep;
    keep = r->spki;
    r->spki = NULL;
    body_fails(r, b.p, b.n, -EINVAL);
    r->spki = keep;
    /* Lengths logentry_parse would refuse (logrec.h: 1..LOGREC_MAX_SIG / _SPKI bytes): an
     * entry the builder writes always parses back. */
    {
        static uint8_t big[LOGREC_MAX_SPKI + 1];
        uint8_t *sig = r->sig, *spki = r->spki;
        size_t sig_len = r->sig_len, spki_len = r->spki_len;

        r->sig_len = 0;
        body_fails(r, b.p, b.n, -EINVAL);
        r->sig = big;
        r->sig_len = LOGREC_MAX_SIG + 1;
        body_fails(r, b.p, b.n, -EINVAL);
        r->sig = sig;
        r->sig_len = sig_len;
        r->spki_len = 0;
        body_fails(r, b.p, b.n, -EINVAL);
        r->spki = big;
        r->spki_len = LOGREC_MAX_SPKI + 1;
        body_fails(r, b.p, b.n, -EINVAL);
        /* At the limits exactly: accepted (test_parse_limits parses such an entry back). */
        r->sig = big;
        r->sig_len = LOGREC_MAX_SIG;
        r->spki_len = LOGREC_MAX_SPKI;
        assert_int_equal(logentry_body(r, b.p, b.n, &e, &n), 0);
        free(e);
        e = POISON_PTR;
        n = POISON_LEN;
        r->sig = sig;
        r->sig_len = sig_len;
        r->spki = spki;
        r->spki_len = spki_len;
    }
    /* No body, no record, no outputs. */
    body_fails(NULL, b.p, b.n, -EINVAL);
    body_fails(r, NULL, b.n, -EINVAL);
    body_fails(r, b.p, 0, -EINVAL);
    assert_int_equal(logentry_body(r, b.p, b.n, NULL, &n), -EINVAL);
    assert_int_equal(logentry_body(r, b.p, b.n, &e, NULL), -EINVAL);
    assert_ptr_equal(e, POISON_PTR);
    assert_int_equal(n, POISON_LEN);
    /* Unknown hash, digest of the wrong length. */
    r->hash = 0;
    body_fails(r, b.p, b.n, -EINVAL);
    r->hash = 4;
    body_fails(r, b.p, b.n, -EINVAL);
    r->hash = HWSIGN_HASH_SHA384;
    body_fails(r, b.p, b.n, -EINVAL);
    r->hash = HWSIGN_HASH_SHA256;
    r->digest_len = 31;
    body_fails(r, b.p, b.n, -EINVAL);
    r->digest_len = 32;
    /* A statement without its envelope hash. */
    s->has_envelope = false;
    body_fails(s, b.p, b.n, -EINVAL);
    s->has_envelope = true;
    /* And the fixed record still works. */
    assert_int_equal(logentry_body(r, b.p, b.n, &e, &n), 0);
    free(e);
}

/* ---- entry body: parsing ---- */

static void test_parse_round_trip(void **state)
{
    for (int st = 0; st < 2; st++) {
        _cleanup_(logrec_freep) struct logrec *r = new_record(11, st);
        _cleanup_(body_free) struct body b = encode(r);
        _cleanup_free_ char *text = NULL, *reordered = NULL, *spaced = NULL;
        _cleanup_(fjson_putp) struct json_object *o = NULL, *rev = NULL;
        size_t n = 0;

        text = entry_of(r, &b, &n);
        parse_ok(text, n, r, &b);
        /* Any member order (the leaf is over the bytes, the parse over the members). */
        o = json_tokener_parse(text);
        assert_non_null(o);
        rev = json_object_new_object();
        {
            const char *keys[8];
            size_t k = 0;
            json_object_object_foreach(o, key, val)
            {
                (void)val;
                keys[k++] = key;
            }
            while (k-- > 0) {
                struct json_object *v = NULL;
                assert_true(json_object_object_get_ex(o, keys[k], &v));
                assert_int_equal(json_object_object_add(rev, keys[k], json_object_get(v)), 0);
            }
        }
        reordered = strdup(json_object_to_json_string_ext(
                rev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        assert_non_null(reordered);
        assert_string_not_equal(reordered, text);
        parse_ok(reordered, strlen(reordered), r, &b);
        /* Insignificant whitespace is JSON too. */
        spaced = xasprintf(" \n%s\t\r\n ", text);
        parse_ok(spaced, strlen(spaced), r, &b);
        /* NULL arguments. */
        {
            struct logentry_info *i = POISON_PTR;
            assert_int_equal(logentry_parse(NULL, n, &i), -EINVAL);
            assert_ptr_equal(i, POISON_PTR);
            assert_int_equal(logentry_parse(text, n, NULL), -EINVAL);
        }
        assert_null(logentry_info_free(NULL));
    }
}

/* Entry text of the fixed record of the given kind. Not inlined: gcc 12 at -O3 then wrongly
 * reports pointers into the returned text as dangling (-Wdangling-pointer). */
static __attribute__((noinline)) char *kat_text(bool statement)
{
    _cleanup_(logrec_freep) struct logrec *r = new_record(0, statement);
    _cleanup_(body_free) struct body b = encode(r);
    size_t n = 0;
    return entry_of(r, &b, &n);
}

static void refuse_subst(const char *text, const char *from, const char *to, int want)
{
    _cleanup_free_ char *bad = subst(text, from, to);
    parse_fails_s(bad, want);
}

static void test_parse_rejects(void **state)
{
    _cleanup_free_ char *d = kat_text(false), *s = kat_text(true);
    _cleanup_free_ char *rec = NULL, *rec_up = NULL;
    const char *p;

    parse_fails_s(d + 1, -EINVAL); /* not JSON */
    parse_fails(d, 0, -EINVAL);
    parse_fails_s("[]", -EINVAL);
    parse_fails_s("{}", -EINVAL);
    /* Wrong apiVersion and kind. */
    refuse_subst(d, "\"0.0.1\"", "\"0.0.2\"", -EINVAL);
    refuse_subst(d, "\"0.0.1\"", "\"\"", -EINVAL);
    refuse_subst(d, "\"hashedrekord\"", "\"rekord\"", -EINVAL);
    refuse_subst(d, "\"hashedrekord\"", "\"HASHEDREKORD\"", -EINVAL);
    refuse_subst(d, "\"hashedrekord\"", "\"dsse\"", -EINVAL); /* kind and spec disagree */
    refuse_subst(s, "\"dsse\"", "\"hashedrekord\"", -EINVAL);
    refuse_subst(s, "\"dsse\"", "\"intoto\"", -EINVAL);
    /* Upper-case hex: in the record hash, the digest, both DSSE hashes. */
    p = strstr(d, "\"record\":\"");
    assert_non_null(p);
    rec = strndup(p + 10, 64);
    rec_up = strdup(rec);
    for (char *c = rec_up; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    assert_string_not_equal(rec, rec_up);
    refuse_subst(d, rec, rec_up, -EINVAL);
    refuse_subst(d, "ba7816bf", "BA7816BF", -EINVAL);
    refuse_subst(d, "20015ad\"", "20015aD\"", -EINVAL);
    refuse_subst(s, "e0e1e2e3", "E0e1e2e3", -EINVAL);
    refuse_subst(s, "6e6f\"", "6e6F\"", -EINVAL);
    /* Non-hex, odd length, wrong lengths for the algorithm. */
    refuse_subst(d, "ba7816bf", "ba7816bg", -EINVAL);
    refuse_subst(d, "ba7816bf", "ba7816b", -EINVAL);
    refuse_subst(d, "ba7816bf", "ba78", -EINVAL);
    refuse_subst(d, "ba7816bf", "ba7816bf00", -EINVAL);
    refuse_subst(d, "\"sha256\"", "\"sha384\"", -EINVAL);
    refuse_subst(d, "\"sha256\"", "\"sha512\"", -EINVAL);
    refuse_subst(d, rec, "00", -EINVAL);
    refuse_subst(d, rec, "", -EINVAL);
    refuse_subst(s, "e0e1e2e3", "e0e1e2", -EINVAL);
    refuse_subst(s, "6e6f\"", "6e6f00\"", -EINVAL);
    /* SHA-1 (with a 20-byte value), other spellings, non-sha256 DSSE hashes. */
    refuse_subst(d,
                 "\"sha256\",\"value\":"
                 "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"",
                 "\"sha1\",\"value\":\"a9993e364706816aba3e25717850c26c9cd0d89d\"", -EINVAL);
    refuse_subst(d, "\"sha256\"", "\"sha1\"", -EINVAL);
    refuse_subst(d, "\"sha256\"", "\"SHA256\"", -EINVAL);
    refuse_subst(d, "\"sha256\"", "\"SHA2_256\"", -EINVAL);
    refuse_subst(s, "\"sha256\"", "\"sha384\"", -EINVAL);
    refuse_subst(s, "\"sha256\"", "\"sha1\"", -EINVAL);
    /* Two DSSE signatures, none. */
    {
        const char *one = "{\"signature\":\"" KAT_SIG_B64 "\",\"verifier\":\"" KAT_PEM_B64 "\"}";
        _cleanup_free_ char *two = xasprintf("%s,%s", one, one);
        refuse_subst(s, one, two, -EINVAL);
        refuse_subst(s, one, "", -EINVAL);
    }
    /* An empty signature; bad base64 in signature and key. */
    refuse_subst(d, KAT_SIG_B64, "", -EINVAL);
    refuse_subst(s, KAT_SIG_B64, "", -EINVAL);
    refuse_subst(d, KAT_SIG_B64, "MEYC*QDH", -EINVAL);
    refuse_subst(d, KAT_SIG_B64, "MEYCI", -EINVAL);    /* 1 mod 4 */
    refuse_subst(d, KAT_SIG_B64, "MEZ=", -EINVAL);     /* non-zero trailing bits */
    refuse_subst(d, KAT_SIG_B64, "ME=YC", -EINVAL);    /* padding inside */
    refuse_subst(d, KAT_SIG_B64, "MEY C", -EINVAL);    /* whitespace */
    refuse_subst(d, KAT_SIG_B64, "ME+C_Q==", -EINVAL); /* mixed alphabets */
    refuse_subst(d, KAT_PEM_B64, "LS0t!!", -EINVAL);
    refuse_subst(s, KAT_PEM_B64, "LS0tL", -EINVAL);
    refuse_subst(s, KAT_PEM_B64, "", -EINVAL);
    /* The key must be a PEM, not its DER in base64. */
    {
        _cleanup_free_ char *der = b64(kat_spki, sizeof(kat_spki));
        refuse_subst(d, KAT_PEM_B64, der, -EINVAL);
    }
    /* Values of the wrong JSON type, null, duplicates. */
    refuse_subst(d, "\"0.0.1\"", "1", -EINVAL);
    refuse_subst(d, "\"0.0.1\"", "null", -EINVAL);
    refuse_subst(d, "\"kind\":\"hashedrekord\"",
                 "\"kind\":\"hashedrekord\",\"kind\":\"hashedrekord\"", -EINVAL);
    /* Strings with an escaped NUL or a raw control character. */
    refuse_subst(d, "\"0.0.1\"", "\"0.0.1\\u0000\"", -EINVAL);
    refuse_subst(d, "\"0.0.1\"", "\"0.0.1\n\"", -EINVAL);
}

/* PEMs the key could be written as: only the canonical one is an entry. */
static void test_parse_pem_canonical(void **state)
{
    _cleanup_free_ char *d = kat_text(false), *s = kat_text(true);
    static const struct {
        size_t width;
        const char *eol;
        bool final_eol;
        bool ok;
    } v[] = {
            {64, "\n", true, true}, /* the canonical form, built by this helper: a control */
            {76, "\n", true, false},    {48, "\n", true, false},
            {10000, "\n", true, false}, /* one line */
            {64, "\n", false, false},   /* missing final newline */
            {64, "\r\n", true, false},  /* CRLF */
            {64, "\r\n", false, false},
    };

    for (size_t i = 0; i < ELEMENTSOF(v); i++) {
        _cleanup_free_ char *pem =
                pem_text(kat_spki, sizeof(kat_spki), v[i].width, v[i].eol, v[i].final_eol);
        _cleanup_free_ char *pb = b64(pem, strlen(pem));
        for (int st = 0; st < 2; st++) {
            _cleanup_free_ char *t = subst(st ? s : d, KAT_PEM_B64, pb);
            if (v[i].ok) {
                _cleanup_(logrec_freep) struct logrec *rs = new_record(0, st);
                _cleanup_(body_free) struct body bs = encode(rs);
                assert_string_equal(pem, kat_pem);
                parse_ok(t, strlen(t), rs, &bs);
            } else {
                parse_fails_s(t, -EINVAL);
            }
        }
    }
    /* Extra text around the armour, another label, an extra blank line, a trailing space. */
    {
        static const char *const bad[] = {
                "\n-----BEGIN PUBLIC KEY-----\n",
                "-----BEGIN EC PUBLIC KEY-----\n",
                "-----BEGIN PUBLIC KEY-----\n\n",
                "-----BEGIN PUBLIC KEY----- \n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
            _cleanup_free_ char *pem = subst(kat_pem, "-----BEGIN PUBLIC KEY-----\n", bad[i]);
            _cleanup_free_ char *pb = b64(pem, strlen(pem));
            _cleanup_free_ char *t = subst(d, KAT_PEM_B64, pb);
            parse_fails_s(t, -EINVAL);
        }
        {
            _cleanup_free_ char *pem = xasprintf("%s\n", kat_pem);
            _cleanup_free_ char *pb = b64(pem, strlen(pem));
            _cleanup_free_ char *t = subst(d, KAT_PEM_B64, pb);
            parse_fails_s(t, -EINVAL);
        }
    }
}

/* ---- every member of a parsed object: missing, mistyped, unknown neighbours ---- */

enum member_op { MEMBER_DELETE, MEMBER_RETYPE };

/* Applies op to the k-th object member in depth-first order; its name goes to name. false when
 * there are not that many members. */
static bool nth_member(struct json_object *o, size_t *k, enum member_op op, char name[64])
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            if (nth_member(json_object_array_get_idx(o, i), k, op, name))
                return true;
        return false;
    }
    if (!json_object_is_type(o, json_type_object))
        return false;
    json_object_object_foreach(o, key, val)
    {
        if ((*k)-- == 0) {
            snprintf(name, 64, "%s", key);
            if (op == MEMBER_DELETE)
                json_object_object_del(o, name);
            else
                assert_int_equal(json_object_object_add(o, name, json_object_new_int(7)), 0);
            return true;
        }
        if (nth_member(val, k, op, name))
            return true;
    }
    return false;
}

/* The k-th object (depth-first, the root is 0), or NULL. */
static struct json_object *nth_object(struct json_object *o, size_t *k)
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            struct json_object *f = nth_object(json_object_array_get_idx(o, i), k);
            if (f)
                return f;
        }
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object))
        return NULL;
    if ((*k)-- == 0)
        return o;
    json_object_object_foreach(o, key, val)
    {
        struct json_object *f;
        (void)key;
        f = nth_object(val, k);
        if (f)
            return f;
    }
    return NULL;
}

/* check(o) must fail for every deletion (except of a member named optional), every retyping,
 * and an unknown member added to any object. Returns the number of objects seen. */
static size_t every_member_refused(struct json_object *root, int (*check)(struct json_object *),
                                   const char *optional)
{
    size_t objects = 0, members = 0;

    assert_int_equal(check(root), 0);
    for (int op = MEMBER_DELETE; op <= MEMBER_RETYPE; op++)
        for (size_t i = 0;; i++) {
            _cleanup_(fjson_putp) struct json_object *c = NULL;
            char name[64];
            size_t k = i;
            int r;

            assert_int_equal(json_object_deep_copy(root, &c, NULL), 0);
            if (!nth_member(c, &k, (enum member_op)op, name)) {
                members = i;
                break;
            }
            r = check(c);
            if (op == MEMBER_DELETE && optional && !strcmp(name, optional))
                assert_int_equal(r, 0);
            else if (r == 0)
                fail_msg("accepted with member %s %s", name,
                         op == MEMBER_DELETE ? "deleted" : "of the wrong type");
        }
    for (size_t i = 0;; i++) {
        _cleanup_(fjson_putp) struct json_object *c = NULL;
        struct json_object *obj;
        size_t k = i;

        assert_int_equal(json_object_deep_copy(root, &c, NULL), 0);
        obj = nth_object(c, &k);
        if (!obj) {
            objects = i;
            break;
        }
        assert_int_equal(json_object_object_add(obj, "zz", json_object_new_string("1")), 0);
        if (check(c) == 0)
            fail_msg("accepted with an unknown member in object %zu", i);
    }
    assert_true(members > objects);
    return objects;
}

static int check_entry(struct json_object *o)
{
    _cleanup_(logentry_info_freep) struct logentry_info *i = NULL;
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    assert_non_null(s);
    return logentry_parse(s, strlen(s), &i);
}

static void test_parse_every_member(void **state)
{
    for (int st = 0; st < 2; st++) {
        _cleanup_free_ char *t = kat_text(st);
        _cleanup_(fjson_putp) struct json_object *o = json_tokener_parse(t);

        assert_non_null(o);
        /* root, hwsign, spec, data, hash, signature, publicKey / root, hwsign, spec,
         * envelopeHash, payloadHash, signatures[0] */
        assert_int_equal(every_member_refused(o, check_entry, NULL), st ? 6 : 7);
    }
}

/* ---- entry body: limits ---- */

static void test_parse_limits(void **state)
{
    _cleanup_free_ char *d = kat_text(false), *pad = NULL;
    size_t n = strlen(d);

    /* Whitespace up to exactly LOGENTRY_MAX_BODY is accepted, one byte more is not. */
    pad = malloc(LOGENTRY_MAX_BODY + 2);
    assert_non_null(pad);
    memcpy(pad, d, n);
    memset(pad + n, ' ', LOGENTRY_MAX_BODY + 1 - n);
    pad[LOGENTRY_MAX_BODY + 1] = '\0';
    {
        struct logentry_info *i = NULL;
        assert_int_equal(logentry_parse(pad, LOGENTRY_MAX_BODY, &i), 0);
        logentry_info_free(i);
    }
    parse_fails(pad, LOGENTRY_MAX_BODY + 1, -EMSGSIZE);

    /* The largest record the log takes (signature and SPKI at their limits, SHA-512) has an
     * entry within LOGENTRY_MAX_BODY that parses back. */
    {
        _cleanup_(logrec_freep) struct logrec *r = new_record(1, false);
        _cleanup_(body_free) struct body b = {0};
        _cleanup_free_ char *e = NULL;
        size_t len = 0;

        free(r->sig);
        free(r->spki);
        r->sig = malloc(LOGREC_MAX_SIG);
        r->spki = malloc(LOGREC_MAX_SPKI);
        assert_non_null(r->sig);
        assert_non_null(r->spki);
        for (size_t i = 0; i < LOGREC_MAX_SPKI; i++) {
            r->spki[i] = (uint8_t)(i * 7);
            if (i < LOGREC_MAX_SIG)
                r->sig[i] = (uint8_t)(i * 13);
        }
        r->sig_len = LOGREC_MAX_SIG;
        r->spki_len = LOGREC_MAX_SPKI;
        r->hash = HWSIGN_HASH_SHA512;
        r->digest_len = 64;
        b = encode(r);
        e = entry_of(r, &b, &len);
        assert_true(len <= LOGENTRY_MAX_BODY);
        parse_ok(e, len, r, &b);

        /* One byte over either limit in an entry is refused by the parser. */
        {
            _cleanup_free_ char *sig = b64(r->sig, r->sig_len), *sig2 = NULL, *t = NULL;
            uint8_t big[LOGREC_MAX_SIG + 1];
            memcpy(big, r->sig, LOGREC_MAX_SIG);
            big[LOGREC_MAX_SIG] = 1;
            sig2 = b64(big, sizeof(big));
            t = subst(e, sig, sig2);
            parse_fails_s(t, -EMSGSIZE);
        }
        {
            _cleanup_free_ char *pem = pem_text(r->spki, r->spki_len, 64, "\n", true);
            _cleanup_free_ char *pb = b64(pem, strlen(pem)), *pem2 = NULL, *pb2 = NULL, *t = NULL;
            uint8_t big[LOGREC_MAX_SPKI + 1];
            memcpy(big, r->spki, LOGREC_MAX_SPKI);
            big[LOGREC_MAX_SPKI] = 1;
            pem2 = pem_text(big, sizeof(big), 64, "\n", true);
            pb2 = b64(pem2, strlen(pem2));
            t = subst(e, pb, pb2);
            parse_fails_s(t, -EINVAL);
        }
    }
}

/* ---- TransparencyLogEntry ---- */

#define LOG_SIZE  10u
#define LOG_INDEX 5u

static const char kat_note[] = "hwsign/test\n10\n@ROOT@\n\n\u2014 hwsign/test AAAAAQ==\n";

/* A log of LOG_SIZE records (digest and statement alternating) in a stored tree. */
struct test_log {
    struct merkle_tree *tree;
    char *entries[LOG_SIZE];
    size_t lens[LOG_SIZE];
    bool dsse[LOG_SIZE];
};

static void test_log_init(struct test_log *l)
{
    assert_int_equal(merkle_tree_new(&l->tree), 0);
    for (uint64_t i = 0; i < LOG_SIZE; i++) {
        _cleanup_(logrec_freep) struct logrec *r = new_record(i, i % 2 == 1);
        _cleanup_(body_free) struct body b = {0};
        uint8_t leaf[H], want[H];

        r->digest[0] = (uint8_t)i;
        b = encode(r);
        l->entries[i] = entry_of(r, &b, &l->lens[i]);
        l->dsse[i] = i % 2 == 1;
        assert_int_equal(logentry_leaf_hash(r, b.p, b.n, leaf), 0);
        leaf_of(l->entries[i], l->lens[i], want);
        assert_memory_equal(leaf, want, H);
        assert_int_equal(merkle_tree_append(l->tree, leaf), 0);
    }
}

static void test_log_done(struct test_log *l)
{
    l->tree = merkle_tree_free(l->tree);
    for (size_t i = 0; i < LOG_SIZE; i++)
        free(l->entries[i]);
}

/* The tlog entry of record index in the tree of size n (proof storage in *hashes). */
static void tlog_of(const struct test_log *l, uint64_t index, uint64_t n,
                    uint8_t hashes[MERKLE_MAX_PROOF][H], char **note, struct logentry_tlog *t)
{
    _cleanup_free_ char *root_b64 = NULL;

    memset(t, 0, sizeof(*t));
    t->log_index = index;
    for (int i = 0; i < 32; i++)
        t->log_id[i] = (uint8_t)(0xc0 + i);
    t->dsse = l->dsse[index];
    t->tree_size = n;
    assert_int_equal(merkle_tree_root(l->tree, n, t->root), 0);
    assert_int_equal(merkle_tree_inclusion_proof(l->tree, index, n, hashes, &t->n_hashes), 0);
    t->hashes = hashes;
    root_b64 = b64(t->root, H);
    *note = subst(kat_note, "@ROOT@", root_b64);
    t->checkpoint = *note;
    t->body = l->entries[index];
    t->body_len = l->lens[index];
}

static void assert_tlog_equal(const struct logentry_tlog *a, const struct logentry_tlog *b)
{
    assert_true(a->log_index == b->log_index);
    assert_memory_equal(a->log_id, b->log_id, 32);
    assert_int_equal(a->dsse, b->dsse);
    assert_true(a->tree_size == b->tree_size);
    assert_memory_equal(a->root, b->root, H);
    assert_int_equal(a->n_hashes, b->n_hashes);
    if (a->n_hashes)
        assert_memory_equal(a->hashes, b->hashes, a->n_hashes * H);
    assert_string_equal(a->checkpoint, b->checkpoint);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
}

static void test_tlog_kat(void **state)
{
    struct test_log l;
    uint8_t hashes[MERKLE_MAX_PROOF][H];
    _cleanup_free_ char *note = NULL, *want = NULL, *got = NULL, *hl = NULL;
    _cleanup_free_ char *id = NULL, *root = NULL, *body = NULL;
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    _cleanup_(logentry_tlog_freep) struct logentry_tlog *p = NULL;
    struct logentry_tlog t;
    size_t n = 0;
    uint8_t leaf[H];

    test_log_init(&l);
    tlog_of(&l, LOG_INDEX, LOG_SIZE, hashes, &note, &t);
    assert_int_equal(t.n_hashes, 4);
    assert_int_equal(logentry_tlog_build(&t, &o), 0);
    assert_int_equal(fjson_serialize(o, &got, &n), 0);

    /* The documented layout: int64 as strings, bytes as standard base64. */
    id = b64(t.log_id, 32);
    root = b64(t.root, H);
    body = b64(t.body, t.body_len);
    hl = strdup("");
    assert_non_null(hl);
    for (size_t i = 0; i < t.n_hashes; i++) {
        _cleanup_free_ char *h = b64(hashes[i], H), *prev = hl;
        hl = xasprintf("%s%s\"%s\"", prev, i ? "," : "", h);
    }
    want = xasprintf("{\"logIndex\":\"5\",\"logId\":{\"keyId\":\"%s\"},\"kindVersion\":{\"kind\":"
                     "\"dsse\",\"version\":\"0.0.1\"},\"inclusionProof\":{\"logIndex\":\"5\","
                     "\"rootHash\":\"%s\",\"treeSize\":\"10\",\"hashes\":[%s],\"checkpoint\":{"
                     "\"envelope\":\"hwsign/test\\n10\\n%s\\n\\n\u2014 hwsign/test "
                     "AAAAAQ==\\n\"}},\"canonicalizedBody\":\"%s\"}",
                     id, root, hl, root, body);
    assert_string_equal(got, want);

    /* Parse back: equal, and the proof proves the body's leaf under the root. */
    assert_int_equal(logentry_tlog_parse(o, &p), 0);
    assert_tlog_equal(&t, p);
    leaf_of(p->body, p->body_len, leaf);
    assert_int_equal(merkle_verify_inclusion(p->log_index, p->tree_size, leaf,
                                             (const uint8_t(*)[H])p->hashes, p->n_hashes, p->root),
                     0);
    test_log_done(&l);
}

/* Round trips for every record against every tree size that includes it. */
static void test_tlog_round_trips(void **state)
{
    struct test_log l;

    test_log_init(&l);
    for (uint64_t n = 1; n <= LOG_SIZE; n++)
        for (uint64_t i = 0; i < n; i++) {
            uint8_t hashes[MERKLE_MAX_PROOF][H], leaf[H];
            _cleanup_free_ char *note = NULL, *text = NULL;
            _cleanup_(fjson_putp) struct json_object *o = NULL, *o2 = NULL;
            _cleanup_(logentry_tlog_freep) struct logentry_tlog *p = NULL;
            _cleanup_(logentry_info_freep) struct logentry_info *info = NULL;
            struct logentry_tlog t;
            size_t len = 0;

            tlog_of(&l, i, n, hashes, &note, &t);
            assert_int_equal(logentry_tlog_build(&t, &o), 0);
            /* Through text, as a bundle carries it. */
            assert_int_equal(fjson_serialize(o, &text, &len), 0);
            assert_int_equal(fjson_parse_object(text, len, BUNDLE_MAX_JSON, &o2), 0);
            assert_int_equal(logentry_tlog_parse(o2, &p), 0);
            assert_tlog_equal(&t, p);
            leaf_of(p->body, p->body_len, leaf);
            assert_int_equal(merkle_verify_inclusion(i, n, leaf, (const uint8_t(*)[H])p->hashes,
                                                     p->n_hashes, p->root),
                             0);
            assert_int_equal(logentry_parse(p->body, p->body_len, &info), 0);
            assert_int_equal(info->dsse, p->dsse);
        }
    test_log_done(&l);
}

static int check_tlog(struct json_object *o)
{
    _cleanup_(logentry_tlog_freep) struct logentry_tlog *t = NULL;
    return logentry_tlog_parse(o, &t);
}

static void tlog_fails(struct json_object *o, int want)
{
    struct logentry_tlog *t = POISON_PTR;
    int r = logentry_tlog_parse(o, &t);

    if (r != want)
        fprintf(stderr, "logentry_tlog_parse gave %d, want %d for: %s\n", r, want,
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    assert_int_equal(r, want);
    assert_ptr_equal(t, POISON_PTR);
}

/* The text of o with from replaced by to, parsed back (strictly) and refused with want. */
static void tlog_subst_fails(struct json_object *o, const char *from, const char *to, int want)
{
    _cleanup_free_ char *text = NULL, *bad = NULL;
    _cleanup_(fjson_putp) struct json_object *b = NULL;
    size_t n = 0;

    assert_int_equal(fjson_serialize(o, &text, &n), 0);
    bad = subst(text, from, to);
    assert_int_equal(fjson_parse_object(bad, strlen(bad), BUNDLE_MAX_JSON, &b), 0);
    tlog_fails(b, want);
}

static void tlog_subst_ok(struct json_object *o, const char *from, const char *to)
{
    _cleanup_free_ char *text = NULL, *good = NULL;
    _cleanup_(fjson_putp) struct json_object *b = NULL;
    size_t n = 0;

    assert_int_equal(fjson_serialize(o, &text, &n), 0);
    good = subst(text, from, to);
    assert_int_equal(fjson_parse_object(good, strlen(good), BUNDLE_MAX_JSON, &b), 0);
    assert_int_equal(check_tlog(b), 0);
}

static void test_tlog_rejects(void **state)
{
    struct test_log l;
    uint8_t hashes[MERKLE_MAX_PROOF][H];
    _cleanup_free_ char *note = NULL, *h0 = NULL, *h0short = NULL, *root = NULL, *rshort = NULL;
    _cleanup_free_ char *id = NULL, *idshort = NULL;
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    struct logentry_tlog t;

    test_log_init(&l);
    tlog_of(&l, LOG_INDEX, LOG_SIZE, hashes, &note, &t);
    assert_int_equal(logentry_tlog_build(&t, &o), 0);

    /* logIndex != inclusionProof.logIndex (either one changed). */
    tlog_subst_fails(o, "{\"logIndex\":\"5\"", "{\"logIndex\":\"4\"", -EINVAL);
    tlog_subst_fails(o, "{\"logIndex\":\"5\",\"rootHash\"", "{\"logIndex\":\"6\",\"rootHash\"",
                     -EINVAL);
    /* index >= treeSize. */
    tlog_subst_fails(o, "\"treeSize\":\"10\"", "\"treeSize\":\"5\"", -EINVAL);
    tlog_subst_fails(o, "\"treeSize\":\"10\"", "\"treeSize\":\"4\"", -EINVAL);
    tlog_subst_fails(o, "\"treeSize\":\"10\"", "\"treeSize\":\"0\"", -EINVAL);
    tlog_subst_ok(o, "\"treeSize\":\"10\"", "\"treeSize\":\"6\"");
    tlog_subst_ok(o, "\"treeSize\":\"10\"", "\"treeSize\":\"18446744073709551615\"");
    /* int64 strings: leading zeros, signs, non-digits, empty, spaces, overflow. */
    {
        static const char *const bad[] = {
                "05",
                "+5",
                "-5",
                "5a",
                "0x5",
                " 5",
                "5 ",
                "",
                "5.0",
                "5e0",
                "\\u0035x",
                "18446744073709551616",
                "99999999999999999999",
                "000000000000000000005",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
            _cleanup_free_ char *to = xasprintf("\"treeSize\":\"%s\"", bad[i]);
            _cleanup_free_ char *to2 = xasprintf("{\"logIndex\":\"%s\",\"logId\"", bad[i]);
            tlog_subst_fails(o, "\"treeSize\":\"10\"", to, -EINVAL);
            tlog_subst_fails(o, "{\"logIndex\":\"5\",\"logId\"", to2, -EINVAL);
        }
        /* A JSON number is not the protobuf-JSON int64 string we write. */
        tlog_subst_fails(o, "\"treeSize\":\"10\"", "\"treeSize\":10", -EINVAL);
    }
    /* A hash of 31 (or 33) bytes in the proof, the root, the log id. */
    h0 = b64(hashes[0], H);
    h0short = b64(hashes[0], H - 1);
    tlog_subst_fails(o, h0, h0short, -EINVAL);
    {
        uint8_t longer[H + 1];
        _cleanup_free_ char *h0long = NULL;
        memcpy(longer, hashes[0], H);
        longer[H] = 0;
        h0long = b64(longer, sizeof(longer));
        tlog_subst_fails(o, h0, h0long, -EINVAL);
    }
    root = b64(t.root, H);
    rshort = b64(t.root, H - 1);
    tlog_subst_fails(o, root, rshort, -EINVAL);
    id = b64(t.log_id, 32);
    idshort = b64(t.log_id, 31);
    tlog_subst_fails(o, id, idshort, -EINVAL);
    /* Bad base64 and non-strings in the hashes. */
    {
        _cleanup_free_ char *q = xasprintf("\"%s\"", h0);
        tlog_subst_fails(o, q, "\"!!!!\"", -EINVAL);
        tlog_subst_fails(o, q, "7", -EINVAL);
        tlog_subst_fails(o, q, "null", -EINVAL);
        tlog_subst_fails(o, q, "{}", -EINVAL);
    }
    /* Wrong kind or version. */
    tlog_subst_fails(o, "\"kind\":\"dsse\"", "\"kind\":\"intoto\"", -EINVAL);
    tlog_subst_fails(o, "\"version\":\"0.0.1\"", "\"version\":\"0.0.2\"", -EINVAL);
    /* Missing checkpoint, checkpoint envelope, body; an empty body. */
    {
        _cleanup_(fjson_putp) struct json_object *c = NULL;
        struct json_object *proof = NULL;
        assert_int_equal(json_object_deep_copy(o, &c, NULL), 0);
        assert_true(json_object_object_get_ex(c, "inclusionProof", &proof));
        json_object_object_del(proof, "checkpoint");
        tlog_fails(c, -EINVAL);
    }
    tlog_subst_fails(o, "\"checkpoint\":{\"envelope\":\"hwsign/test", "\"checkpoint\":{\"x\":\"",
                     -EINVAL);
    {
        _cleanup_free_ char *body = b64(t.body, t.body_len), *q = xasprintf("\"%s\"", body);
        tlog_subst_fails(o, q, "\"\"", -EINVAL);
    }
    /* integratedTime and inclusionPromise are accepted; hashes may be absent. */
    tlog_subst_ok(o, "{\"logIndex\":\"5\",\"logId\"",
                  "{\"integratedTime\":\"1764100800\",\"inclusionPromise\":{"
                  "\"signedEntryTimestamp\":\"MEUCIQ==\"},\"logIndex\":\"5\",\"logId\"");
    /* NULL arguments. */
    {
        struct logentry_tlog *p = POISON_PTR;
        assert_int_equal(logentry_tlog_parse(NULL, &p), -EINVAL);
        assert_ptr_equal(p, POISON_PTR);
        assert_int_equal(logentry_tlog_parse(o, NULL), -EINVAL);
        assert_null(logentry_tlog_free(NULL));
    }
    test_log_done(&l);
}

static void test_tlog_every_member(void **state)
{
    struct test_log l;
    uint8_t hashes[MERKLE_MAX_PROOF][H];
    _cleanup_free_ char *note = NULL;
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    struct logentry_tlog t;

    test_log_init(&l);
    tlog_of(&l, 2, LOG_SIZE, hashes, &note, &t);
    assert_int_equal(logentry_tlog_build(&t, &o), 0);
    /* root, logId, kindVersion, inclusionProof, checkpoint */
    assert_int_equal(every_member_refused(o, check_tlog, "hashes"), 5);
    test_log_done(&l);
}

static void test_tlog_proof_limit(void **state)
{
    struct test_log l;
    uint8_t hashes[MERKLE_MAX_PROOF][H], many[LOGENTRY_MAX_PROOF + 1][H];
    _cleanup_free_ char *note = NULL;
    struct logentry_tlog t;

    test_log_init(&l);
    tlog_of(&l, 0, 1, hashes, &note, &t);
    assert_int_equal(t.n_hashes, 0);
    for (size_t i = 0; i < ELEMENTSOF(many); i++)
        memset(many[i], (int)i, H);
    t.hashes = many;
    t.tree_size = UINT64_MAX;
    /* Exactly LOGENTRY_MAX_PROOF hashes: built and parsed. */
    {
        _cleanup_(fjson_putp) struct json_object *o = NULL;
        _cleanup_(logentry_tlog_freep) struct logentry_tlog *p = NULL;
        t.n_hashes = LOGENTRY_MAX_PROOF;
        assert_int_equal(logentry_tlog_build(&t, &o), 0);
        assert_int_equal(logentry_tlog_parse(o, &p), 0);
        assert_tlog_equal(&t, p);
        /* One more hash in the array is refused. */
        {
            _cleanup_(fjson_putp) struct json_object *c = NULL;
            struct json_object *proof = NULL, *arr = NULL;
            _cleanup_free_ char *h = b64(many[LOGENTRY_MAX_PROOF], H);
            assert_int_equal(json_object_deep_copy(o, &c, NULL), 0);
            assert_true(json_object_object_get_ex(c, "inclusionProof", &proof));
            assert_true(json_object_object_get_ex(proof, "hashes", &arr));
            assert_int_equal(json_object_array_add(arr, json_object_new_string(h)), 0);
            tlog_fails(c, -EMSGSIZE);
        }
    }
    /* And the builder refuses it. */
    {
        struct json_object *o = POISON_PTR;
        t.n_hashes = LOGENTRY_MAX_PROOF + 1;
        assert_int_equal(logentry_tlog_build(&t, &o), -EMSGSIZE);
        assert_ptr_equal(o, POISON_PTR);
    }
    /* No hashes: an empty array is written, and a missing array is accepted. */
    {
        _cleanup_(fjson_putp) struct json_object *o = NULL;
        _cleanup_(logentry_tlog_freep) struct logentry_tlog *p = NULL;
        t.n_hashes = 0;
        t.hashes = NULL;
        t.tree_size = 1;
        assert_int_equal(logentry_tlog_build(&t, &o), 0);
        tlog_subst_ok(o, ",\"hashes\":[]", "");
        assert_int_equal(logentry_tlog_parse(o, &p), 0);
        assert_int_equal(p->n_hashes, 0);
    }
    test_log_done(&l);
}

static void test_tlog_build_errors(void **state)
{
    struct test_log l;
    uint8_t hashes[MERKLE_MAX_PROOF][H];
    _cleanup_free_ char *note = NULL, *big = NULL;
    struct logentry_tlog t;
    struct json_object *o = POISON_PTR;

    test_log_init(&l);
    tlog_of(&l, LOG_INDEX, LOG_SIZE, hashes, &note, &t);
    assert_int_equal(logentry_tlog_build(NULL, &o), -EINVAL);
    assert_int_equal(logentry_tlog_build(&t, NULL), -EINVAL);
    t.log_index = LOG_SIZE;
    assert_int_equal(logentry_tlog_build(&t, &o), -EINVAL);
    t.log_index = LOG_INDEX;
    t.tree_size = LOG_INDEX;
    assert_int_equal(logentry_tlog_build(&t, &o), -EINVAL);
    t.tree_size = LOG_SIZE;
    t.checkpoint = NULL;
    assert_int_equal(logentry_tlog_build(&t, &o), -EINVAL);
    big = malloc(LOGENTRY_MAX_NOTE + 2);
    assert_non_null(big);
    memset(big, 'a', LOGENTRY_MAX_NOTE + 1);
    big[LOGENTRY_MAX_NOTE + 1] = '\0';
    t.checkpoint = big;
    assert_int_equal(logentry_tlog_build(&t, &o), -EMSGSIZE);
    t.checkpoint = note;
    t.body = NULL;
    assert_int_equal(logentry_tlog_build(&t, &o), -EINVAL);
    t.body = l.entries[LOG_INDEX];
    t.body_len = 0;
    assert_int_equal(logentry_tlog_build(&t, &o), -EINVAL);
    t.body_len = LOGENTRY_MAX_BODY + 1;
    assert_int_equal(logentry_tlog_build(&t, &o), -EMSGSIZE);
    t.body_len = l.lens[LOG_INDEX];
    t.hashes = NULL;
    assert_int_equal(logentry_tlog_build(&t, &o), -EINVAL);
    assert_ptr_equal(o, POISON_PTR);
    test_log_done(&l);
}

/* ---- bundle_add_tlog_entry ---- */

/* json-c takes no const objects, even to compare them. */
static struct json_object *unconst(const struct json_object *o)
{
    return (struct json_object *)(uintptr_t)o;
}

static char *message_bundle(void)
{
    char *json = NULL;
    size_t n = 0;
    assert_int_equal(bundle_encode_message_signature(
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                             kat_digest, kat_sig, sizeof(kat_sig), &json, &n),
                     0);
    return json;
}

static struct json_object *some_entry(struct test_log *l, uint64_t index, char **note)
{
    uint8_t hashes[MERKLE_MAX_PROOF][H];
    struct logentry_tlog t;
    struct json_object *o = NULL;

    tlog_of(l, index, LOG_SIZE, hashes, note, &t);
    assert_int_equal(logentry_tlog_build(&t, &o), 0);
    return o;
}

static void test_bundle_add(void **state)
{
    struct test_log l;
    _cleanup_free_ char *note = NULL, *msg = message_bundle(), *dsse = NULL;
    _cleanup_(fjson_putp) struct json_object *e = NULL;
    size_t dn = 0;

    test_log_init(&l);
    e = some_entry(&l, LOG_INDEX, &note);
    assert_int_equal(bundle_encode_dsse("hint", "application/vnd.in-toto+json",
                                        (const uint8_t *)"{}", 2, kat_sig, sizeof(kat_sig), &dsse,
                                        &dn),
                     0);
    for (int k = 0; k < 2; k++) {
        const char *in = k ? dsse : msg;
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        _cleanup_(bundle_freep) struct bundle *orig = NULL, *b = NULL, *b2 = NULL;
        _cleanup_(logentry_tlog_freep) struct logentry_tlog *p = NULL;
        size_t n = 0, n2 = 0;

        assert_int_equal(bundle_decode(in, strlen(in), &orig), 0);
        assert_int_equal(bundle_n_tlog_entries(orig), 0);
        assert_null(bundle_get_tlog_entry(orig, 0));
        assert_int_equal(bundle_add_tlog_entry(in, strlen(in), e, &out, &n), 0);
        assert_int_equal(strlen(out), n);
        assert_int_equal(bundle_decode(out, n, &b), 0);
        assert_int_equal(bundle_n_tlog_entries(b), 1);
        assert_true(json_object_equal(unconst(bundle_get_tlog_entry(b, 0)), e));
        assert_null(bundle_get_tlog_entry(b, 1));
        assert_int_equal(logentry_tlog_parse(bundle_get_tlog_entry(b, 0), &p), 0);
        assert_true(p->log_index == LOG_INDEX);
        /* Everything else is kept. */
        assert_int_equal(bundle_get_kind(b), bundle_get_kind(orig));
        assert_string_equal(bundle_get_hint(b), bundle_get_hint(orig));
        if (!k) {
            size_t s1 = 0, s2 = 0;
            const uint8_t *g1 = bundle_get_signature(orig, &s1), *g2 = bundle_get_signature(b, &s2);
            assert_int_equal(s1, s2);
            assert_memory_equal(g1, g2, s1);
            assert_memory_equal(bundle_get_message_digest(b), kat_digest, 32);
        }
        /* Member order kept: the text only grows by the entry. */
        {
            _cleanup_free_ char *et = NULL, *back = NULL;
            size_t en = 0;
            assert_int_equal(fjson_serialize(e, &et, &en), 0);
            back = subst(out, et, "");
            assert_string_equal(back, in);
        }
        /* A second entry goes after the first. */
        assert_int_equal(bundle_add_tlog_entry(out, n, e, &out2, &n2), 0);
        assert_int_equal(bundle_decode(out2, n2, &b2), 0);
        assert_int_equal(bundle_n_tlog_entries(b2), 2);
        assert_true(json_object_equal(unconst(bundle_get_tlog_entry(b2, 1)), e));
    }
    test_log_done(&l);
}

static void add_fails(const char *json, struct json_object *e, int want)
{
    char *out = POISON_PTR;
    size_t n = POISON_LEN;
    int r = bundle_add_tlog_entry(json, json ? strlen(json) : 0, e, &out, &n);

    if (r != want)
        fprintf(stderr, "bundle_add_tlog_entry gave %d, want %d\n", r, want);
    assert_int_equal(r, want);
    assert_ptr_equal(out, POISON_PTR);
    assert_int_equal(n, POISON_LEN);
}

static void test_bundle_add_refuses(void **state)
{
    struct test_log l;
    _cleanup_free_ char *note = NULL, *msg = message_bundle(), *bad = NULL;
    _cleanup_(fjson_putp) struct json_object *e = NULL, *arr = json_object_new_array();

    test_log_init(&l);
    e = some_entry(&l, 1, &note);
    add_fails("{}", e, -EINVAL);
    add_fails("not json", e, -EINVAL);
    add_fails("[]", e, -EINVAL);
    add_fails(l.entries[0], e, -EINVAL); /* an entry body is not a bundle */
    add_fails("{\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}", e,
              -EINVAL); /* a bare DSSE envelope */
    bad = subst(msg, "\"mediaType\":\"", "\"mediaType\":\"x");
    add_fails(bad, e, -EINVAL);
    add_fails(NULL, e, -EINVAL);
    add_fails(msg, NULL, -EINVAL);
    add_fails(msg, arr, -EINVAL);
    {
        char *out = POISON_PTR;
        size_t n = POISON_LEN;
        assert_int_equal(bundle_add_tlog_entry(msg, strlen(msg), e, NULL, &n), -EINVAL);
        assert_int_equal(bundle_add_tlog_entry(msg, strlen(msg), e, &out, NULL), -EINVAL);
        assert_ptr_equal(out, POISON_PTR);
    }
    test_log_done(&l);
}

static void test_bundle_add_limit(void **state)
{
    struct test_log l;
    _cleanup_free_ char *note = NULL, *json = message_bundle();
    _cleanup_(fjson_putp) struct json_object *e = NULL;

    test_log_init(&l);
    e = some_entry(&l, 3, &note);
    for (size_t i = 0; i < BUNDLE_MAX_TLOG_ENTRIES; i++) {
        _cleanup_(bundle_freep) struct bundle *b = NULL;
        char *out = NULL;
        size_t n = 0;

        assert_int_equal(bundle_add_tlog_entry(json, strlen(json), e, &out, &n), 0);
        free(json);
        json = out;
        assert_int_equal(bundle_decode(json, n, &b), 0);
        assert_int_equal(bundle_n_tlog_entries(b), i + 1);
    }
    add_fails(json, e, -EMSGSIZE);
    test_log_done(&l);
}

/* ---- LOG_PROOF on the wire ---- */

/* One complete frame in out: its body after type and id, as a new sbuf. */
static struct sbuf *frame_body(const struct sbuf *out, uint8_t want_type, uint32_t want_id)
{
    struct sbuf *body;
    size_t blen = 0;
    uint8_t type = 0;
    uint32_t id = 0;

    assert_int_equal(proto_frame_check(out, &blen), 1);
    assert_int_equal(blen + HWSIGN_FRAME_HEADER, sbuf_len(out));
    body = sbuf_from(sbuf_ptr(out) + HWSIGN_FRAME_HEADER, blen);
    assert_non_null(body);
    assert_int_equal(proto_get_header(body, &type, &id), 0);
    assert_int_equal(type, want_type);
    assert_int_equal(id, want_id);
    return body;
}

static void test_log_proof_req(void **state)
{
    static const uint64_t idx[] = {0, 1, 5, 0x0102030405060708ull, UINT64_MAX - 1};

    /* Known answer: length 13, type 7, id, index, all big-endian. */
    {
        static const uint8_t want[] = {0, 0, 0, 13, 7, 0xde, 0xad, 0xbe, 0xef,
                                       1, 2, 3, 4,  5, 6,    7,    8};
        _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(HWSIGN_MAX_MSG * 2);
        assert_non_null(out);
        assert_int_equal(proto_put_log_proof_req(out, 0xdeadbeef, 0x0102030405060708ull), 0);
        assert_int_equal(sbuf_len(out), sizeof(want));
        assert_memory_equal(sbuf_ptr(out), want, sizeof(want));
    }
    for (size_t i = 0; i < ELEMENTSOF(idx); i++) {
        _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(HWSIGN_MAX_MSG * 2), *body = NULL;
        uint64_t got = 0xa5a5;

        assert_non_null(out);
        assert_int_equal(proto_put_log_proof_req(out, 42, idx[i]), 0);
        body = frame_body(out, HWSIGN_MSG_LOG_PROOF, 42);
        assert_int_equal(proto_get_log_proof_req(body, &got), 0);
        assert_true(got == idx[i]);
    }
    /* UINT64_MAX (HWSIGN_LOG_INDEX_NONE) is no index; trailing and missing bytes. */
    {
        static const uint8_t none[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        static const uint8_t trail[9] = {0, 0, 0, 0, 0, 0, 0, 5, 0};
        uint64_t got = 0xa5a5;
        _cleanup_(sbuf_freep) struct sbuf *b1 = sbuf_from(none, sizeof(none));
        _cleanup_(sbuf_freep) struct sbuf *b2 = sbuf_from(trail, sizeof(trail));
        assert_int_equal(proto_get_log_proof_req(b1, &got), -EBADMSG);
        assert_int_equal(proto_get_log_proof_req(b2, &got), -EBADMSG);
        for (size_t n = 0; n < 8; n++) {
            _cleanup_(sbuf_freep) struct sbuf *b3 = sbuf_from(trail, n);
            assert_true(proto_get_log_proof_req(b3, &got) < 0);
        }
        assert_true(got == 0xa5a5);
    }
}

/* A reply body written field by field from the proto.h layout (not by proto_put_log_proof). */
static struct sbuf *reply_body(const void *note, size_t note_len, uint64_t tree_size,
                               const void *id, size_t id_len, const void *hashes, size_t hlen)
{
    struct sbuf *b = sbuf_new(HWSIGN_MAX_MSG * 2);
    assert_non_null(b);
    assert_int_equal(sbuf_put_string(b, note, note_len), 0);
    assert_int_equal(sbuf_put_u64(b, tree_size), 0);
    assert_int_equal(sbuf_put_string(b, id, id_len), 0);
    assert_int_equal(sbuf_put_string(b, hashes, hlen), 0);
    return b;
}

static void reply_fails(struct sbuf *b, uint64_t index, int want)
{
    struct hwsign_log_proof *p = POISON_PTR;
    int r = proto_get_log_proof(b, index, &p);

    if (want)
        assert_int_equal(r, want);
    else
        assert_true(r < 0);
    assert_ptr_equal(p, POISON_PTR);
}

static void test_log_proof_reply(void **state)
{
    static char note[] = "hwsign/test\n10\nAAAA\n\n\u2014 hwsign/test AAAAAQ==\n";
    static const size_t counts[] = {0, 1, 4, HWSIGN_MAX_LOG_PROOF};
    uint8_t hashes[HWSIGN_MAX_LOG_PROOF][32], id[32];

    for (size_t i = 0; i < HWSIGN_MAX_LOG_PROOF; i++)
        memset(hashes[i], (int)(i + 1), 32);
    for (size_t i = 0; i < 32; i++)
        id[i] = (uint8_t)(0xc0 + i);

    for (size_t c = 0; c < ELEMENTSOF(counts); c++) {
        _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(HWSIGN_MAX_MSG * 2), *body = NULL;
        _cleanup_(sbuf_freep) struct sbuf *hand = NULL;
        struct hwsign_log_proof p = {
                .index = 3,
                .tree_size = 10,
                .n_hashes = counts[c],
                .hashes = counts[c] ? hashes : NULL,
                .checkpoint = note,
        };
        struct hwsign_log_proof *got = NULL;

        memcpy(p.log_id, id, 32);
        assert_non_null(out);
        assert_int_equal(proto_put_log_proof(out, 77, &p), 0);
        body = frame_body(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_LOG_PROOF, 77);
        /* The body is exactly the documented layout. */
        hand = reply_body(note, strlen(note), 10, id, 32, hashes, counts[c] * 32);
        assert_int_equal(sbuf_len(body), sbuf_len(hand));
        assert_memory_equal(sbuf_ptr(body), sbuf_ptr(hand), sbuf_len(hand));
        assert_int_equal(proto_get_log_proof(body, 3, &got), 0);
        assert_true(got->index == 3 && got->tree_size == 10);
        assert_memory_equal(got->log_id, id, 32);
        assert_int_equal(got->n_hashes, counts[c]);
        if (counts[c])
            assert_memory_equal(got->hashes, hashes, counts[c] * 32);
        assert_string_equal(got->checkpoint, note);
        hwsign_log_proof_free(got);
    }
    hwsign_log_proof_free(NULL);

    /* Encoder refusals. */
    {
        _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(HWSIGN_MAX_MSG * 2);
        _cleanup_free_ char *big = malloc(HWSIGN_MAX_NOTE + 2);
        struct hwsign_log_proof p = {.index = 3, .tree_size = 10, .checkpoint = note};
        char empty[] = "";

        assert_non_null(out);
        assert_non_null(big);
        assert_int_equal(proto_put_log_proof(out, 1, NULL), -EINVAL);
        p.n_hashes = HWSIGN_MAX_LOG_PROOF + 1;
        p.hashes = hashes;
        assert_int_equal(proto_put_log_proof(out, 1, &p), -EMSGSIZE);
        p.n_hashes = 1;
        p.hashes = NULL;
        assert_int_equal(proto_put_log_proof(out, 1, &p), -EINVAL);
        p.n_hashes = 0;
        p.checkpoint = NULL;
        assert_int_equal(proto_put_log_proof(out, 1, &p), -EINVAL);
        p.checkpoint = empty;
        assert_int_equal(proto_put_log_proof(out, 1, &p), -EMSGSIZE);
        memset(big, 'n', HWSIGN_MAX_NOTE + 1);
        big[HWSIGN_MAX_NOTE + 1] = '\0';
        p.checkpoint = big;
        assert_int_equal(proto_put_log_proof(out, 1, &p), -EMSGSIZE);
        assert_int_equal(sbuf_len(out), 0); /* nothing half-written */
    }
}

static void test_log_proof_reply_rejects(void **state)
{
    static const char note[] = "hwsign/test\n10\nAAAA\n";
    uint8_t hashes[HWSIGN_MAX_LOG_PROOF + 1][32], id[33];

    memset(hashes, 0x11, sizeof(hashes));
    memset(id, 0x22, sizeof(id));

    /* A valid body as the control, then each field made wrong. */
    {
        _cleanup_(sbuf_freep) struct sbuf *b =
                reply_body(note, strlen(note), 10, id, 32, hashes, 64);
        struct hwsign_log_proof *p = NULL;
        assert_int_equal(proto_get_log_proof(b, 9, &p), 0);
        hwsign_log_proof_free(p);
    }
    /* Hashes not a multiple of 32 bytes. */
    for (size_t n = 1; n < 96; n++) {
        _cleanup_(sbuf_freep) struct sbuf *b = NULL;
        if (n % 32 == 0)
            continue;
        b = reply_body(note, strlen(note), 10, id, 32, hashes, n);
        reply_fails(b, 9, -EBADMSG);
    }
    /* More than HWSIGN_MAX_LOG_PROOF hashes. */
    {
        _cleanup_(sbuf_freep) struct sbuf *b =
                reply_body(note, strlen(note), 10, id, 32, hashes, sizeof(hashes));
        _cleanup_(sbuf_freep) struct sbuf *ok =
                reply_body(note, strlen(note), 10, id, 32, hashes, HWSIGN_MAX_LOG_PROOF * 32);
        struct hwsign_log_proof *p = NULL;
        reply_fails(b, 9, 0);
        assert_int_equal(proto_get_log_proof(ok, 9, &p), 0);
        assert_int_equal(p->n_hashes, HWSIGN_MAX_LOG_PROOF);
        hwsign_log_proof_free(p);
    }
    /* log_id of 0, 31 or 33 bytes. */
    {
        static const size_t lens[] = {0, 1, 31, 33};
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
            _cleanup_(sbuf_freep) struct sbuf *b =
                    reply_body(note, strlen(note), 10, id, lens[i], hashes, 32);
            reply_fails(b, 9, 0);
        }
    }
    /* A NUL in the note, an empty note. */
    {
        static const char nul[] = "hwsign/test\n10\0\nAAAA\n";
        _cleanup_(sbuf_freep) struct sbuf *b =
                reply_body(nul, sizeof(nul) - 1, 10, id, 32, hashes, 32);
        _cleanup_(sbuf_freep) struct sbuf *e = reply_body("", 0, 10, id, 32, hashes, 32);
        reply_fails(b, 9, -EBADMSG);
        reply_fails(e, 9, -EBADMSG);
    }
    /* index >= tree_size. */
    {
        _cleanup_(sbuf_freep) struct sbuf *b1 =
                reply_body(note, strlen(note), 10, id, 32, hashes, 32);
        _cleanup_(sbuf_freep) struct sbuf *b2 =
                reply_body(note, strlen(note), 10, id, 32, hashes, 32);
        _cleanup_(sbuf_freep) struct sbuf *b3 =
                reply_body(note, strlen(note), 0, id, 32, hashes, 32);
        reply_fails(b1, 10, -EBADMSG);
        reply_fails(b2, UINT64_MAX, -EBADMSG);
        reply_fails(b3, 0, -EBADMSG);
    }
    /* Trailing bytes, and every truncation. */
    {
        _cleanup_(sbuf_freep) struct sbuf *b =
                reply_body(note, strlen(note), 10, id, 32, hashes, 64);
        uint8_t *copy = malloc(sbuf_len(b) + 1);
        size_t n = sbuf_len(b);

        assert_non_null(copy);
        memcpy(copy, sbuf_ptr(b), n);
        copy[n] = 0;
        {
            _cleanup_(sbuf_freep) struct sbuf *t = sbuf_from(copy, n + 1);
            reply_fails(t, 9, -EBADMSG);
        }
        for (size_t cut = 0; cut < n; cut++) {
            _cleanup_(sbuf_freep) struct sbuf *t = sbuf_from(copy, cut);
            reply_fails(t, 9, 0);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kat_digest),
            cmocka_unit_test(test_kat_statement),
            cmocka_unit_test(test_determinism_and_hashes),
            cmocka_unit_test(test_fields_change_leaf),
            cmocka_unit_test(test_body_errors),
            cmocka_unit_test(test_parse_round_trip),
            cmocka_unit_test(test_parse_rejects),
            cmocka_unit_test(test_parse_pem_canonical),
            cmocka_unit_test(test_parse_every_member),
            cmocka_unit_test(test_parse_limits),
            cmocka_unit_test(test_tlog_kat),
            cmocka_unit_test(test_tlog_round_trips),
            cmocka_unit_test(test_tlog_rejects),
            cmocka_unit_test(test_tlog_every_member),
            cmocka_unit_test(test_tlog_proof_limit),
            cmocka_unit_test(test_tlog_build_errors),
            cmocka_unit_test(test_bundle_add),
            cmocka_unit_test(test_bundle_add_refuses),
            cmocka_unit_test(test_bundle_add_limit),
            cmocka_unit_test(test_log_proof_req),
            cmocka_unit_test(test_log_proof_reply),
            cmocka_unit_test(test_log_proof_reply_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
