/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* environ, memrchr, pipe2 */
#include "attest-inputs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json_object.h>

#include "crypto-cleanup.h"
#include "json.h"
#include "macro.h"

/* First capacity of the entry and skipped arrays; they double up to the set's limit. */
#define ENTRIES_INITIAL 16u
/* How often a git child that closed its stdout is polled for exit before the deadline. */
#define GIT_REAP_POLL_NS (5 * 1000 * 1000L)

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* ======================= 1. Digests of materials and products ======================= */

struct attest_digests {
    size_t max_entries;
    struct attest_entry *entries;
    size_t n_entries, cap_entries;
    struct attest_skipped *skipped; /* the first ATTEST_MAX_SKIPPED_LISTED */
    size_t n_listed, cap_listed;
    size_t n_skipped; /* all of them */
    char *error_path;
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    uint8_t *buf; /* ATTEST_HASH_CHUNK */
};

/* Walk state: the name of the object being visited, built in place. */
struct walk {
    struct attest_digests *d;
    size_t len;
    char name[ATTEST_MAX_NAME + 1];
};

int attest_digests_new(size_t max_entries, struct attest_digests **ret)
{
    _cleanup_(attest_digests_freep) struct attest_digests *d = NULL;

    if (!ret || max_entries == 0 || max_entries > ATTEST_MAX_ENTRIES)
        return -EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->max_entries = max_entries;
    d->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    d->ctx = EVP_MD_CTX_new();
    d->buf = malloc(ATTEST_HASH_CHUNK);
    if (!d->md || !d->ctx || !d->buf)
        return -ENOMEM;
    *ret = TAKE_PTR(d);
    return 0;
}

struct attest_digests *attest_digests_free(struct attest_digests *d)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->n_entries; i++)
        free(d->entries[i].name);
    free(d->entries);
    for (size_t i = 0; i < d->n_listed; i++)
        free(d->skipped[i].name);
    free(d->skipped);
    free(d->error_path);
    EVP_MD_free(d->md);
    EVP_MD_CTX_free(d->ctx);
    free(d->buf);
    free(d);
    return NULL;
}

void attest_digests_freep(struct attest_digests **d)
{
    *d = attest_digests_free(*d);
}

/* Records which path failed; best effort (without memory the CLI prints the argument). */
static int fail(struct attest_digests *d, const char *path, int r)
{
    free(d->error_path);
    d->error_path = path ? strdup(path) : NULL;
    return r;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT);
}

