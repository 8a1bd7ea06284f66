/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "p11-rv.h"
#include "p11-token.h"

#define P11_MAX_DESTROY 8u /* objects of one class sharing a CKA_ID that destroy removes */

int p11_token_fail(struct p11_token *t, const char *what, CK_RV rv)
{
    int r;

    t->rv = rv;
    p11_rv_format(t->err, sizeof(t->err), what, rv);
    if (rv == P11_RV_NONE)
        return -EIO;
    if (p11_rv_is_fatal(rv))
        return -ENODEV;
    r = p11_rv_to_errno(rv);
    return r < 0 ? r : -EIO;
}

int p11_token_failf(struct p11_token *t, int err, const char *fmt, ...)
{
    va_list ap;

    t->rv = P11_RV_NONE;
    va_start(ap, fmt);
    if (vsnprintf(t->err, sizeof(t->err), fmt, ap) < 0)
        t->err[0] = '\0';
    va_end(ap);
    return err;
}

void p11_token_close(struct p11_token *t)
{
    if (t->ctx && t->slots)
        PKCS11_release_all_slots(t->ctx, t->slots, t->n_slots);
    t->slots = NULL;
    t->n_slots = 0;
    t->slot = NULL;
    t->slot_id = 0;
    t->logged_in = false;
    t->fl = NULL;
    p11_module_release(t->ctx);
    t->ctx = NULL;
}

static int find_slot(struct p11_token *t)
{
    PKCS11_SLOT *found = NULL;
    unsigned int matches = 0;

    if (t->n_slots > P11_MAX_SLOTS)
        return p11_token_failf(t, -ENODEV, "module reports %u slots (limit %u)", t->n_slots,
                               P11_MAX_SLOTS);
    for (unsigned int i = 0; i < t->n_slots; i++) {
        const PKCS11_TOKEN *tok = t->slots[i].token;
        /* libp11 strips the blank padding of CK_TOKEN_INFO.label */
        if (tok && tok->initialized && tok->label && streq(tok->label, t->label)) {
            found = &t->slots[i];
            matches++;
        }
    }
    if (matches == 0)
        return p11_token_failf(t, -ENODEV, "token '%s' not present", t->label);
    if (matches > 1)
        return p11_token_failf(t, -ENODEV, "%u tokens are labelled '%s'; refusing to guess",
                               matches, t->label);
    t->slot = found;
    t->slot_id = PKCS11_get_slotid_from_slot(found);
    return 0;
}

static int open_and_login(struct p11_token *t, const struct secret *pin)
{
    CK_RV rv;
    int r;

    r = p11_module_acquire(t->module, &t->ctx, &rv);
    if (r == -ENOMEM)
        return p11_token_failf(t, r, "PKCS11_CTX_new: out of memory");
    if (r == -EMFILE)
        return p11_token_failf(t, -ENODEV, "more than %u PKCS#11 modules loaded", P11_MAX_MODULES);
    if (r < 0) {
        p11_token_fail(t, "C_Initialize", rv);
        return -ENODEV;
    }
    r = p11_module_function_list(t->module, &t->fl);
    if (r < 0)
        return p11_token_failf(t, -ENODEV, "C_GetFunctionList of %s unavailable", t->module);

    ERR_clear_error();
    if (PKCS11_enumerate_slots(t->ctx, &t->slots, &t->n_slots) < 0) {
        t->slots = NULL;
        t->n_slots = 0;
        p11_token_fail(t, "C_GetSlotList", p11_rv_take());
        return -ENODEV;
    }
    r = find_slot(t);
    if (r < 0)
        return r;
    /* Don't spend an attempt on a PIN the token already reports as locked. */
    if (t->slot->token->userPinLocked)
        return p11_token_fail(t, "C_GetTokenInfo", CKR_PIN_LOCKED);

    ERR_clear_error();
    if (PKCS11_open_session(t->slot, 1) < 0) {
        rv = p11_rv_take();
        r = p11_token_fail(t, "C_OpenSession", rv);
        return rv == P11_RV_NONE ? -ENODEV : r;
    }
    /*
     * The one C_Login of this context. libp11 0.4.12 skips it when the slot is already logged
     * in, treats CKR_USER_ALREADY_LOGGED_IN (another instance on this token) as success, and
     * keeps its own copy of the PIN in the slot (freed with the slot) for its fork handling.
     */
    ERR_clear_error();
    if (PKCS11_login(t->slot, 0, secret_str(pin)) < 0) {
        rv = p11_rv_take();
        r = p11_token_fail(t, "C_Login", rv);
        return rv == P11_RV_NONE ? -ENODEV : r;
    }
    t->logged_in = true;
    return 0;
}

