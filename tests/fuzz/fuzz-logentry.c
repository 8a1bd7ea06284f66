/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signing log's transparency-log entries (lib/format/logentry.c) on arbitrary bytes:
 *
 * logentry_parse: an accepted entry body is at most LOGENTRY_MAX_BODY bytes and states a
 * well-formed record (hash lengths, non-empty signature and SPKI within the record limits).
 * Its fields are put back into a record, logentry_body rebuilds an entry from it (with the
 * input as the record body) and that entry must parse to the same fields, with hwsign.record =
 * SHA-256 of that body; rebuilding from the re-parsed fields gives the same bytes again (the
 * builder is deterministic and canonical).
 *
 * logentry_tlog_parse on the input as a JSON object (fjson_parse_object): an accepted entry
 * satisfies the documented invariants (logIndex < treeSize, at most LOGENTRY_MAX_PROOF hashes,
 * non-empty body within LOGENTRY_MAX_BODY, checkpoint within LOGENTRY_MAX_NOTE), builds back
 * with logentry_tlog_build, and the rebuilt object, also after serialising and strict
 * re-parsing as a bundle carries it, parses to equal fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <openssl/sha.h>

#include "bundle.h"
#include "json.h"
#include "logentry.h"
#include "macro.h"

#include <hwsign/protocol.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-logentry: check failed at line %d: %s\n", __LINE__, #x);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool info_equal(const struct logentry_info *a, const struct logentry_info *b)
{
    if (a->dsse != b->dsse || a->sig_len != b->sig_len || a->spki_len != b->spki_len ||
        memcmp(a->sig, b->sig, a->sig_len) != 0 || memcmp(a->spki, b->spki, a->spki_len) != 0)
        return false;
    if (a->dsse)
        return memcmp(a->payload_sha256, b->payload_sha256, 32) == 0 &&
               memcmp(a->envelope_sha256, b->envelope_sha256, 32) == 0;
    return streq(a->digest_alg, b->digest_alg) && a->digest_len == b->digest_len &&
           memcmp(a->digest, b->digest, a->digest_len) == 0;
}

/* The record an entry states (borrowing sig and spki from i). */
static void record_of(const struct logentry_info *i, struct logrec *r)
{
    memset(r, 0, sizeof(*r));
    r->sig = i->sig;
    r->sig_len = i->sig_len;
    r->spki = i->spki;
    r->spki_len = i->spki_len;
    if (i->dsse) {
        r->request = LOGREC_STATEMENT;
        r->hash = HWSIGN_HASH_SHA256;
        r->digest_len = 32;
        r->has_statement = true;
        memcpy(r->statement_sha256, i->payload_sha256, 32);
        r->has_envelope = true;
        memcpy(r->envelope_sha256, i->envelope_sha256, 32);
    } else {
        r->request = LOGREC_DIGEST;
        r->hash = streq(i->digest_alg, "sha256")   ? HWSIGN_HASH_SHA256
                  : streq(i->digest_alg, "sha384") ? HWSIGN_HASH_SHA384
                                                   : HWSIGN_HASH_SHA512;
        r->digest_len = i->digest_len;
        memcpy(r->digest, i->digest, i->digest_len);
    }
}

static void entry_body(const uint8_t *data, size_t size)
{
    _cleanup_(logentry_info_freep) struct logentry_info *i = NULL, *again = NULL;
    _cleanup_free_ char *e1 = NULL, *e2 = NULL;
    uint8_t rec[32];
    size_t n1 = 0, n2 = 0;
    struct logrec r;
    int ret;

    ret = logentry_parse((const char *)data, size, &i);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0 || ret == -EINVAL || ret == -EMSGSIZE);
    if (ret < 0) {
        CHECK(!i);
        return;
    }
    CHECK(size <= LOGENTRY_MAX_BODY);
    CHECK(i->sig && i->sig_len >= 1 && i->sig_len <= LOGREC_MAX_SIG);
    CHECK(i->spki && i->spki_len >= 1 && i->spki_len <= LOGREC_MAX_SPKI);
    if (!i->dsse)
        CHECK((streq(i->digest_alg, "sha256") && i->digest_len == 32) ||
              (streq(i->digest_alg, "sha384") && i->digest_len == 48) ||
              (streq(i->digest_alg, "sha512") && i->digest_len == 64));

    /* Rebuild with the input as the record body; parse; rebuild again: same bytes. */
    record_of(i, &r);
    ret = logentry_body(&r, data, size, &e1, &n1);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0);
    CHECK(n1 <= LOGENTRY_MAX_BODY && strlen(e1) == n1);
    ret = logentry_parse(e1, n1, &again);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0);
    CHECK(info_equal(i, again));
    SHA256(data, size, rec);
    CHECK(memcmp(again->record_sha256, rec, 32) == 0);
    record_of(again, &r);
    ret = logentry_body(&r, data, size, &e2, &n2);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0 && n2 == n1 && memcmp(e1, e2, n1) == 0);
}

static bool tlog_equal(const struct logentry_tlog *a, const struct logentry_tlog *b)
{
    return a->log_index == b->log_index && memcmp(a->log_id, b->log_id, 32) == 0 &&
           a->dsse == b->dsse && a->tree_size == b->tree_size &&
           memcmp(a->root, b->root, MERKLE_HASH_SIZE) == 0 && a->n_hashes == b->n_hashes &&
           (a->n_hashes == 0 ||
            memcmp(a->hashes, b->hashes, a->n_hashes * MERKLE_HASH_SIZE) == 0) &&
           streq(a->checkpoint, b->checkpoint) && a->body_len == b->body_len &&
           memcmp(a->body, b->body, a->body_len) == 0;
}

static void tlog_entry(const uint8_t *data, size_t size)
{
    _cleanup_(fjson_putp) struct json_object *o = NULL, *built = NULL, *reread = NULL;
    _cleanup_(logentry_tlog_freep) struct logentry_tlog *t = NULL, *t2 = NULL, *t3 = NULL;
    _cleanup_free_ char *text = NULL;
    size_t n = 0;
    int ret;

    if (fjson_parse_object((const char *)data, size, BUNDLE_MAX_JSON, &o) < 0)
        return;
    ret = logentry_tlog_parse(o, &t);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0 || ret == -EINVAL || ret == -EMSGSIZE);
    if (ret < 0) {
        CHECK(!t);
        return;
    }
    CHECK(t->log_index < t->tree_size);
    CHECK(t->n_hashes <= LOGENTRY_MAX_PROOF && (t->n_hashes == 0) == (t->hashes == NULL));
    CHECK(t->body && t->body_len >= 1 && t->body_len <= LOGENTRY_MAX_BODY);
    CHECK(t->checkpoint && strlen(t->checkpoint) <= LOGENTRY_MAX_NOTE);

    ret = logentry_tlog_build(t, &built);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0);
    ret = logentry_tlog_parse(built, &t2);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0 && tlog_equal(t, t2));
    /* Through text, strictly re-parsed, as a bundle carries it. */
    ret = fjson_serialize(built, &text, &n);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0);
    ret = fjson_parse_object(text, n, BUNDLE_MAX_JSON, &reread);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0);
    ret = logentry_tlog_parse(reread, &t3);
    if (ret == -ENOMEM)
        return;
    CHECK(ret == 0 && tlog_equal(t, t3));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    entry_body(data, size);
    tlog_entry(data, size);
    return 0;
}
