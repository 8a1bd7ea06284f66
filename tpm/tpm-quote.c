/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "crypto.h"
#include "tpm-cleanup.h"
#include "tpm-key.h"
#include "tpm-quote.h"

#define AK_ATTRS                                                                                   \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |                \
     TPMA_OBJECT_NODA)
#define PCR_SELECT_BYTES 3u /* sizeofSelect for PCRs 0..23 */
#define MAX_VALUES       (TPM_QUOTE_MAX_BANKS * (TPM_QUOTE_MAX_PCR + 1u) * TPM2_SHA512_DIGEST_SIZE)

struct tpm_quote {
    uint8_t *attest;
    size_t attest_len;
    uint8_t *sig;
    size_t sig_len;
    uint8_t *sig_der;
    size_t sig_der_len;
    uint8_t *pcrs;
    size_t pcrs_len;
    uint8_t *pcrs_ser;
    size_t pcrs_ser_len;
    char *selection;
};

const TPM2B_PUBLIC tpm_quote_ak_template = {
        .publicArea =
                {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = AK_ATTRS,
                        .parameters.eccDetail =
                                {
                                        .symmetric.algorithm = TPM2_ALG_NULL,
                                        .scheme = {.scheme = TPM2_ALG_ECDSA,
                                                   .details.ecdsa.hashAlg = TPM2_ALG_SHA256},
                                        .curveID = TPM2_ECC_NIST_P256,
                                        .kdf.scheme = TPM2_ALG_NULL,
                                },
                },
};

/* ---- selections ----------------------------------------------------------------------------- */

static const struct {
    const char *name;
    TPMI_ALG_HASH alg;
    size_t len;
} banks[] = {
        {"sha1", TPM2_ALG_SHA1, TPM2_SHA1_DIGEST_SIZE},
        {"sha256", TPM2_ALG_SHA256, TPM2_SHA256_DIGEST_SIZE},
        {"sha384", TPM2_ALG_SHA384, TPM2_SHA384_DIGEST_SIZE},
        {"sha512", TPM2_ALG_SHA512, TPM2_SHA512_DIGEST_SIZE},
};

static size_t bank_len(TPMI_ALG_HASH alg)
{
    for (size_t i = 0; i < ELEMENTSOF(banks); i++)
        if (banks[i].alg == alg)
            return banks[i].len;
    return 0;
}

static const char *bank_name(TPMI_ALG_HASH alg)
{
    for (size_t i = 0; i < ELEMENTSOF(banks); i++)
        if (banks[i].alg == alg)
            return banks[i].name;
    return NULL;
}

/* One PCR index at *p: decimal, no leading zero, 0..TPM_QUOTE_MAX_PCR. */
static int parse_index(const char **p, unsigned *ret)
{
    const char *s = *p;
    unsigned v = 0;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 2)
            return -EINVAL;
        v = v * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && s[0] == '0') || v > TPM_QUOTE_MAX_PCR)
        return -EINVAL;
    *p = s + n;
    *ret = v;
    return 0;
}

int tpm_quote_parse_selection(const char *s, TPML_PCR_SELECTION *ret)
{
    TPML_PCR_SELECTION sel = {};
    const char *p;

    if (!ret)
        return -EINVAL;
    if (!s || !s[0])
        s = TPM_QUOTE_DEFAULT_SELECTION;
    if (strnlen(s, TPM_QUOTE_SELECTION_MAX + 1) > TPM_QUOTE_SELECTION_MAX)
        return -EMSGSIZE;
    p = s;
    for (;;) {
        TPMS_PCR_SELECTION *b;
        size_t i, n;

        for (i = 0; i < ELEMENTSOF(banks); i++) {
            n = strlen(banks[i].name);
            if (strncmp(p, banks[i].name, n) == 0 && p[n] == ':')
                break;
        }
        if (i == ELEMENTSOF(banks) || sel.count == TPM_QUOTE_MAX_BANKS)
            return -EINVAL;
        for (uint32_t j = 0; j < sel.count; j++)
            if (sel.pcrSelections[j].hash == banks[i].alg)
                return -EINVAL; /* a bank twice */
        b = &sel.pcrSelections[sel.count++];
        b->hash = banks[i].alg;
        b->sizeofSelect = PCR_SELECT_BYTES;
        p += n + 1;
        for (;;) {
            unsigned lo, hi;

            if (parse_index(&p, &lo) < 0)
                return -EINVAL;
            hi = lo;
            if (*p == '-') {
                p++;
                if (parse_index(&p, &hi) < 0 || hi < lo)
                    return -EINVAL;
            }
            for (unsigned k = lo; k <= hi; k++)
                b->pcrSelect[k / 8] |= (uint8_t)(1u << (k % 8));
            if (*p != ',')
                break;
            p++;
        }
        if (*p == '\0')
            break;
        if (*p != '+')
            return -EINVAL;
        p++;
    }
    *ret = sel;
    return 0;
}

