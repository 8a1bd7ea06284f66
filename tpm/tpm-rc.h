/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TSS2_RC translation, done once at the tpm/ boundary (STYLE 6): classify a code, map it to
 * -errno from the shared set and name it (Tss2_RC_Decode) for last_error().
 *
 * TPM codes are recognised in the TPM layer and in the resource-manager-TPM layer (tabrmd
 * forwards TPM answers there), with the format-1 handle / session / parameter number bits
 * masked off, so TPM_RC_BAD_AUTH for session 1 (0x9a2) or parameter 2 (0x2e2) is BAD_AUTH.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <tss2/tss2_common.h>

#define TPM_ERR_MAX 256u /* last_error() text, health detail */

enum tpm_rc_class {
    TPM_RC_CLASS_OK = 0,
    TPM_RC_CLASS_RETRY,       /* RETRY, YIELDED, TESTING: resend after a short pause */
    TPM_RC_CLASS_AUTH,        /* AUTH_FAIL, BAD_AUTH (any variant): never resent */
    TPM_RC_CLASS_LOCKOUT,     /* TPM_RC_LOCKOUT: dictionary-attack lockout */
    TPM_RC_CLASS_TRANSPORT,   /* TCTI / RM layer, broken ESYS state, TPM restarted or failed */
    TPM_RC_CLASS_RESOURCE,    /* object/session memory, NV rate: try later */
    TPM_RC_CLASS_KEY,         /* blob or handle does not fit this TPM / parent */
    TPM_RC_CLASS_UNSUPPORTED, /* algorithm, curve, key size, scheme or hash refused */
    TPM_RC_CLASS_OTHER,
};

/* The TPM response code without layer and format-1 number bits, or 0 if rc is not a TPM code. */
TSS2_RC tpm_rc_base(TSS2_RC rc);

enum tpm_rc_class tpm_rc_classify(TSS2_RC rc);

/*
 * -errno for rc: 0 for success; -EBUSY (RETRY class, resources), -EKEYREJECTED (AUTH),
 * -EKEYREVOKED (LOCKOUT), -ENODEV (TRANSPORT), -ENOKEY (KEY), -EOPNOTSUPP (UNSUPPORTED),
 * -ENOMEM (TSS memory), -EINVAL (TPM_RC_VALUE, TSS bad value / reference / size), -EIO otherwise.
 */
int tpm_rc_to_errno(TSS2_RC rc);

/* True for the RETRY class only (what the retry loop may resend). */
bool tpm_rc_is_retry(TSS2_RC rc);

/* Writes "what: <Tss2_RC_Decode text> (0xhex)" into buf; always NUL-terminated. */
void tpm_rc_format(char *buf, size_t len, const char *what, TSS2_RC rc);
