/* SPDX-License-Identifier: Apache-2.0 */
#include "intoto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <json-c/linkhash.h>

#include "format.h"
#include "json.h"
#include "macro.h"

struct intoto_subject_entry {
    const char *name;              /* borrowed from root */
    const struct json_object *set; /* the DigestSet, borrowed from root */
    uint8_t sha256[32];
};

struct intoto_statement {
    struct json_object *root; /* owns every borrowed string below */
    struct intoto_subject_entry *subjects;
    size_t n_subjects;
    const char *predicate_type;
    char *predicate;
};

/* Known DigestSet algorithms and their hex lengths (in-toto digest_set.md). */
static const struct {
    const char *name;
    size_t hex_len;
    size_t alt_hex_len; /* git objects may be SHA-1 or SHA-256 */
} known_algs[] = {
        {"sha224", 56, 0},     {"sha256", 64, 0},     {"sha384", 96, 0},     {"sha512", 128, 0},
        {"sha512_224", 56, 0}, {"sha512_256", 64, 0}, {"sha3_224", 56, 0},   {"sha3_256", 64, 0},
        {"sha3_384", 96, 0},   {"sha3_512", 128, 0},  {"gitCommit", 40, 64}, {"gitTree", 40, 64},
        {"gitBlob", 40, 64},   {"gitTag", 40, 64},
};

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* TypeURI check described in intoto.h. */
static int check_type_uri(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0)
        return -EINVAL;
    if (n > INTOTO_MAX_TYPE_URI)
        return -EMSGSIZE;
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)s[k] <= 0x20 || s[k] == 0x7f)
            return -EINVAL;
    if (!is_alpha(s[0]))
        return -EINVAL;
    for (; i < n && s[i] != ':'; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return -EINVAL; /* includes upper-case scheme letters */
    }
    if (i == n)
        return -EINVAL;
    if (n - i >= 3 && s[i + 1] == '/' && s[i + 2] == '/')
        for (i += 3; i < n && s[i] != '/' && s[i] != '?' && s[i] != '#'; i++)
            if (s[i] >= 'A' && s[i] <= 'Z')
                return -EINVAL;
    return 0;
}

static int check_name(const char *s, size_t n)
{
    if (n == 0)
        return -EINVAL;
    if (n > INTOTO_MAX_NAME)
        return -EMSGSIZE;
    return 0;
}

static const struct fjson_field statement_fields[] = {
        {"_type", FJSON_STRING, true},
        {"subject", FJSON_ARRAY, true},
        {"predicateType", FJSON_STRING, true},
        {"predicate", FJSON_OBJECT, false},
};

static const struct fjson_field descriptor_fields[] = {
        {"name", FJSON_STRING, true},
        {"digest", FJSON_OBJECT, true},
        {"uri", FJSON_STRING, false},
        {"content", FJSON_STRING, false},
        {"downloadLocation", FJSON_STRING, false},
        {"mediaType", FJSON_STRING, false},
        {"annotations", FJSON_OBJECT, false},
};

int intoto_digest_value_check(const char *alg, const char *v, size_t vlen)
{
    if (vlen == 0)
        return -EINVAL;
    if (vlen > INTOTO_MAX_DIGEST_TEXT)
        return -EMSGSIZE;
    for (size_t k = 0; k < ELEMENTSOF(known_algs); k++) {
        if (!streq(alg, known_algs[k].name))
            continue;
        if ((vlen != known_algs[k].hex_len && vlen != known_algs[k].alt_hex_len) ||
            !is_lower_hex(v, vlen))
            return -EINVAL;
    }
    return 0;
}

