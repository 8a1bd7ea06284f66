/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto: names, digest known answers, streaming hashes of files and descriptors (regular files,
 * pipes written in pieces, reads interrupted by signals, read errors, size limits), SPKI
 * algorithm detection, PEM and OpenSSH export (checked against ssh-keygen when installed),
 * verification of real OpenSSL signatures (ECDSA, RSA PKCS#1 v1.5 and PSS) including every way
 * one can be wrong, and raw r||s -> DER.
 */
#define _GNU_SOURCE /* pipe2 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "fd-util.h"
#include "format.h"
#include "macro.h"
#include "sbuf.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)
#define POISON_LEN ((size_t)0xdeadbeef)

enum {
    K_P256,
    K_P256_B,
    K_P384,
    K_P521,
    K_RSA3072,
    K_RSA3072_B,
    K_RSA2048,
    K_ED25519,
    K_MAX,
};

struct key {
    EVP_PKEY *pkey;
    uint8_t *spki;
    size_t spki_len;
};

static struct key keys[K_MAX];
static char tmpdir[PATH_MAX];

static void key_set(struct key *k, EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    int n;

    k->pkey = pkey;
    n = i2d_PUBKEY(pkey, &der);
    k->spki = malloc((size_t)n);
    memcpy(k->spki, der, (size_t)n);
    k->spki_len = (size_t)n;
    OPENSSL_free(der);
}

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    EVP_PKEY *p[K_MAX] = {
            [K_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"),
            [K_P256_B] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"),
            [K_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"),
            [K_P521] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"),
            [K_RSA3072] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072),
            [K_RSA3072_B] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072),
            [K_RSA2048] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
            [K_ED25519] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
    };
    int n;

    for (int i = 0; i < K_MAX; i++) {
        if (!p[i])
            return -1;
        key_set(&keys[i], p[i]);
    }
    n = snprintf(tmpdir, sizeof(tmpdir), "%s/test-crypto.XXXXXX", base && *base ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof(tmpdir) || !mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);

    for (int i = 0; i < K_MAX; i++) {
        EVP_PKEY_free(keys[i].pkey);
        free(keys[i].spki);
    }
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *buf, size_t sz, const char *name)
{
    assert_true((size_t)snprintf(buf, sz, "%s/%s", tmpdir, name) < sz);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "we");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Signs a digest with OpenSSL directly; pad 0 means the key type's default. */
static size_t sign(const struct key *k, const char *md, int pad, int saltlen, const uint8_t *dg,
                   size_t dlen, uint8_t *sig, size_t cap)
{
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
            EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    size_t len = cap;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(md)), 1);
    if (pad)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
    if (pad == RSA_PKCS1_PSS_PADDING)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen), 1);
    assert_int_equal(EVP_PKEY_sign(ctx, sig, &len, dg, dlen), 1);
    return len;
}

static void digest_of(enum hwsign_hash h, const char *msg, uint8_t *out)
{
    assert_int_equal(hash_buffer(h, msg, strlen(msg), out, HWSIGN_MAX_DIGEST), 0);
}

static void test_names(void **state)
{
    assert_int_equal(alg_from_name("ecdsa-p256"), HWSIGN_ALG_ECDSA_P256);
    assert_int_equal(alg_from_name("ecdsa-p384"), HWSIGN_ALG_ECDSA_P384);
    assert_int_equal(alg_from_name("rsa-3072"), HWSIGN_ALG_RSA_3072);
    assert_int_equal(alg_from_name("ecdsa-p521"), HWSIGN_ALG_UNKNOWN);
    assert_int_equal(alg_from_name("ECDSA-P256"), HWSIGN_ALG_UNKNOWN);
    assert_int_equal(alg_from_name(""), HWSIGN_ALG_UNKNOWN);
    assert_int_equal(alg_from_name(NULL), HWSIGN_ALG_UNKNOWN);
    assert_string_equal(alg_name(HWSIGN_ALG_ECDSA_P256), "ecdsa-p256");
    assert_string_equal(alg_name(HWSIGN_ALG_ECDSA_P384), "ecdsa-p384");
    assert_string_equal(alg_name(HWSIGN_ALG_RSA_3072), "rsa-3072");
    assert_null(alg_name(HWSIGN_ALG_UNKNOWN));
    assert_null(alg_name((enum hwsign_alg)42));

    assert_int_equal(hash_len(HWSIGN_HASH_SHA256), 32);
    assert_int_equal(hash_len(HWSIGN_HASH_SHA384), 48);
    assert_int_equal(hash_len(HWSIGN_HASH_SHA512), 64);
    assert_int_equal(hash_len((enum hwsign_hash)0), 0);
    assert_int_equal(hash_len((enum hwsign_hash)4), 0);
    assert_string_equal(hash_name(HWSIGN_HASH_SHA256), "sha256");
    assert_string_equal(hash_name(HWSIGN_HASH_SHA384), "sha384");
    assert_string_equal(hash_name(HWSIGN_HASH_SHA512), "sha512");
    assert_null(hash_name((enum hwsign_hash)0));
}

/* FIPS 180-2 known answers for "abc", and SHA-256 of the empty string. */
static const char sha256_abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char sha384_abc[] = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5"
                                 "bed8086072ba1e7cc2358baeca134c825a7";
static const char sha512_abc[] = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d"
                                 "39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54"
                                 "ca49f";
