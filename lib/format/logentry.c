/* SPDX-License-Identifier: Apache-2.0 */
#include "logentry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "crypto.h"
#include "format.h"
#include "intoto.h"
#include "json.h"
#include "macro.h"

#define PEM_HEAD "-----BEGIN PUBLIC KEY-----\n"
#define PEM_TAIL "-----END PUBLIC KEY-----\n"
#define PEM_LINE 64u
#define U64_TEXT 21u /* decimal digits of UINT64_MAX + NUL */

/*
 * The PEM text of a DER SPKI, 64-column lines (as OpenSSL writes it). Text only, unlike
 * spki_to_pem (lib/util/crypto.h), which parses the key and re-encodes it: an entry body is a
 * function of the record's stored bytes, whatever they hold, so auditors can recompute it
 * without a crypto library (tests/integration/logentry.py).
 */
static int spki_pem(const uint8_t *spki, size_t spki_len, char **ret, size_t *ret_len)
{
    _cleanup_free_ char *b64 = NULL;
    size_t n, lines, cap, o = 0;
    char *pem;
    int r = base64_encode(spki, spki_len, &b64);

    if (r < 0)
        return r;
    n = strlen(b64);
    lines = (n + PEM_LINE - 1) / PEM_LINE;
    cap = strlen(PEM_HEAD) + n + lines + strlen(PEM_TAIL) + 1;
    pem = malloc(cap);
    if (!pem)
        return -ENOMEM;
    memcpy(pem + o, PEM_HEAD, strlen(PEM_HEAD));
    o += strlen(PEM_HEAD);
    for (size_t i = 0; i < n; i += PEM_LINE) {
        size_t k = MIN(PEM_LINE, n - i);
        memcpy(pem + o, b64 + i, k);
        o += k;
        pem[o++] = '\n';
    }
    memcpy(pem + o, PEM_TAIL, strlen(PEM_TAIL));
    o += strlen(PEM_TAIL);
    pem[o] = '\0';
    *ret = pem;
    *ret_len = o;
    return 0;
}

/* The DER SPKI of a PEM text, which must be exactly what spki_pem writes for it. */
static int pem_spki(const uint8_t *pem, size_t len, uint8_t **ret, size_t *ret_len)
{
    _cleanup_free_ uint8_t *der = NULL;
    _cleanup_free_ char *again = NULL;
    size_t hl = strlen(PEM_HEAD), tl = strlen(PEM_TAIL), n = 0, alen = 0;
    int r;

    if (len < hl + tl || memcmp(pem, PEM_HEAD, hl) != 0 || memcmp(pem + len - tl, PEM_TAIL, tl))
        return -EINVAL;
    r = base64_decode((const char *)pem + hl, len - hl - tl, &der, &n);
    if (r < 0 || n == 0 || n > LOGREC_MAX_SPKI)
        return -EINVAL;
    r = spki_pem(der, n, &again, &alen);
    if (r < 0)
        return r;
    if (alen != len || memcmp(again, pem, len) != 0)
        return -EINVAL; /* not canonical: the leaf hash would depend on the spelling */
    *ret = TAKE_PTR(der);
    *ret_len = n;
    return 0;
}

static int add_hex(struct json_object *o, const char *key, const uint8_t *data, size_t len)
{
    _cleanup_free_ char *hex = NULL;
    int r = hex_encode(data, len, &hex);
    if (r < 0) {
        return r;
    }
    return fjson_add_string(o, key, hex, strlen(hex));
}

/* {"algorithm": alg, "value": hex} */
static int add_hash(struct json_object *o, const char *key, const char *alg, const uint8_t *data,
                    size_t len)
{
    struct json_object *h = json_object_new_object();
    int r = fjson_add(o, key, h);
    if (r >= 0)
        r = fjson_add_string(h, "algorithm", alg, strlen(alg));
    if (r >= 0)
        r = add_hex(h, "value", data, len);
    return r;
}