static int parse_digest_set(const struct json_object *set, uint8_t ret_sha256[static 32])
{
    size_t n = 0;
    bool have_sha256 = false;
    int r;

    json_object_object_foreach(set, alg, val)
    {
        size_t alen = strlen(alg), vlen;
        const char *v;

        if (++n > INTOTO_MAX_DIGESTS || alen > INTOTO_MAX_DIGEST_ALG)
            return -EMSGSIZE;
        if (alen == 0 || !json_object_is_type(val, json_type_string))
            return -EINVAL;
        v = json_object_get_string(val);
        vlen = (size_t)json_object_get_string_len(val);
        if (vlen == 0 || strlen(v) != vlen)
            return -EINVAL;
        r = intoto_digest_value_check(alg, v, vlen);
        if (r < 0)
            return r;
        if (streq(alg, "sha256")) {
            _cleanup_free_ uint8_t *raw = NULL;
            size_t raw_len = 0;
            if (hex_decode(v, vlen, &raw, &raw_len) < 0 || raw_len != 32)
                return -EINVAL;
            memcpy(ret_sha256, raw, 32);
            have_sha256 = true;
        }
    }
    return have_sha256 ? 0 : -EINVAL;
}

struct intoto_statement *intoto_statement_free(struct intoto_statement *st)
{
    if (!st)
        return NULL;
    free(st->subjects);
    free(st->predicate);
    if (st->root)
        json_object_put(st->root);
    free(st);
    return NULL;
}

void intoto_statement_freep(struct intoto_statement **st)
{
    *st = intoto_statement_free(*st);
}

int intoto_statement_parse(const uint8_t *data, size_t len, struct intoto_statement **ret)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    struct json_object *arr = NULL, *pred = NULL;
    const char *s;
    size_t n = 0, slen = 0;
    int r;

    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    r = fjson_parse_object((const char *)data, len, INTOTO_MAX_STATEMENT, &st->root);
    if (r < 0)
        return r;
    r = fjson_check_fields(st->root, statement_fields, ELEMENTSOF(statement_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = fjson_get_string(st->root, "_type", strlen(INTOTO_STATEMENT_TYPE), &s, NULL);
    if (r < 0 || !streq(s, INTOTO_STATEMENT_TYPE))
        return -EINVAL;
    r = fjson_get_string(st->root, "predicateType", INTOTO_MAX_TYPE_URI, &s, &slen);
    if (r < 0)
        return r;
    r = check_type_uri(s, slen);
    if (r < 0)
        return r;
    st->predicate_type = s;

    r = fjson_get_array(st->root, "subject", INTOTO_MAX_SUBJECTS, &arr, &n);
    if (r < 0)
        return r;
    if (n == 0)
        return -EINVAL;
    st->subjects = calloc(n, sizeof(*st->subjects));
    if (!st->subjects)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(arr, i), *set = NULL;
        struct intoto_subject_entry *e = &st->subjects[i];

        r = fjson_check_fields(d, descriptor_fields, ELEMENTSOF(descriptor_fields),
                               FJSON_UNKNOWN_IGNORE);
        if (r < 0)
            return r;
        r = fjson_get_string(d, "name", INTOTO_MAX_NAME, &e->name, &slen);
        if (r < 0)
            return r;
        r = check_name(e->name, slen);
        if (r < 0)
            return r;
        r = fjson_get_object(d, "digest", &set);
        if (r < 0)
            return r;
        r = parse_digest_set(set, e->sha256);
        if (r < 0)
            return r;
        e->set = set;
    }
    st->n_subjects = n;

    r = fjson_get_object(st->root, "predicate", &pred);
    if (r == -ENOENT) {
        st->predicate = strdup("{}");
        if (!st->predicate)
            return -ENOMEM;
    } else if (r < 0) {
        return r;
    } else {
        r = fjson_serialize(pred, &st->predicate, NULL);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(st);
    return 0;
}

int intoto_statement_build(const struct intoto_subject *subjects, size_t n_subjects,
                           const char *predicate_type, const char *predicate_json,
                           size_t predicate_len, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL, *pred = NULL;
    _cleanup_(intoto_statement_freep) struct intoto_statement *check = NULL;
    _cleanup_free_ char *out = NULL;
    struct json_object *arr;
    size_t out_len = 0;
    int r;

    if (!subjects || n_subjects == 0 || !predicate_type)
        return -EINVAL;
    if (n_subjects > INTOTO_MAX_SUBJECTS)
        return -EMSGSIZE;
    r = check_type_uri(predicate_type, strlen(predicate_type));
    if (r < 0)
        return r;
    if (predicate_json)
        r = fjson_parse_object(predicate_json, predicate_len, INTOTO_MAX_STATEMENT, &pred);
    else
        r = (pred = json_object_new_object()) ? 0 : -ENOMEM;
    if (r < 0)
        return r;

    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    r = fjson_add_string(root, "_type", INTOTO_STATEMENT_TYPE, strlen(INTOTO_STATEMENT_TYPE));
    if (r < 0)
        return r;
    arr = json_object_new_array();
    r = fjson_add(root, "subject", arr);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n_subjects; i++) {
        _cleanup_free_ char *hex = NULL;
        struct json_object *d, *set;

        if (!subjects[i].name)
            return -EINVAL;
        r = check_name(subjects[i].name, strlen(subjects[i].name));
        if (r < 0)
            return r;
        r = hex_encode(subjects[i].sha256, sizeof(subjects[i].sha256), &hex);
        if (r < 0)
            return r;
        d = json_object_new_object();
        r = fjson_append(arr, d);
        if (r < 0)
            return r;
        r = fjson_add_string(d, "name", subjects[i].name, strlen(subjects[i].name));
        if (r < 0)
            return r;
        set = json_object_new_object();
        r = fjson_add(d, "digest", set);
        if (r < 0)
            return r;
        r = fjson_add_string(set, "sha256", hex, strlen(hex));
        if (r < 0)
            return r;
    }
    r = fjson_add_string(root, "predicateType", predicate_type, strlen(predicate_type));
    if (r < 0)
        return r;
    r = fjson_add(root, "predicate", TAKE_PTR(pred));
    if (r < 0)
        return r;
    r = fjson_serialize(root, &out, &out_len);
    if (r < 0)
        return r;
    if (out_len > INTOTO_MAX_STATEMENT)
        return -EMSGSIZE;
    /* Names are caller text: prove the result is a statement we would accept. */
    r = intoto_statement_parse((const uint8_t *)out, out_len, &check);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(out);
    *ret_len = out_len;
    return 0;
}

