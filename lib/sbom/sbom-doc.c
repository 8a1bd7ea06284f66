/* SPDX-License-Identifier: Apache-2.0 */
/* Reading SBOM documents back (see sbom-doc.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "json.h"
#include "sbom-doc.h"

#define SBOM_DOC_MAX_ENTRIES (2u * SBOM_MAX_COMPONENTS)

struct entry {
    const char *name; /* borrowed from root */
    uint8_t sha256[SBOM_SHA256_LEN];
};

struct sbom_doc {
    struct json_object *root;
    enum sbom_format format;
    struct entry *entries;
    size_t n, cap;
};

const char *sbom_format_predicate_type(enum sbom_format f)
{
    switch (f) {
    case SBOM_FORMAT_CYCLONEDX:
        return SBOM_PREDICATE_CYCLONEDX;
    case SBOM_FORMAT_SPDX:
        return SBOM_PREDICATE_SPDX;
    }
    return NULL;
}

struct sbom_doc *sbom_doc_free(struct sbom_doc *d)
{
    if (!d)
        return NULL;
    json_object_put(d->root);
    free(d->entries);
    free(d);
    return NULL;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool parse_sha256(const char *hex, uint8_t out[static SBOM_SHA256_LEN])
{
    if (strlen(hex) != 2 * SBOM_SHA256_LEN)
        return false;
    for (size_t i = 0; i < SBOM_SHA256_LEN; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int add_entry(struct sbom_doc *d, const char *name, const uint8_t *sha256)
{
    if (d->n >= SBOM_DOC_MAX_ENTRIES)
        return -EMSGSIZE;
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 64;
        struct entry *ne = realloc(d->entries, ncap * sizeof(*ne));

        if (!ne)
            return -ENOMEM;
        d->entries = ne;
        d->cap = ncap;
    }
    d->entries[d->n].name = name;
    memcpy(d->entries[d->n].sha256, sha256, SBOM_SHA256_LEN);
    d->n++;
    return 0;
}

/* Entries of one element: its hashes/checksums array holding SHA-256. */
static int element_entries(struct sbom_doc *d, struct json_object *el, const char *name,
                           const char *arr_key, const char *alg_key, const char *alg,
                           const char *value_key)
{
    struct json_object *arr;
    uint8_t digest[SBOM_SHA256_LEN];
    int r;

    if (!name || !json_object_object_get_ex(el, arr_key, &arr) ||
        !json_object_is_type(arr, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *h = json_object_array_get_idx(arr, i);
        const char *a, *v;

        if (!json_object_is_type(h, json_type_object) || !(a = get_str(h, alg_key)) ||
            !streq(a, alg) || !(v = get_str(h, value_key)) || !parse_sha256(v, digest))
            continue;
        if ((r = add_entry(d, name, digest)) < 0)
            return r;
    }
    return 0;
}

/* CycloneDX components, recursively (nesting is bounded by the JSON depth limit). */
static int cdx_components(struct sbom_doc *d, struct json_object *parent)
{
    struct json_object *arr;
    int r;

    if (!json_object_object_get_ex(parent, "components", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *c = json_object_array_get_idx(arr, i);

        if (!json_object_is_type(c, json_type_object))
            continue;
        if ((r = element_entries(d, c, get_str(c, "name"), "hashes", "alg", "SHA-256", "content")) <
                    0 ||
            (r = cdx_components(d, c)) < 0)
            return r;
    }
    return 0;
}

static int spdx_elements(struct sbom_doc *d, const char *list, const char *name_key)
{
    struct json_object *arr;
    int r;

    if (!json_object_object_get_ex(d->root, list, &arr) ||
        !json_object_is_type(arr, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *el = json_object_array_get_idx(arr, i);
        const char *name;

        if (!json_object_is_type(el, json_type_object) || !(name = get_str(el, name_key)))
            continue;
        if (strncmp(name, "./", 2) == 0)
            name += 2;
        if ((r = element_entries(d, el, name, "checksums", "algorithm", "SHA256",
                                 "checksumValue")) < 0)
            return r;
    }
    return 0;
}

int sbom_doc_parse(const char *data, size_t len, struct sbom_doc **ret)
{
    _cleanup_(sbom_doc_freep) struct sbom_doc *d = NULL;
    struct json_object *meta;
    const char *fmt, *ver;
    int r;

    if (len > SBOM_MAX_DOCUMENT)
        return -EMSGSIZE;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    r = fjson_parse_object(data, len, SBOM_MAX_DOCUMENT, &d->root);
    if (r < 0)
        return r == -ENOMEM || r == -EMSGSIZE ? r : -EINVAL;
    fmt = get_str(d->root, "bomFormat");
    ver = get_str(d->root, "spdxVersion");
    if (fmt && streq(fmt, "CycloneDX") && get_str(d->root, "specVersion")) {
        d->format = SBOM_FORMAT_CYCLONEDX;
        if ((r = cdx_components(d, d->root)) < 0)
            return r;
        /* The BOM's subject may carry hashes too. */
        if (json_object_object_get_ex(d->root, "metadata", &meta) &&
            json_object_is_type(meta, json_type_object) &&
            json_object_object_get_ex(meta, "component", &meta) &&
            json_object_is_type(meta, json_type_object) &&
            (r = element_entries(d, meta, get_str(meta, "name"), "hashes", "alg", "SHA-256",
                                 "content")) < 0)
            return r;
    } else if (ver && strncmp(ver, "SPDX-2.", 7) == 0) {
        d->format = SBOM_FORMAT_SPDX;
        if ((r = spdx_elements(d, "packages", "name")) < 0 ||
            (r = spdx_elements(d, "files", "fileName")) < 0)
            return r;
    } else
        return -EINVAL;
    *ret = TAKE_PTR(d);
    return 0;
}

enum sbom_format sbom_doc_format(const struct sbom_doc *d)
{
    return d->format;
}

size_t sbom_doc_n_entries(const struct sbom_doc *d)
{
    return d->n;
}

const char *sbom_doc_entry_name(const struct sbom_doc *d, size_t i)
{
    return i < d->n ? d->entries[i].name : NULL;
}

const uint8_t *sbom_doc_entry_sha256(const struct sbom_doc *d, size_t i)
{
    return i < d->n ? d->entries[i].sha256 : NULL;
}

int sbom_doc_find_sha256(const struct sbom_doc *d, const uint8_t digest[static SBOM_SHA256_LEN],
                         size_t *ret_index)
{
    for (size_t i = 0; i < d->n; i++)
        if (memcmp(d->entries[i].sha256, digest, SBOM_SHA256_LEN) == 0) {
            if (ret_index)
                *ret_index = i;
            return 0;
        }
    return -ENOENT;
}

int sbom_doc_find_name(const struct sbom_doc *d, const char *name, size_t *ret_index)
{
    for (size_t i = 0; i < d->n; i++)
        if (streq(d->entries[i].name, name)) {
            if (ret_index)
                *ret_index = i;
            return 0;
        }
    return -ENOENT;
}
