/* SPDX-License-Identifier: Apache-2.0 */
/* File descriptor helpers: full reads and writes, bounded file loading, atomic replace. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all bytes, retrying on EINTR and short writes. 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);
/* Read exactly len bytes; -EPIPE on early EOF. */
int fd_read_exact(int fd, void *buf, size_t len);
/* Read a whole file of at most max bytes (O_CLOEXEC|O_NOFOLLOW); NUL-terminated. -EFBIG. */
int read_file_bounded(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/* Read to EOF from fd, at most max bytes. */
int read_fd_bounded(int fd, size_t max, uint8_t **ret, size_t *ret_len);
/*
 * Replace path atomically: write a temporary file in the same directory with the given mode,
 * fsync it, rename over path, fsync the directory.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
