/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM backend against a fake ESAPI (-Wl,--wrap of Esys_* and the TCTI loader). The fake
 * TPM has 3 object slots like swtpm (OBJECT_MEMORY beyond) and answers from scripted queues.
 *
 * Proves: RETRY / YIELDED / TESTING (any layer, with or without format bits) are resent and
 * then succeed; a RETRY storm stops at the deadline with -EBUSY, never much later; AUTH_FAIL /
 * BAD_AUTH in every numbered variant is sent exactly once (-EKEYREJECTED); TPM_RC_LOCKOUT
 * gives -EKEYREVOKED and LOCKED_OUT, open() keeps it while the TPM reports lockout and clears
 * it afterwards; a TCTI I/O error or broken ESYS state tears the contexts down (nothing more is
 * sent), -ENODEV, UNAVAILABLE, ops fail at once until open() rebuilds (Startup, SRK) and the
 * key reloads from its file; TPM_RC_INITIALIZE at Startup is tolerated; an owner auth that is
 * set stops open() before any auth is sent; at most 3 objects are ever loaded and free()
 * flushes all; outputs are untouched on failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "crypto-cleanup.h"
#include "tpm-backend.h"
#include "tpm.h"

#define FAKE_SLOTS 3u
#define QUEUE_MAX  16u
#define POISON_PTR ((void *)0x5a5a5a5a)

struct queue {
    TSS2_RC rc[QUEUE_MAX];
    unsigned n, next;
    TSS2_RC always; /* after the queue; 0 = success */
};

static struct {
    unsigned tctildr_init, tctildr_fin, esys_init, esys_fin, startup, getcap, create_primary,
            create, load, sign, flush;
    TSS2_RC tctildr_rc, startup_rc;
    struct queue q_sign, q_load, q_create;
    uint32_t permanent;
    unsigned loaded;
    ESYS_TR next_handle, srk;
    uint8_t point[65];
} fake;

static int dummy_tcti, dummy_esys;
static char dir[64];
static struct key_backend *kb;

static TSS2_RC pop(struct queue *q)
{
    if (q->next < q->n)
        return q->rc[q->next++];
    return q->always;
}

static void push(struct queue *q, TSS2_RC rc)
{
    assert_true(q->n < QUEUE_MAX);
    q->rc[q->n++] = rc;
}

TSS2_RC __wrap_Tss2_TctiLdr_Initialize(const char *conf, TSS2_TCTI_CONTEXT **ctx);
TSS2_RC __wrap_Tss2_TctiLdr_Initialize(const char *conf, TSS2_TCTI_CONTEXT **ctx)
{
    fake.tctildr_init++;
    assert_non_null(conf);
    assert_string_equal(conf, "swtpm:path=/fake/tpm.sock");
    if (fake.tctildr_rc)
        return fake.tctildr_rc;
    *ctx = (TSS2_TCTI_CONTEXT *)&dummy_tcti;
    return 0;
}

void __wrap_Tss2_TctiLdr_Finalize(TSS2_TCTI_CONTEXT **ctx);
void __wrap_Tss2_TctiLdr_Finalize(TSS2_TCTI_CONTEXT **ctx)
{
    fake.tctildr_fin++;
    *ctx = NULL;
}

TSS2_RC __wrap_Esys_Initialize(ESYS_CONTEXT **esys, TSS2_TCTI_CONTEXT *tcti, TSS2_ABI_VERSION *v);
TSS2_RC __wrap_Esys_Initialize(ESYS_CONTEXT **esys, TSS2_TCTI_CONTEXT *tcti, TSS2_ABI_VERSION *v)
{
    fake.esys_init++;
    assert_ptr_equal(tcti, &dummy_tcti);
    *esys = (ESYS_CONTEXT *)&dummy_esys;
    fake.loaded = 0; /* a new connection: the fake TPM restarted for all we care */
    return 0;
}

void __wrap_Esys_Finalize(ESYS_CONTEXT **esys);
void __wrap_Esys_Finalize(ESYS_CONTEXT **esys)
{
    fake.esys_fin++;
    *esys = NULL;
}

TSS2_RC __wrap_Esys_Startup(ESYS_CONTEXT *esys, TPM2_SU type);
TSS2_RC __wrap_Esys_Startup(ESYS_CONTEXT *esys, TPM2_SU type)
{
    fake.startup++;
    assert_int_equal(type, TPM2_SU_CLEAR);
    return fake.startup_rc;
}