int tpm_quote_format_selection(const TPML_PCR_SELECTION *sel, char *buf, size_t len)
{
    size_t off = 0;

    if (!sel || !buf || len == 0)
        return -EINVAL;
    buf[0] = '\0';
    for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
        const TPMS_PCR_SELECTION *b = &sel->pcrSelections[i];
        const char *name = bank_name(b->hash);
        const char *sep = "";
        int n;

        if (!name)
            return -EINVAL;
        n = snprintf(buf + off, len - off, "%s%s:", i ? "+" : "", name);
        if (n < 0 || (size_t)n >= len - off)
            return -ENOBUFS;
        off += (size_t)n;
        for (unsigned k = 0; k < 8u * b->sizeofSelect && k / 8 < sizeof(b->pcrSelect); k++) {
            if (!(b->pcrSelect[k / 8] & (1u << (k % 8))))
                continue;
            n = snprintf(buf + off, len - off, "%s%u", sep, k);
            if (n < 0 || (size_t)n >= len - off)
                return -ENOBUFS;
            off += (size_t)n;
            sep = ",";
        }
    }
    return 0;
}

static bool selection_equal(const TPML_PCR_SELECTION *a, const TPML_PCR_SELECTION *b)
{
    if (a->count != b->count || a->count > TPM2_NUM_PCR_BANKS)
        return false;
    for (uint32_t i = 0; i < a->count; i++) {
        const TPMS_PCR_SELECTION *x = &a->pcrSelections[i], *y = &b->pcrSelections[i];

        if (x->hash != y->hash)
            return false;
        for (size_t k = 0; k < sizeof(x->pcrSelect); k++) {
            uint8_t bx = k < x->sizeofSelect ? x->pcrSelect[k] : 0;
            uint8_t by = k < y->sizeofSelect ? y->pcrSelect[k] : 0;
            if (bx != by)
                return false;
        }
    }
    return true;
}

/* ---- the AK --------------------------------------------------------------------------------- */

int tpm_quote_check_ak(const TPMT_PUBLIC *pub)
{
    const TPMS_ECC_PARMS *e = &pub->parameters.eccDetail;

    if (pub->type != TPM2_ALG_ECC || pub->nameAlg != TPM2_ALG_SHA256 ||
        pub->objectAttributes != AK_ATTRS || pub->authPolicy.size != 0 ||
        e->symmetric.algorithm != TPM2_ALG_NULL || e->scheme.scheme != TPM2_ALG_ECDSA ||
        e->scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256 || e->curveID != TPM2_ECC_NIST_P256 ||
        e->kdf.scheme != TPM2_ALG_NULL || pub->unique.ecc.x.size == 0 ||
        pub->unique.ecc.x.size > 32 || pub->unique.ecc.y.size == 0 || pub->unique.ecc.y.size > 32)
        return -EOPNOTSUPP;
    return 0;
}

int tpm_quote_create_ak(struct tpm_context *c, ESYS_TR srk, struct tpm_keyfile *ret)
{
    static const TPM2B_SENSITIVE_CREATE sensitive = {}; /* empty auth, TPM-generated key */
    static const TPM2B_DATA outside = {};
    static const TPML_PCR_SELECTION pcrs = {};
    _cleanup_(Esys_Freep) TPM2B_PRIVATE *priv = NULL;
    _cleanup_(Esys_Freep) TPM2B_PUBLIC *pub = NULL;
    int r;

    r = TPM_CALL(c, "Esys_Create(AK)",
                 Esys_Create(c->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                             &tpm_quote_ak_template, &outside, &pcrs, &priv, &pub, NULL, NULL,
                             NULL));
    if (r < 0)
        return r;
    if (!priv || !pub || tpm_quote_check_ak(&pub->publicArea) < 0)
        return tpm_context_failf(c, -EIO, "TPM returned an unexpected attestation key");
    ret->pub = *pub;
    ret->priv = *priv;
    return 0;
}