int logentry_body(const struct logrec *r, const uint8_t *body, size_t body_len, char **ret,
                  size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    _cleanup_free_ char *pem = NULL;
    struct json_object *ext, *spec, *o, *sigs;
    uint8_t rec[32];
    const char *alg;
    size_t pem_len = 0;
    int e;

    if (!r || !body || body_len == 0 || !ret || !ret_len || !r->sig || !r->spki ||
        r->sig_len == 0 || r->sig_len > LOGREC_MAX_SIG || r->spki_len == 0 ||
        r->spki_len > LOGREC_MAX_SPKI) /* what logentry_parse would refuse */
        return -EINVAL;
    if (r->request == LOGREC_STATEMENT && !r->has_envelope)
        return -EINVAL;
    alg = hash_name((enum hwsign_hash)r->hash);
    if (!alg || hash_len((enum hwsign_hash)r->hash) != r->digest_len)
        return -EINVAL;
    e = hash_buffer(HWSIGN_HASH_SHA256, body, body_len, rec, sizeof(rec));
    if (e >= 0)
        e = spki_pem(r->spki, r->spki_len, &pem, &pem_len);
    if (e < 0)
        return e;

    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    e = fjson_add_string(root, "apiVersion", LOGENTRY_API_VERSION, strlen(LOGENTRY_API_VERSION));
    ext = json_object_new_object();
    if (e >= 0)
        e = fjson_add(root, "hwsign", ext);
    if (e >= 0)
        e = add_hex(ext, "record", rec, sizeof(rec));
    if (e >= 0 && r->request == LOGREC_STATEMENT) {
        e = fjson_add_string(root, "kind", LOGENTRY_KIND_DSSE, strlen(LOGENTRY_KIND_DSSE));
        spec = json_object_new_object();
        if (e >= 0)
            e = fjson_add(root, "spec", spec);
        if (e >= 0)
            e = add_hash(spec, "envelopeHash", "sha256", r->envelope_sha256, 32);
        if (e >= 0)
            e = add_hash(spec, "payloadHash", "sha256", r->statement_sha256, 32);
        sigs = json_object_new_array();
        if (e >= 0)
            e = fjson_add(spec, "signatures", sigs);
        o = json_object_new_object();
        if (e >= 0)
            e = fjson_append(sigs, o);
        if (e >= 0)
            e = fjson_add_base64(o, "signature", r->sig, r->sig_len);
        if (e >= 0)
            e = fjson_add_base64(o, "verifier", (const uint8_t *)pem, pem_len);
    } else if (e >= 0) {
        struct json_object *data, *sig, *pk;
        e = fjson_add_string(root, "kind", LOGENTRY_KIND_DIGEST, strlen(LOGENTRY_KIND_DIGEST));
        spec = json_object_new_object();
        if (e >= 0)
            e = fjson_add(root, "spec", spec);
        data = json_object_new_object();
        if (e >= 0)
            e = fjson_add(spec, "data", data);
        if (e >= 0)
            e = add_hash(data, "hash", alg, r->digest, r->digest_len);
        sig = json_object_new_object();
        if (e >= 0)
            e = fjson_add(spec, "signature", sig);
        if (e >= 0)
            e = fjson_add_base64(sig, "content", r->sig, r->sig_len);
        pk = json_object_new_object();
        if (e >= 0)
            e = fjson_add(sig, "publicKey", pk);
        if (e >= 0)
            e = fjson_add_base64(pk, "content", (const uint8_t *)pem, pem_len);
    }
    if (e < 0)
        return e;
    return fjson_serialize(root, ret, ret_len);
}

int logentry_leaf_hash(const struct logrec *r, const uint8_t *body, size_t body_len,
                       uint8_t ret[static MERKLE_HASH_SIZE])
{
    _cleanup_free_ char *entry = NULL;
    size_t n = 0;
    int e = logentry_body(r, body, body_len, &entry, &n);
    return e < 0 ? e : merkle_leaf_hash(entry, n, ret);
}

/* ---- parsing ---- */

struct logentry_info *logentry_info_free(struct logentry_info *i)
{
    if (!i)
        return NULL;
    free(i->sig);
    free(i->spki);
    free(i);
    return NULL;
}

void logentry_info_freep(struct logentry_info **i)
{
    *i = logentry_info_free(*i);
}

/* obj[key] as the lower-case hex digest of alg (sha256, sha384 or sha512; in-toto's rules). */
static int get_hex(const struct json_object *obj, const char *key, const char *alg, uint8_t *out,
                   size_t *ret_len)
{
    _cleanup_free_ uint8_t *bin = NULL;
    const char *s;
    size_t slen = 0, n = 0;
    int r = fjson_get_string(obj, key, 128, &s, &slen);

    if (r < 0)
        return r == -ENOENT ? -EINVAL : r;
    if (intoto_digest_value_check(alg, s, slen) < 0 || hex_decode(s, slen, &bin, &n) < 0)
        return -EINVAL;
    memcpy(out, bin, n);
    if (ret_len)
        *ret_len = n;
    return 0;
}

