/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of the TPM backend against a real swtpm on a unix socket in a private
 * temporary directory (TOOLCHAIN.md §3), stopped by its pid file; a guard process stops it
 * too if this test dies. Skips only when swtpm is not installed.
 *
 * Proves: keys of every algorithm are created, sign, and verify with OpenSSL against the
 * returned SPKI (ECDSA P-256/P-384, RSA-3072 PKCS#1 v1.5 and PSS); key files are 0600 TSS2
 * PRIVATE KEY PEM in key_dir; with 4+ keys signing in rotation the TPM never holds more than
 * 3 transient objects; import returns the canonical path, alg and the same SPKI, and refuses
 * foreign / corrupt / unsafe files; destroy removes the file; a key file we wrote loads in
 * tpm2-openssl and gives the same public key; swtpm SIGKILLed and restarted on the same state
 * makes the next sign fail with -ENODEV, open() rebuilds, and signing works again;
 * TPM2_PT_LOCKOUT_COUNTER is the same at the end as at the start. Prints the in-process sign
 * rate.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "fd-util.h"
#include "swtpm-fixture.h"
#include "tpm-backend.h"
#include "tpm-keyfile.h"
#include "tpm.h"

#define N_ROTATE   5u   /* keys signing in rotation (> TPM_MAX_TRANSIENT) */
#define RATE_SIGNS 500u /* signatures in the timed loop */

static struct swtpm_fixture tpm;
static struct key_backend *kb;
static uint32_t lockout_at_start = UINT32_MAX;
static char *loc[3];
static uint8_t *spki[3];
static size_t spki_len[3];
static const enum hwsign_alg algs[3] = {HWSIGN_ALG_ECDSA_P256, HWSIGN_ALG_ECDSA_P384,
                                        HWSIGN_ALG_RSA_3072};

static struct key_backend *new_backend(void)
{
    struct key_backend *b = NULL;

    if (swtpm_fixture_backend(&tpm, &b) < 0)
        fail_msg("tpm_backend_new failed");
    return b;
}

static int setup(void **state)
{
    /* kb stays NULL when swtpm is not installed: every test skips */
    return swtpm_fixture_setup_backend(&tpm, "tpm", &kb);
}

static int teardown(void **state)
{
    swtpm_fixture_teardown_backend(&tpm, &kb);
    return 0;
}

#define REQUIRE_SWTPM() SWTPM_REQUIRE(kb)

static void digest_of(const char *msg, enum hwsign_hash h, uint8_t *out)
{
    assert_int_equal(hash_buffer(h, msg, strlen(msg), out, HWSIGN_MAX_DIGEST), 0);
}

/* Signs msg with the key and checks the signature with OpenSSL against spki. */
static void sign_verify(const char *locator, enum hwsign_alg alg, const uint8_t *pub,
                        size_t pub_len, enum hwsign_hash h, enum hwsign_scheme sch)
{
    uint8_t dg[HWSIGN_MAX_DIGEST], sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);
    int r;

    digest_of("hello tpm", h, dg);
    r = kb->ops->sign(kb, locator, alg, h, sch, dg, hash_len(h), sig, &sig_len);
    if (r < 0)
        fail_msg("sign %s: %d %s", locator, r, kb->ops->last_error(kb));
    assert_int_equal(sig_verify_digest(pub, pub_len, h, sch, dg, hash_len(h), sig, sig_len), 0);
    /* and a wrong digest does not verify */
    dg[0] ^= 1;
    assert_int_equal(sig_verify_digest(pub, pub_len, h, sch, dg, hash_len(h), sig, sig_len),
                     -EBADMSG);
}

static void test_open(void **state)
{
    uint32_t transient = 99;
    char detail[256];

    REQUIRE_SWTPM();
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->open(kb), 0); /* idempotent */
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_OK);
    assert_non_null(strstr(detail, "ready, 0 key(s) loaded"));
    assert_int_equal(tpm_backend_probe(kb, &transient, &lockout_at_start), 0);
    assert_int_equal(transient, 1); /* the SRK */
    print_message("lockout counter at start: %u\n", lockout_at_start);
}

