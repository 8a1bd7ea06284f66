/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "format.h"
#include "macro.h"
#include "sbuf.h"
#include "tpm-keyfile.h"

#define PEM_BEGIN "-----BEGIN " TPM_KEYFILE_PEM_LABEL "-----"
#define PEM_END   "-----END " TPM_KEYFILE_PEM_LABEL "-----"
#define PEM_COLS  64u
#define DER_MAX   (TPM_KEYFILE_MAX / 4u * 3u) /* decoded body can be no larger */

#define DER_SEQUENCE 0x30u
#define DER_OID      0x06u
#define DER_BOOLEAN  0x01u
#define DER_INTEGER  0x02u
#define DER_OCTETS   0x04u
#define DER_CTX0     0xa0u /* [0] EXPLICIT, constructed */
#define DER_CTX3     0xa3u

/* 2.23.133.10.1.3: 2*40+23 = 0x67, 133 = 0x81 0x05, 10, 1, 3. */
static const uint8_t oid_loadable[] = {0x67, 0x81, 0x05, 0x0a, 0x01, 0x03};
static const uint8_t oid_tpm_key_arc[] = {0x67, 0x81, 0x05, 0x0a, 0x01};
static const uint8_t parent_owner[] = {0x40, 0x00, 0x00, 0x01};

/* ---- DER writer (on an sbuf) ------------------------------------------------------------- */

static int der_put_len(struct sbuf *b, size_t len)
{
    int r;

    if (len < 0x80)
        return sbuf_put_u8(b, (uint8_t)len);
    if (len < 0x100) {
        r = sbuf_put_u8(b, 0x81);
        return r < 0 ? r : sbuf_put_u8(b, (uint8_t)len);
    }
    if (len > 0xffff)
        return -EMSGSIZE;
    r = sbuf_put_u8(b, 0x82);
    if (r == 0)
        r = sbuf_put_u8(b, (uint8_t)(len >> 8));
    return r < 0 ? r : sbuf_put_u8(b, (uint8_t)len);
}

static int der_put(struct sbuf *b, uint8_t tag, const void *val, size_t len)
{
    int r = sbuf_put_u8(b, tag);

    if (r == 0)
        r = der_put_len(b, len);
    return r < 0 ? r : sbuf_put(b, val, len);
}

int tpm_keyfile_encode(const struct tpm_keyfile *kf, char **ret_pem, size_t *ret_len)
{
    static const uint8_t empty_auth[] = {DER_BOOLEAN, 0x01, 0xff};
    uint8_t pub[sizeof(TPM2B_PUBLIC)], priv[sizeof(TPM2B_PRIVATE)];
    size_t pub_len = 0, priv_len = 0, b64_len, n_lines, pem_len;
    _cleanup_(sbuf_freep) struct sbuf *body = NULL, *der = NULL;
    _cleanup_free_ char *b64 = NULL, *pem = NULL;
    char *p;
    int r;

    if (!kf || kf->pub.publicArea.type == TPM2_ALG_ERROR ||
        kf->pub.publicArea.type == TPM2_ALG_NULL || kf->priv.size == 0)
        return -EINVAL;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(&kf->pub, pub, sizeof(pub), &pub_len) != TSS2_RC_SUCCESS ||
        Tss2_MU_TPM2B_PRIVATE_Marshal(&kf->priv, priv, sizeof(priv), &priv_len) != TSS2_RC_SUCCESS)
        return -EINVAL;
    body = sbuf_new(DER_MAX);
    der = sbuf_new(DER_MAX);
    if (!body || !der)
        return -ENOMEM;
    r = der_put(body, DER_OID, oid_loadable, sizeof(oid_loadable));
    if (r == 0)
        r = der_put(body, DER_CTX0, empty_auth, sizeof(empty_auth));
    if (r == 0)
        r = der_put(body, DER_INTEGER, parent_owner, sizeof(parent_owner));
    if (r == 0)
        r = der_put(body, DER_OCTETS, pub, pub_len);
    if (r == 0)
        r = der_put(body, DER_OCTETS, priv, priv_len);
    if (r == 0)
        r = der_put(der, DER_SEQUENCE, sbuf_ptr(body), sbuf_len(body));
    if (r < 0)
        return r == -EMSGSIZE ? -EINVAL : r;
    r = base64_encode(sbuf_ptr(der), sbuf_len(der), &b64);
    if (r < 0)
        return r;
    b64_len = strlen(b64);
    n_lines = (b64_len + PEM_COLS - 1) / PEM_COLS;
    pem_len = strlen(PEM_BEGIN) + 1 + b64_len + n_lines + strlen(PEM_END) + 1;
    pem = malloc(pem_len + 1);
    if (!pem)
        return -ENOMEM;
    p = pem;
    memcpy(p, PEM_BEGIN "\n", strlen(PEM_BEGIN) + 1);
    p += strlen(PEM_BEGIN) + 1;
    for (size_t off = 0; off < b64_len; off += PEM_COLS) {
        size_t n = MIN(PEM_COLS, b64_len - off);
        memcpy(p, b64 + off, n);
        p += n;
        *p++ = '\n';
    }
    memcpy(p, PEM_END "\n", strlen(PEM_END) + 2); /* with the NUL */
    *ret_len = pem_len;
    *ret_pem = TAKE_PTR(pem);
    return 0;
}

