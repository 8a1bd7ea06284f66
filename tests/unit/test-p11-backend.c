/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PKCS#11 backend against a fake libp11 (-Wl,--wrap of PKCS11_*, the module function
 * list and EVP_PKEY_sign). Proves: a wrong PIN costs exactly one PKCS11_login and leaves the
 * instance PIN_REJECTED, later open()s fail at once; a locked PIN (reported by C_Login or
 * already by the token flags) gives LOCKED_OUT, the latter without any login; an absent token
 * is UNAVAILABLE/-ENODEV; token-removed errors during sign tear everything down (slots
 * released, module unloaded) and return -ENODEV, and the next open() works; a vanished key
 * on a present token is -ENOKEY without teardown; outputs are untouched on failure; module
 * paths outside the allowlist or with unsafe modes are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "p11-module.h"
#include "p11-rv.h"
#include "pkcs11.h"
#include "secret.h"

#define LABEL   "demo"
#define SLOT_ID 7ul
#define LOCATOR "pkcs11:token=demo;object=k;id=%01%02;type=private"

/* ---- fake libp11 and module ---------------------------------------------------------- */

static struct {
    unsigned ctx_new, ctx_load, ctx_unload, ctx_free, enum_slots, release, login, open_session;
    CK_RV login_rv;
    CK_RV sign_rv;
    CK_RV token_info_rv;
    int pin_locked_flag;
    const char *token_label;
    unsigned find_results; /* objects C_FindObjects reports */
} fake;

static PKCS11_CTX fake_ctx;
static PKCS11_TOKEN fake_token;
static PKCS11_SLOT fake_slot;
static unsigned char key_id[] = {1, 2};
static char key_label[] = "k";
static PKCS11_KEY fake_key = {.label = key_label, .id = key_id, .id_len = 2, .isPrivate = 1};
static EVP_PKEY *soft_key;

static void push_ckr(CK_RV rv)
{
    ERR_raise(ERR_get_CKR_code(), (int)rv);
}

PKCS11_CTX *__wrap_PKCS11_CTX_new(void);
PKCS11_CTX *__wrap_PKCS11_CTX_new(void)
{
    fake.ctx_new++;
    return &fake_ctx;
}

int __wrap_PKCS11_CTX_load(PKCS11_CTX *ctx, const char *ident);
int __wrap_PKCS11_CTX_load(PKCS11_CTX *ctx, const char *ident)
{
    fake.ctx_load++;
    return 0;
}

void __wrap_PKCS11_CTX_unload(PKCS11_CTX *ctx);
void __wrap_PKCS11_CTX_unload(PKCS11_CTX *ctx)
{
    fake.ctx_unload++;
}

void __wrap_PKCS11_CTX_free(PKCS11_CTX *ctx);
void __wrap_PKCS11_CTX_free(PKCS11_CTX *ctx)
{
    fake.ctx_free++;
}

int __wrap_PKCS11_enumerate_slots(PKCS11_CTX *ctx, PKCS11_SLOT **slots, unsigned int *n);
int __wrap_PKCS11_enumerate_slots(PKCS11_CTX *ctx, PKCS11_SLOT **slots, unsigned int *n)
{
    fake.enum_slots++;
    fake_token = (PKCS11_TOKEN){.label = (char *)(uintptr_t)fake.token_label,
                                .initialized = 1,
                                .userPinLocked = (unsigned char)fake.pin_locked_flag,
                                .slot = &fake_slot};
    fake_slot = (PKCS11_SLOT){.token = &fake_token};
    *slots = &fake_slot;
    *n = 1;
    return 0;
}

void __wrap_PKCS11_release_all_slots(PKCS11_CTX *ctx, PKCS11_SLOT *slots, unsigned int n);
void __wrap_PKCS11_release_all_slots(PKCS11_CTX *ctx, PKCS11_SLOT *slots, unsigned int n)
{
    fake.release++;
}

unsigned long __wrap_PKCS11_get_slotid_from_slot(PKCS11_SLOT *slot);
unsigned long __wrap_PKCS11_get_slotid_from_slot(PKCS11_SLOT *slot)
{
    return SLOT_ID;
}

int __wrap_PKCS11_open_session(PKCS11_SLOT *slot, int rw);
int __wrap_PKCS11_open_session(PKCS11_SLOT *slot, int rw)
{
    fake.open_session++;
    assert_int_equal(rw, 1);
    return 0;
}

