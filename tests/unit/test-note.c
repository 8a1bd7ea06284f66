/* SPDX-License-Identifier: Apache-2.0 */
/*
 * note: the signed-note.md test vector quoted in FORMATS 7.1 (vkey parsed, key ID recomputed
 * by the generic formula, the Ed25519 signature verified by OpenSSL over the text through
 * note_verify); P-256 ECDSA notes signed here (type 0x02: key ID = SHA-256(DER SPKI)[:4], DER
 * signature over SHA-256(text)) against every verification rule; 16+ signatures; and every
 * malformed note, signature line and vkey we refuse.
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

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "format.h"
#include "macro.h"
#include "note.h"

#define VKEY     "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define VEC_TEXT "This is an example message.\n"
#define VEC_SIG                                                                                    \
    "\xe2\x80\x94 example.com/foo "                                                                \
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM"  \
    "=\n"
#define VEC_NOTE VEC_TEXT "\n" VEC_SIG

static EVP_PKEY *p256, *p256_other;

static int setup(void **state)
{
    p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p256_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return p256 && p256_other ? 0 : -1;
}

static int teardown(void **state)
{
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p256_other);
    return 0;
}

static int parse_str(const char *s, struct note **ret)
{
    return note_parse(s, strlen(s), ret);
}

static void test_vector_ed25519(void **state)
{
    _cleanup_(note_vkey_freep) struct note_vkey *vk = NULL;
    _cleanup_(note_freep) struct note *n = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
    _cleanup_free_ char *again = NULL, *line = NULL;
    const char *name, *text;
    const uint8_t *sig;
    size_t sig_len, text_len, line_len;
    uint32_t id = 0, kid = 0;
    bool ok[1] = {false};

    assert_int_equal(note_vkey_parse(VKEY, strlen(VKEY), &vk), 0);
    assert_string_equal(vk->name, "example.com/foo");
    assert_int_equal(vk->keyid, 0x530d903a);
    assert_int_equal(vk->sigtype, NOTE_SIGTYPE_ED25519);
    assert_int_equal(vk->key_len, 32);
    assert_int_equal(note_key_id(vk->name, vk->sigtype, vk->key, vk->key_len, &id), 0);
    assert_int_equal(id, 0x530d903a);
    assert_int_equal(
            note_vkey_format(vk->name, vk->keyid, vk->sigtype, vk->key, vk->key_len, &again), 0);
    assert_string_equal(again, VKEY);

    assert_int_equal(parse_str(VEC_NOTE, &n), 0);
    text = note_text(n, &text_len);
    assert_int_equal(text_len, strlen(VEC_TEXT));
    assert_string_equal(text, VEC_TEXT);
    assert_int_equal(note_n_signatures(n), 1);
    assert_int_equal(note_signature(n, 0, &name, &kid, &sig, &sig_len), 0);
    assert_string_equal(name, "example.com/foo");
    assert_int_equal(kid, 0x530d903a);
    assert_int_equal(sig_len, 64);
    assert_int_equal(note_signature(n, 1, &name, &kid, &sig, &sig_len), -ERANGE);
    assert_int_equal(note_format_signature(name, kid, sig, sig_len, &line, &line_len), 0);
    assert_string_equal(line, VEC_SIG);
    assert_int_equal(line_len, strlen(VEC_SIG));

    pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, vk->key, vk->key_len);
    assert_non_null(pk);
    {
        struct note_verifier v = {.name = vk->name, .keyid = vk->keyid, .pkey = pk};
        assert_int_equal(note_verify(n, &v, 1, ok), 1);
        assert_true(ok[0]);
    }
    /* One changed byte of text: the known key's signature fails, the note is rejected. */
    {
        _cleanup_(note_freep) struct note *bad = NULL;
        struct note_verifier v = {.name = vk->name, .keyid = vk->keyid, .pkey = pk};
        char buf[sizeof(VEC_NOTE)];
        memcpy(buf, VEC_NOTE, sizeof(buf));
        buf[0] = 't';
        assert_int_equal(parse_str(buf, &bad), 0);
        assert_int_equal(note_verify(bad, &v, 1, NULL), -EBADMSG);
    }
}

/* Bounded append (no strcat). */
static void append(char *buf, size_t cap, const char *s)
{
    size_t have = strlen(buf), add = strlen(s);
    assert_true(have + add < cap);
    memcpy(buf + have, s, add + 1);
}