int p11_token_open(struct p11_token *t, const struct secret *pin)
{
    int r;

    p11_token_close(t);
    r = open_and_login(t, pin);
    if (r < 0)
        p11_token_close(t);
    else
        t->err[0] = '\0';
    return r;
}

int p11_token_probe(struct p11_token *t)
{
    char label[sizeof(((CK_TOKEN_INFO *)NULL)->label) + 1];
    size_t n = strlen(t->err);
    CK_TOKEN_INFO ti;
    CK_RV rv;

    if (!t->fl)
        return -ENODEV;
    rv = t->fl->C_GetTokenInfo(t->slot_id, &ti);
    if (rv == CKR_OK) {
        memcpy(label, ti.label, sizeof(ti.label));
        label[sizeof(ti.label)] = '\0';
        for (size_t i = sizeof(ti.label); i > 0 && label[i - 1] == ' '; i--)
            label[i - 1] = '\0';
        if (streq(label, t->label))
            return 0;
    }
    /* Keep the original failure first; the probe explains why it is fatal. */
    if (n + 2 < sizeof(t->err)) {
        t->err[n] = ';';
        t->err[n + 1] = ' ';
        if (rv == CKR_OK)
            snprintf(t->err + n + 2, sizeof(t->err) - n - 2, "slot now holds another token");
        else
            p11_rv_format(t->err + n + 2, sizeof(t->err) - n - 2, "C_GetTokenInfo", rv);
    }
    return -ENODEV;
}

int p11_token_session(struct p11_token *t, CK_SESSION_HANDLE *ret)
{
    CK_RV rv;

    if (!t->fl || !t->logged_in)
        return p11_token_failf(t, -ENODEV, "token '%s' is not open", t->label);
    rv = t->fl->C_OpenSession(t->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, ret);
    if (rv != CKR_OK)
        return p11_token_fail(t, "C_OpenSession", rv);
    return 0;
}

void p11_token_session_close(struct p11_token *t, CK_SESSION_HANDLE h)
{
    if (t->fl)
        (void)t->fl->C_CloseSession(h);
}

/* Finds up to max objects of class cls with id and (optional) label. */
static int find_objects(struct p11_token *t, CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls,
                        const uint8_t *id, size_t id_len, const char *label, CK_OBJECT_HANDLE *objs,
                        CK_ULONG max, CK_ULONG *ret_n)
{
    CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_ULONG n = 1;
    CK_RV rv, rv2;

    if (id_len > 0)
        tmpl[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)(uintptr_t)id, id_len};
    if (label)
        tmpl[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)label, strlen(label)};
    rv = t->fl->C_FindObjectsInit(h, tmpl, n);
    if (rv != CKR_OK)
        return p11_token_fail(t, "C_FindObjectsInit", rv);
    rv = t->fl->C_FindObjects(h, objs, max, ret_n);
    rv2 = t->fl->C_FindObjectsFinal(h);
    if (rv != CKR_OK)
        return p11_token_fail(t, "C_FindObjects", rv);
    if (rv2 != CKR_OK)
        return p11_token_fail(t, "C_FindObjectsFinal", rv2);
    return 0;
}

int p11_token_find_object(struct p11_token *t, CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls,
                          const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *ret)
{
    CK_ULONG n = 0;
    int r = find_objects(t, h, cls, id, id_len, NULL, ret, 1, &n);

    if (r == 0 && n == 0)
        return -ENOKEY; /* not recorded: callers decide whether absence is a failure */
    return r;
}

