/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin json-c helpers for the signed formats: strict parsing of a bounded buffer, typed getters,
 * table-driven field checks and deterministic serialisation. Pure functions: no I/O, no logging.
 *
 * The prefix is fjson_ because json-c owns json_*.
 *
 * Strict parsing means RFC 8259 JSON and nothing else, although json-c's own "strict" mode
 * still takes single-quoted strings, NaN/Infinity and raw control characters in strings. On top
 * of json-c (JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, depth FORMAT_MAX_JSON_DEPTH) a
 * second pass over the accepted text refuses:
 *   - NUL bytes anywhere, a UTF-8 byte order mark or any invalid UTF-8;
 *   - literals other than true/false/null, and single quotes outside strings;
 *   - control characters (< 0x20) inside strings, the escape \u0000 (json-c keeps object keys
 *     as C strings, so an embedded NUL would silently truncate them), and unpaired UTF-16
 *     surrogate escapes (json-c would turn them into U+FFFD);
 *   - duplicate object keys. json-c keeps the last value and offers no hook, so the pass counts
 *     the ':' separators outside strings (exactly one per object member in valid JSON) and
 *     compares with the members left in the parsed tree: any difference is a duplicate.
 *   - trailing data other than JSON whitespace.
 * Numbers are left to json-c: out-of-range integers saturate and doubles keep their original
 * text on serialisation. No signed format here uses numbers.
 *
 * Errors: -EINVAL malformed, -EMSGSIZE over a limit, -ENOMEM. Outputs are written only on
 * success. Borrowed pointers (getters) stay valid while the object they came from lives.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Type expected of a field. FJSON_ANY accepts every type except null. */
enum fjson_type {
    FJSON_STRING = 1,
    FJSON_OBJECT,
    FJSON_ARRAY,
    FJSON_BOOLEAN,
    FJSON_ANY,
};

/* What fjson_check_fields does with a member not named in the table. */
enum fjson_unknown {
    FJSON_UNKNOWN_IGNORE = 0, /* DSSE and in-toto: "unknown fields must be ignored" */
    FJSON_UNKNOWN_REJECT = 1, /* protobuf-JSON messages (Sigstore bundle), as protojson does */
};

struct fjson_field {
    const char *name;
    enum fjson_type type;
    bool required;
};

/*
 * Parse data[0..len) (not NUL-terminated) strictly as described above; the root must be an
 * object. len > max_len is -EMSGSIZE before any parsing, and so is a text whose tree would
 * take json-c more than FORMAT_MAX_JSON_COST bytes (estimated from a scan of the text). *ret
 * gets a new reference (json_object_put it).
 */
int fjson_parse_object(const char *data, size_t len, size_t max_len, struct json_object **ret);

/*
 * Check obj (must be an object, else -EINVAL) against a table: each named field, when present,
 * has the given type (null counts as wrong type); required fields are present; members not in
 * the table are -EINVAL under FJSON_UNKNOWN_REJECT. 0 if all hold.
 */
int fjson_check_fields(const struct json_object *obj, const struct fjson_field *fields,
                       size_t n_fields, enum fjson_unknown unknown);

/*
 * obj[key] as a string of at most max_len bytes. -ENOENT absent, -EINVAL not a string (or it
 * holds a NUL byte), -EMSGSIZE longer. *ret is borrowed and NUL-terminated.
 */
int fjson_get_string(const struct json_object *obj, const char *key, size_t max_len,
                     const char **ret, size_t *ret_len);
/* obj[key] as an object (borrowed). -ENOENT absent, -EINVAL another type. */
int fjson_get_object(const struct json_object *obj, const char *key, struct json_object **ret);
/* obj[key] as an array of at most max_items (borrowed). -ENOENT, -EINVAL, -EMSGSIZE. */
int fjson_get_array(const struct json_object *obj, const char *key, size_t max_items,
                    struct json_object **ret, size_t *ret_n);
/*
 * obj[key] as base64 bytes (see fjson_base64_decode), at most max_len decoded bytes. The result
 * is malloc'd (never NULL, even when empty). -ENOENT, -EINVAL, -EMSGSIZE, -ENOMEM.
 */
int fjson_get_bytes(const struct json_object *obj, const char *key, size_t max_len, uint8_t **ret,
                    size_t *ret_len);

/*
 * Decode base64 as DSSE verifiers and protobuf-JSON parsers must accept it: the standard
 * ("+/") or the URL-safe ("-_") alphabet, not mixed, with or without "=" padding. No
 * whitespace; non-zero trailing bits are -EINVAL. The result is malloc'd (never NULL).
 */
int fjson_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);

/* Serialise with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE into a new buffer
 * (NUL-terminated; *ret_len excludes the NUL). Key order is insertion order. */
int fjson_serialize(struct json_object *obj, char **ret, size_t *ret_len);

/*
 * Building helpers. Each consumes val (or the value it creates) even on failure, so callers
 * never leak: 0 or -ENOMEM (-EINVAL if obj is not an object/array).
 */
int fjson_add(struct json_object *obj, const char *key, struct json_object *val);
int fjson_add_string(struct json_object *obj, const char *key, const char *s, size_t len);
int fjson_add_base64(struct json_object *obj, const char *key, const uint8_t *data, size_t len);
int fjson_append(struct json_object *array, struct json_object *val);

/* For _cleanup_: json_object_put when non-NULL. */
void fjson_putp(struct json_object **p);