int __wrap_PKCS11_login(PKCS11_SLOT *slot, int so, const char *pin);
int __wrap_PKCS11_login(PKCS11_SLOT *slot, int so, const char *pin)
{
    fake.login++;
    assert_int_equal(so, 0);
    assert_string_equal(pin, "1234");
    if (fake.login_rv != CKR_OK) {
        push_ckr(fake.login_rv);
        return -1;
    }
    return 0;
}

int __wrap_PKCS11_enumerate_keys(PKCS11_TOKEN *tok, PKCS11_KEY **keys, unsigned int *n);
int __wrap_PKCS11_enumerate_keys(PKCS11_TOKEN *tok, PKCS11_KEY **keys, unsigned int *n)
{
    *keys = &fake_key;
    *n = 1;
    return 0;
}

EVP_PKEY *__wrap_PKCS11_get_private_key(PKCS11_KEY *key);
EVP_PKEY *__wrap_PKCS11_get_private_key(PKCS11_KEY *key)
{
    assert_ptr_equal(key, &fake_key);
    EVP_PKEY_up_ref(soft_key);
    return soft_key;
}

int __real_EVP_PKEY_sign(EVP_PKEY_CTX *c, unsigned char *sig, size_t *len, const unsigned char *tbs,
                         size_t tbslen);
int __wrap_EVP_PKEY_sign(EVP_PKEY_CTX *c, unsigned char *sig, size_t *len, const unsigned char *tbs,
                         size_t tbslen);
int __wrap_EVP_PKEY_sign(EVP_PKEY_CTX *c, unsigned char *sig, size_t *len, const unsigned char *tbs,
                         size_t tbslen)
{
    if (fake.sign_rv != CKR_OK) {
        push_ckr(fake.sign_rv); /* what libp11's EC method does when C_Sign fails */
        return 0;
    }
    return __real_EVP_PKEY_sign(c, sig, len, tbs, tbslen);
}

static CK_RV f_open_session(CK_SLOT_ID slot, CK_FLAGS flags, void *app, CK_NOTIFY notify,
                            CK_SESSION_HANDLE *h)
{
    assert_int_equal(slot, SLOT_ID);
    *h = 42;
    return CKR_OK;
}

static CK_RV f_close_session(CK_SESSION_HANDLE h)
{
    return CKR_OK;
}

static CK_RV f_find_init(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n)
{
    return CKR_OK;
}

static CK_RV f_find(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *objs, CK_ULONG max, CK_ULONG *n)
{
    *n = MIN(fake.find_results, max);
    for (CK_ULONG i = 0; i < *n; i++)
        objs[i] = 100 + i;
    return CKR_OK;
}

static CK_RV f_find_final(CK_SESSION_HANDLE h)
{
    return CKR_OK;
}

static CK_RV f_get_attr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE *a, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        const void *v = a[i].type == CKA_ID ? (const void *)key_id : (const void *)key_label;
        size_t len = a[i].type == CKA_ID ? sizeof(key_id) : strlen(key_label);
        assert_true(a[i].ulValueLen >= len);
        memcpy(a[i].pValue, v, len);
        a[i].ulValueLen = len;
    }
    return CKR_OK;
}

static CK_RV f_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO *ti)
{
    if (fake.token_info_rv != CKR_OK)
        return fake.token_info_rv;
    memset(ti, 0, sizeof(*ti));
    memset(ti->label, ' ', sizeof(ti->label));
    memcpy(ti->label, fake.token_label, strlen(fake.token_label));
    return CKR_OK;
}

static CK_FUNCTION_LIST fake_fl;

int __wrap_p11_module_function_list(const char *realpath, CK_FUNCTION_LIST **ret);
int __wrap_p11_module_function_list(const char *realpath, CK_FUNCTION_LIST **ret)
{
    fake_fl = (CK_FUNCTION_LIST){
            .C_OpenSession = f_open_session,
            .C_CloseSession = f_close_session,
            .C_FindObjectsInit = f_find_init,
            .C_FindObjects = f_find,
            .C_FindObjectsFinal = f_find_final,
            .C_GetAttributeValue = f_get_attr,
            .C_GetTokenInfo = f_token_info,
    };
    *ret = &fake_fl;
    return 0;
}

/* ---- fixtures -------------------------------------------------------------------------- */

