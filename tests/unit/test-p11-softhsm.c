/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of the PKCS#11 backend against a real SoftHSM2 token created in a private
 * temporary directory (own SOFTHSM2_CONF; the system token store is never touched).
 *
 * Proves: keys of every algorithm are generated on the token, sign, and verify with OpenSSL
 * against the returned SPKI; private keys are sensitive and never extractable; import by id
 * and by object resolves to the canonical locator; foreign tokens, pin-value URIs and
 * unsupported key types are refused; destroy removes both halves; a wrong PIN costs exactly
 * one C_Login and is never retried; a token whose directory disappears fails with -ENODEV
 * and the same backend serves again after the directory comes back, without a new process.
 */
#include <dirent.h>
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
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "p11-module.h"
#include "pkcs11.h"
#include "secret.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN          "hwsign-test"
#define PIN_TOKEN      "hwsign-pin"
#define USER_PIN       "1234"
#define SO_PIN         "12345678"

static char tmpdir[256];
static char token_dir[PATH_MAX * 2]; /* tokens/<uuid> of TOKEN */
static char away_dir[512];           /* where the token directory goes while "removed" */
static struct key_backend *kb;
static unsigned login_calls;

/* Counts every C_Login attempt libp11 makes for us. */
int __real_PKCS11_login(PKCS11_SLOT *slot, int so, const char *pin);
int __wrap_PKCS11_login(PKCS11_SLOT *slot, int so, const char *pin);
int __wrap_PKCS11_login(PKCS11_SLOT *slot, int so, const char *pin)
{
    login_calls++;
    return __real_PKCS11_login(slot, so, pin);
}

static int run(const char *cmd)
{
    int r = system(cmd);
    return r == 0 ? 0 : -1;
}

/* The single entry of tokens/ not equal to skip (NULL: any). */
static int find_token_dir(const char *skip, char *out, size_t len)
{
    char dir[300];
    struct dirent *de;
    DIR *d;
    int found = -1;

    snprintf(dir, sizeof(dir), "%s/tokens", tmpdir);
    d = opendir(dir);
    if (!d)
        return -1;
    while ((de = readdir(d))) {
        char p[PATH_MAX + 300];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (skip && streq(p, skip))
            continue;
        snprintf(out, len, "%s", p);
        found = 0;
    }
    closedir(d);
    return found;
}

static struct key_backend *new_backend(const char *token, const char *pin)
{
    const char *const dirs[] = {"/usr/lib", NULL};
    struct p11_config cfg = {
            .name = "softhsm", .module = SOFTHSM_MODULE, .token = token, .module_dirs = dirs};
    struct key_backend *b = NULL;
    char err[256] = "";

    cfg.pin = secret_new(pin, strlen(pin));
    assert_non_null(cfg.pin);
    int r = p11_backend_new_err(&cfg, &b, err, sizeof(err));
    if (r < 0)
        fail_msg("p11_backend_new: %d %s", r, err);
    return b;
}

static int setup(void **state)
{
    char cmd[PATH_MAX * 3], conf[PATH_MAX + 32];
    FILE *f;

    if (access(SOFTHSM_MODULE, R_OK) != 0)
        return 0; /* the tests skip */
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hwsign-p11-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(conf, sizeof(conf), "%s/tokens", tmpdir);
    if (mkdir(conf, 0700) < 0)
        return -1;
    snprintf(conf, sizeof(conf), "%s/softhsm2.conf", tmpdir);
    f = fopen(conf, "we");
    if (!f)
        return -1;
    fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
            tmpdir);
    fclose(f);
    setenv("SOFTHSM2_CONF", conf, 1);
    snprintf(cmd, sizeof(cmd),
             "softhsm2-util --init-token --free --label %s --so-pin %s --pin %s >/dev/null", TOKEN,
             SO_PIN, USER_PIN);
    if (run(cmd) < 0 || find_token_dir(NULL, token_dir, sizeof(token_dir)) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "softhsm2-util --init-token --free --label %s --so-pin %s --pin %s >/dev/null",
             PIN_TOKEN, SO_PIN, USER_PIN);
    if (run(cmd) < 0)
        return -1;
    snprintf(away_dir, sizeof(away_dir), "%s/away", tmpdir);
    kb = new_backend(TOKEN, USER_PIN);
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];

    if (kb)
        kb->ops->free(kb);
    kb = NULL;
    if (tmpdir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        run(cmd);
    }
    return 0;
}

