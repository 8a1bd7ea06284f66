/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* mkostemp */
#include "fd-util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

/* First allocation of read_fd_bounded(); it doubles from there up to the caller's max. */
#define READ_INITIAL_ALLOC 4096u

int fd_write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            return -EIO; /* no progress and no error: don't spin */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fd_read_exact(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int read_fd_bounded(int fd, size_t max, uint8_t **ret, size_t *ret_len)
{
    _cleanup_free_ uint8_t *buf = NULL;
    size_t alloc, len = 0;

    if (max == SIZE_MAX)
        return -EINVAL; /* no room for the terminating NUL */
    /* buf always has room for data + NUL; the extra byte at max detects oversized input. */
    alloc = MIN(max, (size_t)READ_INITIAL_ALLOC) + 1;
    buf = malloc(alloc);
    if (!buf)
        return -ENOMEM;

    for (;;) {
        ssize_t n;

        if (len == alloc - 1) {
            uint8_t probe;
            uint8_t *nb;
            size_t nalloc;

            if (len == max) {
                /* Full: one more byte means the input is too big. */
                do
                    n = read(fd, &probe, 1);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                    return negative_errno();
                if (n > 0)
                    return -EFBIG;
                break;
            }
            nalloc = (alloc - 1 > max / 2 ? max : (alloc - 1) * 2) + 1;
            nb = realloc(buf, nalloc);
            if (!nb)
                return -ENOMEM;
            buf = nb;
            alloc = nalloc;
        }
        n = read(fd, buf + len, alloc - 1 - len);
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
    return 0;
}

int read_file_bounded(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = -EBADF;
    struct stat st;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    if (fstat(fd, &st) < 0)
        return negative_errno();
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    /* Refuse early when the size is known; the bounded read still catches a growing file. */
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max)
        return -EFBIG;
    return read_fd_bounded(fd, max, ret, ret_len);
}

/* Splits path into its directory ("." if none) and checks there is a file name. */
static int split_dir(const char *path, char *dir, size_t dirsz, const char **ret_base)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int n;

    if (*base == '\0' || streq(base, ".") || streq(base, ".."))
        return -EINVAL;
    if (!slash)
        n = snprintf(dir, dirsz, ".");
    else if (slash == path)
        n = snprintf(dir, dirsz, "/");
    else
        n = snprintf(dir, dirsz, "%.*s", (int)(slash - path), path);
    if (n < 0 || (size_t)n >= dirsz)
        return -ENAMETOOLONG;
    *ret_base = base;
    return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
    const char *base;
    int n, r;

    if ((mode & ~(mode_t)07777) != 0)
        return -EINVAL;
    r = split_dir(path, dir, sizeof(dir), &base);
    if (r < 0)
        return r;
    /* Hidden name in the same directory, so rename() stays within one file system. */
    n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;

    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return negative_errno();
    /* fchmod is not subject to the umask, so the file gets exactly mode. */
    if (fchmod(fd, mode) < 0) {
        r = negative_errno();
        goto fail;
    }
    r = fd_write_all(fd, data, len);
    if (r < 0)
        goto fail;
    if (fsync(fd) < 0) {
        r = negative_errno();
        goto fail;
    }
    r = close(TAKE_FD(fd));
    if (r < 0) {
        r = negative_errno();
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        r = negative_errno();
        goto fail;
    }
    /* The rename is durable only once the directory entry is on disk. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return negative_errno();
    if (fsync(dfd) < 0)
        return negative_errno();
    return 0;

fail:
    (void)unlink(tmp);
    return r;
}
