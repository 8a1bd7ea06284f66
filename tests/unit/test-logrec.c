/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logrec: a known-answer body encoding written out byte by byte from the logrec.h grammar and
 * a chain known answer (python hashlib); encode/decode round trips of digest and statement
 * records; every malformed body (truncation at every offset, bad version/type, over-limit and
 * NUL-carrying text, subject count over the limit, wrong hash sizes, field rules, trailing
 * bytes); and logrec_scan over synthetic files built here (SHA-256 chain computed with one-shot
 * SHA256, not logrec_chain): clean, truncated at every offset, zero tails, single-byte flips in
 * every byte of an early record, duplicated / swapped / deleted records, bad magic, callback
 * errors. Outputs are poisoned before each failing call to prove ret_* stay untouched.
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

#include <openssl/sha.h>

#include "logrec.h"
#include "macro.h"
#include "sbuf.h"

#define POISON ((struct logrec *)(uintptr_t)0x5a5a5a5a)

/* ---- records ---- */

static struct logrec *new_rec(uint64_t seq, bool statement, size_t nsub)
{
    struct logrec *r = calloc(1, sizeof(*r));
    char buf[64];
    assert_non_null(r);
    r->seq = seq;
    r->time_ns = 1764100800000000000ull + seq * 1000000000ull;
    r->uid = 1000 + (uint32_t)(seq % 3);
    r->gid = 1000;
    r->pid = 4242 + (uint32_t)seq;
    r->exe = strdup("/usr/bin/cosign");
    r->unit = strdup("ci-runner.service");
    snprintf(buf, sizeof(buf), "key-%u", (unsigned)(seq % 2));
    r->key = strdup(buf);
    r->hash = 1; /* HWSIGN_HASH_SHA256 */
    r->digest_len = 32;
    memset(r->digest, (int)(0x10 + seq), 32);
    r->sig_len = 70;
    r->sig = malloc(r->sig_len);
    r->spki_len = 91;
    r->spki = malloc(r->spki_len);
    assert_non_null(r->sig);
    assert_non_null(r->spki);
    memset(r->sig, (int)(0x80 + seq), r->sig_len);
    memset(r->spki, 0x30, r->spki_len);
    if (statement) {
        r->request = LOGREC_STATEMENT;
        r->has_statement = true;
        r->has_envelope = true;
        memset(r->envelope_sha256, 0x44, 32);
        memset(r->statement_sha256, 0x33, 32);
        r->predicate_type = strdup("https://slsa.dev/provenance/v1");
        r->subjects = calloc(nsub ? nsub : 1, sizeof(*r->subjects));
        assert_non_null(r->subjects);
        r->nsubjects = nsub;
        for (size_t i = 0; i < nsub; i++) {
            snprintf(buf, sizeof(buf), "dist/pkg-%zu.tar.gz", i);
            r->subjects[i].name = strdup(buf);
            memset(r->subjects[i].sha256, (int)(0x40 + i), 32);
        }
    } else {
        r->request = LOGREC_DIGEST;
        r->predicate_type = strdup("");
    }
    return r;
}

static struct sbuf *encode(const struct logrec *r)
{
    struct sbuf *b = sbuf_new(LOGREC_MAX_BODY * 2);
    assert_non_null(b);
    assert_int_equal(logrec_encode_body(r, b), 0);
    return b;
}

static void assert_rec_equal(const struct logrec *a, const struct logrec *b)
{
    assert_true(a->seq == b->seq && a->time_ns == b->time_ns);
    assert_true(a->uid == b->uid && a->gid == b->gid && a->pid == b->pid);
    assert_string_equal(a->exe, b->exe);
    assert_string_equal(a->unit, b->unit);
    assert_string_equal(a->key, b->key);
    assert_int_equal(a->request, b->request);
    assert_int_equal(a->hash, b->hash);
    assert_int_equal(a->digest_len, b->digest_len);
    assert_memory_equal(a->digest, b->digest, a->digest_len);
    assert_int_equal(a->has_statement, b->has_statement);
    assert_memory_equal(a->statement_sha256, b->statement_sha256, 32);
    assert_string_equal(a->predicate_type ? a->predicate_type : "", b->predicate_type);
    assert_int_equal(a->nsubjects, b->nsubjects);
    for (size_t i = 0; i < a->nsubjects; i++) {
        assert_string_equal(a->subjects[i].name, b->subjects[i].name);
        assert_memory_equal(a->subjects[i].sha256, b->subjects[i].sha256, 32);
    }
    assert_int_equal(a->sig_len, b->sig_len);
    assert_memory_equal(a->sig, b->sig, a->sig_len);
    assert_int_equal(a->spki_len, b->spki_len);
    assert_memory_equal(a->spki, b->spki, a->spki_len);
    assert_int_equal(a->has_envelope, b->has_envelope);
    assert_memory_equal(a->envelope_sha256, b->envelope_sha256, 32);
    /* Decoding derives the signature's SHA-256 (computed here with one-shot SHA256). */
    {
        uint8_t h[32];
        SHA256(a->sig, a->sig_len, h);
        assert_memory_equal(b->signature_sha256, h, 32);
    }
}