#define REQUIRE_SOFTHSM()                                                                          \
    do {                                                                                           \
        if (!kb)                                                                                   \
            skip();                                                                                \
    } while (0)

static void verify(const uint8_t *spki, size_t spki_len, enum hwsign_hash hash,
                   enum hwsign_scheme scheme, const uint8_t *dg, size_t dg_len, const uint8_t *sig,
                   size_t sig_len)
{
    const uint8_t *p = spki;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki_len);
    const EVP_MD *md = hash == HWSIGN_HASH_SHA256   ? EVP_sha256()
                       : hash == HWSIGN_HASH_SHA384 ? EVP_sha384()
                                                    : EVP_sha512();
    EVP_PKEY_CTX *c;

    assert_non_null(pub);
    c = EVP_PKEY_CTX_new(pub, NULL);
    assert_non_null(c);
    assert_int_equal(EVP_PKEY_verify_init(c), 1);
    assert_int_equal(EVP_PKEY_CTX_set_signature_md(c, md), 1);
    if (scheme == HWSIGN_SCHEME_RSA_PSS) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, (int)dg_len), 1);
    }
    assert_int_equal(EVP_PKEY_verify(c, sig, sig_len, dg, dg_len), 1);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pub);
}

static int sign_once(const char *loc, enum hwsign_alg alg, enum hwsign_hash hash,
                     enum hwsign_scheme scheme, uint8_t *sig, size_t *sig_len, uint8_t *dg,
                     size_t dg_len)
{
    for (size_t i = 0; i < dg_len; i++)
        dg[i] = (uint8_t)(i * 7 + 1);
    *sig_len = HWSIGN_MAX_SIG;
    return kb->ops->sign(kb, loc, alg, hash, scheme, dg, dg_len, sig, sig_len);
}

/* Slot of the token labelled label, via the function list of the loaded module. */
static CK_FUNCTION_LIST *find_slot(const char *want, CK_SLOT_ID *ret, CK_FLAGS *ret_flags)
{
    char real[PATH_MAX];
    CK_FUNCTION_LIST *fl;
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;

    assert_non_null(realpath(SOFTHSM_MODULE, real));
    assert_int_equal(p11_module_function_list(real, &fl), 0);
    assert_int_equal(fl->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        char label[33];
        if (fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        memcpy(label, ti.label, 32);
        label[32] = '\0';
        for (int j = 31; j >= 0 && label[j] == ' '; j--)
            label[j] = '\0';
        if (streq(label, want)) {
            *ret = slots[i];
            *ret_flags = ti.flags;
            return fl;
        }
    }
    fail_msg("token not found");
    return NULL;
}

/* Session of our own on TOKEN's slot (logged in: the backend's login is per token). */
static CK_FUNCTION_LIST *test_session(CK_SESSION_HANDLE *h)
{
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    CK_FUNCTION_LIST *fl = find_slot(TOKEN, &slot, &flags);

    assert_int_equal(fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, h), CKR_OK);
    return fl;
}

/* Decodes the id=%xx... of a canonical locator. */
static size_t locator_id(const char *loc, uint8_t *id, size_t cap)
{
    const char *p = strstr(loc, ";id=");
    size_t n = 0;

    assert_non_null(p);
    for (p += 4; *p == '%' && n < cap; p += 3) {
        unsigned v;
        assert_int_equal(sscanf(p + 1, "%2x", &v), 1);
        id[n++] = (uint8_t)v;
    }
    return n;
}

