/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measure module's peer facts and the JSON document (see measure.h); the host facts and the
 * pure parsers are in measure-host.c, the toolchain in measure-toolchain.c, and what the three
 * files share is declared in measure-internal.h.
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json_object.h>

#include "crypto.h"
#include "format.h"
#include "json.h"
#include "measure-internal.h"
#include "parse.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* First allocation of measure_read_text(); it doubles up to the caller's maximum. */
#define READ_INITIAL 4096u
/* /proc/PID/stat: comm is at most 64 bytes, the rest about 52 numbers. */
#define STAT_MAX 4096u
/* A decimal field of /proc/PID/stat (u64 or i64). */
#define STAT_FIELD_MAX 24u
/* Field number (1-based, proc(5)) of the process start time in /proc/PID/stat. */
#define STAT_FIELD_STARTTIME 22
/* /proc/self/fdinfo/FD of a pidfd: a handful of short lines. */
#define FDINFO_MAX     4096u
#define ERRNO_NAME_MAX 32u
#define DEFAULT_PROC   "/proc"

void (*measure_test_hook)(enum measure_test_point point, pid_t pid, const char *path);

/* ------------------------------------------------------------------------------------------ */
/* small helpers */

static char ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* Symbolic errno name ("EACCES"); deterministic unlike strerror(), which follows the locale. */
static void errno_name(int err, char buf[static ERRNO_NAME_MAX])
{
    const char *name = strerrorname_np(err);
    int n;

    if (name)
        n = snprintf(buf, ERRNO_NAME_MAX, "%s", name);
    else
        n = snprintf(buf, ERRNO_NAME_MAX, "errno %d", err);
    if (n < 0 || (size_t)n >= ERRNO_NAME_MAX)
        buf[0] = '\0';
}

bool measure_copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return false;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

static int proc_path(char *buf, size_t cap, const char *root, pid_t pid, const char *name)
{
    int n = snprintf(buf, cap, "%s/%d/%s", root, (int)pid, name);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

/* Free a buffer that may hold secrets (environment). */
static void wipe_free(char *p, size_t len)
{
    if (p) {
        explicit_bzero(p, len);
        free(p);
    }
}

int measure_read_text(const char *path, size_t max, bool wipe, char **ret, size_t *ret_len,
                      bool *ret_truncated)
{
    _cleanup_close_ int fd = -EBADF;
    char *buf;
    size_t cap, len = 0;
    bool truncated = false;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    cap = MIN(max, (size_t)READ_INITIAL);
    buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char probe, *nb;
            size_t ncap;

            if (cap == max) {
                do
                    n = read(fd, &probe, 1);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                    goto fail;
                truncated = n > 0;
                break;
            }
            ncap = cap > max / 2 ? max : cap * 2;
            nb = malloc(ncap + 1);
            if (!nb) {
                errno = ENOMEM;
                goto fail;
            }
            memcpy(nb, buf, len);
            if (wipe)
                explicit_bzero(buf, len);
            free(buf);
            buf = nb;
            cap = ncap;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    *ret_truncated = truncated;
    return 0;

fail : {
    int r = negative_errno();
    if (wipe)
        wipe_free(buf, len);
    else
        free(buf);
    return r;
}
}

/* ------------------------------------------------------------------------------------------ */
/* peer */

struct env_var {
    char *name;
    char *value; /* NULL: withheld (secret-looking name) */
};

struct measure_peer {
    uid_t uid;
    gid_t gid;
    pid_t pid;
    char *exe_path;
    uint8_t exe_sha256[MEASURE_SHA256_LEN];
    char *cmdline;     /* NUL-separated arguments, owned */
    const char **argv; /* pointers into cmdline */
    size_t argc;
    bool argv_truncated;
    char *cwd; /* NULL when not readable */
    bool have_cgroup;
    struct measure_cgroup cgroup;
    bool env_observable;
    int env_error; /* errno when not observable */
    bool env_truncated;
    struct env_var *env;
    size_t n_env;
};

struct measure_peer *measure_peer_free(struct measure_peer *m)
{
    if (!m)
        return NULL;
    free(m->exe_path);
    free(m->cmdline);
    free(m->argv);
    free(m->cwd);
    for (size_t i = 0; i < m->n_env; i++) {
        free(m->env[i].name);
        if (m->env[i].value)
            wipe_free(m->env[i].value, strlen(m->env[i].value));
    }
    free(m->env);
    free(m);
    return NULL;
}

const char *measure_peer_exe_path(const struct measure_peer *m)
{
    return m ? m->exe_path : NULL;
}

const uint8_t *measure_peer_exe_sha256(const struct measure_peer *m)
{
    return m ? m->exe_sha256 : NULL;
}

const struct measure_cgroup *measure_peer_cgroup(const struct measure_peer *m)
{
    return m && m->have_cgroup ? &m->cgroup : NULL;
}

static bool env_pattern_valid(const char *pat)
{
    size_t len;

    if (!pat)
        return false;
    len = strnlen(pat, MEASURE_MAX_ENV_NAME + 1);
    if (len == 0 || len > MEASURE_MAX_ENV_NAME)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        if (c <= ' ' || c > '~' || c == '=')
            return false;
        if (c == '*' && i != len - 1)
            return false;
    }
    return !streq(pat, "*");
}

