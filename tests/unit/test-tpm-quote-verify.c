/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of the offline quote verifier (lib/format/tpm-attest.c,
 * tpm_attest_verify_quote) on real quotes: a swtpm on a unix socket in a private temporary
 * directory (TOOLCHAIN.md §3), stopped by its pid file; a guard process stops it too if this
 * test dies. Skips only when swtpm is not installed.
 *
 * Proves: quotes made by tpm_backend_quote for "sha256:0-7", "sha256:0,7,16" and
 * "sha1:0+sha256:0-3" verify with our verifier (TPMT and DER signatures) AND with
 * `tpm2_checkquote -u ak.pem -m MSG -s SIG -f PCRS -g sha256 -q NONCE` (tpm2-tools, offline);
 * the values we return are the quote's raw values (tpm_quote_pcr_values) in selection order,
 * and round-trip through the policy text; a wrong nonce is refused by both. Then
 * `tpm2_pcrextend` (same swtpm, same TCTI, while our backend is closed) extends a quoted PCR:
 * a second quote verifies with both verifiers, its values differ from the first quote's in
 * exactly that PCR (tpm_attest_pcrs_expect says -EACCES for it and 0 for the others), and the
 * new value is SHA-256(old || extended digest), computed here; the first quote's PCR file with
 * the second quote's attestation (and the reverse) is refused by both verifiers (ours:
 * -ENOKEY). Finally tpm2-tools' own writer is checked: a restricted AK made with
 * tpm2_createprimary and `tpm2_quote -o` files (the serialized PCR format) verify with our
 * verifier and carry the values our backend's quote saw.
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

#include "crypto.h"
#include "fd-util.h"
#include "macro.h"
#include "swtpm-fixture.h"
#include "tpm-attest.h"
#include "tpm.h"

_Static_assert(TPM_ATTEST_NONCE_LEN == TPM_QUOTE_NONCE_LEN, "one nonce size");

#define EXTENDED_PCR 7u /* quoted by "sha256:0,7,16"; extendable at locality 0 */

static struct swtpm_fixture tpm;
static struct key_backend *kb;
static char *ak_loc;
static uint8_t *ak_spki;
static size_t ak_spki_len;
static uint8_t nonce[TPM_QUOTE_NONCE_LEN];
static struct tpm_attest_pcrs *after_extend; /* the second quote's values */

/* Frees the backend: the swtpm serves one connection at a time, tpm2-tools need it. */
static void backend_close(void)
{
    if (kb)
        kb->ops->free(kb);
    kb = NULL;
}

/* A fresh backend on the swtpm, opened; the previous one (if any) is freed first. */
static int backend_open(void)
{
    backend_close();
    if (swtpm_fixture_backend(&tpm, &kb) < 0)
        return -1;
    return kb->ops->open(kb) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    /* kb stays NULL when swtpm is not installed: the swtpm tests skip */
    if (swtpm_fixture_setup_backend(&tpm, "qverify", &kb) < 0)
        return -1;
    return kb && kb->ops->open(kb) != 0 ? -1 : 0;
}

static int teardown(void **state)
{
    swtpm_fixture_teardown_backend(&tpm, &kb);
    return 0;
}

#define REQUIRE_SWTPM() SWTPM_REQUIRE(tpm.dir[0] && kb && ak_loc)

/* ---- helpers --------------------------------------------------------------------------------- */

static void get_file(const char *name, uint8_t **ret, size_t *ret_len)
{
    char path[SWTPM_FIXTURE_PATH_MAX];

    swtpm_fixture_path(&tpm, name, path, sizeof(path));
    assert_int_equal(read_file_bounded(path, 64 * 1024, ret, ret_len), 0);
}

/* tpm2_checkquote on files in the fixture's directory with the serialized PCR file. */
static int checkquote(const char *ak_pem, const char *msg, const char *sig, const char *pcrs,
                      const uint8_t n[static TPM_QUOTE_NONCE_LEN])
{
    return swtpm_fixture_checkquote(&tpm, ak_pem, msg, sig, pcrs, NULL, n);
}

/* A tpm2-tools command on our swtpm. */
static int tool(const char *args)
{
    char cmd[1024];
    int len = snprintf(cmd, sizeof(cmd), "%s -T %s", args, tpm.tcti);

    assert_true(len > 0 && (size_t)len < sizeof(cmd));
    return swtpm_fixture_run_in_dir(&tpm, cmd, NULL, 0);
}

/* A quote, its files in dir under prefix (PREFIX.msg .sig .der .pcrs). */
static struct tpm_quote *quote_to_files(const char *sel, const char *prefix)
{
    static const char *const ext[] = {"msg", "sig", "der", "pcrs"};
    struct tpm_quote *q = NULL;
    size_t n[ELEMENTSOF(ext)] = {};
    char name[64];
    int r;

