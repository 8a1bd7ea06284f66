/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cyclonedx: writes an inventory as a CycloneDX 1.6 JSON BOM (FORMATS.md §8.1), valid for the
 * CycloneDX project's strict 1.6 JSON schema.
 *
 *   {"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:<lower-case>",
 *    "version": 1,
 *    "metadata": {"timestamp", "tools": {"components": [{"type": "application",
 *                 "name": "hwsign", "version"}]},
 *                 "component": the host's operating system (when os-release named it),
 *                 "properties": [hwsign:host:kernel, hwsign:host:machine, ...]},
 *    "components": [...], "externalReferences": [...] (reference SBOM only)}
 *
 * Components, in inventory order (sbom_sort): packages are type "library" with bom-ref = purl,
 * name, version, purl, licenses (one SPDX "expression"; else one entry per licence name, by
 * "id" when the name is a known SPDX identifier, else by "name") and properties
 * hwsign:deb:source / hwsign:deb:source-version; an artifact is type "file" with bom-ref
 * "file:NAME" and hashes SHA-256 and SHA-1; a model is type "machine-learning-model" with
 * bom-ref "model:NAME", hash SHA-256 (the model-signing root digest) and one nested "file"
 * component per model file (bom-ref "model:NAME/PATH"). A reference SBOM
 * (sbom_doc_info.ref) adds an external reference of type "bom" to the full BOM as a BOM-Link
 * "urn:cdx:<uuid>/1" with its SHA-256.
 *
 * bom-refs are unique: -EINVAL if two artifacts or two models share a name. The output is
 * deterministic for the same inventory and info (plain JSON, no whitespace, member order as
 * above), NUL-terminated; *ret_len excludes the NUL. -EINVAL for a malformed info (serial not a
 * lower-case UUID, missing timestamp), -ENOMEM.
 */
#pragma once

#include <stddef.h>

#include "sbom.h"

#define CDX_SPEC_VERSION "1.6"

int cdx_write(const struct sbom *s, const struct sbom_doc_info *info, char **ret, size_t *ret_len);

/* True when s is 36 characters of lower-case UUID text (8-4-4-4-12 hex digits). */
bool cdx_uuid_valid(const char *s);
