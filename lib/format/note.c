/* SPDX-License-Identifier: Apache-2.0 */
/* C2SP signed notes (see note.h; FORMATS 7.1). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "format.h"
#include "macro.h"
#include "note.h"

#define EM_DASH     "\xe2\x80\x94"
#define EM_DASH_LEN 3u

struct note_sig {
    char *name;
    uint32_t keyid;
    uint8_t *sig; /* signature bytes after the key ID */
    size_t sig_len;
};

struct note {
    char *text;
    size_t text_len;
    struct note_sig sigs[NOTE_MAX_SIGNATURES];
    size_t n_sigs;
};

/* Decodes one UTF-8 sequence at s[*i] (shortest form only, no surrogates, <= U+10FFFF). */
static bool utf8_next(const uint8_t *s, size_t len, size_t *i, uint32_t *ret_cp)
{
    uint8_t c = s[*i];
    uint32_t cp, min;
    size_t n;

    if (c < 0x80) {
        *ret_cp = c;
        (*i)++;
        return true;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if (len - *i <= n)
        return false;
    for (size_t k = 1; k <= n; k++) {
        uint8_t cc = s[*i + k];
        if ((cc & 0xc0) != 0x80)
            return false;
        cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
    *ret_cp = cp;
    *i += n + 1;
    return true;
}

bool note_text_valid(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    uint32_t cp;

    if (!s && len > 0)
        return false;
    for (size_t i = 0; i < len;) {
        if (!utf8_next(u, len, &i, &cp))
            return false;
        if (cp < 0x20 && cp != '\n')
            return false;
    }
    return true;
}

/* Unicode White_Space code points (besides the controls, refused everywhere already). */
static bool is_unicode_space(uint32_t cp)
{
    return cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

bool note_name_valid(const char *name, size_t len)
{
    const uint8_t *u = (const uint8_t *)name;
    uint32_t cp;

    if (!name || len == 0 || len > NOTE_MAX_NAME)
        return false;
    for (size_t i = 0; i < len;) {
        if (!utf8_next(u, len, &i, &cp))
            return false;
        if (cp < 0x20 || cp == '+' || is_unicode_space(cp))
            return false;
    }
    return true;
}

/* Standard padded base64 with nothing else: base64_decode alone would skip whitespace. */
static int b64_decode_strict(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return -EINVAL;
    }
    if (len == 0 || len % 4 != 0)
        return -EINVAL;
    if (base64_decoded_max(len) > max + 2)
        return -EMSGSIZE;
    return base64_decode(s, len, ret, ret_len);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

struct note *note_free(struct note *n)
{
    if (!n)
        return NULL;
    for (size_t i = 0; i < n->n_sigs; i++) {
        free(n->sigs[i].name);
        free(n->sigs[i].sig);
    }
    free(n->text);
    free(n);
    return NULL;
}

/* One signature line s[0..len) without its '\n'. */
static int parse_sig_line(const char *s, size_t len, struct note_sig *ret)
{
    _cleanup_free_ uint8_t *raw = NULL;
    _cleanup_free_ char *name = NULL;
    const char *sp;
    size_t name_len, raw_len = 0;
    uint8_t *sig;
    int r;

    if (len < EM_DASH_LEN + 1 || memcmp(s, EM_DASH " ", EM_DASH_LEN + 1) != 0)
        return -EINVAL;
    s += EM_DASH_LEN + 1;
    len -= EM_DASH_LEN + 1;
    sp = memchr(s, ' ', len);
    if (!sp)
        return -EINVAL;
    name_len = (size_t)(sp - s);
    if (name_len > NOTE_MAX_NAME)
        return -EMSGSIZE;
    if (!note_name_valid(s, name_len))
        return -EINVAL;
    r = b64_decode_strict(sp + 1, len - name_len - 1, NOTE_MAX_SIG, &raw, &raw_len);
    if (r < 0)
        return r;
    if (raw_len > NOTE_MAX_SIG)
        return -EMSGSIZE;
    if (raw_len <= NOTE_KEYID_SIZE)
        return -EINVAL; /* a key ID and at least one signature byte */
    name = strndup(s, name_len);
    sig = malloc(raw_len - NOTE_KEYID_SIZE);
    if (!name || !sig) {
        free(sig);
        return -ENOMEM;
    }
    memcpy(sig, raw + NOTE_KEYID_SIZE, raw_len - NOTE_KEYID_SIZE);
    ret->keyid = be32(raw);
    ret->sig = sig;
    ret->sig_len = raw_len - NOTE_KEYID_SIZE;
    ret->name = TAKE_PTR(name);
    return 0;
}

int note_parse(const char *s, size_t len, struct note **ret)
{
    _cleanup_(note_freep) struct note *n = NULL;
    size_t sep = 0, pos;
    bool found = false;
    int r;

    if (!s || !ret)
        return -EINVAL;
    if (len > NOTE_MAX_SIZE)
        return -EMSGSIZE;
    if (len == 0 || s[len - 1] != '\n' || !note_text_valid(s, len))
        return -EINVAL;
    /* The separator is the last empty line: the last "\n\n", whose first '\n' ends the text.
     * Signature lines are never empty, so it cannot lie inside the signature block. */
    for (size_t i = len - 1; i > 0; i--)
        if (s[i] == '\n' && s[i - 1] == '\n') {
            sep = i - 1;
            found = true;
            break;
        }
    if (!found || sep + 2 >= len)
        return -EINVAL;

    n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->text_len = sep + 1;
    n->text = strndup(s, n->text_len);
    if (!n->text)
        return -ENOMEM;

    for (pos = sep + 2; pos < len;) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t line_len = (size_t)(nl - (s + pos)); /* nl exists: the note ends in '\n' */

        if (n->n_sigs >= NOTE_MAX_SIGNATURES)
            return -EMSGSIZE;
        r = parse_sig_line(s + pos, line_len, &n->sigs[n->n_sigs]);
        if (r < 0)
            return r;
        n->n_sigs++;
        pos += line_len + 1;
    }
    *ret = TAKE_PTR(n);
    return 0;
}

const char *note_text(const struct note *n, size_t *ret_len)
{
    if (!n)
        return NULL;
    if (ret_len)
        *ret_len = n->text_len;
    return n->text;
}

size_t note_n_signatures(const struct note *n)
{
    return n ? n->n_sigs : 0;
}

int note_signature(const struct note *n, size_t i, const char **ret_name, uint32_t *ret_keyid,
                   const uint8_t **ret_sig, size_t *ret_sig_len)
{
    if (!n)
        return -EINVAL;
    if (i >= n->n_sigs)
        return -ERANGE;
    if (ret_name)
        *ret_name = n->sigs[i].name;
    if (ret_keyid)
        *ret_keyid = n->sigs[i].keyid;
    if (ret_sig)
        *ret_sig = n->sigs[i].sig;
    if (ret_sig_len)
        *ret_sig_len = n->sigs[i].sig_len;
    return 0;
}

int note_format_signature(const char *name, uint32_t keyid, const uint8_t *sig, size_t sig_len,
                          char **ret_line, size_t *ret_len)
{
    _cleanup_free_ uint8_t *raw = NULL;
    _cleanup_free_ char *b64 = NULL, *line = NULL;
    size_t name_len, total;
    int r;

    if (!name || !sig || !ret_line)
        return -EINVAL;
    name_len = strlen(name);
    if (name_len > NOTE_MAX_NAME || sig_len > NOTE_MAX_SIG - NOTE_KEYID_SIZE)
        return -EMSGSIZE;
    if (!note_name_valid(name, name_len) || sig_len == 0)
        return -EINVAL;
    raw = malloc(NOTE_KEYID_SIZE + sig_len);
    if (!raw)
        return -ENOMEM;
    put_be32(raw, keyid);
    memcpy(raw + NOTE_KEYID_SIZE, sig, sig_len);
    r = base64_encode(raw, NOTE_KEYID_SIZE + sig_len, &b64);
    if (r < 0)
        return r;
    total = EM_DASH_LEN + 1 + name_len + 1 + strlen(b64) + 1;
    line = malloc(total + 1);
    if (!line)
        return -ENOMEM;
    r = snprintf(line, total + 1, EM_DASH " %s %s\n", name, b64);
    if (r < 0 || (size_t)r != total)
        return -EIO;
    if (ret_len)
        *ret_len = total;
    *ret_line = TAKE_PTR(line);
    return 0;
}

static int sha256_prefix4(const void *a, size_t alen, const void *b, size_t blen, uint32_t *ret)
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t dg[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;

    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        (alen > 0 && EVP_DigestUpdate(ctx, a, alen) != 1) ||
        (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, dg, &dlen) != 1 || dlen != 32)
        return -EIO;
    *ret = be32(dg);
    return 0;
}

int note_key_id(const char *name, uint8_t sigtype, const uint8_t *key, size_t key_len,
                uint32_t *ret)
{
    _cleanup_free_ uint8_t *head = NULL;
    size_t name_len;

    if (!name || !ret || (!key && key_len > 0))
        return -EINVAL;
    name_len = strlen(name);
    if (name_len > NOTE_MAX_NAME || key_len > NOTE_MAX_VKEY_KEY)
        return -EMSGSIZE;
    head = malloc(name_len + 2);
    if (!head)
        return -ENOMEM;
    memcpy(head, name, name_len);
    head[name_len] = '\n';
    head[name_len + 1] = sigtype;
    return sha256_prefix4(head, name_len + 2, key, key_len, ret);
}

int note_key_id_ecdsa(const uint8_t *spki, size_t spki_len, uint32_t *ret)
{
    if (!spki || spki_len == 0 || !ret)
        return -EINVAL;
    if (spki_len > NOTE_MAX_VKEY_KEY)
        return -EMSGSIZE;
    return sha256_prefix4(spki, spki_len, NULL, 0, ret);
}

struct note_vkey *note_vkey_free(struct note_vkey *k)
{
    if (!k)
        return NULL;
    free(k->name);
    free(k->key);
    free(k);
    return NULL;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* lowercase only */
}

int note_vkey_parse(const char *s, size_t len, struct note_vkey **ret)
{
    _cleanup_(note_vkey_freep) struct note_vkey *k = NULL;
    _cleanup_free_ uint8_t *raw = NULL;
    const char *p1, *p2;
    size_t name_len, raw_len = 0;
    uint32_t id = 0;
    int r;

    if (!s || !ret)
        return -EINVAL;
    if (len > NOTE_MAX_NAME + 1 + 8 + 1 + (NOTE_MAX_VKEY_KEY + 2) / 3 * 4)
        return -EMSGSIZE;
    p1 = memchr(s, '+', len);
    if (!p1)
        return -EINVAL;
    name_len = (size_t)(p1 - s);
    if (!note_name_valid(s, name_len))
        return -EINVAL;
    if ((size_t)(s + len - (p1 + 1)) < 9 || p1[9] != '+')
        return -EINVAL;
    for (size_t i = 1; i <= 8; i++) {
        int v = hex_nibble(p1[i]);
        if (v < 0)
            return -EINVAL;
        id = id << 4 | (uint32_t)v;
    }
    p2 = p1 + 9;
    r = b64_decode_strict(p2 + 1, (size_t)(s + len - (p2 + 1)), NOTE_MAX_VKEY_KEY, &raw, &raw_len);
    if (r < 0)
        return r;
    if (raw_len > NOTE_MAX_VKEY_KEY)
        return -EMSGSIZE;
    if (raw_len < 2)
        return -EINVAL;

    k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->name = strndup(s, name_len);
    k->key = malloc(raw_len - 1);
    if (!k->name || !k->key)
        return -ENOMEM;
    memcpy(k->key, raw + 1, raw_len - 1);
    k->key_len = raw_len - 1;
    k->sigtype = raw[0];
    k->keyid = id;
    *ret = TAKE_PTR(k);
    return 0;
}

int note_vkey_format(const char *name, uint32_t keyid, uint8_t sigtype, const uint8_t *key,
                     size_t key_len, char **ret)
{
    _cleanup_free_ uint8_t *raw = NULL;
    _cleanup_free_ char *b64 = NULL, *out = NULL;
    size_t name_len, total;
    int r;

    if (!name || !key || !ret)
        return -EINVAL;
    name_len = strlen(name);
    if (name_len > NOTE_MAX_NAME || key_len + 1 > NOTE_MAX_VKEY_KEY)
        return -EMSGSIZE;
    if (!note_name_valid(name, name_len) || key_len == 0)
        return -EINVAL;
    raw = malloc(key_len + 1);
    if (!raw)
        return -ENOMEM;
    raw[0] = sigtype;
    memcpy(raw + 1, key, key_len);
    r = base64_encode(raw, key_len + 1, &b64);
    if (r < 0)
        return r;
    total = name_len + 1 + 8 + 1 + strlen(b64);
    out = malloc(total + 1);
    if (!out)
        return -ENOMEM;
    r = snprintf(out, total + 1, "%s+%08x+%s", name, keyid, b64);
    if (r < 0 || (size_t)r != total)
        return -EIO;
    *ret = TAKE_PTR(out);
    return 0;
}

/* 1 valid, 0 invalid, -EOPNOTSUPP / -ENOMEM / -EIO. */
static int verify_one(EVP_PKEY *pkey, const char *text, size_t text_len, const uint8_t *sig,
                      size_t sig_len)
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    const EVP_MD *md;

    if (EVP_PKEY_is_a(pkey, "ED25519"))
        md = NULL; /* PureEdDSA over the text itself */
    else if (EVP_PKEY_is_a(pkey, "EC"))
        md = EVP_sha256(); /* DER ECDSA over SHA-256(text) */
    else
        return -EOPNOTSUPP;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1)
        return -EIO;
    /* 1 is valid; 0 is a wrong signature and negative a malformed one: both invalid. */
    return EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *)text, text_len) == 1 ? 1 : 0;
}

