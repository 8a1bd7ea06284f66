/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* environ, memrchr, pipe2 */
#include "attest-git.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest-run.h"
#include "intoto.h"
#include "macro.h"

/* How often a git child that closed its stdout is polled for exit before the deadline. */
#define GIT_REAP_POLL_NS (5 * 1000 * 1000L)

struct git_out {
    char *data; /* NUL-terminated, at most ATTEST_GIT_MAX_OUTPUT bytes */
    size_t len;
    bool truncated; /* git wrote more than was kept */
    int exit_code;  /* -1 when git died of a signal */
};

static void git_out_done(struct git_out *o)
{
    free(o->data);
}

static void spawn_actions_destroyp(posix_spawn_file_actions_t **fa)
{
    if (*fa)
        posix_spawn_file_actions_destroy(*fa);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void kill_and_reap(pid_t pid)
{
    int status;

    (void)kill(pid, SIGKILL);
    (void)attest_reap(pid, &status);
}

/* environ without GIT_* (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE ... would redirect git). */
static int git_environment(char ***ret)
{
    size_t n = 0, k = 0;
    char **env;

    for (char **e = environ; e && *e; e++)
        n++;
    env = calloc(n + 1, sizeof(*env));
    if (!env)
        return -ENOMEM;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "GIT_", 4) != 0)
            env[k++] = *e;
    env[k] = NULL;
    *ret = env;
    return 0;
}

/* Drains fd until EOF or the deadline; keeps the first ATTEST_GIT_MAX_OUTPUT bytes. */
static int git_read(int fd, int64_t deadline, struct git_out *o)
{
    char chunk[1024];

    o->data = malloc(ATTEST_GIT_MAX_OUTPUT + 1);
    if (!o->data)
        return -ENOMEM;
    o->len = 0;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - monotonic_ms();
        ssize_t n;
        int p;

        if (left <= 0)
            return -ETIMEDOUT;
        p = poll(&pfd, 1, (int)MIN(left, (int64_t)INT32_MAX));
        if (p < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (p == 0)
            return -ETIMEDOUT;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        size_t keep = MIN((size_t)n, ATTEST_GIT_MAX_OUTPUT - o->len);
        memcpy(o->data + o->len, chunk, keep);
        o->len += keep;
        if (keep < (size_t)n)
            o->truncated = true;
    }
    o->data[o->len] = '\0';
    return 0;
}

/* Waits for pid until the deadline (git closed stdout; it should be exiting). */
static int git_wait(pid_t pid, int64_t deadline, int *ret_status)
{
    for (;;) {
        pid_t p = waitpid(pid, ret_status, WNOHANG);
        if (p == pid)
            return 0;
        if (p < 0 && errno != EINTR)
            return negative_errno();
        if (monotonic_ms() >= deadline)
            return -ETIMEDOUT;
        struct timespec ts = {.tv_nsec = GIT_REAP_POLL_NS};
        nanosleep(&ts, NULL);
    }
}

/*
 * Runs `git --no-optional-locks -c core.fsmonitor=false -C dir args...`. 0 with *ret filled
 * once git ran (any exit status), -ENOENT/-EACCES when git cannot be executed, -ETIMEDOUT.
 */
static int git_run(const char *dir, const char *const *args, size_t n_args, unsigned timeout_ms,
                   struct git_out *ret)
{
    static const char *const prefix[] = {"git", "--no-optional-locks", "-c", "core.fsmonitor=false",
                                         "-C"};
    posix_spawn_file_actions_t fa_storage;
    posix_spawnattr_t attr_storage;
    _cleanup_(spawn_actions_destroyp) posix_spawn_file_actions_t *fa = NULL;
    _cleanup_(attest_spawnattr_destroyp) posix_spawnattr_t *attr = NULL;
    _cleanup_free_ char **env = NULL;
    _cleanup_free_ const char **argv = NULL;
    _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
    struct git_out o = {};
    sigset_t none, dfl;
    int64_t deadline;
    size_t k = 0;
    pid_t pid;
    int pipefd[2], status = 0, r;

