/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build measurement (agent/measure.c) against real processes: children forked and exec'd here
 * are measured through the real /proc, their executables hashed independently with OpenSSL EVP;
 * killed, reaped and zombie children must give -ESRCH. Fake /proc and / trees (temporary
 * directories) cover the edge cases a real process cannot show on demand: environment quirks,
 * a pid recycled or an exec between the reads and the identity check (via the test hook),
 * unreadable files. Pure parsers (cgroup, os-release) are checked against tables, the toolchain
 * cache through its hash counter, and the JSON for strictness, layout and determinism.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "json.h"
#include "macro.h"
#include "measure.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define NOBODY 65534

static const char *const allow[] = {"CI", "GITHUB_*", "MY_*"};

/* ---- helpers ---- */

/* SHA-256 of a file, hex, computed here with EVP (independent of measure.c). */
static void sha256_file_hex(const char *path, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[8192];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    assert_non_null(ctx);
    assert_true(fd >= 0);
    assert_true(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL));
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        assert_true(EVP_DigestUpdate(ctx, buf, (size_t)n));
    assert_int_equal(n, 0);
    assert_true(EVP_DigestFinal_ex(ctx, md, &mdlen));
    assert_int_equal(mdlen, 32);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    close(fd);
}

static void sha256_buf_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    assert_true(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL));
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
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

/* snprintf at *len, checked; advances *len past the text and, with nul, its NUL byte. */
static void appendf(char *buf, size_t cap, size_t *len, bool nul, const char *fmt, ...)
        _printf_(5, 6);
static void appendf(char *buf, size_t cap, size_t *len, bool nul, const char *fmt, ...)
{
    va_list ap;
    int n;

    assert_true(*len < cap);
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < cap - *len);
    *len += (size_t)n + (nul ? 1 : 0);
}

/* The leading "%d\n" a helper process wrote; the rest after it. */
static int leading_int(const char *s, const char **rest)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    assert_int_equal(errno, 0);
    assert_true(end != s && *end == '\n' && v >= INT_MIN && v <= INT_MAX);
    if (rest)
        *rest = end + 1;
    return (int)v;
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 16];
    pathf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void tick(void)
{
    struct timespec ts = {.tv_nsec = 30 * 1000 * 1000};
    (void)nanosleep(&ts, NULL);
}

static int pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*
 * Fork and execve path in its own process group; returns once the exec has happened (a
 * CLOEXEC pipe closes), so /proc/PID/exe is already the new image.
 */
static pid_t spawn(const char *path, char *const argv[], char *const envp[], const char *cwd)
{
    int p[2], err = 0;
    pid_t pid;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)setpgid(0, 0);
        if (!cwd || chdir(cwd) == 0)
            execve(path, argv, envp);
        err = errno;
        (void)!write(p[1], &err, sizeof(err));
        _exit(127);
    }
    close(p[1]);
    assert_int_equal(read(p[0], &err, sizeof(err)), 0);
    close(p[0]);
    return pid;
}

static void kill_reap(pid_t pid)
{
    (void)kill(-pid, SIGKILL);
    (void)kill(pid, SIGKILL);
    (void)waitpid(pid, NULL, 0);
}

/* The child is still running (not exited early), so a measurement could not pass by luck. */
static void assert_alive(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
}

static void peer_for(struct peer *p, pid_t pid, int pidfd)
{
    *p = (struct peer){.uid = getuid(), .gid = getgid(), .pid = pid, .pidfd = pidfd};
}

struct rendered {
    char *text;
    size_t len;
    struct json_object *obj;
};

static void rendered_done(struct rendered *r)
{
    free(r->text);
    if (r->obj)
        json_object_put(r->obj);
    *r = (struct rendered){};
}

/* Render and parse with the strict parser: every output must be strict JSON. */
static void render(const struct measure_host *h, const struct measure_peer *m,
                   const struct measure_toolchain *tc, struct rendered *out)
{
    *out = (struct rendered){};
    assert_int_equal(measure_render_json(h, m, tc, &out->text, &out->len), 0);
    assert_int_equal(strlen(out->text), out->len);
    assert_int_equal(fjson_parse_object(out->text, out->len, MEASURE_MAX_JSON, &out->obj), 0);
}

/* Member by dotted path; *present tells a JSON null from an absent member. */
static struct json_object *jget2(struct json_object *o, const char *path, bool *present)
{
    char buf[256], *tok, *dot;

    *present = false;
    pathf(buf, sizeof(buf), "%s", path);
    for (tok = buf; tok; tok = dot) {
        struct json_object *next = NULL;

        dot = strchr(tok, '.');
        if (dot)
            *dot++ = '\0';
        if (!o || !json_object_object_get_ex(o, tok, &next))
            return NULL;
        o = next;
    }
    *present = true;
    return o;
}

static struct json_object *jget(struct json_object *o, const char *path)
{
    bool present;
    struct json_object *v = jget2(o, path, &present);
    if (!present)
        fail_msg("missing member %s", path);
    return v;
}

static const char *jstr(struct json_object *o, const char *path)
{
    struct json_object *v = jget(o, path);
    if (!json_object_is_type(v, json_type_string))
        fail_msg("%s is not a string", path);
    return json_object_get_string(v);
}

static void assert_jnull(struct json_object *o, const char *path)
{
    if (jget(o, path) != NULL)
        fail_msg("%s is not null", path);
}

static int64_t jint(struct json_object *o, const char *path)
{
    struct json_object *v = jget(o, path);
    if (!json_object_is_type(v, json_type_int))
        fail_msg("%s is not an integer", path);
    return json_object_get_int64(v);
}

static bool jbool(struct json_object *o, const char *path)
{
    struct json_object *v = jget(o, path);
    if (!json_object_is_type(v, json_type_boolean))
        fail_msg("%s is not a boolean", path);
    return json_object_get_boolean(v);
}

/* The "0::" path of a live process, read here without measure.c. */
static void own_cgroup_v2(pid_t pid, char *out, size_t cap)
{
    char path[64], buf[8192], *line;
    ssize_t n;
    int fd;

    pathf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = '\0';
    line = strncmp(buf, "0::", 3) == 0 ? buf : strstr(buf, "\n0::");
    assert_non_null(line);
    if (line != buf)
        line++;
    line += 3;
    line[strcspn(line, "\n")] = '\0';
    pathf(out, cap, "%s", line);
}