static const struct fjson_field hash_fields[] = {
        {"algorithm", FJSON_STRING, true},
        {"value", FJSON_STRING, true},
};

/* {"algorithm": alg, "value": hex}: alg copied to ret_alg (size 8) when non-NULL, else it must
 * be sha256. */
static int get_hash(const struct json_object *obj, const char *key, char *ret_alg, uint8_t *out,
                    size_t *ret_len)
{
    struct json_object *h = NULL;
    const char *alg;
    size_t alen = 0, n = 0;
    int r = fjson_get_object(obj, key, &h);

    if (r >= 0)
        r = fjson_check_fields(h, hash_fields, ELEMENTSOF(hash_fields), FJSON_UNKNOWN_REJECT);
    if (r >= 0)
        r = fjson_get_string(h, "algorithm", 7, &alg, &alen);
    if (r < 0)
        return r == -ENOENT || r == -EMSGSIZE ? -EINVAL : r;
    /* Only the hashes a record can hold; without ret_alg only sha256. */
    if (ret_alg ? !streq(alg, "sha256") && !streq(alg, "sha384") && !streq(alg, "sha512")
                : !streq(alg, "sha256"))
        return -EINVAL;
    r = get_hex(h, "value", alg, out, &n);
    if (r < 0)
        return r;
    if (ret_alg)
        memcpy(ret_alg, alg, alen + 1);
    if (ret_len)
        *ret_len = n;
    return 0;
}

static const struct fjson_field root_fields[] = {
        {"apiVersion", FJSON_STRING, true},
        {"hwsign", FJSON_OBJECT, true},
        {"kind", FJSON_STRING, true},
        {"spec", FJSON_OBJECT, true},
};
static const struct fjson_field ext_fields[] = {{"record", FJSON_STRING, true}};
static const struct fjson_field dsse_fields[] = {
        {"envelopeHash", FJSON_OBJECT, true},
        {"payloadHash", FJSON_OBJECT, true},
        {"signatures", FJSON_ARRAY, true},
};
static const struct fjson_field dsse_sig_fields[] = {
        {"signature", FJSON_STRING, true},
        {"verifier", FJSON_STRING, true},
};
static const struct fjson_field rekord_fields[] = {
        {"data", FJSON_OBJECT, true},
        {"signature", FJSON_OBJECT, true},
};
static const struct fjson_field rekord_data_fields[] = {{"hash", FJSON_OBJECT, true}};
static const struct fjson_field rekord_sig_fields[] = {
        {"content", FJSON_STRING, true},
        {"publicKey", FJSON_OBJECT, true},
};
static const struct fjson_field content_fields[] = {{"content", FJSON_STRING, true}};

/* sig and PEM (base64 members) into i->sig and i->spki. */
static int get_sig_and_key(const struct json_object *sig_obj, const char *sig_key,
                           const struct json_object *key_obj, const char *key_key,
                           struct logentry_info *i)
{
    _cleanup_free_ uint8_t *pem = NULL;
    size_t pem_len = 0;
    int r = fjson_get_bytes(sig_obj, sig_key, LOGREC_MAX_SIG, &i->sig, &i->sig_len);

    if (r >= 0 && i->sig_len == 0)
        r = -EINVAL;
    if (r >= 0)
        r = fjson_get_bytes(key_obj, key_key, LOGENTRY_MAX_BODY, &pem, &pem_len);
    if (r >= 0)
        r = pem_spki(pem, pem_len, &i->spki, &i->spki_len);
    return r == -ENOENT ? -EINVAL : r;
}

