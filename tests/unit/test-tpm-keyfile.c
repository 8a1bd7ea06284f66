/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TSS2 PRIVATE KEY codec (tpm/tpm-keyfile.c). Proves: encode/decode round-trips; the
 * encoding is the canonical DER layout (known prefix, 64-column PEM); a key file written by
 * tpm2-openssl 1.1.1 (BER emptyAuth 0x01) decodes; every malformed case is refused with
 * -EBADMSG (PEM framing, label, headers, trailing data, NUL, base64, DER tags and lengths,
 * blob marshalling, missing and extra fields) and every well-formed but unusable one with
 * -EOPNOTSUPP (importable / sealed type, emptyAuth FALSE or absent, other parent, policy);
 * oversized input is -EMSGSIZE; *ret is untouched on every failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <tss2/tss2_mu.h>

#include "format.h"
#include "macro.h"
#include "tpm-keyfile.h"

/* openssl genpkey -provider tpm2 -algorithm EC -pkeyopt group:P-256 (tpm2-openssl 1.1.1, swtpm) */
static const char tpm2_openssl_p256[] =
        "-----BEGIN TSS2 PRIVATE KEY-----\n"
        "MIHwBgZngQUKAQOgAwEBAQIEQAAAAQRYAFYAIwALAAYAcgAAABAAEAADABAAINgy\n"
        "dGd4+L5vl0oM8S7wVpB99WHpyI4G9dqkBLQ4q9zEACBvvU3zOZwk9qMaw3+q3UUd\n"
        "IF30mjhV0AVDgC40uXD4fgSBgAB+ACAbzeClpOXFukTMuAcbV5TLTXNSfAnTVwe3\n"
        "bKwm5Kw4PgAQIL+ayWT1NZs7+/cVwTp7dFq/vnPmjmlmoNhR6DIdNOMPx2Jx7bbC\n"
        "4BINXUH9cU7lHktkuKSu+SsOPGjhEwSnPsimGIw0L/CpOFkWVPugLQsrzg/BxCYS\n"
        "Mv82\n"
        "-----END TSS2 PRIVATE KEY-----\n";

static const uint8_t oid_loadable[] = {0x67, 0x81, 0x05, 0x0a, 0x01, 0x03};
static const uint8_t oid_importable[] = {0x67, 0x81, 0x05, 0x0a, 0x01, 0x04};
static const uint8_t oid_sealed[] = {0x67, 0x81, 0x05, 0x0a, 0x01, 0x05};
static const uint8_t oid_other[] = {0x2a, 0x03}; /* 1.2.3 */
static const uint8_t auth_true[] = {0x01, 0x01, 0xff};
static const uint8_t auth_false[] = {0x01, 0x01, 0x00};
static const uint8_t parent_owner[] = {0x40, 0x00, 0x00, 0x01};
static const uint8_t parent_persistent[] = {0x00, 0x81, 0x00, 0x00, 0x01};

static struct tpm_keyfile sample(void)
{
    struct tpm_keyfile kf = {};
    TPMT_PUBLIC *p = &kf.pub.publicArea;

    p->type = TPM2_ALG_ECC;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
    p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    p->unique.ecc.x.size = 32;
    memset(p->unique.ecc.x.buffer, 0x11, 32);
    p->unique.ecc.y.size = 32;
    memset(p->unique.ecc.y.buffer, 0x22, 32);
    kf.priv.size = 126;
    memset(kf.priv.buffer, 0x33, 126);
    return kf;
}

/* ---- a tiny DER builder for malformed inputs ---------------------------------------------- */

struct buf {
    uint8_t d[8192];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->d));
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void tlv(struct buf *b, uint8_t tag, const void *v, size_t n)
{
    uint8_t h[4] = {tag};
    size_t hl;

    if (n < 0x80) {
        h[1] = (uint8_t)n;
        hl = 2;
    } else if (n < 0x100) {
        h[1] = 0x81;
        h[2] = (uint8_t)n;
        hl = 3;
    } else {
        h[1] = 0x82;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    }
    put(b, h, hl);
    put(b, v, n);
}

struct parts {
    const uint8_t *oid;
    size_t oid_len;
    const uint8_t *auth; /* NULL: absent */
    size_t auth_len;
    const uint8_t *parent;
    size_t parent_len;
    bool policy;     /* a [1] field before parent */
    int drop_priv;   /* 1: no privkey */
    bool extra;      /* an element after privkey */
    int pub_delta;   /* -1: truncated pubkey, +1: a trailing byte */
    bool empty_priv; /* privkey of size 0 */
};

