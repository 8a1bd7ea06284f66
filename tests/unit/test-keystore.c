/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key records and the key store (agent/keystore.c): record text round trip with a real P-256
 * public key, refusal of damaged records, and the store on a temporary directory
 * (reserve/commit/find/remove, persistence, corrupt files skipped and counted, limits).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "format.h"
#include "keystore.h"
#include "macro.h"

struct ks_fixture {
    uint8_t p256[HWSIGN_MAX_SPKI];
    size_t p256_len;
    uint8_t p384[HWSIGN_MAX_SPKI];
    size_t p384_len;
    char dir[64];
};

static size_t gen_spki(const char *curve, uint8_t *out)
{
    EVP_PKEY *k = EVP_EC_gen(curve);
    unsigned char *p = out;
    int n;

    assert_non_null(k);
    n = i2d_PUBKEY(k, NULL);
    assert_true(n > 0 && (size_t)n <= HWSIGN_MAX_SPKI);
    assert_int_equal(i2d_PUBKEY(k, &p), n);
    EVP_PKEY_free(k);
    return (size_t)n;
}

static int group_setup(void **state)
{
    struct ks_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->p256_len = gen_spki("P-256", f->p256);
    f->p384_len = gen_spki("P-384", f->p384);
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    free(*state);
    return 0;
}

static void rm_rf(const char *dir)
{
    char keys[128];
    DIR *d;
    struct dirent *de;

    (void)snprintf(keys, sizeof(keys), "%s/keys", dir);
    d = opendir(keys);
    if (d) {
        while ((de = readdir(d))) {
            char p[512];
            if (de->d_name[0] == '.')
                continue;
            (void)snprintf(p, sizeof(p), "%s/%s", keys, de->d_name);
            (void)unlink(p);
        }
        closedir(d);
    }
    (void)rmdir(keys);
    (void)rmdir(dir);
}

static int dir_setup(void **state)
{
    struct ks_fixture *f = *state;
    memcpy(f->dir, "/tmp/hwsign-keystore-XXXXXX", sizeof("/tmp/hwsign-keystore-XXXXXX"));
    return mkdtemp(f->dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
    struct ks_fixture *f = *state;
    rm_rf(f->dir);
    return 0;
}

static struct key_record make_record(const struct ks_fixture *f, const char *name)
{
    struct key_record r = {0};

    (void)snprintf(r.name, sizeof(r.name), "%s", name);
    memcpy(r.backend, "softhsm", sizeof("softhsm"));
    memcpy(r.kind, "pkcs11", sizeof("pkcs11"));
    r.alg = HWSIGN_ALG_ECDSA_P256;
    (void)snprintf(r.locator, sizeof(r.locator), "pkcs11:token=demo;object=%s;type=private", name);
    r.created = 1732500000u;
    memcpy(r.spki, f->p256, f->p256_len);
    r.spki_len = f->p256_len;
    return r;
}

static void assert_record_equal(const struct key_record *a, const struct key_record *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->backend, b->backend);
    assert_string_equal(a->kind, b->kind);
    assert_int_equal(a->alg, b->alg);
    assert_string_equal(a->locator, b->locator);
    assert_true(a->created == b->created);
    assert_int_equal(a->spki_len, b->spki_len);
    assert_memory_equal(a->spki, b->spki, a->spki_len);
    assert_false(a->pending);
}

static void test_record_round_trip(void **state)
{
    struct ks_fixture *f = *state;
    struct key_record in = make_record(f, "release-2025"), out;
    char *text;
    size_t len;

    assert_int_equal(key_record_format(&in, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "name=release-2025\n"));
    assert_non_null(strstr(text, "alg=ecdsa-p256\n"));
    memset(&out, 0xA5, sizeof(out));
    assert_int_equal(key_record_parse(text, len, &out), 0);
    assert_record_equal(&out, &in);
    free(text);

    /* P-384 record, maximal locator. */
    in = make_record(f, "p384");
    in.alg = HWSIGN_ALG_ECDSA_P384;
    memcpy(in.spki, f->p384, f->p384_len);
    in.spki_len = f->p384_len;
    memset(in.locator, 'L', HWSIGN_MAX_URI);
    in.locator[HWSIGN_MAX_URI] = '\0';
    in.created = UINT64_MAX;
    assert_int_equal(key_record_format(&in, &text, &len), 0);
    assert_int_equal(key_record_parse(text, len, &out), 0);
    assert_record_equal(&out, &in);
    free(text);
}

