/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rootfs: reading files of an inventoried root directory ("/" or `--root DIR`, e.g. a
 * container image's extracted file system) the way that system itself would see them.
 *
 * Every path is relative to the root and resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): an absolute symlink or ".." inside an image resolves inside the
 * image, never to the host's files. On kernels without openat2 (before 5.6) symlinks are not
 * followed at all (O_NOFOLLOW on the last component, and an image's symlinked directories are
 * then skipped). Every fd is O_CLOEXEC.
 *
 * Errors are -errno from the system calls (-ENOENT, -ENOTDIR, -EACCES, -ELOOP ...), plus
 * -ENAMETOOLONG for a path over SBOM_MAX_PATH, -EFBIG, -E2BIG and -ENOMEM as noted. Outputs
 * are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Opens root (a directory; NULL means "/") as the anchor of the calls below. */
int rootfs_open(const char *root, int *ret_fd);

/* Opens relpath (no leading '/') under the root with flags | O_CLOEXEC. */
int rootfs_openat(int root_fd, const char *relpath, int flags, int *ret_fd);

/*
 * Reads the regular file relpath. With truncate false, a file over max bytes is -EFBIG; with
 * truncate true its first max bytes are returned and *ret_truncated (may be NULL) is set. The
 * buffer is NUL-terminated (not counted in *ret_len).
 */
int rootfs_read(int root_fd, const char *relpath, size_t max, bool truncate, char **ret,
                size_t *ret_len, bool *ret_truncated);

/*
 * Names in directory reldir, except "." and "..", sorted with strcmp. More than
 * SBOM_MAX_DIR_ENTRIES is -E2BIG. Free with rootfs_names_free.
 */
int rootfs_list(int root_fd, const char *reldir, char ***ret_names, size_t *ret_n);
void rootfs_names_free(char **names, size_t n);

/* snprintf into buf (size bytes); -ENAMETOOLONG if it did not fit. */
int rootfs_path(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
