/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purl: Package URLs (package-url/purl-spec, "characters and encoding" and the deb, pypi and
 * npm type definitions) for the inventoried ecosystems.
 *
 * Encoding: in every component value, the alphanumerics, ". - _ ~" and ':' stay as they are
 * (the spec forbids encoding the colon, so a Debian epoch "1:2.3" stays "1:2.3"); every other
 * byte of the UTF-8 text is %XX with upper-case hex ("+" -> "%2B", "@" -> "%40", " " -> "%20").
 * Qualifiers are emitted sorted by key, with empty values left out.
 *
 *   deb:  pkg:deb/VENDOR/NAME@VERSION?arch=ARCH&distro=DISTRO   (name lower-cased)
 *   pypi: pkg:pypi/NAME@VERSION     name normalised per PEP 503: lower case, every run of
 *                                   "-", "_" and "." becomes one "-"
 *   npm:  pkg:npm/NAME@VERSION or pkg:npm/%40SCOPE/NAME@VERSION for "@scope/name"
 *                                   (lower-cased; the scope is the namespace)
 *
 * Every input is a NUL-terminated string of 1..SBOM_MAX_FIELD bytes (version, arch and distro
 * may be NULL: left out); -EINVAL for an empty or malformed name (an npm name with more than
 * one '/', a scope without a name), -EMSGSIZE past the limit, -ENOMEM. *ret is malloc'd and
 * written only on success.
 */
#pragma once

#include <stddef.h>

int purl_deb(const char *vendor, const char *name, const char *version, const char *arch,
             const char *distro, char **ret);
int purl_pypi(const char *name, const char *version, char **ret);
int purl_npm(const char *name, const char *version, char **ret);

/* PEP 503 normalised distribution name (see above). -EINVAL if empty, -ENOMEM. */
int purl_pep503_name(const char *name, char **ret);
/* Percent-encodes one component value as described above. -EMSGSIZE, -ENOMEM. */
int purl_encode(const char *s, char **ret);