/* Run fn in a child process that dropped to uid/gid NOBODY; returns what it wrote to fd. */
static char *as_nobody(void (*fn)(int fd, void *arg), void *arg)
{
    static char out[MEASURE_MAX_JSON + 64];
    size_t len = 0;
    int p[2], status;
    ssize_t n;
    pid_t pid;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
            _exit(126);
        fn(p[1], arg);
        _exit(0);
    }
    close(p[1]);
    while ((n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
        len += (size_t)n;
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    out[len] = '\0';
    return out;
}

/* ---- fixture: the real host facts, read once ---- */

static struct measure_host *host;

static int group_setup(void **state)
{
    return measure_host_read(&host) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    host = measure_host_free(host);
    return 0;
}

/* ---- real processes ---- */

static void test_peer_real_child(void **state)
{
    char tmpl[] = "/tmp/hwsign-measure-XXXXXX", cwd_real[PATH_MAX], sh_real[PATH_MAX];
    /* sh -c ignores the extra arguments and stays (the "; exit" keeps it from exec'ing sleep). */
    char *const argv[] = {"sh",       "-c", "sleep 30; exit 0", "arg with space", "caf\xc3\xa9",
                          "\xff\xfe", NULL};
    char *const envp[] = {"CI=true",
                          "GITHUB_REF=refs/heads/main",
                          "GITHUB_TOKEN=ghp_s3cr3tvalue",
                          "NOT_ALLOWED=nope",
                          "CI=second",
                          "AWS_SECRET_ACCESS_KEY=awsvalue",
                          "MY_api_Key=mykeyvalue",
                          "MY_PLAIN=",
                          NULL};
    char want_sha[65], got_sha[65], cg[4096];
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    struct measure_peer *poison = (struct measure_peer *)(uintptr_t)0x1;
    struct json_object *o, *vars, *cmd;
    struct rendered out;
    struct peer p;
    pid_t pid;
    int pidfd;

    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, cwd_real));
    assert_non_null(realpath("/bin/sh", sh_real));
    sha256_file_hex(sh_real, want_sha);

    pid = spawn("/bin/sh", argv, envp, tmpl);
    pidfd = pidfd_open(pid);
    assert_true(pidfd >= 0);
    peer_for(&p, pid, pidfd);
    assert_int_equal(measure_peer_read(&p, allow, ELEMENTSOF(allow), &m), 0);
    assert_alive(pid);

    /* Executable: the real file, hashed independently. */
    assert_string_equal(measure_peer_exe_path(m), sh_real);
    for (unsigned i = 0; i < MEASURE_SHA256_LEN; i++)
        snprintf(got_sha + 2 * i, 3, "%02x", measure_peer_exe_sha256(m)[i]);
    assert_string_equal(got_sha, want_sha);

    render(host, m, NULL, &out);
    o = out.obj;
    assert_string_equal(jstr(o, "observer"), "hwsign-agent");
    assert_int_equal(jint(o, "peer.uid"), getuid());
    assert_int_equal(jint(o, "peer.gid"), getgid());
    assert_int_equal(jint(o, "peer.pid"), pid);
    assert_string_equal(jstr(o, "peer.exe.path"), sh_real);
    assert_string_equal(jstr(o, "peer.exe.sha256"), want_sha);

    /* argv exactly, with the invalid UTF-8 argument as base64 (0xff 0xfe -> "//4="). */
    cmd = jget(o, "peer.cmdline");
    assert_true(json_object_is_type(cmd, json_type_array));
    assert_int_equal(json_object_array_length(cmd), 6);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(json_object_get_string(json_object_array_get_idx(cmd, i)), argv[i]);
    assert_string_equal(jstr(json_object_array_get_idx(cmd, 5), "base64"), "//4=");
    assert_false(jbool(o, "peer.cmdline_truncated"));

    assert_string_equal(jstr(o, "peer.cwd"), cwd_real);
    own_cgroup_v2(pid, cg, sizeof(cg));
    assert_string_equal(jstr(o, "peer.cgroup"), cg);
    assert_non_null(measure_peer_cgroup(m));
    assert_string_equal(measure_peer_cgroup(m)->path, cg);

    /* Environment: allowlisted only, first duplicate wins, secret-looking names withheld. */
    assert_true(jbool(o, "peer.environment.observable"));
    assert_false(jbool(o, "peer.environment.truncated"));
    vars = jget(o, "peer.environment.variables");
    assert_int_equal(json_object_object_length(vars), 5);
    assert_string_equal(jstr(vars, "CI"), "true");
    assert_string_equal(jstr(vars, "GITHUB_REF"), "refs/heads/main");
    assert_jnull(vars, "GITHUB_TOKEN");
    assert_jnull(vars, "MY_api_Key");
    assert_string_equal(jstr(vars, "MY_PLAIN"), "");
    assert_null(strstr(out.text, "ghp_s3cr3tvalue"));
    assert_null(strstr(out.text, "mykeyvalue"));
    assert_null(strstr(out.text, "awsvalue"));
    assert_null(strstr(out.text, "NOT_ALLOWED"));
    assert_null(strstr(out.text, "second"));
    /* Sorted by name. */
    assert_non_null(strstr(out.text, "\"variables\":{\"CI\":\"true\",\"GITHUB_REF\":"
                                     "\"refs/heads/main\",\"GITHUB_TOKEN\":null,"
                                     "\"MY_PLAIN\":\"\",\"MY_api_Key\":null}"));
    rendered_done(&out);

    /* Gone: with and without the pidfd; outputs untouched. */
    kill_reap(pid);
    assert_int_equal(measure_peer_read(&p, allow, ELEMENTSOF(allow), &poison), -ESRCH);
    assert_ptr_equal(poison, (struct measure_peer *)(uintptr_t)0x1);
    peer_for(&p, pid, -1);
    assert_int_equal(measure_peer_read(&p, allow, ELEMENTSOF(allow), &poison), -ESRCH);
    assert_ptr_equal(poison, (struct measure_peer *)(uintptr_t)0x1);
    close(pidfd);
    rm_rf(tmpl);
}

/* Killed but not reaped: a zombie is not a process to measure. */
static void test_peer_zombie(void **state)
{
    char *const argv[] = {"sleep", "30", NULL};
    char *const envp[] = {NULL};
    struct measure_peer *m = NULL;
    siginfo_t si;
    struct peer p;
    pid_t pid = spawn("/bin/sleep", argv, envp, NULL);
    int pidfd = pidfd_open(pid);

    assert_true(pidfd >= 0);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    peer_for(&p, pid, pidfd);
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), -ESRCH);
    peer_for(&p, pid, -1);
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), -ESRCH);
    assert_null(m);
    kill_reap(pid);
    close(pidfd);
}

/* argv[0] says "gcc"; the measurement says what really runs. */
static void test_peer_lying_wrapper(void **state)
{
    char tmpl[] = "/tmp/hwsign-measure-XXXXXX", script[PATH_MAX], real[PATH_MAX], sha[65];
    char *const argv[] = {"gcc", "30", NULL};
    char *const envp[] = {NULL};
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    struct rendered out;
    struct peer p;
    pid_t pid;

    /* 1. Another binary exec'd with a false argv[0]. */
    assert_non_null(realpath("/bin/sleep", real));
    sha256_file_hex(real, sha);
    pid = spawn("/bin/sleep", argv, envp, NULL);
    peer_for(&p, pid, pidfd_open(pid));
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), 0);
    assert_alive(pid);
    render(host, m, NULL, &out);
    assert_string_equal(jstr(out.obj, "peer.exe.path"), real);
    assert_string_equal(jstr(out.obj, "peer.exe.sha256"), sha);
    assert_string_equal(
            json_object_get_string(json_object_array_get_idx(jget(out.obj, "peer.cmdline"), 0)),
            "gcc");
    rendered_done(&out);
    m = measure_peer_free(m);
    kill_reap(pid);
    close(p.pidfd);

    /* 2. A script called gcc: the process is the interpreter. */
    assert_non_null(mkdtemp(tmpl));
    pathf(script, sizeof(script), "%s/gcc", tmpl);
    write_str(script, "#!/bin/sh\nsleep 30\n");
    assert_int_equal(chmod(script, 0755), 0);
    {
        char *const sargv[] = {"gcc", "-O2", "main.c", NULL};
        pid = spawn(script, sargv, envp, NULL);
    }
    assert_non_null(realpath("/bin/sh", real));
    sha256_file_hex(real, sha);
    peer_for(&p, pid, pidfd_open(pid));
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), 0);
    assert_alive(pid);
    render(host, m, NULL, &out);
    assert_string_equal(jstr(out.obj, "peer.exe.path"), real);
    assert_string_equal(jstr(out.obj, "peer.exe.sha256"), sha);
    assert_null(strstr(jstr(out.obj, "peer.exe.path"), "gcc"));
    rendered_done(&out);
    kill_reap(pid);
    close(p.pidfd);
    rm_rf(tmpl);
}