/* ---- strict decoder ---------------------------------------------------------------------- */

/* One DER TLV with the expected tag: definite, minimal length; the value as a borrowed view. */
static int der_get(struct sbuf *b, uint8_t tag, const uint8_t **ret_val, size_t *ret_len)
{
    uint8_t t, l0, l1, l2;
    size_t len;

    if (sbuf_get_u8(b, &t) < 0 || t != tag || sbuf_get_u8(b, &l0) < 0)
        return -EBADMSG;
    if (l0 < 0x80)
        len = l0;
    else if (l0 == 0x81) {
        if (sbuf_get_u8(b, &l1) < 0 || l1 < 0x80)
            return -EBADMSG;
        len = l1;
    } else if (l0 == 0x82) {
        if (sbuf_get_u8(b, &l1) < 0 || sbuf_get_u8(b, &l2) < 0)
            return -EBADMSG;
        len = (size_t)l1 << 8 | l2;
        if (len < 0x100)
            return -EBADMSG;
    } else
        return -EBADMSG; /* indefinite, or longer than any key file */
    if (len > sbuf_len(b))
        return -EBADMSG;
    *ret_val = sbuf_ptr(b);
    *ret_len = len;
    return sbuf_consume(b, len);
}

static int peek_tag(const struct sbuf *b, uint8_t *ret)
{
    if (sbuf_len(b) == 0)
        return -EBADMSG;
    *ret = sbuf_ptr(b)[0];
    return 0;
}

/* emptyAuth: [0] { BOOLEAN }; TRUE is the only value we accept. */
static int get_empty_auth(struct sbuf *seq)
{
    _cleanup_(sbuf_freep) struct sbuf *inner = NULL;
    const uint8_t *v, *bv;
    size_t n, bn;
    uint8_t tag;

    if (peek_tag(seq, &tag) < 0)
        return -EBADMSG;
    if (tag != DER_CTX0)
        return tag == DER_INTEGER ? -EOPNOTSUPP : -EBADMSG; /* absent: FALSE */
    if (der_get(seq, DER_CTX0, &v, &n) < 0)
        return -EBADMSG;
    inner = sbuf_from(v, n);
    if (!inner)
        return -ENOMEM;
    if (der_get(inner, DER_BOOLEAN, &bv, &bn) < 0 || bn != 1 || sbuf_expect_end(inner) < 0)
        return -EBADMSG;
    /* We write DER TRUE (0xff); tpm2-openssl writes 0x01, which BER reads as TRUE too. */
    return bv[0] == 0x00 ? -EOPNOTSUPP : 0;
}

