/* SPDX-License-Identifier: Apache-2.0 */
/* Signing-log entries in Sigstore bundles (see bundle-log.h). */
#include "bundle-log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "bundle.h"
#include "checkpoint.h"
#include "cmd-log.h"
#include "crypto.h"
#include "dsse.h"
#include "json.h"
#include "logentry.h"
#include "macro.h"
#include "main.h"
#include "merkle.h"
#include "note.h"
#include "output.h"

int bundle_log_attach(struct hwsign_client *client, char **json, size_t *json_len,
                      bool *ret_attached)
{
    _cleanup_(checkpoint_freep) struct checkpoint *cp = NULL;
    _cleanup_(note_freep) struct note *n = NULL;
    _cleanup_(fjson_putp) struct json_object *entry = NULL;
    _cleanup_(logentry_info_freep) struct logentry_info *info = NULL;
    _cleanup_free_ char *out = NULL, *body_copy = NULL;
    struct hwsign_log_proof *p = NULL;
    uint64_t index = hwsign_last_log_index(client);
    size_t body_len = 0, text_len = 0, out_len = 0;
    const char *body = hwsign_last_log_entry(client, &body_len), *text;
    uint8_t leaf[MERKLE_HASH_SIZE];
    struct logentry_tlog t = {};
    int r;

    *ret_attached = false;
    if (index == HWSIGN_LOG_INDEX_NONE || body_len == 0) {
        fprintf(stderr, "hwsign: note: the agent logged no entry for this signature (signing "
                        "log disabled); the bundle carries no log entry\n");
        return CLI_EXIT_OK;
    }
    r = hwsign_log_proof(client, index, &p);
    if (r == -ENOKEY || r == -ENOENT || r == -ENODEV || r == -ETIMEDOUT) {
        /* The signature is logged; only its proof is missing (no log key, or the log key's
         * device cannot sign a checkpoint now). `hwsign log proof` can produce it later. */
        fprintf(stderr,
                "hwsign: warning: no inclusion proof for log record %" PRIu64 " (%s); the "
                "bundle carries no log entry\n",
                index, hwsign_client_error(client));
        return CLI_EXIT_OK;
    }
    if (r < 0)
        return log_agent_error(client, r, "cannot get the inclusion proof of log record %" PRIu64,
                               index);
    /* The agent's answer must hold together before it goes into a bundle: the entry body
     * parses, and the proof leads from it to the root the checkpoint states (the checkpoint's
     * signature is the verifier's business, with the log key it trusts). */
    r = logentry_parse(body, body_len, &info);
    if (r >= 0)
        r = note_parse(p->checkpoint, strlen(p->checkpoint), &n);
    if (r >= 0) {
        text = note_text(n, &text_len);
        r = checkpoint_parse(text, text_len, &cp);
    }
    if (r >= 0 && cp->size != p->tree_size)
        r = -EBADMSG;
    if (r >= 0)
        r = merkle_leaf_hash(body, body_len, leaf);
    if (r >= 0)
        r = merkle_verify_inclusion(index, p->tree_size, leaf,
                                    (const uint8_t(*)[MERKLE_HASH_SIZE])p->hashes, p->n_hashes,
                                    cp->root);
    if (r < 0) {
        hwsign_log_proof_free(p);
        return log_error(CLI_EXIT_ERROR,
                         "the agent's inclusion proof for log record %" PRIu64
                         " does not check out (%s)",
                         index, strerror(-r));
    }
    body_copy = strndup(body, body_len);
    if (!body_copy) {
        hwsign_log_proof_free(p);
        return log_errno(-ENOMEM, "cannot add the log entry to the bundle");
    }
    t = (struct logentry_tlog){
            .log_index = index,
            .dsse = info->dsse,
            .tree_size = p->tree_size,
            .hashes = p->hashes,
            .n_hashes = p->n_hashes,
            .checkpoint = p->checkpoint,
            .body = body_copy,
            .body_len = body_len,
    };
    memcpy(t.log_id, p->log_id, sizeof(t.log_id));
    memcpy(t.root, cp->root, sizeof(t.root));
    r = logentry_tlog_build(&t, &entry);
    hwsign_log_proof_free(p);
    if (r >= 0)
        r = bundle_add_tlog_entry(*json, *json_len, entry, &out, &out_len);
    if (r < 0)
        return log_errno(r, "cannot add the log entry to the bundle");
    free(*json);
    *json = TAKE_PTR(out);
    *json_len = out_len;
    *ret_attached = true;
    return CLI_EXIT_OK;
}

