/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of TPM2_Certify (tpm-certify.c, tpm_backend_certify) against a real swtpm on
 * a unix socket in a private temporary directory (TOOLCHAIN.md §3), stopped by its pid file; a
 * guard process stops it too if this test dies. Skips only when swtpm is not installed.
 *
 * Proves: signing keys of each algorithm (P-256, P-384, RSA-3072) created by the backend are
 * certified by an AK created by the backend; the proof verifies with the offline verifier
 * (lib/format/tpm-attest.c) with both signature encodings, and its certified Name equals the
 * Name the verifier computes from the public area, whose SPKI is the key's SPKI; stock tools
 * agree: `tpm2_print -t TPMS_ATTEST` decodes the header as a certification (type 8017) with the
 * nonce as extraData and the signer and clock our parser reads (tpm2-tools 5.4 stops before the
 * certify body, so the Name is checked with Tss2_MU_TPMS_ATTEST_Unmarshal, and with tpm2_print
 * too on versions that print it), `tpm2_print -t TPMT_PUBLIC -f pem` turns the public area into
 * the key's PEM, and `openssl dgst -sha256 -verify ak.pem -signature sig.der attest.bin`
 * accepts the attestation and refuses a modified copy. Rejected: a wrong nonce, another key's
 * public area or SPKI, a flipped attest byte, a signature over the attestation by a (TPM) signing
 * key that is not the AK. The backend refuses a signing key as AK, an AK as the certified key,
 * missing and relative locators and a closed backend, leaving *ret untouched; certifying with a
 * full LRU keeps the TPM at <= 3 transient objects, the lockout counter never moves, and the keys
 * still sign afterwards.
 */
#include <errno.h>
#include <inttypes.h>
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

#include <tss2/tss2_mu.h>

#include "crypto.h"
#include "fd-util.h"
#include "macro.h"
#include "swtpm-fixture.h"
#include "tpm-attest.h"
#include "tpm-backend.h"
#include "tpm.h"

_Static_assert(TPM_ATTEST_NONCE_LEN == TPM_QUOTE_NONCE_LEN, "one nonce size");

#define N_KEYS 3

static struct swtpm_fixture tpm;
static struct key_backend *kb;
static uint32_t lockout_at_start = UINT32_MAX;
static char *ak_loc;
static uint8_t *ak_spki;
static size_t ak_spki_len;
static char *key_loc[N_KEYS];
static uint8_t *key_spki[N_KEYS];
static size_t key_spki_len[N_KEYS];
static const enum hwsign_alg key_alg[N_KEYS] = {HWSIGN_ALG_ECDSA_P256, HWSIGN_ALG_ECDSA_P384,
                                                HWSIGN_ALG_RSA_3072};
static const char *const key_name[N_KEYS] = {"p256", "p384", "rsa"};

static int setup(void **state)
{
    /* kb stays NULL when swtpm is not installed: the swtpm tests skip */
    return swtpm_fixture_setup_backend(&tpm, "certify", &kb);
}

static int teardown(void **state)
{
    swtpm_fixture_teardown_backend(&tpm, &kb);
    return 0;
}

#define REQUIRE_SWTPM() SWTPM_REQUIRE(kb)

/* ---- helpers --------------------------------------------------------------------------------- */

/* `openssl dgst -sha256 -verify ak.pem -signature SIG DATA` in the fixture's directory. */
static int openssl_verify(const char *sig_file, const char *data_file)
{
    char cmd[256];
    int n = snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -verify ak.pem -signature %s %s",
                     sig_file, data_file);

    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    return swtpm_fixture_run_in_dir(&tpm, cmd, NULL, 0);
}