TSS2_RC __wrap_Esys_GetCapability(ESYS_CONTEXT *esys, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                                  TPM2_CAP cap, UINT32 prop, UINT32 count, TPMI_YES_NO *more,
                                  TPMS_CAPABILITY_DATA **data);
TSS2_RC __wrap_Esys_GetCapability(ESYS_CONTEXT *esys, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                                  TPM2_CAP cap, UINT32 prop, UINT32 count, TPMI_YES_NO *more,
                                  TPMS_CAPABILITY_DATA **data)
{
    TPMS_CAPABILITY_DATA *d = calloc(1, sizeof(*d));

    fake.getcap++;
    assert_non_null(d);
    d->capability = cap;
    if (cap == TPM2_CAP_TPM_PROPERTIES) {
        d->data.tpmProperties.count = 1;
        d->data.tpmProperties.tpmProperty[0].property = prop;
        d->data.tpmProperties.tpmProperty[0].value = prop == TPM2_PT_PERMANENT ? fake.permanent : 0;
    } else {
        d->data.handles.count = fake.loaded;
    }
    *more = TPM2_NO;
    *data = d;
    return 0;
}

static TSS2_RC take_slot(ESYS_TR *h)
{
    if (fake.loaded >= FAKE_SLOTS)
        return TPM2_RC_OBJECT_MEMORY;
    fake.loaded++;
    *h = fake.next_handle++;
    return 0;
}

TSS2_RC __wrap_Esys_CreatePrimary(ESYS_CONTEXT *esys, ESYS_TR hier, ESYS_TR s1, ESYS_TR s2,
                                  ESYS_TR s3, const TPM2B_SENSITIVE_CREATE *sens,
                                  const TPM2B_PUBLIC *pub, const TPM2B_DATA *out,
                                  const TPML_PCR_SELECTION *pcr, ESYS_TR *h, TPM2B_PUBLIC **op,
                                  TPM2B_CREATION_DATA **cd, TPM2B_DIGEST **ch,
                                  TPMT_TK_CREATION **ct);
TSS2_RC __wrap_Esys_CreatePrimary(ESYS_CONTEXT *esys, ESYS_TR hier, ESYS_TR s1, ESYS_TR s2,
                                  ESYS_TR s3, const TPM2B_SENSITIVE_CREATE *sens,
                                  const TPM2B_PUBLIC *pub, const TPM2B_DATA *out,
                                  const TPML_PCR_SELECTION *pcr, ESYS_TR *h, TPM2B_PUBLIC **op,
                                  TPM2B_CREATION_DATA **cd, TPM2B_DIGEST **ch,
                                  TPMT_TK_CREATION **ct)
{
    TSS2_RC rc;

    fake.create_primary++;
    assert_int_equal(hier, ESYS_TR_RH_OWNER);
    assert_int_equal(s1, ESYS_TR_PASSWORD);
    assert_int_equal(sens->sensitive.userAuth.size, 0);
    assert_true(pub->publicArea.objectAttributes & TPMA_OBJECT_NODA);
    rc = take_slot(h);
    if (rc == 0)
        fake.srk = *h;
    return rc;
}

TSS2_RC __wrap_Esys_Create(ESYS_CONTEXT *esys, ESYS_TR parent, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                           const TPM2B_SENSITIVE_CREATE *sens, const TPM2B_PUBLIC *tmpl,
                           const TPM2B_DATA *out, const TPML_PCR_SELECTION *pcr,
                           TPM2B_PRIVATE **priv, TPM2B_PUBLIC **pub, TPM2B_CREATION_DATA **cd,
                           TPM2B_DIGEST **ch, TPMT_TK_CREATION **ct);
TSS2_RC __wrap_Esys_Create(ESYS_CONTEXT *esys, ESYS_TR parent, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                           const TPM2B_SENSITIVE_CREATE *sens, const TPM2B_PUBLIC *tmpl,
                           const TPM2B_DATA *out, const TPML_PCR_SELECTION *pcr,
                           TPM2B_PRIVATE **priv, TPM2B_PUBLIC **pub, TPM2B_CREATION_DATA **cd,
                           TPM2B_DIGEST **ch, TPMT_TK_CREATION **ct)
{
    TSS2_RC rc = pop(&fake.q_create);

    fake.create++;
    assert_int_equal(parent, fake.srk);
    assert_int_equal(sens->sensitive.userAuth.size, 0);
    assert_true(tmpl->publicArea.objectAttributes & TPMA_OBJECT_NODA);
    if (rc)
        return rc;
    if (fake.loaded >= FAKE_SLOTS) /* TPM2_Create needs a slot of its own */
        return TPM2_RC_OBJECT_MEMORY;
    *pub = calloc(1, sizeof(**pub));
    *priv = calloc(1, sizeof(**priv));
    assert_non_null(*pub);
    assert_non_null(*priv);
    (*pub)->publicArea = tmpl->publicArea;
    (*pub)->publicArea.unique.ecc.x.size = 32;
    memcpy((*pub)->publicArea.unique.ecc.x.buffer, fake.point + 1, 32);
    (*pub)->publicArea.unique.ecc.y.size = 32;
    memcpy((*pub)->publicArea.unique.ecc.y.buffer, fake.point + 33, 32);
    (*priv)->size = 48;
    memset((*priv)->buffer, 0xab, 48);
    return 0;
}

