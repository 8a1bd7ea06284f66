/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memrchr */
#include "model-manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "format.h"
#include "intoto.h"
#include "json.h"
#include "macro.h"
#include "model-path.h"
#include "parse.h"

const char *const model_git_paths[MODEL_N_GIT_PATHS] = {
        ".git",
        ".gitattributes",
        ".github",
        ".gitignore",
};

/* "<path>:<start>:<end>" adds at most two colons and two 20-digit numbers. */
#define SHARD_SUFFIX_MAX 42u
/* "sha256-sharded-" and a 20-digit shard size. */
#define ALGORITHM_MAX 64u

struct resource {
    struct model_resource pub; /* pub.name and pub.path point to the owned strings below */
    char *name;                /* NULL for files: the name is the path */
    char *path;
};

struct model_manifest {
    char *name;
    struct model_serialization ser;
    char **ignore;
    size_t n_ignore;
    struct resource *res;
    size_t n_res, cap_res;
};

struct diff_item {
    struct model_diff_entry pub; /* pub.path points to path */
    char *path;
};

struct model_diff {
    struct diff_item *e;
    size_t n, cap;
};

static void resource_clear(struct resource *r)
{
    free(r->path);
    free(r->name);
}

struct model_manifest *model_manifest_free(struct model_manifest *m)
{
    if (!m)
        return NULL;
    free(m->name);
    for (size_t i = 0; i < m->n_ignore; i++)
        free(m->ignore[i]);
    free(m->ignore);
    for (size_t i = 0; i < m->n_res; i++)
        resource_clear(&m->res[i]);
    free(m->res);
    free(m);
    return NULL;
}

void model_manifest_freep(struct model_manifest **m)
{
    *m = model_manifest_free(*m);
}

static int cmp_str_path(const void *a, const void *b)
{
    return model_path_compare(*(char *const *)a, *(char *const *)b);
}

static bool serialization_valid(const struct model_serialization *s)
{
    if (s->method == MODEL_METHOD_FILES)
        return true;
    return s->method == MODEL_METHOD_SHARDS && s->shard_size >= 1 &&
           s->shard_size <= MODEL_MAX_SHARD_SIZE;
}

int model_manifest_new(const char *model_name, const struct model_serialization *s,
                       const char *const *ignore, size_t n_ignore, struct model_manifest **ret)
{
    _cleanup_(model_manifest_freep) struct model_manifest *m = NULL;
    size_t o = 0;

    if (!model_name || !s || !ret || (n_ignore > 0 && !ignore) || !serialization_valid(s))
        return -EINVAL;
    /* The name is a single path component in practice; the same text rules apply. */
    if (!model_path_is_canonical(model_name, strlen(model_name)) ||
        strlen(model_name) > INTOTO_MAX_NAME)
        return -EINVAL;
    if (n_ignore > MODEL_MAX_IGNORE)
        return -EMSGSIZE;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->ser = *s;
    if (m->ser.method == MODEL_METHOD_FILES)
        m->ser.shard_size = 0;
    m->name = strdup(model_name);
    if (!m->name)
        return -ENOMEM;
    if (n_ignore > 0) {
        m->ignore = calloc(n_ignore, sizeof(*m->ignore));
        if (!m->ignore)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n_ignore; i++) {
        if (!ignore[i] || !model_path_is_canonical(ignore[i], strlen(ignore[i])))
            return -EINVAL;
        m->ignore[i] = strdup(ignore[i]);
        if (!m->ignore[i])
            return -ENOMEM;
        m->n_ignore++;
    }
    if (m->n_ignore > 1)
        qsort(m->ignore, m->n_ignore, sizeof(*m->ignore), cmp_str_path);
    for (size_t i = 0; i < m->n_ignore; i++) {
        if (o > 0 && streq(m->ignore[o - 1], m->ignore[i])) {
            free(m->ignore[i]);
            continue;
        }
        m->ignore[o++] = m->ignore[i];
    }
    m->n_ignore = o;
    *ret = TAKE_PTR(m);
    return 0;
}

/* Shard bounds rule of the header. */
static bool shard_valid(uint64_t size, uint64_t start, uint64_t end)
{
    if (start == 0 && end == 0)
        return true; /* the empty shard of an empty file */
    return start % size == 0 && start < end && end - start <= size;
}

