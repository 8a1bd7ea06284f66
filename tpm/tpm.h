/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM 2.0 key backend (tpm2-tss ESAPI). The one header of tpm/ that agent/ includes.
 *
 * Keys live in TSS2 PRIVATE KEY PEM files (the "TPM 2.0 key file" format also read by
 * tpm2-openssl) under key_dir; a key's locator is its file's absolute path. Keys are children
 * of a storage primary re-created from a fixed template at open() (see tpm-key.h), have an
 * empty auth and noDA, so the backend never holds an auth value and can never move the TPM's
 * dictionary-attack counter. At most TPM_MAX_TRANSIENT (3) objects, SRK included, are loaded
 * at any time (LRU); all are flushed by free().
 *
 * States (enum hwsign_backend_state): UNAVAILABLE until open() succeeds and after a transport
 * failure (TCTI error, TPM restarted, ESYS state broken): the ESYS and TCTI contexts are torn
 * down, the op fails with -ENODEV, and the next open() rebuilds everything (TPM2_Startup,
 * SRK). OK while usable. LOCKED_OUT after TPM_RC_LOCKOUT (-EKEYREVOKED); open() leaves it as
 * soon as the TPM no longer reports lockout.
 *
 * The process must not die of SIGPIPE when a socket TCTI's peer vanishes: the backend blocks
 * SIGPIPE in the calling thread around every TPM exchange and discards one it caused.
 * tpm2-tss itself may print its own warnings to stderr (its logging, not ours).
 */
#pragma once

#include <stddef.h>

#include "key-backend.h"

struct tpm_config {
    const char *name;    /* instance name (config section) */
    const char *tcti;    /* TCTI config string, e.g. "device:/dev/tpmrm0" or
                            "swtpm:path=/x/tpm.sock"; never taken from the environment */
    const char *key_dir; /* absolute directory for key files (created 0700 if missing) */
};

/*
 * Validates the configuration and creates the instance: key_dir is created (0700) if missing,
 * canonicalised, and must be a directory owned by root or the effective uid and not writable
 * by group or others (-EPERM). Does not touch the TPM: open() does, on the worker thread.
 * -EINVAL for a missing or malformed field. On failure a one-line reason goes to err (when
 * non-NULL; never a secret) and *ret is untouched.
 */
int tpm_backend_new(const struct tpm_config *cfg, struct key_backend **ret, char *err,
                    size_t err_len);
