/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM structure parsers of the offline certify verifier (lib/format/tpm-attest.c) on
 * arbitrary bytes, each input given to all four entry points:
 *
 * tpm_attest_parse: what it accepts is a certification (magic, type) whose fields, marshalled
 * again here by the TPM 2.0 Part 2 layout, give back exactly the input (a TPMS_ATTEST has one
 * encoding, so nothing is skipped or guessed); tpm_attest_certified_name returns the same
 * result code and, on success, the parsed certified Name.
 *
 * tpm_attest_public_name: on success the Name is nameAlg (the input's bytes 2..3) followed by
 * that hash of the whole input, computed here with EVP.
 *
 * tpm_attest_public_spki: never succeeds where public_name fails (it then fails with the same
 * code); on success the SPKI is DER OpenSSL parses as a key of the input's type (ECC or RSA),
 * within HWSIGN_MAX_SPKI, and the attributes are the input's bytes 4..7.
 *
 * tpm_attest_pcrs_parse (the quote's PCR file) and tpm_attest_pcr_parse (policy text): see
 * pcr_file and pcr_text below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "macro.h"
#include "tpm-attest.h"

#include <hwsign/protocol.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-tpm-attest: check failed at line %d: %s\n", __LINE__, #x);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* TPM 2.0 Part 2 algorithm IDs (TPM_ALG_ID). */
#define ALG_RSA    0x0001u
#define ALG_SHA256 0x000bu
#define ALG_SHA384 0x000cu
#define ALG_SHA512 0x000du
#define ALG_ECC    0x0023u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Appends v big-endian in n bytes. */
static void put(uint8_t *buf, size_t *o, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[(*o)++] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void put2b(uint8_t *buf, size_t *o, const uint8_t *b, size_t n)
{
    put(buf, o, n, 2);
    memcpy(buf + *o, b, n);
    *o += n;
}

static void attest(const uint8_t *data, size_t size)
{
    struct tpm_attest_info a;
    uint8_t name[TPM_ATTEST_MAX_NAME], buf[TPM_ATTEST_MAX + 64];
    size_t name_len = 0, o = 0;
    int r, r2;

    r = tpm_attest_parse(data, size, &a);
    r2 = tpm_attest_certified_name(data, size, name, &name_len);
    if (r == -ENOMEM || r2 == -ENOMEM)
        return;
    CHECK(r == 0 || r == -EINVAL || r == -EMSGSIZE || r == -EBADMSG);
    CHECK(r2 == r);
    if (r < 0)
        return;
    CHECK(size <= TPM_ATTEST_MAX);
    CHECK(a.magic == TPM_ATTEST_GENERATED_VALUE && a.type == TPM_ATTEST_ST_CERTIFY);
    CHECK(a.signer_name_len <= TPM_ATTEST_MAX_NAME && a.extra_data_len <= TPM_ATTEST_MAX_DATA &&
          a.name_len <= TPM_ATTEST_MAX_NAME && a.qualified_name_len <= TPM_ATTEST_MAX_NAME);
    CHECK(name_len == a.name_len && memcmp(name, a.name, name_len) == 0);

    put(buf, &o, a.magic, 4);
    put(buf, &o, a.type, 2);
    put2b(buf, &o, a.signer_name, a.signer_name_len);
    put2b(buf, &o, a.extra_data, a.extra_data_len);
    put(buf, &o, a.clock, 8);
    put(buf, &o, a.reset_count, 4);
    put(buf, &o, a.restart_count, 4);
    put(buf, &o, a.safe, 1);
    put(buf, &o, a.firmware_version, 8);
    put2b(buf, &o, a.name, a.name_len);
    put2b(buf, &o, a.qualified_name, a.qualified_name_len);
    CHECK(o == size && memcmp(buf, data, size) == 0);
}

static void public_area(const uint8_t *data, size_t size)
{
    _cleanup_free_ uint8_t *spki = NULL;
    uint8_t name[TPM_ATTEST_MAX_NAME], h[EVP_MAX_MD_SIZE];
    size_t name_len = 0, spki_len = 0;
    uint32_t attrs = 0;
    unsigned hl = 0;
    const EVP_MD *md;
    int r, r2;

    r = tpm_attest_public_name(data, size, name, &name_len);
    r2 = tpm_attest_public_spki(data, size, &spki, &spki_len, &attrs);
    if (r == -ENOMEM || r2 == -ENOMEM)
        return;
    CHECK(r == 0 || r == -EINVAL || r == -EMSGSIZE || r == -EOPNOTSUPP);
    CHECK(r2 == 0 || r2 == -EINVAL || r2 == -EMSGSIZE || r2 == -EOPNOTSUPP);
    CHECK(r == 0 || r2 == r);
    CHECK((r2 == 0) == (spki != NULL));
    if (r < 0)
        return;

    CHECK(size >= 10 && size <= TPM_ATTEST_MAX_PUBLIC);
    switch (be(data + 2, 2)) {
    case ALG_SHA256:
        md = EVP_sha256();
        break;
    case ALG_SHA384:
        md = EVP_sha384();
        break;
    case ALG_SHA512:
        md = EVP_sha512();
        break;
    default:
        CHECK(!"a Name with a nameAlg other than SHA-256/384/512");
        return;
    }
    CHECK(EVP_Digest(data, size, h, &hl, md, NULL) == 1);
    CHECK(name_len == 2 + hl && memcmp(name, data + 2, 2) == 0 && memcmp(name + 2, h, hl) == 0);

    if (r2 == 0) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        const unsigned char *p = spki;
        uint32_t type = be(data, 2);

        CHECK(spki_len >= 1 && spki_len <= HWSIGN_MAX_SPKI);
        k = d2i_PUBKEY(NULL, &p, (long)spki_len);
        CHECK(k && p == spki + spki_len);
        CHECK(type == ALG_ECC ? EVP_PKEY_is_a(k, "EC")
                              : type == ALG_RSA && EVP_PKEY_is_a(k, "RSA"));
        CHECK(attrs == be(data + 4, 4));
    }
}

/*
 * tpm_attest_pcrs_parse: what it accepts has the file's shape (selection, count, whole lists,
 * within the limit) and 1..TPM_ATTEST_MAX_PCR_VALUES values of their bank's size at distinct
 * (bank, index); each value round-trips through the policy text and passes its own check.
 */
static void pcr_file(const uint8_t *data, size_t size)
{
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *v = NULL;
    int r = tpm_attest_pcrs_parse(data, size, &v);

    if (r == -ENOMEM)
        return;
    CHECK(r == 0 || r == -EINVAL || r == -EMSGSIZE || r == -EOPNOTSUPP);
    CHECK((r == 0) == (v != NULL));
    if (r < 0)
        return;
    CHECK(size <= TPM_ATTEST_MAX_PCR_FILE && size > TPM_ATTEST_PCR_SEL_BYTES + 4u);
    CHECK((size - TPM_ATTEST_PCR_SEL_BYTES - 4u) % TPM_ATTEST_PCR_LIST_BYTES == 0);
    CHECK(v->count >= 1 && v->count <= TPM_ATTEST_MAX_PCR_VALUES);
    for (size_t i = 0; i < v->count; i++) {
        char text[TPM_ATTEST_PCR_TEXT_MAX];
        struct tpm_attest_pcr back;

        CHECK(v->pcr[i].index <= TPM_ATTEST_MAX_PCR_INDEX);
        CHECK(tpm_attest_pcrs_find(v, v->pcr[i].bank, v->pcr[i].index) == &v->pcr[i]);
        CHECK(tpm_attest_pcr_format(&v->pcr[i], text, sizeof(text)) == 0);
        CHECK(tpm_attest_pcr_parse(text, &back) == 0);
        CHECK(memcmp(&back, &v->pcr[i], sizeof(back)) == 0);
        CHECK(tpm_attest_pcrs_expect(v, &back) == 0);
    }
}

/* tpm_attest_pcr_parse on the input as text: what it accepts formats back to the same text
 * (lower-case). */
static void pcr_text(const uint8_t *data, size_t size)
{
    char in[TPM_ATTEST_PCR_TEXT_MAX + 1], out[TPM_ATTEST_PCR_TEXT_MAX];
    struct tpm_attest_pcr p;
    size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
    int r;

    memcpy(in, data, n);
    in[n] = '\0';
    r = tpm_attest_pcr_parse(in, &p);
    CHECK(r == 0 || r == -EINVAL || r == -EMSGSIZE || r == -ENOMEM);
    if (r < 0)
        return;
    CHECK(tpm_attest_pcr_format(&p, out, sizeof(out)) == 0);
    CHECK(strlen(out) == strlen(in));
    for (size_t i = 0; in[i]; i++)
        CHECK(out[i] == (in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' : in[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest(data, size);
    public_area(data, size);
    pcr_file(data, size);
    pcr_text(data, size);
    return 0;
}