/* "a//./b/" -> "a/b"; "./" -> "."; "/" stays "/". */
static int normalize_path(const char *path, char **ret)
{
    size_t len = strlen(path), o = 0;
    const char *p = path;
    char *out;

    if (len == 0)
        return -EINVAL;
    if (len > ATTEST_MAX_NAME)
        return -ENAMETOOLONG;
    out = malloc(len + 2);
    if (!out)
        return -ENOMEM;
    if (path[0] == '/')
        out[o++] = '/';
    while (*p) {
        const char *s;
        size_t n;

        while (*p == '/')
            p++;
        s = p;
        while (*p && *p != '/')
            p++;
        n = (size_t)(p - s);
        if (n == 0 || (n == 1 && s[0] == '.'))
            continue;
        if (o > 0 && out[o - 1] != '/')
            out[o++] = '/';
        memcpy(out + o, s, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    *ret = out;
    return 0;
}

/* Appends "/base" (no separator after an empty name or after "/"). */
static int name_push(struct walk *w, const char *base)
{
    size_t blen = strlen(base), sep = (w->len > 0 && w->name[w->len - 1] != '/') ? 1 : 0;

    if (blen > ATTEST_MAX_NAME || w->len + sep + blen > ATTEST_MAX_NAME)
        return -ENAMETOOLONG;
    if (sep)
        w->name[w->len++] = '/';
    memcpy(w->name + w->len, base, blen);
    w->len += blen;
    w->name[w->len] = '\0';
    return 0;
}

static void name_pop(struct walk *w, size_t len)
{
    w->len = len;
    w->name[len] = '\0';
}

/* Streaming SHA-256 of an open file with the set's bounded buffer. */
static int hash_fd(struct attest_digests *d, int fd, uint8_t ret[static 32])
{
    unsigned outlen = 0;

    if (!EVP_DigestInit_ex(d->ctx, d->md, NULL))
        return -ENOTRECOVERABLE;
    for (;;) {
        ssize_t n = read(fd, d->buf, ATTEST_HASH_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        if (!EVP_DigestUpdate(d->ctx, d->buf, (size_t)n))
            return -ENOTRECOVERABLE;
    }
    if (!EVP_DigestFinal_ex(d->ctx, ret, &outlen) || outlen != 32)
        return -ENOTRECOVERABLE;
    return 0;
}

static int entry_add(struct attest_digests *d, int fd, const char *name)
{
    static const char hexdig[] = "0123456789abcdef";
    struct attest_entry e = {};
    int r;

    if (d->n_entries >= d->max_entries)
        return fail(d, name, -E2BIG);
    if (d->n_entries == d->cap_entries) {
        size_t cap = d->cap_entries ? MIN(d->cap_entries * 2, d->max_entries)
                                    : MIN(ENTRIES_INITIAL, d->max_entries);
        struct attest_entry *n = reallocarray(d->entries, cap, sizeof(*n));
        if (!n)
            return -ENOMEM;
        d->entries = n;
        d->cap_entries = cap;
    }
    r = hash_fd(d, fd, e.sha256);
    if (r < 0)
        return fail(d, name, r);
    for (size_t i = 0; i < 32; i++) {
        e.sha256_hex[2 * i] = hexdig[e.sha256[i] >> 4];
        e.sha256_hex[2 * i + 1] = hexdig[e.sha256[i] & 0xf];
    }
    e.sha256_hex[64] = '\0';
    e.name = strdup(name);
    if (!e.name)
        return -ENOMEM;
    d->entries[d->n_entries++] = e;
    return 0;
}

static enum attest_skip_reason skip_reason(mode_t mode)
{
    if (S_ISLNK(mode))
        return ATTEST_SKIP_SYMLINK;
    if (S_ISFIFO(mode))
        return ATTEST_SKIP_FIFO;
    if (S_ISSOCK(mode))
        return ATTEST_SKIP_SOCKET;
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return ATTEST_SKIP_DEVICE;
    return ATTEST_SKIP_OTHER;
}

static int skipped_add(struct attest_digests *d, const char *name, enum attest_skip_reason reason)
{
    struct attest_skipped s = {.reason = reason};

    if (d->n_listed < ATTEST_MAX_SKIPPED_LISTED) {
        if (d->n_listed == d->cap_listed) {
            size_t cap = d->cap_listed ? MIN(d->cap_listed * 2, ATTEST_MAX_SKIPPED_LISTED)
                                       : ENTRIES_INITIAL;
            struct attest_skipped *n = reallocarray(d->skipped, cap, sizeof(*n));
            if (!n)
                return -ENOMEM;
            d->skipped = n;
            d->cap_listed = cap;
        }
        s.name = strdup(name);
        if (!s.name)
            return -ENOMEM;
        d->skipped[d->n_listed++] = s;
    }
    d->n_skipped++;
    return 0;
}

static int walk_dir(struct walk *w, int dfd, unsigned depth);

/* One directory entry: recurse, digest or skip. w->name is its name. */
static int visit(struct walk *w, int dfd, const char *base, unsigned depth)
{
    _cleanup_close_ int fd = -EBADF;
    struct stat st, opened;
    int r;

    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return fail(w->d, w->name, negative_errno());
    if (S_ISDIR(st.st_mode)) {
        if (depth >= ATTEST_MAX_DEPTH)
            return fail(w->d, w->name, -ELOOP);
        fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } else if (S_ISREG(st.st_mode)) {
        /* O_NONBLOCK: if a FIFO was swapped in, open must not wait for a writer. */
        fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    } else {
        r = skipped_add(w->d, w->name, skip_reason(st.st_mode));
        return r < 0 ? fail(w->d, w->name, r) : 0;
    }
    if (fd < 0) {
        r = negative_errno();
        /* O_NOFOLLOW/O_DIRECTORY refused: it was replaced since fstatat. */
        return fail(w->d, w->name, r == -ELOOP || r == -ENOTDIR ? -ESTALE : r);
    }
    if (fstat(fd, &opened) < 0)
        return fail(w->d, w->name, negative_errno());
    if (!same_inode(&st, &opened))
        return fail(w->d, w->name, -ESTALE);
    if (S_ISDIR(st.st_mode))
        return walk_dir(w, TAKE_FD(fd), depth + 1);
    r = entry_add(w->d, fd, w->name);
    return r == -ENOMEM ? fail(w->d, w->name, r) : r;
}

/* Takes ownership of dfd. */
static int walk_dir(struct walk *w, int dfd, unsigned depth)
{
    _cleanup_(closedirp) DIR *dir = NULL;
    int r;

    dir = fdopendir(dfd);
    if (!dir) {
        r = negative_errno();
        close(dfd);
        return fail(w->d, w->name, r);
    }
    for (;;) {
        struct dirent *de;
        size_t saved = w->len;

        errno = 0;
        de = readdir(dir);
        if (!de) {
            if (errno != 0)
                return fail(w->d, w->name, negative_errno());
            return 0;
        }
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        r = name_push(w, de->d_name);
        if (r < 0)
            return fail(w->d, w->name, r); /* names the directory holding it */
        r = visit(w, dirfd(dir), de->d_name, depth);
        name_pop(w, saved);
        if (r < 0)
            return r;
    }
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct attest_entry *)a)->name, ((const struct attest_entry *)b)->name);
}

