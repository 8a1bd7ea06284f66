/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbom-doc: reads an SBOM document back (any CycloneDX JSON BOM or SPDX 2.x JSON document,
 * ours or another tool's) to answer the incident responder's first question: which SHA-256
 * does it record for an artifact?
 *
 * A CycloneDX document has "bomFormat": "CycloneDX" and a string "specVersion"; every
 * component (nested ones too) with a {"alg": "SHA-256", "content": <64 hex>} hash is an entry
 * named by its "name". An SPDX document has "spdxVersion" "SPDX-2.x"; every package and file
 * with a {"algorithm": "SHA256", "checksumValue": <64 hex>} checksum is an entry named by its
 * "name" or "fileName" (a leading "./" removed). Hex of either case is accepted. Entries with
 * a malformed hash are ignored; anything else is not interpreted.
 *
 * Parsing is strict JSON (json.h), at most SBOM_MAX_DOCUMENT bytes and 2 * SBOM_MAX_COMPONENTS
 * entries. Errors: -EMSGSIZE over a limit, -EINVAL not JSON or neither format, -ENOMEM.
 * Outputs written only on success; returned strings are borrowed from the document.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "sbom.h"

/* in-toto predicate types (in-toto spec/predicates/{cyclonedx,spdx}.md) and media types. */
#define SBOM_PREDICATE_CYCLONEDX "https://cyclonedx.org/bom"
#define SBOM_PREDICATE_SPDX      "https://spdx.dev/Document"
#define SBOM_MEDIA_CYCLONEDX     "application/vnd.cyclonedx+json"
#define SBOM_MEDIA_SPDX          "application/spdx+json"

enum sbom_format {
    SBOM_FORMAT_CYCLONEDX = 1,
    SBOM_FORMAT_SPDX,
};

/* The in-toto predicate type of a format; NULL for an unknown value. */
const char *sbom_format_predicate_type(enum sbom_format f);

struct sbom_doc;

int sbom_doc_parse(const char *data, size_t len, struct sbom_doc **ret);
struct sbom_doc *sbom_doc_free(struct sbom_doc *d); /* NULL-safe */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sbom_doc *, sbom_doc_free);

enum sbom_format sbom_doc_format(const struct sbom_doc *d);
size_t sbom_doc_n_entries(const struct sbom_doc *d);
/* Entry i (borrowed); NULL when out of range. */
const char *sbom_doc_entry_name(const struct sbom_doc *d, size_t i);
const uint8_t *sbom_doc_entry_sha256(const struct sbom_doc *d, size_t i);
/* First entry recording digest: 0 and *ret_index (may be NULL), or -ENOENT. */
int sbom_doc_find_sha256(const struct sbom_doc *d, const uint8_t digest[static SBOM_SHA256_LEN],
                         size_t *ret_index);
/* First entry called name: 0 and *ret_index (may be NULL), or -ENOENT. */
int sbom_doc_find_name(const struct sbom_doc *d, const char *name, size_t *ret_index);
