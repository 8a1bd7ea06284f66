/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-inputs: digests of real files and trees (known answer, streaming past the chunk size,
 * independent SHA-256, bytewise order, symlink/FIFO/socket skipped and reported, a symlink
 * argument resolved, duplicates merged, conflicts refused, every limit one past its edge,
 * failed calls leaving the set as it was), git facts of real repositories (commit against
 * `git rev-parse HEAD`, sha1 and sha256 repositories, clean/dirty, remote chosen and its
 * credentials stripped, detached HEAD, no repository, no commit, no git, GIT_* stripped,
 * timeout and bounded output through a fake git), URL cleaning, real child processes
 * (exit codes, signals, signal forwarding, ignored signals kept, SIGPIPE reset, stdio
 * inherited, command not found) and the externalParameters JSON (exact, deterministic,
 * strict, limits), end to end into an in-toto Statement and a SLSA predicate.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <openssl/evp.h>

#include "attest-inputs.h"
#include "intoto.h"
#include "json.h"
#include "macro.h"
#include "slsa.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)
/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char tmpdir[PATH_MAX];
static char oldcwd[PATH_MAX];
static char *saved_path; /* PATH at start, restored after fake-git tests */

/* ------------------------------------------------------------------ helpers */

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof(tmpdir), "%s/test-attest.XXXXXX",
                     base && *base ? base : "/tmp");

    if (n < 0 || (size_t)n >= sizeof(tmpdir) || !mkdtemp(tmpdir))
        return -1;
    if (!getcwd(oldcwd, sizeof(oldcwd)) || chdir(tmpdir) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 32];
    int n;

    if (saved_path)
        setenv("PATH", saved_path, 1);
    unsetenv("GIT_DIR"); /* set by tests that failed half-way */
    unsetenv("GIT_WORK_TREE");
    unsetenv("GIT_SECRET_TEST");
    if (chdir(oldcwd) < 0)
        return -1;
    n = snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", tmpdir, tmpdir);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
    const char *p = getenv("PATH");

    saved_path = strdup(p ? p : "/usr/bin:/bin");
    /* Test-side git commands only: isolate them from the machine's configuration. */
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    return saved_path ? 0 : -1;
}

static int group_teardown(void **state)
{
    free(saved_path);
    saved_path = NULL;
    return 0;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    int n, st;

    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("command failed (%d): %s", st, cmd);
}

/* First line of a shell command's output. */
static void capture(char *out, size_t size, const char *cmd)
{
    FILE *f = popen(cmd, "r");
    size_t n;

    assert_non_null(f);
    assert_non_null(fgets(out, (int)size, f));
    assert_int_equal(pclose(f), 0);
    n = strlen(out);
    if (n > 0 && out[n - 1] == '\n')
        out[n - 1] = '\0';
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

/* Independent one-shot SHA-256 (OpenSSL EVP_Digest), as lower-case hex. */
static void sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;

    assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
    assert_int_equal(mdlen, 32);
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
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

static struct attest_digests *new_set(size_t max)
{
    struct attest_digests *d = NULL;

    assert_int_equal(attest_digests_new(max, &d), 0);
    assert_non_null(d);
    return d;
}

static const struct attest_entry *find_entry(const struct attest_digests *d, const char *name)
{
    for (size_t i = 0; i < attest_digests_count(d); i++)
        if (strcmp(attest_digests_entry(d, i)->name, name) == 0)
            return attest_digests_entry(d, i);
    return NULL;
}

static void assert_sorted(const struct attest_digests *d)
{
    for (size_t i = 1; i < attest_digests_count(d); i++)
        assert_true(strcmp(attest_digests_entry(d, i - 1)->name, attest_digests_entry(d, i)->name) <
                    0);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The tree most tests use:
 *   out/bin/app  out/lib/libx.so  out/a  out/B  out/.hidden  out/z/deep/f  out/empty/
 *   out/link -> bin/app (symlink)  out/fifo (FIFO)  out/sock (socket)
 */
static const struct {
    const char *name;
    const char *content;
} tree_files[] = {
        {"out/bin/app", "application binary\n"},
        {"out/lib/libx.so", "library"},
        {"out/a", "lower a"},
        {"out/B", "upper B"},
        {"out/.hidden", ""},
        {"out/z/deep/f", "deep file"},
};

static void make_tree(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s;

    sh("mkdir -p out/bin out/lib out/z/deep out/empty");
    for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]); i++)
        write_str(tree_files[i].name, tree_files[i].content);
    assert_int_equal(symlink("bin/app", "out/link"), 0);
    assert_int_equal(mkfifo("out/fifo", 0644), 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "out/sock");
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);
}

/* ------------------------------------------------------------------ 1. digests */

static void test_file_known_answer(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(10);
    const struct attest_entry *e;

    sh("mkdir x");
    write_str("x/abc.txt", "abc");
    assert_int_equal(attest_digests_add_path(d, "./x//abc.txt"), 0);
    assert_int_equal(attest_digests_count(d), 1);
    e = attest_digests_entry(d, 0);
    assert_string_equal(e->name, "x/abc.txt"); /* normalised */
    assert_string_equal(e->sha256_hex, SHA256_ABC);
    for (size_t i = 0; i < 32; i++) {
        char byte[3];
        snprintf(byte, sizeof(byte), "%02x", e->sha256[i]);
        assert_memory_equal(byte, e->sha256_hex + 2 * i, 2);
    }
    assert_null(attest_digests_entry(d, 1));
    assert_int_equal(attest_digests_skipped_count(d), 0);
    assert_null(attest_digests_error_path(d));
}

static void test_file_streaming(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(10);
    size_t len = 3 * ATTEST_HASH_CHUNK + 123;
    uint8_t *buf = malloc(len);
    char want[65];

    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 9));
    write_file("big.bin", buf, len);
    sha256_hex(buf, len, want);
    write_file("empty.bin", "", 0);
    assert_int_equal(attest_digests_add_path(d, "big.bin"), 0);
    assert_int_equal(attest_digests_add_path(d, "empty.bin"), 0);
    assert_string_equal(find_entry(d, "big.bin")->sha256_hex, want);
    sha256_hex("", 0, want);
    assert_string_equal(find_entry(d, "empty.bin")->sha256_hex, want);
    free(buf);
}