static const char sha256_empty[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void assert_digest_hex(const uint8_t *d, size_t len, const char *want)
{
    char *hex = NULL;

    assert_int_equal(hex_encode(d, len, &hex), 0);
    assert_string_equal(hex, want);
    free(hex);
}

static void test_hash_buffer_kat(void **state)
{
    uint8_t d[HWSIGN_MAX_DIGEST];

    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, "abc", 3, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_abc);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA384, "abc", 3, d, sizeof(d)), 0);
    assert_digest_hex(d, 48, sha384_abc);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA512, "abc", 3, d, sizeof(d)), 0);
    assert_digest_hex(d, 64, sha512_abc);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, NULL, 0, d, 32), 0);
    assert_digest_hex(d, 32, sha256_empty);
}

static void test_hash_buffer_errors(void **state)
{
    uint8_t d[HWSIGN_MAX_DIGEST], poison[HWSIGN_MAX_DIGEST];

    memset(d, 0xa5, sizeof(d));
    memcpy(poison, d, sizeof(d));
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, "abc", 3, d, 31), -ENOBUFS);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA512, "abc", 3, d, 63), -ENOBUFS);
    assert_int_equal(hash_buffer((enum hwsign_hash)9, "abc", 3, d, sizeof(d)), -EINVAL);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, NULL, 3, d, sizeof(d)), -EINVAL);
    assert_memory_equal(d, poison, sizeof(d));
}

static void test_hash_file(void **state)
{
    const size_t big_len = 3u * 1024u * 1024u + 7u; /* many HASH_FD_CHUNK reads and a tail */
    uint8_t *big = malloc(big_len);
    uint8_t d[HWSIGN_MAX_DIGEST], want[HWSIGN_MAX_DIGEST], poison[HWSIGN_MAX_DIGEST];
    char path[PATH_MAX];

    assert_non_null(big);
    path_in_tmp(path, sizeof(path), "abc");
    write_file(path, "abc", 3);
    assert_int_equal(hash_file(path, HWSIGN_HASH_SHA256, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_abc);
    assert_int_equal(hash_file(path, HWSIGN_HASH_SHA384, d, 48), 0);
    assert_digest_hex(d, 48, sha384_abc);

    path_in_tmp(path, sizeof(path), "empty");
    write_file(path, "", 0);
    assert_int_equal(hash_file(path, HWSIGN_HASH_SHA256, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_empty);

    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 16));
    path_in_tmp(path, sizeof(path), "big");
    write_file(path, big, big_len);
    for (enum hwsign_hash h = HWSIGN_HASH_SHA256; h <= HWSIGN_HASH_SHA512; h++) {
        assert_int_equal(hash_buffer(h, big, big_len, want, sizeof(want)), 0);
        assert_int_equal(hash_file(path, h, d, sizeof(d)), 0);
        assert_memory_equal(d, want, hash_len(h));
    }
    free(big);

    memset(d, 0xa5, sizeof(d));
    memcpy(poison, d, sizeof(d));
    assert_int_equal(hash_file("/nonexistent/model.bin", HWSIGN_HASH_SHA256, d, sizeof(d)),
                     -ENOENT);
    assert_int_equal(hash_file(tmpdir, HWSIGN_HASH_SHA256, d, sizeof(d)), -EISDIR);
    assert_int_equal(hash_file(path, HWSIGN_HASH_SHA256, d, 16), -ENOBUFS);
    assert_int_equal(hash_file(path, (enum hwsign_hash)0, d, sizeof(d)), -EINVAL);
    assert_memory_equal(d, poison, sizeof(d));
}

static int open_ro(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    return fd;
}

static void pattern(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 13 + (i >> 12));
}

/* A child that writes data[0..len) to fd in pieces of piece bytes, pause_us apart, and exits. */
static pid_t start_writer(int fd, const uint8_t *data, size_t len, size_t piece, unsigned pause_us)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        for (size_t off = 0; off < len; off += piece) {
            if (fd_write_all(fd, data + off, MIN(piece, len - off)) < 0)
                _exit(1);
            if (pause_us)
                usleep(pause_us);
        }
        _exit(0);
    }
    return pid;
}

static void wait_writer(pid_t pid)
{
    int st = 0;

    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_hash_fd_kat(void **state)
{
    uint8_t d[HWSIGN_MAX_DIGEST];
    char path[PATH_MAX];
    int fd;

    /* from the current offset to the end, and the descriptor stays open at the end */
    path_in_tmp(path, sizeof(path), "fd-abc");
    write_file(path, "xxabc", 5);
    fd = open_ro(path);
    assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA256, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_abc);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA256, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_empty);
    assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA384, d, 48), 0);
    assert_digest_hex(d, 48, sha384_abc);
    assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA512, d, 64), 0);
    assert_digest_hex(d, 64, sha512_abc);
    assert_int_equal(close(fd), 0);

    path_in_tmp(path, sizeof(path), "fd-empty");
    write_file(path, "", 0);
    fd = open_ro(path);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA256, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_empty);
    assert_int_equal(close(fd), 0);
}

/* A pipe fed in odd-sized pieces, more than the pipe holds: many short reads. */
static void test_hash_fd_pipe(void **state)
{
    const size_t len = 5u * HASH_FD_CHUNK + 333u;
    uint8_t *data = malloc(len), d[HWSIGN_MAX_DIGEST], want[HWSIGN_MAX_DIGEST];
    int p[2];
    pid_t pid;

    assert_non_null(data);
    pattern(data, len);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = start_writer(p[1], data, len, 4097u, 0);
    assert_int_equal(close(p[1]), 0);
    assert_int_equal(hash_fd(p[0], HWSIGN_HASH_SHA512, d, sizeof(d)), 0);
    assert_int_equal(close(p[0]), 0);
    wait_writer(pid);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA512, data, len, want, sizeof(want)), 0);
    assert_memory_equal(d, want, 64);
    free(data);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    alarms++;
}