/* ---- codec ---- */

static void test_known_answer(void **state)
{
    (void)state;
    _cleanup_(logrec_freep) struct logrec *r = calloc(1, sizeof(*r));
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    _cleanup_(logrec_freep) struct logrec *d = NULL;
    /* Written out from the grammar in logrec.h, field by field. */
    static const uint8_t want[] = {
            0x02, 0x01,                                                          /* version, type */
            0,    0,    0,    0,    0,    0,    0,    7,                         /* seq */
            0,    0,    0,    0,    0,    0,    0x01, 0x00,                      /* time_ns = 256 */
            0,    0,    0x03, 0xe8, 0,    0,    0x03, 0xe9, 0,    0,    0,    9, /* uid 1000, gid
                                                                                    1001, pid 9 */
            0,    0,    0,    2,    '/',  'x',                                   /* exe */
            0,    0,    0,    0,                                                 /* unit "" */
            0,    0,    0,    1,    'k',                                         /* key */
            0x01, 0x01, /* request digest, sha256 */
            0,    0,    0,    32,   0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
            0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
            0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, /* digest */
            0,    0,    0,    0,                                        /* statement_sha256 "" */
            0,    0,    0,    0,                                        /* predicate_type "" */
            0,    0,    0,    0,                                        /* nsubjects */
            0,    0,    0,    3,    0xbb, 0xbc, 0xbd,                   /* signature */
            0,    0,    0,    2,    0x30, 0x00,                         /* spki */
            0,    0,    0,    0,                                        /* envelope_sha256 "" */
    };
    static uint8_t sig[] = {0xbb, 0xbc, 0xbd}, spki[] = {0x30, 0x00};
    assert_non_null(r);
    r->seq = 7;
    r->time_ns = 256;
    r->uid = 1000;
    r->gid = 1001;
    r->pid = 9;
    r->exe = strdup("/x");
    r->unit = NULL; /* NULL encodes as "" */
    r->key = strdup("k");
    r->request = LOGREC_DIGEST;
    r->hash = 1;
    r->digest_len = 32;
    memset(r->digest, 0xaa, 32);
    r->sig = malloc(sizeof(sig));
    r->spki = malloc(sizeof(spki));
    assert_non_null(r->sig);
    assert_non_null(r->spki);
    memcpy(r->sig, sig, sizeof(sig));
    memcpy(r->spki, spki, sizeof(spki));
    r->sig_len = sizeof(sig);
    r->spki_len = sizeof(spki);
    b = encode(r);
    assert_int_equal(sbuf_len(b), sizeof(want));
    assert_memory_equal(sbuf_ptr(b), want, sizeof(want));
    assert_int_equal(logrec_decode_body(want, sizeof(want), &d), 0);
    assert_string_equal(d->unit, "");
    assert_string_equal(d->predicate_type, "");
    assert_int_equal(d->seq, 7);
}

static void test_chain_known_answer(void **state)
{
    (void)state;
    static const uint8_t zero[32];
    /* python3: hashlib.sha256(bytes(32) + b'abc').hexdigest() */
    static const uint8_t want[32] = {
            0x36, 0x5a, 0xa7, 0xd8, 0xf7, 0xf9, 0x40, 0x2c, 0x4b, 0x94, 0x34,
            0x50, 0x2b, 0x4c, 0xc8, 0x9d, 0xdb, 0x09, 0xfe, 0x50, 0xd7, 0xcd,
            0x95, 0xb4, 0x93, 0xb8, 0x34, 0xc6, 0x2d, 0x5a, 0x53, 0x70,
    };
    uint8_t out[32];
    assert_int_equal(logrec_chain(zero, (const uint8_t *)"abc", 3, out), 0);
    assert_memory_equal(out, want, 32);
}