static void test_directory_tree(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(100);
    static const char *const order[] = {"out/.hidden", "out/B",           "out/a",
                                        "out/bin/app", "out/lib/libx.so", "out/z/deep/f"};
    int fds;

    make_tree();
    fds = count_fds();
    assert_int_equal(attest_digests_add_path(d, "out/"), 0);
    assert_int_equal(count_fds(), fds);

    /* Every regular file once, in bytewise order ('.' < 'B' < 'a'), with its own digest. */
    assert_int_equal(attest_digests_count(d), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(attest_digests_entry(d, i)->name, order[i]);
    assert_sorted(d);
    for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]); i++) {
        char want[65];
        const struct attest_entry *e = find_entry(d, tree_files[i].name);

        assert_non_null(e);
        sha256_hex(tree_files[i].content, strlen(tree_files[i].content), want);
        assert_string_equal(e->sha256_hex, want);
    }

    /* The symlink is not followed (bin/app is counted once), FIFO and socket not read. */
    assert_int_equal(attest_digests_skipped_count(d), 3);
    assert_int_equal(attest_digests_skipped_listed(d), 3);
    assert_string_equal(attest_digests_skipped(d, 0)->name, "out/fifo");
    assert_int_equal(attest_digests_skipped(d, 0)->reason, ATTEST_SKIP_FIFO);
    assert_string_equal(attest_digests_skipped(d, 1)->name, "out/link");
    assert_int_equal(attest_digests_skipped(d, 1)->reason, ATTEST_SKIP_SYMLINK);
    assert_string_equal(attest_digests_skipped(d, 2)->name, "out/sock");
    assert_int_equal(attest_digests_skipped(d, 2)->reason, ATTEST_SKIP_SOCKET);
    assert_null(attest_digests_skipped(d, 3));
    assert_string_equal(attest_skip_reason_name(ATTEST_SKIP_SYMLINK), "symlink");
    assert_string_equal(attest_skip_reason_name(ATTEST_SKIP_FIFO), "fifo");
    assert_string_equal(attest_skip_reason_name(ATTEST_SKIP_SOCKET), "socket");
    assert_string_equal(attest_skip_reason_name(ATTEST_SKIP_DEVICE), "device");
    assert_string_equal(attest_skip_reason_name(ATTEST_SKIP_OTHER), "other");

    /* The same tree again: nothing new, nothing counted twice. */
    assert_int_equal(attest_digests_add_path(d, "./out"), 0);
    assert_int_equal(attest_digests_count(d), 6);
    assert_int_equal(attest_digests_skipped_count(d), 3);
}

static void test_device_skipped(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = NULL;

    sh("mkdir dev");
    /* A character device (1,3: the null device); needs CAP_MKNOD. */
    if (mknod("dev/null", S_IFCHR | 0666, makedev(1, 3)) < 0) {
        print_message("mknod: %s: device node test skipped\n", strerror(errno));
        skip();
    }
    d = new_set(10);
    write_str("dev/regular", "r");
    assert_int_equal(attest_digests_add_path(d, "dev"), 0);
    assert_int_equal(attest_digests_count(d), 1);
    assert_int_equal(attest_digests_skipped_count(d), 1);
    assert_string_equal(attest_digests_skipped(d, 0)->name, "dev/null");
    assert_int_equal(attest_digests_skipped(d, 0)->reason, ATTEST_SKIP_DEVICE);
    /* Named directly it is refused, never opened. */
    assert_int_equal(attest_digests_add_path(d, "dev/null"), -EINVAL);
}

static void test_dot_and_order(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *a = new_set(100), *b = new_set(100),
                                                          *c = new_set(100);

    make_tree();
    /* Argument order does not change the result. */
    assert_int_equal(attest_digests_add_path(a, "out/bin"), 0);
    assert_int_equal(attest_digests_add_path(a, "out/z"), 0);
    assert_int_equal(attest_digests_add_path(a, "out/a"), 0);
    assert_int_equal(attest_digests_add_path(b, "out/a"), 0);
    assert_int_equal(attest_digests_add_path(b, "out/z/"), 0);
    assert_int_equal(attest_digests_add_path(b, "out/bin"), 0);
    assert_int_equal(attest_digests_count(a), 3);
    assert_int_equal(attest_digests_count(b), 3);
    assert_sorted(a);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(attest_digests_entry(a, i)->name, attest_digests_entry(b, i)->name);
        assert_memory_equal(attest_digests_entry(a, i)->sha256, attest_digests_entry(b, i)->sha256,
                            32);
    }
    /* A file inside a directory already added is merged, not repeated. */
    assert_int_equal(attest_digests_add_path(a, "out/bin/app"), 0);
    assert_int_equal(attest_digests_count(a), 3);

    /* "." gives bare relative names. */
    assert_int_equal(chdir("out"), 0);
    assert_int_equal(attest_digests_add_path(c, "."), 0);
    assert_int_equal(chdir(".."), 0);
    assert_int_equal(attest_digests_count(c), 6);
    assert_string_equal(attest_digests_entry(c, 0)->name, ".hidden");
    assert_non_null(find_entry(c, "bin/app"));
    assert_non_null(find_entry(c, "z/deep/f"));
    assert_string_equal(attest_digests_skipped(c, 1)->name, "link");
}

static void test_symlink_argument(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(100);
    char want[65];

    make_tree();
    assert_int_equal(symlink("out/bin/app", "applink"), 0);
    assert_int_equal(symlink("out/bin", "dirlink"), 0);
    assert_int_equal(attest_digests_add_path(d, "applink"), 0);
    assert_int_equal(attest_digests_add_path(d, "dirlink"), 0);
    assert_int_equal(attest_digests_count(d), 2);
    sha256_hex(tree_files[0].content, strlen(tree_files[0].content), want);
    assert_string_equal(find_entry(d, "applink")->sha256_hex, want);
    assert_string_equal(find_entry(d, "dirlink/app")->sha256_hex, want);
    assert_int_equal(attest_digests_skipped_count(d), 0);
}