static bool env_allowed(const char *name, size_t len, const char *const *allow, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(allow[i]);

        if (allow[i][pl - 1] == '*') {
            if (len >= pl - 1 && memcmp(name, allow[i], pl - 1) == 0)
                return true;
        } else if (len == pl && memcmp(name, allow[i], pl) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether the name contains, ignoring ASCII case, a word that marks secrets. */
static bool env_name_secret(const char *name, size_t len)
{
    static const char *const words[] = {"TOKEN",      "SECRET",  "PASSWORD",   "PASSWD",
                                        "PASSPHRASE", "KEY",     "CREDENTIAL", "AUTH",
                                        "COOKIE",     "SESSION", "PRIVATE"};

    for (size_t w = 0; w < ELEMENTSOF(words); w++) {
        size_t wl = strlen(words[w]);

        for (size_t i = 0; i + wl <= len; i++) {
            size_t k = 0;
            while (k < wl && ascii_upper(name[i + k]) == words[w][k])
                k++;
            if (k == wl)
                return true;
        }
    }
    return false;
}

static int env_cmp(const void *a, const void *b)
{
    const struct env_var *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Filter environ text (NUL-separated NAME=VALUE entries) into m->env. */
static int env_filter(struct measure_peer *m, const char *text, size_t len, bool truncated,
                      const char *const *allow, size_t n_allow)
{
    size_t pos = 0;

    m->env = calloc(MEASURE_MAX_ENV_VARS, sizeof(*m->env));
    if (!m->env)
        return -ENOMEM;
    m->env_truncated = truncated;
    while (pos < len) {
        size_t end = pos, nlen = 0, vlen;
        const char *entry = text + pos, *eq;
        bool dup = false, printable = true, secret;
        struct env_var *v;

        while (end < len && text[end] != '\0')
            end++;
        /* An entry cut by the read limit is incomplete: leave it out. */
        if (end == len && truncated)
            break;
        pos = end + 1;
        eq = memchr(entry, '=', (size_t)(text + end - entry));
        if (!eq || eq == entry)
            continue;
        nlen = (size_t)(eq - entry);
        vlen = (size_t)(text + end - eq - 1);
        if (!env_allowed(entry, nlen, allow, n_allow))
            continue;
        for (size_t i = 0; i < nlen && printable; i++)
            printable = entry[i] > ' ' && entry[i] <= '~';
        for (size_t i = 0; i < m->n_env && !dup; i++)
            dup = strlen(m->env[i].name) == nlen && memcmp(m->env[i].name, entry, nlen) == 0;
        if (dup)
            continue; /* getenv() returns the first */
        if (!printable || nlen > MEASURE_MAX_ENV_NAME || m->n_env == MEASURE_MAX_ENV_VARS) {
            m->env_truncated = true;
            continue;
        }
        secret = env_name_secret(entry, nlen);
        if (!secret && vlen > MEASURE_MAX_ENV_VALUE) {
            m->env_truncated = true;
            continue;
        }
        v = &m->env[m->n_env];
        v->name = strndup(entry, nlen);
        if (!v->name)
            return -ENOMEM;
        m->n_env++; /* counted from here, so measure_peer_free releases it */
        if (!secret) {
            v->value = strndup(eq + 1, vlen);
            if (!v->value)
                return -ENOMEM;
        }
    }
    qsort(m->env, m->n_env, sizeof(*m->env), env_cmp);
    return 0;
}

/* Split cmdline text (NUL-separated) into argv, keeping only complete arguments. */
static int cmdline_split(struct measure_peer *m, char *text, size_t len, bool truncated)
{
    size_t pos = 0;

    m->cmdline = text;
    m->argv_truncated = truncated;
    m->argv = calloc(MEASURE_MAX_ARGS, sizeof(*m->argv));
    if (!m->argv)
        return -ENOMEM;
    while (pos < len) {
        size_t end = pos;

        while (end < len && text[end] != '\0')
            end++;
        if (end == len && truncated)
            break; /* cut by the limit */
        if (m->argc == MEASURE_MAX_ARGS) {
            m->argv_truncated = true;
            break;
        }
        m->argv[m->argc++] = text + pos; /* NUL-terminated: by the kernel or read_text */
        pos = end + 1;
    }
    return 0;
}

struct proc_stat {
    char state;
    uint64_t starttime;
};

static int parse_stat(const char *text, size_t len, struct proc_stat *ret)
{
    struct proc_stat st = {};
    size_t pos = len;

    /* comm (field 2) may hold spaces and parentheses: the fields resume after the last ')'. */
    while (pos > 0 && text[pos - 1] != ')')
        pos--;
    if (pos == 0)
        return -EINVAL;
    for (int field = 3; field <= STAT_FIELD_STARTTIME; field++) {
        size_t start;

        if (pos >= len || text[pos] != ' ')
            return -EINVAL;
        start = ++pos;
        while (pos < len && text[pos] != ' ' && text[pos] != '\n')
            pos++;
        if (pos == start)
            return -EINVAL;
        if (field == 3) {
            if (pos - start != 1)
                return -EINVAL;
            st.state = text[start];
        } else if (field == STAT_FIELD_STARTTIME) {
            char num[STAT_FIELD_MAX];
            int r;

            if (!measure_copy_str(num, sizeof(num), text + start, pos - start))
                return -EINVAL;
            r = parse_u64(num, UINT64_MAX, &st.starttime);
            if (r < 0)
                return r;
        }
    }
    *ret = st;
    return 0;
}

static int read_stat(const char *root, pid_t pid, struct proc_stat *ret)
{
    _cleanup_free_ char *text = NULL;
    char path[PATH_MAX];
    size_t len;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "stat");
    if (r < 0)
        return r;
    r = measure_read_text(path, STAT_MAX, false, &text, &len, &truncated);
    if (r < 0)
        return r;
    if (truncated)
        return -EINVAL;
    return parse_stat(text, len, ret);
}

/*
 * Whether the process exists: 1 yes, 0 gone, or -errno. EPERM counts as existing: the kernel
 * looks the process up before it checks permission.
 */
static int process_exists(pid_t pid, int pidfd)
{
    long r;

    if (pidfd >= 0)
        r = syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
    else
        r = kill(pid, 0);
    if (r == 0 || errno == EPERM)
        return 1;
    if (errno == ESRCH)
        return 0;
    return negative_errno();
}

static bool gone_errno(int r)
{
    return r == -ENOENT || r == -ESRCH;
}

static bool state_dead(char state)
{
    return state == 'Z' || state == 'X' || state == 'x';
}

/* A /proc read failed with ENOENT/ESRCH: -ESRCH if the process is gone, else -EACCES (hidden). */
static int missing_proc_entry(pid_t pid, int pidfd)
{
    int r = process_exists(pid, pidfd);
    if (r < 0)
        return r;
    return r == 0 ? -ESRCH : -EACCES;
}

/* With a pidfd: the pid the kernel holds for it must be ours (fdinfo "Pid:", Linux >= 5.10). */
static int pidfd_check_pid(pid_t pid, int pidfd)
{
    _cleanup_free_ char *text = NULL;
    char path[64], num[STAT_FIELD_MAX];
    const char *line;
    size_t len, vlen;
    bool truncated;
    uint64_t v;
    int r;

    r = snprintf(path, sizeof(path), DEFAULT_PROC "/self/fdinfo/%d", pidfd);
    if (r < 0 || (size_t)r >= sizeof(path))
        return -EINVAL;
    r = measure_read_text(path, FDINFO_MAX, false, &text, &len, &truncated);
    if (r < 0)
        return r == -ENOENT ? -EBADF : r;
    line = strstr(text, "\nPid:\t");
    if (!line)
        return 0; /* old kernel: nothing to compare */
    line += strlen("\nPid:\t");
    vlen = strcspn(line, "\n");
    if (vlen == 2 && memcmp(line, "-1", 2) == 0)
        return -ESRCH; /* the process has exited */
    if (!measure_copy_str(num, sizeof(num), line, vlen) || parse_u64(num, INT_MAX, &v) < 0)
        return -EINVAL;
    return (pid_t)v == pid ? 0 : -EINVAL;
}

static int read_link(const char *path, char **ret)
{
    char buf[MEASURE_MAX_PATH + 1];
    ssize_t n;
    char *s;

    n = readlink(path, buf, sizeof(buf));
    if (n < 0)
        return negative_errno();
    if ((size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    s = strndup(buf, (size_t)n);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

/* The executable: open once, hash that fd, note its identity for the final check. */
static int peer_exe(const char *root, const struct peer *p, struct measure_peer *m,
                    struct stat *ret_st)
{
    _cleanup_close_ int fd = -EBADF;
    char path[PATH_MAX];
    struct stat st;
    int r;

    r = proc_path(path, sizeof(path), root, p->pid, "exe");
    if (r < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r = negative_errno();
        if (r == -EPERM)
            return -EACCES;
        if (gone_errno(r)) {
            /* A zombie or a kernel thread has no exe; a gone process has no directory. */
            struct proc_stat ps;
            int s = read_stat(root, p->pid, &ps);
            if (gone_errno(s))
                return missing_proc_entry(p->pid, p->pidfd);
            if (s == 0 && state_dead(ps.state))
                return -ESRCH;
        }
        return r;
    }
    if (fstat(fd, &st) < 0)
        return negative_errno();
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if ((uint64_t)st.st_size > MEASURE_MAX_EXE_SIZE)
        return -EFBIG;
    r = read_link(path, &m->exe_path);
    if (r < 0)
        return gone_errno(r) ? -ESRCH : r;
    r = hash_fd_limited(fd, HWSIGN_HASH_SHA256, MEASURE_MAX_EXE_SIZE, m->exe_sha256,
                        sizeof(m->exe_sha256));
    if (r < 0)
        return r;
    *ret_st = st;
    return 0;
}

static int peer_cmdline(const char *root, pid_t pid, struct measure_peer *m)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "cmdline");
    if (r < 0)
        return r;
    r = measure_read_text(path, MEASURE_MAX_CMDLINE, false, &text, &len, &truncated);
    if (r < 0)
        return gone_errno(r) ? -ESRCH : r;
    return cmdline_split(m, text, len, truncated); /* takes text */
}

static int peer_cgroup(const char *root, pid_t pid, struct measure_peer *m)
{
    _cleanup_free_ char *text = NULL;
    char path[PATH_MAX];
    size_t len;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "cgroup");
    if (r < 0)
        return r;
    r = measure_read_text(path, MEASURE_MAX_CGROUP_FILE, false, &text, &len, &truncated);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0; /* best effort */
    m->have_cgroup = measure_parse_cgroup(text, len, &m->cgroup) == 0;
    return 0;
}

static int peer_cwd(const char *root, pid_t pid, struct measure_peer *m)
{
    char path[PATH_MAX];
    int r;

    r = proc_path(path, sizeof(path), root, pid, "cwd");
    if (r < 0)
        return r;
    r = read_link(path, &m->cwd);
    return r == -ENOMEM ? r : 0; /* best effort */
}

static int peer_environ(const char *root, pid_t pid, const char *const *allow, size_t n_allow,
                        struct measure_peer *m)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "environ");
    if (r < 0)
        return r;
    r = measure_read_text(path, MEASURE_MAX_ENVIRON, true, &text, &len, &truncated);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        m->env_observable = false;
        m->env_error = -r;
        return 0;
    }
    m->env_observable = true;
    r = env_filter(m, text, len, truncated, allow, n_allow);
    wipe_free(text, len);
    return r;
}