    argv = calloc(ELEMENTSOF(prefix) + 1 + n_args + 1, sizeof(*argv));
    if (!argv)
        return -ENOMEM;
    for (size_t i = 0; i < ELEMENTSOF(prefix); i++)
        argv[k++] = prefix[i];
    argv[k++] = dir;
    for (size_t i = 0; i < n_args; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    r = git_environment(&env);
    if (r < 0)
        return r;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return negative_errno();
    rfd = pipefd[0];
    wfd = pipefd[1];
    if (posix_spawn_file_actions_init(&fa_storage) != 0)
        return -ENOMEM;
    fa = &fa_storage;
    if (posix_spawnattr_init(&attr_storage) != 0)
        return -ENOMEM;
    attr = &attr_storage;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    if (posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(fa, wfd, STDOUT_FILENO) != 0 ||
        posix_spawn_file_actions_addopen(fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setsigmask(attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(attr, &dfl) != 0)
        return -ENOMEM;

    deadline = monotonic_ms() + (timeout_ms ? timeout_ms : ATTEST_GIT_TIMEOUT_MS);
    /* posix_spawnp takes char *const []: git does not modify its arguments. */
    r = posix_spawnp(&pid, "git", fa, attr, (char *const *)(uintptr_t)argv, env);
    if (r != 0)
        return -r;
    closep(&wfd);
    wfd = -EBADF;

    r = git_read(rfd, deadline, &o);
    if (r >= 0)
        r = git_wait(pid, deadline, &status);
    if (r < 0) {
        kill_and_reap(pid);
        git_out_done(&o);
        return r;
    }
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *ret = o;
    return 0;
}

/* The first line of o: no NUL or control characters. -EBADMSG. */
static int git_first_line(const struct git_out *o, char **ret)
{
    size_t n = 0;
    char *s;

    while (n < o->len && o->data[n] != '\n')
        n++;
    if (n == o->len && o->truncated)
        return -EBADMSG; /* the line did not fit */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)o->data[i] < 0x20 || o->data[i] == 0x7f)
            return -EBADMSG;
    s = strndup(o->data, n);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static bool is_commit_hex(const char *s)
{
    size_t n = strlen(s);

    if (n != 40 && n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

struct attest_git_info *attest_git_info_free(struct attest_git_info *g)
{
    if (!g)
        return NULL;
    free(g->commit);
    free(g->ref);
    free(g->url);
    free(g->uri);
    free(g);
    return NULL;
}

void attest_git_info_freep(struct attest_git_info **g)
{
    *g = attest_git_info_free(*g);
}

static bool valid_scheme(const char *s, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

/* Appends s[0..n) to buf (capacity checked by the caller), lower-cased when asked. */
static void put(char *buf, size_t *o, const char *s, size_t n, bool lower)
{
    for (size_t i = 0; i < n; i++)
        buf[(*o)++] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
}

int attest_git_clean_url(const char *url, char **ret_url)
{
    _cleanup_free_ char *out = NULL;
    const char *sep, *rest, *auth_end, *at, *host, *colon, *slash;
    size_t len, o = 0, scheme_len;
    bool keep_user;

    if (!url || !ret_url)
        return -EINVAL;
    len = strlen(url);
    if (len == 0 || len > SLSA_MAX_URI)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return -EINVAL;
    out = malloc(len + sizeof("file://") + 1); /* the longest prefix we add */
    if (!out)
        return -ENOMEM;

    sep = strstr(url, "://");
    if (sep && valid_scheme(url, (size_t)(sep - url))) {
        scheme_len = (size_t)(sep - url);
        rest = sep + 3;
        auth_end = rest + strcspn(rest, "/?#");
        at = memrchr(rest, '@', (size_t)(auth_end - rest));
        host = at ? at + 1 : rest;
        if (host == auth_end && !(scheme_len == 4 && strncasecmp(url, "file", 4) == 0))
            return -EINVAL;
        if (*host == '-')
            return -EINVAL; /* git refuses such hosts too (ssh option injection) */
        keep_user = at && !memchr(rest, ':', (size_t)(at - rest)) &&
                    !((scheme_len == 4 && strncasecmp(url, "http", 4) == 0) ||
                      (scheme_len == 5 && strncasecmp(url, "https", 5) == 0));
        put(out, &o, url, scheme_len + 3, true);
        if (keep_user)
            put(out, &o, rest, (size_t)(at - rest) + 1, false);
        put(out, &o, host, (size_t)(auth_end - host), true);
        put(out, &o, auth_end, strlen(auth_end), false);
    } else if (url[0] == '/') {
        put(out, &o, "file://", strlen("file://"), false);
        put(out, &o, url, len, false);
    } else {
        /* scp-like [user@]host:path: a ':' before any '/' (as git decides). */
        colon = strchr(url, ':');
        slash = strchr(url, '/');
        if (!colon || colon == url || (slash && slash < colon))
            return -EINVAL;
        at = memrchr(url, '@', (size_t)(colon - url));
        host = at ? at + 1 : url;
        if (host == colon || colon[1] == '\0' || *host == '-')
            return -EINVAL;
        put(out, &o, "ssh://", strlen("ssh://"), false);
        if (at)
            put(out, &o, url, (size_t)(at - url) + 1, false);
        put(out, &o, host, (size_t)(colon - host), true);
        if (colon[1] != '/')
            out[o++] = '/';
        put(out, &o, colon + 1, strlen(colon + 1), false);
    }
    out[o] = '\0';
    *ret_url = TAKE_PTR(out);
    return 0;
}

int attest_git_dependency(const struct attest_git_info *g, struct slsa_dependency *ret)
{
    if (!g || !g->commit || !ret)
        return -EINVAL;
    *ret = (struct slsa_dependency){.uri = g->uri, .git_commit = g->commit};
    return 0;
}

/* Runs git and returns its first output line when it exited 0; 0 with *ret NULL otherwise. */
static int git_line(const char *dir, const char *const *args, size_t n, unsigned timeout_ms,
                    char **ret)
{
    _cleanup_(git_out_done) struct git_out o = {};
    int r;

    r = git_run(dir, args, n, timeout_ms, &o);
    if (r < 0)
        return r;
    if (o.exit_code != 0) {
        *ret = NULL;
        return 0;
    }
    return git_first_line(&o, ret);
}

/* The remote to record: "origin" if present, else the first listed; *ret NULL when none. */
static int git_pick_remote(const char *dir, unsigned timeout_ms, char **ret)
{
    static const char *const args[] = {"remote"};
    _cleanup_(git_out_done) struct git_out o = {};
    const char *line, *end, *first = NULL;
    size_t first_len = 0;
    int r;

    r = git_run(dir, args, ELEMENTSOF(args), timeout_ms, &o);
    if (r < 0)
        return r;
    *ret = NULL;
    if (o.exit_code != 0)
        return 0;
    for (line = o.data; line < o.data + o.len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(o.data + o.len - line));
        if (!end)
            break; /* an incomplete last line (truncated output) */
        size_t n = (size_t)(end - line);
        if (n == 0 || line[0] == '-') /* "-x" would be read as an option */
            continue;
        if (n == 6 && memcmp(line, "origin", 6) == 0) {
            first = line;
            first_len = n;
            break;
        }
        if (!first) {
            first = line;
            first_len = n;
        }
    }
    if (!first)
        return 0;
    for (size_t i = 0; i < first_len; i++)
        if ((unsigned char)first[i] < 0x20 || first[i] == 0x7f)
            return 0;
    *ret = strndup(first, first_len);
    return *ret ? 0 : -ENOMEM;
}

static int git_make_uri(struct attest_git_info *g)
{
    size_t n;
    char *uri;
    int k;

    if (!g->url)
        return 0;
    n = strlen("git+") + strlen(g->url) + (g->ref ? 1 + strlen(g->ref) : 0) + 1;
    uri = malloc(n);
    if (!uri)
        return -ENOMEM;
    k = snprintf(uri, n, "git+%s%s%s", g->url, g->ref ? "@" : "", g->ref ? g->ref : "");
    if (k < 0 || (size_t)k >= n) {
        free(uri);
        return -EOVERFLOW;
    }
    if ((size_t)k > SLSA_MAX_URI || intoto_type_uri_check(uri, (size_t)k) < 0) {
        free(uri); /* provenance gets the commit without a uri rather than a bad one */
        return 0;
    }
    g->uri = uri;
    return 0;
}

int attest_git_detect(const char *dir, unsigned timeout_ms, struct attest_git_info **ret)
{
    static const char *const inside[] = {"rev-parse", "--is-inside-work-tree"};
    static const char *const head[] = {"rev-parse", "--verify", "-q", "HEAD^{commit}"};
    static const char *const symref[] = {"symbolic-ref", "-q", "HEAD"};
    static const char *const status[] = {"status", "--porcelain", "--untracked-files=normal"};
    _cleanup_(attest_git_info_freep) struct attest_git_info *g = NULL;
    _cleanup_(git_out_done) struct git_out st = {};
    _cleanup_free_ char *line = NULL, *remote = NULL, *raw_url = NULL;
    int r;

    if (!dir || dir[0] == '\0' || !ret)
        return -EINVAL;
    r = git_line(dir, inside, ELEMENTSOF(inside), timeout_ms, &line);
    if (r == -ENOENT || r == -EACCES) {
        *ret = NULL; /* no git installed */
        return 0;
    }
    if (r < 0)
        return r;
    if (!line || !streq(line, "true")) {
        *ret = NULL; /* not a work tree ("false" inside .git) or refused */
        return 0;
    }

    g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    r = git_line(dir, head, ELEMENTSOF(head), timeout_ms, &g->commit);
    if (r < 0)
        return r;
    if (!g->commit) {
        *ret = NULL; /* no commit yet */
        return 0;
    }
    if (!is_commit_hex(g->commit))
        return -EBADMSG;
    r = git_line(dir, symref, ELEMENTSOF(symref), timeout_ms, &g->ref);
    if (r < 0)
        return r;
    if (g->ref && (strncmp(g->ref, "refs/", 5) != 0 || strchr(g->ref, ' ')))
        return -EBADMSG;

    r = git_pick_remote(dir, timeout_ms, &remote);
    if (r < 0)
        return r;
    if (remote) {
        const char *get_url[] = {"remote", "get-url", remote};
        r = git_line(dir, get_url, ELEMENTSOF(get_url), timeout_ms, &raw_url);
        if (r < 0 && r != -EBADMSG)
            return r;
        if (raw_url) {
            r = attest_git_clean_url(raw_url, &g->url);
            if (r == -ENOMEM)
                return r; /* otherwise: a URL we cannot record, e.g. a relative path */
        }
    }
    r = git_make_uri(g);
    if (r < 0)
        return r;

    r = git_run(dir, status, ELEMENTSOF(status), timeout_ms, &st);
    if (r < 0)
        return r;
    if (st.exit_code != 0)
        return -EBADMSG;
    g->dirty = st.len > 0 || st.truncated;
    *ret = TAKE_PTR(g);
    return 1;
}