static int verify(const uint8_t *attest, size_t attest_len, const uint8_t *sig, size_t sig_len,
                  enum tpm_attest_sig_format fmt, const uint8_t *pub, size_t pub_len,
                  const uint8_t nonce[static TPM_ATTEST_NONCE_LEN], const uint8_t *spki,
                  size_t spki_len)
{
    const struct tpm_attest_certify c = {
            .attest = attest,
            .attest_len = attest_len,
            .sig = sig,
            .sig_len = sig_len,
            .sig_format = fmt,
            .ak = ak_spki,
            .ak_len = ak_spki_len,
            .key_public = pub,
            .key_public_len = pub_len,
    };

    return tpm_attest_verify_certify(&c, nonce, spki, spki_len);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_open_create(void **state)
{
    uint32_t transient = 99;
    int r;

    REQUIRE_SWTPM();
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(tpm_backend_probe(kb, &transient, &lockout_at_start), 0);
    r = tpm_backend_create_ak(kb, "ak", &ak_loc, &ak_spki, &ak_spki_len);
    if (r < 0)
        fail_msg("create_ak: %d %s", r, kb->ops->last_error(kb));
    for (size_t i = 0; i < N_KEYS; i++) {
        r = kb->ops->create(kb, key_name[i], key_alg[i], &key_loc[i], &key_spki[i],
                            &key_spki_len[i]);
        if (r < 0)
            fail_msg("create %s: %d %s", key_name[i], r, kb->ops->last_error(kb));
    }
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
}

/* Certifies key i and checks the proof with our verifier and the stock tools. */
static void certify_and_check(size_t i)
{
    _cleanup_(tpm_certify_freep) struct tpm_certify *cert = NULL;
    uint8_t nonce[TPM_QUOTE_NONCE_LEN], wrong[TPM_QUOTE_NONCE_LEN];
    uint8_t name[TPM_ATTEST_MAX_NAME], pname[TPM_ATTEST_MAX_NAME];
    const uint8_t *attest, *sig, *der, *cname, *pub;
    size_t attest_len, sig_len, der_len, cname_len, pub_len, name_len = 0, pname_len = 0;
    size_t spki_len = 0, o = (i + 1) % N_KEYS;
    char text[4096], want[256], hx[2 * TPM_ATTEST_MAX_NAME + 1];
    _cleanup_free_ uint8_t *spki = NULL, *bad = NULL;
    _cleanup_free_ char *pem = NULL, *kpem = NULL;
    struct tpm_attest_info info;
    uint32_t attrs = 0;
    int r;

    swtpm_fixture_nonce(key_name[i], nonce);
    r = tpm_backend_certify(kb, ak_loc, key_loc[i], nonce, &cert);
    if (r < 0)
        fail_msg("certify %s: %d %s", key_name[i], r, kb->ops->last_error(kb));
    attest = tpm_certify_attest(cert, &attest_len);
    sig = tpm_certify_signature(cert, &sig_len);
    der = tpm_certify_signature_der(cert, &der_len);
    cname = tpm_certify_name(cert, &cname_len);
    pub = tpm_certify_public(cert, &pub_len);

    /* Our verifier accepts the proof, with either signature encoding, with the key's SPKI. */
    assert_int_equal(verify(attest, attest_len, sig, sig_len, TPM_ATTEST_SIG_TPMT, pub, pub_len,
                            nonce, key_spki[i], key_spki_len[i]),
                     0);
    assert_int_equal(verify(attest, attest_len, der, der_len, TPM_ATTEST_SIG_PLAIN, pub, pub_len,
                            nonce, key_spki[i], key_spki_len[i]),
                     0);
    /* The TPM's Name, the backend's and the verifier's agree; the public area is the key's. */
    assert_int_equal(tpm_attest_certified_name(attest, attest_len, name, &name_len), 0);
    assert_int_equal(tpm_attest_public_name(pub, pub_len, pname, &pname_len), 0);
    assert_int_equal(name_len, 34);
    assert_int_equal(cname_len, name_len);
    assert_memory_equal(cname, name, name_len);
    assert_int_equal(pname_len, name_len);
    assert_memory_equal(pname, name, name_len);
    assert_int_equal(tpm_attest_public_spki(pub, pub_len, &spki, &spki_len, &attrs), 0);
    assert_int_equal(spki_len, key_spki_len[i]);
    assert_memory_equal(spki, key_spki[i], spki_len);
    assert_int_equal(attrs & TPM_ATTEST_REQUIRED_ATTRS, TPM_ATTEST_REQUIRED_ATTRS);
    assert_int_equal(tpm_attest_parse(attest, attest_len, &info), 0);
    assert_int_equal(info.signer_name_len, 34); /* the AK's Qualified Name, SHA-256 */

    /*
     * tpm2_print decodes the header: TPM magic, certify type, our nonce, the signer and clock we
     * parsed. tpm2-tools 5.4 prints no certify body (it exits 1 with "Cannot print unsupported
     * type 0x8017" after the header; later versions print "certify:" with the name), so the
     * Name is also decoded by tpm2-tss's own unmarshaller.
     */
    swtpm_fixture_put_file(&tpm, "attest.bin", attest, attest_len);
    swtpm_fixture_put_file(&tpm, "sig.tpmt", sig, sig_len);
    swtpm_fixture_put_file(&tpm, "sig.der", der, der_len);
    swtpm_fixture_put_file(&tpm, "public.bin", pub, pub_len);
    r = swtpm_fixture_run_in_dir(&tpm, "tpm2_print -t TPMS_ATTEST attest.bin 2>&1", text,
                                 sizeof(text));
    print_message("%s", text);
    assert_non_null(strstr(text, "magic: ff544347\n"));
    assert_non_null(strstr(text, "type: 8017\n"));
    swtpm_fixture_hex(nonce, sizeof(nonce), hx);
    snprintf(want, sizeof(want), "extraData: %s\n", hx);
    assert_non_null(strstr(text, want));
    swtpm_fixture_hex(info.signer_name, info.signer_name_len, hx);
    snprintf(want, sizeof(want), "qualifiedSigner: %s\n", hx);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "  clock: %" PRIu64 "\n  resetCount: %" PRIu32 "\n", info.clock,
             info.reset_count);
    assert_non_null(strstr(text, want));
    swtpm_fixture_hex(name, name_len, hx);
    snprintf(want, sizeof(want), "name: %s\n", hx);
    if (r == 0) {
        assert_non_null(strstr(text, "certify:\n"));
        assert_non_null(strstr(text, want));
    } else {
        assert_non_null(strstr(text, "Cannot print unsupported type 0x8017"));
    }
    {
        TPMS_ATTEST a = {};
        size_t off = 0;

        assert_int_equal(Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, &a),
                         TSS2_RC_SUCCESS);
        assert_int_equal(off, attest_len);
        assert_int_equal(a.type, TPM2_ST_ATTEST_CERTIFY);
        assert_int_equal(a.attested.certify.name.size, name_len);
        assert_memory_equal(a.attested.certify.name.name, name, name_len);
    }
    /* tpm2_print reads the public area as the key's public key */
    assert_int_equal(spki_to_pem(key_spki[i], key_spki_len[i], &kpem), 0);
    assert_int_equal(swtpm_fixture_run_in_dir(&tpm, "tpm2_print -t TPMT_PUBLIC -f pem public.bin",
                                              text, sizeof(text)),
                     0);
    assert_string_equal(text, kpem);

    /* openssl accepts the DER signature with the AK, and nothing else. */
    assert_int_equal(spki_to_pem(ak_spki, ak_spki_len, &pem), 0);
    swtpm_fixture_put_file(&tpm, "ak.pem", pem, strlen(pem));
    assert_int_equal(openssl_verify("sig.der", "attest.bin"), 0);
    bad = malloc(attest_len);
    assert_non_null(bad);
    memcpy(bad, attest, attest_len);
    bad[attest_len - 1] ^= 1; /* in the certified qualifiedName */
    swtpm_fixture_put_file(&tpm, "bad.bin", bad, attest_len);
    assert_int_not_equal(openssl_verify("sig.der", "bad.bin"), 0);

    /* Rejections: wrong nonce, a flipped attest byte, another key's public area or SPKI. */
    memcpy(wrong, nonce, sizeof(wrong));
    wrong[0] ^= 1;
    assert_int_equal(verify(attest, attest_len, sig, sig_len, TPM_ATTEST_SIG_TPMT, pub, pub_len,
                            wrong, NULL, 0),
                     -ESTALE);
    assert_int_equal(verify(bad, attest_len, sig, sig_len, TPM_ATTEST_SIG_TPMT, pub, pub_len, nonce,
                            NULL, 0),
                     -EBADMSG);
    assert_int_equal(verify(attest, attest_len, sig, sig_len, TPM_ATTEST_SIG_TPMT, pub, pub_len,
                            nonce, key_spki[o], key_spki_len[o]),
                     -ENOKEY);
    {
        _cleanup_(tpm_certify_freep) struct tpm_certify *other = NULL;
        const uint8_t *opub;
        size_t opub_len;

        assert_int_equal(tpm_backend_certify(kb, ak_loc, key_loc[o], nonce, &other), 0);
        opub = tpm_certify_public(other, &opub_len);
        assert_int_equal(verify(attest, attest_len, sig, sig_len, TPM_ATTEST_SIG_TPMT, opub,
                                opub_len, nonce, NULL, 0),
                         -ENOKEY);
    }
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
}

