/* SPDX-License-Identifier: Apache-2.0 */
/* Root-relative file access (see rootfs.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rootfs.h"
#include "sbom-limits.h"

#define ROOTFS_READ_CHUNK 65536u

int rootfs_open(const char *root, int *ret_fd)
{
    int fd = open(root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return negative_errno();
    *ret_fd = fd;
    return 0;
}

int rootfs_openat(int root_fd, const char *relpath, int flags, int *ret_fd)
{
    struct open_how how = {
            .flags = (uint64_t)(flags | O_CLOEXEC),
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    if (strlen(relpath) >= SBOM_MAX_PATH)
        return -ENAMETOOLONG;
    while (*relpath == '/')
        relpath++;
    if (!*relpath)
        relpath = ".";
    fd = syscall(SYS_openat2, root_fd, relpath, &how, sizeof(how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) /* old kernel, or seccomp said no */
        fd = openat(root_fd, relpath, flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return negative_errno();
    *ret_fd = (int)fd;
    return 0;
}

int rootfs_read(int root_fd, const char *relpath, size_t max, bool truncate, char **ret,
                size_t *ret_len, bool *ret_truncated)
{
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ char *buf = NULL;
    struct stat st;
    size_t len = 0, cap;
    bool cut = false;
    int r;

    r = rootfs_openat(root_fd, relpath, O_RDONLY | O_NOCTTY, &fd);
    if (r < 0)
        return r;
    if (fstat(fd, &st) < 0)
        return negative_errno();
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
    if ((uint64_t)st.st_size > max && !truncate)
        return -EFBIG;
    /* Start at the file's size (bounded): one allocation for a file that does not grow. */
    cap = (uint64_t)st.st_size < max ? (size_t)st.st_size : max;
    buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char probe, *nb;
            size_t ncap;

            if (len == max) {
                do
                    n = read(fd, &probe, 1);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                    return negative_errno();
                if (n > 0 && !truncate)
                    return -EFBIG;
                cut = n > 0;
                break;
            }
            ncap = cap + MIN((size_t)ROOTFS_READ_CHUNK, max - cap);
            nb = realloc(buf, ncap + 1);
            if (!nb)
                return -ENOMEM;
            buf = nb;
            cap = ncap;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *ret = TAKE_PTR(buf);
    *ret_len = len;
    if (ret_truncated)
        *ret_truncated = cut;
    return 0;
}

void rootfs_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rootfs_list(int root_fd, const char *reldir, char ***ret_names, size_t *ret_n)
{
    _cleanup_close_ int fd = -EBADF;
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d;
    int r;

    r = rootfs_openat(root_fd, reldir, O_RDONLY | O_DIRECTORY, &fd);
    if (r < 0)
        return r;
    d = fdopendir(fd);
    if (!d)
        return negative_errno();
    fd = -EBADF; /* owned by d now */
    for (;;) {
        struct dirent *de;
        char *copy;

        errno = 0;
        de = readdir(d);
        if (!de) {
            r = errno ? -errno : 0;
            break;
        }
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (n >= SBOM_MAX_DIR_ENTRIES) {
            r = -E2BIG;
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nn = realloc(names, ncap * sizeof(*nn));

            if (!nn) {
                r = -ENOMEM;
                break;
            }
            names = nn;
            cap = ncap;
        }
        copy = strdup(de->d_name);
        if (!copy) {
            r = -ENOMEM;
            break;
        }
        names[n++] = copy;
    }
    closedir(d);
    if (r < 0) {
        rootfs_names_free(names, n);
        return r;
    }
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_names);
    *ret_names = names;
    *ret_n = n;
    return 0;
}

int rootfs_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    return (size_t)n >= size ? -ENAMETOOLONG : 0;
}
