/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fd-util: full writes through short writes, EINTR retries, early EOF, bounded reads at and
 * around the limit, no leaked descriptors, and atomic replacement (mode, no temp file left).
 */
#define _GNU_SOURCE /* pipe2 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fd-util.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)
#define POISON_LEN ((size_t)0xdeadbeef)
#define BIG        (1024u * 1024u) /* well over a pipe's capacity: forces short writes */

static char tmpdir[PATH_MAX];

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof(tmpdir), "%s/test-fd-util.XXXXXX",
                     base && *base ? base : "/tmp");

    signal(SIGPIPE, SIG_IGN);
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

static void path_in_tmp(char *buf, size_t sz, const char *name)
{
    assert_true((size_t)snprintf(buf, sz, "%s/%s", tmpdir, name) < sz);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 131 + (i >> 8));
}

struct reader {
    int fd;
    size_t want;
    int r;
    uint8_t *buf;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;

    rd->r = fd_read_exact(rd->fd, rd->buf, rd->want);
    return NULL;
}

static void test_write_read_big(void **state)
{
    uint8_t *out = malloc(BIG), *in = malloc(BIG);
    struct reader rd = {.want = BIG, .buf = in};
    pthread_t t;
    int p[2];

    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < BIG; i++)
        out[i] = pattern(i);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    rd.fd = p[0];
    assert_int_equal(pthread_create(&t, NULL, reader_main, &rd), 0);
    assert_int_equal(fd_write_all(p[1], out, BIG), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rd.r, 0);
    assert_memory_equal(in, out, BIG);
    close(p[0]);
    close(p[1]);
    free(in);
    free(out);
}

static void test_read_exact_eof(void **state)
{
    uint8_t buf[8] = {0};
    int p[2];

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    close(p[1]);
    assert_int_equal(fd_read_exact(p[0], buf, 4), -EPIPE);
    close(p[0]);
    assert_int_equal(fd_read_exact(p[0], buf, 1), -EBADF);
    assert_int_equal(fd_read_exact(p[0], buf, 0), 0);
}

static void test_write_errors(void **state)
{
    int p[2];

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    close(p[0]);
    assert_int_equal(fd_write_all(p[1], "x", 1), -EPIPE); /* SIGPIPE ignored in setup */
    close(p[1]);
    assert_int_equal(fd_write_all(p[1], "x", 1), -EBADF);
    assert_int_equal(fd_write_all(p[1], "x", 0), 0);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    alarms++;
}

struct late_writer {
    int fd;
};

static void *late_writer_main(void *arg)
{
    struct late_writer *w = arg;
    struct timespec ts = {.tv_nsec = 300 * 1000 * 1000};

    nanosleep(&ts, NULL);
    (void)!write(w->fd, "late", 4);
    return NULL;
}

static void test_read_exact_eintr(void **state)
{
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: read() fails with EINTR */
    struct itimerval it = {.it_value = {.tv_usec = 50 * 1000}};
    struct late_writer w;
    sigset_t block, old;
    pthread_t t;
    char buf[4];
    int p[2];

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    w.fd = p[1];
    /* Only this thread may take the SIGALRM. */
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
    assert_int_equal(pthread_create(&t, NULL, late_writer_main, &w), 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    alarms = 0;
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

    assert_int_equal(fd_read_exact(p[0], buf, 4), 0);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(alarms, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    signal(SIGALRM, SIG_DFL);
    close(p[0]);
    close(p[1]);
}

/* A pipe holding data then EOF. */
static int pipe_with(const void *data, size_t len)
{
    int p[2];

    assert_true(len <= 65536);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(fcntl(p[1], F_SETPIPE_SZ, 65536) >= 0, 1);
    assert_int_equal(fd_write_all(p[1], data, len), 0);
    close(p[1]);
    return p[0];
}

static void test_read_fd_bounded(void **state)
{
    static uint8_t data[50000];
    uint8_t *out = POISON_PTR;
    size_t len = POISON_LEN;
    int fd;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = pattern(i);

    /* Exactly max bytes: accepted (grows past the first block), NUL-terminated. */
    fd = pipe_with(data, sizeof(data));
    assert_int_equal(read_fd_bounded(fd, sizeof(data), &out, &len), 0);
    close(fd);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(out, data, sizeof(data));
    assert_int_equal(out[len], 0);
    free(out);

    /* One byte over: -EFBIG, outputs untouched. */
    out = POISON_PTR;
    len = POISON_LEN;
    fd = pipe_with(data, sizeof(data));
    assert_int_equal(read_fd_bounded(fd, sizeof(data) - 1, &out, &len), -EFBIG);
    close(fd);
    assert_ptr_equal(out, POISON_PTR);
    assert_int_equal(len, POISON_LEN);

    /* Far under the limit, and empty. */
    fd = pipe_with("hi", 2);
    assert_int_equal(read_fd_bounded(fd, 1u << 30, &out, &len), 0);
    close(fd);
    assert_int_equal(len, 2);
    assert_string_equal((char *)out, "hi");
    free(out);
    fd = pipe_with("", 0);
    assert_int_equal(read_fd_bounded(fd, 0, &out, &len), 0);
    close(fd);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0);
    free(out);

    out = POISON_PTR;
    fd = pipe_with("x", 1);
    assert_int_equal(read_fd_bounded(fd, 0, &out, &len), -EFBIG);
    assert_int_equal(read_fd_bounded(fd, SIZE_MAX, &out, &len), -EINVAL);
    close(fd);
    assert_int_equal(read_fd_bounded(fd, 10, &out, &len), -EBADF);
    assert_ptr_equal(out, POISON_PTR);
}

static void write_plain(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(fd_write_all(fd, data, len), 0);
    close(fd);
}

static void test_read_file_bounded(void **state)
{
    char path[PATH_MAX], link[PATH_MAX];
    uint8_t *out = POISON_PTR;
    size_t len = POISON_LEN;
    int fds = count_fds();

    path_in_tmp(path, sizeof(path), "cfg");
    write_plain(path, "[agent]\n", 8);
    assert_int_equal(read_file_bounded(path, 8, &out, &len), 0);
    assert_int_equal(len, 8);
    assert_string_equal((char *)out, "[agent]\n");
    free(out);

    out = POISON_PTR;
    len = POISON_LEN;
    assert_int_equal(read_file_bounded(path, 7, &out, &len), -EFBIG);
    assert_int_equal(read_file_bounded("/nonexistent/hwsign.conf", 8, &out, &len), -ENOENT);
    assert_int_equal(read_file_bounded(tmpdir, 8, &out, &len), -EISDIR);
    path_in_tmp(link, sizeof(link), "cfg-link");
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(read_file_bounded(link, 8, &out, &len), -ELOOP);
    assert_ptr_equal(out, POISON_PTR);
    assert_int_equal(len, POISON_LEN);

    /* st_size is 0 for /proc files: the bounded read still returns (and limits) the content. */
    assert_int_equal(read_file_bounded("/proc/self/status", 1u << 20, &out, &len), 0);
    assert_true(len > 0);
    assert_non_null(strstr((char *)out, "Name:"));
    free(out);
    out = POISON_PTR;
    assert_int_equal(read_file_bounded("/proc/self/status", 16, &out, &len), -EFBIG);
    assert_ptr_equal(out, POISON_PTR);

    assert_int_equal(count_fds(), fds); /* every path closed its descriptor */
}

/* Entries of tmpdir whose name starts with '.', apart from "." and "..": leftover temp files. */
static int count_hidden(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    }
    closedir(d);
    return n;
}