static char dir[64], module[128];
static struct key_backend *kb;

static int group_setup(void **state)
{
    int fd;

    snprintf(dir, sizeof(dir), "/tmp/hwsign-p11-unit-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(module, sizeof(module), "%s/libfake.so", dir);
    fd = open(module, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    chmod(module, 0644);
    soft_key = EVP_EC_gen("P-256");
    return soft_key ? 0 : -1;
}

static int group_teardown(void **state)
{
    unlink(module);
    rmdir(dir);
    EVP_PKEY_free(soft_key);
    return 0;
}

static int setup(void **state)
{
    const char *const dirs[] = {dir, NULL};
    struct p11_config cfg = {.name = "hsm", .module = module, .token = LABEL, .module_dirs = dirs};

    memset(&fake, 0, sizeof(fake));
    fake.token_label = LABEL;
    fake.find_results = 1;
    cfg.pin = secret_new("1234", 4);
    assert_int_equal(p11_backend_new(&cfg, &kb), 0);
    return 0;
}

static int teardown(void **state)
{
    kb->ops->free(kb);
    kb = NULL;
    return 0;
}

static enum hwsign_backend_state health(char *detail, size_t len)
{
    return kb->ops->health(kb, detail, len);
}

static int sign(void)
{
    uint8_t dg[32] = {1}, sig[HWSIGN_MAX_SIG];
    size_t len = sizeof(sig);

    return kb->ops->sign(kb, LOCATOR, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                         HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, &len);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_open_ok(void **state)
{
    char detail[128];

    assert_int_equal(health(detail, sizeof(detail)), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(fake.login, 1);
    assert_int_equal(fake.ctx_load, 1);
    assert_int_equal(health(detail, sizeof(detail)), HWSIGN_BACKEND_OK);
    assert_string_equal(detail, "token 'demo' present, logged in");
    assert_int_equal(sign(), 0);
    assert_int_equal(sign(), 0); /* cached key */
    assert_string_equal(kb->ops->kind, "pkcs11");
}

static void test_wrong_pin(void **state)
{
    char detail[128];

    fake.login_rv = CKR_PIN_INCORRECT;
    assert_int_equal(kb->ops->open(kb), -EKEYREJECTED);
    assert_int_equal(fake.login, 1);
    assert_string_equal(kb->ops->last_error(kb), "C_Login: CKR_PIN_INCORRECT (0xa0)");
    assert_int_equal(health(detail, sizeof(detail)), HWSIGN_BACKEND_PIN_REJECTED);
    assert_non_null(strstr(detail, "CKR_PIN_INCORRECT"));
    assert_null(strstr(detail, "1234"));
    /* everything was closed again */
    assert_int_equal(fake.release, 1);
    assert_int_equal(fake.ctx_unload, 1);
    /* never again: no module load, no login */
    fake.login_rv = CKR_OK;
    for (int i = 0; i < 10; i++)
        assert_int_equal(kb->ops->open(kb), -EKEYREJECTED);
    assert_int_equal(fake.login, 1);
    assert_int_equal(fake.ctx_load, 1);
    assert_int_equal(sign(), -ENODEV);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_PIN_REJECTED);
}

static void test_pin_locked(void **state)
{
    fake.login_rv = CKR_PIN_LOCKED;
    assert_int_equal(kb->ops->open(kb), -EKEYREVOKED);
    assert_int_equal(fake.login, 1);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_LOCKED_OUT);
    assert_string_equal(kb->ops->last_error(kb), "C_Login: CKR_PIN_LOCKED (0xa4)");
    assert_int_equal(kb->ops->open(kb), -EKEYREVOKED);
    assert_int_equal(fake.login, 1);
}

static void test_pin_expired(void **state)
{
    fake.login_rv = CKR_PIN_EXPIRED;
    assert_int_equal(kb->ops->open(kb), -EKEYREVOKED);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_LOCKED_OUT);
}

static void test_pin_locked_flag(void **state)
{
    fake.pin_locked_flag = 1;
    assert_int_equal(kb->ops->open(kb), -EKEYREVOKED);
    assert_int_equal(fake.login, 0); /* no attempt spent on a locked PIN */
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_LOCKED_OUT);
}

