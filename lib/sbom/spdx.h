/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdx: writes an inventory as an SPDX 2.3 JSON document (FORMATS.md §8.3), valid for the
 * SPDX 2.3 JSON schema and the spec-only rules (documentNamespace, DESCRIBES, SPDXID charset).
 *
 *   {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
 *    "name", "documentNamespace": "urn:uuid:<uuid>",
 *    "creationInfo": {"created", "creators": ["Tool: hwsign-VERSION"], "comment": host facts},
 *    "externalDocumentRefs": [...] (reference SBOM only), "packages", "files",
 *    "relationships"}
 *
 * Packages: the host's operating system ("SPDXRef-Host", primaryPackagePurpose
 * OPERATING_SYSTEM) when os-release named it; each ecosystem package ("SPDXRef-Package-N-NAME",
 * N its position) with versionInfo, downloadLocation NOASSERTION, filesAnalyzed false,
 * sourceInfo (Debian source package), licenseConcluded NOASSERTION, licenseDeclared (SPDX
 * expression or NOASSERTION), copyrightText NOASSERTION and a PACKAGE-MANAGER purl external
 * reference; each model ("SPDXRef-Model-N-NAME", purpose OTHER) with filesAnalyzed true,
 * checksum SHA256 (model-signing root), hasFiles and the package verification code (SHA1 over
 * the sorted SHA1s of its files, SPDX 2.3 §7.9).
 * Files: each artifact ("SPDXRef-File-N-NAME", fileName "./NAME") and each model file
 * ("./MODEL/PATH") with checksums SHA1 and SHA256.
 * Relationships: DOCUMENT DESCRIBES the host, each artifact and each model; the host CONTAINS
 * each ecosystem package (without a host, DOCUMENT DESCRIBES them); a model CONTAINS its files.
 * A reference SBOM adds externalDocumentRefs [{"externalDocumentId": "DocumentRef-inventory",
 * "spdxDocument": "urn:uuid:<full>", "checksum": SHA1 of the full document}].
 *
 * Deterministic for the same inventory and info; NUL-terminated, *ret_len excludes the NUL.
 * -EINVAL for a malformed info, -ENOMEM.
 */
#pragma once

#include <stddef.h>

#include "sbom.h"

#define SPDX_VERSION "SPDX-2.3"

int spdx_write(const struct sbom *s, const struct sbom_doc_info *info, char **ret, size_t *ret_len);