TSS2_RC __wrap_Esys_Load(ESYS_CONTEXT *esys, ESYS_TR parent, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                         const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub, ESYS_TR *h);
TSS2_RC __wrap_Esys_Load(ESYS_CONTEXT *esys, ESYS_TR parent, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                         const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub, ESYS_TR *h)
{
    TSS2_RC rc = pop(&fake.q_load);

    fake.load++;
    assert_int_equal(parent, fake.srk);
    assert_int_equal(priv->size, 48);
    return rc ? rc : take_slot(h);
}

TSS2_RC __wrap_Esys_Sign(ESYS_CONTEXT *esys, ESYS_TR key, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                         const TPM2B_DIGEST *digest, const TPMT_SIG_SCHEME *scheme,
                         const TPMT_TK_HASHCHECK *validation, TPMT_SIGNATURE **sig);
TSS2_RC __wrap_Esys_Sign(ESYS_CONTEXT *esys, ESYS_TR key, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                         const TPM2B_DIGEST *digest, const TPMT_SIG_SCHEME *scheme,
                         const TPMT_TK_HASHCHECK *validation, TPMT_SIGNATURE **sig)
{
    TSS2_RC rc = pop(&fake.q_sign);
    TPMT_SIGNATURE *s;

    fake.sign++;
    assert_int_equal(s1, ESYS_TR_PASSWORD);
    assert_int_equal(scheme->scheme, TPM2_ALG_ECDSA);
    assert_int_equal(digest->size, 32);
    if (rc)
        return rc;
    s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->sigAlg = TPM2_ALG_ECDSA;
    s->signature.ecdsa.hash = TPM2_ALG_SHA256;
    s->signature.ecdsa.signatureR.size = 32;
    memset(s->signature.ecdsa.signatureR.buffer, 0x11, 32);
    s->signature.ecdsa.signatureS.size = 32;
    memset(s->signature.ecdsa.signatureS.buffer, 0x22, 32);
    *sig = s;
    return 0;
}

TSS2_RC __wrap_Esys_FlushContext(ESYS_CONTEXT *esys, ESYS_TR h);
TSS2_RC __wrap_Esys_FlushContext(ESYS_CONTEXT *esys, ESYS_TR h)
{
    fake.flush++;
    assert_true(fake.loaded > 0);
    fake.loaded--;
    return 0;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = EVP_EC_gen("P-256");
    struct tpm_config cfg = {.name = "tpm0", .tcti = "swtpm:path=/fake/tpm.sock"};
    char err[256] = "", keys[128];
    size_t n = 0;

    memset(&fake, 0, sizeof(fake));
    fake.next_handle = 0x1000;
    assert_non_null(pk);
    assert_int_equal(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, fake.point,
                                                     sizeof(fake.point), &n),
                     1);
    assert_int_equal(n, 65);
    snprintf(dir, sizeof(dir), "/tmp/hwsign-tpmu-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    cfg.key_dir = keys;
    if (tpm_backend_new(&cfg, &kb, err, sizeof(err)) < 0)
        fail_msg("tpm_backend_new: %s", err);
    tpm_backend_set_retry_ms(kb, 300);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    if (kb)
        kb->ops->free(kb);
    kb = NULL;
    assert_int_equal(fake.loaded, 0); /* free() flushed everything it had loaded */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* open() + one P-256 key; returns its locator (owned). */
static char *open_and_create(const char *name)
{
    char *loc = NULL;
    uint8_t *spki = NULL;
    size_t spki_len = 0;

    assert_int_equal(kb->ops->open(kb), 0);
    if (kb->ops->create(kb, name, HWSIGN_ALG_ECDSA_P256, &loc, &spki, &spki_len) < 0)
        fail_msg("create: %s", kb->ops->last_error(kb));
    free(spki);
    return loc;
}

static int sign(const char *loc, uint8_t *sig, size_t *sig_len)
{
    static const uint8_t dg[32] = {1, 2, 3};
    return kb->ops->sign(kb, loc, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                         dg, sizeof(dg), sig, sig_len);
}

/* A failing sign leaves sig and sig_len alone. */
static void sign_fails(const char *loc, int expect)
{
    uint8_t sig[HWSIGN_MAX_SIG], poison[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);

    memset(sig, 0xee, sizeof(sig));
    memset(poison, 0xee, sizeof(poison));
    assert_int_equal(sign(loc, sig, &sig_len), expect);
    assert_int_equal(sig_len, sizeof(sig));
    assert_memory_equal(sig, poison, sizeof(sig));
}

static void sign_ok(const char *loc)
{
    uint8_t sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);

    if (sign(loc, sig, &sig_len) < 0)
        fail_msg("sign: %s", kb->ops->last_error(kb));
    assert_true(sig_len > 64 && sig_len <= 72);
    assert_int_equal(sig[0], 0x30);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_open(void **state)
{
    char detail[256];

    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    fake.startup_rc = TPM2_RC_INITIALIZE; /* already started: fine */
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(fake.tctildr_init, 1);
    assert_int_equal(fake.startup, 1);
    assert_int_equal(fake.create_primary, 1);
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_OK);
    assert_string_equal(detail, "TPM at swtpm:path=/fake/tpm.sock ready, 0 key(s) loaded");
}

