/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <tss2/tss2_tctildr.h>

#include "tpm-cleanup.h"
#include "tpm-context.h"

/* TPM2_TRANSIENT_FIRST, spelled unsigned: the tss2 macro shifts (UINT8)0x80 as an int (UB). */
#define TRANSIENT_FIRST 0x80000000u

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000u), .tv_nsec = (long)(ms % 1000u) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int tpm_context_check(struct tpm_context *c, const char *what, TSS2_RC rc)
{
    if (rc == TSS2_RC_SUCCESS)
        return 0;
    c->rc = rc;
    tpm_rc_format(c->err, sizeof(c->err), what, rc);
    if (tpm_rc_classify(rc) == TPM_RC_CLASS_TRANSPORT)
        c->lost = true;
    return tpm_rc_to_errno(rc);
}

int tpm_context_failf(struct tpm_context *c, int err, const char *fmt, ...)
{
    va_list ap;

    c->rc = 0;
    va_start(ap, fmt);
    if (vsnprintf(c->err, sizeof(c->err), fmt, ap) < 0)
        c->err[0] = '\0';
    va_end(ap);
    return err;
}

void tpm_context_begin(struct tpm_context *c)
{
    c->deadline_ms = now_ms() + c->retry_ms;
}

bool tpm_context_retry(struct tpm_context *c, TSS2_RC rc, unsigned *attempt)
{
    uint64_t now = now_ms(), pause;

    if (!tpm_rc_is_retry(rc) || now >= c->deadline_ms)
        return false;
    pause = *attempt >= 8 ? TPM_RETRY_MAX_MS
                          : MIN(TPM_RETRY_FIRST_MS << *attempt, TPM_RETRY_MAX_MS);
    /* Never sleep past the deadline; the last attempt is made right at it. */
    sleep_ms(MIN(pause, c->deadline_ms - now));
    (*attempt)++;
    return true;
}

int tpm_context_open(struct tpm_context *c)
{
    _cleanup_(Tss2_TctiLdr_Finalizep) TSS2_TCTI_CONTEXT *tcti = NULL;
    _cleanup_(Esys_Finalizep) ESYS_CONTEXT *esys = NULL;
    TSS2_RC rc;
    int r;

    tpm_context_close(c);
    if (!c->tcti_conf || !c->tcti_conf[0])
        return tpm_context_failf(c, -EINVAL, "no TCTI configured");
    rc = Tss2_TctiLdr_Initialize(c->tcti_conf, &tcti);
    if (rc != TSS2_RC_SUCCESS) {
        (void)tpm_context_check(c, "connecting to the TPM (Tss2_TctiLdr_Initialize)", rc);
        c->lost = false;
        return -ENODEV; /* whatever the loader says: no usable TPM behind this string */
    }
    rc = Esys_Initialize(&esys, tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        r = tpm_context_check(c, "Esys_Initialize", rc);
        c->lost = false;
        return r == -ENOMEM ? r : -ENODEV;
    }
    c->lost = false;
    /* A TPM restarted without startup-clear (or a fresh chip) needs it; others answer INITIALIZE.
     */
    rc = TSS2_RC_SUCCESS;
    r = TPM_CALL(c, "Esys_Startup",
                 (rc = Esys_Startup(esys, TPM2_SU_CLEAR),
                  tpm_rc_base(rc) == TPM2_RC_INITIALIZE ? TSS2_RC_SUCCESS : rc));
    if (r < 0) {
        c->lost = false;
        return r == -ENOMEM || r == -EKEYREVOKED ? r : -ENODEV;
    }
    c->esys = TAKE_PTR(esys);
    c->tcti = TAKE_PTR(tcti);
    return 0;
}

void tpm_context_close(struct tpm_context *c)
{
    if (c->esys)
        Esys_Finalize(&c->esys);
    if (c->tcti)
        Tss2_TctiLdr_Finalize(&c->tcti);
    c->esys = NULL;
    c->tcti = NULL;
    c->lost = false;
}

int tpm_context_property(struct tpm_context *c, uint32_t prop, uint32_t *ret)
{
    _cleanup_(Esys_Freep) TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = TPM2_NO;
    int r;

    r = TPM_CALL(c, "Esys_GetCapability(properties)",
                 Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    TPM2_CAP_TPM_PROPERTIES, prop, 1, &more, &cap));
    if (r < 0)
        return r;
    if (!cap || cap->capability != TPM2_CAP_TPM_PROPERTIES || cap->data.tpmProperties.count < 1 ||
        cap->data.tpmProperties.tpmProperty[0].property != prop)
        return tpm_context_failf(c, -EIO, "TPM does not report property 0x%x", (unsigned)prop);
    *ret = cap->data.tpmProperties.tpmProperty[0].value;
    return 0;
}

int tpm_context_count_transient(struct tpm_context *c, uint32_t *ret)
{
    _cleanup_(Esys_Freep) TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = TPM2_NO;
    int r;

    r = TPM_CALL(c, "Esys_GetCapability(handles)",
                 Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    TPM2_CAP_HANDLES, TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, &more,
                                    &cap));
    if (r < 0)
        return r;
    if (!cap || cap->capability != TPM2_CAP_HANDLES)
        return tpm_context_failf(c, -EIO, "TPM does not list its handles");
    *ret = cap->data.handles.count;
    return 0;
}

void tpm_context_flush(struct tpm_context *c, ESYS_TR *handle)
{
    if (*handle == ESYS_TR_NONE)
        return;
    if (c->esys && !c->lost) {
        char saved[TPM_ERR_MAX];
        TSS2_RC saved_rc = c->rc;

        /* A flush failure is not the operation's failure: keep the first error text. */
        memcpy(saved, c->err, sizeof(saved));
        (void)TPM_CALL(c, "Esys_FlushContext", Esys_FlushContext(c->esys, *handle));
        memcpy(c->err, saved, sizeof(saved));
        c->rc = saved_rc;
    }
    *handle = ESYS_TR_NONE;
}
