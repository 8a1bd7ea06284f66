/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign verify --policy: requirements on verified SLSA provenance (docs/provenance.md).
 *
 * A policy is a JSON object; every member is optional, unknown members are refused (a typo
 * must not silently drop a check):
 *   "builderId":           "URI"            runDetails.builder.id must equal it
 *   "buildType":           "URI"            buildDefinition.buildType must equal it
 *   "sourceRepository":    "git+URL"        a resolvedDependency with a gitCommit whose uri is
 *                                           URL or URL@REF
 *   "sourceCommit":        "hex"            ... and whose gitCommit is this one
 *   "allowedCommands":     ["cc", "/usr/bin/make", ...]
 *                                           externalParameters.command[0] equals an entry, or
 *                                           has an entry without '/' as its base name
 *   "observedExecutables": ["sha256 hex", ...]
 *                                           the executable the agent observed calling it
 *   "subjects":            ["FILE", ...]    each file's SHA-256 is a subject (paths relative to
 *                                           the current directory)
 *   "quote": {"ak": "AK.pem", "pcrs": ["sha256:7=HEX", ...]}
 *                                           a TPM quote (BUNDLE.quote.json, or --quote) signed
 *                                           by that AK (path relative to the policy file),
 *                                           bound to this statement (qualifyingData =
 *                                           SHA-256 of the DSSE payload), with these PCR values
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intoto.h"

#define POLICY_MAX_FILE (64u * 1024u)
#define POLICY_MAX_LIST 64u /* entries of one list */

/*
 * Checks the verified statement st (its DSSE payload bytes: payload) against the policy at
 * policy_path; quote_path names the quote file (used only when the policy has "quote").
 * Prints one line per satisfied requirement ("Policy: ...") unless quiet. Returns an exit
 * status: 0 satisfied; 1 a requirement fails (reason printed); 4 unreadable or malformed
 * policy, quote file or files it names.
 */
int verify_policy(const char *policy_path, const char *quote_path,
                  const struct intoto_statement *st, const uint8_t *payload, size_t payload_len,
                  bool quiet);