static int skipped_cmp(const void *a, const void *b)
{
    return strcmp(((const struct attest_skipped *)a)->name,
                  ((const struct attest_skipped *)b)->name);
}

static void rollback(struct attest_digests *d, size_t n_entries, size_t n_listed, size_t n_skipped)
{
    for (size_t i = n_entries; i < d->n_entries; i++)
        free(d->entries[i].name);
    d->n_entries = n_entries;
    for (size_t i = n_listed; i < d->n_listed; i++)
        free(d->skipped[i].name);
    d->n_listed = n_listed;
    d->n_skipped = n_skipped;
}

/*
 * Merges entries [n0, n) into the sorted [0, n0): drops exact duplicates, refuses a name
 * seen with another digest (-EEXIST, nothing changed).
 */
static int entries_commit(struct attest_digests *d, size_t n0)
{
    struct attest_entry *e = d->entries;
    size_t w = n0;

    if (d->n_entries == n0)
        return 0; /* nothing new (e may still be NULL) */
    qsort(e + n0, d->n_entries - n0, sizeof(*e), entry_cmp);
    for (size_t i = n0; i < d->n_entries; i++) {
        const struct attest_entry *old = bsearch(&e[i], e, n0, sizeof(*e), entry_cmp);
        const struct attest_entry *prev =
                i > n0 && streq(e[i - 1].name, e[i].name) ? &e[i - 1] : NULL;
        if ((old && memcmp(old->sha256, e[i].sha256, 32) != 0) ||
            (prev && memcmp(prev->sha256, e[i].sha256, 32) != 0))
            return fail(d, e[i].name, -EEXIST);
    }
    for (size_t i = n0; i < d->n_entries; i++) {
        if (bsearch(&e[i], e, n0, sizeof(*e), entry_cmp) ||
            (w > n0 && streq(e[w - 1].name, e[i].name)))
            free(e[i].name);
        else
            e[w++] = e[i];
    }
    d->n_entries = w;
    qsort(e, d->n_entries, sizeof(*e), entry_cmp);
    return 0;
}

/* Sorts the listed skipped objects and counts a name found twice once. */
static void skipped_commit(struct attest_digests *d)
{
    size_t w = 0;

    if (d->n_listed == 0)
        return;
    qsort(d->skipped, d->n_listed, sizeof(*d->skipped), skipped_cmp);
    for (size_t i = 0; i < d->n_listed; i++) {
        if (w > 0 && streq(d->skipped[w - 1].name, d->skipped[i].name)) {
            free(d->skipped[i].name);
            d->n_skipped--;
        } else {
            d->skipped[w++] = d->skipped[i];
        }
    }
    d->n_listed = w;
}