static void test_roundtrip(void **state)
{
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        _cleanup_(logrec_freep) struct logrec *r =
                new_rec(42, kind > 0, kind == 2 ? LOGREC_MAX_SUBJECTS / 2 : 0);
        _cleanup_(logrec_freep) struct logrec *d = NULL;
        _cleanup_(sbuf_freep) struct sbuf *b = encode(r);
        _cleanup_(sbuf_freep) struct sbuf *b2 = NULL;
        assert_int_equal(logrec_decode_body(sbuf_ptr(b), sbuf_len(b), &d), 0);
        assert_rec_equal(r, d);
        b2 = encode(d);
        assert_int_equal(sbuf_len(b), sbuf_len(b2));
        assert_memory_equal(sbuf_ptr(b), sbuf_ptr(b2), sbuf_len(b));
    }
    /* sha384 / sha512 digests. */
    for (uint8_t h = 2; h <= 3; h++) {
        _cleanup_(logrec_freep) struct logrec *r = new_rec(1, false, 0);
        _cleanup_(logrec_freep) struct logrec *d = NULL;
        r->hash = h;
        r->digest_len = h == 2 ? 48 : 64;
        _cleanup_(sbuf_freep) struct sbuf *b = encode(r);
        assert_int_equal(logrec_decode_body(sbuf_ptr(b), sbuf_len(b), &d), 0);
        assert_rec_equal(r, d);
    }
}

/* Field rules and limits on encode: -EINVAL / -EMSGSIZE, and out is left unchanged. */
static void test_encode_invalid(void **state)
{
    (void)state;
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(LOGREC_MAX_BODY * 2);
    assert_non_null(b);
    assert_int_equal(sbuf_put(b, "xyz", 3), 0);

    for (int i = 0; i < 19; i++) {
        bool stmt = i >= 9 && i != 17; /* case 17 needs a digest record */
        _cleanup_(logrec_freep) struct logrec *r = new_rec(3, stmt, stmt ? 2 : 0);
        char *big = malloc(LOGREC_MAX_TEXT + 2);
        int want = -EINVAL;
        assert_non_null(big);
        memset(big, 'a', LOGREC_MAX_TEXT + 1);
        big[LOGREC_MAX_TEXT + 1] = '\0';
        switch (i) {
        case 0:
            r->request = 0;
            break;
        case 1:
            r->request = 3;
            break;
        case 2:
            r->hash = 0;
            break;
        case 3:
            r->hash = 9;
            break;
        case 4:
            r->digest_len = 31;
            break;
        case 5:
            free(r->exe);
            r->exe = TAKE_PTR(big);
            break;
        case 6:
            free(r->key);
            r->key = strdup("");
            break;
        case 7:
            r->has_statement = true;
            break;
        case 8:
            free(r->predicate_type);
            r->predicate_type = strdup("x");
            break;
        case 9:
            r->has_statement = false;
            break;
        case 10:
            free(r->predicate_type);
            r->predicate_type = strdup("");
            break;
        case 11:
            free(r->subjects[1].name);
            r->subjects[1].name = TAKE_PTR(big);
            break;
        case 12:
            r->nsubjects = LOGREC_MAX_SUBJECTS + 1;
            want = -EMSGSIZE;
            break;
        case 13:
            free(r->unit);
            r->unit = TAKE_PTR(big);
            break;
        case 14: /* no signature */
            r->sig_len = 0;
            break;
        case 15: /* signature over the limit */
            r->sig_len = LOGREC_MAX_SIG + 1;
            break;
        case 16: /* no key */
            free(r->spki);
            r->spki = NULL;
            break;
        case 17: /* a digest record with an envelope hash */
            r->has_envelope = true;
            break;
        case 18: /* a statement record without one (i >= 9: statements) */
            r->has_envelope = false;
            break;
        }
        free(big);
        if (i == 12) {
            /* Refused on the count, before the (short) array is read. */
            assert_int_equal(logrec_encode_body(r, b), want);
            r->nsubjects = 2;
        } else {
            assert_int_equal(logrec_encode_body(r, b), want);
        }
        assert_int_equal(sbuf_len(b), 3);
    }

    /* Over LOGREC_MAX_BODY: 20 subjects with 4000-byte names. */
    {
        _cleanup_(logrec_freep) struct logrec *r = new_rec(3, true, 20);
        for (size_t i = 0; i < 20; i++) {
            free(r->subjects[i].name);
            r->subjects[i].name = malloc(4001);
            assert_non_null(r->subjects[i].name);
            memset(r->subjects[i].name, 'n', 4000);
            r->subjects[i].name[4000] = '\0';
        }
        assert_int_equal(logrec_encode_body(r, b), -EMSGSIZE);
        assert_int_equal(sbuf_len(b), 3);
    }
    /* Output buffer too small: -EMSGSIZE and nothing left behind. */
    {
        _cleanup_(logrec_freep) struct logrec *r = new_rec(3, false, 0);
        _cleanup_(sbuf_freep) struct sbuf *small = sbuf_new(40);
        assert_non_null(small);
        assert_int_equal(logrec_encode_body(r, small), -EMSGSIZE);
        assert_int_equal(sbuf_len(small), 0);
    }
}

