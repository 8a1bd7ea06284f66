/* SPDX-License-Identifier: Apache-2.0 */
#include "bundle.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <openssl/core_names.h>

#include "crypto.h"
#include "json.h"
#include "macro.h"

struct bundle {
    enum bundle_kind kind;
    char *media_type;
    char *hint;
    uint8_t digest[32]; /* messageSignature */
    uint8_t *sig;       /* messageSignature */
    size_t sig_len;
    struct dsse_envelope *env; /* dsseEnvelope */
    struct json_object *tlog;  /* verificationMaterial.tlogEntries (a reference) or NULL */
};

/* Media types verifiers must accept (FORMATS 4.1); we emit the first. */
static const char *const media_types[] = {
        BUNDLE_MEDIA_TYPE,
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
};

int bundle_hint_from_spki(const uint8_t *spki, size_t spki_len, char **ret_hint)
{
    if (!spki || spki_len == 0 || spki_len > HWSIGN_MAX_SPKI)
        return -EINVAL;
    return spki_fingerprint(spki, spki_len, ret_hint);
}

/* {"mediaType", "verificationMaterial": {"publicKey": {"hint"}, "tlogEntries": []}} */
static int bundle_skeleton(const char *hint, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    struct json_object *vm, *pk;
    size_t hlen;
    int r;

    if (!hint)
        return -EINVAL;
    hlen = strlen(hint);
    if (hlen == 0)
        return -EINVAL;
    if (hlen > BUNDLE_MAX_HINT)
        return -EMSGSIZE;
    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    r = fjson_add_string(root, "mediaType", BUNDLE_MEDIA_TYPE, strlen(BUNDLE_MEDIA_TYPE));
    if (r < 0)
        return r;
    vm = json_object_new_object();
    r = fjson_add(root, "verificationMaterial", vm);
    if (r < 0)
        return r;
    pk = json_object_new_object();
    r = fjson_add(vm, "publicKey", pk);
    if (r < 0)
        return r;
    r = fjson_add_string(pk, "hint", hint, hlen);
    if (r < 0)
        return r;
    r = fjson_add(vm, "tlogEntries", json_object_new_array());
    if (r < 0)
        return r;
    *ret = TAKE_PTR(root);
    return 0;
}

int bundle_encode_message_signature(const char *hint, const uint8_t digest[static 32],
                                    const uint8_t *sig, size_t sig_len, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    struct json_object *ms, *md;
    int r;

    if (!sig || sig_len == 0)
        return -EINVAL;
    if (sig_len > DSSE_MAX_SIG)
        return -EMSGSIZE;
    r = bundle_skeleton(hint, &root);
    if (r < 0)
        return r;
    ms = json_object_new_object();
    r = fjson_add(root, "messageSignature", ms);
    if (r < 0)
        return r;
    md = json_object_new_object();
    r = fjson_add(ms, "messageDigest", md);
    if (r < 0)
        return r;
    r = fjson_add_string(md, "algorithm", "SHA2_256", strlen("SHA2_256"));
    if (r < 0)
        return r;
    r = fjson_add_base64(md, "digest", digest, 32);
    if (r < 0)
        return r;
    r = fjson_add_base64(ms, "signature", sig, sig_len);
    if (r < 0)
        return r;
    return fjson_serialize(root, ret, ret_len);
}

int bundle_encode_dsse(const char *hint, const char *payload_type, const uint8_t *payload,
                       size_t payload_len, const uint8_t *sig, size_t sig_len, char **ret,
                       size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL, *env = NULL;
    struct dsse_signature s = {.keyid = hint, .sig = sig, .sig_len = sig_len};
    int r;

    if (!payload || payload_len == 0)
        return -EINVAL;
    r = bundle_skeleton(hint, &root);
    if (r < 0)
        return r;
    r = dsse_envelope_to_json(payload_type, payload, payload_len, &s, 1, &env);
    if (r < 0)
        return r;
    r = fjson_add(root, "dsseEnvelope", TAKE_PTR(env));
    if (r < 0)
        return r;
    return fjson_serialize(root, ret, ret_len);
}

struct bundle *bundle_free(struct bundle *b)
{
    if (!b)
        return NULL;
    free(b->media_type);
    free(b->hint);
    free(b->sig);
    dsse_envelope_free(b->env);
    if (b->tlog)
        json_object_put(b->tlog);
    free(b);
    return NULL;
}

void bundle_freep(struct bundle **b)
{
    *b = bundle_free(*b);
}