/* Looks up the key in the module itself; fills id/label of the unique match. */
static int resolve_key(struct p11_token *t, const uint8_t *id, size_t id_len, const char *label,
                       uint8_t *out_id, size_t *out_id_len, char *out_label)
{
    CK_SESSION_HANDLE h;
    CK_OBJECT_HANDLE objs[2];
    CK_ULONG n = 0;
    CK_ATTRIBUTE attrs[2] = {{CKA_ID, out_id, P11_MAX_ID}, {CKA_LABEL, out_label, P11_MAX_LABEL}};
    CK_RV rv;
    int r;

    r = p11_token_session(t, &h);
    if (r < 0)
        return r;
    r = find_objects(t, h, CKO_PRIVATE_KEY, id, id_len, label, objs, ELEMENTSOF(objs), &n);
    if (r == 0 && n == 0)
        r = p11_token_failf(t, -ENOKEY, "no private key matches on token '%s'", t->label);
    else if (r == 0 && n > 1)
        r = p11_token_failf(t, -EINVAL, "several private keys match on token '%s'", t->label);
    if (r == 0) {
        rv = t->fl->C_GetAttributeValue(h, objs[0], attrs, ELEMENTSOF(attrs));
        if (rv == CKR_BUFFER_TOO_SMALL)
            r = p11_token_failf(t, -EOPNOTSUPP, "key CKA_ID or CKA_LABEL longer than %u bytes",
                                P11_MAX_ID);
        else if (rv != CKR_OK)
            r = p11_token_fail(t, "C_GetAttributeValue", rv);
        else if (attrs[0].ulValueLen == 0)
            r = p11_token_failf(t, -EOPNOTSUPP, "key has an empty CKA_ID");
    }
    p11_token_session_close(t, h);
    if (r < 0)
        return r;
    *out_id_len = attrs[0].ulValueLen;
    out_label[attrs[1].ulValueLen] = '\0';
    if (strlen(out_label) != attrs[1].ulValueLen)
        return p11_token_failf(t, -EOPNOTSUPP, "key label contains a NUL byte");
    return 0;
}

int p11_token_find_key(struct p11_token *t, const uint8_t *id, size_t id_len, const char *label,
                       PKCS11_KEY **ret, uint8_t *ret_id, size_t *ret_id_len, char **ret_label)
{
    uint8_t kid[P11_MAX_ID];
    char klabel[P11_MAX_LABEL + 1];
    size_t kid_len = 0;
    PKCS11_KEY *keys = NULL;
    unsigned int n = 0;
    int r;

    r = resolve_key(t, id, id_len, label, kid, &kid_len, klabel);
    if (r < 0)
        return r;
    ERR_clear_error();
    if (PKCS11_enumerate_keys(t->slot->token, &keys, &n) < 0)
        return p11_token_fail(t, "C_FindObjects (libp11)", p11_rv_take());
    /* Newest entries last: libp11 appends new objects and never drops deleted ones. */
    for (unsigned int i = n; i-- > 0;) {
        if (keys[i].id_len != kid_len || memcmp(keys[i].id, kid, kid_len) != 0 ||
            !streq(keys[i].label ? keys[i].label : "", klabel))
            continue;
        if (ret_label) {
            *ret_label = strdup(klabel);
            if (!*ret_label)
                return p11_token_failf(t, -ENOMEM, "out of memory");
        }
        if (ret_id) {
            memcpy(ret_id, kid, kid_len);
            *ret_id_len = kid_len;
        }
        *ret = &keys[i];
        return 0;
    }
    return p11_token_failf(t, -EIO, "libp11 does not list the key the module found");
}

int p11_token_destroy_key(struct p11_token *t, const uint8_t *id, size_t id_len, const char *label)
{
    CK_OBJECT_HANDLE priv[P11_MAX_DESTROY], pub[P11_MAX_DESTROY];
    CK_ULONG n_priv = 0, n_pub = 0;
    CK_SESSION_HANDLE h;
    int r;

    if (id_len == 0)
        return p11_token_failf(t, -EINVAL, "refusing to destroy keys without a CKA_ID");
    r = p11_token_session(t, &h);
    if (r < 0)
        return r;
    r = find_objects(t, h, CKO_PRIVATE_KEY, id, id_len, label, priv, ELEMENTSOF(priv), &n_priv);
    if (r == 0 && n_priv == 0)
        r = p11_token_failf(t, -ENOKEY, "no private key matches on token '%s'", t->label);
    /* The public half may carry another label; the shared CKA_ID pairs them. */
    if (r == 0)
        r = find_objects(t, h, CKO_PUBLIC_KEY, id, id_len, NULL, pub, ELEMENTSOF(pub), &n_pub);
    for (CK_ULONG i = 0; r == 0 && i < n_priv + n_pub; i++) {
        CK_RV rv = t->fl->C_DestroyObject(h, i < n_priv ? priv[i] : pub[i - n_priv]);
        if (rv != CKR_OK)
            r = p11_token_fail(t, "C_DestroyObject", rv);
    }
    p11_token_session_close(t, h);
    return r;
}