static void test_certify_p256(void **state)
{
    REQUIRE_SWTPM();
    certify_and_check(0);
}

static void test_certify_p384(void **state)
{
    REQUIRE_SWTPM();
    certify_and_check(1);
}

static void test_certify_rsa(void **state)
{
    REQUIRE_SWTPM();
    certify_and_check(2);
}

/*
 * A signing key is unrestricted: the TPM signs any digest with it, including the digest of a
 * TPMS_ATTEST. Such a signature must not pass for the AK's.
 */
static void test_forged_by_signing_key(void **state)
{
    _cleanup_(tpm_certify_freep) struct tpm_certify *cert = NULL;
    uint8_t nonce[TPM_QUOTE_NONCE_LEN], dg[32], sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig), attest_len, pub_len;
    const uint8_t *attest, *pub;
    _cleanup_free_ char *pem = NULL;

    REQUIRE_SWTPM();
    swtpm_fixture_nonce("forgery", nonce);
    assert_int_equal(tpm_backend_certify(kb, ak_loc, key_loc[0], nonce, &cert), 0);
    attest = tpm_certify_attest(cert, &attest_len);
    pub = tpm_certify_public(cert, &pub_len);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, attest, attest_len, dg, sizeof(dg)), 0);
    assert_int_equal(kb->ops->sign(kb, key_loc[0], HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, &sig_len),
                     0);
    /* a valid signature by the signing key itself ... */
    assert_int_equal(sig_verify_digest(key_spki[0], key_spki_len[0], HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, sig_len),
                     0);
    /* ... is not the AK's */
    assert_int_equal(verify(attest, attest_len, sig, sig_len, TPM_ATTEST_SIG_PLAIN, pub, pub_len,
                            nonce, key_spki[0], key_spki_len[0]),
                     -EBADMSG);
    assert_int_equal(spki_to_pem(ak_spki, ak_spki_len, &pem), 0);
    swtpm_fixture_put_file(&tpm, "ak.pem", pem, strlen(pem));
    swtpm_fixture_put_file(&tpm, "forged.der", sig, sig_len);
    swtpm_fixture_put_file(&tpm, "attest.bin", attest, attest_len);
    assert_int_not_equal(openssl_verify("forged.der", "attest.bin"), 0);
}