/*
 * Reads interrupted by a signal: a SIGALRM handler without SA_RESTART fires every millisecond
 * while hash_fd waits on a pipe whose writer sends one byte every 50 ms, so read() fails with
 * EINTR again and again; the digest must still be that of all the bytes.
 */
static void test_hash_fd_eintr(void **state)
{
    static const uint8_t msg[] = {'a', 'b', 'c'};
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    struct itimerval tick = {.it_interval = {0, 1000}, .it_value = {0, 1000}}, stop = {};
    uint8_t d[HWSIGN_MAX_DIGEST];
    int p[2], r;
    pid_t pid;

    sigemptyset(&sa.sa_mask);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = start_writer(p[1], msg, sizeof(msg), 1, 50u * 1000u);
    assert_int_equal(close(p[1]), 0);
    alarms = 0;
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    assert_int_equal(setitimer(ITIMER_REAL, &tick, NULL), 0);
    r = hash_fd(p[0], HWSIGN_HASH_SHA256, d, sizeof(d));
    assert_int_equal(setitimer(ITIMER_REAL, &stop, NULL), 0);
    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
    assert_int_equal(close(p[0]), 0);
    wait_writer(pid);
    assert_int_equal(r, 0);
    assert_digest_hex(d, 32, sha256_abc);
    print_message("SIGALRM delivered %d times while hashing\n", (int)alarms);
    assert_true(alarms > 0);
}

static void test_hash_fd_errors(void **state)
{
    uint8_t d[HWSIGN_MAX_DIGEST], poison[HWSIGN_MAX_DIGEST];
    char path[PATH_MAX];
    int fd, p[2];

    memset(d, 0xa5, sizeof(d));
    memcpy(poison, d, sizeof(d));
    /* read errors: a directory opens but does not read; a write-only descriptor; none */
    fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA256, d, sizeof(d)), -EISDIR);
    assert_int_equal(close(fd), 0);
    path_in_tmp(path, sizeof(path), "fd-write-only");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    assert_int_equal(hash_fd(fd, HWSIGN_HASH_SHA256, d, sizeof(d)), -EBADF);
    assert_int_equal(close(fd), 0);
    assert_int_equal(hash_fd(-1, HWSIGN_HASH_SHA256, d, sizeof(d)), -EBADF);
    /* a non-blocking pipe with a writer but no data yet */
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(hash_fd(p[0], HWSIGN_HASH_SHA256, d, sizeof(d)), -EAGAIN);
    assert_int_equal(close(p[0]), 0);
    assert_int_equal(close(p[1]), 0);

    /* bad arguments are refused before anything is read: the bytes stay in the pipe */
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    assert_int_equal(close(p[1]), 0);
    assert_int_equal(hash_fd(p[0], (enum hwsign_hash)0, d, sizeof(d)), -EINVAL);
    assert_int_equal(hash_fd(p[0], HWSIGN_HASH_SHA384, d, 47), -ENOBUFS);
    assert_int_equal(hash_fd(p[0], HWSIGN_HASH_SHA256, NULL, 32), -EINVAL);
    assert_int_equal(hash_fd_limited(p[0], (enum hwsign_hash)7, 10, d, sizeof(d)), -EINVAL);
    assert_memory_equal(d, poison, sizeof(d));
    assert_int_equal(hash_fd(p[0], HWSIGN_HASH_SHA256, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_abc);
    assert_int_equal(close(p[0]), 0);
}

static void test_hash_fd_limited(void **state)
{
    const size_t len = 10u * HASH_FD_CHUNK + 5u;
    uint8_t *data = malloc(len), d[HWSIGN_MAX_DIGEST], want[HWSIGN_MAX_DIGEST];
    uint8_t poison[HWSIGN_MAX_DIGEST];
    char path[PATH_MAX];
    off_t pos;
    int fd;

    assert_non_null(data);
    memset(d, 0xa5, sizeof(d));
    memcpy(poison, d, sizeof(d));

    /* exactly at the limit is fine, one byte over is -EFBIG, output untouched */
    path_in_tmp(path, sizeof(path), "fd-limit");
    write_file(path, "abc", 3);
    fd = open_ro(path);
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, 2, d, sizeof(d)), -EFBIG);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, 0, d, sizeof(d)), -EFBIG);
    assert_memory_equal(d, poison, sizeof(d));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, 3, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_abc);
    assert_int_equal(close(fd), 0);
    path_in_tmp(path, sizeof(path), "fd-limit-empty");
    write_file(path, "", 0);
    fd = open_ro(path);
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, 0, d, sizeof(d)), 0);
    assert_digest_hex(d, 32, sha256_empty);
    assert_int_equal(close(fd), 0);

    /* over several chunks: the limit counts every byte, and reading stops at the first chunk
     * that crosses it */
    pattern(data, len);
    path_in_tmp(path, sizeof(path), "fd-limit-big");
    write_file(path, data, len);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, data, len, want, sizeof(want)), 0);
    fd = open_ro(path);
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, len, d, sizeof(d)), 0);
    assert_memory_equal(d, want, 32);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    memcpy(d, poison, sizeof(d));
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, len - 1, d, sizeof(d)), -EFBIG);
    assert_memory_equal(d, poison, sizeof(d));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA256, 2u * HASH_FD_CHUNK + 1u, d, sizeof(d)),
                     -EFBIG);
    pos = lseek(fd, 0, SEEK_CUR);
    assert_true(pos > (off_t)(2u * HASH_FD_CHUNK + 1u));
    assert_true(pos <= (off_t)(3u * HASH_FD_CHUNK + 1u));
    assert_int_equal(close(fd), 0);

    /* an endless input ends with -EFBIG */
    fd = open_ro("/dev/zero");
    assert_int_equal(hash_fd_limited(fd, HWSIGN_HASH_SHA512, 4u * HASH_FD_CHUNK, d, sizeof(d)),
                     -EFBIG);
    assert_int_equal(close(fd), 0);
    assert_memory_equal(d, poison, sizeof(d));
    free(data);
}

