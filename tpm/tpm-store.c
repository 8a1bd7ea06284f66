/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hwsign/protocol.h>

#include "fd-util.h"
#include "tpm-store.h"

_printf_(3, 4) static int cfg_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (err && len > 0) {
        va_start(ap, fmt);
        if (vsnprintf(err, len, fmt, ap) < 0)
            err[0] = '\0';
        va_end(ap);
    }
    return -EINVAL;
}

static bool owner_ok(const struct stat *st)
{
    return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

bool tpm_store_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

bool tpm_store_in_dir(const char *dir, const char *canon)
{
    size_t n = strlen(dir);

    return strncmp(canon, dir, n) == 0 && canon[n] == '/' && !strchr(canon + n + 1, '/');
}

int tpm_store_canon(struct tpm_context *c, const char *locator, char **ret)
{
    _cleanup_free_ char *canon = NULL;
    size_t n = locator ? strnlen(locator, HWSIGN_MAX_URI + 1) : 0;

    if (n == 0 || locator[0] != '/')
        return tpm_context_failf(c, -EINVAL, "a TPM key locator is an absolute path");
    if (n > HWSIGN_MAX_URI)
        return tpm_context_failf(c, -EMSGSIZE, "locator longer than %u bytes", HWSIGN_MAX_URI);
    canon = realpath(locator, NULL);
    if (!canon) {
        int e = errno;
        return tpm_context_failf(c, e == ENOENT ? -ENOKEY : -e, "key file %s: %s", locator,
                                 strerror(e));
    }
    if (strlen(canon) > HWSIGN_MAX_URI)
        return tpm_context_failf(c, -EMSGSIZE, "canonical path longer than %u bytes",
                                 HWSIGN_MAX_URI);
    *ret = TAKE_PTR(canon);
    return 0;
}

int tpm_store_read(struct tpm_context *c, const char *canon, struct tpm_keyfile *ret)
{
    _cleanup_free_ uint8_t *data = NULL;
    _cleanup_close_ int fd = -EBADF;
    size_t len = 0;
    struct stat st;
    int r;

    fd = open(canon, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return tpm_context_failf(c, e == ENOENT ? -ENOKEY : -e, "key file %s: %s", canon,
                                 strerror(e));
    }
    if (fstat(fd, &st) < 0)
        return tpm_context_failf(c, negative_errno(), "key file %s: fstat failed", canon);
    if (!S_ISREG(st.st_mode))
        return tpm_context_failf(c, -EINVAL, "key file %s is not a regular file", canon);
    if (!owner_ok(&st))
        return tpm_context_failf(c, -EPERM,
                                 "key file %s must be owned by root or uid %u and not writable "
                                 "by group or others",
                                 canon, (unsigned)geteuid());
    r = read_fd_bounded(fd, TPM_KEYFILE_MAX, &data, &len);
    if (r < 0)
        return tpm_context_failf(c, r == -EFBIG ? -EMSGSIZE : r, "key file %s: cannot read (%s)",
                                 canon, strerror(-r));
    r = tpm_keyfile_decode(data, len, ret);
    if (r == -EOPNOTSUPP)
        return tpm_context_failf(c, r,
                                 "key file %s is a TSS2 key hwsign does not use (needs "
                                 "emptyAuth, parent 0x40000001, no policy)",
                                 canon);
    if (r < 0)
        return tpm_context_failf(c, r == -ENOMEM ? r : -EBADMSG,
                                 "key file %s is not a valid TSS2 PRIVATE KEY", canon);
    return 0;
}

int tpm_store_dir_check(const char *dir, char **ret, char *err, size_t err_len)
{
    _cleanup_free_ char *canon = NULL;
    struct stat st;

    if (!dir || dir[0] != '/' || strnlen(dir, PATH_MAX) >= PATH_MAX || !tpm_store_printable(dir))
        return cfg_err(err, err_len, "key_dir must be an absolute path");
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        cfg_err(err, err_len, "cannot create key_dir %s: %s", dir, strerror(e));
        return -e;
    }
    canon = realpath(dir, NULL);
    if (!canon || stat(canon, &st) < 0) {
        int e = errno;
        cfg_err(err, err_len, "key_dir %s: %s", dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode))
        return cfg_err(err, err_len, "key_dir %s is not a directory", canon);
    if (!owner_ok(&st)) {
        cfg_err(err, err_len,
                "key_dir %s must be owned by root or uid %u and not writable by group or others",
                canon, (unsigned)geteuid());
        return -EPERM;
    }
    if (strlen(canon) + 1 + HWSIGN_MAX_NAME + strlen(TPM_KEY_EXT) > HWSIGN_MAX_URI)
        return cfg_err(err, err_len, "key_dir %s is too long for key locators", canon);
    *ret = TAKE_PTR(canon);
    return 0;
}