static void check_private_attrs(const char *loc, enum hwsign_alg alg)
{
    CK_SESSION_HANDLE h;
    CK_FUNCTION_LIST *fl = test_session(&h);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    uint8_t id[64], value[512];
    size_t id_len = locator_id(loc, id, sizeof(id));
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, id, id_len}};
    CK_OBJECT_HANDLE obj;
    CK_ULONG n = 0;
    CK_BBOOL sensitive = 0, extractable = 1, priv = 0, token = 0, sign = 0, always = 0, never = 0;
    CK_ATTRIBUTE attrs[] = {
            {CKA_SENSITIVE, &sensitive, 1},
            {CKA_EXTRACTABLE, &extractable, 1},
            {CKA_PRIVATE, &priv, 1},
            {CKA_TOKEN, &token, 1},
            {CKA_SIGN, &sign, 1},
            {CKA_ALWAYS_SENSITIVE, &always, 1},
            {CKA_NEVER_EXTRACTABLE, &never, 1},
    };
    /* EC keys keep the secret in CKA_VALUE, RSA keys in CKA_PRIVATE_EXPONENT (and primes). */
    CK_ATTRIBUTE secret_attr = {alg == HWSIGN_ALG_RSA_3072 ? CKA_PRIVATE_EXPONENT : CKA_VALUE,
                                value, sizeof(value)};

    assert_int_equal(fl->C_FindObjectsInit(h, tmpl, 2), CKR_OK);
    assert_int_equal(fl->C_FindObjects(h, &obj, 1, &n), CKR_OK);
    fl->C_FindObjectsFinal(h);
    assert_int_equal(n, 1);
    assert_int_equal(fl->C_GetAttributeValue(h, obj, attrs, ELEMENTSOF(attrs)), CKR_OK);
    assert_true(sensitive && !extractable && priv && token && sign && always && never);
    /* The private value itself cannot be read. */
    assert_int_equal(fl->C_GetAttributeValue(h, obj, &secret_attr, 1), CKR_ATTRIBUTE_SENSITIVE);
    fl->C_CloseSession(h);
}

static char *loc_p256, *loc_p384, *loc_rsa;
static uint8_t *spki_p256, *spki_rsa;
static size_t spki_p256_len, spki_rsa_len;

static void test_open(void **state)
{
    char detail[256];

    REQUIRE_SOFTHSM();
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->open(kb), 0); /* idempotent: no second login */
    assert_int_equal(login_calls, 1);
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_OK);
    assert_non_null(strstr(detail, TOKEN));
}

static void create_sign_verify(enum hwsign_alg alg, const char *name, enum hwsign_hash hash,
                               size_t dg_len, char **ret_loc, uint8_t **ret_spki,
                               size_t *ret_spki_len)
{
    char *loc = (char *)0x1, *loc2 = NULL;
    uint8_t *spki = (uint8_t *)0x1, sig[HWSIGN_MAX_SIG], dg[64];
    size_t spki_len = 0, sig_len;

    assert_int_equal(kb->ops->create(kb, name, alg, &loc, &spki, &spki_len), 0);
    assert_non_null(strstr(loc, "pkcs11:token=" TOKEN ";object="));
    assert_non_null(strstr(loc, ";type=private"));
    assert_int_equal(locator_id(loc, dg, sizeof(dg)), 16);
    assert_int_equal(sign_once(loc, alg, hash, HWSIGN_SCHEME_DEFAULT, sig, &sig_len, dg, dg_len),
                     0);
    verify(spki, spki_len, hash, HWSIGN_SCHEME_DEFAULT, dg, dg_len, sig, sig_len);
    if (alg == HWSIGN_ALG_RSA_3072) {
        assert_int_equal(
                sign_once(loc, alg, hash, HWSIGN_SCHEME_RSA_PSS, sig, &sig_len, dg, dg_len), 0);
        verify(spki, spki_len, hash, HWSIGN_SCHEME_RSA_PSS, dg, dg_len, sig, sig_len);
    } else {
        assert_int_equal(
                sign_once(loc, alg, hash, HWSIGN_SCHEME_RSA_PSS, sig, &sig_len, dg, dg_len),
                -EOPNOTSUPP);
    }
    check_private_attrs(loc, alg);
    /* A second key with the same name is refused and leaves outputs alone. */
    assert_int_equal(kb->ops->create(kb, name, alg, &loc2, &spki, &spki_len), -EEXIST);
    assert_null(loc2);
    *ret_loc = loc;
    *ret_spki = spki;
    *ret_spki_len = spki_len;
}

static void test_create_p256(void **state)
{
    REQUIRE_SOFTHSM();
    create_sign_verify(HWSIGN_ALG_ECDSA_P256, "key-p256", HWSIGN_HASH_SHA256, 32, &loc_p256,
                       &spki_p256, &spki_p256_len);
}

