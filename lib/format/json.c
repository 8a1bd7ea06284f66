/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <json-c/json_tokener.h>
#include <json-c/linkhash.h>

#include "format-limits.h"
#include "format.h"
#include "macro.h"

void fjson_putp(struct json_object **p)
{
    if (*p)
        json_object_put(*p);
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex4(const char *s, size_t len, size_t i, unsigned *ret)
{
    unsigned v = 0;

    if (i > len || len - i < 4)
        return -EINVAL;
    for (size_t k = 0; k < 4; k++) {
        char c = s[i + k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
    }
    *ret = v;
    return 0;
}

/* What a text will cost json-c to hold as a tree (FORMAT_MAX_JSON_COST). */
struct scan_counts {
    size_t members; /* ':' outside strings */
    size_t objects, arrays, scalars;
};

/*
 * The bytes json-c allocates for a parsed text, from its counts and length (measured with
 * json-c 0.16 on x86-64: an empty object 792 bytes, an array 152, a string or number 72-88, a
 * member ~96 besides its value; a model-signing resource of three members 1192), rounded up.
 * Saturates instead of overflowing.
 */
static size_t parse_cost(const struct scan_counts *n, size_t len)
{
    const size_t w[] = {JSON_COST_OBJECT, JSON_COST_ARRAY, JSON_COST_SCALAR};
    const size_t k[] = {n->objects, n->arrays, n->scalars};
    size_t cost = len;

    for (size_t i = 0; i < ELEMENTSOF(w); i++) {
        if (k[i] > (SIZE_MAX - cost) / w[i])
            return SIZE_MAX;
        cost += k[i] * w[i];
    }
    return cost;
}

/*
 * A pass over the text before json-c parses it (see json.h): checks what json-c's strict mode
 * lets through (escapes, surrogates, literals) and counts members, containers and scalars.
 * Safe on any input: every index is bounds-checked.
 */
static int strict_scan(const char *s, size_t len, struct scan_counts *ret)
{
    struct scan_counts n = {0};
    size_t members = 0, i = 0;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"') {
            n.scalars++; /* a key counts too: it stands for its member's entry */
            for (i++;; i++) {
                if (i >= len)
                    return -EINVAL;
                c = (unsigned char)s[i];
                if (c == '"')
                    break;
                if (c < 0x20)
                    return -EINVAL;
                if (c != '\\')
                    continue;
                if (++i >= len)
                    return -EINVAL;
                if (s[i] != 'u')
                    continue;
                unsigned u, lo;
                if (hex4(s, len, i + 1, &u) < 0 || u == 0)
                    return -EINVAL;
                i += 4;
                if (u >= 0xdc00 && u <= 0xdfff)
                    return -EINVAL; /* low surrogate without a high one */
                if (u >= 0xd800 && u <= 0xdbff) {
                    if (i + 2 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                        hex4(s, len, i + 3, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                        return -EINVAL;
                    i += 6;
                }
            }
            i++;
        } else if (c == ':') {
            members++;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            n.scalars++;
            while (i < len && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' ||
                               s[i] == 'E' || (s[i] >= '0' && s[i] <= '9')))
                i++;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t start = i, k;
            while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
                i++;
            k = i - start;
            if (!((k == 4 && memcmp(s + start, "true", 4) == 0) ||
                  (k == 5 && memcmp(s + start, "false", 5) == 0) ||
                  (k == 4 && memcmp(s + start, "null", 4) == 0)))
                return -EINVAL;
            n.scalars++;
        } else if (c == '{') {
            n.objects++;
            i++;
        } else if (c == '[') {
            n.arrays++;
            i++;
        } else if (c == '}' || c == ']' || c == ',' || is_json_space((char)c)) {
            i++;
        } else {
            return -EINVAL; /* quotes other than '"', NUL, stray bytes */
        }
    }
    n.members = members;
    *ret = n;
    return 0;
}

/* Members of every object in the tree; depth is bounded by the tokener's depth limit. */
static size_t count_members(const struct json_object *o)
{
    size_t n = 0;

    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            n += 1 + count_members(val);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t k = json_object_array_length(o);
        for (size_t i = 0; i < k; i++)
            n += count_members(json_object_array_get_idx(o, i));
    }
    return n;
}

int fjson_parse_object(const char *data, size_t len, size_t max_len, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    struct scan_counts counts;
    struct json_tokener *tok;
    size_t end;

    if (!data && len > 0)
        return -EINVAL;
    if (len > max_len || len > INT_MAX - 1)
        return -EMSGSIZE;
    if (len == 0 || memchr(data, '\0', len))
        return -EINVAL;
    /* Before json-c builds anything: a few bytes of text can cost it hundreds in memory. */
    if (strict_scan(data, len, &counts) < 0)
        return -EINVAL;
    if (parse_cost(&counts, len) > FORMAT_MAX_JSON_COST)
        return -EMSGSIZE;

    tok = json_tokener_new_ex((int)FORMAT_MAX_JSON_DEPTH);
    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, data, (int)len);
    end = json_tokener_get_parse_end(tok);
    if (json_tokener_get_error(tok) != json_tokener_success)
        root = (json_object_put(root), NULL);
    json_tokener_free(tok);
    if (!root || !json_object_is_type(root, json_type_object))
        return -EINVAL;
    for (; end < len; end++)
        if (!is_json_space(data[end]))
            return -EINVAL;
    if (counts.members != count_members(root))
        return -EINVAL;

    *ret = TAKE_PTR(root);
    return 0;
}

