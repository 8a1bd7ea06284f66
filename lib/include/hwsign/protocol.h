/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign wire protocol: message ids, error codes and every limit a peer can influence.
 *
 * This header is the single home of the protocol's named limits (STYLE 13). It is installed
 * and shared by the agent, the client library and the CLI. docs/protocol.md describes the
 * framing and each message's body.
 */
#pragma once

#include <stdint.h>

#define HWSIGN_PROTOCOL_VERSION 1

/*
 * Framing: every message is a 4-byte big-endian length followed by that many body bytes.
 * The body starts with a 1-byte type and a 4-byte request id chosen by the client and echoed
 * in the reply. The length is checked against HWSIGN_MAX_MSG before any body byte is buffered.
 */
#define HWSIGN_FRAME_HEADER 4u
#define HWSIGN_MSG_HEADER   5u            /* type + request id */
#define HWSIGN_MAX_MSG      (64u * 1024u) /* largest body either side will send or accept */

/* Limits on fields inside messages. */
#define HWSIGN_MAX_NAME   64u   /* key and backend names: [A-Za-z0-9._-], first char alnum */
#define HWSIGN_MAX_URI    1024u /* key locator (pkcs11: URI or TPM key file) */
#define HWSIGN_MAX_ALG    32u   /* algorithm name ("ecdsa-p256") */
#define HWSIGN_MAX_TEXT   1024u /* error messages, health details, policy lists */
#define HWSIGN_MAX_SPKI   2048u /* DER SubjectPublicKeyInfo */
#define HWSIGN_MAX_SIG    1024u /* DER signature (RSA-4096 fits) */
#define HWSIGN_MAX_DIGEST 64u   /* SHA-512 */
#define HWSIGN_MAX_KEYS   256u  /* keys one agent manages; a full listing fits one frame */
/* In-toto statement bytes in one SIGN_STATEMENT frame: small enough that the reply (the DSSE
 * envelope, i.e. the statement in base64, plus the signature and a log entry) fits one frame. */
#define HWSIGN_MAX_STATEMENT    (40u * 1024u)
#define HWSIGN_MAX_PAYLOAD_TYPE 128u /* DSSE payloadType */
#define HWSIGN_MAX_BACKENDS     16u  /* configured backend instances */

#define HWSIGN_LOG_INDEX_NONE    UINT64_MAX    /* in replies: the signature was not logged */
#define HWSIGN_MAX_LOG_ENTRY     (8u * 1024u)  /* a signing-log entry body in a signing reply */
#define HWSIGN_MAX_LOG_PROOF     64u           /* hashes in an inclusion proof */
#define HWSIGN_MAX_NOTE          (16u * 1024u) /* a signed checkpoint note */
#define HWSIGN_MAX_CLAIMS        HWSIGN_MAX_STATEMENT /* SIGN_PROVENANCE claims (JSON) */
#define HWSIGN_NONCE_LEN         32u                  /* TPM qualifyingData (a SHA-256) */
#define HWSIGN_MAX_PCR_SELECTION 256u                 /* "sha256:0-7+sha1:0,1" */
#define HWSIGN_MAX_TPM_BLOB      (8u * 1024u) /* an attestation, signature, PCR file or public area */

/*
 * Staged statements (STATEMENT_BEGIN / _DATA / _SIGN): a statement too large for one frame is
 * sent in chunks and held by the agent until it is signed. The agent holds at most
 * HWSIGN_MAX_STAGED_TOTAL bytes of staged statements at once, counting them until their
 * signing job ends; a STATEMENT_BEGIN that would exceed it is refused with BUSY.
 */
#define HWSIGN_MAX_STAGED_STATEMENT (16u * 1024u * 1024u) /* one staged statement */
#define HWSIGN_MAX_STAGE_CHUNK      (60u * 1024u)         /* data bytes in one STATEMENT_DATA */
#define HWSIGN_MAX_STAGED_TOTAL     (32u * 1024u * 1024u) /* all staged statements together */

/* Agent-side resource limits (defaults; some can be lowered in the config). */
#define HWSIGN_MAX_CONNECTIONS 256u /* concurrent client connections */
#define HWSIGN_MAX_OUTBUF                                                                          \
    (256u * 1024u) /* queued reply bytes per connection before it is dropped */
#define HWSIGN_IDLE_TIMEOUT_MS     5000u  /* a connection without progress is dropped */
#define HWSIGN_REQUEST_DEADLINE_MS 10000u /* a device request not finished by then fails "busy" */
#define HWSIGN_MAX_QUEUE           1024u  /* requests waiting for one device */
#define HWSIGN_MAX_PIN             256u   /* PIN / auth value bytes */
#define HWSIGN_MAX_CONFIG          (256u * 1024u) /* config file size */
#define HWSIGN_MAX_GROUPS          64u            /* supplementary groups read per peer */
#define HWSIGN_MAX_POLICY_ENTRIES  64u            /* users or groups named by one key's policy */

