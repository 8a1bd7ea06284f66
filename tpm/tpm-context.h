/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCTI + ESYS context of one backend instance (internal to tpm/).
 *
 * The context is embedded in the backend and owns the loader TCTI (Tss2_TctiLdr_Initialize
 * with the configured string only: no environment lookup, no default TCTI) and the ESYS
 * context on top of it. It is not shared between threads: every call comes from the
 * backend's worker thread.
 *
 * Every failing function records the native code in c->rc and a one-line message in c->err
 * ("Esys_Sign: tpm:warn(2.0): ... (0x922)") and returns -errno (tpm-rc.h). A code of the
 * TRANSPORT class also sets c->lost: the owner must tpm_context_close() the context (every
 * ESYS_TR is void afterwards) and tpm_context_open() it again, which re-runs TPM2_Startup.
 *
 * Retries: TPM_CALL() resends a command answered with TPM_RC_RETRY / YIELDED / TESTING after a
 * short, growing pause (TPM_RETRY_FIRST_MS doubling to TPM_RETRY_MAX_MS) until the deadline
 * set by tpm_context_begin(); it never resends anything else, in particular no auth failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "macro.h"
#include "tpm-rc.h"

#define TPM_TCTI_CONF_MAX    512u   /* configured TCTI string */
#define TPM_RETRY_DEFAULT_MS 10000u /* retry budget of one backend operation */
#define TPM_RETRY_FIRST_MS   2u     /* first pause after RETRY / YIELDED / TESTING */
#define TPM_RETRY_MAX_MS     250u   /* pauses double up to this */

struct tpm_context {
    char *tcti_conf; /* owned; set by the backend before the first open */
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;   /* NULL while closed */
    uint64_t retry_ms;    /* retry budget per operation */
    uint64_t deadline_ms; /* CLOCK_MONOTONIC ms; set by tpm_context_begin() */
    bool lost;            /* a transport-class failure happened since open */
    TSS2_RC rc;           /* last failure's native code, 0 if it had none */
    char err[TPM_ERR_MAX];
};

/*
 * Connects: loader TCTI, ESYS context, TPM2_Startup(CLEAR) (TPM_RC_INITIALIZE, "already
 * started", is success). On failure everything opened is closed again; -ENODEV when the TPM
 * cannot be reached.
 */
int tpm_context_open(struct tpm_context *c);
/* Finalizes ESYS and TCTI (sends nothing to the TPM). Safe on a closed context. */
void tpm_context_close(struct tpm_context *c);
static inline bool tpm_context_is_open(const struct tpm_context *c)
{
    return c->esys != NULL;
}

/* Starts an operation: its retry deadline is now + c->retry_ms. */
void tpm_context_begin(struct tpm_context *c);

/*
 * After a call answered rc: true (after sleeping) if rc is of the RETRY class and the
 * deadline leaves room for another attempt. *attempt counts attempts (start at 0).
 */
bool tpm_context_retry(struct tpm_context *c, TSS2_RC rc, unsigned *attempt);

/* Records a failed call what/rc; returns its -errno. 0 if rc is success. */
int tpm_context_check(struct tpm_context *c, const char *what, TSS2_RC rc);
/* Records a failure without a TSS2_RC and returns err. */
_printf_(3, 4) int tpm_context_failf(struct tpm_context *c, int err, const char *fmt, ...);

/* Runs call (an expression giving a TSS2_RC) with retries; 0 or -errno, recorded in c. */
#define TPM_CALL(c, what, call)                                                                    \
    ({                                                                                             \
        TSS2_RC _rc;                                                                               \
        unsigned _attempt = 0;                                                                     \
        do                                                                                         \
            _rc = (call);                                                                          \
        while (tpm_context_retry((c), _rc, &_attempt));                                            \
        tpm_context_check((c), (what), _rc);                                                       \
    })

/* One TPM property (TPM2_CAP_TPM_PROPERTIES), e.g. TPM2_PT_LOCKOUT_COUNTER, TPM2_PT_PERMANENT. */
int tpm_context_property(struct tpm_context *c, uint32_t prop, uint32_t *ret);
/* Number of transient objects loaded on this connection (TPM2_CAP_HANDLES, TPM2_HT_TRANSIENT). */
int tpm_context_count_transient(struct tpm_context *c, uint32_t *ret);
/* Flushes a transient object; failures are ignored (the TPM drops them on restart anyway). */
void tpm_context_flush(struct tpm_context *c, ESYS_TR *handle);
