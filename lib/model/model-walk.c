/* SPDX-License-Identifier: Apache-2.0 */
#include "model-walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "model-path.h"

struct tree_file {
    struct model_file pub; /* pub.path points to path */
    char *path;
    dev_t dev;
    ino_t ino;
};

struct tree_refusal {
    char *path;
    enum model_refusal why;
};

struct model_tree {
    int rootfd;
    bool allow_symlinks;
    struct tree_file *files;
    size_t n_files, cap_files;
    struct tree_refusal *refused;
    size_t n_refused, cap_refused;
    uint64_t total;
};

/* State of one walk. path holds the model-relative path of the entry being looked at. */
struct walker {
    struct model_tree *t;
    const struct model_walk_config *cfg;
    struct model_diag *diag;
    size_t names_total;
    char path[MODEL_MAX_PATH + 1];
};

static void diag_set(struct model_diag *diag, const char *path)
{
    if (!diag)
        return;
    /* Paths are bounded by MODEL_MAX_PATH, so this never truncates a real path. */
    (void)snprintf(diag->path, sizeof(diag->path), "%s", path);
}

struct model_tree *model_tree_free(struct model_tree *t)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->n_files; i++)
        free(t->files[i].path);
    for (size_t i = 0; i < t->n_refused; i++)
        free(t->refused[i].path);
    free(t->files);
    free(t->refused);
    if (t->rootfd >= 0)
        close(t->rootfd);
    free(t);
    return NULL;
}

void model_tree_freep(struct model_tree **t)
{
    *t = model_tree_free(*t);
}

/* Room for one more entry of either kind, within the limits. */
static int walker_account(struct walker *w, size_t path_len)
{
    size_t total;

    if (w->t->n_files + w->t->n_refused >= MODEL_MAX_RESOURCES)
        return -EMSGSIZE;
    if (!size_add(w->names_total, path_len + 1, &total) || total > MODEL_MAX_NAMES_TOTAL)
        return -EMSGSIZE;
    w->names_total = total;
    return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    size_t ncap, bytes;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 64;
    if (ncap > MODEL_MAX_RESOURCES)
        ncap = MODEL_MAX_RESOURCES;
    if (ncap <= n || !size_mul(ncap, elem, &bytes))
        return -EMSGSIZE;
    p = realloc(*arr, bytes);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int add_file(struct walker *w, const struct stat *st)
{
    struct model_tree *t = w->t;
    size_t len = strlen(w->path);
    char *copy;
    int r;

    r = walker_account(w, len);
    if (r >= 0)
        r = grow((void **)&t->files, &t->cap_files, t->n_files, sizeof(*t->files));
    if (r < 0)
        return r;
    copy = strdup(w->path);
    if (!copy)
        return -ENOMEM;
    t->files[t->n_files++] = (struct tree_file){
            .pub = {.path = copy, .size = (uint64_t)st->st_size},
            .path = copy,
            .dev = st->st_dev,
            .ino = st->st_ino,
    };
    t->total += (uint64_t)st->st_size;
    return 0;
}

static int add_refusal(struct walker *w, enum model_refusal why)
{
    struct model_tree *t = w->t;
    size_t len = strlen(w->path);
    char *copy;
    int r;

    r = walker_account(w, len);
    if (r >= 0)
        r = grow((void **)&t->refused, &t->cap_refused, t->n_refused, sizeof(*t->refused));
    if (r < 0)
        return r;
    copy = strdup(w->path);
    if (!copy)
        return -ENOMEM;
    if (why == MODEL_REFUSED_NAME) {
        /* Keep it printable: each byte that is not plain ASCII text becomes '?'. */
        for (char *c = copy; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
    }
    t->refused[t->n_refused++] = (struct tree_refusal){.path = copy, .why = why};
    return 0;
}

static bool is_ignored(const struct walker *w)
{
    for (size_t i = 0; i < w->cfg->n_ignore; i++)
        if (model_path_within(w->path, w->cfg->ignore[i]))
            return true;
    return false;
}

static int walk_dir(struct walker *w, int dfd, size_t plen, unsigned depth);

/* The entry name of directory dfd, whose model-relative path is now in w->path. */
static int walk_entry(struct walker *w, int dfd, const char *name, size_t plen, unsigned depth)
{
    struct stat st;
    int fd;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (S_ISLNK(st.st_mode)) {
        if (!w->cfg->allow_symlinks)
            return add_refusal(w, MODEL_REFUSED_SYMLINK);
        if (fstatat(dfd, name, &st, 0) < 0) {
            if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
                return add_refusal(w, MODEL_REFUSED_DANGLING);
            return -errno;
        }
        if (S_ISDIR(st.st_mode))
            return 0; /* never descended into (pathlib "**" semantics) */
        return S_ISREG(st.st_mode) ? add_file(w, &st) : add_refusal(w, MODEL_REFUSED_SPECIAL);
    }
    if (S_ISREG(st.st_mode))
        return add_file(w, &st);
    if (!S_ISDIR(st.st_mode))
        return add_refusal(w, MODEL_REFUSED_SPECIAL);
    if (depth >= MODEL_MAX_DEPTH)
        return -ELOOP;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return walk_dir(w, fd, plen, depth + 1);
}

/* Walks directory fd (taken over), whose model-relative path is w->path[0..plen). */
static int walk_dir(struct walker *w, int fd, size_t plen, unsigned depth)
{
    DIR *d;
    int r = 0;

    d = fdopendir(fd);
    if (!d) {
        r = -errno;
        close(fd);
        diag_set(w->diag, plen ? w->path : ".");
        return r;
    }
    for (;;) {
        struct dirent *de;
        const char *name;
        size_t nlen, at = plen ? plen + 1 : 0;

        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno != 0) {
                r = -errno;
                w->path[plen] = '\0';
                diag_set(w->diag, plen ? w->path : ".");
            }
            break;
        }
        name = de->d_name;
        if (streq(name, ".") || streq(name, ".."))
            continue;
        nlen = strlen(name);
        if (at + nlen > MODEL_MAX_PATH) {
            w->path[plen] = '\0';
            diag_set(w->diag, plen ? w->path : ".");
            r = -ENAMETOOLONG;
            break;
        }
        if (plen)
            w->path[plen] = '/';
        memcpy(w->path + at, name, nlen + 1);
        if (!model_path_is_canonical(name, nlen))
            r = add_refusal(w, MODEL_REFUSED_NAME);
        else if (!is_ignored(w)) {
            r = walk_entry(w, dirfd(d), name, at + nlen, depth);
            /* A nested directory reports its own (deeper) path. */
            if (r < 0 && (!w->diag || w->diag->path[0] == '\0'))
                diag_set(w->diag, w->path);
        }
        w->path[plen] = '\0';
        if (r < 0)
            break;
    }
    closedir(d);
    return r;
}