static void test_bad_paths(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(100);

    make_tree();
    assert_int_equal(attest_digests_add_path(d, "out/a"), 0);
    assert_int_equal(attest_digests_add_path(d, "nope/x"), -ENOENT);
    assert_string_equal(attest_digests_error_path(d), "nope/x");
    assert_int_equal(attest_digests_add_path(d, "out/a/x"), -ENOTDIR);
    assert_string_equal(attest_digests_error_path(d), "out/a/x");
    /* A FIFO named directly is an error, not a hang. */
    assert_int_equal(attest_digests_add_path(d, "out/fifo"), -EINVAL);
    assert_string_equal(attest_digests_error_path(d), "out/fifo");
    assert_int_equal(attest_digests_add_path(d, "/dev/null"), -EINVAL);
    assert_int_equal(attest_digests_add_path(d, ""), -EINVAL);
    assert_int_equal(attest_digests_add_path(d, NULL), -EINVAL);
    assert_int_equal(attest_digests_add_path(NULL, "out"), -EINVAL);
    assert_int_equal(attest_digests_count(d), 1);
    /* A successful call clears the error. */
    assert_int_equal(attest_digests_add_path(d, "out/B"), 0);
    assert_null(attest_digests_error_path(d));
}

static void test_unreadable(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = NULL;

    if (geteuid() == 0) {
        print_message("running as root: permission checks do not apply, EACCES test skipped\n");
        skip(); /* longjmps: nothing allocated yet */
    }
    d = new_set(100);
    make_tree();
    assert_int_equal(chmod("out/lib/libx.so", 0), 0);
    assert_int_equal(attest_digests_add_path(d, "out"), -EACCES);
    assert_string_equal(attest_digests_error_path(d), "out/lib/libx.so");
    assert_int_equal(attest_digests_count(d), 0);
}

static void test_conflict(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(100);

    /* Two different files under one name (relative to two working directories). */
    sh("mkdir one two");
    write_str("one/x", "first");
    write_str("two/x", "second");
    assert_int_equal(chdir("one"), 0);
    assert_int_equal(attest_digests_add_path(d, "x"), 0);
    assert_int_equal(chdir("../two"), 0);
    assert_int_equal(attest_digests_add_path(d, "x"), -EEXIST);
    assert_int_equal(chdir(".."), 0);
    assert_string_equal(attest_digests_error_path(d), "x");
    assert_int_equal(attest_digests_count(d), 1);
    assert_string_equal(attest_digests_entry(d, 0)->name, "x");
}

static void test_limit_entries(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(3);
    struct attest_digests *none = POISON_PTR;
    char name[64];

    assert_int_equal(attest_digests_new(0, &none), -EINVAL);
    assert_int_equal(attest_digests_new(ATTEST_MAX_ENTRIES + 1, &none), -EINVAL);
    assert_ptr_equal(none, POISON_PTR);

    sh("mkdir many few");
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "many/f%d", i);
        write_str(name, name);
    }
    write_str("few/1", "1");
    write_str("few/2", "2");
    write_str("single", "s");
    assert_int_equal(attest_digests_add_path(d, "single"), 0);
    /* 1 + 3 > 3: refused, and the set is as it was. */
    assert_int_equal(attest_digests_add_path(d, "many"), -E2BIG);
    assert_non_null(attest_digests_error_path(d));
    assert_true(strncmp(attest_digests_error_path(d), "many/f", 6) == 0);
    assert_int_equal(attest_digests_count(d), 1);
    /* 1 + 2 = 3: at the limit. */
    assert_int_equal(attest_digests_add_path(d, "few"), 0);
    assert_int_equal(attest_digests_count(d), 3);
    assert_int_equal(attest_digests_add_path(d, "many/f0"), -E2BIG);
    assert_int_equal(attest_digests_count(d), 3);
}

static void test_limit_depth(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(10);
    char path[4 * ATTEST_MAX_DEPTH + 64];
    size_t n;

    /* ATTEST_MAX_DEPTH directory levels below the argument: fine. */
    n = (size_t)snprintf(path, sizeof(path), "deep");
    assert_int_equal(mkdir(path, 0755), 0);
    for (unsigned i = 0; i < ATTEST_MAX_DEPTH; i++) {
        n += (size_t)snprintf(path + n, sizeof(path) - n, "/d");
        assert_int_equal(mkdir(path, 0755), 0);
    }
    snprintf(path + n, sizeof(path) - n, "/f");
    write_str(path, "bottom");
    assert_int_equal(attest_digests_add_path(d, "deep"), 0);
    assert_int_equal(attest_digests_count(d), 1);
    assert_string_equal(attest_digests_entry(d, 0)->name, path);

    /* One more: refused, naming the directory too deep. */
    path[n] = '\0';
    n += (size_t)snprintf(path + n, sizeof(path) - n, "/e");
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(attest_digests_add_path(d, "deep"), -ELOOP);
    assert_string_equal(attest_digests_error_path(d), path);
    assert_int_equal(attest_digests_count(d), 1);
}

