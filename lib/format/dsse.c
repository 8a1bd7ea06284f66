/* SPDX-License-Identifier: Apache-2.0 */
#include "dsse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "json.h"
#include "macro.h"

struct dsse_sig_entry {
    uint8_t *sig;
    size_t sig_len;
    char *keyid;
};

struct dsse_envelope {
    char *payload_type;
    uint8_t *payload;
    size_t payload_len;
    struct dsse_sig_entry *sigs;
    size_t n_sigs;
};

#define PAE_PREFIX "DSSEv1 "

int dsse_pae(const char *type, size_t type_len, const uint8_t *body, size_t body_len, uint8_t **ret,
             size_t *ret_len)
{
    char tlen[24], blen[24];
    int tn, bn;
    size_t n, o = 0;
    uint8_t *p;

    if ((!type && type_len > 0) || (!body && body_len > 0))
        return -EINVAL;
    if (type_len > DSSE_MAX_PAYLOAD_TYPE || body_len > DSSE_MAX_PAYLOAD)
        return -EMSGSIZE;
    tn = snprintf(tlen, sizeof(tlen), "%zu", type_len);
    bn = snprintf(blen, sizeof(blen), "%zu", body_len);
    if (tn < 0 || (size_t)tn >= sizeof(tlen) || bn < 0 || (size_t)bn >= sizeof(blen))
        return -EINVAL;
    /* Both lengths are bounded above, so this sum cannot overflow. */
    n = strlen(PAE_PREFIX) + (size_t)tn + 1 + type_len + 1 + (size_t)bn + 1 + body_len;
    p = malloc(n);
    if (!p)
        return -ENOMEM;
    memcpy(p + o, PAE_PREFIX, strlen(PAE_PREFIX));
    o += strlen(PAE_PREFIX);
    memcpy(p + o, tlen, (size_t)tn);
    o += (size_t)tn;
    p[o++] = ' ';
    if (type_len)
        memcpy(p + o, type, type_len);
    o += type_len;
    p[o++] = ' ';
    memcpy(p + o, blen, (size_t)bn);
    o += (size_t)bn;
    p[o++] = ' ';
    if (body_len)
        memcpy(p + o, body, body_len);
    *ret = p;
    *ret_len = n;
    return 0;
}

int dsse_pae_sha256(const char *type, size_t type_len, const uint8_t *body, size_t body_len,
                    uint8_t ret_digest[static 32])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    char head[64];
    unsigned int n = 0;
    uint8_t d[32];
    int k;

    /* Streamed: a 16 MiB statement is hashed in place, not copied into its PAE first. */
    if ((!type && type_len > 0) || (!body && body_len > 0))
        return -EINVAL;
    if (type_len > DSSE_MAX_PAYLOAD_TYPE || body_len > DSSE_MAX_PAYLOAD)
        return -EMSGSIZE;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    k = snprintf(head, sizeof(head), PAE_PREFIX "%zu ", type_len);
    if (k < 0 || (size_t)k >= sizeof(head) || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, head, (size_t)k) != 1 ||
        (type_len && EVP_DigestUpdate(ctx, type, type_len) != 1))
        return -EIO;
    k = snprintf(head, sizeof(head), " %zu ", body_len);
    if (k < 0 || (size_t)k >= sizeof(head) || EVP_DigestUpdate(ctx, head, (size_t)k) != 1 ||
        (body_len && EVP_DigestUpdate(ctx, body, body_len) != 1) ||
        EVP_DigestFinal_ex(ctx, d, &n) != 1 || n != sizeof(d))
        return -EIO;
    memcpy(ret_digest, d, sizeof(d));
    return 0;
}

