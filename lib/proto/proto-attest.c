/* SPDX-License-Identifier: Apache-2.0 */
#include "proto-attest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "proto.h"

int proto_put_sign_provenance_req(struct sbuf *out, uint32_t id, const char *key,
                                  const char *claims, size_t len)
{
    size_t mark;
    int r;

    if (!key || !claims || strlen(key) > HWSIGN_MAX_NAME || len > HWSIGN_MAX_CLAIMS)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_SIGN_PROVENANCE, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, key)) < 0 || (r = sbuf_put_string(out, claims, len)) < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_sign_provenance_req(struct sbuf *body, struct proto_provenance_req *ret)
{
    struct proto_provenance_req q = {0};
    int r;

    if ((r = proto_get_name(body, q.key)) < 0 ||
        (r = sbuf_get_string_direct(body, HWSIGN_MAX_CLAIMS, &q.claims, &q.claims_len)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (q.claims_len == 0 || memchr(q.claims, 0, q.claims_len))
        return -EINVAL;
    *ret = q;
    return 0;
}

/* A fixed 32-byte nonce string. */
static int get_nonce(struct sbuf *body, uint8_t out[HWSIGN_NONCE_LEN])
{
    const uint8_t *p;
    size_t n;
    int r = sbuf_get_string_direct(body, HWSIGN_NONCE_LEN, &p, &n);
    if (r < 0)
        return r;
    if (n != HWSIGN_NONCE_LEN)
        return -EINVAL;
    memcpy(out, p, n);
    return 0;
}

int proto_put_tpm_quote_req(struct sbuf *out, uint32_t id, const uint8_t nonce[HWSIGN_NONCE_LEN],
                            const char *selection)
{
    size_t mark;
    int r;

    if (!nonce || (selection && strlen(selection) > HWSIGN_MAX_PCR_SELECTION))
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_TPM_QUOTE, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_string(out, nonce, HWSIGN_NONCE_LEN)) < 0 ||
        (r = sbuf_put_cstring(out, selection ? selection : "")) < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_tpm_quote_req(struct sbuf *body, struct proto_quote_req *ret)
{
    struct proto_quote_req q = {0};
    int r;

    if ((r = get_nonce(body, q.nonce)) < 0 ||
        (r = sbuf_get_cstring_buf(body, q.selection, sizeof(q.selection))) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    *ret = q;
    return 0;
}

int proto_put_key_certify_req(struct sbuf *out, uint32_t id, const char *key,
                              const uint8_t nonce[HWSIGN_NONCE_LEN])
{
    size_t mark;
    int r;

    if (!key || !nonce || strlen(key) > HWSIGN_MAX_NAME)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_KEY_CERTIFY, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_cstring(out, key)) < 0 ||
        (r = sbuf_put_string(out, nonce, HWSIGN_NONCE_LEN)) < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

int proto_get_key_certify_req(struct sbuf *body, struct proto_certify_req *ret)
{
    struct proto_certify_req q = {0};
    int r;

    if ((r = proto_get_name(body, q.key)) < 0 || (r = get_nonce(body, q.nonce)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    *ret = q;
    return 0;
}

void hwsign_tpm_evidence_free(struct hwsign_tpm_evidence *e)
{
    if (!e)
        return;
    free(e->attest);
    free(e->sig);
    free(e->sig_der);
    free(e->pcrs);
    free(e->selection);
    free(e->key_public);
    free(e->ak_spki);
    free(e);
}

static void evidence_freep(struct hwsign_tpm_evidence **e)
{
    hwsign_tpm_evidence_free(*e);
    *e = NULL;
}

int proto_put_tpm_evidence(struct sbuf *out, uint8_t req_type, uint32_t id,
                           const struct hwsign_tpm_evidence *e)
{
    const char *sel;
    size_t mark;
    int r;

    if (!e || (req_type != HWSIGN_MSG_TPM_QUOTE && req_type != HWSIGN_MSG_KEY_CERTIFY))
        return -EINVAL;
    sel = e->selection ? e->selection : "";
    if (e->attest_len > HWSIGN_MAX_TPM_BLOB || e->sig_len > HWSIGN_MAX_TPM_BLOB ||
        e->sig_der_len > HWSIGN_MAX_TPM_BLOB || e->pcrs_len > HWSIGN_MAX_TPM_BLOB ||
        e->key_public_len > HWSIGN_MAX_TPM_BLOB || e->ak_spki_len > HWSIGN_MAX_SPKI ||
        strlen(sel) > HWSIGN_MAX_PCR_SELECTION)
        return -EMSGSIZE;
    r = proto_begin(out, HWSIGN_MSG_REPLY | req_type, id, &mark);
    if (r < 0)
        return r;
    if ((r = sbuf_put_string(out, e->attest, e->attest_len)) < 0 ||
        (r = sbuf_put_string(out, e->sig, e->sig_len)) < 0 ||
        (r = sbuf_put_string(out, e->sig_der, e->sig_der_len)) < 0 ||
        (r = sbuf_put_string(out, e->pcrs, e->pcrs_len)) < 0 ||
        (r = sbuf_put_cstring(out, sel)) < 0 ||
        (r = sbuf_put_string(out, e->key_public, e->key_public_len)) < 0 ||
        (r = sbuf_put_string(out, e->ak_spki, e->ak_spki_len)) < 0)
        return proto_abandon(out, mark, r);
    return proto_end(out, mark);
}

/* A byte string of at most max bytes, copied (NULL when empty). */
static int get_blob(struct sbuf *body, size_t max, uint8_t **ret, size_t *ret_len)
{
    const uint8_t *p;
    size_t n;
    int r = sbuf_get_string_direct(body, max, &p, &n);
    if (r < 0)
        return r;
    *ret = NULL;
    *ret_len = n;
    if (n == 0)
        return 0;
    *ret = malloc(n);
    if (!*ret)
        return -ENOMEM;
    memcpy(*ret, p, n);
    return 0;
}

int proto_get_tpm_evidence(struct sbuf *body, uint8_t req_type, struct hwsign_tpm_evidence **ret)
{
    _cleanup_(evidence_freep) struct hwsign_tpm_evidence *e = calloc(1, sizeof(*e));
    char sel[HWSIGN_MAX_PCR_SELECTION + 1];
    bool quote = req_type == HWSIGN_MSG_TPM_QUOTE;
    int r;

    if (!e)
        return -ENOMEM;
    if ((r = get_blob(body, HWSIGN_MAX_TPM_BLOB, &e->attest, &e->attest_len)) < 0 ||
        (r = get_blob(body, HWSIGN_MAX_TPM_BLOB, &e->sig, &e->sig_len)) < 0 ||
        (r = get_blob(body, HWSIGN_MAX_TPM_BLOB, &e->sig_der, &e->sig_der_len)) < 0 ||
        (r = get_blob(body, HWSIGN_MAX_TPM_BLOB, &e->pcrs, &e->pcrs_len)) < 0 ||
        (r = sbuf_get_cstring_buf(body, sel, sizeof(sel))) < 0 ||
        (r = get_blob(body, HWSIGN_MAX_TPM_BLOB, &e->key_public, &e->key_public_len)) < 0 ||
        (r = get_blob(body, HWSIGN_MAX_SPKI, &e->ak_spki, &e->ak_spki_len)) < 0 ||
        (r = sbuf_expect_end(body)) < 0)
        return r;
    if (!e->attest || !e->sig || !e->sig_der || !e->ak_spki)
        return -EBADMSG;
    if (quote ? (!e->pcrs || !sel[0] || e->key_public) : (e->pcrs || sel[0] || !e->key_public))
        return -EBADMSG;
    if (quote) {
        e->selection = strdup(sel);
        if (!e->selection)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(e);
    return 0;
}