/* The facts read belong to the process that connected: see measure_peer_read in the header. */
static int peer_verify(const char *root, const struct peer *p, const struct proc_stat *before,
                       const struct stat *exe_st)
{
    char path[PATH_MAX];
    struct proc_stat after;
    struct stat st;
    int r;

    r = read_stat(root, p->pid, &after);
    if (r < 0)
        return gone_errno(r) ? -ESRCH : r;
    if (state_dead(after.state) || after.starttime != before->starttime)
        return -ESRCH;
    r = proc_path(path, sizeof(path), root, p->pid, "exe");
    if (r < 0)
        return r;
    if (stat(path, &st) < 0) {
        r = negative_errno();
        return gone_errno(r) ? -ESRCH : r;
    }
    if (st.st_dev != exe_st->st_dev || st.st_ino != exe_st->st_ino)
        return -ESRCH; /* exec'd another file meanwhile */
    if (p->pidfd >= 0) {
        r = process_exists(p->pid, p->pidfd);
        if (r < 0)
            return r;
        if (r == 0)
            return -ESRCH;
    }
    return 0;
}

int measure_peer_read_at(const char *proc_root, const struct peer *p, const char *const *env_allow,
                         size_t n_env_allow, struct measure_peer **ret)
{
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    struct proc_stat before;
    struct stat exe_st;
    int r;

    if (!proc_root || !p || p->pid <= 0 || !ret || (n_env_allow > 0 && !env_allow))
        return -EINVAL;
    if (n_env_allow > MEASURE_MAX_ENV_ALLOW)
        return -EMSGSIZE;
    for (size_t i = 0; i < n_env_allow; i++)
        if (!env_pattern_valid(env_allow[i]))
            return -EINVAL;

    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->uid = p->uid;
    m->gid = p->gid;
    m->pid = p->pid;

    if (p->pidfd >= 0) {
        r = pidfd_check_pid(p->pid, p->pidfd);
        if (r < 0)
            return r;
    }
    r = read_stat(proc_root, p->pid, &before);
    if (gone_errno(r))
        return missing_proc_entry(p->pid, p->pidfd);
    if (r < 0)
        return r;
    if (state_dead(before.state))
        return -ESRCH;

    r = peer_exe(proc_root, p, m, &exe_st);
    if (r < 0)
        return r;
    r = peer_cmdline(proc_root, p->pid, m);
    if (r < 0)
        return r;
    r = peer_cgroup(proc_root, p->pid, m);
    if (r < 0)
        return r;
    r = peer_cwd(proc_root, p->pid, m);
    if (r < 0)
        return r;
    r = peer_environ(proc_root, p->pid, env_allow, n_env_allow, m);
    if (r < 0)
        return r;

    if (measure_test_hook)
        measure_test_hook(MEASURE_TEST_PEER_BEFORE_VERIFY, p->pid, NULL);
    r = peer_verify(proc_root, p, &before, &exe_st);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(m);
    return 0;
}