int logentry_parse(const char *body, size_t len, struct logentry_info **ret)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    _cleanup_(logentry_info_freep) struct logentry_info *i = NULL;
    struct json_object *ext = NULL, *spec = NULL;
    const char *s;
    int r;

    if (!body || !ret)
        return -EINVAL;
    r = fjson_parse_object(body, len, LOGENTRY_MAX_BODY, &root);
    if (r < 0)
        return r;
    r = fjson_check_fields(root, root_fields, ELEMENTSOF(root_fields), FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    i = calloc(1, sizeof(*i));
    if (!i)
        return -ENOMEM;
    r = fjson_get_string(root, "apiVersion", 16, &s, NULL);
    if (r < 0 || strcmp(s, LOGENTRY_API_VERSION) != 0)
        return -EINVAL;
    (void)fjson_get_object(root, "hwsign", &ext);
    (void)fjson_get_object(root, "spec", &spec);
    r = fjson_check_fields(ext, ext_fields, ELEMENTSOF(ext_fields), FJSON_UNKNOWN_REJECT);
    if (r >= 0)
        r = get_hex(ext, "record", "sha256", i->record_sha256, NULL);
    if (r < 0)
        return r;
    r = fjson_get_string(root, "kind", 16, &s, NULL);
    if (r < 0)
        return -EINVAL;
    if (!strcmp(s, LOGENTRY_KIND_DSSE)) {
        struct json_object *sigs = NULL, *one;
        size_t n = 0;
        i->dsse = true;
        r = fjson_check_fields(spec, dsse_fields, ELEMENTSOF(dsse_fields), FJSON_UNKNOWN_REJECT);
        if (r >= 0)
            r = get_hash(spec, "envelopeHash", NULL, i->envelope_sha256, NULL);
        if (r >= 0)
            r = get_hash(spec, "payloadHash", NULL, i->payload_sha256, NULL);
        if (r >= 0)
            r = fjson_get_array(spec, "signatures", 1, &sigs, &n);
        if (r < 0)
            return r == -EMSGSIZE ? -EINVAL : r;
        if (n != 1)
            return -EINVAL;
        one = json_object_array_get_idx(sigs, 0);
        r = fjson_check_fields(one, dsse_sig_fields, ELEMENTSOF(dsse_sig_fields),
                               FJSON_UNKNOWN_REJECT);
        if (r >= 0)
            r = get_sig_and_key(one, "signature", one, "verifier", i);
        if (r < 0)
            return r;
    } else if (!strcmp(s, LOGENTRY_KIND_DIGEST)) {
        struct json_object *data = NULL, *sig = NULL, *pk = NULL;
        r = fjson_check_fields(spec, rekord_fields, ELEMENTSOF(rekord_fields),
                               FJSON_UNKNOWN_REJECT);
        if (r >= 0)
            r = fjson_get_object(spec, "data", &data);
        if (r >= 0)
            r = fjson_check_fields(data, rekord_data_fields, ELEMENTSOF(rekord_data_fields),
                                   FJSON_UNKNOWN_REJECT);
        if (r >= 0)
            r = get_hash(data, "hash", i->digest_alg, i->digest, &i->digest_len);
        if (r >= 0)
            r = fjson_get_object(spec, "signature", &sig);
        if (r >= 0)
            r = fjson_check_fields(sig, rekord_sig_fields, ELEMENTSOF(rekord_sig_fields),
                                   FJSON_UNKNOWN_REJECT);
        if (r >= 0)
            r = fjson_get_object(sig, "publicKey", &pk);
        if (r >= 0)
            r = fjson_check_fields(pk, content_fields, ELEMENTSOF(content_fields),
                                   FJSON_UNKNOWN_REJECT);
        if (r >= 0)
            r = get_sig_and_key(sig, "content", pk, "content", i);
        if (r < 0)
            return r;
    } else {
        return -EINVAL;
    }
    *ret = TAKE_PTR(i);
    return 0;
}

/* ---- TransparencyLogEntry ---- */

struct logentry_tlog *logentry_tlog_free(struct logentry_tlog *t)
{
    if (!t)
        return NULL;
    free(t->hashes);
    free(t->checkpoint);
    free(t->body);
    free(t);
    return NULL;
}

void logentry_tlog_freep(struct logentry_tlog **t)
{
    *t = logentry_tlog_free(*t);
}

static int add_u64(struct json_object *o, const char *key, uint64_t v)
{
    char buf[U64_TEXT];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -EINVAL;
    return fjson_add_string(o, key, buf, (size_t)n);
}