static void test_open_errors(void **state)
{
    fake.tctildr_rc = TSS2_TCTI_RC_IO_ERROR; /* nothing listening */
    assert_int_equal(kb->ops->open(kb), -ENODEV);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(fake.esys_init, 0);
    fake.tctildr_rc = 0;
    fake.permanent = TPMA_PERMANENT_OWNERAUTHSET; /* we would have to guess an auth: no */
    assert_int_equal(kb->ops->open(kb), -EACCES);
    assert_int_equal(fake.create_primary, 0);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_non_null(strstr(kb->ops->last_error(kb), "owner hierarchy has an auth value"));
    assert_int_equal(fake.esys_fin, 1);
    fake.permanent = 0;
    assert_int_equal(kb->ops->open(kb), 0);
}

static void test_retry_then_success(void **state)
{
    _cleanup_free_ char *loc = open_and_create("k");
    unsigned before;

    sign_ok(loc); /* loads the key */
    before = fake.sign;
    push(&fake.q_sign, TPM2_RC_YIELDED);
    push(&fake.q_sign, TPM2_RC_TESTING);
    push(&fake.q_sign, TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_RETRY); /* via a resource manager */
    push(&fake.q_sign, TPM2_RC_RETRY);
    sign_ok(loc);
    assert_int_equal(fake.sign - before, 5);
    /* Load is retried the same way */
    assert_int_equal(kb->ops->destroy(kb, loc), 0);
    free(loc);
    loc = open_and_create("k2");
    push(&fake.q_load, TPM2_RC_RETRY);
    before = fake.load;
    sign_ok(loc);
    assert_int_equal(fake.load - before, 2);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);
}

static void test_retry_deadline(void **state)
{
    _cleanup_free_ char *loc = open_and_create("k");
    uint64_t t0, dt;
    unsigned before;

    sign_ok(loc);
    before = fake.sign;
    fake.q_sign.always = TPM2_RC_RETRY; /* busy for ever */
    t0 = now_ms();
    sign_fails(loc, -EBUSY);
    dt = now_ms() - t0;
    print_message("RETRY storm: %u attempts in %llu ms (deadline 300 ms)\n", fake.sign - before,
                  (unsigned long long)dt);
    assert_true(dt >= 300 && dt < 300 + 200);
    assert_true(fake.sign - before > 3 && fake.sign - before < 100);
    assert_non_null(strstr(kb->ops->last_error(kb), "0x922"));
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK); /* busy is not broken */
    fake.q_sign.always = 0;
    sign_ok(loc);
}

