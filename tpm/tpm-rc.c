/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include "tpm-rc.h"

#define RC_LAYER(rc) ((rc)&TSS2_RC_LAYER_MASK)
#define RC_BASE(rc)  ((rc)&0xffffu) /* TSS base code, or TPM response code */
/* Format 0: bits 0-6 error, 8 VER1, 10 TCG/vendor, 11 warning. Bits 12-15 are never set. */
#define FMT0_MASK 0x0fffu
/* Format 1: bits 0-5 error number, 7 FMT1; bits 6 and 8-11 only say which handle/param/session. */
#define FMT1_MASK 0x00bfu

TSS2_RC tpm_rc_base(TSS2_RC rc)
{
    TSS2_RC layer = RC_LAYER(rc), code = RC_BASE(rc);

    if (rc == TSS2_RC_SUCCESS || (layer != TSS2_TPM_RC_LAYER && layer != TSS2_RESMGR_TPM_RC_LAYER))
        return 0;
    if (rc & ~(TSS2_RC_LAYER_MASK | 0xffffu))
        return 0; /* bits above the layer: not a code we know */
    if (code & TPM2_RC_FMT1)
        return code & FMT1_MASK;
    return code & FMT0_MASK;
}

static enum tpm_rc_class classify_tpm(TSS2_RC c)
{
    switch (c) {
    case TPM2_RC_RETRY:
    case TPM2_RC_YIELDED:
    case TPM2_RC_TESTING:
        return TPM_RC_CLASS_RETRY;
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
        return TPM_RC_CLASS_AUTH;
    case TPM2_RC_LOCKOUT:
        return TPM_RC_CLASS_LOCKOUT;
    /*
     * An object we hold is not loaded: the TPM was reset under us (the swtpm TCTI reconnects
     * by itself, so a restarted swtpm answers) or someone flushed it. Rebuild everything.
     */
    case TPM2_RC_REFERENCE_H0:
    case TPM2_RC_REFERENCE_H1:
    case TPM2_RC_REFERENCE_H2:
    case TPM2_RC_REFERENCE_H3:
    case TPM2_RC_REFERENCE_H4:
    case TPM2_RC_REFERENCE_H5:
    case TPM2_RC_REFERENCE_H6:
    case TPM2_RC_INITIALIZE: /* TPM restarted without Startup */
    case TPM2_RC_FAILURE:
    case TPM2_RC_REBOOT:
    case TPM2_RC_UPGRADE:
        return TPM_RC_CLASS_TRANSPORT;
    case TPM2_RC_OBJECT_MEMORY:
    case TPM2_RC_SESSION_MEMORY:
    case TPM2_RC_MEMORY:
    case TPM2_RC_OBJECT_HANDLES:
    case TPM2_RC_SESSION_HANDLES:
    case TPM2_RC_CONTEXT_GAP:
    case TPM2_RC_NV_RATE:
    case TPM2_RC_NV_UNAVAILABLE:
        return TPM_RC_CLASS_RESOURCE;
    case TPM2_RC_INTEGRITY:
    case TPM2_RC_BINDING:
    case TPM2_RC_KEY:
    case TPM2_RC_SIZE:
    case TPM2_RC_HANDLE:
    case TPM2_RC_PARENT:
    case TPM2_RC_SENSITIVE:
    case TPM2_RC_ATTRIBUTES:
    case TPM2_RC_TYPE:
    case TPM2_RC_SYMMETRIC:
        return TPM_RC_CLASS_KEY;
    case TPM2_RC_ASYMMETRIC:
    case TPM2_RC_HASH:
    case TPM2_RC_SCHEME:
    case TPM2_RC_CURVE:
    case TPM2_RC_KEY_SIZE:
    case TPM2_RC_ECC_POINT:
    case TPM2_RC_COMMAND_CODE:
        return TPM_RC_CLASS_UNSUPPORTED;
    default:
        return TPM_RC_CLASS_OTHER;
    }
}

enum tpm_rc_class tpm_rc_classify(TSS2_RC rc)
{
    TSS2_RC layer = RC_LAYER(rc), base = RC_BASE(rc);

    if (rc == TSS2_RC_SUCCESS)
        return TPM_RC_CLASS_OK;
    if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER)
        return classify_tpm(tpm_rc_base(rc));
    /* Anything the transport or the resource manager says means the link is not trustworthy. */
    if (layer == TSS2_TCTI_RC_LAYER || layer == TSS2_RESMGR_RC_LAYER)
        return TPM_RC_CLASS_TRANSPORT;
    if (layer == TSS2_ESAPI_RC_LAYER || layer == TSS2_SYS_RC_LAYER) {
        switch (base) {
        case TSS2_BASE_RC_IO_ERROR:
        case TSS2_BASE_RC_NO_CONNECTION:
        case TSS2_BASE_RC_TRY_AGAIN:
        case TSS2_BASE_RC_MALFORMED_RESPONSE:
        case TSS2_BASE_RC_INSUFFICIENT_RESPONSE:
        case TSS2_BASE_RC_BAD_SEQUENCE: /* ESYS stuck in its internal-error state */
        case TSS2_BASE_RC_BAD_TCTI_STRUCTURE:
        case TSS2_BASE_RC_INCOMPATIBLE_TCTI:
        case TSS2_BASE_RC_GENERAL_FAILURE:
        case TSS2_BASE_RC_RSP_AUTH_FAILED:
            return TPM_RC_CLASS_TRANSPORT;
        default:
            return TPM_RC_CLASS_OTHER;
        }
    }
    return TPM_RC_CLASS_OTHER;
}

bool tpm_rc_is_retry(TSS2_RC rc)
{
    return tpm_rc_classify(rc) == TPM_RC_CLASS_RETRY;
}

int tpm_rc_to_errno(TSS2_RC rc)
{
    TSS2_RC base = RC_BASE(rc);

    switch (tpm_rc_classify(rc)) {
    case TPM_RC_CLASS_OK:
        return 0;
    case TPM_RC_CLASS_RETRY:
    case TPM_RC_CLASS_RESOURCE:
        return -EBUSY;
    case TPM_RC_CLASS_AUTH:
        return -EKEYREJECTED;
    case TPM_RC_CLASS_LOCKOUT:
        return -EKEYREVOKED;
    case TPM_RC_CLASS_TRANSPORT:
        return -ENODEV;
    case TPM_RC_CLASS_KEY:
        return -ENOKEY;
    case TPM_RC_CLASS_UNSUPPORTED:
        return -EOPNOTSUPP;
    case TPM_RC_CLASS_OTHER:
        break;
    }
    if (tpm_rc_base(rc) == TPM2_RC_VALUE)
        return -EINVAL;
    if (RC_LAYER(rc) == TSS2_TPM_RC_LAYER || RC_LAYER(rc) == TSS2_RESMGR_TPM_RC_LAYER)
        return -EIO;
    switch (base) {
    case TSS2_BASE_RC_MEMORY:
        return -ENOMEM;
    case TSS2_BASE_RC_BAD_REFERENCE:
    case TSS2_BASE_RC_BAD_VALUE:
    case TSS2_BASE_RC_BAD_SIZE:
    case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
    case TSS2_BASE_RC_BAD_TR:
        return -EINVAL;
    default:
        return -EIO;
    }
}

void tpm_rc_format(char *buf, size_t len, const char *what, TSS2_RC rc)
{
    const char *text = Tss2_RC_Decode(rc);

    if (!buf || len == 0)
        return;
    if (snprintf(buf, len, "%s: %s (0x%x)", what ? what : "TPM", text ? text : "unknown",
                 (unsigned)rc) < 0)
        buf[0] = '\0';
}