int tpm_quote_ak_spki(const TPMT_PUBLIC *pub, uint8_t **ret_spki, size_t *ret_len)
{
    TPMT_PUBLIC p;

    if (tpm_quote_check_ak(pub) < 0)
        return -EOPNOTSUPP;
    /*
     * The SPKI depends only on the curve and the point; tpm_key_spki() checks the key is a
     * usable unrestricted signing key, so hand it a copy without the restricted bit.
     */
    p = *pub;
    p.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
    return tpm_key_spki(&p, ret_spki, ret_len);
}

/* ---- the quote ------------------------------------------------------------------------------ */

struct tpm_quote *tpm_quote_free(struct tpm_quote *q)
{
    if (!q)
        return NULL;
    free(q->attest);
    free(q->sig);
    free(q->sig_der);
    free(q->pcrs);
    free(q->pcrs_ser);
    free(q->selection);
    free(q);
    return NULL;
}

const uint8_t *tpm_quote_attest(const struct tpm_quote *q, size_t *ret_len)
{
    *ret_len = q->attest_len;
    return q->attest;
}

const uint8_t *tpm_quote_signature(const struct tpm_quote *q, size_t *ret_len)
{
    *ret_len = q->sig_len;
    return q->sig;
}

const uint8_t *tpm_quote_signature_der(const struct tpm_quote *q, size_t *ret_len)
{
    *ret_len = q->sig_der_len;
    return q->sig_der;
}

const uint8_t *tpm_quote_pcr_values(const struct tpm_quote *q, size_t *ret_len)
{
    *ret_len = q->pcrs_len;
    return q->pcrs;
}

const uint8_t *tpm_quote_pcrs_serialized(const struct tpm_quote *q, size_t *ret_len)
{
    *ret_len = q->pcrs_ser_len;
    return q->pcrs_ser;
}

const char *tpm_quote_selection(const struct tpm_quote *q)
{
    return q->selection;
}

static uint8_t *memdup_or_null(const void *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);

    if (d && len)
        memcpy(d, p, len);
    return d;
}

/*
 * Reads every PCR of sel into values (bank by bank in selection order, ascending index, as
 * pcrDigest is computed). PCR_Read returns at most 8 digests per call and says which PCRs it
 * read, so we repeat with what is left; a call that reads nothing means a missing bank or PCR.
 */