/* ---- crafted bodies for the decoder ---- */

struct craft {
    uint8_t version, type, request, hash;
    const char *exe;
    size_t exe_len; /* 0: strlen */
    const char *key;
    size_t digest_len, stmt_len, sig_len, subj_hash_len, spki_len, env_len;
    const char *ptype;
    uint32_t nsub_declared;
    size_t nsub_written;
    size_t name_len; /* 0: short name */
};

static const struct craft good_digest = {
        .version = 2,
        .type = 1,
        .request = 1,
        .hash = 1,
        .exe = "/bin/x",
        .key = "k",
        .digest_len = 32,
        .stmt_len = 0,
        .sig_len = 71,
        .spki_len = 91,
        .env_len = 0,
        .ptype = "",
};
static const struct craft good_stmt = {
        .version = 2,
        .type = 1,
        .request = 2,
        .hash = 1,
        .exe = "/bin/x",
        .key = "k",
        .digest_len = 32,
        .stmt_len = 32,
        .sig_len = 71,
        .spki_len = 91,
        .env_len = 32,
        .subj_hash_len = 32,
        .ptype = "https://in-toto.io/attestation/v1",
        .nsub_declared = 2,
        .nsub_written = 2,
};

static struct sbuf *craft_body(const struct craft *c)
{
    struct sbuf *b = sbuf_new(1u << 20);
    static uint8_t bytes[LOGREC_MAX_TEXT + 64];
    memset(bytes, 'z', sizeof(bytes));
    assert_non_null(b);
    assert_int_equal(sbuf_put_u8(b, c->version), 0);
    assert_int_equal(sbuf_put_u8(b, c->type), 0);
    assert_int_equal(sbuf_put_u64(b, 0), 0);
    assert_int_equal(sbuf_put_u64(b, 5), 0);
    assert_int_equal(sbuf_put_u32(b, 1), 0);
    assert_int_equal(sbuf_put_u32(b, 2), 0);
    assert_int_equal(sbuf_put_u32(b, 3), 0);
    assert_int_equal(sbuf_put_string(b, c->exe, c->exe_len ? c->exe_len : strlen(c->exe)), 0);
    assert_int_equal(sbuf_put_cstring(b, "u"), 0);
    assert_int_equal(sbuf_put_cstring(b, c->key), 0);
    assert_int_equal(sbuf_put_u8(b, c->request), 0);
    assert_int_equal(sbuf_put_u8(b, c->hash), 0);
    assert_int_equal(sbuf_put_string(b, bytes, c->digest_len), 0);
    assert_int_equal(sbuf_put_string(b, bytes, c->stmt_len), 0);
    assert_int_equal(sbuf_put_cstring(b, c->ptype), 0);
    assert_int_equal(sbuf_put_u32(b, c->nsub_declared), 0);
    for (size_t i = 0; i < c->nsub_written; i++) {
        assert_int_equal(sbuf_put_string(b, bytes, c->name_len ? c->name_len : 3), 0);
        assert_int_equal(sbuf_put_string(b, bytes, c->subj_hash_len), 0);
    }
    assert_int_equal(sbuf_put_string(b, bytes, c->sig_len), 0);
    assert_int_equal(sbuf_put_string(b, bytes, c->spki_len), 0);
    assert_int_equal(sbuf_put_string(b, bytes, c->env_len), 0);
    return b;
}

static void expect_decode(const struct craft *c, int want)
{
    _cleanup_(sbuf_freep) struct sbuf *b = craft_body(c);
    struct logrec *d = POISON;
    int r = logrec_decode_body(sbuf_ptr(b), sbuf_len(b), &d);
    assert_int_equal(r, want);
    if (r == 0)
        logrec_free(d);
    else
        assert_ptr_equal(d, POISON);
}

