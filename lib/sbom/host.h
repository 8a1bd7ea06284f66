/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host: facts about the inventoried system for the SBOM metadata.
 *
 * os-release (os-release(5)): KEY=VALUE lines, values optionally in double or single quotes
 * with backslash escapes inside double quotes; comments and unknown keys are ignored. ID,
 * VERSION_ID, VERSION_CODENAME and PRETTY_NAME are kept when they are valid UTF-8 without
 * control characters and at most SBOM_MAX_FIELD bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sbom.h"

/* Parses os-release text into *ret (its strings malloc'd; free with host_clear). 0 even when
 * no key was found; -ENOMEM. */
int host_parse_os_release(const char *data, size_t len, struct sbom_host *ret);
void host_clear(struct sbom_host *h);

/*
 * Reads etc/os-release (else usr/lib/os-release) under the root and, when running_system is
 * set (the root is this machine's "/"), the kernel release and machine from uname(2); stores
 * them with sbom_set_host(). A missing os-release is not an error (facts stay unknown).
 * -ENOMEM, or an I/O error other than -ENOENT.
 */
int host_collect(int root_fd, bool running_system, struct sbom *s);
