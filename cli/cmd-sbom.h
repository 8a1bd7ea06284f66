/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign sbom (cmd-sbom.c): inventory a system (or a container image's root file system),
 * artifacts and models as a CycloneDX 1.6 or SPDX 2.3 SBOM and optionally sign it; and the
 * SBOM checks of `hwsign verify --bundle B --sbom SBOM [FILE]` (verify-bundle.c calls them).
 * docs/sbom.md describes both.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct intoto_statement;

/* Filled by sbom_verify_check() for the output of hwsign verify. */
struct sbom_verify_result {
    const char *format;   /* "CycloneDX" or "SPDX" */
    char file_name[4096]; /* FILE's entry in the SBOM ("" when no FILE was given) */
};

/*
 * The SBOM checks of hwsign verify, made after the bundle's signature verified: st (the signed
 * statement; NULL for a messageSignature bundle) must be an SBOM attestation (predicate type
 * https://cyclonedx.org/bom or https://spdx.dev/Document); the SHA-256 of the file sbom_path
 * must be one of its subjects (so a changed SBOM fails); the file must be an SBOM of the format
 * the predicate type names; and with file_sha256 (FILE's digest, NULL when no FILE), the SBOM
 * must record exactly that SHA-256 for some component or file.
 *
 * Returns an exit status: 0 with *res filled; 1 (CLI_EXIT_REFUSED) with the reason in err (one
 * line, for "verification failed: ..."); 4 after printing a one-line error when sbom_path is
 * unreadable or too large.
 */
int sbom_verify_check(const struct intoto_statement *st, const char *sbom_path,
                      const char *file_path, const uint8_t *file_sha256,
                      struct sbom_verify_result *res, char *err, size_t err_size);