/* More arguments than MEASURE_MAX_ARGS, and more bytes than MEASURE_MAX_CMDLINE. */
static void test_peer_cmdline_limits(void **state)
{
    char *argv[MEASURE_MAX_ARGS + 50];
    char *const envp[] = {NULL};
    char longarg[5][1001];
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    struct json_object *cmd;
    struct rendered out;
    size_t n = 0, want, used;
    struct peer p;
    pid_t pid;

    /* sleep sums its arguments: 299 x 0.1 s. */
    argv[n++] = "sleep";
    while (n < ELEMENTSOF(argv) - 1)
        argv[n++] = "0.1";
    argv[n] = NULL;
    pid = spawn("/bin/sleep", argv, envp, NULL);
    peer_for(&p, pid, pidfd_open(pid));
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), 0);
    assert_alive(pid);
    render(host, m, NULL, &out);
    assert_true(jbool(out.obj, "peer.cmdline_truncated"));
    cmd = jget(out.obj, "peer.cmdline");
    assert_int_equal(json_object_array_length(cmd), MEASURE_MAX_ARGS);
    for (size_t i = 0; i < MEASURE_MAX_ARGS; i++)
        assert_string_equal(json_object_get_string(json_object_array_get_idx(cmd, i)), argv[i]);
    rendered_done(&out);
    m = measure_peer_free(m);
    kill_reap(pid);
    close(p.pidfd);

    /* Five 1000-byte arguments after "sleep" (6 + 5 * 1001 bytes with NULs > 4096): the one
     * that does not fit whole is dropped, not cut. */
    n = 0;
    argv[n++] = "sleep";
    for (size_t i = 0; i < ELEMENTSOF(longarg); i++) {
        memset(longarg[i], '0', 1000);
        longarg[i][998] = (char)('1' + i);
        longarg[i][999] = 's';
        longarg[i][1000] = '\0';
        argv[n++] = longarg[i];
    }
    argv[n] = NULL;
    pid = spawn("/bin/sleep", argv, envp, NULL);
    peer_for(&p, pid, -1);
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), 0);
    assert_alive(pid);
    render(host, m, NULL, &out);
    assert_true(jbool(out.obj, "peer.cmdline_truncated"));
    for (want = 0, used = 0; want < n && used + strlen(argv[want]) + 1 <= MEASURE_MAX_CMDLINE;
         want++)
        used += strlen(argv[want]) + 1;
    assert_true(want < n);
    cmd = jget(out.obj, "peer.cmdline");
    assert_int_equal(json_object_array_length(cmd), want);
    for (size_t i = 0; i < want; i++)
        assert_string_equal(json_object_get_string(json_object_array_get_idx(cmd, i)), argv[i]);
    rendered_done(&out);
    kill_reap(pid);
}

static void test_peer_bad_arguments(void **state)
{
    char *const argv[] = {"sleep", "30", NULL};
    char *const envp[] = {NULL};
    const char *too_many[MEASURE_MAX_ENV_ALLOW + 1];
    static const char *const bad[][1] = {{"*"}, {""}, {"A*B"}, {"A=B"}, {"A B"}, {"**"}};
    char longpat[MEASURE_MAX_ENV_NAME + 2], longroot[PATH_MAX + 10];
    struct measure_peer *m = NULL;
    struct peer p;
    pid_t pid = spawn("/bin/sleep", argv, envp, NULL), other;
    int pidfd = pidfd_open(pid);

    peer_for(&p, pid, pidfd);
    assert_int_equal(measure_peer_read(NULL, NULL, 0, &m), -EINVAL);
    assert_int_equal(measure_peer_read(&p, NULL, 1, &m), -EINVAL);
    assert_int_equal(measure_peer_read(&p, NULL, 0, NULL), -EINVAL);
    assert_int_equal(measure_peer_read_at(NULL, &p, NULL, 0, &m), -EINVAL);
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_int_equal(measure_peer_read(&p, bad[i], 1, &m), -EINVAL);
    memset(longpat, 'A', sizeof(longpat) - 1);
    longpat[sizeof(longpat) - 1] = '\0';
    {
        const char *const lp[] = {longpat};
        assert_int_equal(measure_peer_read(&p, lp, 1, &m), -EINVAL);
        longpat[MEASURE_MAX_ENV_NAME] = '\0'; /* exactly the limit: fine */
        assert_int_equal(measure_peer_read(&p, lp, 1, &m), 0);
        assert_alive(pid);
        m = measure_peer_free(m);
    }
    for (size_t i = 0; i < ELEMENTSOF(too_many); i++)
        too_many[i] = "CI";
    assert_int_equal(measure_peer_read(&p, too_many, ELEMENTSOF(too_many), &m), -EMSGSIZE);
    assert_int_equal(measure_peer_read(&p, too_many, MEASURE_MAX_ENV_ALLOW, &m), 0);
    assert_alive(pid);
    m = measure_peer_free(m);

    memset(longroot, 'r', sizeof(longroot) - 1);
    longroot[0] = '/';
    longroot[sizeof(longroot) - 1] = '\0';
    assert_int_equal(measure_peer_read_at(longroot, &p, NULL, 0, &m), -ENAMETOOLONG);

    /* A pidfd that belongs to another process. */
    other = spawn("/bin/sleep", argv, envp, NULL);
    peer_for(&p, other, pidfd);
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), -EINVAL);
    /* pid 0. */
    peer_for(&p, 0, -1);
    assert_int_equal(measure_peer_read(&p, NULL, 0, &m), -EINVAL);
    assert_null(m);
    kill_reap(other);
    kill_reap(pid);
    close(pidfd);
}

struct measure_job {
    pid_t pid;
    const char *proc_root;
};

static void measure_as_nobody(int fd, void *arg)
{
    const struct measure_job *job = arg;
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    _cleanup_(measure_host_freep) struct measure_host *h = NULL;
    _cleanup_free_ char *text = NULL;
    struct peer p;
    char head[32];
    size_t len = 0;
    int r;

    peer_for(&p, job->pid, -1);
    r = measure_peer_read_at(job->proc_root, &p, allow, ELEMENTSOF(allow), &m);
    if (r == 0 && measure_host_read(&h) == 0)
        r = measure_render_json(h, m, NULL, &text, &len);
    snprintf(head, sizeof(head), "%d\n", r);
    (void)!write(fd, head, strlen(head));
    if (text)
        (void)!write(fd, text, len);
}

/* An agent without CAP_SYS_PTRACE cannot read another user's executable: -EACCES. */
static void test_peer_other_user(void **state)
{
    char *const argv[] = {"sleep", "30", NULL};
    char *const envp[] = {NULL};
    struct measure_job job = {.proc_root = "/proc"};
    const char *out;

    if (geteuid() != 0)
        skip(); /* needs a second uid */
    job.pid = spawn("/bin/sleep", argv, envp, NULL);
    out = as_nobody(measure_as_nobody, &job);
    assert_int_equal(leading_int(out, NULL), -EACCES);
    assert_alive(job.pid);
    kill_reap(job.pid);
}

/* ---- fake /proc trees ---- */

struct fake {
    char dir[64];
    char proc[128];
    char pid_dir[192];
    pid_t pid;
};

#define FAKE_STARTTIME "4242"

static void fake_stat(struct fake *f, char state, const char *starttime)
{
    char path[PATH_MAX], text[512];

    /* comm with spaces and a ')' to exercise the parser. */
    pathf(text, sizeof(text),
          "%d (a) b c) %c 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %s 1000 100 "
          "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
          (int)f->pid, state, starttime);
    pathf(path, sizeof(path), "%s/stat", f->pid_dir);
    write_str(path, text);
}

static void fake_link(struct fake *f, const char *name, const char *target)
{
    char path[PATH_MAX];

    pathf(path, sizeof(path), "%s/%s", f->pid_dir, name);
    (void)unlink(path);
    assert_int_equal(symlink(target, path), 0);
}

static void fake_file(struct fake *f, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX];

    pathf(path, sizeof(path), "%s/%s", f->pid_dir, name);
    write_file(path, data, len);
}