static int decode_der(const uint8_t *der, size_t der_len, struct tpm_keyfile *ret)
{
    _cleanup_(sbuf_freep) struct sbuf *outer = NULL, *seq = NULL;
    struct tpm_keyfile kf = {};
    const uint8_t *v;
    size_t n, off;
    uint8_t tag;
    int r;

    outer = sbuf_from(der, der_len);
    if (!outer)
        return -ENOMEM;
    if (der_get(outer, DER_SEQUENCE, &v, &n) < 0 || sbuf_expect_end(outer) < 0)
        return -EBADMSG;
    seq = sbuf_from(v, n);
    if (!seq)
        return -ENOMEM;
    if (der_get(seq, DER_OID, &v, &n) < 0 || n == 0)
        return -EBADMSG;
    if (n != sizeof(oid_loadable) || memcmp(v, oid_loadable, n) != 0)
        /* importable (…1.4), sealed (…1.5) or something else entirely */
        return n > sizeof(oid_tpm_key_arc) && memcmp(v, oid_tpm_key_arc, 5) == 0 ? -EOPNOTSUPP
                                                                                 : -EBADMSG;
    r = get_empty_auth(seq);
    if (r < 0)
        return r;
    if (peek_tag(seq, &tag) < 0)
        return -EBADMSG;
    if (tag > DER_CTX0 && tag <= DER_CTX3)
        return -EOPNOTSUPP; /* policy, secret or authPolicy: not for us */
    if (der_get(seq, DER_INTEGER, &v, &n) < 0 || n == 0)
        return -EBADMSG;
    if (n != sizeof(parent_owner) || memcmp(v, parent_owner, n) != 0)
        return -EOPNOTSUPP;

    if (der_get(seq, DER_OCTETS, &v, &n) < 0)
        return -EBADMSG;
    off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(v, n, &off, &kf.pub) != TSS2_RC_SUCCESS || off != n ||
        kf.pub.size == 0)
        return -EBADMSG;
    if (der_get(seq, DER_OCTETS, &v, &n) < 0)
        return -EBADMSG;
    off = 0;
    if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(v, n, &off, &kf.priv) != TSS2_RC_SUCCESS || off != n ||
        kf.priv.size == 0)
        return -EBADMSG;
    if (sbuf_expect_end(seq) < 0)
        return -EBADMSG;
    *ret = kf;
    return 0;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int tpm_keyfile_decode(const uint8_t *data, size_t len, struct tpm_keyfile *ret)
{
    const size_t begin_len = strlen(PEM_BEGIN), end_len = strlen(PEM_END);
    _cleanup_free_ uint8_t *der = NULL;
    const uint8_t *end;
    size_t body_off, body_len, tail_off, der_len = 0;
    int r;

    if (!data || !ret)
        return -EINVAL;
    if (len > TPM_KEYFILE_MAX)
        return -EMSGSIZE;
    if (len < begin_len + end_len || memchr(data, '\0', len))
        return -EBADMSG;
    /* The BEGIN line first, then a line break. */
    if (memcmp(data, PEM_BEGIN, begin_len) != 0)
        return -EBADMSG;
    body_off = begin_len;
    if (body_off < len && data[body_off] == '\r')
        body_off++;
    if (body_off >= len || data[body_off] != '\n')
        return -EBADMSG;
    body_off++;
    end = memmem(data + body_off, len - body_off, PEM_END, end_len);
    if (!end)
        return -EBADMSG;
    body_len = (size_t)(end - (data + body_off));
    tail_off = body_off + body_len + end_len;
    for (size_t i = tail_off; i < len; i++)
        if (!is_space(data[i]))
            return -EBADMSG; /* a second block or trailing text */
    /* Headers ("Proc-Type:") and a second BEGIN contain characters base64 refuses. */
    r = base64_decode((const char *)data + body_off, body_len, &der, &der_len);
    if (r < 0 || der_len == 0)
        return r == -ENOMEM ? r : -EBADMSG;
    return decode_der(der, der_len, ret);
}
