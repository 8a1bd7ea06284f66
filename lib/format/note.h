/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C2SP signed notes (c2sp.org/signed-note, FORMATS 7.1): parsing, signature lines, key IDs,
 * verifier keys ("vkeys") and verification with Ed25519 (type 0x01) and ECDSA (type 0x02,
 * DER signature over SHA-256 of the text). Pure: no I/O, no logging.
 *
 * Every function returns 0 (or a documented non-negative count) on success, -errno on
 * failure, and writes its ret_* outputs only on success:
 *   -EINVAL   malformed input, or a NULL argument
 *   -EMSGSIZE input over one of the NOTE_MAX_* limits
 *   -ENOMEM   allocation failure
 *   (note_verify adds -EBADMSG, -ENOKEY and -EOPNOTSUPP, see there)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define NOTE_MAX_SIZE       (64u * 1024u) /* bytes of a whole note, text and signatures */
#define NOTE_MAX_SIGNATURES 64u           /* signature lines (the spec requires >= 16) */
#define NOTE_MAX_NAME       256u          /* bytes of a key name */
#define NOTE_MAX_SIG        8192u         /* decoded key ID + signature (PQ ones near 5 kB) */
#define NOTE_MAX_VKEY_KEY   1024u         /* decoded sigtype + public key of a vkey */
#define NOTE_KEYID_SIZE     4u

#define NOTE_SIGTYPE_ED25519 0x01
#define NOTE_SIGTYPE_ECDSA   0x02

/*
 * True if s[0..len) is valid UTF-8 (shortest form, no surrogates, at most U+10FFFF) with no
 * control character below U+0020 other than '\n'. The encoding rule of the whole note.
 */
bool note_text_valid(const char *s, size_t len);
/* True if name is a valid key name: 1..NOTE_MAX_NAME bytes of valid note text with no Unicode
 * space, no '+' and no '\n'. */
bool note_name_valid(const char *name, size_t len);

struct note;
/*
 * Parses a signed note: the text (ending in '\n'), the last blank line, then one or more
 * signature lines "— NAME BASE64(keyid[4] || sig)\n" (sig at least one byte). The whole note
 * must satisfy note_text_valid. Only syntax is checked; see note_verify. -EINVAL, -EMSGSIZE,
 * -ENOMEM. On success *ret owns copies of everything.
 */
int note_parse(const char *s, size_t len, struct note **ret);
struct note *note_free(struct note *n);
static inline void note_freep(struct note **n)
{
    *n = note_free(*n);
}
/* The signed text (with its final '\n', without the blank line), NUL-terminated, borrowed. */
const char *note_text(const struct note *n, size_t *ret_len);
size_t note_n_signatures(const struct note *n);
/* Signature line i: borrowed NUL-terminated name, key ID, signature bytes (after the key ID).
 * -ERANGE if i >= note_n_signatures(). */
int note_signature(const struct note *n, size_t i, const char **ret_name, uint32_t *ret_keyid,
                   const uint8_t **ret_sig, size_t *ret_sig_len);

/*
 * Formats one signature line "— NAME BASE64(keyid || sig)\n" into a new NUL-terminated
 * string. A note is then text || "\n" || line(s). -EINVAL for an invalid name or an empty
 * signature, -EMSGSIZE over the limits, -ENOMEM.
 */
int note_format_signature(const char *name, uint32_t keyid, const uint8_t *sig, size_t sig_len,
                          char **ret_line, size_t *ret_len);

/* Key ID by the spec's generic formula: SHA-256(name || 0x0A || sigtype || key)[:4] as a
 * big-endian uint32 (type 0x01 Ed25519 uses it with the 32-byte raw key). */
int note_key_id(const char *name, uint8_t sigtype, const uint8_t *key, size_t key_len,
                uint32_t *ret);
/* Key ID of a type 0x02 ECDSA key: SHA-256(DER SubjectPublicKeyInfo)[:4], big-endian. */
int note_key_id_ecdsa(const uint8_t *spki, size_t spki_len, uint32_t *ret);

/* A verifier key "NAME+hex8(keyid)+base64(sigtype || key)". */
struct note_vkey {
    char *name;
    uint32_t keyid;
    uint8_t sigtype;
    uint8_t *key; /* public key encoding after the type byte (raw Ed25519, or DER SPKI) */
    size_t key_len;
};
/* Parses a vkey: valid name, exactly 8 lowercase hex digits, standard padded base64 of at
 * least two bytes. The key ID is not recomputed (the formula is only RECOMMENDED). */
int note_vkey_parse(const char *s, size_t len, struct note_vkey **ret);
struct note_vkey *note_vkey_free(struct note_vkey *k);
static inline void note_vkey_freep(struct note_vkey **k)
{
    *k = note_vkey_free(*k);
}
/* Formats a vkey into a new NUL-terminated string. -EINVAL for an invalid name or empty key. */
int note_vkey_format(const char *name, uint32_t keyid, uint8_t sigtype, const uint8_t *key,
                     size_t key_len, char **ret);

/* A trusted key: a signature line matches it when both name and key ID are equal. The key
 * type selects the algorithm: ED25519 -> 0x01 over the text, EC -> 0x02 DER over SHA-256. */
struct note_verifier {
    const char *name;
    uint32_t keyid;
    EVP_PKEY *pkey; /* borrowed */
};

/*
 * Applies the signed-note verification rules: signatures whose (name, key ID) matches no
 * verifier are ignored; every matching one must verify; at least one must. Returns the number
 * (>= 1) of distinct verifiers with a valid signature, and if ret_verified is non-NULL sets
 * ret_verified[j] (n_keys entries) for each of them. Errors:
 *   -EBADMSG     a signature from a known key failed to verify (the whole note is rejected)
 *   -ENOKEY      no signature from a known key
 *   -EOPNOTSUPP  a matching verifier has a key type other than Ed25519 or EC
 *   -EINVAL      NULL arguments, or a verifier with a NULL name or pkey
 */
int note_verify(const struct note *n, const struct note_verifier *keys, size_t n_keys,
                bool *ret_verified);