static size_t spki_der(EVP_PKEY *k, uint8_t *out, size_t cap)
{
    uint8_t *p = out;
    int len = i2d_PUBKEY(k, NULL);
    assert_true(len > 0 && (size_t)len <= cap);
    assert_int_equal(i2d_PUBKEY(k, &p), len);
    return (size_t)len;
}

static uint32_t ecdsa_keyid(EVP_PKEY *k)
{
    uint8_t der[256], dg[32];
    size_t len = spki_der(k, der, sizeof(der));
    uint32_t id = 0;

    assert_int_equal(note_key_id_ecdsa(der, len, &id), 0);
    SHA256(der, len, dg);
    assert_int_equal(id, (uint32_t)dg[0] << 24 | (uint32_t)dg[1] << 16 | dg[2] << 8 | dg[3]);
    return id;
}

/* Appends "— name base64(keyid || DER ECDSA over SHA-256(text))\n" to note. */
static void append_sig(char *note, size_t cap, const char *text, EVP_PKEY *k, const char *name,
                       uint32_t keyid)
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    _cleanup_free_ char *line = NULL;
    uint8_t sig[128];
    size_t sig_len = sizeof(sig), line_len = 0;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (const uint8_t *)text, strlen(text)), 1);
    assert_int_equal(note_format_signature(name, keyid, sig, sig_len, &line, &line_len), 0);
    assert_int_equal(line_len, strlen(line));
    append(note, cap, line);
}

#define CP_TEXT "example.com/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

static void test_ecdsa_rules(void **state)
{
    uint32_t id = ecdsa_keyid(p256), id2 = ecdsa_keyid(p256_other);
    struct note_verifier known[2] = {
            {.name = "example.com/log", .keyid = id, .pkey = p256},
            {.name = "witness.example/w1", .keyid = id2, .pkey = p256_other},
    };
    char buf[4096];
    bool ok[2];

    /* Valid, one known key. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        snprintf(buf, sizeof(buf), "%s\n", CP_TEXT);
        append_sig(buf, sizeof(buf), CP_TEXT, p256, "example.com/log", id);
        assert_int_equal(parse_str(buf, &n), 0);
        memset(ok, 0x5a, sizeof(ok));
        assert_int_equal(note_verify(n, known, 1, ok), 1);
        assert_true(ok[0]);
        /* Two verifiers, only one signed: still accepted, ok[] says which. */
        assert_int_equal(note_verify(n, known, 2, ok), 1);
        assert_true(ok[0]);
        assert_false(ok[1]);
        /* Only the other key is known: nothing known verifies. */
        memset(ok, 0x5a, sizeof(ok));
        assert_int_equal(note_verify(n, known + 1, 1, ok), -ENOKEY);
        assert_int_equal(((uint8_t *)ok)[0], 0x5a); /* untouched on failure */
        assert_int_equal(note_verify(n, NULL, 0, NULL), -ENOKEY);
    }
    /* Unknown signatures are ignored: same name other ID, other name same ID, a foreign key,
     * even with garbage signature bytes; the known one still verifies. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        _cleanup_free_ char *junk = NULL;
        uint8_t garbage[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        snprintf(buf, sizeof(buf), "%s\n", CP_TEXT);
        append_sig(buf, sizeof(buf), CP_TEXT, p256_other, "example.com/log", id ^ 1);
        append_sig(buf, sizeof(buf), CP_TEXT, p256_other, "example.com/other", id);
        assert_int_equal(note_format_signature("example.com/log", id + 7, garbage, 8, &junk, NULL),
                         0);
        append(buf, sizeof(buf), junk);
        append_sig(buf, sizeof(buf), CP_TEXT, p256, "example.com/log", id);
        assert_int_equal(parse_str(buf, &n), 0);
        assert_int_equal(note_n_signatures(n), 4);
        assert_int_equal(note_verify(n, known, 1, NULL), 1);
    }
    /* Both keys signed: two distinct verified keys. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        snprintf(buf, sizeof(buf), "%s\n", CP_TEXT);
        append_sig(buf, sizeof(buf), CP_TEXT, p256_other, "witness.example/w1", id2);
        append_sig(buf, sizeof(buf), CP_TEXT, p256, "example.com/log", id);
        assert_int_equal(parse_str(buf, &n), 0);
        assert_int_equal(note_verify(n, known, 2, ok), 2);
        assert_true(ok[0] && ok[1]);
    }
    /* A known (name, id) whose signature is bad rejects the note, even beside a good one. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        snprintf(buf, sizeof(buf), "%s\n", CP_TEXT);
        append_sig(buf, sizeof(buf), CP_TEXT, p256, "example.com/log", id);
        append_sig(buf, sizeof(buf), CP_TEXT, p256_other, "example.com/log", id);
        assert_int_equal(parse_str(buf, &n), 0);
        assert_int_equal(note_verify(n, known, 1, NULL), -EBADMSG);
    }
    /* Tampered text (size 3 -> 4) under a valid-looking signature. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        char *p;
        snprintf(buf, sizeof(buf), "%s\n", CP_TEXT);
        append_sig(buf, sizeof(buf), CP_TEXT, p256, "example.com/log", id);
        p = strchr(buf, '3');
        assert_non_null(p);
        *p = '4';
        assert_int_equal(parse_str(buf, &n), 0);
        assert_int_equal(note_verify(n, known, 1, NULL), -EBADMSG);
    }
    /* Unsupported key type for a known signer. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
        struct note_verifier v = {.name = "example.com/log", .keyid = id, .pkey = x};
        assert_non_null(x);
        snprintf(buf, sizeof(buf), "%s\n", CP_TEXT);
        append_sig(buf, sizeof(buf), CP_TEXT, p256, "example.com/log", id);
        assert_int_equal(parse_str(buf, &n), 0);
        assert_int_equal(note_verify(n, &v, 1, NULL), -EOPNOTSUPP);
        v.pkey = NULL;
        assert_int_equal(note_verify(n, &v, 1, NULL), -EINVAL);
    }
}

/* The spec's floor of 16 signatures, and our limit. */
static void test_many_signatures(void **state)
{
    _cleanup_free_ char *buf = NULL;
    uint32_t id = ecdsa_keyid(p256);
    struct note_verifier v = {.name = "example.com/log", .keyid = id, .pkey = p256};
    size_t cap = 64 * 1024;

    buf = calloc(1, cap);
    assert_non_null(buf);
    snprintf(buf, cap, "%s\n", CP_TEXT);
    for (unsigned i = 0; i < NOTE_MAX_SIGNATURES; i++) {
        _cleanup_(note_freep) struct note *n = NULL;
        append_sig(buf, cap, CP_TEXT, i % 2 ? p256 : p256_other,
                   i % 2 ? "example.com/log" : "w.example/x", id);
        assert_int_equal(parse_str(buf, &n), 0);
        assert_int_equal(note_n_signatures(n), i + 1);
        if (i >= 1)
            assert_int_equal(note_verify(n, &v, 1, NULL), 1);
    }
    {
        _cleanup_(note_freep) struct note *n = (struct note *)0x1;
        append_sig(buf, cap, CP_TEXT, p256, "example.com/log", id);
        assert_int_equal(parse_str(buf, &n), -EMSGSIZE);
        assert_ptr_equal(n, (struct note *)0x1);
        n = NULL;
    }
}

