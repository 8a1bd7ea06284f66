/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>

#include <libp11.h>
#include <openssl/err.h>

#include "macro.h"
#include "p11-rv.h"

struct rv_entry {
    CK_RV rv;
    const char *name;
    int err; /* positive errno */
    bool fatal;
};

#define RV(n, e, f)                                                                                \
    {                                                                                              \
        n, #n, e, f                                                                                \
    }

/* Sorted by value: a linear scan is fine for ~90 entries on error paths only. */
static const struct rv_entry rv_table[] = {
        RV(CKR_OK, 0, false),
        RV(CKR_CANCEL, ECANCELED, false),
        RV(CKR_HOST_MEMORY, ENOMEM, false),
        RV(CKR_SLOT_ID_INVALID, ENODEV, true),
        RV(CKR_GENERAL_ERROR, ENODEV, true),
        RV(CKR_FUNCTION_FAILED, EIO, false),
        RV(CKR_ARGUMENTS_BAD, EINVAL, false),
        RV(CKR_NO_EVENT, EIO, false),
        RV(CKR_NEED_TO_CREATE_THREADS, EIO, false),
        RV(CKR_CANT_LOCK, EIO, false),
        RV(CKR_ATTRIBUTE_READ_ONLY, EINVAL, false),
        RV(CKR_ATTRIBUTE_SENSITIVE, EACCES, false),
        RV(CKR_ATTRIBUTE_TYPE_INVALID, EINVAL, false),
        RV(CKR_ATTRIBUTE_VALUE_INVALID, EINVAL, false),
        RV(CKR_ACTION_PROHIBITED, EACCES, false),
        RV(CKR_DATA_INVALID, EINVAL, false),
        RV(CKR_DATA_LEN_RANGE, EINVAL, false),
        RV(CKR_DEVICE_ERROR, ENODEV, true),
        RV(CKR_DEVICE_MEMORY, ENOMEM, false),
        RV(CKR_DEVICE_REMOVED, ENODEV, true),
        RV(CKR_ENCRYPTED_DATA_INVALID, EINVAL, false),
        RV(CKR_ENCRYPTED_DATA_LEN_RANGE, EINVAL, false),
        RV(CKR_FUNCTION_CANCELED, ECANCELED, false),
        RV(CKR_FUNCTION_NOT_PARALLEL, EIO, false),
        RV(CKR_FUNCTION_NOT_SUPPORTED, EOPNOTSUPP, false),
        RV(CKR_KEY_HANDLE_INVALID, ENOKEY, false),
        RV(CKR_KEY_SIZE_RANGE, EOPNOTSUPP, false),
        RV(CKR_KEY_TYPE_INCONSISTENT, EOPNOTSUPP, false),
        RV(CKR_KEY_NOT_NEEDED, EINVAL, false),
        RV(CKR_KEY_CHANGED, EINVAL, false),
        RV(CKR_KEY_NEEDED, EINVAL, false),
        RV(CKR_KEY_INDIGESTIBLE, EINVAL, false),
        RV(CKR_KEY_FUNCTION_NOT_PERMITTED, EOPNOTSUPP, false),
        RV(CKR_KEY_NOT_WRAPPABLE, EOPNOTSUPP, false),
        RV(CKR_KEY_UNEXTRACTABLE, EACCES, false),
        RV(CKR_MECHANISM_INVALID, EOPNOTSUPP, false),
        RV(CKR_MECHANISM_PARAM_INVALID, EOPNOTSUPP, false),
        RV(CKR_OBJECT_HANDLE_INVALID, ENOKEY, false),
        RV(CKR_OPERATION_ACTIVE, EBUSY, false),
        RV(CKR_OPERATION_NOT_INITIALIZED, EIO, false),
        RV(CKR_PIN_INCORRECT, EKEYREJECTED, false),
        RV(CKR_PIN_INVALID, EKEYREJECTED, false),
        RV(CKR_PIN_LEN_RANGE, EKEYREJECTED, false),
        RV(CKR_PIN_EXPIRED, EKEYREVOKED, false),
        RV(CKR_PIN_LOCKED, EKEYREVOKED, false),
        RV(CKR_SESSION_CLOSED, ENODEV, true),
        RV(CKR_SESSION_COUNT, EBUSY, false),
        RV(CKR_SESSION_HANDLE_INVALID, ENODEV, true),
        RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED, EIO, false),
        RV(CKR_SESSION_READ_ONLY, EACCES, false),
        RV(CKR_SESSION_EXISTS, EBUSY, false),
        RV(CKR_SESSION_READ_ONLY_EXISTS, EBUSY, false),
        RV(CKR_SESSION_READ_WRITE_SO_EXISTS, EBUSY, false),
        RV(CKR_SIGNATURE_INVALID, EBADMSG, false),
        RV(CKR_SIGNATURE_LEN_RANGE, EBADMSG, false),
        RV(CKR_TEMPLATE_INCOMPLETE, EINVAL, false),
        RV(CKR_TEMPLATE_INCONSISTENT, EINVAL, false),
        RV(CKR_TOKEN_NOT_PRESENT, ENODEV, true),
        RV(CKR_TOKEN_NOT_RECOGNIZED, ENODEV, true),
        RV(CKR_TOKEN_WRITE_PROTECTED, EACCES, false),
        RV(CKR_UNWRAPPING_KEY_SIZE_RANGE, EINVAL, false),
        RV(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, EINVAL, false),
        RV(CKR_USER_ALREADY_LOGGED_IN, 0, false),
        RV(CKR_USER_NOT_LOGGED_IN, ENODEV, true),
        RV(CKR_USER_PIN_NOT_INITIALIZED, EKEYREVOKED, false),
        RV(CKR_USER_TYPE_INVALID, EINVAL, false),
        RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, EBUSY, false),
        RV(CKR_USER_TOO_MANY_TYPES, EBUSY, false),
        RV(CKR_WRAPPED_KEY_INVALID, EINVAL, false),
        RV(CKR_WRAPPED_KEY_LEN_RANGE, EINVAL, false),
        RV(CKR_WRAPPING_KEY_HANDLE_INVALID, EINVAL, false),
        RV(CKR_WRAPPING_KEY_SIZE_RANGE, EINVAL, false),
        RV(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, EINVAL, false),
        RV(CKR_RANDOM_SEED_NOT_SUPPORTED, EOPNOTSUPP, false),
        RV(CKR_RANDOM_NO_RNG, EOPNOTSUPP, false),
        RV(CKR_DOMAIN_PARAMS_INVALID, EOPNOTSUPP, false),
        RV(CKR_CURVE_NOT_SUPPORTED, EOPNOTSUPP, false),
        RV(CKR_BUFFER_TOO_SMALL, EMSGSIZE, false),
        RV(CKR_SAVED_STATE_INVALID, EIO, false),
        RV(CKR_INFORMATION_SENSITIVE, EACCES, false),
        RV(CKR_STATE_UNSAVEABLE, EIO, false),
        RV(CKR_CRYPTOKI_NOT_INITIALIZED, ENODEV, true),
        RV(CKR_CRYPTOKI_ALREADY_INITIALIZED, EIO, false),
        RV(CKR_MUTEX_BAD, EIO, false),
        RV(CKR_MUTEX_NOT_LOCKED, EIO, false),
        RV(CKR_NEW_PIN_MODE, EIO, false),
        RV(CKR_NEXT_OTP, EIO, false),
        RV(CKR_EXCEEDED_MAX_ITERATIONS, EIO, false),
        RV(CKR_FIPS_SELF_TEST_FAILED, ENODEV, true),
        RV(CKR_LIBRARY_LOAD_FAILED, ENODEV, true),
        RV(CKR_PIN_TOO_WEAK, EKEYREJECTED, false),
        RV(CKR_PUBLIC_KEY_INVALID, EINVAL, false),
        RV(CKR_FUNCTION_REJECTED, EACCES, false),
};

