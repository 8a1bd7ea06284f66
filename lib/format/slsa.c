/* SPDX-License-Identifier: Apache-2.0 */
#include "slsa.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <json-c/linkhash.h>

#include "intoto.h"
#include "json.h"
#include "macro.h"

struct slsa_provenance {
    struct json_object *root; /* owns every borrowed string below */
    const char *build_type;
    const char *builder_id;
    char *external_parameters;
    char *internal_parameters;
    struct slsa_dependency *deps;
    size_t n_deps;
    const char *invocation_id;
    const char *started_on;
    const char *finished_on;
    size_t n_byproducts;
};

static const struct fjson_field predicate_fields[] = {
        {"buildDefinition", FJSON_OBJECT, true},
        {"runDetails", FJSON_OBJECT, true},
};

static const struct fjson_field build_definition_fields[] = {
        {"buildType", FJSON_STRING, true},
        {"externalParameters", FJSON_OBJECT, true},
        {"internalParameters", FJSON_OBJECT, false},
        {"resolvedDependencies", FJSON_ARRAY, false},
};

static const struct fjson_field run_details_fields[] = {
        {"builder", FJSON_OBJECT, true},
        {"metadata", FJSON_OBJECT, false},
        {"byproducts", FJSON_ARRAY, false},
};

static const struct fjson_field builder_fields[] = {
        {"id", FJSON_STRING, true},
        {"version", FJSON_OBJECT, false},
        {"builderDependencies", FJSON_ARRAY, false},
};

static const struct fjson_field metadata_fields[] = {
        {"invocationId", FJSON_STRING, false},
        {"startedOn", FJSON_STRING, false},
        {"finishedOn", FJSON_STRING, false},
};

static const struct fjson_field descriptor_fields[] = {
        {"name", FJSON_STRING, false},
        {"uri", FJSON_STRING, false},
        {"digest", FJSON_OBJECT, false},
        {"content", FJSON_STRING, false},
        {"downloadLocation", FJSON_STRING, false},
        {"mediaType", FJSON_STRING, false},
        {"annotations", FJSON_OBJECT, false},
};

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static unsigned digits_value(const char *s, size_t n)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int slsa_timestamp_parse(const char *s, size_t len, int64_t *ret_unix)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned year, mon, day, hour, min, sec, dim;
    size_t frac = 0;

    /* YYYY-MM-DDTHH:MM:SS = 19 bytes, then optional .f{1,9}, then Z. */
    if (!s || len < 20 || len > SLSA_TIMESTAMP_MAX_LEN)
        return -EINVAL;
    if (!is_digits(s, 4) || s[4] != '-' || !is_digits(s + 5, 2) || s[7] != '-' ||
        !is_digits(s + 8, 2) || s[10] != 'T' || !is_digits(s + 11, 2) || s[13] != ':' ||
        !is_digits(s + 14, 2) || s[16] != ':' || !is_digits(s + 17, 2))
        return -EINVAL;
    if (s[19] == '.') {
        frac = len - 21; /* between '.' and 'Z' */
        if (len < 22 || frac > 9 || !is_digits(s + 20, frac))
            return -EINVAL;
    } else if (len != 20) {
        return -EINVAL;
    }
    if (s[len - 1] != 'Z')
        return -EINVAL;

    year = digits_value(s, 4);
    mon = digits_value(s + 5, 2);
    day = digits_value(s + 8, 2);
    hour = digits_value(s + 11, 2);
    min = digits_value(s + 14, 2);
    sec = digits_value(s + 17, 2);
    if (year < 1 || mon < 1 || mon > 12 || day < 1)
        return -EINVAL;
    dim = mdays[mon - 1];
    if (mon == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        dim = 29;
    if (day > dim || hour > 23 || min > 59 || sec > 59) /* no leap second, as protobuf */
        return -EINVAL;
    if (ret_unix)
        *ret_unix = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    return 0;
}

static int check_uri(const char *s, size_t n)
{
    if (n > SLSA_MAX_URI)
        return -EMSGSIZE;
    return intoto_type_uri_check(s, n);
}

static int check_digest_set(const struct json_object *set)
{
    size_t n = 0;
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
        if (strlen(v) != vlen)
            return -EINVAL;
        r = intoto_digest_value_check(alg, v, vlen);
        if (r < 0)
            return r;
    }
    return n > 0 ? 0 : -EINVAL;
}