static void test_malformed(void **state)
{
#define SIG_B64                                                                                    \
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
#define DASH "\xe2\x80\x94"
    static const char *const bad[] = {
            "",
            "\n",
            "\n\n",
            "text\n",                                       /* no blank line, no signature */
            "text\n\n",                                     /* blank line, no signature */
            "text\n" DASH " a " SIG_B64 "\n",               /* no blank line */
            "text\n\n" DASH " a " SIG_B64,                  /* no final newline */
            "text\r\n\n" DASH " a " SIG_B64 "\n",           /* CR */
            "te\txt\n\n" DASH " a " SIG_B64 "\n",           /* control character */
            "te\x01xt\n\n" DASH " a " SIG_B64 "\n",         /* control character */
            "te\xffxt\n\n" DASH " a " SIG_B64 "\n",         /* invalid UTF-8 */
            "te\xc0\xafxt\n\n" DASH " a " SIG_B64 "\n",     /* overlong */
            "te\xed\xa0\x80xt\n\n" DASH " a " SIG_B64 "\n", /* surrogate */
            "te\xe2\x80xt\n\n" DASH " a " SIG_B64 "\n",     /* truncated sequence */
            "text\n\n" DASH " a " SIG_B64 "\xe2\n",         /* truncated at the end */
            "text\n\n- a " SIG_B64 "\n",                    /* ASCII hyphen */
            "text\n\n" DASH "a " SIG_B64 "\n",              /* no space after dash */
            "text\n\n" DASH "  " SIG_B64 "\n",              /* empty name */
            "text\n\n" DASH " a+b " SIG_B64 "\n",           /* '+' in name */
            "text\n\n" DASH " a\xc2\xa0"
            "b " SIG_B64 "\n", /* NBSP in name */
            "text\n\n" DASH " a\xe3\x80\x80"
            "b " SIG_B64 "\n",                   /* ideographic space in name */
            "text\n\n" DASH " a " SIG_B64 " \n", /* trailing space */
            "text\n\n" DASH " a  " SIG_B64 "\n", /* double space */
            "text\n\n" DASH " a "
            "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72In"
            "eyaQ\n",                                            /* unpadded */
            "text\n\n" DASH " a Uw2Q_kn8\n",                     /* URL-safe alphabet */
            "text\n\n" DASH " a Uw2=Okn8\n",                     /* padding inside */
            "text\n\n" DASH " a Uw2QOl==\n",                     /* non-zero trailing bits */
            "text\n\n" DASH " a\n",                              /* no signature */
            "text\n\n" DASH " a \n",                             /* empty signature */
            "text\n\n" DASH " a Uw2Q\n",                         /* 3 bytes: short key ID */
            "text\n\n" DASH " a Uw2QOg==\n",                     /* key ID but no signature */
            "text\n\n" DASH " a " SIG_B64 "\n\n",                /* blank line after signatures */
            "text\n\n" DASH " a " SIG_B64 "\nnot a signature\n", /* junk line */
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct note *n = (struct note *)0x1;
        int r = note_parse(bad[i], strlen(bad[i]), &n);
        if (r != -EINVAL)
            fail_msg("case %zu: %d", i, r);
        assert_ptr_equal(n, (struct note *)0x1);
    }
    /* The separator is the last blank line: text may contain empty lines and dash lines. */
    {
        _cleanup_(note_freep) struct note *n = NULL;
        const char *s = "a\n\n" DASH " b " SIG_B64 "\n\n" DASH " c " SIG_B64 "\n";
        size_t tl;
        assert_int_equal(parse_str(s, &n), 0);
        assert_string_equal(note_text(n, &tl), "a\n\n" DASH " b " SIG_B64 "\n");
        assert_int_equal(note_n_signatures(n), 1);
    }
    /* Embedded NUL is a control character. */
    {
        struct note *n = NULL;
        static const char s[] = "te\0xt\n\n" DASH " a " SIG_B64 "\n";
        assert_int_equal(note_parse(s, sizeof(s) - 1, &n), -EINVAL);
    }
    /* Over the size limit. */
    {
        _cleanup_free_ char *big = malloc(NOTE_MAX_SIZE + 1);
        struct note *n = NULL;
        assert_non_null(big);
        memset(big, 'a', NOTE_MAX_SIZE + 1);
        assert_int_equal(note_parse(big, NOTE_MAX_SIZE + 1, &n), -EMSGSIZE);
    }
#undef DASH
}

