/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One token of one module: slots, token lookup by label, session and login, key lookup.
 * Internal to pkcs11/. All functions expect the caller to hold p11_lock().
 *
 * Every failing function records the failure in t->rv (the CK_RV, or P11_RV_NONE) and t->err
 * ("C_Login: CKR_PIN_INCORRECT (0xa0)") and returns -errno. A CK_RV for which
 * p11_rv_is_fatal() holds always yields -ENODEV: the caller must p11_token_close() and
 * rebuild with p11_token_open().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libp11.h>
#include <p11-kit/pkcs11.h>

#include "macro.h"
#include "p11-module.h"
#include "secret.h"

#define P11_MAX_ID          64u   /* CKA_ID bytes we accept on keys we resolve */
#define P11_MAX_LABEL       256u  /* CKA_LABEL bytes we accept on keys we resolve */
#define P11_MAX_SLOTS       1024u /* slots we are willing to scan */
#define P11_TOKEN_LABEL_MAX 32u   /* CK_TOKEN_INFO.label is 32 bytes, blank padded */

struct p11_token {
    /* configuration, owned */
    char *module; /* canonical module path */
    char *label;  /* token label */

    /* live state, all NULL/false when closed */
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int n_slots;
    PKCS11_SLOT *slot; /* the slot holding our token (element of slots) */
    CK_SLOT_ID slot_id;
    CK_FUNCTION_LIST *fl; /* same module's function list, for what libp11 0.4.12 lacks */
    bool logged_in;

    /* last failure */
    CK_RV rv;
    char err[P11_ERR_MAX];
};

/*
 * Loads the module, finds the token by label among initialised tokens, opens a RW session and
 * logs in once with pin. -ENODEV if the module cannot be loaded or the token is absent or not
 * unique; -EKEYREJECTED for a wrong PIN (one C_Login was spent); -EKEYREVOKED if the PIN is
 * locked or expired (no C_Login is attempted when the token already reports it locked).
 * On failure everything opened is closed again.
 */
int p11_token_open(struct p11_token *t, const struct secret *pin);

/*
 * Releases the slots (closing their sessions) and the module reference (the last one calls
 * C_Finalize). Safe on a closed or half-open token.
 */
void p11_token_close(struct p11_token *t);

/*
 * Resolves the one private key matching id (if id_len > 0) and/or label (if non-NULL),
 * asking the module directly (authoritative; libp11 0.4.12 keeps deleted keys in its cache),
 * then returns libp11's PKCS11_KEY for it (borrowed: valid until the next key enumeration or
 * close). -ENOKEY if none, -EINVAL if several match. *ret_id (P11_MAX_ID bytes) and
 * *ret_label (new string) receive the key's CKA_ID and CKA_LABEL when non-NULL.
 */
int p11_token_find_key(struct p11_token *t, const uint8_t *id, size_t id_len, const char *label,
                       PKCS11_KEY **ret, uint8_t *ret_id, size_t *ret_id_len, char **ret_label);

/*
 * First object of class cls with CKA_ID id in session h: 0, or -ENOKEY (not recorded in t)
 * when there is none, or another -errno (recorded).
 */
int p11_token_find_object(struct p11_token *t, CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls,
                          const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *ret);

/* Destroys the private and public key objects carrying id (and label, if non-NULL). */
int p11_token_destroy_key(struct p11_token *t, const uint8_t *id, size_t id_len, const char *label);

/*
 * After an operation failed with a CK_RV, asks the module whether our token is still there
 * (C_GetTokenInfo on our slot, same label). Some modules report a vanished token only
 * indirectly: SoftHSM 2.6.1 answers CKR_OBJECT_HANDLE_INVALID once its token directory is
 * gone and only C_GetTokenInfo then fails (CKR_GENERAL_ERROR). Returns 0 if present, else
 * -ENODEV with the probe's result appended to t->err.
 */
int p11_token_probe(struct p11_token *t);

/* Opens/closes a RW session of our own on the token's slot (logged in: login is per token). */
int p11_token_session(struct p11_token *t, CK_SESSION_HANDLE *ret);
void p11_token_session_close(struct p11_token *t, CK_SESSION_HANDLE h);

/*
 * Records a failure of what with rv and returns its -errno (-ENODEV when fatal). Pass
 * P11_RV_NONE for libp11 failures without a CK_RV: those give -EIO.
 */
int p11_token_fail(struct p11_token *t, const char *what, CK_RV rv);
/* Records a failure that has no CK_RV and returns err. */
_printf_(3, 4) int p11_token_failf(struct p11_token *t, int err, const char *fmt, ...);
