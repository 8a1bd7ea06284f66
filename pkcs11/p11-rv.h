/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CK_RV translation, done once at the pkcs11/ boundary (STYLE 6): CK_RV -> -errno, CK_RV ->
 * its name, and the CK_RV that libp11 left on the OpenSSL error queue.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

/* No CK_RV was found on the error queue (libp11 failed for another reason, e.g. memory). */
#define P11_RV_NONE ((CK_RV)0xffffffffUL)

/*
 * -errno for a CK_RV, from the shared set: -ENOKEY (object gone), -EKEYREJECTED (PIN
 * incorrect/invalid), -EKEYREVOKED (PIN locked or expired), -ENODEV (token, device, session
 * or library gone: see p11_rv_is_fatal), -EOPNOTSUPP (mechanism, key type or size refused),
 * -ENOMEM, -EINVAL (bad arguments or templates), -EBUSY (operation active), -EIO otherwise.
 * CKR_OK gives 0, P11_RV_NONE gives -EIO.
 */
int p11_rv_to_errno(CK_RV rv);

/* "CKR_PIN_INCORRECT"; NULL for values not in PKCS#11 v2.40 (callers print the hex). */
const char *p11_rv_name(CK_RV rv);

/*
 * True when rv means the token, its sessions or the library state are gone
 * (CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID, ...): the backend
 * tears everything down and rebuilds it on the next open().
 */
bool p11_rv_is_fatal(CK_RV rv);

/*
 * Pops the whole OpenSSL error queue of this thread and returns the last CK_RV libp11 pushed
 * (libp11 pushes errors under its own "CKR" library code with the CK_RV as reason), or
 * P11_RV_NONE. The queue is empty afterwards.
 */
CK_RV p11_rv_take(void);

/* Writes "what: CKR_NAME (0xhex)" (or "what: CK_RV 0xhex") into buf; always NUL-terminated. */
void p11_rv_format(char *buf, size_t len, const char *what, CK_RV rv);
