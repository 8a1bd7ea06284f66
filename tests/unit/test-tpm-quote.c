/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of attestation keys and quotes (tpm-quote.c) against a real swtpm on a unix
 * socket in a private temporary directory (TOOLCHAIN.md §3), stopped by its pid file; a guard
 * process stops it too if this test dies. The swtpm tests skip only when swtpm is not
 * installed; the selection parser tests always run.
 *
 * Proves: the PCR selection parser accepts lists, ranges and several banks and refuses
 * malformed / out-of-range / oversized input; an AK is created as a 0600 TSS2 PRIVATE KEY with
 * a P-256 SPKI; a quote's TPMS_ATTEST (Tss2_MU_TPMS_ATTEST_Unmarshal) has the TPM magic, the
 * quote type, extraData == the nonce and the requested selection; tpm2_checkquote (tpm2-tools,
 * offline, TPM2TOOLS_TCTI unset) accepts the quote with both signature encodings:
 *   tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f quote.pcrs -g sha256 -q <nonce hex>
 * (quote.pcrs in tpm2-tools' serialized format; for < 8 PCRs also the raw "values" file with
 * -l <selection>), and rejects it with a wrong nonce, a modified PCR value or a modified
 * attestation; a
 * selection of 16 PCRs (two PCR_Read calls) verifies too; the AK cannot be used with the sign
 * op and a signing key cannot quote; the TPM never holds more than 3 transient objects and the
 * lockout counter does not move.
 */
#include <errno.h>
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
#include "swtpm-fixture.h"
#include "tpm-backend.h"
#include "tpm-quote.h"
#include "tpm.h"

static struct swtpm_fixture tpm;
static struct key_backend *kb;
static uint32_t lockout_at_start = UINT32_MAX;
static char *ak_loc, *key_loc;
static uint8_t *ak_spki, *key_spki;
static size_t ak_spki_len, key_spki_len;

static int setup(void **state)
{
    /* kb stays NULL when swtpm is not installed: the swtpm tests skip */
    return swtpm_fixture_setup_backend(&tpm, "quote", &kb);
}

static int teardown(void **state)
{
    swtpm_fixture_teardown_backend(&tpm, &kb);
    return 0;
}

#define REQUIRE_SWTPM() SWTPM_REQUIRE(kb)

/* ---- the selection parser (no TPM) ----------------------------------------------------------- */

static void expect_selection(const char *in, const char *normalised)
{
    TPML_PCR_SELECTION sel;
    char text[TPM_QUOTE_SELECTION_MAX * 2];

    if (tpm_quote_parse_selection(in, &sel) != 0)
        fail_msg("selection \"%s\" refused", in ? in : "(null)");
    assert_int_equal(tpm_quote_format_selection(&sel, text, sizeof(text)), 0);
    assert_string_equal(text, normalised);
}

static void test_selection(void **state)
{
    static const char *const bad[] = {
            "sha256",
            "sha256:",
            "sha256:8-7",
            "sha256:24",
            "sha256:0,",
            "sha256:,0",
            "sha256:00",
            "sha256:1 ",
            " sha256:1",
            "sha256:0-",
            "sha256:-1",
            "sha256:123",
            "md5:0",
            "SHA256:0",
            "sha256:0+",
            "sha256:0+sha256:1",
            "sha256:0;1",
            "sha256:0,1:2",
            "sha1:0+sha256:0+sha384:0+sha512:0+x:0",
    };
    TPML_PCR_SELECTION sel = {.count = 77}, want;
    char big[TPM_QUOTE_SELECTION_MAX + 8];
    char small[8];

    expect_selection(NULL, "sha256:0,1,2,3,4,5,6,7");
    expect_selection("", "sha256:0,1,2,3,4,5,6,7");
    expect_selection("sha256:0-7", "sha256:0,1,2,3,4,5,6,7");
    expect_selection("sha256:0,1,2", "sha256:0,1,2");
    expect_selection("sha256:23,16,0-1,1", "sha256:0,1,16,23");
    expect_selection("sha1:10+sha256:0-2", "sha1:10+sha256:0,1,2");
    expect_selection("sha384:0+sha512:23", "sha384:0+sha512:23");
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        if (tpm_quote_parse_selection(bad[i], &sel) != -EINVAL)
            fail_msg("selection \"%s\" accepted", bad[i]);
        assert_int_equal(sel.count, 77); /* untouched */
    }
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "sha256:", 7);
    assert_int_equal(tpm_quote_parse_selection(big, &sel), -EMSGSIZE);
    assert_int_equal(sel.count, 77);
    assert_int_equal(tpm_quote_parse_selection("sha256:0-23", &want), 0);
    assert_int_equal(tpm_quote_format_selection(&want, small, sizeof(small)), -ENOBUFS);
}