static void test_token_absent(void **state)
{
    char detail[128];

    fake.token_label = "other";
    assert_int_equal(kb->ops->open(kb), -ENODEV);
    assert_int_equal(fake.login, 0);
    assert_int_equal(health(detail, sizeof(detail)), HWSIGN_BACKEND_UNAVAILABLE);
    assert_string_equal(kb->ops->last_error(kb), "token 'demo' not present");
    assert_int_equal(fake.ctx_unload, 1);
    /* the token shows up: the next open() works */
    fake.token_label = LABEL;
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(fake.login, 1);
}

static void check_removal(CK_RV rv)
{
    char detail[160];

    assert_int_equal(kb->ops->open(kb), 0); /* opens at first, no-op afterwards */
    memset(&fake, 0, sizeof(fake));
    fake.token_label = LABEL;
    fake.find_results = 1;
    assert_int_equal(sign(), 0);
    fake.sign_rv = rv;
    assert_int_equal(sign(), -ENODEV);
    assert_int_equal(health(detail, sizeof(detail)), HWSIGN_BACKEND_UNAVAILABLE);
    assert_non_null(strstr(detail, p11_rv_name(rv)));
    assert_int_equal(fake.release, 1);
    assert_int_equal(fake.ctx_unload, 1);
    assert_int_equal(fake.ctx_free, 1);
    assert_int_equal(sign(), -ENODEV); /* no calls into a dead module */
    /* token back: rebuilt from scratch, one more login */
    fake.sign_rv = CKR_OK;
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(fake.ctx_load, 1);
    assert_int_equal(fake.login, 1);
    assert_int_equal(sign(), 0);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_OK);
}

static void test_sign_token_removed(void **state)
{
    static const CK_RV fatal[] = {CKR_DEVICE_REMOVED,          CKR_TOKEN_NOT_PRESENT,
                                  CKR_SESSION_HANDLE_INVALID,  CKR_SESSION_CLOSED,
                                  CKR_USER_NOT_LOGGED_IN,      CKR_DEVICE_ERROR,
                                  CKR_CRYPTOKI_NOT_INITIALIZED};

    for (size_t i = 0; i < ELEMENTSOF(fatal); i++)
        check_removal(fatal[i]);
}

static void test_sign_key_gone(void **state)
{
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(sign(), 0);
    /* key deleted, token fine: -ENOKEY, nothing torn down */
    fake.sign_rv = CKR_OBJECT_HANDLE_INVALID;
    assert_int_equal(sign(), -ENOKEY);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_OK);
    assert_int_equal(fake.release, 0);
    /* the same code while the token no longer answers (SoftHSM after its directory went) */
    fake.token_info_rv = CKR_GENERAL_ERROR;
    assert_int_equal(sign(), -ENODEV);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_string_equal(kb->ops->last_error(kb), "C_Sign: CKR_OBJECT_HANDLE_INVALID (0x82); "
                                                 "C_GetTokenInfo: CKR_GENERAL_ERROR (0x5)");
    assert_int_equal(fake.release, 1);
}

static void test_ops_closed(void **state)
{
    char *loc = (char *)0x1;
    uint8_t *spki = (uint8_t *)0x2;
    size_t len = 3;
    enum hwsign_alg alg = (enum hwsign_alg)77;

    assert_int_equal(sign(), -ENODEV);
    assert_int_equal(kb->ops->import(kb, LOCATOR, &loc, &alg, &spki, &len), -ENODEV);
    assert_int_equal(kb->ops->create(kb, "k", HWSIGN_ALG_ECDSA_P256, &loc, &spki, &len), -ENODEV);
    assert_int_equal(kb->ops->destroy(kb, LOCATOR), -ENODEV);
    assert_ptr_equal(loc, (char *)0x1);
    assert_ptr_equal(spki, (uint8_t *)0x2);
    assert_int_equal(len, 3);
    assert_int_equal(alg, 77);
    assert_int_equal(fake.ctx_new, 0);
}

