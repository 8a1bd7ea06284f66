/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret-source: spec syntax, and each source for real: files (modes, line endings, limits,
 * NUL, FIFO, symlink), inherited fds, environment variables, systemd credentials.
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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hwsign/protocol.h>

#include "secret-source.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

static char tmpdir[PATH_MAX];

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof(tmpdir), "%s/test-secret-source.XXXXXX",
                     base && *base ? base : "/tmp");

    if (n < 0 || (size_t)n >= sizeof(tmpdir) || !mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);

    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes a file under tmpdir with an exact mode and returns its "file:" spec. */
static const char *make_file(const char *name, const void *data, size_t len, mode_t mode)
{
    static char spec[PATH_MAX + 8];
    char path[PATH_MAX];
    int fd;

    assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", tmpdir, name) < sizeof(path));
    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
    assert_true((size_t)snprintf(spec, sizeof(spec), "file:%s", path) < sizeof(spec));
    return spec;
}

static void expect_secret(const char *spec, const void *want, size_t want_len)
{
    struct secret *s = NULL;

    assert_int_equal(secret_source_read(spec, &s), 0);
    assert_non_null(s);
    assert_int_equal(secret_len(s), want_len);
    assert_memory_equal(secret_data(s), want, want_len);
    assert_int_equal(secret_str(s)[want_len], '\0');
    secret_free(s);
}

static void expect_error(const char *spec, int err)
{
    struct secret *s = POISON_PTR;

    assert_int_equal(secret_source_read(spec, &s), err);
    assert_ptr_equal(s, POISON_PTR);
}