/* ---- helpers --------------------------------------------------------------------------------- */

/* tpm2_checkquote with the AK's PEM (ak.pem) on files in the fixture's directory. */
static int checkquote(const char *msg_file, const char *sig_file, const char *pcrs_file,
                      const char *selection, const uint8_t nonce[static TPM_QUOTE_NONCE_LEN])
{
    return swtpm_fixture_checkquote(&tpm, "ak.pem", msg_file, sig_file, pcrs_file, selection,
                                    nonce);
}

/* ---- swtpm tests ----------------------------------------------------------------------------- */

static void test_open_create(void **state)
{
    enum hwsign_alg got = HWSIGN_ALG_UNKNOWN;
    uint32_t transient = 99;
    char *poison = (char *)0x1;
    struct stat st;
    int r;

    REQUIRE_SWTPM();
    assert_int_equal(kb->ops->open(kb), 0);
    assert_int_equal(tpm_backend_probe(kb, &transient, &lockout_at_start), 0);
    r = tpm_backend_create_ak(kb, "ak", &ak_loc, &ak_spki, &ak_spki_len);
    if (r < 0)
        fail_msg("create_ak: %d %s", r, kb->ops->last_error(kb));
    assert_int_equal(spki_alg(ak_spki, ak_spki_len, &got), 0);
    assert_int_equal(got, HWSIGN_ALG_ECDSA_P256);
    assert_int_equal(stat(ak_loc, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* same name twice, bad name: refused, outputs untouched */
    assert_int_equal(tpm_backend_create_ak(kb, "ak", &poison, &key_spki, &key_spki_len), -EEXIST);
    assert_int_equal(tpm_backend_create_ak(kb, "../x", &poison, &key_spki, &key_spki_len), -EINVAL);
    assert_ptr_equal(poison, (char *)0x1);
    r = kb->ops->create(kb, "signer", HWSIGN_ALG_ECDSA_P256, &key_loc, &key_spki, &key_spki_len);
    if (r < 0)
        fail_msg("create: %d %s", r, kb->ops->last_error(kb));
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
}

/* Quotes sel with the AK and has tpm2_checkquote accept the result and reject forgeries. */
static void quote_and_check(const char *sel, const char *normalised)
{
    _cleanup_(tpm_quote_freep) struct tpm_quote *q = NULL;
    uint8_t nonce[TPM_QUOTE_NONCE_LEN], wrong[TPM_QUOTE_NONCE_LEN];
    const uint8_t *attest, *sig, *der, *pcrs, *ser;
    size_t attest_len, sig_len, der_len, pcrs_len, ser_len, off = 0, first, n_pcrs = 0;
    _cleanup_free_ char *pem = NULL;
    _cleanup_free_ uint8_t *bad = NULL;
    TPML_PCR_SELECTION want;
    TPMS_ATTEST a = {};
    int r;

    swtpm_fixture_nonce("{\"_type\":\"https://in-toto.io/Statement/v1\"}", nonce);
    r = tpm_backend_quote(kb, ak_loc, sel, nonce, &q);
    if (r < 0)
        fail_msg("quote %s: %d %s", sel ? sel : "(default)", r, kb->ops->last_error(kb));
    attest = tpm_quote_attest(q, &attest_len);
    sig = tpm_quote_signature(q, &sig_len);
    der = tpm_quote_signature_der(q, &der_len);
    pcrs = tpm_quote_pcr_values(q, &pcrs_len);
    ser = tpm_quote_pcrs_serialized(q, &ser_len);
    assert_string_equal(tpm_quote_selection(q), normalised);

    /* The attestation, parsed by tpm2-tss: a quote of our selection bound to our nonce. */
    assert_int_equal(Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, &a), TSS2_RC_SUCCESS);
    assert_int_equal(off, attest_len);
    assert_int_equal(a.magic, TPM2_GENERATED_VALUE);
    assert_int_equal(a.type, TPM2_ST_ATTEST_QUOTE);
    assert_int_equal(a.extraData.size, TPM_QUOTE_NONCE_LEN);
    assert_memory_equal(a.extraData.buffer, nonce, TPM_QUOTE_NONCE_LEN);
    assert_int_equal(tpm_quote_parse_selection(normalised, &want), 0);
    assert_int_equal(a.attested.quote.pcrSelect.count, want.count);
    for (uint32_t i = 0; i < want.count; i++) {
        assert_int_equal(a.attested.quote.pcrSelect.pcrSelections[i].hash,
                         want.pcrSelections[i].hash);
        assert_memory_equal(a.attested.quote.pcrSelect.pcrSelections[i].pcrSelect,
                            want.pcrSelections[i].pcrSelect, 3);
        for (unsigned k = 0; k < 24; k++)
            n_pcrs += (want.pcrSelections[i].pcrSelect[k / 8] >> (k % 8)) & 1u;
    }

    /* tpm2_checkquote accepts it, with either signature encoding. */
    assert_int_equal(spki_to_pem(ak_spki, ak_spki_len, &pem), 0);
    swtpm_fixture_put_file(&tpm, "ak.pem", pem, strlen(pem));
    swtpm_fixture_put_file(&tpm, "quote.msg", attest, attest_len);
    swtpm_fixture_put_file(&tpm, "quote.sig", sig, sig_len);
    swtpm_fixture_put_file(&tpm, "quote.der", der, der_len);
    swtpm_fixture_put_file(&tpm, "quote.pcrs", ser, ser_len);
    swtpm_fixture_put_file(&tpm, "quote.values", pcrs, pcrs_len);
    assert_int_equal(checkquote("quote.msg", "quote.sig", "quote.pcrs", NULL, nonce), 0);
    assert_int_equal(checkquote("quote.msg", "quote.der", "quote.pcrs", NULL, nonce), 0);
    if (n_pcrs < 8) /* checkquote 5.4 mis-reads the values format from 8 PCRs on */
        assert_int_equal(checkquote("quote.msg", "quote.sig", "quote.values", normalised, nonce),
                         0);

    /* A wrong nonce is rejected. */
    memcpy(wrong, nonce, sizeof(wrong));
    wrong[31] ^= 1;
    assert_int_not_equal(checkquote("quote.msg", "quote.sig", "quote.pcrs", NULL, wrong), 0);

    /* A modified PCR value (the first one, the last one) is rejected. */
    bad = malloc(ser_len);
    assert_non_null(bad);
    memcpy(bad, ser, ser_len);
    first = sizeof(TPML_PCR_SELECTION) + sizeof(uint32_t) + offsetof(TPML_DIGEST, digests) +
            offsetof(TPM2B_DIGEST, buffer);
    assert_memory_equal(bad + first, pcrs, 32);
    bad[first] ^= 0x80;
    swtpm_fixture_put_file(&tpm, "bad.pcrs", bad, ser_len);
    assert_int_not_equal(checkquote("quote.msg", "quote.sig", "bad.pcrs", NULL, nonce), 0);
    if (n_pcrs < 8) {
        memcpy(bad, pcrs, pcrs_len);
        bad[pcrs_len - 1] ^= 1;
        swtpm_fixture_put_file(&tpm, "bad.values", bad, pcrs_len);
        assert_int_not_equal(checkquote("quote.msg", "quote.sig", "bad.values", normalised, nonce),
                             0);
    }

    /* A modified attestation (the clock's low byte: magic, type, name, extraData, clock) too. */
    free(bad);
    bad = malloc(attest_len);
    assert_non_null(bad);
    memcpy(bad, attest, attest_len);
    bad[4 + 2 + 2 + a.qualifiedSigner.size + 2 + a.extraData.size + 7] ^= 1;
    swtpm_fixture_put_file(&tpm, "bad.msg", bad, attest_len);
    assert_int_not_equal(checkquote("bad.msg", "quote.sig", "quote.pcrs", NULL, nonce), 0);
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
}

static void test_quote_default(void **state)
{
    REQUIRE_SWTPM();
    quote_and_check(NULL, "sha256:0,1,2,3,4,5,6,7");
}

static void test_quote_list(void **state)
{
    REQUIRE_SWTPM();
    quote_and_check("sha256:0,1,2", "sha256:0,1,2");
}

static void test_quote_16(void **state)
{
    REQUIRE_SWTPM();
    /* 16 PCRs: more than one PCR_Read answer (at most 8 digests each) */
    quote_and_check("sha256:0-15", "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
}

static void test_quote_two_banks(void **state)
{
    REQUIRE_SWTPM();
    /* swtpm allocates the sha1 and sha256 banks: pcrDigest covers both, bank by bank */
    quote_and_check("sha256:0,1+sha1:0-2", "sha256:0,1+sha1:0,1,2");
}

static void test_refusals(void **state)
{
    struct tpm_quote *q = (struct tpm_quote *)0x1;
    uint8_t nonce[TPM_QUOTE_NONCE_LEN] = {1}, dg[32] = {2}, sig[HWSIGN_MAX_SIG];
    size_t sig_len = sizeof(sig);
    char missing[300];

    REQUIRE_SWTPM();
    /* the AK does not sign arbitrary digests through the sign op */
    assert_int_equal(kb->ops->sign(kb, ak_loc, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, &sig_len),
                     -EOPNOTSUPP);
    /* an unrestricted signing key cannot quote (it could sign a forged TPMS_ATTEST) */
    assert_int_equal(tpm_backend_quote(kb, key_loc, NULL, nonce, &q), -EOPNOTSUPP);
    assert_int_equal(tpm_backend_quote(kb, ak_loc, "sha256:24", nonce, &q), -EINVAL);
    swtpm_fixture_path(&tpm, "keys/none.pem", missing, sizeof(missing));
    assert_int_equal(tpm_backend_quote(kb, missing, NULL, nonce, &q), -ENOKEY);
    assert_ptr_equal(q, (struct tpm_quote *)0x1);
    /* a backend that is not open refuses before touching anything */
    {
        struct tpm_config cfg = {.name = "tpm1", .tcti = tpm.tcti, .key_dir = tpm.keys};
        struct key_backend *closed = NULL;
        char *l = NULL;
        uint8_t *p = NULL;
        size_t pl = 0;

        assert_int_equal(tpm_backend_new(&cfg, &closed, NULL, 0), 0);
        assert_int_equal(tpm_backend_quote(closed, ak_loc, NULL, nonce, &q), -ENODEV);
        assert_int_equal(tpm_backend_create_ak(closed, "ak2", &l, &p, &pl), -ENODEV);
        assert_null(l);
        closed->ops->free(closed);
    }
    /* the signing key still works */
    assert_int_equal(kb->ops->sign(kb, key_loc, HWSIGN_ALG_ECDSA_P256, HWSIGN_HASH_SHA256,
                                   HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, &sig_len),
                     0);
    assert_int_equal(sig_verify_digest(key_spki, key_spki_len, HWSIGN_HASH_SHA256,
                                       HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg), sig, sig_len),
                     0);
    swtpm_fixture_assert_transient(kb, 3, lockout_at_start);
    assert_null(tpm_quote_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_selection),     cmocka_unit_test(test_open_create),
            cmocka_unit_test(test_quote_default), cmocka_unit_test(test_quote_list),
            cmocka_unit_test(test_quote_16),      cmocka_unit_test(test_quote_two_banks),
            cmocka_unit_test(test_refusals),
    };
    int r = cmocka_run_group_tests(tests, setup, teardown);

    free(ak_loc);
    free(ak_spki);
    free(key_loc);
    free(key_spki);
    return r;
}
