/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "p11-backend.h"
#include "parse.h"
#include "p11-module.h"
#include "p11-rv.h"
#include "p11-sign.h"
#include "p11-token.h"
#include "p11-uri.h"

struct key_cache {
    char *locator;
    EVP_PKEY *pkey; /* libp11 key: holds a reference to its slot, so dropped before the slots */
    enum hwsign_alg alg;
};

struct p11_backend {
    struct key_backend base;
    struct p11_token tok;
    /*
     * The user PIN stays in this secret buffer (wiped on free) for the life of the instance:
     * after a token error tears everything down, open() logs in again on a fresh context
     * (token reinserted, module restarted) without an administrator. It is never used after
     * the token rejected it. While logged in, libp11 0.4.12 keeps its own copy in the slot
     * (freed, cleansed, when the slots are released).
     */
    struct secret *pin;
    atomic_int state; /* enum hwsign_backend_state; read by health() from any thread */
    pthread_mutex_t detail_lock;
    char detail[P11_ERR_MAX]; /* guarded by detail_lock */
    struct key_cache cache[P11_KEY_CACHE_MAX];
    size_t n_cache;
};

static struct p11_backend *to_p11(struct key_backend *kb)
{
    return (struct p11_backend *)kb;
}

_printf_(3, 4) static void set_state(struct p11_backend *b, enum hwsign_backend_state st,
                                     const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&b->detail_lock);
    va_start(ap, fmt);
    if (vsnprintf(b->detail, sizeof(b->detail), fmt, ap) < 0)
        b->detail[0] = '\0';
    va_end(ap);
    atomic_store(&b->state, (int)st);
    pthread_mutex_unlock(&b->detail_lock);
}

static bool is_open(struct p11_backend *b)
{
    return atomic_load(&b->state) == HWSIGN_BACKEND_OK && b->tok.logged_in;
}

static void cache_drop(struct p11_backend *b, size_t i)
{
    free(b->cache[i].locator);
    EVP_PKEY_free(b->cache[i].pkey);
    b->cache[i] = b->cache[--b->n_cache];
    b->cache[b->n_cache] = (struct key_cache){0};
}

static void cache_clear(struct p11_backend *b)
{
    while (b->n_cache > 0)
        cache_drop(b, b->n_cache - 1);
}

/* Caller holds p11_lock. */
static void teardown(struct p11_backend *b)
{
    cache_clear(b);
    p11_token_close(&b->tok);
}

static int op_begin(struct p11_backend *b)
{
    p11_lock();
    if (!is_open(b)) {
        p11_unlock();
        return p11_token_failf(&b->tok, -ENODEV, "token '%s' is not open", b->tok.label);
    }
    return 0;
}

static int op_end(struct p11_backend *b, int r)
{
    /* A module error may really be a vanished token: ask before blaming the key. */
    if (r < 0 && r != -ENODEV && b->tok.rv != P11_RV_NONE && p11_token_probe(&b->tok) < 0)
        r = -ENODEV;
    if (r == -ENODEV) {
        teardown(b);
        set_state(b, HWSIGN_BACKEND_UNAVAILABLE, "token '%s' lost: %s", b->tok.label, b->tok.err);
    }
    p11_unlock();
    return r;
}

/* (Re)builds the token from scratch and sets the state. Caller holds p11_lock. */
static int open_locked(struct p11_backend *b)
{
    int r;

    teardown(b);
    r = p11_token_open(&b->tok, b->pin);
    if (r == 0)
        set_state(b, HWSIGN_BACKEND_OK, "token '%s' present, logged in", b->tok.label);
    else if (r == -EKEYREJECTED)
        set_state(b, HWSIGN_BACKEND_PIN_REJECTED, "token '%s': PIN rejected (%s); not retried",
                  b->tok.label, b->tok.err);
    else if (r == -EKEYREVOKED)
        set_state(b, HWSIGN_BACKEND_LOCKED_OUT, "token '%s': PIN locked or expired (%s)",
                  b->tok.label, b->tok.err);
    else
        set_state(b, HWSIGN_BACKEND_UNAVAILABLE, "token '%s' unavailable: %s", b->tok.label,
                  b->tok.err);
    return r == 0 || r == -EKEYREJECTED || r == -EKEYREVOKED || r == -ENOMEM ? r : -ENODEV;
}