int model_manifest_add(struct model_manifest *m, const char *path, uint64_t start, uint64_t end,
                       const uint8_t digest[static 32])
{
    _cleanup_free_ char *p = NULL, *name = NULL;
    size_t plen;

    if (!m || !path || !digest)
        return -EINVAL;
    plen = strlen(path);
    if (!model_path_is_canonical(path, plen))
        return -EINVAL;
    if (m->ser.method == MODEL_METHOD_FILES ? (start != 0 || end != 0)
                                            : !shard_valid(m->ser.shard_size, start, end))
        return -EINVAL;
    if (m->n_res >= MODEL_MAX_RESOURCES)
        return -EMSGSIZE;
    if (m->n_res == m->cap_res) {
        size_t ncap = m->cap_res ? MIN(m->cap_res * 2, (size_t)MODEL_MAX_RESOURCES) : 64;
        struct resource *n = realloc(m->res, ncap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        m->res = n;
        m->cap_res = ncap;
    }
    p = strdup(path);
    if (!p)
        return -ENOMEM;
    if (m->ser.method == MODEL_METHOD_SHARDS) {
        size_t n = plen + SHARD_SUFFIX_MAX + 1;
        int k;

        name = malloc(n);
        if (!name)
            return -ENOMEM;
        k = snprintf(name, n, "%s:%" PRIu64 ":%" PRIu64, path, start, end);
        if (k < 0 || (size_t)k >= n)
            return -EINVAL;
    }
    m->res[m->n_res] = (struct resource){
            .pub = {.path = p, .name = name ? name : p, .start = start, .end = end},
            .name = TAKE_PTR(name),
            .path = TAKE_PTR(p),
    };
    memcpy(m->res[m->n_res].pub.digest, digest, 32);
    m->n_res++;
    return 0;
}

static int resource_cmp(const void *a, const void *b)
{
    const struct model_resource *x = &((const struct resource *)a)->pub;
    const struct model_resource *y = &((const struct resource *)b)->pub;
    int c = model_path_compare(x->path, y->path);

    if (c != 0)
        return c;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

int model_manifest_sort(struct model_manifest *m)
{
    if (!m)
        return -EINVAL;
    if (m->n_res > 1) /* qsort() takes no NULL array, even empty */
        qsort(m->res, m->n_res, sizeof(*m->res), resource_cmp);
    for (size_t i = 1; i < m->n_res; i++)
        if (resource_cmp(&m->res[i - 1], &m->res[i]) == 0)
            return -EEXIST;
    return 0;
}

const char *model_manifest_name(const struct model_manifest *m)
{
    return m ? m->name : NULL;
}

const struct model_serialization *model_manifest_serialization(const struct model_manifest *m)
{
    return m ? &m->ser : NULL;
}

size_t model_manifest_n_ignore(const struct model_manifest *m)
{
    return m ? m->n_ignore : 0;
}

const char *model_manifest_ignore(const struct model_manifest *m, size_t i)
{
    return m && i < m->n_ignore ? m->ignore[i] : NULL;
}

size_t model_manifest_n_resources(const struct model_manifest *m)
{
    return m ? m->n_res : 0;
}

const struct model_resource *model_manifest_resource(const struct model_manifest *m, size_t i)
{
    return m && i < m->n_res ? &m->res[i].pub : NULL;
}

bool model_manifest_has_path(const struct model_manifest *m, const char *path)
{
    size_t lo = 0, hi;

    if (!m || !path)
        return false;
    /* Binary search for the first resource whose path is not before path. */
    hi = m->n_res;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (model_path_compare(m->res[mid].pub.path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_res && streq(m->res[lo].pub.path, path);
}

bool model_manifest_has_empty_shards(const struct model_manifest *m)
{
    if (!m || m->ser.method != MODEL_METHOD_SHARDS)
        return false;
    for (size_t i = 0; i < m->n_res; i++)
        if (m->res[i].pub.end == 0)
            return true;
    return false;
}

size_t model_manifest_n_files(const struct model_manifest *m)
{
    size_t n = 0;

    for (size_t i = 0; m && i < m->n_res; i++)
        if (i == 0 || !streq(m->res[i - 1].pub.path, m->res[i].pub.path))
            n++;
    return n;
}

int model_manifest_algorithm(const struct model_manifest *m, char *buf, size_t size)
{
    int k;

    if (!m || !buf || size == 0)
        return -EINVAL;
    if (m->ser.method == MODEL_METHOD_FILES)
        k = snprintf(buf, size, "%s", MODEL_HASH_TYPE);
    else
        k = snprintf(buf, size, "%s-sharded-%" PRIu64, MODEL_HASH_TYPE, m->ser.shard_size);
    if (k < 0 || (size_t)k >= size)
        return -ENOBUFS;
    return 0;
}

int model_manifest_root(const struct model_manifest *m, uint8_t ret[static 32])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    unsigned int n = 0;

    if (!m || !ret)
        return -EINVAL;
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        return -ENOMEM;
    for (size_t i = 0; i < m->n_res; i++)
        if (EVP_DigestUpdate(ctx, m->res[i].pub.digest, 32) != 1)
            return -ENOMEM;
    if (EVP_DigestFinal_ex(ctx, ret, &n) != 1 || n != 32)
        return -ENOMEM;
    return 0;
}

/* ---- statement --------------------------------------------------------------------------- */

static int build_serialization(const struct model_manifest *m, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *ser = json_object_new_object();
    struct json_object *arr;
    const char *method = m->ser.method == MODEL_METHOD_FILES ? "files" : "shards";
    int r;

    if (!ser)
        return -ENOMEM;
    if ((r = fjson_add_string(ser, "method", method, strlen(method))) < 0 ||
        (r = fjson_add_string(ser, "hash_type", MODEL_HASH_TYPE, strlen(MODEL_HASH_TYPE))) < 0)
        return r;
    if (m->ser.method == MODEL_METHOD_SHARDS &&
        (r = fjson_add(ser, "shard_size", json_object_new_int64((int64_t)m->ser.shard_size))) < 0)
        return r;
    if ((r = fjson_add(ser, "allow_symlinks", json_object_new_boolean(m->ser.allow_symlinks))) < 0)
        return r;
    if (m->n_ignore > 0) {
        arr = json_object_new_array();
        r = fjson_add(ser, "ignore_paths", arr);
        if (r < 0)
            return r;
        for (size_t i = 0; i < m->n_ignore; i++) {
            r = fjson_append(arr, json_object_new_string(m->ignore[i]));
            if (r < 0)
                return r;
        }
    }
    *ret = TAKE_PTR(ser);
    return 0;
}

static int build_predicate(const struct model_manifest *m, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *pred = json_object_new_object();
    struct json_object *ser = NULL, *arr;
    char alg[ALGORITHM_MAX];
    int r;

    if (!pred)
        return -ENOMEM;
    r = model_manifest_algorithm(m, alg, sizeof(alg));
    if (r < 0)
        return r;
    r = build_serialization(m, &ser);
    if (r < 0)
        return r;
    r = fjson_add(pred, "serialization", ser);
    if (r < 0)
        return r;
    arr = json_object_new_array();
    r = fjson_add(pred, "resources", arr);
    if (r < 0)
        return r;
    for (size_t i = 0; i < m->n_res; i++) {
        struct json_object *o = json_object_new_object();
        _cleanup_free_ char *hex = NULL;

        r = fjson_append(arr, o);
        if (r < 0)
            return r;
        if ((r = hex_encode(m->res[i].pub.digest, 32, &hex)) < 0 ||
            (r = fjson_add_string(o, "name", m->res[i].pub.name, strlen(m->res[i].pub.name))) < 0 ||
            (r = fjson_add_string(o, "algorithm", alg, strlen(alg))) < 0 ||
            (r = fjson_add_string(o, "digest", hex, strlen(hex))) < 0)
            return r;
    }
    return fjson_serialize(pred, ret, ret_len);
}

int model_manifest_statement(const struct model_manifest *m, char **ret, size_t *ret_len)
{
    _cleanup_free_ char *pred = NULL;
    struct intoto_subject subject = {};
    size_t pred_len = 0;
    int r;

    if (!m || !ret || !ret_len)
        return -EINVAL;
    /* A statement is far smaller than its resources could make it: fail before building. */
    if (m->n_res > INTOTO_MAX_STATEMENT / 64)
        return -EMSGSIZE;
    for (size_t i = 1; i < m->n_res; i++)
        if (resource_cmp(&m->res[i - 1], &m->res[i]) >= 0)
            return -EINVAL; /* not sorted, or duplicates */
    r = model_manifest_root(m, subject.sha256);
    if (r < 0)
        return r;
    subject.name = m->name;
    r = build_predicate(m, &pred, &pred_len);
    if (r < 0)
        return r;
    if (pred_len > INTOTO_MAX_STATEMENT)
        return -EMSGSIZE;
    return intoto_statement_build(&subject, 1, MODEL_PREDICATE_TYPE, pred, pred_len, ret, ret_len);
}

/* ---- parsing ----------------------------------------------------------------------------- */

static const struct fjson_field predicate_fields[] = {
        {"serialization", FJSON_OBJECT, true},
        {"resources", FJSON_ARRAY, true},
};

static const struct fjson_field serialization_fields[] = {
        {"method", FJSON_STRING, true},          {"hash_type", FJSON_STRING, true},
        {"allow_symlinks", FJSON_BOOLEAN, true}, {"shard_size", FJSON_ANY, false},
        {"ignore_paths", FJSON_ARRAY, false},
};

static const struct fjson_field resource_fields[] = {
        {"name", FJSON_STRING, true},
        {"algorithm", FJSON_STRING, true},
        {"digest", FJSON_STRING, true},
};

/* A positive integer up to MODEL_MAX_SHARD_SIZE, as a JSON integer or an integral double. */
static int parse_shard_size(struct json_object *v, uint64_t *ret)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);

        if (n < 1 || (uint64_t)n > MODEL_MAX_SHARD_SIZE)
            return -EINVAL;
        *ret = (uint64_t)n;
        return 0;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);

        if (!(d >= 1.0 && d <= (double)MODEL_MAX_SHARD_SIZE) || d != (double)(uint64_t)d)
            return -EINVAL;
        *ret = (uint64_t)d;
        return 0;
    }
    return -EINVAL;
}