int note_verify(const struct note *n, const struct note_verifier *keys, size_t n_keys,
                bool *ret_verified)
{
    _cleanup_free_ bool *ok = NULL;
    size_t count = 0;
    int r;

    if (!n || (!keys && n_keys > 0))
        return -EINVAL;
    for (size_t j = 0; j < n_keys; j++)
        if (!keys[j].name || !keys[j].pkey)
            return -EINVAL;
    ok = calloc(n_keys ? n_keys : 1, sizeof(bool));
    if (!ok)
        return -ENOMEM;

    for (size_t i = 0; i < n->n_sigs; i++) {
        const struct note_sig *s = &n->sigs[i];

        for (size_t j = 0; j < n_keys; j++) {
            if (s->keyid != keys[j].keyid || !streq(s->name, keys[j].name))
                continue;
            r = verify_one(keys[j].pkey, n->text, n->text_len, s->sig, s->sig_len);
            if (r < 0)
                return r;
            if (r == 0)
                return -EBADMSG;
            if (!ok[j])
                count++;
            ok[j] = true;
        }
    }
    if (count == 0)
        return -ENOKEY;
    if (ret_verified)
        memcpy(ret_verified, ok, n_keys * sizeof(bool));
    return (int)MIN(count, (size_t)INT32_MAX);
}
