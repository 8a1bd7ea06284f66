/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one interface between the agent core and a key backend (PKCS#11, TPM).
 *
 * A backend instance is created by the backend's own constructor (p11_backend_new, ...) and
 * starts with a struct key_backend. Backends know nothing of peers, sockets or formats: they
 * take a key locator string (a pkcs11: URI, a TPM key file path) and bytes.
 *
 * Threading: the agent calls every op except health() from one dedicated worker thread per
 * instance, so ops need not be thread-safe among themselves; health() may be called from any
 * thread at any time. Ops may block (hardware); the agent enforces deadlines around them.
 *
 * Errors are -errno from the shared set: -ENOKEY (no such key), -EACCES / -EKEYREJECTED (PIN
 * rejected: never retried), -EKEYREVOKED (PIN locked / TPM lockout), -ENODEV (token or device
 * absent), -EOPNOTSUPP (algorithm or scheme unsupported), -EEXIST, -EINVAL, -ENOMEM, -EIO.
 * A backend records its native code (CK_RV, TSS2_RC) and a message for the last failure,
 * readable with last_error() from the worker thread for logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>

struct key_backend;

struct key_backend_ops {
    const char *kind; /* "pkcs11", "tpm" */

    /*
     * Bring the device up: load the module, find the token, log in (or open the TPM). Called
     * from the worker thread at start and again, with backoff, while health() is not OK, and
     * after an op failed with -ENODEV. Must be idempotent and tear down half-open state itself.
     * Returns 0 when usable. A rejected PIN returns -EKEYREJECTED and the backend stays in
     * HWSIGN_BACKEND_PIN_REJECTED: open() then fails at once without another login attempt.
     */
    int (*open)(struct key_backend *b);

    /* Generate a new key named name (a label hint); returns its locator and DER SPKI. */
    int (*create)(struct key_backend *b, const char *name, enum hwsign_alg alg, char **ret_locator,
                  uint8_t **ret_spki, size_t *ret_spki_len);
    /*
     * Resolve a locator supplied by an administrator (key add): checks a private key exists,
     * returns a canonical locator, its algorithm and DER SPKI.
     */
    int (*import)(struct key_backend *b, const char *locator, char **ret_locator,
                  enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len);
    /*
     * Sign a digest with the key at locator. sig has room for *sig_len bytes; on success
     * *sig_len is set to the DER signature length. The agent verifies the result itself.
     */
    int (*sign)(struct key_backend *b, const char *locator, enum hwsign_alg alg,
                enum hwsign_hash hash, enum hwsign_scheme scheme, const uint8_t *digest,
                size_t digest_len, uint8_t *sig, size_t *sig_len);
    /* Destroy the key on the device (key delete --destroy). */
    int (*destroy)(struct key_backend *b, const char *locator);
    /* Current state and a short human detail ("token 'demo' present, logged in"). Any thread. */
    enum hwsign_backend_state (*health)(struct key_backend *b, char *detail, size_t detail_len);
    /* Text of the last failure with its native code, for logs ("CKR_PIN_INCORRECT (0xa0)"). */
    const char *(*last_error)(struct key_backend *b);
    /* Release everything (sessions, contexts, secrets). Accepts NULL. */
    void (*free)(struct key_backend *b);
};

struct key_backend {
    const struct key_backend_ops *ops;
    char name[HWSIGN_MAX_NAME + 1]; /* instance name from the config section */
};