static int pcrs_read(struct tpm_context *c, const TPML_PCR_SELECTION *sel, uint8_t *values,
                     size_t *ret_len)
{
    uint8_t got[TPM_QUOTE_MAX_BANKS][TPM_QUOTE_MAX_PCR + 1][TPM2_SHA512_DIGEST_SIZE];
    TPML_PCR_SELECTION left = *sel;
    size_t off = 0;
    bool more = true;
    int r;

    while (more) {
        _cleanup_(Esys_Freep) TPML_PCR_SELECTION *out = NULL;
        _cleanup_(Esys_Freep) TPML_DIGEST *vals = NULL;
        uint32_t next = 0;
        bool any = false;

        r = TPM_CALL(c, "Esys_PCR_Read",
                     Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &left, NULL,
                                   &out, &vals));
        if (r < 0)
            return r;
        if (!out || !vals)
            return tpm_context_failf(c, -EIO, "TPM returned no PCR values");
        for (uint32_t i = 0; i < out->count && i < TPM2_NUM_PCR_BANKS; i++) {
            const TPMS_PCR_SELECTION *o = &out->pcrSelections[i];
            uint32_t bi;

            for (bi = 0; bi < left.count; bi++)
                if (left.pcrSelections[bi].hash == o->hash)
                    break;
            if (bi == left.count)
                return tpm_context_failf(c, -EIO, "TPM read a PCR bank we did not ask for");
            for (unsigned k = 0; k <= TPM_QUOTE_MAX_PCR && k / 8 < o->sizeofSelect; k++) {
                uint8_t bit = (uint8_t)(1u << (k % 8));

                if (!(o->pcrSelect[k / 8] & bit))
                    continue;
                if (!(left.pcrSelections[bi].pcrSelect[k / 8] & bit) || next >= vals->count ||
                    vals->digests[next].size != bank_len(o->hash))
                    return tpm_context_failf(c, -EIO, "TPM returned inconsistent PCR values");
                memcpy(got[bi][k], vals->digests[next].buffer, vals->digests[next].size);
                next++;
                left.pcrSelections[bi].pcrSelect[k / 8] &= (uint8_t)~bit;
                any = true;
            }
        }
        if (!any)
            return tpm_context_failf(c, -EOPNOTSUPP,
                                     "the TPM has no such PCR bank or PCR in the selection");
        more = false;
        for (uint32_t bi = 0; bi < left.count; bi++)
            for (size_t k = 0; k < PCR_SELECT_BYTES; k++)
                more = more || left.pcrSelections[bi].pcrSelect[k] != 0;
    }
    for (uint32_t bi = 0; bi < sel->count; bi++) {
        const TPMS_PCR_SELECTION *b = &sel->pcrSelections[bi];
        size_t blen = bank_len(b->hash);

        for (unsigned k = 0; k <= TPM_QUOTE_MAX_PCR; k++)
            if (b->pcrSelect[k / 8] & (1u << (k % 8))) {
                memcpy(values + off, got[bi][k], blen);
                off += blen;
            }
    }
    *ret_len = off;
    return 0;
}

/*
 * tpm2-tools' "serialized" PCR file, what `tpm2_quote -o` writes by default and
 * `tpm2_checkquote -f` reads without -l: the C structs in host byte order, padding zeroed:
 * TPML_PCR_SELECTION, a UINT32 count of TPML_DIGEST lists, then the lists (at most 8 digests
 * each, the values in selection order).
 */
static int pcrs_serialize(const TPML_PCR_SELECTION *sel, const uint8_t *values, size_t values_len,
                          uint8_t **ret, size_t *ret_len)
{
    _cleanup_free_ TPML_DIGEST *dl = NULL;
    _cleanup_free_ uint8_t *buf = NULL;
    size_t n = 0, voff = 0, len;
    TPML_PCR_SELECTION s;
    uint32_t lists;

    for (uint32_t i = 0; i < sel->count; i++)
        for (unsigned k = 0; k <= TPM_QUOTE_MAX_PCR; k++)
            if (sel->pcrSelections[i].pcrSelect[k / 8] & (1u << (k % 8)))
                n++;
    lists = (uint32_t)((n + 7) / 8);
    len = sizeof(s) + sizeof(lists) + lists * sizeof(TPML_DIGEST);
    dl = calloc(lists ? lists : 1, sizeof(TPML_DIGEST));
    buf = calloc(1, len);
    if (!dl || !buf)
        return -ENOMEM;
    memset(&s, 0, sizeof(s)); /* padding too: the file is a struct dump */
    s.count = sel->count;
    for (uint32_t i = 0; i < sel->count; i++) {
        s.pcrSelections[i].hash = sel->pcrSelections[i].hash;
        s.pcrSelections[i].sizeofSelect = sel->pcrSelections[i].sizeofSelect;
        memcpy(s.pcrSelections[i].pcrSelect, sel->pcrSelections[i].pcrSelect,
               sizeof(s.pcrSelections[i].pcrSelect));
    }
    n = 0;
    for (uint32_t i = 0; i < sel->count; i++) {
        size_t blen = bank_len(sel->pcrSelections[i].hash);

        for (unsigned k = 0; k <= TPM_QUOTE_MAX_PCR; k++) {
            TPML_DIGEST *d = &dl[n / 8];

            if (!(sel->pcrSelections[i].pcrSelect[k / 8] & (1u << (k % 8))))
                continue;
            if (blen == 0 || voff + blen > values_len)
                return -EINVAL;
            d->digests[d->count].size = (UINT16)blen;
            memcpy(d->digests[d->count].buffer, values + voff, blen);
            d->count++;
            voff += blen;
            n++;
        }
    }
    memcpy(buf, &s, sizeof(s));
    memcpy(buf + sizeof(s), &lists, sizeof(lists));
    memcpy(buf + sizeof(s) + sizeof(lists), dl, lists * sizeof(TPML_DIGEST));
    *ret_len = len;
    *ret = TAKE_PTR(buf);
    return 0;
}