static void test_create_all(void **state)
{
    char pem_head[64] = "";
    struct stat st;
    FILE *f;

    REQUIRE_SWTPM();
    static const char *const names[3] = {"p256", "p384", "rsa"};
    for (size_t i = 0; i < 3; i++) {
        enum hwsign_alg got = HWSIGN_ALG_UNKNOWN;
        int r = kb->ops->create(kb, names[i], algs[i], &loc[i], &spki[i], &spki_len[i]);
        if (r < 0)
            fail_msg("create %s: %d %s", names[i], r, kb->ops->last_error(kb));
        assert_int_equal(spki_alg(spki[i], spki_len[i], &got), 0);
        assert_int_equal(got, algs[i]);
        assert_int_equal(stat(loc[i], &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(strncmp(loc[i], tpm.keys, strlen(tpm.keys)), 0);
        f = fopen(loc[i], "re");
        assert_non_null(f);
        assert_non_null(fgets(pem_head, sizeof(pem_head), f));
        fclose(f);
        assert_string_equal(pem_head, "-----BEGIN TSS2 PRIVATE KEY-----\n");
        swtpm_fixture_assert_transient(kb, TPM_MAX_TRANSIENT, lockout_at_start);
    }
    /* the same name again */
    char *l = NULL;
    uint8_t *s = NULL;
    size_t sl = 0;
    assert_int_equal(kb->ops->create(kb, "p256", HWSIGN_ALG_ECDSA_P256, &l, &s, &sl), -EEXIST);
    assert_int_equal(kb->ops->create(kb, "../x", HWSIGN_ALG_ECDSA_P256, &l, &s, &sl), -EINVAL);
    assert_null(l);
}

static void test_sign_verify(void **state)
{
    REQUIRE_SWTPM();
    sign_verify(loc[0], algs[0], spki[0], spki_len[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT);
    sign_verify(loc[0], algs[0], spki[0], spki_len[0], HWSIGN_HASH_SHA384, HWSIGN_SCHEME_DEFAULT);
    sign_verify(loc[1], algs[1], spki[1], spki_len[1], HWSIGN_HASH_SHA384, HWSIGN_SCHEME_DEFAULT);
    sign_verify(loc[1], algs[1], spki[1], spki_len[1], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT);
    sign_verify(loc[2], algs[2], spki[2], spki_len[2], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT);
    sign_verify(loc[2], algs[2], spki[2], spki_len[2], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_RSA_PSS);
    sign_verify(loc[2], algs[2], spki[2], spki_len[2], HWSIGN_HASH_SHA384, HWSIGN_SCHEME_RSA_PSS);
    sign_verify(loc[2], algs[2], spki[2], spki_len[2], HWSIGN_HASH_SHA512, HWSIGN_SCHEME_DEFAULT);
    swtpm_fixture_assert_transient(kb, TPM_MAX_TRANSIENT, lockout_at_start);

    /* wrong alg, PSS on EC, short buffer: refused, output untouched */
    uint8_t dg[32] = {1}, sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);
    assert_int_equal(kb->ops->sign(kb, loc[0], HWSIGN_ALG_RSA_3072, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, 32, sig, &sig_len),
                     -EINVAL);
    assert_int_equal(kb->ops->sign(kb, loc[0], algs[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_RSA_PSS,
                                   dg, 32, sig, &sig_len),
                     -EINVAL);
    sig_len = 16;
    assert_int_equal(kb->ops->sign(kb, loc[2], algs[2], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                   dg, 32, sig, &sig_len),
                     -EMSGSIZE);
    assert_int_equal(sig_len, 16);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);
}

static void test_rotation(void **state)
{
    char *l[N_ROTATE] = {};
    uint8_t *s[N_ROTATE] = {};
    size_t sl[N_ROTATE] = {};
    char name[32];

    REQUIRE_SWTPM();
    for (size_t i = 0; i < N_ROTATE; i++) {
        snprintf(name, sizeof(name), "rot%zu", i);
        assert_int_equal(kb->ops->create(kb, name, HWSIGN_ALG_ECDSA_P256, &l[i], &s[i], &sl[i]), 0);
    }
    for (size_t round = 0; round < 3; round++)
        for (size_t i = 0; i < N_ROTATE; i++) {
            sign_verify(l[i], HWSIGN_ALG_ECDSA_P256, s[i], sl[i], HWSIGN_HASH_SHA256,
                        HWSIGN_SCHEME_DEFAULT);
            assert_true(tpm_backend_loaded_keys(kb) <= TPM_MAX_LOADED_KEYS);
            swtpm_fixture_assert_transient(kb, TPM_MAX_TRANSIENT, lockout_at_start);
        }
    for (size_t i = 0; i < N_ROTATE; i++) {
        assert_int_equal(kb->ops->destroy(kb, l[i]), 0);
        free(l[i]);
        free(s[i]);
    }
}

static void write_text(const char *path, const void *data, size_t len, mode_t mode)
{
    assert_int_equal(write_file_atomic(path, data, len, mode), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_import(void **state)
{
    char *l = NULL, path[512], twisted[512];
    uint8_t *s = NULL, *data = NULL;
    size_t sl = 0, len = 0;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    struct tpm_keyfile kf;
    char *pem = NULL;
    size_t pem_len = 0;

    REQUIRE_SWTPM();
    /* through a non-canonical spelling: canonical path back, same SPKI */
    snprintf(twisted, sizeof(twisted), "%s/../keys/./rsa.pem", tpm.keys);
    assert_int_equal(kb->ops->import(kb, twisted, &l, &alg, &s, &sl), 0);
    assert_string_equal(l, loc[2]);
    assert_int_equal(alg, HWSIGN_ALG_RSA_3072);
    assert_int_equal(sl, spki_len[2]);
    assert_memory_equal(s, spki[2], sl);
    free(l);
    free(s);
    l = NULL;
    s = NULL;

    /* a copy outside key_dir with a safe mode is fine; group-writable is not */
    assert_int_equal(read_file_bounded(loc[0], TPM_KEYFILE_MAX, &data, &len), 0);
    snprintf(path, sizeof(path), "%s/outside.pem", tpm.dir);
    write_text(path, data, len, 0644);
    assert_int_equal(kb->ops->import(kb, path, &l, &alg, &s, &sl), 0);
    assert_int_equal(sl, spki_len[0]);
    assert_memory_equal(s, spki[0], sl);
    free(l);
    free(s);
    l = NULL;
    s = NULL;
    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(kb->ops->import(kb, path, &l, &alg, &s, &sl), -EPERM);
    assert_int_equal(kb->ops->destroy(kb, path), -EPERM); /* outside key_dir: never removed */

    /* a tampered private blob does not load: -ENOKEY, and nothing about auth */
    assert_int_equal(tpm_keyfile_decode(data, len, &kf), 0);
    kf.priv.buffer[kf.priv.size / 2] ^= 0x01;
    assert_int_equal(tpm_keyfile_encode(&kf, &pem, &pem_len), 0);
    snprintf(path, sizeof(path), "%s/tampered.pem", tpm.keys);
    write_text(path, pem, pem_len, 0600);
    assert_int_equal(kb->ops->import(kb, path, &l, &alg, &s, &sl), -ENOKEY);
    print_message("tampered blob: %s\n", kb->ops->last_error(kb));

    /* garbage, missing, relative */
    write_text(path, "hello\n", 6, 0600);
    assert_int_equal(kb->ops->import(kb, path, &l, &alg, &s, &sl), -EBADMSG);
    assert_int_equal(kb->ops->destroy(kb, path), 0);
    assert_int_equal(kb->ops->import(kb, path, &l, &alg, &s, &sl), -ENOKEY);
    assert_int_equal(kb->ops->import(kb, "keys/p256.pem", &l, &alg, &s, &sl), -EINVAL);
    assert_null(l);
    assert_null(s);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);
    free(pem);
    free(data);
}

static void test_destroy(void **state)
{
    char *l = NULL;
    uint8_t *s = NULL, dg[32] = {1}, sig[HWSIGN_MAX_SIG];
    size_t sl = 0, sig_len = sizeof(sig);

    REQUIRE_SWTPM();
    assert_int_equal(kb->ops->create(kb, "gone", HWSIGN_ALG_ECDSA_P256, &l, &s, &sl), 0);
    sign_verify(l, HWSIGN_ALG_ECDSA_P256, s, sl, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT);
    assert_int_equal(kb->ops->destroy(kb, l), 0);
    assert_int_equal(access(l, F_OK), -1);
    assert_int_equal(kb->ops->sign(kb, l, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, 32, sig, &sig_len),
                     -ENOKEY);
    assert_int_equal(kb->ops->destroy(kb, l), -ENOKEY);
    free(l);
    free(s);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sign_rate(void **state)
{
    uint8_t dg[32] = {0}, sig[HWSIGN_MAX_SIG];
    double t0, dt;

    REQUIRE_SWTPM();
    t0 = now_s();
    for (unsigned i = 0; i < RATE_SIGNS; i++) {
        size_t sig_len = sizeof(sig);
        dg[0] = (uint8_t)i;
        assert_int_equal(kb->ops->sign(kb, loc[0], algs[0], HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, dg, 32, sig, &sig_len),
                         0);
    }
    dt = now_s() - t0;
    print_message("in-process ECDSA P-256 sign via backend: %u signs in %.3f s = %.0f signs/s "
                  "(%.3f ms/sign)\n",
                  RATE_SIGNS, dt, RATE_SIGNS / dt, dt * 1000 / RATE_SIGNS);
}

static void test_openssl_interop(void **state)
{
    char cmd[2048], out[512];
    uint8_t *der = NULL;
    size_t der_len = 0;

    REQUIRE_SWTPM();
    /* swtpm serves one connection at a time and has 3 object slots: step aside. */
    kb->ops->free(kb);
    kb = new_backend();
    snprintf(cmd, sizeof(cmd),
             "TPM2OPENSSL_TCTI='%s' openssl list -providers -provider tpm2 >/dev/null 2>&1",
             tpm.tcti);
    if (swtpm_fixture_run(cmd) < 0) {
        assert_int_equal(kb->ops->open(kb), 0);
        print_message("tpm2-openssl is not installed (apt-get install tpm2-openssl)\n");
        skip();
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(out, sizeof(out), "%s/openssl-%zu.der", tpm.dir, i);
        snprintf(cmd, sizeof(cmd),
                 "TPM2OPENSSL_TCTI='%s' openssl pkey -provider tpm2 -provider default -in '%s' "
                 "-pubout -outform DER -out '%s'",
                 tpm.tcti, loc[i], out);
        assert_int_equal(swtpm_fixture_run(cmd), 0);
        assert_int_equal(read_file_bounded(out, HWSIGN_MAX_SPKI, &der, &der_len), 0);
        assert_int_equal(der_len, spki_len[i]);
        assert_memory_equal(der, spki[i], der_len);
        free(der);
        der = NULL;
    }
    assert_int_equal(kb->ops->open(kb), 0);
    /* tpm2-openssl flushed what it loaded */
    swtpm_fixture_assert_transient(kb, 1, lockout_at_start);
    sign_verify(loc[1], algs[1], spki[1], spki_len[1], HWSIGN_HASH_SHA384, HWSIGN_SCHEME_DEFAULT);
}

static void test_swtpm_restart(void **state)
{
    uint8_t dg[32] = {7}, sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);
    char detail[512];

    REQUIRE_SWTPM();
    sign_verify(loc[0], algs[0], spki[0], spki_len[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT);
    swtpm_fixture_stop(&tpm, SIGKILL); /* no TPM2_Shutdown */
    assert_int_equal(swtpm_fixture_start(&tpm), 0);
    assert_int_equal(kb->ops->sign(kb, loc[0], algs[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                   dg, 32, sig, &sig_len),
                     -ENODEV);
    assert_int_equal(sig_len, sizeof(sig));
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_UNAVAILABLE);
    print_message("after SIGKILL: %s\n", detail);
    assert_int_equal(kb->ops->sign(kb, loc[0], algs[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                   dg, 32, sig, &sig_len),
                     -ENODEV); /* not open: fails at once */
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);
    for (size_t i = 0; i < 3; i++)
        sign_verify(loc[i], algs[i], spki[i], spki_len[i], HWSIGN_HASH_SHA256,
                    HWSIGN_SCHEME_DEFAULT);
    swtpm_fixture_assert_transient(kb, TPM_MAX_TRANSIENT, lockout_at_start);

    /* TPM gone for good: open() fails with -ENODEV and stays UNAVAILABLE */
    swtpm_fixture_stop(&tpm, SIGKILL);
    assert_int_equal(kb->ops->sign(kb, loc[0], algs[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                   dg, 32, sig, &sig_len),
                     -ENODEV);
    assert_int_equal(kb->ops->open(kb), -ENODEV);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(swtpm_fixture_start(&tpm), 0);
    assert_int_equal(kb->ops->open(kb), 0);
    sign_verify(loc[2], algs[2], spki[2], spki_len[2], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_RSA_PSS);
}

static void test_lockout_unchanged(void **state)
{
    uint32_t transient = 0, lockout = UINT32_MAX;

    REQUIRE_SWTPM();
    assert_int_equal(tpm_backend_probe(kb, &transient, &lockout), 0);
    print_message("lockout counter at end: %u (start %u)\n", lockout, lockout_at_start);
    assert_int_equal(lockout, lockout_at_start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_open),          cmocka_unit_test(test_create_all),
            cmocka_unit_test(test_sign_verify),   cmocka_unit_test(test_rotation),
            cmocka_unit_test(test_import),        cmocka_unit_test(test_destroy),
            cmocka_unit_test(test_sign_rate),     cmocka_unit_test(test_openssl_interop),
            cmocka_unit_test(test_swtpm_restart), cmocka_unit_test(test_lockout_unchanged),
    };
    int r = cmocka_run_group_tests(tests, setup, teardown);

    for (size_t i = 0; i < 3; i++) {
        free(loc[i]);
        free(spki[i]);
    }
    return r;
}
