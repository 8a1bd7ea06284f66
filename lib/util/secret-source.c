/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* secure_getenv */
#include "secret-source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hwsign/protocol.h>

#include "parse.h"

/* Holds a maximal secret plus "\r\n", plus one byte that reveals anything longer. */
#define SECRET_READ_CAP (HWSIGN_MAX_PIN + 3u)

enum source_kind {
    SOURCE_FILE,
    SOURCE_FD,
    SOURCE_ENV,
    SOURCE_CREDENTIAL,
};

struct source {
    enum source_kind kind;
    const char *arg; /* points into the spec */
    int fd;
};

/* Staging area for bytes read from a file or fd: wiped by its cleanup on every path. */
struct read_buf {
    uint8_t d[SECRET_READ_CAP];
    size_t len;
};

static void read_buf_wipe(struct read_buf *b)
{
    secret_wipe(b, sizeof(*b));
}

static bool env_name_valid(const char *s)
{
    size_t n = strnlen(s, SECRET_SOURCE_MAX_NAME + 1);

    if (n == 0 || n > SECRET_SOURCE_MAX_NAME || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* A credential name is one file name in $CREDENTIALS_DIRECTORY: no '/', no "." or "..". */
static bool credential_name_valid(const char *s)
{
    size_t n = strnlen(s, SECRET_SOURCE_MAX_NAME + 1);

    if (n == 0 || n > SECRET_SOURCE_MAX_NAME || streq(s, ".") || streq(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '/')
            return false;
    }
    return true;
}

static bool has_prefix(const char *s, const char *prefix, const char **ret_rest)
{
    size_t n = strlen(prefix);

    if (strncmp(s, prefix, n) != 0)
        return false;
    *ret_rest = s + n;
    return true;
}

static int source_parse(const char *spec, struct source *ret)
{
    struct source src = {.fd = -EBADF};
    uint32_t fd;

    if (!spec || strnlen(spec, SECRET_SOURCE_MAX_SPEC + 1) > SECRET_SOURCE_MAX_SPEC)
        return -EINVAL;
    if (has_prefix(spec, "file:", &src.arg)) {
        src.kind = SOURCE_FILE;
        if (src.arg[0] != '/' || src.arg[1] == '\0')
            return -EINVAL;
    } else if (has_prefix(spec, "fd:", &src.arg)) {
        src.kind = SOURCE_FD;
        if (parse_u32(src.arg, INT_MAX, &fd) < 0 || fd <= STDERR_FILENO)
            return -EINVAL;
        src.fd = (int)fd;
    } else if (has_prefix(spec, "env:", &src.arg)) {
        src.kind = SOURCE_ENV;
        if (!env_name_valid(src.arg))
            return -EINVAL;
    } else if (has_prefix(spec, "credential:", &src.arg)) {
        src.kind = SOURCE_CREDENTIAL;
        if (!credential_name_valid(src.arg))
            return -EINVAL;
    } else
        return -EINVAL;
    *ret = src;
    return 0;
}

int secret_source_validate(const char *spec)
{
    struct source src;

    return source_parse(spec, &src);
}

/* Reads to EOF, or until the buffer is full, which already means the secret is too long. */
static int read_all(int fd, struct read_buf *b)
{
    while (b->len < sizeof(b->d)) {
        ssize_t n = read(fd, b->d + b->len, sizeof(b->d) - b->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            return 0;
        b->len += (size_t)n;
    }
    return -EMSGSIZE;
}

/* Turns the staged bytes into a secret: drop one line ending, then check length and NULs. */
static int finish(struct read_buf *b, struct secret **ret)
{
    struct secret *s;

    if (b->len > 0 && b->d[b->len - 1] == '\n') {
        b->len--;
        if (b->len > 0 && b->d[b->len - 1] == '\r')
            b->len--;
    }
    if (b->len > HWSIGN_MAX_PIN)
        return -EMSGSIZE;
    if (memchr(b->d, 0, b->len))
        return -EINVAL;
    s = secret_new(b->d, b->len);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int read_from_path(const char *path, bool check_mode, struct secret **ret)
{
    _cleanup_(read_buf_wipe) struct read_buf b = {.len = 0};
    _cleanup_close_ int fd = -EBADF;
    struct stat st;
    int r;

    /*
     * Symlinks are followed (Kubernetes and Docker secret mounts are symlinks); the mode check
     * below applies to the file actually opened. O_NONBLOCK keeps a FIFO from hanging open();
     * it is refused right after.
     */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return negative_errno();
    if (fstat(fd, &st) < 0)
        return negative_errno();
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (check_mode && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        return -EPERM;
    r = read_all(fd, &b);
    if (r < 0)
        return r;
    return finish(&b, ret);
}

static int read_from_fd(int fd, struct secret **ret)
{
    _cleanup_(read_buf_wipe) struct read_buf b = {.len = 0};
    int r;

    r = read_all(fd, &b);
    if (r < 0)
        return r;
    return finish(&b, ret);
}

static int read_from_env(const char *name, struct secret **ret)
{
    struct secret *s = NULL;
    char *v = getenv(name);
    size_t len;
    int r = 0;

    if (!v)
        return -ENOENT;
    len = strnlen(v, HWSIGN_MAX_PIN + 1);
    if (len > HWSIGN_MAX_PIN)
        r = -EMSGSIZE;
    else {
        s = secret_new(v, len);
        if (!s)
            r = -ENOMEM;
    }
    /* Rejected or not, the value must not linger in the environment (or in /proc/self). */
    secret_wipe(v, strlen(v));
    (void)unsetenv(name);
    if (r < 0)
        return r;
    *ret = s;
    return 0;
}

static int read_from_credential(const char *name, struct secret **ret)
{
    const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
    char path[PATH_MAX];
    int n;

    if (!dir || dir[0] == '\0')
        return -ENOENT;
    if (dir[0] != '/')
        return -EINVAL;
    n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    /*
     * No mode check: systemd may grant the service user access through an ACL, which shows up as
     * group bits in st_mode, and the directory itself is private to the service.
     */
    return read_from_path(path, false, ret);
}

int secret_source_read(const char *spec, struct secret **ret)
{
    struct source src;
    int r;

    r = source_parse(spec, &src);
    if (r < 0)
        return r;
    switch (src.kind) {
    case SOURCE_FILE:
        return read_from_path(src.arg, true, ret);
    case SOURCE_FD:
        return read_from_fd(src.fd, ret);
    case SOURCE_ENV:
        return read_from_env(src.arg, ret);
    case SOURCE_CREDENTIAL:
        return read_from_credential(src.arg, ret);
    }
    return -EINVAL;
}
