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