int attest_digests_add_path(struct attest_digests *d, const char *path)
{
    _cleanup_free_ struct walk *w = NULL;
    _cleanup_free_ char *norm = NULL;
    _cleanup_close_ int fd = -EBADF;
    size_t n0, l0, s0;
    struct stat st, opened;
    int r;

    if (!d)
        return -EINVAL;
    free(d->error_path);
    d->error_path = NULL;
    if (!path || path[0] == '\0')
        return -EINVAL;
    r = normalize_path(path, &norm);
    if (r < 0)
        return fail(d, path, r);
    /* The argument itself is resolved: the user named it, symlink or not. */
    if (stat(path, &st) < 0)
        return fail(d, path, negative_errno());
    if (S_ISDIR(st.st_mode))
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    else if (S_ISREG(st.st_mode))
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    else
        return fail(d, path, -EINVAL);
    if (fd < 0)
        return fail(d, path, negative_errno());
    if (fstat(fd, &opened) < 0)
        return fail(d, path, negative_errno());
    if (!same_inode(&st, &opened))
        return fail(d, path, -ESTALE);

    n0 = d->n_entries;
    l0 = d->n_listed;
    s0 = d->n_skipped;
    if (S_ISREG(st.st_mode)) {
        r = entry_add(d, fd, norm);
    } else {
        w = calloc(1, sizeof(*w));
        if (!w)
            return -ENOMEM;
        w->d = d;
        if (!streq(norm, "."))
            r = name_push(w, norm);
        else
            r = 0;
        if (r >= 0)
            r = walk_dir(w, TAKE_FD(fd), 0);
    }
    if (r >= 0)
        r = entries_commit(d, n0);
    if (r < 0) {
        rollback(d, n0, l0, s0);
        return r;
    }
    skipped_commit(d);
    return 0;
}

const char *attest_digests_error_path(const struct attest_digests *d)
{
    return d ? d->error_path : NULL;
}

size_t attest_digests_count(const struct attest_digests *d)
{
    return d->n_entries;
}

const struct attest_entry *attest_digests_entry(const struct attest_digests *d, size_t i)
{
    return i < d->n_entries ? &d->entries[i] : NULL;
}

size_t attest_digests_skipped_count(const struct attest_digests *d)
{
    return d->n_skipped;
}

size_t attest_digests_skipped_listed(const struct attest_digests *d)
{
    return d->n_listed;
}

const struct attest_skipped *attest_digests_skipped(const struct attest_digests *d, size_t i)
{
    return i < d->n_listed ? &d->skipped[i] : NULL;
}

const char *attest_skip_reason_name(enum attest_skip_reason reason)
{
    switch (reason) {
    case ATTEST_SKIP_SYMLINK:
        return "symlink";
    case ATTEST_SKIP_FIFO:
        return "fifo";
    case ATTEST_SKIP_SOCKET:
        return "socket";
    case ATTEST_SKIP_DEVICE:
        return "device";
    case ATTEST_SKIP_OTHER:
        break;
    }
    return "other";
}

int attest_digests_subjects(const struct attest_digests *d, struct intoto_subject **ret,
                            size_t *ret_n)
{
    struct intoto_subject *s = NULL;

    if (!d || !ret || !ret_n)
        return -EINVAL;
    if (d->n_entries > 0) {
        s = calloc(d->n_entries, sizeof(*s));
        if (!s)
            return -ENOMEM;
    }
    for (size_t i = 0; i < d->n_entries; i++) {
        s[i].name = d->entries[i].name;
        memcpy(s[i].sha256, d->entries[i].sha256, 32);
    }
    *ret = s;
    *ret_n = d->n_entries;
    return 0;
}