static void test_spki_alg(void **state)
{
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    uint8_t buf[HWSIGN_MAX_SPKI + 2];
    const struct key *k = &keys[K_P256];

    assert_int_equal(spki_alg(k->spki, k->spki_len, &alg), 0);
    assert_int_equal(alg, HWSIGN_ALG_ECDSA_P256);
    assert_int_equal(spki_alg(keys[K_P384].spki, keys[K_P384].spki_len, &alg), 0);
    assert_int_equal(alg, HWSIGN_ALG_ECDSA_P384);
    assert_int_equal(spki_alg(keys[K_RSA3072].spki, keys[K_RSA3072].spki_len, &alg), 0);
    assert_int_equal(alg, HWSIGN_ALG_RSA_3072);

    alg = (enum hwsign_alg)77;
    assert_int_equal(spki_alg(keys[K_RSA2048].spki, keys[K_RSA2048].spki_len, &alg), -EINVAL);
    assert_int_equal(spki_alg(keys[K_P521].spki, keys[K_P521].spki_len, &alg), -EINVAL);
    assert_int_equal(spki_alg(keys[K_ED25519].spki, keys[K_ED25519].spki_len, &alg), -EINVAL);
    assert_int_equal(spki_alg(k->spki, k->spki_len - 1, &alg), -EINVAL); /* truncated */
    memcpy(buf, k->spki, k->spki_len);
    buf[k->spki_len] = 0;
    assert_int_equal(spki_alg(buf, k->spki_len + 1, &alg), -EINVAL); /* trailing data */
    assert_int_equal(spki_alg(buf, 0, &alg), -EINVAL);
    assert_int_equal(spki_alg(NULL, 10, &alg), -EINVAL);
    memset(buf, 0x30, sizeof(buf));
    assert_int_equal(spki_alg(buf, sizeof(buf), &alg), -EINVAL); /* over HWSIGN_MAX_SPKI */
    assert_int_equal(spki_alg((const uint8_t *)"\x30\x03\x02\x01\x01", 5, &alg), -EINVAL);
    assert_int_equal(alg, 77);
}

static void test_verify_ecdsa(void **state)
{
    static const struct {
        int key;
        enum hwsign_hash hash;
        const char *md;
    } cases[] = {
            {K_P256, HWSIGN_HASH_SHA256, "SHA256"},
            {K_P384, HWSIGN_HASH_SHA384, "SHA384"},
            {K_P256, HWSIGN_HASH_SHA512, "SHA512"},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct key *k = &keys[cases[c].key];
        enum hwsign_hash h = cases[c].hash;
        size_t hl = hash_len(h), sl;
        uint8_t dg[HWSIGN_MAX_DIGEST], sig[HWSIGN_MAX_SIG + 1];

        digest_of(h, "model.safetensors", dg);
        sl = sign(k, cases[c].md, 0, 0, dg, hl, sig, sizeof(sig));
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl, sig, sl),
                0);

        /* Any flipped bit of the signature, anywhere. */
        for (size_t bit = 0; bit < sl * 8; bit += 7) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg,
                                               hl, sig, sl),
                             -EBADMSG);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* Another digest (first byte: ECDSA truncates a digest longer than the order), another
         * key, a cut or padded signature. */
        dg[0] ^= 1;
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl, sig, sl),
                -EBADMSG);
        dg[0] ^= 1;
        assert_int_equal(sig_verify_digest(keys[K_P256_B].spki, keys[K_P256_B].spki_len, h,
                                           HWSIGN_SCHEME_DEFAULT, dg, hl, sig, sl),
                         -EBADMSG);
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl,
                                           sig, sl - 1),
                         -EBADMSG);
        sig[sl] = 0;
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl,
                                           sig, sl + 1),
                         -EBADMSG);
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl, sig, 0),
                -EBADMSG);
        /* Still valid after all that. */
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl, sig, sl),
                0);
    }
}