static void test_decode_malformed(void **state)
{
    (void)state;
    struct craft c;
    static char nul_exe[] = {'/', 'b', '\0', 'x'};

    expect_decode(&good_digest, 0);
    expect_decode(&good_stmt, 0);

#define CASE(base, field, value)                                                                   \
    do {                                                                                           \
        c = (base);                                                                                \
        c.field = (value);                                                                         \
        expect_decode(&c, -EBADMSG);                                                               \
    } while (0)
    CASE(good_digest, version, 0);
    CASE(good_digest, version, 1); /* the format before signatures and keys were kept */
    CASE(good_digest, version, 3);
    CASE(good_digest, type, 0);
    CASE(good_digest, type, 2);
    CASE(good_digest, request, 0);
    CASE(good_digest, request, 3);
    CASE(good_digest, hash, 0);
    CASE(good_digest, hash, 4);
    CASE(good_digest, digest_len, 31);
    CASE(good_digest, digest_len, 48); /* sha256 id with a 48-byte digest */
    CASE(good_digest, digest_len, 65);
    CASE(good_digest, stmt_len, 32); /* a digest record with a statement hash */
    CASE(good_digest, ptype, "x");   /* ... with a predicate type */
    CASE(good_digest, nsub_declared, 1);
    CASE(good_digest, sig_len, 0);
    CASE(good_digest, sig_len, LOGREC_MAX_SIG + 1);
    CASE(good_digest, spki_len, 0);
    CASE(good_digest, spki_len, LOGREC_MAX_SPKI + 1);
    CASE(good_digest, env_len, 32); /* a digest record with an envelope hash */
    CASE(good_stmt, env_len, 0);    /* a statement record without one */
    CASE(good_stmt, env_len, 31);
    CASE(good_digest, key, ""); /* a record always names its key */
    CASE(good_stmt, stmt_len, 0);
    CASE(good_stmt, stmt_len, 31);
    CASE(good_stmt, ptype, "");
    CASE(good_stmt, subj_hash_len, 31);
    CASE(good_stmt, subj_hash_len, 0);
    CASE(good_stmt, nsub_declared, 3); /* more declared than present */
    CASE(good_stmt, nsub_declared, 1); /* fewer: the rest is trailing garbage */
    CASE(good_stmt, nsub_declared, LOGREC_MAX_SUBJECTS + 1);
    CASE(good_stmt, nsub_declared, UINT32_MAX);
    /* NUL inside a text field. */
    c = good_digest;
    c.exe = nul_exe;
    c.exe_len = sizeof(nul_exe);
    expect_decode(&c, -EBADMSG);
    /* Text at the limit is fine, one over is not. */
    {
        _cleanup_free_ char *t = malloc(LOGREC_MAX_TEXT + 2);
        assert_non_null(t);
        memset(t, 'e', LOGREC_MAX_TEXT + 1);
        t[LOGREC_MAX_TEXT + 1] = '\0';
        c = good_digest;
        c.exe = t;
        c.exe_len = LOGREC_MAX_TEXT;
        expect_decode(&c, 0);
        c.exe_len = LOGREC_MAX_TEXT + 1;
        expect_decode(&c, -EBADMSG);
        t[LOGREC_MAX_TEXT] = '\0';
        c = good_stmt;
        c.ptype = t;
        expect_decode(&c, 0);
        c = good_digest;
        c.key = t;
        expect_decode(&c, 0);
        t[LOGREC_MAX_TEXT] = 'e';
        c.key = t;
        expect_decode(&c, -EBADMSG);
        c = good_stmt;
        c.name_len = LOGREC_MAX_TEXT + 1;
        expect_decode(&c, -EBADMSG);
    }
    /* The subject limit itself is accepted (when it fits the body limit). */
    c = good_stmt;
    c.nsub_declared = LOGREC_MAX_SUBJECTS;
    c.nsub_written = LOGREC_MAX_SUBJECTS;
    c.name_len = 1;
    expect_decode(&c, 0);
#undef CASE

    /* Truncation at every offset, and one trailing byte. */
    for (int k = 0; k < 2; k++) {
        _cleanup_(sbuf_freep) struct sbuf *b = craft_body(k ? &good_stmt : &good_digest);
        for (size_t n = 0; n < sbuf_len(b); n++) {
            struct logrec *d = POISON;
            assert_int_equal(logrec_decode_body(sbuf_ptr(b), n, &d), -EBADMSG);
            assert_ptr_equal(d, POISON);
        }
        assert_int_equal(sbuf_put_u8(b, 0), 0);
        struct logrec *d = POISON;
        assert_int_equal(logrec_decode_body(sbuf_ptr(b), sbuf_len(b), &d), -EBADMSG);
        assert_ptr_equal(d, POISON);
    }
    /* A body over LOGREC_MAX_BODY is refused before parsing. */
    {
        _cleanup_free_ uint8_t *big = calloc(1, LOGREC_MAX_BODY + 1);
        struct logrec *d = POISON;
        assert_non_null(big);
        assert_int_equal(logrec_decode_body(big, LOGREC_MAX_BODY + 1, &d), -EBADMSG);
        assert_ptr_equal(d, POISON);
    }
}