/* Parses text expecting failure; out must stay poisoned. */
static void expect_bad(const char *text)
{
    struct key_record out;
    uint8_t poison[sizeof(out)];
    int r;

    memset(&out, 0xA5, sizeof(out));
    memset(poison, 0xA5, sizeof(poison));
    r = key_record_parse(text, strlen(text), &out);
    if (r >= 0)
        fail_msg("accepted a bad record:\n%s", text);
    assert_memory_equal(&out, poison, sizeof(out));
}

/* Builds a record text from the good one with field `drop` removed or replaced by `line`. */
static char *variant(const struct ks_fixture *f, const char *field, const char *line)
{
    struct key_record in = make_record(f, "k");
    char *text, *res, *p, *end;
    size_t len, flen = strlen(field);

    assert_int_equal(key_record_format(&in, &text, &len), 0);
    p = text;
    while ((p = strstr(p, field)) && !(p == text || p[-1] == '\n'))
        p += flen;
    assert_non_null(p);
    end = strchr(p, '\n');
    assert_non_null(end);
    assert_true(asprintf(&res, "%.*s%s%s", (int)(p - text), text, line, end + 1) > 0);
    free(text);
    return res;
}

static void test_record_rejects(void **state)
{
    struct ks_fixture *f = *state;
    static const char *const fields[] = {"name=", "backend=", "kind=", "alg=", "locator=", "spki="};
    _cleanup_free_ char *b64_384 = NULL;
    char *t;

    /* Each required field missing. */
    for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
        t = variant(f, fields[i], "");
        expect_bad(t);
        free(t);
    }
    /* alg does not match the SPKI (P-384 key, record says P-256, and the reverse). */
    assert_int_equal(base64_encode(f->p384, f->p384_len, &b64_384), 0);
    {
        char *line;
        assert_true(asprintf(&line, "spki=%s\n", b64_384) > 0);
        t = variant(f, "spki=", line);
        expect_bad(t);
        free(t);
        free(line);
    }
    t = variant(f, "alg=", "alg=ecdsa-p384\n");
    expect_bad(t);
    free(t);
    t = variant(f, "alg=", "alg=rsa-3072\n");
    expect_bad(t);
    free(t);
    t = variant(f, "alg=", "alg=ed25519\n");
    expect_bad(t);
    free(t);
    /* Bad base64, truncated SPKI, SPKI with trailing bytes, empty SPKI. */
    t = variant(f, "spki=", "spki=MFkwEwYH*oZIzj0CAQ==\n");
    expect_bad(t);
    free(t);
    t = variant(f, "spki=", "spki=MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n");
    expect_bad(t);
    free(t);
    t = variant(f, "spki=", "spki=\n");
    expect_bad(t);
    free(t);
    t = variant(f, "spki=", "spki=QUJD=\n");
    expect_bad(t);
    free(t);
    {
        _cleanup_free_ char *b64 = NULL;
        uint8_t longer[HWSIGN_MAX_SPKI + 1];
        char *line;
        memcpy(longer, f->p256, f->p256_len);
        longer[f->p256_len] = 0;
        assert_int_equal(base64_encode(longer, f->p256_len + 1, &b64), 0);
        assert_true(asprintf(&line, "spki=%s\n", b64) > 0);
        t = variant(f, "spki=", line);
        expect_bad(t);
        free(t);
        free(line);
    }
    /* Invalid names, unknown fields, lines without '=', bad numbers, NUL bytes. */
    t = variant(f, "name=", "name=../../etc/passwd\n");
    expect_bad(t);
    free(t);
    t = variant(f, "name=", "name=\n");
    expect_bad(t);
    free(t);
    t = variant(f, "kind=", "kind=a b\n");
    expect_bad(t);
    free(t);
    t = variant(f, "created=", "created=-1\n");
    expect_bad(t);
    free(t);
    t = variant(f, "created=", "created=18446744073709551616\n");
    expect_bad(t);
    free(t);
    t = variant(f, "created=", "color=blue\n");
    expect_bad(t);
    free(t);
    t = variant(f, "created=", "garbage\n");
    expect_bad(t);
    free(t);
    {
        struct key_record in = make_record(f, "k"), out;
        char *text;
        size_t len;
        assert_int_equal(key_record_format(&in, &text, &len), 0);
        text[10] = '\0';
        assert_true(key_record_parse(text, len, &out) < 0);
        free(text);
    }
    /* Larger than a record file may be. */
    {
        size_t n = KEYSTORE_MAX_FILE + 1;
        char *big = malloc(n + 1);
        struct key_record out;
        assert_non_null(big);
        memset(big, '#', n);
        big[n] = '\0';
        assert_int_equal(key_record_parse(big, n, &out), -EINVAL);
        free(big);
    }
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    int fd;

    (void)snprintf(path, sizeof(path), "%s/keys/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_store_lifecycle(void **state)
{
    struct ks_fixture *f = *state;
    struct keystore *ks = NULL;
    struct key_record a = make_record(f, "alpha"), b = make_record(f, "beta");
    unsigned bad = 99;
    struct stat st;
    char path[512];

    assert_int_equal(keystore_open(f->dir, &ks, &bad), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(keystore_count(ks), 0);
    (void)snprintf(path, sizeof(path), "%s/keys", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);

    /* Reserve: invisible until committed; the name is taken meanwhile. */
    assert_int_equal(keystore_reserve(ks, "alpha"), 0);
    assert_null(keystore_find(ks, "alpha"));
    assert_int_equal(keystore_count(ks), 0);
    assert_null(keystore_at(ks, 0));
    assert_int_equal(keystore_reserve(ks, "alpha"), -EEXIST);
    assert_int_equal(keystore_remove(ks, "alpha"), -ENOKEY);
    assert_int_equal(keystore_commit(ks, &a), 0);
    assert_non_null(keystore_find(ks, "alpha"));
    assert_record_equal(keystore_find(ks, "alpha"), &a);
    assert_int_equal(keystore_count(ks), 1);
    (void)snprintf(path, sizeof(path), "%s/keys/alpha.key", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Collision with a committed key; commit without reservation; invalid names. */
    assert_int_equal(keystore_reserve(ks, "alpha"), -EEXIST);
    assert_int_equal(keystore_commit(ks, &b), -ENOKEY);
    assert_int_equal(keystore_reserve(ks, "../x"), -EINVAL);
    assert_int_equal(keystore_reserve(ks, ""), -EINVAL);

    /* Unreserve drops a pending name only. */
    assert_int_equal(keystore_reserve(ks, "beta"), 0);
    keystore_unreserve(ks, "beta");
    keystore_unreserve(ks, "alpha"); /* committed: untouched */
    assert_non_null(keystore_find(ks, "alpha"));
    assert_int_equal(keystore_reserve(ks, "beta"), 0);
    assert_int_equal(keystore_commit(ks, &b), 0);
    assert_int_equal(keystore_count(ks), 2);

    /* Persistence across reopen. */
    ks = keystore_free(ks);
    assert_int_equal(keystore_open(f->dir, &ks, &bad), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(keystore_count(ks), 2);
    assert_record_equal(keystore_find(ks, "alpha"), &a);
    assert_record_equal(keystore_find(ks, "beta"), &b);

    /* Remove: gone now and after reopen. */
    assert_int_equal(keystore_remove(ks, "alpha"), 0);
    assert_int_equal(keystore_remove(ks, "alpha"), -ENOKEY);
    assert_null(keystore_find(ks, "alpha"));
    (void)snprintf(path, sizeof(path), "%s/keys/alpha.key", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    ks = keystore_free(ks);
    assert_int_equal(keystore_open(f->dir, &ks, NULL), 0);
    assert_int_equal(keystore_count(ks), 1);
    assert_non_null(keystore_find(ks, "beta"));
    keystore_free(ks);
    assert_null(keystore_free(NULL));
}

static void test_store_corrupt_files(void **state)
{
    struct ks_fixture *f = *state;
    struct keystore *ks = NULL;
    struct key_record a = make_record(f, "alpha"), other = make_record(f, "other");
    char *text;
    size_t len;
    unsigned bad = 0;

    assert_int_equal(keystore_open(f->dir, &ks, &bad), 0);
    assert_int_equal(keystore_reserve(ks, "alpha"), 0);
    assert_int_equal(keystore_commit(ks, &a), 0);
    ks = keystore_free(ks);

    write_file(f->dir, "garbage.key", "this is not a record\n");
    write_file(f->dir, "empty.key", "");
    /* A valid record under the wrong file name. */
    assert_int_equal(key_record_format(&other, &text, &len), 0);
    write_file(f->dir, "renamed.key", text);
    free(text);
    /* Not a record file at all: ignored, not counted. */
    write_file(f->dir, "README", "hello");
    write_file(f->dir, ".hidden.key", "x");

    assert_int_equal(keystore_open(f->dir, &ks, &bad), 0);
    assert_int_equal(bad, 3);
    assert_int_equal(keystore_count(ks), 1);
    assert_non_null(keystore_find(ks, "alpha"));
    assert_null(keystore_find(ks, "other"));
    assert_null(keystore_find(ks, "renamed"));
    /* Skipped, never deleted. */
    {
        char path[512];
        (void)snprintf(path, sizeof(path), "%s/keys/garbage.key", f->dir);
        assert_int_equal(access(path, F_OK), 0);
    }
    keystore_free(ks);
}

static void test_store_unsafe_dir(void **state)
{
    struct ks_fixture *f = *state;
    struct keystore *ks = (struct keystore *)0x1;
    char path[512];

    (void)snprintf(path, sizeof(path), "%s/keys", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(chmod(path, 0770), 0);
    assert_int_equal(keystore_open(f->dir, &ks, NULL), -EPERM);
    assert_ptr_equal(ks, (struct keystore *)0x1);
    assert_int_equal(chmod(path, 0700), 0);
    /* keys is a file */
    assert_int_equal(rmdir(path), 0);
    {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    assert_int_equal(keystore_open(f->dir, &ks, NULL), -ENOTDIR);
    assert_int_equal(unlink(path), 0);
}

static void test_store_limit(void **state)
{
    struct ks_fixture *f = *state;
    struct keystore *ks = NULL;
    char name[32];

    assert_int_equal(keystore_open(f->dir, &ks, NULL), 0);
    for (unsigned i = 0; i < HWSIGN_MAX_KEYS; i++) {
        (void)snprintf(name, sizeof(name), "k%u", i);
        assert_int_equal(keystore_reserve(ks, name), 0);
    }
    assert_int_equal(keystore_reserve(ks, "one-more"), -EUSERS);
    /* Collision is still reported as such at the limit. */
    assert_int_equal(keystore_reserve(ks, "k0"), -EEXIST);
    keystore_unreserve(ks, "k7");
    assert_int_equal(keystore_reserve(ks, "one-more"), 0);
    /* Commit a few in the middle and at the end; the rest stay pending and invisible. */
    {
        struct key_record r = make_record(f, "k100");
        assert_int_equal(keystore_commit(ks, &r), 0);
        r = make_record(f, "one-more");
        assert_int_equal(keystore_commit(ks, &r), 0);
    }
    assert_int_equal(keystore_count(ks), 2);
    ks = keystore_free(ks);
    assert_int_equal(keystore_open(f->dir, &ks, NULL), 0);
    assert_int_equal(keystore_count(ks), 2);
    keystore_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_record_round_trip),
            cmocka_unit_test(test_record_rejects),
            cmocka_unit_test_setup_teardown(test_store_lifecycle, dir_setup, dir_teardown),
            cmocka_unit_test_setup_teardown(test_store_corrupt_files, dir_setup, dir_teardown),
            cmocka_unit_test_setup_teardown(test_store_unsafe_dir, dir_setup, dir_teardown),
            cmocka_unit_test_setup_teardown(test_store_limit, dir_setup, dir_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
