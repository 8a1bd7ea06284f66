/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TSS2_RC classification and -errno mapping (tpm/tpm-rc.c). Proves: RETRY / YIELDED / TESTING
 * are retryable in the TPM and resource-manager-TPM layers and nothing else is (not auth
 * failures, not lockout, not TCTI errors, not other layers' codes with the same low bits);
 * AUTH_FAIL / BAD_AUTH are recognised with every handle / session / parameter number;
 * LOCKOUT, transport (TCTI, RM, broken ESYS state, INITIALIZE, REFERENCE_Hn), key, resource
 * and unsupported codes map to their errno; names come from Tss2_RC_Decode.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <tss2/tss2_esys.h>

#include "macro.h"
#include "tpm-rc.h"

struct vec {
    TSS2_RC rc;
    enum tpm_rc_class cls;
    int err;
};

static const struct vec vectors[] = {
        {TSS2_RC_SUCCESS, TPM_RC_CLASS_OK, 0},
        /* busy: resend */
        {TPM2_RC_RETRY, TPM_RC_CLASS_RETRY, -EBUSY},
        {TPM2_RC_YIELDED, TPM_RC_CLASS_RETRY, -EBUSY},
        {TPM2_RC_TESTING, TPM_RC_CLASS_RETRY, -EBUSY},
        {TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_RETRY, TPM_RC_CLASS_RETRY, -EBUSY},
        {TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_TESTING, TPM_RC_CLASS_RETRY, -EBUSY},
        /* same low bits in a TSS layer are not TPM warnings */
        {TSS2_ESAPI_RC_LAYER | TPM2_RC_RETRY, TPM_RC_CLASS_OTHER, -EIO},
        {TSS2_TCTI_RC_LAYER | TPM2_RC_RETRY, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        /* a TPM 1.2-style code without VER1 is not RETRY */
        {0x022, TPM_RC_CLASS_OTHER, -EIO},
        /* auth: never resent, every numbered variant */
        {TPM2_RC_AUTH_FAIL, TPM_RC_CLASS_AUTH, -EKEYREJECTED},
        {TPM2_RC_BAD_AUTH, TPM_RC_CLASS_AUTH, -EKEYREJECTED},
        {TPM2_RC_S + TPM2_RC_1 + TPM2_RC_AUTH_FAIL, TPM_RC_CLASS_AUTH, -EKEYREJECTED}, /* 0x98e */
        {TPM2_RC_S + TPM2_RC_3 + TPM2_RC_BAD_AUTH, TPM_RC_CLASS_AUTH, -EKEYREJECTED},
        {TPM2_RC_H + TPM2_RC_2 + TPM2_RC_AUTH_FAIL, TPM_RC_CLASS_AUTH, -EKEYREJECTED},
        {TPM2_RC_P + TPM2_RC_F + TPM2_RC_BAD_AUTH, TPM_RC_CLASS_AUTH, -EKEYREJECTED},
        {TSS2_RESMGR_TPM_RC_LAYER | 0x9a2, TPM_RC_CLASS_AUTH, -EKEYREJECTED},
        /* lockout */
        {TPM2_RC_LOCKOUT, TPM_RC_CLASS_LOCKOUT, -EKEYREVOKED},
        {TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_LOCKOUT, TPM_RC_CLASS_LOCKOUT, -EKEYREVOKED},
        /* transport: tear down and rebuild */
        {TSS2_TCTI_RC_IO_ERROR, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_TCTI_RC_NO_CONNECTION, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_TCTI_RC_MALFORMED_RESPONSE, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_RESMGR_RC_LAYER | TSS2_BASE_RC_IO_ERROR, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_ESYS_RC_BAD_SEQUENCE, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_ESYS_RC_IO_ERROR, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_ESYS_RC_MALFORMED_RESPONSE, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TSS2_SYS_RC_INSUFFICIENT_RESPONSE, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TPM2_RC_INITIALIZE, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TPM2_RC_FAILURE, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TPM2_RC_REFERENCE_H0, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        {TPM2_RC_REFERENCE_H2, TPM_RC_CLASS_TRANSPORT, -ENODEV},
        /* key blobs that do not fit */
        {TPM2_RC_P + TPM2_RC_1 + TPM2_RC_INTEGRITY, TPM_RC_CLASS_KEY, -ENOKEY}, /* 0x1df */
        {TPM2_RC_BINDING, TPM_RC_CLASS_KEY, -ENOKEY},
        {TPM2_RC_H + TPM2_RC_1 + TPM2_RC_HANDLE, TPM_RC_CLASS_KEY, -ENOKEY},
        /* resources */
        {TPM2_RC_OBJECT_MEMORY, TPM_RC_CLASS_RESOURCE, -EBUSY},
        {TPM2_RC_SESSION_MEMORY, TPM_RC_CLASS_RESOURCE, -EBUSY},
        {TPM2_RC_NV_RATE, TPM_RC_CLASS_RESOURCE, -EBUSY},
        {TPM2_RC_NV_UNAVAILABLE, TPM_RC_CLASS_RESOURCE, -EBUSY},
        {TPM2_RC_CONTEXT_GAP, TPM_RC_CLASS_RESOURCE, -EBUSY},
        /* unsupported */
        {TPM2_RC_P + TPM2_RC_2 + TPM2_RC_SCHEME, TPM_RC_CLASS_UNSUPPORTED, -EOPNOTSUPP},
        {TPM2_RC_CURVE, TPM_RC_CLASS_UNSUPPORTED, -EOPNOTSUPP},
        {TPM2_RC_KEY_SIZE, TPM_RC_CLASS_UNSUPPORTED, -EOPNOTSUPP},
        {TPM2_RC_HASH, TPM_RC_CLASS_UNSUPPORTED, -EOPNOTSUPP},
        /* the rest */
        {TPM2_RC_P + TPM2_RC_1 + TPM2_RC_VALUE, TPM_RC_CLASS_OTHER, -EINVAL},
        {TSS2_ESYS_RC_MEMORY, TPM_RC_CLASS_OTHER, -ENOMEM},
        {TSS2_ESYS_RC_BAD_REFERENCE, TPM_RC_CLASS_OTHER, -EINVAL},
        {TSS2_MU_RC_INSUFFICIENT_BUFFER, TPM_RC_CLASS_OTHER, -EINVAL},
        {TSS2_ESYS_RC_NOT_IMPLEMENTED, TPM_RC_CLASS_OTHER, -EIO},
        {TPM2_RC_FAILURE | 0x10000000u, TPM_RC_CLASS_OTHER, -EIO}, /* bits above the layer */
};

static void test_vectors(void **state)
{
    for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
        const struct vec *v = &vectors[i];
        if (tpm_rc_classify(v->rc) != v->cls || tpm_rc_to_errno(v->rc) != v->err)
            fail_msg("rc 0x%x: class %d errno %d, want %d %d", (unsigned)v->rc,
                     tpm_rc_classify(v->rc), tpm_rc_to_errno(v->rc), v->cls, v->err);
        assert_int_equal(tpm_rc_is_retry(v->rc), v->cls == TPM_RC_CLASS_RETRY);
    }
}

static void test_base(void **state)
{
    assert_int_equal(tpm_rc_base(0x98e), TPM2_RC_AUTH_FAIL);
    assert_int_equal(tpm_rc_base(0x2e2), TPM2_RC_BAD_AUTH);
    assert_int_equal(tpm_rc_base(TSS2_RESMGR_TPM_RC_LAYER | 0x922), TPM2_RC_RETRY);
    assert_int_equal(tpm_rc_base(TSS2_TCTI_RC_IO_ERROR), 0);
    assert_int_equal(tpm_rc_base(0), 0);
}

static void test_format(void **state)
{
    char buf[TPM_ERR_MAX], tiny[8];

    tpm_rc_format(buf, sizeof(buf), "Esys_Sign", TPM2_RC_RETRY);
    assert_non_null(strstr(buf, "Esys_Sign: "));
    assert_non_null(strstr(buf, "(0x922)"));
    tpm_rc_format(buf, sizeof(buf), NULL, TSS2_TCTI_RC_IO_ERROR);
    assert_non_null(strstr(buf, "tcti"));
    tpm_rc_format(tiny, sizeof(tiny), "Esys_Sign", TPM2_RC_RETRY); /* truncates, terminated */
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    tpm_rc_format(NULL, 0, "x", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_base),
            cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
