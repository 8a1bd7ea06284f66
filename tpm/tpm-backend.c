/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "tpm-backend.h"
#include "tpm-certify.h"
#include "parse.h"
#include "tpm-context.h"
#include "tpm-key.h"
#include "tpm-keyfile.h"
#include "tpm-quote.h"
#include "tpm-sign.h"
#include "tpm-store.h"

struct loaded_key {
    char *path; /* canonical locator, owned */
    ESYS_TR handle;
    enum hwsign_alg alg;
    uint64_t used; /* LRU tick */
};

struct tpm_backend {
    struct key_backend base;
    struct tpm_context ctx; /* ctx.err is last_error() */
    char *key_dir;          /* canonical */
    ESYS_TR srk;            /* ESYS_TR_NONE while closed */
    struct loaded_key keys[TPM_MAX_LOADED_KEYS];
    size_t n_keys;
    uint64_t tick;
    sigset_t saved_mask; /* worker thread's mask during an op */
    bool sigpipe_was_pending;
    atomic_int state; /* enum hwsign_backend_state; read by health() from any thread */
    pthread_mutex_t detail_lock;
    char detail[TPM_ERR_MAX]; /* guarded by detail_lock */
};

static struct tpm_backend *to_tpm(struct key_backend *kb)
{
    return (struct tpm_backend *)kb;
}

