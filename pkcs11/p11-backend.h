/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PKCS#11 backend instance behind struct key_backend (ops table in p11-backend.c; the
 * public constructor is declared in pkcs11.h).
 *
 * States: UNAVAILABLE until open() succeeds and again after any fatal token error (every
 * cached key and the libp11 context are dropped; the next open() rebuilds from scratch);
 * OK while logged in; PIN_REJECTED and LOCKED_OUT are final for the instance, so a wrong PIN
 * costs exactly one C_Login: open() then fails at once with -EKEYREJECTED / -EKEYREVOKED.
 */
#pragma once

#include "pkcs11.h"

#define P11_KEY_CACHE_MAX HWSIGN_MAX_KEYS /* private keys kept resolved for signing */