static void test_auth_never_retried(void **state)
{
    /* AUTH_FAIL / BAD_AUTH: plain, session 1, handle 1, parameter 2, via a resource manager */
    static const TSS2_RC codes[] = {TPM2_RC_AUTH_FAIL,
                                    TPM2_RC_BAD_AUTH,
                                    TPM2_RC_S + TPM2_RC_1 + TPM2_RC_AUTH_FAIL,
                                    TPM2_RC_S + TPM2_RC_1 + TPM2_RC_BAD_AUTH,
                                    TPM2_RC_H + TPM2_RC_1 + TPM2_RC_AUTH_FAIL,
                                    TPM2_RC_P + TPM2_RC_2 + TPM2_RC_BAD_AUTH,
                                    TSS2_RESMGR_TPM_RC_LAYER | 0x9a2};
    _cleanup_free_ char *loc = open_and_create("k");

    sign_ok(loc);
    for (size_t i = 0; i < ELEMENTSOF(codes); i++) {
        unsigned before = fake.sign;
        push(&fake.q_sign, codes[i]);
        push(&fake.q_sign, codes[i]); /* would also fail if resent */
        sign_fails(loc, -EKEYREJECTED);
        assert_int_equal(fake.sign - before, 1);
        fake.q_sign.n = fake.q_sign.next = 0;
    }
    sign_ok(loc);
}

static void test_lockout(void **state)
{
    _cleanup_free_ char *loc = open_and_create("k");
    char detail[512];
    unsigned before;

    sign_ok(loc);
    before = fake.sign;
    push(&fake.q_sign, TPM2_RC_LOCKOUT);
    sign_fails(loc, -EKEYREVOKED);
    assert_int_equal(fake.sign - before, 1);
    assert_int_equal(kb->ops->health(kb, detail, sizeof(detail)), HWSIGN_BACKEND_LOCKED_OUT);
    assert_non_null(strstr(detail, "dictionary-attack lockout"));
    fake.permanent = TPMA_PERMANENT_INLOCKOUT;
    assert_int_equal(kb->ops->open(kb), -EKEYREVOKED);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_LOCKED_OUT);
    fake.permanent = 0;
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);
    assert_int_equal(fake.create_primary, 1); /* no rebuild needed */
    sign_ok(loc);
}

static void transport_case(TSS2_RC rc)
{
    _cleanup_free_ char *loc = open_and_create("k");
    unsigned flush, sign_calls, load;

    sign_ok(loc);
    flush = fake.flush;
    push(&fake.q_sign, rc);
    sign_fails(loc, -ENODEV);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_UNAVAILABLE);
    assert_int_equal(fake.esys_fin, 1);
    assert_int_equal(fake.tctildr_fin, 1);
    assert_int_equal(fake.flush, flush); /* nothing more sent on a dead link */
    fake.loaded = 0;                     /* the TPM restarted meanwhile */
    sign_calls = fake.sign;
    sign_fails(loc, -ENODEV); /* not open: fails at once */
    assert_int_equal(fake.sign, sign_calls);
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(fake.tctildr_init, 2);
    assert_int_equal(fake.startup, 2);
    assert_int_equal(fake.create_primary, 2);
    load = fake.load;
    sign_ok(loc);
    assert_int_equal(fake.load, load + 1); /* reloaded from its file */
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);
}

static void test_transport_tcti(void **state)
{
    transport_case(TSS2_TCTI_RC_IO_ERROR);
}

static void test_transport_esys_state(void **state)
{
    transport_case(TSS2_ESYS_RC_BAD_SEQUENCE);
}

static void test_transport_tpm_restarted(void **state)
{
    transport_case(TPM2_RC_REFERENCE_H0); /* our key is gone: the TPM was reset */
}

static void test_lru(void **state)
{
    char *loc[5] = {};
    char name[8];

    assert_int_equal(kb->ops->open(kb), 0);
    for (size_t i = 0; i < ELEMENTSOF(loc); i++) {
        uint8_t *spki = NULL;
        size_t spki_len = 0;
        snprintf(name, sizeof(name), "k%zu", i);
        assert_int_equal(
                kb->ops->create(kb, name, HWSIGN_ALG_ECDSA_P256, &loc[i], &spki, &spki_len), 0);
        free(spki);
    }
    for (size_t round = 0; round < 3; round++)
        for (size_t i = 0; i < ELEMENTSOF(loc); i++) {
            sign_ok(loc[i]);
            assert_true(fake.loaded <= TPM_MAX_TRANSIENT);
            assert_true(tpm_backend_loaded_keys(kb) <= TPM_MAX_LOADED_KEYS);
            /* creating needs a free slot even with a full LRU */
            if (round == 0 && i == 4) {
                char *l = NULL;
                uint8_t *s = NULL;
                size_t sl = 0;
                assert_int_equal(kb->ops->create(kb, "more", HWSIGN_ALG_ECDSA_P256, &l, &s, &sl),
                                 0);
                free(l);
                free(s);
            }
        }
    /* the most recent key is still loaded: no new Esys_Load */
    unsigned load = fake.load;
    sign_ok(loc[4]);
    assert_int_equal(fake.load, load);
    for (size_t i = 0; i < ELEMENTSOF(loc); i++)
        free(loc[i]);
}