static void test_vkey_and_format_errors(void **state)
{
    static const char *const bad[] = {
            "",
            "example.com/foo",
            "example.com/foo+530d903a",
            "example.com/foo+530d903a+",
            "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903ab+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x",
            "example.com/foo+530d903a+ AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "exam ple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AQ==",
    };
    _cleanup_free_ char *line = NULL;
    uint8_t one = 1;
    uint32_t id = 7;

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct note_vkey *k = (struct note_vkey *)0x1;
        int r = note_vkey_parse(bad[i], strlen(bad[i]), &k);
        if (r != -EINVAL)
            fail_msg("vkey case %zu: %d", i, r);
        assert_ptr_equal(k, (struct note_vkey *)0x1);
    }
    assert_int_equal(note_format_signature("a b", 1, &one, 1, &line, NULL), -EINVAL);
    assert_int_equal(note_format_signature("a+b", 1, &one, 1, &line, NULL), -EINVAL);
    assert_int_equal(note_format_signature("", 1, &one, 1, &line, NULL), -EINVAL);
    assert_int_equal(note_format_signature("a", 1, &one, 0, &line, NULL), -EINVAL);
    assert_null(line);
    assert_int_equal(note_vkey_format("a+b", 1, 1, &one, 1, &line), -EINVAL);
    assert_int_equal(note_key_id_ecdsa(NULL, 0, &id), -EINVAL);
    assert_int_equal(id, 7);
    assert_null(note_free(NULL));
    assert_null(note_vkey_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vector_ed25519),         cmocka_unit_test(test_ecdsa_rules),
            cmocka_unit_test(test_many_signatures),        cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_vkey_and_format_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