static bool type_ok(const struct json_object *v, enum fjson_type t)
{
    switch (t) {
    case FJSON_STRING:
        return json_object_is_type(v, json_type_string);
    case FJSON_OBJECT:
        return json_object_is_type(v, json_type_object);
    case FJSON_ARRAY:
        return json_object_is_type(v, json_type_array);
    case FJSON_BOOLEAN:
        return json_object_is_type(v, json_type_boolean);
    case FJSON_ANY:
        return v != NULL;
    }
    return false;
}

int fjson_check_fields(const struct json_object *obj, const struct fjson_field *fields,
                       size_t n_fields, enum fjson_unknown unknown)
{
    if (!json_object_is_type(obj, json_type_object))
        return -EINVAL;
    for (size_t i = 0; i < n_fields; i++) {
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(obj, fields[i].name, &v)) {
            if (fields[i].required)
                return -EINVAL;
            continue;
        }
        if (!type_ok(v, fields[i].type))
            return -EINVAL;
    }
    if (unknown == FJSON_UNKNOWN_IGNORE)
        return 0;
    json_object_object_foreach(obj, key, val)
    {
        bool known = false;
        (void)val;
        for (size_t i = 0; i < n_fields && !known; i++)
            known = streq(key, fields[i].name);
        if (!known)
            return -EINVAL;
    }
    return 0;
}

int fjson_get_string(const struct json_object *obj, const char *key, size_t max_len,
                     const char **ret, size_t *ret_len)
{
    struct json_object *v = NULL;
    const char *s;
    size_t n;

    if (!json_object_object_get_ex(obj, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_string))
        return -EINVAL;
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (!s || strlen(s) != n)
        return -EINVAL;
    if (n > max_len)
        return -EMSGSIZE;
    *ret = s;
    if (ret_len)
        *ret_len = n;
    return 0;
}

int fjson_get_object(const struct json_object *obj, const char *key, struct json_object **ret)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(obj, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_object))
        return -EINVAL;
    *ret = v;
    return 0;
}

int fjson_get_array(const struct json_object *obj, const char *key, size_t max_items,
                    struct json_object **ret, size_t *ret_n)
{
    struct json_object *v = NULL;
    size_t n;

    if (!json_object_object_get_ex(obj, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_array))
        return -EINVAL;
    n = json_object_array_length(v);
    if (n > max_items)
        return -EMSGSIZE;
    *ret = v;
    *ret_n = n;
    return 0;
}

int fjson_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len)
{
    _cleanup_free_ char *std = NULL;
    bool url = false, plain = false;
    size_t data_len = len, padded;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int r;

    if (!s && len > 0)
        return -EINVAL;
    /* Padding, if any, is one or two '=' making a multiple of four. */
    while (data_len > 0 && s[data_len - 1] == '=')
        data_len--;
    if (data_len != len && (len - data_len > 2 || len % 4 != 0))
        return -EINVAL;
    if (data_len % 4 == 1)
        return -EINVAL;
    if (!size_add(data_len, 3, &padded))
        return -EMSGSIZE;
    padded &= ~(size_t)3;
    std = malloc(padded + 1);
    if (!std)
        return -ENOMEM;
    for (size_t i = 0; i < data_len; i++) {
        char c = s[i];
        if (c == '-' || c == '_') {
            url = true;
            c = c == '-' ? '+' : '/';
        } else if (c == '+' || c == '/') {
            plain = true;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return -EINVAL; /* includes whitespace and '=' inside the data */
        }
        std[i] = c;
    }
    if (url && plain)
        return -EINVAL;
    for (size_t i = data_len; i < padded; i++)
        std[i] = '=';
    r = base64_decode(std, padded, &out, &out_len);
    if (r < 0)
        return r;
    *ret = out;
    *ret_len = out_len;
    return 0;
}

int fjson_get_bytes(const struct json_object *obj, const char *key, size_t max_len, uint8_t **ret,
                    size_t *ret_len)
{
    const char *s;
    size_t n, max_text;
    int r;

    /* Bound the text before decoding: 4 characters per 3 bytes, rounded up. */
    max_text = max_len / 3 * 4 + 4;
    r = fjson_get_string(obj, key, max_text, &s, &n);
    if (r < 0)
        return r;
    uint8_t *d = NULL;
    size_t dn = 0;
    r = fjson_base64_decode(s, n, &d, &dn);
    if (r < 0)
        return r;
    if (dn > max_len) {
        free(d);
        return -EMSGSIZE;
    }
    *ret = d;
    *ret_len = dn;
    return 0;
}

int fjson_serialize(struct json_object *obj, char **ret, size_t *ret_len)
{
    const char *s;
    size_t n = 0;
    char *copy;

    s = json_object_to_json_string_length(
            obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!s)
        return -ENOMEM;
    copy = malloc(n + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *ret = copy;
    if (ret_len)
        *ret_len = n;
    return 0;
}

int fjson_add(struct json_object *obj, const char *key, struct json_object *val)
{
    if (!val)
        return -ENOMEM;
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(val);
        return -EINVAL;
    }
    if (json_object_object_add(obj, key, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

int fjson_append(struct json_object *array, struct json_object *val)
{
    if (!val)
        return -ENOMEM;
    if (!json_object_is_type(array, json_type_array)) {
        json_object_put(val);
        return -EINVAL;
    }
    if (json_object_array_add(array, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

int fjson_add_string(struct json_object *obj, const char *key, const char *s, size_t len)
{
    if (len > INT_MAX)
        return -EMSGSIZE;
    return fjson_add(obj, key, json_object_new_string_len(s, (int)len));
}

int fjson_add_base64(struct json_object *obj, const char *key, const uint8_t *data, size_t len)
{
    _cleanup_free_ char *b64 = NULL;
    int r;

    r = base64_encode(data, len, &b64);
    if (r < 0)
        return r;
    return fjson_add_string(obj, key, b64, strlen(b64));
}