static const struct rv_entry *rv_lookup(CK_RV rv)
{
    for (size_t i = 0; i < ELEMENTSOF(rv_table); i++)
        if (rv_table[i].rv == rv)
            return &rv_table[i];
    return NULL;
}

int p11_rv_to_errno(CK_RV rv)
{
    const struct rv_entry *e = rv_lookup(rv);

    return e ? -e->err : -EIO;
}

const char *p11_rv_name(CK_RV rv)
{
    const struct rv_entry *e = rv_lookup(rv);

    return e ? e->name : NULL;
}

bool p11_rv_is_fatal(CK_RV rv)
{
    const struct rv_entry *e = rv_lookup(rv);

    return e && e->fatal;
}

CK_RV p11_rv_take(void)
{
    const int ckr_lib = ERR_get_CKR_code();
    CK_RV found = P11_RV_NONE;
    unsigned long e;

    /* Oldest first: the last CKR entry is the innermost failure libp11 saw most recently. */
    while ((e = ERR_get_error()) != 0)
        if (!ERR_SYSTEM_ERROR(e) && ERR_GET_LIB(e) == ckr_lib)
            found = (CK_RV)ERR_GET_REASON(e);
    return found;
}

void p11_rv_format(char *buf, size_t len, const char *what, CK_RV rv)
{
    const char *name = p11_rv_name(rv);
    int n;

    if (len == 0)
        return;
    if (rv == P11_RV_NONE)
        n = snprintf(buf, len, "%s failed (no CK_RV reported)", what);
    else if (name)
        n = snprintf(buf, len, "%s: %s (0x%lx)", what, name, (unsigned long)rv);
    else
        n = snprintf(buf, len, "%s: CK_RV 0x%lx", what, (unsigned long)rv);
    if (n < 0)
        buf[0] = '\0'; /* truncation is fine for a message; snprintf terminated it */
}