int measure_peer_read(const struct peer *p, const char *const *env_allow, size_t n_env_allow,
                      struct measure_peer **ret)
{
    return measure_peer_read_at(DEFAULT_PROC, p, env_allow, n_env_allow, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* rendering */

int measure_json_add_null(struct json_object *obj, const char *key)
{
    return json_object_object_add(obj, key, NULL) < 0 ? -ENOMEM : 0;
}

/* Text as a JSON string when it is UTF-8, else as {"base64": ...}: never lossy. */
static struct json_object *json_text(const char *s, size_t len)
{
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    _cleanup_free_ char *b64 = NULL;

    if (len > INT_MAX)
        return NULL;
    if (utf8_valid(s, len))
        return json_object_new_string_len(s, (int)len);
    if (base64_encode((const uint8_t *)s, len, &b64) < 0)
        return NULL;
    o = json_object_new_object();
    if (!o || fjson_add_string(o, "base64", b64, strlen(b64)) < 0)
        return NULL;
    return TAKE_PTR(o);
}

int measure_json_add_text(struct json_object *obj, const char *key, const char *s)
{
    return fjson_add(obj, key, json_text(s, strlen(s)));
}

int measure_json_add_opt_text(struct json_object *obj, const char *key, const char *s)
{
    return s && s[0] ? measure_json_add_text(obj, key, s) : measure_json_add_null(obj, key);
}

int measure_json_add_sha256(struct json_object *obj, const char *key,
                            const uint8_t d[static MEASURE_SHA256_LEN])
{
    _cleanup_free_ char *hex = NULL;
    int r = hex_encode(d, MEASURE_SHA256_LEN, &hex);
    if (r < 0)
        return r;
    return fjson_add_string(obj, key, hex, strlen(hex));
}

static int add_int(struct json_object *obj, const char *key, int64_t v)
{
    return fjson_add(obj, key, json_object_new_int64(v));
}

static int add_bool(struct json_object *obj, const char *key, bool v)
{
    return fjson_add(obj, key, json_object_new_boolean(v));
}

int measure_json_add_errno(struct json_object *obj, const char *key, int err)
{
    char name[ERRNO_NAME_MAX];

    errno_name(err, name);
    return fjson_add_string(obj, key, name, strlen(name));
}

static int render_environment(const struct measure_peer *m, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *vars = NULL;
    int r;

    if (!o)
        return -ENOMEM;
    r = add_bool(o, "observable", m->env_observable);
    if (r < 0)
        return r;
    if (!m->env_observable) {
        r = measure_json_add_errno(o, "error", m->env_error);
        if (r < 0)
            return r;
        *ret = TAKE_PTR(o);
        return 0;
    }
    r = add_bool(o, "truncated", m->env_truncated);
    if (r < 0)
        return r;
    vars = json_object_new_object();
    if (!vars)
        return -ENOMEM;
    for (size_t i = 0; i < m->n_env; i++) {
        const struct env_var *v = &m->env[i];
        r = v->value ? measure_json_add_text(vars, v->name, v->value)
                     : measure_json_add_null(vars, v->name);
        if (r < 0)
            return r;
    }
    r = fjson_add(o, "variables", TAKE_PTR(vars));
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

static int render_peer(const struct measure_peer *m, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *exe = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *argv = json_object_new_array();
    _cleanup_(fjson_putp) struct json_object *env = NULL;
    const struct measure_cgroup *cg = m->have_cgroup ? &m->cgroup : NULL;
    int r;

    if (!o || !exe || !argv)
        return -ENOMEM;
    r = add_int(o, "uid", (int64_t)m->uid);
    if (r >= 0)
        r = add_int(o, "gid", (int64_t)m->gid);
    if (r >= 0)
        r = add_int(o, "pid", (int64_t)m->pid);
    if (r >= 0)
        r = measure_json_add_text(exe, "path", m->exe_path ? m->exe_path : "");
    if (r >= 0)
        r = measure_json_add_sha256(exe, "sha256", m->exe_sha256);
    if (r >= 0)
        r = fjson_add(o, "exe", TAKE_PTR(exe));
    for (size_t i = 0; r >= 0 && i < m->argc; i++)
        r = fjson_append(argv, json_text(m->argv[i], strlen(m->argv[i])));
    if (r >= 0)
        r = fjson_add(o, "cmdline", TAKE_PTR(argv));
    if (r >= 0)
        r = add_bool(o, "cmdline_truncated", m->argv_truncated);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "cwd", m->cwd);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "cgroup", cg ? cg->path : NULL);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "unit", cg ? cg->unit : NULL);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "nested_unit", cg ? cg->nested_unit : NULL);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "container", cg ? cg->container : NULL);
    if (r >= 0)
        r = render_environment(m, &env);
    if (r >= 0)
        r = fjson_add(o, "environment", TAKE_PTR(env));
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

