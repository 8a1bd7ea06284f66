/* SPDX-License-Identifier: Apache-2.0 */
/*
 * license: licence names found in package metadata -> SPDX licence expressions.
 *
 * We never emit an identifier we do not know to be on the SPDX licence list: a built-in table
 * holds the common SPDX identifiers and the Debian (DEP-5) short names that map to them
 * ("GPL-2+" -> "GPL-2.0-or-later", "Expat" -> "MIT", "BSD-3-clause" -> "BSD-3-Clause").
 * Anything else stays a free-text name (CycloneDX license.name; SPDX NOASSERTION).
 *
 * Expressions: "A or B", "A and B" (DEP-5, lower case) and "A OR B", "A AND B" (SPDX) with
 * parentheses; a mix of "and" and "or" needs parentheses, a DEP-5 comma or a "with ...
 * exception" clause is not translated. LicenseRef-… identifiers are kept.
 *
 * Errors: -ENOENT (not translatable: keep the name), -EMSGSIZE (over SBOM_MAX_LICENSE),
 * -ENOMEM. Outputs written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sbom.h"

/* One licence text (a DEP-5 License synopsis, a PEP 639 License-Expression, an npm "license")
 * -> a normalised SPDX expression (malloc'd). */
int license_to_spdx(const char *text, char **ret_expr);

/*
 * Licence synopses of a machine-readable Debian copyright file (DEP-5: the first paragraph has
 * a "Format:" field naming the copyright-format URI): the first line of each "License:" field
 * of the header paragraph and of every "Files:" paragraph, in order, de-duplicated, added to c
 * with sbom_component_add_license_name(). Stand-alone licence paragraphs (no Files) only hold
 * texts and are skipped. 0 with the count added (may be 0) in *ret_n (NULL allowed);
 * -EMEDIUMTYPE when the file is not machine-readable, -ENOMEM.
 */
int license_dep5_parse(const char *data, size_t len, struct sbom_component *c, size_t *ret_n);

/*
 * Fills c->license_expr from c->license_names when every name translates: one name gives its
 * expression, several are joined with " AND " (each parenthesised when compound): in DEP-5
 * each Files paragraph's licence applies to part of the package, so all of them apply.
 * Otherwise leaves c unchanged. -ENOMEM.
 */
int license_resolve(struct sbom_component *c);