static void test_bad_arguments(void **state)
{
    char *loc = (char *)0x1;
    uint8_t *spki = (uint8_t *)0x2, dg[32] = {0}, sig[16];
    size_t len = sizeof(sig);
    enum hwsign_alg alg = (enum hwsign_alg)77;

    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->create(kb, "bad name", HWSIGN_ALG_ECDSA_P256, &loc, &spki, &len),
                     -EINVAL);
    assert_int_equal(kb->ops->create(kb, "k", HWSIGN_ALG_UNKNOWN, &loc, &spki, &len), -EOPNOTSUPP);
    assert_int_equal(kb->ops->import(kb, "pkcs11:object=k?pin-value=1234", &loc, &alg, &spki, &len),
                     -EINVAL);
    assert_null(strstr(kb->ops->last_error(kb), "1234"));
    assert_int_equal(kb->ops->import(kb, "pkcs11:token=x;object=k", &loc, &alg, &spki, &len),
                     -EINVAL);
    fake.find_results = 2;
    assert_int_equal(kb->ops->import(kb, "pkcs11:object=k", &loc, &alg, &spki, &len), -EINVAL);
    fake.find_results = 0;
    assert_int_equal(kb->ops->import(kb, "pkcs11:object=k", &loc, &alg, &spki, &len), -ENOKEY);
    fake.find_results = 1;
    /* signature does not fit: -EMSGSIZE, length untouched */
    assert_int_equal(kb->ops->sign(kb, LOCATOR, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, &len),
                     -EMSGSIZE);
    assert_int_equal(len, sizeof(sig));
    assert_int_equal(kb->ops->sign(kb, LOCATOR, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA384,
                                   HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, &len),
                     -EINVAL);
    assert_ptr_equal(loc, (char *)0x1);
    assert_ptr_equal(spki, (uint8_t *)0x2);
    assert_int_equal(alg, 77);
    assert_int_equal(health(NULL, 0), HWSIGN_BACKEND_OK); /* no teardown for bad input */
}

static void test_module_check(void **state)
{
    const char *const dirs[] = {dir, NULL};
    const char *const other[] = {"/usr/share", NULL};
    char *real = (char *)0x1, err[256];
    char missing[160];

    assert_int_equal(p11_module_check(module, dirs, &real, err, sizeof(err)), 0);
    assert_non_null(strstr(real, "libfake.so"));
    free(real);
    real = (char *)0x1;
    assert_int_equal(p11_module_check(module, other, &real, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "outside the allowed module directories"));
    assert_int_equal(p11_module_check(module, NULL, &real, err, sizeof(err)), -EPERM);
    snprintf(missing, sizeof(missing), "%s/nope.so", dir);
    assert_int_equal(p11_module_check(missing, dirs, &real, err, sizeof(err)), -ENOENT);
    chmod(module, 0664);
    assert_int_equal(p11_module_check(module, dirs, &real, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "not writable by group or others"));
    chmod(module, 0646);
    assert_int_equal(p11_module_check(module, dirs, &real, err, sizeof(err)), -EPERM);
    chmod(module, 0644);
    chmod(dir, 0777);
    assert_int_equal(p11_module_check(module, dirs, &real, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "module directory"));
    chmod(dir, 0700);
    assert_int_equal(p11_module_check(dir, dirs, &real, err, sizeof(err)), -EPERM);
    assert_ptr_equal(real, (char *)0x1);
}

static void test_config(void **state)
{
    const char *const dirs[] = {dir, NULL};
    struct p11_config cfg = {.name = "hsm", .module = module, .token = LABEL, .module_dirs = dirs};
    struct key_backend *b = (struct key_backend *)0x1;
    char err[256];

    assert_int_equal(p11_backend_new_err(&cfg, &b, err, sizeof(err)), -EINVAL); /* no PIN */
    cfg.pin = secret_new("1", 1);
    cfg.token = "";
    assert_int_equal(p11_backend_new_err(&cfg, &b, err, sizeof(err)), -EINVAL);
    cfg.token = "a-token-label-longer-than-32-bytes";
    assert_int_equal(p11_backend_new_err(&cfg, &b, err, sizeof(err)), -EINVAL);
    cfg.token = LABEL;
    cfg.module = "/nonexistent/lib.so";
    assert_int_equal(p11_backend_new_err(&cfg, &b, err, sizeof(err)), -ENOENT);
    assert_ptr_equal(b, (struct key_backend *)0x1);
    secret_free(cfg.pin); /* ownership passes only on success */
    kb->ops->free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_open_ok, setup, teardown),
            cmocka_unit_test_setup_teardown(test_wrong_pin, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pin_locked, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pin_expired, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pin_locked_flag, setup, teardown),
            cmocka_unit_test_setup_teardown(test_token_absent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_sign_token_removed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_sign_key_gone, setup, teardown),
            cmocka_unit_test_setup_teardown(test_ops_closed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
            cmocka_unit_test_setup_teardown(test_module_check, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
