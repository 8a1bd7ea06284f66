/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SLSA Provenance v1 predicate (predicateType "https://slsa.dev/provenance/v1"): build from a
 * C struct and strict parse (FORMATS 3). Pure functions: no I/O, no logging.
 *
 *   {"buildDefinition": {"buildType": <TypeURI>, "externalParameters": {...non-empty...},
 *                        "internalParameters": {...}, "resolvedDependencies": [<RD>, ...]},
 *    "runDetails": {"builder": {"id": <TypeURI>, "version": {...}, "builderDependencies": [...]},
 *                   "metadata": {"invocationId": "...", "startedOn": <ts>, "finishedOn": <ts>},
 *                   "byproducts": [<RD>, ...]}}
 *
 * Parse rules (the spec's, the in-toto Go validator's, and ours marked "ours"):
 *   - buildDefinition, buildType, externalParameters, runDetails, builder and builder.id are
 *     required; externalParameters must be a non-empty object (Go validator);
 *   - buildType and builder.id are TypeURIs (intoto_type_uri_check);
 *   - startedOn/finishedOn, when present, are RFC 3339 UTC timestamps
 *     "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" (upper-case T and Z, a real calendar date, years
 *     0001..9999, no leap second: what protobuf Timestamp accepts);
 *   - builder.version, when present, is an object of strings (a map, never a string);
 *   - each ResourceDescriptor (<RD>: resolvedDependencies, builderDependencies, byproducts) has
 *     at least one of uri, digest, content; uri is checked as a TypeURI (ours: lower-case scheme
 *     and authority); a digest is a non-empty DigestSet whose NIST-named and git* values are
 *     lower-case hex of the right length (other algorithms: non-empty strings); content is
 *     base64; the other descriptor fields are type-checked;
 *   - unknown fields are ignored (spec: extension fields "<vendor>_<name>" may appear);
 *   - every list and string has a SLSA_MAX_* limit below; the predicate text is at most
 *     SLSA_MAX_PREDICATE bytes of strict JSON (json.h).
 *
 * Errors: -EINVAL malformed, -EMSGSIZE over a limit, -ENOMEM. ret_* written only on success.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format-limits.h"

#define SLSA_PREDICATE_TYPE "https://slsa.dev/provenance/v1"

/* Limits (STYLE 13). A predicate must fit inside one in-toto Statement. */
#define SLSA_MAX_PREDICATE     INTOTO_MAX_STATEMENT /* predicate JSON text */
#define SLSA_MAX_DEPENDENCIES  256u                 /* resolvedDependencies entries */
#define SLSA_MAX_BUILDER_DEPS  64u                  /* builder.builderDependencies entries */
#define SLSA_MAX_BYPRODUCTS    64u                  /* runDetails.byproducts entries */
#define SLSA_MAX_VERSIONS      32u                  /* builder.version entries */
#define SLSA_MAX_NAME          INTOTO_MAX_NAME      /* bytes of a descriptor name */
#define SLSA_MAX_URI           INTOTO_MAX_TYPE_URI  /* bytes of buildType, builder.id, uri */
#define SLSA_MAX_INVOCATION_ID 1024u                /* bytes of metadata.invocationId */
#define SLSA_MAX_CONTENT       4096u /* decoded "content" bytes (spec: SHOULD be < 1 KB) */
#define SLSA_MAX_TEXT          4096u /* bytes of any other descriptor string */
#define SLSA_TIMESTAMP_MAX_LEN 30u   /* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" */

/*
 * A resolved dependency. Building: uri and name may be NULL (omitted); sha256 (64) and
 * git_commit (40 or 64) are lower-case hex or NULL; at least one of uri, sha256, git_commit.
 * Parsing: the same fields borrowed from the parsed predicate, NULL when absent (a parsed
 * dependency may carry only other digest algorithms or content; those are not exposed).
 */
struct slsa_dependency {
    const char *uri;
    const char *name;
    const char *sha256;
    const char *git_commit;
};

/* A byproduct to build: name (required, non-empty) and content, a strict JSON object text of
 * content_len bytes, emitted as the descriptor's base64 "content" with mediaType
 * "application/json". */
struct slsa_byproduct {
    const char *name;
    const char *content;
    size_t content_len;
};

/* Inputs of slsa_predicate_build. Strings are NUL-terminated; NULL means "omit" where allowed. */
struct slsa_build_params {
    const char *build_type;          /* required TypeURI */
    const char *external_parameters; /* required, strict JSON object text, non-empty */
    const char *internal_parameters; /* optional JSON object text */
    const struct slsa_dependency *dependencies;
    size_t n_dependencies;
    const char *builder_id;    /* required TypeURI */
    const char *invocation_id; /* optional */
    const char *started_on;    /* optional RFC 3339 UTC, as above */
    const char *finished_on;   /* optional RFC 3339 UTC */
    const struct slsa_byproduct *byproducts;
    size_t n_byproducts;
};

struct slsa_provenance;

/*
 * Build the predicate JSON text: members in the order of the tree above (buildDefinition
 * {buildType, externalParameters, internalParameters, resolvedDependencies}, runDetails {builder
 * {id}, metadata {invocationId, startedOn, finishedOn}, byproducts}), optional parts omitted
 * when absent, each dependency {uri, name, digest {sha256, gitCommit}}, the parameter objects'
 * member order kept. The same inputs always give the same bytes. The result (NUL-terminated,
 * *ret_len without the NUL) is checked with slsa_predicate_parse, so it always parses back; pass
 * it to intoto_statement_build with SLSA_PREDICATE_TYPE.
 */
int slsa_predicate_build(const struct slsa_build_params *params, char **ret, size_t *ret_len);

/* Strict parse of the predicate text data[0..len) (e.g. intoto_statement_predicate()). */
int slsa_predicate_parse(const char *data, size_t len, struct slsa_provenance **ret);
struct slsa_provenance *slsa_provenance_free(struct slsa_provenance *p); /* NULL-safe */
void slsa_provenance_freep(struct slsa_provenance **p);

/* Accessors; pointers are borrowed from p. */
const char *slsa_provenance_build_type(const struct slsa_provenance *p);
const char *slsa_provenance_builder_id(const struct slsa_provenance *p);
/* externalParameters / internalParameters serialised (json.h rules); internal is NULL when
 * absent. */
const char *slsa_provenance_external_parameters(const struct slsa_provenance *p);
const char *slsa_provenance_internal_parameters(const struct slsa_provenance *p);
size_t slsa_provenance_dependency_count(const struct slsa_provenance *p);
/* NULL when i is out of range. */
const struct slsa_dependency *slsa_provenance_dependency(const struct slsa_provenance *p, size_t i);
/* metadata fields, NULL when absent. */
const char *slsa_provenance_invocation_id(const struct slsa_provenance *p);
const char *slsa_provenance_started_on(const struct slsa_provenance *p);
const char *slsa_provenance_finished_on(const struct slsa_provenance *p);
size_t slsa_provenance_byproduct_count(const struct slsa_provenance *p);

/*
 * Check s[0..len) as a timestamp of the form above and convert it to seconds since the Unix
 * epoch (the fraction is dropped). 0 and *ret_unix (may be NULL), or -EINVAL.
 */
int slsa_timestamp_parse(const char *s, size_t len, int64_t *ret_unix);