    r = tpm_backend_quote(kb, ak_loc, sel, nonce, &q);
    if (r < 0)
        fail_msg("quote %s: %d %s", sel, r, kb->ops->last_error(kb));
    const uint8_t *p[ELEMENTSOF(ext)] = {
            tpm_quote_attest(q, &n[0]),
            tpm_quote_signature(q, &n[1]),
            tpm_quote_signature_der(q, &n[2]),
            tpm_quote_pcrs_serialized(q, &n[3]),
    };
    for (size_t i = 0; i < ELEMENTSOF(ext); i++) {
        snprintf(name, sizeof(name), "%s.%s", prefix, ext[i]);
        swtpm_fixture_put_file(&tpm, name, p[i], n[i]);
    }
    return q;
}

/* Our verifier on q's attestation and signature (TPMT or DER) with a PCR file. */
static int verify(const struct tpm_quote *q, bool tpmt, const uint8_t *pcrs, size_t pcrs_len,
                  const uint8_t n[static TPM_QUOTE_NONCE_LEN], struct tpm_attest_pcrs **ret)
{
    struct tpm_attest_quote p = {.ak = ak_spki, .ak_len = ak_spki_len};

    p.attest = tpm_quote_attest(q, &p.attest_len);
    if (tpmt) {
        p.sig = tpm_quote_signature(q, &p.sig_len);
        p.sig_format = TPM_ATTEST_SIG_TPMT;
    } else {
        p.sig = tpm_quote_signature_der(q, &p.sig_len);
        p.sig_format = TPM_ATTEST_SIG_PLAIN;
    }
    return tpm_attest_verify_quote(&p, n, pcrs, pcrs_len, ret);
}

static int verify_own(const struct tpm_quote *q, bool tpmt, struct tpm_attest_pcrs **ret)
{
    const uint8_t *pcrs;
    size_t len;

    pcrs = tpm_quote_pcrs_serialized(q, &len);
    return verify(q, tpmt, pcrs, len, nonce, ret);
}

struct slot {
    uint16_t bank;
    uint8_t index;
};