/* ---- synthetic log files ---- */

#define NREC 256

struct image {
    uint8_t *data;
    size_t len;
    size_t off[NREC + 1]; /* offset of record i; off[n] = end */
    uint8_t chain[NREC][32];
    size_t n;
};

static void put_raw(struct image *im, const void *p, size_t n)
{
    im->data = realloc(im->data, im->len + n);
    assert_non_null(im->data);
    memcpy(im->data + im->len, p, n);
    im->len += n;
}

/* n records (every third a statement) with a chain computed by one-shot SHA256. */
static void build(struct image *im, size_t n)
{
    uint8_t prev[32] = {0};
    memset(im, 0, sizeof(*im));
    put_raw(im, LOGREC_MAGIC, LOGREC_MAGIC_LEN);
    for (size_t i = 0; i < n; i++) {
        _cleanup_(logrec_freep) struct logrec *r = new_rec(i, i % 3 == 1, i % 5);
        _cleanup_(sbuf_freep) struct sbuf *b = encode(r);
        _cleanup_free_ uint8_t *cat = malloc(32 + sbuf_len(b));
        uint32_t blen = (uint32_t)sbuf_len(b);
        uint8_t be[4] = {(uint8_t)(blen >> 24), (uint8_t)(blen >> 16), (uint8_t)(blen >> 8),
                         (uint8_t)blen};
        assert_non_null(cat);
        memcpy(cat, prev, 32);
        memcpy(cat + 32, sbuf_ptr(b), blen);
        SHA256(cat, 32 + blen, prev);
        im->off[i] = im->len;
        put_raw(im, be, 4);
        put_raw(im, sbuf_ptr(b), blen);
        put_raw(im, prev, 32);
        memcpy(im->chain[i], prev, 32);
    }
    im->off[n] = im->len;
    im->n = n;
}

static void image_free(struct image *im)
{
    free(im->data);
    im->data = NULL;
}

struct cb_state {
    uint64_t calls;
    uint64_t stop_at;
};

static int count_cb(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
                    const uint8_t chain[static LOGREC_HASH])
{
    struct cb_state *s = ctx;
    (void)body;
    (void)chain;
    assert_true(r->seq == s->calls);
    assert_true(body_len > 0);
    if (s->stop_at && s->calls == s->stop_at)
        return -ECANCELED;
    s->calls++;
    return 0;
}

struct scan_result {
    int r;
    size_t end;
    uint64_t count;
    uint8_t chain[32];
    bool torn;
};

static struct scan_result scan(const uint8_t *d, size_t len)
{
    struct scan_result s = {.end = 0xdead, .count = 0xdead, .torn = true};
    struct cb_state cs = {0};
    memset(s.chain, 0x77, 32);
    s.r = logrec_scan(d, len, count_cb, &cs, &s.end, &s.count, s.chain, &s.torn);
    if (s.r == 0 || s.r == -EBADMSG)
        assert_true(cs.calls == s.count);
    return s;
}

static void expect_clean(struct scan_result s, const struct image *im, size_t count, bool torn)
{
    static const uint8_t zero[32];
    assert_int_equal(s.r, 0);
    assert_int_equal(s.count, count);
    assert_int_equal(s.end, im->off[count]);
    assert_memory_equal(s.chain, count ? im->chain[count - 1] : zero, 32);
    assert_int_equal(s.torn, torn);
}