/* Checks the attestation against what we asked for; *ret_match: pcrDigest == H(values). */
static int attest_check(struct tpm_context *c, const TPM2B_ATTEST *quoted,
                        const TPML_PCR_SELECTION *sel, const uint8_t *nonce, const uint8_t *values,
                        size_t values_len, bool *ret_match)
{
    uint8_t dg[TPM2_SHA256_DIGEST_SIZE];
    TPMS_ATTEST a = {};
    size_t off = 0;
    TSS2_RC rc;

    rc = Tss2_MU_TPMS_ATTEST_Unmarshal(quoted->attestationData, quoted->size, &off, &a);
    if (rc != TSS2_RC_SUCCESS || off != quoted->size)
        return tpm_context_failf(c, -EIO, "TPM returned a malformed attestation");
    if (a.magic != TPM2_GENERATED_VALUE || a.type != TPM2_ST_ATTEST_QUOTE ||
        a.extraData.size != TPM_QUOTE_NONCE_LEN ||
        memcmp(a.extraData.buffer, nonce, TPM_QUOTE_NONCE_LEN) != 0 ||
        !selection_equal(&a.attested.quote.pcrSelect, sel))
        return tpm_context_failf(c, -EIO, "TPM returned a quote of something else");
    if (hash_buffer(HWSIGN_HASH_SHA256, values, values_len, dg, sizeof(dg)) < 0)
        return tpm_context_failf(c, -ENOMEM, "cannot hash the PCR values");
    *ret_match = a.attested.quote.pcrDigest.size == sizeof(dg) &&
                 memcmp(a.attested.quote.pcrDigest.buffer, dg, sizeof(dg)) == 0;
    return 0;
}