static const struct fjson_field bundle_fields[] = {
        {"mediaType", FJSON_STRING, true},
        {"verificationMaterial", FJSON_OBJECT, true},
        {"messageSignature", FJSON_OBJECT, false},
        {"dsseEnvelope", FJSON_OBJECT, false},
};

static const struct fjson_field material_fields[] = {
        {"publicKey", FJSON_OBJECT, false},
        {"certificate", FJSON_OBJECT, false},
        {"x509CertificateChain", FJSON_OBJECT, false},
        {"tlogEntries", FJSON_ARRAY, false},
        {"timestampVerificationData", FJSON_OBJECT, false},
};

static const struct fjson_field public_key_fields[] = {
        {"hint", FJSON_STRING, false},
};

static const struct fjson_field message_signature_fields[] = {
        {"messageDigest", FJSON_OBJECT, true},
        {"signature", FJSON_STRING, true},
};

static const struct fjson_field message_digest_fields[] = {
        {"algorithm", FJSON_STRING, true},
        {"digest", FJSON_STRING, true},
};

static int parse_material(const struct json_object *vm, struct bundle *b)
{
    struct json_object *pk = NULL, *arr = NULL;
    const char *hint = "";
    size_t n = 0;
    int r;

    r = fjson_check_fields(vm, material_fields, ELEMENTSOF(material_fields), FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    r = fjson_get_object(vm, "publicKey", &pk);
    if (r == -ENOENT) {
        /* A oneof: certificate material is valid Sigstore, just not key-based. */
        bool cert = json_object_object_get_ex(vm, "certificate", NULL) ||
                    json_object_object_get_ex(vm, "x509CertificateChain", NULL);
        return cert ? -EOPNOTSUPP : -EINVAL;
    }
    if (r < 0)
        return r;
    if (json_object_object_get_ex(vm, "certificate", NULL) ||
        json_object_object_get_ex(vm, "x509CertificateChain", NULL))
        return -EINVAL; /* two members of one oneof */
    r = fjson_check_fields(pk, public_key_fields, ELEMENTSOF(public_key_fields),
                           FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    r = fjson_get_string(pk, "hint", BUNDLE_MAX_HINT, &hint, NULL);
    if (r < 0 && r != -ENOENT)
        return r;
    b->hint = strdup(r == -ENOENT ? "" : hint);
    if (!b->hint)
        return -ENOMEM;
    r = fjson_get_array(vm, "tlogEntries", BUNDLE_MAX_TLOG_ENTRIES, &arr, &n);
    if (r < 0 && r != -ENOENT)
        return r;
    for (size_t i = 0; r == 0 && i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_object))
            return -EINVAL;
    if (r == 0 && n > 0)
        b->tlog = json_object_get(arr);
    return 0;
}

static int parse_message_signature(const struct json_object *ms, struct bundle *b)
{
    _cleanup_free_ uint8_t *digest = NULL;
    struct json_object *md = NULL;
    const char *alg;
    size_t n = 0;
    int r;

    r = fjson_check_fields(ms, message_signature_fields, ELEMENTSOF(message_signature_fields),
                           FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    r = fjson_get_object(ms, "messageDigest", &md);
    if (r < 0)
        return r;
    r = fjson_check_fields(md, message_digest_fields, ELEMENTSOF(message_digest_fields),
                           FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    r = fjson_get_string(md, "algorithm", 32, &alg, NULL);
    if (r < 0)
        return r == -EMSGSIZE ? -EINVAL : r;
    if (!streq(alg, "SHA2_256"))
        return streq(alg, "SHA2_384") || streq(alg, "SHA2_512") ? -EOPNOTSUPP : -EINVAL;
    r = fjson_get_bytes(md, "digest", 32, &digest, &n);
    if (r < 0)
        return r == -EMSGSIZE ? -EINVAL : r;
    if (n != 32)
        return -EINVAL;
    memcpy(b->digest, digest, 32);
    r = fjson_get_bytes(ms, "signature", DSSE_MAX_SIG, &b->sig, &b->sig_len);
    if (r < 0)
        return r;
    if (b->sig_len == 0)
        return -EINVAL;
    return 0;
}

static int parse_dsse(const struct json_object *obj, struct bundle *b)
{
    size_t n = 0;
    int r;

    r = dsse_envelope_from_json(obj, &b->env);
    if (r < 0)
        return r;
    if (dsse_envelope_n_signatures(b->env) != 1)
        return -EINVAL;
    (void)dsse_envelope_payload(b->env, &n);
    if (n == 0)
        return -EINVAL;
    return 0;
}

int bundle_decode(const char *json, size_t len, struct bundle **ret)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    _cleanup_(bundle_freep) struct bundle *b = NULL;
    struct json_object *vm = NULL, *ms = NULL, *de = NULL;
    const char *mt;
    bool known = false;
    int r;

    r = fjson_parse_object(json, len, BUNDLE_MAX_JSON, &root);
    if (r < 0)
        return r;
    r = fjson_check_fields(root, bundle_fields, ELEMENTSOF(bundle_fields), FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    r = fjson_get_string(root, "mediaType", BUNDLE_MAX_MEDIA_TYPE, &mt, NULL);
    if (r < 0)
        return r == -EMSGSIZE ? -EINVAL : r;
    for (size_t i = 0; i < ELEMENTSOF(media_types) && !known; i++)
        known = streq(mt, media_types[i]);
    if (!known)
        return -EINVAL;
    b->media_type = strdup(mt);
    if (!b->media_type)
        return -ENOMEM;
    r = fjson_get_object(root, "verificationMaterial", &vm);
    if (r < 0)
        return r;
    r = parse_material(vm, b);
    if (r < 0)
        return r;

    bool has_ms = fjson_get_object(root, "messageSignature", &ms) == 0;
    bool has_de = fjson_get_object(root, "dsseEnvelope", &de) == 0;
    if (has_ms == has_de)
        return -EINVAL; /* the content oneof: exactly one */
    if (has_ms) {
        b->kind = BUNDLE_MESSAGE_SIGNATURE;
        r = parse_message_signature(ms, b);
    } else {
        b->kind = BUNDLE_DSSE_ENVELOPE;
        r = parse_dsse(de, b);
    }
    if (r < 0)
        return r;
    *ret = TAKE_PTR(b);
    return 0;
}

enum bundle_kind bundle_get_kind(const struct bundle *b)
{
    return b->kind;
}

const char *bundle_get_media_type(const struct bundle *b)
{
    return b->media_type;
}

const char *bundle_get_hint(const struct bundle *b)
{
    return b->hint;
}

const uint8_t *bundle_get_message_digest(const struct bundle *b)
{
    return b->kind == BUNDLE_MESSAGE_SIGNATURE ? b->digest : NULL;
}

const uint8_t *bundle_get_signature(const struct bundle *b, size_t *ret_len)
{
    if (b->kind != BUNDLE_MESSAGE_SIGNATURE)
        return NULL;
    *ret_len = b->sig_len;
    return b->sig;
}

const struct dsse_envelope *bundle_get_envelope(const struct bundle *b)
{
    return b->kind == BUNDLE_DSSE_ENVELOPE ? b->env : NULL;
}

/* The hash model_signing uses with an EC key's curve (FORMATS 6.4): SHA-384 for P-384, SHA-512
 * for P-521; 0 for every other key (SHA-256 only). */
static enum hwsign_hash curve_hash(EVP_PKEY *pkey)
{
    char group[32];
    size_t glen = 0;

    if (!EVP_PKEY_is_a(pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &glen))
        return 0;
    if (streq(group, "secp384r1") || streq(group, "P-384"))
        return HWSIGN_HASH_SHA384;
    if (streq(group, "secp521r1") || streq(group, "P-521"))
        return HWSIGN_HASH_SHA512;
    return 0;
}

/* The envelope's signatures over hash(PAE) with the curve's own hash (see
 * BUNDLE_VERIFY_DSSE_CURVE_HASH): 0 verified, -EBADMSG none does, other -errno. */
static int verify_dsse_curve_hash(const struct dsse_envelope *env, EVP_PKEY *pkey)
{
    _cleanup_free_ uint8_t *pae = NULL;
    enum hwsign_hash h = curve_hash(pkey);
    const uint8_t *payload, *sig;
    const char *type = dsse_envelope_payload_type(env);
    uint8_t digest[64];
    size_t n = 0, pae_len = 0, sig_len = 0;
    int r;

    if (h == 0)
        return -EBADMSG;
    payload = dsse_envelope_payload(env, &n);
    r = dsse_pae(type, strlen(type), payload, n, &pae, &pae_len);
    if (r >= 0)
        r = hash_buffer(h, pae, pae_len, digest, sizeof(digest));
    if (r < 0)
        return r;
    for (size_t i = 0; i < dsse_envelope_n_signatures(env); i++) {
        if (dsse_envelope_signature(env, i, &sig, &sig_len, NULL) < 0)
            return -EINVAL;
        r = sig_verify_digest_pkey(pkey, h, HWSIGN_SCHEME_DEFAULT, digest, hash_len(h), sig,
                                   sig_len);
        if (r != -EBADMSG)
            return r;
    }
    return -EBADMSG;
}

static int verify_dsse(const struct bundle *b, EVP_PKEY *pkey, const uint8_t *artifact_sha256,
                       unsigned flags, struct intoto_statement **ret_statement)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    const uint8_t *payload;
    size_t n = 0;
    int r;

    r = dsse_envelope_verify(b->env, pkey, NULL);
    if (r == -EBADMSG && (flags & BUNDLE_VERIFY_DSSE_CURVE_HASH))
        r = verify_dsse_curve_hash(b->env, pkey);
    if (r < 0)
        return r;
    /* Authenticated: now the payload may be interpreted. */
    if (!streq(dsse_envelope_payload_type(b->env), INTOTO_PAYLOAD_TYPE))
        return -EINVAL;
    payload = dsse_envelope_payload(b->env, &n);
    r = intoto_statement_parse(payload, n, &st);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    if (artifact_sha256) {
        r = intoto_statement_find_sha256(st, artifact_sha256, NULL);
        if (r < 0)
            return r;
    }
    if (ret_statement)
        *ret_statement = TAKE_PTR(st);
    return 0;
}

int bundle_verify(const struct bundle *b, EVP_PKEY *pkey, const uint8_t *artifact_sha256,
                  struct intoto_statement **ret_statement)
{
    return bundle_verify_ex(b, pkey, artifact_sha256, 0, ret_statement);
}

int bundle_verify_ex(const struct bundle *b, EVP_PKEY *pkey, const uint8_t *artifact_sha256,
                     unsigned flags, struct intoto_statement **ret_statement)
{
    int r;

    if (!b || !pkey || (flags & ~BUNDLE_VERIFY_DSSE_CURVE_HASH))
        return -EINVAL;
    if (b->kind == BUNDLE_DSSE_ENVELOPE)
        return verify_dsse(b, pkey, artifact_sha256, flags, ret_statement);
    if (b->kind != BUNDLE_MESSAGE_SIGNATURE)
        return -EINVAL;
    /* Digests are public: a plain compare is fine. */
    if (artifact_sha256 && memcmp(artifact_sha256, b->digest, 32) != 0)
        return -ENOENT;
    r = sig_verify_digest_pkey(pkey, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, b->digest, 32,
                               b->sig, b->sig_len);
    if (r < 0)
        return r;
    if (ret_statement)
        *ret_statement = NULL;
    return 0;
}

size_t bundle_n_tlog_entries(const struct bundle *b)
{
    return b && b->tlog ? json_object_array_length(b->tlog) : 0;
}

const struct json_object *bundle_get_tlog_entry(const struct bundle *b, size_t i)
{
    if (i >= bundle_n_tlog_entries(b))
        return NULL;
    return json_object_array_get_idx(b->tlog, i);
}

int bundle_add_tlog_entry(const char *json, size_t len, struct json_object *entry, char **ret,
                          size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    _cleanup_(bundle_freep) struct bundle *b = NULL;
    struct json_object *vm = NULL, *arr = NULL;
    int r;

    if (!json || !entry || !ret || !ret_len || !json_object_is_type(entry, json_type_object))
        return -EINVAL;
    /* Only to a bundle that decodes: the result is then a bundle too. */
    r = bundle_decode(json, len, &b);
    if (r >= 0)
        r = fjson_parse_object(json, len, BUNDLE_MAX_JSON, &root);
    if (r >= 0)
        r = fjson_get_object(root, "verificationMaterial", &vm);
    if (r < 0)
        return r;
    if (!json_object_object_get_ex(vm, "tlogEntries", &arr)) {
        r = fjson_add(vm, "tlogEntries", json_object_new_array());
        if (r < 0)
            return r;
        (void)json_object_object_get_ex(vm, "tlogEntries", &arr);
    }
    if (json_object_array_length(arr) >= BUNDLE_MAX_TLOG_ENTRIES)
        return -EMSGSIZE;
    r = fjson_append(arr, json_object_get(entry));
    if (r < 0)
        return r;
    {
        char *out = NULL;
        size_t out_len = 0;
        r = fjson_serialize(root, &out, &out_len);
        if (r < 0)
            return r;
        if (out_len > BUNDLE_MAX_JSON) { /* it would no longer decode */
            free(out);
            return -EMSGSIZE;
        }
        *ret = out;
        *ret_len = out_len;
    }
    return 0;
}