/* A string field that may be absent: 0 (*ret NULL when absent), -EINVAL or -EMSGSIZE. */
static int get_optional_string(const struct json_object *obj, const char *key, size_t max_len,
                               const char **ret, size_t *ret_len)
{
    int r = fjson_get_string(obj, key, max_len, ret, ret_len);

    if (r == -ENOENT) {
        *ret = NULL;
        if (ret_len)
            *ret_len = 0;
        return 0;
    }
    return r;
}

/* One ResourceDescriptor; fills *ret (borrowed pointers) for the accessors. */
static int parse_descriptor(const struct json_object *d, struct slsa_dependency *ret)
{
    static const char *const texts[] = {"downloadLocation", "mediaType"};
    struct slsa_dependency dep = {};
    struct json_object *set = NULL;
    const char *s;
    size_t n;
    int r;

    if (!json_object_is_type(d, json_type_object))
        return -EINVAL;
    r = fjson_check_fields(d, descriptor_fields, ELEMENTSOF(descriptor_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = get_optional_string(d, "name", SLSA_MAX_NAME, &dep.name, NULL);
    if (r < 0)
        return r;
    r = get_optional_string(d, "uri", SLSA_MAX_URI, &dep.uri, &n);
    if (r < 0)
        return r;
    if (dep.uri) {
        r = check_uri(dep.uri, n);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
        r = get_optional_string(d, texts[i], SLSA_MAX_TEXT, &s, NULL);
        if (r < 0)
            return r;
    }
    r = fjson_get_object(d, "digest", &set);
    if (r == 0) {
        r = check_digest_set(set);
        if (r < 0)
            return r;
        (void)get_optional_string(set, "sha256", INTOTO_MAX_DIGEST_TEXT, &dep.sha256, NULL);
        (void)get_optional_string(set, "gitCommit", INTOTO_MAX_DIGEST_TEXT, &dep.git_commit, NULL);
    } else if (r != -ENOENT) {
        return r;
    }
    if (json_object_object_get_ex(d, "content", NULL)) {
        _cleanup_free_ uint8_t *content = NULL;
        r = fjson_get_bytes(d, "content", SLSA_MAX_CONTENT, &content, &n);
        if (r < 0)
            return r;
    } else if (!dep.uri && !set) {
        return -EINVAL; /* at least one of uri, digest, content */
    }
    *ret = dep;
    return 0;
}

/* An optional array of descriptors; *ret_deps (may be NULL) gets a new array of n entries. */
static int parse_descriptor_list(const struct json_object *obj, const char *key, size_t max_items,
                                 struct slsa_dependency **ret_deps, size_t *ret_n)
{
    _cleanup_free_ struct slsa_dependency *deps = NULL;
    struct json_object *arr = NULL;
    size_t n = 0;
    int r;

    r = fjson_get_array(obj, key, max_items, &arr, &n);
    if (r == -ENOENT)
        n = 0;
    else if (r < 0)
        return r;
    if (n > 0) {
        deps = calloc(n, sizeof(*deps));
        if (!deps)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        r = parse_descriptor(json_object_array_get_idx(arr, i), &deps[i]);
        if (r < 0)
            return r;
    }
    if (ret_deps)
        *ret_deps = TAKE_PTR(deps);
    *ret_n = n;
    return 0;
}

static int parse_builder(struct slsa_provenance *p, const struct json_object *builder)
{
    struct json_object *version = NULL;
    size_t n = 0;
    int r;

    r = fjson_check_fields(builder, builder_fields, ELEMENTSOF(builder_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = fjson_get_string(builder, "id", SLSA_MAX_URI, &p->builder_id, &n);
    if (r < 0)
        return r;
    r = check_uri(p->builder_id, n);
    if (r < 0)
        return r;
    if (fjson_get_object(builder, "version", &version) == 0) {
        n = 0;
        json_object_object_foreach(version, key, val)
        {
            if (++n > SLSA_MAX_VERSIONS || strlen(key) > SLSA_MAX_TEXT)
                return -EMSGSIZE;
            if (!json_object_is_type(val, json_type_string))
                return -EINVAL;
            if ((size_t)json_object_get_string_len(val) > SLSA_MAX_TEXT)
                return -EMSGSIZE;
        }
    }
    return parse_descriptor_list(builder, "builderDependencies", SLSA_MAX_BUILDER_DEPS, NULL, &n);
}

static int parse_metadata(struct slsa_provenance *p, const struct json_object *md)
{
    const char **ts[] = {&p->started_on, &p->finished_on};
    static const char *const ts_keys[] = {"startedOn", "finishedOn"};
    size_t n;
    int r;

    r = fjson_check_fields(md, metadata_fields, ELEMENTSOF(metadata_fields), FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = get_optional_string(md, "invocationId", SLSA_MAX_INVOCATION_ID, &p->invocation_id, NULL);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ELEMENTSOF(ts); i++) {
        const char *s = NULL;

        r = get_optional_string(md, ts_keys[i], SLSA_TIMESTAMP_MAX_LEN, &s, &n);
        if (r == -EMSGSIZE)
            return -EINVAL; /* too long to be a timestamp: malformed, not a limit */
        if (r < 0)
            return r;
        if (s && slsa_timestamp_parse(s, n, NULL) < 0)
            return -EINVAL;
        *ts[i] = s;
    }
    return 0;
}

struct slsa_provenance *slsa_provenance_free(struct slsa_provenance *p)
{
    if (!p)
        return NULL;
    free(p->external_parameters);
    free(p->internal_parameters);
    free(p->deps);
    if (p->root)
        json_object_put(p->root);
    free(p);
    return NULL;
}

void slsa_provenance_freep(struct slsa_provenance **p)
{
    *p = slsa_provenance_free(*p);
}

int slsa_predicate_parse(const char *data, size_t len, struct slsa_provenance **ret)
{
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = NULL;
    struct json_object *bd = NULL, *rd = NULL, *obj = NULL;
    size_t n = 0;
    int r;

    if (!data)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    r = fjson_parse_object(data, len, SLSA_MAX_PREDICATE, &p->root);
    if (r < 0)
        return r;
    r = fjson_check_fields(p->root, predicate_fields, ELEMENTSOF(predicate_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;

    r = fjson_get_object(p->root, "buildDefinition", &bd);
    if (r < 0)
        return r;
    r = fjson_check_fields(bd, build_definition_fields, ELEMENTSOF(build_definition_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = fjson_get_string(bd, "buildType", SLSA_MAX_URI, &p->build_type, &n);
    if (r < 0)
        return r;
    r = check_uri(p->build_type, n);
    if (r < 0)
        return r;
    r = fjson_get_object(bd, "externalParameters", &obj);
    if (r < 0)
        return r;
    if (json_object_object_length(obj) == 0)
        return -EINVAL; /* the Go validator treats {} as missing */
    r = fjson_serialize(obj, &p->external_parameters, NULL);
    if (r < 0)
        return r;
    r = fjson_get_object(bd, "internalParameters", &obj);
    if (r == 0)
        r = fjson_serialize(obj, &p->internal_parameters, NULL);
    if (r < 0 && r != -ENOENT)
        return r;
    r = parse_descriptor_list(bd, "resolvedDependencies", SLSA_MAX_DEPENDENCIES, &p->deps,
                              &p->n_deps);
    if (r < 0)
        return r;

    r = fjson_get_object(p->root, "runDetails", &rd);
    if (r < 0)
        return r;
    r = fjson_check_fields(rd, run_details_fields, ELEMENTSOF(run_details_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    r = fjson_get_object(rd, "builder", &obj);
    if (r < 0)
        return r;
    r = parse_builder(p, obj);
    if (r < 0)
        return r;
    r = fjson_get_object(rd, "metadata", &obj);
    if (r == 0)
        r = parse_metadata(p, obj);
    if (r < 0 && r != -ENOENT)
        return r;
    r = parse_descriptor_list(rd, "byproducts", SLSA_MAX_BYPRODUCTS, NULL, &p->n_byproducts);
    if (r < 0)
        return r;

    *ret = TAKE_PTR(p);
    return 0;
}

/* Parse caller JSON object text (bounded) into a new object. */
static int parse_param_object(const char *text, struct json_object **ret)
{
    if (!text)
        return -EINVAL;
    return fjson_parse_object(text, strlen(text), SLSA_MAX_PREDICATE, ret);
}

static int add_optional_string(struct json_object *obj, const char *key, const char *s)
{
    if (!s)
        return 0;
    return fjson_add_string(obj, key, s, strlen(s));
}

static int build_dependency(struct json_object *arr, const struct slsa_dependency *dep)
{
    struct json_object *d, *set;
    int r;

    if (!dep->uri && !dep->sha256 && !dep->git_commit)
        return -EINVAL;
    if (dep->uri) {
        r = check_uri(dep->uri, strlen(dep->uri));
        if (r < 0)
            return r;
    }
    if (dep->name && strlen(dep->name) > SLSA_MAX_NAME)
        return -EMSGSIZE;
    d = json_object_new_object();
    r = fjson_append(arr, d);
    if (r < 0)
        return r;
    r = add_optional_string(d, "uri", dep->uri);
    if (r < 0)
        return r;
    r = add_optional_string(d, "name", dep->name);
    if (r < 0)
        return r;
    if (!dep->sha256 && !dep->git_commit)
        return 0;
    set = json_object_new_object();
    r = fjson_add(d, "digest", set);
    if (r < 0)
        return r;
    if (dep->sha256) {
        r = intoto_digest_value_check("sha256", dep->sha256, strlen(dep->sha256));
        if (r < 0)
            return r;
        r = fjson_add_string(set, "sha256", dep->sha256, strlen(dep->sha256));
        if (r < 0)
            return r;
    }
    if (dep->git_commit) {
        r = intoto_digest_value_check("gitCommit", dep->git_commit, strlen(dep->git_commit));
        if (r < 0)
            return r;
        r = fjson_add_string(set, "gitCommit", dep->git_commit, strlen(dep->git_commit));
        if (r < 0)
            return r;
    }
    return 0;
}

static int build_byproduct(struct json_object *arr, const struct slsa_byproduct *bp)
{
    _cleanup_(fjson_putp) struct json_object *check = NULL;
    struct json_object *d;
    int r;

    if (!bp->name || bp->name[0] == '\0' || !bp->content)
        return -EINVAL;
    if (strlen(bp->name) > SLSA_MAX_NAME || bp->content_len > SLSA_MAX_CONTENT)
        return -EMSGSIZE;
    r = fjson_parse_object(bp->content, bp->content_len, SLSA_MAX_CONTENT, &check);
    if (r < 0)
        return r;
    d = json_object_new_object();
    r = fjson_append(arr, d);
    if (r < 0)
        return r;
    r = fjson_add_string(d, "name", bp->name, strlen(bp->name));
    if (r < 0)
        return r;
    r = fjson_add_base64(d, "content", (const uint8_t *)bp->content, bp->content_len);
    if (r < 0)
        return r;
    return fjson_add_string(d, "mediaType", "application/json", strlen("application/json"));
}

static int build_definition(const struct slsa_build_params *params, struct json_object *root)
{
    _cleanup_(fjson_putp) struct json_object *ext = NULL, *internal = NULL;
    struct json_object *bd, *arr;
    int r;

    if (!params->build_type)
        return -EINVAL;
    r = check_uri(params->build_type, strlen(params->build_type));
    if (r < 0)
        return r;
    r = parse_param_object(params->external_parameters, &ext);
    if (r < 0)
        return r;
    if (json_object_object_length(ext) == 0)
        return -EINVAL;
    if (params->internal_parameters) {
        r = parse_param_object(params->internal_parameters, &internal);
        if (r < 0)
            return r;
    }
    if (params->n_dependencies > SLSA_MAX_DEPENDENCIES)
        return -EMSGSIZE;
    if (params->n_dependencies > 0 && !params->dependencies)
        return -EINVAL;

    bd = json_object_new_object();
    r = fjson_add(root, "buildDefinition", bd);
    if (r < 0)
        return r;
    r = fjson_add_string(bd, "buildType", params->build_type, strlen(params->build_type));
    if (r < 0)
        return r;
    r = fjson_add(bd, "externalParameters", TAKE_PTR(ext));
    if (r < 0)
        return r;
    if (internal) {
        r = fjson_add(bd, "internalParameters", TAKE_PTR(internal));
        if (r < 0)
            return r;
    }
    if (params->n_dependencies == 0)
        return 0;
    arr = json_object_new_array();
    r = fjson_add(bd, "resolvedDependencies", arr);
    if (r < 0)
        return r;
    for (size_t i = 0; i < params->n_dependencies; i++) {
        r = build_dependency(arr, &params->dependencies[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int build_run_details(const struct slsa_build_params *params, struct json_object *root)
{
    const char *ts[] = {params->started_on, params->finished_on};
    struct json_object *rd, *obj;
    int r;

    if (!params->builder_id)
        return -EINVAL;
    r = check_uri(params->builder_id, strlen(params->builder_id));
    if (r < 0)
        return r;
    if (params->invocation_id && strlen(params->invocation_id) > SLSA_MAX_INVOCATION_ID)
        return -EMSGSIZE;
    for (size_t i = 0; i < ELEMENTSOF(ts); i++)
        if (ts[i] && slsa_timestamp_parse(ts[i], strlen(ts[i]), NULL) < 0)
            return -EINVAL;
    if (params->n_byproducts > SLSA_MAX_BYPRODUCTS)
        return -EMSGSIZE;
    if (params->n_byproducts > 0 && !params->byproducts)
        return -EINVAL;

    rd = json_object_new_object();
    r = fjson_add(root, "runDetails", rd);
    if (r < 0)
        return r;
    obj = json_object_new_object();
    r = fjson_add(rd, "builder", obj);
    if (r < 0)
        return r;
    r = fjson_add_string(obj, "id", params->builder_id, strlen(params->builder_id));
    if (r < 0)
        return r;
    if (params->invocation_id || params->started_on || params->finished_on) {
        obj = json_object_new_object();
        r = fjson_add(rd, "metadata", obj);
        if (r < 0)
            return r;
        r = add_optional_string(obj, "invocationId", params->invocation_id);
        if (r < 0)
            return r;
        r = add_optional_string(obj, "startedOn", params->started_on);
        if (r < 0)
            return r;
        r = add_optional_string(obj, "finishedOn", params->finished_on);
        if (r < 0)
            return r;
    }
    if (params->n_byproducts == 0)
        return 0;
    obj = json_object_new_array();
    r = fjson_add(rd, "byproducts", obj);
    if (r < 0)
        return r;
    for (size_t i = 0; i < params->n_byproducts; i++) {
        r = build_byproduct(obj, &params->byproducts[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

int slsa_predicate_build(const struct slsa_build_params *params, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL;
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *check = NULL;
    _cleanup_free_ char *out = NULL;
    size_t out_len = 0;
    int r;

    if (!params || !ret || !ret_len)
        return -EINVAL;
    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    r = build_definition(params, root);
    if (r < 0)
        return r;
    r = build_run_details(params, root);
    if (r < 0)
        return r;
    r = fjson_serialize(root, &out, &out_len);
    if (r < 0)
        return r;
    if (out_len > SLSA_MAX_PREDICATE)
        return -EMSGSIZE;
    /* Strings are caller text: prove the result is a predicate we would accept. */
    r = slsa_predicate_parse(out, out_len, &check);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(out);
    *ret_len = out_len;
    return 0;
}

const char *slsa_provenance_build_type(const struct slsa_provenance *p)
{
    return p->build_type;
}

const char *slsa_provenance_builder_id(const struct slsa_provenance *p)
{
    return p->builder_id;
}

const char *slsa_provenance_external_parameters(const struct slsa_provenance *p)
{
    return p->external_parameters;
}

const char *slsa_provenance_internal_parameters(const struct slsa_provenance *p)
{
    return p->internal_parameters;
}

size_t slsa_provenance_dependency_count(const struct slsa_provenance *p)
{
    return p->n_deps;
}

const struct slsa_dependency *slsa_provenance_dependency(const struct slsa_provenance *p, size_t i)
{
    return i < p->n_deps ? &p->deps[i] : NULL;
}

const char *slsa_provenance_invocation_id(const struct slsa_provenance *p)
{
    return p->invocation_id;
}

const char *slsa_provenance_started_on(const struct slsa_provenance *p)
{
    return p->started_on;
}

const char *slsa_provenance_finished_on(const struct slsa_provenance *p)
{
    return p->finished_on;
}

size_t slsa_provenance_byproduct_count(const struct slsa_provenance *p)
{
    return p->n_byproducts;
}
