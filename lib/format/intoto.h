/* SPDX-License-Identifier: Apache-2.0 */
/*
 * in-toto Statement v1: build and strict parse.
 *
 *   {"_type": "https://in-toto.io/Statement/v1",
 *    "subject": [{"name": ..., "digest": {"sha256": <64 lower-case hex>, ...}}, ...],
 *    "predicateType": <TypeURI>, "predicate": {...}}
 *
 * Parse rules (the spec's, plus our policy marked "ours"):
 *   - "_type" is exactly the v1 URI (the legacy v0.1 is refused: we only emit v1);
 *   - "subject" has 1..INTOTO_MAX_SUBJECTS entries; each has a "name" (ours: required,
 *     1..INTOTO_MAX_NAME bytes) and a "digest" DigestSet of 1..INTOTO_MAX_DIGESTS entries whose
 *     values are strings; ours: "sha256" is required. Values of the NIST-named algorithms
 *     (sha224/256/384/512, sha512_224/256, sha3_224/256/384/512) and git* must be lower-case
 *     hex of the right length; other algorithms are kept as non-empty strings. Other descriptor
 *     fields (uri, content, annotations ...) are type-checked when present, otherwise ignored;
 *   - "predicateType" is a TypeURI of at most INTOTO_MAX_TYPE_URI bytes: an RFC 3986 scheme
 *     followed by ':', scheme and authority lower-case, no whitespace or control characters;
 *   - "predicate" must be an object when present; absent means {} (the spec's "unset");
 *   - unknown top-level fields are ignored; the whole statement is at most INTOTO_MAX_STATEMENT
 *     bytes of strict JSON (see json.h).
 * The predicate is kept re-serialised (json.h rules), not as the original bytes: signatures
 * always cover the exact payload, never this text.
 *
 * Errors: -EINVAL malformed, -EMSGSIZE over a limit, -ENOMEM. ret_* written only on success.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format-limits.h"

#define INTOTO_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define INTOTO_PAYLOAD_TYPE   "application/vnd.in-toto+json" /* DSSE payloadType */

struct intoto_statement;

/* A subject to build: name (NUL-terminated UTF-8) and the artifact's SHA-256. */
struct intoto_subject {
    const char *name;
    uint8_t sha256[32];
};

/*
 * Build canonical Statement bytes: members in the order _type, subject, predicateType,
 * predicate; each subject {"name", "digest": {"sha256"}}; JSON_C_TO_STRING_PLAIN with '/'
 * unescaped. predicate_json must be a strict JSON object (NULL means {}); its member order
 * is kept. The same inputs always give the same bytes. The result (NUL-terminated, *ret_len
 * without the NUL) is checked against every parse rule above, so it always parses back.
 */
int intoto_statement_build(const struct intoto_subject *subjects, size_t n_subjects,
                           const char *predicate_type, const char *predicate_json,
                           size_t predicate_len, char **ret, size_t *ret_len);

/* The "predicateType" rule above, for callers that check a type before building (e.g. a CLI
 * argument): 0, -EINVAL (also for NULL) or -EMSGSIZE. */
int intoto_type_uri_check(const char *s, size_t len);

/* Strict parse of data[0..len). */
/*
 * One DigestSet value: non-empty, at most INTOTO_MAX_DIGEST_TEXT (-EMSGSIZE); for the algorithms
 * in-toto's digest_set.md names (sha256, sha512, gitCommit…) lowercase hex of the right length
 * (-EINVAL); other algorithms are accepted as they are. Shared with SLSA resource descriptors.
 */
int intoto_digest_value_check(const char *alg, const char *v, size_t vlen);

int intoto_statement_parse(const uint8_t *data, size_t len, struct intoto_statement **ret);
struct intoto_statement *intoto_statement_free(struct intoto_statement *st); /* NULL-safe */
void intoto_statement_freep(struct intoto_statement **st);

/* Accessors; pointers are borrowed from st. Index out of range gives NULL. */
size_t intoto_statement_subject_count(const struct intoto_statement *st);
const char *intoto_statement_subject_name(const struct intoto_statement *st, size_t i);
const uint8_t *intoto_statement_subject_sha256(const struct intoto_statement *st, size_t i);
/* DigestSet value for any algorithm name ("sha512", "gitCommit"), NULL when absent. */
const char *intoto_statement_subject_digest(const struct intoto_statement *st, size_t i,
                                            const char *alg);
const char *intoto_statement_predicate_type(const struct intoto_statement *st);
/* The predicate object, serialised (json.h rules). */
const char *intoto_statement_predicate(const struct intoto_statement *st);
/* First subject whose sha256 equals digest: 0 and *ret_index (may be NULL), or -ENOENT. */
int intoto_statement_find_sha256(const struct intoto_statement *st, const uint8_t digest[static 32],
                                 size_t *ret_index);