static void test_validate(void **state)
{
    static const char *good[] = {
            "file:/etc/hwsign/pin", "file:/a", "fd:3",           "fd:2147483647",
            "env:HWSIGN_PIN",       "env:_x1", "credential:pin", "credential:hsm.pin-1",
            "credential:a b",
    };
    static const char *bad[] = {
            "",
            "file:",
            "file:/",
            "file:relative/pin",
            "file:~/pin",
            "fd:",
            "fd:0",
            "fd:1",
            "fd:2",
            "fd:-3",
            "fd:+3",
            "fd: 3",
            "fd:3 ",
            "fd:0x10",
            "fd:2147483648",
            "fd:99999999999999999999",
            "env:",
            "env:1ABC",
            "env:A-B",
            "env:A=B",
            "env:A B",
            "credential:",
            "credential:.",
            "credential:..",
            "credential:a/b",
            "credential:../pin",
            "credential:a\nb",
            "pin",
            "FILE:/a",
            "File:/a",
            " file:/a",
            "file",
            "env",
            "fd",
            "credential",
            "prompt:",
            "1234",
    };
    char longspec[SECRET_SOURCE_MAX_SPEC + 16];
    char longname[SECRET_SOURCE_MAX_NAME + 16];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(secret_source_validate(good[i]), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (secret_source_validate(bad[i]) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(secret_source_validate(NULL), -EINVAL);

    /* Limits: a spec of exactly the maximum is fine, one more byte is not. */
    memcpy(longspec, "file:/", 6);
    memset(longspec + 6, 'a', sizeof(longspec) - 6);
    longspec[SECRET_SOURCE_MAX_SPEC] = '\0';
    assert_int_equal(secret_source_validate(longspec), 0);
    longspec[SECRET_SOURCE_MAX_SPEC] = 'a';
    longspec[SECRET_SOURCE_MAX_SPEC + 1] = '\0';
    assert_int_equal(secret_source_validate(longspec), -EINVAL);

    memcpy(longname, "env:", 4);
    memset(longname + 4, 'A', sizeof(longname) - 4);
    longname[4 + SECRET_SOURCE_MAX_NAME] = '\0';
    assert_int_equal(secret_source_validate(longname), 0);
    longname[4 + SECRET_SOURCE_MAX_NAME] = 'A';
    longname[5 + SECRET_SOURCE_MAX_NAME] = '\0';
    assert_int_equal(secret_source_validate(longname), -EINVAL);
}

static void test_read_invalid_spec(void **state)
{
    expect_error("pin", -EINVAL);
    expect_error("fd:1", -EINVAL);
    expect_error("file:relative", -EINVAL);
    expect_error(NULL, -EINVAL);
}

static void test_file(void **state)
{
    expect_secret(make_file("pin", "1234\n", 5, 0600), "1234", 4);
    expect_secret(make_file("pin", "1234\r\n", 6, 0400), "1234", 4);
    expect_secret(make_file("pin", "1234", 4, 0600), "1234", 4);
    /* Only one line ending goes; the rest is part of the secret. */
    expect_secret(make_file("pin", "12\n\n", 4, 0600), "12\n", 3);
    expect_secret(make_file("pin", "12\r", 3, 0600), "12\r", 3);
    expect_secret(make_file("pin", " 12 \n", 5, 0600), " 12 ", 4);
    expect_secret(make_file("pin", "", 0, 0600), "", 0);
    expect_secret(make_file("pin", "\n", 1, 0600), "", 0);
}

static void test_file_mode(void **state)
{
    expect_error(make_file("pin", "1234\n", 5, 0640), -EPERM);
    expect_error(make_file("pin", "1234\n", 5, 0604), -EPERM);
    expect_error(make_file("pin", "1234\n", 5, 0644), -EPERM);
    expect_error(make_file("pin", "1234\n", 5, 0440), -EPERM);
}

static void test_file_limits(void **state)
{
    uint8_t buf[HWSIGN_MAX_PIN + 4];

    memset(buf, 'p', sizeof(buf));
    expect_secret(make_file("pin", buf, HWSIGN_MAX_PIN, 0600), buf, HWSIGN_MAX_PIN);
    memcpy(buf + HWSIGN_MAX_PIN, "\r\n", 2);
    expect_secret(make_file("pin", buf, HWSIGN_MAX_PIN + 2, 0600), buf, HWSIGN_MAX_PIN);
    memset(buf, 'p', sizeof(buf));
    expect_error(make_file("pin", buf, HWSIGN_MAX_PIN + 1, 0600), -EMSGSIZE);
    buf[HWSIGN_MAX_PIN + 1] = '\n';
    expect_error(make_file("pin", buf, HWSIGN_MAX_PIN + 2, 0600), -EMSGSIZE);
    expect_error(make_file("pin", buf, sizeof(buf), 0600), -EMSGSIZE);
}

static void test_file_big(void **state)
{
    static uint8_t big[64 * 1024];

    memset(big, 'b', sizeof(big));
    expect_error(make_file("pin", big, sizeof(big), 0600), -EMSGSIZE);
}

static void test_file_embedded_nul(void **state)
{
    expect_error(make_file("pin",
                           "12\0"
                           "34\n",
                           6, 0600),
                 -EINVAL);
    expect_error(make_file("pin", "\0", 1, 0600), -EINVAL);
}

static void test_file_missing_and_special(void **state)
{
    char spec[PATH_MAX + 16];

    expect_error("file:/nonexistent/hwsign/pin", -ENOENT);
    assert_true((size_t)snprintf(spec, sizeof(spec), "file:%s", tmpdir) < sizeof(spec));
    expect_error(spec, -EINVAL); /* a directory */
    expect_error("file:/dev/null", -EINVAL);

    /* A FIFO without a writer must not block open(). */
    assert_true((size_t)snprintf(spec, sizeof(spec), "%s/fifo", tmpdir) < sizeof(spec));
    assert_int_equal(mkfifo(spec, 0600), 0);
    assert_true((size_t)snprintf(spec, sizeof(spec), "file:%s/fifo", tmpdir) < sizeof(spec));
    expect_error(spec, -EINVAL);
}

static void test_file_symlink(void **state)
{
    char target[PATH_MAX], link[PATH_MAX], spec[PATH_MAX + 8];

    make_file("target", "4321\n", 5, 0600);
    assert_true((size_t)snprintf(target, sizeof(target), "%s/target", tmpdir) < sizeof(target));
    assert_true((size_t)snprintf(link, sizeof(link), "%s/link", tmpdir) < sizeof(link));
    assert_int_equal(symlink(target, link), 0);
    assert_true((size_t)snprintf(spec, sizeof(spec), "file:%s", link) < sizeof(spec));
    expect_secret(spec, "4321", 4);
    /* The mode that counts is the target's, not the link's (always 0777). */
    assert_int_equal(chmod(target, 0640), 0);
    expect_error(spec, -EPERM);
}

/* A pipe whose read end carries data and EOF; returns "fd:N" for it. */
static const char *make_pipe(const void *data, size_t len, int *ret_fd)
{
    static char spec[32];
    int p[2];

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_true(p[0] > STDERR_FILENO);
    assert_int_equal(write(p[1], data, len), (ssize_t)len);
    assert_int_equal(close(p[1]), 0);
    assert_true((size_t)snprintf(spec, sizeof(spec), "fd:%d", p[0]) < sizeof(spec));
    *ret_fd = p[0];
    return spec;
}

static void test_fd(void **state)
{
    uint8_t buf[HWSIGN_MAX_PIN + 8];
    const char *spec;
    int fd;

    spec = make_pipe("abcd\n", 5, &fd);
    expect_secret(spec, "abcd", 4);
    assert_true(fcntl(fd, F_GETFD) >= 0); /* left open for its owner */
    assert_int_equal(close(fd), 0);

    spec = make_pipe("abcd\r\n", 6, &fd);
    expect_secret(spec, "abcd", 4);
    close(fd);

    spec = make_pipe("", 0, &fd);
    expect_secret(spec, "", 0);
    close(fd);

    memset(buf, 'q', sizeof(buf));
    spec = make_pipe(buf, sizeof(buf), &fd);
    expect_error(spec, -EMSGSIZE);
    close(fd);

    spec = make_pipe("a\0b", 3, &fd);
    expect_error(spec, -EINVAL);
    close(fd);

    /* Now closed: the number names no descriptor. */
    expect_error(spec, -EBADF);
}

static void test_env(void **state)
{
    struct secret *s = NULL;
    char big[HWSIGN_MAX_PIN + 2];

    assert_int_equal(setenv("HWSIGN_TEST_PIN", "s3cret", 1), 0);
    assert_int_equal(secret_source_read("env:HWSIGN_TEST_PIN", &s), 0);
    assert_string_equal(secret_str(s), "s3cret");
    s = secret_free(s);
    assert_null(getenv("HWSIGN_TEST_PIN")); /* consumed */
    expect_error("env:HWSIGN_TEST_PIN", -ENOENT);

    /* Taken verbatim: no line ending is removed from a variable. */
    assert_int_equal(setenv("HWSIGN_TEST_PIN", "ab\n", 1), 0);
    expect_secret("env:HWSIGN_TEST_PIN", "ab\n", 3);

    assert_int_equal(setenv("HWSIGN_TEST_PIN", "", 1), 0);
    expect_secret("env:HWSIGN_TEST_PIN", "", 0);

    memset(big, 'e', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(setenv("HWSIGN_TEST_PIN", big, 1), 0);
    expect_error("env:HWSIGN_TEST_PIN", -EMSGSIZE);
    assert_null(getenv("HWSIGN_TEST_PIN")); /* a rejected value does not linger either */

    big[HWSIGN_MAX_PIN] = '\0';
    assert_int_equal(setenv("HWSIGN_TEST_PIN", big, 1), 0);
    expect_secret("env:HWSIGN_TEST_PIN", big, HWSIGN_MAX_PIN);
}

static void test_env_value_wiped(void **state)
{
    /* putenv keeps our string: after the read, its bytes must be gone, not just unlinked. */
    static char entry[] = "HWSIGN_TEST_WIPE=topsecret";
    struct secret *s = NULL;

    assert_int_equal(putenv(entry), 0);
    assert_int_equal(secret_source_read("env:HWSIGN_TEST_WIPE", &s), 0);
    assert_string_equal(secret_str(s), "topsecret");
    secret_free(s);
    assert_null(getenv("HWSIGN_TEST_WIPE"));
    assert_null(strstr(entry + strlen("HWSIGN_TEST_WIPE="), "topsecret"));
    assert_int_equal(entry[strlen("HWSIGN_TEST_WIPE=")], '\0');
}

static void test_credential(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int fd;

    assert_true((size_t)snprintf(dir, sizeof(dir), "%s/creds", tmpdir) < sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_true((size_t)snprintf(path, sizeof(path), "%s/hsm-pin", dir) < sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "9999\n", 5), 5);
    /* Group bits as systemd's ACL mask shows them: not refused for credentials. */
    assert_int_equal(fchmod(fd, 0440), 0);
    close(fd);

    assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
    expect_error("credential:hsm-pin", -ENOENT);
    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "", 1), 0);
    expect_error("credential:hsm-pin", -ENOENT);
    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "creds", 1), 0);
    expect_error("credential:hsm-pin", -EINVAL);

    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
    expect_secret("credential:hsm-pin", "9999", 4);
    expect_error("credential:missing", -ENOENT);
    expect_error("credential:../creds/hsm-pin", -EINVAL);
    assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_validate),
            cmocka_unit_test(test_read_invalid_spec),
            cmocka_unit_test(test_file),
            cmocka_unit_test(test_file_mode),
            cmocka_unit_test(test_file_limits),
            cmocka_unit_test(test_file_big),
            cmocka_unit_test(test_file_embedded_nul),
            cmocka_unit_test(test_file_missing_and_special),
            cmocka_unit_test(test_file_symlink),
            cmocka_unit_test(test_fd),
            cmocka_unit_test(test_env),
            cmocka_unit_test(test_env_value_wiped),
            cmocka_unit_test(test_credential),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