static void test_create_p384(void **state)
{
    uint8_t *spki;
    size_t len;

    REQUIRE_SOFTHSM();
    create_sign_verify(HWSIGN_ALG_ECDSA_P384, "key-p384", HWSIGN_HASH_SHA384, 48, &loc_p384, &spki,
                       &len);
    free(spki);
}

static void test_create_rsa(void **state)
{
    REQUIRE_SOFTHSM();
    create_sign_verify(HWSIGN_ALG_RSA_3072, "key.rsa_3072", HWSIGN_HASH_SHA256, 32, &loc_rsa,
                       &spki_rsa, &spki_rsa_len);
}

static void test_sign_errors(void **state)
{
    uint8_t sig[HWSIGN_MAX_SIG], dg[64];
    size_t sig_len = 8;

    REQUIRE_SOFTHSM();
    memset(dg, 1, sizeof(dg));
    /* wrong digest length for the hash */
    assert_int_equal(kb->ops->sign(kb, loc_p256, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, 20, sig, &sig_len),
                     -EINVAL);
    /* too small an output buffer: -EMSGSIZE, length untouched */
    assert_int_equal(kb->ops->sign(kb, loc_p256, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, 32, sig, &sig_len),
                     -EMSGSIZE);
    assert_int_equal(sig_len, 8);
    /* algorithm mismatch */
    sig_len = sizeof(sig);
    assert_int_equal(kb->ops->sign(kb, loc_p256, HWSIGN_ALG_RSA_3072, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, 32, sig, &sig_len),
                     -EINVAL);
}

static void expect_import(const char *uri, int want, const char *want_loc, enum hwsign_alg alg)
{
    char *loc = NULL;
    uint8_t *spki = NULL;
    size_t len = 0;
    enum hwsign_alg got = HWSIGN_ALG_UNKNOWN;

    int r = kb->ops->import(kb, uri, &loc, &got, &spki, &len);
    if (r != want)
        fail_msg("import %s: %d, want %d (%s)", uri, r, want, kb->ops->last_error(kb));
    if (want < 0) {
        assert_null(loc);
        assert_null(spki);
        assert_true(kb->ops->last_error(kb)[0] != '\0');
        return;
    }
    assert_string_equal(loc, want_loc);
    assert_int_equal(got, alg);
    if (alg == HWSIGN_ALG_ECDSA_P256) {
        assert_int_equal(len, spki_p256_len);
        assert_memory_equal(spki, spki_p256, len);
    }
    free(loc);
    free(spki);
}