static struct parts good_parts(void)
{
    struct parts p = {};

    p.oid = oid_loadable;
    p.oid_len = sizeof(oid_loadable);
    p.auth = auth_true;
    p.auth_len = sizeof(auth_true);
    p.parent = parent_owner;
    p.parent_len = sizeof(parent_owner);
    return p;
}

static void build_der(const struct parts *p, struct buf *out)
{
    struct tpm_keyfile kf = sample();
    uint8_t pub[sizeof(TPM2B_PUBLIC) + 1], priv[sizeof(TPM2B_PRIVATE)];
    size_t pub_len = 0, priv_len = 0;
    struct buf body = {};

    if (p->empty_priv)
        kf.priv.size = 0;
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&kf.pub, pub, sizeof(pub), &pub_len), 0);
    assert_int_equal(Tss2_MU_TPM2B_PRIVATE_Marshal(&kf.priv, priv, sizeof(priv), &priv_len), 0);
    if (p->pub_delta < 0)
        pub_len--;
    if (p->pub_delta > 0)
        pub[pub_len++] = 0;
    tlv(&body, 0x06, p->oid, p->oid_len);
    if (p->auth)
        tlv(&body, 0xa0, p->auth, p->auth_len);
    if (p->policy)
        tlv(&body, 0xa1, "\x30\x00", 2);
    tlv(&body, 0x02, p->parent, p->parent_len);
    tlv(&body, 0x04, pub, pub_len);
    if (!p->drop_priv)
        tlv(&body, 0x04, priv, priv_len);
    if (p->extra)
        tlv(&body, 0x04, "x", 1);
    tlv(out, 0x30, body.d, body.n);
}

static char *pem_of(const uint8_t *der, size_t len)
{
    char *b64 = NULL, *pem = NULL;

    assert_int_equal(base64_encode(der, len, &b64), 0);
    assert_true(asprintf(&pem,
                         "-----BEGIN TSS2 PRIVATE KEY-----\n%s\n-----END TSS2 PRIVATE KEY-----\n",
                         b64) > 0);
    free(b64);
    return pem;
}

static int decode_str(const char *s, struct tpm_keyfile *kf)
{
    return tpm_keyfile_decode((const uint8_t *)s, strlen(s), kf);
}

/* Decoding fails with expect and leaves the output alone. */
static void refuse_text(const char *s, size_t len, int expect)
{
    struct tpm_keyfile kf, poison;

    memset(&kf, 0x5a, sizeof(kf));
    memset(&poison, 0x5a, sizeof(poison));
    assert_int_equal(tpm_keyfile_decode((const uint8_t *)s, len, &kf), expect);
    assert_memory_equal(&kf, &poison, sizeof(kf));
}

static void refuse_der(const struct buf *der, int expect)
{
    char *pem = pem_of(der->d, der->n);
    refuse_text(pem, strlen(pem), expect);
    free(pem);
}

static void refuse_parts(const struct parts *p, int expect)
{
    struct buf der = {};
    build_der(p, &der);
    refuse_der(&der, expect);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    struct tpm_keyfile kf = sample(), got;
    char *pem = NULL;
    size_t len = 0;

    assert_int_equal(tpm_keyfile_encode(&kf, &pem, &len), 0);
    assert_int_equal(strlen(pem), len);
    assert_int_equal(strncmp(pem, "-----BEGIN TSS2 PRIVATE KEY-----\nMI", 35), 0);
    {
        /* known answer: SEQUENCE { OID 2.23.133.10.1.3, [0] TRUE (DER 0xff), 0x40000001, ... */
        static const uint8_t head[] = {0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x03, 0xa0, 0x03,
                                       0x01, 0x01, 0xff, 0x02, 0x04, 0x40, 0x00, 0x00, 0x01, 0x04};
        const char *b = pem + 33, *e = strstr(pem, "-----END");
        uint8_t *der = NULL;
        size_t der_len = 0;
        assert_int_equal(base64_decode(b, (size_t)(e - b), &der, &der_len), 0);
        assert_int_equal(der[0], 0x30);
        assert_int_equal(der[1], 0x81); /* this sample's length fits one byte */
        assert_int_equal(der[2], der_len - 3);
        assert_memory_equal(der + 3, head, sizeof(head));
        free(der);
    }
    assert_non_null(strstr(pem, "\n-----END TSS2 PRIVATE KEY-----\n"));
    for (const char *l = strchr(pem, '\n') + 1; *l != '-'; l = strchr(l, '\n') + 1)
        assert_true(strchr(l, '\n') - l <= 64);
    assert_int_equal(tpm_keyfile_decode((const uint8_t *)pem, len, &got), 0);
    assert_int_equal(got.priv.size, kf.priv.size);
    assert_memory_equal(got.priv.buffer, kf.priv.buffer, kf.priv.size);
    assert_int_equal(got.pub.publicArea.type, TPM2_ALG_ECC);
    assert_memory_equal(&got.pub.publicArea.unique, &kf.pub.publicArea.unique,
                        sizeof(kf.pub.publicArea.unique));
    free(pem);

    /* the DER is exactly the layout of a hand-built one */
    struct buf der = {};
    struct parts p = good_parts();
    char *ref;
    build_der(&p, &der);
    ref = pem_of(der.d, der.n);
    assert_int_equal(decode_str(ref, &got), 0);
    free(ref);
}

