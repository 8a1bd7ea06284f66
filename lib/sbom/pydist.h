/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pydist: Python distributions installed in site-packages / dist-packages directories.
 *
 * Each NAME-VERSION.dist-info/METADATA (or NAME-VERSION.egg-info/PKG-INFO, or an .egg-info
 * file) is core metadata: RFC 822 style header fields up to the first blank line, a line
 * starting with whitespace continuing the previous field. Name and Version are required (valid
 * text, at most SBOM_MAX_FIELD bytes, no spaces). Licence, in order of preference: PEP 639
 * License-Expression; a one-line License field (a multi-line one is a licence text, not a
 * name; "UNKNOWN" is ignored); the last part of "License ::" classifiers. Names are mapped to
 * SPDX expressions where license.h knows them.
 *
 * purl: pkg:pypi/NAME@VERSION with the PEP 503 normalised name (purl.h).
 */
#pragma once

#include <stddef.h>

#include "sbom.h"

/*
 * Parses core metadata data[0..len) (only the header part is read) into a new SBOM_KIND_PYPI
 * component *ret (clear it with sbom_component_clear). -EBADMSG when Name or Version is missing
 * or unusable, -ENOMEM.
 */
int pydist_parse_metadata(const char *data, size_t len, struct sbom_component *ret);

/*
 * The collector: every distribution in the interpreters' standard directories under the root
 * (usr/lib/python3/dist-packages and usr/lib/pythonX.Y/{site,dist}-packages, the same under
 * usr/local/lib) and in the extra directories given (paths under the root). Metadata that is
 * broken, unreadable or over SBOM_MAX_METADATA is skipped with a warning in s; a missing
 * directory is skipped silently. *ret_n (may be NULL) gets the number added. -E2BIG, -ENOMEM.
 */
int pydist_collect(int root_fd, const char *const *extra_dirs, size_t n_extra, struct sbom *s,
                   size_t *ret_n);