static int file_cmp(const void *a, const void *b)
{
    return model_path_compare(((const struct tree_file *)a)->pub.path,
                              ((const struct tree_file *)b)->pub.path);
}

static int refusal_cmp(const void *a, const void *b)
{
    return model_path_compare(((const struct tree_refusal *)a)->path,
                              ((const struct tree_refusal *)b)->path);
}

int model_walk(const char *dir, const struct model_walk_config *cfg, struct model_tree **ret,
               struct model_diag *diag)
{
    _cleanup_(model_tree_freep) struct model_tree *t = NULL;
    _cleanup_free_ struct walker *w = NULL;
    struct stat st;
    int fd, r;

    if (diag)
        diag->path[0] = '\0';
    if (!dir || !cfg || !ret || cfg->n_ignore > MODEL_MAX_IGNORE ||
        (cfg->n_ignore > 0 && !cfg->ignore))
        return -EINVAL;
    for (size_t i = 0; i < cfg->n_ignore; i++)
        if (!cfg->ignore[i] || !model_path_is_canonical(cfg->ignore[i], strlen(cfg->ignore[i])))
            return -EINVAL;
    t = calloc(1, sizeof(*t));
    w = calloc(1, sizeof(*w));
    if (!t || !w)
        return -ENOMEM;
    t->rootfd = -EBADF;
    t->allow_symlinks = cfg->allow_symlinks;
    *w = (struct walker){.t = t, .cfg = cfg, .diag = diag};

    diag_set(diag, ".");
    if (lstat(dir, &st) < 0)
        return -errno;
    if (S_ISLNK(st.st_mode) && !cfg->allow_symlinks)
        return -ELOOP;
    t->rootfd =
            open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (cfg->allow_symlinks ? 0 : O_NOFOLLOW));
    if (t->rootfd < 0)
        return -errno;
    if (fstat(t->rootfd, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    /* The directory stream gets its own descriptor: rootfd stays for model_tree_open. */
    fd = openat(t->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (diag)
        diag->path[0] = '\0';
    r = walk_dir(w, fd, 0, 0);
    if (r < 0)
        return r;
    /* qsort() takes no NULL array, even an empty one. */
    if (t->n_files > 1)
        qsort(t->files, t->n_files, sizeof(*t->files), file_cmp);
    if (t->n_refused > 1)
        qsort(t->refused, t->n_refused, sizeof(*t->refused), refusal_cmp);
    *ret = TAKE_PTR(t);
    return 0;
}

size_t model_tree_n_files(const struct model_tree *t)
{
    return t ? t->n_files : 0;
}

const struct model_file *model_tree_file(const struct model_tree *t, size_t i)
{
    return t && i < t->n_files ? &t->files[i].pub : NULL;
}

uint64_t model_tree_total_bytes(const struct model_tree *t)
{
    return t ? t->total : 0;
}

size_t model_tree_n_refused(const struct model_tree *t)
{
    return t ? t->n_refused : 0;
}

const char *model_tree_refused(const struct model_tree *t, size_t i, enum model_refusal *ret_why)
{
    if (!t || i >= t->n_refused)
        return NULL;
    if (ret_why)
        *ret_why = t->refused[i].why;
    return t->refused[i].path;
}

void model_tree_retain(struct model_tree *t, bool (*keep)(const char *path, void *userdata),
                       void *userdata)
{
    size_t o = 0;

    if (!t || !keep)
        return;
    t->total = 0;
    for (size_t i = 0; i < t->n_files; i++) {
        if (keep(t->files[i].pub.path, userdata)) {
            t->total += t->files[i].pub.size;
            t->files[o++] = t->files[i];
        } else
            free(t->files[i].path);
    }
    t->n_files = o;
    o = 0;
    for (size_t i = 0; i < t->n_refused; i++) {
        if (keep(t->refused[i].path, userdata))
            t->refused[o++] = t->refused[i];
        else
            free(t->refused[i].path);
    }
    t->n_refused = o;
}

int model_tree_open(const struct model_tree *t, size_t i, int *ret_fd)
{
    const struct tree_file *f;
    struct stat st;
    int fd;

    if (!t || i >= t->n_files || !ret_fd)
        return -EINVAL;
    f = &t->files[i];
    fd = openat(t->rootfd, f->pub.path,
                O_RDONLY | O_CLOEXEC | O_NOCTTY | (t->allow_symlinks ? 0 : O_NOFOLLOW));
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? -ESTALE : -errno;
    if (fstat(fd, &st) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(st.st_mode) || st.st_dev != f->dev || st.st_ino != f->ino) {
        close(fd);
        return -ESTALE;
    }
    *ret_fd = fd;
    return 0;
}