static void test_full_lru(void **state)
{
    _cleanup_(tpm_certify_freep) struct tpm_certify *cert = NULL;
    uint8_t nonce[TPM_QUOTE_NONCE_LEN], dg[48] = {7}, sig[HWSIGN_MAX_SIG];
    const uint8_t *attest, *s, *pub;
    size_t sig_len = sizeof(sig), attest_len, s_len, pub_len;

    REQUIRE_SWTPM();
    /* keys 1 and 2 loaded (the LRU is full), then key 0 certified: SRK + key + AK */
    assert_int_equal(kb->ops->sign(kb, key_loc[1], HWSIGN_ALG_ECDSA_P384, HWSIGN_HASH_SHA384,
                                   HWSIGN_SCHEME_DEFAULT, dg, 48, sig, &sig_len),
                     0);
    sig_len = sizeof(sig);
    assert_int_equal(kb->ops->sign(kb, key_loc[2], HWSIGN_ALG_RSA_3072, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, 32, sig, &sig_len),
                     0);
    assert_int_equal(tpm_backend_loaded_keys(kb), 2);
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
    swtpm_fixture_nonce("lru", nonce);
    assert_int_equal(tpm_backend_certify(kb, ak_loc, key_loc[0], nonce, &cert), 0);
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
    attest = tpm_certify_attest(cert, &attest_len);
    s = tpm_certify_signature(cert, &s_len);
    pub = tpm_certify_public(cert, &pub_len);
    assert_int_equal(verify(attest, attest_len, s, s_len, TPM_ATTEST_SIG_TPMT, pub, pub_len, nonce,
                            key_spki[0], key_spki_len[0]),
                     0);
    /* every key still signs (reloading what was evicted) */
    for (size_t i = 0; i < N_KEYS; i++) {
        size_t dl = key_alg[i] == HWSIGN_ALG_ECDSA_P384 ? 48 : 32;
        enum hwsign_hash h = dl == 48 ? HWSIGN_HASH_SHA384 : HWSIGN_HASH_SHA256;

        sig_len = sizeof(sig);
        assert_int_equal(kb->ops->sign(kb, key_loc[i], key_alg[i], h, HWSIGN_SCHEME_DEFAULT, dg, dl,
                                       sig, &sig_len),
                         0);
        assert_int_equal(sig_verify_digest(key_spki[i], key_spki_len[i], h, HWSIGN_SCHEME_DEFAULT,
                                           dg, dl, sig, sig_len),
                         0);
    }
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
}