static void test_verify_argument_errors(void **state)
{
    const struct key *k = &keys[K_P256];
    uint8_t dg[HWSIGN_MAX_DIGEST], sig[HWSIGN_MAX_SIG + 1];
    size_t sl;

    digest_of(HWSIGN_HASH_SHA256, "x", dg);
    sl = sign(k, "SHA256", 0, 0, dg, 32, sig, sizeof(sig));
    /* The digest length must match the hash. */
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, dg, 31, sig, sl),
                     -EINVAL);
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, HWSIGN_HASH_SHA384,
                                       HWSIGN_SCHEME_DEFAULT, dg, 32, sig, sl),
                     -EINVAL);
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, (enum hwsign_hash)0,
                                       HWSIGN_SCHEME_DEFAULT, dg, 32, sig, sl),
                     -EINVAL);
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, NULL, 32, sig, sl),
                     -EINVAL);
    /* PSS is an RSA scheme; unknown schemes are refused. */
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_RSA_PSS, dg, 32, sig, sl),
                     -EINVAL);
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, HWSIGN_HASH_SHA256,
                                       (enum hwsign_scheme)7, dg, 32, sig, sl),
                     -EINVAL);
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len - 3, HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, dg, 32, sig, sl),
                     -EINVAL);
    assert_int_equal(sig_verify_digest(k->spki, k->spki_len, HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, dg, 32, sig, HWSIGN_MAX_SIG + 1),
                     -EMSGSIZE);
    assert_int_equal(sig_verify_digest(keys[K_ED25519].spki, keys[K_ED25519].spki_len,
                                       HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, dg, 32, sig, sl),
                     -EOPNOTSUPP);
}

static void test_verify_rsa(void **state)
{
    static const struct {
        enum hwsign_hash hash;
        const char *md;
    } cases[] = {
            {HWSIGN_HASH_SHA256, "SHA256"},
            {HWSIGN_HASH_SHA384, "SHA384"},
            {HWSIGN_HASH_SHA512, "SHA512"},
    };
    const struct key *k = &keys[K_RSA3072], *other = &keys[K_RSA3072_B];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        enum hwsign_hash h = cases[c].hash;
        size_t hl = hash_len(h), l1, lp, lmax;
        uint8_t dg[HWSIGN_MAX_DIGEST], pkcs1[512], pss[512], pss_max[512];

        digest_of(h, "release.tar.gz", dg);
        l1 = sign(k, cases[c].md, RSA_PKCS1_PADDING, 0, dg, hl, pkcs1, sizeof(pkcs1));
        lp = sign(k, cases[c].md, RSA_PKCS1_PSS_PADDING, (int)hl, dg, hl, pss, sizeof(pss));
        lmax = sign(k, cases[c].md, RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_MAX, dg, hl, pss_max,
                    sizeof(pss_max));
        assert_int_equal(l1, 384);

        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl,
                                           pkcs1, l1),
                         0);
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_RSA_PSS, dg, hl, pss, lp),
                0);
        /* Scheme mismatch either way fails. */
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_RSA_PSS, dg, hl,
                                           pkcs1, l1),
                         -EBADMSG);
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl, pss, lp),
                -EBADMSG);
        /* PSS with another salt length than the digest length is not our scheme. */
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_RSA_PSS, dg, hl,
                                           pss_max, lmax),
                         -EBADMSG);
        /* Bit flips, wrong key, wrong digest. */
        pkcs1[100] ^= 0x10;
        pss[7] ^= 0x01;
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl,
                                           pkcs1, l1),
                         -EBADMSG);
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_RSA_PSS, dg, hl, pss, lp),
                -EBADMSG);
        pkcs1[100] ^= 0x10;
        pss[7] ^= 0x01;
        assert_int_equal(sig_verify_digest(other->spki, other->spki_len, h, HWSIGN_SCHEME_DEFAULT,
                                           dg, hl, pkcs1, l1),
                         -EBADMSG);
        assert_int_equal(sig_verify_digest(other->spki, other->spki_len, h, HWSIGN_SCHEME_RSA_PSS,
                                           dg, hl, pss, lp),
                         -EBADMSG);
        dg[0] ^= 0x80;
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl,
                                           pkcs1, l1),
                         -EBADMSG);
        assert_int_equal(
                sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_RSA_PSS, dg, hl, pss, lp),
                -EBADMSG);
        /* An EC signature is no RSA signature. */
        assert_int_equal(sig_verify_digest(k->spki, k->spki_len, h, HWSIGN_SCHEME_DEFAULT, dg, hl,
                                           (const uint8_t *)"\x30\x06\x02\x01\x01\x02\x01\x01", 8),
                         -EBADMSG);
    }
}

static void test_pem_roundtrip(void **state)
{
    static const int which[] = {K_P256, K_P384, K_RSA3072, K_P521, K_ED25519};

    for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
        const struct key *k = &keys[which[i]];
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *back = NULL;
        char *pem = NULL, *noisy = NULL;
        uint8_t *der = NULL;
        size_t len = 0, pl;

        assert_int_equal(spki_to_pem(k->spki, k->spki_len, &pem), 0);
        pl = strlen(pem);
        assert_memory_equal(pem, "-----BEGIN PUBLIC KEY-----\n", 27);
        assert_string_equal(pem + pl - 25, "-----END PUBLIC KEY-----\n");
        /* OpenSSL reads it back as the same key. */
        bio = BIO_new_mem_buf(pem, (int)pl);
        back = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        assert_non_null(back);
        assert_int_equal(EVP_PKEY_eq(back, k->pkey), 1);

        assert_int_equal(spki_from_pem((const uint8_t *)pem, pl, &der, &len), 0);
        assert_int_equal(len, k->spki_len);
        assert_memory_equal(der, k->spki, len);
        free(der);
        /* DER in, same DER out. */
        assert_int_equal(spki_from_pem(k->spki, k->spki_len, &der, &len), 0);
        assert_int_equal(len, k->spki_len);
        assert_memory_equal(der, k->spki, len);
        free(der);
        /* Text around the block (a key file with a comment) is fine. */
        noisy = malloc(pl + 64);
        assert_non_null(noisy);
        assert_true((size_t)snprintf(noisy, pl + 64, "release key\n%strailer\n", pem) < pl + 64);
        assert_int_equal(spki_from_pem((const uint8_t *)noisy, strlen(noisy), &der, &len), 0);
        assert_memory_equal(der, k->spki, k->spki_len);
        free(der);
        free(noisy);
        free(pem);
    }
}

