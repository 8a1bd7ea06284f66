/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key import/export and signature checks on OpenSSL 3 (EVP only, no deprecated APIs).
 * Public keys travel as DER SubjectPublicKeyInfo ("SPKI"). Signatures are DER (ECDSA
 * Ecdsa-Sig-Value) or raw PKCS#1 for RSA.
 *
 * Common rules: every SPKI argument must be exactly one DER SubjectPublicKeyInfo of at most
 * HWSIGN_MAX_SPKI bytes with no trailing data (-EINVAL otherwise). Returned buffers are
 * malloc'd (free() them). Failures inside OpenSSL that input cannot explain are
 * -ENOTRECOVERABLE; the OpenSSL error queue is left for the caller to log. Outputs are
 * written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <hwsign/protocol.h>

/* "ecdsa-p256" etc. <-> enum; unknown name gives HWSIGN_ALG_UNKNOWN. */
enum hwsign_alg alg_from_name(const char *name);
const char *alg_name(enum hwsign_alg alg); /* NULL for unknown */
/* Digest length of a hash id (32/48/64), 0 for unknown. */
size_t hash_len(enum hwsign_hash h);
const char *hash_name(enum hwsign_hash h); /* "sha256"... NULL for unknown */

/* Which algorithm a DER SPKI holds (curve / modulus size). -EINVAL if unparsable or another alg. */
int spki_alg(const uint8_t *spki, size_t len, enum hwsign_alg *ret);
/* DER SPKI -> PEM "PUBLIC KEY" text (NUL-terminated). */
int spki_to_pem(const uint8_t *spki, size_t len, char **ret_pem);
/*
 * PEM "PUBLIC KEY" (or DER SPKI) text -> DER SPKI. -EINVAL if not a public key. Input is PEM
 * when it contains "-----BEGIN " (the first PUBLIC KEY block is used; encrypted PEM is refused,
 * never prompted for), DER otherwise; at most 2 * HWSIGN_MAX_SPKI + 256 bytes. The result is
 * re-encoded, so it is canonical DER.
 */
int spki_from_pem(const uint8_t *pem, size_t len, uint8_t **ret_spki, size_t *ret_len);
/*
 * OpenSSH one-line public key ("ecdsa-sha2-nistp256 AAAA... comment"), NUL-terminated, no
 * newline. P-256 and P-384 keys (uncompressed point) and RSA keys of any size ("ssh-rsa");
 * other keys -EOPNOTSUPP. comment may be NULL or empty (no comment); a comment with control
 * characters or longer than HWSIGN_MAX_TEXT is -EINVAL.
 */
int spki_to_ssh(const uint8_t *spki, size_t len, const char *comment, char **ret);
/*
 * SHA-256 of the DER SPKI as lower-case hex (key fingerprint / Sigstore publicKey hint). The
 * bytes are hashed as given, not parsed.
 */
int spki_fingerprint(const uint8_t *spki, size_t len, char **ret_hex);

/*
 * Verify sig over a precomputed digest with the key in spki. scheme selects RSA-PSS for RSA
 * keys (salt length = digest length). 0 if valid, -EBADMSG if the signature does not verify,
 * other -errno on malformed input.
 *
 * -EBADMSG also covers an empty signature and one that is not even valid DER.
 * -EINVAL: unknown hash, digest_len != hash_len(hash), unknown scheme, RSA-PSS with an EC key,
 * or an unparsable SPKI. -EMSGSIZE: sig_len > HWSIGN_MAX_SIG. -EOPNOTSUPP: neither EC nor RSA.
 * RSA with HWSIGN_SCHEME_DEFAULT is RSASSA-PKCS1-v1_5.
 */
int sig_verify_digest(const uint8_t *spki, size_t spki_len, enum hwsign_hash hash,
                      enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                      const uint8_t *sig, size_t sig_len);
/*
 * The same with a key already parsed by spki_parse. Decoding an SPKI costs more than the
 * verification itself in OpenSSL 3, so long-lived holders (the agent's key store) parse once.
 * pkey is only read: one key may be used from several threads at once.
 */
int sig_verify_digest_pkey(EVP_PKEY *pkey, enum hwsign_hash hash, enum hwsign_scheme scheme,
                           const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                           size_t sig_len);
/* DER SPKI -> EVP_PKEY (EC or RSA). -EINVAL if unparsable. */
int spki_parse(const uint8_t *spki, size_t len, EVP_PKEY **ret);

/*
 * ECDSA raw r||s (each half n bytes) -> DER Ecdsa-Sig-Value into a new buffer. -EINVAL if
 * raw_len is 0, odd or over 2 * 66 (P-521), or r or s is zero.
 */
int ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t **ret_der, size_t *ret_len);
/* Read size of the streaming hashes below: memory stays bounded whatever the input size. */
#define HASH_FD_CHUNK (64u * 1024u)
/*
 * SHA-256/384/512 of everything readable from fd, from its current offset to end of file,
 * streaming through one HASH_FD_CHUNK buffer (files, pipes, sockets). A read interrupted by a
 * signal (EINTR) is retried; fd is left open, at end of file. The digest (hash_len(h) bytes)
 * goes to ret_digest, which has room for cap bytes. 0 on success, -EINVAL for an unknown hash,
 * -ENOBUFS if cap < hash_len(h), -EBADF for fd < 0, read errors as -errno (-EISDIR, -EBADF for
 * a write-only fd, -EAGAIN for an empty non-blocking pipe...), -ENOMEM.
 */
int hash_fd(int fd, enum hwsign_hash h, uint8_t *ret_digest, size_t cap);
/*
 * The same, but -EFBIG as soon as more than max_bytes have been read: reading stops there (at
 * most one chunk beyond the limit is consumed), so a growing file or an endless pipe cannot
 * keep the caller busy. hash_fd() is hash_fd_limited() with no limit (UINT64_MAX).
 */
int hash_fd_limited(int fd, enum hwsign_hash h, uint64_t max_bytes, uint8_t *ret_digest,
                    size_t cap);
/*
 * hash_fd() of the file at path, opened O_RDONLY | O_CLOEXEC | O_NOCTTY. Open errors as
 * -errno (-ENOENT, -EACCES...); a directory opens but does not read: -EISDIR.
 */
int hash_file(const char *path, enum hwsign_hash h, uint8_t *ret_digest, size_t cap);
/* Same for a buffer in memory (data may be NULL when len is 0). */
int hash_buffer(enum hwsign_hash h, const void *data, size_t len, uint8_t *ret_digest, size_t cap);