/* v holds exactly the PCRs want[0..n) in that order, with the quote's raw values. */
static void expect_layout(const struct tpm_attest_pcrs *v, const struct tpm_quote *q,
                          const struct slot *want, size_t n)
{
    const uint8_t *raw;
    size_t raw_len, off = 0;

    raw = tpm_quote_pcr_values(q, &raw_len);
    assert_int_equal(v->count, n);
    for (size_t i = 0; i < n; i++) {
        char text[TPM_ATTEST_PCR_TEXT_MAX];
        struct tpm_attest_pcr back;

        assert_int_equal(v->pcr[i].bank, want[i].bank);
        assert_int_equal(v->pcr[i].index, want[i].index);
        assert_int_equal(v->pcr[i].len, want[i].bank == TPM_ATTEST_ALG_SHA1 ? 20 : 32);
        assert_true(off + v->pcr[i].len <= raw_len);
        assert_memory_equal(v->pcr[i].value, raw + off, v->pcr[i].len);
        off += v->pcr[i].len;
        /* what a policy file would say about it, and the policy check it passes */
        assert_int_equal(tpm_attest_pcr_format(&v->pcr[i], text, sizeof(text)), 0);
        assert_int_equal(tpm_attest_pcr_parse(text, &back), 0);
        assert_int_equal(tpm_attest_pcrs_expect(v, &back), 0);
    }
    assert_int_equal(off, raw_len);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_ak(void **state)
{
    static const char statement[] = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
    _cleanup_free_ char *pem = NULL;
    int r;

    SWTPM_REQUIRE(tpm.dir[0] && kb);
    assert_int_equal(
            hash_buffer(HWSIGN_HASH_SHA256, statement, strlen(statement), nonce, sizeof(nonce)), 0);
    r = tpm_backend_create_ak(kb, "ak", &ak_loc, &ak_spki, &ak_spki_len);
    if (r < 0)
        fail_msg("create_ak: %d %s", r, kb->ops->last_error(kb));
    assert_int_equal(spki_to_pem(ak_spki, ak_spki_len, &pem), 0);
    swtpm_fixture_put_file(&tpm, "ak.pem", pem, strlen(pem));
}

static void quote_both(const char *sel, const struct slot *want, size_t n)
{
    _cleanup_(tpm_quote_freep) struct tpm_quote *q = NULL;
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *v = NULL, *d = NULL;
    struct tpm_attest_pcrs *poison = (struct tpm_attest_pcrs *)&n;
    uint8_t wrong[TPM_QUOTE_NONCE_LEN];
    const uint8_t *pcrs;
    size_t len;

    q = quote_to_files(sel, "q");
    /* ours, with both signature forms */
    assert_int_equal(verify_own(q, true, &v), 0);
    expect_layout(v, q, want, n);
    assert_int_equal(verify_own(q, false, &d), 0);
    assert_int_equal(d->count, v->count);
    assert_memory_equal(d->pcr, v->pcr, v->count * sizeof(v->pcr[0]));
    /* tpm2-tools' */
    assert_int_equal(checkquote("ak.pem", "q.msg", "q.sig", "q.pcrs", nonce), 0);
    assert_int_equal(checkquote("ak.pem", "q.msg", "q.der", "q.pcrs", nonce), 0);
    /* a wrong nonce: both refuse */
    memcpy(wrong, nonce, sizeof(wrong));
    wrong[7] ^= 0x20;
    pcrs = tpm_quote_pcrs_serialized(q, &len);
    assert_int_equal(verify(q, true, pcrs, len, wrong, &poison), -ESTALE);
    assert_ptr_equal(poison, (struct tpm_attest_pcrs *)&n);
    assert_int_not_equal(checkquote("ak.pem", "q.msg", "q.sig", "q.pcrs", wrong), 0);
}

static void test_quote_0_7(void **state)
{
    static const struct slot want[] = {
            {TPM_ATTEST_ALG_SHA256, 0}, {TPM_ATTEST_ALG_SHA256, 1}, {TPM_ATTEST_ALG_SHA256, 2},
            {TPM_ATTEST_ALG_SHA256, 3}, {TPM_ATTEST_ALG_SHA256, 4}, {TPM_ATTEST_ALG_SHA256, 5},
            {TPM_ATTEST_ALG_SHA256, 6}, {TPM_ATTEST_ALG_SHA256, 7},
    };

    REQUIRE_SWTPM();
    quote_both("sha256:0-7", want, ELEMENTSOF(want));
}

static void test_quote_0_7_16(void **state)
{
    static const struct slot want[] = {
            {TPM_ATTEST_ALG_SHA256, 0}, {TPM_ATTEST_ALG_SHA256, 7}, {TPM_ATTEST_ALG_SHA256, 16}};

    REQUIRE_SWTPM();
    quote_both("sha256:0,7,16", want, ELEMENTSOF(want));
}

static void test_quote_two_banks(void **state)
{
    static const struct slot want[] = {
            {TPM_ATTEST_ALG_SHA1, 0},   {TPM_ATTEST_ALG_SHA256, 0}, {TPM_ATTEST_ALG_SHA256, 1},
            {TPM_ATTEST_ALG_SHA256, 2}, {TPM_ATTEST_ALG_SHA256, 3},
    };

    REQUIRE_SWTPM();
    quote_both("sha1:0+sha256:0-3", want, ELEMENTSOF(want));
}

static void test_extend(void **state)
{
    static const char measured[] = "hwsign measured this";
    _cleanup_(tpm_quote_freep) struct tpm_quote *q1 = NULL, *q2 = NULL;
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *v1 = NULL, *v2 = NULL;
    struct tpm_attest_pcrs *poison = (struct tpm_attest_pcrs *)&state;
    uint8_t ext[32], cat[64], want7[32];
    char ext_hex[65], cmd[256];
    const struct tpm_attest_pcr *old7, *new7;
    const uint8_t *pcrs1, *pcrs2;
    size_t len1, len2, changed = 0;

    REQUIRE_SWTPM();
    q1 = quote_to_files("sha256:0,7,16", "q1");
    assert_int_equal(verify_own(q1, true, &v1), 0);
    old7 = tpm_attest_pcrs_find(v1, TPM_ATTEST_ALG_SHA256, EXTENDED_PCR);
    assert_non_null(old7);

    /* tpm2_pcrextend on the same swtpm, while our backend lets go of it */
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, measured, strlen(measured), ext, sizeof(ext)),
                     0);
    swtpm_fixture_hex(ext, sizeof(ext), ext_hex);
    backend_close();
    snprintf(cmd, sizeof(cmd), "tpm2_pcrextend %u:sha256=%s", EXTENDED_PCR, ext_hex);
    assert_int_equal(tool(cmd), 0);
    assert_int_equal(backend_open(), 0);

    q2 = quote_to_files("sha256:0,7,16", "q2");
    assert_int_equal(verify_own(q2, true, &v2), 0);
    assert_int_equal(verify_own(q2, false, NULL), 0);
    assert_int_equal(checkquote("ak.pem", "q2.msg", "q2.sig", "q2.pcrs", nonce), 0);
    assert_int_equal(checkquote("ak.pem", "q1.msg", "q1.sig", "q1.pcrs", nonce), 0);

    /* Against the first quote's values as a policy: exactly the extended PCR differs, and it
     * holds SHA-256(old || ext), the TPM's extend. */
    assert_int_equal(v2->count, v1->count);
    for (size_t i = 0; i < v1->count; i++) {
        int r = tpm_attest_pcrs_expect(v2, &v1->pcr[i]);

        if (v1->pcr[i].index == EXTENDED_PCR) {
            assert_int_equal(r, -EACCES);
            changed++;
        } else {
            assert_int_equal(r, 0);
        }
    }
    assert_int_equal(changed, 1);
    memcpy(cat, old7->value, 32);
    memcpy(cat + 32, ext, 32);
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, cat, sizeof(cat), want7, sizeof(want7)), 0);
    new7 = tpm_attest_pcrs_find(v2, TPM_ATTEST_ALG_SHA256, EXTENDED_PCR);
    assert_non_null(new7);
    assert_memory_equal(new7->value, want7, 32);

    /* Mixed up: one quote's attestation with the other's PCR file. Same nonce, same selection,
     * both genuine: only the PCR values tell, and both verifiers refuse. */
    pcrs1 = tpm_quote_pcrs_serialized(q1, &len1);
    pcrs2 = tpm_quote_pcrs_serialized(q2, &len2);
    assert_int_equal(verify(q2, true, pcrs1, len1, nonce, &poison), -ENOKEY);
    assert_int_equal(verify(q2, false, pcrs1, len1, nonce, &poison), -ENOKEY);
    assert_int_equal(verify(q1, true, pcrs2, len2, nonce, &poison), -ENOKEY);
    assert_ptr_equal(poison, (struct tpm_attest_pcrs *)&state);
    assert_int_not_equal(checkquote("ak.pem", "q2.msg", "q2.sig", "q1.pcrs", nonce), 0);
    assert_int_not_equal(checkquote("ak.pem", "q1.msg", "q1.sig", "q2.pcrs", nonce), 0);
    after_extend = TAKE_PTR(v2);
}