static void test_pem_errors(void **state)
{
    static const char *bad[] = {
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
            "-----BEGIN PUBLIC KEY-----\nZm9vYmFy\n-----END PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\n",
            "-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n"
            "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
            "Zm9vYmFyZm9vYmFyZm9vYmFy\n-----END PUBLIC KEY-----\n",
            "not a key at all",
    };
    const struct key *k = &keys[K_P256];
    uint8_t *der = POISON_PTR, buf[HWSIGN_MAX_SPKI + 1];
    size_t len = POISON_LEN;
    char *big;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (spki_from_pem((const uint8_t *)bad[i], strlen(bad[i]), &der, &len) != -EINVAL)
            fail_msg("accepted case %zu", i);
    }
    memcpy(buf, k->spki, k->spki_len);
    buf[k->spki_len] = 0;
    assert_int_equal(spki_from_pem(buf, k->spki_len + 1, &der, &len), -EINVAL);
    assert_int_equal(spki_from_pem(buf, 0, &der, &len), -EINVAL);
    big = malloc(3 * HWSIGN_MAX_SPKI);
    assert_non_null(big);
    memset(big, '\n', 3 * HWSIGN_MAX_SPKI);
    memcpy(big, "-----BEGIN ", 11);
    assert_int_equal(spki_from_pem((const uint8_t *)big, 3 * HWSIGN_MAX_SPKI, &der, &len), -EINVAL);
    free(big);
    assert_ptr_equal(der, POISON_PTR);
    assert_int_equal(len, POISON_LEN);

    char *pem = POISON_PTR;
    assert_int_equal(spki_to_pem(buf, k->spki_len + 1, &pem), -EINVAL);
    assert_int_equal(spki_to_pem((const uint8_t *)"\x30\x00", 2, &pem), -EINVAL);
    assert_ptr_equal(pem, POISON_PTR);
}

/* Decodes the base64 blob of an OpenSSH line (second field). */
static struct sbuf *ssh_blob(const char *line, uint8_t **ret_raw)
{
    const char *b = strchr(line, ' ') + 1, *e = strchr(b, ' ');
    size_t blen = e ? (size_t)(e - b) : strlen(b), len = 0;
    uint8_t *raw = NULL;
    struct sbuf *s;

    assert_int_equal(base64_decode(b, blen, &raw, &len), 0);
    s = sbuf_from(raw, len);
    assert_non_null(s);
    *ret_raw = raw;
    return s;
}

static void expect_cstring(struct sbuf *b, const char *want)
{
    const uint8_t *p = NULL;
    size_t len = 0;

    assert_int_equal(sbuf_get_string_direct(b, 64, &p, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

/* ssh-keygen -l on the line; its SHA256 fingerprint must be that of our blob. */
static void check_with_ssh_keygen(const char *line, const char *name, unsigned bits)
{
    char path[PATH_MAX], cmd[PATH_MAX + 64], out[512], want[128];
    uint8_t *raw = NULL, dg[32];
    _cleanup_(sbuf_freep) struct sbuf *blob = NULL;
    char *b64 = NULL;
    size_t n;
    FILE *p;

    if (system("command -v ssh-keygen >/dev/null 2>&1") != 0) {
        print_message("ssh-keygen not installed: interop check skipped\n");
        return;
    }
    path_in_tmp(path, sizeof(path), name);
    write_file(path, line, strlen(line));
    assert_true((size_t)snprintf(cmd, sizeof(cmd), "ssh-keygen -l -f '%s' 2>&1", path) <
                sizeof(cmd));
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);

    blob = ssh_blob(line, &raw);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, sbuf_ptr(blob), sbuf_len(blob), dg, 32), 0);
    assert_int_equal(base64_encode(dg, 32, &b64), 0);
    b64[strcspn(b64, "=")] = '\0'; /* OpenSSH prints it unpadded */
    assert_true((size_t)snprintf(want, sizeof(want), "%u SHA256:%s ", bits, b64) < sizeof(want));
    if (strncmp(out, want, strlen(want)) != 0)
        fail_msg("ssh-keygen said \"%s\", expected \"%s...\"", out, want);
    free(b64);
    free(raw);
}

static void test_ssh_ecdsa(void **state)
{
    static const struct {
        int key;
        const char *type, *curve, *prefix;
        size_t field;
        unsigned bits;
    } cases[] = {
            {K_P256, "ecdsa-sha2-nistp256", "nistp256",
             "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBB", 32, 256},
            {K_P384, "ecdsa-sha2-nistp384", "nistp384",
             "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhB", 48, 384},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct key *k = &keys[cases[c].key];
        _cleanup_(sbuf_freep) struct sbuf *blob = NULL;
        uint8_t *raw = NULL, point[1 + 2 * 48];
        const uint8_t *q = NULL;
        size_t qlen = 0, plen = 0;
        char *line = NULL;

        assert_int_equal(spki_to_ssh(k->spki, k->spki_len, "ci@build-7", &line), 0);
        assert_memory_equal(line, cases[c].prefix, strlen(cases[c].prefix));
        assert_string_equal(line + strlen(line) - 11, " ci@build-7");
        assert_null(strchr(line, '\n'));

        blob = ssh_blob(line, &raw);
        expect_cstring(blob, cases[c].type);
        expect_cstring(blob, cases[c].curve);
        assert_int_equal(sbuf_get_string_direct(blob, 256, &q, &qlen), 0);
        assert_int_equal(qlen, 1 + 2 * cases[c].field);
        assert_int_equal(EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, point,
                                                         sizeof(point), &plen),
                         1);
        assert_int_equal(plen, qlen);
        assert_memory_equal(q, point, qlen); /* uncompressed point 04 || X || Y */
        assert_int_equal(sbuf_expect_end(blob), 0);
        check_with_ssh_keygen(line, cases[c].type, cases[c].bits);
        free(raw);
        free(line);
    }
}

