/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM backend instance behind struct key_backend (ops table in tpm-backend.c; the public
 * constructor is declared in tpm.h). The functions below are for tests and diagnostics; the
 * agent uses only the ops table.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tpm.h"

#define TPM_MAX_TRANSIENT   3u                       /* loaded objects, SRK included */
#define TPM_MAX_LOADED_KEYS (TPM_MAX_TRANSIENT - 1u) /* keys besides the SRK (LRU) */

/* Retry budget per operation for RETRY / YIELDED / TESTING (default TPM_RETRY_DEFAULT_MS). */
void tpm_backend_set_retry_ms(struct key_backend *kb, uint64_t ms);

/* Keys currently loaded (SRK not counted). */
size_t tpm_backend_loaded_keys(struct key_backend *kb);

/*
 * Asks the TPM, over the backend's own connection (a swtpm socket serves one client at a
 * time), how many transient objects are loaded and the value of TPM2_PT_LOCKOUT_COUNTER.
 * -ENODEV when not open; a transport failure tears down as for any op.
 */
int tpm_backend_probe(struct key_backend *kb, uint32_t *ret_transient, uint32_t *ret_lockout);