size_t intoto_statement_subject_count(const struct intoto_statement *st)
{
    return st->n_subjects;
}

const char *intoto_statement_subject_name(const struct intoto_statement *st, size_t i)
{
    return i < st->n_subjects ? st->subjects[i].name : NULL;
}

const uint8_t *intoto_statement_subject_sha256(const struct intoto_statement *st, size_t i)
{
    return i < st->n_subjects ? st->subjects[i].sha256 : NULL;
}

const char *intoto_statement_subject_digest(const struct intoto_statement *st, size_t i,
                                            const char *alg)
{
    const char *s = NULL;

    if (i >= st->n_subjects || !alg)
        return NULL;
    if (fjson_get_string(st->subjects[i].set, alg, INTOTO_MAX_DIGEST_TEXT, &s, NULL) < 0)
        return NULL;
    return s;
}

const char *intoto_statement_predicate_type(const struct intoto_statement *st)
{
    return st->predicate_type;
}

const char *intoto_statement_predicate(const struct intoto_statement *st)
{
    return st->predicate;
}

int intoto_statement_find_sha256(const struct intoto_statement *st, const uint8_t digest[static 32],
                                 size_t *ret_index)
{
    for (size_t i = 0; i < st->n_subjects; i++) {
        if (memcmp(st->subjects[i].sha256, digest, 32) == 0) {
            if (ret_index)
                *ret_index = i;
            return 0;
        }
    }
    return -ENOENT;
}

int intoto_type_uri_check(const char *s, size_t len)
{
    if (!s)
        return -EINVAL;
    return check_type_uri(s, len);
}
