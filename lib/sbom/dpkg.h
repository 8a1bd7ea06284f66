/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg: Debian packages from the dpkg database (var/lib/dpkg/status).
 *
 * The status file is a sequence of deb822 stanzas separated by blank lines; a line starting
 * with a space or tab continues the previous field (only multi-line fields such as Description
 * and Conffiles have them: they are skipped). A stanza counts when its Status is
 * "WANT ok installed" (WANT install, hold or deinstall: the files are on disk in all three);
 * "config-files", "half-installed", "not-installed", a "reinstreq" flag ... do not count.
 * A counted stanza needs Package, Version and Architecture; one missing, over SBOM_MAX_FIELD
 * or not valid text is skipped with a warning. "Source: NAME" or "Source: NAME (VERSION)" sets
 * the source package when it differs from the binary's name or version.
 *
 * Each package becomes a SBOM_KIND_DEB component with purl
 * pkg:deb/VENDOR/NAME@VERSION?arch=ARCH&distro=DISTRO (purl.h).
 */
#pragma once

#include <stddef.h>

#include "sbom.h"

struct dpkg_opts {
    const char *vendor; /* purl namespace, e.g. "debian" (required) */
    const char *distro; /* purl distro qualifier, e.g. "debian-12"; NULL leaves it out */
    /* Called for each package before it is added (e.g. to look up its licence); a negative
     * return aborts the parse with it. NULL: no call. */
    int (*each)(void *userdata, struct sbom_component *c);
    void *userdata;
};

/*
 * Parses status text data[0..len) and adds its installed packages to s. *ret_n (may be NULL)
 * gets the number added. -EMSGSIZE if len > SBOM_MAX_DPKG_STATUS, -E2BIG / -ENOMEM from
 * sbom_add, or the callback's error.
 */
int dpkg_parse_status(const char *data, size_t len, const struct dpkg_opts *opts, struct sbom *s,
                      size_t *ret_n);

/*
 * The collector: reads var/lib/dpkg/status under the root (no such file: 0 packages) and, for
 * each package, the licence synopses of usr/share/doc/NAME/copyright when it is a
 * machine-readable DEP-5 file of at most SBOM_MAX_COPYRIGHT bytes (license.h; other copyright
 * files leave the licence unknown). Vendor and distro come from the host facts already in s
 * (host.h): vendor = os-release ID (default "debian"), distro = ID-VERSION_ID.
 * -EFBIG for a status file over SBOM_MAX_DPKG_STATUS, other I/O errors, -E2BIG, -ENOMEM.
 */
int dpkg_collect(int root_fd, struct sbom *s, size_t *ret_n);