static int p11_open(struct key_backend *kb)
{
    struct p11_backend *b = to_p11(kb);
    int r = 0;

    switch (atomic_load(&b->state)) {
    case HWSIGN_BACKEND_PIN_REJECTED:
        return -EKEYREJECTED; /* t->err still names the C_Login failure */
    case HWSIGN_BACKEND_LOCKED_OUT:
        return -EKEYREVOKED;
    default:
        break;
    }
    p11_lock();
    if (!is_open(b))
        r = open_locked(b);
    p11_unlock();
    return r;
}

struct key_ref {
    uint8_t id[P11_MAX_ID];
    size_t id_len;
    const char *object; /* borrowed from uri, may be NULL */
};

/*
 * Parses an administrator-supplied locator and applies the rules for this backend: the token
 * (if named) must be ours, manufacturer/model/serial (if named) must match it, pin-value is
 * refused, type must be private, and object and/or id must be present. module-path/-name and
 * pin-source are ignored: the backend's configuration alone selects module and PIN.
 */
static int parse_locator(struct p11_backend *b, const char *locator, struct p11_uri **ret_uri,
                         struct key_ref *ref)
{
    _cleanup_(p11_uri_freep) struct p11_uri *u = NULL;
    struct p11_token *t = &b->tok;
    const struct p11_uri_attr *a;
    int r = 0;

    if (!locator)
        return p11_token_failf(t, -EINVAL, "no locator");
    size_t len = strnlen(locator, HWSIGN_MAX_URI + 1);
    if (len > HWSIGN_MAX_URI)
        return p11_token_failf(t, -EMSGSIZE, "locator longer than %u bytes", HWSIGN_MAX_URI);
    r = p11_uri_parse(locator, len, &u);
    if (r < 0)
        return p11_token_failf(t, r, "locator is not a valid PKCS#11 URI (RFC 7512)");
    if (p11_uri_get(u, "pin-value"))
        return p11_token_failf(t, -EINVAL,
                               "refusing a PKCS#11 URI with pin-value: a PIN must "
                               "never be stored in a key registration");
    a = p11_uri_get(u, "token");
    if (a && (a->len != strlen(t->label) || memcmp(a->value, t->label, a->len) != 0))
        return p11_token_failf(t, -EINVAL, "URI names another token; this backend serves '%s'",
                               t->label);
    a = p11_uri_get(u, "type");
    if (a && !streq((const char *)a->value, "private"))
        return p11_token_failf(t, -EINVAL, "URI type must be 'private' (a signing key)");
    if (t->slot && t->slot->token) {
        static const char *const names[] = {"manufacturer", "model", "serial"};
        const char *vals[] = {t->slot->token->manufacturer, t->slot->token->model,
                              t->slot->token->serialnr};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
            a = p11_uri_get(u, names[i]);
            if (a &&
                (!vals[i] || a->len != strlen(vals[i]) || memcmp(a->value, vals[i], a->len) != 0))
                return p11_token_failf(t, -EINVAL, "URI %s does not match token '%s'", names[i],
                                       t->label);
        }
    }
    ref->object = p11_uri_get_str(u, "object", &r);
    if (r < 0)
        return p11_token_failf(t, -EINVAL, "URI object contains a NUL byte");
    a = p11_uri_get(u, "id");
    ref->id_len = 0;
    if (a) {
        if (a->len == 0 || a->len > P11_MAX_ID)
            return p11_token_failf(t, -EINVAL, "URI id must be 1..%u bytes", P11_MAX_ID);
        memcpy(ref->id, a->value, a->len);
        ref->id_len = a->len;
    }
    if (!ref->object && ref->id_len == 0)
        return p11_token_failf(t, -EINVAL, "URI must name the key by object and/or id");
    *ret_uri = TAKE_PTR(u);
    return 0;
}

