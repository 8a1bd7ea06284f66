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
#include <fcntl.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "fd-util.h"
#include "tpm-backend.h"
#include "tpm-keyfile.h"
#include "tpm.h"

#define N_ROTATE   5u   /* keys signing in rotation (> TPM_MAX_TRANSIENT) */
#define RATE_SIGNS 500u /* signatures in the timed loop */

static char dir[128];
static char sock[256], keys[256], tcti[300], pidfile[256];
static struct key_backend *kb;
static uint32_t lockout_at_start = UINT32_MAX;
static pid_t guard = -1;
static int guard_fd = -1;
static char *loc[3];
static uint8_t *spki[3];
static size_t spki_len[3];
static const enum hwsign_alg algs[3] = {HWSIGN_ALG_ECDSA_P256, HWSIGN_ALG_ECDSA_P384,
                                        HWSIGN_ALG_RSA_3072};

static int run(const char *cmd)
{
    int st = system(cmd);
    return st == 0 ? 0 : -1;
}

static pid_t swtpm_pid(void)
{
    uint8_t *data = NULL;
    size_t len = 0;
    long pid = -1;

    if (read_file_bounded(pidfile, 64, &data, &len) == 0 && len > 0)
        pid = strtol((const char *)data, NULL, 10);
    free(data);
    return pid > 1 ? (pid_t)pid : -1;
}

static int swtpm_start(void)
{
    char cmd[2048];

    unlink(pidfile);
    snprintf(cmd, sizeof(cmd),
             "swtpm socket --tpm2 --tpmstate dir=%s --server type=unixio,path=%s "
             "--ctrl type=unixio,path=%s.ctrl --flags not-need-init,startup-clear "
             "--pid file=%s --log file=%s/swtpm.log -d",
             dir, sock, sock, pidfile, dir);
    if (run(cmd) < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        if (swtpm_pid() > 0 && access(sock, F_OK) == 0)
            return 0;
        usleep(50 * 1000);
    }
    return -1;
}

static void swtpm_stop(int sig)
{
    pid_t pid = swtpm_pid();

    if (pid <= 0)
        return;
    kill(pid, sig);
    for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
        usleep(10 * 1000);
    unlink(pidfile);
}

/*
 * A child that outlives a crash of this test: it waits for the pipe to close (we exited,
 * however), then stops swtpm by its pid file and removes the directory.
 */
static void start_guard(void)
{
    int p[2];
    char c;

    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    guard = fork();
    if (guard == 0) {
        close(p[1]);
        while (read(p[0], &c, 1) > 0)
            ;
        swtpm_stop(SIGKILL);
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(0);
    }
    close(p[0]);
    guard_fd = p[1];
}

static struct key_backend *new_backend(void)
{
    struct tpm_config cfg = {.name = "tpm0", .tcti = tcti, .key_dir = keys};
    struct key_backend *b = NULL;
    char err[256] = "";

    if (tpm_backend_new(&cfg, &b, err, sizeof(err)) < 0)
        fail_msg("tpm_backend_new: %s", err);
    return b;
}

static int setup(void **state)
{
    if (run("command -v swtpm >/dev/null 2>&1") < 0)
        return 0; /* every test skips */
    snprintf(dir, sizeof(dir), "/tmp/hwsign-tpm-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sock, sizeof(sock), "%s/tpm.sock", dir);
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    snprintf(pidfile, sizeof(pidfile), "%s/swtpm.pid", dir);
    snprintf(tcti, sizeof(tcti), "swtpm:path=%s", sock);
    start_guard();
    if (swtpm_start() < 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "cat %s/swtpm.log >&2", dir);
        run(cmd);
        return -1;
    }
    kb = new_backend();
    return 0;
}

static int teardown(void **state)
{
    if (kb)
        kb->ops->free(kb);
    kb = NULL;
    if (dir[0]) {
        swtpm_stop(SIGTERM);
        if (guard_fd >= 0)
            close(guard_fd); /* the guard removes the directory */
        if (guard > 0)
            waitpid(guard, NULL, 0);
    }
    return 0;
}

#define REQUIRE_SWTPM()                                                                            \
    do {                                                                                           \
        if (!kb)                                                                                   \
            skip();                                                                                \
    } while (0)

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

static void assert_transient_at_most(uint32_t max)
{
    uint32_t transient = 99, lockout = 99;

    assert_int_equal(tpm_backend_probe(kb, &transient, &lockout), 0);
    assert_true(transient <= max);
    assert_int_equal(lockout, lockout_at_start);
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
        assert_int_equal(strncmp(loc[i], keys, strlen(keys)), 0);
        f = fopen(loc[i], "re");
        assert_non_null(f);
        assert_non_null(fgets(pem_head, sizeof(pem_head), f));
        fclose(f);
        assert_string_equal(pem_head, "-----BEGIN TSS2 PRIVATE KEY-----\n");
        assert_transient_at_most(TPM_MAX_TRANSIENT);
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
    assert_transient_at_most(TPM_MAX_TRANSIENT);

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
            assert_transient_at_most(TPM_MAX_TRANSIENT);
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
    snprintf(twisted, sizeof(twisted), "%s/../keys/./rsa.pem", keys);
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
    snprintf(path, sizeof(path), "%s/outside.pem", dir);
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
    snprintf(path, sizeof(path), "%s/tampered.pem", keys);
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
             "TPM2OPENSSL_TCTI='%s' openssl list -providers -provider tpm2 >/dev/null 2>&1", tcti);
    if (run(cmd) < 0) {
        assert_int_equal(kb->ops->open(kb), 0);
        print_message("tpm2-openssl is not installed (apt-get install tpm2-openssl)\n");
        skip();
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(out, sizeof(out), "%s/openssl-%zu.der", dir, i);
        snprintf(cmd, sizeof(cmd),
                 "TPM2OPENSSL_TCTI='%s' openssl pkey -provider tpm2 -provider default -in '%s' "
                 "-pubout -outform DER -out '%s'",
                 tcti, loc[i], out);
        assert_int_equal(run(cmd), 0);
        assert_int_equal(read_file_bounded(out, HWSIGN_MAX_SPKI, &der, &der_len), 0);
        assert_int_equal(der_len, spki_len[i]);
        assert_memory_equal(der, spki[i], der_len);
        free(der);
        der = NULL;
    }
    assert_int_equal(kb->ops->open(kb), 0);
    assert_transient_at_most(1); /* tpm2-openssl flushed what it loaded */
    sign_verify(loc[1], algs[1], spki[1], spki_len[1], HWSIGN_HASH_SHA384, HWSIGN_SCHEME_DEFAULT);
}

static void test_swtpm_restart(void **state)
{
    uint8_t dg[32] = {7}, sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);
    char detail[512];

    REQUIRE_SWTPM();
    sign_verify(loc[0], algs[0], spki[0], spki_len[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT);
    swtpm_stop(SIGKILL); /* no TPM2_Shutdown */
    assert_int_equal(swtpm_start(), 0);
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
    assert_transient_at_most(TPM_MAX_TRANSIENT);

    /* TPM gone for good: open() fails with -ENODEV and stays UNAVAILABLE */
    swtpm_stop(SIGKILL);
    assert_int_equal(kb->ops->sign(kb, loc[0], algs[0], HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                   dg, 32, sig, &sig_len),
                     -ENODEV);
    assert_int_equal(kb->ops->open(kb), -ENODEV);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(swtpm_start(), 0);
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