/* A tree DIR/proc/PID with stat, exe -> /bin/sleep, cmdline, cgroup, cwd and environ. */
static void fake_new(struct fake *f, pid_t pid)
{
    static const char cmdline[] = "fake\0--flag\0last-without-nul";
    static const char cgroup[] = "1:name=systemd:/x\n0::/system.slice/fake.service\n";

    pathf(f->dir, sizeof(f->dir), "/tmp/hwsign-fakeproc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(chmod(f->dir, 0755), 0);
    pathf(f->proc, sizeof(f->proc), "%s/proc", f->dir);
    assert_int_equal(mkdir(f->proc, 0755), 0);
    f->pid = pid;
    pathf(f->pid_dir, sizeof(f->pid_dir), "%s/%d", f->proc, (int)pid);
    assert_int_equal(mkdir(f->pid_dir, 0755), 0);
    fake_stat(f, 'S', FAKE_STARTTIME);
    fake_link(f, "exe", "/bin/sleep");
    fake_link(f, "cwd", "/");
    fake_file(f, "cmdline", cmdline, sizeof(cmdline) - 1);
    fake_file(f, "cgroup", cgroup, sizeof(cgroup) - 1);
    fake_file(f, "environ", "CI=1\0", 5);
}

static void fake_done(struct fake *f)
{
    rm_rf(f->dir);
}

static int fake_measure(struct fake *f, int pidfd, struct rendered *out)
{
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    struct peer p;
    int r;

    peer_for(&p, f->pid, pidfd);
    r = measure_peer_read_at(f->proc, &p, allow, ELEMENTSOF(allow), &m);
    if (r == 0 && out)
        render(host, m, NULL, out);
    return r;
}

static void test_fake_basic(void **state)
{
    struct fake f;
    struct rendered out;
    struct json_object *cmd;
    char sha[65], real[PATH_MAX];

    fake_new(&f, 4242);
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    assert_string_equal(jstr(out.obj, "peer.exe.path"), "/bin/sleep");
    assert_non_null(realpath("/bin/sleep", real));
    sha256_file_hex(real, sha);
    assert_string_equal(jstr(out.obj, "peer.exe.sha256"), sha);
    cmd = jget(out.obj, "peer.cmdline");
    assert_int_equal(json_object_array_length(cmd), 3);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(cmd, 2)),
                        "last-without-nul");
    assert_false(jbool(out.obj, "peer.cmdline_truncated"));
    assert_string_equal(jstr(out.obj, "peer.cwd"), "/");
    assert_string_equal(jstr(out.obj, "peer.cgroup"), "/system.slice/fake.service");
    assert_string_equal(jstr(out.obj, "peer.unit"), "fake.service");
    assert_jnull(out.obj, "peer.nested_unit");
    assert_jnull(out.obj, "peer.container");
    assert_string_equal(jstr(out.obj, "peer.environment.variables.CI"), "1");
    rendered_done(&out);

    /* Best-effort parts missing: cwd, cgroup unknown (null), still a measurement. */
    {
        char path[PATH_MAX];
        pathf(path, sizeof(path), "%s/cwd", f.pid_dir);
        assert_int_equal(unlink(path), 0);
        fake_file(&f, "cgroup", "garbage\n", 8);
    }
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    assert_jnull(out.obj, "peer.cwd");
    assert_jnull(out.obj, "peer.cgroup");
    assert_jnull(out.obj, "peer.unit");
    rendered_done(&out);

    /* A zombie (state Z) and a bad stat line. */
    fake_stat(&f, 'Z', FAKE_STARTTIME);
    assert_int_equal(fake_measure(&f, -1, NULL), -ESRCH);
    fake_file(&f, "stat", "4242 (x S 1 2\n", 14);
    assert_int_equal(fake_measure(&f, -1, NULL), -EINVAL);
    fake_stat(&f, 'S', "notanumber");
    assert_int_equal(fake_measure(&f, -1, NULL), -EINVAL);
    fake_stat(&f, 'S', FAKE_STARTTIME);

    /* An executable that is not a regular file. */
    fake_link(&f, "exe", "/");
    assert_int_equal(fake_measure(&f, -1, NULL), -EINVAL);
    fake_done(&f);
}

static void test_fake_environment(void **state)
{
    static const char head[] = "GITHUB_A=1\0"
                               "noequals\0"
                               "=novalue\0"
                               "GITHUB_A=duplicate\0"
                               "GITHUB_\x01X=ctl\0"
                               "GITHUB_UTF=\xc3\x28\0"
                               "GITHUB_EMPTY=\0"
                               "GITHUB_SESSION_ID=s\0"
                               "gitHub_lower=no\0";
    _cleanup_free_ char *env = NULL;
    char longval[MEASURE_MAX_ENV_VALUE + 20];
    struct json_object *vars;
    struct rendered out;
    struct fake f;
    size_t len = sizeof(head) - 1;

    fake_new(&f, 4243);
    env = malloc(MEASURE_MAX_ENVIRON + 4096);
    assert_non_null(env);
    memcpy(env, head, len);
    fake_file(&f, "environ", env, len);
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    vars = jget(out.obj, "peer.environment.variables");
    assert_int_equal(json_object_object_length(vars), 4);
    assert_string_equal(jstr(vars, "GITHUB_A"), "1");
    /* invalid UTF-8 value 0xc3 0x28 -> base64 "wyg=" */
    assert_string_equal(jstr(vars, "GITHUB_UTF.base64"), "wyg=");
    assert_string_equal(jstr(vars, "GITHUB_EMPTY"), "");
    assert_jnull(vars, "GITHUB_SESSION_ID");
    /* the name with a control character was allowlisted but could not be recorded */
    assert_true(jbool(out.obj, "peer.environment.truncated"));
    rendered_done(&out);

    /* Value over MEASURE_MAX_ENV_VALUE: left out, truncated. Exactly the limit: kept. */
    memcpy(env, "GITHUB_BIG=", 11);
    memset(env + 11, 'v', MEASURE_MAX_ENV_VALUE + 1);
    env[11 + MEASURE_MAX_ENV_VALUE + 1] = '\0';
    memcpy(env + 11 + MEASURE_MAX_ENV_VALUE + 2, "CI=x", 5);
    fake_file(&f, "environ", env, 11 + MEASURE_MAX_ENV_VALUE + 2 + 5);
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    vars = jget(out.obj, "peer.environment.variables");
    assert_int_equal(json_object_object_length(vars), 1);
    assert_string_equal(jstr(vars, "CI"), "x");
    assert_true(jbool(out.obj, "peer.environment.truncated"));
    rendered_done(&out);
    env[11 + MEASURE_MAX_ENV_VALUE] = '\0';
    fake_file(&f, "environ", env, 11 + MEASURE_MAX_ENV_VALUE + 1);
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    assert_int_equal(strlen(jstr(out.obj, "peer.environment.variables.GITHUB_BIG")),
                     MEASURE_MAX_ENV_VALUE);
    assert_false(jbool(out.obj, "peer.environment.truncated"));
    rendered_done(&out);

    /* More allowlisted variables than MEASURE_MAX_ENV_VARS. */
    len = 0;
    for (unsigned i = 0; i < MEASURE_MAX_ENV_VARS + 5; i++)
        appendf(env, MEASURE_MAX_ENVIRON + 4096, &len, true, "GITHUB_V%03u=%u", i, i);
    fake_file(&f, "environ", env, len);
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    vars = jget(out.obj, "peer.environment.variables");
    assert_int_equal(json_object_object_length(vars), MEASURE_MAX_ENV_VARS);
    assert_string_equal(jstr(vars, "GITHUB_V000"), "0");
    assert_true(jbool(out.obj, "peer.environment.truncated"));
    rendered_done(&out);

    /* environ larger than MEASURE_MAX_ENVIRON: a variable before the limit is seen, the one
     * after it is not, and truncated says so. */
    memset(longval, 'p', sizeof(longval));
    len = 0;
    appendf(env, MEASURE_MAX_ENVIRON + 4096, &len, true, "CI=early");
    while (len < MEASURE_MAX_ENVIRON)
        appendf(env, MEASURE_MAX_ENVIRON + 4096, &len, true, "PAD=%.*s", 400, longval);
    appendf(env, MEASURE_MAX_ENVIRON + 4096, &len, true, "GITHUB_LATE=late");
    fake_file(&f, "environ", env, len);
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    vars = jget(out.obj, "peer.environment.variables");
    assert_string_equal(jstr(vars, "CI"), "early");
    assert_int_equal(json_object_object_length(vars), 1);
    assert_true(jbool(out.obj, "peer.environment.truncated"));
    rendered_done(&out);

    /* Not readable (a directory here): not observable, with the reason; not a failure. */
    {
        char path[PATH_MAX];
        pathf(path, sizeof(path), "%s/environ", f.pid_dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
    }
    assert_int_equal(fake_measure(&f, -1, &out), 0);
    assert_false(jbool(out.obj, "peer.environment.observable"));
    assert_string_equal(jstr(out.obj, "peer.environment.error"), "EISDIR");
    {
        bool present;
        (void)jget2(out.obj, "peer.environment.variables", &present);
        assert_false(present);
    }
    rendered_done(&out);
    fake_done(&f);
}

/* environ readable only by its owner: as another user, "not observable", error EACCES. */
static void test_fake_environment_eacces(void **state)
{
    struct measure_job job;
    struct json_object *o = NULL;
    struct fake f;
    const char *out;
    char path[PATH_MAX];

    fake_new(&f, 4244);
    pathf(path, sizeof(path), "%s/environ", f.pid_dir);
    assert_int_equal(chmod(path, 0), 0);
    job = (struct measure_job){.pid = f.pid, .proc_root = f.proc};
    if (geteuid() == 0) {
        out = as_nobody(measure_as_nobody, &job);
    } else {
        static char buf[MEASURE_MAX_JSON + 64];
        int p[2];
        ssize_t n;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        measure_as_nobody(p[1], &job);
        close(p[1]);
        n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        assert_true(n > 0);
        buf[n] = '\0';
        out = buf;
    }
    assert_int_equal(leading_int(out, &out), 0);
    assert_int_equal(fjson_parse_object(out, strlen(out), MEASURE_MAX_JSON, &o), 0);
    assert_false(jbool(o, "peer.environment.observable"));
    assert_string_equal(jstr(o, "peer.environment.error"), "EACCES");
    assert_string_equal(jstr(o, "peer.exe.path"), "/bin/sleep");
    json_object_put(o);
    fake_done(&f);
}

/* What the test hook does between the reads and the identity check. */
static struct fake *hook_fake;
static pid_t hook_kill;
static int hook_action;
enum { HOOK_STARTTIME = 1, HOOK_EXEC, HOOK_KILL, HOOK_ZOMBIE };

static void hook(enum measure_test_point point, pid_t pid, const char *path)
{
    if (point != MEASURE_TEST_PEER_BEFORE_VERIFY)
        return;
    switch (hook_action) {
    case HOOK_STARTTIME:
        fake_stat(hook_fake, 'S', "4243");
        break;
    case HOOK_EXEC:
        fake_link(hook_fake, "exe", "/bin/sh");
        break;
    case HOOK_ZOMBIE:
        fake_stat(hook_fake, 'Z', FAKE_STARTTIME);
        break;
    case HOOK_KILL:
        kill_reap(hook_kill);
        break;
    default:
        break;
    }
}

static void test_fake_identity_changes(void **state)
{
    char *const argv[] = {"sleep", "30", NULL};
    char *const envp[] = {NULL};
    static const int actions[] = {HOOK_STARTTIME, HOOK_EXEC, HOOK_ZOMBIE};
    struct fake f;
    pid_t pid;
    int pidfd;

    measure_test_hook = hook;
    for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
        fake_new(&f, 4245);
        hook_fake = &f;
        hook_action = 0;
        assert_int_equal(fake_measure(&f, -1, NULL), 0); /* control */
        hook_action = actions[i];
        assert_int_equal(fake_measure(&f, -1, NULL), -ESRCH);
        fake_done(&f);
    }

    /* Only the pidfd can tell: the real process behind the pid dies; the fake files stay. */
    pid = spawn("/bin/sleep", argv, envp, NULL);
    pidfd = pidfd_open(pid);
    assert_true(pidfd >= 0);
    fake_new(&f, pid);
    hook_fake = &f;
    hook_action = 0;
    assert_int_equal(fake_measure(&f, pidfd, NULL), 0); /* control */
    hook_kill = pid;
    hook_action = HOOK_KILL;
    assert_int_equal(fake_measure(&f, pidfd, NULL), -ESRCH);
    measure_test_hook = NULL;
    hook_action = 0;
    close(pidfd);
    fake_done(&f);
}