static void test_refusals(void **state)
{
    struct tpm_certify *cert = (struct tpm_certify *)0x1;
    uint8_t nonce[TPM_QUOTE_NONCE_LEN] = {1};
    char missing[300];

    REQUIRE_SWTPM();
    /* a signing key is no AK; an AK is not a key to certify this way */
    assert_int_equal(tpm_backend_certify(kb, key_loc[0], key_loc[1], nonce, &cert), -EOPNOTSUPP);
    assert_int_equal(tpm_backend_certify(kb, ak_loc, ak_loc, nonce, &cert), -EOPNOTSUPP);
    swtpm_fixture_path(&tpm, "keys/none.pem", missing, sizeof(missing));
    assert_int_equal(tpm_backend_certify(kb, ak_loc, missing, nonce, &cert), -ENOKEY);
    assert_int_equal(tpm_backend_certify(kb, missing, key_loc[0], nonce, &cert), -ENOKEY);
    assert_int_equal(tpm_backend_certify(kb, ak_loc, "keys/p256.pem", nonce, &cert), -EINVAL);
    assert_int_equal(tpm_backend_certify(kb, NULL, key_loc[0], nonce, &cert), -EINVAL);
    assert_int_equal(tpm_backend_certify(kb, ak_loc, key_loc[0], nonce, NULL), -EINVAL);
    assert_ptr_equal(cert, (struct tpm_certify *)0x1);
    /* a backend that is not open refuses before touching anything */
    {
        struct tpm_config cfg = {.name = "tpm1", .tcti = tpm.tcti, .key_dir = tpm.keys};
        struct key_backend *closed = NULL;

        assert_int_equal(tpm_backend_new(&cfg, &closed, NULL, 0), 0);
        assert_int_equal(tpm_backend_certify(closed, ak_loc, key_loc[0], nonce, &cert), -ENODEV);
        closed->ops->free(closed);
    }
    assert_ptr_equal(cert, (struct tpm_certify *)0x1);
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
    assert_null(tpm_certify_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_open_create),
            cmocka_unit_test(test_certify_p256),
            cmocka_unit_test(test_certify_p384),
            cmocka_unit_test(test_certify_rsa),
            cmocka_unit_test(test_forged_by_signing_key),
            cmocka_unit_test(test_full_lru),
            cmocka_unit_test(test_refusals),
    };
    int r = cmocka_run_group_tests(tests, setup, teardown);

    free(ak_loc);
    free(ak_spki);
    for (size_t i = 0; i < N_KEYS; i++) {
        free(key_loc[i]);
        free(key_spki[i]);
    }
    return r;
}