static void test_ssh_compressed_point(void **state)
{
    /* An SPKI carrying a compressed point still exports the uncompressed form. */
    const struct key *k = &keys[K_P256];
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *dup = EVP_PKEY_dup(k->pkey);
    unsigned char *der = NULL;
    char *a = NULL, *b = NULL;
    int n;

    assert_non_null(dup);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(dup, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                    "compressed"),
                     1);
    n = i2d_PUBKEY(dup, &der);
    assert_true(n > 0 && (size_t)n < k->spki_len);
    assert_int_equal(spki_to_ssh(der, (size_t)n, NULL, &a), 0);
    assert_int_equal(spki_to_ssh(k->spki, k->spki_len, NULL, &b), 0);
    assert_string_equal(a, b);
    OPENSSL_free(der);
    free(a);
    free(b);
}

static void test_ssh_rsa(void **state)
{
    const struct key *k = &keys[K_RSA3072];
    _cleanup_(sbuf_freep) struct sbuf *blob = NULL;
    _cleanup_(BN_freep) BIGNUM *nb = NULL;
    uint8_t *raw = NULL, nbytes[384];
    const uint8_t *p = NULL;
    size_t len = 0;
    char *line = NULL;

    assert_int_equal(spki_to_ssh(k->spki, k->spki_len, NULL, &line), 0);
    assert_memory_equal(line, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ", 37);
    assert_null(strchr(line + 8, ' ')); /* no comment field */

    blob = ssh_blob(line, &raw);
    expect_cstring(blob, "ssh-rsa");
    assert_int_equal(sbuf_get_string_direct(blob, 8, &p, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "\x01\x00\x01", 3); /* e = 65537, no sign byte needed */
    assert_int_equal(sbuf_get_string_direct(blob, 1024, &p, &len), 0);
    assert_int_equal(len, 385); /* top bit of n is set: a 0x00 sign byte first */
    assert_int_equal(p[0], 0);
    assert_int_equal(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &nb), 1);
    assert_int_equal(BN_bn2binpad(nb, nbytes, sizeof(nbytes)), 384);
    assert_memory_equal(p + 1, nbytes, 384);
    assert_int_equal(sbuf_expect_end(blob), 0);
    check_with_ssh_keygen(line, "ssh-rsa", 3072);
    free(raw);
    free(line);

    /* Other RSA sizes export too (ssh-rsa has no fixed size). */
    assert_int_equal(spki_to_ssh(keys[K_RSA2048].spki, keys[K_RSA2048].spki_len, "", &line), 0);
    assert_memory_equal(line, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ", 37);
    assert_null(strchr(line + 8, ' ')); /* an empty comment adds nothing */
    check_with_ssh_keygen(line, "ssh-rsa-2048", 2048);
    free(line);
}

static void test_ssh_errors(void **state)
{
    const struct key *k = &keys[K_P256];
    char comment[HWSIGN_MAX_TEXT + 2];
    char *line = POISON_PTR;

    assert_int_equal(spki_to_ssh(k->spki, k->spki_len, "two\nlines", &line), -EINVAL);
    assert_int_equal(spki_to_ssh(k->spki, k->spki_len, "tab\there", &line), -EINVAL);
    memset(comment, 'c', sizeof(comment));
    comment[HWSIGN_MAX_TEXT + 1] = '\0';
    assert_int_equal(spki_to_ssh(k->spki, k->spki_len, comment, &line), -EINVAL);
    assert_int_equal(spki_to_ssh(keys[K_P521].spki, keys[K_P521].spki_len, NULL, &line),
                     -EOPNOTSUPP);
    assert_int_equal(spki_to_ssh(keys[K_ED25519].spki, keys[K_ED25519].spki_len, NULL, &line),
                     -EOPNOTSUPP);
    assert_int_equal(spki_to_ssh(k->spki, k->spki_len - 1, NULL, &line), -EINVAL);
    assert_ptr_equal(line, POISON_PTR);

    comment[HWSIGN_MAX_TEXT] = '\0';
    assert_int_equal(spki_to_ssh(k->spki, k->spki_len, comment, &line), 0);
    free(line);
}

static void test_fingerprint(void **state)
{
    const struct key *k = &keys[K_P256];
    unsigned char md[32];
    size_t mdlen = 0;
    char *hex = NULL, *want = NULL;

    assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, k->spki, k->spki_len, md, &mdlen), 1);
    assert_int_equal(hex_encode(md, 32, &want), 0);
    assert_int_equal(spki_fingerprint(k->spki, k->spki_len, &hex), 0);
    assert_int_equal(strlen(hex), 64);
    assert_string_equal(hex, want);
    free(hex);
    free(want);
    assert_int_equal(spki_fingerprint(NULL, 0, &hex), 0);
    assert_string_equal(hex, sha256_empty);
    free(hex);
    hex = POISON_PTR;
    assert_int_equal(spki_fingerprint(NULL, 5, &hex), -EINVAL);
    assert_ptr_equal(hex, POISON_PTR);
}