int dsse_envelope_to_json(const char *payload_type, const uint8_t *payload, size_t payload_len,
                          const struct dsse_signature *sigs, size_t n_sigs,
                          struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *env = NULL;
    struct json_object *arr;
    size_t tlen;
    int r;

    if (!payload_type || (!payload && payload_len > 0) || !sigs)
        return -EINVAL;
    tlen = strlen(payload_type);
    if (tlen > DSSE_MAX_PAYLOAD_TYPE || payload_len > DSSE_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (n_sigs == 0)
        return -EINVAL;
    if (n_sigs > DSSE_MAX_SIGNATURES)
        return -EMSGSIZE;

    env = json_object_new_object();
    if (!env)
        return -ENOMEM;
    r = fjson_add_base64(env, "payload", payload, payload_len);
    if (r < 0)
        return r;
    r = fjson_add_string(env, "payloadType", payload_type, tlen);
    if (r < 0)
        return r;
    arr = json_object_new_array();
    r = fjson_add(env, "signatures", arr);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n_sigs; i++) {
        struct json_object *s;
        if (!sigs[i].sig || sigs[i].sig_len == 0)
            return -EINVAL;
        if (sigs[i].sig_len > DSSE_MAX_SIG ||
            (sigs[i].keyid && strlen(sigs[i].keyid) > DSSE_MAX_KEYID))
            return -EMSGSIZE;
        s = json_object_new_object();
        r = fjson_append(arr, s);
        if (r < 0)
            return r;
        if (sigs[i].keyid) {
            r = fjson_add_string(s, "keyid", sigs[i].keyid, strlen(sigs[i].keyid));
            if (r < 0)
                return r;
        }
        r = fjson_add_base64(s, "sig", sigs[i].sig, sigs[i].sig_len);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(env);
    return 0;
}

int dsse_envelope_encode(const char *payload_type, const uint8_t *payload, size_t payload_len,
                         const struct dsse_signature *sigs, size_t n_sigs, char **ret,
                         size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *env = NULL;
    int r;

    r = dsse_envelope_to_json(payload_type, payload, payload_len, sigs, n_sigs, &env);
    if (r < 0)
        return r;
    return fjson_serialize(env, ret, ret_len);
}

/* Text json-c writes as it is (JSON_C_TO_STRING_NOSLASHESCAPE): printable ASCII but '"', '\\'. */
static bool json_verbatim(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);

    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* Base64 of data into ctx, DSSE_B64_CHUNK input bytes at a time (a multiple of 3). */
#define DSSE_B64_CHUNK (48u * 1024u)
static int digest_base64(EVP_MD_CTX *ctx, const uint8_t *data, size_t len)
{
    unsigned char out[DSSE_B64_CHUNK / 3u * 4u + 1u];

    for (size_t off = 0; off < len;) {
        size_t n = MIN((size_t)DSSE_B64_CHUNK, len - off);
        int k = EVP_EncodeBlock(out, data + off, (int)n);

        if (k < 0 || EVP_DigestUpdate(ctx, out, (size_t)k) != 1)
            return -EIO;
        off += n;
    }
    return 0;
}

static int digest_text(EVP_MD_CTX *ctx, const char *s)
{
    return EVP_DigestUpdate(ctx, s, strlen(s)) == 1 ? 0 : -EIO;
}

int dsse_envelope_sha256_begin(EVP_MD_CTX *ctx, const char *payload_type, const uint8_t *payload,
                               size_t payload_len)
{
    int r;

    if (!ctx || !payload_type || (!payload && payload_len > 0))
        return -EINVAL;
    if (payload_len > DSSE_MAX_PAYLOAD || strlen(payload_type) > DSSE_MAX_PAYLOAD_TYPE)
        return -EMSGSIZE;
    if (!json_verbatim(payload_type, DSSE_MAX_PAYLOAD_TYPE))
        return -EINVAL;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        return -EIO;
    r = digest_text(ctx, "{\"payload\":\"");
    if (r >= 0)
        r = digest_base64(ctx, payload, payload_len);
    if (r >= 0)
        r = digest_text(ctx, "\",\"payloadType\":\"");
    if (r >= 0)
        r = digest_text(ctx, payload_type);
    if (r >= 0)
        r = digest_text(ctx, "\",\"signatures\":[{");
    return r;
}

int dsse_envelope_sha256_end(const EVP_MD_CTX *ctx, const char *keyid, const uint8_t *sig,
                             size_t sig_len, uint8_t ret_digest[static 32])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;
    int r;

    if (!ctx || !sig || sig_len == 0)
        return -EINVAL;
    if (sig_len > DSSE_MAX_SIG)
        return -EMSGSIZE;
    if (keyid && !json_verbatim(keyid, DSSE_MAX_KEYID))
        return strlen(keyid) > DSSE_MAX_KEYID ? -EMSGSIZE : -EINVAL;
    if (!c || EVP_MD_CTX_copy_ex(c, ctx) != 1)
        return -ENOMEM;
    r = 0;
    if (keyid) {
        r = digest_text(c, "\"keyid\":\"");
        if (r >= 0)
            r = digest_text(c, keyid);
        if (r >= 0)
            r = digest_text(c, "\",");
    }
    if (r >= 0)
        r = digest_text(c, "\"sig\":\"");
    if (r >= 0)
        r = digest_base64(c, sig, sig_len);
    if (r >= 0)
        r = digest_text(c, "\"}]}");
    if (r < 0)
        return r;
    if (EVP_DigestFinal_ex(c, ret_digest, &n) != 1 || n != 32)
        return -EIO;
    return 0;
}

struct dsse_envelope *dsse_envelope_free(struct dsse_envelope *env)
{
    if (!env)
        return NULL;
    for (size_t i = 0; i < env->n_sigs; i++) {
        free(env->sigs[i].sig);
        free(env->sigs[i].keyid);
    }
    free(env->sigs);
    free(env->payload);
    free(env->payload_type);
    free(env);
    return NULL;
}