/* Damage after count valid records; bad_magic: before any (ret_end 0). */
static void expect_damage_at(struct scan_result s, const struct image *im, size_t count,
                             bool bad_magic)
{
    static const uint8_t zero[32];
    assert_int_equal(s.r, -EBADMSG);
    assert_int_equal(s.count, count);
    assert_int_equal(s.end, bad_magic ? 0 : im->off[count]);
    assert_memory_equal(s.chain, count ? im->chain[count - 1] : zero, 32);
    assert_false(s.torn);
}

static void expect_damage(struct scan_result s, const struct image *im, size_t count)
{
    expect_damage_at(s, im, count, false);
}

static void test_scan_clean(void **state)
{
    (void)state;
    struct image im;
    build(&im, 8);
    expect_clean(scan(im.data, im.len), &im, 8, false);
    /* Magic only: an empty log. */
    expect_clean(scan(im.data, LOGREC_MAGIC_LEN), &im, 0, false);
    /* No callback. */
    {
        size_t end;
        uint64_t count;
        uint8_t chain[32];
        bool torn;
        assert_int_equal(logrec_scan(im.data, im.len, NULL, NULL, &end, &count, chain, &torn), 0);
        assert_int_equal(count, 8);
    }
    image_free(&im);
}

static void test_scan_truncated(void **state)
{
    (void)state;
    struct image im;
    build(&im, 8);
    /* Every truncation point: at a boundary clean, inside a record (its length, body or chain)
     * a torn tail after the records before it; inside the magic: damage. */
    for (size_t t = 0; t < im.len; t++) {
        struct scan_result s = scan(im.data, t);
        if (t < LOGREC_MAGIC_LEN) {
            expect_damage_at(s, &im, 0, true);
            continue;
        }
        size_t k = 0;
        while (k < im.n && im.off[k + 1] <= t)
            k++;
        expect_clean(s, &im, k, t != im.off[k]);
    }
    image_free(&im);
}

static void test_scan_zero_tail(void **state)
{
    (void)state;
    struct image im;
    static const uint8_t zeros[4096];
    build(&im, 5);
    for (size_t z = 1; z <= sizeof(zeros); z = z * 2 + 1) {
        _cleanup_free_ uint8_t *d = malloc(im.len + z);
        assert_non_null(d);
        memcpy(d, im.data, im.len);
        memcpy(d + im.len, zeros, z);
        expect_clean(scan(d, im.len + z), &im, 5, true);
        /* Last record's data lost from some point on (file extended, blocks unwritten). */
        memset(d + im.off[4] + 4, 0, im.len - im.off[4] - 4);
        expect_clean(scan(d, im.len + z), &im, 4, true);
        memset(d + im.off[4], 0, im.len - im.off[4]);
        expect_clean(scan(d, im.len + z), &im, 4, true);
    }
    /* Zeros followed by anything non-zero are damage, not a tail. */
    {
        _cleanup_free_ uint8_t *d = malloc(im.len + 100);
        assert_non_null(d);
        memcpy(d, im.data, im.len);
        memset(d + im.len, 0, 100);
        d[im.len + 99] = 1;
        expect_damage(scan(d, im.len + 100), &im, 5);
    }
    image_free(&im);
}

static void test_scan_flips(void **state)
{
    (void)state;
    struct image im;
    build(&im, NREC);
    /* Enough data after record 1 that any length up to the limit stays inside the file. */
    assert_true(im.len - im.off[2] > LOGREC_MAX_BODY + 36);
    for (size_t rec = 0; rec < 3; rec++) {
        for (size_t p = im.off[rec]; p < im.off[rec + 1]; p++) {
            static const uint8_t masks[] = {0x01, 0x80, 0xff};
            for (size_t m = 0; m < ELEMENTSOF(masks); m++) {
                im.data[p] ^= masks[m];
                expect_damage(scan(im.data, im.len), &im, rec);
                im.data[p] ^= masks[m];
            }
        }
    }
    /* A flip in the last record cannot be told from a torn final write (documented): it is a
     * torn tail, and only a saved checkpoint (size, root) shows the loss. */
    im.data[im.off[NREC - 1] + 20] ^= 1;
    expect_clean(scan(im.data, im.len), &im, NREC - 1, true);
    im.data[im.off[NREC - 1] + 20] ^= 1;
    /* A length over the limit is damage even where it points past the end of the data. */
    im.data[im.off[NREC - 1]] ^= 0x01;
    expect_damage(scan(im.data, im.len), &im, NREC - 1);
    im.data[im.off[NREC - 1]] ^= 0x01;
    expect_clean(scan(im.data, im.len), &im, NREC, false);
    image_free(&im);
}