static void test_raw_to_der_vectors(void **state)
{
    uint8_t raw[64], want[2 + 2 + 32 + 3 + 32], *der = NULL;
    size_t len = 0;

    /* r has its top bit clear, s set: only s gets a 0x00 sign byte. */
    for (int i = 0; i < 32; i++) {
        raw[i] = (uint8_t)(i + 1);
        raw[32 + i] = (uint8_t)(0x80 + i);
    }
    want[0] = 0x30, want[1] = 0x45, want[2] = 0x02, want[3] = 0x20;
    memcpy(want + 4, raw, 32);
    want[36] = 0x02, want[37] = 0x21, want[38] = 0x00;
    memcpy(want + 39, raw + 32, 32);
    assert_int_equal(ecdsa_raw_to_der(raw, 64, &der, &len), 0);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(der, want, sizeof(want));
    free(der);

    /* Leading zero bytes are dropped: minimal INTEGERs. */
    memset(raw, 0, sizeof(raw));
    raw[31] = 0x05;
    raw[63] = 0x7f;
    assert_int_equal(ecdsa_raw_to_der(raw, 64, &der, &len), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(der, "\x30\x06\x02\x01\x05\x02\x01\x7f", 8);
    free(der);
}

static void test_raw_to_der_errors(void **state)
{
    uint8_t raw[2 * 67], *der = POISON_PTR;
    size_t len = POISON_LEN;

    memset(raw, 0x11, sizeof(raw));
    assert_int_equal(ecdsa_raw_to_der(raw, 0, &der, &len), -EINVAL);
    assert_int_equal(ecdsa_raw_to_der(raw, 63, &der, &len), -EINVAL);
    assert_int_equal(ecdsa_raw_to_der(raw, sizeof(raw), &der, &len), -EINVAL);
    assert_int_equal(ecdsa_raw_to_der(NULL, 64, &der, &len), -EINVAL);
    memset(raw, 0, 32);
    assert_int_equal(ecdsa_raw_to_der(raw, 64, &der, &len), -EINVAL); /* r = 0 */
    memset(raw, 0x11, 32);
    memset(raw + 32, 0, 32);
    assert_int_equal(ecdsa_raw_to_der(raw, 64, &der, &len), -EINVAL); /* s = 0 */
    assert_ptr_equal(der, POISON_PTR);
    assert_int_equal(len, POISON_LEN);
    memset(raw, 0x11, sizeof(raw));
    assert_int_equal(ecdsa_raw_to_der(raw, 132, &der, &len), 0); /* P-521 size is fine */
    free(der);
}

static void test_raw_to_der_roundtrip(void **state)
{
    /* Real signatures through raw and back verify, and come back byte for byte. */
    static const struct {
        int key;
        enum hwsign_hash hash;
        const char *md;
        int half;
    } cases[] = {
            {K_P256, HWSIGN_HASH_SHA256, "SHA256", 32},
            {K_P384, HWSIGN_HASH_SHA384, "SHA384", 48},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct key *k = &keys[cases[c].key];
        size_t hl = hash_len(cases[c].hash);

        for (int i = 0; i < 100; i++) {
            uint8_t dg[HWSIGN_MAX_DIGEST], sig[256], raw[96], *der = NULL;
            const unsigned char *p = sig;
            size_t sl, len = 0;
            char msg[32];
            ECDSA_SIG *es;

            assert_true((size_t)snprintf(msg, sizeof(msg), "artifact-%d", i) < sizeof(msg));
            digest_of(cases[c].hash, msg, dg);
            sl = sign(k, cases[c].md, 0, 0, dg, hl, sig, sizeof(sig));
            es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
            assert_non_null(es);
            assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, cases[c].half), cases[c].half);
            assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + cases[c].half, cases[c].half),
                             cases[c].half);
            ECDSA_SIG_free(es);

            assert_int_equal(ecdsa_raw_to_der(raw, 2 * (size_t)cases[c].half, &der, &len), 0);
            assert_int_equal(len, sl);
            assert_memory_equal(der, sig, sl);
            assert_int_equal(sig_verify_digest(k->spki, k->spki_len, cases[c].hash,
                                               HWSIGN_SCHEME_DEFAULT, dg, hl, der, len),
                             0);
            free(der);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_hash_buffer_kat),
            cmocka_unit_test(test_hash_buffer_errors),
            cmocka_unit_test(test_hash_file),
            cmocka_unit_test(test_hash_fd_kat),
            cmocka_unit_test(test_hash_fd_pipe),
            cmocka_unit_test(test_hash_fd_eintr),
            cmocka_unit_test(test_hash_fd_errors),
            cmocka_unit_test(test_hash_fd_limited),
            cmocka_unit_test(test_spki_alg),
            cmocka_unit_test(test_verify_ecdsa),
            cmocka_unit_test(test_verify_argument_errors),
            cmocka_unit_test(test_verify_rsa),
            cmocka_unit_test(test_pem_roundtrip),
            cmocka_unit_test(test_pem_errors),
            cmocka_unit_test(test_ssh_ecdsa),
            cmocka_unit_test(test_ssh_compressed_point),
            cmocka_unit_test(test_ssh_rsa),
            cmocka_unit_test(test_ssh_errors),
            cmocka_unit_test(test_fingerprint),
            cmocka_unit_test(test_raw_to_der_vectors),
            cmocka_unit_test(test_raw_to_der_errors),
            cmocka_unit_test(test_raw_to_der_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
