/* SPDX-License-Identifier: Apache-2.0 */
/* CycloneDX 1.6 JSON writer (see cyclonedx.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cyclonedx.h"
#include "json.h"
#include "license.h"

#define CDX_REF_MAX (SBOM_MAX_PATH + SBOM_MAX_FIELD + 16u) /* "model:NAME/PATH" */

bool cdx_uuid_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    }
    return true;
}

static int add_str(struct json_object *o, const char *key, const char *s)
{
    return fjson_add_string(o, key, s, strlen(s));
}

/* {"alg": alg, "content": hex} appended to hashes. */
static int add_hash(struct json_object *hashes, const char *alg, const uint8_t *d, size_t len)
{
    struct json_object *h = json_object_new_object();
    char hex[2 * SBOM_SHA256_LEN + 1];
    int r;

    sbom_hex(d, len, hex);
    /* Appended first: from then on the array owns h, whatever fails next. */
    if ((r = fjson_append(hashes, h)) < 0 || (r = add_str(h, "alg", alg)) < 0)
        return r;
    return add_str(h, "content", hex);
}

static int add_property(struct json_object *props, const char *name, const char *value)
{
    struct json_object *p = json_object_new_object();
    int r;

    if ((r = fjson_append(props, p)) < 0 || (r = add_str(p, "name", name)) < 0)
        return r;
    return add_str(p, "value", value);
}