static int p11_import(struct key_backend *kb, const char *locator, char **ret_locator,
                      enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct p11_backend *b = to_p11(kb);
    _cleanup_(p11_uri_freep) struct p11_uri *u = NULL;
    _cleanup_free_ char *label = NULL, *canon = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    struct key_ref ref;
    uint8_t id[P11_MAX_ID];
    size_t id_len = 0, spki_len = 0;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    PKCS11_KEY *key;
    int r;

    r = op_begin(b);
    if (r < 0)
        return r;
    r = parse_locator(b, locator, &u, &ref);
    if (r == 0)
        r = p11_token_find_key(&b->tok, ref.id, ref.id_len, ref.object, &key, id, &id_len, &label);
    if (r == 0)
        r = p11_sign_key_info(&b->tok, id, id_len, &alg, &spki, &spki_len);
    if (r == 0) {
        r = p11_uri_format_key(b->tok.label, label, id, id_len, &canon);
        if (r < 0)
            p11_token_failf(&b->tok, r, "cannot format the canonical locator");
    }
    r = op_end(b, r);
    if (r < 0)
        return r;
    *ret_locator = TAKE_PTR(canon);
    *ret_alg = alg;
    *ret_spki = TAKE_PTR(spki);
    *ret_spki_len = spki_len;
    return 0;
}

static int create_locked(struct p11_backend *b, const char *name, enum hwsign_alg alg,
                         char **ret_locator, uint8_t **ret_spki, size_t *ret_spki_len)
{
    _cleanup_free_ uint8_t *spki = NULL;
    _cleanup_free_ char *canon = NULL;
    uint8_t id[P11_KEYGEN_ID_LEN], got_id[P11_MAX_ID];
    size_t got_len = 0, spki_len = 0;
    enum hwsign_alg got_alg = HWSIGN_ALG_UNKNOWN;
    PKCS11_KEY *key;
    int r;

    r = p11_token_find_key(&b->tok, NULL, 0, name, &key, NULL, NULL, NULL);
    if (r == 0 || r == -EINVAL)
        return p11_token_failf(&b->tok, -EEXIST, "a private key labelled '%s' exists", name);
    if (r != -ENOKEY)
        return r;
    r = p11_sign_generate(&b->tok, name, alg, id);
    if (r < 0)
        return r;
    /* Re-enumerates, so libp11 lists the new key from now on. */
    r = p11_token_find_key(&b->tok, id, sizeof(id), name, &key, got_id, &got_len, NULL);
    if (r == 0)
        r = p11_sign_key_info(&b->tok, got_id, got_len, &got_alg, &spki, &spki_len);
    if (r == 0 && got_alg != alg)
        r = p11_token_failf(&b->tok, -EIO, "token generated a key of another algorithm");
    if (r == 0) {
        r = p11_uri_format_key(b->tok.label, name, id, sizeof(id), &canon);
        if (r < 0)
            p11_token_failf(&b->tok, r, "cannot format the canonical locator");
    }
    if (r < 0 && r != -ENODEV) {
        /* Leave no orphan behind; keep the first error text. */
        char saved[P11_ERR_MAX];
        memcpy(saved, b->tok.err, sizeof(saved));
        (void)p11_token_destroy_key(&b->tok, id, sizeof(id), name);
        memcpy(b->tok.err, saved, sizeof(saved));
        return r;
    }
    if (r < 0)
        return r;
    *ret_locator = TAKE_PTR(canon);
    *ret_spki = TAKE_PTR(spki);
    *ret_spki_len = spki_len;
    return 0;
}