static int parse_serialization(struct json_object *ser, struct model_serialization *s,
                               char ***ret_ignore, size_t *ret_n)
{
    struct json_object *v = NULL, *arr = NULL;
    const char *method, *hash;
    char **ignore = NULL;
    size_t n = 0;
    int r;

    r = fjson_check_fields(ser, serialization_fields, ELEMENTSOF(serialization_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    if ((r = fjson_get_string(ser, "method", 32, &method, NULL)) < 0 ||
        (r = fjson_get_string(ser, "hash_type", 32, &hash, NULL)) < 0)
        return r == -EMSGSIZE ? -EOPNOTSUPP : r;
    if (streq(method, "files"))
        s->method = MODEL_METHOD_FILES;
    else if (streq(method, "shards"))
        s->method = MODEL_METHOD_SHARDS;
    else
        return -EOPNOTSUPP;
    if (!streq(hash, MODEL_HASH_TYPE))
        return -EOPNOTSUPP;
    (void)json_object_object_get_ex(ser, "allow_symlinks", &v);
    s->allow_symlinks = json_object_get_boolean(v);
    s->shard_size = 0;
    if (s->method == MODEL_METHOD_SHARDS) {
        if (!json_object_object_get_ex(ser, "shard_size", &v))
            return -EINVAL;
        r = parse_shard_size(v, &s->shard_size);
        if (r < 0)
            return r;
    }
    r = fjson_get_array(ser, "ignore_paths", MODEL_MAX_IGNORE, &arr, &n);
    if (r == -ENOENT)
        n = 0;
    else if (r < 0)
        return r;
    if (n > 0) {
        ignore = calloc(n, sizeof(*ignore));
        if (!ignore)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);

        if (!json_object_is_type(e, json_type_string))
            r = -EINVAL;
        else
            r = model_path_normalize(json_object_get_string(e), &ignore[i]);
        if (r < 0) {
            for (size_t j = 0; j < i; j++)
                free(ignore[j]);
            free(ignore);
            return r == -ENOMEM ? r : -EINVAL;
        }
    }
    *ret_ignore = ignore;
    *ret_n = n;
    return 0;
}

/* "path:start:end" -> path (new string), start, end. */
static int parse_shard_name(const char *name, char **ret_path, uint64_t *ret_start,
                            uint64_t *ret_end)
{
    char num[24];
    const char *c2 = strrchr(name, ':'), *c1;
    uint64_t start, end;
    size_t n;
    int r;

    if (!c2 || c2 == name)
        return -EINVAL;
    for (c1 = c2 - 1; c1 > name && *c1 != ':'; c1--)
        ;
    if (*c1 != ':' || c1 == name)
        return -EINVAL;
    n = (size_t)(c2 - c1 - 1);
    if (n == 0 || n >= sizeof(num))
        return -EINVAL;
    memcpy(num, c1 + 1, n);
    num[n] = '\0';
    r = parse_u64(num, MODEL_MAX_SHARD_SIZE * 2, &start); /* bounded well below 2^64 */
    if (r < 0)
        return -EINVAL;
    if (strlen(c2 + 1) >= sizeof(num))
        return -EINVAL;
    r = parse_u64(c2 + 1, MODEL_MAX_SHARD_SIZE * 2, &end);
    if (r < 0)
        return -EINVAL;
    *ret_path = strndup(name, (size_t)(c1 - name));
    if (!*ret_path)
        return -ENOMEM;
    *ret_start = start;
    *ret_end = end;
    return 0;
}

static int parse_resource(struct model_manifest *m, struct json_object *o, const char *alg)
{
    _cleanup_free_ uint8_t *digest = NULL;
    _cleanup_free_ char *path = NULL;
    const char *name, *a, *hex;
    uint64_t start = 0, end = 0;
    size_t hlen = 0, dlen = 0;
    int r;

    if (!json_object_is_type(o, json_type_object))
        return -EINVAL;
    r = fjson_check_fields(o, resource_fields, ELEMENTSOF(resource_fields), FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    if ((r = fjson_get_string(o, "name", MODEL_MAX_PATH + SHARD_SUFFIX_MAX, &name, NULL)) < 0 ||
        (r = fjson_get_string(o, "algorithm", ALGORITHM_MAX, &a, NULL)) < 0 ||
        (r = fjson_get_string(o, "digest", 64, &hex, &hlen)) < 0)
        return r == -ENOMEM ? r : -EINVAL;
    if (!streq(a, alg) || hlen != 64)
        return -EINVAL;
    r = hex_decode(hex, hlen, &digest, &dlen);
    if (r < 0 || dlen != 32)
        return r == -ENOMEM ? r : -EINVAL;
    if (m->ser.method == MODEL_METHOD_SHARDS) {
        r = parse_shard_name(name, &path, &start, &end);
        if (r < 0)
            return r;
        return model_manifest_add(m, path, start, end, digest);
    }
    return model_manifest_add(m, name, 0, 0, digest);
}

int model_manifest_from_statement(const struct intoto_statement *st, struct model_manifest **ret)
{
    _cleanup_(model_manifest_freep) struct model_manifest *m = NULL;
    _cleanup_(fjson_putp) struct json_object *pred = NULL;
    struct json_object *ser = NULL, *arr = NULL;
    struct model_serialization s = {};
    char **ignore = NULL, alg[ALGORITHM_MAX];
    const char *text;
    uint8_t root[32];
    size_t n_ignore = 0, n = 0;
    int r;

    if (!st || !ret)
        return -EINVAL;
    if (!streq(intoto_statement_predicate_type(st), MODEL_PREDICATE_TYPE) ||
        intoto_statement_subject_count(st) != 1)
        return -EINVAL;
    text = intoto_statement_predicate(st);
    r = fjson_parse_object(text, strlen(text), INTOTO_MAX_STATEMENT, &pred);
    if (r < 0)
        return r;
    r = fjson_check_fields(pred, predicate_fields, ELEMENTSOF(predicate_fields),
                           FJSON_UNKNOWN_IGNORE);
    if (r < 0)
        return r;
    (void)fjson_get_object(pred, "serialization", &ser);
    r = parse_serialization(ser, &s, &ignore, &n_ignore);
    if (r < 0)
        return r;
    r = model_manifest_new(intoto_statement_subject_name(st, 0), &s, (const char *const *)ignore,
                           n_ignore, &m);
    for (size_t i = 0; i < n_ignore; i++)
        free(ignore[i]);
    free(ignore);
    if (r < 0)
        return r;
    r = fjson_get_array(pred, "resources", MODEL_MAX_RESOURCES, &arr, &n);
    if (r < 0)
        return r;
    r = model_manifest_algorithm(m, alg, sizeof(alg));
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        r = parse_resource(m, json_object_array_get_idx(arr, i), alg);
        if (r < 0)
            return r;
    }
    /* The root is over the listed order; then the resources are sorted, which also finds
     * duplicate names. */
    r = model_manifest_root(m, root);
    if (r < 0)
        return r;
    if (memcmp(root, intoto_statement_subject_sha256(st, 0), 32) != 0)
        return -EBADMSG;
    r = model_manifest_sort(m);
    if (r < 0)
        return r == -EEXIST ? -EINVAL : r;
    *ret = TAKE_PTR(m);
    return 0;
}

int model_name_from_dir(const char *dir, const char *resolved, char **ret)
{
    const char *src = dir, *slash;
    size_t len;

    if (!dir || !ret)
        return -EINVAL;
    for (int pass = 0; pass < 2; pass++) {
        len = strlen(src);
        while (len > 0 && src[len - 1] == '/')
            len--;
        slash = memrchr(src, '/', len);
        if (slash) {
            len -= (size_t)(slash + 1 - src);
            src = slash + 1;
        }
        if (len > 0 && !(len == 1 && src[0] == '.') &&
            !(len == 2 && src[0] == '.' && src[1] == '.'))
            break;
        if (pass == 1 || !resolved)
            return -EINVAL;
        src = resolved;
    }
    if (!model_path_is_canonical(src, len) || len > INTOTO_MAX_NAME)
        return -EINVAL;
    *ret = strndup(src, len);
    return *ret ? 0 : -ENOMEM;
}

/* ---- comparison -------------------------------------------------------------------------- */

struct model_diff *model_diff_free(struct model_diff *d)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].path);
    free(d->e);
    free(d);
    return NULL;
}