/* A failed test must not leave its hook behind for the next ones. */
static int reset_hook(void **state)
{
    measure_test_hook = NULL;
    hook_action = 0;
    return 0;
}

/* ---- cgroup table ---- */

#define ID64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64U "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_cgroup_table(void **state)
{
    static const struct {
        const char *text, *path, *unit, *nested, *container;
    } ok[] = {
            {"0::/system.slice/nginx.service\n", "/system.slice/nginx.service", "nginx.service", "",
             ""},
            {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
             "app-org.gnome.Terminal.slice/vte-spawn-1a2b.scope\n",
             "/user.slice/user-1000.slice/user@1000.service/app.slice/"
             "app-org.gnome.Terminal.slice/vte-spawn-1a2b.scope",
             "user@1000.service", "vte-spawn-1a2b.scope", ""},
            {"0::/user.slice/user-1000.slice/session-3.scope",
             "/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", ""},
            /* a delegated subtree can name a cgroup like a system unit: only nested_unit */
            {"0::/user.slice/user-1000.slice/user@1000.service/release.service\n",
             "/user.slice/user-1000.slice/user@1000.service/release.service", "user@1000.service",
             "release.service", ""},
            {"0::/system.slice/build.service/payload/worker\n",
             "/system.slice/build.service/payload/worker", "build.service", "", ""},
            {"0::/system.slice/docker-" ID64 ".scope\n", "/system.slice/docker-" ID64 ".scope",
             "docker-" ID64 ".scope", "", ID64},
            {"0::/docker/" ID64 "\n", "/docker/" ID64, "", "", ID64},
            {"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/"
             "cri-containerd-" ID64 ".scope\n",
             "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/"
             "cri-containerd-" ID64 ".scope",
             "cri-containerd-" ID64 ".scope", "", ID64},
            {"0::/kubepods/besteffort/pod0f1e2d3c-aaaa-bbbb-cccc-000000000000/" ID64 "\n",
             "/kubepods/besteffort/pod0f1e2d3c-aaaa-bbbb-cccc-000000000000/" ID64, "", "", ID64},
            {"0::/kubepods.slice/kubepods-pod1.slice/crio-" ID64 ".scope\n",
             "/kubepods.slice/kubepods-pod1.slice/crio-" ID64 ".scope", "crio-" ID64 ".scope", "",
             ID64},
            {"0::/machine.slice/libpod-" ID64 ".scope/container\n",
             "/machine.slice/libpod-" ID64 ".scope/container", "libpod-" ID64 ".scope", "", ID64},
            /* podman's conmon is not the container */
            {"0::/machine.slice/libpod-conmon-" ID64 ".scope\n",
             "/machine.slice/libpod-conmon-" ID64 ".scope", "libpod-conmon-" ID64 ".scope", "", ""},
            /* not ids: upper case, 63 digits */
            {"0::/docker/" ID64U "\n", "/docker/" ID64U, "", "", ""},
            {"0::/docker/" ID64 "/../x"
             "\n",
             "/docker/" ID64 "/../x", "", "", ID64},
            {"0::/x/"
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
             "/x/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "", "", ""},
            /* hybrid hierarchy: v1 lines and garbage around the v2 line */
            {"12:pids:/user.slice\ngarbage line\n\n1:name=systemd:/x.service\n"
             "0::/system.slice/a.service\n",
             "/system.slice/a.service", "a.service", "", ""},
            {"0::/\n", "/", "", "", ""},
            {"0::/system.slice/a.service (deleted)\n", "/system.slice/a.service (deleted)",
             "a.service", "", ""},
            /* not unit names: slices, spaces, bare templates, only a suffix */
            {"0::/a.slice/b c.service/foo@.service/.service/x.socket/y.mount/z.swap\n",
             "/a.slice/b c.service/foo@.service/.service/x.socket/y.mount/z.swap", "x.socket",
             "z.swap", ""},
            {"0::/system.slice/getty@tty1.service\n", "/system.slice/getty@tty1.service",
             "getty@tty1.service", "", ""},
    };
    static const struct {
        const char *text;
        size_t len;
        int err;
    } bad[] = {
            {"", 0, -ENOENT},           {"1:name=systemd:/\n", 17, -ENOENT},
            {"garbage", 7, -ENOENT},    {"0::relative/path\n", 17, -EINVAL},
            {"0::\n", 4, -EINVAL},      {"0::/a\n0::/b\n", 12, -EINVAL},
            {"0::/a\0b\n", 8, -EINVAL},
    };
    struct measure_cgroup cg, poison;
    char *longtext;

    for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
        memset(&cg, 0x5a, sizeof(cg));
        if (measure_parse_cgroup(ok[i].text, strlen(ok[i].text), &cg) != 0)
            fail_msg("row %zu: parse failed", i);
        assert_string_equal(cg.path, ok[i].path);
        assert_string_equal(cg.unit, ok[i].unit);
        assert_string_equal(cg.nested_unit, ok[i].nested);
        assert_string_equal(cg.container, ok[i].container);
    }
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        memset(&poison, 0x5a, sizeof(poison));
        cg = poison;
        assert_int_equal(measure_parse_cgroup(bad[i].text, bad[i].len, &cg), bad[i].err);
        assert_memory_equal(&cg, &poison, sizeof(cg));
    }
    /* Path at and over MEASURE_MAX_CGROUP_PATH. */
    longtext = malloc(MEASURE_MAX_CGROUP_PATH + 8);
    assert_non_null(longtext);
    memcpy(longtext, "0::/", 4);
    memset(longtext + 4, 'a', MEASURE_MAX_CGROUP_PATH - 1);
    assert_int_equal(measure_parse_cgroup(longtext, 3 + MEASURE_MAX_CGROUP_PATH, &cg), 0);
    assert_int_equal(strlen(cg.path), MEASURE_MAX_CGROUP_PATH);
    longtext[3 + MEASURE_MAX_CGROUP_PATH] = 'a';
    assert_int_equal(measure_parse_cgroup(longtext, 4 + MEASURE_MAX_CGROUP_PATH, &cg),
                     -ENAMETOOLONG);
    free(longtext);
    assert_int_equal(measure_parse_cgroup(NULL, 0, &cg), -EINVAL);
}