int attest_digests_dependencies(const struct attest_digests *d, struct slsa_dependency **ret,
                                size_t *ret_n)
{
    struct slsa_dependency *s = NULL;

    if (!d || !ret || !ret_n)
        return -EINVAL;
    if (d->n_entries > 0) {
        s = calloc(d->n_entries, sizeof(*s));
        if (!s)
            return -ENOMEM;
    }
    for (size_t i = 0; i < d->n_entries; i++) {
        s[i].name = d->entries[i].name;
        s[i].sha256 = d->entries[i].sha256_hex;
    }
    *ret = s;
    *ret_n = d->n_entries;
    return 0;
}

/* ================================ 2. Git source ================================ */

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

static void spawnattr_destroyp(posix_spawnattr_t **a)
{
    if (*a)
        posix_spawnattr_destroy(*a);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid() through EINTR. */
static int reap(pid_t pid, int *ret_status)
{
    for (;;) {
        pid_t p = waitpid(pid, ret_status, 0);
        if (p == pid)
            return 0;
        if (p < 0 && errno != EINTR)
            return negative_errno();
    }
}

static void kill_and_reap(pid_t pid)
{
    int status;

    (void)kill(pid, SIGKILL);
    (void)reap(pid, &status);
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
    _cleanup_(spawnattr_destroyp) posix_spawnattr_t *attr = NULL;
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

/* ============================ 3. Running the build command ============================ */

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* The running command, for the handler; 0 when there is none to signal. */
static volatile sig_atomic_t forward_pid;
static volatile sig_atomic_t last_interrupt;

static void forward_handler(int sig, siginfo_t *si, void *uctx)
{
    int saved = errno;
    pid_t pid = (pid_t)forward_pid;

    last_interrupt = sig;
    /* The terminal's signals went to the whole process group, the command included. */
    if (pid > 0 && !(si && si->si_code == SI_KERNEL))
        (void)kill(pid, sig);
    errno = saved;
}

static int format_timestamp(const struct timespec *ts, char buf[static ATTEST_TIMESTAMP_SIZE])
{
    struct tm tm;
    int n;

    if (!gmtime_r(&ts->tv_sec, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
        return -EOVERFLOW;
    n = snprintf(buf, ATTEST_TIMESTAMP_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || (size_t)n >= ATTEST_TIMESTAMP_SIZE)
        return -EOVERFLOW;
    return 0;
}

int attest_run(char *const argv[], struct attest_run_result *ret)
{
    struct attest_run_result res = {};
    struct sigaction old[ELEMENTSOF(forwarded_signals)];
    bool installed[ELEMENTSOF(forwarded_signals)] = {};
    posix_spawnattr_t attr_storage;
    _cleanup_(spawnattr_destroyp) posix_spawnattr_t *attr = NULL;
    sigset_t block, oldmask, dfl;
    siginfo_t info;
    pid_t pid = 0;
    int r, status = 0;

    if (!argv || !argv[0] || !ret)
        return -EINVAL;
    if (!getcwd(res.working_directory, sizeof(res.working_directory)))
        return errno == ERANGE ? -ENAMETOOLONG : negative_errno();
    if (posix_spawnattr_init(&attr_storage) != 0)
        return -ENOMEM;
    attr = &attr_storage;

    /* Handlers go in with the signals blocked, so none arrives before the pid is known. */
    sigemptyset(&block);
    for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
        sigaddset(&block, forwarded_signals[i]);
    r = pthread_sigmask(SIG_BLOCK, &block, &oldmask);
    if (r != 0)
        return -r;
    forward_pid = 0;
    last_interrupt = 0;
    for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++) {
        struct sigaction sa = {.sa_sigaction = forward_handler, .sa_flags = SA_SIGINFO};

        if (sigaction(forwarded_signals[i], NULL, &old[i]) < 0) {
            r = negative_errno();
            goto restore;
        }
        if (!(old[i].sa_flags & SA_SIGINFO) && old[i].sa_handler == SIG_IGN)
            continue; /* ignored by the caller (nohup, background job): ignored by the build */
        sa.sa_mask = block;
        if (sigaction(forwarded_signals[i], &sa, NULL) < 0) {
            r = negative_errno();
            goto restore;
        }
        installed[i] = true;
    }
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    if (posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setsigmask(attr, &oldmask) != 0 ||
        posix_spawnattr_setsigdefault(attr, &dfl) != 0) {
        r = -ENOMEM;
        goto restore;
    }

    clock_gettime(CLOCK_REALTIME, &res.started);
    r = posix_spawnp(&pid, argv[0], NULL, attr, argv, environ);
    if (r != 0) {
        r = -r;
        goto restore;
    }
    forward_pid = pid;
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);

    /* Wait without reaping, so the pid cannot be reused while the handler may still kill it. */
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) == 0)
            break;
        if (errno != EINTR) {
            r = negative_errno();
            break;
        }
    }
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    forward_pid = 0;
    if (r == 0)
        r = reap(pid, &status);
    clock_gettime(CLOCK_REALTIME, &res.finished);
    res.interrupt = (int)last_interrupt;

