/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key files on disk (internal): key names, the key directory, locators and safe reading.
 *
 * A locator is the absolute path of a key file. Files we create live in the key directory
 * as NAME.pem (mode 0600). An administrator may also register a key file elsewhere; any key
 * file we read must be a regular file (no symlink as the last component), owned by root or
 * the effective uid and not writable by group or others, and at most TPM_KEYFILE_MAX bytes.
 * Functions taking a tpm_context record their failure there (tpm_context_failf).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tpm-context.h"
#include "tpm-keyfile.h"

#define TPM_KEY_EXT ".pem"

/* The agent's key name rule ([A-Za-z0-9][A-Za-z0-9._-]*, 1..HWSIGN_MAX_NAME): no '/', no "..". */
/* No control characters. */
bool tpm_store_printable(const char *s);
/* True if canon is a direct child of the (canonical) directory dir. */
bool tpm_store_in_dir(const char *dir, const char *canon);

/*
 * Creates dir (0700) if missing and returns its canonical path; it must be a directory owned
 * by root or the euid and not writable by group or others (-EPERM), short enough for
 * locators. -EINVAL for a relative path. Writes a reason to err on failure.
 */
int tpm_store_dir_check(const char *dir, char **ret, char *err, size_t err_len);

/*
 * Canonical path of an absolute locator of at most HWSIGN_MAX_URI bytes: -EINVAL if relative,
 * -EMSGSIZE if too long, -ENOKEY if it does not exist.
 */
int tpm_store_canon(struct tpm_context *c, const char *locator, char **ret);

/*
 * Reads and parses the key file at canon (see the rules above): -ENOKEY if missing, -EPERM
 * for unsafe ownership or mode, -EINVAL if not a regular file, -EMSGSIZE if too large,
 * -EBADMSG if malformed, -EOPNOTSUPP for a TSS2 key we do not use.
 */
int tpm_store_read(struct tpm_context *c, const char *canon, struct tpm_keyfile *ret);
