/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named limits for lib/format (STYLE 13): every size an untrusted DSSE envelope, in-toto
 * Statement or Sigstore bundle can influence is checked against one of these before anything
 * is allocated for it.
 *
 * Sizing: a Statement is at most what the agent signs when it is sent in chunks
 * (HWSIGN_MAX_STAGED_STATEMENT, 16 MiB: an ML model manifest of ~100,000 files). Its base64 is
 * 21.4 MiB, so an envelope carrying one is bounded at 22 MiB of JSON text and a bundle, which
 * adds the key, log entries and proofs, at 23 MiB. Parsing such a document takes memory in
 * proportion; the CLI reads one bundle at a time.
 */
#pragma once

#define FORMAT_MAX_JSON_DEPTH 32u /* nesting of any JSON document we parse */
/*
 * Memory json-c may take for one parsed document, estimated from the text before parsing
 * (lib/format/json.c): a parse that would exceed it fails with -EMSGSIZE. 16 MiB of `{}` would
 * otherwise take 4 GiB. 96 MiB admits a model manifest of 65,536 resources with names of up
 * to ~100 bytes (estimated ~93 MiB) and keeps the agent, which parses one statement at a time,
 * inside its MemoryMax (256 MiB) with 32 MiB of staged statements and their envelopes.
 */
#define FORMAT_MAX_JSON_COST (96u * 1024u * 1024u)
#define JSON_COST_OBJECT     800u /* bytes json-c holds per object (hash table of 16) */
#define JSON_COST_ARRAY      160u /* per array */
#define JSON_COST_SCALAR     80u  /* per string, number, literal or member key */

#define INTOTO_MAX_STATEMENT   (16u * 1024u * 1024u) /* serialised Statement (DSSE payload) */
#define INTOTO_MAX_SUBJECTS    1024u                 /* entries in "subject" */
#define INTOTO_MAX_NAME        4096u                 /* bytes of one subject "name" */
#define INTOTO_MAX_TYPE_URI    1024u                 /* bytes of "predicateType" */
#define INTOTO_MAX_DIGESTS     16u                   /* algorithms in one DigestSet */
#define INTOTO_MAX_DIGEST_ALG  64u                   /* bytes of one DigestSet key */
#define INTOTO_MAX_DIGEST_TEXT 256u                  /* bytes of one DigestSet value */

#define DSSE_MAX_PAYLOAD      INTOTO_MAX_STATEMENT  /* decoded payload bytes */
#define DSSE_MAX_PAYLOAD_TYPE 256u                  /* bytes of "payloadType" */
#define DSSE_MAX_KEYID        256u                  /* bytes of one "keyid" */
#define DSSE_MAX_SIG          1024u                 /* decoded signature (= HWSIGN_MAX_SIG) */
#define DSSE_MAX_SIGNATURES   8u                    /* entries in "signatures" */
#define DSSE_MAX_ENVELOPE     (22u * 1024u * 1024u) /* envelope JSON text */

#define BUNDLE_MAX_JSON         (23u * 1024u * 1024u) /* bundle JSON text */
#define BUNDLE_MAX_HINT         256u /* bytes of verificationMaterial.publicKey.hint */
#define BUNDLE_MAX_MEDIA_TYPE   128u /* bytes of "mediaType" */
#define BUNDLE_MAX_TLOG_ENTRIES 32u  /* tlogEntries accepted (and not inspected) */