static int p11_create(struct key_backend *kb, const char *name, enum hwsign_alg alg,
                      char **ret_locator, uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct p11_backend *b = to_p11(kb);
    int r;

    if (!name_is_valid(name)) /* key names become CKA_LABELs */
        return p11_token_failf(&b->tok, -EINVAL, "invalid key name");
    if (alg != HWSIGN_ALG_ECDSA_P256 && alg != HWSIGN_ALG_ECDSA_P384 && alg != HWSIGN_ALG_RSA_3072)
        return p11_token_failf(&b->tok, -EOPNOTSUPP, "algorithm %d is not supported", (int)alg);
    r = op_begin(b);
    if (r < 0)
        return r;
    return op_end(b, create_locked(b, name, alg, ret_locator, ret_spki, ret_spki_len));
}

/* The cached private key for locator, resolving it on a miss. */
static int key_for(struct p11_backend *b, const char *locator, struct key_cache **ret)
{
    _cleanup_(p11_uri_freep) struct p11_uri *u = NULL;
    _cleanup_free_ char *copy = NULL;
    struct key_ref ref;
    PKCS11_KEY *key;
    EVP_PKEY *pkey;
    int r;

    for (size_t i = 0; i < b->n_cache; i++)
        if (streq(b->cache[i].locator, locator)) {
            *ret = &b->cache[i];
            return 0;
        }
    r = parse_locator(b, locator, &u, &ref);
    if (r < 0)
        return r;
    r = p11_token_find_key(&b->tok, ref.id, ref.id_len, ref.object, &key, NULL, NULL, NULL);
    if (r < 0)
        return r;
    copy = strdup(locator);
    if (!copy)
        return p11_token_failf(&b->tok, -ENOMEM, "out of memory");
    ERR_clear_error();
    pkey = PKCS11_get_private_key(key);
    if (!pkey) {
        CK_RV rv = p11_rv_take();
        if (rv == P11_RV_NONE)
            return p11_token_failf(&b->tok, -EIO, "libp11 cannot load the private key");
        return p11_token_fail(&b->tok, "loading private key", rv);
    }
    if (b->n_cache == P11_KEY_CACHE_MAX)
        cache_drop(b, 0);
    b->cache[b->n_cache] = (struct key_cache){TAKE_PTR(copy), pkey, p11_sign_pkey_alg(pkey)};
    *ret = &b->cache[b->n_cache++];
    return 0;
}

static int p11_sign(struct key_backend *kb, const char *locator, enum hwsign_alg alg,
                    enum hwsign_hash hash, enum hwsign_scheme scheme, const uint8_t *digest,
                    size_t digest_len, uint8_t *sig, size_t *sig_len)
{
    struct p11_backend *b = to_p11(kb);
    struct key_cache *k = NULL;
    int r;

    if (!locator || !digest || !sig || !sig_len)
        return p11_token_failf(&b->tok, -EINVAL, "missing argument");
    r = op_begin(b);
    if (r < 0)
        return r;
    r = key_for(b, locator, &k);
    if (r == 0 && (!k || k->alg != alg))
        r = p11_token_failf(&b->tok, -EINVAL, "key is not of the requested algorithm");
    if (r == 0 && k) {
        r = p11_sign_digest(&b->tok, k->pkey, hash, scheme, digest, digest_len, sig, sig_len);
        if (r == -ENOKEY) /* deleted behind our back */
            cache_drop(b, (size_t)(k - b->cache));
    }
    return op_end(b, r);
}

static int p11_destroy(struct key_backend *kb, const char *locator)
{
    struct p11_backend *b = to_p11(kb);
    _cleanup_(p11_uri_freep) struct p11_uri *u = NULL;
    struct key_ref ref;
    int r;

    r = op_begin(b);
    if (r < 0)
        return r;
    r = parse_locator(b, locator, &u, &ref);
    if (r == 0 && ref.id_len == 0)
        r = p11_token_failf(&b->tok, -EINVAL, "destroy needs a locator with an id");
    if (r == 0) {
        cache_clear(b); /* any entry may name this key under another spelling */
        r = p11_token_destroy_key(&b->tok, ref.id, ref.id_len, ref.object);
    }
    return op_end(b, r);
}