void model_diff_freep(struct model_diff **d)
{
    *d = model_diff_free(*d);
}

static int diff_add(struct model_diff *d, const char *path, enum model_diff_kind kind)
{
    char *copy;

    if (d->n >= MODEL_MAX_DIFF)
        return -EMSGSIZE;
    if (d->n == d->cap) {
        size_t ncap = d->cap ? MIN(d->cap * 2, (size_t)MODEL_MAX_DIFF) : 16;
        struct diff_item *n = realloc(d->e, ncap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        d->e = n;
        d->cap = ncap;
    }
    copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    d->e[d->n++] = (struct diff_item){.pub = {.path = copy, .kind = kind}, .path = copy};
    return 0;
}

/* End of the run of resources of the file at i. */
static size_t run_end(const struct model_manifest *m, size_t i)
{
    size_t j = i + 1;

    while (j < m->n_res && streq(m->res[j].pub.path, m->res[i].pub.path))
        j++;
    return j;
}

int model_manifest_compare(const struct model_manifest *expected,
                           const struct model_manifest *actual, struct model_diff **ret)
{
    _cleanup_(model_diff_freep) struct model_diff *d = NULL;
    size_t i = 0, j = 0;
    int r;

    if (!expected || !actual || !ret || expected->ser.method != actual->ser.method ||
        expected->ser.shard_size != actual->ser.shard_size)
        return -EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    while (i < expected->n_res || j < actual->n_res) {
        bool he = i < expected->n_res, ha = j < actual->n_res;
        const char *ep = he ? expected->res[i].pub.path : "";
        const char *ap = ha ? actual->res[j].pub.path : "";
        int c = !he ? 1 : !ha ? -1 : model_path_compare(ep, ap);
        size_t ie, je;

        if (c < 0) {
            r = diff_add(d, ep, MODEL_DIFF_MISSING);
            i = run_end(expected, i);
        } else if (c > 0) {
            r = diff_add(d, ap, MODEL_DIFF_EXTRA);
            j = run_end(actual, j);
        } else {
            bool same;

            ie = run_end(expected, i);
            je = run_end(actual, j);
            same = ie - i == je - j;
            for (size_t k = 0; same && k < ie - i; k++) {
                const struct model_resource *x = &expected->res[i + k].pub;
                const struct model_resource *y = &actual->res[j + k].pub;

                /* Digests are public: a plain compare is fine. */
                same = x->start == y->start && x->end == y->end &&
                       memcmp(x->digest, y->digest, 32) == 0;
            }
            r = same ? 0 : diff_add(d, ep, MODEL_DIFF_MODIFIED);
            i = ie;
            j = je;
        }
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(d);
    return 0;
}

size_t model_diff_count(const struct model_diff *d)
{
    return d ? d->n : 0;
}

const struct model_diff_entry *model_diff_entry(const struct model_diff *d, size_t i)
{
    return d && i < d->n ? &d->e[i].pub : NULL;
}

size_t model_diff_count_kind(const struct model_diff *d, enum model_diff_kind kind)
{
    size_t n = 0;

    for (size_t i = 0; d && i < d->n; i++)
        n += d->e[i].pub.kind == kind;
    return n;
}