/* Does entry body info name this bundle's signature, digest and key? NULL if so, else why. */
static const char *entry_matches(const struct logentry_info *info, const struct bundle *b,
                                 const uint8_t *signer, size_t signer_len)
{
    const uint8_t *sig;
    size_t sig_len = 0;

    if (info->spki_len != signer_len || memcmp(info->spki, signer, signer_len) != 0)
        return "the log entry names another signing key";
    if (bundle_get_kind(b) == BUNDLE_MESSAGE_SIGNATURE) {
        if (info->dsse)
            return "the log entry is for a DSSE envelope, the bundle holds a messageSignature";
        sig = bundle_get_signature(b, &sig_len);
        if (!streq(info->digest_alg, "sha256") || info->digest_len != 32 ||
            memcmp(info->digest, bundle_get_message_digest(b), 32) != 0)
            return "the log entry is for another digest";
    } else {
        const struct dsse_envelope *env = bundle_get_envelope(b);
        const uint8_t *payload;
        size_t payload_len = 0;
        uint8_t h[32];

        if (!info->dsse)
            return "the log entry is for a digest, the bundle holds a DSSE envelope";
        if (dsse_envelope_signature(env, 0, &sig, &sig_len, NULL) < 0)
            return "the bundle's envelope has no signature";
        payload = dsse_envelope_payload(env, &payload_len);
        if (hash_buffer(HWSIGN_HASH_SHA256, payload, payload_len, h, sizeof(h)) < 0 ||
            memcmp(h, info->payload_sha256, 32) != 0)
            return "the log entry is for another statement (payload hash differs)";
    }
    if (info->sig_len != sig_len || memcmp(info->sig, sig, sig_len) != 0)
        return "the log entry is for another signature";
    return NULL;
}

int bundle_log_verify(const struct bundle *b, const uint8_t *signer, size_t signer_len,
                      const char *log_key_path, struct bundle_log_result *ret)
{
    _cleanup_free_ uint8_t *log_spki = NULL;
    uint8_t log_id[32];
    size_t log_spki_len = 0, ours = 0;
    int r, status;

    status = load_public_key_file(log_key_path, &log_spki, &log_spki_len);
    if (status != CLI_EXIT_OK)
        return status;
    r = hash_buffer(HWSIGN_HASH_SHA256, log_spki, log_spki_len, log_id, sizeof(log_id));
    if (r < 0)
        return log_errno(r, "cannot hash the log key %s", log_key_path);

    for (size_t i = 0; i < bundle_n_tlog_entries(b); i++) {
        _cleanup_(logentry_tlog_freep) struct logentry_tlog *t = NULL;
        _cleanup_(logentry_info_freep) struct logentry_info *info = NULL;
        _cleanup_(checkpoint_freep) struct checkpoint *cp = NULL;
        uint8_t leaf[MERKLE_HASH_SIZE];
        const char *why;
        char what[64];

        r = logentry_tlog_parse(bundle_get_tlog_entry(b, i), &t);
        if (r < 0)
            return log_error(CLI_EXIT_ERROR, "tlogEntries[%zu] is not a valid log entry: %s", i,
                             strerror(-r));
        if (memcmp(t->log_id, log_id, sizeof(log_id)) != 0)
            continue; /* another log's entry (e.g. Rekor): not ours to judge */
        ours++;
        (void)snprintf(what, sizeof(what), "the checkpoint of tlogEntries[%zu]", i);
        status = log_verify_checkpoint_note_spki(what, t->checkpoint, strlen(t->checkpoint),
                                                 log_spki, log_spki_len, log_key_path, &cp, NULL);
        if (status != CLI_EXIT_OK)
            return status;
        if (cp->size != t->tree_size || memcmp(cp->root, t->root, sizeof(t->root)) != 0)
            return log_error(CLI_EXIT_REFUSED,
                             "tlogEntries[%zu]: the proof's tree (size %" PRIu64
                             ") is not the signed checkpoint's (size %" PRIu64 ")",
                             i, t->tree_size, cp->size);
        r = merkle_leaf_hash(t->body, t->body_len, leaf);
        if (r >= 0)
            r = merkle_verify_inclusion(t->log_index, t->tree_size, leaf,
                                        (const uint8_t(*)[MERKLE_HASH_SIZE])t->hashes, t->n_hashes,
                                        cp->root);
        if (r == -ENOMEM)
            return log_errno(r, "cannot check the inclusion proof");
        if (r < 0)
            return log_error(CLI_EXIT_REFUSED,
                             "tlogEntries[%zu]: the inclusion proof of record %" PRIu64
                             " does not lead to the signed checkpoint's root",
                             i, t->log_index);
        r = logentry_parse(t->body, t->body_len, &info);
        if (r < 0)
            return log_error(CLI_EXIT_ERROR, "tlogEntries[%zu]: malformed entry body: %s", i,
                             strerror(-r));
        if (info->dsse != t->dsse)
            return log_error(CLI_EXIT_REFUSED, "tlogEntries[%zu]: kind differs from the body", i);
        why = entry_matches(info, b, signer, signer_len);
        if (why)
            return log_error(CLI_EXIT_REFUSED, "tlogEntries[%zu]: %s", i, why);
        ret->index = t->log_index;
        ret->tree_size = t->tree_size;
        (void)snprintf(ret->origin, sizeof(ret->origin), "%s", cp->origin);
        return CLI_EXIT_OK;
    }
    if (ours == 0)
        return log_error(CLI_EXIT_REFUSED,
                         "the bundle carries no entry of the signing log whose key is %s "
                         "(%zu other tlogEntries)",
                         log_key_path, bundle_n_tlog_entries(b));
    return CLI_EXIT_REFUSED;
}
