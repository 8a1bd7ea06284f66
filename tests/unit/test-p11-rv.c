/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CK_RV translation: names and -errno for the codes the backend acts on, fatal (teardown)
 * classification, message format, and extraction of the CK_RV libp11 pushes onto the OpenSSL
 * error queue (last CKR entry wins, other libraries' entries ignored, queue emptied).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libp11.h>
#include <openssl/err.h>

#include "p11-rv.h"

static void test_names(void **state)
{
    assert_string_equal(p11_rv_name(CKR_OK), "CKR_OK");
    assert_string_equal(p11_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
    assert_string_equal(p11_rv_name(CKR_DEVICE_REMOVED), "CKR_DEVICE_REMOVED");
    assert_string_equal(p11_rv_name(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
    assert_null(p11_rv_name(0x7777));
    assert_null(p11_rv_name(CKR_VENDOR_DEFINED | 1));
}

static void test_errno(void **state)
{
    assert_int_equal(p11_rv_to_errno(CKR_OK), 0);
    assert_int_equal(p11_rv_to_errno(CKR_PIN_INCORRECT), -EKEYREJECTED);
    assert_int_equal(p11_rv_to_errno(CKR_PIN_LOCKED), -EKEYREVOKED);
    assert_int_equal(p11_rv_to_errno(CKR_PIN_EXPIRED), -EKEYREVOKED);
    assert_int_equal(p11_rv_to_errno(CKR_TOKEN_NOT_PRESENT), -ENODEV);
    assert_int_equal(p11_rv_to_errno(CKR_OBJECT_HANDLE_INVALID), -ENOKEY);
    assert_int_equal(p11_rv_to_errno(CKR_KEY_HANDLE_INVALID), -ENOKEY);
    assert_int_equal(p11_rv_to_errno(CKR_MECHANISM_INVALID), -EOPNOTSUPP);
    assert_int_equal(p11_rv_to_errno(CKR_HOST_MEMORY), -ENOMEM);
    assert_int_equal(p11_rv_to_errno(CKR_ARGUMENTS_BAD), -EINVAL);
    assert_int_equal(p11_rv_to_errno(CKR_OPERATION_ACTIVE), -EBUSY);
    assert_int_equal(p11_rv_to_errno(CKR_FUNCTION_FAILED), -EIO);
    assert_int_equal(p11_rv_to_errno(0x7777), -EIO);
    assert_int_equal(p11_rv_to_errno(P11_RV_NONE), -EIO);
}

static void test_fatal(void **state)
{
    static const CK_RV fatal[] = {
            CKR_DEVICE_REMOVED,           CKR_TOKEN_NOT_PRESENT,
            CKR_SESSION_HANDLE_INVALID,   CKR_SESSION_CLOSED,
            CKR_USER_NOT_LOGGED_IN,       CKR_DEVICE_ERROR,
            CKR_CRYPTOKI_NOT_INITIALIZED, CKR_TOKEN_NOT_RECOGNIZED,
            CKR_SLOT_ID_INVALID,          CKR_GENERAL_ERROR,
    };
    static const CK_RV not_fatal[] = {CKR_OK,
                                      CKR_PIN_INCORRECT,
                                      CKR_PIN_LOCKED,
                                      CKR_OBJECT_HANDLE_INVALID,
                                      CKR_FUNCTION_FAILED,
                                      CKR_OPERATION_ACTIVE,
                                      P11_RV_NONE};

    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
        assert_true(p11_rv_is_fatal(fatal[i]));
        assert_int_equal(p11_rv_to_errno(fatal[i]), -ENODEV);
    }
    for (size_t i = 0; i < sizeof(not_fatal) / sizeof(not_fatal[0]); i++)
        assert_false(p11_rv_is_fatal(not_fatal[i]));
}

static void test_format(void **state)
{
    char buf[128], tiny[8];

    p11_rv_format(buf, sizeof(buf), "C_Login", CKR_PIN_INCORRECT);
    assert_string_equal(buf, "C_Login: CKR_PIN_INCORRECT (0xa0)");
    p11_rv_format(buf, sizeof(buf), "C_Sign", 0x80000001UL);
    assert_string_equal(buf, "C_Sign: CK_RV 0x80000001");
    p11_rv_format(buf, sizeof(buf), "PKCS11_CTX_load", P11_RV_NONE);
    assert_string_equal(buf, "PKCS11_CTX_load failed (no CK_RV reported)");
    p11_rv_format(tiny, sizeof(tiny), "C_Login", CKR_PIN_INCORRECT);
    assert_string_equal(tiny, "C_Login");
}

static void ckr_error(CK_RV rv)
{
    ERR_raise(ERR_get_CKR_code(), (int)rv);
}

static void test_take(void **state)
{
    ERR_clear_error();
    assert_int_equal(p11_rv_take(), P11_RV_NONE);

    /*
     * What libp11's CKRerr() does on a failed C_Login: an error of its own library code with
     * the CK_RV as reason (ERR_CKR_error itself is not exported by Debian's libp11.so.3).
     */
    ckr_error(CKR_PIN_INCORRECT);
    assert_int_equal(p11_rv_take(), CKR_PIN_INCORRECT);
    assert_int_equal(ERR_peek_error(), 0);

    /* Other libraries' errors around it are skipped; the last CKR entry wins. */
    ERR_raise(ERR_LIB_EVP, 1);
    ckr_error(CKR_SESSION_HANDLE_INVALID);
    ckr_error(CKR_DEVICE_REMOVED);
    ERR_raise(ERR_LIB_EC, 2);
    assert_int_equal(p11_rv_take(), CKR_DEVICE_REMOVED);
    assert_int_equal(ERR_peek_error(), 0);

    ERR_raise(ERR_LIB_RSA, 3);
    assert_int_equal(p11_rv_take(), P11_RV_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names), cmocka_unit_test(test_errno),
            cmocka_unit_test(test_fatal), cmocka_unit_test(test_format),
            cmocka_unit_test(test_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