int logentry_tlog_build(const struct logentry_tlog *t, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    struct json_object *o, *proof, *hashes;
    const char *kind;
    int r;

    if (!t || !ret || !t->checkpoint || !t->body || t->body_len == 0 ||
        (t->n_hashes > 0 && !t->hashes))
        return -EINVAL;
    if (t->n_hashes > LOGENTRY_MAX_PROOF || t->body_len > LOGENTRY_MAX_BODY ||
        strlen(t->checkpoint) > LOGENTRY_MAX_NOTE)
        return -EMSGSIZE;
    if (t->log_index >= t->tree_size)
        return -EINVAL;
    kind = t->dsse ? LOGENTRY_KIND_DSSE : LOGENTRY_KIND_DIGEST;
    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    r = add_u64(root, "logIndex", t->log_index);
    o = json_object_new_object();
    if (r >= 0)
        r = fjson_add(root, "logId", o);
    if (r >= 0)
        r = fjson_add_base64(o, "keyId", t->log_id, sizeof(t->log_id));
    o = json_object_new_object();
    if (r >= 0)
        r = fjson_add(root, "kindVersion", o);
    if (r >= 0)
        r = fjson_add_string(o, "kind", kind, strlen(kind));
    if (r >= 0)
        r = fjson_add_string(o, "version", LOGENTRY_API_VERSION, strlen(LOGENTRY_API_VERSION));
    proof = json_object_new_object();
    if (r >= 0)
        r = fjson_add(root, "inclusionProof", proof);
    if (r >= 0)
        r = add_u64(proof, "logIndex", t->log_index);
    if (r >= 0)
        r = fjson_add_base64(proof, "rootHash", t->root, sizeof(t->root));
    if (r >= 0)
        r = add_u64(proof, "treeSize", t->tree_size);
    hashes = json_object_new_array();
    if (r >= 0)
        r = fjson_add(proof, "hashes", hashes);
    for (size_t i = 0; r >= 0 && i < t->n_hashes; i++) {
        _cleanup_free_ char *b64 = NULL;
        r = base64_encode(t->hashes[i], MERKLE_HASH_SIZE, &b64);
        if (r >= 0)
            r = fjson_append(hashes, json_object_new_string(b64));
    }
    o = json_object_new_object();
    if (r >= 0)
        r = fjson_add(proof, "checkpoint", o);
    if (r >= 0)
        r = fjson_add_string(o, "envelope", t->checkpoint, strlen(t->checkpoint));
    if (r >= 0)
        r = fjson_add_base64(root, "canonicalizedBody", (const uint8_t *)t->body, t->body_len);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(root);
    return 0;
}

/* obj[key] as a protobuf-JSON int64/uint64 string of decimal digits. */
static int get_u64(const struct json_object *obj, const char *key, uint64_t *ret)
{
    const char *s;
    size_t n = 0;
    uint64_t v = 0;
    int r = fjson_get_string(obj, key, U64_TEXT - 1, &s, &n);

    if (r < 0)
        return r == -ENOENT || r == -EMSGSIZE ? -EINVAL : r;
    if (n == 0 || (n > 1 && s[0] == '0'))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *ret = v;
    return 0;
}

/* obj[key] as base64 of exactly want bytes. */
static int get_fixed(const struct json_object *obj, const char *key, size_t want, uint8_t *out)
{
    _cleanup_free_ uint8_t *b = NULL;
    size_t n = 0;
    int r = fjson_get_bytes(obj, key, want, &b, &n);
    if (r < 0)
        return r == -ENOENT || r == -EMSGSIZE ? -EINVAL : r;
    if (n != want)
        return -EINVAL;
    memcpy(out, b, want);
    return 0;
}

static const struct fjson_field tlog_fields[] = {
        {"logIndex", FJSON_STRING, true},          {"logId", FJSON_OBJECT, true},
        {"kindVersion", FJSON_OBJECT, true},       {"integratedTime", FJSON_STRING, false},
        {"inclusionPromise", FJSON_OBJECT, false}, {"inclusionProof", FJSON_OBJECT, true},
        {"canonicalizedBody", FJSON_STRING, true},
};
static const struct fjson_field logid_fields[] = {{"keyId", FJSON_STRING, true}};
static const struct fjson_field kv_fields[] = {
        {"kind", FJSON_STRING, true},
        {"version", FJSON_STRING, true},
};
static const struct fjson_field proof_fields[] = {
        {"logIndex", FJSON_STRING, true},   {"rootHash", FJSON_STRING, true},
        {"treeSize", FJSON_STRING, true},   {"hashes", FJSON_ARRAY, false},
        {"checkpoint", FJSON_OBJECT, true},
};
static const struct fjson_field cp_fields[] = {{"envelope", FJSON_STRING, true}};

