/* SPDX-License-Identifier: Apache-2.0 */
#include "fake-backend.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker.h"

struct fake_backend {
    struct key_backend base; /* first: the agent hands us back a struct key_backend * */
    EVP_PKEY *pkey;
    uint8_t spki[HWSIGN_MAX_SPKI];
    size_t spki_len;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum fake_mode mode;
    unsigned slow_ms;
    bool released;
    unsigned entered;
};

static struct fake_backend *fake_of(struct key_backend *b)
{
    return (struct fake_backend *)b;
}

static enum fake_mode get_mode(struct fake_backend *f)
{
    enum fake_mode m;
    pthread_mutex_lock(&f->lock);
    m = f->mode;
    pthread_mutex_unlock(&f->lock);
    return m;
}

static int fake_open(struct key_backend *b)
{
    return get_mode(fake_of(b)) == FAKE_UNAVAILABLE ? -ENODEV : 0;
}

static int fake_key(struct fake_backend *f, const char *name, char **ret_locator,
                    uint8_t **ret_spki, size_t *ret_spki_len)
{
    size_t n = strlen(FAKE_LOCATOR_PREFIX) + strlen(name) + 1;
    char *loc = malloc(n);
    uint8_t *spki = malloc(f->spki_len);

    if (!loc || !spki) {
        free(loc);
        free(spki);
        return -ENOMEM;
    }
    (void)snprintf(loc, n, "%s%s", FAKE_LOCATOR_PREFIX, name);
    memcpy(spki, f->spki, f->spki_len);
    *ret_locator = loc;
    *ret_spki = spki;
    *ret_spki_len = f->spki_len;
    return 0;
}

static int fake_create(struct key_backend *b, const char *name, enum hwsign_alg alg,
                       char **ret_locator, uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct fake_backend *f = fake_of(b);

    if (get_mode(f) == FAKE_UNAVAILABLE)
        return -ENODEV;
    if (alg != HWSIGN_ALG_ECDSA_P256)
        return -EOPNOTSUPP;
    return fake_key(f, name, ret_locator, ret_spki, ret_spki_len);
}

static int fake_import(struct key_backend *b, const char *locator, char **ret_locator,
                       enum hwsign_alg *ret_alg, uint8_t **ret_spki, size_t *ret_spki_len)
{
    struct fake_backend *f = fake_of(b);
    size_t plen = strlen(FAKE_LOCATOR_PREFIX);
    int r;

    if (get_mode(f) == FAKE_UNAVAILABLE)
        return -ENODEV;
    if (strncmp(locator, FAKE_LOCATOR_PREFIX, plen) != 0 || locator[plen] == '\0')
        return -ENOKEY;
    r = fake_key(f, locator + plen, ret_locator, ret_spki, ret_spki_len);
    if (r < 0)
        return r;
    *ret_alg = HWSIGN_ALG_ECDSA_P256;
    return 0;
}

int fake_backend_sign_raw(struct fake_backend *f, const uint8_t *digest, size_t digest_len,
                          uint8_t *sig, size_t *sig_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, f->pkey, NULL);
    int r = -EIO;

    if (ctx && EVP_PKEY_sign_init(ctx) > 0 &&
        EVP_PKEY_sign(ctx, sig, sig_len, digest, digest_len) > 0)
        r = 0;
    EVP_PKEY_CTX_free(ctx);
    return r;
}

/* Blocks until released or slow_ms passed. Called with f->lock held. */
static void slow_wait(struct fake_backend *f)
{
    struct timespec ts;
    uint64_t until = now_ms() + f->slow_ms;

    ts.tv_sec = (time_t)(until / 1000u);
    ts.tv_nsec = (long)(until % 1000u) * 1000000L;
    while (!f->released)
        if (pthread_cond_timedwait(&f->cond, &f->lock, &ts) == ETIMEDOUT)
            break;
}

static int fake_sign(struct key_backend *b, const char *locator, enum hwsign_alg alg,
                     enum hwsign_hash hash, enum hwsign_scheme scheme, const uint8_t *digest,
                     size_t digest_len, uint8_t *sig, size_t *sig_len)
{
    struct fake_backend *f = fake_of(b);
    uint8_t other[HWSIGN_MAX_DIGEST];
    enum fake_mode mode;

    pthread_mutex_lock(&f->lock);
    f->entered++;
    pthread_cond_broadcast(&f->cond);
    mode = f->mode;
    if (mode == FAKE_SLOW)
        slow_wait(f);
    pthread_mutex_unlock(&f->lock);

    if (mode == FAKE_UNAVAILABLE)
        return -ENODEV;
    if (alg != HWSIGN_ALG_ECDSA_P256 || scheme != HWSIGN_SCHEME_DEFAULT)
        return -EOPNOTSUPP;
    if (digest_len == 0 || digest_len > sizeof(other))
        return -EINVAL;
    if (mode == FAKE_WRONG) {
        memcpy(other, digest, digest_len);
        other[0] ^= 0x01;
        digest = other;
    }
    return fake_backend_sign_raw(f, digest, digest_len, sig, sig_len);
}

