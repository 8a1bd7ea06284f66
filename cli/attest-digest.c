/* SPDX-License-Identifier: Apache-2.0 */
#include "attest-digest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "macro.h"

/* First capacity of the entry and skipped arrays; they double up to the set's limit. */
#define ENTRIES_INITIAL 16u

_Static_assert(ATTEST_HASH_CHUNK == HASH_FD_CHUNK, "files are hashed with hash_fd()");

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

struct attest_digests {
    size_t max_entries;
    struct attest_entry *entries;
    size_t n_entries, cap_entries;
    struct attest_skipped *skipped; /* the first ATTEST_MAX_SKIPPED_LISTED */
    size_t n_listed, cap_listed;
    size_t n_skipped; /* all of them */
    char *error_path;
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
    r = hash_fd(fd, HWSIGN_HASH_SHA256, e.sha256, sizeof(e.sha256));
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