/* Request types (client -> agent). A successful reply has type (request | 0x80). */
enum hwsign_msg_type {
    HWSIGN_MSG_STATUS = 1,
    HWSIGN_MSG_LIST_KEYS = 2,
    HWSIGN_MSG_KEY_INFO = 3,
    HWSIGN_MSG_SIGN_DIGEST = 4,
    HWSIGN_MSG_SIGN_STATEMENT = 5,   /* in-toto statement -> DSSE envelope (agent computes PAE) */
    HWSIGN_MSG_LOG_CHECKPOINT = 6,   /* u8 fresh -> signed checkpoint note */
    HWSIGN_MSG_LOG_PROOF = 7,        /* u64 index -> checkpoint + inclusion proof of that record */
    HWSIGN_MSG_SIGN_PROVENANCE = 8,  /* build claims -> SLSA provenance the agent completes */
    HWSIGN_MSG_TPM_QUOTE = 9,        /* nonce + PCR selection -> TPM2_Quote by the agent's AK */
    HWSIGN_MSG_KEY_CERTIFY = 10,     /* key + nonce -> TPM2_Certify of a TPM key by the AK */
    HWSIGN_MSG_STATEMENT_BEGIN = 11, /* key + payload type + length: start staging a statement */
    HWSIGN_MSG_STATEMENT_DATA = 12,  /* the next chunk of the staged statement */
    HWSIGN_MSG_STATEMENT_SIGN =
            13, /* sign the staged statement -> signature (client builds DSSE) */
    HWSIGN_MSG_KEY_CREATE = 16,
    HWSIGN_MSG_KEY_ADD = 17,
    HWSIGN_MSG_KEY_DELETE = 18,

    HWSIGN_MSG_FAILURE = 0x7f, /* reply: u32 error code, string message */
    HWSIGN_MSG_REPLY = 0x80,   /* bit set on every successful reply */
};

/* Error codes carried in HWSIGN_MSG_FAILURE. Stable: never renumber. */
enum hwsign_error {
    HWSIGN_ERR_MALFORMED = 1,        /* request could not be decoded */
    HWSIGN_ERR_UNSUPPORTED = 2,      /* unknown or reply-only message type */
    HWSIGN_ERR_DENIED = 3,           /* peer not authorised for this request */
    HWSIGN_ERR_NO_KEY = 4,           /* no key of that name */
    HWSIGN_ERR_EXISTS = 5,           /* key name already used */
    HWSIGN_ERR_UNAVAILABLE = 6,      /* backend or device not available now */
    HWSIGN_ERR_BUSY = 7,             /* device queue full or deadline passed */
    HWSIGN_ERR_PIN = 8,              /* PIN rejected or locked; never retried */
    HWSIGN_ERR_INTERNAL = 9,         /* unexpected failure inside the agent */
    HWSIGN_ERR_TOO_LARGE = 10,       /* a field or frame exceeds its limit */
    HWSIGN_ERR_INVALID = 11,         /* well-formed but invalid argument */
    HWSIGN_ERR_SHUTDOWN = 12,        /* agent is stopping */
    HWSIGN_ERR_LIMIT = 13,           /* too many keys, connections or queued requests */
    HWSIGN_ERR_BAD_SIGNATURE = 14,   /* device produced a signature that does not verify */
    HWSIGN_ERR_UNSUPPORTED_ALG = 15, /* backend cannot do this algorithm */
    _HWSIGN_ERR_MAX,
};

/* Digest algorithms in SIGN_DIGEST. */
enum hwsign_hash {
    HWSIGN_HASH_SHA256 = 1,
    HWSIGN_HASH_SHA384 = 2,
    HWSIGN_HASH_SHA512 = 3,
};

/* Signature schemes in SIGN_DIGEST. DEFAULT is ECDSA for EC keys, RSASSA-PKCS1-v1_5 for RSA. */
enum hwsign_scheme {
    HWSIGN_SCHEME_DEFAULT = 0,
    HWSIGN_SCHEME_RSA_PSS = 1,
};

/* Key algorithms. Wire form is the name string ("ecdsa-p256"). */
enum hwsign_alg {
    HWSIGN_ALG_UNKNOWN = 0,
    HWSIGN_ALG_ECDSA_P256 = 1,
    HWSIGN_ALG_ECDSA_P384 = 2,
    HWSIGN_ALG_RSA_3072 = 3,
};

/* Backend health as reported by STATUS. */
enum hwsign_backend_state {
    HWSIGN_BACKEND_OK = 0,
    HWSIGN_BACKEND_UNAVAILABLE = 1,  /* device or token missing; the agent keeps retrying */
    HWSIGN_BACKEND_PIN_REJECTED = 2, /* login refused; fix the PIN and restart the agent */
    HWSIGN_BACKEND_LOCKED_OUT = 3,   /* TPM dictionary-attack lockout or PIN locked */
};