/* ---- os-release table ---- */

static void test_os_release_table(void **state)
{
    static const struct {
        const char *text, *id, *version_id, *pretty;
    } rows[] = {
            {"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME='Debian GNU/Linux 12 (bookworm)'\n",
             "debian", "12", "Debian GNU/Linux 12 (bookworm)"},
            {"PRETTY_NAME=\"A \\\"q\\\" \\$x \\\\ \\`b\\` \\n\"\n", "", "",
             "A \"q\" $x \\ `b` \\n"},
            {"PRETTY_NAME='it''s \\ raw'\n", "", "", "its \\ raw"},
            {"ID=foo\\ bar\n", "foo bar", "", ""},
            {"ID=ab\"c d\"'e'\n", "abc de", "", ""},
            {"# ID=wrong\n   ID=ok   # trailing comment\n\n\t\n", "ok", "", ""},
            {"ID=first\nID=second\n", "second", "", ""},
            {"ID=good\nID=two words\n", "good", "", ""},
            {"ID=good\nID=\"unterminated\n", "good", "", ""},
            {"ID=good\nID='unterminated\n", "good", "", ""},
            {"ID=good\nID=trailing\\", "good", "", ""},
            {"1ID=x\nID =y\n ID=z\nI-D=w\n", "z", "", ""},
            {"ID=debian\r\nVERSION_ID=12\r\n", "debian", "12", ""},
            {"ID=\n", "", "", ""},
            {"NAME=x\nVERSION=1\n", "", "", ""},
            {"ID=a#b\n", "a#b", "", ""},
            {"ID=x", "x", "", ""},
            {"", "", "", ""},
    };
    struct measure_os os;
    char *text;
    size_t len;

    for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
        memset(&os, 0x5a, sizeof(os));
        assert_int_equal(measure_parse_os_release(rows[i].text, strlen(rows[i].text), &os), 0);
        if (strcmp(os.id, rows[i].id) != 0 || strcmp(os.version_id, rows[i].version_id) != 0 ||
            strcmp(os.pretty_name, rows[i].pretty) != 0)
            fail_msg("row %zu: got [%s] [%s] [%s]", i, os.id, os.version_id, os.pretty_name);
    }

    /* A NUL byte spoils only its line. */
    {
        static const char withnul[] = "ID=a\0b\nVERSION_ID=1\n";
        assert_int_equal(measure_parse_os_release(withnul, sizeof(withnul) - 1, &os), 0);
    }
    assert_string_equal(os.id, "");
    assert_string_equal(os.version_id, "1");

    /* Over-long line (ignored) vs a long value that fits; value over the field limit. */
    text = malloc(4 * MEASURE_MAX_OS_LINE);
    assert_non_null(text);
    len = 0;
    appendf(text, 4 * MEASURE_MAX_OS_LINE, &len, false, "PRETTY_NAME=keep\nPRETTY_NAME=\"%0*d\"\n",
            (int)MEASURE_MAX_OS_LINE, 7);
    assert_int_equal(measure_parse_os_release(text, len, &os), 0);
    assert_string_equal(os.pretty_name, "keep");
    len = 0;
    appendf(text, 4 * MEASURE_MAX_OS_LINE, &len, false, "PRETTY_NAME=\"%0*d\"\n",
            (int)MEASURE_MAX_OS_FIELD, 7);
    assert_int_equal(measure_parse_os_release(text, len, &os), 0);
    assert_int_equal(strlen(os.pretty_name), MEASURE_MAX_OS_FIELD);
    len = 0;
    appendf(text, 4 * MEASURE_MAX_OS_LINE, &len, false, "PRETTY_NAME=keep\nPRETTY_NAME=\"%0*d\"\n",
            (int)MEASURE_MAX_OS_FIELD + 1, 7);
    assert_int_equal(measure_parse_os_release(text, len, &os), 0);
    assert_string_equal(os.pretty_name, "keep");
    free(text);
    assert_int_equal(measure_parse_os_release(NULL, 1, &os), -EINVAL);
}

/* ---- host ---- */

static void mkdirs(const char *root, const char *rel)
{
    char path[PATH_MAX], *slash;

    pathf(path, sizeof(path), "%s/%s", root, rel);
    for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        *slash = '/';
    }
    assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void test_host_fake_root(void **state)
{
    static const char mid[] = "0123456789abcdef0123456789abcdef";
    static const char boot[] = "2d79e0f6-faf9-4560-ba23-70c01d31b9fb";
    _cleanup_(measure_host_freep) struct measure_host *h = NULL;
    char root[] = "/tmp/hwsign-fakeroot-XXXXXX", path[PATH_MAX], want[65], input[128];
    struct rendered out;
    struct utsname u;

    assert_non_null(mkdtemp(root));
    mkdirs(root, "etc");
    mkdirs(root, "usr/lib");
    mkdirs(root, "proc/sys/kernel/random");

    /* Nothing there: all null, not an error; kernel from uname. */
    assert_int_equal(measure_host_read_at(root, &h), 0);
    render(h, NULL, NULL, &out);
    assert_int_equal(uname(&u), 0);
    assert_string_equal(jstr(out.obj, "host.kernel"), u.release);
    assert_string_equal(jstr(out.obj, "host.arch"), u.machine);
    assert_jnull(out.obj, "host.os.id");
    assert_jnull(out.obj, "host.os.version_id");
    assert_jnull(out.obj, "host.os.pretty_name");
    assert_jnull(out.obj, "host.boot_id");
    assert_jnull(out.obj, "host.machine_id_sha256");
    assert_jnull(out.obj, "peer");
    assert_int_equal(json_object_array_length(jget(out.obj, "toolchain")), 0);
    rendered_done(&out);
    h = measure_host_free(h);

    /* /usr/lib/os-release is the fallback; /etc/os-release a relative symlink to it. */
    pathf(path, sizeof(path), "%s/usr/lib/os-release", root);
    write_str(path, "ID=fake\nVERSION_ID=\"1.0\"\nPRETTY_NAME=\"Fake OS 1.0\"\n");
    pathf(path, sizeof(path), "%s/etc/machine-id", root);
    write_str(path, "0123456789abcdef0123456789abcdef\n");
    pathf(path, sizeof(path), "%s/proc/sys/kernel/random/boot_id", root);
    write_str(path, "2d79e0f6-faf9-4560-ba23-70c01d31b9fb\n");
    assert_int_equal(measure_host_read_at(root, &h), 0);
    render(h, NULL, NULL, &out);
    assert_string_equal(jstr(out.obj, "host.os.id"), "fake");
    assert_string_equal(jstr(out.obj, "host.os.version_id"), "1.0");
    assert_string_equal(jstr(out.obj, "host.os.pretty_name"), "Fake OS 1.0");
    assert_string_equal(jstr(out.obj, "host.boot_id"), boot);
    pathf(input, sizeof(input), "hwsign machine-id v1\n%s", mid);
    sha256_buf_hex(input, strlen(input), want);
    assert_string_equal(jstr(out.obj, "host.machine_id_sha256"), want);
    assert_null(strstr(out.text, mid)); /* never the raw id */
    rendered_done(&out);
    h = measure_host_free(h);

    pathf(path, sizeof(path), "%s/etc/os-release", root);
    assert_int_equal(symlink("../usr/lib/os-release", path), 0);
    assert_int_equal(measure_host_read_at(root, &h), 0);
    render(h, NULL, NULL, &out);
    assert_string_equal(jstr(out.obj, "host.os.id"), "fake");
    rendered_done(&out);
    h = measure_host_free(h);

    /* /etc/os-release present wins even without the keys; invalid ids are dropped. */
    assert_int_equal(unlink(path), 0);
    write_str(path, "NAME=only\n");
    pathf(path, sizeof(path), "%s/etc/machine-id", root);
    write_str(path, "uninitialized\n");
    pathf(path, sizeof(path), "%s/proc/sys/kernel/random/boot_id", root);
    write_str(path, "2D79E0F6-FAF9-4560-BA23-70C01D31B9FB\n");
    assert_int_equal(measure_host_read_at(root, &h), 0);
    render(h, NULL, NULL, &out);
    assert_jnull(out.obj, "host.os.id");
    assert_jnull(out.obj, "host.boot_id");
    assert_jnull(out.obj, "host.machine_id_sha256");
    rendered_done(&out);
    h = measure_host_free(h);

    /* An oversized os-release: the complete lines within the limit count. */
    {
        _cleanup_free_ char *big = malloc(MEASURE_MAX_OS_RELEASE + 64);
        size_t len;
        assert_non_null(big);
        len = 0;
        appendf(big, MEASURE_MAX_OS_RELEASE + 64, &len, false, "ID=big\n");
        while (len < MEASURE_MAX_OS_RELEASE - 4)
            appendf(big, MEASURE_MAX_OS_RELEASE + 64, &len, false, "# padding\n");
        appendf(big, MEASURE_MAX_OS_RELEASE + 64, &len, false, "VERSION_ID=cut\n");
        pathf(path, sizeof(path), "%s/etc/os-release", root);
        write_file(path, big, len);
    }
    assert_int_equal(measure_host_read_at(root, &h), 0);
    render(h, NULL, NULL, &out);
    assert_string_equal(jstr(out.obj, "host.os.id"), "big");
    assert_jnull(out.obj, "host.os.version_id");
    rendered_done(&out);
    rm_rf(root);
}