static int add_licenses(struct json_object *o, const struct sbom_component *c)
{
    struct json_object *arr;
    int r;

    if (!c->license_expr && c->n_license_names == 0)
        return 0;
    arr = json_object_new_array();
    if ((r = fjson_add(o, "licenses", arr)) < 0)
        return r;
    if (c->license_expr) {
        struct json_object *e = json_object_new_object();

        if ((r = fjson_append(arr, e)) < 0)
            return r;
        return add_str(e, "expression", c->license_expr);
    }
    for (size_t i = 0; i < c->n_license_names; i++) {
        struct json_object *wrap = json_object_new_object(), *lic;

        if ((r = fjson_append(arr, wrap)) < 0)
            return r;
        _cleanup_free_ char *id = NULL;

        lic = json_object_new_object();
        if ((r = fjson_add(wrap, "license", lic)) < 0)
            return r;
        /* A name that is one SPDX identifier goes in "id" (the schema checks it against the
         * SPDX list); anything else, compound expressions too, stays a "name". */
        r = license_to_spdx(c->license_names[i], &id);
        if (r == -ENOMEM)
            return r;
        if (r >= 0 && !strpbrk(id, " +()"))
            r = add_str(lic, "id", id);
        else
            r = add_str(lic, "name", c->license_names[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int file_object(const char *ref, const char *name, const uint8_t *sha256,
                       const uint8_t *sha1, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    struct json_object *hashes;
    int r;

    if (!o)
        return -ENOMEM;
    if ((r = add_str(o, "type", "file")) < 0 || (r = add_str(o, "bom-ref", ref)) < 0 ||
        (r = add_str(o, "name", name)) < 0)
        return r;
    hashes = json_object_new_array();
    if ((r = fjson_add(o, "hashes", hashes)) < 0 ||
        (r = add_hash(hashes, "SHA-256", sha256, SBOM_SHA256_LEN)) < 0 ||
        (sha1 && (r = add_hash(hashes, "SHA-1", sha1, SBOM_SHA1_LEN)) < 0))
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

static int model_object(const struct sbom_component *c, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    struct json_object *hashes, *files;
    char ref[CDX_REF_MAX];
    int r;

    if (!o)
        return -ENOMEM;
    if (snprintf(ref, sizeof(ref), "model:%s", c->name) >= (int)sizeof(ref))
        return -ENAMETOOLONG;
    if ((r = add_str(o, "type", "machine-learning-model")) < 0 ||
        (r = add_str(o, "bom-ref", ref)) < 0 || (r = add_str(o, "name", c->name)) < 0)
        return r;
    hashes = json_object_new_array();
    if ((r = fjson_add(o, "hashes", hashes)) < 0 ||
        (r = add_hash(hashes, "SHA-256", c->sha256, SBOM_SHA256_LEN)) < 0)
        return r;
    if (c->n_files == 0) {
        *ret = TAKE_PTR(o);
        return 0;
    }
    files = json_object_new_array();
    if ((r = fjson_add(o, "components", files)) < 0)
        return r;
    for (size_t i = 0; i < c->n_files; i++) {
        struct json_object *f = NULL;

        if (snprintf(ref, sizeof(ref), "model:%s/%s", c->name, c->files[i].path) >=
            (int)sizeof(ref))
            return -ENAMETOOLONG;
        if ((r = file_object(ref, c->files[i].path, c->files[i].sha256, c->files[i].sha1, &f)) <
                    0 ||
            (r = fjson_append(files, f)) < 0)
            return r;
    }
    *ret = TAKE_PTR(o);
    return 0;
}

static int package_object(const struct sbom_component *c, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    int r;

    if (!o)
        return -ENOMEM;
    if ((r = add_str(o, "type", "library")) < 0 || (r = add_str(o, "bom-ref", c->purl)) < 0 ||
        (r = add_str(o, "name", c->name)) < 0 ||
        (c->version && (r = add_str(o, "version", c->version)) < 0) ||
        (r = add_licenses(o, c)) < 0 || (r = add_str(o, "purl", c->purl)) < 0)
        return r;
    if (c->source) {
        struct json_object *props = json_object_new_array();

        if ((r = fjson_add(o, "properties", props)) < 0 ||
            (r = add_property(props, "hwsign:deb:source", c->source)) < 0 ||
            (c->source_version &&
             (r = add_property(props, "hwsign:deb:source-version", c->source_version)) < 0))
            return r;
    }
    *ret = TAKE_PTR(o);
    return 0;
}

static int metadata_object(const struct sbom *s, const struct sbom_doc_info *info,
                           struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *m = json_object_new_object();
    const struct sbom_host *h = sbom_host(s);
    struct json_object *tools, *tcomps, *tool, *props;
    int r;

    if (!m)
        return -ENOMEM;
    if ((r = add_str(m, "timestamp", info->timestamp)) < 0)
        return r;
    tools = json_object_new_object();
    if ((r = fjson_add(m, "tools", tools)) < 0)
        return r;
    tcomps = json_object_new_array();
    if ((r = fjson_add(tools, "components", tcomps)) < 0)
        return r;
    tool = json_object_new_object();
    if ((r = fjson_append(tcomps, tool)) < 0 || (r = add_str(tool, "type", "application")) < 0 ||
        (r = add_str(tool, "name", SBOM_TOOL_NAME)) < 0 ||
        (info->tool_version && (r = add_str(tool, "version", info->tool_version)) < 0))
        return r;
    if (h->os_id) {
        struct json_object *os = json_object_new_object();

        if ((r = fjson_add(m, "component", os)) < 0 ||
            (r = add_str(os, "type", "operating-system")) < 0 ||
            (r = add_str(os, "bom-ref", "host")) < 0 || (r = add_str(os, "name", h->os_id)) < 0 ||
            (h->os_version_id && (r = add_str(os, "version", h->os_version_id)) < 0) ||
            (h->os_pretty && (r = add_str(os, "description", h->os_pretty)) < 0))
            return r;
    }
    if (h->kernel || h->machine || h->os_codename) {
        props = json_object_new_array();
        if ((r = fjson_add(m, "properties", props)) < 0 ||
            (h->os_codename &&
             (r = add_property(props, "hwsign:host:codename", h->os_codename)) < 0) ||
            (h->kernel && (r = add_property(props, "hwsign:host:kernel", h->kernel)) < 0) ||
            (h->machine && (r = add_property(props, "hwsign:host:machine", h->machine)) < 0))
            return r;
    }
    *ret = TAKE_PTR(m);
    return 0;
}

static int reference_array(const struct sbom_reference *ref, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *arr = json_object_new_array();
    struct json_object *e, *hashes;
    char url[64], comment[SBOM_MAX_FIELD + 64];
    int r;

    if (!arr)
        return -ENOMEM;
    if (!cdx_uuid_valid(ref->serial))
        return -EINVAL;
    if (snprintf(url, sizeof(url), "urn:cdx:%s/1", ref->serial) >= (int)sizeof(url) ||
        snprintf(comment, sizeof(comment), "full inventory: %s",
                 ref->file_name ? ref->file_name : "(unnamed)") >= (int)sizeof(comment))
        return -ENAMETOOLONG;
    e = json_object_new_object();
    if ((r = fjson_append(arr, e)) < 0 || (r = add_str(e, "url", url)) < 0 ||
        (r = add_str(e, "comment", comment)) < 0 || (r = add_str(e, "type", "bom")) < 0)
        return r;
    hashes = json_object_new_array();
    if ((r = fjson_add(e, "hashes", hashes)) < 0 ||
        (r = add_hash(hashes, "SHA-256", ref->sha256, SBOM_SHA256_LEN)) < 0)
        return r;
    *ret = TAKE_PTR(arr);
    return 0;
}

int cdx_write(const struct sbom *s, const struct sbom_doc_info *info, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *bom = NULL;
    struct json_object *meta = NULL, *comps;
    char serial[64], ref[CDX_REF_MAX];
    const struct sbom_component *prev = NULL;
    int r;

    if (!info || !cdx_uuid_valid(info->serial) || !info->timestamp)
        return -EINVAL;
    bom = json_object_new_object();
    if (!bom)
        return -ENOMEM;
    if (snprintf(serial, sizeof(serial), "urn:uuid:%s", info->serial) >= (int)sizeof(serial))
        return -EINVAL;
    if ((r = add_str(bom, "bomFormat", "CycloneDX")) < 0 ||
        (r = add_str(bom, "specVersion", CDX_SPEC_VERSION)) < 0 ||
        (r = add_str(bom, "serialNumber", serial)) < 0 ||
        (r = fjson_add(bom, "version", json_object_new_int(1))) < 0 ||
        (r = metadata_object(s, info, &meta)) < 0 || (r = fjson_add(bom, "metadata", meta)) < 0)
        return r;
    comps = json_object_new_array();
    if ((r = fjson_add(bom, "components", comps)) < 0)
        return r;
    for (size_t i = 0; i < sbom_n_components(s); i++) {
        const struct sbom_component *c = sbom_component(s, i);
        struct json_object *o = NULL;

        if (prev && prev->kind == c->kind &&
            (c->kind == SBOM_KIND_FILE || c->kind == SBOM_KIND_MODEL) && streq(prev->name, c->name))
            return -EINVAL; /* two equal bom-refs */
        prev = c;
        switch (c->kind) {
        case SBOM_KIND_FILE:
            if (snprintf(ref, sizeof(ref), "file:%s", c->name) >= (int)sizeof(ref))
                return -ENAMETOOLONG;
            r = file_object(ref, c->name, c->sha256, c->sha1, &o);
            break;
        case SBOM_KIND_MODEL:
            r = model_object(c, &o);
            break;
        default:
            if (!c->purl)
                return -EINVAL;
            r = package_object(c, &o);
            break;
        }
        if (r < 0 || (r = fjson_append(comps, o)) < 0)
            return r;
    }
    if (info->ref) {
        struct json_object *refs = NULL;

        if ((r = reference_array(info->ref, &refs)) < 0 ||
            (r = fjson_add(bom, "externalReferences", refs)) < 0)
            return r;
    }
    return fjson_serialize(bom, ret, ret_len);
}