static void test_write_file_atomic(void **state)
{
    char path[PATH_MAX];
    uint8_t *out = NULL;
    size_t len = 0;
    struct stat st, st2;
    mode_t old = umask(0077);
    int fds = count_fds();

    path_in_tmp(path, sizeof(path), "state.json");
    assert_int_equal(write_file_atomic(path, "{}", 2, 0640), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* exactly the mode asked for, umask or not */
    assert_int_equal(read_file_bounded(path, 64, &out, &len), 0);
    assert_string_equal((char *)out, "{}");
    free(out);

    /* Replace: new content under a new inode (rename, not rewrite in place). */
    assert_int_equal(write_file_atomic(path, "{\"a\":1}", 7, 0600), 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_true(st.st_ino != st2.st_ino);
    assert_int_equal(st2.st_mode & 07777, 0600);
    assert_int_equal(read_file_bounded(path, 64, &out, &len), 0);
    assert_string_equal((char *)out, "{\"a\":1}");
    free(out);

    assert_int_equal(write_file_atomic(path, NULL, 0, 0600), 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st2.st_size, 0);
    assert_int_equal(count_hidden(), 0);
    assert_int_equal(count_fds(), fds);
    umask(old);
}

static void test_write_file_atomic_errors(void **state)
{
    char path[PATH_MAX], dir[PATH_MAX];
    int fds = count_fds();

    assert_int_equal(write_file_atomic("/nonexistent-dir/x", "a", 1, 0600), -ENOENT);
    path_in_tmp(path, sizeof(path), "dir/");
    assert_int_equal(write_file_atomic(path, "a", 1, 0600), -EINVAL);
    path_in_tmp(path, sizeof(path), "..");
    assert_int_equal(write_file_atomic(path, "a", 1, 0600), -EINVAL);
    assert_int_equal(write_file_atomic("", "a", 1, 0600), -EINVAL);
    path_in_tmp(path, sizeof(path), "m");
    assert_int_equal(write_file_atomic(path, "a", 1, 010000), -EINVAL);

    /* rename() over a directory fails: the temporary file must be gone afterwards. */
    path_in_tmp(dir, sizeof(dir), "adir");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_true(write_file_atomic(dir, "a", 1, 0600) < 0);
    assert_int_equal(count_hidden(), 0);
    assert_int_equal(count_fds(), fds);
}

static void test_write_file_atomic_relative(void **state)
{
    char cwd[PATH_MAX];
    uint8_t *out = NULL;
    size_t len = 0;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmpdir), 0);
    assert_int_equal(write_file_atomic("rel", "r", 1, 0600), 0);
    assert_int_equal(read_file_bounded("rel", 1, &out, &len), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal((char *)out, "r");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_write_read_big),
            cmocka_unit_test(test_read_exact_eof),
            cmocka_unit_test(test_write_errors),
            cmocka_unit_test(test_read_exact_eintr),
            cmocka_unit_test(test_read_fd_bounded),
            cmocka_unit_test(test_read_file_bounded),
            cmocka_unit_test(test_write_file_atomic),
            cmocka_unit_test(test_write_file_atomic_errors),
            cmocka_unit_test(test_write_file_atomic_relative),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