static void test_host_real(void **state)
{
    char want[65], input[128], mid[64] = "", boot[64] = "";
    struct rendered out;
    struct utsname u;
    FILE *fp;

    render(host, NULL, NULL, &out);
    assert_int_equal(uname(&u), 0);
    assert_string_equal(jstr(out.obj, "host.kernel"), u.release);
    fp = fopen("/etc/machine-id", "re");
    if (fp && fgets(mid, sizeof(mid), fp) && strlen(mid) == 33) {
        mid[32] = '\0';
        pathf(input, sizeof(input), "hwsign machine-id v1\n%s", mid);
        sha256_buf_hex(input, strlen(input), want);
        assert_string_equal(jstr(out.obj, "host.machine_id_sha256"), want);
        assert_null(strstr(out.text, mid));
    }
    if (fp)
        fclose(fp);
    fp = fopen("/proc/sys/kernel/random/boot_id", "re");
    assert_non_null(fp);
    assert_non_null(fgets(boot, sizeof(boot), fp));
    fclose(fp);
    boot[strcspn(boot, "\n")] = '\0';
    assert_string_equal(jstr(out.obj, "host.boot_id"), boot);
    rendered_done(&out);
    assert_int_equal(measure_host_read_at("/nonexistent-root", NULL), -EINVAL);
}

/* ---- toolchain ---- */

static void test_toolchain_cache(void **state)
{
    char dir[] = "/tmp/hwsign-tc-XXXXXX", file[PATH_MAX], link[PATH_MAX], missing[PATH_MAX];
    char real[PATH_MAX], tmp[PATH_MAX], sha[65];
    _cleanup_(measure_toolchain_freep) struct measure_toolchain *tc = NULL;
    const char *paths[4];
    struct json_object *t;
    struct rendered out;
    struct timespec ts[2];

    assert_non_null(mkdtemp(dir));
    pathf(file, sizeof(file), "%s/cc", dir);
    pathf(link, sizeof(link), "%s/cc-link", dir);
    pathf(missing, sizeof(missing), "%s/nope", dir);
    write_str(file, "compiler v1\n");
    assert_int_equal(symlink(file, link), 0);
    assert_non_null(realpath(file, real));
    paths[0] = link;
    paths[1] = missing;
    paths[2] = dir; /* a directory */
    paths[3] = file;
    assert_int_equal(measure_toolchain_new(paths, 4, &tc), 0);

    /* Before any update: unmeasured, and no hashing has happened. */
    render(host, NULL, tc, &out);
    assert_string_equal(jstr(json_object_array_get_idx(jget(out.obj, "toolchain"), 0), "status"),
                        "unmeasured");
    rendered_done(&out);
    assert_int_equal(measure_toolchain_hash_count(tc), 0);

    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_hash_count(tc), 2);
    sha256_file_hex(file, sha);
    render(host, NULL, tc, &out);
    t = jget(out.obj, "toolchain");
    assert_int_equal(json_object_array_length(t), 4);
    assert_string_equal(jstr(json_object_array_get_idx(t, 0), "path"), link);
    assert_string_equal(jstr(json_object_array_get_idx(t, 0), "status"), "ok");
    assert_string_equal(jstr(json_object_array_get_idx(t, 0), "realpath"), real);
    assert_string_equal(jstr(json_object_array_get_idx(t, 0), "sha256"), sha);
    assert_jnull(json_object_array_get_idx(t, 0), "error");
    assert_string_equal(jstr(json_object_array_get_idx(t, 1), "status"), "missing");
    assert_jnull(json_object_array_get_idx(t, 1), "realpath");
    assert_jnull(json_object_array_get_idx(t, 1), "sha256");
    assert_string_equal(jstr(json_object_array_get_idx(t, 2), "status"), "error");
    assert_string_equal(jstr(json_object_array_get_idx(t, 2), "error"), "EISDIR");
    assert_string_equal(jstr(json_object_array_get_idx(t, 3), "sha256"), sha);
    rendered_done(&out);

    /* Unchanged: no hashing. */
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_hash_count(tc), 2);

    /* Content changed (same size): both entries re-hashed, new digest. The pause lets the
     * file system's timestamp clock move on (the cache's documented limit). */
    tick();
    write_str(file, "compiler v2\n");
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_hash_count(tc), 4);
    sha256_file_hex(file, sha);
    render(host, NULL, tc, &out);
    assert_string_equal(jstr(json_object_array_get_idx(jget(out.obj, "toolchain"), 0), "sha256"),
                        sha);
    rendered_done(&out);

    /* Only the mtime changes: re-hashed (cannot know otherwise), same digest. */
    ts[0].tv_sec = ts[1].tv_sec = 1000000000;
    ts[0].tv_nsec = ts[1].tv_nsec = 123;
    assert_int_equal(utimensat(AT_FDCWD, file, ts, 0), 0);
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_hash_count(tc), 6);

    /* Replaced by rename (new inode). */
    pathf(tmp, sizeof(tmp), "%s/cc.new", dir);
    write_str(tmp, "compiler v3 longer\n");
    assert_int_equal(rename(tmp, file), 0);
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_hash_count(tc), 8);
    sha256_file_hex(file, sha);
    render(host, NULL, tc, &out);
    assert_string_equal(jstr(json_object_array_get_idx(jget(out.obj, "toolchain"), 3), "sha256"),
                        sha);
    rendered_done(&out);

    /* Removed: missing; created again: hashed again. */
    assert_int_equal(unlink(file), 0);
    assert_int_equal(measure_toolchain_update(tc), 0);
    render(host, NULL, tc, &out);
    assert_string_equal(jstr(json_object_array_get_idx(jget(out.obj, "toolchain"), 0), "status"),
                        "missing");
    assert_jnull(json_object_array_get_idx(jget(out.obj, "toolchain"), 0), "sha256");
    rendered_done(&out);
    write_str(file, "compiler v3 longer\n");
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_toolchain_hash_count(tc), 10);
    rm_rf(dir);
}

static const char *hook_tool_file;

/* Writes to the file just hashed, once: the agent must not keep that digest. */
static void tool_hook(enum measure_test_point point, pid_t pid, const char *path)
{
    if (point != MEASURE_TEST_TOOL_HASHED || !hook_tool_file || strcmp(path, hook_tool_file))
        return;
    tick();
    write_str(hook_tool_file, "changed under the hash\n");
    hook_tool_file = NULL;
}

