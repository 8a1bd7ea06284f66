/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npm: packages installed in node_modules trees.
 *
 * A tree is a node_modules directory: each entry NAME (or @SCOPE/NAME) with a package.json is a
 * package, and its own node_modules is walked in turn, at most SBOM_MAX_NPM_DEPTH levels deep
 * (which also bounds symlink loops). Entries starting with '.' (.bin, .package-lock.json) are
 * not packages; a directory without package.json is skipped silently.
 *
 * package.json (strict JSON, json.h, at most SBOM_MAX_PACKAGE_JSON bytes): "name" and
 * "version" are required strings (valid text, at most SBOM_MAX_FIELD bytes); the licence is
 * "license" (an SPDX expression string, or the legacy {"type": ...}) or the legacy
 * "licenses": [{"type": ...}]. purl: pkg:npm/NAME@VERSION, pkg:npm/%40SCOPE/NAME@VERSION.
 */
#pragma once

#include <stddef.h>

#include "sbom.h"

/*
 * Parses one package.json into a new SBOM_KIND_NPM component *ret (clear it with
 * sbom_component_clear). -EBADMSG: not a JSON object, or name/version missing or unusable;
 * -EMSGSIZE over the limit; -ENOMEM.
 */
int npm_parse_package_json(const char *data, size_t len, struct sbom_component *ret);

/*
 * The collector: walks usr/lib/node_modules and usr/local/lib/node_modules (global installs)
 * under the root, then each extra tree (a node_modules directory under the root). Broken
 * package.json files are skipped with a warning in s. *ret_n (may be NULL) gets the number
 * added. -E2BIG, -ENOMEM.
 */
int npm_collect(int root_fd, const char *const *trees, size_t n_trees, struct sbom *s,
                size_t *ret_n);