static void test_import(void **state)
{
    char uri[1100];
    const char *id;

    REQUIRE_SOFTHSM();
    id = strstr(loc_p256, ";id=") + 4;
    expect_import(loc_p256, 0, loc_p256, HWSIGN_ALG_ECDSA_P256);
    snprintf(uri, sizeof(uri), "pkcs11:id=%.48s", id); /* by id only (16 bytes = 48 chars) */
    expect_import(uri, 0, loc_p256, HWSIGN_ALG_ECDSA_P256);
    expect_import("pkcs11:object=key-p256", 0, loc_p256, HWSIGN_ALG_ECDSA_P256);
    expect_import("pkcs11:token=" TOKEN ";object=key%2Drsa_3072;type=private", -ENOKEY, NULL, 0);
    expect_import("pkcs11:token=" TOKEN ";object=key.rsa_3072?module-path=/x", 0, loc_rsa,
                  HWSIGN_ALG_RSA_3072);
    /* Upper-case hex in the id decodes to the same key. */
    snprintf(uri, sizeof(uri), "pkcs11:type=private;id=%.48s", id);
    for (char *p = strstr(uri, "id=") + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    expect_import(uri, 0, loc_p256, HWSIGN_ALG_ECDSA_P256);

    expect_import("pkcs11:token=other;object=key-p256", -EINVAL, NULL, 0);
    expect_import("pkcs11:object=key-p256?pin-value=1234", -EINVAL, NULL, 0);
    assert_null(strstr(kb->ops->last_error(kb), "1234"));
    expect_import("pkcs11:token=" TOKEN, -EINVAL, NULL, 0);
    expect_import("pkcs11:object=key-p256;type=public", -EINVAL, NULL, 0);
    expect_import("pkcs11:object=nope", -ENOKEY, NULL, 0);
    expect_import("pkcs11:object=key-p256;object=x", -EINVAL, NULL, 0);
    expect_import("http://example.com", -EINVAL, NULL, 0);
    expect_import("pkcs11:object=key-p256;serial=0000", -EINVAL, NULL, 0);
}

/* A key the backend must not accept: RSA-2048, generated directly through the module. */
static void test_import_unsupported(void **state)
{
    static CK_BBOOL yes = CK_TRUE;
    static uint8_t id[] = {0xee, 0x01};
    static uint8_t e[] = {1, 0, 1};
    static char label[] = "rsa2048";
    CK_ULONG bits = 2048;
    CK_SESSION_HANDLE h;
    CK_FUNCTION_LIST *fl;
    CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, 1},
                          {CKA_ID, id, sizeof(id)},
                          {CKA_MODULUS_BITS, &bits, sizeof(bits)},
                          {CKA_PUBLIC_EXPONENT, e, sizeof(e)},
                          {CKA_LABEL, label, 7}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, 1},
                           {CKA_PRIVATE, &yes, 1},
                           {CKA_SIGN, &yes, 1},
                           {CKA_ID, id, sizeof(id)},
                           {CKA_LABEL, label, 7}};
    CK_OBJECT_HANDLE a, b;
    CK_SESSION_INFO si;

    REQUIRE_SOFTHSM();
    fl = test_session(&h);
    assert_int_equal(fl->C_GetSessionInfo(h, &si), CKR_OK);
    fl->C_CloseSession(h);
    /* Needs a RW session for token objects. */
    assert_int_equal(
            fl->C_OpenSession(si.slotID, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
            CKR_OK);
    assert_int_equal(
            fl->C_GenerateKeyPair(h, &mech, pub, ELEMENTSOF(pub), priv, ELEMENTSOF(priv), &a, &b),
            CKR_OK);
    fl->C_CloseSession(h);
    expect_import("pkcs11:object=rsa2048", -EOPNOTSUPP, NULL, 0);
    expect_import("pkcs11:id=%ee%01", -EOPNOTSUPP, NULL, 0);
}

static void test_destroy(void **state)
{
    uint8_t sig[HWSIGN_MAX_SIG], dg[48];
    size_t sig_len;

    REQUIRE_SOFTHSM();
    /* warm the cache first: destroy must drop it */
    assert_int_equal(sign_once(loc_p384, HWSIGN_ALG_ECDSA_P384, HWSIGN_HASH_SHA384, 0, sig,
                               &sig_len, dg, 48),
                     0);
    assert_int_equal(kb->ops->destroy(kb, loc_p384), 0);
    assert_int_equal(kb->ops->destroy(kb, loc_p384), -ENOKEY);
    expect_import(loc_p384, -ENOKEY, NULL, 0);
    expect_import("pkcs11:object=key-p384", -ENOKEY, NULL, 0);
    assert_int_equal(sign_once(loc_p384, HWSIGN_ALG_ECDSA_P384, HWSIGN_HASH_SHA384, 0, sig,
                               &sig_len, dg, 48),
                     -ENOKEY);
    /* the public half is gone too: the name can be used again */
    {
        CK_SESSION_HANDLE h;
        CK_FUNCTION_LIST *fl = test_session(&h);
        CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "key-p384", 8}};
        CK_OBJECT_HANDLE o;
        CK_ULONG n = 1;
        assert_int_equal(fl->C_FindObjectsInit(h, t, 2), CKR_OK);
        assert_int_equal(fl->C_FindObjects(h, &o, 1, &n), CKR_OK);
        fl->C_FindObjectsFinal(h);
        fl->C_CloseSession(h);
        assert_int_equal(n, 0);
    }
    /* the other keys still work */
    assert_int_equal(sign_once(loc_p256, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256, 0, sig,
                               &sig_len, dg, 32),
                     0);
}