static void test_toolchain_changed_while_hashing(void **state)
{
    char dir[] = "/tmp/hwsign-tc-XXXXXX", file[PATH_MAX], real[PATH_MAX], sha[65];
    _cleanup_(measure_toolchain_freep) struct measure_toolchain *tc = NULL;
    const char *paths[1];
    struct json_object *t;
    struct rendered out;

    assert_non_null(mkdtemp(dir));
    pathf(file, sizeof(file), "%s/cc", dir);
    write_str(file, "original\n");
    assert_non_null(realpath(file, real));
    paths[0] = file;
    assert_int_equal(measure_toolchain_new(paths, 1, &tc), 0);
    hook_tool_file = real;
    measure_test_hook = tool_hook;
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_null(hook_tool_file); /* the hook ran */
    render(host, NULL, tc, &out);
    t = json_object_array_get_idx(jget(out.obj, "toolchain"), 0);
    assert_string_equal(jstr(t, "status"), "error");
    assert_string_equal(jstr(t, "error"), "EAGAIN");
    assert_jnull(t, "sha256");
    rendered_done(&out);

    /* Next time it is hashed again, now stable. */
    assert_int_equal(measure_toolchain_update(tc), 0);
    measure_test_hook = NULL;
    assert_int_equal(measure_toolchain_hash_count(tc), 2);
    sha256_file_hex(file, sha);
    render(host, NULL, tc, &out);
    t = json_object_array_get_idx(jget(out.obj, "toolchain"), 0);
    assert_string_equal(jstr(t, "status"), "ok");
    assert_string_equal(jstr(t, "sha256"), sha);
    rendered_done(&out);
    rm_rf(dir);
}

static void test_toolchain_limits(void **state)
{
    const char *paths[MEASURE_MAX_TOOLCHAIN + 1];
    struct measure_toolchain *tc = NULL;
    _cleanup_free_ char *longpath = malloc(MEASURE_MAX_PATH + 1);
    const char *rel[] = {"usr/bin/cc"};
    const char *nul[] = {NULL};

    for (size_t i = 0; i < ELEMENTSOF(paths); i++)
        paths[i] = "/usr/bin/cc";
    assert_int_equal(measure_toolchain_new(paths, ELEMENTSOF(paths), &tc), -EMSGSIZE);
    assert_int_equal(measure_toolchain_new(rel, 1, &tc), -EINVAL);
    assert_int_equal(measure_toolchain_new(nul, 1, &tc), -EINVAL);
    assert_int_equal(measure_toolchain_new(NULL, 1, &tc), -EINVAL);
    assert_non_null(longpath);
    memset(longpath, 'a', MEASURE_MAX_PATH);
    longpath[0] = '/';
    longpath[MEASURE_MAX_PATH] = '\0';
    {
        const char *lp[] = {longpath};
        assert_int_equal(measure_toolchain_new(lp, 1, &tc), -EMSGSIZE);
    }
    assert_null(tc);
    assert_int_equal(measure_toolchain_new(paths, MEASURE_MAX_TOOLCHAIN, &tc), 0);
    tc = measure_toolchain_free(tc);
    assert_int_equal(measure_toolchain_new(NULL, 0, &tc), 0);
    assert_int_equal(measure_toolchain_update(tc), 0);
    tc = measure_toolchain_free(tc);
    assert_int_equal(measure_toolchain_update(NULL), -EINVAL);
}

/* ---- rendering ---- */

static void test_render_deterministic(void **state)
{
    char *const argv[] = {"sleep", "30", NULL};
    char *const envp[] = {"CI=1", "GITHUB_SHA=abc", NULL};
    const char *paths[] = {"/bin/sh", "/nonexistent/cc"};
    _cleanup_(measure_peer_freep) struct measure_peer *m1 = NULL, *m2 = NULL;
    _cleanup_(measure_toolchain_freep) struct measure_toolchain *tc = NULL;
    _cleanup_(measure_host_freep) struct measure_host *h2 = NULL;
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
    size_t alen, blen, clen;
    struct rendered out;
    struct peer p;
    pid_t pid = spawn("/bin/sleep", argv, envp, NULL);

    peer_for(&p, pid, pidfd_open(pid));
    assert_int_equal(measure_toolchain_new(paths, 2, &tc), 0);
    assert_int_equal(measure_toolchain_update(tc), 0);
    assert_int_equal(measure_peer_read(&p, allow, ELEMENTSOF(allow), &m1), 0);
    assert_alive(pid);
    assert_int_equal(measure_peer_read(&p, allow, ELEMENTSOF(allow), &m2), 0);
    assert_int_equal(measure_host_read(&h2), 0);

    /* Same objects twice, and independent measurements of the same unchanged world. */
    assert_int_equal(measure_render_json(host, m1, tc, &a, &alen), 0);
    assert_int_equal(measure_render_json(host, m1, tc, &b, &blen), 0);
    assert_int_equal(measure_render_json(h2, m2, tc, &c, &clen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    assert_int_equal(alen, clen);
    assert_memory_equal(a, c, alen);

    /* Member order is fixed. */
    assert_true(strncmp(a, "{\"observer\":\"hwsign-agent\",\"peer\":{\"uid\":", 41) == 0);
    render(host, m1, tc, &out);
    {
        static const char *const order[] = {"observer", "peer", "host", "toolchain"};
        size_t i = 0;
        json_object_object_foreach(out.obj, key, val)
        {
            (void)val;
            assert_true(i < ELEMENTSOF(order));
            assert_string_equal(key, order[i++]);
        }
        assert_int_equal(i, ELEMENTSOF(order));
    }
    rendered_done(&out);

    /* Errors leave the outputs alone. */
    free(b);
    b = (char *)(uintptr_t)0x1;
    blen = 77;
    assert_int_equal(measure_render_json(NULL, m1, tc, &b, &blen), -EINVAL);
    assert_ptr_equal(b, (char *)(uintptr_t)0x1);
    assert_int_equal(blen, 77);
    b = NULL;
    kill_reap(pid);
    close(p.pidfd);
}

/* More than MEASURE_MAX_JSON of text: -EMSGSIZE, not a truncated document. */
static void test_render_limit(void **state)
{
    const char *paths[MEASURE_MAX_TOOLCHAIN];
    _cleanup_(measure_toolchain_freep) struct measure_toolchain *tc = NULL;
    _cleanup_free_ char *longpath = malloc(MEASURE_MAX_PATH);
    char *text = NULL;
    size_t len = 0;

    assert_non_null(longpath);
    memset(longpath, 'x', MEASURE_MAX_PATH - 1);
    longpath[0] = '/';
    longpath[MEASURE_MAX_PATH - 1] = '\0';
    for (size_t i = 0; i < ELEMENTSOF(paths); i++)
        paths[i] = longpath;
    assert_int_equal(measure_toolchain_new(paths, 4, &tc), 0);
    assert_int_equal(measure_render_json(host, NULL, tc, &text, &len), 0);
    free(text);
    text = NULL;
    tc = measure_toolchain_free(tc);
    assert_int_equal(measure_toolchain_new(paths, ELEMENTSOF(paths), &tc), 0);
    assert_int_equal(measure_render_json(host, NULL, tc, &text, &len), -EMSGSIZE);
    assert_null(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_peer_real_child),
            cmocka_unit_test(test_peer_zombie),
            cmocka_unit_test(test_peer_lying_wrapper),
            cmocka_unit_test(test_peer_cmdline_limits),
            cmocka_unit_test(test_peer_bad_arguments),
            cmocka_unit_test(test_peer_other_user),
            cmocka_unit_test(test_fake_basic),
            cmocka_unit_test(test_fake_environment),
            cmocka_unit_test(test_fake_environment_eacces),
            cmocka_unit_test_teardown(test_fake_identity_changes, reset_hook),
            cmocka_unit_test(test_cgroup_table),
            cmocka_unit_test(test_os_release_table),
            cmocka_unit_test(test_host_fake_root),
            cmocka_unit_test(test_host_real),
            cmocka_unit_test(test_toolchain_cache),
            cmocka_unit_test_teardown(test_toolchain_changed_while_hashing, reset_hook),
            cmocka_unit_test(test_toolchain_limits),
            cmocka_unit_test(test_render_deterministic),
            cmocka_unit_test(test_render_limit),
    };

    /* Children must not inherit a SIGCHLD disposition that would reap them behind our back. */
    signal(SIGCHLD, SIG_DFL);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
