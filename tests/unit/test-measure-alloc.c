/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation failures in agent/measure.c: malloc, calloc, strdup and strndup are wrapped
 * (-Wl,--wrap, so only calls from our own objects are caught) and the k-th one fails, for every
 * k until a whole host + peer + toolchain + render round needs no more. Each failing call must
 * return -ENOMEM and leave its outputs alone; the sanitizer build checks that nothing leaks or
 * is used after free on any of those paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "macro.h"
#include "measure.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t nmemb, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t nmemb, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/* Upper bound of rounds: far above the allocations one round makes. */
#define MAX_ROUNDS 2000

static int fail_countdown = -1; /* -1: never; 0: the next allocation fails */
static bool failed;

static bool should_fail(void)
{
    if (fail_countdown < 0)
        return false;
    if (fail_countdown-- == 0) {
        failed = true;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t nmemb, size_t n)
{
    return should_fail() ? NULL : __real_calloc(nmemb, n);
}

char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return should_fail() ? NULL : __real_strndup(s, n);
}

static void pathf(char *buf, size_t cap, const char *fmt, ...) _printf_(3, 4);
static void pathf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void write_str(const char *path, const char *s)
{
    write_file(path, s, strlen(s));
}

static void mkdir_p(const char *path)
{
    assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/*
 * A fake / with os-release, machine-id and boot_id, and a fake /proc/777 whose facts need every
 * kind of allocation: argv, cgroup, cwd, allowlisted, secret and non-UTF-8 variables.
 */
static void make_tree(const char *dir)
{
    static const char cmdline[] = "cc\0-c\0\xff.c\0";
    static const char environ_[] = "CI=1\0GITHUB_TOKEN=t\0GITHUB_X=\xfe\0OTHER=2\0";
    static const char stat_[] = "777 (cc) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n";
    static const char cgroup[] = "0::/system.slice/docker-"
                                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                 ".scope\n";
    char p[PATH_MAX];

    pathf(p, sizeof(p), "%s/etc", dir);
    mkdir_p(p);
    pathf(p, sizeof(p), "%s/etc/os-release", dir);
    write_str(p, "ID=x\nVERSION_ID=1\nPRETTY_NAME=\"X 1\"\n");
    pathf(p, sizeof(p), "%s/etc/machine-id", dir);
    write_str(p, "0123456789abcdef0123456789abcdef\n");
    pathf(p, sizeof(p), "%s/proc", dir);
    mkdir_p(p);
    pathf(p, sizeof(p), "%s/proc/sys", dir);
    mkdir_p(p);
    pathf(p, sizeof(p), "%s/proc/sys/kernel", dir);
    mkdir_p(p);
    pathf(p, sizeof(p), "%s/proc/sys/kernel/random", dir);
    mkdir_p(p);
    pathf(p, sizeof(p), "%s/proc/sys/kernel/random/boot_id", dir);
    write_str(p, "2d79e0f6-faf9-4560-ba23-70c01d31b9fb\n");
    pathf(p, sizeof(p), "%s/proc/777", dir);
    mkdir_p(p);
    pathf(p, sizeof(p), "%s/proc/777/stat", dir);
    write_file(p, stat_, sizeof(stat_) - 1);
    pathf(p, sizeof(p), "%s/proc/777/cmdline", dir);
    write_file(p, cmdline, sizeof(cmdline) - 1);
    pathf(p, sizeof(p), "%s/proc/777/environ", dir);
    write_file(p, environ_, sizeof(environ_) - 1);
    pathf(p, sizeof(p), "%s/proc/777/cgroup", dir);
    write_file(p, cgroup, sizeof(cgroup) - 1);
    pathf(p, sizeof(p), "%s/proc/777/exe", dir);
    assert_int_equal(symlink("/bin/sh", p), 0);
    pathf(p, sizeof(p), "%s/proc/777/cwd", dir);
    assert_int_equal(symlink("/", p), 0);
    pathf(p, sizeof(p), "%s/tool", dir);
    write_str(p, "a compiler\n");
}

static void test_every_allocation_fails_cleanly(void **state)
{
    static const char *const allow[] = {"CI", "GITHUB_*"};
    char dir[] = "/tmp/hwsign-measure-alloc-XXXXXX", proc[PATH_MAX], tool[PATH_MAX];
    char cmd[PATH_MAX + 16];
    const char *paths[2];
    struct peer p = {.uid = 1, .gid = 2, .pid = 777, .pidfd = -1};
    int k;

    assert_non_null(mkdtemp(dir));
    make_tree(dir);
    pathf(proc, sizeof(proc), "%s/proc", dir);
    pathf(tool, sizeof(tool), "%s/tool", dir);
    paths[0] = tool;
    paths[1] = "/nonexistent/tool";

    for (k = 0; k < MAX_ROUNDS; k++) {
        struct measure_host *h = (struct measure_host *)(uintptr_t)0x1;
        struct measure_peer *m = (struct measure_peer *)(uintptr_t)0x1;
        struct measure_toolchain *tc = (struct measure_toolchain *)(uintptr_t)0x1;
        char *text = (char *)(uintptr_t)0x1;
        size_t len = 99;
        int r;

        failed = false;
        fail_countdown = k;
        r = measure_host_read_at(dir, &h);
        if (r == 0)
            r = measure_peer_read_at(proc, &p, allow, ELEMENTSOF(allow), &m);
        if (r == 0)
            r = measure_toolchain_new(paths, ELEMENTSOF(paths), &tc);
        if (r == 0)
            r = measure_toolchain_update(tc);
        if (r == 0)
            r = measure_render_json(h, m, tc, &text, &len);
        fail_countdown = -1;

        if (!failed) {
            /* A full round without a failure: every allocation point has been tried. */
            assert_int_equal(r, 0);
            assert_true(len > 0 && strlen(text) == len);
            assert_non_null(strstr(text, "\"GITHUB_TOKEN\":null"));
            free(text);
            measure_toolchain_free(tc);
            measure_peer_free(m);
            measure_host_free(h);
            break;
        }
        if (r != -ENOMEM)
            fail_msg("allocation %d: got %d, want -ENOMEM", k, r);
        /* Whatever failed left its output untouched; what succeeded is freed. */
        if (text != (char *)(uintptr_t)0x1)
            fail_msg("allocation %d: render wrote its output", k);
        assert_int_equal(len, 99);
        if (tc != (struct measure_toolchain *)(uintptr_t)0x1)
            measure_toolchain_free(tc);
        if (m != (struct measure_peer *)(uintptr_t)0x1)
            measure_peer_free(m);
        if (h != (struct measure_host *)(uintptr_t)0x1)
            measure_host_free(h);
    }
    /* Enough allocations happened that the sweep means something. */
    assert_true(k > 20 && k < MAX_ROUNDS);
    pathf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_allocation_fails_cleanly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