/* Splice records of im into a new file: order[] lists record indices. */
static void splice(const struct image *im, const size_t *order, size_t n, uint8_t **ret,
                   size_t *ret_len)
{
    size_t len = LOGREC_MAGIC_LEN;
    for (size_t i = 0; i < n; i++)
        len += im->off[order[i] + 1] - im->off[order[i]];
    uint8_t *d = malloc(len);
    assert_non_null(d);
    memcpy(d, LOGREC_MAGIC, LOGREC_MAGIC_LEN);
    size_t at = LOGREC_MAGIC_LEN;
    for (size_t i = 0; i < n; i++) {
        size_t rl = im->off[order[i] + 1] - im->off[order[i]];
        memcpy(d + at, im->data + im->off[order[i]], rl);
        at += rl;
    }
    *ret = d;
    *ret_len = len;
}

static void test_scan_reorder(void **state)
{
    (void)state;
    struct image im;
    build(&im, 8);
    static const size_t dup[] = {0, 1, 2, 2, 3, 4, 5, 6, 7};
    static const size_t swap[] = {0, 1, 3, 2, 4, 5, 6, 7};
    static const size_t del[] = {0, 1, 2, 4, 5, 6, 7};
    static const size_t del_first[] = {1, 2, 3, 4, 5, 6, 7};
    static const size_t dup_last[] = {0, 1, 2, 3, 4, 5, 6, 7, 7};
    static const struct {
        const size_t *order;
        size_t n, good;
    } cases[] = {
            {dup, ELEMENTSOF(dup), 3},
            {swap, ELEMENTSOF(swap), 2},
            {del, ELEMENTSOF(del), 3},
            {del_first, ELEMENTSOF(del_first), 0},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ uint8_t *d = NULL;
        size_t len;
        splice(&im, cases[i].order, cases[i].n, &d, &len);
        expect_damage(scan(d, len), &im, cases[i].good);
    }
    /* A duplicated final record is a record with the wrong seq that reaches the end. */
    {
        _cleanup_free_ uint8_t *d = NULL;
        size_t len;
        splice(&im, dup_last, ELEMENTSOF(dup_last), &d, &len);
        expect_clean(scan(d, len), &im, 8, true);
    }
    image_free(&im);
}

static void test_scan_magic_and_args(void **state)
{
    (void)state;
    struct image im;
    size_t end = 99;
    uint64_t count = 99;
    uint8_t chain[32];
    bool torn = true;
    build(&im, 3);
    for (size_t i = 0; i < LOGREC_MAGIC_LEN; i++) {
        im.data[i] ^= 0x20;
        expect_damage_at(scan(im.data, im.len), &im, 0, true);
        im.data[i] ^= 0x20;
    }
    expect_damage_at(scan(NULL, 0), &im, 0, true);
    /* Bad arguments: -EINVAL, outputs untouched. */
    memset(chain, 0x77, sizeof(chain));
    assert_int_equal(logrec_scan(NULL, 5, NULL, NULL, &end, &count, chain, &torn), -EINVAL);
    assert_int_equal(logrec_scan(im.data, im.len, NULL, NULL, NULL, &count, chain, &torn), -EINVAL);
    assert_int_equal(end, 99);
    assert_int_equal(count, 99);
    assert_true(torn);
    /* A callback error stops the scan and is returned as is, outputs untouched. */
    {
        struct cb_state cs = {.stop_at = 2};
        assert_int_equal(logrec_scan(im.data, im.len, count_cb, &cs, &end, &count, chain, &torn),
                         -ECANCELED);
        assert_int_equal(cs.calls, 2);
        assert_int_equal(end, 99);
        assert_int_equal(count, 99);
        assert_int_equal(chain[0], 0x77);
    }
    image_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_known_answer),        cmocka_unit_test(test_chain_known_answer),
            cmocka_unit_test(test_roundtrip),           cmocka_unit_test(test_encode_invalid),
            cmocka_unit_test(test_decode_malformed),    cmocka_unit_test(test_scan_clean),
            cmocka_unit_test(test_scan_truncated),      cmocka_unit_test(test_scan_zero_tail),
            cmocka_unit_test(test_scan_flips),          cmocka_unit_test(test_scan_reorder),
            cmocka_unit_test(test_scan_magic_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