int tpm_quote_sig_encode(struct tpm_context *c, const TPMT_PUBLIC *akpub, const TPMT_SIGNATURE *ts,
                         const TPM2B_ATTEST *attest, const char *what, uint8_t **ret_sig,
                         size_t *ret_sig_len, uint8_t **ret_der, size_t *ret_der_len)
{
    _cleanup_free_ uint8_t *spki = NULL, *sig = NULL, *der = NULL;
    uint8_t buf[sizeof(TPMT_SIGNATURE)], raw[2 * TPM_QUOTE_ECC_COORD] = {};
    uint8_t dg[TPM2_SHA256_DIGEST_SIZE];
    const TPMS_SIGNATURE_ECDSA *e = &ts->signature.ecdsa;
    size_t off = 0, spki_len = 0, der_len = 0;
    int r;

    if (ts->sigAlg != TPM2_ALG_ECDSA || e->hash != TPM2_ALG_SHA256 || e->signatureR.size == 0 ||
        e->signatureR.size > TPM_QUOTE_ECC_COORD || e->signatureS.size == 0 ||
        e->signatureS.size > TPM_QUOTE_ECC_COORD)
        return tpm_context_failf(c, -EIO, "TPM returned an unexpected %s signature", what);
    if (Tss2_MU_TPMT_SIGNATURE_Marshal(ts, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
        return tpm_context_failf(c, -EIO, "cannot marshal the %s signature", what);
    sig = memdup_or_null(buf, off);
    if (!sig)
        return tpm_context_failf(c, -ENOMEM, "out of memory");
    memcpy(raw + TPM_QUOTE_ECC_COORD - e->signatureR.size, e->signatureR.buffer,
           e->signatureR.size);
    memcpy(raw + 2 * TPM_QUOTE_ECC_COORD - e->signatureS.size, e->signatureS.buffer,
           e->signatureS.size);
    r = ecdsa_raw_to_der(raw, sizeof(raw), &der, &der_len);
    if (r < 0)
        return tpm_context_failf(c, r == -ENOMEM ? r : -EIO, "cannot encode the %s signature",
                                 what);
    r = tpm_quote_ak_spki(akpub, &spki, &spki_len);
    if (r < 0)
        return tpm_context_failf(c, r == -ENOMEM ? r : -EIO, "unusable attestation key");
    if (hash_buffer(HWSIGN_HASH_SHA256, attest->attestationData, attest->size, dg, sizeof(dg)) <
                0 ||
        sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, dg, sizeof(dg),
                          der, der_len) != 0)
        return tpm_context_failf(c, -EIO, "the %s signature does not verify with the AK", what);
    *ret_sig = TAKE_PTR(sig);
    *ret_sig_len = off;
    *ret_der = TAKE_PTR(der);
    *ret_der_len = der_len;
    return 0;
}

int tpm_quote_make(struct tpm_context *c, ESYS_TR ak, const TPMT_PUBLIC *akpub,
                   const TPML_PCR_SELECTION *sel, const uint8_t nonce[static TPM_QUOTE_NONCE_LEN],
                   struct tpm_quote **ret)
{
    static const TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_ECDSA,
                                           .details.ecdsa.hashAlg = TPM2_ALG_SHA256};
    _cleanup_(tpm_quote_freep) struct tpm_quote *q = NULL;
    _cleanup_free_ uint8_t *values = NULL;
    char text[TPM_QUOTE_SELECTION_MAX * 2];
    TPM2B_DATA qd = {.size = TPM_QUOTE_NONCE_LEN};
    size_t values_len = 0;
    int r;

    if (!akpub || !sel || !nonce || !ret || sel->count == 0 || sel->count > TPM_QUOTE_MAX_BANKS)
        return tpm_context_failf(c, -EINVAL, "missing argument");
    for (uint32_t i = 0; i < sel->count; i++)
        if (bank_len(sel->pcrSelections[i].hash) == 0 ||
            sel->pcrSelections[i].sizeofSelect != PCR_SELECT_BYTES)
            return tpm_context_failf(c, -EINVAL, "unsupported PCR selection");
    if (tpm_quote_format_selection(sel, text, sizeof(text)) < 0)
        return tpm_context_failf(c, -EINVAL, "unsupported PCR selection");
    memcpy(qd.buffer, nonce, TPM_QUOTE_NONCE_LEN);
    q = calloc(1, sizeof(*q));
    values = malloc(MAX_VALUES);
    if (!q || !values || !(q->selection = strdup(text)))
        return tpm_context_failf(c, -ENOMEM, "out of memory");

    for (unsigned attempt = 0;; attempt++) {
        _cleanup_(Esys_Freep) TPM2B_ATTEST *quoted = NULL;
        _cleanup_(Esys_Freep) TPMT_SIGNATURE *ts = NULL;
        bool match = false;

        r = pcrs_read(c, sel, values, &values_len);
        if (r < 0)
            return r;
        r = TPM_CALL(c, "Esys_Quote",
                     Esys_Quote(c->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd,
                                &scheme, sel, &quoted, &ts));
        if (r < 0)
            return r;
        if (!quoted || !ts)
            return tpm_context_failf(c, -EIO, "TPM returned no quote");
        r = attest_check(c, quoted, sel, nonce, values, values_len, &match);
        if (r < 0)
            return r;
        if (!match) {
            if (attempt + 1 < TPM_QUOTE_ATTEMPTS)
                continue; /* a PCR was extended between PCR_Read and Quote */
            return tpm_context_failf(c, -EBUSY, "the PCRs kept changing during %u quotes",
                                     TPM_QUOTE_ATTEMPTS);
        }
        r = tpm_quote_sig_encode(c, akpub, ts, quoted, "quote", &q->sig, &q->sig_len, &q->sig_der,
                                 &q->sig_der_len);
        if (r < 0)
            return r;
        q->attest = memdup_or_null(quoted->attestationData, quoted->size);
        if (!q->attest)
            return tpm_context_failf(c, -ENOMEM, "out of memory");
        q->attest_len = quoted->size;
        break;
    }
    r = pcrs_serialize(sel, values, values_len, &q->pcrs_ser, &q->pcrs_ser_len);
    if (r < 0)
        return tpm_context_failf(c, r, "cannot serialise the PCR values");
    q->pcrs = TAKE_PTR(values);
    q->pcrs_len = values_len;
    *ret = TAKE_PTR(q);
    return 0;
}
