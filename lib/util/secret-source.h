/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads a secret from a source specification, never from argv:
 *   file:/abs/path       whole file, one trailing "\n" or "\r\n" removed; the file must not be
 *                        readable by group or others (-EPERM otherwise)
 *   fd:N                 read to EOF from an inherited descriptor (N >= 3)
 *   env:NAME             environment variable NAME (the variable is then unset)
 *   credential:NAME      systemd credential $CREDENTIALS_DIRECTORY/NAME
 * The secret may be at most HWSIGN_MAX_PIN bytes (-EMSGSIZE) and must not contain NUL (-EINVAL).
 * Unknown scheme or malformed spec: -EINVAL. Missing file/variable: -ENOENT.
 *
 * Details of the contract above:
 *   - fd: and credential: drop one trailing "\n" or "\r\n" like file: (`3<<<"$PIN"` adds one).
 *     env: values are taken verbatim.
 *   - file: follows symlinks and checks the mode of the file it opened; anything but a regular
 *     file is -EINVAL. credential: skips the mode check (systemd may grant access by ACL, which
 *     shows as group bits; the credentials directory is private to the service).
 *   - fd:N is read but left open (the caller owns its descriptors).
 *   - env:NAME: the value is wiped in place and the variable unset, whether or not it was
 *     accepted. The environment is not thread-safe: read env: sources before starting threads.
 *   - credential: with CREDENTIALS_DIRECTORY unset or empty is -ENOENT, relative is -EINVAL.
 *   - Other open/read failures pass through as -errno (-EACCES, -EBADF for a closed fd:N ...).
 * Bytes read pass through one wiped staging buffer only; no other copy outlives the call.
 */
#pragma once

#include "secret.h"

/* Longest spec accepted (a file: path is at most PATH_MAX). */
#define SECRET_SOURCE_MAX_SPEC 4096u
/* Longest env: variable or credential: name (a file name component, NAME_MAX). */
#define SECRET_SOURCE_MAX_NAME 255u

int secret_source_read(const char *spec, struct secret **ret);
/* Checks the syntax of spec without reading anything (config validation). 0 or -EINVAL. */
int secret_source_validate(const char *spec);