static void test_limit_name(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(10);
    char comp[201], *arg;
    size_t levels = ATTEST_MAX_NAME / (sizeof(comp) - 1) + 1, len = 4;
    int dfd, fds = count_fds();

    /* "long/<200>/<200>/..." past ATTEST_MAX_NAME bytes, built with *at() calls. */
    memset(comp, 'n', sizeof(comp) - 1);
    comp[sizeof(comp) - 1] = '\0';
    assert_int_equal(mkdir("long", 0755), 0);
    dfd = open("long", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    for (size_t i = 0; i < levels; i++) {
        int next;
        assert_int_equal(mkdirat(dfd, comp, 0755), 0);
        next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(next >= 0);
        close(dfd);
        dfd = next;
        len += 1 + strlen(comp);
    }
    close(dfd);
    assert_true(len > ATTEST_MAX_NAME);
    assert_int_equal(attest_digests_add_path(d, "long"), -ENAMETOOLONG);
    assert_non_null(attest_digests_error_path(d));
    assert_true(strncmp(attest_digests_error_path(d), "long/nnn", 8) == 0);
    assert_int_equal(count_fds(), fds);

    /* An argument longer than ATTEST_MAX_NAME. */
    arg = malloc(ATTEST_MAX_NAME + 2);
    assert_non_null(arg);
    memset(arg, 'a', ATTEST_MAX_NAME + 1);
    arg[ATTEST_MAX_NAME + 1] = '\0';
    assert_int_equal(attest_digests_add_path(d, arg), -ENAMETOOLONG);
    free(arg);
    assert_int_equal(attest_digests_count(d), 0);
}

static void test_skipped_listed_limit(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(10);
    char name[64];

    sh("mkdir links");
    for (unsigned i = 0; i < ATTEST_MAX_SKIPPED_LISTED + 5; i++) {
        snprintf(name, sizeof(name), "links/l%05u", i);
        assert_int_equal(symlink("/nonexistent", name), 0);
    }
    assert_int_equal(attest_digests_add_path(d, "links"), 0);
    assert_int_equal(attest_digests_count(d), 0);
    assert_int_equal(attest_digests_skipped_count(d), ATTEST_MAX_SKIPPED_LISTED + 5);
    assert_int_equal(attest_digests_skipped_listed(d), ATTEST_MAX_SKIPPED_LISTED);
    assert_null(attest_digests_skipped(d, ATTEST_MAX_SKIPPED_LISTED));
    for (size_t i = 1; i < attest_digests_skipped_listed(d); i++)
        assert_true(strcmp(attest_digests_skipped(d, i - 1)->name,
                           attest_digests_skipped(d, i)->name) < 0);
}

static void test_subjects_statement(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = new_set(ATTEST_MAX_PRODUCTS);
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_free_ struct intoto_subject *subjects = NULL;
    _cleanup_free_ struct slsa_dependency *deps = NULL;
    _cleanup_free_ char *stmt = NULL;
    struct attest_digests *empty = new_set(1);
    struct intoto_subject *none = POISON_PTR;
    size_t n = 0, len = 0;

    make_tree();
    assert_int_equal(attest_digests_add_path(d, "out"), 0);
    assert_int_equal(attest_digests_subjects(d, &subjects, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(attest_digests_dependencies(d, &deps, &n), 0);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        const struct attest_entry *e = attest_digests_entry(d, i);
        assert_ptr_equal(subjects[i].name, e->name);
        assert_memory_equal(subjects[i].sha256, e->sha256, 32);
        assert_ptr_equal(deps[i].name, e->name);
        assert_ptr_equal(deps[i].sha256, e->sha256_hex);
        assert_null(deps[i].uri);
        assert_null(deps[i].git_commit);
    }
    assert_int_equal(intoto_statement_build(subjects, n, SLSA_PREDICATE_TYPE, NULL, 0, &stmt, &len),
                     0);
    assert_int_equal(intoto_statement_parse((const uint8_t *)stmt, len, &st), 0);
    assert_int_equal(intoto_statement_subject_count(st), 6);
    assert_string_equal(intoto_statement_subject_name(st, 3), "out/bin/app");
    assert_memory_equal(intoto_statement_subject_sha256(st, 3), attest_digests_entry(d, 3)->sha256,
                        32);

    assert_int_equal(attest_digests_subjects(empty, &none, &n), 0);
    assert_null(none);
    assert_int_equal(n, 0);
    attest_digests_free(empty);
}

/* ------------------------------------------------------------------ 2. git */

#define GIT "git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false "

static void make_repo(const char *dir, const char *extra_init)
{
    char path[PATH_MAX];

    sh("git -c init.defaultBranch=main init -q %s '%s'", extra_init, dir);
    snprintf(path, sizeof(path), "%s/file", dir);
    write_str(path, "tracked\n");
    sh("cd '%s' && git add file && " GIT "commit -q -m one", dir);
}

static struct attest_git_info *detect_ok(const char *dir)
{
    struct attest_git_info *g = NULL;

    assert_int_equal(attest_git_detect(dir, 0, &g), 1);
    assert_non_null(g);
    return g;
}

static void test_git_clean_dirty(void **state)
{
    char head[128];
    struct attest_git_info *g;
    int fds = count_fds();

    make_repo("repo", "");
    capture(head, sizeof(head), "git -C repo rev-parse HEAD");
    assert_int_equal(strlen(head), 40);

    g = detect_ok("repo");
    assert_string_equal(g->commit, head);
    assert_string_equal(g->ref, "refs/heads/main");
    assert_null(g->url); /* no remote */
    assert_null(g->uri);
    assert_false(g->dirty);
    attest_git_info_free(g);
    assert_int_equal(count_fds(), fds);

    /* From a subdirectory of the work tree. */
    sh("mkdir repo/sub");
    g = detect_ok("repo/sub");
    assert_string_equal(g->commit, head);
    assert_false(g->dirty); /* an empty directory is not untracked content */
    attest_git_info_free(g);

    write_str("repo/file", "modified\n");
    g = detect_ok("repo");
    assert_true(g->dirty);
    attest_git_info_free(g);

    sh("git -C repo checkout -q -- file");
    g = detect_ok("repo");
    assert_false(g->dirty);
    attest_git_info_free(g);

    write_str("repo/sub/untracked", "new\n");
    g = detect_ok("repo");
    assert_true(g->dirty);
    attest_git_info_free(g);

    /* A new commit moves the commit. */
    sh("cd repo && git add sub/untracked && " GIT "commit -q -m two");
    capture(head, sizeof(head), "git -C repo rev-parse HEAD");
    g = detect_ok("repo");
    assert_string_equal(g->commit, head);
    assert_false(g->dirty);
    attest_git_info_free(g);
}

static void test_git_remote(void **state)
{
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL, *g2 = NULL, *g3 = NULL;
    struct slsa_dependency dep = {.name = POISON_PTR};
    char head[128];

    make_repo("repo", "");
    capture(head, sizeof(head), "git -C repo rev-parse HEAD");
    /* "aaa" sorts and is added first, but "origin" wins. */
    sh("git -C repo remote add aaa https://first.example/a.git");
    sh("git -C repo remote add origin https://user:pw@Example.com/x.git");
    g = detect_ok("repo");
    assert_string_equal(g->url, "https://example.com/x.git");
    assert_string_equal(g->uri, "git+https://example.com/x.git@refs/heads/main");
    assert_null(strstr(g->uri, "pw"));
    assert_null(strstr(g->uri, "user"));

    assert_int_equal(attest_git_dependency(g, &dep), 0);
    assert_ptr_equal(dep.uri, g->uri);
    assert_ptr_equal(dep.git_commit, g->commit);
    assert_null(dep.name);
    assert_null(dep.sha256);
    assert_string_equal(dep.git_commit, head);

    /* Without origin: the first remote. */
    sh("git -C repo remote remove origin");
    g2 = detect_ok("repo");
    assert_string_equal(g2->url, "https://first.example/a.git");

    /* A remote we cannot turn into a URI (relative path): commit only. */
    sh("git -C repo remote remove aaa && git -C repo remote add origin ../elsewhere");
    g3 = detect_ok("repo");
    assert_null(g3->url);
    assert_null(g3->uri);
    assert_string_equal(g3->commit, head);
    assert_int_equal(attest_git_dependency(g3, &dep), 0);
    assert_null(dep.uri);
}

static void test_git_detached(void **state)
{
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL;
    char head[128];

    make_repo("repo", "");
    sh("git -C repo remote add origin git@GitHub.com:org/repo.git");
    sh("git -C repo checkout -q --detach");
    capture(head, sizeof(head), "git -C repo rev-parse HEAD");
    g = detect_ok("repo");
    assert_null(g->ref);
    assert_string_equal(g->commit, head);
    assert_string_equal(g->url, "ssh://git@github.com/org/repo.git");
    assert_string_equal(g->uri, "git+ssh://git@github.com/org/repo.git");
}

static void test_git_sha256(void **state)
{
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL;
    char head[128];

    if (system("git init -q --object-format=sha256 probe-sha256 >/dev/null 2>&1") != 0) {
        print_message("git without --object-format=sha256: sha256 repository test skipped\n");
        skip();
    }
    make_repo("repo", "--object-format=sha256");
    capture(head, sizeof(head), "git -C repo rev-parse HEAD");
    assert_int_equal(strlen(head), 64);
    g = detect_ok("repo");
    assert_string_equal(g->commit, head);
}

static void test_git_no_info(void **state)
{
    struct attest_git_info *g = POISON_PTR;

    sh("mkdir plain");
    assert_int_equal(attest_git_detect("plain", 0, &g), 0);
    assert_null(g);

    /* A repository without a commit has no source commit to record. */
    g = POISON_PTR;
    sh("git init -q fresh");
    assert_int_equal(attest_git_detect("fresh", 0, &g), 0);
    assert_null(g);

    /* Inside .git is not a work tree. */
    g = POISON_PTR;
    make_repo("repo", "");
    assert_int_equal(attest_git_detect("repo/.git", 0, &g), 0);
    assert_null(g);

    g = POISON_PTR;
    assert_int_equal(attest_git_detect("does-not-exist", 0, &g), 0);
    assert_null(g);

    g = POISON_PTR;
    assert_int_equal(attest_git_detect("", 0, &g), -EINVAL);
    assert_int_equal(attest_git_detect(NULL, 0, &g), -EINVAL);
    assert_ptr_equal(g, POISON_PTR);
}

static void test_git_env_stripped(void **state)
{
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL;

    make_repo("repo", "");
    /* Passed on, these would point git elsewhere and the repository would not be found. */
    setenv("GIT_DIR", "/nonexistent", 1);
    setenv("GIT_WORK_TREE", "/nonexistent", 1);
    assert_int_equal(attest_git_detect("repo", 0, &g), 1);
    unsetenv("GIT_DIR");
    unsetenv("GIT_WORK_TREE");
    assert_non_null(g);
}

static void install_fake_git(const char *body)
{
    char path[PATH_MAX + 32];
    FILE *f;

    if (mkdir("fakebin", 0755) < 0)
        assert_int_equal(errno, EEXIST);
    assert_true((size_t)snprintf(path, sizeof(path), "%s/fakebin/git", tmpdir) < sizeof(path));
    f = fopen(path, "we");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nPATH=/usr/bin:/bin\n%s\n", body);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
    assert_true((size_t)snprintf(path, sizeof(path), "%s/fakebin", tmpdir) < sizeof(path));
    setenv("PATH", path, 1);
}

static void test_git_missing(void **state)
{
    struct attest_git_info *g = POISON_PTR;

    make_repo("repo", "");
    sh("mkdir nobin");
    setenv("PATH", "nobin", 1);
    assert_int_equal(attest_git_detect("repo", 0, &g), 0);
    setenv("PATH", saved_path, 1);
    assert_null(g);
}

static void test_git_fake_invocation(void **state)
{
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL;
    char line[4096];
    FILE *f;

    /* Records argv and the GIT_* environment it got, answers like a repository would. */
    install_fake_git("echo \"$*\" >> args.log\n"
                     "env | grep '^GIT_' >> env.log\n"
                     "shift 5\n"
                     "case \"$1 $2\" in\n"
                     "'rev-parse --is-inside-work-tree') echo true ;;\n"
                     "'rev-parse --verify') echo 0123456789abcdef0123456789abcdef01234567 ;;\n"
                     "'symbolic-ref -q') echo refs/heads/dev ;;\n"
                     "'remote ') printf 'up\\n' ;;\n"
                     "'remote get-url') echo https://tok@Host.Example/r.git ;;\n"
                     "'status --porcelain') yes ' M file' | head -c 1000000 ;;\n"
                     "*) exit 2 ;;\n"
                     "esac");
    setenv("GIT_SECRET_TEST", "x", 1);
    assert_int_equal(attest_git_detect("some dir", 0, &g), 1);
    unsetenv("GIT_SECRET_TEST");
    assert_string_equal(g->commit, "0123456789abcdef0123456789abcdef01234567");
    assert_string_equal(g->ref, "refs/heads/dev");
    assert_string_equal(g->url, "https://host.example/r.git");
    assert_string_equal(g->uri, "git+https://host.example/r.git@refs/heads/dev");
    assert_true(g->dirty); /* output far over ATTEST_GIT_MAX_OUTPUT: drained, still dirty */

    f = fopen("args.log", "re");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
#define FAKE_PREFIX "--no-optional-locks -c core.fsmonitor=false -C some dir "
    assert_string_equal(line, FAKE_PREFIX "rev-parse --is-inside-work-tree\n");
    while (fgets(line, sizeof(line), f))
        assert_true(strncmp(line, FAKE_PREFIX, strlen(FAKE_PREFIX)) == 0);
#undef FAKE_PREFIX
    fclose(f);
    /* Nothing GIT_* reached git (env.log exists and is empty). */
    f = fopen("env.log", "re");
    assert_non_null(f);
    assert_null(fgets(line, sizeof(line), f));
    fclose(f);
}

static void test_git_bad_output(void **state)
{
    struct attest_git_info *g = POISON_PTR;

    install_fake_git("shift 5\n"
                     "case \"$1\" in rev-parse) "
                     "if [ \"$2\" = --verify ]; then echo NOT-A-COMMIT; else echo true; fi ;;"
                     "*) exit 0 ;; esac");
    assert_int_equal(attest_git_detect("x", 0, &g), -EBADMSG);
    assert_ptr_equal(g, POISON_PTR);
    /* A status that fails in a work tree is an error, not "clean". */
    install_fake_git("shift 5\n"
                     "case \"$1\" in rev-parse) "
                     "if [ \"$2\" = --verify ]; then echo 0123456789abcdef0123456789abcdef01234567;"
                     " else echo true; fi ;;"
                     "symbolic-ref) exit 1 ;; remote) exit 0 ;; *) exit 128 ;; esac");
    assert_int_equal(attest_git_detect("x", 0, &g), -EBADMSG);
    assert_ptr_equal(g, POISON_PTR);
}

static void test_git_timeout(void **state)
{
    struct attest_git_info *g = POISON_PTR;
    int64_t t0;

    install_fake_git("exec sleep 20");
    t0 = monotonic_ms();
    assert_int_equal(attest_git_detect("x", 200, &g), -ETIMEDOUT);
    assert_true(monotonic_ms() - t0 < 5000);
    assert_ptr_equal(g, POISON_PTR);
    /* The killed git was reaped: no child left behind. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_clean_url(void **state)
{
    static const struct {
        const char *in, *out;
    } ok[] = {
            {"https://user:pw@Example.COM/x.git", "https://example.com/x.git"},
            {"https://ghp_token@github.com/o/r", "https://github.com/o/r"},
            {"http://u@h.example:8080/r", "http://h.example:8080/r"},
            {"HTTPS://Host.Example/Path/X.git", "https://host.example/Path/X.git"},
            {"ssh://git@GitHub.com/o/r.git", "ssh://git@github.com/o/r.git"},
            {"ssh://git:secret@host/o/r", "ssh://host/o/r"},
            {"git://host.example/r", "git://host.example/r"},
            {"git@github.com:o/r.git", "ssh://git@github.com/o/r.git"},
            {"host.example:~user/r", "ssh://host.example/~user/r"},
            {"host.example:/abs/r", "ssh://host.example/abs/r"},
            {"/srv/git/r.git", "file:///srv/git/r.git"},
            {"file:///srv/r.git", "file:///srv/r.git"},
    };
    static const char *const bad[] = {
            "",      "../rel", "r.git",       "https://",     "a b:c",     "https://h/x\n",
            ":path", "host:",  "-oProxy=x:r", "https://u@/x", "sub/dir:x", "ssh://-oProxy=x/r"};
    char *out = POISON_PTR;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *u = NULL;
        assert_int_equal(attest_git_clean_url(ok[i].in, &u), 0);
        if (strcmp(u, ok[i].out) != 0)
            fail_msg("%s -> %s, want %s", ok[i].in, u, ok[i].out);
        free(u);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (attest_git_clean_url(bad[i], &out) != -EINVAL)
            fail_msg("accepted: '%s'", bad[i]);
        assert_ptr_equal(out, POISON_PTR);
    }
    assert_int_equal(attest_git_clean_url(NULL, &out), -EINVAL);
    assert_ptr_equal(out, POISON_PTR);
}

/* ------------------------------------------------------------------ 3. run */

static void assert_times(const struct attest_run_result *r)
{
    int64_t s = 0, f = 0;

    assert_int_equal(slsa_timestamp_parse(r->started_on, strlen(r->started_on), &s), 0);
    assert_int_equal(slsa_timestamp_parse(r->finished_on, strlen(r->finished_on), &f), 0);
    assert_int_equal(s, r->started.tv_sec);
    assert_int_equal(f, r->finished.tv_sec);
    assert_true(s <= f);
    assert_true(
            r->started.tv_sec < r->finished.tv_sec ||
            (r->started.tv_sec == r->finished.tv_sec && r->started.tv_nsec <= r->finished.tv_nsec));
    assert_true(strcmp(r->started_on, r->finished_on) <= 0);
}

static void run_ok(char *const argv[], struct attest_run_result *r)
{
    char cwd[PATH_MAX];

    memset(r, 0xa5, sizeof(*r));
    assert_int_equal(attest_run(argv, r), 0);
    assert_times(r);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_string_equal(r->working_directory, cwd);
    assert_true(r->pid > 0);
}

static void test_run_exit_status(void **state)
{
    char *t[] = {"true", NULL}, *f[] = {"false", NULL}, *e3[] = {"sh", "-c", "exit 3", NULL},
         *k[] = {"sh", "-c", "kill -TERM $$", NULL};
    struct attest_run_result r;
    struct timespec now;
    int fds = count_fds();

    clock_gettime(CLOCK_REALTIME, &now);
    run_ok(t, &r);
    assert_false(r.signaled);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.signal, 0);
    assert_int_equal(r.interrupt, 0);
    assert_int_equal(attest_run_shell_status(&r), 0);
    assert_true(r.started.tv_sec >= now.tv_sec);

    run_ok(f, &r);
    assert_false(r.signaled);
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(attest_run_shell_status(&r), 1);

    run_ok(e3, &r);
    assert_int_equal(r.exit_code, 3);

    run_ok(k, &r);
    assert_true(r.signaled);
    assert_int_equal(r.signal, SIGTERM);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.interrupt, 0); /* the command's signal, not ours */
    assert_int_equal(attest_run_shell_status(&r), 128 + SIGTERM);
    assert_int_equal(count_fds(), fds);
}

static void test_run_duration(void **state)
{
    char *s[] = {"sleep", "1.1", NULL};
    struct attest_run_result r;

    run_ok(s, &r);
    assert_int_equal(r.exit_code, 0);
    assert_true(r.finished.tv_sec - r.started.tv_sec >= 1);
    assert_true(strcmp(r.started_on, r.finished_on) < 0);
}

static void test_run_not_found(void **state)
{
    char *nf[] = {"hwsign-no-such-command-xyz", NULL}, *rel[] = {"./notexec", NULL},
         *empty[] = {NULL};
    struct attest_run_result r, poison;

    memset(&poison, 0xa5, sizeof(poison));
    r = poison;
    /* A PATH entry we may not search would make it EACCES, as execvp does. */
    setenv("PATH", "/usr/bin:/bin", 1);
    assert_int_equal(attest_run(nf, &r), -ENOENT);
    assert_memory_equal(&r, &poison, sizeof(r));
    /* No execute bit: not even root may run it. */
    write_str("notexec", "#!/bin/sh\nexit 0\n");
    assert_int_equal(attest_run(rel, &r), -EACCES);
    assert_memory_equal(&r, &poison, sizeof(r));
    assert_int_equal(attest_run(empty, &r), -EINVAL);
    assert_int_equal(attest_run(NULL, &r), -EINVAL);
    assert_memory_equal(&r, &poison, sizeof(r));
}

static void test_run_forwards_signal(void **state)
{
    /* The command signals us (kill from another process: si_code SI_USER); we must pass it
     * on, or sleep runs its 20 s and exits 0. */
    char *argv[] = {"sh", "-c", "kill -TERM $PPID; exec sleep 20", NULL};
    struct sigaction before, after;
    struct attest_run_result r;
    int64_t t0;

    assert_int_equal(sigaction(SIGTERM, NULL, &before), 0);
    t0 = monotonic_ms();
    run_ok(argv, &r);
    assert_true(monotonic_ms() - t0 < 15000);
    assert_true(r.signaled);
    assert_int_equal(r.signal, SIGTERM);
    assert_int_equal(r.interrupt, SIGTERM);
    /* Our handler is gone again. */
    assert_int_equal(sigaction(SIGTERM, NULL, &after), 0);
    assert_ptr_equal(after.sa_handler, before.sa_handler);
    assert_int_equal(after.sa_flags & SA_SIGINFO, before.sa_flags & SA_SIGINFO);
}

static void test_run_signal_dispositions(void **state)
{
    char *ign[] = {"sh", "-c", "kill -INT $$; kill -INT $PPID; exit 7", NULL},
         *pipe_[] = {"sh", "-c", "kill -PIPE $$; exit 0", NULL};
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_pipe, now;
    struct attest_run_result r;

    /* SIGINT ignored by the caller stays ignored, in us and in the command. */
    sigemptyset(&ignore.sa_mask);
    assert_int_equal(sigaction(SIGINT, &ignore, &old_int), 0);
    run_ok(ign, &r);
    assert_false(r.signaled);
    assert_int_equal(r.exit_code, 7);
    assert_int_equal(r.interrupt, 0);
    assert_int_equal(sigaction(SIGINT, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, SIG_IGN);
    assert_int_equal(sigaction(SIGINT, &old_int, NULL), 0);

    /* SIGPIPE ignored by the caller is reset for the command. */
    assert_int_equal(sigaction(SIGPIPE, &ignore, &old_pipe), 0);
    run_ok(pipe_, &r);
    assert_true(r.signaled);
    assert_int_equal(r.signal, SIGPIPE);
    assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
}

static void test_run_inherits_stdio(void **state)
{
    char *argv[] = {"sh", "-c", "read line; echo \"got $line\"; echo err >&2", NULL};
    struct attest_run_result r;
    int in, out, err, saved[3];
    char buf[64] = {0};
    ssize_t n;

    write_str("in.txt", "hello\n");
    in = open("in.txt", O_RDONLY | O_CLOEXEC);
    out = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    err = open("err.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(in >= 0 && out >= 0 && err >= 0);
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 3; i++)
        saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    memset(&r, 0, sizeof(r));
    n = attest_run(argv, &r);
    for (int i = 0; i < 3; i++) {
        dup2(saved[i], i);
        close(saved[i]);
    }
    close(in);
    close(out);
    close(err);
    assert_int_equal(n, 0);
    assert_int_equal(r.exit_code, 0);
    in = open("out.txt", O_RDONLY | O_CLOEXEC);
    n = read(in, buf, sizeof(buf) - 1);
    close(in);
    assert_int_equal(n, 10);
    assert_string_equal(buf, "got hello\n");
    memset(buf, 0, sizeof(buf));
    in = open("err.txt", O_RDONLY | O_CLOEXEC);
    assert_int_equal(read(in, buf, sizeof(buf) - 1), 4);
    close(in);
    assert_string_equal(buf, "err\n");
}

/* ------------------------------------------------------------------ 4. externalParameters */

static void test_external_parameters(void **state)
{
    char *argv[] = {"make", "-j2", "CFLAGS=-O2 \"q\"\\", "/path/x", NULL};
    struct attest_run_result run = {.exit_code = 2};
    struct attest_git_info src = {
            .commit = "0123456789abcdef0123456789abcdef01234567",
            .uri = "git+https://example.com/x.git@refs/heads/main",
            .dirty = true,
    };
    struct json_object *obj = NULL, *s = NULL;
    char *a = NULL, *b = NULL, *c = POISON_PTR;
    size_t alen = 0, blen = 0, clen = 0;
    const char *str;

    snprintf(run.working_directory, sizeof(run.working_directory), "/src/proj");
    assert_int_equal(attest_external_parameters_build(argv, &run, &src, &a, &alen), 0);
    assert_string_equal(a,
                        "{\"command\":[\"make\",\"-j2\",\"CFLAGS=-O2 \\\"q\\\"\\\\\",\"/path/x\"],"
                        "\"workingDirectory\":\"/src/proj\",\"exitStatus\":2,"
                        "\"source\":{\"uri\":\"git+https://example.com/x.git@refs/heads/main\","
                        "\"commit\":\"0123456789abcdef0123456789abcdef01234567\","
                        "\"dirty\":true}}");
    assert_int_equal(alen, strlen(a));
    /* Deterministic. */
    assert_int_equal(attest_external_parameters_build(argv, &run, &src, &b, &blen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    /* Strict JSON; the values read back. */
    assert_int_equal(fjson_parse_object(a, alen, ATTEST_MAX_EXTERNAL_PARAMS, &obj), 0);
    assert_int_equal(fjson_get_string(obj, "workingDirectory", 100, &str, NULL), 0);
    assert_string_equal(str, "/src/proj");
    assert_int_equal(fjson_get_object(obj, "source", &s), 0);
    assert_true(json_object_get_boolean(json_object_object_get(s, "dirty")));
    assert_int_equal(json_object_get_int(json_object_object_get(obj, "exitStatus")), 2);
    json_object_put(obj);
    free(a);
    free(b);

    /* Killed by a signal, clean tree without a remote. */
    run = (struct attest_run_result){.signaled = true, .signal = SIGKILL};
    snprintf(run.working_directory, sizeof(run.working_directory), "/w");
    src.uri = NULL;
    src.dirty = false;
    assert_int_equal(attest_external_parameters_build(argv + 3, &run, &src, &a, &alen), 0);
    assert_string_equal(a, "{\"command\":[\"/path/x\"],\"workingDirectory\":\"/w\","
                           "\"exitSignal\":9,\"source\":{\"commit\":"
                           "\"0123456789abcdef0123456789abcdef01234567\",\"dirty\":false}}");
    free(a);
    /* No source. */
    assert_int_equal(attest_external_parameters_build(argv + 3, &run, NULL, &a, &alen), 0);
    assert_string_equal(a, "{\"command\":[\"/path/x\"],\"workingDirectory\":\"/w\","
                           "\"exitSignal\":9}");
    free(a);

    /* Failures leave the outputs alone. */
    {
        char *bad_utf8[] = {"make", "\xff\xfe", NULL}, *none[] = {NULL};
        struct attest_git_info nocommit = {.commit = NULL};
        char *big = malloc(ATTEST_MAX_EXTERNAL_PARAMS + 1);
        char *large[] = {"x", big, NULL};

        assert_non_null(big);
        memset(big, 'a', ATTEST_MAX_EXTERNAL_PARAMS);
        big[ATTEST_MAX_EXTERNAL_PARAMS] = '\0';
        assert_int_equal(attest_external_parameters_build(bad_utf8, &run, NULL, &c, &clen),
                         -EINVAL);
        assert_int_equal(attest_external_parameters_build(none, &run, NULL, &c, &clen), -EINVAL);
        assert_int_equal(attest_external_parameters_build(NULL, &run, NULL, &c, &clen), -EINVAL);
        assert_int_equal(attest_external_parameters_build(argv, NULL, NULL, &c, &clen), -EINVAL);
        assert_int_equal(attest_external_parameters_build(argv, &run, &nocommit, &c, &clen),
                         -EINVAL);
        assert_int_equal(attest_external_parameters_build(large, &run, NULL, &c, &clen), -EMSGSIZE);
        /* Under the limit raw, over it once escaped: the JSON text is what is limited. */
        big[ATTEST_MAX_EXTERNAL_PARAMS / 2] = '\0';
        memset(big, '"', ATTEST_MAX_EXTERNAL_PARAMS / 2); /* each escapes to two bytes */
        assert_int_equal(attest_external_parameters_build(large, &run, NULL, &c, &clen), -EMSGSIZE);
        assert_ptr_equal(c, POISON_PTR);
        assert_int_equal(clen, 0);
        free(big);
    }
}

/* Everything together: a real build in a real repository into a SLSA predicate. */
static void test_end_to_end(void **state)
{
    _cleanup_(attest_digests_freep) struct attest_digests *products = new_set(ATTEST_MAX_PRODUCTS),
                                                          *materials =
                                                                  new_set(ATTEST_MAX_MATERIALS);
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL;
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = NULL;
    _cleanup_free_ struct slsa_dependency *deps = NULL;
    _cleanup_free_ char *ext = NULL, *pred = NULL;
    char *argv[] = {"sh", "-c", "mkdir -p out && cp file out/app && echo built", NULL};
    struct slsa_build_params params = {};
    struct attest_run_result run;
    size_t n = 0, ext_len = 0, pred_len = 0;
    char head[128];

    make_repo("repo", "");
    sh("git -C repo remote add origin https://example.com/repo.git");
    capture(head, sizeof(head), "git -C repo rev-parse HEAD");
    assert_int_equal(chdir("repo"), 0);
    g = detect_ok(".");
    assert_int_equal(attest_digests_add_path(materials, "file"), 0);
    run_ok(argv, &run);
    assert_int_equal(run.exit_code, 0);
    assert_int_equal(attest_digests_add_path(products, "out"), 0);
    assert_int_equal(chdir(".."), 0);
    assert_int_equal(attest_digests_count(products), 1);
    assert_string_equal(attest_digests_entry(products, 0)->name, "out/app");
    assert_string_equal(attest_digests_entry(products, 0)->sha256_hex,
                        attest_digests_entry(materials, 0)->sha256_hex);

    assert_int_equal(attest_external_parameters_build(argv, &run, g, &ext, &ext_len), 0);
    assert_int_equal(attest_digests_dependencies(materials, &deps, &n), 0);
    deps = realloc(deps, (n + 1) * sizeof(*deps));
    assert_non_null(deps);
    assert_int_equal(attest_git_dependency(g, &deps[n]), 0);
    params = (struct slsa_build_params){
            .build_type = "https://hwsign.example/attest/v1",
            .external_parameters = ext,
            .dependencies = deps,
            .n_dependencies = n + 1,
            .builder_id = "https://hwsign.example/builder",
            .started_on = run.started_on,
            .finished_on = run.finished_on,
    };
    assert_int_equal(slsa_predicate_build(&params, &pred, &pred_len), 0);
    assert_int_equal(slsa_predicate_parse(pred, pred_len, &p), 0);
    assert_string_equal(slsa_provenance_external_parameters(p), ext);
    assert_int_equal(slsa_provenance_dependency_count(p), 2);
    assert_string_equal(slsa_provenance_dependency(p, 1)->uri,
                        "git+https://example.com/repo.git@refs/heads/main");
    assert_string_equal(slsa_provenance_dependency(p, 1)->git_commit, head);
    assert_string_equal(slsa_provenance_started_on(p), run.started_on);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
            T(test_file_known_answer),
            T(test_file_streaming),
            T(test_directory_tree),
            T(test_device_skipped),
            T(test_dot_and_order),
            T(test_symlink_argument),
            T(test_bad_paths),
            T(test_unreadable),
            T(test_conflict),
            T(test_limit_entries),
            T(test_limit_depth),
            T(test_limit_name),
            T(test_skipped_listed_limit),
            T(test_subjects_statement),
            T(test_git_clean_dirty),
            T(test_git_remote),
            T(test_git_detached),
            T(test_git_sha256),
            T(test_git_no_info),
            T(test_git_env_stripped),
            T(test_git_missing),
            T(test_git_fake_invocation),
            T(test_git_bad_output),
            T(test_git_timeout),
            T(test_clean_url),
            T(test_run_exit_status),
            T(test_run_duration),
            T(test_run_not_found),
            T(test_run_forwards_signal),
            T(test_run_signal_dispositions),
            T(test_run_inherits_stdio),
            T(test_external_parameters),
            T(test_end_to_end),
#undef T
    };

    if (system("git --version >/dev/null 2>&1") != 0) {
        /* Only the git tests need it, but they are the point of half of this module. */
        fprintf(stderr, "git is not installed: test-attest-inputs skipped\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