int measure_render_json(const struct measure_host *host, const struct measure_peer *peer,
                        const struct measure_toolchain *tc, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL, *sub = NULL, *tools = NULL;
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r;

    if (!host || !ret)
        return -EINVAL;
    root = json_object_new_object();
    tools = json_object_new_array();
    if (!root || !tools)
        return -ENOMEM;
    r = fjson_add_string(root, "observer", MEASURE_OBSERVER, strlen(MEASURE_OBSERVER));
    if (r < 0)
        return r;
    if (peer) {
        r = render_peer(peer, &sub);
        if (r >= 0)
            r = fjson_add(root, "peer", TAKE_PTR(sub));
    } else {
        r = measure_json_add_null(root, "peer");
    }
    if (r < 0)
        return r;
    r = measure_host_render(host, &sub);
    if (r >= 0)
        r = fjson_add(root, "host", TAKE_PTR(sub));
    if (r >= 0)
        r = measure_toolchain_render(tc, tools);
    if (r >= 0)
        r = fjson_add(root, "toolchain", TAKE_PTR(tools));
    if (r < 0)
        return r;
    r = fjson_serialize(root, &text, &len);
    if (r < 0)
        return r;
    if (len > MEASURE_MAX_JSON)
        return -EMSGSIZE;
    *ret = TAKE_PTR(text);
    if (ret_len)
        *ret_len = len;
    return 0;
}
