/* SPDX-License-Identifier: Apache-2.0 */
#include "quote-file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "crypto.h"
#include "format.h"
#include "json.h"
#include "macro.h"
#include "main.h"
#include "output.h"

static void evidence_freep(struct hwsign_tpm_evidence **e)
{
    hwsign_tpm_evidence_free(*e);
    *e = NULL;
}

int quote_file_fetch(struct hwsign_client *client, const uint8_t *statement, size_t len,
                     const char *selection, const char *path)
{
    _cleanup_(evidence_freep) struct hwsign_tpm_evidence *e = NULL;
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    _cleanup_free_ char *hex = NULL, *pem = NULL, *text = NULL;
    uint8_t nonce[32];
    size_t text_len = 0;
    int r;

    r = hash_buffer(HWSIGN_HASH_SHA256, statement, len, nonce, sizeof(nonce));
    if (r < 0)
        return log_errno(r, "cannot hash the statement");
    r = hwsign_tpm_quote(client, nonce, selection, &e);
    if (r < 0)
        return log_agent_error(client, r, "the agent's TPM did not quote");
    o = json_object_new_object();
    r = o ? hex_encode(nonce, sizeof(nonce), &hex) : -ENOMEM;
    if (r >= 0)
        r = spki_to_pem(e->ak_spki, e->ak_spki_len, &pem);
    if (r >= 0)
        r = fjson_add_string(o, "type", QUOTE_FILE_TYPE, strlen(QUOTE_FILE_TYPE));
    if (r >= 0)
        r = fjson_add_string(o, "nonce", hex, strlen(hex));
    if (r >= 0)
        r = fjson_add_string(o, "selection", e->selection, strlen(e->selection));
    if (r >= 0)
        r = fjson_add_base64(o, "attest", e->attest, e->attest_len);
    if (r >= 0)
        r = fjson_add_base64(o, "signature", e->sig_der, e->sig_der_len);
    if (r >= 0)
        r = fjson_add_base64(o, "signature_tpmt", e->sig, e->sig_len);
    if (r >= 0)
        r = fjson_add_base64(o, "pcrs", e->pcrs, e->pcrs_len);
    if (r >= 0)
        r = fjson_add_string(o, "ak", pem, strlen(pem));
    if (r >= 0)
        r = fjson_serialize(o, &text, &text_len);
    if (r < 0)
        return log_errno(r, "cannot encode the quote");
    text[text_len] = '\n';
    r = write_output(path, text, text_len + 1);
    if (r < 0)
        return log_errno(r, "cannot write the quote to %s", path);
    return CLI_EXIT_OK;
}

struct quote_file *quote_file_free(struct quote_file *q)
{
    if (!q)
        return NULL;
    free(q->selection);
    free(q->attest);
    free(q->sig);
    free(q->sig_tpmt);
    free(q->pcrs);
    free(q->ak);
    free(q);
    return NULL;
}

void quote_file_freep(struct quote_file **q)
{
    *q = quote_file_free(*q);
}

static const struct fjson_field quote_fields[] = {
        {"type", FJSON_STRING, true},      {"nonce", FJSON_STRING, true},
        {"selection", FJSON_STRING, true}, {"attest", FJSON_STRING, true},
        {"signature", FJSON_STRING, true}, {"signature_tpmt", FJSON_STRING, true},
        {"pcrs", FJSON_STRING, true},      {"ak", FJSON_STRING, true},
};

int quote_file_load(const char *path, struct quote_file **ret)
{
    _cleanup_(quote_file_freep) struct quote_file *q = NULL;
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    _cleanup_free_ uint8_t *buf = NULL, *nonce = NULL;
    const char *s;
    size_t len = 0, n = 0;
    int r;

    r = read_input_bounded(path, QUOTE_FILE_MAX, &buf, &len);
    if (r == -EFBIG)
        return -EMSGSIZE;
    if (r < 0)
        return r;
    r = fjson_parse_object((const char *)buf, len, QUOTE_FILE_MAX, &o);
    if (r >= 0)
        r = fjson_check_fields(o, quote_fields, ELEMENTSOF(quote_fields), FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return -EINVAL;
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    if (fjson_get_string(o, "type", 256, &s, NULL) < 0 || !streq(s, QUOTE_FILE_TYPE))
        return -EINVAL;
    if (fjson_get_string(o, "nonce", 64, &s, NULL) < 0 ||
        hex_decode(s, strlen(s), &nonce, &n) < 0 || n != sizeof(q->nonce))
        return -EINVAL;
    memcpy(q->nonce, nonce, sizeof(q->nonce));
    if (fjson_get_string(o, "selection", HWSIGN_MAX_PCR_SELECTION, &s, NULL) < 0)
        return -EINVAL;
    q->selection = strdup(s);
    if (!q->selection)
        return -ENOMEM;
    if ((r = fjson_get_bytes(o, "attest", HWSIGN_MAX_TPM_BLOB, &q->attest, &q->attest_len)) < 0 ||
        (r = fjson_get_bytes(o, "signature", HWSIGN_MAX_TPM_BLOB, &q->sig, &q->sig_len)) < 0 ||
        (r = fjson_get_bytes(o, "signature_tpmt", HWSIGN_MAX_TPM_BLOB, &q->sig_tpmt,
                             &q->sig_tpmt_len)) < 0 ||
        (r = fjson_get_bytes(o, "pcrs", HWSIGN_MAX_TPM_BLOB, &q->pcrs, &q->pcrs_len)) < 0)
        return r == -ENOMEM ? r : -EINVAL;
    if (fjson_get_string(o, "ak", 4096, &s, &n) < 0)
        return -EINVAL;
    q->ak = (uint8_t *)strndup(s, n);
    if (!q->ak)
        return -ENOMEM;
    q->ak_len = n;
    *ret = TAKE_PTR(q);
    return 0;
}
