/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cleanup functions for tpm2-tss types, for use with _cleanup_ (STYLE 9):
 *   _cleanup_(Esys_Freep) TPM2B_PUBLIC *pub = NULL;      ESAPI outputs
 *   _cleanup_(Esys_Finalizep) ESYS_CONTEXT *esys = NULL;  an ESYS context
 *   _cleanup_(Tss2_TctiLdr_Finalizep) TSS2_TCTI_CONTEXT *tcti = NULL;  a loader TCTI
 * Each accepts NULL.
 */
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "macro.h"

/* For any ESAPI output buffer (Esys_Free is free() with NULL check). */
static inline void Esys_Freep(void *p)
{
    Esys_Free(*(void **)p);
}

static inline void Esys_Finalizep(ESYS_CONTEXT **p)
{
    if (*p)
        Esys_Finalize(p);
}

static inline void Tss2_TctiLdr_Finalizep(TSS2_TCTI_CONTEXT **p)
{
    if (*p)
        Tss2_TctiLdr_Finalize(p);
}