/* Files written by tpm2_quote itself (not by our tpm-quote.c) verify with our verifier. */
static void test_tpm2_quote_files(void **state)
{
    _cleanup_free_ uint8_t *msg = NULL, *sig = NULL, *pcrs = NULL, *pem = NULL;
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *v = NULL;
    size_t msg_len = 0, sig_len = 0, pcrs_len = 0, pem_len = 0;
    struct tpm_attest_quote p;
    char cmd[512], nhex[2 * TPM_QUOTE_NONCE_LEN + 1];

    REQUIRE_SWTPM();
    assert_non_null(after_extend);
    backend_close();
    assert_int_equal(tool("tpm2_createprimary -C o -G ecc256:ecdsa-sha256:null "
                          "-a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|"
                          "sign|noda' -c tak.ctx"),
                     0);
    assert_int_equal(tool("tpm2_readpublic -c tak.ctx -f pem -o tak.pem"), 0);
    swtpm_fixture_hex(nonce, sizeof(nonce), nhex);
    snprintf(cmd, sizeof(cmd),
             "tpm2_quote -c tak.ctx -l sha1:0+sha256:0,7,16 -q %s -m t.msg -s t.sig -o t.pcrs "
             "-g sha256",
             nhex);
    assert_int_equal(tool(cmd), 0);
    /* Without a resource manager the tools leave their objects loaded: free the slots. */
    assert_int_equal(tool("tpm2_flushcontext -t"), 0);
    assert_int_equal(backend_open(), 0);
    get_file("t.msg", &msg, &msg_len);
    get_file("t.sig", &sig, &sig_len);
    get_file("t.pcrs", &pcrs, &pcrs_len);
    get_file("tak.pem", &pem, &pem_len);
    assert_int_equal(checkquote("tak.pem", "t.msg", "t.sig", "t.pcrs", nonce), 0);

    p = (struct tpm_attest_quote){msg, msg_len, sig, sig_len, TPM_ATTEST_SIG_TPMT, pem, pem_len};
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, pcrs, pcrs_len, &v), 0);
    assert_int_equal(v->count, 4);
    assert_int_equal(v->pcr[0].bank, TPM_ATTEST_ALG_SHA1);
    /* the same PCRs our backend's second quote saw */
    for (size_t i = 0; i < after_extend->count; i++)
        assert_int_equal(tpm_attest_pcrs_expect(v, &after_extend->pcr[i]), 0);
    /* ... and not our AK's quote */
    p.ak = ak_spki;
    p.ak_len = ak_spki_len;
    assert_int_equal(tpm_attest_verify_quote(&p, nonce, pcrs, pcrs_len, NULL), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ak),           cmocka_unit_test(test_quote_0_7),
            cmocka_unit_test(test_quote_0_7_16), cmocka_unit_test(test_quote_two_banks),
            cmocka_unit_test(test_extend),       cmocka_unit_test(test_tpm2_quote_files),
    };
    int r = cmocka_run_group_tests(tests, setup, teardown);

    free(ak_loc);
    free(ak_spki);
    tpm_attest_pcrs_free(after_extend);
    return r;
}
