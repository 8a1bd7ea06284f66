/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign verify --bundle: offline verification of a Sigstore bundle v0.3 (messageSignature or
 * dsseEnvelope) or of a bare DSSE envelope carrying an in-toto Statement v1, against a public
 * key file. Never talks to the agent.
 */
#pragma once

#include <stdbool.h>

struct verify_bundle_args {
    const char *key_path;     /* PEM or DER public key */
    const char *bundle_path;  /* "-" = stdin */
    const char *file;         /* the artifact, NULL when not given; "-" = stdin */
    const char *log_key_path; /* NULL, or the signing log's key: require a log entry */
    const char *policy_path;  /* NULL, or a provenance policy (verify-policy.h) */
    const char *quote_path;   /* the policy's TPM quote; NULL = BUNDLE.quote.json */
    const char *sbom_path;    /* NULL, or an SBOM the statement must sign (cmd-sbom.h) */
    bool json;
};

/*
 * Verifies, prints the result (human text or --json) and the one-line error, and returns the
 * exit status: 0 verified; 1 the signature does not verify with the key, or FILE is not what
 * the bundle names (not the messageDigest, not among the subjects), or (with log_key_path) the
 * bundle carries no signing-log entry proving inclusion of this signature (bundle-log.h), or
 * (with policy_path) the provenance does not satisfy the policy, or (with sbom_path) the SBOM
 * is not the one the statement signs or does not record FILE's SHA-256; 2 a
 * messageSignature bundle without FILE; 4 unreadable or malformed key, bundle or FILE, an
 * unsupported bundle (certificate, digest other than SHA-256) or a signed payload that is not an
 * in-toto Statement v1.
 */
int verify_bundle(const struct verify_bundle_args *a);