static void test_tpm2_openssl_vector(void **state)
{
    struct tpm_keyfile kf;

    assert_int_equal(decode_str(tpm2_openssl_p256, &kf), 0);
    assert_int_equal(kf.pub.publicArea.type, TPM2_ALG_ECC);
    assert_int_equal(kf.pub.publicArea.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
    assert_int_equal(kf.pub.publicArea.unique.ecc.x.size, 32);
    assert_int_equal(kf.priv.size, 126);
    /* tpm2-openssl keys are not noDA: tpm_key_check_public refuses them (tested with swtpm) */
    assert_false(kf.pub.publicArea.objectAttributes & TPMA_OBJECT_NODA);
}

static void test_pem_framing(void **state)
{
    struct tpm_keyfile kf = sample(), got;
    char *pem = NULL, *s = NULL, *big;
    size_t len = 0;

    assert_int_equal(tpm_keyfile_encode(&kf, &pem, &len), 0);
    refuse_text("", 0, -EBADMSG);
    refuse_text("-----BEGIN TSS2 PRIVATE KEY-----\n-----END TSS2 PRIVATE KEY-----\n", 64, -EBADMSG);
    /* label */
    s = strdup(pem);
    memcpy(s + 11, "TSS3", 4);
    refuse_text(s, len, -EBADMSG);
    free(s);
    /* leading text, trailing text, a second block */
    assert_true(asprintf(&s, "x%s", pem) > 0);
    refuse_text(s, strlen(s), -EBADMSG);
    free(s);
    assert_true(asprintf(&s, "%sjunk\n", pem) > 0);
    refuse_text(s, strlen(s), -EBADMSG);
    free(s);
    assert_true(asprintf(&s, "%s%s", pem, pem) > 0);
    refuse_text(s, strlen(s), -EBADMSG);
    free(s);
    /* whitespace after END is fine; so are CRLF line ends */
    assert_true(asprintf(&s, "%s \n\n", pem) > 0);
    assert_int_equal(decode_str(s, &got), 0);
    free(s);
    s = calloc(1, 2 * len);
    for (size_t i = 0, j = 0; i < len; i++) {
        if (pem[i] == '\n')
            s[j++] = '\r';
        s[j++] = pem[i];
    }
    assert_int_equal(decode_str(s, &got), 0);
    free(s);
    /* no END, BEGIN without line break, headers, NUL, bad base64 */
    s = strndup(pem, len - 10);
    refuse_text(s, strlen(s), -EBADMSG);
    free(s);
    s = strdup(pem);
    s[32] = ' ';
    refuse_text(s, len, -EBADMSG);
    free(s);
    assert_true(asprintf(&s, "-----BEGIN TSS2 PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n%s",
                         pem + 33) > 0);
    refuse_text(s, strlen(s), -EBADMSG);
    free(s);
    s = strdup(pem);
    s[40] = '\0';
    refuse_text(s, len, -EBADMSG);
    s[40] = '*';
    refuse_text(s, len, -EBADMSG);
    free(s);
    /* size limit */
    big = malloc(TPM_KEYFILE_MAX + 1);
    memset(big, ' ', TPM_KEYFILE_MAX + 1);
    memcpy(big, pem, len);
    refuse_text(big, TPM_KEYFILE_MAX + 1, -EMSGSIZE);
    assert_int_equal(tpm_keyfile_decode((const uint8_t *)big, TPM_KEYFILE_MAX, &got), 0);
    free(big);
    free(pem);
}

static void test_der_malformed(void **state)
{
    struct parts p;
    struct buf der = {}, d2 = {};

    p = good_parts();
    build_der(&p, &der);
    /* outer tag, trailing byte, truncation */
    d2 = der;
    d2.d[0] = 0x31;
    refuse_der(&d2, -EBADMSG);
    d2 = der;
    d2.d[d2.n++] = 0x00;
    refuse_der(&d2, -EBADMSG);
    d2 = der;
    d2.n -= 1;
    refuse_der(&d2, -EBADMSG);
    /* indefinite and non-minimal lengths */
    uint8_t indef[] = {0x30, 0x80, 0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x03, 0x00, 0x00};
    memcpy(d2.d, indef, sizeof(indef));
    d2.n = sizeof(indef);
    refuse_der(&d2, -EBADMSG);
    uint8_t nonmin[] = {0x30, 0x81, 0x08, 0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x03};
    memcpy(d2.d, nonmin, sizeof(nonmin));
    d2.n = sizeof(nonmin);
    refuse_der(&d2, -EBADMSG);
    uint8_t nonmin2[] = {0x30, 0x82, 0x00, 0x08, 0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x03};
    memcpy(d2.d, nonmin2, sizeof(nonmin2));
    d2.n = sizeof(nonmin2);
    refuse_der(&d2, -EBADMSG);
    uint8_t long3[] = {0x30, 0x83, 0x00, 0x00, 0x08};
    memcpy(d2.d, long3, sizeof(long3));
    d2.n = sizeof(long3);
    refuse_der(&d2, -EBADMSG);

    p = good_parts();
    p.oid = oid_other;
    p.oid_len = sizeof(oid_other);
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.auth = (const uint8_t *)"\x01\x02\xff\xff"; /* BOOLEAN of 2 bytes */
    p.auth_len = 4;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.auth = (const uint8_t *)"\x02\x01\x01"; /* INTEGER in [0] */
    p.auth_len = 3;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.auth = (const uint8_t *)"\x01\x01\xff\x00"; /* trailing byte in [0] */
    p.auth_len = 4;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.parent_len = 0;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.pub_delta = -1;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.pub_delta = 1;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.drop_priv = 1;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.empty_priv = true;
    refuse_parts(&p, -EBADMSG);
    p = good_parts();
    p.extra = true;
    refuse_parts(&p, -EBADMSG);
}

static void test_unsupported(void **state)
{
    struct parts p;

    p = good_parts();
    p.oid = oid_importable;
    refuse_parts(&p, -EOPNOTSUPP);
    p.oid = oid_sealed;
    refuse_parts(&p, -EOPNOTSUPP);
    p = good_parts();
    p.auth = auth_false;
    refuse_parts(&p, -EOPNOTSUPP);
    p = good_parts();
    p.auth = NULL; /* absent: FALSE */
    refuse_parts(&p, -EOPNOTSUPP);
    p = good_parts();
    p.parent = parent_persistent;
    p.parent_len = sizeof(parent_persistent);
    refuse_parts(&p, -EOPNOTSUPP);
    p = good_parts();
    p.policy = true;
    refuse_parts(&p, -EOPNOTSUPP);
}

static void test_encode_errors(void **state)
{
    struct tpm_keyfile kf = sample();
    char *pem = (char *)0x1;
    size_t len = 7;

    kf.priv.size = 0;
    assert_int_equal(tpm_keyfile_encode(&kf, &pem, &len), -EINVAL);
    kf = sample();
    kf.pub.publicArea.type = TPM2_ALG_NULL;
    assert_int_equal(tpm_keyfile_encode(&kf, &pem, &len), -EINVAL);
    kf = sample();
    kf.priv.size = sizeof(kf.priv.buffer) + 1; /* does not marshal */
    assert_int_equal(tpm_keyfile_encode(&kf, &pem, &len), -EINVAL);
    assert_int_equal(tpm_keyfile_encode(NULL, &pem, &len), -EINVAL);
    assert_ptr_equal(pem, (char *)0x1);
    assert_int_equal(len, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_tpm2_openssl_vector),
            cmocka_unit_test(test_pem_framing), cmocka_unit_test(test_der_malformed),
            cmocka_unit_test(test_unsupported), cmocka_unit_test(test_encode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