static int fake_destroy(struct key_backend *b, const char *locator)
{
    return get_mode(fake_of(b)) == FAKE_UNAVAILABLE ? -ENODEV : 0;
}

static enum hwsign_backend_state fake_health(struct key_backend *b, char *detail, size_t detail_len)
{
    bool down = get_mode(fake_of(b)) == FAKE_UNAVAILABLE;

    if (detail && detail_len)
        (void)snprintf(detail, detail_len, "%s", down ? "fake device unplugged" : "fake ready");
    return down ? HWSIGN_BACKEND_UNAVAILABLE : HWSIGN_BACKEND_OK;
}

static const char *fake_last_error(struct key_backend *b)
{
    return "FAKE_DEVICE_ERROR (0x1)";
}

static void fake_free_op(struct key_backend *b)
{
    (void)fake_backend_free(fake_of(b));
}

static const struct key_backend_ops fake_ops = {
        .kind = FAKE_KIND,
        .open = fake_open,
        .create = fake_create,
        .import = fake_import,
        .sign = fake_sign,
        .destroy = fake_destroy,
        .health = fake_health,
        .last_error = fake_last_error,
        .free = fake_free_op,
};

struct fake_backend *fake_backend_new(const char *name)
{
    struct fake_backend *f = calloc(1, sizeof(*f));
    pthread_condattr_t ca;
    unsigned char *p;
    int n;

    if (!f)
        return NULL;
    f->base.ops = &fake_ops;
    (void)snprintf(f->base.name, sizeof(f->base.name), "%s", name);
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    f->pkey = EVP_EC_gen("P-256");
    n = f->pkey ? i2d_PUBKEY(f->pkey, NULL) : -1;
    if (n <= 0 || (size_t)n > sizeof(f->spki)) {
        fake_backend_free(f);
        return NULL;
    }
    p = f->spki;
    f->spki_len = (size_t)i2d_PUBKEY(f->pkey, &p);
    return f;
}

struct fake_backend *fake_backend_free(struct fake_backend *f)
{
    if (!f)
        return NULL;
    EVP_PKEY_free(f->pkey);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return NULL;
}

struct key_backend *fake_backend_base(struct fake_backend *f)
{
    return &f->base;
}

void fake_backend_set_mode(struct fake_backend *f, enum fake_mode mode, unsigned slow_ms)
{
    pthread_mutex_lock(&f->lock);
    f->mode = mode;
    f->slow_ms = slow_ms;
    f->released = false;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void fake_backend_release(struct fake_backend *f)
{
    pthread_mutex_lock(&f->lock);
    f->released = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

bool fake_backend_wait_entered(struct fake_backend *f, unsigned n, unsigned timeout_ms)
{
    struct timespec ts;
    uint64_t until = now_ms() + timeout_ms;
    bool ok;

    ts.tv_sec = (time_t)(until / 1000u);
    ts.tv_nsec = (long)(until % 1000u) * 1000000L;
    pthread_mutex_lock(&f->lock);
    while (f->entered < n)
        if (pthread_cond_timedwait(&f->cond, &f->lock, &ts) == ETIMEDOUT)
            break;
    ok = f->entered >= n;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

unsigned fake_backend_sign_calls(struct fake_backend *f)
{
    unsigned n;
    pthread_mutex_lock(&f->lock);
    n = f->entered;
    pthread_mutex_unlock(&f->lock);
    return n;
}

const uint8_t *fake_backend_spki(const struct fake_backend *f, size_t *ret_len)
{
    *ret_len = f->spki_len;
    return f->spki;
}

void fake_backend_record(const struct fake_backend *f, const char *name, struct key_record *ret)
{
    struct key_record r = {0};

    (void)snprintf(r.name, sizeof(r.name), "%s", name);
    (void)snprintf(r.backend, sizeof(r.backend), "%s", f->base.name);
    (void)snprintf(r.kind, sizeof(r.kind), "%s", FAKE_KIND);
    r.alg = HWSIGN_ALG_ECDSA_P256;
    (void)snprintf(r.locator, sizeof(r.locator), "%s%s", FAKE_LOCATOR_PREFIX, name);
    r.created = 1700000000u;
    memcpy(r.spki, f->spki, f->spki_len);
    r.spki_len = f->spki_len;
    *ret = r;
}