void dsse_envelope_freep(struct dsse_envelope **env)
{
    *env = dsse_envelope_free(*env);
}

static const struct fjson_field envelope_fields[] = {
        {"payload", FJSON_STRING, true},
        {"payloadType", FJSON_STRING, true},
        {"signatures", FJSON_ARRAY, true},
};

static const struct fjson_field signature_fields[] = {
        {"sig", FJSON_STRING, true},
        {"keyid", FJSON_STRING, false},
};

static int parse_signature(const struct json_object *obj, struct dsse_sig_entry *ret)
{
    _cleanup_free_ uint8_t *sig = NULL;
    const char *keyid = "";
    size_t sig_len = 0, keyid_len = 0;
    int r;

    r = fjson_check_fields(obj, signature_fields, ELEMENTSOF(signature_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = fjson_get_bytes(obj, "sig", DSSE_MAX_SIG, &sig, &sig_len);
    if (r < 0)
        return r;
    r = fjson_get_string(obj, "keyid", DSSE_MAX_KEYID, &keyid, &keyid_len);
    if (r < 0 && r != -ENOENT)
        return r;
    ret->keyid = strdup(keyid);
    if (!ret->keyid)
        return -ENOMEM;
    ret->sig = TAKE_PTR(sig);
    ret->sig_len = sig_len;
    return 0;
}

int dsse_envelope_from_json(const struct json_object *obj, struct dsse_envelope **ret)
{
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    struct json_object *arr = NULL;
    const char *type;
    size_t n = 0;
    int r;

    r = fjson_check_fields(obj, envelope_fields, ELEMENTSOF(envelope_fields), FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    env = calloc(1, sizeof(*env));
    if (!env)
        return -ENOMEM;
    r = fjson_get_string(obj, "payloadType", DSSE_MAX_PAYLOAD_TYPE, &type, NULL);
    if (r < 0)
        return r;
    env->payload_type = strdup(type);
    if (!env->payload_type)
        return -ENOMEM;
    r = fjson_get_bytes(obj, "payload", DSSE_MAX_PAYLOAD, &env->payload, &env->payload_len);
    if (r < 0)
        return r;
    r = fjson_get_array(obj, "signatures", DSSE_MAX_SIGNATURES, &arr, &n);
    if (r < 0)
        return r;
    if (n == 0)
        return -EINVAL;
    env->sigs = calloc(n, sizeof(*env->sigs));
    if (!env->sigs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        r = parse_signature(json_object_array_get_idx(arr, i), &env->sigs[i]);
        if (r < 0)
            return r;
        env->n_sigs++;
    }
    *ret = TAKE_PTR(env);
    return 0;
}

int dsse_envelope_decode(const char *json, size_t len, struct dsse_envelope **ret)
{
    _cleanup_(fjson_putp) struct json_object *obj = NULL;
    int r;

    r = fjson_parse_object(json, len, DSSE_MAX_ENVELOPE, &obj);
    if (r < 0)
        return r;
    return dsse_envelope_from_json(obj, ret);
}

const char *dsse_envelope_payload_type(const struct dsse_envelope *env)
{
    return env->payload_type;
}

const uint8_t *dsse_envelope_payload(const struct dsse_envelope *env, size_t *ret_len)
{
    *ret_len = env->payload_len;
    return env->payload;
}

size_t dsse_envelope_n_signatures(const struct dsse_envelope *env)
{
    return env->n_sigs;
}

int dsse_envelope_signature(const struct dsse_envelope *env, size_t i, const uint8_t **ret_sig,
                            size_t *ret_sig_len, const char **ret_keyid)
{
    if (i >= env->n_sigs)
        return -ERANGE;
    if (ret_sig)
        *ret_sig = env->sigs[i].sig;
    if (ret_sig_len)
        *ret_sig_len = env->sigs[i].sig_len;
    if (ret_keyid)
        *ret_keyid = env->sigs[i].keyid;
    return 0;
}

int dsse_envelope_verify(const struct dsse_envelope *env, EVP_PKEY *pkey, size_t *ret_index)
{
    uint8_t digest[32];
    int r;

    if (!env || !pkey)
        return -EINVAL;
    r = dsse_pae_sha256(env->payload_type, strlen(env->payload_type), env->payload,
                        env->payload_len, digest);
    if (r < 0)
        return r;
    for (size_t i = 0; i < env->n_sigs; i++) {
        r = sig_verify_digest_pkey(pkey, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest,
                                   sizeof(digest), env->sigs[i].sig, env->sigs[i].sig_len);
        if (r == 0) {
            if (ret_index)
                *ret_index = i;
            return 0;
        }
        /* A bad or undecodable signature is just "not this one"; anything else is final. */
        if (r != -EBADMSG)
            return r;
    }
    return -EBADMSG;
}