int logentry_tlog_parse(const struct json_object *o, struct logentry_tlog **ret)
{
    _cleanup_(logentry_tlog_freep) struct logentry_tlog *t = NULL;
    struct json_object *id = NULL, *kv = NULL, *proof = NULL, *cp = NULL, *hashes = NULL;
    const char *kind, *version, *note;
    uint64_t proof_index = 0;
    size_t n = 0, note_len = 0;
    int r;

    if (!o || !ret)
        return -EINVAL;
    r = fjson_check_fields(o, tlog_fields, ELEMENTSOF(tlog_fields), FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    (void)fjson_get_object(o, "logId", &id);
    (void)fjson_get_object(o, "kindVersion", &kv);
    (void)fjson_get_object(o, "inclusionProof", &proof);
    r = get_u64(o, "logIndex", &t->log_index);
    if (r >= 0)
        r = fjson_check_fields(id, logid_fields, ELEMENTSOF(logid_fields), FJSON_UNKNOWN_REJECT);
    if (r >= 0)
        r = get_fixed(id, "keyId", sizeof(t->log_id), t->log_id);
    if (r >= 0)
        r = fjson_check_fields(kv, kv_fields, ELEMENTSOF(kv_fields), FJSON_UNKNOWN_REJECT);
    if (r >= 0)
        r = fjson_get_string(kv, "kind", 32, &kind, NULL);
    if (r >= 0)
        r = fjson_get_string(kv, "version", 32, &version, NULL);
    if (r < 0)
        return r == -EMSGSIZE ? -EINVAL : r;
    if (strcmp(version, LOGENTRY_API_VERSION) != 0)
        return -EINVAL;
    if (!strcmp(kind, LOGENTRY_KIND_DSSE))
        t->dsse = true;
    else if (strcmp(kind, LOGENTRY_KIND_DIGEST) != 0)
        return -EINVAL;
    r = fjson_check_fields(proof, proof_fields, ELEMENTSOF(proof_fields), FJSON_UNKNOWN_REJECT);
    if (r >= 0)
        r = get_u64(proof, "logIndex", &proof_index);
    if (r >= 0)
        r = get_u64(proof, "treeSize", &t->tree_size);
    if (r >= 0)
        r = get_fixed(proof, "rootHash", sizeof(t->root), t->root);
    if (r < 0)
        return r;
    if (proof_index != t->log_index || t->log_index >= t->tree_size)
        return -EINVAL;
    r = fjson_get_array(proof, "hashes", LOGENTRY_MAX_PROOF, &hashes, &n);
    if (r < 0 && r != -ENOENT)
        return r;
    if (n > 0) {
        t->hashes = calloc(n, sizeof(*t->hashes));
        if (!t->hashes)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *h = json_object_array_get_idx(hashes, i);
        _cleanup_free_ uint8_t *b = NULL;
        size_t blen = 0;
        if (!json_object_is_type(h, json_type_string))
            return -EINVAL;
        r = fjson_base64_decode(json_object_get_string(h), (size_t)json_object_get_string_len(h),
                                &b, &blen);
        if (r < 0 || blen != MERKLE_HASH_SIZE)
            return -EINVAL;
        memcpy(t->hashes[i], b, MERKLE_HASH_SIZE);
    }
    t->n_hashes = n;
    r = fjson_get_object(proof, "checkpoint", &cp);
    if (r >= 0)
        r = fjson_check_fields(cp, cp_fields, ELEMENTSOF(cp_fields), FJSON_UNKNOWN_REJECT);
    if (r >= 0)
        r = fjson_get_string(cp, "envelope", LOGENTRY_MAX_NOTE, &note, &note_len);
    if (r < 0)
        return r == -ENOENT ? -EINVAL : r;
    t->checkpoint = strndup(note, note_len);
    if (!t->checkpoint)
        return -ENOMEM;
    r = fjson_get_bytes(o, "canonicalizedBody", LOGENTRY_MAX_BODY, (uint8_t **)&t->body,
                        &t->body_len);
    if (r < 0)
        return r;
    if (t->body_len == 0)
        return -EINVAL;
    *ret = TAKE_PTR(t);
    return 0;
}