static void test_token_removal(void **state)
{
    uint8_t sig[HWSIGN_MAX_SIG], dg[32];
    size_t sig_len;
    char detail[256];
    int r;

    REQUIRE_SOFTHSM();
    assert_int_equal(sign_once(loc_p256, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256, 0, sig,
                               &sig_len, dg, 32),
                     0);
    assert_int_equal(rename(token_dir, away_dir), 0);
    r = sign_once(loc_p256, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256, 0, sig, &sig_len, dg, 32);
    print_message("sign with token directory moved away: %d (%s)\n", r, kb->ops->last_error(kb));
    assert_int_equal(r, -ENODEV);
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_UNAVAILABLE);
    print_message("health: %s\n", detail);
    /* while it is gone, open() keeps failing with -ENODEV */
    r = kb->ops->open(kb);
    print_message("open with token directory away: %d (%s)\n", r, kb->ops->last_error(kb));
    assert_int_equal(r, -ENODEV);
    assert_int_equal(rename(away_dir, token_dir), 0);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_OK);
    assert_int_equal(sign_once(loc_p256, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256, 0, sig,
                               &sig_len, dg, 32),
                     0);
    verify(spki_p256, spki_p256_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, dg, 32, sig,
           sig_len);
}

static void test_wrong_pin(void **state)
{
    struct key_backend *bad;
    char detail[256];
    unsigned before;

    REQUIRE_SOFTHSM();
    bad = new_backend(PIN_TOKEN, "0000");
    before = login_calls;
    int r = bad->ops->open(bad);
    if (r != -EKEYREJECTED)
        fail_msg("open with wrong PIN: %d (%s)", r, bad->ops->last_error(bad));
    assert_int_equal(login_calls, before + 1);
    assert_string_equal(bad->ops->last_error(bad), "C_Login: CKR_PIN_INCORRECT (0xa0)");
    assert_int_equal(bad->ops->health(bad, detail, sizeof(detail)), HWSIGN_BACKEND_PIN_REJECTED);
    assert_null(strstr(detail, "0000"));
    for (int i = 0; i < 5; i++)
        assert_int_equal(bad->ops->open(bad), -EKEYREJECTED);
    assert_int_equal(login_calls, before + 1);
    bad->ops->free(bad);
    /* The token itself recorded the failed login (SoftHSM sets CKF_USER_PIN_COUNT_LOW). */
    {
        CK_SLOT_ID slot;
        CK_FLAGS flags = 0;
        find_slot(PIN_TOKEN, &slot, &flags);
        assert_true(flags & CKF_USER_PIN_COUNT_LOW);
    }

    /* SoftHSM has no retry limit, so the wrap above is what proves a single attempt; the
     * right PIN still works afterwards and clears the flag. */
    bad = new_backend(PIN_TOKEN, USER_PIN);
    assert_int_equal(bad->ops->open(bad), 0);
    assert_int_equal(login_calls, before + 2);
    bad->ops->free(bad);
}

static void test_config_errors(void **state)
{
    const char *const dirs[] = {"/nonexistent-dir", NULL};
    struct p11_config cfg = {.name = "x", .module = SOFTHSM_MODULE, .token = TOKEN};
    struct key_backend *b = (struct key_backend *)0x1;
    char err[256] = "";

    REQUIRE_SOFTHSM();
    cfg.pin = secret_new("1", 1);
    cfg.module_dirs = dirs;
    assert_int_equal(p11_backend_new_err(&cfg, &b, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "outside the allowed"));
    assert_ptr_equal(b, (struct key_backend *)0x1);
    cfg.module_dirs = NULL;
    cfg.module = "/usr/lib/does-not-exist.so";
    assert_int_equal(p11_backend_new_err(&cfg, &b, err, sizeof(err)), -ENOENT);
    secret_free(cfg.pin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_open),
            cmocka_unit_test(test_create_p256),
            cmocka_unit_test(test_create_p384),
            cmocka_unit_test(test_create_rsa),
            cmocka_unit_test(test_sign_errors),
            cmocka_unit_test(test_import),
            cmocka_unit_test(test_import_unsupported),
            cmocka_unit_test(test_destroy),
            cmocka_unit_test(test_token_removal),
            cmocka_unit_test(test_wrong_pin),
            cmocka_unit_test(test_config_errors),
    };
    int r = cmocka_run_group_tests(tests, setup, teardown);

    free(loc_p256);
    free(loc_p384);
    free(loc_rsa);
    free(spki_p256);
    free(spki_rsa);
    return r;
}