static void test_outputs_untouched(void **state)
{
    char *loc = POISON_PTR;
    uint8_t *spki = POISON_PTR;
    size_t spki_len = 77;
    enum hwsign_alg alg = (enum hwsign_alg)99;
    _cleanup_free_ char *good = NULL;

    /* not open */
    assert_int_equal(kb->ops->create(kb, "k", HWSIGN_ALG_ECDSA_P256, &loc, &spki, &spki_len),
                     -ENODEV);
    assert_int_equal(kb->ops->open(kb), 0);
    push(&fake.q_create, TPM2_RC_KEY_SIZE);
    assert_int_equal(kb->ops->create(kb, "k", HWSIGN_ALG_ECDSA_P256, &loc, &spki, &spki_len),
                     -EOPNOTSUPP);
    assert_int_equal(kb->ops->create(kb, "k", HWSIGN_ALG_UNKNOWN, &loc, &spki, &spki_len),
                     -EOPNOTSUPP);
    assert_int_equal(kb->ops->create(kb, ".hidden", HWSIGN_ALG_ECDSA_P256, &loc, &spki, &spki_len),
                     -EINVAL);
    assert_ptr_equal(loc, POISON_PTR);
    assert_ptr_equal(spki, POISON_PTR);
    assert_int_equal(spki_len, 77);

    good = open_and_create("k");
    push(&fake.q_load, TPM2_RC_P + TPM2_RC_1 + TPM2_RC_INTEGRITY); /* not this TPM's blob */
    assert_int_equal(kb->ops->import(kb, good, &loc, &alg, &spki, &spki_len), -ENOKEY);
    assert_ptr_equal(loc, POISON_PTR);
    assert_int_equal(alg, 99);
    assert_int_equal(kb->ops->import(kb, "/nonexistent/k.pem", &loc, &alg, &spki, &spki_len),
                     -ENOKEY);
    assert_ptr_equal(spki, POISON_PTR);
    assert_int_equal(spki_len, 77);

    push(&fake.q_load, TPM2_RC_P + TPM2_RC_1 + TPM2_RC_INTEGRITY);
    sign_fails(good, -ENOKEY);
    push(&fake.q_sign, TPM2_RC_SCHEME);
    sign_fails(good, -EOPNOTSUPP);
    assert_int_equal(kb->ops->health(kb, NULL, 0), HWSIGN_BACKEND_OK);

    assert_int_equal(kb->ops->import(kb, good, &loc, &alg, &spki, &spki_len), 0);
    assert_string_equal(loc, good);
    assert_int_equal(alg, HWSIGN_ALG_ECDSA_P256);
    free(loc);
    free(spki);
}

static void test_config(void **state)
{
    struct key_backend *b = POISON_PTR;
    char err[256];
    struct tpm_config cfg = {.name = "t", .tcti = "device:/dev/tpmrm0", .key_dir = "rel/dir"};

    assert_int_equal(tpm_backend_new(&cfg, &b, err, sizeof(err)), -EINVAL);
    cfg.key_dir = dir;
    cfg.tcti = "";
    assert_int_equal(tpm_backend_new(&cfg, &b, err, sizeof(err)), -EINVAL);
    cfg.tcti = "device:/dev/tpmrm0\n";
    assert_int_equal(tpm_backend_new(&cfg, &b, err, sizeof(err)), -EINVAL);
    cfg.tcti = "device:/dev/tpmrm0";
    cfg.name = NULL;
    assert_int_equal(tpm_backend_new(&cfg, &b, err, sizeof(err)), -EINVAL);
    assert_ptr_equal(b, POISON_PTR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_open, setup, teardown),
            cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retry_then_success, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retry_deadline, setup, teardown),
            cmocka_unit_test_setup_teardown(test_auth_never_retried, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
            cmocka_unit_test_setup_teardown(test_transport_tcti, setup, teardown),
            cmocka_unit_test_setup_teardown(test_transport_esys_state, setup, teardown),
            cmocka_unit_test_setup_teardown(test_transport_tpm_restarted, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lru, setup, teardown),
            cmocka_unit_test_setup_teardown(test_outputs_untouched, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