restore:
    for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
        if (installed[i])
            (void)sigaction(forwarded_signals[i], &old[i], NULL);
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    if (r < 0)
        return r;

    res.pid = pid;
    if (WIFSIGNALED(status)) {
        res.signaled = true;
        res.signal = WTERMSIG(status);
    } else {
        res.exit_code = WEXITSTATUS(status);
    }
    r = format_timestamp(&res.started, res.started_on);
    if (r < 0)
        return r;
    r = format_timestamp(&res.finished, res.finished_on);
    if (r < 0)
        return r;
    *ret = res;
    return 0;
}

int attest_run_shell_status(const struct attest_run_result *r)
{
    return r->signaled ? 128 + r->signal : r->exit_code;
}

/* ================================ 4. externalParameters ================================ */

static int add_cstring(struct json_object *obj, const char *key, const char *s)
{
    return fjson_add_string(obj, key, s, strlen(s));
}

int attest_external_parameters_build(char *const argv[], const struct attest_run_result *run,
                                     const struct attest_git_info *source, char **ret,
                                     size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL, *check = NULL;
    _cleanup_free_ char *out = NULL;
    struct json_object *cmd, *src;
    size_t total = 0, out_len = 0;
    int r;

    if (!argv || !argv[0] || !run || !ret || !ret_len || (source && !source->commit))
        return -EINVAL;
    /* Refuse oversized input before json-c copies and escapes it. */
    for (size_t i = 0; argv[i]; i++)
        if (!size_add(total, strlen(argv[i]), &total) || total > ATTEST_MAX_EXTERNAL_PARAMS)
            return -EMSGSIZE;

    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    cmd = json_object_new_array();
    r = fjson_add(root, "command", cmd);
    if (r < 0)
        return r;
    for (size_t i = 0; argv[i]; i++) {
        r = fjson_append(cmd, json_object_new_string(argv[i]));
        if (r < 0)
            return r;
    }
    r = add_cstring(root, "workingDirectory", run->working_directory);
    if (r < 0)
        return r;
    if (run->signaled)
        r = fjson_add(root, "exitSignal", json_object_new_int(run->signal));
    else
        r = fjson_add(root, "exitStatus", json_object_new_int(run->exit_code));
    if (r < 0)
        return r;
    if (source) {
        src = json_object_new_object();
        r = fjson_add(root, "source", src);
        if (r < 0)
            return r;
        if (source->uri) {
            r = add_cstring(src, "uri", source->uri);
            if (r < 0)
                return r;
        }
        r = add_cstring(src, "commit", source->commit);
        if (r < 0)
            return r;
        r = fjson_add(src, "dirty", json_object_new_boolean(source->dirty));
        if (r < 0)
            return r;
    }
    r = fjson_serialize(root, &out, &out_len);
    if (r < 0)
        return r;
    if (out_len > ATTEST_MAX_EXTERNAL_PARAMS)
        return -EMSGSIZE;
    /* Arguments are arbitrary bytes: prove the text is strict JSON (UTF-8) before use. */
    r = fjson_parse_object(out, out_len, ATTEST_MAX_EXTERNAL_PARAMS, &check);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(out);
    *ret_len = out_len;
    return 0;
}