_printf_(3, 4) static void set_state(struct tpm_backend *b, enum hwsign_backend_state st,
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

static void set_ready(struct tpm_backend *b)
{
    set_state(b, HWSIGN_BACKEND_OK, "TPM at %s ready, %zu key(s) loaded", b->ctx.tcti_conf,
              b->n_keys);
}

/* ---- loaded keys (LRU) --------------------------------------------------------------------- */

static void key_evict(struct tpm_backend *b, size_t i)
{
    tpm_context_flush(&b->ctx, &b->keys[i].handle);
    free(b->keys[i].path);
    b->keys[i] = b->keys[--b->n_keys];
    b->keys[b->n_keys] = (struct loaded_key){.handle = ESYS_TR_NONE};
}

/* Flushes least-recently-used keys until at most keep remain loaded. */
static void keys_trim(struct tpm_backend *b, size_t keep)
{
    while (b->n_keys > keep) {
        size_t lru = 0;
        for (size_t i = 1; i < b->n_keys; i++)
            if (b->keys[i].used < b->keys[lru].used)
                lru = i;
        key_evict(b, lru);
    }
}

static struct loaded_key *key_find(struct tpm_backend *b, const char *path)
{
    for (size_t i = 0; i < b->n_keys; i++)
        if (streq(b->keys[i].path, path)) {
            b->keys[i].used = ++b->tick;
            return &b->keys[i];
        }
    return NULL;
}

/* Everything loaded is gone with the connection (or flushed when it is still alive). */
static void teardown(struct tpm_backend *b)
{
    keys_trim(b, 0);
    tpm_context_flush(&b->ctx, &b->srk);
    tpm_context_close(&b->ctx);
}

/* ---- operation bracket ------------------------------------------------------------------- */

/*
 * A socket TCTI writes to a peer that may have died (swtpm killed): block SIGPIPE in this
 * thread for the op and discard one it raised, so the process survives and the write fails.
 */
static void sigpipe_block(struct tpm_backend *b)
{
    sigset_t s, pending;

    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigemptyset(&pending);
    (void)sigpending(&pending);
    b->sigpipe_was_pending = sigismember(&pending, SIGPIPE) == 1;
    (void)pthread_sigmask(SIG_BLOCK, &s, &b->saved_mask);
}

static void sigpipe_restore(struct tpm_backend *b)
{
    static const struct timespec zero = {0, 0};
    sigset_t s, pending;

    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigemptyset(&pending);
    if (!b->sigpipe_was_pending && !sigismember(&b->saved_mask, SIGPIPE) &&
        sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
        (void)sigtimedwait(&s, NULL, &zero);
    (void)pthread_sigmask(SIG_SETMASK, &b->saved_mask, NULL);
}

static void op_start(struct tpm_backend *b)
{
    sigpipe_block(b);
    tpm_context_begin(&b->ctx);
}

static int op_begin(struct tpm_backend *b)
{
    op_start(b);
    if (!tpm_context_is_open(&b->ctx) || b->srk == ESYS_TR_NONE) {
        sigpipe_restore(b);
        return tpm_context_failf(&b->ctx, -ENODEV, "TPM at %s is not open", b->ctx.tcti_conf);
    }
    return 0;
}

static int op_end(struct tpm_backend *b, int r)
{
    if (b->ctx.lost) {
        char why[TPM_ERR_MAX];

        memcpy(why, b->ctx.err, sizeof(why));
        teardown(b);
        set_state(b, HWSIGN_BACKEND_UNAVAILABLE, "TPM at %s unavailable: %s", b->ctx.tcti_conf,
                  why);
        r = -ENODEV;
    } else if (r == -EKEYREVOKED) {
        set_state(b, HWSIGN_BACKEND_LOCKED_OUT,
                  "TPM at %s is in dictionary-attack lockout (%s); hwsign sends no auth values, "
                  "so wait for the lockout to expire or have the owner reset it",
                  b->ctx.tcti_conf, b->ctx.err);
    } else if (atomic_load(&b->state) == HWSIGN_BACKEND_OK) {
        set_ready(b); /* key count */
    }
    sigpipe_restore(b);
    return r;
}

/* ---- open --------------------------------------------------------------------------------- */

static int open_locked(struct tpm_backend *b)
{
    int r;

    teardown(b);
    r = tpm_context_open(&b->ctx);
    if (r == 0)
        r = tpm_key_create_srk(&b->ctx, &b->srk);
    if (r == 0) {
        set_ready(b);
        return 0;
    }
    if (b->ctx.lost || r == -ENODEV) {
        b->ctx.lost = true; /* op_end tears down and reports */
        return -ENODEV;
    }
    if (r == -EKEYREVOKED)
        return r; /* op_end reports the lockout */
    set_state(b, HWSIGN_BACKEND_UNAVAILABLE, "TPM at %s unusable: %s", b->ctx.tcti_conf,
              b->ctx.err);
    teardown(b);
    return r;
}

static int tpm_open(struct key_backend *kb)
{
    struct tpm_backend *b = to_tpm(kb);
    enum hwsign_backend_state st = (enum hwsign_backend_state)atomic_load(&b->state);
    bool usable = tpm_context_is_open(&b->ctx) && b->srk != ESYS_TR_NONE;
    uint32_t perm = 0;
    int r;

    if (st == HWSIGN_BACKEND_OK && usable)
        return 0;
    op_start(b);
    if (st == HWSIGN_BACKEND_LOCKED_OUT && usable) {
        /* Cheap and sends no auth: stay LOCKED_OUT while the TPM says so. */
        r = tpm_context_property(&b->ctx, TPM2_PT_PERMANENT, &perm);
        if (r == 0 && (perm & TPMA_PERMANENT_INLOCKOUT))
            r = -EKEYREVOKED;
        if (r == 0)
            set_ready(b);
        if (r == 0 || r == -EKEYREVOKED) {
            sigpipe_restore(b);
            return r;
        }
        if (!b->ctx.lost)
            r = open_locked(b);
    } else
        r = open_locked(b);
    return op_end(b, r);
}

/* ---- loading ------------------------------------------------------------------------------- */

/* Loads kf as canon into the LRU, flushing the least recently used key if full. */
static int key_load(struct tpm_backend *b, const char *canon, const struct tpm_keyfile *kf,
                    enum hwsign_alg alg, struct loaded_key **ret)
{
    _cleanup_free_ char *copy = strdup(canon);
    ESYS_TR h = ESYS_TR_NONE;
    int r;

    if (!copy)
        return tpm_context_failf(&b->ctx, -ENOMEM, "out of memory");
    keys_trim(b, TPM_MAX_LOADED_KEYS - 1);
    r = tpm_key_load(&b->ctx, b->srk, kf, &h);
    if (r == -ENOKEY) {
        char why[TPM_ERR_MAX];
        memcpy(why, b->ctx.err, sizeof(why));
        return tpm_context_failf(&b->ctx, r, "key file %s does not load on this TPM (%s)", canon,
                                 why);
    }
    if (r < 0)
        return r;
    b->keys[b->n_keys] = (struct loaded_key){TAKE_PTR(copy), h, alg, ++b->tick};
    *ret = &b->keys[b->n_keys++];
    return 0;
}

/* The loaded key for locator, loading it from its file on a miss. */
static int key_get(struct tpm_backend *b, const char *locator, struct loaded_key **ret)
{
    _cleanup_free_ char *canon = NULL;
    struct tpm_keyfile kf;
    struct loaded_key *k;
    enum hwsign_alg alg;
    int r;

    k = key_find(b, locator);
    if (k) {
        *ret = k;
        return 0;
    }
    r = tpm_store_canon(&b->ctx, locator, &canon);
    if (r < 0)
        return r;
    k = key_find(b, canon);
    if (k) {
        *ret = k;
        return 0;
    }
    r = tpm_store_read(&b->ctx, canon, &kf);
    if (r < 0)
        return r;
    if (tpm_key_check_public(&kf.pub.publicArea, &alg) < 0)
        return tpm_context_failf(&b->ctx, -EOPNOTSUPP,
                                 "key %s is not a noDA, empty-auth signing key of a supported "
                                 "algorithm",
                                 canon);
    return key_load(b, canon, &kf, alg, ret);
}

/* ---- ops ----------------------------------------------------------------------------------- */

/* Creates a signing key of alg, or an attestation key (tpm-quote.h) when ak is set. */
static int create_locked(struct tpm_backend *b, const char *name, enum hwsign_alg alg, bool ak,
                         char **ret_locator, uint8_t **ret_spki, size_t *ret_spki_len)
{
    _cleanup_free_ char *path = NULL, *pem = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    size_t spki_len = 0, pem_len = 0;
    struct tpm_keyfile kf;
    struct stat st;
    int r;

    if (asprintf(&path, "%s/%s%s", b->key_dir, name, TPM_KEY_EXT) < 0) {
        path = NULL;
        return tpm_context_failf(&b->ctx, -ENOMEM, "out of memory");
    }
    if (strlen(path) > HWSIGN_MAX_URI)
        return tpm_context_failf(&b->ctx, -EMSGSIZE, "key path longer than %u bytes",
                                 HWSIGN_MAX_URI);
    if (lstat(path, &st) == 0 || errno != ENOENT)
        return tpm_context_failf(&b->ctx, -EEXIST, "key file %s exists", path);
    /* TPM2_Create needs a free object slot of its own for the new key. */
    keys_trim(b, TPM_MAX_LOADED_KEYS - 1);
    r = ak ? tpm_quote_create_ak(&b->ctx, b->srk, &kf) : tpm_key_create(&b->ctx, b->srk, alg, &kf);
    if (r < 0)
        return r;
    r = ak ? tpm_quote_ak_spki(&kf.pub.publicArea, &spki, &spki_len)
           : tpm_key_spki(&kf.pub.publicArea, &spki, &spki_len);
    if (r < 0)
        return tpm_context_failf(&b->ctx, r == -ENOMEM ? r : -EIO,
                                 "cannot build the public key of the new TPM key");
    r = tpm_keyfile_encode(&kf, &pem, &pem_len);
    if (r < 0)
        return tpm_context_failf(&b->ctx, r == -ENOMEM ? r : -EIO, "cannot encode the key file");
    r = write_file_atomic(path, pem, pem_len, 0600);
    explicit_bzero(pem, pem_len); /* wrapped by the SRK, but no need to leave copies around */
    if (r < 0)
        return tpm_context_failf(&b->ctx, r, "cannot write %s: %s", path, strerror(-r));
    *ret_locator = TAKE_PTR(path);
    *ret_spki = TAKE_PTR(spki);
    *ret_spki_len = spki_len;
    return 0;
}

static int tpm_create(struct key_backend *kb, const char *name, enum hwsign_alg alg,
                      char **ret_locator, uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct tpm_backend *b = to_tpm(kb);
    int r;

    if (!name_is_valid(name))
        return tpm_context_failf(&b->ctx, -EINVAL, "invalid key name");
    if (alg != HWSIGN_ALG_ECDSA_P256 && alg != HWSIGN_ALG_ECDSA_P384 && alg != HWSIGN_ALG_RSA_3072)
        return tpm_context_failf(&b->ctx, -EOPNOTSUPP, "algorithm %d is not supported", (int)alg);
    if (!ret_locator || !ret_spki || !ret_spki_len)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = op_begin(b);
    if (r < 0)
        return r;
    return op_end(b, create_locked(b, name, alg, false, ret_locator, ret_spki, ret_spki_len));
}

static int import_locked(struct tpm_backend *b, const char *locator, char **ret_locator,
                         enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len)
{
    _cleanup_free_ char *canon = NULL, *out = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    struct loaded_key *k = NULL;
    struct tpm_keyfile kf;
    enum hwsign_alg alg;
    size_t spki_len = 0;
    int r;

    r = tpm_store_canon(&b->ctx, locator, &canon);
    if (r < 0)
        return r;
    r = tpm_store_read(&b->ctx, canon, &kf);
    if (r < 0)
        return r;
    if (tpm_key_check_public(&kf.pub.publicArea, &alg) < 0)
        return tpm_context_failf(&b->ctx, -EOPNOTSUPP,
                                 "key %s is not a noDA, empty-auth signing key of a supported "
                                 "algorithm",
                                 canon);
    r = tpm_key_spki(&kf.pub.publicArea, &spki, &spki_len);
    if (r < 0)
        return tpm_context_failf(&b->ctx, r == -ENOMEM ? r : -EINVAL,
                                 "key %s has an unusable public key", canon);
    /* Loading proves the blob belongs under this TPM's SRK; keep it loaded for signing. */
    k = key_find(b, canon);
    if (!k) {
        r = key_load(b, canon, &kf, alg, &k);
        if (r < 0)
            return r;
    }
    out = strdup(canon);
    if (!out)
        return tpm_context_failf(&b->ctx, -ENOMEM, "out of memory");
    *ret_locator = TAKE_PTR(out);
    *ret_alg = alg;
    *ret_spki = TAKE_PTR(spki);
    *ret_spki_len = spki_len;
    return 0;
}

static int tpm_import(struct key_backend *kb, const char *locator, char **ret_locator,
                      enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct tpm_backend *b = to_tpm(kb);
    int r;

    if (!ret_locator || !ret_alg || !ret_spki || !ret_spki_len)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = op_begin(b);
    if (r < 0)
        return r;
    return op_end(b, import_locked(b, locator, ret_locator, ret_alg, ret_spki, ret_spki_len));
}

static int tpm_sign(struct key_backend *kb, const char *locator, enum hwsign_alg alg,
                    enum hwsign_hash hash, enum hwsign_scheme scheme, const uint8_t *digest,
                    size_t digest_len, uint8_t *sig, size_t *sig_len)
{
    struct tpm_backend *b = to_tpm(kb);
    struct loaded_key *k = NULL;
    int r;

    if (!locator || !digest || !sig || !sig_len)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = op_begin(b);
    if (r < 0)
        return r;
    r = key_get(b, locator, &k);
    if (r == 0 && k->alg != alg)
        r = tpm_context_failf(&b->ctx, -EINVAL, "key is not of the requested algorithm");
    if (r == 0) {
        r = tpm_sign_digest(&b->ctx, k->handle, alg, hash, scheme, digest, digest_len, sig,
                            sig_len);
        if (r == -ENOKEY) /* handle gone behind our back: reload next time */
            key_evict(b, (size_t)(k - b->keys));
    }
    return op_end(b, r);
}

static int tpm_destroy(struct key_backend *kb, const char *locator)
{
    struct tpm_backend *b = to_tpm(kb);
    _cleanup_free_ char *canon = NULL;
    int r;

    op_start(b);
    r = tpm_store_canon(&b->ctx, locator, &canon);
    if (r == 0 && !tpm_store_in_dir(b->key_dir, canon))
        r = tpm_context_failf(&b->ctx, -EPERM, "not removing %s: outside the key directory %s",
                              canon, b->key_dir);
    if (r == 0) {
        for (size_t i = 0; i < b->n_keys; i++)
            if (streq(b->keys[i].path, canon)) {
                key_evict(b, i);
                break;
            }
        if (unlink(canon) < 0)
            r = tpm_context_failf(&b->ctx, errno == ENOENT ? -ENOKEY : negative_errno(),
                                  "cannot remove %s: %s", canon, strerror(errno));
    }
    return op_end(b, r);
}

static enum hwsign_backend_state tpm_health(struct key_backend *kb, char *detail, size_t detail_len)
{
    struct tpm_backend *b = to_tpm(kb);
    enum hwsign_backend_state st;

    pthread_mutex_lock(&b->detail_lock);
    st = (enum hwsign_backend_state)atomic_load(&b->state);
    if (detail && detail_len > 0 && snprintf(detail, detail_len, "%s", b->detail) < 0)
        detail[0] = '\0';
    pthread_mutex_unlock(&b->detail_lock);
    return st;
}

static const char *tpm_last_error(struct key_backend *kb)
{
    return to_tpm(kb)->ctx.err;
}

static void tpm_free(struct key_backend *kb)
{
    struct tpm_backend *b;

    if (!kb)
        return;
    b = to_tpm(kb);
    op_start(b);
    teardown(b);
    sigpipe_restore(b);
    free(b->ctx.tcti_conf);
    free(b->key_dir);
    pthread_mutex_destroy(&b->detail_lock);
    free(b);
}

static const struct key_backend_ops tpm_ops = {
        .kind = "tpm",
        .open = tpm_open,
        .create = tpm_create,
        .import = tpm_import,
        .sign = tpm_sign,
        .destroy = tpm_destroy,
        .health = tpm_health,
        .last_error = tpm_last_error,
        .free = tpm_free,
};

/* ---- construction -------------------------------------------------------------------------- */

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

int tpm_backend_new(const struct tpm_config *cfg, struct key_backend **ret, char *err,
                    size_t err_len)
{
    _cleanup_free_ char *key_dir = NULL, *tcti = NULL;
    struct tpm_backend *b;
    size_t n;
    int r;

    if (!cfg || !ret)
        return cfg_err(err, err_len, "no configuration");
    if (!cfg->name || !cfg->name[0] || strlen(cfg->name) > HWSIGN_MAX_NAME)
        return cfg_err(err, err_len, "backend name missing or longer than %u bytes",
                       HWSIGN_MAX_NAME);
    n = cfg->tcti ? strnlen(cfg->tcti, TPM_TCTI_CONF_MAX + 1) : 0;
    if (n == 0 || n > TPM_TCTI_CONF_MAX || !tpm_store_printable(cfg->tcti))
        return cfg_err(err, err_len, "tcti must be 1..%u printable bytes", TPM_TCTI_CONF_MAX);
    r = tpm_store_dir_check(cfg->key_dir, &key_dir, err, err_len);
    if (r < 0)
        return r;
    tcti = strdup(cfg->tcti);
    b = calloc(1, sizeof(*b));
    if (!tcti || !b || pthread_mutex_init(&b->detail_lock, NULL) != 0) {
        free(b);
        return -ENOMEM;
    }
    b->base.ops = &tpm_ops;
    memcpy(b->base.name, cfg->name, strlen(cfg->name) + 1);
    b->ctx.tcti_conf = TAKE_PTR(tcti);
    b->ctx.retry_ms = TPM_RETRY_DEFAULT_MS;
    b->key_dir = TAKE_PTR(key_dir);
    b->srk = ESYS_TR_NONE;
    for (size_t i = 0; i < TPM_MAX_LOADED_KEYS; i++)
        b->keys[i].handle = ESYS_TR_NONE;
    atomic_init(&b->state, HWSIGN_BACKEND_UNAVAILABLE);
    set_state(b, HWSIGN_BACKEND_UNAVAILABLE, "TPM at %s not opened yet", b->ctx.tcti_conf);
    *ret = &b->base;
    return 0;
}

/* ---- attestation (tpm.h, tpm-quote.h) ------------------------------------------------------ */

int tpm_backend_create_ak(struct key_backend *kb, const char *name, char **ret_locator,
                          uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct tpm_backend *b = to_tpm(kb);
    int r;

    if (!name_is_valid(name))
        return tpm_context_failf(&b->ctx, -EINVAL, "invalid key name");
    if (!ret_locator || !ret_spki || !ret_spki_len)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = op_begin(b);
    if (r < 0)
        return r;
    return op_end(b, create_locked(b, name, HWSIGN_ALG_ECDSA_P256, true, ret_locator, ret_spki,
                                   ret_spki_len));
}

/* Reads the AK at locator (ret_kf) and loads it; it never enters the signing-key LRU. */
static int ak_load(struct tpm_backend *b, const char *locator, struct tpm_keyfile *ret_kf,
                   ESYS_TR *ret_ak)
{
    _cleanup_free_ char *canon = NULL;
    int r;

    r = tpm_store_canon(&b->ctx, locator, &canon);
    if (r < 0)
        return r;
    r = tpm_store_read(&b->ctx, canon, ret_kf);
    if (r < 0)
        return r;
    if (tpm_quote_check_ak(&ret_kf->pub.publicArea) < 0)
        return tpm_context_failf(&b->ctx, -EOPNOTSUPP,
                                 "key %s is not an attestation key (restricted ECDSA P-256 "
                                 "signing key, noDA, empty auth)",
                                 canon);
    keys_trim(b, TPM_MAX_LOADED_KEYS - 1); /* a free object slot for the AK */
    r = tpm_key_load(&b->ctx, b->srk, ret_kf, ret_ak);
    if (r == -ENOKEY) {
        char why[TPM_ERR_MAX];
        memcpy(why, b->ctx.err, sizeof(why));
        return tpm_context_failf(&b->ctx, r, "key file %s does not load on this TPM (%s)", canon,
                                 why);
    }
    return r;
}

/* Loads the AK for this one quote and flushes it. */
static int quote_locked(struct tpm_backend *b, const char *locator, const TPML_PCR_SELECTION *sel,
                        const uint8_t *nonce, struct tpm_quote **ret)
{
    ESYS_TR ak = ESYS_TR_NONE;
    struct tpm_keyfile kf;
    int r;

    r = ak_load(b, locator, &kf, &ak);
    if (r < 0)
        return r;
    r = tpm_quote_make(&b->ctx, ak, &kf.pub.publicArea, sel, nonce, ret);
    tpm_context_flush(&b->ctx, &ak);
    return r;
}

int tpm_backend_quote(struct key_backend *kb, const char *ak_locator, const char *pcr_selection,
                      const uint8_t nonce[static TPM_QUOTE_NONCE_LEN], struct tpm_quote **ret)
{
    struct tpm_backend *b = to_tpm(kb);
    TPML_PCR_SELECTION sel;
    int r;

    if (!ak_locator || !nonce || !ret)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = tpm_quote_parse_selection(pcr_selection, &sel);
    if (r < 0)
        return tpm_context_failf(&b->ctx, r, "invalid PCR selection (want e.g. %s)",
                                 TPM_QUOTE_DEFAULT_SELECTION);
    r = op_begin(b);
    if (r < 0)
        return r;
    return op_end(b, quote_locked(b, ak_locator, &sel, nonce, ret));
}

int tpm_backend_ak_public(struct key_backend *kb, const char *ak_locator, uint8_t **ret_spki,
                          size_t *ret_spki_len)
{
    struct tpm_backend *b = to_tpm(kb);
    _cleanup_free_ char *canon = NULL;
    struct tpm_keyfile kf;
    int r;

    if (!ak_locator || !ret_spki || !ret_spki_len)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = tpm_store_canon(&b->ctx, ak_locator, &canon);
    if (r >= 0)
        r = tpm_store_read(&b->ctx, canon, &kf);
    if (r < 0)
        return r;
    if (tpm_quote_check_ak(&kf.pub.publicArea) < 0)
        return tpm_context_failf(&b->ctx, -EOPNOTSUPP, "key %s is not an attestation key", canon);
    return tpm_quote_ak_spki(&kf.pub.publicArea, ret_spki, ret_spki_len);
}

/* ---- key certification (tpm.h, tpm-certify.h) ------------------------------------------- */

/*
 * The key (read for its public area, kept in the LRU) and then the AK are loaded: SRK, key and
 * AK fill the TPM_MAX_TRANSIENT slots, so the AK's load trims the LRU to the key, the most
 * recently used entry. The AK is flushed afterwards.
 */
static int certify_locked(struct tpm_backend *b, const char *ak_locator, const char *key_locator,
                          const uint8_t *nonce, struct tpm_certify **ret)
{
    _cleanup_free_ char *canon = NULL;
    ESYS_TR ak = ESYS_TR_NONE, obj;
    struct tpm_keyfile kf, akf;
    struct loaded_key *k;
    enum hwsign_alg alg;
    int r;

    r = tpm_store_canon(&b->ctx, key_locator, &canon);
    if (r < 0)
        return r;
    r = tpm_store_read(&b->ctx, canon, &kf);
    if (r < 0)
        return r;
    if (tpm_key_check_public(&kf.pub.publicArea, &alg) < 0 ||
        tpm_certify_check_object(&kf.pub.publicArea) < 0)
        return tpm_context_failf(&b->ctx, -EOPNOTSUPP,
                                 "key %s is not a noDA, empty-auth signing key of a supported "
                                 "algorithm",
                                 canon);
    k = key_find(b, canon);
    if (!k) {
        r = key_load(b, canon, &kf, alg, &k);
        if (r < 0)
            return r;
    }
    obj = k->handle; /* k may move in keys[] when ak_load() trims the LRU; the handle stays */
    r = ak_load(b, ak_locator, &akf, &ak);
    if (r < 0)
        return r;
    r = tpm_certify_make(&b->ctx, ak, &akf.pub.publicArea, obj, &kf.pub.publicArea, nonce, ret);
    tpm_context_flush(&b->ctx, &ak);
    if (r == -ENOKEY) /* the key's handle gone behind our back: reload next time */
        for (size_t i = 0; i < b->n_keys; i++)
            if (b->keys[i].handle == obj) {
                key_evict(b, i);
                break;
            }
    return r;
}

int tpm_backend_certify(struct key_backend *kb, const char *ak_locator, const char *key_locator,
                        const uint8_t nonce[static TPM_QUOTE_NONCE_LEN], struct tpm_certify **ret)
{
    struct tpm_backend *b = to_tpm(kb);
    int r;

    if (!ak_locator || !key_locator || !nonce || !ret)
        return tpm_context_failf(&b->ctx, -EINVAL, "missing argument");
    r = op_begin(b);
    if (r < 0)
        return r;
    return op_end(b, certify_locked(b, ak_locator, key_locator, nonce, ret));
}

/* ---- test and diagnostic hooks (tpm-backend.h) --------------------------------------------- */

void tpm_backend_set_retry_ms(struct key_backend *kb, uint64_t ms)
{
    to_tpm(kb)->ctx.retry_ms = ms;
}

size_t tpm_backend_loaded_keys(struct key_backend *kb)
{
    return to_tpm(kb)->n_keys;
}

int tpm_backend_probe(struct key_backend *kb, uint32_t *ret_transient, uint32_t *ret_lockout)
{
    struct tpm_backend *b = to_tpm(kb);
    uint32_t transient = 0, lockout = 0;
    int r;

    r = op_begin(b);
    if (r < 0)
        return r;
    r = tpm_context_count_transient(&b->ctx, &transient);
    if (r == 0)
        r = tpm_context_property(&b->ctx, TPM2_PT_LOCKOUT_COUNTER, &lockout);
    r = op_end(b, r);
    if (r < 0)
        return r;
    *ret_transient = transient;
    *ret_lockout = lockout;
    return 0;
}