static enum hwsign_backend_state p11_health(struct key_backend *kb, char *detail, size_t detail_len)
{
    struct p11_backend *b = to_p11(kb);
    enum hwsign_backend_state st;

    pthread_mutex_lock(&b->detail_lock);
    st = (enum hwsign_backend_state)atomic_load(&b->state);
    if (detail && detail_len > 0 && snprintf(detail, detail_len, "%s", b->detail) < 0)
        detail[0] = '\0';
    pthread_mutex_unlock(&b->detail_lock);
    return st;
}

static const char *p11_last_error(struct key_backend *kb)
{
    return to_p11(kb)->tok.err;
}

static void p11_free(struct key_backend *kb)
{
    struct p11_backend *b;

    if (!kb)
        return;
    b = to_p11(kb);
    p11_lock();
    teardown(b);
    p11_unlock();
    secret_free(b->pin);
    free(b->tok.module);
    free(b->tok.label);
    pthread_mutex_destroy(&b->detail_lock);
    free(b);
}

static const struct key_backend_ops p11_ops = {
        .kind = "pkcs11",
        .open = p11_open,
        .create = p11_create,
        .import = p11_import,
        .sign = p11_sign,
        .destroy = p11_destroy,
        .health = p11_health,
        .last_error = p11_last_error,
        .free = p11_free,
};

_printf_(3, 4) static int cfg_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (err && len > 0) {
        va_start(ap, fmt);
        if (vsnprintf(err, len, fmt, ap) < 0)
            err[0] = '\0';
        va_end(ap);
    }
    return -EINVAL;
}

int p11_backend_new_err(const struct p11_config *cfg, struct key_backend **ret, char *err,
                        size_t err_len)
{
    _cleanup_free_ char *module = NULL;
    struct p11_backend *b;
    size_t n;
    int r;

    if (!cfg || !ret)
        return cfg_err(err, err_len, "no configuration");
    if (!cfg->name || strlen(cfg->name) > HWSIGN_MAX_NAME)
        return cfg_err(err, err_len, "backend name missing or longer than %u bytes",
                       HWSIGN_MAX_NAME);
    n = cfg->token ? strnlen(cfg->token, P11_TOKEN_LABEL_MAX + 1) : 0;
    if (n == 0 || n > P11_TOKEN_LABEL_MAX)
        return cfg_err(err, err_len, "token label must be 1..%u bytes", P11_TOKEN_LABEL_MAX);
    if (!cfg->pin)
        return cfg_err(err, err_len, "no PIN configured for token '%s'", cfg->token);
    r = p11_module_check(cfg->module, cfg->module_dirs, &module, err, err_len);
    if (r < 0)
        return r;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->tok.label = strdup(cfg->token);
    if (!b->tok.label || pthread_mutex_init(&b->detail_lock, NULL) != 0) {
        free(b->tok.label);
        free(b);
        return -ENOMEM;
    }
    b->base.ops = &p11_ops;
    memcpy(b->base.name, cfg->name, strlen(cfg->name) + 1);
    b->tok.module = TAKE_PTR(module);
    b->pin = cfg->pin; /* ownership passes on success only */
    atomic_init(&b->state, HWSIGN_BACKEND_UNAVAILABLE);
    set_state(b, HWSIGN_BACKEND_UNAVAILABLE, "token '%s' not opened yet", b->tok.label);
    *ret = &b->base;
    return 0;
}

int p11_backend_new(const struct p11_config *cfg, struct key_backend **ret)
{
    return p11_backend_new_err(cfg, ret, NULL, 0);
}
