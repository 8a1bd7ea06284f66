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
 */
#pragma once

#include "secret.h"

int secret_source_read(const char *spec, struct secret **ret);
/* Checks the syntax of spec without reading anything (config validation). 0 or -EINVAL. */
int secret_source_validate(const char *spec);
